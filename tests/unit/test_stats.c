/* test_stats.c - the histogram against exact answers computed from the raw
 * samples: bucket layout, percentiles, mean/stdev, merge, clamping. */
#include "test.h"
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* splitmix64: a fixed-seed generator, so every run sees the same samples. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rng_unit(uint64_t *s)
{
    return (double)((rng_next(s) >> 11) + 1) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentiles in thousandths of a percent, so the exact rank is integer math:
 * rank = ceil(p * n / 100000), the smallest value with >= p% at or below. */
static const uint64_t pcts[] = {
    0, 1, 100, 1000, 10000, 25000, 33333, 50000, 66667, 75000,
    90000, 99000, 99900, 99990, 99999, 100000,
};

/* Non-zero (and a message) unless every percentile of h is the exact one
 * from sorted[] or above it by at most 1/1024 of it (the layout's promise,
 * stricter than the 0.1% the design asks for). */
static int check_percentiles(const hist_t *h, const uint64_t *sorted, size_t n)
{
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        uint64_t rank = (pcts[k] * n + 99999) / 100000;
        uint64_t exact = sorted[rank ? rank - 1 : 0];
        uint64_t got = hist_percentile(h, (double)pcts[k] / 1000.0);
        if (got < exact || (got - exact) * 1024 > exact) {
            fprintf(stderr, "    p%.3f of %zu values: got %llu, exact %llu\n",
                    (double)pcts[k] / 1000.0, n, (unsigned long long)got,
                    (unsigned long long)exact);
            return 1;
        }
    }
    return 0;
}

/* Exact mean and population stdev (two passes in long double). */
static void exact_moments(const uint64_t *v, size_t n, double *mean, double *sd)
{
    long double sum = 0, ss = 0;
    for (size_t i = 0; i < n; i++) sum += (long double)v[i];
    long double m = sum / (long double)n;
    for (size_t i = 0; i < n; i++) {
        long double d = (long double)v[i] - m;
        ss += d * d;
    }
    *mean = (double)m;
    *sd = (double)sqrtl(ss / (long double)n);
}

static double exact_within(const uint64_t *v, size_t n, double mean, double sd)
{
    size_t in = 0;
    for (size_t i = 0; i < n; i++)
        if ((double)v[i] >= mean - sd && (double)v[i] <= mean + sd) in++;
    return 100.0 * (double)in / (double)n;
}

/* Feed samples to a fresh histogram and compare everything with the exact
 * answers; sorts v in place. */
static int check_distribution(uint64_t *v, size_t n, double within_tol)
{
    hist_t h;
    if (hist_init(&h) != 0) return 1;
    for (size_t i = 0; i < n; i++) hist_record(&h, v[i]);
    qsort(v, n, sizeof *v, cmp_u64);
    int bad = check_percentiles(&h, v, n);
    double mean, sd;
    exact_moments(v, n, &mean, &sd);
    if (h.total != n || h.min != v[0] || h.max != v[n - 1]) {
        fprintf(stderr, "    total/min/max wrong\n");
        bad = 1;
    }
    if (fabs(hist_mean(&h) - mean) > 1e-9 * mean) {
        fprintf(stderr, "    mean %f, exact %f\n", hist_mean(&h), mean);
        bad = 1;
    }
    if (fabs(hist_stdev(&h) - sd) > 1e-9 * sd + 1e-7 * mean) {
        fprintf(stderr, "    stdev %f, exact %f\n", hist_stdev(&h), sd);
        bad = 1;
    }
    double w = hist_within_stdev(&h), we = exact_within(v, n, mean, sd);
    if (fabs(w - we) > within_tol) {
        fprintf(stderr, "    within stdev %f%%, exact %f%%\n", w, we);
        bad = 1;
    }
    hist_free(&h);
    return bad;
}

#define NSAMPLES 200000

TEST(stats_layout_every_bucket)
{
    /* Walk every bucket: contiguous, index/lowest/highest agree, width at
     * most 1/1024 of the values it holds, and the last one ends at the max. */
    size_t n = hist_index(HIST_MAX_VALUE) + 1;
    ASSERT_EQ_INT(hist_lowest(0), 0);
    uint64_t next = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = hist_lowest(i), hi = hist_highest(i);
        ASSERT(lo == next);
        ASSERT(lo <= hi);
        ASSERT(hist_index(lo) == i);
        ASSERT(hist_index(hi) == i);
        ASSERT((hi - lo) * 1024 <= lo);
        if (lo < 2048) ASSERT(lo == hi);      /* the exact range */
        next = hi + 1;
    }
    ASSERT(hist_highest(n - 1) == HIST_MAX_VALUE);
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    ASSERT_EQ_INT(h.ncounts, n);
    hist_free(&h);
}

TEST(stats_layout_values)
{
    /* Every value below 2^17 exhaustively, both sides of every power of two,
     * and a million log-uniform values up to 2^40. */
    for (uint64_t v = 0; v < (1u << 17); v++) {
        size_t i = hist_index(v);
        ASSERT(hist_lowest(i) <= v && v <= hist_highest(i));
        if (v < 2048) ASSERT(i == v);
    }
    for (unsigned k = 1; k <= HIST_MAX_BITS; k++) {
        uint64_t p = UINT64_C(1) << k;
        for (uint64_t v = p - 2; v <= p + 1 && v <= HIST_MAX_VALUE; v++) {
            size_t i = hist_index(v);
            ASSERT(hist_lowest(i) <= v && v <= hist_highest(i));
        }
    }
    uint64_t s = 42;
    for (int j = 0; j < 1000000; j++) {
        uint64_t v = rng_next(&s) >> (24 + rng_next(&s) % 40);
        size_t i = hist_index(v);
        uint64_t lo = hist_lowest(i), hi = hist_highest(i);
        ASSERT(lo <= v && v <= hi);
        ASSERT((hi - v) * 1024 <= v);
    }
    /* Above the range, hist_index clamps. */
    ASSERT(hist_index(UINT64_MAX) == hist_index(HIST_MAX_VALUE));
}

TEST(stats_empty)
{
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    ASSERT_EQ_INT(h.total, 0);
    ASSERT(h.min == UINT64_MAX);
    ASSERT_EQ_INT(h.max, 0);
    ASSERT_EQ_INT(hist_percentile(&h, 0), 0);
    ASSERT_EQ_INT(hist_percentile(&h, 50), 0);
    ASSERT_EQ_INT(hist_percentile(&h, 100), 0);
    ASSERT(hist_mean(&h) == 0);
    ASSERT(hist_stdev(&h) == 0);
    ASSERT(hist_within_stdev(&h) == 0);
    hist_free(&h);
    ASSERT(h.counts == NULL);
    /* Free then init again works. */
    ASSERT_EQ_INT(hist_init(&h), 0);
    hist_record(&h, 5);
    ASSERT_EQ_INT(hist_percentile(&h, 50), 5);
    hist_free(&h);
}

TEST(stats_single_value)
{
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    hist_record(&h, 777777);
    ASSERT_EQ_INT(hist_percentile(&h, 0), 777777);
    ASSERT_EQ_INT(hist_percentile(&h, 50), 777777);
    ASSERT_EQ_INT(hist_percentile(&h, 99.99), 777777);
    ASSERT_EQ_INT(hist_percentile(&h, 100), 777777);
    ASSERT(hist_mean(&h) == 777777.0);
    ASSERT(hist_stdev(&h) == 0);
    ASSERT(hist_within_stdev(&h) == 100.0);
    hist_free(&h);
}

TEST(stats_all_equal)
{
    /* Clamping to [min, max] makes percentiles of a constant exact even in a
     * wide bucket, and the stdev is exactly 0 despite the huge squares. */
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    const uint64_t v = 3600000001u; /* an hour in us, in a 2^21-wide bucket */
    for (int i = 0; i < 1000; i++) hist_record(&h, v);
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++)
        ASSERT(hist_percentile(&h, (double)pcts[k] / 1000.0) == v);
    ASSERT(hist_mean(&h) == (double)v);
    ASSERT(hist_stdev(&h) == 0);
    ASSERT(hist_within_stdev(&h) == 100.0);
    hist_free(&h);
}

TEST(stats_uniform_every_value)
{
    /* 1..1e6 each once: the exact percentile is just the rank. */
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    const uint64_t n = 1000000;
    for (uint64_t v = 1; v <= n; v++) hist_record(&h, v);
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        uint64_t rank = (pcts[k] * n + 99999) / 100000;
        uint64_t exact = rank ? rank : 1;
        uint64_t got = hist_percentile(&h, (double)pcts[k] / 1000.0);
        ASSERT(got >= exact && (got - exact) * 1024 <= exact);
    }
    ASSERT_EQ_INT(hist_percentile(&h, 50), hist_highest(hist_index(500000)));
    ASSERT_EQ_INT(hist_percentile(&h, 100), 1000000);
    ASSERT(fabs(hist_mean(&h) - 500000.5) < 1e-6);
    double sd = sqrt(((double)n * (double)n - 1) / 12);
    ASSERT(fabs(hist_stdev(&h) - sd) < 1e-3);
    /* Exactly 577350 values lie within [211325.2, 788675.8] */
    ASSERT(fabs(hist_within_stdev(&h) - 57.735) < 0.1);
    hist_free(&h);
}

TEST(stats_uniform_random)
{
    uint64_t *v = malloc(NSAMPLES * sizeof *v), s = 1;
    ASSERT(v);
    for (size_t i = 0; i < NSAMPLES; i++) v[i] = 1 + rng_next(&s) % 1000000;
    int bad = check_distribution(v, NSAMPLES, 0.1);
    free(v);
    ASSERT(!bad);
}

TEST(stats_exponential)
{
    /* Latency-like: mean 5 ms in us, long tail. */
    uint64_t *v = malloc(NSAMPLES * sizeof *v), s = 2;
    ASSERT(v);
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = 1 + (uint64_t)(-5000.0 * log(rng_unit(&s)));
    int bad = check_distribution(v, NSAMPLES, 0.1);
    free(v);
    ASSERT(!bad);
}

TEST(stats_one_us_to_one_hour)
{
    /* Log-uniform over 1 us .. 1 hour: every level of the layout is used. */
    uint64_t *v = malloc(NSAMPLES * sizeof *v), s = 3;
    ASSERT(v);
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = (uint64_t)exp(rng_unit(&s) * log(3.6e9));
    v[0] = 1;
    v[1] = 3600000000u;
    int bad = check_distribution(v, NSAMPLES, 0.1);
    free(v);
    ASSERT(!bad);
}

TEST(stats_small_exact_values)
{
    /* Below 2048 everything is exact: percentiles and within-stdev too. */
    uint64_t v[1000], s = 4;
    for (size_t i = 0; i < 1000; i++) v[i] = rng_next(&s) % 2048;
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    for (size_t i = 0; i < 1000; i++) hist_record(&h, v[i]);
    qsort(v, 1000, sizeof *v, cmp_u64);
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        uint64_t rank = (pcts[k] * 1000 + 99999) / 100000;
        ASSERT_EQ_INT(hist_percentile(&h, (double)pcts[k] / 1000.0), v[rank ? rank - 1 : 0]);
    }
    double mean, sd;
    exact_moments(v, 1000, &mean, &sd);
    ASSERT(fabs(hist_within_stdev(&h) - exact_within(v, 1000, mean, sd)) < 1e-9);
    hist_free(&h);
}

TEST(stats_within_stdev_known)
{
    /* 450 x 100, 450 x 300, 50 x 0, 50 x 5000: mean 430, population stdev
     * sqrt(1295000 - 430^2) = 1053.6; [-623.6, 1483.6] holds all but the
     * 50 x 5000. */
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    hist_record_n(&h, 100, 450);
    hist_record_n(&h, 300, 450);
    hist_record_n(&h, 0, 50);
    hist_record_n(&h, 5000, 50);
    ASSERT(fabs(hist_mean(&h) - 430.0) < 1e-9);
    ASSERT(fabs(hist_stdev(&h) - sqrt(1110100.0)) < 1e-6);
    ASSERT(fabs(hist_within_stdev(&h) - 95.0) < 1e-9);
    /* Two equal halves: every value sits exactly on mean +/- stdev, and the
     * interval is inclusive. */
    hist_reset(&h);
    hist_record_n(&h, 1000000, 10);
    hist_record_n(&h, 3000000, 10);
    ASSERT(fabs(hist_stdev(&h) - 1000000.0) < 1e-6);
    ASSERT(fabs(hist_within_stdev(&h) - 100.0) < 1e-9);
    hist_free(&h);
}

TEST(stats_mean_stdev_exact)
{
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    uint64_t small[] = { 2, 4, 4, 4, 5, 5, 7, 9 }; /* mean 5, stdev 2 */
    for (size_t i = 0; i < 8; i++) hist_record(&h, small[i]);
    ASSERT(hist_mean(&h) == 5.0);
    ASSERT(hist_stdev(&h) == 2.0);
    /* A tiny spread on a 1 ms mean (in us): stdev 0.5 is kept. */
    hist_reset(&h);
    for (int i = 0; i < 100000; i++) hist_record(&h, 1000 + (uint64_t)(i & 1));
    ASSERT(fabs(hist_mean(&h) - 1000.5) < 1e-9);
    ASSERT(fabs(hist_stdev(&h) - 0.5) < 1e-6);
    /* A realistic spread (100 ms +/- 5 ms) over a million samples, where
     * sumsq is far past 2^53: still within 1e-6 of the exact stdev. */
    uint64_t *v = malloc(1000000 * sizeof *v), s = 11;
    ASSERT(v);
    hist_reset(&h);
    for (size_t i = 0; i < 1000000; i++) {
        v[i] = 95000 + rng_next(&s) % 10001;
        hist_record(&h, v[i]);
    }
    double mean, sdx;
    exact_moments(v, 1000000, &mean, &sdx);
    free(v);
    ASSERT(fabs(hist_mean(&h) - mean) < 1e-9 * mean);
    ASSERT(fabs(hist_stdev(&h) - sdx) < 1e-6 * sdx);
    /* A spread of 1 on values near 2^39: the sums lose it to rounding, but
     * the answer stays a number in [0, (max - min) / 2]. */
    hist_reset(&h);
    uint64_t big = UINT64_C(1) << 39;
    for (int i = 0; i < 1000; i++) hist_record(&h, big + (uint64_t)(i & 1));
    ASSERT(fabs(hist_mean(&h) - ((double)big + 0.5)) < 1e-3);
    double sd = hist_stdev(&h);
    ASSERT(sd >= 0 && sd <= 0.5);
    /* {b, b+1} with b = 3e9+29: on x86-64 the naive formula says 32. */
    hist_reset(&h);
    hist_record(&h, 3000000029u);
    hist_record(&h, 3000000030u);
    sd = hist_stdev(&h);
    ASSERT(sd >= 0 && sd <= 0.5);
    hist_free(&h);
}

TEST(stats_record_n_matches_record)
{
    hist_t a, b;
    ASSERT_EQ_INT(hist_init(&a), 0);
    ASSERT_EQ_INT(hist_init(&b), 0);
    uint64_t s = 5;
    for (int j = 0; j < 1000; j++) {
        uint64_t v = rng_next(&s) % 10000000, n = rng_next(&s) % 5;
        hist_record_n(&a, v, n);
        for (uint64_t k = 0; k < n; k++) hist_record(&b, v);
    }
    hist_record_n(&a, 1, 0); /* n = 0 records nothing, not even the min */
    ASSERT(memcmp(a.counts, b.counts, a.ncounts * sizeof *a.counts) == 0);
    ASSERT_EQ_INT(a.total, b.total);
    ASSERT_EQ_INT(a.min, b.min);
    ASSERT_EQ_INT(a.max, b.max);
    ASSERT(a.sum == b.sum);
    ASSERT(fabs(a.sumsq - b.sumsq) <= 1e-12 * b.sumsq);
    hist_free(&a);
    hist_free(&b);
}

TEST(stats_merge_equals_single)
{
    hist_t a, b, all, empty;
    ASSERT_EQ_INT(hist_init(&a), 0);
    ASSERT_EQ_INT(hist_init(&b), 0);
    ASSERT_EQ_INT(hist_init(&all), 0);
    ASSERT_EQ_INT(hist_init(&empty), 0);
    uint64_t s = 6;
    for (int i = 0; i < 50000; i++) {  /* a: fast responses */
        uint64_t v = 100 + rng_next(&s) % 5000;
        hist_record(&a, v);
        hist_record(&all, v);
    }
    for (int i = 0; i < 30000; i++) {  /* b: slow ones, and one clamped */
        uint64_t v = i ? 1000000 + rng_next(&s) % 100000000 : UINT64_MAX;
        hist_record(&b, v);
        hist_record(&all, v);
    }
    hist_merge(&a, &empty);            /* merging nothing changes nothing */
    ASSERT_EQ_INT(a.total, 50000);
    hist_merge(&empty, &a);            /* into an empty one: a copy */
    ASSERT(memcmp(empty.counts, a.counts, a.ncounts * sizeof *a.counts) == 0);
    ASSERT_EQ_INT(empty.min, a.min);
    ASSERT_EQ_INT(empty.max, a.max);
    hist_merge(&a, &b);
    ASSERT(memcmp(a.counts, all.counts, a.ncounts * sizeof *a.counts) == 0);
    ASSERT_EQ_INT(a.total, all.total);
    ASSERT_EQ_INT(a.min, all.min);
    ASSERT_EQ_INT(a.max, all.max);
    ASSERT_EQ_INT(a.clamped, 1);
    ASSERT_EQ_INT(a.clamped, all.clamped);
    ASSERT(a.sum == all.sum);                 /* integers below 2^53: exact */
    ASSERT(fabs(a.sumsq - all.sumsq) <= 1e-12 * all.sumsq);
    for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
        double p = (double)pcts[k] / 1000.0;
        ASSERT(hist_percentile(&a, p) == hist_percentile(&all, p));
    }
    hist_free(&a);
    hist_free(&b);
    hist_free(&all);
    hist_free(&empty);
}

TEST(stats_clamp)
{
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    hist_record(&h, 10);
    hist_record(&h, HIST_MAX_VALUE);           /* the max itself is in range */
    ASSERT_EQ_INT(h.clamped, 0);
    hist_record(&h, HIST_MAX_VALUE + 1);
    hist_record(&h, UINT64_MAX);
    hist_record_n(&h, UINT64_C(1) << 50, 3);
    ASSERT_EQ_INT(h.clamped, 5);
    ASSERT_EQ_INT(h.total, 7);
    ASSERT(h.max == HIST_MAX_VALUE);
    ASSERT_EQ_INT(h.counts[h.ncounts - 1], 6);
    ASSERT(hist_percentile(&h, 100) == HIST_MAX_VALUE);
    ASSERT(hist_percentile(&h, 50) == HIST_MAX_VALUE);
    ASSERT_EQ_INT(hist_percentile(&h, 10), 10);
    ASSERT(h.sum == 10.0 + 6.0 * (double)HIST_MAX_VALUE);
    hist_free(&h);
}

TEST(stats_reset)
{
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    uint64_t *counts = h.counts;
    for (uint64_t v = 0; v < 100000; v += 7) hist_record(&h, v * 1000);
    hist_record(&h, UINT64_MAX);
    hist_reset(&h);
    ASSERT(h.counts == counts);                /* allocation kept */
    ASSERT_EQ_INT(h.total, 0);
    ASSERT_EQ_INT(h.clamped, 0);
    ASSERT(h.min == UINT64_MAX);
    ASSERT_EQ_INT(h.max, 0);
    ASSERT(h.sum == 0 && h.sumsq == 0);
    for (size_t i = 0; i < h.ncounts; i++) ASSERT(h.counts[i] == 0);
    ASSERT_EQ_INT(hist_percentile(&h, 50), 0);
    ASSERT(hist_mean(&h) == 0);
    hist_record(&h, 42);
    ASSERT_EQ_INT(hist_percentile(&h, 100), 42);
    ASSERT_EQ_INT(h.min, 42);
    hist_free(&h);
}

TEST(stats_percentile_rank_rounding)
{
    /* p * n / 100 is an exact integer for many (p, n) but floating point
     * lands a hair above it (8.8% of 375 computes as 33.000000000000007):
     * the rank must still be 33, not 34. Sweep p in steps of 0.007% over
     * sizes where this happens, against integer ranks. */
    static const uint64_t sizes[] = { 375, 625, 750 };
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    for (size_t z = 0; z < 3; z++) {
        uint64_t n = sizes[z];
        hist_reset(&h);
        for (uint64_t v = 1; v <= n; v++) hist_record(&h, v); /* exact range */
        for (uint64_t k = 0; k <= 100000; k += 7) {
            uint64_t rank = (k * n + 99999) / 100000;
            ASSERT_EQ_INT(hist_percentile(&h, (double)k / 1000.0), rank ? rank : 1);
        }
        ASSERT_EQ_INT(hist_percentile(&h, 100), n);
    }
    hist_free(&h);
}

TEST(stats_percentile_edges)
{
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    for (uint64_t v = 1; v <= 10; v++) hist_record(&h, v * 1000000);
    ASSERT_EQ_INT(hist_percentile(&h, 0), 1000000);         /* exact min */
    ASSERT_EQ_INT(hist_percentile(&h, -5), 1000000);
    ASSERT_EQ_INT(hist_percentile(&h, 100), 10000000);      /* exact max */
    ASSERT_EQ_INT(hist_percentile(&h, 250), 10000000);
    /* 10% of 10 is exactly rank 1, 10.001% is rank 2. */
    ASSERT_EQ_INT(hist_percentile(&h, 10), hist_highest(hist_index(1000000)));
    ASSERT_EQ_INT(hist_percentile(&h, 10.001), hist_highest(hist_index(2000000)));
    ASSERT_EQ_INT(hist_percentile(&h, 90), hist_highest(hist_index(9000000)));
    ASSERT_EQ_INT(hist_percentile(&h, 90.001), 10000000);
    hist_free(&h);
}

TEST(stats_counters_merge)
{
    stats_t a, b;
    ASSERT_EQ_INT(stats_init(&a), 0);
    ASSERT_EQ_INT(stats_init(&b), 0);
    a.requests = 10; a.sent = 11; a.bytes = 1000; a.connects = 2;
    a.errors = (stats_errors_t){ .connect = 1, .read = 2, .write = 3,
                                 .timeout = 4, .status = 5, .parse = 6 };
    b.requests = 1; b.sent = 2; b.bytes = 3; b.connects = 4;
    b.errors = (stats_errors_t){ .connect = 10, .read = 20, .write = 30,
                                 .timeout = 40, .status = 50, .parse = 60 };
    hist_record(&a.latency, 100);
    hist_record(&b.latency, 200);
    hist_record(&b.rate, 5000);
    stats_merge(&a, &b);
    ASSERT_EQ_INT(a.requests, 11);
    ASSERT_EQ_INT(a.sent, 13);
    ASSERT_EQ_INT(a.bytes, 1003);
    ASSERT_EQ_INT(a.connects, 6);
    ASSERT_EQ_INT(a.errors.connect, 11);
    ASSERT_EQ_INT(a.errors.read, 22);
    ASSERT_EQ_INT(a.errors.write, 33);
    ASSERT_EQ_INT(a.errors.timeout, 44);
    ASSERT_EQ_INT(a.errors.status, 55);
    ASSERT_EQ_INT(a.errors.parse, 66);
    ASSERT_EQ_INT(stats_error_total(&a.errors), 11 + 22 + 33 + 44 + 66);
    ASSERT_EQ_INT(a.latency.total, 2);
    ASSERT_EQ_INT(a.latency.max, 200);
    ASSERT_EQ_INT(a.rate.total, 1);
    ASSERT_EQ_INT(b.latency.total, 1);          /* src untouched */
    stats_free(&a);
    stats_free(&b);
    ASSERT(a.latency.counts == NULL && a.rate.counts == NULL);
}

TEST(stats_second_take_folds_into_the_run)
{
    /* A response is recorded in the current second only; taking the second
     * moves it into the whole run's histogram and hands over exactly its
     * non-empty buckets. */
    stats_t s, prev;
    ASSERT_EQ_INT(stats_init(&s), 0);
    ASSERT_EQ_INT(stats_init(&prev), 0);
    uint64_t v1[] = { 3, 3, 900, 5000, 123456789 };
    for (size_t i = 0; i < 5; i++) hist_record(&s.second, v1[i]);
    s.requests = 5;
    stats_second_t *a = stats_second_take(&s, &prev, 0, 7);
    ASSERT(a);
    ASSERT_EQ_INT(a->requests, 5);
    ASSERT_EQ_INT(a->active, 7);
    ASSERT_EQ_INT(a->nbuckets, 4);              /* 3 (twice), 900, 5000, 123456789 */
    ASSERT_EQ_INT(a->bucket[0].index, hist_index(3));
    ASSERT_EQ_INT(a->bucket[0].count, 2);
    ASSERT_EQ_INT(a->bucket[3].index, hist_index(123456789));
    ASSERT_EQ_INT(s.second.total, 0);
    for (size_t i = 0; i < s.second.ncounts; i++) ASSERT(s.second.counts[i] == 0);
    ASSERT_EQ_INT(s.latency.total, 5);
    ASSERT_EQ_INT(s.latency.min, 3);
    ASSERT_EQ_INT(s.latency.max, 123456789);
    /* An empty second: no buckets, nothing folded. */
    stats_second_t *b = stats_second_take(&s, &prev, 1, 7);
    ASSERT(b);
    ASSERT_EQ_INT(b->nbuckets, 0);
    ASSERT_EQ_INT(b->requests, 0);
    ASSERT_EQ_INT(s.latency.total, 5);
    /* The next second adds to the run. */
    hist_record(&s.second, 42);
    s.requests = 6;
    stats_second_t *c = stats_second_take(&s, &prev, 2, 7);
    ASSERT(c);
    ASSERT_EQ_INT(c->requests, 1);
    ASSERT_EQ_INT(c->nbuckets, 1);
    ASSERT_EQ_INT(s.latency.total, 6);
    ASSERT_EQ_INT(hist_percentile(&s.latency, 50), 42);
    ASSERT(s.latency.sum == 3.0 + 3 + 900 + 5000 + 123456789 + 42);
    free(a); free(b); free(c);
    stats_free(&s);
    stats_free(&prev);
}

TEST(stats_second_take_counts_per_name)
{
    /* Each second carries the per-name requests and failures it added, only
     * for the names that had any; the names point at the thread's copies. */
    stats_t s, prev;
    ASSERT_EQ_INT(stats_init(&s), 0);
    ASSERT_EQ_INT(stats_init(&prev), 0);
    int a = stats_named_index(&s, "login"), b = stats_named_index(&s, "items");
    s.named[a].requests = 3;
    s.named[a].failures = 1;
    s.named[b].requests = 2;
    stats_second_t *x = stats_second_take(&s, &prev, 0, 1);
    ASSERT(x);
    ASSERT_EQ_INT(x->nnamed, 2);
    ASSERT(x->named[0].name == s.named[a].name);
    ASSERT_EQ_U64(x->named[0].requests, 3);
    ASSERT_EQ_U64(x->named[0].failures, 1);
    ASSERT_EQ_U64(x->named[1].requests, 2);
    ASSERT_EQ_U64(x->named[1].failures, 0);
    s.named[b].requests = 7;
    s.named[b].failures = 4;
    int c = stats_named_index(&s, "logout");
    s.named[c].requests = 1;
    stats_second_t *y = stats_second_take(&s, &prev, 1, 1);
    ASSERT(y);
    ASSERT_EQ_INT(y->nnamed, 2);                /* login had none */
    ASSERT_EQ_STR(y->named[0].name, "items");
    ASSERT_EQ_U64(y->named[0].requests, 5);
    ASSERT_EQ_U64(y->named[0].failures, 4);
    ASSERT_EQ_STR(y->named[1].name, "logout");
    ASSERT_EQ_U64(y->named[1].requests, 1);
    stats_second_t *z = stats_second_take(&s, &prev, 2, 1);
    ASSERT(z);
    ASSERT_EQ_INT(z->nnamed, 0);
    free(x); free(y); free(z);
    stats_free(&s);
    stats_free(&prev);
}
