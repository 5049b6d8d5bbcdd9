/* run.h - one benchmark run, the steps main.c tells in order:
 *   run_prepare -> run_start -> run_wait -> run_stop -> run_merge ->
 *   run_done_hook -> run_thresholds -> run_report -> run_free
 * Nothing here prints or exits: set-up failures fill the caller's error
 * buffer, the rest returns codes and leaves results in run_t for main.c to
 * report and turn into an exit code. */
#ifndef BARRAGE_RUN_H
#define BARRAGE_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "live.h"
#include "monitor.h"
#include "net.h"
#include "procmon.h"
#include "report.h"
#include "script.h"
#include "stats.h"
#include "threshold.h"
#include "tls.h"
#include "worker.h"
#include "control.h"
#include "web.h"

/* The state of one run. Everything it points to is owned by the run and
 * freed by run_free, except cfg. The workers point into it: it must not
 * move between run_prepare and run_free. */
typedef struct run {
    /* Set by run_prepare: */
    const config_t *cfg;          /* the options (borrowed) */
    int notify_rd, notify_wr;     /* the wake-up pipe: a worker that ends, or a signal, writes a byte */
    size_t nworkers;              /* -t */
    worker_t *workers;            /* nworkers workers */
    script_thread_t **threads;    /* -s: wrk's thread object per worker (NULL entries without) */
    script_t *script;             /* -s: the main thread's Lua state, else NULL */
    tls_ctx_t *tls;               /* https: the shared TLS context, else NULL */
    net_addr_t addr;              /* the probed target address (without -s) */
    char *req;                    /* the formatted static request */
    size_t req_len;               /* its length */
    threshold_t *th;              /* the parsed --threshold expressions (cfg->nthresholds) */
    threshold_result_t *verdicts; /* their verdicts, filled by run_thresholds */
    int abort_any;                /* some threshold stops the run when it can no longer pass */
    web_t *web;                   /* --web: the dashboard (bound here, served from run_start) */
    void (*stop)(void);           /* --web's Stop: set by the caller before run_start (main: as SIGINT) */
    live_t *live;                 /* --metrics, --stream, --metrics-push, else NULL */
    procmon_t *targets;           /* --monitor-pid/--monitor-cmd (cfg->nmonitors), sampled by the monitor */
    size_t ntargets;              /* targets opened */

    /* Set by run_start and run_stop: */
    size_t started;               /* workers that were started (and are joined by run_stop) */
    monitor_t *mon;               /* per-second series and progress line (NULL if out of memory) */
    struct timespec wall;         /* wall-clock start (--start-at's instant when given) */
    uint64_t start_ns;            /* monotonic start of the measurement (with a constant -R:
                                     the mean start of the threads' timelines, run_wait) */
    uint64_t lead_ns;             /* constant -R: time spent opening connections before that */
    uint64_t stop_ns;             /* monotonic time when every worker had been joined */
    control_t *ctl;               /* --web: live controls of the workers, else NULL */
    control_event_t *events;      /* --web: CONTROL_MAX_EVENTS, filled by run_report */
    uint64_t web_last;            /* --web: when the last snapshot was sent */
    stats_live_t **live_snaps;    /* --web: each worker's latest names/checks snapshot */
    stats_t live_names;           /* --web: their sum (only names and checks used) */

    /* Set by run_merge (and run_done_hook): */
    stats_t total;                /* every worker's statistics merged */
    analysis_t analysis;          /* breaking point, spike, soak (run_merge) */
    int error;                    /* the first -errno or SCRIPT_EFAIL that ended the run early, or 0 */
    const char *script_err;       /* the text of a script error (borrowed), or NULL */
    uint64_t elapsed_ns;          /* measured duration: start to the last worker's stop */
} run_t;

/* Everything before the workers start: --start-at check, TLS context,
  * thresholds, watched targets (--monitor-pid/--monitor-cmd), script (load, resolve, setup), target address, fd limit,
  * request bytes, --web's address bound. notify_rd/notify_wr: a pipe's ends. 0, or -1 with err
 * holding a usage error (r is then still to be freed with run_free). */
int run_prepare(run_t *r, const config_t *cfg, int notify_rd, int notify_wr, char *err, size_t errlen);
/* Take the start time and start every worker, then the monitor. 0, or the
 * -errno of a worker that could not start (also in r->error). */
int run_start(run_t *r);
/* Wait for the duration, a signal (*got_signal set; the handler writes to
 * the pipe), or every worker finishing (with -n: or done with its share,
 * even if its last response() has not returned), feeding the monitor meanwhile.
 * 1 when --abort-on-fail ended the run, else 0. */
int run_wait(run_t *r, const volatile sig_atomic_t *got_signal);
/* Stop and join the started workers; finish the monitor. A worker still in
 * its script 1 s later is interrupted (its hook fails with "stopped"). */
void run_stop(run_t *r);
/* Merge the workers' statistics into r->total; set r->error, r->script_err
 * and r->elapsed_ns. 0 or -ENOMEM. */
int run_merge(run_t *r);
/* The script's done() hook, interrupted after 5 s or at a signal (a byte on
 * the notify pipe). 0, or SCRIPT_EFAIL with r->script_err set. */
int run_done_hook(run_t *r);
/* After run_merge: the live outputs' final state (metrics from the exact
 * totals, the stream's last seconds, the push). 0, or -1 with err when the
 * stream could not be written; warn: a failed push's line, else "". */
int run_live_final(run_t *r, char *err, size_t errlen, char *warn, size_t warnlen);
/* Evaluate the thresholds into r->verdicts; returns how many failed. */
size_t run_thresholds(run_t *r);
/* Fill rr for the file outputs; exit_code and interrupted are main's. */
void run_report(const run_t *r, int exit_code, int interrupted, report_run_t *rr);
/* --web: the final report to the dashboard, then serve it for
 * cfg->web_linger_ns or until a signal (a byte on the notify pipe). */
void run_web_done(run_t *r, const report_run_t *rr);
/* Free everything the run owns; safe after any step, even a failed run_prepare. */
void run_free(run_t *r);

#endif
