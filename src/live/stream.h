/* stream.h - --stream's records, one complete second at a time.
 *
 * NDJSON (the default): one object a line, the second exactly as the JSON
 * result's "series" writes it ({"t", "unix_ms", "requests", "errors",
 * "failed", "status", "active", "stage", "p50", "p90", "p99", "max"}).
 *
 * InfluxDB line protocol (--stream-format influx), k6's metric names as
 * measurements, the second's start as the timestamp (nanoseconds):
 *   http_reqs,status=200 value=95i T     one line per status seen
 *   http_req_failed value=5i,rate=0.05 T failed requests; rate = failed / attempts
 *   http_req_duration p50=..,p90=..,p99=..,max=.. T   milliseconds
 *   barrage_errors connect=0i,read=0i,write=0i,timeout=0i,parse=0i,status=0i T
 *   vus value=10i T                      connections open at the second's end
 *   stage value=1i T                     with --stages only */
#ifndef BARRAGE_STREAM_H
#define BARRAGE_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include "stats.h"

/* Write second t (starting at unix_ms) of the series to f; stages: the run
 * has --stages. 0, or -1 when f reports an error. */
int stream_write(FILE *f, int influx, const stats_point_t *p, uint32_t t, int64_t unix_ms, int stages);

#endif
