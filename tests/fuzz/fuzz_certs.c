/* fuzz_certs.c - the credential loaders and the certificate reader on the
 * same input.
 *
 * The input is a file as a user would hand it over: PEM (any blocks) or
 * DER, certificate(s) and/or key.  It goes, in turn, to
 *   - sslsocket__load_anchors_mem (twice: the second load adds nothing),
 *   - sslsocket__load_chain_mem, then for every certificate of the chain
 *     sslsocket__cert_parse, __cert_check_host/_ip/_eku, __der_spki,
 *   - sslsocket__load_key_mem, and __key_matches_cert against the leaf,
 *   - the same certificate functions on the raw input (as DER),
 *   - the public sslsocket_config_add_ca_mem / _set_certificate_mem.
 * The arena is allocated per input with its exact size (so ASan sees any
 * write past it) and misaligned; its size depends on the input length:
 * plenty, about the input, half of it, or almost nothing.
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"

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

#ifdef SSLSOCKET_FUZZING
/* The proposed hook (fuzz_common.h has the real stream): not used here. */
int sslsocket_fuzz_random(void *buf, size_t len);
int
sslsocket_fuzz_random(void *buf, size_t len)
{
    memset(buf, 0x5A, len);
    return 0;
}
#endif

static const char *const hosts[] = {
    "localhost", "www.fuzz.test", "a.b.fuzz.test", "fuzz.test", "rsa.example.net", "EXAMPLE.com.",
    "xn--bcher-kva.example", "*.fuzz.test", "127.0.0.1", "a..b", "", "x",
};

static void
err_ok(const char *err, size_t len)
{
    FZ_ASSERT(memchr(err, 0, len) != NULL);
}

/* Everything the certificate reader does with one DER blob. */
static void
certificate(const unsigned char *der, size_t len)
{
    sslsocket_cert_info ci;
    sslsocket_address ip;
    const unsigned char *spki;
    size_t spki_len, i;
    int parsed, r;

    parsed = sslsocket__cert_parse(der, len, &ci) == 0;
    if (parsed) {
        FZ_ASSERT(memchr(ci.subject, 0, sizeof ci.subject) != NULL);
        FZ_ASSERT(memchr(ci.issuer, 0, sizeof ci.issuer) != NULL);
        FZ_ASSERT(memchr(ci.common_name, 0, sizeof ci.common_name) != NULL);
        FZ_ASSERT(memchr(ci.subject_alt_names, 0, sizeof ci.subject_alt_names) != NULL);
        FZ_ASSERT(memchr(ci.serial, 0, sizeof ci.serial) != NULL);
        FZ_ASSERT(memchr(ci.sig_alg, 0, sizeof ci.sig_alg) != NULL);
        FZ_ASSERT(ci.version >= 1 && ci.version <= 3);
        FZ_ASSERT(ci.key_bits >= 0);
    }
    for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        r = sslsocket__cert_check_host(der, len, hosts[i]);
        FZ_ASSERT(r == SSLSOCKET__NAME_OK || r == SSLSOCKET__NAME_MISMATCH
                  || r == SSLSOCKET__NAME_WILDCARD_REFUSED || r == SSLSOCKET__NAME_NO_SAN
                  || r == SSLSOCKET__NAME_MALFORMED);
        /* a certificate whose summary reads is not malformed to the name check */
        if (parsed)
            FZ_ASSERT(r != SSLSOCKET__NAME_MALFORMED);
    }
    memset(&ip, 0, sizeof ip);
    ip.family = 4;
    ip.bytes[0] = 127;
    ip.bytes[3] = 1;
    r = sslsocket__cert_check_ip(der, len, &ip);
    FZ_ASSERT(r == SSLSOCKET__NAME_OK || r == SSLSOCKET__NAME_IP_MISMATCH
              || r == SSLSOCKET__NAME_NO_SAN || r == SSLSOCKET__NAME_MALFORMED);
    if (parsed)
        FZ_ASSERT(r != SSLSOCKET__NAME_MALFORMED);
    ip.family = 6;
    memset(ip.bytes, 0, sizeof ip.bytes);
    ip.bytes[15] = 1;
    (void)sslsocket__cert_check_ip(der, len, &ip);
    ip.family = 0;
    (void)sslsocket__cert_check_ip(der, len, &ip);
    (void)sslsocket__cert_check_ip(der, len, NULL);
    r = sslsocket__cert_check_eku(der, len, 1);
    FZ_ASSERT(r == SSLSOCKET__NAME_OK || r == SSLSOCKET__NAME_EKU_MISMATCH
              || r == SSLSOCKET__NAME_MALFORMED);
    (void)sslsocket__cert_check_eku(der, len, 0);
    if (sslsocket__der_spki(der, len, &spki, &spki_len) == 0)
        FZ_ASSERT(spki >= der && spki_len <= len && (size_t)(spki - der) <= len - spki_len);
}

/* A fresh, exactly sized, misaligned arena. */
static unsigned char *
arena(sslsocket__arena *a, size_t size, size_t misalign)
{
    unsigned char *mem = (unsigned char *)malloc(size + misalign + 1);
    FZ_ASSERT(mem != NULL);
    sslsocket__arena_init(a, mem + misalign, size);
    return mem;
}

static void
touch_anchors(const sslsocket__arena *a, size_t expect)
{
    size_t n, i, j;
    unsigned sum = 0;
    const br_x509_trust_anchor *ta = sslsocket__arena_anchors(a, &n);
    FZ_ASSERT(n == expect);
    for (i = 0; i < n; i++) {
        for (j = 0; j < ta[i].dn.len; j++)
            sum += ta[i].dn.data[j];
        if (ta[i].pkey.key_type == BR_KEYTYPE_RSA) {
            for (j = 0; j < ta[i].pkey.key.rsa.nlen; j++)
                sum += ta[i].pkey.key.rsa.n[j];
            for (j = 0; j < ta[i].pkey.key.rsa.elen; j++)
                sum += ta[i].pkey.key.rsa.e[j];
        } else {
            FZ_ASSERT(ta[i].pkey.key_type == BR_KEYTYPE_EC);
            for (j = 0; j < ta[i].pkey.key.ec.qlen; j++)
                sum += ta[i].pkey.key.ec.q[j];
        }
    }
    FZ_ASSERT(sum != 0xFFFFFFFFu || n == 0); /* keep the reads */
    FZ_ASSERT(sslsocket__arena_used(a) <= a->size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t small[4] = { 0, 1, 0, 3 };
    sslsocket__arena a;
    br_x509_certificate chain[SSLSOCKET_MAX_CHAIN];
    sslsocket__key key;
    static sslsocket_config cfg;
    char err[256];
    size_t n = 0, i, asize, misalign = size % 8;
    unsigned char *mem;
    int r, r2, k;

    switch (size % 4) {
    case 0: asize = 256 * 1024; break;
    case 1: asize = size + 512; break;
    case 2: asize = size / 2; break;
    default: asize = 64 + small[(size / 4) % 4]; break;
    }

    /* trust anchors */
    mem = arena(&a, asize, misalign);
    r = sslsocket__load_anchors_mem(&a, data, size, "fuzz input", err, sizeof err);
    err_ok(err, sizeof err);
    FZ_ASSERT(r >= -1);
    touch_anchors(&a, r > 0 ? (size_t)r : 0);
    if (r > 0) {
        r2 = sslsocket__load_anchors_mem(&a, data, size, NULL, err, sizeof err);
        FZ_ASSERT(r2 == 0 || r2 == -1); /* the same anchors again add nothing */
        touch_anchors(&a, (size_t)r);
    }
    free(mem);

    /* chain, then a key for its leaf */
    mem = arena(&a, asize, misalign);
    r = sslsocket__load_chain_mem(&a, data, size, "fuzz input", chain, SSLSOCKET_MAX_CHAIN, &n,
                                  err, sizeof err);
    err_ok(err, sizeof err);
    FZ_ASSERT(r == -1 || (r >= 1 && (size_t)r == n && n <= SSLSOCKET_MAX_CHAIN));
    for (i = 0; r > 0 && i < n; i++)
        certificate(chain[i].data, chain[i].data_len);
    memset(&key, 0, sizeof key);
    k = sslsocket__load_key_mem(&a, data, size, "fuzz input", &key, err, sizeof err);
    err_ok(err, sizeof err);
    FZ_ASSERT(k == 0 || k == -1);
    if (k == 0) {
        FZ_ASSERT(key.type == BR_KEYTYPE_RSA || key.type == BR_KEYTYPE_EC);
        if (r > 0) {
            int m = sslsocket__key_matches_cert(&key, &chain[0], err, sizeof err);
            FZ_ASSERT(m >= -1 && m <= 1);
            err_ok(err, sizeof err);
        }
    } else {
        FZ_ASSERT(key.type == 0);
    }
    free(mem);

    /* the raw input as one DER certificate */
    certificate(data, size);

    /* the public entry points, with the same arena size */
    mem = (unsigned char *)malloc(asize + 1);
    FZ_ASSERT(mem != NULL);
    sslsocket_config_init(&cfg, mem, asize);
    r = sslsocket_config_add_ca_mem(&cfg, data, size);
    FZ_ASSERT(r >= -1 && strlen(sslsocket_config_error_string(&cfg)) < SSLSOCKET_ERROR_STRING_SIZE);
    FZ_ASSERT(sslsocket_config_ca_count(&cfg) == (r > 0 ? (size_t)r : 0));
    r = sslsocket_config_set_certificate_mem(&cfg, data, size, data, size);
    FZ_ASSERT(r == 0 || r == -1);
    FZ_ASSERT(strlen(sslsocket_config_error_string(&cfg)) < SSLSOCKET_ERROR_STRING_SIZE);
    /* the input as a chain verified offline, against itself as anchors */
    {
        static sslsocket scratch;
        sslsocket_init(&scratch, NULL);
        r = sslsocket_verify_chain(&scratch, &cfg, data, size, (size & 1) ? "localhost" : NULL,
                                   1900000000);
        FZ_ASSERT(r >= -1 && r <= SSLSOCKET_MAX_SSL_ERRORS);
        FZ_ASSERT(r != -1 || sslsocket_error(&scratch) != SSLSOCKET_ERR_UNKNOWN);
        FZ_ASSERT(r == -1 || r == sslsocket_ssl_error_count(&scratch));
    }
    free(mem);
    return 0;
}
