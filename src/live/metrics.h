/* metrics.h - a run's state as Prometheus text exposition (format 0.0.4,
 * which Prometheus scrapes and the Pushgateway takes), and the push.
 *
 * Names follow k6's metrics where they exist (barrage_http_reqs_total,
 * barrage_http_req_failed_total, barrage_http_req_duration_seconds,
 * barrage_vus, barrage_data_received_bytes_total); README.md lists them.
 * The latency histogram is cut from barrage's own histogram at the fixed
 * bounds METRICS_LE_US (microseconds): a bucket `le` counts the responses
 * whose recorded latency (whole microseconds, truncated) is below the bound,
 * so every count up to 10 ms is exact; above, a histogram bucket (at most
 * 0.1% wide) that straddles a bound is counted in the next `le` only, never
 * in a faster one. _count is the responses, _sum their latency in seconds. */
#ifndef BARRAGE_METRICS_H
#define BARRAGE_METRICS_H

#include <stddef.h>

#include "live.h"

/* The `le` bounds of barrage_http_req_duration_seconds, microseconds
 * (then +Inf). */
#define METRICS_LE_US { 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, \
                        250000, 500000, 1000000, 2500000, 5000000, 10000000 }

/* Render st into a malloc'ed buffer (*buf, *len). 0 or -ENOMEM. */
int metrics_render(const live_state_t *st, char **buf, size_t *len);
/* The Pushgateway path for url: url's own path when it already holds
 * "/metrics/job/", else URL/metrics/job/barrage (plus /instance/shard-I
 * when sharded). Into buf; 0, or -1 when it does not fit. */
int metrics_push_path(const config_t *cfg, const char *path, char *buf, size_t size);
/* PUT body to the Pushgateway at cfg->metrics_push (plain http, 5 s at
 * most). 0, or -1 with err (unreachable, or the gateway's status and the
 * first line of its answer). */
int metrics_push(const config_t *cfg, const char *body, size_t len, char *err, size_t errlen);

#endif
