/* report_html_charts.c - the charts of the HTML page (report_html.h): the
 * run's per-second series (throughput, latency, errors over time) and the
 * latency distribution, drawn with the kit in svg_chart.h. */
#include "report_html.h"
#include "svg_chart.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *fmt_us(char *b, size_t n, double us) { return report_time_us(b, n, us); }

/* Latency axes: log when the values span more than a factor of 20. */
static void axis_latency(svg_axis_t *a, double lo, double hi)
{
    if (lo >= 1 && hi > 20 * lo) svg_axis_log(a, lo, hi);
    else svg_axis_linear(a, hi, 1000);
}

/* ---- the run's series ---------------------------------------------------- */

int report_plot_init(report_plot_t *p, const report_run_t *run)
{
    memset(p, 0, sizeof *p);
    p->run = run;
    double secs = (double)run->elapsed_ns / 1e9;
    p->span = secs > 1 ? secs : 1;
    if (!run->series || !run->series->n) return 0;
    p->pts = run->series->pts;
    /* The monitor may leave a point for the second the run ended in; keep
     * it only when the run actually spent time in it. */
    for (uint32_t i = 0; i < run->series->n; i++)
        if ((uint64_t)i * 1000000000u < run->elapsed_ns || i == 0) p->n = i + 1;
    p->xs = calloc(4 * p->n, sizeof(double));
    if (!p->xs) return -ENOMEM;
    p->frac = p->xs + p->n;
    p->ys = p->frac + p->n;
    p->ys2 = p->ys + p->n;
    for (size_t i = 0; i < p->n; i++) {
        double fr = secs - (double)i;
        if (fr > 1) fr = 1;
        if (fr <= 0) fr = 1; /* a run shorter than its first point */
        p->frac[i] = fr;
        p->xs[i] = (double)i + fr / 2;
    }
    if (secs < (double)p->n) p->span = (double)p->n - 1 + p->frac[p->n - 1];
    if (p->span < 1) p->span = 1;
    return 0;
}

/* Per-second rate of a count in point i; NAN for a sliver of a second too
 * short to say anything (the last one, under 0.2 s). */
static double plot_rate(const report_plot_t *p, size_t i, double count)
{
    if (p->frac[i] < 0.2 && p->n > 1) return NAN;
    return count / p->frac[i];
}

/* Dashed lines where the stage changes, labelled with the stage. */
static void plot_stages(svg_chart_t *c, const report_plot_t *p)
{
    const config_t *cfg = p->run->cfg;
    for (size_t i = 1; i < p->n; i++) {
        if (p->pts[i].stage == p->pts[i - 1].stage) continue;
        double x = svg_axis_pos(&c->x, (double)i);
        fprintf(c->f, "<line class=\"stage\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"stage-label\" x=\"%.1f\" y=\"%.1f\">stage %u",
                x, x, c->t - 4, c->b, x + 4, c->t + 10, p->pts[i].stage + 1);
        if (p->pts[i].stage < cfg->stages.n)
            fprintf(c->f, " \xe2\x86\x92 %g%s", cfg->stages.target[p->pts[i].stage], cfg->rate ? "/s" : "");
        fputs("</text>\n", c->f);
    }
}

/* The analysis' findings to mark on the time charts (analysis.h): the
 * breaking point's three signals, and the spike's recovery. */
typedef struct finding_mark { const char *key, *label; double second; } finding_mark_t;

static size_t plot_findings_of(const report_plot_t *p, finding_mark_t *m)
{
    const analysis_t *a = p->run->analysis;
    size_t n = 0;
    if (!a) return 0;
    if (a->ramp && !a->ramp_short) {
        if (a->knee.found) m[n++] = (finding_mark_t){ "knee", "knee", a->knee.second };
        if (a->latency.found) m[n++] = (finding_mark_t){ "latency", "latency x2", a->latency.second };
        if (a->failures.found) m[n++] = (finding_mark_t){ "failures", "failures", a->failures.second };
    }
    if (a->spike && a->recovered) m[n++] = (finding_mark_t){ "recovered", "recovered", a->recovered_at };
    return n;
}

/* A solid line at the start of each finding's second, labelled at the bottom. */
static void plot_findings(svg_chart_t *c, const report_plot_t *p)
{
    finding_mark_t m[4];
    size_t n = plot_findings_of(p, m);
    for (size_t i = 0; i < n; i++) {
        double x = svg_axis_pos(&c->x, m[i].second);
        fprintf(c->f, "<line class=\"finding\" data-finding=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"finding-label\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                m[i].key, x, x, c->t, c->b, x + 4, c->b - 6 - 13.0 * (double)i, m[i].label);
    }
}

/* data-stage-boundaries="1,2": seconds where the stage changes; data-findings="knee:4,...". */
static void plot_stage_attr(FILE *f, const report_plot_t *p)
{
    finding_mark_t m[4];
    size_t nf = plot_findings_of(p, m);
    if (nf) {
        fputs(" data-findings=\"", f);
        for (size_t i = 0; i < nf; i++) fprintf(f, "%s%s:%g", i ? "," : "", m[i].key, m[i].second);
        fputc('"', f);
    }
    fputs(" data-stage-boundaries=\"", f);
    int first = 1;
    for (size_t i = 1; i < p->n; i++)
        if (p->pts[i].stage != p->pts[i - 1].stage) {
            fprintf(f, "%s%zu", first ? "" : ",", i);
            first = 0;
        }
    fputc('"', f);
}

/* A chart over the run's time: x from 0 to the span. */
static void plot_chart_init(svg_chart_t *c, FILE *f, const report_plot_t *p, int right_axis)
{
    svg_chart_init(c, f, right_axis);
    c->x.lo = 0;
    c->x.hi = p->span;
}

/* After its y axes: the time axis, the frame and the stage boundaries. */
static void plot_chart_frame(svg_chart_t *c, const report_plot_t *p)
{
    svg_chart_xtime(c, p->span);
    svg_chart_frame(c);
    plot_stages(c, p);
    plot_findings(c, p);
}

/* Responses of point i with an expected status (the rest of its failed are socket/protocol errors). */
static uint64_t point_ok(const stats_point_t *pt)
{
    uint64_t socket = stats_error_total(&pt->errors), bad = pt->failed > socket ? pt->failed - socket : 0;
    return pt->requests > bad ? pt->requests - bad : 0;
}

/* Points of the target line: stages' corners, --web's changes (3 each). */
#define TARGET_POINTS (RATE_MAX_STAGES + 2 + 3 * CONTROL_MAX_EVENTS)

/* The rps chart's target line into tx/ty (TARGET_POINTS): -R's rate or
 * its stages, or the stages of connections, then --web's changes of that
 * target (a rate with -R, else a user count), each cutting the line at its
 * instant and going on flat at its value. Returns the points (0: no
 * target); *maxt is the largest value. */
static size_t plot_target(const report_plot_t *p, double *tx, double *ty, double *maxt)
{
    const report_run_t *run = p->run;
    const config_t *cfg = run->cfg;
    control_kind_t kind = cfg->rate > 0 ? CONTROL_RATE : CONTROL_USERS;
    size_t k = 0, changes = 0;
    for (size_t i = 0; i < run->nevents; i++) changes += run->events[i].kind == kind;
    if (cfg->stages.n) { /* stages ramp linearly, so their corners are enough */
        uint64_t at = 0;
        tx[k] = 0;
        ty[k++] = 0;
        for (size_t i = 0; i < cfg->stages.n && (double)at / 1e9 < p->span; i++) {
            at += cfg->stages.dur_ns[i];
            double t = (double)at / 1e9;
            if (t > p->span) t = p->span;
            tx[k] = t;
            ty[k++] = rate_stages_value(&cfg->stages, (uint64_t)(t * 1e9) - (t * 1e9 >= 1 ? 1 : 0));
        }
        *maxt = rate_stages_max(&cfg->stages);
    } else if (cfg->rate > 0 || changes) {
        double v = cfg->rate > 0 ? cfg->rate : (double)cfg->connections;
        tx[k] = 0;
        ty[k++] = v;
        tx[k] = p->span;
        ty[k++] = v;
        *maxt = v;
    }
    /* the events' times count from the measurement's start, the chart's
     * from the run's (earlier by the -R timeline's lead) */
    double lead = run->total ? (double)run->total->rate_start_us / 1e6 : 0;
    for (size_t i = 0; k && i < run->nevents && k + 3 <= TARGET_POINTS; i++) {
        const control_event_t *e = &run->events[i];
        if (e->kind != kind) continue;
        double x = ((double)e->at_ns - (double)run->events_t0_ns) / 1e9 + lead;
        if (x < 0) x = 0;
        if (x > p->span) continue;
        size_t j = 0;
        while (j < k && tx[j] <= x) j++;
        double y = j == 0 ? ty[0] : j == k || tx[j] == tx[j - 1] ? ty[j - 1]
                 : ty[j - 1] + (ty[j] - ty[j - 1]) * (x - tx[j - 1]) / (tx[j] - tx[j - 1]);
        k = j;
        tx[k] = x;
        ty[k++] = y;
        tx[k] = x;
        ty[k++] = e->value;
        tx[k] = p->span;
        ty[k++] = e->value;
        if (e->value > *maxt) *maxt = e->value;
    }
    return k;
}

/* Requests/s over time, ok and failed apart, with the target and the open connections. */
void report_chart_rps(FILE *f, const report_plot_t *p)
{
    const config_t *cfg = p->run->cfg;
    double max = 0, maxc = 0, maxt = 0, maxf = 0;
    uint64_t tok = 0, tfail = 0;
    size_t shown = 0;
    for (size_t i = 0; i < p->n; i++) {
        double fr = plot_rate(p, i, (double)p->pts[i].failed);
        tok += point_ok(&p->pts[i]);
        tfail += p->pts[i].failed;
        if (!isnan(fr) && fr > max) max = fr;
        if (!isnan(fr) && fr > maxf) maxf = fr;
        p->ys[i] = plot_rate(p, i, (double)p->pts[i].requests);
        p->ys2[i] = p->pts[i].active;
        if (!isnan(p->ys[i])) { shown++; if (p->ys[i] > max) max = p->ys[i]; }
        if (p->ys2[i] > maxc) maxc = p->ys2[i];
    }
    /* The target: -R's rate (or its stages) on the left axis; stages of
     * connections (or --web's user counts) on the right one. */
    double tx[TARGET_POINTS], ty[TARGET_POINTS];
    size_t k = plot_target(p, tx, ty, &maxt);
    int target_rate = k && cfg->rate > 0, target_conns = k && !cfg->rate;

    svg_chart_open(f, "rps-chart", "requests per second over time");
    fprintf(f, " data-max=\"%.2f\" data-points=\"%zu\" data-max-active=\"%.0f\" data-total-ok=\"%" PRIu64
               "\" data-total-failed=\"%" PRIu64 "\" data-max-failed=\"%.2f\"", max, shown, maxc, tok, tfail, maxf);
    plot_stage_attr(f, p);
    fputs(">\n<title>Requests per second over time</title>\n", f);

    svg_chart_t c;
    plot_chart_init(&c, f, p, 1);
    svg_axis_linear(&c.y, target_rate && maxt > max ? maxt : max, 1);
    svg_axis_linear(&c.y2, target_conns && maxt > maxc ? maxt : maxc, 1);
    svg_chart_yaxis(&c, &c.y, svg_tick_count, 0, "requests/s", "#2563eb");
    svg_chart_yaxis(&c, &c.y2, svg_tick_count, 1, "open connections", "#0d9488");
    plot_chart_frame(&c, p);
    if (!p->n) svg_chart_empty(&c, "no per-second data");

    svg_legend_item_t leg[5] = { { "responses/s", "#2563eb", NULL }, { "ok/s", "#16a34a", NULL },
                                 { "failed/s", "#dc2626", NULL }, { "open connections", "#0d9488", NULL } };
    size_t nleg = 4;
    if (k) {
        svg_chart_line(&c, target_rate ? &c.y : &c.y2, tx, ty, k, "#64748b", 1.5, "6 4", "target");
        leg[nleg++] = (svg_legend_item_t){ target_rate ? "target rate" : "target connections", "#64748b", "6 4" };
    }
    svg_chart_area(&c, &c.y, p->xs, p->ys, p->n, "#2563eb");
    /* ok and failed apart: fast failures (429s) cannot hide a plateau of successes. Drawn
     * first and wider, so where every response is ok the green shows around the total's line */
    for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, (double)point_ok(&p->pts[i]));
    svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, "#16a34a", 4.5, NULL, "ok");
    svg_chart_dots(&c, &c.y, p->xs, p->ys, p->n, "#16a34a", "ok", svg_tick_rate, "/s");
    for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, (double)p->pts[i].failed);
    svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, "#dc2626", 2, NULL, "failed");
    svg_chart_dots(&c, &c.y, p->xs, p->ys, p->n, "#dc2626", "failed", svg_tick_rate, "/s");
    for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, (double)p->pts[i].requests);
    svg_chart_line(&c, &c.y2, p->xs, p->ys2, p->n, "#0d9488", 1.5, NULL, "active");
    svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, "#2563eb", 2.2, NULL, "rps");
    svg_chart_dots(&c, &c.y2, p->xs, p->ys2, p->n, "#0d9488", "open connections", svg_tick_count, "");
    svg_chart_dots(&c, &c.y, p->xs, p->ys, p->n, "#2563eb", "requests", svg_tick_rate, "/s");
    svg_chart_legend(&c, leg, nleg);
    fputs("</svg>\n", f);
}

const char *const report_err_names[] = { "connect", "read", "write", "timeout", "status", "parse" };
const char *const report_err_colors[] = { "#b91c1c", "#ea580c", "#ca8a04", "#7c3aed", "#db2777", "#0f766e" };
const char *const report_err_what[] = {
    "connection failed or refused", "read failed, or closed with a request in flight", "write failed",
    "no complete response within the timeout", "HTTP status >= 400", "malformed or unsolicited response",
};

uint64_t report_err_get(const stats_errors_t *e, int k)
{
    switch (k) {
    case 0: return e->connect;
    case 1: return e->read;
    case 2: return e->write;
    case 3: return e->timeout;
    case 4: return e->status;
    default: return e->parse;
    }
}

/* Errors per second over time, one line per class that occurred. */
void report_chart_errors(FILE *f, const report_plot_t *p)
{
    uint64_t total[6] = { 0 }, sum = 0;
    double max = 0;
    for (size_t i = 0; i < p->n; i++)
        for (int k = 0; k < 6; k++) {
            uint64_t v = report_err_get(&p->pts[i].errors, k);
            total[k] += v;
            sum += v;
            double r = plot_rate(p, i, (double)v);
            if (!isnan(r) && r > max) max = r;
        }
    svg_chart_open(f, "errors-chart", "errors per second over time");
    fprintf(f, " data-max=\"%.2f\" data-total=\"%" PRIu64 "\"", max, sum);
    plot_stage_attr(f, p);
    fputs(">\n<title>Errors per second over time</title>\n", f);
    svg_chart_t c;
    plot_chart_init(&c, f, p, 0);
    svg_axis_linear(&c.y, max, 1);
    svg_chart_yaxis(&c, &c.y, svg_tick_count, 0, "errors/s", NULL);
    plot_chart_frame(&c, p);
    svg_legend_item_t leg[6];
    size_t nleg = 0;
    for (int k = 0; k < 6; k++) {
        if (!total[k]) continue;
        for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, (double)report_err_get(&p->pts[i].errors, k));
        svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, report_err_colors[k], 2, NULL, report_err_names[k]);
        svg_chart_dots(&c, &c.y, p->xs, p->ys, p->n, report_err_colors[k], report_err_names[k], svg_tick_rate, "/s");
        leg[nleg++] = (svg_legend_item_t){ report_err_names[k], report_err_colors[k], NULL };
    }
    if (!sum) {
        for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, 0);
        svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, "#16a34a", 2, NULL, "none");
        leg[nleg++] = (svg_legend_item_t){ "no errors", "#16a34a", NULL };
        if (p->n) svg_chart_empty(&c, "no errors during the run");
    }
    if (!p->n) svg_chart_empty(&c, "no per-second data");
    svg_chart_legend(&c, leg, nleg);
    fputs("</svg>\n", f);
}

/* Responses of code c in point pt. */
static uint64_t point_code(const stats_point_t *pt, uint32_t c)
{
    for (uint32_t k = 0; k < pt->ncodes; k++)
        if (pt->codes[k].code == c) return pt->codes[k].count;
    return 0;
}

/* Failed responses per second over time by status: a line for each of the
 * STATUS_LINES most frequent unexpected statuses (--expect-status), the
 * rest summed into "other". */
#define STATUS_LINES 6
void report_chart_status(FILE *f, const report_plot_t *p)
{
    static const char *const colors[STATUS_LINES + 1] = { "#dc2626", "#ea580c", "#ca8a04", "#7c3aed", "#db2777",
                                                          "#0f766e", "#64748b" };
    const stats_expect_t *ex = &p->run->cfg->expect;
    uint32_t top[STATUS_LINES];
    uint64_t topn[STATUS_LINES] = { 0 }, sum = 0;
    size_t ntop = 0;
    /* totals of each unexpected code over the plotted seconds (the series alone: a live page has no totals) */
    uint64_t per[STATS_STATUS_MAX] = { 0 };
    for (size_t i = 0; i < p->n; i++)
        for (uint32_t k = 0; k < p->pts[i].ncodes; k++)
            if (p->pts[i].codes[k].code < STATS_STATUS_MAX) per[p->pts[i].codes[k].code] += p->pts[i].codes[k].count;
    for (uint32_t c = 0; c < STATS_STATUS_MAX; c++) {
        uint64_t n = per[c];
        if (!n || stats_expected(ex, c)) continue;
        sum += n;
        size_t at;  /* insertion into top[] by count, the smallest dropped when full */
        if (ntop < STATUS_LINES) at = ntop++;
        else if (n > topn[STATUS_LINES - 1]) at = STATUS_LINES - 1;
        else continue;
        while (at > 0 && topn[at - 1] < n) { top[at] = top[at - 1]; topn[at] = topn[at - 1]; at--; }
        top[at] = c;
        topn[at] = n;
    }
    uint64_t shown = 0;
    for (size_t k = 0; k < ntop; k++) shown += topn[k];
    double max = 0;
    for (size_t i = 0; i < p->n; i++) {
        uint64_t bad = 0;
        for (uint32_t k = 0; k < p->pts[i].ncodes; k++)
            if (!stats_expected(ex, p->pts[i].codes[k].code)) bad += p->pts[i].codes[k].count;
        double r = plot_rate(p, i, (double)bad);
        if (!isnan(r) && r > max) max = r;
    }
    svg_chart_open(f, "status-chart", "failed responses per second by status over time");
    fprintf(f, " data-max=\"%.2f\" data-total=\"%" PRIu64 "\" data-codes=\"", max, sum);
    for (size_t k = 0; k < ntop; k++) fprintf(f, "%s%u", k ? "," : "", top[k]);
    fputc('"', f);
    plot_stage_attr(f, p);
    fputs(">\n<title>Failed responses per second by status over time</title>\n", f);
    svg_chart_t c;
    plot_chart_init(&c, f, p, 0);
    svg_axis_linear(&c.y, max, 1);
    svg_chart_yaxis(&c, &c.y, svg_tick_count, 0, "failed responses/s", NULL);
    plot_chart_frame(&c, p);
    svg_legend_item_t leg[STATUS_LINES + 1];
    char labels[STATUS_LINES][16];
    size_t nleg = 0;
    for (size_t k = 0; k < ntop; k++) {
        for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, (double)point_code(&p->pts[i], top[k]));
        snprintf(labels[k], sizeof labels[k], "%u", top[k]);
        fprintf(f, "<g class=\"status-%u\">\n", top[k]);
        svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, colors[k], 2, NULL, "code");
        svg_chart_dots(&c, &c.y, p->xs, p->ys, p->n, colors[k], labels[k], svg_tick_rate, "/s");
        fputs("</g>\n", f);
        leg[nleg++] = (svg_legend_item_t){ labels[k], colors[k], NULL };
    }
    if (sum > shown) {
        for (size_t i = 0; i < p->n; i++) {
            uint64_t o = 0;
            for (uint32_t k = 0; k < p->pts[i].ncodes; k++) {
                uint32_t code = p->pts[i].codes[k].code;
                int listed = 0;
                for (size_t j = 0; j < ntop; j++) listed |= top[j] == code;
                if (!listed && !stats_expected(ex, code)) o += p->pts[i].codes[k].count;
            }
            p->ys[i] = plot_rate(p, i, (double)o);
        }
        svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, colors[STATUS_LINES], 2, "4 3", "other");
        leg[nleg++] = (svg_legend_item_t){ "other statuses", colors[STATUS_LINES], "4 3" };
    }
    if (!sum) {
        for (size_t i = 0; i < p->n; i++) p->ys[i] = plot_rate(p, i, 0);
        svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, "#16a34a", 2, NULL, "none");
        leg[nleg++] = (svg_legend_item_t){ "no failed statuses", "#16a34a", NULL };
        if (p->n) svg_chart_empty(&c, "no response had an unexpected status");
    }
    if (!p->n) svg_chart_empty(&c, "no per-second data");
    svg_chart_legend(&c, leg, nleg);
    fputs("</svg>\n", f);
}

/* Each second's p50/p90/p95/p99/max over time. */
void report_chart_latency(FILE *f, const report_plot_t *p)
{
    double lo = 0, hi = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->pts[i].requests) continue;
        double v = (double)p->pts[i].p50;
        if (v >= 1 && (lo == 0 || v < lo)) lo = v;
        if ((double)p->pts[i].max > hi) hi = (double)p->pts[i].max;
    }
    svg_chart_open(f, "latency-chart", "latency percentiles per second over time");
    fprintf(f, " data-max=\"%.0f\" data-min-p50=\"%.0f\"", hi, lo);
    plot_stage_attr(f, p);
    fputs(">\n<title>Latency percentiles per second over time</title>\n", f);
    svg_chart_t c;
    plot_chart_init(&c, f, p, 0);
    axis_latency(&c.y, lo, hi);
    fprintf(f, "<desc>y axis %s</desc>\n", c.y.log ? "log" : "linear");
    svg_chart_yaxis(&c, &c.y, svg_tick_us, 0, "latency", NULL);
    plot_chart_frame(&c, p);
    static const svg_legend_item_t leg[] = {
        { "p50", "#0ea5e9", NULL }, { "p90", "#6366f1", NULL }, { "p95", "#c026d3", NULL }, { "p99", "#a21caf", NULL },
        { "max", "#ef4444", "2 3" },
    };
    for (int k = 4; k >= 0; k--) {
        for (size_t i = 0; i < p->n; i++) {
            const stats_point_t *pt = &p->pts[i];
            uint64_t v = k == 0 ? pt->p50 : k == 1 ? pt->p90 : k == 2 ? pt->p95 : k == 3 ? pt->p99 : pt->max;
            /* a loaded result has no p95 per second: no line rather than zeros */
            p->ys[i] = pt->requests && (k != 2 || pt->p95) ? (double)v : NAN;
        }
        svg_chart_line(&c, &c.y, p->xs, p->ys, p->n, leg[k].color, k == 4 ? 1.5 : 2, leg[k].dash, leg[k].label);
        svg_chart_dots(&c, &c.y, p->xs, p->ys, p->n, leg[k].color, leg[k].label, fmt_us, "");
    }
    if (!hi) svg_chart_empty(&c, "no responses");
    svg_chart_legend(&c, leg, 5);
    fputs("</svg>\n", f);
}

/* The latency distribution: value at percentile p against log10(1/(1-p)),
 * HdrHistogram's percentile plot. */
typedef struct curve {
    const char *label;
    const hist_t *h;
    const char *color;
    double width;
    const char *dash;
} curve_t;

void report_chart_distribution(FILE *f, const report_run_t *run)
{
    const stats_t *s = run->total;
    const config_t *cfg = run->cfg;
    static const char *const name_colors[] = { "#0d9488", "#d97706", "#db2777", "#65a30d", "#7c3aed", "#0891b2",
                                               "#ea580c", "#475569" };
    curve_t cv[11];
    size_t nc = 0;
    cv[nc++] = (curve_t){ cfg->rate ? "all (corrected)" : "all requests", &s->latency, "#2563eb", 2.6, NULL };
    if (cfg->rate) cv[nc++] = (curve_t){ "service (uncorrected)", &s->service, "#f59e0b", 2, "6 3" };
    if (s->nnamed <= 8)
        for (size_t i = 0; i < s->nnamed; i++)
            if (s->named[i].latency.total)
                cv[nc++] = (curve_t){ s->named[i].name, &s->named[i].latency, name_colors[i], 1.4, NULL };

    const hist_t *h = &s->latency;
    /* Decades of 1/(1-p) worth showing: as many as the sample count supports. */
    int dec = h->total > 1 ? (int)ceil(log10((double)h->total)) : 2;
    if (dec < 2) dec = 2;
    if (dec > 5) dec = 5;
    double lo = 0, hi = 0;
    for (size_t k = 0; k < nc; k++) {
        if (!cv[k].h->total) continue;
        double m = (double)cv[k].h->min;
        if (m < 1) m = 1;
        if (lo == 0 || m < lo) lo = m;
        if ((double)cv[k].h->max > hi) hi = (double)cv[k].h->max;
    }
    svg_chart_open(f, "dist-chart", "latency by percentile");
    fprintf(f, " data-count=\"%" PRIu64 "\" data-p50=\"%" PRIu64 "\" data-p90=\"%" PRIu64 "\" data-p99=\"%" PRIu64
               "\" data-p999=\"%" PRIu64 "\" data-max=\"%" PRIu64 "\" data-decades=\"%d\">\n"
               "<title>Latency by percentile</title>\n",
            h->total, hist_percentile(h, 50), hist_percentile(h, 90), hist_percentile(h, 99),
            hist_percentile(h, 99.9), h->max, dec);
    svg_chart_t c;
    svg_chart_init(&c, f, 0);
    c.x.lo = 0;
    c.x.hi = dec;
    axis_latency(&c.y, lo, hi);
    fprintf(f, "<desc>y axis %s</desc>\n", c.y.log ? "log" : "linear");
    svg_chart_yaxis(&c, &c.y, svg_tick_us, 0, "latency", NULL);
    static const char *const xl[] = { "0%", "90%", "99%", "99.9%", "99.99%", "99.999%" };
    for (int d = 0; d <= dec; d++) svg_chart_xtick(&c, d, 1, xl[d]);
    svg_chart_xtick(&c, log10(2), 1, "50%");
    svg_chart_xtitle(&c, "percentile (log scale of 1/(1\xe2\x88\x92p))");
    svg_chart_frame(&c);

    enum { NS = 300 };
    double xs[NS + 2], ys[NS + 2];
    svg_legend_item_t leg[11];
    for (size_t k = nc; k-- > 0;) {
        const hist_t *ch = cv[k].h;
        leg[k] = (svg_legend_item_t){ cv[k].label, cv[k].color, cv[k].dash };
        if (!ch->total) continue;
        size_t n = 0;
        for (int i = 0; i <= NS; i++) {
            double x = dec * (double)i / NS;
            xs[n] = x;
            ys[n++] = (double)hist_percentile(ch, 100.0 * (1.0 - pow(10, -x)));
        }
        svg_chart_line(&c, &c.y, xs, ys, n, cv[k].color, cv[k].width, cv[k].dash, "curve");
    }
    /* Marks at the labelled percentiles of the whole run, with tooltips. */
    if (h->total) {
        static const double mp[] = { 50, 90, 99, 99.9, 99.99, 99.999 };
        char b[32];
        for (size_t i = 0; i < sizeof mp / sizeof mp[0]; i++) {
            double x = log10(1 / (1 - mp[i] / 100));
            if (x > dec + 1e-9) break;
            uint64_t v = hist_percentile(h, mp[i]);
            fprintf(f, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#2563eb\">"
                       "<title>p%g %s</title></circle>\n",
                    svg_axis_pos(&c.x, x), svg_axis_pos(&c.y, (double)v), mp[i], fmt_us(b, sizeof b, (double)v));
        }
        double my = svg_axis_pos(&c.y, (double)h->max);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">max %s</text>\n", c.r - 4,
                my < c.t + 14 ? c.t + 14 : my - 6, fmt_us(b, sizeof b, (double)h->max));
    } else {
        svg_chart_empty(&c, "no responses");
    }
    svg_chart_legend(&c, leg, nc);
    fputs("</svg>\n", f);
}

int report_chart(FILE *f, const report_run_t *run, report_chart_kind_t which)
{
    if (which == REPORT_CHART_DISTRIBUTION) {
        report_chart_distribution(f, run);
        return 0;
    }
    report_plot_t p;
    if (report_plot_init(&p, run)) return -ENOMEM;
    if (which == REPORT_CHART_RPS) report_chart_rps(f, &p);
    else if (which == REPORT_CHART_LATENCY) report_chart_latency(f, &p);
    else report_chart_errors(f, &p);
    free(p.xs);
    return 0;
}
