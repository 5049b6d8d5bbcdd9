/* conn.c - the connection state machine (see conn.h). */
#include "conn.h"
#include "sysio.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* send/recv rather than write/read: they skip the VFS layer. */
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

#define CONN_OF(h) ((conn_t *)((char *)(h) - offsetof(conn_t, h)))
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000

static void on_io(loop_handle_t *h, int events);

static void tq_remove(conn_ctx_t *x, conn_t *c)
{
    if (!c->in_tq) return;
    if (c->tq_prev) c->tq_prev->tq_next = c->tq_next; else x->tq_head = c->tq_next;
    if (c->tq_next) c->tq_next->tq_prev = c->tq_prev; else x->tq_tail = c->tq_prev;
    c->tq_prev = c->tq_next = NULL;
    c->in_tq = 0;
}

/* Deadlines only grow (same timeout, monotonic clock): append keeps order. */
static void tq_append(conn_ctx_t *x, conn_t *c)
{
    tq_remove(x, c);
    c->tq_prev = x->tq_tail;
    c->tq_next = NULL;
    if (x->tq_tail) x->tq_tail->tq_next = c; else x->tq_head = c;
    x->tq_tail = c;
    c->in_tq = 1;
}

/* The connect queue: connections still opening, all with the same connect
 * timeout, so appending at the start of an open keeps it in deadline order.
 * It borrows the timeout queue's links: an opening connection has nothing
 * in flight. Kept apart so the request path above stays as it was. */
static void cq_remove(conn_ctx_t *x, conn_t *c)
{
    if (!c->in_cq) return;
    if (c->tq_prev) c->tq_prev->tq_next = c->tq_next; else x->cq_head = c->tq_next;
    if (c->tq_next) c->tq_next->tq_prev = c->tq_prev; else x->cq_tail = c->tq_prev;
    c->tq_prev = c->tq_next = NULL;
    c->in_cq = 0;
}

static void cq_append(conn_ctx_t *x, conn_t *c)
{
    if (c->in_tq || c->in_cq || !x->connect_timeout_ns) return;
    c->deadline = c->opened_at + x->connect_timeout_ns;
    c->tq_prev = x->cq_tail;
    c->tq_next = NULL;
    if (x->cq_tail) x->cq_tail->tq_next = c; else x->cq_head = c;
    x->cq_tail = c;
    c->in_cq = 1;
}

/* The quota (-n): requests are reserved when taken (held ones too), so the
 * thread never starts more than it must complete, and given back when they
 * fail or are dropped. This is the only place `issued` changes. */
static int quota_full(const conn_ctx_t *x) { return x->quota && x->issued >= x->quota; }
static void quota_take(conn_ctx_t *x, uint32_t n) { x->issued += n; }
static void quota_give(conn_ctx_t *x, uint32_t n) { x->issued -= n; }

static void on_backoff(loop_timer_t *t)
{
    conn_t *c = (conn_t *)((char *)t - offsetof(conn_t, timer));
    c->state = CONN_IDLE;
    conn_start(c);
}

void conn_init(conn_t *c, conn_ctx_t *ctx)
{
    *c = (conn_t){ .ctx = ctx, .h = { .fd = -1, .cb = on_io } };
    loop_timer_init(&c->timer, on_backoff);
}

void conn_close(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    quota_give(x, c->inflight); /* a held request stays held across a reconnect */
    c->inflight = 0;
    c->writing = 0;
    tq_remove(x, c);
    cq_remove(x, c);
    loop_timer_stop(x->loop, &c->timer);
    if (c->h.fd >= 0) {
        loop_forget(x->loop, &c->h); /* a stale event must not reach the next socket */
        close(c->h.fd); /* also removes it from the loop: no extra syscall */
        c->h.fd = -1;
    }
    if (c->tls) tls_sess_reset(c->tls); /* keeps the session to resume */
    c->state = CONN_IDLE;
}

static void reconnect(conn_t *c, int backoff)
{
    conn_ctx_t *x = c->ctx;
    conn_close(c);
    if (x->stopping || x->fatal) return;
    if (!backoff) {
        conn_start(c);
        return;
    }
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (c->backoff_ms > BACKOFF_MAX_MS) c->backoff_ms = BACKOFF_MAX_MS;
    c->state = CONN_BACKOFF;
    if (loop_timer_start(x->loop, &c->timer, loop_now() + (uint64_t)c->backoff_ms * 1000000))
        x->fatal = -ENOMEM;
}

static void fail(conn_t *c, enum conn_error why)
{
    conn_ctx_t *x = c->ctx;
    stats_errors_t *e = &x->stats->errors;
    if (c->inflight && x->hooks && x->hooks->failed) {
        int rc = x->hooks->failed(c, why);
        if (rc < 0) x->fatal = rc;
    }
    switch (why) {
    case CONN_ERR_CONNECT: e->connect++; break;
    case CONN_ERR_READ:    e->read++; break;
    case CONN_ERR_WRITE:   e->write++; break;
    case CONN_ERR_TIMEOUT: e->timeout++; break;
    case CONN_ERR_PARSE:   e->parse++; break;
    }
    reconnect(c, why == CONN_ERR_CONNECT);
}

/* Errors that more retries cannot fix: the run must end with a message. */
static int is_fatal(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -EADDRNOTAVAIL || err == -ENOBUFS;
}

/* A TCP connect that failed with err (or timed out: -ETIMEDOUT). Counted
 * and retried with back-off, unless connect_give_up says the server does
 * not accept at all: then err ends the run. */
static void connect_failed(conn_t *c, int err)
{
    conn_ctx_t *x = c->ctx;
    if (x->connect_give_up && !x->stats->connects &&
        c->backoff_ms >= (BACKOFF_MIN_MS << (CONN_GIVE_UP_TRIES - 2))) {
        x->stats->errors.connect++;
        x->fatal = err < 0 ? err : -ECONNREFUSED;
        conn_close(c);
        return;
    }
    fail(c, CONN_ERR_CONNECT);
}

void conn_start(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    if (x->stopping || x->fatal) return;
    if (x->admit && x->admit(c, CONN_ASK_START, NULL) == CONN_RETIRE) return;
    if (quota_full(x)) return; /* nothing left to send */
    int fd = net_connect(x->addr);
    if (fd < 0) {
        if (is_fatal(fd)) { x->fatal = fd; return; }
        connect_failed(c, fd);
        return;
    }
    c->h.fd = fd;
    c->state = CONN_CONNECTING;
    c->opened_at = loop_now();
    if (x->capture && !c->cap && !(c->cap = calloc(1, sizeof *c->cap))) {
        x->fatal = -ENOMEM;
        close(fd);
        c->h.fd = -1;
        c->state = CONN_IDLE;
        return;
    }
    http_resp_init(&c->resp, c->cap);
    int rc = loop_add(x->loop, &c->h);
    if (rc) {
        if (is_fatal(rc) || rc == -ENOMEM) x->fatal = rc;
        conn_close(c);
        return;
    }
    cq_append(x, c);
}

/* Keep the unwritten rest of a hook's request: its buffer may not outlive
 * this call. */
static int keep_rest(conn_t *c)
{
    size_t rest = c->wlen - c->woff;
    if (c->wbuf == c->wcopy || c->wbuf == c->ctx->req) return 0;
    if (rest > c->wcopy_cap) {
        char *n = realloc(c->wcopy, rest);
        if (!n) return -ENOMEM;
        c->wcopy = n;
        c->wcopy_cap = rest;
    }
    memcpy(c->wcopy, c->wbuf + c->woff, rest);
    c->wbuf = c->wcopy;
    c->wlen = rest;
    c->woff = 0;
    return 0;
}

/* Write pending TLS output: 0 all written, 1 would block, -1 error. */
static int tls_flush(conn_t *c)
{
    const char *p;
    size_t n;
    while ((n = tls_pending_out(c->tls, &p))) {
        ssize_t w = sysio_send(c->h.fd, p, n, SEND_FLAGS);
        if (w > 0) { tls_consume_out(c->tls, (size_t)w); continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) return 1;
        return -1;
    }
    return 0;
}

/* Write what is left of the pending request. 0, or -1 if c was closed. */
static int do_write(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    if (c->tls) {
        /* encrypt it all at once; the ciphertext waits in the session */
        if (c->woff < c->wlen) {
            if (tls_write(c->tls, c->wbuf + c->woff, c->wlen - c->woff)) {
                fail(c, CONN_ERR_WRITE);
                return -1;
            }
            c->woff = c->wlen;
        }
        int rc = tls_flush(c);
        if (rc < 0) { fail(c, CONN_ERR_WRITE); return -1; }
        c->writing = (uint8_t)rc;
        if (!rc) x->stats->sent += c->held_n;
        return 0;
    }
    while (c->woff < c->wlen) {
        ssize_t n = sysio_send(c->h.fd, c->wbuf + c->woff, c->wlen - c->woff, SEND_FLAGS);
        if (n > 0) { c->woff += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            c->writing = 1;
            int rc = keep_rest(c);
            if (rc) { x->fatal = rc; return -1; }
            return 0;
        }
        fail(c, CONN_ERR_WRITE);
        return -1;
    }
    c->writing = 0;
    x->stats->sent += c->held_n;
    return 0;
}

/* Start the next request if the run, the quota and the rate allow. 0, or
 * -1 if c was closed or the run must end. */
static int send_next(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    if (x->stopping || x->fatal) return 0;
    if (x->admit) {
        int v = x->admit(c, CONN_ASK_START, NULL);
        if (v == CONN_HOLD) return 0; /* open and ready; the worker resumes it */
        if (v == CONN_RETIRE) { conn_retire(c); return -1; }
    }
    if (!c->held) {
        if (quota_full(x)) return 0;
        uint32_t n;
        if (x->hooks && x->hooks->next) {
            conn_req_t q = { 0 };
            int rc = x->hooks->next(c, &q);
            if (rc < 0) { x->fatal = rc; return -1; }
            if (rc == CONN_NEXT_WAIT) return 0;
            if (rc == CONN_NEXT_RETIRE) { conn_retire(c); return -1; }
            /* the hook ran the script (its code since the last response, a
             * user's think time in Lua): the request leaves now, not when
             * this loop turn began, so its latency does not include that */
            x->now = loop_now();
            c->wbuf = q.buf;
            c->wlen = q.len;
            c->heads = q.heads;
            n = q.n ? q.n : 1;
        } else {
            c->wbuf = x->req;
            c->wlen = x->req_len;
            c->heads = x->req_heads;
            n = x->pipeline;
        }
        c->held_n = n;
        quota_take(x, n); /* reserved while held, so the quota is never exceeded */
    }
    uint64_t intended = x->now;
    if (x->admit && x->admit(c, CONN_ASK_SLOT, &intended) != CONN_GO) {
        c->held = 1;
        return 0;
    }
    c->held = 0;
    c->inflight = c->held_n;
    c->woff = 0;
    c->sent_at = intended;
    c->actual_at = x->now;
    c->deadline = x->now + x->timeout_ns;
    c->resp.expect_head = (uint8_t)http_is_head(c->heads, 0);
    if (x->hooks) { /* r.timings: the first bytes' read, and whether this socket is new */
        c->want_fb = 1;
        c->req_fresh = c->fresh;
        c->fresh = 0;
    }
    tq_append(x, c);
    return do_write(c);
}

/* A complete response. 0, or -1 if c was closed. */
static int on_response(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    stats_t *s = x->stats;
    uint64_t body = c->resp.body; /* this response's (a failed one's never counts) */
    c->resp.body = 0;
    if (c->inflight) c->inflight--;
    if (c->heads && c->inflight) /* the next response in the pipeline: HEAD or not */
        c->resp.expect_head = (uint8_t)http_is_head(c->heads, c->held_n - c->inflight);
    if (x->quota && s->requests >= x->quota) {
        /* a pipelined string asked for more than -n had left: the rest is
         * in flight at the end of the run, never counted */
        if (!c->resp.keep_alive) { reconnect(c, 0); return -1; }
        if (!c->inflight && !c->writing) tq_remove(x, c);
        return 0;
    }
    uint64_t us = (x->now - c->sent_at) / 1000;
    hist_record(&s->second, us); /* folded into s->latency each second (stats_second_take) */
    if (x->paced) hist_record(&s->service, (x->now - c->actual_at) / 1000);
    s->requests++;
    s->content += body;
    unsigned st = c->resp.status;
    if (st >= 400) s->errors.status++;
    s->status[st < STATS_STATUS_MAX ? st : 0]++;
    c->resp_failed = !stats_expected(c->expect ? c->expect : x->expect, st);
    s->failed_status += c->resp_failed;
    if (!c->inflight && !c->writing) tq_remove(x, c); /* a write still going keeps its deadline */
    if (x->hooks && x->hooks->response) {
        int rc = x->hooks->response(c, us);
        if (rc < 0) { x->fatal = rc; return -1; }
    }
    if (!c->resp.keep_alive || (x->close_each && !c->inflight)) {
        reconnect(c, 0);
        return -1;
    }
    return 0;
}

/* Parse one read's worth of bytes. 0, or -1 if c was closed. */
static int process(conn_t *c, const char *data, size_t len)
{
    if (__builtin_expect(c->want_fb, 0) && c->inflight) { /* hooks only: no clock read, x->now is this read's */
        c->first_at = c->ctx->now;
        c->want_fb = 0;
    }
    while (len) {
        if (!c->inflight) { /* bytes nobody asked for */
            fail(c, CONN_ERR_PARSE);
            return -1;
        }
        size_t used = 0;
        int r = http_parse(&c->resp, data, len, &used);
        if (r == HTTP_PARSE_MORE) return 0;
        if (r == HTTP_PARSE_ERROR) {
            fail(c, CONN_ERR_PARSE);
            return -1;
        }
        data += used;
        len -= used;
        if (on_response(c)) return -1;
    }
    return 0;
}

static void on_eof(conn_t *c)
{
    int r = http_finish(&c->resp);
    if (r == HTTP_PARSE_COMPLETE) {
        if (on_response(c) == 0) reconnect(c, 0);
        return;
    }
    if (r == HTTP_PARSE_ERROR || c->inflight) {
        fail(c, CONN_ERR_READ); /* closed mid-response, or with a request unanswered */
        return;
    }
    reconnect(c, 0);
}

/* Read and parse until drained. Edge-triggered: a short read means the
 * socket is empty, unless the peer has closed (`eof`): then read on until
 * read() returns 0 so the close is not missed. */
/* Decrypt what was fed and parse it. 0, 1 on close_notify, -1 if c was
 * closed. */
static int tls_process(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    for (;;) {
        ssize_t n = tls_read(c->tls, x->pbuf, x->pbuf_size);
        if (n > 0) {
            if (process(c, x->pbuf, (size_t)n)) return -1;
            continue;
        }
        if (n == TLS_WANT_READ) break;
        if (n == TLS_CLOSED) return 1;
        fail(c, CONN_ERR_READ); /* alert or bad record */
        return -1;
    }
    int rc = tls_flush(c);
    if (rc < 0) { fail(c, CONN_ERR_WRITE); return -1; }
    if (!rc && c->writing) { /* the flush finished the request's ciphertext */
        c->writing = 0;
        x->stats->sent += c->held_n;
    }
    return 0;
}

static void do_read(conn_t *c, int eof)
{
    conn_ctx_t *x = c->ctx;
    for (;;) {
        ssize_t n = sysio_recv(c->h.fd, x->rbuf, x->rbuf_size, 0);
        if (n > 0) {
            x->now = loop_now();
            x->stats->bytes += (uint64_t)n;
            if (c->tls) {
                if (tls_feed(c->tls, x->rbuf, (size_t)n)) { x->fatal = -ENOMEM; return; }
                int rc = tls_process(c);
                if (rc < 0) return;
                if (rc > 0) { on_eof(c); return; }
            } else if (process(c, x->rbuf, (size_t)n)) return;
            /* a response that came before its request was written entirely
             * (an early 413): the rest is written first, then the next */
            if (!c->inflight && !c->writing && send_next(c)) return;
            if ((size_t)n < x->rbuf_size && !eof) return; /* short read: drained */
            continue;
        }
        if (n == 0) { on_eof(c); return; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        fail(c, CONN_ERR_READ);
        return;
    }
}

/* Advance the TLS handshake; on success the connection opens and sends. */
static void handshake(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    int hs = tls_handshake(c->tls);
    if (tls_flush(c) < 0 || (hs != TLS_OK && hs != TLS_WANT_READ)) {
        fail(c, CONN_ERR_CONNECT); /* handshake failure or alert */
        return;
    }
    if (hs == TLS_WANT_READ) return;
    x->now = loop_now();
    stats_t *s = x->stats;
    hist_record(&s->tls_time, (x->now - c->opened_at) / 1000);
    c->tls_us = (uint32_t)((x->now - c->opened_at) / 1000);
    if (tls_resumed(c->tls)) s->tls_resumed++;
    cq_remove(x, c);
    if (!s->tls_info[0])
        snprintf(s->tls_info, sizeof s->tls_info, "%s %s", tls_version(c->tls), tls_cipher(c->tls));
    c->state = CONN_OPEN;
    c->backoff_ms = 0;
    send_next(c);
}

static void handshake_read(conn_t *c)
{
    conn_ctx_t *x = c->ctx;
    for (;;) {
        ssize_t n = sysio_recv(c->h.fd, x->rbuf, x->rbuf_size, 0);
        if (n > 0) {
            if (tls_feed(c->tls, x->rbuf, (size_t)n)) { x->fatal = -ENOMEM; return; }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        fail(c, CONN_ERR_CONNECT); /* closed or reset during the handshake */
        return;
    }
    handshake(c);
}

static void on_io(loop_handle_t *h, int events)
{
    conn_t *c = CONN_OF(h);
    conn_ctx_t *x = c->ctx;
    if (c->state == CONN_CONNECTING) {
        if (!(events & (LOOP_WRITABLE | LOOP_ERROR))) return;
        int rc = net_connect_result(h->fd);
        if (rc) {
            if (is_fatal(rc)) { x->fatal = rc; conn_close(c); return; }
            connect_failed(c, rc);
            return;
        }
        x->now = loop_now();
        hist_record(&x->stats->connect_time, (x->now - c->opened_at) / 1000);
        c->connect_us = (uint32_t)((x->now - c->opened_at) / 1000);
        c->tls_us = 0;
        c->fresh = 1;
        c->opened_at = x->now;
        x->stats->connects++;
        if (x->tls) {
            if (!c->tls && !(c->tls = tls_sess_new(x->tls))) { x->fatal = -ENOMEM; return; }
            c->state = CONN_HANDSHAKE;
            handshake(c);
            return;
        }
        cq_remove(x, c);
        c->state = CONN_OPEN;
        c->backoff_ms = 0;
        if (send_next(c)) return;
    } else if (c->state == CONN_HANDSHAKE) {
        if (events & LOOP_READABLE) handshake_read(c);
        return;
    } else if (c->writing && (events & (LOOP_WRITABLE | LOOP_ERROR))) {
        if (do_write(c)) return;
        if (!c->writing && !c->inflight) { /* answered early, now written: the next one */
            tq_remove(x, c);
            x->now = loop_now();
            if (send_next(c)) return;
        }
    }
    if (c->state == CONN_OPEN && (events & LOOP_READABLE)) do_read(c, events & LOOP_EOF);
}

void conn_resume(conn_t *c)
{
    if (c->state != CONN_OPEN || c->inflight || c->writing) return; /* a write's end sends the next */
    c->ctx->now = loop_now();
    send_next(c);
}

void conn_retire(conn_t *c)
{
    if (c->held) quota_give(c->ctx, c->held_n);
    c->held = 0;
    conn_close(c);
}

void conn_ctx_stop(conn_ctx_t *x)
{
    x->stopping = 1;
}

void conn_free(conn_t *c)
{
    free(c->wcopy);
    c->wcopy = NULL;
    c->wcopy_cap = 0;
    tls_sess_free(c->tls);
    c->tls = NULL;
    if (c->cap) http_capture_free(c->cap);
    free(c->cap);
    c->cap = NULL;
}

uint64_t conn_expire(conn_ctx_t *x, uint64_t now)
{
    while (x->tq_head && x->tq_head->deadline <= now) {
        conn_t *c = x->tq_head;
        x->now = now;
        if (!c->inflight) { /* answered, but the server stopped reading the rest of its body */
            reconnect(c, 0);
            continue;
        }
        fail(c, CONN_ERR_TIMEOUT);
    }
    while (x->cq_head && x->cq_head->deadline <= now && !x->fatal) {
        conn_t *c = x->cq_head; /* not open within --connect-timeout */
        x->now = now;
        if (c->state == CONN_HANDSHAKE) fail(c, CONN_ERR_CONNECT);
        else connect_failed(c, -ETIMEDOUT);
    }
    uint64_t next = x->tq_head ? x->tq_head->deadline : UINT64_MAX;
    if (x->cq_head && x->cq_head->deadline < next) next = x->cq_head->deadline;
    return next;
}
