/* Tests for the certificate reader of sslsocket.h: certificates are made at test time with the openssl CLI in a
 * mkdtemp directory, and every parsed field is compared with what openssl itself prints. */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *g_test;
static int g_test_failed, g_passed, g_failed;
static char g_dir[64];

static int
check_(int ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        printf("[ FAIL ] %s %s:%d %s\n", g_test, file, line, expr);
        g_test_failed = 1;
    }
    return ok;
}
#define CHECK(e) check_((e) != 0, #e, __FILE__, __LINE__)

static void
run_(const char *name, void (*fn)(void))
{
    g_test = name;
    g_test_failed = 0;
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
#define RUN(fn) run_(#fn, fn)

/* ---- helpers around the openssl CLI ---- */

static int
sh(const char *fmt, ...)
{
    char cmd[4096], full[4400];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "cd '%s' && (%s) >>log.txt 2>&1", g_dir, cmd);
    rc = system(full);
    if (rc != 0) {
        printf("command failed (%d): %s\n", rc, cmd);
    }
    return rc;
}

/* Output of a shell command run in the temp dir, NUL-terminated. */
static size_t
capture(char *out, size_t size, const char *fmt, ...)
{
    char cmd[2048], full[2400];
    va_list ap;
    FILE *f;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "cd '%s' && (%s) 2>/dev/null", g_dir, cmd);
    f = popen(full, "r");
    if (f == NULL) {
        out[0] = '\0';
        return 0;
    }
    n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    pclose(f);
    return n;
}

typedef struct blob {
    unsigned char *p;
    size_t n;
} blob;

static blob
load(const char *name)
{
    char path[256];
    blob b = {NULL, 0};
    FILE *f;
    long sz;

    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        return b;
    }
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.p = malloc(sz > 0 ? (size_t)sz : 1);
    b.n = fread(b.p, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

/* An exact-size heap copy so that AddressSanitizer / valgrind catch any over-read. */
static unsigned char *
dup_bytes(const unsigned char *p, size_t n)
{
    unsigned char *q = malloc(n > 0 ? n : 1);
    if (n > 0) {
        memcpy(q, p, n);
    }
    return q;
}

/* The line after "prefix" (up to the newline) in text, or NULL. */
static const char *
field(const char *text, const char *prefix, char *out, size_t size)
{
    const char *s = text, *e;
    size_t n, pl = strlen(prefix);

    while (s != NULL && *s != '\0') {
        while (*s == ' ') {
            s++;
        }
        if (strncmp(s, prefix, pl) == 0) {
            s += pl;
            e = strchr(s, '\n');
            n = e != NULL ? (size_t)(e - s) : strlen(s);
            n = n < size - 1 ? n : size - 1;
            memcpy(out, s, n);
            out[n] = '\0';
            return out;
        }
        s = strchr(s, '\n');
        s = s != NULL ? s + 1 : NULL;
    }
    return NULL;
}

static int64_t
openssl_date(const char *s)
{
    static const char *mon = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char m[4] = "";
    struct tm tm;
    const char *p;

    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%3s %d %d:%d:%d %d", m, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
               &tm.tm_year) != 6 || (p = strstr(mon, m)) == NULL) {
        return INT64_MIN;
    }
    tm.tm_mon = (int)(p - mon) / 3;
    tm.tm_year -= 1900;
    return (int64_t)timegm(&tm);
}

static int
hex_eq(const char *hex, const unsigned char *b, size_t n)
{
    size_t i = 0;
    unsigned v;

    while (*hex != '\0' && i < n) {
        if (*hex == ':') {
            hex++;
            continue;
        }
        if (sscanf(hex, "%2x", &v) != 1 || v != b[i]) {
            return 0;
        }
        hex += 2;
        i++;
    }
    return i == n && (*hex == '\0' || *hex == ' ' || *hex == '\n');
}

/* First CN= value in an RFC 2253 string, unescaped. */
static void
rfc2253_cn(const char *dn, char *out, size_t size)
{
    const char *s = dn;
    size_t n = 0;
    unsigned v;

    out[0] = '\0';
    while (*s != '\0' && !(strncmp(s, "CN=", 3) == 0 && (s == dn || s[-1] == ',' || s[-1] == '+')
                           && (s < dn + 2 || s[-2] != '\\'))) {
        s++;
    }
    if (*s == '\0') {
        return;
    }
    for (s += 3; *s != '\0' && *s != ',' && *s != '+' && n + 1 < size; s++) {
        if (*s == '\\' && sscanf(s + 1, "%2x", &v) == 1 && strchr("0123456789ABCDEF", s[1])
            && strchr("0123456789ABCDEF", s[2])) {
            out[n++] = (char)v;
            s += 2;
        } else if (*s == '\\' && s[1] != '\0') {
            out[n++] = *++s;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

/* One SAN item from openssl ("IP Address:0:0:0:0:0:0:0:1") and one from us ("IP:::1") are
 * the same name. */
static int
san_item_eq(const char *theirs, size_t tn, const char *ours, size_t on)
{
    char a[128], b[128];
    unsigned char x[16], y[16];
    int fa;

    if (tn >= 11 && strncmp(theirs, "IP Address:", 11) == 0) {
        if (on < 3 || strncmp(ours, "IP:", 3) != 0 || tn - 11 >= sizeof a || on - 3 >= sizeof b) {
            return 0;
        }
        memcpy(a, theirs + 11, tn - 11);
        a[tn - 11] = '\0';
        memcpy(b, ours + 3, on - 3);
        b[on - 3] = '\0';
        fa = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
        return inet_pton(fa, a, x) == 1 && inet_pton(fa, b, y) == 1
               && memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
    }
    return tn == on && memcmp(theirs, ours, tn) == 0;
}

static int
san_eq(const char *theirs, const char *ours)
{
    const char *te, *oe;

    for (;;) {
        te = strstr(theirs, ", ");
        oe = strstr(ours, ", ");
        te = te != NULL ? te : theirs + strlen(theirs);
        oe = oe != NULL ? oe : ours + strlen(ours);
        if (!san_item_eq(theirs, (size_t)(te - theirs), ours, (size_t)(oe - ours))) {
            printf("         SAN item differs: openssl '%.*s' ours '%.*s'\n",
                   (int)(te - theirs), theirs, (int)(oe - ours), ours);
            return 0;
        }
        if (*te == '\0' || *oe == '\0') {
            return *te == '\0' && *oe == '\0';
        }
        theirs = te + 2;
        ours = oe + 2;
    }
}

/* ours equals theirs, or ours is theirs cut at a unit boundary and ended with "...". */
static int
str_eq_trunc(const char *ours, const char *theirs, size_t size)
{
    size_t n = strlen(ours);

    if (strcmp(ours, theirs) == 0) {
        return strlen(theirs) < size;
    }
    return strlen(theirs) >= size - 1 && n >= 3 && n < size && strcmp(ours + n - 3, "...") == 0
           && strncmp(ours, theirs, n - 3) == 0;
}

/* ---- the certificates ---- */

static int g_ready;

static const char *k_ext =
    "[int]\n"
    "basicConstraints=critical,CA:TRUE,pathlen:0\n"
    "keyUsage=critical,keyCertSign,cRLSign\n"
    "[rsa]\n"
    "basicConstraints=CA:FALSE\n"
    "subjectAltName=DNS:www.example.com,DNS:Example.COM,IP:127.0.0.1,IP:::1,IP:2001:db8::5,"
    "IP:::ffff:10.0.0.1,email:admin@example.com,URI:https://www.example.com/x\n"
    "extendedKeyUsage=serverAuth\n"
    "[ec]\n"
    "subjectAltName=DNS:*.example.com\n"
    "extendedKeyUsage=critical,clientAuth\n"
    "[wild]\n"
    "subjectAltName=DNS:*.com,DNS:f*.example.com,DNS:*.localhost,DNS:a.*.example.org,DNS:*,"
    "DNS:xn--bcher-kva.example,DNS:127.0.0.1,DNS:www.victim.com0.evil.com,DNS:*.*.example.net,"
    "DNS:bad name.example\n"
    "extendedKeyUsage=serverAuth,clientAuth\n"
    "[any]\n"
    "subjectAltName=DNS:any.example\n"
    "extendedKeyUsage=anyExtendedKeyUsage\n"
    "[ca]\n"
    "default_ca=d\n"
    "[d]\n"
    "database=db/index.txt\n"
    "serial=db/serial\n"
    "new_certs_dir=db\n"
    "default_md=sha1\n"
    "policy=p\n"
    "unique_subject=no\n"
    "email_in_dn=no\n"
    "copy_extensions=copy\n"
    "[p]\n"
    "commonName=supplied\n"
    "[req]\n"
    "distinguished_name=dn\n"
    "string_mask=default\n"
    "x509_extensions=bmp\n"
    "[dn]\n"
    "[bmp]\n"
    "subjectAltName=DNS:bmp.example\n";

/* All the names used below; each NAME.pem gets a NAME.der. */
static const char *const k_certs[] = {
    "ca", "int", "rsa", "ec", "wild", "cnonly", "any", "future", "v1", "md5", "special", "long",
    "bmp", "p521", "neg",
};
#define NCERTS (sizeof k_certs / sizeof k_certs[0])

static int
make_certs(void)
{
    static const char *leaf_ec = "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256"
                                 " -nodes -keyout %s.key -out %s.csr -subj '%s'";
    FILE *f;
    char path[256];
    size_t i;
    int rc = 0;

    snprintf(path, sizeof path, "%s/ext.cnf", g_dir);
    f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    fputs(k_ext, f);
    fclose(f);
    rc |= sh("mkdir db && : > db/index.txt && echo 00C0FFEE > db/serial");
    /* root: RSA 2048, self-signed */
    rc |= sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650"
             " -subj '/C=US/O=Example Test/CN=Example Test Root'"
             " -addext basicConstraints=critical,CA:TRUE"
             " -addext keyUsage=critical,keyCertSign,cRLSign");
    /* intermediate: EC P-384 signed by the root */
    rc |= sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout int.key"
             " -out int.csr -subj '/O=Example Test/CN=Example Test Intermediate'");
    rc |= sh("openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -set_serial 0x0100"
             " -days 1000 -sha256 -extfile ext.cnf -extensions int -out int.pem");
    /* leaves under the intermediate */
    rc |= sh("openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr"
             " -subj '/C=DE/ST=Berlin/L=Berlin/O=Example GmbH/OU=Web/CN=www.example.com'");
    rc |= sh("openssl x509 -req -in rsa.csr -CA int.pem -CAkey int.key"
             " -set_serial 0x8A1B2C3D4E5F60718293A4B5C6D7E8F901234567 -days 397 -sha384"
             " -extfile ext.cnf -extensions rsa -out rsa.pem");
    rc |= sh(leaf_ec, "ec", "ec", "/CN=*.example.com");
    rc |= sh("openssl x509 -req -in ec.csr -CA int.pem -CAkey int.key -set_serial 1 -days 30"
             " -sha256 -extfile ext.cnf -extensions ec -out ec.pem");
    rc |= sh(leaf_ec, "wild", "wild", "/CN=wild.example.com");
    rc |= sh("openssl x509 -req -in wild.csr -CA int.pem -CAkey int.key -set_serial 0 -days 30"
             " -sha256 -extfile ext.cnf -extensions wild -out wild.pem");
    rc |= sh(leaf_ec, "any", "any", "/CN=any.example");
    rc |= sh("openssl x509 -req -in any.csr -CA int.pem -CAkey int.key -set_serial 77 -days 30"
             " -sha512 -extfile ext.cnf -extensions any -out any.pem");
    /* CN only, no SAN, no EKU */
    rc |= sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
             " -keyout cnonly.key -out cnonly.pem -days 10 -subj '/CN=cnonly.example.com'");
    /* P-521 leaf from `openssl ca`: UTCTime 1960 (YY >= 50) to GeneralizedTime 2099, sha1 */
    rc |= sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -keyout"
             " p521.key -out future.csr -subj /CN=future.example"
             " -addext subjectAltName=DNS:future.example");
    rc |= sh("openssl ca -batch -config ext.cnf -cert ca.pem -keyfile ca.key -in future.csr"
             " -out future.pem -startdate 600101000000Z -enddate 20991231235959Z -notext");
    rc |= sh("openssl ca -batch -config ext.cnf -cert ca.pem -keyfile ca.key -in future.csr"
             " -out p521.pem -startdate 20500101000000Z -enddate 20500301120000Z -notext"
             " -md sha512");
    /* version 1 (no extensions at all), and an md5-signed one */
    rc |= sh(leaf_ec, "v1", "v1", "/CN=v1.example");
    rc |= sh("openssl x509 -req -in v1.csr -signkey v1.key -days 5 -out v1.pem");
    rc |= sh("openssl x509 -req -in v1.csr -signkey v1.key -days 5 -set_serial -0x0100"
             " -out neg.pem");
    rc |= sh("openssl req -new -newkey rsa:1024 -nodes -keyout md5.key -out md5.csr"
             " -subj /CN=md5.example");
    rc |= sh("openssl x509 -req -in md5.csr -signkey md5.key -days 5 -md5 -out md5.pem");
    /* escaping: specials, leading '#' and space, trailing space, UTF-8, multi-valued RDN,
     * an attribute type openssl does not know (dumped as hex) */
    rc |= sh("printf 'oid_section=o\\n[o]\\ntestAttr=1.2.3.4\\n[req]\\n"
             "distinguished_name=dn\\n[dn]\\n' > special.cnf");
    rc |= sh("openssl req -x509 -config special.cnf -newkey ec -pkeyopt"
             " ec_paramgen_curve:P-256 -nodes -utf8 -keyout special.key -out special.pem"
             " -days 10 -subj '/CN=a\\,b\\+c\"d\\\\e<f>g;h=i"
             "/O= lead#/OU=#hash/L=Caf\xc3\xa9/ST=x /testAttr=foo/CN=multi+UID=x/OU=#'");
    /* a subject longer than SSLSOCKET_CERT_NAME_SIZE */
    rc |= sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout"
             " long.key -out long.pem -days 10 -subj '/CN=long.example"
             "/OU=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "/OU=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
             "/OU=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
             "/OU=dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
             "/OU=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9' -utf8");
    /* string_mask=default: T61String for Latin-1, BMPString beyond it */
    rc |= sh("openssl req -x509 -config ext.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256"
             " -nodes -keyout bmp.key -out bmp.pem -days 10 -utf8"
             " -subj '/CN=bmp.example/O=Caf\xc3\xa9/OU=\xe2\x82\xac uro/L=\xf0\x9f\x94\x92'");
    for (i = 0; i < NCERTS; i++) {
        rc |= sh("openssl x509 -in %s.pem -outform DER -out %s.der", k_certs[i], k_certs[i]);
    }
    return rc;
}

static blob
der(const char *name)
{
    char file[64];

    snprintf(file, sizeof file, "%s.der", name);
    return load(file);
}

/* ---- tests ---- */

static void
test_generate(void)
{
    CHECK(make_certs() == 0);
    g_ready = !g_test_failed;
}

/* Compare every parsed field of one certificate with openssl's own view of it. */
static void
compare_with_openssl(const char *name)
{
    static char text[65536], info_txt[16384], spki_hex[256];
    char val[4096], cn[256], file[64];
    sslsocket_cert_info info;
    blob b = der(name), spki_file;
    const unsigned char *spki = NULL;
    size_t spki_len = 0;
    int ver = 0, bits = 0;

    if (!CHECK(b.p != NULL)) {
        return;
    }
    if (!CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0)) {
        printf("         certificate %s\n", name);
        free(b.p);
        return;
    }
    capture(info_txt, sizeof info_txt, "openssl x509 -in %s.pem -noout -subject -issuer -serial"
            " -dates -fingerprint -sha256 -nameopt RFC2253 -ext subjectAltName", name);
    capture(text, sizeof text, "openssl x509 -in %s.pem -noout -text", name);

    CHECK(field(info_txt, "subject=", val, sizeof val) != NULL);
    if (!CHECK(str_eq_trunc(info.subject, val, sizeof info.subject))) {
        printf("         %s: ours '%s' openssl '%s'\n", name, info.subject, val);
    }
    rfc2253_cn(val, cn, sizeof cn);
    if (!CHECK(str_eq_trunc(info.common_name, cn, sizeof info.common_name))) {
        printf("         %s: ours '%s' openssl '%s'\n", name, info.common_name, cn);
    }
    CHECK(field(info_txt, "issuer=", val, sizeof val) != NULL);
    if (!CHECK(str_eq_trunc(info.issuer, val, sizeof info.issuer))) {
        printf("         %s: ours '%s' openssl '%s'\n", name, info.issuer, val);
    }
    CHECK(field(info_txt, "serial=", val, sizeof val) != NULL);
    if (!CHECK(strcmp(info.serial, val) == 0)) {
        printf("         %s: ours '%s' openssl '%s'\n", name, info.serial, val);
    }
    CHECK(field(info_txt, "notBefore=", val, sizeof val) != NULL);
    CHECK(info.not_before == openssl_date(val));
    CHECK(field(info_txt, "notAfter=", val, sizeof val) != NULL);
    CHECK(info.not_after == openssl_date(val));
    CHECK(field(info_txt, "sha256 Fingerprint=", val, sizeof val) != NULL);
    CHECK(hex_eq(val, info.sha256, 32));
    if (field(info_txt, "X509v3 Subject Alternative Name:", val, sizeof val) != NULL) {
        const char *p = strstr(info_txt, "X509v3 Subject Alternative Name:");
        p = strchr(p, '\n');
        CHECK(p != NULL && field(p + 1, "", val, sizeof val) != NULL);
        CHECK(san_eq(val, info.subject_alt_names));
    } else {
        CHECK(info.subject_alt_names[0] == '\0');
    }
    /* -text: version, signature algorithm, key, basicConstraints */
    CHECK(field(text, "Version:", val, sizeof val) != NULL && sscanf(val, "%d", &ver) == 1);
    CHECK(info.version == ver);
    CHECK(field(text, "Signature Algorithm: ", val, sizeof val) != NULL);
    if (!CHECK(strcmp(info.sig_alg, val) == 0)) {
        printf("         %s: ours '%s' openssl '%s'\n", name, info.sig_alg, val);
    }
    CHECK(field(text, "Public-Key: (", val, sizeof val) != NULL && sscanf(val, "%d", &bits) == 1);
    CHECK(info.key_bits == bits);
    CHECK(field(text, "Public Key Algorithm: ", val, sizeof val) != NULL);
    CHECK(info.key_type == (strcmp(val, "rsaEncryption") == 0 ? BR_KEYTYPE_RSA
                            : strcmp(val, "id-ecPublicKey") == 0 ? BR_KEYTYPE_EC : -1));
    CHECK(info.is_ca == (strstr(text, "CA:TRUE") != NULL));
    /* SPKI: the exact bytes openssl exports, and their hash */
    sh("openssl x509 -in %s.pem -noout -pubkey | openssl pkey -pubin -outform DER -out %s.spki",
       name, name);
    snprintf(file, sizeof file, "%s.spki", name);
    spki_file = load(file);
    CHECK(sslsocket__der_spki(b.p, b.n, &spki, &spki_len) == 0);
    CHECK(spki_file.p != NULL && spki_len == spki_file.n
          && memcmp(spki, spki_file.p, spki_len) == 0);
    capture(spki_hex, sizeof spki_hex, "openssl dgst -sha256 -r %s.spki", name);
    CHECK(hex_eq(spki_hex, info.spki_sha256, 32));
    free(spki_file.p);
    free(b.p);
}

static void
test_fields_match_openssl(void)
{
    size_t i;

    for (i = 0; i < NCERTS && g_ready; i++) {
        compare_with_openssl(k_certs[i]);
    }
    CHECK(g_ready);
}

static void
test_specific_values(void)
{
    sslsocket_cert_info info;
    blob b;

    /* what we fed openssl comes back */
    b = der("rsa");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0);
    CHECK(strcmp(info.serial, "8A1B2C3D4E5F60718293A4B5C6D7E8F901234567") == 0);
    CHECK(strcmp(info.common_name, "www.example.com") == 0);
    CHECK(info.key_type == BR_KEYTYPE_RSA && info.key_bits == 2048 && info.version == 3);
    CHECK(strcmp(info.sig_alg, "ecdsa-with-SHA384") == 0 && !info.is_ca);
    CHECK(info.not_after - info.not_before == 397 * 86400);
    CHECK(strstr(info.subject_alt_names, "IP:::1") != NULL);
    CHECK(strstr(info.subject_alt_names, "IP:2001:db8::5") != NULL);
    CHECK(strstr(info.subject_alt_names, "DNS:www.example.com, DNS:Example.COM, IP:127.0.0.1")
          == info.subject_alt_names);
    free(b.p);
    b = der("ca");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && info.is_ca);
    CHECK(strcmp(info.subject, "CN=Example Test Root,O=Example Test,C=US") == 0);
    CHECK(strcmp(info.sig_alg, "sha256WithRSAEncryption") == 0);
    free(b.p);
    b = der("int");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && info.is_ca);
    CHECK(info.key_type == BR_KEYTYPE_EC && info.key_bits == 384);
    CHECK(strcmp(info.serial, "0100") == 0);
    free(b.p);
    b = der("ec");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && info.key_bits == 256);
    CHECK(strcmp(info.serial, "01") == 0 && strcmp(info.sig_alg, "ecdsa-with-SHA256") == 0);
    free(b.p);
    b = der("wild");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && strcmp(info.serial, "00") == 0);
    CHECK(strstr(info.subject_alt_names, "DNS:bad name.example") != NULL);
    free(b.p);
    b = der("future");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0);
    CHECK(info.not_before == -315619200);  /* 1960-01-01, UTCTime "60..." */
    CHECK(info.not_after == 4102444799LL); /* 2099-12-31 23:59:59, GeneralizedTime */
    CHECK(strcmp(info.sig_alg, "sha1WithRSAEncryption") == 0 && info.key_bits == 521);
    CHECK(strcmp(info.serial, "C0FFEE") == 0);
    free(b.p);
    b = der("p521");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0);
    CHECK(info.not_before == 2524608000LL && info.not_after == 2529748800LL);
    CHECK(strcmp(info.sig_alg, "sha512WithRSAEncryption") == 0);
    free(b.p);
    b = der("v1");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && info.version == 1);
    CHECK(info.subject_alt_names[0] == '\0' && strcmp(info.subject, info.issuer) == 0);
    free(b.p);
    b = der("neg");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && strcmp(info.serial, "-0100") == 0);
    free(b.p);
    b = der("md5");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0 && info.key_bits == 1024);
    CHECK(strcmp(info.sig_alg, "md5WithRSAEncryption") == 0);
    free(b.p);
    b = der("special");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0);
    CHECK(strcmp(info.common_name, "multi") == 0);
    CHECK(strstr(info.subject, "1.2.3.4=#0C03666F6F") != NULL);
    CHECK(strstr(info.subject, "L=Caf\\C3\\A9") != NULL);
    free(b.p);
    b = der("long");
    CHECK(sslsocket__cert_parse(b.p, b.n, &info) == 0);
    CHECK(strlen(info.subject) <= SSLSOCKET_CERT_NAME_SIZE - 1);
    CHECK(strcmp(info.subject + strlen(info.subject) - 3, "...") == 0);
    free(b.p);
}

#define HOST(b, h) sslsocket__cert_check_host((b).p, (b).n, (h))

static void
test_host(void)
{
    blob rsa = der("rsa"), ec = der("ec"), wild = der("wild"), cn = der("cnonly");
    blob any = der("any"), v1 = der("v1"), patched;
    unsigned char *nul;
    size_t i;

    /* exact names: case-insensitive, one trailing dot ignored */
    CHECK(HOST(rsa, "www.example.com") == SSLSOCKET__NAME_OK);
    CHECK(HOST(rsa, "WWW.Example.Com") == SSLSOCKET__NAME_OK);
    CHECK(HOST(rsa, "www.example.com.") == SSLSOCKET__NAME_OK);
    CHECK(HOST(rsa, "example.com") == SSLSOCKET__NAME_OK);
    CHECK(HOST(rsa, "www.example.com..") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, "ww.example.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, "www.example.co") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, "") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, ".") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, NULL) == SSLSOCKET__NAME_MISMATCH);
    /* an email or URI SAN is not a DNS name; neither is an iPAddress SAN */
    CHECK(HOST(rsa, "admin@example.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, "127.0.0.1") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(rsa, "::1") == SSLSOCKET__NAME_MISMATCH);
    /* an IP literal never matches a dNSName, even an identical one */
    CHECK(HOST(wild, "127.0.0.1") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(wild, "127.0.0.1.") == SSLSOCKET__NAME_MISMATCH);
    /* wildcard: the whole left-most label, exactly one label */
    CHECK(HOST(ec, "a.example.com") == SSLSOCKET__NAME_OK);
    CHECK(HOST(ec, "A-1.EXAMPLE.com.") == SSLSOCKET__NAME_OK);
    CHECK(HOST(ec, "a.b.example.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(ec, "example.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(ec, ".example.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(ec, "a.example.org") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(ec, "*.example.com") == SSLSOCKET__NAME_MISMATCH);
    /* refused wildcards: "*.com", partial "f*", "*.localhost" (one label under the star),
     * star not left-most, bare "*" */
    CHECK(HOST(wild, "example.com") == SSLSOCKET__NAME_WILDCARD_REFUSED);
    CHECK(HOST(wild, "foo.example.com") == SSLSOCKET__NAME_WILDCARD_REFUSED);
    CHECK(HOST(wild, "f.example.com") == SSLSOCKET__NAME_WILDCARD_REFUSED);
    CHECK(HOST(wild, "bar.example.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(wild, "x.localhost") == SSLSOCKET__NAME_WILDCARD_REFUSED);
    CHECK(HOST(wild, "a.b.example.org") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(wild, "a.b.example.net") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(wild, "localhost") == SSLSOCKET__NAME_MISMATCH);
    /* IDNA A-labels are plain ASCII; U-labels are not host names here */
    CHECK(HOST(wild, "XN--BCHER-KVA.example") == SSLSOCKET__NAME_OK);
    CHECK(HOST(wild, "b\xc3\xbc" "cher.example") == SSLSOCKET__NAME_MISMATCH);
    /* garbage in a SAN never matches, even the same garbage */
    CHECK(HOST(wild, "bad name.example") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(wild, "www.victim.com0.evil.com") == SSLSOCKET__NAME_OK);
    nul = dup_bytes(wild.p, wild.n);
    for (i = 0; i + 24 <= wild.n; i++) {
        if (memcmp(nul + i, "www.victim.com0.evil.com", 24) == 0) {
            nul[i + 14] = '\0'; /* the classic "www.victim.com\0.evil.com" */
            break;
        }
    }
    CHECK(i + 24 <= wild.n);
    patched.p = nul;
    patched.n = wild.n;
    CHECK(HOST(patched, "www.victim.com") == SSLSOCKET__NAME_MISMATCH);
    CHECK(HOST(patched, "www.victim.com0.evil.com") == SSLSOCKET__NAME_MISMATCH);
    free(nul);
    /* CN-only: refused even when the CN is exactly the host */
    CHECK(HOST(cn, "cnonly.example.com") == SSLSOCKET__NAME_NO_SAN);
    CHECK(HOST(v1, "v1.example") == SSLSOCKET__NAME_NO_SAN);
    CHECK(HOST(any, "any.example") == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_host(any.p, any.n - 1, "any.example") == SSLSOCKET__NAME_MALFORMED);
    free(rsa.p);
    free(ec.p);
    free(wild.p);
    free(cn.p);
    free(any.p);
    free(v1.p);
}

static sslsocket_address
addr(const char *s)
{
    sslsocket_address a;

    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, s, a.bytes) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, s, a.bytes) == 1) {
        a.family = 6;
    }
    return a;
}

static void
test_ip(void)
{
    blob rsa = der("rsa"), wild = der("wild"), cn = der("cnonly");
    sslsocket_address a;

#define IP(b, s) (a = addr(s), sslsocket__cert_check_ip((b).p, (b).n, &a))
    CHECK(IP(rsa, "127.0.0.1") == SSLSOCKET__NAME_OK);
    CHECK(IP(rsa, "127.0.0.2") == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(IP(rsa, "::1") == SSLSOCKET__NAME_OK);
    CHECK(IP(rsa, "::2") == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(IP(rsa, "2001:db8::5") == SSLSOCKET__NAME_OK);
    CHECK(IP(rsa, "2001:DB8:0:0:0:0:0:5") == SSLSOCKET__NAME_OK);
    CHECK(IP(rsa, "2001:db8::6") == SSLSOCKET__NAME_IP_MISMATCH);
    /* IPv4-mapped IPv6 is a different address, both ways */
    CHECK(IP(rsa, "::ffff:127.0.0.1") == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(IP(rsa, "::ffff:10.0.0.1") == SSLSOCKET__NAME_OK);
    CHECK(IP(rsa, "10.0.0.1") == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(IP(rsa, "::127.0.0.1") == SSLSOCKET__NAME_IP_MISMATCH);
    /* a dNSName "127.0.0.1" is not an iPAddress SAN */
    CHECK(IP(wild, "127.0.0.1") == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(IP(cn, "127.0.0.1") == SSLSOCKET__NAME_NO_SAN);
    a = addr("127.0.0.1");
    a.family = 0;
    CHECK(sslsocket__cert_check_ip(rsa.p, rsa.n, &a) == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(sslsocket__cert_check_ip(rsa.p, rsa.n, NULL) == SSLSOCKET__NAME_IP_MISMATCH);
    CHECK(sslsocket__cert_check_ip(rsa.p, 10, &a) == SSLSOCKET__NAME_MALFORMED);
#undef IP
    free(rsa.p);
    free(wild.p);
    free(cn.p);
}

static void
test_eku(void)
{
    blob rsa = der("rsa"), ec = der("ec"), wild = der("wild"), cn = der("cnonly");
    blob any = der("any"), ca = der("ca");

    CHECK(sslsocket__cert_check_eku(rsa.p, rsa.n, 1) == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_eku(rsa.p, rsa.n, 0) == SSLSOCKET__NAME_EKU_MISMATCH);
    CHECK(sslsocket__cert_check_eku(ec.p, ec.n, 1) == SSLSOCKET__NAME_EKU_MISMATCH);
    CHECK(sslsocket__cert_check_eku(ec.p, ec.n, 0) == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_eku(wild.p, wild.n, 1) == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_eku(wild.p, wild.n, 0) == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_eku(cn.p, cn.n, 1) == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_eku(cn.p, cn.n, 0) == SSLSOCKET__NAME_OK);
    CHECK(sslsocket__cert_check_eku(ca.p, ca.n, 1) == SSLSOCKET__NAME_OK);
    /* anyExtendedKeyUsage alone is not enough (webpki's rule) */
    CHECK(sslsocket__cert_check_eku(any.p, any.n, 1) == SSLSOCKET__NAME_EKU_MISMATCH);
    CHECK(sslsocket__cert_check_eku(any.p, any.n, 0) == SSLSOCKET__NAME_EKU_MISMATCH);
    CHECK(sslsocket__cert_check_eku(any.p, any.n - 1, 0) == SSLSOCKET__NAME_MALFORMED);
    free(rsa.p);
    free(ec.p);
    free(wild.p);
    free(cn.p);
    free(any.p);
    free(ca.p);
}

static void
test_reasons(void)
{
    int i, j;

    for (i = 0; i <= SSLSOCKET__NAME_MALFORMED; i++) {
        CHECK(sslsocket__name_reason(i) != NULL && sslsocket__name_reason(i)[0] != '\0');
        for (j = 0; j < i; j++) {
            CHECK(strcmp(sslsocket__name_reason(i), sslsocket__name_reason(j)) != 0);
        }
    }
    CHECK(strcmp(sslsocket__name_reason(SSLSOCKET__NAME_MISMATCH), "host name mismatch") == 0);
    CHECK(strcmp(sslsocket__name_reason(SSLSOCKET__NAME_WILDCARD_REFUSED),
                 "wildcard not allowed here") == 0);
    CHECK(sslsocket__name_reason(-5) != NULL && sslsocket__name_reason(99) != NULL);
}

/* Crafted certificates: patches of a real one that must be refused. */
static void
test_crafted(void)
{
    blob b = der("rsa");
    sslsocket_cert_info info;
    unsigned char *c;
    size_t i, hits = 0;

    /* a second subjectAltName (the EKU extension renamed): ambiguous, refused */
    c = dup_bytes(b.p, b.n);
    for (i = 0; i + 5 <= b.n; i++) {
        if (memcmp(c + i, "\x06\x03\x55\x1D\x25", 5) == 0) {
            c[i + 4] = 0x11;
            hits++;
        }
    }
    CHECK(hits == 1);
    CHECK(sslsocket__cert_check_host(c, b.n, "www.example.com") == SSLSOCKET__NAME_MALFORMED);
    CHECK(sslsocket__cert_parse(c, b.n, &info) < 0 && info.subject[0] == '\0');
    free(c);
    /* outer signatureAlgorithm differs from the signed one */
    c = dup_bytes(b.p, b.n);
    for (i = b.n - 1, hits = 0; i > 12; i--) {
        if (memcmp(c + i - 12, "\x06\x08\x2A\x86\x48\xCE\x3D\x04\x03\x03", 10) == 0) {
            c[i - 3] = 0x02; /* ecdsa-with-SHA384 -> SHA256 in the last occurrence */
            hits = 1;
            break;
        }
    }
    CHECK(hits == 1);
    CHECK(sslsocket__cert_parse(c, b.n, &info) < 0);
    CHECK(sslsocket__cert_check_eku(c, b.n, 1) == SSLSOCKET__NAME_MALFORMED);
    free(c);
    /* trailing garbage after the certificate */
    c = malloc(b.n + 1);
    memcpy(c, b.p, b.n);
    c[b.n] = 0;
    CHECK(sslsocket__cert_parse(c, b.n + 1, &info) < 0);
    CHECK(sslsocket__cert_parse(c, b.n, &info) == 0);
    CHECK(sslsocket__cert_parse(NULL, 0, &info) < 0);
    free(c);
    free(b.p);
}

/* Every function on one (possibly hostile) input: no crash, strings terminated, and a
 * certificate that parses has a SAN the checks can read. */
static int
hostile(const unsigned char *p, size_t n)
{
    sslsocket_cert_info info;
    sslsocket_address a = addr("127.0.0.1");
    const unsigned char *spki = NULL;
    size_t spki_len = 0;
    unsigned char *c = dup_bytes(p, n);
    int rc = sslsocket__cert_parse(c, n, &info), h, ip, ok = 1;

    h = sslsocket__cert_check_host(c, n, "www.example.com");
    ip = sslsocket__cert_check_ip(c, n, &a);
    (void)sslsocket__cert_check_eku(c, n, 1);
    if (sslsocket__der_spki(c, n, &spki, &spki_len) == 0) {
        ok &= spki >= c && spki_len <= n && (size_t)(spki - c) <= n - spki_len;
    } else {
        ok &= rc < 0 && h == SSLSOCKET__NAME_MALFORMED && ip == SSLSOCKET__NAME_MALFORMED;
    }
    ok &= memchr(info.subject, 0, sizeof info.subject) != NULL
          && memchr(info.issuer, 0, sizeof info.issuer) != NULL
          && memchr(info.common_name, 0, sizeof info.common_name) != NULL
          && memchr(info.subject_alt_names, 0, sizeof info.subject_alt_names) != NULL
          && memchr(info.serial, 0, sizeof info.serial) != NULL
          && memchr(info.sig_alg, 0, sizeof info.sig_alg) != NULL;
    if (rc == 0) {
        ok &= h != SSLSOCKET__NAME_MALFORMED && ip != SSLSOCKET__NAME_MALFORMED;
    }
    free(c);
    return ok ? rc : 99;
}

static void
test_truncated(void)
{
    size_t i, k, n;

    for (k = 0; k < NCERTS; k++) {
        blob b = der(k_certs[k]);
        for (i = 0, n = 0; i < b.n; i++) {
            n += hostile(b.p, i) < 0;
        }
        CHECK(n == b.n);
        CHECK(hostile(b.p, b.n) == 0);
        free(b.p);
    }
}

/* Header offsets of the elements openssl asn1parse sees: "off:d=D hl=H l=L". */
static size_t
headers(const char *name, size_t *off, int *depth, size_t *hl, size_t max)
{
    static char text[65536];
    const char *s = text;
    size_t n = 0;
    unsigned long o, h;
    int d;

    capture(text, sizeof text, "openssl asn1parse -inform DER -in %s.der", name);
    while (s != NULL && *s != '\0' && n < max) {
        if (sscanf(s, " %lu:d=%d hl=%lu", &o, &d, &h) == 3) {
            off[n] = o;
            depth[n] = d;
            hl[n++] = h;
        }
        s = strchr(s, '\n');
        s = s != NULL ? s + 1 : NULL;
    }
    return n;
}

static void
test_lying_lengths(void)
{
    static const char *const names[] = {"rsa", "wild", "special", "future"};
    size_t off[512], hl[512], i, j, k, n;
    int depth[512], rc;
    unsigned char *c;

    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        blob b = der(names[k]);
        n = headers(names[k], off, depth, hl, 512);
        CHECK(n > 20);
        for (i = 0; i < n; i++) {
            /* all length octets 0xFF, in place */
            c = dup_bytes(b.p, b.n);
            for (j = 1; j < hl[i]; j++) {
                c[off[i] + j] = 0xFF;
            }
            rc = hostile(c, b.n);
            if (!CHECK(rc < 0)) {
                printf("         %s: header at %zu\n", names[k], off[i]);
            }
            /* the length replaced by 84 FF FF FF FF */
            free(c);
            c = malloc(b.n + 5);
            memcpy(c, b.p, off[i] + 1);
            memcpy(c + off[i] + 1, "\x84\xFF\xFF\xFF\xFF", 5);
            memcpy(c + off[i] + 6, b.p + off[i] + hl[i], b.n - off[i] - hl[i]);
            CHECK(hostile(c, b.n + 6 - hl[i]) < 0);
            /* indefinite length */
            memcpy(c, b.p, b.n);
            c[off[i] + 1] = 0x80;
            rc = hostile(c, b.n);
            CHECK(rc != 99);
            if (depth[i] <= 2 && !CHECK(rc < 0)) {
                printf("         %s: header at %zu\n", names[k], off[i]);
            }
            free(c);
        }
        /* every byte, once 0x80 and once 0xFF, and every bit flipped */
        c = dup_bytes(b.p, b.n);
        for (i = 0; i < b.n; i++) {
            static const unsigned char vals[] = {0x80, 0xFF, 0x00, 0x84};
            unsigned char save = c[i];
            for (j = 0; j < sizeof vals; j++) {
                c[i] = vals[j];
                CHECK(hostile(c, b.n) != 99);
            }
            for (j = 0; j < 8; j++) {
                c[i] = (unsigned char)(save ^ (1u << j));
                if (!CHECK(hostile(c, b.n) != 99)) {
                    break;
                }
            }
            c[i] = save;
        }
        free(c);
        free(b.p);
    }
    /* a whole certificate claiming 0xFFFFFFFF bytes */
    {
        blob b = der("ec");
        c = malloc(b.n + 2);
        memcpy(c, "\x30\x84\xFF\xFF\xFF\xFF", 6);
        memcpy(c + 6, b.p + 4, b.n - 4);
        CHECK(hostile(c, b.n + 2) < 0);
        free(c);
        free(b.p);
    }
}

static void
test_deep_nesting(void)
{
    unsigned char buf[2048];
    size_t start = sizeof buf - 2, len;
    int level;

    buf[start] = 0x30;
    buf[start + 1] = 0x00;
    for (level = 1; level < 200; level++) {
        len = sizeof buf - start;
        if (len < 0x80) {
            buf[--start] = (unsigned char)len;
        } else if (len < 0x100) {
            buf[--start] = (unsigned char)len;
            buf[--start] = 0x81;
        } else {
            buf[--start] = (unsigned char)len;
            buf[--start] = (unsigned char)(len >> 8);
            buf[--start] = 0x82;
        }
        buf[--start] = 0x30;
    }
    CHECK(hostile(buf + start, sizeof buf - start) < 0);
    /* the same inside a Name, an extension list, and a SAN */
    memset(buf, 0x30, sizeof buf);
    CHECK(hostile(buf, sizeof buf) < 0);
    memset(buf, 0xA0, sizeof buf);
    CHECK(hostile(buf, sizeof buf) < 0);
}

static uint32_t g_rng = 0x12345678u;

static uint32_t
rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

static void
test_random(void)
{
    unsigned char buf[1024], *c;
    size_t i, j, n, k;
    int ok = 1, parsed = 0;

    for (i = 0; i < 3000 && ok; i++) {
        n = rnd() % sizeof buf;
        for (j = 0; j < n; j++) {
            buf[j] = (unsigned char)rnd();
        }
        if (n >= 4 && (i & 1)) {
            /* a plausible header so the walk gets past the first TLV */
            buf[0] = 0x30;
            buf[1] = 0x82;
            buf[2] = (unsigned char)((n - 4) >> 8);
            buf[3] = (unsigned char)(n - 4);
        }
        ok = CHECK(hostile(buf, n) < 0);
    }
    /* random mutations of real certificates */
    for (k = 0; k < NCERTS && ok; k++) {
        blob b = der(k_certs[k]);
        c = dup_bytes(b.p, b.n);
        for (i = 0; i < 300 && ok; i++) {
            memcpy(c, b.p, b.n);
            for (j = 1 + rnd() % 8; j > 0; j--) {
                c[rnd() % b.n] = (unsigned char)rnd();
            }
            n = rnd() % 4 == 0 ? rnd() % (b.n + 1) : b.n;
            j = (size_t)hostile(c, n);
            ok = CHECK(j != 99);
            parsed += j == 0;
        }
        free(c);
        free(b.p);
    }
    CHECK(parsed > 0); /* some mutations hit the signature and still parse */
}

/* White-box: the bounded writer, times, IPv6 text, wildcard rules on raw strings. */
static void
test_units(void)
{
    char buf[16];
    sslsocket__out o;
    sslsocket__der d;
    int64_t t;
    size_t size;
    int i;

    /* the writer never overflows and marks truncation */
    for (size = 1; size <= sizeof buf; size++) {
        memset(buf, 'X', sizeof buf);
        sslsocket__out_init(&o, buf, size);
        for (i = 0; i < 10; i++) {
            sslsocket__out_put(&o, "\\C3", 3);
        }
        CHECK(strlen(buf) < size && (size < 4 || size > 30 || strstr(buf, "...") != NULL));
        CHECK(size == sizeof buf || buf[size] == 'X');
    }
    sslsocket__out_init(&o, buf, 8);
    for (i = 0; i < 7; i++) {
        sslsocket__out_put(&o, &"abcdefg"[i], 1);
    }
    CHECK(strcmp(buf, "abcdefg") == 0);
    sslsocket__out_str(&o, "h");
    CHECK(strcmp(buf, "abcd...") == 0);
    sslsocket__out_init(&o, buf, 8);
    sslsocket__out_str(&o, "abcdefg"); /* one unit: all or nothing */
    sslsocket__out_str(&o, "h");
    CHECK(strcmp(buf, "...") == 0);
    /* times */
    {
        static const struct {
            const char *der;
            int64_t want;
        } tv[] = {
            {"\x17\x0D" "491231235959Z", 2524607999LL},
            {"\x17\x0D" "500101000000Z", -631152000LL},
            {"\x17\x0D" "700101000000Z", 0},
            {"\x18\x0F" "20000229120000Z", 951825600LL},
            {"\x18\x0F" "99991231235959Z", 253402300799LL},
            {"\x18\x0F" "19000101000000Z", -2208988800LL},
            {"\x18\x0F" "21000229000000Z", 1}, /* not a leap year */
            {"\x17\x0D" "230230000000Z", 1},
            {"\x17\x0D" "231301000000Z", 1},
            {"\x17\x0D" "230101240000Z", 1},
            {"\x17\x0D" "23010100000+Z", 1},
            {"\x17\x0D" "2301010000000", 1},
            {"\x17\x0F" "20230101000000Z", 1},
            {"\x18\x11" "20230101000000.5Z", 1},
            {"\x18\x13" "20230101000000+0100", 1},
        };
        for (i = 0; i < (int)(sizeof tv / sizeof tv[0]); i++) {
            d.p = (const unsigned char *)tv[i].der;
            d.n = 2 + (size_t)d.p[1];
            t = 1;
            if (tv[i].want == 1) {
                CHECK(sslsocket__der_time(&d, &t) < 0);
            } else if (!CHECK(sslsocket__der_time(&d, &t) == 0 && t == tv[i].want)) {
                printf("         %s -> %lld\n", tv[i].der + 2, (long long)t);
            }
        }
    }
    /* IPv6 text: RFC 5952 and inet_pton round trips */
    {
        static const char *const v6[] = {"::1", "::", "2001:db8::5", "1:0:0:1::1",
                                         "1:0:1:0:1:0:1:0", "0:0:1::", "fe80::1:0:0:1",
                                         "1:2:3:4:5:6:7:8", "::ffff:a00:1", "1::"};
        char txt[64];
        unsigned char ip[16], back[16];
        for (i = 0; i < (int)(sizeof v6 / sizeof v6[0]); i++) {
            inet_pton(AF_INET6, v6[i], ip);
            d.p = ip;
            d.n = 16;
            sslsocket__out_init(&o, txt, sizeof txt);
            sslsocket__out_ip(&o, &d);
            if (!CHECK(strcmp(txt, v6[i]) == 0)) {
                printf("         ours '%s' want '%s'\n", txt, v6[i]);
            }
        }
        for (i = 0; i < 2000; i++) {
            int j;
            for (j = 0; j < 16; j++) {
                ip[j] = rnd() % 3 == 0 ? (unsigned char)rnd() : 0;
            }
            d.p = ip;
            d.n = 16;
            sslsocket__out_init(&o, txt, sizeof txt);
            sslsocket__out_ip(&o, &d);
            if (!CHECK(inet_pton(AF_INET6, txt, back) == 1 && memcmp(ip, back, 16) == 0)) {
                break;
            }
        }
    }
    /* wildcard rules on raw strings: 1 match, 2 refused wildcard, 0 no match */
    {
        static const struct {
            const char *pat, *host;
            int want;
        } mv[] = {
            {"*.example.com", "a.example.com", 1},  {"*.example.com", "a.b.example.com", 0},
            {"*.example.com", "example.com", 0},    {"*.com", "example.com", 2},
            {"*.localhost", "a.localhost", 2},      {"f*.example.com", "foo.example.com", 2},
            {"*o.example.com", "foo.example.com", 2}, {"f*o.example.com", "fxo.example.com", 2},
            {"f*.example.com", "bar.example.com", 0}, {"a.*.example.com", "a.b.example.com", 0},
            {"*", "localhost", 0},                  {"**.example.com", "a.example.com", 2},
            {"*.example.com.", "a.example.com", 1}, {"EXAMPLE.com", "example.COM", 1},
            {"example.com", "example.com.evil", 0}, {"*.exa mple.com", "a.exa mple.com", 0},
            {"xn--*.example.com", "xn--a.example.com", 2}, {"*.co.uk", "example.co.uk", 1},
            {"ex_ample.com", "ex_ample.com", 1},    {"", "a", 0}, {".", "a", 0},
            {"*..example.com", "a..example.com", 0},
        };
        for (i = 0; i < (int)(sizeof mv / sizeof mv[0]); i++) {
            int r = sslsocket__host_match((const unsigned char *)mv[i].pat, strlen(mv[i].pat),
                                         (const unsigned char *)mv[i].host,
                                         strlen(mv[i].host));
            if (!CHECK(r == mv[i].want)) {
                printf("         '%s' vs '%s': %d\n", mv[i].pat, mv[i].host, r);
            }
        }
    }
}

static void
cleanup(void)
{
    char cmd[128];

    if (g_dir[0] != '\0' && getenv("KEEP_X509_TMP") == NULL) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) {
            printf("could not remove %s\n", g_dir);
        }
    }
}

int
main(void)
{
    strcpy(g_dir, "/tmp/test_x509.XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    RUN(test_generate);
    RUN(test_units);
    RUN(test_reasons);
    RUN(test_deep_nesting);
    if (g_ready) {
        RUN(test_fields_match_openssl);
        RUN(test_specific_values);
        RUN(test_host);
        RUN(test_ip);
        RUN(test_eku);
        RUN(test_crafted);
        RUN(test_truncated);
        RUN(test_lying_lengths);
        RUN(test_random);
    }
    cleanup();
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed != 0 || !g_ready;
}
