/* fuzz_threshold.c - libFuzzer target for --threshold expressions
 * (threshold_parse / threshold_free, then threshold_eval,
 * threshold_certainly_broken and threshold_format_value on what parsed) and
 * for --stages lists (rate_stages_parse and the functions that read the
 * result). The whole input, NUL-terminated, is given to both parsers.
 *
 * Invariants checked (a violation traps):
 *   threshold: a failure leaves a one-line message and nothing to free; a
 *     success has a trimmed expression, a trimmed non-empty name or none,
 *     metric/op in range, 0 < p <= 100, a finite value >= 0, percentages
 *     within 0..100, and parsing with out == NULL agrees; a verdict with a
 *     note never passes; "certainly broken" never passes either; formatted
 *     values are NUL-terminated within the buffer.
 *   stages: 1..RATE_MAX_STAGES stages, durations > 0, targets in [0, 1e9],
 *     a total that does not wrap around, values within [0, max] and a stage
 *     index below n. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "stats.h"
#include "threshold.h"

/* A broken invariant: say which, then trap (libFuzzer saves the input). */
#define CHECK(c) do { if (!(c)) { \
    fprintf(stderr, "fuzz invariant failed: %s:%d: %s\n", __FILE__, __LINE__, #c); \
    __builtin_trap(); } } while (0)

/* Two runs to evaluate against: an empty one and one with data, including
 * the names and checks the seed corpus uses. Built once, never freed. */
static stats_t empty_run, busy_run;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    if (stats_init(&empty_run) || stats_init(&busy_run)) abort();
    stats_t *s = &busy_run;
    for (uint64_t v = 1; v < 2000000; v = v * 3 + 7) hist_record(&s->latency, v);
    hist_record(&s->latency, UINT64_MAX); /* clamped */
    s->requests = 12345;
    s->errors.read = 3;
    s->errors.timeout = 2;
    s->errors.status = 40;
    static const char *const names[] = { "login", "GET /a:b", "list items" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int k = stats_named_index(s, names[i]);
        if (k < 0) abort();
        s->named[k].requests = 100 * (i + 1);
        s->named[k].failures = i;
        for (uint64_t v = 100; v < 500000; v = v * 2 + 1) hist_record(&s->named[k].latency, v);
    }
    int k = stats_check_index(s, "has token");
    if (k < 0) abort();
    s->checks[k].pass = 995;
    s->checks[k].fail = 5;
    k = stats_check_index(s, "status is 200");
    if (k < 0) abort();
    s->checks[k].pass = 10;
    k = stats_named_index(&empty_run, "login"); /* a name with no data */
    if (k < 0) abort();
    return 0;
}

static void check_format(const threshold_t *t, double v)
{
    static const size_t sizes[] = { 1, 2, 6, 12, 64 };
    char buf[64];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(buf, 'x', sizeof buf);
        CHECK(threshold_format_value(t, v, buf, sizes[i]) == buf);
        CHECK(memchr(buf, 0, sizes[i]) != NULL);
    }
    CHECK(threshold_format_value(t, v, NULL, 0) == NULL);
}

static void check_verdicts(const threshold_t *t, const stats_t *s)
{
    static const double durations[] = { 0, 1e-9, 10, 1e12 };
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        threshold_result_t r;
        threshold_eval(t, s, durations[i], &r);
        CHECK(r.pass == 0 || r.pass == 1);
        CHECK(!isnan(r.measured));
        if (r.note) CHECK(!r.pass && r.measured == 0);
        if (threshold_certainly_broken(t, s)) CHECK(!r.pass);
        check_format(t, r.measured);
    }
    int b = threshold_certainly_broken(t, s);
    CHECK(b == 0 || b == 1);
}

static void fuzz_threshold(const char *s)
{
    threshold_t t;
    char err[256];
    err[0] = 0;
    memset(&t, 0xa5, sizeof t);
    int rc = threshold_parse(s, &t, err, sizeof err);
    CHECK(threshold_parse(s, NULL, NULL, 0) == rc);
    if (rc) {
        CHECK(rc == -1);
        CHECK(err[0]);
        for (const char *c = err; *c; c++) CHECK(!iscntrl((unsigned char)*c));
        CHECK(!t.expr && !t.name);
        threshold_free(&t);
        return;
    }
    size_t el = strlen(t.expr);
    CHECK(el > 0 && el <= strlen(s));
    CHECK(!isspace((unsigned char)t.expr[0]) && !isspace((unsigned char)t.expr[el - 1]));
    if (t.name) {
        size_t nl = strlen(t.name);
        CHECK(nl > 0 && nl < el);
        CHECK(!isspace((unsigned char)t.name[0]) && !isspace((unsigned char)t.name[nl - 1]));
        CHECK(t.metric != THRESHOLD_NON2XX);
    }
    CHECK(t.metric >= THRESHOLD_PERCENTILE && t.metric <= THRESHOLD_HTTP_REQS_RATE); /* the last metric */
    CHECK(t.op >= THRESHOLD_LT && t.op <= THRESHOLD_NE);
    if (t.metric == THRESHOLD_PERCENTILE) CHECK(t.p > 0 && t.p <= 100);
    CHECK(isfinite(t.value) && t.value >= 0);
    CHECK(t.percent == 0 || t.percent == 1);
    if (t.percent) CHECK(t.value <= 100);
    if (t.metric == THRESHOLD_CHECKS) CHECK(t.percent);

    check_format(&t, t.value);
    check_format(&t, 1e300);
    check_format(&t, -1);
    check_verdicts(&t, &empty_run);
    check_verdicts(&t, &busy_run);

    threshold_free(&t);
    CHECK(!t.expr && !t.name);
    threshold_free(&t); /* the struct may be freed (and parsed into) again */
    threshold_free(NULL);
}

static void fuzz_stages(const char *s)
{
    rate_stages_t st;
    char err[256];
    err[0] = 0;
    if (rate_stages_parse(s, &st, err, sizeof err)) {
        CHECK(err[0]);
        return;
    }
    CHECK(st.n >= 1 && st.n <= RATE_MAX_STAGES);
    uint64_t total = 0;
    double max = 0;
    for (size_t i = 0; i < st.n; i++) {
        CHECK(st.dur_ns[i] > 0);
        CHECK(st.target[i] >= 0 && st.target[i] <= 1e9);
        CHECK(!__builtin_add_overflow(total, st.dur_ns[i], &total));
        if (st.target[i] > max) max = st.target[i];
    }
    CHECK(rate_stages_total(&st) == total);
    CHECK(rate_stages_max(&st) == max);
    const uint64_t at[] = { 0, 1, st.dur_ns[0] - 1, st.dur_ns[0], total / 2, total - 1,
                            total, total + 1, UINT64_MAX };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        double v = rate_stages_value(&st, at[i]);
        CHECK(v >= 0 && v <= max * (1 + 1e-12));
        CHECK(rate_stages_index(&st, at[i]) < st.n);
    }
    CHECK(rate_stages_value(&st, total) == st.target[st.n - 1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    fuzz_threshold(s);
    fuzz_stages(s);
    free(s);
    return 0;
}
