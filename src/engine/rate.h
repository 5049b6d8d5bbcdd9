/* rate.h - request-rate schedules and stages.
 *
 * A schedule hands out send slots on a fixed timeline: slot k is intended
 * for the instant when the cumulative target count reaches k. Latency is
 * measured from that intended instant (coordinated-omission correction, as
 * wrk2 does), so a server that stalls cannot hide the requests that a real
 * client population would have sent meanwhile.
 *
 * Stages (`--stages 30s:50,1m:50,10s:0`) make a target that ramps linearly
 * from the previous stage's target (0 before the first) to each stage's
 * target over the stage's duration. The target is a number of connections
 * (virtual users), or a request rate with -R. Pure functions: no I/O.
 *
 * A running schedule's rate can be changed (--web): from the instant T of
 * the change the target count grows at the new rate, continuing from the
 * count the old function had reached at T (it stays continuous), so slots
 * intended before T keep their instants (a late sender still owes them,
 * measured from then) and the ones after follow the new rate. */
#ifndef BARRAGE_RATE_H
#define BARRAGE_RATE_H

#include <stddef.h>
#include <stdint.h>

#define RATE_MAX_STAGES 64

typedef struct rate_stages {
    size_t n;                          /* number of stages (0: none) */
    uint64_t dur_ns[RATE_MAX_STAGES];  /* each stage's length */
    double target[RATE_MAX_STAGES];    /* value reached at each stage's end */
    int spawn;                         /* made by --spawn-rate: a count is reached at its slot's start */
} rate_stages_t;

/* Parse "30s:50,1m:50,10s:500". 0, or -1 with a message naming the part. */
int rate_stages_parse(const char *s, rate_stages_t *st, char *err, size_t errlen);
/* Total length of all stages. */
uint64_t rate_stages_total(const rate_stages_t *st);
/* The target at time t (ns since start): linear within a stage. After the
 * last stage: its target. */
double rate_stages_value(const rate_stages_t *st, uint64_t t);
/* 0-based stage index at time t (n-1 after the end). */
size_t rate_stages_index(const rate_stages_t *st, uint64_t t);
/* The largest target of any stage. */
double rate_stages_max(const rate_stages_t *st);
/* Connection stages: the number of connections (users) at time t, and the
 * most at any time. A target is rounded to the nearest count; a --spawn-rate
 * ramp (spawn) rounds up instead, so user k starts at (k-1)/R s, the first at
 * once, as Locust starts them. */
uint64_t rate_stages_count(const rate_stages_t *st, uint64_t t);
uint64_t rate_stages_count_max(const rate_stages_t *st);

/* A rate change: from at_ns (ns since the start) the count grows from k0 at per_sec. */
typedef struct rate_seg {
    uint64_t at_ns;
    double k0;
    double per_sec;
} rate_seg_t;

/* A schedule of send slots for one thread. */
typedef struct rate_sched {
    uint64_t start_ns;         /* t = 0 of the timeline */
    double per_sec;            /* constant rate (when stages is NULL) */
    const rate_stages_t *stages;/* rate stages (targets are total rates) */
    double share;              /* this thread's fraction of a stage target */
    uint64_t next;             /* index of the next slot to hand out */
    uint64_t next_at;          /* intended time of slot `next` (cached) */
    rate_seg_t *segs;          /* rate changes in time order (owned; rate_sched_free), */
    size_t nsegs, segs_cap;    /* before the first: the rate or stages above */
} rate_sched_t;

/* A constant rate of per_sec slots per second from start_ns. */
void rate_sched_init(rate_sched_t *r, double per_sec, uint64_t start_ns);
/* A rate following stages, scaled by share (e.g. 1/threads). */
void rate_sched_init_stages(rate_sched_t *r, const rate_stages_t *st, double share,
                            uint64_t start_ns);
/* Intended time of the next slot (UINT64_MAX when the rate stays 0). */
static inline uint64_t rate_sched_next_at(const rate_sched_t *r) { return r->next_at; }
/* Take the next slot if it is due at `now`: 1 and its intended time, or 0. */
int rate_sched_take(rate_sched_t *r, uint64_t now, uint64_t *intended);
/* From `at` (absolute ns, not before the start or an earlier change) on,
 * per_sec slots per second (> 0). The count stays continuous. 0 or -ENOMEM. */
int rate_sched_set_rate(rate_sched_t *r, double per_sec, uint64_t at);
/* The rate at absolute time t (slots/s): the last change's, or the base's. */
double rate_sched_rate(const rate_sched_t *r, uint64_t t);
/* Free the changes (the schedule is then as after init; re-init to use it). */
void rate_sched_free(rate_sched_t *r);
/* Cumulative slots intended by time t (ns since start): the integral of the
 * rate (exposed for tests). */
double rate_sched_count(const rate_sched_t *r, uint64_t t);

#endif
