/* stream.c - --stream's NDJSON and InfluxDB lines (see stream.h). */
#include "stream.h"

#include <inttypes.h>

#include "result.h"

static void influx(FILE *f, const stats_point_t *p, int64_t unix_ms, int stages)
{
    int64_t ts = unix_ms * 1000000;
    for (uint32_t i = 0; i < p->ncodes; i++)
        fprintf(f, "http_reqs,status=%u value=%" PRIu64 "i %" PRId64 "\n", p->codes[i].code, p->codes[i].count, ts);
    uint64_t attempts = p->requests + stats_error_total(&p->errors);
    fprintf(f, "http_req_failed value=%" PRIu64 "i,rate=%.6g %" PRId64 "\n", p->failed,
            attempts ? (double)p->failed / (double)attempts : 0.0, ts);
    fprintf(f, "http_req_duration p50=%.3f,p90=%.3f,p99=%.3f,max=%.3f %" PRId64 "\n", (double)p->p50 / 1e3,
            (double)p->p90 / 1e3, (double)p->p99 / 1e3, (double)p->max / 1e3, ts);
    const stats_errors_t *e = &p->errors;
    fprintf(f, "barrage_errors connect=%" PRIu64 "i,read=%" PRIu64 "i,write=%" PRIu64 "i,timeout=%" PRIu64
               "i,parse=%" PRIu64 "i,status=%" PRIu64 "i %" PRId64 "\n",
            e->connect, e->read, e->write, e->timeout, e->parse, e->status, ts);
    fprintf(f, "vus value=%" PRIu32 "i %" PRId64 "\n", p->active, ts);
    if (stages) fprintf(f, "stage value=%" PRIu32 "i %" PRId64 "\n", p->stage, ts);
}

int stream_write(FILE *f, int as_influx, const stats_point_t *p, uint32_t t, int64_t unix_ms, int stages)
{
    if (as_influx) {
        influx(f, p, unix_ms, stages);
    } else {
        result_point_t pt = result_point_of(p, unix_ms);
        result_write_point_object(f, t, &pt);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}
