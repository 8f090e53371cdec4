/* test_starttls.c - STARTTLS as a client: against a real dovecot-imapd that
 * the test configures and starts itself (unprivileged, everything inside the
 * fixture directory), and against tests/tlspeer.py, which injects plaintext
 * right behind its STARTTLS answer.
 *
 * dovecot listens on 127.0.0.2, not 127.0.0.1: it treats a client whose IP
 * equals the listening IP as secure and would accept LOGIN before STARTTLS
 * (see shared/TEST-PEERS.md).  Its certificate has only the IP SAN
 * 127.0.0.2 (the CN is not an address), so verification goes through the
 * iPAddress SAN check.
 *
 *   make build/test_starttls && build/test_starttls      (ASan + UBSan)
 *   KEEP_FIXTURES=1 keeps the fixture dir (dovecot's log is dovecot/dovecot.log)
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

#include <grp.h>
#include <pwd.h>

static unsigned char store[512 * 1024];
static sslsocket_config cfg;
static sslsocket sock;

static peers_proc dovecot = { -1, -1 };
static unsigned imap_port, imaps_port;
static int dovecot_tried;

static void
fresh_config(void)
{
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_add_ca_file(&cfg, peers_path("ca.pem")) != 1)
        printf("CA load failed: %s\n", sslsocket_config_error_string(&cfg));
}

/* ---- dovecot ----------------------------------------------------------- */

/* Configure and start dovecot once; returns 0 when both ports listen.  As
 * root it runs as nobody (setpriv); otherwise as the running user.  Either
 * way its internal and login users are that same user, and the login
 * service is not chrooted, so it needs no privileges at all. */
static int
dovecot_start(void)
{
    char dir[600], conf[700];
    const char *user, *group;
    unsigned uid, gid;
    FILE *f;
    int as_root = geteuid() == 0;

    if (dovecot_tried)
        return dovecot.pid > 0 ? 0 : -1;
    dovecot_tried = 1;
    if (as_root) {
        struct passwd *pw = getpwnam("nobody");
        struct group *gr;
        if (pw == NULL) {
            printf("no user nobody\n");
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
        gr = getgrgid(gid);
        user = "nobody";
        group = gr ? gr->gr_name : "nogroup";
    } else {
        struct passwd *pw = getpwuid(getuid());
        struct group *gr = getgrgid(getgid());
        uid = getuid();
        gid = getgid();
        user = pw ? pw->pw_name : "nobody";
        group = gr ? gr->gr_name : "nogroup";
    }
    snprintf(dir, sizeof dir, "%s/dovecot", peers_dir);
    /* a certificate whose only name is the IP SAN 127.0.0.2, DH parameters */
    if (peers_sh("mkdir -p dovecot/run dovecot/state dovecot/mail dovecot/home && "
                 "printf 'subjectAltName=IP:127.0.0.2\\nextendedKeyUsage=serverAuth\\n"
                 "basicConstraints=CA:FALSE\\n' > dovecot.ext && "
                 "openssl ecparam -name prime256v1 -genkey -noout -out dovecot/key.pem && "
                 "openssl req -new -key dovecot/key.pem -subj '/CN=dovecot test server' "
                 "  -out dovecot.csr && "
                 "openssl x509 -req -in dovecot.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                 "  -days 3650 -sha256 -extfile dovecot.ext -out dovecot/cert.pem && "
                 "openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 "
                 "  -out dovecot/dh.pem")
        != 0)
        return -1;
    imap_port = peers_free_port();
    do {
        imaps_port = peers_free_port();
    } while (imaps_port == imap_port);
    snprintf(conf, sizeof conf, "%s/dovecot.conf", dir);
    f = fopen(conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "protocols = imap\n"
            "listen = 127.0.0.2\n"
            "base_dir = %s/run\n"
            "state_dir = %s/state\n"
            "log_path = %s/dovecot.log\n"
            "ssl = required\n"
            "ssl_cert = <%s/cert.pem\n"
            "ssl_key = <%s/key.pem\n"
            "ssl_dh = <%s/dh.pem\n"
            "ssl_min_protocol = TLSv1.2\n"
            "disable_plaintext_auth = yes\n"
            "auth_mechanisms = plain login\n"
            "default_internal_user = %s\n"
            "default_internal_group = %s\n"
            "default_login_user = %s\n"
            "first_valid_uid = %u\n"
            "last_valid_uid = %u\n"
            "first_valid_gid = %u\n"
            "last_valid_gid = %u\n"
            "mail_location = maildir:%s/mail/%%u\n"
            "passdb {\n  driver = static\n  args = password=pass\n}\n"
            "userdb {\n  driver = static\n  args = uid=%u gid=%u home=%s/home/%%u\n}\n"
            "service imap-login {\n"
            "  chroot =\n"
            "  inet_listener imap {\n    port = %u\n  }\n"
            "  inet_listener imaps {\n    port = %u\n    ssl = yes\n  }\n"
            "}\n"
            "service anvil {\n  chroot =\n}\n",
            dir, dir, dir, dir, dir, dir, user, group, user, uid, uid, gid, gid, dir, uid, gid,
            dir, imap_port, imaps_port);
    fclose(f);
    if (as_root) {
        /* nobody must reach its files: traverse-only on the fixture dir */
        if (chmod(peers_dir, 0711) != 0 || peers_sh("chown -R %u:%u dovecot", uid, gid) != 0)
            return -1;
        {
            char uid_arg[32], gid_arg[32];
            char *argv[] = { "setpriv", uid_arg, gid_arg, "--clear-groups", "dovecot", "-F",
                             "-c", conf, NULL };
            snprintf(uid_arg, sizeof uid_arg, "--reuid=%u", uid);
            snprintf(gid_arg, sizeof gid_arg, "--regid=%u", gid);
            dovecot = peers_spawn("dovecot.out", argv);
        }
    } else {
        char *argv[] = { "dovecot", "-F", "-c", conf, NULL };
        dovecot = peers_spawn("dovecot.out", argv);
    }
    if (dovecot.pid <= 0 || peers_wait_port("127.0.0.2", imap_port, 10000) < 0
        || peers_wait_port("127.0.0.2", imaps_port, 10000) < 0) {
        printf("dovecot did not start; %s/dovecot.out:\n%s\n%s/dovecot/dovecot.log:\n%s\n",
               peers_dir, peers_slurp(peers_path("dovecot.out"), NULL), peers_dir,
               peers_slurp(peers_path("dovecot/dovecot.log"), NULL));
        peers_kill(&dovecot);
        return -1;
    }
    return 0;
}

/* ---- line-oriented helpers ------------------------------------------------ */

static int
has_line(sslsocket *s, drive_log *l)
{
    (void)l;
    return sslsocket_can_read_line(s);
}

/* One line (bounded wait) into buf; returns its length, 0 if none came. */
static ptrdiff_t
get_line(sslsocket *s, drive_log *l, char *buf, size_t max, int timeout_ms)
{
    ptrdiff_t n;
    buf[0] = 0;
    if (!sslsocket_can_read_line(s) && !drive_until(s, l, has_line, timeout_ms))
        return 0;
    n = sslsocket_read_line(s, buf, max);
    return n > 0 ? n : 0;
}

/* Read IMAP responses until the one tagged `tag`: it goes to `tagged`,
 * untagged ones are appended to `untagged` (may be NULL).  Returns 1 when
 * the tagged response is "tag OK". */
static int
imap_wait(sslsocket *s, drive_log *l, const char *tag, char *tagged, size_t tmax,
          char *untagged, size_t umax)
{
    size_t tl = strlen(tag);
    if (untagged && umax)
        untagged[0] = 0;
    tagged[0] = 0;
    for (;;) {
        char line[2048];
        if (get_line(s, l, line, sizeof line, 5000) == 0) {
            printf("         no response for %s (events: %s, error: %s)\n", tag, l->text,
                   sslsocket_error_string(s));
            return 0;
        }
        if (strncmp(line, tag, tl) == 0 && line[tl] == ' ') {
            snprintf(tagged, tmax, "%s", line);
            return strncmp(line + tl, " OK", 3) == 0;
        }
        if (untagged && strlen(untagged) + strlen(line) < umax)
            strcat(untagged, line);
    }
}

/* VERBOSE=1 prints each test's event log. */
static void
show_events(const drive_log *l)
{
    if (getenv("VERBOSE"))
        printf("         events: %s\n", l->text);
}

/* Disconnect (if still up) and drive to UNCONNECTED. */
static void
close_and_drain(sslsocket *s, drive_log *l)
{
    if (sslsocket_state(s) != SSLSOCKET_UNCONNECTED)
        sslsocket_disconnect(s);
    CHECK(drive_until(s, l, NULL, 5000));
    CHECK(sslsocket_state(s) == SSLSOCKET_UNCONNECTED);
}

/* After LOGOUT dovecot closes too: whoever is first, the connection ends
 * with CLOSING, UNCONNECTED, DISCONNECTED, and if dovecot was first, with
 * its close_notify (REMOTE_HOST_CLOSED once, no truncation). */
static void
check_close_after_logout(const drive_log *l)
{
    size_t n = strlen(l->text);
    CHECKF(n >= 8 && strcmp(l->text + n - 8, "S6 S0 D ") == 0, "events: %s", l->text);
    CHECKF(strchr(l->text, 'X') == NULL || strstr(l->text, " E X1 S6 S0 D ") != NULL,
           "events: %s (error: %s)", l->text, sslsocket_error_string(&sock));
    if (strchr(l->text, 'X'))
        CHECK_ERR(&sock, SSLSOCKET_ERR_REMOTE_HOST_CLOSED, "close_notify");
}

/* ---- (a) STARTTLS against dovecot ------------------------------------------ */

static void
test_dovecot_starttls(void)
{
    drive_log l;
    char line[2048], tagged[2048], untagged[8192];
    const sslsocket_cert_info *peer;
    memset(&l, 0, sizeof l);
    REQUIRE(dovecot_start() == 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect(&sock, "127.0.0.2", imap_port, SSLSOCKET_READ_WRITE) == 0);

    /* greeting, then capabilities: STARTTLS offered, LOGIN disabled */
    REQUIRE(get_line(&sock, &l, line, sizeof line, 5000) > 0);
    CHECKF(strncmp(line, "* OK ", 5) == 0, "greeting: %s", line);
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_UNENCRYPTED);
    CHECK(!sslsocket_is_encrypted(&sock));
    CHECK(sslsocket_write_string(&sock, "a CAPABILITY\r\n") == 14);
    CHECK(imap_wait(&sock, &l, "a", tagged, sizeof tagged, untagged, sizeof untagged));
    CHECKF(strstr(untagged, "STARTTLS") != NULL, "capabilities: %s", untagged);
    CHECKF(strstr(untagged, "LOGINDISABLED") != NULL, "capabilities: %s", untagged);
    /* dovecot really enforces it: LOGIN in plaintext is refused */
    CHECK(sslsocket_write_string(&sock, "x LOGIN user pass\r\n") > 0);
    CHECK(!imap_wait(&sock, &l, "x", tagged, sizeof tagged, NULL, 0));
    CHECKF(strncmp(tagged, "x NO", 4) == 0, "plaintext LOGIN: %s", tagged);

    CHECK(sslsocket_write_string(&sock, "b STARTTLS\r\n") == 12);
    CHECK(imap_wait(&sock, &l, "b", tagged, sizeof tagged, NULL, 0));
    CHECKF(strncmp(tagged, "b OK", 4) == 0, "STARTTLS answer: %s", tagged);
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_UNENCRYPTED);
    CHECKF(strcmp(l.text, "S1 S2 H S3 C ") == 0, "events before STARTTLS: %s", l.text);

    drive_note(&l, "T", 0); /* marks the call in the event log */
    REQUIRE(sslsocket_start_client_encryption(&sock) == 0);
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_SSL_CLIENT);
    CHECK(!sslsocket_is_encrypted(&sock));
    CHECK(sslsocket_discarded_plaintext(&sock) == 0);
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 C T M1 E ") == 0, "events: %s (error: %s)", l.text,
           sslsocket_error_string(&sock));
    CHECK(sslsocket_is_encrypted(&sock));
    /* TLS 1.3, the default, with a real IMAP server */
    CHECKF(sslsocket_protocol(&sock) && strcmp(sslsocket_protocol(&sock), "TLSv1.3") == 0,
           "protocol %s", sslsocket_protocol(&sock));
    CHECK(sslsocket_ssl_error_count(&sock) == 0);
    peer = sslsocket_peer_certificate(&sock);
    CHECK(peer != NULL);
    if (peer)
        CHECKF(strstr(peer->subject_alt_names, "IP:127.0.0.2") != NULL, "SANs: %s",
               peer->subject_alt_names);

    /* after STARTTLS: LOGIN works, then LOGOUT */
    CHECK(sslsocket_write_string(&sock, "c LOGIN user pass\r\n") > 0);
    CHECK(imap_wait(&sock, &l, "c", tagged, sizeof tagged, NULL, 0));
    CHECKF(strncmp(tagged, "c OK", 4) == 0, "LOGIN: %s", tagged);
    CHECK(sslsocket_write_string(&sock, "d LOGOUT\r\n") == 10);
    CHECK(imap_wait(&sock, &l, "d", tagged, sizeof tagged, untagged, sizeof untagged));
    CHECKF(strstr(untagged, "* BYE") != NULL, "LOGOUT: %s", untagged);
    close_and_drain(&sock, &l);
    show_events(&l);
    /* the mode changed exactly once, right after the call; the close ends it */
    {
        const char *m = strchr(l.text, 'M');
        CHECKF(m != NULL && strchr(m + 1, 'M') == NULL && strstr(l.text, " T M1 E ") != NULL,
               "events: %s", l.text);
    }
    check_close_after_logout(&l);
}

/* ---- (b) IMAPS against dovecot ---------------------------------------------- */

static void
test_dovecot_imaps(void)
{
    drive_log l;
    char line[2048], tagged[2048];
    memset(&l, 0, sizeof l);
    REQUIRE(dovecot_start() == 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.2", imaps_port, SSLSOCKET_READ_WRITE)
            == 0);
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E ") == 0, "events: %s (error: %s)", l.text,
           sslsocket_error_string(&sock));
    REQUIRE(get_line(&sock, &l, line, sizeof line, 5000) > 0);
    CHECKF(strncmp(line, "* OK ", 5) == 0, "greeting: %s", line);
    CHECKF(strstr(line, "LOGINDISABLED") == NULL && strstr(line, "AUTH=PLAIN") != NULL,
           "greeting: %s", line);
    CHECK(sslsocket_write_string(&sock, "a LOGIN user pass\r\n") > 0);
    CHECK(imap_wait(&sock, &l, "a", tagged, sizeof tagged, NULL, 0));
    CHECKF(strncmp(tagged, "a OK", 4) == 0, "LOGIN: %s", tagged);
    CHECK(sslsocket_write_string(&sock, "b LOGOUT\r\n") == 10);
    CHECK(imap_wait(&sock, &l, "b", tagged, sizeof tagged, NULL, 0));
    close_and_drain(&sock, &l);
    show_events(&l);
    check_close_after_logout(&l);
}

/* ---- (c) plaintext injected behind the STARTTLS answer ---------------------- */

static void
test_starttls_injection(void)
{
    drive_log l;
    peers_proc py;
    unsigned port;
    char line[256], rest[256];
    const char *log;
    char *argv[] = { NULL, NULL, "starttls-inject", NULL, NULL, NULL, NULL };
    ptrdiff_t n;
    memset(&l, 0, sizeof l);
    argv[0] = (char *)peers_python();
    argv[1] = (char *)peers_script("tlspeer.py");
    argv[3] = (char *)peers_path("inject.port");
    argv[4] = (char *)peers_path("ec.pem");
    argv[5] = (char *)peers_path("ec.key");
    port = peers_spawn_port(&py, "inject.log", peers_path("inject.port"), argv, 10000);
    REQUIRE(port != 0);
    fresh_config();
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock, "STARTTLS\r\n") == 10);
    REQUIRE(get_line(&sock, &l, line, sizeof line, 5000) > 0);
    CHECKF(strcmp(line, "OK begin\r\n") == 0, "answer: %s", line);
    /* the injected line came in the same segment and waits, unread */
    CHECKF(sslsocket_bytes_available(&sock) == 10, "buffered: %zu",
           sslsocket_bytes_available(&sock));
    REQUIRE(sslsocket_start_client_encryption(&sock) == 0);
    CHECKF(sslsocket_discarded_plaintext(&sock) == 10, "discarded: %zu",
           sslsocket_discarded_plaintext(&sock));
    CHECK(sslsocket_bytes_available(&sock) == 0);
    CHECK(!sslsocket_can_read_line(&sock));
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 C M1 E ") == 0, "events: %s (error: %s)", l.text,
           sslsocket_error_string(&sock));
    REQUIRE(get_line(&sock, &l, line, sizeof line, 5000) > 0);
    CHECKF(strcmp(line, "hello over tls\r\n") == 0, "first line after ENCRYPTED: %s", line);
    n = sslsocket_read(&sock, rest, sizeof rest - 1);
    rest[n > 0 ? n : 0] = 0;
    CHECKF(strstr(rest, "INJECTED") == NULL, "rest: %s", rest);
    /* the count stays until the next start of encryption / connect */
    CHECK(sslsocket_discarded_plaintext(&sock) == 10);
    close_and_drain(&sock, &l);
    show_events(&l);
    CHECKF(strstr(l.text, "S6 S0 D ") != NULL, "events: %s", l.text);
    CHECK(peers_wait_exit(&py, 5000) == 0);
    peers_kill(&py);
    log = peers_slurp(peers_path("inject.log"), NULL);
    CHECKF(strstr(log, "handshake=ok") != NULL && strstr(log, "close_notify=yes") != NULL,
           "peer: %s", log);
}

/* ---- (d) start_client_encryption in the wrong state ------------------------- */

static int
is_lookup_or_later(sslsocket *s, drive_log *l)
{
    (void)l;
    return sslsocket_state(s) != SSLSOCKET_HOST_LOOKUP;
}

static int
got_http(sslsocket *s, drive_log *l)
{
    (void)s;
    return l->rx_len > 0 && strstr((char *)l->rx, "\r\n\r\n") != NULL;
}

static void
test_start_encryption_misuse(void)
{
    drive_log l;
    peers_proc p;
    unsigned port;
    unsigned char rx[16384];
    char accept_arg[64];
    char *argv[] = { "openssl", "s_server", "-accept", accept_arg, "-cert", NULL, "-key", NULL,
                     "-quiet", "-www", NULL };
    const char *hosts = peers_path("hosts.empty");
    int sticky;
    memset(&l, 0, sizeof l);
    fresh_config();

    /* UNCONNECTED */
    sslsocket_init(&sock, &cfg);
    CHECK_REFUSED(&sock, sslsocket_start_client_encryption(&sock), "sslsocket_start_client_encryption: not connected");
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_UNENCRYPTED);
    CHECK(sslsocket_poll(&sock) == 0); /* no event queued */
    CHECK(sslsocket_fd(&sock) == -1);

    /* HOST_LOOKUP (a name, a name server that never answers in time) */
    {
        FILE *f = fopen(hosts, "w");
        if (f)
            fclose(f);
    }
    sslsocket_config_set_resolver_files(&cfg, hosts, NULL);
    CHECK(sslsocket_config_add_nameserver(&cfg, "127.0.0.1:9") == 0);
    REQUIRE(sslsocket_connect(&sock, "lookup.test", 143, SSLSOCKET_READ_WRITE) == 0);
    if (sslsocket_state(&sock) == SSLSOCKET_HOST_LOOKUP) {
        CHECK_REFUSED(&sock, sslsocket_start_client_encryption(&sock), "not connected");
        CHECK(sslsocket_state(&sock) == SSLSOCKET_HOST_LOOKUP);
        CHECK(sslsocket_mode(&sock) == SSLSOCKET_UNENCRYPTED);
        drive_until(&sock, &l, is_lookup_or_later, 100);
        CHECKF(strstr(l.text, "M") == NULL, "events: %s", l.text);
    } else {
        printf("         (lookup finished inside connect; HOST_LOOKUP case not run)\n");
    }
    sslsocket_abort(&sock);
    drive_until(&sock, &l, NULL, 1000);

    /* handshaking, then encrypted: openssl s_server -www */
    fresh_config();
    port = peers_free_port();
    snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%u", port);
    argv[5] = (char *)peers_path("ec.pem");
    argv[7] = (char *)peers_path("ec.key");
    p = peers_spawn("s_server_misuse.log", argv);
    REQUIRE(peers_wait_port("127.0.0.1", port, 5000) == 0);
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    sslsocket_init(&sock, &cfg);
    REQUIRE(sslsocket_connect_encrypted(&sock, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(drive_until(&sock, &l, drive_is_connected, 5000));
    if (!sslsocket_is_encrypted(&sock)) {
        CHECK_REFUSED(&sock, sslsocket_start_client_encryption(&sock), "already handshaking");
        CHECK(sslsocket_mode(&sock) == SSLSOCKET_SSL_CLIENT);
        CHECK(sslsocket_state(&sock) == SSLSOCKET_CONNECTED);
    }
    CHECK(drive_until(&sock, &l, drive_is_encrypted, 5000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C E ") == 0, "events: %s", l.text);
    CHECK_REFUSED(&sock, sslsocket_start_client_encryption(&sock), "already encrypted");
    CHECK(sslsocket_state(&sock) == SSLSOCKET_CONNECTED);
    CHECK(sslsocket_mode(&sock) == SSLSOCKET_SSL_CLIENT);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECK(sslsocket_discarded_plaintext(&sock) == 0);
    sticky = (int)strlen(l.text);
    /* nothing changed: the connection still works */
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    CHECK(sslsocket_write_string(&sock, "GET / HTTP/1.0\r\n\r\n") == 18);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", rx);
    CHECKF(strstr(l.text + sticky, "M") == NULL && strstr(l.text + sticky, "X") == NULL,
           "events: %s", l.text);
    close_and_drain(&sock, &l);
    peers_kill(&p);
}

static const testlib_case tests[] = {
    { "dovecot_starttls", test_dovecot_starttls },
    { "dovecot_imaps", test_dovecot_imaps },
    { "starttls_injection", test_starttls_injection },
    { "start_encryption_misuse", test_start_encryption_misuse },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    int r;
    if (peers_setup() != 0) {
        printf("fixture setup failed (see %s/sh.log)\n0 passed, 1 failed\n", peers_dir);
        return 1;
    }
    r = testlib_main(argc, argv, tests);
    peers_kill(&dovecot);
    return r;
}
