/* test_named.c - the per-name stats table: one entry per distinct name, in
 * order of first use, found again by hash however many names there are. */
#include "test.h"
#include "stats.h"

#include <stdio.h>

TEST(named_index_is_stable_per_name)
{
    stats_t s;
    ASSERT(stats_init(&s) == 0);
    char name[32];
    enum { N = 5000 };
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "item %d", i);
        ASSERT_EQ_INT(stats_named_index(&s, name), i); /* new names: in order of first use */
    }
    ASSERT_EQ_INT(s.nnamed, N);
    ASSERT(s.named_nslots >= 2 * (size_t)N);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(name, sizeof name, "item %d", i);
        ASSERT_EQ_INT(stats_named_index(&s, name), i); /* found again, nothing added */
        ASSERT_EQ_STR(s.named[i].name, name);
    }
    ASSERT_EQ_INT(s.nnamed, N);
    ASSERT_EQ_INT(stats_named_index(&s, ""), N); /* the empty name is a name */
    ASSERT_EQ_INT(stats_named_index(&s, ""), N);
    stats_free(&s);
    ASSERT(s.named_slots == NULL && s.nnamed == 0);
}

TEST(named_merge_adds_by_name)
{
    stats_t a, b;
    ASSERT(stats_init(&a) == 0 && stats_init(&b) == 0);
    int x = stats_named_index(&a, "x"), y = stats_named_index(&a, "y");
    a.named[x].requests = 3;
    a.named[y].requests = 4;
    int by = stats_named_index(&b, "y"), bz = stats_named_index(&b, "z");
    b.named[by].requests = 10;
    b.named[bz].requests = 20;
    stats_merge(&a, &b);
    ASSERT_EQ_INT(a.nnamed, 3);
    ASSERT_EQ_INT(a.named[stats_named_index(&a, "x")].requests, 3);
    ASSERT_EQ_INT(a.named[stats_named_index(&a, "y")].requests, 14);
    ASSERT_EQ_INT(a.named[stats_named_index(&a, "z")].requests, 20);
    ASSERT_EQ_STR(a.named[2].name, "z");
    stats_free(&a);
    stats_free(&b);
}
