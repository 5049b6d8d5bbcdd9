/* test_stats_live.c - --web's per-name snapshots: the sum of the workers'
 * copies equals what the final merge of their statistics gives (counts,
 * percentiles, exact min and max, checks), and a second sum replaces the
 * first rather than adding to it. */
#include "test.h"
#include "stats.h"
#include "stats_live.h"

static void fill(stats_t *s, const char *name, uint64_t from, uint64_t n, uint64_t fails)
{
    int k = stats_named_index(s, name);
    ASSERT(k >= 0);
    for (uint64_t i = 0; i < n; i++) hist_record(&s->named[k].latency, from + i * 37);
    s->named[k].requests += n;
    s->named[k].failures += fails;
}

TEST(stats_live_sum_equals_the_merge)
{
    stats_t a, b, merged, live;
    ASSERT(stats_init(&a) == 0 && stats_init(&b) == 0 && stats_init(&merged) == 0 && stats_init(&live) == 0);
    fill(&a, "login", 100, 1000, 3);
    fill(&a, "items", 5000, 300, 0);
    fill(&b, "items", 777, 2000, 7);
    fill(&b, "cart", 123456, 10, 1);
    int c = stats_check_index(&a, "ok");
    a.checks[c].pass = 5;
    a.checks[c].fail = 1;
    c = stats_check_index(&b, "ok");
    b.checks[c].pass = 9;
    stats_live_t *snaps[3] = { stats_live_take(&a), NULL, stats_live_take(&b) };
    ASSERT(snaps[0] && snaps[2]);
    for (int round = 0; round < 2; round++) { /* summing again gives the same, not twice */
        ASSERT_EQ_INT(stats_live_sum(&live, snaps, 3), 0);
        ASSERT_EQ_INT(live.nnamed, 3);
        ASSERT_EQ_STR(live.named[0].name, "login");
        ASSERT_EQ_STR(live.named[1].name, "items");
        ASSERT_EQ_STR(live.named[2].name, "cart");
        ASSERT_EQ_INT(live.nchecks, 1);
        ASSERT_EQ_U64(live.checks[0].pass, 14);
        ASSERT_EQ_U64(live.checks[0].fail, 1);
    }
    stats_merge(&merged, &a);
    stats_merge(&merged, &b);
    for (size_t i = 0; i < merged.nnamed; i++) {
        const stats_named_t *m = &merged.named[i];
        const stats_named_t *l = &live.named[stats_named_index(&live, m->name)];
        ASSERT_EQ_U64(l->requests, m->requests);
        ASSERT_EQ_U64(l->failures, m->failures);
        ASSERT_EQ_U64(l->latency.total, m->latency.total);
        ASSERT_EQ_U64(l->latency.min, m->latency.min);
        ASSERT_EQ_U64(l->latency.max, m->latency.max);
        static const double pct[] = { 50, 90, 95, 99, 99.9, 100 };
        for (size_t k = 0; k < sizeof pct / sizeof pct[0]; k++)
            ASSERT_EQ_U64(hist_percentile(&l->latency, pct[k]), hist_percentile(&m->latency, pct[k]));
    }
    stats_live_free(snaps[0]);
    stats_live_free(snaps[2]);
    stats_free(&a);
    stats_free(&b);
    stats_free(&merged);
    stats_free(&live);
}
