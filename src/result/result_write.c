/* result_write.c - writing results (result.h): the one JSON writer of the
 * schema, for `--json` (report_json.c) and `barrage merge` alike.
 * Histograms are written losslessly: the bucket layout, the non-empty
 * buckets as [index, count] pairs, and the exact min, max, sum and sum of
 * squares, so `barrage merge` can add runs exactly. */
#include "result.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BARRAGE_VERSION
#define BARRAGE_VERSION "dev"
#endif

void result_write_string(FILE *f, const char *s)
{
    json_write_string(f, s, s ? strlen(s) : 0); /* valid UTF-8 whatever the bytes (json.h) */
}

void result_write_double(FILE *f, double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, f);
}

void result_write_number(FILE *f, double v)
{
    if (!isfinite(v)) fputs("null", f);
    else if (v == floor(v) && fabs(v) < 9e15) fprintf(f, "%.0f", v);
    else result_write_double(f, v); /* sums stay exact for merge */
}

void result_write_value(FILE *f, const json_value_t *v)
{
    switch (v->type) {
    case JSON_NULL: fputs("null", f); break;
    case JSON_TRUE: fputs("true", f); break;
    case JSON_FALSE: fputs("false", f); break;
    case JSON_NUMBER:
        if (v->exact) fprintf(f, "%" PRIu64, v->u);
        else result_write_double(f, v->num);
        break;
    case JSON_STRING: json_write_string(f, v->str, v->len); break;
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < v->len; i++) {
            if (i) fputs(", ", f);
            result_write_value(f, v->items[i]);
        }
        fputc(']', f);
        break;
    case JSON_OBJECT:
        fputc('{', f);
        for (size_t i = 0; i < v->len; i++) {
            if (i) fputs(", ", f);
            result_write_value(f, v->items[2 * i]);
            fputs(": ", f);
            result_write_value(f, v->items[2 * i + 1]);
        }
        fputc('}', f);
        break;
    }
}

void result_write_errors(FILE *f, const stats_errors_t *e)
{
    fprintf(f, "{\"connect\": %" PRIu64 ", \"read\": %" PRIu64 ", \"write\": %" PRIu64
               ", \"timeout\": %" PRIu64 ", \"status\": %" PRIu64 ", \"parse\": %" PRIu64 "}",
            e->connect, e->read, e->write, e->timeout, e->status, e->parse);
}

void result_write_codes(FILE *f, const stats_code_t *codes, uint32_t n)
{
    fputc('{', f);
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%s\"%u\": %" PRIu64, i ? ", " : "", codes[i].code, codes[i].count);
    fputc('}', f);
}

static void status_counts(FILE *f, const uint64_t *status)
{
    fputc('{', f);
    for (uint32_t i = 0, k = 0; i < STATS_STATUS_MAX; i++)
        if (status[i]) fprintf(f, "%s\"%u\": %" PRIu64, k++ ? ", " : "", i, status[i]);
    fputc('}', f);
}

/* A latency (or rate) distribution: summary, percentiles, lossless histogram. */
static void dist(FILE *f, const hist_t *h, const char *unit)
{
    static const double pct[] = { 50, 75, 90, 95, 99, 99.9, 99.99, 100 };
    fprintf(f, "{\"unit\": \"%s\", \"count\": %" PRIu64 ", \"min\": %" PRIu64 ", \"max\": %" PRIu64
               ", \"mean\": ", unit, h->total, h->total ? h->min : 0, h->max);
    result_write_number(f, hist_mean(h));
    fputs(", \"stdev\": ", f);
    result_write_number(f, hist_stdev(h));
    fputs(", \"percentiles\": {", f);
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
        fprintf(f, "%s\"%g\": %" PRIu64, i ? ", " : "", pct[i], hist_percentile(h, pct[i]));
    fprintf(f, "}, \"histogram\": {\"layout\": \"loglinear-%d-%d\", \"sum\": ", HIST_SUB_BITS, HIST_MAX_BITS);
    result_write_number(f, h->sum);
    fputs(", \"sumsq\": ", f);
    result_write_number(f, h->sumsq);
    fputs(", \"buckets\": [", f);
    int first = 1;
    /* only [index(min), index(max)] can be occupied */
    size_t lo = h->total ? hist_index(h->min) : 1, hi = h->total ? hist_index(h->max) : 0;
    for (size_t i = lo; i <= hi && i < h->ncounts; i++) {
        if (!h->counts[i]) continue;
        fprintf(f, "%s[%zu, %" PRIu64 "]", first ? "" : ", ", i, h->counts[i]);
        first = 0;
    }
    fputs("]}}", f);
}

void result_write_head(FILE *f)
{
    fprintf(f, "{\n  \"schema\": \"%s\",\n  \"tool\": {\"name\": \"barrage\", \"version\": ", RESULT_SCHEMA);
    result_write_string(f, BARRAGE_VERSION);
    fputs("},\n  \"host\": ", f);
}

void result_write_times(FILE *f, int64_t start_ms, int64_t actual_us, double secs, int interrupted, int exit_code)
{
    char when[64];
    result_rfc3339(when, sizeof when, start_ms);
    fprintf(f, ",\n  \"start\": \"%s\",\n  \"start_unix_ms\": %" PRId64 ",\n  \"start_actual_unix_us\": %" PRId64
               ",\n  \"duration_s\": ", when, start_ms, actual_us);
    result_write_double(f, secs);
    fprintf(f, ",\n  \"interrupted\": %s,\n  \"exit_code\": %d,\n", interrupted ? "true" : "false", exit_code);
}

void result_write_stats(FILE *f, const stats_t *s, double secs, int corrected, int service, int schedule,
                        int tls)
{
    fprintf(f, "  \"summary\": {\"requests\": %" PRIu64 ", \"sent\": %" PRIu64 ", \"bytes\": %" PRIu64
               ", \"content_bytes\": %" PRIu64 ", \"connects\": %" PRIu64 ", \"iterations\": %" PRIu64 ", \"rps\": ",
            s->requests, s->sent, s->bytes, s->content, s->connects, s->iterations);
    result_write_number(f, secs > 0 ? (double)s->requests / secs : 0);
    fputs(", \"bytes_per_s\": ", f);
    result_write_number(f, secs > 0 ? (double)s->bytes / secs : 0);
    fputs(", \"errors\": ", f);
    result_write_errors(f, &s->errors);
    fprintf(f, ", \"failed\": %" PRIu64 ", \"attempts\": %" PRIu64 ", \"failed_rate\": ", stats_failed(s),
            stats_attempts(s));
    result_write_number(f, stats_attempts(s) ? (double)stats_failed(s) / (double)stats_attempts(s) : 0);
    fputs(", \"status\": ", f);
    status_counts(f, s->status);
    fprintf(f, ", \"timeline_start_us\": %" PRIu64 ", \"timeline_start_forced\": %s", s->rate_start_us,
            s->rate_start_forced ? "true" : "false");
    fputs("},\n  \"latency\": ", f);
    dist(f, &s->latency, "us");
    fprintf(f, ",\n  \"latency_corrected\": %s,\n  \"service\": ", corrected ? "true" : "false");
    if (service) dist(f, &s->service, "us");
    else fputs("null", f);
    fputs(",\n  \"schedule_delay\": ", f);
    if (schedule) dist(f, &s->jitter, "us");
    else fputs("null", f);
    fputs(",\n  \"thread_rps\": ", f);
    dist(f, &s->rate, "1/s");
    fputs(",\n  \"connect\": ", f);
    dist(f, &s->connect_time, "us");
    fputs(",\n  \"tls\": ", f);
    if (tls) {
        fputs("{\"info\": ", f);
        result_write_string(f, s->tls_info);
        fprintf(f, ", \"resumed\": %" PRIu64 ", \"handshake\": ", s->tls_resumed);
        dist(f, &s->tls_time, "us");
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"names\": [", f);
    for (size_t i = 0; i < s->nnamed; i++) {
        const stats_named_t *n = &s->named[i];
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        result_write_string(f, n->name);
        fputs(", \"method\": ", f);
        result_write_string(f, n->method);
        fprintf(f, ", \"requests\": %" PRIu64 ", \"failures\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"rps\": ",
                n->requests, n->failures, n->bytes);
        result_write_number(f, secs > 0 ? (double)n->requests / secs : 0);
        fputs(", \"status\": ", f);
        result_write_codes(f, n->codes, n->ncodes);
        fputs(", \"failure_reasons\": {", f);
        for (uint32_t j = 0; j < n->nreasons; j++) {
            if (j) fputs(", ", f);
            result_write_string(f, n->reasons[j].reason);
            fprintf(f, ": %" PRIu64, n->reasons[j].count);
        }
        fputs("}, \"latency\": ", f);
        dist(f, &n->latency, "us");
        fputc('}', f);
    }
    fputs("],\n  \"checks\": ", f);
    result_write_checks(f, s);
    fputs(",\n  \"exceptions\": [", f);
    for (size_t i = 0; i < s->nexceptions; i++) {
        fprintf(f, "%s{\"count\": %" PRIu64 ", \"message\": ", i ? ", " : "", s->exceptions[i].count);
        result_write_string(f, s->exceptions[i].message);
        fputs(", \"location\": ", f);
        result_write_string(f, s->exceptions[i].location);
        fputc('}', f);
    }
    fputs("],\n  \"user_classes\": [", f);
    for (size_t i = 0; i < s->nclasses; i++) {
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        result_write_string(f, s->classes[i].name);
        fprintf(f, ", \"users\": %" PRIu64 "}", s->classes[i].users);
    }
    fputs("],\n", f);
}

void result_write_checks(FILE *f, const stats_t *s)
{
    fputc('[', f);
    for (size_t i = 0; i < s->nchecks; i++) {
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        result_write_string(f, s->checks[i].name);
        fprintf(f, ", \"pass\": %" PRIu64 ", \"fail\": %" PRIu64 "}", s->checks[i].pass, s->checks[i].fail);
    }
    fputc(']', f);
}

result_point_t result_point_of(const stats_point_t *p, int64_t unix_ms)
{
    return (result_point_t){ .unix_ms = unix_ms, .requests = p->requests, .errors = p->errors, .failed = p->failed,
                             .codes = p->codes, .ncodes = p->ncodes, .active = p->active, .stage = p->stage,
                             .p50 = p->p50, .p90 = p->p90, .p95 = p->p95, .p99 = p->p99, .max = p->max };
}

void result_write_point(FILE *f, int first, int64_t t, const result_point_t *p)
{
    fputs(first ? "\n    " : ",\n    ", f);
    result_write_point_object(f, t, p);
}

void result_write_point_object(FILE *f, int64_t t, const result_point_t *p)
{
    fprintf(f, "{\"t\": %" PRId64 ", \"unix_ms\": %" PRId64 ", \"requests\": %" PRIu64 ", \"errors\": ",
            t, p->unix_ms, p->requests);
    result_write_errors(f, &p->errors);
    uint64_t socket = stats_error_total(&p->errors), bad = p->failed > socket ? p->failed - socket : 0;
    fprintf(f, ", \"ok\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"status\": ", p->requests > bad ? p->requests - bad : 0,
            p->failed);
    result_write_codes(f, p->codes, p->ncodes);
    fprintf(f, ", \"active\": %" PRIu64 ", \"stage\": %" PRIu64 ", \"p50\": %" PRIu64 ", \"p90\": %" PRIu64
               ", \"p95\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "}",
            p->active, p->stage, p->p50, p->p90, p->p95, p->p99, p->max);
}

void result_write_thresholds(FILE *f, const threshold_t *th, const threshold_result_t *v, size_t n)
{
    fputs("  \"thresholds\": [", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", {\"expr\": " : "{\"expr\": ", f);
        result_write_string(f, th[i].expr);
        fputs(", \"measured\": ", f);
        result_write_number(f, v[i].measured);
        fprintf(f, ", \"pass\": %s, \"note\": ", v[i].pass ? "true" : "false");
        if (v[i].note) result_write_string(f, v[i].note);
        else fputs("null", f);
        fputc('}', f);
    }
    fputs("],\n", f);
}

void result_write_stages(FILE *f, const stages_t *g)
{
    fputs("  \"stages\": [", f);
    for (size_t i = 0; g && i < g->n; i++) {
        const stage_sum_t *s = &g->s[i];
        double d = s->duration_s;
        uint64_t attempts = s->requests + stats_error_total(&s->errors);
        fprintf(f, "%s\n    {\"index\": %zu, \"start_s\": ", i ? "," : "", i);
        result_write_number(f, s->start_s);
        fputs(", \"end_s\": ", f);
        result_write_number(f, s->end_s);
        fputs(", \"target\": ", f);
        result_write_number(f, s->target);
        fprintf(f, ", \"target_unit\": \"%s\", \"duration_s\": ", g->rate ? "requests/s" : "connections");
        result_write_number(f, d);
        fprintf(f, ", \"seconds\": %u, \"users\": %" PRIu64 ", \"users_mean\": ", s->seconds, s->users);
        result_write_number(f, s->users_mean);
        fprintf(f, ", \"requests\": %" PRIu64 ", \"ok\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"errors\": ",
                s->requests, s->ok, s->failed);
        result_write_errors(f, &s->errors);
        fputs(", \"rps\": ", f);
        result_write_number(f, d > 0 ? (double)s->requests / d : 0);
        fputs(", \"ok_rps\": ", f);
        result_write_number(f, d > 0 ? (double)s->ok / d : 0);
        fputs(", \"failed_rps\": ", f);
        result_write_number(f, d > 0 ? (double)s->failed / d : 0);
        fputs(", \"failed_rate\": ", f);
        result_write_number(f, attempts ? (double)s->failed / (double)attempts : 0);
        fputs(", \"latency\": ", f);
        dist(f, &s->latency, "us");
        fputc('}', f);
    }
    fputs("],\n", f);
}

/* `"k0": v0, "k1": v1, ...` (numbers; NAN is null), keys and values side by side. */
static void numbers(FILE *f, const char *const *keys, const double *vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", keys[i]);
        result_write_number(f, vals[i]);
    }
}

static void write_finding(FILE *f, const char *name, const analysis_finding_t *x, int last)
{
    fprintf(f, "    \"%s\": ", name);
    if (!x->found) {
        fputs("null", f);
    } else {
        static const char *const k[] = { "load", "second", "before", "after" };
        double v[] = { x->load, x->second, x->before, x->after };
        fputc('{', f);
        numbers(f, k, v, 4);
        fputc('}', f);
    }
    fputs(last ? "\n" : ",\n", f);
}

void result_write_analysis(FILE *f, const analysis_t *a)
{
    fputs("  \"analysis\": {\n    \"load_unit\": ", f);
    result_write_string(f, a->load_unit);
    fprintf(f, ",\n    \"latency_percentile\": %d", a->pct);
    fputs(",\n    \"ramp\": ", f);
    if (!a->ramp) {
        fputs("null", f);
    } else {
        static const char *const k[] = { "max_load", "baseline_latency_us", "baseline_ok_rps_per_load", "plateau_rps" };
        double v[] = { a->max_load, a->base_p, a->base_eff, a->knee.found ? a->plateau : NAN };
        fprintf(f, "{\"enough_data\": %s, ", a->ramp_short ? "false" : "true");
        numbers(f, k, v, 4);
        fputs(",\n", f);
        write_finding(f, "latency", &a->latency, 0);
        write_finding(f, "failures", &a->failures, 0);
        write_finding(f, "knee", &a->knee, 1);
        fputs("    }", f);
    }
    fputs(",\n    \"spike\": ", f);
    if (!a->spike) {
        fputs("null", f);
    } else {
        static const char *const k[] = { "start_s", "end_s", "load", "base_load", "pre_latency_us", "pre_failed_rate",
                                         "worst_latency_us", "worst_failed_rate" };
        double v[] = { a->spike_start, a->spike_end, a->spike_load, a->base_load, a->pre_p, a->pre_fail, a->peak_p,
                       a->peak_fail };
        fprintf(f, "{\"enough_data\": %s, ", a->spike_short ? "false" : "true");
        numbers(f, k, v, 8);
        fprintf(f, ", \"recovered\": %s, \"recovery_s\": ", a->recovered ? "true" : "false");
        result_write_number(f, a->recovered ? a->recovery_s : NAN);
        fputc('}', f);
    }
    fputs(",\n    \"soak\": ", f);
    if (!a->soak) {
        fputs("null", f);
    } else {
        static const char *const k[] = { "first_latency_us", "last_latency_us", "first_ok_rps", "last_ok_rps",
                                         "latency_drift", "ok_rps_drift" };
        double v[] = { a->first_p, a->last_p, a->first_ok, a->last_ok, a->p_drift, a->ok_drift };
        fputc('{', f);
        numbers(f, k, v, 6);
        fputc('}', f);
    }
    fputs("\n  },\n", f);
}
