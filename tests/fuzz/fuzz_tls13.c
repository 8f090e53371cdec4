/* fuzz_tls13.c - the TLS 1.3 client core's record and handshake parsers.
 *
 * Input: byte 0 control, then a stream of TLS records as a server would
 * send them (5-byte header and body each; a record longer than the rest
 * is cut to it).
 *   control bit 0  the client is RFC 8448's (its ClientHello, session id
 *                  and X25519 key): the trace's records are then valid
 *                  input and the seeds reach the encrypted messages;
 *                  else a fresh ClientHello with fixed randomness
 *   control bit 1  the chain is checked under VERIFY_PEER (else only
 *                  collected, QUERY_PEER)
 *   control bit 2  the server core instead (sslsocket__t13s_record): the
 *                  records are a client's, first its ClientHello (the
 *                  ClientHello parser, HelloRetryRequest and the second
 *                  ClientHello, the fallback decision, our flight); then
 *                  bit 0 allows TLS 1.2 (a ClientHello without 1.3 is
 *                  handed over), bit 1 requires a client certificate
 *                  (else asks for one), bit 3 makes the RSA identity the
 *                  first (else the EC one; the other is second, for SNI)
 *   control bit 3  (client) a ticket is offered (RFC 8448's PSK, so that
 *                  a ServerHello may select it); tickets received are kept
 * Each record goes to sslsocket__t13_record.  Invariants: a failure is
 * final and names its alert; application data lies inside its record;
 * nothing is queued to send beyond the core's buffer.
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"
#include "../tls13_rfc8448.h"
#include "fuzz_keys.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_ASSERT(c)                                                                   \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sslsocket vsock;
static sslsocket_config vcfg;
static unsigned char vstore[8192], hbuf[20000], rec[20000];
static sslsocket__ticket offered, received;


static void
setup(sslsocket__t13 *t, int rfc8448, int verify_peer, int ticket)
{
    unsigned char rnd[128], ch[1024];
    sslsocket_config_init(&vcfg, vstore, sizeof vstore);
    sslsocket_init(&vsock, &vcfg);
    snprintf(vsock.verify_name, sizeof vsock.verify_name, "%s", "server");
    vsock.verify_mode = verify_peer ? SSLSOCKET_VERIFY_PEER : SSLSOCKET_QUERY_PEER;
    vsock.x509.vtable = &sslsocket__x509_vtable;
    vsock.x509.sock = &vsock;
    if (rfc8448) {
        size_t chl = unhex(rfc8448_client_hello, ch, sizeof ch);
        memset(t, 0, sizeof *t);
        br_sha256_init(&t->th256);
        br_sha384_init(&t->th384);
        memcpy(t->suites13, "\x13\x01\x13\x02\x13\x03", 6);
        t->suites13_len = 6;
        sslsocket__t13_hash(t, ch, chl);
        t->sid_len = ch[38];
        memcpy(t->session_id, ch + 39, t->sid_len);
        unhex(rfc8448_client_x25519_private, t->x25519, 32);
        memset(t->p256, 0x11, sizeof t->p256);
        t->group = 0x1d;
        t->state = SSLSOCKET__T13_WAIT_SH;
    } else {
        memset(rnd, 0x5A, sizeof rnd);
        FZ_ASSERT(sslsocket__t13_client_hello(t, rnd, "server", (const unsigned char *)"\x02h2",
                                              3, ch, sizeof ch) > 0);
    }
    t->xc = &vsock.x509.vtable;
    t->hbuf = hbuf;
    t->hcap = sizeof hbuf;
    t->nst = &received;
    if (ticket) {
        offered.suite = 0x1301;
        offered.len = 4;
        FZ_ASSERT(unhex(rfc8448_resumption_psk, offered.psk, sizeof offered.psk) == 32);
        t->offer = &offered;
    }
}

/* The server's configurations (EC identity first, RSA first), made once. */
static sslsocket_config scfg[2];
static unsigned char sstore[2][32768], sflight[16533];

static const sslsocket_config *
server_config(int rsa_first)
{
    static int ready[2];
    static const char ca[] = FUZZ_CA_PEM, ec[] = FUZZ_EC_CHAIN_PEM, eck[] = FUZZ_EC_KEY_PEM,
                      rsa[] = FUZZ_RSA_PEM, rsak[] = FUZZ_RSA_KEY_PEM;
    sslsocket_config *c = &scfg[rsa_first];
    if (!ready[rsa_first]) {
        sslsocket_config_init(c, sstore[rsa_first], sizeof sstore[rsa_first]);
        FZ_ASSERT(sslsocket_config_add_ca_mem(c, ca, sizeof ca - 1) == 1);
        FZ_ASSERT(sslsocket_config_add_certificate_mem(c, rsa_first ? rsa : ec,
                                                       rsa_first ? sizeof rsa - 1 : sizeof ec - 1,
                                                       rsa_first ? rsak : eck,
                                                       rsa_first ? sizeof rsak - 1
                                                                 : sizeof eck - 1) == 0);
        FZ_ASSERT(sslsocket_config_add_certificate_mem(c, rsa_first ? ec : rsa,
                                                       rsa_first ? sizeof ec - 1 : sizeof rsa - 1,
                                                       rsa_first ? eck : rsak,
                                                       rsa_first ? sizeof eck - 1
                                                                 : sizeof rsak - 1) == 0);
        FZ_ASSERT(sslsocket_config_set_alpn(c, "h2,http/1.1") == 0);
        sslsocket_config_set_time(c, FUZZ_TIME);
        ready[rsa_first] = 1;
    }
    return c;
}

/* The server core over the records of a client. */
static void
server_run(sslsocket__t13 *t, int ctl, const uint8_t *data, size_t size)
{
    static const unsigned char rnd[96] = { 0x42 };
    size_t at = 1;
    sslsocket_init(&vsock, server_config((ctl & 8) != 0));
    vsock.flags |= SSLSOCKET__F_SERVER;
    vsock.verify_mode = (ctl & 2) ? SSLSOCKET_VERIFY_PEER : SSLSOCKET_QUERY_PEER;
    vsock.x509.vtable = &sslsocket__x509_vtable;
    vsock.x509.sock = &vsock;
    vsock.x509.ta = sslsocket__arena_anchors(&server_config((ctl & 8) != 0)->arena,
                                             &vsock.x509.n_ta);
    sslsocket__t13s_start(t, server_config((ctl & 8) != 0), rnd, (ctl & 2) ? 2 : 1, ctl & 1,
                          &vsock.x509.vtable, sflight, sizeof sflight);
    while (at + 5 <= size) {
        size_t len = ((size_t)data[at + 3] << 8) | data[at + 4], app = 0;
        int r;
        if (len > size - at - 5)
            len = size - at - 5;
        if (5 + len > sizeof rec)
            break;
        memcpy(rec, data + at, 5 + len);
        rec[3] = (unsigned char)(len >> 8);
        rec[4] = (unsigned char)len;
        at += 5 + len;
        r = sslsocket__t13s_record(t, rec, 5 + len, &app);
        FZ_ASSERT(t->out_len <= (t->fl_used ? sizeof sflight : sizeof t->out));
        if (r < 0) {
            FZ_ASSERT(t->state == SSLSOCKET__T13_FAILED && t->why != NULL);
            FZ_ASSERT(sslsocket__t13s_record(t, rec, 5 + len, &app) == -1); /* final */
            break;
        }
        if (r > 0) { /* for BearSSL's engine: the ClientHello whole, where it says */
            FZ_ASSERT((ctl & 1) && t->state == SSLSOCKET__T13_FALLBACK);
            FZ_ASSERT(r == 1 || (t->hlen_in >= 4 && t->hlen_in <= t->hcap));
            break;
        }
        FZ_ASSERT(app <= len);
        FZ_ASSERT(app == 0 || t->state == SSLSOCKET__T13_CONNECTED);
        if (t->fl_used) { /* our flight: ServerHello (or HRR) first, in plaintext */
            FZ_ASSERT(t->out_len > 5 + 4 && sflight[0] == 22 && sflight[5] == 2);
            FZ_ASSERT(t->state == SSLSOCKET__T13_S_WAIT_CH2 || t->keys_in);
        }
        t->out_len = 0; /* (sent) */
        t->fl_used = 0;
        if (t->state == SSLSOCKET__T13_CONNECTED) {
            t->hbuf = t->post;
            t->hcap = sizeof t->post;
        }
    }
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "server: state %d suite %04x group %02x hrr %d: %s\n", t->state, t->suite,
                t->group, t->hrr, t->why ? t->why : "-");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sslsocket__t13 t;
    size_t at = 1;
    if (size < 1)
        return 0;
    if (data[0] & 4) {
        server_run(&t, data[0], data, size);
        return 0;
    }
    setup(&t, data[0] & 1, (data[0] & 2) != 0, (data[0] & 8) != 0);
    while (at + 5 <= size) {
        size_t len = ((size_t)data[at + 3] << 8) | data[at + 4], app = 0;
        int r, was_connected = t.state == SSLSOCKET__T13_CONNECTED;
        if (len > size - at - 5)
            len = size - at - 5;
        if (5 + len > sizeof rec)
            break;
        memcpy(rec, data + at, 5 + len);
        rec[3] = (unsigned char)(len >> 8);
        rec[4] = (unsigned char)len;
        at += 5 + len;
        r = sslsocket__t13_record(&t, rec, 5 + len, &app);
        FZ_ASSERT(t.out_len <= sizeof t.out);
        if (r < 0) {
            FZ_ASSERT(t.state == SSLSOCKET__T13_FAILED && t.why != NULL);
            FZ_ASSERT(sslsocket__t13_record(&t, rec, 5 + len, &app) == -1); /* final */
            break;
        }
        FZ_ASSERT(app <= len);
        FZ_ASSERT(app == 0 || t.state == SSLSOCKET__T13_CONNECTED);
        FZ_ASSERT(received.len <= sizeof received.data);
        FZ_ASSERT(!t.psk_accepted || t.offer != NULL);
        if (t.state == SSLSOCKET__T13_CONNECTED && !was_connected)
            FZ_ASSERT(t.out_len > 0); /* our Finished */
        if (t.state == SSLSOCKET__T13_CONNECTED) {
            t.hbuf = t.post;
            t.hcap = sizeof t.post;
        }
        t.out_len = 0; /* (sent) */
    }
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "state %d suite %04x problems %d: %s\n", t.state, t.suite,
                sslsocket_ssl_error_count(&vsock), t.why ? t.why : "-");
    return 0;
}
