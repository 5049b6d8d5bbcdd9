/* serve_faults.c - the fault modes (see serve_faults.h). A fault is just
 * another list of segments, which keeps it in order with the pipelined
 * responses around it.
 */
#define _GNU_SOURCE
#include "serve_faults.h"

#include <stdatomic.h>
#include <stdio.h>

static const char serve_malformed[] = "HTTP/1.1 2x0 BAD\r\nContent-Length: 2\r\n\r\nOK";
static const char serve_badchunk[] =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nOK\r\n0\r\n\r\n";
/* bodiless whatever Content-Length says (RFC 9112 6.3) */
static const char serve_notmodified[] =
    "HTTP/1.1 304 Not Modified\r\nServer: barrage\r\nETag: \"b\"\r\nContent-Length: 5\r\n\r\n";
/* valid extensions that llhttp 8.1 alone rejects (RFC 9112 7.1.1) */
static const char serve_chunkext[] =
    "HTTP/1.1 200 OK\r\nServer: barrage\r\nTransfer-Encoding: chunked\r\n\r\n"
    "1 ; a=b;c=\"x y\"\r\nO\r\n1;d=\"q\\\"\";e\r\nK\r\n0;last=1\r\n\r\n";
static const char serve_extra[] =
    "HTTP/1.1 200 OK\r\nServer: barrage\r\nContent-Type: text/plain\r\n"
    "Content-Length: 5\r\n\r\nextra";
static const char serve_garbage[] = "#garbage#garbage";

serve_fault_t serve_fault_pick(serve_worker_t *w)
{
    if (w->cfg->fault_window) { /* a clock read per request, only with --fault-window */
        uint_fast64_t now = loop_now(), t0 = atomic_load_explicit(&w->sh->fault_t0, memory_order_relaxed);
        if (!t0 && atomic_compare_exchange_strong(&w->sh->fault_t0, &t0, now)) t0 = now; /* the first */
        uint64_t t = now > t0 ? now - t0 : 0;
        if (t < w->cfg->fault_from_ns || t >= w->cfg->fault_to_ns) return SERVE_FAULT_NONE;
    }
    uint64_t n = atomic_fetch_add_explicit(&w->sh->fault_seq, 1, memory_order_relaxed) + 1;
    if (n % w->cfg->fault_every) return SERVE_FAULT_NONE;
    w->faults++;
    return w->cfg->fault;
}

int serve_fault_inject(serve_conn_t *c, const llhttp_t *p, serve_fault_t fault, int head,
                       int te, int ch, uint64_t due)
{
    const serve_config_t *cfg = c->w->cfg;
    const serve_static_t *st = c->w->st;
    const char *body = te ? st->cbody : st->body;
    size_t body_len = head ? 0 : te ? st->cbody_len : st->body_len;

    switch (fault) {
    case SERVE_FAULT_NONE:
    case SERVE_FAULT_CONTINUE:
    case SERVE_FAULT_EXTRA:
        if (fault == SERVE_FAULT_CONTINUE)
            serve_http_push_continue(c, due);
        serve_http_answer(c, p, head, te, ch, due);
        if (fault == SERVE_FAULT_EXTRA)
            serve_conn_push(c, serve_extra, sizeof serve_extra - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_HANG:
        c->ignore_input = 1;
        return HPE_PAUSED;
    case SERVE_FAULT_DROP:
        serve_conn_push(c, NULL, 0, due, SEG_CLOSE);
        c->ignore_input = 1;
        return HPE_PAUSED;
    case SERVE_FAULT_RESET:
        serve_conn_push(c, st->head[te][ch], st->head_len[te][ch] / 2, due, SEG_RESET);
        c->ignore_input = 1;
        return HPE_PAUSED;
    case SERVE_FAULT_MALFORMED:
        serve_conn_push(c, serve_malformed, sizeof serve_malformed - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_BADCHUNK:
        serve_conn_push(c, serve_badchunk, sizeof serve_badchunk - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_BIGHEADER:
        serve_conn_push(c, st->head[te][ch], st->status_line_len, due, SEG_NONE);
        serve_conn_push(c, st->big, st->big_len, due, SEG_NONE);
        serve_conn_push(c, st->head[te][ch] + st->status_line_len,
                  st->head_len[te][ch] - st->status_line_len, due, SEG_NONE);
        serve_conn_push(c, body, body_len, due, SEG_NONE);
        break;
    case SERVE_FAULT_SHORTBODY: {
        /* announce the whole body (at least 1 byte), send half, close */
        char hb[256];
        size_t announced = st->body_len ? st->body_len : 1;
        int n = snprintf(hb, sizeof hb,
                         "HTTP/1.1 %d %s\r\nServer: barrage\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         cfg->status, serve_reason(cfg->status), announced);
        serve_conn_push_copy(c, hb, (size_t)n, due, SEG_NONE);
        serve_conn_push(c, st->body, st->body_len / 2, due, SEG_NONE);
        serve_conn_push(c, NULL, 0, due, SEG_CLOSE);
        c->ignore_input = 1;
        return HPE_PAUSED;
    }
    case SERVE_FAULT_LONGBODY:
        serve_conn_push(c, st->head[0][ch], st->head_len[0][ch], due, SEG_NONE);
        serve_conn_push(c, st->body, st->body_len, due, SEG_NONE);
        serve_conn_push(c, serve_garbage, sizeof serve_garbage - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_STATUS500:
        serve_http_push_dynamic(c, 500, "text/plain", NULL, "Internal Server Error", 21, head,
                                ch, due);
        break;
    case SERVE_FAULT_NOTMODIFIED:
        serve_conn_push(c, serve_notmodified, sizeof serve_notmodified - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_CHUNKEXT:
        if (head) serve_http_answer(c, p, head, te, ch, due); /* HEAD gets no body at all */
        else serve_conn_push(c, serve_chunkext, sizeof serve_chunkext - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_COUNT:
        break;
    }
    return 0;
}
