/* scale.c - benchmark 6: 10,000 concurrent TLS connections on one thread,
 * and the library's epoll integration example.
 *
 *     scale [--smoke]        the report: starts `scale --server` and
 *                            SCALE_CLIENTS (default 2) `scale --client PORT`
 *                            processes, opens connections in three steps
 *                            (100, 1,000, 10,000 open at once; smoke: 20,
 *                            100, 200), and after each step makes random
 *                            1 KiB echo round trips on the open connections
 *                            to measure the server's CPU time per event.
 *                            Writes $BENCH_OUT/scale.md and scale.txt; exits
 *                            1 if any connection failed.
 *     scale --server         the server: one thread, epoll.  Prints "port N",
 *                            then echoes whatever its TLS clients send.
 *                            Commands on stdin: "stats" (one line of
 *                            counters and its CPU time); EOF ends it.
 *     scale --client PORT    a client process.  Commands on stdin:
 *                            "open N [W]": have N connections open, each after a
 *                              full handshake (verified for "localhost") and
 *                              a 1 KiB echo, at most W (default SCALE_WINDOW or 32) of them
 *                              in progress at a time;
 *                            "echo M [S]": M round trips of 1 KiB on random
 *                              open connections (among its first S), 16 at a
 *                              time;
 *                            "lat": the handshake latencies, connect call to
 *                              ENCRYPTED, one line each;
 *                            EOF: exit.
 *
 * The event loop below (epoll + a timer heap + a run queue) is the way to
 * drive many sslsockets from one thread; server and clients share it:
 *
 *   - After every call that can change a socket (poll, write, read, accept),
 *     call watch(k).  It keeps the epoll registration equal to what
 *     sslsocket_fds() asks for (level-triggered: EPOLLIN/EPOLLOUT from the
 *     wants bits; a descriptor that wants nothing is taken out of the set so
 *     that a hang-up cannot spin the loop), and files the socket by
 *     sslsocket_timeout_ms(): 0 = it has work that needs no descriptor
 *     (events queued, decrypted bytes held by the engine, a close_notify to
 *     queue) -> run queue; > 0 -> timer heap; -1 -> no deadline.
 *   - One loop turn: epoll_wait for at most the nearest deadline (0 if the
 *     run queue is not empty), poll the sockets that woke up, those whose
 *     deadline passed, and those in the run queue.
 *   - Every step is O(1) or O(log n) in the number of sockets: nothing ever
 *     walks the whole set.  Descriptors closed by the library leave the epoll
 *     set by themselves (the process holds no other reference to them).
 *
 * Level-triggered, not edge-triggered: sslsocket_poll() may stop reading
 * before the kernel's buffer is empty (its own buffers are full until the
 * caller reads), and with EPOLLET that data would never wake the loop again.
 *
 * The bench may allocate (the socket array, the heap, the queue: once, at
 * start); the library does not.
 */
#define SSLSOCKET_IMPLEMENTATION
#ifdef SSLSOCKET_BENCH_HEADER
#include SSLSOCKET_BENCH_HEADER /* a patched copy, to measure a proposed change */
#else
#include "../../sslsocket.h"
#endif
#include "bench_common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MSG 1024             /* bytes per echo */
#define CLIENT_RT_PAR 16     /* round trips in flight per client process */
#define TAG_LISTENER 0xFFFFFFFFu
#define TAG_CONTROL 0xFFFFFFFEu

/* ======================================================================
 * The event loop (shared by the server and the clients)
 * ====================================================================== */

typedef struct conn {
    /* event-loop bookkeeping */
    int reg_fd[3];           /* descriptors in the epoll set ... */
    unsigned reg_ev[3];      /* ... with these EPOLLIN/EPOLLOUT bits */
    int n_reg;
    int heap_pos;            /* index in the timer heap, -1 when none */
    int queued;              /* in the run queue */
    int64_t deadline;        /* CLOCK_MONOTONIC ms, while heap_pos >= 0 */
    /* application state */
    int used, phase;
    size_t got;              /* bytes of the current echo received */
    unsigned seq;            /* echo number, picks the payload */
    double t_start;          /* connect call */
    sslsocket s;
} conn;

static conn *conns;
static int ep;
static int *heap, nheap;     /* binary min-heap of connection indices */
static int *runq, nrunq;

static struct {
    long polls, events, wakeups;
} loopst;

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
heap_swap(int i, int j)
{
    int a = heap[i], b = heap[j];
    heap[i] = b;
    heap[j] = a;
    conns[b].heap_pos = i;
    conns[a].heap_pos = j;
}

static void
heap_fix(int i)
{
    while (i > 0 && conns[heap[(i - 1) / 2]].deadline > conns[heap[i]].deadline) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < nheap && conns[heap[l]].deadline < conns[heap[m]].deadline)
            m = l;
        if (l + 1 < nheap && conns[heap[l + 1]].deadline < conns[heap[m]].deadline)
            m = l + 1;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void
heap_del(int k)
{
    int i = conns[k].heap_pos;
    if (i < 0)
        return;
    conns[k].heap_pos = -1;
    if (i != --nheap) {
        heap[i] = heap[nheap];
        conns[heap[i]].heap_pos = i;
        heap_fix(i);
    }
}

static void
heap_set(int k, int64_t when)
{
    conn *c = &conns[k];
    if (c->heap_pos >= 0 && c->deadline == when)
        return;
    c->deadline = when;
    if (c->heap_pos < 0) {
        c->heap_pos = nheap;
        heap[nheap++] = k;
    }
    heap_fix(c->heap_pos);
}

static unsigned
epoll_bits(unsigned wants)
{
    return ((wants & SSLSOCKET_WANT_READ) ? EPOLLIN : 0u)
           | ((wants & SSLSOCKET_WANT_WRITE) ? EPOLLOUT : 0u);
}

static void
ep_ctl(int op, int fd, unsigned events, uint32_t k)
{
    struct epoll_event e;
    e.events = events;
    e.data.u32 = k;
    if (epoll_ctl(ep, op, fd, &e) != 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e); /* the number was closed and reused */
}

/* Make epoll and the timers match socket k after anything that may have
   changed it. */
static void
watch(int k)
{
    conn *c = &conns[k];
    int fds[3], old_fd[3], n, n_old = c->n_reg, i, j, t;
    unsigned w[3], old_ev[3];
    memcpy(old_fd, c->reg_fd, sizeof old_fd);
    memcpy(old_ev, c->reg_ev, sizeof old_ev);
    n = sslsocket_fds(&c->s, fds, w, 3);
    /* descriptors no longer asked for: closed by the library (epoll forgot
       them already; the DEL then fails harmlessly) or no longer needed */
    for (j = 0; j < n_old; j++) {
        for (i = 0; i < n && fds[i] != old_fd[j]; i++)
            ;
        if (i == n && old_ev[j] != 0)
            epoll_ctl(ep, EPOLL_CTL_DEL, old_fd[j], NULL);
    }
    for (i = 0; i < n; i++) {
        unsigned ev = epoll_bits(w[i]), old = 0;
        for (j = 0; j < n_old && old_fd[j] != fds[i]; j++)
            ;
        if (j < n_old)
            old = old_ev[j];
        if (ev != old)
            ep_ctl(old == 0 ? EPOLL_CTL_ADD : ev == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD, fds[i],
                   ev, (uint32_t)k);
        c->reg_fd[i] = fds[i];
        c->reg_ev[i] = ev;
    }
    c->n_reg = n;
    t = sslsocket_timeout_ms(&c->s);
    if (t == 0 && !c->queued) {
        c->queued = 1;
        runq[nrunq++] = k;
    }
    if (t > 0)
        heap_set(k, now_ms() + t);
    else
        heap_del(k);
}

/* A socket leaves the loop (its descriptors are closed: state UNCONNECTED). */
static void
unwatch(int k)
{
    conns[k].n_reg = 0;
    heap_del(k);
}

/* One turn of the loop: wait at most `max_ms` (-1: no limit but the
   deadlines), then service every socket that has something to do.
   `service(k)` polls socket k and calls watch(k) or unwatch(k); `other(tag)`
   handles descriptors the caller registered with tags >= TAG_CONTROL. */
static void
loop_once(int max_ms, void (*service)(int k), void (*other)(uint32_t tag))
{
    struct epoll_event evs[256];
    int timeout = max_ms, n, i, m;
    if (nrunq > 0) {
        timeout = 0;
    } else if (nheap > 0) {
        int64_t d = conns[heap[0]].deadline - now_ms();
        if (d < 0)
            d = 0;
        if (timeout < 0 || d < timeout)
            timeout = (int)d;
    }
    n = epoll_wait(ep, evs, 256, timeout);
    loopst.wakeups++;
    for (i = 0; i < n; i++) {
        uint32_t k = evs[i].data.u32;
        loopst.events++;
        if (k >= TAG_CONTROL)
            other(k);
        else
            service((int)k);
    }
    if (nheap > 0) {
        int64_t now = now_ms();
        while (nheap > 0 && conns[heap[0]].deadline <= now) {
            int k = heap[0];
            heap_del(k);
            service(k);
        }
    }
    m = nrunq; /* those queued now; a service may queue again (next turn) */
    for (i = 0; i < m; i++) {
        int k = runq[i];
        conns[k].queued = 0;
        service(k);
    }
    memmove(runq, runq + m, (size_t)(nrunq - m) * sizeof *runq);
    nrunq -= m;
}

static void
loop_init(int n)
{
    int i;
    conns = (conn *)calloc((size_t)n, sizeof(conn));
    heap = (int *)calloc((size_t)n, sizeof(int));
    runq = (int *)calloc((size_t)n, sizeof(int));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || heap == NULL || runq == NULL || ep < 0)
        bench_die("out of memory");
    for (i = 0; i < n; i++)
        conns[i].heap_pos = -1;
}

/* Poll socket k; poll it again at once after the handler wrote (the write
   went into the engine as a record: the next poll sends it, without a trip
   through epoll for EPOLLOUT) and while it reports work that needs no
   descriptor.  `handle` sees each poll's event bits and returns non-zero
   when it wrote. */
static void
poll_socket(int k, int (*handle)(conn *c, unsigned ev))
{
    conn *c = &conns[k];
    int round = 0, wrote;
    do {
        unsigned ev = sslsocket_poll(&c->s);
        loopst.polls++;
        wrote = handle(c, ev);
    } while (++round < 4 && sslsocket_state(&c->s) != SSLSOCKET_UNCONNECTED
             && (wrote || sslsocket_timeout_ms(&c->s) == 0));
}

/* Raise RLIMIT_NOFILE so that n descriptors fit (the hard limit too, when
   allowed: root).  Returns 0, or -1 when they cannot. */
static int
fit_fds(long n)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= (rlim_t)n)
        return 0;
    if (rl.rlim_max < (rlim_t)n)
        rl.rlim_max = (rlim_t)n;
    rl.rlim_cur = (rlim_t)n;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur >= (rlim_t)n ? 0 : -1;
}

static double
cpu_of(const struct rusage *ru, int sys)
{
    const struct timeval *tv = sys ? &ru->ru_stime : &ru->ru_utime;
    return (double)tv->tv_sec + (double)tv->tv_usec * 1e-6;
}

/* ======================================================================
 * The server: accept, handshake, echo
 * ====================================================================== */

static unsigned char sstore[64 * 1024];
static sslsocket_config scfg;
static sslsocket listener;
static int *free_slots, n_free, listening = 1;
static struct {
    long accepted, encrypted, closed, failed;
    long long echoed;
} sstat;

static int
server_handle(conn *c, unsigned ev)
{
    static unsigned char buf[SSLSOCKET_WRITE_BUFFER_SIZE];
    ptrdiff_t n, w;
    int wrote = 0;
    if (ev & SSLSOCKET_EV_ENCRYPTED)
        sstat.encrypted++;
    /* echo: what the write queue takes now; the rest stays buffered in
       the socket until BYTES_WRITTEN makes room */
    while ((n = sslsocket_peek(&c->s, buf, sizeof buf)) > 0) {
        w = sslsocket_write(&c->s, buf, (size_t)n);
        if (w <= 0)
            break;
        sslsocket_read(&c->s, buf, (size_t)w);
        sstat.echoed += w;
        c->got += (size_t)w;
        wrote = 1;
    }
    return wrote;
}

static void
server_service(int k)
{
    conn *c = &conns[k];
    if (!c->used)
        return; /* closed earlier in this turn */
    poll_socket(k, server_handle);
    if (sslsocket_state(&c->s) != SSLSOCKET_UNCONNECTED) {
        watch(k);
        return;
    }
    /* The clients never close first while the run lasts: any end is a
       failure, except the clients leaving after the final count. */
    sstat.closed++;
    if (c->got < MSG || sslsocket_error(&c->s) != SSLSOCKET_ERR_REMOTE_HOST_CLOSED) {
        if (sstat.failed++ < 5)
            fprintf(stderr, "scale server: connection %d failed: %s\n", k,
                    sslsocket_error_string(&c->s));
    }
    unwatch(k);
    c->used = 0;
    free_slots[n_free++] = k;
    if (!listening) { /* room again */
        ep_ctl(EPOLL_CTL_ADD, sslsocket_fd(&listener), EPOLLIN, TAG_LISTENER);
        listening = 1;
    }
}

static void
server_accept(void)
{
    while (n_free > 0) {
        int k = free_slots[n_free - 1];
        conn *c = &conns[k];
        sslsocket_init(&c->s, &scfg);
        if (sslsocket_accept(&listener, &c->s) != 1)
            return; /* none waiting (or EMFILE: the listener stays usable) */
        n_free--;
        sstat.accepted++;
        c->used = 1;
        c->got = 0;
        c->n_reg = 0;
        sslsocket_start_server_encryption(&c->s);
        server_service(k);
    }
    /* every slot taken: stop watching the listener (level-triggered, it
       would wake the loop for nothing) until one is free */
    epoll_ctl(ep, EPOLL_CTL_DEL, sslsocket_fd(&listener), NULL);
    listening = 0;
}

static int server_done;

static void
server_other(uint32_t tag)
{
    static char line[256];
    static size_t len;
    ssize_t r;
    char *nl;
    if (tag == TAG_LISTENER) {
        server_accept();
        return;
    }
    r = read(0, line + len, sizeof line - 1 - len);
    if (r <= 0) {
        server_done = 1;
        return;
    }
    len += (size_t)r;
    line[len] = 0;
    while ((nl = strchr(line, '\n')) != NULL) {
        *nl = 0;
        if (strcmp(line, "stats") == 0) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            printf("stats open %ld accepted %ld encrypted %ld closed %ld failed %ld "
                   "cpu_user %.6f cpu_sys %.6f polls %ld events %ld wakeups %ld echoed %lld "
                   "maxrss_kb %ld\n",
                   sstat.accepted - sstat.closed, sstat.accepted, sstat.encrypted, sstat.closed,
                   sstat.failed, cpu_of(&ru, 0), cpu_of(&ru, 1), loopst.polls, loopst.events,
                   loopst.wakeups, sstat.echoed, ru.ru_maxrss);
            fflush(stdout);
        }
        len -= (size_t)(nl + 1 - line);
        memmove(line, nl + 1, len + 1);
    }
    if (len == sizeof line - 1)
        len = 0; /* an overlong line: drop it */
}

static int
server_main(int n)
{
    int i;
    if (fit_fds(n + 64) != 0)
        bench_die("server: cannot raise the descriptor limit to %d", n + 64);
    loop_init(n);
    free_slots = (int *)calloc((size_t)n, sizeof(int));
    for (i = n - 1; i >= 0; i--)
        free_slots[n_free++] = i;
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    if (sslsocket_config_set_certificate_file(&scfg, bench_cert("ec.pem"), bench_cert("ec.key")))
        bench_die("server cert: %s", sslsocket_config_error_string(&scfg));
    if (sslsocket_config_set_versions(&scfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0)
        bench_die("server versions: %s", sslsocket_config_error_string(&scfg));
    /* this benchmark measures the loop: the first of 10,000 connections
       wait longer than the idle release time (10 s) for their echoes, and
       faulting their record buffers back in would be counted as loop cost
       (the memory benchmark measures the release) */
    sslsocket_config_set_idle_release(&scfg, 0);
    sslsocket_init(&listener, &scfg);
    if (sslsocket_listen(&listener, "127.0.0.1", 0, 0) != 0)
        bench_die("listen: %s", sslsocket_error_string(&listener));
    ep_ctl(EPOLL_CTL_ADD, sslsocket_fd(&listener), EPOLLIN, TAG_LISTENER);
    ep_ctl(EPOLL_CTL_ADD, 0, EPOLLIN, TAG_CONTROL); /* stdin: commands, EOF ends */
    printf("port %u\n", sslsocket_local_port(&listener));
    fflush(stdout);
    while (!server_done)
        loop_once(-1, server_service, server_other);
    for (i = 0; i < n; i++)
        if (conns[i].used)
            sslsocket_abort(&conns[i].s);
    sslsocket_abort(&listener);
    return 0;
}

/* ======================================================================
 * A client process
 * ====================================================================== */

enum { C_FREE, C_HANDSHAKE, C_FIRST_ECHO, C_IDLE, C_ECHO, C_FAILED };

static unsigned char cstore[64 * 1024];
static sslsocket_config ccfg;
static struct {
    long started, open, failed, in_progress, rt_done, rt_busy;
} cst;
static double *lat_ms;
static int *lat_step, cur_step;
static char cipher_name[64];

static unsigned char
payload(const conn *c, size_t i)
{
    return (unsigned char)((size_t)(c - conns) * 31u + c->seq * 7u + i);
}

static int
send_msg(conn *c)
{
    unsigned char buf[MSG];
    size_t i;
    for (i = 0; i < MSG; i++)
        buf[i] = payload(c, i);
    c->got = 0;
    if (sslsocket_write(&c->s, buf, MSG) != MSG)
        bench_die("client: write queue too small for %d bytes", MSG);
    return 1;
}

static void
client_fail(conn *c, const char *why)
{
    if (c->phase == C_FAILED)
        return;
    if (cst.failed++ < 5)
        fprintf(stderr, "scale client: connection %ld failed: %s\n", (long)(c - conns), why);
    if (c->phase == C_HANDSHAKE || c->phase == C_FIRST_ECHO)
        cst.in_progress--;
    else if (c->phase == C_IDLE || c->phase == C_ECHO)
        cst.open--;
    if (c->phase == C_ECHO)
        cst.rt_busy--;
    c->phase = C_FAILED;
    sslsocket_abort(&c->s);
}

static int
client_handle(conn *c, unsigned ev)
{
    unsigned char buf[MSG];
    ptrdiff_t n;
    int wrote = 0;
    (void)ev;
    if (c->phase == C_HANDSHAKE && sslsocket_is_encrypted(&c->s)) {
        int k = (int)(c - conns);
        lat_ms[k] = (bench_now() - c->t_start) * 1000;
        lat_step[k] = cur_step;
        if (cipher_name[0] == 0)
            snprintf(cipher_name, sizeof cipher_name, "%s", sslsocket_cipher(&c->s));
        c->phase = C_FIRST_ECHO;
        wrote = send_msg(c);
    }
    while ((c->phase == C_FIRST_ECHO || c->phase == C_ECHO)
           && (n = sslsocket_read(&c->s, buf, MSG - c->got)) > 0) {
        ptrdiff_t i;
        for (i = 0; i < n; i++)
            if (buf[i] != payload(c, c->got + (size_t)i)) {
                client_fail(c, "echo differs from what was sent");
                return 0;
            }
        c->got += (size_t)n;
        if (c->got == MSG) {
            if (c->phase == C_FIRST_ECHO) {
                cst.in_progress--;
                cst.open++;
            } else {
                cst.rt_done++;
                cst.rt_busy--;
            }
            c->phase = C_IDLE;
            c->seq++;
        }
    }
    if (sslsocket_bytes_available(&c->s) > 0 && c->phase == C_IDLE)
        client_fail(c, "the server sent more than was asked");
    return wrote;
}

static void
client_service(int k)
{
    conn *c = &conns[k];
    if (c->phase == C_FREE || c->phase == C_FAILED)
        return;
    poll_socket(k, client_handle);
    if (c->phase == C_FAILED) {
        unwatch(k);
    } else if (sslsocket_state(&c->s) == SSLSOCKET_UNCONNECTED) {
        client_fail(c, sslsocket_error_string(&c->s));
        unwatch(k);
    } else {
        watch(k);
    }
}

static void
client_no_other(uint32_t tag)
{
    (void)tag;
}

static void
client_open(int k, unsigned port)
{
    conn *c = &conns[k];
    sslsocket_init(&c->s, &ccfg);
    sslsocket_set_peer_verify_name(&c->s, "localhost");
    c->phase = C_HANDSHAKE;
    c->seq = 0;
    c->n_reg = 0;
    cst.started++;
    cst.in_progress++;
    c->t_start = bench_now();
    if (sslsocket_connect_encrypted(&c->s, "127.0.0.1", port, SSLSOCKET_READ_WRITE) != 0) {
        client_fail(c, sslsocket_error_string(&c->s));
        return;
    }
    client_service(k);
}

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;

static unsigned long
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned long)(rng_state >> 11);
}

static int
client_main(unsigned port, int n)
{
    char line[128];
    int window = getenv("SCALE_WINDOW") ? atoi(getenv("SCALE_WINDOW")) : 32;
    if (window < 1)
        window = 1;
    if (fit_fds(n + 64) != 0)
        bench_die("client: cannot raise the descriptor limit to %d", n + 64);
    loop_init(n);
    lat_ms = (double *)calloc((size_t)n, sizeof(double));
    lat_step = (int *)calloc((size_t)n, sizeof(int));
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    if (sslsocket_config_add_ca_file(&ccfg, bench_cert("ca.pem")) != 1)
        bench_die("client CA: %s", sslsocket_config_error_string(&ccfg));
    sslsocket_config_set_client_sessions(&ccfg, 0); /* full handshakes, every one */
    /* TLS 1.2, as the report says (the library's server has nothing newer) */
    if (sslsocket_config_set_versions(&ccfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0)
        bench_die("client versions: %s", sslsocket_config_error_string(&ccfg));
    while (fgets(line, sizeof line, stdin) != NULL) {
        long target, set = 0;
        struct rusage ru;
        double t0 = bench_now();
        int w = window;
        if (sscanf(line, "open %ld %d", &target, &w) >= 1) {
            if (target > n)
                target = n;
            if (w < 1)
                w = 1;
            cur_step++;
            /* bounded: a connection still in progress after 90 s has failed */
            while (cst.open + cst.failed < target && bench_now() - t0 < 90) {
                while (cst.in_progress < w && cst.started < target)
                    client_open((int)cst.started, port);
                loop_once(100, client_service, client_no_other);
            }
            while (cst.in_progress > 0) { /* timed out: count them */
                int k;
                for (k = 0; k < cst.started; k++)
                    if (conns[k].phase == C_HANDSHAKE || conns[k].phase == C_FIRST_ECHO)
                        client_fail(&conns[k], "no handshake and echo within 90 s");
            }
            getrusage(RUSAGE_SELF, &ru);
            printf("opened open %ld failed %ld seconds %.3f cpu %.6f cipher %s\n", cst.open,
                   cst.failed, bench_now() - t0, cpu_of(&ru, 0) + cpu_of(&ru, 1),
                   cipher_name[0] ? cipher_name : "-");
        } else if (sscanf(line, "echo %ld %ld", &target, &set) >= 1) {
            long goal = cst.rt_done + target, asked = 0, misses = 0;
            if (set <= 0 || set > cst.started)
                set = cst.started; /* the first `set` connections: the active set */
            while (cst.rt_done < goal && bench_now() - t0 < 60 && set > 0) {
                while (cst.rt_busy < CLIENT_RT_PAR && asked < target && misses < 1000) {
                    int k = (int)(rng() % (unsigned long)set);
                    conn *c = &conns[k];
                    if (c->phase != C_IDLE) {
                        misses++; /* busy or failed: pick again */
                        continue;
                    }
                    misses = 0;
                    c->phase = C_ECHO;
                    cst.rt_busy++;
                    asked++;
                    send_msg(c);
                    client_service(k);
                }
                misses = 0;
                loop_once(100, client_service, client_no_other);
            }
            getrusage(RUSAGE_SELF, &ru);
            printf("echoed %ld failed %ld seconds %.3f cpu %.6f\n", target - (goal - cst.rt_done),
                   cst.failed, bench_now() - t0, cpu_of(&ru, 0) + cpu_of(&ru, 1));
        } else if (strncmp(line, "lat", 3) == 0) {
            int k;
            for (k = 0; k < cst.started; k++)
                if (lat_step[k] > 0)
                    printf("lat %d %.3f\n", lat_step[k], lat_ms[k]);
            printf("end\n");
        }
        fflush(stdout);
    }
    return 0;
}

/* ======================================================================
 * The report: drives one server and the client processes
 * ====================================================================== */

typedef struct child {
    pid_t pid;
    int in, out;             /* its stdin (we write), its stdout (we read) */
    char buf[8192];
    size_t len;
} child;

static child *
spawn(const char *self, const char *a1, const char *a2, const char *a3)
{
    child *ch = (child *)calloc(1, sizeof(child));
    int to[2], from[2];
    pid_t parent = getpid();
    if (ch == NULL || pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
        bench_die("pipe");
    ch->pid = fork();
    if (ch->pid < 0)
        bench_die("fork");
    if (ch->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the report */
        if (getppid() != parent)
            _exit(1);
        dup2(to[0], 0);
        dup2(from[1], 1);
        execl(self, self, a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    ch->in = to[1];
    ch->out = from[0];
    return ch;
}

static void
child_say(child *ch, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (write(ch->in, line, (size_t)n) != n)
        bench_die("a child process is gone");
}

/* Next line from the child into `line`, waiting until `deadline`
   (bench_now() seconds).  Dies on timeout or EOF. */
static void
child_line(child *ch, char *line, size_t size, double deadline)
{
    for (;;) {
        char *nl = (char *)memchr(ch->buf, '\n', ch->len);
        struct pollfd p;
        ssize_t r;
        int ms;
        if (nl != NULL) {
            size_t n = (size_t)(nl - ch->buf);
            snprintf(line, size, "%.*s", (int)n, ch->buf);
            ch->len -= n + 1;
            memmove(ch->buf, nl + 1, ch->len);
            return;
        }
        if (ch->len == sizeof ch->buf)
            bench_die("a child process wrote an overlong line");
        ms = (int)((deadline - bench_now()) * 1000);
        if (ms <= 0)
            bench_die("scale: a child process did not answer in time (pid %d)", (int)ch->pid);
        p.fd = ch->out;
        p.events = POLLIN;
        if (poll(&p, 1, ms) <= 0)
            continue;
        r = read(ch->out, ch->buf + ch->len, sizeof ch->buf - ch->len);
        if (r <= 0)
            bench_die("scale: a child process ended early (pid %d)", (int)ch->pid);
        ch->len += (size_t)r;
    }
}

/* Close the child's stdin and wait (bounded) for it to exit. */
static int
child_end(child *ch, double secs)
{
    double deadline = bench_now() + secs;
    int status = -1;
    close(ch->in);
    for (;;) { /* its stdout closes when it exits */
        struct pollfd p;
        char b[4096];
        int ms = (int)((deadline - bench_now()) * 1000);
        p.fd = ch->out;
        p.events = POLLIN;
        if (ms <= 0 || poll(&p, 1, ms) <= 0) {
            kill(ch->pid, SIGKILL);
            break;
        }
        if (read(ch->out, b, sizeof b) <= 0)
            break;
    }
    waitpid(ch->pid, &status, 0);
    close(ch->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

typedef struct sstats {
    double open, accepted, failed, cpu_user, cpu_sys, polls, events, wakeups, maxrss_kb;
} sstats;

static sstats
server_stats(child *srv)
{
    char line[512];
    sstats s;
    memset(&s, 0, sizeof s);
    child_say(srv, "stats\n");
    child_line(srv, line, sizeof line, bench_now() + 30);
    if (sscanf(line, "stats open %lf accepted %lf encrypted %*f closed %*f failed %lf "
                     "cpu_user %lf cpu_sys %lf polls %lf events %lf wakeups %lf echoed %*f "
                     "maxrss_kb %lf",
               &s.open, &s.accepted, &s.failed, &s.cpu_user, &s.cpu_sys, &s.polls, &s.events,
               &s.wakeups, &s.maxrss_kb) != 9)
        bench_die("server said: %s", line);
    return s;
}

static double
pct(const double *sorted, long n, double p)
{
    long i;
    if (n <= 0)
        return -1;
    i = (long)(p * (double)n + 0.999999) - 1;
    if (i < 0)
        i = 0;
    if (i >= n)
        i = n - 1;
    return sorted[i];
}

typedef struct echo_result {
    double us, polls, events, wakeups, client_us, rate;
    long done;
} echo_result;

/* `rts` echo round trips shared by the clients, on random connections among
   the first `set` of each (0: all); the server's CPU time and counters per
   round trip.  `client_cpu` holds the clients' summed CPU time before and
   gets it after.  Returns 0, or -1 if round trips were missing. */
static int
echo_run(child *srv, child **cl, long *cl_failed, int nclients, long rts, long set,
         double *client_cpu, echo_result *r)
{
    char line[512];
    double t0 = bench_now(), cpu_after = 0, n;
    long want = rts / nclients * nclients;
    sstats a = server_stats(srv), b;
    int i;
    r->done = 0;
    for (i = 0; i < nclients; i++)
        child_say(cl[i], "echo %ld %ld\n", rts / nclients, set > 0 ? set / nclients : 0);
    for (i = 0; i < nclients; i++) {
        long got;
        double secs, cpu;
        child_line(cl[i], line, sizeof line, t0 + 70);
        if (sscanf(line, "echoed %ld failed %ld seconds %lf cpu %lf", &got, &cl_failed[i], &secs,
                   &cpu) != 4)
            bench_die("client said: %s", line);
        r->done += got;
        cpu_after += cpu;
    }
    b = server_stats(srv);
    n = r->done > 0 ? (double)r->done : 1;
    r->us = ((b.cpu_user + b.cpu_sys) - (a.cpu_user + a.cpu_sys)) * 1e6 / n;
    r->polls = (b.polls - a.polls) / n;
    r->events = (b.events - a.events) / n;
    r->wakeups = (b.wakeups - a.wakeups) / n;
    r->client_us = (cpu_after - *client_cpu) * 1e6 / n;
    r->rate = (double)r->done / (bench_now() - t0);
    *client_cpu = cpu_after;
    if (r->done != want) {
        fprintf(stderr, "scale: only %ld of %ld echo round trips done\n", r->done, want);
        return -1;
    }
    return 0;
}

static int
cmp_echo_us(const void *a, const void *b)
{
    double x = ((const echo_result *)a)->us, y = ((const echo_result *)b)->us;
    return x < y ? -1 : x > y;
}

#define STEPS 3
#define ROUNDS 3 /* interleaved rounds over the active sets, 10,000 open */

static int
report(const char *self)
{
    static const int full_levels[STEPS] = { 100, 1000, 10000 };
    static const int smoke_levels[STEPS] = { 20, 100, 200 };
    const int *levels = bench_smoke ? smoke_levels : full_levels;
    long rts = bench_smoke ? 2000 : 40000; /* echo round trips per step */
    int probe = bench_smoke ? 20 : 100;    /* one-at-a-time handshakes at the end */
    int nclients = getenv("SCALE_CLIENTS") ? atoi(getenv("SCALE_CLIENTS")) : 2;
    int window = getenv("SCALE_WINDOW") ? atoi(getenv("SCALE_WINDOW")) : 32;
    int top = levels[STEPS - 1], step, i, failed = 0, status = 0;
    child *srv, **cl;
    long *cl_failed;
    char line[512], narg[32], portarg[32], cipher[64] = "-";
    double t_begin = bench_now(), hs_wall = 0, hs_cpu = 0, hs_client_cpu = 0;
    double st_wall[STEPS], st_conns[STEPS], st_cpu[STEPS], st_ccpu[STEPS];
    echo_result ev[STEPS], act[STEPS][ROUNDS];
    double *lat[STEPS + 2], cpu_clients_prev = 0, probe_wall = 0, probe_cpu = 0;
    long nlat[STEPS + 2];
    sstats s0, s1, sfin;
    FILE *num;

    if (nclients < 1)
        nclients = 1;
    if (fit_fds(top + 64) != 0) /* inherited by the children */
        bench_die("cannot raise the descriptor limit (ulimit -n) to %d", top + 64);
    bench_make_certs();
    snprintf(narg, sizeof narg, "%d", top);
    snprintf(narg, sizeof narg, "%d", top + probe + 16);
    srv = spawn(self, "--server", narg, NULL);
    child_line(srv, line, sizeof line, bench_now() + 30);
    if (sscanf(line, "port %31s", portarg) != 1)
        bench_die("server said: %s", line);
    cl = (child **)calloc((size_t)nclients, sizeof *cl);
    cl_failed = (long *)calloc((size_t)nclients, sizeof(long));
    for (i = 0; i < nclients; i++) {
        snprintf(narg, sizeof narg, "%d", top / nclients + 1 + (i == 0 ? probe : 0));
        cl[i] = spawn(self, "--client", portarg, narg);
    }
    for (i = 0; i <= STEPS + 1; i++) {
        lat[i] = (double *)calloc((size_t)top + (size_t)probe + 1, sizeof(double));
        nlat[i] = 0;
    }

    for (step = 0; step < STEPS; step++) {
        int prev = step ? levels[step - 1] : 0;
        double t0, cpu_open = 0;
        long got_open = 0;
        s0 = server_stats(srv);
        t0 = bench_now();
        for (i = 0; i < nclients; i++) /* client i holds its share of the level */
            child_say(cl[i], "open %ld %d\n",
                      (long)levels[step] * (i + 1) / nclients - (long)levels[step] * i / nclients,
                      window);
        for (i = 0; i < nclients; i++) {
            long open;
            double secs, cpu;
            char ciph[64];
            child_line(cl[i], line, sizeof line, t0 + 100);
            if (sscanf(line, "opened open %ld failed %ld seconds %lf cpu %lf cipher %63s", &open,
                       &cl_failed[i], &secs, &cpu, ciph) != 5)
                bench_die("client said: %s", line);
            got_open += open;
            cpu_open += cpu; /* cumulative per client */
            if (strcmp(ciph, "-") != 0)
                snprintf(cipher, sizeof cipher, "%s", ciph);
        }
        st_wall[step] = bench_now() - t0;
        s1 = server_stats(srv);
        st_conns[step] = (double)(got_open - prev);
        st_cpu[step] = (s1.cpu_user + s1.cpu_sys) - (s0.cpu_user + s0.cpu_sys);
        st_ccpu[step] = cpu_open - cpu_clients_prev;
        cpu_clients_prev = cpu_open;
        hs_wall += st_wall[step];
        hs_cpu += st_cpu[step];
        hs_client_cpu += st_ccpu[step];
        printf("scale: %ld connections open (%.0f new in %.2f s, server %.0f us CPU each), "
               "server says %.0f open, %.0f failed\n",
               got_open, st_conns[step], st_wall[step],
               st_conns[step] > 0 ? st_cpu[step] * 1e6 / st_conns[step] : 0, s1.open, s1.failed);
        fflush(stdout);
        /* time per event: random echo round trips over what is open */
        if (echo_run(srv, cl, cl_failed, nclients, rts, 0, &cpu_clients_prev, &ev[step]) != 0)
            status = 1;
        printf("scale: %ld round trips at %d open: server %.1f us CPU each (%.2f polls, %.2f "
               "epoll events)\n",
               ev[step].done, levels[step], ev[step].us, ev[step].polls, ev[step].events);
        fflush(stdout);
    }
    /* Everything open: round trips over the first 100, 1,000 and all
       connections in turn, ROUNDS times, interleaved so that a change in
       the machine's load hits every set alike; the median of each. */
    for (i = 0; i < ROUNDS; i++) {
        for (step = 0; step < STEPS; step++)
            if (echo_run(srv, cl, cl_failed, nclients, rts / 2, levels[step], &cpu_clients_prev,
                         &act[step][i]) != 0)
                status = 1;
    }
    for (step = 0; step < STEPS; step++) {
        qsort(act[step], ROUNDS, sizeof(echo_result), cmp_echo_us);
        printf("scale: %d open, active set %d: server %.1f us CPU per round trip (median of %d)\n",
               top, levels[step], act[step][ROUNDS / 2].us, ROUNDS);
    }
    sfin = server_stats(srv);
    /* latency without queueing: one handshake at a time, all the others open */
    {
        long open, target = (long)levels[STEPS - 1] / nclients + probe;
        double t0 = bench_now(), secs, cpu;
        char ciph[64];
        sstats sp;
        child_say(cl[0], "open %ld 1\n", target);
        child_line(cl[0], line, sizeof line, t0 + 100);
        if (sscanf(line, "opened open %ld failed %ld seconds %lf cpu %lf cipher %63s", &open,
                   &cl_failed[0], &secs, &cpu, ciph) != 5)
            bench_die("client said: %s", line);
        probe_wall = bench_now() - t0;
        sp = server_stats(srv);
        probe_cpu = (sp.cpu_user + sp.cpu_sys) - (sfin.cpu_user + sfin.cpu_sys);
        if (sp.open != top + probe || sp.failed > 0)
            status = 1;
    }
    failed = 0;
    for (i = 0; i < nclients; i++) {
        failed += (int)cl_failed[i]; /* cumulative per client */
        child_say(cl[i], "lat\n");
        for (;;) {
            int st;
            double ms;
            child_line(cl[i], line, sizeof line, bench_now() + 30);
            if (strcmp(line, "end") == 0)
                break;
            if (sscanf(line, "lat %d %lf", &st, &ms) == 2 && st >= 1 && st <= STEPS) {
                lat[st - 1][nlat[st - 1]++] = ms;
                lat[STEPS][nlat[STEPS]++] = ms;
            } else if (st == STEPS + 1) {
                lat[STEPS + 1][nlat[STEPS + 1]++] = ms;
            }
        }
    }
    for (i = 0; i < nclients; i++)
        if (child_end(cl[i], 30) != 0)
            status = 1;
    if (child_end(srv, 30) != 0)
        status = 1;
    for (i = 0; i <= STEPS + 1; i++)
        qsort(lat[i], (size_t)nlat[i], sizeof(double), bench_cmp_double);

    {
        double conns = sfin.open, sfailed = sfin.failed, total_failed = failed + sfailed;
        double cps = hs_wall > 0 ? (double)top / hs_wall : 0;
        double cpu_conn = hs_cpu * 1e6 / top;
        double ratio = ev[0].us > 0 ? ev[STEPS - 1].us / ev[0].us : -1;
        const echo_result *a0 = &act[0][ROUNDS / 2], *aN = &act[STEPS - 1][ROUNDS / 2];
        double act_ratio = a0->us > 0 ? aN->us / a0->us : -1;
        double open_ratio = ev[0].us > 0 ? a0->us / ev[0].us : -1;
        if (conns != top || total_failed > 0 || nlat[STEPS] != top)
            status = 1;
        num = fopen(bench_path("scale.txt"), "w");
        bench_md_open("scale.md");
        bench_out("## 6. Scale: %s connections, one thread, epoll\n\n", bench_smoke ? "200 (smoke)" : "10,000");
        bench_out("`tests/bench/scale.c`: a single-threaded epoll server on the library (level-triggered "
                  "registration from `sslsocket_fds()`/`sslsocket_wants()`, a timer heap fed by "
                  "`sslsocket_timeout_ms()`, a run queue for sockets with work that needs no "
                  "descriptor; it doubles as the epoll integration example). %d client processes "
                  "(the library, same defaults, chain and host name verified) open connections in "
                  "three steps until %d are open at once: each does a full ECDHE-ECDSA handshake "
                  "(P-256 certificate, %s) and a %d-byte echo, then stays open; at most %d handshakes "
                  "in progress per client process. After each step, %ld echo round trips of %d bytes "
                  "on random open connections (%d in flight per client) measure the server's CPU "
                  "time per event. Server and clients share the machine's 2 cores, so connections/s "
                  "is the whole system's; CPU figures are the server process's own (getrusage). "
                  "`ulimit -n` is raised by the program.\n\n",
                  nclients, top, cipher, MSG, window, rts, MSG, CLIENT_RT_PAR);
        bench_out("| step: open at once | new connections | took | connections/s | server CPU / connection | "
                  "client CPU / connection | handshake p50 | handshake p99 |\n"
                  "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (step = 0; step < STEPS; step++)
            bench_out("| %d | %.0f | %.2f s | %.0f | %.0f us | %.0f us | %.1f ms | %.1f ms |\n",
                      levels[step], st_conns[step], st_wall[step],
                      st_wall[step] > 0 ? st_conns[step] / st_wall[step] : 0,
                      st_conns[step] > 0 ? st_cpu[step] * 1e6 / st_conns[step] : 0,
                      st_conns[step] > 0 ? st_ccpu[step] * 1e6 / st_conns[step] : 0,
                      pct(lat[step], nlat[step], 0.50), pct(lat[step], nlat[step], 0.99));
        bench_out("| **all** | **%d** | %.2f s | **%.0f** | **%.0f us** | %.0f us | **%.1f ms** | **%.1f ms** |\n\n",
                  top, hs_wall, cps, cpu_conn, hs_client_cpu * 1e6 / top,
                  pct(lat[STEPS], nlat[STEPS], 0.50), pct(lat[STEPS], nlat[STEPS], 0.99));
        bench_out("Without queueing: %d more handshakes one at a time (one client, %d connections "
                  "open): p50 **%.1f ms**, p99 %.1f ms, %.0f connections/s, server %.0f us CPU "
                  "each.\n\n",
                  probe, top, pct(lat[STEPS + 1], nlat[STEPS + 1], 0.50),
                  pct(lat[STEPS + 1], nlat[STEPS + 1], 0.99), probe / probe_wall,
                  probe_cpu * 1e6 / probe);
        bench_out("Open at the peak (server's count): %.0f of %d; failed connections: %.0f "
                  "(server %.0f, clients %d)%s. Server peak RSS %.0f MiB.\n\n",
                  conns, top, total_failed, sfailed, failed,
                  total_failed == 0 && conns == top ? " — **zero failures**" : " — **FAILURES**",
                  sfin.maxrss_kb / 1024);
        bench_out("Time per event: server CPU per %d-byte echo round trip (one request record in, one "
                  "response record out, %ld round trips on random connections, %d in flight per client), "
                  "after each step with every open connection eligible:\n\n", MSG, rts, CLIENT_RT_PAR);
        bench_out("| connections open | round trips/s | server CPU / round trip | "
                  "sslsocket_poll calls / round trip | epoll events / round trip | epoll_wait calls / round trip | "
                  "client CPU / round trip | server vs %d open |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                  levels[0]);
        for (step = 0; step < STEPS; step++)
            bench_out("| %d | %.0f | **%.2f us** | %.2f | %.2f | %.2f | %.2f us | %.2f |\n",
                      levels[step], ev[step].rate, ev[step].us, ev[step].polls,
                      ev[step].events, ev[step].wakeups, ev[step].client_us,
                      ev[0].us > 0 ? ev[step].us / ev[0].us : 0);
        bench_out("\nThen, with all %d open, the same round trips (%ld each) on an active set of the first "
                  "%d, %d and %d connections in turn, %d rounds interleaved so that a change in the "
                  "machine's load hits every set alike (median round shown):\n\n"
                  "| open | active set | server CPU / round trip | polls / round trip | "
                  "epoll events / round trip | vs active %d |\n|---:|---:|---:|---:|---:|---:|\n",
                  top, rts / 2, levels[0], levels[1], levels[2], ROUNDS, levels[0]);
        for (step = 0; step < STEPS; step++) {
            const echo_result *r = &act[step][ROUNDS / 2];
            bench_out("| %d | %d | %.2f us | %.2f | %.2f | %.2f |\n", top, levels[step], r->us,
                      r->polls, r->events, a0->us > 0 ? r->us / a0->us : 0);
        }
        bench_out("\nTime per event at %d / at %d open (after each step): **%.2f**. With %d open and "
                  "only %d of them active, an event costs %.2f x what it cost with %d open%s. Active "
                  "set %d / %d with %d open (interleaved, the steadier figure): **%.2f**: what grows "
                  "with the active set is the cost of touching cold memory, %zu bytes per socket in "
                  "user space and twice as many TCP sockets in the kernel (the loopback TCP of both "
                  "ends runs in the sender's context and counts as the server's system time). Nothing "
                  "in the loop or the library walks the whole set: polls and epoll events per round "
                  "trip are the same at every size. CPU times on this shared 2-core machine vary by "
                  "10-20%% or more from run to run with the other jobs' load.\n\n",
                  levels[STEPS - 1], levels[0], ratio, top, levels[0], open_ratio, levels[0],
                  open_ratio < 1.2 ? ": idle sockets add nothing measurable per event" : "",
                  levels[STEPS - 1], levels[0], top, act_ratio, sizeof(sslsocket));
        bench_result_put(num, "scale_conns", conns);
        bench_result_put(num, "scale_failed", total_failed);
        bench_result_put(num, "scale_conn_per_s", cps);
        bench_result_put(num, "scale_hs_p50_ms", pct(lat[STEPS], nlat[STEPS], 0.50));
        bench_result_put(num, "scale_hs_p99_ms", pct(lat[STEPS], nlat[STEPS], 0.99));
        bench_result_put(num, "scale_cpu_us_per_conn", cpu_conn);
        bench_result_put(num, "scale_hs1_p50_ms", pct(lat[STEPS + 1], nlat[STEPS + 1], 0.50));
        bench_result_put(num, "scale_hs1_p99_ms", pct(lat[STEPS + 1], nlat[STEPS + 1], 0.99));
        for (step = 0; step < STEPS; step++) {
            char key[64];
            snprintf(key, sizeof key, "scale_event_us_%d", levels[step]);
            bench_result_put(num, key, ev[step].us);
            snprintf(key, sizeof key, "scale_event_active_us_%d", levels[step]);
            bench_result_put(num, key, act[step][ROUNDS / 2].us);
        }
        bench_result_put(num, "scale_event_ratio", ratio);
        bench_result_put(num, "scale_event_open_ratio", open_ratio);
        bench_result_put(num, "scale_event_active_ratio", act_ratio);
        bench_result_put(num, "scale_seconds", bench_now() - t_begin);
        fclose(num);
        fclose(bench_md);
        bench_md = NULL;
    }
    printf("scale: %.1f s%s\n", bench_now() - t_begin, status ? " (FAILED)" : "");
    return status;
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 3 && strcmp(argv[1], "--server") == 0)
        return server_main(atoi(argv[2]) + 16);
    if (argc >= 4 && strcmp(argv[1], "--client") == 0)
        return client_main((unsigned)atoi(argv[2]), atoi(argv[3]));
    bench_args(argc, argv);
    alarm(bench_smoke ? 60 : 300); /* a hang ends the run (the children die with it) */
    return report(argv[0]);
}
