/* procmon.h - the target under test, watched from /proc (Linux only):
 * --monitor-pid PID and --monitor-cmd NAME. One procmon_t is one target: a
 * process, or every process whose name matches (nginx's master and workers
 * summed). It is sampled once a second on the main thread (never in a
 * worker): CPU % from the utime+stime delta over the wall time (100% = one
 * core), RSS, open file descriptors (entries of /proc/PID/fd) and threads.
 * A NAME target is re-scanned at every sample, so processes started during
 * the run (new workers) are counted from their second sample on; processes
 * that end are dropped. A target with no process left has exited: its
 * samples stop and `exited_s` says when. Nothing here prints. */
#ifndef BARRAGE_PROCMON_H
#define BARRAGE_PROCMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The leak rule (procmon_summarize): samples covering at least
 * PROCMON_LEAK_MIN_S seconds, a least-squares RSS growth over them of at
 * least PROCMON_LEAK_MIN_MIB MiB and of at least PROCMON_LEAK_MIN_PCT % of
 * the first sample's RSS, and the second half of the samples still growing
 * at least half as fast (a warm-up step is not a leak). */
#define PROCMON_LEAK_MIN_S 60
#define PROCMON_LEAK_MIN_MIB 8.0
#define PROCMON_LEAK_MIN_PCT 10.0

/* The fields barrage reads from /proc/PID/stat. */
typedef struct procmon_stat {
    char comm[32];          /* the kernel's name (at most 15 bytes; between the parentheses) */
    char state;             /* R, S, D, Z, ... */
    uint64_t utime, stime;  /* CPU time in clock ticks */
    uint64_t threads;       /* num_threads */
    uint64_t rss_pages;     /* resident set, pages */
} procmon_stat_t;

/* One second's sample of a target (sums over its processes). */
typedef struct procmon_sample {
    double t;               /* seconds since the run's start */
    double cpu;             /* CPU %, 100 = one core (0 in the first sample) */
    uint64_t rss;           /* bytes */
    uint32_t fds;           /* open file descriptors (0 when not readable) */
    uint32_t threads;
    uint32_t procs;         /* matched processes */
} procmon_sample_t;

/* min/avg/max of one metric over the samples. */
typedef struct procmon_range { double min, avg, max; } procmon_range_t;

typedef struct procmon_summary {
    size_t n;               /* samples */
    procmon_range_t cpu, rss, fds, threads;
    double span_s;          /* last sample's t minus the first's */
    double rss_slope_mib_h; /* least-squares RSS growth, MiB per hour (0 below 2 samples) */
    int leak_checked;       /* span_s reached the rule's window */
    int leak;               /* the leak rule holds */
} procmon_summary_t;

/* A process's CPU ticks (utime + stime) at the previous sample. */
typedef struct procmon_ticks { pid_t pid; uint64_t ticks; } procmon_ticks_t;

typedef struct procmon {
    char label[80];         /* "pid 1234" or "nginx" */
    pid_t pid;              /* --monitor-pid, or 0 */
    const char *name;       /* --monitor-cmd (borrowed), or NULL */
    pid_t self;             /* barrage's own pid (never matched by name) */
    double exited_s;        /* when the last process was found gone, or -1 */
    procmon_sample_t *samples; /* owned, in time order */
    size_t n, cap;
    procmon_ticks_t *prev;  /* previous CPU ticks per process, for the deltas (owned) */
    size_t nprev;
    double prev_t;          /* t of the previous sample */
    long clk_tck, page;     /* sysconf values */
} procmon_t;

/* Parse a /proc/PID/stat line (the comm may hold spaces and parentheses:
 * it ends at the last ')'). 0, or -EINVAL. */
int procmon_parse_stat(const char *line, procmon_stat_t *st);
/* Whether a process is NAME: its comm equals name (or its first 15 bytes,
 * the kernel's limit), or the base name of cmdline's first argument equals
 * name. cmdline is /proc/PID/cmdline's bytes (NUL-separated), may be NULL. */
int procmon_name_matches(const char *comm, const char *cmdline, size_t cmdlen, const char *name);
/* CPU % over dt seconds from a tick delta (100 = one core). */
double procmon_cpu_pct(uint64_t dticks, long clk_tck, double dt);

/* Open a target: pid (name NULL) or name (pid 0). A pid must exist, a name
 * must match at least one process now. 0, or -1 with a one-line message in
 * err (no such process, not Linux). */
int procmon_open(procmon_t *m, pid_t pid, const char *name, char *err, size_t errlen);
/* Take one sample at t seconds since the start (call once a second).
 * 0; 1 when the target has just been found gone (exited_s set); -ENOMEM. */
int procmon_sample(procmon_t *m, double t);
/* Summarize samples[0..n) (pure; used by the reports and the tests). */
void procmon_summarize(const procmon_sample_t *s, size_t n, double leak_min_s, procmon_summary_t *out);
/* The leak rule's window in seconds: PROCMON_LEAK_MIN_S, or the test-only
 * override BARRAGE_TEST_LEAK_WINDOW_S (the e2e tests use a few seconds). */
double procmon_leak_window(void);
void procmon_free(procmon_t *m);

#endif
