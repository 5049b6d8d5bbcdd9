/* report_json.c - the versioned JSON result (schema: src/result/result.schema.json).
 * Histograms are written losslessly: the bucket layout, the non-empty
 * buckets as [index, count] pairs, and the exact min, max, sum and sum of
 * squares, so `barrage merge` can add runs exactly. */
#include "report.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

void report_json_string(FILE *f, const char *s)
{
    json_write_string(f, s, s ? strlen(s) : 0); /* valid UTF-8 whatever the bytes (json.h) */
}

void report_json_number(FILE *f, double v)
{
    if (!isfinite(v)) fputs("null", f);
    else if (v == floor(v) && fabs(v) < 9e15) fprintf(f, "%.0f", v);
    else { /* the shortest form that reads back as the same double: sums stay exact for merge */
        char buf[40];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
        fputs(buf, f);
    }
}

static void errors(FILE *f, const stats_errors_t *e)
{
    fprintf(f, "{\"connect\": %" PRIu64 ", \"read\": %" PRIu64 ", \"write\": %" PRIu64
               ", \"timeout\": %" PRIu64 ", \"status\": %" PRIu64 ", \"parse\": %" PRIu64 "}",
            e->connect, e->read, e->write, e->timeout, e->status, e->parse);
}

void report_json_codes(FILE *f, const stats_code_t *codes, uint32_t n)
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
    report_json_number(f, hist_mean(h));
    fputs(", \"stdev\": ", f);
    report_json_number(f, hist_stdev(h));
    fputs(", \"percentiles\": {", f);
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
        fprintf(f, "%s\"%g\": %" PRIu64, i ? ", " : "", pct[i], hist_percentile(h, pct[i]));
    fprintf(f, "}, \"histogram\": {\"layout\": \"loglinear-%d-%d\", \"sum\": ", HIST_SUB_BITS, HIST_MAX_BITS);
    report_json_number(f, h->sum);
    fputs(", \"sumsq\": ", f);
    report_json_number(f, h->sumsq);
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

static void host(FILE *f)
{
    char model[256] = "unknown";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[512];
        while (fgets(line, sizeof line, ci)) {
            if (!strncmp(line, "model name", 10)) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ') c++;
                    c[strcspn(c, "\n")] = 0;
                    snprintf(model, sizeof model, "%s", c);
                }
                break;
            }
        }
        fclose(ci);
    }
    struct utsname u;
    char kernel[300] = "unknown", name[256] = "";
    if (uname(&u) == 0) snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
    gethostname(name, sizeof name - 1);
    fputs("{\"cpu_model\": ", f);
    report_json_string(f, model);
    fprintf(f, ", \"cores\": %ld, \"kernel\": ", sysconf(_SC_NPROCESSORS_ONLN));
    report_json_string(f, kernel);
    fputs(", \"hostname\": ", f);
    report_json_string(f, name);
    fputc('}', f);
}

static void config(FILE *f, const config_t *c)
{
    fputs("{\"url\": ", f);
    report_json_string(f, c->url_text);
    fputs(", \"method\": ", f);
    report_json_string(f, c->method);
    fprintf(f, ", \"threads\": %" PRIu64 ", \"connections\": %" PRIu64 ", \"duration_s\": ",
            c->threads, c->connections);
    if (c->duration_set || !c->requests) report_json_number(f, (double)c->duration_ns / 1e9);
    else fputs("null", f);
    fprintf(f, ", \"requests\": %" PRIu64 ", \"timeout_s\": ", c->requests);
    report_json_number(f, (double)c->timeout_ns / 1e9);
    fputs(", \"connect_timeout_s\": ", f);
    report_json_number(f, (double)(c->connect_timeout_ns ? c->connect_timeout_ns : c->timeout_ns) / 1e9);
    fputs(", \"rate\": ", f);
    report_json_number(f, c->rate);
    fputs(", \"stages\": [", f);
    for (size_t i = 0; i < c->stages.n; i++) {
        fprintf(f, "%s{\"duration_s\": ", i ? ", " : "");
        report_json_number(f, (double)c->stages.dur_ns[i] / 1e9);
        fputs(", \"target\": ", f);
        report_json_number(f, c->stages.target[i]);
        fputc('}', f);
    }
    fputs("], \"headers\": [", f);
    for (size_t i = 0; i < c->nheaders; i++) {
        if (i) fputs(", ", f);
        report_json_string(f, c->headers[i]);
    }
    fprintf(f, "], \"body_bytes\": %zu, \"script\": ", c->body_len);
    if (c->script) report_json_string(f, c->script);
    else fputs("null", f);
    fprintf(f, ", \"shard\": ");
    if (c->shard_count > 1) fprintf(f, "{\"index\": %u, \"count\": %u}", c->shard_index, c->shard_count);
    else fputs("null", f);
    fputs(", \"expect_status\": ", f);
    report_json_string(f, c->expect_text ? c->expect_text : "100-399");
    fprintf(f, ", \"keepalive\": %s, \"pin\": %s, \"tls_verify\": %s, \"tls_resume\": %s}",
            c->keepalive ? "true" : "false", c->pin ? "true" : "false",
            c->insecure ? "false" : "true", c->tls_resume ? "true" : "false");
}

void report_json_stats(FILE *f, const stats_t *s, double secs, int corrected, int service, int schedule,
                       int tls)
{
    fprintf(f, "  \"summary\": {\"requests\": %" PRIu64 ", \"sent\": %" PRIu64 ", \"bytes\": %" PRIu64
               ", \"connects\": %" PRIu64 ", \"rps\": ", s->requests, s->sent, s->bytes, s->connects);
    report_json_number(f, secs > 0 ? (double)s->requests / secs : 0);
    fputs(", \"bytes_per_s\": ", f);
    report_json_number(f, secs > 0 ? (double)s->bytes / secs : 0);
    fputs(", \"errors\": ", f);
    errors(f, &s->errors);
    fprintf(f, ", \"failed\": %" PRIu64 ", \"attempts\": %" PRIu64 ", \"failed_rate\": ", stats_failed(s),
            stats_attempts(s));
    report_json_number(f, stats_attempts(s) ? (double)stats_failed(s) / (double)stats_attempts(s) : 0);
    fputs(", \"status\": ", f);
    status_counts(f, s->status);
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
        report_json_string(f, s->tls_info);
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
        report_json_string(f, n->name);
        fprintf(f, ", \"requests\": %" PRIu64 ", \"failures\": %" PRIu64 ", \"rps\": ", n->requests, n->failures);
        report_json_number(f, secs > 0 ? (double)n->requests / secs : 0);
        fputs(", \"status\": ", f);
        report_json_codes(f, n->codes, n->ncodes);
        fputs(", \"latency\": ", f);
        dist(f, &n->latency, "us");
        fputc('}', f);
    }
    fputs("],\n  \"checks\": [", f);
    for (size_t i = 0; i < s->nchecks; i++) {
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        report_json_string(f, s->checks[i].name);
        fprintf(f, ", \"pass\": %" PRIu64 ", \"fail\": %" PRIu64 "}", s->checks[i].pass, s->checks[i].fail);
    }
    fputs("],\n", f);
}

int report_json(FILE *f, const report_run_t *run)
{
    const stats_t *s = run->total;
    const config_t *c = run->cfg;
    double secs = (double)run->elapsed_ns / 1e9;
    char when[64];
    time_t t = (time_t)(run->start_unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(run->start_unix_ms % 1000));

    fprintf(f, "{\n  \"schema\": \"%s\",\n  \"tool\": {\"name\": \"barrage\", \"version\": ", REPORT_SCHEMA);
    report_json_string(f, BARRAGE_VERSION);
    fputs("},\n  \"host\": ", f);
    host(f);
    fputs(",\n  \"config\": ", f);
    config(f, c);
    fprintf(f, ",\n  \"start\": \"%s\",\n  \"start_unix_ms\": %" PRId64 ",\n  \"start_actual_unix_us\": %" PRId64
               ",\n  \"duration_s\": ", when, run->start_unix_ms, run->start_actual_unix_us);
    report_json_number(f, secs);
    fprintf(f, ",\n  \"interrupted\": %s,\n  \"exit_code\": %d,\n", run->interrupted ? "true" : "false",
            run->exit_code);
    int rate = c->rate > 0;
    report_json_stats(f, s, secs, rate, rate, rate, !strcmp(c->url.scheme, "https"));
    fputs("  \"thresholds\": [", f);
    for (size_t i = 0; i < run->nth; i++) {
        fputs(i ? ", {\"expr\": " : "{\"expr\": ", f);
        report_json_string(f, run->th[i].expr);
        fputs(", \"measured\": ", f);
        report_json_number(f, run->verdicts[i].measured);
        fprintf(f, ", \"pass\": %s, \"note\": ", run->verdicts[i].pass ? "true" : "false");
        if (run->verdicts[i].note) report_json_string(f, run->verdicts[i].note);
        else fputs("null", f);
        fputc('}', f);
    }
    fputs("],\n  \"series\": [", f);
    const stats_series_t *ser = run->series;
    for (uint32_t i = 0; ser && i < ser->n; i++) {
        const stats_point_t *p = &ser->pts[i];
        fprintf(f, "%s\n    {\"t\": %u, \"unix_ms\": %" PRId64 ", \"requests\": %" PRIu64 ", \"errors\": ",
                i ? "," : "", i, run->start_unix_ms + (int64_t)i * 1000, p->requests);
        errors(f, &p->errors);
        fprintf(f, ", \"failed\": %" PRIu64 ", \"status\": ", p->failed);
        report_json_codes(f, p->codes, p->ncodes);
        fprintf(f, ", \"active\": %u, \"stage\": %u, \"p50\": %" PRIu64 ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64
                   ", \"max\": %" PRIu64 "}", p->active, p->stage, p->p50, p->p90, p->p99, p->max);
    }
    fputs("]\n}\n", f);
    return ferror(f) ? -EIO : 0;
}
