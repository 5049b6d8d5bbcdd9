/* stats_live.h - a worker's per-name statistics and checks, copied for the
 * main thread while the run goes on (--web's table of names, checks and
 * thresholds so far). Once a second the worker takes a snapshot (the whole
 * run so far, sparse: only non-empty histogram buckets) and swaps it into
 * a slot the main thread takes from; the main thread sums the latest one of
 * every worker. Counts are exact; the latency histograms are bucket-exact
 * with the exact min and max, so percentiles equal the final result's over
 * the same responses. Only with --web: the plain run never takes one. */
#ifndef BARRAGE_STATS_LIVE_H
#define BARRAGE_STATS_LIVE_H

#include <stddef.h>

#include "stats.h"

/* At most this many names are copied (the first ones, in order of use). */
#define STATS_LIVE_MAX_NAMES 200

typedef struct stats_live stats_live_t;

/* A snapshot of s's names and checks (worker thread). NULL when out of memory. */
stats_live_t *stats_live_take(const stats_t *s);
void stats_live_free(stats_live_t *l);
/* Set dst's names and checks (dst from stats_init, its other members
 * untouched) to the sum of snaps[0..n) (NULL entries skipped): names in
 * the order they were first seen. 0 or -ENOMEM. */
int stats_live_sum(stats_t *dst, stats_live_t *const *snaps, size_t n);

#endif
