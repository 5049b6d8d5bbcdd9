/* Unit tests: the one duration/count grammar (client options, stages and
 * `barrage serve` alike) and the share rule. */
#include "units.h"
#include "test.h"

#include <stdint.h>

TEST(units_duration_decimal_forms)
{
    uint64_t ns;
    ASSERT(units_parse_duration(".5s", &ns) == 0);  ASSERT_EQ_U64(ns, 500000000ULL);
    ASSERT(units_parse_duration("5.", &ns) == 0);   ASSERT_EQ_U64(ns, 5000000000ULL);
    ASSERT(units_parse_duration("0.25ms", &ns) == 0); ASSERT_EQ_U64(ns, 250000ULL);
    ASSERT(units_parse_duration("0", &ns) == 0);    ASSERT_EQ_U64(ns, 0);
    ASSERT(units_parse_duration("1.0000000005", &ns) == 0); ASSERT_EQ_U64(ns, 1000000001ULL); /* rounded */
    ASSERT(units_parse_duration("31536000000s", &ns) == -1); /* over 1e18 ns */
    ASSERT(units_parse_duration("1000000000s", &ns) == 0);   ASSERT_EQ_U64(ns, 1000000000000000000ULL);
}

TEST(units_duration_rejects_what_strtod_would_take)
{
    uint64_t ns = 7;
    const char *bad[] = { ".", ".s", "nan", "inf", "infinity", "NaN", "0x10", "0x1p3s", "1e3", "1e3s",
                          "+1s", "-0", " 1s", "1s ", "1 s", "1sec", "1S", "1mss", "", "s", "1..2s" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (units_parse_duration(bad[i], &ns) != -1) {
            test_fail_(__FILE__, __LINE__, "a bad duration was accepted: \"%s\"", bad[i]);
        }
    }
    ASSERT_EQ_U64(ns, 7); /* untouched on failure */
    ASSERT(units_parse_duration(NULL, &ns) == -1);
}

TEST(units_count_forms)
{
    uint64_t n;
    ASSERT(units_parse_count("0", &n) == 0);     ASSERT_EQ_U64(n, 0);
    ASSERT(units_parse_count("3K", &n) == 0);    ASSERT_EQ_U64(n, 3000);
    ASSERT(units_parse_count("18446744073709551615", &n) == 0); ASSERT_EQ_U64(n, UINT64_MAX);
    ASSERT(units_parse_count("18446744073709551616", &n) == -1);
    ASSERT(units_parse_count("18446744073709552k", &n) == -1);
    ASSERT(units_parse_count("1.5k", &n) == -1);
    ASSERT(units_parse_count("1kk", &n) == -1);
    ASSERT(units_parse_count("1m", &n) == -1);  /* M is mega; m would read as minutes */
    ASSERT(units_parse_count(" 1", &n) == -1);
    ASSERT(units_parse_count("+1", &n) == -1);
    ASSERT(units_parse_count(NULL, &n) == -1);
}

TEST(units_share_sums_to_the_total)
{
    for (uint64_t total = 0; total < 40; total++) {
        for (uint64_t parts = 1; parts < 9; parts++) {
            uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
            for (uint64_t i = 0; i < parts; i++) {
                uint64_t s = units_share(total, parts, i);
                sum += s;
                if (s < lo) lo = s;
                if (s > hi) hi = s;
                if (i && s > units_share(total, parts, i - 1)) /* remainders go first */
                    test_fail_(__FILE__, __LINE__, "share %llu of %llu is larger than the one before", (unsigned long long)i, (unsigned long long)total);
            }
            ASSERT_EQ_U64(sum, total);
            ASSERT(hi - lo <= 1);
        }
    }
    ASSERT_EQ_U64(units_share(UINT64_MAX, 2, 0), UINT64_MAX / 2 + 1);
    ASSERT_EQ_U64(units_share(UINT64_MAX, 2, 1), UINT64_MAX / 2);
}
