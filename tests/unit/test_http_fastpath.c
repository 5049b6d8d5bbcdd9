/* Unit tests: http_parse's fast path for simple response heads. Every
 * stream is parsed in every read size with the fast path on (the default)
 * and off (llhttp alone), without and with a capture (scripts): all must
 * record the same responses at the same offsets, the captures the same
 * headers and bodies, and `fast` must have been taken (or not) as each
 * test says. */
#include "http.h"
#include "test.h"

#include <stdint.h>

typedef struct ev {
    size_t at;        /* stream offset where a response ended */
    unsigned status;
    int keep_alive;
    char heads[256];  /* the capture's name\0value\0 block (capture runs) */
    size_t hlen;
    uint32_t nheaders;
    char body[64];
    size_t blen;
    uint64_t body_n;  /* r.body: the body bytes counted for it (taken, as conn.c does) */
} ev_t;

typedef struct tr {
    ev_t ev[16];
    int n;
    int error;        /* a parse error stopped the stream */
    int finish;       /* http_finish at EOF, when no error */
    int fast_used;    /* a response completed without llhttp */
} tr_t;

static void run_as(const char *s, size_t len, size_t step, int pure, int head, int capture, tr_t *t)
{
    http_resp_t r;
    http_capture_t cap = { 0 };
    http_resp_init(&r, capture ? &cap : NULL);
    if (pure) { r.no_fast = 1; r.fast = 0; }
    r.expect_head = (uint8_t)head;
    memset(t, 0, sizeof *t);
    for (size_t off = 0; off < len && !t->error;) {
        size_t chunk = len - off < step ? len - off : step;
        const char *p = s + off;
        off += chunk;
        while (chunk) {
            size_t used;
            int was_fast = r.fast || r.fast_left;
            int rc = http_parse(&r, p, chunk, &used);
            if (rc == HTTP_PARSE_ERROR) { t->error = 1; break; }
            if (rc == HTTP_PARSE_MORE) break;
            /* llhttp is only fed once the fast path has given up on a head */
            if (was_fast && r.parser.status_code != r.status) t->fast_used = 1;
            p += used;
            chunk -= used;
            ASSERT(t->n < 16);
            ev_t *e = &t->ev[t->n++];
            memset(e, 0, sizeof *e);
            e->at = (size_t)(p - s), e->status = r.status, e->keep_alive = r.keep_alive;
            e->body_n = r.body;
            r.body = 0;
            if (capture) {
                ASSERT(cap.hlen <= sizeof e->heads && cap.blen <= sizeof e->body);
                if (cap.hlen) memcpy(e->heads, cap.hbuf, cap.hlen);
                if (cap.blen) memcpy(e->body, cap.body, cap.blen);
                e->hlen = cap.hlen, e->nheaders = cap.nheaders, e->blen = cap.blen;
            }
        }
    }
    if (!t->error) t->finish = http_finish(&r);
    http_capture_free(&cap);
}

static void run(const char *s, size_t len, size_t step, int pure, int head, tr_t *t)
{
    run_as(s, len, step, pure, head, 0, t);
}

/* Both ways, every read size: the same trace. Returns the fast one (whole reads). */
static tr_t check(const char *s, int head)
{
    size_t len = strlen(s);
    tr_t a, b, whole;
    for (size_t step = 1; step <= len; step++) {
        run(s, len, step, 0, head, &a);
        run(s, len, step, 1, head, &b);
        ASSERT_EQ_INT(a.n, b.n);
        ASSERT_EQ_INT(a.error, b.error);
        ASSERT_EQ_INT(a.finish, b.finish);
        for (int i = 0; i < a.n; i++) {
            ASSERT_EQ_U64(a.ev[i].at, b.ev[i].at);
            ASSERT_EQ_INT(a.ev[i].status, b.ev[i].status);
            ASSERT_EQ_INT(a.ev[i].keep_alive, b.ev[i].keep_alive);
            ASSERT_EQ_U64(a.ev[i].body_n, b.ev[i].body_n);
        }
        ASSERT(!b.fast_used);
        /* with a capture: the same responses, headers and bodies both ways */
        tr_t ca, cb;
        run_as(s, len, step, 0, head, 1, &ca);
        run_as(s, len, step, 1, head, 1, &cb);
        ASSERT_EQ_INT(ca.n, a.n);
        ASSERT_EQ_INT(ca.n, cb.n);
        ASSERT_EQ_INT(ca.error, cb.error);
        ASSERT(ca.fast_used <= a.fast_used); /* a capture may leave more heads to llhttp, never fewer */
        for (int i = 0; i < ca.n; i++) {
            ASSERT_EQ_U64(ca.ev[i].at, cb.ev[i].at);
            ASSERT_EQ_INT(ca.ev[i].status, cb.ev[i].status);
            ASSERT_EQ_INT(ca.ev[i].nheaders, cb.ev[i].nheaders);
            ASSERT_EQ_U64(ca.ev[i].hlen, cb.ev[i].hlen);
            ASSERT(!memcmp(ca.ev[i].heads, cb.ev[i].heads, ca.ev[i].hlen));
            ASSERT_EQ_U64(ca.ev[i].blen, cb.ev[i].blen);
            ASSERT_EQ_U64(ca.ev[i].body_n, ca.ev[i].blen); /* the bytes counted are the bytes kept */
            ASSERT_EQ_U64(ca.ev[i].body_n, a.ev[i].body_n);
            ASSERT(!memcmp(ca.ev[i].body, cb.ev[i].body, ca.ev[i].blen));
        }
    }
    run(s, len, len, 0, head, &whole);
    return whole;
}

#define NGINX(st, reason, cl, body) "HTTP/1.1 " st " " reason "\r\nServer: nginx/1.22.1\r\n" \
    "Date: Wed, 02 Dec 2026 01:42:20 GMT\r\nContent-Type: text/plain\r\n"                  \
    "Content-Length: " cl "\r\nConnection: keep-alive\r\n\r\n" body

TEST(http_fastpath_takes_nginx_responses)
{
    const char *s = NGINX("200", "OK", "3", "ok\n") NGINX("404", "Not Found", "0", "")
                    NGINX("503", "Service Unavailable", "5", "busy!");
    tr_t t = check(s, 0);
    ASSERT_EQ_INT(t.n, 3);
    ASSERT_EQ_INT(t.ev[0].status, 200);
    ASSERT_EQ_INT(t.ev[1].status, 404);
    ASSERT_EQ_INT(t.ev[2].status, 503);
    ASSERT_EQ_U64(t.ev[2].at, strlen(s));
    ASSERT_EQ_INT(t.ev[2].keep_alive, 1);
    ASSERT_EQ_INT(t.finish, HTTP_PARSE_MORE);
    ASSERT(t.fast_used);
}

TEST(http_fastpath_skips_a_body_across_reads)
{
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
                    "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx";
    http_resp_t r;
    http_resp_init(&r, NULL);
    size_t used, head = strlen("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    ASSERT_EQ_INT(http_parse(&r, s, head + 4, &used), HTTP_PARSE_MORE);
    ASSERT_EQ_U64(used, head + 4);
    ASSERT_EQ_U64(r.fast_left, 6);
    ASSERT(r.in_message);
    ASSERT_EQ_INT(http_parse(&r, s + head + 4, strlen(s) - head - 4, &used), HTTP_PARSE_COMPLETE);
    ASSERT_EQ_U64(used, 6);
    ASSERT_EQ_INT(r.status, 200);
    check(s, 0);
}

TEST(http_fastpath_eof_inside_a_body_is_an_error)
{
    tr_t t = check("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", 0);
    ASSERT_EQ_INT(t.n, 0);
    ASSERT_EQ_INT(t.finish, HTTP_PARSE_ERROR);
}

TEST(http_fastpath_keep_alive_rules)
{
    /* HTTP/1.0 with keep-alive, then without (EOF ends nothing: it closes) */
    tr_t t = check("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi"
                   "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0);
    ASSERT_EQ_INT(t.n, 2);
    ASSERT_EQ_INT(t.ev[0].keep_alive, 1);
    ASSERT_EQ_INT(t.ev[1].keep_alive, 0);
    /* Connection: close goes to llhttp, and what follows is an error */
    t = check("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
              "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
    ASSERT(t.n >= 2);
    ASSERT_EQ_INT(t.ev[1].keep_alive, 0);
    /* Connection lists, Proxy-Connection: llhttp's reading */
    t = check("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", 0);
    ASSERT_EQ_INT(t.ev[0].keep_alive, 0);
    t = check("HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 0\r\n\r\n", 0);
    ASSERT_EQ_INT(t.ev[0].keep_alive, 0);
}

TEST(http_fastpath_leaves_special_framing_to_llhttp)
{
    static const char *const cases[] = {
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1 \r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\t\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\nuntil EOF",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\n\n",
        "HTTP/1.1 200 OK\r\nX: \x01\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 \xff\tOK\r\nX: \xfe\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 999 High\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        "HTTP/1.1 200 OK\r\nconnection: KEEP-ALIVE\r\ncontent-length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection:   keep-alive\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive \r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check(cases[i], 0);
}

TEST(http_fastpath_head_responses_have_no_body)
{
    /* a response to HEAD ends at its head whatever Content-Length says */
    tr_t t = check("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 1);
    ASSERT_EQ_INT(t.n, 2);
    ASSERT_EQ_U64(t.ev[0].at, strlen("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
}

TEST(http_fastpath_fills_a_capture_as_llhttp_does)
{
    http_capture_t cap = { 0 };
    http_resp_t r;
    http_resp_init(&r, &cap);
    ASSERT(r.fast);
    const char *s = "HTTP/1.1 200 OK\r\nX-A:  b c\r\nSet-Cookie: s=1; Path=/\r\nContent-Length: 2\r\n\r\nhi";
    size_t used;
    ASSERT_EQ_INT(http_parse(&r, s, strlen(s), &used), HTTP_PARSE_COMPLETE);
    ASSERT_EQ_U64(used, strlen(s));
    ASSERT(r.fast); /* taken: llhttp never saw it */
    ASSERT_EQ_INT(cap.nheaders, 3);
    const char want[] = "X-A\0b c\0Set-Cookie\0s=1; Path=/\0Content-Length\0" "2";
    ASSERT_EQ_U64(cap.hlen, sizeof want);
    ASSERT(!memcmp(cap.hbuf, want, sizeof want));
    ASSERT_EQ_U64(cap.blen, 2);
    ASSERT(!memcmp(cap.body, "hi", 2));
    http_capture_free(&cap);
    /* the forms it leaves to llhttp give the same capture (check() compares) */
    check("HTTP/1.1 200 OK\r\nX-Trailing: v \r\nContent-Length: 1\r\n\r\nx"
          "HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 1\r\n\r\ny"
          "HTTP/1.1 200 OK\r\nX-Tab:\tv\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.1 200 OK\r\nA: 1\r\nA: 2\r\nContent-Length: 3\r\n\r\nabc", 0);
}
