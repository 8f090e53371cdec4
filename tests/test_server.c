/* test_server.c - the library's server against real clients (openssl
 * s_client, gnutls-cli, curl) and against its own client over loopback. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"
#include <sys/resource.h>
#include <poll.h>

static unsigned char sstore[128 * 1024], cstore[64 * 1024], cache_mem[64 * 1024];
static sslsocket_config scfg, ccfg;
static sslsocket listener, conn;

static void
server_config(void)
{
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    if (sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"), peers_path("ec.key")))
        printf("server cert: %s\n", sslsocket_config_error_string(&scfg));
    sslsocket_config_set_session_cache(&scfg, cache_mem, sizeof cache_mem);
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    sslsocket_config_add_ca_file(&ccfg, peers_path("ca.pem"));
}

static unsigned
listen_on(const char *addr)
{
    sslsocket_init(&listener, &scfg);
    if (sslsocket_listen(&listener, addr, 0, 0) != 0) { /* SOMAXCONN */
        printf("listen: %s\n", sslsocket_error_string(&listener));
        return 0;
    }
    return sslsocket_local_port(&listener);
}

/* Serve one client: accept, TLS, echo every line back upper-cased... plain
   echo; close when the client closes or after `lines` lines.  Runs until the
   child process `p` exits (bounded).  Returns the child's exit status. */
static int
serve_one(peers_proc *p, int lines, drive_log *l)
{
    int64_t end = peers_now_ms() + 15000;
    int accepted = 0, status = -1, echoed = 0;
    char line[1024];
    while (peers_now_ms() < end) {
        sslsocket *list[2] = { &listener, &conn };
        int st;
        sslsocket_wait(list, accepted ? 2 : 1, 50);
        accepted = drive_accept_tls(&listener, &conn, &scfg, accepted);
        if (accepted) {
            drive_poll(&conn, l);
            while (sslsocket_read_line(&conn, line, sizeof line) > 0) {
                sslsocket_write_string(&conn, line);
                if (++echoed == lines)
                    sslsocket_disconnect(&conn);
            }
        }
        if (p->pid > 0 && waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = -1;
            status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
            break;
        }
    }
    sslsocket_abort(&conn);
    return status;
}

/* Run a client command with `input` on stdin; output goes to client.log. */
static peers_proc
client_cmd(const char *input, char *const argv[])
{
    peers_proc p;
    unlink(peers_path("client.log"));
    p = peers_spawn("client.log", argv);
    if (input && write(p.stdin_fd, input, strlen(input)) < 0)
        printf("write to client failed\n");
    close(p.stdin_fd);
    p.stdin_fd = -1;
    return p;
}

static void test_s_client_echo(void)
{
    char connect[64];
    peers_proc p;
    drive_log l;
    unsigned port;
    const char *out;
    server_config();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    CHECK(sslsocket_state(&listener) == SSLSOCKET_LISTENING);
    snprintf(connect, sizeof connect, "127.0.0.1:%u", port);
    {
        char *argv[] = { "openssl", "s_client", "-connect", connect, "-CAfile", "ca.pem",
                         "-verify_return_error", "-servername", "localhost", "-quiet", NULL };
        p = client_cmd("hello from s_client\n", argv);
    }
    memset(&l, 0, sizeof l);
    CHECK(serve_one(&p, 1, &l) == 0);
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "hello from s_client") != NULL, "client said: %s", out);
    CHECKF(strncmp(l.text, "S3 C M2 E ", 10) == 0, "server events: %s", l.text);
    CHECK(strcmp(sslsocket_server_name(&conn), "localhost") == 0);
    sslsocket_abort(&listener);
}

static void test_sni_alpn_ipv6(void)
{
    char connect[64];
    peers_proc p;
    drive_log l;
    unsigned port;
    const char *out;
    server_config();
    /* a second identity for other.test, RSA */
    REQUIRE(peers_sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem "
                     "-days 30 -subj /CN=other.test -addext subjectAltName=DNS:other.test") == 0);
    REQUIRE(sslsocket_config_add_certificate_file(&scfg, peers_path("other.pem"),
                                                  peers_path("other.key")) == 0);
    REQUIRE(sslsocket_config_set_alpn(&scfg, "http/1.1,imap") == 0);
    port = listen_on("::1");
    REQUIRE(port > 0);
    snprintf(connect, sizeof connect, "[::1]:%u", port);
    {
        char *argv[] = { "openssl", "s_client", "-connect", connect, "-servername", "other.test",
                         "-alpn", "imap,h2", "-ign_eof", NULL };
        p = client_cmd("x\n", argv);
    }
    memset(&l, 0, sizeof l);
    CHECK(serve_one(&p, 1, &l) == 0);
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "CN = other.test") != NULL, "no other.test certificate in: %.300s", out);
    CHECKF(strstr(out, "ALPN protocol: imap") != NULL, "ALPN missing");
    CHECK(strcmp(sslsocket_server_name(&conn), "other.test") == 0);
    CHECK(sslsocket_alpn(&conn) && strcmp(sslsocket_alpn(&conn), "imap") == 0);
    CHECK(strstr(sslsocket_cipher(&conn), "ECDHE_RSA") != NULL);
    sslsocket_abort(&listener);
}

static void test_resumption_s_client(void)
{
    char connect[64];
    peers_proc p;
    drive_log l;
    unsigned port;
    const char *out;
    int i;
    server_config();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    snprintf(connect, sizeof connect, "127.0.0.1:%u", port);
    for (i = 0; i < 2; i++) {
        char *argv1[] = { "openssl", "s_client", "-connect", connect, "-sess_out", "sess.pem",
                          "-ign_eof", NULL };
        char *argv2[] = { "openssl", "s_client", "-connect", connect, "-sess_in", "sess.pem",
                          "-ign_eof", NULL };
        p = client_cmd("x\n", i == 0 ? argv1 : argv2);
        memset(&l, 0, sizeof l);
        CHECK(serve_one(&p, 1, &l) == 0);
    }
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "Reused, TLSv1.2") != NULL, "not resumed: %.400s", out);
    sslsocket_abort(&listener);
}

static void test_client_certificates(void)
{
    char connect[64];
    peers_proc p;
    drive_log l;
    unsigned port;
    server_config();
    REQUIRE(sslsocket_config_add_ca_file(&scfg, peers_path("ca.pem")) == 1);
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    snprintf(connect, sizeof connect, "127.0.0.1:%u", port);
    {   /* QUERY_PEER (server default) records the client's certificate */
        char *argv[] = { "openssl", "s_client", "-connect", connect, "-cert", "client.pem",
                         "-key", "client.key", "-ign_eof", NULL };
        p = client_cmd("x\n", argv);
    }
    memset(&l, 0, sizeof l);
    CHECK(serve_one(&p, 1, &l) == 0);
    REQUIRE(sslsocket_peer_certificate(&conn) != NULL);
    CHECK(strcmp(sslsocket_peer_certificate(&conn)->common_name, "test client") == 0);
    CHECK(sslsocket_ssl_error_count(&conn) == 0);
    /* VERIFY_PEER: a client without a certificate is refused */
    REQUIRE(sslsocket_config_set_peer_verify_mode(&scfg, SSLSOCKET_VERIFY_PEER) == 0);
    {
        char *argv[] = { "openssl", "s_client", "-connect", connect, "-ign_eof", NULL };
        p = client_cmd("x\n", argv);
    }
    memset(&l, 0, sizeof l);
    serve_one(&p, 1, &l);
    CHECKF(strstr(l.text, "X13") != NULL, "server events: %s", l.text);
    CHECK_ERR(&conn, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "handshake failed");
    sslsocket_abort(&listener);
}

static void test_gnutls_cli(void)
{
    char portarg[32];
    peers_proc p;
    drive_log l;
    unsigned port;
    const char *out;
    server_config();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    snprintf(portarg, sizeof portarg, "--port=%u", port);
    {
        char *argv[] = { "gnutls-cli", "--x509cafile=ca.pem", portarg, "localhost", NULL };
        p = client_cmd("hello gnutls\n", argv);
    }
    memset(&l, 0, sizeof l);
    CHECK(serve_one(&p, 1, &l) == 0);
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "hello gnutls") != NULL, "gnutls-cli said: %.400s", out);
    sslsocket_abort(&listener);
}

/* STARTTLS on the server side against `openssl s_client -starttls smtp`. */
static void test_starttls_smtp(void)
{
    char connect[64], line[256];
    peers_proc p;
    drive_log l;
    unsigned port;
    const char *out;
    int64_t end;
    int accepted = 0, upgraded = 0, st;
    server_config();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    snprintf(connect, sizeof connect, "127.0.0.1:%u", port);
    {
        char *argv[] = { "openssl", "s_client", "-connect", connect, "-starttls", "smtp",
                         "-CAfile", "ca.pem", "-quiet", NULL };
        p = client_cmd("QUIT\r\n", argv);
    }
    memset(&l, 0, sizeof l);
    end = peers_now_ms() + 15000;
    while (peers_now_ms() < end && p.pid > 0) {
        sslsocket *list[2] = { &listener, &conn };
        sslsocket_wait(list, accepted ? 2 : 1, 50);
        if (!accepted && (sslsocket_poll(&listener) & SSLSOCKET_EV_NEW_CONNECTION)) {
            sslsocket_init(&conn, &scfg);
            accepted = sslsocket_accept(&listener, &conn) == 1;
            if (accepted)
                sslsocket_write_string(&conn, "220 sslsocket ESMTP\r\n");
        }
        if (accepted) {
            drive_poll(&conn, &l);
            while (sslsocket_read_line(&conn, line, sizeof line) > 0) {
                if (strncmp(line, "EHLO", 4) == 0) {
                    sslsocket_write_string(&conn, "250-sslsocket\r\n250 STARTTLS\r\n");
                } else if (strncmp(line, "STARTTLS", 8) == 0) {
                    /* queue the answer and switch at once: it still leaves
                       as plaintext, and nothing is read in between */
                    sslsocket_write_string(&conn, "220 go ahead\r\n");
                    CHECK(sslsocket_start_server_encryption(&conn) == 0);
                    upgraded = 1;
                } else if (strncmp(line, "QUIT", 4) == 0) {
                    CHECK(sslsocket_is_encrypted(&conn));
                    sslsocket_write_string(&conn, "221 bye\r\n");
                    sslsocket_disconnect(&conn);
                }
            }
        }
        if (waitpid(p.pid, &st, WNOHANG) == p.pid)
            p.pid = -1;
    }
    CHECK(upgraded);
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "221 bye") != NULL, "s_client said: %.400s", out);
    peers_kill(&p);
    sslsocket_abort(&conn);
    sslsocket_abort(&listener);
}

/* Running check of a stream made of repeated `chunk`s: every completed
   chunk's hash must equal `want`; `bad` counts the ones that do not. */
static void
consume(const unsigned char *buf, size_t n, size_t *got, uint32_t *sum, uint32_t want,
        size_t chunk, int *bad)
{
    size_t i;
    for (i = 0; i < n; i++) {
        *sum = *sum * 31 + buf[i];
        if (++*got % chunk == 0) {
            *bad += *sum != want;
            *sum = 0;
        }
    }
}

/* Our client against our server over loopback: 100 MiB both ways at once. */
static void test_loopback_100mib(void)
{
    static sslsocket cli;
    static unsigned char chunk[65536];
    const size_t total = 100u << 20;
    size_t sent_c = 0, sent_s = 0, got_c = 0, got_s = 0, i;
    uint32_t sum_out = 0, sum_c = 0, sum_s = 0;
    unsigned port;
    int accepted = 0, bad = 0;
    int64_t end;
    server_config();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    for (i = 0; i < sizeof chunk; i++)
        chunk[i] = (unsigned char)(i * 31 + 7);
    for (i = 0; i < sizeof chunk; i++)
        sum_out = sum_out * 31 + chunk[i];
    (void)sum_c;
    sslsocket_init(&cli, &ccfg);
    REQUIRE(sslsocket_connect_encrypted(&cli, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    end = peers_now_ms() + 120000;
    while ((got_c < total || got_s < total) && peers_now_ms() < end) {
        sslsocket *list[3] = { &listener, &cli, &conn };
        unsigned char buf[16384];
        ptrdiff_t n;
        sslsocket_wait(list, accepted ? 3 : 2, 100);
        accepted = drive_accept_tls(&listener, &conn, &scfg, accepted);
        sslsocket_poll(&cli);
        if (accepted)
            sslsocket_poll(&conn);
        if (sslsocket_state(&cli) != SSLSOCKET_CONNECTED)
            break;
        while (sent_c < total && (n = sslsocket_write(&cli, chunk + sent_c % sizeof chunk,
                                                     sizeof chunk - sent_c % sizeof chunk)) > 0)
            sent_c += (size_t)n;
        while (accepted && sent_s < total
               && (n = sslsocket_write(&conn, chunk + sent_s % sizeof chunk,
                                       sizeof chunk - sent_s % sizeof chunk)) > 0)
            sent_s += (size_t)n;
        while ((n = sslsocket_read(&cli, buf, sizeof buf)) > 0)
            consume(buf, (size_t)n, &got_c, &sum_c, sum_out, sizeof chunk, &bad);
        while (accepted && (n = sslsocket_read(&conn, buf, sizeof buf)) > 0)
            consume(buf, (size_t)n, &got_s, &sum_s, sum_out, sizeof chunk, &bad);
    }
    CHECKF(got_c == total && got_s == total, "client got %zu, server got %zu (%s / %s)", got_c,
           got_s, sslsocket_error_string(&cli), sslsocket_error_string(&conn));
    CHECK(bad == 0);
    sslsocket_abort(&cli);
    sslsocket_abort(&conn);
    sslsocket_abort(&listener);
}

/* Bad input to the server API. */
static void test_server_misuse(void)
{
    static sslsocket other;
    server_config();
    sslsocket_init(&listener, &scfg);
    CHECK(sslsocket_listen(&listener, "not-an-ip", 0, 0) == -1);
    CHECK_ERR(&listener, SSLSOCKET_ERR_OPERATION, "not an IP address");
    CHECK(sslsocket_listen(&listener, "127.0.0.1", 70000, 0) == -1);
    CHECK_ERR(&listener, SSLSOCKET_ERR_OPERATION, "out of range");
    CHECK(sslsocket_accept(&listener, &conn) == -1);
    CHECK_ERR(&listener, SSLSOCKET_ERR_OPERATION, "not listening");
    REQUIRE(sslsocket_listen(&listener, "127.0.0.1", 0, 0) == 0);
    CHECK(sslsocket_accept(&listener, NULL) == -1);
    CHECK(sslsocket_accept(&listener, &conn) == 0); /* nothing pending */
    sslsocket_init(&other, &scfg);
    CHECK(sslsocket_listen(&other, "127.0.0.1", sslsocket_local_port(&listener), 0) == -1);
    CHECK_ERR(&other, SSLSOCKET_ERR_ADDRESS_IN_USE, "cannot listen on 127.0.0.1");
    sslsocket_init(&conn, &scfg);
    CHECK_REFUSED(&conn, sslsocket_start_server_encryption(&conn), "not connected");
    sslsocket_abort(&listener);
    CHECK(sslsocket_state(&listener) == SSLSOCKET_UNCONNECTED);
}


/* A small multi-client echo server over an array of sockets, and clients
   made with the library too: the harness for the scale and hostile tests. */
#define MAXC 1100
static sslsocket *srv_conns, *cli_socks;
static int srv_used[MAXC];

static void
harness_alloc(void)
{
    if (srv_conns == NULL) {
        srv_conns = (sslsocket *)calloc(MAXC, sizeof *srv_conns);
        cli_socks = (sslsocket *)calloc(MAXC, sizeof *cli_socks);
    }
    memset(srv_used, 0, sizeof srv_used);
}

/* One round of the server: accept into free slots, echo lines, free
   closed slots.  Returns how many connections are open. */
static int
server_round(void)
{
    int i, open = 0;
    char line[512];
    while (sslsocket_has_pending_connections(&listener)) {
        for (i = 0; i < MAXC && srv_used[i]; i++) {
        }
        if (i == MAXC)
            break; /* full: the rest waits in the kernel's backlog */
        sslsocket_init(&srv_conns[i], &scfg);
        if (sslsocket_accept(&listener, &srv_conns[i]) != 1)
            break;
        srv_used[i] = 1;
        sslsocket_start_server_encryption(&srv_conns[i]);
    }
    for (i = 0; i < MAXC; i++) {
        if (!srv_used[i])
            continue;
        sslsocket_poll(&srv_conns[i]);
        while (sslsocket_read_line(&srv_conns[i], line, sizeof line) > 0)
            sslsocket_write_string(&srv_conns[i], line);
        if (sslsocket_state(&srv_conns[i]) == SSLSOCKET_UNCONNECTED)
            srv_used[i] = 0;
        else
            open++;
    }
    return open;
}

/* 1,000 concurrent TLS clients against one single-threaded server: each
   handshakes, sends a line, gets it back, disconnects. */
static void test_thousand_clients(void)
{
    const int n = 1000;
    int i, done = 0, failed = 0, rounds = 0;
    static int state[MAXC]; /* 0 connecting, 1 sent, 2 done, 3 failed */
    struct rlimit rl;
    int64_t end;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    REQUIRE(rl.rlim_cur >= 2 * (rlim_t)n + 64);
    server_config();
    harness_alloc();
    REQUIRE(listen_on("127.0.0.1") > 0);
    for (i = 0; i < n; i++) {
        state[i] = 0;
        sslsocket_init(&cli_socks[i], &ccfg);
        REQUIRE(sslsocket_connect_encrypted(&cli_socks[i], "127.0.0.1",
                                            sslsocket_local_port(&listener),
                                            SSLSOCKET_READ_WRITE) == 0);
    }
    end = peers_now_ms() + 240000;
    while (done + failed < n && peers_now_ms() < end) {
        struct pollfd pf[1];
        rounds++;
        pf[0].fd = sslsocket_fd(&listener);
        pf[0].events = POLLIN;
        poll(pf, 1, 1); /* the clients below are polled without waiting */
        server_round();
        for (i = 0; i < n; i++) {
            char line[64];
            sslsocket *c = &cli_socks[i];
            if (state[i] >= 2)
                continue;
            sslsocket_poll(c);
            if (state[i] == 0 && sslsocket_is_encrypted(c)) {
                snprintf(line, sizeof line, "client %d\n", i);
                sslsocket_write_string(c, line);
                state[i] = 1;
            } else if (state[i] == 1 && sslsocket_read_line(c, line, sizeof line) > 0) {
                char want[64];
                snprintf(want, sizeof want, "client %d\n", i);
                state[i] = strcmp(line, want) == 0 ? 2 : 3;
                sslsocket_disconnect(c);
                done += state[i] == 2;
                failed += state[i] == 3;
            } else if (sslsocket_state(c) == SSLSOCKET_UNCONNECTED) {
                state[i] = 3;
                failed++;
                if (failed < 5)
                    printf("client %d: %s\n", i, sslsocket_error_string(c));
            }
        }
    }
    CHECKF(done == n && failed == 0, "%d done, %d failed in %d rounds", done, failed, rounds);
    for (i = 0; i < n; i++)
        sslsocket_abort(&cli_socks[i]);
    for (i = 0; i < MAXC; i++)
        if (srv_used[i])
            sslsocket_abort(&srv_conns[i]);
    sslsocket_abort(&listener);
}

/* Hostile clients cost the server only their own socket: one stalls in
   the handshake (timeout), one sends garbage, one leaves mid-handshake; a
   good client served at the same time still gets its echo. */
static void test_hostile_clients(void)
{
    int raw[3], i, good_done = 0;
    struct sockaddr_in a;
    unsigned port;
    int64_t end;
    char line[64];
    server_config();
    REQUIRE(sslsocket_config_set_timeouts(&scfg, 0, 0, 500, 0) == 0);
    harness_alloc();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 3; i++) {
        raw[i] = socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(connect(raw[i], (struct sockaddr *)&a, sizeof a) == 0);
    }
    /* [0] says nothing; [1] sends garbage; [2] sends half a ClientHello */
    CHECK(write(raw[1], "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == 27);
    CHECK(write(raw[2], "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) == 11);
    close(raw[2]);
    raw[2] = -1;
    sslsocket_init(&cli_socks[0], &ccfg);
    REQUIRE(sslsocket_connect_encrypted(&cli_socks[0], "127.0.0.1", port,
                                        SSLSOCKET_READ_WRITE) == 0);
    sslsocket_write_string(&cli_socks[0], "still served\n");
    end = peers_now_ms() + 5000;
    while (peers_now_ms() < end) {
        int open;
        sslsocket_wait(&cli_socks, 0, 0); /* no-op wait: keeps the API honest */
        open = server_round();
        sslsocket_poll(&cli_socks[0]);
        if (!good_done && sslsocket_read_line(&cli_socks[0], line, sizeof line) > 0) {
            CHECK(strcmp(line, "still served\n") == 0);
            good_done = 1;
            sslsocket_disconnect(&cli_socks[0]);
        }
        if (good_done && open == 0 && peers_now_ms() > end - 4000)
            break;
        {
            struct pollfd pf = { 0, POLLIN, 0 };
            pf.fd = sslsocket_fd(&listener);
            poll(&pf, 1, 10);
        }
    }
    CHECK(good_done);
    CHECKF(server_round() == 0, "hostile connections still open");
    /* every hostile connection ended with its own reason */
    {
        int timeouts = 0, failures = 0;
        for (i = 0; i < MAXC; i++) {
            int e = sslsocket_error(&srv_conns[i]);
            if (!srv_conns[i].cfg)
                continue;
            timeouts += e == SSLSOCKET_ERR_SOCKET_TIMEOUT
                        && strstr(sslsocket_error_string(&srv_conns[i]), "handshake timed out");
            failures += e == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED;
        }
        CHECKF(timeouts == 1, "timeouts %d", timeouts);
        CHECKF(failures == 2, "handshake failures %d", failures);
    }
    for (i = 0; i < 3; i++)
        if (raw[i] >= 0)
            close(raw[i]);
    sslsocket_abort(&listener);
}

/* curl fetches a page from a tiny HTTPS responder built on the library. */
static void test_curl(void)
{
    char resolve[80], url[80], line[512];
    peers_proc p;
    unsigned port;
    int accepted = 0, st, replied = 0;
    int64_t end;
    const char *out;
    server_config();
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    snprintf(resolve, sizeof resolve, "localhost:%u:127.0.0.1", port);
    snprintf(url, sizeof url, "https://localhost:%u/hello", port);
    {
        char *argv[] = { "curl", "-sS", "--cacert", "ca.pem", "--resolve", resolve,
                         "--tlsv1.2", "--tls-max", "1.2", url, NULL };
        p = client_cmd(NULL, argv);
    }
    end = peers_now_ms() + 15000;
    while (p.pid > 0 && peers_now_ms() < end) {
        sslsocket *list[2] = { &listener, &conn };
        sslsocket_wait(list, accepted ? 2 : 1, 50);
        accepted = drive_accept_tls(&listener, &conn, &scfg, accepted);
        if (accepted) {
            sslsocket_poll(&conn);
            while (!replied && sslsocket_read_line(&conn, line, sizeof line) > 0) {
                if (strcmp(line, "\r\n") == 0) {
                    sslsocket_write_string(&conn, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n"
                                                  "Connection: close\r\n\r\nhello, curl!\r\n");
                    sslsocket_disconnect(&conn);
                    replied = 1;
                }
            }
        }
        if (waitpid(p.pid, &st, WNOHANG) == p.pid) {
            p.pid = -1;
            CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "curl exit %d", WEXITSTATUS(st));
        }
    }
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strcmp(out, "hello, curl!\r\n") == 0, "curl said: %s", out);
    peers_kill(&p);
    sslsocket_abort(&conn);
    sslsocket_abort(&listener);
}


/* Renegotiation: refused by default (the client's attempt fails), done
   when the configuration allows it (secure renegotiation only); the
   connection carries data afterwards.  s_client reads "R" and the next
   line in one go, so the line is written once the new handshake shows in
   its log. */
static int
count(const char *hay, const char *needle)
{
    int n = 0;
    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay++;
    }
    return n;
}

static void
renegotiation_case(int allow)
{
    char connect[64], line[256];
    peers_proc p;
    drive_log l;
    unsigned port;
    const char *out = "";
    int accepted = 0, wrote = 0, st;
    int64_t end;
    server_config();
    sslsocket_config_set_renegotiation(&scfg, allow);
    port = listen_on("127.0.0.1");
    REQUIRE(port > 0);
    snprintf(connect, sizeof connect, "127.0.0.1:%u", port);
    {
        char *argv[] = { "openssl", "s_client", "-connect", connect, "-tls1_2", NULL };
        unlink(peers_path("client.log"));
        p = peers_spawn("client.log", argv);
        CHECK(write(p.stdin_fd, "R\n", 2) == 2);
    }
    memset(&l, 0, sizeof l);
    end = peers_now_ms() + 10000;
    while (p.pid > 0 && peers_now_ms() < end) {
        sslsocket *list[2] = { &listener, &conn };
        sslsocket_wait(list, accepted ? 2 : 1, 20);
        accepted = drive_accept_tls(&listener, &conn, &scfg, accepted);
        if (!accepted)
            continue;
        drive_poll(&conn, &l);
        while (sslsocket_read_line(&conn, line, sizeof line) > 0) {
            sslsocket_write_string(&conn, line);
            sslsocket_disconnect(&conn);
        }
        out = peers_slurp(peers_path("client.log"), NULL);
        if (!wrote && strstr(out, "RENEGOTIATING")
            && count(strstr(out, "RENEGOTIATING"), "verify return:1") >= 3) {
            CHECK(write(p.stdin_fd, "after renegotiation\n", 20) == 20);
            wrote = 1;
        }
        if (waitpid(p.pid, &st, WNOHANG) == p.pid)
            p.pid = -1;
        if (sslsocket_state(&conn) == SSLSOCKET_UNCONNECTED)
            break;
    }
    if (p.stdin_fd >= 0)
        close(p.stdin_fd);
    p.stdin_fd = -1;
    peers_wait_exit(&p, 5000); /* s_client prints what it got, then exits */
    peers_kill(&p);
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "RENEGOTIATING") != NULL, "s_client: %.300s", out);
    if (allow) {
        CHECK(wrote);
        CHECKF(count(out, "after renegotiation") == 1, "no echo after renegotiation");
        CHECK(sslsocket_error(&conn) == SSLSOCKET_ERR_UNKNOWN); /* closed by us, cleanly */
    } else {
        CHECKF(strstr(out, "no renegotiation") != NULL, "no refusal seen: %.600s", out);
        CHECK(!wrote);
    }
    sslsocket_abort(&conn);
    sslsocket_abort(&listener);
}

static void test_renegotiation_refused(void) { renegotiation_case(0); }
static void test_renegotiation_allowed(void) { renegotiation_case(1); }

static const testlib_case tests[] = {
    { "s_client_echo", test_s_client_echo },
    { "sni_alpn_ipv6", test_sni_alpn_ipv6 },
    { "resumption_s_client", test_resumption_s_client },
    { "client_certificates", test_client_certificates },
    { "gnutls_cli", test_gnutls_cli },
    { "starttls_smtp", test_starttls_smtp },
    { "loopback_100mib", test_loopback_100mib },
    { "server_misuse", test_server_misuse },
    { "curl", test_curl },
    { "renegotiation_refused", test_renegotiation_refused },
    { "renegotiation_allowed", test_renegotiation_allowed },
    { "hostile_clients", test_hostile_clients },
    { "thousand_clients", test_thousand_clients },
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
