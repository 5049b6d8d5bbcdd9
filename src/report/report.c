/* report.c - the terminal report (wrk's layout, same column widths). */
#include "report.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

static char *scaled(char *buf, size_t size, double n, const double *scale,
                    const char *const *units, int nunits)
{
    int i = 0;
    while (i < nunits - 1 && n >= scale[i]) { n /= scale[i]; i++; }
    snprintf(buf, size, "%.2f%s", n, units[i]);
    return buf;
}

char *report_time_us(char *buf, size_t size, double us)
{
    static const double scale[] = { 1000, 1000, 60, 60 };
    static const char *const units[] = { "us", "ms", "s", "m", "h" };
    return scaled(buf, size, us, scale, units, 5);
}

char *report_metric(char *buf, size_t size, double n)
{
    static const double scale[] = { 1000, 1000, 1000, 1000 };
    static const char *const units[] = { "", "k", "M", "G", "T" };
    return scaled(buf, size, n, scale, units, 5);
}

char *report_binary(char *buf, size_t size, double n)
{
    static const double scale[] = { 1024, 1024, 1024, 1024 };
    static const char *const units[] = { "", "K", "M", "G", "T" };
    return scaled(buf, size, n, scale, units, 5);
}

char *report_duration(char *buf, size_t size, uint64_t ns)
{
    uint64_t ms = ns / 1000000;
    if (ns % 1000000) { /* below a millisecond, or not a whole number of them: microseconds */
        if (ns % 1000) snprintf(buf, size, "%.3fus", (double)ns / 1e3);
        else snprintf(buf, size, "%" PRIu64 "us", ns / 1000);
    } else if (!ns) snprintf(buf, size, "0s");
    else if (ms % 1000) snprintf(buf, size, "%" PRIu64 "ms", ms);
    else if (ms % 3600000 == 0) snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
    else if (ms % 60000 == 0) snprintf(buf, size, "%" PRIu64 "m", ms / 60000);
    else snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
    return buf;
}

/* wrk's print_units: right-align, letting unit letters eat the padding. */
static void units(FILE *f, const char *msg, int width)
{
    int len = (int)strlen(msg), pad = 2;
    if (len > 0 && isalpha((unsigned char)msg[len - 1])) pad--;
    if (len > 1 && isalpha((unsigned char)msg[len - 2])) pad--;
    width -= pad;
    fprintf(f, "%*.*s%.*s", width, width, msg, pad, "  ");
}

/* A bar for a percentile row: its length grows with log(value) from the
 * run's minimum (empty) to its maximum (full width), so the tail stands out. */
static void bar(FILE *f, const hist_t *h, double v)
{
    static const char *const eighths[] = { "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b",
                                           "\u258a", "\u2589" };
    enum { WIDTH = 24 };
    if (!h->total) return;
    double lo = h->min > 0 ? (double)h->min : 1, hi = (double)h->max;
    double frac = hi > lo && v > lo ? log(v / lo) / log(hi / lo) : 0;
    if (frac > 1) frac = 1;
    int units8 = (int)(frac * WIDTH * 8 + 0.5);
    fputs("  ", f);
    for (int i = 0; i < units8 / 8; i++) fputs("\u2588", f);
    fputs(eighths[units8 % 8], f);
}

typedef char *(*fmt_fn)(char *, size_t, double);

static void stats_row(FILE *f, const char *name, const hist_t *h, fmt_fn fmt)
{
    char b[32];
    fprintf(f, "    %-10s", name);
    units(f, fmt(b, sizeof b, hist_mean(h)), 8);
    units(f, fmt(b, sizeof b, hist_stdev(h)), 10);
    units(f, fmt(b, sizeof b, h->total ? (double)h->max : 0), 9);
    fprintf(f, "%8.2f%%\n", hist_within_stdev(h));
}

void report_header(FILE *f, const config_t *c)
{
    char d[32];
    if (c->requests && !c->duration_set)
        fprintf(f, "Running %" PRIu64 " requests @ %s\n", c->requests, c->url_text);
    else
        fprintf(f, "Running %s test @ %s\n", report_duration(d, sizeof d, c->duration_ns),
                c->url_text);
    fprintf(f, "  %" PRIu64 " threads and %" PRIu64 " connections\n", c->threads, c->connections);
}

/* Virtual users: users by class, and the exceptions in their code (the
 * users went on; at most 10 rows here, all of them in --json and --csv). */
static void print_users(FILE *f, const stats_t *s)
{
    if (s->nclasses) {
        fprintf(f, "  Users by class:");
        for (size_t i = 0; i < s->nclasses; i++)
            fprintf(f, "%s %s %" PRIu64, i ? "," : "", s->classes[i].name, s->classes[i].users);
        fputc('\n', f);
    }
    if (!s->nexceptions) return;
    fprintf(f, "  Exceptions: %" PRIu64 " in virtual users' code (each ended its iteration; the users went on)\n",
            stats_exceptions_total(s));
    fprintf(f, "    %9s  %-28s %s\n", "Count", "Location", "Message");
    for (size_t i = 0; i < s->nexceptions && i < 10; i++) {
        const stats_exception_t *e = &s->exceptions[i];
        fprintf(f, "    %9" PRIu64 "  %-28s %.200s\n", e->count, e->location, e->message);
    }
    if (s->nexceptions > 10) fprintf(f, "    ... %zu more (see --json or --csv)\n", s->nexceptions - 10);
}

void report_print(FILE *f, const config_t *c, const stats_t *s, uint64_t elapsed_ns)
{
    char a[32], b[32], d[32];
    fprintf(f, "  Thread Stats%6s%11s%8s%12s\n", "Avg", "Stdev", "Max", "+/- Stdev");
    stats_row(f, "Latency", &s->latency, report_time_us);
    if (c->rate) stats_row(f, "Service", &s->service, report_time_us);
    stats_row(f, "Req/Sec", &s->rate, report_metric);
    if (s->latency.total) /* p95 beside wrk's rows: a line of its own, so wrk's lines parse as before */
        fprintf(f, "  Percentiles p50 %s, p95 %s, p99 %s\n",
                report_time_us(a, sizeof a, (double)hist_percentile(&s->latency, 50)),
                report_time_us(b, sizeof b, (double)hist_percentile(&s->latency, 95)),
                report_time_us(d, sizeof d, (double)hist_percentile(&s->latency, 99)));
    if (c->latency) {
        static const double pct[] = { 50, 75, 90, 95, 99, 99.9, 99.99 }; /* wrk's lines and 95% */
        fprintf(f, c->rate ? "  Latency Distribution (corrected)     (uncorrected service time)\n"
                           : "  Latency Distribution\n");
        for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
            fprintf(f, "%7g%%", pct[i]);
            units(f, report_time_us(a, sizeof a, (double)hist_percentile(&s->latency, pct[i])), 10);
            if (c->rate) {
                fprintf(f, "%21s", "");
                units(f, report_time_us(a, sizeof a, (double)hist_percentile(&s->service, pct[i])), 10);
            }
            bar(f, &s->latency, (double)hist_percentile(&s->latency, pct[i]));
            fprintf(f, "\n");
        }
    }
    if (c->rate) {
        double secs_ = (double)elapsed_ns / 1e9, got = secs_ > 0 ? (double)s->requests / secs_ : 0;
        if (!c->stages.n) {
            fprintf(f, "  Rate      %.2f/s asked, %.2f/s achieved\n", c->rate, got);
            /* the timeline, and the measurement, start once the connections are open (worker.c) */
            if (s->rate_start_forced)
                fprintf(f, "  Timeline  started after %s with connections still connecting (the limit is 1 s)\n",
                        report_time_us(a, sizeof a, (double)s->rate_start_us));
            else if (s->rate_start_us >= 1000)
                fprintf(f, "  Timeline  started after %s of opening connections (not counted in the duration)\n",
                        report_time_us(a, sizeof a, (double)s->rate_start_us));
            if (got < c->rate * 0.99)
                fprintf(f, "  Target rate not reached: %.1f%% of %.2f/s (more connections? a slower server?)\n",
                        100.0 * got / c->rate, c->rate);
        }
        fprintf(f, "  Latency is measured from each request's intended send time (corrected for\n"
                   "  coordinated omission); Service is measured from the actual send.\n");
        fprintf(f, "  Schedule  send delay behind the timeline p50 %s, p99 %s, max %s\n",
                report_time_us(a, sizeof a, (double)hist_percentile(&s->jitter, 50)),
                report_time_us(b, sizeof b, (double)hist_percentile(&s->jitter, 99)),
                report_time_us(d, sizeof d, (double)s->jitter.max));
    }
    int tls = !strcmp(c->url.scheme, "https");
    if (tls || !c->keepalive || c->latency) {
        const hist_t *h = &s->connect_time;
        fprintf(f, "  Connect   %" PRIu64 " connections, p50 %s, p99 %s, max %s\n", h->total,
                report_time_us(a, sizeof a, (double)hist_percentile(h, 50)),
                report_time_us(b, sizeof b, (double)hist_percentile(h, 99)),
                report_time_us(d, sizeof d, (double)h->max));
    }
    if (tls) {
        const hist_t *h = &s->tls_time;
        fprintf(f, "  TLS       %s, %" PRIu64 " handshakes (%" PRIu64 " resumed), p50 %s, p99 %s, max %s\n",
                s->tls_info[0] ? s->tls_info : "no handshake completed", h->total, s->tls_resumed,
                report_time_us(a, sizeof a, (double)hist_percentile(h, 50)),
                report_time_us(b, sizeof b, (double)hist_percentile(h, 99)),
                report_time_us(d, sizeof d, (double)h->max));
    }
    double secs = (double)elapsed_ns / 1e9;
    fprintf(f, "  %" PRIu64 " requests in %s, %sB read\n", s->requests,
            report_time_us(a, sizeof a, (double)elapsed_ns / 1000),
            report_binary(b, sizeof b, (double)s->bytes));
    uint32_t ncodes = stats_ncodes(s);
    int non2xx = 0;
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++) non2xx |= s->status[i] && (i < 200 || i > 299);
    if (ncodes > 1 || non2xx || (c->latency && ncodes)) {
        fprintf(f, "  Status   ");
        for (uint32_t i = 0, k = 0; i < STATS_STATUS_MAX; i++)
            if (s->status[i]) fprintf(f, "%s %u: %" PRIu64, k++ ? "," : "", i, s->status[i]);
        fputc('\n', f);
    }
    uint64_t failed = stats_failed(s), attempts = stats_attempts(s);
    if (failed || c->expect_text || c->failure_exit)
        fprintf(f, "  Failed    %" PRIu64 " of %" PRIu64 " attempts (%.2f%%)\n", failed, attempts,
                attempts ? 100.0 * (double)failed / (double)attempts : 0.0);
    const stats_errors_t *e = &s->errors;
    if (e->connect || e->read || e->write || e->timeout)
        fprintf(f, "  Socket errors: connect %" PRIu64 ", read %" PRIu64 ", write %" PRIu64
                ", timeout %" PRIu64 "\n", e->connect, e->read, e->write, e->timeout);
    if (e->parse)
        fprintf(f, "  Parse errors: %" PRIu64 "\n", e->parse);
    if (e->status)
        fprintf(f, "  Non-2xx or 3xx responses: %" PRIu64 "\n", e->status);
    if (s->nnamed) { /* Locust's keys (Type, Name), full names: the column is as wide as the longest */
        int w = 24;
        for (size_t i = 0; i < s->nnamed; i++) {
            size_t l = strlen(s->named[i].name);
            if (l > (size_t)w) w = l > 200 ? 200 : (int)l;
        }
        fprintf(f, "  Requests by name\n    %-7s %-*s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "Type", w, "Name",
                "Count", "Failures", "Req/s", "Min", "Avg", "p50", "p95", "p99", "Max");
        for (size_t i = 0; i < s->nnamed; i++) {
            const stats_named_t *n = &s->named[i];
            const hist_t *h = &n->latency;
            char t[6][16];
            fprintf(f, "    %-7s %-*s %9" PRIu64 " %9" PRIu64 " %9.2f %9s %9s %9s %9s %9s %9s\n",
                    n->method[0] ? n->method : "-", w, n->name, n->requests, n->failures,
                    secs > 0 ? (double)n->requests / secs : 0.0,
                    report_time_us(t[0], sizeof t[0], h->total ? (double)h->min : 0.0),
                    report_time_us(t[1], sizeof t[1], hist_mean(h)),
                    report_time_us(t[2], sizeof t[2], (double)hist_percentile(h, 50)),
                    report_time_us(t[3], sizeof t[3], (double)hist_percentile(h, 95)),
                    report_time_us(t[4], sizeof t[4], (double)hist_percentile(h, 99)),
                    report_time_us(t[5], sizeof t[5], (double)h->max));
        }
    }
    if (s->nchecks) {
        fprintf(f, "  Checks\n");
        for (size_t i = 0; i < s->nchecks; i++) {
            const stats_check_t *k = &s->checks[i];
            fprintf(f, "    %s %-40s %9" PRIu64 " passed %9" PRIu64 " failed\n",
                    k->fail ? "FAIL" : "ok  ", k->name, k->pass, k->fail);
        }
    }
    print_users(f, s);
    fprintf(f, "Requests/sec: %9.2f\n", secs > 0 ? (double)s->requests / secs : 0.0);
    fprintf(f, "Transfer/sec: %10sB\n",
            report_binary(a, sizeof a, secs > 0 ? (double)s->bytes / secs : 0.0));
}

void report_progress(FILE *f, const config_t *c, uint64_t elapsed_ns, const stats_point_t *last,
                     const stats_t *totals)
{
    char el[32], tot[32], p50[32], p99[32], stage[32] = "";
    snprintf(el, sizeof el, "%.0fs", (double)elapsed_ns / 1e9);
    if (c->duration_set || !c->requests) report_duration(tot, sizeof tot, c->duration_ns);
    else snprintf(tot, sizeof tot, "%" PRIu64 " req", c->requests);
    if (c->stages.n && last) snprintf(stage, sizeof stage, " stage %u/%zu", last->stage + 1, c->stages.n);
    fprintf(f, "\r\033[K[%s/%s]%s", el, tot, stage);
    if (last) {
        fprintf(f, " conns %u, %" PRIu64 " req/s, p50 %s, p99 %s", last->active, last->requests,
                report_time_us(p50, sizeof p50, (double)last->p50),
                report_time_us(p99, sizeof p99, (double)last->p99));
    }
    uint64_t failed = stats_failed(totals), attempts = stats_attempts(totals);
    fprintf(f, ", errors %" PRIu64 ", failed %" PRIu64, stats_error_total(&totals->errors), failed);
    if (failed) fprintf(f, " (%.1f%%)", attempts ? 100.0 * (double)failed / (double)attempts : 100.0);
    fflush(f);
}

void report_progress_clear(FILE *f)
{
    fprintf(f, "\r\033[K");
    fflush(f);
}

void report_thresholds(FILE *f, const threshold_t *t, const threshold_result_t *r, size_t n)
{
    if (!n) return;
    fprintf(f, "Thresholds\n");
    for (size_t i = 0; i < n; i++) {
        char v[64];
        fprintf(f, "  %s %-32s %12s%s%s\n", r[i].pass ? "\u2713" : "\u2717", t[i].expr,
                threshold_format_value(&t[i], r[i].measured, v, sizeof v),
                r[i].note ? "  " : "", r[i].note ? r[i].note : "");
    }
}

/* The one cause shared by every failed attempt, or NULL when they differ. */
static const char *only_cause(const stats_t *s, uint64_t failed, uint32_t *code)
{
    const stats_errors_t *e = &s->errors;
    if (e->timeout == failed) return "timeout";
    if (e->connect == failed) return "connect";
    if (e->read == failed) return "read";
    if (e->write == failed) return "write";
    if (e->parse == failed) return "parse";
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++)
        if (s->status[i]) {
            if (s->status[i] != failed) return NULL;
            *code = i;
            return "status";
        }
    return NULL;
}

char *report_all_failed(const config_t *c, const stats_t *s, char *buf, size_t size)
{
    uint64_t failed = stats_failed(s), attempts = stats_attempts(s);
    if (!attempts || failed < attempts) return NULL;
    char t[32];
    uint32_t code = 0;
    const char *why = only_cause(s, failed, &code);
    const char *host = c->url.host ? c->url.host : "?", *port = c->url.port ? c->url.port : "?";
    if (!why) {
        const stats_errors_t *e = &s->errors;
        snprintf(buf, size, "every request failed (connect %" PRIu64 ", read %" PRIu64 ", write %" PRIu64
                 ", timeout %" PRIu64 ", parse %" PRIu64 ", unexpected status %" PRIu64 "): see the report above",
                 e->connect, e->read, e->write, e->timeout, e->parse, s->failed_status);
    } else if (!strcmp(why, "timeout")) {
        snprintf(buf, size, "every request timed out after %s: raise --timeout, or check that %s:%s answers",
                 report_duration(t, sizeof t, c->timeout_ns), host, port);
    } else if (!strcmp(why, "connect")) {
        snprintf(buf, size, "every connection failed to open (refused, unreachable, timed out%s): is the server up at %s:%s?",
                 strcmp(c->url.scheme ? c->url.scheme : "", "https") ? "" : " or TLS handshake failed", host, port);
    } else if (!strcmp(why, "read")) {
        snprintf(buf, size, "every request failed: the server closed or reset the connection before answering");
    } else if (!strcmp(why, "write")) {
        snprintf(buf, size, "every request failed: writing the request to %s:%s failed", host, port);
    } else if (!strcmp(why, "parse")) {
        snprintf(buf, size, "every response was malformed: is %s:%s an HTTP/1.1 server%s?", host, port,
                 strcmp(c->url.scheme ? c->url.scheme : "", "https") ? " (not https?)" : "");
    } else if (stats_expected(&c->expect, code)) { /* --expect-status takes it: a script's r:failure() or expect */
        snprintf(buf, size, "every request failed: the script marked every HTTP %u response failed (r:failure() or expect)",
                 code);
    } else {
        const char *hint = code == 404 ? "check the URL's path"
                         : code == 401 || code == 403 ? "add the credentials (-H 'Authorization: ...')"
                         : code == 429 ? "the server is rate limiting: lower -R or -c"
                         : code >= 500 ? "the server is failing: see its logs"
                         : "check the request";
        snprintf(buf, size, "every request got HTTP %u: %s (or list %u in --expect-status if it is a success)",
                 code, hint, code);
    }
    return buf;
}

void report_events(FILE *f, const report_run_t *run)
{
    for (size_t i = 0; i < run->nevents; i++) {
        const control_event_t *e = &run->events[i];
        if (i == 10) {
            fprintf(f, "  Control   ... and %zu more (the JSON result has them all)\n", run->nevents - i);
            break;
        }
        double t = ((double)e->at_ns - (double)run->events_t0_ns) / 1e9;
        if (e->kind == CONTROL_USERS) fprintf(f, "  Control   at %.2fs: %.0f users (from the dashboard)\n", t, e->value);
        else if (e->kind == CONTROL_RATE)
            fprintf(f, "  Control   at %.2fs: rate %g/s (from the dashboard; \"asked\" above is -R's)\n", t, e->value);
        else fprintf(f, "  Control   at %.2fs: stopped from the dashboard\n", t);
    }
}
