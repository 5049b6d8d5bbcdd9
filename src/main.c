/* main.c - the program's story: parse, set up, run workers, merge, report,
 * exit code. Only this file (and report.c for results) prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "merge.h"
#include "render.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "loop.h"
#include "report.h"
#include "run.h"
#include "serve.h"

#ifndef BARRAGE_VERSION
#define BARRAGE_VERSION "dev"
#endif

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_USAGE = 2, EXIT_THRESHOLD = THRESHOLD_EXIT_FAILED };

static int notify_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;

static volatile sig_atomic_t started; /* the workers are about to start: a signal stops the run */

static void on_signal(int sig)
{
    if (!started) { /* start-up (probe, TLS check, script setup()): nothing measured yet */
        static const char msg[] = "barrage: interrupted during start-up\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(128 + sig);
    }
    if (got_signal) _exit(128 + sig); /* second signal: leave at once */
    got_signal = sig;
    char b = 0;
    ssize_t r = write(notify_pipe[1], &b, 1);
    (void)r;
}

/* --web's Stop button (on the web server's thread): the run ends as at
 * SIGINT, report and exit code included; a Ctrl-C already pressed wins. */
static void web_stop(void)
{
    if (!got_signal) on_signal(SIGINT);
}

/* A closed stdin, stdout or stderr gets /dev/null opened read-only in its
 * place before anything else opens a descriptor: no socket, pipe, eventfd or
 * file can become fd 0-2 (a report printed into a socket, a JSON file fed to
 * printf), and writing to a closed stdout still fails (EBADF), so the report
 * check below says so and exits 1. */
static void guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        int n = open("/dev/null", O_RDONLY);
        if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
    }
}

/* The text report's stream after a flush: 0, or -1 (the first errno kept in
 * *werr) when it could not be written (/dev/full, a closed pipe or stdout). */
static int out_flush(FILE *out, int *werr)
{
    if ((fflush(out) || ferror(out)) && !*werr) *werr = errno ? errno : EIO;
    return *werr ? -1 : 0;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "barrage: %s\n", msg);
    return EXIT_USAGE;
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
        if (report_csv(cfg->csv_prefix, rr, err, sizeof err) ||
            report_csv_exceptions(cfg->csv_prefix, rr->total, err, sizeof err)) {
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

/* One benchmark: set up, header, workers, report, done(), thresholds,
 * outputs. Returns the exit code. */
static int run(const config_t *cfg)
{
    char err[1024];
    run_t r;
    int exit_code = EXIT_OK;
    if (run_prepare(&r, cfg, notify_pipe[0], notify_pipe[1], err, sizeof err)) {
        exit_code = usage_error(err);
        goto done;
    }
    if (r.web) {
        fprintf(stderr, "barrage: dashboard on %s\n", web_url(r.web));
        if (!web_loopback(r.web))
            fprintf(stderr, "barrage: warning: --web listens beyond loopback: anyone who reaches it can stop or "
                            "steer the run\n");
    }
    r.stop = web_stop;
    started = 1;
    if (live_metrics_url(r.live)) {
        fprintf(stderr, "barrage: metrics on %s\n", live_metrics_url(r.live));
        if (live_metrics_exposed(r.live))
            fprintf(stderr, "barrage: warning: --metrics listens beyond this machine: anyone who reaches the port sees the run\n");
    }
    /* with --json - (or --stream -), stdout is the JSON's: the text report goes to stderr */
    FILE *out = (cfg->json_path && !strcmp(cfg->json_path, "-")) || (cfg->stream_path && !strcmp(cfg->stream_path, "-"))
                ? stderr : stdout;
    int werr = 0;
    report_header(out, cfg);
    out_flush(out, &werr);
    int aborted = run_start(&r) ? 0 : run_wait(&r, &got_signal);
    run_stop(&r);
    if (run_merge(&r)) { exit_code = usage_error("out of memory"); goto done; }
    report_print(out, cfg, &r.total, r.elapsed_ns);
    report_stages(out, r.mon ? monitor_stages(r.mon, r.elapsed_ns) : NULL);
    report_watch(out, cfg, &r.total, r.elapsed_ns, r.targets, r.ntargets, r.mon ? monitor_client(r.mon) : NULL);
    report_analysis(out, &r.analysis);
    if (r.ctl) { /* --web: what was changed while it ran */
        report_run_t live;
        run_report(&r, 0, 0, &live);
        report_events(out, &live);
    }
    out_flush(out, &werr);

    if (r.error == SCRIPT_EFAIL) {
        fprintf(stderr, "barrage: script error: %s\n", r.script_err ? r.script_err : "unknown");
        /* a script stopped by Ctrl-C is an interruption, not a script bug */
        exit_code = got_signal ? 128 + got_signal : EXIT_USAGE;
    } else if (r.error == -ETIMEDOUT || r.error == -ECONNREFUSED) { /* conn.c's connect_give_up */
        fprintf(stderr, "barrage: run ended early: no connection to %s could be opened (%d tries: %s); "
                "is the server accepting connections? (--connect-timeout sets the wait)\n",
                r.addr.text[0] ? r.addr.text : cfg->url.host, CONN_GIVE_UP_TRIES, strerror(-r.error));
        exit_code = EXIT_RUN_FAILED;
    } else if (r.error) {
        fprintf(stderr, "barrage: run ended early: %s\n", fatal_hint(r.error));
        exit_code = EXIT_RUN_FAILED;
    } else if (got_signal) {
        exit_code = 128 + got_signal;
    }
    if (run_done_hook(&r)) {
        fprintf(stderr, "barrage: script error: %s\n", r.script_err);
        exit_code = got_signal ? 128 + got_signal : EXIT_USAGE; /* done() stopped by Ctrl-C */
    }
    char hint[512];
    /* a run that ended early has said why already */
    if (!r.error && report_all_failed(cfg, &r.total, hint, sizeof hint)) fprintf(stderr, "barrage: %s\n", hint);
    size_t failed = run_thresholds(&r);
    report_thresholds(out, r.th, r.verdicts, cfg->nthresholds);
    for (size_t i = 0; i < cfg->nthresholds; i++) /* a name that never ran fails, and says so */
        if (r.verdicts[i].missing)
            fprintf(stderr, "barrage: threshold '%s': no %s named '%s' ran (check the name in the script)\n",
                    r.th[i].expr, r.th[i].metric == THRESHOLD_CHECKS || r.th[i].metric == THRESHOLD_CHECKS_RATE
                    ? "check" : "request", r.th[i].name);
    if (aborted) fprintf(stderr, "barrage: --abort-on-fail: a threshold can no longer pass; run stopped early\n");
    if (failed && exit_code == EXIT_OK) exit_code = EXIT_THRESHOLD;
    /* a signal during done() (or the thresholds) is an interruption too: the
     * exit code and the JSON's interrupted/exit_code say the same */
    if (got_signal && (exit_code == EXIT_OK || exit_code == EXIT_THRESHOLD)) exit_code = 128 + got_signal;
    /* a failed threshold (99) names its cause in the report: it goes first */
    if (cfg->failure_exit && stats_failed(&r.total) && exit_code == EXIT_OK) {
        exit_code = cfg->failure_exit;
        uint64_t nf = stats_failed(&r.total), na = stats_attempts(&r.total);
        fprintf(stderr, "barrage: %" PRIu64 " of %" PRIu64 " requests failed (%.2f%%): exit code %d\n", nf, na,
                na ? 100.0 * (double)nf / (double)na : 0.0, exit_code);
    }
    if (cfg->failure_exit && stats_exceptions_total(&r.total) && exit_code == EXIT_OK) { /* Locust's rule too */
        exit_code = cfg->failure_exit;
        fprintf(stderr, "barrage: %" PRIu64 " exceptions in virtual users' code: exit code %d\n",
                stats_exceptions_total(&r.total), exit_code);
    }
    if (out_flush(out, &werr) && out == stdout) { /* a report nobody can read is a failed run */
        fprintf(stderr, "barrage: cannot write the report to stdout: %s\n", strerror(werr));
        if (exit_code == EXIT_OK) exit_code = EXIT_RUN_FAILED;
    }
    char warn[1024];
    if (run_live_final(&r, err, sizeof err, warn, sizeof warn)) {
        fprintf(stderr, "barrage: %s\n", err);
        if (exit_code == EXIT_OK) exit_code = EXIT_RUN_FAILED;
    }
    if (warn[0]) fprintf(stderr, "barrage: warning: %s\n", warn);
    report_run_t rr;
    run_report(&r, exit_code, got_signal != 0, &rr);
    if (write_outputs(cfg, &rr) && exit_code == EXIT_OK) exit_code = EXIT_RUN_FAILED;
    run_web_done(&r, &rr);
done:
    run_free(&r);
    return exit_code;
}

/* --help, --version: 0, or 1 with a message when stdout cannot take them. */
static int flushed_stdout(void)
{
    if (!fflush(stdout) && !ferror(stdout)) return EXIT_OK;
    fprintf(stderr, "barrage: cannot write to stdout: %s\n", strerror(errno));
    return EXIT_RUN_FAILED;
}

int main(int argc, char **argv)
{
    guard_std_fds();
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is an EPIPE to report, not a silent death */
    if (argc > 1 && !strcmp(argv[1], "serve")) return serve_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "compare")) return compare_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "merge")) return merge_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "report")) return render_main(argc - 1, argv + 1);

    config_t cfg;
    config_defaults(&cfg);
    char err[512];
    /* the script's options table goes between the command line and the checks */
    if (config_parse_args(&cfg, argc, argv, err, sizeof err) ||
        (!cfg.show_help && !cfg.show_version &&
         ((cfg.script && script_options(cfg.script, &cfg, err, sizeof err)) || config_finish(&cfg, err, sizeof err)))) {
        config_free(&cfg);
        return usage_error(err);
    }
    if (cfg.show_help) { fputs(config_usage(), stdout); config_free(&cfg); return flushed_stdout(); }
    if (cfg.show_version) {
        printf("barrage %s [%s] (llhttp %d.%d.%d)\n", BARRAGE_VERSION, loop_backend(),
               LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
        config_free(&cfg);
        return flushed_stdout();
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
