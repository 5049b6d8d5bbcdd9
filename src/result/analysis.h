/* analysis.h - answers from a run's per-second series, not just numbers:
 * the breaking point of a ramping run, the recovery after a spike, the drift
 * of a soak. Pure functions over the series and the stages (no I/O); the
 * same on a run's own series, on a result read back and on a merged fleet.
 *
 * Each second i of the series gives: its load L (the mean of the connections
 * open at its start and at its end, or with -R stages the target rate at its
 * middle), its successful
 * responses/s ok (responses with an expected status), its failure rate f
 * (failed / attempts) and its latency p (the second's p95; p90 for a result
 * written before seconds had a p95). Seconds with no
 * attempt are left out, and so are the first and last second of the run
 * (partial seconds). Every signal must hold for ANALYSIS_SUSTAIN seconds in
 * a row, so one noisy second never makes a finding.
 *
 * Breaking point (runs with stages whose load rises): over the rising part
 * (up to the end of the first stage at the largest target), the baseline is
 * its first ANALYSIS_BASE_SHARE of seconds (at least 2): their median p and
 * median efficiency ok/L.
 *  - latency: the first second with p > ANALYSIS_LATENCY_K x baseline p;
 *  - failures: the first second with f > ANALYSIS_FAIL_RATE with
 *    ANALYSIS_SUSTAIN seconds above it among it and the ANALYSIS_SUSTAIN
 *    seconds after it (failures come in bursts: a queue fills, drains...);
 *  - knee: the first second with ok < ANALYSIS_KNEE_FRACTION x baseline
 *    efficiency x L (throughput no longer grows with load as it did); the
 *    load reported is where the plateau (median ok from that second to the
 *    largest load) meets the baseline line ok = efficiency x L, which for a
 *    sharp knee is the knee itself.
 * Spike (a stage at least ANALYSIS_SPIKE_FACTOR x the previous stage's
 * target, followed later by a stage back at most 1.25 x that target): the
 * pre-spike values are the medians over the previous stage's seconds (its
 * first second left out when it has more); recovery is the first second after the load is back down at which
 * p <= max(ANALYSIS_BAND x pre p, pre p + 1 ms) and f <= pre f + 1%, held.
 * Soak (runs of at least ANALYSIS_SOAK_MIN_S seconds without rising stages):
 * the median p and ok of the first and the last 10% of the seconds, and a
 * verdict when either changed by more than ANALYSIS_DRIFT. */
#ifndef BARRAGE_ANALYSIS_H
#define BARRAGE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "rate.h"
#include "stats.h"

#define ANALYSIS_SUSTAIN        2     /* seconds a signal must hold */
#define ANALYSIS_BASE_SHARE     0.2   /* baseline: the first 20% of the rising seconds */
#define ANALYSIS_LATENCY_K      2.0   /* latency: p above 2 x baseline */
#define ANALYSIS_FAIL_RATE      0.01  /* failures: more than 1% of attempts */
#define ANALYSIS_KNEE_FRACTION  0.8   /* knee: ok below 80% of baseline efficiency x load */
#define ANALYSIS_SPIKE_FACTOR   2.0   /* spike: a stage at least 2 x the one before */
#define ANALYSIS_BAND           ANALYSIS_LATENCY_K /* recovered: p within 2 x pre-spike (the same
                                         factor that says latency left its baseline) */
#define ANALYSIS_SOAK_MIN_S     20    /* soak verdicts need this many seconds */
#define ANALYSIS_DRIFT          0.2   /* soak: a change of more than 20% */

/* One finding: where a signal first held, and the evidence. */
typedef struct analysis_finding {
    int found;          /* 1: found; 0: not within the run */
    double load;        /* the load at which it happened */
    uint32_t second;    /* when (seconds since the start) */
    double before;      /* the value before (baseline) */
    double after;       /* the value when found */
} analysis_finding_t;

typedef struct analysis {
    int ramp;                     /* a rising run was analysed */
    int ramp_short;               /* rising, but not enough seconds for a verdict */
    const char *load_unit;        /* "connections" or "req/s" */
    int pct;                      /* the latency percentile used: 95 (90 for older results) */
    double max_load;
    analysis_finding_t latency;   /* before/after: p, us */
    analysis_finding_t failures;  /* before/after: failure rate (0..1) */
    analysis_finding_t knee;      /* before/after: ok per unit of load */
    double plateau;               /* knee found: ok req/s beyond it */
    double base_p, base_eff;      /* the baseline: p (us), ok req/s per unit of load */

    int spike;                    /* a spike was found in the stages */
    int spike_short;              /* ... but too few seconds around it */
    uint32_t spike_start, spike_end; /* seconds: the rise starts, the load is back down */
    double spike_load, base_load;
    double pre_p, pre_fail;       /* pre-spike values */
    double peak_p, peak_fail;     /* the worst second from the rise to recovery */
    int recovered;                /* 1: within the run */
    uint32_t recovered_at;        /* second */
    double recovery_s;            /* recovered_at - spike_end */

    int soak;                     /* a soak verdict was made */
    int soak_short;               /* a long constant run, but too short */
    double first_p, last_p, first_ok, last_ok; /* medians of the first/last 10% */
    double p_drift, ok_drift;     /* relative change, last vs first */
} analysis_t;

/* Analyse the series of a run with stages st (n == 0: none) and `rate`
 * (nonzero: the stages are request rates, else connections). */
void analysis_run(analysis_t *a, const stats_series_t *series, const rate_stages_t *st,
                  int rate);

#endif
