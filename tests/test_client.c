/* test_client.c - the client against real peers: openssl s_server and
 * gnutls-serv on 127.0.0.1 and ::1, started by the tests themselves. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

static unsigned char store[512 * 1024];
static sslsocket_config cfg;
static sslsocket sock;

static void
fresh_config(void)
{
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_add_ca_file(&cfg, peers_path("ca.pem")) != 1)
        printf("CA load failed: %s\n", sslsocket_config_error_string(&cfg));
}

/* Start `openssl s_server` with extra arguments; returns its port.  These
   are the TLS 1.2 client's tests: the server speaks TLS 1.2 unless extra
   names a version (test_tls13 has the TLS 1.3 ones and the fallback). */
static unsigned
start_s_server(peers_proc *p, const char *host, const char *cert, const char *key,
               const char *extra)
{
    char opts[512];
    snprintf(opts, sizeof opts, "-quiet %s %s",
             extra != NULL && strstr(extra, "-tls1") != NULL ? "" : "-tls1_2", extra ? extra : "");
    return peers_s_server(p, "s_server.log", host, cert, key, opts);
}

static int
got_http(sslsocket *s, drive_log *l)
{
    (void)s;
    return l->rx_len > 0 && strstr((char *)l->rx, "\r\n\r\n") != NULL;
}

/* One HTTPS exchange with `openssl s_server -www`; checks the event order. */
static void
https_exchange(const char *host, const char *cert, const char *key, const char *ciphers,
               const char *expect_cipher)
{
    peers_proc p;
    unsigned port;
    drive_log l;
    unsigned char rx[16384];
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    fresh_config();
    if (ciphers)
        REQUIRE(sslsocket_config_set_ciphers(&cfg, ciphers) == 0);
    port = start_s_server(&p, host, peers_path(cert), peers_path(key), "-www");
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, host, port, SSLSOCKET_READ_WRITE) == 0);
    /* written before the handshake: must go out after ENCRYPTED, in order */
    CHECK(sslsocket_write_string(&sock, "GET / HTTP/1.0\r\n") == 16);
    CHECK(sslsocket_write_string(&sock, "\r\n") == 2);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "events: %s", l.text);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECK(strcmp(sslsocket_protocol(&sock), "TLSv1.2") == 0);
    if (expect_cipher)
        CHECKF(strcmp(sslsocket_cipher(&sock), expect_cipher) == 0, "cipher %s",
               sslsocket_cipher(&sock));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", rx);
    CHECK(sslsocket_peer_certificate(&sock) != NULL);
    if (sslsocket_peer_certificate(&sock))
        CHECK(strcmp(sslsocket_peer_certificate(&sock)->common_name, "localhost") == 0);
    CHECK(sslsocket_ssl_error_count(&sock) == 0);
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000));
    CHECKF(strstr(l.text, "S6 S0 D") != NULL, "events: %s", l.text);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    peers_kill(&p);
}

static void test_openssl_ecdsa_v4(void)
{
    https_exchange("127.0.0.1", "ec.pem", "ec.key", NULL, NULL);
}

static void test_openssl_rsa_v6(void)
{
    https_exchange("::1", "rsa.pem", "rsa.key", NULL, NULL);
}

static void test_openssl_chacha(void)
{
    https_exchange("127.0.0.1", "ec.pem", "ec.key",
                   "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                   "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

static void test_openssl_aes256_rsa(void)
{
    https_exchange("127.0.0.1", "rsa.pem", "rsa.key", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
}

static void test_refused(void)
{
    drive_log l;
    unsigned port = peers_free_port();
    memset(&l, 0, sizeof l);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, NULL, 3000));
    CHECKF(strcmp(l.text, "S1 S2 H S0 X0 ") == 0, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_CONNECTION_REFUSED, "refused");
}


static int encrypted_or_closed(sslsocket *s, drive_log *l)
{
    (void)l;
    return sslsocket_is_encrypted(s);
}

/* TLS 1.0 server: refused by default (TLS 1.2 minimum), works when the
   range is opened explicitly. */
static void test_tls10_only_when_allowed(void)
{
    peers_proc p;
    drive_log l;
    unsigned port;
    memset(&l, 0, sizeof l);
    fresh_config();
    port = start_s_server(&p, "127.0.0.1", peers_path("ec.pem"), peers_path("ec.key"),
                          "-www -tls1 -cipher DEFAULT:@SECLEVEL=0");
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(!drive_until(&sock, &l, encrypted_or_closed, 5000));
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "TLS handshake failed");
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_config_set_versions(&cfg, SSLSOCKET_TLS10, SSLSOCKET_TLS12) == 0);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECKF(drive_until(&sock, &l, encrypted_or_closed, 5000), "%s", sslsocket_error_string(&sock));
    CHECK(sslsocket_protocol(&sock) && strcmp(sslsocket_protocol(&sock), "TLSv1.0") == 0);
    sslsocket_abort(&sock);
    peers_kill(&p);
}

/* ALPN: the server picks from our list; the result is readable. */
static void test_alpn(void)
{
    peers_proc p;
    drive_log l;
    unsigned port;
    memset(&l, 0, sizeof l);
    fresh_config();
    REQUIRE(sslsocket_config_set_alpn(&cfg, "h2,http/1.1") == 0);
    port = start_s_server(&p, "127.0.0.1", peers_path("ec.pem"), peers_path("ec.key"),
                          "-www -alpn http/1.1");
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    CHECKF(drive_until(&sock, &l, encrypted_or_closed, 5000), "%s", sslsocket_error_string(&sock));
    CHECK(sslsocket_alpn(&sock) && strcmp(sslsocket_alpn(&sock), "http/1.1") == 0);
    sslsocket_abort(&sock);
    peers_kill(&p);
}

/* Client certificate required by the server (-Verify): fails without one
   (with the server's alert named), works with one. */
static void test_client_cert_required(void)
{
    peers_proc p;
    drive_log l;
    unsigned port;
    unsigned char rx[4096];
    memset(&l, 0, sizeof l);
    fresh_config();
    port = start_s_server(&p, "127.0.0.1", peers_path("rsa.pem"), peers_path("rsa.key"),
                          "-www -Verify 1 -CAfile ca.pem");
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    sslsocket_write_string(&sock, "GET / HTTP/1.0\r\n\r\n");
    drive_until(&sock, &l, NULL, 5000);
    CHECKF(sslsocket_error(&sock) == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED
           || sslsocket_error(&sock) == SSLSOCKET_ERR_SSL_INTERNAL
           || sslsocket_error(&sock) == SSLSOCKET_ERR_REMOTE_HOST_CLOSED,
           "error %d %s", sslsocket_error(&sock), sslsocket_error_string(&sock));
    CHECKF(strstr(sslsocket_error_string(&sock), "alert") != NULL
           || strstr(sslsocket_error_string(&sock), "closed") != NULL,
           "%s", sslsocket_error_string(&sock));
    /* killed by the peer's fatal alert: no CLOSING (Qt) */
    CHECKF(strstr(sslsocket_error_string(&sock), "alert") == NULL
           || strstr(l.text, "X13 S0 D") != NULL, "events: %s", l.text);
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    REQUIRE(sslsocket_config_set_certificate_file(&cfg, peers_path("client.pem"),
                                                  peers_path("client.key")) == 0);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    sslsocket_write_string(&sock, "GET / HTTP/1.0\r\n\r\n");
    CHECKF(drive_until(&sock, &l, got_http, 5000), "%s", sslsocket_error_string(&sock));
    CHECK(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL);
    sslsocket_abort(&sock);
    peers_kill(&p);
}

/* Session resumption: the same socket reconnects and offers its session;
   another socket of the same config reuses it by default; a saved session
   moves to another socket. */
static void test_resumption(void)
{
    peers_proc p;
    drive_log l;
    unsigned port;
    static sslsocket other;
    sslsocket_session saved;
    int i;
    fresh_config();
    port = start_s_server(&p, "127.0.0.1", peers_path("ec.pem"), peers_path("ec.key"), "-www");
    sslsocket_init(&sock, &cfg);
    for (i = 0; i < 2; i++) {
        memset(&l, 0, sizeof l);
        REQUIRE(sslsocket_connect_encrypted(&sock, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
        CHECK(drive_until(&sock, &l, encrypted_or_closed, 5000));
        CHECK(sslsocket_session_resumed(&sock) == (i == 1));
        sslsocket_disconnect(&sock);
        drive_until(&sock, &l, NULL, 5000);
    }
    /* by default a new socket of the same config reuses the session */
    sslsocket_init(&other, &cfg);
    memset(&l, 0, sizeof l);
    REQUIRE(sslsocket_connect_encrypted(&other, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&other, &l, encrypted_or_closed, 5000));
    CHECK(sslsocket_session_resumed(&other));
    sslsocket_disconnect(&other); /* close_notify: s_server keeps the session */
    drive_until(&other, &l, NULL, 5000);
    /* with reuse off, only a session handed over explicitly is offered */
    sslsocket_config_set_client_sessions(&cfg, 0);
    REQUIRE(sslsocket_get_session(&sock, &saved) == 0);
    for (i = 0; i < 2; i++) {
        sslsocket_init(&other, &cfg);
        if (i == 1)
            REQUIRE(sslsocket_set_session(&other, &saved) == 0);
        memset(&l, 0, sizeof l);
        REQUIRE(sslsocket_connect_encrypted(&other, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
        CHECK(drive_until(&other, &l, encrypted_or_closed, 5000));
        CHECK(sslsocket_is_encrypted(&other));
        CHECKF(sslsocket_session_resumed(&other) == (i == 1), "i=%d", i);
        sslsocket_disconnect(&other);
        drive_until(&other, &l, NULL, 5000);
    }
    peers_kill(&p);
}

/* 10 MiB through gnutls-serv --echo, both directions at once, checked. */
static void test_gnutls_echo_10mib(void)
{
    static unsigned char out[10 << 20], in[10 << 20];
    peers_proc p;
    drive_log l;
    unsigned port = peers_gnutls_echo(&p, "rsa.pem", "rsa.key");
    br_sha256_context h;
    unsigned char d1[32], d2[32];
    REQUIRE(port != 0);
    peers_text_lines(out, sizeof out);
    memset(&l, 0, sizeof l);
    l.rx = in;
    l.rx_cap = sizeof in;
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    drive_stream(&sock, &l, out, sizeof out, sizeof in, 60000);
    CHECKF(l.rx_len == sizeof in, "received %zu of %zu (%s)", l.rx_len, sizeof in,
           sslsocket_error_string(&sock));
    br_sha256_init(&h);
    br_sha256_update(&h, out, sizeof out);
    br_sha256_out(&h, d1);
    br_sha256_init(&h);
    br_sha256_update(&h, in, l.rx_len);
    br_sha256_out(&h, d2);
    CHECK(memcmp(d1, d2, 32) == 0);
    CHECK(strstr(sslsocket_cipher(&sock), "ECDHE_RSA") != NULL);
    sslsocket_disconnect(&sock);
    drive_until(&sock, &l, NULL, 5000);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    peers_kill(&p);
}


/* SSLKEYLOGFILE: our line equals the one openssl s_server logs itself. */
static void test_keylog_file(void)
{
    peers_proc p;
    drive_log l;
    unsigned port;
    char mine[512], theirs[512], *nl;
    const char *a, *b;
    memset(&l, 0, sizeof l);
    fresh_config();
    unlink(peers_path("client.keys"));
    unlink(peers_path("server.keys"));
    port = start_s_server(&p, "127.0.0.1", peers_path("ec.pem"), peers_path("ec.key"),
                          "-www -keylogfile server.keys");
    setenv("SSLKEYLOGFILE", peers_path("client.keys"), 1);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, encrypted_or_closed, 5000));
    unsetenv("SSLKEYLOGFILE");
    sslsocket_disconnect(&sock);
    drive_until(&sock, &l, NULL, 5000);
    peers_kill(&p);
    a = peers_slurp(peers_path("client.keys"), NULL);
    b = peers_slurp(peers_path("server.keys"), NULL);
    snprintf(mine, sizeof mine, "%s", a);
    snprintf(theirs, sizeof theirs, "%s", strstr(b, "CLIENT_RANDOM") ? strstr(b, "CLIENT_RANDOM") : "");
    if ((nl = strchr(theirs, '\n')) != NULL)
        nl[1] = 0;
    CHECKF(strncmp(mine, "CLIENT_RANDOM ", 14) == 0 && strlen(mine) == 14 + 64 + 1 + 96 + 1,
           "client.keys: %s", mine);
    CHECKF(strcmp(mine, theirs) == 0, "ours  %s\ntheirs %s", mine, theirs);
}


/* The server asks for a renegotiation (s_server's "r" command): refused by
   default with a no_renegotiation warning, and the connection goes on;
   performed when allowed.  Either way data still flows afterwards. */
static void
server_renegotiation(int allow)
{
    peers_proc p;
    drive_log l;
    unsigned port = peers_free_port();
    char accept[40];
    char *argv[] = { "openssl", "s_server", "-accept", accept, "-cert", "ec.pem",
                     "-key", "ec.key", "-tls1_2", NULL };
    const char *out;
    int64_t end;
    memset(&l, 0, sizeof l);
    snprintf(accept, sizeof accept, "127.0.0.1:%u", port);
    unlink(peers_path("reneg.log"));
    p = peers_spawn("reneg.log", argv);
    REQUIRE(peers_wait_port("127.0.0.1", port, 5000) == 0);
    fresh_config();
    sslsocket_config_set_renegotiation(&cfg, allow);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    REQUIRE(drive_until(&sock, &l, encrypted_or_closed, 5000));
    /* s_server's "accept" connection is live: ask for a renegotiation */
    CHECK(write(p.stdin_fd, "r\n", 2) == 2);
    end = peers_now_ms() + 3000;
    out = "";
    while (peers_now_ms() < end) {
        sslsocket *list[1] = { &sock };
        sslsocket_wait(list, 1, 20);
        drive_poll(&sock, &l);
        out = peers_slurp(peers_path("reneg.log"), NULL);
        if (strstr(out, allow ? "Read BLOCK" : "no renegotiation") != NULL
            || strstr(out, "SSL_renegotiate") != NULL)
            break;
    }
    if (allow) {
        sslsocket_write_string(&sock, "still talking\n");
        end = peers_now_ms() + 3000;
        while (peers_now_ms() < end && strstr(out, "still talking") == NULL) {
            sslsocket *list[1] = { &sock };
            sslsocket_wait(list, 1, 20);
            drive_poll(&sock, &l);
            out = peers_slurp(peers_path("reneg.log"), NULL);
        }
        CHECKF(strstr(out, "still talking") != NULL, "s_server log: %.500s", out);
        CHECKF(sslsocket_is_encrypted(&sock), "%s", sslsocket_error_string(&sock));
    } else {
        /* we answer no_renegotiation; OpenSSL 3 then gives up the
           connection, which we report as the peer's close */
        CHECKF(strstr(out, "no renegotiation") != NULL, "s_server log: %.500s", out);
        drive_until(&sock, &l, NULL, 3000);
        CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
        CHECKF(sslsocket_error(&sock) == SSLSOCKET_ERR_REMOTE_HOST_CLOSED
               || sslsocket_error(&sock) == SSLSOCKET_ERR_SSL_INTERNAL,
               "%d %s", sslsocket_error(&sock), sslsocket_error_string(&sock));
        if (getenv("VERBOSE"))
            printf("client error: %s\n", sslsocket_error_string(&sock));
    }
    sslsocket_abort(&sock);
    peers_kill(&p);
}

static void test_server_renegotiation_refused(void) { server_renegotiation(0); }
static void test_server_renegotiation_allowed(void) { server_renegotiation(1); }

static const testlib_case tests[] = {
    { "openssl_ecdsa_v4", test_openssl_ecdsa_v4 },
    { "openssl_rsa_v6", test_openssl_rsa_v6 },
    { "openssl_chacha", test_openssl_chacha },
    { "openssl_aes256_rsa", test_openssl_aes256_rsa },
    { "refused", test_refused },
    { "tls10_only_when_allowed", test_tls10_only_when_allowed },
    { "alpn", test_alpn },
    { "client_cert_required", test_client_cert_required },
    { "resumption", test_resumption },
    { "gnutls_echo_10mib", test_gnutls_echo_10mib },
    { "keylog_file", test_keylog_file },
    { "server_renegotiation_refused", test_server_renegotiation_refused },
    { "server_renegotiation_allowed", test_server_renegotiation_allowed },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    if (peers_setup() != 0) {
        printf("fixture setup failed (see %s/sh.log)\n0 passed, 1 failed\n", peers_dir);
        return 1;
    }
    return testlib_main(argc, argv, tests);
}
