/* main.c - the program's story: parse, set up, run workers, merge, report,
 * exit code. Only this file (and report.c for results) prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compare.h"
#include "config.h"
#include "http.h"
#include "loop.h"
#include "monitor.h"
#include "net.h"
#include "report.h"
#include "script.h"
#include "serve.h"
#include "stats.h"
#include "threshold.h"
#include "tls.h"
#include "worker.h"

#ifndef BARRAGE_VERSION
#define BARRAGE_VERSION "dev"
#endif

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_USAGE = 2, EXIT_THRESHOLD = THRESHOLD_EXIT_FAILED };

static int notify_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    if (got_signal) _exit(128 + sig); /* second signal: leave at once */
    got_signal = sig;
    char b = 0;
    ssize_t r = write(notify_pipe[1], &b, 1);
    (void)r;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "barrage: %s\n", msg);
    return EXIT_USAGE;
}

/* CPUs this process may run on, in order, so pinning respects taskset. */
static int allowed_cpus(int *out, int max)
{
    int n = 0;
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int i = 0; i < CPU_SETSIZE && n < max; i++)
            if (CPU_ISSET(i, &set)) out[n++] = i;
#endif
    (void)out; (void)max;
    return n;
}

/* --json, --csv, --html. Returns -1 if one could not be written (said why). */
static int write_outputs(const config_t *cfg, const report_run_t *rr)
{
    int bad = 0;
    if (cfg->json_path) {
        int to_stdout = !strcmp(cfg->json_path, "-");
        FILE *f = to_stdout ? stdout : fopen(cfg->json_path, "w");
        int rc = f ? report_json(f, rr) : -1;
        if (f && !to_stdout && fclose(f)) rc = -1;
        if (f && to_stdout && fflush(f)) rc = -1;
        if (rc) {
            fprintf(stderr, "barrage: --json: cannot write '%s': %s\n", cfg->json_path, strerror(errno));
            bad = -1;
        }
    }
    if (cfg->csv_prefix) {
        char err[512];
        if (report_csv(cfg->csv_prefix, rr, err, sizeof err)) {
            fprintf(stderr, "barrage: --csv: %s\n", err);
            bad = -1;
        }
    }
    if (cfg->html_path) {
        FILE *f = fopen(cfg->html_path, "w");
        int rc = f ? report_html(f, rr) : -1;
        if (f && fclose(f)) rc = -1;
        if (rc) {
            fprintf(stderr, "barrage: --html: cannot write '%s': %s\n", cfg->html_path, strerror(errno));
            bad = -1;
        }
    }
    return bad;
}

/* The live progress line goes to stderr when it is a terminal. */
static FILE *progress_stream(const config_t *cfg)
{
    return !cfg->quiet && isatty(STDERR_FILENO) ? stderr : NULL;
}

static const char *fatal_hint(int err)
{
    switch (-err) {
    case EMFILE: case ENFILE:
        return "out of file descriptors: raise the limit (ulimit -n) or use fewer connections (-c)";
    case EADDRNOTAVAIL:
        return "out of local ports: use fewer connections (-c) or widen net.ipv4.ip_local_port_range";
    case ENOMEM: case ENOBUFS:
        return "out of memory: use fewer connections (-c)";
    default:
        return strerror(-err);
    }
}

/* Where to connect: one address probed at start (as wrk does), or the
 * script's wrk.resolve() and setup(thread) for each thread. */
static int resolve_target(const config_t *cfg, script_t *script, script_thread_t **threads,
                          tls_ctx_t *tls, net_addr_t *addr, char *err, size_t errlen)
{
    if (script) {
        if (script_resolve(script, cfg->url.host, cfg->url.port, err, errlen)) return -1;
        for (uint64_t i = 0; i < cfg->threads; i++) {
            threads[i] = script_thread_new(script, (int)i);
            if (!threads[i]) { snprintf(err, errlen, "out of memory"); return -1; }
            if (script_setup(script, threads[i])) {
                snprintf(err, errlen, "script error: %s", script_error(script));
                return -1;
            }
        }
        return 0;
    }
    net_addr_t addrs[8];
    int naddrs = net_resolve(cfg->url.host, cfg->url.port, addrs, 8, err, errlen);
    if (naddrs < 0) return -1;
    int probe = 0, probe_ms = (int)(cfg->timeout_ns / 1000000);
    if (probe_ms > 5000) probe_ms = 5000;
    for (int i = 0; i < naddrs; i++) {
        probe = net_probe(&addrs[i], probe_ms);
        if (probe == 0) {
            *addr = addrs[i];
            char info[128];
            /* https: a failed verification stops here, with its reason */
            return tls ? tls_probe(tls, addr, probe_ms, info, sizeof info, err, errlen) : 0;
        }
    }
    snprintf(err, errlen, "cannot connect to %s: %s (is the server running? check the URL)",
             addrs[0].text, strerror(-probe));
    return -1;
}

/* Wait for the duration, a signal, or every worker finishing; meanwhile
 * the monitor collects the per-second series every 100 ms. */
static int broken(const threshold_t *th, size_t nth, monitor_t *mon)
{
    for (size_t i = 0; mon && i < nth; i++)
        if (threshold_certainly_broken(&th[i], monitor_totals(mon))) return 1;
    return 0;
}

/* Returns 1 when --abort-on-fail ended the run. */
static int wait_for_end(const config_t *cfg, worker_t *ws, size_t n, uint64_t start, monitor_t *mon,
                        const threshold_t *th, size_t nth)
{
    int limited = cfg->duration_set || !cfg->requests;
    uint64_t end = start + cfg->duration_ns;
    size_t finished = 0;
    while (!got_signal && finished < n) {
        uint64_t now = loop_now();
        if (mon) monitor_poll(mon, now);
        if (cfg->abort_on_fail && broken(th, nth, mon)) return 1;
        int timeout = 100;
        if (limited) {
            if (now >= end) break;
            uint64_t left = (end - now + 999999) / 1000000;
            if (left < 100) timeout = (int)left;
        }
        struct pollfd p = { .fd = notify_pipe[0], .events = POLLIN };
        if (poll(&p, 1, timeout) > 0) {
            char buf[64];
            ssize_t r = read(notify_pipe[0], buf, sizeof buf);
            (void)r;
            finished = 0;
            for (size_t i = 0; i < n; i++) {
                if (__atomic_load_n(&ws[i].stop_ns, __ATOMIC_ACQUIRE)) finished++;
                if (__atomic_load_n(&ws[i].stop_ns, __ATOMIC_ACQUIRE) && ws[i].error) return 0;
            }
        }
    }
    return 0;
}

static int run(config_t *cfg)
{
    char err[1024];
    tls_ctx_t *tls = NULL;
    if (cfg->start_at) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double ahead = cfg->start_at - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
        if (ahead < 0.2)
            return usage_error("--start-at: that time is in the past (or less than 200 ms away): pick a time a few seconds ahead");
        if (ahead > 86400)
            return usage_error("--start-at: that time is more than 24 hours away: check the date and the time zone");
    }
    if (!strcmp(cfg->url.scheme, "https")) {
        tls_options_t o = { .host = cfg->url.host, .verify = !cfg->insecure, .cacert = cfg->cacert,
                            .cert = cfg->cert, .key = cfg->key, .resume = cfg->tls_resume };
        if (tls_ctx_new(&tls, &o, err, sizeof err)) return usage_error(err);
    }

    size_t nw = (size_t)cfg->threads;
    worker_t *ws = calloc(nw, sizeof *ws);
    script_thread_t **threads = calloc(nw, sizeof *threads);
    script_t *script = NULL;
    char *req = NULL;
    size_t req_len = 0, started = 0;
    monitor_t *mon = NULL;
    int exit_code = EXIT_OK, run_error = 0;
    net_addr_t addr;
    stats_t total;
    memset(&total, 0, sizeof total);
    threshold_t *th = calloc(cfg->nthresholds + 1, sizeof *th);
    threshold_result_t *verdicts = calloc(cfg->nthresholds + 1, sizeof *verdicts);
    if (!ws || !threads || !th || !verdicts) { exit_code = usage_error("out of memory"); goto done; }
    for (size_t i = 0; i < cfg->nthresholds; i++) {
        if (threshold_parse(cfg->thresholds[i], &th[i], err, sizeof err)) {
            exit_code = usage_error(err);
            goto done;
        }
    }

    if (cfg->script && !(script = script_load(cfg->script, cfg, err, sizeof err))) {
        exit_code = usage_error(err);
        goto done;
    }
    if (resolve_target(cfg, script, threads, tls, &addr, err, sizeof err)) {
        exit_code = usage_error(err);
        goto done;
    }
    uint64_t need = cfg->connections + 64 + 8 * cfg->threads;
    uint64_t have = net_raise_fd_limit(need);
    if (have < need) {
        snprintf(err, sizeof err,
                 "%llu connections need about %llu file descriptors but the limit is %llu: "
                 "raise it (ulimit -n %llu) or use fewer connections",
                 (unsigned long long)cfg->connections, (unsigned long long)need,
                 (unsigned long long)have, (unsigned long long)need);
        exit_code = usage_error(err);
        goto done;
    }
    char host[300];
    http_host_header(host, sizeof host, cfg->url.host, cfg->url.is_ipv6, cfg->url.port,
                     cfg->url.default_port);
    if (http_format(&req, &req_len, cfg->method, cfg->url.path, host, cfg->headers,
                    cfg->nheaders, cfg->body, cfg->body_len, !cfg->keepalive)) {
        exit_code = usage_error("out of memory");
        goto done;
    }

    int cpus[1024];
    int ncpus = cfg->pin ? allowed_cpus(cpus, 1024) : 0;
    /* with --json -, stdout is the JSON's: the text report goes to stderr */
    FILE *out = cfg->json_path && !strcmp(cfg->json_path, "-") ? stderr : stdout;
    report_header(out, cfg);
    fflush(out);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t start = loop_now(), hold = 0;
    if (cfg->start_at) { /* open connections now, measure from start_at */
        double ahead = cfg->start_at - ((double)wall.tv_sec + (double)wall.tv_nsec / 1e9);
        start += (uint64_t)(ahead * 1e9);
        hold = start;
        wall.tv_sec = (time_t)cfg->start_at;
        wall.tv_nsec = (long)((cfg->start_at - (double)wall.tv_sec) * 1e9);
    }
    for (size_t i = 0; i < nw; i++) {
        worker_t *w = &ws[i];
        w->index = (int)i;
        w->cpu = ncpus ? cpus[i % (size_t)ncpus] : -1;
        w->connections = cfg->connections / nw + (i < cfg->connections % nw);
        w->quota = cfg->requests ? cfg->requests / nw + (i < cfg->requests % nw) : 0;
        w->timeout_ns = cfg->timeout_ns;
        w->addr = &addr;
        w->req = req;
        w->req_len = req_len;
        w->req_is_head = !strcmp(cfg->method, "HEAD");
        w->notify_fd = notify_pipe[1];
        w->cfg = cfg;
        w->thread = threads[i];
        w->tls = tls;
        w->close_each = !cfg->keepalive;
        w->t0 = start;
        w->nthreads = (int)nw;
        w->rate = cfg->rate / (double)nw;
        w->stages = cfg->stages.n ? &cfg->stages : NULL;
        w->stages_rate = cfg->stages.n && cfg->rate > 0;
        w->shard_index = cfg->shard_index;
        w->shard_count = cfg->shard_count;
        w->hold_until = hold;
        if (threads[i]) script_thread_bind(threads[i], &w->stop);
        if (w->quota == 0 && cfg->requests) w->stop = 1; /* more threads than requests */
        int rc = worker_start(w);
        if (rc) { run_error = rc; break; }
        started++;
    }
    mon = monitor_new(cfg, ws, started, start, progress_stream(cfg));
    int aborted = 0;
    if (!run_error) aborted = wait_for_end(cfg, ws, started, start, mon, th, cfg->nthresholds);
    for (size_t i = 0; i < started; i++) worker_stop(&ws[i]);
    for (size_t i = 0; i < started; i++) worker_join(&ws[i]);
    uint64_t stop = loop_now();
    if (mon) monitor_finish(mon);

    if (stats_init(&total)) { exit_code = usage_error("out of memory"); goto done; }
    const char *script_err = NULL;
    for (size_t i = 0; i < started; i++) {
        stats_merge(&total, &ws[i].stats);
        if (ws[i].error && !run_error) run_error = ws[i].error;
        if (ws[i].error == SCRIPT_EFAIL && !script_err) script_err = script_thread_error(ws[i].thread);
    }
    uint64_t last = start;
    for (size_t i = 0; i < started; i++) if (ws[i].stop_ns > last) last = ws[i].stop_ns;
    if (last > stop) last = stop;
    report_print(out, cfg, &total, last - start);
    fflush(out);

    if (run_error == SCRIPT_EFAIL) {
        fprintf(stderr, "barrage: script error: %s\n", script_err ? script_err : "unknown");
        /* a script stopped by Ctrl-C is an interruption, not a script bug */
        exit_code = got_signal ? 128 + got_signal : EXIT_USAGE;
    } else if (run_error) {
        fprintf(stderr, "barrage: run ended early: %s\n", fatal_hint(run_error));
        exit_code = EXIT_RUN_FAILED;
    } else if (got_signal) {
        exit_code = 128 + got_signal;
    }
    if (script && script_done(script, &total, (last - start) / 1000)) {
        fprintf(stderr, "barrage: script error: %s\n", script_error(script));
        exit_code = EXIT_USAGE;
    }
    int failed = 0;
    for (size_t i = 0; i < cfg->nthresholds; i++) {
        threshold_eval(&th[i], &total, (double)(last - start) / 1e9, &verdicts[i]);
        failed += !verdicts[i].pass;
    }
    report_thresholds(out, th, verdicts, cfg->nthresholds);
    if (aborted) fprintf(stderr, "barrage: --abort-on-fail: a threshold can no longer pass; run stopped early\n");
    if (failed && exit_code == EXIT_OK) exit_code = EXIT_THRESHOLD;
    report_run_t rr = {
        .cfg = cfg, .total = &total, .series = mon ? monitor_series(mon) : NULL,
        .elapsed_ns = last - start, .start_unix_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000,
        .th = th, .verdicts = verdicts, .nth = cfg->nthresholds,
        .interrupted = got_signal != 0, .exit_code = exit_code,
    };
    for (size_t i = 0; i < started; i++)
        if (ws[i].released_unix_us && (!rr.start_actual_unix_us || ws[i].released_unix_us < rr.start_actual_unix_us))
            rr.start_actual_unix_us = ws[i].released_unix_us;
    if (write_outputs(cfg, &rr) && exit_code == EXIT_OK) exit_code = EXIT_RUN_FAILED;
done:
    stats_free(&total);
    monitor_free(mon);
    for (size_t i = 0; i < started; i++) {
        script_free(ws[i].script);
        worker_free(&ws[i]);
    }
    if (threads) for (size_t i = 0; i < nw; i++) script_thread_free(threads[i]);
    script_free(script);
    tls_ctx_free(tls);
    for (size_t i = 0; th && i < cfg->nthresholds; i++) threshold_free(&th[i]);
    free(th);
    free(verdicts);
    free(threads);
    free(ws);
    free(req);
    return exit_code;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "serve")) return serve_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "compare")) return compare_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "merge")) return compare_merge_main(argc - 1, argv + 1);

    signal(SIGPIPE, SIG_IGN);
    config_t cfg;
    config_defaults(&cfg);
    char err[512];
    if (config_parse(&cfg, argc, argv, err, sizeof err)) {
        config_free(&cfg);
        return usage_error(err);
    }
    if (cfg.show_help) { fputs(config_usage(), stdout); config_free(&cfg); return EXIT_OK; }
    if (cfg.show_version) {
        printf("barrage %s [%s] (llhttp %d.%d.%d)\n", BARRAGE_VERSION, loop_backend(),
               LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
        config_free(&cfg);
        return EXIT_OK;
    }
    if (pipe(notify_pipe) < 0) { config_free(&cfg); return usage_error("cannot create a pipe"); }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = run(&cfg);
    config_free(&cfg);
    return rc;
}
