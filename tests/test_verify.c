/* test_verify.c - the client's negative certificate matrix against real
 * peers (`openssl s_server -www`, and a small Python `ssl` server where the
 * test needs to know what the server received).
 *
 * Every certificate is made at test time with `openssl ca` inside a fixed
 * validity window, 2030-01-01 .. 2031-01-01 (CAs 2020 .. 2049), and the
 * client's clock is injected with sslsocket_config_set_time(), so nothing
 * here depends on the real date.
 *
 * Each failing case runs twice:
 *   <case>_verify  VERIFY_PEER (client default): V then X13, the specific
 *                  sentence, the exact problem list, and nothing of the
 *                  queued request reached the server (no HTTP reply).
 *   <case>_query   QUERY_PEER: V then E, HTTP reply received, exactly the
 *                  expected problem codes listed.
 *
 * The path cases (section "paths": name constraints, chains out of order,
 * cross-signing, path lengths, issuers' EKU, the anchor's validity) also
 * name their trust store and check the chain the server was seen to send;
 * the expired and not-yet-valid roots (2030-03-01, 2030-06-01) are the only
 * CAs outside 2020 .. 2049.
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

static unsigned char store[512 * 1024];
static sslsocket_config cfg;
static sslsocket sock;

/* Unix times around the certificates' window. */
#define T_START 1893456000 /* 2030-01-01 00:00:00Z = notBefore */
#define T_END 1924992000   /* 2031-01-01 00:00:00Z = notAfter */
#define T_INSIDE 1909094400 /* 2030-07-01 */
#define T_BEFORE 1877558400 /* 2029-07-01 */
#define T_AFTER 1956528000  /* 2032-01-01 */

#define M(code) SSLSOCKET_SSLERR_MASK(SSLSOCKET_SSLERR_##code)

static const char request[] = "GET / HTTP/1.0\r\n\r\n";

/* ------------------------------------------------------------------ fixtures */

static const char ca_cnf[] =
    "[ ca ]\n"
    "default_ca = vca\n"
    "[ vca ]\n"
    "dir = .\n"
    "database = index.txt\n"
    "new_certs_dir = newcerts\n"
    "serial = serial\n"
    "default_md = sha256\n"
    "policy = policy_any\n"
    "unique_subject = no\n"
    "copy_extensions = none\n"
    "email_in_dn = no\n"
    "[ policy_any ]\n"
    "commonName = supplied\n"
    "organizationName = optional\n"
    "[ req ]\n"
    "distinguished_name = req_dn\n"
    "[ req_dn ]\n"
    "[ ext_ca ]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[ ext_good ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_other ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:other.example\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_dnsonly ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:localhost\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_wildcom ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:*.com\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_wild ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:*.example.test\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_clientauth ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
    "extendedKeyUsage = clientAuth\n"
    "[ ext_nosan ]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_caleaf ]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,digitalSignature,keyCertSign\n"
    "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
    "extendedKeyUsage = serverAuth\n"

    "[ ext_anyeku ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
    "extendedKeyUsage = anyExtendedKeyUsage\n";

/* The path cases' sections (appended to ca.cnf: one C99 string is at most
   4095 bytes).  Name-constrained CAs come in pairs, the constraint
   non-critical and critical (_c); the root ncroot uses ext_ncdns too. */
#define CA_BASE                                                                            \
    "basicConstraints = critical,CA:TRUE\n"                                                \
    "keyUsage = critical,keyCertSign,cRLSign\n"                                            \
    "subjectKeyIdentifier = hash\n"
static const char ca_cnf_paths[] =
    "[ ext_ncdns ]\n" CA_BASE "nameConstraints = permitted;DNS:example.test\n"
    "[ ext_ncdns_c ]\n" CA_BASE "nameConstraints = critical,permitted;DNS:example.test\n"
    "[ ext_ncexdns ]\n" CA_BASE "nameConstraints = excluded;DNS:example.test\n"
    "[ ext_ncexdns_c ]\n" CA_BASE "nameConstraints = critical,excluded;DNS:example.test\n"
    "[ ext_ncip ]\n" CA_BASE "nameConstraints = permitted;IP:127.0.0.0/255.0.0.0\n"
    "[ ext_ncip_c ]\n" CA_BASE "nameConstraints = critical,permitted;IP:127.0.0.0/255.0.0.0\n"
    "[ ext_ncexip ]\n" CA_BASE "nameConstraints = excluded;IP:127.0.0.0/255.255.255.0\n"
    "[ ext_ncexip_c ]\n" CA_BASE
    "nameConstraints = critical,excluded;IP:127.0.0.0/255.255.255.0\n"
    "[ ext_ca_pl0 ]\n"
    "basicConstraints = critical,CA:TRUE,pathlen:0\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[ ext_ca_pl1 ]\n"
    "basicConstraints = critical,CA:TRUE,pathlen:1\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[ ext_ca_cliauth ]\n" CA_BASE "extendedKeyUsage = clientAuth\n"
    "[ ext_ca_srvauth ]\n" CA_BASE "extendedKeyUsage = serverAuth,clientAuth\n"
    "[ ext_www ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:www.example.test\n"
    "extendedKeyUsage = serverAuth\n"
    "[ ext_ipout ]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:localhost,IP:10.1.2.3\n"
    "extendedKeyUsage = serverAuth\n";

/* A CA-issued certificate: SIGN <ca> <csr> <ext> <subject> <window> <out> */
#define SIGN(ca, csr, ext, subj, win, out)                                                 \
    "openssl ca -batch -notext -config ca.cnf -cert " ca ".pem -keyfile " ca ".key -in "    \
    csr ".csr -extensions " ext " -subj '" subj "' " win " -out " out ".pem && "
/* A self-signed one (the key is the CSR's). */
#define SELF(key, ext, subj, win, out)                                                      \
    "openssl ca -batch -notext -config ca.cnf -selfsign -keyfile " key ".key -in " key      \
    ".csr -extensions " ext " -subj '" subj "' " win " -out " out ".pem && "
#define ECKEY(k)                                                                           \
    "openssl ecparam -name prime256v1 -genkey -noout -out " k ".key && "                   \
    "openssl req -new -config ca.cnf -key " k ".key -subj '/CN=" k "' -out " k ".csr && "
#define CA_WIN "-startdate 20200101000000Z -enddate 20491231235959Z"
#define LEAF_WIN "-startdate 20300101000000Z -enddate 20310101000000Z"

static const char python_server[] =
    "import os, socket, ssl, sys\n"
    "port_file, result_file, cert, key = sys.argv[1:5]\n"
    "def put(path, text):\n"
    "    with open(path + '.tmp', 'w') as f:\n"
    "        f.write(text)\n"
    "    os.rename(path + '.tmp', path)\n"
    "ls = socket.socket()\n"
    "ls.bind(('127.0.0.1', 0))\n"
    "ls.listen(1)\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(cert, key)\n"
    "put(port_file, str(ls.getsockname()[1]))\n"
    "c, _ = ls.accept()\n"
    "c.settimeout(10)\n"
    "try:\n"
    "    s = ctx.wrap_socket(c, server_side=True)\n"
    "except Exception as e:\n"
    "    put(result_file, 'handshake=fail appbytes=0 err=%s\\n' % e)\n"
    "    sys.exit(0)\n"
    "data, err = b'', ''\n"
    "try:\n"
    "    while b'\\r\\n\\r\\n' not in data:\n"
    "        d = s.recv(4096)\n"
    "        if not d:\n"
    "            break\n"
    "        data += d\n"
    "    if b'\\r\\n\\r\\n' in data:\n"
    "        s.sendall(b'HTTP/1.0 200 ok\\r\\n\\r\\nhello from python\\n')\n"
    "except Exception as e:\n"
    "    err = str(e)\n"
    "put(result_file, 'handshake=ok appbytes=%d err=%s\\n' % (len(data), err))\n"
    "try:\n"
    "    s.unwrap()\n"
    "except Exception:\n"
    "    pass\n";

static int
write_file(const char *name, const char *text)
{
    FILE *f = fopen(peers_path(name), "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/*
 *   vca      root CA (trusted), window 2020..2049
 *   ca2      another root, NOT in the trust store
 *   i1,i2,i3 intermediates: root -> i1 -> i2 -> i3
 *   leaf.key one EC key for most CA-issued leaves; ss.key for self-signed
 *   good     SAN DNS:localhost, IP:127.0.0.1, serverAuth (root)
 *   other    SAN DNS:other.example                  (root)
 *   dnsonly  SAN DNS:localhost only                  (root)
 *   wildcom  SAN DNS:*.com                           (root)
 *   wild     SAN DNS:*.example.test                  (root)
 *   cliauth  EKU clientAuth only                     (root)
 *   nosan    CN=localhost, no SAN                    (root)
 *   unknown  like good, issued by ca2
 *   deep     like good, issued by i3; chain3.pem = i3, i2, i1
 *   mid      like good, issued by i1 (served without i1)
 *   weak     RSA-1024 key, like good                 (root)
 *   ss       self-signed, like good
 *   ssother  self-signed, SAN DNS:other.example (the combined case)
 *   pin_ss.txt / pin_ca.txt / pinhex_ss.txt  SPKI SHA-256 pins
 * and for the path cases (make_path_fixtures):
 *   ncdns, ncexdns, ncip, ncexip (+ _c, the constraint critical)
 *            intermediates under vca with name constraints: permitted
 *            DNS:example.test, excluded DNS:example.test, permitted IP
 *            127.0.0.0/8, excluded IP 127.0.0.0/24; their leaves
 *            ncdns_in (www.example.test), ncdns_out (other.example),
 *            ncexdns_hit (www.example.test), ncexdns_miss (localhost),
 *            ncip_in (localhost, 127.0.0.1), ncip_out (localhost, 10.1.2.3),
 *            ncexip_hit (localhost, 127.0.0.1), ncexip_miss (localhost, 10.1.2.3)
 *   ncroot (+ _c)  a root with nameConstraints permitted DNS:example.test
 *            (the trust store for its cases); leaves ncroot_in (www.example.test),
 *            ncroot_out (other.example); ncroot_i an unconstrained
 *            intermediate under it, ncroot_deep (other.example) under that
 *   ooo_root.pem = vca, i1; ooo_extra.pem = ca2, i1; ooo_rev.pem = i1, i2, i3
 *            (chains served out of order with mid and deep)
 *   xi_ca2, xi_vca  one intermediate (xi.key, one subject) issued by ca2
 *            and by vca; cross (like good) under it; cross_chain.pem =
 *            xi_ca2, xi_vca; cross_chain2.pem = xi_ca2, ca2, xi_vca;
 *            cross_bad.pem = xi_ca2
 *   pl0 (pathlen:0) -> pl0s -> pl0deep; pl0leaf under pl0;
 *            pl1 (pathlen:1) -> pl1s -> pl1deep
 *   ekucli, ekusrv  intermediates with EKU clientAuth / serverAuth,clientAuth;
 *            ekucli_leaf, ekusrv_leaf under them
 *   old      a root valid 2020-01-01 .. 2030-03-01, old_leaf under it
 *   young    a root valid 2030-06-01 .. 2049, young_leaf under it
 */
/* An intermediate under vca with the section ext_<id>, and two leaves
   under it: NC_SET(id, subject, ext1, cn1, leaf1, ext2, cn2, leaf2) */
#define NC_SET(id, subj, e1, s1, o1, e2, s2, o2)                                           \
    ECKEY(id) SIGN("vca", id, "ext_" id, subj, CA_WIN, id)                                  \
    SIGN(id, "leaf", e1, s1, LEAF_WIN, o1) SIGN(id, "leaf", e2, s2, LEAF_WIN, o2)
/* A root with name constraints (ext_ncdns<c>), leaves for inside and
   outside, and an unconstrained intermediate with a leaf outside */
#define NC_ROOT(id, c, subj)                                                               \
    ECKEY(id) SELF(id, "ext_ncdns" c, subj, CA_WIN, id)                                     \
    SIGN(id, "leaf", "ext_www", "/CN=www.example.test", LEAF_WIN, id "_in")                 \
    SIGN(id, "leaf", "ext_other", "/CN=other.example", LEAF_WIN, id "_out")                 \
    ECKEY(id "_i") SIGN(id, id "_i", "ext_ca", subj " intermediate", CA_WIN, id "_i")       \
    SIGN(id "_i", "leaf", "ext_other", "/CN=other.example", LEAF_WIN, id "_deep")

static int
make_path_fixtures(void)
{
    return peers_sh(
               NC_SET("ncdns", "/CN=verify nc dns", "ext_www", "/CN=www.example.test",
                      "ncdns_in", "ext_other", "/CN=other.example", "ncdns_out")
               NC_SET("ncdns_c", "/CN=verify nc dns critical", "ext_www", "/CN=www.example.test",
                      "ncdns_c_in", "ext_other", "/CN=other.example", "ncdns_c_out")
               NC_SET("ncexdns", "/CN=verify nc excluded dns", "ext_www",
                      "/CN=www.example.test", "ncexdns_hit", "ext_dnsonly", "/CN=localhost",
                      "ncexdns_miss")
               "true")
        || peers_sh(
               NC_SET("ncexdns_c", "/CN=verify nc excluded dns critical", "ext_www",
                      "/CN=www.example.test", "ncexdns_c_hit", "ext_dnsonly", "/CN=localhost",
                      "ncexdns_c_miss")
               NC_SET("ncip", "/CN=verify nc ip", "ext_good", "/CN=localhost", "ncip_in",
                      "ext_ipout", "/CN=localhost", "ncip_out")
               NC_SET("ncip_c", "/CN=verify nc ip critical", "ext_good", "/CN=localhost",
                      "ncip_c_in", "ext_ipout", "/CN=localhost", "ncip_c_out")
               "true")
        || peers_sh(
               NC_SET("ncexip", "/CN=verify nc excluded ip", "ext_good", "/CN=localhost",
                      "ncexip_hit", "ext_ipout", "/CN=localhost", "ncexip_miss")
               NC_SET("ncexip_c", "/CN=verify nc excluded ip critical", "ext_good",
                      "/CN=localhost", "ncexip_c_hit", "ext_ipout", "/CN=localhost",
                      "ncexip_c_miss")
               "cat vca.pem i1.pem > ooo_root.pem && cat ca2.pem i1.pem > ooo_extra.pem && "
               "cat i1.pem i2.pem i3.pem > ooo_rev.pem")
        || peers_sh(
               NC_ROOT("ncroot", "", "/CN=sslsocket constrained root")
               NC_ROOT("ncroot_c", "_c", "/CN=sslsocket constrained root critical")
               "true")
        || peers_sh(
               ECKEY("xi")
               SIGN("ca2", "xi", "ext_ca", "/CN=verify cross intermediate", CA_WIN, "xi_ca2")
               SIGN("vca", "xi", "ext_ca", "/CN=verify cross intermediate", CA_WIN, "xi_vca")
               "cp xi_vca.pem xi.pem && "
               SIGN("xi", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "cross")
               "cat xi_ca2.pem xi_vca.pem > cross_chain.pem && "
               "cat xi_ca2.pem ca2.pem xi_vca.pem > cross_chain2.pem && "
               "cp xi_ca2.pem cross_bad.pem && "
               ECKEY("pl0") SIGN("vca", "pl0", "ext_ca_pl0", "/CN=verify pathlen 0", CA_WIN, "pl0")
               ECKEY("pl0s")
               SIGN("pl0", "pl0s", "ext_ca", "/CN=verify under pathlen 0", CA_WIN, "pl0s")
               "true")
        || peers_sh(
               SIGN("pl0s", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "pl0deep")
               SIGN("pl0", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "pl0leaf")
               "cat pl0s.pem pl0.pem > pl0deep_chain.pem && "
               ECKEY("pl1") SIGN("vca", "pl1", "ext_ca_pl1", "/CN=verify pathlen 1", CA_WIN, "pl1")
               ECKEY("pl1s")
               SIGN("pl1", "pl1s", "ext_ca", "/CN=verify under pathlen 1", CA_WIN, "pl1s")
               SIGN("pl1s", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "pl1deep")
               "cat pl1s.pem pl1.pem > pl1deep_chain.pem && "
               "true")
        || peers_sh(
               ECKEY("ekucli")
               SIGN("vca", "ekucli", "ext_ca_cliauth", "/CN=verify clientAuth intermediate",
                    CA_WIN, "ekucli")
               SIGN("ekucli", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "ekucli_leaf")
               ECKEY("ekusrv")
               SIGN("vca", "ekusrv", "ext_ca_srvauth", "/CN=verify serverAuth intermediate",
                    CA_WIN, "ekusrv")
               SIGN("ekusrv", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "ekusrv_leaf")
               ECKEY("old")
               SELF("old", "ext_ca", "/CN=sslsocket expired root",
                    "-startdate 20200101000000Z -enddate 20300301000000Z", "old")
               SIGN("old", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "old_leaf")
               ECKEY("young")
               SELF("young", "ext_ca", "/CN=sslsocket young root",
                    "-startdate 20300601000000Z -enddate 20491231235959Z", "young")
               SIGN("young", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "young_leaf")
               "true");
}

static int
make_fixtures(void)
{
    if (write_file("ca.cnf", ca_cnf) != 0 || write_file("ca_paths.cnf", ca_cnf_paths) != 0
        || write_file("server.py", python_server) != 0)
        return -1;
    /* several commands: peers_sh takes up to 4 KiB, C99 strings 4095 bytes */
    return peers_sh(
               "cat ca_paths.cnf >> ca.cnf && "
               "mkdir -p newcerts && : > index.txt && echo 1000 > serial && "
               ECKEY("vca") SELF("vca", "ext_ca", "/CN=sslsocket verify root", CA_WIN, "vca")
               ECKEY("ca2") SELF("ca2", "ext_ca", "/CN=sslsocket unknown root", CA_WIN, "ca2")
               ECKEY("i1") SIGN("vca", "i1", "ext_ca", "/CN=verify intermediate 1", CA_WIN, "i1")
               ECKEY("i2") SIGN("i1", "i2", "ext_ca", "/CN=verify intermediate 2", CA_WIN, "i2")
               ECKEY("i3") SIGN("i2", "i3", "ext_ca", "/CN=verify intermediate 3", CA_WIN, "i3")
               "cat i3.pem i2.pem i1.pem > chain3.pem")
        || peers_sh(
               ECKEY("leaf") ECKEY("ss")
               SIGN("vca", "leaf", "ext_good", "/CN=localhost/O=sslsocket verify", LEAF_WIN, "good")
               SIGN("vca", "leaf", "ext_other", "/CN=other.example", LEAF_WIN, "other")
               SIGN("vca", "leaf", "ext_dnsonly", "/CN=localhost", LEAF_WIN, "dnsonly")
               SIGN("vca", "leaf", "ext_wildcom", "/CN=*.com", LEAF_WIN, "wildcom")
               SIGN("vca", "leaf", "ext_wild", "/CN=*.example.test", LEAF_WIN, "wild")
               "true")
        || peers_sh(
               SIGN("vca", "leaf", "ext_clientauth", "/CN=localhost", LEAF_WIN, "cliauth")
               SIGN("vca", "leaf", "ext_nosan", "/CN=localhost", LEAF_WIN, "nosan")
               SIGN("ca2", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "unknown")
               SIGN("i3", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "deep")
               SIGN("i1", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "mid")
               "true")
        || peers_sh(
               "openssl genrsa -out weak.key 1024 && "
               "openssl req -new -config ca.cnf -key weak.key -subj '/CN=weak' -out weak.csr && "
               SIGN("vca", "weak", "ext_good", "/CN=localhost", LEAF_WIN, "weak")
               SELF("ss", "ext_good", "/CN=localhost/O=self-signed", LEAF_WIN, "ss")
               SELF("ss", "ext_other", "/CN=other.example/O=self-signed", LEAF_WIN, "ssother")
               "for k in ss vca; do openssl pkey -in $k.key -pubout -outform DER "
               "  | openssl dgst -sha256 -binary | base64 > pin_$k.txt || exit 1; done && "
               "openssl pkey -in ss.key -pubout -outform DER | openssl dgst -sha256 -hex "
               "  | sed 's/.*= *//' > pinhex_ss.txt")
        || peers_sh(
               /* leaf rules (webpki's): CA:TRUE, anyEKU alone,
                  SHA-1, serial 0, a 21-byte serial, a 2052-bit RSA modulus */
               SIGN("vca", "leaf", "ext_caleaf", "/CN=localhost", LEAF_WIN, "caleaf")
               SIGN("vca", "leaf", "ext_anyeku", "/CN=localhost", LEAF_WIN, "anyeku")
               "openssl ca -batch -notext -config ca.cnf -md sha1 -cert vca.pem -keyfile vca.key "
               "  -in leaf.csr -extensions ext_good -subj /CN=localhost " LEAF_WIN
               "  -out sha1.pem && "
               "for sn in 0 0x0102030405060708090a0b0c0d0e0f101112131415; do "
               "  openssl x509 -req -in leaf.csr -CA vca.pem -CAkey vca.key -set_serial $sn "
               "    -days 7300 -extfile ca.cnf -extensions ext_good -out serial$sn.pem "
               "    || exit 1; done && mv serial0.pem serial0leaf.pem && "
               "mv serial0x0102030405060708090a0b0c0d0e0f101112131415.pem serial21.pem && "
               "openssl ca -batch -notext -config ca.cnf -md sha1 -cert vca.pem -keyfile vca.key "
               "  -in i1.csr -extensions ext_ca -subj '/CN=verify intermediate 1' " CA_WIN
               "  -out i1sha1.pem && "
               SIGN("i1", "leaf", "ext_good", "/CN=localhost", LEAF_WIN, "undersha1")
               "openssl genrsa -out odd.key 2052 && "
               "openssl req -new -config ca.cnf -key odd.key -subj '/CN=odd' -out odd.csr && "
               SIGN("vca", "odd", "ext_good", "/CN=localhost", LEAF_WIN, "oddrsa")
               "true")
        || make_path_fixtures();
}

/* Pin text from a file made by make_fixtures, "sha256/" prefixed unless hex. */
static const char *
pin_from(const char *file, int hex)
{
    static char buf[2][128];
    static int k;
    size_t n;
    const char *t = peers_slurp(peers_path(file), &n);
    k = !k;
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
        n--;
    snprintf(buf[k], sizeof buf[k], "%s%.*s", hex ? "" : "sha256/", (int)n, t);
    return buf[k];
}

/* ------------------------------------------------------------------ peers */

/* `openssl s_server -www` on 127.0.0.1 with extra arguments; returns its port. */
static unsigned
start_s_server(peers_proc *p, const char *cert, const char *key, const char *extra)
{
    char opts[512];
    snprintf(opts, sizeof opts, "-quiet -www %s", extra ? extra : "");
    return peers_s_server(p, "s_server.log", "127.0.0.1", cert, key, opts);
}

/* Wait (bounded, polling) until a file exists; returns its text or NULL. */
static const char *
wait_file(const char *name, int timeout_ms)
{
    int64_t end = peers_now_ms() + timeout_ms;
    while (peers_now_ms() < end) {
        if (access(peers_path(name), F_OK) == 0)
            return peers_slurp(peers_path(name), NULL);
        {
            struct timespec ts = { 0, 10 * 1000000 };
            nanosleep(&ts, NULL); /* polling interval, not synchronisation */
        }
    }
    return NULL;
}

/* The Python server: one connection, records what it received in
 * <tag>.result ("handshake=ok appbytes=N err=..."). Returns its port. */
static unsigned
start_py_server(peers_proc *p, const char *tag, const char *cert, const char *key)
{
    char portf[64], resf[64], certp[512], keyp[512];
    char *argv[8];
    const char *t;
    snprintf(portf, sizeof portf, "%s.port", tag);
    snprintf(resf, sizeof resf, "%s.result", tag);
    snprintf(certp, sizeof certp, "%s", peers_path(cert));
    snprintf(keyp, sizeof keyp, "%s", peers_path(key));
    argv[0] = "python3";
    argv[1] = "server.py";
    argv[2] = portf;
    argv[3] = resf;
    argv[4] = certp;
    argv[5] = keyp;
    argv[6] = NULL;
    *p = peers_spawn("python.log", argv);
    t = wait_file(portf, 5000);
    if (t == NULL) {
        printf("python server did not start\n");
        return 0;
    }
    return (unsigned)atoi(t);
}

/* ------------------------------------------------------------------ helpers */

/* The path cases set these for one run: the trust store's one file (NULL:
   vca.pem), and the subjects of the issuer certificates the peer must be
   seen to send, in order (NULL: not checked). */
static const char *anchor_file;
static const char *const *sent_want;

static void
fresh_config(int64_t when)
{
    const char *ca = anchor_file ? anchor_file : "vca.pem";
    sslsocket_config_init(&cfg, store, sizeof store);
    if (sslsocket_config_add_ca_file(&cfg, peers_path(ca)) != 1)
        printf("CA load failed (%s): %s\n", ca, sslsocket_config_error_string(&cfg));
    sslsocket_config_set_time(&cfg, when);
}

static void
log_init(drive_log *l, unsigned char *rx, size_t cap)
{
    memset(l, 0, sizeof *l);
    memset(rx, 0, cap);
    l->rx = rx;
    l->rx_cap = cap - 1;
}

static int
got_http(sslsocket *s, drive_log *l)
{
    (void)s;
    return l->rx_len > 0 && strstr((char *)l->rx, "\r\n\r\n") != NULL;
}

static int
saw_ssl_errors(sslsocket *s, drive_log *l)
{
    (void)s;
    return (l->all & SSLSOCKET_EV_SSL_ERRORS) != 0;
}

/* Position of an event token in the log (" V ", " E ", ...), or -1. */
static int
ev_pos(const drive_log *l, const char *tok)
{
    char buf[sizeof l->text + 2], pat[16];
    const char *p;
    snprintf(buf, sizeof buf, " %s", l->text);
    snprintf(pat, sizeof pat, " %s ", tok);
    p = strstr(buf, pat);
    return p ? (int)(p - buf) : -1;
}

/* The problem list as text, for failure messages. */
static const char *
problems_text(const sslsocket *s)
{
    static char buf[256];
    size_t o = 0;
    int i;
    buf[0] = 0;
    for (i = 0; i < sslsocket_ssl_error_count(s) && o < sizeof buf - 8; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%d", i ? "," : "",
                              sslsocket_ssl_error_code(s, i));
    return buf;
}

/* The recorded problems are exactly `want` (any order, no duplicates). */
static int
problems_are(const sslsocket *s, const int *want, int n_want)
{
    int i, k;
    if (sslsocket_ssl_error_count(s) != n_want)
        return 0;
    for (i = 0; i < n_want; i++) {
        int found = 0;
        for (k = 0; k < n_want; k++)
            found += sslsocket_ssl_error_code(s, k) == want[i];
        if (found != 1)
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ the matrix */

typedef struct vcase {
    const char *cert, *key, *chain; /* served leaf, key, -cert_chain file */
    const char *host;               /* connect to (always loopback) */
    const char *name;               /* peer verify name, NULL = the host */
    int64_t when;                   /* injected time */
    int depth;                      /* verify depth, 0 = default */
    const char *extra;              /* more s_server arguments */
    int n;                          /* expected problems */
    int want[4];
    const char *phrase;             /* in the error string under VERIFY_PEER */
} vcase;

static void
connect_case(const vcase *c, peers_proc *p, int mode)
{
    char extra[256];
    unsigned port;
    snprintf(extra, sizeof extra, "%s%s %s", c->chain ? "-cert_chain " : "",
             c->chain ? peers_path(c->chain) : "", c->extra ? c->extra : "");
    fresh_config(c->when);
    if (c->depth)
        CHECK(sslsocket_config_set_peer_verify_depth(&cfg, c->depth) == 0);
    if (mode >= 0)
        CHECK(sslsocket_config_set_peer_verify_mode(&cfg, mode) == 0);
    port = start_s_server(p, c->cert, c->key, extra);
    CHECK(port != 0);
    sslsocket_init(&sock, &cfg);
    if (c->name)
        CHECK(sslsocket_set_peer_verify_name(&sock, c->name) == 0);
    CHECK(sslsocket_connect_encrypted(&sock, c->host, port, SSLSOCKET_READ_WRITE) == 0);
    /* queued before the handshake: must never leave on a failed verification */
    CHECK(sslsocket_write_string(&sock, request) == (ptrdiff_t)strlen(request));
}

/* The chain as the peer sent it: exactly the issuers `sent` (subjects, in
   order, NULL-terminated) after the leaf. */
static void
check_sent(const sslsocket *s, const char *const *sent)
{
    int n = 0, i;
    while (sent[n])
        n++;
    CHECKF(sslsocket_peer_chain_length(s) == n + 1, "chain length %d, want %d",
           sslsocket_peer_chain_length(s), n + 1);
    for (i = 0; i < n; i++) {
        const sslsocket_chain_entry *e = sslsocket_peer_chain_entry(s, i + 1);
        CHECKF(e != NULL && strcmp(e->subject, sent[i]) == 0, "sent[%d]: %s, want %s", i + 1,
               e ? e->subject : "(none)", sent[i]);
    }
}

/* VERIFY_PEER (the client default, not set explicitly): the handshake fails. */
static void
run_verify(const vcase *c)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(c, &p, -1);
    CHECK(sslsocket_peer_verify_mode(&sock) == SSLSOCKET_AUTO_VERIFY_PEER);
    CHECK(drive_until(&sock, &l, NULL, 5000));
    CHECKF(ev_pos(&l, "X13") > 0, "events: %s", l.text);
    CHECKF(ev_pos(&l, "E") < 0, "events: %s", l.text);
    /* SPEC 3: failure "after the SSL-errors event that lists the problems" */
    CHECKF(ev_pos(&l, "V") > 0 && ev_pos(&l, "V") < ev_pos(&l, "X13"), "events: %s", l.text);
    CHECKF(strstr(l.text, "S0 D") != NULL, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, c->phrase);
    CHECKF(problems_are(&sock, c->want, c->n), "problems: [%s]", problems_text(&sock));
    CHECK(!sslsocket_is_encrypted(&sock));
    CHECK(sslsocket_state(&sock) == SSLSOCKET_UNCONNECTED);
    /* s_server -www answers any request: silence means none arrived */
    CHECKF(l.rx_len == 0, "received: %.80s", (char *)rx);
    peers_kill(&p);
}

/* QUERY_PEER: problems recorded, connection proceeds. */
static void
run_query(const vcase *c)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(c, &p, SSLSOCKET_QUERY_PEER);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C V E ", 20) == 0, "events: %s", l.text);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
    CHECKF(problems_are(&sock, c->want, c->n), "problems: [%s]", problems_text(&sock));
    CHECK(sslsocket_peer_certificate(&sock) != NULL);
    CHECK(sslsocket_error(&sock) == SSLSOCKET_ERR_UNKNOWN);
    if (sent_want)
        check_sent(&sock, sent_want);
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000));
    peers_kill(&p);
}

/* A case that must pass under VERIFY_PEER with no problem at all. */
static void
run_pass(const vcase *c)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(c, &p, -1);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "events: %s", l.text);
    CHECKF(ev_pos(&l, "V") < 0, "events: %s", l.text);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
    CHECKF(sslsocket_ssl_error_count(&sock) == 0, "problems: [%s]", problems_text(&sock));
    CHECKF(sslsocket_error(&sock) == SSLSOCKET_ERR_UNKNOWN, "error: %s",
           sslsocket_error_string(&sock));
    if (sent_want)
        check_sent(&sock, sent_want);
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000));
    CHECKF(strstr(l.text, "S6 S0 D") != NULL, "events: %s", l.text);
    peers_kill(&p);
}

#define LOCAL "127.0.0.1"
#define NOEXTRA 0, NULL

static const vcase c_valid = { "good.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE,
                               NOEXTRA, 0, { 0 }, NULL };
static const vcase c_expired = { "good.pem", "leaf.key", NULL, LOCAL, "localhost", T_AFTER,
                                 NOEXTRA, 1, { SSLSOCKET_SSLERR_EXPIRED },
                                 "certificate expired" };
static const vcase c_not_yet = { "good.pem", "leaf.key", NULL, LOCAL, "localhost", T_BEFORE,
                                 NOEXTRA, 1, { SSLSOCKET_SSLERR_NOT_YET_VALID },
                                 "certificate is not yet valid" };
static const vcase c_wrong_host = { "other.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE,
                                    NOEXTRA, 1, { SSLSOCKET_SSLERR_HOST_MISMATCH },
                                    "host name mismatch: expected localhost" };
static const vcase c_ip_ok = { "good.pem", "leaf.key", NULL, LOCAL, NULL, T_INSIDE,
                               NOEXTRA, 0, { 0 }, NULL };
static const vcase c_ip_mismatch = { "dnsonly.pem", "leaf.key", NULL, LOCAL, NULL, T_INSIDE,
                                     NOEXTRA, 1, { SSLSOCKET_SSLERR_IP_MISMATCH },
                                     "IP address not in certificate" };
static const vcase c_wild_tld = { "wildcom.pem", "leaf.key", NULL, LOCAL, "example.com",
                                  T_INSIDE, NOEXTRA, 1, { SSLSOCKET_SSLERR_WILDCARD },
                                  "wildcard" };
static const vcase c_wild_ok = { "wild.pem", "leaf.key", NULL, LOCAL, "a.example.test",
                                 T_INSIDE, NOEXTRA, 0, { 0 }, NULL };
static const vcase c_wild_deep = { "wild.pem", "leaf.key", NULL, LOCAL, "a.b.example.test",
                                   T_INSIDE, NOEXTRA, 1, { SSLSOCKET_SSLERR_HOST_MISMATCH },
                                   "host name mismatch: expected a.b.example.test" };
static const vcase c_eku = { "cliauth.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE,
                             NOEXTRA, 1, { SSLSOCKET_SSLERR_EKU }, "extended key usage" };
static const vcase c_self_signed = { "ss.pem", "ss.key", NULL, LOCAL, "localhost", T_INSIDE,
                                     NOEXTRA, 1, { SSLSOCKET_SSLERR_UNTRUSTED }, "not trusted" };
static const vcase c_unknown_ca = { "unknown.pem", "leaf.key", NULL, LOCAL, "localhost",
                                    T_INSIDE, NOEXTRA, 1, { SSLSOCKET_SSLERR_UNTRUSTED },
                                    "not trusted" };
static const vcase c_no_san = { "nosan.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE,
                                NOEXTRA, 1, { SSLSOCKET_SSLERR_NO_SAN },
                                "no subject alternative name" };
static const vcase c_chain_ok = { "deep.pem", "leaf.key", "chain3.pem", LOCAL, "localhost",
                                  T_INSIDE, NOEXTRA, 0, { 0 }, NULL };
static const vcase c_chain_long = { "deep.pem", "leaf.key", "chain3.pem", LOCAL, "localhost",
                                    T_INSIDE, 2, NULL, 1, { SSLSOCKET_SSLERR_CHAIN_TOO_LONG },
                                    "chain too long" };
static const vcase c_weak = { "weak.pem", "weak.key", NULL, LOCAL, "localhost", T_INSIDE, 0,
                              "-cipher DEFAULT:@SECLEVEL=0", 1, { SSLSOCKET_SSLERR_WEAK_KEY },
                              "too weak" };
static const vcase c_no_intermediate = { "mid.pem", "leaf.key", NULL, LOCAL, "localhost",
                                         T_INSIDE, NOEXTRA, 1, { SSLSOCKET_SSLERR_UNTRUSTED },
                                         "not trusted" };
/* expired, self-signed, and for another host: every problem is listed */
static const vcase c_combined = { "ssother.pem", "ss.key", NULL, LOCAL, "localhost", T_AFTER,
                                  NOEXTRA, 3,
                                  { SSLSOCKET_SSLERR_EXPIRED, SSLSOCKET_SSLERR_UNTRUSTED,
                                    SSLSOCKET_SSLERR_HOST_MISMATCH },
                                  "certificate verification failed" };

static const vcase c_ca_leaf = { "caleaf.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE,
                                 NOEXTRA, 1, { SSLSOCKET_SSLERR_CA_AS_LEAF },
                                 "a CA certificate is used as an end-entity" };
static const vcase c_any_eku = { "anyeku.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE,
                                 NOEXTRA, 1, { SSLSOCKET_SSLERR_EKU }, "extended key usage" };
static const vcase c_sha1 = { "sha1.pem", "leaf.key", NULL, LOCAL, "localhost", T_INSIDE, 0,
                              "-cipher DEFAULT:@SECLEVEL=0", 1,
                              { SSLSOCKET_SSLERR_WEAK_SIGNATURE }, "weak hash" };
/* the leaf is fine, its intermediate (same key as i1) is signed with SHA-1 */
static const vcase c_sha1_intermediate = { "undersha1.pem", "leaf.key", "i1sha1.pem", LOCAL,
                                           "localhost", T_INSIDE, 0,
                                           "-cipher DEFAULT:@SECLEVEL=0", 1,
                                           { SSLSOCKET_SSLERR_WEAK_SIGNATURE }, "weak hash" };
static const vcase c_serial0 = { "serial0leaf.pem", "leaf.key", NULL, LOCAL, "localhost",
                                 T_INSIDE, NOEXTRA, 1, { SSLSOCKET_SSLERR_MALFORMED },
                                 "malformed" };
static const vcase c_serial21 = { "serial21.pem", "leaf.key", NULL, LOCAL, "localhost",
                                  T_INSIDE, NOEXTRA, 1, { SSLSOCKET_SSLERR_MALFORMED },
                                  "malformed" };
static const vcase c_odd_rsa = { "oddrsa.pem", "odd.key", NULL, LOCAL, "localhost", T_INSIDE,
                                 NOEXTRA, 1, { SSLSOCKET_SSLERR_MALFORMED }, "malformed" };

#define MATRIX(id)                                                                         \
    static void test_##id##_verify(void) { run_verify(&c_##id); }                          \
    static void test_##id##_query(void) { run_query(&c_##id); }
MATRIX(expired)
MATRIX(not_yet)
MATRIX(wrong_host)
MATRIX(ip_mismatch)
MATRIX(wild_tld)
MATRIX(wild_deep)
MATRIX(eku)
MATRIX(self_signed)
MATRIX(unknown_ca)
MATRIX(no_san)
MATRIX(chain_long)
MATRIX(weak)
MATRIX(no_intermediate)
MATRIX(combined)
MATRIX(ca_leaf)
MATRIX(any_eku)
MATRIX(sha1)
MATRIX(sha1_intermediate)
MATRIX(serial0)
MATRIX(serial21)
MATRIX(odd_rsa)
/* (a keyCertSign-only leaf: openssl s_server refuses to serve it, so
   test_memory serves it from the library: leaf_key_usage) */

static void test_ip_san_ok(void) { run_pass(&c_ip_ok); }
static void test_wild_ok(void) { run_pass(&c_wild_ok); }
static void test_chain_ok(void) { run_pass(&c_chain_ok); }

/* Baseline, plus the peer certificate summary. */
static void
test_valid(void)
{
    const sslsocket_cert_info *ci;
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(&c_valid, &p, -1);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "events: %s", l.text);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
    CHECKF(sslsocket_ssl_error_count(&sock) == 0, "problems: [%s]", problems_text(&sock));
    ci = sslsocket_peer_certificate(&sock);
    REQUIRE(ci != NULL);
    CHECKF(strcmp(ci->common_name, "localhost") == 0, "cn %s", ci->common_name);
    CHECKF(strcmp(ci->subject, "CN=localhost,O=sslsocket verify") == 0
               || strcmp(ci->subject, "O=sslsocket verify,CN=localhost") == 0,
           "subject %s", ci->subject);
    CHECKF(strstr(ci->issuer, "CN=sslsocket verify root") != NULL, "issuer %s", ci->issuer);
    CHECKF(strcmp(ci->subject_alt_names, "DNS:localhost, IP:127.0.0.1") == 0, "sans %s",
           ci->subject_alt_names);
    CHECKF(ci->not_before == T_START, "not_before %lld", (long long)ci->not_before);
    CHECKF(ci->not_after == T_END, "not_after %lld", (long long)ci->not_after);
    CHECK(ci->key_type == BR_KEYTYPE_EC);
    CHECK(ci->key_bits == 256);
    CHECK(ci->is_ca == 0);
    CHECK(ci->version == 3);
    CHECKF(strcmp(ci->sig_alg, "ecdsa-with-SHA256") == 0, "sig_alg %s", ci->sig_alg);
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000));
    peers_kill(&p);
}

/* The exact ends of the window: notBefore and notAfter themselves are valid. */
static void
test_window_edges(void)
{
    vcase c = c_valid;
    c.when = T_START;
    run_pass(&c);
    c.when = T_END;
    run_pass(&c);
}

/* ------------------------------------------------------------------ paths */

/* The path search (>>paths): name constraints on an intermediate and on
   the anchor, chains out of order, a cross-signed intermediate, path
   lengths, an issuer's EKU, the anchor's validity.  Each case names its
   trust store and the issuers the server must be seen to send (the chain
   entries), so that a server that reordered the chain would not make an
   out-of-order case pass unseen. */
typedef struct pcase {
    vcase v;
    const char *anchor;  /* the trust store's one file, NULL: vca.pem */
    const char *sent[4]; /* subjects of the served issuers, in order, NULL-terminated */
} pcase;

/* PCASE(id, leaf, chain file, verify name (NULL: the IP 127.0.0.1), time,
         anchor file, the one problem (0: none), phrase, sent subjects..., NULL) */
#define PCASE(id, cert, chain, name, when, anchor, code, phrase, ...)                      \
    static const pcase p_##id = { { cert, "leaf.key", chain, LOCAL, name, when, NOEXTRA,    \
                                    (code) != 0, { code }, phrase },                        \
                                  anchor, { __VA_ARGS__ } }
#define P_NC SSLSOCKET_SSLERR_NAME_CONSTRAINTS
#define NC_PHRASE "outside an issuer's name constraints"
#define S_VCA "CN=sslsocket verify root"
#define S_CA2 "CN=sslsocket unknown root"
#define S_XI "CN=verify cross intermediate"

/* 1. name constraints on an intermediate, non-critical and critical (_c) */
PCASE(ncdns_in, "ncdns_in.pem", "ncdns.pem", "www.example.test", T_INSIDE, NULL, 0, NULL,
      "CN=verify nc dns", NULL);
PCASE(ncdns_c_in, "ncdns_c_in.pem", "ncdns_c.pem", "www.example.test", T_INSIDE, NULL, 0, NULL,
      "CN=verify nc dns critical", NULL);
PCASE(ncdns_out, "ncdns_out.pem", "ncdns.pem", "other.example", T_INSIDE, NULL, P_NC, NC_PHRASE,
      "CN=verify nc dns", NULL);
PCASE(ncdns_c_out, "ncdns_c_out.pem", "ncdns_c.pem", "other.example", T_INSIDE, NULL, P_NC,
      NC_PHRASE, "CN=verify nc dns critical", NULL);
PCASE(ncexdns_hit, "ncexdns_hit.pem", "ncexdns.pem", "www.example.test", T_INSIDE, NULL, P_NC,
      NC_PHRASE, "CN=verify nc excluded dns", NULL);
PCASE(ncexdns_c_hit, "ncexdns_c_hit.pem", "ncexdns_c.pem", "www.example.test", T_INSIDE, NULL,
      P_NC, NC_PHRASE, "CN=verify nc excluded dns critical", NULL);
PCASE(ncexdns_miss, "ncexdns_miss.pem", "ncexdns.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify nc excluded dns", NULL);
PCASE(ncexdns_c_miss, "ncexdns_c_miss.pem", "ncexdns_c.pem", "localhost", T_INSIDE, NULL, 0,
      NULL, "CN=verify nc excluded dns critical", NULL);
/* by IP literal: the IP SAN 127.0.0.1 is the name checked */
PCASE(ncip_in, "ncip_in.pem", "ncip.pem", NULL, T_INSIDE, NULL, 0, NULL, "CN=verify nc ip",
      NULL);
PCASE(ncip_c_in, "ncip_c_in.pem", "ncip_c.pem", NULL, T_INSIDE, NULL, 0, NULL,
      "CN=verify nc ip critical", NULL);
/* by name: the IP SAN 10.1.2.3 is outside all the same */
PCASE(ncip_out, "ncip_out.pem", "ncip.pem", "localhost", T_INSIDE, NULL, P_NC, NC_PHRASE,
      "CN=verify nc ip", NULL);
PCASE(ncip_c_out, "ncip_c_out.pem", "ncip_c.pem", "localhost", T_INSIDE, NULL, P_NC, NC_PHRASE,
      "CN=verify nc ip critical", NULL);
PCASE(ncexip_hit, "ncexip_hit.pem", "ncexip.pem", NULL, T_INSIDE, NULL, P_NC, NC_PHRASE,
      "CN=verify nc excluded ip", NULL);
PCASE(ncexip_c_hit, "ncexip_c_hit.pem", "ncexip_c.pem", NULL, T_INSIDE, NULL, P_NC, NC_PHRASE,
      "CN=verify nc excluded ip critical", NULL);
PCASE(ncexip_miss, "ncexip_miss.pem", "ncexip.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify nc excluded ip", NULL);
PCASE(ncexip_c_miss, "ncexip_c_miss.pem", "ncexip_c.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify nc excluded ip critical", NULL);

/* 2. name constraints on the trust anchor: a leaf under it, and one under
   an unconstrained intermediate of it */
PCASE(ncroot_in, "ncroot_in.pem", NULL, "www.example.test", T_INSIDE, "ncroot.pem", 0, NULL,
      NULL);
PCASE(ncroot_c_in, "ncroot_c_in.pem", NULL, "www.example.test", T_INSIDE, "ncroot_c.pem", 0,
      NULL, NULL);
PCASE(ncroot_out, "ncroot_out.pem", NULL, "other.example", T_INSIDE, "ncroot.pem", P_NC,
      NC_PHRASE, NULL);
PCASE(ncroot_c_out, "ncroot_c_out.pem", NULL, "other.example", T_INSIDE, "ncroot_c.pem", P_NC,
      NC_PHRASE, NULL);
PCASE(ncroot_deep, "ncroot_deep.pem", "ncroot_i.pem", "other.example", T_INSIDE, "ncroot.pem",
      P_NC, NC_PHRASE, "CN=sslsocket constrained root intermediate", NULL);
PCASE(ncroot_c_deep, "ncroot_c_deep.pem", "ncroot_c_i.pem", "other.example", T_INSIDE,
      "ncroot_c.pem", P_NC, NC_PHRASE, "CN=sslsocket constrained root critical intermediate",
      NULL);

/* 3. path building: out of order, an unrelated extra certificate, and a
   cross-signed intermediate whose untrusted copy comes first */
PCASE(order_root_first, "mid.pem", "ooo_root.pem", "localhost", T_INSIDE, NULL, 0, NULL, S_VCA,
      "CN=verify intermediate 1", NULL);
PCASE(order_extra, "mid.pem", "ooo_extra.pem", "localhost", T_INSIDE, NULL, 0, NULL, S_CA2,
      "CN=verify intermediate 1", NULL);
PCASE(order_reversed, "deep.pem", "ooo_rev.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify intermediate 1", "CN=verify intermediate 2", "CN=verify intermediate 3", NULL);
PCASE(cross_signed, "cross.pem", "cross_chain.pem", "localhost", T_INSIDE, NULL, 0, NULL, S_XI,
      S_XI, NULL);
/* the untrusted copy leads to a whole path (to ca2, self-signed, sent too) */
PCASE(cross_signed_root, "cross.pem", "cross_chain2.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      S_XI, S_CA2, S_XI, NULL);
/* the control: the untrusted copy alone */
PCASE(cross_untrusted_only, "cross.pem", "cross_bad.pem", "localhost", T_INSIDE, NULL,
      SSLSOCKET_SSLERR_UNTRUSTED, "not trusted", S_XI, NULL);

/* 4. pathLenConstraint: 0 with an intermediate below it; 0 with the leaf
   right below; 1 with one intermediate below */
PCASE(pathlen0_deep, "pl0deep.pem", "pl0deep_chain.pem", "localhost", T_INSIDE, NULL,
      SSLSOCKET_SSLERR_CHAIN_TOO_LONG, "chain too long", "CN=verify under pathlen 0",
      "CN=verify pathlen 0", NULL);
PCASE(pathlen0_ok, "pl0leaf.pem", "pl0.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify pathlen 0", NULL);
PCASE(pathlen1_ok, "pl1deep.pem", "pl1deep_chain.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify under pathlen 1", "CN=verify pathlen 1", NULL);

/* 5. an intermediate's EKU (clientAuth only; serverAuth,clientAuth); the
   anchor's validity: expired (2030-03-01) and not yet valid (2030-06-01),
   with a leaf valid 2030..2031, each with its control inside the window */
PCASE(ca_eku_client, "ekucli_leaf.pem", "ekucli.pem", "localhost", T_INSIDE, NULL,
      SSLSOCKET_SSLERR_EKU, "extended key usage", "CN=verify clientAuth intermediate", NULL);
PCASE(ca_eku_server, "ekusrv_leaf.pem", "ekusrv.pem", "localhost", T_INSIDE, NULL, 0, NULL,
      "CN=verify serverAuth intermediate", NULL);
PCASE(anchor_expired, "old_leaf.pem", NULL, "localhost", T_INSIDE, "old.pem",
      SSLSOCKET_SSLERR_EXPIRED, "certificate expired", NULL);
PCASE(anchor_unexpired, "old_leaf.pem", NULL, "localhost", T_START, "old.pem", 0, NULL, NULL);
PCASE(anchor_not_yet, "young_leaf.pem", NULL, "localhost", T_START, "young.pem",
      SSLSOCKET_SSLERR_NOT_YET_VALID, "certificate is not yet valid", NULL);
PCASE(anchor_young_ok, "young_leaf.pem", NULL, "localhost", T_INSIDE, "young.pem", 0, NULL,
      NULL);

static void
path_run(const pcase *p, void (*run)(const vcase *))
{
    anchor_file = p->anchor;
    sent_want = p->sent;
    run(&p->v);
    anchor_file = NULL;
    sent_want = NULL;
}

#define PFAIL(id)                                                                          \
    static void test_##id##_verify(void) { path_run(&p_##id, run_verify); }                \
    static void test_##id##_query(void) { path_run(&p_##id, run_query); }
#define PPASS(id)                                                                          \
    static void test_##id(void) { path_run(&p_##id, run_pass); }
PPASS(ncdns_in)
PPASS(ncdns_c_in)
PFAIL(ncdns_out)
PFAIL(ncdns_c_out)
PFAIL(ncexdns_hit)
PFAIL(ncexdns_c_hit)
PPASS(ncexdns_miss)
PPASS(ncexdns_c_miss)
PPASS(ncip_in)
PPASS(ncip_c_in)
PFAIL(ncip_out)
PFAIL(ncip_c_out)
PFAIL(ncexip_hit)
PFAIL(ncexip_c_hit)
PPASS(ncexip_miss)
PPASS(ncexip_c_miss)
PPASS(ncroot_in)
PPASS(ncroot_c_in)
PFAIL(ncroot_out)
PFAIL(ncroot_c_out)
PFAIL(ncroot_deep)
PFAIL(ncroot_c_deep)
PPASS(order_root_first)
PPASS(order_extra)
PPASS(order_reversed)
PPASS(cross_signed)
PPASS(cross_signed_root)
PFAIL(cross_untrusted_only)
PFAIL(pathlen0_deep)
PPASS(pathlen0_ok)
PPASS(pathlen1_ok)
PFAIL(ca_eku_client)
PPASS(ca_eku_server)
PFAIL(anchor_expired)
PPASS(anchor_unexpired)
PFAIL(anchor_not_yet)
PPASS(anchor_young_ok)

/* The same cases through sslsocket_verify_chain (leaf, then the chain file
   as the server sends it): the same problems, the same chain entries. */
static void
test_offline_paths(void)
{
    static const pcase *const all[] = {
        &p_ncdns_in, &p_ncdns_c_in, &p_ncdns_out, &p_ncdns_c_out, &p_ncexdns_hit,
        &p_ncexdns_c_hit, &p_ncexdns_miss, &p_ncexdns_c_miss, &p_ncip_in, &p_ncip_c_in,
        &p_ncip_out, &p_ncip_c_out, &p_ncexip_hit, &p_ncexip_c_hit, &p_ncexip_miss,
        &p_ncexip_c_miss, &p_ncroot_in, &p_ncroot_c_in, &p_ncroot_out, &p_ncroot_c_out,
        &p_ncroot_deep, &p_ncroot_c_deep, &p_order_root_first, &p_order_extra,
        &p_order_reversed, &p_cross_signed, &p_cross_signed_root, &p_cross_untrusted_only,
        &p_pathlen0_deep, &p_pathlen0_ok, &p_pathlen1_ok, &p_ca_eku_client, &p_ca_eku_server,
        &p_anchor_expired, &p_anchor_unexpired, &p_anchor_not_yet, &p_anchor_young_ok
    };
    static char pem[64 * 1024];
    static sslsocket scratch;
    size_t i;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const vcase *c = &all[i]->v;
        size_t n, m;
        const char *t = peers_slurp(peers_path(c->cert), &n);
        int r;
        REQUIRE(n > 0 && n < sizeof pem / 2);
        memcpy(pem, t, n);
        m = n;
        if (c->chain) {
            t = peers_slurp(peers_path(c->chain), &n);
            REQUIRE(n > 0 && m + n <= sizeof pem);
            memcpy(pem + m, t, n);
            m += n;
        }
        anchor_file = all[i]->anchor;
        fresh_config(0);
        anchor_file = NULL;
        sslsocket_init(&scratch, NULL);
        r = sslsocket_verify_chain(&scratch, &cfg, pem, m, c->name ? c->name : c->host, c->when);
        CHECKF(r == c->n && problems_are(&scratch, c->want, c->n), "%s + %s: %d problems [%s]",
               c->cert, c->chain ? c->chain : "-", r, problems_text(&scratch));
        check_sent(&scratch, all[i]->sent);
    }
}

/* ------------------------------------------------------------------ offline */

/* sslsocket_verify_chain gives, for every case of the matrix, the problems
   the handshake found (the chain as the server sends it: leaf, then the
   -cert_chain file). */
static void
test_offline_matrix(void)
{
    static const vcase *const all[] = {
        &c_valid, &c_expired, &c_not_yet, &c_wrong_host, &c_ip_ok, &c_ip_mismatch,
        &c_wild_tld, &c_wild_ok, &c_wild_deep, &c_eku, &c_self_signed, &c_unknown_ca,
        &c_no_san, &c_chain_ok, &c_chain_long, &c_weak, &c_no_intermediate, &c_combined,
        &c_ca_leaf, &c_any_eku, &c_sha1, &c_sha1_intermediate, &c_serial0, &c_serial21, &c_odd_rsa
    };
    static char pem[64 * 1024];
    static sslsocket scratch;
    size_t i;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const vcase *c = all[i];
        size_t n, m = 0;
        const char *t = peers_slurp(peers_path(c->cert), &n);
        int r;
        memcpy(pem, t, n);
        m = n;
        if (c->chain) {
            t = peers_slurp(peers_path(c->chain), &n);
            memcpy(pem + m, t, n);
            m += n;
        }
        fresh_config(0);
        if (c->depth)
            sslsocket_config_set_peer_verify_depth(&cfg, c->depth);
        sslsocket_init(&scratch, NULL);
        r = sslsocket_verify_chain(&scratch, &cfg, pem, m, c->name ? c->name : c->host, c->when);
        CHECKF(r == c->n && problems_are(&scratch, c->want, c->n), "%s: %d problems [%s]",
               c->cert, r, problems_text(&scratch));
    }
    /* the peer summary is there, and bad input is refused clearly */
    CHECK(sslsocket_peer_certificate(&scratch) != NULL);
    CHECK(sslsocket_verify_chain(&scratch, &cfg, "garbage", 7, "localhost", 0) == -1);
    CHECK_ERR(&scratch, SSLSOCKET_ERR_SSL_INVALID_USERDATA, "sslsocket_verify_chain");
    CHECK(sslsocket_verify_chain(&scratch, &cfg, NULL, 0, "localhost", 0) == -1);
    CHECK_ERR(&scratch, SSLSOCKET_ERR_OPERATION, "empty chain");
    CHECK(sslsocket_verify_chain(NULL, &cfg, pem, 1, NULL, 0) == -1);
}

/* ------------------------------------------------------------------ ignoring */

/* Ignored through the configuration: VERIFY_PEER connects, problems listed. */
static void
test_config_ignore(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    const int want[3] = { SSLSOCKET_SSLERR_EXPIRED, SSLSOCKET_SSLERR_UNTRUSTED,
                          SSLSOCKET_SSLERR_HOST_MISMATCH };
    log_init(&l, rx, sizeof rx);
    connect_case(&c_combined, &p, -1);
    /* connect_case made a fresh config; the mask is read at the handshake */
    sslsocket_config_set_ignored_ssl_errors(&cfg, M(EXPIRED) | M(UNTRUSTED) | M(HOST_MISMATCH));
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECK(sslsocket_is_encrypted(&sock));
    CHECKF(ev_pos(&l, "E") > 0 && ev_pos(&l, "X13") < 0, "events: %s", l.text);
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
    CHECKF(problems_are(&sock, want, 3), "problems: [%s]", problems_text(&sock));
    sslsocket_abort(&sock);
    peers_kill(&p);
}

/* A mask that misses one problem still fails, naming the one left. */
static void
test_config_ignore_partial(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(&c_combined, &p, -1);
    sslsocket_config_set_ignored_ssl_errors(&cfg, M(EXPIRED) | M(UNTRUSTED));
    CHECK(drive_until(&sock, &l, NULL, 5000));
    CHECKF(ev_pos(&l, "X13") > 0 && ev_pos(&l, "E") < 0, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "host name mismatch: expected localhost");
    CHECKF(l.rx_len == 0, "received: %.80s", (char *)rx);
    peers_kill(&p);
}

/* Qt's ignoreSslErrors, per socket, before connecting. */
static void
test_socket_ignore(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(&c_self_signed, &p, -1);
    sslsocket_ignore_ssl_errors(&sock, M(UNTRUSTED));
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECK(sslsocket_is_encrypted(&sock));
    CHECKF(ev_pos(&l, "E") > 0 && ev_pos(&l, "X13") < 0, "events: %s", l.text);
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
    sslsocket_abort(&sock);
    peers_kill(&p);

    /* another socket on the same config is not affected */
    log_init(&l, rx, sizeof rx);
    connect_case(&c_self_signed, &p, -1);
    sslsocket_ignore_ssl_errors(&sock, M(EXPIRED));
    CHECK(drive_until(&sock, &l, NULL, 5000));
    CHECKF(ev_pos(&l, "X13") > 0, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");
    peers_kill(&p);
}

/* ------------------------------------------------------------------ deciding */

/* The decision flow against the Python server, which records what arrived. */
static void
decide(int ignore)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    const char *tag = ignore ? "decide_yes" : "decide_no";
    char resf[64];
    const char *res;
    unsigned port;
    log_init(&l, rx, sizeof rx);
    fresh_config(T_INSIDE);
    port = start_py_server(&p, tag, "ss.pem", "ss.key");
    REQUIRE(port != 0);
    sslsocket_init(&sock, &cfg);
    sslsocket_set_decide_ssl_errors(&sock, 1);
    CHECK(sslsocket_set_peer_verify_name(&sock, "localhost") == 0);
    CHECK(sslsocket_connect_encrypted(&sock, LOCAL, port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock, request) == (ptrdiff_t)strlen(request));
    CHECK(drive_until(&sock, &l, saw_ssl_errors, 5000));
    CHECKF(strcmp(l.text, "S1 S2 H S3 M1 C V ") == 0, "events: %s", l.text);
    CHECK(!sslsocket_is_encrypted(&sock));
    CHECK(sslsocket_state(&sock) == SSLSOCKET_CONNECTED);
    CHECKF(sslsocket_ssl_error_count(&sock) == 1
               && sslsocket_ssl_error_code(&sock, 0) == SSLSOCKET_SSLERR_UNTRUSTED,
           "problems: [%s]", problems_text(&sock));
    CHECK(sslsocket_bytes_to_write(&sock) == strlen(request));
    if (ignore) {
        sslsocket_ignore_ssl_errors(&sock, M(UNTRUSTED));
        CHECK(drive_until(&sock, &l, got_http, 5000));
        CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C V E ", 20) == 0, "events: %s", l.text);
        CHECK(sslsocket_is_encrypted(&sock));
        CHECKF(strstr((char *)rx, "hello from python") != NULL, "reply: %.80s", (char *)rx);
        sslsocket_disconnect(&sock);
        CHECK(drive_until(&sock, &l, NULL, 5000));
    } else {
        CHECK(drive_until(&sock, &l, NULL, 5000));
        CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C V X13 ", 22) == 0, "events: %s", l.text);
        CHECKF(ev_pos(&l, "E") < 0, "events: %s", l.text);
        CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");
        CHECK(l.rx_len == 0);
    }
    snprintf(resf, sizeof resf, "%s.result", tag);
    res = wait_file(resf, 5000);
    REQUIRE(res != NULL);
    if (ignore)
        CHECKF(strncmp(res, "handshake=ok appbytes=18 ", 25) == 0, "server: %s", res);
    else
        CHECKF(strncmp(res, "handshake=ok appbytes=0 ", 24) == 0, "server: %s", res);
    peers_kill(&p);
}

static void test_decide_ignore(void) { decide(1); }
static void test_decide_reject(void) { decide(0); }

/* VERIFY_PEER without a decision: BearSSL fails inside the handshake and
 * sends the server an alert (the server's handshake fails too). */
static void
test_verify_alert(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    const char *res;
    unsigned port;
    log_init(&l, rx, sizeof rx);
    fresh_config(T_INSIDE);
    port = start_py_server(&p, "alert", "ss.pem", "ss.key");
    REQUIRE(port != 0);
    sslsocket_init(&sock, &cfg);
    CHECK(sslsocket_set_peer_verify_name(&sock, "localhost") == 0);
    CHECK(sslsocket_connect_encrypted(&sock, LOCAL, port, SSLSOCKET_READ_WRITE) == 0);
    CHECK(sslsocket_write_string(&sock, request) == (ptrdiff_t)strlen(request));
    CHECK(drive_until(&sock, &l, NULL, 5000));
    CHECKF(ev_pos(&l, "X13") > 0, "events: %s", l.text);
    CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "not trusted");
    res = wait_file("alert.result", 5000);
    REQUIRE(res != NULL);
    CHECKF(strncmp(res, "handshake=fail appbytes=0 ", 26) == 0 && strstr(res, "ALERT"),
           "server: %s", res);
    peers_kill(&p);
}

/* ------------------------------------------------------------------ pinning */

static void
pinned(const vcase *c, const char *pin, int expect_ok)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(c, &p, -1);
    /* the pin joins the config before the handshake reads it */
    CHECKF(sslsocket_config_add_pin(&cfg, pin) == 0, "add_pin(%s): %s", pin,
           sslsocket_config_error_string(&cfg));
    if (expect_ok) {
        CHECK(drive_until(&sock, &l, got_http, 5000));
        CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "events: %s", l.text);
        CHECK(sslsocket_is_encrypted(&sock));
        CHECKF(sslsocket_ssl_error_count(&sock) == 0, "problems: [%s]", problems_text(&sock));
        CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
        sslsocket_abort(&sock);
    } else {
        const int want[1] = { SSLSOCKET_SSLERR_PIN_MISMATCH };
        CHECK(drive_until(&sock, &l, NULL, 5000));
        CHECKF(ev_pos(&l, "X13") > 0 && ev_pos(&l, "E") < 0, "events: %s", l.text);
        CHECK_ERR(&sock, SSLSOCKET_ERR_SSL_HANDSHAKE_FAILED, "pin mismatch");
        CHECKF(problems_are(&sock, want, 1), "problems: [%s]", problems_text(&sock));
        CHECKF(l.rx_len == 0, "received: %.80s", (char *)rx);
    }
    peers_kill(&p);
}

/* The right pin vouches for a self-signed certificate the store does not know. */
static void test_pin_ok(void) { pinned(&c_self_signed, pin_from("pin_ss.txt", 0), 1); }
static void test_pin_ok_hex(void) { pinned(&c_self_signed, pin_from("pinhex_ss.txt", 1), 1); }
/* A wrong pin fails even a certificate the CA vouches for. */
static void test_pin_wrong(void) { pinned(&c_valid, pin_from("pin_vca.txt", 0), 0); }

static void
test_pin_spki_matches_openssl(void)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    const sslsocket_cert_info *ci;
    char enc[64];
    int i, o = 0;
    log_init(&l, rx, sizeof rx);
    connect_case(&c_self_signed, &p, SSLSOCKET_QUERY_PEER);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    ci = sslsocket_peer_certificate(&sock);
    REQUIRE(ci != NULL);
    for (i = 0; i < 30; i += 3) {
        unsigned v = (unsigned)ci->spki_sha256[i] << 16 | (unsigned)ci->spki_sha256[i + 1] << 8
                     | ci->spki_sha256[i + 2];
        enc[o++] = b64[v >> 18 & 63];
        enc[o++] = b64[v >> 12 & 63];
        enc[o++] = b64[v >> 6 & 63];
        enc[o++] = b64[v & 63];
    }
    {
        unsigned v = (unsigned)ci->spki_sha256[30] << 16 | (unsigned)ci->spki_sha256[31] << 8;
        enc[o++] = b64[v >> 18 & 63];
        enc[o++] = b64[v >> 12 & 63];
        enc[o++] = b64[v >> 6 & 63];
        enc[o++] = '=';
    }
    enc[o] = 0;
    CHECKF(strcmp(enc, pin_from("pin_ss.txt", 0) + 7) == 0, "spki %s vs openssl %s", enc,
           pin_from("pin_ss.txt", 0) + 7);
    sslsocket_abort(&sock);
    peers_kill(&p);
}

/* ------------------------------------------------------------------ VERIFY_NONE */

static void
test_verify_none(void)
{
    peers_proc p;
    drive_log l;
    unsigned char rx[16384];
    log_init(&l, rx, sizeof rx);
    connect_case(&c_combined, &p, SSLSOCKET_VERIFY_NONE);
    CHECK(drive_until(&sock, &l, got_http, 5000));
    CHECKF(strncmp(l.text, "S1 S2 H S3 M1 C E ", 18) == 0, "events: %s", l.text);
    CHECK(sslsocket_is_encrypted(&sock));
    CHECKF(strstr((char *)rx, "HTTP/1.0 200 ok") != NULL, "reply: %.80s", (char *)rx);
    CHECKF(sslsocket_ssl_error_count(&sock) == 0, "problems: [%s]", problems_text(&sock));
    sslsocket_disconnect(&sock);
    CHECK(drive_until(&sock, &l, NULL, 5000));
    peers_kill(&p);
}

/* ------------------------------------------------------------------ main */

#define T(id) { #id, test_##id }
#define TM(id) { #id "_verify", test_##id##_verify }, { #id "_query", test_##id##_query }
static const testlib_case tests[] = {
    T(valid),
    T(window_edges),
    TM(expired),
    TM(not_yet),
    TM(wrong_host),
    T(ip_san_ok),
    TM(ip_mismatch),
    TM(wild_tld),
    T(wild_ok),
    TM(wild_deep),
    TM(eku),
    TM(self_signed),
    TM(unknown_ca),
    TM(no_san),
    T(chain_ok),
    TM(chain_long),
    TM(weak),
    TM(no_intermediate),
    TM(combined),
    TM(ca_leaf),
    TM(any_eku),
    TM(sha1),
    TM(sha1_intermediate),
    TM(serial0),
    TM(serial21),
    TM(odd_rsa),
    T(offline_matrix),
    T(ncdns_in),
    T(ncdns_c_in),
    TM(ncdns_out),
    TM(ncdns_c_out),
    TM(ncexdns_hit),
    TM(ncexdns_c_hit),
    T(ncexdns_miss),
    T(ncexdns_c_miss),
    T(ncip_in),
    T(ncip_c_in),
    TM(ncip_out),
    TM(ncip_c_out),
    TM(ncexip_hit),
    TM(ncexip_c_hit),
    T(ncexip_miss),
    T(ncexip_c_miss),
    T(ncroot_in),
    T(ncroot_c_in),
    TM(ncroot_out),
    TM(ncroot_c_out),
    TM(ncroot_deep),
    TM(ncroot_c_deep),
    T(order_root_first),
    T(order_extra),
    T(order_reversed),
    T(cross_signed),
    T(cross_signed_root),
    TM(cross_untrusted_only),
    TM(pathlen0_deep),
    T(pathlen0_ok),
    T(pathlen1_ok),
    TM(ca_eku_client),
    T(ca_eku_server),
    TM(anchor_expired),
    T(anchor_unexpired),
    TM(anchor_not_yet),
    T(anchor_young_ok),
    T(offline_paths),
    T(config_ignore),
    T(config_ignore_partial),
    T(socket_ignore),
    T(decide_ignore),
    T(decide_reject),
    T(verify_alert),
    T(pin_ok),
    T(pin_ok_hex),
    T(pin_wrong),
    T(pin_spki_matches_openssl),
    T(verify_none),
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    if (peers_setup() != 0 || make_fixtures() != 0) {
        char cmd[400];
        printf("fixture setup failed; the end of %s/sh.log:\n", peers_dir);
        fflush(stdout);
        snprintf(cmd, sizeof cmd, "tail -n 15 '%s/sh.log'", peers_dir);
        if (system(cmd) != 0)
            printf("(no log)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    return testlib_main(argc, argv, tests);
}
