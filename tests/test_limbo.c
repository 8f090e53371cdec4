/* test_limbo.c - the x509-limbo server-authentication cases, each one
 * twice: through sslsocket_verify_chain(), and through a real client
 * handshake over the in-memory pipe against a library server that sends
 * the case's chain.  Limbo gives no private keys, so that server holds a
 * key of its own: the handshake fails after the certificate, at the key
 * exchange signature, and what is compared is the client's verdict on the
 * chain (QUERY_PEER: every problem collected).  Both runs must agree.
 *
 * tests/limbo/limbo.json is x509-limbo's suite as published (see
 * tests/limbo/README); tests/limbo/cases.py turns it into the line format
 * read here.  Every case is run; the tally per category is printed with
 * each wrong answer.  The test fails when
 *   - a chain the suite says must be refused is accepted, unless the case
 *     is listed in tests/limbo/known.txt with its reason, or
 *   - any case answers otherwise than known.txt says (a known-wrong case
 *     now right must leave the list too, so that it stays true).
 *
 *     test_limbo cases.txt known.txt [-v]
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"
#include "testlib.h"
#include "peers.h"
#include "drive.h"

#include <time.h>

static unsigned char store[256 * 1024], sstore[128 * 1024], chain_mem[64 * 1024];
static sslsocket_config cfg, scfg;
static sslsocket scratch, cli, srv;
static sslsocket_pipe pipe_;
static drive_log cl, sl;
static char *cases_text, *known_text;
static int verbose;

typedef struct tally {
    char name[40];
    int right, wrong, accepted_bad;
} tally;

static tally tallies[16];
static int n_tallies;

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *buf;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Is `id` in known.txt (a line "<id> <reason>")? */
static int
known(const char *id)
{
    const char *p = known_text;
    size_t n = strlen(id);
    while (p && *p) {
        if (strncmp(p, id, n) == 0 && (p[n] == ' ' || p[n] == '\n'))
            return 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static tally *
category(const char *id)
{
    size_t n = strcspn(id, ":");
    int i;
    for (i = 0; i < n_tallies; i++)
        if (strlen(tallies[i].name) == n && strncmp(tallies[i].name, id, n) == 0)
            return &tallies[i];
    if (n_tallies == 16 || n >= sizeof tallies[0].name)
        return &tallies[0];
    memcpy(tallies[n_tallies].name, id, n);
    return &tallies[n_tallies++];
}

/* The next line of *p (NUL-terminated in place), or NULL at the end. */
static char *
next_line(char **p)
{
    char *s = *p, *e;
    if (s == NULL || *s == 0)
        return NULL;
    e = strchr(s, '\n');
    if (e) {
        *e = 0;
        *p = e + 1;
    } else {
        *p = s + strlen(s);
    }
    return s;
}

/* The PEM lines up to the line `stop`: where they start and their length. */
static char *
pem_section(char **p, const char *stop, size_t *len)
{
    char pat[16], *start = *p, *e;
    snprintf(pat, sizeof pat, "%s\n", stop);
    if (strncmp(start, pat, strlen(pat)) == 0) {
        *len = 0;
        *p = start + strlen(pat);
        return start;
    }
    snprintf(pat, sizeof pat, "\n%s\n", stop);
    e = strstr(start, pat);
    if (e == NULL)
        return NULL;
    *len = (size_t)(e - start) + 1;
    *p = e + strlen(pat);
    return start;
}

static int
pair_done(void)
{
    return sslsocket_state(&cli) == SSLSOCKET_UNCONNECTED || sslsocket_is_encrypted(&cli);
}

/* PEM certificates to DER with BearSSL's PEM decoder alone (the loaders
   refuse what BearSSL's X.509 decoder cannot read; a peer can send it). */
typedef struct pem_out {
    unsigned char *buf;
    size_t len, cap;
} pem_out;

static void
pem_append(void *ctx, const void *data, size_t len)
{
    pem_out *o = (pem_out *)ctx;
    if (o->len + len <= o->cap) {
        memcpy(o->buf + o->len, data, len);
        o->len += len;
    } else {
        o->len = o->cap + 1;
    }
}

static size_t
pem_to_der(const char *pem, size_t len, br_x509_certificate *certs, size_t max)
{
    br_pem_decoder_context pc;
    pem_out o;
    size_t n = 0, start = 0;
    o.buf = chain_mem;
    o.len = 0;
    o.cap = sizeof chain_mem;
    br_pem_decoder_init(&pc);
    while (len > 0) {
        size_t k = br_pem_decoder_push(&pc, pem, len);
        pem += k;
        len -= k;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            start = o.len;
            br_pem_decoder_setdest(&pc, pem_append, &o);
            break;
        case BR_PEM_END_OBJ:
            if (n == max)
                return (size_t)-1; /* more than a server's chain holds */
            if (o.len > o.cap)
                return 0;
            certs[n].data = chain_mem + start;
            certs[n].data_len = o.len - start;
            n++;
            break;
        case BR_PEM_ERROR:
            return 0;
        default:
            break;
        }
    }
    return n;
}

/* The client's verdict on `chain` from a handshake: the problem mask, or
   -1 when the certificate was never judged. */
static long
handshake_verdict(const char *chain, size_t clen, const char *host, int64_t t)
{
    br_x509_certificate certs[SSLSOCKET_MAX_CHAIN];
    size_t n = pem_to_der(chain, clen, certs, SSLSOCKET_MAX_CHAIN);
    unsigned m = 0;
    int i;
    if (n == (size_t)-1)
        return -2;
    if (n == 0)
        return -1;
    /* the server's identity is its own; the chain it sends is the case's */
    memcpy(scfg.ids[0].chain, certs, n * sizeof certs[0]);
    scfg.ids[0].n_chain = n;
    if (t)
        sslsocket_config_set_time(&cfg, t);
    sslsocket_init(&cli, &cfg);
    sslsocket_init(&srv, &scfg);
    memset(&cl, 0, sizeof cl);
    memset(&sl, 0, sizeof sl);
    if (sslsocket_pipe_connect(&pipe_, &cli, &srv) != 0)
        return -1;
    sslsocket_set_peer_verify_mode(&cli, SSLSOCKET_QUERY_PEER);
    sslsocket_set_peer_verify_name(&cli, host ? host : "");
    if (sslsocket_start_client_encryption(&cli) != 0 || sslsocket_start_server_encryption(&srv))
        return -1;
    drive_pair(&cli, &cl, &srv, &sl, pair_done, 200);
    if (sslsocket_peer_chain_length(&cli) != (int)n)
        return -1; /* the chain was not judged */
    for (i = 0; i < sslsocket_ssl_error_count(&cli); i++)
        m |= SSLSOCKET_SSLERR_MASK(sslsocket_ssl_error_code(&cli, i));
    sslsocket_abort(&cli);
    sslsocket_abort(&srv);
    return (long)m;
}

static void
test_cases(void)
{
    char *p = cases_text, *line;
    int total = 0, right = 0, unexpected = 0, runs = 0, handshakes = 0, agree_fail = 0, i;
    int long_chains = 0;
    REQUIRE(cases_text != NULL);
    while ((line = next_line(&p)) != NULL) {
        char id[160], expect[16], kind[8], value[200];
        long long t;
        int depth, r, ok, accepted, is_known;
        char *trusted, *chain;
        size_t tlen, clen;
        tally *tl;
        REQUIRE(sscanf(line, "id %159s", id) == 1);
        REQUIRE(sscanf(next_line(&p), "expect %15s", expect) == 1);
        REQUIRE(sscanf(next_line(&p), "name %7s %199s", kind, value) == 2);
        REQUIRE(sscanf(next_line(&p), "time %lld", &t) == 1);
        REQUIRE(sscanf(next_line(&p), "depth %d", &depth) == 1);
        REQUIRE(next_line(&p) != NULL); /* eku: serverAuth is what a client checks */
        REQUIRE(strcmp(next_line(&p), "trusted") == 0);
        trusted = pem_section(&p, "chain", &tlen);
        REQUIRE(trusted != NULL);
        chain = pem_section(&p, "end", &clen);
        REQUIRE(chain != NULL);

        sslsocket_config_init(&cfg, store, sizeof store);
        /* max_chain_depth counts intermediates; the depth counts the leaf too */
        if (depth >= 0)
            sslsocket_config_set_peer_verify_depth(&cfg, depth + 1);
        accepted = 0;
        if (sslsocket_config_add_ca_mem(&cfg, trusted, tlen) >= 0) {
            const char *host = strcmp(kind, "NONE") == 0 ? NULL : value;
            unsigned offline = 0;
            long hs;
            sslsocket_init(&scratch, &cfg);
            r = sslsocket_verify_chain(&scratch, &cfg, chain, clen, host, (int64_t)t);
            accepted = r == 0;
            if (r < 0 && verbose)
                printf("         %s: %s\n", id, sslsocket_error_string(&scratch));
            for (i = 0; r > 0 && i < sslsocket_ssl_error_count(&scratch); i++)
                offline |= SSLSOCKET_SSLERR_MASK(sslsocket_ssl_error_code(&scratch, i));
            hs = handshake_verdict(chain, clen, host, (int64_t)t);
            if (hs == -2) {
                /* (a server's own chain holds SSLSOCKET_MAX_CHAIN certificates) */
                printf("         %s: %s\n", id, "more certificates than a server sends: offline only");
                hs = (long)offline;
                long_chains++;
            }
            runs++;
            handshakes += hs >= 0;
            if (hs < 0)
                printf("         %s: no handshake verdict (offline %d: %s)\n", id, r,
                       r < 0 ? sslsocket_error_string(&scratch) : "");
            if ((r >= 0 && hs != (long)offline) || (r < 0 && hs <= 0)) {
                agree_fail++;
                TESTLIB_FAIL_("the handshake's verdict is not the offline one");
                printf("         %s: offline %#x, handshake %#lx (%s)\n", id, offline, hs,
                       sslsocket_error_string(&cli));
            }
        } else if (verbose) {
            printf("         %s: anchors refused: %s\n", id, sslsocket_config_error_string(&cfg));
        }
        ok = accepted == (strcmp(expect, "SUCCESS") == 0);
        is_known = known(id);
        tl = category(id);
        total++;
        if (ok) {
            right++;
            tl->right++;
        } else {
            tl->wrong++;
            tl->accepted_bad += accepted;
        }
        if (!ok || verbose || is_known) {
            char why[200] = "";
            if (!accepted && sslsocket_ssl_error_count(&scratch) > 0)
                { int k; for (k = 0; k < sslsocket_ssl_error_count(&scratch); k++) snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s", k ? ", " : "", sslsocket_ssl_error_message(sslsocket_ssl_error_code(&scratch, k))); }
            printf("  %-5s %s (expected %s%s%s)%s\n", ok ? "right" : "WRONG", id, expect,
                   why[0] ? "; " : "", why, is_known ? " [known]" : "");
        }
        if (ok == is_known) {
            unexpected++;
            TESTLIB_FAIL_(is_known ? "a case in known.txt is answered right: take it out"
                                   : "a case answered wrong that known.txt does not list");
            printf("         %s\n", id);
        }
        sslsocket_config_wipe(&cfg);
    }
    printf("  limbo (server cases): %d of %d right; %d handshakes agree with the offline "
           "verdict, %d do not; %d chains too long to send\n", right, total,
           handshakes - agree_fail - long_chains, agree_fail, long_chains);
    for (i = 0; i < n_tallies; i++)
        printf("    %-10s %3d right, %3d wrong (%d of them accepted)\n", tallies[i].name,
               tallies[i].right, tallies[i].wrong, tallies[i].accepted_bad);
    CHECK(total > 100);
    CHECK(unexpected == 0);
    CHECK(handshakes == runs && runs >= total - 2); /* (anchors BearSSL cannot read) */
}

static const testlib_case tests[] = {
    {"cases", test_cases},
    {NULL, NULL}
};

int
main(int argc, char **argv)
{
    char *args[2] = {argv[0], NULL};
    if (argc < 3) {
        printf("usage: test_limbo cases.txt known.txt [-v]\n0 passed, 1 failed\n");
        return 1;
    }
    cases_text = slurp(argv[1]);
    known_text = slurp(argv[2]);
    verbose = argc > 3 && strcmp(argv[3], "-v") == 0;
    /* the server's own key and certificate (the chain it sends is replaced) */
    if (peers_setup() != 0) {
        printf("fixture setup failed\n0 passed, 1 failed\n");
        return 1;
    }
    sslsocket_config_init(&scfg, sstore, sizeof sstore);
    if (sslsocket_config_set_certificate_file(&scfg, peers_path("ec.pem"), peers_path("ec.key"))) {
        printf("server: %s\n0 passed, 1 failed\n", sslsocket_config_error_string(&scfg));
        return 1;
    }
    if (cases_text == NULL || known_text == NULL) {
        printf("cannot read %s or %s\n0 passed, 1 failed\n", argv[1], argv[2]);
        return 1;
    }
    {
        int r = testlib_main(1, args, tests);
        free(cases_text);
        free(known_text);
        return r;
    }
}
