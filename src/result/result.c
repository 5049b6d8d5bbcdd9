/* result.c - reading a result file (result.h).
 *
 * Each file is parsed (json.c) and checked against the parts of
 * src/result/result.schema.json this code uses; every distribution is rebuilt
 * into a hist_t from its buckets, each [index, count] pair recorded as `count`
 * values at hist_highest(index) (the value every bucket reports), after which
 * the exact count/min/max/sum/sumsq of the file replace the summary the
 * bucket values would give. A result then lives in a stats_t, so merging is
 * stats_merge (exact: counts add bucket by bucket) and every percentile is
 * hist_percentile, the same code and rank rule as a single run. */
#define _GNU_SOURCE
#include "result.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "stats.h"

typedef struct loader {
    const char *path;
    char *err;
    size_t errlen;
    hist_t tmp;                  /* scratch for per-name distributions */
} loader_t;

/* "FILE: WHERE: message". Returns -1. */
static int bad(const loader_t *L, const char *where, const char *fmt, ...)
{
    int n = snprintf(L->err, L->errlen, "%s: %s%s", L->path, where, where[0] ? ": " : "");
    if (n >= 0 && (size_t)n < L->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void join(char *buf, size_t size, const char *where, const char *key)
{
    snprintf(buf, size, "%s%s%s", where, where[0] ? "." : "", key);
}

/* obj[key] of the given type, or NULL after saying what is wrong. */
static const json_value_t *need(const loader_t *L, const json_value_t *obj, const char *where, const char *key,
                                json_type_t type)
{
    char w[256];
    join(w, sizeof w, where, key);
    const json_value_t *v = json_get(obj, key);
    if (!v) { bad(L, w, "missing"); return NULL; }
    int ok = v->type == type || (type == JSON_TRUE && v->type == JSON_FALSE);
    if (!ok) {
        static const char *const names[] = { "null", "a boolean", "a boolean", "a number", "a string",
                                             "an array", "an object" };
        bad(L, w, "expected %s, got %s", names[type], json_type_name(v));
        return NULL;
    }
    return v;
}

static int need_u64(const loader_t *L, const json_value_t *obj, const char *where, const char *key, uint64_t *out)
{
    const json_value_t *v = need(L, obj, where, key, JSON_NUMBER);
    if (!v) return -1;
    if (json_u64(v, out)) {
        char w[256];
        join(w, sizeof w, where, key);
        return bad(L, w, "expected a non-negative integer, got %g", v->num);
    }
    return 0;
}

static int need_num(const loader_t *L, const json_value_t *obj, const char *where, const char *key, double *out)
{
    const json_value_t *v = need(L, obj, where, key, JSON_NUMBER);
    return v ? json_num(v, out) : -1;
}

static int need_bool(const loader_t *L, const json_value_t *obj, const char *where, const char *key, int *out)
{
    const json_value_t *v = need(L, obj, where, key, JSON_TRUE);
    return v ? json_bool(v, out) : -1;
}

static int load_errors(const loader_t *L, const json_value_t *obj, const char *where, const char *key,
                       stats_errors_t *e)
{
    char w[256];
    join(w, sizeof w, where, key);
    const json_value_t *v = need(L, obj, where, key, JSON_OBJECT);
    if (!v) return -1;
    return need_u64(L, v, w, "connect", &e->connect) || need_u64(L, v, w, "read", &e->read) ||
           need_u64(L, v, w, "write", &e->write) || need_u64(L, v, w, "timeout", &e->timeout) ||
           need_u64(L, v, w, "status", &e->status) || need_u64(L, v, w, "parse", &e->parse) ? -1 : 0;
}

/* An optional "status" object ({"200": N, ...}; absent in older results):
 * each code is added to list/n, or (list NULL) into the array all. */
static int load_codes(const loader_t *L, const json_value_t *obj, const char *where, stats_code_t **list,
                      uint32_t *n, uint64_t *all)
{
    const json_value_t *v = json_get(obj, "status");
    if (!v) return 0;
    char w[256];
    join(w, sizeof w, where, "status");
    if (!json_is(v, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(v));
    for (size_t i = 0; i < v->len; i++) {
        const char *k = json_key_at(v, i);
        char *end;
        unsigned long code = strtoul(k, &end, 10);
        uint64_t count;
        if (!*k || *end || code >= STATS_STATUS_MAX) return bad(L, w, "'%s' is not a status code", k);
        if (json_u64(json_value_at(v, i), &count)) return bad(L, w, "\"%s\": expected a count", k);
        if (all) all[code] += count;
        else if (stats_code_add(list, n, (uint32_t)code, count)) return bad(L, w, "out of memory");
    }
    return 0;
}

/* A distribution (schema $defs/distribution) into the empty histogram h. */
static int load_hist(const loader_t *L, const json_value_t *d, const char *where, hist_t *h)
{
    char w[256], layout[32];
    if (!json_is(d, JSON_OBJECT)) return bad(L, where, "expected an object, got %s", json_type_name(d));
    uint64_t count, min, max;
    double sum, sumsq;
    if (need_u64(L, d, where, "count", &count) || need_u64(L, d, where, "min", &min) ||
        need_u64(L, d, where, "max", &max))
        return -1;
    const json_value_t *hv = need(L, d, where, "histogram", JSON_OBJECT);
    if (!hv) return -1;
    join(w, sizeof w, where, "histogram");
    const json_value_t *lv = need(L, hv, w, "layout", JSON_STRING);
    if (!lv) return -1;
    snprintf(layout, sizeof layout, "loglinear-%d-%d", HIST_SUB_BITS, HIST_MAX_BITS);
    if (strcmp(lv->str, layout)) {
        char w2[300];
        join(w2, sizeof w2, w, "layout");
        return bad(L, w2, "unknown histogram layout '%s' (this barrage reads '%s')", lv->str, layout);
    }
    if (need_num(L, hv, w, "sum", &sum) || need_num(L, hv, w, "sumsq", &sumsq)) return -1;
    const json_value_t *bv = need(L, hv, w, "buckets", JSON_ARRAY);
    if (!bv) return -1;
    uint64_t total = 0;
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t i = 0; i < bv->len; i++) {
        const json_value_t *pair = bv->items[i];
        uint64_t index, c;
        char wb[300];
        snprintf(wb, sizeof wb, "%s.buckets[%zu]", w, i);
        if (!json_is(pair, JSON_ARRAY) || pair->len != 2 || json_u64(pair->items[0], &index) ||
            json_u64(pair->items[1], &c))
            return bad(L, wb, "expected [index, count] (two non-negative integers)");
        if (index >= h->ncounts)
            return bad(L, wb, "bucket index %" PRIu64 " out of range (at most %zu)", index, h->ncounts - 1);
        if (c > UINT64_MAX - total) return bad(L, wb, "counts overflow");
        total += c;
        if (!c) continue;
        hist_record_n(h, hist_highest((size_t)index), c);
        if (index < lo) lo = (size_t)index;
        if (index > hi) hi = (size_t)index;
    }
    if (total != count)
        return bad(L, where, "the buckets hold %" PRIu64 " values but count is %" PRIu64, total, count);
    if (!count) {
        hist_reset(h);
        return 0;
    }
    /* hist_merge and hist_percentile scan [index(min), index(max)]: both
     * must name the outermost non-empty buckets. */
    if (min > max || max > HIST_MAX_VALUE || hist_index(min) != lo || hist_index(max) != hi)
        return bad(L, where, "min %" PRIu64 " and max %" PRIu64 " disagree with the buckets", min, max);
    h->min = min;
    h->max = max;
    h->sum = sum;
    h->sumsq = sumsq;
    return 0;
}

/* A distribution or null; *present says which. */
static int load_opt_hist(const loader_t *L, const json_value_t *root, const char *key, hist_t *h, int *present)
{
    const json_value_t *v = json_get(root, key);
    if (!v) return bad(L, key, "missing");
    *present = !json_is(v, JSON_NULL);
    return *present ? load_hist(L, v, key, h) : 0;
}

/* Element i of the array `arr` (names, checks): an object with a string
 * "name" and two counts k1, k2. Its path ("names[3]") goes to w for the
 * caller's own messages. 0, or -1 with the message set. */
static int named_entry(const loader_t *L, const json_value_t *e, const char *arr, size_t i, char *w,
                       size_t wn, const json_value_t **name, const char *k1, uint64_t *v1,
                       const char *k2, uint64_t *v2)
{
    snprintf(w, wn, "%s[%zu]", arr, i);
    if (!json_is(e, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(e));
    if (!(*name = need(L, e, w, "name", JSON_STRING)) || need_u64(L, e, w, k1, v1) || need_u64(L, e, w, k2, v2))
        return -1;
    return 0;
}

/* A name's "failure_reasons" (optional: older results have none), added into n. */
static int load_reasons(const loader_t *L, const json_value_t *e, const char *where, stats_named_t *n)
{
    const json_value_t *v = json_get(e, "failure_reasons");
    if (!v) return 0;
    char w[256];
    join(w, sizeof w, where, "failure_reasons");
    if (!json_is(v, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(v));
    for (size_t i = 0; i < v->len; i++) {
        const char *k = json_key_at(v, i);
        uint64_t count;
        if (json_u64(json_value_at(v, i), &count) || count > INT64_MAX)
            return bad(L, w, "\"%s\": expected a count", k);
        if (stats_reason_add(n, k, strlen(k), (int64_t)count)) return bad(L, w, "out of memory");
    }
    return 0;
}

/* "exceptions" and "user_classes" (optional: older results have neither). */
static int load_users(const loader_t *L, const json_value_t *root, stats_t *st)
{
    const json_value_t *a = json_get(root, "exceptions");
    if (a && !json_is(a, JSON_ARRAY)) return bad(L, "exceptions", "expected an array, got %s", json_type_name(a));
    for (size_t i = 0; a && i < a->len; i++) {
        char w[64];
        snprintf(w, sizeof w, "exceptions[%zu]", i);
        const json_value_t *e = a->items[i], *m, *loc;
        uint64_t count;
        if (!json_is(e, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(e));
        if (!(m = need(L, e, w, "message", JSON_STRING)) || !(loc = need(L, e, w, "location", JSON_STRING)) ||
            need_u64(L, e, w, "count", &count))
            return -1;
        if (stats_exception_add(st, m->str, loc->str, count)) return bad(L, w, "out of memory");
    }
    a = json_get(root, "user_classes");
    if (a && !json_is(a, JSON_ARRAY)) return bad(L, "user_classes", "expected an array, got %s", json_type_name(a));
    for (size_t i = 0; a && i < a->len; i++) {
        char w[64];
        snprintf(w, sizeof w, "user_classes[%zu]", i);
        const json_value_t *e = a->items[i], *n;
        uint64_t users;
        if (!json_is(e, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(e));
        if (!(n = need(L, e, w, "name", JSON_STRING)) || need_u64(L, e, w, "users", &users)) return -1;
        if (stats_class_add(st, n->str, users)) return bad(L, w, "out of memory");
    }
    return 0;
}

static int load_names(const loader_t *L, const json_value_t *root, stats_t *st, hist_t *tmp)
{
    const json_value_t *a = need(L, root, "", "names", JSON_ARRAY);
    if (!a) return -1;
    for (size_t i = 0; i < a->len; i++) {
        char w[64];
        const json_value_t *n = a->items[i], *nv;
        uint64_t req, fail;
        if (named_entry(L, n, "names", i, w, sizeof w, &nv, "requests", &req, "failures", &fail)) return -1;
        char wl[80];
        join(wl, sizeof wl, w, "latency");
        hist_reset(tmp);
        if (load_hist(L, json_get(n, "latency"), wl, tmp)) return -1;
        const json_value_t *mv = json_get(n, "method"), *bv = json_get(n, "bytes"); /* optional: older results */
        if (mv && !json_is(mv, JSON_STRING)) return bad(L, w, "\"method\" must be a string");
        uint64_t bytes = 0;
        if (bv && need_u64(L, n, w, "bytes", &bytes)) return -1;
        int k = stats_named_key(st, mv ? mv->str : "", nv->str);
        if (k < 0) return bad(L, w, "out of memory");
        st->named[k].bytes += bytes;
        if (load_codes(L, n, w, &st->named[k].codes, &st->named[k].ncodes, NULL)) return -1;
        st->named[k].requests += req;
        st->named[k].failures += fail;
        hist_merge(&st->named[k].latency, tmp);
        if (load_reasons(L, n, w, &st->named[k])) return -1;
    }
    a = need(L, root, "", "checks", JSON_ARRAY);
    if (!a) return -1;
    for (size_t i = 0; i < a->len; i++) {
        char w[64];
        const json_value_t *nv;
        uint64_t pass, fail;
        if (named_entry(L, a->items[i], "checks", i, w, sizeof w, &nv, "pass", &pass, "fail", &fail)) return -1;
        int k = stats_check_index(st, nv->str);
        if (k < 0) return bad(L, w, "out of memory");
        st->checks[k].pass += pass;
        st->checks[k].fail += fail;
    }
    return load_users(L, root, st);
}

/* The optional "stages" array (results of runs without --stages, older results: none). */
static int load_stages(const loader_t *L, const json_value_t *root, stages_t *g)
{
    const json_value_t *a = json_get(root, "stages");
    if (!a) return 0;
    if (!json_is(a, JSON_ARRAY)) return bad(L, "stages", "expected an array, got %s", json_type_name(a));
    rate_stages_t plan = { .n = a->len };
    if (a->len > RATE_MAX_STAGES) return bad(L, "stages", "more than %d stages", RATE_MAX_STAGES);
    if (stages_init(g, &plan, 0)) return bad(L, "stages", "out of memory");
    for (size_t i = 0; i < a->len; i++) {
        char w[64], wl[80];
        snprintf(w, sizeof w, "stages[%zu]", i);
        const json_value_t *e = a->items[i], *unit;
        stage_sum_t *s = &g->s[i];
        uint64_t seconds;
        if (!json_is(e, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(e));
        if (need_num(L, e, w, "start_s", &s->start_s) || need_num(L, e, w, "end_s", &s->end_s) ||
            need_num(L, e, w, "target", &s->target) || need_num(L, e, w, "duration_s", &s->duration_s) ||
            need_u64(L, e, w, "seconds", &seconds) || need_u64(L, e, w, "users", &s->users) ||
            need_num(L, e, w, "users_mean", &s->users_mean) || need_u64(L, e, w, "requests", &s->requests) ||
            need_u64(L, e, w, "ok", &s->ok) || need_u64(L, e, w, "failed", &s->failed) ||
            load_errors(L, e, w, "errors", &s->errors) || !(unit = need(L, e, w, "target_unit", JSON_STRING)))
            return -1;
        if (seconds > UINT32_MAX) return bad(L, w, "seconds out of range");
        s->seconds = (uint32_t)seconds;
        g->rate = !strcmp(unit->str, "requests/s");
        join(wl, sizeof wl, w, "latency");
        if (load_hist(L, json_get(e, "latency"), wl, &s->latency)) return -1;
    }
    return 0;
}

static int load_series(const loader_t *L, const json_value_t *root, result_t *r)
{
    const json_value_t *a = need(L, root, "", "series", JSON_ARRAY);
    if (!a) return -1;
    r->pts = a->len ? calloc(a->len, sizeof *r->pts) : NULL;
    if (a->len && !r->pts) return bad(L, "series", "out of memory");
    for (size_t i = 0; i < a->len; i++) {
        char w[64];
        snprintf(w, sizeof w, "series[%zu]", i);
        const json_value_t *p = a->items[i];
        result_point_t *pt = &r->pts[i];
        uint64_t ms;
        if (!json_is(p, JSON_OBJECT)) return bad(L, w, "expected an object, got %s", json_type_name(p));
        if (need_u64(L, p, w, "unix_ms", &ms) || need_u64(L, p, w, "requests", &pt->requests) ||
            load_errors(L, p, w, "errors", &pt->errors) || need_u64(L, p, w, "active", &pt->active) ||
            need_u64(L, p, w, "stage", &pt->stage) || need_u64(L, p, w, "p50", &pt->p50) ||
            need_u64(L, p, w, "p90", &pt->p90) || need_u64(L, p, w, "p99", &pt->p99) ||
            need_u64(L, p, w, "max", &pt->max))
            return -1;
        if (ms > INT64_MAX / 2) return bad(L, w, "unix_ms out of range");
        pt->unix_ms = (int64_t)ms;
        pt->failed = stats_error_total(&pt->errors) + pt->errors.status;
        if ((json_get(p, "failed") && need_u64(L, p, w, "failed", &pt->failed)) ||
            (json_get(p, "p95") && need_u64(L, p, w, "p95", &pt->p95)) ||
            load_codes(L, p, w, &pt->codes, &pt->ncodes, NULL))
            return -1;
        r->npts++;
    }
    return 0;
}

void result_free(result_t *r)
{
    if (r->st_ready) stats_free(&r->st);
    stages_free(&r->stages);
    json_free(r->doc);
    for (size_t i = 0; i < r->npts; i++) free(r->pts[i].codes);
    free(r->pts);
    memset(r, 0, sizeof *r);
}

int result_load(result_t *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    loader_t L = { .path = path, .err = err, .errlen = errlen };
    char jerr[256];
    int rc = json_parse_file(&r->doc, path, 0, jerr, sizeof jerr);
    if (rc == -EINVAL) { snprintf(err, errlen, "%s:%s", path, jerr); return -1; }
    if (rc) { snprintf(err, errlen, "%s: %s", path, jerr); return -1; }
    const json_value_t *root = json_root(r->doc);
    if (!json_is(root, JSON_OBJECT))
        return bad(&L, "", "not a barrage result (a JSON %s, not an object)", json_type_name(root));
    const json_value_t *schema = json_get(root, "schema");
    if (!schema) return bad(&L, "", "not a barrage result (no \"schema\")");
    if (!json_str(schema) || strcmp(schema->str, RESULT_SCHEMA))
        return bad(&L, "", "unsupported schema %s%s%s (this barrage reads \"%s\")", json_str(schema) ? "\"" : "",
                   json_str(schema) ? schema->str : json_type_name(schema), json_str(schema) ? "\"" : "",
                   RESULT_SCHEMA);
    if (stats_init(&r->st)) return bad(&L, "", "out of memory");
    r->st_ready = 1;
    if (hist_init(&L.tmp)) return bad(&L, "", "out of memory");

    rc = -1;
    uint64_t start, u;
    int forced = 0;
    double d;
    const json_value_t *sum, *tls, *th;
    if (!(r->config = need(&L, root, "", "config", JSON_OBJECT)) ||
        !(r->host = need(&L, root, "", "host", JSON_OBJECT)) ||
        need_u64(&L, root, "", "start_unix_ms", &start) || need_num(&L, root, "", "duration_s", &r->duration_s) ||
        need_bool(&L, root, "", "interrupted", &r->interrupted) || need_num(&L, root, "", "exit_code", &d) ||
        need_bool(&L, root, "", "latency_corrected", &r->latency_corrected))
        goto out;
    if (start > INT64_MAX / 2) { bad(&L, "start_unix_ms", "out of range"); goto out; }
    if (!(r->duration_s >= 0) || r->duration_s > 1e12) { bad(&L, "duration_s", "out of range"); goto out; }
    r->start_ms = (int64_t)start;
    r->exit_code = d >= 0 && d <= 255 ? (int)d : 1;
    r->merged_from = 1;
    const json_value_t *mf = json_get(r->config, "merged_from");
    if (mf && (json_u64(mf, &r->merged_from) || !r->merged_from)) {
        bad(&L, "config.merged_from", "expected a positive integer");
        goto out;
    }
    if (!(sum = need(&L, root, "", "summary", JSON_OBJECT)) ||
        need_u64(&L, sum, "summary", "requests", &r->st.requests) ||
        need_u64(&L, sum, "summary", "sent", &r->st.sent) || need_u64(&L, sum, "summary", "bytes", &r->st.bytes) ||
        need_u64(&L, sum, "summary", "connects", &r->st.connects) ||
        load_errors(&L, sum, "summary", "errors", &r->st.errors))
        goto out;
    /* failed = socket/protocol errors + failed statuses; older results: statuses >= 400 */
    r->st.failed_status = r->st.errors.status;
    if (json_get(sum, "failed")) {
        if (need_u64(&L, sum, "summary", "failed", &u)) goto out;
        uint64_t socket = stats_error_total(&r->st.errors);
        r->st.failed_status = u > socket ? u - socket : 0;
    }
    if (json_get(sum, "iterations") && need_u64(&L, sum, "summary", "iterations", &r->st.iterations)) goto out;
    r->st.content = r->st.bytes; /* older results: bytes read stood for the content */
    if (json_get(sum, "content_bytes") && need_u64(&L, sum, "summary", "content_bytes", &r->st.content)) goto out;
    if (load_codes(&L, sum, "summary", NULL, NULL, r->st.status)) goto out;
    /* constant -R: the time spent opening connections before the timeline (older results: none) */
    if ((json_get(sum, "timeline_start_us") && need_u64(&L, sum, "summary", "timeline_start_us", &r->st.rate_start_us)) ||
        (json_get(sum, "timeline_start_forced") &&
         need_bool(&L, sum, "summary", "timeline_start_forced", &forced)))
        goto out;
    r->st.rate_start_forced = (uint8_t)forced;
    if (load_hist(&L, json_get(root, "latency"), "latency", &r->st.latency) ||
        load_opt_hist(&L, root, "service", &r->st.service, &r->has_service) ||
        load_opt_hist(&L, root, "schedule_delay", &r->st.jitter, &r->has_schedule) ||
        load_hist(&L, json_get(root, "thread_rps"), "thread_rps", &r->st.rate) ||
        load_hist(&L, json_get(root, "connect"), "connect", &r->st.connect_time))
        goto out;
    if (!(tls = json_get(root, "tls"))) { bad(&L, "tls", "missing"); goto out; }
    if (!json_is(tls, JSON_NULL)) {
        const json_value_t *info;
        if (!json_is(tls, JSON_OBJECT)) { bad(&L, "tls", "expected an object or null"); goto out; }
        if (!(info = need(&L, tls, "tls", "info", JSON_STRING)) || need_u64(&L, tls, "tls", "resumed", &u) ||
            load_hist(&L, json_get(tls, "handshake"), "tls.handshake", &r->st.tls_time))
            goto out;
        snprintf(r->st.tls_info, sizeof r->st.tls_info, "%s", info->str);
        r->st.tls_resumed = u;
        r->has_tls = 1;
    }
    if (load_names(&L, root, &r->st, &L.tmp)) goto out;
    if (!(th = need(&L, root, "", "thresholds", JSON_ARRAY))) goto out;
    r->nthresholds = th->len;
    if (load_stages(&L, root, &r->stages) || load_series(&L, root, r)) goto out;
    rc = 0;
out:
    hist_free(&L.tmp);
    return rc;
}

void result_rfc3339(char *buf, size_t size, int64_t unix_ms)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}

/* A value for a one-line message, shortened. */
static void show_value(char *buf, size_t size, const json_value_t *v)
{
    if (!v) { snprintf(buf, size, "nothing"); return; }
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    if (!m) { snprintf(buf, size, "?"); return; }
    result_write_value(m, v);
    fclose(m);
    if (n > 60) snprintf(buf, size, "%.57s...", s);
    else snprintf(buf, size, "%s", s ? s : "");
    for (char *c = buf; *c; c++)
        if (iscntrl((unsigned char)*c)) *c = ' ';
    free(s);
}

void result_warn_config(FILE *err, const char *prog, const result_t *base, const result_t *other,
                        const char *const *keys)
{
    for (size_t k = 0; keys[k]; k++) {
        const json_value_t *a = json_get(base->config, keys[k]), *b = json_get(other->config, keys[k]);
        if ((!a && !b) || json_equal(a, b)) continue;
        char va[80], vb[80];
        show_value(va, sizeof va, a);
        show_value(vb, sizeof vb, b);
        fprintf(err, "barrage %s: warning: config.%s differs: %s has %s, %s has %s\n", prog, keys[k], base->path,
                va, other->path, vb);
    }
}

int result_load_all(FILE *errf, const char *prog, char **paths, size_t n, result_t *rs)
{
    for (size_t i = 0; i < n; i++) {
        char err[512];
        if (result_load(&rs[i], paths[i], err, sizeof err)) {
            for (char *c = err; *c; c++)
                if (iscntrl((unsigned char)*c)) *c = ' ';
            fprintf(errf, "barrage %s: %s\n", prog, err);
            return -1;
        }
    }
    return 0;
}

size_t result_threshold_exprs(const result_t *rs, size_t n, const char **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_value_t *a = json_get(json_root(rs[i].doc), "thresholds");
        for (size_t j = 0; json_is(a, JSON_ARRAY) && j < a->len; j++) {
            const char *e = json_str(json_get(a->items[j], "expr"));
            if (!e) continue;
            size_t d = 0;
            while (d < k && strcmp(out[d], e)) d++;
            if (d == k) out[k++] = e;
        }
    }
    return k;
}

int64_t result_start_actual_us(const result_t *r)
{
    uint64_t us;
    const json_value_t *a = json_get(json_root(r->doc), "start_actual_unix_us");
    return a && !json_u64(a, &us) ? (int64_t)us : r->start_ms * 1000;
}
