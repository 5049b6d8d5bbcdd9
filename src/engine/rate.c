/* rate.c - schedules and stages (see rate.h). */
#include "rate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

int rate_stages_parse(const char *s, rate_stages_t *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    char buf[1024];
    if (strlen(s) >= sizeof buf) { snprintf(err, errlen, "--stages: too long"); return -1; }
    strcpy(buf, s);
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        if (st->n == RATE_MAX_STAGES) {
            snprintf(err, errlen, "--stages: more than %d stages", RATE_MAX_STAGES);
            return -1;
        }
        char *colon = strchr(part, ':');
        if (!colon) {
            snprintf(err, errlen, "--stages: '%s' is not DURATION:TARGET (e.g. 30s:50)", part);
            return -1;
        }
        *colon = 0;
        uint64_t ns;
        if (units_parse_duration(part, &ns) || ns == 0) {
            snprintf(err, errlen, "--stages: cannot read '%s' as a duration (use e.g. 30s, 1m)", part);
            return -1;
        }
        char *end;
        double v = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || v < 0 || !isfinite(v) || v > 1e9) {
            snprintf(err, errlen, "--stages: cannot read '%s' as a target (a number >= 0)", colon + 1);
            return -1;
        }
        const uint64_t year = UINT64_C(1000000000) * 86400 * 366;
        if (ns > year || rate_stages_total(st) > year - ns) {
            snprintf(err, errlen, "--stages: the stages last more than a year (check the durations)");
            return -1;
        }
        st->dur_ns[st->n] = ns;
        st->target[st->n] = v;
        st->n++;
    }
    if (!st->n) { snprintf(err, errlen, "--stages: no stages given (e.g. 30s:50,1m:50,10s:0)"); return -1; }
    return 0;
}

uint64_t rate_stages_total(const rate_stages_t *st)
{
    uint64_t t = 0;
    for (size_t i = 0; i < st->n; i++) t += st->dur_ns[i];
    return t;
}

double rate_stages_value(const rate_stages_t *st, uint64_t t)
{
    double prev = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (t < st->dur_ns[i])
            return prev + (st->target[i] - prev) * ((double)t / (double)st->dur_ns[i]);
        t -= st->dur_ns[i];
        prev = st->target[i];
    }
    return prev;
}

static uint64_t stages_count(const rate_stages_t *st, double v)
{
    if (!(v > 0)) return 0;
    return st->spawn ? (uint64_t)ceil(v - 1e-9) : (uint64_t)(v + 0.5); /* 1e-9: a float just above k is k */
}

uint64_t rate_stages_count(const rate_stages_t *st, uint64_t t)
{
    return stages_count(st, rate_stages_value(st, t));
}

uint64_t rate_stages_count_max(const rate_stages_t *st)
{
    return stages_count(st, rate_stages_max(st));
}

size_t rate_stages_index(const rate_stages_t *st, uint64_t t)
{
    for (size_t i = 0; i < st->n; i++) {
        if (t < st->dur_ns[i]) return i;
        t -= st->dur_ns[i];
    }
    return st->n ? st->n - 1 : 0;
}

double rate_stages_max(const rate_stages_t *st)
{
    double m = 0;
    for (size_t i = 0; i < st->n; i++) if (st->target[i] > m) m = st->target[i];
    return m;
}

/* The count of the base function (the rate or stages before any change). */
static double base_count(const rate_sched_t *r, uint64_t t)
{
    if (!r->stages) return r->per_sec * (double)t / 1e9;
    /* integral of a piecewise-linear rate, in slots */
    const rate_stages_t *st = r->stages;
    double n = 0, prev = 0;
    for (size_t i = 0; i < st->n; i++) {
        double d = (double)st->dur_ns[i] / 1e9, a = prev * r->share, b = st->target[i] * r->share;
        if (t < st->dur_ns[i]) {
            double x = (double)t / 1e9;
            return n + a * x + (b - a) * x * x / (2 * d);
        }
        n += (a + b) / 2 * d;
        t -= st->dur_ns[i];
        prev = st->target[i];
    }
    return n + prev * r->share * (double)t / 1e9;
}

/* The change in force at t (ns since the start), or NULL before the first. */
static const rate_seg_t *seg_at(const rate_sched_t *r, uint64_t t)
{
    const rate_seg_t *s = NULL;
    for (size_t i = 0; i < r->nsegs && r->segs[i].at_ns <= t; i++) s = &r->segs[i];
    return s;
}

double rate_sched_count(const rate_sched_t *r, uint64_t t)
{
    const rate_seg_t *s = seg_at(r, t);
    if (!s) return base_count(r, t);
    return s->k0 + s->per_sec * (double)(t - s->at_ns) / 1e9;
}

/* Seconds to ns, defined for every double: casting a double beyond
 * uint64_t's range is undefined (a tiny -R makes such times). */
static uint64_t ns_of(double s)
{
    if (!(s > 0)) return 0;
    if (s >= 1.8e10) return UINT64_MAX; /* 570 years: never */
    return (uint64_t)(s * 1e9);
}

/* The time (ns since start) at which the base count reaches k, or UINT64_MAX. */
static uint64_t base_time_of(const rate_sched_t *r, double k)
{
    if (!r->stages) return r->per_sec > 0 ? ns_of(k / r->per_sec) : UINT64_MAX;
    const rate_stages_t *st = r->stages;
    double n = 0, prev = 0, base = 0;
    for (size_t i = 0; i < st->n; i++) {
        double d = (double)st->dur_ns[i] / 1e9, a = prev * r->share, b = st->target[i] * r->share;
        double seg = (a + b) / 2 * d;
        if (n + seg >= k && seg > 0) {
            /* solve a x + (b-a) x^2 / (2d) = k - n for x in [0, d] */
            double need = k - n, x;
            double c2 = (b - a) / (2 * d);
            if (fabs(c2) < 1e-12) x = need / a;
            else {
                double disc = a * a + 4 * c2 * need;
                x = (-a + sqrt(disc > 0 ? disc : 0)) / (2 * c2);
            }
            if (x < 0) x = 0;
            if (x > d) x = d;
            return ns_of(base + x);
        }
        n += seg;
        base += d;
        prev = st->target[i];
    }
    double last = prev * r->share;
    if (last <= 0) return UINT64_MAX;
    return ns_of(base + (k - n) / last);
}

/* The time (ns since start) at which the count reaches k, or UINT64_MAX:
 * the base function's before the first change's count, else the last
 * change whose count is at most k. */
static uint64_t time_of(const rate_sched_t *r, double k)
{
    const rate_seg_t *s = NULL;
    for (size_t i = 0; i < r->nsegs && r->segs[i].k0 <= k; i++) s = &r->segs[i];
    if (!s) return base_time_of(r, k);
    if (!(s->per_sec > 0)) return UINT64_MAX;
    uint64_t dt = ns_of((k - s->k0) / s->per_sec);
    return dt > UINT64_MAX - s->at_ns ? UINT64_MAX : s->at_ns + dt;
}

static void advance(rate_sched_t *r)
{
    uint64_t t = time_of(r, (double)r->next);
    r->next_at = t == UINT64_MAX ? UINT64_MAX : r->start_ns + t;
}

void rate_sched_init(rate_sched_t *r, double per_sec, uint64_t start_ns)
{
    memset(r, 0, sizeof *r);
    r->per_sec = per_sec;
    r->start_ns = start_ns;
    advance(r);
}

void rate_sched_init_stages(rate_sched_t *r, const rate_stages_t *st, double share,
                            uint64_t start_ns)
{
    memset(r, 0, sizeof *r);
    r->stages = st;
    r->share = share;
    r->start_ns = start_ns;
    advance(r);
}

int rate_sched_set_rate(rate_sched_t *r, double per_sec, uint64_t at)
{
    uint64_t t = at > r->start_ns ? at - r->start_ns : 0;
    if (r->nsegs && t < r->segs[r->nsegs - 1].at_ns) t = r->segs[r->nsegs - 1].at_ns;
    /* changes whose slots are all handed out are forgotten (the next one's
     * count is at most `next`), so the list stays short */
    size_t drop = 0;
    while (drop + 1 < r->nsegs && r->segs[drop + 1].k0 <= (double)r->next) drop++;
    if (drop) {
        memmove(r->segs, r->segs + drop, (r->nsegs - drop) * sizeof *r->segs);
        r->nsegs -= drop;
    }
    double k0 = rate_sched_count(r, t);
    if (r->nsegs == r->segs_cap) {
        size_t cap = r->segs_cap ? 2 * r->segs_cap : 4;
        rate_seg_t *s = realloc(r->segs, cap * sizeof *s);
        if (!s) return -ENOMEM;
        r->segs = s;
        r->segs_cap = cap;
    }
    r->segs[r->nsegs++] = (rate_seg_t){ .at_ns = t, .k0 = k0, .per_sec = per_sec };
    advance(r);
    return 0;
}

double rate_sched_rate(const rate_sched_t *r, uint64_t t)
{
    uint64_t rel = t > r->start_ns ? t - r->start_ns : 0;
    const rate_seg_t *s = seg_at(r, rel);
    if (s) return s->per_sec;
    return r->stages ? rate_stages_value(r->stages, rel) * r->share : r->per_sec;
}

void rate_sched_free(rate_sched_t *r)
{
    free(r->segs);
    r->segs = NULL;
    r->nsegs = r->segs_cap = 0;
}

int rate_sched_take(rate_sched_t *r, uint64_t now, uint64_t *intended)
{
    if (r->next_at > now) return 0;
    *intended = r->next_at;
    r->next++;
    advance(r);
    return 1;
}
