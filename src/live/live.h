/* live.h - the outputs of a run while it goes on, fanned out from one
 * hook: --metrics (Prometheus text served by httpd), --stream (a line per
 * second to a file or stdout), --metrics-push (the final state to a
 * Pushgateway). Everything runs on the main thread but httpd's own thread,
 * which only copies the latest rendered body: the workers are never
 * touched.
 *
 * Life: live_new (before the workers start: binds the port, opens the
 * stream file; errors are usage errors) -> live_start -> live_tick (often:
 * it renders at most once a second, and writes each finished second once)
 * -> live_final (after the merge: the exact final state, the rest of the
 * stream, the push) -> live_free (after the report: the endpoint serves
 * the final state until then). Nothing here prints. */
#ifndef BARRAGE_LIVE_H
#define BARRAGE_LIVE_H

#include <stdint.h>

#include "config.h"
#include "stats.h"

typedef struct live live_t;

/* What one tick sees (all borrowed for the call). */
typedef struct live_state {
    const config_t *cfg;
    const stats_t *totals;        /* running totals (monitor_totals), or the final merge */
    const stats_series_t *series; /* the per-second series so far */
    uint32_t finished;            /* seconds 0..finished-1 are complete */
    int64_t start_unix_ms;        /* wall-clock start of second 0 (the JSON's start_unix_ms) */
    uint64_t elapsed_ns;          /* since the start of the measurement */
    int final;                    /* the run is over: totals are the exact merge (names,
                                     bytes, connections, checks) and every second is complete */
} live_state_t;

/* Set up what cfg asks for (--metrics, --stream, --metrics-push). *out is
 * NULL when it asks for none. 0, or -1 with err (one line: the option, the
 * problem, the fix). */
int live_new(live_t **out, const config_t *cfg, char *err, size_t errlen);
/* Start serving (httpd's thread). 0 or a negative errno. */
int live_start(live_t *l);
/* The run so far: re-render the metrics at most once a second, write the
 * seconds finished since the last call to the stream (flushed). */
void live_tick(live_t *l, const live_state_t *st);
/* The final state (st->final set): metrics rendered from the exact totals,
 * the stream's remaining seconds, then the push. 0, or -1 with err when
 * the stream could not be written (an output lost: the run failed). A push
 * that failed (unreachable or refusing Pushgateway) is only a warning:
 * warn holds its line, else "". The other outputs are done either way. */
int live_final(live_t *l, const live_state_t *st, char *err, size_t errlen, char *warn, size_t warnlen);
/* "http://127.0.0.1:PORT/metrics" with --metrics, else NULL. */
const char *live_metrics_url(const live_t *l);
/* 1 when --metrics listens on a non-loopback address. */
int live_metrics_exposed(const live_t *l);
/* Stop serving, close the stream (unless stdout), free. NULL is fine. */
void live_free(live_t *l);

#endif
