/* library.c - benchmark 2: sslsocket.h against the engine ceiling.
 *
 * The same work as ceiling.c (same certificates, one suite, the client
 * verifies "localhost", close_notify at the end of each connection), done
 * through sslsocket.h: over the in-memory transport (sslsocket_pipe) and
 * over loopback TCP (listen / accept / connect_encrypted, both ends in this
 * thread).  Each case runs the raw-BearSSL ceiling and the library in turn
 * (interleaved rounds, best of each), so the ratio compares like with like
 * on a shared machine.
 *
 *     library [--smoke]      table on stdout; $BENCH_OUT/library.md, library.txt
 *     library --profile CASE [SECONDS]
 *                            run one library case only (for callgrind/perf):
 *                            hs-ecdsa, hs-rsa, resume, bulk-gcm, bulk-chapol
 *                            with -mem or -tcp appended; prints the number of
 *                            operations, to turn instruction counts into a cost each
 *     library --profile-ceiling CASE [SECONDS]
 *                            the same case on the raw-BearSSL ceiling
 */
#define SSLSOCKET_IMPLEMENTATION
#ifdef SSLSOCKET_BENCH_HEADER
#include SSLSOCKET_BENCH_HEADER /* a patched copy, to measure a proposed change */
#else
#include "../../sslsocket.h"
#endif
#include "ceiling_core.h"

static unsigned char cstore[64 * 1024], sstore_ec[64 * 1024], sstore_rsa[64 * 1024];
static unsigned char cache_mem[64 * 1024];
static sslsocket_config ccfg, scfg_ec, scfg_rsa;
static sslsocket lc, ls, llisten;
static sslsocket_pipe lpipe;
/* the saved client session, one per transport ([0] memory, [1] TCP): a
   session is offered only for the port it was made with (the policy
   digest), so one from the pipe (port 0) is never offered over TCP */
static sslsocket_session lsess[2];
static int have_lsess[2], lsess_kind[2];
static unsigned lport;

static const char *
suite_name(uint16_t suite)
{
    switch (suite) {
    case CEIL_ECDSA_GCM: return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    case CEIL_RSA_GCM: return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case CEIL_ECDSA_CHAPOL: return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    default: return "?";
    }
}

static void
lib_configs(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    bench_make_certs();
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    if (sslsocket_config_add_ca_file(&ccfg, bench_cert("ca.pem")) != 1)
        bench_die("client CA: %s", sslsocket_config_error_string(&ccfg));
    /* full handshakes: no client session reuse (on by default); resumed:
       the session saved from the first connection, offered explicitly */
    sslsocket_config_set_client_sessions(&ccfg, 0);
    sslsocket_config_init(&scfg_ec, sstore_ec, sizeof sstore_ec);
    if (sslsocket_config_set_certificate_file(&scfg_ec, bench_cert("ec.pem"), bench_cert("ec.key")))
        bench_die("server cert: %s", sslsocket_config_error_string(&scfg_ec));
    sslsocket_config_init(&scfg_rsa, sstore_rsa, sizeof sstore_rsa);
    if (sslsocket_config_set_certificate_file(&scfg_rsa, bench_cert("rsa.pem"), bench_cert("rsa.key")))
        bench_die("server cert: %s", sslsocket_config_error_string(&scfg_rsa));
    /* the ceiling is TLS 1.2 (BearSSL's engine): pin both ends to it, so that
       a default range reaching TLS 1.3 cannot change what is compared */
    if (sslsocket_config_set_versions(&ccfg, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0
        || sslsocket_config_set_versions(&scfg_ec, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0
        || sslsocket_config_set_versions(&scfg_rsa, SSLSOCKET_TLS12, SSLSOCKET_TLS12) != 0)
        bench_die("set_versions: %s", sslsocket_config_error_string(&ccfg));
    /* one cache shared by both server configs is not allowed (each config
       owns its LRU context); the EC config gets it, RSA is only measured
       with full handshakes */
    sslsocket_config_set_session_cache(&scfg_ec, cache_mem, sizeof cache_mem);
    sslsocket_init(&llisten, &scfg_ec);
    if (sslsocket_listen(&llisten, "127.0.0.1", 0, 0) != 0)
        bench_die("listen: %s", sslsocket_error_string(&llisten));
    lport = sslsocket_local_port(&llisten);
}

static void
lib_suite(uint16_t suite)
{
    const char *name = suite_name(suite);
    if (sslsocket_config_set_ciphers(&ccfg, name) || sslsocket_config_set_ciphers(&scfg_ec, name)
        || sslsocket_config_set_ciphers(&scfg_rsa, name))
        bench_die("set_ciphers %s failed", name);
}

/* Poll the client, the server connection and (TCP) the listener once.
   Returns the OR of the event bits. */
static unsigned
lib_round(int tcp, const sslsocket_config *scfg, int *accepted)
{
    unsigned ev = 0;
    if (tcp && !*accepted && (sslsocket_poll(&llisten) & SSLSOCKET_EV_NEW_CONNECTION)) {
        sslsocket_init(&ls, scfg);
        if (sslsocket_accept(&llisten, &ls) == 1) {
            *accepted = 1;
            if (sslsocket_start_server_encryption(&ls) != 0)
                bench_die("start_server_encryption: %s", sslsocket_error_string(&ls));
            ev |= SSLSOCKET_EV_NEW_CONNECTION;
        }
    }
    ev |= sslsocket_poll(&lc);
    if (*accepted)
        ev |= sslsocket_poll(&ls);
    return ev;
}

/* Nothing happened in a round: over TCP, sleep until a descriptor is ready
   (what an event loop does). */
static void
lib_wait(int tcp, int accepted)
{
    sslsocket *list[3];
    size_t n = 0;
    if (!tcp)
        return;
    list[n++] = &lc;
    list[n++] = accepted ? &ls : &llisten;
    sslsocket_wait(list, n, 50);
}

static int
lib_both_encrypted(int accepted)
{
    return accepted && sslsocket_is_encrypted(&lc) && sslsocket_is_encrypted(&ls);
}

/* Start a connection (pipe or TCP) and complete the handshake. */
static int
lib_open(int rsa, int resume, int tcp, int *accepted)
{
    const sslsocket_config *scfg = rsa ? &scfg_rsa : &scfg_ec;
    int i;
    *accepted = 0;
    sslsocket_init(&lc, &ccfg);
    if (resume && have_lsess[tcp])
        sslsocket_set_session(&lc, &lsess[tcp]);
    sslsocket_set_peer_verify_name(&lc, "localhost");
    if (tcp) {
        if (sslsocket_connect_encrypted(&lc, "127.0.0.1", lport, SSLSOCKET_READ_WRITE) != 0)
            bench_die("connect: %s", sslsocket_error_string(&lc));
    } else {
        sslsocket_init(&ls, scfg);
        if (sslsocket_pipe_connect(&lpipe, &lc, &ls) != 0
            || sslsocket_start_client_encryption(&lc) != 0
            || sslsocket_start_server_encryption(&ls) != 0)
            bench_die("pipe start: %s / %s", sslsocket_error_string(&lc),
                      sslsocket_error_string(&ls));
        *accepted = 1;
    }
    for (i = 0; i < 100000 && !lib_both_encrypted(*accepted); i++) {
        if (lib_round(tcp, scfg, accepted) == 0)
            lib_wait(tcp, *accepted);
        if (sslsocket_state(&lc) == SSLSOCKET_UNCONNECTED
            || (*accepted && sslsocket_state(&ls) == SSLSOCKET_UNCONNECTED))
            break;
    }
    if (!lib_both_encrypted(*accepted)) {
        fprintf(stderr, "library handshake failed: client \"%s\" server \"%s\"\n",
                sslsocket_error_string(&lc), *accepted ? sslsocket_error_string(&ls) : "-");
        sslsocket_abort(&lc);
        sslsocket_abort(&ls);
        return -1;
    }
    return 0;
}

static void
lib_close(int tcp, int accepted)
{
    int i;
    const sslsocket_config *scfg = ls.cfg;
    sslsocket_disconnect(&lc);
    for (i = 0; i < 10000; i++) {
        if (sslsocket_state(&lc) == SSLSOCKET_UNCONNECTED
            && sslsocket_state(&ls) == SSLSOCKET_UNCONNECTED)
            break;
        if (lib_round(tcp, scfg, &accepted) == 0)
            lib_wait(tcp, accepted);
    }
    sslsocket_abort(&lc);
    sslsocket_abort(&ls);
}

/* One connection; a session offered must be resumed (every time: a full
   handshake counted as a resumed one is what this benchmark must not
   measure). */
static int
lib_connection(int rsa, int resume, int tcp)
{
    int accepted, offered = resume && have_lsess[tcp];
    if (lib_open(rsa, resume, tcp, &accepted) < 0)
        return -1;
    if (offered && !sslsocket_session_resumed(&lc))
        bench_die("resumption: the library client did not resume (%s)",
                  tcp ? "loopback TCP" : "in memory");
    if (!have_lsess[tcp] && sslsocket_get_session(&lc, &lsess[tcp]) == 0)
        have_lsess[tcp] = 1;
    lib_close(tcp, accepted);
    return 0;
}

static double
lib_handshakes(int rsa, uint16_t suite, int resume, int tcp, double secs)
{
    double t0, t;
    long n = 0;
    lib_configs();
    lib_suite(suite);
    /* the session of an earlier run of the same kind is kept, so that a
       resumed run measures resumption only */
    if (lsess_kind[tcp] != (rsa << 16 | suite))
        have_lsess[tcp] = 0;
    lsess_kind[tcp] = rsa << 16 | suite;
    if (resume && !have_lsess[tcp] && lib_connection(rsa, 0, tcp) < 0)
        return 0;
    t0 = bench_clock();
    do {
        if (lib_connection(rsa, resume, tcp) < 0)
            return 0;
        n++;
        t = bench_clock() - t0;
    } while (t < secs || n < 3);
    bench_last_ops = (double)n;
    return (double)n / t;
}

static double
lib_bulk(uint16_t suite, int tcp, double secs)
{
    static unsigned char src[CEIL_RECORD], dst[CEIL_RECORD];
    double t0, t = 0;
    long long bytes = 0;
    size_t off = 0;
    long rounds = 0;
    int accepted;
    lib_configs();
    lib_suite(suite);
    memset(src, 'x', sizeof src);
    if (lib_open(0, 0, tcp, &accepted) < 0)
        bench_die("bulk: handshake failed");
    t0 = bench_clock();
    for (;;) {
        ptrdiff_t n = sslsocket_write(&lc, src + off, sizeof src - off);
        int moved = n > 0;
        if (n > 0) {
            off += (size_t)n;
            if (off == sizeof src)
                off = 0;
        }
        sslsocket_poll(&lc);
        sslsocket_poll(&ls);
        while ((n = sslsocket_read(&ls, dst, sizeof dst)) > 0) {
            bytes += n;
            moved = 1;
        }
        if (sslsocket_state(&lc) != SSLSOCKET_CONNECTED || sslsocket_state(&ls) != SSLSOCKET_CONNECTED)
            bench_die("bulk: connection lost: %s / %s", sslsocket_error_string(&lc),
                      sslsocket_error_string(&ls));
        if (!moved)
            lib_wait(tcp, accepted);
        if ((++rounds & 15) == 0 && (t = bench_clock() - t0) >= secs)
            break;
    }
    lib_close(tcp, accepted);
    bench_last_ops = (double)bytes;
    return (double)bytes / t / 1e6;
}

/* ---- the table ----------------------------------------------------------- */

enum { K_FULL, K_RESUME, K_BULK };

typedef struct bcase {
    const char *key, *label, *unit;
    int kind, rsa;
    uint16_t suite;
    double target;
} bcase;

static const bcase cases[] = {
    { "hs_ecdsa", "full handshake, ECDHE-ECDSA P-256", "/s", K_FULL, 0, CEIL_ECDSA_GCM, 0.90 },
    { "hs_rsa", "full handshake, ECDHE-RSA 2048", "/s", K_FULL, 1, CEIL_RSA_GCM, 0.90 },
    { "resume", "resumed handshake", "/s", K_RESUME, 0, CEIL_ECDSA_GCM, 0.90 },
    { "bulk_gcm", "bulk AES-128-GCM, 16 KiB", "MB/s", K_BULK, 0, CEIL_ECDSA_GCM, 0.95 },
    { "bulk_chapol", "bulk ChaCha20-Poly1305, 16 KiB", "MB/s", K_BULK, 0, CEIL_ECDSA_CHAPOL, 0.95 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static double
run_case(const bcase *c, int lib, int tcp, int ceil_mode, double secs)
{
    if (c->kind == K_BULK)
        return lib ? lib_bulk(c->suite, tcp, secs) : ceil_bulk(c->suite, tcp, secs);
    if (lib)
        return lib_handshakes(c->rsa, c->suite, c->kind == K_RESUME, tcp, secs);
    return ceil_handshakes(ceil_mode, c->rsa, c->suite, c->kind == K_RESUME, tcp, secs);
}

/* The measured part of a profile run: callgrind --toggle-collect=profile_window */
__attribute__((noinline)) static double
profile_window(const bcase *c, int lib, int tcp, double secs)
{
    return run_case(c, lib, tcp, CEIL_FAST, secs);
}

static int
profile(const char *name, double secs, int lib)
{
    size_t i;
    char want[64];
    for (i = 0; i < NCASES; i++) {
        int tcp;
        for (tcp = 0; tcp < 2; tcp++) {
            const char *k = cases[i].key;
            snprintf(want, sizeof want, "%s-%s",
                     strcmp(k, "hs_ecdsa") == 0 ? "hs-ecdsa" : strcmp(k, "hs_rsa") == 0 ? "hs-rsa"
                     : strcmp(k, "bulk_gcm") == 0 ? "bulk-gcm"
                     : strcmp(k, "bulk_chapol") == 0 ? "bulk-chapol" : k,
                     tcp ? "tcp" : "mem");
            if (strcmp(want, name) == 0) {
                double r;
                run_case(&cases[i], lib, tcp, CEIL_FAST, 0); /* warm-up: certificates, session */
                r = profile_window(&cases[i], lib, tcp, secs);
                printf("%s %s: %.1f %s, %.0f %s\n", lib ? "library" : "ceiling", name, r,
                       cases[i].unit, bench_last_ops, cases[i].kind == K_BULK ? "bytes" : "connections");
                return 0;
            }
        }
    }
    fprintf(stderr, "unknown case %s\n", name);
    return 2;
}

int
main(int argc, char **argv)
{
    double secs, t0 = bench_now();
    double best[NCASES][5]; /* ceiling mem, library mem, ceiling tcp, library tcp, init_full mem */
    int r, k;
    size_t i;
    FILE *num;
    if (argc >= 3 && strcmp(argv[1], "--profile") == 0)
        return profile(argv[2], argc >= 4 ? atof(argv[3]) : 2.0, 1);
    if (argc >= 3 && strcmp(argv[1], "--profile-ceiling") == 0)
        return profile(argv[2], argc >= 4 ? atof(argv[3]) : 2.0, 0);
    bench_args(argc, argv);
    secs = bench_case_seconds();
    lib_configs();
    memset(best, 0, sizeof best);
    /* Interleaved: the ceiling and the library take turns in slices of
       0.1 s until each has had `secs`, so that whatever else the machine
       does affects both alike; rate = operations / CPU time, summed. */
    for (i = 0; i < NCASES; i++) {
        const bcase *c = &cases[i];
        double ops[5] = { 0, 0, 0, 0, 0 }, tm[5] = { 0, 0, 0, 0, 0 };
        double slice = secs < 0.1 ? secs : 0.1;
        int slices = (int)(secs / slice + 0.5);
        for (r = 0; r < slices; r++) {
            for (k = 0; k < 5; k++) {
                double rate;
                if (k == 4 && c->kind == K_BULK)
                    continue;
                rate = run_case(c, k == 1 || k == 3, k == 2 || k == 3,
                                k == 4 ? CEIL_INITFULL : CEIL_FAST, slice);
                if (rate > 0) {
                    ops[k] += bench_last_ops;
                    tm[k] += bench_last_ops / rate;
                }
            }
        }
        for (k = 0; k < 5; k++)
            best[i][k] = tm[k] > 0 ? ops[k] / tm[k] : 0; /* per s, or MB/s for bulk */
    }
    num = fopen(bench_path("library.txt"), "w");
    bench_md_open("library.md");
    bench_out("## 2. sslsocket.h against the ceiling\n\n");
    bench_out("Same certificates, suite and verification as the ceiling; in memory through "
              "`sslsocket_pipe`, over loopback TCP through listen/accept/connect_encrypted "
              "(both ends in one thread, `sslsocket_wait` when nothing moved). Rates per CPU-second; "
              "ceiling and library take turns in 0.1 s slices, %.1f s each in all.\n\n", secs);
    bench_out("| case | ceiling mem | library mem | ratio | target | ceiling TCP | library TCP | ratio | "
              "ceiling mem with init_full |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < NCASES; i++) {
        const bcase *c = &cases[i];
        double *b = best[i];
        char key[64], extra[64];
        if (c->kind == K_BULK)
            snprintf(extra, sizeof extra, "-");
        else
            snprintf(extra, sizeof extra, "%.0f (library/this %.2f)", b[4], b[1] / b[4]);
        bench_out("| %s | %.0f %s | %.0f %s | **%.2f** %s | %.2f | %.0f | %.0f | %.2f | %s |\n",
                  c->label, b[0], c->unit, b[1], c->unit, b[1] / b[0],
                  b[1] / b[0] >= c->target ? "(met)" : "(below)", c->target, b[2], b[3],
                  b[3] / b[2], extra);
        snprintf(key, sizeof key, "%s_ceil_mem", c->key);
        bench_result_put(num, key, b[0]);
        snprintf(key, sizeof key, "%s_lib_mem", c->key);
        bench_result_put(num, key, b[1]);
        snprintf(key, sizeof key, "%s_ceil_tcp", c->key);
        bench_result_put(num, key, b[2]);
        snprintf(key, sizeof key, "%s_lib_tcp", c->key);
        bench_result_put(num, key, b[3]);
    }
    /* what the default configuration negotiates */
    {
        int accepted;
        sslsocket_config_init(&ccfg, cstore, sizeof cstore);
        sslsocket_config_add_ca_file(&ccfg, bench_cert("ca.pem"));
        sslsocket_config_set_ciphers(&scfg_ec, "DEFAULT");
        if (lib_open(0, 0, 0, &accepted) == 0) {
            bench_out("\nWith the default configuration on both ends the library negotiates "
                      "`%s` on this CPU.\n\n", sslsocket_cipher(&lc));
            lib_close(0, accepted);
        }
    }
    fclose(bench_md);
    bench_md = NULL;
    fclose(num);
    sslsocket_abort(&llisten);
    printf("library: %.1f s\n", bench_now() - t0);
    return 0;
}
