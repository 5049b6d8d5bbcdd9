/* report_csv.c - Locust-compatible CSV files. Column names are Locust's
 * where the concept is the same, so existing spreadsheets keep working:
 * PREFIX_stats.csv (one row per name, then "Aggregated"),
 * PREFIX_stats_history.csv (one row per second), PREFIX_failures.csv, and
 * PREFIX_status.csv (responses by status code; not Locust's). Failure counts
 * are barrage's one definition (stats_failed). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const double pct[] = { 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100 };
#define NPCT (sizeof pct / sizeof pct[0])

static void cell(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Locust reports milliseconds. */
static double ms(uint64_t us) { return (double)us / 1000.0; }

static void stats_row(FILE *f, const char *type, const char *name, uint64_t requests, uint64_t failures,
                      const hist_t *h, double secs, uint64_t bytes)
{
    cell(f, type);
    fputc(',', f);
    cell(f, name);
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%.2f,%.2f,%.2f,%.2f,%.0f,%.2f,%.2f", requests, failures,
            ms(hist_percentile(h, 50)), ms((uint64_t)hist_mean(h)), ms(h->total ? h->min : 0), ms(h->max),
            requests ? (double)bytes / (double)requests : 0.0, secs > 0 ? (double)requests / secs : 0.0,
            secs > 0 ? (double)failures / secs : 0.0);
    for (size_t i = 0; i < NPCT; i++) fprintf(f, ",%.2f", ms(hist_percentile(h, pct[i])));
    fputc('\n', f);
}

static FILE *open_csv(const char *prefix, const char *suffix, char *path, size_t n, char *err, size_t errlen)
{
    snprintf(path, n, "%s_%s.csv", prefix, suffix);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
    return f;
}

int report_csv(const char *prefix, const report_run_t *run, char *err, size_t errlen)
{
    const stats_t *s = run->total;
    double secs = (double)run->elapsed_ns / 1e9;
    char path[1024];
    const char *method = run->cfg->method;

    FILE *f = open_csv(prefix, "stats", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
          "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s", f);
    for (size_t i = 0; i < NPCT; i++) fprintf(f, ",%g%%", pct[i]);
    fputc('\n', f);
    uint64_t failures = stats_failed(s);
    for (size_t i = 0; i < s->nnamed; i++)
        stats_row(f, "", s->named[i].name, s->named[i].requests, s->named[i].failures, &s->named[i].latency,
                  secs, 0);
    if (!s->nnamed) stats_row(f, method, run->cfg->url.path, s->requests, failures, &s->latency, secs, s->bytes);
    stats_row(f, "", "Aggregated", s->requests, failures, &s->latency, secs, s->bytes);
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }

    f = open_csv(prefix, "stats_history", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
          "99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
          "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
          "Total Average Content Size\n", f);
    uint64_t total_req = 0, total_fail = 0;
    for (uint32_t i = 0; run->series && i < run->series->n; i++) {
        const stats_point_t *p = &run->series->pts[i];
        uint64_t fails = p->failed;
        total_req += p->requests;
        total_fail += fails;
        /* a second's percentiles beyond p50/p90/p99/max are not kept: N/A, as Locust writes */
        fprintf(f, "%" PRId64 ",%u,\"\",\"Aggregated\",%" PRIu64 ",%" PRIu64 ",%.2f,N/A,N/A,N/A,%.2f,N/A,N/A,%.2f,"
                   "N/A,N/A,%.2f,%" PRIu64 ",%" PRIu64 ",N/A,N/A,N/A,N/A,N/A\n",
                (run->start_unix_ms / 1000) + i, p->active, p->requests, fails, ms(p->p50), ms(p->p90),
                ms(p->p99), ms(p->max), total_req, total_fail);
    }
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }

    f = open_csv(prefix, "failures", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Method,Name,Error,Occurrences\n", f);
    static const char *const names[] = { "connect", "read", "write", "timeout", "parse" };
    const uint64_t counts[] = { s->errors.connect, s->errors.read, s->errors.write, s->errors.timeout,
                                s->errors.parse };
    static const char *const what[] = {
        "connection failed", "connection closed or reset with a request in flight", "write failed",
        "no response within the timeout", "malformed or unsolicited response",
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (!counts[i]) continue;
        cell(f, method);
        fputc(',', f);
        cell(f, run->cfg->url.path);
        fputc(',', f);
        char e[128];
        snprintf(e, sizeof e, "%s: %s", names[i], what[i]);
        cell(f, e);
        fprintf(f, ",%" PRIu64 "\n", counts[i]);
    }
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++) { /* one row per failed status code */
        if (!s->status[i] || stats_expected(&run->cfg->expect, i)) continue;
        cell(f, method);
        fputc(',', f);
        cell(f, run->cfg->url.path);
        fputc(',', f);
        char e[128];
        snprintf(e, sizeof e, "status %u: HTTP status not expected (--expect-status)", i);
        cell(f, e);
        fprintf(f, ",%" PRIu64 "\n", s->status[i]);
    }
    for (size_t i = 0; i < s->nnamed; i++) {
        if (!s->named[i].failures) continue;
        cell(f, "");
        fputc(',', f);
        cell(f, s->named[i].name);
        fputc(',', f);
        cell(f, "unexpected HTTP status or request error");
        fprintf(f, ",%" PRIu64 "\n", s->named[i].failures);
    }
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }

    /* Responses by status code: per name, then the whole run ("Aggregated"). */
    f = open_csv(prefix, "status", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Name,Status,Count,Counted As\n", f);
    for (size_t i = 0; i < s->nnamed; i++)
        for (uint32_t j = 0; j < s->named[i].ncodes; j++) {
            const stats_code_t *k = &s->named[i].codes[j];
            cell(f, s->named[i].name);
            fprintf(f, ",%u,%" PRIu64 ",%s\n", k->code, k->count,
                    stats_expected(&run->cfg->expect, k->code) ? "expected" : "failed");
        }
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++)
        if (s->status[i])
            fprintf(f, "\"Aggregated\",%u,%" PRIu64 ",%s\n", i, s->status[i],
                    stats_expected(&run->cfg->expect, i) ? "expected" : "failed");
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }
    return 0;
}

/* Python's csv module (Locust's writer) quotes a field only when it holds a
 * comma, a quote or a line break: the same here, so the files compare. */
static void min_cell(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) cell(f, s);
    else fputs(s, f);
}

int report_csv_exceptions(const char *prefix, const stats_t *s, char *err, size_t errlen)
{
    char path[1024];
    FILE *f = open_csv(prefix, "exceptions", path, sizeof path, err, errlen);
    if (!f) return -1;
    fputs("Count,Message,Traceback,Nodes\r\n", f);
    for (size_t i = 0; i < s->nexceptions; i++) {
        fprintf(f, "%" PRIu64 ",", s->exceptions[i].count);
        min_cell(f, s->exceptions[i].message);
        fputc(',', f);
        min_cell(f, s->exceptions[i].location);
        fputs(",local\r\n", f);
    }
    if (fclose(f)) { snprintf(err, errlen, "cannot write '%s'", path); return -1; }
    return 0;
}
