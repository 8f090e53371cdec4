/* ceiling.c - benchmark 1: the engine ceiling.
 *
 * A raw BearSSL client and server in one process (no sockets for the memory
 * column, no sslsocket.h at all): full handshakes/s (ECDHE-ECDSA P-256,
 * ECDHE-RSA 2048), resumed handshakes/s (server LRU cache), bulk MB/s
 * (AES-128-GCM, ChaCha20-Poly1305, 16 KiB records, one direction), and what
 * per-connection engine setup costs (init_full and OS seeding vs
 * implementations chosen once).  Also writes the machine section.
 *
 *     ceiling [--smoke]      tables on stdout; $BENCH_OUT/ceiling.md,
 *                            ceiling.txt (numbers), machine.md
 */
#include "ceiling_core.h"
#include <sys/utsname.h>

static FILE *num;

static void
put(const char *key, double v)
{
    bench_result_put(num, key, v);
}

static void
machine_section(void)
{
    char impls[512], osl[256] = "not found";
    struct utsname u;
    FILE *f = bench_md;
    FILE *p = popen("openssl version 2>/dev/null", "r");
    if (p) {
        if (fgets(osl, sizeof osl, p))
            osl[strcspn(osl, "\n")] = 0;
        pclose(p);
    }
    uname(&u);
    bench_md_open("machine.md");
    bench_bearssl_impls(impls, sizeof impls);
    bench_out("## Machine\n\n");
    bench_out("| | |\n|---|---|\n");
    bench_out("| CPU | %s, %ld cores online |\n", bench_cpu_model(), sysconf(_SC_NPROCESSORS_ONLN));
    bench_out("| kernel | %s %s |\n", u.sysname, u.release);
    bench_out("| BearSSL | 0.6 (Debian libbearssl) |\n");
    bench_out("| BearSSL picks | %s |\n", impls);
    bench_out("| one CPUID probe | %.2f us (each br_ssl_*_init_full makes several) |\n",
              bench_cpuid_us());
    bench_out("| OpenSSL | %s |\n", osl);
    bench_out("| run | %s, %.1f s per case |\n\n", bench_smoke ? "smoke" : "full",
              bench_case_seconds());
    fclose(bench_md);
    bench_md = f;
}

int
main(int argc, char **argv)
{
    double secs, t0 = bench_now();
    double hs_ec[2], hs_rsa[2], res[2], gcm[2], chapol[2];
    double su_full[3], su_res[3];
    int tcp, m;
    static const char *mode_name[3] = {
        "init_full per connection, BearSSL's own OS seeding",
        "init_full per connection, getrandom() seed injected (sslsocket.h today)",
        "implementations chosen once, seed from a process DRBG (ceiling)"
    };
    bench_args(argc, argv);
    secs = bench_case_seconds();
    ceil_load_creds();
    machine_section();

    num = fopen(bench_path("ceiling.txt"), "w");
    bench_md_open("ceiling.md");
    for (tcp = 0; tcp < 2; tcp++) {
        hs_ec[tcp] = ceil_handshakes(CEIL_FAST, 0, CEIL_ECDSA_GCM, 0, tcp, secs);
        hs_rsa[tcp] = ceil_handshakes(CEIL_FAST, 1, CEIL_RSA_GCM, 0, tcp, secs);
        res[tcp] = ceil_handshakes(CEIL_FAST, 0, CEIL_ECDSA_GCM, 1, tcp, secs);
        gcm[tcp] = ceil_bulk(CEIL_ECDSA_GCM, tcp, secs);
        chapol[tcp] = ceil_bulk(CEIL_ECDSA_CHAPOL, tcp, secs);
    }
    put("hs_ecdsa_mem", hs_ec[0]);
    put("hs_ecdsa_tcp", hs_ec[1]);
    put("hs_rsa_mem", hs_rsa[0]);
    put("hs_rsa_tcp", hs_rsa[1]);
    put("resume_mem", res[0]);
    put("resume_tcp", res[1]);
    put("bulk_gcm_mem", gcm[0]);
    put("bulk_gcm_tcp", gcm[1]);
    put("bulk_chapol_mem", chapol[0]);
    put("bulk_chapol_tcp", chapol[1]);

    bench_out("## 1. Engine ceiling: raw BearSSL client + server in one process\n\n");
    bench_out("Both ends in one thread; the client verifies the chain (br_x509_minimal) "
              "for \"localhost\"; each connection ends with close_notify. One suite "
              "offered and accepted per case, TLS 1.2.\n\n");
    bench_out("| case | memory | loopback TCP | TCP / memory |\n|---|---:|---:|---:|\n");
#define ROW(label, v, unit) \
    bench_out("| %s | %.0f %s | %.0f %s | %.2f |\n", label, v[0], unit, v[1], unit, v[1] / v[0])
    ROW("full handshake, ECDHE-ECDSA P-256, AES-128-GCM", hs_ec, "/s");
    ROW("full handshake, ECDHE-RSA 2048, AES-128-GCM", hs_rsa, "/s");
    ROW("resumed handshake (session ID, LRU cache)", res, "/s");
    ROW("bulk AES-128-GCM, 16 KiB records, one way", gcm, "MB/s");
    ROW("bulk ChaCha20-Poly1305, 16 KiB records, one way", chapol, "MB/s");
#undef ROW
    bench_out("\nChaCha20-Poly1305 / AES-128-GCM in memory: %.2f\n\n", chapol[0] / gcm[0]);

    /* setup cost: the same handshakes with the three ways of starting an engine */
    for (m = 0; m < 3; m++) {
        su_full[m] = m == CEIL_FAST ? hs_ec[0] : ceil_handshakes(m, 0, CEIL_ECDSA_GCM, 0, 0, secs);
        su_res[m] = m == CEIL_FAST ? res[0] : ceil_handshakes(m, 0, CEIL_ECDSA_GCM, 1, 0, secs);
    }
    put("hs_ecdsa_naive_mem", su_full[0]);
    put("hs_ecdsa_initfull_mem", su_full[1]);
    put("resume_naive_mem", su_res[0]);
    put("resume_initfull_mem", su_res[1]);
    bench_out("### Per-connection engine setup (memory, ECDHE-ECDSA, both ends)\n\n");
    bench_out("| engine setup | full hs/s | ratio | resumed hs/s | ratio | extra us per connection |\n"
              "|---|---:|---:|---:|---:|---:|\n");
    for (m = 0; m < 3; m++)
        bench_out("| %s | %.0f | %.2f | %.0f | %.2f | %.1f |\n", mode_name[m], su_full[m],
                  su_full[m] / su_full[2], su_res[m], su_res[m] / su_res[2],
                  (1.0 / su_res[m] - 1.0 / su_res[2]) * 1e6);
    bench_out("\nThe last column is measured on resumed handshakes (client and server "
              "engines both set up once per connection).\n\n");
    fclose(bench_md);
    bench_md = NULL;
    fclose(num);
    printf("ceiling: %.1f s\n", bench_now() - t0);
    return 0;
}
