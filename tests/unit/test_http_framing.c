/* Unit tests: where responses end (1xx/204/304/HEAD), chunk-size lines with
 * extensions in every split, and the request-string scan. */
#include "http.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>

/* Parse s in reads of `step` bytes; the statuses of the completed responses
 * into st (up to max). Returns the count, -1 on a parse error. */
static int run(http_resp_t *r, const char *s, size_t len, size_t step, int *st, int max)
{
    int n = 0;
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < step ? len - off : step;
        const char *p = s + off;
        off += chunk;
        while (chunk) {
            size_t used;
            int rc = http_parse(r, p, chunk, &used);
            if (rc == HTTP_PARSE_ERROR) return -1;
            if (rc == HTTP_PARSE_MORE) break;
            if (n < max) st[n] = r->status;
            n++;
            p += used;
            chunk -= used;
        }
    }
    return n;
}

TEST(http_bodiless_statuses_end_at_their_headers)
{
    const char *s = "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
                    "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (size_t step = 1; step <= strlen(s); step++) {
        http_resp_t r;
        http_resp_init(&r, NULL);
        int st[4];
        ASSERT_EQ_INT(run(&r, s, strlen(s), step, st, 4), 3);
        ASSERT_EQ_INT(st[0], 304);
        ASSERT_EQ_INT(st[1], 204);
        ASSERT_EQ_INT(st[2], 200);
    }
}

TEST(http_chunk_extensions_in_every_split)
{
    const char *ok[] = { "5", "5;a", "5;a=b;c=d", "5;a=\"x y\"", "5 ; a=b", "5;a = b", "5\t;\ta\t=\tb",
                         "5;a=\"x\\\"y\";b", "5;a=\"\"", "05;a;b;c" };
    const char *bad[] = { "5;", "5;=b", "5;a=", "5 ", "5;a=b ", "5;a=\"x", "5;a b", ";a", "g", "5\n" };
    char buf[256];
    for (size_t i = 0; i < sizeof ok / sizeof *ok + sizeof bad / sizeof *bad; i++) {
        int good = i < sizeof ok / sizeof *ok;
        const char *line = good ? ok[i] : bad[i - sizeof ok / sizeof *ok];
        int len = snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                            "%s\r\nhello\r\n0;z=1\r\nX-T: 1\r\n\r\n", line);
        for (size_t step = 1; step <= (size_t)len; step++) {
            http_capture_t cap = { 0 };
            http_resp_t r;
            http_resp_init(&r, &cap);
            int st[1];
            int n = run(&r, buf, (size_t)len, step, st, 1);
            if (good) {
                ASSERT_EQ_INT(n, 1);
                ASSERT_EQ_INT(cap.blen, 5);
                ASSERT(!memcmp(cap.body, "hello", 5));
            } else {
                ASSERT_EQ_INT(n, -1);
                ASSERT(http_error_reason(&r) != NULL);
            }
            http_capture_free(&cap);
        }
    }
}

TEST(http_scan_requests_counts_and_heads)
{
    http_reqs_t q = { 0 };
    const char *three = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\n\r\n"
                        "POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    ASSERT_EQ_INT(http_scan_requests(&q, three, strlen(three)), 0);
    ASSERT_EQ_INT(q.n, 3);
    ASSERT_EQ_INT(q.nhead, 1);
    ASSERT(!http_is_head(q.head, 0) && http_is_head(q.head, 1) && !http_is_head(q.head, 2));
    /* the llhttp path (chunked body) finds the same */
    const char *chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                          "HEAD / HTTP/1.1\r\n\r\n";
    ASSERT_EQ_INT(http_scan_requests(&q, chunked, strlen(chunked)), 0);
    ASSERT_EQ_INT(q.n, 2);
    ASSERT(!http_is_head(q.head, 0) && http_is_head(q.head, 1));
    /* 70 requests, every 7th HEAD: bits beyond the first bytes, stale bits cleared */
    char *many = malloc(70 * 24);
    size_t len = 0;
    for (int i = 0; i < 70; i++)
        len += (size_t)sprintf(many + len, "%s / HTTP/1.1\r\n\r\n", i % 7 == 3 ? "HEAD" : "GET");
    ASSERT_EQ_INT(http_scan_requests(&q, many, len), 0);
    ASSERT_EQ_INT(q.n, 70);
    ASSERT_EQ_INT(q.nhead, 10);
    for (uint32_t i = 0; i < 70; i++) ASSERT_EQ_INT(http_is_head(q.head, i), i % 7 == 3);
    free(many);
    const char *bad[] = { "", "garbage\r\n\r\n", "GET / HTTP/1.1\r\n", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc",
                          "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n", "FOO / HTTP/1.1\r\n\r\n" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ASSERT_EQ_INT(http_scan_requests(&q, bad[i], strlen(bad[i])), -EINVAL);
    /* the one-pass scan agrees with llhttp wherever llhttp accepts */
    const char *same[] = { "GET /x?y=1#f HTTP/1.1\r\nA: b\r\nC:d\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n",
                           "DELETE /d HTTP/1.1\r\nContent-Length:  0 \r\n\r\nPUT /p HTTP/1.1\r\n\r\n",
                           "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\n\r\n" };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        ASSERT_EQ_INT(http_scan_requests(&q, same[i], strlen(same[i])), 0);
        ASSERT_EQ_INT((int)q.n, http_count_requests(same[i], strlen(same[i])));
    }
    http_reqs_free(&q);
}

TEST(http_scan_connect_and_upgrade_are_counted_like_other_requests)
{
    /* wrk sends any method; llhttp stops after a CONNECT or Upgrade head,
     * the scan goes on: alone, last, or between others */
    const char *ok[] = {
        "CONNECT /p HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /b HTTP/1.1\r\nHost: x\r\n\r\nCONNECT /a HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    };
    uint32_t want[] = { 1, 2, 2, 2 };
    for (size_t i = 0; i < 4; i++) {
        http_reqs_t q = { 0 };
        ASSERT_EQ_INT(http_scan_requests(&q, ok[i], strlen(ok[i])), 0);
        ASSERT_EQ_INT(q.n, want[i]);
        http_reqs_free(&q);
    }
    http_reqs_t q = { 0 };
    const char *cut = "CONNECT /a HTTP/1.1\r\nHost: x\r\n";
    ASSERT(http_scan_requests(&q, cut, strlen(cut)) < 0);
    http_reqs_free(&q);
}

TEST(http_scan_proxy_connection_close_ends_the_string_as_llhttp_says)
{
    /* llhttp treats Proxy-Connection like Connection: a request after one
     * that closes the connection is not a valid request string */
    const char *s = "GET /a HTTP/1.1\r\nProxy-Connection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    http_reqs_t q = { 0 };
    ASSERT(http_scan_requests(&q, s, strlen(s)) < 0);
    const char *last = "GET /b HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\nProxy-Connection: close\r\n\r\n";
    ASSERT_EQ_INT(http_scan_requests(&q, last, strlen(last)), 0);
    ASSERT_EQ_INT(q.n, 2);
    http_reqs_free(&q);
}
