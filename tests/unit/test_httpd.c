/* test_httpd.c - the embedded HTTP server (httpd.h) over real loopback
 * sockets: routes, published bodies, keep-alive, limits, event streams and
 * the dropping of a slow stream, bind errors. Reads have a timeout
 * (SO_RCVTIMEO), so a broken server fails a test instead of hanging it. */
#define _GNU_SOURCE
#include "test.h"
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    struct timeval tv = { .tv_sec = 3 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    ASSERT(send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n);
}

/* Read until `until` appears in what was read (or EOF/timeout); returns
 * the bytes so far in buf (NUL-terminated). */
static size_t get_until(int fd, char *buf, size_t cap, const char *until)
{
    size_t len = 0;
    buf[0] = 0;
    while (len + 1 < cap && (!until || !strstr(buf, until))) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = 0;
    }
    return len;
}

/* One complete response: head, then Content-Length bytes of body. */
static void get_response(int fd, char *buf, size_t cap)
{
    size_t len = get_until(fd, buf, cap, "\r\n\r\n");
    char *end = strstr(buf, "\r\n\r\n");
    ASSERT(end);
    char *cl = strcasestr(buf, "Content-Length: ");
    ASSERT(cl && cl < end);
    size_t want = (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10);
    while (len < want && len + 1 < cap) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        ASSERT(r > 0);
        len += (size_t)r;
        buf[len] = 0;
    }
    ASSERT_EQ_U64(len, want);
}

static int echo(void *ctx, const httpd_request_t *rq, httpd_response_t *res)
{
    (void)ctx;
    char tmp[256];
    int n = snprintf(tmp, sizeof tmp, "%s %s ?%s [%s] %zu:%s", rq->method, rq->path, rq->query,
                     rq->content_type, rq->body_len, rq->body);
    res->body = strdup(tmp);
    res->body_len = (size_t)n;
    res->status = !strcmp(rq->method, "POST") ? 201 : 200;
    res->content_type = "text/x-echo";
    return 0;
}

static int stream(void *ctx, const httpd_request_t *rq, httpd_response_t *res)
{
    (void)ctx; (void)rq;
    res->sse = 1;
    res->body = strdup("retry: 1000\n\n");
    res->body_len = strlen(res->body);
    return 0;
}

static httpd_t *server(void)
{
    httpd_t *h;
    char err[256];
    ASSERT(httpd_new(&h, "0", "--test", err, sizeof err) == 0);
    ASSERT(httpd_port(h) > 0);
    ASSERT(httpd_loopback(h));
    ASSERT(httpd_route(h, "/echo", echo, NULL) == 0);
    ASSERT(httpd_route(h, "/events", stream, NULL) == 0);
    ASSERT(httpd_publish(h, "/metrics", "text/plain; version=0.0.4", "a 1\n", 4) == 0);
    ASSERT(httpd_start(h) == 0);
    ASSERT(httpd_route(h, "/late", echo, NULL) == -EBUSY);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", httpd_port(h));
    ASSERT_EQ_STR(httpd_url(h), url);
    return h;
}

TEST(httpd_routes_and_keepalive)
{
    httpd_t *h = server();
    int fd = dial(httpd_port(h));
    char buf[8192];
    put(fd, "GET /echo/x?a=1&b=2 HTTP/1.1\r\nHost: x\r\n\r\n");
    get_response(fd, buf, sizeof buf);
    ASSERT(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
    ASSERT(strstr(buf, "Content-Type: text/x-echo\r\n"));
    ASSERT(strstr(buf, "\r\n\r\nGET /echo/x ?a=1&b=2 [] 0:"));
    /* the same connection: a POST with a body, then two pipelined GETs */
    put(fd, "POST /echo HTTP/1.1\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}");
    get_response(fd, buf, sizeof buf);
    ASSERT(!strncmp(buf, "HTTP/1.1 201 Created\r\n", 22));
    ASSERT(strstr(buf, "\r\n\r\nPOST /echo ? [application/json] 7:{\"a\":1}"));
    put(fd, "GET /metrics HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n");
    get_until(fd, buf, sizeof buf, "not found\n");
    ASSERT(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
    ASSERT(strstr(buf, "Content-Type: text/plain; version=0.0.4\r\n"));
    char *second = strstr(buf, "\r\n\r\na 1\nHTTP/1.1 404 Not Found\r\n");
    ASSERT(second);
    ASSERT(!strcmp(second + strlen(second) - 14, "\r\n\r\nnot found\n"));
    /* a new body replaces the old one */
    ASSERT(httpd_publish(h, "/metrics", "text/plain; version=0.0.4", "a 2\nb 3\n", 8) == 0);
    put(fd, "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
    get_response(fd, buf, sizeof buf);
    ASSERT(strstr(buf, "Connection: close\r\n"));
    ASSERT(strstr(buf, "\r\n\r\na 2\nb 3\n"));
    ASSERT(recv(fd, buf, sizeof buf, 0) == 0); /* closed after it */
    close(fd);
    /* HEAD: the head only; PUT: 405; a request split over many sends */
    fd = dial(httpd_port(h));
    put(fd, "HEAD /metrics HTTP/1.1\r\n\r\n");
    size_t n = get_until(fd, buf, sizeof buf, "\r\n\r\n");
    ASSERT(strstr(buf, "Content-Length: 8\r\n"));
    ASSERT_EQ_U64(n, (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf));
    put(fd, "PUT /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    get_response(fd, buf, sizeof buf);
    ASSERT(!strncmp(buf, "HTTP/1.1 405 ", 13));
    const char *parts[] = { "GE", "T /echo HT", "TP/1.1\r", "\nContent-Length: 3\r\n\r", "\nab", "c" };
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) { put(fd, parts[i]); usleep(2000); }
    get_response(fd, buf, sizeof buf);
    ASSERT(strstr(buf, "\r\n\r\nGET /echo ? [] 3:abc"));
    close(fd);
    httpd_free(h);
}

TEST(httpd_limits)
{
    httpd_t *h = server();
    char buf[8192];
    /* a head that never ends: 431 and closed */
    int fd = dial(httpd_port(h));
    char *big = malloc(HTTPD_MAX_HEAD + 100);
    memset(big, 'a', HTTPD_MAX_HEAD + 99);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    big[HTTPD_MAX_HEAD + 99] = 0;
    put(fd, big);
    free(big);
    get_response(fd, buf, sizeof buf);
    ASSERT(!strncmp(buf, "HTTP/1.1 431 ", 13));
    ASSERT(recv(fd, buf, sizeof buf, 0) == 0);
    close(fd);
    /* a body too large: 413; chunked: 411; garbage: 400 */
    const char *bad[][2] = {
        { "POST /echo HTTP/1.1\r\nContent-Length: 9999999\r\n\r\n", "HTTP/1.1 413 " },
        { "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 411 " },
        { "hello\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /echo HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 400 " },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fd = dial(httpd_port(h));
        put(fd, bad[i][0]);
        get_response(fd, buf, sizeof buf);
        ASSERT(!strncmp(buf, bad[i][1], strlen(bad[i][1])));
        ASSERT(recv(fd, buf, sizeof buf, 0) == 0);
        close(fd);
    }
    /* more connections than slots: the extra ones are closed, the others work */
    int fds[HTTPD_MAX_CONNS + 4];
    for (int i = 0; i < HTTPD_MAX_CONNS + 4; i++) fds[i] = dial(httpd_port(h));
    usleep(100000);
    int closed = 0;
    for (int i = 0; i < HTTPD_MAX_CONNS + 4; i++) {
        put(fds[i], "GET /metrics HTTP/1.1\r\n\r\n");
        ssize_t r = recv(fds[i], buf, sizeof buf, 0);
        closed += r <= 0;
    }
    ASSERT_EQ_INT(closed, 4);
    for (int i = 0; i < HTTPD_MAX_CONNS + 4; i++) close(fds[i]);
    httpd_free(h);
}

TEST(httpd_events)
{
    httpd_t *h = server();
    ASSERT_EQ_INT(httpd_broadcast(h, "x", "nobody", 6), 0);
    int a = dial(httpd_port(h)), b = dial(httpd_port(h));
    char buf[8192];
    put(a, "GET /events HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n");
    put(b, "GET /events HTTP/1.1\r\n\r\n");
    get_until(a, buf, sizeof buf, "retry: 1000\n\n");
    ASSERT(!strncmp(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", 50));
    ASSERT(!strstr(buf, "Content-Length"));
    get_until(b, buf, sizeof buf, "retry: 1000\n\n");
    for (int i = 0; i < 100 && httpd_streams(h) < 2; i++) usleep(10000);
    ASSERT_EQ_INT(httpd_streams(h), 2);
    ASSERT_EQ_INT(httpd_broadcast(h, "tick", "{\"a\":1}\nsecond line", 19), 2);
    ASSERT_EQ_INT(httpd_broadcast(h, NULL, "plain", 5), 2);
    const char *want = "event: tick\ndata: {\"a\":1}\ndata: second line\n\ndata: plain\n\n";
    get_until(a, buf, sizeof buf, "plain\n\n");
    ASSERT_EQ_STR(buf, want);
    get_until(b, buf, sizeof buf, "plain\n\n");
    ASSERT_EQ_STR(buf, want);
    /* a reader that went away is forgotten */
    close(b);
    for (int i = 0; i < 100 && httpd_streams(h) > 1; i++) usleep(10000);
    ASSERT_EQ_INT(httpd_streams(h), 1);
    close(a);
    httpd_free(h);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(httpd_slow_stream_dropped)
{
    httpd_t *h = server();
    int slow = dial(httpd_port(h)), fast = dial(httpd_port(h));
    int small = 4096;
    setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    char buf[65536];
    put(slow, "GET /events HTTP/1.1\r\n\r\n");
    put(fast, "GET /events HTTP/1.1\r\n\r\n");
    get_until(slow, buf, sizeof buf, "retry: 1000\n\n");
    get_until(fast, buf, sizeof buf, "retry: 1000\n\n");
    for (int i = 0; i < 100 && httpd_streams(h) < 2; i++) usleep(10000);
    ASSERT_EQ_INT(httpd_streams(h), 2);
    /* 32 MiB of events to a reader that reads nothing: broadcasting never
     * waits for it, and it is dropped while the fast one stays */
    char *ev = malloc(65536);
    memset(ev, 'e', 65535);
    ev[65535] = 0;
    double worst = 0;
    int dropped = 0;
    for (int i = 0; i < 512 && !dropped; i++) {
        double t = mono();
        int n = httpd_broadcast(h, "big", ev, 65535);
        if (mono() - t > worst) worst = mono() - t;
        dropped = n < 2;
        ASSERT(n >= 1);
        /* keep the fast reader reading */
        ssize_t r;
        while ((r = recv(fast, buf, sizeof buf, MSG_DONTWAIT)) > 0) {}
        usleep(1000);
    }
    free(ev);
    ASSERT(dropped);
    ASSERT(worst < 0.5);
    for (int i = 0; i < 100 && httpd_streams(h) > 1; i++) usleep(10000);
    ASSERT_EQ_INT(httpd_streams(h), 1);
    close(slow);
    close(fast);
    httpd_free(h);
}

TEST(httpd_bind_errors)
{
    httpd_t *a, *b;
    char err[256], spec[32];
    ASSERT(httpd_new(&a, "127.0.0.1:0", "--metrics", err, sizeof err) == 0);
    snprintf(spec, sizeof spec, "%d", httpd_port(a));
    ASSERT(httpd_new(&b, spec, "--metrics", err, sizeof err) == -1);
    ASSERT(!b);
    ASSERT(strstr(err, "--metrics: cannot listen on "));
    ASSERT(strstr(err, "in use (pick another port, or 0 for a free one)"));
    httpd_free(a);
    const char *bad[] = { "", "x", "99999", "127.0.0.1:", ":9100", "[::1]", "[::1:80", "1.2.3.4:80:90", "-1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ASSERT(httpd_new(&b, bad[i], "--metrics", err, sizeof err) == -1);
        ASSERT(strstr(err, "is not [ADDR:]PORT"));
    }
    ASSERT(httpd_new(&b, "no-such-host.invalid:0", "--metrics", err, sizeof err) == -1);
    ASSERT(strstr(err, "cannot resolve"));
    /* IPv6 loopback, when the machine has it */
    if (httpd_new(&b, "[::1]:0", "--metrics", err, sizeof err) == 0) {
        ASSERT(httpd_loopback(b));
        ASSERT(!strncmp(httpd_url(b), "http://[::1]:", 13));
        httpd_free(b);
    }
    ASSERT(httpd_new(&b, "0.0.0.0:0", "--metrics", err, sizeof err) == 0);
    ASSERT(!httpd_loopback(b));
    httpd_free(b);
    httpd_free(NULL);
}
