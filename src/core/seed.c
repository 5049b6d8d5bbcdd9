/* seed.c - run seeds and per-state seeds (see seed.h). */
#include "seed.h"

#include <stddef.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* SplitMix64's finalizer: a bijection on 64 bits that spreads every input
 * bit over the output, so neighbouring inputs give unrelated seeds. */
static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

uint64_t seed_random(void)
{
    uint64_t v = 0;
    if (getentropy(&v, sizeof v)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v = mix((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ mix((uint64_t)getpid());
    }
    return v & SEED_MAX;
}

double seed_stream(uint64_t seed, uint32_t shard, uint32_t stream)
{
    uint64_t h = mix(mix(mix(seed) ^ shard) ^ stream);
    return (double)(h >> 11); /* 53 bits: exact */
}
