/* report_csv.c - Locust-compatible CSV files, cell by cell as Locust 2.12.1
 * writes them (its stats.py StatsCSV): PREFIX_stats.csv (one row per
 * (method, name), sorted as Locust sorts them, then "Aggregated", the sum of
 * the rows), PREFIX_stats_history.csv (per second a row per name, as Locust
 * with --csv-full-history, and the Aggregated row), PREFIX_failures.csv (one row per
 * (method, name, error), Locust >= 2.44's First Seen/Last Seen appended) and
 * PREFIX_status.csv (responses by status code; not Locust's).
 *
 * Locust's number kinds are kept: times are float milliseconds written as
 * Python's repr writes floats ("0.733", "22.0"); percentiles are integers
 * from response times rounded as Locust stores them (to 1 ms below 100 ms,
 * 10 ms below 1 s, 100 ms below 10 s, else 1 s, half to even as Python's
 * round), the median likewise (a float past 100 ms, "150.0", and clamped to
 * the exact min/max, as Locust does); N/A where a row has no requests.
 * Failure counts are barrage's one definition (stats_failed). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Locust's PERCENTILES_TO_REPORT, as the doubles Python multiplies with. */
static const double pct[] = { 0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0 };
static const char *const pct_names[] = { "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%",
                                         "99.99%", "100%" };
#define NPCT (sizeof pct / sizeof pct[0])

/* A text cell quoted as Python's csv module quotes (QUOTE_MINIMAL): only
 * when it holds a comma, a quote or a line break. */
static void cell(FILE *f, const char *s)
{
    if (!s) s = "";
    int q = strpbrk(s, ",\"\r\n") != NULL;
    if (q) fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    if (q) fputc('"', f);
}

/* A float as Python's repr writes it: the shortest digits that read back
 * the same double, in fixed notation for exponents -4 to 15 (20.0, 0.0001,
 * 148.5) with ".0" on a whole number, else as 1e+16 or 1.5e-05. */
static void pyfloat(FILE *f, double v)
{
    char e[40], b[400];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    if (p > 17) p = 17;
    const char *x = strchr(e, 'e');
    int exp10 = x ? atoi(x + 1) : 0; /* "nan"/"inf" never occur: counts and times only */
    if (exp10 < -4 || exp10 >= 16) {
        fputs(e, f);
        return;
    }
    int frac = p - 1 - exp10;
    snprintf(b, sizeof b, "%.*f", frac > 0 ? frac : 0, v);
    fputs(b, f);
    if (!strchr(b, '.')) fputs(".0", f);
}

static double ms(uint64_t us) { return (double)us / 1000.0; }

/* Locust's stored response time of a value (stats.py log_request): rounded
 * to 1 ms below 100 ms, to 10 ms below 1 s, 100 ms below 10 s, else 1 s,
 * half to even (Python's round). In microseconds, exact on integers. */
static uint64_t locust_round(uint64_t us)
{
    uint64_t unit = us < 100000 ? 1000 : us < 1000000 ? 10000 : us < 10000000 ? 100000 : 1000000;
    uint64_t q = us / unit, r = us % unit;
    if (2 * r > unit || (2 * r == unit && (q & 1))) q++;
    return q * unit;
}

/* What Locust computes of one entry's response times. */
typedef struct loc {
    uint64_t n;              /* response times */
    uint64_t pct[NPCT];      /* Locust-rounded, us */
    uint64_t median;         /* Locust-rounded, us, before the clamp */
} loc_t;

/* One pass over h: the values at Locust's ranks (calculate_response_time_
 * percentile: index int(n * p), the last at most; median_from_dict: index
 * (n - 1) / 2). A bucket's value is its highest, at most the exact max, as
 * hist_percentile; exact below 2048 us. */
static void locust_values(const hist_t *h, loc_t *o)
{
    memset(o, 0, sizeof *o);
    o->n = h->total;
    if (!h->total) return;
    uint64_t want[NPCT + 1];
    for (size_t i = 0; i < NPCT; i++) {
        uint64_t k = (uint64_t)((double)h->total * pct[i]);
        want[i] = k < h->total ? k : h->total - 1;
    }
    want[NPCT] = (h->total - 1) / 2;
    uint64_t seen = 0;
    size_t lo = hist_index(h->min), hi = hist_index(h->max);
    for (size_t i = lo; i <= hi; i++) {
        if (!h->counts[i]) continue;
        uint64_t v = hist_highest(i);
        if (v > h->max) v = h->max;
        uint64_t next = seen + h->counts[i];
        for (size_t k = 0; k <= NPCT; k++)
            if (want[k] >= seen && want[k] < next) {
                if (k < NPCT) o->pct[k] = locust_round(v);
                else o->median = locust_round(v);
            }
        seen = next;
    }
}

/* Locust's median cell: an int below 100 ms, a float (round(x, -1)) above,
 * clamped to the exact min and max. */
static void median_cell(FILE *f, const hist_t *h, const loc_t *l)
{
    if (!h->total) { fputc('0', f); return; }
    double med = ms(l->median), lo = ms(h->min), hi = ms(h->max);
    if (med > hi) pyfloat(f, hi);
    else if (med < lo) pyfloat(f, lo);
    else if (l->median < 100000) fprintf(f, "%" PRIu64, l->median / 1000);
    else pyfloat(f, med);
}

static void pct_cells(FILE *f, uint64_t requests, const loc_t *l)
{
    for (size_t i = 0; i < NPCT; i++) {
        if (!requests || !l->n) fputs(",N/A", f);
        else fprintf(f, ",%" PRIu64, l->pct[i] / 1000);
    }
}

/* Median, Average, Min, Max and Average Content Size, as Locust writes them. */
static void time_cells(FILE *f, const hist_t *h, const loc_t *l, uint64_t requests, uint64_t content)
{
    median_cell(f, h, l);
    fputc(',', f);
    pyfloat(f, h->total ? h->sum / (double)h->total / 1000.0 : 0.0);
    fputc(',', f);
    if (h->total && h->min) pyfloat(f, ms(h->min)); else fputc('0', f); /* Locust: `min_response_time or 0` */
    fputc(',', f);
    if (h->total) pyfloat(f, ms(h->max)); else fputc('0', f);
    fputc(',', f);
    if (requests) pyfloat(f, (double)content / (double)requests); else fputc('0', f);
}

static void stats_row(FILE *f, const char *type, const char *name, uint64_t requests, uint64_t failures,
                      const hist_t *h, double secs, uint64_t content)
{
    loc_t l;
    locust_values(h, &l);
    cell(f, type);
    fputc(',', f);
    cell(f, name);
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", requests, failures);
    time_cells(f, h, &l, requests, content);
    fputc(',', f);
    pyfloat(f, secs > 0 ? (double)requests / secs : 0.0);
    fputc(',', f);
    pyfloat(f, secs > 0 ? (double)failures / secs : 0.0);
    pct_cells(f, requests, &l);
    fputc('\n', f);
}

static FILE *open_csv(const char *prefix, const char *suffix, char *path, size_t n, char *err, size_t errlen)
{
    snprintf(path, n, "%s_%s.csv", prefix, suffix);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    return f;
}

static int close_csv(FILE *f, const char *path, char *err, size_t errlen)
{
    if (!fclose(f)) return 0;
    snprintf(err, errlen, "cannot write '%s'", path);
    return -1;
}

/* Rows in Locust's order: sorted by (name, method). */
static int by_name_method(const void *a, const void *b)
{
    const stats_named_t *x = *(const stats_named_t *const *)a, *y = *(const stats_named_t *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->method, y->method);
}

static const stats_named_t **sorted_names(const stats_t *s)
{
    const stats_named_t **v = malloc((s->nnamed ? s->nnamed : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < s->nnamed; i++) v[i] = &s->named[i];
    qsort(v, s->nnamed, sizeof *v, by_name_method);
    return v;
}

static int write_stats(const char *prefix, const report_run_t *run, const stats_named_t **rows, char *err,
                       size_t errlen)
{
    const stats_t *s = run->total;
    double secs = (double)run->elapsed_ns / 1e9;
    char path[1024];
    FILE *f = open_csv(prefix, "stats", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
          "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s", f);
    for (size_t i = 0; i < NPCT; i++) fprintf(f, ",%s", pct_names[i]);
    fputc('\n', f);
    if (!s->nnamed) { /* a plain run (or request() script): one row, the -m method and the URL's path */
        stats_row(f, run->cfg->method, run->cfg->url.path, stats_attempts(s), stats_failed(s), &s->latency, secs,
                  s->content);
        stats_row(f, "", "Aggregated", stats_attempts(s), stats_failed(s), &s->latency, secs, s->content);
        return close_csv(f, path, err, errlen);
    }
    /* Aggregated: the rows' sums, percentiles from their merged histogram */
    hist_t all;
    if (hist_init(&all)) { fclose(f); snprintf(err, errlen, "out of memory writing '%s'", path); return -1; }
    uint64_t req = 0, fail = 0, content = 0;
    for (size_t i = 0; i < s->nnamed; i++) {
        const stats_named_t *n = rows[i];
        stats_row(f, n->method, n->name, n->requests, n->failures, &n->latency, secs, n->bytes);
        req += n->requests;
        fail += n->failures;
        content += n->bytes;
        hist_merge(&all, &n->latency);
    }
    stats_row(f, "", "Aggregated", req, fail, &all, secs, content);
    hist_free(&all);
    return close_csv(f, path, err, errlen);
}

/* One history row: the second's own counts and histogram, and the totals so far. */
typedef struct hrow {
    uint64_t requests, failures;       /* during the second */
    uint64_t total_req, total_fail, total_content;
    const hist_t *one, *cum;
    int known;                         /* the series holds each second's latency and content
                                          (a run's own; not a result read back: N/A) */
} hrow_t;

static void history_row(FILE *f, const report_run_t *run, int64_t ts, uint32_t users, const char *method,
                        const char *name, const hrow_t *r)
{
    loc_t l;
    locust_values(run->cfg->csv_per_second ? r->one : r->cum, &l);
    fprintf(f, "%" PRId64 ",%u,", ts, users);
    cell(f, method);
    fputc(',', f);
    cell(f, name);
    fprintf(f, ",%f,%f", (double)r->requests, (double)r->failures);
    pct_cells(f, run->cfg->csv_per_second ? r->requests : r->total_req, &l);
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", r->total_req, r->total_fail);
    locust_values(r->cum, &l);
    if (r->known) time_cells(f, r->cum, &l, r->total_req, r->total_content);
    else fputs("N/A,N/A,N/A,N/A,N/A", f);
    fputc('\n', f);
}

static void replay(hist_t *one, hist_t *cum, const stats_bucket_t *b, uint32_t n)
{
    hist_reset(one);
    for (uint32_t k = 0; k < n; k++) {
        hist_record_n(cum, hist_highest(b[k].index), b[k].count);
        hist_record_n(one, hist_highest(b[k].index), b[k].count);
    }
}

/* The exact min, max and sum so far (the series keeps them beside the
 * buckets) replace the bucket values replay recorded: the totals of the
 * last row are then stats.csv's, value by value, as Locust's are. */
typedef struct exact {
    uint64_t min, max, n;
    double sum;
    int set;
} exact_t;

/* n: how many latencies min/max/sum cover (0: the buckets' count, as per
 * name); a second whose buckets were closed before a lagging thread's part
 * came has fewer in its buckets than in its sum: the bucket values stay. */
static void exact_apply(hist_t *cum, exact_t *x, int set, uint64_t min, uint64_t max, double sum, uint64_t n)
{
    if (set) {
        if (!x->set || min < x->min) x->min = min;
        if (!x->set || max > x->max) x->max = max;
        x->set = 1;
    }
    x->sum += sum;
    x->n += n;
    if (!x->set || !cum->total || (x->n && x->n != cum->total)) return;
    cum->min = x->min;
    cum->max = x->max;
    cum->sum = x->sum;
}

static int by_series_name(const void *a, const void *b)
{
    const stats_name_series_t *x = *(const stats_name_series_t *const *)a, *y = *(const stats_name_series_t *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->method, y->method);
}

/* PREFIX_stats_history.csv: per second, a row per (method, name) seen so far
 * (as Locust with --csv-full-history, sorted as its rows) and the Aggregated
 * row (Locust's default). Percentiles since the start (Locust's
 * default) or of that second alone (--csv-history per-second), from the
 * seconds' kept histograms. */
static int write_history(const char *prefix, const report_run_t *run, char *err, size_t errlen)
{
    char path[1024];
    FILE *f = open_csv(prefix, "stats_history", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Timestamp,User Count,Type,Name,Requests/s,Failures/s", f);
    for (size_t i = 0; i < NPCT; i++) fprintf(f, ",%s", pct_names[i]);
    fputs(",Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
          "Total Min Response Time,Total Max Response Time,Total Average Content Size\n", f);
    const stats_series_t *ser = run->series;
    uint32_t nn = ser ? ser->nnames : 0;
    /* per name: its series, cumulative totals, and a histogram so far */
    const stats_name_series_t **ns = calloc(nn + 1, sizeof *ns);
    hist_t *ncum = calloc(nn + 1, sizeof *ncum);
    exact_t *nexact = calloc(nn + 1, sizeof *nexact), exact = { 0 };
    uint64_t (*ntot)[3] = calloc(nn + 1, sizeof *ntot);
    hist_t cum = { 0 }, one = { 0 };
    int ok = ns && ncum && nexact && ntot && !hist_init(&cum) && !hist_init(&one);
    for (uint32_t k = 0; ok && k < nn; k++) ok = !hist_init(&ncum[k]);
    if (ok) {
        for (uint32_t k = 0; k < nn; k++) ns[k] = &ser->names[k];
        qsort(ns, nn, sizeof *ns, by_series_name);
        /* names keep their sorted index k; ncum[k]/ntot[k] follow ns[k] */
    }
    uint64_t total_req = 0, total_fail = 0, total_content = 0;
    for (uint32_t i = 0; ok && ser && i < ser->n; i++) {
        const stats_point_t *p = &ser->pts[i];
        int64_t ts = (run->start_unix_ms / 1000) + i;
        for (uint32_t k = 0; k < nn; k++) {
            const stats_name_series_t *e = ns[k];
            if (i < e->first) continue;
            const stats_name_point_t *np = i < e->n ? &e->pts[i] : NULL;
            static const stats_name_point_t none;
            if (!np) np = &none;
            ntot[k][0] += np->requests;
            ntot[k][1] += np->failures;
            ntot[k][2] += np->content;
            replay(&one, &ncum[k], np->buckets, np->nbuckets);
            exact_apply(&ncum[k], &nexact[k], np->lat_set, np->cum_min, np->cum_max, np->lat_sum, 0);
            hrow_t r = { np->requests, np->failures, ntot[k][0], ntot[k][1], ntot[k][2], &one, &ncum[k],
                         ser->keep_buckets };
            history_row(f, run, ts, p->active, e->method, e->name, &r);
        }
        uint64_t attempts = p->requests + stats_error_total(&p->errors);
        total_req += attempts;
        total_fail += p->failed;
        total_content += p->content;
        replay(&one, &cum, p->buckets, p->nbuckets);
        exact_apply(&cum, &exact, p->lat_set, p->lat_min, p->lat_max, p->lat_sum, p->lat_n);
        if (p->lat_set && one.total == p->lat_n) { /* the second's own, exact too */
            one.min = p->lat_min;
            one.max = p->lat_max;
            one.sum = p->lat_sum;
        }
        hrow_t r = { attempts, p->failed, total_req, total_fail, total_content, &one, &cum, ser->keep_buckets };
        history_row(f, run, ts, p->active, "", "Aggregated", &r);
    }
    if (cum.counts) hist_free(&cum);
    if (one.counts) hist_free(&one);
    for (uint32_t k = 0; ncum && k < nn; k++) if (ncum[k].counts) hist_free(&ncum[k]);
    free(ns);
    free(ncum);
    free(nexact);
    free(ntot);
    if (!ok) {
        fclose(f);
        snprintf(err, errlen, "out of memory writing '%s'", path);
        return -1;
    }
    return close_csv(f, path, err, errlen);
}

/* Python's http.HTTPStatus phrase of the usual failure codes. */
static const char *reason(unsigned code)
{
    static const struct { unsigned code; const char *text; } r[] = {
        { 400, "Bad Request" }, { 401, "Unauthorized" }, { 402, "Payment Required" }, { 403, "Forbidden" },
        { 404, "Not Found" }, { 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
        { 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" },
        { 412, "Precondition Failed" }, { 413, "Request Entity Too Large" }, { 414, "Request-URI Too Long" },
        { 415, "Unsupported Media Type" }, { 422, "Unprocessable Entity" }, { 425, "Too Early" },
        { 429, "Too Many Requests" }, { 500, "Internal Server Error" }, { 501, "Not Implemented" },
        { 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
        { 505, "HTTP Version Not Supported" },
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (r[i].code == code) return r[i].text;
    return "Unknown";
}

/* The Error cell of a failure kind, Locust's text where Locust has one:
 * HTTPError('404 Client Error: Not Found for url: URL') as requests' raise_for_status
 * words it (URL: the name, or the full URL in a plain run); socket and
 * protocol errors as ConnectionError(...)/Timeout(...)/InvalidResponse(...). */
static void error_text(char *b, size_t n, int32_t kind, const char *url)
{
    static const char *const cls[] = { "ConnectionError('connect: connection failed')",
                                       "ConnectionError('read: connection closed or reset with a request in flight')",
                                       "ConnectionError('write: write failed')",
                                       "Timeout('timeout: no response within the timeout')",
                                       "InvalidResponse('parse: malformed or unsolicited response')" };
    if (kind < 0) { snprintf(b, n, "%s", cls[-1 - kind < 5 ? -1 - kind : 4]); return; }
    unsigned code = (unsigned)kind;
    const char *what = code >= 500 && code < 600 ? "Server Error" : code >= 400 && code < 500 ? "Client Error"
                                                                                         : "Unexpected Status";
    snprintf(b, n, "HTTPError('%u %s: %s for url: %s')", code, what, reason(code), url);
}

static void iso_utc(FILE *f, int64_t ms_epoch)
{
    if (ms_epoch <= 0) return;
    time_t t = (time_t)(ms_epoch / 1000);
    struct tm tm;
    char b[32];
    gmtime_r(&t, &tm);
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fputs(b, f);
}

/* One row of PREFIX_failures.csv. Reasons a script gives (r:failure("msg"))
 * are rows of the same form: feed them here with their own error text. */
static void failure_row(FILE *f, const char *method, const char *name, const char *error, uint64_t count,
                        int64_t first_ms, int64_t last_ms)
{
    cell(f, method);
    fputc(',', f);
    cell(f, name);
    fputc(',', f);
    cell(f, error);
    fprintf(f, ",%" PRIu64 ",", count);
    iso_utc(f, first_ms);
    fputc(',', f);
    iso_utc(f, last_ms);
    fputc('\n', f);
}

/* A plain run's failure kind over the series: count in second i, for its first/last seen. */
static uint64_t point_count(const stats_point_t *p, int32_t kind)
{
    if (kind >= 0) {
        for (uint32_t k = 0; k < p->ncodes; k++) if (p->codes[k].code == (uint32_t)kind) return p->codes[k].count;
        return 0;
    }
    const uint64_t c[] = { p->errors.connect, p->errors.read, p->errors.write, p->errors.timeout, p->errors.parse };
    return c[-1 - kind];
}

static int write_failures(const char *prefix, const report_run_t *run, const stats_named_t **rows, char *err,
                          size_t errlen)
{
    const stats_t *s = run->total;
    char path[1024], e[1200];
    FILE *f = open_csv(prefix, "failures", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Method,Name,Error,Occurrences,First Seen,Last Seen\n", f);
    for (size_t i = 0; i < s->nnamed; i++)
        for (uint32_t k = 0; k < rows[i]->nfails; k++) {
            const stats_fail_t *x = &rows[i]->fails[k];
            error_text(e, sizeof e, x->kind, rows[i]->name);
            failure_row(f, rows[i]->method, rows[i]->name, e, x->count, x->first_ms, x->last_ms);
        }
    /* r:failure(msg): Locust's catch_response failures (error classes are rows above already);
     * barrage does not time-stamp them: the run's span */
    static const char *const class_names[] = { "connect", "read", "write", "timeout", "parse" };
    int64_t end_ms = run->start_unix_ms + (int64_t)(run->elapsed_ns / 1000000);
    for (size_t i = 0; i < s->nnamed; i++)
        for (uint32_t k = 0; k < rows[i]->nreasons; k++) {
            const stats_reason_t *x = &rows[i]->reasons[k];
            int cls = 0;
            for (size_t c = 0; c < sizeof class_names / sizeof class_names[0]; c++)
                cls |= !strcmp(x->reason, class_names[c]);
            if (cls) continue;
            snprintf(e, sizeof e, "CatchResponseError('%.1000s')", x->reason);
            failure_row(f, rows[i]->method, rows[i]->name, e, x->count, run->start_unix_ms, end_ms);
        }
    if (!s->nnamed) { /* a plain run: its error classes and failed statuses, seen by second */
        const uint64_t classes[] = { s->errors.connect, s->errors.read, s->errors.write, s->errors.timeout,
                                     s->errors.parse };
        for (int32_t kind = -5; kind < STATS_STATUS_MAX; kind++) {
            uint64_t count = kind < 0 ? classes[-1 - kind] : s->status[kind];
            if (!count || (kind >= 0 && stats_expected(&run->cfg->expect, (unsigned)kind))) continue;
            int64_t first = 0, last = 0, t0 = run->start_unix_ms;
            for (uint32_t i = 0; run->series && i < run->series->n; i++)
                if (point_count(&run->series->pts[i], kind)) {
                    if (!first) first = t0 + (int64_t)i * 1000;
                    last = t0 + (int64_t)i * 1000;
                }
            error_text(e, sizeof e, kind, run->cfg->url_text);
            failure_row(f, run->cfg->method, run->cfg->url.path, e, count, first, last);
        }
    }
    return close_csv(f, path, err, errlen);
}

/* Responses by status code: per (method, name), then the whole run ("Aggregated"). */
static int write_status(const char *prefix, const report_run_t *run, const stats_named_t **rows, char *err,
                        size_t errlen)
{
    const stats_t *s = run->total;
    char path[1024];
    FILE *f = open_csv(prefix, "status", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Name,Status,Count,Counted As,Method\n", f);
    for (size_t i = 0; i < s->nnamed; i++)
        for (uint32_t j = 0; j < rows[i]->ncodes; j++) {
            const stats_code_t *k = &rows[i]->codes[j];
            cell(f, rows[i]->name);
            fprintf(f, ",%u,%" PRIu64 ",%s,", k->code, k->count,
                    stats_expected(&run->cfg->expect, k->code) ? "expected" : "failed");
            cell(f, rows[i]->method);
            fputc('\n', f);
        }
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++)
        if (s->status[i])
            fprintf(f, "Aggregated,%u,%" PRIu64 ",%s,\n", i, s->status[i],
                    stats_expected(&run->cfg->expect, i) ? "expected" : "failed");
    return close_csv(f, path, err, errlen);
}

int report_csv(const char *prefix, const report_run_t *run, char *err, size_t errlen)
{
    const stats_named_t **rows = sorted_names(run->total);
    if (!rows) { snprintf(err, errlen, "out of memory"); return -1; }
    int rc = write_stats(prefix, run, rows, err, errlen);
    if (!rc) rc = write_history(prefix, run, err, errlen);
    if (!rc) rc = write_failures(prefix, run, rows, err, errlen);
    /* PREFIX_exceptions.csv (a script's exceptions) is its own function, called here */
    if (!rc) rc = write_status(prefix, run, rows, err, errlen);
    if (!rc) rc = report_csv_stages(prefix, run, err, errlen);
    free(rows);
    return rc;
}

/* Python's csv module (Locust's writer) quotes a field only when it holds a
 * comma, a quote or a line break: the same here, so the files compare. */
static void min_cell(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) cell(f, s);
    else fputs(s, f);
}

int report_csv_exceptions(const char *prefix, const stats_t *s, char *err, size_t errlen)
{
    char path[1024];
    FILE *f = open_csv(prefix, "exceptions", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Count,Message,Traceback,Nodes\r\n", f);
    for (size_t i = 0; i < s->nexceptions; i++) {
        fprintf(f, "%" PRIu64 ",", s->exceptions[i].count);
        min_cell(f, s->exceptions[i].message);
        fputc(',', f);
        min_cell(f, s->exceptions[i].location);
        fputs(",local\r\n", f);
    }
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }
    return 0;
}
