/* memory.c - benchmark 4: memory per socket.
 *
 * Built twice by bench.mk: `memory` with the default sizes and
 * `memory_small` with the small profile (bench.mk BENCH_SMALL)
 *
 *     memory [--smoke]            the report: sizeof of every public struct in
 *                                 both builds, then resident memory per idle
 *                                 connection with N connections (10,000 full,
 *                                 200 smoke) for a default and a small server
 *     memory --sizes              "key value" lines for this build
 *     memory --server N CLIENT    accept N TLS connections from `CLIENT
 *                                 --client PORT N` (a child process), print
 *                                 the server's VmRSS growth per connection
 *     memory --client PORT N      open N TLS connections, print own growth,
 *                                 stay until stdin closes
 *
 * The sockets live in one calloc'ed array (the bench may allocate; the
 * library does not): pages a connection never touches are never faulted in,
 * so resident memory per idle connection can be below sizeof(sslsocket).
 */
#define SSLSOCKET_IMPLEMENTATION
#ifdef SSLSOCKET_BENCH_HEADER
#include SSLSOCKET_BENCH_HEADER /* a patched copy, to measure a proposed change */
#else
#include "../../sslsocket.h"
#endif
#include "bench_common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define TARGET_SOCKET_DEFAULT (48 * 1024)
#define TARGET_SOCKET_SMALL (24 * 1024)
#define TARGET_RSS (16 * 1024)

static int
small_build(void)
{
    return SSLSOCKET_IOBUF_SIZE < 33178;
}

/* VmRSS of this process in bytes. */
static long
rss_bytes(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

/* Raise the descriptor limit to n + 64 if the hard limit allows; returns
   how many connections fit. */
static int
fit_fds(int n)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < (rlim_t)n + 64)
        n = (int)rl.rlim_cur - 64;
    return n;
}

static void
print_sizes(void)
{
    printf("sslsocket %zu\n", sizeof(sslsocket));
    printf("sslsocket_config %zu\n", sizeof(sslsocket_config));
    printf("sslsocket_pipe %zu\n", sizeof(sslsocket_pipe));
    printf("sslsocket_cert_info %zu\n", sizeof(sslsocket_cert_info));
    printf("sslsocket_session %zu\n", sizeof(sslsocket_session));
    printf("part_iobuf %zu\n", sizeof(((sslsocket *)0)->iobuf));
    printf("part_engine %zu\n", sizeof(((sslsocket *)0)->ctx));
    printf("part_engine_client %zu\n", sizeof(br_ssl_client_context));
    printf("part_engine_server %zu\n", sizeof(br_ssl_server_context));
    printf("part_x509 %zu\n", sizeof(((sslsocket *)0)->x509));
    printf("part_rbuf %zu\n", sizeof(((sslsocket *)0)->rbuf));
    printf("part_wbuf %zu\n", sizeof(((sslsocket *)0)->wbuf));
    printf("part_peer %zu\n", sizeof(((sslsocket *)0)->peer));
    printf("part_resolver %zu\n", sizeof(((sslsocket *)0)->resolver));
    printf("part_session %zu\n", sizeof(((sslsocket *)0)->session));
}

/* ---- client process -------------------------------------------------------- */

static unsigned char cstore[64 * 1024];
static sslsocket_config ccfg;

static int
client_main(unsigned port, int n)
{
    sslsocket *socks = (sslsocket *)calloc((size_t)n, sizeof(sslsocket));
    sslsocket **inflight = (sslsocket **)calloc(256, sizeof(sslsocket *));
    int started = 0, done = 0, failed = 0, nin = 0, i;
    long base;
    double t0 = bench_now();
    char c;
    if (socks == NULL || inflight == NULL)
        bench_die("client: out of memory");
    n = fit_fds(n);
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    if (sslsocket_config_add_ca_file(&ccfg, bench_cert("ca.pem")) != 1)
        bench_die("client CA: %s", sslsocket_config_error_string(&ccfg));
    if (sslsocket_config_set_versions(&ccfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0)
        bench_die("client versions: %s", sslsocket_config_error_string(&ccfg));
    base = rss_bytes();
    while (done + failed < n && bench_now() - t0 < 600) {
        /* keep up to 64 handshakes in flight (the server's backlog is finite) */
        while (nin < 64 && started < n) {
            sslsocket *s = &socks[started++];
            sslsocket_init(s, &ccfg);
            sslsocket_set_peer_verify_name(s, "localhost");
            if (sslsocket_connect_encrypted(s, "127.0.0.1", port, SSLSOCKET_READ_WRITE) != 0)
                bench_die("client connect: %s", sslsocket_error_string(s));
            inflight[nin++] = s;
        }
        sslsocket_wait(inflight, (size_t)nin, 100);
        for (i = 0; i < nin; i++) {
            sslsocket *s = inflight[i];
            sslsocket_poll(s);
            if (sslsocket_is_encrypted(s) || sslsocket_state(s) == SSLSOCKET_UNCONNECTED) {
                if (sslsocket_is_encrypted(s)) {
                    done++;
                } else {
                    if (failed++ < 5)
                        fprintf(stderr, "client: connection failed: %s\n", sslsocket_error_string(s));
                }
                inflight[i--] = inflight[--nin];
            }
        }
    }
    printf("client_conns %d\nclient_failed %d\nclient_seconds %.3f\n", done, failed, bench_now() - t0);
    printf("client_rss_per_conn %.0f\n", done ? (double)(rss_bytes() - base) / done : 0.0);
    printf("ready\n");
    fflush(stdout);
    /* stay connected until the server has measured */
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}

/* Which parts of the sockets are resident: mincore() over the array, each
   resident page credited to the fields it overlaps.  Prints "res_FIELD
   bytes-per-connection" lines. */
typedef struct field {
    const char *name;
    size_t off, len;
} field;

#define FIELD(f) { #f, offsetof(sslsocket, f), sizeof(((sslsocket *)0)->f) }

static void
resident_fields(const sslsocket *conns, int n)
{
    static const field fields[] = {
        FIELD(resolver), FIELD(peer), FIELD(session), FIELD(rbuf), FIELD(wbuf),
        FIELD(x509), FIELD(sni), FIELD(ctx), FIELD(iobuf),
        { "whole socket", 0, sizeof(sslsocket) },
    };
    const size_t nf = sizeof fields / sizeof fields[0];
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)conns & ~(uintptr_t)(pg - 1);
    uintptr_t end = (uintptr_t)(conns + n);
    size_t npages = (end - start + (uintptr_t)pg - 1) / (uintptr_t)pg, f;
    unsigned char *vec = (unsigned char *)malloc(npages);
    double *bytes = (double *)calloc(nf, sizeof(double)), named = 0;
    int i;
    if (n <= 0 || vec == NULL || bytes == NULL || mincore((void *)start, end - start, vec) != 0) {
        printf("res_unavailable 0\n");
        return;
    }
    for (i = 0; i < n; i++) {
        uintptr_t base = (uintptr_t)&conns[i];
        for (f = 0; f < nf; f++) {
            uintptr_t a = base + fields[f].off, b = a + fields[f].len;
            while (a < b) {
                uintptr_t page_end = (a & ~(uintptr_t)(pg - 1)) + (uintptr_t)pg;
                uintptr_t stop = page_end < b ? page_end : b;
                if (vec[(a - start) / (uintptr_t)pg] & 1)
                    bytes[f] += (double)(stop - a);
                a = stop;
            }
        }
    }
    /* in struct order */
    for (f = 0; f + 1 < nf; f++) {
        size_t g, best = nf;
        for (g = 0; g + 1 < nf; g++)
            if (bytes[g] >= 0 && (best == nf || fields[g].off < fields[best].off))
                best = g;
        printf("res_%s %.0f\n", fields[best].name, bytes[best] / n);
        named += bytes[best];
        bytes[best] = -1;
    }
    printf("res_other(head_state) %.0f\n", (bytes[nf - 1] - named) / n);
    printf("res_whole_socket %.0f\n", bytes[nf - 1] / n);
    free(vec);
    free(bytes);
}

/* ---- server process -------------------------------------------------------- */

static unsigned char sstore[64 * 1024];
static sslsocket_config scfg;
static sslsocket listener;

static int
server_main(int n, const char *client_bin)
{
    sslsocket *conns;
    unsigned *wants;
    struct epoll_event *evs;
    int ep, accepted = 0, encrypted = 0, failed = 0, to_child[2], from_child[2], i;
    char portarg[16], narg[16], line[256];
    long base, after, after_idle;
    double t0, t_hs = 0, client_rss = -1;
    pid_t pid;
    FILE *cf;
    n = fit_fds(n);
    conns = (sslsocket *)calloc((size_t)n, sizeof(sslsocket));
    wants = (unsigned *)calloc((size_t)n, sizeof(unsigned));
    evs = (struct epoll_event *)calloc(256, sizeof *evs);
    if (conns == NULL || wants == NULL || evs == NULL)
        bench_die("server: out of memory");
    memset(wants, 0, (size_t)n * sizeof(unsigned)); /* resident before the baseline */
    memset(evs, 0, 256 * sizeof *evs);
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    if (sslsocket_config_set_certificate_file(&scfg, bench_cert("ec.pem"), bench_cert("ec.key")))
        bench_die("server cert: %s", sslsocket_config_error_string(&scfg));
    if (sslsocket_config_set_versions(&scfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0)
        bench_die("server versions: %s", sslsocket_config_error_string(&scfg));
    sslsocket_config_set_timeouts(&scfg, 0, 0, 120000, 0);
    sslsocket_config_set_idle_release(&scfg, 1000); /* (10 s by default) */
    sslsocket_init(&listener, &scfg);
    if (sslsocket_listen(&listener, "127.0.0.1", 0, 0) != 0)
        bench_die("listen: %s", sslsocket_error_string(&listener));
    ep = epoll_create1(EPOLL_CLOEXEC);
    {
        struct epoll_event e;
        e.events = EPOLLIN;
        e.data.u32 = 0xFFFFFFFFu;
        epoll_ctl(ep, EPOLL_CTL_ADD, sslsocket_fd(&listener), &e);
    }
    base = rss_bytes();
    /* the client, in its own process */
    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        bench_die("pipe");
    snprintf(portarg, sizeof portarg, "%u", sslsocket_local_port(&listener));
    snprintf(narg, sizeof narg, "%d", n);
    t0 = bench_now();
    pid = fork();
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[1]);
        close(from_child[0]);
        execl(client_bin, client_bin, "--client", portarg, narg, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    fcntl(from_child[0], F_SETFL, O_NONBLOCK);
    cf = fdopen(from_child[0], "r");
    while (bench_now() - t0 < 600) {
        int ne = epoll_wait(ep, evs, 256, 100);
        for (i = 0; i < ne; i++) {
            unsigned k = evs[i].data.u32;
            if (k == 0xFFFFFFFFu) {
                while (accepted < n) {
                    sslsocket *c = &conns[accepted];
                    struct epoll_event e;
                    sslsocket_init(c, &scfg);
                    if (sslsocket_accept(&listener, c) != 1)
                        break;
                    sslsocket_start_server_encryption(c);
                    e.events = EPOLLIN;
                    e.data.u32 = (unsigned)accepted;
                    wants[accepted] = SSLSOCKET_WANT_READ;
                    epoll_ctl(ep, EPOLL_CTL_ADD, sslsocket_fd(c), &e);
                    accepted++;
                }
                continue;
            }
            {
                sslsocket *c = &conns[k];
                int was = sslsocket_is_encrypted(c);
                unsigned w;
                if (sslsocket_state(c) == SSLSOCKET_UNCONNECTED)
                    continue;
                sslsocket_poll(c);
                if (!was && sslsocket_is_encrypted(c)) {
                    encrypted++;
                    if (encrypted == n)
                        t_hs = bench_now() - t0;
                }
                if (sslsocket_state(c) == SSLSOCKET_UNCONNECTED) {
                    if (failed++ < 5)
                        fprintf(stderr, "server: connection %u failed: %s\n", k,
                                sslsocket_error_string(c));
                    continue; /* closing the fd removed it from the set */
                }
                w = sslsocket_wants(c);
                if (w != wants[k]) {
                    struct epoll_event e;
                    e.events = ((w & SSLSOCKET_WANT_READ) ? EPOLLIN : 0)
                               | ((w & SSLSOCKET_WANT_WRITE) ? EPOLLOUT : 0);
                    e.data.u32 = k;
                    epoll_ctl(ep, EPOLL_CTL_MOD, sslsocket_fd(c), &e);
                    wants[k] = w;
                }
            }
        }
        /* the client reports when all its connections are up */
        while (fgets(line, sizeof line, cf) != NULL) {
            double v;
            if (sscanf(line, "client_rss_per_conn %lf", &v) == 1)
                client_rss = v;
            if (strncmp(line, "client_failed", 13) == 0 || strncmp(line, "client_conns", 12) == 0)
                fputs(line, stdout);
        }
        clearerr(cf);
        if (client_rss >= 0 && encrypted + failed >= accepted
            && (encrypted + failed >= n || waitpid(pid, NULL, WNOHANG) == pid))
            break;
    }
    after = rss_bytes();
    resident_fields(conns, encrypted == n ? n : accepted);
    /* the same connections once idle for the release time: the loop waits
       for the library's own timers (sslsocket_timeout_ms) and polls the
       sockets that are due, as an event loop does; idle record buffers go
       back to the kernel (sslsocket_config_set_idle_release) */
    for (;;) {
        int t = -1, due = 0;
        for (i = 0; i < accepted; i++) {
            int ti = sslsocket_timeout_ms(&conns[i]);
            if (ti == 0) {
                sslsocket_poll(&conns[i]);
                due++;
            } else if (ti > 0 && (t < 0 || ti < t)) {
                t = ti;
            }
        }
        if (t < 0 && due == 0)
            break;
        epoll_wait(ep, evs, 256, t < 0 ? 0 : t);
    }
    after_idle = rss_bytes();
    printf("server_conns %d\nserver_failed %d\nhandshake_seconds %.3f\n", encrypted, failed, t_hs);
    printf("server_rss_per_conn %.0f\nclient_rss_per_conn %.0f\n",
           encrypted ? (double)(after - base) / encrypted : 0.0, client_rss);
    printf("server_rss_idle_per_conn %.0f\n",
           encrypted ? (double)(after_idle - base) / encrypted : 0.0);
    printf("sizeof_sslsocket %zu\n", sizeof(sslsocket));
    fflush(stdout);
    close(to_child[1]);
    waitpid(pid, NULL, 0);
    for (i = 0; i < accepted; i++)
        sslsocket_abort(&conns[i]);
    sslsocket_abort(&listener);
    return encrypted == n && failed == 0 ? 0 : 1;
}

/* ---- the report ---------------------------------------------------------- */

typedef struct kv {
    char key[64];
    double v;
} kv;

static int
read_kv(const char *cmd, kv *out, int max)
{
    char line[256];
    int n = 0;
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return 0;
    while (n < max && fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %lf", out[n].key, &out[n].v) == 2)
            n++;
    pclose(p);
    return n;
}

static double
get_kv(const kv *a, int n, const char *key)
{
    int i;
    for (i = 0; i < n; i++)
        if (strcmp(a[i].key, key) == 0)
            return a[i].v;
    return -1;
}

static int
report(const char *self)
{
    char dir[512], cmd[1400], small[600], def[600];
    kv sd[32], ss[32], rd[48], rs[48];
    int nsd, nss, nrd, nrs, n = bench_smoke ? 200 : 10000, i;
    const char *slash = strrchr(self, '/');
    static const char *names[] = { "sslsocket", "sslsocket_config", "sslsocket_pipe",
                                   "sslsocket_cert_info", "sslsocket_session" };
    static const char *parts[] = { "part_iobuf", "part_engine", "part_x509", "part_rbuf",
                                   "part_wbuf", "part_peer", "part_resolver", "part_session" };
    FILE *num;
    double t0 = bench_now();
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - self) : 1, slash ? self : ".");
    snprintf(def, sizeof def, "%s/memory", dir);
    snprintf(small, sizeof small, "%s/memory_small", dir);
    bench_make_certs();
    snprintf(cmd, sizeof cmd, "'%s' --sizes", def);
    nsd = read_kv(cmd, sd, 32);
    snprintf(cmd, sizeof cmd, "'%s' --sizes", small);
    nss = read_kv(cmd, ss, 32);
    if (nsd == 0 || nss == 0)
        bench_die("cannot run %s / %s --sizes", def, small);
    n = fit_fds(n);
    snprintf(cmd, sizeof cmd, "'%s' --server %d '%s'", def, n, small);
    nrd = read_kv(cmd, rd, 48);
    snprintf(cmd, sizeof cmd, "'%s' --server %d '%s'", small, n, small);
    nrs = read_kv(cmd, rs, 48);

    num = fopen(bench_path("memory.txt"), "w");
    bench_md_open("memory.md");
    bench_out("## 4. Memory\n\n");
    bench_out("Default build, and the small profile (`-DSSLSOCKET_IOBUF_SIZE=4421 "
              "-DSSLSOCKET_HALF_DUPLEX=1 -DSSLSOCKET_WRITE_BUFFER_SIZE=2048`: one BearSSL "
              "buffer for both directions, 4 KiB records negotiated with max_fragment_length).\n\n");
    bench_out("| struct | default | small |\n|---|---:|---:|\n");
    for (i = 0; i < 5; i++)
        bench_out("| `%s` | %.0f B (%.1f KiB) | %.0f B (%.1f KiB) |\n", names[i],
                  get_kv(sd, nsd, names[i]), get_kv(sd, nsd, names[i]) / 1024,
                  get_kv(ss, nss, names[i]), get_kv(ss, nss, names[i]) / 1024);
    bench_out("| whole socket vs target | %s (<= 48 KiB) | %s (<= 24 KiB) |\n",
              get_kv(sd, nsd, "sslsocket") <= TARGET_SOCKET_DEFAULT ? "**met**" : "**above**",
              get_kv(ss, nss, "sslsocket") <= TARGET_SOCKET_SMALL ? "**met**" : "**above**");
    bench_out("\nWhere a socket's bytes go:\n\n| part of `sslsocket` | default | small |\n|---|---:|---:|\n");
    for (i = 0; i < 8; i++)
        bench_out("| %s | %.0f | %.0f |\n", parts[i] + 5, get_kv(sd, nsd, parts[i]),
                  get_kv(ss, nss, parts[i]));
    {
        double rest_d = get_kv(sd, nsd, "sslsocket"), rest_s = get_kv(ss, nss, "sslsocket");
        for (i = 0; i < 8; i++) {
            rest_d -= get_kv(sd, nsd, parts[i]);
            rest_s -= get_kv(ss, nss, parts[i]);
        }
        bench_out("| everything else (addresses, names, error text, events, ...) | %.0f | %.0f |\n",
                  rest_d, rest_s);
    }
    bench_out("\n(engine = the union of `br_ssl_client_context` %.0f B and `br_ssl_server_context` %.0f B.)\n\n",
              get_kv(sd, nsd, "part_engine_client"), get_kv(sd, nsd, "part_engine_server"));

    bench_out("Resident memory per idle connection: a server process accepts %d TLS connections "
              "(full ECDHE-ECDSA handshakes) from a client process (small build), sockets in one "
              "calloc'ed array; VmRSS growth / connections, right after every handshake, and "
              "again once the connections were idle for the release time (set to 1 s here, 10 s by default: the library gives "
              "idle record buffers back, sslsocket_config_set_idle_release).\n\n", n);
    bench_out("| server build | connections | failed | handshakes took | server RSS / conn | after 1 s idle | target | client RSS / conn (small) |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < 2; i++) {
        kv *r = i == 0 ? rd : rs;
        int nr = i == 0 ? nrd : nrs;
        double per = get_kv(r, nr, "server_rss_per_conn");
        double idle = get_kv(r, nr, "server_rss_idle_per_conn");
        double failed = get_kv(r, nr, "server_failed") + (get_kv(r, nr, "client_failed") > 0 ? get_kv(r, nr, "client_failed") : 0);
        bench_out("| %s | %.0f | %.0f | %.1f s | %.0f B (%.1f KiB) | %.0f B (%.1f KiB) | %s | %.0f B (%.1f KiB) |\n",
                  i == 0 ? "default" : "small", get_kv(r, nr, "server_conns"), failed,
                  get_kv(r, nr, "handshake_seconds"), per, per / 1024, idle, idle / 1024,
                  per >= 0 && per <= TARGET_RSS ? "<= 16 KiB **met**" : "<= 16 KiB **above**",
                  get_kv(r, nr, "client_rss_per_conn"), get_kv(r, nr, "client_rss_per_conn") / 1024);
        bench_result_put(num, i == 0 ? "rss_server_default" : "rss_server_small", per);
        bench_result_put(num, i == 0 ? "rss_idle_server_default" : "rss_idle_server_small", idle);
    }
    bench_out("\nResident bytes per server connection by field, right after the handshakes (mincore over the socket array: the "
              "bytes of each field that lie on resident pages, in struct order; a partly used field "
              "counts its whole page share, so this shows which fields keep pages in memory):\n\n"
              "| field | default | small |\n|---|---:|---:|\n");
    for (i = 0; i < nrd; i++)
        if (strncmp(rd[i].key, "res_", 4) == 0)
            bench_out("| %s | %.0f | %.0f |\n", rd[i].key + 4, rd[i].v, get_kv(rs, nrs, rd[i].key));
    bench_out("\n");
    for (i = 0; i < 5; i++) {
        char key[80];
        snprintf(key, sizeof key, "sizeof_%s_default", names[i]);
        bench_result_put(num, key, get_kv(sd, nsd, names[i]));
        snprintf(key, sizeof key, "sizeof_%s_small", names[i]);
        bench_result_put(num, key, get_kv(ss, nss, names[i]));
    }
    fclose(num);
    fclose(bench_md);
    bench_md = NULL;
    printf("memory: %.1f s\n", bench_now() - t0);
    return 0;
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "--sizes") == 0) {
        print_sizes();
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "--client") == 0)
        return client_main((unsigned)atoi(argv[2]), atoi(argv[3]));
    if (argc >= 4 && strcmp(argv[1], "--server") == 0)
        return server_main(atoi(argv[2]), argv[3]);
    bench_args(argc, argv);
    if (small_build())
        bench_die("run the default build (memory) for the report");
    return report(argv[0]);
}
