/* delayrelay.c - a TCP relay on loopback that holds every byte for a fixed
 * time in each direction: a round-trip time for the TLS 1.3 benchmark
 * (vs_tls13.sh) where netem is not available.
 *
 *     delayrelay PORTFILE TARGET_PORT ONE_WAY_MS [MAX_SECONDS]
 *
 * Listens on 127.0.0.1 (ephemeral port, written to PORTFILE once it
 * listens); every accepted connection gets its own connection to
 * 127.0.0.1:TARGET_PORT, and whatever one side sends is written to the
 * other ONE_WAY_MS milliseconds after it was read (a FIN too, as shutdown):
 * one round trip through the relay costs 2 x ONE_WAY_MS.  Bandwidth is not
 * limited and nothing is reordered or lost.  The TCP connection to the
 * relay itself is accepted by the kernel at once, so a connect() costs no
 * round trip (with netem it would cost one): what is measured is the TLS
 * and HTTP round trips.  All sockets have TCP_NODELAY, so that the relay
 * adds no Nagle delay of its own.
 *
 * Runs until stdin reaches EOF or MAX_SECONDS (default 600) have passed;
 * one thread, poll(2), at most MAXP connection pairs at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include "bench_common.h"

#define MAXP 64
#define CHUNK 65536
#define MAX_QUEUED (4u << 20) /* per direction: stop reading above this */

typedef struct chunk {
    struct chunk *next;
    double due;
    size_t len, off;
    int eof;
    unsigned char data[];
} chunk;

typedef struct dir {
    int from, to;
    chunk *head, *tail;
    size_t queued;
    int read_eof, done;
} dir;

typedef struct pair {
    int used, connected, a, b;
    dir d[2]; /* d[0]: a -> b (client to server), d[1]: b -> a */
} pair;

static pair pairs[MAXP];
static double delay_s;
static unsigned target_port;

static void
tune(int fd)
{
    int one = 1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void
pair_close(pair *p)
{
    int k;
    for (k = 0; k < 2; k++) {
        chunk *c = p->d[k].head, *n;
        for (; c != NULL; c = n) {
            n = c->next;
            free(c);
        }
        p->d[k].head = p->d[k].tail = NULL;
    }
    close(p->a);
    close(p->b);
    p->used = 0;
}

static void
enqueue(dir *d, const unsigned char *data, size_t len, int eof, double t)
{
    chunk *c = (chunk *)malloc(sizeof(chunk) + len);
    if (c == NULL) {
        fprintf(stderr, "delayrelay: out of memory\n");
        exit(2);
    }
    c->next = NULL;
    c->due = t + delay_s;
    c->len = len;
    c->off = 0;
    c->eof = eof;
    if (len > 0)
        memcpy(c->data, data, len);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->queued += len;
}

/* Read what `from` has; -1 when the pair must go (reset). */
static int
do_read(dir *d, double t)
{
    static unsigned char buf[CHUNK];
    ssize_t n = read(d->from, buf, sizeof buf);
    if (n > 0) {
        enqueue(d, buf, (size_t)n, 0, t);
        return 0;
    }
    if (n == 0) {
        d->read_eof = 1;
        enqueue(d, NULL, 0, 1, t);
        return 0;
    }
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/* Write every chunk that is due; -1 when the pair must go. */
static int
do_write(dir *d, double t)
{
    while (d->head != NULL && d->head->due <= t) {
        chunk *c = d->head;
        if (c->eof) {
            shutdown(d->to, SHUT_WR);
            d->done = 1;
        } else {
            ssize_t n = write(d->to, c->data + c->off, c->len - c->off);
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
            c->off += (size_t)n;
            d->queued -= (size_t)n;
            if (c->off < c->len)
                return 0;
        }
        d->head = c->next;
        if (d->head == NULL)
            d->tail = NULL;
        free(c);
    }
    return 0;
}

static void
accept_one(int lfd)
{
    struct sockaddr_in a;
    pair *p = NULL;
    int k, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), b;
    if (fd < 0)
        return;
    for (k = 0; k < MAXP; k++)
        if (!pairs[k].used) {
            p = &pairs[k];
            break;
        }
    b = p ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    if (b < 0) {
        close(fd);
        return;
    }
    tune(fd);
    tune(b);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)target_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(b, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(fd);
        close(b);
        return;
    }
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->a = fd;
    p->b = b;
    p->d[0].from = fd;
    p->d[0].to = b;
    p->d[1].from = b;
    p->d[1].to = fd;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    struct pollfd pfd[2 + 2 * MAXP];
    int lfd, k, one = 1;
    double t_end, max_s = argc >= 5 ? atof(argv[4]) : 600;
    FILE *f;
    char tmp[600];
    if (argc < 4) {
        fprintf(stderr, "usage: delayrelay PORTFILE TARGET_PORT ONE_WAY_MS [MAX_SECONDS]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    target_port = (unsigned)atoi(argv[2]);
    delay_s = atof(argv[3]) / 1000.0;
    t_end = bench_now() + (max_s > 0 ? max_s : 600);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0
        || getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("delayrelay: listen");
        return 2;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    if ((f = fopen(tmp, "w")) == NULL) {
        perror("delayrelay: port file");
        return 2;
    }
    fprintf(f, "%u\n", (unsigned)ntohs(a.sin_port));
    fclose(f);
    rename(tmp, argv[1]);
    for (;;) {
        double t = bench_now(), next = t + 1.0;
        int np = 0, n, timeout;
        int slot[2 * MAXP];
        if (t >= t_end) {
            fprintf(stderr, "delayrelay: %.0f s passed, stopping\n", max_s);
            return 0;
        }
        pfd[np].fd = lfd;
        pfd[np++].events = POLLIN;
        pfd[np].fd = 0;
        pfd[np++].events = POLLIN;
        for (k = 0; k < MAXP; k++) {
            pair *p = &pairs[k];
            short ev[2] = { 0, 0 }; /* for a, for b */
            int j;
            if (!p->used)
                continue;
            if (!p->connected)
                ev[1] |= POLLOUT;
            for (j = 0; j < 2; j++) {
                dir *d = &p->d[j];
                int from_b = j == 1, to_b = j == 0;
                if (!d->read_eof && d->queued < MAX_QUEUED && (p->connected || !from_b))
                    ev[from_b] |= POLLIN;
                if (d->head != NULL) {
                    if (d->head->due <= t) {
                        if (p->connected || !to_b)
                            ev[to_b] |= POLLOUT;
                    } else if (d->head->due < next) {
                        next = d->head->due;
                    }
                }
            }
            /* a descriptor with nothing to wait for stays out of the set
               (negative fd): a hang-up on it would otherwise wake poll
               over and over until the next chunk is due; errors show on
               the next write */
            pfd[np].fd = ev[0] ? p->a : -1;
            pfd[np].events = ev[0];
            slot[np - 2] = k;
            np++;
            pfd[np].fd = ev[1] ? p->b : -1;
            pfd[np].events = ev[1];
            slot[np - 2] = k;
            np++;
        }
        if (next > t_end)
            next = t_end;
        timeout = (int)((next - t) * 1000.0 + 0.999); /* round up: never early */
        if (timeout < 0)
            timeout = 0;
        n = poll(pfd, (nfds_t)np, timeout);
        if (n < 0 && errno != EINTR) {
            perror("delayrelay: poll");
            return 2;
        }
        t = bench_now();
        if (pfd[1].revents & (POLLIN | POLLHUP)) {
            char b[64];
            if (read(0, b, sizeof b) <= 0)
                return 0; /* stdin closed: the benchmark is done */
        }
        if (pfd[0].revents & POLLIN)
            accept_one(lfd);
        for (k = 2; k < np; k += 2) {
            pair *p = &pairs[slot[k - 2]];
            int bad = 0, j;
            if (!p->used)
                continue;
            if (!p->connected && (pfd[k + 1].revents & (POLLOUT | POLLERR | POLLHUP))) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(p->b, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err != 0) {
                    pair_close(p);
                    continue;
                }
                p->connected = 1;
            }
            if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) && !p->d[0].read_eof)
                bad |= do_read(&p->d[0], t);
            if (p->connected && (pfd[k + 1].revents & (POLLIN | POLLHUP | POLLERR))
                && !p->d[1].read_eof)
                bad |= do_read(&p->d[1], t);
            for (j = 0; j < 2 && !bad; j++)
                if (p->connected || j == 1)
                    bad |= do_write(&p->d[j], t);
            if (bad || (p->d[0].done && p->d[1].done))
                pair_close(p);
        }
    }
}
