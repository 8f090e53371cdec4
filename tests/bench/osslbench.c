/* osslbench.c - OpenSSL's client (libssl 3) doing what `tlsbench`'s client
 * does, for the TLS 1.3 benchmark (vs_tls13.sh): the same connection loop,
 * the same verification (chain against CAFILE, host name "localhost", SNI),
 * the same output lines, so that the two clients are compared on equal terms.
 *
 *     osslbench hs PORT CAFILE VERSION SECONDS
 *         one connection at a time: connect, full handshake, close_notify,
 *         close, again, for SECONDS; prints "handshakes N seconds S per_s R
 *         failed F resumed 0 group G cpu_us C protocol P" (G: the key
 *         exchange group's short name; C: this process's CPU time, user +
 *         system, per handshake)
 *     osslbench get PORT CAFILE VERSION PATH [COUNT]
 *         fetch PATH COUNT times ("GET /PATH HTTP/1.0", one connection and
 *         full handshake each); prints "bytes N seconds S mbps M ttfb_ms T
 *         cpu_s C protocol P": the body bytes, MB/s and CPU seconds of the
 *         fastest fetch, the median time from connect() to the first
 *         response byte
 *
 * VERSION is 1.2 or 1.3: the client speaks that version alone.  No session
 * is ever reused (client cache off, no tickets asked for), TCP_NODELAY as the
 * library sets it.  Blocking sockets with 30 s timeouts; every loop is
 * bounded.  Talks to 127.0.0.1 only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "bench_common.h"
#include <openssl/err.h>
#include <openssl/ssl.h>

static void
die(const char *what)
{
    fprintf(stderr, "osslbench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static SSL_CTX *
make_ctx(const char *cafile, const char *version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int v = strcmp(version, "1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (ctx == NULL)
        die("SSL_CTX_new");
    if (strcmp(version, "1.3") != 0 && strcmp(version, "1.2") != 0)
        die("VERSION is 1.2 or 1.3");
    if (!SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v))
        die("protocol version");
    if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
        die("CA file");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

/* A TCP connection to 127.0.0.1:port, blocking, with timeouts. */
static int
tcp_connect(unsigned port)
{
    struct sockaddr_in a;
    struct timeval tv = { 30, 0 };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Connect and handshake; NULL (reason on stderr) on failure. */
static SSL *
tls_connect(SSL_CTX *ctx, unsigned port, int *fdp)
{
    SSL *ssl;
    int fd = tcp_connect(port);
    if (fd < 0) {
        fprintf(stderr, "osslbench: connect: %s\n", strerror(errno));
        return NULL;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL)
        die("SSL_new");
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK) {
        fprintf(stderr, "osslbench: handshake failed (verify: %s)\n",
                X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
        ERR_print_errors_fp(stderr);
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    *fdp = fd;
    return ssl;
}

static const char *
group_name(SSL *ssl)
{
    int nid = SSL_get_negotiated_group(ssl);
    const char *n;
    if (nid <= 0)
        return "-";
    n = OBJ_nid2sn(nid & ~TLSEXT_nid_unknown);
    return n ? n : "-";
}

static int
hs_main(unsigned port, const char *cafile, const char *version, double secs)
{
    SSL_CTX *ctx = make_ctx(cafile, version);
    long done = 0;
    int failed = 0;
    char group[64] = "-", proto[16] = "-";
    double t0 = bench_now(), cpu0 = bench_cpu(), t;
    while ((t = bench_now() - t0) < secs && failed < 5) {
        int fd;
        SSL *ssl = tls_connect(ctx, port, &fd);
        if (ssl == NULL) {
            failed++;
            continue;
        }
        done++;
        snprintf(group, sizeof group, "%s", group_name(ssl));
        snprintf(proto, sizeof proto, "%s", SSL_get_version(ssl));
        SSL_shutdown(ssl); /* our close_notify; the library client sends one too */
        SSL_free(ssl);
        close(fd);
    }
    t = bench_now() - t0;
    printf("handshakes %ld seconds %.3f per_s %.1f failed %d resumed 0 group %s cpu_us %.1f "
           "protocol %s\n", done, t, (double)done / t, failed, group,
           done > 0 ? (bench_cpu() - cpu0) * 1e6 / (double)done : 0.0, proto);
    SSL_CTX_free(ctx);
    return failed ? 1 : 0;
}

static int
get_main(unsigned port, const char *cafile, const char *version, const char *path, int count)
{
    static unsigned char buf[65536];
    SSL_CTX *ctx = make_ctx(cafile, version);
    double *ttfb = (double *)calloc((size_t)count, sizeof(double)), best_mbps = 0, secs = 0;
    double best_cpu = 0;
    long long bytes = 0;
    char req[600], proto[16] = "-";
    int k, reqlen;
    if (ttfb == NULL)
        die("out of memory");
    reqlen = snprintf(req, sizeof req, "GET /%s HTTP/1.0\r\n\r\n", path);
    for (k = 0; k < count; k++) {
        double t0 = bench_now(), first = -1, t, cpu0 = bench_cpu();
        long long got = 0, body = -1;
        int fd, n;
        SSL *ssl = tls_connect(ctx, port, &fd);
        if (ssl == NULL)
            die("get: no connection");
        snprintf(proto, sizeof proto, "%s", SSL_get_version(ssl));
        if (SSL_write(ssl, req, reqlen) != reqlen)
            die("get: write");
        while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
            if (first < 0)
                first = bench_now() - t0;
            if (body < 0) { /* skip the response header */
                unsigned char *e = (unsigned char *)memmem(buf, (size_t)n, "\r\n\r\n", 4);
                body = e != NULL ? n - (e + 4 - buf) : 0;
            } else {
                body += n;
            }
            got += n;
            if (bench_now() - t0 > 120)
                die("get: timeout");
        }
        t = bench_now() - t0;
        /* s_server -WWW ends with close_notify (0, ZERO_RETURN); an EOF
           without one is accepted too, as tlsbench does */
        if (got == 0)
            die("get: no response");
        ERR_clear_error();
        ttfb[k] = first * 1000;
        if (body > 0 && (double)body / t / 1e6 > best_mbps) {
            best_mbps = (double)body / t / 1e6;
            bytes = body;
            secs = t;
            best_cpu = bench_cpu() - cpu0;
        }
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
    }
    qsort(ttfb, (size_t)count, sizeof(double), bench_cmp_double);
    printf("bytes %lld seconds %.4f mbps %.1f ttfb_ms %.3f cpu_s %.4f protocol %s\n", bytes, secs,
           best_mbps, ttfb[count / 2], best_cpu, proto);
    SSL_CTX_free(ctx);
    free(ttfb);
    return 0;
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 6 && strcmp(argv[1], "hs") == 0)
        return hs_main((unsigned)atoi(argv[2]), argv[3], argv[4], atof(argv[5]));
    if (argc >= 6 && strcmp(argv[1], "get") == 0)
        return get_main((unsigned)atoi(argv[2]), argv[3], argv[4], argv[5],
                        argc >= 7 && atoi(argv[6]) > 0 ? atoi(argv[6]) : 1);
    fprintf(stderr, "usage: see the top of tests/bench/osslbench.c\n");
    return 2;
}
