/* analysis.c - breaking point, spike recovery and soak drift from a run's
 * per-second series (the method is in analysis.h). */
#include "analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One usable second. */
typedef struct sec {
    uint32_t t;      /* second since the start */
    double load;
    double ok;       /* successful responses in it */
    double fail;     /* failure rate */
    double p;        /* latency, us */
} sec_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of field `off` of s[from..to) (to > from); tmp holds to - from. */
static double median(const sec_t *s, size_t from, size_t to, size_t off, double *tmp)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++) memcpy(&tmp[n++], (const char *)&s[i] + off, sizeof(double));
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

#define F_OK   offsetof(sec_t, ok)
#define F_FAIL offsetof(sec_t, fail)
#define F_P    offsetof(sec_t, p)

static uint64_t stage_start_ns(const rate_stages_t *st, size_t k)
{
    uint64_t t = 0;
    for (size_t i = 0; i < k; i++) t += st->dur_ns[i];
    return t;
}

/* The usable seconds: the first and last second of the run and seconds
 * without an attempt left out. Returns how many (s has series->n slots). */
static size_t collect(sec_t *s, const stats_series_t *ser, const rate_stages_t *st, int rate, int p95)
{
    size_t n = 0;
    for (uint32_t i = 1; i + 1 < ser->n; i++) {
        const stats_point_t *pt = &ser->pts[i];
        uint64_t errs = stats_error_total(&pt->errors);
        uint64_t attempts = pt->requests + errs;
        if (attempts == 0) continue;
        uint64_t failed_status = pt->failed > errs ? pt->failed - errs : 0;
        sec_t *x = &s[n++];
        x->t = i;
        x->load = rate && st->n ? rate_stages_value(st, (uint64_t)i * 1000000000u + 500000000u)
                                : ((double)ser->pts[i - 1].active + (double)pt->active) / 2;
        x->ok = (double)(pt->requests > failed_status ? pt->requests - failed_status : 0);
        x->fail = (double)pt->failed / (double)attempts;
        x->p = (double)(p95 ? pt->p95 : pt->p90);
    }
    return n;
}

/* Whether sig holds from s[i] for ANALYSIS_SUSTAIN seconds in a row (no gap). */
typedef int (*signal_fn)(const sec_t *x, const void *ctx);

static size_t first_sustained(const sec_t *s, size_t from, size_t to, signal_fn sig, const void *ctx)
{
    for (size_t i = from; i + ANALYSIS_SUSTAIN <= to; i++) {
        size_t k = 0;
        while (k < ANALYSIS_SUSTAIN && sig(&s[i + k], ctx) &&
               (k == 0 || s[i + k].t == s[i + k - 1].t + 1))
            k++;
        if (k == ANALYSIS_SUSTAIN) return i;
    }
    return SIZE_MAX;
}

static int sig_latency(const sec_t *x, const void *ctx)
{
    return x->p > ANALYSIS_LATENCY_K * *(const double *)ctx;
}
/* Failures come in bursts (a queue fills, drains, fills): the first second
 * above the rate with ANALYSIS_SUSTAIN seconds above it among it and the
 * ANALYSIS_SUSTAIN seconds after it. */
static size_t first_failing(const sec_t *s, size_t from, size_t to)
{
    for (size_t i = from; i + ANALYSIS_SUSTAIN <= to; i++) {
        if (!(s[i].fail > ANALYSIS_FAIL_RATE)) continue;
        size_t above = 0;
        for (size_t k = i; k < to && k <= i + ANALYSIS_SUSTAIN; k++) above += s[k].fail > ANALYSIS_FAIL_RATE;
        if (above >= ANALYSIS_SUSTAIN) return i;
    }
    return SIZE_MAX;
}
static int sig_knee(const sec_t *x, const void *ctx)
{
    return x->ok < ANALYSIS_KNEE_FRACTION * *(const double *)ctx * x->load;
}

typedef struct band { double p, fail; } band_t;
static int sig_recovered(const sec_t *x, const void *ctx)
{
    const band_t *b = ctx;
    return x->p <= b->p && x->fail <= b->fail;
}

static void finding(analysis_finding_t *f, const sec_t *x, double before, double after)
{
    f->found = 1;
    f->load = x->load;
    f->second = x->t;
    f->before = before;
    f->after = after;
}

static void ramp(analysis_t *a, const sec_t *s, size_t n, const rate_stages_t *st, double *tmp)
{
    double max = rate_stages_max(st);
    size_t peak_stage = 0;
    while (peak_stage < st->n && st->target[peak_stage] < max) peak_stage++;
    double start = 0; /* the load before the first stage */
    if (!(max > start) || peak_stage >= st->n) return;
    uint64_t peak_ns = stage_start_ns(st, peak_stage + 1);
    size_t end = 0; /* the rising part: s[0..end) */
    while (end < n && (uint64_t)s[end].t * 1000000000u < peak_ns) end++;
    a->ramp = 1;
    a->max_load = max;
    /* baseline: the first share of the rising part's seconds, at least 2 */
    size_t nb = (size_t)ceil(ANALYSIS_BASE_SHARE * (double)end);
    if (nb < 2) nb = 2;
    while (nb > 0 && !(s[nb - 1 < end ? nb - 1 : 0].load > 0)) nb--;
    if (end < nb + ANALYSIS_SUSTAIN || nb < 2) {
        a->ramp_short = 1;
        return;
    }
    double base_p = median(s, 0, nb, F_P, tmp);
    for (size_t i = 0; i < nb; i++) tmp[i] = s[i].ok / s[i].load;
    qsort(tmp, nb, sizeof *tmp, cmp_double);
    double eff = nb % 2 ? tmp[nb / 2] : (tmp[nb / 2 - 1] + tmp[nb / 2]) / 2;
    double base_fail = median(s, 0, nb, F_FAIL, tmp);
    a->base_p = base_p;
    a->base_eff = eff;

    size_t i = first_sustained(s, nb, end, sig_latency, &base_p);
    if (i != SIZE_MAX) finding(&a->latency, &s[i], base_p, s[i].p);
    i = first_failing(s, 0, end);
    if (i != SIZE_MAX) finding(&a->failures, &s[i], i > 0 ? median(s, 0, i, F_FAIL, tmp) : base_fail,
                               s[i].fail);
    i = first_sustained(s, nb, end, sig_knee, &eff);
    if (i != SIZE_MAX && eff > 0) {
        finding(&a->knee, &s[i], eff, s[i].ok / s[i].load);
        a->plateau = median(s, i, end, F_OK, tmp);
        a->knee.load = a->plateau / eff;
    }
}

static void spike(analysis_t *a, const sec_t *s, size_t n, const rate_stages_t *st, double *tmp)
{
    for (size_t k = 1; k < st->n; k++) {
        double base = st->target[k - 1];
        if (!(base > 0) || st->target[k] < ANALYSIS_SPIKE_FACTOR * base) continue;
        size_t j = k + 1;
        while (j < st->n && st->target[j] > 1.25 * base) j++;
        if (j >= st->n) continue;
        a->spike = 1;
        a->base_load = base;
        a->spike_load = st->target[k];
        for (size_t m = k; m < j; m++)
            if (st->target[m] > a->spike_load) a->spike_load = st->target[m];
        uint64_t pre_from = stage_start_ns(st, k - 1) + 1000000000u;
        uint64_t rise = stage_start_ns(st, k), back = stage_start_ns(st, j + 1);
        a->spike_start = (uint32_t)(rise / 1000000000u);
        a->spike_end = (uint32_t)((back + 999999999u) / 1000000000u);
        size_t p0 = 0, p1, after;
        while (p0 < n && (uint64_t)s[p0].t * 1000000000u < pre_from - 1000000000u) p0++;
        p1 = p0;
        while (p1 < n && ((uint64_t)s[p1].t + 1) * 1000000000u <= rise) p1++;
        if (p1 - p0 >= 2 && (uint64_t)s[p0].t * 1000000000u < pre_from) p0++; /* its first second: ramping */
        after = p1;
        while (after < n && s[after].t < a->spike_end) after++;
        if (p1 == p0 || after >= n) {
            a->spike_short = 1;
            return;
        }
        a->pre_p = median(s, p0, p1, F_P, tmp);
        a->pre_fail = median(s, p0, p1, F_FAIL, tmp);
        band_t b = { fmax(ANALYSIS_BAND * a->pre_p, a->pre_p + 1000.0), a->pre_fail + 0.01 };
        size_t r = first_sustained(s, after, n, sig_recovered, &b);
        size_t worst_to = r == SIZE_MAX ? n : r;
        for (size_t m = p1; m < worst_to; m++) {
            if (s[m].p > a->peak_p) a->peak_p = s[m].p;
            if (s[m].fail > a->peak_fail) a->peak_fail = s[m].fail;
        }
        if (r != SIZE_MAX) {
            a->recovered = 1;
            a->recovered_at = s[r].t;
            a->recovery_s = (double)s[r].t - (double)a->spike_end;
            if (a->recovery_s < 0) a->recovery_s = 0;
        }
        return; /* the first spike only */
    }
}

static void soak(analysis_t *a, const sec_t *s, size_t n, double *tmp)
{
    if (n < ANALYSIS_SOAK_MIN_S) {
        a->soak_short = n >= 3;
        return;
    }
    size_t w = n / 10 ? n / 10 : 1;
    a->soak = 1;
    a->first_p = median(s, 0, w, F_P, tmp);
    a->last_p = median(s, n - w, n, F_P, tmp);
    a->first_ok = median(s, 0, w, F_OK, tmp);
    a->last_ok = median(s, n - w, n, F_OK, tmp);
    a->p_drift = a->first_p > 0 ? a->last_p / a->first_p - 1 : 0;
    a->ok_drift = a->first_ok > 0 ? a->last_ok / a->first_ok - 1 : 0;
}

void analysis_run(analysis_t *a, const stats_series_t *series, const rate_stages_t *st, int rate)
{
    memset(a, 0, sizeof *a);
    a->pct = 90;
    a->load_unit = rate && st->n ? "req/s" : "connections";
    if (!series || series->n < 3) return;
    sec_t *s = malloc(series->n * sizeof *s);
    double *tmp = malloc(series->n * sizeof *tmp);
    if (s && tmp) {
        /* p95, but older results have no per-second p95 */
        for (uint32_t i = 0; i < series->n && a->pct == 90; i++) if (series->pts[i].p95) a->pct = 95;
        size_t n = collect(s, series, st, rate, a->pct == 95);
        int rising = 0;
        for (size_t k = 0; k < st->n; k++)
            if (st->target[k] > (k ? st->target[k - 1] : 0)) rising = 1;
        if (st->n && rising) {
            ramp(a, s, n, st, tmp);
            spike(a, s, n, st, tmp);
        } else {
            soak(a, s, n, tmp);
        }
    }
    free(s);
    free(tmp);
}
