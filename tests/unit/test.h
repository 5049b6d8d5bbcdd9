/* test.h - a tiny unit-test harness (libuv task.h in spirit).
 * TEST(name) { ... } registers itself; ASSERT* fail the test and return. */
#ifndef BARRAGE_TEST_H
#define BARRAGE_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(int *failed);
void test_register(const char *name, test_fn fn);

#define TEST(name)                                                        \
    static void test_##name(int *test_failed_);                           \
    __attribute__((constructor)) static void test_reg_##name(void)        \
    { test_register(#name, test_##name); }                                \
    static void test_##name(int *test_failed_)

#define ASSERT(cond) do { if (!(cond)) {                                  \
    fprintf(stderr, "    %s:%d: assertion failed: %s\n",                  \
            __FILE__, __LINE__, #cond);                                   \
    *test_failed_ = 1; return; } } while (0)

#define ASSERT_EQ_INT(a, b) do { long long a_ = (long long)(a),           \
    b_ = (long long)(b); if (a_ != b_) {                                  \
    fprintf(stderr, "    %s:%d: %s == %s failed: %lld != %lld\n",         \
            __FILE__, __LINE__, #a, #b, a_, b_);                          \
    *test_failed_ = 1; return; } } while (0)

#define ASSERT_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b);         \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
    fprintf(stderr, "    %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",     \
            __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",               \
            b_ ? b_ : "(null)");                                          \
    *test_failed_ = 1; return; } } while (0)

#endif
