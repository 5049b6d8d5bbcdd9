/* merge.c - `barrage merge`: results of runs made in parallel into one
 * (merge.h). Every input is read by result.c into a stats_t, so the merge
 * is stats_merge (exact: histograms add bucket by bucket), and the merged
 * result is written by result_write.c, the writer of --json. */
#include "merge.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "result.h"
#include "stats.h"
#include "threshold.h"

#define EXIT_USAGE 2
#define EXIT_WRITE 1

static const char merge_usage[] =
"Usage: barrage merge [-o FILE] RESULT.json...\n"
"\n"
"Merges results of runs made in parallel (several load generators) into one\n"
"result of the same schema, on stdout or in FILE: counters and errors summed,\n"
"every histogram merged bucket by bucket (percentiles are those of one run over\n"
"all the samples), per-name stats and checks merged by name, the per-second\n"
"series merged by wall-clock second (per-second p50/p90/p95/p99 are request-weighted\n"
"means: approximations; max is exact), the per-stage summaries (--stages)\n"
"merged by stage index (exact latency). The inputs' thresholds are kept, each\n"
"expression once, and evaluated again on the merged numbers (a failing one\n"
"makes the merged exit_code 99; `barrage report` exits with it). Warns when\n"
"the inputs' url, method, rate or script differ. The watched target and the\n"
"client's busy % are dropped (one machine's).\n"
"Exit codes: 0 done, 1 output not written, 2 usage error or a bad input file.\n";

typedef struct keyed_point {
    int64_t sec;
    const result_point_t *p;
} keyed_point_t;

static int by_second(const void *a, const void *b)
{
    int64_t x = ((const keyed_point_t *)a)->sec, y = ((const keyed_point_t *)b)->sec;
    return (x > y) - (x < y);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The series of every input, merged by wall-clock second. */
static int write_series(FILE *f, const result_t *rs, size_t n, int64_t start_ms)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += rs[i].npts;
    keyed_point_t *kp = total ? malloc(total * sizeof *kp) : NULL;
    if (total && !kp) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rs[i].npts; j++) {
            kp[k].sec = floor_div(rs[i].pts[j].unix_ms, 1000);
            kp[k].p = &rs[i].pts[j];
            k++;
        }
    qsort(kp, total, sizeof *kp, by_second);
    int64_t first_sec = floor_div(start_ms, 1000);
    fputs("  \"series\": [", f);
    for (size_t i = 0, out = 0; i < total; out++) {
        size_t j = i;
        result_point_t m;
        memset(&m, 0, sizeof m);
        double w50 = 0, w90 = 0, w95 = 0, w99 = 0, u50 = 0, u90 = 0, u95 = 0, u99 = 0;
        for (; j < total && kp[j].sec == kp[i].sec; j++) {
            const result_point_t *p = kp[j].p;
            double w = (double)p->requests;
            m.requests += p->requests;
            stats_errors_add(&m.errors, &p->errors);
            m.failed += p->failed;
            for (uint32_t c = 0; c < p->ncodes; c++)
                if (stats_code_add(&m.codes, &m.ncodes, p->codes[c].code, p->codes[c].count)) {
                    free(m.codes);
                    free(kp);
                    return -1;
                }
            m.active += p->active;
            if (p->stage > m.stage) m.stage = p->stage;
            if (p->max > m.max) m.max = p->max;
            w50 += w * (double)p->p50; w90 += w * (double)p->p90; w95 += w * (double)p->p95;
            w99 += w * (double)p->p99;
            u50 += (double)p->p50; u90 += (double)p->p90; u95 += (double)p->p95; u99 += (double)p->p99;
        }
        double cnt = (double)(j - i), req = (double)m.requests;
        m.p50 = (uint64_t)llround(req > 0 ? w50 / req : u50 / cnt);
        m.p90 = (uint64_t)llround(req > 0 ? w90 / req : u90 / cnt);
        m.p95 = (uint64_t)llround(req > 0 ? w95 / req : u95 / cnt);
        m.p99 = (uint64_t)llround(req > 0 ? w99 / req : u99 / cnt);
        int64_t sec = kp[i].sec;
        m.unix_ms = sec * 1000;
        result_write_point(f, !out, sec - first_sec > 0 ? sec - first_sec : 0, &m);
        free(m.codes);
        i = j;
    }
    fputs("]\n", f);
    free(kp);
    return 0;
}

/* host of the first input plus "hosts": every input's host name (or, for a
 * merged input, its "hosts"), each once. */
static void write_host(FILE *f, const result_t *rs, size_t n)
{
    const json_value_t *h = rs[0].host;
    fputc('{', f);
    size_t w = 0;
    for (size_t i = 0; i < h->len; i++) {
        if (!strcmp(h->items[2 * i]->str, "hosts")) continue;
        fputs(w++ ? ", " : "", f);
        result_write_value(f, h->items[2 * i]);
        fputs(": ", f);
        result_write_value(f, h->items[2 * i + 1]);
    }
    fprintf(f, "%s\"hosts\": [", w ? ", " : "");
    size_t cap = 0, nseen = 0;
    for (size_t i = 0; i < n; i++) {
        const json_value_t *list = json_get(rs[i].host, "hosts");
        cap += json_is(list, JSON_ARRAY) ? list->len : 1;
    }
    const json_value_t **seen = calloc(cap + 1, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        const json_value_t *list = json_get(rs[i].host, "hosts"), *one = json_get(rs[i].host, "hostname");
        size_t m = json_is(list, JSON_ARRAY) ? list->len : 1;
        for (size_t j = 0; j < m; j++) {
            const json_value_t *name = json_is(list, JSON_ARRAY) ? list->items[j] : one;
            int dup = 0;
            for (size_t s = 0; seen && s < nseen && !dup; s++) dup = json_equal(seen[s], name);
            if (!json_str(name) || dup) continue;
            fputs(nseen ? ", " : "", f);
            result_write_value(f, name);
            if (seen) seen[nseen] = name;   /* out of memory: names may repeat */
            nseen++;
        }
    }
    free(seen);
    fputs("]}", f);
}

static void write_config(FILE *f, const result_t *rs, size_t n)
{
    const json_value_t *c = rs[0].config;
    uint64_t runs = 0;
    for (size_t i = 0; i < n; i++) runs += rs[i].merged_from;
    fputc('{', f);
    size_t w = 0;
    for (size_t i = 0; i < c->len; i++) {
        if (!strcmp(c->items[2 * i]->str, "merged_from")) continue;
        fputs(w++ ? ", " : "", f);
        result_write_value(f, c->items[2 * i]);
        fputs(": ", f);
        result_write_value(f, c->items[2 * i + 1]);
    }
    fprintf(f, "%s\"merged_from\": %" PRIu64 "}", w ? ", " : "", runs);
}

/* The inputs' thresholds, parsed (a stored expression this barrage cannot
 * read is dropped with a warning) and evaluated on s over secs. */
static size_t merged_thresholds(const result_t *rs, size_t n, const stats_t *s, double secs, threshold_t *th,
                                threshold_result_t *v, const char **exprs)
{
    size_t k = result_threshold_exprs(rs, n, exprs), m = 0;
    for (size_t i = 0; i < k; i++) {
        char err[512];
        if (threshold_parse(exprs[i], &th[m], err, sizeof err)) {
            fprintf(stderr, "barrage merge: warning: threshold dropped: %s\n", err);
            continue;
        }
        threshold_eval(&th[m], s, secs, &v[m]);
        m++;
    }
    return m;
}

static int write_merged(FILE *f, const result_t *rs, size_t n, const stats_t *s)
{
    int64_t start = rs[0].start_ms;
    double end = 0;
    int interrupted = 0, exit_code = 0, service = 0, schedule = 0;
    const result_t *tls = NULL;
    size_t nth = 0, watched = 0;
    for (size_t i = 0; i < n; i++) {
        const result_t *r = &rs[i];
        const json_value_t *root = json_root(r->doc);
        watched += json_get(root, "target") || json_get(root, "client");
        if (r->start_ms < start) start = r->start_ms;
        double e = (double)r->start_ms + r->duration_s * 1000;
        if (e > end) end = e;
        interrupted |= r->interrupted;
        /* 99 (a threshold failed) goes with the thresholds */
        if (!exit_code && r->exit_code && r->exit_code != THRESHOLD_EXIT_FAILED) exit_code = r->exit_code;
        service |= r->has_service;
        schedule |= r->has_schedule;
        if (r->has_tls && !tls) tls = r;
        nth += r->nthresholds;
    }
    /* to the microsecond, written in full, so merging merges adds up */
    double secs = round((end - (double)start) * 1000) / 1e6;
    if (!(secs > 0)) secs = 0;
    threshold_t *th = calloc(nth + 1, sizeof *th);
    threshold_result_t *v = calloc(nth + 1, sizeof *v);
    const char **exprs = calloc(nth + 1, sizeof *exprs);
    if (!th || !v || !exprs) { free(th); free(v); free(exprs); return -ENOMEM; }
    size_t nv = merged_thresholds(rs, n, s, secs, th, v, exprs), failed = 0;
    for (size_t i = 0; i < nv; i++) failed += !v[i].pass;
    if (failed && !exit_code) exit_code = THRESHOLD_EXIT_FAILED;

    result_write_head(f);
    write_host(f, rs, n);
    fputs(",\n  \"config\": ", f);
    write_config(f, rs, n);
    /* the earliest real start of any input (older results lack it: their start) */
    int64_t actual = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t t = result_start_actual_us(&rs[i]);
        if (t < actual) actual = t;
    }
    result_write_times(f, start, actual, secs, interrupted, exit_code);
    result_write_stats(f, s, secs, rs[0].latency_corrected, service, schedule, tls != NULL);
    result_write_thresholds(f, th, v, nv);
    stages_t st = { 0 };
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = stages_merge(&st, &rs[i].stages);
    if (!rc) result_write_stages(f, &st);
    stages_free(&st);
    for (size_t i = 0; i < nv; i++) threshold_free(&th[i]);
    free(th);
    free(v);
    free(exprs);
    if (watched) /* one machine's processes and threads: they do not add up across runs */
        fprintf(f, "  \"watch_note\": \"the target and client sections of %zu result%s dropped: they describe "
                   "one run's processes and threads (see each input)\",\n", watched, watched == 1 ? "" : "s");
    if (rc || write_series(f, rs, n, start)) return -ENOMEM;
    fputs("}\n", f);
    return ferror(f) ? (errno ? -errno : -EIO) : 0; /* EPIPE, ENOSPC: say which */
}

/* Shards of one fleet run (--shard I/N): warn unless they are complete
 * (every index of 0..N-1), distinct, of one N, and started together. */
static void check_shards(const result_t *rs, size_t n)
{
    uint64_t count = 0;
    int sharded = 0;
    char *seen = NULL;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        const json_value_t *sh = json_get(rs[i].config, "shard");
        uint64_t idx, cnt;
        if (!sh || json_u64(json_get(sh, "index"), &idx) || json_u64(json_get(sh, "count"), &cnt)) continue;
        sharded++;
        if (!count) {
            count = cnt;
            seen = calloc(cnt ? cnt : 1, 1);
        } else if (cnt != count) {
            fprintf(stderr, "barrage merge: warning: shards of different fleets: %" PRIu64 " and %" PRIu64 " shards\n",
                    count, cnt);
        }
        if (seen && idx < count) {
            if (seen[idx]) fprintf(stderr, "barrage merge: warning: shard %" PRIu64 " appears twice\n", idx);
            seen[idx] = 1;
        }
        int64_t t = result_start_actual_us(&rs[i]);
        if (t < lo) lo = t;
        if (t > hi) hi = t;
    }
    if (sharded && (size_t)sharded < n)
        fprintf(stderr, "barrage merge: warning: %zu of %zu results were not made with --shard\n", n - (size_t)sharded, n);
    for (uint64_t i = 0; seen && i < count; i++)
        if (!seen[i]) fprintf(stderr, "barrage merge: warning: shard %" PRIu64 " of %" PRIu64 " is missing\n", i, count);
    if (sharded > 1 && hi - lo > 50000)
        fprintf(stderr, "barrage merge: warning: the shards started %.1f ms apart (use a common --start-at)\n",
                (double)(hi - lo) / 1000);
    free(seen);
}

int merge_main(int argc, char **argv)
{
    const char *out_path = NULL;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    int only_files = 0;
    if (!files) { fprintf(stderr, "barrage merge: out of memory\n"); return EXIT_USAGE; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || !a[1]) { files[nfiles++] = argv[i]; continue; }
        if (!strcmp(a, "--")) { only_files = 1; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(merge_usage, stdout); free(files); return 0; }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "barrage merge: %s needs a FILE\n", a);
                free(files);
                return EXIT_USAGE;
            }
            out_path = argv[++i];
            continue;
        }
        fprintf(stderr, "barrage merge: unknown option '%s' (see barrage merge --help)\n", a);
        free(files);
        return EXIT_USAGE;
    }
    if (!nfiles) {
        fprintf(stderr, "barrage merge: no results to merge (barrage merge A.json B.json > total.json)\n");
        free(files);
        return EXIT_USAGE;
    }
    result_t *rs = calloc(nfiles, sizeof *rs);
    stats_t total;
    memset(&total, 0, sizeof total);
    int rc = EXIT_USAGE, total_ready = 0;
    if (!rs) { fprintf(stderr, "barrage merge: out of memory\n"); goto done; }
    if (result_load_all(stderr, "merge", files, nfiles, rs)) goto done;
    static const char *const keys[] = { "url", "method", "rate", "script", NULL };
    for (size_t i = 1; i < nfiles; i++) result_warn_config(stderr, "merge", &rs[0], &rs[i], keys);
    check_shards(rs, nfiles);
    if (stats_init(&total)) { fprintf(stderr, "barrage merge: out of memory\n"); goto done; }
    total_ready = 1;
    for (size_t i = 0; i < nfiles; i++) stats_merge(&total, &rs[i].st);

    int to_file = out_path && strcmp(out_path, "-");
    FILE *f = to_file ? fopen(out_path, "w") : stdout;
    int w = f ? write_merged(f, rs, nfiles, &total) : -errno;
    if (f && (to_file ? fclose(f) : fflush(f)) && !w) w = errno ? -errno : -EIO;
    if (w) {
        fprintf(stderr, "barrage merge: cannot write '%s': %s\n", out_path ? out_path : "stdout", strerror(-w));
        rc = EXIT_WRITE;
    } else {
        rc = 0;
    }
done:
    if (total_ready) stats_free(&total);
    for (size_t i = 0; rs && i < nfiles; i++) result_free(&rs[i]);
    free(rs);
    free(files);
    return rc;
}
