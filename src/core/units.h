/* units.h - the numbers people type: durations and counts, parsed the same
 * way by the client's options, its stages and `barrage serve`, and the one
 * rule for splitting a total into shares. A leaf: it includes nothing of
 * barrage's, so every layer may use it. */
#ifndef BARRAGE_UNITS_H
#define BARRAGE_UNITS_H

#include <stdint.h>

/* A duration: a decimal number (`10`, `1.5`, `.5`; no sign, exponent or
 * hex) and an optional unit `us`, `ms`, `s`, `m` or `h` (none = seconds),
 * or several such groups each with its unit, summed (Locust's and k6's
 * "1h30m", "1m30s", "2h0m5.5s"), rounded to nanoseconds. At most 1e18 ns
 * (about 31 years). 0, or -1. */
int units_parse_duration(const char *s, uint64_t *ns);
/* A count: decimal digits with an optional `k`/`K` (1e3), `M` (1e6) or `G`
 * (1e9) suffix, without overflow. 0, or -1. */
int units_parse_count(const char *s, uint64_t *out);
/* Share `index` (0-based) of `total` split into `parts` (> 0): the
 * remainder goes to the first shares, so the shares sum to the total. */
static inline uint64_t units_share(uint64_t total, uint64_t parts, uint64_t index)
{
    return total / parts + (index < total % parts);
}

#endif
