/* testlib.h - the project's small test runner.
 *
 * A test program lists its tests in a table and calls testlib_main():
 *
 *     static void test_x(void) { CHECK(1 + 1 == 2); }
 *     static const testlib_case tests[] = { { "x", test_x }, { NULL, NULL } };
 *     int main(int argc, char **argv) { return testlib_main(argc, argv, tests); }
 *
 * CHECK records a failure and goes on; REQUIRE stops the test.  Names given
 * on the command line select tests (substring match).  Output:
 *     [ RUN  ] name / [ OK   ] name / [ FAIL ] name  file:line: expr
 * and the closing line "N passed, N failed"; the exit status is non-zero
 * when anything failed.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#if defined(__GNUC__) || defined(__clang__)
#define TESTLIB_UNUSED __attribute__((unused))
#else
#define TESTLIB_UNUSED
#endif

typedef struct testlib_case {
    const char *name;
    void (*fn)(void);
} testlib_case;

static int testlib_failed_now;
static const char *testlib_current;

#define TESTLIB_FAIL_(expr_text)                                                   \
    do {                                                                          \
        if (!testlib_failed_now)                                                  \
            printf("[ FAIL ] %s  %s:%d: %s\n", testlib_current, __FILE__, __LINE__,  \
                   expr_text);                                                    \
        else                                                                      \
            printf("         %s:%d: %s\n", __FILE__, __LINE__, expr_text);        \
        testlib_failed_now = 1;                                                   \
        fflush(stdout);                                                           \
    } while (0)

#define CHECK(expr)                                                               \
    do {                                                                          \
        if (!(expr))                                                              \
            TESTLIB_FAIL_(#expr);                                                 \
    } while (0)

#define REQUIRE(expr)                                                             \
    do {                                                                          \
        if (!(expr)) {                                                            \
            TESTLIB_FAIL_(#expr);                                                 \
            return;                                                               \
        }                                                                         \
    } while (0)

/* Check a value with a message printed on failure. */
#define CHECKF(expr, ...)                                                         \
    do {                                                                          \
        if (!(expr)) {                                                            \
            TESTLIB_FAIL_(#expr);                                                 \
            printf("         ");                                                  \
            printf(__VA_ARGS__);                                                  \
            printf("\n");                                                         \
        }                                                                         \
    } while (0)

/* Error code and a substring of the error string of a socket. */
#define CHECK_ERR(s, code, substr)                                                \
    do {                                                                          \
        int e_ = sslsocket_error(s);                                              \
        const char *m_ = sslsocket_error_string(s);                               \
        if (e_ != (code) || strstr(m_, (substr)) == NULL) {                       \
            TESTLIB_FAIL_("CHECK_ERR(" #s ", " #code ", " #substr ")");           \
            printf("         got error %d \"%s\"\n", e_, m_);                     \
        }                                                                         \
    } while (0)

/* A call that has no effect (returns -1): the refusal names `substr`, and
   the socket's error, its string and its pending events are unchanged. */
#define CHECK_REFUSED(s, call, substr)                                            \
    do {                                                                          \
        char m0_[256];                                                            \
        int e0_ = sslsocket_error(s), p0_ = sslsocket_pending_events(s);          \
        snprintf(m0_, sizeof m0_, "%s", sslsocket_error_string(s));               \
        if ((call) != -1 || strstr(sslsocket_last_refusal(s), (substr)) == NULL   \
            || sslsocket_error(s) != e0_ || strcmp(sslsocket_error_string(s), m0_) \
            || sslsocket_pending_events(s) != p0_) {                              \
            TESTLIB_FAIL_("CHECK_REFUSED(" #s ", " #call ", " #substr ")");       \
            printf("         refusal \"%s\", error %d \"%s\"\n",                  \
                   sslsocket_last_refusal(s), sslsocket_error(s),                 \
                   sslsocket_error_string(s));                                    \
        }                                                                         \
    } while (0)

static int
testlib_main(int argc, char **argv, const testlib_case *tests)
{
    int passed = 0, failed = 0, i, k;
    for (i = 0; tests[i].name; i++) {
        int selected = argc <= 1;
        for (k = 1; k < argc; k++)
            if (strstr(tests[i].name, argv[k]))
                selected = 1;
        if (!selected)
            continue;
        testlib_current = tests[i].name;
        testlib_failed_now = 0;
        printf("[ RUN  ] %s\n", tests[i].name);
        fflush(stdout);
        tests[i].fn();
        if (testlib_failed_now) {
            failed++;
        } else {
            printf("[ OK   ] %s\n", tests[i].name);
            passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
