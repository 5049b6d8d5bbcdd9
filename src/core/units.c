/* units.c - durations and counts (see units.h). */
#include "units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* One NUMBER[UNIT] group at *pp: its value in ns (rounded later), the unit
 * required when `need_unit`. Moves *pp past it. 0, or -1. */
static int duration_group(const char **pp, int need_unit, double *ns)
{
    /* strtod alone would take "nan", "inf", "0x10", "1e3" and a sign */
    const char *s = *pp, *p = s;
    int digits = 0;
    while (is_digit(*p)) { p++; digits++; }
    if (*p == '.') for (p++; is_digit(*p); p++) digits++;
    if (!digits || p - s > 40) return -1;
    char num[48];
    memcpy(num, s, (size_t)(p - s));
    num[p - s] = 0;
    double mult;
    /* longest unit first: "ms" before "m" */
    if (!strncmp(p, "ms", 2)) { mult = 1e6; p += 2; }
    else if (!strncmp(p, "us", 2)) { mult = 1e3; p += 2; }
    else if (*p == 's') { mult = 1e9; p++; }
    else if (*p == 'm') { mult = 60e9; p++; }
    else if (*p == 'h') { mult = 3600e9; p++; }
    else if (!*p && !need_unit) mult = 1e9;
    else return -1;
    *ns = strtod(num, NULL) * mult;
    *pp = p;
    return 0;
}

int units_parse_duration(const char *s, uint64_t *ns)
{
    if (!s) return -1;
    const char *p = s;
    double total = 0, v;
    /* a bare number is seconds; a compound form ("1h30m", "1m30.5s") needs every unit */
    if (duration_group(&p, 0, &v)) return -1;
    total = v;
    int groups = 1;
    while (*p) {
        if (duration_group(&p, 1, &v) || ++groups > 8) return -1;
        total += v;
    }
    if (!(total >= 0 && total <= 1e18)) return -1;
    *ns = (uint64_t)(total + 0.5);
    return 0;
}

int units_parse_count(const char *s, uint64_t *out)
{
    if (!s || !is_digit(*s)) return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K') { mult = 1000; end++; }
    else if (*end == 'M') { mult = 1000000; end++; }
    else if (*end == 'G') { mult = 1000000000; end++; }
    if (*end) return -1;
    if (v > UINT64_MAX / mult) return -1;
    *out = (uint64_t)v * mult;
    return 0;
}
