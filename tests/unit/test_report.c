/* Unit tests: wrk-compatible unit formatting. */
#include "report.h"
#include "test.h"

TEST(report_units)
{
    char b[32];
    ASSERT_EQ_STR(report_time_us(b, sizeof b, 635.91), "635.91us");
    ASSERT_EQ_STR(report_time_us(b, sizeof b, 12920), "12.92ms");
    ASSERT_EQ_STR(report_time_us(b, sizeof b, 1500000), "1.50s");
    ASSERT_EQ_STR(report_time_us(b, sizeof b, 120e6), "2.00m");
    ASSERT_EQ_STR(report_time_us(b, sizeof b, 7200e6), "2.00h");
    ASSERT_EQ_STR(report_metric(b, sizeof b, 56200), "56.20k");
    ASSERT_EQ_STR(report_metric(b, sizeof b, 999), "999.00");
    ASSERT_EQ_STR(report_binary(b, sizeof b, 137.42 * 1024 * 1024), "137.42M");
    ASSERT_EQ_STR(report_duration(b, sizeof b, 10000000000ULL), "10s");
    ASSERT_EQ_STR(report_duration(b, sizeof b, 120000000000ULL), "2m");
    ASSERT_EQ_STR(report_duration(b, sizeof b, 1500000000ULL), "1500ms");
    ASSERT_EQ_STR(report_duration(b, sizeof b, 500000ULL), "500us");
    ASSERT_EQ_STR(report_duration(b, sizeof b, 1500000ULL), "1500us");
}
