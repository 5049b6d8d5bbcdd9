/* procmon.c - the target's processes sampled from /proc (see procmon.h). */
#include "procmon.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procmon_parse_stat(const char *line, procmon_stat_t *st)
{
    memset(st, 0, sizeof *st);
    const char *open = strchr(line, '('), *close = strrchr(line, ')');
    if (!open || !close || close < open) return -EINVAL;
    size_t len = (size_t)(close - open - 1);
    if (len >= sizeof st->comm) len = sizeof st->comm - 1;
    memcpy(st->comm, open + 1, len);
    st->comm[len] = 0;
    /* after ") ": field 3 (state) onwards, space-separated */
    const char *p = close + 1;
    unsigned long long v[22] = { 0 }; /* fields 4..25 */
    while (*p == ' ') p++;
    if (!*p) return -EINVAL;
    st->state = *p++;
    for (int i = 0; i < 22; i++) {
        while (*p == ' ') p++;
        char *end;
        errno = 0;
        if (*p == '-') { /* signed fields (priority, nice...): read and ignore the sign */
            v[i] = (unsigned long long)strtoll(p, &end, 10);
        } else {
            v[i] = strtoull(p, &end, 10);
        }
        if (end == p || errno) return -EINVAL;
        p = end;
    }
    st->utime = v[14 - 4];
    st->stime = v[15 - 4];
    st->threads = v[20 - 4];
    st->rss_pages = v[24 - 4];
    return 0;
}

int procmon_name_matches(const char *comm, const char *cmdline, size_t cmdlen, const char *name)
{
    if (comm && (!strcmp(comm, name) || (strlen(name) > 15 && !strncmp(comm, name, 15) && strlen(comm) == 15)))
        return 1;
    if (!cmdline || !cmdlen) return 0;
    size_t arg0 = strnlen(cmdline, cmdlen);
    const char *base = cmdline;
    for (size_t i = 0; i < arg0; i++) if (cmdline[i] == '/') base = cmdline + i + 1;
    size_t blen = arg0 - (size_t)(base - cmdline);
    return blen == strlen(name) && !memcmp(base, name, blen);
}

double procmon_cpu_pct(uint64_t dticks, long clk_tck, double dt)
{
    if (dt <= 0 || clk_tck <= 0) return 0;
    return 100.0 * (double)dticks / (double)clk_tck / dt;
}

#ifdef __linux__

/* Read a small /proc file into buf (NUL-terminated). Its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return (ssize_t)n;
}

static int read_stat(pid_t pid, procmon_stat_t *st)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (slurp(path, line, sizeof line) <= 0) return -ENOENT;
    if (procmon_parse_stat(line, st)) return -EINVAL;
    return st->state == 'Z' || st->state == 'X' ? -ENOENT : 0; /* a zombie has exited */
}

static uint32_t count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    uint32_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int matches(const procmon_t *m, pid_t pid, const procmon_stat_t *st)
{
    if (procmon_name_matches(st->comm, NULL, 0, m->name)) return 1;
    char path[64], cmd[512];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    ssize_t n = slurp(path, cmd, sizeof cmd);
    return n > 0 && procmon_name_matches(NULL, cmd, (size_t)n, m->name);
}

/* Calls fn for every live process of the target; the number found. */
typedef void (*each_fn)(procmon_t *m, pid_t pid, const procmon_stat_t *st, void *arg);

static size_t each_process(procmon_t *m, each_fn fn, void *arg)
{
    procmon_stat_t st;
    if (!m->name) {
        if (read_stat(m->pid, &st)) return 0;
        if (fn) fn(m, m->pid, &st, arg);
        return 1;
    }
    DIR *d = opendir("/proc");
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid == m->self || read_stat(pid, &st) || !matches(m, pid, &st)) continue;
        if (fn) fn(m, pid, &st, arg);
        n++;
    }
    closedir(d);
    return n;
}

int procmon_open(procmon_t *m, pid_t pid, const char *name, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->pid = pid;
    m->name = name;
    m->self = getpid();
    m->exited_s = -1;
    m->clk_tck = sysconf(_SC_CLK_TCK);
    m->page = sysconf(_SC_PAGESIZE);
    if (name) snprintf(m->label, sizeof m->label, "%s", name);
    else snprintf(m->label, sizeof m->label, "pid %d", (int)pid);
    if (each_process(m, NULL, NULL)) return 0;
    if (name)
        snprintf(err, errlen, "--monitor-cmd: no running process is named '%s' (its name in ps -e, or its command's base name)", name);
    else
        snprintf(err, errlen, "--monitor-pid: no process %d is running (check the PID with ps)", (int)pid);
    return -1;
}

typedef struct acc {
    procmon_sample_t s;
    uint64_t dticks;
    procmon_ticks_t *next;
    size_t nnext, capnext;
    int oom;
} acc_t;

static void add_process(procmon_t *m, pid_t pid, const procmon_stat_t *st, void *arg)
{
    acc_t *a = arg;
    uint64_t ticks = st->utime + st->stime;
    for (size_t i = 0; i < m->nprev; i++)
        if (m->prev[i].pid == pid) {
            if (ticks >= m->prev[i].ticks) a->dticks += ticks - m->prev[i].ticks;
            break;
        }
    a->s.rss += st->rss_pages * (uint64_t)m->page;
    a->s.threads += (uint32_t)st->threads;
    a->s.fds += count_fds(pid);
    a->s.procs++;
    if (a->nnext == a->capnext) {
        size_t cap = a->capnext ? 2 * a->capnext : 8;
        void *p = realloc(a->next, cap * sizeof *a->next);
        if (!p) { a->oom = 1; return; }
        a->next = p;
        a->capnext = cap;
    }
    a->next[a->nnext].pid = pid;
    a->next[a->nnext++].ticks = ticks;
}

int procmon_sample(procmon_t *m, double t)
{
    if (m->exited_s >= 0) return 0;
    acc_t a = { .s = { .t = t } };
    each_process(m, add_process, &a);
    if (a.oom) { free(a.next); return -ENOMEM; }
    if (!a.s.procs) {
        free(a.next);
        m->exited_s = t;
        return 1;
    }
    if (m->n) a.s.cpu = procmon_cpu_pct(a.dticks, m->clk_tck, t - m->prev_t);
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        void *p = realloc(m->samples, cap * sizeof *m->samples);
        if (!p) { free(a.next); return -ENOMEM; }
        m->samples = p;
        m->cap = cap;
    }
    m->samples[m->n++] = a.s;
    free(m->prev);
    m->prev = a.next;
    m->nprev = a.nnext;
    m->prev_t = t;
    return 0;
}

#else /* not Linux: no /proc */

int procmon_open(procmon_t *m, pid_t pid, const char *name, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    (void)pid;
    snprintf(err, errlen, "%s needs Linux's /proc: it is not available on this system",
             name ? "--monitor-cmd" : "--monitor-pid");
    return -1;
}

int procmon_sample(procmon_t *m, double t) { (void)m; (void)t; return 0; }

#endif

/* Least-squares slope of rss (bytes) over t (s), samples [from, to). */
static double slope(const procmon_sample_t *s, size_t from, size_t to)
{
    size_t n = to - from;
    if (n < 2) return 0;
    double mt = 0, mr = 0;
    for (size_t i = from; i < to; i++) { mt += s[i].t; mr += (double)s[i].rss; }
    mt /= (double)n;
    mr /= (double)n;
    double num = 0, den = 0;
    for (size_t i = from; i < to; i++) {
        double dt = s[i].t - mt;
        num += dt * ((double)s[i].rss - mr);
        den += dt * dt;
    }
    return den > 0 ? num / den : 0;
}

static void range_add(procmon_range_t *r, double v, size_t i)
{
    if (!i || v < r->min) r->min = v;
    if (!i || v > r->max) r->max = v;
    r->avg += v;
}

void procmon_summarize(const procmon_sample_t *s, size_t n, double leak_min_s, procmon_summary_t *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (!n) return;
    size_t ncpu = 0; /* the first sample has no CPU delta */
    for (size_t i = 0; i < n; i++) {
        if (i) range_add(&out->cpu, s[i].cpu, ncpu++);
        range_add(&out->rss, (double)s[i].rss, i);
        range_add(&out->fds, s[i].fds, i);
        range_add(&out->threads, s[i].threads, i);
    }
    if (ncpu) out->cpu.avg /= (double)ncpu;
    out->rss.avg /= (double)n;
    out->fds.avg /= (double)n;
    out->threads.avg /= (double)n;
    out->span_s = s[n - 1].t - s[0].t;
    double bps = slope(s, 0, n); /* bytes per second */
    out->rss_slope_mib_h = bps * 3600.0 / (1024.0 * 1024.0);
    out->leak_checked = n >= 4 && out->span_s >= leak_min_s;
    if (!out->leak_checked) return;
    double growth = bps * out->span_s, start = (double)s[0].rss;
    out->leak = growth >= PROCMON_LEAK_MIN_MIB * 1024 * 1024 && growth >= start * PROCMON_LEAK_MIN_PCT / 100.0 &&
                slope(s, n / 2, n) >= bps / 2;
}

double procmon_leak_window(void)
{
    const char *v = getenv("BARRAGE_TEST_LEAK_WINDOW_S");
    double w = v ? atof(v) : 0;
    return w > 0 ? w : PROCMON_LEAK_MIN_S;
}

void procmon_free(procmon_t *m)
{
    free(m->samples);
    free(m->prev);
    m->samples = NULL;
    m->prev = NULL;
    m->n = m->cap = m->nprev = 0;
}
