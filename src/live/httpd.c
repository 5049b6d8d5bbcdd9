/* httpd.c - the embedded HTTP/1.1 server (see httpd.h).
 *
 * One thread polls the listener, a wake-up pipe and every connection. Input
 * is the thread's alone; output buffers, the stream flags and the published
 * bodies are shared with httpd_broadcast/httpd_publish callers, so they are
 * touched only under `mu` (the thread never holds it across a handler or a
 * poll, and a send on a non-blocking socket does not wait). */
#define _GNU_SOURCE
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#define IN_CAP (HTTPD_MAX_HEAD + HTTPD_MAX_BODY + 1)

typedef struct hconn {
    int fd;               /* -1: a free slot */
    char *in;             /* IN_CAP bytes (thread only) */
    size_t in_len;
    uint64_t last_ms;     /* accepted, or last complete request */
    /* under mu: */
    char *out;            /* unsent bytes are out[out_off..out_len) */
    size_t out_len, out_off, out_cap;
    int sse;              /* an event stream */
    int closing;          /* close once out is sent */
    int dead;             /* close now (a dropped slow stream) */
} hconn_t;

typedef struct route {
    char *path;
    httpd_handler_t fn;   /* NULL: a published path */
    void *ctx;
    const char *ctype;    /* published: */
    char *body;           /* under mu */
    size_t len;
    int has;
} route_t;

struct httpd {
    int lfd, port, loopback;
    char url[96];
    int wake[2];
    pthread_t tid;
    int started, stop;    /* stop: __atomic */
    pthread_mutex_t mu;
    route_t routes[HTTPD_MAX_ROUTES];
    int nroutes;
    hconn_t conns[HTTPD_MAX_CONNS];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
    return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : 0;
}

/* ---- set-up ---- */

/* Split "[ADDR:]PORT" into host and port. 0 or -1. */
static int split_spec(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(spec, ':'), *p = spec;
    if (!colon) { snprintf(host, hostlen, "127.0.0.1"); }
    else if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close + 1 != colon || close - spec - 1 <= 0 || (size_t)(close - spec) > hostlen) return -1;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = 0;
        p = colon + 1;
    } else {
        if (colon == spec || (size_t)(colon - spec) >= hostlen || memchr(spec, ':', (size_t)(colon - spec))) return -1;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = 0;
        p = colon + 1;
    }
    size_t n = strlen(p);
    if (!n || n > 5 || n >= portlen || strspn(p, "0123456789") != n || atoi(p) > 65535) return -1;
    memcpy(port, p, n + 1);
    return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) ||
               (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

int httpd_new(httpd_t **out, const char *spec, const char *what, char *err, size_t errlen)
{
    *out = NULL;
    char host[256], port[8];
    if (split_spec(spec, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "%s: '%s' is not [ADDR:]PORT: give a port (9100, 0 for a free one) "
                 "or an address and a port (127.0.0.1:9100, [::1]:9100)", what, spec);
        return -1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "%s: cannot resolve '%s': %s (give a numeric address such as 127.0.0.1)",
                 what, host, gai_strerror(rc));
        return -1;
    }
    httpd_t *h = calloc(1, sizeof *h);
    if (!h) { freeaddrinfo(res); snprintf(err, errlen, "out of memory"); return -1; }
    h->lfd = h->wake[0] = h->wake[1] = -1;
    for (int i = 0; i < HTTPD_MAX_CONNS; i++) h->conns[i].fd = -1;
    pthread_mutex_init(&h->mu, NULL);
    int e = 0;
    for (struct addrinfo *ai = res; ai && h->lfd < 0; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) { e = errno; continue; }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64) || set_flags(fd)) {
            e = errno;
            close(fd);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        char text[INET6_ADDRSTRLEN] = "?";
        if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof text);
            h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(h->url, sizeof h->url, "http://[%s]:%d", text, h->port);
        } else {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof text);
            h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            snprintf(h->url, sizeof h->url, "http://%s:%d", text, h->port);
        }
        h->loopback = is_loopback((struct sockaddr *)&ss);
        h->lfd = fd;
    }
    freeaddrinfo(res);
    if (h->lfd < 0) {
        snprintf(err, errlen, "%s: cannot listen on %s: %s (%s)", what, spec, strerror(e),
                 e == EADDRINUSE ? "pick another port, or 0 for a free one"
                 : e == EACCES ? "ports below 1024 need privileges: pick a higher one"
                 : "check the address: it must be one of this machine's");
        httpd_free(h);
        return -1;
    }
    if (pipe(h->wake) || set_flags(h->wake[0]) || set_flags(h->wake[1])) {
        snprintf(err, errlen, "%s: cannot create a pipe: %s", what, strerror(errno));
        httpd_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

static route_t *add_route(httpd_t *h, const char *path, int *rc)
{
    if (__atomic_load_n(&h->started, __ATOMIC_ACQUIRE)) { *rc = -EBUSY; return NULL; }
    if (h->nroutes >= HTTPD_MAX_ROUTES) { *rc = -ENOSPC; return NULL; }
    route_t *r = &h->routes[h->nroutes];
    if (!(r->path = strdup(path))) { *rc = -ENOMEM; return NULL; }
    h->nroutes++;
    *rc = 0;
    return r;
}

int httpd_route(httpd_t *h, const char *prefix, httpd_handler_t fn, void *ctx)
{
    int rc;
    route_t *r = add_route(h, prefix, &rc);
    if (r) { r->fn = fn; r->ctx = ctx; }
    return rc;
}

int httpd_publish(httpd_t *h, const char *path, const char *content_type, const char *body, size_t len)
{
    route_t *r = NULL;
    for (int i = 0; i < h->nroutes && !r; i++)
        if (!h->routes[i].fn && !strcmp(h->routes[i].path, path)) r = &h->routes[i];
    int rc = 0;
    if (!r && !(r = add_route(h, path, &rc))) return rc;
    char *copy = malloc(len + 1);
    if (!copy) return -ENOMEM;
    memcpy(copy, body, len);
    copy[len] = 0;
    pthread_mutex_lock(&h->mu);
    r->ctype = content_type;
    free(r->body);
    r->body = copy;
    r->len = len;
    r->has = 1;
    pthread_mutex_unlock(&h->mu);
    return 0;
}

int httpd_port(const httpd_t *h) { return h->port; }
const char *httpd_url(const httpd_t *h) { return h->url; }
int httpd_loopback(const httpd_t *h) { return h->loopback; }

static void wake(httpd_t *h)
{
    char b = 1;
    ssize_t w = write(h->wake[1], &b, 1); /* a full pipe is awake already */
    (void)w;
}

/* ---- output (under mu) ---- */

static int out_append(hconn_t *c, const char *p, size_t n)
{
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n) cap *= 2;
        if (cap != c->out_cap) {
            char *nb = realloc(c->out, cap);
            if (!nb) return -ENOMEM;
            c->out = nb;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

static void conn_close(hconn_t *c)
{
    if (c->fd >= 0) close(c->fd);
    free(c->in);
    free(c->out);
    *c = (hconn_t){ .fd = -1 };
}

/* Send what c holds; returns -1 when c is to be closed. */
static int conn_flush(hconn_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (w <= 0) return -1;
        c->out_off += (size_t)w;
    }
    return c->closing ? -1 : 0;
}

int httpd_broadcast(httpd_t *h, const char *event, const char *data, size_t len)
{
    /* the event's text once: "event: E\n" "data: line\n"... "\n" */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += data[i] == '\n';
    size_t cap = (event ? strlen(event) + 8 : 0) + len + lines * 7 + 2;
    char *ev = malloc(cap), *p = ev;
    if (!ev) return 0;
    if (event) p += sprintf(p, "event: %s\n", event);
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i < len && data[i] != '\n') continue;
        size_t n = i - start;
        if (n && data[start + n - 1] == '\r') n--;
        memcpy(p, "data: ", 6);
        memcpy(p + 6, data + start, n);
        p += 6 + n;
        *p++ = '\n';
        start = i + 1;
    }
    *p++ = '\n';
    size_t evlen = (size_t)(p - ev);
    int sent = 0;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HTTPD_MAX_CONNS; i++) {
        hconn_t *c = &h->conns[i];
        if (c->fd < 0 || !c->sse || c->dead) continue;
        if (c->out_len - c->out_off + evlen > HTTPD_STREAM_QUEUE || out_append(c, ev, evlen)) c->dead = 1;
        else sent++;
    }
    pthread_mutex_unlock(&h->mu);
    free(ev);
    wake(h);
    return sent;
}

int httpd_streams(httpd_t *h)
{
    int n = 0;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HTTPD_MAX_CONNS; i++) n += h->conns[i].fd >= 0 && h->conns[i].sse && !h->conns[i].dead;
    pthread_mutex_unlock(&h->mu);
    return n;
}

size_t httpd_unsent(httpd_t *h)
{
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HTTPD_MAX_CONNS; i++)
        if (h->conns[i].fd >= 0 && h->conns[i].sse && !h->conns[i].dead) n += h->conns[i].out_len - h->conns[i].out_off;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* ---- requests (the thread) ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 302: return "Found";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* Queue one response on c (locks mu). */
static void respond(httpd_t *h, hconn_t *c, int status, const char *ctype, const char *body, size_t len,
                    int head_only, int sse)
{
    char hdr[512];
    int n;
    if (strlen(ctype ? ctype : "") > 200) ctype = NULL;
    if (sse)
        n = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n");
    else
        n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n%s\r\n", status, reason(status),
                     ctype ? ctype : "text/plain; charset=utf-8", len, c->closing ? "Connection: close\r\n" : "");
    pthread_mutex_lock(&h->mu);
    if (out_append(c, hdr, (size_t)n) || (!head_only && len && out_append(c, body, len))) c->dead = 1;
    if (sse) c->sse = 1;
    pthread_mutex_unlock(&h->mu);
}

static void respond_error(httpd_t *h, hconn_t *c, int status, const char *msg)
{
    c->closing = status == 400 || status == 411 || status == 413 || status == 431 ? 1 : c->closing;
    respond(h, c, status, NULL, msg, strlen(msg), 0, 0);
}

/* The value of header `name` in the head [p, end) (lines end in \r\n), as a
 * pointer and length, or NULL. */
static const char *header(const char *p, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; v && i + tl <= n; i++)
        if (!strncasecmp(v + i, tok, tl)) return 1;
    return 0;
}

static const route_t *find_route(const httpd_t *h, const char *path)
{
    const route_t *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < h->nroutes; i++) {
        const route_t *r = &h->routes[i];
        size_t n = strlen(r->path);
        int match = r->fn && !(n == 1 && r->path[0] == '/') ? !strncmp(path, r->path, n) : !strcmp(path, r->path);
        if (match && (!best || n > best_len)) { best = r; best_len = n; }
    }
    return best;
}

static void dispatch(httpd_t *h, hconn_t *c, httpd_request_t *rq)
{
    int head_only = !strcmp(rq->method, "HEAD");
    const route_t *r = find_route(h, rq->path);
    if (!r) { respond_error(h, c, 404, "not found\n"); return; }
    if (!r->fn) {
        if (strcmp(rq->method, "GET") && !head_only) { respond_error(h, c, 405, "GET only\n"); return; }
        pthread_mutex_lock(&h->mu);
        char *copy = r->has ? malloc(r->len + 1) : NULL;
        size_t len = r->len;
        const char *ctype = r->ctype;
        if (copy) memcpy(copy, r->body, len);
        pthread_mutex_unlock(&h->mu);
        if (copy) respond(h, c, 200, ctype, copy, len, head_only, 0);
        else respond_error(h, c, 503, "not ready yet: the first update comes within a second\n");
        free(copy);
        return;
    }
    httpd_response_t res = { .status = 200 };
    r->fn(r->ctx, rq, &res);
    respond(h, c, res.status, res.content_type, res.body ? res.body : "", res.body ? res.body_len : 0,
            head_only, res.sse);
    free(res.body);
}

/* Take every complete request in c->in. Returns -1 when c is to be closed. */
static int conn_requests(httpd_t *h, hconn_t *c)
{
    for (;;) {
        if (c->sse) { c->in_len = 0; return 0; } /* a stream's input is ignored */
        if (c->closing) return 0;
        char *in = c->in, *end = NULL;
        for (size_t i = 3; i < c->in_len && i < HTTPD_MAX_HEAD; i++)
            if (in[i] == '\n' && in[i - 1] == '\r' && in[i - 2] == '\n' && in[i - 3] == '\r') { end = in + i + 1; break; }
        if (!end) {
            if (c->in_len >= HTTPD_MAX_HEAD) respond_error(h, c, 431, "request head too large\n");
            return 0;
        }
        size_t head_len = (size_t)(end - in);
        char *line_end = memchr(in, '\r', head_len);
        *line_end = 0;
        char *sp1 = strchr(in, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2 || sp1 == in || sp2 == sp1 + 1 || sp1[1] != '/' || strncmp(sp2 + 1, "HTTP/1.", 7)) {
            respond_error(h, c, 400, "malformed request line\n");
            return 0;
        }
        *sp1 = *sp2 = 0;
        int http10 = !strcmp(sp2 + 1, "HTTP/1.0");
        const char *hs = line_end + 1;
        size_t vl = 0;
        const char *v = header(hs, end, "Connection", &vl);
        int close_after = has_token(v, vl, "close") || (http10 && !has_token(v, vl, "keep-alive"));
        if (header(hs, end, "Transfer-Encoding", &vl)) { respond_error(h, c, 411, "send a Content-Length\n"); return 0; }
        size_t body_len = 0;
        if ((v = header(hs, end, "Content-Length", &vl))) {
            char num[24];
            if (!vl || vl >= sizeof num || strspn(v, "0123456789") < vl) {
                respond_error(h, c, 400, "bad Content-Length\n");
                return 0;
            }
            memcpy(num, v, vl);
            num[vl] = 0;
            unsigned long long cl = strtoull(num, NULL, 10);
            if (cl > HTTPD_MAX_BODY) { respond_error(h, c, 413, "request body too large\n"); return 0; }
            body_len = (size_t)cl;
        }
        if (head_len + body_len > c->in_len) { *sp1 = ' '; *sp2 = ' '; *line_end = '\r'; return 0; }
        if (close_after) c->closing = 2;
        const char *ct = header(hs, end, "Content-Type", &vl);
        char ctype[128] = "";
        if (ct) snprintf(ctype, sizeof ctype, "%.*s", (int)vl, ct);
        char *body = malloc(body_len + 1);
        if (!body) return -1;
        memcpy(body, end, body_len);
        body[body_len] = 0;
        char *q = strchr(sp1 + 1, '?');
        if (q) *q++ = 0;
        httpd_request_t rq = { .method = in, .path = sp1 + 1, .query = q ? q : "", .content_type = ctype,
                               .body = body, .body_len = body_len };
        c->last_ms = now_ms();
        if (strcmp(in, "GET") && strcmp(in, "HEAD") && strcmp(in, "POST"))
            respond_error(h, c, 405, "GET, HEAD or POST only\n");
        else
            dispatch(h, c, &rq);
        free(body);
        size_t used = head_len + body_len;
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
    }
}

static void conn_accept(httpd_t *h)
{
    for (;;) {
        int fd = accept(h->lfd, NULL, NULL);
        if (fd < 0) return; /* EAGAIN, or a transient error: poll again */
        int slot = -1;
        for (int i = 0; i < HTTPD_MAX_CONNS && slot < 0; i++) if (h->conns[i].fd < 0) slot = i;
        char *in = slot >= 0 ? malloc(IN_CAP) : NULL;
        if (!in || set_flags(fd)) { free(in); close(fd); continue; }
        pthread_mutex_lock(&h->mu);
        h->conns[slot] = (hconn_t){ .fd = fd, .in = in, .last_ms = now_ms() };
        pthread_mutex_unlock(&h->mu);
    }
}

/* Read what c has; returns -1 when c is to be closed. */
static int conn_read(httpd_t *h, hconn_t *c)
{
    for (;;) {
        size_t room = IN_CAP - c->in_len;
        if (!room) { if (c->sse) c->in_len = 0; else return 0; } /* full: wait for the reply */
        ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (r < 0) return -1;
        if (r == 0) { c->closing = 1; return 0; } /* answer what came, then close */
        c->in_len += (size_t)r;
        if (conn_requests(h, c)) return -1;
    }
}

static void *serve(void *arg)
{
    httpd_t *h = arg;
    struct pollfd p[HTTPD_MAX_CONNS + 2];
    int idx[HTTPD_MAX_CONNS + 2];
    while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
        int n = 0;
        p[n++] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
        p[n++] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
        pthread_mutex_lock(&h->mu);
        for (int i = 0; i < HTTPD_MAX_CONNS; i++) {
            hconn_t *c = &h->conns[i];
            if (c->fd < 0) continue;
            idx[n] = i;
            p[n++] = (struct pollfd){ .fd = c->fd,
                                      .events = (short)((c->closing ? 0 : POLLIN) | (c->out_off < c->out_len ? POLLOUT : 0)) };
        }
        pthread_mutex_unlock(&h->mu);
        int ready = poll(p, (nfds_t)n, 1000);
        if (ready < 0 && errno != EINTR) break;
        if (p[0].revents & POLLIN) {
            char buf[256];
            while (read(h->wake[0], buf, sizeof buf) > 0) {}
        }
        for (int k = 2; ready > 0 && k < n; k++) {
            hconn_t *c = &h->conns[idx[k]];
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (conn_read(h, c)) { pthread_mutex_lock(&h->mu); c->dead = 1; pthread_mutex_unlock(&h->mu); }
        }
        if (ready > 0 && (p[1].revents & POLLIN)) conn_accept(h);
        uint64_t now = now_ms();
        pthread_mutex_lock(&h->mu);
        for (int i = 0; i < HTTPD_MAX_CONNS; i++) {
            hconn_t *c = &h->conns[i];
            if (c->fd < 0) continue;
            int idle = !c->sse && c->out_off == c->out_len && now - c->last_ms > HTTPD_IDLE_MS;
            if (c->dead || idle || conn_flush(c)) conn_close(c);
        }
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

int httpd_start(httpd_t *h)
{
    int rc = pthread_create(&h->tid, NULL, serve, h);
    if (rc) return -rc;
    __atomic_store_n(&h->started, 1, __ATOMIC_RELEASE);
    return 0;
}

void httpd_free(httpd_t *h)
{
    if (!h) return;
    if (__atomic_load_n(&h->started, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
        wake(h);
        pthread_join(h->tid, NULL);
    }
    for (int i = 0; i < HTTPD_MAX_CONNS; i++) conn_close(&h->conns[i]);
    for (int i = 0; i < h->nroutes; i++) { free(h->routes[i].path); free(h->routes[i].body); }
    if (h->lfd >= 0) close(h->lfd);
    if (h->wake[0] >= 0) close(h->wake[0]);
    if (h->wake[1] >= 0) close(h->wake[1]);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
