/* drive.h - bounded event loops over sslsocket for the tests.
 * Events are recorded as a compact text log ("S1 S2 H S3 M1 C E R ...") so
 * tests can assert the exact order the SPEC requires. */
#ifndef DRIVE_H
#define DRIVE_H

#include "../sslsocket.h"
#include <stdio.h>
#include <string.h>

typedef struct drive_log {
    char text[4096];
    size_t len;
    size_t rx_len;            /* bytes read so far into rx */
    unsigned char *rx;        /* where to store read bytes (may be NULL) */
    size_t rx_cap;
    unsigned all;             /* OR of event bits seen */
} drive_log;

TESTLIB_UNUSED static void
drive_note(drive_log *l, const char *fmt, int v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    if (n > 0 && l->len + (size_t)n + 2 < sizeof l->text) {
        memcpy(l->text + l->len, tmp, (size_t)n);
        l->len += (size_t)n;
        l->text[l->len++] = ' ';
        l->text[l->len] = 0;
    }
}

/* Poll once and log every event; read whatever is readable into l->rx. */
TESTLIB_UNUSED static unsigned
drive_poll(sslsocket *s, drive_log *l)
{
    unsigned ev = sslsocket_poll(s), type;
    int value;
    l->all |= ev;
    while (sslsocket_next_event(s, &type, &value)) {
        switch (type) {
        case SSLSOCKET_EV_STATE_CHANGED: drive_note(l, "S%d", value); break;
        case SSLSOCKET_EV_MODE_CHANGED: drive_note(l, "M%d", value); break;
        case SSLSOCKET_EV_HOST_FOUND: drive_note(l, "H", 0); break;
        case SSLSOCKET_EV_CONNECTED: drive_note(l, "C", 0); break;
        case SSLSOCKET_EV_ENCRYPTED: drive_note(l, "E", 0); break;
        case SSLSOCKET_EV_ERROR: drive_note(l, "X%d", value); break;
        case SSLSOCKET_EV_DISCONNECTED: drive_note(l, "D", 0); break;
        case SSLSOCKET_EV_SSL_ERRORS: drive_note(l, "V", 0); break;
        default: break; /* READY_READ / BYTES_WRITTEN are too many to log */
        }
    }
    if (l->rx) {
        while (l->rx_len < l->rx_cap) {
            ptrdiff_t n = sslsocket_read(s, l->rx + l->rx_len, l->rx_cap - l->rx_len);
            if (n <= 0)
                break;
            l->rx_len += (size_t)n;
        }
    }
    return ev;
}

/* Wait+poll until `done(s, l)` is true, the socket is UNCONNECTED, or the
 * time runs out.  Returns 1 if `done` became true. */
TESTLIB_UNUSED static int
drive_until(sslsocket *s, drive_log *l, int (*done)(sslsocket *, drive_log *), int timeout_ms)
{
    int64_t end = sslsocket__now_ms() + timeout_ms;
    for (;;) {
        sslsocket *list[1];
        drive_poll(s, l);
        if (done && done(s, l))
            return 1;
        if (sslsocket_state(s) == SSLSOCKET_UNCONNECTED)
            return done == NULL;
        if (sslsocket__now_ms() >= end)
            return 0;
        list[0] = s;
        sslsocket_wait(list, 1, 50);
    }
}

/* Write all of `out` while reading into l->rx (the caller sets rx and
   rx_cap), until `want` bytes came back, the socket is UNCONNECTED or the
   time runs out.  Returns the bytes written. */
TESTLIB_UNUSED static size_t
drive_stream(sslsocket *s, drive_log *l, const unsigned char *out, size_t len, size_t want,
             int timeout_ms)
{
    int64_t end = sslsocket__now_ms() + timeout_ms;
    size_t sent = 0;
    while (l->rx_len < want && sslsocket__now_ms() < end
           && sslsocket_state(s) != SSLSOCKET_UNCONNECTED) {
        sslsocket *list[1];
        ptrdiff_t n;
        if (sent < len && (n = sslsocket_write(s, out + sent, len - sent)) > 0)
            sent += (size_t)n;
        list[0] = s;
        sslsocket_wait(list, 1, 100);
        drive_poll(s, l);
    }
    return sent;
}

/* Servers in the tests: once `listener` reports a connection, accept it
   into `conn` (initialised with `cfg`) and start server TLS.  Returns 1
   once a connection was taken (pass the previous result as `accepted`). */
TESTLIB_UNUSED static int
drive_accept_tls(sslsocket *listener, sslsocket *conn, const sslsocket_config *cfg, int accepted)
{
    if (accepted || !(sslsocket_poll(listener) & SSLSOCKET_EV_NEW_CONNECTION))
        return accepted;
    sslsocket_init(conn, cfg);
    if (sslsocket_accept(listener, conn) != 1)
        return 0;
    sslsocket_start_server_encryption(conn);
    return 1;
}

/* Poll two sockets in turn (a in-memory pair, say) until `done()` or
 * `rounds` rounds; returns 1 if done (or, with done NULL, always). */
TESTLIB_UNUSED static int
drive_pair(sslsocket *a, drive_log *la, sslsocket *b, drive_log *lb, int (*done)(void),
           int rounds)
{
    int i;
    for (i = 0; i < rounds; i++) {
        drive_poll(a, la);
        drive_poll(b, lb);
        if (done && done())
            return 1;
    }
    return done == NULL;
}

TESTLIB_UNUSED static int drive_is_encrypted(sslsocket *s, drive_log *l) { (void)l; return sslsocket_is_encrypted(s); }
TESTLIB_UNUSED static int drive_is_connected(sslsocket *s, drive_log *l)
{
    (void)l;
    return sslsocket_state(s) == SSLSOCKET_CONNECTED;
}

#endif
