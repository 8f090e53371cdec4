/* A translation unit that only includes the declarations. */
#include "../../sslsocket.h"
#include <stdio.h>

int user_main(void);

int
user_main(void)
{
    sslsocket_config cfg;
    static sslsocket s;
    sslsocket_config_init(&cfg, NULL, 0);
    sslsocket_init(&s, &cfg);
    return sslsocket_state(&s) == SSLSOCKET_UNCONNECTED ? 0 : 1;
}
