/* web.c - the live dashboard (see web.h): routes, the once-a-second
 * snapshot, the controls, the final page. */
#define _GNU_SOURCE
#include "web.h"
#include "httpd.h"
#include "result.h"
#include "threshold.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web_page.h" /* generated from src/live/web_page.html: web_page[] */

struct web {
    httpd_t *h;
    const config_t *cfg;
    control_t *ctl;
    void (*stop)(void);
    pthread_mutex_t mu;
    char *snap;          /* the latest "tick" JSON (one line), under mu */
    size_t snap_len;
    int done;            /* web_done ran (under mu) */
    char url[96];
};

/* ---- requests ------------------------------------------------------------ */

/* The value of key in a form (query or x-www-form-urlencoded body) into
 * out: 0, or -1 when absent or too long. Values here are numbers: no
 * percent-decoding. */
static int form_value(const char *form, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = form; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) || p[kl] != '=') continue;
        const char *v = p + kl + 1;
        size_t n = strcspn(v, "&\r\n");
        if (n >= cap) return -1;
        memcpy(out, v, n);
        out[n] = 0;
        return 0;
    }
    return -1;
}

static int param(const httpd_request_t *rq, const char *key, char *out, size_t cap)
{
    return form_value(rq->query, key, out, cap) && form_value(rq->body, key, out, cap) ? -1 : 0;
}

static void answer(httpd_response_t *res, int status, const char *msg)
{
    char *b = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&b, &n);
    if (!f) { res->status = 500; return; }
    fprintf(f, "{\"ok\": %s, \"message\": ", status == 200 ? "true" : "false");
    result_write_string(f, msg);
    fputs("}\n", f);
    fclose(f);
    res->status = status;
    res->content_type = "application/json";
    res->body = b;
    res->body_len = n;
}

static int post_only(const httpd_request_t *rq, httpd_response_t *res)
{
    if (!strcmp(rq->method, "POST")) return 0;
    answer(res, 405, "use POST");
    return -1;
}

static int on_events(void *ctx, const httpd_request_t *rq, httpd_response_t *res)
{
    (void)rq;
    web_t *w = ctx;
    res->sse = 1;
    pthread_mutex_lock(&w->mu);
    /* a new page gets the latest snapshot at once */
    size_t cap = w->snap_len + 64;
    char *b = malloc(cap);
    if (b) {
        int n = w->snap ? snprintf(b, cap, "retry: 1000\nevent: tick\ndata: %s\n\n", w->snap)
                        : snprintf(b, cap, "retry: 1000\n\n");
        res->body = b;
        res->body_len = n > 0 ? (size_t)n : 0;
    }
    pthread_mutex_unlock(&w->mu);
    return 0;
}

static int on_stop(void *ctx, const httpd_request_t *rq, httpd_response_t *res)
{
    web_t *w = ctx;
    if (post_only(rq, res)) return 0;
    pthread_mutex_lock(&w->mu);
    int over = w->done;
    pthread_mutex_unlock(&w->mu);
    if (over) { answer(res, 409, "the run is over"); return 0; }
    if (control_stop(w->ctl)) { answer(res, 409, "the run is already stopping"); return 0; }
    w->stop();
    answer(res, 200, "stopping: the report follows");
    return 0;
}

static int on_users(void *ctx, const httpd_request_t *rq, httpd_response_t *res)
{
    web_t *w = ctx;
    if (post_only(rq, res)) return 0;
    char v[32], err[256], *end;
    if (param(rq, "n", v, sizeof v) || !v[0] || strspn(v, "0123456789") != strlen(v)) {
        answer(res, 400, "give the number of users as n=N (a whole number, e.g. n=50)");
        return 0;
    }
    unsigned long long n = strtoull(v, &end, 10);
    if (control_users(w->ctl, n, err, sizeof err)) { answer(res, 400, err); return 0; }
    snprintf(err, sizeof err, "users: %llu", n);
    answer(res, 200, err);
    return 0;
}

static int on_rate(void *ctx, const httpd_request_t *rq, httpd_response_t *res)
{
    web_t *w = ctx;
    if (post_only(rq, res)) return 0;
    char v[32], err[256], *end;
    double r = 0;
    if (param(rq, "r", v, sizeof v) || !v[0] || (r = strtod(v, &end), *end)) {
        answer(res, 400, "give the rate as r=N requests/s (e.g. r=500)");
        return 0;
    }
    if (control_rate(w->ctl, r, err, sizeof err)) { answer(res, 400, err); return 0; }
    snprintf(err, sizeof err, "rate: %g requests/s", r);
    answer(res, 200, err);
    return 0;
}

/* ---- set-up -------------------------------------------------------------- */

int web_new(web_t **out, const config_t *cfg, char *err, size_t errlen)
{
    *out = NULL;
    web_t *w = calloc(1, sizeof *w);
    if (!w) { snprintf(err, errlen, "out of memory"); return -1; }
    w->cfg = cfg;
    pthread_mutex_init(&w->mu, NULL);
    if (httpd_new(&w->h, cfg->web, "--web", err, errlen)) { web_free(w); return -1; }
    snprintf(w->url, sizeof w->url, "%s/", httpd_url(w->h));
    static const char starting[] = "{\"state\": \"starting\"}\n";
    if (httpd_publish(w->h, "/", "text/html; charset=utf-8", web_page, sizeof web_page) ||
        httpd_publish(w->h, "/snapshot.json", "application/json", starting, sizeof starting - 1) ||
        httpd_route(w->h, "/events", on_events, w) || httpd_route(w->h, "/stop", on_stop, w) ||
        httpd_route(w->h, "/users", on_users, w) || httpd_route(w->h, "/rate", on_rate, w)) {
        snprintf(err, errlen, "--web: cannot set up the dashboard's routes");
        web_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

const char *web_url(const web_t *w) { return w->url; }
int web_loopback(const web_t *w) { return httpd_loopback(w->h); }

int web_start(web_t *w, control_t *ctl, void (*stop)(void))
{
    w->ctl = ctl;
    w->stop = stop;
    return httpd_start(w->h);
}

/* ---- the snapshot -------------------------------------------------------- */

static void write_chart(FILE *f, const char *key, const report_run_t *run, report_chart_kind_t which)
{
    char *b = NULL;
    size_t n = 0;
    FILE *c = open_memstream(&b, &n);
    if (!c) return;
    report_chart(c, run, which);
    fclose(c);
    fprintf(f, "\"%s\": ", key);
    result_write_string(f, b ? b : "");
    free(b);
}

static void write_hist(FILE *f, const hist_t *h)
{
    fprintf(f, "{\"count\": %" PRIu64 ", \"p50\": %" PRIu64 ", \"p95\": %" PRIu64 ", \"p99\": %" PRIu64
               ", \"max\": %" PRIu64 "}",
            h->total, hist_percentile(h, 50), hist_percentile(h, 95), hist_percentile(h, 99), h->max);
}

static void write_snapshot(FILE *f, web_t *w, const report_run_t *run, uint32_t seconds)
{
    const config_t *c = run->cfg;
    const stats_t *s = run->total;
    double secs = (double)run->elapsed_ns / 1e9;
    fputs("{\"state\": \"running\", \"url\": ", f);
    result_write_string(f, c->url_text);
    fprintf(f, ", \"t\": %.3f, \"duration_s\": ", secs);
    if (c->duration_set || !c->requests) result_write_number(f, (double)c->duration_ns / 1e9);
    else fputs("null", f);
    fprintf(f, ", \"requests\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"attempts\": %" PRIu64 ", \"errors\": ",
            s->requests, stats_failed(s), stats_attempts(s));
    result_write_errors(f, &s->errors);
    fputs(", \"status\": {", f);
    for (uint32_t i = 0, k = 0; i < STATS_STATUS_MAX; i++)
        if (s->status[i]) fprintf(f, "%s\"%u\": %" PRIu64, k++ ? ", " : "", i, s->status[i]);
    fputs("}, \"latency\": ", f);
    write_hist(f, &s->latency);
    fputs(", \"last\": ", f);
    if (seconds && run->series && seconds <= run->series->n) {
        const stats_point_t *p = &run->series->pts[seconds - 1];
        uint64_t sock = stats_error_total(&p->errors), bad = p->failed > sock ? p->failed - sock : 0;
        fprintf(f, "{\"second\": %u, \"requests\": %" PRIu64 ", \"ok\": %" PRIu64 ", \"failed\": %" PRIu64
                   ", \"active\": %u, \"stage\": %u, \"p50\": %" PRIu64 ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64
                   ", \"max\": %" PRIu64 "}",
                seconds - 1, p->requests, p->requests > bad ? p->requests - bad : 0, p->failed, p->active,
                p->stage, p->p50, p->p90, p->p99, p->max);
    } else {
        fputs("null", f);
    }
    int64_t users;
    double rate;
    control_targets(w->ctl, &users, &rate);
    fprintf(f, ", \"connections\": %" PRIu64 ", \"users_target\": ", c->connections);
    if (users >= 0) fprintf(f, "%" PRId64, users);
    else fputs("null", f);
    fputs(", \"rate_target\": ", f);
    result_write_number(f, rate);
    fputs(", \"stage\": ", f);
    if (c->stages.n) {
        uint64_t t = run->elapsed_ns;
        fprintf(f, "{\"index\": %zu, \"count\": %zu, \"target\": ", rate_stages_index(&c->stages, t), c->stages.n);
        result_write_number(f, rate_stages_value(&c->stages, t));
        fprintf(f, ", \"of\": \"%s\"}", c->rate > 0 ? "rate" : "users");
    } else {
        fputs("null", f);
    }
    fputs(", \"names\": [", f);
    for (size_t i = 0; i < s->nnamed; i++) {
        const stats_named_t *n = &s->named[i];
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        result_write_string(f, n->name);
        fprintf(f, ", \"requests\": %" PRIu64 ", \"failures\": %" PRIu64 ", \"latency\": ", n->requests, n->failures);
        write_hist(f, &n->latency);
        fputc('}', f);
    }
    fputs("], \"checks\": ", f);
    result_write_checks(f, s);
    fputs(", \"thresholds\": [", f);
    for (size_t i = 0; i < run->nth; i++) {
        threshold_result_t v;
        threshold_eval(&run->th[i], s, secs, &v);
        char b[64];
        fputs(i ? ", {\"expr\": " : "{\"expr\": ", f);
        result_write_string(f, run->th[i].expr);
        fprintf(f, ", \"pass\": %s, \"measured\": ", v.pass ? "true" : "false");
        result_write_string(f, threshold_format_value(&run->th[i], v.measured, b, sizeof b));
        fputs(", \"note\": ", f);
        if (v.note) result_write_string(f, v.note);
        else fputs("null", f);
        fputc('}', f);
    }
    fputs("], \"events\": ", f);
    report_json_events(f, run);
    fputs(", \"charts\": {", f);
    /* the report's time charts over the complete seconds only */
    if (run->series && seconds > run->series->n) seconds = run->series->n; /* a second lost to -ENOMEM */
    stats_series_t view = { .pts = run->series ? run->series->pts : NULL, .n = seconds };
    report_run_t r = *run;
    r.series = &view;
    r.elapsed_ns = (uint64_t)seconds * 1000000000u;
    write_chart(f, "rps", &r, REPORT_CHART_RPS);
    fputs(", ", f);
    write_chart(f, "latency", &r, REPORT_CHART_LATENCY);
    fputs(", ", f);
    write_chart(f, "errors", &r, REPORT_CHART_ERRORS);
    fputs("}}", f);
}

void web_tick(web_t *w, const report_run_t *run, uint32_t seconds)
{
    char *b = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&b, &n);
    if (!f) return;
    write_snapshot(f, w, run, seconds);
    if (fclose(f) || !b) { free(b); return; }
    httpd_broadcast(w->h, "tick", b, n);
    httpd_publish(w->h, "/snapshot.json", "application/json", b, n);
    pthread_mutex_lock(&w->mu);
    free(w->snap);
    w->snap = b;
    w->snap_len = n;
    pthread_mutex_unlock(&w->mu);
}

void web_done(web_t *w, const report_run_t *run)
{
    char *b = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&b, &n);
    if (!f) return;
    int rc = report_html(f, run);
    if (fclose(f) || rc || !b) { free(b); return; }
    httpd_publish(w->h, "/", "text/html; charset=utf-8", b, n);
    httpd_broadcast(w->h, "done", b, n);
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_mutex_unlock(&w->mu);
    free(b);
}

void web_flush(web_t *w, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms && httpd_unsent(w->h); waited += 10) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
}

void web_free(web_t *w)
{
    if (!w) return;
    httpd_free(w->h);
    pthread_mutex_destroy(&w->mu);
    free(w->snap);
    free(w);
}
