/* httpd.h - the small embedded HTTP/1.1 server the live outputs share
 * (--metrics, --web): one thread of its own, poll(), non-blocking sockets,
 * plain HTTP only (no TLS), at most HTTPD_MAX_CONNS connections.
 *
 * Life: httpd_new binds and listens (so a bad address or a port in use fails
 * before a run starts), httpd_route/httpd_publish register what it serves,
 * httpd_start starts its thread, httpd_free stops and joins it and closes
 * every connection. Routes must be registered before httpd_start.
 *
 * Requests: GET, HEAD and POST (others get 405), HTTP/1.0 and 1.1,
 * keep-alive unless the client says "Connection: close" (or speaks 1.0
 * without keep-alive). A head is at most HTTPD_MAX_HEAD bytes, a body (with
 * Content-Length; chunked bodies get 411) at most HTTPD_MAX_BODY: larger
 * gets 431/413 and the connection is closed. A connection idle for
 * HTTPD_IDLE_MS (no complete request; streams excepted) is closed.
 *
 * Threads: httpd_publish, httpd_broadcast and httpd_streams may be called
 * from any thread (the main thread, typically once a second) while the
 * server runs; they only copy into buffers under the server's mutex and
 * wake its thread, never block on a socket. Handlers run on the server's
 * thread, without the server's lock (so they may call httpd_publish or
 * httpd_broadcast), and must only read data they synchronize themselves.
 *
 * Server-sent events: a handler that sets res->sse turns its connection
 * into an event stream (200, text/event-stream, no-cache); the response
 * body, if any, is sent first (e.g. an initial event or a "retry:" line).
 * httpd_broadcast queues one event to every open stream; a stream whose
 * unsent bytes would pass HTTPD_STREAM_QUEUE (a slow or stuck reader) is
 * closed instead, so nothing ever waits for a reader.
 *
 * Errors: 0 or a negative errno; set-up fills the caller's buffer with one
 * line naming the problem and the fix. Nothing here prints. */
#ifndef BARRAGE_HTTPD_H
#define BARRAGE_HTTPD_H

#include <stddef.h>

#define HTTPD_MAX_CONNS 64             /* open connections; more are closed at accept */
#define HTTPD_MAX_HEAD 8192            /* request line and headers, bytes */
#define HTTPD_MAX_BODY 65536           /* request body, bytes */
#define HTTPD_IDLE_MS 30000            /* an idle non-stream connection is closed */
#define HTTPD_STREAM_QUEUE (1u << 20)  /* unsent bytes a stream may hold */
#define HTTPD_MAX_ROUTES 32            /* routes plus published paths */

typedef struct httpd httpd_t;

/* One parsed request, valid during the handler call only. */
typedef struct httpd_request {
    const char *method;       /* "GET", "HEAD" or "POST" */
    const char *path;         /* the target up to '?', percent-escapes left as sent */
    const char *query;        /* after '?' (without it), or "" */
    const char *content_type; /* the Content-Type header's value, or "" */
    const char *body;         /* the body (NUL-terminated for convenience), or "" */
    size_t body_len;
} httpd_request_t;

/* What a handler answers. httpd fills status 200 and a NULL body before the
 * call. body: malloc'ed by the handler, freed by httpd (or NULL). */
typedef struct httpd_response {
    int status;               /* 200, 404, ... */
    const char *content_type; /* a static string; NULL: "text/plain; charset=utf-8" */
    char *body;               /* owned by httpd after the call */
    size_t body_len;
    int sse;                  /* 1: make this connection an event stream (status, type ignored) */
} httpd_response_t;

/* A route's handler: fill res (return value ignored for now: return 0). */
typedef int (*httpd_handler_t)(void *ctx, const httpd_request_t *req, httpd_response_t *res);

/* Bind and listen on spec, "[ADDR:]PORT": PORT alone is 127.0.0.1; ADDR is
 * a numeric IPv4 address, "[IPv6]", or a host name resolved once (the first
 * address that binds); PORT 0 picks a free port (read it with httpd_port).
 * what names the option in errors ("--metrics"). 0, or -1 with err set
 * (a malformed spec, an unknown host, the port in use, no permission). */
int httpd_new(httpd_t **out, const char *spec, const char *what, char *err, size_t errlen);
/* Serve requests whose path starts with prefix (longest prefix wins; an
 * exact "/" route matches only "/"). 0, or -ENOSPC past HTTPD_MAX_ROUTES,
 * -EBUSY after httpd_start. */
int httpd_route(httpd_t *h, const char *prefix, httpd_handler_t fn, void *ctx);
/* Serve body at exactly path with content_type (a static string): GET and
 * HEAD get a copy of the latest body published, 503 until the first.
 * The first call registers the path (before httpd_start); later calls,
 * from any thread, replace the body. 0, -ENOMEM, -ENOSPC or -EBUSY
 * (a new path after httpd_start). */
int httpd_publish(httpd_t *h, const char *path, const char *content_type, const char *body, size_t len);
/* Start the server's thread. 0 or a negative errno. */
int httpd_start(httpd_t *h);
/* Queue one event to every open stream: "event: EVENT\n" (if event is not
 * NULL), then "data: LINE\n" for each line of data, then "\n". Returns the
 * number of streams it was queued to. Any thread; never blocks. */
int httpd_broadcast(httpd_t *h, const char *event, const char *data, size_t len);
/* Open event streams now. */
int httpd_streams(httpd_t *h);
/* Bytes queued to open streams and not sent yet (0: every event is out). */
size_t httpd_unsent(httpd_t *h);
/* The bound port (the real one when 0 was asked for). */
int httpd_port(const httpd_t *h);
/* "http://127.0.0.1:PORT" or "http://[::1]:PORT" (the bound address; a
 * wildcard address is shown as given). */
const char *httpd_url(const httpd_t *h);
/* 1 if it listens on a loopback address only. */
int httpd_loopback(const httpd_t *h);
/* Stop the thread (if started), close every socket, free. NULL is fine. */
void httpd_free(httpd_t *h);

#endif
