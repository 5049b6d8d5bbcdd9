/* run.c - one benchmark run (see run.h): set-up on the main thread, the
 * workers started and waited for, their results merged. */
#define _GNU_SOURCE
#include "run.h"
#include "units.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"

/* CPUs this process may run on, in order, so pinning respects taskset. */
static int allowed_cpus(int *out, int max)
{
    int n = 0;
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int i = 0; i < CPU_SETSIZE && n < max; i++)
            if (CPU_ISSET((size_t)i, &set)) out[n++] = i;
#endif
    (void)out; (void)max;
    return n;
}

/* The live progress line goes to stderr when it is a terminal. */
static FILE *progress_stream(const config_t *cfg)
{
    return !cfg->quiet && isatty(STDERR_FILENO) ? stderr : NULL;
}

/* Where to connect: one address probed at start (as wrk does), or the
 * script's wrk.resolve() and setup(thread) for each thread. */
static int resolve_target(run_t *r, char *err, size_t errlen)
{
    const config_t *cfg = r->cfg;
    if (r->script) {
        if (script_resolve(r->script, cfg->url.host, cfg->url.port, err, errlen)) return -1;
        for (size_t i = 0; i < r->nworkers; i++) {
            r->threads[i] = script_thread_new(r->script, (int)i);
            if (!r->threads[i]) { snprintf(err, errlen, "out of memory"); return -1; }
            if (script_setup(r->script, r->threads[i])) {
                snprintf(err, errlen, "script error: %s", script_error(r->script));
                return -1;
            }
        }
        return 0;
    }
    net_addr_t addrs[8];
    int naddrs = net_resolve(cfg->url.host, cfg->url.port, addrs, 8, err, errlen);
    if (naddrs < 0) return -1;
    uint64_t ct_ms = cfg->connect_timeout_ns / 1000000;
    int probe = 0, probe_ms = ct_ms > INT_MAX ? INT_MAX : (int)ct_ms;
    for (int i = 0; i < naddrs; i++) {
        probe = net_probe(&addrs[i], probe_ms);
        if (probe == 0) {
            r->addr = addrs[i];
            char info[128];
            /* https: a failed verification stops here, with its reason */
            return r->tls ? tls_probe(r->tls, &r->addr, probe_ms, info, sizeof info, err, errlen) : 0;
        }
    }
    snprintf(err, errlen, "cannot connect to %s: %s (is the server running? check the URL)",
             addrs[0].text, strerror(-probe));
    return -1;
}

int run_prepare(run_t *r, const config_t *cfg, int notify_rd, int notify_wr, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->notify_rd = notify_rd;
    r->notify_wr = notify_wr;
    if (cfg->start_at) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double ahead = cfg->start_at - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
        if (ahead < 0.2) {
            snprintf(err, errlen, "--start-at: that time is in the past (or less than 200 ms away): pick a time a few seconds ahead");
            return -1;
        }
        if (ahead > 86400) {
            snprintf(err, errlen, "--start-at: that time is more than 24 hours away: check the date and the time zone");
            return -1;
        }
    }
    if (!strcmp(cfg->url.scheme, "https")) {
        tls_options_t o = { .host = cfg->url.host, .verify = !cfg->insecure, .cacert = cfg->cacert,
                            .cert = cfg->cert, .key = cfg->key, .resume = cfg->tls_resume };
        if (tls_ctx_new(&r->tls, &o, err, errlen)) return -1;
    }

    r->nworkers = (size_t)cfg->threads;
    r->workers = calloc(r->nworkers, sizeof *r->workers);
    r->threads = calloc(r->nworkers, sizeof *r->threads);
    r->th = calloc(cfg->nthresholds + 1, sizeof *r->th);
    r->verdicts = calloc(cfg->nthresholds + 1, sizeof *r->verdicts);
    if (!r->workers || !r->threads || !r->th || !r->verdicts) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->nthresholds; i++) {
        if (threshold_parse(cfg->thresholds[i], &r->th[i], err, errlen)) return -1;
        r->th[i].abort_on_fail = cfg->abort_on_fail || (cfg->threshold_abort && cfg->threshold_abort[i]);
        r->abort_any |= r->th[i].abort_on_fail;
    }
    if (cfg->nmonitors && !(r->targets = calloc(cfg->nmonitors, sizeof *r->targets))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->nmonitors; i++, r->ntargets++)
        if (procmon_open(&r->targets[i], cfg->monitors[i].pid, cfg->monitors[i].cmd, err, errlen)) return -1;

    if (cfg->web && web_new(&r->web, cfg, err, errlen)) return -1;
    if (cfg->script && !(r->script = script_load(cfg->script, cfg, err, errlen))) return -1;
    if (resolve_target(r, err, errlen)) return -1;
    uint64_t need = cfg->connections + 64 + 8 * cfg->threads;
    uint64_t have = net_raise_fd_limit(need);
    if (have < need) {
        snprintf(err, errlen,
                 "%llu connections need about %llu file descriptors but the limit is %llu: "
                 "raise it (ulimit -n %llu) or use fewer connections",
                 (unsigned long long)cfg->connections, (unsigned long long)need,
                 (unsigned long long)have, (unsigned long long)need);
        return -1;
    }
    char host[300];
    http_host_header(host, sizeof host, cfg->url.host, cfg->url.is_ipv6, cfg->url.port,
                     cfg->url.default_port);
    if (http_format(&r->req, &r->req_len, cfg->method, cfg->url.path, host, cfg->headers,
                    cfg->nheaders, cfg->body, cfg->body_len, !cfg->keepalive)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return live_new(&r->live, cfg, err, errlen);
}

int run_start(run_t *r)
{
    const config_t *cfg = r->cfg;
    size_t nw = r->nworkers;
    int cpus[1024];
    int ncpus = cfg->pin ? allowed_cpus(cpus, 1024) : 0;
    clock_gettime(CLOCK_REALTIME, &r->wall);
    uint64_t start = loop_now(), hold = 0;
    if (cfg->start_at) { /* open connections now, measure from start_at */
        double ahead = cfg->start_at - ((double)r->wall.tv_sec + (double)r->wall.tv_nsec / 1e9);
        start += (uint64_t)(ahead * 1e9);
        hold = start;
        r->wall.tv_sec = (time_t)cfg->start_at;
        r->wall.tv_nsec = (long)((cfg->start_at - (double)r->wall.tv_sec) * 1e9);
    }
    r->start_ns = start;
    for (size_t i = 0; i < nw; i++) {
        worker_t *w = &r->workers[i];
        w->index = (int)i;
        w->cpu = ncpus ? cpus[i % (size_t)ncpus] : -1;
        w->connections = units_share(cfg->connections, nw, i);
        w->quota = units_share(cfg->requests, nw, i); /* 0 = no limit stays 0 */
        w->timeout_ns = cfg->timeout_ns;
        w->addr = &r->addr;
        w->req = r->req;
        w->req_len = r->req_len;
        w->req_is_head = !strcmp(cfg->method, "HEAD");
        w->notify_fd = r->notify_wr;
        w->cfg = cfg;
        w->thread = r->threads[i];
        w->tls = r->tls;
        w->close_each = !cfg->keepalive;
        w->t0 = start;
        w->nthreads = (int)nw;
        w->rate = cfg->rate / (double)nw;
        w->stages = cfg->stages.n ? &cfg->stages : NULL;
        w->stages_rate = cfg->stages.n && cfg->rate > 0;
        w->shard_index = cfg->shard_index;
        w->shard_count = cfg->shard_count;
        w->hold_until = hold;
        w->live_names = cfg->web != NULL;
        if (r->threads[i]) script_thread_bind(r->threads[i], &w->stop);
        if (w->quota == 0 && cfg->requests) w->stop = 1; /* more threads than requests */
        int rc = worker_start(w);
        if (rc) { r->error = rc; break; }
        r->started++;
    }
    r->mon = monitor_new(cfg, r->workers, r->started, start, progress_stream(cfg));
    if (r->web && !r->error) {
        r->ctl = control_new(cfg, r->workers, r->started);
        r->events = calloc(CONTROL_MAX_EVENTS, sizeof *r->events);
        r->live_snaps = calloc(r->nworkers, sizeof *r->live_snaps);
        if (!r->ctl || !r->events || !r->live_snaps || !r->mon || stats_init(&r->live_names)) r->error = -ENOMEM;
        else r->error = web_start(r->web, r->ctl, r->stop);
    }
    int rc = live_start(r->live);
    if (rc && !r->error) r->error = rc;
    if (r->mon) monitor_set_targets(r->mon, r->targets, r->ntargets);
    return r->error;
}

/* --abort-on-fail (or abortOnFail): a threshold that the totals so far already break. */
static int broken(const run_t *r)
{
    for (size_t i = 0; r->mon && i < r->cfg->nthresholds; i++)
        if (r->th[i].abort_on_fail && threshold_certainly_broken(&r->th[i], monitor_totals(r->mon))) return 1;
    return 0;
}

/* Whether every worker has started its -R timeline (or ended without one);
 * then the measurement starts at their mean start and *end moves to the
 * duration after it. */
static int timelines_started(run_t *r, uint64_t *end)
{
    uint64_t sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < r->started; i++) {
        uint64_t t = __atomic_load_n(&r->workers[i].timeline_ns, __ATOMIC_ACQUIRE);
        if (t) { sum += t - r->start_ns; k++; }
        else if (!__atomic_load_n(&r->workers[i].stop_ns, __ATOMIC_ACQUIRE)) return 0;
    }
    if (k) {
        r->lead_ns = sum / k;
        r->start_ns += r->lead_ns;
        *end = r->start_ns + r->cfg->duration_ns;
    }
    return 1;
}

/* --web: a snapshot of the run so far, once a second. */
static void web_second(run_t *r, uint64_t now)
{
    if (!r->web || !r->ctl || !r->mon || now < r->web_last + 1000000000u) return;
    r->web_last = now;
    /* the names and checks so far: the sum of each worker's latest copy */
    int fresh = 0;
    for (size_t i = 0; i < r->started; i++) {
        stats_live_t *snap = __atomic_exchange_n(&r->workers[i].live_snap, NULL, __ATOMIC_ACQ_REL);
        if (!snap) continue;
        stats_live_free(r->live_snaps[i]);
        r->live_snaps[i] = snap;
        fresh = 1;
    }
    if (fresh) stats_live_sum(&r->live_names, r->live_snaps, r->started);
    stats_t view = *monitor_totals(r->mon);
    view.named = r->live_names.named;
    view.nnamed = r->live_names.nnamed;
    view.checks = r->live_names.checks;
    view.nchecks = r->live_names.nchecks;
    report_run_t rr;
    run_report(r, 0, 0, &rr);
    rr.total = &view;
    rr.elapsed_ns = now > r->start_ns ? now - r->start_ns : 0;
    web_tick(r->web, &rr, monitor_finished(r->mon));
}

/* What the live outputs see now. */
static live_state_t live_state(const run_t *r, uint64_t now, int final)
{
    return (live_state_t){
        .cfg = r->cfg, .totals = final ? &r->total : monitor_totals(r->mon), .series = monitor_series(r->mon),
        .finished = monitor_finished(r->mon), .start_unix_ms = (int64_t)r->wall.tv_sec * 1000 + r->wall.tv_nsec / 1000000,
        .elapsed_ns = final ? r->elapsed_ns : now > r->start_ns ? now - r->start_ns : 0, .final = final,
    };
}

/* The monitor collects the per-second series every 100 ms meanwhile. */
int run_wait(run_t *r, const volatile sig_atomic_t *got_signal)
{
    const config_t *cfg = r->cfg;
    worker_t *ws = r->workers;
    size_t n = r->started;
    int limited = cfg->duration_set || !cfg->requests;
    uint64_t end = r->start_ns + cfg->duration_ns;
    /* a constant rate measures from its timelines' start (worker.c), which
     * waits for the connections to open: the duration counts from there */
    int timelines = cfg->rate > 0 && !cfg->stages.n;
    size_t finished = 0;
    while (!*got_signal && finished < n) {
        uint64_t now = loop_now();
        if (timelines) timelines = !timelines_started(r, &end);
        if (r->mon) monitor_poll(r->mon, now);
        web_second(r, now);
        if (r->mon && r->live) {
            live_state_t st = live_state(r, now, 0);
            live_tick(r->live, &st);
        }
        if (r->abort_any && broken(r)) return 1;
        uint64_t timeout = timelines ? 2000000 : 100000000; /* ns */
        if (limited) {
            if (now >= end) break;
            if (end - now < timeout) timeout = end - now; /* to the ns: -d 500us ends on time */
        }
        struct pollfd p = { .fd = r->notify_rd, .events = POLLIN };
#ifdef __linux__
        struct timespec ts = { .tv_sec = (time_t)(timeout / 1000000000), .tv_nsec = (long)(timeout % 1000000000) };
        int ready = ppoll(&p, 1, &ts, NULL);
#else
        int ready = poll(&p, 1, (int)((timeout + 999999) / 1000000));
#endif
        if (ready > 0) {
            char buf[64];
            ssize_t rd = read(r->notify_rd, buf, sizeof buf);
            (void)rd;
        }
        /* -n: a thread whose share is done counts as finished even if its
         * last response() has not returned (run_stop will stop it) */
        finished = 0;
        for (size_t i = 0; i < n; i++) {
            int stopped = __atomic_load_n(&ws[i].stop_ns, __ATOMIC_ACQUIRE) != 0;
            if (stopped && ws[i].error) return 0;
            finished += stopped || script_thread_quota_done(ws[i].thread);
        }
    }
    return 0;
}

/* How long the end of a run waits for a script still running in a worker
 * (a hook in an endless loop) before interrupting it. */
#define STOP_GRACE_MS 1000

static int all_stopped(const run_t *r)
{
    for (size_t i = 0; i < r->started; i++)
        if (!__atomic_load_n(&r->workers[i].stop_ns, __ATOMIC_ACQUIRE)) return 0;
    return 1;
}

void run_stop(run_t *r)
{
    for (size_t i = 0; i < r->started; i++) worker_stop(&r->workers[i]);
    /* each worker stops at its next loop iteration; one that does not within
     * STOP_GRACE_MS is stuck in its script: stop that with an error */
    uint64_t until = loop_now() + (uint64_t)STOP_GRACE_MS * 1000000;
    for (uint64_t now = loop_now(); !all_stopped(r) && now < until; now = loop_now()) {
        struct pollfd p = { .fd = r->notify_rd, .events = POLLIN };
        uint64_t left = (until - now + 999999) / 1000000;
        if (poll(&p, 1, left < 50 ? (int)left : 50) > 0) {
            char buf[64];
            ssize_t rd = read(r->notify_rd, buf, sizeof buf);
            (void)rd;
        }
    }
    for (size_t i = 0; i < r->started; i++)
        if (!__atomic_load_n(&r->workers[i].stop_ns, __ATOMIC_ACQUIRE)) script_thread_interrupt(r->workers[i].thread);
    for (size_t i = 0; i < r->started; i++) worker_join(&r->workers[i]);
    r->stop_ns = loop_now();
    if (r->mon) monitor_finish(r->mon);
}

int run_merge(run_t *r)
{
    if (stats_init(&r->total)) return -ENOMEM;
    worker_t *ws = r->workers;
    for (size_t i = 0; i < r->started; i++) {
        stats_merge(&r->total, &ws[i].stats);
        if (ws[i].error && !r->error) r->error = ws[i].error;
        if (ws[i].error == SCRIPT_EFAIL && !r->script_err) r->script_err = script_thread_error(ws[i].thread);
    }
    uint64_t last = r->start_ns;
    for (size_t i = 0; i < r->started; i++) { /* a users' on_stop grace is not part of the duration */
        uint64_t t = ws[i].end_ns ? ws[i].end_ns : ws[i].stop_ns;
        if (t > last) last = t;
    }
    if (last > r->stop_ns) last = r->stop_ns;
    r->elapsed_ns = last > r->start_ns ? last - r->start_ns : 0;
    r->total.rate_start_us = r->lead_ns / 1000;
    analysis_run(&r->analysis, r->mon ? monitor_series(r->mon) : NULL, &r->cfg->stages, r->cfg->rate > 0);
    return 0;
}

/* done() may run this long; then, or at a signal, it is stopped. */
#define DONE_LIMIT_MS 5000

typedef struct watchdog { script_t *script; int notify_rd, quit_rd; } watchdog_t;

/* Interrupts done() at DONE_LIMIT_MS or at a signal (a byte on the notify
 * pipe); ends early when told to on quit_rd. */
static void *watch_done(void *arg)
{
    watchdog_t *w = arg;
    struct pollfd p[2] = { { .fd = w->quit_rd, .events = POLLIN }, { .fd = w->notify_rd, .events = POLLIN } };
    uint64_t until = loop_now() + (uint64_t)DONE_LIMIT_MS * 1000000;
    for (;;) {
        uint64_t now = loop_now();
        if (now >= until) { script_interrupt(w->script, SCRIPT_STOP_DONE_LIMIT); break; }
        int rc = poll(p, 2, (int)((until - now + 999999) / 1000000));
        if (rc < 0 && errno == EINTR) continue; /* the signal handler ran here: its byte is on the pipe */
        if (rc <= 0) continue;
        if (p[0].revents & POLLIN) break; /* done() returned */
        if (p[1].revents & POLLIN) { script_interrupt(w->script, SCRIPT_STOP_SIGNAL); break; }
    }
    return NULL;
}

int run_done_hook(run_t *r)
{
    if (!r->script || !script_has_done(r->script)) return 0;
    /* what the workers wrote on the notify pipe is old news: only a signal
     * from now on should stop done() */
    struct pollfd p = { .fd = r->notify_rd, .events = POLLIN };
    while (poll(&p, 1, 0) > 0) {
        char buf[64];
        if (read(r->notify_rd, buf, sizeof buf) <= 0) break;
    }
    int quit[2] = { -1, -1 };
    pthread_t tid;
    watchdog_t w = { r->script, r->notify_rd, -1 };
    int watching = pipe(quit) == 0;
    if (watching) {
        w.quit_rd = quit[0];
        watching = pthread_create(&tid, NULL, watch_done, &w) == 0;
    }
    int rc = script_done(r->script, &r->total, r->elapsed_ns / 1000);
    if (watching) {
        char one = 1;
        ssize_t wr = write(quit[1], &one, 1);
        (void)wr;
        pthread_join(tid, NULL);
    }
    if (quit[0] >= 0) { close(quit[0]); close(quit[1]); }
    if (!rc) return 0;
    r->script_err = script_error(r->script);
    return SCRIPT_EFAIL;
}

int run_live_final(run_t *r, char *err, size_t errlen, char *warn, size_t warnlen)
{
    warn[0] = 0;
    if (!r->live || !r->mon) return 0;
    live_state_t st = live_state(r, r->stop_ns, 1);
    return live_final(r->live, &st, err, errlen, warn, warnlen);
}

size_t run_thresholds(run_t *r)
{
    size_t failed = 0;
    for (size_t i = 0; i < r->cfg->nthresholds; i++) {
        threshold_eval(&r->th[i], &r->total, (double)r->elapsed_ns / 1e9, &r->verdicts[i]);
        failed += !r->verdicts[i].pass;
    }
    return failed;
}

void run_report(const run_t *r, int exit_code, int interrupted, report_run_t *rr)
{
    *rr = (report_run_t){
        .cfg = r->cfg, .total = &r->total, .series = r->mon ? monitor_series(r->mon) : NULL,
        .stages = r->mon ? monitor_stages(r->mon, r->elapsed_ns) : NULL,
        .elapsed_ns = r->elapsed_ns,
        .start_unix_ms = (int64_t)r->wall.tv_sec * 1000 + r->wall.tv_nsec / 1000000,
        .th = r->th, .verdicts = r->verdicts, .nth = r->cfg->nthresholds,
        .interrupted = interrupted, .exit_code = exit_code,
        .targets = r->targets, .ntargets = r->ntargets, .client = r->mon ? monitor_client(r->mon) : NULL,
        .analysis = &r->analysis,
    };
    if (r->ctl && r->events) {
        rr->events = r->events;
        rr->nevents = control_events(r->ctl, r->events, CONTROL_MAX_EVENTS);
        if (rr->nevents > CONTROL_MAX_EVENTS) rr->nevents = CONTROL_MAX_EVENTS;
        rr->events_t0_ns = r->start_ns;
    }
    for (size_t i = 0; i < r->started; i++) {
        int64_t us = __atomic_load_n(&r->workers[i].released_unix_us, __ATOMIC_RELAXED); /* --web: while it runs */
        if (us && (!rr->start_actual_unix_us || us < rr->start_actual_unix_us)) rr->start_actual_unix_us = us;
    }
}

void run_web_done(run_t *r, const report_run_t *rr)
{
    if (!r->web) return;
    web_done(r->web, rr);
    web_flush(r->web, 2000);
    uint64_t until = loop_now() + r->cfg->web_linger_ns;
    struct pollfd p = { .fd = r->notify_rd, .events = POLLIN };
    while (poll(&p, 1, 0) > 0) { /* old news: the workers' ends, the signal that stopped the run */
        char buf[64];
        if (read(r->notify_rd, buf, sizeof buf) <= 0) break;
    }
    for (uint64_t now = loop_now(); now < until; now = loop_now()) {
        uint64_t left = (until - now + 999999) / 1000000;
        if (poll(&p, 1, left < 1000 ? (int)left : 1000) > 0) break; /* a signal */
    }
}

void run_free(run_t *r)
{
    live_free(r->live);
    stats_free(&r->total);
    web_free(r->web); /* first: its handlers use the control */
    control_free(r->ctl);
    free(r->events);
    for (size_t i = 0; r->live_snaps && i < r->nworkers; i++) stats_live_free(r->live_snaps[i]);
    free(r->live_snaps);
    stats_free(&r->live_names);
    monitor_free(r->mon);
    for (size_t i = 0; i < r->started; i++) {
        script_free(r->workers[i].script);
        worker_free(&r->workers[i]);
    }
    if (r->threads) for (size_t i = 0; i < r->nworkers; i++) script_thread_free(r->threads[i]);
    script_free(r->script);
    tls_ctx_free(r->tls);
    for (size_t i = 0; r->th && i < r->cfg->nthresholds; i++) threshold_free(&r->th[i]);
    free(r->th);
    free(r->verdicts);
    for (size_t i = 0; i < r->ntargets; i++) procmon_free(&r->targets[i]);
    free(r->targets);
    free(r->threads);
    free(r->workers);
    free(r->req);
    memset(r, 0, sizeof *r);
}
