/* Unit tests: the seeds of scripts' math.random (--seed). */
#include "seed.h"
#include "test.h"

#include <math.h>
#include <stdint.h>

TEST(seed_stream_is_pure_distinct_and_exact)
{
    double v = seed_stream(7, 0, 1);
    ASSERT(v == seed_stream(7, 0, 1));            /* the same run seed: the same stream */
    ASSERT(v != seed_stream(7, 0, 2));            /* another thread */
    ASSERT(v != seed_stream(7, 1, 1));            /* another shard */
    ASSERT(v != seed_stream(8, 0, 1));            /* another seed */
    ASSERT(seed_stream(7, 0, 0) != v);            /* the main state */
    for (uint32_t shard = 0; shard < 8; shard++)
        for (uint32_t st = 0; st < 64; st++) {
            double d = seed_stream(12345, shard, st);
            ASSERT(d >= 0 && d <= (double)SEED_MAX && d == floor(d)); /* an integer, exact */
            for (uint32_t st2 = 0; st2 < st; st2++) ASSERT(d != seed_stream(12345, shard, st2));
        }
}

TEST(seed_random_in_range_and_fresh)
{
    uint64_t a = seed_random(), b = seed_random();
    ASSERT(a <= SEED_MAX && b <= SEED_MAX);
    ASSERT(a != b); /* 2^-53 chance of a false failure */
}
