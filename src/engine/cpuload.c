/* cpuload.c - per-thread busy % and the bottleneck rule (see cpuload.h). */
#include "cpuload.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int cpuload_init(cpuload_t *c, size_t nthreads)
{
    c->n = nthreads;
    c->t = calloc(nthreads ? nthreads : 1, sizeof *c->t);
    return c->t ? 0 : -ENOMEM;
}

double cpuload_pct(uint64_t cpu_ns, uint64_t wall_ns)
{
    if (!wall_ns) return 0;
    double p = 100.0 * (double)cpu_ns / (double)wall_ns;
    return p > 100 ? 100 : p; /* the two clocks are read a few ns apart */
}

int cpuload_parse_schedstat(const char *s, uint64_t *wait_ns)
{
    unsigned long long run, wait;
    if (sscanf(s, "%llu %llu", &run, &wait) != 2) return -1;
    *wait_ns = wait;
    return 0;
}

int cpuload_add(cpuload_t *c, size_t i, uint32_t second, uint64_t cpu_ns, uint64_t wait_ns, uint64_t wall_ns)
{
    if (i >= c->n) return 0;
    cpuload_thread_t *t = &c->t[i];
    double p = cpuload_pct(cpu_ns + wait_ns, wall_ns);
    if (second >= t->cap) {
        uint32_t cap = t->cap ? t->cap : 64;
        while (cap <= second) cap *= 2;
        float *s = realloc(t->series, cap * sizeof *s);
        if (!s) return -ENOMEM;
        t->series = s;
        t->cap = cap;
    }
    while (t->nseries <= second) t->series[t->nseries++] = NAN;
    t->series[second] = (float)p;
    if (wall_ns < 500000000u) return 0; /* a partial second: too short to judge */
    t->sum += p;
    t->cpu_sum += cpuload_pct(cpu_ns, wall_ns);
    if (p > t->max) t->max = p;
    t->seconds++;
    t->busy_seconds += p >= CPULOAD_BUSY_PCT;
    return 0;
}

double cpuload_mean(const cpuload_thread_t *t) { return t->seconds ? t->sum / t->seconds : 0; }
double cpuload_cpu_mean(const cpuload_thread_t *t) { return t->seconds ? t->cpu_sum / t->seconds : 0; }

int cpuload_saturated(const cpuload_thread_t *t)
{
    return t->seconds >= CPULOAD_MIN_SECONDS && 2 * t->busy_seconds >= t->seconds;
}

int cpuload_bottleneck(const cpuload_t *c)
{
    int best = -1;
    for (size_t i = 0; i < c->n; i++)
        if (cpuload_saturated(&c->t[i]) && (best < 0 || c->t[i].busy_seconds > c->t[best].busy_seconds))
            best = (int)i;
    return best;
}

void cpuload_free(cpuload_t *c)
{
    for (size_t i = 0; c->t && i < c->n; i++) free(c->t[i].series);
    free(c->t);
    c->t = NULL;
    c->n = 0;
}
