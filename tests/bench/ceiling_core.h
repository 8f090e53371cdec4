/* ceiling_core.h - a raw BearSSL client and server joined in one process,
 * with no sslsocket.h in between: the upper bound for the library.
 *
 * Two transports: memory (the client's outgoing records are copied straight
 * into the server's record buffer and back: the one unavoidable copy), and
 * loopback TCP (both ends nonblocking in this thread, like the library's
 * loopback case).  Three ways to set an engine up, to show what per-connection
 * setup costs:
 *   CEIL_NAIVE     br_ssl_*_init_full per connection, BearSSL seeds itself
 *                  from the OS (what a straightforward BearSSL program does)
 *   CEIL_INITFULL  br_ssl_*_init_full per connection, 32 bytes of getrandom()
 *                  injected (what sslsocket.h does today)
 *   CEIL_FAST      implementations chosen once per process and set
 *                  explicitly, seed from a process-wide HMAC-DRBG (the
 *                  ceiling)
 * Both ends verify like the library: the client runs br_x509_minimal
 * against the CA for "localhost".
 */
#ifndef CEILING_CORE_H
#define CEILING_CORE_H

#include "bench_common.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

enum { CEIL_NAIVE = 0, CEIL_INITFULL = 1, CEIL_FAST = 2 };

#define CEIL_ECDSA_GCM   0xC02B /* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
#define CEIL_RSA_GCM     0xC02F /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
#define CEIL_ECDSA_CHAPOL 0xCCA9 /* TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 */
#define CEIL_RECORD 16384

/* ---- credentials (DER files made by bench_make_certs) ------------------ */

typedef struct ceil_creds {
    br_x509_certificate ec_chain[1], rsa_chain[1];
    br_ec_private_key ec_key;
    br_rsa_private_key rsa_key;
    br_x509_trust_anchor ta;
} ceil_creds;

static ceil_creds ceil_cred;

typedef struct ceil_dnbuf {
    unsigned char *p;
    size_t len, cap;
} ceil_dnbuf;

static void
ceil_dn_append(void *ctx, const void *buf, size_t len)
{
    ceil_dnbuf *d = (ceil_dnbuf *)ctx;
    if (d->len + len > d->cap) {
        d->cap = (d->len + len) * 2;
        d->p = (unsigned char *)realloc(d->p, d->cap);
    }
    memcpy(d->p + d->len, buf, len);
    d->len += len;
}

static unsigned char *
ceil_dup(const void *p, size_t n)
{
    unsigned char *q = (unsigned char *)malloc(n ? n : 1);
    memcpy(q, p, n);
    return q;
}

static void
ceil_load_creds(void)
{
    static int done;
    size_t len;
    unsigned char *der;
    br_x509_decoder_context dc;
    br_skey_decoder_context kc;
    ceil_dnbuf dn = { NULL, 0, 0 };
    const br_x509_pkey *pk;
    if (done)
        return;
    done = 1;
    bench_make_certs();
    /* trust anchor: the CA's DN and key */
    der = bench_slurp(bench_cert("ca.der"), &len);
    br_x509_decoder_init(&dc, ceil_dn_append, &dn);
    br_x509_decoder_push(&dc, der, len);
    pk = br_x509_decoder_get_pkey(&dc);
    if (pk == NULL || pk->key_type != BR_KEYTYPE_EC)
        bench_die("CA certificate: decoding failed (%d)", br_x509_decoder_last_error(&dc));
    ceil_cred.ta.dn.data = dn.p;
    ceil_cred.ta.dn.len = dn.len;
    ceil_cred.ta.flags = BR_X509_TA_CA;
    ceil_cred.ta.pkey.key_type = BR_KEYTYPE_EC;
    ceil_cred.ta.pkey.key.ec.curve = pk->key.ec.curve;
    ceil_cred.ta.pkey.key.ec.q = ceil_dup(pk->key.ec.q, pk->key.ec.qlen);
    ceil_cred.ta.pkey.key.ec.qlen = pk->key.ec.qlen;
    free(der);
    /* leaf certificates */
    ceil_cred.ec_chain[0].data = bench_slurp(bench_cert("ec.der"), &ceil_cred.ec_chain[0].data_len);
    ceil_cred.rsa_chain[0].data = bench_slurp(bench_cert("rsa.der"), &ceil_cred.rsa_chain[0].data_len);
    /* keys */
    der = bench_slurp(bench_cert("ec.key.der"), &len);
    br_skey_decoder_init(&kc);
    br_skey_decoder_push(&kc, der, len);
    if (br_skey_decoder_key_type(&kc) != BR_KEYTYPE_EC)
        bench_die("ec.key.der: not an EC key (%d)", br_skey_decoder_last_error(&kc));
    {
        const br_ec_private_key *k = br_skey_decoder_get_ec(&kc);
        ceil_cred.ec_key.curve = k->curve;
        ceil_cred.ec_key.x = ceil_dup(k->x, k->xlen);
        ceil_cred.ec_key.xlen = k->xlen;
    }
    free(der);
    der = bench_slurp(bench_cert("rsa.key.der"), &len);
    br_skey_decoder_init(&kc);
    br_skey_decoder_push(&kc, der, len);
    if (br_skey_decoder_key_type(&kc) != BR_KEYTYPE_RSA)
        bench_die("rsa.key.der: not an RSA key (%d)", br_skey_decoder_last_error(&kc));
    {
        const br_rsa_private_key *k = br_skey_decoder_get_rsa(&kc);
        ceil_cred.rsa_key.n_bitlen = k->n_bitlen;
        ceil_cred.rsa_key.p = ceil_dup(k->p, k->plen);
        ceil_cred.rsa_key.plen = k->plen;
        ceil_cred.rsa_key.q = ceil_dup(k->q, k->qlen);
        ceil_cred.rsa_key.qlen = k->qlen;
        ceil_cred.rsa_key.dp = ceil_dup(k->dp, k->dplen);
        ceil_cred.rsa_key.dplen = k->dplen;
        ceil_cred.rsa_key.dq = ceil_dup(k->dq, k->dqlen);
        ceil_cred.rsa_key.dqlen = k->dqlen;
        ceil_cred.rsa_key.iq = ceil_dup(k->iq, k->iqlen);
        ceil_cred.rsa_key.iqlen = k->iqlen;
    }
    free(der);
}

/* ---- implementations chosen once (CEIL_FAST) ---------------------------- */

typedef struct ceil_impls {
    int ready;
    const br_block_cbcenc_class *cbcenc;
    const br_block_cbcdec_class *cbcdec;
    const br_block_ctr_class *ctr;
    br_ghash ghash;
    br_chacha20_run chacha;
    br_poly1305_run poly;
    br_hmac_drbg_context drbg; /* seeds every connection */
} ceil_impls;

static ceil_impls ceil_im;

static void
ceil_impls_init(void)
{
    unsigned char seed[32];
    if (ceil_im.ready)
        return;
    ceil_im.cbcenc = br_aes_x86ni_cbcenc_get_vtable();
    if (ceil_im.cbcenc == NULL)
        ceil_im.cbcenc = &br_aes_ct64_cbcenc_vtable;
    ceil_im.cbcdec = br_aes_x86ni_cbcdec_get_vtable();
    if (ceil_im.cbcdec == NULL)
        ceil_im.cbcdec = &br_aes_ct64_cbcdec_vtable;
    ceil_im.ctr = br_aes_x86ni_ctr_get_vtable();
    if (ceil_im.ctr == NULL)
        ceil_im.ctr = &br_aes_ct64_ctr_vtable;
    ceil_im.ghash = br_ghash_pclmul_get();
    if (ceil_im.ghash == 0)
        ceil_im.ghash = br_ghash_ctmul64;
    ceil_im.chacha = br_chacha20_sse2_get();
    if (ceil_im.chacha == 0)
        ceil_im.chacha = br_chacha20_ct_run;
    ceil_im.poly = br_poly1305_ctmulq_get();
    if (ceil_im.poly == 0)
        ceil_im.poly = br_poly1305_ctmul_run;
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        bench_die("getrandom failed");
    br_hmac_drbg_init(&ceil_im.drbg, &br_sha256_vtable, seed, sizeof seed);
    ceil_im.ready = 1;
}

static const br_hash_class *const ceil_hashes[] = {
    &br_md5_vtable, &br_sha1_vtable, &br_sha224_vtable,
    &br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable
};

/* What br_ssl_*_init_full sets, minus the CPU probes. */
static void
ceil_engine_fast(br_ssl_engine_context *eng)
{
    int id;
    for (id = br_md5_ID; id <= br_sha512_ID; id++)
        br_ssl_engine_set_hash(eng, id, ceil_hashes[id - 1]);
    br_ssl_engine_set_prf10(eng, &br_tls10_prf);
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_cbc(eng, &br_sslrec_in_cbc_vtable, &br_sslrec_out_cbc_vtable);
    br_ssl_engine_set_aes_cbc(eng, ceil_im.cbcenc, ceil_im.cbcdec);
    br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
    br_ssl_engine_set_aes_ctr(eng, ceil_im.ctr);
    br_ssl_engine_set_ghash(eng, ceil_im.ghash);
    br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
    br_ssl_engine_set_chacha20(eng, ceil_im.chacha);
    br_ssl_engine_set_poly1305(eng, ceil_im.poly);
    br_ssl_engine_set_default_ec(eng); /* compile-time choice: no probe */
}

/* ---- one client + one server ------------------------------------------- */

typedef struct ceil_pair {
    br_ssl_client_context cc;
    br_x509_minimal_context xc;
    br_ssl_server_context sc;
    unsigned char cbuf[BR_SSL_BUFSIZE_BIDI], sbuf[BR_SSL_BUFSIZE_BIDI];
    br_ssl_session_parameters sess;
    int have_sess, sess_kind;
    int cfd, sfd; /* loopback TCP, or -1 in memory */
} ceil_pair;

static br_ssl_session_cache_lru ceil_cache;
static unsigned char ceil_cache_mem[64 * 1024];
static int ceil_cache_ready;

static void
ceil_seed(br_ssl_engine_context *eng, int mode)
{
    unsigned char seed[32];
    if (mode == CEIL_NAIVE)
        return;
    if (mode == CEIL_FAST)
        br_hmac_drbg_generate(&ceil_im.drbg, seed, sizeof seed);
    else if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        bench_die("getrandom failed");
    br_ssl_engine_inject_entropy(eng, seed, sizeof seed);
    eng->rng_os_rand_done = 1;
}

/* Set both engines up for one connection with one suite. */
static void
ceil_setup(ceil_pair *p, int mode, int rsa, uint16_t suite)
{
    uint16_t suites[1];
    suites[0] = suite;
    ceil_load_creds();
    ceil_impls_init();
    if (!ceil_cache_ready) {
        br_ssl_session_cache_lru_init(&ceil_cache, ceil_cache_mem, sizeof ceil_cache_mem);
        ceil_cache_ready = 1;
    }
    /* client */
    if (mode == CEIL_FAST) {
        br_ssl_client_zero(&p->cc);
        br_x509_minimal_init(&p->xc, &br_sha256_vtable, &ceil_cred.ta, 1);
        ceil_engine_fast(&p->cc.eng);
        br_ssl_client_set_default_rsapub(&p->cc);
        br_ssl_engine_set_default_rsavrfy(&p->cc.eng);
        br_ssl_engine_set_default_ecdsa(&p->cc.eng);
        br_x509_minimal_set_rsa(&p->xc, br_ssl_engine_get_rsavrfy(&p->cc.eng));
        br_x509_minimal_set_ecdsa(&p->xc, br_ssl_engine_get_ec(&p->cc.eng),
                                  br_ssl_engine_get_ecdsa(&p->cc.eng));
        {
            int id;
            for (id = br_md5_ID; id <= br_sha512_ID; id++)
                br_x509_minimal_set_hash(&p->xc, id, ceil_hashes[id - 1]);
        }
        br_ssl_engine_set_x509(&p->cc.eng, &p->xc.vtable);
    } else {
        br_ssl_client_init_full(&p->cc, &p->xc, &ceil_cred.ta, 1);
    }
    br_x509_minimal_set_minrsa(&p->xc, 256);
    br_ssl_engine_set_versions(&p->cc.eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(&p->cc.eng, suites, 1);
    br_ssl_engine_set_buffer(&p->cc.eng, p->cbuf, sizeof p->cbuf, 1);
    br_ssl_engine_add_flags(&p->cc.eng, BR_OPT_NO_RENEGOTIATION);
    ceil_seed(&p->cc.eng, mode);
    /* server */
    if (mode == CEIL_FAST) {
        br_ssl_server_zero(&p->sc);
        ceil_engine_fast(&p->sc.eng);
        if (rsa)
            br_ssl_server_set_single_rsa(&p->sc, ceil_cred.rsa_chain, 1, &ceil_cred.rsa_key,
                                         BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                                         br_rsa_private_get_default(),
                                         br_rsa_pkcs1_sign_get_default());
        else
            br_ssl_server_set_single_ec(&p->sc, ceil_cred.ec_chain, 1, &ceil_cred.ec_key,
                                        BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, BR_KEYTYPE_EC,
                                        br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
    } else if (rsa) {
        br_ssl_server_init_full_rsa(&p->sc, ceil_cred.rsa_chain, 1, &ceil_cred.rsa_key);
    } else {
        br_ssl_server_init_full_ec(&p->sc, ceil_cred.ec_chain, 1, BR_KEYTYPE_EC,
                                   &ceil_cred.ec_key);
    }
    br_ssl_engine_set_versions(&p->sc.eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(&p->sc.eng, suites, 1);
    br_ssl_engine_set_buffer(&p->sc.eng, p->sbuf, sizeof p->sbuf, 1);
    br_ssl_engine_add_flags(&p->sc.eng, BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES);
    br_ssl_server_set_cache(&p->sc, &ceil_cache.vtable);
    ceil_seed(&p->sc.eng, mode);
}

/* ---- transports --------------------------------------------------------- */

/* Memory: records of `from` into the record buffer of `to`.  Returns 1 if
   anything moved. */
static int
ceil_xfer_mem(br_ssl_engine_context *from, br_ssl_engine_context *to)
{
    int moved = 0;
    for (;;) {
        size_t len, room;
        unsigned char *src = br_ssl_engine_sendrec_buf(from, &len);
        unsigned char *dst;
        if (src == NULL)
            break;
        dst = br_ssl_engine_recvrec_buf(to, &room);
        if (dst == NULL)
            break;
        if (len > room)
            len = room;
        memcpy(dst, src, len);
        br_ssl_engine_sendrec_ack(from, len);
        br_ssl_engine_recvrec_ack(to, len);
        moved = 1;
    }
    return moved;
}

/* TCP: send what the engine has, receive what it wants (nonblocking). */
static int
ceil_io_tcp(br_ssl_engine_context *eng, int fd)
{
    int moved = 0;
    for (;;) {
        size_t len;
        unsigned char *buf;
        ssize_t n;
        int again = 0;
        if ((buf = br_ssl_engine_sendrec_buf(eng, &len)) != NULL) {
            n = send(fd, buf, len, MSG_NOSIGNAL);
            if (n > 0) {
                br_ssl_engine_sendrec_ack(eng, (size_t)n);
                moved = again = 1;
            }
        }
        if ((buf = br_ssl_engine_recvrec_buf(eng, &len)) != NULL) {
            n = recv(fd, buf, len, 0);
            if (n > 0) {
                br_ssl_engine_recvrec_ack(eng, (size_t)n);
                moved = again = 1;
            } else if (n == 0) {
                br_ssl_engine_close(eng); /* EOF */
            }
        }
        if (!again)
            return moved;
    }
}

/* Move records both ways without waiting.  Returns 1 if anything moved. */
static int
ceil_step(ceil_pair *p)
{
    if (p->cfd < 0)
        return ceil_xfer_mem(&p->cc.eng, &p->sc.eng) | ceil_xfer_mem(&p->sc.eng, &p->cc.eng);
    return ceil_io_tcp(&p->cc.eng, p->cfd) | ceil_io_tcp(&p->sc.eng, p->sfd);
}

/* ceil_step, and when nothing moved over TCP, wait (bounded) for the
   kernel.  Returns 0 only when nothing can move any more (memory). */
static int
ceil_pump(ceil_pair *p)
{
    struct pollfd pf[2];
    if (ceil_step(p))
        return 1;
    if (p->cfd < 0)
        return 0;
    pf[0].fd = p->cfd;
    pf[1].fd = p->sfd;
    pf[0].events = (short)(POLLIN | (br_ssl_engine_sendrec_buf(&p->cc.eng, &(size_t){0}) ? POLLOUT : 0));
    pf[1].events = (short)(POLLIN | (br_ssl_engine_sendrec_buf(&p->sc.eng, &(size_t){0}) ? POLLOUT : 0));
    pf[0].revents = pf[1].revents = 0;
    poll(pf, 2, 50);
    return 1;
}

static int
ceil_open(const br_ssl_engine_context *e)
{
    return (br_ssl_engine_current_state(e) & BR_SSL_SENDAPP) != 0;
}

static int
ceil_closed(const br_ssl_engine_context *e)
{
    return (br_ssl_engine_current_state(e) & BR_SSL_CLOSED) != 0;
}

/* ---- loopback TCP connection --------------------------------------------- */

/* Operations (connections, or bytes for bulk) of the last measurement:
   with callgrind, instructions per operation = total / this. */
static double bench_last_ops;

static int ceil_listen_fd = -1;
static struct sockaddr_in ceil_listen_addr;

static void
ceil_tcp_listen(void)
{
    socklen_t l = sizeof ceil_listen_addr;
    int one = 1;
    if (ceil_listen_fd >= 0)
        return;
    ceil_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(ceil_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&ceil_listen_addr, 0, sizeof ceil_listen_addr);
    ceil_listen_addr.sin_family = AF_INET;
    ceil_listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ceil_listen_fd, (struct sockaddr *)&ceil_listen_addr, sizeof ceil_listen_addr) < 0
        || listen(ceil_listen_fd, 128) < 0
        || getsockname(ceil_listen_fd, (struct sockaddr *)&ceil_listen_addr, &l) < 0)
        bench_die("listen: %s", strerror(errno));
}

static void
ceil_tcp_connect(ceil_pair *p)
{
    int one = 1;
    ceil_tcp_listen();
    p->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(p->cfd, (struct sockaddr *)&ceil_listen_addr, sizeof ceil_listen_addr) < 0)
        bench_die("connect: %s", strerror(errno));
    p->sfd = accept4(ceil_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (p->sfd < 0)
        bench_die("accept: %s", strerror(errno));
    fcntl(p->cfd, F_SETFL, fcntl(p->cfd, F_GETFL) | O_NONBLOCK);
    setsockopt(p->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(p->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void
ceil_tcp_close(ceil_pair *p)
{
    if (p->cfd >= 0)
        close(p->cfd);
    if (p->sfd >= 0)
        close(p->sfd);
    p->cfd = p->sfd = -1;
}

/* ---- the measured operations -------------------------------------------- */

/* One connection: handshake (resumed when `resume` and a session is
   saved), then close_notify from the client.  Returns 0 or -1. */
static int
ceil_connection(ceil_pair *p, int mode, int rsa, uint16_t suite, int resume, int tcp)
{
    int i, ok;
    p->cfd = p->sfd = -1;
    if (tcp)
        ceil_tcp_connect(p);
    ceil_setup(p, mode, rsa, suite);
    if (resume && p->have_sess)
        br_ssl_engine_set_session_parameters(&p->cc.eng, &p->sess);
    if (!br_ssl_client_reset(&p->cc, "localhost", resume && p->have_sess)
        || !br_ssl_server_reset(&p->sc))
        bench_die("reset failed");
    for (i = 0; i < 100000 && !(ceil_open(&p->cc.eng) && ceil_open(&p->sc.eng)); i++)
        if (!ceil_pump(p) || ceil_closed(&p->cc.eng) || ceil_closed(&p->sc.eng))
            break;
    ok = ceil_open(&p->cc.eng) && ceil_open(&p->sc.eng);
    if (!ok) {
        fprintf(stderr, "ceiling handshake failed: client %d server %d\n",
                br_ssl_engine_last_error(&p->cc.eng), br_ssl_engine_last_error(&p->sc.eng));
        ceil_tcp_close(p);
        return -1;
    }
    if (!p->have_sess) {
        br_ssl_engine_get_session_parameters(&p->cc.eng, &p->sess);
        p->have_sess = 1;
    }
    br_ssl_engine_close(&p->cc.eng);
    for (i = 0; i < 1000 && !(ceil_closed(&p->cc.eng) && ceil_closed(&p->sc.eng)); i++)
        if (!ceil_pump(p))
            break;
    ceil_tcp_close(p);
    return 0;
}

/* Connections per second over `secs` (at least 3 connections). */
static double
ceil_handshakes(int mode, int rsa, uint16_t suite, int resume, int tcp, double secs)
{
    static ceil_pair p;
    double t0, t;
    long n = 0;
    /* the session of an earlier resumed run of the same kind is kept, so that
       a resumed run measures resumption only */
    if (p.sess_kind != (rsa << 16 | suite))
        p.have_sess = 0;
    p.sess_kind = rsa << 16 | suite;
    if (resume && !p.have_sess && ceil_connection(&p, mode, rsa, suite, 0, tcp) < 0)
        return 0;
    t0 = bench_clock();
    do {
        if (ceil_connection(&p, mode, rsa, suite, resume, tcp) < 0)
            return 0;
        n++;
        t = bench_clock() - t0;
    } while (t < secs || n < 3);
    bench_last_ops = (double)n;
    return (double)n / t;
}

/* TCP bulk with the fewest syscalls BearSSL's API allows (no read-ahead):
   the client sends its record, the server reads the 5-byte header and the
   body (both already there: loopback delivers inside send()), and nobody
   tries a receive that would only return EAGAIN.  Returns bytes delivered. */
static size_t
ceil_tcp_record(ceil_pair *p, unsigned char *dst)
{
    size_t len, got = 0;
    unsigned char *buf;
    while ((buf = br_ssl_engine_sendrec_buf(&p->cc.eng, &len)) != NULL) {
        ssize_t n = send(p->cfd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            br_ssl_engine_sendrec_ack(&p->cc.eng, (size_t)n);
            continue;
        }
        break; /* socket buffer full: the server reads first */
    }
    for (;;) {
        ssize_t n;
        if ((buf = br_ssl_engine_recvapp_buf(&p->sc.eng, &len)) != NULL) {
            if (len > CEIL_RECORD)
                len = CEIL_RECORD;
            memcpy(dst, buf, len);
            br_ssl_engine_recvapp_ack(&p->sc.eng, len);
            got += len;
            if (br_ssl_engine_sendrec_buf(&p->cc.eng, &len) == NULL)
                return got; /* the record sent is consumed */
            continue;
        }
        if ((buf = br_ssl_engine_recvrec_buf(&p->sc.eng, &len)) == NULL)
            bench_die("tcp bulk: server engine stuck");
        n = recv(p->sfd, buf, len, 0);
        if (n > 0) {
            br_ssl_engine_recvrec_ack(&p->sc.eng, (size_t)n);
        } else if (n < 0 && errno == EAGAIN) {
            /* more is queued on the client side: push it */
            while ((buf = br_ssl_engine_sendrec_buf(&p->cc.eng, &len)) != NULL) {
                n = send(p->cfd, buf, len, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                br_ssl_engine_sendrec_ack(&p->cc.eng, (size_t)n);
            }
            if (br_ssl_engine_sendrec_buf(&p->cc.eng, &len) == NULL && got > 0)
                return got;
        } else {
            bench_die("tcp bulk: recv: %s", n == 0 ? "EOF" : strerror(errno));
        }
    }
}

/* One direction, 16 KiB records: MB/s (1e6 bytes) of application data
   copied in from a buffer on one side and out to a buffer on the other. */
static double
ceil_bulk(uint16_t suite, int tcp, double secs)
{
    static ceil_pair p;
    static unsigned char src[CEIL_RECORD], dst[CEIL_RECORD];
    double t0, t = 0;
    long long bytes = 0;
    long rec = 0;
    int i, moved;
    memset(src, 'x', sizeof src);
    p.cfd = p.sfd = -1;
    if (tcp)
        ceil_tcp_connect(&p);
    ceil_setup(&p, CEIL_FAST, 0, suite);
    if (!br_ssl_client_reset(&p.cc, "localhost", 0) || !br_ssl_server_reset(&p.sc))
        bench_die("reset failed");
    for (i = 0; i < 100000 && !(ceil_open(&p.cc.eng) && ceil_open(&p.sc.eng)); i++)
        if (!ceil_pump(&p))
            break;
    if (!(ceil_open(&p.cc.eng) && ceil_open(&p.sc.eng)))
        bench_die("bulk handshake failed");
    t0 = bench_clock();
    for (;;) {
        size_t len;
        unsigned char *buf = br_ssl_engine_sendapp_buf(&p.cc.eng, &len);
        if (buf != NULL) {
            if (len > sizeof src)
                len = sizeof src;
            memcpy(buf, src, len);
            br_ssl_engine_sendapp_ack(&p.cc.eng, len);
            br_ssl_engine_flush(&p.cc.eng, 0);
        }
        if (tcp) {
            bytes += ceil_tcp_record(&p, dst);
            goto timecheck;
        }
        moved = ceil_step(&p);
        while ((buf = br_ssl_engine_recvapp_buf(&p.sc.eng, &len)) != NULL) {
            if (len > sizeof dst)
                len = sizeof dst;
            memcpy(dst, buf, len);
            br_ssl_engine_recvapp_ack(&p.sc.eng, len);
            bytes += (long long)len;
            moved = 1;
            ceil_step(&p);
        }
        if (!moved)
            ceil_pump(&p);
        if (ceil_closed(&p.cc.eng) || ceil_closed(&p.sc.eng))
            bench_die("bulk: engine closed (%d/%d)", br_ssl_engine_last_error(&p.cc.eng),
                      br_ssl_engine_last_error(&p.sc.eng));
    timecheck:
        if ((++rec & 15) == 0 && (t = bench_clock() - t0) >= secs)
            break;
    }
    ceil_tcp_close(&p);
    bench_last_ops = (double)bytes;
    return (double)bytes / t / 1e6;
}

#endif
