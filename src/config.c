/* config.c - option parsing and validation. Written by hand instead of with
 * getopt_long so that every mistake gets barrage's own one-line message. */
#include "config.h"
#include "seed.h"
#include "threshold.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S UINT64_C(1000000000)

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof *c);
    c->connections = 10;
    c->threads = 2;
    c->duration_ns = 10 * NS_PER_S;
    c->timeout_ns = 2 * NS_PER_S;
    c->pin = 1;
    c->method = "GET";
    c->tls_resume = 1;
    c->keepalive = 1;
    c->shard_count = 1;
    c->max_exceptions = UINT64_MAX;
    stats_expect_default(&c->expect);
}

/* strtod alone takes "nan", "inf" and "infinity": a number must start
 * with a digit (or a '.' and a digit). */
static int starts_number(const char *s)
{
    return isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]));
}

int config_parse_time(const char *s, double *unix_s)
{
    char *end;
    if (!s || !*s) return -1;
    if (!strchr(s, '-')) { /* Unix seconds */
        if (!starts_number(s)) return -1;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || *end || end == s || !isfinite(v) || v <= 0) return -1;
        *unix_s = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2d%*[Tt ]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return -1;
    const char *z = s + n;
    double off = 0;
    if (*z == 'Z' || *z == 'z') z++;
    else if (*z == '+' || *z == '-') {
        int oh, om, m = 0;
        if (sscanf(z + 1, "%2d:%2d%n", &oh, &om, &m) != 2) return -1;
        off = (oh * 3600 + om * 60) * (*z == '-' ? -1 : 1);
        z += 1 + m;
    } else return -1;
    if (*z || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || !isfinite(sec) || sec < 0 ||
        sec >= 61) return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = 0;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    *unix_s = (double)t + sec - off;
    return 0;
}

const char *config_usage(void)
{
    return
"Usage: barrage [options] <url>\n"
"       barrage serve [--listen ADDR:PORT] [options]   (built-in target; see --help there)\n"
"       barrage compare BASE.json NEW.json [...] [--fail-if 'p(99)>+5%%']\n"
"       barrage merge [-o FILE] A.json B.json ...\n"
"       barrage report RESULT.json [--html F] [--csv P] [--json F] [--threshold EXPR]... [--latency]\n"
"\n"
"Options (wrk's, plus a few):\n"
"  -c, --connections N   connections to keep open (default 10)\n"
"  -d, --duration T      duration of the test, e.g. 10s, 2m, 1h (default 10s)\n"
"  -t, --threads N       worker threads, each pinned to a CPU (default 2)\n"
"  -H, --header H        add a header to every request, e.g. -H 'Accept: */*' (repeatable)\n"
"  -s, --script FILE     load a Lua script\n"
"  -T, --timeout T       fail a request with no response within T (default 2s)\n"
"      --connect-timeout T\n"
"                        a connection not open (TCP connect and TLS handshake) within\n"
"                        T is a connect error, retried with back-off (default: -T)\n"
"  -L, --latency         print latency percentiles\n"
"  -n, --requests N      stop after exactly N responses (no time limit unless -d is given)\n"
"  -m, --method M        request method (default GET)\n"
"      --body STR        request body\n"
"      --body-file FILE  request body read from FILE (a regular file, at most 256 MiB)\n"
"      --no-pin          do not pin worker threads to CPUs\n"
"  -R, --rate N          constant rate: N requests/s in all (latency is measured from\n"
"                        each request's intended send time: coordinated omission)\n"
"      --stages LIST     ramp linearly through DURATION:TARGET stages, e.g.\n"
"                        30s:50,1m:50,10s:0 (targets are connections, or rates with -R)\n"
"      --threshold EXPR  pass/fail gate, e.g. 'p(95)<300ms', 'errors<0.1%%', 'rps>1000',\n"
"                        'non2xx==0', 'login:p(99)<1s' (repeatable; exit code 99 if one fails);\n"
"                        k6's names too: 'http_req_duration{name:login}:p(95)<300',\n"
"                        'http_req_failed:rate<0.01', 'http_reqs:count>1000', 'checks:rate>0.99',\n"
"                        'iterations:rate>10' (a name that never ran fails)\n"
"      --abort-on-fail   stop as soon as a threshold can no longer pass\n"
"      --expect-status LIST  statuses that are not failures (default 100-399), e.g.\n"
"                        200-399,429; any other status counts as a failed request\n"
"      --exit-on-failures  exit with code 1 when any request failed (off by default)\n"
"      --exit-code-on-error N  the same with exit code N (Locust's option; 0 = off)\n"
"      --max-exceptions N  end the run (exit 2) after more than N exceptions in virtual\n"
"                        users' code (default: none ends it, but a run that only -n N\n"
"                        ends stops after N; 0 = the first does)\n"
"  -q, --quiet           no live progress line on stderr\n"
"      --monitor-pid PID\n"
"                        watch the target process: CPU, RSS, open fds, threads each\n"
"                        second (live line, report, JSON, HTML; Linux; repeatable)\n"
"      --monitor-cmd NAME\n"
"                        the same for every process named NAME, summed (nginx's master\n"
"                        and workers), re-scanned each second (repeatable)\n"
"      --shard I/N       run shard I (0-based) of N: its share of connections, rate, -n\n"
"      --shards N        N shards, this one's index from $JOB_COMPLETION_INDEX (Kubernetes)\n"
"      --seed N          seed of the scripts' math.random (each thread and shard its own\n"
"                        sequence; default: a fresh seed, recorded in --json)\n"
"      --start-at TIME   open connections now, start measuring at TIME (RFC 3339 or\n"
"                        Unix seconds) so several machines start together\n"
"      --json FILE       write the full result as JSON (- for stdout; the text report\n"
"                        then goes to stderr)\n"
"      --csv PREFIX      write PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv\n"
"                        (and PREFIX_stages.csv with --stages) and PREFIX_exceptions.csv\n"
"      --csv-history per-second  history percentiles of each second (default: since start)\n"
"      --html FILE       write a self-contained HTML report with charts\n"
"      --web [ADDR:]PORT live dashboard in a browser while it runs (127.0.0.1 unless\n"
"                        ADDR; port 0 picks one): charts, Stop, users and rate changes\n"
"      --web-linger T    after the run, keep serving the final report for T (default 0)\n"
"      --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics while\n"
"                        it runs (ADDR defaults to 127.0.0.1; PORT 0 picks a free one)\n"
"      --metrics-push URL  push the final metrics to a Prometheus Pushgateway at the end\n"
"                        (PUT URL/metrics/job/barrage)\n"
"      --stream FILE     write each second as it ends, one JSON object a line (- for\n"
"                        stdout; the text report then goes to stderr)\n"
"      --stream-format F ndjson (default) or influx (InfluxDB line protocol)\n"
"      --no-keepalive    one request per connection (sends Connection: close)\n"
"  -k, --insecure        do not verify the server's TLS certificate\n"
"      --cacert FILE     trust this CA (PEM) in addition to the system store\n"
"      --cert FILE       client certificate (PEM) for mutual TLS\n"
"      --key FILE        private key of --cert (if not in the same file)\n"
"      --no-tls-resume   full TLS handshake on every connection\n"
"  -v, --version         print the version and exit\n"
"  -h, --help            print this help and exit\n"
"\n"
"Locust's options:\n"
"  -u, --users N         the same as -c (one connection per user)\n"
"  -r, --spawn-rate R    start R users per second: a ramp from 0 to --users, then hold\n"
"                        (lowercase -r; -R is the request rate)\n"
"      --run-time T      the same as -d, e.g. 90s, 10m, 1h30m (Locust's -t is not an\n"
"                        alias: -t is wrk's threads)\n"
"      --headless        accepted and ignored (barrage has no UI unless asked for one)\n"
"\n"
"Counts accept k/M/G suffixes (1k = 1000). Arguments after -- are passed to the\n"
"script's init(args). A script may set options = { duration = \"30s\", stages = {...},\n"
"thresholds = {...}, vus = 10, ... } (k6's shapes); the command line wins over it.\n"
"Exit codes: 0 finished, 1 run failed (e.g. out of file descriptors) or, with\n"
"--exit-on-failures, a request failed, 2 usage or set-up error, 99 a threshold\n"
"failed, 130/143 interrupted by SIGINT/SIGTERM (the report still prints).\n";
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void config_url_free(config_url_t *u)
{
    free(u->scheme); free(u->host); free(u->port); free(u->path);
    memset(u, 0, sizeof *u);
}

static char *dupn(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) { memcpy(r, s, n); r[n] = 0; }
    return r;
}

int config_parse_url(const char *s, config_url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *p;
    const char *def_port;
    if (!strncmp(s, "http://", 7)) { u->scheme = strdup("http"); p = s + 7; def_port = "80"; }
    else if (!strncmp(s, "https://", 8)) { u->scheme = strdup("https"); p = s + 8; def_port = "443"; }
    else if (strstr(s, "://"))
        return fail(err, errlen, "invalid URL '%s': only http:// and https:// are supported", s);
    else
        return fail(err, errlen, "invalid URL '%s': it needs a scheme, e.g. http://%s", s, s);

    const char *auth_end = p + strcspn(p, "/?#");
    if (auth_end == p) {
        config_url_free(u);
        return fail(err, errlen, "invalid URL '%s': no host (use e.g. http://127.0.0.1:8080/)", s);
    }
    if (memchr(p, '@', (size_t)(auth_end - p))) {
        config_url_free(u);
        return fail(err, errlen, "invalid URL '%s': user:password@ is not supported (send -H 'Authorization: ...')", s);
    }
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(auth_end - p));
        if (!rb || rb == p + 1) {
            config_url_free(u);
            return fail(err, errlen, "invalid URL '%s': unterminated IPv6 address (write it as [::1])", s);
        }
        host = p + 1; host_end = rb;
        u->is_ipv6 = 1;
        if (rb + 1 < auth_end) {
            if (rb[1] != ':') {
                config_url_free(u);
                return fail(err, errlen, "invalid URL '%s': unexpected text after ']'", s);
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        host_end = colon ? colon : auth_end;
        if (colon) port = colon + 1;
        if (host_end == host) {
            config_url_free(u);
            return fail(err, errlen, "invalid URL '%s': no host (use e.g. http://127.0.0.1:8080/)", s);
        }
    }
    for (const char *q = host; q < host_end; q++) {
        if (!isalnum((unsigned char)*q) && !strchr(".-_:%", *q)) {
            config_url_free(u);
            return fail(err, errlen, "invalid URL '%s': bad character '%c' in host", s, *q);
        }
    }
    u->host = dupn(host, (size_t)(host_end - host));
    if (port && port < auth_end) {
        size_t n = (size_t)(auth_end - port);
        long v = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)port[i]) || i > 5) { v = -1; break; }
            v = v * 10 + (port[i] - '0');
        }
        if (v < 1 || v > 65535) {
            config_url_free(u);
            return fail(err, errlen, "invalid URL '%s': port must be a number from 1 to 65535", s);
        }
        char buf[8];
        snprintf(buf, sizeof buf, "%ld", v);
        u->port = strdup(buf);
    } else if (port) {
        config_url_free(u);
        return fail(err, errlen, "invalid URL '%s': empty port after ':'", s);
    } else {
        u->port = strdup(def_port);
    }
    u->default_port = !strcmp(u->port, def_port);
    const char *path_end = auth_end + strcspn(auth_end, "#");
    if (*auth_end == '?') {
        size_t n = (size_t)(path_end - auth_end);
        u->path = malloc(n + 2);
        if (u->path) { u->path[0] = '/'; memcpy(u->path + 1, auth_end, n); u->path[n + 1] = 0; }
    } else if (path_end > auth_end) {
        u->path = dupn(auth_end, (size_t)(path_end - auth_end));
    } else {
        u->path = strdup("/");
    }
    for (const char *q = u->path ? u->path : ""; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f) {
            config_url_free(u);
            return fail(err, errlen, "invalid URL '%s': spaces and control characters must be percent-encoded", s);
        }
    }
    if (!u->scheme || !u->host || !u->port || !u->path) {
        config_url_free(u);
        return fail(err, errlen, "out of memory");
    }
    return 0;
}

/* --body-file: a regular file of at most CONFIG_BODY_FILE_MAX bytes, read
 * whole. Opened non-blocking so that a FIFO cannot hang the start; devices
 * (/dev/zero), directories and FIFOs are refused before a byte is read. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { fail(err, errlen, "--body-file: cannot open '%s': %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fail(err, errlen, "--body-file: cannot read '%s': %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        fail(err, errlen, "--body-file: '%s' is %s, not a regular file (save the body to a file first)", path,
             S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
             S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "not a file");
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > CONFIG_BODY_FILE_MAX) {
        fail(err, errlen, "--body-file: '%s' is %.1f MiB, more than the limit of %u MiB (use a smaller body)",
             path, (double)st.st_size / (1 << 20), (unsigned)(CONFIG_BODY_FILE_MAX >> 20));
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0; /* + 1: room to notice a file that grew */
    char *buf = malloc(cap);
    if (!buf) { fail(err, errlen, "out of memory"); close(fd); return NULL; }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            fail(err, errlen, "--body-file: cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) {
            fail(err, errlen, "--body-file: '%s' changed while it was read", path);
            free(buf);
            close(fd);
            return NULL;
        }
    }
    close(fd);
    *len = n;
    return buf;
}

enum opt_id {
    OPT_CONNECTIONS, OPT_DURATION, OPT_THREADS, OPT_HEADER, OPT_SCRIPT,
    OPT_TIMEOUT, OPT_LATENCY, OPT_REQUESTS, OPT_METHOD, OPT_BODY,
    OPT_BODY_FILE, OPT_NO_PIN, OPT_VERSION, OPT_HELP, OPT_INSECURE, OPT_CACERT,
    OPT_CERT, OPT_KEY, OPT_NO_TLS_RESUME, OPT_NO_KEEPALIVE, OPT_RATE, OPT_STAGES,
    OPT_THRESHOLD, OPT_ABORT_ON_FAIL, OPT_QUIET, OPT_JSON, OPT_CSV, OPT_CSV_HISTORY, OPT_HTML, OPT_SHARD,
    OPT_SHARDS, OPT_START_AT, OPT_EXPECT_STATUS, OPT_EXIT_ON_FAILURES, OPT_EXIT_CODE_ON_ERROR,
    OPT_CONNECT_TIMEOUT, OPT_SEED, OPT_USERS, OPT_SPAWN_RATE, OPT_RUN_TIME, OPT_HEADLESS,
    OPT_WEB,
    OPT_WEB_LINGER,
    OPT_METRICS, OPT_METRICS_PUSH, OPT_STREAM, OPT_STREAM_FORMAT,
    OPT_MONITOR_PID,
    OPT_MONITOR_CMD,
    OPT_MAX_EXCEPTIONS,
};
#define BIT(id) (UINT64_C(1) << (id))

static const struct opt {
    const char *lname;
    char sname;
    int has_arg;
    enum opt_id id;
} opts[] = {
    { "connections", 'c', 1, OPT_CONNECTIONS },
    { "duration",    'd', 1, OPT_DURATION },
    { "threads",     't', 1, OPT_THREADS },
    { "header",      'H', 1, OPT_HEADER },
    { "script",      's', 1, OPT_SCRIPT },
    { "timeout",     'T', 1, OPT_TIMEOUT },
    { "latency",     'L', 0, OPT_LATENCY },
    { "requests",    'n', 1, OPT_REQUESTS },
    { "method",      'm', 1, OPT_METHOD },
    { "body",        0,   1, OPT_BODY },
    { "body-file",   0,   1, OPT_BODY_FILE },
    { "no-pin",      0,   0, OPT_NO_PIN },
    { "version",     'v', 0, OPT_VERSION },
    { "help",        'h', 0, OPT_HELP },
    { "insecure",    'k', 0, OPT_INSECURE },
    { "cacert",      0,   1, OPT_CACERT },
    { "cert",        0,   1, OPT_CERT },
    { "key",         0,   1, OPT_KEY },
    { "no-tls-resume", 0, 0, OPT_NO_TLS_RESUME },
    { "no-keepalive", 0,  0, OPT_NO_KEEPALIVE },
    { "rate",        'R', 1, OPT_RATE },
    { "stages",      0,   1, OPT_STAGES },
    { "threshold",   0,   1, OPT_THRESHOLD },
    { "abort-on-fail", 0, 0, OPT_ABORT_ON_FAIL },
    { "quiet",       'q', 0, OPT_QUIET },
    { "json",        0,   1, OPT_JSON },
    { "csv",         0,   1, OPT_CSV },
    { "csv-history", 0,   1, OPT_CSV_HISTORY },
    { "html",        0,   1, OPT_HTML },
    { "shard",       0,   1, OPT_SHARD },
    { "shards",      0,   1, OPT_SHARDS },
    { "start-at",    0,   1, OPT_START_AT },
    { "expect-status", 0, 1, OPT_EXPECT_STATUS },
    { "exit-on-failures", 0, 0, OPT_EXIT_ON_FAILURES },
    { "exit-code-on-error", 0, 1, OPT_EXIT_CODE_ON_ERROR },
    { "connect-timeout", 0, 1, OPT_CONNECT_TIMEOUT },
    { "seed",        0,   1, OPT_SEED },
    /* Locust's names; Locust's -t (run time) is not aliased: -t is wrk's threads */
    { "users",       'u', 1, OPT_USERS },
    { "spawn-rate",  'r', 1, OPT_SPAWN_RATE },
    { "run-time",    0,   1, OPT_RUN_TIME },
    { "headless",    0,   0, OPT_HEADLESS },
    { "web",         0,   1, OPT_WEB },
    { "web-linger",  0,   1, OPT_WEB_LINGER },
    { "metrics",     0,   1, OPT_METRICS },
    { "metrics-push", 0,  1, OPT_METRICS_PUSH },
    { "stream",      0,   1, OPT_STREAM },
    { "stream-format", 0, 1, OPT_STREAM_FORMAT },
    { "monitor-pid", 0,   1, OPT_MONITOR_PID },
    { "monitor-cmd", 0,   1, OPT_MONITOR_CMD },
    { "max-exceptions", 0, 1, OPT_MAX_EXCEPTIONS },
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int push(const char ***arr, size_t *n, const char *v)
{
    const char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) return -1;
    a[(*n)++] = v;
    *arr = a;
    return 0;
}

/* A threshold and its abort flag, the two arrays grown together. */
static int push_threshold(config_t *c, const char *v, int abort_on_fail)
{
    unsigned char *a = realloc(c->threshold_abort, c->nthresholds + 1);
    if (!a) return -1;
    c->threshold_abort = a;
    a[c->nthresholds] = (unsigned char)(abort_on_fail != 0);
    return push(&c->thresholds, &c->nthresholds, v);
}

static int apply(config_t *c, const struct opt *o, const char *name, const char *v,
                 char *err, size_t errlen)
{
    uint64_t n;
    switch (o->id) {
    case OPT_CONNECTIONS:
    case OPT_USERS:
        if (units_parse_count(v, &n) || n == 0 || n > 1000000)
            return fail(err, errlen, "%s: '%s' is not a valid number of %s (use 1 to 1000000, e.g. %s 100)", name, v,
                        o->id == OPT_USERS ? "users" : "connections", o->id == OPT_USERS ? "--users" : "-c");
        if (o->id == OPT_USERS) c->users = n;
        else c->connections = n;
        break;
    case OPT_SPAWN_RATE: {
        char *end;
        double r = strtod(v, &end);
        if (end == v || !starts_number(v) || *end || !(r > 0 && r <= 1e6))
            return fail(err, errlen, "%s: '%s' is not a spawn rate (users started per second, e.g. --spawn-rate 10)", name, v);
        c->spawn_rate = r;
        break;
    }
    case OPT_HEADLESS: break; /* Locust's: barrage has no UI unless asked for one */
    case OPT_THREADS:
        if (units_parse_count(v, &n) || n == 0 || n > 1024)
            return fail(err, errlen, "%s: '%s' is not a valid number of threads (use 1 to 1024, e.g. -t 2)", name, v);
        c->threads = n;
        break;
    case OPT_DURATION:
    case OPT_RUN_TIME:
        if (units_parse_duration(v, &n) || n == 0)
            return fail(err, errlen, "%s: cannot parse '%s' as a duration (use e.g. 10s, 2m, 1h30m)", name, v);
        c->duration_ns = n;
        c->duration_set = 1;
        break;
    case OPT_TIMEOUT:
        if (units_parse_duration(v, &n) || n < 1000000)
            return fail(err, errlen, "%s: cannot parse '%s' as a timeout of at least 1ms (use e.g. 500ms, 2s)", name, v);
        c->timeout_ns = n;
        break;
    case OPT_CONNECT_TIMEOUT:
        if (units_parse_duration(v, &n) || n < 1000000)
            return fail(err, errlen, "%s: cannot parse '%s' as a timeout of at least 1ms (use e.g. 500ms, 2s)", name, v);
        c->connect_timeout_ns = n;
        break;
    case OPT_REQUESTS:
        if (units_parse_count(v, &n) || n == 0)
            return fail(err, errlen, "%s: '%s' is not a positive number of requests (e.g. -n 10000 or -n 10k)", name, v);
        c->requests = n;
        break;
    case OPT_HEADER:
        if (!strchr(v, ':') || *v == ':' || strpbrk(v, "\r\n"))
            return fail(err, errlen, "%s: '%s' is not a header (use -H 'Name: value')", name, v);
        if (push(&c->headers, &c->nheaders, v)) return fail(err, errlen, "out of memory");
        break;
    case OPT_SCRIPT:    c->script = v; break;
    case OPT_LATENCY:   c->latency = 1; break;
    case OPT_METHOD:
        for (const char *q = v; *q; q++)
            if (!isupper((unsigned char)*q) && *q != '-' && *q != '_')
                return fail(err, errlen, "%s: '%s' is not a method (use e.g. GET, POST, PUT)", name, v);
        if (!*v) return fail(err, errlen, "%s: empty method (use e.g. GET, POST)", name);
        c->method = v;
        break;
    case OPT_BODY:
        free(c->body);
        c->body_len = strlen(v);
        c->body = malloc(c->body_len + 1);
        if (!c->body) return fail(err, errlen, "out of memory");
        memcpy(c->body, v, c->body_len + 1);
        break;
    case OPT_BODY_FILE:
        free(c->body);
        c->body = read_file(v, &c->body_len, err, errlen);
        if (!c->body) return -1;
        break;
    case OPT_NO_PIN:    c->pin = 0; break;
    case OPT_VERSION:   c->show_version = 1; break;
    case OPT_HELP:      c->show_help = 1; break;
    case OPT_INSECURE:  c->insecure = 1; break;
    case OPT_CACERT:    c->cacert = v; break;
    case OPT_CERT:      c->cert = v; break;
    case OPT_KEY:       c->key = v; break;
    case OPT_NO_TLS_RESUME: c->tls_resume = 0; break;
    case OPT_NO_KEEPALIVE: c->keepalive = 0; break;
    case OPT_RATE: {
        char *end;
        double r = strtod(v, &end);
        if (end == v || !starts_number(v) || !(r > 0 && r <= 1e8) ||
            (*end && strcmp(end, "/s")))
            return fail(err, errlen, "%s: '%s' is not a rate (requests per second, e.g. -R 1000)", name, v);
        c->rate = r;
        break;
    }
    case OPT_STAGES:
        if (rate_stages_parse(v, &c->stages, err, errlen)) return -1;
        break;
    case OPT_THRESHOLD:
        if (push_threshold(c, v, 0)) return fail(err, errlen, "out of memory");
        break;
    case OPT_ABORT_ON_FAIL: c->abort_on_fail = 1; break;
    case OPT_EXPECT_STATUS: {
        const char *bad;
        size_t blen;
        if (stats_expect_parse(&c->expect, v, &bad, &blen))
            return fail(err, errlen, "%s: cannot read '%.*s' in '%s' as a status or a range (use codes 100-999 and ranges, e.g. --expect-status 200-399,429)",
                        name, (int)blen, bad, v);
        c->expect_text = v;
        break;
    }
    case OPT_EXIT_ON_FAILURES: c->failure_exit = 1; break;
    case OPT_EXIT_CODE_ON_ERROR:
        if (units_parse_count(v, &n) || n > 255 || strpbrk(v, "kMG"))
            return fail(err, errlen, "%s: '%s' is not an exit code (use 0 to 255; 0 turns it off)", name, v);
        c->failure_exit = (int)n;
        break;
    case OPT_SEED: {
        char *end;
        errno = 0;
        unsigned long long sv = isdigit((unsigned char)v[0]) ? strtoull(v, &end, 10) : 0;
        if (!isdigit((unsigned char)v[0]) || *end || errno || sv > SEED_MAX)
            return fail(err, errlen, "%s: cannot read '%s' as a seed (use an integer from 0 to %llu, e.g. --seed 7)",
                        name, v, (unsigned long long)SEED_MAX);
        c->seed = sv;
        c->seed_given = 1;
        break;
    }
    case OPT_MAX_EXCEPTIONS:
        if (units_parse_count(v, &n) || n == UINT64_MAX)
            return fail(err, errlen, "%s: '%s' is not a count of exceptions (e.g. --max-exceptions 0 or 100)", name, v);
        c->max_exceptions = n;
        break;
    case OPT_QUIET: c->quiet = 1; break;
    case OPT_JSON: c->json_path = v; break;
    case OPT_CSV: c->csv_prefix = v; break;
    case OPT_CSV_HISTORY:
        if (strcmp(v, "per-second") && strcmp(v, "cumulative"))
            return fail(err, errlen, "%s: '%s' is not a history mode (use cumulative or per-second)", name, v);
        c->csv_per_second = !strcmp(v, "per-second");
        break;
    case OPT_HTML: c->html_path = v; break;
    case OPT_WEB: c->web = v; break; /* httpd_new reads the address (one error line) */
    case OPT_WEB_LINGER:
        if (units_parse_duration(v, &n) || n > UINT64_C(86400) * 1000000000)
            return fail(err, errlen, "%s: cannot parse '%s' as a duration of at most 24h (use e.g. 30s, 5m)", name, v);
        c->web_linger_ns = n;
        break;
    case OPT_SHARD: {
        unsigned si, sn;
        int used = 0;
        if (sscanf(v, "%u/%u%n", &si, &sn, &used) != 2 || v[used] || sn < 1 || sn > 10000 || si >= sn)
            return fail(err, errlen, "%s: '%s' is not I/N with 0 <= I < N (e.g. --shard 0/3)", name, v);
        c->shard_index = si;
        c->shard_count = sn;
        break;
    }
    case OPT_SHARDS: {
        if (units_parse_count(v, &n) || n < 1 || n > 10000)
            return fail(err, errlen, "%s: '%s' is not a number of shards (1 to 10000)", name, v);
        const char *idx = getenv("JOB_COMPLETION_INDEX");
        uint64_t i;
        if (!idx || units_parse_count(idx, &i))
            return fail(err, errlen, "%s needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it), or use --shard I/N", name);
        if (i >= n)
            return fail(err, errlen, "JOB_COMPLETION_INDEX=%s is not below --shards %s", idx, v);
        c->shard_index = (uint32_t)i;
        c->shard_count = (uint32_t)n;
        break;
    }
    case OPT_METRICS: c->metrics_listen = v; break;
    case OPT_METRICS_PUSH: {
        config_url_t u;
        char why[400];
        if (config_parse_url(v, &u, why, sizeof why)) return fail(err, errlen, "%s: %s", name, why);
        int https = !strcmp(u.scheme, "https");
        config_url_free(&u);
        if (https)
            return fail(err, errlen, "%s: '%s': only plain http:// is supported (e.g. http://127.0.0.1:9091)", name, v);
        c->metrics_push = v;
        break;
    }
    case OPT_STREAM:
        if (!*v) return fail(err, errlen, "%s: empty file name (give a FILE, or - for stdout)", name);
        c->stream_path = v;
        break;
    case OPT_STREAM_FORMAT:
        if (strcmp(v, "ndjson") && strcmp(v, "influx"))
            return fail(err, errlen, "%s: '%s' is not a format (use ndjson or influx)", name, v);
        c->stream_influx = !strcmp(v, "influx");
        break;
    case OPT_MONITOR_PID:
    case OPT_MONITOR_CMD: {
        config_monitor_t mon = { 0, NULL };
        if (o->id == OPT_MONITOR_CMD) {
            if (!*v || strchr(v, '/'))
                return fail(err, errlen, "%s: '%s' is not a process name (use its name in ps -e, e.g. --monitor-cmd nginx)", name, v);
            mon.cmd = v;
        } else {
            if (units_parse_count(v, &n) || strpbrk(v, "kMG") || n < 1 || n > INT32_MAX)
                return fail(err, errlen, "%s: '%s' is not a process ID (use a positive number from ps, e.g. --monitor-pid 1234)", name, v);
            mon.pid = (int)n;
        }
        config_monitor_t *a = realloc(c->monitors, (c->nmonitors + 1) * sizeof *a);
        if (!a) return fail(err, errlen, "out of memory");
        a[c->nmonitors++] = mon;
        c->monitors = a;
        break;
    }
    case OPT_START_AT:
        if (config_parse_time(v, &c->start_at))
            return fail(err, errlen, "%s: cannot read '%s' as a time (use RFC 3339, e.g. 2026-11-23T15:30:00Z, or Unix seconds)", name, v);
        break;
    }
    return 0;
}

int config_parse(config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    if (config_parse_args(c, argc, argv, err, errlen)) return -1;
    if (c->show_help || c->show_version) return 0;
    return config_finish(c, err, errlen);
}

int config_parse_args(config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                if (push(&c->script_args, &c->nscript_args, argv[i]))
                    return fail(err, errlen, "out of memory");
            break;
        }
        if (a[0] != '-' || !a[1]) {
            if (url) return fail(err, errlen, "unexpected argument '%s': give exactly one URL (see barrage --help)", a);
            url = a;
            continue;
        }
        const struct opt *o = NULL;
        const char *val = NULL;
        char name[64];
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (size_t k = 0; k < NOPTS; k++)
                if (strlen(opts[k].lname) == n && !strncmp(opts[k].lname, a + 2, n)) o = &opts[k];
            snprintf(name, sizeof name, "--%.*s", (int)(n > 40 ? 40 : n), a + 2);
            if (!o) return fail(err, errlen, "unknown option '%s' (see barrage --help)", name);
            if (eq) {
                if (!o->has_arg) return fail(err, errlen, "%s takes no value", name);
                val = eq + 1;
            }
        } else {
            for (size_t k = 0; k < NOPTS; k++)
                if (opts[k].sname == a[1]) o = &opts[k];
            snprintf(name, sizeof name, "-%c", a[1]);
            if (!o) return fail(err, errlen, "unknown option '%s' (see barrage --help)", a);
            if (a[2]) {
                if (!o->has_arg) return fail(err, errlen, "unknown option '%s' (see barrage --help)", a);
                val = a + 2;
            }
        }
        if (o->has_arg && !val) {
            if (i + 1 >= argc) return fail(err, errlen, "%s needs a value (see barrage --help)", name);
            val = argv[++i];
        }
        if (apply(c, o, name, val, err, errlen)) return -1;
        c->given |= BIT(o->id);
    }
    if (c->show_help || c->show_version) return 0;
    if (!url) return fail(err, errlen, "no URL given (usage: barrage [options] http://host:port/path)");
    c->url_text = url;
    return config_parse_url(url, &c->url, err, errlen);
}

/* Locust's --users/--spawn-rate/--run-time onto -c, stages and -d. */
static int locust_schedule(config_t *c, char *err, size_t errlen)
{
    uint64_t set = c->given | c->from_script;
    if ((set & BIT(OPT_RUN_TIME)) && (set & BIT(OPT_DURATION)))
        return fail(err, errlen, "--run-time and -d both set the duration: give one");
    if (c->users) {
        if (set & BIT(OPT_CONNECTIONS))
            return fail(err, errlen, "--users and -c both set the number of connections (one per user): give one");
        c->connections = c->users;
    }
    if (!c->spawn_rate) return 0;
    if (c->stages.n)
        return fail(err, errlen, "--spawn-rate and --stages both set the ramp: give one (--spawn-rate R ramps 0 to --users N at R per second)");
    if (c->rate > 0)
        return fail(err, errlen, "--spawn-rate ramps users, not a rate: with -R use --stages for a rate ramp");
    if (!(set & (BIT(OPT_USERS) | BIT(OPT_CONNECTIONS))))
        return fail(err, errlen, "--spawn-rate needs --users N (the number of users to ramp up to)");
    /* users grow by R per second from 0 to N, then N until the end */
    double n = (double)c->connections, total_s = (double)c->duration_ns / 1e9;
    double ramp_s = n / c->spawn_rate;
    if (ramp_s >= total_s) { /* the run ends while still spawning */
        c->stages.n = 1;
        c->stages.dur_ns[0] = c->duration_ns;
        c->stages.target[0] = c->spawn_rate * total_s;
    } else {
        uint64_t ramp_ns = (uint64_t)(ramp_s * 1e9 + 0.5);
        c->stages.n = 2;
        c->stages.dur_ns[0] = ramp_ns;
        c->stages.target[0] = n;
        c->stages.dur_ns[1] = c->duration_ns - ramp_ns;
        c->stages.target[1] = n;
        if (!c->stages.dur_ns[0]) { /* so fast it is no ramp */
            c->stages.n = 1;
            c->stages.dur_ns[0] = c->duration_ns;
            c->stages.target[0] = n;
        }
    }
    c->duration_set = 0; /* the stages carry it now */
    return 0;
}

int config_finish(config_t *c, char *err, size_t errlen)
{
    if (!c->seed_given) c->seed = seed_random(); /* recorded in --json, so a run can be repeated */
    if (!c->connect_timeout_ns) c->connect_timeout_ns = c->timeout_ns;
    if (locust_schedule(c, err, errlen)) return -1;
    c->users_total = c->connections; /* before a shard takes its share */
    if (c->shard_count > 1) { /* this shard's share; remainders go to the first shards */
        uint64_t i = c->shard_index, n = c->shard_count;
        if (c->requests) {
            c->requests = units_share(c->requests, n, i);
            if (!c->requests)
                return fail(err, errlen, "-n is smaller than the number of shards: shard %llu would have no requests",
                            (unsigned long long)i);
        }
        c->rate /= (double)n;
        if (!c->stages.n) {
            uint64_t total = c->connections;
            c->connections = units_share(total, n, i);
            if (!c->connections)
                return fail(err, errlen, "%llu connections cannot be spread over %llu shards: use at least one per shard",
                            (unsigned long long)total, (unsigned long long)n);
            if (c->connections < c->threads) c->threads = c->connections;
        }
    }
    if (c->web_linger_ns && !c->web)
        return fail(err, errlen, "--web-linger keeps the --web dashboard up after the run: add --web PORT (or drop --web-linger)");
    if (c->stages.n) {
        if ((c->from_script & BIT(OPT_STAGES)) && (c->from_script & (BIT(OPT_DURATION) | BIT(OPT_RUN_TIME))))
            return fail(err, errlen, "options: stages set the duration: drop duration (or stages)");
        if (c->duration_set)
            return fail(err, errlen, "--stages sets the duration: drop -d (or drop --stages)");
        c->duration_ns = rate_stages_total(&c->stages);
        c->duration_set = 1;
        if (!c->rate) { /* stages ramp connections: -c is their maximum */
            double m = rate_stages_max(&c->stages);
            if (m < 1) return fail(err, errlen, "--stages: every target is 0 connections");
            uint64_t total = (uint64_t)(m + 0.5), n = c->shard_count;
            c->users_total = total;
            c->connections = units_share(total, n, c->shard_index);
            if (!c->connections)
                return fail(err, errlen, "--stages: a peak of %llu connections leaves shard %u without any",
                            (unsigned long long)total, c->shard_index);
            if (c->connections < c->threads) c->threads = c->connections;
        }
    }
    if (c->stream_path && !strcmp(c->stream_path, "-") && c->json_path && !strcmp(c->json_path, "-"))
        return fail(err, errlen, "--stream - and --json - both want stdout: write one of them to a file");
    if (c->requests && !c->duration_set && !(c->given & BIT(OPT_MAX_EXCEPTIONS)) &&
        !(c->from_script & BIT(OPT_MAX_EXCEPTIONS))) { /* only -n ends it: users that only fail must not hang it */
        c->max_exceptions = c->requests;
        c->max_exceptions_untimed = 1;
    }
    if (c->users_total < c->connections) c->users_total = c->connections; /* -R stages: not split */
    for (uint32_t j = 0; j < c->shard_index && c->shard_count > 1; j++)
        c->users_offset += units_share(c->users_total, c->shard_count, j);
    if (c->connections < c->threads)
        return fail(err, errlen, "%llu connections cannot be spread over %llu threads: use at least as many connections as threads (-c >= -t)",
                    (unsigned long long)c->connections, (unsigned long long)c->threads);
    return 0;
}

void config_free(config_t *c)
{
    config_url_free(&c->url);
    free(c->body);
    free(c->headers);
    free(c->script_args);
    free(c->thresholds);
    free(c->threshold_abort);
    for (size_t i = 0; i < c->nowned; i++) free(c->owned[i]);
    free(c->owned);
    free(c->monitors);
    memset(c, 0, sizeof *c);
}

/* A script's `options` table: k6's names, barrage's own (its long options
 * with '_' for '-') and Locust's. */
static const struct script_key {
    const char *key;
    enum opt_id id;
    int boolean;   /* true/false; `negate`: false turns the option on */
    int negate;
} script_keys[] = {
    { "vus", OPT_CONNECTIONS, 0, 0 },        { "connections", OPT_CONNECTIONS, 0, 0 },
    { "users", OPT_USERS, 0, 0 },            { "spawn_rate", OPT_SPAWN_RATE, 0, 0 },
    { "threads", OPT_THREADS, 0, 0 },        { "duration", OPT_DURATION, 0, 0 },
    { "run_time", OPT_RUN_TIME, 0, 0 },      { "stages", OPT_STAGES, 0, 0 },
    { "thresholds", OPT_THRESHOLD, 0, 0 },   { "rate", OPT_RATE, 0, 0 },
    { "requests", OPT_REQUESTS, 0, 0 },      { "timeout", OPT_TIMEOUT, 0, 0 },
    { "connect_timeout", OPT_CONNECT_TIMEOUT, 0, 0 }, { "expect_status", OPT_EXPECT_STATUS, 0, 0 },
    { "abort_on_fail", OPT_ABORT_ON_FAIL, 1, 0 }, { "latency", OPT_LATENCY, 1, 0 },
    { "insecure", OPT_INSECURE, 1, 0 },      { "insecureSkipTLSVerify", OPT_INSECURE, 1, 0 },
    { "keepalive", OPT_NO_KEEPALIVE, 1, 1 }, { "noConnectionReuse", OPT_NO_KEEPALIVE, 1, 0 },
    { "method", OPT_METHOD, 0, 0 },          { "body", OPT_BODY, 0, 0 },
};

const char *config_script_keys(void)
{
    return "vus/connections, duration, stages, thresholds, rate, requests, threads, timeout, connect_timeout, "
           "expect_status, abort_on_fail, latency, insecure/insecureSkipTLSVerify, keepalive/noConnectionReuse, "
           "method, body, users, spawn_rate, run_time";
}

/* The options of one meaning: the command line giving any of them replaces
 * the script's. Stages also yield to -c/--users and -R (they would
 * change what their targets mean or overrule the count). */
static uint64_t script_group(enum opt_id id)
{
    const uint64_t schedule = BIT(OPT_DURATION) | BIT(OPT_RUN_TIME) | BIT(OPT_STAGES) | BIT(OPT_SPAWN_RATE);
    switch (id) {
    case OPT_CONNECTIONS: case OPT_USERS: return BIT(OPT_CONNECTIONS) | BIT(OPT_USERS);
    case OPT_DURATION: case OPT_RUN_TIME: case OPT_SPAWN_RATE: return schedule;
    case OPT_STAGES: return schedule | BIT(OPT_CONNECTIONS) | BIT(OPT_USERS) | BIT(OPT_RATE);
    case OPT_BODY: return BIT(OPT_BODY) | BIT(OPT_BODY_FILE);
    default: return BIT(id);
    }
}

int config_apply_script(config_t *c, const char *key, const char *value, config_value_kind_t kind,
                        char *err, size_t errlen)
{
    char name[96];
    snprintf(name, sizeof name, "options.%.60s", key);
    const struct script_key *k = NULL;
    for (size_t i = 0; i < sizeof script_keys / sizeof script_keys[0]; i++)
        if (!strcmp(script_keys[i].key, key)) k = &script_keys[i];
    if (!k) {
        if (!strcmp(key, "iterations"))
            return fail(err, errlen, "%s: k6's shared iterations are not supported (use requests = N for a number of requests, or a duration)", name);
        if (!strcmp(key, "rps"))
            return fail(err, errlen, "%s: k6's rps is a cap; barrage's rate = N sends N requests/s at a constant rate (use rate)", name);
        if (!strcmp(key, "scenarios") || !strcmp(key, "executor"))
            return fail(err, errlen, "%s: k6's scenarios are not supported (use stages, or barrage.user{} classes)", name);
        return fail(err, errlen, "options: unknown key '%.60s' (use %s)", key, config_script_keys());
    }
    const struct opt *o = NULL;
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].id == k->id) o = &opts[i];
    if (k->boolean != (kind == CONFIG_VALUE_BOOLEAN))
        return fail(err, errlen, "%s: expected %s, got %s%.40s%s", name,
                    k->boolean ? "true or false" : k->id == OPT_THRESHOLD ? "a table of expressions" : "a string or a number",
                    kind == CONFIG_VALUE_BOOLEAN ? "a boolean" : "'", kind == CONFIG_VALUE_BOOLEAN ? "" : value,
                    kind == CONFIG_VALUE_BOOLEAN ? "" : "'");
    if ((kind == CONFIG_VALUE_THRESHOLD || kind == CONFIG_VALUE_ABORT) != (k->id == OPT_THRESHOLD))
        return fail(err, errlen, "%s: expected a table of threshold expressions, e.g. thresholds = { http_req_duration = {\"p(95)<500\"} }", name);
    if (kind == CONFIG_VALUE_STAGES && k->id != OPT_STAGES)
        return fail(err, errlen, "%s: expected a string or a number, got a table", name);
    /* the command line wins; thresholds add up (a gate never disappears) */
    if (k->id != OPT_THRESHOLD && (c->given & script_group(k->id))) return 0;
    if (k->boolean) {
        if (strcmp(value, "true") == (k->negate ? 0 : 1)) return 0;  /* the default */
        if (apply(c, o, name, NULL, err, errlen)) return -1;
        c->from_script |= BIT(k->id);
        return 0;
    }
    char **owned = realloc(c->owned, (c->nowned + 1) * sizeof *owned);
    if (!owned) return fail(err, errlen, "out of memory");
    c->owned = owned;
    if (!(owned[c->nowned] = strdup(value))) return fail(err, errlen, "out of memory");
    const char *v = owned[c->nowned++];
    if (k->id == OPT_THRESHOLD) {
        char terr[480];
        if (threshold_parse(v, NULL, terr, sizeof terr)) /* "--threshold 'EXPR': why" */
            return fail(err, errlen, "options.thresholds%s", terr + strlen("--threshold"));
        if (push_threshold(c, v, kind == CONFIG_VALUE_ABORT)) return fail(err, errlen, "out of memory");
    } else if (apply(c, o, name, v, err, errlen)) {
        return -1;
    }
    c->from_script |= BIT(k->id);
    return 0;
}

void config_script_sources(const config_t *c, void (*fn)(void *ctx, const char *name), void *ctx)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (c->from_script & BIT(opts[i].id)) fn(ctx, opts[i].lname);
}
