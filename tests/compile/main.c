/* Links the other TUs together and runs them. */
#include <stdio.h>
int user_main(void);
int static_main(void);
int
main(void)
{
    int r = user_main() + static_main();
    printf("%s\n", r == 0 ? "1 passed, 0 failed" : "0 passed, 1 failed");
    return r;
}
