/* test_k6.c - k6's and Locust's vocabulary: compound durations, k6's
 * threshold names and tags (parsed and evaluated against hand-built
 * statistics), Locust's --users/--spawn-rate/--run-time, and a script's
 * options applied to the configuration (the command line wins). */
#include "config.h"
#include "test.h"
#include "threshold.h"
#include "units.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

TEST(k6_compound_durations)
{
    uint64_t ns;
    ASSERT(units_parse_duration("1h30m", &ns) == 0);   ASSERT_EQ_U64(ns, 5400ULL * 1000000000ULL);
    ASSERT(units_parse_duration("1m30s", &ns) == 0);   ASSERT_EQ_U64(ns, 90ULL * 1000000000ULL);
    ASSERT(units_parse_duration("90s", &ns) == 0);     ASSERT_EQ_U64(ns, 90ULL * 1000000000ULL);
    ASSERT(units_parse_duration("10m", &ns) == 0);     ASSERT_EQ_U64(ns, 600ULL * 1000000000ULL);
    ASSERT(units_parse_duration("2h0m5.5s", &ns) == 0); ASSERT_EQ_U64(ns, 7205500000000ULL);
    ASSERT(units_parse_duration("1s500ms", &ns) == 0); ASSERT_EQ_U64(ns, 1500000000ULL);
    const char *bad[] = { "1h30", "1hm", "h30m", "1h 30m", "1h-30m", "1m30", "30m1", "1h30mx" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (units_parse_duration(bad[i], &ns) != -1)
            test_fail_(__FILE__, __LINE__, "a bad duration was accepted: \"%s\"", bad[i]);
}

static int parse(const char *expr, threshold_t *t, char *err, size_t errlen)
{
    return threshold_parse(expr, t, err, errlen);
}

TEST(k6_threshold_names_parse)
{
    threshold_t t;
    char err[512];
    ASSERT(parse("http_req_duration:p(95)<500", &t, err, sizeof err) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_PERCENTILE); ASSERT(t.p == 95); ASSERT(t.value == 500000); ASSERT(!t.name);
    threshold_free(&t);
    ASSERT(parse("http_req_duration{name:login}:p(99.9)<300ms", &t, err, sizeof err) == 0);
    ASSERT_EQ_STR(t.name, "login"); ASSERT(t.p == 99.9);
    threshold_free(&t);
    ASSERT(parse("http_req_duration{ name : GET /a:b }:med<1s", &t, err, sizeof err) == 0);
    ASSERT_EQ_STR(t.name, "GET /a:b"); ASSERT(t.p == 50);
    threshold_free(&t);
    static const struct { const char *expr; threshold_metric_t m; } forms[] = {
        { "http_req_duration:avg<200", THRESHOLD_MEAN }, { "http_req_duration:min<1", THRESHOLD_MIN },
        { "http_req_duration:max<1s", THRESHOLD_MAX }, { "http_req_failed:rate<0.01", THRESHOLD_FAILED_RATE },
        { "http_req_failed{name:login}:rate<1%", THRESHOLD_FAILED_RATE },
        { "http_reqs:count>100", THRESHOLD_HTTP_REQS }, { "http_reqs:rate>10", THRESHOLD_HTTP_REQS_RATE },
        { "http_reqs{name:login}:count>=1k", THRESHOLD_HTTP_REQS },
        { "checks:rate>0.99", THRESHOLD_CHECKS_RATE }, { "checks{check:logged in}:rate==1", THRESHOLD_CHECKS_RATE },
        { "checks{name:x}:rate>=99%", THRESHOLD_CHECKS_RATE },
        { "iterations:count>=10", THRESHOLD_ITERATIONS }, { "iterations:rate>1.5", THRESHOLD_ITERATIONS_RATE },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (parse(forms[i].expr, &t, err, sizeof err)) {
            test_fail_(__FILE__, __LINE__, "rejected '%s': %s", forms[i].expr, err);
            continue;
        }
        if (t.metric != forms[i].m) test_fail_(__FILE__, __LINE__, "'%s': metric %d", forms[i].expr, (int)t.metric);
        threshold_free(&t);
    }
    /* errors name the token and the fix */
    static const struct { const char *expr, *want; } bad[] = {
        { "http_req_duration:count<5", "http_req_duration takes p(N), avg, med, min or max, not 'count'" },
        { "http_req_failed:p(95)<1", "http_req_failed takes rate" },
        { "http_reqs:avg<1", "http_reqs takes count or rate" },
        { "checks:count>1", "checks takes rate" },
        { "iterations{name:x}:count>1", "iterations are not counted per name" },
        { "http_req_duration{url:/x}:p(95)<1", "cannot read the tag '{url:/x}' (use {name:NAME})" },
        { "checks{status:200}:rate>0.9", "(use {name:NAME} or {check:NAME})" },
        { "http_req_duration{name: }:p(95)<1", "empty tag value" },
        { "checks:rate>2", "cannot read '2' as a rate" },
        { "http_reqs:count>5%", "cannot read '5%' as a count" },
        { "http_reqs>5", "k6's http_reqs needs an aggregation after ':' (e.g. http_reqs:count>1000)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (!parse(bad[i].expr, &t, err, sizeof err)) {
            test_fail_(__FILE__, __LINE__, "accepted '%s'", bad[i].expr);
            threshold_free(&t);
        } else if (!strstr(err, bad[i].want) || !strstr(err, "--threshold '")) {
            test_fail_(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", bad[i].expr, err, bad[i].want);
        }
    }
}

static int verdict(const char *expr, const stats_t *s, double secs, threshold_result_t *r)
{
    threshold_t t;
    char err[512];
    if (threshold_parse(expr, &t, err, sizeof err)) { fprintf(stderr, "    %s\n", err); return -1; }
    threshold_eval(&t, s, secs, r);
    threshold_free(&t);
    return r->pass;
}

TEST(k6_threshold_names_eval)
{
    stats_t s;
    threshold_result_t r;
    ASSERT(stats_init(&s) == 0);
    s.requests = 950;
    s.errors.timeout = 50;                     /* 1000 attempts */
    s.failed_status = 50;                      /* 100 failed of 1000 */
    s.iterations = 40;
    hist_record_n(&s.latency, 2000, 950);      /* 2 ms */
    int li = stats_named_index(&s, "login");
    ASSERT(li >= 0);
    s.named[li].requests = 10; s.named[li].failures = 1;
    hist_record_n(&s.named[li].latency, 400000, 10); /* 400 ms */
    int c = stats_check_index(&s, "logged in"), d = stats_check_index(&s, "other");
    ASSERT(c >= 0 && d >= 0);
    s.checks[c].pass = 99; s.checks[c].fail = 1;
    s.checks[d].pass = 100;

    /* the same numbers as barrage's own names */
    ASSERT_EQ_INT(verdict("http_req_failed:rate<0.11", &s, 10, &r), 1);
    double fr = r.measured;
    ASSERT_EQ_INT(verdict("failed_rate<0.11", &s, 10, &r), 1);
    ASSERT(r.measured == fr); ASSERT(fabs(fr - 0.1) < 1e-12);
    ASSERT_EQ_INT(verdict("http_req_failed:rate<0.1", &s, 10, &r), 0);
    ASSERT_EQ_INT(verdict("http_req_duration:p(95)<3", &s, 10, &r), 1); ASSERT(r.measured == 2000);
    ASSERT_EQ_INT(verdict("http_req_duration:p(95)<2", &s, 10, &r), 0);
    ASSERT_EQ_INT(verdict("http_req_duration{name:login}:p(95)<300", &s, 10, &r), 0); ASSERT(r.measured == 400000);
    ASSERT_EQ_INT(verdict("http_req_duration{name:login}:max<=400", &s, 10, &r), 1);
    ASSERT_EQ_INT(verdict("http_req_failed{name:login}:rate==0.1", &s, 10, &r), 1);
    /* http_reqs: requests made, responses and failed attempts */
    ASSERT_EQ_INT(verdict("http_reqs:count==1000", &s, 10, &r), 1);
    ASSERT_EQ_INT(verdict("http_reqs:rate==100", &s, 10, &r), 1);
    ASSERT_EQ_INT(verdict("http_reqs:rate>100", &s, 10, &r), 0);
    ASSERT_EQ_INT(verdict("http_reqs{name:login}:count==10", &s, 10, &r), 1);
    /* checks: a fraction, all or one */
    ASSERT_EQ_INT(verdict("checks:rate>=0.995", &s, 10, &r), 1); ASSERT(fabs(r.measured - 0.995) < 1e-12);
    ASSERT_EQ_INT(verdict("checks:rate>0.995", &s, 10, &r), 0);
    ASSERT_EQ_INT(verdict("checks{check:logged in}:rate>0.99", &s, 10, &r), 0);
    ASSERT_EQ_INT(verdict("checks{check:logged in}:rate>=99%", &s, 10, &r), 1); ASSERT(r.measured == 99);
    ASSERT_EQ_INT(verdict("checks{check:other}:rate==1", &s, 10, &r), 1);
    /* iterations */
    ASSERT_EQ_INT(verdict("iterations:count==40", &s, 10, &r), 1);
    ASSERT_EQ_INT(verdict("iterations:rate==4", &s, 10, &r), 1);
    ASSERT_EQ_INT(verdict("iterations:count>40", &s, 10, &r), 0);
    /* a name that never ran fails and says so */
    ASSERT_EQ_INT(verdict("http_req_duration{name:logout}:p(95)<1s", &s, 10, &r), 0);
    ASSERT_EQ_INT(r.missing, 1);
    ASSERT_EQ_INT(verdict("checks{check:nope}:rate>0", &s, 10, &r), 0);
    ASSERT_EQ_INT(r.missing, 1);
    ASSERT_EQ_INT(verdict("login:p(95)<1s", &s, 10, &r), 1);
    ASSERT_EQ_INT(r.missing, 0);
    /* abort: http_reqs counts only rise */
    threshold_t t;
    char err[256];
    ASSERT(threshold_parse("http_reqs:count<1000", &t, err, sizeof err) == 0);
    ASSERT_EQ_INT(threshold_certainly_broken(&t, &s), 1);
    threshold_free(&t);
    ASSERT(threshold_parse("iterations:count<10", &t, err, sizeof err) == 0);
    ASSERT_EQ_INT(threshold_certainly_broken(&t, &s), 0); /* not followed live */
    threshold_free(&t);
    stats_free(&s);
}

static int cparse(config_t *c, char *err, size_t n, int argc, char **argv)
{
    config_defaults(c);
    return config_parse(c, argc, argv, err, n);
}

TEST(k6_locust_flags)
{
    config_t c;
    char err[512];
    char *a1[] = { "barrage", "--users", "10", "--spawn-rate", "2", "--run-time", "1m30s", "--headless", "-t1",
                   "http://127.0.0.1:1/" };
    ASSERT(cparse(&c, err, sizeof err, 10, a1) == 0);
    ASSERT_EQ_U64(c.connections, 10);
    ASSERT_EQ_INT(c.stages.n, 2);
    ASSERT_EQ_U64(c.stages.dur_ns[0], 5000000000ULL);   /* 10 users at 2/s */
    ASSERT(c.stages.target[0] == 10);
    ASSERT_EQ_U64(c.stages.dur_ns[1], 85000000000ULL);
    ASSERT_EQ_U64(c.duration_ns, 90000000000ULL);
    config_free(&c);
    char *a2[] = { "barrage", "-u", "8", "-r", "1", "--run-time", "4s", "-t1", "http://127.0.0.1:1/" };
    ASSERT(cparse(&c, err, sizeof err, 9, a2) == 0);   /* still spawning at the end: 4 users */
    ASSERT_EQ_INT(c.stages.n, 1);
    ASSERT(c.stages.target[0] == 4);
    ASSERT_EQ_U64(c.connections, 4);
    config_free(&c);
    char *a3[] = { "barrage", "-u", "3", "http://127.0.0.1:1/" };
    ASSERT(cparse(&c, err, sizeof err, 4, a3) == 0);
    ASSERT_EQ_U64(c.connections, 3); ASSERT_EQ_INT(c.stages.n, 0);
    config_free(&c);
    static const struct { int argc; const char *argv[8]; const char *want; } bad[] = {
        { 6, { "barrage", "--users", "5", "-c", "5", "http://h/" }, "--users and -c both set" },
        { 6, { "barrage", "--run-time", "5s", "-d", "5s", "http://h/" }, "--run-time and -d both set" },
        { 4, { "barrage", "--spawn-rate", "5", "http://h/" }, "--spawn-rate needs --users" },
        { 8, { "barrage", "-u", "5", "-r", "1", "--stages", "1s:5", "http://h/" }, "--spawn-rate and --stages" },
        { 8, { "barrage", "-u", "5", "-r", "1", "-R", "100", "http://h/" }, "--spawn-rate ramps users" },
        { 4, { "barrage", "--run-time", "1h30", "http://h/" }, "cannot parse '1h30' as a duration" },
        { 4, { "barrage", "-r", "x", "http://h/" }, "is not a spawn rate" },
        { 4, { "barrage", "-u", "0", "http://h/" }, "not a valid number of users" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (!cparse(&c, err, sizeof err, bad[i].argc, (char **)bad[i].argv))
            test_fail_(__FILE__, __LINE__, "case %zu accepted", i);
        else if (!strstr(err, bad[i].want))
            test_fail_(__FILE__, __LINE__, "case %zu: '%s' lacks '%s'", i, err, bad[i].want);
        config_free(&c);
    }
}

TEST(k6_script_options_apply)
{
    config_t c;
    char err[512];
    char *argv[] = { "barrage", "-c", "7", "--threshold", "p(99)<1s", "http://127.0.0.1:1/" };
    config_defaults(&c);
    ASSERT(config_parse_args(&c, 6, argv, err, sizeof err) == 0);
    ASSERT(config_apply_script(&c, "vus", "20", CONFIG_VALUE_NUMBER, err, sizeof err) == 0); /* -c wins */
    ASSERT(config_apply_script(&c, "duration", "3s", CONFIG_VALUE_STRING, err, sizeof err) == 0);
    ASSERT(config_apply_script(&c, "thresholds", "http_req_failed:rate<0.01", CONFIG_VALUE_ABORT, err, sizeof err) == 0);
    ASSERT(config_apply_script(&c, "latency", "true", CONFIG_VALUE_BOOLEAN, err, sizeof err) == 0);
    ASSERT(config_apply_script(&c, "keepalive", "false", CONFIG_VALUE_BOOLEAN, err, sizeof err) == 0);
    ASSERT(config_finish(&c, err, sizeof err) == 0);
    ASSERT_EQ_U64(c.connections, 7);
    ASSERT_EQ_U64(c.duration_ns, 3000000000ULL);
    ASSERT_EQ_INT(c.nthresholds, 2);                   /* the command line's and the script's */
    ASSERT_EQ_STR(c.thresholds[1], "http_req_failed:rate<0.01");
    ASSERT_EQ_INT(c.threshold_abort[0], 0); ASSERT_EQ_INT(c.threshold_abort[1], 1);
    ASSERT_EQ_INT(c.latency, 1); ASSERT_EQ_INT(c.keepalive, 0);
    config_free(&c);

    /* stages yield to the command line's schedule */
    char *a2[] = { "barrage", "-d", "2s", "http://127.0.0.1:1/" };
    config_defaults(&c);
    ASSERT(config_parse_args(&c, 4, a2, err, sizeof err) == 0);
    ASSERT(config_apply_script(&c, "stages", "1s:5,1s:5", CONFIG_VALUE_STAGES, err, sizeof err) == 0);
    ASSERT(config_finish(&c, err, sizeof err) == 0);
    ASSERT_EQ_INT(c.stages.n, 0); ASSERT_EQ_U64(c.duration_ns, 2000000000ULL);
    config_free(&c);

    static const struct { const char *key, *value; config_value_kind_t kind; const char *want; } bad[] = {
        { "durations", "1s", CONFIG_VALUE_STRING, "options: unknown key 'durations' (use vus/connections, duration" },
        { "duration", "true", CONFIG_VALUE_BOOLEAN, "options.duration: expected a string or a number, got a boolean" },
        { "duration", "10x", CONFIG_VALUE_STRING, "options.duration: cannot parse '10x' as a duration" },
        { "vus", "a table", CONFIG_VALUE_STAGES, "options.vus: expected a string or a number, got a table" },
        { "latency", "1", CONFIG_VALUE_NUMBER, "options.latency: expected true or false, got '1'" },
        { "thresholds", "p(95)<1", CONFIG_VALUE_STRING, "options.thresholds: expected a table of" },
        { "stages", "1s", CONFIG_VALUE_STRING, "stage" },
        { "iterations", "10", CONFIG_VALUE_NUMBER, "options.iterations: k6's shared iterations are not supported" },
        { "rps", "10", CONFIG_VALUE_NUMBER, "options.rps: k6's rps is a cap" },
        { "scenarios", "a table", CONFIG_VALUE_STAGES, "options.scenarios: k6's scenarios are not supported" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        config_defaults(&c);
        err[0] = 0;
        if (!config_apply_script(&c, bad[i].key, bad[i].value, bad[i].kind, err, sizeof err))
            test_fail_(__FILE__, __LINE__, "options.%s accepted", bad[i].key);
        else if (!strstr(err, bad[i].want))
            test_fail_(__FILE__, __LINE__, "options.%s: '%s' lacks '%s'", bad[i].key, err, bad[i].want);
        config_free(&c);
    }
}
