/* serve_http.h - `barrage serve`'s HTTP: the prebuilt responses, request
 * parsing with llhttp (each complete request is answered, or handed to the
 * fault modes), and the request handler's types. Internal to src/serve/.
 */
#ifndef BARRAGE_SERVE_HTTP_H
#define BARRAGE_SERVE_HTTP_H

#include "serve_args.h"

#include <llhttp.h>

#include <stddef.h>
#include <stdint.h>

typedef struct serve_conn serve_conn_t;

/* ---------------------------------------------------------------------------
 * Prebuilt responses (built once, read-only, shared by every thread) */

enum { CH_NONE, CH_KEEP_ALIVE, CH_CLOSE, CH_COUNT }; /* Connection header */

typedef struct serve_static {
    char *body;                          /* raw body (owned) */
    size_t body_len;
    char *cbody;                         /* chunked encoding of body; NULL unless --chunked */
    size_t cbody_len;
    char *head[2][CH_COUNT];             /* [chunked][Connection header]: status line
                                            and headers, up to the blank line */
    size_t head_len[2][CH_COUNT];
    size_t status_line_len;              /* "HTTP/1.1 200 OK\r\n" */
    char *big;                           /* "X-Barrage-Big: aaa...\r\n" (bigheader only) */
    size_t big_len;
    int no_body;                         /* the status forbids a body (204, 304) */
} serve_static_t;

/* Build every prebuilt response of cfg: 0, or -ENOMEM (st is then freed). */
int serve_static_build(const serve_config_t *cfg, serve_static_t *st);

/* Free what serve_static_build made and zero st. */
void serve_static_free(serve_static_t *st);

/* The reason phrase of status ("Status" for codes it does not know). */
const char *serve_reason(int status);

/* ---------------------------------------------------------------------------
 * The request handler: the place to add routes */

/* One request header; pointers borrowed for the handler call only. */
typedef struct serve_header {
    const char *name;      /* as sent (compare case-insensitively) */
    size_t name_len;
    const char *value;
    size_t value_len;
} serve_header_t;

/* One parsed request; every pointer is borrowed, valid during the call. */
typedef struct serve_request {
    const char *method;               /* "GET", "POST", ... */
    int head;                         /* HEAD: whatever body is set won't be sent */
    const char *path;                 /* request target as sent (path?query) */
    size_t path_len;
    const serve_header_t *headers;    /* the first SERVE_MAX_HEADERS headers */
    size_t header_count;
    const char *body;                 /* the first SERVE_MAX_BODY_KEEP body bytes, de-chunked */
    size_t body_len;
    uint64_t body_total;              /* the whole body's length */
} serve_request_t;

/* What to answer. */
typedef struct serve_response {
    int status;                /* 0 = the configured default response (prebuilt) */
    const char *content_type;  /* NULL = text/plain */
    const char *body;          /* borrowed: copied when the handler returns */
    size_t body_len;
    const char *headers;       /* extra header lines, each ending in CRLF, or NULL */
} serve_response_t;

/* ---------------------------------------------------------------------------
 * Parsing and answering (on a connection of serve_conn.h) */

/* Set up c's request parser (c->parser, its data pointing at c). */
void serve_http_init(serve_conn_t *c);

/* Parse n bytes read on c, queueing the answers; a malformed request queues
 * 400 (431 for a head too large) and a close, and sets c->ignore_input. */
void serve_http_parse(serve_conn_t *c, const char *data, size_t n);

/* Queue the normal answer to the request just parsed: the handler's, or the
 * prebuilt default (te: chunked body, ch: CH_* Connection header); counts it. */
void serve_http_answer(serve_conn_t *c, const llhttp_t *p, int head, int te, int ch,
                       uint64_t due);

/* Queue a formatted response with Content-Length framing (no body for HEAD). */
void serve_http_push_dynamic(serve_conn_t *c, int status, const char *ctype,
                             const char *headers, const char *body, size_t body_len,
                             int head, int ch, uint64_t due);

/* Queue an interim "100 Continue". */
void serve_http_push_continue(serve_conn_t *c, uint64_t due);

#endif
