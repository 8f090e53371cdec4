/* test_small.c - the small-memory profile: built with
 *   -DSSLSOCKET_IOBUF_SIZE=4421 -DSSLSOCKET_HALF_DUPLEX=1
 *   -DSSLSOCKET_WRITE_BUFFER_SIZE=2048 -DSSLSOCKET_CERT_BUFFER_SIZE=0
 * (one 4 KiB-record buffer for both directions).  The client asks servers
 * for 4 KiB records with the max_fragment_length extension (RFC 6066);
 * these tests check that real servers honour it and that bulk data, both
 * directions, still arrives intact. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

static unsigned char store[64 * 1024];
static sslsocket_config cfg;
static sslsocket sock;

static void
fresh_config(void)
{
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_add_ca_file(&cfg, peers_path("ca.pem")) != 1)
        printf("CA load failed: %s\n", sslsocket_config_error_string(&cfg));
}

static void test_size(void)
{
    CHECKF(sizeof(sslsocket) <= 24 * 1024, "sizeof(sslsocket) = %zu", sizeof(sslsocket));
    CHECK(SSLSOCKET_HALF_DUPLEX == 1 && SSLSOCKET_IOBUF_SIZE < 16709);
}

/* 512 KiB from `openssl s_server -WWW`: OpenSSL's records would be 16 KiB;
   the negotiated fragment length makes them fit. */
static void test_openssl_download(void)
{
    static unsigned char rx[(1 << 20) + 4096];
    peers_proc p;
    drive_log l;
    unsigned port = peers_free_port();
    char accept[64];
    char *argv[] = { "openssl", "s_server", "-accept", accept, "-cert", "ec.pem", "-key",
                     "ec.key", "-quiet", "-WWW", NULL };
    const char *body;
    size_t want, hdr;
    REQUIRE(peers_sh("head -c 524288 /dev/urandom > big.bin") == 0);
    snprintf(accept, sizeof accept, "127.0.0.1:%u", port);
    p = peers_spawn("s_server.log", argv);
    REQUIRE(peers_wait_port("127.0.0.1", port, 5000) == 0);
    memset(&l, 0, sizeof l);
    l.rx = rx;
    l.rx_cap = sizeof rx;
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock, "GET /big.bin HTTP/1.0\r\n\r\n") == 25);
    drive_until(&sock, &l, NULL, 20000); /* s_server closes after the file */
    body = peers_slurp(peers_path("big.bin"), &want);
    REQUIRE(want == (512u << 10));
    hdr = 0;
    while (hdr + 4 <= l.rx_len && memcmp(rx + hdr, "\r\n\r\n", 4) != 0)
        hdr++;
    hdr += 4;
    CHECKF(l.rx_len == hdr + want, "received %zu bytes, header %zu (%s)", l.rx_len, hdr,
           sslsocket_error_string(&sock));
    CHECK(l.rx_len == hdr + want && memcmp(rx + hdr, body, want) == 0);
    CHECK(SSLSOCKET__ENG(&sock)->max_frag_len == 4096);
    peers_kill(&p);
}

/* 1 MiB each way at once through `gnutls-serv --echo`. */
static void test_gnutls_echo(void)
{
    static unsigned char out[1 << 20], in[1 << 20];
    peers_proc p;
    drive_log l;
    unsigned port = peers_gnutls_echo(&p, "ec.pem", "ec.key");
    REQUIRE(port != 0);
    peers_text_lines(out, sizeof out);
    memset(&l, 0, sizeof l);
    l.rx = in;
    l.rx_cap = sizeof in;
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    drive_stream(&sock, &l, out, sizeof out, sizeof in, 30000);
    CHECKF(l.rx_len == sizeof in, "received %zu of %zu (%s)", l.rx_len, sizeof in,
           sslsocket_error_string(&sock));
    CHECK(memcmp(out, in, sizeof in) == 0);
    sslsocket_disconnect(&sock);
    drive_until(&sock, &l, NULL, 5000);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    peers_kill(&p);
}

/* A small server and a small client in memory, 256 KiB each way. */
static void test_small_pair(void)
{
    static unsigned char sstore[64 * 1024], out[256 << 10], in_c[256 << 10], in_s[256 << 10];
    static sslsocket_config scfg;
    static sslsocket srv;
    static sslsocket_pipe pipe_;
    drive_log cl, sl;
    size_t sent_c = 0, sent_s = 0, i;
    int rounds;
    fresh_config();
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    REQUIRE(sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"),
                                                  peers_path("ec.key")) == 0);
    sslsocket_init(&sock, &cfg);
    sslsocket_init(&srv, &scfg);
    REQUIRE(sslsocket_pipe_connect(&pipe_, &sock, &srv) == 0);
    sslsocket_set_peer_verify_name(&sock, "localhost");
    REQUIRE(sslsocket_start_client_encryption(&sock) == 0);
    REQUIRE(sslsocket_start_server_encryption(&srv) == 0);
    memset(&cl, 0, sizeof cl);
    memset(&sl, 0, sizeof sl);
    cl.rx = in_c;
    cl.rx_cap = sizeof in_c;
    sl.rx = in_s;
    sl.rx_cap = sizeof in_s;
    for (i = 0; i < sizeof out; i++)
        out[i] = (unsigned char)(i * 13 + (i >> 9));
    for (rounds = 0; rounds < 200000 && (cl.rx_len < sizeof out || sl.rx_len < sizeof out);
         rounds++) {
        ptrdiff_t n;
        if (sslsocket_is_encrypted(&sock)) {
            if (sent_c < sizeof out && (n = sslsocket_write(&sock, out + sent_c,
                                                            sizeof out - sent_c)) > 0)
                sent_c += (size_t)n;
            if (sent_s < sizeof out && (n = sslsocket_write(&srv, out + sent_s,
                                                            sizeof out - sent_s)) > 0)
                sent_s += (size_t)n;
        }
        drive_poll(&sock, &cl);
        drive_poll(&srv, &sl);
    }
    CHECKF(cl.rx_len == sizeof out && sl.rx_len == sizeof out, "client got %zu, server %zu",
           cl.rx_len, sl.rx_len);
    CHECK(memcmp(in_c, out, sizeof out) == 0 && memcmp(in_s, out, sizeof out) == 0);
    CHECK(SSLSOCKET__ENG(&srv)->max_frag_len == 4096);
}

static const testlib_case tests[] = {
    { "size", test_size },
    { "openssl_download", test_openssl_download },
    { "gnutls_echo", test_gnutls_echo },
    { "small_pair", test_small_pair },
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
