/* stats_named.c - per-name stats beyond their counters (stats.h): failure
 * kinds with first/last seen, a name's sum over its methods, and the per-name
 * seconds. Nothing of them runs per request: once a second each name's
 * counters are compared with prev's mirror of them, and the deltas travel
 * with the thread's second to the main thread (the running totals of
 * --metrics and --abort-on-fail); with --csv (a worker's prev copy has
 * keep_named) each name's cumulative histogram is compared too, over its
 * [min, max] range, and the buckets it gained travel along, kept per
 * (method, name) and second for the CSV history. */
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int stats_fail_add(stats_fail_t **list, uint32_t *n, int32_t kind, uint64_t count, int64_t first_ms,
                   int64_t last_ms)
{
    for (uint32_t i = 0; i < *n; i++) {
        stats_fail_t *f = &(*list)[i];
        if (f->kind != kind) continue;
        f->count += count;
        if (first_ms < f->first_ms) f->first_ms = first_ms;
        if (last_ms > f->last_ms) f->last_ms = last_ms;
        return 0;
    }
    stats_fail_t *l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return -ENOMEM;
    l[*n] = (stats_fail_t){ kind, count, first_ms, last_ms };
    *list = l;
    (*n)++;
    return 0;
}

int stats_named_fail(stats_named_t *n, int32_t kind)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return stats_fail_add(&n->fails, &n->nfails, kind, 1, ms, ms);
}

void stats_named_fail_drop(stats_named_t *n, int32_t kind)
{
    for (uint32_t i = 0; i < n->nfails; i++) {
        if (n->fails[i].kind != kind) continue;
        if (--n->fails[i].count == 0) {
            memmove(&n->fails[i], &n->fails[i + 1], (n->nfails - i - 1) * sizeof *n->fails);
            n->nfails--;
        }
        return;
    }
}

const stats_named_t *stats_named_sum(const stats_t *s, const char *name, stats_named_t *scratch)
{
    const stats_named_t *one = NULL;
    size_t found = 0;
    for (size_t i = 0; i < s->nnamed; i++)
        if (!strcmp(s->named[i].name, name) && !found++) one = &s->named[i];
    if (found <= 1) return one;
    memset(scratch, 0, sizeof *scratch);
    if (hist_init(&scratch->latency)) return NULL;
    scratch->name = (char *)(uintptr_t)one->name; /* borrowed: never freed through scratch */
    for (size_t i = 0; i < s->nnamed; i++) {
        const stats_named_t *n = &s->named[i];
        if (strcmp(n->name, name)) continue;
        scratch->requests += n->requests;
        scratch->failures += n->failures;
        scratch->bytes += n->bytes;
        hist_merge(&scratch->latency, &n->latency);
    }
    return scratch;
}

/* prev's mirror of s's entry k (created on first use), or NULL on -ENOMEM. */
static stats_named_t *mirror(const stats_t *s, stats_t *prev, size_t k)
{
    const stats_named_t *n = &s->named[k];
    int m = stats_named_key(prev, n->method, n->name);
    return m < 0 ? NULL : &prev->named[m];
}

/* Buckets of n that changed since p (kept only with keep_named: the CSV
 * history's per-name percentiles). */
static uint32_t changed(const stats_named_t *n, const stats_named_t *p, const stats_t *prev)
{
    if (!prev->keep_named || !n->latency.total) return 0;
    uint32_t c = 0;
    for (size_t i = hist_index(n->latency.min), hi = hist_index(n->latency.max); i <= hi; i++)
        c += n->latency.counts[i] != p->latency.counts[i];
    return c;
}

static size_t align8(size_t n) { return (n + 7) / 8 * 8; }

size_t stats_second_names_size(const stats_t *s, stats_t *prev)
{
    size_t total = 0;
    for (size_t k = 0; k < s->nnamed; k++) {
        const stats_named_t *n = &s->named[k], *p = mirror(s, prev, k);
        if (!p) return 0;
        uint32_t nb = changed(n, p, prev);
        if (!nb && n->requests == p->requests) continue;
        total += sizeof(stats_second_name_t) + nb * sizeof(stats_bucket_t) +
                 align8(strlen(n->name) + 1 + strlen(n->method) + 1);
    }
    return total;
}

void stats_second_names_fill(const stats_t *s, stats_t *prev, stats_second_t *sec, void *area, size_t size)
{
    uint32_t nn = 0;
    for (size_t k = 0; k < s->nnamed; k++) {
        const stats_named_t *n = &s->named[k], *p = mirror(s, prev, k);
        if (p && (changed(n, p, prev) || n->requests != p->requests)) nn++;
    }
    stats_second_name_t *out = area;
    char *at = (char *)area + (size_t)nn * sizeof *out, *end = (char *)area + size;
    sec->names = out;
    for (size_t k = 0; k < s->nnamed && sec->nnames < nn; k++) {
        const stats_named_t *n = &s->named[k];
        stats_named_t *p = mirror(s, prev, k);
        if (!p) continue;
        uint32_t nb = changed(n, p, prev);
        if (!nb && n->requests == p->requests) continue;
        size_t ml = strlen(n->method) + 1, nl = strlen(n->name) + 1;
        if (at + nb * sizeof(stats_bucket_t) + align8(ml + nl) > end) break; /* cannot happen: sized above */
        stats_second_name_t *e = &out[sec->nnames++];
        e->requests = n->requests - p->requests;
        e->failures = n->failures - p->failures;
        e->content = n->bytes - p->bytes;
        e->lat_set = n->latency.total != 0;
        e->cum_min = n->latency.min;
        e->cum_max = n->latency.max;
        e->lat_sum = n->latency.sum - p->latency.sum; /* integer us: exact in a double below 2^53 */
        p->latency.sum = n->latency.sum;
        e->buckets = (stats_bucket_t *)(void *)at;
        e->nbuckets = 0;
        if (nb)
            for (size_t i = hist_index(n->latency.min), hi = hist_index(n->latency.max); i <= hi; i++) {
                if (n->latency.counts[i] == p->latency.counts[i]) continue;
                e->buckets[e->nbuckets++] = (stats_bucket_t){ (uint32_t)i, n->latency.counts[i] - p->latency.counts[i] };
                p->latency.counts[i] = n->latency.counts[i];
            }
        at += nb * sizeof(stats_bucket_t);
        memcpy(at, n->method, ml);
        e->method = at;
        memcpy(at + ml, n->name, nl);
        e->name = at + ml;
        at += align8(ml + nl);
        p->requests = n->requests;
        p->failures = n->failures;
        p->bytes = n->bytes;
    }
}

static stats_name_series_t *series_of(stats_series_t *ser, const char *method, const char *name)
{
    for (uint32_t i = 0; i < ser->nnames; i++)
        if (!strcmp(ser->names[i].name, name) && !strcmp(ser->names[i].method, method)) return &ser->names[i];
    stats_name_series_t *v = realloc(ser->names, (ser->nnames + 1) * sizeof *v);
    if (!v) return NULL;
    ser->names = v;
    stats_name_series_t *e = &v[ser->nnames];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name))) return NULL;
    snprintf(e->method, sizeof e->method, "%s", method);
    e->first = UINT32_MAX;
    ser->nnames++;
    return e;
}

int stats_series_add_names(stats_series_t *ser, const stats_second_t *sec)
{
    for (uint32_t i = 0; i < sec->nnames; i++) {
        const stats_second_name_t *x = &sec->names[i];
        stats_name_series_t *e = series_of(ser, x->method, x->name);
        if (!e) return -ENOMEM;
        if (sec->second >= e->n) {
            uint32_t n = sec->second + 1 > 2 * e->n ? sec->second + 1 : 2 * e->n;
            stats_name_point_t *p = realloc(e->pts, n * sizeof *p);
            if (!p) return -ENOMEM;
            memset(p + e->n, 0, (n - e->n) * sizeof *p);
            e->pts = p;
            e->n = n;
        }
        if (sec->second < e->first) e->first = sec->second;
        stats_name_point_t *pt = &e->pts[sec->second];
        pt->requests += x->requests;
        pt->failures += x->failures;
        pt->content += x->content;
        if (x->lat_set) {
            if (!pt->lat_set || x->cum_min < pt->cum_min) pt->cum_min = x->cum_min;
            if (!pt->lat_set || x->cum_max > pt->cum_max) pt->cum_max = x->cum_max;
            pt->lat_set = 1;
        }
        pt->lat_sum += x->lat_sum;
        if (x->nbuckets) {
            stats_bucket_t *b = realloc(pt->buckets, (pt->nbuckets + x->nbuckets) * sizeof *b);
            if (!b) return -ENOMEM;
            memcpy(b + pt->nbuckets, x->buckets, x->nbuckets * sizeof *b);
            pt->buckets = b;
            pt->nbuckets += x->nbuckets;
        }
    }
    return 0;
}

void stats_series_free_names(stats_series_t *ser)
{
    for (uint32_t i = 0; i < ser->nnames; i++) {
        for (uint32_t k = 0; k < ser->names[i].n; k++) free(ser->names[i].pts[k].buckets);
        free(ser->names[i].pts);
        free(ser->names[i].name);
    }
    free(ser->names);
    ser->names = NULL;
    ser->nnames = 0;
}
