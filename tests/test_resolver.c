/* Tests of the resolver section of sslsocket.h: DNS packet building and parsing (hand-built and
 * hostile packets), /etc/hosts and resolv.conf parsing, IP literals, and the
 * polled resolver end to end against tests/fakedns.py.
 *
 *   cc -std=c99 -D_GNU_SOURCE -o tests/test_resolver tests/test_resolver.c
 *   tests/test_resolver [test-name...]
 *
 * FAKEDNS=path overrides where the fake server script is looked for,
 * PYTHON=path the interpreter (default /usr/bin/python3, else python3). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#define SSLSOCKET_IMPLEMENTATION
#include "../sslsocket.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

/* ---- a tiny test runner ---- */

static const char *test_name;
static int test_failed;

#define CHECK(e)                                                                  \
    do {                                                                          \
        if (!(e)) {                                                               \
            printf("[ FAIL ] %s %s:%d %s\n", test_name, __FILE__, __LINE__, #e);  \
            test_failed = 1;                                                      \
        }                                                                         \
    } while (0)
#define REQUIRE(e)                                                                \
    do {                                                                          \
        if (!(e)) {                                                               \
            printf("[ FAIL ] %s %s:%d %s\n", test_name, __FILE__, __LINE__, #e);  \
            test_failed = 1;                                                      \
            return;                                                               \
        }                                                                         \
    } while (0)
#define CHECK_STR(a, b)                                                           \
    do {                                                                          \
        if (strcmp((a), (b)) != 0) {                                              \
            printf("[ FAIL ] %s %s:%d %s == \"%s\" (got \"%s\")\n", test_name,     \
                   __FILE__, __LINE__, #a, (b), (a));                             \
            test_failed = 1;                                                      \
        }                                                                         \
    } while (0)

/* The resolver must stay small; typedef trick because C99 has no static_assert. */
typedef char resolver_is_small[sizeof(sslsocket__resolver) < 512 ? 1 : -1];

/* Time bounds are multiplied by this under valgrind (which preloads its
 * vgpreload library) or with TEST_SLOW=N: the instrumented code, not the
 * resolver, is slow there. */
static int slow = 1;

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
now_ms(void)
{
    return now_us() / 1000;
}

static sslsocket_address
addr(const char *s, unsigned short port)
{
    sslsocket_address a;

    memset(&a, 0, sizeof a);
    if (!sslsocket__parse_ip_literal(s, &a))
        abort();
    a.port = port;
    return a;
}

static int
addr_is(const sslsocket_address *a, const char *s)
{
    sslsocket_address b = addr(s, 0);

    return a->family == b.family && memcmp(a->bytes, b.bytes, 16) == 0;
}

/* ---- hand-built DNS packets ---- */

typedef struct pkt {
    unsigned char b[1500];
    size_t n;
} pkt;

static void
p_u8(pkt *p, unsigned v)
{
    if (p->n < sizeof p->b)
        p->b[p->n++] = (unsigned char)v;
}

static void
p_u16(pkt *p, unsigned v)
{
    p_u8(p, v >> 8);
    p_u8(p, v & 0xFF);
}

static void
p_bytes(pkt *p, const void *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p_u8(p, ((const unsigned char *)v)[i]);
}

static void
p_name(pkt *p, const char *dotted)
{
    while (*dotted != '\0') {
        const char *dot = strchr(dotted, '.');
        size_t n = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);

        p_u8(p, (unsigned)n);
        p_bytes(p, dotted, n);
        dotted += n + (dot != NULL);
    }
    p_u8(p, 0);
}

static void
p_header(pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
    p->n = 0;
    p_u16(p, id);
    p_u16(p, flags);
    p_u16(p, qd);
    p_u16(p, an);
    p_u16(p, 0);
    p_u16(p, 0);
}

static void
p_question(pkt *p, const char *name, unsigned qtype)
{
    p_name(p, name);
    p_u16(p, qtype);
    p_u16(p, 1);
}

/* Record header after an owner name already written; rdlen given explicitly. */
static void
p_rr_tail(pkt *p, unsigned type, unsigned rdlen)
{
    p_u16(p, type);
    p_u16(p, 1);
    p_u16(p, 0);
    p_u16(p, 300);
    p_u16(p, rdlen);
}

static void
p_a(pkt *p, unsigned a, unsigned b, unsigned c, unsigned d)
{
    p_rr_tail(p, SSLSOCKET__DNS_TYPE_A, 4);
    p_u8(p, a);
    p_u8(p, b);
    p_u8(p, c);
    p_u8(p, d);
}

/* A standard response header + the question for name/qtype. */
static void
p_response(pkt *p, unsigned id, unsigned rcode, unsigned an, const char *name, unsigned qtype)
{
    p_header(p, id, 0x8180 | rcode, 1, an);
    p_question(p, name, qtype);
}

static int
parse(const pkt *p, unsigned id, const char *name, int qtype, sslsocket_address *out, int max,
      int *rcode)
{
    return sslsocket__dns_parse_response(p->b, p->n, (unsigned short)id, name, qtype, out, max,
                                         rcode);
}

/* ---- unit tests: queries ---- */

static void
test_build_query(void)
{
    static const unsigned char want[] = {
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 28, 0, 1
    };
    unsigned char buf[300];
    int n;

    n = sslsocket__dns_build_query(buf, sizeof buf, 0x1234, "example.com", 28);
    CHECK(n == (int)sizeof want);
    CHECK(memcmp(buf, want, sizeof want) == 0);
    /* a trailing dot is the same name */
    n = sslsocket__dns_build_query(buf, sizeof buf, 0x1234, "example.com.", 28);
    CHECK(n == (int)sizeof want && memcmp(buf, want, sizeof want) == 0);
    /* the exact buffer size is enough, one byte less is not */
    CHECK(sslsocket__dns_build_query(buf, sizeof want, 0x1234, "example.com", 28)
          == (int)sizeof want);
    CHECK(sslsocket__dns_build_query(buf, sizeof want - 1, 0x1234, "example.com", 28) == -1);
    CHECK(sslsocket__dns_build_query(NULL, 100, 1, "a", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "a", 1) == 12 + 3 + 4);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "under_score-ok.x9", 1) > 0);
}

static void
test_build_query_rejects(void)
{
    unsigned char buf[600];
    char name[400];
    size_t i;

    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, ".", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, NULL, 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "a..b", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, ".a", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "a.b..", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "a b", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "a/b", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "a\\.b", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "caf\xc3\xa9.fr", 1) == -1);
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, "*.example.com", 1) == -1);
    /* labels: 63 is the limit */
    memset(name, 'a', 63);
    strcpy(name + 63, ".com");
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, name, 1) > 0);
    memset(name, 'a', 64);
    strcpy(name + 64, ".com");
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, name, 1) == -1);
    /* names: 253 characters is the limit (254 with the trailing dot) */
    for (i = 0; i < 253; i++)
        name[i] = (i % 2) ? '.' : 'a';
    name[253] = '\0';
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, name, 1) == 12 + 255 + 4);
    strcpy(name + 253, ".");
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, name, 1) == 12 + 255 + 4);
    strcpy(name + 253, ".a");
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, name, 1) == -1);
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    CHECK(sslsocket__dns_build_query(buf, sizeof buf, 1, name, 1) == -1);
}

/* ---- unit tests: responses ---- */

static void
test_parse_good_a(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 0xBEEF, 0, 2, "example.com", 1);
    p_u16(&p, 0xC00C);
    p_a(&p, 192, 0, 2, 1);
    p_u16(&p, 0xC00C);
    p_a(&p, 192, 0, 2, 2);
    memset(out, 0xAA, sizeof out);
    CHECK(parse(&p, 0xBEEF, "example.com", 1, out, 4, &rc) == 2);
    CHECK(rc == 0);
    CHECK(addr_is(&out[0], "192.0.2.1") && out[0].port == 0);
    CHECK(addr_is(&out[1], "192.0.2.2"));
    /* question echoed in another case (0x20 randomisation) still matches */
    CHECK(parse(&p, 0xBEEF, "EXAMPLE.Com.", 1, out, 4, &rc) == 2);
    /* max is respected */
    CHECK(parse(&p, 0xBEEF, "example.com", 1, out, 1, &rc) == 1);
    CHECK(parse(&p, 0xBEEF, "example.com", 1, NULL, 0, &rc) == 0);
    CHECK(parse(&p, 0xBEEF, "example.com", 1, out, 4, NULL) == 2);
}

static void
test_parse_good_aaaa(void)
{
    static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                          0, 0, 0, 0, 0, 0, 0, 0x53 };
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 7, 0, 3, "v6.example", 28);
    /* an A record in an AAAA answer is ignored */
    p_u16(&p, 0xC00C);
    p_a(&p, 10, 0, 0, 1);
    p_u16(&p, 0xC00C);
    p_rr_tail(&p, 28, 16);
    p_bytes(&p, v6, 16);
    /* the same address twice is reported once */
    p_u16(&p, 0xC00C);
    p_rr_tail(&p, 28, 16);
    p_bytes(&p, v6, 16);
    CHECK(parse(&p, 7, "v6.example", 28, out, 4, &rc) == 1);
    CHECK(rc == 0);
    CHECK(addr_is(&out[0], "2001:db8::53"));
    /* and asked as A, the same packet is about another question */
    CHECK(parse(&p, 7, "v6.example", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
}

static void
test_parse_cname_chain(void)
{
    sslsocket_address out[4];
    pkt p;
    size_t target, borg;
    int rc;

    /* www.example.com CNAME a.example.net; a.example.net CNAME b.example.org;
     * b.example.org A 198.51.100.7 -- out of order, mixed case, compressed,
     * with an unrelated A record (a poisoning attempt) and one owned by the
     * alias itself, which is not the answer either */
    p_response(&p, 99, 0, 5, "www.example.com", 1);
    p_name(&p, "evil.example");
    p_a(&p, 6, 6, 6, 6);
    borg = p.n;
    p_name(&p, "B.Example.ORG");
    p_a(&p, 198, 51, 100, 7);
    p_u16(&p, 0xC00C);                          /* www.example.com */
    p_rr_tail(&p, 5, 15);
    target = p.n;
    p_name(&p, "a.example.net");                /* 15 bytes */
    p_u16(&p, (unsigned)(0xC000 | target));     /* a.example.net, by pointer */
    p_rr_tail(&p, 5, 4);
    p_u8(&p, 1);
    p_u8(&p, 'b');
    p_u16(&p, (unsigned)(0xC000 | (borg + 2))); /* "Example.ORG" */
    p_u16(&p, 0xC00C);
    p_a(&p, 203, 0, 113, 9);
    CHECK(parse(&p, 99, "www.example.com", 1, out, 4, &rc) == 1);
    CHECK(rc == 0);
    CHECK(addr_is(&out[0], "198.51.100.7"));
    /* a chain that ends in a name without records: NODATA, not the alias' A */
    p_response(&p, 99, 0, 2, "www.example.com", 1);
    p_u16(&p, 0xC00C);
    p_rr_tail(&p, 5, 9);
    p_name(&p, "x.other");
    p_u16(&p, 0xC00C);
    p_a(&p, 203, 0, 113, 9);
    CHECK(parse(&p, 99, "www.example.com", 1, out, 4, &rc) == 0);
    CHECK(rc == 0);
}

static void
test_parse_cname_loop(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    /* a CNAME b, b CNAME a: bounded, no addresses, no crash */
    p_response(&p, 5, 0, 2, "a.test", 1);
    p_name(&p, "a.test");
    p_rr_tail(&p, 5, 8);
    p_name(&p, "b.test");
    p_name(&p, "b.test");
    p_rr_tail(&p, 5, 8);
    p_name(&p, "a.test");
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == 0);
    CHECK(rc == 0);
}

static void
test_parse_pointer_loop(void)
{
    sslsocket_address out[4];
    pkt p;
    size_t here;
    int rc;

    /* an owner name that points at itself */
    p_response(&p, 5, 0, 1, "a.test", 1);
    here = p.n;
    p_u16(&p, (unsigned)(0xC000 | here));
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* two pointers pointing at each other */
    p_response(&p, 5, 0, 1, "a.test", 1);
    here = p.n;
    p_u16(&p, (unsigned)(0xC000 | (here + 2)));
    p_u16(&p, (unsigned)(0xC000 | here));
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* a question name that is a loop */
    p_header(&p, 5, 0x8180, 1, 0);
    p_u16(&p, 0xC00C);
    p_u16(&p, 1);
    p_u16(&p, 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
}

static void
test_parse_pointer_out_of_bounds(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC000 | 0x3FFF);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* pointing into the header */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC000 | 2);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* a pointer cut in half by the end of the packet */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u8(&p, 0xC0);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* a name made long by pointers: > 255 bytes once expanded */
    {
        size_t prev, i;

        p_response(&p, 5, 0, 1, "a.test", 1);
        prev = p.n;
        p_u8(&p, 63);
        for (i = 0; i < 63; i++)
            p_u8(&p, 'x');
        p_u8(&p, 0);
        for (i = 0; i < 4; i++) {
            size_t here = p.n;
            size_t j;

            p_u8(&p, 63);
            for (j = 0; j < 63; j++)
                p_u8(&p, 'y');
            p_u16(&p, (unsigned)(0xC000 | prev));
            prev = here;
        }
        p_u16(&p, (unsigned)(0xC000 | prev));
        p_a(&p, 1, 2, 3, 4);
        /* the answer section fails; header count says 1, so the packet is dropped */
        CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    }
}

static void
test_parse_truncated_header(void)
{
    sslsocket_address out[4];
    pkt p;
    size_t n;
    int rc;

    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == 1);
    /* every shorter prefix is rejected, never read past its end */
    for (n = 0; n < p.n; n++) {
        int k = sslsocket__dns_parse_response(p.b, n, 5, "a.test", 1, out, 4, &rc);

        CHECK(k < 0);
    }
    CHECK(sslsocket__dns_parse_response(p.b, 11, 5, "a.test", 1, out, 4, &rc)
          == SSLSOCKET__DNS_EMALFORMED);
    CHECK(rc == -1);
}

static void
test_parse_zero_length(void)
{
    sslsocket_address out[4];
    unsigned char b[1] = { 0 };
    int rc = 42;

    CHECK(sslsocket__dns_parse_response(b, 0, 0, "a.test", 1, out, 4, &rc)
          == SSLSOCKET__DNS_EMALFORMED);
    CHECK(rc == -1);
    CHECK(sslsocket__dns_parse_response(NULL, 0, 0, "a.test", 1, out, 4, &rc)
          == SSLSOCKET__DNS_EMALFORMED);
}

static void
test_parse_wrong_id(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 0x1111, 0, 1, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 0x1112, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    CHECK(rc == -1);
}

static void
test_parse_wrong_question(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 5, 0, 1, "b.test", 1);
    p_u16(&p, 0xC00C);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    CHECK(parse(&p, 5, "b.test.x", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    CHECK(parse(&p, 5, "b.test", 28, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    /* class CHAOS */
    p_header(&p, 5, 0x8180, 1, 0);
    p_name(&p, "a.test");
    p_u16(&p, 1);
    p_u16(&p, 3);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    /* no question at all */
    p_header(&p, 5, 0x8180, 0, 0);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    /* two questions */
    p_header(&p, 5, 0x8180, 2, 0);
    p_question(&p, "a.test", 1);
    p_question(&p, "a.test", 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
    /* a query (QR clear), e.g. our own packet reflected back */
    p_header(&p, 5, 0x0100, 1, 0);
    p_question(&p, "a.test", 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMISMATCH);
}

static void
test_parse_rcode(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 5, 3, 0, "nosuch.test", 1);
    CHECK(parse(&p, 5, "nosuch.test", 1, out, 4, &rc) == 0);
    CHECK(rc == 3);
    p_response(&p, 5, 2, 0, "a.test", 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == 0);
    CHECK(rc == 2);
    /* NOERROR and no records: NODATA */
    p_response(&p, 5, 0, 0, "a.test", 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == 0);
    CHECK(rc == 0);
    /* TC bit */
    p_header(&p, 5, 0x8380, 1, 0);
    p_question(&p, "a.test", 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_ETRUNCATED);
}

static void
test_parse_count_lies(void)
{
    sslsocket_address out[4];
    pkt p;
    int rc;

    p_response(&p, 5, 0, 3, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* rdlength beyond the end */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_rr_tail(&p, 1, 400);
    p_bytes(&p, "\1\2\3\4", 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* an A record with 5 bytes of data */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_rr_tail(&p, 1, 5);
    p_bytes(&p, "\1\2\3\4\5", 5);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* a record header cut short */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_u16(&p, 1);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* a CNAME whose name runs past its rdlength */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u16(&p, 0xC00C);
    p_rr_tail(&p, 5, 2);
    p_name(&p, "b.test");
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
}

static void
test_parse_label_too_long(void)
{
    sslsocket_address out[4];
    pkt p;
    int i, rc;

    /* a length byte of 64 is the reserved 0x40 label type */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u8(&p, 64);
    for (i = 0; i < 64; i++)
        p_u8(&p, 'a');
    p_u8(&p, 0);
    p_a(&p, 1, 2, 3, 4);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
    /* a label running past the end of the packet */
    p_response(&p, 5, 0, 1, "a.test", 1);
    p_u8(&p, 40);
    p_bytes(&p, "abc", 3);
    CHECK(parse(&p, 5, "a.test", 1, out, 4, &rc) == SSLSOCKET__DNS_EMALFORMED);
}

/* Random bytes and random mutations of a good packet: the parser must only
 * ever return, never read out of bounds (ASan/valgrind watch). */
static void
test_parse_fuzz(void)
{
    sslsocket_address out[4];
    pkt good, p;
    unsigned seed = 12345;
    int i, j, rc, ok = 0;

    p_response(&good, 5, 0, 3, "www.a.test", 1);
    p_u16(&good, 0xC00C);
    p_rr_tail(&good, 5, 2);
    p_u16(&good, 0xC010);
    p_u16(&good, 0xC010);
    p_a(&good, 1, 2, 3, 4);
    p_u16(&good, 0xC00C);
    p_a(&good, 5, 6, 7, 8);
    CHECK(parse(&good, 5, "www.a.test", 1, out, 4, &rc) == 1);
    for (i = 0; i < 20000; i++) {
        p = good;
        for (j = 0; j < 1 + i % 4; j++) {
            seed = seed * 1103515245u + 12345u;
            p.b[(seed >> 8) % p.n] = (unsigned char)(seed >> 20);
        }
        seed = seed * 1103515245u + 12345u;
        if (i % 7 == 0)
            p.n = (seed >> 8) % p.n;
        if (parse(&p, 5, "www.a.test", 1, out, 4, &rc) >= 0)
            ok++;
    }
    CHECK(ok > 0);  /* some mutations stay valid: the loop did exercise parsing */
}

/* ---- unit tests: literals, hosts, resolv.conf ---- */

static void
test_parse_ip_literal(void)
{
    sslsocket_address a;
    char longs[200];

    CHECK(sslsocket__parse_ip_literal("127.0.0.1", &a) == 1 && a.family == 4);
    CHECK(a.bytes[0] == 127 && a.bytes[3] == 1 && a.port == 0);
    CHECK(sslsocket__parse_ip_literal("::1", &a) == 1 && a.family == 6 && a.bytes[15] == 1);
    CHECK(sslsocket__parse_ip_literal("[::1]", &a) == 1 && a.family == 6 && a.bytes[15] == 1);
    CHECK(sslsocket__parse_ip_literal("[2001:db8::1]", &a) == 1 && a.bytes[1] == 0x01);
    CHECK(sslsocket__parse_ip_literal("::ffff:1.2.3.4", &a) == 1 && a.family == 6);
    CHECK(sslsocket__parse_ip_literal("[::ffff:1.2.3.4]", NULL) == 1);
    CHECK(sslsocket__parse_ip_literal("[127.0.0.1]", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("1.2.3", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("256.1.1.1", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("01.2.3.4", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("1.2.3.4 ", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("example.com", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("", &a) == 0);
    CHECK(sslsocket__parse_ip_literal(NULL, &a) == 0);
    CHECK(sslsocket__parse_ip_literal("[]", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("[", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("[::1", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("::1]", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("[::1]:443", &a) == 0);
    CHECK(sslsocket__parse_ip_literal("fe80::1%lo", &a) == 0);
    memset(longs, '1', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    CHECK(sslsocket__parse_ip_literal(longs, &a) == 0);
    longs[0] = '[';
    CHECK(sslsocket__parse_ip_literal(longs, &a) == 0);
}

static char tmpdir[64];

static const char *
write_temp(const char *base, const char *text, size_t len)
{
    static char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tmpdir, base);
    f = fopen(path, "wb");
    if (f == NULL)
        abort();
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static void
test_hosts_lookup(void)
{
    char text[4096];
    const char *path;
    sslsocket_address out[8];
    size_t n;

    n = (size_t)snprintf(text, sizeof text,
                         "# comment line foo.example\n"
                         "127.0.0.1\tlocalhost\n"
                         "::1     localhost ip6-localhost ip6-loopback\n"
                         "10.0.0.1 Foo.Example foo # foo2.example\n"
                         "10.0.0.2\tbar.example\r\n"
                         "fe80::1%%lo scoped.example\n"
                         "not-an-ip foo.example\n"
                         "\n   \n#\n"
                         "10.0.0.3 ");
    /* a line longer than the buffer, naming foo.example: skipped whole */
    while (n < 2500)
        text[n++] = 'x';
    n += (size_t)snprintf(text + n, sizeof text - n,
                          " foo.example\n"
                          "10.0.0.4 other foo.example\n"
                          "2001:db8::1 FOO.example.\n"
                          "10.0.0.1 foo.example\n"
                          "10.0.0.9 nul");
    text[n++] = '\0';
    n += (size_t)snprintf(text + n, sizeof text - n,
                          " foo.example\n"
                          "10.0.0.5 last.example");
    path = write_temp("hosts", text, n);

    CHECK(sslsocket__hosts_lookup(path, "foo.example", out, 8) == 3);
    CHECK(addr_is(&out[0], "10.0.0.1"));
    CHECK(addr_is(&out[1], "10.0.0.4"));
    CHECK(addr_is(&out[2], "2001:db8::1"));
    CHECK(out[0].port == 0);
    CHECK(sslsocket__hosts_lookup(path, "FOO.EXAMPLE.", out, 8) == 3);
    CHECK(sslsocket__hosts_lookup(path, "foo.example", out, 2) == 2);
    CHECK(sslsocket__hosts_lookup(path, "foo2.example", out, 8) == 0);
    CHECK(sslsocket__hosts_lookup(path, "bar.example", out, 8) == 1);
    CHECK(addr_is(&out[0], "10.0.0.2"));
    CHECK(sslsocket__hosts_lookup(path, "localhost", out, 8) == 2);
    CHECK(addr_is(&out[0], "127.0.0.1") && addr_is(&out[1], "::1"));
    CHECK(sslsocket__hosts_lookup(path, "ip6-loopback", out, 8) == 1);
    CHECK(sslsocket__hosts_lookup(path, "last.example", out, 8) == 1);
    CHECK(addr_is(&out[0], "10.0.0.5"));
    CHECK(sslsocket__hosts_lookup(path, "scoped.example", out, 8) == 0);
    CHECK(sslsocket__hosts_lookup(path, "other", out, 8) == 1);
    CHECK(sslsocket__hosts_lookup(path, "nul", out, 8) == 0);
    CHECK(sslsocket__hosts_lookup(path, "", out, 8) == 0);
    CHECK(sslsocket__hosts_lookup(path, "foo.example", out, 0) == 0);
    CHECK(sslsocket__hosts_lookup("/nonexistent/hosts", "localhost", out, 8) == -1);
    CHECK(sslsocket__hosts_lookup(tmpdir, "localhost", out, 8) == -1);
    path = write_temp("empty", "", 0);
    CHECK(sslsocket__hosts_lookup(path, "localhost", out, 8) == 0);
}

static void
test_resolv_conf(void)
{
    static const char text[] =
        "# comment\n"
        "; comment\n"
        "domain example\n"
        "search example example.net\n"
        "nameserver 192.0.2.1\n"
        "nameserver   2001:db8::53   # trailing comment\n"
        "nameserver fe80::1%eth0\n"
        "nameserver bogus\n"
        "nameserver\n"
        "options ndots:2 timeout:3 attempts:4 rotate\n"
        "nameserver 192.0.2.2\r\n"
        "nameserver 192.0.2.3\n";
    sslsocket_address ns[4];
    const char *path;
    int attempts = 0, timeout = 0;

    path = write_temp("resolv.conf", text, sizeof text - 1);
    CHECK(sslsocket__resolv_conf(path, ns, 3, &attempts, &timeout) == 3);
    CHECK(addr_is(&ns[0], "192.0.2.1") && ns[0].port == 53);
    CHECK(addr_is(&ns[1], "2001:db8::53") && ns[1].port == 53);
    CHECK(addr_is(&ns[2], "192.0.2.2") && ns[2].port == 53);
    CHECK(attempts == 4 && timeout == 3);
    CHECK(sslsocket__resolv_conf(path, ns, 4, NULL, NULL) == 4);

    path = write_temp("resolv2.conf", "options timeout:99 attempts:0\noptions attempts:x\n", 49);
    CHECK(sslsocket__resolv_conf(path, ns, 3, &attempts, &timeout) == 1);
    CHECK(addr_is(&ns[0], "127.0.0.1") && ns[0].port == 53);
    CHECK(timeout == 30 && attempts == 1);

    CHECK(sslsocket__resolv_conf("/nonexistent/resolv.conf", ns, 3, &attempts, &timeout) == 1);
    CHECK(addr_is(&ns[0], "127.0.0.1") && ns[0].port == 53);
    CHECK(attempts == 2 && timeout == 5);
    CHECK(sslsocket__resolv_conf(path, NULL, 0, &attempts, &timeout) == 0);
}

static void
test_order_addresses(void)
{
    sslsocket_address a[6];

    a[0] = addr("10.0.0.1", 1);
    a[1] = addr("10.0.0.2", 2);
    a[2] = addr("::1", 3);
    a[3] = addr("::2", 4);
    a[4] = addr("::3", 5);
    a[5] = addr("10.0.0.3", 6);
    sslsocket__order_addresses(a, 6);
    CHECK(addr_is(&a[0], "::1") && addr_is(&a[1], "10.0.0.1"));
    CHECK(addr_is(&a[2], "::2") && addr_is(&a[3], "10.0.0.2"));
    CHECK(addr_is(&a[4], "::3") && addr_is(&a[5], "10.0.0.3"));
    sslsocket__order_addresses(a, 0);
    a[0] = addr("10.0.0.1", 1);
    a[1] = addr("10.0.0.2", 2);
    sslsocket__order_addresses(a, 2);
    CHECK(addr_is(&a[0], "10.0.0.1") && addr_is(&a[1], "10.0.0.2"));
}

/* ---- unit tests: resolver misuse ---- */

/* A bound UDP socket that never answers (and so draws no ICMP error). */
static int
silent_socket(unsigned short *port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0
        || getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
        abort();
    *port = ntohs(sin.sin_port);
    return fd;
}

static void
test_resolver_misuse(void)
{
    sslsocket__resolver r;
    sslsocket_address ns, out[4];
    char msg[200];
    int n = 5, sfd;
    unsigned short port;
    int64_t t = now_ms();

    sfd = silent_socket(&port);
    ns = addr("127.0.0.1", port);

    sslsocket__resolver_init(&r);
    CHECK(sslsocket__resolver_fd(&r) == -1);
    CHECK(sslsocket__resolver_next_timer(&r) == INT64_MAX);
    CHECK(sslsocket__resolver_step(&r, t, out, 4, &n, msg, sizeof msg)
          == SSLSOCKET__RESOLVE_ERROR);
    CHECK(n == 0);
    CHECK_STR(msg, "host lookup not started");
    sslsocket__resolver_cancel(&r);
    sslsocket__resolver_cancel(&r);

    CHECK(sslsocket__resolver_start(&r, "bad name\n", &ns, 1, t, 100, 1, t + 1000)
          == SSLSOCKET__RESOLVE_ERROR);
    CHECK(sslsocket__resolver_fd(&r) == -1);
    CHECK(sslsocket__resolver_next_timer(&r) <= t);
    CHECK(sslsocket__resolver_step(&r, t, out, 4, &n, msg, sizeof msg)
          == SSLSOCKET__RESOLVE_ERROR);
    CHECK_STR(msg, "host lookup failed: bad name? (invalid host name)");
    CHECK(sslsocket__resolver_step(&r, t, out, 4, &n, msg, sizeof msg)
          == SSLSOCKET__RESOLVE_ERROR);
    CHECK_STR(msg, "host lookup not started");

    CHECK(sslsocket__resolver_start(&r, "ok.test", &ns, 0, t, 100, 1, t + 1000)
          == SSLSOCKET__RESOLVE_ERROR);
    CHECK(sslsocket__resolver_step(&r, t, out, 4, &n, msg, sizeof msg)
          == SSLSOCKET__RESOLVE_ERROR);
    CHECK_STR(msg, "host lookup failed: ok.test (no name server)");
    CHECK(sslsocket__resolver_start(&r, NULL, &ns, 1, t, 100, 1, t + 1000)
          == SSLSOCKET__RESOLVE_ERROR);
    /* a tiny message buffer is filled, never overrun */
    CHECK(sslsocket__resolver_step(&r, t, out, 4, &n, msg, 5) == SSLSOCKET__RESOLVE_ERROR);
    CHECK_STR(msg, "host");
    CHECK(sslsocket__resolver_step(&r, t, out, 4, NULL, NULL, 0) == SSLSOCKET__RESOLVE_ERROR);

    /* start while running restarts cleanly; cancel closes and is idempotent */
    CHECK(sslsocket__resolver_start(&r, "a.test", &ns, 1, t, 100, 1, t + 1000)
          == SSLSOCKET__RESOLVE_PENDING);
    CHECK(sslsocket__resolver_fd(&r) >= 0);
    CHECK(sslsocket__resolver_start(&r, "b.test", &ns, 1, t, 100, 1, t + 1000)
          == SSLSOCKET__RESOLVE_PENDING);
    CHECK(sslsocket__resolver_next_timer(&r) == t + 100);
    sslsocket__resolver_cancel(&r);
    CHECK(sslsocket__resolver_fd(&r) == -1);
    sslsocket__resolver_cancel(&r);
    close(sfd);
}

/* A server we cannot send to at all (broadcast without SO_BROADCAST) is a
 * local failure, reported at once and not as a timeout. */
static void
test_resolver_send_fails(void)
{
    sslsocket__resolver r;
    sslsocket_address ns = addr("255.255.255.255", 53), out[4];
    char msg[200];
    int n, rc;
    int64_t t = now_ms();

    sslsocket__resolver_init(&r);
    CHECK(sslsocket__resolver_start(&r, "a.test", &ns, 1, t, 1000, 2, t + 5000)
          == SSLSOCKET__RESOLVE_PENDING);
    rc = sslsocket__resolver_step(&r, t, out, 4, &n, msg, sizeof msg);
    CHECK(rc == SSLSOCKET__RESOLVE_ERROR);
    CHECK(strstr(msg, "host lookup failed: a.test (cannot reach 255.255.255.255:53: ") == msg);
    CHECK(strstr(msg, ", after 2 tries)") != NULL);
    printf("         message: %s\n", msg);
}

/* ---- end-to-end tests against tests/fakedns.py ---- */

static char fakedns_path[512];
static const char *python = "python3";

typedef struct fake {
    pid_t pid;
    unsigned short port;
    char portfile[128];
} fake;

static int
fake_start(fake *f, const char *mode)
{
    static int seq;
    int64_t end;

    snprintf(f->portfile, sizeof f->portfile, "%s/port.%d", tmpdir, seq++);
    unlink(f->portfile);
    f->port = 0;
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        execlp(python, python, fakedns_path, mode, f->portfile, (char *)NULL);
        _exit(127);
    }
    /* poll for the port file; bounded, and notice a server that died */
    end = now_ms() + 10000;
    while (now_ms() < end) {
        FILE *pf = fopen(f->portfile, "r");
        unsigned port = 0;
        int status;

        if (pf != NULL) {
            int ok = fscanf(pf, "%u", &port) == 1;

            fclose(pf);
            if (ok && port > 0 && port < 65536) {
                f->port = (unsigned short)port;
                return 0;
            }
        }
        if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
            f->pid = -1;
            return -1;
        }
        poll(NULL, 0, 5);
    }
    return -1;
}

static void
fake_stop(fake *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
    }
    f->pid = -1;
    unlink(f->portfile);
}

typedef struct run {
    int rc, n;
    sslsocket_address out[8];
    char msg[256];
    int64_t started_us, ended_us, max_step_us;
    int64_t first_read_us;  /* first readable poll, or first step that took an answer */
    int steps;
} run;

/* Drives one lookup with poll(2) on the resolver's fd, as a user would. */
static void
drive(const char *name, const sslsocket_address *ns, int n_ns, int timeout_ms, int attempts,
      int deadline_ms, run *res)
{
    sslsocket__resolver r;
    int64_t t0;

    memset(res, 0, sizeof *res);
    sslsocket__resolver_init(&r);
    res->started_us = now_us();
    t0 = res->started_us / 1000;
    res->rc = sslsocket__resolver_start(&r, name, ns, n_ns, t0, timeout_ms, attempts,
                                        t0 + deadline_ms);
    if (res->rc != SSLSOCKET__RESOLVE_PENDING)
        return;
    for (;;) {
        struct pollfd pfd;
        int64_t a, b, wait;

        a = now_us();
        res->rc = sslsocket__resolver_step(&r, a / 1000, res->out, 8, &res->n, res->msg,
                                           sizeof res->msg);
        b = now_us();
        res->steps++;
        if (b - a > res->max_step_us)
            res->max_step_us = b - a;
        /* white-box: the step that took in the first answer (it may have been
         * waiting before the first poll) */
        if (r.answered != 0 && res->first_read_us == 0)
            res->first_read_us = a;
        if (res->rc != SSLSOCKET__RESOLVE_PENDING)
            break;
        if (b - res->started_us > 15000000) {
            res->rc = 99;   /* never reached: the resolver must end by itself */
            break;
        }
        pfd.fd = sslsocket__resolver_fd(&r);
        pfd.events = POLLIN;
        pfd.revents = 0;
        wait = sslsocket__resolver_next_timer(&r) - now_ms();
        if (wait < 0)
            wait = 0;
        if (wait > 1000)
            wait = 1000;
        /* +1: poll may wake a little before the millisecond ticks over */
        if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)wait + 1) > 0 && res->first_read_us == 0)
            res->first_read_us = now_us();
    }
    res->ended_us = now_us();
    CHECK(sslsocket__resolver_fd(&r) == -1);
    sslsocket__resolver_cancel(&r);
}

static void
e2e_answer(void)
{
    fake f;
    sslsocket_address ns;
    run res;

    REQUIRE(fake_start(&f, "answer") == 0);
    ns = addr("127.0.0.1", f.port);
    drive("example.test", &ns, 1, 1000, 2, 3000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_DONE);
    CHECK(res.n == 2);
    CHECK(addr_is(&res.out[0], "::1"));
    CHECK(addr_is(&res.out[1], "127.0.0.1"));
    CHECK(res.out[0].port == 0);
    CHECK_STR(res.msg, "");
    CHECK(res.max_step_us < 5000 * slow);
    /* through a CNAME, with the name in another case and a trailing dot */
    drive("Alias.Example.Test.", &ns, 1, 1000, 2, 3000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_DONE && res.n == 2);
    CHECK(addr_is(&res.out[0], "::1") && addr_is(&res.out[1], "127.0.0.1"));
    fake_stop(&f);
}

static void
e2e_nxdomain(void)
{
    fake f;
    sslsocket_address ns;
    run res;
    char want[128];

    REQUIRE(fake_start(&f, "nxdomain") == 0);
    ns = addr("127.0.0.1", f.port);
    drive("nosuch.test", &ns, 1, 1000, 2, 3000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_NOTFOUND);
    CHECK(res.n == 0);
    snprintf(want, sizeof want, "host not found: nosuch.test (NXDOMAIN from 127.0.0.1:%u)",
             f.port);
    CHECK_STR(res.msg, want);
    CHECK(res.ended_us - res.started_us < 500000 * slow);
    fake_stop(&f);
}

static void
e2e_silent(void)
{
    fake f;
    sslsocket_address ns;
    run res;
    char want[160];
    int64_t took;

    REQUIRE(fake_start(&f, "silent") == 0);
    ns = addr("127.0.0.1", f.port);
    /* 2 tries of 150 ms, well inside the 2 s deadline */
    drive("x.test", &ns, 1, 150, 2, 2000, &res);
    took = (res.ended_us - res.started_us) / 1000;
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT);
    snprintf(want, sizeof want,
             "host lookup timed out: x.test (no answer from 127.0.0.1:%u after 2 tries)", f.port);
    CHECK_STR(res.msg, want);
    CHECK(took >= 299 && took < 300 + 150 * slow);
    CHECK(res.max_step_us < 5000 * slow);
    printf("         %d steps, slowest %lld us, %lld ms\n", res.steps,
           (long long)res.max_step_us, (long long)took);

    /* the final deadline cuts the schedule short */
    drive("x.test", &ns, 1, 1000, 5, 250, &res);
    took = (res.ended_us - res.started_us) / 1000;
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT);
    snprintf(want, sizeof want,
             "host lookup timed out: x.test (no answer from 127.0.0.1:%u after 1 try)", f.port);
    CHECK_STR(res.msg, want);
    CHECK(took >= 249 && took < 250 + 150 * slow);
    CHECK(res.max_step_us < 5000 * slow);
    fake_stop(&f);
}

static void
e2e_garbage(void)
{
    fake f;
    sslsocket_address ns;
    run res;

    REQUIRE(fake_start(&f, "garbage") == 0);
    ns = addr("127.0.0.1", f.port);
    drive("junk.test", &ns, 1, 150, 2, 2000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT || res.rc == SSLSOCKET__RESOLVE_NOTFOUND);
    CHECK(res.n == 0);
    CHECK(res.first_read_us != 0);  /* the garbage did arrive */
    CHECK(res.max_step_us < 5000 * slow);
    printf("         message: %s\n", res.msg);
    fake_stop(&f);
}

static void
e2e_slow_aaaa(void)
{
    fake f;
    sslsocket_address ns;
    run res;
    int64_t after_first;

    REQUIRE(fake_start(&f, "slow-aaaa") == 0);
    ns = addr("127.0.0.1", f.port);
    drive("v4only.test", &ns, 1, 1000, 2, 3000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_DONE);
    CHECK(res.n == 1);
    CHECK(addr_is(&res.out[0], "127.0.0.1"));
    REQUIRE(res.first_read_us != 0);
    after_first = (res.ended_us - res.first_read_us) / 1000;
    /* the resolution delay: 50 ms after the A answer, not the 1 s retry timer */
    CHECK(after_first >= 45 && after_first <= 50 + 40 * slow);
    printf("         done %lld ms after the first answer\n", (long long)after_first);
    fake_stop(&f);
}

static void
e2e_servfail(void)
{
    fake f;
    sslsocket_address ns;
    run res;
    char want[160];

    REQUIRE(fake_start(&f, "servfail") == 0);
    ns = addr("127.0.0.1", f.port);
    /* a server that gives up is not waited for: 2 tries, no timeouts */
    drive("x.test", &ns, 1, 1000, 2, 3000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT);
    snprintf(want, sizeof want,
             "host lookup failed: x.test (SERVFAIL from 127.0.0.1:%u after 2 tries)", f.port);
    CHECK_STR(res.msg, want);
    CHECK(res.ended_us - res.started_us < 900000 * slow);
    fake_stop(&f);
}

static void
e2e_truncated(void)
{
    fake f;
    sslsocket_address ns;
    run res;
    char want[160];

    REQUIRE(fake_start(&f, "truncated") == 0);
    ns = addr("127.0.0.1", f.port);
    drive("x.test", &ns, 1, 1000, 1, 3000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT);
    snprintf(want, sizeof want,
             "host lookup failed: x.test (truncated answer from 127.0.0.1:%u after 1 try)",
             f.port);
    CHECK_STR(res.msg, want);
    CHECK(res.ended_us - res.started_us < 900000 * slow);
    fake_stop(&f);
}

static void
e2e_wrong_source(void)
{
    fake f;
    sslsocket_address ns;
    run res;

    REQUIRE(fake_start(&f, "wrong-source") == 0);
    ns = addr("127.0.0.1", f.port);
    drive("x.test", &ns, 1, 100, 2, 2000, &res);
    /* answers from another port are ignored (the kernel already drops them
     * for the connected socket; the resolver checks the source again) */
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT);
    fake_stop(&f);
}

static void
e2e_rotate_servers(void)
{
    fake dead, live;
    sslsocket_address ns[2];
    run res;
    int64_t took;

    REQUIRE(fake_start(&dead, "silent") == 0);
    if (fake_start(&live, "answer") != 0) {
        fake_stop(&dead);
        REQUIRE(0);
    }
    ns[0] = addr("127.0.0.1", dead.port);
    ns[1] = addr("127.0.0.1", live.port);
    drive("example.test", ns, 2, 150, 2, 3000, &res);
    took = (res.ended_us - res.started_us) / 1000;
    CHECK(res.rc == SSLSOCKET__RESOLVE_DONE && res.n == 2);
    CHECK(took >= 149 && took < 150 + 150 * slow);
    fake_stop(&live);
    fake_stop(&dead);
}

/* A closed port answers with ICMP: reported at once, not after the timeouts. */
static void
e2e_refused(void)
{
    sslsocket_address ns;
    unsigned short port;
    run res;
    char want[160];
    int fd;

    /* a port that was in use a moment ago */
    fd = silent_socket(&port);
    close(fd);
    ns = addr("127.0.0.1", port);
    drive("x.test", &ns, 1, 2000, 2, 5000, &res);
    CHECK(res.rc == SSLSOCKET__RESOLVE_TIMEOUT);
    snprintf(want, sizeof want, "host lookup failed: x.test (cannot reach 127.0.0.1:%u: "
             "connection refused, after 2 tries)", port);
    CHECK_STR(res.msg, want);
    CHECK(res.ended_us - res.started_us < 500000 * slow);
}

/* ---- main ---- */

typedef struct test {
    const char *name;
    void (*fn)(void);
} test;

static const test tests[] = {
    { "build_query", test_build_query },
    { "build_query_rejects", test_build_query_rejects },
    { "parse_good_a", test_parse_good_a },
    { "parse_good_aaaa", test_parse_good_aaaa },
    { "parse_cname_chain", test_parse_cname_chain },
    { "parse_cname_loop", test_parse_cname_loop },
    { "parse_pointer_loop", test_parse_pointer_loop },
    { "parse_pointer_out_of_bounds", test_parse_pointer_out_of_bounds },
    { "parse_truncated_header", test_parse_truncated_header },
    { "parse_zero_length", test_parse_zero_length },
    { "parse_wrong_id", test_parse_wrong_id },
    { "parse_wrong_question", test_parse_wrong_question },
    { "parse_rcode", test_parse_rcode },
    { "parse_count_lies", test_parse_count_lies },
    { "parse_label_too_long", test_parse_label_too_long },
    { "parse_fuzz", test_parse_fuzz },
    { "parse_ip_literal", test_parse_ip_literal },
    { "hosts_lookup", test_hosts_lookup },
    { "resolv_conf", test_resolv_conf },
    { "order_addresses", test_order_addresses },
    { "resolver_misuse", test_resolver_misuse },
    { "resolver_send_fails", test_resolver_send_fails },
    { "e2e_answer", e2e_answer },
    { "e2e_nxdomain", e2e_nxdomain },
    { "e2e_silent", e2e_silent },
    { "e2e_garbage", e2e_garbage },
    { "e2e_slow_aaaa", e2e_slow_aaaa },
    { "e2e_servfail", e2e_servfail },
    { "e2e_truncated", e2e_truncated },
    { "e2e_wrong_source", e2e_wrong_source },
    { "e2e_rotate_servers", e2e_rotate_servers },
    { "e2e_refused", e2e_refused },
};

static void
find_fakedns(const char *argv0)
{
    const char *env = getenv("FAKEDNS"), *slash;

    if (env != NULL) {
        snprintf(fakedns_path, sizeof fakedns_path, "%s", env);
        return;
    }
    /* next to this source file, else next to the binary */
    slash = strrchr(__FILE__, '/');
    snprintf(fakedns_path, sizeof fakedns_path, "%.*sfakedns.py",
             slash != NULL ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
    if (access(fakedns_path, R_OK) == 0)
        return;
    slash = strrchr(argv0, '/');
    snprintf(fakedns_path, sizeof fakedns_path, "%.*sfakedns.py",
             slash != NULL ? (int)(slash - argv0 + 1) : 0, argv0);
}

int
main(int argc, char **argv)
{
    size_t i;
    int passed = 0, failed = 0, j;

    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    find_fakedns(argv[0]);
    if (getenv("TEST_SLOW") != NULL && atoi(getenv("TEST_SLOW")) > 1)
        slow = atoi(getenv("TEST_SLOW"));
    else if (getenv("LD_PRELOAD") != NULL && strstr(getenv("LD_PRELOAD"), "vgpreload") != NULL)
        slow = 10;
    if (slow > 1)
        printf("time bounds x%d (valgrind or TEST_SLOW)\n", slow);
    /* Debian's own python starts fast; a pyenv shim on PATH takes ~0.5 s */
    if (getenv("PYTHON") != NULL)
        python = getenv("PYTHON");
    else if (access("/usr/bin/python3", X_OK) == 0)
        python = "/usr/bin/python3";
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_resolver.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int selected = argc < 2;

        for (j = 1; j < argc; j++)
            selected |= strcmp(argv[j], tests[i].name) == 0;
        if (!selected)
            continue;
        test_name = tests[i].name;
        test_failed = 0;
        printf("[ RUN  ] %s\n", test_name);
        tests[i].fn();
        if (test_failed) {
            failed++;
        } else {
            passed++;
            printf("[ OK   ] %s\n", test_name);
        }
    }
    {
        static const char *const files[] = { "hosts", "empty", "resolv.conf", "resolv2.conf" };
        char path[128];

        for (i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
            unlink(path);
        }
        if (rmdir(tmpdir) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
