/*
 * tls_client.c - a command-line TLS client in the spirit of `openssl s_client`,
 * built on nothing but sslsocket.h.  The options are listed in `usage` below.
 *
 * Standard input goes to the server and the server's bytes go to standard
 * output; the session summary and every error go to standard error.  The
 * exit status is 0 when the connection ended normally (end of input, or the
 * server closed with close_notify) and 1 on any failure.
 *
 * Build: cc -std=c99 -D_GNU_SOURCE -O2 -o tls_client tls_client.c -lbearssl
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"

#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Everything the library needs lives in memory we own.  The trust anchors
 * are decoded into `store` (Debian's 143 system CAs take about 70 KiB); the
 * socket itself is about 45 KiB, mostly BearSSL's record buffer, so it is
 * static rather than on the stack.
 */
static unsigned char store[256 * 1024];
static sslsocket_config cfg;
static sslsocket sock;
static int quiet;

static const char usage[] =
    "usage: tls_client [options] HOST PORT\n"
    "  --cafile FILE           trust the CAs in FILE instead of the system store\n"
    "  --insecure              do not check the server's certificate (DANGEROUS)\n"
    "  --cert FILE --key FILE  present a client certificate\n"
    "  --alpn LIST             offer ALPN protocols, e.g. \"h2,http/1.1\"\n"
    "  --servername NAME       name to verify and send as SNI (default: HOST)\n"
    "  --starttls PROTO        smtp, imap or pop3: talk plaintext first, then TLS\n"
    "  --min-version V         lowest TLS version: 1.0, 1.1 or 1.2 (default 1.2)\n"
    "  --max-version V         highest TLS version (default 1.2)\n"
    "  --pin sha256/BASE64     accept a server whose public key has this hash\n"
    "  --nameserver ADDR       resolve HOST with this DNS server (\"127.0.0.1:53\")\n"
    "  --quiet                 print no session summary\n";

static void
die(const char *fmt, const char *arg)
{
    fprintf(stderr, "tls_client: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

/*
 * STARTTLS dialogues.  Each step sends a command (the first sends nothing:
 * it waits for the greeting) and waits for a reply line starting with
 * `expect`.  Continuation lines ("250-PIPELINING") and IMAP untagged lines
 * ("* CAPABILITY ...") are skipped; any other line means the server said no.
 */
struct step { const char *send, *expect; };
static const struct step smtp[] = { { NULL, "220 " }, { "EHLO tls-client\r\n", "250 " },
                                    { "STARTTLS\r\n", "220 " }, { NULL, NULL } };
static const struct step imap[] = { { NULL, "* OK" }, { "a1 STARTTLS\r\n", "a1 OK" },
                                    { NULL, NULL } };
static const struct step pop3[] = { { NULL, "+OK" }, { "STLS\r\n", "+OK" }, { NULL, NULL } };

static unsigned
tls_version(const char *v)
{
    unsigned version = strcmp(v, "1.0") == 0 ? SSLSOCKET_TLS10 : strcmp(v, "1.1") == 0
                       ? SSLSOCKET_TLS11 : strcmp(v, "1.2") == 0 ? SSLSOCKET_TLS12 : 0;
    if (version == 0)
        die("unknown TLS version '%s' (1.0, 1.1 or 1.2; BearSSL has no TLS 1.3)", v);
    return version;
}

/*
 * The summary an operator wants after the handshake: what was negotiated
 * and who we are talking to.  The certificate summary is decoded by the
 * library during verification, so it is there even under --insecure.
 */
static void
print_summary(void)
{
    const sslsocket_cert_info *c = sslsocket_peer_certificate(&sock);
    char addr[64], date[64];
    int i;
    fprintf(stderr, "connected to %s port %u\n",
            sslsocket_remote_address(&sock, addr, sizeof addr), sslsocket_remote_port(&sock));
    fprintf(stderr, "  protocol   %s\n  cipher     %s\n  ALPN       %s\n  resumed    %s\n",
            sslsocket_protocol(&sock) ? sslsocket_protocol(&sock) : "?",
            sslsocket_cipher(&sock) ? sslsocket_cipher(&sock) : "?",
            sslsocket_alpn(&sock) ? sslsocket_alpn(&sock) : "(none)",
            sslsocket_session_resumed(&sock) ? "yes" : "no");
    if (c != NULL) {
        fprintf(stderr, "  subject    %s\n  issuer     %s\n  SANs       %s\n", c->subject,
                c->issuer, c->subject_alt_names[0] ? c->subject_alt_names : "(none)");
        for (i = 0; i < 2; i++) {
            time_t t = (time_t)(i == 0 ? c->not_before : c->not_after);
            struct tm tm;
            strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
            fprintf(stderr, "  %-10s %s\n", i == 0 ? "not before" : "not after", date);
        }
        fprintf(stderr, "  key        %s %d bits, signed with %s\n  SHA-256    ",
                c->key_type == BR_KEYTYPE_RSA ? "RSA" : c->key_type == BR_KEYTYPE_EC ? "EC" : "?",
                c->key_bits, c->sig_alg);
        for (i = 0; i < 32; i++)
            fprintf(stderr, "%02X%s", c->sha256[i], i < 31 ? ":" : "\n");
    }
    for (i = 0; i < sslsocket_ssl_error_count(&sock); i++)
        fprintf(stderr, "  problem    %s (accepted)\n",
                sslsocket_ssl_error_message(sslsocket_ssl_error_code(&sock, i)));
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cafile", 1, NULL, 'A' }, { "insecure", 0, NULL, 'k' }, { "cert", 1, NULL, 'c' },
        { "key", 1, NULL, 'K' }, { "alpn", 1, NULL, 'a' }, { "servername", 1, NULL, 'n' },
        { "starttls", 1, NULL, 's' }, { "min-version", 1, NULL, 'm' },
        { "max-version", 1, NULL, 'M' }, { "pin", 1, NULL, 'p' }, { "quiet", 0, NULL, 'q' },
        { "nameserver", 1, NULL, 'D' }, { NULL, 0, NULL, 0 }
    };
    const char *cafile = NULL, *cert = NULL, *key = NULL, *servername = NULL;
    const struct step *script = NULL;
    unsigned vmin = SSLSOCKET_TLS12, vmax = SSLSOCKET_TLS12;
    char inbuf[4096], outbuf[4096], line[1024];
    size_t inlen = 0, inoff = 0;
    int stdin_open = 1, failed = 0, was_encrypted = 0, insecure = 0, o;
    unsigned long port;

    /*
     * The configuration is shared by every socket that uses it; it starts
     * with secure defaults (verify the peer and its name, TLS 1.2, ECDHE
     * with AEAD suites) and each option changes one thing.  Every setter
     * validates its input and says what was wrong.  Trust comes from the
     * CA file when one is given, else from the system store (which honours
     * SSL_CERT_FILE and SSL_CERT_DIR like OpenSSL); --insecure needs none.
     */
    sslsocket_config_init(&cfg, store, sizeof store);
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int r = 0;
        switch (o) {
        case 'A': cafile = optarg; break;
        case 'k': insecure = 1; break;
        case 'c': cert = optarg; break;
        case 'K': key = optarg; break;
        case 'a': r = sslsocket_config_set_alpn(&cfg, optarg); break;
        case 'n': servername = optarg; break;
        case 'm': vmin = tls_version(optarg); break;
        case 'M': vmax = tls_version(optarg); break;
        case 'p': r = sslsocket_config_add_pin(&cfg, optarg); break;
        case 'D': r = sslsocket_config_add_nameserver(&cfg, optarg); break;
        case 'q': quiet = 1; break;
        case 's':
            script = strcmp(optarg, "smtp") == 0 ? smtp : strcmp(optarg, "imap") == 0 ? imap
                     : strcmp(optarg, "pop3") == 0 ? pop3 : NULL;
            if (script == NULL)
                die("unknown STARTTLS protocol '%s' (smtp, imap or pop3)", optarg);
            break;
        default: fputs(usage, stderr); return 2;
        }
        if (r < 0)
            die("%s", sslsocket_config_error_string(&cfg));
    }
    if (argc - optind != 2 || (port = strtoul(argv[optind + 1], NULL, 10)) == 0 || port > 65535) {
        fputs(usage, stderr);
        return 2;
    }
    if (sslsocket_config_set_versions(&cfg, vmin, vmax) < 0)
        die("%s", sslsocket_config_error_string(&cfg));
    if ((cert != NULL) != (key != NULL))
        die("%s", "--cert and --key go together");
    if (cert != NULL && sslsocket_config_set_certificate_file(&cfg, cert, key) < 0)
        die("%s", sslsocket_config_error_string(&cfg));
    if (insecure)
        sslsocket_config_set_peer_verify_mode(&cfg, SSLSOCKET_VERIFY_NONE);
    else if ((cafile ? sslsocket_config_add_ca_file(&cfg, cafile)
                     : sslsocket_config_use_system_ca(&cfg)) < 0)
        die("%s", sslsocket_config_error_string(&cfg));

    /*
     * Connect.  Nothing blocks: connect_encrypted() only starts the host
     * lookup (or, for an IP literal, the TCP connect) and returns; the
     * handshake follows by itself once TCP is up.  With STARTTLS the socket
     * stays plaintext until we call sslsocket_start_client_encryption().
     * The verify name defaults to HOST; --servername overrides it (and the
     * SNI sent), which is how you test a server by address.  Even a failure
     * known at once (a malformed name) arrives as events from the first
     * poll, so the loop below polls before it looks at the state.
     */
    sslsocket_init(&sock, &cfg);
    if (servername != NULL && sslsocket_set_peer_verify_name(&sock, servername) < 0)
        die("%s", sslsocket_error_string(&sock));
    if ((script ? sslsocket_connect(&sock, argv[optind], (unsigned)port, SSLSOCKET_READ_WRITE)
                : sslsocket_connect_encrypted(&sock, argv[optind], (unsigned)port,
                                              SSLSOCKET_READ_WRITE)) < 0)
        die("%s", sslsocket_error_string(&sock));

    /*
     * One poll(2) loop drives everything: standard input plus the
     * descriptors the socket wants (during the lookup that is the
     * resolver's UDP socket, while connecting one or two attempts, then
     * the TCP socket), with a timeout no later than the socket's next
     * deadline.  Standard input is watched only once the connection is
     * encrypted (so nothing typed early can leak out in plaintext), and
     * only while our input buffer is empty: when the socket's write queue
     * is full we stop reading, which is backpressure for free.
     */
    do {
        struct pollfd p[4];
        int fds[3], n = 0, k, m, watch_stdin;
        unsigned wants[3], type;
        ptrdiff_t r;
        int value;

        watch_stdin = stdin_open && inlen == 0 && sslsocket_is_encrypted(&sock);
        if (watch_stdin) {
            p[n].fd = STDIN_FILENO;
            p[n++].events = POLLIN;
        }
        m = sslsocket_fds(&sock, fds, wants, 3);
        for (k = 0; k < m; k++, n++) {
            p[n].fd = fds[k];
            p[n].events = (short)(((wants[k] & SSLSOCKET_WANT_READ) ? POLLIN : 0)
                                  | ((wants[k] & SSLSOCKET_WANT_WRITE) ? POLLOUT : 0));
        }
        if (poll(p, (nfds_t)n, sslsocket_timeout_ms(&sock)) < 0)
            continue; /* EINTR */

        /*
         * Standard input: read a block, hand it to the socket.  write()
         * may take only part of it when the queue is full; the rest waits
         * in inbuf.  At end of input we disconnect: the library flushes what
         * is queued, sends close_notify, and closes.
         */
        if (watch_stdin && p[0].revents) {
            r = read(STDIN_FILENO, inbuf, sizeof inbuf);
            if (r > 0) {
                inlen = (size_t)r;
                inoff = 0;
            } else {
                stdin_open = 0;
                sslsocket_disconnect(&sock);
            }
        }
        if (inlen > 0 && (r = sslsocket_write(&sock, inbuf + inoff, inlen)) > 0) {
            inoff += (size_t)r;
            inlen -= (size_t)r;
        }

        /*
         * Advance the socket and look at what happened, in order.  An error
         * event carries the reason in sslsocket_error_string(); a peer that
         * closes with close_notify is a normal end (REMOTE_HOST_CLOSED), while
         * a TCP close without it (sslsocket_truncated()) is a possible
         * truncation attack and counts as a failure.
         */
        sslsocket_poll(&sock);
        while (sslsocket_next_event(&sock, &type, &value)) {
            if (type == SSLSOCKET_EV_ENCRYPTED) {
                was_encrypted = 1;
                if (!quiet)
                    print_summary();
            }
            if (type == SSLSOCKET_EV_ERROR
                && (value != SSLSOCKET_ERR_REMOTE_HOST_CLOSED || sslsocket_truncated(&sock))) {
                fprintf(stderr, "tls_client: %s\n", sslsocket_error_string(&sock));
                failed = 1;
            }
            /* the error names the first problem; the list has all of them */
            for (k = 0; type == SSLSOCKET_EV_ERROR && value == SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED
                        && k < sslsocket_ssl_error_count(&sock); k++)
                fprintf(stderr, "  problem    %s\n",
                        sslsocket_ssl_error_message(sslsocket_ssl_error_code(&sock, k)));
        }

        /*
         * STARTTLS: while the socket is still plaintext, read the server's
         * reply lines and walk the dialogue; at its end, switch to TLS over
         * the same TCP stream.
         */
        while (script != NULL && script->expect != NULL
               && sslsocket_mode(&sock) == SSLSOCKET_UNENCRYPTED
               && sslsocket_read_line(&sock, line, sizeof line) > 0) {
            int more = strlen(line) > 3 && line[3] == '-'; /* "250-PIPELINING" */
            if (!quiet)
                fprintf(stderr, "< %s", line);
            if (more || (line[0] == '*' && script->expect[0] != '*'))
                continue;
            if (strncmp(line, script->expect, strlen(script->expect)) != 0) {
                line[strcspn(line, "\r\n")] = 0;
                fprintf(stderr, "tls_client: STARTTLS refused by the server: %s\n", line);
                sslsocket_abort(&sock);
                return 1;
            }
            script++;
            if (script->send != NULL)
                sslsocket_write_string(&sock, script->send);
            else if (sslsocket_start_client_encryption(&sock) < 0)
                die("%s", sslsocket_error_string(&sock));
        }

        /*
         * Decrypted bytes to standard output.  This also runs after the
         * poll that closed the connection: bytes received just before a
         * close stay readable after it.
         */
        while (was_encrypted && (r = sslsocket_read(&sock, outbuf, sizeof outbuf)) > 0)
            fwrite(outbuf, 1, (size_t)r, stdout);
        fflush(stdout);
    } while (sslsocket_state(&sock) != SSLSOCKET_UNCONNECTED);
    return failed;
}
