/* A private copy of the implementation (SSLSOCKET_STATIC) linked beside the
   shared one: no symbol clashes. */
#define SSLSOCKET_STATIC
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"

int static_main(void);

int
static_main(void)
{
    static sslsocket s;
    sslsocket_init(&s, NULL);
    return sslsocket_state(&s);
}
