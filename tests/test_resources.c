/* test_resources.c - resource exhaustion: out of descriptors, a full
 * caller-side socket array, a full write queue, a peer that stops reading
 * while we write a lot.  Nothing may break beyond the one operation. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"
#include <poll.h>
#include <sys/resource.h>

static unsigned char cstore[64 * 1024], sstore[64 * 1024];
static sslsocket_config ccfg, scfg;
static sslsocket listener, cli, conns[3];

static void
configs(void)
{
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    sslsocket_config_add_ca_file(&ccfg, peers_path("ca.pem"));
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"), peers_path("ec.key"));
}

/* The lowest descriptor number not in use: the count of open ones. */
static int
fds_in_use(void)
{
    int fd = dup(0), n = fd;
    close(fd);
    return n;
}

static void test_out_of_descriptors(void)
{
    struct rlimit old, low;
    unsigned port;
    drive_log l;
    int r;
    configs();
    sslsocket_init(&listener, &scfg);
    REQUIRE(sslsocket_listen(&listener, "127.0.0.1", 0, 0) == 0);
    port = sslsocket_local_port(&listener);
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = (rlim_t)fds_in_use(); /* no room for one more descriptor */
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    memset(&l, 0, sizeof l);
    sslsocket_init(&cli, &ccfg);
    CHECK(sslsocket_connect_encrypted(&cli, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    drive_until(&cli, &l, NULL, 2000);
    CHECK_ERR(&cli, SSLSOCKET_ERR_SOCKET_RESOURCE, "too many open files");
    CHECKF(strcmp(l.text, "S1 S2 H S0 X4 ") == 0, "events %s", l.text);
    /* accept with no descriptor left: an error on the listener, which stays
       usable; the connection waits in the backlog */
    low.rlim_cur += 1;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
    memset(&l, 0, sizeof l);
    CHECK(sslsocket_connect_encrypted(&cli, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    {
        int64_t end = peers_now_ms() + 2000;
        while (!sslsocket_has_pending_connections(&listener) && peers_now_ms() < end)
            drive_poll(&cli, &l);
    }
    sslsocket_init(&conns[0], &scfg);
    r = sslsocket_accept(&listener, &conns[0]);
    CHECK(r == -1);
    CHECK_ERR(&listener, SSLSOCKET_ERR_SOCKET_RESOURCE, "accept failed: too many open files");
    CHECK(sslsocket_state(&listener) == SSLSOCKET_LISTENING);
    CHECK(sslsocket_state(&conns[0]) == SSLSOCKET_UNCONNECTED);
    REQUIRE(setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK(sslsocket_accept(&listener, &conns[0]) == 1); /* the same connection, later */
    CHECK(sslsocket_start_server_encryption(&conns[0]) == 0);
    {
        int64_t end = peers_now_ms() + 5000;
        while (!(sslsocket_is_encrypted(&cli) && sslsocket_is_encrypted(&conns[0]))
               && peers_now_ms() < end) {
            sslsocket *list[2] = { &cli, &conns[0] };
            sslsocket_wait(list, 2, 50);
            drive_poll(&cli, &l);
            sslsocket_poll(&conns[0]);
        }
    }
    CHECK(sslsocket_is_encrypted(&cli) && sslsocket_is_encrypted(&conns[0]));
    sslsocket_abort(&cli);
    sslsocket_abort(&conns[0]);
    sslsocket_abort(&listener);
}

/* The server has room for 2 sockets; 3 clients connect.  The third waits in
   the kernel's backlog (nothing lost) and is served once a slot frees. */
static void test_full_socket_array(void)
{
    static sslsocket clients[3];
    int used[2] = { 0, 0 }, served = 0, i;
    int64_t end;
    unsigned port;
    configs();
    sslsocket_init(&listener, &scfg);
    REQUIRE(sslsocket_listen(&listener, "127.0.0.1", 0, 0) == 0);
    port = sslsocket_local_port(&listener);
    for (i = 0; i < 3; i++) {
        sslsocket_init(&clients[i], &ccfg);
        REQUIRE(sslsocket_connect_encrypted(&clients[i], "127.0.0.1", port,
                                            SSLSOCKET_READ_WRITE) == 0);
        sslsocket_write_string(&clients[i], "hi\n");
    }
    end = peers_now_ms() + 10000;
    while (served < 3 && peers_now_ms() < end) {
        char line[32];
        for (i = 0; i < 2; i++) {
            if (!used[i] && sslsocket_has_pending_connections(&listener)) {
                sslsocket_init(&conns[i], &scfg);
                if (sslsocket_accept(&listener, &conns[i]) == 1) {
                    used[i] = 1;
                    sslsocket_start_server_encryption(&conns[i]);
                }
            }
            if (!used[i])
                continue;
            sslsocket_poll(&conns[i]);
            if (sslsocket_read_line(&conns[i], line, sizeof line) > 0) {
                sslsocket_write_string(&conns[i], "bye\n");
                sslsocket_disconnect(&conns[i]);
            }
            if (sslsocket_state(&conns[i]) == SSLSOCKET_UNCONNECTED) {
                used[i] = 0;
                served++;
            }
        }
        CHECK(!(used[0] && used[1]) || served < 3);
        for (i = 0; i < 3; i++)
            sslsocket_poll(&clients[i]);
        {
            struct pollfd pf = { 0, POLLIN, 0 };
            pf.fd = sslsocket_fd(&listener);
            poll(&pf, 1, 5);
        }
    }
    CHECKF(served == 3, "served %d of 3", served);
    for (i = 0; i < 3; i++) {
        char line[32];
        sslsocket_poll(&clients[i]);
        CHECK(sslsocket_read_line(&clients[i], line, sizeof line) == 4);
        sslsocket_abort(&clients[i]);
    }
    sslsocket_abort(&listener);
}

/* A peer that does not read while we write: writes are accepted up to the
   bounded queue (short counts, nothing lost), memory stays fixed, and all
   of it arrives once the peer reads again. */
static void test_peer_stops_reading(void)
{
    static unsigned char chunk[8192];
    const size_t total = 32u << 20;
    size_t sent = 0, got = 0, i;
    int short_writes = 0, stalled_rounds = 0, bad = 0;
    unsigned char expect = 0;
    int64_t end;
    int accepted = 0;
    configs();
    sslsocket_init(&listener, &scfg);
    REQUIRE(sslsocket_listen(&listener, "127.0.0.1", 0, 0) == 0);
    sslsocket_init(&cli, &ccfg);
    REQUIRE(sslsocket_connect_encrypted(&cli, "127.0.0.1", sslsocket_local_port(&listener),
                                        SSLSOCKET_READ_WRITE) == 0);
    for (i = 0; i < sizeof chunk; i++)
        chunk[i] = (unsigned char)i;
    end = peers_now_ms() + 60000;
    while (got < total && peers_now_ms() < end) {
        sslsocket *list[3] = { &listener, &cli, &conns[0] };
        unsigned char buf[16384];
        ptrdiff_t n;
        int reading = stalled_rounds >= 50; /* the server reads only after a stall */
        sslsocket_wait(list, accepted ? 3 : 2, 10);
        if (!accepted && sslsocket_has_pending_connections(&listener)) {
            sslsocket_init(&conns[0], &scfg);
            accepted = sslsocket_accept(&listener, &conns[0]) == 1;
            if (accepted)
                sslsocket_start_server_encryption(&conns[0]);
        }
        sslsocket_poll(&cli);
        if (accepted)
            sslsocket_poll(&conns[0]);
        if (sslsocket_state(&cli) != SSLSOCKET_CONNECTED)
            break;
        while (sent < total) {
            size_t want = sizeof chunk - sent % sizeof chunk;
            n = sslsocket_write(&cli, chunk + sent % sizeof chunk, want);
            if (n <= 0) {
                stalled_rounds++;
                break;
            }
            short_writes += (size_t)n < want;
            sent += (size_t)n;
        }
        CHECK(sslsocket_bytes_to_write(&cli) <= SSLSOCKET_WRITE_BUFFER_SIZE + 16384);
        while (accepted && reading && (n = sslsocket_read(&conns[0], buf, sizeof buf)) > 0) {
            for (i = 0; i < (size_t)n; i++) { /* the stream is 0..255 repeated */
                bad += buf[i] != expect;
                expect = (unsigned char)(expect + 1);
            }
            got += (size_t)n;
        }
    }
    CHECKF(got == total, "got %zu of %zu", got, total);
    CHECK(bad == 0);
    CHECK(stalled_rounds >= 50); /* the queue really filled up */
    CHECK(short_writes > 0);
    sslsocket_abort(&cli);
    sslsocket_abort(&conns[0]);
    sslsocket_abort(&listener);
}

static const testlib_case tests[] = {
    { "out_of_descriptors", test_out_of_descriptors },
    { "full_socket_array", test_full_socket_array },
    { "peer_stops_reading", test_peer_stops_reading },
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
