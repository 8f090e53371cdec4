/* fuzz_lines.c - the stream reader: read_line / peek / read /
 * can_read_line / bytes_available against a known byte stream.
 *
 * Input: byte 0 options, then the stream.  A writer socket sends the stream
 * over the in-memory pipe with write() calls of varying sizes; a reader
 * socket takes it apart with a mix of calls whose sizes and order come from
 * a generator seeded by the input.  Checked on every call:
 *   - read_line returns at most max-1 bytes, NUL-terminated, containing no
 *     '\n' except as the last byte, and a piece without '\n' only when it
 *     is max-1 long or the connection is over;
 *   - can_read_line is true exactly when a '\n' is among the readable bytes,
 *     and then read_line returns something;
 *   - peek returns what the next read returns; bytes_available is what
 *     peek can see;
 *   - the bytes come out in order, none lost, none added: at the end the
 *     total read equals the input.
 * Options:
 *   bits 0-1  write sizes: everything, 1 byte, 1..16, 1..5000
 *   bits 2-3  read sizes / line limits: 2, 3..17, up to 4096, mixed
 *   bit 4     the reader reads only every 7th round (back-pressure)
 *   bit 5     the writer disconnects once everything is queued
 *   bit 6     peek before reading
 *   bit 7     TLS: the stream goes through a handshake and records first
 *             (the reader then sees its buffer followed by the engine's)
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sslsocket rd, wr;
static sslsocket_pipe pipe_;

/* TLS mode: one handshake (~10 ms of BearSSL arithmetic) is done once;
   each input starts from a copy of both encrypted sockets and the pipe,
   put back at the same addresses (their pointers stay valid). */
static sslsocket rd_snap, wr_snap;
static sslsocket_pipe pipe_snap;
static int have_snap;

static void
tls_restore(void)
{
    if (!have_snap) {
        int i;
        fz_setup();
        sslsocket_init(&rd, NULL);
        sslsocket_init(&wr, NULL);
        FZ_ASSERT(sslsocket_pipe_connect(&pipe_, &rd, &wr) == 0);
        fz_client_start(&rd, 0, FZ_C2_NOREAD);
        fz_server_start(&wr, 2, FZ_S2_NOREAD); /* no client certificate asked */
        for (i = 0; i < 50 && !(sslsocket_is_encrypted(&rd) && sslsocket_is_encrypted(&wr)); i++) {
            sslsocket_poll(&rd);
            sslsocket_poll(&wr);
        }
        FZ_ASSERT(sslsocket_is_encrypted(&rd) && sslsocket_is_encrypted(&wr));
        sslsocket_poll(&rd);
        sslsocket_poll(&wr);
        FZ_ASSERT(pipe_.len[0] == 0 && pipe_.len[1] == 0);
        while (sslsocket_next_event(&rd, &(unsigned){0}, &(int){0})) {
        }
        while (sslsocket_next_event(&wr, &(unsigned){0}, &(int){0})) {
        }
        memcpy(&rd_snap, &rd, sizeof rd);
        memcpy(&wr_snap, &wr, sizeof wr);
        memcpy(&pipe_snap, &pipe_, sizeof pipe_);
        have_snap = 1;
    }
    memcpy(&rd, &rd_snap, sizeof rd);
    memcpy(&wr, &wr_snap, sizeof wr);
    memcpy(&pipe_, &pipe_snap, sizeof pipe_);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tls_restore();
    return 0;
}

typedef struct gen {
    uint32_t x;
} gen;

static uint32_t
gen_next(gen *g)
{
    g->x ^= g->x << 13;
    g->x ^= g->x >> 17;
    g->x ^= g->x << 5;
    return g->x;
}

static size_t
write_size(gen *g, unsigned opt)
{
    switch (opt & 3) {
    case 0: return (size_t)-1;
    case 1: return 1;
    case 2: return 1 + gen_next(g) % 16;
    default: return 1 + gen_next(g) % 5000;
    }
}

static size_t
read_size(gen *g, unsigned opt)
{
    switch ((opt >> 2) & 3) {
    case 0: return 2;
    case 1: return 3 + gen_next(g) % 15;
    case 2: return 2 + gen_next(g) % 4095;
    default: {
        static const size_t sizes[] = { 2, 3, 5, 16, 80, 1000, 4096, 4097, 9000 };
        return sizes[gen_next(g) % (sizeof sizes / sizeof sizes[0])];
    }
    }
}

/* One reader call; checks it against the expected stream. */
static void
reader_step(gen *g, unsigned opt, const uint8_t *data, size_t size, size_t *out)
{
    static char buf[9001], look[32768];
    size_t avail = sslsocket_bytes_available(&rd), max = read_size(g, opt);
    int over = sslsocket_state(&rd) == SSLSOCKET_UNCONNECTED;
    int can = sslsocket_can_read_line(&rd);
    ptrdiff_t n, p;

    FZ_ASSERT(*out + avail <= size); /* nothing added */
    /* what is readable is the next part of the stream; a '\n' among it
       exactly when can_read_line says so */
    if (avail <= 2048 || gen_next(g) % 16 == 0) { /* (all of it: costly) */
        p = sslsocket_peek(&rd, look, sizeof look);
        FZ_ASSERT(p >= 0 && (size_t)p == (avail < sizeof look ? avail : sizeof look));
        FZ_ASSERT(memcmp(look, data + *out, (size_t)p) == 0);
        if ((size_t)p == avail)
            FZ_ASSERT(can == (memchr(look, '\n', (size_t)p) != NULL));
    }
    switch (gen_next(g) % 4) {
    case 0:
    case 1: /* read_line */
        if (opt & 0x40) {
            p = sslsocket_peek(&rd, buf, max - 1);
            FZ_ASSERT(p >= 0 && (size_t)p <= max - 1);
        }
        memset(buf, 0x7F, max);
        n = sslsocket_read_line(&rd, buf, max);
        FZ_ASSERT(n >= 0 && (size_t)n <= max - 1 && (size_t)n <= avail);
        FZ_ASSERT(buf[n] == 0 || (n == 0 && !FZ_EMPTY_LINE_IS_NUL_TERMINATED));
        FZ_ASSERT(memcmp(buf, data + *out, (size_t)n) == 0);
        if (n > 0) {
            const char *nl = (const char *)memchr(buf, '\n', (size_t)n);
            FZ_ASSERT(nl == NULL || nl == buf + n - 1);
            if (nl == NULL) /* a piece: the limit, or the end of the stream */
                FZ_ASSERT((size_t)n == max - 1 || over);
        } else {
            FZ_ASSERT(!can || max < 2);
            FZ_ASSERT(avail < max - 1 && !(over && avail > 0));
        }
        break;
    case 2: /* read */
        if (opt & 0x40) {
            p = sslsocket_peek(&rd, look, max);
            n = sslsocket_read(&rd, buf, max);
            FZ_ASSERT(p == n && memcmp(look, buf, (size_t)n) == 0);
        } else {
            n = sslsocket_read(&rd, buf, max);
        }
        FZ_ASSERT(n >= 0 && (size_t)n == (avail < max ? avail : max));
        FZ_ASSERT(memcmp(buf, data + *out, (size_t)n) == 0);
        break;
    default: /* misuse never consumes */
        FZ_ASSERT(sslsocket_read_line(&rd, buf, 1) == -1);
        FZ_ASSERT(sslsocket_read_line(&rd, NULL, 10) == -1);
        FZ_ASSERT(sslsocket_bytes_available(&rd) == avail);
        n = 0;
        break;
    }
    *out += (size_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned opt;
    size_t in = 0, out = 0;
    int round, limit, closed = 0;
    gen g;

    if (size < 1)
        return 0;
    opt = data[0];
    data++;
    size--;
    g.x = 0x9E3779B9u ^ (uint32_t)size * 2654435761u ^ opt;
    if (g.x == 0)
        g.x = 1;

    if (opt & 0x80) {
        tls_restore();
    } else {
        sslsocket_init(&rd, NULL);
        sslsocket_init(&wr, NULL);
        FZ_ASSERT(sslsocket_pipe_connect(&pipe_, &rd, &wr) == 0);
    }

    /* the reader takes at least one byte in three of its four calls */
    limit = 1000 + (int)(size * 16);
    for (round = 0; round < limit && out < size; round++) {
        if (in < size && !closed) {
            size_t want = write_size(&g, opt);
            ptrdiff_t k;
            if (want > size - in)
                want = size - in;
            k = sslsocket_write(&wr, data + in, want);
            FZ_ASSERT(k >= 0 && (size_t)k <= want);
            in += (size_t)k;
        }
        if (in == size && (opt & 0x20) && !closed) {
            FZ_ASSERT(sslsocket_disconnect(&wr) == 0);
            closed = 1;
        }
        sslsocket_poll(&wr);
        sslsocket_poll(&rd);
        if (!(opt & 0x10) || round % 7 == 6 || in == size)
            reader_step(&g, opt, data, size, &out);
    }
    FZ_ASSERT(in == size);
    FZ_ASSERT(out == size); /* nothing lost, in a bounded number of rounds */
    FZ_ASSERT(sslsocket_bytes_available(&rd) == 0);
    sslsocket_abort(&rd);
    sslsocket_abort(&wr);
    return 0;
}
