/* result.h - the result schema (src/result/result.schema.json), both ways.
 *
 * Reading (result.c): a result file is parsed (json.h) and checked against
 * the parts of the schema barrage uses; every distribution is rebuilt
 * losslessly from its [index, count] buckets (layout loglinear-11-40) with
 * the exact count/min/max/sum/sumsq restored, so every number derived from
 * a result_t is what a single run over the same samples gives.
 *
 * Writing (result_write.c): the one JSON writer of results, used by `--json`
 * (report_json.c) and by `barrage merge`: the same layout and number format
 * for both, member by member. Strings are always valid UTF-8 (json.h). */
#ifndef BARRAGE_RESULT_H
#define BARRAGE_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis.h"
#include "json.h"
#include "stages.h"
#include "stats.h"
#include "threshold.h"

/* The "schema" member of every result this barrage writes and reads. */
#define RESULT_SCHEMA "barrage.result/1"

/* One second of a result's "series". */
typedef struct result_point {
    int64_t unix_ms;             /* wall-clock start of the second */
    uint64_t requests;           /* responses completed in it */
    stats_errors_t errors;
    uint64_t failed;             /* "failed" (older results: errors plus statuses >= 400) */
    stats_code_t *codes;         /* "status" (owned when loaded; older results: none) */
    uint32_t ncodes;
    uint64_t active, stage, p50, p90, p95, p99, max; /* p95: 0 in older results */
} result_point_t;

/* A result file in memory (result_load; result_free frees it). */
typedef struct result {
    const char *path;            /* as given to result_load (borrowed) */
    json_doc_t *doc;             /* the parsed file (owned) */
    const json_value_t *config, *host;  /* inside doc */
    stats_t st;                  /* counters and every distribution, exact */
    int st_ready;                /* st is initialised (result_free frees it) */
    int has_service, has_schedule, has_tls;  /* the optional distributions present */
    int latency_corrected, interrupted;
    int exit_code;               /* "exit_code", 1 when out of range */
    int64_t start_ms;            /* "start_unix_ms" */
    double duration_s;           /* "duration_s" */
    result_point_t *pts;         /* the series (owned) */
    size_t npts;
    size_t nthresholds;          /* entries of "thresholds" */
    stages_t stages;             /* "stages" (older results, runs without --stages: none) */
    uint64_t merged_from;        /* runs this result holds (config.merged_from, else 1) */
} result_t;

/* ---- reading (result.c) ---- */

/* Read and check one result into r (zeroed first). 0, or -1 with err
 * "FILE: WHERE: problem"; either way r is then result_free'd by the caller. */
int result_load(result_t *r, const char *path, char *err, size_t errlen);
/* Free what result_load allocated and zero r. */
void result_free(result_t *r);
/* result_load each of paths[0..n) into rs[0..n); at the first that fails,
 * one line "barrage PROG: FILE: problem" (control characters as spaces) to
 * err and -1. 0 when all loaded. */
int result_load_all(FILE *err, const char *prog, char **paths, size_t n, result_t *rs);
/* One warning line to err per config key in keys (NULL-terminated) whose
 * value differs between base and other, both values shortened. */
void result_warn_config(FILE *err, const char *prog, const result_t *base, const result_t *other,
                        const char *const *keys);
/* The threshold expressions of rs[0..n) ("thresholds"[].expr), each distinct
 * one once in order of first appearance, borrowed from the documents, into
 * out (room for every entry of every input). Returns how many. */
size_t result_threshold_exprs(const result_t *rs, size_t n, const char **out);
/* When r's first thread really started sending, Unix microseconds
 * ("start_actual_unix_us"; older results: start_unix_ms). */
int64_t result_start_actual_us(const result_t *r);
/* "2026-11-23T15:30:00.123Z" (RFC 3339, UTC, milliseconds) into buf. */
void result_rfc3339(char *buf, size_t size, int64_t unix_ms);

/* ---- writing (result_write.c) ---- */

/* A JSON string ("" for NULL): escaped, invalid UTF-8 as \ufffd (json_write_string). */
void result_write_string(FILE *f, const char *s);
/* The shortest decimal that reads back as the same double (sums stay exact for merge). */
void result_write_double(FILE *f, double v);
/* A number: null when not finite, integral values below 9e15 in full, others as result_write_double. */
void result_write_number(FILE *f, double v);
/* Any parsed value, on one line (numbers as they were read, exactly when integral). */
void result_write_value(FILE *f, const json_value_t *v);
/* An "errors" object: {"connect": N, "read": N, ..., "parse": N}. */
void result_write_errors(FILE *f, const stats_errors_t *e);
/* Responses by status code as a JSON object, {"200": 95, "500": 5}. */
void result_write_codes(FILE *f, const stats_code_t *codes, uint32_t n);
/* The opening of a result up to the value of "host": "{", "schema", "tool". */
void result_write_head(FILE *f);
/* The members "start" to "exit_code", after the value of "config" (the line
 * ends ",\n"): start as RFC 3339 and Unix ms, the real start in us, duration. */
void result_write_times(FILE *f, int64_t start_ms, int64_t actual_us, double secs, int interrupted, int exit_code);
/* The members "summary" to "checks" of a result (each line ends ",\n"):
 * statistics over secs seconds; which optional distributions to write. */
void result_write_stats(FILE *f, const stats_t *s, double secs, int corrected, int service, int schedule,
                        int tls);
/* The member "thresholds" (the line ends ",\n"): each expression and its verdict. */
void result_write_thresholds(FILE *f, const threshold_t *th, const threshold_result_t *v, size_t n);
/* The member "stages" (the line ends ",\n"): each stage's plan, counts,
 * ok/failed rates, users and lossless latency distribution ([] for none). */
void result_write_stages(FILE *f, const stages_t *g);
/* The member "analysis" (its line ends ",\n"): breaking point, spike, soak;
 * null where the run had none (analysis.h). */
void result_write_analysis(FILE *f, const analysis_t *a);
/* A "checks" array: [{"name": ..., "pass": N, "fail": N}, ...]. */
void result_write_checks(FILE *f, const stats_t *s);
/* One member of "series" on a line of its own (a comma before it unless
 * first): second t of the run, and p's counts and latencies. */
void result_write_point(FILE *f, int first, int64_t t, const result_point_t *p);
/* A run's per-second point p, starting at unix_ms, as a result point (p's codes borrowed). */
result_point_t result_point_of(const stats_point_t *p, int64_t unix_ms);
/* The same point's object alone, {"t": ...} (no comma, no newline): --stream's lines. */
void result_write_point_object(FILE *f, int64_t t, const result_point_t *p);

#endif
