/* Tests for the credential loaders of sslsocket.h. All keys and certificates are generated at test time with the
 * openssl command line tool into a mkdtemp() directory, removed at the end.
 * Build: cc -std=c99 -D_GNU_SOURCE tests/test_loaders.c -lbearssl */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *g_test;
static int g_test_failed, g_passed, g_failed;
static char g_dir[256];
static char g_err[512];

#define CHECK(expr) \
    do { \
        if (!(expr)) { \
            printf("[ FAIL ] %s %s:%d %s\n", g_test, __FILE__, __LINE__, #expr); \
            printf("         err: \"%s\"\n", g_err); \
            g_test_failed = 1; \
        } \
    } while (0)

#define CONTAINS(hay, needle) (strstr((hay), (needle)) != NULL)

static void
run(const char *name, void (*fn)(void))
{
    g_test = name;
    g_test_failed = 0;
    g_err[0] = '\0';
    printf("[ RUN  ] %s\n", name);
    fflush(stdout);
    fn();
    if (g_test_failed) {
        g_failed++;
    } else {
        printf("[ OK   ] %s\n", name);
        g_passed++;
    }
    fflush(stdout);
}

#define RUN(fn) run(#fn, fn)

/* ------------------------------------------------------------------ helpers */

static const char *
P(const char *name)
{
    static char bufs[8][512];
    static int i;
    char *b = bufs[i++ & 7];

    snprintf(b, 512, "%s/%s", g_dir, name);
    return b;
}

static unsigned char *
slurp(const char *name, size_t *len)
{
    FILE *f = fopen(P(name), "rb");
    unsigned char *buf;
    long n;

    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", P(name));
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void
spit(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(P(name), "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len) {
        exit(2);
    }
    fclose(f);
}

static int
sh(const char *cmd)
{
    char full[4096];
    int r;

    snprintf(full, sizeof full, "cd '%s' && { %s ; } >/dev/null 2>&1", g_dir, cmd);
    r = system(full);
    if (r != 0) {
        fprintf(stderr, "command failed (%d): %s\n", r, cmd);
    }
    return r;
}

/* An arena over a buffer with guard bytes around it, to catch any write outside. */
#define GUARD 64
static unsigned char g_mem[GUARD + 16 + 64 * 1024 + GUARD];

static void
arena_fresh(sslsocket__arena *a, size_t size, size_t misalign)
{
    memset(g_mem, 0xA5, GUARD + misalign + size + GUARD);
    sslsocket__arena_init(a, g_mem + GUARD + misalign, size);
}

static int
guards_ok(size_t size, size_t misalign)
{
    size_t i;

    for (i = 0; i < GUARD + misalign; i++) {
        if (g_mem[i] != 0xA5) {
            return 0;
        }
    }
    for (i = GUARD + misalign + size; i < GUARD + misalign + size + GUARD; i++) {
        if (g_mem[i] != 0xA5) {
            return 0;
        }
    }
    return 1;
}

static unsigned
validate(const br_x509_trust_anchor *tas, size_t ntas, const br_x509_certificate *chain,
    size_t n, const char *server)
{
    br_x509_minimal_context xc;
    const br_x509_class **vt = &xc.vtable;
    size_t i;

    br_x509_minimal_init_full(&xc, tas, ntas);
    xc.vtable->start_chain(vt, server);
    for (i = 0; i < n; i++) {
        xc.vtable->start_cert(vt, (uint32_t)chain[i].data_len);
        xc.vtable->append(vt, chain[i].data, chain[i].data_len);
        xc.vtable->end_cert(vt);
    }
    return xc.vtable->end_chain(vt);
}

static size_t
count_str(const unsigned char *data, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle), i;

    for (i = 0; i + nl <= len; i++) {
        if (memcmp(data + i, needle, nl) == 0) {
            n++;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ material */

static int
generate(void)
{
    static const char *const cmds[] = {
        /* keys */
        "openssl genrsa -traditional -out rsa2048.pem 2048",
        "openssl genrsa -traditional -out rsa4096.pem 4096",
        "openssl ecparam -name prime256v1 -genkey -out ec256.params.pem",
        "openssl ecparam -name secp384r1 -genkey -out ec384.params.pem",
        "openssl ec -in ec256.params.pem -out ec256.pem",
        "openssl ec -in ec384.params.pem -out ec384.pem",
        "openssl ecparam -name prime256v1 -genkey -noout -out ec256b.pem",
        "for k in rsa2048 rsa4096 ec256 ec384; do"
        "  openssl pkey -in $k.pem -out $k.p8.pem &&"
        "  openssl pkey -in $k.pem -outform DER -out $k.p8.der || exit 1; done",
        "openssl rsa -in rsa2048.pem -traditional -outform DER -out rsa2048.der",
        "openssl rsa -in rsa4096.pem -traditional -outform DER -out rsa4096.der",
        "openssl ec -in ec256.pem -outform DER -out ec256.der",
        "openssl ec -in ec384.pem -outform DER -out ec384.der",
        /* refused keys */
        "openssl pkey -in rsa2048.pem -aes128 -passout pass:secret -out enc.p8.pem",
        "openssl pkcs8 -topk8 -in rsa2048.pem -v2 aes128 -passout pass:secret -outform DER"
        " -out enc.p8.der",
        "openssl rsa -in rsa2048.pem -aes128 -passout pass:secret -traditional -out enc.legacy.pem",
        "openssl dsaparam -genkey -out dsa.params.pem 1024",
        "openssl pkey -in dsa.params.pem -out dsa.p8.pem",
        "openssl pkey -in dsa.p8.pem -traditional -out dsa.trad.pem",
        "openssl genpkey -algorithm ed25519 -out ed25519.pem",
        "openssl genpkey -algorithm x25519 -out x25519.pem",
        "openssl ecparam -name secp256k1 -genkey -noout -out k1.sec1.pem",
        "openssl pkey -in k1.sec1.pem -out k1.p8.pem",
        "openssl ec -in ec256.pem -param_enc explicit -out ec256.explicit.pem",
        "openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:1024 -out pss.pem",
        /* chain: RSA root, EC intermediate, RSA leaf */
        "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n'"
        " > ca.ext",
        "printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\n"
        "keyUsage=critical,keyCertSign,cRLSign\\n' > inter.ext",
        "printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature,keyEncipherment"
        "\\nextendedKeyUsage=serverAuth\\nsubjectAltName=DNS:leaf.test\\n' > leaf.ext",
        "printf 'basicConstraints=CA:FALSE\\nsubjectAltName=DNS:self.test\\n' > self.ext",
        "openssl req -new -key rsa4096.pem -subj '/CN=Test Root CA' -out ca.csr",
        "openssl x509 -req -in ca.csr -signkey rsa4096.pem -days 30 -extfile ca.ext -out ca.pem",
        "openssl req -new -key ec384.pem -subj '/CN=Test Intermediate CA' -out inter.csr",
        "openssl x509 -req -in inter.csr -CA ca.pem -CAkey rsa4096.pem -CAcreateserial -days 30"
        " -extfile inter.ext -out inter.pem",
        "openssl req -new -key rsa2048.pem -subj '/CN=leaf.test' -out leaf.csr",
        "openssl x509 -req -in leaf.csr -CA inter.pem -CAkey ec384.pem -CAcreateserial -days 30"
        " -extfile leaf.ext -out leaf.pem",
        "cat leaf.pem inter.pem ca.pem > chain.pem",
        "openssl x509 -in ca.pem -outform DER -out ca.der",
        "openssl x509 -in leaf.pem -outform DER -out leaf.der",
        "openssl x509 -in ca.pem -trustout -addtrust serverAuth -out ca.trusted.pem",
        /* an unrelated CA, a non-CA self-signed certificate, more certs for the keys */
        "openssl req -x509 -key ec256b.pem -subj '/CN=Other CA' -days 30 -out other_ca.pem",
        "openssl req -new -key ec256.pem -subj '/CN=self.test' -out self.csr",
        "openssl x509 -req -in self.csr -signkey ec256.pem -days 30 -extfile self.ext"
        " -out self.pem",
        "openssl req -x509 -key rsa4096.pem -subj '/CN=r4' -days 30 -out rsa4096.crt",
        "openssl req -x509 -key ec384.pem -subj '/CN=e3' -days 30 -out ec384.crt",
        /* combined files and odd inputs */
        "cat rsa2048.pem leaf.pem > combined.pem",
        "mkdir certsdir certsdir/sub && cp ca.pem certsdir/ca.pem"
        " && cp other_ca.pem certsdir/other.crt && cp ca.pem certsdir/.hidden.pem"
        " && echo garbage > certsdir/garbage.txt && cp rsa2048.pem certsdir/key.pem"
        " && ln -s ca.pem certsdir/dup.0 && mkfifo certsdir/fifo",
        "mkdir emptydir",
        "sed 's/$/\r/' chain.pem > chain.crlf.pem && printf '\357\273\277' > bom.pem"
        " && cat ca.pem >> bom.pem && cat leaf.der leaf.der > leaf2.der",
        "openssl req -x509 -key ed25519.pem -subj '/CN=Ed CA' -days 30 -out ed_ca.pem"
        " && cat ed_ca.pem ca.pem > mixed_bundle.pem",
        ": > empty.pem",
        "head -c 3000 /dev/urandom > garbage.bin",
    };
    size_t i;

    for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (sh(cmds[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ tests */

static void
test_arena_init(void)
{
    sslsocket__arena a;
    size_t mis, n;

    for (mis = 0; mis < 16; mis++) {
        arena_fresh(&a, 1000, mis);
        CHECK((uintptr_t)a.base % SSLSOCKET__LD_ALIGN_MAX == 0);
        CHECK(((uintptr_t)(a.base + a.hi)) % SSLSOCKET__LD_ALIGN_TA == 0);
        CHECK(a.base + a.size <= g_mem + GUARD + mis + 1000);
        CHECK(a.lo == 0 && a.n_anchors == 0);
        CHECK(sslsocket__arena_anchors(&a, &n) == NULL && n == 0);
        CHECK(sslsocket__arena_used(&a) <= SSLSOCKET__LD_ALIGN_TA);
    }
    sslsocket__arena_init(&a, NULL, 100);
    CHECK(a.size == 0 && a.base == NULL);
    CHECK(sslsocket__load_anchors_file(&a, P("ca.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "out of space"));
    sslsocket__arena_init(&a, g_mem + 1, 3);
    CHECK(a.size <= 3);
}

static void
test_anchors_chain_pem(void)
{
    sslsocket__arena a;
    const br_x509_trust_anchor *tas;
    size_t n, i, nca = 0;

    arena_fresh(&a, 64 * 1024, 0);
    CHECK(sslsocket__load_anchors_file(&a, P("chain.pem"), g_err, sizeof g_err) == 3);
    tas = sslsocket__arena_anchors(&a, &n);
    CHECK(n == 3 && tas != NULL);
    for (i = 0; i < n; i++) {
        nca += (tas[i].flags & BR_X509_TA_CA) != 0;
        CHECK(tas[i].dn.len > 0);
        CHECK(tas[i].pkey.key_type == BR_KEYTYPE_RSA || tas[i].pkey.key_type == BR_KEYTYPE_EC);
    }
    CHECK(nca == 2);    /* root + intermediate; the leaf is no CA */
    /* duplicates are loaded once, across calls */
    CHECK(sslsocket__load_anchors_file(&a, P("ca.pem"), g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_anchors_file(&a, P("ca.der"), g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_anchors_file(&a, P("ca.trusted.pem"), g_err, sizeof g_err) == 0);
    CHECK(a.n_anchors == 3);
    CHECK(guards_ok(64 * 1024, 0));
}

static void
test_anchors_formats(void)
{
    sslsocket__arena a;
    const br_x509_trust_anchor *tas;
    size_t n;

    arena_fresh(&a, 16 * 1024, 3);
    CHECK(sslsocket__load_anchors_file(&a, P("ca.der"), g_err, sizeof g_err) == 1);
    tas = sslsocket__arena_anchors(&a, &n);
    CHECK(n == 1 && (tas[0].flags & BR_X509_TA_CA) && tas[0].pkey.key_type == BR_KEYTYPE_RSA);
    CHECK(tas[0].pkey.key.rsa.nlen == 512);

    arena_fresh(&a, 16 * 1024, 0);
    CHECK(sslsocket__load_anchors_file(&a, P("ca.trusted.pem"), g_err, sizeof g_err) == 1);
    CHECK(sslsocket__load_anchors_file(&a, P("combined.pem"), g_err, sizeof g_err) == 1);

    arena_fresh(&a, 16 * 1024, 0);
    CHECK(sslsocket__load_anchors_file(&a, P("chain.crlf.pem"), g_err, sizeof g_err) == 3);
    CHECK(sslsocket__load_anchors_file(&a, P("bom.pem"), g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_anchors_file(&a, P("leaf2.der"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "unexpected data after its end"));
    /* BearSSL cannot decode an Ed25519 certificate: strict loading fails */
    CHECK(sslsocket__load_anchors_file(&a, P("mixed_bundle.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "certificate 1 in") && CONTAINS(g_err, "BR_ERR_X509_"));
    CHECK(a.n_anchors == 3);

    /* non-CA self-signed: still an anchor, without the CA flag */
    arena_fresh(&a, 16 * 1024, 0);
    CHECK(sslsocket__load_anchors_file(&a, P("self.pem"), g_err, sizeof g_err) == 1);
    tas = sslsocket__arena_anchors(&a, &n);
    CHECK(n == 1 && tas[0].flags == 0 && tas[0].pkey.key_type == BR_KEYTYPE_EC);
    CHECK(tas[0].pkey.key.ec.curve == BR_EC_secp256r1);
}

static void
test_anchors_errors(void)
{
    sslsocket__arena a;
    static const char badpem[] = "hello\n-----BEGIN CERTIFICATE-----\nMIIB\n!!!!\n"
        "-----END CERTIFICATE-----\n";
    static const char nocert[] = "just some text\nwithout any PEM\n";
    unsigned char big[1];

    arena_fresh(&a, 16 * 1024, 0);
    CHECK(sslsocket__load_anchors_file(&a, P("empty.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "no certificate found in") && CONTAINS(g_err, "empty"));
    CHECK(sslsocket__load_anchors_file(&a, P("garbage.bin"), g_err, sizeof g_err) == -1);
    CHECK(g_err[0] != '\0');
    CHECK(sslsocket__load_anchors_file(&a, P("nonexistent.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "cannot open") && CONTAINS(g_err, "no such file"));
    CHECK(sslsocket__load_anchors_file(&a, g_dir, g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "is a directory"));
    CHECK(sslsocket__load_anchors_file(&a, P("rsa2048.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "no certificate found") && CONTAINS(g_err, "\"RSA PRIVATE KEY\""));
    CHECK(sslsocket__load_anchors_file(&a, P("rsa2048.der"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "certificate 1 in") && CONTAINS(g_err, "looks like a private key"));
    CHECK(sslsocket__load_anchors_mem(&a, badpem, sizeof badpem - 1, "badpem", g_err,
        sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "bad PEM in badpem (line 4"));
    CHECK(sslsocket__load_anchors_mem(&a, nocert, sizeof nocert - 1, "text", g_err,
        sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "no certificate found in text"));
    CHECK(sslsocket__load_anchors_mem(&a, big, 0, NULL, g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "memory buffer"));
    CHECK(a.lo == 0 && a.n_anchors == 0);
    /* a file larger than the cap (sparse): refused before reading */
    {
        int fd = open(P("huge.pem"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0 && ftruncate(fd, (off_t)SSLSOCKET_MAX_FILE_SIZE + 1) == 0);
        close(fd);
    }
    CHECK(sslsocket__load_anchors_file(&a, P("huge.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "too large") && CONTAINS(g_err, "SSLSOCKET_MAX_FILE_SIZE"));
    /* a malformed certificate in the middle: everything of this call is rolled back */
    {
        size_t len;
        unsigned char *d = slurp("chain.pem", &len);
        unsigned char *mid = (unsigned char *)strstr((char *)d, "-----END CERTIFICATE-----");
        mid = (unsigned char *)strstr((char *)mid + 30, "MII");
        mid[0] = 'A';   /* the outer tag is no SEQUENCE any more */
        CHECK(sslsocket__load_anchors_mem(&a, d, len, "bent.pem", g_err, sizeof g_err) == -1);
        CHECK(CONTAINS(g_err, "certificate 2 in bent.pem is malformed (BR_ERR_X509_"));
        CHECK(a.lo == 0 && a.n_anchors == 0);
        free(d);
    }
    CHECK(guards_ok(16 * 1024, 0));
}

static void
test_anchors_validate(void)
{
    static br_x509_certificate chain[4];
    sslsocket__arena a, b, c;
    static unsigned char mem_b[32 * 1024], mem_c[8 * 1024];
    const br_x509_trust_anchor *tas;
    size_t n, ntas;

    arena_fresh(&a, 64 * 1024, 0);
    CHECK(sslsocket__load_chain_file(&a, P("chain.pem"), chain, 4, &n, g_err,
        sizeof g_err) == 3);
    CHECK(n == 3);
    sslsocket__arena_init(&b, mem_b, sizeof mem_b);
    CHECK(sslsocket__load_anchors_file(&b, P("ca.pem"), g_err, sizeof g_err) == 1);
    tas = sslsocket__arena_anchors(&b, &ntas);
    CHECK(validate(tas, ntas, chain, 2, "leaf.test") == 0);
    CHECK(validate(tas, ntas, chain, 3, "leaf.test") == 0);
    CHECK(validate(tas, ntas, chain, 2, "other.test") == BR_ERR_X509_BAD_SERVER_NAME);
    CHECK(validate(tas, ntas, chain, 1, "leaf.test") == BR_ERR_X509_NOT_TRUSTED);
    /* an unrelated CA does not validate it */
    sslsocket__arena_init(&c, mem_c, sizeof mem_c);
    CHECK(sslsocket__load_anchors_file(&c, P("other_ca.pem"), g_err, sizeof g_err) == 1);
    tas = sslsocket__arena_anchors(&c, &ntas);
    CHECK(validate(tas, ntas, chain, 2, "leaf.test") == BR_ERR_X509_NOT_TRUSTED);
    /* direct trust of a non-CA self-signed certificate */
    CHECK(sslsocket__load_anchors_file(&c, P("self.pem"), g_err, sizeof g_err) == 1);
    tas = sslsocket__arena_anchors(&c, &ntas);
    CHECK(ntas == 2);
    CHECK(sslsocket__load_chain_file(&a, P("self.pem"), chain, 4, &n, g_err,
        sizeof g_err) == 1);
    CHECK(validate(tas, ntas, chain, 1, "self.test") == 0);
}

static void
test_chain(void)
{
    br_x509_certificate chain[4];
    sslsocket__arena a;
    size_t n, len, lo;
    unsigned char *der = slurp("leaf.der", &len);

    arena_fresh(&a, 64 * 1024, 5);
    CHECK(sslsocket__load_chain_file(&a, P("chain.pem"), chain, 4, &n, g_err,
        sizeof g_err) == 3);
    /* leaf first, exactly the DER of the file */
    CHECK(chain[0].data_len == len && memcmp(chain[0].data, der, len) == 0);
    CHECK(sslsocket__load_chain_file(&a, P("leaf.der"), chain, 4, &n, g_err,
        sizeof g_err) == 1);
    CHECK(n == 1 && chain[0].data_len == len && memcmp(chain[0].data, der, len) == 0);
    CHECK(sslsocket__load_chain_file(&a, P("combined.pem"), chain, 4, &n, g_err,
        sizeof g_err) == 1);
    CHECK(sslsocket__load_chain_file(&a, P("ca.trusted.pem"), chain, 4, &n, g_err,
        sizeof g_err) == 1);
    lo = a.lo;
    CHECK(sslsocket__load_chain_file(&a, P("chain.pem"), chain, 2, &n, g_err,
        sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "too many certificates") && n == 0 && a.lo == lo);
    CHECK(sslsocket__load_chain_file(&a, P("rsa2048.pem"), chain, 4, &n, g_err,
        sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "no certificate found") && a.lo == lo);
    CHECK(sslsocket__load_chain_file(&a, P("nope"), chain, 4, &n, g_err, sizeof g_err) == -1);
    CHECK(sslsocket__load_chain_mem(&a, der, len - 1, "cut.der", chain, 4, &n, g_err,
        sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "certificate 1 in cut.der is malformed (BR_ERR_X509_TRUNCATED"));
    CHECK(a.lo == lo);
    CHECK(guards_ok(64 * 1024, 5));
    free(der);
}

struct keycase {
    const char *file;
    int type;
    int curve;
    const char *cert;
};

static void
test_keys_load_and_match(void)
{
    static const struct keycase cases[] = {
        { "rsa2048.pem", BR_KEYTYPE_RSA, 0, "leaf.pem" },
        { "rsa2048.p8.pem", BR_KEYTYPE_RSA, 0, "leaf.pem" },
        { "rsa2048.der", BR_KEYTYPE_RSA, 0, "leaf.pem" },
        { "rsa2048.p8.der", BR_KEYTYPE_RSA, 0, "leaf.pem" },
        { "combined.pem", BR_KEYTYPE_RSA, 0, "leaf.pem" },
        { "rsa4096.pem", BR_KEYTYPE_RSA, 0, "rsa4096.crt" },
        { "rsa4096.p8.pem", BR_KEYTYPE_RSA, 0, "ca.pem" },
        { "rsa4096.der", BR_KEYTYPE_RSA, 0, "ca.pem" },
        { "rsa4096.p8.der", BR_KEYTYPE_RSA, 0, "rsa4096.crt" },
        { "ec256.pem", BR_KEYTYPE_EC, BR_EC_secp256r1, "self.pem" },
        { "ec256.params.pem", BR_KEYTYPE_EC, BR_EC_secp256r1, "self.pem" },
        { "ec256.p8.pem", BR_KEYTYPE_EC, BR_EC_secp256r1, "self.pem" },
        { "ec256.der", BR_KEYTYPE_EC, BR_EC_secp256r1, "self.pem" },
        { "ec256.p8.der", BR_KEYTYPE_EC, BR_EC_secp256r1, "self.pem" },
        { "ec384.pem", BR_KEYTYPE_EC, BR_EC_secp384r1, "inter.pem" },
        { "ec384.params.pem", BR_KEYTYPE_EC, BR_EC_secp384r1, "ec384.crt" },
        { "ec384.p8.pem", BR_KEYTYPE_EC, BR_EC_secp384r1, "inter.pem" },
        { "ec384.der", BR_KEYTYPE_EC, BR_EC_secp384r1, "ec384.crt" },
        { "ec384.p8.der", BR_KEYTYPE_EC, BR_EC_secp384r1, "inter.pem" },
        { "ec256b.pem", BR_KEYTYPE_EC, BR_EC_secp256r1, "other_ca.pem" },
    };
    br_x509_certificate chain[4];
    sslsocket__arena a;
    sslsocket__key key;
    size_t i, n;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena_fresh(&a, 32 * 1024, i % 8);
        CHECK(sslsocket__load_key_file(&a, P(cases[i].file), &key, g_err, sizeof g_err) == 0);
        if (key.type != cases[i].type) {
            printf("         key file %s\n", cases[i].file);
        }
        CHECK(key.type == cases[i].type);
        if (cases[i].type == BR_KEYTYPE_EC) {
            CHECK(key.ec.curve == cases[i].curve);
        }
        CHECK(sslsocket__load_chain_file(&a, P(cases[i].cert), chain, 4, &n, g_err,
            sizeof g_err) >= 1);
        if (sslsocket__key_matches_cert(&key, &chain[0], g_err, sizeof g_err) != 1) {
            printf("         key file %s vs %s\n", cases[i].file, cases[i].cert);
            CHECK(0);
        }
        CHECK(guards_ok(32 * 1024, i % 8));
    }
}

static void
test_keys_mismatch(void)
{
    br_x509_certificate chain[4], self[1], other[1];
    sslsocket__arena a;
    sslsocket__key rsa2048, rsa4096, ec256, ec384, ec256b, none;
    size_t n;

    arena_fresh(&a, 64 * 1024, 0);
    CHECK(sslsocket__load_key_file(&a, P("rsa2048.pem"), &rsa2048, g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_key_file(&a, P("rsa4096.pem"), &rsa4096, g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_key_file(&a, P("ec256.pem"), &ec256, g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_key_file(&a, P("ec384.pem"), &ec384, g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_key_file(&a, P("ec256b.pem"), &ec256b, g_err, sizeof g_err) == 0);
    CHECK(sslsocket__load_chain_file(&a, P("chain.pem"), chain, 4, &n, g_err,
        sizeof g_err) == 3);
    CHECK(sslsocket__load_chain_file(&a, P("self.pem"), self, 1, &n, g_err, sizeof g_err) == 1);
    CHECK(sslsocket__load_chain_file(&a, P("other_ca.pem"), other, 1, &n, g_err,
        sizeof g_err) == 1);
    CHECK(sslsocket__key_matches_cert(&rsa2048, &chain[0], g_err, sizeof g_err) == 1);
    CHECK(sslsocket__key_matches_cert(&rsa4096, &chain[0], g_err, sizeof g_err) == 0);
    CHECK(CONTAINS(g_err, "does not match") && CONTAINS(g_err, "modulus"));
    CHECK(sslsocket__key_matches_cert(&rsa4096, &chain[2], g_err, sizeof g_err) == 1);
    CHECK(sslsocket__key_matches_cert(&ec256, &chain[0], g_err, sizeof g_err) == 0);
    CHECK(CONTAINS(g_err, "the private key is EC but the certificate's key is RSA"));
    CHECK(sslsocket__key_matches_cert(&ec384, &self[0], g_err, sizeof g_err) == 0);
    CHECK(CONTAINS(g_err, "curve"));
    CHECK(sslsocket__key_matches_cert(&ec256b, &self[0], g_err, sizeof g_err) == 0);
    CHECK(CONTAINS(g_err, "different EC public point"));
    CHECK(sslsocket__key_matches_cert(&ec256, &other[0], g_err, sizeof g_err) == 0);
    CHECK(sslsocket__key_matches_cert(&ec256b, &other[0], g_err, sizeof g_err) == 1);
    memset(&none, 0, sizeof none);
    CHECK(sslsocket__key_matches_cert(&none, &chain[0], g_err, sizeof g_err) == -1);
    CHECK(sslsocket__key_matches_cert(&ec256, NULL, g_err, sizeof g_err) == -1);
}

static void
test_keys_refused(void)
{
    static const struct {
        const char *file;
        const char *msg;
    } cases[] = {
        { "enc.p8.pem", "encrypted private keys are not supported: decrypt with openssl pkey" },
        { "enc.p8.der", "encrypted private keys are not supported: decrypt with openssl pkey" },
        { "enc.legacy.pem", "Proc-Type: 4,ENCRYPTED" },
        { "dsa.p8.pem", "DSA keys are not supported by BearSSL" },
        { "dsa.trad.pem", "DSA keys are not supported by BearSSL" },
        { "dsa.params.pem", "DSA keys are not supported by BearSSL" },
        { "ed25519.pem", "Ed25519/Ed448 keys are not supported" },
        { "x25519.pem", "X25519/X448 keys cannot sign" },
        { "k1.sec1.pem", "unsupported elliptic curve" },
        { "k1.p8.pem", "unsupported elliptic curve secp256k1 (OID 1.3.132.0.10)" },
        { "ec256.explicit.pem", "explicit curve parameters" },
        { "pss.pem", "RSA-PSS keys" },
        { "ca.pem", "no private key found" },
        { "ca.der", "it looks like a certificate" },
        { "empty.pem", "(it is empty)" },
        { "garbage.bin", "" },
        { "nonexistent.pem", "no such file or directory" },
        { "certsdir", "is a directory" },
        { "huge.pem", "too large" },
        { "certsdir/fifo", "not a regular file" },
    };
    sslsocket__arena a;
    sslsocket__key key;
    size_t i;

    arena_fresh(&a, 32 * 1024, 0);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g_err[0] = '\0';
        key.type = 77;
        if (sslsocket__load_key_file(&a, P(cases[i].file), &key, g_err, sizeof g_err) != -1
            || !CONTAINS(g_err, cases[i].msg) || g_err[0] == '\0') {
            printf("         %s: got \"%s\", want \"%s\"\n", cases[i].file, g_err,
                cases[i].msg);
            CHECK(0);
        } else if (getenv("TEST_LOADERS_VERBOSE") != NULL) {
            printf("         %s\n", g_err);
        }
        CHECK(key.type == 0 && a.lo == 0);
    }
    CHECK(guards_ok(32 * 1024, 0));
}

static int
near_dashes(const unsigned char *d, size_t len, size_t at)
{
    size_t lo = at > 80 ? at - 80 : 0, hi = at + 80 < len ? at + 80 : len;

    return count_str(d + lo, hi - lo, "-----") > 0;
}

/* Every cut of a PEM file loads either all the blocks that are complete, or fails. */
static void
test_truncated(void)
{
    static const char *const pems[] = { "chain.pem", "ec256.params.pem", "rsa2048.p8.pem" };
    static const char *const ders[] = { "ca.der", "ec384.der", "rsa2048.p8.der" };
    br_x509_certificate chain[4];
    sslsocket__arena a;
    sslsocket__key key;
    size_t f, len, cut, begins, ends, n;
    unsigned char *d;
    int r;

    for (f = 0; f < 3; f++) {
        d = slurp(pems[f], &len);
        /* every offset near the BEGIN/END lines, a stride of 11 inside the Base64 */
        for (cut = 0; cut < len; cut += near_dashes(d, len, cut) ? 1 : 11) {
            /* a "-----BEGIN " line needs a name to open a block */
            begins = count_str(d, cut > 0 ? cut - 1 : 0, "-----BEGIN ");
            ends = count_str(d, cut, "-----END ");
            arena_fresh(&a, 64 * 1024, 0);
            if (f == 0) {
                r = sslsocket__load_anchors_mem(&a, d, cut, "cut", g_err, sizeof g_err);
                if (begins == ends && ends > 0) {
                    CHECK(r == (int)ends);
                } else {
                    CHECK(r == -1 && g_err[0] != '\0' && a.lo == 0 && a.n_anchors == 0);
                }
                r = sslsocket__load_chain_mem(&a, d, cut, "cut", chain, 4, &n, g_err,
                    sizeof g_err);
                CHECK(r == -1 ? g_err[0] != '\0' && a.lo == 0 : r == (int)ends);
            } else {
                r = sslsocket__load_key_mem(&a, d, cut, "cut", &key, g_err, sizeof g_err);
                /* the key is the last block */
                if (begins == ends && count_str(d, cut, "-----END") == count_str(d, len,
                    "-----END")) {
                    CHECK(r == 0);
                } else {
                    CHECK(r == -1 && g_err[0] != '\0' && a.lo == 0 && key.type == 0);
                }
            }
            if (g_test_failed) {
                printf("         %s cut at %zu\n", pems[f], cut);
                free(d);
                return;
            }
        }
        free(d);
    }
    for (f = 0; f < 3; f++) {
        d = slurp(ders[f], &len);
        for (cut = 0; cut < len; cut += cut < 64 || cut + 64 > len ? 1 : 7) {
            arena_fresh(&a, 64 * 1024, 0);
            if (f == 0) {
                CHECK(sslsocket__load_anchors_mem(&a, d, cut, "cut", g_err, sizeof g_err) == -1);
                CHECK(sslsocket__load_chain_mem(&a, d, cut, "cut", chain, 4, &n, g_err,
                    sizeof g_err) == -1);
            } else {
                CHECK(sslsocket__load_key_mem(&a, d, cut, "cut", &key, g_err,
                    sizeof g_err) == -1);
            }
            CHECK(a.lo == 0 && a.n_anchors == 0 && g_err[0] != '\0');
            if (g_test_failed) {
                printf("         %s cut at %zu\n", ders[f], cut);
                free(d);
                return;
            }
        }
        free(d);
    }
    CHECK(guards_ok(64 * 1024, 0));
}

/* Random corruption of valid inputs and random bytes: no crash, sane results. */
static void
test_hostile(void)
{
    static const char *const files[] = {
        "chain.pem", "ca.der", "rsa2048.pem", "ec256.params.pem", "rsa4096.p8.der",
        "ec384.der", "ca.trusted.pem", "combined.pem", "enc.legacy.pem"
    };
    br_x509_certificate chain[4];
    sslsocket__arena a;
    sslsocket__key key;
    unsigned char *d, *m;
    unsigned long x = 0x9E3779B97F4A7C15UL & 0xFFFFFFFFUL;
    size_t f, len, i, k, n, flips;
    int r, iter, iters = 3000;

    if (getenv("TEST_LOADERS_FUZZ") != NULL) {
        iters = atoi(getenv("TEST_LOADERS_FUZZ"));
    }
    for (iter = 0; iter < iters; iter++) {
        f = (size_t)iter % (sizeof files / sizeof files[0]);
        d = slurp(files[f], &len);
        m = malloc(len);
        memcpy(m, d, len);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x &= 0xFFFFFFFFUL;
        flips = 1 + x % 8;
        for (k = 0; k < flips; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x &= 0xFFFFFFFFUL;
            i = x % len;
            m[i] = (unsigned char)(iter % 3 == 0 ? x >> 8 : m[i] ^ (1u << (x % 8)));
        }
        if (iter % 7 == 0) {
            for (i = 0; i < len; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x &= 0xFFFFFFFFUL;
                m[i] = (unsigned char)x;
            }
        }
        if (getenv("TEST_LOADERS_DUMP") != NULL) {
            FILE *df = fopen(getenv("TEST_LOADERS_DUMP"), "wb");
            fwrite(m, 1, len, df);
            fclose(df);
        }
        arena_fresh(&a, 64 * 1024, (size_t)iter % 8);
        r = sslsocket__load_anchors_mem(&a, m, len, "fuzz", g_err, sizeof g_err);
        CHECK(r == -1 ? g_err[0] != '\0' && a.n_anchors == 0 : (size_t)r == a.n_anchors);
        r = sslsocket__load_chain_mem(&a, m, len, "fuzz", chain, 4, &n, g_err, sizeof g_err);
        CHECK(r == -1 ? g_err[0] != '\0' : r >= 1 && (size_t)r == n);
        r = sslsocket__load_key_mem(&a, m, len, "fuzz", &key, g_err, sizeof g_err);
        CHECK(r == -1 ? g_err[0] != '\0' && key.type == 0 : key.type != 0);
        if (r == 0 && n > 0) {
            r = sslsocket__key_matches_cert(&key, &chain[0], g_err, sizeof g_err);
            CHECK(r >= -1 && r <= 1);
        }
        CHECK(guards_ok(64 * 1024, (size_t)iter % 8));
        free(m);
        free(d);
        if (g_test_failed) {
            printf("         iteration %d (%s)\n", iter, files[f]);
            break;
        }
    }
}

/* Out of space at every possible point: the call fails cleanly and nothing changes. */
static void
test_arena_rollback(void)
{
    br_x509_certificate chain[4];
    sslsocket__arena a;
    sslsocket__key key;
    size_t size, lo, hi, nta, n;
    int r, anchors_ok = 0, chain_ok = 0, key_ok = 0;

    for (size = 0; size <= 8192; size += 24) {
        arena_fresh(&a, size, 1);
        r = sslsocket__load_anchors_file(&a, P("self.pem"), g_err, sizeof g_err);
        if (r != 1) {
            CHECK(r == -1 && a.lo == 0 && a.n_anchors == 0);
        }
        lo = a.lo;
        hi = a.hi;
        nta = a.n_anchors;
        r = sslsocket__load_anchors_file(&a, P("chain.pem"), g_err, sizeof g_err);
        if (r == -1) {
            CHECK(CONTAINS(g_err, "out of space in the certificate storage (need more than"));
            CHECK(a.lo == lo && a.hi == hi && a.n_anchors == nta);
        } else {
            CHECK(r == 3 && a.n_anchors == nta + 3);
            anchors_ok = 1;
        }
        lo = a.lo;
        r = sslsocket__load_chain_file(&a, P("chain.pem"), chain, 4, &n, g_err, sizeof g_err);
        if (r == -1) {
            CHECK(CONTAINS(g_err, "out of space") && a.lo == lo && n == 0);
        } else {
            chain_ok = 1;
        }
        lo = a.lo;
        r = sslsocket__load_key_file(&a, P("rsa4096.pem"), &key, g_err, sizeof g_err);
        if (r == -1) {
            CHECK(CONTAINS(g_err, "out of space") && a.lo == lo && key.type == 0);
        } else {
            key_ok = 1;
        }
        CHECK(guards_ok(size, 1));
        if (g_test_failed) {
            printf("         arena size %zu\n", size);
            break;
        }
    }
    CHECK(anchors_ok && chain_ok && key_ok);
}

static void
test_dir(void)
{
    sslsocket__arena a;
    int r;

    arena_fresh(&a, 64 * 1024, 0);
    r = sslsocket__load_anchors_dir(&a, P("certsdir"), g_err, sizeof g_err);
    CHECK(r == 2 && a.n_anchors == 2);
    /* garbage.txt and key.pem are skipped, counted in a note; .hidden.pem ignored */
    CHECK(CONTAINS(g_err, "note: skipped 2 of 5 files"));
    CHECK(sslsocket__load_anchors_dir(&a, P("certsdir"), g_err, sizeof g_err) == 0);
    CHECK(a.n_anchors == 2);
    CHECK(sslsocket__load_anchors_dir(&a, P("emptydir"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "no certificate found in directory"));
    CHECK(sslsocket__load_anchors_dir(&a, P("nodir"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "cannot open directory") && CONTAINS(g_err, "no such file"));
    CHECK(sslsocket__load_anchors_dir(&a, P("ca.pem"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "not a directory"));
    CHECK(a.n_anchors == 2);
    /* out of space in the middle of a directory: all of it rolled back */
    arena_fresh(&a, 700, 0);
    CHECK(sslsocket__load_anchors_dir(&a, P("certsdir"), g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "out of space") && a.lo == 0 && a.n_anchors == 0);
}

static unsigned char g_sys[512 * 1024];

static void
test_system(void)
{
    sslsocket__arena a;
    char used[256], dirs[600];
    const br_x509_trust_anchor *tas;
    size_t ntas;
    int r;

    unsetenv("SSL_CERT_DIR");
    setenv("SSL_CERT_FILE", P("ca.pem"), 1);
    sslsocket__arena_init(&a, g_sys, sizeof g_sys);
    CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == 1);
    CHECK(strcmp(used, P("ca.pem")) == 0);
    setenv("SSL_CERT_FILE", P("nonexistent.pem"), 1);
    CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == -1);
    CHECK(CONTAINS(g_err, "SSL_CERT_FILE: cannot open") && CONTAINS(g_err, "no such file"));
    /* a trust bundle may hold certificates BearSSL cannot decode: skipped, with a note */
    setenv("SSL_CERT_FILE", P("mixed_bundle.pem"), 1);
    sslsocket__arena_init(&a, g_sys, sizeof g_sys);
    CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == 1);
    CHECK(CONTAINS(g_err, "note: skipped 1 certificate that BearSSL cannot decode"));
    setenv("SSL_CERT_FILE", P("ed_ca.pem"), 1);
    CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == -1);
    CHECK(CONTAINS(g_err, "no usable certificate in") && a.n_anchors == 1);

    unsetenv("SSL_CERT_FILE");
    snprintf(dirs, sizeof dirs, "%s::%s", P("nodir"), P("certsdir"));
    setenv("SSL_CERT_DIR", dirs, 1);
    sslsocket__arena_init(&a, g_sys, sizeof g_sys);
    CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == 2);
    CHECK(strcmp(used, P("certsdir")) == 0);
    setenv("SSL_CERT_DIR", P("emptydir"), 1);
    CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == -1);
    CHECK(CONTAINS(g_err, "no trust anchors found in SSL_CERT_DIR"));
    CHECK(a.n_anchors == 2);

    unsetenv("SSL_CERT_DIR");
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
        sslsocket__arena_init(&a, g_sys, sizeof g_sys);
        r = sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used);
        CHECK(r > 50);
        CHECK(strcmp(used, "/etc/ssl/certs/ca-certificates.crt") == 0);
        tas = sslsocket__arena_anchors(&a, &ntas);
        CHECK(tas != NULL && ntas == (size_t)r);
        printf("         system store %s: %d anchors, %zu bytes of the arena "
            "(%zu bytes of DNs/keys + %zu anchors x %zu)%s%s\n", used, r,
            sslsocket__arena_used(&a), a.lo, ntas, sizeof(br_x509_trust_anchor),
            g_err[0] ? "; " : "", g_err);
        /* no root of the store is refused for its own make-up (8 of Debian's
           predate the RFC 5280 profile: that must not count for anchors) */
        {
            size_t i, refused = 0;
            for (i = 0; i < ntas; i++) {
                sslsocket__ta_extra x;
                sslsocket__der nc, eku;
                sslsocket__ta_extra_get(&tas[i], &x, &nc, &eku);
                refused += x.problems != 0;
            }
            CHECK(refused == 0);
        }
        /* again: all duplicates */
        CHECK(sslsocket__load_system_anchors(&a, g_err, sizeof g_err, used, sizeof used) == 0);
        CHECK(a.n_anchors == ntas);
        /* the directory form holds the same anchors (hash links, the bundle itself) */
        r = sslsocket__load_anchors_dir(&a, "/etc/ssl/certs", g_err, sizeof g_err);
        printf("         /etc/ssl/certs as a directory: %d more anchors%s%s\n", r,
            g_err[0] ? "; " : "", g_err);
        CHECK(r >= 0);
    } else {
        printf("         (no /etc/ssl/certs/ca-certificates.crt here: default path skipped)\n");
    }
}

static void
test_read_file(void)
{
    unsigned char buf[64];
    size_t len;

    spit("small.txt", "127.0.0.1 localhost\n", 20);
    CHECK(sslsocket__read_file(P("small.txt"), buf, sizeof buf, &len, g_err,
        sizeof g_err) == 0);
    CHECK(len == 20 && memcmp(buf, "127.0.0.1 localhost\n", 20) == 0);
    CHECK(sslsocket__read_file(P("small.txt"), buf, 20, &len, g_err, sizeof g_err) == 0);
    CHECK(len == 20);
    CHECK(sslsocket__read_file(P("small.txt"), buf, 19, &len, g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "larger than 19 bytes") && len == 0);
    CHECK(sslsocket__read_file(P("empty.pem"), buf, sizeof buf, &len, g_err,
        sizeof g_err) == 0);
    CHECK(len == 0);
    CHECK(sslsocket__read_file(g_dir, buf, sizeof buf, &len, g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "is a directory"));
    CHECK(sslsocket__read_file(P("nope"), buf, sizeof buf, &len, g_err, sizeof g_err) == -1);
    CHECK(CONTAINS(g_err, "no such file"));
    CHECK(sslsocket__read_file(P("huge.pem"), buf, sizeof buf, &len, g_err,
        sizeof g_err) == -1);
    CHECK(sslsocket__read_file(NULL, buf, sizeof buf, &len, g_err, sizeof g_err) == -1);
}

int
main(void)
{
    char cmd[512];
    clock_t t0 = clock();

    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(g_dir, sizeof g_dir, "%s/test_loaders.XXXXXX",
        getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    if (generate() != 0) {
        fprintf(stderr, "cannot generate test material with the openssl tool\n");
        return 2;
    }
    RUN(test_arena_init);
    RUN(test_anchors_chain_pem);
    RUN(test_anchors_formats);
    RUN(test_anchors_errors);
    RUN(test_anchors_validate);
    RUN(test_chain);
    RUN(test_keys_load_and_match);
    RUN(test_keys_mismatch);
    RUN(test_keys_refused);
    RUN(test_truncated);
    RUN(test_hostile);
    RUN(test_arena_rollback);
    RUN(test_dir);
    RUN(test_system);
    RUN(test_read_file);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (getenv("TEST_LOADERS_KEEP") != NULL) {
        printf("test material kept in %s\n", g_dir);
    } else if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", g_dir);
    }
    printf("%d passed, %d failed (%.1f s CPU)\n", g_passed, g_failed,
        (double)(clock() - t0) / CLOCKS_PER_SEC);
    return g_failed != 0;
}
