/* test_hostile.c - hostile peers over loopback (tests/hostile.py): each case
 * must end with the right error code and sentence, and a good connection
 * served at the same time must not notice. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

static unsigned char store[64 * 1024], sstore[64 * 1024];
static sslsocket_config cfg, scfg;
static sslsocket sock, listener, conn;

static unsigned
hostile(peers_proc *p, const char *mode)
{
    char script[512], portfile[300], *argv[7];
    snprintf(script, sizeof script, "%s/tests/hostile.py", getenv("PWD") ? getenv("PWD") : ".");
    snprintf(portfile, sizeof portfile, "%s", peers_path("hostile.port"));
    argv[0] = "python3";
    argv[1] = script;
    argv[2] = (char *)mode;
    argv[3] = portfile;
    argv[4] = (char *)peers_path("ec.pem");
    argv[5] = (char *)peers_path("ec.key");
    argv[6] = NULL;
    return peers_spawn_port(p, "hostile.log", portfile, argv, 10000);
}

static void
client_config(void)
{
    sslsocket_config_init(&cfg, store, sizeof store);
    sslsocket_config_add_ca_file(&cfg, peers_path("ca.pem"));
}

static int got_line(sslsocket *s, drive_log *l)
{
    (void)l;
    return sslsocket_can_read_line(s);
}

/* Connect to a hostile server; return after the socket is closed or a
   line is readable. */
static void
run_against(const char *mode, drive_log *l, peers_proc *p)
{
    unsigned port;
    memset(l, 0, sizeof *l);
    client_config();
    port = hostile(p, mode);
    if (port == 0) {
        printf("hostile.py %s did not start\n", mode);
        return;
    }
    sslsocket_init(&sock, &cfg);
    sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE);
    sslsocket_write_string(&sock, "ping\n");
    drive_until(&sock, l, got_line, 10000);
}

static void test_one_byte_records(void)
{
    drive_log l;
    peers_proc p;
    char line[64];
    run_against("one-byte-records", &l, &p);
    CHECKF(sslsocket_is_encrypted(&sock), "%s", sslsocket_error_string(&sock));
    CHECK(sslsocket_read_line(&sock, line, sizeof line) == 5 && strcmp(line, "ping\n") == 0);
    sslsocket_disconnect(&sock);
    drive_until(&sock, &l, NULL, 3000);
    peers_kill(&p);
}

static void test_close_after_server_hello(void)
{
    drive_log l;
    peers_proc p;
    run_against("close-after-hello", &l, &p);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "closed by peer during handshake");
    CHECKF(strstr(l.text, "X13 S6 S0 D") != NULL, "events %s", l.text);
    peers_kill(&p);
}

static void test_oversized_record(void)
{
    drive_log l;
    peers_proc p;
    run_against("oversized-record", &l, &p);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "BR_ERR_");
    CHECKF(strstr(sslsocket_error_string(&sock), "too large") != NULL
           || strstr(sslsocket_error_string(&sock), "length") != NULL,
           "%s", sslsocket_error_string(&sock));
    peers_kill(&p);
}

static void test_garbage(void)
{
    drive_log l;
    peers_proc p;
    run_against("garbage", &l, &p);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "TLS handshake failed: ");
    peers_kill(&p);
}

static void test_bad_mac(void)
{
    drive_log l;
    peers_proc p;
    run_against("bad-mac", &l, &p);
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_INTERNAL, "BR_ERR_BAD_MAC");
    CHECK(sslsocket_bytes_available(&sock) == 0); /* nothing forged was delivered */
    peers_kill(&p);
}

/* A client that sends its handshake one byte per record to our server. */
static void test_server_one_byte_client(void)
{
    char script[512], portarg[16], line[64];
    char *argv[8];
    peers_proc p;
    int64_t end;
    int accepted = 0;
    const char *out;
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    REQUIRE(sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"),
                                                  peers_path("ec.key")) == 0);
    sslsocket_init(&listener, &scfg);
    REQUIRE(sslsocket_listen(&listener, "127.0.0.1", 0, 0) == 0);
    snprintf(script, sizeof script, "%s/tests/hostile.py", getenv("PWD") ? getenv("PWD") : ".");
    snprintf(portarg, sizeof portarg, "%u", sslsocket_local_port(&listener));
    argv[0] = "python3";
    argv[1] = script;
    argv[2] = "one-byte-client";
    argv[3] = "-";
    argv[4] = "-";
    argv[5] = "-";
    argv[6] = portarg;
    argv[7] = NULL;
    unlink(peers_path("client.log"));
    p = peers_spawn("client.log", argv);
    end = peers_now_ms() + 10000;
    while (p.pid > 0 && peers_now_ms() < end) {
        sslsocket *list[2] = { &listener, &conn };
        sslsocket_wait(list, accepted ? 2 : 1, 20);
        accepted = drive_accept_tls(&listener, &conn, &scfg, accepted);
        if (accepted) {
            sslsocket_poll(&conn);
            while (sslsocket_read_line(&conn, line, sizeof line) > 0)
                sslsocket_write_string(&conn, line);
        }
        peers_wait_exit(&p, 0);
    }
    out = peers_slurp(peers_path("client.log"), NULL);
    CHECKF(strstr(out, "echo=hello") != NULL, "client: %s", out);
    peers_kill(&p);
    sslsocket_abort(&conn);
    sslsocket_abort(&listener);
}

static const testlib_case tests[] = {
    { "one_byte_records", test_one_byte_records },
    { "close_after_server_hello", test_close_after_server_hello },
    { "oversized_record", test_oversized_record },
    { "garbage", test_garbage },
    { "bad_mac", test_bad_mac },
    { "server_one_byte_client", test_server_one_byte_client },
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
