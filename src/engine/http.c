/* http.c - responses: the llhttp callbacks, chunk-size lines, the fast path
 * for simple heads (see http.h; requests are in http_request.c). */
#include "http.h"
#include "http_chars.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


static int on_message_begin(llhttp_t *p)
{
    http_resp_t *r = p->data;
    r->in_message = 1;
    if (r->cap) {
        r->cap->hlen = r->cap->blen = r->cap->bseen = 0;
        r->cap->nheaders = 0;
        r->cap->last_value = 1;
    }
    return 0;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    char *b = realloc(*buf, n);
    if (!b) return -1;
    *buf = b;
    *cap = n;
    return 0;
}

static int append(char **buf, size_t *len, size_t *cap, const char *at, size_t n)
{
    if (!n) return 0; /* llhttp reports empty names; *buf may not exist yet */
    if (grow(buf, cap, *len + n)) return -1;
    memcpy(*buf + *len, at, n);
    *len += n;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    http_capture_t *c = ((http_resp_t *)p->data)->cap;
    c->last_value = 0;
    return append(&c->hbuf, &c->hlen, &c->hcap, at, n) ? HPE_USER : 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    http_capture_t *c = ((http_resp_t *)p->data)->cap;
    c->last_value = 1;
    return append(&c->hbuf, &c->hlen, &c->hcap, at, n) ? HPE_USER : 0;
}

static int on_header_part_complete(llhttp_t *p)
{
    http_capture_t *c = ((http_resp_t *)p->data)->cap;
    if (append(&c->hbuf, &c->hlen, &c->hcap, "", 1)) return HPE_USER;
    if (c->last_value) c->nheaders++;
    return 0;
}

/* The plain parser's only look at a body: its size (Locust's content size). */
static int on_body_size(llhttp_t *p, const char *at, size_t n)
{
    (void)at;
    ((http_resp_t *)p->data)->body += n;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    http_capture_t *c = ((http_resp_t *)p->data)->cap;
    ((http_resp_t *)p->data)->body += n;
    c->bseen += n;
    if (c->bseen > HTTP_CAPTURE_MAX) return 0; /* too big for a script: counted, not kept */
    return append(&c->body, &c->blen, &c->bcap, at, n) ? HPE_USER : 0;
}

/* Where the chunk-size line scanner is (http_resp_t.chunk). */
enum {
    CK_NONE = 0,
    CK_START,     /* at the first hex digit of the size */
    CK_SIZE,      /* in the size */
    CK_BWS,       /* whitespace after the size or a value: only ';' may follow */
    CK_NAME0,     /* after ';': whitespace, then an extension name */
    CK_NAME,      /* in a name */
    CK_NAME_BWS,  /* whitespace after a name: '=' or ';' follows */
    CK_VAL0,      /* after '=': whitespace, then a token or a quoted string */
    CK_TOKEN,     /* in a token value */
    CK_QUOTED,    /* in a quoted value */
    CK_QESC,      /* after a backslash in a quoted value */
    CK_QEND,      /* after a quoted value's closing quote */
    CK_LF,        /* after CR: LF ends the line */
};

static int on_headers_complete(llhttp_t *p)
{
    http_resp_t *r = p->data;
    unsigned st = p->status_code;
    r->status = (uint16_t)st;
    if (st < 100) return -1; /* llhttp takes 1-3 digits: "HTTP/1.1 20" is malformed */
    /* RFC 9112 6.3: 1xx (101 aside: llhttp handles the upgrade), 204, 304
     * and a response to HEAD end at their header section, whatever
     * Content-Length or Transfer-Encoding say. */
    if (st < 200) return st != 101;
    if (r->expect_head || st == 204 || st == 304) return 1;
    if (p->flags & F_CHUNKED) { /* the first chunk-size line is ours */
        r->chunk = CK_START;
        return HPE_PAUSED;
    }
    return 0;
}

static int on_chunk_header(llhttp_t *p)
{
    ((http_resp_t *)p->data)->last_chunk = p->content_length == 0;
    return 0;
}

static int on_chunk_complete(llhttp_t *p)
{
    http_resp_t *r = p->data;
    if (r->last_chunk) return 0; /* the trailer section ended: the message completes */
    r->chunk = CK_START;          /* the next chunk-size line is ours */
    return HPE_PAUSED;
}


static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f');
}

static const char *chunk_bad(http_resp_t *r)
{
    r->parser.error = HPE_INVALID_CHUNK_SIZE;
    llhttp_set_error_reason(&r->parser, "Invalid chunk-size line (RFC 9112 7.1.1)");
    return NULL;
}

/* Scan a chunk-size line from p (RFC 9112 7.1.1):
 *   chunk-size *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) CRLF
 * The size's digits and the final CRLF go to llhttp, the extensions are
 * checked and dropped (llhttp 8.1 rejects several valid forms). Returns
 * where the scan stopped (r->chunk is CK_NONE once the line is done), or
 * NULL on a malformed line. */
static const char *chunk_line(http_resp_t *r, const char *p, const char *end)
{
    uint8_t st = r->chunk;
    if (st == CK_START || st == CK_SIZE) {
        const char *d = p;
        while (p < end && is_hex((unsigned char)*p)) p++;
        if (p > d) {
            if (llhttp_execute(&r->parser, d, (size_t)(p - d)) != HPE_OK) return NULL; /* overflow */
            st = CK_SIZE;
        }
        if (p < end && st == CK_START) return chunk_bad(r);
    }
    for (; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        int ws = ch == ' ' || ch == '\t';
        switch (st) {
        case CK_SIZE:
        case CK_TOKEN:
        case CK_QEND:
            if (st == CK_TOKEN && is_tchar(ch)) break;
            if (ws) st = CK_BWS;
            else if (ch == ';') st = CK_NAME0;
            else if (ch == '\r') st = CK_LF;
            else return chunk_bad(r);
            break;
        case CK_BWS:
            if (ch == ';') st = CK_NAME0;
            else if (!ws) return chunk_bad(r);
            break;
        case CK_NAME0:
            if (is_tchar(ch)) st = CK_NAME;
            else if (!ws) return chunk_bad(r);
            break;
        case CK_NAME:
            if (is_tchar(ch)) break;
            if (ws) st = CK_NAME_BWS;
            else if (ch == '=') st = CK_VAL0;
            else if (ch == ';') st = CK_NAME0;
            else if (ch == '\r') st = CK_LF;
            else return chunk_bad(r);
            break;
        case CK_NAME_BWS:
            if (ch == '=') st = CK_VAL0;
            else if (ch == ';') st = CK_NAME0;
            else if (!ws) return chunk_bad(r);
            break;
        case CK_VAL0:
            if (is_tchar(ch)) st = CK_TOKEN;
            else if (ch == '"') st = CK_QUOTED;
            else if (!ws) return chunk_bad(r);
            break;
        case CK_QUOTED: /* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
            if (ch == '"') st = CK_QEND;
            else if (ch == '\\') st = CK_QESC;
            else if (!ws && (ch < 0x21 || ch == 0x7f)) return chunk_bad(r);
            break;
        case CK_QESC: /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (!ws && (ch < 0x21 || ch == 0x7f)) return chunk_bad(r);
            st = CK_QUOTED;
            break;
        case CK_LF:
            if (ch != '\n') return chunk_bad(r);
            r->chunk = CK_NONE;
            if (llhttp_execute(&r->parser, "\r\n", 2) != HPE_OK) return NULL;
            return p + 1;
        default:
            return chunk_bad(r);
        }
    }
    r->chunk = st;
    return p;
}

static int on_message_complete(llhttp_t *p)
{
    http_resp_t *r = p->data;
    r->in_message = 0;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
        return 0; /* interim response: the real one follows */
    r->complete = 1;
    r->keep_alive = (uint8_t)llhttp_should_keep_alive(p);
    return HPE_PAUSED; /* hand control back at the message boundary */
}

/* The plain settings skip headers entirely (wrk's best idea) and only
 * count a body's bytes (one call per span llhttp skips); the capturing ones
 * are used only when a script wants them. */
static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body_size,
    .on_message_complete = on_message_complete,
    .on_chunk_header = on_chunk_header,
    .on_chunk_complete = on_chunk_complete,
};

static const llhttp_settings_t capture_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_field_complete = on_header_part_complete,
    .on_header_value_complete = on_header_part_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_chunk_header = on_chunk_header,
    .on_chunk_complete = on_chunk_complete,
};

void http_resp_init(http_resp_t *r, http_capture_t *cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
    r->fast = 1; /* with a capture too: scan_response fills it as llhttp would */
    llhttp_init(&r->parser, HTTP_RESPONSE, cap ? &capture_settings : &settings);
    r->parser.data = r;
}

void http_capture_free(http_capture_t *cap)
{
    free(cap->hbuf);
    free(cap->body);
    memset(cap, 0, sizeof *cap);
}


/* Whether the n >= 8 bytes at a are `lower` (lowercase letters and '-'),
 * ignoring case, eight bytes at a time (the last word overlaps). Exact for
 * bytes of a field name or value (no CTL but HTAB): only 'A'-'Z' turn into
 * a letter under | 0x20, and only CR into '-'. */
static inline int ieq_w(const char *a, const char *lower, size_t n)
{
    uint64_t x, y;
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, lower + i, 8);
        if ((x | ONES * 0x20) != y) return 0;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, lower + n - 8, 8);
    return (x | ONES * 0x20) == y;
}

/* The fast path's scan of one response head at p: 1 with *hlen (the head's
 * bytes), *clen and *status; 0 for a form it leaves to llhttp. Only heads
 * llhttp takes with the same framing and keep-alive get 1: a status line
 * `HTTP/1.1 DDD reason` (or 1.0 with `Connection: keep-alive`), status
 * 200-999 but 204 and 304, token header names, one Content-Length, and no
 * header llhttp treats specially beyond that (Transfer-Encoding, Upgrade,
 * Proxy-Connection; Connection only as `keep-alive`). */
static int scan_response(const char *p, const char *end, size_t *hlen, uint64_t *clen,
                         unsigned *status, http_capture_t *cap)
{
    const char *s = p;
    if (end - p < 15 || memcmp(p, "HTTP/1.", 7) || (p[7] != '1' && p[7] != '0') || p[8] != ' ')
        return 0;
    int v10 = p[7] == '0';
    unsigned d0 = (unsigned)(unsigned char)p[9] - '0', d1 = (unsigned)(unsigned char)p[10] - '0',
             d2 = (unsigned)(unsigned char)p[11] - '0';
    if (d0 < 2 || d0 > 9 || d1 > 9 || d2 > 9 || p[12] != ' ') return 0;
    unsigned st = d0 * 100 + d1 * 10 + d2;
    if (st == 204 || st == 304) return 0;
    p = skip_to(p + 13, end, 0x20, C_END_VALUE); /* the reason: HTAB, SP, VCHAR, obs-text */
    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return 0;
    p += 2;
    uint64_t len = 0;
    int has_clen = 0, ka = 0;
    if (cap) cap->hlen = cap->blen = cap->bseen = 0, cap->nheaders = 0;
    for (;;) {
        const char *name, *v, *cr;
        size_t nl;
        int f = http_next_field(&p, end, &name, &nl, &v, &cr);
        if (f < 0) return 0;
        if (!f) break;
        if (cap) {
            /* name\0value\0 as llhttp's callbacks give them (the value
             * without its leading SP/HTAB); an empty value or one ending in
             * whitespace is left to llhttp, so the two never differ */
            const char *vs = v;
            while (vs < cr && (*vs == ' ' || *vs == '\t')) vs++;
            if (vs == cr || cr[-1] == ' ' || cr[-1] == '\t') return 0;
            size_t vl = (size_t)(cr - vs);
            if (grow(&cap->hbuf, &cap->hcap, cap->hlen + nl + vl + 2)) return 0;
            memcpy(cap->hbuf + cap->hlen, name, nl);
            cap->hbuf[cap->hlen + nl] = 0;
            memcpy(cap->hbuf + cap->hlen + nl + 1, vs, vl);
            cap->hbuf[cap->hlen + nl + 1 + vl] = 0;
            cap->hlen += nl + vl + 2;
            cap->nheaders++;
        }
        switch (nl) {
        case 7:  if (ieq(name, "upgrade", 7)) return 0; break;
        case 16: if (ieq_w(name, "proxy-connection", 16)) return 0; break;
        case 17: if (ieq_w(name, "transfer-encoding", 17)) return 0; break;
        case 10:
            if (!ieq_w(name, "connection", 10)) break;
            while (v < cr && (*v == ' ' || *v == '\t')) v++;
            if (cr - v != 10 || !ieq_w(v, "keep-alive", 10)) return 0;
            ka = 1;
            break;
        case 14:
            if (!ieq_w(name, "content-length", 14)) break;
            if (has_clen || http_clen_value(v, cr, &len)) return 0;
            has_clen = 1;
            break;
        }
    }
    if (!has_clen || (v10 && !ka)) return 0; /* delimited by EOF, or the connection closes */
    *hlen = (size_t)(p - s);
    *clen = len;
    *status = st;
    return 1;
}

/* A fast-path body's bytes into the capture, as on_body keeps them. */
static int keep_body(http_capture_t *c, const char *at, size_t n)
{
    if (!c || !n) return 0;
    c->bseen += n;
    if (c->bseen > HTTP_CAPTURE_MAX) return 0;
    return append(&c->body, &c->blen, &c->bcap, at, n);
}

int http_parse(http_resp_t *r, const char *data, size_t len, size_t *consumed)
{
    const char *p = data, *end = data + len;
    r->complete = 0;
    if (r->fast_left) { /* the body of a fast-path response goes on */
        if (len < r->fast_left) {
            r->fast_left -= len;
            r->body += len;
            *consumed = len;
            return keep_body(r->cap, data, len) ? HTTP_PARSE_ERROR : HTTP_PARSE_MORE;
        }
        if (keep_body(r->cap, data, (size_t)r->fast_left)) return HTTP_PARSE_ERROR;
        r->body += r->fast_left;
        *consumed = (size_t)r->fast_left;
        r->fast_left = 0;
        r->in_message = 0;
        r->complete = 1;
        return HTTP_PARSE_COMPLETE;
    }
    if (r->fast) {
        size_t hlen;
        uint64_t clen;
        unsigned st;
        if (!r->expect_head && scan_response(p, end, &hlen, &clen, &st, r->cap)) {
            r->status = (uint16_t)st;
            r->keep_alive = 1;
            if (len - hlen < clen) { /* the body ends in a later read */
                r->fast_left = clen - (len - hlen);
                r->body += len - hlen;
                r->in_message = 1;
                *consumed = len;
                return keep_body(r->cap, p + hlen, len - hlen) ? HTTP_PARSE_ERROR : HTTP_PARSE_MORE;
            }
            if (keep_body(r->cap, p + hlen, (size_t)clen)) return HTTP_PARSE_ERROR;
            r->body += clen;
            r->complete = 1;
            *consumed = hlen + (size_t)clen;
            return HTTP_PARSE_COMPLETE;
        }
        r->fast = 0; /* llhttp takes this response from its first byte */
    }
    for (;;) {
        if (r->chunk) { /* in a chunk-size line (chunked bodies only) */
            p = chunk_line(r, p, end);
            if (!p) break;
            if (r->chunk) { /* the line goes on in the next read */
                *consumed = len;
                return HTTP_PARSE_MORE;
            }
        }
        llhttp_errno_t e = llhttp_execute(&r->parser, p, (size_t)(end - p));
        if (e == HPE_OK) {
            *consumed = len;
            return HTTP_PARSE_MORE;
        }
        if (e != HPE_PAUSED) break;
        const char *pos = llhttp_get_error_pos(&r->parser);
        llhttp_resume(&r->parser);
        if (!pos) pos = end;
        if (r->complete) {
            /* paused at the message boundary: the next head may be fast */
            r->fast = r->keep_alive && !r->no_fast;
            *consumed = (size_t)(pos - data);
            return HTTP_PARSE_COMPLETE;
        }
        p = pos; /* paused before a chunk-size line: r->chunk is set */
    }
    *consumed = 0;
    return HTTP_PARSE_ERROR;
}

int http_finish(http_resp_t *r)
{
    if (!r->in_message) return HTTP_PARSE_MORE;
    r->complete = 0;
    if (r->fast_left) return HTTP_PARSE_ERROR; /* EOF inside a Content-Length body, as llhttp says */
    llhttp_errno_t e = llhttp_finish(&r->parser);
    if ((e == HPE_OK || e == HPE_PAUSED) && r->complete) {
        if (e == HPE_PAUSED) llhttp_resume(&r->parser);
        return HTTP_PARSE_COMPLETE;
    }
    return HTTP_PARSE_ERROR;
}

const char *http_error_reason(const http_resp_t *r)
{
    const char *s = llhttp_get_error_reason(&r->parser);
    return s ? s : "malformed response";
}
