/* test_named.c - the per-name stats table: one entry per distinct name, in
 * order of first use, found again by hash however many names there are. */
#include "test.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

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

TEST(named_reasons_add_remove_cap_and_merge)
{
    stats_t a, b;
    ASSERT(stats_init(&a) == 0 && stats_init(&b) == 0);
    int ix = stats_named_index(&a, "x");
    ASSERT(ix == 0);
    stats_named_t *n = &a.named[ix];
    ASSERT(stats_reason_add(n, "timeout", 7, 2) == 0);
    ASSERT(stats_reason_add(n, "bad body", 8, 1) == 0);
    ASSERT(stats_reason_add(n, "timeout", 7, 1) == 0);
    ASSERT_EQ_INT(n->nreasons, 2);
    ASSERT_EQ_STR(n->reasons[0].reason, "timeout");   /* order of first use */
    ASSERT_EQ_U64(n->reasons[0].count, 3);
    ASSERT(stats_reason_add(n, "timeout", 7, -5) == 0); /* never below 0: removed at 0 */
    ASSERT_EQ_INT(n->nreasons, 1);
    ASSERT_EQ_STR(n->reasons[0].reason, "bad body");
    ASSERT(stats_reason_add(n, "nothing", 7, -1) == 0); /* an absent reason: no change */
    ASSERT_EQ_INT(n->nreasons, 1);
    ASSERT(stats_reason_add(n, "bad body and more", 8, 1) == 0); /* only len bytes are the key */
    ASSERT_EQ_U64(n->reasons[0].count, 2);
    char longr[STATS_REASON_LEN + 50];
    memset(longr, 'a', sizeof longr);
    ASSERT(stats_reason_add(n, longr, sizeof longr, 1) == 0); /* cut at STATS_REASON_LEN */
    ASSERT_EQ_INT(strlen(n->reasons[1].reason), STATS_REASON_LEN);
    char r[32];
    for (int i = 0; i < STATS_REASONS_MAX + 10; i++) {
        snprintf(r, sizeof r, "r%d", i);
        ASSERT(stats_reason_add(n, r, strlen(r), 1) == 0);
    }
    ASSERT_EQ_INT(n->nreasons, STATS_REASONS_MAX + 1); /* the cap, and the one "other" entry */
    ASSERT_EQ_STR(n->reasons[STATS_REASONS_MAX].reason, STATS_REASON_OTHER);
    ASSERT_EQ_U64(n->reasons[STATS_REASONS_MAX].count, 12);
    int bx = stats_named_index(&b, "x");
    stats_named_t *m = &b.named[bx];
    ASSERT(stats_reason_add(m, "bad body", 8, 5) == 0);
    ASSERT(stats_reason_add(m, "new one", 7, 1) == 0);
    stats_t t;
    ASSERT(stats_init(&t) == 0);
    stats_merge(&t, &b);
    stats_merge(&t, &a);
    int tx = stats_named_index(&t, "x");
    stats_named_t *tn = &t.named[tx];
    ASSERT_EQ_STR(tn->reasons[0].reason, "bad body");
    ASSERT_EQ_U64(tn->reasons[0].count, 7);
    ASSERT_EQ_STR(tn->reasons[1].reason, "new one");
    uint64_t sum = 0, sa = 0;
    for (uint32_t i = 0; i < tn->nreasons; i++) sum += tn->reasons[i].count;
    for (uint32_t i = 0; i < n->nreasons; i++) sa += n->reasons[i].count;
    ASSERT_EQ_U64(sum, sa + 6); /* nothing lost, even past the cap */
    stats_free(&t);
    stats_free(&a);
    stats_free(&b);
}
