/* stats.h - latency histogram and per-thread counters.
 *
 * hist_t is a log-linear histogram in the HdrHistogram style: values below
 * 2048 are exact; above, each power-of-two range is split into 1024 linear
 * sub-buckets, so any value is stored within 1/1024 (<0.1%) of itself.
 * Values are unsigned integers in the caller's unit (barrage uses
 * microseconds for latency, requests/s for rates); the range is [0, 2^40),
 * larger values are clamped (and counted in `clamped`). Histograms of the
 * same layout merge exactly by adding counts, so per-thread histograms merge
 * after the threads join with no loss. Recording never allocates.
 */
#ifndef BARRAGE_STATS_H
#define BARRAGE_STATS_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 11                       /* 2048 sub-buckets per level */
#define HIST_MAX_BITS 40                       /* values up to 2^40 - 1 */
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_MAX_BITS) - 1)
#define HIST_SUB_COUNT (UINT64_C(1) << HIST_SUB_BITS)
#define HIST_HALF_BITS (HIST_SUB_BITS - 1)

typedef struct hist {
    uint64_t *counts;   /* owned: hist_init allocates, hist_free frees */
    size_t ncounts;     /* number of slots in counts */
    uint64_t total;     /* number of recorded values */
    uint64_t min;       /* exact smallest value (UINT64_MAX when empty) */
    uint64_t max;       /* exact largest value (0 when empty) */
    double sum;         /* exact sum, for the mean */
    double sumsq;       /* sum of squares, for the standard deviation */
    uint64_t clamped;   /* values above HIST_MAX_VALUE, recorded as the max */
} hist_t;

/* Allocate an empty histogram. 0, or -ENOMEM. */
int hist_init(hist_t *h);
/* Free the counts; the struct may be hist_init'ed again. */
void hist_free(hist_t *h);
/* Forget every value (keeps the allocation). */
void hist_reset(hist_t *h);
/* Record one value. O(1), no allocation (inline below). */
static inline void hist_record(hist_t *h, uint64_t v);
/* Record the same value n times. */
void hist_record_n(hist_t *h, uint64_t v, uint64_t n);
/* Add every value of src into dst (exact). */
void hist_merge(hist_t *dst, const hist_t *src);
/* Value at percentile p (0..100): the smallest recorded value v such that at
 * least p% of values are <= v, reported as the highest value equivalent to
 * its bucket's (clamped to the exact max). 0 when empty. */
uint64_t hist_percentile(const hist_t *h, double p);
/* Exact mean and (population) standard deviation; 0 when empty. */
double hist_mean(const hist_t *h);
double hist_stdev(const hist_t *h);
/* Percentage (0..100) of values within mean +/- stdev (wrk's "+/- Stdev"). */
double hist_within_stdev(const hist_t *h);
/* Bucket index of v, and the lowest/highest value stored in bucket i
 * (exposed for tests and for lossless encodings). */
size_t hist_index(uint64_t v);
uint64_t hist_lowest(size_t i);
uint64_t hist_highest(size_t i);

/* Bucket index of v <= HIST_MAX_VALUE (the layout is described in stats.c).
 * The shift is computed without a branch: OR-ing 2047 into v makes the
 * leading-zero count stop at bit 10 for small values, so it comes out 0. */
static inline size_t hist_index_unclamped(uint64_t v)
{
    unsigned s = (unsigned)(63 - HIST_HALF_BITS) - (unsigned)__builtin_clzll(v | (HIST_SUB_COUNT - 1));
    return ((size_t)s << HIST_HALF_BITS) + (size_t)(v >> s);
}

/* The hot path, inlined: an OR, a clz, a shift, an increment, two compares
 * and three floating-point operations; no branch but the (never taken)
 * clamp. Values above the range are recorded as HIST_MAX_VALUE everywhere
 * (counts, min/max, sum), so the summary stays consistent with the buckets. */
static inline void hist_record(hist_t *h, uint64_t v)
{
    if (__builtin_expect(v > HIST_MAX_VALUE, 0)) {
        v = HIST_MAX_VALUE;
        h->clamped++;
    }
    h->counts[hist_index_unclamped(v)]++;
    h->total++;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    double d = (double)v;
    h->sum += d;
    h->sumsq += d * d;
}

/* Error classes, counted exactly per thread. */
typedef struct stats_errors {
    uint64_t connect;   /* connect() failed or was refused, DNS failed */
    uint64_t read;      /* read failed, or EOF/reset with a request in flight */
    uint64_t write;     /* write failed */
    uint64_t timeout;   /* a request got no complete response within --timeout */
    uint64_t status;    /* response with status >= 400 (still a response) */
    uint64_t parse;     /* malformed or unsolicited response bytes */
} stats_errors_t;

/* Status codes are counted in an array indexed by the code: llhttp reads
 * exactly three digits, so every status is below STATS_STATUS_MAX. */
#define STATS_STATUS_MAX 1000

/* Which response statuses are expected, i.e. not failures (--expect-status):
 * one bit per code 0..999. */
typedef struct stats_expect {
    uint8_t bits[STATS_STATUS_MAX / 8];
} stats_expect_t;

/* The default: 100-399 expected, so a status >= 400 fails. */
void stats_expect_default(stats_expect_t *e);
/* Parse a list of codes and ranges, "200-399,429" (spaces allowed around
 * items; codes 100..999). 0, or -1 with *bad at the item that cannot be read
 * and *badlen its length. */
int stats_expect_parse(stats_expect_t *e, const char *s, const char **bad, size_t *badlen);
/* 1 if status is expected under e (NULL: the default, status < 400). */
static inline int stats_expected(const stats_expect_t *e, unsigned status)
{
    if (!e) return status < 400;
    return status < STATS_STATUS_MAX && (e->bits[status >> 3] >> (status & 7) & 1);
}

/* How many responses had one status code (a sparse list: per name, per second). */
typedef struct stats_code {
    uint32_t code;
    uint64_t count;
} stats_code_t;

/* Add count responses of code to a list kept in ascending order of code
 * (allocates only for a code not yet in it). 0 or -ENOMEM. */
int stats_code_add(stats_code_t **list, uint32_t *n, uint32_t code, uint64_t count);

/* Failures of one name by reason: the message of a script's r:failure(msg),
 * or the error class of a failed attempt ("connect", "read", "write",
 * "timeout", "parse"). Failures by an unexpected status are not listed here
 * (the name's codes hold them): failures - sum(reasons) of them, at least.
 * A reason keeps at most STATS_REASON_LEN bytes; past STATS_REASONS_MAX
 * distinct reasons in one name, new ones count under STATS_REASON_OTHER. */
#define STATS_REASON_LEN 200
#define STATS_REASONS_MAX 100
#define STATS_REASON_OTHER "(other reasons)"
typedef struct stats_reason {
    char *reason;        /* owned, NUL-terminated, at most STATS_REASON_LEN bytes */
    uint64_t count;      /* > 0 (an entry whose count falls to 0 is removed) */
} stats_reason_t;

/* One failure kind of a name (its rows in PREFIX_failures.csv): a status code
 * (>= 0) or an error class (STATS_FAIL_CONNECT..STATS_FAIL_PARSE), how often,
 * and when it was first and last seen (wall clock, ms since the epoch). */
enum { STATS_FAIL_CONNECT = -1, STATS_FAIL_READ = -2, STATS_FAIL_WRITE = -3, STATS_FAIL_TIMEOUT = -4,
       STATS_FAIL_PARSE = -5 };
typedef struct stats_fail {
    int32_t kind;
    uint64_t count;
    int64_t first_ms, last_ms;
} stats_fail_t;

/* Add count failures of kind seen at [first_ms, last_ms] to a list (one entry
 * per kind, in order of first use; allocates for a new kind). 0 or -ENOMEM. */
int stats_fail_add(stats_fail_t **list, uint32_t *n, int32_t kind, uint64_t count, int64_t first_ms,
                   int64_t last_ms);

/* One failure of kind now (the wall clock read here: failures only). 0 or -ENOMEM. */
struct stats_named;
int stats_named_fail(struct stats_named *n, int32_t kind);
/* Take one failure of kind out again (r:success()/r:failure() overriding a status); nothing if none. */
void stats_named_fail_drop(struct stats_named *n, int32_t kind);

#define STATS_METHOD_MAX 16  /* a request method as kept per name (longer ones are cut) */

/* Requests grouped by a script-given name (workflow steps), Locust-style:
 * keyed by (method, name), as Locust keys its rows; "" is no method (older
 * results, stats_named_index). */
typedef struct stats_named {
    char *name;          /* owned */
    char method[STATS_METHOD_MAX]; /* the request method ("GET"), "" when unknown */
    uint64_t bytes;      /* response body bytes (Locust's content size) */
    stats_fail_t *fails; /* failures by kind, with first/last seen (owned; not in the JSON) */
    uint32_t nfails;
    uint64_t requests;   /* responses plus failed attempts */
    uint64_t failures;   /* failed requests (stats_failed's definition): responses
                            with an unexpected status, and failed attempts */
    hist_t latency;      /* latency of the responses, microseconds */
    stats_code_t *codes; /* responses by status code, ascending (owned) */
    uint32_t ncodes;
    stats_reason_t *reasons; /* failures by reason, in order of first use (owned) */
    uint32_t nreasons;
} stats_named_t;

/* Results of check(cond, name) in scripts. */
typedef struct stats_check {
    char *name;          /* owned */
    uint64_t pass, fail;
} stats_check_t;

/* An exception in a virtual user's code (Locust's Exceptions tab): the
 * user went on; counted by (message, location). */
typedef struct stats_exception {
    char *message;       /* owned, without the location */
    char *location;      /* owned: "file:line", or "?" */
    uint64_t count;
} stats_exception_t;

/* Virtual users of one barrage.user{} class (stats_users.c). */
typedef struct stats_class {
    char *name;          /* owned */
    uint64_t users;      /* user slots of the class (they add up over threads and shards) */
} stats_class_t;

/* Everything one worker thread measures; merged after join. */
typedef struct stats {
    uint64_t requests;   /* complete responses (any status) */
    uint64_t sent;       /* requests fully written */
    uint64_t bytes;      /* bytes read from the server */
    uint64_t content;    /* body bytes of the complete responses (no heads, no chunk framing: Locust's content size) */
    uint64_t body_bytes; /* response body bytes of named requests (scripts only; Locust's content size) */
    uint64_t connects;   /* connections established */
    uint64_t iterations; /* completed user() iterations (workflows; k6's iterations) */
    stats_errors_t errors;
    uint64_t failed_status; /* responses whose status was not expected (--expect-status;
                            default: status >= 400); see stats_failed */
    uint64_t status[STATS_STATUS_MAX]; /* responses by status code */
    hist_t latency;      /* response latency, microseconds; with -R measured from
                            the intended send time (coordinated omission). Holds
                            the seconds taken by stats_second_take: complete once
                            the worker has taken its last second */
    hist_t rate;         /* per-thread requests/s, sampled every 100 ms */
    hist_t service;      /* -R: latency from the actual send (uncorrected), us */
    hist_t jitter;       /* -R: actual minus intended send time, us */
    uint64_t rate_start_us; /* -R: time spent opening connections before the timeline
                            started (set by the run after merging) */
    uint8_t rate_start_forced; /* -R: a timeline started with connections still connecting */
    hist_t second;       /* latency of the current second (per-second series):
                            the one histogram a response is recorded in */
    hist_t connect_time; /* TCP connect, microseconds (each connection opened) */
    hist_t tls_time;     /* TLS handshake after connect, microseconds */
    uint64_t tls_resumed;/* handshakes that resumed a session */
    char tls_info[96];   /* negotiated version and cipher, first seen */
    stats_named_t *named;/* per-name stats, in order of first use (owned) */
    size_t nnamed;
    size_t named_cap;    /* entries allocated in named */
    uint32_t *named_slots;/* open-addressing hash of named: index + 1, 0 = free (owned) */
    size_t named_nslots; /* a power of two, at least twice nnamed (0 = none yet) */
    void **named_arenas; /* the named histograms' counts, 64 to a mapping (owned) */
    size_t named_narenas;
    stats_check_t *checks;/* checks, in order of first use (owned) */
    size_t nchecks;
    uint8_t keep_named;  /* on a worker's `prev` copy: each second carries per-name deltas (--csv history) */
    stats_exception_t *exceptions; /* in order of first occurrence (owned; stats_users.c) */
    size_t nexceptions;
    stats_class_t *classes; /* user classes, in the script's order (owned; stats_users.c) */
    size_t nclasses;
} stats_t;

/* One name's share of a thread's second (with keep_named): its deltas and the
 * latency buckets it gained. Everything points inside the second's allocation. */
typedef struct stats_second_name {
    const char *method, *name;
    uint64_t requests, failures, content;
    uint64_t cum_min, cum_max; /* the thread's exact latency min and max of the name so far (us; lat_set) */
    double lat_sum;            /* the exact sum of its latencies during the second (us) */
    uint8_t lat_set;           /* it has latencies so far */
    struct stats_bucket *buckets;
    uint32_t nbuckets;
} stats_second_name_t;

/* One thread's second of the run, handed to the main thread (sparse
 * latency histogram: only the non-empty buckets). */
typedef struct stats_second {
    uint32_t second;       /* 0-based second since the run started */
    uint32_t active;       /* connections open at its end */
    uint64_t requests;     /* responses completed during it */
    stats_errors_t errors; /* errors during it */
    uint64_t failed_status;/* responses with an unexpected status during it */
    uint64_t content;      /* content bytes during it: body_bytes with names, else content */
    uint64_t cpu_ns;       /* the thread's CPU time during it (set by the worker) */
    uint64_t wait_ns;      /* its time ready to run, waiting for a CPU (set by the worker; 0 if unknown) */
    uint64_t wall_ns;      /* its wall time (1 s but the last, partial one; set by the worker) */
    uint64_t lat_n, lat_min, lat_max; /* its latencies: how many, the exact min and max (us) */
    double lat_sum;        /* ... and their exact sum (the CSV history's exact totals) */
    stats_code_t *codes;   /* responses by status during it (inside this allocation) */
    uint32_t ncodes;
    stats_second_name_t *names; /* per-name deltas (keep_named; inside this allocation) */
    uint32_t nnames;
    uint32_t nbuckets;     /* entries in bucket[] */
    struct { uint32_t index; uint32_t count; } bucket[]; /* latency hist */
} stats_second_t;

/* One non-empty bucket of a histogram: its index (hist_highest) and count. */
typedef struct stats_bucket {
    uint32_t index;
    uint64_t count;
} stats_bucket_t;

/* The whole run's per-second series, all threads merged. */
typedef struct stats_point {
    uint64_t requests;
    stats_errors_t errors;
    uint64_t failed;       /* failed requests (stats_failed's definition) */
    stats_code_t *codes;   /* responses by status (owned) */
    uint32_t ncodes;
    uint32_t active;       /* connections open */
    uint32_t stage;        /* 0-based stage (with --stages) */
    uint64_t p50, p90, p99, max; /* latency of that second, us */
    uint64_t content;      /* content bytes (stats_second_t's) */
    stats_bucket_t *buckets; /* that second's latency histogram, sparse (owned; only with keep_buckets) */
    uint32_t nbuckets;
    uint64_t p95;          /* (not in the JSON series: the report's and --web's charts) */
    uint64_t lat_min, lat_max; /* exact latency min and max of the second (us; a run's own series: lat_set) */
    double lat_sum;        /* ... and the exact sum: the CSV history's totals are stats.csv's */
    uint64_t lat_n;        /* how many latencies lat_* cover (a lagging thread's may miss the buckets) */
    uint8_t lat_set;
} stats_point_t;

/* One name's second in the series (all threads): counts and its latency
 * buckets (several threads' buckets may repeat an index: replay them all). */
typedef struct stats_name_point {
    uint64_t requests, failures, content;
    uint64_t cum_min, cum_max; /* exact latency min and max of the name up to this second (us; lat_set) */
    double lat_sum;            /* exact sum of the second's latencies (us) */
    uint8_t lat_set;
    stats_bucket_t *buckets; /* owned */
    uint32_t nbuckets;
} stats_name_point_t;

/* One (method, name)'s per-second series, for the CSV history's per-name rows. */
typedef struct stats_name_series {
    char method[STATS_METHOD_MAX];
    char *name;                /* owned */
    stats_name_point_t *pts;   /* owned; pts[i] is second i (zero when it had nothing) */
    uint32_t n;                /* seconds allocated */
    uint32_t first;            /* the first second it appears in */
} stats_name_series_t;

typedef struct stats_series {
    stats_point_t *pts;    /* owned; pts[i] is second i */
    uint32_t n;            /* seconds with data */
    uint32_t cap;
    int keep_buckets;      /* keep each second's histogram (the CSV history's percentiles) */
    stats_name_series_t *names; /* per-name seconds (from stats_second_t.names; owned) */
    uint32_t nnames;
} stats_series_t;

/* stats_named.c: the per-name seconds. The bytes a second's per-name part
 * needs (creating prev's mirror entries; 0 when none or on -ENOMEM), and
 * filling it at `area` (8-aligned, that many bytes), updating prev. */
size_t stats_second_names_size(const stats_t *s, stats_t *prev);
void stats_second_names_fill(const stats_t *s, stats_t *prev, stats_second_t *sec, void *area, size_t size);
/* Add a thread's per-name second into the series. 0 or -ENOMEM. */
int stats_series_add_names(stats_series_t *ser, const stats_second_t *sec);
void stats_series_free_names(stats_series_t *ser);

/* Fold s->second into s->latency, then snapshot and reset it plus the deltas since *prev (a copy of the
 * counters at the previous snapshot, updated). Allocates (once a second).
 * NULL on allocation failure. */
stats_second_t *stats_second_take(stats_t *s, stats_t *prev, uint32_t second, uint32_t active);
/* Add one thread's second into the series, merging its latency into
 * `scratch` (a histogram per second the caller keeps until complete).
 * Returns 0 or -ENOMEM. */
int stats_series_add(stats_series_t *ser, const stats_second_t *sec, hist_t *scratch);
/* Compute a second's percentiles from its merged histogram. */
void stats_series_finish(stats_series_t *ser, uint32_t second, const hist_t *merged);
void stats_series_free(stats_series_t *ser);

int stats_init(stats_t *s);
void stats_free(stats_t *s);
/* Add src's counters and histograms into dst. */
void stats_merge(stats_t *dst, const stats_t *src);
/* Index of the named stats for `name`, created on first use (allocates
 * then, never afterwards): one hash lookup, however many names there are.
 * Its histogram's counts live in a zero-filled mapping, so a name costs the
 * pages its values touch, not 248 KiB (never hist_free it). -ENOMEM on
 * failure. */
int stats_named_index(stats_t *s, const char *name);
/* Add delta (may be negative) to the failures of n counted under the first
 * len bytes (at most STATS_REASON_LEN) of reason; a count never goes below 0
 * and an entry at 0 is removed. 0 or -ENOMEM (allocates only a new reason). */
int stats_reason_add(stats_named_t *n, const char *reason, size_t len, int64_t delta);
/* The same, keyed by (method, name): method "" is stats_named_index's entry. */
int stats_named_key(stats_t *s, const char *method, const char *name);
/* The stats of every entry called `name`, whatever its method (thresholds and
 * gates judge a name): the entry itself when it is the only one, else their
 * sum in *scratch (its histogram allocated: free it with hist_free when the
 * result is scratch). NULL when no entry has that name or on -ENOMEM. */
const stats_named_t *stats_named_sum(const stats_t *s, const char *name, stats_named_t *scratch);
/* Index of the check `name`, created on first use. -ENOMEM on failure. */
int stats_check_index(stats_t *s, const char *name);
/* Add every class of e into d. */
void stats_errors_add(stats_errors_t *d, const stats_errors_t *e);
/* stats_users.c: exceptions and user classes. */
/* Add count exceptions of (message, location). 0 or -ENOMEM. */
int stats_exception_add(stats_t *s, const char *message, const char *location, uint64_t count);
/* All exceptions counted in s. */
uint64_t stats_exceptions_total(const stats_t *s);
/* Add users to the class `name` (created at the end on first use). 0 or -ENOMEM. */
int stats_class_add(stats_t *s, const char *name, uint64_t users);
/* Add src's exceptions and classes into dst (stats_merge). */
void stats_users_merge(stats_t *dst, const stats_t *src);
/* Free them (stats_free). */
void stats_users_free(stats_t *s);
/* Sum of the socket/protocol error classes (excludes status). */
uint64_t stats_error_total(const stats_errors_t *e);
/* The one definition of a failed request, used by every output: an attempt
 * that ended in a socket/protocol error (connect, read, write, timeout,
 * parse), or a response whose status was not expected. */
uint64_t stats_failed(const stats_t *s);
/* Attempts, the denominator of failure rates: complete responses plus
 * socket/protocol errors. */
uint64_t stats_attempts(const stats_t *s);
/* Distinct status codes with at least one response. */
uint32_t stats_ncodes(const stats_t *s);

#endif
