/* threshold.c - parsing and evaluating --threshold expressions.
 *
 * The parser works on [start, end) spans of the caller's string and copies
 * only the expression and the name, so every error can quote the exact token
 * the user typed. */
#include "threshold.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS_HINT "use <, <=, >, >=, == or !="
#define METRICS_HINT "use p(N), med, mean, min, max, stdev, failed, failed_rate, errors, non2xx, requests, rps or checks; " \
                     "or k6's http_req_duration:p(95), http_req_failed:rate, http_reqs:count, checks:rate, iterations:count"

/* The expression is the user's and may hold control characters; they become
 * spaces so the message stays one line. */
int threshold_vfail(char *err, size_t errlen, const char *option, const char *expr, const char *fmt,
                    va_list ap)
{
    if (!err || !errlen) return -1;
    int n = snprintf(err, errlen, "%s '%s': ", option, expr ? expr : "");
    if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    for (char *c = err; *c; c++)
        if (iscntrl((unsigned char)*c)) *c = ' ';
    return -1;
}

/* "--threshold 'EXPR': " + the message. */
static int fail(char *err, size_t errlen, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = threshold_vfail(err, errlen, "--threshold", expr, fmt, ap);
    va_end(ap);
    return rc;
}

static int is_op_char(char c)
{
    return c == '<' || c == '>' || c == '=' || c == '!';
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p)) p++;
    return p;
}

/* The next whitespace-delimited word at p: its end. */
static const char *word_end(const char *p, const char *end)
{
    while (p < end && !isspace((unsigned char)*p)) p++;
    return p;
}

static int span_is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - s) == n && !memcmp(s, word, n);
}

/* strtod alone would accept signs, exponents, hex and inf too. */
size_t threshold_scan_number(const char *s, const char *end, double *v)
{
    const char *p = s;
    int digits = 0;
    while (p < end && isdigit((unsigned char)*p)) { p++; digits++; }
    if (p < end && *p == '.') {
        p++;
        while (p < end && isdigit((unsigned char)*p)) { p++; digits++; }
    }
    if (!digits) return 0;
    char buf[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    *v = strtod(buf, NULL);
    return isfinite(*v) ? n : 0;
}

static int is_latency(threshold_metric_t m)
{
    return m <= THRESHOLD_STDEV;
}

/* The metric word [s, e); sets t->metric and t->p. */
static int parse_metric(const char *s, const char *e, threshold_t *t, const char *expr,
                        char *err, size_t errlen)
{
    int len = (int)(e - s);
    static const struct { const char *word; threshold_metric_t m; } words[] = {
        { "mean", THRESHOLD_MEAN }, { "avg", THRESHOLD_MEAN }, { "min", THRESHOLD_MIN },
        { "max", THRESHOLD_MAX }, { "stdev", THRESHOLD_STDEV }, { "errors", THRESHOLD_ERRORS },
        { "non2xx", THRESHOLD_NON2XX }, { "requests", THRESHOLD_REQUESTS },
        { "rps", THRESHOLD_RPS }, { "checks", THRESHOLD_CHECKS }, { "failed", THRESHOLD_FAILED },
        { "failed_rate", THRESHOLD_FAILED_RATE }, { "http_req_failed", THRESHOLD_FAILED_RATE },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (span_is(s, e, words[i].word)) { t->metric = words[i].m; return 0; }
    if (span_is(s, e, "med")) { t->metric = THRESHOLD_PERCENTILE; t->p = 50; return 0; }

    double v;
    if (len >= 2 && s[0] == 'p' && s[1] == '(') {
        if (e[-1] != ')')
            return fail(err, errlen, expr, "'%.*s' is missing its ')' (use e.g. p(95)<300ms)", len, s);
        const char *a = skip_ws(s + 2, e - 1), *b = e - 1;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        size_t n = threshold_scan_number(a, b, &v);
        if (!n || a + n != b)
            return fail(err, errlen, expr, "cannot read '%.*s' as a percentile (use p(N) with 0 < N <= 100, e.g. p(95), p(99.9))", len, s);
        if (v <= 0 || v > 100)
            return fail(err, errlen, expr, "percentile '%.*s' is out of range (use 0 < N <= 100, e.g. p(99.9))", len, s);
        t->metric = THRESHOLD_PERCENTILE;
        t->p = v;
        return 0;
    }
    static const char *const k6_bare[][2] = {
        { "http_req_duration", "http_req_duration:p(95)<500" }, { "http_reqs", "http_reqs:count>1000" },
    };
    for (size_t i = 0; i < sizeof k6_bare / sizeof k6_bare[0]; i++)
        if (span_is(s, e, k6_bare[i][0]))
            return fail(err, errlen, expr, "k6's %s needs an aggregation after ':' (e.g. %s)", k6_bare[i][0], k6_bare[i][1]);
    if (len >= 2 && s[0] == 'p' && threshold_scan_number(s + 1, e, &v) == (size_t)(len - 1))
        return fail(err, errlen, expr, "unknown metric '%.*s' (did you mean p(%.*s)?)", len, s, len - 1, s + 1);
    return fail(err, errlen, expr, "unknown metric '%.*s' (" METRICS_HINT ")", len, s);
}

/* The value word [s, e), by the metric's kind; sets t->value and t->percent. */
static int parse_value(const char *s, const char *e, threshold_t *t, const char *expr,
                       char *err, size_t errlen)
{
    int len = (int)(e - s);
    double v = 0;
    size_t n = threshold_scan_number(s, e, &v);
    const char *u = s + n;                    /* the unit, [u, e) */
    int ok = n > 0;

    if (is_latency(t->metric)) {
        static const struct { const char *unit; double us; } units[] = {
            { "", 1e3 }, { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 },
        };
        size_t i = 0;
        for (; ok && i < sizeof units / sizeof units[0]; i++)
            if (span_is(u, e, units[i].unit)) break;
        if (!ok || i == sizeof units / sizeof units[0])
            return fail(err, errlen, expr, "cannot read '%.*s' as a duration (use e.g. 300ms, 1s)", len, s);
        t->value = v * units[i].us;
        return 0;
    }

    int pct = ok && span_is(u, e, "%");
    double mult = 0;
    if (ok && !pct) {
        if (u == e) mult = 1;
        else if (span_is(u, e, "k")) mult = 1e3;
        else if (span_is(u, e, "M")) mult = 1e6;
        else if (span_is(u, e, "G")) mult = 1e9;
    }
    switch (t->metric) {
    case THRESHOLD_FAILED_RATE:
    case THRESHOLD_CHECKS_RATE:
        if (!pct && (mult != 1 || v > 1))
            return fail(err, errlen, expr, "cannot read '%.*s' as a rate (use a fraction from 0 to 1 or a percentage, e.g. %s)", len, s,
                        t->metric == THRESHOLD_CHECKS_RATE ? "checks:rate>0.99 or checks:rate>99%" : "failed_rate<0.01 or failed_rate<1%");
        break;
    case THRESHOLD_FAILED:
    case THRESHOLD_ERRORS:
    case THRESHOLD_NON2XX: {
        const char *m = t->metric == THRESHOLD_ERRORS ? "errors" : t->metric == THRESHOLD_FAILED ? "failed" : "non2xx";
        if (!pct && mult == 0)
            return fail(err, errlen, expr, "cannot read '%.*s' as a count or a percentage (use e.g. %s<0.1%% or %s<10)", len, s, m, m);
        break;
    }
    case THRESHOLD_ITERATIONS:
        if (pct || mult == 0)
            return fail(err, errlen, expr, "cannot read '%.*s' as a count (use e.g. iterations:count>=100)", len, s);
        break;
    case THRESHOLD_HTTP_REQS:
        if (pct || mult == 0)
            return fail(err, errlen, expr, "cannot read '%.*s' as a count (use e.g. http_reqs:count>=1000)", len, s);
        break;
    case THRESHOLD_REQUESTS:
        if (pct)
            return fail(err, errlen, expr, "requests takes a count, not a percentage like '%.*s' (use e.g. requests>=1000; for a share of failures use failed_rate<1%%)", len, s);
        if (mult == 0)
            return fail(err, errlen, expr, "cannot read '%.*s' as a count (use e.g. requests>=1000 or requests>=10k)", len, s);
        break;
    case THRESHOLD_RPS:
    case THRESHOLD_HTTP_REQS_RATE:
    case THRESHOLD_ITERATIONS_RATE:
        if (mult == 0)
            return fail(err, errlen, expr, "cannot read '%.*s' as requests per second (use a plain number, e.g. rps>1000)", len, s);
        break;
    default: /* THRESHOLD_CHECKS */
        if (!pct)
            return fail(err, errlen, expr, "cannot read '%.*s' as a percentage (checks is a pass rate: use e.g. checks>99%%)", len, s);
        break;
    }
    if (pct && v > 100)
        return fail(err, errlen, expr, "'%.*s' is more than 100%% (use a percentage from 0%% to 100%%)", len, s);
    t->percent = pct;
    t->value = pct ? v : v * mult;
    return 0;
}

/* k6's metric names, each with the aggregations it takes. */
static const struct k6_metric {
    const char *name;
    const char *hint;  /* the aggregations, for messages */
} k6_metrics[] = {
    { "http_req_duration", "p(N), avg, med, min or max" },
    { "http_req_failed", "rate" },
    { "http_reqs", "count or rate" },
    { "checks", "rate" },
    { "iterations", "count or rate" },
};

/* When [*name, *name_end) is a k6 metric with an optional {name:X} tag (or
 * {check:X} for checks): the metric from the aggregation [m, me), and the
 * name narrowed to the tag's value (NULL without a tag). 1 if it was k6's,
 * 0 if not (a request name), -1 on an error. */
static int parse_k6(const char **name, const char **name_end, const char *m, const char *me, threshold_t *t,
                    const char *expr, char *err, size_t errlen)
{
    const char *n = *name, *ne = *name_end, *base_end = ne, *tag = NULL, *tag_end = NULL;
    const char *brace = memchr(n, '{', (size_t)(ne - n));
    if (brace && ne[-1] == '}') { base_end = brace; tag = brace + 1; tag_end = ne - 1; }
    size_t k = 0, nk = sizeof k6_metrics / sizeof k6_metrics[0];
    while (k < nk && !span_is(n, base_end, k6_metrics[k].name)) k++;
    if (k == nk) return 0;
    const char *tv = NULL, *tve = NULL;
    if (tag) {
        const char *colon = memchr(tag, ':', (size_t)(tag_end - tag));
        const char *tk = skip_ws(tag, tag_end), *tke = colon ? colon : tag_end;
        while (tke > tk && isspace((unsigned char)tke[-1])) tke--;
        int is_check = k == 3;
        if (!colon || !(span_is(tk, tke, "name") || (is_check && span_is(tk, tke, "check"))))
            return fail(err, errlen, expr, "cannot read the tag '{%.*s}' (use {name:NAME}%s)", (int)(tag_end - tag), tag,
                        is_check ? " or {check:NAME}" : "");
        if (k == 4)
            return fail(err, errlen, expr, "iterations are not counted per name (drop the '{%.*s}')",
                        (int)(tag_end - tag), tag);
        tv = skip_ws(colon + 1, tag_end);
        tve = tag_end;
        while (tve > tv && isspace((unsigned char)tve[-1])) tve--;
        if (tv == tve)
            return fail(err, errlen, expr, "empty tag value in '{%.*s}' (use e.g. {name:login})", (int)(tag_end - tag), tag);
    }
    int ok = 1;
    switch (k) {
    case 0: /* http_req_duration: the latency words */
        if (parse_metric(m, me, t, expr, err, errlen) || !is_latency(t->metric)) ok = 0;
        break;
    case 1: ok = span_is(m, me, "rate"); t->metric = THRESHOLD_FAILED_RATE; break;
    case 2:
        if (span_is(m, me, "count")) t->metric = THRESHOLD_HTTP_REQS;
        else if (span_is(m, me, "rate")) t->metric = THRESHOLD_HTTP_REQS_RATE;
        else ok = 0;
        break;
    case 3: ok = span_is(m, me, "rate"); t->metric = THRESHOLD_CHECKS_RATE; break;
    default:
        if (span_is(m, me, "count")) t->metric = THRESHOLD_ITERATIONS;
        else if (span_is(m, me, "rate")) t->metric = THRESHOLD_ITERATIONS_RATE;
        else ok = 0;
        break;
    }
    if (!ok)
        return fail(err, errlen, expr, "%s takes %s, not '%.*s' (e.g. %s)", k6_metrics[k].name, k6_metrics[k].hint,
                    (int)(me - m), m,
                    k == 0 ? "http_req_duration:p(95)<500" : k == 1 ? "http_req_failed:rate<0.01" :
                    k == 2 ? "http_reqs:count>1000" : k == 3 ? "checks:rate>0.99" : "iterations:rate>10");
    *name = tv;
    *name_end = tve;
    return 1;
}

int threshold_parse(const char *expr, threshold_t *out, char *err, size_t errlen)
{
    threshold_t t = { 0 };
    if (out) memset(out, 0, sizeof *out);
    if (!expr) expr = "";
    const char *start = skip_ws(expr, expr + strlen(expr)), *end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1])) end--;
    if (start == end)
        return fail(err, errlen, expr, "empty threshold (use e.g. p(95)<300ms or login:errors<1%%)");

    /* NAME: everything before the last ':' (nothing after it can hold one). */
    const char *body = start, *colon = NULL;
    for (const char *p = start; p < end; p++)
        if (*p == ':') colon = p;
    const char *name = NULL, *name_end = NULL;
    if (colon) {
        name = start;
        name_end = colon;
        while (name_end > name && isspace((unsigned char)name_end[-1])) name_end--;
        if (name == name_end)
            return fail(err, errlen, expr, "empty name before ':' (write NAME:METRIC, e.g. login:p(95)<500ms, or drop the ':')");
        body = colon + 1;
    }

    /* METRIC: up to an operator or a space, except inside p( ... ). */
    const char *m = skip_ws(body, end), *me = m;
    while (me < end && !isspace((unsigned char)*me) && !is_op_char(*me)) {
        if (*me == '(') {
            const char *close = memchr(me, ')', (size_t)(end - me));
            if (close) { me = close + 1; continue; }
        }
        me++;
    }
    if (m == end)
        return fail(err, errlen, expr, "missing metric after '%.*s:' (use e.g. %.*s:p(95)<500ms)",
                    (int)(name_end - name), name, (int)(name_end - name), name);
    if (m == me) {
        const char *w = word_end(m, end);
        return fail(err, errlen, expr, "missing metric before '%.*s' (use e.g. p(95)<300ms)", (int)(w - m), m);
    }
    /* k6's spelling: METRIC[{TAG:VALUE}]:AGGREGATION, e.g. "http_req_failed:rate<0.01",
     * "http_req_duration{name:login}:p(95)<300" (a script's thresholds table joins key and expression) */
    int k6 = name ? parse_k6(&name, &name_end, m, me, &t, expr, err, errlen) : 0;
    if (k6 < 0) return -1;
    if (!k6 && parse_metric(m, me, &t, expr, err, errlen)) return -1;
    if (name && t.metric == THRESHOLD_NON2XX)
        return fail(err, errlen, expr, "'non2xx' is not counted per name (use '%.*s:errors', its failed requests, the same as NAME:failed)", (int)(name_end - name), name);

    /* OP */
    const char *o = skip_ws(me, end), *oe = o;
    while (oe < end && is_op_char(*oe)) oe++;
    if (o == oe) {
        if (o == end)
            return fail(err, errlen, expr, "missing operator and value after '%.*s' (use e.g. p(95)<300ms)", (int)(me - m), m);
        const char *w = word_end(o, end);
        return fail(err, errlen, expr, "expected an operator before '%.*s' (" OPS_HINT ")", (int)(w - o), o);
    }
    static const struct { const char *op; threshold_op_t v; } ops[] = {
        { "<", THRESHOLD_LT }, { "<=", THRESHOLD_LE }, { ">", THRESHOLD_GT },
        { ">=", THRESHOLD_GE }, { "==", THRESHOLD_EQ }, { "!=", THRESHOLD_NE },
    };
    size_t i = 0;
    while (i < sizeof ops / sizeof ops[0] && !span_is(o, oe, ops[i].op)) i++;
    if (i == sizeof ops / sizeof ops[0])
        return fail(err, errlen, expr, "unknown operator '%.*s' (" OPS_HINT ")", (int)(oe - o), o);
    t.op = ops[i].v;

    /* VALUE: one word, then nothing. */
    const char *v = skip_ws(oe, end), *ve = word_end(v, end);
    if (v == ve)
        return fail(err, errlen, expr, "missing value after '%.*s' (e.g. p(95)<300ms)", (int)(oe - o), o);
    if (parse_value(v, ve, &t, expr, err, errlen)) return -1;
    const char *rest = skip_ws(ve, end);
    if (rest != end) {
        const char *w = word_end(rest, end);
        return fail(err, errlen, expr, "unexpected '%.*s' after '%.*s' (write a value as one word, e.g. 300ms; "
                    "one condition per --threshold)", (int)(w - rest), rest, (int)(ve - v), v);
    }

    t.expr = strndup(start, (size_t)(end - start));
    t.name = name ? strndup(name, (size_t)(name_end - name)) : NULL;
    if (!t.expr || (name && !t.name)) {
        threshold_free(&t);
        return fail(err, errlen, expr, "out of memory");
    }
    if (!out) { threshold_free(&t); return 0; }
    *out = t;
    return 0;
}

void threshold_free(threshold_t *t)
{
    if (!t) return;
    free(t->expr);
    free(t->name);
    t->expr = t->name = NULL;
}

/* Equal within floating-point noise: "0.3ms" is 0.3 * 1000 microseconds,
 * which need not be exactly 300.0. */
static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static int holds(double a, threshold_op_t op, double b)
{
    switch (op) {
    case THRESHOLD_LT: return a < b && !near(a, b);
    case THRESHOLD_LE: return a < b || near(a, b);
    case THRESHOLD_GT: return a > b && !near(a, b);
    case THRESHOLD_GE: return a > b || near(a, b);
    case THRESHOLD_EQ: return near(a, b);
    default:           return !near(a, b);
    }
}

/* A name's stats over all its methods (stats_named_sum); *scratch is freed by
 * free_named. */
static const stats_named_t *find_named(const stats_t *s, const char *name, stats_named_t *scratch)
{
    scratch->latency.counts = NULL;
    return stats_named_sum(s, name, scratch);
}

static void free_named(stats_named_t *scratch)
{
    if (scratch->latency.counts) hist_free(&scratch->latency);
}

static double percent(uint64_t part, uint64_t whole)
{
    return (double)part * 100.0 / (double)whole;
}

static void eval(const threshold_t *t, const stats_t *s, double duration_s, threshold_result_t *r,
                 stats_named_t *scratch);

void threshold_eval(const threshold_t *t, const stats_t *s, double duration_s,
                    threshold_result_t *r)
{
    stats_named_t scratch;
    scratch.latency.counts = NULL;
    eval(t, s, duration_s, r, &scratch);
    free_named(&scratch);
}

static void eval(const threshold_t *t, const stats_t *s, double duration_s, threshold_result_t *r,
                 stats_named_t *scratch)
{
    r->measured = 0;
    r->pass = 0;
    r->note = NULL;
    r->missing = 0;

    /* The whole run, or one name's share of it. */
    const hist_t *lat = &s->latency;
    uint64_t requests = s->requests, errors = stats_error_total(&s->errors);
    uint64_t attempts = stats_attempts(s), failed = stats_failed(s);
    int check_metric = t->metric == THRESHOLD_CHECKS || t->metric == THRESHOLD_CHECKS_RATE;
    if (t->name && !check_metric) {
        const stats_named_t *n = find_named(s, t->name, scratch);
        if (!n) { r->note = "no requests with this name"; r->missing = 1; return; }
        lat = &n->latency;
        requests = attempts = n->requests;   /* a name's requests count its failed attempts */
        errors = failed = n->failures;
    }

    double m;
    if (is_latency(t->metric) && !lat->total) { r->note = "no responses"; return; }
    switch (t->metric) {
    case THRESHOLD_PERCENTILE: m = (double)hist_percentile(lat, t->p); break;
    case THRESHOLD_MEAN:       m = hist_mean(lat); break;
    case THRESHOLD_MIN:        m = (double)lat->min; break;
    case THRESHOLD_MAX:        m = (double)lat->max; break;
    case THRESHOLD_STDEV:      m = hist_stdev(lat); break;
    case THRESHOLD_ERRORS:
        if (t->percent && !attempts) { r->note = "no requests"; return; }
        m = t->percent ? percent(errors, attempts) : (double)errors;
        break;
    case THRESHOLD_FAILED:
    case THRESHOLD_FAILED_RATE:
        if ((t->percent || t->metric == THRESHOLD_FAILED_RATE) && !attempts) { r->note = "no requests"; return; }
        m = t->percent ? percent(failed, attempts)
          : t->metric == THRESHOLD_FAILED_RATE ? (double)failed / (double)attempts : (double)failed;
        break;
    case THRESHOLD_NON2XX:
        if (t->percent && !requests) { r->note = "no responses"; return; }
        m = t->percent ? percent(s->errors.status, requests) : (double)s->errors.status;
        break;
    case THRESHOLD_REQUESTS:
        m = (double)requests;
        break;
    case THRESHOLD_RPS:
    case THRESHOLD_HTTP_REQS_RATE:
    case THRESHOLD_ITERATIONS_RATE:
        if (!(duration_s > 0)) { r->note = "no duration"; return; }
        m = (double)(t->metric == THRESHOLD_RPS ? requests : t->metric == THRESHOLD_HTTP_REQS_RATE ? attempts
                     : s->iterations) / duration_s;
        break;
    case THRESHOLD_HTTP_REQS:
        m = (double)attempts;
        break;
    case THRESHOLD_ITERATIONS:
        m = (double)s->iterations;
        break;
    default: { /* THRESHOLD_CHECKS */
        uint64_t pass = 0, fail = 0;
        int found = 0;
        for (size_t i = 0; i < s->nchecks; i++) {
            if (t->name && strcmp(s->checks[i].name, t->name)) continue;
            pass += s->checks[i].pass;
            fail += s->checks[i].fail;
            found = 1;
        }
        if (t->name && !found) { r->note = "no check with this name"; r->missing = 1; return; }
        if (!(pass + fail)) { r->note = "no checks ran"; return; }
        m = t->metric == THRESHOLD_CHECKS || t->percent ? percent(pass, pass + fail)
                                                        : (double)pass / (double)(pass + fail);
        break;
    }
    }
    r->measured = m;
    r->pass = holds(m, t->op, t->value);
    /* errors never counts a status: say so when it leaves failed responses out */
    if (t->metric == THRESHOLD_ERRORS && !t->name && s->failed_status)
        r->note = "(socket/protocol errors only: responses with a failed status are in 'failed')";
}

/* Whether a current value that only moves one way has already broken t. */
static int broken(const threshold_t *t, const hist_t *lat, uint64_t requests, uint64_t attempts, uint64_t errors,
                  uint64_t failed, uint64_t non2xx)
{
    double cur;
    int rising;                                /* moves only up (else only down) */
    switch (t->metric) {
    case THRESHOLD_MAX:      if (!lat->total) return 0; cur = (double)lat->max; rising = 1; break;
    case THRESHOLD_MIN:      if (!lat->total) return 0; cur = (double)lat->min; rising = 0; break;
    case THRESHOLD_ERRORS:   cur = (double)errors; rising = 1; break;
    case THRESHOLD_FAILED:   cur = (double)failed; rising = 1; break;
    case THRESHOLD_NON2XX:   cur = (double)non2xx; rising = 1; break;
    case THRESHOLD_REQUESTS: cur = (double)requests; rising = 1; break;
    case THRESHOLD_HTTP_REQS: cur = (double)attempts; rising = 1; break;
    default:                 return 0;
    }
    switch (t->op) {
    case THRESHOLD_LT: case THRESHOLD_LE: return rising && !holds(cur, t->op, t->value);
    case THRESHOLD_GT: case THRESHOLD_GE: return !rising && !holds(cur, t->op, t->value);
    case THRESHOLD_EQ: return holds(cur, rising ? THRESHOLD_GT : THRESHOLD_LT, t->value);
    default:           return 0;           /* != can always come true again */
    }
}

int threshold_certainly_broken(const threshold_t *t, const stats_t *s)
{
    if (t->percent) return 0;
    if (!t->name)
        return broken(t, &s->latency, s->requests, stats_attempts(s), stats_error_total(&s->errors), stats_failed(s),
                      s->errors.status);
    if (t->metric == THRESHOLD_CHECKS || t->metric == THRESHOLD_CHECKS_RATE) return 0;
    stats_named_t scratch;
    const stats_named_t *n = find_named(s, t->name, &scratch);
    if (!n) return 0;                      /* it may still come */
    int b = broken(t, &n->latency, n->requests, n->requests, n->failures, n->failures, s->errors.status);
    free_named(&scratch);
    return b;
}

char *threshold_format_value(const threshold_t *t, double v, char *buf, size_t len)
{
    if (!buf || !len) return buf;
    if (is_latency(t->metric)) {
        /* The report's units (report_time_us), so the two read alike. */
        static const double scale[] = { 1000, 1000, 60, 60 };
        static const char *const units[] = { "us", "ms", "s", "m", "h" };
        int i = 0;
        while (i < 4 && v >= scale[i]) { v /= scale[i]; i++; }
        snprintf(buf, len, "%.2f%s", v, units[i]);
    } else if (t->percent) {
        snprintf(buf, len, "%.2f%%", v);
    } else if (t->metric == THRESHOLD_FAILED_RATE || t->metric == THRESHOLD_CHECKS_RATE) {
        snprintf(buf, len, "%.4f", v);
    } else if (t->metric == THRESHOLD_RPS || t->metric == THRESHOLD_HTTP_REQS_RATE ||
               t->metric == THRESHOLD_ITERATIONS_RATE) {
        snprintf(buf, len, "%.1f/s", v);
    } else {
        snprintf(buf, len, "%.0f", v);
    }
    return buf;
}
