/* monitor.h - the main thread's view of a running benchmark: it collects
 * every worker's per-second snapshots (lock-free rings), merges them into
 * the run's per-second series, keeps running totals for --abort-on-fail,
 * and drives the live progress line. */
#ifndef BARRAGE_MONITOR_H
#define BARRAGE_MONITOR_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "stats.h"
#include "worker.h"

typedef struct monitor monitor_t;

/* progress: a stream for the live line (a TTY), or NULL for none. */
monitor_t *monitor_new(const config_t *cfg, worker_t *ws, size_t n, uint64_t t0, FILE *progress);
/* Take what the workers have published; refresh the progress line about
 * once a second. Call often (every ~100 ms) while the run goes on. */
void monitor_poll(monitor_t *m, uint64_t now);
/* After the workers are joined: take everything left and clear the
 * progress line so the report starts on a clean line. */
void monitor_finish(monitor_t *m);
/* Seconds 0..n-1 of the series are complete (every thread reported them). */
uint32_t monitor_finished(const monitor_t *m);
/* The merged per-second series. */
const stats_series_t *monitor_series(const monitor_t *m);
/* Totals so far (requests, errors, latency; per name requests and failures,
 * not their latency): what --abort-on-fail checks and --metrics shows. */
const stats_t *monitor_totals(const monitor_t *m);
void monitor_free(monitor_t *m);

#endif
