/* test_robust.c - the principles, each proved against real peers:
 *   zero_alloc      no malloc/calloc/realloc/free/... over config init, CA
 *                   file, lookup through the built-in resolver, connect,
 *                   handshake, 1 MiB each way, disconnect
 *   never_blocks_*  every poll/connect call returns in < 50 ms while a peer
 *                   stalls the handshake, the name server never answers, the
 *                   TCP connect never completes, or the peer stops reading
 *                   during disconnect; the deadlines fire
 *   bad_input_*     NULL, out-of-range and wrong-state calls: an error
 *                   return with a message naming the function, no crash, and
 *                   the socket / config still works afterwards
 *   remote_close_*  close_notify and truncation: error once while CONNECTED,
 *                   then CLOSING, UNCONNECTED, DISCONNECTED; data stays
 *                   readable
 *   disconnect_* / abort_*  deferred orderly close vs. discarding close
 *
 * BUILD: this file defines malloc & co. (forwarding to glibc's __libc_*)
 * to count allocations, which cannot work under AddressSanitizer.  Build it
 * WITHOUT sanitizers, with the Makefile's valgrind rule, and run it plain
 * and under valgrind:
 *
 *   make build/vg_test_robust
 *   build/vg_test_robust
 *   valgrind -q --error-exitcode=99 --soname-synonyms=somalloc=nouserintercepts build/vg_test_robust
 *
 * make build/vg_test_robust is the same as
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Wshadow -Wundef -Wstrict-prototypes
 *      -D_GNU_SOURCE -O2 -g -o build/vg_test_robust tests/test_robust.c -lbearssl
 * valgrind replaces malloc in the program itself unless the --soname-synonyms
 * option above tells it not to; without it zero_alloc still runs (memcheck
 * watches it) but cannot count, and says so.  Built with ASan (make
 * build/test_robust) every other test runs; zero_alloc is left out, with a
 * note.  Under valgrind (or with TEST_SLOW=N) the time bounds are multiplied.
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

#include <poll.h>

/* ---- allocation counting ------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define ROBUST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROBUST_SANITIZED 1
#endif
#endif

#ifndef ROBUST_SANITIZED
static volatile int counting;
static volatile long alloc_calls;

/* glibc's own entry points; glibc routes its internal allocations (fopen,
 * getaddrinfo, strdup, ...) through the interposable malloc symbols, so
 * these definitions see every allocation made in the process. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define ROBUST_COUNT() \
    do {               \
        if (counting)  \
            alloc_calls++; \
    } while (0)

void *
malloc(size_t n)
{
    ROBUST_COUNT();
    return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
    ROBUST_COUNT();
    return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
    ROBUST_COUNT();
    return __libc_realloc(p, n);
}

void *
reallocarray(void *p, size_t n, size_t m)
{
    ROBUST_COUNT();
    if (m != 0 && n > (size_t)-1 / m) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n * m);
}

void
free(void *p)
{
    ROBUST_COUNT();
    __libc_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    ROBUST_COUNT();
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    p = __libc_memalign(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *
aligned_alloc(size_t align, size_t n)
{
    ROBUST_COUNT();
    return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n);
void *
memalign(size_t align, size_t n)
{
    ROBUST_COUNT();
    return __libc_memalign(align, n);
}
#endif /* !ROBUST_SANITIZED */

/* ---- fixtures ----------------------------------------------------------- */

static unsigned char store[512 * 1024];
static sslsocket_config cfg;
static sslsocket sock;
static int slow = 1; /* time bounds multiplier: valgrind, TEST_SLOW */

static void
fresh_config(void)
{
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_add_ca_file(&cfg, peers_path("ca.pem")) != 1)
        printf("CA load failed: %s\n", sslsocket_config_error_string(&cfg));
}

static int64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* tests/tlspeer.py MODE with CERT/KEY (files in the fixture dir); its
 * stdout goes to LOG.  Returns the port (0 on failure). */
static unsigned
start_tlspeer(peers_proc *p, const char *mode, const char *cert, const char *key,
              const char *log)
{
    char portfile[64];
    char *argv[7];
    snprintf(portfile, sizeof portfile, "%s.port", log);
    argv[0] = (char *)peers_python();
    argv[1] = (char *)peers_script("tlspeer.py");
    argv[2] = (char *)mode;
    argv[3] = (char *)peers_path(portfile);
    argv[4] = (char *)peers_path(cert);
    argv[5] = (char *)peers_path(key);
    argv[6] = NULL;
    return peers_spawn_port(p, log, peers_path(portfile), argv, 10000);
}

/* tests/fakedns.py MODE; returns its UDP port on 127.0.0.1 (0 on failure). */
static unsigned
start_fakedns(peers_proc *p, const char *mode)
{
    char *argv[5];
    argv[0] = (char *)peers_python();
    argv[1] = (char *)peers_script("fakedns.py");
    argv[2] = (char *)mode;
    argv[3] = (char *)peers_path("dns.port");
    argv[4] = NULL;
    return peers_spawn_port(p, "fakedns.log", peers_path("dns.port"), argv, 10000);
}

/* openssl s_server -www on 127.0.0.1 with the EC leaf; ALPN http/1.1. */
static unsigned
start_https(peers_proc *p)
{
    static char accept_arg[64];
    unsigned port = peers_free_port();
    char *argv[] = { "openssl", "s_server", "-accept", accept_arg, "-cert", NULL, "-key", NULL,
                     "-quiet", "-www", "-alpn", "http/1.1", NULL };
    snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%u", port);
    argv[5] = (char *)peers_path("ec.pem");
    argv[7] = (char *)peers_path("ec.key");
    *p = peers_spawn("s_server.log", argv);
    if (peers_wait_port("127.0.0.1", port, 5000) < 0)
        return 0;
    return port;
}

/* The peer's report (after it exited), from its log. */
static const char *
peer_report(peers_proc *p, const char *log)
{
    int st = peers_wait_exit(p, 5000 * slow);
    if (st != 0)
        printf("         peer %s: exit %d\n", log, st);
    peers_kill(p);
    return peers_slurp(peers_path(log), NULL);
}

static int
got_http(sslsocket *s, drive_log *l)
{
    (void)s;
    return l->rx_len > 0 && strstr((char *)l->rx, "\r\n\r\n") != NULL;
}

/* A full HTTPS exchange on `s` (fresh or reused) with the shared server:
 * proves that the socket and its config are usable. */
static void
https_works(sslsocket *s, unsigned port, const char *what)
{
    drive_log l;
    unsigned char rx[16384];
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    CHECKF(sslsocket_connect_encrypted(s, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0,
           "%s: connect: %s", what, sslsocket_error_string(s));
    CHECK(sslsocket_write_string(s, "GET / HTTP/1.0\r\n\r\n") == 18);
    CHECKF(drive_until(s, &l, got_http, 5000 * slow), "%s: events %s, error %s", what, l.text,
           sslsocket_error_string(s));
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "%s: events %s", what, l.text);
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "%s: reply %.60s", what, rx);
    sslsocket_disconnect(s);
    CHECK(drive_until(s, &l, NULL, 5000 * slow));
    CHECK(sslsocket_state(s) == SSLSOCKET_UNCONNECTED);
}

/* ---- (a) zero allocations ------------------------------------------------ */

#ifndef ROBUST_SANITIZED
#define BIG (1u << 20)
static unsigned char big_tx[BIG], big_rx[BIG];

static void
zero_alloc(int tls13)
{
    peers_proc dns, echo;
    unsigned dns_port, echo_port;
    char ns[64], remote[64];
    const char *hosts = peers_path("hosts.robust");
    drive_log l;
    size_t sent = 0, i;
    long calls;
    int64_t end;
    const char *report;
    void *volatile probe; /* volatile: the compiler may not drop malloc+free */
    char proto[16] = "";
    int probe_ok;

    /* the counter sees direct calls and libc's internal ones */
    counting = 1;
    alloc_calls = 0;
    probe = malloc(16);
    free(probe);
    {
        FILE *f = fopen(peers_path("ca.pem"), "r");
        if (f)
            fclose(f);
    }
    counting = 0;
    if (alloc_calls < 3 && slow > 1) {
        /* valgrind replaced our malloc with its own: the flow still runs
           (memcheck watches it), the count cannot be taken */
        printf("         NOT COUNTED: valgrind intercepts malloc in the program; run it "
               "with --soname-synonyms=somalloc=nouserintercepts\n");
    } else {
        REQUIRE(alloc_calls >= 3);
    }
    probe_ok = alloc_calls >= 3;

    for (i = 0; i < BIG; i++)
        big_tx[i] = (unsigned char)(i * 131 + (i >> 11));
    memset(big_rx, 0, sizeof big_rx);
    write_file(hosts, "127.0.0.1 other.test\n::1 other.test\n");
    dns_port = start_fakedns(&dns, "answer");
    REQUIRE(dns_port != 0);
    echo_port = start_tlspeer(&echo, "echo", "echo.pem", "echo.key", "echo.log");
    REQUIRE(echo_port != 0);
    snprintf(ns, sizeof ns, "127.0.0.1:%u", dns_port);
    memset(&l, 0, sizeof l);
    l.rx = big_rx;
    l.rx_cap = BIG;

    counting = 1;
    alloc_calls = 0;
    sslsocket_config_init(&cfg, store, sizeof store);
    /* TLS 1.2 alone (BearSSL's engine), or the default 1.2..1.3 offer
       that the peer answers with TLS 1.3 (the library's engine) */
    if (!tls13)
        sslsocket_config_set_versions(&cfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12);
    if (sslsocket_config_add_ca_file(&cfg, peers_path("ca.pem")) == 1
        && sslsocket_config_add_nameserver(&cfg, ns) == 0) {
        sslsocket_config_set_resolver_files(&cfg, hosts, NULL);
        sslsocket_init(&sock, &cfg);
        if (sslsocket_connect_encrypted(&sock, "echo.test", echo_port, SSLSOCKET_READ_WRITE)
            == 0) {
            end = peers_now_ms() + 30000 * slow;
            while (sslsocket_state(&sock) != SSLSOCKET_UNCONNECTED && peers_now_ms() < end) {
                sslsocket *list[1];
                while (sent < BIG) {
                    ptrdiff_t n = sslsocket_write(&sock, big_tx + sent, BIG - sent);
                    if (n <= 0)
                        break;
                    sent += (size_t)n;
                }
                drive_poll(&sock, &l);
                if (sent == BIG && l.rx_len == BIG)
                    break;
                list[0] = &sock;
                sslsocket_wait(list, 1, 50);
            }
            if (sslsocket_protocol(&sock))
                snprintf(proto, sizeof proto, "%s", sslsocket_protocol(&sock));
            sslsocket_disconnect(&sock);
            drive_until(&sock, &l, NULL, 5000 * slow);
        }
    }
    calls = alloc_calls;
    counting = 0;

    if (probe_ok)
        CHECKF(calls == 0, "%ld allocation calls", calls);
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "events: %s (error: %s; cfg: %s)",
           l.text, sslsocket_error_string(&sock), sslsocket_config_error_string(&cfg));
    CHECKF(strstr(l.text, "X") == NULL, "events: %s (error: %s)", l.text,
           sslsocket_error_string(&sock));
    CHECK(strlen(l.text) >= 8 && strcmp(l.text + strlen(l.text) - 8, "S6 S0 D ") == 0);
    CHECKF(sent == BIG && l.rx_len == BIG, "sent %zu, received %zu", sent, l.rx_len);
    CHECK(memcmp(big_tx, big_rx, BIG) == 0);
    CHECKF(strcmp(sslsocket_remote_address(&sock, remote, sizeof remote), "127.0.0.1") == 0,
           "remote %s", remote);
    CHECKF(strcmp(proto, tls13 ? "TLSv1.3" : "TLSv1.2") == 0, "protocol %s", proto);
    report = peer_report(&echo, "echo.log");
    CHECKF(strstr(report, "received=1048576") != NULL && strstr(report, "close_notify=yes"),
           "echo peer: %s", report);
    peers_kill(&dns);
}

static void test_zero_alloc(void) { zero_alloc(0); }
/* the same through the library's TLS 1.3 engine (the peer: Python's ssl) */
static void test_zero_alloc_tls13(void) { zero_alloc(1); }
#endif

/* ---- (b) never blocks ----------------------------------------------------- */

static long polls_done; /* sslsocket_poll calls made by timed_drive */

/* Poll (timed) until UNCONNECTED or the time runs out, sleeping in
 * sslsocket_wait (at most 50 ms) in between; the longest call goes to
 * *max_us, the time of the first ERROR event to *err_at_ms. */
static void
timed_drive(sslsocket *s, drive_log *l, int64_t *max_us, int64_t *err_at_ms, int timeout_ms)
{
    int64_t end = peers_now_ms() + timeout_ms;
    while (peers_now_ms() < end) {
        sslsocket *list[1];
        int64_t t0 = now_us(), dt;
        unsigned ev = drive_poll(s, l);
        polls_done++;
        dt = now_us() - t0;
        if (dt > *max_us)
            *max_us = dt;
        if ((ev & SSLSOCKET_EV_ERROR) && *err_at_ms < 0)
            *err_at_ms = peers_now_ms();
        if (sslsocket_state(s) == SSLSOCKET_UNCONNECTED)
            return;
        list[0] = s;
        sslsocket_wait(list, 1, 50);
    }
}

/* connect_encrypted, timed; returns its result. */
static int
timed_connect(sslsocket *s, const char *host, unsigned port, int64_t *max_us)
{
    int64_t t0 = now_us(), dt;
    int r = sslsocket_connect_encrypted(s, host, port, SSLSOCKET_READ_WRITE);
    dt = now_us() - t0;
    if (dt > *max_us)
        *max_us = dt;
    return r;
}

static int
listen_socket(int backlog, unsigned *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, backlog) < 0
        || getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* The handshake deadline: TCP is accepted by the kernel, nobody answers. */
static void
test_never_blocks_handshake(void)
{
    drive_log l;
    unsigned port;
    int lfd = listen_socket(8, &port);
    int64_t max_us = 0, err_at = -1, t0;
    memset(&l, 0, sizeof l);
    REQUIRE(lfd >= 0);
    fresh_config();
    REQUIRE(sslsocket_config_set_timeouts(&cfg, 0, 0, 300, 0) == 0);
    sslsocket_init(&sock, &cfg);
    t0 = peers_now_ms();
    REQUIRE(timed_connect(&sock, "127.0.0.1", port, &max_us) == 0);
    timed_drive(&sock, &l, &max_us, &err_at, 5000 * slow);
    printf("         longest call %.1f ms; deadline fired after %d ms\n", max_us / 1000.0,
           (int)(err_at - t0));
    CHECKF(max_us < 50000 * slow, "longest call %lld us", (long long)max_us);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C X5 S6 S0 D ") == 0, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SOCKET_TIMEOUT, "handshake");
    CHECK_ERR(&sock, SSLSOCKET_ERR_SOCKET_TIMEOUT, "timed out");
    CHECKF(err_at - t0 >= 300 && err_at - t0 < 300 + 250 * slow, "fired after %d ms",
           (int)(err_at - t0));
    close(lfd);
}

/* The lookup deadline: the name server never answers. */
static void
test_never_blocks_lookup(void)
{
    drive_log l;
    peers_proc dns;
    unsigned dns_port;
    char ns[64];
    const char *hosts = peers_path("hosts.robust");
    int64_t max_us = 0, err_at = -1, t0;
    memset(&l, 0, sizeof l);
    write_file(hosts, "127.0.0.1 other.test\n");
    dns_port = start_fakedns(&dns, "silent");
    REQUIRE(dns_port != 0);
    snprintf(ns, sizeof ns, "127.0.0.1:%u", dns_port);
    fresh_config();
    sslsocket_config_set_resolver_files(&cfg, hosts, NULL);
    REQUIRE(sslsocket_config_add_nameserver(&cfg, ns) == 0);
    REQUIRE(sslsocket_config_set_timeouts(&cfg, 300, 0, 0, 0) == 0);
    sslsocket_init(&sock, &cfg);
    t0 = peers_now_ms();
    REQUIRE(timed_connect(&sock, "silent.test", 443, &max_us) == 0);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_HOST_LOOKUP);
    timed_drive(&sock, &l, &max_us, &err_at, 5000 * slow);
    printf("         longest call %.1f ms; deadline fired after %d ms; error %d \"%s\"\n",
           max_us / 1000.0, (int)(err_at - t0), sslsocket_error(&sock),
           sslsocket_error_string(&sock));
    CHECKF(max_us < 50000 * slow, "longest call %lld us", (long long)max_us);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    /* the state goes back first, then the error; no DISCONNECTED */
    CHECKF(strcmp(l.text, "S1 S0 X2 ") == 0 || strcmp(l.text, "S1 S0 X5 ") == 0, "events: %s",
           l.text);
    CHECKF(sslsocket_error(&sock) == SSLSOCKET_ERR_HOST_NOT_FOUND
               || sslsocket_error(&sock) == SSLSOCKET_ERR_SOCKET_TIMEOUT,
           "error %d", sslsocket_error(&sock));
    CHECKF(strstr(sslsocket_error_string(&sock), "timed out") != NULL
               && strstr(sslsocket_error_string(&sock), "silent.test") != NULL,
           "error string: %s", sslsocket_error_string(&sock));
    CHECKF(err_at - t0 >= 300 && err_at - t0 < 300 + 250 * slow, "fired after %d ms",
           (int)(err_at - t0));
    peers_kill(&dns);
}

/* The connect deadline: a listener whose accept queue is full drops SYNs,
 * so the TCP connect never completes (no unroutable address needed). */
static void
test_never_blocks_connect(void)
{
    drive_log l;
    unsigned port;
    int lfd = listen_socket(0, &port), fillers[64], n_fill = 0, stalled = 0;
    int64_t max_us = 0, err_at = -1, t0;
    struct sockaddr_in a;
    memset(&l, 0, sizeof l);
    REQUIRE(lfd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    /* fill the queue until a connect no longer completes */
    while (n_fill < 64 && !stalled) {
        struct pollfd pf;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
            break;
        fillers[n_fill++] = fd;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            continue;
        if (errno != EINPROGRESS)
            break;
        pf.fd = fd;
        pf.events = POLLOUT;
        pf.revents = 0;
        if (poll(&pf, 1, 200) == 0)
            stalled = 1; /* SYN dropped: the queue is full */
    }
    if (!stalled) {
        printf("         SKIPPED: could not fill the accept queue (%d connects completed)\n",
               n_fill);
    } else {
        fresh_config();
        REQUIRE(sslsocket_config_set_timeouts(&cfg, 0, 300, 0, 0) == 0);
        sslsocket_init(&sock, &cfg);
        t0 = peers_now_ms();
        REQUIRE(timed_connect(&sock, "127.0.0.1", port, &max_us) == 0);
        CHECK(sslsocket_state(&sock) == SSLSOCKET_CONNECTING);
        timed_drive(&sock, &l, &max_us, &err_at, 5000 * slow);
        printf("         %d fillers; longest call %.1f ms; deadline fired after %d ms\n",
               n_fill, max_us / 1000.0, (int)(err_at - t0));
        CHECKF(max_us < 50000 * slow, "longest call %lld us", (long long)max_us);
        CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
        CHECKF(strcmp(l.text, "S1 S2 H S0 X5 ") == 0, "events: %s", l.text);
        CHECK_ERR(&sock, SSLSOCKET_ERR_SOCKET_TIMEOUT, "connect timed out");
        CHECKF(err_at - t0 >= 300 && err_at - t0 < 300 + 250 * slow, "fired after %d ms",
               (int)(err_at - t0));
    }
    while (n_fill > 0)
        close(fillers[--n_fill]);
    close(lfd);
}

/* The close deadline: the peer stops reading, so the queued data and the
 * close_notify can never leave.  disconnect() must not wait for them: every
 * poll returns at once, and the close deadline (1.5 s here) ends it. */
static void
test_never_blocks_close(void)
{
    drive_log l;
    peers_proc py;
    unsigned port;
    static unsigned char chunk[16384];
    int64_t max_us = 0, err_at = -1, t0, end;
    size_t total = 0;
    int stalled = 0;
    memset(&l, 0, sizeof l);
    memset(chunk, 'z', sizeof chunk);
    port = start_tlspeer(&py, "stall", "ec.pem", "ec.key", "stall.log");
    REQUIRE(port != 0);
    fresh_config();
    /* TLS 1.2, whose queue stays stuck behind the stalled peer.  (With
       TLS 1.3 the close was seen, about one run in six, to end cleanly
       before the deadline: the kernel took the last record queued and our
       close_notify after it, so that nothing was left for the deadline.) */
    REQUIRE(sslsocket_config_set_versions(&cfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) == 0);
    REQUIRE(sslsocket_config_set_close_timeout(&cfg, 1500 * slow) == 0);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    REQUIRE(drive_until(&sock, &l, drive_is_encrypted, 5000 * slow));
    /* write until the socket buffers are full and nothing moves */
    end = peers_now_ms() + 10000 * slow;
    while (!stalled && peers_now_ms() < end) {
        sslsocket *list[1];
        ptrdiff_t n;
        size_t round = 0;
        int64_t w0, dt;
        while ((n = sslsocket_write(&sock, chunk, sizeof chunk)) > 0)
            round += (size_t)n;
        total += round;
        w0 = now_us();
        drive_poll(&sock, &l);
        dt = now_us() - w0;
        if (dt > max_us)
            max_us = dt;
        if (sslsocket_state(&sock) != SSLSOCKET_CONNECTED)
            break;
        if (round > 0 || sslsocket_bytes_to_write(&sock) == 0)
            continue; /* still moving */
        /* Full queue.  poll(2) reports POLLOUT only when a third of the
           kernel's send buffer is free, but send() takes smaller pieces:
           stalled means no POLLOUT for 200 ms AND the next poll could not
           move a byte either. */
        list[0] = &sock;
        w0 = now_us();
        if (sslsocket_wait(list, 1, 200) == 0 && now_us() - w0 >= 150000) {
            size_t queued = sslsocket_bytes_to_write(&sock);
            drive_poll(&sock, &l);
            if (sslsocket_bytes_to_write(&sock) == queued
                && sslsocket_write(&sock, chunk, sizeof chunk) == 0)
                stalled = 1;
        }
    }
    REQUIRE(stalled);
    t0 = peers_now_ms();
    CHECK(sslsocket_disconnect(&sock) == 0);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_CLOSING);
    drive_poll(&sock, &l); /* nothing can move: the next deadline is the close's */
    CHECKF(sslsocket_timeout_ms(&sock) > 1000, "timeout_ms %d while the close waits for a "
           "writable socket", sslsocket_timeout_ms(&sock));
    CHECK(sslsocket_wants(&sock) & SSLSOCKET_WANT_WRITE);
    polls_done = 0;
    timed_drive(&sock, &l, &max_us, &err_at, 15000 * slow);
    printf("         %zu bytes queued before the stall; longest call %.1f ms; close deadline "
           "fired after %d ms; %ld polls while closing\n", total, max_us / 1000.0,
           (int)(err_at - t0), polls_done);
    CHECKF(max_us < 50000 * slow, "longest call %lld us", (long long)max_us);
    /* waiting for a writable socket sleeps in sslsocket_wait: about one poll
       per 50 ms, not a busy loop (timeout_ms() must not say "poll now") */
    CHECKF(polls_done < 300, "%ld polls in 1.5 s: sslsocket_wait did not sleep", polls_done);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECKF(strlen(l.text) > 11 && strcmp(l.text + strlen(l.text) - 11, "S6 X5 S0 D ") == 0,
           "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SOCKET_TIMEOUT, "disconnect timed out");
    CHECKF(err_at - t0 >= 1500 * slow && err_at - t0 < 1500 * slow + 500 * slow, "fired after %d ms",
           (int)(err_at - t0));
    peers_kill(&py);
}

/* ---- (c) bad input ------------------------------------------------------- */

/* Every API function with a NULL socket / config / pointer: no crash. */
static void
test_bad_input_null(void)
{
    char buf[64];
    unsigned type = 0;
    int value = 0, fds[3];
    unsigned wants[3];
    sslsocket_session sess;
    sslsocket *list[2] = { NULL, NULL };
    memset(&sess, 0, sizeof sess);

    CHECK(sslsocket_config_init(NULL, store, sizeof store) == -1);
    CHECK(sslsocket_config_add_ca_mem(NULL, "x", 1) == -1);
    CHECK(sslsocket_config_add_ca_file(NULL, peers_path("ca.pem")) == -1);
    CHECK(sslsocket_config_add_ca_dir(NULL, peers_dir) == -1);
    CHECK(sslsocket_config_use_system_ca(NULL) == -1);
    CHECK(sslsocket_config_ca_count(NULL) == 0);
    CHECK(sslsocket_config_set_certificate_mem(NULL, "x", 1, "y", 1) == -1);
    CHECK(sslsocket_config_set_certificate_file(NULL, "x", "y") == -1);
    CHECK(sslsocket_config_add_certificate_mem(NULL, "x", 1, "y", 1) == -1);
    CHECK(sslsocket_config_add_certificate_file(NULL, "x", "y") == -1);
    CHECK(sslsocket_config_set_session_cache(NULL, buf, sizeof buf) == -1);
    sslsocket_config_set_renegotiation(NULL, 1);
    CHECK(sslsocket_config_set_peer_verify_mode(NULL, SSLSOCKET_VERIFY_PEER) == -1);
    CHECK(sslsocket_config_set_peer_verify_depth(NULL, 3) == -1);
    CHECK(sslsocket_config_set_versions(NULL, SSLSOCKET_TLS12, SSLSOCKET_TLS12) == -1);
    CHECK(sslsocket_config_set_ciphers(NULL, "DEFAULT") == -1);
    CHECK(sslsocket_config_set_alpn(NULL, "h2") == -1);
    CHECK(sslsocket_config_add_pin(NULL, "sha256/x") == -1);
    CHECK(sslsocket_config_set_timeouts(NULL, 1, 1, 1, 1) == -1);
    CHECK(sslsocket_config_add_nameserver(NULL, "127.0.0.1") == -1);
    CHECK(sslsocket_config_set_dns_attempts(NULL, 2) == -1);
    sslsocket_config_set_resolver_files(NULL, "a", "b");
    sslsocket_config_set_time(NULL, 1);
    sslsocket_config_set_ignored_ssl_errors(NULL, SSLSOCKET_SSLERR_ALL);
    sslsocket_config_set_keylog(NULL, NULL, NULL);
    CHECK(sslsocket_config_error(NULL) == SSLSOCKET_ERR_UNKNOWN);
    CHECK(sslsocket_config_error_string(NULL) != NULL);

    sslsocket_init(NULL, NULL);
    CHECK(sslsocket_set_config(NULL, &cfg) == -1);
    CHECK(sslsocket_bind(NULL, NULL, 0) == -1);
    CHECK(sslsocket_connect(NULL, "127.0.0.1", 1, SSLSOCKET_READ_WRITE) == -1);
    CHECK(sslsocket_connect_encrypted(NULL, "127.0.0.1", 1, SSLSOCKET_READ_WRITE) == -1);
    CHECK(sslsocket_start_client_encryption(NULL) == -1);
    CHECK(sslsocket_start_server_encryption(NULL) == -1);
    CHECK(sslsocket_disconnect(NULL) == -1);
    sslsocket_abort(NULL);
    CHECK(sslsocket_listen(NULL, "127.0.0.1", 0, 0) == -1);
    CHECK(sslsocket_accept(NULL, NULL) == -1);
    CHECK(sslsocket_has_pending_connections(NULL) == 0);
    CHECK(sslsocket_poll(NULL) == 0);
    CHECK(sslsocket_next_event(NULL, &type, &value) == 0);
    CHECK(sslsocket_fd(NULL) == -1);
    CHECK(sslsocket_wants(NULL) == 0);
    CHECK(sslsocket_fds(NULL, fds, wants, 3) == 0);
    CHECK(sslsocket_timeout_ms(NULL) == -1);
    CHECK(sslsocket_wait(NULL, 1, 0) == -1);
    CHECK(sslsocket_wait(list, 2, 0) == 0); /* NULL entries are skipped */
    CHECK(sslsocket_wait(list, 1, -5) == -1);
    CHECK(sslsocket_read(NULL, buf, sizeof buf) == -1);
    CHECK(sslsocket_peek(NULL, buf, sizeof buf) == -1);
    CHECK(sslsocket_read_line(NULL, buf, sizeof buf) == -1);
    CHECK(sslsocket_can_read_line(NULL) == 0);
    CHECK(sslsocket_bytes_available(NULL) == 0);
    CHECK(sslsocket_write(NULL, "x", 1) == -1);
    CHECK(sslsocket_write_string(NULL, "x") == -1);
    CHECK(sslsocket_write_string(NULL, NULL) == -1);
    CHECK(sslsocket_bytes_to_write(NULL) == 0);
    (void)sslsocket_at_end(NULL);
    CHECK(sslsocket_state(NULL) == -1);
    CHECK(sslsocket_mode(NULL) == -1);
    CHECK(sslsocket_open_mode(NULL) == SSLSOCKET_NOT_OPEN);
    CHECK(sslsocket_is_encrypted(NULL) == 0);
    CHECK(sslsocket_error(NULL) == SSLSOCKET_ERR_UNKNOWN);
    CHECK(sslsocket_error_string(NULL) != NULL);
    CHECK(sslsocket_bearssl_error(NULL) == 0);
    CHECK(sslsocket_sys_errno(NULL) == 0);
    CHECK(sslsocket_error_name(12345) != NULL && sslsocket_error_name(-12345) != NULL);
    CHECK(sslsocket_state_name(99) != NULL && sslsocket_state_name(-1) != NULL);
    CHECK(sslsocket_ssl_error_message(9999) != NULL && sslsocket_ssl_error_message(-1) != NULL);
    CHECK(sslsocket_local_address(NULL, buf, sizeof buf) != NULL);
    CHECK(sslsocket_local_address(NULL, NULL, 0) != NULL);
    CHECK(sslsocket_local_port(NULL) == 0);
    CHECK(sslsocket_remote_address(NULL, buf, sizeof buf) != NULL);
    CHECK(sslsocket_remote_port(NULL) == 0);
    CHECK(sslsocket_protocol(NULL) == NULL);
    CHECK(sslsocket_cipher(NULL) == NULL);
    CHECK(sslsocket_alpn(NULL) == NULL);
    CHECK(sslsocket_session_resumed(NULL) == 0);
    CHECK(sslsocket_peer_certificate(NULL) == NULL);
    CHECK(sslsocket_ssl_error_count(NULL) == 0);
    CHECK(sslsocket_ssl_error_code(NULL, 0) == SSLSOCKET_SSLERR_NONE);
    sslsocket_ignore_ssl_errors(NULL, SSLSOCKET_SSLERR_ALL);
    sslsocket_set_decide_ssl_errors(NULL, 1);
    CHECK(sslsocket_set_peer_verify_name(NULL, "x") == -1);
    CHECK(sslsocket_set_peer_verify_mode(NULL, SSLSOCKET_VERIFY_PEER) == -1);
    CHECK(sslsocket_peer_verify_mode(NULL) == -1);
    CHECK(sslsocket_get_session(NULL, &sess) == -1);
    CHECK(sslsocket_set_session(NULL, &sess) == -1);
    CHECK(sslsocket_discarded_plaintext(NULL) == 0);
    (void)sslsocket_server_name(NULL); /* no crash is all that is asked */
    CHECK(sslsocket_pipe_connect(NULL, NULL, NULL) == -1);

    /* NULL pointers next to a valid socket / config */
    fresh_config();
    sslsocket_init(&sock, &cfg);
    CHECK(sslsocket_read(&sock, NULL, 10) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_read");
    CHECK(sslsocket_peek(&sock, NULL, 10) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_peek");
    CHECK(sslsocket_read_line(&sock, NULL, 10) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_read_line");
    CHECK(sslsocket_write(&sock, NULL, 10) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_write");
    CHECK(sslsocket_write_string(&sock, NULL) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_write_string");
    CHECK(sslsocket_next_event(&sock, NULL, NULL) == 0);
    CHECK(sslsocket_fds(&sock, NULL, NULL, 3) == 0);
    CHECK(sslsocket_local_address(&sock, NULL, 0) != NULL);
    CHECK(sslsocket_get_session(&sock, NULL) == -1);
    CHECK(sslsocket_set_session(&sock, NULL) == 0); /* documented: forget the session */
    CHECK(sslsocket_set_peer_verify_name(&sock, NULL) == 0); /* back to the host name */
    CHECK(sslsocket_accept(&sock, NULL) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_accept");
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK(sslsocket_poll(&sock) == 0);

    CHECK(sslsocket_config_add_ca_mem(&cfg, NULL, 10) == -1);
    CHECK(sslsocket_config_error(&cfg) == SSLSOCKET_ERR_OPERATION);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_add_ca_mem") != NULL);
    CHECK(sslsocket_config_add_ca_file(&cfg, NULL) == -1);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_add_ca_file") != NULL);
    CHECK(sslsocket_config_add_ca_dir(&cfg, NULL) == -1);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_add_ca_dir") != NULL);
    CHECK(sslsocket_config_set_certificate_mem(&cfg, NULL, 0, NULL, 0) == -1);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_set_certificate_mem"));
    CHECK(sslsocket_config_set_certificate_file(&cfg, NULL, NULL) == -1);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_set_certificate_file"));
    CHECK(sslsocket_config_add_pin(&cfg, NULL) == -1);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_add_pin") != NULL);
    CHECK(sslsocket_config_add_nameserver(&cfg, NULL) == -1);
    CHECK(strstr(sslsocket_config_error_string(&cfg), "sslsocket_config_add_nameserver"));
    CHECK(sslsocket_config_ca_count(&cfg) == 1);
}

static unsigned https_port;
static peers_proc https_proc = { -1, -1 };

static int
ensure_https(void)
{
    if (https_proc.pid <= 0)
        https_port = start_https(&https_proc);
    return https_port ? 0 : -1;
}

/* Expect -1 with OPERATION naming `fn`, nothing changed (state, no event). */
#define CHECK_MISUSE(call, fn, state_)                                            \
    do {                                                                          \
        CHECKF((call) == -1, "%s did not fail", #call);                           \
        CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, fn);                            \
        CHECKF(sslsocket_state(&sock) == (state_), "state %d after %s",          \
               sslsocket_state(&sock), #call);                                    \
    } while (0)

/* Wrong arguments to connect and friends on an UNCONNECTED socket; then
 * the same socket connects normally. */
static void
test_bad_input_connect(void)
{
    char longname[301], buf[16];
    static const int bad_modes[] = { SSLSOCKET_NOT_OPEN, SSLSOCKET_APPEND, SSLSOCKET_TRUNCATE,
                                     0x10, 0x13, -1 };
    size_t i;
    REQUIRE(ensure_https() == 0);
    memset(longname, 'a', 300);
    longname[300] = 0;
    for (i = 60; i < 300; i += 61)
        longname[i] = '.'; /* labels shorter than 64: only the length is wrong */
    fresh_config();
    sslsocket_init(&sock, &cfg);

    CHECK_MISUSE(sslsocket_connect(&sock, NULL, 443, SSLSOCKET_READ_WRITE), "sslsocket_connect",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_connect_encrypted(&sock, NULL, 443, SSLSOCKET_READ_WRITE),
                 "sslsocket_connect_encrypted", SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_connect(&sock, "", 443, SSLSOCKET_READ_WRITE), "sslsocket_connect",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_connect_encrypted(&sock, longname, 443, SSLSOCKET_READ_WRITE),
                 "sslsocket_connect_encrypted", SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "too long");
    CHECK_MISUSE(sslsocket_connect_encrypted(&sock, "127.0.0.1", 0, SSLSOCKET_READ_WRITE),
                 "sslsocket_connect_encrypted", SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "port");
    CHECK_MISUSE(sslsocket_connect(&sock, "127.0.0.1", 70000, SSLSOCKET_READ_WRITE),
                 "sslsocket_connect", SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "70000");
    for (i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++) {
        CHECK_MISUSE(sslsocket_connect_encrypted(&sock, "127.0.0.1", https_port, bad_modes[i]),
                     "sslsocket_connect_encrypted", SSLSOCKET_UNCONNECTED);
        CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "open mode");
    }
    CHECK_MISUSE(sslsocket_write(&sock, "x", 1), "sslsocket_write", SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "not connected");
    CHECK_MISUSE(sslsocket_write_string(&sock, "hello"), "sslsocket_write",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_write(&sock, "x", 0), "sslsocket_write", SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_read_line(&sock, buf, 0), "sslsocket_read_line",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_read_line(&sock, buf, 1), "sslsocket_read_line",
                 SSLSOCKET_UNCONNECTED);
    CHECK(sslsocket_read(&sock, buf, sizeof buf) == 0); /* nothing buffered is no error */
    CHECK_REFUSED(&sock, sslsocket_start_client_encryption(&sock),
                  "sslsocket_start_client_encryption: not connected");
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_set_peer_verify_mode(&sock, 7), "sslsocket_set_peer_verify_mode",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_set_peer_verify_name(&sock, longname),
                 "sslsocket_set_peer_verify_name", SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_bind(&sock, "not an address", 0), "sslsocket_bind",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_bind(&sock, NULL, 70000), "sslsocket_bind", SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_listen(&sock, "not an address", 0, 0), "sslsocket_listen",
                 SSLSOCKET_UNCONNECTED);
    CHECK_MISUSE(sslsocket_listen(&sock, "127.0.0.1", 70000, 0), "sslsocket_listen",
                 SSLSOCKET_UNCONNECTED);
    {
        sslsocket other;
        sslsocket_init(&other, &cfg);
        CHECK_MISUSE(sslsocket_accept(&sock, &other), "sslsocket_accept",
                     SSLSOCKET_UNCONNECTED);
        CHECK(sslsocket_state(&other) == SSLSOCKET_UNCONNECTED);
    }
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_UNENCRYPTED);
    CHECK(sslsocket_open_mode(&sock) == SSLSOCKET_NOT_OPEN);
    CHECK(sslsocket_fd(&sock) == -1);
    CHECK(sslsocket_poll(&sock) == 0); /* mistakes queue no events */

    /* the same socket still works */
    https_works(&sock, https_port, "after bad connect arguments");

    /* a refused bind leaves an earlier one in place */
    {
        unsigned local = peers_free_port();
        drive_log l;
        memset(&l, 0, sizeof l);
        CHECK(sslsocket_bind(&sock, "127.0.0.1", local) == 0);
        CHECK(sslsocket_state(&sock) == SSLSOCKET_BOUND);
        CHECK_MISUSE(sslsocket_bind(&sock, "not an address", 0), "sslsocket_bind",
                     SSLSOCKET_BOUND);
        CHECK_MISUSE(sslsocket_bind(&sock, "::1", 70000), "sslsocket_bind", SSLSOCKET_BOUND);
        CHECK(sslsocket_connect_encrypted(&sock, "127.0.0.1", https_port, SSLSOCKET_READ_WRITE)
              == 0);
        CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000 * slow));
        CHECKF(sslsocket_local_port(&sock) == local, "bound to port %u, connected from %u",
               local, sslsocket_local_port(&sock));
        sslsocket_abort(&sock);
        drive_until(&sock, &l, NULL, 1000 * slow);
    }
}

/* Wrong calls on a CONNECTED, encrypted socket leave the connection alone. */
static void
test_bad_input_connected(void)
{
    drive_log l;
    unsigned char rx[16384];
    char buf[16];
    size_t before;
    REQUIRE(ensure_https() == 0);
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", https_port, SSLSOCKET_READ_WRITE)
            == 0);
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000 * slow));
    before = strlen(l.text);
    CHECK_MISUSE(sslsocket_connect(&sock, "127.0.0.1", https_port, SSLSOCKET_READ_WRITE),
                 "sslsocket_connect", SSLSOCKET_CONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "not unconnected");
    CHECK_MISUSE(sslsocket_connect_encrypted(&sock, "127.0.0.1", https_port,
                                             SSLSOCKET_READ_WRITE),
                 "sslsocket_connect_encrypted", SSLSOCKET_CONNECTED);
    CHECK_MISUSE(sslsocket_bind(&sock, NULL, 0), "sslsocket_bind", SSLSOCKET_CONNECTED);
    CHECK_MISUSE(sslsocket_write(&sock, "GET", 0), "sslsocket_write", SSLSOCKET_CONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "zero-length");
    CHECK_MISUSE(sslsocket_read_line(&sock, buf, 1), "sslsocket_read_line",
                 SSLSOCKET_CONNECTED);
    CHECK_REFUSED(&sock, sslsocket_start_client_encryption(&sock),
                  "sslsocket_start_client_encryption: already encrypted");
    CHECK_REFUSED(&sock, sslsocket_start_server_encryption(&sock),
                  "sslsocket_start_server_encryption: already encrypted");
    CHECK(sslsocket_state(&sock) == SSLSOCKET_CONNECTED);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_SSL_CLIENT);
    CHECK(sslsocket_bytes_to_write(&sock) == 0);
    /* and it still talks */
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    CHECK(sslsocket_write_string(&sock, "GET / HTTP/1.0\r\n\r\n") == 18);
    CHECK(drive_until(&sock, &l, got_http, 5000 * slow));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply %.60s", rx);
    CHECKF(strchr(l.text + before, 'X') == NULL && strchr(l.text + before, 'M') == NULL,
           "events: %s", l.text);
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000 * slow));
    CHECKF(strstr(l.text, "S6 S0 D ") != NULL, "events: %s", l.text);
}

/* READ_ONLY refuses writes, WRITE_ONLY refuses reads; both still work. */
static void
test_bad_input_open_modes(void)
{
    drive_log l;
    peers_proc py;
    unsigned port;
    char buf[64];
    const char *report;

    /* READ_ONLY: the peer talks ("bye", then close_notify) */
    memset(&l, 0, sizeof l);
    port = start_tlspeer(&py, "bye-notify", "ec.pem", "ec.key", "ro.log");
    REQUIRE(port != 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_ONLY) == 0);
    CHECK(sslsocket_open_mode(&sock) == SSLSOCKET_READ_ONLY);
    {
        int st = sslsocket_state(&sock); /* whatever it is now, it stays */
        CHECK_MISUSE(sslsocket_write_string(&sock, "early"), "sslsocket_write", st);
    }
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "read-only");
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000 * slow));
    {
        /* CONNECTED, or already closed by the peer's prompt close_notify */
        int st = sslsocket_state(&sock);
        CHECK_MISUSE(sslsocket_write(&sock, "x", 1), "sslsocket_write", st);
        CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, st == SSLSOCKET_CONNECTED ? "read-only" : "");
    }
    CHECK(sslsocket_bytes_to_write(&sock) == 0);
    CHECK(drive_until(&sock, &l, NULL, 5000 * slow));
    CHECK(sslsocket_read_line(&sock, buf, sizeof buf) == 5 && strcmp(buf, "bye\r\n") == 0);
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E X1 S6 S0 D ") == 0, "events: %s", l.text);
    report = peer_report(&py, "ro.log");
    CHECKF(strstr(report, "unwrap=ok") != NULL, "peer: %s", report);

    /* WRITE_ONLY: the peer records what it gets */
    memset(&l, 0, sizeof l);
    port = start_tlspeer(&py, "record", "ec.pem", "ec.key", "wo.log");
    REQUIRE(port != 0);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_WRITE_ONLY) == 0);
    CHECK(sslsocket_write_string(&sock, "write only\n") == 11);
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000 * slow));
    CHECK_MISUSE(sslsocket_read(&sock, buf, sizeof buf), "sslsocket_read", SSLSOCKET_CONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "write-only");
    CHECK_MISUSE(sslsocket_peek(&sock, buf, sizeof buf), "sslsocket_peek", SSLSOCKET_CONNECTED);
    CHECK_MISUSE(sslsocket_read_line(&sock, buf, sizeof buf), "sslsocket_read_line",
                 SSLSOCKET_CONNECTED);
    CHECK(!sslsocket_can_read_line(&sock));
    CHECK(sslsocket_write_string(&sock, "still writable\n") == 15);
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000 * slow));
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E S6 S0 D ") == 0, "events: %s", l.text);
    report = peer_report(&py, "wo.log");
    CHECKF(strstr(report, "received=b'write only\\nstill writable\\n'") != NULL
               && strstr(report, "close_notify=yes") != NULL,
           "peer: %s", report);
}

/* Expect a config call to fail with `code` and a message containing `sub`. */
#define CHECK_CFG_FAIL(call, code, sub)                                             \
    do {                                                                            \
        int r_ = (call);                                                            \
        CHECKF(r_ == -1, "%s returned %d", #call, r_);                              \
        CHECKF(sslsocket_config_error(&cfg) == (code)                               \
                   && strstr(sslsocket_config_error_string(&cfg), (sub)) != NULL,  \
               "%s: error %d \"%s\"", #call, sslsocket_config_error(&cfg),         \
               sslsocket_config_error_string(&cfg));                                \
    } while (0)

/* Does a connection with `c` to the shared server negotiate ALPN `proto`? */
static int
alpn_negotiated(const sslsocket_config *c, const char *proto)
{
    drive_log l;
    int ok;
    memset(&l, 0, sizeof l);
    sslsocket_init(&sock, c);
    if (sslsocket_connect_encrypted(&sock, "127.0.0.1", https_port, SSLSOCKET_READ_WRITE) < 0)
        return 0;
    ok = drive_until(&sock, &l, drive_is_encrypted, 5000 * slow) && sslsocket_alpn(&sock)
         && strcmp(sslsocket_alpn(&sock), proto) == 0;
    if (!ok)
        printf("         ALPN: %s (events %s)\n",
               sslsocket_alpn(&sock) ? sslsocket_alpn(&sock) : "(none)", l.text);
    sslsocket_abort(&sock);
    drive_until(&sock, &l, NULL, 1000 * slow);
    return ok;
}

/* Garbage configuration input: refused, and the config keeps working. */
static void
test_bad_input_config(void)
{
    size_t pem_len;
    const char *pem = peers_slurp(peers_path("ca.pem"), &pem_len);
    char two[8192], pin[80];
    static const char fake_pem[] = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n"
                                   "-----END CERTIFICATE-----\n";
    static const char unterminated[] = "-----BEGIN CERTIFICATE-----\nMIIB";
    REQUIRE(ensure_https() == 0);
    REQUIRE(pem_len > 100 && pem_len * 2 < sizeof two);
    fresh_config(); /* control: ALPN works with this peer */
    REQUIRE(sslsocket_config_set_alpn(&cfg, "h2,http/1.1") == 0);
    REQUIRE(alpn_negotiated(&cfg, "http/1.1"));
    fresh_config();
    REQUIRE(sslsocket_config_ca_count(&cfg) == 1);

    CHECK_CFG_FAIL(sslsocket_config_add_ca_mem(&cfg, "this is not a certificate", 25),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "");
    CHECKF(sslsocket_config_error_string(&cfg)[0] != 0, "no message");
    CHECK_CFG_FAIL(sslsocket_config_add_ca_mem(&cfg, fake_pem, sizeof fake_pem - 1),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "");
    CHECK_CFG_FAIL(sslsocket_config_add_ca_mem(&cfg, unterminated, sizeof unterminated - 1),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "");
    CHECK_CFG_FAIL(sslsocket_config_add_ca_mem(&cfg, pem, pem_len / 2),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "");
    /* one good certificate, then a truncated one: all or nothing */
    memcpy(two, pem, pem_len);
    memcpy(two + pem_len, pem, pem_len / 2);
    CHECK_CFG_FAIL(sslsocket_config_add_ca_mem(&cfg, two, pem_len + pem_len / 2),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "");
    CHECKF(sslsocket_config_ca_count(&cfg) == 1, "anchors now %zu",
           sslsocket_config_ca_count(&cfg));
    CHECK_CFG_FAIL(sslsocket_config_add_ca_file(&cfg, peers_path("no-such-ca.pem")),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "no-such-ca.pem");
    CHECK(sslsocket_config_ca_count(&cfg) == 1);
    CHECK_CFG_FAIL(sslsocket_config_set_certificate_mem(&cfg, fake_pem, sizeof fake_pem - 1,
                                                        fake_pem, sizeof fake_pem - 1),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "");

    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, ""), SSLSOCKET_ERR_SSL_INVALID_USERDATA,
                   "sslsocket_config_add_pin");
    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, "sha256/"),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "sslsocket_config_add_pin");
    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, "sha256/!!!!notbase64!!!!"),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "sslsocket_config_add_pin");
    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, "sha256/AAAA"),
                   SSLSOCKET_ERR_SSL_INVALID_USERDATA, "sslsocket_config_add_pin");
    memset(pin, 'a', 63);
    pin[63] = 0;
    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, pin), SSLSOCKET_ERR_SSL_INVALID_USERDATA,
                   "sslsocket_config_add_pin");
    memset(pin, 'g', 64);
    pin[64] = 0;
    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, pin), SSLSOCKET_ERR_SSL_INVALID_USERDATA,
                   "sslsocket_config_add_pin");
    memset(pin, 'a', 65);
    pin[65] = 0;
    CHECK_CFG_FAIL(sslsocket_config_add_pin(&cfg, pin), SSLSOCKET_ERR_SSL_INVALID_USERDATA,
                   "sslsocket_config_add_pin");

    CHECK_CFG_FAIL(sslsocket_config_set_ciphers(&cfg, "TLS_FOO_BAR"), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_ciphers");
    CHECK_CFG_FAIL(sslsocket_config_set_ciphers(&cfg,
                                                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:BOGUS"),
                   SSLSOCKET_ERR_OPERATION, "BOGUS");
    CHECK_CFG_FAIL(sslsocket_config_set_ciphers(&cfg, ":,:"), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_ciphers");
    CHECK_CFG_FAIL(sslsocket_config_set_versions(&cfg, 0x0300, SSLSOCKET_TLS12),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_set_versions");
    CHECK_CFG_FAIL(sslsocket_config_set_versions(&cfg, SSLSOCKET_TLS12, SSLSOCKET_TLS10),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_set_versions");
    CHECK_CFG_FAIL(sslsocket_config_set_versions(&cfg, SSLSOCKET_TLS12, 0x0305),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_set_versions");
    CHECK_CFG_FAIL(sslsocket_config_set_versions(&cfg, 0, 0), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_versions");
    CHECK_CFG_FAIL(sslsocket_config_set_peer_verify_depth(&cfg, 0), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_peer_verify_depth");
    CHECK_CFG_FAIL(sslsocket_config_set_peer_verify_depth(&cfg, -1), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_peer_verify_depth");
    CHECK_CFG_FAIL(sslsocket_config_set_peer_verify_depth(&cfg, 17), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_peer_verify_depth");
    CHECK_CFG_FAIL(sslsocket_config_set_peer_verify_mode(&cfg, 4), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_peer_verify_mode");
    CHECK_CFG_FAIL(sslsocket_config_set_peer_verify_mode(&cfg, -1), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_peer_verify_mode");
    CHECK_CFG_FAIL(sslsocket_config_set_timeouts(&cfg, -2, 0, 0, 0), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_timeouts");
    CHECK_CFG_FAIL(sslsocket_config_add_nameserver(&cfg, "not an address"),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_add_nameserver");
    CHECK_CFG_FAIL(sslsocket_config_add_nameserver(&cfg, "127.0.0.1:0"),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_add_nameserver");
    CHECK_CFG_FAIL(sslsocket_config_add_nameserver(&cfg, "127.0.0.1:70000"),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_add_nameserver");
    CHECK_CFG_FAIL(sslsocket_config_add_nameserver(&cfg, "[::1"), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_add_nameserver");
    CHECK_CFG_FAIL(sslsocket_config_set_dns_attempts(&cfg, 0), SSLSOCKET_ERR_OPERATION,
                   "sslsocket_config_set_dns_attempts");
    REQUIRE(sslsocket_config_set_alpn(&cfg, "http/1.1") == 0);
    CHECK_CFG_FAIL(sslsocket_config_set_alpn(&cfg, "a,b,c,d,e,f,g,h,i,j"),
                   SSLSOCKET_ERR_OPERATION, "sslsocket_config_set_alpn");

    /* none of it changed the config: the defaults, the one anchor, no pin
       (a stray pin would fail this handshake with PIN_MISMATCH) */
    CHECK(sslsocket_config_ca_count(&cfg) == 1);
    sslsocket_init(&sock, &cfg);
    https_works(&sock, https_port, "after bad configuration input");
    CHECK(sslsocket_ssl_error_count(&sock) == 0);
    /* the refused ALPN list did not wipe the one set before it */
    CHECKF(alpn_negotiated(&cfg, "http/1.1"), "ALPN lost after a refused set_alpn");
}

/* ---- (d) remote close ----------------------------------------------------- */

static void
remote_close(const char *mode, const char *log, const char *why, const char *peer_says)
{
    drive_log l;
    peers_proc py;
    unsigned port;
    char buf[64];
    const char *report;
    memset(&l, 0, sizeof l);
    port = start_tlspeer(&py, mode, "ec.pem", "ec.key", log);
    REQUIRE(port != 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    /* nothing is read while driving: the bytes must survive the close */
    CHECK(drive_until(&sock, &l, NULL, 5000 * slow));
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E X1 S6 S0 D ") == 0, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_REMOTE_HOST_CLOSED, why);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK(!sslsocket_at_end(&sock));
    CHECKF(sslsocket_bytes_available(&sock) == 5, "available %zu",
           sslsocket_bytes_available(&sock));
    CHECK(sslsocket_can_read_line(&sock));
    CHECK(sslsocket_read_line(&sock, buf, sizeof buf) == 5);
    CHECKF(strcmp(buf, "bye\r\n") == 0, "read %s", buf);
    CHECK(sslsocket_at_end(&sock));
    CHECK(sslsocket_read(&sock, buf, sizeof buf) == 0);
    /* the error was reported once: nothing more comes */
    CHECK(sslsocket_poll(&sock) == 0);
    CHECK_ERR(&sock, SSLSOCKET_ERR_REMOTE_HOST_CLOSED, why);
    report = peer_report(&py, log);
    if (peer_says)
        CHECKF(strstr(report, peer_says) != NULL, "peer: %s", report);
}

static void
test_remote_close_notify(void)
{
    /* and our close_notify answers theirs: the peer's unwrap() completes */
    remote_close("bye-notify", "notify.log", "close_notify", "unwrap=ok");
}

static void
test_remote_close_truncated(void)
{
    remote_close("bye-truncate", "truncate.log", "truncated", "truncated=yes");
}

/* ---- (e) disconnect right after connect, abort ---------------------------- */

static void
test_disconnect_deferred(void)
{
    drive_log l;
    peers_proc py;
    unsigned port;
    const char *report;
    memset(&l, 0, sizeof l);
    port = start_tlspeer(&py, "record", "ec.pem", "ec.key", "deferred.log");
    REQUIRE(port != 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock, "queued before the handshake\n") == 28);
    CHECK(sslsocket_disconnect(&sock) == 0);
    CHECK(sslsocket_state(&sock) != SSLSOCKET_UNCONNECTED
          && sslsocket_state(&sock) != SSLSOCKET_CLOSING);
    CHECK(drive_until(&sock, &l, NULL, 5000 * slow));
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E S6 S0 D ") == 0, "events: %s (error: %s)", l.text,
           sslsocket_error_string(&sock));
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK(sslsocket_bytes_to_write(&sock) == 0);
    report = peer_report(&py, "deferred.log");
    CHECKF(strstr(report, "received=b'queued before the handshake\\n'") != NULL
               && strstr(report, "close_notify=yes") != NULL,
           "peer: %s", report);
}

static void
test_abort_discards(void)
{
    drive_log l;
    peers_proc py;
    unsigned port;
    const char *report;
    memset(&l, 0, sizeof l);
    port = start_tlspeer(&py, "record", "ec.pem", "ec.key", "abort.log");
    REQUIRE(port != 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000 * slow));
    CHECK(sslsocket_write_string(&sock, "must never arrive\n") == 18);
    CHECK(sslsocket_bytes_to_write(&sock) == 18);
    sslsocket_abort(&sock);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED); /* at once */
    CHECK(sslsocket_bytes_to_write(&sock) == 0);
    CHECK(sslsocket_fd(&sock) == -1);
    CHECK(drive_until(&sock, &l, NULL, 1000 * slow));
    /* Qt's order: no CLOSING (nothing is flushed) */
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E S0 D ") == 0, "events: %s", l.text);
    report = peer_report(&py, "abort.log");
    CHECKF(strstr(report, "received=b''") != NULL
               && (strstr(report, "close_notify=no") != NULL
                   || strstr(report, "close_notify=reset") != NULL),
           "peer: %s", report);

    /* before the connection is up: nothing at all is sent */
    memset(&l, 0, sizeof l);
    port = start_tlspeer(&py, "record", "ec.pem", "ec.key", "abort2.log");
    REQUIRE(port != 0);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock, "must never arrive\n") == 18);
    sslsocket_abort(&sock);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK(sslsocket_bytes_to_write(&sock) == 0);
    CHECK(drive_until(&sock, &l, NULL, 1000 * slow));
    /* TCP may or may not have been up already; no ERROR either way */
    CHECKF(strcmp(l.text, "S1 S2 H S0 ") == 0 || strcmp(l.text, "S1 S2 H S3 M1 C S6 S0 D ") == 0,
           "events: %s", l.text);
    report = peer_report(&py, "abort2.log");
    CHECKF(strstr(report, "must never arrive") == NULL, "peer: %s", report);
}

static const testlib_case tests[] = {
#ifndef ROBUST_SANITIZED
    { "zero_alloc", test_zero_alloc },
    { "zero_alloc_tls13", test_zero_alloc_tls13 },
#endif
    { "never_blocks_handshake", test_never_blocks_handshake },
    { "never_blocks_lookup", test_never_blocks_lookup },
    { "never_blocks_connect", test_never_blocks_connect },
    { "never_blocks_close", test_never_blocks_close },
    { "bad_input_null", test_bad_input_null },
    { "bad_input_connect", test_bad_input_connect },
    { "bad_input_connected", test_bad_input_connected },
    { "bad_input_open_modes", test_bad_input_open_modes },
    { "bad_input_config", test_bad_input_config },
    { "remote_close_notify", test_remote_close_notify },
    { "remote_close_truncated", test_remote_close_truncated },
    { "disconnect_deferred", test_disconnect_deferred },
    { "abort_discards", test_abort_discards },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    int r;
    if (getenv("TEST_SLOW") != NULL && atoi(getenv("TEST_SLOW")) > 1)
        slow = atoi(getenv("TEST_SLOW"));
    else if (getenv("LD_PRELOAD") != NULL && strstr(getenv("LD_PRELOAD"), "vgpreload") != NULL)
        slow = 10;
    if (slow > 1)
        printf("time bounds x%d (valgrind or TEST_SLOW)\n", slow);
#ifdef ROBUST_SANITIZED
    printf("built with a sanitizer: zero_alloc left out (build without: make "
           "build/vg_test_robust)\n");
#endif
    if (peers_setup() != 0
        || peers_sh("printf 'subjectAltName=DNS:echo.test\\nextendedKeyUsage=serverAuth\\n"
                    "basicConstraints=CA:FALSE\\n' > echo.ext && "
                    "openssl ecparam -name prime256v1 -genkey -noout -out echo.key && "
                    "openssl req -new -key echo.key -subj '/CN=echo.test' -out echo.csr && "
                    "openssl x509 -req -in echo.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "  -days 3650 -sha256 -extfile echo.ext -out echo.pem")
               != 0) {
        printf("fixture setup failed (see %s/sh.log)\n0 passed, 1 failed\n", peers_dir);
        return 1;
    }
    r = testlib_main(argc, argv, tests);
    peers_kill(&https_proc);
    return r;
}
