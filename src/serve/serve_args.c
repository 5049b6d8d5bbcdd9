/* serve_args.c - `barrage serve`'s command line: the usage text, the option
 * table, value parsers and their one-line errors (see serve_args.h).
 */
#define _GNU_SOURCE
#include "serve_args.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SERVE_MAX_BODY_SIZE   (256u << 20)   /* --body-size limit */
#define SERVE_MAX_THREADS     1024

static const char *const serve_fault_names[SERVE_FAULT_COUNT] = {
    "", "reset", "drop", "hang", "malformed", "badchunk", "bigheader",
    "shortbody", "longbody", "continue", "extra", "status500", "notmodified", "chunkext",
};

#define SERVE_FAULT_LIST "reset, drop, hang, malformed, badchunk, bigheader, " \
                         "shortbody, longbody, continue, extra, status500, notmodified, chunkext"

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
    "  --fault-window FROM:TO  faults only for requests that arrive between FROM\n"
    "                       and TO after the server's first request (e.g. 1s:2s)\n"
    "  --capacity RPS:SERVICE[:QUEUE[:RECOVER]]\n"
    "                       a server of known capacity (server-wide): each request\n"
    "                       takes at least SERVICE and at most RPS leave per second;\n"
    "                       a wait over QUEUE is a 503 (after SERVICE + QUEUE); for\n"
    "                       RECOVER after the last 503 responses are 4 x SERVICE\n"
    "                       slower\n"
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

/* "A:B", two durations (--stall, --fault-window). 0, or -1. */
static int serve_parse_durations(const char *val, uint64_t *a, uint64_t *b)
{
    const char *colon = strchr(val, ':');
    char d[64];
    size_t dl = colon ? (size_t)(colon - val) : 0;
    if (!colon || dl >= sizeof d) return -1;
    memcpy(d, val, dl);
    d[dl] = 0;
    return units_parse_duration(d, a) < 0 || units_parse_duration(colon + 1, b) < 0 ? -1 : 0;
}

enum { OPT_LISTEN, OPT_THREADS, OPT_BODY_SIZE, OPT_CHUNKED, OPT_STATUS, OPT_DELAY,
       OPT_STALL, OPT_CLOSE_AFTER, OPT_TRICKLE, OPT_FAULT, OPT_FAULT_WINDOW, OPT_CAPACITY };

static const struct { const char *name; int id; int has_value; } serve_options[] = {
    { "--listen", OPT_LISTEN, 1 },       { "--threads", OPT_THREADS, 1 },
    { "--body-size", OPT_BODY_SIZE, 1 }, { "--chunked", OPT_CHUNKED, 0 },
    { "--status", OPT_STATUS, 1 },       { "--delay", OPT_DELAY, 1 },
    { "--stall", OPT_STALL, 1 },         { "--close-after", OPT_CLOSE_AFTER, 1 },
    { "--trickle", OPT_TRICKLE, 1 },     { "--fault", OPT_FAULT, 1 },
    { "--fault-window", OPT_FAULT_WINDOW, 1 },
    { "--capacity", OPT_CAPACITY, 1 },
};

#define SERVE_DURATION_FIX "(use e.g. 50ms, 2s)"

/* Fill cfg from argv. 0 to run, -1 when --help was printed, 2 on error. */
int serve_args_parse(int argc, char **argv, serve_config_t *cfg)
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
            if (serve_parse_durations(val, &cfg->stall_ns, &cfg->stall_period_ns) < 0)
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
        case OPT_FAULT_WINDOW: {
            if (serve_parse_durations(val, &cfg->fault_from_ns, &cfg->fault_to_ns) < 0)
                return serve_usage_error("--fault-window: cannot parse '%s' as FROM:TO "
                                         "(use e.g. 1s:2s)", val);
            if (cfg->fault_to_ns <= cfg->fault_from_ns)
                return serve_usage_error("--fault-window: '%s' ends before it starts "
                                         "(use e.g. 1s:2s)", val);
            cfg->fault_window = 1;
            break;
        }
        case OPT_CAPACITY: {
            char err[256];
            if (serve_capacity_parse(val, &cfg->capacity, err, sizeof err) < 0)
                return serve_usage_error("%s", err);
            break;
        }
        }
    }
    if (cfg->fault_window && !cfg->fault)
        return serve_usage_error("--fault-window needs a --fault KIND to inject "
                                 "(e.g. --fault status500 --fault-window 1s:2s)");
    if (!listen_given && serve_parse_listen(cfg->listen, cfg)) return 2;
    return 0;
}
