/* serve_http.c - `barrage serve`'s HTTP (see serve_http.h): the prebuilt
 * responses, the llhttp callbacks that capture a request into its conn's
 * serve_req_t, and the answer to each complete request.
 */
#define _GNU_SOURCE
#include "serve_http.h"
#include "serve_api.h"
#include "serve_conn.h"
#include "serve_faults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERVE_MAX_HEAD        (64 * 1024)    /* request line + headers, else 431 */
#define SERVE_MAX_BODY_KEEP   (1024 * 1024)  /* request body bytes kept for the handler */
#define SERVE_CHUNK           (16 * 1024)    /* --chunked: largest chunk */
#define SERVE_BIG_HEADER      (96 * 1024)    /* --fault bigheader: header value size */

/* ---------------------------------------------------------------------------
 * Prebuilt responses (built once, read-only, shared by every thread) */

static const char *const serve_conn_lines[CH_COUNT] = {
    "", "Connection: keep-alive\r\n", "Connection: close\r\n",
};

static const char serve_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char serve_400[] =
    "HTTP/1.1 400 Bad Request\r\nServer: barrage\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";
static const char serve_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: barrage\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

const char *serve_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Status";
    }
}

void serve_static_free(serve_static_t *st)
{
    free(st->body);
    free(st->cbody);
    for (int t = 0; t < 2; t++)
        for (int ch = 0; ch < CH_COUNT; ch++) free(st->head[t][ch]);
    free(st->big);
    memset(st, 0, sizeof *st);
}

/* 0, or -ENOMEM (st is then freed). */
int serve_static_build(const serve_config_t *cfg, serve_static_t *st)
{
    memset(st, 0, sizeof *st);
    st->no_body = cfg->status == 204 || cfg->status == 304;
    size_t len = st->no_body ? 0 : cfg->body_given ? cfg->body_size : 2;
    st->body = malloc(len ? len : 1);
    if (!st->body) goto oom;
    st->body_len = len;
    if (!cfg->body_given) {
        if (len) memcpy(st->body, "OK", 2);
    } else {
        for (size_t off = 0; off < len; off += 8) {
            char rec[16];
            snprintf(rec, sizeof rec, "%07u\n", (unsigned)(off % 10000000u));
            memcpy(st->body + off, rec, len - off < 8 ? len - off : 8);
        }
    }
    if (cfg->chunked && !st->no_body) {
        size_t clen = 5; /* "0\r\n\r\n" */
        for (size_t off = 0; off < len; off += SERVE_CHUNK) {
            size_t n = len - off < SERVE_CHUNK ? len - off : SERVE_CHUNK;
            clen += (size_t)snprintf(NULL, 0, "%zx\r\n", n) + n + 2;
        }
        st->cbody = malloc(clen);
        if (!st->cbody) goto oom;
        char *p = st->cbody;
        for (size_t off = 0; off < len; off += SERVE_CHUNK) {
            size_t n = len - off < SERVE_CHUNK ? len - off : SERVE_CHUNK;
            p += sprintf(p, "%zx\r\n", n);
            memcpy(p, st->body + off, n);
            p += n;
            memcpy(p, "\r\n", 2);
            p += 2;
        }
        memcpy(p, "0\r\n\r\n", 5);
        st->cbody_len = clen;
    }
    for (int t = 0; t < 2; t++) {
        for (int ch = 0; ch < CH_COUNT; ch++) {
            char framing[64];
            if (st->no_body) framing[0] = 0;
            else if (t) snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
            else snprintf(framing, sizeof framing, "Content-Length: %zu\r\n", len);
            const char *fmt = "HTTP/1.1 %d %s\r\nServer: barrage\r\n%s%s%s\r\n";
            const char *ctype = st->no_body ? "" : "Content-Type: text/plain\r\n";
            int n = snprintf(NULL, 0, fmt, cfg->status, serve_reason(cfg->status), ctype,
                             framing, serve_conn_lines[ch]);
            st->head[t][ch] = malloc((size_t)n + 1);
            if (!st->head[t][ch]) goto oom;
            snprintf(st->head[t][ch], (size_t)n + 1, fmt, cfg->status,
                     serve_reason(cfg->status), ctype, framing, serve_conn_lines[ch]);
            st->head_len[t][ch] = (size_t)n;
        }
    }
    st->status_line_len = (size_t)(strstr(st->head[0][0], "\r\n") + 2 - st->head[0][0]);
    if (cfg->fault == SERVE_FAULT_BIGHEADER) {
        static const char name[] = "X-Barrage-Big: ";
        st->big_len = sizeof name - 1 + SERVE_BIG_HEADER + 2;
        st->big = malloc(st->big_len);
        if (!st->big) goto oom;
        memcpy(st->big, name, sizeof name - 1);
        memset(st->big + sizeof name - 1, 'a', SERVE_BIG_HEADER);
        memcpy(st->big + st->big_len - 2, "\r\n", 2);
    }
    return 0;
oom:
    serve_static_free(st);
    return -ENOMEM;
}

/* ---------------------------------------------------------------------------
 * The request handler: the place to add routes */

/* Fill res for req; leaving res->status at 0 sends the configured default
 * response, the fast path. A route sets status, content type and body, which
 * go out with Content-Length framing (never chunked). */
static void serve_route(const serve_config_t *cfg, const serve_request_t *req,
                        serve_response_t *res)
{
    (void)cfg;
    if (req->path_len >= 5 && !memcmp(req->path, "/api/", 5)) serve_demo_api(req, res);
}

/* Queue a formatted response (handler answers, status500). */
void serve_http_push_dynamic(serve_conn_t *c, int status, const char *ctype,
                             const char *headers, const char *body, size_t body_len,
                             int head, int ch, uint64_t due)
{
    char hb[512];
    int n = snprintf(hb, sizeof hb,
                     "HTTP/1.1 %d %s\r\nServer: barrage\r\nContent-Type: %.100s\r\n"
                     "Content-Length: %zu\r\n%.250s%s\r\n",
                     status, serve_reason(status), ctype ? ctype : "text/plain",
                     body_len, headers ? headers : "", serve_conn_lines[ch]);
    serve_conn_push_copy(c, hb, (size_t)n, due, SEG_NONE);
    if (!head) serve_conn_push_copy(c, body, body_len, due, SEG_NONE);
}

void serve_http_push_continue(serve_conn_t *c, uint64_t due)
{
    serve_conn_push(c, serve_continue, sizeof serve_continue - 1, due, SEG_NONE);
}

/* ---------------------------------------------------------------------------
 * llhttp callbacks: capture the request, answer it when complete */

static int rq_append(serve_conn_t *c, const char *p, size_t n)
{
    serve_req_t *rq = c->rq;
    if ((size_t)rq->len + n > rq->cap) {
        size_t cap = rq->cap;
        while (cap < (size_t)rq->len + n) cap *= 2;
        char *b = realloc(rq->buf, cap);
        if (!b) { c->broken = 1; return -1; }
        rq->buf = b;
        rq->cap = (uint32_t)cap;
    }
    memcpy(rq->buf + rq->len, p, n);
    rq->len += (uint32_t)n;
    return 0;
}

/* Count head bytes; -1 (431) once the head is too large. */
static int rq_head(serve_conn_t *c, size_t n)
{
    c->rq->head_len += (uint32_t)(n < SERVE_MAX_HEAD ? n : SERVE_MAX_HEAD);
    if (c->rq->head_len <= SERVE_MAX_HEAD) return 0;
    c->error_status = 431;
    return -1;
}

static int on_message_begin(llhttp_t *p)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    if (!rq) {
        rq = c->rq = calloc(1, sizeof *rq);
        if (rq) rq->buf = malloc(512);
        if (!rq || !rq->buf) { c->broken = 1; return -1; }
        rq->cap = 512;
    }
    rq->len = rq->head_len = rq->url_off = rq->url_len = rq->nhdr = 0;
    rq->body_off = rq->body_len = 0;
    rq->body_total = 0;
    rq->in = RQ_NONE;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    if (rq_head(c, n)) return -1;
    c->rq->url_off = c->rq->len - c->rq->url_len;
    if (rq_append(c, at, n)) return -1;
    c->rq->url_len += (uint32_t)n;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    if (rq_head(c, n)) return -1;
    if (rq->in != RQ_FIELD) {
        rq->in = RQ_FIELD;
        rq->keep = rq->nhdr < SERVE_MAX_HEADERS;
        if (rq->keep) {
            rq->hdr[rq->nhdr].name_off = rq->len;
            rq->hdr[rq->nhdr].name_len = 0;
            rq->hdr[rq->nhdr].value_off = rq->len;
            rq->hdr[rq->nhdr].value_len = 0;
            rq->nhdr++;
        }
    }
    if (!rq->keep) return 0;
    if (rq_append(c, at, n)) return -1;
    rq->hdr[rq->nhdr - 1].name_len += (uint32_t)n;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    if (rq_head(c, n)) return -1;
    if (rq->in != RQ_VALUE) {
        rq->in = RQ_VALUE;
        if (rq->keep && rq->nhdr) rq->hdr[rq->nhdr - 1].value_off = rq->len;
    }
    if (!rq->keep || !rq->nhdr) return 0;
    if (rq_append(c, at, n)) return -1;
    rq->hdr[rq->nhdr - 1].value_len += (uint32_t)n;
    return 0;
}

static int rq_header_is(const serve_req_t *rq, uint32_t i, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    return rq->hdr[i].name_len == nl && !strncasecmp(rq->buf + rq->hdr[i].name_off, name, nl) &&
           rq->hdr[i].value_len == vl && !strncasecmp(rq->buf + rq->hdr[i].value_off, value, vl);
}

static int on_headers_complete(llhttp_t *p)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    rq->body_off = rq->len;
    if (p->http_major == 1 && p->http_minor >= 1) {
        for (uint32_t i = 0; i < rq->nhdr; i++) {
            if (rq_header_is(rq, i, "expect", "100-continue")) {
                serve_conn_push(c, serve_continue, sizeof serve_continue - 1, 0, SEG_NONE);
                break;
            }
        }
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    rq->body_total += n;
    size_t room = SERVE_MAX_BODY_KEEP - rq->body_len;
    size_t keep = n < room ? n : room;
    if (keep) {
        if (rq_append(c, at, keep)) return -1;
        rq->body_len += (uint32_t)keep;
    }
    return 0;
}

/* The normal answer: the handler's, or the prebuilt default. */
void serve_http_answer(serve_conn_t *c, const llhttp_t *p, int head, int te, int ch,
                       uint64_t due)
{
    serve_worker_t *w = c->w;
    const serve_static_t *st = w->st;
    const serve_req_t *rq = c->rq;
    serve_header_t hdrs[SERVE_MAX_HEADERS];
    for (uint32_t i = 0; i < rq->nhdr; i++) {
        hdrs[i].name = rq->buf + rq->hdr[i].name_off;
        hdrs[i].name_len = rq->hdr[i].name_len;
        hdrs[i].value = rq->buf + rq->hdr[i].value_off;
        hdrs[i].value_len = rq->hdr[i].value_len;
    }
    serve_request_t req = {
        .method = llhttp_method_name((llhttp_method_t)p->method),
        .head = head,
        .path = rq->buf + rq->url_off,
        .path_len = rq->url_len,
        .headers = hdrs,
        .header_count = rq->nhdr,
        .body = rq->buf + rq->body_off,
        .body_len = rq->body_len,
        .body_total = rq->body_total,
    };
    serve_response_t res = { 0 };
    serve_route(w->cfg, &req, &res);
    if (res.status) {
        serve_http_push_dynamic(c, res.status, res.content_type, res.headers, res.body,
                                res.body_len, head, ch, due);
    } else {
        serve_conn_push(c, st->head[te][ch], st->head_len[te][ch], due, SEG_NONE);
        if (!head) {
            if (te) serve_conn_push(c, st->cbody, st->cbody_len, due, SEG_NONE);
            else serve_conn_push(c, st->body, st->body_len, due, SEG_NONE);
        }
    }
    w->responses++;
}

static int on_message_complete(llhttp_t *p)
{
    serve_conn_t *c = p->data;
    serve_worker_t *w = c->w;
    const serve_config_t *cfg = w->cfg;
    const serve_static_t *st = w->st;
    w->requests++;
    c->nresp++;
    int head = p->method == HTTP_HEAD;
    int closing = !llhttp_should_keep_alive(p) || p->upgrade ||
                  (cfg->close_after && c->nresp >= cfg->close_after);
    int ch = closing ? CH_CLOSE : (p->http_major == 1 && p->http_minor == 0) ? CH_KEEP_ALIVE
                                                                             : CH_NONE;
    /* chunked only to HTTP/1.1 clients; HTTP/1.0 gets Content-Length */
    int te = st->cbody && p->http_major == 1 && p->http_minor >= 1;
    uint64_t due = serve_conn_due(c);
    int refused = 0;
    if (cfg->capacity.rps > 0) {
        uint64_t at;
        refused = serve_capacity_admit(&w->sh->capacity, &cfg->capacity, c->arrival, &at);
        if (at > due) due = at;
    }
    serve_fault_t fault = cfg->fault && !refused ? serve_fault_pick(w) : SERVE_FAULT_NONE;
    if (refused) {
        serve_http_push_dynamic(c, 503, "text/plain", NULL, "Service Unavailable", 19, head, ch, due);
    } else if (fault == SERVE_FAULT_NONE) {
        serve_http_answer(c, p, head, te, ch, due);
    } else {
        int rc = serve_fault_inject(c, p, fault, head, te, ch, due);
        if (rc) return rc;
    }
    if (closing) {
        serve_conn_push(c, NULL, 0, due, SEG_CLOSE);
        c->ignore_input = 1;
        return HPE_PAUSED;
    }
    return c->broken ? HPE_PAUSED : 0;
}

static const llhttp_settings_t serve_llhttp_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void serve_http_init(serve_conn_t *c)
{
    llhttp_init(&c->parser, HTTP_REQUEST, &serve_llhttp_settings);
    c->parser.data = c;
}

void serve_http_parse(serve_conn_t *c, const char *data, size_t n)
{
    llhttp_errno_t e = llhttp_execute(&c->parser, data, n);
    if (e == HPE_OK || e == HPE_PAUSED || c->broken) return;
    if (e == HPE_PAUSED_UPGRADE) { c->ignore_input = 1; return; } /* answered, closing */
    /* a malformed request: say so and close */
    if (c->error_status == 431)
        serve_conn_push(c, serve_431, sizeof serve_431 - 1, serve_conn_due(c), SEG_CLOSE);
    else serve_conn_push(c, serve_400, sizeof serve_400 - 1, serve_conn_due(c), SEG_CLOSE);
    c->ignore_input = 1;
}
