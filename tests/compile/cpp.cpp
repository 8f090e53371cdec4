// The header compiles as C++ (declarations and implementation).
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"
int
main()
{
    static sslsocket s;
    sslsocket_init(&s, 0);
    return sslsocket_state(&s);
}
