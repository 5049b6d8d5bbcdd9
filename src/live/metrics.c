/* metrics.c - Prometheus text and the Pushgateway push (see metrics.h). */
#define _GNU_SOURCE
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "net.h"
#include "rate.h"

#ifndef BARRAGE_VERSION
#define BARRAGE_VERSION "dev"
#endif

static const uint64_t le_us[] = METRICS_LE_US;
#define NLE (sizeof le_us / sizeof le_us[0])

/* A label value: backslash, quote and newline escaped; a byte that is not
 * valid UTF-8 (Prometheus rejects the whole scrape for one) as U+FFFD. */
static void label(FILE *f, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : json_utf8_seq((const unsigned char *)s + i, n - i);
        if (c == '\\') fputs("\\\\", f);
        else if (c == '"') fputs("\\\"", f);
        else if (c == '\n') fputs("\\n", f);
        else if (!k) fputs("\xef\xbf\xbd", f);
        else { fwrite(s + i, 1, k, f); i += k - 1; }
    }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
    family(f, name, "counter", help);
    fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
    family(f, name, "gauge", help);
    fprintf(f, "%s %.17g\n", name, v);
}

/* The buckets, _sum and _count of one histogram; lname/lvalue: an extra
 * label (NULL for none). */
static void histogram(FILE *f, const char *name, const char *lname, const char *lvalue, const hist_t *h)
{
    uint64_t cum = 0;
    size_t i = 0, hi = h->total ? hist_index(h->max) : 0;
    for (size_t k = 0; k < NLE; k++) {
        /* every bucket whose values are all below the bound */
        for (; h->total && i <= hi && i < h->ncounts && hist_highest(i) < le_us[k]; i++) cum += h->counts[i];
        fprintf(f, "%s_bucket{", name);
        if (lname) { fprintf(f, "%s=\"", lname); label(f, lvalue); fputs("\",", f); }
        fprintf(f, "le=\"%g\"} %" PRIu64 "\n", (double)le_us[k] / 1e6, cum);
    }
    fprintf(f, "%s_bucket{", name);
    if (lname) { fprintf(f, "%s=\"", lname); label(f, lvalue); fputs("\",", f); }
    fprintf(f, "le=\"+Inf\"} %" PRIu64 "\n", h->total);
    const char *suffix[] = { "_sum", "_count" };
    for (int k = 0; k < 2; k++) {
        fprintf(f, "%s%s", name, suffix[k]);
        if (lname) { fprintf(f, "{%s=\"", lname); label(f, lvalue); fputs("\"}", f); }
        if (k) fprintf(f, " %" PRIu64 "\n", h->total);
        else fprintf(f, " %.17g\n", h->sum / 1e6);
    }
}

/* Per name: counters (also during the run), latency (final only: the
 * seconds carry no per-name histograms). A name used with several methods is
 * several entries of s (Locust's rows): one series each, summed, so no
 * series is written twice. */
static const stats_t *sort_s; /* qsort's context (the main thread only renders) */
static int by_name(const void *a, const void *b)
{
    return strcmp(sort_s->named[*(const size_t *)a].name, sort_s->named[*(const size_t *)b].name);
}

static void per_name(FILE *f, const stats_t *s, int final)
{
    if (!s->nnamed) return;
    size_t *ix = malloc(s->nnamed * sizeof *ix), n = s->nnamed;
    if (!ix) return;
    for (size_t i = 0; i < n; i++) ix[i] = i;
    sort_s = s;
    qsort(ix, n, sizeof *ix, by_name);
    static const char *const fam[3] = { "barrage_http_reqs_by_name_total", "barrage_http_req_failed_by_name_total",
                                        "barrage_http_req_duration_by_name_seconds" };
    family(f, fam[0], "counter", "requests by script-given name (responses plus failed attempts)");
    for (int pass = 0; pass < (final ? 3 : 2); pass++) {
        if (pass == 1) family(f, fam[1], "counter", "failed requests by script-given name");
        if (pass == 2) family(f, fam[2], "histogram", "response latency by script-given name");
        for (size_t i = 0, j; i < n; i = j) {
            const stats_named_t *e = &s->named[ix[i]];
            uint64_t sum = 0;
            for (j = i; j < n && !strcmp(s->named[ix[j]].name, e->name); j++)
                sum += pass == 0 ? s->named[ix[j]].requests : s->named[ix[j]].failures;
            if (pass < 2) {
                fprintf(f, "%s{name=\"", fam[pass]);
                label(f, e->name);
                fprintf(f, "\"} %" PRIu64 "\n", sum);
            } else if (j == i + 1) {
                histogram(f, fam[2], "name", e->name, &e->latency);
            } else {
                hist_t h;
                if (hist_init(&h)) continue;
                for (size_t k = i; k < j; k++) hist_merge(&h, &s->named[ix[k]].latency);
                histogram(f, fam[2], "name", e->name, &h);
                hist_free(&h);
            }
        }
    }
    free(ix);
}

int metrics_render(const live_state_t *st, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = open_memstream(buf, len);
    if (!f) return -ENOMEM;
    const config_t *c = st->cfg;
    const stats_t *s = st->totals;
    family(f, "barrage_info", "gauge", "the run: barrage's version, the target URL and method");
    fputs("barrage_info{version=\"", f);
    label(f, BARRAGE_VERSION);
    fputs("\",url=\"", f);
    label(f, c->url_text);
    fputs("\",method=\"", f);
    label(f, c->method);
    fputs("\"} 1\n", f);
    gauge(f, "barrage_running", "1 while the run goes on, 0 once it has ended (the final, exact state)", !st->final);
    gauge(f, "barrage_elapsed_seconds", "time since the measurement started", (double)st->elapsed_ns / 1e9);
    counter(f, "barrage_http_reqs_total", "responses received, any status", s->requests);
    counter(f, "barrage_http_req_failed_total",
            "failed requests: socket or protocol errors, and responses with an unexpected status", stats_failed(s));
    counter(f, "barrage_http_req_attempts_total", "responses plus socket or protocol errors", stats_attempts(s));
    family(f, "barrage_http_req_errors_total", "counter", "errors by class (status: responses with an unexpected status)");
    const struct { const char *name; uint64_t v; } cls[] = {
        { "connect", s->errors.connect }, { "read", s->errors.read }, { "write", s->errors.write },
        { "timeout", s->errors.timeout }, { "parse", s->errors.parse }, { "status", s->errors.status },
    };
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++)
        fprintf(f, "barrage_http_req_errors_total{class=\"%s\"} %" PRIu64 "\n", cls[i].name, cls[i].v);
    family(f, "barrage_http_responses_total", "counter", "responses by status code");
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++)
        if (s->status[i]) fprintf(f, "barrage_http_responses_total{code=\"%u\"} %" PRIu64 "\n", i, s->status[i]);
    family(f, "barrage_http_req_duration_seconds", "histogram",
           c->rate > 0 ? "response latency, from each request's intended send time (-R)" : "response latency");
    histogram(f, "barrage_http_req_duration_seconds", NULL, NULL, &s->latency);
    const stats_point_t *last = st->finished && st->series && st->finished <= st->series->n
                                ? &st->series->pts[st->finished - 1] : NULL;
    gauge(f, "barrage_vus", "connections (virtual users) open at the end of the last complete second",
          last ? (double)last->active : 0);
    gauge(f, "barrage_vus_max", "connections (virtual users) at most (-c, or the peak of --stages)", (double)c->connections);
    if (c->stages.n) {
        uint64_t t = st->elapsed_ns; /* past the last stage: the last */
        gauge(f, "barrage_stage", "the current stage of --stages, 0-based", (double)rate_stages_index(&c->stages, t));
        if (c->rate > 0)
            gauge(f, "barrage_rate_target_per_second", "the rate asked for now (--stages with -R)", rate_stages_value(&c->stages, t));
        else
            gauge(f, "barrage_vus_target", "the connections asked for now (--stages)", rate_stages_value(&c->stages, t));
    } else if (c->rate > 0) {
        gauge(f, "barrage_rate_target_per_second", "the rate asked for (-R)", c->rate);
    }
    per_name(f, s, st->final);
    if (st->final) { /* only the merge knows these exactly */
        counter(f, "barrage_data_received_bytes_total", "bytes read from the server", s->bytes);
        counter(f, "barrage_http_reqs_sent_total", "requests written in full", s->sent);
        counter(f, "barrage_connections_opened_total", "connections established", s->connects);
        if (s->nchecks) {
            family(f, "barrage_checks_total", "counter", "check() results by name");
            for (size_t i = 0; i < s->nchecks; i++)
                for (int k = 0; k < 2; k++) {
                    fputs("barrage_checks_total{check=\"", f);
                    label(f, s->checks[i].name);
                    fprintf(f, "\",result=\"%s\"} %" PRIu64 "\n", k ? "fail" : "pass",
                            k ? s->checks[i].fail : s->checks[i].pass);
                }
        }
    }
    int bad = ferror(f);
    if (fclose(f) || bad) { free(*buf); *buf = NULL; *len = 0; return -ENOMEM; }
    return 0;
}

/* ---- the push ---- */

int metrics_push_path(const config_t *cfg, const char *path, char *buf, size_t size)
{
    int n;
    if (strstr(path, "/metrics/job/")) {
        n = snprintf(buf, size, "%s", path);
    } else {
        size_t pl = strlen(path);
        while (pl && path[pl - 1] == '/') pl--;
        if (cfg->shard_count > 1)
            n = snprintf(buf, size, "%.*s/metrics/job/barrage/instance/shard-%u", (int)pl, path, cfg->shard_index);
        else
            n = snprintf(buf, size, "%.*s/metrics/job/barrage", (int)pl, path);
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline) return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR) continue;
        return r < 0 ? -1 : r;
    }
}

#define PUSH_TIMEOUT_MS 5000

int metrics_push(const config_t *cfg, const char *body, size_t len, char *err, size_t errlen)
{
    config_url_t u;
    if (config_parse_url(cfg->metrics_push, &u, err, errlen)) return -1;
    char path[2048], head[2560];
    int rc = -1, fd = -1;
    net_addr_t addr;
    uint64_t deadline = now_ms() + PUSH_TIMEOUT_MS;
    char *path_only = u.path;
    path_only[strcspn(path_only, "?")] = 0;
    if (metrics_push_path(cfg, path_only, path, sizeof path)) { snprintf(err, errlen, "the URL is too long"); goto out; }
    if (net_resolve(u.host, u.port, &addr, 1, err, errlen) < 1) goto out;
    fd = net_connect(&addr);
    if (fd < 0 || wait_fd(fd, POLLOUT, deadline) <= 0 || net_connect_result(fd)) {
        snprintf(err, errlen, "cannot connect to the Pushgateway at %s (is it running? check the URL)", addr.text);
        goto out;
    }
    int hl = snprintf(head, sizeof head, "PUT %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: barrage/%s\r\n"
                      "Content-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      path, u.is_ipv6 ? "[" : "", u.host, u.is_ipv6 ? "]" : "", u.port, BARRAGE_VERSION, len);
    const char *parts[2] = { head, body };
    size_t sizes[2] = { (size_t)hl, len };
    for (int k = 0; k < 2; k++)
        for (size_t off = 0; off < sizes[k];) {
            ssize_t w = send(fd, parts[k] + off, sizes[k] - off, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, deadline) > 0) continue;
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { snprintf(err, errlen, "cannot send to the Pushgateway at %s: %s", addr.text, strerror(errno)); goto out; }
            off += (size_t)w;
        }
    char resp[1024];
    size_t got = 0;
    while (got + 1 < sizeof resp) {
        ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, deadline) > 0) continue;
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    resp[got] = 0;
    int status = 0;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(err, errlen, "no HTTP answer from the Pushgateway at %s within %d s", addr.text, PUSH_TIMEOUT_MS / 1000);
        goto out;
    }
    if (status < 200 || status > 299) {
        const char *b = strstr(resp, "\r\n\r\n");
        b = b ? b + 4 : "";
        snprintf(err, errlen, "the Pushgateway at %s answered %d to PUT %s: %.*s", addr.text, status, path,
                 (int)strcspn(b, "\r\n"), b);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) close(fd);
    config_url_free(&u);
    return rc;
}
