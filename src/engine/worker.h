/* worker.h - one load-generating thread. A worker owns everything it touches
 * (loop, connections, read buffer, statistics); nothing is shared with other
 * workers while it runs, so the hot path has no locks and no atomics. The
 * main thread only starts it, asks it to stop, and reads its results after
 * joining it. */
#ifndef BARRAGE_WORKER_H
#define BARRAGE_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "conn.h"
#include "loop.h"
#include "net.h"
#include "rate.h"
#include "script.h"
#include "stats.h"
#include "stats_live.h"

#define WORKER_RING 256 /* seconds the main thread may lag behind */

typedef struct worker {
    /* Set by the caller before worker_start: */
    int index;                 /* 0-based thread number */
    int cpu;                   /* CPU to pin to, -1 for none */
    uint64_t connections;      /* connections this worker keeps open */
    uint64_t quota;            /* responses to complete (-n share); 0 = no limit */
    uint64_t timeout_ns;       /* per-request timeout */
    const net_addr_t *addr;    /* target address */
    const char *req;           /* request bytes (borrowed, immutable) */
    size_t req_len;
    int req_is_head;
    int notify_fd;             /* written (one byte) when the worker finishes */
    const config_t *cfg;       /* options (scripts read wrk.* from it) */
    script_thread_t *thread;   /* the script's thread object, NULL without -s */
    tls_ctx_t *tls;            /* https: the shared TLS context */
    int close_each;            /* --no-keepalive */
    uint64_t t0;               /* the run's start (shared by all threads), ns */
    double rate;               /* -R: this thread's requests/s (0 = as fast as possible) */
    const rate_stages_t *stages; /* --stages, or NULL */
    int stages_rate;           /* stages ramp the rate (-R) rather than connections */
    int nthreads;              /* threads in the run (for a thread's share of stages) */
    uint32_t shard_index, shard_count; /* --shard: this instance's share of stages */
    uint64_t hold_until;       /* --start-at: connect now, send from this instant (t0) */
    int64_t released_unix_us;  /* wall clock when it started sending (atomic: --web reads it while it runs) */
    uint64_t timeline_ns;      /* constant -R: when its timeline started (atomic; 0 before) */

    /* Live controls (--web), written by another thread through worker_control
     * (control.c); the worker applies them at its next 100 ms sample. */
    uint32_t ctl_users;        /* this thread's connection target, when ctl_users_set */
    int ctl_users_set;
    double ctl_rate;           /* this thread's requests/s from ctl_at on (0: unchanged) */
    uint64_t ctl_at;           /* monotonic ns the rate change takes effect (not before it is seen) */
    unsigned ctl_seq;          /* bumped (release) after each change */
    int live_names;            /* --web: publish live_snap once a second */
    stats_live_t *live_snap;   /* the latest names/checks snapshot (atomic exchange; the
                                  main thread takes it, worker_free frees what is left) */

    /* Owned by the worker thread while it runs; read after worker_join: */
    stats_t stats;             /* its measurements */
    int error;                 /* negative errno that ended the run early, or 0 */
    uint64_t start_ns, stop_ns;/* when its connections started / it stopped */
    uint64_t end_ns;           /* when its measured run ended: before the users' on_stop grace (0: never ran) */
    script_t *script;          /* its Lua state (kept for done(); the caller frees it) */

    /* Internal. */
    pthread_t tid;
    loop_t *loop;
    conn_t *conns;
    conn_ctx_t ctx;
    loop_timer_t sample_timer;
    uint64_t sample_last_ns, sample_last_requests;
    int stop;                  /* set by worker_stop; with `loop`, the only shared words */
    int started;
    char *own_req;             /* the script's static request (owned) */
    rate_sched_t sched;        /* -R schedule */
    int sched_waiting;         /* -R: the timeline waits for the connections to open */
    uint64_t slots_until;      /* -R with a duration (-d or the default): no slot at or after this (0: no end) */
    uint32_t active_limit;     /* stages: connections with index >= this retire */
    unsigned ctl_seen;         /* the last ctl_seq applied */
    int ctl_users_on;          /* a live connection target replaces the stages' ... */
    uint32_t ctl_limit;        /* ... this one (the thread's share) */
    double rate_live;          /* a live rate in force (this thread's, /s), else 0 */
    int holding;               /* --start-at: nothing is sent until the start timer fires */
    int users;                 /* the script runs virtual users: script_user_mode() (2: with an on_stop) */
    int ending;                /* the run is over: users run their on_stop, then retire */
    uint64_t sched_scan;       /* conns[] below this index are done connecting */
    conn_t **idle;             /* connections waiting at the rate gate (owned) */
    size_t nidle;
    loop_timer_t rate_timer, second_timer, start_timer;
    uint32_t second;           /* the current second of the series */
    uint64_t cpu_last_ns, wall_last_ns, wait_last_ns; /* thread CPU time, loop_now() and run-queue
                               wait at the last snapshot (cpuload.h) */
    int schedstat_fd;          /* /proc/thread-self/schedstat, or -1 */
    stats_t prev;              /* counters at the last per-second snapshot */
    stats_second_t *ring[WORKER_RING]; /* seconds for the main thread (SPSC) */
    unsigned ring_head;        /* written by the worker */
    unsigned ring_tail;        /* written by the main thread */
} worker_t;

/* Main thread: take the next finished second of w's series, or NULL. The
 * caller frees it. */
stats_second_t *worker_pop_second(worker_t *w);

/* Any thread: from the worker's next sample on, keep `users` connections
 * (users_set) and/or send at `rate` requests/s (> 0) from monotonic `at`
 * on (or when the worker sees it, if later). A rate only applies to a
 * paced run (-R). */
void worker_control(worker_t *w, int users_set, uint32_t users, double rate, uint64_t at);

/* Create the thread (which allocates its own state). 0 or -errno. */
int worker_start(worker_t *w);
/* Ask the worker to stop soon (a script stuck in Lua is not interrupted:
 * see run_stop); safe from any thread. */
void worker_stop(worker_t *w);
/* Wait for the thread to end. */
void worker_join(worker_t *w);
/* Free what the worker allocated (stats included; not its script). */
void worker_free(worker_t *w);

#endif
