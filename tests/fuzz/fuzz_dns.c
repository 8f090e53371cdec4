/* fuzz_dns.c - the resolver's parsers: DNS responses, and hosts /
 * resolv.conf text.
 *
 * Input: byte 0 control, bytes 1-2 the query id (big-endian), byte 3 the
 * length L of the queried name, L bytes of name, then the payload.
 *   control bit 0     query type AAAA (else A)
 *   control bits 1-3  max addresses (0 means 8)
 *   control bit 4     no rcode pointer
 *   control bit 5     no output array
 *   control bit 6     the payload is an /etc/hosts and resolv.conf text
 *                     (read from a memfd through the real line reader)
 * The payload (a DNS response) goes to sslsocket__dns_parse_response, then
 * through the polled resolver's datagram handling (as the answer to its A
 * query, then with id+1 to its AAAA query) and its final report.
 */
#define SSLSOCKET_IMPLEMENTATION
#include "../../sslsocket.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

static void
check_addresses(const sslsocket_address *out, int n, int qtype)
{
    int i, j;
    for (i = 0; i < n; i++) {
        FZ_ASSERT(out[i].family == (qtype == SSLSOCKET__DNS_TYPE_A ? 4 : 6));
        FZ_ASSERT(out[i].port == 0);
        if (out[i].family == 4)
            for (j = 4; j < 16; j++)
                FZ_ASSERT(out[i].bytes[j] == 0);
        for (j = 0; j < i; j++) /* duplicates are dropped */
            FZ_ASSERT(memcmp(out[i].bytes, out[j].bytes, 16) != 0);
    }
}

static void
parse_packet(const uint8_t *pkt, size_t len, unsigned id, const char *name, unsigned ctl)
{
    sslsocket_address out[9];
    int qtype = (ctl & 1) ? SSLSOCKET__DNS_TYPE_AAAA : SSLSOCKET__DNS_TYPE_A;
    int max = (int)((ctl >> 1) & 7), rcode = 12345, r;
    if (max == 0)
        max = 8;
    memset(out, 0xA5, sizeof out);
    r = sslsocket__dns_parse_response(pkt, len, (unsigned short)id, name, qtype,
                                      (ctl & 0x20) ? NULL : out, max, (ctl & 0x10) ? NULL : &rcode);
    FZ_ASSERT(r == SSLSOCKET__DNS_EMALFORMED || r == SSLSOCKET__DNS_EMISMATCH
              || r == SSLSOCKET__DNS_ETRUNCATED || (r >= 0 && r <= max));
    if (!(ctl & 0x10)) {
        FZ_ASSERT(rcode == -1 || (rcode >= 0 && rcode <= 15));
        if (r > 0)
            FZ_ASSERT(rcode == 0); /* addresses only with NOERROR */
    }
    if (ctl & 0x20)
        FZ_ASSERT(r <= 0);
    else if (r > 0)
        check_addresses(out, r, qtype);
    /* nothing written past what was returned */
    {
        size_t i;
        const unsigned char *p = (const unsigned char *)&out[r > 0 ? r : 0];
        for (i = 0; i < sizeof out - (size_t)(r > 0 ? r : 0) * sizeof out[0]; i++)
            FZ_ASSERT(p[i] == 0xA5);
    }
}

/* The polled resolver's handling of a datagram, as if it came from one of
   its name servers, and the message it ends with. */
static void
resolver_packet(const uint8_t *pkt, size_t len, unsigned id, const char *name)
{
    static sslsocket__resolver r;
    static unsigned char copy[SSLSOCKET__DNS_MAX_PACKET];
    sslsocket_address out[SSLSOCKET_MAX_ADDRS];
    char msg[256];
    int n = -1, code;

    if (strlen(name) >= sizeof r.name || len > sizeof copy)
        return;
    sslsocket__resolver_init(&r);
    r.state = SSLSOCKET__RSTATE_RUNNING;
    r.flags = SSLSOCKET__RFLAG_SENT;
    r.id[0] = (unsigned short)id;
    r.id[1] = (unsigned short)(id + 1);
    r.n_ns = 2;
    r.tries = 1;
    r.max_tries = 4;
    r.ns[0].family = 4;
    r.ns[0].bytes[0] = 192;
    r.ns[0].bytes[3] = 53;
    r.ns[0].port = 53;
    r.ns[1].family = 6;
    r.ns[1].bytes[15] = 1;
    r.ns[1].port = 5353;
    r.timer_ms = 1000;
    r.deadline_ms = 10000;
    strcpy(r.name, name);
    sslsocket__resolver_datagram(&r, pkt, len, 0, 10);
    memcpy(copy, pkt, len);
    if (len >= 2) { /* the same answer to the other query */
        copy[0] = (unsigned char)((id + 1) >> 8);
        copy[1] = (unsigned char)(id + 1);
    }
    sslsocket__resolver_datagram(&r, copy, len, 1, 20);
    FZ_ASSERT(r.n4 <= SSLSOCKET__RESOLVE_MAX_PER_FAMILY && r.n6 <= SSLSOCKET__RESOLVE_MAX_PER_FAMILY);
    code = sslsocket__resolver_finish(&r, out, SSLSOCKET_MAX_ADDRS, &n, msg, sizeof msg);
    FZ_ASSERT(memchr(msg, 0, sizeof msg) != NULL);
    FZ_ASSERT(n >= 0 && n <= SSLSOCKET_MAX_ADDRS);
    if (code == SSLSOCKET__RESOLVE_DONE)
        FZ_ASSERT(n > 0 && msg[0] == 0);
    else
        FZ_ASSERT(n == 0 && msg[0] != 0);
}

/* The payload as hosts and resolv.conf files. */
static void
config_text(const uint8_t *text, size_t len, const char *name)
{
    static int fd = -1;
    static char path[64];
    sslsocket_address out[SSLSOCKET_MAX_ADDRS], ns[SSLSOCKET__RESOLVE_MAX_NS];
    int n, attempts = -1, timeout = -1, i;

    if (fd < 0) {
        fd = memfd_create("fuzz_dns", 0);
        FZ_ASSERT(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FZ_ASSERT(ftruncate(fd, 0) == 0);
    FZ_ASSERT(pwrite(fd, text, len, 0) == (ssize_t)len);
    n = sslsocket__hosts_lookup(path, name, out, SSLSOCKET_MAX_ADDRS);
    FZ_ASSERT(n >= 0 && n <= SSLSOCKET_MAX_ADDRS);
    for (i = 0; i < n; i++)
        FZ_ASSERT(out[i].family == 4 || out[i].family == 6);
    n = sslsocket__resolv_conf(path, ns, SSLSOCKET__RESOLVE_MAX_NS, &attempts, &timeout);
    FZ_ASSERT(n >= 1 && n <= SSLSOCKET__RESOLVE_MAX_NS);
    FZ_ASSERT(attempts >= 1 && attempts <= 5 && timeout >= 1 && timeout <= 30);
    for (i = 0; i < n; i++)
        FZ_ASSERT((ns[i].family == 4 || ns[i].family == 6) && ns[i].port == 53);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[300];
    unsigned ctl, id;
    size_t nl;
    sslsocket_address lit;
    unsigned char wire[300];
    if (size < 4)
        return 0;
    ctl = data[0];
    id = (unsigned)data[1] << 8 | data[2];
    nl = data[3];
    if (size < 4 + nl)
        return 0;
    memcpy(name, data + 4, nl);
    name[nl] = 0;
    data += 4 + nl;
    size -= 4 + nl;
    /* the name's own parsers */
    (void)sslsocket__parse_ip_literal(name, &lit);
    {
        int w = sslsocket__dns_encode_name(name, wire, sizeof wire);
        FZ_ASSERT(w == -1 || (w >= 1 && w <= SSLSOCKET__DNS_MAX_WIRE_NAME));
    }
    if (ctl & 0x40) {
        config_text(data, size, name);
        return 0;
    }
    parse_packet(data, size, id, name, ctl);
    resolver_packet(data, size, id, name);
    return 0;
}
