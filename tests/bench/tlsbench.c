/* tlsbench.c - the library's side of benchmark 3 (vs_openssl.sh).
 *
 *     tlsbench server PORTFILE CERT KEY CIPHER
 *         a TLS server on 127.0.0.1 (ephemeral port written to PORTFILE),
 *         one thread, epoll; after the handshake it answers "GET /NAME" by
 *         sending "HTTP/1.0 200 ok" and the file NAME from the current
 *         directory, then closes (like `openssl s_server -WWW`); clients that
 *         only handshake are fine too.  Runs until stdin closes.
 *     tlsbench [--tls13] hs PORT CAFILE CIPHER PARALLEL SECONDS [resume]
 *         PARALLEL connections at a time, one thread: handshake, close_notify,
 *         again; prints "handshakes N seconds S per_s R failed F resumed R
 *         group G cpu_us C protocol P" (G: the TLS group id of the last
 *         handshake, 23 = P-256, 29 = X25519; C: this process's CPU time,
 *         user + system, per handshake)
 *     tlsbench [--tls13] get PORT CAFILE CIPHER PATH [COUNT]
 *         fetch PATH COUNT times (one connection each); prints the body
 *         bytes, MB/s of the largest-count transfer and the median time to
 *         first byte: "bytes N seconds S mbps M ttfb_ms T cpu_s C protocol P"
 *         (C: CPU seconds of the transfer counted for mbps)
 *     tlsbench certs
 *         make the fixture certificates ($BENCH_OUT/certs) and print the dir
 *     tlsbench prims SECONDS
 *         BearSSL's primitives on their own: "key value" lines
 * The client verifies the server certificate for "localhost" against CAFILE.
 * Clients speak TLS 1.2 alone unless --tls13 comes first (TLS 1.3 alone;
 * CIPHER "-" leaves the suites as they are: TLS 1.3 offers its three).  The
 * server is TLS 1.2 (the library has no TLS 1.3 server yet).
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
#include <sys/random.h>

static unsigned char store[64 * 1024], cache_mem[256 * 1024];
static sslsocket_config cfg;
static unsigned version = SSLSOCKET_TLS12; /* the clients' only version */

/* ---- server ------------------------------------------------------------------ */

#define MAXC 512

typedef struct conn {
    sslsocket s;
    unsigned wants;
    int used, file_fd;
    off_t file_off;
    char req[512];
    size_t req_len;
} conn;

static conn *conns;
static int ep;

static void
ep_update(int k)
{
    conn *c = &conns[k];
    unsigned w = sslsocket_wants(&c->s);
    struct epoll_event e;
    if (w == c->wants)
        return;
    e.events = ((w & SSLSOCKET_WANT_READ) ? EPOLLIN : 0) | ((w & SSLSOCKET_WANT_WRITE) ? EPOLLOUT : 0);
    e.data.u32 = (unsigned)k;
    epoll_ctl(ep, EPOLL_CTL_MOD, sslsocket_fd(&c->s), &e);
    c->wants = w;
}

static void
conn_end(conn *c)
{
    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    sslsocket_abort(&c->s);
    c->used = 0;
}

/* Feed the file into the socket while it takes bytes. */
static void
conn_feed(conn *c)
{
    static unsigned char chunk[16384];
    while (c->file_fd >= 0) {
        ssize_t n = pread(c->file_fd, chunk, sizeof chunk, c->file_off);
        ptrdiff_t w;
        if (n <= 0) {
            close(c->file_fd);
            c->file_fd = -1;
            sslsocket_disconnect(&c->s);
            sslsocket_poll(&c->s); /* flush and send close_notify now */
            return;
        }
        w = sslsocket_write(&c->s, chunk, (size_t)n);
        if (w > 0)
            c->file_off += w;
        sslsocket_poll(&c->s);
        if (w <= 0 || (sslsocket_wants(&c->s) & SSLSOCKET_WANT_WRITE))
            return;
    }
}

static void
conn_request(conn *c)
{
    ptrdiff_t n;
    char path[512], *sp;
    while ((n = sslsocket_read(&c->s, c->req + c->req_len, sizeof c->req - 1 - c->req_len)) > 0)
        c->req_len += (size_t)n;
    c->req[c->req_len] = 0;
    if (c->file_fd >= 0 || (strstr(c->req, "\r\n\r\n") == NULL && strstr(c->req, "\n\n") == NULL))
        return;
    if (strncmp(c->req, "GET /", 5) != 0) {
        sslsocket_disconnect(&c->s);
        sslsocket_poll(&c->s);
        return;
    }
    snprintf(path, sizeof path, "%s", c->req + 5);
    sp = path + strcspn(path, " \r\n");
    *sp = 0;
    c->req_len = 0;
    if (strstr(path, "..") || (c->file_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        sslsocket_write_string(&c->s, "HTTP/1.0 404 not found\r\n\r\n");
        sslsocket_disconnect(&c->s);
        sslsocket_poll(&c->s);
        return;
    }
    c->file_off = 0;
    sslsocket_write_string(&c->s, "HTTP/1.0 200 ok\r\nContent-type: application/octet-stream\r\n\r\n");
    conn_feed(c);
}

/* Poll connection k and act on its events; a closed one frees its slot. */
static void
conn_poll(int k)
{
    conn *c = &conns[k];
    unsigned ev = sslsocket_poll(&c->s);
    if (ev & SSLSOCKET_EV_READY_READ)
        conn_request(c);
    if (c->file_fd >= 0)
        conn_feed(c);
    if (sslsocket_state(&c->s) == SSLSOCKET_UNCONNECTED)
        conn_end(c);
    else
        ep_update(k);
}

static int
server_main(const char *portfile, const char *cert, const char *key, const char *cipher)
{
    sslsocket listener;
    struct epoll_event evs[64], e;
    FILE *f;
    char tmp[600];
    int i;
    conns = (conn *)calloc(MAXC, sizeof(conn));
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_set_certificate_file(&cfg, cert, key) != 0)
        bench_die("server certificate: %s", sslsocket_config_error_string(&cfg));
    if (sslsocket_config_set_ciphers(&cfg, cipher) != 0)
        bench_die("ciphers: %s", sslsocket_config_error_string(&cfg));
    if (sslsocket_config_set_versions(&cfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0)
        bench_die("versions: %s", sslsocket_config_error_string(&cfg));
    sslsocket_config_set_session_cache(&cfg, cache_mem, sizeof cache_mem);
    sslsocket_init(&listener, &cfg);
    if (sslsocket_listen(&listener, "127.0.0.1", 0, 0) != 0)
        bench_die("listen: %s", sslsocket_error_string(&listener));
    snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
    f = fopen(tmp, "w");
    fprintf(f, "%u\n", sslsocket_local_port(&listener));
    fclose(f);
    rename(tmp, portfile);
    ep = epoll_create1(EPOLL_CLOEXEC);
    e.events = EPOLLIN;
    e.data.u32 = 0xFFFFFFFFu;
    epoll_ctl(ep, EPOLL_CTL_ADD, sslsocket_fd(&listener), &e);
    e.events = EPOLLIN;
    e.data.u32 = 0xFFFFFFFEu;
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e); /* stdin: EOF ends the server */
    for (i = 0; i < MAXC; i++)
        conns[i].file_fd = -1;
    for (;;) {
        int ne = epoll_wait(ep, evs, 64, 1000);
        for (i = 0; i < ne; i++) {
            unsigned k = evs[i].data.u32;
            if (k == 0xFFFFFFFEu) {
                char b[64];
                if (read(0, b, sizeof b) <= 0)
                    return 0;
                continue;
            }
            if (k == 0xFFFFFFFFu) {
                int j;
                for (j = 0; j < MAXC; j++) {
                    conn *c = &conns[j];
                    if (c->used)
                        continue;
                    sslsocket_init(&c->s, &cfg);
                    if (sslsocket_accept(&listener, &c->s) != 1)
                        break;
                    c->used = 1;
                    c->req_len = 0;
                    c->wants = SSLSOCKET_WANT_READ;
                    sslsocket_start_server_encryption(&c->s);
                    e.events = EPOLLIN;
                    e.data.u32 = (unsigned)j;
                    epoll_ctl(ep, EPOLL_CTL_ADD, sslsocket_fd(&c->s), &e);
                    /* a slow server may find the whole handshake and the
                       request waiting already: this poll's events count */
                    conn_poll(j);
                }
                continue;
            }
            if (conns[k].used)
                conn_poll((int)k);
        }
    }
}

/* ---- clients ---------------------------------------------------------------- */

static void
client_config(const char *cafile, const char *cipher)
{
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_add_ca_file(&cfg, cafile) != 1)
        bench_die("CA: %s", sslsocket_config_error_string(&cfg));
    /* one version, pinned: the peers (s_server, nginx) may speak TLS 1.3,
       and a default range reaching it must not change what is measured */
    if (sslsocket_config_set_versions(&cfg, version, version) != 0)
        bench_die("versions: %s", sslsocket_config_error_string(&cfg));
    if (strcmp(cipher, "-") != 0 && sslsocket_config_set_ciphers(&cfg, cipher) != 0)
        bench_die("ciphers: %s", sslsocket_config_error_string(&cfg));
}

/* The key exchange group of an encrypted client socket (TLS group id), a
   diagnostic read from the private state: TLS 1.3 runs the library's own
   engine (ctx.t13), TLS 1.2 BearSSL's. */
static int
session_group(sslsocket *s)
{
    if (SSLSOCKET__IS13(s))
        return (int)s->ctx.t13.group;
    return br_ssl_engine_get_ecdhe_curve(&s->ctx.client.eng);
}

static int
hs_main(unsigned port, const char *cafile, const char *cipher, int par, double secs, int resume)
{
    sslsocket *socks = (sslsocket *)calloc((size_t)par, sizeof(sslsocket));
    sslsocket **list = (sslsocket **)calloc((size_t)par, sizeof(sslsocket *));
    int *phase = (int *)calloc((size_t)par, sizeof(int)); /* 0 idle, 1 handshaking, 2 closing */
    sslsocket_session sess;
    int have_sess = 0, i, failed = 0, resumed = 0, curve = 0;
    long done = 0;
    double t0, t, cpu0;
    const char *proto = "-";
    client_config(cafile, cipher);
    /* resumed: the default client session reuse of the config (the first
       connection leaves its session, the next sockets offer it); full: off */
    sslsocket_config_set_client_sessions(&cfg, resume);
    for (i = 0; i < par; i++)
        list[i] = &socks[i];
    cpu0 = bench_cpu();
    t0 = bench_now();
    for (;;) {
        t = bench_now() - t0;
        for (i = 0; i < par; i++) {
            sslsocket *s = &socks[i];
            if (phase[i] == 0 && t < secs && (!resume || have_sess || i == 0)) {
                sslsocket_init(s, &cfg);
                sslsocket_set_peer_verify_name(s, "localhost");
                if (sslsocket_connect_encrypted(s, "127.0.0.1", port, SSLSOCKET_READ_WRITE) != 0)
                    bench_die("connect: %s", sslsocket_error_string(s));
                phase[i] = 1;
            }
        }
        if (t >= secs) {
            int busy = 0;
            for (i = 0; i < par; i++)
                busy |= phase[i] != 0;
            if (!busy || t > secs + 10)
                break;
        }
        sslsocket_wait(list, (size_t)par, 50);
        for (i = 0; i < par; i++) {
            sslsocket *s = &socks[i];
            if (phase[i] == 0)
                continue;
            sslsocket_poll(s);
            if (phase[i] == 1 && sslsocket_is_encrypted(s)) {
                curve = session_group(s); /* diagnostics */
                proto = sslsocket_protocol(s);
                done++;
                resumed += sslsocket_session_resumed(s);
                if (!have_sess && sslsocket_get_session(s, &sess) == 0)
                    have_sess = 1; /* the others may start: the config has it */
                sslsocket_disconnect(s);
                phase[i] = 2;
            } else if (sslsocket_state(s) == SSLSOCKET_UNCONNECTED) {
                if (phase[i] == 1 && failed++ < 5)
                    fprintf(stderr, "tlsbench hs: %s\n", sslsocket_error_string(s));
                phase[i] = 0;
            }
        }
    }
    t = bench_now() - t0;
    printf("handshakes %ld seconds %.3f per_s %.1f failed %d resumed %d group %d cpu_us %.1f "
           "protocol %s\n", done, t, (double)done / t, failed, resumed, curve,
           done > 0 ? (bench_cpu() - cpu0) * 1e6 / (double)done : 0.0, proto);
    return failed ? 1 : 0;
}

static int
get_main(unsigned port, const char *cafile, const char *cipher, const char *path, int count)
{
    static sslsocket s;
    static unsigned char buf[65536];
    double *ttfb = (double *)calloc((size_t)count, sizeof(double)), best_mbps = 0, secs = 0;
    double best_cpu = 0;
    long long bytes = 0;
    char req[600], proto[16] = "-";
    int k;
    client_config(cafile, cipher);
    /* every fetch a full handshake, as each curl process does */
    sslsocket_config_set_client_sessions(&cfg, 0);
    snprintf(req, sizeof req, "GET /%s HTTP/1.0\r\n\r\n", path);
    for (k = 0; k < count; k++) {
        double t0 = bench_now(), first = -1, t, cpu0 = bench_cpu();
        long long got = 0, body = -1;
        sslsocket *list[1] = { &s };
        sslsocket_init(&s, &cfg);
        sslsocket_set_peer_verify_name(&s, "localhost");
        if (sslsocket_connect_encrypted(&s, "127.0.0.1", port, SSLSOCKET_READ_WRITE) != 0)
            bench_die("connect: %s", sslsocket_error_string(&s));
        sslsocket_write_string(&s, req);
        for (;;) {
            ptrdiff_t n;
            sslsocket_poll(&s);
            if (proto[0] == '-' && sslsocket_is_encrypted(&s))
                snprintf(proto, sizeof proto, "%s", sslsocket_protocol(&s));
            while ((n = sslsocket_read(&s, buf, sizeof buf)) > 0) {
                if (first < 0)
                    first = bench_now() - t0;
                if (body < 0) { /* skip the response header */
                    unsigned char *e = (unsigned char *)memmem(buf, (size_t)n, "\r\n\r\n", 4);
                    if (e != NULL)
                        body = n - (e + 4 - buf);
                    else
                        body = 0;
                } else {
                    body += n;
                }
                got += n;
            }
            if (sslsocket_state(&s) == SSLSOCKET_UNCONNECTED)
                break;
            if (bench_now() - t0 > 120)
                bench_die("get: timeout");
            sslsocket_wait(list, 1, 1000);
        }
        t = bench_now() - t0;
        if (got == 0 || (sslsocket_error(&s) != SSLSOCKET_ERR_REMOTE_HOST_CLOSED
                         && sslsocket_error(&s) != SSLSOCKET_ERR_UNKNOWN))
            bench_die("get: %s (got %lld bytes)", sslsocket_error_string(&s), got);
        ttfb[k] = first * 1000;
        if (body > 0 && (double)body / t / 1e6 > best_mbps) {
            best_mbps = (double)body / t / 1e6;
            bytes = body;
            secs = t;
            best_cpu = bench_cpu() - cpu0;
        }
        sslsocket_abort(&s);
    }
    qsort(ttfb, (size_t)count, sizeof(double), bench_cmp_double);
    printf("bytes %lld seconds %.4f mbps %.1f ttfb_ms %.3f cpu_s %.4f protocol %s\n", bytes, secs,
           best_mbps, ttfb[count / 2], best_cpu, proto);
    return 0;
}

/* ---- BearSSL primitives ---------------------------------------------------- */

static void
prims_main(double secs)
{
    static unsigned char buf[16384], key[32], iv[12], tag[16];
    const br_ec_impl *ec = br_ec_get_default();
    br_ec_private_key sk;
    br_ec_public_key pk;
    unsigned char skbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pkbuf[BR_EC_KBUF_PUB_MAX_SIZE], sig[80];
    unsigned char hv[32], pt[65], x25519[32], x25519_base[32];
    br_hmac_drbg_context rng;
    size_t siglen = 0, xlen;
    double t0, t;
    long n;
    memset(hv, 7, sizeof hv);
    br_hmac_drbg_init(&rng, &br_sha256_vtable, "bench", 5);
    br_ec_keygen(&rng.vtable, ec, &sk, skbuf, BR_EC_secp256r1);
    br_ec_compute_pub(ec, &pk, pkbuf, &sk);
#define LOOP(key_, body) \
    for (n = 0, t0 = bench_clock(); (t = bench_clock() - t0) < secs || n < 3; n++) { body; } \
    printf("%s %.1f\n", key_, (double)n / t)
    LOOP("ecdsa_p256_sign_per_s",
         siglen = br_ecdsa_sign_asn1_get_default()(ec, &br_sha256_vtable, hv, &sk, sig));
    LOOP("ecdsa_p256_verify_per_s",
         (void)br_ecdsa_vrfy_asn1_get_default()(ec, hv, sizeof hv, &pk, sig, siglen));
    memcpy(pt, pk.q, pk.qlen);
    LOOP("ecdh_p256_per_s", memcpy(pt, pk.q, pk.qlen);
         (void)ec->mul(pt, pk.qlen, sk.x, sk.xlen, BR_EC_secp256r1));
    memset(x25519, 9, sizeof x25519);
    memcpy(x25519_base, ec->generator(BR_EC_curve25519, &xlen), 32);
    LOOP("x25519_per_s", memcpy(pt, x25519_base, 32);
         (void)ec->mul(pt, 32, x25519, 32, BR_EC_curve25519));
    /* AES-128-GCM encrypt, 16 KiB */
    {
        br_aes_x86ni_ctr_keys ctr;
        br_gcm_context gc;
        const br_block_ctr_class *vt = br_aes_x86ni_ctr_get_vtable();
        br_ghash gh = br_ghash_pclmul_get();
        if (vt == NULL) {
            printf("aes_gcm_mbps 0\n");
        } else {
            vt->init(&ctr.vtable, key, 16);
            br_gcm_init(&gc, &ctr.vtable, gh ? gh : br_ghash_ctmul64);
            LOOP("aes128_gcm_encrypt_16k_per_s", br_gcm_reset(&gc, iv, 12); br_gcm_flip(&gc);
                 br_gcm_run(&gc, 1, buf, sizeof buf); br_gcm_get_tag(&gc, tag));
        }
    }
    {
        br_chacha20_run cc = br_chacha20_sse2_get();
        br_poly1305_run pc = br_poly1305_ctmulq_get();
        if (cc == 0)
            cc = br_chacha20_ct_run;
        if (pc == 0)
            pc = br_poly1305_ctmul_run;
        LOOP("chacha20_poly1305_encrypt_16k_per_s",
             pc(key, iv, buf, sizeof buf, NULL, 0, tag, cc, 1));
    }
#undef LOOP
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && (strcmp(argv[1], "--tls13") == 0 || strcmp(argv[1], "--tls12") == 0)) {
        version = strcmp(argv[1], "--tls13") == 0 ? SSLSOCKET_TLS13 : SSLSOCKET_TLS12;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (argc >= 6 && strcmp(argv[1], "server") == 0)
        return server_main(argv[2], argv[3], argv[4], argv[5]);
    if (argc >= 7 && strcmp(argv[1], "hs") == 0)
        return hs_main((unsigned)atoi(argv[2]), argv[3], argv[4], atoi(argv[5]), atof(argv[6]),
                       argc >= 8 && strcmp(argv[7], "resume") == 0);
    if (argc >= 6 && strcmp(argv[1], "get") == 0)
        return get_main((unsigned)atoi(argv[2]), argv[3], argv[4], argv[5],
                        argc >= 7 ? atoi(argv[6]) : 1);
    if (argc >= 2 && strcmp(argv[1], "certs") == 0) {
        bench_make_certs();
        printf("%s\n", bench_cert(""));
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "prims") == 0) {
        prims_main(atof(argv[2]));
        return 0;
    }
    fprintf(stderr, "usage: see the top of tests/bench/tlsbench.c\n");
    return 2;
}
