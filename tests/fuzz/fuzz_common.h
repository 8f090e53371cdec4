/* fuzz_common.h - shared by the fuzz harnesses and recorder.c.
 *
 * - The implementation of sslsocket.h (the harnesses reach its internals).
 * - A deterministic getrandom(): BearSSL's engine is seeded from it
 *   (sslsocket__seed), so the randoms and ECDHE keys of a client or server
 *   depend only on the tag given to fz_rng_reset() before its handshake
 *   starts.  A crash then reproduces from its input file alone, and a
 *   conversation recorded by recorder.c stays valid when replayed to a
 *   harness: the fuzzed side makes exactly the flights the recorded peer
 *   answered.  (A build with the proposed SSLSOCKET_FUZZING hook in
 *   sslsocket.h uses sslsocket_fuzz_random() below instead; same stream.)
 * - The embedded keys (fuzz_keys.h), the client and server configurations,
 *   and the flag bytes that start every handshake input:
 *       byte 0  FZ_C_* (client harness) or FZ_S_* (server harness)
 *       byte 1  FZ_C2_* / FZ_S2_*
 *       byte 2  how the rest is cut into deliveries (fz_chunk)
 *       rest    the bytes the peer sends
 * - fz_pump(): deliver the peer's bytes in chunks over the in-memory pipe,
 *   polling the socket under test; everything it writes is discarded.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"
#include "fuzz_keys.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#if defined(__GNUC__) || defined(__clang__)
#define FZ_UNUSED __attribute__((unused))
#else
#define FZ_UNUSED
#endif

/* A failed invariant: report and abort, so libFuzzer keeps the input. */
#define FZ_ASSERT(c)                                                                   \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* sslsocket_read_line() returning 0 leaves the buffer as it was: 1 checks
   that it holds "" then too (Qt's readLine always appends the '\0'; the
   header says "NUL-terminated"); see the fuzzing report's proposed patch. */
#ifndef FZ_EMPTY_LINE_IS_NUL_TERMINATED
#define FZ_EMPTY_LINE_IS_NUL_TERMINATED 0
#endif

/* ------------------------------------------------------------ randomness */

static uint64_t fz_rng_state;

/* Restart the stream; the tag names who draws from it next. */
FZ_UNUSED static void
fz_rng_reset(const char *tag)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    while (*tag)
        h = (h ^ (unsigned char)*tag++) * 1099511628211u;
    fz_rng_state = h;
}

static void
fz_rng_fill(void *buf, size_t len)
{
    unsigned char *p = (unsigned char *)buf;
    while (len > 0) { /* splitmix64 */
        uint64_t z = (fz_rng_state += 0x9E3779B97F4A7C15u);
        size_t i;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        z ^= z >> 31;
        for (i = 0; i < 8 && len > 0; i++, len--)
            *p++ = (unsigned char)(z >> (8 * i));
    }
}

/* Replaces the C library's (and the sanitizer runtime's weak interceptor):
   the only callers in these programs are sslsocket__sys_random and the
   resolver's query ids. */
ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
    (void)flags;
    fz_rng_fill(buf, len);
    return (ssize_t)len;
}

/* The hook of the proposed SSLSOCKET_FUZZING build (see fuzz.mk). */
int sslsocket_fuzz_random(void *buf, size_t len);
int
sslsocket_fuzz_random(void *buf, size_t len)
{
    fz_rng_fill(buf, len);
    return 0;
}

/* ------------------------------------------------------------ flags */

/* fuzz_client, byte 0 */
#define FZ_C_VERIFY 0x03u /* 0 VERIFY_PEER, 1 QUERY_PEER, 2 decide+ignore, 3 decide+refuse */
#define FZ_C_NAME 0x0cu   /* >> 2: localhost, 127.0.0.1, rsa.example.net, www.fuzz.test */
#define FZ_C_EOF 0x10u    /* the server's end closes after its last byte */
#define FZ_C_ALPN 0x20u   /* offer h2,http/1.1 */
#define FZ_C_CERT 0x40u   /* a client certificate is configured */
#define FZ_C_RESUME 0x80u /* offer the session of the priming handshake */
/* fuzz_client, byte 1 */
#define FZ_C2_ALL 0x01u     /* TLS 1.0-1.2 and every suite BearSSL has */
#define FZ_C2_RENEG 0x02u   /* renegotiation allowed */
#define FZ_C2_CLOSE 0x04u   /* disconnect after the first line */
#define FZ_C2_EARLY 0x08u   /* write before the handshake ends */
#define FZ_C2_PIN 0x10u     /* pin the EC leaf's key */
#define FZ_C2_NOREAD 0x20u  /* never read: back-pressure */
#define FZ_C2_STARTTLS 0x40u /* plaintext "STARTTLS" first, TLS after a "220" line */
#define FZ_C2_UNVERIFIED 0x80u /* with FZ_C_RESUME: the session offered is marked as
                                  from an unverified handshake: never resumed */

/* fuzz_server, byte 0 */
#define FZ_S_VERIFY 0x03u /* client certs: 0 QUERY_PEER, 1 VERIFY_PEER, 2 NONE, 3 decide+ignore */
#define FZ_S_EOF 0x04u    /* the client's end closes after its last byte */
#define FZ_S_CACHE 0x08u  /* session cache holding the priming session */
#define FZ_S_ALPN 0x10u   /* server protocols http/1.1,h2 */
#define FZ_S_CLOSE 0x20u  /* disconnect after the first line */
#define FZ_S_ALL 0x40u    /* TLS 1.0-1.2 and every suite */
#define FZ_S_RENEG 0x80u  /* renegotiation allowed */
/* fuzz_server, byte 1 */
#define FZ_S2_RSA_ONLY 0x01u /* only the RSA identity (no SNI choice) */
#define FZ_S2_NOREAD 0x02u   /* never read: back-pressure */
#define FZ_S2_STARTTLS 0x04u /* plaintext first: one line in, "220 go ahead" out, then TLS */
#define FZ_S2_EARLY 0x08u    /* greet before the handshake ends */
#define FZ_S2_SWAP 0x10u     /* mid-handshake: another configuration set, the
                                session cache dropped: the old one stays in use */

#define FZ_ALL_SUITES                                                                        \
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"         \
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256," \
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM,TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8,"                 \
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,"         \
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,"               \
    "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDH_RSA_WITH_AES_128_CBC_SHA,"              \
    "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_CCM,TLS_RSA_WITH_AES_128_CBC_SHA256," \
    "TLS_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,TLS_RSA_WITH_3DES_EDE_CBC_SHA"

static const char *const fz_names[4] = { "localhost", "127.0.0.1", "rsa.example.net",
                                          "www.fuzz.test" };

/* ------------------------------------------------------------ configurations */

static unsigned char fz_cstore[2][16 * 1024], fz_sstore[2][32 * 1024];
static sslsocket_config fz_ccfg[2]; /* [1] has the client certificate */
static sslsocket_config fz_scfg[2]; /* [0] EC chain + RSA (SNI), [1] RSA only */
static unsigned char fz_cache_mem[2][4096], fz_cache_snap[4096];
static unsigned fz_cache_clock_snap;
static sslsocket_session fz_session; /* from the priming handshake */
static char fz_pin[80];               /* "sha256/..." of the EC leaf's key */
static int fz_ready;
static int fz_verbose; /* $FUZZ_VERBOSE: one line per input on stderr */

static void
fz_die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz set-up: %s: %s\n", what, why);
    abort();
}

/* Per-input settings of a client configuration. */
static void
fz_client_config(sslsocket_config *cfg, unsigned f1, unsigned f2)
{
    if (sslsocket_config_set_alpn(cfg, (f1 & FZ_C_ALPN) ? "h2,http/1.1" : NULL) < 0
        || sslsocket_config_set_versions(cfg, (f2 & FZ_C2_ALL) ? SSLSOCKET_TLS10 : SSLSOCKET_TLS12,
                                         SSLSOCKET_TLS12) < 0
        || sslsocket_config_set_ciphers(cfg, (f2 & FZ_C2_ALL) ? FZ_ALL_SUITES : "DEFAULT") < 0)
        fz_die("client config", sslsocket_config_error_string(cfg));
    sslsocket_config_set_renegotiation(cfg, (f2 & FZ_C2_RENEG) != 0);
    /* resumption only when the input asks (FZ_C_RESUME): the seeded RNG
       gives every server the same session ID, which a kept session would
       take for an accepted resumption */
    sslsocket_config_set_client_sessions(cfg, 0);
    cfg->n_pins = 0;
    if ((f2 & FZ_C2_PIN) && sslsocket_config_add_pin(cfg, fz_pin) < 0)
        fz_die("pin", sslsocket_config_error_string(cfg));
}

/* Per-input settings of a server configuration; the session cache is reset
   to its state after the priming handshake (or disabled). */
static sslsocket_config *
fz_server_config(unsigned f1, unsigned f2)
{
    sslsocket_config *cfg = &fz_scfg[(f2 & FZ_S2_RSA_ONLY) ? 1 : 0];
    if (sslsocket_config_set_alpn(cfg, (f1 & FZ_S_ALPN) ? "http/1.1,h2" : NULL) < 0
        || sslsocket_config_set_versions(cfg, (f1 & FZ_S_ALL) ? SSLSOCKET_TLS10 : SSLSOCKET_TLS12,
                                         SSLSOCKET_TLS12) < 0
        || sslsocket_config_set_ciphers(cfg, (f1 & FZ_S_ALL) ? FZ_ALL_SUITES : "DEFAULT") < 0)
        fz_die("server config", sslsocket_config_error_string(cfg));
    sslsocket_config_set_renegotiation(cfg, (f1 & FZ_S_RENEG) != 0);
    if (f1 & FZ_S_CACHE) {
        sslsocket_config_set_session_cache(cfg, fz_cache_mem[cfg == &fz_scfg[1]],
                                           sizeof fz_cache_mem[0]);
        if (fz_ready && cfg == &fz_scfg[0]) { /* after priming: restore its state */
            memcpy(fz_cache_mem[0], fz_cache_snap, sizeof fz_cache_snap);
            cfg->cache_clock = fz_cache_clock_snap;
        }
    } else {
        sslsocket_config_set_session_cache(cfg, NULL, 0);
    }
    return cfg;
}

static const int fz_server_modes[4] = { SSLSOCKET_QUERY_PEER, SSLSOCKET_VERIFY_PEER,
                                        SSLSOCKET_VERIFY_NONE, SSLSOCKET_VERIFY_PEER };

/* The client side of a handshake input: `c` is CONNECTED over the pipe;
   configure it from the flags and start TLS (the stream tag "client"). */
FZ_UNUSED static void
fz_client_start(sslsocket *c, unsigned f1, unsigned f2)
{
    sslsocket_config *cfg = &fz_ccfg[(f1 & FZ_C_CERT) ? 1 : 0];
    unsigned v = f1 & FZ_C_VERIFY;
    fz_client_config(cfg, f1, f2);
    sslsocket_set_config(c, cfg);
    sslsocket_set_peer_verify_mode(c, v == 1 ? SSLSOCKET_QUERY_PEER : SSLSOCKET_VERIFY_PEER);
    sslsocket_set_decide_ssl_errors(c, v >= 2);
    sslsocket_set_peer_verify_name(c, fz_names[(f1 & FZ_C_NAME) >> 2]);
    if ((f1 & FZ_C_RESUME) && fz_session.valid) {
        sslsocket_session sess = fz_session;
        if (f2 & FZ_C2_UNVERIFIED)
            sess.verified = 0;
        sslsocket_set_session(c, &sess);
    }
    if (f2 & FZ_C2_STARTTLS) { /* TLS starts in fz_after_poll */
        sslsocket_write_string(c, "STARTTLS\r\n");
        return;
    }
    fz_rng_reset("client");
    if (sslsocket_start_client_encryption(c) != 0)
        fz_die("start_client_encryption", sslsocket_error_string(c));
    if (f2 & FZ_C2_EARLY)
        sslsocket_write_string(c, "EARLY / HTTP/1.0\r\n\r\n");
}

FZ_UNUSED static void
fz_server_start(sslsocket *s, unsigned f1, unsigned f2)
{
    sslsocket_set_config(s, fz_server_config(f1, f2));
    sslsocket_set_peer_verify_mode(s, fz_server_modes[f1 & FZ_S_VERIFY]);
    sslsocket_set_decide_ssl_errors(s, (f1 & FZ_S_VERIFY) == 3);
    if (f2 & FZ_S2_STARTTLS)
        return; /* TLS starts in fz_after_poll */
    fz_rng_reset("server");
    if (sslsocket_start_server_encryption(s) != 0)
        fz_die("start_server_encryption", sslsocket_error_string(s));
    if (f2 & FZ_S2_EARLY)
        sslsocket_write_string(s, "early greeting\r\n");
}

/* ------------------------------------------------------------ behaviour */

/* Every string the inspection API returns ends inside its buffer. */
static void
fz_inspect(sslsocket *s)
{
    const sslsocket_cert_info *ci = sslsocket_peer_certificate(s);
    const char *p;
    int i, n;
    char addr[64];
    FZ_ASSERT(strlen(sslsocket_error_string(s)) < SSLSOCKET_ERROR_STRING_SIZE);
    if ((p = sslsocket_protocol(s)) != NULL)
        FZ_ASSERT(strlen(p) < 16);
    if ((p = sslsocket_cipher(s)) != NULL)
        FZ_ASSERT(strlen(p) < 80);
    if ((p = sslsocket_alpn(s)) != NULL)
        FZ_ASSERT(strlen(p) < 256);
    FZ_ASSERT(strlen(sslsocket_server_name(s)) < 256);
    if (ci != NULL) {
        FZ_ASSERT(memchr(ci->subject, 0, sizeof ci->subject) != NULL);
        FZ_ASSERT(memchr(ci->issuer, 0, sizeof ci->issuer) != NULL);
        FZ_ASSERT(memchr(ci->common_name, 0, sizeof ci->common_name) != NULL);
        FZ_ASSERT(memchr(ci->subject_alt_names, 0, sizeof ci->subject_alt_names) != NULL);
        FZ_ASSERT(memchr(ci->serial, 0, sizeof ci->serial) != NULL);
        FZ_ASSERT(memchr(ci->sig_alg, 0, sizeof ci->sig_alg) != NULL);
    }
    n = sslsocket_ssl_error_count(s);
    FZ_ASSERT(n >= 0 && n <= SSLSOCKET_MAX_SSL_ERRORS);
    for (i = 0; i < n; i++) {
        int code = sslsocket_ssl_error_code(s, i);
        FZ_ASSERT(code > 0 && code < SSLSOCKET_SSLERR_COUNT_);
        FZ_ASSERT(strlen(sslsocket_ssl_error_message(code)) > 0);
    }
    n = sslsocket_peer_chain_length(s);
    FZ_ASSERT(n >= 0);
    FZ_ASSERT(sslsocket_peer_chain_entry(s, 0) == NULL && sslsocket_peer_chain_entry(s, -1) == NULL
              && sslsocket_peer_chain_entry(s, n) == NULL);
    for (i = 1; i < n; i++) {
        const sslsocket_chain_entry *e = sslsocket_peer_chain_entry(s, i);
        if (e != NULL) {
            FZ_ASSERT(memchr(e->subject, 0, sizeof e->subject) != NULL);
            FZ_ASSERT(memchr(e->issuer, 0, sizeof e->issuer) != NULL);
        }
    }
    FZ_ASSERT(strlen(sslsocket_peer_verify_name(s)) < SSLSOCKET_MAX_HOSTNAME);
    (void)sslsocket_remote_address(s, addr, sizeof addr);
    (void)sslsocket_session_resumed(s);
    (void)sslsocket_bytes_to_write(s);
    (void)sslsocket_truncated(s);
    (void)sslsocket_discarded_plaintext(s);
    (void)sslsocket_pending_events(s);
}

typedef struct fz_side {
    int server;          /* the socket is the server side */
    unsigned f1, f2;
    int lines;           /* lines read so far */
    int encrypted;       /* ENCRYPTED seen */
    int tls_started;     /* STARTTLS: start_*_encryption called */
    int swapped;         /* FZ_S2_SWAP done */
    unsigned char rx[2048];
} fz_side;

/* After each poll: events, then the application: the client sends a
   request when encrypted, the server greets and echoes lines. */
static void
fz_after_poll(sslsocket *s, fz_side *d)
{
    unsigned type;
    int value;
    int noread = d->server ? (d->f2 & FZ_S2_NOREAD) != 0 : (d->f2 & FZ_C2_NOREAD) != 0;
    int closing = d->server ? (d->f1 & FZ_S_CLOSE) != 0 : (d->f2 & FZ_C2_CLOSE) != 0;
    if (d->server && (d->f2 & FZ_S2_SWAP) && !d->swapped && sslsocket_mode(s) != 0
        && sslsocket_state(s) == SSLSOCKET_CONNECTED) {
        /* the engine points into the configuration it started with */
        const sslsocket_config *in_use = sslsocket_get_config(s);
        sslsocket_config *mine = (sslsocket_config *)(uintptr_t)in_use;
        d->swapped = 1;
        sslsocket_set_config(s, mine == &fz_scfg[0] ? &fz_scfg[1] : &fz_scfg[0]);
        sslsocket_config_set_session_cache(mine, NULL, 0);
        FZ_ASSERT(sslsocket_get_config(s) == in_use);
    }
    while (sslsocket_next_event(s, &type, &value)) {
        switch (type) {
        case SSLSOCKET_EV_SSL_ERRORS:
            fz_inspect(s);
            /* decide+ignore: client variant 2, server variant 3 */
            if (d->server ? (d->f1 & FZ_S_VERIFY) == 3 : (d->f1 & FZ_C_VERIFY) == 2)
                sslsocket_ignore_ssl_errors(s, SSLSOCKET_SSLERR_ALL);
            break;
        case SSLSOCKET_EV_ENCRYPTED: {
            sslsocket_session sess;
            d->encrypted = 1;
            fz_inspect(s);
            if (!d->server)
                (void)sslsocket_get_session(s, &sess);
            /* (a write on a closed socket is a misuse: it would replace
               the error an ERROR event later in this poll carries) */
            if (sslsocket_state(s) == SSLSOCKET_CONNECTED)
                sslsocket_write_string(s, d->server ? "hello from the server\r\n"
                                                    : "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
            break;
        }
        case SSLSOCKET_EV_ERROR:
            fz_inspect(s);
            FZ_ASSERT(value == sslsocket_error(s));
            break;
        case SSLSOCKET_EV_STATE_CHANGED:
            FZ_ASSERT(value >= SSLSOCKET_UNCONNECTED && value <= SSLSOCKET_CLOSING);
            break;
        default:
            break;
        }
    }
    if (sslsocket_mode(s) == SSLSOCKET_UNENCRYPTED
        && (d->server ? (d->f2 & FZ_S2_STARTTLS) : (d->f2 & FZ_C2_STARTTLS))) {
        /* STARTTLS: one plaintext line, then TLS at once, as the header
           says (the server queues its "go ahead" first) */
        ptrdiff_t n;
        if (sslsocket_state(s) != SSLSOCKET_CONNECTED || d->tls_started)
            return;
        n = sslsocket_read_line(s, (char *)d->rx, sizeof d->rx);
        FZ_ASSERT(n >= 0 && (size_t)n < sizeof d->rx);
        FZ_ASSERT(d->rx[n] == 0 || (n == 0 && !FZ_EMPTY_LINE_IS_NUL_TERMINATED));
        if (n == 0 || (!d->server && strncmp((char *)d->rx, "220", 3) != 0))
            return;
        d->tls_started = 1;
        if (d->server) {
            sslsocket_write_string(s, "220 go ahead\r\n");
            fz_rng_reset("server");
            FZ_ASSERT(sslsocket_start_server_encryption(s) == 0);
        } else {
            fz_rng_reset("client");
            FZ_ASSERT(sslsocket_start_client_encryption(s) == 0);
        }
        return;
    }
    if (noread)
        return;
    for (;;) {
        ptrdiff_t n;
        size_t avail = sslsocket_bytes_available(s);
        /* lines while there are some, then whatever is left */
        n = sslsocket_read_line(s, (char *)d->rx, sizeof d->rx);
        FZ_ASSERT(n >= 0 && (size_t)n < sizeof d->rx);
        if (n == 0)
            n = sslsocket_read(s, d->rx, sizeof d->rx);
        FZ_ASSERT(n >= 0 && (size_t)n <= avail);
        if (n <= 0)
            break;
        d->lines++;
        if (d->server && sslsocket_state(s) == SSLSOCKET_CONNECTED)
            sslsocket_write(s, d->rx, (size_t)n); /* echo */
        if (closing && d->lines == 1)
            sslsocket_disconnect(s);
    }
}

/* The outcome of one handshake input, for $FUZZ_VERBOSE. */
FZ_UNUSED static void
fz_report(sslsocket *s, const fz_side *d)
{
    if (!fz_verbose)
        return;
    fprintf(stderr, "%s %02x %02x: %s%s, %d reads, %d problems, error: %s\n",
            d->server ? "server" : "client", d->f1, d->f2,
            d->encrypted ? "encrypted" : "not encrypted",
            sslsocket_session_resumed(s) ? " (resumed)" : "", d->lines,
            sslsocket_ssl_error_count(s), sslsocket_error_string(s));
}

/* ------------------------------------------------------------ delivery */

/* Chunk sizes: byte 2 of the input picks the largest (0 = everything that
   fits in the pipe at once) and seeds the sequence. */
typedef struct fz_chunker {
    uint32_t x;
    size_t max;
} fz_chunker;

static void
fz_chunk_init(fz_chunker *c, unsigned char b)
{
    static const size_t maxes[8] = { SSLSOCKET_PIPE_SIZE, 1, 3, 16, 100, 600, 2000, 6000 };
    c->x = b * 2654435761u + 1;
    c->max = b == 0 ? SSLSOCKET_PIPE_SIZE : maxes[b & 7];
}

static size_t
fz_chunk_next(fz_chunker *c)
{
    if (c->max <= 1)
        return 1;
    c->x = c->x * 1103515245u + 12345u;
    return 1 + (c->x >> 8) % c->max;
}

/* Poll `s` until nothing moves (bounded), discarding what it sends. */
static void
fz_settle(sslsocket *s, sslsocket_pipe *p, int in, fz_side *d, int max_polls)
{
    int i;
    for (i = 0; i < max_polls && sslsocket_state(s) != SSLSOCKET_UNCONNECTED; i++) {
        size_t before = p->len[in];
        unsigned ev = sslsocket_poll(s);
        int sent = p->len[1 - in] > 0;
        fz_after_poll(s, d);
        p->len[1 - in] = 0; /* the fuzzer's side reads nothing */
        if (!ev && !sent && p->len[in] == before)
            break;
    }
}

/* Feed data[0..size) to the socket on side 1-in of the pipe as its peer
   would, in chunks; then maybe close the peer's end.  Bounded. */
FZ_UNUSED static void
fz_pump(sslsocket *s, sslsocket_pipe *p, int in, fz_side *d, const uint8_t *data, size_t size,
        unsigned char chunkb, int eof)
{
    fz_chunker ch;
    size_t pos = 0, first = 0;
    int stuck = 0;
    fz_chunk_init(&ch, chunkb);
    fz_settle(s, p, in, d, 8);
    if (d->server ? (d->f2 & FZ_S2_STARTTLS) : (d->f2 & FZ_C2_STARTTLS)) {
        /* STARTTLS: the plaintext line arrives alone (a real peer waits
           for the answer before its TLS flight) */
        const uint8_t *nl = (const uint8_t *)memchr(data, '\n', size < 4000 ? size : 4000);
        first = nl ? (size_t)(nl - data) + 1 : 0;
    }
    while (pos < size && sslsocket_state(s) != SSLSOCKET_UNCONNECTED && stuck < 3) {
        size_t n = first ? first : fz_chunk_next(&ch), room = sizeof p->buf[in] - p->len[in];
        first = 0;
        if (n > size - pos)
            n = size - pos;
        if (n > room)
            n = room;
        memcpy(p->buf[in] + p->len[in], data + pos, n);
        p->len[in] += n;
        pos += n;
        stuck = n == 0 ? stuck + 1 : 0; /* the socket stopped reading */
        fz_settle(s, p, in, d, 8);
    }
    if (eof && sslsocket_state(s) != SSLSOCKET_UNCONNECTED) {
        p->closed[in] = 1; /* the peer's side is side `in` for this direction */
        fz_settle(s, p, in, d, 16);
    }
}

/* ------------------------------------------------------------ set-up */

static sslsocket fz_a, fz_b; /* the priming handshake's sockets */
static sslsocket_pipe fz_pipe_prime;

/* A full handshake between our client (flags 0) and server (cache on), to
   get a session the resumption flags can offer / find. */
static void
fz_prime(void)
{
    int i;
    fz_side dc, ds;
    memset(&dc, 0, sizeof dc);
    memset(&ds, 0, sizeof ds);
    ds.server = 1;
    ds.f1 = FZ_S_CACHE;
    sslsocket_init(&fz_a, NULL);
    sslsocket_init(&fz_b, NULL);
    if (sslsocket_pipe_connect(&fz_pipe_prime, &fz_a, &fz_b) != 0)
        fz_die("prime", "pipe_connect");
    fz_client_start(&fz_a, 0, 0);
    fz_server_start(&fz_b, FZ_S_CACHE, 0);
    for (i = 0; i < 100 && !(dc.encrypted && ds.encrypted); i++) {
        sslsocket_poll(&fz_a);
        fz_after_poll(&fz_a, &dc);
        sslsocket_poll(&fz_b);
        fz_after_poll(&fz_b, &ds);
    }
    if (!dc.encrypted || sslsocket_get_session(&fz_a, &fz_session) != 0)
        fz_die("priming handshake", sslsocket_error_string(&fz_a));
    memcpy(fz_cache_snap, fz_cache_mem[0], sizeof fz_cache_snap);
    fz_cache_clock_snap = fz_scfg[0].cache_clock;
    sslsocket_abort(&fz_a);
    sslsocket_abort(&fz_b);
}

/* Is the stream really deterministic?  Two ClientHellos must be equal. */
static void
fz_check_determinism(void)
{
    static unsigned char first[2048];
    size_t len[2];
    int k;
    for (k = 0; k < 2; k++) {
        sslsocket_init(&fz_a, NULL);
        sslsocket_init(&fz_b, NULL);
        sslsocket_pipe_connect(&fz_pipe_prime, &fz_a, &fz_b);
        fz_client_start(&fz_a, 0, 0);
        sslsocket_poll(&fz_a);
        len[k] = fz_pipe_prime.len[0];
        if (k == 0)
            memcpy(first, fz_pipe_prime.buf[0], len[0] < sizeof first ? len[0] : sizeof first);
        sslsocket_abort(&fz_a);
        sslsocket_abort(&fz_b);
    }
    if (len[0] == 0 || len[0] != len[1] || len[0] > sizeof first
        || memcmp(first, fz_pipe_prime.buf[0], len[0]) != 0)
        fz_die("determinism", "two ClientHellos differ: getrandom() is not replaced");
}

/* Load the keys once: two client and two server configurations. */
FZ_UNUSED static void
fz_setup(void)
{
    static const char ca[] = FUZZ_CA_PEM, ec[] = FUZZ_EC_CHAIN_PEM, eck[] = FUZZ_EC_KEY_PEM,
                      rsa[] = FUZZ_RSA_PEM, rsak[] = FUZZ_RSA_KEY_PEM, cl[] = FUZZ_CLIENT_PEM,
                      clk[] = FUZZ_CLIENT_KEY_PEM;
    sslsocket_cert_info ci;
    br_x509_certificate leaf[2];
    size_t nleaf;
    sslsocket__arena ar;
    static unsigned char tmp[8192];
    char err[256];
    int i;

    if (fz_ready)
        return;
    fz_verbose = getenv("FUZZ_VERBOSE") != NULL;
    for (i = 0; i < 2; i++) {
        sslsocket_config *c = &fz_ccfg[i], *s = &fz_scfg[i];
        sslsocket_config_init(c, fz_cstore[i], sizeof fz_cstore[i]);
        sslsocket_config_init(s, fz_sstore[i], sizeof fz_sstore[i]);
        if (sslsocket_config_add_ca_mem(c, ca, sizeof ca - 1) != 1)
            fz_die("client CA", sslsocket_config_error_string(c));
        if (sslsocket_config_add_ca_mem(s, ca, sizeof ca - 1) != 1)
            fz_die("server CA", sslsocket_config_error_string(s));
        sslsocket_config_set_time(c, FUZZ_TIME);
        sslsocket_config_set_time(s, FUZZ_TIME);
        /* no deadline may fire: inputs take no time */
        sslsocket_config_set_timeouts(c, 0, 0, -1, -1);
        sslsocket_config_set_timeouts(s, 0, 0, -1, -1);
    }
    if (sslsocket_config_set_certificate_mem(&fz_ccfg[1], cl, sizeof cl - 1, clk, sizeof clk - 1) != 0)
        fz_die("client certificate", sslsocket_config_error_string(&fz_ccfg[1]));
    if (sslsocket_config_set_certificate_mem(&fz_scfg[0], ec, sizeof ec - 1, eck, sizeof eck - 1) != 0
        || sslsocket_config_add_certificate_mem(&fz_scfg[0], rsa, sizeof rsa - 1, rsak,
                                                sizeof rsak - 1) != 0)
        fz_die("server identities", sslsocket_config_error_string(&fz_scfg[0]));
    if (sslsocket_config_set_certificate_mem(&fz_scfg[1], rsa, sizeof rsa - 1, rsak, sizeof rsak - 1) != 0)
        fz_die("server RSA identity", sslsocket_config_error_string(&fz_scfg[1]));
    /* the EC leaf's key as a pin */
    sslsocket__arena_init(&ar, tmp, sizeof tmp);
    if (sslsocket__load_chain_mem(&ar, ec, sizeof ec - 1, "EC chain", leaf, 2, &nleaf, err,
                                  sizeof err) < 1
        || sslsocket__cert_parse(leaf[0].data, leaf[0].data_len, &ci) != 0)
        fz_die("pin", err);
    {
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *o = fz_pin + sprintf(fz_pin, "sha256/");
        for (i = 0; i < 33; i += 3) {
            unsigned v = (unsigned)ci.spki_sha256[i] << 16
                         | (i + 1 < 32 ? (unsigned)ci.spki_sha256[i + 1] << 8 : 0)
                         | (i + 2 < 32 ? ci.spki_sha256[i + 2] : 0);
            *o++ = b64[(v >> 18) & 63];
            *o++ = b64[(v >> 12) & 63];
            *o++ = i + 1 < 32 ? b64[(v >> 6) & 63] : '=';
            *o++ = i + 2 < 32 ? b64[v & 63] : '=';
        }
        *o = 0;
    }
    fz_check_determinism();
    fz_prime();
    fz_ready = 1;
}

#endif
