/* Unit tests: the analysis of a per-second series (analysis.h) on series
 * built from a model whose answers are known: a server with a knee at 40
 * connections, a spike that recovers after a known time, a soak that drifts. */
#include "analysis.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define S UINT64_C(1000000000)

static stats_series_t series(uint32_t n)
{
    stats_series_t s = { .pts = calloc(n, sizeof(stats_point_t)), .n = n, .cap = n };
    return s;
}

/* A second of a closed-loop run with c connections on average against a
 * server of min(c / 10ms, 4000/s) successful responses; beyond 120
 * connections 5% of the attempts fail as well (503s on top). `active` is
 * the count at the second's end (the caller sets it for a ramp). */
static void model(stats_point_t *p, double c)
{
    double ok = c / 0.010 < 4000 ? c / 0.010 : 4000;
    double lat = c / ok;              /* Little's law */
    uint64_t failed = c > 120 ? (uint64_t)(ok / 0.95 * 0.05) : 0;
    p->active = (uint32_t)c;
    p->requests = (uint64_t)ok + failed;
    p->failed = failed;
    p->p95 = p->p90 = (uint64_t)(lat * 1e6);
    p->p50 = p->p90;
}

/* A linear ramp: second i holds on average rate x (i + 0.5) connections,
 * rate x (i + 1) at its end, up to max. */
static void ramp_model(stats_series_t *ser, double rate, double max)
{
    for (uint32_t i = 0; i < ser->n; i++) {
        double mean = rate * (i + 0.5), end = rate * (i + 1);
        model(&ser->pts[i], mean < max ? mean : max);
        ser->pts[i].active = (uint32_t)(end < max ? end : max);
    }
}

TEST(analysis_ramp_finds_knee_latency_and_failures)
{
    rate_stages_t st = test_stages("20s:200");
    stats_series_t ser = series(22);
    ramp_model(&ser, 10, 200);
    analysis_t a;
    analysis_run(&a, &ser, &st, 0);
    ASSERT(a.ramp && !a.ramp_short);
    ASSERT(a.knee.found && a.latency.found && a.failures.found);
    /* the plateau (4000) meets the baseline line (100 per connection) at 40 */
    ASSERT(a.plateau > 3999 && a.plateau < 4001);
    ASSERT(a.knee.load > 39 && a.knee.load < 41);
    /* latency doubles (20 ms) beyond 80 connections: second 8 holds 85 */
    ASSERT_NEAR(a.latency.load, 85, 0.01);
    ASSERT_NEAR(a.failures.load, 125, 0.01);
    ASSERT(a.failures.before == 0 && a.failures.after > 0.04);
    ASSERT(!a.spike && !a.soak);
    free(ser.pts);
}

TEST(analysis_a_steady_ramp_finds_nothing)
{
    rate_stages_t st = test_stages("20s:30");
    stats_series_t ser = series(22);
    ramp_model(&ser, 1.5, 30);
    analysis_t a;
    analysis_run(&a, &ser, &st, 0);
    ASSERT(a.ramp && !a.ramp_short);
    ASSERT(!a.knee.found && !a.latency.found && !a.failures.found);
    free(ser.pts);
}

TEST(analysis_one_bad_second_is_not_a_finding)
{
    rate_stages_t st = test_stages("20s:30");
    stats_series_t ser = series(22);
    ramp_model(&ser, 1.5, 30);
    ser.pts[10].p95 *= 10;
    ser.pts[12].failed = ser.pts[12].requests / 2;
    analysis_t a;
    analysis_run(&a, &ser, &st, 0);
    ASSERT(!a.latency.found && !a.failures.found);
    free(ser.pts);
}

TEST(analysis_spike_recovery_time)
{
    /* 20 connections, a spike to 200 from 5 to 8 s, back at 20 from 9 s; the
     * server is slow (and failing) until 12 s: recovered 3 s after 9 s */
    rate_stages_t st = test_stages("5s:20,1s:200,2s:200,1s:20,9s:20");
    stats_series_t ser = series(18);
    for (uint32_t i = 0; i < ser.n; i++) {
        uint64_t t = (uint64_t)i * S + S / 2;
        model(&ser.pts[i], rate_stages_value(&st, t));
        if (i >= 5 && i < 12) {
            ser.pts[i].p95 *= 8;
            ser.pts[i].failed = ser.pts[i].requests / 10;
        }
    }
    analysis_t a;
    analysis_run(&a, &ser, &st, 0);
    ASSERT(a.spike && !a.spike_short);
    ASSERT_EQ_INT(a.spike_start, 5);
    ASSERT_EQ_INT(a.spike_end, 9);
    ASSERT(a.recovered);
    ASSERT_EQ_INT(a.recovered_at, 12);
    ASSERT(a.recovery_s == 3);
    ASSERT(a.peak_fail > 0.09 && a.pre_fail == 0);
    free(ser.pts);
}

TEST(analysis_spike_not_recovered)
{
    rate_stages_t st = test_stages("5s:20,1s:200,1s:20,6s:20");
    stats_series_t ser = series(14);
    for (uint32_t i = 0; i < ser.n; i++) {
        model(&ser.pts[i], rate_stages_value(&st, (uint64_t)i * S + S / 2));
        if (i >= 5) ser.pts[i].p95 *= 8;
    }
    analysis_t a;
    analysis_run(&a, &ser, &st, 0);
    ASSERT(a.spike && !a.recovered);
    free(ser.pts);
}

TEST(analysis_soak_drift)
{
    rate_stages_t none = { 0 };
    stats_series_t ser = series(60);
    for (uint32_t i = 0; i < ser.n; i++) {
        model(&ser.pts[i], 20);
        ser.pts[i].p95 = 5000 + 100 * (uint64_t)i; /* 5 ms -> 11 ms */
    }
    analysis_t a;
    analysis_run(&a, &ser, &none, 0);
    ASSERT(a.soak && !a.ramp && !a.spike);
    ASSERT(a.p_drift > 0.9 && a.p_drift < 1.1);
    ASSERT(a.ok_drift == 0);
    ser.n = 10;
    analysis_run(&a, &ser, &none, 0);
    ASSERT(!a.soak && a.soak_short);
    free(ser.pts);
}

TEST(analysis_rate_stages_use_the_target_rate_as_load)
{
    rate_stages_t st = test_stages("20s:2000");
    stats_series_t ser = series(22);
    for (uint32_t i = 0; i < ser.n; i++) {
        double r = rate_stages_value(&st, (uint64_t)i * S + S / 2);
        ser.pts[i].requests = (uint64_t)(r < 1000 ? r : 1000);
        ser.pts[i].p95 = 1000;
        ser.pts[i].active = 50;
    }
    analysis_t a;
    analysis_run(&a, &ser, &st, 1);
    ASSERT(!strcmp(a.load_unit, "req/s"));
    ASSERT(a.knee.found && a.knee.load > 990 && a.knee.load < 1010);
    free(ser.pts);
}
