/* test_connect.c - host lookup and TCP connect end to end: /etc/hosts-style
 * files, the built-in resolver against fake DNS servers, happy eyeballs,
 * deadlines, local bind and addresses.  No TLS peer is needed for most:
 * plain listening sockets made by the test itself stand in. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"
#include <poll.h>

static sslsocket_config cfg;
static sslsocket sock;

/* A plain TCP listener on `addr` (v4 or v6 literal) and `port` (0 = any). */
static int
tcp_listen(const char *addr, unsigned *port, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, one = 1;
    memset(&ss, 0, sizeof ss);
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((unsigned short)*port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((unsigned short)*port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        sl = sizeof *a;
    }
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, backlog) < 0) {
        close(fd);
        return -1;
    }
    sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Fill a listener's accept queue so further SYNs are dropped: connections
   to it hang in SYN_SENT, a black hole on loopback. */
static int
black_hole(const char *addr, unsigned *port, int fds[4])
{
    int lfd = tcp_listen(addr, port, 0), i;
    for (i = 0; i < 3; i++) {
        struct sockaddr_in6 a6;
        struct sockaddr_in a4;
        fds[i] = socket(strchr(addr, ':') ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        memset(&a6, 0, sizeof a6);
        memset(&a4, 0, sizeof a4);
        if (strchr(addr, ':')) {
            a6.sin6_family = AF_INET6;
            a6.sin6_port = htons((unsigned short)*port);
            inet_pton(AF_INET6, addr, &a6.sin6_addr);
            connect(fds[i], (struct sockaddr *)&a6, sizeof a6);
        } else {
            a4.sin_family = AF_INET;
            a4.sin_port = htons((unsigned short)*port);
            inet_pton(AF_INET, addr, &a4.sin_addr);
            connect(fds[i], (struct sockaddr *)&a4, sizeof a4);
        }
    }
    fds[3] = lfd;
    {   /* wait (bounded) until the first connection is established: the
           accept queue is then full and later SYNs go unanswered */
        struct pollfd pf = { 0, POLLOUT, 0 };
        pf.fd = fds[0];
        poll(&pf, 1, 1000);
    }
    return lfd;
}

static void
close_all(int *fds, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* Start tests/fakedns.py MODE; returns its port. */
static unsigned
fake_dns(peers_proc *p, const char *mode)
{
    char portfile[300], *argv[] = { "python3", NULL, NULL, NULL, NULL };
    char script[600];
    const char *txt;
    int64_t end = peers_now_ms() + 5000;
    snprintf(script, sizeof script, "%s/tests/fakedns.py", getenv("PWD") ? getenv("PWD") : ".");
    snprintf(portfile, sizeof portfile, "%s", peers_path("dns.port"));
    unlink(portfile);
    argv[1] = script;
    argv[2] = (char *)mode;
    argv[3] = portfile;
    *p = peers_spawn("dns.log", argv);
    while (peers_now_ms() < end) {
        txt = peers_slurp(portfile, NULL);
        if (txt[0] && strchr(txt, '\n'))
            return (unsigned)atoi(txt);
        {
            struct timespec ts = { 0, 10 * 1000000 };
            nanosleep(&ts, NULL); /* polling the port file */
        }
    }
    return 0;
}

static void
base_config(void)
{
    FILE *f = fopen(peers_path("hosts"), "w");
    fprintf(f, "# test hosts file\n127.0.0.1 v4only.test\n::1 v6only.test\n"
               "::1 both.test\n127.0.0.1 both.test   alias.test\n");
    fclose(f);
    f = fopen(peers_path("resolv.conf"), "w");
    fprintf(f, "nameserver 127.0.0.1\n");
    fclose(f);
    sslsocket_config_init(&cfg, NULL, 0);
    sslsocket_config_set_resolver_files(&cfg, peers_path("hosts"), peers_path("resolv.conf"));
}

static int
connected(sslsocket *s, drive_log *l)
{
    (void)l;
    return sslsocket_state(s) == SSLSOCKET_CONNECTED;
}

static void test_hosts_file(void)
{
    unsigned port = 0;
    int lfd;
    drive_log l;
    char addr[64];
    base_config();
    lfd = tcp_listen("127.0.0.1", &port, 8);
    REQUIRE(lfd >= 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_connect(&sock, "ALIAS.test", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, connected, 3000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 C ") == 0, "events %s", l.text);
    CHECK(strcmp(sslsocket_remote_address(&sock, addr, sizeof addr), "127.0.0.1") == 0);
    CHECK(sslsocket_remote_port(&sock) == port);
    CHECK(sslsocket_local_port(&sock) != 0);
    sslsocket_abort(&sock);
    close(lfd);
}

/* both.test has ::1 and 127.0.0.1; only 127.0.0.1 listens and ::1 is a
   black hole: IPv6 is tried first, IPv4 starts 250 ms later and wins. */
static void test_happy_eyeballs(void)
{
    unsigned port = 0;
    int lfd, hole[4];
    drive_log l;
    char addr[64];
    int64_t t0, dt;
    base_config();
    lfd = tcp_listen("127.0.0.1", &port, 8);
    REQUIRE(lfd >= 0);
    REQUIRE(black_hole("::1", &port, hole) >= 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    t0 = peers_now_ms();
    REQUIRE(sslsocket_connect(&sock, "both.test", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, connected, 5000));
    dt = peers_now_ms() - t0;
    CHECK(strcmp(sslsocket_remote_address(&sock, addr, sizeof addr), "127.0.0.1") == 0);
    CHECKF(dt >= 200 && dt < 2000, "connected after %lld ms", (long long)dt);
    sslsocket_abort(&sock);
    close_all(hole, 4);
    close(lfd);
}

/* A refused first address falls through to the next one at once. */
static void test_next_address_after_refusal(void)
{
    unsigned port = 0;
    int lfd;
    drive_log l;
    char addr[64];
    base_config();
    lfd = tcp_listen("127.0.0.1", &port, 8); /* nothing on [::1]:port */
    REQUIRE(lfd >= 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_connect(&sock, "both.test", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, connected, 3000));
    CHECK(strcmp(sslsocket_remote_address(&sock, addr, sizeof addr), "127.0.0.1") == 0);
    sslsocket_abort(&sock);
    close(lfd);
}

static void test_connect_timeout(void)
{
    unsigned port = 0;
    int hole[4];
    drive_log l;
    int64_t t0, dt;
    base_config();
    REQUIRE(sslsocket_config_set_timeouts(&cfg, 0, 300, 0, 0) == 0);
    REQUIRE(black_hole("127.0.0.1", &port, hole) >= 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    t0 = peers_now_ms();
    REQUIRE(sslsocket_connect(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    drive_until(&sock, &l, NULL, 3000);
    dt = peers_now_ms() - t0;
    CHECKF(dt >= 290 && dt < 1000, "gave up after %lld ms", (long long)dt);
    CHECKF(strcmp(l.text, "S1 S2 H S0 X5 ") == 0, "events %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SOCKET_TIMEOUT, "connect timed out after 300 ms");
    close_all(hole, 4);
}

static void test_dns_answer(void)
{
    peers_proc p;
    char ns[64], addr[64];
    unsigned port = 0, dport;
    int lfd;
    drive_log l;
    base_config();
    dport = fake_dns(&p, "answer");
    REQUIRE(dport > 0);
    snprintf(ns, sizeof ns, "127.0.0.1:%u", dport);
    REQUIRE(sslsocket_config_add_nameserver(&cfg, ns) == 0);
    lfd = tcp_listen("::1", &port, 8);
    REQUIRE(lfd >= 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_connect(&sock, "www.example.test", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_HOST_LOOKUP);
    CHECK(sslsocket_fd(&sock) >= 0); /* the resolver's socket */
    CHECK(drive_until(&sock, &l, connected, 3000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 C ") == 0, "events %s", l.text);
    CHECK(strcmp(sslsocket_remote_address(&sock, addr, sizeof addr), "::1") == 0);
    sslsocket_abort(&sock);
    close(lfd);
    peers_kill(&p);
}

static void test_dns_nxdomain(void)
{
    peers_proc p;
    char ns[64];
    unsigned dport;
    drive_log l;
    base_config();
    dport = fake_dns(&p, "nxdomain");
    REQUIRE(dport > 0);
    snprintf(ns, sizeof ns, "127.0.0.1:%u", dport);
    REQUIRE(sslsocket_config_add_nameserver(&cfg, ns) == 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_connect_encrypted(&sock, "nosuch.test", 443, SSLSOCKET_READ_WRITE) == 0);
    drive_until(&sock, &l, NULL, 3000);
    CHECKF(strcmp(l.text, "S1 S0 X2 ") == 0, "events %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_HOST_NOT_FOUND, "host not found: nosuch.test (NXDOMAIN");
    peers_kill(&p);
}

/* A server that never answers: the lookup deadline fires; no call blocks. */
static void test_dns_silent(void)
{
    peers_proc p;
    char ns[64];
    unsigned dport;
    drive_log l;
    int64_t t0, worst = 0, end;
    base_config();
    dport = fake_dns(&p, "silent");
    REQUIRE(dport > 0);
    snprintf(ns, sizeof ns, "127.0.0.1:%u", dport);
    REQUIRE(sslsocket_config_add_nameserver(&cfg, ns) == 0);
    REQUIRE(sslsocket_config_set_timeouts(&cfg, 400, 0, 0, 0) == 0);
    sslsocket_init(&sock, &cfg);
    memset(&l, 0, sizeof l);
    t0 = peers_now_ms();
    REQUIRE(sslsocket_connect(&sock, "quiet.test", 80, SSLSOCKET_READ_WRITE) == 0);
    end = t0 + 3000;
    while (sslsocket_state(&sock) != SSLSOCKET_UNCONNECTED && peers_now_ms() < end) {
        sslsocket *list[1] = { &sock };
        int64_t a;
        sslsocket_wait(list, 1, 1000);
        a = peers_now_ms();
        drive_poll(&sock, &l);
        if (peers_now_ms() - a > worst)
            worst = peers_now_ms() - a;
    }
    CHECKF(peers_now_ms() - t0 >= 390 && peers_now_ms() - t0 < 1500, "after %lld ms",
           (long long)(peers_now_ms() - t0));
    CHECKF(worst < 50, "a poll took %lld ms", (long long)worst);
    CHECK(sslsocket_error(&sock) == SSLSOCKET_ERR_HOST_NOT_FOUND
          || sslsocket_error(&sock) == SSLSOCKET_ERR_SOCKET_TIMEOUT);
    CHECKF(strstr(sslsocket_error_string(&sock), "timed out") != NULL, "%s",
           sslsocket_error_string(&sock));
    peers_kill(&p);
}

static void test_local_bind(void)
{
    unsigned port = 0, lport = peers_free_port();
    int lfd;
    drive_log l;
    char addr[64];
    base_config();
    lfd = tcp_listen("127.0.0.1", &port, 8);
    REQUIRE(lfd >= 0);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_bind(&sock, "127.0.0.1", lport) == 0);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_BOUND);
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_connect(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, connected, 3000));
    CHECK(sslsocket_local_port(&sock) == lport);
    CHECK(strcmp(sslsocket_local_address(&sock, addr, sizeof addr), "127.0.0.1") == 0);
    sslsocket_abort(&sock);
    CHECK(sslsocket_bind(&sock, "nonsense", 0) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "not an IP address");
    CHECK(sslsocket_bind(&sock, NULL, 70000) == -1);
    close(lfd);
}

static void test_bad_input(void)
{
    base_config();
    sslsocket_init(&sock, &cfg);
    CHECK(sslsocket_connect(&sock, "", 80, SSLSOCKET_READ_WRITE) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "sslsocket_connect: empty host name");
    CHECK(sslsocket_connect(&sock, NULL, 80, SSLSOCKET_READ_WRITE) == -1);
    CHECK(sslsocket_connect_encrypted(&sock, "localhost", 0, SSLSOCKET_READ_WRITE) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "port 0 out of range");
    CHECK(sslsocket_connect(&sock, "localhost", 65536, SSLSOCKET_READ_WRITE) == -1);
    CHECK(sslsocket_connect(&sock, "localhost", 80, 0) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "invalid open mode");
    {
        char big[400];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        CHECK(sslsocket_connect(&sock, big, 80, SSLSOCKET_READ_WRITE) == -1);
        CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "host name too long");
    }
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK(sslsocket_write(&sock, "x", 1) == -1);
    CHECK_ERR(&sock, SSLSOCKET_ERR_OPERATION, "not connected");
    CHECK(sslsocket_poll(NULL) == 0);
    CHECK(sslsocket_connect(NULL, "x", 1, SSLSOCKET_READ_WRITE) == -1);
    CHECK(sslsocket_wait(NULL, 1, 0) == -1);
}

static const testlib_case tests[] = {
    { "hosts_file", test_hosts_file },
    { "happy_eyeballs", test_happy_eyeballs },
    { "next_address_after_refusal", test_next_address_after_refusal },
    { "connect_timeout", test_connect_timeout },
    { "dns_answer", test_dns_answer },
    { "dns_nxdomain", test_dns_nxdomain },
    { "dns_silent", test_dns_silent },
    { "local_bind", test_local_bind },
    { "bad_input", test_bad_input },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    if (peers_setup() != 0) {
        printf("fixture setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    return testlib_main(argc, argv, tests);
}
