/* serve.c - `barrage serve`, the built-in HTTP/1.1 target (see serve.h).
 *
 * Shape: N workers, each a thread with its own loop and its own listener
 * (SO_REUSEPORT when N > 1); the main thread binds, prints, then waits in
 * sigwait() for SIGTERM/SIGINT, stops the workers and prints the counters.
 *
 * Why it is fast:
 *  - Every normal response is prebuilt once (status line, headers and the
 *    encoded body) in read-only memory shared by all threads. Answering a
 *    request only appends references to it to the connection's output queue;
 *    nothing is formatted, copied or allocated per request.
 *  - One read buffer per thread. The responses produced by one read go out
 *    in one sendmsg() (an iovec per queued segment), then we wait: a
 *    keep-alive request costs one read and one write.
 *  - The clock is read only when --delay, --stall or --trickle need it.
 *
 * The output queue is a ring of segments. A segment points at static bytes
 * (prebuilt responses, fault strings) or at the connection's obuf (bytes
 * formatted for this response: dynamic handler answers, fault headers), has
 * a due time (--delay/--stall) and an optional action run once it is fully
 * written (graceful close, or reset). Faults are just other segment lists,
 * which keeps them in order with the pipelined responses around them.
 */
#define _GNU_SOURCE
#include "serve.h"
#include "loop.h"
#include "units.h"

#include <llhttp.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define SERVE_READ_BUF        (64 * 1024)    /* per-thread read buffer */
#define SERVE_IOV_MAX         64             /* segments per sendmsg() */
#define SERVE_MAX_HEADERS     64             /* request headers kept for the handler */
#define SERVE_MAX_HEAD        (64 * 1024)    /* request line + headers, else 431 */
#define SERVE_MAX_BODY_KEEP   (1024 * 1024)  /* request body bytes kept for the handler */
#define SERVE_PAUSE_SEGS      4096           /* stop reading a connection this far ahead */
#define SERVE_PAUSE_OBUF      (1024 * 1024)
#define SERVE_LINGER_NS       2000000000ull  /* graceful close: wait this long for EOF */
#define SERVE_ACCEPT_RETRY_NS 100000000ull   /* accept() out of descriptors: retry later */
#define SERVE_EOF_PROBE_NS    1000000000ull  /* idle this long after a short read: probe */
#define SERVE_CHUNK           (16 * 1024)    /* --chunked: largest chunk */
#define SERVE_BIG_HEADER      (96 * 1024)    /* --fault bigheader: header value size */
#define SERVE_MAX_BODY_SIZE   (256u << 20)   /* --body-size limit */
#define SERVE_MAX_THREADS     1024

#define SERVE_CONTAINER(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---------------------------------------------------------------------------
 * Configuration */

typedef enum serve_fault {
    SERVE_FAULT_NONE = 0,
    SERVE_FAULT_RESET,
    SERVE_FAULT_DROP,
    SERVE_FAULT_HANG,
    SERVE_FAULT_MALFORMED,
    SERVE_FAULT_BADCHUNK,
    SERVE_FAULT_BIGHEADER,
    SERVE_FAULT_SHORTBODY,
    SERVE_FAULT_LONGBODY,
    SERVE_FAULT_CONTINUE,
    SERVE_FAULT_EXTRA,
    SERVE_FAULT_STATUS500,
    SERVE_FAULT_NOTMODIFIED,
    SERVE_FAULT_CHUNKEXT,
    SERVE_FAULT_COUNT
} serve_fault_t;

static const char *const serve_fault_names[SERVE_FAULT_COUNT] = {
    "", "reset", "drop", "hang", "malformed", "badchunk", "bigheader",
    "shortbody", "longbody", "continue", "extra", "status500", "notmodified", "chunkext",
};

#define SERVE_FAULT_LIST "reset, drop, hang, malformed, badchunk, bigheader, " \
                         "shortbody, longbody, continue, extra, status500, notmodified, chunkext"

typedef struct serve_config {
    const char *listen;               /* --listen as given (argv-owned) */
    struct sockaddr_storage addr;     /* its resolution */
    socklen_t addr_len;
    int threads;
    int body_given;                   /* --body-size seen: pattern body, else "OK" */
    size_t body_size;
    int chunked;
    int status;
    uint64_t delay_ns;
    uint64_t stall_ns, stall_period_ns;
    uint64_t trickle_ns;
    uint64_t close_after;             /* 0 = never */
    serve_fault_t fault;
    uint64_t fault_every;             /* fault on every Nth request (N >= 1) */
    uint64_t start_ns;                /* server start: origin of --stall periods */
} serve_config_t;

static const char serve_usage[] =
    "usage: barrage serve [--listen ADDR:PORT] [--threads N] [options]\n"
    "\n"
    "The built-in HTTP/1.1 target: every request gets the same response.\n"
    "  --listen ADDR:PORT   listen address (default 127.0.0.1:8080); port 0 picks\n"
    "                       a free port; IPv6 as [::1]:PORT\n"
    "  --threads N          N threads, each with its own loop and SO_REUSEPORT\n"
    "                       listener (default 1)\n"
    "  --body-size BYTES    response body size, suffixes k and m (KiB, MiB);\n"
    "                       default: the 2 bytes \"OK\"\n"
    "  --chunked            send bodies chunked (chunks of at most 16 KiB)\n"
    "  --status CODE        status code of every response, 200-599 (default 200)\n"
    "  --delay DUR          hold every response for DUR before sending it\n"
    "  --stall DUR:PERIOD   send nothing during the first DUR of every PERIOD\n"
    "                       (from server start); held responses go out after\n"
    "  --close-after N      close each connection after its Nth response\n"
    "  --trickle DUR        send responses one byte at a time, DUR apart\n"
    "  --fault KIND[:N]     inject a fault on every Nth request (default N=1),\n"
    "                       counted across the server. KIND: reset, drop, hang,\n"
    "                       malformed, badchunk, bigheader, shortbody, longbody,\n"
    "                       continue, extra, status500, notmodified (a 304 with\n"
    "                       Content-Length: 5 and no body), chunkext (chunk-size\n"
    "                       lines with RFC 9112 extensions)\n"
    "Durations: 250us, 50ms, 2s, 1m, 1h; a bare number means seconds.\n"
    "Prints \"listening on ADDR:PORT\" when ready. SIGTERM or SIGINT stops it and\n"
    "prints \"serve: connections=C requests=R responses=S faults=F\" to stderr.\n";

/* One usage error: a single line on stderr; returns the exit code 2. */
static int serve_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int serve_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("barrage serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* "50ms", "2s", "1.5m", "250us", "1h"; a bare number is seconds. */
/* "512", "16k", "1m" (KiB, MiB; "kb"/"kib" spellings too). */
static int serve_parse_size(const char *s, size_t *out)
{
    if (!isdigit((unsigned char)s[0])) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    unsigned long long mul;
    if (!*end) mul = 1;
    else if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib")) mul = 1024;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib")) mul = 1024 * 1024;
    else return -1;
    if (v > ULLONG_MAX / mul || v * mul > SIZE_MAX) return -1;
    *out = (size_t)(v * mul);
    return 0;
}

/* A decimal integer within [min, max]. */
static int serve_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0])) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* ADDR:PORT, [V6]:PORT or :PORT (all IPv4 interfaces). */
static int serve_parse_listen(const char *s, serve_config_t *cfg)
{
    static const char fix[] = "(use e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:0)";
    char host[256];
    const char *port;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') goto bad;
        hl = (size_t)(rb - s - 1);
        if (hl == 0 || hl >= sizeof host) goto bad;
        memcpy(host, s + 1, hl);
        port = rb + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) goto bad;
        hl = (size_t)(colon - s);
        if (hl >= sizeof host || memchr(s, ':', hl)) goto bad; /* bare IPv6 */
        memcpy(host, s, hl);
        port = colon + 1;
    }
    host[hl] = 0;
    uint64_t pv;
    if (strlen(port) > 5 || serve_parse_uint(port, 0, 65535, &pv) < 0) goto bad;
    if (!host[0]) strcpy(host, "0.0.0.0");

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res)
        return serve_usage_error("--listen: cannot resolve '%s': %s %s", host,
                                 rc ? gai_strerror(rc) : "no address", fix);
    memcpy(&cfg->addr, res->ai_addr, res->ai_addrlen);
    cfg->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    return serve_usage_error("--listen: cannot parse '%s' as ADDR:PORT %s", s, fix);
}

static int serve_parse_fault(const char *s, serve_config_t *cfg)
{
    const char *colon = strchr(s, ':');
    size_t kl = colon ? (size_t)(colon - s) : strlen(s);
    serve_fault_t kind = SERVE_FAULT_NONE;
    for (int i = 1; i < SERVE_FAULT_COUNT; i++)
        if (strlen(serve_fault_names[i]) == kl && !strncmp(s, serve_fault_names[i], kl))
            kind = (serve_fault_t)i;
    if (kind == SERVE_FAULT_NONE)
        return serve_usage_error("--fault: unknown fault kind '%.*s' (use one of %s)",
                                 (int)kl, s, SERVE_FAULT_LIST);
    uint64_t every = 1;
    if (colon && serve_parse_uint(colon + 1, 1, UINT64_MAX, &every) < 0)
        return serve_usage_error("--fault: cannot parse '%s' as a count N >= 1 in "
                                 "KIND:N (use e.g. --fault %s:10)", colon + 1,
                                 serve_fault_names[kind]);
    cfg->fault = kind;
    cfg->fault_every = every;
    return 0;
}

enum { OPT_LISTEN, OPT_THREADS, OPT_BODY_SIZE, OPT_CHUNKED, OPT_STATUS, OPT_DELAY,
       OPT_STALL, OPT_CLOSE_AFTER, OPT_TRICKLE, OPT_FAULT };

static const struct { const char *name; int id; int has_value; } serve_options[] = {
    { "--listen", OPT_LISTEN, 1 },       { "--threads", OPT_THREADS, 1 },
    { "--body-size", OPT_BODY_SIZE, 1 }, { "--chunked", OPT_CHUNKED, 0 },
    { "--status", OPT_STATUS, 1 },       { "--delay", OPT_DELAY, 1 },
    { "--stall", OPT_STALL, 1 },         { "--close-after", OPT_CLOSE_AFTER, 1 },
    { "--trickle", OPT_TRICKLE, 1 },     { "--fault", OPT_FAULT, 1 },
};

#define SERVE_DURATION_FIX "(use e.g. 50ms, 2s)"

/* Fill cfg from argv. 0 to run, -1 when --help was printed, 2 on error. */
static int serve_parse_args(int argc, char **argv, serve_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8080";
    cfg->threads = 1;
    cfg->status = 200;
    cfg->fault_every = 1;
    int listen_given = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(serve_usage, stdout);
            return -1;
        }
        const char *eq = strchr(arg, '=');
        size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
        int opt = -1, has_value = 0;
        const char *name = arg;
        for (size_t k = 0; k < sizeof serve_options / sizeof serve_options[0]; k++) {
            if (strlen(serve_options[k].name) == nl && !strncmp(arg, serve_options[k].name, nl)) {
                opt = serve_options[k].id;
                has_value = serve_options[k].has_value;
                name = serve_options[k].name;
            }
        }
        if (opt < 0) {
            if (arg[0] == '-')
                return serve_usage_error("unknown option '%.*s' (see barrage serve --help)",
                                         (int)nl, arg);
            return serve_usage_error("unexpected argument '%s' (options start with --; "
                                     "see barrage serve --help)", arg);
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!has_value && val)
            return serve_usage_error("%s takes no value (write just %s)", name, name);
        if (has_value && !val) {
            if (i + 1 >= argc)
                return serve_usage_error("%s: missing value (see barrage serve --help)", name);
            val = argv[++i];
        }
        uint64_t u;
        switch (opt) {
        case OPT_LISTEN:
            cfg->listen = val;
            listen_given = 1;
            if (serve_parse_listen(val, cfg)) return 2;
            break;
        case OPT_THREADS:
            if (serve_parse_uint(val, 1, SERVE_MAX_THREADS, &u) < 0)
                return serve_usage_error("--threads: cannot parse '%s' as a thread count "
                                         "(use a number from 1 to %d)", val, SERVE_MAX_THREADS);
            cfg->threads = (int)u;
            break;
        case OPT_BODY_SIZE:
            if (serve_parse_size(val, &cfg->body_size) < 0)
                return serve_usage_error("--body-size: cannot parse '%s' as a size "
                                         "(use e.g. 512, 16k, 1m)", val);
            if (cfg->body_size > SERVE_MAX_BODY_SIZE)
                return serve_usage_error("--body-size: '%s' is too large (use at most 256m)", val);
            cfg->body_given = 1;
            break;
        case OPT_CHUNKED:
            cfg->chunked = 1;
            break;
        case OPT_STATUS:
            if (serve_parse_uint(val, 200, 599, &u) < 0)
                return serve_usage_error("--status: cannot parse '%s' as a status code "
                                         "(use a number from 200 to 599)", val);
            cfg->status = (int)u;
            break;
        case OPT_DELAY:
            if (units_parse_duration(val, &cfg->delay_ns) < 0)
                return serve_usage_error("--delay: cannot parse '%s' as a duration %s",
                                         val, SERVE_DURATION_FIX);
            break;
        case OPT_TRICKLE:
            if (units_parse_duration(val, &cfg->trickle_ns) < 0)
                return serve_usage_error("--trickle: cannot parse '%s' as a duration %s",
                                         val, SERVE_DURATION_FIX);
            break;
        case OPT_STALL: {
            const char *colon = strchr(val, ':');
            char d[64];
            size_t dl = colon ? (size_t)(colon - val) : 0;
            if (!colon || dl >= sizeof d)
                return serve_usage_error("--stall: cannot parse '%s' as DUR:PERIOD "
                                         "(use e.g. 200ms:1s)", val);
            memcpy(d, val, dl);
            d[dl] = 0;
            if (units_parse_duration(d, &cfg->stall_ns) < 0 ||
                units_parse_duration(colon + 1, &cfg->stall_period_ns) < 0)
                return serve_usage_error("--stall: cannot parse '%s' as DUR:PERIOD "
                                         "(use e.g. 200ms:1s)", val);
            if (cfg->stall_period_ns == 0 || cfg->stall_ns >= cfg->stall_period_ns)
                return serve_usage_error("--stall: the stall in '%s' must be shorter than "
                                         "its period (use e.g. 200ms:1s)", val);
            break;
        }
        case OPT_CLOSE_AFTER:
            if (serve_parse_uint(val, 1, UINT64_MAX, &cfg->close_after) < 0)
                return serve_usage_error("--close-after: cannot parse '%s' as a response "
                                         "count (use a number >= 1)", val);
            break;
        case OPT_FAULT:
            if (serve_parse_fault(val, cfg)) return 2;
            break;
        }
    }
    if (!listen_given && serve_parse_listen(cfg->listen, cfg)) return 2;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Prebuilt responses (built once, read-only, shared by every thread) */

enum { CH_NONE, CH_KEEP_ALIVE, CH_CLOSE, CH_COUNT }; /* Connection header */

static const char *const serve_conn_lines[CH_COUNT] = {
    "", "Connection: keep-alive\r\n", "Connection: close\r\n",
};

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

static const char serve_malformed[] = "HTTP/1.1 2x0 BAD\r\nContent-Length: 2\r\n\r\nOK";
static const char serve_badchunk[] =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nOK\r\n0\r\n\r\n";
static const char serve_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";
/* bodiless whatever Content-Length says (RFC 9112 6.3) */
static const char serve_notmodified[] =
    "HTTP/1.1 304 Not Modified\r\nServer: barrage\r\nETag: \"b\"\r\nContent-Length: 5\r\n\r\n";
/* valid extensions that llhttp 8.1 alone rejects (RFC 9112 7.1.1) */
static const char serve_chunkext[] =
    "HTTP/1.1 200 OK\r\nServer: barrage\r\nTransfer-Encoding: chunked\r\n\r\n"
    "1 ; a=b;c=\"x y\"\r\nO\r\n1;d=\"q\\\"\";e\r\nK\r\n0;last=1\r\n\r\n";
static const char serve_extra[] =
    "HTTP/1.1 200 OK\r\nServer: barrage\r\nContent-Type: text/plain\r\n"
    "Content-Length: 5\r\n\r\nextra";
static const char serve_garbage[] = "#garbage#garbage";
static const char serve_400[] =
    "HTTP/1.1 400 Bad Request\r\nServer: barrage\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";
static const char serve_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: barrage\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

static const char *serve_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Status";
    }
}

static void serve_static_free(serve_static_t *st)
{
    free(st->body);
    free(st->cbody);
    for (int t = 0; t < 2; t++)
        for (int ch = 0; ch < CH_COUNT; ch++) free(st->head[t][ch]);
    free(st->big);
    memset(st, 0, sizeof *st);
}

/* 0, or -ENOMEM (st is then freed). */
static int serve_static_build(const serve_config_t *cfg, serve_static_t *st)
{
    memset(st, 0, sizeof *st);
    st->no_body = cfg->status == 204 || cfg->status == 304;
    size_t len = st->no_body ? 0 : cfg->body_given ? cfg->body_size : 2;
    st->body = malloc(len ? len : 1);
    if (!st->body) goto oom;
    st->body_len = len;
    if (!cfg->body_given) {
        if (len) memcpy(st->body, "OK", 2);
    } else {
        for (size_t off = 0; off < len; off += 8) {
            char rec[16];
            snprintf(rec, sizeof rec, "%07u\n", (unsigned)(off % 10000000u));
            memcpy(st->body + off, rec, len - off < 8 ? len - off : 8);
        }
    }
    if (cfg->chunked && !st->no_body) {
        size_t clen = 5; /* "0\r\n\r\n" */
        for (size_t off = 0; off < len; off += SERVE_CHUNK) {
            size_t n = len - off < SERVE_CHUNK ? len - off : SERVE_CHUNK;
            clen += (size_t)snprintf(NULL, 0, "%zx\r\n", n) + n + 2;
        }
        st->cbody = malloc(clen);
        if (!st->cbody) goto oom;
        char *p = st->cbody;
        for (size_t off = 0; off < len; off += SERVE_CHUNK) {
            size_t n = len - off < SERVE_CHUNK ? len - off : SERVE_CHUNK;
            p += sprintf(p, "%zx\r\n", n);
            memcpy(p, st->body + off, n);
            p += n;
            memcpy(p, "\r\n", 2);
            p += 2;
        }
        memcpy(p, "0\r\n\r\n", 5);
        st->cbody_len = clen;
    }
    for (int t = 0; t < 2; t++) {
        for (int ch = 0; ch < CH_COUNT; ch++) {
            char framing[64];
            if (st->no_body) framing[0] = 0;
            else if (t) snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
            else snprintf(framing, sizeof framing, "Content-Length: %zu\r\n", len);
            const char *fmt = "HTTP/1.1 %d %s\r\nServer: barrage\r\n%s%s%s\r\n";
            const char *ctype = st->no_body ? "" : "Content-Type: text/plain\r\n";
            int n = snprintf(NULL, 0, fmt, cfg->status, serve_reason(cfg->status), ctype,
                             framing, serve_conn_lines[ch]);
            st->head[t][ch] = malloc((size_t)n + 1);
            if (!st->head[t][ch]) goto oom;
            snprintf(st->head[t][ch], (size_t)n + 1, fmt, cfg->status,
                     serve_reason(cfg->status), ctype, framing, serve_conn_lines[ch]);
            st->head_len[t][ch] = (size_t)n;
        }
    }
    st->status_line_len = (size_t)(strstr(st->head[0][0], "\r\n") + 2 - st->head[0][0]);
    if (cfg->fault == SERVE_FAULT_BIGHEADER) {
        static const char name[] = "X-Barrage-Big: ";
        st->big_len = sizeof name - 1 + SERVE_BIG_HEADER + 2;
        st->big = malloc(st->big_len);
        if (!st->big) goto oom;
        memcpy(st->big, name, sizeof name - 1);
        memset(st->big + sizeof name - 1, 'a', SERVE_BIG_HEADER);
        memcpy(st->big + st->big_len - 2, "\r\n", 2);
    }
    return 0;
oom:
    serve_static_free(st);
    return -ENOMEM;
}

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
 * The demo API under /api/, for scripts/login.lua and the workflow tests.
 * Stateless on purpose: a token is "tok-" + the user's name, the session
 * cookie holds the name.
 *   POST /api/login  {"name": N, "password": "pw"} -> 200 {"token": "tok-N"}
 *                    and Set-Cookie: session=N; 401 on a wrong password
 *   GET  /api/items          (Authorization: Bearer tok-...) -> 200 JSON list
 *   GET  /api/items/ID       (Authorization) -> 200 item, 404 unknown ID
 *   POST /api/cart           (Cookie: session=...) -> 201, 403 without it
 *   GET  /api/me             (Cookie) -> 200 {"name": N}, 403 without it
 * Anything else under /api/ is 404. */

static const char *demo_items[] = { "apple", "banana", "cherry", "damson", "elderberry" };
#define DEMO_NITEMS (sizeof demo_items / sizeof demo_items[0])

static const serve_header_t *find_header(const serve_request_t *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name_len == n && !strncasecmp(req->headers[i].name, name, n))
            return &req->headers[i];
    return NULL;
}

/* The string value of "key" in a flat JSON object (demo-grade: no escapes). */
static int json_string(const char *body, size_t len, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *end = body + len, *p = body;
    size_t pl = strlen(pat);
    for (; p + pl <= end; p++) {
        if (memcmp(p, pat, pl)) continue;
        p += pl;
        while (p < end && (*p == ' ' || *p == ':' || *p == '\t')) p++;
        if (p >= end || *p != '"') return -1;
        const char *v = ++p;
        while (p < end && *p != '"') p++;
        if (p >= end || (size_t)(p - v) >= size) return -1;
        memcpy(out, v, (size_t)(p - v));
        out[p - v] = 0;
        return 0;
    }
    return -1;
}

/* The session cookie's value, or -1. */
static int session_of(const serve_request_t *req, char *out, size_t size)
{
    const serve_header_t *h = find_header(req, "Cookie");
    if (!h) return -1;
    const char *p = h->value, *end = h->value + h->value_len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ';')) p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) return -1;
        const char *semi = memchr(eq, ';', (size_t)(end - eq));
        if (!semi) semi = end;
        if (eq - p == 7 && !memcmp(p, "session", 7) && (size_t)(semi - eq - 1) < size && semi > eq + 1) {
            memcpy(out, eq + 1, (size_t)(semi - eq - 1));
            out[semi - eq - 1] = 0;
            return 0;
        }
        p = semi;
    }
    return -1;
}

static int has_token(const serve_request_t *req)
{
    const serve_header_t *h = find_header(req, "Authorization");
    return h && h->value_len > 11 && !memcmp(h->value, "Bearer tok-", 11);
}

static _Thread_local char demo_body[1024];
static _Thread_local char demo_headers[256];

static void demo_json(serve_response_t *res, int status, const char *fmt, const char *arg)
{
    int n = snprintf(demo_body, sizeof demo_body, fmt, arg);
    res->status = status;
    res->content_type = "application/json";
    res->body = demo_body;
    res->body_len = n < 0 ? 0 : (size_t)n >= sizeof demo_body ? sizeof demo_body - 1 : (size_t)n;
}

static void serve_demo_api(const serve_request_t *req, serve_response_t *res)
{
    const char *path = req->path + 4; /* after "/api" */
    size_t len = req->path_len - 4;
    const char *q = memchr(path, '?', len);
    if (q) len = (size_t)(q - path);
    int get = !strcmp(req->method, "GET") || req->head, post = !strcmp(req->method, "POST");
    char name[64];
#define IS(p) (len == sizeof(p) - 1 && !memcmp(path, p, len))
    if (IS("/login") && post) {
        char pw[64];
        if (json_string(req->body, req->body_len, "name", name, sizeof name) ||
            json_string(req->body, req->body_len, "password", pw, sizeof pw) || strcmp(pw, "pw")) {
            demo_json(res, 401, "{\"error\": \"bad credentials%s\"}", "");
            return;
        }
        for (char *p = name; *p; p++)
            if (!isalnum((unsigned char)*p)) *p = '_';
        demo_json(res, 200, "{\"token\": \"tok-%s\"}", name);
        snprintf(demo_headers, sizeof demo_headers, "Set-Cookie: session=%s; Path=/; HttpOnly\r\n", name);
        res->headers = demo_headers;
    } else if (IS("/items") && get) {
        if (!has_token(req)) { demo_json(res, 401, "{\"error\": \"token required%s\"}", ""); return; }
        demo_json(res, 200, "[{\"id\": 1, \"name\": \"apple\"}, {\"id\": 2, \"name\": \"banana\"}, "
                  "{\"id\": 3, \"name\": \"cherry\"}, {\"id\": 4, \"name\": \"damson\"}, "
                  "{\"id\": 5, \"name\": \"elderberry\"}%s]", "");
    } else if (len > 7 && !memcmp(path, "/items/", 7) && get) {
        if (!has_token(req)) { demo_json(res, 401, "{\"error\": \"token required%s\"}", ""); return; }
        char *end;
        char idbuf[16];
        size_t il = len - 7 < sizeof idbuf - 1 ? len - 7 : sizeof idbuf - 1;
        memcpy(idbuf, path + 7, il);
        idbuf[il] = 0;
        long id = strtol(idbuf, &end, 10);
        if (*end || id < 1 || id > (long)DEMO_NITEMS) {
            demo_json(res, 404, "{\"error\": \"no such item%s\"}", "");
            return;
        }
        snprintf(name, sizeof name, "%ld", id);
        demo_json(res, 200, "{\"id\": %s, ", name);
        size_t n = res->body_len;
        snprintf(demo_body + n, sizeof demo_body - n, "\"name\": \"%s\"}", demo_items[id - 1]);
        res->body_len = strlen(demo_body);
    } else if (IS("/cart") && post) {
        if (session_of(req, name, sizeof name)) { demo_json(res, 403, "{\"error\": \"log in first%s\"}", ""); return; }
        demo_json(res, 201, "{\"ok\": true, \"user\": \"%s\"}", name);
    } else if (IS("/me") && get) {
        if (session_of(req, name, sizeof name)) { demo_json(res, 403, "{\"error\": \"log in first%s\"}", ""); return; }
        demo_json(res, 200, "{\"name\": \"%s\"}", name);
    } else {
        demo_json(res, 404, "{\"error\": \"not found%s\"}", "");
    }
#undef IS
}

/* Fill res for req; leaving res->status at 0 sends the configured default
 * response, the fast path. A route sets status, content type and body, which
 * go out with Content-Length framing (never chunked). */
static void serve_route(const serve_config_t *cfg, const serve_request_t *req,
                        serve_response_t *res)
{
    (void)cfg;
    if (req->path_len >= 5 && !memcmp(req->path, "/api/", 5)) serve_demo_api(req, res);
}

/* ---------------------------------------------------------------------------
 * Workers and connections */

typedef struct serve_shared {
    serve_config_t cfg;
    serve_static_t st;
    atomic_uint_fast64_t fault_seq;   /* requests seen, server-wide (only with --fault) */
} serve_shared_t;

typedef struct serve_conn serve_conn_t;

typedef struct serve_worker {
    serve_shared_t *sh;
    const serve_config_t *cfg;        /* &sh->cfg */
    const serve_static_t *st;         /* &sh->st */
    loop_t *loop;                     /* owned */
    loop_handle_t listen_h;           /* listener (fd owned by serve_main) */
    loop_timer_t accept_timer;        /* accept() retry after EMFILE and friends */
    pthread_t thread;
    atomic_int stop;                  /* set by serve_main, then loop_wake() */
    int failed;                       /* the loop failed; the thread stopped */
    int need_due;                     /* --delay/--stall: responses carry due times */
    int need_clock;                   /* need_due or --trickle: flush reads the clock */
    char *rbuf;                       /* SERVE_READ_BUF bytes, owned by the thread */
    serve_conn_t *conns;              /* open connections (owned list) */
    uint64_t connections, requests, responses, faults;  /* summed at exit */
} serve_worker_t;

enum { SEG_NONE, SEG_CLOSE, SEG_RESET }; /* action once a segment is written */

typedef struct serve_seg {
    const char *ptr;      /* static bytes, or NULL: c->obuf + obuf_off */
    uint64_t due;         /* not before this monotonic time (0 = now) */
    uint32_t len, off;    /* length, bytes already written */
    uint32_t obuf_off;
    uint8_t action;       /* SEG_* */
} serve_seg_t;

/* The request being parsed, reused across requests (owned by its conn). */
typedef struct serve_req {
    char *buf;            /* url, header names and values, kept body */
    uint32_t len, cap;
    uint32_t head_len;    /* request-line + header bytes seen (431 limit) */
    uint32_t url_off, url_len;
    struct { uint32_t name_off, name_len, value_off, value_len; } hdr[SERVE_MAX_HEADERS];
    uint32_t nhdr;
    uint32_t body_off, body_len;
    uint64_t body_total;
    uint8_t in;           /* RQ_*: what the last header callback was */
    uint8_t keep;         /* the current header fits in hdr[] */
} serve_req_t;

enum { RQ_NONE, RQ_FIELD, RQ_VALUE };
enum { CONN_OPEN, CONN_LINGER, CONN_DEAD };

struct serve_conn {
    loop_handle_t h;          /* first: the io callback casts back */
    loop_timer_t timer;       /* next due write (delay, stall, trickle) or linger end */
    loop_timer_t probe;       /* EOF probe after a short read (see conn_watch_eof) */
    serve_worker_t *w;
    serve_conn_t *prev, *next;
    llhttp_t parser;
    serve_seg_t *q;           /* output ring (owned), q_cap a power of two */
    uint32_t q_head, q_len, q_cap;
    char *obuf;               /* bytes of queued dynamic segments (owned) */
    uint32_t obuf_len, obuf_cap;
    serve_req_t *rq;          /* owned, allocated on the first request */
    uint64_t arrival;         /* when the current read arrived (need_due only) */
    uint64_t next_byte_at;    /* --trickle: earliest next byte */
    uint64_t nresp;           /* requests answered on this connection */
    uint32_t reads, probe_reads; /* short reads so far / when the probe was armed */
    uint8_t state;            /* CONN_* */
    uint8_t ignore_input;     /* after hang/drop/reset/close: parse nothing more */
    uint8_t peer_eof;         /* the client sent FIN */
    uint8_t want_write;       /* the last write hit EAGAIN: wait for LOOP_WRITABLE */
    uint8_t read_paused;      /* too much queued: read again once drained */
    uint8_t resume_read;      /* drained while paused: read now (edge-triggered) */
    uint8_t broken;           /* out of memory: close */
    uint16_t error_status;    /* 431 when the request head is too large */
};

static void conn_kill(serve_conn_t *c)
{
    if (c->state == CONN_DEAD) return;
    loop_timer_stop(c->w->loop, &c->timer);
    loop_timer_stop(c->w->loop, &c->probe);
    loop_remove(c->w->loop, &c->h);
    close(c->h.fd);
    c->state = CONN_DEAD;
}

static void conn_free(serve_conn_t *c)
{
    serve_worker_t *w = c->w;
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->rq) free(c->rq->buf);
    free(c->rq);
    free(c->q);
    free(c->obuf);
    free(c);
}

static void conn_arm(serve_conn_t *c, uint64_t at)
{
    if (c->timer.slot >= 0 && c->timer.when == at) return;
    if (loop_timer_start(c->w->loop, &c->timer, at) < 0) conn_kill(c);
}

/* Graceful close: FIN now, then drain the client's bytes until its EOF so
 * that close() never turns into an RST that destroys what we sent. */
static void conn_linger(serve_conn_t *c)
{
    if (c->peer_eof) { conn_kill(c); return; }
    shutdown(c->h.fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->ignore_input = 1;
    c->resume_read = 1; /* its EOF may have arrived on an edge already seen */
    conn_arm(c, loop_now() + SERVE_LINGER_NS);
}

/* Abortive close: SO_LINGER {1, 0} makes close() send RST. */
static void conn_reset(serve_conn_t *c)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(c->h.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn_kill(c);
}

static serve_seg_t *conn_seg_new(serve_conn_t *c, uint64_t due, int action)
{
    if (c->q_len == c->q_cap) {
        uint32_t cap = c->q_cap ? c->q_cap * 2 : 8;
        serve_seg_t *q = malloc(cap * sizeof *q);
        if (!q) { c->broken = 1; return NULL; }
        for (uint32_t i = 0; i < c->q_len; i++) q[i] = c->q[(c->q_head + i) & (c->q_cap - 1)];
        free(c->q);
        c->q = q;
        c->q_head = 0;
        c->q_cap = cap;
    }
    serve_seg_t *s = &c->q[(c->q_head + c->q_len) & (c->q_cap - 1)];
    c->q_len++;
    s->ptr = NULL;
    s->due = due;
    s->len = s->off = s->obuf_off = 0;
    s->action = (uint8_t)action;
    return s;
}

/* Queue len static bytes (they outlive the connection). */
static void conn_push(serve_conn_t *c, const char *p, size_t len, uint64_t due, int action)
{
    if (!len && !action) return;
    serve_seg_t *s = conn_seg_new(c, due, action);
    if (!s) return;
    s->ptr = p;
    s->len = (uint32_t)len;
}

/* Queue a copy of len bytes. */
static void conn_push_copy(serve_conn_t *c, const char *p, size_t len, uint64_t due, int action)
{
    if (!len && !action) return;
    if ((size_t)c->obuf_len + len > c->obuf_cap) {
        size_t cap = c->obuf_cap ? c->obuf_cap : 1024;
        while (cap < (size_t)c->obuf_len + len) cap *= 2;
        char *b = cap <= UINT32_MAX ? realloc(c->obuf, cap) : NULL;
        if (!b) { c->broken = 1; return; }
        c->obuf = b;
        c->obuf_cap = (uint32_t)cap;
    }
    serve_seg_t *s = conn_seg_new(c, due, action);
    if (!s) return;
    s->obuf_off = c->obuf_len;
    s->len = (uint32_t)len;
    if (len) memcpy(c->obuf + c->obuf_len, p, len);
    c->obuf_len += (uint32_t)len;
}

/* Queue a formatted response (handler answers, status500). */
static void conn_push_dynamic(serve_conn_t *c, int status, const char *ctype,
                              const char *headers, const char *body, size_t body_len,
                              int head, int ch, uint64_t due)
{
    char hb[512];
    int n = snprintf(hb, sizeof hb,
                     "HTTP/1.1 %d %s\r\nServer: barrage\r\nContent-Type: %.100s\r\n"
                     "Content-Length: %zu\r\n%.250s%s\r\n",
                     status, serve_reason(status), ctype ? ctype : "text/plain",
                     body_len, headers ? headers : "", serve_conn_lines[ch]);
    conn_push_copy(c, hb, (size_t)n, due, SEG_NONE);
    if (!head) conn_push_copy(c, body, body_len, due, SEG_NONE);
}

/* When the response to a request read now may go out. */
static uint64_t conn_due(const serve_conn_t *c)
{
    const serve_worker_t *w = c->w;
    if (!w->need_due) return 0;
    const serve_config_t *cfg = w->cfg;
    uint64_t t = c->arrival + cfg->delay_ns;
    if (cfg->stall_ns) {
        uint64_t phase = (t - cfg->start_ns) % cfg->stall_period_ns;
        if (phase < cfg->stall_ns) t += cfg->stall_ns - phase;
    }
    return t;
}

static serve_fault_t serve_pick_fault(serve_worker_t *w)
{
    uint64_t n = atomic_fetch_add_explicit(&w->sh->fault_seq, 1, memory_order_relaxed) + 1;
    if (n % w->cfg->fault_every) return SERVE_FAULT_NONE;
    w->faults++;
    return w->cfg->fault;
}

/* ---------------------------------------------------------------------------
 * llhttp callbacks: capture the request, answer it when complete */

static int rq_append(serve_conn_t *c, const char *p, size_t n)
{
    serve_req_t *rq = c->rq;
    if ((size_t)rq->len + n > rq->cap) {
        size_t cap = rq->cap;
        while (cap < (size_t)rq->len + n) cap *= 2;
        char *b = realloc(rq->buf, cap);
        if (!b) { c->broken = 1; return -1; }
        rq->buf = b;
        rq->cap = (uint32_t)cap;
    }
    memcpy(rq->buf + rq->len, p, n);
    rq->len += (uint32_t)n;
    return 0;
}

/* Count head bytes; -1 (431) once the head is too large. */
static int rq_head(serve_conn_t *c, size_t n)
{
    c->rq->head_len += (uint32_t)(n < SERVE_MAX_HEAD ? n : SERVE_MAX_HEAD);
    if (c->rq->head_len <= SERVE_MAX_HEAD) return 0;
    c->error_status = 431;
    return -1;
}

static int on_message_begin(llhttp_t *p)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    if (!rq) {
        rq = c->rq = calloc(1, sizeof *rq);
        if (rq) rq->buf = malloc(512);
        if (!rq || !rq->buf) { c->broken = 1; return -1; }
        rq->cap = 512;
    }
    rq->len = rq->head_len = rq->url_off = rq->url_len = rq->nhdr = 0;
    rq->body_off = rq->body_len = 0;
    rq->body_total = 0;
    rq->in = RQ_NONE;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    if (rq_head(c, n)) return -1;
    c->rq->url_off = c->rq->len - c->rq->url_len;
    if (rq_append(c, at, n)) return -1;
    c->rq->url_len += (uint32_t)n;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    if (rq_head(c, n)) return -1;
    if (rq->in != RQ_FIELD) {
        rq->in = RQ_FIELD;
        rq->keep = rq->nhdr < SERVE_MAX_HEADERS;
        if (rq->keep) {
            rq->hdr[rq->nhdr].name_off = rq->len;
            rq->hdr[rq->nhdr].name_len = 0;
            rq->hdr[rq->nhdr].value_off = rq->len;
            rq->hdr[rq->nhdr].value_len = 0;
            rq->nhdr++;
        }
    }
    if (!rq->keep) return 0;
    if (rq_append(c, at, n)) return -1;
    rq->hdr[rq->nhdr - 1].name_len += (uint32_t)n;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    if (rq_head(c, n)) return -1;
    if (rq->in != RQ_VALUE) {
        rq->in = RQ_VALUE;
        if (rq->keep && rq->nhdr) rq->hdr[rq->nhdr - 1].value_off = rq->len;
    }
    if (!rq->keep || !rq->nhdr) return 0;
    if (rq_append(c, at, n)) return -1;
    rq->hdr[rq->nhdr - 1].value_len += (uint32_t)n;
    return 0;
}

static int rq_header_is(const serve_req_t *rq, uint32_t i, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    return rq->hdr[i].name_len == nl && !strncasecmp(rq->buf + rq->hdr[i].name_off, name, nl) &&
           rq->hdr[i].value_len == vl && !strncasecmp(rq->buf + rq->hdr[i].value_off, value, vl);
}

static int on_headers_complete(llhttp_t *p)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    rq->body_off = rq->len;
    if (p->http_major == 1 && p->http_minor >= 1) {
        for (uint32_t i = 0; i < rq->nhdr; i++) {
            if (rq_header_is(rq, i, "expect", "100-continue")) {
                conn_push(c, serve_continue, sizeof serve_continue - 1, 0, SEG_NONE);
                break;
            }
        }
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    serve_conn_t *c = p->data;
    serve_req_t *rq = c->rq;
    rq->body_total += n;
    size_t room = SERVE_MAX_BODY_KEEP - rq->body_len;
    size_t keep = n < room ? n : room;
    if (keep) {
        if (rq_append(c, at, keep)) return -1;
        rq->body_len += (uint32_t)keep;
    }
    return 0;
}

/* The normal answer: the handler's, or the prebuilt default. */
static void conn_answer(serve_conn_t *c, const llhttp_t *p, int head, int te, int ch,
                        uint64_t due)
{
    serve_worker_t *w = c->w;
    const serve_static_t *st = w->st;
    const serve_req_t *rq = c->rq;
    serve_header_t hdrs[SERVE_MAX_HEADERS];
    for (uint32_t i = 0; i < rq->nhdr; i++) {
        hdrs[i].name = rq->buf + rq->hdr[i].name_off;
        hdrs[i].name_len = rq->hdr[i].name_len;
        hdrs[i].value = rq->buf + rq->hdr[i].value_off;
        hdrs[i].value_len = rq->hdr[i].value_len;
    }
    serve_request_t req = {
        .method = llhttp_method_name((llhttp_method_t)p->method),
        .head = head,
        .path = rq->buf + rq->url_off,
        .path_len = rq->url_len,
        .headers = hdrs,
        .header_count = rq->nhdr,
        .body = rq->buf + rq->body_off,
        .body_len = rq->body_len,
        .body_total = rq->body_total,
    };
    serve_response_t res = { 0 };
    serve_route(w->cfg, &req, &res);
    if (res.status) {
        conn_push_dynamic(c, res.status, res.content_type, res.headers, res.body, res.body_len,
                          head, ch, due);
    } else {
        conn_push(c, st->head[te][ch], st->head_len[te][ch], due, SEG_NONE);
        if (!head) {
            if (te) conn_push(c, st->cbody, st->cbody_len, due, SEG_NONE);
            else conn_push(c, st->body, st->body_len, due, SEG_NONE);
        }
    }
    w->responses++;
}

static int on_message_complete(llhttp_t *p)
{
    serve_conn_t *c = p->data;
    serve_worker_t *w = c->w;
    const serve_config_t *cfg = w->cfg;
    const serve_static_t *st = w->st;
    w->requests++;
    c->nresp++;
    int head = p->method == HTTP_HEAD;
    int closing = !llhttp_should_keep_alive(p) || p->upgrade ||
                  (cfg->close_after && c->nresp >= cfg->close_after);
    int ch = closing ? CH_CLOSE : (p->http_major == 1 && p->http_minor == 0) ? CH_KEEP_ALIVE
                                                                             : CH_NONE;
    /* chunked only to HTTP/1.1 clients; HTTP/1.0 gets Content-Length */
    int te = st->cbody && p->http_major == 1 && p->http_minor >= 1;
    uint64_t due = conn_due(c);
    serve_fault_t fault = cfg->fault ? serve_pick_fault(w) : SERVE_FAULT_NONE;
    const char *body = te ? st->cbody : st->body;
    size_t body_len = head ? 0 : te ? st->cbody_len : st->body_len;

    switch (fault) {
    case SERVE_FAULT_NONE:
    case SERVE_FAULT_CONTINUE:
    case SERVE_FAULT_EXTRA:
        if (fault == SERVE_FAULT_CONTINUE)
            conn_push(c, serve_continue, sizeof serve_continue - 1, due, SEG_NONE);
        conn_answer(c, p, head, te, ch, due);
        if (fault == SERVE_FAULT_EXTRA)
            conn_push(c, serve_extra, sizeof serve_extra - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_HANG:
        c->ignore_input = 1;
        return HPE_PAUSED;
    case SERVE_FAULT_DROP:
        conn_push(c, NULL, 0, due, SEG_CLOSE);
        c->ignore_input = 1;
        return HPE_PAUSED;
    case SERVE_FAULT_RESET:
        conn_push(c, st->head[te][ch], st->head_len[te][ch] / 2, due, SEG_RESET);
        c->ignore_input = 1;
        return HPE_PAUSED;
    case SERVE_FAULT_MALFORMED:
        conn_push(c, serve_malformed, sizeof serve_malformed - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_BADCHUNK:
        conn_push(c, serve_badchunk, sizeof serve_badchunk - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_BIGHEADER:
        conn_push(c, st->head[te][ch], st->status_line_len, due, SEG_NONE);
        conn_push(c, st->big, st->big_len, due, SEG_NONE);
        conn_push(c, st->head[te][ch] + st->status_line_len,
                  st->head_len[te][ch] - st->status_line_len, due, SEG_NONE);
        conn_push(c, body, body_len, due, SEG_NONE);
        break;
    case SERVE_FAULT_SHORTBODY: {
        /* announce the whole body (at least 1 byte), send half, close */
        char hb[256];
        size_t announced = st->body_len ? st->body_len : 1;
        int n = snprintf(hb, sizeof hb,
                         "HTTP/1.1 %d %s\r\nServer: barrage\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         cfg->status, serve_reason(cfg->status), announced);
        conn_push_copy(c, hb, (size_t)n, due, SEG_NONE);
        conn_push(c, st->body, st->body_len / 2, due, SEG_NONE);
        conn_push(c, NULL, 0, due, SEG_CLOSE);
        c->ignore_input = 1;
        return HPE_PAUSED;
    }
    case SERVE_FAULT_LONGBODY:
        conn_push(c, st->head[0][ch], st->head_len[0][ch], due, SEG_NONE);
        conn_push(c, st->body, st->body_len, due, SEG_NONE);
        conn_push(c, serve_garbage, sizeof serve_garbage - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_STATUS500:
        conn_push_dynamic(c, 500, "text/plain", NULL, "Internal Server Error", 21, head, ch, due);
        break;
    case SERVE_FAULT_NOTMODIFIED:
        conn_push(c, serve_notmodified, sizeof serve_notmodified - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_CHUNKEXT:
        if (head) conn_answer(c, p, head, te, ch, due); /* HEAD gets no body at all */
        else conn_push(c, serve_chunkext, sizeof serve_chunkext - 1, due, SEG_NONE);
        break;
    case SERVE_FAULT_COUNT:
        break;
    }
    if (closing) {
        conn_push(c, NULL, 0, due, SEG_CLOSE);
        c->ignore_input = 1;
        return HPE_PAUSED;
    }
    return c->broken ? HPE_PAUSED : 0;
}

static const llhttp_settings_t serve_llhttp_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---------------------------------------------------------------------------
 * Reading and writing */

static void conn_parse(serve_conn_t *c, const char *data, size_t n)
{
    llhttp_errno_t e = llhttp_execute(&c->parser, data, n);
    if (e == HPE_OK || e == HPE_PAUSED || c->broken) return;
    if (e == HPE_PAUSED_UPGRADE) { c->ignore_input = 1; return; } /* answered, closing */
    /* a malformed request: say so and close */
    if (c->error_status == 431) conn_push(c, serve_431, sizeof serve_431 - 1, conn_due(c), SEG_CLOSE);
    else conn_push(c, serve_400, sizeof serve_400 - 1, conn_due(c), SEG_CLOSE);
    c->ignore_input = 1;
}

/* The queue head was written: drop it and run its action. */
static void conn_pop(serve_conn_t *c)
{
    int action = c->q[c->q_head].action;
    c->q_head = (c->q_head + 1) & (c->q_cap - 1);
    c->q_len--;
    if (action == SEG_CLOSE) conn_linger(c);
    else if (action == SEG_RESET) conn_reset(c);
}

/* r bytes were written from the head of the queue. */
static void conn_consume(serve_conn_t *c, size_t r)
{
    while (r > 0 && c->state == CONN_OPEN && c->q_len) {
        serve_seg_t *s = &c->q[c->q_head];
        size_t left = s->len - s->off;
        if (r < left) { s->off += (uint32_t)r; return; }
        s->off = s->len;
        r -= left;
        conn_pop(c);
    }
}

static void conn_drained(serve_conn_t *c)
{
    c->obuf_len = 0;
    if (c->peer_eof) { conn_kill(c); return; } /* all answered; the client is gone */
    if (c->read_paused) {
        c->read_paused = 0;
        c->resume_read = 1;
    }
}

/* Write what is due, as few sendmsg() calls as possible. */
static void conn_flush(serve_conn_t *c)
{
    serve_worker_t *w = c->w;
    uint64_t trickle = w->cfg->trickle_ns;
    uint64_t now = w->need_clock ? loop_now() : 0;
    while (c->state == CONN_OPEN) {
        if (!c->q_len) { conn_drained(c); return; }
        if (c->want_write) return;
        serve_seg_t *s = &c->q[c->q_head];
        uint64_t at = s->due;
        if (trickle && c->next_byte_at > at) at = c->next_byte_at;
        if (at > now) { conn_arm(c, at); return; }
        if (s->off == s->len) { conn_pop(c); continue; }

        struct iovec iov[SERVE_IOV_MAX];
        int n = 0;
        for (uint32_t i = 0; i < c->q_len && n < SERVE_IOV_MAX; i++) {
            const serve_seg_t *x = &c->q[(c->q_head + i) & (c->q_cap - 1)];
            if (x->due > now) break;
            if (x->off < x->len) {
                const char *base = x->ptr ? x->ptr : c->obuf + x->obuf_off;
                iov[n].iov_base = (void *)(uintptr_t)(base + x->off);
                iov[n].iov_len = x->len - x->off;
                n++;
                if (trickle) { iov[0].iov_len = 1; break; }
            }
            if (x->action) break;
        }
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t r = sendmsg(c->h.fd, &mh, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) { c->want_write = 1; return; }
            conn_kill(c);
            return;
        }
        if (trickle) c->next_byte_at = now + trickle;
        conn_consume(c, (size_t)r);
    }
}

/* Why a probe: a read that returns less than asked for means the socket is
 * drained *unless* the client's FIN came on the same edge (the loop reports
 * EPOLLRDHUP as plain LOOP_READABLE). Reading again until EAGAIN would find
 * it, at the price of one more syscall per request. Instead, a short read
 * arms a timer (at most once per period, so the hot path only tests
 * timer.slot); when it fires after a period without any read, one probe
 * read finds a hidden EOF. A half-closing keep-alive client (`nc -N`) is
 * closed within two periods; busy connections never pay a syscall. */
static void conn_watch_eof(serve_conn_t *c)
{
    c->reads++;
    if (c->probe.slot >= 0) return;
    c->probe_reads = c->reads;
    if (loop_timer_start(c->w->loop, &c->probe, loop_now() + SERVE_EOF_PROBE_NS) < 0)
        conn_kill(c);
}

/* Read until a short read or EAGAIN, parsing as we go (bytes that will not
 * be parsed are read until EAGAIN). */
static void conn_read(serve_conn_t *c)
{
    serve_worker_t *w = c->w;
    while (c->state != CONN_DEAD && !c->read_paused && !c->peer_eof) {
        ssize_t n = read(c->h.fd, w->rbuf, SERVE_READ_BUF);
        if (n > 0) {
            if (c->state == CONN_OPEN && !c->ignore_input) {
                if (w->need_due) c->arrival = loop_now();
                conn_parse(c, w->rbuf, (size_t)n);
                if (c->broken) { conn_kill(c); return; }
                if (c->q_len >= SERVE_PAUSE_SEGS || c->obuf_len >= SERVE_PAUSE_OBUF)
                    c->read_paused = 1;
                else if ((size_t)n < SERVE_READ_BUF) {
                    conn_watch_eof(c);
                    return;
                }
            }
            continue;
        }
        if (n == 0) {
            c->peer_eof = 1;
            if (c->state == CONN_LINGER || !c->q_len) conn_kill(c);
            return;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) conn_kill(c);
        return;
    }
}

/* Read (when told to), write, and repeat while a paused read resumes. Frees
 * the connection when it died: callers must not touch c afterwards. */
static void conn_run(serve_conn_t *c, int readable)
{
    for (;;) {
        if (readable) conn_read(c);
        conn_flush(c);
        if (c->state == CONN_DEAD) break;
        if (!c->resume_read) return;
        c->resume_read = 0;
        readable = 1;
    }
    conn_free(c);
}

static void conn_on_io(loop_handle_t *h, int events)
{
    serve_conn_t *c = (serve_conn_t *)h;
    if (events & LOOP_ERROR) { /* RST, or both directions shut */
        conn_kill(c);
        conn_free(c);
        return;
    }
    if (events & LOOP_WRITABLE) c->want_write = 0;
    conn_run(c, events & LOOP_READABLE);
}

static void conn_on_timer(loop_timer_t *t)
{
    serve_conn_t *c = SERVE_CONTAINER(t, serve_conn_t, timer);
    if (c->state == CONN_LINGER) { /* the client never sent EOF */
        conn_kill(c);
        conn_free(c);
        return;
    }
    conn_run(c, 0);
}

static void conn_on_probe(loop_timer_t *t)
{
    serve_conn_t *c = SERVE_CONTAINER(t, serve_conn_t, probe);
    if (c->reads != c->probe_reads) { /* still busy: look again later */
        c->probe_reads = c->reads;
        if (loop_timer_start(c->w->loop, &c->probe, loop_now() + SERVE_EOF_PROBE_NS) < 0) {
            conn_kill(c);
            conn_free(c);
        }
        return;
    }
    conn_run(c, 1);
}

/* ---------------------------------------------------------------------------
 * Accepting */

static void worker_accept(serve_worker_t *w)
{
    for (;;) {
        int fd = accept4(w->listen_h.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the edge is spent, so retry on a timer */
            loop_timer_start(w->loop, &w->accept_timer, loop_now() + SERVE_ACCEPT_RETRY_NS);
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve_conn_t *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->h.fd = fd;
        c->h.cb = conn_on_io;
        c->w = w;
        loop_timer_init(&c->timer, conn_on_timer);
        loop_timer_init(&c->probe, conn_on_probe);
        llhttp_init(&c->parser, HTTP_REQUEST, &serve_llhttp_settings);
        c->parser.data = c;
        if (loop_add(w->loop, &c->h) < 0) { close(fd); free(c); continue; }
        c->next = w->conns;
        if (w->conns) w->conns->prev = c;
        w->conns = c;
        w->connections++;
    }
}

static void worker_on_listen(loop_handle_t *h, int events)
{
    (void)events;
    worker_accept(SERVE_CONTAINER(h, serve_worker_t, listen_h));
}

static void worker_on_accept_timer(loop_timer_t *t)
{
    worker_accept(SERVE_CONTAINER(t, serve_worker_t, accept_timer));
}

static void *worker_main(void *arg)
{
    serve_worker_t *w = arg;
    w->rbuf = malloc(SERVE_READ_BUF);
    if (!w->rbuf || loop_add(w->loop, &w->listen_h) < 0) {
        w->failed = 1;
        kill(getpid(), SIGTERM); /* serve_main's sigwait() stops everything */
        free(w->rbuf);
        return NULL;
    }
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        if (loop_run_once(w->loop, UINT64_MAX) < 0) {
            w->failed = 1;
            kill(getpid(), SIGTERM);
            break;
        }
    }
    while (w->conns) {
        serve_conn_t *c = w->conns;
        conn_kill(c);
        conn_free(c);
    }
    loop_timer_stop(w->loop, &w->accept_timer);
    loop_remove(w->loop, &w->listen_h);
    free(w->rbuf);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Listening and the program */

/* A bound, listening, non-blocking socket, or -errno. */
static int serve_listen_socket(const struct sockaddr *addr, socklen_t len, int reuseport)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        bind(fd, addr, len) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void serve_format_addr(const struct sockaddr_storage *ss, char *buf, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(buf, n, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    }
}

int serve_main(int argc, char **argv)
{
    serve_shared_t *sh = calloc(1, sizeof *sh);
    if (!sh) { fputs("barrage serve: out of memory\n", stderr); return 1; }
    int rc = serve_parse_args(argc, argv, &sh->cfg);
    if (rc) { free(sh); return rc < 0 ? 0 : rc; }
    serve_config_t *cfg = &sh->cfg;
    atomic_init(&sh->fault_seq, 0);
    if (serve_static_build(cfg, &sh->st) < 0) {
        fputs("barrage serve: out of memory\n", stderr);
        free(sh);
        return 1;
    }

    /* Workers inherit this mask; the main thread takes the signals in sigwait(). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* belt and braces: every send uses MSG_NOSIGNAL */

    int n = cfg->threads, started = 0;
    serve_worker_t *workers = calloc((size_t)n, sizeof *workers);
    rc = 1;
    if (!workers) { fputs("barrage serve: out of memory\n", stderr); goto out; }
    for (int i = 0; i < n; i++) workers[i].listen_h.fd = -1;

    struct sockaddr_storage bound = cfg->addr;
    socklen_t bound_len = cfg->addr_len;
    for (int i = 0; i < n; i++) {
        int fd = serve_listen_socket((struct sockaddr *)&bound, bound_len, n > 1);
        if (fd < 0) {
            char where[INET6_ADDRSTRLEN + 16];
            serve_format_addr(&bound, where, sizeof where);
            fprintf(stderr, "barrage serve: cannot listen on %s: %s (pick another "
                    "--listen address or port)\n", where, strerror(-fd));
            goto out;
        }
        workers[i].listen_h.fd = fd;
        if (i == 0) { /* port 0: every other listener joins the port we got */
            bound_len = sizeof bound;
            getsockname(fd, (struct sockaddr *)&bound, &bound_len);
        }
    }

    cfg->start_ns = loop_now();
    for (int i = 0; i < n; i++) {
        serve_worker_t *w = &workers[i];
        w->sh = sh;
        w->cfg = cfg;
        w->st = &sh->st;
        w->listen_h.cb = worker_on_listen;
        loop_timer_init(&w->accept_timer, worker_on_accept_timer);
        w->need_due = cfg->delay_ns || cfg->stall_ns;
        w->need_clock = w->need_due || cfg->trickle_ns;
        atomic_init(&w->stop, 0);
        w->loop = loop_create(256);
        if (!w->loop) { fputs("barrage serve: cannot create an event loop\n", stderr); break; }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            fputs("barrage serve: cannot start a thread\n", stderr);
            break;
        }
        started++;
    }

    if (started == n) {
        char where[INET6_ADDRSTRLEN + 16];
        serve_format_addr(&bound, where, sizeof where);
        printf("listening on %s\n", where);
        fflush(stdout);
        int sig;
        sigwait(&set, &sig);
        rc = 0;
    }

    for (int i = 0; i < started; i++) {
        atomic_store_explicit(&workers[i].stop, 1, memory_order_release);
        loop_wake(workers[i].loop);
    }
    uint64_t conns = 0, reqs = 0, resps = 0, faults = 0;
    for (int i = 0; i < started; i++) {
        serve_worker_t *w = &workers[i];
        pthread_join(w->thread, NULL);
        if (w->failed) {
            fprintf(stderr, "barrage serve: worker %d stopped: its event loop failed\n", i);
            rc = 1;
        }
        conns += w->connections;
        reqs += w->requests;
        resps += w->responses;
        faults += w->faults;
    }
    if (started == n)
        fprintf(stderr, "serve: connections=%llu requests=%llu responses=%llu faults=%llu\n",
                (unsigned long long)conns, (unsigned long long)reqs,
                (unsigned long long)resps, (unsigned long long)faults);
out:
    if (workers) {
        for (int i = 0; i < n; i++) {
            if (workers[i].loop) loop_destroy(workers[i].loop);
            if (workers[i].listen_h.fd >= 0) close(workers[i].listen_h.fd);
        }
    }
    free(workers);
    serve_static_free(&sh->st);
    free(sh);
    return rc;
}
