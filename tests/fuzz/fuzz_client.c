/* fuzz_client.c - a hostile server: the input is what a handshaking client
 * receives over the in-memory pipe.
 *
 * Input: byte 0 FZ_C_* (verify variant, peer name, EOF, ALPN, client
 * certificate, resumption), byte 1 FZ_C2_*, byte 2 the chunking of the rest
 * (fuzz_common.h), then the server's bytes.  The client trusts the embedded
 * root CA, checks at FUZZ_TIME, and polls a bounded number of times; what it
 * writes is discarded.  Seeds are whole server conversations recorded by
 * recorder.c (gen_corpus.sh): with the deterministic randomness they stay
 * valid up to the application data and close_notify.
 */
#include "fuzz_common.h"

static sslsocket cli, peer;
static sslsocket_pipe pipe_;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_side d;
    if (size < 3)
        return 0;
    fz_setup();
    memset(&d, 0, sizeof d);
    d.f1 = data[0];
    d.f2 = data[1];
    sslsocket_init(&cli, NULL);
    sslsocket_init(&peer, NULL);
    FZ_ASSERT(sslsocket_pipe_connect(&pipe_, &cli, &peer) == 0);
    fz_client_start(&cli, d.f1, d.f2);
    fz_pump(&cli, &pipe_, 1, &d, data + 3, size - 3, data[2], (d.f1 & FZ_C_EOF) != 0);
    fz_inspect(&cli);
    fz_report(&cli, &d);
    /* a session marked unverified is never resumed under VERIFY_PEER */
    if ((d.f1 & FZ_C_RESUME) && (d.f2 & FZ_C2_UNVERIFIED))
        FZ_ASSERT(!sslsocket_session_resumed(&cli));
    /* nothing decrypted may be read before ENCRYPTED (STARTTLS: its
       plaintext line is read before TLS starts) */
    if (!d.encrypted && (!(d.f2 & FZ_C2_STARTTLS) || d.tls_started))
        FZ_ASSERT(d.lines == 0 && sslsocket_bytes_available(&cli) == 0);
    sslsocket_abort(&cli);
    sslsocket_abort(&peer);
    FZ_ASSERT(sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED);
    return 0;
}
