/* test_limbo.c - the x509-limbo server-authentication cases through
 * sslsocket_verify_chain(), the checks a client handshake makes.
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

#include <time.h>

static unsigned char store[256 * 1024];
static sslsocket_config cfg;
static sslsocket scratch;
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

static void
test_cases(void)
{
    char *p = cases_text, *line;
    int total = 0, right = 0, unexpected = 0, i;
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
            sslsocket_init(&scratch, &cfg);
            r = sslsocket_verify_chain(&scratch, &cfg, chain, clen,
                                       strcmp(kind, "NONE") == 0 ? NULL : value, (int64_t)t);
            accepted = r == 0;
            if (r < 0 && verbose)
                printf("         %s: %s\n", id, sslsocket_error_string(&scratch));
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
    printf("  limbo (server cases): %d of %d right\n", right, total);
    for (i = 0; i < n_tallies; i++)
        printf("    %-10s %3d right, %3d wrong (%d of them accepted)\n", tallies[i].name,
               tallies[i].right, tallies[i].wrong, tallies[i].accepted_bad);
    CHECK(total > 100);
    CHECK(unexpected == 0);
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
