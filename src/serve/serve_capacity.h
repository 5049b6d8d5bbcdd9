/* serve_capacity.h - `barrage serve --capacity RPS:SERVICE[:QUEUE[:RECOVER]]`:
 * a server whose capacity is known, for testing what barrage's analysis
 * finds (the knee, where latency leaves its baseline, where failures begin,
 * how long a spike takes to recover from). Internal to src/serve/.
 *
 * The model, server-wide (all threads share one timeline):
 *  - every request takes at least SERVICE, and responses leave at most RPS
 *    per second: request i, arriving at t_i, is answered at
 *        d_i = max(t_i + SERVICE, d_(i-1) + 1/RPS)
 *    so c closed-loop users get min(c / SERVICE, RPS) responses per second:
 *    throughput stops growing at c = RPS x SERVICE users, and beyond that
 *    latency grows as c / RPS;
 *  - QUEUE (0 or absent: unbounded): a request whose wait beyond SERVICE
 *    would exceed QUEUE is refused with a 503 after SERVICE + QUEUE (it
 *    waited in the queue and timed out; it takes no slot), so failures
 *    begin near c = RPS x (SERVICE + QUEUE) users;
 *  - RECOVER (0 or absent: none): for RECOVER after the last refusal, the
 *    server is degraded: every response leaves 4 x SERVICE later than the
 *    model says (as if caches were cold), then it is back to normal. */
#ifndef BARRAGE_SERVE_CAPACITY_H
#define BARRAGE_SERVE_CAPACITY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct serve_capacity_cfg {
    double rps;           /* 0 = no capacity model */
    uint64_t service_ns;
    uint64_t queue_ns;    /* 0 = unbounded */
    uint64_t recover_ns;  /* 0 = no degraded period */
} serve_capacity_cfg_t;

typedef struct serve_capacity {
    atomic_uint_fast64_t last_due;      /* d_(i-1), monotonic ns */
    atomic_uint_fast64_t last_refusal;  /* when the last 503 was given (0 = never) */
} serve_capacity_t;

/* Parse "RPS:SERVICE[:QUEUE[:RECOVER]]". 0, or -1 with one line in err. */
int serve_capacity_parse(const char *s, serve_capacity_cfg_t *cfg, char *err, size_t errlen);

/* The answer time of a request arriving at `now` (monotonic ns) in *due:
 * 0 to answer it then, 1 to refuse it then (a 503). Thread-safe. */
int serve_capacity_admit(serve_capacity_t *st, const serve_capacity_cfg_t *cfg, uint64_t now,
                         uint64_t *due);

#endif
