/* test_tls13.c - TLS 1.3's cryptography (sslsocket.h >>tls13) checked
 * byte for byte: HKDF against RFC 5869, the key schedule, traffic keys,
 * Finished and record protection against the RFC 8448 trace
 * (tests/tls13_rfc8448.h), RSA-PSS against openssl in both directions.
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "tls13_rfc8448.h"
#include "drive.h"


/* Is `got` (len bytes) the hex string `want`? */
static int
same_hex(const unsigned char *got, size_t len, const char *want)
{
    unsigned char w[4096];
    size_t n = unhex(want, w, sizeof w);
    if (n != len || memcmp(got, w, len) != 0) {
        size_t i;
        printf("         got  ");
        for (i = 0; i < len; i++)
            printf("%02x", got[i]);
        printf("\n         want %s\n", want);
        return 0;
    }
    return 1;
}

static void
sha256(const void *data, size_t len, unsigned char *out)
{
    br_sha256_context c;
    br_sha256_init(&c);
    br_sha256_update(&c, data, len);
    br_sha256_out(&c, out);
}

/* RFC 5869 A.1: HKDF-Extract with SHA-256. */
static void
test_hkdf_extract(void)
{
    unsigned char ikm[22], salt[13], prk[32];
    size_t i;
    memset(ikm, 0x0b, sizeof ikm);
    for (i = 0; i < sizeof salt; i++)
        salt[i] = (unsigned char)i;
    sslsocket__hkdf_extract(&br_sha256_vtable, salt, sizeof salt, ikm, sizeof ikm, prk);
    CHECK(same_hex(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
}

/* A traffic secret derived from `base` over the transcript hash `th`
   (into x), and its write key and IV, against the trace. */
static void
check_traffic(const unsigned char *base, const char *label, const unsigned char *th,
              unsigned char *x, const char *secret, const char *key, const char *iv)
{
    sslsocket__tls13_keys k;
    sslsocket__tls13_derive(&br_sha256_vtable, base, label, th, x);
    CHECK(same_hex(x, 32, secret));
    sslsocket__tls13_traffic_keys(&br_sha256_vtable, x, 16, 0, &k);
    CHECK(same_hex(k.key, 16, key));
    CHECK(same_hex(k.iv, 12, iv));
}


/* RFC 8448 section 3: the key schedule from the X25519 shared secret. */
static void
test_rfc8448_key_schedule(void)
{
    const br_hash_class *h = &br_sha256_vtable;
    unsigned char early[32], hs[32], ms[32], ecdhe[32], th[32], x[32], msgs[4096];
    unsigned char cpriv[32], spub[32];
    size_t n, m, xlen;
    sslsocket__tls13_keys k;

    /* X25519 with BearSSL: the client's private key and the server's share */
    REQUIRE(unhex(rfc8448_client_x25519_private, cpriv, 32) == 32);
    REQUIRE(unhex(rfc8448_server_x25519_public, spub, 32) == 32);
    xlen = br_ec_c25519_m31.mul(spub, 32, cpriv, 32, BR_EC_curve25519) ? 32 : 0;
    CHECK(xlen == 32 && same_hex(spub, 32, rfc8448_ecdhe_shared_secret));
    REQUIRE(unhex(rfc8448_ecdhe_shared_secret, ecdhe, 32) == 32);

    sslsocket__tls13_next_secret(h, NULL, NULL, 0, early);
    CHECK(same_hex(early, 32, rfc8448_early_secret));
    sslsocket__tls13_next_secret(h, early, ecdhe, 32, hs);
    CHECK(same_hex(hs, 32, rfc8448_handshake_secret));

    /* transcript: ClientHello .. ServerHello */
    n = unhex(rfc8448_client_hello, msgs, sizeof msgs);
    n += unhex(rfc8448_server_hello, msgs + n, sizeof msgs - n);
    sha256(msgs, n, th);
    check_traffic(hs, "c hs traffic", th, x, rfc8448_client_handshake_traffic_secret, rfc8448_client_handshake_key, rfc8448_client_handshake_iv);
    check_traffic(hs, "s hs traffic", th, x, rfc8448_server_handshake_traffic_secret, rfc8448_server_handshake_key, rfc8448_server_handshake_iv);

    /* the server's Finished: over ClientHello .. CertificateVerify */
    m = n;
    m += unhex(rfc8448_server_encrypted_extensions, msgs + m, sizeof msgs - m);
    m += unhex(rfc8448_server_certificate, msgs + m, sizeof msgs - m);
    m += unhex(rfc8448_server_certificate_verify, msgs + m, sizeof msgs - m);
    sha256(msgs, m, th);
    sslsocket__tls13_finished(h, x, th, x);
    {
        unsigned char fin[36];
        REQUIRE(unhex(rfc8448_server_finished, fin, sizeof fin) == 36);
        CHECK(fin[0] == 20 && memcmp(fin + 4, x, 32) == 0);
    }

    /* the master secret and the application traffic secrets, over
       ClientHello .. server Finished */
    m += unhex(rfc8448_server_finished, msgs + m, sizeof msgs - m);
    sha256(msgs, m, th);
    sslsocket__tls13_next_secret(h, hs, NULL, 0, ms);
    CHECK(same_hex(ms, 32, rfc8448_master_secret));
    check_traffic(ms, "c ap traffic", th, x, rfc8448_client_application_traffic_secret, rfc8448_client_application_key, rfc8448_client_application_iv);
    check_traffic(ms, "s ap traffic", th, x, rfc8448_server_application_traffic_secret, rfc8448_server_application_key, rfc8448_server_application_iv);
    sslsocket__tls13_derive(h, ms, "exp master", th, x);
    CHECK(same_hex(x, 32, rfc8448_exporter_master_secret));

    /* the client's Finished, then the resumption secret over it */
    {
        unsigned char chs[32], fin[36], rec[128], want[128];
        size_t rl;
        int type;
        size_t len;
        sha256(msgs, n, th);
        sslsocket__tls13_derive(h, hs, "c hs traffic", th, chs);
        sha256(msgs, m, th);
        sslsocket__tls13_finished(h, chs, th, x);
        REQUIRE(unhex(rfc8448_client_finished, fin, sizeof fin) == 36);
        CHECK(fin[0] == 20 && memcmp(fin + 4, x, 32) == 0);
        /* the client's Finished record, sealed with its handshake keys */
        sslsocket__tls13_traffic_keys(h, chs, 16, 0, &k);
        memcpy(rec + 5, fin, 36);
        rl = sslsocket__tls13_seal(&k, 22, rec, 36);
        CHECK(unhex(rfc8448_client_finished_record, want, sizeof want) == rl
              && memcmp(rec, want, rl) == 0);
        memcpy(msgs + m, fin, 36);
        sha256(msgs, m + 36, th);
        sslsocket__tls13_derive(h, ms, "res master", th, x);
        CHECK(same_hex(x, 32, rfc8448_resumption_master_secret));
        (void)type;
        (void)len;
    }
}


/* RFC 8448 section 3: the server's encrypted handshake record opens to
   EncryptedExtensions .. Finished, and sealing them again gives the same
   bytes; one flipped bit and it does not open. */
static void
test_rfc8448_records(void)
{
    const br_hash_class *h = &br_sha256_vtable;
    unsigned char hs[32], ecdhe[32], th[32], x[32], msgs[4096], rec[4096], plain[4096];
    size_t n, rlen, plen, len;
    sslsocket__tls13_keys k;
    int type;

    REQUIRE(unhex(rfc8448_ecdhe_shared_secret, ecdhe, 32) == 32);
    sslsocket__tls13_next_secret(h, NULL, NULL, 0, x);
    sslsocket__tls13_next_secret(h, x, ecdhe, 32, hs);
    n = unhex(rfc8448_client_hello, msgs, sizeof msgs);
    n += unhex(rfc8448_server_hello, msgs + n, sizeof msgs - n);
    sha256(msgs, n, th);
    sslsocket__tls13_derive(h, hs, "s hs traffic", th, x);

    plen = unhex(rfc8448_server_encrypted_extensions, plain, sizeof plain);
    plen += unhex(rfc8448_server_certificate, plain + plen, sizeof plain - plen);
    plen += unhex(rfc8448_server_certificate_verify, plain + plen, sizeof plain - plen);
    plen += unhex(rfc8448_server_finished, plain + plen, sizeof plain - plen);
    rlen = unhex(rfc8448_server_flight_record, rec, sizeof rec);
    REQUIRE(rlen > 5 + 17);

    sslsocket__tls13_traffic_keys(h, x, 16, 0, &k);
    CHECK(sslsocket__tls13_open(&k, rec, rlen, &type, &len) == 0);
    CHECK(type == 22 && len == plen && memcmp(rec + 5, plain, plen) == 0);
    CHECK(k.seq == 1);

    /* sealed again: byte for byte the record of the trace */
    sslsocket__tls13_traffic_keys(h, x, 16, 0, &k);
    memcpy(rec + 5, plain, plen);
    CHECK(sslsocket__tls13_seal(&k, 22, rec, plen) == rlen);
    {
        unsigned char want[4096];
        CHECK(unhex(rfc8448_server_flight_record, want, sizeof want) == rlen
              && memcmp(rec, want, rlen) == 0);
    }

    /* tampered: refused, also with the wrong sequence number */
    sslsocket__tls13_traffic_keys(h, x, 16, 0, &k);
    rec[40] ^= 1;
    CHECK(sslsocket__tls13_open(&k, rec, rlen, &type, &len) == -1);
    rec[40] ^= 1;
    k.seq = 1;
    CHECK(sslsocket__tls13_open(&k, rec, rlen, &type, &len) == -1);
    k.seq = 0;
    CHECK(sslsocket__tls13_open(&k, rec, rlen - 1, &type, &len) == -1); /* length */
}

/* RFC 8448: the first application data records, both ways, open to the
   trace's plaintext under the application keys. */
static void
test_rfc8448_application_data(void)
{
    const char *secret[2] = {rfc8448_client_application_traffic_secret,
                             rfc8448_server_application_traffic_secret};
    const char *record[2] = {rfc8448_client_application_data_record,
                             rfc8448_server_application_data_record};
    const char *plain[2] = {rfc8448_client_application_data, rfc8448_server_application_data};
    int side;
    for (side = 0; side < 2; side++) {
        unsigned char sec[32], rec[256], want[256];
        sslsocket__tls13_keys k;
        size_t rl, wl, len;
        int type;
        REQUIRE(unhex(secret[side], sec, 32) == 32);
        sslsocket__tls13_traffic_keys(&br_sha256_vtable, sec, 16, 0, &k);
        if (side == 1)
            k.seq = 1; /* the server sent its NewSessionTicket first */
        rl = unhex(record[side], rec, sizeof rec);
        wl = unhex(plain[side], want, sizeof want);
        CHECK(sslsocket__tls13_open(&k, rec, rl, &type, &len) == 0);
        CHECK(type == 23 && len == wl && memcmp(rec + 5, want, wl) == 0);
    }
}

/* ChaCha20-Poly1305 and AES-256-GCM: sealed records open, padding is
   skipped, a record of padding alone or with a bad tag does not. */
static void
test_aead_roundtrip(void)
{
    int chacha;
    for (chacha = 0; chacha < 2; chacha++) {
        sslsocket__tls13_keys w, r;
        unsigned char rec[256];
        size_t len, rl;
        int type;
        memset(&w, 0, sizeof w);
        memset(w.key, 0x42, 32);
        memset(w.iv, 0x24, 12);
        w.key_len = 32;
        w.chacha = chacha;
        r = w;
        memcpy(rec + 5, "hello", 5);
        rl = sslsocket__tls13_seal(&w, 23, rec, 5);
        CHECK(rl == 5 + 5 + 1 + 16);
        CHECK(sslsocket__tls13_open(&r, rec, rl, &type, &len) == 0);
        CHECK(type == 23 && len == 5 && memcmp(rec + 5, "hello", 5) == 0);
        /* the same content again: another nonce, another ciphertext */
        {
            unsigned char first[32];
            memcpy(rec + 5, "hello", 5);
            rl = sslsocket__tls13_seal(&w, 23, rec, 5);
            memcpy(first, rec, rl);
            CHECK(sslsocket__tls13_open(&r, rec, rl, &type, &len) == 0 && len == 5);
            memcpy(rec + 5, "hello", 5);
            rl = sslsocket__tls13_seal(&w, 23, rec, 5);
            CHECK(memcmp(first, rec, rl) != 0);
            CHECK(sslsocket__tls13_open(&r, rec, rl, &type, &len) == 0);
        }
        /* padding: the inner type is the last non-zero byte */
        memcpy(rec + 5, "ab\x17\0\0\0", 6);
        rl = sslsocket__tls13_seal(&w, 0, rec, 6); /* (type 0: the padding's last byte) */
        CHECK(sslsocket__tls13_open(&r, rec, rl, &type, &len) == 0 && type == 23 && len == 2);
        memset(rec + 5, 0, 4);
        rl = sslsocket__tls13_seal(&w, 0, rec, 4);
        CHECK(sslsocket__tls13_open(&r, rec, rl, &type, &len) == -1); /* no type at all */
        r.seq = w.seq;
        memcpy(rec + 5, "x", 1);
        rl = sslsocket__tls13_seal(&w, 23, rec, 1);
        rec[rl - 1] ^= 0x80;
        CHECK(sslsocket__tls13_open(&r, rec, rl, &type, &len) == -1);
    }
}

/* RSA-PSS with SHA-256 and a 32-byte salt: ours verifies openssl's
   signature, openssl verifies ours, and a changed message fails. */
static void
test_rsa_pss(void)
{
    static unsigned char mem[16384];
    sslsocket__arena a;
    sslsocket__key key;
    char err[256];
    unsigned char msg[] = "TLS 1.3, server CertificateVerify", mh[32], sig[512], salt[32];
    unsigned char osig[512];
    size_t slen, olen;
    br_rsa_public_key pub;
    FILE *f;
    sslsocket__arena_init(&a, mem, sizeof mem);
    REQUIRE(sslsocket__load_key_file(&a, peers_path("rsa.key"), &key, err, sizeof err) == 0);
    REQUIRE(key.type == BR_KEYTYPE_RSA);
    sha256(msg, sizeof msg - 1, mh);
    /* the public key from the certificate */
    {
        static unsigned char der[4096];
        br_x509_decoder_context dc;
        br_x509_certificate chain[2];
        size_t n = 0;
        const br_x509_pkey *pk;
        sslsocket__arena b;
        sslsocket__arena_init(&b, der, sizeof der);
        REQUIRE(sslsocket__load_chain_file(&b, peers_path("rsa.pem"), chain, 2, &n, err,
                                           sizeof err) == 1);
        br_x509_decoder_init(&dc, NULL, NULL);
        br_x509_decoder_push(&dc, chain[0].data, chain[0].data_len);
        pk = br_x509_decoder_get_pkey(&dc);
        REQUIRE(pk != NULL && pk->key_type == BR_KEYTYPE_RSA);
        pub = pk->key.rsa;
        /* (the decoder's buffers stay valid while dc lives: copy them) */
        {
            static unsigned char nb[512], eb[8];
            memcpy(nb, pub.n, pub.nlen);
            memcpy(eb, pub.e, pub.elen);
            pub.n = nb;
            pub.e = eb;
        }
    }
    memset(salt, 0x5a, sizeof salt);
    slen = sslsocket__rsa_pss_sign(&key.rsa, &br_sha256_vtable, mh, salt, sig, sizeof sig);
    CHECK(slen == 256);
    CHECK(sslsocket__rsa_pss_verify(&pub, &br_sha256_vtable, mh, sig, slen) == 1);
    /* openssl verifies ours */
    f = fopen(peers_path("ours.sig"), "wb");
    REQUIRE(f != NULL);
    fwrite(sig, 1, slen, f);
    fclose(f);
    f = fopen(peers_path("msg.bin"), "wb");
    REQUIRE(f != NULL);
    fwrite(msg, 1, sizeof msg - 1, f);
    fclose(f);
    CHECK(peers_sh("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
                   "-verify rsa.pub -signature ours.sig msg.bin > verify.out 2>&1 "
                   "&& grep -q 'Verified OK' verify.out") == 0);
    /* ours verifies openssl's */
    CHECK(peers_sh("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
                   "-sign rsa.key -out theirs.sig msg.bin") == 0);
    f = fopen(peers_path("theirs.sig"), "rb");
    REQUIRE(f != NULL);
    olen = fread(osig, 1, sizeof osig, f);
    fclose(f);
    CHECK(olen == 256);
    CHECK(sslsocket__rsa_pss_verify(&pub, &br_sha256_vtable, mh, osig, olen) == 1);
    /* wrong message, wrong salt length (openssl's default: the maximum) */
    mh[0] ^= 1;
    CHECK(sslsocket__rsa_pss_verify(&pub, &br_sha256_vtable, mh, osig, olen) == 0);
    mh[0] ^= 1;
    CHECK(peers_sh("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 "
                   "-sign rsa.key -out long.sig msg.bin") == 0);
    f = fopen(peers_path("long.sig"), "rb");
    REQUIRE(f != NULL);
    olen = fread(osig, 1, sizeof osig, f);
    fclose(f);
    CHECK(sslsocket__rsa_pss_verify(&pub, &br_sha256_vtable, mh, osig, olen) == 0);
    CHECK(sslsocket__rsa_pss_verify(&pub, &br_sha256_vtable, mh, osig, olen - 1) == 0);
}

/* RFC 8448: the server's CertificateVerify, an RSA-PSS signature over
   64 spaces, the context string, 0 and the transcript hash, verifies
   under the key of the trace's certificate. */
static void
test_rfc8448_certificate_verify(void)
{
    unsigned char msgs[4096], th[32], cert[2048], cv[512], content[200];
    size_t n, clen, cvlen;
    br_x509_decoder_context dc;
    const br_x509_pkey *pk;
    br_sha256_context sc;
    unsigned char mh[32];
    n = unhex(rfc8448_client_hello, msgs, sizeof msgs);
    n += unhex(rfc8448_server_hello, msgs + n, sizeof msgs - n);
    n += unhex(rfc8448_server_encrypted_extensions, msgs + n, sizeof msgs - n);
    n += unhex(rfc8448_server_certificate, msgs + n, sizeof msgs - n);
    sha256(msgs, n, th);
    /* Certificate: type, length(3), context length 0, list length(3),
       entry length(3), DER... */
    clen = unhex(rfc8448_server_certificate, cert, sizeof cert);
    REQUIRE(clen > 11 && cert[0] == 11 && cert[4] == 0);
    {
        size_t der_len = ((size_t)cert[8] << 16) | ((size_t)cert[9] << 8) | cert[10];
        REQUIRE(11 + der_len <= clen);
        br_x509_decoder_init(&dc, NULL, NULL);
        br_x509_decoder_push(&dc, cert + 11, der_len);
        pk = br_x509_decoder_get_pkey(&dc);
        REQUIRE(pk != NULL && pk->key_type == BR_KEYTYPE_RSA);
    }
    /* CertificateVerify: type 15, length(3), scheme(2) 0804, sig length(2), sig */
    cvlen = unhex(rfc8448_server_certificate_verify, cv, sizeof cv);
    REQUIRE(cvlen > 8 && cv[0] == 15 && cv[4] == 0x08 && cv[5] == 0x04);
    memset(content, 0x20, 64);
    memcpy(content + 64, "TLS 1.3, server CertificateVerify", 33);
    content[97] = 0;
    memcpy(content + 98, th, 32);
    br_sha256_init(&sc);
    br_sha256_update(&sc, content, 130);
    br_sha256_out(&sc, mh);
    CHECK(sslsocket__rsa_pss_verify(&pk->key.rsa, &br_sha256_vtable, mh, cv + 8,
                                    ((size_t)cv[6] << 8) | cv[7]) == 1);
    mh[5] ^= 1;
    CHECK(sslsocket__rsa_pss_verify(&pk->key.rsa, &br_sha256_vtable, mh, cv + 8,
                                    ((size_t)cv[6] << 8) | cv[7]) == 0);
}

/* ---- the TLS 1.3 client core against openssl s_server -tls1_3 ---- */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

static sslsocket vsock; /* the X.509 class and its workspace */
static unsigned char vstore[64 * 1024], hbuf[32 * 1024], recbuf[20000];

static unsigned
start_s_server(peers_proc *p, const char *cert, const char *key, const char *suites)
{
    char opts[160];
    snprintf(opts, sizeof opts, "-tls1_3 -ciphersuites %s -www -quiet", suites);
    return peers_s_server(p, "s_server13.log", "127.0.0.1", cert, key, opts);
}

/* Read one record (bounded wait): its length, 0 at EOF or timeout. */
static size_t
read_record(int fd, unsigned char *buf, size_t cap)
{
    size_t have = 0, need = 5;
    while (have < need) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&pf, 1, 5000) != 1)
            return 0;
        r = read(fd, buf + have, need - have);
        if (r <= 0)
            return 0;
        have += (size_t)r;
        if (have == 5) {
            need = 5 + (((size_t)buf[3] << 8) | buf[4]);
            if (need > cap)
                return 0;
        }
    }
    return have;
}

/* One TLS 1.3 handshake and an HTTP request over it; returns the reply's
   first line in `line`, or the failure. */
static int
handshake13(unsigned port, const char *host, char *line, size_t cap, sslsocket__t13 *t)
{
    static sslsocket_config vcfg;
    unsigned char rnd[128], ch[1024];
    struct sockaddr_in a;
    size_t chl, n, app;
    int fd, ok = 0, i;
    sslsocket_config_init(&vcfg, vstore, sizeof vstore);
    if (sslsocket_config_add_ca_file(&vcfg, peers_path("ca.pem")) != 1)
        return 0;
    sslsocket_init(&vsock, &vcfg);
    snprintf(vsock.verify_name, sizeof vsock.verify_name, "%s", host);
    vsock.verify_mode = SSLSOCKET_VERIFY_PEER;
    {
        size_t n_ta;
        const br_x509_trust_anchor *ta = sslsocket__arena_anchors(&vcfg.arena, &n_ta);
        vsock.x509.ta = ta;
        vsock.x509.n_ta = n_ta;
        vsock.x509.vtable = &sslsocket__x509_vtable;
        vsock.x509.sock = &vsock;
    }
    for (i = 0; i < 128; i++)
        rnd[i] = (unsigned char)rand();
    chl = sslsocket__t13_client_hello(t, rnd, host, NULL, 0, ch + 5, sizeof ch - 5);
    if (chl == 0)
        return 0;
    t->xc = &vsock.x509.vtable;
    t->hbuf = hbuf;
    t->hcap = sizeof hbuf;
    ch[0] = 22;
    ch[1] = 3;
    ch[2] = 1;
    ch[3] = (unsigned char)(chl >> 8);
    ch[4] = (unsigned char)chl;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || write(fd, ch, chl + 5) != (ssize_t)(chl + 5)) {
        close(fd);
        return 0;
    }
    while (t->state != SSLSOCKET__T13_CONNECTED && t->state != SSLSOCKET__T13_FAILED) {
        n = read_record(fd, recbuf, sizeof recbuf);
        if (n == 0)
            break;
        if (sslsocket__t13_record(t, recbuf, n, &app) < 0)
            break;
        if (t->out_len > 0) { /* a second ClientHello, or our Finished */
            if (write(fd, t->out, t->out_len) != (ssize_t)t->out_len)
                break;
            t->out_len = 0;
        }
    }
    if (t->state == SSLSOCKET__T13_CONNECTED) {
        static const char req[] = "GET / HTTP/1.0\r\n\r\n";
        memcpy(recbuf + 5, req, sizeof req - 1);
        n = sslsocket__tls13_seal(&t->wk, 23, recbuf, sizeof req - 1);
        if (write(fd, recbuf, n) == (ssize_t)n) {
            while ((n = read_record(fd, recbuf, sizeof recbuf)) > 0) {
                if (sslsocket__t13_record(t, recbuf, n, &app) < 0)
                    break;
                if (app > 0) {
                    size_t k = app < cap - 1 ? app : cap - 1;
                    memcpy(line, recbuf + 5, k);
                    line[k] = 0;
                    if (strchr(line, '\r'))
                        *strchr(line, '\r') = 0;
                    ok = 1;
                    break;
                }
            }
        }
    }
    close(fd);
    return ok;
}

/* Every suite with an ECDSA and an RSA (PSS) server certificate: the
   handshake completes, the chain is verified by the library, and the
   HTTP reply comes back through the application keys. */
static void
test_openssl_server(void)
{
    static const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"};
    static const char *certs[][2] = {{"ec.pem", "ec.key"}, {"rsa.pem", "rsa.key"}};
    size_t i, j;
    for (i = 0; i < 3; i++) {
        for (j = 0; j < 2; j++) {
            peers_proc p;
            sslsocket__t13 t;
            char line[128] = "";
            unsigned port = start_s_server(&p, peers_path(certs[j][0]), peers_path(certs[j][1]),
                                           suites[i]);
            int ok;
            REQUIRE(port != 0);
            ok = handshake13(port, "localhost", line, sizeof line, &t);
            CHECKF(ok && strncmp(line, "HTTP/1.0 200 ok", 15) == 0, "%s %s: %s (%s)", suites[i],
                   certs[j][0], line, t.why ? t.why : "-");
            CHECK(t.suite == 0x1301 + (int)i);
            CHECK(sslsocket_ssl_error_count(&vsock) == 0);
            peers_kill(&p);
        }
    }
}

/* The chain is the library's to judge: another name fails the handshake
   before any key is used. */
static void
test_openssl_server_wrong_name(void)
{
    peers_proc p;
    sslsocket__t13 t;
    char line[128] = "";
    unsigned port = start_s_server(&p, peers_path("ec.pem"), peers_path("ec.key"),
                                   "TLS_AES_128_GCM_SHA256");
    REQUIRE(port != 0);
    CHECK(!handshake13(port, "other.example", line, sizeof line, &t));
    CHECK(t.state == SSLSOCKET__T13_FAILED && t.alert == 42);
    CHECK(sslsocket_ssl_error_count(&vsock) > 0
          && sslsocket_ssl_error_code(&vsock, 0) == SSLSOCKET_SSLERR_HOST_MISMATCH);
    peers_kill(&p);
}

/* ---- the client core replayed against the RFC 8448 trace ---- */

/* A core that sent RFC 8448's ClientHello (its transcript, session id
   and X25519 key); the chain is only collected (the trace's certificate
   is a 1024-bit RSA one, signed by itself). */
static void
replay_setup(sslsocket__t13 *t)
{
    static sslsocket_config rcfg;
    static unsigned char rstore[8192];
    unsigned char ch[512];
    size_t chl = unhex(rfc8448_client_hello, ch, sizeof ch);
    memset(t, 0, sizeof *t);
    br_sha256_init(&t->th256);
    br_sha384_init(&t->th384);
    memcpy(t->suites13, "\x13\x01\x13\x02\x13\x03", 6); /* (the trace offers all three) */
    t->suites13_len = 6;
    sslsocket__t13_hash(t, ch, chl);
    t->sid_len = ch[38];
    memcpy(t->session_id, ch + 39, t->sid_len);
    unhex(rfc8448_client_x25519_private, t->x25519, 32);
    t->group = 0x1d;
    t->state = SSLSOCKET__T13_WAIT_SH;
    sslsocket_config_init(&rcfg, rstore, sizeof rstore);
    sslsocket_init(&vsock, &rcfg);
    vsock.verify_mode = SSLSOCKET_QUERY_PEER;
    vsock.x509.ta = NULL;
    vsock.x509.n_ta = 0;
    vsock.x509.vtable = &sslsocket__x509_vtable;
    vsock.x509.sock = &vsock;
    t->xc = &vsock.x509.vtable;
    t->hbuf = hbuf;
    t->hcap = sizeof hbuf;
}

static int
feed(sslsocket__t13 *t, const char *hex, size_t *app)
{
    size_t n = unhex(hex, recbuf, sizeof recbuf);
    return sslsocket__t13_record(t, recbuf, n, app);
}

/* The server's flight, opened, changed by `edit`, sealed again. */
static size_t
edited_flight(void (*edit)(unsigned char *plain, size_t len))
{
    unsigned char sec[32];
    sslsocket__tls13_keys k;
    size_t n = unhex(rfc8448_server_flight_record, recbuf, sizeof recbuf), len;
    int type;
    unhex(rfc8448_server_handshake_traffic_secret, sec, 32);
    sslsocket__tls13_traffic_keys(&br_sha256_vtable, sec, 16, 0, &k);
    if (sslsocket__tls13_open(&k, recbuf, n, &type, &len) < 0)
        return 0;
    edit(recbuf + 5, len);
    k.seq = 0;
    return sslsocket__tls13_seal(&k, type, recbuf, len);
}

static void edit_finished(unsigned char *p, size_t len) { p[len - 1] ^= 1; }
static void edit_signature(unsigned char *p, size_t len)
{
    /* EncryptedExtensions, Certificate, then CertificateVerify's signature */
    size_t at = 0;
    int i;
    for (i = 0; i < 2; i++)
        at += 4 + (((size_t)p[at + 1] << 16) | ((size_t)p[at + 2] << 8) | p[at + 3]);
    if (at + 20 < len)
        p[at + 20] ^= 1;
}

/* The PSK binder of RFC 8448's resumed ClientHello, from the ticket's
   PSK (section 3) and the hello's prefix: the trace's, byte for byte. */
static void
test_rfc8448_binder(void)
{
    static sslsocket__t13 t;
    static sslsocket__ticket tk;
    unsigned char ch[512], want[32], got[SSLSOCKET__TLS13_MAX_HASH];
    size_t n = unhex(rfc8448_resumed_client_hello_prefix, ch, sizeof ch);
    memset(&t, 0, sizeof t);
    br_sha256_init(&t.th256);
    br_sha384_init(&t.th384);
    tk.suite = 0x1301;
    CHECK(unhex(rfc8448_resumption_psk, tk.psk, sizeof tk.psk) == 32);
    t.offer = &tk;
    CHECK(n == 477 && unhex(rfc8448_resumed_binder, want, sizeof want) == 32);
    sslsocket__t13_binder(&t, ch, n, got);
    CHECK(memcmp(got, want, 32) == 0);
    /* another PSK, another binder */
    tk.psk[0] ^= 1;
    sslsocket__t13_binder(&t, ch, n, got);
    CHECK(memcmp(got, want, 32) != 0);
}

static void
test_rfc8448_client_replay(void)
{
    sslsocket__t13 t;
    unsigned char want[256];
    size_t app, n, wl;
    replay_setup(&t);
    CHECK(feed(&t, rfc8448_server_hello_record, &app) == 0 && t.state == SSLSOCKET__T13_WAIT_EE);
    CHECK(t.suite == 0x1301);
    CHECK(feed(&t, rfc8448_server_flight_record, &app) == 0);
    CHECKF(t.state == SSLSOCKET__T13_CONNECTED, "state %d: %s", t.state, t.why ? t.why : "-");
    /* the chain went through the library's checks (a self-signed 1024-bit RSA
       certificate: problems, collected) */
    CHECK(sslsocket_peer_certificate(&vsock) != NULL && sslsocket_ssl_error_count(&vsock) > 0);
    /* our Finished is the trace's, after a compatibility ChangeCipherSpec */
    wl = unhex(rfc8448_client_finished_record, want, sizeof want);
    CHECK(t.out_len == 6 + wl && memcmp(t.out, "\x14\x03\x03\x00\x01\x01", 6) == 0
          && memcmp(t.out + 6, want, wl) == 0);
    /* the resumption secret; the ticket, with its PSK, as the trace has them */
    wl = unhex(rfc8448_resumption_master_secret, want, sizeof want);
    CHECK(wl == 32 && memcmp(t.res, want, 32) == 0);
    {
        static sslsocket__ticket tk;
        unsigned char nst[256];
        size_t nl = unhex(rfc8448_new_session_ticket, nst, sizeof nst);
        t.nst = &tk;
        CHECK(feed(&t, rfc8448_new_session_ticket_record, &app) == 0 && app == 0);
        CHECK(t.nst_new == 1 && tk.suite == 0x1301 && tk.lifetime == 0x1e);
        wl = unhex(rfc8448_resumption_psk, want, sizeof want);
        CHECK(wl == 32 && memcmp(tk.psk, want, 32) == 0);
        /* its ticket field: after lifetime, age_add, a 2-byte nonce */
        CHECKF(tk.len == ((size_t)nst[15] << 8 | nst[16]) && nl > 17 + tk.len
                   && memcmp(tk.data, nst + 17, tk.len) == 0
                   && tk.age_add == ((uint32_t)nst[8] << 24 | (uint32_t)nst[9] << 16
                                     | (uint32_t)nst[10] << 8 | nst[11]),
               "ticket of %zu bytes", tk.len);
    }
    CHECK(feed(&t, rfc8448_server_application_data_record, &app) == 0);
    wl = unhex(rfc8448_server_application_data, want, sizeof want);
    CHECK(app == wl && memcmp(recbuf + 5, want, wl) == 0);
    /* and our application data is the trace's */
    n = unhex(rfc8448_client_application_data, recbuf + 5, sizeof recbuf - 5);
    n = sslsocket__tls13_seal(&t.wk, 23, recbuf, n);
    wl = unhex(rfc8448_client_application_data_record, want, sizeof want);
    CHECK(n == wl && memcmp(recbuf, want, wl) == 0);
}

/* KeyUpdate on the replayed connection: the server's (asking for ours)
   gives new read keys, ours goes out under the old write keys, and both
   sides' next records use the next generation (7.2). */
static void
test_rfc8448_key_update(void)
{
    sslsocket__t13 t;
    sslsocket__tls13_keys srv_w, cli_r;
    unsigned char ssec[32], csec[32], next[32], rec[128];
    size_t app, n, len;
    int type;
    replay_setup(&t);
    REQUIRE(feed(&t, rfc8448_server_hello_record, &app) == 0);
    REQUIRE(feed(&t, rfc8448_server_flight_record, &app) == 0);
    REQUIRE(t.state == SSLSOCKET__T13_CONNECTED);
    t.out_len = 0; /* (our Finished: sent) */
    unhex(rfc8448_server_application_traffic_secret, ssec, 32);
    unhex(rfc8448_client_application_traffic_secret, csec, 32);
    sslsocket__tls13_traffic_keys(&br_sha256_vtable, ssec, 16, 0, &srv_w);
    sslsocket__tls13_traffic_keys(&br_sha256_vtable, csec, 16, 0, &cli_r);
    /* the server's KeyUpdate(update_requested) */
    memcpy(rec + 5, "\x18\x00\x00\x01\x01", 5);
    n = sslsocket__tls13_seal(&srv_w, 22, rec, 5);
    CHECKF(sslsocket__t13_record(&t, rec, n, &app) == 0, "%s", t.why ? t.why : "-");
    /* ours: KeyUpdate(update_not_requested) under the old client keys */
    REQUIRE(t.out_len > 0);
    memcpy(rec, t.out, t.out_len);
    CHECK(sslsocket__tls13_open(&cli_r, rec, t.out_len, &type, &len) == 0 && type == 22
          && len == 5 && memcmp(rec + 5, "\x18\x00\x00\x01\x00", 5) == 0);
    /* the next generation both ways */
    sslsocket__hkdf_expand_label(&br_sha256_vtable, ssec, "traffic upd", NULL, 0, next, 32);
    sslsocket__tls13_traffic_keys(&br_sha256_vtable, next, 16, 0, &srv_w);
    memcpy(rec + 5, "hello", 5);
    n = sslsocket__tls13_seal(&srv_w, 23, rec, 5);
    CHECK(sslsocket__t13_record(&t, rec, n, &app) == 0 && app == 5
          && memcmp(rec + 5, "hello", 5) == 0);
    sslsocket__hkdf_expand_label(&br_sha256_vtable, csec, "traffic upd", NULL, 0, next, 32);
    sslsocket__tls13_traffic_keys(&br_sha256_vtable, next, 16, 0, &cli_r);
    memcpy(rec + 5, "world", 5);
    n = sslsocket__tls13_seal(&t.wk, 23, rec, 5);
    CHECK(sslsocket__tls13_open(&cli_r, rec, n, &type, &len) == 0 && len == 5);
    /* a KeyUpdate with another value: illegal_parameter */
    memcpy(rec + 5, "\x18\x00\x00\x01\x02", 5);
    n = sslsocket__tls13_seal(&srv_w, 22, rec, 5);
    CHECK(sslsocket__t13_record(&t, rec, n, &app) == -1 && t.alert == 47);
}

/* Tampering: each refused with the alert RFC 8446 names. */
static void
test_rfc8448_client_tampered(void)
{
    sslsocket__t13 t;
    size_t app, n;
    char sh[512];
    /* a flipped ciphertext bit: bad_record_mac */
    replay_setup(&t);
    CHECK(feed(&t, rfc8448_server_hello_record, &app) == 0);
    n = unhex(rfc8448_server_flight_record, recbuf, sizeof recbuf);
    recbuf[100] ^= 4;
    CHECK(sslsocket__t13_record(&t, recbuf, n, &app) == -1 && t.alert == 20);
    /* a wrong Finished: decrypt_error */
    replay_setup(&t);
    CHECK(feed(&t, rfc8448_server_hello_record, &app) == 0);
    n = edited_flight(edit_finished);
    CHECK(n > 0 && sslsocket__t13_record(&t, recbuf, n, &app) == -1 && t.alert == 51);
    CHECK(t.why != NULL && strstr(t.why, "Finished") != NULL);
    /* a wrong CertificateVerify signature: decrypt_error */
    replay_setup(&t);
    CHECK(feed(&t, rfc8448_server_hello_record, &app) == 0);
    n = edited_flight(edit_signature);
    CHECK(n > 0 && sslsocket__t13_record(&t, recbuf, n, &app) == -1 && t.alert == 51);
    CHECK(t.why != NULL && strstr(t.why, "CertificateVerify") != NULL);
    /* a ServerHello that selects TLS 1.2 in supported_versions: protocol_version */
    replay_setup(&t);
    snprintf(sh, sizeof sh, "%s", rfc8448_server_hello_record);
    {
        char *v = strstr(sh, "002b00020304");
        REQUIRE(v != NULL);
        v[11] = '3';
    }
    CHECK(feed(&t, sh, &app) == -1 && t.alert == 70);
    /* application data before the handshake is over: unexpected_message */
    replay_setup(&t);
    CHECK(feed(&t, rfc8448_server_hello_record, &app) == 0);
    CHECK(feed(&t, rfc8448_server_application_data_record, &app) == -1);
}

/* ---- the socket, configured for TLS 1.3, against openssl s_server ---- */

static sslsocket_config scfg13;
static unsigned char sstore13[64 * 1024];
static sslsocket sock13;

/* A TLS 1.3-only client configuration trusting the test CA, and a log
   that keeps what is read in rx. */
static int
setup13(drive_log *l, unsigned char *rx, size_t cap)
{
    memset(l, 0, sizeof *l);
    memset(rx, 0, cap);
    l->rx = rx;
    l->rx_cap = cap - 1;
    sslsocket_config_init(&scfg13, sstore13, sizeof sstore13);
    return sslsocket_config_add_ca_file(&scfg13, peers_path("ca.pem")) == 1
           && sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS13, SSLSOCKET_TLS13) == 0;
}

/* drive_until conditions: the text awaited has been read */
static const char *awaited = "\r\n\r\n";

static int
got_awaited(sslsocket *s, drive_log *l)
{
    (void)s;
    return l->rx_len > 0 && strstr((char *)l->rx, awaited) != NULL;
}

static int
got_reply(sslsocket *s, drive_log *l)
{
    awaited = "\r\n\r\n";
    return got_awaited(s, l);
}

/* connect_encrypted with the usual events, the request written before
   the handshake leaves after it, protocol and cipher reported, the reply
   read, and the close as for TLS 1.2. */
static void
test_socket_client(void)
{
    static const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"};
    size_t i;
    for (i = 0; i < 3; i++) {
        peers_proc p;
        unsigned char rx[16384];
        drive_log l;
        unsigned port = start_s_server(&p, peers_path(i == 1 ? "rsa.pem" : "ec.pem"),
                                       peers_path(i == 1 ? "rsa.key" : "ec.key"), suites[i]);
        REQUIRE(port != 0);
        REQUIRE(setup13(&l, rx, sizeof rx));
        sslsocket_init(&sock13, &scfg13);
        REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
        CHECK(sslsocket_write_string(&sock13, "GET / HTTP/1.0\r\n\r\n") == 18);
        CHECK(drive_until(&sock13, &l, got_reply, 5000));
        CHECKF(strstr(l.text, "M1 C E ") != NULL, "events: %s (%s)", l.text,
               sslsocket_error_string(&sock13));
        CHECK(sslsocket_protocol(&sock13) && strcmp(sslsocket_protocol(&sock13), "TLSv1.3") == 0);
        CHECKF(sslsocket_cipher(&sock13) && strcmp(sslsocket_cipher(&sock13), suites[i]) == 0,
               "cipher %s", sslsocket_cipher(&sock13) ? sslsocket_cipher(&sock13) : "-");
        CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", rx);
        CHECK(sslsocket_peer_certificate(&sock13) != NULL);
        CHECK(sslsocket_ssl_error_count(&sock13) == 0);
        sslsocket_disconnect(&sock13);
        CHECK(drive_until(&sock13, &l, NULL, 5000));
        CHECK(sslsocket_state(&sock13) == SSLSOCKET_UNCONNECTED);
        peers_kill(&p);
    }
}

/* HelloRetryRequest: a server that wants P-256 gets it in a second
   ClientHello (X25519 was offered first), through the socket. */
static void
test_socket_client_hrr(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[4096];
    unsigned port = peers_s_server(&p, "s_server_hrr.log", "127.0.0.1", "rsa.pem", "rsa.key",
                                   "-tls1_3 -groups P-256 -www -quiet");
    REQUIRE(port != 0);
    REQUIRE(setup13(&l, rx, sizeof rx));
    sslsocket_init(&sock13, &scfg13);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock13, "GET / HTTP/1.0\r\n\r\n") == 18);
    CHECK(drive_until(&sock13, &l, got_reply, 5000));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s (%s)", rx,
           sslsocket_error_string(&sock13));
    CHECK(sock13.ctx.t13.hrr == 1 && sock13.ctx.t13.group == 0x17);
    sslsocket_abort(&sock13);
    peers_kill(&p);
}


static int
key_updated(sslsocket *s, drive_log *l)
{
    (void)l;
    return s->ctx.t13.key_updates > 0;
}

/* KeyUpdate: s_server's "K" command updates its keys and asks for ours;
   what it sends next reads, and what we send next reaches it. */
/* Drive sock13 until the server's log holds `text` (bounded: 5 s). */
static int
server_logged(drive_log *l, const char *logname, const char *text)
{
    int64_t end = peers_now_ms() + 5000;
    const char *log;
    do {
        drive_until(&sock13, l, NULL, 50);
        log = peers_slurp(peers_path(logname), NULL);
    } while (strstr(log, text) == NULL && peers_now_ms() < end);
    if (strstr(log, text) == NULL)
        printf("         server log: %s\n", log);
    return strstr(log, text) != NULL;
}

static void
test_socket_client_key_update(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[4096];
    unsigned port = peers_s_server(&p, "s_server_ku.log", "127.0.0.1", "ec.pem", "ec.key",
                                   "-tls1_3");
    REQUIRE(port != 0);
    REQUIRE(setup13(&l, rx, sizeof rx));
    sslsocket_init(&sock13, &scfg13);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock13, "before the update\n") == 18);
    CHECK(drive_until(&sock13, &l, drive_is_encrypted, 5000));
    REQUIRE(write(p.stdin_fd, "K\n", 2) == 2);
    /* (the next line only once the update is through, not in the same read) */
    CHECK(drive_until(&sock13, &l, key_updated, 5000));
    REQUIRE(write(p.stdin_fd, "after the update\n", 17) == 17);
    awaited = "after the update";
    CHECK(drive_until(&sock13, &l, got_awaited, 5000));
    if (strstr((char *)rx, "after the update") == NULL)
        printf("         t13: state %d q_len %zu in_len %zu app_len %zu updates %u events %s\n",
               sock13.ctx.t13.state, sock13.ctx.t13.q_len, sock13.ctx.t13.in_len,
               sock13.ctx.t13.app_len, sock13.ctx.t13.key_updates, l.text);
    CHECKF(strstr((char *)rx, "after the update") != NULL, "read: %.60s (%s) server: %s", rx,
           sslsocket_error_string(&sock13), peers_slurp(peers_path("s_server_ku.log"), NULL));
    CHECK(sock13.ctx.t13.key_updates == 1);
    CHECK(sslsocket_write_string(&sock13, "client after the update\n") == 24);
    /* the server prints what it decrypts */
    CHECK(server_logged(&l, "s_server_ku.log", "client after the update"));
    /* our own KeyUpdate, asking the server for its own: it reads what
       follows under our new keys, and answers (a second update read) */
    CHECK(sslsocket_update_keys(&sock13, 1) == 0);
    CHECK(sslsocket_write_string(&sock13, "client after our update\n") == 24);
    CHECK(server_logged(&l, "s_server_ku.log", "client after our update"));
    /* (OpenSSL sends its answering KeyUpdate before the next data it writes) */
    REQUIRE(write(p.stdin_fd, "after both updates\n", 19) == 19);
    awaited = "after both updates";
    CHECK(drive_until(&sock13, &l, got_awaited, 5000));
    CHECKF(sock13.ctx.t13.key_updates == 2, "updates read %u", sock13.ctx.t13.key_updates);
    /* refused where it has no meaning: nothing changes */
    CHECK(sslsocket_update_keys(NULL, 0) == -1);
    CHECK(sslsocket_state(&sock13) == SSLSOCKET_CONNECTED);
    sslsocket_abort(&sock13);
    peers_kill(&p);
}


/* GnuTLS too: gnutls-serv --echo with TLS 1.3 alone, for each AEAD and
   an RSA-PSS and an ECDSA certificate. */
static void
test_socket_client_gnutls(void)
{
    static const char *prio[] = {"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM",
                                 "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM",
                                 "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305"};
    static const char *names[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                  "TLS_CHACHA20_POLY1305_SHA256"};
    int i;
    for (i = 0; i < 3; i++) {
        peers_proc p;
        drive_log l;
        unsigned char rx[4096];
        unsigned port = peers_gnutls_serv(&p, peers_path(i == 1 ? "rsa.pem" : "ec.pem"),
                                          peers_path(i == 1 ? "rsa.key" : "ec.key"), prio[i]);
        REQUIRE(port != 0);
        REQUIRE(setup13(&l, rx, sizeof rx));
        sslsocket_init(&sock13, &scfg13);
        REQUIRE(sslsocket_connect_encrypted(&sock13, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
        sslsocket_set_peer_verify_name(&sock13, "localhost");
        CHECK(sslsocket_write_string(&sock13, "gnutls echo line\n") == 17);
        awaited = "gnutls echo line";
        CHECK(drive_until(&sock13, &l, got_awaited, 5000));
        CHECKF(strstr((char *)rx, "gnutls echo line") != NULL, "%s: %s (%s)", names[i], l.text,
               sslsocket_error_string(&sock13));
        CHECKF(sslsocket_cipher(&sock13) && strcmp(sslsocket_cipher(&sock13), names[i]) == 0,
               "cipher %s", sslsocket_cipher(&sock13) ? sslsocket_cipher(&sock13) : "-");
        sslsocket_disconnect(&sock13);
        CHECK(drive_until(&sock13, &l, NULL, 5000));
        peers_kill(&p);
    }
}

/* One connection of scfg13's client to port: the request answered
   (reply awaited), resumed or not as expected; the session it leaves in
   *saved (a ticket came).  `name`: the peer name verified. */
static void
resume_conn(unsigned port, const char *what, const char *request, const char *reply,
            int resumed, const sslsocket_session *offer, sslsocket_session *saved)
{
    drive_log l;
    unsigned char rx[8192];
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    sslsocket_init(&sock13, &scfg13);
    if (offer)
        REQUIRE(sslsocket_set_session(&sock13, offer) == 0);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    sslsocket_set_peer_verify_name(&sock13, "localhost");
    CHECK(sslsocket_write_string(&sock13, request) == (long)strlen(request));
    awaited = reply;
    CHECK(drive_until(&sock13, &l, got_awaited, 5000));
    CHECKF(strstr((char *)rx, reply) != NULL, "%s: %s (%s) %.200s", what, l.text,
           sslsocket_error_string(&sock13), rx);
    CHECKF(sslsocket_protocol(&sock13) && strcmp(sslsocket_protocol(&sock13), "TLSv1.3") == 0,
           "%s: protocol %s", what, sslsocket_protocol(&sock13));
    CHECKF(sslsocket_session_resumed(&sock13) == resumed, "%s: resumed %d, expected %d", what,
           sslsocket_session_resumed(&sock13), resumed);
    /* a resumed handshake receives no certificate */
    CHECKF((sslsocket_peer_certificate(&sock13) == NULL) == resumed, "%s: peer certificate",
           what);
    CHECK(sslsocket_ssl_error_count(&sock13) == 0);
    if (saved) {
        CHECKF(sslsocket_get_session(&sock13, saved) == 0 && saved->ticket.len > 0
                   && saved->params.version == SSLSOCKET_TLS13,
               "%s: no ticket kept", what);
    }
    sslsocket_disconnect(&sock13);
    CHECK(drive_until(&sock13, &l, NULL, 5000));
}

/* Tickets (PSK-DHE resumption): a full handshake leaves a ticket; the
   config's next client resumes with it (no certificate; the server says
   "Reused"); a saved session resumes on a socket of a config that keeps
   none; a ticket the server cannot open gives a full handshake and a new
   ticket; a wrong PSK fails on the binder; against
   gnutls-serv, for both hashes; after a HelloRetryRequest, the binder over
   the longer transcript; and offering TLS 1.2 beside 1.3. */
static void
test_socket_client_resumption(void)
{
    static const char *srv_opts[] = {
        "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 -www", /* (its errors logged) */
        "-tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 -www -quiet",
        "-tls1_3 -groups P-256 -www -quiet",
        "-www -quiet"
    };
    static const char *get = "GET / HTTP/1.0\r\n\r\n";
    sslsocket_session sess, bad;
    drive_log l;
    unsigned char rx[64];
    int i;
    for (i = 0; i < 4; i++) {
        peers_proc p;
        char what[64];
        unsigned port = peers_s_server(&p, "s_server_resume.log", "127.0.0.1", "ec.pem",
                                       "ec.key", srv_opts[i]);
        REQUIRE(port != 0);
        REQUIRE(setup13(&l, rx, sizeof rx));
        if (i == 3)
            REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS12, SSLSOCKET_TLS13) == 0);
        snprintf(what, sizeof what, "s_server %s", srv_opts[i]);
        resume_conn(port, what, get, "New, TLSv1.3", 0, NULL, &sess);
        printf("         %s: a ticket of %zu bytes\n", what, sess.ticket.len);
        CHECKF(sess.ticket.suite == (i == 1 ? 0x1302 : 0x1301), "suite %04x", sess.ticket.suite);
        resume_conn(port, what, get, "Reused, TLSv1.3", 1, NULL, NULL);
        if (i == 0) {
            /* a saved session, on a config that keeps none */
            sslsocket_config_set_client_sessions(&scfg13, 0);
            resume_conn(port, "set_session", get, "Reused, TLSv1.3", 1, &sess, NULL);
            /* a ticket the server cannot open: a full handshake, a new ticket */
            bad = sess;
            bad.ticket.data[bad.ticket.len / 2] ^= 1;
            resume_conn(port, "bad ticket", get, "New, TLSv1.3", 0, &bad, &bad);
            CHECK(memcmp(bad.ticket.data, sess.ticket.data, sess.ticket.len) != 0);
            /* a wrong PSK: the binder does not verify */
            bad = sess;
            bad.ticket.psk[0] ^= 1;
            sslsocket_init(&sock13, &scfg13);
            REQUIRE(sslsocket_set_session(&sock13, &bad) == 0);
            REQUIRE(sslsocket_connect_encrypted(&sock13, "127.0.0.1", port,
                                                SSLSOCKET_READ_WRITE) == 0);
            sslsocket_set_peer_verify_name(&sock13, "localhost");
            memset(&l, 0, sizeof l);
            CHECK(drive_until(&sock13, &l, NULL, 5000));
            /* (OpenSSL 3.0 says illegal_parameter for it) */
            CHECK_ERR(&sock13, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "peer sent alert 47");
            CHECKF(strstr(peers_slurp(peers_path("s_server_resume.log"), NULL),
                          "binder does not verify") != NULL, "s_server did not refuse the binder");
        }
        peers_kill(&p);
    }
    for (i = 0; i < 2; i++) {
        static const char *prio[] = {"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM",
                                     "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM"};
        peers_proc p;
        unsigned port = peers_gnutls_serv(&p, peers_path("ec.pem"), peers_path("ec.key"),
                                          prio[i]);
        REQUIRE(port != 0);
        REQUIRE(setup13(&l, rx, sizeof rx));
        resume_conn(port, prio[i], "gnutls resumption\n", "gnutls resumption", 0, NULL, &sess);
        printf("         gnutls-serv %s: a ticket of %zu bytes\n", prio[i], sess.ticket.len);
        resume_conn(port, prio[i], "gnutls resumption\n", "gnutls resumption", 1, NULL, NULL);
        peers_kill(&p);
    }
}

/* The cipher list is the whole set: TLS 1.3's suites only when listed. */
static void
test_socket_client_ciphers(void)
{
    static const struct { const char *list, *proto, *cipher; } cases[] = {
        {"TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"},
        {"TLS_AES_256_GCM_SHA384:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLSv1.3",
         "TLS_AES_256_GCM_SHA384"},
        /* no TLS 1.3 suite: TLS 1.2 against a server that has TLS 1.3 */
        {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2",
         "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    };
    peers_proc p;
    drive_log l;
    unsigned char rx[4096];
    size_t i;
    unsigned port = peers_s_server(&p, "s_server_ciphers.log", "127.0.0.1", "ec.pem", "ec.key",
                                   "-www -quiet");
    REQUIRE(port != 0);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        REQUIRE(setup13(&l, rx, sizeof rx));
        REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS12, SSLSOCKET_TLS13) == 0);
        REQUIRE(sslsocket_config_set_ciphers(&scfg13, cases[i].list) == 0);
        sslsocket_init(&sock13, &scfg13);
        REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
        CHECK(sslsocket_write_string(&sock13, "GET / HTTP/1.0\r\n\r\n") == 18);
        CHECK(drive_until(&sock13, &l, got_reply, 5000));
        CHECKF(sslsocket_protocol(&sock13) && strcmp(sslsocket_protocol(&sock13), cases[i].proto) == 0
                   && sslsocket_cipher(&sock13)
                   && strcmp(sslsocket_cipher(&sock13), cases[i].cipher) == 0,
               "%s: %s %s (%s)", cases[i].list, sslsocket_protocol(&sock13),
               sslsocket_cipher(&sock13), sslsocket_error_string(&sock13));
        sslsocket_abort(&sock13);
    }
    /* TLS 1.3 alone, with a list that has none of its suites: refused at
       the start, with a reason */
    REQUIRE(setup13(&l, rx, sizeof rx));
    REQUIRE(sslsocket_config_set_ciphers(&scfg13, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") == 0);
    sslsocket_init(&sock13, &scfg13);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    drive_until(&sock13, &l, NULL, 5000);
    CHECK_ERR(&sock13, SSLSOCKET_ERR_OPERATION, "no cipher suite of the configuration is for its "
                                                "protocol range");
    CHECK(sslsocket_state(&sock13) == SSLSOCKET_UNCONNECTED);
    /* names without the TLS_ prefix work for TLS 1.3 too; unknown ones do not */
    CHECK(sslsocket_config_set_ciphers(&scfg13, "AES_128_GCM_SHA256") == 0
          && scfg13.n_suites13 == 1 && scfg13.suites13[0] == 0x1301 && scfg13.n_suites == 0);
    CHECK(sslsocket_config_set_ciphers(&scfg13, "TLS_AES_128_CCM_SHA256") == -1);
    CHECK(strstr(sslsocket_config_error_string(&scfg13), "unknown cipher suite") != NULL);
    peers_kill(&p);
}

static char keylog_lines[8][256];
static int n_keylog;

static void
keylog_cb(void *user, const char *line)
{
    (void)user;
    if (n_keylog < 8)
        snprintf(keylog_lines[n_keylog++], sizeof keylog_lines[0], "%s", line);
}

/* Key logging: the four traffic secrets, each line exactly what s_server's
   own -keylogfile wrote for the connection. */
static void
test_socket_client_keylog(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[4096];
    unsigned port;
    const char *theirs;
    int i;
    port = peers_s_server(&p, "s_server_keylog.log", "127.0.0.1", "ec.pem", "ec.key",
                          "-tls1_3 -www -quiet -keylogfile theirs.keylog");
    REQUIRE(port != 0);
    memset(&l, 0, sizeof l);
    memset(rx, 0, sizeof rx);
    l.rx = rx;
    l.rx_cap = sizeof rx - 1;
    n_keylog = 0;
    sslsocket_config_init(&scfg13, sstore13, sizeof sstore13);
    REQUIRE(sslsocket_config_add_ca_file(&scfg13, peers_path("ca.pem")) == 1);
    REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS13, SSLSOCKET_TLS13) == 0);
    sslsocket_config_set_keylog(&scfg13, keylog_cb, NULL);
    sslsocket_init(&sock13, &scfg13);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock13, "GET / HTTP/1.0\r\n\r\n") == 18);
    CHECK(drive_until(&sock13, &l, got_reply, 5000));
    sslsocket_abort(&sock13);
    peers_kill(&p);
    theirs = peers_slurp(peers_path("theirs.keylog"), NULL);
    CHECK(n_keylog == 4);
    CHECK(strncmp(keylog_lines[0], "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0);
    CHECK(strncmp(keylog_lines[3], "SERVER_TRAFFIC_SECRET_0 ", 24) == 0);
    for (i = 0; i < n_keylog; i++)
        CHECKF(strstr(theirs, keylog_lines[i]) != NULL, "ours: %s\ntheirs: %s", keylog_lines[i],
               theirs);
}

/* ALPN: the server's choice among ours, read back; none when it has none. */
static void
test_socket_client_alpn(void)
{
    int with;
    for (with = 0; with < 2; with++) {
        peers_proc p;
        drive_log l;
        unsigned char rx[4096];
        unsigned port = peers_s_server(&p, "s_server_alpn.log", "127.0.0.1", "ec.pem", "ec.key",
                                       with ? "-tls1_3 -www -quiet -alpn http/1.1"
                                            : "-tls1_3 -www -quiet");
        REQUIRE(port != 0);
        REQUIRE(setup13(&l, rx, sizeof rx));
        REQUIRE(sslsocket_config_set_alpn(&scfg13, "h2,http/1.1") == 0);
        sslsocket_init(&sock13, &scfg13);
        REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
        CHECK(sslsocket_write_string(&sock13, "GET / HTTP/1.0\r\n\r\n") == 18);
        CHECK(drive_until(&sock13, &l, got_reply, 5000));
        if (with)
            CHECKF(sslsocket_alpn(&sock13) && strcmp(sslsocket_alpn(&sock13), "http/1.1") == 0,
                   "alpn %s", sslsocket_alpn(&sock13) ? sslsocket_alpn(&sock13) : "(none)");
        else
            CHECK(sslsocket_alpn(&sock13) == NULL);
        sslsocket_abort(&sock13);
        peers_kill(&p);
    }
}

/* A name the certificate does not carry: the SSL errors, then the
   handshake fails with the problem named, nothing of the request sent. */
static void
test_socket_client_refused(void)
{
    peers_proc p;
    drive_log l;
    unsigned port = start_s_server(&p, peers_path("ec.pem"), peers_path("ec.key"),
                                   "TLS_AES_128_GCM_SHA256");
    REQUIRE(port != 0);
    memset(&l, 0, sizeof l);
    sslsocket_config_init(&scfg13, sstore13, sizeof sstore13);
    REQUIRE(sslsocket_config_add_ca_file(&scfg13, peers_path("ca.pem")) == 1);
    REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS13, SSLSOCKET_TLS13) == 0);
    sslsocket_init(&sock13, &scfg13);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
    sslsocket_set_peer_verify_name(&sock13, "other.example");
    CHECK(drive_until(&sock13, &l, NULL, 5000));
    CHECKF(strstr(l.text, " V X13 ") != NULL, "events: %s", l.text);
    CHECK_ERR(&sock13, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "host name mismatch");
    peers_kill(&p);
}

/* One connection of a client that offers TLS 1.3 and 1.2 to the server
   p (started on port): the protocol expected, the request answered;
   `again`: a second connection on the same socket (a TLS 1.2 server
   resumes the session offered beside TLS 1.3).  The server is stopped. */
static void
fallback_case(peers_proc *p, unsigned port, const char *what, const char *request,
              const char *reply, const char *proto, int again)
{
    drive_log l;
    unsigned char rx[8192];
    int round;
    REQUIRE(port != 0);
    REQUIRE(setup13(&l, rx, sizeof rx));
    REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS12, SSLSOCKET_TLS13) == 0);
    sslsocket_init(&sock13, &scfg13);
    for (round = 0; round < 1 + again; round++) {
        memset(rx, 0, sizeof rx);
        l.rx_len = 0;
        REQUIRE(sslsocket_connect_encrypted(&sock13, "127.0.0.1", port, SSLSOCKET_READ_WRITE) == 0);
        sslsocket_set_peer_verify_name(&sock13, "localhost");
        CHECK(sslsocket_write_string(&sock13, request) == (long)strlen(request));
        awaited = reply;
        CHECKF(drive_until(&sock13, &l, got_awaited, 5000), "%s: %s (%s)", what, l.text,
               sslsocket_error_string(&sock13));
        CHECKF(sslsocket_protocol(&sock13) && strcmp(sslsocket_protocol(&sock13), proto) == 0,
               "%s: protocol %s", what, sslsocket_protocol(&sock13) ? sslsocket_protocol(&sock13)
                                                                     : "-");
        CHECK(sslsocket_ssl_error_count(&sock13) == 0);
        CHECKF(sslsocket_session_resumed(&sock13) == (round == 1), "%s round %d: resumed %d", what,
               round, sslsocket_session_resumed(&sock13));
        /* a TLS 1.2 connection has no KeyUpdate: refused, nothing changes */
        if (strcmp(proto, "TLSv1.3") != 0) {
            int st = sslsocket_state(&sock13);
            CHECKF(sslsocket_update_keys(&sock13, 1) == -1
                       && strstr(sslsocket_last_refusal(&sock13), "not an encrypted TLS 1.3")
                       && sslsocket_state(&sock13) == st,
                   "refusal: %s", sslsocket_last_refusal(&sock13));
        }
        sslsocket_disconnect(&sock13);
        CHECK(drive_until(&sock13, &l, NULL, 5000));
        CHECK(sslsocket_state(&sock13) == SSLSOCKET_UNCONNECTED);
    }
    peers_kill(p);
}

/* TLS 1.3 and 1.2 offered in one ClientHello: TLS 1.2-only servers
   (OpenSSL with ECDSA and RSA certificates, GnuTLS) are served by
   BearSSL's engine, which resumes their sessions; a server that can do
   TLS 1.3 gets it. */
static void
test_socket_client_fallback(void)
{
    static const char *certs[2][2] = {{"ec.pem", "ec.key"}, {"rsa.pem", "rsa.key"}};
    peers_proc p;
    unsigned port;
    int i;
    for (i = 0; i < 2; i++) {
        port = peers_s_server(&p, "fallback.log", "127.0.0.1", certs[i][0], certs[i][1],
                              "-tls1_2 -www -quiet");
        fallback_case(&p, port, i ? "s_server -tls1_2 RSA" : "s_server -tls1_2 ECDSA",
                      "GET / HTTP/1.0\r\n\r\n", "\r\n\r\n", "TLSv1.2", 1);
    }
    for (i = 0; i < 2; i++) {
        port = peers_gnutls_echo(&p, certs[i][0], certs[i][1]);
        fallback_case(&p, port, i ? "gnutls-serv TLS 1.2 RSA" : "gnutls-serv TLS 1.2 ECDSA",
                      "fallback echo\n", "fallback echo", "TLSv1.2", 1);
    }
    port = peers_s_server(&p, "fallback.log", "127.0.0.1", "rsa.pem", "rsa.key", "-www -quiet");
    fallback_case(&p, port, "s_server (1.2 and 1.3)", "GET / HTTP/1.0\r\n\r\n", "\r\n\r\n",
                  "TLSv1.3", 0);
}

/* Read exactly n bytes (bounded by the socket's receive timeout). */
static int
read_full(int fd, unsigned char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* A man in the middle, in a child process, for one connection: accepts
   on the listening socket lfd, connects to 127.0.0.1:sport, removes the
   supported_versions extension from the ClientHello (so that the server
   sees no TLS 1.3 offer), then relays both ways for at most 5 s. */
static pid_t
mitm_strip_versions(int lfd, unsigned sport)
{
    pid_t pid = fork();
    if (pid == 0) {
        static unsigned char b[20000];
        struct sockaddr_in a;
        struct timeval tv = {5, 0};
        int c = accept(lfd, NULL, NULL), u = socket(AF_INET, SOCK_STREAM, 0);
        size_t rl, at, el, end, o;
        int64_t stop = peers_now_ms() + 5000;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)sport);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (c < 0 || connect(u, (struct sockaddr *)&a, sizeof a) < 0)
            _exit(1);
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (read_full(c, b, 5) < 0 || (rl = ((size_t)b[3] << 8) | b[4]) > 16384
            || read_full(c, b + 5, rl) < 0)
            _exit(1);
        /* record(5) type(1) len(3) version(2) random(32) sid */
        at = 5 + 4 + 2 + 32;
        at += 1 + b[at];
        at += 2 + (((size_t)b[at] << 8) | b[at + 1]);
        at += 1 + b[at];
        end = 5 + rl;
        for (o = at + 2; o + 4 <= end; o += 4 + el) {
            el = ((size_t)b[o + 2] << 8) | b[o + 3];
            if (b[o] == 0 && b[o + 1] == 0x2b) {
                size_t cut = 4 + el, x;
                memmove(b + o, b + o + cut, end - o - cut);
                end -= cut;
                x = (((size_t)b[at] << 8) | b[at + 1]) - cut;
                b[at] = (unsigned char)(x >> 8), b[at + 1] = (unsigned char)x;
                x = end - 9;
                b[6] = (unsigned char)(x >> 16), b[7] = (unsigned char)(x >> 8), b[8] = (unsigned char)x;
                b[3] = (unsigned char)((end - 5) >> 8), b[4] = (unsigned char)(end - 5);
                break;
            }
        }
        if (write(u, b, end) != (ssize_t)end)
            _exit(1);
        while (peers_now_ms() < stop) {
            struct pollfd pf[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
            int k;
            if (poll(pf, 2, 200) < 0)
                _exit(1);
            for (k = 0; k < 2; k++) {
                if (pf[k].revents) {
                    ssize_t r = read(pf[k].fd, b, sizeof b);
                    if (r <= 0 || write(pf[1 - k].fd, b, (size_t)r) != r)
                        _exit(0);
                }
            }
        }
        _exit(0);
    }
    return pid;
}

/* A downgrade: a man in the middle removes TLS 1.3 from the offer; the
   server (able to do 1.3) answers TLS 1.2 and says so in its random
   (RFC 8446 4.1.3): the client refuses with illegal_parameter before
   BearSSL's engine sees anything. */
static void
test_socket_client_downgrade(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[1024];
    unsigned sport = peers_s_server(&p, "s_server_downgrade.log", "127.0.0.1", "ec.pem", "ec.key",
                                    "-www -quiet");
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), st;
    pid_t mitm;
    REQUIRE(sport != 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 1) == 0
            && getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
    mitm = mitm_strip_versions(lfd, sport);
    REQUIRE(mitm > 0);
    REQUIRE(setup13(&l, rx, sizeof rx));
    REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS12, SSLSOCKET_TLS13) == 0);
    sslsocket_init(&sock13, &scfg13);
    REQUIRE(sslsocket_connect_encrypted(&sock13, "127.0.0.1", ntohs(a.sin_port),
                                        SSLSOCKET_READ_WRITE) == 0);
    sslsocket_set_peer_verify_name(&sock13, "localhost");
    CHECK(drive_until(&sock13, &l, NULL, 5000));
    CHECK_ERR(&sock13, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "downgrade refused");
    CHECKF(strstr(l.text, " E ") == NULL, "events: %s", l.text); /* never encrypted */
    kill(mitm, SIGTERM);
    waitpid(mitm, &st, 0);
    close(lfd);
    peers_kill(&p);
}

/* Client certificates: s_server -Verify asks for one; an EC (P-256:
   ecdsa_secp256r1_sha256) and an RSA one (rsa_pss_rsae_sha256, signed
   with the library's PSS) are sent with their CertificateVerify, and the
   server shows the certificate it verified.  Offering TLS 1.2 as well
   changes nothing; without an identity the server refuses us. */
static void
test_socket_client_certificate(void)
{
    int i;
    REQUIRE(peers_sh("test -f client_rsa.pem || (openssl req -newkey rsa:2048 -nodes "
                     "-keyout client_rsa.key -subj '/CN=rsa client' -out client_rsa.csr "
                     "2>/dev/null && openssl x509 -req -in client_rsa.csr -CA ca.pem -CAkey ca.key "
                     "-CAcreateserial -days 3650 -sha256 -extfile client.ext -out client_rsa.pem "
                     "2>/dev/null)") == 0);
    for (i = 0; i < 4; i++) {
        peers_proc p;
        drive_log l;
        unsigned char rx[16384];
        unsigned port = peers_s_server(&p, "s_server_cc.log", "127.0.0.1", "ec.pem", "ec.key",
                                       "-tls1_3 -Verify 2 -verify_return_error -CAfile ca.pem "
                                       "-www -quiet");
        REQUIRE(port != 0);
        REQUIRE(setup13(&l, rx, sizeof rx));
        if (i == 1)
            REQUIRE(sslsocket_config_set_certificate_file(&scfg13, peers_path("client_rsa.pem"),
                                                          peers_path("client_rsa.key")) == 0);
        else if (i != 3)
            REQUIRE(sslsocket_config_set_certificate_file(&scfg13, peers_path("client.pem"),
                                                          peers_path("client.key")) == 0);
        if (i >= 2)
            REQUIRE(sslsocket_config_set_versions(&scfg13, SSLSOCKET_TLS12, SSLSOCKET_TLS13) == 0);
        sslsocket_init(&sock13, &scfg13);
        REQUIRE(sslsocket_connect_encrypted(&sock13, "localhost", port, SSLSOCKET_READ_WRITE) == 0);
        CHECK(sslsocket_write_string(&sock13, "GET / HTTP/1.0\r\n\r\n") == 18);
        if (i == 3) {
            /* no identity: an empty Certificate, which -verify_return_error refuses */
            CHECK(drive_until(&sock13, &l, NULL, 5000));
            CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") == NULL, "reply: %.80s", rx);
            /* (TLS 1.3: our side of the handshake was over; the alert ends the
               connection after it) */
            CHECKF(strstr(sslsocket_error_string(&sock13), "alert 116") != NULL,
                   "%s", sslsocket_error_string(&sock13)); /* certificate_required */
        } else {
            awaited = "</HTML>";
            CHECKF(drive_until(&sock13, &l, got_awaited, 5000), "case %d: %s (%s)", i, l.text,
                   sslsocket_error_string(&sock13));
            CHECK(sslsocket_protocol(&sock13) && strcmp(sslsocket_protocol(&sock13), "TLSv1.3") == 0);
            CHECKF(strstr((char *)rx, i == 1 ? "CN=rsa client" : "CN=test client") != NULL
                       || strstr((char *)rx, i == 1 ? "CN = rsa client" : "CN = test client")
                              != NULL,
                   "case %d: the server did not show our certificate: %.400s", i,
                   strstr((char *)rx, "ertificate") ? strstr((char *)rx, "ertificate") : (char *)rx);
            sslsocket_disconnect(&sock13);
            CHECK(drive_until(&sock13, &l, NULL, 5000));
        }
        peers_kill(&p);
    }
}

/* ---- the TLS 1.3 server, against openssl s_client, gnutls-cli and the
   library's own client ---- */

static sslsocket_config s13cfg;
static unsigned char s13store[128 * 1024];
static sslsocket s13l, s13c;
static int s13acc;
static drive_log s13log;
static char s13got[4096]; /* the lines the server read (and echoed) */
static size_t s13got_len;
static peers_proc s13p;
static int s13status;

/* A server configuration: `cert`/`key` (fixture names), the range
   min..max, the test CA for client certificates. */
static int
srv13_config(const char *cert, const char *key, unsigned vmin, unsigned vmax)
{
    sslsocket_config_init(&s13cfg, s13store, sizeof s13store);
    return sslsocket_config_set_certificate_file(&s13cfg, peers_path(cert), peers_path(key)) == 0
           && sslsocket_config_add_ca_file(&s13cfg, peers_path("ca.pem")) == 1
           && sslsocket_config_set_versions(&s13cfg, vmin, vmax) == 0;
}

/* Listen on 127.0.0.1 (a free port); returns it, 0 on failure. */
static unsigned
srv13_listen(void)
{
    s13acc = 0;
    s13got_len = 0;
    s13got[0] = 0;
    memset(&s13log, 0, sizeof s13log);
    sslsocket_init(&s13l, &s13cfg);
    if (sslsocket_listen(&s13l, "127.0.0.1", 0, 0) != 0)
        return 0;
    return sslsocket_local_port(&s13l);
}

/* One round of the server: accept, start TLS, echo every line read;
   `echo_close`: disconnect after the first line. */
static int s13echo_close = 1;
static void
srv13_step(void)
{
    sslsocket *list[2] = { &s13l, &s13c };
    char line[1024];
    ptrdiff_t n;
    sslsocket_wait(list, s13acc ? 2 : 1, 20);
    s13acc = drive_accept_tls(&s13l, &s13c, &s13cfg, s13acc);
    if (!s13acc)
        return;
    drive_poll(&s13c, &s13log);
    while ((n = sslsocket_read_line(&s13c, line, sizeof line)) > 0) {
        if (s13got_len + (size_t)n < sizeof s13got) {
            memcpy(s13got + s13got_len, line, (size_t)n);
            s13got_len += (size_t)n;
            s13got[s13got_len] = 0;
        }
        sslsocket_write_string(&s13c, line);
        if (s13echo_close)
            sslsocket_disconnect(&s13c);
    }
}

static int
srv13_child_done(void)
{
    int st;
    if (s13p.pid > 0 && waitpid(s13p.pid, &st, WNOHANG) == s13p.pid) {
        s13p.pid = -1;
        s13status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
        if (s13p.stdin_fd >= 0)
            close(s13p.stdin_fd);
        s13p.stdin_fd = -1;
        return 1;
    }
    return s13p.pid <= 0;
}

/* Run the server until cond() (NULL: the child exited) or ms passed. */
static int
srv13_until(int (*cond)(void), int ms)
{
    int64_t end = peers_now_ms() + ms;
    if (cond == NULL)
        cond = srv13_child_done;
    while (peers_now_ms() < end) {
        srv13_step();
        if (cond())
            return 1;
    }
    return 0;
}

/* Type `text` to the child and close its stdin. */
static void
srv13_type(const char *text, int close_it)
{
    if (text && write(s13p.stdin_fd, text, strlen(text)) != (ssize_t)strlen(text))
        printf("         could not write to the client\n");
    if (close_it) {
        close(s13p.stdin_fd);
        s13p.stdin_fd = -1;
    }
}

/* One s_client connection that says `hello` and reads it echoed:
   returns the client's log (NULL if the connection failed). */
static const char *
srv13_s_client(unsigned port, const char *opts, const char *hello)
{
    const char *out;
    s13p = peers_s_client("s_client13.log", port, opts);
    s13status = -1;
    srv13_type(hello, 1);
    if (!srv13_until(NULL, 15000)) {
        peers_kill(&s13p);
        printf("         s_client did not finish: %s\n", opts);
    }
    out = peers_slurp(peers_path("s_client13.log"), NULL);
    return s13status == 0 ? out : NULL;
}

/* openssl s_client -tls1_3: the three suites x X25519 / P-256 x an
   ECDSA and an RSA (RSA-PSS) certificate; what it says is echoed; both
   sides report TLS 1.3 and the suite; SNI seen, verified by s_client. */
static void
test_server_openssl(void)
{
    static const char *suites[] = { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                    "TLS_CHACHA20_POLY1305_SHA256" };
    static const char *groups[] = { "X25519", "P-256" };
    int c, i, g;
    for (c = 0; c < 2; c++) {
        REQUIRE(srv13_config(c ? "rsa.pem" : "ec.pem", c ? "rsa.key" : "ec.key",
                             SSLSOCKET_TLS12, SSLSOCKET_TLS13));
        for (i = 0; i < 3; i++) {
            for (g = 0; g < 2; g++) {
                char opts[512], hello[64];
                const char *out;
                unsigned port = srv13_listen();
                REQUIRE(port != 0);
                snprintf(opts, sizeof opts, "-tls1_3 -ciphersuites %s -groups %s -CAfile ca.pem "
                         "-verify_return_error -servername localhost -ign_eof", suites[i],
                         groups[g]);
                snprintf(hello, sizeof hello, "hello %d %d %d\n", c, i, g);
                out = srv13_s_client(port, opts, hello);
                CHECKF(out != NULL && strstr(out, hello) != NULL, "%s %s %s: client %s; server "
                       "%s (%s)", c ? "RSA" : "ECDSA", suites[i], groups[g],
                       out ? out : peers_slurp(peers_path("s_client13.log"), NULL), s13log.text,
                       sslsocket_error_string(&s13c));
                CHECKF(strstr(s13got, hello) != NULL, "server read: %s", s13got);
                CHECKF(strncmp(s13log.text, "S3 C M2 E ", 10) == 0, "server events: %s",
                       s13log.text);
                CHECK(sslsocket_protocol(&s13c) && strcmp(sslsocket_protocol(&s13c), "TLSv1.3") == 0);
                CHECK(s13c.ctx.t13.suite == 0x1301 + i);
                CHECK(s13c.ctx.t13.group == (g ? 0x17 : 0x1d));
                CHECK(s13c.ctx.t13.sig_scheme == (c ? 0x0804 : 0x0403));
                CHECK(s13c.ctx.t13.hrr == 0);
                CHECK(strcmp(s13c.ctx.t13.host, "localhost") == 0);
                if (out) {
                    CHECKF(strstr(out, suites[i]) != NULL, "%s", out);
                    CHECKF(strstr(out, c ? "Peer signature type: RSA-PSS"
                                         : "Peer signature type: ECDSA") != NULL, "%s", out);
                    CHECKF(strstr(out, g ? "Server Temp Key: ECDH, prime256v1"
                                         : "Server Temp Key: X25519") != NULL, "%s", out);
                    CHECK(strstr(out, "Verify return code: 0 (ok)") != NULL);
                }
                sslsocket_abort(&s13l);
            }
        }
    }
    /* RSA-PSS with SHA-384 and SHA-512 when the client asks for them alone
       (ECDSA P-384 is not the curve of our key: refused) */
    for (i = 0; i < 3; i++) {
        static const char *sig[] = { "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512",
                                     "ecdsa_secp384r1_sha384" };
        char opts[256];
        const char *out;
        unsigned port;
        REQUIRE(srv13_config(i < 2 ? "rsa.pem" : "ec.pem", i < 2 ? "rsa.key" : "ec.key",
                             SSLSOCKET_TLS13, SSLSOCKET_TLS13));
        port = srv13_listen();
        REQUIRE(port != 0);
        snprintf(opts, sizeof opts, "-tls1_3 -sigalgs %s -ign_eof", sig[i]);
        out = srv13_s_client(port, opts, "pss\n");
        if (i == 2) {
            CHECK(out == NULL);
            CHECK_ERR(&s13c, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "no signature scheme in common");
        } else {
            CHECKF(out != NULL && strstr(out, i ? "Peer signing digest: SHA512"
                                                : "Peer signing digest: SHA384") != NULL,
                   "%s: %s (%s)", sig[i], peers_slurp(peers_path("s_client13.log"), NULL),
                   sslsocket_error_string(&s13c));
            CHECK(s13c.ctx.t13.sig_scheme == 0x0805 + i);
        }
        sslsocket_abort(&s13l);
    }
}

static int
srv13_encrypted(void)
{
    return s13acc && sslsocket_is_encrypted(&s13c);
}

/* While connected: what the socket says about the connection. */
static void
test_server_inspect(void)
{
    unsigned port;
    REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS13, SSLSOCKET_TLS13));
    port = srv13_listen();
    REQUIRE(port != 0);
    s13p = peers_s_client("s_client13.log", port, "-servername localhost -quiet");
    CHECK(srv13_until(srv13_encrypted, 10000));
    CHECK(sslsocket_protocol(&s13c) && strcmp(sslsocket_protocol(&s13c), "TLSv1.3") == 0);
    CHECK(sslsocket_cipher(&s13c) && strcmp(sslsocket_cipher(&s13c), "TLS_AES_128_GCM_SHA256") == 0);
    CHECK(strcmp(sslsocket_server_name(&s13c), "localhost") == 0);
    CHECK(sslsocket_peer_certificate(&s13c) == NULL); /* (none asked: no anchors matter) */
    CHECK(!sslsocket_session_resumed(&s13c));
    srv13_type("inspected\n", 1);
    CHECK(srv13_until(NULL, 10000));
    CHECK(strstr(s13got, "inspected") != NULL);
    sslsocket_abort(&s13l);
}

/* gnutls-cli: the three suites, ECDSA and RSA-PSS, X25519 and P-256. */
static void
test_server_gnutls(void)
{
    static const char *prio[] = {
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-X25519",
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:+GROUP-SECP256R1",
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519",
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-SECP256R1"
    };
    int c, i;
    for (c = 0; c < 2; c++) {
        REQUIRE(srv13_config(c ? "rsa.pem" : "ec.pem", c ? "rsa.key" : "ec.key",
                             SSLSOCKET_TLS12, SSLSOCKET_TLS13));
        for (i = 0; i < 4; i++) {
            char portarg[32], prioarg[256];
            char *argv[] = { "gnutls-cli", "--x509cafile=ca.pem", portarg, prioarg, "localhost",
                             NULL };
            const char *out;
            unsigned port = srv13_listen();
            REQUIRE(port != 0);
            snprintf(portarg, sizeof portarg, "--port=%u", port);
            snprintf(prioarg, sizeof prioarg, "--priority=%s", prio[i]);
            unlink(peers_path("gnutls13.log"));
            s13p = peers_spawn("gnutls13.log", argv);
            s13status = -1;
            srv13_type("hello gnutls\n", 1);
            if (!srv13_until(NULL, 15000))
                peers_kill(&s13p);
            out = peers_slurp(peers_path("gnutls13.log"), NULL);
            CHECKF(s13status == 0 && strstr(s13got, "hello gnutls") != NULL,
                   "%d %d: status %d, client %.600s; server %s (%s)", c, i, s13status, out,
                   s13log.text, sslsocket_error_string(&s13c));
            CHECKF(strstr(out, "(TLS1.3") != NULL, "%.400s", out);
            CHECK(s13c.ctx.t13.suite == (i == 0 ? 0x1301 : i == 1 ? 0x1302 : 0x1303));
            CHECK(s13c.ctx.t13.group == ((i & 1) ? 0x17 : 0x1d));
            sslsocket_abort(&s13l);
        }
    }
}

/* HelloRetryRequest: s_client's key share is for P-384 (its first group)
   and it supports X25519 / P-256 after it: the server asks for one of
   those, checks the second ClientHello, and the handshake goes on. */
static void
test_server_hrr(void)
{
    int i;
    REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS12, SSLSOCKET_TLS13));
    for (i = 0; i < 2; i++) {
        const char *out;
        unsigned port = srv13_listen();
        REQUIRE(port != 0);
        out = srv13_s_client(port, i ? "-tls1_3 -groups P-384:P-256 -ign_eof"
                                     : "-tls1_3 -groups P-384:X25519 -ign_eof", "after a retry\n");
        CHECKF(out != NULL && strstr(out, "after a retry") != NULL, "client %s; server %s (%s)",
               peers_slurp(peers_path("s_client13.log"), NULL), s13log.text,
               sslsocket_error_string(&s13c));
        CHECK(s13c.ctx.t13.hrr == 1);
        CHECK(s13c.ctx.t13.group == (i ? 0x17 : 0x1d));
        if (out)
            CHECKF(strstr(out, i ? "Server Temp Key: ECDH, prime256v1" : "Server Temp Key: X25519")
                   != NULL, "%s", out);
        sslsocket_abort(&s13l);
    }
    /* no group in common at all: handshake_failure, named */
    {
        unsigned port = srv13_listen();
        const char *out;
        REQUIRE(port != 0);
        out = srv13_s_client(port, "-tls1_3 -groups P-384:P-521 -ign_eof", "x\n");
        CHECK(out == NULL);
        CHECK_ERR(&s13c, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "no key exchange group in common");
        CHECKF(strstr(peers_slurp(peers_path("s_client13.log"), NULL), "handshake failure") != NULL,
               "%s", peers_slurp(peers_path("s_client13.log"), NULL));
        sslsocket_abort(&s13l);
    }
}

static int
srv13_got_before(void)
{
    return strstr(s13got, "before\n") != NULL;
}

static int
srv13_key_updated(void)
{
    return s13acc && s13c.ctx.t13.key_updates > 0;
}

static int
srv13_got_after(void)
{
    return strstr(s13got, "after\n") != NULL
           && strstr(peers_slurp(peers_path("s_client13.log"), NULL), "after") != NULL;
}

/* KeyUpdate: s_client's "K" updates its keys and asks for ours; the
   server reads what follows under the new keys, and s_client reads the
   echo under the server's new keys. */
static void
test_server_key_update(void)
{
    unsigned port;
    REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS13, SSLSOCKET_TLS13));
    port = srv13_listen();
    REQUIRE(port != 0);
    s13echo_close = 0;
    s13p = peers_s_client("s_client13.log", port, "-tls1_3");
    srv13_type("before\n", 0);
    CHECK(srv13_until(srv13_got_before, 10000));
    srv13_type("K\n", 0);
    CHECKF(srv13_until(srv13_key_updated, 10000), "server: %s (%s)", s13log.text,
           sslsocket_error_string(&s13c));
    srv13_type("after\n", 0);
    CHECKF(srv13_until(srv13_got_after, 10000), "server read %s; client %s", s13got,
           peers_slurp(peers_path("s_client13.log"), NULL));
    CHECK(s13c.ctx.t13.key_updates == 1);
    CHECK(strstr(peers_slurp(peers_path("s_client13.log"), NULL), "KEYUPDATE") != NULL);
    CHECK(sslsocket_state(&s13c) == SSLSOCKET_CONNECTED);
    s13echo_close = 1;
    srv13_type(NULL, 1);
    srv13_until(NULL, 5000);
    peers_kill(&s13p);
    sslsocket_abort(&s13l);
}

/* Client certificates: VERIFY_PEER asks for one and checks it (EC with
   ECDSA, RSA with RSA-PSS); none refused with certificate_required;
   QUERY_PEER takes a client without one. */
static void
test_server_client_certificate(void)
{
    static const char *opts[] = {
        "-tls1_3 -cert client.pem -key client.key -ign_eof",
        "-tls1_3 -cert client_rsa.pem -key client_rsa.key -ign_eof",
        "-tls1_3 -ign_eof",
        "-tls1_3 -ign_eof"
    };
    int i;
    REQUIRE(peers_sh("test -f client_rsa.pem || (openssl req -newkey rsa:2048 -nodes "
                     "-keyout client_rsa.key -subj '/CN=rsa client' -out client_rsa.csr "
                     "2>/dev/null && openssl x509 -req -in client_rsa.csr -CA ca.pem -CAkey ca.key "
                     "-CAcreateserial -days 3650 -sha256 -extfile client.ext -out client_rsa.pem "
                     "2>/dev/null)") == 0);
    for (i = 0; i < 4; i++) {
        const char *out;
        unsigned port;
        REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS12, SSLSOCKET_TLS13));
        REQUIRE(sslsocket_config_set_peer_verify_mode(&s13cfg, i == 3 ? SSLSOCKET_QUERY_PEER
                                                                     : SSLSOCKET_VERIFY_PEER) == 0);
        port = srv13_listen();
        REQUIRE(port != 0);
        out = srv13_s_client(port, opts[i], "with a certificate\n");
        if (i == 2) {
            CHECK(strstr(s13got, "with a certificate") == NULL);
            CHECK_ERR(&s13c, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "client certificate required");
            CHECKF(strstr(s13log.text, " V X13 ") != NULL, "server events: %s", s13log.text);
            CHECKF(strstr(peers_slurp(peers_path("s_client13.log"), NULL),
                          "certificate required") != NULL, "%s",
                   peers_slurp(peers_path("s_client13.log"), NULL));
        } else {
            CHECKF(out != NULL && strstr(s13got, "with a certificate") != NULL,
                   "case %d: client %s; server %s (%s)", i,
                   peers_slurp(peers_path("s_client13.log"), NULL), s13log.text,
                   sslsocket_error_string(&s13c));
            CHECK(sslsocket_ssl_error_count(&s13c) == 0);
            if (i == 3) {
                CHECK(sslsocket_peer_certificate(&s13c) == NULL);
            } else {
                REQUIRE(sslsocket_peer_certificate(&s13c) != NULL);
                CHECK(strcmp(sslsocket_peer_certificate(&s13c)->common_name,
                             i ? "rsa client" : "test client") == 0);
            }
        }
        sslsocket_abort(&s13l);
    }
    /* a client certificate from another CA: refused, the problem named */
    {
        const char *out;
        unsigned port;
        REQUIRE(peers_sh("test -f stranger.pem || openssl req -x509 -newkey ec "
                         "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key "
                         "-out stranger.pem -days 30 -subj /CN=stranger 2>/dev/null") == 0);
        REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS13, SSLSOCKET_TLS13));
        REQUIRE(sslsocket_config_set_peer_verify_mode(&s13cfg, SSLSOCKET_VERIFY_PEER) == 0);
        port = srv13_listen();
        REQUIRE(port != 0);
        out = srv13_s_client(port, "-cert stranger.pem -key stranger.key -ign_eof", "x\n");
        (void)out;
        CHECK(strstr(s13got, "x\n") == NULL);
        CHECK_ERR(&s13c, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "certificate verification failed");
        CHECKF(strstr(peers_slurp(peers_path("s_client13.log"), NULL), "unknown ca") != NULL,
               "%s", peers_slurp(peers_path("s_client13.log"), NULL));
        sslsocket_abort(&s13l);
    }
}

/* A TLS 1.2 ClientHello to a 1.2..1.3 server: BearSSL's engine serves
   it (s_client, gnutls-cli); a 1.3-only server refuses it with
   protocol_version. */
static void
test_server_tls12(void)
{
    const char *out;
    unsigned port;
    int c;
    for (c = 0; c < 2; c++) {
        REQUIRE(srv13_config(c ? "rsa.pem" : "ec.pem", c ? "rsa.key" : "ec.key", SSLSOCKET_TLS12,
                             SSLSOCKET_TLS13));
        port = srv13_listen();
        REQUIRE(port != 0);
        out = srv13_s_client(port, "-tls1_2 -CAfile ca.pem -verify_return_error "
                                   "-servername localhost -ign_eof", "over TLS 1.2\n");
        CHECKF(out != NULL && strstr(out, "over TLS 1.2") != NULL, "client %s; server %s (%s)",
               peers_slurp(peers_path("s_client13.log"), NULL), s13log.text,
               sslsocket_error_string(&s13c));
        CHECK(!SSLSOCKET__IS13(&s13c));
        CHECK(strcmp(sslsocket_server_name(&s13c), "localhost") == 0);
        /* the sentinel went in (the signature over it checked by s_client) */
        CHECK(memcmp(s13c.ctx.server.eng.server_random + 24, "DOWNGRD\x01", 8) == 0);
        if (out)
            CHECK(strstr(out, "Protocol  : TLSv1.2") != NULL);
        sslsocket_abort(&s13l);
    }
    {
        char portarg[32];
        char *argv[] = { "gnutls-cli", "--x509cafile=ca.pem", portarg,
                         "--priority=NORMAL:-VERS-TLS1.3", "localhost", NULL };
        port = srv13_listen();
        REQUIRE(port != 0);
        snprintf(portarg, sizeof portarg, "--port=%u", port);
        unlink(peers_path("gnutls13.log"));
        s13p = peers_spawn("gnutls13.log", argv);
        s13status = -1;
        srv13_type("gnutls over 1.2\n", 1);
        if (!srv13_until(NULL, 15000))
            peers_kill(&s13p);
        CHECKF(s13status == 0 && strstr(s13got, "gnutls over 1.2") != NULL, "client %.400s",
               peers_slurp(peers_path("gnutls13.log"), NULL));
        CHECK(!SSLSOCKET__IS13(&s13c));
        sslsocket_abort(&s13l);
    }
    REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS13, SSLSOCKET_TLS13));
    port = srv13_listen();
    REQUIRE(port != 0);
    out = srv13_s_client(port, "-tls1_2 -ign_eof", "refused\n");
    CHECK(out == NULL);
    CHECK(strstr(s13got, "refused") == NULL);
    CHECK_ERR(&s13c, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "does not offer TLS 1.3");
    CHECKF(strstr(peers_slurp(peers_path("s_client13.log"), NULL), "protocol version") != NULL,
           "%s", peers_slurp(peers_path("s_client13.log"), NULL));
    sslsocket_abort(&s13l);
}

/* ALPN (the server's first protocol the client offers; none in common:
   none) and SNI choosing between two identities (ECDSA for localhost,
   RSA-PSS for other.test). */
static void
test_server_alpn_sni(void)
{
    const char *out;
    unsigned port;
    REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS12, SSLSOCKET_TLS13));
    REQUIRE(peers_sh("test -f other.pem || openssl req -x509 -newkey rsa:2048 -nodes "
                     "-keyout other.key -out other.pem -days 30 -subj /CN=other.test "
                     "-addext subjectAltName=DNS:other.test 2>/dev/null") == 0);
    REQUIRE(sslsocket_config_add_certificate_file(&s13cfg, peers_path("other.pem"),
                                                  peers_path("other.key")) == 0);
    REQUIRE(sslsocket_config_set_alpn(&s13cfg, "http/1.1,imap") == 0);
    port = srv13_listen();
    REQUIRE(port != 0);
    out = srv13_s_client(port, "-tls1_3 -servername other.test -alpn imap,h2,http/1.1 -ign_eof",
                         "alpn\n");
    REQUIRE(out != NULL);
    CHECKF(strstr(out, "CN = other.test") != NULL, "%.600s", out);
    CHECKF(strstr(out, "ALPN protocol: http/1.1") != NULL, "%.600s", out);
    CHECK(strstr(out, "Peer signature type: RSA-PSS") != NULL);
    CHECK(strcmp(s13c.ctx.t13.host, "other.test") == 0 && strcmp(s13c.ctx.t13.alpn, "http/1.1") == 0);
    sslsocket_abort(&s13l);
    port = srv13_listen();
    REQUIRE(port != 0);
    out = srv13_s_client(port, "-tls1_3 -servername localhost -alpn h2 -ign_eof", "no alpn\n");
    REQUIRE(out != NULL);
    CHECKF(strstr(out, "CN = localhost") != NULL, "%.600s", out);
    CHECK(strstr(out, "No ALPN negotiated") != NULL);
    CHECK(s13c.ctx.t13.alpn[0] == 0);
    sslsocket_abort(&s13l);
}

/* The library's TLS 1.3 client against its TLS 1.3 server over the
   in-memory transport: both report TLS 1.3, SNI, ALPN, a client
   certificate under VERIFY_PEER, data both ways, an orderly close;
   a client offering 1.2 too gets 1.3 as well. */
static sslsocket_pipe s13pipe;
static sslsocket s13cli;
static sslsocket_config s13ccfg;
static unsigned char s13cstore[64 * 1024];
static int
srv13_pair_up(void)
{
    return sslsocket_is_encrypted(&s13cli) && sslsocket_is_encrypted(&s13c);
}

static void
test_server_own_client(void)
{
    int round;
    for (round = 0; round < 2; round++) {
        drive_log lc, ls;
        char buf[64];
        ptrdiff_t n;
        int i;
        REQUIRE(srv13_config("ec.pem", "ec.key", SSLSOCKET_TLS12, SSLSOCKET_TLS13));
        REQUIRE(sslsocket_config_set_alpn(&s13cfg, "http/1.1,h2") == 0);
        REQUIRE(sslsocket_config_set_peer_verify_mode(&s13cfg, SSLSOCKET_VERIFY_PEER) == 0);
        sslsocket_config_init(&s13ccfg, s13cstore, sizeof s13cstore);
        REQUIRE(sslsocket_config_add_ca_file(&s13ccfg, peers_path("ca.pem")) == 1);
        REQUIRE(sslsocket_config_set_versions(&s13ccfg, round ? SSLSOCKET_TLS12 : SSLSOCKET_TLS13,
                                              SSLSOCKET_TLS13) == 0);
        REQUIRE(sslsocket_config_set_alpn(&s13ccfg, "h2,http/1.1") == 0);
        REQUIRE(sslsocket_config_set_certificate_file(&s13ccfg, peers_path("client.pem"),
                                                      peers_path("client.key")) == 0);
        memset(&lc, 0, sizeof lc);
        memset(&ls, 0, sizeof ls);
        sslsocket_init(&s13cli, &s13ccfg);
        sslsocket_init(&s13c, &s13cfg);
        REQUIRE(sslsocket_pipe_connect(&s13pipe, &s13cli, &s13c) == 0);
        REQUIRE(sslsocket_set_peer_verify_name(&s13cli, "localhost") == 0);
        REQUIRE(sslsocket_start_client_encryption(&s13cli) == 0);
        REQUIRE(sslsocket_start_server_encryption(&s13c) == 0);
        CHECK(sslsocket_write_string(&s13cli, "ping\n") == 5);
        CHECKF(drive_pair(&s13cli, &lc, &s13c, &ls, srv13_pair_up, 200), "client %s (%s); server "
               "%s (%s)", lc.text, sslsocket_error_string(&s13cli), ls.text,
               sslsocket_error_string(&s13c));
        CHECK(sslsocket_protocol(&s13c) && strcmp(sslsocket_protocol(&s13c), "TLSv1.3") == 0);
        CHECK(sslsocket_protocol(&s13cli) && strcmp(sslsocket_protocol(&s13cli), "TLSv1.3") == 0);
        CHECK(sslsocket_alpn(&s13c) && strcmp(sslsocket_alpn(&s13c), "http/1.1") == 0);
        CHECK(sslsocket_alpn(&s13cli) && strcmp(sslsocket_alpn(&s13cli), "http/1.1") == 0);
        CHECK(strcmp(sslsocket_server_name(&s13c), "localhost") == 0);
        REQUIRE(sslsocket_peer_certificate(&s13c) != NULL);
        CHECK(strcmp(sslsocket_peer_certificate(&s13c)->common_name, "test client") == 0);
        CHECK(sslsocket_ssl_error_count(&s13c) == 0 && sslsocket_ssl_error_count(&s13cli) == 0);
        for (i = 0, n = 0; i < 50 && n <= 0; i++) {
            drive_pair(&s13cli, &lc, &s13c, &ls, NULL, 1);
            n = sslsocket_read(&s13c, buf, sizeof buf);
        }
        CHECK(n == 5 && memcmp(buf, "ping\n", 5) == 0);
        CHECK(sslsocket_write_string(&s13c, "pong\n") == 5);
        for (i = 0, n = 0; i < 50 && n <= 0; i++) {
            drive_pair(&s13cli, &lc, &s13c, &ls, NULL, 1);
            n = sslsocket_read(&s13cli, buf, sizeof buf);
        }
        CHECK(n == 5 && memcmp(buf, "pong\n", 5) == 0);
        sslsocket_disconnect(&s13cli);
        for (i = 0; i < 50 && (sslsocket_state(&s13cli) != SSLSOCKET_UNCONNECTED
                               || sslsocket_state(&s13c) != SSLSOCKET_UNCONNECTED); i++)
            drive_pair(&s13cli, &lc, &s13c, &ls, NULL, 1);
        CHECK(sslsocket_state(&s13cli) == SSLSOCKET_UNCONNECTED);
        CHECK(sslsocket_state(&s13c) == SSLSOCKET_UNCONNECTED);
        CHECK_ERR(&s13c, SSLSOCKET_ERR_REMOTE_HOST_CLOSED, "close_notify");
    }
}

/* The downgrade sentinel: a man in the middle strips TLS 1.3 from the
   library's client's offer; the 1.2..1.3 server answers TLS 1.2 through
   BearSSL's engine with RFC 8446's sentinel in its random, and the
   client refuses.  Without the man in the middle, the same client gets
   TLS 1.3 (and s_client -tls1_2 above checks the mended transcript and
   signature). */
static void
test_server_downgrade_sentinel(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    drive_log lc;
    unsigned sport;
    int lfd, st, i;
    pid_t mitm;
    for (i = 0; i < 2; i++) {
        REQUIRE(srv13_config(i ? "rsa.pem" : "ec.pem", i ? "rsa.key" : "ec.key", SSLSOCKET_TLS12,
                             SSLSOCKET_TLS13));
        sport = srv13_listen();
        REQUIRE(sport != 0);
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        al = sizeof a;
        REQUIRE(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 1) == 0
                && getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
        mitm = mitm_strip_versions(lfd, sport);
        REQUIRE(mitm > 0);
        sslsocket_config_init(&s13ccfg, s13cstore, sizeof s13cstore);
        REQUIRE(sslsocket_config_add_ca_file(&s13ccfg, peers_path("ca.pem")) == 1);
        REQUIRE(sslsocket_config_set_versions(&s13ccfg, SSLSOCKET_TLS12, SSLSOCKET_TLS13) == 0);
        memset(&lc, 0, sizeof lc);
        sslsocket_init(&s13cli, &s13ccfg);
        REQUIRE(sslsocket_connect_encrypted(&s13cli, "127.0.0.1", ntohs(a.sin_port),
                                            SSLSOCKET_READ_WRITE) == 0);
        sslsocket_set_peer_verify_name(&s13cli, "localhost");
        {
            int64_t end = peers_now_ms() + 10000;
            while (sslsocket_state(&s13cli) != SSLSOCKET_UNCONNECTED && peers_now_ms() < end) {
                srv13_step();
                drive_poll(&s13cli, &lc);
            }
        }
        CHECK_ERR(&s13cli, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "downgrade refused");
        CHECKF(strstr(lc.text, " E ") == NULL, "events: %s", lc.text);
        CHECK(s13acc && !SSLSOCKET__IS13(&s13c));
        kill(mitm, SIGTERM);
        waitpid(mitm, &st, 0);
        close(lfd);
        sslsocket_abort(&s13c);
        sslsocket_abort(&s13l);
    }
}

static const testlib_case tests[] = {
    {"hkdf_extract", test_hkdf_extract},
    {"rfc8448_key_schedule", test_rfc8448_key_schedule},
    {"rfc8448_records", test_rfc8448_records},
    {"rfc8448_certificate_verify", test_rfc8448_certificate_verify},
    {"rfc8448_application_data", test_rfc8448_application_data},
    {"aead_roundtrip", test_aead_roundtrip},
    {"rsa_pss", test_rsa_pss},
    {"rfc8448_client_replay", test_rfc8448_client_replay},
    {"rfc8448_binder", test_rfc8448_binder},
    {"rfc8448_client_tampered", test_rfc8448_client_tampered},
    {"rfc8448_key_update", test_rfc8448_key_update},
    {"openssl_server", test_openssl_server},
    {"openssl_server_wrong_name", test_openssl_server_wrong_name},
    {"socket_client", test_socket_client},
    {"socket_client_refused", test_socket_client_refused},
    {"socket_client_alpn", test_socket_client_alpn},
    {"socket_client_gnutls", test_socket_client_gnutls},
    {"socket_client_keylog", test_socket_client_keylog},
    {"socket_client_hrr", test_socket_client_hrr},
    {"socket_client_key_update", test_socket_client_key_update},
    {"socket_client_fallback", test_socket_client_fallback},
    {"socket_client_downgrade", test_socket_client_downgrade},
    {"socket_client_certificate", test_socket_client_certificate},
    {"socket_client_resumption", test_socket_client_resumption},
    {"socket_client_ciphers", test_socket_client_ciphers},
    {"server_openssl", test_server_openssl},
    {"server_inspect", test_server_inspect},
    {"server_gnutls", test_server_gnutls},
    {"server_hrr", test_server_hrr},
    {"server_key_update", test_server_key_update},
    {"server_client_certificate", test_server_client_certificate},
    {"server_tls12", test_server_tls12},
    {"server_alpn_sni", test_server_alpn_sni},
    {"server_own_client", test_server_own_client},
    {"server_downgrade_sentinel", test_server_downgrade_sentinel},
    {NULL, NULL}
};

int
main(int argc, char **argv)
{
    if (peers_setup() != 0 || peers_sh("openssl rsa -in rsa.key -pubout -out rsa.pub 2>/dev/null")) {
        printf("fixture setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    return testlib_main(argc, argv, tests);
}
