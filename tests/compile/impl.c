/* The implementation translation unit of the two-TU build. */
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"
