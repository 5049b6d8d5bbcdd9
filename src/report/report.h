/* report.h - every output of results. Only this module prints them.
 * The terminal report reads like wrk's so habits and parsers carry over. */
#ifndef BARRAGE_REPORT_H
#define BARRAGE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "stages.h"
#include "cpuload.h"
#include "procmon.h"
#include "control.h"
#include "stats.h"
#include "threshold.h"
#include "analysis.h"

/* Everything a finished run produced, for the file outputs. */
typedef struct report_run {
    const config_t *cfg;
    const stats_t *total;           /* merged statistics */
    const stats_series_t *series;   /* per-second series (may be empty) */
    const stages_t *stages;         /* --stages: the per-stage summary (NULL or 0 stages: none) */
    uint64_t elapsed_ns;            /* measured duration */
    int64_t start_unix_ms;          /* wall-clock start */
    int64_t start_actual_unix_us;   /* when the first thread really started sending */
    const threshold_t *th;          /* thresholds and their verdicts */
    const threshold_result_t *verdicts;
    size_t nth;
    int interrupted;                /* SIGINT/SIGTERM ended it */
    int exit_code;                  /* what barrage exits with */
    const procmon_t *targets;       /* --monitor-pid/--monitor-cmd and their samples */
    size_t ntargets;
    const cpuload_t *client;        /* the workers' busy % (NULL: not measured) */
    const analysis_t *analysis;     /* breaking point, spike, soak (NULL: none) */
    const control_event_t *events;  /* --web's control actions (NULL: none; "events" only with --web) */
    size_t nevents;
    uint64_t events_t0_ns;          /* the measurement's monotonic start, for the events' times */
} report_run_t;

/* The "Analysis" lines (report_analysis.c): breaking point, spike recovery,
 * soak drift; nothing when report_has_analysis(a) is 0. */
void report_analysis(FILE *f, const analysis_t *a);
int report_has_analysis(const analysis_t *a);

/* The JSON result (schema in src/result/result.schema.json, written through
 * result.h). 0 or -errno. */
int report_json(FILE *f, const report_run_t *run);
/* The result's "events" array (--web's control actions), alone. */
void report_json_events(FILE *f, const report_run_t *run);
/* Locust-style CSVs: PREFIX_stats.csv, PREFIX_stats_history.csv,
 * PREFIX_failures.csv (and PREFIX_stages.csv, report_csv_stages). 0, or -1 with err naming the file. */
int report_csv(const char *prefix, const report_run_t *run, char *err, size_t errlen);
/* PREFIX_stages.csv, one row per stage (nothing without stages). 0, or -1 with err naming the file. */
int report_csv_stages(const char *prefix, const report_run_t *run, char *err, size_t errlen);
/* PREFIX_exceptions.csv, Locust 2.12's columns (Count,Message,Traceback,
 * Nodes; Traceback holds the file:line, Nodes "local"). 0, or -1 with err. */
int report_csv_exceptions(const char *prefix, const stats_t *s, char *err, size_t errlen);
/* One self-contained HTML page with inline SVG charts. 0 or -errno. */
int report_html(FILE *f, const report_run_t *run);

/* One chart of the HTML report alone, as an <svg> element (the --web page
 * draws these same charts while the run goes on). 0 or -ENOMEM. */
typedef enum report_chart_kind {
    REPORT_CHART_RPS = 0, REPORT_CHART_LATENCY, REPORT_CHART_ERRORS, REPORT_CHART_DISTRIBUTION,
} report_chart_kind_t;
int report_chart(FILE *f, const report_run_t *run, report_chart_kind_t which);

/* "Running 10s test @ URL" and the threads/connections line. */
void report_header(FILE *f, const config_t *c);
/* The wrk-style report of merged statistics over elapsed_ns. */
void report_print(FILE *f, const config_t *c, const stats_t *s, uint64_t elapsed_ns);

/* The per-stage table (nothing without stages): each stage's planned span,
 * target, connections open at its end, req/s with ok and failed apart,
 * p50/p95/p99 of its merged latency histogram, and failure rate. */
void report_stages(FILE *f, const stages_t *g);

/* When every attempt failed (stats_failed == stats_attempts > 0): one line
 * in buf naming the cause and the likely fix ("every request timed out after
 * 2s: raise --timeout, ..."), returning buf; else NULL. */
char *report_all_failed(const config_t *c, const stats_t *s, char *buf, size_t size);

/* --web's control actions, one line each (after report_print). */
void report_events(FILE *f, const report_run_t *run);

/* The thresholds' verdicts: expression, measured value, pass or fail. */
void report_thresholds(FILE *f, const threshold_t *t, const threshold_result_t *r, size_t n);

/* The live progress line (stderr, a TTY): elapsed/total, stage,
 * connections, req/s, p50/p99 of the last complete second, and so far the
 * socket/protocol errors and the failed requests (stats_failed). */
void report_progress(FILE *f, const config_t *c, uint64_t elapsed_ns, const stats_point_t *last,
                     const stats_t *totals);
/* The watched targets' part of the progress line: ", target cpu 85% rss 120M"
 * (one per target, named when there are several; "exited" once gone). */
void report_progress_targets(FILE *f, const procmon_t *t, size_t n);
/* The terminal lines of the watched targets (min/avg/max of CPU, RSS, fds,
 * threads; RSS growth per hour; an exit; the leak warning) and the
 * client-bottleneck warning (report_watch.c): cpuload's rule, except on a
 * constant -R run whose client sent >= 95% of what its schedule asked for
 * (it kept up: it did not limit the load). */
void report_watch(FILE *f, const config_t *c, const stats_t *s, uint64_t elapsed_ns, const procmon_t *t,
                  size_t n, const cpuload_t *client);
/* The JSON members "target" and "client" (each written with a leading
 * ",\n" after the previous member; nothing when there is nothing to say). */
void report_json_watch(FILE *f, const report_run_t *run);
/* Erase the progress line. */
void report_progress_clear(FILE *f);

/* Unit formatting as wrk does it, into buf: times in microseconds
 * ("635.91us", "12.92ms", "1.50s", "2.00m"), metric counts ("56.20k"), and
 * binary sizes ("137.42M", for "MB"). Return buf. */
char *report_time_us(char *buf, size_t size, double us);
char *report_metric(char *buf, size_t size, double n);
char *report_binary(char *buf, size_t size, double n);
/* A run length as given: "10s", "2m", "1h", "1500ms". */
char *report_duration(char *buf, size_t size, uint64_t ns);

#endif
