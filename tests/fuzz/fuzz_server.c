/* fuzz_server.c - a hostile client: the input is what a handshaking server
 * receives over the in-memory pipe.
 *
 * Input: byte 0 FZ_S_* (client-certificate policy, EOF, session cache,
 * ALPN, close after one line, every suite, renegotiation), byte 1 FZ_S2_*,
 * byte 2 the chunking of the rest (fuzz_common.h), then the client's bytes.
 * The server has the EC chain and the RSA certificate (chosen by SNI), trusts
 * the root CA for client certificates, greets and echoes lines once
 * encrypted.  Seeds are whole client conversations (the library's client,
 * openssl s_client, gnutls-cli) recorded by recorder.c.
 */
#include "fuzz_common.h"

static sslsocket srv, peer;
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
    d.server = 1;
    d.f1 = data[0];
    d.f2 = data[1];
    sslsocket_init(&peer, NULL);
    sslsocket_init(&srv, NULL);
    FZ_ASSERT(sslsocket_pipe_connect(&pipe_, &peer, &srv) == 0);
    fz_server_start(&srv, d.f1, d.f2);
    fz_pump(&srv, &pipe_, 0, &d, data + 3, size - 3, data[2], (d.f1 & FZ_S_EOF) != 0);
    fz_inspect(&srv);
    fz_report(&srv, &d);
    /* nothing decrypted may be read before ENCRYPTED (STARTTLS: its
       plaintext line is read before TLS starts) */
    if (!d.encrypted && (!(d.f2 & FZ_S2_STARTTLS) || d.tls_started))
        FZ_ASSERT(d.lines == 0 && sslsocket_bytes_available(&srv) == 0);
    sslsocket_abort(&srv);
    sslsocket_abort(&peer);
    FZ_ASSERT(sslsocket_state(&srv) == SSLSOCKET_UNCONNECTED);
    return 0;
}
