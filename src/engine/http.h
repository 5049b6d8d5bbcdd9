/* http.h - HTTP/1.1 request bytes and the llhttp response glue.
 *
 * Requests that never change are formatted once per run (http_format) and
 * written from the same immutable buffer by every connection of a thread.
 * Responses are parsed in place from the thread's read buffer: http_parse
 * stops at the end of each complete response so the caller can account for
 * it and notice bytes nobody asked for. Bodies are skipped, never buffered,
 * unless the caller installs body/header sinks (for scripts). */
#ifndef BARRAGE_HTTP_H
#define BARRAGE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "llhttp.h"

/* Format one request. *out is malloc'ed (caller frees), NUL-terminated;
 * *len excludes the NUL. host is the Host header value (unless a header in
 * `headers` names Host). A Content-Length header is added when body_len > 0
 * and none is given; `Connection: close` when close is set and no
 * Connection header is given. 0, or -ENOMEM. */
int http_format(char **out, size_t *len, const char *method, const char *path,
                const char *host, const char *const *headers, size_t nheaders,
                const char *body, size_t body_len, int close);

/* Value for the Host header of a URL: host[:port], brackets kept for IPv6,
 * port omitted when it is the scheme's default. Writes into buf. */
void http_host_header(char *buf, size_t size, const char *host, int is_ipv6,
                      const char *port, int default_port);

enum http_parse_result {
    HTTP_PARSE_MORE = 0,       /* all bytes consumed, no response completed */
    HTTP_PARSE_COMPLETE = 1,   /* a response completed at *consumed */
    HTTP_PARSE_ERROR = -1,     /* malformed response */
};

/* Headers and body of the response being parsed, collected only for
 * scripts that look at them. Memory is owned by the struct and reused. */
typedef struct http_capture {
    char *hbuf;            /* name\0value\0 pairs, in order received */
    size_t hlen, hcap;
    uint32_t nheaders;     /* complete name/value pairs in hbuf */
    uint8_t last_value;    /* the last header bytes seen were a value */
    char *body;            /* the body, de-chunked */
    size_t blen, bcap;
    size_t bseen;          /* body bytes received; beyond HTTP_CAPTURE_MAX they are not kept */
} http_capture_t;

#define HTTP_CAPTURE_MAX ((size_t)1 << 30) /* body bytes kept for a script (LuaJIT strings stop short of 2 GiB) */

/* Per-connection response parser state (about 100 bytes). */
typedef struct http_resp {
    llhttp_t parser;       /* parser.data points back at this struct */
    http_capture_t *cap;   /* NULL unless headers/bodies are collected (borrowed) */
    uint16_t status;       /* status of the response being parsed / just done */
    uint8_t expect_head;   /* the pending request is HEAD: no body follows */
    uint8_t complete;      /* set by the parser when a response ends */
    uint8_t keep_alive;    /* the completed response allows keep-alive */
    uint8_t in_message;    /* bytes of a response have been seen */
    uint8_t chunk;         /* inside a chunk-size line: where (0: not in one) */
    uint8_t last_chunk;    /* the chunk being read is the last (size 0) */
    uint8_t fast;          /* llhttp is at a message boundary: http_parse may scan a simple head itself */
    uint8_t no_fast;       /* llhttp only (tests set it to compare) */
    uint64_t fast_left;    /* body bytes of a fast-path response still to skip */
    uint64_t body;         /* body bytes parsed (no head, no chunk framing) since the caller took them */
} http_resp_t;

/* The requests of a request string: how many, and which are HEAD (their
 * responses end at the header section). Memory owned by the struct, reused
 * by the next http_scan_requests. */
typedef struct http_reqs {
    uint32_t n;            /* complete requests */
    uint32_t nhead;        /* how many of them are HEAD */
    uint8_t *head;         /* bit i (head[i / 8] >> i % 8): request i is HEAD */
    size_t cap;            /* bytes allocated at head */
} http_reqs_t;

/* Prepare r for a new connection; with cap, collect headers and bodies into
 * it (its buffers are reused across responses). The fast path is on
 * (http_parse; with cap it fills the capture exactly as llhttp's callbacks
 * would); setting r->no_fast = 1, r->fast = 0 afterwards turns it off
 * (llhttp parses every byte). */
void http_resp_init(http_resp_t *r, http_capture_t *cap);
/* Free a capture's buffers. */
void http_capture_free(http_capture_t *cap);
/* Count the complete HTTP requests in buf (for wrk-style pipelined request
 * strings). Returns the count, or -1 if buf is not a sequence of valid
 * complete requests. */
int http_count_requests(const char *buf, size_t len);
/* Check that buf is a sequence of one or more valid complete requests, a
 * request that closes the connection (HTTP/1.0, `Connection: close`) only
 * last, and fill q. A one-pass scan takes the plain forms (a known method,
 * HTTP/1.1, token headers, Content-Length bodies); anything else goes
 * through llhttp. 0, -EINVAL (not valid requests) or -ENOMEM. */
int http_scan_requests(http_reqs_t *q, const char *buf, size_t len);
/* Free what q owns. */
void http_reqs_free(http_reqs_t *q);
/* Whether request i of a scanned string is HEAD (heads: http_reqs_t.head,
 * NULL when none is). */
static inline int http_is_head(const uint8_t *heads, uint32_t i)
{
    return heads && (heads[i >> 3] >> (i & 7)) & 1;
}
/* Parse up to len bytes. Stops after each complete final response (1xx
 * interim responses are skipped) and returns HTTP_PARSE_COMPLETE with
 * *consumed set to the bytes used; r->status and r->keep_alive describe it.
 * 1xx, 204, 304 and responses to HEAD (r->expect_head) end at their header
 * section whatever Content-Length or Transfer-Encoding say (RFC 9112 6.3).
 * Chunk-size lines are checked here against RFC 9112 7.1.1 (extensions
 * with BWS, token or quoted values) and only the size reaches llhttp.
 * The fast path (llhttp at a message boundary, not HEAD; a capture is filled
 * as llhttp's callbacks would): a
 * complete simple head (HTTP/1.1, or 1.0 with keep-alive; status 200-999
 * but 204/304; token headers; one Content-Length; no Transfer-Encoding,
 * Upgrade, Proxy-Connection or `Connection: close`) is scanned here and its
 * body skipped, across reads too; anything else goes to llhttp from the
 * same byte, so the results are llhttp's (tests/fuzz/fuzz_response.c). */
int http_parse(http_resp_t *r, const char *data, size_t len, size_t *consumed);
/* The peer closed the connection: completes a response delimited by EOF.
 * HTTP_PARSE_COMPLETE, HTTP_PARSE_MORE (nothing was in progress) or
 * HTTP_PARSE_ERROR (EOF in the middle of a response). */
int http_finish(http_resp_t *r);
/* llhttp's reason for the last HTTP_PARSE_ERROR. */
const char *http_error_reason(const http_resp_t *r);

#endif
