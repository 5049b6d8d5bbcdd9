/* stats_live.c - per-name snapshots for the main thread (see stats_live.h). */
#include "stats_live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct live_bucket { uint32_t index; uint64_t count; } live_bucket_t;

typedef struct live_name {
    char *name;                  /* owned */
    uint64_t requests, failures;
    uint64_t min, max;           /* exact, of the latency histogram */
    live_bucket_t *buckets;      /* owned */
    size_t nbuckets;
} live_name_t;

struct stats_live {
    live_name_t *named;
    size_t nnamed;
    stats_check_t *checks;       /* names owned */
    size_t nchecks;
};

void stats_live_free(stats_live_t *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->nnamed; i++) { free(l->named[i].name); free(l->named[i].buckets); }
    for (size_t i = 0; i < l->nchecks; i++) free(l->checks[i].name);
    free(l->named);
    free(l->checks);
    free(l);
}

/* The non-empty buckets of h (only its occupied range is scanned). */
static int copy_hist(live_name_t *n, const hist_t *h)
{
    n->min = h->min;
    n->max = h->max;
    if (!h->total) return 0;
    size_t lo = hist_index(h->min), hi = hist_index(h->max), k = 0;
    for (size_t i = lo; i <= hi; i++) k += h->counts[i] != 0;
    if (!(n->buckets = malloc(k * sizeof *n->buckets))) return -ENOMEM;
    for (size_t i = lo; i <= hi; i++)
        if (h->counts[i]) n->buckets[n->nbuckets++] = (live_bucket_t){ (uint32_t)i, h->counts[i] };
    return 0;
}

stats_live_t *stats_live_take(const stats_t *s)
{
    stats_live_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    size_t nn = s->nnamed < STATS_LIVE_MAX_NAMES ? s->nnamed : STATS_LIVE_MAX_NAMES;
    if ((nn && !(l->named = calloc(nn, sizeof *l->named))) ||
        (s->nchecks && !(l->checks = calloc(s->nchecks, sizeof *l->checks)))) {
        stats_live_free(l);
        return NULL;
    }
    for (size_t i = 0; i < nn; i++) {
        live_name_t *n = &l->named[l->nnamed++];
        n->requests = s->named[i].requests;
        n->failures = s->named[i].failures;
        if (!(n->name = strdup(s->named[i].name)) || copy_hist(n, &s->named[i].latency)) {
            stats_live_free(l);
            return NULL;
        }
    }
    for (size_t i = 0; i < s->nchecks; i++) {
        stats_check_t *c = &l->checks[l->nchecks++];
        *c = s->checks[i];
        if (!(c->name = strdup(s->checks[i].name))) { stats_live_free(l); return NULL; }
    }
    return l;
}

int stats_live_sum(stats_t *dst, stats_live_t *const *snaps, size_t n)
{
    for (size_t i = 0; i < dst->nnamed; i++) {
        stats_named_t *d = &dst->named[i];
        d->requests = d->failures = 0;
        hist_reset(&d->latency);
    }
    for (size_t i = 0; i < dst->nchecks; i++) dst->checks[i].pass = dst->checks[i].fail = 0;
    for (size_t k = 0; k < n; k++) {
        const stats_live_t *l = snaps[k];
        if (!l) continue;
        for (size_t i = 0; i < l->nnamed; i++) {
            const live_name_t *s = &l->named[i];
            int j = stats_named_index(dst, s->name);
            if (j < 0) return j;
            stats_named_t *d = &dst->named[j];
            d->requests += s->requests;
            d->failures += s->failures;
            for (size_t b = 0; b < s->nbuckets; b++)
                hist_record_n(&d->latency, hist_highest(s->buckets[b].index), s->buckets[b].count);
        }
        for (size_t i = 0; i < l->nchecks; i++) {
            int j = stats_check_index(dst, l->checks[i].name);
            if (j < 0) return j;
            dst->checks[j].pass += l->checks[i].pass;
            dst->checks[j].fail += l->checks[i].fail;
        }
    }
    /* the exact extremes, as the final merge has them (the buckets gave
     * their highest values) */
    for (size_t i = 0; i < dst->nnamed; i++) {
        dst->named[i].latency.min = UINT64_MAX;
        dst->named[i].latency.max = 0;
    }
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; snaps[k] && i < snaps[k]->nnamed; i++) {
            const live_name_t *s = &snaps[k]->named[i];
            if (!s->nbuckets) continue;
            hist_t *h = &dst->named[stats_named_index(dst, s->name)].latency; /* exists: added above */
            if (s->min < h->min) h->min = s->min;
            if (s->max > h->max) h->max = s->max;
        }
    return 0;
}
