/* test_memory.c - client and server engines joined by the in-memory
 * transport: no descriptors, deterministic, fast. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"
#include <sys/mman.h>

static unsigned char cstore[64 * 1024], sstore[64 * 1024];
static sslsocket_config ccfg, scfg;
static sslsocket cli, srv;
static sslsocket_pipe pipe_;
static drive_log cl, sl;

/* Server config with `cert`/`key`; client trusts the test CA. */
static void
configs(const char *cert, const char *key)
{
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    if (sslsocket_config_add_ca_file(&ccfg, peers_path("ca.pem")) != 1)
        printf("client CA: %s\n", sslsocket_config_error_string(&ccfg));
    if (sslsocket_config_set_certificate_file(&scfg, peers_path(cert), peers_path(key)) != 0)
        printf("server cert: %s\n", sslsocket_config_error_string(&scfg));
    memset(&cl, 0, sizeof cl);
    memset(&sl, 0, sizeof sl);
}

/* Poll both ends until `done` or nothing moves for a while (bounded). */
static int
pump_both(int (*done)(void), int rounds)
{
    return drive_pair(&cli, &cl, &srv, &sl, done, rounds);
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

/* Fresh sockets on the pipe with TLS started (not driven): the client
   verifies `name` under `verify_mode` (-1: the config's), ignoring
   `ignore`. */
static int
start_pair(const char *name, int verify_mode, unsigned ignore)
{
    sslsocket_init(&cli, &ccfg);
    sslsocket_init(&srv, &scfg);
    if (sslsocket_pipe_connect(&pipe_, &cli, &srv) != 0)
        return 0;
    sslsocket_set_peer_verify_name(&cli, name);
    if (verify_mode >= 0)
        sslsocket_set_peer_verify_mode(&cli, verify_mode);
    if (ignore)
        sslsocket_ignore_ssl_errors(&cli, ignore);
    return sslsocket_start_client_encryption(&cli) == 0
           && sslsocket_start_server_encryption(&srv) == 0;
}

/* Start TLS over the pipe; client verifies "localhost". */
static int
handshake(void)
{
    return start_pair("localhost", -1, 0) && pump_both(both_encrypted, 200);
}

static void test_handshake_ec(void)
{
    configs("ec.pem", "ec.key");
    REQUIRE(handshake());
    CHECKF(strcmp(cl.text, "S3 C M1 E ") == 0, "client events: %s", cl.text);
    CHECKF(strcmp(sl.text, "S3 C M2 E ") == 0, "server events: %s", sl.text);
    CHECK(sslsocket_mode(&srv) == SSLSOCKET_SSL_SERVER);
    CHECK(strcmp(sslsocket_protocol(&cli), "TLSv1.2") == 0);
    CHECK(strcmp(sslsocket_cipher(&cli), sslsocket_cipher(&srv)) == 0);
    CHECK(strstr(sslsocket_cipher(&cli), "ECDHE_ECDSA") != NULL);
    CHECK(sslsocket_peer_certificate(&srv) == NULL); /* no client certificate */
}

static void test_handshake_rsa(void)
{
    configs("rsa.pem", "rsa.key");
    REQUIRE(handshake());
    CHECK(strstr(sslsocket_cipher(&cli), "ECDHE_RSA") != NULL);
    CHECK(sslsocket_peer_certificate(&cli)->key_type == BR_KEYTYPE_RSA);
    CHECK(sslsocket_peer_certificate(&cli)->key_bits == 2048);
}

static size_t want_bytes;
static int server_got_all(void) { return sl.rx_len >= want_bytes; }
static int client_got_all(void) { return cl.rx_len >= want_bytes; }

/* 1 MiB each way at once with a running checksum; write() may accept
   partial counts, nothing may be lost or reordered. */
static void test_bulk_both_ways(void)
{
    static unsigned char out[1 << 20], in_c[1 << 20], in_s[1 << 20];
    size_t sent_c = 0, sent_s = 0, i;
    int rounds;
    configs("ec.pem", "ec.key");
    REQUIRE(handshake());
    for (i = 0; i < sizeof out; i++)
        out[i] = (unsigned char)(i * 7 + (i >> 11));
    cl.rx = in_c;
    cl.rx_cap = sizeof in_c;
    sl.rx = in_s;
    sl.rx_cap = sizeof in_s;
    want_bytes = sizeof out;
    for (rounds = 0; rounds < 100000 && !(client_got_all() && server_got_all()); rounds++) {
        ptrdiff_t n;
        if (sent_c < sizeof out && (n = sslsocket_write(&cli, out + sent_c, sizeof out - sent_c)) > 0)
            sent_c += (size_t)n;
        if (sent_s < sizeof out && (n = sslsocket_write(&srv, out + sent_s, sizeof out - sent_s)) > 0)
            sent_s += (size_t)n;
        drive_poll(&cli, &cl);
        drive_poll(&srv, &sl);
    }
    CHECK(sent_c == sizeof out && sent_s == sizeof out);
    CHECK(cl.rx_len == sizeof out && sl.rx_len == sizeof out);
    CHECK(memcmp(in_c, out, sizeof out) == 0);
    CHECK(memcmp(in_s, out, sizeof out) == 0);
    CHECK(cl.all & SSLSOCKET_EV_BYTES_WRITTEN);
    cl.rx = sl.rx = NULL;
}

/* Orderly close from the client: close_notify reaches the server, which
   reports REMOTE_HOST_CLOSED then closes; data sent before is readable. */
static void test_close_notify(void)
{
    char buf[64];
    ptrdiff_t n;
    configs("ec.pem", "ec.key");
    REQUIRE(handshake());
    cl.len = sl.len = 0;
    CHECK(sslsocket_write_string(&cli, "last words\n") == 11);
    CHECK(sslsocket_disconnect(&cli) == 0);
    CHECK(pump_both(both_closed, 200));
    CHECKF(strcmp(cl.text, "S6 S0 D ") == 0, "client: %s", cl.text);
    CHECKF(strcmp(sl.text, "X1 S6 S0 D ") == 0, "server: %s", sl.text);
    CHECK_ERR(&srv, SSLSOCKET_ERR_REMOTE_HOST_CLOSED, "close_notify");
    n = sslsocket_read_line(&srv, buf, sizeof buf);
    CHECK(n == 11 && strcmp(buf, "last words\n") == 0);
    CHECK(sslsocket_at_end(&srv));
}

/* Truncation: the transport ends without close_notify. */
static void test_truncation(void)
{
    configs("ec.pem", "ec.key");
    REQUIRE(handshake());
    cl.len = sl.len = 0;
    CHECK(sslsocket_write_string(&srv, "partial") == 7);
    drive_poll(&srv, &sl);
    pipe_.closed[1] = 1; /* the server side's transport dies */
    srv.pipe = NULL;
    CHECK(pump_both(NULL, 5));
    CHECKF(strncmp(cl.text, "X1 S6 S0 D", 10) == 0, "client: %s", cl.text);
    CHECK_ERR(&cli, SSLSOCKET_ERR_REMOTE_HOST_CLOSED, "truncated");
    CHECK(sslsocket_bytes_available(&cli) == 7);
    sslsocket_abort(&srv);
}

/* Lines: read_line with a limit, can_read_line, lines across records. */
static void test_lines(void)
{
    char buf[16];
    configs("ec.pem", "ec.key");
    REQUIRE(handshake());
    CHECK(sslsocket_write_string(&srv, "hello ") == 6);
    drive_poll(&srv, &sl);
    drive_poll(&cli, &cl);
    CHECK(!sslsocket_can_read_line(&cli));
    CHECK(sslsocket_read_line(&cli, buf, sizeof buf) == 0);
    CHECK(sslsocket_write_string(&srv, "world\nand a much longer line\n") == 29);
    drive_poll(&srv, &sl);
    drive_poll(&cli, &cl);
    CHECK(sslsocket_can_read_line(&cli));
    CHECK(sslsocket_read_line(&cli, buf, sizeof buf) == 12 && strcmp(buf, "hello world\n") == 0);
    CHECK(sslsocket_read_line(&cli, buf, sizeof buf) == 15); /* a piece of max-1 */
    CHECK(strcmp(buf, "and a much long") == 0);
    CHECK(sslsocket_read_line(&cli, buf, sizeof buf) == 8 && strcmp(buf, "er line\n") == 0);
    CHECK(sslsocket_read_line(&cli, buf, 1) == -1);
    CHECK_ERR(&cli, SSLSOCKET_ERR_OPERATION, "max 1 too small");
    CHECK(sslsocket_is_encrypted(&cli)); /* misuse changed nothing */
}

/* Data written before the handshake is sent after ENCRYPTED, in order. */
static void test_write_before_handshake(void)
{
    char buf[64];
    configs("ec.pem", "ec.key");
    sslsocket_init(&cli, &ccfg);
    sslsocket_init(&srv, &scfg);
    REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
    sslsocket_set_peer_verify_name(&cli, "localhost");
    REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
    CHECK(sslsocket_write_string(&cli, "one ") == 4);
    CHECK(sslsocket_write_string(&cli, "two\n") == 4);
    CHECK(sslsocket_bytes_to_write(&cli) == 8);
    REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
    CHECK(pump_both(both_encrypted, 100));
    pump_both(NULL, 5);
    CHECK(sslsocket_read_line(&srv, buf, sizeof buf) == 8 && strcmp(buf, "one two\n") == 0);
    CHECK(sslsocket_bytes_to_write(&cli) == 0);
}

/* A client certificate requested under QUERY_PEER (server default). */
static void test_client_certificate(void)
{
    configs("ec.pem", "ec.key");
    REQUIRE(sslsocket_config_add_ca_file(&scfg, peers_path("ca.pem")) == 1);
    REQUIRE(sslsocket_config_set_certificate_file(&ccfg, peers_path("client.pem"),
                                                  peers_path("client.key")) == 0);
    REQUIRE(handshake());
    REQUIRE(sslsocket_peer_certificate(&srv) != NULL);
    CHECK(strcmp(sslsocket_peer_certificate(&srv)->common_name, "test client") == 0);
    CHECKF(sslsocket_ssl_error_count(&srv) == 0, "server problems: %d first %d",
           sslsocket_ssl_error_count(&srv), sslsocket_ssl_error_code(&srv, 0));
}

/* Resumption: the server keeps sessions in caller memory; the client socket
   offers its last session again; both ends report it. */
static void test_resumption(void)
{
    static unsigned char cache_mem[4096];
    int i;
    configs("ec.pem", "ec.key");
    REQUIRE(sslsocket_config_set_session_cache(&scfg, cache_mem, sizeof cache_mem) == 0);
    REQUIRE(handshake());
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK(!sslsocket_session_resumed(&srv));
    for (i = 0; i < 2; i++) {
        sslsocket_disconnect(&cli);
        CHECK(pump_both(both_closed, 100));
        REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
        REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
        REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
        REQUIRE(pump_both(both_encrypted, 100));
        CHECK(sslsocket_session_resumed(&cli));
        CHECK(sslsocket_session_resumed(&srv));
    }
    /* without the cache the server cannot resume */
    REQUIRE(sslsocket_config_set_session_cache(&scfg, NULL, 0) == 0);
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
    REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
    REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
    REQUIRE(pump_both(both_encrypted, 100));
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK(!sslsocket_session_resumed(&srv));
}


/* Client session reuse (on by default): a new client socket of the same
   config resumes the session a verified handshake left for the same peer
   name; never for another name, never from or for an unverified one. */
static void test_client_sessions(void)
{
    static unsigned char cache_mem[4096];
    configs("ec.pem", "ec.key");
    REQUIRE(sslsocket_config_set_session_cache(&scfg, cache_mem, sizeof cache_mem) == 0);
    REQUIRE(handshake());
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK(sslsocket_peer_certificate(&cli) != NULL);
    REQUIRE(handshake()); /* fresh sockets, same configs */
    CHECK(sslsocket_session_resumed(&cli));
    CHECK(sslsocket_session_resumed(&srv));
    CHECK(sslsocket_peer_certificate(&cli) == NULL); /* no certificate on resumption */

    /* another name: the localhost session is not offered, the certificate
       is checked and fails */
    REQUIRE(start_pair("other.test", -1, 0));
    pump_both(NULL, 200);
    CHECK(!sslsocket_is_encrypted(&cli));
    CHECKF(sslsocket_error(&cli) == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "error %d: %s",
           sslsocket_error(&cli), sslsocket_error_string(&cli));

    /* the same name with its problem ignored connects, but leaves no
       session: the next verifying socket for that name still fails */
    REQUIRE(start_pair("other.test", -1, SSLSOCKET_SSLERR_ALL));
    REQUIRE(pump_both(both_encrypted, 200));
    CHECK(!sslsocket_session_resumed(&cli));
    REQUIRE(start_pair("other.test", -1, 0));
    pump_both(NULL, 200);
    CHECK(!sslsocket_is_encrypted(&cli));
    CHECK(sslsocket_error(&cli) == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED);

    /* VERIFY_NONE neither offers nor leaves sessions */
    REQUIRE(start_pair("localhost", SSLSOCKET_VERIFY_NONE, 0));
    REQUIRE(pump_both(both_encrypted, 200));
    CHECK(!sslsocket_session_resumed(&cli));

    /* still kept for localhost; turned off, it is forgotten */
    REQUIRE(handshake());
    CHECK(sslsocket_session_resumed(&cli));
    sslsocket_config_set_client_sessions(&ccfg, 0);
    REQUIRE(handshake());
    CHECK(!sslsocket_session_resumed(&cli));
    CHECK(sslsocket_peer_certificate(&cli) != NULL);
    sslsocket_config_set_client_sessions(&ccfg, 1);
    REQUIRE(handshake());
    CHECK(!sslsocket_session_resumed(&cli)); /* the last one left nothing */
    REQUIRE(handshake());
    CHECK(sslsocket_session_resumed(&cli));
}


/* Pages wholly inside [p, p+len) that are resident. */
static size_t
resident_pages(const void *p, size_t len)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
    uintptr_t b = ((uintptr_t)p + len) & ~(pg - 1);
    unsigned char vec[64];
    size_t n = (b - a) / pg, i, r = 0;
    if (b <= a || n > sizeof vec || mincore((void *)a, b - a, vec) != 0)
        return (size_t)-1;
    for (i = 0; i < n; i++)
        r += vec[i] & 1;
    return r;
}

static int ping_arrived(void) { return sl.rx_len >= 5 && cl.rx_len >= 5; }

/* Idle buffer release: after the configured quiet time the pages of the
   record buffer leave the process (mincore says so), the timeout told the
   caller when to poll, and the connection works on afterwards. */
static void test_idle_release(void)
{
    static unsigned char in_c[64], in_s[64];
    int i;
    configs("ec.pem", "ec.key");
    REQUIRE(sslsocket_config_set_idle_release(&ccfg, 50) == 0);
    REQUIRE(sslsocket_config_set_idle_release(&scfg, 50) == 0);
    CHECK(sslsocket_config_set_idle_release(&scfg, -1) == -1);
    CHECK(strstr(sslsocket_config_error_string(&scfg), "must be >= 0") != NULL);
    REQUIRE(handshake());
    cl.rx = in_c;
    cl.rx_cap = sizeof in_c;
    sl.rx = in_s;
    sl.rx_cap = sizeof in_s;
    CHECK(sslsocket_write_string(&cli, "ping\n") == 5);
    CHECK(sslsocket_write_string(&srv, "pong\n") == 5);
    REQUIRE(pump_both(ping_arrived, 100));
    CHECK(resident_pages(cli.iobuf, sizeof cli.iobuf) > 0);
    CHECKF(sslsocket_timeout_ms(&cli) > 0 && sslsocket_timeout_ms(&cli) <= 50, "timeout %d",
           sslsocket_timeout_ms(&cli));
    for (i = 0; i < 40 && (resident_pages(cli.iobuf, sizeof cli.iobuf) != 0
                           || resident_pages(srv.iobuf, sizeof srv.iobuf) != 0); i++) {
        int t = sslsocket_timeout_ms(&cli);
        sslsocket_wait(NULL, 0, t < 0 || t > 50 ? 50 : t); /* the library's own timer */
        pump_both(NULL, 1);
    }
    CHECKF(resident_pages(cli.iobuf, sizeof cli.iobuf) == 0, "client: %zu pages resident",
           resident_pages(cli.iobuf, sizeof cli.iobuf));
    CHECK(resident_pages(srv.iobuf, sizeof srv.iobuf) == 0);
    CHECK(sslsocket_timeout_ms(&cli) == -1); /* released: nothing more to wake up for */
    /* the connection goes on as before */
    CHECK(sslsocket_write_string(&cli, "again\n") == 6);
    CHECK(sslsocket_write_string(&srv, "again\n") == 6);
    REQUIRE(pump_both(NULL, 20));
    CHECK(sl.rx_len == 11 && memcmp(in_s, "ping\nagain\n", 11) == 0);
    CHECK(cl.rx_len == 11 && memcmp(in_c, "pong\nagain\n", 11) == 0);
    CHECK(resident_pages(cli.iobuf, sizeof cli.iobuf) > 0);
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
}


/* The peer's chain: leaf + intermediate served, summarised on the client. */
static void test_peer_chain(void)
{
    const sslsocket_chain_entry *e;
    REQUIRE(peers_sh(
        "openssl ecparam -name prime256v1 -genkey -noout -out im.key && "
        "openssl req -new -key im.key -subj '/CN=test intermediate' -out im.csr && "
        "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n' > im.ext && "
        "openssl x509 -req -in im.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
        "  -extfile im.ext -out im.pem && "
        "openssl ecparam -name prime256v1 -genkey -noout -out leaf2.key && "
        "openssl req -new -key leaf2.key -subj '/CN=localhost' -out leaf2.csr && "
        "openssl x509 -req -in leaf2.csr -CA im.pem -CAkey im.key -CAcreateserial -days 30 "
        "  -extfile leaf.ext -out leaf2.pem && cat leaf2.pem im.pem > chain2.pem") == 0);
    configs("chain2.pem", "leaf2.key");
    REQUIRE(handshake());
    CHECK(sslsocket_peer_chain_length(&cli) == 2);
    e = sslsocket_peer_chain_entry(&cli, 1);
    REQUIRE(e != NULL);
    CHECK(strcmp(e->subject, "CN=test intermediate") == 0);
    CHECK(strcmp(e->issuer, "CN=sslsocket test CA") == 0);
    CHECK(sslsocket_peer_chain_entry(&cli, 2) == NULL);
    CHECK(sslsocket_peer_chain_entry(&cli, 0) == NULL);
    /* the DER of both as received */
    {
        const sslsocket_cert_info *leaf = sslsocket_peer_certificate(&cli);
        const unsigned char *der;
        unsigned char h[32];
        size_t len;
        br_sha256_context sc;
        REQUIRE(leaf != NULL);
        CHECK(strcmp(leaf->issuer, "CN=test intermediate") == 0);
        der = sslsocket_peer_certificate_der(&cli, 0, &len);
        REQUIRE(der != NULL && len > 100);
        br_sha256_init(&sc);
        br_sha256_update(&sc, der, len);
        br_sha256_out(&sc, h);
        CHECK(memcmp(h, leaf->sha256, 32) == 0);
        der = sslsocket_peer_certificate_der(&cli, 1, &len);
        REQUIRE(der != NULL && len > 100);
        br_sha256_init(&sc);
        br_sha256_update(&sc, der, len);
        br_sha256_out(&sc, h);
        CHECK(memcmp(h, e->sha256, 32) == 0);
        CHECK(sslsocket_peer_certificate_der(&cli, 2, &len) == NULL && len == 0);
        CHECK(sslsocket_peer_certificate_der(&cli, -1, &len) == NULL);
        CHECK(sslsocket_peer_certificate_der(&srv, 0, &len) == NULL); /* no client cert */
    }
}

/* Key log lines are what Wireshark needs: the same CLIENT_RANDOM and master
   secret that the server side knows. */
static char keylog_line[256];
static void keylog_cb(void *user, const char *line)
{
    (void)user;
    snprintf(keylog_line, sizeof keylog_line, "%s", line);
}

static void test_keylog(void)
{
    char want[256];
    size_t i, o;
    br_ssl_engine_context *eng;
    configs("ec.pem", "ec.key");
    sslsocket_config_set_keylog(&ccfg, keylog_cb, NULL);
    keylog_line[0] = 0;
    REQUIRE(handshake());
    eng = &srv.ctx.server.eng; /* white box: the server's view of the secrets */
    o = (size_t)snprintf(want, sizeof want, "CLIENT_RANDOM ");
    for (i = 0; i < 32; i++)
        o += (size_t)snprintf(want + o, sizeof want - o, "%02x", eng->client_random[i]);
    want[o++] = ' ';
    for (i = 0; i < 48; i++)
        o += (size_t)snprintf(want + o, sizeof want - o, "%02x", eng->session.master_secret[i]);
    CHECKF(strcmp(keylog_line, want) == 0, "got  %s\n         want %s", keylog_line, want);
}


/* Idle deadline: nothing moves for idle_ms -> SOCKET_TIMEOUT naming it;
   sslsocket_timeout_ms() tells the caller when to come back. */
static void test_idle_timeout(void)
{
    int64_t t0, end;
    int tmo;
    configs("ec.pem", "ec.key");
    REQUIRE(sslsocket_config_set_timeouts(&ccfg, 0, 0, 0, 200) == 0);
    REQUIRE(handshake());
    cl.len = 0;
    t0 = sslsocket__now_ms();
    tmo = sslsocket_timeout_ms(&cli);
    CHECKF(tmo > 100 && tmo <= 200, "timeout_ms %d", tmo);
    end = t0 + 2000;
    while (sslsocket_state(&cli) != SSLSOCKET_UNCONNECTED && sslsocket__now_ms() < end) {
        sslsocket *list[1] = { &cli };
        sslsocket_wait(list, 1, 1000); /* no descriptors: sleeps until the deadline */
        drive_poll(&cli, &cl);
    }
    CHECKF(sslsocket__now_ms() - t0 >= 195 && sslsocket__now_ms() - t0 < 600, "after %lld ms",
           (long long)(sslsocket__now_ms() - t0));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SOCKET_TIMEOUT, "idle timeout");
    CHECKF(strcmp(cl.text, "X5 S6 S0 D ") == 0, "events %s", cl.text);
    sslsocket_abort(&srv);
}

/* Handshake deadline: the server never starts TLS. */
static void test_handshake_timeout(void)
{
    configs("ec.pem", "ec.key");
    REQUIRE(sslsocket_config_set_timeouts(&ccfg, 0, 0, 150, 0) == 0);
    sslsocket_init(&cli, &ccfg);
    sslsocket_init(&srv, &scfg);
    REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
    /* without a name to verify, VERIFY_PEER refuses to start */
    CHECK(sslsocket_start_client_encryption(&cli) == -1);
    CHECK_ERR(&cli, SSLSOCKET_ERR_OPERATION, "VERIFY_PEER needs a peer name");
    CHECK(sslsocket_state(&cli) == SSLSOCKET_CONNECTED); /* nothing changed */
    CHECK(sslsocket_mode(&cli) == SSLSOCKET_UNENCRYPTED);
    sslsocket_set_peer_verify_name(&cli, "localhost");
    REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
    {
        int64_t end = sslsocket__now_ms() + 2000;
        while (sslsocket_state(&cli) != SSLSOCKET_UNCONNECTED && sslsocket__now_ms() < end) {
            sslsocket *list[1] = { &cli };
            sslsocket_wait(list, 1, 1000);
            drive_poll(&cli, &cl);
        }
    }
    CHECK_ERR(&cli, SSLSOCKET_ERR_SOCKET_TIMEOUT, "TLS handshake timed out after 150 ms");
    sslsocket_abort(&srv);
}


/* One byte at a time: a relay between two pipes moves a single byte per
   round in each direction; handshake and data must still go through. */
static void test_one_byte_at_a_time(void)
{
    static sslsocket_pipe pa, pb;
    static sslsocket da, db; /* never polled: their ends are the relay's */
    char buf[64];
    int rounds;
    configs("rsa.pem", "rsa.key");
    sslsocket_init(&cli, &ccfg);
    sslsocket_init(&srv, &scfg);
    sslsocket_init(&da, &scfg);
    sslsocket_init(&db, &ccfg);
    REQUIRE(sslsocket_pipe_connect(&pa, &cli, &da) == 0);
    REQUIRE(sslsocket_pipe_connect(&pb, &db, &srv) == 0);
    sslsocket_set_peer_verify_name(&cli, "localhost");
    REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
    REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
    CHECK(sslsocket_write_string(&cli, "trickle\n") == 8);
    for (rounds = 0; rounds < 200000; rounds++) {
        if (pa.len[0] > 0 && pb.len[0] < sizeof pb.buf[0]) { /* client -> server */
            pb.buf[0][pb.len[0]++] = pa.buf[0][0];
            memmove(pa.buf[0], pa.buf[0] + 1, --pa.len[0]);
        }
        if (pb.len[1] > 0 && pa.len[1] < sizeof pa.buf[1]) { /* server -> client */
            pa.buf[1][pa.len[1]++] = pb.buf[1][0];
            memmove(pb.buf[1], pb.buf[1] + 1, --pb.len[1]);
        }
        drive_poll(&cli, &cl);
        drive_poll(&srv, &sl);
        if (sslsocket_can_read_line(&srv))
            break;
    }
    CHECK(sslsocket_is_encrypted(&cli) && sslsocket_is_encrypted(&srv));
    CHECK(sslsocket_read_line(&srv, buf, sizeof buf) == 8 && strcmp(buf, "trickle\n") == 0);
    CHECKF(rounds > 1000, "only %d rounds: the relay did not trickle", rounds);
    sslsocket_abort(&cli);
    sslsocket_abort(&srv);
}

/* Qt's event order (issue 13): abort and a peer's fatal alert go straight
   to UNCONNECTED; disconnect and a local failure that sends an alert pass
   through CLOSING; start_client_encryption in the wrong state changes
   nothing; ignore_ssl_errors before the connection covers it, and ends
   with it. */
static void test_qt_event_order(void)
{
    static unsigned char cmem[64 * 1024];
    configs("ec.pem", "ec.key");
    REQUIRE(handshake());
    cl.len = 0;
    sslsocket_abort(&cli);
    drive_poll(&cli, &cl);
    CHECKF(strcmp(cl.text, "S0 D ") == 0, "abort: %s", cl.text);
    sslsocket_abort(&srv);

    REQUIRE(handshake());
    cl.len = 0;
    CHECK_REFUSED(&cli, sslsocket_start_client_encryption(&cli), "already encrypted");
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    CHECKF(strcmp(cl.text, "S6 S0 D ") == 0, "disconnect: %s", cl.text);

    /* the server requires a client certificate the client does not have:
       its fatal alert ends the client's connection */
    REQUIRE(sslsocket_config_add_ca_file(&scfg, peers_path("ca.pem")) == 1);
    REQUIRE(sslsocket_config_set_peer_verify_mode(&scfg, SSLSOCKET_VERIFY_PEER) == 0);
    REQUIRE(start_pair("localhost", -1, 0));
    cl.len = sl.len = 0;
    CHECK(pump_both(both_closed, 200));
    CHECKF(strcmp(cl.text, "S3 C M1 X13 S0 D ") == 0, "peer's alert: %s", cl.text);
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "alert");
    CHECKF(strcmp(sl.text, "S3 C M2 X13 S6 S0 D ") == 0, "server (sends the alert): %s",
           sl.text);

    /* a client that does not trust the server: problems, its alert, CLOSING */
    sslsocket_config_init(&ccfg, cmem, sizeof cmem);
    REQUIRE(sslsocket_config_set_peer_verify_mode(&scfg, SSLSOCKET_QUERY_PEER) == 0);
    REQUIRE(start_pair("localhost", -1, 0));
    cl.len = sl.len = 0;
    CHECK(pump_both(both_closed, 200));
    CHECKF(strcmp(cl.text, "S3 C M1 V X13 S6 S0 D ") == 0, "local failure: %s", cl.text);

    /* ignore_ssl_errors before the connection: honoured, and only for it */
    sslsocket_init(&cli, &ccfg);
    sslsocket_init(&srv, &scfg);
    sslsocket_ignore_ssl_errors(&cli, SSLSOCKET_SSLERR_ALL);
    REQUIRE(sslsocket_pipe_connect(&pipe_, &cli, &srv) == 0);
    sslsocket_set_peer_verify_name(&cli, "localhost");
    REQUIRE(sslsocket_start_client_encryption(&cli) == 0);
    REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
    CHECK(pump_both(both_encrypted, 200));
    sslsocket_disconnect(&cli);
    CHECK(pump_both(both_closed, 100));
    REQUIRE(start_pair("localhost", -1, 0));
    CHECK(pump_both(both_closed, 200));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");
}

/* A leaf whose key usage is keyCertSign alone may not serve TLS (openssl
   s_server refuses to use one, so the library's server serves it). */
static void test_leaf_key_usage(void)
{
    REQUIRE(peers_sh("printf 'subjectAltName=DNS:localhost\nkeyUsage=critical,keyCertSign\n"
                     "extendedKeyUsage=serverAuth\n' > kcs.ext && "
                     "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                     "  -days 3650 -extfile kcs.ext -out kcs.pem") == 0);
    configs("kcs.pem", "ec.key");
    REQUIRE(start_pair("localhost", -1, 0));
    CHECK(pump_both(both_closed, 200));
    CHECK_ERR(&cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "key usage forbids this use");
    CHECK(sslsocket_ssl_error_count(&cli) == 1
          && sslsocket_ssl_error_code(&cli, 0) == SSLSOCKET_SSLERR_KEY_USAGE);
}

/* A self-signed CA certificate (what `openssl req -x509` makes) is not a
   CA used as a leaf when it is trusted directly: as an anchor, or pinned. */
static void test_ca_leaf_trusted_directly(void)
{
    static unsigned char cmem[64 * 1024];
    char pin[128];
    size_t n;
    const char *t;
    REQUIRE(peers_sh("openssl req -x509 -key ec.key -subj /CN=localhost -days 3650 "
                     "  -addext subjectAltName=DNS:localhost -out ssca.pem && "
                     "openssl x509 -in ssca.pem -noout -text | grep -q 'CA:TRUE' && "
                     "openssl pkey -in ec.key -pubout -outform DER | openssl dgst -sha256 "
                     "  -binary | base64 > ssca.pin") == 0);
    configs("ssca.pem", "ec.key");
    sslsocket_config_init(&ccfg, cmem, sizeof cmem);
    REQUIRE(sslsocket_config_add_ca_file(&ccfg, peers_path("ssca.pem")) == 1);
    REQUIRE(handshake());
    CHECK(sslsocket_ssl_error_count(&cli) == 0);
    sslsocket_config_init(&ccfg, cmem, sizeof cmem); /* no anchors: a pin */
    t = peers_slurp(peers_path("ssca.pin"), &n);
    snprintf(pin, sizeof pin, "sha256/%.*s", (int)(n > 0 && t[n - 1] == '\n' ? n - 1 : n), t);
    REQUIRE(sslsocket_config_add_pin(&ccfg, pin) == 0);
    REQUIRE(handshake());
    CHECK(sslsocket_ssl_error_count(&cli) == 0);
}

static const testlib_case tests[] = {
    { "handshake_ec", test_handshake_ec },
    { "handshake_rsa", test_handshake_rsa },
    { "bulk_both_ways", test_bulk_both_ways },
    { "close_notify", test_close_notify },
    { "truncation", test_truncation },
    { "lines", test_lines },
    { "write_before_handshake", test_write_before_handshake },
    { "client_certificate", test_client_certificate },
    { "resumption", test_resumption },
    { "client_sessions", test_client_sessions },
    { "idle_release", test_idle_release },
    { "peer_chain", test_peer_chain },
    { "keylog", test_keylog },
    { "idle_timeout", test_idle_timeout },
    { "one_byte_at_a_time", test_one_byte_at_a_time },
    { "handshake_timeout", test_handshake_timeout },
    { "qt_event_order", test_qt_event_order },
    { "leaf_key_usage", test_leaf_key_usage },
    { "ca_leaf_trusted_directly", test_ca_leaf_trusted_directly },
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
