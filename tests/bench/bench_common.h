/* bench_common.h - helpers shared by the benchmark programs in tests/bench/.
 *
 * Timing (CLOCK_MONOTONIC), the run length (full or --smoke), the fixture
 * certificates (made with the openssl CLI at bench time, never checked in),
 * a tiny key=value results file so that one program can read the numbers
 * another wrote in the same `make bench`, and machine information.
 * Benchmarks may allocate and block freely; only sslsocket.h may not.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bearssl.h>

#if defined(__GNUC__) || defined(__clang__)
#define BENCH_UNUSED __attribute__((unused))
#else
#define BENCH_UNUSED
#endif

BENCH_UNUSED static double
bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds used by this process (user + system). */
BENCH_UNUSED static double
bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort's comparison for doubles (medians, percentiles). */
BENCH_UNUSED static int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The clock the in-process benchmarks divide by: CPU seconds of this
   process (user + system, so the kernel's loopback work counts), not wall
   time, because the machine is shared with other jobs; on an idle machine
   a single-threaded loop gives the same rate either way.  BENCH_WALL=1
   switches to CLOCK_MONOTONIC. */
BENCH_UNUSED static double
bench_clock(void)
{
    static int wall = -1;
    if (wall < 0)
        wall = getenv("BENCH_WALL") != NULL && atoi(getenv("BENCH_WALL")) != 0;
    return wall ? bench_now() : bench_cpu();
}

/* Set from the command line: --smoke makes every case short. */
static int bench_smoke;

/* Seconds to spend on one measured case: $BENCH_SECONDS, else 2 s (full)
   or 0.1 s (smoke). */
BENCH_UNUSED static double
bench_case_seconds(void)
{
    const char *e = getenv("BENCH_SECONDS");
    if (e && atof(e) > 0)
        return atof(e);
    return bench_smoke ? 0.1 : 2.0;
}

BENCH_UNUSED static void
bench_args(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--smoke") == 0)
            bench_smoke = 1;
}

BENCH_UNUSED static void
bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* Output directory: $BENCH_OUT, else build/bench (created). */
BENCH_UNUSED static const char *
bench_out_dir(void)
{
    static char dir[512];
    const char *e = getenv("BENCH_OUT");
    snprintf(dir, sizeof dir, "%s", e && *e ? e : "build/bench");
    mkdir(dir, 0755); /* may exist */
    return dir;
}

BENCH_UNUSED static const char *
bench_path(const char *name)
{
    static char buf[8][640];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", bench_out_dir(), name);
    return buf[k];
}

/* The fixtures, in $BENCH_OUT/certs (made once; reused while present):
 *   ca.pem/.der/.key   test root CA, EC P-256
 *   ec.pem/.key        leaf EC P-256, SAN localhost + 127.0.0.1 (+ .der, ec.key.der)
 *   rsa.pem/.key       leaf RSA 2048, same SANs (+ .der, rsa.key.der)
 *   chain files are the leaf only: the CA is the trust anchor. */
BENCH_UNUSED static const char *
bench_cert(const char *name)
{
    static char buf[8][640];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/certs/%s", bench_out_dir(), name);
    return buf[k];
}

BENCH_UNUSED static void
bench_make_certs(void)
{
    char cmd[4096];
    struct stat st;
    if (stat(bench_cert("done"), &st) == 0)
        return;
    snprintf(cmd, sizeof cmd,
        "set -e; mkdir -p '%s/certs'; cd '%s/certs'; "
        "openssl ecparam -name prime256v1 -genkey -noout -out ca.key; "
        "openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj '/CN=sslsocket bench CA' "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
        "  -out ca.pem; "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n"
        "basicConstraints=CA:FALSE\\n' > leaf.ext; "
        "openssl ecparam -name prime256v1 -genkey -noout -out ec.key; "
        "openssl req -new -key ec.key -subj '/CN=localhost' -out ec.csr; "
        "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 "
        "  -sha256 -extfile leaf.ext -out ec.pem; "
        "openssl genrsa -out rsa.key 2048; "
        "openssl req -new -key rsa.key -subj '/CN=localhost' -out rsa.csr; "
        "openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 "
        "  -sha256 -extfile leaf.ext -out rsa.pem; "
        "for c in ca ec rsa; do openssl x509 -in $c.pem -outform DER -out $c.der; done; "
        "openssl ec -in ec.key -outform DER -out ec.key.der; "
        "openssl rsa -in rsa.key -traditional -outform DER -out rsa.key.der; "
        "touch done",
        bench_out_dir(), bench_out_dir());
    if (system(cmd) != 0)
        bench_die("could not make the fixture certificates (openssl CLI)");
}

/* Whole file into malloc'ed memory (NUL-terminated). */
BENCH_UNUSED static unsigned char *
bench_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (f == NULL)
        bench_die("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
        bench_die("cannot read %s", path);
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = (size_t)n;
    return buf;
}

/* ---- results: "key value" lines in $BENCH_OUT/NAME.txt ----------------- */

BENCH_UNUSED static void
bench_result_put(FILE *f, const char *key, double v)
{
    if (f)
        fprintf(f, "%s %.6g\n", key, v);
}

/* Value of `key` in results file `name`, or -1 when absent. */
BENCH_UNUSED static double
bench_result_get(const char *name, const char *key)
{
    char line[512], k[256];
    double v, found = -1;
    FILE *f = fopen(bench_path(name), "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%255s %lf", k, &v) == 2 && strcmp(k, key) == 0)
            found = v;
    fclose(f);
    return found;
}

/* ---- machine information ---------------------------------------------- */

BENCH_UNUSED static const char *
bench_cpu_model(void)
{
    static char model[256];
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(model, sizeof model, "unknown");
    if (f == NULL)
        return model;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ')
                    p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(model, sizeof model, "%s", p);
            }
            break;
        }
    }
    fclose(f);
    return model;
}

/* Which implementations BearSSL picks on this CPU (the same probes that
   br_ssl_*_init_full make). */
BENCH_UNUSED static void
bench_bearssl_impls(char *buf, size_t len)
{
    const br_ec_impl *ec = br_ec_get_default();
    const char *ecname = ec == &br_ec_all_m31 ? "br_ec_all_m31 (P-256 m31, X25519 m31)"
                       : ec == &br_ec_all_m15 ? "br_ec_all_m15"
                       : "other (newer m62/m64 code?)";
    snprintf(buf, len,
             "AES: %s; GHASH: %s; ChaCha20: %s; Poly1305: %s; EC: %s; RSA: %s",
             br_aes_x86ni_cbcenc_get_vtable() ? "x86ni (AES-NI)" : "ct64 (constant-time software)",
             br_ghash_pclmul_get() ? "pclmul" : "ctmul64 (software)",
             br_chacha20_sse2_get() ? "sse2" : "ct (portable)",
             br_poly1305_ctmulq_get() ? "ctmulq" : "ctmul (portable)",
             ecname,
             br_rsa_private_get_default() == br_rsa_i62_private ? "i62"
             : br_rsa_private_get_default() == br_rsa_i31_private ? "i31" : "other");
}

/* Microseconds per CPUID-backed probe (br_ghash_pclmul_get calls CPUID). */
BENCH_UNUSED static double
bench_cpuid_us(void)
{
    int i, n = 2000;
    double t0 = bench_clock();
    volatile uintptr_t sink = 0;
    for (i = 0; i < n; i++)
        sink += (uintptr_t)br_ghash_pclmul_get();
    (void)sink;
    return (bench_clock() - t0) * 1e6 / n;
}

/* ---- table printing ---------------------------------------------------- */

BENCH_UNUSED static FILE *bench_md; /* markdown copy of the tables, or NULL */

BENCH_UNUSED static void
bench_md_open(const char *name)
{
    bench_md = fopen(bench_path(name), "w");
    if (bench_md == NULL)
        bench_die("cannot write %s", bench_path(name));
}

/* printf to stdout and to the markdown file. */
BENCH_UNUSED static void
bench_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (bench_md) {
        va_start(ap, fmt);
        vfprintf(bench_md, fmt, ap);
        va_end(ap);
    }
    fflush(stdout);
}

#endif
