/* units.c - durations and counts (see units.h). */
#include "units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int units_parse_duration(const char *s, uint64_t *ns)
{
    if (!s) return -1;
    /* strtod alone would take "nan", "inf", "0x10", "1e3" and a sign */
    const char *p = s;
    int digits = 0;
    while (is_digit(*p)) { p++; digits++; }
    if (*p == '.') for (p++; is_digit(*p); p++) digits++;
    if (!digits || p - s > 40) return -1;
    char num[48];
    memcpy(num, s, (size_t)(p - s));
    num[p - s] = 0;
    double mult;
    if (!*p || !strcmp(p, "s")) mult = 1e9;
    else if (!strcmp(p, "ms")) mult = 1e6;
    else if (!strcmp(p, "us")) mult = 1e3;
    else if (!strcmp(p, "m")) mult = 60e9;
    else if (!strcmp(p, "h")) mult = 3600e9;
    else return -1;
    double r = strtod(num, NULL) * mult;
    if (!(r >= 0 && r <= 1e18)) return -1;
    *ns = (uint64_t)(r + 0.5);
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
