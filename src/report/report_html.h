/* report_html.h - inside the HTML report: the charts (report_html_charts.c)
 * that the page (report_html.c) places. Not for other modules. */
#ifndef BARRAGE_REPORT_HTML_H
#define BARRAGE_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "report.h"

/* The run's per-second series as plotted. */
typedef struct report_plot {
    const report_run_t *run;
    const stats_point_t *pts;
    size_t n;        /* points plotted: seconds that began before the end */
    double span;     /* x range, seconds */
    double *xs;      /* n: time of each point (middle of its covered part) */
    double *frac;    /* n: fraction of its second inside the run */
    double *ys;      /* n: scratch */
    double *ys2;     /* n: scratch */
} report_plot_t;

/* Fill p from run's series (p->xs owns one allocation: free(p->xs)). 0 or -ENOMEM. */
int report_plot_init(report_plot_t *p, const report_run_t *run);
/* Requests/s over time, with ok and failed apart (classes "ok", "failed"),
 * the target and the open connections (<svg id="rps-chart">). */
void report_chart_rps(FILE *f, const report_plot_t *p);
/* Errors per second over time, one line per class that occurred (<svg id="errors-chart">). */
void report_chart_errors(FILE *f, const report_plot_t *p);
/* Failed responses per second by status over time, a line per top unexpected
 * status, the rest as "other" (<svg id="status-chart">, data-codes, data-total). */
void report_chart_status(FILE *f, const report_plot_t *p);
/* Each second's p50/p90/p95/p99/max over time (<svg id="latency-chart">). */
void report_chart_latency(FILE *f, const report_plot_t *p);
/* The latency distribution by percentile, HdrHistogram's plot (<svg id="dist-chart">). */
void report_chart_distribution(FILE *f, const report_run_t *run);

/* The per-stage table (<table id="stages">; nothing without stages). */
void report_html_stages(FILE *f, const report_run_t *run);
/* The sections of what the run watched (report_watch.c): with
 * --monitor-pid/--monitor-cmd, each target's CPU % and RSS over time (x from
 * 0 to at least span seconds, <svg id="target-chart">) and its min/avg/max
 * (<table id="target">); the client threads' busy % (<table id="client">). */
void report_html_watch(FILE *f, const report_run_t *run, double span);

/* The error classes in stats_errors_t's order (6): names, chart colours, meanings. */
extern const char *const report_err_names[];
extern const char *const report_err_colors[];
extern const char *const report_err_what[];
/* Class k's count in e. */
uint64_t report_err_get(const stats_errors_t *e, int k);

#endif
