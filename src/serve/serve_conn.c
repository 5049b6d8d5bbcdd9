/* serve_conn.c - the connection engine (see serve_conn.h): one read buffer
 * per thread; the responses produced by one read go out in one sendmsg()
 * (an iovec per queued segment), then we wait. Graceful closes linger.
 */
#define _GNU_SOURCE
#include "serve_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define SERVE_IOV_MAX         64             /* segments per sendmsg() */
#define SERVE_PAUSE_SEGS      4096           /* stop reading a connection this far ahead */
#define SERVE_PAUSE_OBUF      (1024 * 1024)
#define SERVE_LINGER_NS       2000000000ull  /* graceful close: wait this long for EOF */
#define SERVE_EOF_PROBE_NS    1000000000ull  /* idle this long after a short read: probe */

/* ---------------------------------------------------------------------------
 * Closing and queueing */

void serve_conn_kill(serve_conn_t *c)
{
    if (c->state == CONN_DEAD) return;
    loop_timer_stop(c->w->loop, &c->timer);
    loop_timer_stop(c->w->loop, &c->probe);
    loop_remove(c->w->loop, &c->h);
    close(c->h.fd);
    c->state = CONN_DEAD;
}

void serve_conn_free(serve_conn_t *c)
{
    serve_worker_t *w = c->w;
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->rq) free(c->rq->buf);
    free(c->rq);
    free(c->q);
    free(c->obuf);
    free(c);
}

static void conn_arm(serve_conn_t *c, uint64_t at)
{
    if (c->timer.slot >= 0 && c->timer.when == at) return;
    if (loop_timer_start(c->w->loop, &c->timer, at) < 0) serve_conn_kill(c);
}

/* Graceful close: FIN now, then drain the client's bytes until its EOF so
 * that close() never turns into an RST that destroys what we sent. */
static void conn_linger(serve_conn_t *c)
{
    if (c->peer_eof) { serve_conn_kill(c); return; }
    shutdown(c->h.fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->ignore_input = 1;
    c->resume_read = 1; /* its EOF may have arrived on an edge already seen */
    conn_arm(c, loop_now() + SERVE_LINGER_NS);
}

/* Abortive close: SO_LINGER {1, 0} makes close() send RST. */
static void conn_reset(serve_conn_t *c)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(c->h.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    serve_conn_kill(c);
}

static serve_seg_t *conn_seg_new(serve_conn_t *c, uint64_t due, int action)
{
    if (c->q_len == c->q_cap) {
        uint32_t cap = c->q_cap ? c->q_cap * 2 : 8;
        serve_seg_t *q = malloc(cap * sizeof *q);
        if (!q) { c->broken = 1; return NULL; }
        for (uint32_t i = 0; i < c->q_len; i++) q[i] = c->q[(c->q_head + i) & (c->q_cap - 1)];
        free(c->q);
        c->q = q;
        c->q_head = 0;
        c->q_cap = cap;
    }
    serve_seg_t *s = &c->q[(c->q_head + c->q_len) & (c->q_cap - 1)];
    c->q_len++;
    s->ptr = NULL;
    s->due = due;
    s->len = s->off = s->obuf_off = 0;
    s->action = (uint8_t)action;
    return s;
}

/* Queue len static bytes (they outlive the connection). */
void serve_conn_push(serve_conn_t *c, const char *p, size_t len, uint64_t due, int action)
{
    if (!len && !action) return;
    serve_seg_t *s = conn_seg_new(c, due, action);
    if (!s) return;
    s->ptr = p;
    s->len = (uint32_t)len;
}

/* Queue a copy of len bytes. */
void serve_conn_push_copy(serve_conn_t *c, const char *p, size_t len, uint64_t due, int action)
{
    if (!len && !action) return;
    if ((size_t)c->obuf_len + len > c->obuf_cap) {
        size_t cap = c->obuf_cap ? c->obuf_cap : 1024;
        while (cap < (size_t)c->obuf_len + len) cap *= 2;
        char *b = cap <= UINT32_MAX ? realloc(c->obuf, cap) : NULL;
        if (!b) { c->broken = 1; return; }
        c->obuf = b;
        c->obuf_cap = (uint32_t)cap;
    }
    serve_seg_t *s = conn_seg_new(c, due, action);
    if (!s) return;
    s->obuf_off = c->obuf_len;
    s->len = (uint32_t)len;
    if (len) memcpy(c->obuf + c->obuf_len, p, len);
    c->obuf_len += (uint32_t)len;
}

/* When the response to a request read now may go out. */
uint64_t serve_conn_due(const serve_conn_t *c)
{
    const serve_worker_t *w = c->w;
    if (!w->need_due) return 0;
    const serve_config_t *cfg = w->cfg;
    uint64_t t = c->arrival + cfg->delay_ns;
    if (cfg->stall_ns) {
        uint64_t phase = (t - cfg->start_ns) % cfg->stall_period_ns;
        if (phase < cfg->stall_ns) t += cfg->stall_ns - phase;
    }
    return t;
}

/* ---------------------------------------------------------------------------
 * Reading and writing */

/* The queue head was written: drop it and run its action. */
static void conn_pop(serve_conn_t *c)
{
    int action = c->q[c->q_head].action;
    c->q_head = (c->q_head + 1) & (c->q_cap - 1);
    c->q_len--;
    if (action == SEG_CLOSE) conn_linger(c);
    else if (action == SEG_RESET) conn_reset(c);
}

/* r bytes were written from the head of the queue. */
static void conn_consume(serve_conn_t *c, size_t r)
{
    while (r > 0 && c->state == CONN_OPEN && c->q_len) {
        serve_seg_t *s = &c->q[c->q_head];
        size_t left = s->len - s->off;
        if (r < left) { s->off += (uint32_t)r; return; }
        s->off = s->len;
        r -= left;
        conn_pop(c);
    }
}

static void conn_drained(serve_conn_t *c)
{
    c->obuf_len = 0;
    if (c->peer_eof) { serve_conn_kill(c); return; } /* all answered; the client is gone */
    if (c->read_paused) {
        c->read_paused = 0;
        c->resume_read = 1;
    }
}

/* Write what is due, as few sendmsg() calls as possible. */
static void conn_flush(serve_conn_t *c)
{
    serve_worker_t *w = c->w;
    uint64_t trickle = w->cfg->trickle_ns;
    uint64_t now = w->need_clock ? loop_now() : 0;
    while (c->state == CONN_OPEN) {
        if (!c->q_len) { conn_drained(c); return; }
        if (c->want_write) return;
        serve_seg_t *s = &c->q[c->q_head];
        uint64_t at = s->due;
        if (trickle && c->next_byte_at > at) at = c->next_byte_at;
        if (at > now) { conn_arm(c, at); return; }
        if (s->off == s->len) { conn_pop(c); continue; }

        struct iovec iov[SERVE_IOV_MAX];
        int n = 0;
        for (uint32_t i = 0; i < c->q_len && n < SERVE_IOV_MAX; i++) {
            const serve_seg_t *x = &c->q[(c->q_head + i) & (c->q_cap - 1)];
            if (x->due > now) break;
            if (x->off < x->len) {
                const char *base = x->ptr ? x->ptr : c->obuf + x->obuf_off;
                iov[n].iov_base = (void *)(uintptr_t)(base + x->off);
                iov[n].iov_len = x->len - x->off;
                n++;
                if (trickle) { iov[0].iov_len = 1; break; }
            }
            if (x->action) break;
        }
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t r = sendmsg(c->h.fd, &mh, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) { c->want_write = 1; return; }
            serve_conn_kill(c);
            return;
        }
        if (trickle) c->next_byte_at = now + trickle;
        conn_consume(c, (size_t)r);
    }
}

/* Why a probe: a read that returns less than asked for means the socket is
 * drained *unless* the client's FIN came on the same edge (the loop reports
 * EPOLLRDHUP as plain LOOP_READABLE). Reading again until EAGAIN would find
 * it, at the price of one more syscall per request. Instead, a short read
 * arms a timer (at most once per period, so the hot path only tests
 * timer.slot); when it fires after a period without any read, one probe
 * read finds a hidden EOF. A half-closing keep-alive client (`nc -N`) is
 * closed within two periods; busy connections never pay a syscall. */
static void conn_watch_eof(serve_conn_t *c)
{
    c->reads++;
    if (c->probe.slot >= 0) return;
    c->probe_reads = c->reads;
    if (loop_timer_start(c->w->loop, &c->probe, loop_now() + SERVE_EOF_PROBE_NS) < 0)
        serve_conn_kill(c);
}

/* Read until a short read or EAGAIN, parsing as we go (bytes that will not
 * be parsed are read until EAGAIN). */
static void conn_read(serve_conn_t *c)
{
    serve_worker_t *w = c->w;
    while (c->state != CONN_DEAD && !c->read_paused && !c->peer_eof) {
        ssize_t n = read(c->h.fd, w->rbuf, SERVE_READ_BUF);
        if (n > 0) {
            if (c->state == CONN_OPEN && !c->ignore_input) {
                if (w->need_due) c->arrival = loop_now();
                serve_http_parse(c, w->rbuf, (size_t)n);
                if (c->broken) { serve_conn_kill(c); return; }
                if (c->q_len >= SERVE_PAUSE_SEGS || c->obuf_len >= SERVE_PAUSE_OBUF)
                    c->read_paused = 1;
                else if ((size_t)n < SERVE_READ_BUF) {
                    conn_watch_eof(c);
                    return;
                }
            }
            continue;
        }
        if (n == 0) {
            c->peer_eof = 1;
            if (c->state == CONN_LINGER || !c->q_len) serve_conn_kill(c);
            return;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) serve_conn_kill(c);
        return;
    }
}

/* Read (when told to), write, and repeat while a paused read resumes. Frees
 * the connection when it died: callers must not touch c afterwards. */
static void conn_run(serve_conn_t *c, int readable)
{
    for (;;) {
        if (readable) conn_read(c);
        conn_flush(c);
        if (c->state == CONN_DEAD) break;
        if (!c->resume_read) return;
        c->resume_read = 0;
        readable = 1;
    }
    serve_conn_free(c);
}

static void conn_on_io(loop_handle_t *h, int events)
{
    serve_conn_t *c = (serve_conn_t *)h;
    if (events & LOOP_ERROR) { /* RST, or both directions shut */
        serve_conn_kill(c);
        serve_conn_free(c);
        return;
    }
    if (events & LOOP_WRITABLE) c->want_write = 0;
    conn_run(c, events & LOOP_READABLE);
}

static void conn_on_timer(loop_timer_t *t)
{
    serve_conn_t *c = SERVE_CONTAINER(t, serve_conn_t, timer);
    if (c->state == CONN_LINGER) { /* the client never sent EOF */
        serve_conn_kill(c);
        serve_conn_free(c);
        return;
    }
    conn_run(c, 0);
}

static void conn_on_probe(loop_timer_t *t)
{
    serve_conn_t *c = SERVE_CONTAINER(t, serve_conn_t, probe);
    if (c->reads != c->probe_reads) { /* still busy: look again later */
        c->probe_reads = c->reads;
        if (loop_timer_start(c->w->loop, &c->probe, loop_now() + SERVE_EOF_PROBE_NS) < 0) {
            serve_conn_kill(c);
            serve_conn_free(c);
        }
        return;
    }
    conn_run(c, 1);
}

int serve_conn_open(serve_worker_t *w, int fd)
{
    serve_conn_t *c = calloc(1, sizeof *c);
    if (!c) { close(fd); return -1; }
    c->h.fd = fd;
    c->h.cb = conn_on_io;
    c->w = w;
    loop_timer_init(&c->timer, conn_on_timer);
    loop_timer_init(&c->probe, conn_on_probe);
    serve_http_init(c);
    if (loop_add(w->loop, &c->h) < 0) { close(fd); free(c); return -1; }
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->connections++;
    return 0;
}
