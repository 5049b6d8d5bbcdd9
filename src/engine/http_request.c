/* http_request.c - requests: formatting once per run, and the check of
 * every request() string (a fast one-pass scan, llhttp for unusual forms),
 * which counts the requests and marks the HEADs (see http.h). */
#include "http.h"
#include "http_chars.h"

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
    for (;;) {
        llhttp_errno_t e = llhttp_execute(&p, buf, len);
        if (e == HPE_OK) break;
        /* CONNECT or Upgrade: llhttp stops after the head; wrk sends any
         * method, so count on from where it stopped */
        if (e != HPE_PAUSED_UPGRADE) return -1;
        const char *at = llhttp_get_error_pos(&p);
        if (!at || at <= buf) return -1;
        len -= (size_t)(at - buf);
        buf = at;
        llhttp_resume_after_upgrade(&p);
    }
    if (p.finish != HTTP_FINISH_SAFE) return -1; /* a request is cut short */
    return n;
}

void http_reqs_free(http_reqs_t *q)
{
    free(q->head);
    memset(q, 0, sizeof *q);
}

/* Record request q->n (HEAD or not) and count it. 0 or -ENOMEM. */
static inline int reqs_add(http_reqs_t *q, int head)
{
    uint32_t i = q->n++;
    if (!head) {
        if (q->nhead && (size_t)(i >> 3) < q->cap) q->head[i >> 3] &= (uint8_t)~(1u << (i & 7));
        return 0;
    }
    if ((size_t)(i >> 3) >= q->cap) {
        size_t n = q->cap ? q->cap * 2 : 8;
        while (n <= (size_t)(i >> 3)) n *= 2;
        uint8_t *h = realloc(q->head, n);
        if (!h) return -ENOMEM;
        memset(h + q->cap, 0, n - q->cap);
        q->head = h;
        q->cap = n;
    }
    if (!q->nhead) memset(q->head, 0, q->cap); /* stale bits of an earlier string */
    q->nhead++;
    q->head[i >> 3] |= (uint8_t)(1u << (i & 7));
    return 0;
}

/* 2 HEAD, 1 another method llhttp knows with the usual framing, 0 else. */
static int known_method(const char *p, size_t m)
{
    switch (m) {
    case 3: return !memcmp(p, "GET", 3) || !memcmp(p, "PUT", 3);
    case 4: return !memcmp(p, "HEAD", 4) ? 2 : !memcmp(p, "POST", 4);
    case 5: return !memcmp(p, "PATCH", 5) || !memcmp(p, "TRACE", 5);
    case 6: return !memcmp(p, "DELETE", 6);
    case 7: return !memcmp(p, "OPTIONS", 7);
    }
    return 0;
}

/* The fast scan of one request at *pp: 1 scanned (*pp past it, *head set),
 * 0 a form it leaves to llhttp. Only forms llhttp accepts with the same
 * framing get 1, so the result never differs from llhttp's. */
static int scan_plain(const char **pp, const char *end, int *head)
{
    const char *p = *pp;
    size_t left = (size_t)(end - p);
    const char *sp = memchr(p, ' ', left < 8 ? left : 8);
    int m = sp ? known_method(p, (size_t)(sp - p)) : 0;
    if (!m) return 0;
    *head = m == 2;
    const char *t = sp + 1; /* origin-form: '*' and absolute URLs go to llhttp */
    if (t == end || *t != '/') return 0;
    p = skip_to(t, end, 0x21, C_END_TARGET);
    if (p == t || end - p < 11 || memcmp(p, " HTTP/1.1\r\n", 11)) return 0;
    p += 11;
    uint64_t clen = 0;
    int has_clen = 0;
    for (;;) {
        const char *name, *v, *cr;
        size_t nl;
        int f = http_next_field(&p, end, &name, &nl, &v, &cr);
        if (f < 0) return 0;
        if (!f) break;
        switch (nl) {
        case 7:  if (ieq(name, "upgrade", 7)) return 0; break;
        case 10: if (ieq(name, "connection", 10)) return 0; break;
        case 16: if (ieq(name, "proxy-connection", 16)) return 0; break; /* llhttp reads it as Connection */
        case 17: if (ieq(name, "transfer-encoding", 17)) return 0; break;
        case 14:
            if (!ieq(name, "content-length", 14)) break;
            if (has_clen || http_clen_value(v, cr, &clen)) return 0;
            has_clen = 1;
            break;
        }
    }
    if ((uint64_t)(end - p) < clen) return 0;
    *pp = p + clen;
    return 1;
}

typedef struct scan_ctx {
    http_reqs_t *q;
    int rc;             /* -ENOMEM from reqs_add */
    int closed;         /* a complete request closes the connection */
} scan_ctx_t;

static int scan_complete(llhttp_t *p)
{
    scan_ctx_t *x = p->data;
    if (reqs_add(x->q, p->method == HTTP_HEAD)) x->rc = -ENOMEM;
    /* CONNECT and Upgrade are sent as wrk sends them: what follows is the
     * next request, not a tunnel */
    x->closed = !llhttp_should_keep_alive(p) && !p->upgrade;
    return HPE_PAUSED; /* look at what follows each request */
}

int http_scan_requests(http_reqs_t *q, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    q->n = q->nhead = 0;
    while (p < end) {
        int head = 0;
        if (!scan_plain(&p, end, &head)) goto full;
        if (reqs_add(q, head)) return -ENOMEM;
    }
    return q->n ? 0 : -EINVAL;
full: ;
    static const llhttp_settings_t full_settings = { .on_message_complete = scan_complete };
    scan_ctx_t x = { .q = q };
    llhttp_t lp;
    const char *upgraded_at = NULL;
    q->n = q->nhead = 0;
    llhttp_init(&lp, HTTP_REQUEST, &full_settings);
    lp.data = &x;
    p = buf;
    while (p < end) {
        llhttp_errno_t e = llhttp_execute(&lp, p, (size_t)(end - p));
        if (x.rc) return x.rc;
        if (e == HPE_OK) break;
        if (e == HPE_PAUSED_UPGRADE) { /* llhttp stops after a CONNECT/Upgrade head: go on */
            const char *at = llhttp_get_error_pos(&lp);
            if (!at || at < p || (at == p && upgraded_at == p)) return -EINVAL; /* no progress */
            upgraded_at = p = at;
            llhttp_resume_after_upgrade(&lp);
            continue;
        }
        if (e != HPE_PAUSED) return -EINVAL;
        p = llhttp_get_error_pos(&lp);
        llhttp_resume(&lp);
        if (x.closed && p < end) return -EINVAL; /* bytes after a request that closes */
        if (p == end) { /* past the pause */
            e = llhttp_execute(&lp, p, 0);
            if (e == HPE_PAUSED_UPGRADE) { /* a CONNECT/Upgrade last: settle the parser */
                llhttp_resume_after_upgrade(&lp);
                e = llhttp_execute(&lp, p, 0);
            }
            if (e != HPE_OK) return -EINVAL;
        }
    }
    if (lp.finish != HTTP_FINISH_SAFE || !q->n) return -EINVAL; /* a request is cut short */
    return 0;
}
