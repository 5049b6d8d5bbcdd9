/* Unit tests: the per-stage summary (stages.h): counts from the series, the
 * partial last second, latency folded per stage, and the merge by index. */
#include "stages.h"
#include "test.h"

#include <stdint.h>
#include <string.h>

/* A series of n seconds: second i has 100 + i responses, i failed statuses,
 * one read error from second 2 on, active = i + 1, stage stage_of[i]. */
static void series(stats_series_t *ser, stats_point_t *pts, size_t n, const uint32_t *stage_of)
{
    memset(pts, 0, n * sizeof *pts);
    for (size_t i = 0; i < n; i++) {
        pts[i].requests = 100 + i;
        pts[i].errors.status = i;
        pts[i].errors.read = i >= 2;
        pts[i].failed = i + (i >= 2);
        pts[i].active = (uint32_t)i + 1;
        pts[i].stage = stage_of[i];
    }
    *ser = (stats_series_t){ .pts = pts, .n = (uint32_t)n, .cap = (uint32_t)n };
}

TEST(stages_plan_and_counts_from_the_series)
{
    rate_stages_t st = test_stages("2s:4,1s:8");
    stages_t g;
    ASSERT_EQ_INT(stages_init(&g, &st, 0), 0);
    ASSERT_EQ_INT(g.n, 2);
    ASSERT_NEAR(g.s[0].start_s, 0, 1e-12);
    ASSERT_NEAR(g.s[0].end_s, 2, 1e-12);
    ASSERT_NEAR(g.s[1].start_s, 2, 1e-12);
    ASSERT_NEAR(g.s[1].end_s, 3, 1e-12);
    ASSERT_NEAR(g.s[1].target, 8, 1e-12);
    stats_point_t pts[4];
    stats_series_t ser;
    static const uint32_t stage_of[] = { 0, 0, 1, 1 }; /* the 4th: the run's end second */
    series(&ser, pts, 4, stage_of);
    stages_count(&g, &ser, 3.25);
    ASSERT_EQ_U64(g.s[0].requests, 201);
    ASSERT_EQ_U64(g.s[0].failed, 1);
    ASSERT_EQ_U64(g.s[0].ok, 200);
    ASSERT_EQ_U64(g.s[1].requests, 205);
    ASSERT_EQ_U64(g.s[1].failed, 2 + 1 + 3 + 1);
    ASSERT_EQ_U64(g.s[1].ok, 205 - 5);      /* statuses only: read errors are not responses */
    ASSERT_EQ_U64(g.s[1].errors.read, 2);
    ASSERT_EQ_U64(g.s[1].users, 4);         /* at the end of its last second */
    ASSERT_NEAR(g.s[1].users_mean, 3.5, 1e-12);
    ASSERT_EQ_INT(g.s[1].seconds, 2);
    ASSERT_NEAR(g.s[0].duration_s, 2, 1e-12);
    ASSERT_NEAR(g.s[1].duration_s, 1.25, 1e-12); /* the partial last second counts for its part */
    stages_count(&g, &ser, 3.25);           /* idempotent */
    ASSERT_EQ_U64(g.s[0].requests, 201);
    stages_free(&g);
}

TEST(stages_fold_and_merge_by_index)
{
    rate_stages_t st = test_stages("1s:2,1s:4");
    stages_t a, b, m;
    ASSERT_EQ_INT(stages_init(&a, &st, 1), 0);
    rate_stages_t one = test_stages("1s:2");
    ASSERT_EQ_INT(stages_init(&b, &one, 1), 0);
    hist_t h;
    ASSERT_EQ_INT(hist_init(&h), 0);
    hist_record(&h, 10);
    hist_record(&h, 5000);
    stages_fold(&a, 0, &h);
    stages_fold(&a, 1, &h);
    stages_fold(&a, 7, &h);                 /* past the last stage: ignored */
    stages_fold(&b, 0, &h);
    a.s[0].requests = 2;
    a.s[0].users = 1;
    a.s[0].duration_s = 1;
    b.s[0].requests = 3;
    b.s[0].users = 2;
    b.s[0].duration_s = 1.5;
    memset(&m, 0, sizeof m);
    ASSERT_EQ_INT(stages_merge(&m, &b), 0);
    ASSERT_EQ_INT(stages_merge(&m, &a), 0);
    ASSERT_EQ_INT(m.n, 2);
    ASSERT(m.rate);
    ASSERT_EQ_U64(m.s[0].requests, 5);
    ASSERT_EQ_U64(m.s[0].users, 3);         /* shards side by side */
    ASSERT_NEAR(m.s[0].duration_s, 1.5, 1e-12);
    ASSERT_EQ_U64(m.s[0].latency.total, 4);
    ASSERT_EQ_U64(m.s[0].latency.max, 5000);
    ASSERT_EQ_U64(m.s[1].latency.total, 2);
    ASSERT_NEAR(m.s[1].target, 4, 1e-12);   /* the plan of the first input that had the stage */
    hist_free(&h);
    stages_free(&a);
    stages_free(&b);
    stages_free(&m);
}
