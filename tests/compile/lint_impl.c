/* clang-tidy and cppcheck see the implementation through this file. */
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"
