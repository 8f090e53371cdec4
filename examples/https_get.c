/*
 * https_get.c - fetch one URL over HTTPS and write the body to standard
 * output, built on sslsocket.h alone.
 *
 *     https_get [--cafile FILE] [--insecure] https://HOST[:PORT][/PATH]
 *
 * HTTP/1.1 with "Connection: close"; bodies delimited by Content-Length,
 * by chunked transfer coding, or by the end of the connection.  Redirects
 * are not followed.  The exit status is 0 for a complete 2xx response and
 * 1 otherwise (the body of an error response is still written out).
 *
 * Build: cc -std=c99 -D_GNU_SOURCE -O2 -o https_get https_get.c -lbearssl
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static unsigned char store[256 * 1024]; /* trust anchors: Debian's take ~70 KiB */
static sslsocket_config cfg;
static sslsocket sock;

/*
 * The response parser is a small state machine fed from the socket's
 * buffer: lines for the status, the headers and the chunk sizes, raw bytes
 * for the body.  It stops whenever it needs more than is buffered and
 * resumes after the next poll, so it never waits on the network itself.
 */
enum { STATUS, HEADERS, BODY_LENGTH, BODY_TO_CLOSE, CHUNK_SIZE, CHUNK_DATA, CHUNK_END,
       TRAILERS, DONE };
static int phase = STATUS, status, chunked, piece;
static long long content_length = -1, remaining;

static void
die(const char *what, const char *why)
{
    fprintf(stderr, "https_get: %s%s\n", what, why);
    exit(1);
}

/* One line (or, for a very long line, one piece of it) is in `line`. */
static void
on_line(char *line, size_t len)
{
    int continued = piece; /* the previous piece did not end the line */
    piece = len > 0 && line[len - 1] != '\n';
    if (continued)
        return; /* the rest of a long header: nothing we look at */
    line[strcspn(line, "\r\n")] = 0;
    switch (phase) {
    case STATUS:
        if (sscanf(line, "HTTP/1.%*d %3d", &status) != 1)
            die("not an HTTP response: ", line);
        phase = HEADERS;
        break;
    case HEADERS:
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            content_length = strtoll(line + 15, NULL, 10);
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
            chunked = strstr(line + 18, "chunked") != NULL;
        else if (line[0] == 0 && status >= 100 && status < 200)
            phase = STATUS; /* "100 Continue" and friends: the real one follows */
        else if (line[0] == 0) {
            /* the body: RFC 9112 6.3 says chunked wins over Content-Length */
            remaining = content_length;
            phase = status == 204 || status == 304 ? DONE : chunked ? CHUNK_SIZE
                    : content_length > 0 ? BODY_LENGTH : content_length == 0 ? DONE
                    : BODY_TO_CLOSE;
        }
        break;
    case CHUNK_SIZE: {
        char *end;
        remaining = strtoll(line, &end, 16); /* "1a;name=value": extensions ignored */
        if (end == line || remaining < 0)
            die("bad chunk size: ", line);
        phase = remaining > 0 ? CHUNK_DATA : TRAILERS;
        break;
    }
    case CHUNK_END:
        phase = CHUNK_SIZE; /* the CRLF after a chunk's data */
        break;
    case TRAILERS:
        if (line[0] == 0)
            phase = DONE;
        break;
    }
}

/* Move everything buffered through the parser; body bytes go to stdout. */
static void
consume(void)
{
    char buf[2048];
    ptrdiff_t n;
    for (;;) {
        if (phase == DONE)
            return;
        if (phase == BODY_LENGTH || phase == BODY_TO_CLOSE || phase == CHUNK_DATA) {
            size_t want = sizeof buf;
            if (phase != BODY_TO_CLOSE && (long long)want > remaining)
                want = (size_t)remaining;
            if ((n = sslsocket_read(&sock, buf, want)) <= 0)
                return;
            fwrite(buf, 1, (size_t)n, stdout);
            remaining -= n;
            if (phase != BODY_TO_CLOSE && remaining == 0)
                phase = phase == CHUNK_DATA ? CHUNK_END : DONE;
        } else {
            if ((n = sslsocket_read_line(&sock, buf, sizeof buf)) <= 0)
                return;
            on_line(buf, (size_t)n);
        }
    }
}

int
main(int argc, char **argv)
{
    const char *url = NULL, *cafile = NULL, *rest, *slash, *colon;
    char host[256], request[2048];
    unsigned long port = 443;
    int insecure = 0, closed_cleanly = 0, i;
    size_t hostlen;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--cafile") == 0 && i + 1 < argc)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--insecure") == 0)
            insecure = 1;
        else if (url == NULL && argv[i][0] != '-')
            url = argv[i];
        else
            url = NULL, i = argc;
    }
    if (url == NULL || strncmp(url, "https://", 8) != 0) {
        fputs("usage: https_get [--cafile FILE] [--insecure] https://HOST[:PORT][/PATH]\n", stderr);
        return 2;
    }

    /*
     * Split the URL.  An IPv6 literal is written in brackets
     * ("https://[::1]:8443/"); the library takes it with or without them.
     * The Host header repeats the authority as the user wrote it, without
     * a default port.
     */
    rest = url + 8;
    slash = rest + strcspn(rest, "/?#");
    colon = rest[0] == '[' ? strchr(rest, ']') : rest;
    colon = colon ? memchr(colon, ':', (size_t)(slash - colon)) : NULL;
    hostlen = (size_t)((colon ? colon : slash) - rest);
    if (hostlen == 0 || hostlen >= sizeof host)
        die("bad host in URL: ", url);
    memcpy(host, rest, hostlen);
    host[hostlen] = 0;
    if (colon && ((port = strtoul(colon + 1, NULL, 10)) == 0 || port > 65535))
        die("bad port in URL: ", url);
    if (snprintf(request, sizeof request,
                 "GET %s%.*s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: https_get (sslsocket "
                 SSLSOCKET_VERSION_STRING ")\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                 *slash == '/' ? "" : "/", (int)strcspn(slash, "#"), slash,
                 (int)(slash - rest), rest) >= (int)sizeof request)
        die("URL too long: ", url);

    /*
     * Configure and connect.  The default configuration verifies the
     * server's chain against the trust anchors and its name against the
     * host in the URL.  The request is written at once: the socket keeps it
     * until the handshake has succeeded, and sends nothing if it fails.
     */
    sslsocket_config_init(&cfg, store, sizeof store);
    if (insecure)
        sslsocket_config_set_peer_verify_mode(&cfg, SSLSOCKET_VERIFY_NONE); /* DANGEROUS */
    else if ((cafile ? sslsocket_config_add_ca_file(&cfg, cafile)
                     : sslsocket_config_use_system_ca(&cfg)) < 0)
        die("", sslsocket_config_error_string(&cfg));
    sslsocket_init(&sock, &cfg);
    if (sslsocket_connect_encrypted(&sock, host, (unsigned)port, SSLSOCKET_READ_WRITE) < 0
        || sslsocket_write_string(&sock, request) != (ptrdiff_t)strlen(request))
        die("", sslsocket_error_string(&sock));

    /*
     * The loop: sleep until the socket can move, let it move, parse what
     * came in.  When the response is complete we close our side (it was
     * "Connection: close" anyway).  If the server closes first, a clean
     * close_notify is fine; a bare TCP close is only fine when the body
     * was already complete, since otherwise an attacker could have cut it.
     */
    do {
        sslsocket *list[1];
        unsigned type;
        int value;
        list[0] = &sock;
        sslsocket_wait(list, 1, -1);
        sslsocket_poll(&sock);
        while (sslsocket_next_event(&sock, &type, &value)) {
            if (type != SSLSOCKET_EV_ERROR)
                continue;
            if (value != SSLSOCKET_ERR_REMOTE_HOST_CLOSED)
                die("", sslsocket_error_string(&sock));
            closed_cleanly = !sslsocket_truncated(&sock);
        }
        consume(); /* also after the poll that closed: those bytes stay readable */
        if (phase == DONE && sslsocket_state(&sock) == SSLSOCKET_CONNECTED)
            sslsocket_disconnect(&sock);
    } while (sslsocket_state(&sock) != SSLSOCKET_UNCONNECTED);
    if (phase == BODY_TO_CLOSE && closed_cleanly)
        phase = DONE;
    fflush(stdout);
    if (phase != DONE)
        die("", phase == BODY_TO_CLOSE ? "response truncated: the connection ended without "
                                         "close_notify" : "connection closed before the "
                                         "response was complete");
    if (status < 200 || status > 299) {
        fprintf(stderr, "https_get: HTTP status %d\n", status);
        return 1;
    }
    return 0;
}
