/* soak.c - one server process under a mix of good, slow and hostile
 * clients for a while (argv[1] seconds, default 60); reports growth of
 * resident memory, descriptors and errors.  `make soak` runs 30 minutes,
 * `make test` 60 seconds.
 *
 * Clients, started in a steady stream:
 *   good     connect_encrypted, echo 5 lines, disconnect
 *   slow     the same, one line every 200 ms
 *   garbage  raw TCP that sends an HTTP request instead of a ClientHello
 *   half     raw TCP that sends half a ClientHello and leaves
 *   stall    raw TCP that says nothing (the server's handshake timeout ends it)
 * The server (same process, same loop) echoes lines on up to 128 sockets.
 * Pass: every good and slow client completed, every hostile one ended on
 * the server with an error, and after warm-up RSS grew by < 2 MiB and the
 * descriptor count came back to its start. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include <poll.h>

#define NSRV 128
#define NCLI 48

static unsigned char sstore[64 * 1024], cstore[64 * 1024], cache[32 * 1024];
static sslsocket_config scfg, ccfg;
static sslsocket listener, srv[NSRV], cli[NCLI];
static int srv_used[NSRV];
static struct {
    int kind;   /* 0 free, 1 good, 2 slow, 3 garbage, 4 half, 5 stall */
    int raw;    /* raw descriptor for hostile kinds */
    int lines;
    int64_t next, until;
} cl[NCLI];
static long done_good, failed_good, server_errors, served, hostile_started;

static long
rss_kib(void)
{
    const char *s = peers_slurp("/proc/self/status", NULL), *p = strstr(s, "VmRSS:");
    return p ? atol(p + 6) : -1;
}

static int
fd_count(void)
{
    int n = 0, fd;
    for (fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void
server_round(void)
{
    int i;
    char line[256];
    while (sslsocket_has_pending_connections(&listener)) {
        for (i = 0; i < NSRV && srv_used[i]; i++) {
        }
        if (i == NSRV)
            break;
        sslsocket_init(&srv[i], &scfg);
        if (sslsocket_accept(&listener, &srv[i]) != 1)
            break;
        srv_used[i] = 1;
        sslsocket_start_server_encryption(&srv[i]);
    }
    for (i = 0; i < NSRV; i++) {
        if (!srv_used[i])
            continue;
        sslsocket_poll(&srv[i]);
        while (sslsocket_read_line(&srv[i], line, sizeof line) > 0)
            sslsocket_write_string(&srv[i], line);
        if (sslsocket_state(&srv[i]) == SSLSOCKET_UNCONNECTED) {
            srv_used[i] = 0;
            served++;
            if (sslsocket_error(&srv[i]) != SSLSOCKET_ERR_UNKNOWN
                && sslsocket_error(&srv[i]) != SSLSOCKET_ERR_REMOTE_HOST_CLOSED)
                server_errors++;
        }
    }
}

static void
start_client(int i, int64_t now, unsigned port, long seq)
{
    static const int mix[10] = { 1, 1, 1, 1, 2, 2, 3, 4, 5, 1 };
    int kind = mix[seq % 10];
    cl[i].kind = kind;
    cl[i].lines = 0;
    cl[i].next = now;
    cl[i].raw = -1;
    if (kind <= 2) {
        sslsocket_init(&cli[i], &ccfg);
        sslsocket_connect_encrypted(&cli[i], "127.0.0.1", port, SSLSOCKET_READ_WRITE);
        return;
    }
    {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cl[i].raw = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(cl[i].raw, (struct sockaddr *)&a, sizeof a);
        cl[i].until = now + (kind == 5 ? 1500 : 50);
        hostile_started++;
    }
}

static void
client_round(int64_t now, unsigned port, long *seq, int run)
{
    int i;
    for (i = 0; i < NCLI; i++) {
        char line[64];
        if (cl[i].kind == 0) {
            if (run)
                start_client(i, now, port, (*seq)++);
            continue;
        }
        if (cl[i].kind >= 3) { /* hostile: act once, then drop after `until` */
            if (cl[i].lines == 0) {
                if (cl[i].kind == 3 && write(cl[i].raw, "GET / HTTP/1.0\r\n\r\n", 18) == 18)
                    cl[i].lines = 1;
                else if (cl[i].kind == 4
                         && write(cl[i].raw, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9) == 9)
                    cl[i].lines = 1;
                else if (cl[i].kind == 5)
                    cl[i].lines = 1;
            }
            if (now >= cl[i].until) {
                close(cl[i].raw);
                cl[i].kind = 0;
            }
            continue;
        }
        sslsocket_poll(&cli[i]);
        while (sslsocket_read_line(&cli[i], line, sizeof line) > 0)
            cl[i].lines++;
        if (sslsocket_is_encrypted(&cli[i]) && now >= cl[i].next && cl[i].lines < 5
            && sslsocket_bytes_to_write(&cli[i]) == 0) {
            sslsocket_write_string(&cli[i], "soak line\n");
            cl[i].next = now + (cl[i].kind == 2 ? 200 : 0);
        }
        if (cl[i].lines >= 5 && sslsocket_state(&cli[i]) == SSLSOCKET_CONNECTED)
            sslsocket_disconnect(&cli[i]);
        if (sslsocket_state(&cli[i]) == SSLSOCKET_UNCONNECTED) {
            if (cl[i].lines >= 5)
                done_good++;
            else {
                failed_good++;
                if (failed_good < 5)
                    printf("client failed: %s\n", sslsocket_error_string(&cli[i]));
            }
            cl[i].kind = 0;
        }
    }
}

static int seconds = 60;

static void test_soak(void)
{
    int64_t start, end, warm;
    long seq = 0, rss0 = 0, rss1, peak = 0;
    int fd0 = 0, fd1, i, last_report = 0;
    unsigned port;
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    REQUIRE(sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"),
                                                  peers_path("ec.key")) == 0);
    sslsocket_config_set_session_cache(&scfg, cache, sizeof cache);
    REQUIRE(sslsocket_config_set_timeouts(&scfg, 0, 0, 1000, 0) == 0);
    sslsocket_config_init(&ccfg, cstore, sizeof cstore);
    REQUIRE(sslsocket_config_add_ca_file(&ccfg, peers_path("ca.pem")) == 1);
    sslsocket_init(&listener, &scfg);
    REQUIRE(sslsocket_listen(&listener, "127.0.0.1", 0, 0) == 0);
    port = sslsocket_local_port(&listener);
    start = peers_now_ms();
    warm = start + (seconds > 20 ? 10000 : seconds * 1000 / 3);
    end = start + (int64_t)seconds * 1000;
    for (;;) {
        int64_t now = peers_now_ms();
        int run = now < end;
        struct pollfd pf = { 0, POLLIN, 0 };
        if (!run) { /* drain: no new clients; stop once everything ended */
            int busy = 0;
            for (i = 0; i < NCLI; i++)
                busy |= cl[i].kind != 0;
            for (i = 0; i < NSRV; i++)
                busy |= srv_used[i];
            if (!busy || now > end + 15000)
                break;
        }
        if (rss0 == 0 && now >= warm) {
            rss0 = rss_kib();
            fd0 = fd_count();
        }
        if (rss0 && (now - start) / 1000 >= last_report + 10) {
            last_report = (int)((now - start) / 1000);
            rss1 = rss_kib();
            if (rss1 > peak)
                peak = rss1;
            printf("         %3ds: served %ld, good %ld, failed %ld, rss %ld KiB\n", last_report,
                   served, done_good, failed_good, rss1);
            fflush(stdout);
        }
        server_round();
        client_round(now, port, &seq, run);
        pf.fd = sslsocket_fd(&listener);
        poll(&pf, 1, 2);
    }
    rss1 = rss_kib();
    fd1 = fd_count();
    printf("         %d s: %ld connections served (%ld hostile), %ld good clients done, "
           "%ld failed, %ld server-side errors; RSS %ld -> %ld KiB; fds %d -> %d\n", seconds,
           served, hostile_started, done_good, failed_good, server_errors, rss0, rss1, fd0, fd1);
    CHECK(done_good > 0);
    CHECKF(failed_good == 0, "%ld good clients failed", failed_good);
    CHECKF(server_errors >= hostile_started * 9 / 10, "hostile clients should fail on the server");
    CHECKF(rss1 - rss0 < 2048, "RSS grew by %ld KiB", rss1 - rss0);
    CHECKF(fd1 <= fd0, "descriptors grew from %d to %d", fd0, fd1);
    sslsocket_abort(&listener);
}

static const testlib_case tests[] = {
    { "soak", test_soak },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    if (argc > 1 && atoi(argv[1]) > 0) {
        seconds = atoi(argv[1]);
        argc = 1;
    }
    if (peers_setup() != 0) {
        printf("fixture setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    return testlib_main(argc, argv, tests);
}
