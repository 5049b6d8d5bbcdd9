/* render.c - `barrage report` (render.h): a result file's config turned back
 * into the options of its run, its numbers (result.c, exact) into the run's
 * statistics, series and stages, and then the run's own outputs: report.c's
 * terminal report, report_html/report_csv, and the JSON through result.h's
 * writer with the file's host and config kept as they were. */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "report.h"
#include "result.h"
#include "threshold.h"

#define EXIT_USAGE 2
#define EXIT_WRITE 1

static const char render_usage[] =
"Usage: barrage report RESULT.json [--html FILE] [--csv PREFIX] [--json FILE]\n"
"                      [--threshold EXPR]... [--latency]\n"
"\n"
"Renders a result again (a run's --json, or a `barrage merge` of a fleet): the\n"
"terminal report as the run printed it (with --latency: its percentile table),\n"
"and the run's HTML page, CSV files or JSON. Thresholds: the file's own and\n"
"those given, each evaluated again on the file's numbers (for a merge: the\n"
"merged numbers). Exit codes: 0, 99 a threshold failed, 1 an output not\n"
"written, 2 usage error or a bad result file.\n";

/* "FILE: config.KEY: problem" into err; -1. */
static int bad_config(char *err, size_t n, const result_t *r, const char *key, const char *what)
{
    snprintf(err, n, "%s: config.%s: %s", r->path, key, what);
    return -1;
}

static int cfg_u64(const result_t *r, const char *key, uint64_t *out, char *err, size_t n)
{
    const json_value_t *v = json_get(r->config, key);
    if (!v) return 0; /* older results: the default */
    return json_u64(v, out) ? bad_config(err, n, r, key, "expected a non-negative integer") : 0;
}

static int cfg_ns(const result_t *r, const char *key, uint64_t *out, char *err, size_t n)
{
    const json_value_t *v = json_get(r->config, key);
    double s;
    if (!v || json_is(v, JSON_NULL)) return 0;
    if (json_num(v, &s) || !(s >= 0) || s > 1e9) return bad_config(err, n, r, key, "expected seconds");
    *out = (uint64_t)llround(s * 1e9);
    return 0;
}

static void cfg_bool(const result_t *r, const char *key, int *out)
{
    int b;
    if (!json_bool(json_get(r->config, key), &b)) *out = b;
}

/* The run's options from a result's config (strings borrowed from its document). */
static int config_from_result(config_t *c, const result_t *r, char *err, size_t n)
{
    config_defaults(c);
    const json_value_t *cf = r->config, *v;
    c->url_text = json_str(json_get(cf, "url"));
    if (!c->url_text) return bad_config(err, n, r, "url", "missing (not a run's result?)");
    char uerr[256];
    if (config_parse_url(c->url_text, &c->url, uerr, sizeof uerr)) return bad_config(err, n, r, "url", uerr);
    if (json_str(json_get(cf, "method"))) c->method = json_str(json_get(cf, "method"));
    c->duration_ns = 0;
    if (cfg_u64(r, "threads", &c->threads, err, n) || cfg_u64(r, "connections", &c->connections, err, n) ||
        cfg_u64(r, "requests", &c->requests, err, n) || cfg_ns(r, "duration_s", &c->duration_ns, err, n) ||
        cfg_ns(r, "timeout_s", &c->timeout_ns, err, n) || cfg_ns(r, "connect_timeout_s", &c->connect_timeout_ns, err, n))
        return -1;
    v = json_get(cf, "duration_s");
    c->duration_set = v && !json_is(v, JSON_NULL); /* what the header needs: -d given or no -n */
    if ((v = json_get(cf, "rate")) && (json_num(v, &c->rate) || !(c->rate >= 0)))
        return bad_config(err, n, r, "rate", "expected a non-negative number");
    v = json_get(cf, "stages");
    if (json_is(v, JSON_ARRAY)) {
        if (v->len > RATE_MAX_STAGES) return bad_config(err, n, r, "stages", "too many stages");
        for (size_t i = 0; i < v->len; i++) {
            double d, t;
            if (json_num(json_get(v->items[i], "duration_s"), &d) || json_num(json_get(v->items[i], "target"), &t) ||
                !(d >= 0) || !(t >= 0))
                return bad_config(err, n, r, "stages", "expected {\"duration_s\": S, \"target\": N} entries");
            c->stages.dur_ns[i] = (uint64_t)llround(d * 1e9);
            c->stages.target[i] = t;
        }
        c->stages.n = v->len;
    }
    v = json_get(cf, "headers");
    if (json_is(v, JSON_ARRAY) && v->len) {
        c->headers = calloc(v->len, sizeof *c->headers);
        if (!c->headers) return bad_config(err, n, r, "headers", "out of memory");
        for (size_t i = 0; i < v->len; i++)
            if (json_str(v->items[i])) c->headers[c->nheaders++] = json_str(v->items[i]);
    }
    uint64_t body = 0;
    if (cfg_u64(r, "body_bytes", &body, err, n)) return -1;
    c->body_len = (size_t)body;
    c->script = json_str(json_get(cf, "script"));
    const char *ex = json_str(json_get(cf, "expect_status"));
    if (ex && strcmp(ex, "100-399")) {
        const char *b;
        size_t bl;
        if (stats_expect_parse(&c->expect, ex, &b, &bl)) return bad_config(err, n, r, "expect_status", "not a status list");
        c->expect_text = ex;
    }
    cfg_bool(r, "keepalive", &c->keepalive);
    cfg_bool(r, "pin", &c->pin);
    int verify = 1;
    cfg_bool(r, "tls_verify", &verify);
    c->insecure = !verify;
    cfg_bool(r, "tls_resume", &c->tls_resume);
    return 0;
}

/* The JSON again: the file's host and config as they were, the rest through
 * the writer of --json with the thresholds' new verdicts. */
static int write_json(FILE *f, const result_t *r, const report_run_t *rr)
{
    result_write_head(f);
    result_write_value(f, r->host);
    fputs(",\n  \"config\": ", f);
    result_write_value(f, r->config);
    result_write_times(f, rr->start_unix_ms, rr->start_actual_unix_us, r->duration_s, rr->interrupted, rr->exit_code);
    result_write_stats(f, rr->total, r->duration_s, r->latency_corrected, r->has_service, r->has_schedule, r->has_tls);
    result_write_thresholds(f, rr->th, rr->verdicts, rr->nth);
    result_write_stages(f, rr->stages);
    if (rr->analysis && report_has_analysis(rr->analysis)) result_write_analysis(f, rr->analysis);
    fputs("  \"series\": [", f);
    /* t: whole seconds since the start's second, as the run and merge number them */
    int64_t first = r->start_ms / 1000 - (r->start_ms % 1000 < 0);
    for (size_t i = 0; i < r->npts; i++) {
        int64_t ms = r->pts[i].unix_ms, t = ms / 1000 - (ms % 1000 < 0) - first;
        result_write_point(f, i == 0, t > 0 ? t : 0, &r->pts[i]);
    }
    fputs("]\n}\n", f);
    return ferror(f) ? -EIO : 0;
}

/* --html, --csv, --json. -1 if one could not be written (said why). */
static int write_outputs(const result_t *r, const report_run_t *rr, const char *html, const char *csv,
                         const char *json)
{
    int bad = 0;
    if (json) {
        int out = !strcmp(json, "-");
        FILE *f = out ? stdout : fopen(json, "w");
        int rc = f ? write_json(f, r, rr) : -1;
        if (f && (out ? fflush(f) : fclose(f))) rc = -1;
        if (rc) { fprintf(stderr, "barrage report: --json: cannot write '%s': %s\n", json, strerror(errno)); bad = -1; }
    }
    if (csv) {
        char err[512];
        if (report_csv(csv, rr, err, sizeof err)) { fprintf(stderr, "barrage report: --csv: %s\n", err); bad = -1; }
    }
    if (html) {
        FILE *f = fopen(html, "w");
        int rc = f ? report_html(f, rr) : -1;
        if (f && fclose(f)) rc = -1;
        if (rc) { fprintf(stderr, "barrage report: --html: cannot write '%s': %s\n", html, strerror(errno)); bad = -1; }
    }
    return bad;
}

/* Render the loaded r. */
static int render(const result_t *r, config_t *c, const char **given, size_t ngiven, const char *html,
                  const char *csv, const char *json)
{
    char err[512];
    int rc = EXIT_USAGE;
    size_t cap = r->nthresholds + ngiven + 1, nth = 0;
    const char **exprs = calloc(cap, sizeof *exprs);
    threshold_t *th = calloc(cap, sizeof *th);
    threshold_result_t *v = calloc(cap, sizeof *v);
    stats_point_t *pts = calloc(r->npts + 1, sizeof *pts);
    if (!exprs || !th || !v || !pts) { fprintf(stderr, "barrage report: out of memory\n"); goto out; }
    size_t ne = result_threshold_exprs(r, 1, exprs);
    for (size_t i = 0; i < ngiven; i++) {
        size_t d = 0;
        while (d < ne && strcmp(exprs[d], given[i])) d++;
        if (d == ne) exprs[ne++] = given[i];
    }
    for (size_t i = 0; i < ne; i++) {
        if (threshold_parse(exprs[i], &th[nth], err, sizeof err)) {
            fprintf(stderr, "barrage report: %s\n", err);
            goto out;
        }
        nth++;
    }
    /* the run's per-second series, as the monitor had it */
    for (size_t i = 0; i < r->npts; i++) {
        const result_point_t *p = &r->pts[i];
        pts[i] = (stats_point_t){ .requests = p->requests, .errors = p->errors, .failed = p->failed,
                                  .codes = p->codes, .ncodes = p->ncodes, .active = (uint32_t)p->active,
                                  .stage = (uint32_t)p->stage, .p50 = p->p50, .p90 = p->p90, .p95 = p->p95, .p99 = p->p99,
                                  .max = p->max };
    }
    stats_series_t ser = { .pts = pts, .n = (uint32_t)r->npts, .cap = (uint32_t)r->npts };
    uint64_t elapsed_ns = (uint64_t)llround(r->duration_s * 1e9);
    size_t failed = 0;
    for (size_t i = 0; i < nth; i++) {
        threshold_eval(&th[i], &r->st, r->duration_s, &v[i]);
        failed += !v[i].pass;
    }
    /* the file's exit code, but the thresholds' verdicts are new */
    int exit_code = r->exit_code == 0 || r->exit_code == THRESHOLD_EXIT_FAILED
                  ? (failed ? THRESHOLD_EXIT_FAILED : 0) : r->exit_code;
    analysis_t an; /* from the series again: a merge's too */
    analysis_run(&an, &ser, &c->stages, c->rate > 0);
    report_run_t rr = { .cfg = c, .total = &r->st, .series = &ser, .stages = &r->stages, .elapsed_ns = elapsed_ns,
                        .start_unix_ms = r->start_ms, .start_actual_unix_us = result_start_actual_us(r),
                        .th = th, .verdicts = v, .nth = nth, .interrupted = r->interrupted,
                        .exit_code = exit_code, .analysis = &an };
    FILE *out = json && !strcmp(json, "-") ? stderr : stdout;
    report_header(out, c);
    report_print(out, c, &r->st, elapsed_ns);
    report_stages(out, &r->stages);
    report_analysis(out, &an);
    report_thresholds(out, th, v, nth);
    rc = failed ? THRESHOLD_EXIT_FAILED : 0;
    if (fflush(out) || ferror(out)) {
        fprintf(stderr, "barrage report: cannot write the report: %s\n", strerror(errno));
        rc = EXIT_WRITE;
    }
    if (write_outputs(r, &rr, html, csv, json) && !rc) rc = EXIT_WRITE;
out:
    for (size_t i = 0; i < nth; i++) threshold_free(&th[i]);
    free(exprs);
    free(th);
    free(v);
    free(pts);
    return rc;
}

/* The value of option a (argv[*i]), or NULL after saying it is missing. */
static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "barrage report: %s needs a value (see barrage report --help)\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int render_main(int argc, char **argv)
{
    const char *file = NULL, *html = NULL, *csv = NULL, *json = NULL;
    const char **given = calloc((size_t)argc + 1, sizeof *given);
    size_t ngiven = 0;
    int latency = 0, rc = EXIT_USAGE;
    if (!given) { fprintf(stderr, "barrage report: out of memory\n"); return EXIT_USAGE; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], **slot = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(render_usage, stdout); free(given); return 0; }
        if (!strcmp(a, "--latency")) { latency = 1; continue; }
        if (!strcmp(a, "--html")) slot = &html;
        else if (!strcmp(a, "--csv")) slot = &csv;
        else if (!strcmp(a, "--json")) slot = &json;
        else if (!strcmp(a, "--threshold")) slot = &given[ngiven];
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "barrage report: unknown option '%s' (see barrage report --help)\n", a);
            goto done;
        } else if (file) {
            fprintf(stderr, "barrage report: one result at a time ('%s' and '%s'); merge them first "
                            "(barrage merge A.json B.json -o all.json)\n", file, a);
            goto done;
        } else {
            file = a;
            continue;
        }
        if (!(*slot = value(argc, argv, &i))) goto done;
        if (slot == &given[ngiven]) ngiven++;
    }
    if (!file) {
        fprintf(stderr, "barrage report: no result to render (barrage report RESULT.json [--html FILE])\n");
        goto done;
    }
    result_t r;
    char *paths[1] = { (char *)file };
    if (result_load_all(stderr, "report", paths, 1, &r)) { result_free(&r); goto done; }
    config_t c;
    char err[512];
    if (config_from_result(&c, &r, err, sizeof err)) {
        fprintf(stderr, "barrage report: %s\n", err);
    } else {
        c.latency = latency;
        rc = render(&r, &c, given, ngiven, html, csv, json);
    }
    config_free(&c);
    result_free(&r);
done:
    free(given);
    return rc;
}
