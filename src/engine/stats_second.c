/* stats_second.c - a thread's finished second and the run's series of them
 * (stats.h). Once a second, on the worker, stats_second_take folds the
 * second's histogram into the whole run's and packs what changed since the
 * worker's prev mirror (counts, errors, statuses, latency buckets, and the
 * names' deltas from stats_named.c) into one allocation for the ring. On the
 * main thread each thread's second is added to the series point of its index
 * (its latency into the caller's scratch histogram), and the point is
 * finished from that merged histogram: percentiles, and with keep_buckets
 * the buckets --csv's history needs. Nothing here runs per request. */
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* d -= e for every error class. */
static void errors_sub(stats_errors_t *d, const stats_errors_t *e)
{
    d->connect -= e->connect;
    d->read -= e->read;
    d->write -= e->write;
    d->timeout -= e->timeout;
    d->status -= e->status;
    d->parse -= e->parse;
}

stats_second_t *stats_second_take(stats_t *s, stats_t *prev, uint32_t second, uint32_t active)
{
    const hist_t *h = &s->second;
    /* Responses are recorded in the current second only (conn.c): the
     * whole run's histogram takes them here, before anything can fail. */
    hist_merge(&s->latency, h);
    size_t lo = h->total ? hist_index_unclamped(h->min) : 1, hi = h->total ? hist_index_unclamped(h->max) : 0;
    uint32_t n = 0, nc = 0;
    for (size_t i = lo; i <= hi; i++) n += h->counts[i] != 0;
    for (size_t i = 0; i < STATS_STATUS_MAX; i++) nc += s->status[i] != prev->status[i];
    size_t head = sizeof(stats_second_t) + n * sizeof ((stats_second_t *)0)->bucket[0];
    head = (head + _Alignof(stats_code_t) - 1) / _Alignof(stats_code_t) * _Alignof(stats_code_t);
    size_t names_at = (head + nc * sizeof(stats_code_t) + 7) / 8 * 8;
    size_t names = s->nnamed ? stats_second_names_size(s, prev) : 0;
    stats_second_t *sec = malloc(names_at + names);
    if (!sec) { /* the whole run has this second's latency already: never merge it twice */
        hist_reset(&s->second);
        return NULL;
    }
    sec->codes = (stats_code_t *)(void *)((char *)sec + head);
    sec->ncodes = 0;
    sec->names = NULL;
    sec->nnames = 0;
    if (names) stats_second_names_fill(s, prev, sec, (char *)sec + names_at, names);
    for (uint32_t i = 0; nc && i < STATS_STATUS_MAX; i++) {
        if (s->status[i] == prev->status[i]) continue;
        sec->codes[sec->ncodes].code = i;
        sec->codes[sec->ncodes].count = s->status[i] - prev->status[i];
        sec->ncodes++;
        prev->status[i] = s->status[i];
    }
    sec->failed_status = s->failed_status - prev->failed_status;
    prev->failed_status = s->failed_status;
    sec->content = s->nnamed ? s->body_bytes - prev->body_bytes : s->content - prev->content;
    prev->body_bytes = s->body_bytes;
    prev->bytes = s->bytes;
    prev->content = s->content;
    sec->second = second;
    sec->active = active;
    sec->cpu_ns = sec->wait_ns = sec->wall_ns = 0; /* the worker's to set */
    sec->lat_n = h->total;
    sec->lat_min = h->min;
    sec->lat_max = h->max;
    sec->lat_sum = h->sum;
    sec->requests = s->requests - prev->requests;
    sec->errors = s->errors;
    errors_sub(&sec->errors, &prev->errors); /* the second's own */
    prev->requests = s->requests;
    prev->errors = s->errors;
    sec->nbuckets = 0;
    for (size_t i = lo; i <= hi; i++) {
        if (!h->counts[i]) continue;
        sec->bucket[sec->nbuckets].index = (uint32_t)i;
        sec->bucket[sec->nbuckets].count = (uint32_t)h->counts[i];
        sec->nbuckets++;
    }
    hist_reset(&s->second);
    return sec;
}

int stats_series_add(stats_series_t *ser, const stats_second_t *sec, hist_t *scratch)
{
    if (sec->second >= ser->cap) {
        uint32_t cap = ser->cap ? ser->cap : 64;
        while (cap <= sec->second) cap *= 2;
        stats_point_t *p = realloc(ser->pts, cap * sizeof *p);
        if (!p) return -ENOMEM;
        memset(p + ser->cap, 0, (cap - ser->cap) * sizeof *p);
        ser->pts = p;
        ser->cap = cap;
    }
    if (sec->second >= ser->n) ser->n = sec->second + 1;
    stats_point_t *pt = &ser->pts[sec->second];
    pt->requests += sec->requests;
    stats_errors_add(&pt->errors, &sec->errors);
    pt->failed += stats_error_total(&sec->errors) + sec->failed_status;
    for (uint32_t i = 0; i < sec->ncodes; i++)
        if (stats_code_add(&pt->codes, &pt->ncodes, sec->codes[i].code, sec->codes[i].count)) return -ENOMEM;
    pt->active += sec->active;
    pt->content += sec->content;
    if (sec->lat_n) {
        if (!pt->lat_set || sec->lat_min < pt->lat_min) pt->lat_min = sec->lat_min;
        if (!pt->lat_set || sec->lat_max > pt->lat_max) pt->lat_max = sec->lat_max;
        pt->lat_sum += sec->lat_sum;
        pt->lat_n += sec->lat_n;
        pt->lat_set = 1;
    }
    for (uint32_t i = 0; i < sec->nbuckets; i++) {
        uint32_t k = sec->bucket[i].index;
        uint64_t v = hist_highest(k);
        hist_record_n(scratch, v, sec->bucket[i].count);
    }
    return 0;
}

void stats_series_finish(stats_series_t *ser, uint32_t second, const hist_t *merged)
{
    if (second >= ser->n) return;
    stats_point_t *pt = &ser->pts[second];
    pt->p50 = hist_percentile(merged, 50);
    pt->p90 = hist_percentile(merged, 90);
    pt->p95 = hist_percentile(merged, 95);
    pt->p99 = hist_percentile(merged, 99);
    pt->max = merged->total ? merged->max : 0;
    if (!ser->keep_buckets || !merged->total || pt->buckets) return;
    size_t lo = hist_index_unclamped(merged->min), hi = hist_index_unclamped(merged->max);
    uint32_t n = 0;
    for (size_t i = lo; i <= hi; i++) n += merged->counts[i] != 0;
    if (!(pt->buckets = malloc(n * sizeof *pt->buckets))) return; /* the history then has no percentiles */
    for (size_t i = lo; i <= hi; i++)
        if (merged->counts[i]) pt->buckets[pt->nbuckets++] = (stats_bucket_t){ (uint32_t)i, merged->counts[i] };
}

void stats_series_free(stats_series_t *ser)
{
    for (uint32_t i = 0; i < ser->n; i++) {
        free(ser->pts[i].codes);
        free(ser->pts[i].buckets);
    }
    stats_series_free_names(ser);
    free(ser->pts);
    memset(ser, 0, sizeof *ser);
}
