/* Unit-test runner: runs every registered TEST, each in its own process
 * with a timeout (libuv's runner in spirit), and ends with
 * "N passed, N failed, N skipped"; the exit status is 1 if any failed.
 *
 *   unit_tests [--no-fork] [FILTER...]
 *
 * FILTERs are substrings of test names: a test runs if any one matches.
 * --no-fork runs the tests in this process, one after the other (for a
 * debugger); the first failure then ends the run. The timeout is 10 s per
 * test, 60 s in a sanitizer build; UNIT_TIMEOUT=SECONDS overrides it. */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* How a test's process reports: exit statuses, and a message on a pipe. */
#define EXIT_ASSERT 1
#define EXIT_SKIP 77

#define MAX_TESTS 512
static struct { const char *name; test_fn fn; } tests[MAX_TESTS];
static int ntests, overflow;
static int report_fd = -1;   /* the child's end of the message pipe */
static volatile sig_atomic_t alarmed;

void test_register(const char *name, test_fn fn)
{
    if (ntests < MAX_TESTS) { tests[ntests].name = name; tests[ntests].fn = fn; ntests++; }
    else overflow = 1;
}

static void report(const char *msg)
{
    if (report_fd < 0) return;
    size_t n = strlen(msg);
    while (n) {
        ssize_t w = write(report_fd, msg, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        msg += w;
        n -= (size_t)w;
    }
}

void test_fail_(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof msg) vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    fflush(stdout);
    if (report_fd < 0) fprintf(stderr, "    %s\n", msg); /* --no-fork */
    else report(msg);                                 /* the FAIL line shows it */
    /* _exit: a test cut short leaves its allocations behind; a leak report
     * about them would only bury the assertion. */
    _exit(EXIT_ASSERT);
}

void test_skip_(const char *file, int line, const char *reason)
{
    (void)file; (void)line;
    fflush(stdout);
    if (report_fd < 0) fprintf(stderr, "    skipped: %s\n", reason);
    report(reason);
    _exit(EXIT_SKIP);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const typeof(tests[0]) *)a)->name, ((const typeof(tests[0]) *)b)->name);
}

static void on_alarm(int sig) { (void)sig; alarmed = 1; }

enum outcome { PASSED, FAILED, SKIPPED };

/* Run test i in a child process; fills why (for FAIL and skip lines). */
static enum outcome run_forked(int i, unsigned timeout, char *why, size_t whylen)
{
    int p[2];
    why[0] = 0;
    if (pipe(p) < 0) { snprintf(why, whylen, "pipe: %s", strerror(errno)); return FAILED; }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        close(p[0]); close(p[1]);
        return FAILED;
    }
    if (pid == 0) {
        setpgid(0, 0); /* a timeout kills whatever the test started too */
        close(p[0]);
        report_fd = p[1];
        signal(SIGALRM, SIG_DFL);
        tests[i].fn(&(int){ 0 });
        fflush(stdout);
        exit(0); /* through exit(): LeakSanitizer runs its check here */
    }
    close(p[1]);
    setpgid(pid, pid);
    alarmed = 0;
    alarm(timeout);
    int status = 0, timed_out = 0;
    for (;;) {
        if (waitpid(pid, &status, 0) == pid) break;
        if (errno != EINTR) { snprintf(why, whylen, "waitpid: %s", strerror(errno)); break; }
        if (alarmed && !timed_out) {
            timed_out = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
    }
    alarm(0);
    char msg[1024];
    size_t got = 0;
    /* non-blocking: a process the test left behind may hold the pipe open */
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    ssize_t n;
    while (got < sizeof msg - 1 && (n = read(p[0], msg + got, sizeof msg - 1 - got)) != 0) {
        if (n < 0) { if (errno == EINTR) continue; break; } /* EAGAIN: all there is */
        got += (size_t)n;
    }
    msg[got] = 0;
    close(p[0]);
    if (timed_out) {
        snprintf(why, whylen, "timed out after %u s (killed)", timeout);
        return FAILED;
    }
    if (why[0]) return FAILED;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(why, whylen, "killed by signal %d (%s)", sig, strsignal(sig));
        return FAILED;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == EXIT_SKIP && got) {
        snprintf(why, whylen, "%s", msg);
        return SKIPPED;
    }
    if (code == EXIT_ASSERT && got) {
        snprintf(why, whylen, "%s", msg);
        return FAILED;
    }
    if (code == 0 && !got) return PASSED;
    snprintf(why, whylen, "exited with status %d%s", code,
             SANITIZED ? " (see the sanitizer report on stderr)" : "");
    return FAILED;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0, fork_each = 1, nfilters = 0;
    char **filters = argv + 1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--no-fork")) fork_each = 0;
        else filters[nfilters++] = argv[a];
    }
    unsigned timeout = SANITIZED ? 60 : 10;
    const char *env = getenv("UNIT_TIMEOUT");
    if (env && atoi(env) > 0) timeout = (unsigned)atoi(env);
    if (overflow) {
        fprintf(stderr, "unit_tests: more than %d tests: raise MAX_TESTS in tests/unit/main.c\n", MAX_TESTS);
        return 2;
    }
    struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: waitpid wakes up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);

    qsort(tests, (size_t)ntests, sizeof tests[0], by_name);
    for (int i = 0; i < ntests; i++) {
        int match = !nfilters;
        for (int f = 0; f < nfilters && !match; f++) match = strstr(tests[i].name, filters[f]) != NULL;
        if (!match) continue;
        char why[1100];
        enum outcome o;
        if (fork_each) {
            o = run_forked(i, timeout, why, sizeof why);
        } else {
            tests[i].fn(&(int){ 0 }); /* a failure or skip ends the process */
            o = PASSED;
        }
        if (o == PASSED) { printf("ok   unit/%s\n", tests[i].name); passed++; }
        else if (o == SKIPPED) { printf("skip unit/%s: %s\n", tests[i].name, why); skipped++; }
        else { printf("FAIL unit/%s: %s\n", tests[i].name, why); failed++; }
    }
    if (nfilters && !passed && !failed && !skipped) {
        fprintf(stderr, "unit_tests: no test name contains the filter(s) given\n");
        return 2;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
