/* threshold.h - k6-style pass/fail conditions on a run's statistics
 * (`--threshold EXPR`, repeatable), checked at the end of a run and, for
 * --abort-on-fail, while it runs.
 *
 * Grammar (whitespace is allowed around every token):
 *     [NAME ':'] METRIC OP VALUE
 *   NAME    everything before the LAST ':' of the expression, trimmed. It may
 *           hold spaces and even ':' ("GET /a:b:p(95)<1s" names "GET /a:b"),
 *           since no METRIC, OP or VALUE contains ':'. It selects the request
 *           name given in scripts (stats_t.named), or for `checks` the check
 *           of that name (stats_t.checks). Absent: the whole run.
 *   METRIC  latency: p(N) with 0 < N <= 100 (e.g. p(99.9)), med (= p(50)),
 *           mean (alias avg), min, max, stdev;
 *           failed    failed requests (stats_failed: socket/protocol errors plus
 *                     responses whose status is not expected, --expect-status);
 *                     per NAME its failures (the same definition);
 *           failed_rate (alias http_req_failed, k6's; also "http_req_failed:rate")
 *                     failed / attempts as a fraction (0.01) or a percentage (1%);
 *           errors    socket/protocol errors only (stats_error_total), never a
 *                     status; per NAME its failures (as NAME:failed);
 *           non2xx    responses with status >= 400 (errors.status); whole run only;
 *           requests  complete responses; per NAME its requests (attempts);
 *           rps       requests / duration of the run;
 *           checks    percentage of passed checks; per NAME that check's.
 *   k6's names, before a ':' (a script's thresholds table joins its key and
 *   each expression so), with an optional tag {name:NAME} ({check:NAME} for
 *   checks) that selects a name as NAME: does:
 *           http_req_duration:AGG  AGG one of the latency words above
 *           http_req_failed:rate   = failed_rate
 *           http_reqs:count        requests made: responses plus failed attempts
 *                                  (stats_attempts; per NAME its requests)
 *           http_reqs:rate         those per second of the run
 *           checks:rate            passed / all checks, a fraction (or a percentage)
 *           iterations:count       completed user() iterations (workflows); whole run only
 *           iterations:rate        iterations / duration of the run
 *           e.g. http_req_duration{name:login}:p(95)<300  checks{check:has token}:rate>0.99
 *   OP      <  <=  >  >=  ==  != (two values within 1e-9 relative are equal)
 *   VALUE   latency: a number with unit us, ms, s or m; a bare number is ms (as in k6).
 *           errors, non2xx, failed: a count, or a percentage "0.1%" of
 *             errors / (requests + errors) for errors, failed / (requests + errors)
 *             for failed (per NAME: failures / requests for both),
 *           failed_rate: a fraction from 0 to 1, or a percentage;
 *             errors.status / requests for non2xx.
 *           requests: a count.  rps: a number.  Counts and rps take k/M/G (10k = 10000).
 *           checks: a percentage ("99%").  Percentages are 0% to 100%.
 * Examples: p(95)<300ms  p(99.9)<1s  mean<50  errors<0.1%  rps>1000  non2xx==0
 *           failed==0  failed_rate<1%  http_req_failed<0.01
 *           login:p(95)<500ms  list items:errors<1%  has token:checks>=99.5%
 */
#ifndef BARRAGE_THRESHOLD_H
#define BARRAGE_THRESHOLD_H

#include <stdarg.h>
#include <stddef.h>

#include "stats.h"

/* Exit code when the run finished but a threshold failed (k6's), distinct
 * from 1 (run failed) and 2 (usage errors, including a bad expression). */
#define THRESHOLD_EXIT_FAILED 99

typedef enum threshold_metric {
    THRESHOLD_PERCENTILE,   /* p(N) and med; latency */
    THRESHOLD_MEAN,         /* mean, avg; latency */
    THRESHOLD_MIN,          /* latency */
    THRESHOLD_MAX,          /* latency */
    THRESHOLD_STDEV,        /* latency */
    THRESHOLD_ERRORS,       /* count or percentage */
    THRESHOLD_NON2XX,       /* count or percentage */
    THRESHOLD_REQUESTS,     /* count */
    THRESHOLD_RPS,          /* requests per second */
    THRESHOLD_CHECKS,       /* percentage */
    THRESHOLD_FAILED,       /* count or percentage of attempts */
    THRESHOLD_FAILED_RATE,  /* fraction (or percentage) of attempts */
    THRESHOLD_CHECKS_RATE,  /* k6's checks:rate, a fraction (or percentage) of passed checks */
    THRESHOLD_ITERATIONS,   /* k6's iterations:count, completed user() iterations */
    THRESHOLD_ITERATIONS_RATE,/* k6's iterations:rate, per second */
    THRESHOLD_HTTP_REQS,    /* k6's http_reqs:count, attempts (responses + failed attempts) */
    THRESHOLD_HTTP_REQS_RATE /* k6's http_reqs:rate, attempts per second */
} threshold_metric_t;

typedef enum threshold_op {
    THRESHOLD_LT, THRESHOLD_LE, THRESHOLD_GT, THRESHOLD_GE, THRESHOLD_EQ, THRESHOLD_NE
} threshold_op_t;

/* One parsed expression. Owns its strings (threshold_free). */
typedef struct threshold {
    char *expr;                /* the expression as given, trimmed (for the report) */
    char *name;                /* NAME before ':', trimmed; NULL for the whole run */
    threshold_metric_t metric; /* what is measured */
    double p;                  /* the percentile for THRESHOLD_PERCENTILE (0 < p <= 100) */
    threshold_op_t op;         /* how measured compares with value */
    double value;              /* in the metric's unit: microseconds for latency,
                                * percent when `percent`, else a count or requests/s */
    int percent;               /* 1 when value is a percentage (always for checks) */
    int abort_on_fail;         /* stop the run when it can no longer pass (set by the caller:
                                * --abort-on-fail, or the script's abortOnFail) */
} threshold_t;

/* Parse expr into out (which then owns copies of its strings). 0, or -1 with
 * err holding one line that quotes the expression and the offending token,
 * e.g. "--threshold 'p(95)<30xs': cannot read '30xs' as a duration (use e.g.
 * 300ms, 1s)"; out then holds nothing to free. */
int threshold_parse(const char *expr, threshold_t *out, char *err, size_t errlen);
/* Free the strings; the struct may be parsed into again. NULL-safe. */
void threshold_free(threshold_t *t);
/* Write "OPTION 'EXPR': " and the message (fmt with ap) into err as one
 * line, control characters made spaces. Returns -1. For --threshold and
 * for compare's --fail-if, whose gates read like thresholds. */
int threshold_vfail(char *err, size_t errlen, const char *option, const char *expr, const char *fmt,
                    va_list ap);
/* A plain decimal at s (before end): digits[.digits] or .digits, no sign,
 * exponent, hex or inf. Returns the characters read and sets *v, or 0 if
 * there is no number at s. Shared with --fail-if's values too. */
size_t threshold_scan_number(const char *s, const char *end, double *v);

/* A verdict at the end of a run. */
typedef struct threshold_result {
    double measured;  /* in the unit of threshold_t.value (0 when there was no data) */
    int pass;         /* 1 if `measured OP value` holds; 0 when there was no data */
    const char *note; /* static text saying why there was no data, or (errors with
                       * failed statuses in the run) that errors leaves them out; else NULL */
    int missing;      /* 1 when t's NAME never occurred (no request, or no check, of that name) */
} threshold_result_t;

/* Evaluate t against the merged statistics of a run of duration_s seconds.
 * No data fails with a note: a NAME that never occurred ("no requests with
 * this name", "no check with this name"), latency with no responses, a
 * percentage of nothing, rps over a zero duration. Plain counts always have
 * data (0 is a measurement). */
void threshold_eval(const threshold_t *t, const stats_t *total, double duration_s,
                    threshold_result_t *r);

/* 1 if t can no longer pass whatever the rest of the run does, else 0. Only
 * quantities that move one way qualify: max with < <= ==, min with > >= ==,
 * and the counts (errors, failed, non2xx, requests, http_reqs, not percentages) with < <= ==.
 * Never for percentiles, mean, stdev, rps, percentages or checks. */
int threshold_certainly_broken(const threshold_t *t, const stats_t *so_far);

/* Format v (a measured value or t->value) with t's unit into buf and return
 * buf: "312.40ms" / "1.50s" (latency as the report prints it), "0.12%",
 * "1234.5/s", "17". */
char *threshold_format_value(const threshold_t *t, double v, char *buf, size_t len);

#endif
