/*
 * tls_server.c - a TLS line-echo server: every line a client sends comes
 * back to it.  Single-threaded, many clients, built on sslsocket.h alone.
 *
 *     tls_server --cert FILE --key FILE [options]
 *
 *     --cert FILE, --key FILE  the server's certificate chain and private key
 *     --cafile FILE            ask clients for a certificate issued by these CAs
 *     --verify                 require a valid client certificate (with --cafile)
 *     --address A              listen on this address (default: every IPv6/IPv4 one)
 *     --port N                 listen on this port (default 4433; 0 = any free port)
 *     --starttls               speak plaintext SMTP first, TLS after STARTTLS
 *     --max-clients N          serve up to N clients at once (default 16, max 64)
 *     --once                   exit when the first client has gone (for tests)
 *
 * Prints "listening on ADDR:PORT" on standard output once it listens (with
 * --port 0 this is how a script learns the port) and a line per client
 * event on standard error.  Try it with
 *
 *     openssl s_client -connect 127.0.0.1:4433
 *     openssl s_client -connect 127.0.0.1:4433 -starttls smtp    (--starttls)
 *
 * Build: cc -std=c99 -D_GNU_SOURCE -O2 -o tls_server tls_server.c -lbearssl
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * All memory is fixed up front: one configuration shared by every socket,
 * a listening socket, and an array of client sockets (about 45 KiB each).
 * A client slot is free when its socket is UNCONNECTED; the library never
 * allocates, so "how many clients" is simply the size of this array.
 */
#define MAX_CLIENTS 64
#define LINE_MAX_LEN 1024

enum { PLAIN, TLS }; /* before and after STARTTLS */

static struct client {
    sslsocket s;
    int phase;
} clients[MAX_CLIENTS];
static unsigned char store[256 * 1024];
static sslsocket_config cfg;
static sslsocket listener;

static void
fail(const char *what, const char *why)
{
    fprintf(stderr, "tls_server: %s: %s\n", what, why);
    exit(1);
}

/*
 * The plaintext SMTP prologue, just enough for `openssl s_client -starttls
 * smtp` and for real mail clients: EHLO advertises STARTTLS, STARTTLS gets
 * "220 go ahead", and anything else is refused until the session is
 * encrypted.  The switch to TLS happens in the same breath as the reply,
 * with no poll in between: the client sends its ClientHello as soon as it
 * reads "220", and a poll now could read it as plaintext.  The reply we
 * queued still leaves unencrypted, first; what the client sent after its
 * STARTTLS line and we already read is discarded by the library (it was
 * not encrypted, so a man in the middle could have put it there).
 */
static void
smtp_command(struct client *c, const char *line)
{
    if (strncasecmp(line, "EHLO", 4) == 0)
        sslsocket_write_string(&c->s, "250-tls_server\r\n250 STARTTLS\r\n");
    else if (strncasecmp(line, "HELO", 4) == 0)
        sslsocket_write_string(&c->s, "250 tls_server\r\n");
    else if (strncasecmp(line, "STARTTLS", 8) == 0) {
        sslsocket_write_string(&c->s, "220 go ahead\r\n");
        c->phase = TLS;
        if (sslsocket_start_server_encryption(&c->s) < 0) {
            fprintf(stderr, "client %d: %s\n", (int)(c - clients), sslsocket_error_string(&c->s));
            sslsocket_abort(&c->s);
        } else if (sslsocket_discarded_plaintext(&c->s) > 0) {
            fprintf(stderr, "client %d: %zu bytes sent after STARTTLS discarded\n",
                    (int)(c - clients), sslsocket_discarded_plaintext(&c->s));
        }
    } else if (strncasecmp(line, "QUIT", 4) == 0) {
        sslsocket_write_string(&c->s, "221 bye\r\n");
        sslsocket_disconnect(&c->s);
    } else
        sslsocket_write_string(&c->s, "530 must issue STARTTLS first\r\n");
}

/*
 * One client's turn: poll its socket, report what happened, then move
 * lines.  The echo only reads a line when the write queue has room for it,
 * so a client that sends faster than it reads is slowed down (TCP
 * backpressure) instead of losing data.
 */
static void
serve(struct client *c)
{
    char line[LINE_MAX_LEN];
    int id = (int)(c - clients), value;
    unsigned type;

    sslsocket_poll(&c->s);
    while (sslsocket_next_event(&c->s, &type, &value)) {
        const sslsocket_cert_info *peer = sslsocket_peer_certificate(&c->s);
        int i;
        if (type == SSLSOCKET_EV_ENCRYPTED) /* protocol and cipher are set from now on */
            fprintf(stderr, "client %d: %s %s, client certificate: %s\n", id,
                    sslsocket_protocol(&c->s) ? sslsocket_protocol(&c->s) : "?",
                    sslsocket_cipher(&c->s) ? sslsocket_cipher(&c->s) : "?",
                    peer ? peer->subject : "(none)");
        if (type == SSLSOCKET_EV_SSL_ERRORS)
            for (i = 0; i < sslsocket_ssl_error_count(&c->s); i++)
                fprintf(stderr, "client %d: certificate problem: %s\n", id,
                        sslsocket_ssl_error_message(sslsocket_ssl_error_code(&c->s, i)));
        if (type == SSLSOCKET_EV_ERROR)
            fprintf(stderr, "client %d: %s\n", id, sslsocket_error_string(&c->s));
        if (type == SSLSOCKET_EV_DISCONNECTED)
            fprintf(stderr, "client %d: disconnected\n", id);
    }
    if (sslsocket_state(&c->s) != SSLSOCKET_CONNECTED)
        return;
    while (c->phase == PLAIN && sslsocket_state(&c->s) == SSLSOCKET_CONNECTED
           && sslsocket_read_line(&c->s, line, sizeof line) > 0)
        smtp_command(c, line);

    while (c->phase == TLS && sslsocket_is_encrypted(&c->s)
           && sslsocket_bytes_to_write(&c->s) + LINE_MAX_LEN <= SSLSOCKET_WRITE_BUFFER_SIZE) {
        ptrdiff_t n = sslsocket_read_line(&c->s, line, sizeof line);
        if (n <= 0)
            break;
        sslsocket_write(&c->s, line, (size_t)n);
    }
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cert", 1, NULL, 'c' }, { "key", 1, NULL, 'k' }, { "cafile", 1, NULL, 'A' },
        { "verify", 0, NULL, 'v' }, { "address", 1, NULL, 'a' }, { "port", 1, NULL, 'p' },
        { "starttls", 0, NULL, 's' }, { "max-clients", 1, NULL, 'm' },
        { "once", 0, NULL, '1' }, { NULL, 0, NULL, 0 }
    };
    const char *cert = NULL, *key = NULL, *cafile = NULL, *address = NULL;
    unsigned long port = 4433;
    int verify = 0, starttls = 0, once = 0, max_clients = 16, o, i;
    char addr[64];

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'A': cafile = optarg; break;
        case 'v': verify = 1; break;
        case 'a': address = optarg; break;
        case 'p': port = strtoul(optarg, NULL, 10); break;
        case 's': starttls = 1; break;
        case 'm': max_clients = atoi(optarg); break;
        case '1': once = 1; break;
        default: return 2;
        }
    }
    if (cert == NULL || key == NULL || optind != argc || port > 65535 || max_clients < 1
        || max_clients > MAX_CLIENTS || (verify && cafile == NULL)) {
        fprintf(stderr, "usage: tls_server --cert F --key F [--cafile F [--verify]] "
                "[--address A] [--port N]\n       [--starttls] [--max-clients N (1..%d)] "
                "[--once]\n", MAX_CLIENTS);
        return 2;
    }

    /*
     * The configuration: our certificate and key (checked against each
     * other when loaded), and what to ask of clients.  Without --cafile we
     * do not ask for a client certificate at all (VERIFY_NONE); with it we
     * ask and record problems but let the client in (QUERY_PEER, Qt's
     * server default); --verify turns that into a requirement.
     */
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_set_certificate_file(&cfg, cert, key) < 0)
        fail(cert, sslsocket_config_error_string(&cfg));
    if (cafile != NULL && sslsocket_config_add_ca_file(&cfg, cafile) < 0)
        fail(cafile, sslsocket_config_error_string(&cfg));
    sslsocket_config_set_peer_verify_mode(&cfg, verify ? SSLSOCKET_VERIFY_PEER
                                                : cafile ? SSLSOCKET_QUERY_PEER
                                                         : SSLSOCKET_VERIFY_NONE);

    /*
     * Listen.  Port 0 asks the kernel for a free port; the socket knows
     * which one it got.  The line goes to stdout and is flushed at once:
     * a script waiting for it may be reading through a pipe.
     */
    sslsocket_init(&listener, &cfg);
    for (i = 0; i < MAX_CLIENTS; i++)
        sslsocket_init(&clients[i].s, &cfg);
    if (sslsocket_listen(&listener, address, (unsigned)port, 0) < 0)
        fail("listen", sslsocket_error_string(&listener));
    sslsocket_local_address(&listener, addr, sizeof addr);
    printf(strchr(addr, ':') ? "listening on [%s]:%u\n" : "listening on %s:%u\n", addr,
           sslsocket_local_port(&listener));
    fflush(stdout);

    /*
     * The loop.  sslsocket_wait() sleeps in poll(2) over every socket that
     * is in use until one of them can make progress (or a deadline, such
     * as a handshake timeout, is due); then each socket is polled.  The
     * listener is left out of the wait while every slot is taken, so the
     * waiting connections stay in the kernel's backlog instead of waking
     * us up again and again.
     */
    for (;;) {
        sslsocket *list[MAX_CLIENTS + 1];
        size_t n = 0;
        struct client *free_slot = NULL;

        for (i = 0; i < max_clients; i++) {
            if (sslsocket_state(&clients[i].s) != SSLSOCKET_UNCONNECTED)
                list[n++] = &clients[i].s;
            else if (free_slot == NULL)
                free_slot = &clients[i];
        }
        if (sslsocket_state(&listener) == SSLSOCKET_LISTENING && free_slot != NULL)
            list[n++] = &listener;
        if (n == 0)
            break; /* --once: the client has gone and the listener is closed */
        sslsocket_wait(list, n, -1);

        /*
         * New connections: accept into a free slot.  With --starttls the
         * client gets the SMTP greeting in plaintext; otherwise the TLS
         * handshake starts right away.
         */
        if (free_slot != NULL && (sslsocket_poll(&listener) & SSLSOCKET_EV_NEW_CONNECTION)
            && sslsocket_accept(&listener, &free_slot->s) == 1) {
            fprintf(stderr, "client %d: connected from %s port %u\n", (int)(free_slot - clients),
                    sslsocket_remote_address(&free_slot->s, addr, sizeof addr),
                    sslsocket_remote_port(&free_slot->s));
            free_slot->phase = starttls ? PLAIN : TLS;
            if (starttls)
                sslsocket_write_string(&free_slot->s, "220 ready\r\n");
            else if (sslsocket_start_server_encryption(&free_slot->s) < 0)
                fail("start_server_encryption", sslsocket_error_string(&free_slot->s));
            if (once)
                sslsocket_abort(&listener); /* no more clients */
        }
        for (i = 0; i < max_clients; i++)
            if (sslsocket_state(&clients[i].s) != SSLSOCKET_UNCONNECTED)
                serve(&clients[i]);
    }
    return 0;
}
