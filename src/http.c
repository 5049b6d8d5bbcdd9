/* http.c - request formatting and llhttp response callbacks. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int has_header(const char *const *headers, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (!strncasecmp(headers[i], name, nl) && headers[i][nl] == ':') return 1;
    return 0;
}

int http_format(char **out, size_t *len, const char *method, const char *path,
                const char *host, const char *const *headers, size_t nheaders,
                const char *body, size_t body_len, int close)
{
    size_t cap = strlen(method) + strlen(path) + strlen(host) + body_len + 96;
    for (size_t i = 0; i < nheaders; i++) cap += strlen(headers[i]) + 2;
    char *b = malloc(cap + 1);
    if (!b) return -ENOMEM;
    size_t n = (size_t)snprintf(b, cap, "%s %s HTTP/1.1\r\n", method, path);
    if (!has_header(headers, nheaders, "Host"))
        n += (size_t)snprintf(b + n, cap - n, "Host: %s\r\n", host);
    for (size_t i = 0; i < nheaders; i++)
        n += (size_t)snprintf(b + n, cap - n, "%s\r\n", headers[i]);
    if (close && !has_header(headers, nheaders, "Connection"))
        n += (size_t)snprintf(b + n, cap - n, "Connection: close\r\n");
    if (body_len && !has_header(headers, nheaders, "Content-Length"))
        n += (size_t)snprintf(b + n, cap - n, "Content-Length: %zu\r\n", body_len);
    memcpy(b + n, "\r\n", 2);
    n += 2;
    if (body_len) memcpy(b + n, body, body_len);
    n += body_len;
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}

void http_host_header(char *buf, size_t size, const char *host, int is_ipv6,
                      const char *port, int default_port)
{
    const char *lb = is_ipv6 ? "[" : "", *rb = is_ipv6 ? "]" : "";
    if (default_port) snprintf(buf, size, "%s%s%s", lb, host, rb);
    else snprintf(buf, size, "%s%s%s:%s", lb, host, rb, port);
}

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

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    http_capture_t *c = ((http_resp_t *)p->data)->cap;
    c->bseen += n;
    if (c->bseen > HTTP_CAPTURE_MAX) return 0; /* too big for a script: counted, not kept */
    return append(&c->body, &c->blen, &c->bcap, at, n) ? HPE_USER : 0;
}

static int on_headers_complete(llhttp_t *p)
{
    http_resp_t *r = p->data;
    r->status = (uint16_t)p->status_code;
    if (r->status < 100) return -1; /* llhttp takes 1-3 digits: "HTTP/1.1 20" is malformed */
    /* A response to HEAD has no body whatever its headers say. */
    return r->expect_head && r->status >= 200 ? 1 : 0;
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

/* The plain settings skip headers and bodies entirely (wrk's best idea);
 * the capturing ones are used only when a script wants them. */
static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
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
};

void http_resp_init(http_resp_t *r, http_capture_t *cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
    llhttp_init(&r->parser, HTTP_RESPONSE, cap ? &capture_settings : &settings);
    r->parser.data = r;
}

void http_capture_free(http_capture_t *cap)
{
    free(cap->hbuf);
    free(cap->body);
    memset(cap, 0, sizeof *cap);
}

static int count_request(llhttp_t *p)
{
    (*(int *)p->data)++;
    return 0;
}

int http_count_requests(const char *buf, size_t len)
{
    static const llhttp_settings_t req_settings = { .on_message_complete = count_request };
    llhttp_t p;
    int n = 0;
    llhttp_init(&p, HTTP_REQUEST, &req_settings);
    p.data = &n;
    if (llhttp_execute(&p, buf, len) != HPE_OK) return -1;
    if (p.finish != HTTP_FINISH_SAFE) return -1; /* a request is cut short */
    return n;
}

int http_parse(http_resp_t *r, const char *data, size_t len, size_t *consumed)
{
    r->complete = 0;
    llhttp_errno_t e = llhttp_execute(&r->parser, data, len);
    if (e == HPE_OK) {
        *consumed = len;
        return HTTP_PARSE_MORE;
    }
    if (e == HPE_PAUSED && r->complete) {
        const char *pos = llhttp_get_error_pos(&r->parser);
        *consumed = pos ? (size_t)(pos - data) : len;
        llhttp_resume(&r->parser);
        return HTTP_PARSE_COMPLETE;
    }
    *consumed = 0;
    return HTTP_PARSE_ERROR;
}

int http_finish(http_resp_t *r)
{
    if (!r->in_message) return HTTP_PARSE_MORE;
    r->complete = 0;
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
