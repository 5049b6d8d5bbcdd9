/* seed.h - the random seeds of scripts (--seed): a run's seed, and the
 * seed of each Lua state's math.random, distinct per shard and state so
 * that threads and shards draw their own sequences, and the same for the
 * same run seed. A leaf (includes nothing of barrage's). */
#ifndef BARRAGE_SEED_H
#define BARRAGE_SEED_H

#include <stdint.h>

/* Seeds are integers 0..SEED_MAX (exact in a double, so JSON readers and
 * math.randomseed take them unchanged). */
#define SEED_MAX ((UINT64_C(1) << 53) - 1)

/* A fresh run seed in 0..SEED_MAX (the kernel's random bytes; else the
 * clock and the process id). Never fails. */
uint64_t seed_random(void);
/* The math.randomseed value of state `stream` (0: the main state, i + 1:
 * worker i) of shard `shard` in a run seeded with `seed`: an integer in
 * 0..SEED_MAX, a pure function, different for any two (shard, stream) of
 * one seed (a 64-bit mix; collisions are as rare as for random values). */
double seed_stream(uint64_t seed, uint32_t shard, uint32_t stream);

#endif
