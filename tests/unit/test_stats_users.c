/* test_stats_users.c - what virtual users add to the stats: exceptions by
 * (message, location) and users by class, merged by adding. */
#include "test.h"
#include "stats.h"

TEST(exceptions_count_by_message_and_location)
{
    stats_t s;
    ASSERT(stats_init(&s) == 0);
    ASSERT(stats_exception_add(&s, "boom", "a.lua:3", 1) == 0);
    ASSERT(stats_exception_add(&s, "boom", "a.lua:4", 1) == 0); /* another line: another entry */
    ASSERT(stats_exception_add(&s, "bang", "a.lua:3", 2) == 0); /* another message too */
    ASSERT(stats_exception_add(&s, "boom", "a.lua:3", 5) == 0);
    ASSERT_EQ_INT(s.nexceptions, 3);
    ASSERT_EQ_STR(s.exceptions[0].message, "boom");
    ASSERT_EQ_STR(s.exceptions[0].location, "a.lua:3");
    ASSERT_EQ_INT(s.exceptions[0].count, 6);
    ASSERT_EQ_INT(stats_exceptions_total(&s), 9);
    stats_free(&s);
    ASSERT(s.exceptions == NULL && s.nexceptions == 0);
}

TEST(users_merge_adds_exceptions_and_classes)
{
    stats_t a, b;
    ASSERT(stats_init(&a) == 0 && stats_init(&b) == 0);
    ASSERT(stats_exception_add(&a, "boom", "a.lua:3", 2) == 0);
    ASSERT(stats_class_add(&a, "Shopper", 10) == 0);
    ASSERT(stats_class_add(&a, "Admin", 2) == 0);
    ASSERT(stats_exception_add(&b, "bang", "a.lua:9", 1) == 0);
    ASSERT(stats_exception_add(&b, "boom", "a.lua:3", 3) == 0);
    ASSERT(stats_class_add(&b, "Admin", 2) == 0);
    ASSERT(stats_class_add(&b, "Shopper", 10) == 0);
    stats_merge(&a, &b);
    ASSERT_EQ_INT(a.nexceptions, 2);
    ASSERT_EQ_INT(a.exceptions[0].count, 5);
    ASSERT_EQ_STR(a.exceptions[1].message, "bang");
    ASSERT_EQ_INT(a.nclasses, 2); /* the first's order */
    ASSERT_EQ_STR(a.classes[0].name, "Shopper");
    ASSERT_EQ_INT(a.classes[0].users, 20);
    ASSERT_EQ_INT(a.classes[1].users, 4);
    stats_free(&a);
    stats_free(&b);
}
