/* recorder.c - makes the handshake seeds of fuzz_client and fuzz_server
 * (run by gen_corpus.sh; not a harness, not part of make test).
 *
 *   recorder keys DIR                 write the embedded keys as PEM files
 *   recorder pipe CLIENT_DIR SERVER_DIR
 *                                     conversations between the library's
 *                                     client and server over the in-memory
 *                                     pipe: server -> client bytes become a
 *                                     fuzz_client seed, client -> server a
 *                                     fuzz_server seed
 *   recorder client-tcp PORT FLAGS OUT
 *                                     our client (FLAGS: byte 0 | byte 1 << 8)
 *                                     against a real server on 127.0.0.1:PORT;
 *                                     what the server sends becomes OUT
 *   recorder server-tcp PORT FLAGS OUT
 *                                     our server on 127.0.0.1:PORT for one real
 *                                     client; what the client sends becomes OUT
 *   recorder free-port                print a free TCP port on 127.0.0.1
 *   recorder wait-listen PORT         wait (5 s at most) until 127.0.0.1:PORT
 *                                     is taken by a listener
 *
 * The socket under test runs exactly as in the harness (fuzz_common.h: same
 * configuration, same deterministic randomness, same application
 * behaviour), so the recorded peer bytes stay valid in the replay.  The TCP
 * modes bridge the pipe to a real socket by hand.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define REC_MAX (1u << 20)

typedef struct rec {
    unsigned char hdr[3];
    unsigned char *buf;
    size_t len;
} rec;

static void
rec_init(rec *r, unsigned f1, unsigned f2)
{
    r->hdr[0] = (unsigned char)f1;
    r->hdr[1] = (unsigned char)f2;
    r->hdr[2] = 0; /* everything at once: the fuzzer varies it */
    r->buf = malloc(REC_MAX);
    r->len = 0;
    if (r->buf == NULL)
        exit(1);
}

static void
rec_add(rec *r, const unsigned char *p, size_t n)
{
    if (r->len + n > REC_MAX) {
        fprintf(stderr, "recording too long\n");
        exit(1);
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static void
rec_write(rec *r, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(r->hdr, 1, 3, f) != 3 || fwrite(r->buf, 1, r->len, f) != r->len
        || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    free(r->buf);
    r->buf = NULL;
}

static void
write_text(const char *dir, const char *name, const char *text, size_t len)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static int
cmd_keys(const char *dir)
{
    static const char ca[] = FUZZ_CA_PEM, ec[] = FUZZ_EC_CHAIN_PEM, eck[] = FUZZ_EC_KEY_PEM,
                      rsa[] = FUZZ_RSA_PEM, rsak[] = FUZZ_RSA_KEY_PEM, cl[] = FUZZ_CLIENT_PEM,
                      clk[] = FUZZ_CLIENT_KEY_PEM;
    const char *second = strstr(ec + 1, "-----BEGIN CERTIFICATE-----");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (second == NULL || system(cmd) != 0)
        return 1;
    write_text(dir, "ca.pem", ca, sizeof ca - 1);
    write_text(dir, "ec.pem", ec, (size_t)(second - ec));
    write_text(dir, "int.pem", second, strlen(second));
    write_text(dir, "ec-chain.pem", ec, sizeof ec - 1);
    write_text(dir, "ec.key", eck, sizeof eck - 1);
    write_text(dir, "rsa.pem", rsa, sizeof rsa - 1);
    write_text(dir, "rsa.key", rsak, sizeof rsak - 1);
    write_text(dir, "client.pem", cl, sizeof cl - 1);
    write_text(dir, "client.key", clk, sizeof clk - 1);
    return 0;
}

/* ------------------------------------------------------------ in memory */

static sslsocket cli, srv;
static sslsocket_pipe pp;

typedef struct combo {
    const char *name;
    unsigned c1, c2, s1, s2;
} combo;

/* Each run ends with a close: the client's FZ_C2_CLOSE or the server's
   FZ_S_CLOSE after the first line. */
static const combo combos[] = {
    { "ec", 0, FZ_C2_CLOSE, 0, 0 },
    { "ec-query", 1, FZ_C2_CLOSE, 2, 0 },
    { "ec-ip", 1u << 2, FZ_C2_CLOSE, 2, 0 },
    { "rsa-sni", 2u << 2, FZ_C2_CLOSE, 2, 0 },
    { "wildcard", 3u << 2, FZ_C2_CLOSE, 0, 0 },
    { "rsa-only", 0, FZ_C2_CLOSE, 2, FZ_S2_RSA_ONLY },
    { "alpn", FZ_C_ALPN, FZ_C2_CLOSE, FZ_S_ALPN, 0 },
    { "client-cert", FZ_C_CERT, FZ_C2_CLOSE, 0, 0 },
    { "client-cert-required", FZ_C_CERT, FZ_C2_CLOSE, 1, 0 },
    { "no-client-cert-required", 0, 0, 1, 0 },
    { "resume", FZ_C_RESUME, FZ_C2_CLOSE, FZ_S_CACHE, 0 },
    { "server-closes", 0, 0, FZ_S_CLOSE, 0 },
    { "early-data", 0, FZ_C2_EARLY, FZ_S_CLOSE, FZ_S2_EARLY },
    { "starttls", 0, FZ_C2_CLOSE | FZ_C2_STARTTLS, 0, FZ_S2_STARTTLS },
    { "all-suites", 0, FZ_C2_CLOSE | FZ_C2_ALL, FZ_S_ALL | 2, 0 },
    { "all-suites-rsa", 0, FZ_C2_CLOSE | FZ_C2_ALL, FZ_S_ALL | 2, FZ_S2_RSA_ONLY },
    { "pinned", 0, FZ_C2_CLOSE | FZ_C2_PIN, 2, 0 },
    /* www.fuzz.test against the RSA certificate: a host mismatch */
    { "query-mismatch", 1u | (3u << 2), FZ_C2_CLOSE, 2, FZ_S2_RSA_ONLY },
    { "verify-mismatch", 0u | (3u << 2), FZ_C2_CLOSE, 2, FZ_S2_RSA_ONLY },
    { "decide-refuse", 3u | (3u << 2), 0, 2, FZ_S2_RSA_ONLY },
    { "decide-ignore", 2u | (3u << 2), FZ_C2_CLOSE, 2, FZ_S2_RSA_ONLY },
    { "reneg-allowed", 0, FZ_C2_CLOSE | FZ_C2_RENEG, FZ_S_RENEG | 2, 0 },
};

static int
run_pipe(const combo *k, const char *cdir, const char *sdir)
{
    fz_side dc, ds;
    rec rc, rs;
    char path[1024];
    int i, quiet = 0;
    memset(&dc, 0, sizeof dc);
    memset(&ds, 0, sizeof ds);
    dc.f1 = k->c1;
    dc.f2 = k->c2;
    ds.server = 1;
    ds.f1 = k->s1;
    ds.f2 = k->s2;
    rec_init(&rc, k->c1, k->c2);
    rec_init(&rs, k->s1, k->s2);
    sslsocket_init(&cli, NULL);
    sslsocket_init(&srv, NULL);
    if (sslsocket_pipe_connect(&pp, &cli, &srv) != 0)
        return 1;
    fz_client_start(&cli, k->c1, k->c2);
    fz_server_start(&srv, k->s1, k->s2);
    for (i = 0; i < 1000 && quiet < 5; i++) {
        size_t b0 = pp.len[0], b1;
        unsigned ev = sslsocket_poll(&cli);
        fz_after_poll(&cli, &dc);
        rec_add(&rs, pp.buf[0] + b0, pp.len[0] - b0);
        b1 = pp.len[1];
        ev |= sslsocket_poll(&srv);
        fz_after_poll(&srv, &ds);
        rec_add(&rc, pp.buf[1] + b1, pp.len[1] - b1);
        quiet = (ev == 0 && pp.len[0] == b0 && pp.len[1] == b1) ? quiet + 1 : 0;
        if (sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED
            && sslsocket_state(&srv) == SSLSOCKET_UNCONNECTED)
            break;
    }
    if (pp.closed[1])
        rc.hdr[0] |= FZ_C_EOF;
    if (pp.closed[0])
        rs.hdr[0] |= FZ_S_EOF;
    printf("pipe %-24s client %s (%s) server %s (%s), %zu / %zu bytes\n", k->name,
           dc.encrypted ? "encrypted" : "not encrypted", sslsocket_error_string(&cli),
           ds.encrypted ? "encrypted" : "not encrypted", sslsocket_error_string(&srv), rc.len,
           rs.len);
    snprintf(path, sizeof path, "%s/pipe-%s", cdir, k->name);
    rec_write(&rc, path);
    snprintf(path, sizeof path, "%s/pipe-%s", sdir, k->name);
    rec_write(&rs, path);
    sslsocket_abort(&cli);
    sslsocket_abort(&srv);
    return 0;
}

static int
cmd_pipe(const char *cdir, const char *sdir)
{
    size_t i;
    for (i = 0; i < sizeof combos / sizeof combos[0]; i++)
        if (run_pipe(&combos[i], cdir, sdir) != 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ over TCP */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
send_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pf = { fd, POLLOUT, 0 };
            poll(&pf, 1, 100);
            continue;
        }
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Bridge the socket under test `s` (side 1-in of the pipe) to `fd`: bytes
   from fd are recorded and delivered to s, what s sends goes to fd. */
static void
bridge(sslsocket *s, fz_side *d, int fd, int in, rec *r, int eof_flag)
{
    int64_t end = now_ms() + 8000, linger = 0;
    int peer_eof = 0, shut = 0;
    while (now_ms() < end) {
        unsigned char buf[4096];
        size_t room = sizeof pp.buf[in] - pp.len[in];
        struct pollfd pf = { fd, POLLIN, 0 };
        int moved = 0;
        if (sslsocket_state(s) != SSLSOCKET_UNCONNECTED) {
            moved |= sslsocket_poll(s) != 0;
            fz_after_poll(s, d);
        }
        if (pp.len[1 - in] > 0) {
            if (send_all(fd, pp.buf[1 - in], pp.len[1 - in]) < 0)
                pp.closed[in] = 1; /* the peer left: s sees EOF soon */
            pp.len[1 - in] = 0;
            moved = 1;
        }
        if (sslsocket_state(s) == SSLSOCKET_UNCONNECTED && !shut) {
            shutdown(fd, SHUT_WR); /* let the peer see our close */
            shut = 1;
            linger = now_ms() + 1000;
        }
        if (shut && (peer_eof || now_ms() > linger))
            break;
        if (!peer_eof && room > 0 && poll(&pf, 1, moved ? 0 : 10) > 0) {
            ssize_t k = recv(fd, buf, room < sizeof buf ? room : sizeof buf, 0);
            if (k > 0) {
                rec_add(r, buf, (size_t)k);
                if (!shut) {
                    memcpy(pp.buf[in] + pp.len[in], buf, (size_t)k);
                    pp.len[in] += (size_t)k;
                }
            } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                peer_eof = 1;
                pp.closed[in] = 1;
                r->hdr[0] |= (unsigned char)eof_flag;
            }
        }
    }
}

static int
cmd_client_tcp(unsigned port, unsigned flags, const char *out)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    fz_side d;
    rec r;
    unsigned f1 = flags & 0xFF, f2 = ((flags >> 8) & 0xFF) | FZ_C2_CLOSE;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        return 1;
    }
    fz_setup();
    memset(&d, 0, sizeof d);
    d.f1 = f1;
    d.f2 = f2;
    rec_init(&r, f1, f2);
    sslsocket_init(&cli, NULL);
    sslsocket_init(&srv, NULL);
    sslsocket_pipe_connect(&pp, &cli, &srv);
    fz_client_start(&cli, f1, f2);
    bridge(&cli, &d, fd, 1, &r, FZ_C_EOF);
    printf("client-tcp %s: %s, %s, %zu bytes recorded\n", out,
           d.encrypted ? "encrypted" : "not encrypted", sslsocket_error_string(&cli), r.len);
    rec_write(&r, out);
    close(fd);
    return 0;
}

static int
cmd_server_tcp(unsigned port, unsigned flags, const char *out)
{
    struct sockaddr_in a;
    struct pollfd pf;
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
    fz_side d;
    rec r;
    unsigned f1 = flags & 0xFF, f2 = (flags >> 8) & 0xFF;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0) {
        perror("listen");
        return 1;
    }
    fz_setup();
    pf.fd = lfd;
    pf.events = POLLIN;
    if (poll(&pf, 1, 10000) != 1 || (fd = accept(lfd, NULL, NULL)) < 0) {
        fprintf(stderr, "server-tcp: no client came\n");
        return 1;
    }
    close(lfd);
    memset(&d, 0, sizeof d);
    d.server = 1;
    d.f1 = f1;
    d.f2 = f2;
    rec_init(&r, f1, f2);
    sslsocket_init(&cli, NULL);
    sslsocket_init(&srv, NULL);
    sslsocket_pipe_connect(&pp, &cli, &srv);
    fz_server_start(&srv, f1, f2);
    bridge(&srv, &d, fd, 0, &r, FZ_S_EOF);
    printf("server-tcp %s: %s, %s, %zu bytes recorded\n", out,
           d.encrypted ? "encrypted" : "not encrypted", sslsocket_error_string(&srv), r.len);
    rec_write(&r, out);
    close(fd);
    return 0;
}

static int
cmd_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 1;
    printf("%u\n", (unsigned)ntohs(a.sin_port));
    close(fd);
    return 0;
}

/* Binding without SO_REUSEADDR fails once somebody listens (no connection
   is made: a server that accepts only one would count it). */
static int
cmd_wait_listen(unsigned port)
{
    int i;
    for (i = 0; i < 100; i++) {
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM, 0), r;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = bind(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (r != 0)
            return 0;
        usleep(50000);
    }
    return 1;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "keys") == 0)
        return cmd_keys(argv[2]);
    if (argc == 2 && strcmp(argv[1], "free-port") == 0)
        return cmd_free_port();
    if (argc == 3 && strcmp(argv[1], "wait-listen") == 0)
        return cmd_wait_listen((unsigned)atoi(argv[2]));
    fz_setup();
    if (argc == 4 && strcmp(argv[1], "pipe") == 0)
        return cmd_pipe(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "client-tcp") == 0)
        return cmd_client_tcp((unsigned)atoi(argv[2]), (unsigned)strtoul(argv[3], NULL, 0), argv[4]);
    if (argc == 5 && strcmp(argv[1], "server-tcp") == 0)
        return cmd_server_tcp((unsigned)atoi(argv[2]), (unsigned)strtoul(argv[3], NULL, 0), argv[4]);
    fprintf(stderr, "usage: recorder keys DIR | pipe CDIR SDIR | client-tcp PORT FLAGS OUT"
                    " | server-tcp PORT FLAGS OUT | free-port | wait-listen PORT\n");
    return 2;
}
