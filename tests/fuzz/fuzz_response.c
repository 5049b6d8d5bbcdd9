/* fuzz_response.c - libFuzzer target for the response path: bytes in,
 * counters out. The bytes go through http_parse / http_finish exactly as
 * src/engine/conn.c drives them (process() and on_eof()), in reads whose sizes come
 * from the input, with and without an http_capture_t; the whole input also
 * goes through http_count_requests and http_scan_requests (the wrk-style
 * pipelined request checks), which must agree wherever the scan accepts.
 *
 * Input layout: FLAGS S0 S1 S2 S3 then the response bytes.
 *   FLAGS bit 0: capture headers and bodies (as for scripts)
 *         bit 1: the request is HEAD (http_resp_t.expect_head)
 *         bits 2-3: pipeline depth - 1 (requests in flight per write, 1..4)
 *   S0..S3: sizes of successive reads, cycled; 0 means the rest of the input.
 * Inputs shorter than 5 bytes are parsed as they are, with all flags 0.
 *
 * Three passes over the same bytes:
 *   1. conn model: process()/on_eof() of conn.c with inflight accounting,
 *      unsolicited bytes, reconnect on !keep_alive or on a parse error (a
 *      new connection starts with a fresh parser and the next read),
 *      counting into a stats_t like on_response() does;
 *   2. stream, split: the bytes as one connection's stream in the input's
 *      reads: every response is recorded until the first error, then
 *      http_finish at EOF;
 *   3. stream, whole: the same with the bytes in one read.
 * Passes 2 and 3 must record the same responses at the same offsets with
 * the same status, keep-alive, headers and body: how the kernel splits the
 * bytes must not change what is counted. Passes 4 and 5 repeat 2 and 3
 * with the fast path off (http_resp_t.no_fast: llhttp parses every byte)
 * and must record exactly what 2 and 3 did: the fast path's differential
 * check (status, completion, consumed bytes, errors, EOF).
 *
 * Invariants checked (a violation traps): after HTTP_PARSE_COMPLETE,
 * 0 < consumed <= len (progress, within the read), a status of at most 3
 * digits that is not an interim 1xx (101 aside), no message in progress; after MORE,
 * consumed == len; after ERROR, consumed == 0 and a reason; the capture
 * holds exactly 2 * nheaders NUL-terminated strings within hlen (what
 * script_hooks.c and script_request.c walk), lengths within capacities, a body
 * no longer than the bytes seen; conn-model counters add up. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "stats.h"

/* A broken invariant: say which, then trap (libFuzzer saves the input). */
#define CHECK(c) do { if (!(c)) { \
    fprintf(stderr, "fuzz invariant failed: %s:%d: %s\n", __FILE__, __LINE__, #c); \
    __builtin_trap(); } } while (0)
#define MAX_EVENTS 256

typedef struct input {
    const char *data;
    size_t len;
    uint8_t split[4];   /* read sizes, cycled (0: the rest) */
    int capture;
    int head;
    unsigned pipeline;  /* 1..4 */
} input_t;

/* The next read: [off, off + n). */
static size_t next_read(const input_t *in, size_t off, unsigned *k)
{
    size_t rest = in->len - off;
    size_t n = in->split[(*k)++ & 3];
    return n == 0 || n > rest ? rest : n;
}

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* What script_hooks.c's push_headers() and script_request.c's l_headers() walk must be there. */
static void check_capture(const http_capture_t *cap, size_t seen)
{
    CHECK(cap->hlen <= cap->hcap && cap->blen <= cap->bcap);
    CHECK(cap->blen <= seen);
    size_t nuls = 0;
    for (size_t i = 0; i < cap->hlen; i++) nuls += cap->hbuf[i] == 0;
    CHECK(nuls == 2 * (size_t)cap->nheaders);
    CHECK(cap->hlen == 0 || cap->hbuf[cap->hlen - 1] == 0);
}

/* A completed response as the caller sees it. */
static void check_complete(const http_resp_t *r, size_t used, size_t len)
{
    CHECK(used > 0 && used <= len);
    /* llhttp 8 (Debian 12) accepts 1 to 3 digits ("HTTP/1.1 20", "000"), so
     * 0..99 can complete; only interim 1xx (not 101) must never surface. */
    CHECK(r->status <= 999);
    CHECK(r->status >= 200 || r->status == 101 || r->status < 100);
    CHECK(r->keep_alive == 0 || r->keep_alive == 1);
    CHECK(!r->in_message);
}

static int parse(http_resp_t *r, const char *p, size_t len, size_t *used)
{
    *used = (size_t)-1;
    int rc = http_parse(r, p, len, used);
    switch (rc) {
    case HTTP_PARSE_COMPLETE: check_complete(r, *used, len); break;
    case HTTP_PARSE_MORE:     CHECK(*used == len); break;
    case HTTP_PARSE_ERROR:    CHECK(*used == 0); CHECK(http_error_reason(r) != NULL); break;
    default:                  CHECK(0);
    }
    return rc;
}

/* ---- pass 1: conn.c's process() and on_eof() ---- */

typedef struct conn_model {
    http_resp_t resp;
    http_capture_t *cap;
    unsigned inflight;
    stats_t *stats;
    uint64_t reconnects, completes;
    size_t seen;   /* bytes of this connection, for the capture check */
} conn_model_t;

static void model_open(conn_model_t *c, const input_t *in)
{
    http_resp_init(&c->resp, c->cap); /* conn.c: on every (re)connect */
    c->inflight = in->pipeline;       /* send_next(): a request is written */
    c->resp.expect_head = (uint8_t)in->head;
    c->seen = 0;
}

/* on_response(): 0, or -1 when the connection was closed. */
static int model_response(conn_model_t *c, const input_t *in)
{
    c->completes++;
    c->stats->requests++;
    if (c->resp.status >= 400) c->stats->errors.status++;
    if (c->cap) check_capture(c->cap, c->seen);
    if (c->inflight) c->inflight--;
    if (!c->resp.keep_alive) {
        c->reconnects++;
        model_open(c, in);
        return -1;
    }
    return 0;
}

static void model_fail(conn_model_t *c, const input_t *in, uint64_t *counter)
{
    (*counter)++;
    c->reconnects++;
    model_open(c, in);
}

/* process(): 0, or -1 when the connection was closed. */
static int model_process(conn_model_t *c, const input_t *in, const char *data, size_t len)
{
    c->seen += len;
    while (len) {
        if (!c->inflight) { /* bytes nobody asked for */
            model_fail(c, in, &c->stats->errors.parse);
            return -1;
        }
        size_t used = 0;
        int r = parse(&c->resp, data, len, &used);
        if (r == HTTP_PARSE_MORE) return 0;
        if (r == HTTP_PARSE_ERROR) {
            model_fail(c, in, &c->stats->errors.parse);
            return -1;
        }
        data += used;
        len -= used;
        if (model_response(c, in)) return -1;
    }
    return 0;
}

static void model_eof(conn_model_t *c, const input_t *in)
{
    int in_message = c->resp.in_message;
    int r = http_finish(&c->resp);
    CHECK(r == HTTP_PARSE_COMPLETE || r == HTTP_PARSE_MORE || r == HTTP_PARSE_ERROR);
    if (!in_message) CHECK(r == HTTP_PARSE_MORE);
    if (r == HTTP_PARSE_COMPLETE) {
        CHECK(c->resp.status <= 999);
        CHECK(c->resp.status >= 200 || c->resp.status == 101 || c->resp.status < 100);
        if (model_response(c, in) == 0) { c->reconnects++; model_open(c, in); }
        return;
    }
    if (r == HTTP_PARSE_ERROR || c->inflight) {
        model_fail(c, in, &c->stats->errors.read);
        return;
    }
    c->reconnects++;
}

static void run_conn(const input_t *in)
{
    http_capture_t cap = { 0 };
    stats_t stats = { 0 };   /* counters only: no histogram is touched */
    conn_model_t c = { .cap = in->capture ? &cap : NULL, .stats = &stats };
    model_open(&c, in);
    unsigned k = 0;
    for (size_t off = 0; off < in->len;) {
        size_t n = next_read(in, off, &k);
        stats.bytes += n;
        if (model_process(&c, in, in->data + off, n) == 0 && !c.inflight)
            c.inflight = in->pipeline; /* do_read(): send_next() */
        off += n;
    }
    model_eof(&c, in);
    CHECK(stats.bytes == in->len);
    CHECK(stats.requests == c.completes);
    CHECK(stats.errors.status <= stats.requests);
    CHECK(stats_error_total(&stats.errors) == stats.errors.parse + stats.errors.read);
    CHECK(stats.errors.parse <= in->len);
    http_capture_free(&cap);
}

/* ---- passes 2 and 3: one stream, recorded ---- */

typedef struct event {
    size_t at;          /* stream offset where the response ended */
    uint16_t status;
    uint8_t keep_alive;
    uint32_t nheaders;
    uint64_t hash;      /* of the captured headers and body */
} event_t;

typedef struct trace {
    event_t ev[MAX_EVENTS];
    size_t n;
    int error;          /* stopped at a parse error */
    int finish;         /* http_finish's result when there was no error */
    uint64_t dropped;   /* responses past MAX_EVENTS */
} trace_t;

static void record(trace_t *t, const http_resp_t *r, const http_capture_t *cap, size_t at)
{
    if (t->n == MAX_EVENTS) { t->dropped++; return; }
    event_t *e = &t->ev[t->n++];
    memset(e, 0, sizeof *e);
    e->at = at;
    e->status = r->status;
    e->keep_alive = r->keep_alive;
    if (cap) {
        e->nheaders = cap->nheaders;
        e->hash = fnv(fnv(UINT64_C(0xcbf29ce484222325), cap->hbuf, cap->hlen), cap->body, cap->blen);
    }
}

static void run_stream(const input_t *in, int whole, int pure, trace_t *t)
{
    http_capture_t cap = { 0 }, *capp = in->capture ? &cap : NULL;
    http_resp_t r;
    http_resp_init(&r, capp);
    if (pure) { r.no_fast = 1; r.fast = 0; } /* llhttp alone */
    r.expect_head = (uint8_t)in->head;
    memset(t, 0, sizeof *t);
    unsigned k = 0;
    for (size_t off = 0; off < in->len && !t->error;) {
        size_t n = whole ? in->len - off : next_read(in, off, &k);
        const char *p = in->data + off;
        size_t left = n;
        while (left) {
            size_t used;
            int rc = parse(&r, p, left, &used);
            if (rc == HTTP_PARSE_MORE) break;
            if (rc == HTTP_PARSE_ERROR) { t->error = 1; break; }
            p += used;
            left -= used;
            if (capp) check_capture(capp, (size_t)(p - in->data));
            record(t, &r, capp, (size_t)(p - in->data));
        }
        off += n;
    }
    if (!t->error) {
        t->finish = http_finish(&r);
        if (t->finish == HTTP_PARSE_COMPLETE) {
            if (capp) check_capture(capp, in->len);
            record(t, &r, capp, in->len);
        }
        /* a finished parser stays usable: EOF again changes nothing */
        int again = http_finish(&r);
        CHECK(again == HTTP_PARSE_MORE || again == HTTP_PARSE_ERROR);
    }
    http_capture_free(&cap);
}

static void compare(const trace_t *a, const trace_t *b)
{
    CHECK(a->n == b->n && a->dropped == b->dropped);
    CHECK(a->error == b->error);
    if (!a->error) CHECK(a->finish == b->finish);
    for (size_t i = 0; i < a->n; i++) {
        const event_t *x = &a->ev[i], *y = &b->ev[i];
        CHECK(x->at == y->at);
        CHECK(x->status == y->status);
        CHECK(x->keep_alive == y->keep_alive);
        CHECK(x->nheaders == y->nheaders);
        CHECK(x->hash == y->hash);
    }
}

static trace_t split_trace, whole_trace, pure_trace; /* large: kept off the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;

    /* wrk-style request strings (script_hooks.c, script.c): a count or -1 */
    int nreq = http_count_requests((const char *)data, size);
    CHECK(nreq >= -1 && (nreq < 0 || (size_t)nreq <= size));
    /* the per-request() check: whatever it accepts, llhttp counts the same */
    static http_reqs_t reqs;
    int src = http_scan_requests(&reqs, (const char *)data, size);
    CHECK(src == 0 || src == -EINVAL);
    CHECK(src || ((int)reqs.n == nreq && reqs.nhead <= reqs.n));

    input_t in = { .pipeline = 1 };
    if (size >= 5) {
        in.capture = data[0] & 1;
        in.head = (data[0] >> 1) & 1;
        in.pipeline = 1 + ((data[0] >> 2) & 3);
        memcpy(in.split, data + 1, 4);
        data += 5;
        size -= 5;
    }
    /* A private copy, exactly as long as the input: ASan sees any read past it. */
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    in.data = buf;
    in.len = size;

    run_conn(&in);
    run_stream(&in, 0, 0, &split_trace);
    run_stream(&in, 1, 0, &whole_trace);
    compare(&split_trace, &whole_trace);
    /* the fast path (with or without a capture, as the input says) against llhttp alone */
    run_stream(&in, 0, 1, &pure_trace);
    compare(&split_trace, &pure_trace);
    run_stream(&in, 1, 1, &pure_trace);
    compare(&whole_trace, &pure_trace);

    free(buf);
    return 0;
}
