/* peers.h - test fixtures: certificates made with the openssl CLI at test
 * time, real peers (openssl, gnutls, python) started as child processes on
 * ephemeral loopback ports, and helpers to drive sockets with a bounded loop.
 * Only the tests use this; it may allocate and block freely.
 */
#ifndef PEERS_H
#define PEERS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#ifndef TESTLIB_UNUSED
#if defined(__GNUC__) || defined(__clang__)
#define TESTLIB_UNUSED __attribute__((unused))
#else
#define TESTLIB_UNUSED
#endif
#endif

TESTLIB_UNUSED static char peers_dir[256];

TESTLIB_UNUSED static int64_t
peers_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run a shell command in the fixture directory; returns its exit status. */
TESTLIB_UNUSED static int
peers_sh(const char *fmt, ...)
{
    char cmd[4096], full[8192];
    va_list ap;
    int r;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "cd '%s' && ( %s ) >>'%s/sh.log' 2>&1", peers_dir, cmd,
             peers_dir);
    r = system(full);
    if (r != 0)
        fprintf(stderr, "peers_sh failed (%d): %s\n", r, cmd);
    return r;
}

TESTLIB_UNUSED static const char *
peers_path(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", peers_dir, name);
    return buf[k];
}

/* Read a whole file into a static buffer (tests only). */
TESTLIB_UNUSED static const char *
peers_slurp(const char *path, size_t *len)
{
    static char buf[4][1 << 20];
    static int k;
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    k = (k + 1) % 4;
    if (f) {
        n = fread(buf[k], 1, sizeof buf[k] - 1, f);
        fclose(f);
    }
    buf[k][n] = 0;
    if (len)
        *len = n;
    return buf[k];
}

TESTLIB_UNUSED static void
peers_cleanup(void)
{
    char cmd[400];
    if (peers_dir[0] && getenv("KEEP_FIXTURES") == NULL) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", peers_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", peers_dir);
    }
}

/* Make the fixture directory with a CA and a few leaf certificates:
 *   ca.pem / ca.key            test root CA (EC P-256)
 *   ec.pem / ec.key            leaf, EC P-256, SAN localhost, 127.0.0.1, ::1
 *   rsa.pem / rsa.key          leaf, RSA 2048, same SANs
 *   client.pem / client.key    client certificate (clientAuth), EC
 */
TESTLIB_UNUSED static int
peers_setup(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(peers_dir, sizeof peers_dir, "%s/sslsocket-test-XXXXXX", tmp);
    if (mkdtemp(peers_dir) == NULL)
        return -1;
    atexit(peers_cleanup);
    signal(SIGPIPE, SIG_IGN); /* the fixtures' own pipes, not the library's */
    return peers_sh(
        "openssl ecparam -name prime256v1 -genkey -noout -out ca.key && "
        "openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj '/CN=sslsocket test CA' "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign "
        "  -out ca.pem && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\nextendedKeyUsage=serverAuth\\n"
        "basicConstraints=CA:FALSE\\n' > leaf.ext && "
        "openssl ecparam -name prime256v1 -genkey -noout -out ec.key && "
        "openssl req -new -key ec.key -subj '/CN=localhost/O=sslsocket tests' -out ec.csr && "
        "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 "
        "  -sha256 -extfile leaf.ext -out ec.pem && "
        "openssl genrsa -out rsa.key 2048 && "
        "openssl req -new -key rsa.key -subj '/CN=localhost' -out rsa.csr && "
        "openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 "
        "  -sha256 -extfile leaf.ext -out rsa.pem && "
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
        "openssl ecparam -name prime256v1 -genkey -noout -out client.key && "
        "openssl req -new -key client.key -subj '/CN=test client' -out client.csr && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 "
        "  -sha256 -extfile client.ext -out client.pem");
}

/* A free TCP port on loopback (bind 0, read it, close). */
TESTLIB_UNUSED static unsigned
peers_free_port(void)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    unsigned port = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Wait (bounded) until something accepts TCP on host:port. */
TESTLIB_UNUSED static int
peers_wait_port(const char *host, unsigned port, int timeout_ms)
{
    int64_t end = peers_now_ms() + timeout_ms;
    while (peers_now_ms() < end) {
        struct sockaddr_storage ss;
        socklen_t sl;
        int fd;
        memset(&ss, 0, sizeof ss);
        if (strchr(host, ':')) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons((unsigned short)port);
            inet_pton(AF_INET6, host, &a6->sin6_addr);
            sl = sizeof *a6;
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
            a4->sin_family = AF_INET;
            a4->sin_port = htons((unsigned short)port);
            inet_pton(AF_INET, host, &a4->sin_addr);
            sl = sizeof *a4;
        }
        fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
            close(fd);
            return 0;
        }
        close(fd);
        {
            struct timespec ts = { 0, 20 * 1000000 };
            nanosleep(&ts, NULL); /* polling interval, not synchronisation */
        }
    }
    return -1;
}

typedef struct peers_proc {
    pid_t pid;
    int stdin_fd; /* write end of the child's stdin, or -1 */
} peers_proc;

/* Start argv[] in the fixture dir with stdout/stderr to `log` (a file in
 * the dir) and stdin from a pipe we keep open. */
TESTLIB_UNUSED static peers_proc
peers_spawn(const char *log, char *const argv[])
{
    peers_proc p = { -1, -1 };
    int in[2];
    if (pipe(in) < 0)
        return p;
    p.pid = fork();
    if (p.pid == 0) {
        int fd = open(peers_path(log), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(in[0], 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close(in[1]);
        if (chdir(peers_dir) != 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    p.stdin_fd = in[1];
    return p;
}

TESTLIB_UNUSED static void
peers_kill(peers_proc *p)
{
    if (p->stdin_fd >= 0)
        close(p->stdin_fd);
    p->stdin_fd = -1;
    if (p->pid > 0) {
        int st;
        kill(p->pid, SIGTERM);
        waitpid(p->pid, &st, 0);
    }
    p->pid = -1;
}

/* ---- helper scripts and programmable peers (appended) ------------------ */

#include <limits.h>

/* The python3 that runs the helper scripts: $PYTHON, else Debian's (starts
 * fast; a pyenv shim on PATH takes ~0.5 s), else the one on PATH. */
TESTLIB_UNUSED static const char *
peers_python(void)
{
    if (getenv("PYTHON") != NULL)
        return getenv("PYTHON");
    if (access("/usr/bin/python3", X_OK) == 0)
        return "/usr/bin/python3";
    return "python3";
}

/* Absolute path of a helper script in the tests directory ($TESTS_DIR, else
 * the directory of this header as compiled, else ./tests). */
TESTLIB_UNUSED static const char *
peers_script(const char *name)
{
    static char buf[4][PATH_MAX + 64];
    static int k;
    char dir[512], abs_dir[PATH_MAX];
    const char *slash = strrchr(__FILE__, '/');
    k = (k + 1) % 4;
    if (getenv("TESTS_DIR") != NULL)
        snprintf(dir, sizeof dir, "%s", getenv("TESTS_DIR"));
    else if (slash != NULL)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(dir, sizeof dir, ".");
    if (realpath(dir, abs_dir) == NULL)
        snprintf(abs_dir, sizeof abs_dir, "%s", "tests");
    snprintf(buf[k], sizeof buf[k], "%s/%.60s", abs_dir, name);
    return buf[k];
}

/* Start argv[] (as peers_spawn) and wait, bounded, until it has written its
 * port number to `portfile` (a path; helper scripts write it atomically).
 * Returns the port, or 0 if the child died or the time ran out. */
TESTLIB_UNUSED static unsigned
peers_spawn_port(peers_proc *p, const char *log, const char *portfile, char *const argv[],
                 int timeout_ms)
{
    int64_t end = peers_now_ms() + timeout_ms;
    unlink(portfile);
    *p = peers_spawn(log, argv);
    if (p->pid <= 0)
        return 0;
    while (peers_now_ms() < end) {
        FILE *f = fopen(portfile, "r");
        int st;
        if (f != NULL) {
            unsigned port = 0;
            int ok = fscanf(f, "%u", &port) == 1;
            fclose(f);
            if (ok && port > 0 && port < 65536)
                return port;
        }
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = -1;
            return 0;
        }
        {
            struct timespec ts = { 0, 5 * 1000000 };
            nanosleep(&ts, NULL); /* polling interval, not synchronisation */
        }
    }
    return 0;
}

/* Wait, bounded, for a child to exit by itself.  Returns its exit status
 * (0..255, 128+signal), or -1 when it is still running at the deadline (it
 * is then left running: peers_kill it). */
TESTLIB_UNUSED static int
peers_wait_exit(peers_proc *p, int timeout_ms)
{
    int64_t end = peers_now_ms() + timeout_ms;
    if (p->pid <= 0)
        return -1;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = -1;
            if (p->stdin_fd >= 0)
                close(p->stdin_fd);
            p->stdin_fd = -1;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (r < 0 || peers_now_ms() >= end)
            return -1;
        {
            struct timespec ts = { 0, 5 * 1000000 };
            nanosleep(&ts, NULL); /* polling interval, not synchronisation */
        }
    }
}

/* `gnutls-serv --echo` with `cert`/`key` (fixture names or paths) and a
 * priority string, on a free port of 127.0.0.1; returns the port (0 if it did
 * not start). */
TESTLIB_UNUSED static unsigned
peers_gnutls_serv(peers_proc *p, const char *cert, const char *key, const char *priority)
{
    unsigned port = peers_free_port();
    char portarg[32];
    char *argv[] = { "gnutls-serv", "--echo", "--x509certfile", (char *)cert, "--x509keyfile",
                     (char *)key, "--priority", (char *)priority, portarg, NULL };
    snprintf(portarg, sizeof portarg, "--port=%u", port);
    *p = peers_spawn("gnutls.log", argv);
    return peers_wait_port("127.0.0.1", port, 5000) == 0 ? port : 0;
}

/* The same, TLS 1.2 alone. */
TESTLIB_UNUSED static unsigned
peers_gnutls_echo(peers_proc *p, const char *cert, const char *key)
{
    return peers_gnutls_serv(p, cert, key, "NORMAL:-VERS-TLS1.3");
}

/* `openssl s_server` on host (an IPv6 literal goes in brackets) and a free
 * port, with `cert`/`key` (fixture names or paths: it runs in the fixture
 * dir) and `extra` options split on spaces, its output to `log`; waits,
 * bounded, until it accepts.  Returns the port, 0 if it did not start. */
TESTLIB_UNUSED static unsigned
peers_s_server(peers_proc *p, const char *log, const char *host, const char *cert,
               const char *key, const char *extra)
{
    unsigned port = peers_free_port();
    char accept[80], certp[512], keyp[512], opts[512], *argv[40], *tok;
    int n = 0;
    snprintf(accept, sizeof accept, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    snprintf(certp, sizeof certp, "%s", cert);
    snprintf(keyp, sizeof keyp, "%s", key);
    snprintf(opts, sizeof opts, "%s", extra ? extra : "");
    argv[n++] = "openssl";
    argv[n++] = "s_server";
    argv[n++] = "-accept";
    argv[n++] = accept;
    argv[n++] = "-cert";
    argv[n++] = certp;
    argv[n++] = "-key";
    argv[n++] = keyp;
    for (tok = strtok(opts, " "); tok != NULL && n < 39; tok = strtok(NULL, " "))
        argv[n++] = tok;
    argv[n] = NULL;
    *p = peers_spawn(log, argv);
    if (peers_wait_port(host, port, 5000) < 0) {
        printf("s_server did not start on %s\n", accept);
        return 0;
    }
    return port;
}

/* `openssl s_client` to 127.0.0.1:port with `extra` options split on
 * spaces, run in the fixture dir, its output to `log` (emptied first);
 * its stdin stays open (p.stdin_fd) for the test to type into. */
TESTLIB_UNUSED static peers_proc
peers_s_client(const char *log, unsigned port, const char *extra)
{
    char connect[64], opts[1024], *argv[48], *tok;
    int n = 0;
    snprintf(connect, sizeof connect, "127.0.0.1:%u", port);
    snprintf(opts, sizeof opts, "%s", extra ? extra : "");
    argv[n++] = "openssl";
    argv[n++] = "s_client";
    argv[n++] = "-connect";
    argv[n++] = connect;
    for (tok = strtok(opts, " "); tok != NULL && n < 47; tok = strtok(NULL, " "))
        argv[n++] = tok;
    argv[n] = NULL;
    unlink(peers_path(log));
    return peers_spawn(log, argv);
}

/* Printable 64-byte lines (gnutls-serv's echo mode reads text). */
TESTLIB_UNUSED static void
peers_text_lines(unsigned char *out, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        out[i] = (i % 64 == 63) ? '\n' : (unsigned char)('a' + ((i * 2654435761u) >> 13) % 26);
}

#endif
