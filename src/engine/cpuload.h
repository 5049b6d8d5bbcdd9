/* cpuload.h - the client's own load: each worker's busy % per second, read
 * by the worker once a second (never per request) and accumulated here on
 * the main thread (monitor.c). A thread is busy while it runs (its CPU
 * time, CLOCK_THREAD_CPUTIME_ID) and while it is ready to run but waits for
 * a CPU (the run-queue delay of /proc/thread-self/schedstat; 0 where the
 * kernel does not keep it): either way it had work and the load it sent was
 * limited by the client, not the server. Busy % is that time over the
 * second's wall time; CPU % is the CPU time alone. The bottleneck rule: a
 * thread busy >= CPULOAD_BUSY_PCT
 * in at least half of its full seconds, over a run of at least
 * CPULOAD_MIN_SECONDS full seconds, means the client (not the server) set
 * the pace. Seconds shorter than half a second (the last, partial one) are
 * left out of the rule and of the mean and max. Nothing here prints. */
#ifndef BARRAGE_CPULOAD_H
#define BARRAGE_CPULOAD_H

#include <stddef.h>
#include <stdint.h>

#define CPULOAD_BUSY_PCT 90.0
#define CPULOAD_MIN_SECONDS 3

typedef struct cpuload_thread {
    double sum, max;        /* of busy % over the counted seconds */
    double cpu_sum;         /* of CPU % over the counted seconds */
    uint32_t seconds;       /* full seconds counted */
    uint32_t busy_seconds;  /* ... of which busy >= CPULOAD_BUSY_PCT */
    float *series;          /* busy % by second of the run, NaN where none came (owned) */
    uint32_t nseries, cap;
} cpuload_thread_t;

typedef struct cpuload {
    cpuload_thread_t *t;    /* one per worker (owned) */
    size_t n;
} cpuload_t;

/* 0 or -ENOMEM. */
int cpuload_init(cpuload_t *c, size_t nthreads);
/* Thread i's second `second`: cpu_ns of CPU time and wait_ns waiting for a
 * CPU over wall_ns. 0 or -ENOMEM. */
int cpuload_add(cpuload_t *c, size_t i, uint32_t second, uint64_t cpu_ns, uint64_t wait_ns, uint64_t wall_ns);
/* Parse /proc/.../schedstat ("RUN_NS WAIT_NS SLICES"): 0 and *wait_ns, or -1. */
int cpuload_parse_schedstat(const char *s, uint64_t *wait_ns);
/* Busy % of one second (clamped to 0..100); 0 when wall_ns is 0. */
double cpuload_pct(uint64_t cpu_ns, uint64_t wall_ns);
/* Mean busy % and mean CPU % of a thread (0 without a counted second). */
double cpuload_mean(const cpuload_thread_t *t);
double cpuload_cpu_mean(const cpuload_thread_t *t);
/* Whether thread t meets the bottleneck rule. */
int cpuload_saturated(const cpuload_thread_t *t);
/* The saturated thread with the most busy seconds, or -1 for none. */
int cpuload_bottleneck(const cpuload_t *c);
void cpuload_free(cpuload_t *c);

#endif
