/* replay.c - runs a libFuzzer harness over files without libFuzzer, so
 * `make test` can replay the committed corpus under gcc's ASan+UBSan.
 *
 *   replay_<harness> [-v] PATH...    PATH: a file, or a directory of files
 *
 * The harness's one-time set-up runs first (LLVMFuzzerInitialize), then
 * every input in this process, in name order, as libFuzzer would run them:
 * a forked child per input would cost ~100 ms each in LeakSanitizer's exit
 * check alone.  The first crash, sanitizer report, failed invariant (abort)
 * or hang (10 s) names the input and stops the run.  Leaks are checked once,
 * at exit (the status is then non-zero after "N passed, 0 failed": run the
 * inputs one at a time to find the culprit).  Ends with "N passed, N
 * failed"; the exit status is non-zero when anything failed.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c99 */
#endif
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
const char *__ubsan_default_options(void);

/* UBSan's own runtime (gcc) ignores the death callback: let it abort, so
   that the SIGABRT handler names the input. */
const char *
__ubsan_default_options(void)
{
    return "abort_on_error=1:print_stacktrace=1";
}

#define REPLAY_MAX_INPUT (1u << 20)
#define REPLAY_TIMEOUT_S 10

static int passed, failed, verbose;
static const char *current, *prog;

/* Async-signal-safe output for the dying moments. */
static void
say(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(1, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

static void
say_num(int v)
{
    char b[16];
    int i = (int)sizeof b;
    b[--i] = 0;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && i > 0);
    say(b + i);
}

static void
dying(const char *why)
{
    if (current == NULL)
        return;
    say("FAIL ");
    say(current);
    say(": ");
    say(why);
    say("\n");
    say(prog);
    say(": ");
    say_num(passed);
    say(" passed, ");
    say_num(failed + 1);
    say(" failed (stopped at the first failure)\n");
    current = NULL;
}

static void
on_sanitizer_death(void)
{
    dying("sanitizer report above");
}

static void
on_signal(int sig)
{
    dying(sig == SIGALRM ? "timeout" : sig == SIGABRT ? "aborted (see the report above)" : "signal");
    _exit(1);
}

static void
run_file(const char *path)
{
    static unsigned char buf[REPLAY_MAX_INPUT];
    FILE *f;
    size_t n;

    f = fopen(path, "rb");
    if (f == NULL) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    fflush(stdout);
    current = path;
    alarm(REPLAY_TIMEOUT_S);
    LLVMFuzzerTestOneInput(buf, n);
    alarm(0);
    current = NULL;
    passed++;
    if (verbose)
        printf("ok   %s\n", path);
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;

    if (stat(path, &st) != 0) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    d = opendir(path);
    if (d == NULL) {
        printf("FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char *full;
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            if (names == NULL)
                exit(2);
        }
        full = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (full == NULL)
            exit(2);
        sprintf(full, "%s/%s", path, e->d_name);
        names[n++] = full;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp); /* the same order every time */
    for (i = 0; i < n; i++) {
        run_path(names[i]);
        free(names[i]);
    }
    free(names);
}

int
main(int argc, char **argv)
{
    int i, first = 1;
    struct timespec t0, t1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    prog = argv[0];
    signal(SIGALRM, on_signal);
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal); /* without ASan */
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_sanitizer_death);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (i = first; i < argc; i++)
        run_path(argv[i]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s: %d passed, %d failed (%.1f s)\n", argv[0], passed, failed,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    fflush(stdout); /* LeakSanitizer's report at exit ends the process */
    return failed ? 1 : 0;
}
