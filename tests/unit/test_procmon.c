/* Unit tests: the /proc parsing and the summaries of the watched target
 * (procmon.h), and the client's busy % and bottleneck rule (cpuload.h). */
#include "cpuload.h"
#include "procmon.h"
#include "test.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

TEST(procmon_parse_stat_fields)
{
    /* a real line (Linux 6.x): 52 fields; utime 14, stime 15, threads 20, rss 24 */
    const char *line = "1234 (nginx) S 1 1234 1234 0 -1 4194624 1500 0 3 0 250 75 0 0 20 0 3 0 "
                       "12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
    procmon_stat_t st;
    ASSERT_EQ_INT(procmon_parse_stat(line, &st), 0);
    ASSERT_EQ_STR(st.comm, "nginx");
    ASSERT_EQ_INT(st.state, 'S');
    ASSERT_EQ_U64(st.utime, 250);
    ASSERT_EQ_U64(st.stime, 75);
    ASSERT_EQ_U64(st.threads, 3);
    ASSERT_EQ_U64(st.rss_pages, 2560);
}

TEST(procmon_parse_stat_comm_with_spaces_and_parens)
{
    /* the comm is whatever the process set: it ends at the last ')' */
    const char *line = "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 9 8 0 0 20 0 12 0 5 1000 42 0\n";
    procmon_stat_t st;
    ASSERT_EQ_INT(procmon_parse_stat(line, &st), 0);
    ASSERT_EQ_STR(st.comm, "a) b (c)");
    ASSERT_EQ_INT(st.state, 'R');
    ASSERT_EQ_U64(st.utime, 9);
    ASSERT_EQ_U64(st.stime, 8);
    ASSERT_EQ_U64(st.threads, 12);
    ASSERT_EQ_U64(st.rss_pages, 42);
}

TEST(procmon_parse_stat_rejects_truncated)
{
    procmon_stat_t st;
    ASSERT(procmon_parse_stat("", &st) < 0);
    ASSERT(procmon_parse_stat("12 (x", &st) < 0);
    ASSERT(procmon_parse_stat("12 (x) S 1 2 3", &st) < 0); /* too few fields */
    ASSERT(procmon_parse_stat("12 (x) S 1 2 3 z 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22", &st) < 0);
}

TEST(procmon_parse_stat_of_this_process)
{
#ifdef __linux__
    FILE *f = fopen("/proc/self/stat", "r");
    ASSERT(f);
    char line[1024];
    ASSERT(fgets(line, sizeof line, f));
    fclose(f);
    procmon_stat_t st;
    ASSERT_EQ_INT(procmon_parse_stat(line, &st), 0);
    ASSERT(st.threads >= 1);
    ASSERT(st.rss_pages > 0);
#else
    TEST_SKIP("no /proc");
#endif
}

TEST(procmon_name_matching)
{
    static const char cmd[] = "/usr/sbin/nginx\0-g\0daemon off;";
    ASSERT(procmon_name_matches("nginx", NULL, 0, "nginx"));
    ASSERT(!procmon_name_matches("nginx", NULL, 0, "ngin"));
    ASSERT(!procmon_name_matches("nginx2", NULL, 0, "nginx"));
    ASSERT(procmon_name_matches("other", cmd, sizeof cmd, "nginx")); /* argv[0]'s base name */
    ASSERT(!procmon_name_matches("other", cmd, sizeof cmd, "sbin"));
    ASSERT(!procmon_name_matches("other", cmd, sizeof cmd, "daemon off;")); /* only argv[0] */
    /* the kernel keeps 15 bytes of a name: a longer NAME matches its cut comm */
    ASSERT(procmon_name_matches("very-long-proce", NULL, 0, "very-long-process-name"));
    ASSERT(!procmon_name_matches("very-long-proc", NULL, 0, "very-long-process-name"));
}

TEST(procmon_cpu_percent)
{
    ASSERT_NEAR(procmon_cpu_pct(50, 100, 1.0), 50.0, 1e-9);   /* 0.5 s of 1 s: half a core */
    ASSERT_NEAR(procmon_cpu_pct(300, 100, 2.0), 150.0, 1e-9); /* 1.5 cores */
    ASSERT_NEAR(procmon_cpu_pct(10, 100, 0), 0.0, 1e-9);
}

static void fill(procmon_sample_t *s, size_t n, double start_mib, double mib_per_s)
{
    for (size_t i = 0; i < n; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].t = (double)i;
        s[i].rss = (uint64_t)((start_mib + mib_per_s * (double)i) * 1024 * 1024);
        s[i].cpu = i ? 40.0 + (double)(i % 3) * 10 : 0;
        s[i].fds = 10 + (uint32_t)(i % 2);
        s[i].threads = 4;
        s[i].procs = 1;
    }
}

TEST(procmon_summary_ranges_and_slope)
{
    procmon_sample_t s[10];
    fill(s, 10, 100, 1); /* 1 MiB/s = 3600 MiB/h */
    procmon_summary_t m;
    procmon_summarize(s, 10, 60, &m);
    ASSERT_EQ_U64(m.n, 10);
    ASSERT_NEAR(m.cpu.min, 40, 1e-9); /* the first sample (no delta) is left out */
    ASSERT_NEAR(m.cpu.max, 60, 1e-9);
    ASSERT_NEAR(m.cpu.avg, (40 + 50 + 60) / 3.0, 1e-9);
    ASSERT_NEAR(m.fds.min, 10, 1e-9);
    ASSERT_NEAR(m.fds.max, 11, 1e-9);
    ASSERT_NEAR(m.threads.avg, 4, 1e-9);
    ASSERT_NEAR(m.rss.min, 100.0 * 1024 * 1024, 1);
    ASSERT_NEAR(m.rss_slope_mib_h, 3600, 0.01);
    ASSERT_NEAR(m.span_s, 9, 1e-9);
    ASSERT(!m.leak_checked); /* 9 s is below the 60 s window */
    ASSERT(!m.leak);
}

TEST(procmon_leak_rule)
{
    procmon_sample_t s[70];
    procmon_summary_t m;
    fill(s, 70, 100, 0.5); /* 34.5 MiB in 69 s: 34% of the start */
    procmon_summarize(s, 70, 60, &m);
    ASSERT(m.leak_checked);
    ASSERT(m.leak);
    fill(s, 70, 100, 0.0); /* flat */
    procmon_summarize(s, 70, 60, &m);
    ASSERT(m.leak_checked && !m.leak);
    fill(s, 70, 1000, 0.1); /* 6.9 MiB: under 8 MiB (and under 10% of 1000 MiB) */
    procmon_summarize(s, 70, 60, &m);
    ASSERT(!m.leak);
    fill(s, 70, 1000, 1.0); /* 69 MiB, but only 6.9% of the start */
    procmon_summarize(s, 70, 60, &m);
    ASSERT(!m.leak);
    /* a warm-up step: 50 MiB in the first 5 s, then flat */
    fill(s, 70, 100, 0.0);
    for (size_t i = 0; i < 70; i++) s[i].rss += (uint64_t)((i < 5 ? (double)i * 10 : 50.0) * 1024 * 1024);
    procmon_summarize(s, 70, 60, &m);
    ASSERT(m.rss_slope_mib_h > 0);
    ASSERT(!m.leak); /* the second half no longer grows */
    /* a shorter window (the e2e tests' override) checks earlier */
    fill(s, 5, 10, 10);
    procmon_summarize(s, 5, 3, &m);
    ASSERT(m.leak_checked && m.leak);
}

TEST(procmon_summary_empty)
{
    procmon_summary_t m;
    procmon_summarize(NULL, 0, 60, &m);
    ASSERT_EQ_U64(m.n, 0);
    ASSERT(!m.leak_checked);
}

TEST(procmon_open_and_sample_this_process)
{
#ifdef __linux__
    procmon_t m;
    char err[256];
    ASSERT_EQ_INT(procmon_open(&m, getpid(), NULL, err, sizeof err), 0);
    ASSERT_EQ_INT(procmon_sample(&m, 0), 0);
    volatile double x = 0;
    for (long i = 0; i < 20000000; i++) x += (double)i; /* some CPU time */
    ASSERT_EQ_INT(procmon_sample(&m, 0.5), 0);
    ASSERT_EQ_U64(m.n, 2);
    ASSERT_EQ_INT(m.samples[0].procs, 1);
    ASSERT(m.samples[1].threads >= 1);
    ASSERT(m.samples[1].fds >= 3);
    ASSERT(m.samples[1].rss > 0);
    ASSERT(m.samples[1].cpu >= 0);
    procmon_free(&m);
    ASSERT(procmon_open(&m, 0x7ffffff0, NULL, err, sizeof err) < 0);
    ASSERT(strstr(err, "no process"));
    procmon_free(&m);
    ASSERT(procmon_open(&m, 0, "no-such-process-name-xyz", err, sizeof err) < 0);
    ASSERT(strstr(err, "no running process"));
    procmon_free(&m);
#else
    TEST_SKIP("no /proc");
#endif
}

TEST(cpuload_busy_and_rule)
{
    cpuload_t c;
    ASSERT_EQ_INT(cpuload_init(&c, 2), 0);
    ASSERT_NEAR(cpuload_pct(500000000, 1000000000), 50, 1e-9);
    ASSERT_NEAR(cpuload_pct(1100000000, 1000000000), 100, 1e-9); /* clamped */
    ASSERT_NEAR(cpuload_pct(5, 0), 0, 1e-9);
    /* thread 0: busy (CPU + run-queue wait) 95% in 2 of 4 full seconds */
    ASSERT_EQ_INT(cpuload_add(&c, 0, 0, 600000000, 350000000, 1000000000), 0);
    ASSERT_EQ_INT(cpuload_add(&c, 0, 1, 950000000, 0, 1000000000), 0);
    ASSERT_EQ_INT(cpuload_add(&c, 0, 2, 100000000, 0, 1000000000), 0);
    ASSERT_EQ_INT(cpuload_add(&c, 0, 3, 100000000, 0, 1000000000), 0);
    ASSERT_EQ_INT(cpuload_add(&c, 0, 4, 100000000, 0, 100000000), 0); /* partial: left out of the rule */
    ASSERT_EQ_INT(c.t[0].seconds, 4);
    ASSERT_EQ_INT(c.t[0].busy_seconds, 2);
    ASSERT_EQ_INT(c.t[0].nseries, 5);
    ASSERT_NEAR(c.t[0].series[4], 100, 1e-3);
    ASSERT_NEAR(cpuload_mean(&c.t[0]), (95 + 95 + 10 + 10) / 4.0, 1e-6);
    ASSERT_NEAR(cpuload_cpu_mean(&c.t[0]), (60 + 95 + 10 + 10) / 4.0, 1e-6);
    ASSERT(cpuload_saturated(&c.t[0])); /* half the seconds */
    ASSERT_EQ_INT(cpuload_bottleneck(&c), 0);
    /* thread 1: two saturated seconds are not a run of >= 3 s */
    cpuload_add(&c, 1, 0, 1000000000, 0, 1000000000);
    cpuload_add(&c, 1, 2, 1000000000, 0, 1000000000); /* a gap: second 1 never came */
    ASSERT(isnan(c.t[1].series[1]));
    ASSERT(!cpuload_saturated(&c.t[1]));
    cpuload_free(&c);
}

TEST(cpuload_schedstat)
{
    uint64_t w = 0;
    ASSERT_EQ_INT(cpuload_parse_schedstat("114025 1257603 2\n", &w), 0);
    ASSERT_EQ_U64(w, 1257603);
    ASSERT(cpuload_parse_schedstat("", &w) < 0);
}
