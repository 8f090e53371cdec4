/* alloccount.c - count heap allocation calls of a process (LD_PRELOAD).
 *
 * Built by tests/bench/syscalls.sh into $BENCH_BIN/alloccount.so:
 *     cc -shared -fPIC -o alloccount.so alloccount.c -ldl
 *
 * Every call of malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign, valloc and pvalloc is counted (libc's own internal calls
 * included: glibc routes them to an interposed malloc), then forwarded to
 * the real one.  At exit one line is appended to $ALLOCCOUNT_OUT:
 *
 *     alloc PID NAME before B window W
 *
 * W counts from the first call of the function named by $ALLOCCOUNT_START
 * ("socket" or "epoll_create1": the moment a benchmark program is done
 * setting up and starts its measured work) to the exit; B counts the calls
 * before it.  Without $ALLOCCOUNT_START, everything is in W.  When
 * $ALLOCCOUNT_START is set, stdout gets a static buffer so that the
 * program's own printf does not allocate one inside the window.  Processes
 * that end by a signal write nothing.  $ALLOCCOUNT_OUT is read at start
 * (nginx clears its workers' environment).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static int (*real_socket)(int, int, int);
static int (*real_epoll_create1)(int);

static unsigned long n_before, n_window;
static int started, resolving;
static const char *start_at;
static char out_path[512]; /* read at start: nginx clears its workers' environment */

/* dlsym may calloc before the real functions are known: serve it from here */
static unsigned char boot[8192];
static size_t boot_used;

static void *
boot_alloc(size_t n)
{
    void *p;
    n = (n + 15) & ~(size_t)15;
    if (boot_used + n > sizeof boot)
        return NULL;
    p = boot + boot_used;
    boot_used += n;
    return p; /* static storage: already zero */
}

static int
in_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

#define RESOLVE(name) (*(void **)&real_##name = dlsym(RTLD_NEXT, #name))

static void
resolve(void)
{
    if (real_malloc != NULL || resolving)
        return;
    resolving = 1;
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(free);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(socket);
    RESOLVE(epoll_create1);
    RESOLVE(malloc); /* last: it marks the end of bootstrapping */
    resolving = 0;
}

static void
count(void)
{
    __atomic_fetch_add(started ? &n_window : &n_before, 1, __ATOMIC_RELAXED);
}

void *
malloc(size_t n)
{
    if (real_malloc == NULL) {
        if (resolving)
            return boot_alloc(n);
        resolve();
    }
    count();
    return real_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
    if (real_malloc == NULL) {
        if (resolving)
            return size != 0 && n > (size_t)-1 / size ? NULL : boot_alloc(n * size);
        resolve();
    }
    count();
    return real_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
    if (real_malloc == NULL)
        resolve();
    if (in_boot(p)) { /* never resized in practice: copy out */
        void *q = malloc(n);
        if (q != NULL)
            memcpy(q, p, n < 64 ? n : 64);
        return q;
    }
    count();
    return real_realloc(p, n);
}

void
free(void *p)
{
    if (p == NULL || in_boot(p))
        return;
    if (real_malloc == NULL)
        resolve();
    real_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
    if (real_malloc == NULL)
        resolve();
    count();
    return real_posix_memalign(out, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
    if (real_malloc == NULL)
        resolve();
    count();
    return real_aligned_alloc(align, n);
}

void *
memalign(size_t align, size_t n)
{
    if (real_malloc == NULL)
        resolve();
    count();
    return real_memalign(align, n);
}

void *
valloc(size_t n)
{
    if (real_malloc == NULL)
        resolve();
    count();
    return real_valloc(n);
}

void *
pvalloc(size_t n)
{
    if (real_malloc == NULL)
        resolve();
    count();
    return real_pvalloc(n);
}

/* ---- the window's start markers ---------------------------------------- */

static void
mark(const char *name)
{
    if (!started && start_at != NULL && strcmp(start_at, name) == 0)
        started = 1;
}

int
socket(int domain, int type, int protocol)
{
    if (real_malloc == NULL)
        resolve();
    mark("socket");
    return real_socket(domain, type, protocol);
}

int
epoll_create1(int flags)
{
    if (real_malloc == NULL)
        resolve();
    mark("epoll_create1");
    return real_epoll_create1(flags);
}

/* ---- setup and report -------------------------------------------------- */

static char stdout_buf[BUFSIZ];

__attribute__((constructor)) static void
alloccount_init(void)
{
    const char *out = getenv("ALLOCCOUNT_OUT");
    resolve();
    if (out != NULL)
        snprintf(out_path, sizeof out_path, "%s", out);
    start_at = getenv("ALLOCCOUNT_START");
    if (start_at != NULL && *start_at == 0)
        start_at = NULL;
    if (start_at == NULL)
        started = 1;
    else
        setvbuf(stdout, stdout_buf, isatty(1) ? _IOLBF : _IOFBF, sizeof stdout_buf);
}

__attribute__((destructor)) static void
alloccount_report(void)
{
    char line[512], name[256];
    ssize_t n;
    int fd, len, e = errno;
    if (out_path[0] == 0)
        return;
    n = readlink("/proc/self/exe", name, sizeof name - 1);
    name[n > 0 ? n : 0] = 0;
    len = snprintf(line, sizeof line, "alloc %ld %s before %lu window %lu\n", (long)getpid(),
                   strrchr(name, '/') ? strrchr(name, '/') + 1 : name, n_before, n_window);
    fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, line, (size_t)len) != len) { /* nothing more to do */
        }
        close(fd);
    }
    errno = e;
}
