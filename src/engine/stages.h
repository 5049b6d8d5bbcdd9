/* stages.h - the per-stage summary of a --stages run (connection stages, or
 * rate stages with -R), built from the run's per-second series.
 *
 * A second belongs to the stage it starts in (rate_stages_index at its
 * start), so a stage's counts are sums of whole seconds of the series and
 * add up exactly to the run's totals. Its latency is a histogram folded from
 * its seconds' merged histograms (exact, not an average of per-second
 * percentiles), kept losslessly in the JSON result so `barrage merge` adds
 * shards' stages bucket by bucket (by stage index). Rates divide by the time
 * its seconds cover inside the run (duration_s). Cheap: one histogram merge
 * per finished second on the main thread, nothing per request. */
#ifndef BARRAGE_STAGES_H
#define BARRAGE_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "rate.h"
#include "stats.h"

typedef struct stage_sum {
    double start_s, end_s;   /* the stage's planned span (from --stages), seconds from the start */
    double target;           /* its target at its end: connections, or requests/s with -R */
    double duration_s;       /* the time its seconds cover inside the run (the rates' denominator) */
    uint32_t seconds;        /* seconds of the series in it */
    uint64_t requests;       /* responses completed in its seconds */
    uint64_t ok;             /* responses with an expected status */
    uint64_t failed;         /* failed requests (stats_failed's definition) */
    stats_errors_t errors;   /* socket/protocol errors and statuses >= 400 */
    uint64_t users;          /* connections open at the end of its last second */
    double users_mean;       /* mean of the connections open over its seconds */
    hist_t latency;          /* its responses' latency, us (owned) */
} stage_sum_t;

typedef struct stages {
    stage_sum_t *s;          /* n stages (owned) */
    size_t n;
    int rate;                /* the targets are requests/s (-R), else connections */
} stages_t;

/* n empty stages with the plan of st (n = st->n; 0 stages is fine). 0 or -ENOMEM. */
int stages_init(stages_t *g, const rate_stages_t *st, int rate);
/* Add one finished second's merged latency histogram into stage k. */
void stages_fold(stages_t *g, size_t k, const hist_t *second);
/* Counts, users and durations of every stage from the series (points carry
 * their stage) over a run of elapsed_s seconds: recomputed, idempotent. */
void stages_count(stages_t *g, const stats_series_t *ser, double elapsed_s);
/* Add src's stages into dst by index (dst grows to src's length): counts,
 * users (shards run side by side) and histograms add; the longest duration
 * is kept; the plan is dst's where it has one. 0 or -ENOMEM. */
int stages_merge(stages_t *dst, const stages_t *src);
void stages_free(stages_t *g);

#endif
