/* test_security.c - the defects of the external security review (issue 11),
 * each as a test that failed before its fix: sessions resumed past the
 * policy they were verified under, a session cache or configuration swapped
 * mid-handshake, large leaves that skipped the identity checks, a
 * VERIFY_PEER server without anchors, poll starvation by empty records,
 * SSLKEYLOGFILE in a setuid program, renegotiation chains, and secrets left
 * in memory after a close.  Client and server run over the in-memory pipe. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static unsigned char cstore[64 * 1024], sstore[64 * 1024], s2store[64 * 1024];
static unsigned char cache_mem[8192];
static sslsocket_config ccfg, scfg, scfg2;
static sslsocket cli, srv;
static sslsocket_pipe pipe_;
static drive_log cl, sl;

/* Server: ec.pem for localhost (+ other.pem for other.test), a session
   cache; client: trusts the test CA unless `trusting` is 0. */
static void
configs(int trusting)
{
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    if (trusting && sslsocket_config_add_ca_file(&ccfg, peers_path("ca.pem")) != 1)
        printf("client CA: %s\n", sslsocket_config_error_string(&ccfg));
    if (sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"), peers_path("ec.key")))
        printf("server cert: %s\n", sslsocket_config_error_string(&scfg));
    if (sslsocket_config_add_certificate_file(&scfg, peers_path("other.pem"),
                                              peers_path("other.key")))
        printf("server cert 2: %s\n", sslsocket_config_error_string(&scfg));
    sslsocket_config_set_session_cache(&scfg, cache_mem, sizeof cache_mem);
    memset(&cl, 0, sizeof cl);
    memset(&sl, 0, sizeof sl);
}

static int both_encrypted(void)
{
    return sslsocket_is_encrypted(&cli) && sslsocket_is_encrypted(&srv);
}

static int both_closed(void)
{
    return sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED
           && sslsocket_state(&srv) == SSLSOCKET_UNCONNECTED;
}

static int
pump_both(int (*done)(void), int rounds)
{
    return drive_pair(&cli, &cl, &srv, &sl, done, rounds);
}

/* (Re)connect the same two sockets over the pipe and start TLS: the client
   verifies `name` under `mode` (-1: the config's).  Returns 1 once both
   are encrypted, 0 when the handshake failed. */
static unsigned next_ignore; /* ignore_ssl_errors() for the next connect_pair */

static int
connect_pair(const char *name, int mode)
{
    sslsocket_abort(&cli);
    sslsocket_abort(&srv);
    pump_both(NULL, 2);
    cl.len = sl.len = 0;
    cl.text[0] = sl.text[0] = 0;
    if (sslsocket_pipe_connect(&pipe_, &cli, &srv) != 0)
        return 0;
    sslsocket_set_peer_verify_name(&cli, name);
    sslsocket_set_peer_verify_mode(&cli, mode);
    if (next_ignore)
        sslsocket_ignore_ssl_errors(&cli, next_ignore);
    next_ignore = 0;
    if (sslsocket_start_client_encryption(&cli) != 0 || sslsocket_start_server_encryption(&srv))
        return 0;
    return pump_both(both_encrypted, 300);
}

static void
fresh_sockets(void)
{
    sslsocket_init(&cli, &ccfg);
    sslsocket_init(&srv, &scfg);
}

/* New sockets with TLS started and one round polled: mid-handshake. */
static int
half_handshake(void)
{
    fresh_sockets();
    if (sslsocket_pipe_connect(&pipe_, &cli, &srv) != 0)
        return 0;
    sslsocket_set_peer_verify_name(&cli, "localhost");
    if (sslsocket_start_client_encryption(&cli) != 0 || sslsocket_start_server_encryption(&srv))
        return 0;
    pump_both(NULL, 1);
    return !sslsocket_is_encrypted(&srv);
}

/* 1. A session from a handshake that did not verify the server fully is
   never offered under VERIFY_PEER, and never reaches the config's store,
   not even through a resumption of it. */
static void test_unverified_session_not_resumed(void)
{
    configs(0); /* the client does not trust the server's CA */
    fresh_sockets();
    REQUIRE(connect_pair("localhost", SSLSOCKET_VERIFY_NONE));
    CHECK(!sslsocket_session_resumed(&cli));
    REQUIRE(connect_pair("localhost", SSLSOCKET_VERIFY_NONE));
    CHECK(sslsocket_session_resumed(&cli)); /* VERIFY_NONE again: allowed */
    /* the same socket under VERIFY_PEER: a full handshake that fails */
    CHECK(!connect_pair("localhost", SSLSOCKET_VERIFY_PEER));
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");
    /* a new socket of the config: nothing was left in the store */
    fresh_sockets();
    CHECK(!connect_pair("localhost", SSLSOCKET_VERIFY_PEER));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");

    /* QUERY_PEER with problems, then VERIFY_PEER on the same socket */
    fresh_sockets();
    REQUIRE(connect_pair("localhost", SSLSOCKET_QUERY_PEER));
    CHECK(sslsocket_ssl_error_count(&cli) > 0);
    CHECK(!connect_pair("localhost", SSLSOCKET_VERIFY_PEER));
    CHECK(!sslsocket_session_resumed(&cli));

    /* problems ignored in decision mode, then VERIFY_PEER */
    fresh_sockets();
    sslsocket_set_decide_ssl_errors(&cli, 1);
    sslsocket_abort(&cli);
    REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
    sslsocket_set_peer_verify_name(&cli, "localhost");
    REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
    REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
    {
        int i;
        for (i = 0; i < 300 && !sslsocket_is_encrypted(&cli); i++) {
            if (drive_poll(&cli, &cl) & SSLSOCKET_EV_SSL_ERRORS)
                sslsocket_ignore_ssl_errors(&cli, SSLSOCKET_SSLERR_ALL);
            drive_poll(&srv, &sl);
        }
    }
    REQUIRE(sslsocket_is_encrypted(&cli));
    sslsocket_set_decide_ssl_errors(&cli, 0);
    CHECK(!connect_pair("localhost", SSLSOCKET_VERIFY_PEER));
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");
}

/* 1. A verified session is bound to the policy: a pin added to the config
   afterwards is checked (a full handshake), not bypassed by resumption. */
static void test_session_bound_to_policy(void)
{
    configs(1);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1));
    REQUIRE(connect_pair("localhost", -1));
    CHECK(sslsocket_session_resumed(&cli));
    fresh_sockets(); /* from the config's store */
    REQUIRE(connect_pair("localhost", -1));
    CHECK(sslsocket_session_resumed(&cli));
    REQUIRE(sslsocket_config_add_pin(&ccfg, "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            == 0);
    CHECK(!connect_pair("localhost", -1));
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "pin");
    fresh_sockets();
    CHECK(!connect_pair("localhost", -1));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "pin");
}

/* 4. Server resumption under another client-certificate policy or SNI
   name: a full handshake instead. */
static void test_server_session_policy(void)
{
    sslsocket_session sess;
    configs(1);
    REQUIRE(sslsocket_config_add_ca_file(&scfg, peers_path("ca.pem")) == 1);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1)); /* QUERY_PEER: no client certificate */
    CHECK(sslsocket_peer_certificate(&srv) == NULL);
    REQUIRE(connect_pair("localhost", -1));
    CHECK(sslsocket_session_resumed(&srv)); /* same policy: resumed */
    sslsocket_set_peer_verify_mode(&srv, SSLSOCKET_VERIFY_PEER);
    CHECK(!connect_pair("localhost", -1)); /* must ask for the certificate now */
    CHECK(!sslsocket_session_resumed(&srv));
    CHECK_ERR(&srv, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "");

    /* SNI: a session made for localhost offered for other.test */
    configs(1);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", SSLSOCKET_VERIFY_NONE));
    REQUIRE(sslsocket_get_session(&cli, &sess) == 0);
    snprintf(sess.host, sizeof sess.host, "other.test");
    cli.verify_mode = SSLSOCKET_VERIFY_NONE; /* white box: the policy of the next offer */
    sslsocket__policy_digest(&cli, "other.test", cli.port, sess.policy);
    REQUIRE(sslsocket_set_session(&cli, &sess) == 0);
    REQUIRE(connect_pair("other.test", SSLSOCKET_VERIFY_NONE));
    CHECK(cli.flags & SSLSOCKET__F_OFFERED); /* the client did offer it */
    CHECK(!sslsocket_session_resumed(&srv));
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK(strcmp(sslsocket_server_name(&srv), "other.test") == 0);
}

/* 3. The cache is dropped during a server handshake: nothing is written
   into the old memory (poisoned under ASan), the next cache works. */
static void test_cache_dropped_mid_handshake(void)
{
    static unsigned char second[4096];
    int i;
    configs(1);
    REQUIRE(half_handshake()); /* the server has the ClientHello, not yet the Finished */
    REQUIRE(sslsocket_config_set_session_cache(&scfg, NULL, 0) == 0);
    memset(cache_mem, 0xA5, sizeof cache_mem);
    POISON(cache_mem, sizeof cache_mem);
    CHECK(pump_both(both_encrypted, 300));
    UNPOISON(cache_mem, sizeof cache_mem);
    for (i = 0; i < (int)sizeof cache_mem && cache_mem[i] == 0xA5; i++) {
    }
    CHECKF(i == (int)sizeof cache_mem, "the dropped cache was written at byte %d", i);
    REQUIRE(sslsocket_config_set_session_cache(&scfg, second, sizeof second) == 0);
    REQUIRE(connect_pair("localhost", -1));
    CHECK(!sslsocket_session_resumed(&cli));
    REQUIRE(connect_pair("localhost", -1));
    CHECK(sslsocket_session_resumed(&cli) && sslsocket_session_resumed(&srv));
    sslsocket_config_set_session_cache(&scfg, NULL, 0);
}

/* 2. A configuration set during a TLS connection waits for its end. */
static void test_config_swap_deferred(void)
{
    static sslsocket_config other;
    configs(1);
    sslsocket_config_init(&other, NULL, 0);
    REQUIRE(half_handshake());
    REQUIRE(sslsocket_set_config(&cli, &other) == 0);
    CHECK(sslsocket_get_config(&cli) == &ccfg);
    sslsocket_config_wipe(&ccfg); /* as a collected configuration would be... */
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    REQUIRE(sslsocket_config_add_ca_file(&ccfg, peers_path("ca.pem")) == 1); /* ...reloaded */
    CHECK(pump_both(both_encrypted, 300));
    CHECK(sslsocket_get_config(&cli) == &ccfg);
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    CHECK(sslsocket_get_config(&cli) == &other);
    CHECK(sslsocket_set_config(&cli, &ccfg) == 0 && sslsocket_get_config(&cli) == &ccfg);
}

/* 5. Leaves over 8 KiB verify; a leaf beyond the capture buffer fails its
   identity checks even when TOO_LARGE is ignored, and its chain is not
   trusted (nothing was kept to verify it with). */
static void test_large_leaf(void)
{
    const sslsocket_cert_info *pc;
    size_t len = 0;
    configs(1);
    REQUIRE(sslsocket_config_set_certificate_file(&scfg, peers_path("big.pem"),
                                                  peers_path("ec.key")) == 0);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1));
    pc = sslsocket_peer_certificate(&cli);
    REQUIRE(pc != NULL);
    CHECK(sslsocket_ssl_error_count(&cli) == 0);
    CHECK(strstr(pc->subject_alt_names, "DNS:localhost") != NULL);
    CHECK(sslsocket_peer_certificate_der(&cli, 0, &len) != NULL);
    CHECKF(len > 8192 && len < SSLSOCKET_CERT_BUFFER_SIZE, "leaf of %zu bytes", len);

    REQUIRE(sslsocket_config_set_certificate_file(&scfg, peers_path("huge.pem"),
                                                  peers_path("ec.key")) == 0);
    sslsocket_config_set_client_sessions(&ccfg, 0);
    sslsocket_config_set_session_cache(&scfg, NULL, 0);
    fresh_sockets();
    next_ignore = SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_TOO_LARGE);
    CHECK(!connect_pair("wrong.example", -1));
    CHECK(sslsocket_error(&cli) == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED);
    CHECKF(strstr(sslsocket_error_string(&cli), "not trusted") != NULL, "%s",
           sslsocket_error_string(&cli));
    /* every check that needs the leaf failed, besides TOO_LARGE */
    {
        unsigned m = 0;
        int i;
        for (i = 0; i < sslsocket_ssl_error_count(&cli); i++)
            m |= SSLSOCKET_SSLERR_MASK(sslsocket_ssl_error_code(&cli, i));
        CHECK(m & SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_TOO_LARGE));
        CHECK(m & SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_HOST_MISMATCH));
        CHECK(m & SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_EKU));
        CHECK(m & SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_UNTRUSTED));
    }
    /* ignoring the identity checks too still trusts nothing */
    fresh_sockets();
    next_ignore = SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_TOO_LARGE)
                  | SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_HOST_MISMATCH)
                  | SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_EKU);
    CHECK(!connect_pair("localhost", -1));
    CHECKF(strstr(sslsocket_error_string(&cli), "not trusted") != NULL, "%s",
           sslsocket_error_string(&cli));
}

/* 6. VERIFY_PEER on a server with nothing to check client certificates
   against refuses to start, and changes nothing. */
static void test_verify_peer_server_without_anchors(void)
{
    configs(1);
    fresh_sockets();
    REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
    REQUIRE(sslsocket_set_peer_verify_mode(&srv, SSLSOCKET_VERIFY_PEER) == 0);
    CHECK(sslsocket_start_server_encryption(&srv) == -1);
    CHECK_ERR(&srv, SSLSOCKET_ERR_OPERATION, "VERIFY_PEER needs trust anchors");
    CHECK(sslsocket_state(&srv) == SSLSOCKET_CONNECTED);
    CHECK(sslsocket_mode(&srv) == SSLSOCKET_UNENCRYPTED);
    /* with the CA it asks, and refuses a client without a certificate */
    REQUIRE(sslsocket_config_add_ca_file(&scfg, peers_path("ca.pem")) == 1);
    CHECK(!connect_pair("localhost", -1));
    CHECK_ERR(&srv, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "");
    CHECK(!sslsocket_is_encrypted(&srv));
}

/* 7. Empty records: a run longer than the limit ends the connection; tiny
   records: one poll takes at most its budget and asks to be polled again. */
static void test_empty_record_flood(void)
{
    br_ssl_engine_context *eng = &srv.ctx.server.eng;
    size_t before;
    int i;
    unsigned ev;
    configs(1);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1));
    for (i = 0; i < 40; i++) {
        br_ssl_engine_flush(eng, 1); /* an empty application-data record */
        sslsocket_poll(&srv);
    }
    cl.len = 0;
    for (i = 0; i < 10 && sslsocket_state(&cli) != SSLSOCKET_UNCONNECTED; i++)
        drive_poll(&cli, &cl);
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_INTERNAL, "records in a row without data");

    /* data records of one byte: the pipe fills with hundreds of them */
    REQUIRE(connect_pair("localhost", -1));
    for (i = 0; i < 400; i++) {
        if (sslsocket_write(&srv, "x", 1) != 1)
            break;
        sslsocket_poll(&srv);
    }
    before = pipe_.len[1];
    REQUIRE(before > 200 * 20);
    ev = sslsocket_poll(&cli);
    CHECK(ev & SSLSOCKET_EV_READY_READ);
    CHECKF(before - pipe_.len[1] < 80 * 40, "one poll took %zu bytes of tiny records",
           before - pipe_.len[1]);
    CHECK(sslsocket_timeout_ms(&cli) == 0);
    CHECK(sslsocket_is_encrypted(&cli)); /* records with data are no flood */
}

/* 7. Over TCP, the server side: a client that streams empty records as
   fast as it can (a child process) holds no poll of the server for long,
   and its connection ends. */
static void test_empty_record_flood_tcp(void)
{
    static sslsocket lst, conn, flooder;
    int64_t longest = 0, t_end;
    int accepted = 0, polls = 0;
    pid_t pid;
    configs(1);
    sslsocket_init(&lst, &scfg);
    REQUIRE(sslsocket_listen(&lst, "127.0.0.1", 0, 4) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) { /* the flooder: handshake, then empty records for 3 s */
        int64_t end;
        sslsocket_init(&flooder, &ccfg);
        sslsocket_set_peer_verify_name(&flooder, "localhost");
        sslsocket_connect_encrypted(&flooder, "127.0.0.1", sslsocket_local_port(&lst),
                                    SSLSOCKET_READ_WRITE);
        end = peers_now_ms() + 5000;
        while (!sslsocket_is_encrypted(&flooder) && peers_now_ms() < end
               && sslsocket_state(&flooder) != SSLSOCKET_UNCONNECTED) {
            sslsocket *l[1] = { &flooder };
            sslsocket_wait(l, 1, 50);
            sslsocket_poll(&flooder);
        }
        end = peers_now_ms() + 3000;
        while (sslsocket_is_encrypted(&flooder) && peers_now_ms() < end) {
            br_ssl_engine_flush(&flooder.ctx.client.eng, 1);
            sslsocket_poll(&flooder);
        }
        _exit(0);
    }
    t_end = peers_now_ms() + 8000;
    while (peers_now_ms() < t_end) {
        int64_t t0;
        sslsocket *l[2] = { &lst, &conn };
        sslsocket_wait(l, accepted ? 2 : 1, 50);
        accepted = drive_accept_tls(&lst, &conn, &scfg, accepted);
        if (!accepted)
            continue;
        t0 = peers_now_ms();
        sslsocket_poll(&conn);
        if (peers_now_ms() - t0 > longest)
            longest = peers_now_ms() - t0;
        polls++;
        if (sslsocket_state(&conn) == SSLSOCKET_UNCONNECTED)
            break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    sslsocket_abort(&lst);
    CHECK(accepted);
    CHECK_ERR(&conn, SSLSOCKET_ERR_SSL_INTERNAL, "records in a row without data");
    CHECKF(longest < 500, "one poll of the flooded server took %lld ms", (long long)longest);
}

/* 9. A renegotiation that presents a bad or another certificate fails,
   after SSL_ERRORS, also in decision mode. */
static int reneg_failed(void) { return sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED; }

static void
renegotiate_with(const char *cert, int decide)
{
    const char *key = strcmp(cert, "other.pem") == 0 ? "other.key"
                      : strcmp(cert, "ec2.pem") == 0 ? "ec2.key" : "ec.key";
    sslsocket_config_init(&scfg2, s2store, sizeof s2store);
    configs(1);
    sslsocket_config_set_renegotiation(&ccfg, 1);
    sslsocket_config_set_renegotiation(&scfg, 1);
    if (sslsocket_config_set_certificate_file(&scfg2, peers_path(cert), peers_path(key)) != 0)
        printf("scfg2: %s\n", sslsocket_config_error_string(&scfg2));
    fresh_sockets();
    sslsocket_set_decide_ssl_errors(&cli, decide);
    if (!connect_pair("localhost", -1))
        return;
    scfg.ids[0] = scfg2.ids[0]; /* white box: the server's next choice */
    scfg.n_ids = 1;
    br_ssl_engine_renegotiate(&srv.ctx.server.eng);
    sslsocket_write_string(&srv, "after\n");
    cl.len = 0;
    pump_both(reneg_failed, 300);
}

static void test_renegotiation_verified(void)
{
    renegotiate_with("other.pem", 1);
    CHECK(sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED);
    CHECKF(strncmp(cl.text, "V X13", 5) == 0, "client events: %s", cl.text);
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "host name mismatch");
    CHECK(!sslsocket_can_read_line(&cli));
    /* a valid certificate for the name, but not the one of the handshake */
    renegotiate_with("ec2.pem", 0);
    CHECK(sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "changed in a renegotiation");
    /* the same certificate again: the connection goes on */
    renegotiate_with("ec.pem", 1);
    {
        int i;
        for (i = 0; i < 300 && !sslsocket_can_read_line(&cli); i++)
            pump_both(NULL, 1);
    }
    CHECK(sslsocket_is_encrypted(&cli));
    CHECK(sslsocket_can_read_line(&cli));
}

/* 10. After a close neither socket holds the master secret or plaintext
   that was read; the config forgets its sessions when asked. */
static unsigned char secret[48];
static void keylog_cb(void *user, const char *line)
{
    const char *p = strrchr(line, ' ');
    int i;
    (void)user;
    for (i = 0; p && i < 48; i++) {
        unsigned v;
        sscanf(p + 1 + 2 * i, "%2x", &v);
        secret[i] = (unsigned char)v;
    }
}

static int
contains(const void *hay, size_t n, const void *needle, size_t m)
{
    const unsigned char *h = (const unsigned char *)hay;
    size_t i;
    for (i = 0; i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0)
            return 1;
    return 0;
}

static void test_secrets_wiped(void)
{
    static const char text[] = "PLAINTEXT-THAT-MUST-GO-7f3a";
    char buf[64];
    configs(1);
    sslsocket_config_set_keylog(&ccfg, keylog_cb, NULL);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1));
    REQUIRE(contains(&srv, sizeof srv, secret, sizeof secret));
    CHECK(sslsocket_write_string(&cli, text) == (ptrdiff_t)strlen(text));
    CHECK(sslsocket_write_string(&srv, text) == (ptrdiff_t)strlen(text));
    pump_both(NULL, 5);
    CHECK(sslsocket_read(&srv, buf, sizeof buf) == (ptrdiff_t)strlen(text));
    CHECK(sslsocket_write_string(&srv, "unread\n") == 7);
    pump_both(NULL, 5);
    CHECK(sslsocket_read(&cli, buf, strlen(text)) == (ptrdiff_t)strlen(text));
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    CHECK(!contains(&srv, sizeof srv, secret, sizeof secret));
    CHECK(!contains(&srv, sizeof srv, text, strlen(text)));
    CHECK(!contains(&cli, sizeof cli, text, strlen(text)));
    CHECK(!contains(&cli.ctx, sizeof cli.ctx, secret, sizeof secret));
    /* the client keeps its verified session for resumption until told */
    CHECK(sslsocket_read_line(&cli, buf, sizeof buf) == 7); /* still readable */
    CHECK(!contains(&cli, sizeof cli, "unread", 6));
    sslsocket_set_session(&cli, NULL);
    CHECK(!contains(&cli, sizeof cli, secret, sizeof secret));
    CHECK(contains(&ccfg, sizeof ccfg, secret, sizeof secret)); /* kept for reuse */
    CHECK(contains(cache_mem, sizeof cache_mem, secret, sizeof secret));
    sslsocket_config_set_client_sessions(&ccfg, 0);
    CHECK(!contains(&ccfg, sizeof ccfg, secret, sizeof secret));
    sslsocket_config_set_session_cache(&scfg, NULL, 0);
    CHECK(!contains(cache_mem, sizeof cache_mem, secret, sizeof secret));
    sslsocket_config_wipe(&scfg);
    CHECK(!contains(sstore, sizeof sstore, "-----", 5) && scfg.n_ids == 0);
}

/* 8. SSLKEYLOGFILE: not a FIFO (nor wait for its reader), not through a
   symbolic link, a new file is 0600, and a setuid program ignores it. */
static int
keylog_handshake(void)
{
    configs(1);
    fresh_sockets();
    return connect_pair("localhost", -1);
}

static void test_keylogfile(void)
{
    struct stat st;
    int64_t t0;
    REQUIRE(peers_sh("rm -f kl.fifo kl.new kl.target kl.link && mkfifo kl.fifo && "
                     "touch kl.target && ln -s kl.target kl.link") == 0);
    setenv("SSLKEYLOGFILE", peers_path("kl.fifo"), 1);
    t0 = peers_now_ms();
    CHECK(keylog_handshake());
    CHECK(peers_now_ms() - t0 < 5000);
    setenv("SSLKEYLOGFILE", peers_path("kl.link"), 1);
    CHECK(keylog_handshake());
    CHECK(stat(peers_path("kl.target"), &st) == 0 && st.st_size == 0);
    setenv("SSLKEYLOGFILE", peers_path("kl.new"), 1);
    CHECK(keylog_handshake());
    CHECK(stat(peers_path("kl.new"), &st) == 0 && st.st_size > 100);
    CHECK((st.st_mode & 0777) == 0600);
    /* setuid: this program again, owned by nobody with the setuid bit */
    {
        char target[64];
        REQUIRE(geteuid() == 0); /* to hand the copy to nobody */
        snprintf(target, sizeof target, "/tmp/sslsocket-keylog-%d", (int)getpid());
        unlink(target);
        REQUIRE(peers_sh("cp /proc/%d/exe suid_test && chown 65534 suid_test && "
                         "chmod 4755 suid_test && chmod a+rx . && "
                         "chmod a+r ca.pem ec.pem ec.key other.pem other.key", (int)getpid()) == 0);
        setenv("SSLKEYLOGFILE", target, 1);
        /* (the same child without the setuid bit writes the file: the
           check below can fail) */
        if (peers_sh("./suid_test --keylog-child '%s'",
                     peers_dir) != 0) {
            char cmd[512];
            snprintf(cmd, sizeof cmd, "tail -4 '%s/sh.log'", peers_dir);
            CHECK(system(cmd) != 0); /* shows why, and fails */
        }
        CHECK(stat(target, &st) != 0);
        unlink(target);
    }
    unsetenv("SSLKEYLOGFILE");
}

/* 13. Revocation: a CRL of the leaf's issuer that lists it fails the
   chain with REVOKED; an empty one, or one that names the issuer but was
   signed by another key, changes nothing; bad CRL input is refused with
   its reason; a session made before the CRL is not resumed after it. */
static unsigned char crl_store[64 * 1024];

static void test_revocation(void)
{
    sslsocket_config bad;
    static const char not_crl[] = "-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n";
    unsigned m = 0;
    int i;
    /* an empty CRL, then a forged one: the leaf verifies */
    configs(1);
    CHECK(sslsocket_config_add_crl_file(&ccfg, peers_path("empty.crl")) == 1);
    CHECK(sslsocket_config_add_crl_file(&ccfg, peers_path("forged.crl")) == 1);
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1));
    CHECK(sslsocket_ssl_error_count(&cli) == 0);
    CHECK(!sslsocket_session_resumed(&cli));
    /* the session is offered again while nothing changed... */
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    fresh_sockets();
    REQUIRE(connect_pair("localhost", -1));
    CHECK(sslsocket_session_resumed(&cli));
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    /* ...and not once the CRL that revokes the leaf is there */
    CHECK(sslsocket_config_add_crl_file(&ccfg, peers_path("revoked.crl")) == 1);
    fresh_sockets();
    CHECK(!connect_pair("localhost", -1));
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK(sslsocket_error(&cli) == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED);
    CHECKF(strstr(sslsocket_error_string(&cli), "revoked") != NULL, "%s",
           sslsocket_error_string(&cli));
    for (i = 0; i < sslsocket_ssl_error_count(&cli); i++)
        m |= SSLSOCKET_SSLERR_MASK(sslsocket_ssl_error_code(&cli, i));
    CHECKF(m == SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_REVOKED), "problems %#x", m);
    /* offline, the same */
    {
        static sslsocket scratch;
        sslsocket_init(&scratch, &ccfg);
        CHECK(sslsocket_verify_chain(&scratch, &ccfg, "x", 1, NULL, 0) == -1); /* not a chain */
        sslsocket_init(&scratch, &ccfg);
        {
            static char pem[8192];
            FILE *f = fopen(peers_path("ec.pem"), "rb");
            size_t n = f ? fread(pem, 1, sizeof pem, f) : 0;
            if (f)
                fclose(f);
            CHECK(sslsocket_verify_chain(&scratch, &ccfg, pem, n, "localhost", 0) == 1);
            CHECK(sslsocket_ssl_error_code(&scratch, 0) == SSLSOCKET_SSLERR_REVOKED);
        }
    }
    /* bad input: refused with the reason, the config unchanged */
    sslsocket_config_init(&bad, crl_store, sizeof crl_store);
    CHECK(sslsocket_config_add_crl_mem(&bad, not_crl, sizeof not_crl - 1) == -1);
    CHECK(sslsocket_config_error(&bad) == SSLSOCKET_ERR_SSL_INVALID_USERDATA);
    CHECKF(strstr(sslsocket_config_error_string(&bad), "CRL 1 in memory is malformed") != NULL,
           "%s", sslsocket_config_error_string(&bad));
    CHECK(sslsocket_config_add_crl_mem(&bad, "hello", 5) == -1);
    CHECKF(strstr(sslsocket_config_error_string(&bad), "no CRL found") != NULL, "%s",
           sslsocket_config_error_string(&bad));
    CHECK(sslsocket_config_add_crl_file(&bad, peers_path("ca.pem")) == -1);
    CHECKF(strstr(sslsocket_config_error_string(&bad), "no CRL found") != NULL, "%s",
           sslsocket_config_error_string(&bad));
    CHECK(sslsocket_config_add_crl_file(&bad, peers_path("no-such.crl")) == -1);
    CHECK(sslsocket_config_add_crl_mem(&bad, NULL, 0) == -1);
    CHECK(sslsocket_config_error(&bad) == SSLSOCKET_ERR_OPERATION);
    CHECK(sslsocket_config_add_crl_file(&bad, peers_path("revoked.crl")) == 1); /* still fine */
    for (i = 1; i < SSLSOCKET_MAX_CRLS; i++)
        CHECK(sslsocket_config_add_crl_file(&bad, peers_path("empty.crl")) == 1);
    CHECK(sslsocket_config_add_crl_file(&bad, peers_path("empty.crl")) == -1);
    CHECKF(strstr(sslsocket_config_error_string(&bad), "SSLSOCKET_MAX_CRLS") != NULL, "%s",
           sslsocket_config_error_string(&bad));
}

/* 14. The RFC 5280 profile is a problem of its own: a leaf without an
   authority key identifier (as older tools issue) fails with PROFILE
   alone, and ignoring PROFILE lets exactly that through. */
static void test_profile(void)
{
    configs(1);
    REQUIRE(sslsocket_config_set_certificate_file(&scfg, peers_path("noaki.pem"),
                                                  peers_path("ec.key")) == 0);
    fresh_sockets();
    CHECK(!connect_pair("localhost", -1));
    CHECK(sslsocket_ssl_error_count(&cli) == 1);
    CHECK(sslsocket_ssl_error_code(&cli, 0) == SSLSOCKET_SSLERR_PROFILE);
    CHECKF(strstr(sslsocket_error_string(&cli), "RFC 5280 profile") != NULL, "%s",
           sslsocket_error_string(&cli));
    fresh_sockets();
    next_ignore = SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_PROFILE);
    CHECK(connect_pair("localhost", -1));
    /* and nothing more: the same leaf for another name still fails */
    fresh_sockets();
    next_ignore = SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_PROFILE);
    CHECK(!connect_pair("other.test", -1));
    CHECK(sslsocket_error(&cli) == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED);
}

static const testlib_case tests[] = {
    { "unverified_session_not_resumed", test_unverified_session_not_resumed },
    { "session_bound_to_policy", test_session_bound_to_policy },
    { "server_session_policy", test_server_session_policy },
    { "cache_dropped_mid_handshake", test_cache_dropped_mid_handshake },
    { "config_swap_deferred", test_config_swap_deferred },
    { "large_leaf", test_large_leaf },
    { "verify_peer_server_without_anchors", test_verify_peer_server_without_anchors },
    { "empty_record_flood", test_empty_record_flood },
    { "empty_record_flood_tcp", test_empty_record_flood_tcp },
    { "renegotiation_verified", test_renegotiation_verified },
    { "secrets_wiped", test_secrets_wiped },
    { "keylogfile", test_keylogfile },
    { "revocation", test_revocation },
    { "profile", test_profile },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--keylog-child") == 0) {
        /* setuid child of test_keylogfile: a handshake, then report */
        int ok;
        snprintf(peers_dir, sizeof peers_dir, "%s", argv[2]);
        ok = keylog_handshake();
        if (!ok || geteuid() == getuid())
            fprintf(stderr, "keylog child: handshake %d (%s / %s), euid %d uid %d\n", ok,
                    sslsocket_error_string(&cli), sslsocket_error_string(&srv),
                    (int)geteuid(), (int)getuid());
        fflush(stderr);
        _exit(ok && geteuid() != getuid() ? 0 : 1); /* (LeakSanitizer cannot run setuid) */
    }
    if (peers_setup() != 0
        || peers_sh("printf 'subjectAltName=DNS:other.test\\nextendedKeyUsage=serverAuth\\n' "
                    "  > other.ext && "
                    "openssl ecparam -name prime256v1 -genkey -noout -out other.key && "
                    "openssl req -new -key other.key -subj '/CN=other.test' -out other.csr && "
                    "openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "  -days 3650 -extfile other.ext -out other.pem && "
                    "openssl ecparam -name prime256v1 -genkey -noout -out ec2.key && "
                    "openssl req -new -key ec2.key -subj '/CN=localhost' -out ec2.csr && "
                    "openssl x509 -req -in ec2.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "  -days 3650 -extfile leaf.ext -out ec2.pem && "
                    /* leaves of ~9 KB and ~21 KB: many SANs */
                    "for n in 330 800; do s='subjectAltName=DNS:localhost'; i=0; "
                    "  while [ $i -lt $n ]; do s=\"$s,DNS:host$i.many-names.example\"; "
                    "  i=$((i+1)); done; "
                    "  printf '%%s\\nextendedKeyUsage=serverAuth\\n' \"$s\" > big$n.ext; "
                    "  openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "    -days 3650 -extfile big$n.ext -out big$n.pem; done && "
                    "mv big330.pem big.pem && mv big800.pem huge.pem && "
                    /* CRLs: empty, revoking ec.pem, and one by another key
                       under the CA's name */
                    "mkdir -p crldb fakedb && : > crldb/index.txt && : > fakedb/index.txt && "
                    "echo 01 > crldb/crlnumber && echo 01 > fakedb/crlnumber && "
                    "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=crldb/index.txt\\n"
                    "crlnumber=crldb/crlnumber\\ndefault_md=sha256\\ndefault_crl_days=3650\\n'"
                    "  > crl.cnf && sed 's/crldb/fakedb/g' crl.cnf > fake.cnf && "
                    "openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -gencrl "
                    "  -out empty.crl 2>/dev/null && "
                    "openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -revoke ec.pem "
                    "  2>/dev/null && "
                    "openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -gencrl "
                    "  -out revoked.crl 2>/dev/null && "
                    "openssl ecparam -name prime256v1 -genkey -noout -out fake.key && "
                    "openssl req -x509 -new -key fake.key -sha256 -days 3650 "
                    "  -subj '/CN=sslsocket test CA' -out fake.pem && "
                    "openssl ca -config fake.cnf -keyfile fake.key -cert fake.pem -revoke ec.pem "
                    "  2>/dev/null && "
                    "openssl ca -config fake.cnf -keyfile fake.key -cert fake.pem -gencrl "
                    "  -out forged.crl 2>/dev/null && "
                    /* a leaf without key identifiers, as older tools made them */
                    "printf 'subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth\\n"
                    "authorityKeyIdentifier=none\\nsubjectKeyIdentifier=none\\n' > noaki.ext && "
                    "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "  -days 3650 -extfile noaki.ext -out noaki.pem") != 0) {
        printf("fixture setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    return testlib_main(argc, argv, tests);
}
