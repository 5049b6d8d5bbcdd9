/* test.h - a tiny unit-test harness (libuv task.h in spirit).
 *
 * TEST(name) { ... } registers itself. The runner (main.c) runs each test in
 * its own child process with a timeout, so a crash, a hang or a leak belongs
 * to one test. A failed ASSERT* prints file:line with both values and ends
 * the test's process at once (exit status 1): no later line of the test
 * runs, and ASSERT* may be used in helper functions too. TEST_SKIP(reason)
 * ends the test as skipped. A test that returns has passed; its process then
 * leaves through exit(), so LeakSanitizer checks it. */
#ifndef BARRAGE_TEST_H
#define BARRAGE_TEST_H

#include <stdio.h>
#include <string.h>

#include "rate.h"

typedef void (*test_fn)(int *failed);
void test_register(const char *name, test_fn fn);
/* Report a failure (printf-style) and end the test's process: never returns. */
void test_fail_(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* End the test's process as skipped, giving the reason: never returns. */
void test_skip_(const char *file, int line, const char *reason) __attribute__((noreturn));

/* The parameter is kept for old tests that name it; failures no longer
 * need it. */
#define TEST(name)                                                        \
    static void test_##name(int *test_failed_);                           \
    __attribute__((constructor)) static void test_reg_##name(void)        \
    { test_register(#name, test_##name); }                                \
    static void test_##name(int *test_failed_ __attribute__((unused)))

#define ASSERT(cond) do { if (!(cond))                                    \
    test_fail_(__FILE__, __LINE__, "assertion failed: %s", #cond); } while (0)

#define ASSERT_EQ_INT(a, b) do { long long a_ = (long long)(a),           \
    b_ = (long long)(b); if (a_ != b_)                                    \
    test_fail_(__FILE__, __LINE__, "%s == %s failed: %lld != %lld",       \
               #a, #b, a_, b_); } while (0)

#define ASSERT_EQ_U64(a, b) do { unsigned long long a_ =                  \
    (unsigned long long)(a), b_ = (unsigned long long)(b); if (a_ != b_)  \
    test_fail_(__FILE__, __LINE__, "%s == %s failed: %llu != %llu",       \
               #a, #b, a_, b_); } while (0)

/* |a - b| <= tol */
#define ASSERT_NEAR(a, b, tol) do { double a_ = (double)(a),              \
    b_ = (double)(b), t_ = (double)(tol);                                 \
    if (!(a_ - b_ <= t_ && b_ - a_ <= t_))                                \
    test_fail_(__FILE__, __LINE__, "%s == %s (within %g) failed: %.17g != %.17g", \
               #a, #b, t_, a_, b_); } while (0)

#define ASSERT_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b);         \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                \
    test_fail_(__FILE__, __LINE__, "%s == %s failed: \"%s\" != \"%s\"",   \
               #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

/* Mark a test that documents behaviour not there yet (e.g. "needs proto
 * branch"): it is reported and counted as skipped. Remove it to enable. */
#define TEST_SKIP(reason) test_skip_(__FILE__, __LINE__, reason)

/* Stages parsed from "30s:50,1m:50" (rate_stages_parse); a bad spec fails the test (test_rate.c). */
rate_stages_t test_stages(const char *spec);

#endif
