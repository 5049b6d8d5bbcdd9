/* stats.c - log-linear latency histogram and per-thread counters.
 *
 * Layout (HdrHistogram's, with 2048 sub-buckets of which the upper 1024 are
 * new at each level). Let s = max(0, floor(log2 v) - 10), the "shift":
 *   index(v) = s * 1024 + (v >> s)
 * For v < 2048, s = 0 and index = v (exact). For v >= 2048, v >> s lies in
 * [1024, 2047], so level s owns the indexes [1024(s+1), 1024(s+2)) and the
 * levels follow each other with no gap. A bucket at level s is 2^s wide and
 * starts at >= 1024 * 2^s, so every value is stored within 1/1024 of itself.
 * The largest value, 2^40 - 1, has s = 29 and index 31743: 31744 counters,
 * 248 KiB per histogram.
 *
 * The shift is computed without a branch: OR-ing 2047 into v makes the
 * leading-zero count stop at bit 10 for small values, so s comes out 0.
 */
#include "stats.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define SUB_COUNT  HIST_SUB_COUNT                  /* 2048 */
#define HALF_BITS  HIST_HALF_BITS                  /* 10 */
#define NCOUNTS    ((size_t)(HIST_MAX_BITS - HIST_SUB_BITS + 2) << HALF_BITS)
#define index_of   hist_index_unclamped
#define STATS_ARENA_HISTS 64   /* named histograms per mapping (15.5 MiB of address space) */
#define ARENA_BYTES ((size_t)STATS_ARENA_HISTS * NCOUNTS * sizeof(uint64_t))

size_t hist_index(uint64_t v)
{
    return index_of(v > HIST_MAX_VALUE ? HIST_MAX_VALUE : v);
}

/* Shift of bucket i: 0 for the exact range, else the level (see the top). */
static inline unsigned shift_of_index(size_t i)
{
    return i < SUB_COUNT ? 0 : (unsigned)(i >> HALF_BITS) - 1;
}

uint64_t hist_lowest(size_t i)
{
    unsigned s = shift_of_index(i);
    return (uint64_t)(i - ((size_t)s << HALF_BITS)) << s;
}

uint64_t hist_highest(size_t i)
{
    return hist_lowest(i) + (UINT64_C(1) << shift_of_index(i)) - 1;
}

static void clear_summary(hist_t *h)
{
    h->total = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
    h->sumsq = 0;
    h->clamped = 0;
}

int hist_init(hist_t *h)
{
    clear_summary(h);
    h->counts = calloc(NCOUNTS, sizeof *h->counts);
    h->ncounts = h->counts ? NCOUNTS : 0;
    return h->counts ? 0 : -ENOMEM;
}

void hist_free(hist_t *h)
{
    free(h->counts);
    h->counts = NULL;
    h->ncounts = 0;
    clear_summary(h);
}

void hist_reset(hist_t *h)
{
    /* Only the occupied range [index(min), index(max)] can be non-zero: a
     * second's histogram is reset every second, mostly a few hundred slots
     * of its 31,744. */
    if (h->counts && h->total) {
        size_t lo = index_of(h->min), hi = index_of(h->max);
        memset(h->counts + lo, 0, (hi - lo + 1) * sizeof *h->counts);
    }
    clear_summary(h);
}

void hist_record_n(hist_t *h, uint64_t v, uint64_t n)
{
    if (!n) return;
    if (v > HIST_MAX_VALUE) {
        v = HIST_MAX_VALUE;
        h->clamped += n;
    }
    h->counts[index_of(v)] += n;
    h->total += n;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    double d = (double)v;
    h->sum += d * (double)n;
    h->sumsq += d * d * (double)n;
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    if (!src->total) return;
    /* Every hist_t has the same layout, so counts add slot by slot; only the
     * occupied range [index(min), index(max)] of src can be non-zero. */
    size_t lo = index_of(src->min), hi = index_of(src->max);
    for (size_t i = lo; i <= hi; i++) dst->counts[i] += src->counts[i];
    dst->total += src->total;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
    dst->clamped += src->clamped;
}

static inline uint64_t clamp_to_range(const hist_t *h, uint64_t v)
{
    return v < h->min ? h->min : v > h->max ? h->max : v;
}

uint64_t hist_percentile(const hist_t *h, double p)
{
    if (!h->total) return 0;
    if (!(p > 0)) return h->min;            /* also NaN */
    if (p >= 100) return h->max;
    /* Rank of the wanted value: ceil(p% of total). p*total/100 carries a few
     * ulps of error (99.9 is not exact in binary), which would push an exact
     * integer rank up by one; shaving 1e-12 relative absorbs that and is far
     * below any real difference between two ranks. */
    double x = p * (double)h->total / 100.0;
    double r = ceil(x - x * 1e-12);
    uint64_t rank = r < 1 ? 1 : (uint64_t)r;
    if (rank > h->total) rank = h->total;
    size_t i = index_of(h->min), last = index_of(h->max);
    uint64_t seen = 0;
    for (; i < last; i++) {
        seen += h->counts[i];
        if (seen >= rank) break;
    }
    return clamp_to_range(h, hist_highest(i));
}

double hist_mean(const hist_t *h)
{
    return h->total ? h->sum / (double)h->total : 0;
}

/* Population stdev from the running sums: sumsq/n - mean^2. Once sumsq
 * passes 2^53 each addition rounds, so the variance is off by up to about
 * n * 2^-53 * mean^2: irrelevant for real latency spreads (1e8 samples with
 * a stdev of 1% of the mean: ~3e-5 relative), but a spread of a few units
 * on a mean of millions can vanish. Hence: a negative variance reads as 0,
 * min == max is answered exactly, and the result is capped at
 * (max - min) / 2, which no distribution on [min, max] can exceed. */
double hist_stdev(const hist_t *h)
{
    if (h->total < 2 || h->min == h->max) return 0;
    double n = (double)h->total, mean = h->sum / n;
    double var = h->sumsq / n - mean * mean;
    if (!(var > 0)) return 0;
    double sd = sqrt(var), cap = (double)(h->max - h->min) / 2;
    return sd < cap ? sd : cap;
}

/* Each bucket is represented by its midpoint, clamped to [min, max] (so a
 * histogram of one repeated value, or of values at its extremes, is judged on
 * the exact values). Only the buckets straddling mean +/- stdev can be
 * misjudged, which moves the answer by their share of the counts. */
double hist_within_stdev(const hist_t *h)
{
    if (!h->total) return 0;
    double mean = hist_mean(h), sd = hist_stdev(h);
    double lo = mean - sd, hi = mean + sd;
    uint64_t in = 0;
    size_t last = index_of(h->max);
    for (size_t i = index_of(h->min); i <= last; i++) {
        uint64_t c = h->counts[i];
        if (!c) continue;
        uint64_t low = hist_lowest(i);
        uint64_t mid = clamp_to_range(h, low + (hist_highest(i) - low) / 2);
        double v = (double)mid;
        if (v >= lo && v <= hi) in += c;
    }
    return 100.0 * (double)in / (double)h->total;
}

int stats_init(stats_t *s)
{
    memset(s, 0, sizeof *s);
    int r = hist_init(&s->latency);
    if (r == 0) r = hist_init(&s->rate);
    if (r == 0) r = hist_init(&s->service);
    if (r == 0) r = hist_init(&s->jitter);
    if (r == 0) r = hist_init(&s->second);
    if (r == 0) r = hist_init(&s->connect_time);
    if (r == 0) r = hist_init(&s->tls_time);
    if (r < 0) stats_free(s);
    return r;
}

void stats_free(stats_t *s)
{
    hist_free(&s->latency);
    hist_free(&s->rate);
    hist_free(&s->service);
    hist_free(&s->jitter);
    hist_free(&s->second);
    hist_free(&s->connect_time);
    hist_free(&s->tls_time);
    for (size_t i = 0; i < s->nnamed; i++) { /* counts: in the arenas */
        free(s->named[i].name);
        free(s->named[i].codes);
        for (uint32_t j = 0; j < s->named[i].nreasons; j++) free(s->named[i].reasons[j].reason);
        free(s->named[i].reasons);
        free(s->named[i].fails);
    }
    for (size_t i = 0; i < s->named_narenas; i++) munmap(s->named_arenas[i], ARENA_BYTES);
    free(s->named_arenas);
    s->named_arenas = NULL;
    s->named_narenas = 0;
    free(s->named);
    free(s->named_slots);
    for (size_t i = 0; i < s->nchecks; i++) free(s->checks[i].name);
    free(s->checks);
    s->named = NULL; s->checks = NULL;
    s->named_slots = NULL;
    s->nnamed = s->nchecks = s->named_cap = s->named_nslots = 0;
    stats_users_free(s);
}

/* FNV-1a: names are short, and this is one pass with no table. */
static uint32_t name_hash(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

/* The slot holding (method, name), or the free slot where it goes. */
static size_t named_slot(const stats_t *s, const char *method, const char *name)
{
    size_t mask = s->named_nslots - 1, i = (name_hash(name) ^ name_hash(method) * 31u) & mask;
    while (s->named_slots[i] && (strcmp(s->named[s->named_slots[i] - 1].name, name) ||
                                 strcmp(s->named[s->named_slots[i] - 1].method, method)))
        i = (i + 1) & mask;
    return i;
}

/* Make room for one more name: the array grows by half, the hash doubles
 * before it is half full, the histograms come STATS_ARENA_HISTS to a
 * mapping (zero pages until written). */
static int named_reserve(stats_t *s)
{
    if (s->nnamed >= INT32_MAX - 1) return -ENOMEM;
    if (s->nnamed == s->named_cap) {
        size_t cap = s->named_cap ? s->named_cap + s->named_cap / 2 : 8;
        stats_named_t *n = realloc(s->named, cap * sizeof *n);
        if (!n) return -ENOMEM;
        s->named = n;
        s->named_cap = cap;
    }
    if (2 * (s->nnamed + 1) > s->named_nslots) {
        size_t ns = s->named_nslots ? 2 * s->named_nslots : 16;
        uint32_t *slots = calloc(ns, sizeof *slots);
        if (!slots) return -ENOMEM;
        free(s->named_slots);
        s->named_slots = slots;
        s->named_nslots = ns;
        for (size_t k = 0; k < s->nnamed; k++) slots[named_slot(s, s->named[k].method, s->named[k].name)] = (uint32_t)k + 1;
    }
    if (s->nnamed == s->named_narenas * STATS_ARENA_HISTS) {
        void **a = realloc(s->named_arenas, (s->named_narenas + 1) * sizeof *a);
        if (!a) return -ENOMEM;
        s->named_arenas = a;
        void *m = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return -ENOMEM;
        a[s->named_narenas++] = m;
    }
    return 0;
}

int stats_named_index(stats_t *s, const char *name) { return stats_named_key(s, "", name); }

int stats_named_key(stats_t *s, const char *method_in, const char *name)
{
    char method[STATS_METHOD_MAX]; /* cut as snprintf would, without its cost: this runs per named request */
    size_t ml = strnlen(method_in, sizeof method - 1);
    memcpy(method, method_in, ml);
    method[ml] = 0;
    if (s->named_nslots) {
        size_t i = named_slot(s, method, name);
        if (s->named_slots[i]) return (int)s->named_slots[i] - 1;
    }
    if (named_reserve(s)) return -ENOMEM;
    size_t k = s->nnamed;
    stats_named_t *e = &s->named[k];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name))) return -ENOMEM;
    memcpy(e->method, method, sizeof e->method);
    clear_summary(&e->latency);
    e->latency.counts = (uint64_t *)s->named_arenas[k / STATS_ARENA_HISTS] + (k % STATS_ARENA_HISTS) * NCOUNTS;
    e->latency.ncounts = NCOUNTS;
    s->named_slots[named_slot(s, method, name)] = (uint32_t)k + 1;
    return (int)s->nnamed++;
}

int stats_check_index(stats_t *s, const char *name)
{
    for (size_t i = 0; i < s->nchecks; i++)
        if (!strcmp(s->checks[i].name, name)) return (int)i;
    stats_check_t *n = realloc(s->checks, (s->nchecks + 1) * sizeof *n);
    if (!n) return -ENOMEM;
    s->checks = n;
    stats_check_t *e = &n[s->nchecks];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) return -ENOMEM;
    return (int)s->nchecks++;
}

/* d += e for every error class. */
void stats_errors_add(stats_errors_t *d, const stats_errors_t *e)
{
    d->connect += e->connect;
    d->read += e->read;
    d->write += e->write;
    d->timeout += e->timeout;
    d->status += e->status;
    d->parse += e->parse;
}

void stats_merge(stats_t *dst, const stats_t *src)
{
    dst->requests += src->requests;
    dst->sent += src->sent;
    dst->bytes += src->bytes;
    dst->content += src->content;
    dst->body_bytes += src->body_bytes;
    dst->connects += src->connects;
    dst->iterations += src->iterations;
    stats_errors_add(&dst->errors, &src->errors);
    dst->failed_status += src->failed_status;
    for (size_t i = 0; i < STATS_STATUS_MAX; i++) dst->status[i] += src->status[i];
    hist_merge(&dst->latency, &src->latency);
    hist_merge(&dst->rate, &src->rate);
    hist_merge(&dst->service, &src->service);
    hist_merge(&dst->jitter, &src->jitter);
    hist_merge(&dst->connect_time, &src->connect_time);
    hist_merge(&dst->tls_time, &src->tls_time);
    dst->tls_resumed += src->tls_resumed;
    dst->rate_start_forced |= src->rate_start_forced;
    if (src->rate_start_us > dst->rate_start_us) dst->rate_start_us = src->rate_start_us; /* merge: the slowest shard's */
    if (!dst->tls_info[0]) memcpy(dst->tls_info, src->tls_info, sizeof dst->tls_info);
    for (size_t i = 0; i < src->nnamed; i++) {
        const stats_named_t *n = &src->named[i];
        int k = stats_named_key(dst, n->method, n->name);
        if (k < 0) continue;
        stats_named_t *d = &dst->named[k];
        d->requests += n->requests;
        d->failures += n->failures;
        d->bytes += n->bytes;
        for (uint32_t j = 0; j < n->nfails; j++)
            (void)stats_fail_add(&d->fails, &d->nfails, n->fails[j].kind, n->fails[j].count, n->fails[j].first_ms,
                                 n->fails[j].last_ms);
        for (uint32_t j = 0; j < src->named[i].ncodes; j++)
            (void)stats_code_add(&d->codes, &d->ncodes, src->named[i].codes[j].code, src->named[i].codes[j].count);
        hist_merge(&d->latency, &src->named[i].latency);
        for (uint32_t j = 0; j < src->named[i].nreasons; j++) {
            const stats_reason_t *r = &src->named[i].reasons[j];
            (void)stats_reason_add(d, r->reason, strlen(r->reason), (int64_t)r->count);
        }
    }
    for (size_t i = 0; i < src->nchecks; i++) {
        int k = stats_check_index(dst, src->checks[i].name);
        if (k < 0) continue;
        dst->checks[k].pass += src->checks[i].pass;
        dst->checks[k].fail += src->checks[i].fail;
    }
    stats_users_merge(dst, src);
}

static stats_reason_t *reason_find(stats_named_t *n, const char *reason, size_t len)
{
    for (uint32_t i = 0; i < n->nreasons; i++)
        if (!strncmp(n->reasons[i].reason, reason, len) && !n->reasons[i].reason[len]) return &n->reasons[i];
    return NULL;
}

int stats_reason_add(stats_named_t *n, const char *reason, size_t len, int64_t delta)
{
    if (len > STATS_REASON_LEN) len = STATS_REASON_LEN;
    stats_reason_t *r = reason_find(n, reason, len);
    if (!r && (delta < 0 || n->nreasons >= STATS_REASONS_MAX)) {
        reason = STATS_REASON_OTHER;
        len = strlen(reason);
        r = reason_find(n, reason, len);
    }
    if (delta < 0) {
        if (!r) return 0;
        uint64_t d = (uint64_t)-delta;
        r->count = r->count > d ? r->count - d : 0;
        if (!r->count) {
            free(r->reason);
            uint32_t i = (uint32_t)(r - n->reasons);
            memmove(r, r + 1, (n->nreasons - i - 1) * sizeof *r);
            n->nreasons--;
        }
        return 0;
    }
    if (!delta) return 0;
    if (!r) {
        stats_reason_t *a = realloc(n->reasons, (n->nreasons + 1) * sizeof *a);
        if (!a) return -ENOMEM;
        n->reasons = a;
        char *copy = strndup(reason, len);
        if (!copy) return -ENOMEM;
        r = &a[n->nreasons++];
        *r = (stats_reason_t){ .reason = copy, .count = 0 };
    }
    r->count += (uint64_t)delta;
    return 0;
}

uint64_t stats_error_total(const stats_errors_t *e)
{
    return e->connect + e->read + e->write + e->timeout + e->parse;
}

uint64_t stats_failed(const stats_t *s)
{
    return stats_error_total(&s->errors) + s->failed_status;
}

uint64_t stats_attempts(const stats_t *s)
{
    return s->requests + stats_error_total(&s->errors);
}

uint32_t stats_ncodes(const stats_t *s)
{
    uint32_t n = 0;
    for (size_t i = 0; i < STATS_STATUS_MAX; i++) n += s->status[i] != 0;
    return n;
}

static void expect_range(stats_expect_t *e, unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi && c < STATS_STATUS_MAX; c++) e->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

void stats_expect_default(stats_expect_t *e)
{
    memset(e, 0, sizeof *e);
    expect_range(e, 100, 399);
}

/* One code of a list: 3 digits, 100..999. Returns the characters read, 0 if none. */
static size_t scan_code(const char *s, const char *end, unsigned *code)
{
    size_t n = 0;
    unsigned v = 0;
    while (s + n < end && isdigit((unsigned char)s[n]) && n < 4) v = v * 10 + (unsigned)(s[n++] - '0');
    if (n != 3 || v < 100) return 0;
    *code = v;
    return n;
}

int stats_expect_parse(stats_expect_t *e, const char *s, const char **bad, size_t *badlen)
{
    memset(e, 0, sizeof *e);
    const char *p = s;
    for (;;) {
        const char *item = p, *end = p + strcspn(p, ",");
        const char *a = item, *b = end;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        unsigned lo, hi;
        size_t n = scan_code(a, b, &lo);
        const char *q = a + n;
        int ok = n > 0;
        hi = lo;
        if (ok && q < b && *q == '-') {
            size_t m = scan_code(q + 1, b, &hi);
            ok = m > 0 && hi >= lo;
            q += 1 + m;
        }
        if (!ok || q != b) {
            *bad = a;
            *badlen = (size_t)(b - a);
            return -1;
        }
        expect_range(e, lo, hi);
        if (!*end) return 0;
        p = end + 1;
    }
}

int stats_code_add(stats_code_t **list, uint32_t *n, uint32_t code, uint64_t count)
{
    uint32_t i = 0;
    while (i < *n && (*list)[i].code < code) i++;
    if (i < *n && (*list)[i].code == code) {
        (*list)[i].count += count;
        return 0;
    }
    stats_code_t *l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return -ENOMEM;
    memmove(l + i + 1, l + i, (*n - i) * sizeof *l);
    l[i].code = code;
    l[i].count = count;
    *list = l;
    (*n)++;
    return 0;
}
