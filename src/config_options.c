/* config_options.c - the option table and each option's value: parsed,
 * checked (one line naming the problem and the fix) and set in the config;
 * --start-at's times and --body-file's file read here too. The command line
 * and a script's options both come through config_apply_option. */
#include "config_internal.h"
#include "seed.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* --body-file: a regular file of at most CONFIG_BODY_FILE_MAX bytes, read
 * whole. Opened non-blocking so that a FIFO cannot hang the start; devices
 * (/dev/zero), directories and FIFOs are refused before a byte is read. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { config_fail(err, errlen, "--body-file: cannot open '%s': %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        config_fail(err, errlen, "--body-file: cannot read '%s': %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        config_fail(err, errlen, "--body-file: '%s' is %s, not a regular file (save the body to a file first)", path,
             S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
             S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "not a file");
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > CONFIG_BODY_FILE_MAX) {
        config_fail(err, errlen, "--body-file: '%s' is %.1f MiB, more than the limit of %u MiB (use a smaller body)",
             path, (double)st.st_size / (1 << 20), (unsigned)(CONFIG_BODY_FILE_MAX >> 20));
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0; /* + 1: room to notice a file that grew */
    char *buf = malloc(cap);
    if (!buf) { config_fail(err, errlen, "out of memory"); close(fd); return NULL; }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            config_fail(err, errlen, "--body-file: cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) {
            config_fail(err, errlen, "--body-file: '%s' changed while it was read", path);
            free(buf);
            close(fd);
            return NULL;
        }
    }
    close(fd);
    *len = n;
    return buf;
}

const struct config_opt config_opts[] = {
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
const size_t config_nopts = sizeof config_opts / sizeof config_opts[0];

int config_push(const char ***arr, size_t *n, const char *v)
{
    const char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) return -1;
    a[(*n)++] = v;
    *arr = a;
    return 0;
}

/* A threshold and its abort flag, the two arrays grown together. */
int config_push_threshold(config_t *c, const char *v, int abort_on_fail)
{
    unsigned char *a = realloc(c->threshold_abort, c->nthresholds + 1);
    if (!a) return -1;
    c->threshold_abort = a;
    a[c->nthresholds] = (unsigned char)(abort_on_fail != 0);
    return config_push(&c->thresholds, &c->nthresholds, v);
}

int config_apply_option(config_t *c, const struct config_opt *o, const char *name, const char *v,
                        char *err, size_t errlen)
{
    uint64_t n;
    switch (o->id) {
    case OPT_CONNECTIONS:
    case OPT_USERS:
        if (units_parse_count(v, &n) || n == 0 || n > 1000000)
            return config_fail(err, errlen, "%s: '%s' is not a valid number of %s (use 1 to 1000000, e.g. %s 100)", name, v,
                        o->id == OPT_USERS ? "users" : "connections", o->id == OPT_USERS ? "--users" : "-c");
        if (o->id == OPT_USERS) c->users = n;
        else c->connections = n;
        break;
    case OPT_SPAWN_RATE: {
        char *end;
        double r = strtod(v, &end);
        if (end == v || !starts_number(v) || *end || !(r > 0 && r <= 1e6))
            return config_fail(err, errlen, "%s: '%s' is not a spawn rate (users started per second, e.g. --spawn-rate 10)", name, v);
        c->spawn_rate = r;
        break;
    }
    case OPT_HEADLESS: break; /* Locust's: barrage has no UI unless asked for one */
    case OPT_THREADS:
        if (units_parse_count(v, &n) || n == 0 || n > 1024)
            return config_fail(err, errlen, "%s: '%s' is not a valid number of threads (use 1 to 1024, e.g. -t 2)", name, v);
        c->threads = n;
        break;
    case OPT_DURATION:
    case OPT_RUN_TIME:
        if (units_parse_duration(v, &n) || n == 0)
            return config_fail(err, errlen, "%s: cannot parse '%s' as a duration (use e.g. 10s, 2m, 1h30m)", name, v);
        c->duration_ns = n;
        c->duration_set = 1;
        break;
    case OPT_TIMEOUT:
        if (units_parse_duration(v, &n) || n < 1000000)
            return config_fail(err, errlen, "%s: cannot parse '%s' as a timeout of at least 1ms (use e.g. 500ms, 2s)", name, v);
        c->timeout_ns = n;
        break;
    case OPT_CONNECT_TIMEOUT:
        if (units_parse_duration(v, &n) || n < 1000000)
            return config_fail(err, errlen, "%s: cannot parse '%s' as a timeout of at least 1ms (use e.g. 500ms, 2s)", name, v);
        c->connect_timeout_ns = n;
        break;
    case OPT_REQUESTS:
        if (units_parse_count(v, &n) || n == 0)
            return config_fail(err, errlen, "%s: '%s' is not a positive number of requests (e.g. -n 10000 or -n 10k)", name, v);
        c->requests = n;
        break;
    case OPT_HEADER:
        if (!strchr(v, ':') || *v == ':' || strpbrk(v, "\r\n"))
            return config_fail(err, errlen, "%s: '%s' is not a header (use -H 'Name: value')", name, v);
        if (config_push(&c->headers, &c->nheaders, v)) return config_fail(err, errlen, "out of memory");
        break;
    case OPT_SCRIPT:    c->script = v; break;
    case OPT_LATENCY:   c->latency = 1; break;
    case OPT_METHOD:
        for (const char *q = v; *q; q++)
            if (!isupper((unsigned char)*q) && *q != '-' && *q != '_')
                return config_fail(err, errlen, "%s: '%s' is not a method (use e.g. GET, POST, PUT)", name, v);
        if (!*v) return config_fail(err, errlen, "%s: empty method (use e.g. GET, POST)", name);
        c->method = v;
        break;
    case OPT_BODY:
        free(c->body);
        c->body_len = strlen(v);
        c->body = malloc(c->body_len + 1);
        if (!c->body) return config_fail(err, errlen, "out of memory");
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
            return config_fail(err, errlen, "%s: '%s' is not a rate (requests per second, e.g. -R 1000)", name, v);
        c->rate = r;
        break;
    }
    case OPT_STAGES:
        if (rate_stages_parse(v, &c->stages, err, errlen)) return -1;
        break;
    case OPT_THRESHOLD:
        if (config_push_threshold(c, v, 0)) return config_fail(err, errlen, "out of memory");
        break;
    case OPT_ABORT_ON_FAIL: c->abort_on_fail = 1; break;
    case OPT_EXPECT_STATUS: {
        const char *bad;
        size_t blen;
        if (stats_expect_parse(&c->expect, v, &bad, &blen))
            return config_fail(err, errlen, "%s: cannot read '%.*s' in '%s' as a status or a range (use codes 100-999 and ranges, e.g. --expect-status 200-399,429)",
                        name, (int)blen, bad, v);
        c->expect_text = v;
        break;
    }
    case OPT_EXIT_ON_FAILURES: c->failure_exit = 1; break;
    case OPT_EXIT_CODE_ON_ERROR:
        if (units_parse_count(v, &n) || n > 255 || strpbrk(v, "kMG"))
            return config_fail(err, errlen, "%s: '%s' is not an exit code (use 0 to 255; 0 turns it off)", name, v);
        c->failure_exit = (int)n;
        break;
    case OPT_SEED: {
        char *end;
        errno = 0;
        unsigned long long sv = isdigit((unsigned char)v[0]) ? strtoull(v, &end, 10) : 0;
        if (!isdigit((unsigned char)v[0]) || *end || errno || sv > SEED_MAX)
            return config_fail(err, errlen, "%s: cannot read '%s' as a seed (use an integer from 0 to %llu, e.g. --seed 7)",
                        name, v, (unsigned long long)SEED_MAX);
        c->seed = sv;
        c->seed_given = 1;
        break;
    }
    case OPT_MAX_EXCEPTIONS:
        if (units_parse_count(v, &n) || n == UINT64_MAX)
            return config_fail(err, errlen, "%s: '%s' is not a count of exceptions (e.g. --max-exceptions 0 or 100)", name, v);
        c->max_exceptions = n;
        break;
    case OPT_QUIET: c->quiet = 1; break;
    case OPT_JSON: c->json_path = v; break;
    case OPT_CSV: c->csv_prefix = v; break;
    case OPT_CSV_HISTORY:
        if (strcmp(v, "per-second") && strcmp(v, "cumulative"))
            return config_fail(err, errlen, "%s: '%s' is not a history mode (use cumulative or per-second)", name, v);
        c->csv_per_second = !strcmp(v, "per-second");
        break;
    case OPT_HTML: c->html_path = v; break;
    case OPT_WEB: c->web = v; break; /* httpd_new reads the address (one error line) */
    case OPT_WEB_LINGER:
        if (units_parse_duration(v, &n) || n > UINT64_C(86400) * 1000000000)
            return config_fail(err, errlen, "%s: cannot parse '%s' as a duration of at most 24h (use e.g. 30s, 5m)", name, v);
        c->web_linger_ns = n;
        break;
    case OPT_SHARD: {
        unsigned si, sn;
        int used = 0;
        if (sscanf(v, "%u/%u%n", &si, &sn, &used) != 2 || v[used] || sn < 1 || sn > 10000 || si >= sn)
            return config_fail(err, errlen, "%s: '%s' is not I/N with 0 <= I < N (e.g. --shard 0/3)", name, v);
        c->shard_index = si;
        c->shard_count = sn;
        break;
    }
    case OPT_SHARDS: {
        if (units_parse_count(v, &n) || n < 1 || n > 10000)
            return config_fail(err, errlen, "%s: '%s' is not a number of shards (1 to 10000)", name, v);
        const char *idx = getenv("JOB_COMPLETION_INDEX");
        uint64_t i;
        if (!idx || units_parse_count(idx, &i))
            return config_fail(err, errlen, "%s needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it), or use --shard I/N", name);
        if (i >= n)
            return config_fail(err, errlen, "JOB_COMPLETION_INDEX=%s is not below --shards %s", idx, v);
        c->shard_index = (uint32_t)i;
        c->shard_count = (uint32_t)n;
        break;
    }
    case OPT_METRICS: c->metrics_listen = v; break;
    case OPT_METRICS_PUSH: {
        config_url_t u;
        char why[400];
        if (config_parse_url(v, &u, why, sizeof why)) return config_fail(err, errlen, "%s: %s", name, why);
        int https = !strcmp(u.scheme, "https");
        config_url_free(&u);
        if (https)
            return config_fail(err, errlen, "%s: '%s': only plain http:// is supported (e.g. http://127.0.0.1:9091)", name, v);
        c->metrics_push = v;
        break;
    }
    case OPT_STREAM:
        if (!*v) return config_fail(err, errlen, "%s: empty file name (give a FILE, or - for stdout)", name);
        c->stream_path = v;
        break;
    case OPT_STREAM_FORMAT:
        if (strcmp(v, "ndjson") && strcmp(v, "influx"))
            return config_fail(err, errlen, "%s: '%s' is not a format (use ndjson or influx)", name, v);
        c->stream_influx = !strcmp(v, "influx");
        break;
    case OPT_MONITOR_PID:
    case OPT_MONITOR_CMD: {
        config_monitor_t mon = { 0, NULL };
        if (o->id == OPT_MONITOR_CMD) {
            if (!*v || strchr(v, '/'))
                return config_fail(err, errlen, "%s: '%s' is not a process name (use its name in ps -e, e.g. --monitor-cmd nginx)", name, v);
            mon.cmd = v;
        } else {
            if (units_parse_count(v, &n) || strpbrk(v, "kMG") || n < 1 || n > INT32_MAX)
                return config_fail(err, errlen, "%s: '%s' is not a process ID (use a positive number from ps, e.g. --monitor-pid 1234)", name, v);
            mon.pid = (int)n;
        }
        config_monitor_t *a = realloc(c->monitors, (c->nmonitors + 1) * sizeof *a);
        if (!a) return config_fail(err, errlen, "out of memory");
        a[c->nmonitors++] = mon;
        c->monitors = a;
        break;
    }
    case OPT_START_AT:
        if (config_parse_time(v, &c->start_at))
            return config_fail(err, errlen, "%s: cannot read '%s' as a time (use RFC 3339, e.g. 2026-11-23T15:30:00Z, or Unix seconds)", name, v);
        break;
    }
    return 0;
}
