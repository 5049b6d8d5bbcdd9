/* compare.c - `barrage compare` over JSON results (read by result.c).
 *
 * Noise: one run's requests are not independent samples (a GC pause or a
 * noisy neighbour moves thousands of them together), so testing the raw
 * latencies of two runs would call almost any difference significant. The
 * per-second series gives one value per second instead, and runs differ
 * beyond their run-to-run noise when those values do: a two-sided
 * Mann-Whitney U test (rank-based, so no normality is assumed and a few
 * outlier seconds cannot dominate), normal approximation with tie-corrected
 * variance and continuity correction, alpha 0.05. The first and last seconds
 * are partial (start-up, and the cut at the end) and are left out. */
#define _GNU_SOURCE
#include "compare.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "mannwhitney.h"
#include "report.h"
#include "result.h"
#include "stats.h"
#include "threshold.h"

#define ALPHA 0.05
#define EXIT_USAGE 2

/* ---------------------------------------------------------------------------
 * The samples of the statistics test */

/* Per-second samples, the first and last seconds left out. */
enum { S_NONE = -1, S_RPS, S_P50, S_P90, S_P99, S_MAX, S_ERRORS, S_NON2XX, S_FAILED };

static size_t samples(const result_t *r, int kind, double *out)
{
    size_t n = 0;
    for (size_t i = 1; i + 1 < r->npts; i++) {
        const result_point_t *p = &r->pts[i];
        switch (kind) {
        case S_RPS: out[n++] = (double)p->requests; break;
        case S_ERRORS: out[n++] = (double)stats_error_total(&p->errors); break;
        case S_NON2XX: out[n++] = (double)p->errors.status; break;
        case S_FAILED: out[n++] = (double)p->failed; break;
        default:
            if (!p->requests) break;   /* no latency that second */
            out[n++] = (double)(kind == S_P50 ? p->p50 : kind == S_P90 ? p->p90 : kind == S_P99 ? p->p99 : p->max);
        }
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * --fail-if gates */

/* "--fail-if 'EXPR': " + the message. */
static int gate_fail(char *err, size_t errlen, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = threshold_vfail(err, errlen, "--fail-if", expr, fmt, ap);
    va_end(ap);
    return rc;
}

static char *trimmed(const char *s, const char *e)
{
    while (s < e && isspace((unsigned char)*s)) s++;
    while (e > s && isspace((unsigned char)e[-1])) e--;
    return strndup(s, (size_t)(e - s));
}

/* A plain decimal (digits[.digits] or .digits, at most 40 characters)
 * filling [s, e); -1 otherwise. */
static int plain_number(const char *s, const char *e, double *v)
{
    return s < e && e - s <= 40 && threshold_scan_number(s, e, v) == (size_t)(e - s) ? 0 : -1;
}

int compare_gate_parse(const char *expr, compare_gate_t *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    char *x = trimmed(expr, expr + strlen(expr));
    if (!x) return gate_fail(err, errlen, expr, "out of memory");
    const char *end = x + strlen(x), *body = x;
    const char *colon = strrchr(x, ':');
    if (colon) {
        g->name = trimmed(x, colon);
        if (!g->name || !g->name[0]) {
            gate_fail(err, errlen, x, "empty name before ':'");
            goto bad;
        }
        body = colon + 1;
    }
    const char *op = body;
    while (op < end && !strchr("<>=!", *op)) op++;
    if (op == end) {
        gate_fail(err, errlen, x, "no comparison: use METRIC OP CHANGE, e.g. 'p(99)>+5%%' or 'rps<-3%%'");
        goto bad;
    }
    const char *m0 = body, *m1 = op;
    while (m0 < m1 && isspace((unsigned char)*m0)) m0++;
    while (m1 > m0 && isspace((unsigned char)m1[-1])) m1--;
    size_t ml = (size_t)(m1 - m0);
    if (!ml) {
        gate_fail(err, errlen, x, "no metric before '%c' (use rps, p(N), mean, max or errors)", *op);
        goto bad;
    }
    if ((ml == 3 && !memcmp(m0, "rps", 3)) || (ml == 5 && !memcmp(m0, "req/s", 5))) g->metric = COMPARE_M_RPS;
    else if ((ml == 4 && !memcmp(m0, "mean", 4)) || (ml == 3 && !memcmp(m0, "avg", 3))) g->metric = COMPARE_M_MEAN;
    else if (ml == 3 && !memcmp(m0, "max", 3)) g->metric = COMPARE_M_MAX;
    else if (ml == 6 && !memcmp(m0, "errors", 6)) g->metric = COMPARE_M_ERRORS;
    else if (ml == 3 && !memcmp(m0, "med", 3)) { g->metric = COMPARE_M_PCT; g->p = 50; }
    else if (ml > 3 && m0[0] == 'p' && m0[1] == '(' && m1[-1] == ')') {
        g->metric = COMPARE_M_PCT;
        if (plain_number(m0 + 2, m1 - 1, &g->p) || !(g->p > 0) || g->p > 100) {
            gate_fail(err, errlen, x, "cannot read '%.*s' as a percentile (use e.g. p(99) or p(99.9))", (int)ml, m0);
            goto bad;
        }
    } else {
        gate_fail(err, errlen, x, "unknown metric '%.*s' (use rps, p(N), mean, max or errors)", (int)ml, m0);
        goto bad;
    }
    const char *o = op;
    while (o < end && strchr("<>=!", *o)) o++;
    size_t ol = (size_t)(o - op);
    if (ol == 1 && *op == '<') g->op = COMPARE_OP_LT;
    else if (ol == 1 && *op == '>') g->op = COMPARE_OP_GT;
    else if (ol == 2 && !memcmp(op, "<=", 2)) g->op = COMPARE_OP_LE;
    else if (ol == 2 && !memcmp(op, ">=", 2)) g->op = COMPARE_OP_GE;
    else {
        gate_fail(err, errlen, x, "unknown operator '%.*s' (use <, <=, > or >=)", (int)ol, op);
        goto bad;
    }
    const char *v0 = o, *v1 = end;
    while (v0 < v1 && isspace((unsigned char)*v0)) v0++;
    double sign = 1, v;
    const char *num = v0;
    if (num < v1 && (*num == '+' || *num == '-')) { sign = *num == '-' ? -1 : 1; num++; }
    if (v1 == v0 || v1[-1] != '%' || plain_number(num, v1 - 1, &v)) {
        gate_fail(err, errlen, x, "cannot read '%.*s' as a relative change (use e.g. +5%% or -3%%)",
                  (int)(v1 - v0), v0);
        goto bad;
    }
    g->pct = sign * v;
    g->expr = x;
    return 0;
bad:
    free(x);
    free(g->name);
    g->name = NULL;
    return -1;
}

void compare_gate_free(compare_gate_t *g)
{
    if (!g) return;
    free(g->expr);
    free(g->name);
    g->expr = g->name = NULL;
}

int compare_gate_trips(const compare_gate_t *g, double d)
{
    switch (g->op) {
    case COMPARE_OP_LT: return d < g->pct;
    case COMPARE_OP_LE: return d <= g->pct;
    case COMPARE_OP_GT: return d > g->pct;
    case COMPARE_OP_GE: return d >= g->pct;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * compare */

static const char compare_usage[] =
"Usage: barrage compare [--fail-if EXPR]... [--no-color] BASE.json NEW.json [NEW2.json...]\n"
"\n"
"A side-by-side table of each NEW result against BASE: req/s, mean, p50, p90, p99,\n"
"p99.9, max, errors and per-name rows, with absolute and relative deltas and a\n"
"verdict per row: faster/slower (latency) or better/worse when the difference is\n"
"larger than run-to-run noise, else noise. The verdict is a two-sided Mann-Whitney\n"
"U test (alpha 0.05) on the per-second values of the runs' series (req/s, p50,\n"
"p90, p99, max and errors of each second; the first and last seconds left out);\n"
"n/a where a row has no per-second values (mean, p99.9, per-name rows) or the\n"
"runs are too short to tell (use runs of 6 s or more).\n"
"\n"
"  --fail-if EXPR   CI gate, [NAME:]METRIC OP CHANGE%, e.g. 'p(99)>+5%' (fail if\n"
"                   NEW's p99 is more than 5% above BASE's), 'rps<-3%' (fail if\n"
"                   req/s dropped by more than 3%); METRIC: rps, p(N), med, mean,\n"
"                   max, errors; OP: < <= > >=; repeatable\n"
"  --no-color       no colors (they are used only when stdout is a terminal and\n"
"                   NO_COLOR is not set)\n"
"\n"
"Exit codes: 0 done, 99 a gate failed, 2 usage error, bad gate or bad file.\n";

enum { U_TIME, U_RATE, U_COUNT };

typedef struct row {
    char label[96];
    double base, cur;     /* NAN when absent */
    int unit;             /* U_* */
    int sample;           /* S_*, or S_NONE */
} row_t;

static char *fmt_value(char *buf, size_t size, double v, int unit)
{
    if (isnan(v)) snprintf(buf, size, "-");
    else if (unit == U_TIME) report_time_us(buf, size, v);
    else if (unit == U_RATE) report_metric(buf, size, v);
    else snprintf(buf, size, "%.0f", v);
    return buf;
}

static char *fmt_delta(char *buf, size_t size, double d, int unit)
{
    if (isnan(d)) { snprintf(buf, size, "-"); return buf; }
    if (unit == U_COUNT) { snprintf(buf, size, "%+.0f", d); return buf; }
    char v[40];
    fmt_value(v, sizeof v, fabs(d), unit);
    snprintf(buf, size, "%s%s", d > 0 ? "+" : d < 0 ? "-" : "", v);
    return buf;
}

/* Relative change in percent: 0 when both are 0, +inf from 0 to more. */
static double rel(double base, double cur)
{
    if (isnan(base) || isnan(cur)) return NAN;
    if (base == 0) return cur == 0 ? 0 : cur > 0 ? INFINITY : -INFINITY;
    return (cur - base) / base * 100;
}

static char *fmt_pct(char *buf, size_t size, double p)
{
    if (isnan(p)) snprintf(buf, size, "-");
    else if (isinf(p)) snprintf(buf, size, "%sinf%%", p > 0 ? "+" : "-");
    else snprintf(buf, size, "%+.2f%%", p);
    return buf;
}

static double run_rps(const result_t *r, uint64_t requests)
{
    return r->duration_s > 0 ? (double)requests / r->duration_s : 0;
}

static void add_row(row_t *rows, size_t *n, const char *label, double b, double c, int unit, int sample)
{
    row_t *r = &rows[(*n)++];
    snprintf(r->label, sizeof r->label, "%s", label);
    r->base = b;
    r->cur = c;
    r->unit = unit;
    r->sample = sample;
}

/* The entry (method, name): rows are per entry, as the CSV's. */
static const stats_named_t *find_name(const stats_t *s, const char *method, const char *name)
{
    for (size_t i = 0; i < s->nnamed; i++)
        if (!strcmp(s->named[i].name, name) && !strcmp(s->named[i].method, method)) return &s->named[i];
    return NULL;
}

/* A row's label: the name, with its method when another entry shares the name. */
static const char *entry_label(const stats_t *sb, const stats_t *sc, const stats_named_t *e, char *buf, size_t n)
{
    for (size_t pass = 0; pass < 2; pass++) {
        const stats_t *s = pass ? sc : sb;
        for (size_t i = 0; i < s->nnamed; i++)
            if (!strcmp(s->named[i].name, e->name) && strcmp(s->named[i].method, e->method)) {
                snprintf(buf, n, "%s %s", e->method, e->name);
                return buf;
            }
    }
    return e->name;
}

/* Every row of one comparison; *nrows rows, caller frees. */
static row_t *make_rows(const result_t *b, const result_t *c, size_t *nrows)
{
    const stats_t *sb = &b->st, *sc = &c->st;
    size_t names = sb->nnamed + sc->nnamed, cap = 10 + 5 * names;
    row_t *rows = calloc(cap, sizeof *rows);
    if (!rows) return NULL;
    size_t n = 0;
    const hist_t *lb = &sb->latency, *lc = &sc->latency;
    double nan = NAN;
    add_row(rows, &n, "req/s", run_rps(b, sb->requests), run_rps(c, sc->requests), U_RATE, S_RPS);
    add_row(rows, &n, "mean", lb->total ? hist_mean(lb) : nan, lc->total ? hist_mean(lc) : nan, U_TIME, S_NONE);
    static const struct { const char *label; double p; int s; } pcts[] = {
        { "p50", 50, S_P50 }, { "p90", 90, S_P90 }, { "p99", 99, S_P99 }, { "p99.9", 99.9, S_NONE },
    };
    for (size_t i = 0; i < 4; i++)
        add_row(rows, &n, pcts[i].label, lb->total ? (double)hist_percentile(lb, pcts[i].p) : nan,
                lc->total ? (double)hist_percentile(lc, pcts[i].p) : nan, U_TIME, pcts[i].s);
    add_row(rows, &n, "max", lb->total ? (double)lb->max : nan, lc->total ? (double)lc->max : nan, U_TIME, S_MAX);
    add_row(rows, &n, "errors", (double)stats_error_total(&sb->errors), (double)stats_error_total(&sc->errors),
            U_COUNT, S_ERRORS);
    if (sb->errors.status || sc->errors.status)
        add_row(rows, &n, "non-2xx", (double)sb->errors.status, (double)sc->errors.status, U_COUNT, S_NON2XX);
    if (stats_failed(sb) || stats_failed(sc))
        add_row(rows, &n, "failed", (double)stats_failed(sb), (double)stats_failed(sc), U_COUNT, S_FAILED);
    /* per name: BASE's names in order, then NEW's new ones */
    for (size_t pass = 0; pass < 2; pass++) {
        const stats_t *s = pass ? sc : sb;
        for (size_t i = 0; i < s->nnamed; i++) {
            const char *method = s->named[i].method;
            char lb_[64];
            const char *name = entry_label(sb, sc, &s->named[i], lb_, sizeof lb_);
            if (pass && find_name(sb, method, s->named[i].name)) continue;
            const stats_named_t *nb = find_name(sb, method, s->named[i].name), *nc = find_name(sc, method, s->named[i].name);
            const hist_t *hb = nb ? &nb->latency : NULL, *hc = nc ? &nc->latency : NULL;
            char l[96];
            snprintf(l, sizeof l, "%s: req/s", name);
            add_row(rows, &n, l, nb ? run_rps(b, nb->requests) : nan, nc ? run_rps(c, nc->requests) : nan, U_RATE,
                    S_NONE);
            static const struct { const char *label; double p; } np[] = { { "p50", 50 }, { "p99", 99 }, { "max", 100 } };
            for (size_t k = 0; k < 3; k++) {
                snprintf(l, sizeof l, "%s: %s", name, np[k].label);
                add_row(rows, &n, l, hb && hb->total ? (double)hist_percentile(hb, np[k].p) : nan,
                        hc && hc->total ? (double)hist_percentile(hc, np[k].p) : nan, U_TIME, S_NONE);
            }
            snprintf(l, sizeof l, "%s: failures", name);
            add_row(rows, &n, l, nb ? (double)nb->failures : nan, nc ? (double)nc->failures : nan, U_COUNT, S_NONE);
        }
    }
    *nrows = n;
    return rows;
}

/* The verdict of one row: its word, and +1 (good), -1 (bad) or 0. */
static const char *verdict(const row_t *row, const result_t *b, const result_t *c, double *xb, double *xc,
                           int *mood, int *too_few)
{
    *mood = 0;
    if (row->sample == S_NONE || isnan(row->base) || isnan(row->cur)) return "n/a";
    size_t nb = samples(b, row->sample, xb), nc = samples(c, row->sample, xc);
    if (!(mannwhitney_min_p(nb, nc) < ALPHA)) { *too_few = 1; return "n/a"; }
    int dir;
    double p = mannwhitney_p(xb, nb, xc, nc, &dir);
    if (p < 0) return "n/a";   /* out of memory */
    if (!(p < ALPHA) || !dir) return "noise";
    int higher_is_good = row->unit == U_RATE;
    *mood = (dir > 0) == higher_is_good ? 1 : -1;
    if (row->unit == U_TIME) return dir > 0 ? "slower" : "faster";
    return *mood > 0 ? "better" : "worse";
}

static int gate_of(const compare_gate_t *g, const result_t *r, const hist_t *h, uint64_t requests, uint64_t errors,
                   double *out, const char **why);

/* A gate's measured value in one result; -1 with *why when there is none. */
static int gate_value(const compare_gate_t *g, const result_t *r, double *out, const char **why)
{
    const stats_t *s = &r->st;
    const hist_t *h = &s->latency;
    uint64_t requests = s->requests, errors = stats_error_total(&s->errors);
    stats_named_t scratch;
    scratch.latency.counts = NULL;
    if (g->name) { /* a gate judges the name over all its methods */
        const stats_named_t *nm = stats_named_sum(s, g->name, &scratch);
        if (!nm) { *why = "no requests with this name"; return -1; }
        h = &nm->latency;
        requests = nm->requests;
        errors = nm->failures;
    }
    int rc = gate_of(g, r, h, requests, errors, out, why);
    if (scratch.latency.counts) hist_free(&scratch.latency);
    return rc;
}

static int gate_of(const compare_gate_t *g, const result_t *r, const hist_t *h, uint64_t requests, uint64_t errors,
                   double *out, const char **why)
{
    switch (g->metric) {
    case COMPARE_M_RPS: *out = run_rps(r, requests); return 0;
    case COMPARE_M_ERRORS: *out = (double)errors; return 0;
    default: break;
    }
    if (!h->total) { *why = "no responses"; return -1; }
    if (g->metric == COMPARE_M_MEAN) *out = hist_mean(h);
    else if (g->metric == COMPARE_M_MAX) *out = (double)h->max;
    else *out = (double)hist_percentile(h, g->p);
    return 0;
}

static const char *op_text(int op)
{
    return op == COMPARE_OP_LT ? "<" : op == COMPARE_OP_LE ? "<=" : op == COMPARE_OP_GT ? ">" : ">=";
}

#define GREEN "\033[32m"
#define RED "\033[31m"
#define RESET "\033[0m"

/* Gates of one comparison; the number that failed. */
static int print_gates(FILE *f, const compare_gate_t *gates, size_t ngates, const result_t *b, const result_t *c,
                       int color)
{
    int failed = 0;
    for (size_t i = 0; i < ngates; i++) {
        const compare_gate_t *g = &gates[i];
        double vb, vc;
        const char *why = NULL;
        int unit = g->metric == COMPARE_M_RPS ? U_RATE : g->metric == COMPARE_M_ERRORS ? U_COUNT : U_TIME;
        char sb[48], sc[48], sp[48], lim[48];
        int have = !gate_value(g, b, &vb, &why) && !gate_value(g, c, &vc, &why);
        snprintf(lim, sizeof lim, "%+g%%", g->pct);
        int trips = 1;
        if (have) {
            double d = rel(vb, vc);
            trips = compare_gate_trips(g, d);
            fprintf(f, "  %s%s%s %s: %s -> %s, %s (fails when %s %s)\n", color ? (trips ? RED : GREEN) : "",
                    trips ? "FAILED" : "ok    ", color ? RESET : "", g->expr, fmt_value(sb, sizeof sb, vb, unit),
                    fmt_value(sc, sizeof sc, vc, unit), fmt_pct(sp, sizeof sp, d), op_text(g->op), lim);
        } else {
            fprintf(f, "  %sFAILED%s %s: %s (a gate with nothing to measure fails)\n", color ? RED : "",
                    color ? RESET : "", g->expr, why);
        }
        failed += trips;
    }
    return failed;
}

static void print_side(FILE *f, const char *tag, const result_t *r)
{
    const char *hostname = json_str(json_get(r->host, "hostname"));
    uint64_t cores = 0;
    json_u64(json_get(r->host, "cores"), &cores);
    char when[64], req[32], dur[32];
    result_rfc3339(when, sizeof when, r->start_ms);
    report_metric(req, sizeof req, (double)r->st.requests);
    snprintf(dur, sizeof dur, "%.2fs", r->duration_s);
    fprintf(f, "%-4s %s: %s (%" PRIu64 " cores), %s, %s, %s requests", tag, r->path, hostname ? hostname : "?",
            cores, when, dur, req);
    if (r->merged_from > 1) fprintf(f, ", %" PRIu64 " runs merged", r->merged_from);
    fputc('\n', f);
}

/* One NEW against BASE: header, table, footnote, gates. Returns the failed gates. */
static int print_block(FILE *f, const result_t *b, const result_t *c, const compare_gate_t *gates, size_t ngates,
                       int color, int *oom)
{
    size_t nrows = 0;
    row_t *rows = make_rows(b, c, &nrows);
    size_t cap = (b->npts > c->npts ? b->npts : c->npts) + 1;
    double *xb = malloc(cap * sizeof *xb), *xc = malloc(cap * sizeof *xc);
    if (!rows || !xb || !xc) {
        free(rows); free(xb); free(xc);
        *oom = 1;
        return 0;
    }
    print_side(f, "base", b);
    print_side(f, "new", c);
    int lw = 8;
    for (size_t i = 0; i < nrows; i++) {
        int l = (int)strlen(rows[i].label);
        if (l > lw) lw = l;
    }
    if (lw > 40) lw = 40;
    fprintf(f, "  %-*s %10s %10s %11s %10s  %s\n", lw, "metric", "base", "new", "delta", "delta %", "verdict");
    int too_few = 0;
    for (size_t i = 0; i < nrows; i++) {
        const row_t *r = &rows[i];
        char vb[48], vc[48], vd[48], vp[48];
        int mood;
        const char *word = verdict(r, b, c, xb, xc, &mood, &too_few);
        const char *on = color && mood ? (mood > 0 ? GREEN : RED) : "", *off = color && mood ? RESET : "";
        fprintf(f, "  %-*.*s %10s %10s %11s %s%10s%s  %s%s%s\n", lw, lw, r->label, fmt_value(vb, sizeof vb, r->base, r->unit),
                fmt_value(vc, sizeof vc, r->cur, r->unit), fmt_delta(vd, sizeof vd, r->cur - r->base, r->unit), on,
                fmt_pct(vp, sizeof vp, rel(r->base, r->cur)), off, on, word, off);
    }
    size_t nb = samples(b, S_RPS, xb), nc = samples(c, S_RPS, xc);
    fprintf(f, "  verdict: two-sided Mann-Whitney U on per-second values (%zu s base, %zu s new; first and last "
               "seconds left out), alpha %.2f\n", nb, nc, ALPHA);
    if (too_few)
        fprintf(f, "  n/a: too few whole seconds (%zu base, %zu new) to tell a change from noise: "
                   "use runs of 6 s or more\n", nb, nc);
    int failed = print_gates(f, gates, ngates, b, c, color);
    free(rows);
    free(xb);
    free(xc);
    return failed;
}

int compare_main(int argc, char **argv)
{
    char **files = calloc((size_t)argc + 1, sizeof *files);
    compare_gate_t *gates = calloc((size_t)argc + 1, sizeof *gates);
    result_t *rs = NULL;
    size_t nfiles = 0, ngates = 0;
    int no_color = 0, only_files = 0, rc = EXIT_USAGE;
    if (!files || !gates) { fprintf(stderr, "barrage compare: out of memory\n"); goto done; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *expr = NULL;
        if (only_files || a[0] != '-' || !a[1]) { files[nfiles++] = argv[i]; continue; }
        if (!strcmp(a, "--")) { only_files = 1; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(compare_usage, stdout); rc = 0; goto done; }
        if (!strcmp(a, "--no-color")) { no_color = 1; continue; }
        if (!strncmp(a, "--fail-if=", 10)) expr = a + 10;
        else if (!strcmp(a, "--fail-if")) {
            if (i + 1 >= argc) { fprintf(stderr, "barrage compare: --fail-if needs an expression, e.g. 'p(99)>+5%%'\n"); goto done; }
            expr = argv[++i];
        } else {
            fprintf(stderr, "barrage compare: unknown option '%s' (see barrage compare --help)\n", a);
            goto done;
        }
        char err[512];
        if (compare_gate_parse(expr, &gates[ngates], err, sizeof err)) {
            fprintf(stderr, "barrage compare: %s\n", err);
            goto done;
        }
        ngates++;
    }
    if (nfiles < 2) {
        fprintf(stderr, "barrage compare: need a BASE and at least one NEW result "
                        "(barrage compare BASE.json NEW.json)\n");
        goto done;
    }
    rs = calloc(nfiles, sizeof *rs);
    if (!rs) { fprintf(stderr, "barrage compare: out of memory\n"); goto done; }
    if (result_load_all(stderr, "compare", files, nfiles, rs)) goto done;
    static const char *const keys[] = { "url", "method", "threads", "connections", "duration_s", "requests",
                                        "rate", "stages", "headers", "body_bytes", "script", "keepalive",
                                        "tls_resume", NULL };
    for (size_t i = 1; i < nfiles; i++) result_warn_config(stderr, "compare", &rs[0], &rs[i], keys);
    int color = !no_color && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    int failed = 0, oom = 0;
    for (size_t i = 1; i < nfiles && !oom; i++) {
        if (i > 1) fputc('\n', stdout);
        failed += print_block(stdout, &rs[0], &rs[i], gates, ngates, color, &oom);
    }
    if (fflush(stdout) || ferror(stdout)) { /* /dev/full, a closed pipe or stdout */
        fprintf(stderr, "barrage compare: cannot write to stdout: %s\n", strerror(errno ? errno : EIO));
        rc = 1;
        goto done;
    }
    if (oom) { fprintf(stderr, "barrage compare: out of memory\n"); rc = EXIT_USAGE; goto done; }
    if (failed) fprintf(stderr, "barrage compare: %d gate%s failed\n", failed, failed == 1 ? "" : "s");
    rc = failed ? COMPARE_EXIT_GATE : 0;
done:
    for (size_t i = 0; rs && i < nfiles; i++) result_free(&rs[i]);
    for (size_t i = 0; gates && i < ngates; i++) compare_gate_free(&gates[i]);
    free(rs);
    free(gates);
    free(files);
    return rc;
}
