/* Unit tests: request-rate schedules and stages (rate.h), the arithmetic
 * behind -R and --stages: when each slot is intended, how a stalled sender
 * catches up (coordinated omission), ramps, and per-thread shares. */
#include "rate.h"
#include "test.h"

#include <math.h>
#include <stdint.h>

#define S UINT64_C(1000000000) /* one second in ns */
#define MS UINT64_C(1000000)

rate_stages_t test_stages(const char *spec)
{
    rate_stages_t st;
    char err[256] = "";
    if (rate_stages_parse(spec, &st, err, sizeof err))
        test_fail_(__FILE__, __LINE__, "rate_stages_parse(\"%s\"): %s", spec, err);
    return st;
}

/* Take every slot intended before `end` (ns since the start), as a sender
 * that is never late would. Returns how many; intended times go to out. */
static uint64_t take_until(rate_sched_t *r, uint64_t end, uint64_t *out, uint64_t max)
{
    uint64_t n = 0, t, prev = 0;
    while (rate_sched_next_at(r) < r->start_ns + end && rate_sched_take(r, r->start_ns + end - 1, &t)) {
        ASSERT(t >= prev);                       /* intended times never go back */
        prev = t;
        if (out && n < max) out[n] = t - r->start_ns;
        n++;
    }
    return n;
}

TEST(rate_stages_parse_valid)
{
    rate_stages_t st = test_stages("30s:50,1m:50,10s:0");
    ASSERT_EQ_INT(st.n, 3);
    ASSERT_EQ_U64(st.dur_ns[0], 30 * S);
    ASSERT_EQ_U64(st.dur_ns[1], 60 * S);
    ASSERT_EQ_U64(st.dur_ns[2], 10 * S);
    ASSERT(st.target[0] == 50 && st.target[1] == 50 && st.target[2] == 0);
    ASSERT_EQ_U64(rate_stages_total(&st), 100 * S);
    ASSERT(rate_stages_max(&st) == 50);
    st = test_stages("500ms:2.5");
    ASSERT_EQ_INT(st.n, 1);
    ASSERT_EQ_U64(st.dur_ns[0], 500 * MS);
    ASSERT(st.target[0] == 2.5);
}

TEST(rate_stages_parse_errors)
{
    static const struct { const char *spec, *quote; } bad[] = {
        { "", "no stages" },
        { "30s", "'30s' is not DURATION:TARGET" },
        { "0s:5", "cannot read '0s' as a duration" },
        { "x:5", "cannot read 'x' as a duration" },
        { "5s:", "cannot read '' as a target" },
        { "5s:-1", "cannot read '-1' as a target" },
        { "5s:abc", "cannot read 'abc' as a target" },
        { "5s:inf", "cannot read 'inf' as a target" },
        { "5s:nan", "cannot read 'nan' as a target" },
        { "5s:2e9", "cannot read '2e9' as a target" },
        { "5s:10,x", "'x' is not DURATION:TARGET" },
        { "5000h:1,5000h:1", "more than a year" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rate_stages_t st;
        char err[256] = "";
        if (rate_stages_parse(bad[i].spec, &st, err, sizeof err) != -1 || !strstr(err, bad[i].quote))
            test_fail_(__FILE__, __LINE__, "\"%s\": got \"%s\", want -1 and \"%s\"", bad[i].spec, err,
                       bad[i].quote);
        ASSERT(strncmp(err, "--stages: ", 10) == 0);
    }
    /* 64 stages are fine, 65 are not */
    char spec[1024] = "";
    for (int i = 0; i < RATE_MAX_STAGES; i++) strcat(spec, i ? ",1s:1" : "1s:1");
    rate_stages_t st = test_stages(spec);
    ASSERT_EQ_INT(st.n, RATE_MAX_STAGES);
    strcat(spec, ",1s:1");
    char err[256] = "";
    ASSERT_EQ_INT(rate_stages_parse(spec, &st, err, sizeof err), -1);
    ASSERT(strstr(err, "more than 64 stages"));
}

TEST(rate_stages_value_and_index)
{
    rate_stages_t st = test_stages("10s:100,10s:100,10s:0");
    ASSERT(rate_stages_value(&st, 0) == 0);              /* ramps start from 0 */
    ASSERT_NEAR(rate_stages_value(&st, 5 * S), 50, 1e-9);
    ASSERT_NEAR(rate_stages_value(&st, 10 * S - 1), 100, 1e-6);
    ASSERT(rate_stages_value(&st, 10 * S) == 100);       /* a boundary belongs to the next stage */
    ASSERT(rate_stages_value(&st, 15 * S) == 100);
    ASSERT_NEAR(rate_stages_value(&st, 25 * S), 50, 1e-9);
    ASSERT(rate_stages_value(&st, 30 * S) == 0);         /* after the end: the last target */
    ASSERT(rate_stages_value(&st, 1000 * S) == 0);
    ASSERT_EQ_INT(rate_stages_index(&st, 0), 0);
    ASSERT_EQ_INT(rate_stages_index(&st, 10 * S - 1), 0);
    ASSERT_EQ_INT(rate_stages_index(&st, 10 * S), 1);
    ASSERT_EQ_INT(rate_stages_index(&st, 20 * S), 2);
    ASSERT_EQ_INT(rate_stages_index(&st, 30 * S), 2);    /* n-1 after the end */
    ASSERT_EQ_INT(rate_stages_index(&st, 1000 * S), 2);
    st = test_stages("10s:50,10s:10");
    ASSERT_NEAR(rate_stages_value(&st, 15 * S), 30, 1e-9); /* ramps down from the previous target */
    ASSERT(rate_stages_value(&st, 99 * S) == 10);
}

/* Connection stages round a target to the nearest count; a --spawn-rate ramp
 * rounds up: user k at (k-1)/R s, the first at once (Locust's schedule). */
TEST(rate_stages_count_rounds_and_a_spawn_ramp_rounds_up)
{
    rate_stages_t st = test_stages("4s:4");
    ASSERT_EQ_INT(rate_stages_count(&st, 0), 0);
    ASSERT_EQ_INT(rate_stages_count(&st, S / 2 - 1000), 0);
    ASSERT_EQ_INT(rate_stages_count(&st, S / 2), 1);
    ASSERT_EQ_INT(rate_stages_count_max(&st), 4);
    st.spawn = 1;
    ASSERT_EQ_INT(rate_stages_count(&st, 0), 0);
    ASSERT_EQ_INT(rate_stages_count(&st, 1000), 1);      /* the first user at once */
    ASSERT_EQ_INT(rate_stages_count(&st, S), 1);         /* the second at 1/R s, not a float's ulp before */
    ASSERT_EQ_INT(rate_stages_count(&st, S + 1000), 2);
    ASSERT_EQ_INT(rate_stages_count(&st, 9 * S), 4);
    st = test_stages("1s:0.3");                        /* --users 2 -r 0.3 --run-time 1s */
    st.spawn = 1;
    ASSERT_EQ_INT(rate_stages_count_max(&st), 1);
    st.spawn = 0;
    ASSERT_EQ_INT(rate_stages_count_max(&st), 0);
}

/* Slot k of a constant rate R is intended k/R s after the start: the
 * computed instant is never after the exact one and at most 1 ns before
 * (a double truncated to ns). Checked in exact integer arithmetic. */
TEST(rate_sched_constant_slot_times)
{
    static const uint64_t rates[] = { 1, 3, 7, 1000, 12345, 1000000 };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        rate_sched_t r;
        uint64_t start = UINT64_C(123456789012345), t;
        rate_sched_init(&r, (double)rates[i], start);
        for (uint64_t k = 0; k < 100000; k++) {
            ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
            uint64_t lo = k * S / rates[i];                     /* floor of the exact instant */
            uint64_t hi = lo + (k * S % rates[i] != 0);          /* its ceiling */
            if (t - start > hi || t - start + 1 < lo)
                test_fail_(__FILE__, __LINE__, "rate %llu slot %llu at %llu ns, exact in [%llu, %llu]",
                           (unsigned long long)rates[i], (unsigned long long)k,
                           (unsigned long long)(t - start), (unsigned long long)lo, (unsigned long long)hi);
        }
        ASSERT_EQ_U64(r.next, 100000);
    }
    rate_sched_t r; /* a fractional rate: 0.5/s is one slot every 2 s */
    uint64_t t;
    rate_sched_init(&r, 0.5, 0);
    for (uint64_t k = 0; k < 10; k++) {
        ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
        ASSERT_EQ_U64(t, 2 * k * S);
    }
    ASSERT_NEAR(rate_sched_count(&r, 10 * S), 5, 1e-12);
}

/* A slot is due at its intended instant, not 1 ns before; taking it hands
 * back the intended time, not the time it was taken. */
TEST(rate_sched_take_at_the_boundary)
{
    rate_sched_t r;
    uint64_t t = 42;
    rate_sched_init(&r, 1000, 5 * S);
    ASSERT_EQ_U64(rate_sched_next_at(&r), 5 * S);             /* slot 0 at the start */
    ASSERT_EQ_INT(rate_sched_take(&r, 5 * S - 1, &t), 0);
    ASSERT_EQ_U64(t, 42);                                     /* untouched when not due */
    ASSERT_EQ_U64(r.next, 0);
    ASSERT_EQ_INT(rate_sched_take(&r, 5 * S, &t), 1);
    ASSERT_EQ_U64(t, 5 * S);
    uint64_t due = rate_sched_next_at(&r);
    ASSERT(due >= 5 * S + MS - 1 && due <= 5 * S + MS);
    ASSERT_EQ_INT(rate_sched_take(&r, due - 1, &t), 0);
    ASSERT_EQ_INT(rate_sched_take(&r, due, &t), 1);
    ASSERT_EQ_U64(t, due);
    ASSERT_EQ_INT(rate_sched_take(&r, due, &t), 0);           /* one slot per instant at 1000/s */
}

/* Coordinated omission: after a 50 ms stall the sender owes the 50 slots
 * that fell due meanwhile. They come out at once, each with its own intended
 * time (so their latency includes the stall), and the timeline keeps its
 * pace: it is not shifted to restart from the moment of catching up. */
TEST(rate_sched_catch_up_after_stall)
{
    rate_sched_t r;
    uint64_t start = 7 * S, t;
    rate_sched_init(&r, 1000, start);
    ASSERT(rate_sched_take(&r, start, &t));                   /* slot 0 on time */
    uint64_t now = start + 50 * MS + MS / 2;                  /* then nothing for 50.5 ms */
    for (uint64_t k = 1; k <= 50; k++) {
        ASSERT(rate_sched_take(&r, now, &t));
        ASSERT(t >= start + k * MS - 1 && t <= start + k * MS);
        ASSERT(now - t >= (50 - k) * MS + MS / 2);            /* the corrected latency counts the stall */
    }
    ASSERT_EQ_INT(rate_sched_take(&r, now, &t), 0);           /* caught up: slot 51 is not due yet */
    ASSERT(rate_sched_next_at(&r) >= start + 51 * MS - 1 && rate_sched_next_at(&r) <= start + 51 * MS);
    ASSERT(rate_sched_take(&r, start + 51 * MS, &t));
    ASSERT(t >= start + 51 * MS - 1);
    /* over a whole second with stalls anywhere, the slot count is the rate */
    rate_sched_init(&r, 1000, start);
    uint64_t n = 0;
    for (uint64_t now2 = start; now2 < start + S; now2 += 97 * MS)
        while (rate_sched_take(&r, now2, &t)) n++;
    while (rate_sched_take(&r, start + S - 1, &t)) n++;
    ASSERT_EQ_U64(n, 1000);
}

TEST(rate_sched_zero_rate)
{
    rate_sched_t r;
    uint64_t t;
    rate_sched_init(&r, 0, S);
    ASSERT_EQ_U64(rate_sched_next_at(&r), UINT64_MAX);
    ASSERT_EQ_INT(rate_sched_take(&r, UINT64_MAX - 1, &t), 0);
    rate_stages_t st = test_stages("10s:0,5s:0");
    rate_sched_init_stages(&r, &st, 1.0, S);
    ASSERT_EQ_U64(rate_sched_next_at(&r), UINT64_MAX);
    ASSERT_EQ_INT(rate_sched_take(&r, UINT64_MAX - 1, &t), 0);
    ASSERT(rate_sched_count(&r, 100 * S) == 0);
}

/* A ramp 0 -> 100/s over 10 s, a hold at 100/s for 10 s, a ramp down to 0
 * over 10 s: 500 + 1000 + 500 slots. */
TEST(rate_sched_stage_ramps)
{
    rate_stages_t st = test_stages("10s:100,10s:100,10s:0");
    rate_sched_t r;
    rate_sched_init_stages(&r, &st, 1.0, 3 * S);
    ASSERT_NEAR(rate_sched_count(&r, 5 * S), 125, 1e-9);     /* 5 t^2 on the ramp */
    ASSERT_NEAR(rate_sched_count(&r, 10 * S), 500, 1e-9);
    ASSERT_NEAR(rate_sched_count(&r, 15 * S), 1000, 1e-9);
    ASSERT_NEAR(rate_sched_count(&r, 25 * S), 1875, 1e-9);
    ASSERT_NEAR(rate_sched_count(&r, 30 * S), 2000, 1e-9);
    ASSERT_NEAR(rate_sched_count(&r, 99 * S), 2000, 1e-9);   /* the last target, 0, holds */

    static uint64_t at[2100];
    uint64_t n = take_until(&r, 30 * S, at, 2100);
    ASSERT_EQ_U64(n, 2000);                                   /* slots 0..1999 before the end */
    ASSERT_EQ_U64(at[0], 0);
    ASSERT_EQ_U64(at[1], 447213595);                          /* sqrt(1/5) s, truncated */
    for (uint64_t k = 0; k < n; k++) {
        /* slot k is where the cumulative count reaches k */
        rate_sched_t probe = r;
        ASSERT_NEAR(rate_sched_count(&probe, at[k]), (double)k, 1e-6);
        ASSERT(rate_sched_count(&probe, at[k] + 1000) > (double)k - 1e-9);
    }
    /* the middle is exactly 100/s: slots 10 ms apart (to a ns) */
    for (uint64_t k = 501; k < 1500; k++) ASSERT(at[k] - at[k - 1] >= 10 * MS - 1 && at[k] - at[k - 1] <= 10 * MS + 1);
    uint64_t t;
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));          /* slot 2000: the end instant itself */
    ASSERT_EQ_U64(t, 3 * S + 30 * S);
    ASSERT_EQ_U64(rate_sched_next_at(&r), UINT64_MAX);        /* and nothing after */
}

/* A stage at 0 sends nothing: the first slot waits for the ramp after it,
 * and a hold at 0 in the middle leaves a gap; after the last stage its
 * target rate goes on. */
TEST(rate_sched_stages_at_zero)
{
    rate_stages_t st = test_stages("5s:0,5s:100");
    rate_sched_t r;
    rate_sched_init_stages(&r, &st, 1.0, 0);
    ASSERT_EQ_U64(rate_sched_next_at(&r), 5 * S);
    uint64_t t;
    ASSERT(rate_sched_take(&r, 5 * S, &t));
    ASSERT_EQ_U64(t, 5 * S);
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT_NEAR((double)(t - 5 * S), sqrt(0.1) * 1e9, 1);    /* count = 10 x^2 on that ramp */

    st = test_stages("10s:100,10s:0,10s:0,10s:100");
    rate_sched_init_stages(&r, &st, 1.0, 0);
    static uint64_t at[1600];
    uint64_t n = take_until(&r, 40 * S, at, 1600);
    ASSERT_EQ_U64(n, 1500);                                   /* 500 + 500 + 0 + 500 */
    for (uint64_t k = 0; k < n; k++) ASSERT(!(at[k] > 20 * S && at[k] < 30 * S));
    ASSERT(at[999] <= 20 * S && at[1000] >= 20 * S - 1 && at[1000] <= 20 * S);
    ASSERT(at[1001] > 30 * S);
    /* beyond the end the last target, 100/s, goes on */
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT(t >= 40 * S - 1 && t <= 40 * S);
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT(t >= 40 * S + 10 * MS - 1 && t <= 40 * S + 10 * MS);
}

/* -R R over T threads gives each R/T; --stages gives each a share of
 * 1/threads/shards. Every thread's schedule has its own slot 0, so over a
 * window the parts add up to the whole plus less than one slot per part,
 * and no part gets more than one slot more than another. */
TEST(rate_sched_shares_sum_to_the_whole)
{
    enum { THREADS = 3, SHARDS = 2, PARTS = THREADS * SHARDS };
    rate_stages_t st = test_stages("10s:1000,10s:1000,5s:300");
    rate_sched_t r[PARTS];
    uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < PARTS; i++) {
        rate_sched_init_stages(&r[i], &st, 1.0 / THREADS / SHARDS, S);
        ASSERT_NEAR(rate_sched_count(&r[i], 25 * S) * PARTS, 5000 + 10000 + 3250, 1e-6);
        uint64_t n = take_until(&r[i], 25 * S, NULL, 0);
        sum += n;
        if (n < lo) lo = n;
        if (n > hi) hi = n;
    }
    ASSERT(sum >= 18250 && sum < 18250 + PARTS);
    ASSERT(hi - lo <= 1);

    /* a constant rate split over threads */
    static const double rates[] = { 1000, 999, 1001, 7, 50000 };
    for (size_t j = 0; j < sizeof rates / sizeof rates[0]; j++) {
        uint64_t total = 0;
        for (int i = 0; i < THREADS; i++) {
            rate_sched_t c;
            rate_sched_init(&c, rates[j] / THREADS, 0);
            total += take_until(&c, 2 * S, NULL, 0);
        }
        uint64_t whole = (uint64_t)(rates[j] * 2);
        if (total < whole || total >= whole + THREADS)
            test_fail_(__FILE__, __LINE__, "rate %g over %d threads: %llu slots in 2 s, want %llu..%llu",
                       rates[j], THREADS, (unsigned long long)total, (unsigned long long)whole,
                       (unsigned long long)(whole + THREADS - 1));
    }
}

/* A rate changed at T (--web): the slots intended before T keep their
 * instants, the count is continuous at T, and the slots after T follow the
 * new rate; a change on a stalled schedule (slots still owed) leaves the
 * owed slots at their old instants. */
TEST(rate_sched_set_rate_keeps_the_timeline)
{
    rate_sched_t r;
    uint64_t t, start = 7 * S;
    rate_sched_init(&r, 100, start); /* a slot every 10 ms */
    uint64_t n = take_until(&r, 1 * S, NULL, 0);
    ASSERT_EQ_U64(n, 100);
    ASSERT_EQ_INT(rate_sched_set_rate(&r, 1000, start + 1 * S + 5 * MS), 0); /* mid-gap */
    ASSERT_NEAR(rate_sched_count(&r, 1 * S + 5 * MS), 100.5, 1e-9);
    ASSERT(rate_sched_rate(&r, start + 2 * S) == 1000);
    ASSERT(rate_sched_rate(&r, start + 1 * S) == 100);
    /* slot 100 (count 100 at 1 s) was intended before the change: at 1 s */
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT_EQ_U64(t - start, 1 * S);
    /* slot 101: count 100.5 at 1.005 s, then 1/ms: 1.0055 s */
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT(t - start >= 1 * S + 5 * MS + 500000 - 1 && t - start <= 1 * S + 5 * MS + 500000);
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT(t - start >= 1 * S + 6 * MS + 500000 - 1 && t - start <= 1 * S + 6 * MS + 500000);
    /* one second later: 1000 more slots, not 100 */
    uint64_t before = r.next;
    take_until(&r, 2 * S + 5 * MS, NULL, 0);
    ASSERT(r.next - before >= 997 && r.next - before <= 999);
    rate_sched_free(&r);

    /* stalled: nothing taken for 2 s at 10/s, then the rate drops to 1/s */
    rate_sched_init(&r, 10, 0);
    ASSERT_EQ_INT(rate_sched_set_rate(&r, 1, 2 * S), 0);
    for (uint64_t k = 0; k <= 20; k++) {   /* the 20 owed slots, plus the one at 2 s */
        ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
        ASSERT(t + 1 >= k * S / 10 && t <= k * S / 10);
    }
    ASSERT(rate_sched_take(&r, UINT64_MAX - 1, &t));
    ASSERT(t + 1 >= 3 * S && t <= 3 * S);  /* then one a second */
    /* more changes: the list forgets the ones whose slots are handed out */
    for (int i = 0; i < 50; i++) {
        ASSERT_EQ_INT(rate_sched_set_rate(&r, i % 2 ? 5 : 50, (uint64_t)(4 + i) * S), 0);
        take_until(&r, (uint64_t)(4 + i) * S + S / 2, NULL, 0);
    }
    ASSERT(r.nsegs <= 2);
    rate_sched_free(&r);

    /* stages: the change continues from the ramp's count */
    rate_stages_t st = test_stages("10s:100");
    rate_sched_init_stages(&r, &st, 1.0, 0);
    double at5 = rate_sched_count(&r, 5 * S);      /* 0..50/s over 5 s: 125 */
    ASSERT_NEAR(at5, 125, 1e-9);
    ASSERT_EQ_INT(rate_sched_set_rate(&r, 10, 5 * S), 0);
    ASSERT_NEAR(rate_sched_count(&r, 6 * S), 135, 1e-9);
    ASSERT(rate_sched_rate(&r, 9 * S) == 10);
    rate_sched_free(&r);
}
