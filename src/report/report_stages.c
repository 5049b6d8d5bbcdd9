/* report_stages.c - every output of the per-stage summary (stages.h): the
 * terminal table, PREFIX_stages.csv and the HTML page's table. One row per
 * stage; rates divide by the time the stage's seconds cover. */
#include "report.h"
#include "report_html.h"
#include "svg_chart.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A stage's planned span, "0s-30s", "1m-1m30s" (whole milliseconds). */
static char *span(char *buf, size_t size, double a, double b)
{
    char x[32], y[32];
    snprintf(buf, size, "%s-%s", report_duration(x, sizeof x, (uint64_t)llround(a * 1000) * 1000000),
             report_duration(y, sizeof y, (uint64_t)llround(b * 1000) * 1000000));
    return buf;
}

void report_stages(FILE *f, const stages_t *g)
{
    if (!g || !g->n) return;
    fprintf(f, "  Stages %-13s %9s %6s %10s %10s %10s %9s %9s %9s %8s\n", "(time)", "target", "users", "req/s",
            "ok/s", "failed/s", "p50", "p95", "p99", "failed");
    for (size_t i = 0; i < g->n; i++) {
        const stage_sum_t *s = &g->s[i];
        char sp[48], t[16], a[16], b[16], c[16];
        double d = s->duration_s;
        uint64_t attempts = s->requests + stats_error_total(&s->errors);
        snprintf(t, sizeof t, "%g%s", s->target, g->rate ? "/s" : "");
        fprintf(f, "    %3zu  %-13s %9s %6" PRIu64 " %10.2f %10.2f %10.2f %9s %9s %9s %7.2f%%\n", i + 1,
                span(sp, sizeof sp, s->start_s, s->end_s), t, s->users, d > 0 ? (double)s->requests / d : 0.0,
                d > 0 ? (double)s->ok / d : 0.0, d > 0 ? (double)s->failed / d : 0.0,
                report_time_us(a, sizeof a, (double)hist_percentile(&s->latency, 50)),
                report_time_us(b, sizeof b, (double)hist_percentile(&s->latency, 95)),
                report_time_us(c, sizeof c, (double)hist_percentile(&s->latency, 99)),
                attempts ? 100.0 * (double)s->failed / (double)attempts : 0.0);
    }
}

/* Locust reports milliseconds. */
static double ms(uint64_t us) { return (double)us / 1000.0; }

int report_csv_stages(const char *prefix, const report_run_t *run, char *err, size_t errlen)
{
    const stages_t *g = run->stages;
    if (!g || !g->n) return 0;
    char path[1024];
    snprintf(path, sizeof path, "%s_stages.csv", prefix);
    FILE *f = fopen(path, "w");
    if (!f) { snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno)); return -1; }
    fputs("Stage,Start (s),End (s),Target,Target Unit,Duration (s),User Count,Average User Count,"
          "Request Count,OK Count,Failure Count,Requests/s,OK/s,Failures/s,Failure Rate,"
          "Median Response Time,Average Response Time,Min Response Time,Max Response Time,50%,95%,99%\n", f);
    for (size_t i = 0; i < g->n; i++) {
        const stage_sum_t *s = &g->s[i];
        const hist_t *h = &s->latency;
        double d = s->duration_s;
        uint64_t attempts = s->requests + stats_error_total(&s->errors);
        fprintf(f, "%zu,%g,%g,%g,%s,%.3f,%" PRIu64 ",%.2f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.2f,%.2f,%.2f,%.4f,"
                   "%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n",
                i + 1, s->start_s, s->end_s, s->target, g->rate ? "requests/s" : "connections", d, s->users,
                s->users_mean, s->requests, s->ok, s->failed, d > 0 ? (double)s->requests / d : 0.0,
                d > 0 ? (double)s->ok / d : 0.0, d > 0 ? (double)s->failed / d : 0.0,
                attempts ? (double)s->failed / (double)attempts : 0.0, ms(hist_percentile(h, 50)),
                hist_mean(h) / 1000.0, ms(h->total ? h->min : 0), ms(h->max), ms(hist_percentile(h, 50)),
                ms(hist_percentile(h, 95)), ms(hist_percentile(h, 99)));
    }
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }
    return 0;
}

/* A <td> with a latency, its microseconds in data-us. */
static void td_us(FILE *f, const char *metric, const hist_t *h, double p)
{
    char b[32];
    uint64_t v = hist_percentile(h, p);
    fprintf(f, "<td data-metric=\"%s\" data-us=\"%" PRIu64 "\">%s</td>", metric, v, report_time_us(b, sizeof b, (double)v));
}

void report_html_stages(FILE *f, const report_run_t *run)
{
    const stages_t *g = run->stages;
    if (!g || !g->n) return;
    fputs("<section><h2>Stages</h2><table id=\"stages\">\n<thead><tr><th>stage</th><th class=\"l\">time</th>"
          "<th>target</th><th>users</th><th>requests</th><th>req/s</th><th>ok/s</th><th>failed/s</th>"
          "<th>p50</th><th>p95</th><th>p99</th><th>failed</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < g->n; i++) {
        const stage_sum_t *s = &g->s[i];
        char sp[48];
        double d = s->duration_s;
        uint64_t attempts = s->requests + stats_error_total(&s->errors);
        fprintf(f, "<tr data-stage=\"%zu\"><td>%zu</td><td class=\"l\">%s</td><td data-metric=\"target\">%g%s</td>"
                   "<td data-metric=\"users\">%" PRIu64 "</td><td data-metric=\"requests\">%" PRIu64 "</td>"
                   "<td data-metric=\"rps\">%.2f</td><td data-metric=\"ok-rps\">%.2f</td>"
                   "<td data-metric=\"failed-rps\">%.2f</td>",
                i, i + 1, span(sp, sizeof sp, s->start_s, s->end_s), s->target, g->rate ? "/s" : "", s->users,
                s->requests, d > 0 ? (double)s->requests / d : 0.0, d > 0 ? (double)s->ok / d : 0.0,
                d > 0 ? (double)s->failed / d : 0.0);
        td_us(f, "p50", &s->latency, 50);
        td_us(f, "p95", &s->latency, 95);
        td_us(f, "p99", &s->latency, 99);
        fprintf(f, "<td data-metric=\"failed\" data-count=\"%" PRIu64 "\">%.2f%%</td></tr>\n", s->failed,
                attempts ? 100.0 * (double)s->failed / (double)attempts : 0.0);
    }
    fputs("</tbody></table><p class=\"note\">Each second of the run counts in the stage it starts in; "
          "users are the connections open at a stage's end; p50/p95/p99 come from the merged histogram of "
          "its seconds.</p></section>\n", f);
}
