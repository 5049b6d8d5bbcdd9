/* test_threshold.c - --threshold expressions: every form of the grammar, every
 * error with its exact token, evaluation against hand-built statistics at the
 * boundaries, the mid-run "certainly broken" test and the value formatting. */
#include "test.h"
#include "threshold.h"

#include <math.h>
#include <stdint.h>

/* Parse expr, printing the error if it fails. */
static int parse(const char *expr, threshold_t *t)
{
    char err[256] = "";
    int rc = threshold_parse(expr, t, err, sizeof err);
    if (rc) fprintf(stderr, "    rejected '%s': %s\n", expr, err);
    return rc;
}

/* Parse and evaluate expr against s: 1 pass, 0 fail, -1 parse error. */
static int verdict(const char *expr, const stats_t *s, double duration_s, threshold_result_t *r)
{
    threshold_t t;
    threshold_result_t tmp;
    if (!r) r = &tmp;
    if (parse(expr, &t)) return -1;
    threshold_eval(&t, s, duration_s, r);
    threshold_free(&t);
    return r->pass;
}

static int broken(const char *expr, const stats_t *s)
{
    threshold_t t;
    if (parse(expr, &t)) return -1;
    int b = threshold_certainly_broken(&t, s);
    threshold_free(&t);
    return b;
}

/* An expression and what it should give: its verdict (1 pass, 0 fail), or
 * in the mid-run test whether it is certainly broken (1) or not (0). */
typedef struct expect {
    const char *expr;
    int want;
} expect_t;

/* verdict() of each case (or broken(), when mid_run) against s: 1 when all
 * give what they should, else 0 after naming every one that does not. */
static int as_expected(const expect_t *c, size_t n, const stats_t *s, double duration_s, int mid_run)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        int got = mid_run ? broken(c[i].expr, s) : verdict(c[i].expr, s, duration_s, NULL);
        if (got != c[i].want) {
            fprintf(stderr, "    '%s': %s %d, expected %d\n", c[i].expr, mid_run ? "broken" : "verdict", got,
                    c[i].want);
            ok = 0;
        }
    }
    return ok;
}
#define VERDICTS(s, duration_s, cases) as_expected(cases, sizeof cases / sizeof cases[0], s, duration_s, 0)
#define BROKEN(s, cases) as_expected(cases, sizeof cases / sizeof cases[0], s, 0, 1)

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1, fmax(fabs(a), fabs(b)));
}

TEST(threshold_parse_latency)
{
    threshold_t t;
    ASSERT(parse("p(95)<300ms", &t) == 0);
    ASSERT_EQ_STR(t.expr, "p(95)<300ms");
    ASSERT(t.name == NULL);
    ASSERT_EQ_INT(t.metric, THRESHOLD_PERCENTILE);
    ASSERT(t.p == 95);
    ASSERT_EQ_INT(t.op, THRESHOLD_LT);
    ASSERT(t.value == 300000);
    ASSERT_EQ_INT(t.percent, 0);
    threshold_free(&t);

    ASSERT(parse("p(99.9)<1s", &t) == 0);
    ASSERT(t.p == 99.9); ASSERT(t.value == 1e6);
    threshold_free(&t);
    ASSERT(parse("p(100)<=2m", &t) == 0);
    ASSERT(t.p == 100); ASSERT(t.value == 120e6); ASSERT_EQ_INT(t.op, THRESHOLD_LE);
    threshold_free(&t);
    ASSERT(parse("p(0.01)<1s", &t) == 0);
    ASSERT(t.p == 0.01);
    threshold_free(&t);
    ASSERT(parse("mean<50", &t) == 0);             /* a bare number is ms, as in k6 */
    ASSERT_EQ_INT(t.metric, THRESHOLD_MEAN); ASSERT(t.value == 50000);
    threshold_free(&t);
    ASSERT(parse("avg<=1.5s", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_MEAN); ASSERT(t.value == 1.5e6);
    threshold_free(&t);
    ASSERT(parse("min>100us", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_MIN); ASSERT(t.value == 100); ASSERT_EQ_INT(t.op, THRESHOLD_GT);
    threshold_free(&t);
    ASSERT(parse("max>=.5s", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_MAX); ASSERT(t.value == 500000); ASSERT_EQ_INT(t.op, THRESHOLD_GE);
    threshold_free(&t);
    ASSERT(parse("stdev!=5ms", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_STDEV); ASSERT_EQ_INT(t.op, THRESHOLD_NE);
    threshold_free(&t);
    ASSERT(parse("med==10ms", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_PERCENTILE); ASSERT(t.p == 50); ASSERT_EQ_INT(t.op, THRESHOLD_EQ);
    threshold_free(&t);
    /* Whitespace around (and inside the parentheses of) every token. */
    ASSERT(parse("  p( 99.9 )  <=  1.5s \t", &t) == 0);
    ASSERT_EQ_STR(t.expr, "p( 99.9 )  <=  1.5s");
    ASSERT(t.p == 99.9); ASSERT(t.value == 1.5e6); ASSERT_EQ_INT(t.op, THRESHOLD_LE);
    threshold_free(&t);
    threshold_free(&t);                            /* twice is harmless */
    threshold_free(NULL);
}

TEST(threshold_parse_counts_and_rates)
{
    threshold_t t;
    ASSERT(parse("errors<0.1%", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_ERRORS); ASSERT_EQ_INT(t.percent, 1); ASSERT(t.value == 0.1);
    threshold_free(&t);
    ASSERT(parse("errors<10", &t) == 0);
    ASSERT_EQ_INT(t.percent, 0); ASSERT(t.value == 10);
    threshold_free(&t);
    ASSERT(parse("non2xx==0", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_NON2XX); ASSERT_EQ_INT(t.op, THRESHOLD_EQ); ASSERT(t.value == 0);
    threshold_free(&t);
    ASSERT(parse("non2xx <= 1%", &t) == 0);
    ASSERT_EQ_INT(t.percent, 1); ASSERT(t.value == 1);
    threshold_free(&t);
    ASSERT(parse("requests>=10k", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_REQUESTS); ASSERT(t.value == 10000);
    threshold_free(&t);
    ASSERT(parse("requests>2M", &t) == 0);
    ASSERT(t.value == 2e6);
    threshold_free(&t);
    ASSERT(parse("rps>1000", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_RPS); ASSERT(t.value == 1000); ASSERT_EQ_INT(t.percent, 0);
    threshold_free(&t);
    ASSERT(parse("rps>1.5k", &t) == 0);
    ASSERT(t.value == 1500);
    threshold_free(&t);
    ASSERT(parse("checks>99%", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_CHECKS); ASSERT_EQ_INT(t.percent, 1); ASSERT(t.value == 99);
    threshold_free(&t);
    ASSERT(parse("checks==100%", &t) == 0);
    ASSERT(t.value == 100);
    threshold_free(&t);
}

TEST(threshold_parse_operators)
{
    static const struct { const char *e; threshold_op_t op; } c[] = {
        { "max<1s", THRESHOLD_LT }, { "max<=1s", THRESHOLD_LE }, { "max>1s", THRESHOLD_GT },
        { "max>=1s", THRESHOLD_GE }, { "max==1s", THRESHOLD_EQ }, { "max!=1s", THRESHOLD_NE },
        { "max < 1s", THRESHOLD_LT }, { "max != 1s", THRESHOLD_NE },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        threshold_t t;
        ASSERT(parse(c[i].e, &t) == 0);
        ASSERT_EQ_INT(t.op, c[i].op);
        ASSERT(t.value == 1e6);
        threshold_free(&t);
    }
}

TEST(threshold_parse_names)
{
    threshold_t t;
    ASSERT(parse("login:p(95)<500ms", &t) == 0);
    ASSERT_EQ_STR(t.name, "login"); ASSERT_EQ_INT(t.metric, THRESHOLD_PERCENTILE);
    ASSERT(t.value == 500000);
    threshold_free(&t);
    ASSERT(parse("list items:p(95)<200ms", &t) == 0);
    ASSERT_EQ_STR(t.name, "list items"); ASSERT(t.p == 95);
    ASSERT_EQ_STR(t.expr, "list items:p(95)<200ms");
    threshold_free(&t);
    ASSERT(parse("  list items  :  p(95) < 200ms ", &t) == 0);
    ASSERT_EQ_STR(t.name, "list items");
    threshold_free(&t);
    /* The last ':' splits, so a name may hold colons (URLs, "GET /a:b"). */
    ASSERT(parse("GET http://h:8080/a:errors<1%", &t) == 0);
    ASSERT_EQ_STR(t.name, "GET http://h:8080/a"); ASSERT_EQ_INT(t.metric, THRESHOLD_ERRORS);
    ASSERT_EQ_INT(t.percent, 1);
    threshold_free(&t);
    ASSERT(parse("has token:checks>=99.5%", &t) == 0);
    ASSERT_EQ_STR(t.name, "has token"); ASSERT_EQ_INT(t.metric, THRESHOLD_CHECKS);
    ASSERT(t.value == 99.5);
    threshold_free(&t);
    ASSERT(parse("login:requests>=100", &t) == 0);
    ASSERT_EQ_STR(t.name, "login"); ASSERT_EQ_INT(t.metric, THRESHOLD_REQUESTS);
    threshold_free(&t);
    ASSERT(parse("login:rps>10", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_RPS);
    threshold_free(&t);
    ASSERT(parse("login:errors==0", &t) == 0);
    ASSERT_EQ_INT(t.percent, 0);
    threshold_free(&t);
    ASSERT(parse("login:max<=2s", &t) == 0);
    ASSERT_EQ_INT(t.metric, THRESHOLD_MAX);
    threshold_free(&t);
}

TEST(threshold_parse_errors)
{
    /* Each bad expression, and the text its one-line message must quote. */
    static const struct { const char *e, *quote; } c[] = {
        { "p(95)<30xs", "cannot read '30xs' as a duration" },
        { "latency<1s", "unknown metric 'latency'" },
        { "P(95)<1s", "'P(95)'" },
        { "p95<300ms", "unknown metric 'p95' (did you mean p(95)?)" },
        { "p(95)", "missing operator and value after 'p(95)'" },
        { "p(95) 300ms", "expected an operator before '300ms'" },
        { "p(95)=300ms", "unknown operator '='" },
        { "p(95)=<300ms", "unknown operator '=<'" },
        { "p(95)<<300ms", "unknown operator '<<'" },
        { "p(95)!300ms", "unknown operator '!'" },
        { "p(95)<", "missing value after '<'" },
        { "p(95)<  ", "missing value after '<'" },
        { "p(95)<abc", "'abc'" },
        { "p(95)<-1ms", "'-1ms'" },
        { "p(95)<1.2.3s", "'1.2.3s'" },
        { "p(95)<1e3", "'1e3'" },
        { "p(95)<inf", "'inf'" },
        { "p(95)<0x10", "'0x10'" },
        { "p(95)<5%", "cannot read '5%' as a duration" },
        { "p(95)<1h", "'1h'" },
        { "rps>5ms", "cannot read '5ms' as requests per second" },
        { "rps>5%", "'5%'" },
        { "rps>", "missing value after '>'" },
        { "p(0)<1s", "'p(0)' is out of range" },
        { "p(101)<1s", "'p(101)' is out of range" },
        { "p(100.5)<1s", "'p(100.5)'" },
        { "p(-1)<1s", "cannot read 'p(-1)' as a percentile" },
        { "p(abc)<1s", "'p(abc)'" },
        { "p()<1s", "'p()'" },
        { "p(95<1s", "'p(95' is missing its ')'" },
        { "p(95)<300ms extra", "unexpected 'extra' after '300ms'" },
        { "p(95)<300 ms", "unexpected 'ms' after '300'" },
        { "p(95)<300ms and p(99)<1s", "unexpected 'and'" },
        { "errors<5ms", "cannot read '5ms' as a count or a percentage" },
        { "errors<150%", "'150%' is more than 100%" },
        { "non2xx<1x", "'1x'" },
        { "checks>99", "cannot read '99' as a percentage" },
        { "checks>0.99", "'0.99'" },
        { "requests>5%", "not a percentage like '5%'" },
        { "requests>5x", "cannot read '5x' as a count" },
        { "login:non2xx==0", "use 'login:errors'" },
        { ":p(95)<1s", "empty name before ':'" },
        { "  :p(95)<1s", "empty name before ':'" },
        { "", "empty threshold" },
        { "   ", "empty threshold" },
        { "<300ms", "missing metric before '<300ms'" },
        { "login:<1s", "missing metric before '<1s'" },
        { "login: ", "missing metric after 'login:'" },
        { "mean<1s\nx", "unexpected 'x'" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        threshold_t t;
        char err[512] = "";
        if (threshold_parse(c[i].e, &t, err, sizeof err) != -1) {
            fprintf(stderr, "    accepted bad threshold '%s'\n", c[i].e);
            threshold_free(&t);
            ASSERT(0);
        }
        if (!strstr(err, c[i].quote)) {
            fprintf(stderr, "    '%s': message \"%s\" lacks \"%s\"\n", c[i].e, err, c[i].quote);
            ASSERT(0);
        }
        ASSERT(!strncmp(err, "--threshold '", 13));
        ASSERT(strchr(err, '\n') == NULL);
        ASSERT(t.expr == NULL && t.name == NULL);     /* nothing to free */
    }
    char err[256];
    ASSERT(threshold_parse("p(95)<30xs", &(threshold_t){0}, err, sizeof err) == -1);
    ASSERT_EQ_STR(err, "--threshold 'p(95)<30xs': cannot read '30xs' as a duration (use e.g. 300ms, 1s)");
    ASSERT(threshold_parse(NULL, &(threshold_t){0}, err, sizeof err) == -1);
    ASSERT(strstr(err, "empty threshold") != NULL);
    /* A short buffer truncates; no buffer at all is allowed. */
    char small[12];
    ASSERT(threshold_parse("p(95)<30xs", &(threshold_t){0}, small, sizeof small) == -1);
    ASSERT_EQ_INT(strlen(small), sizeof small - 1);
    ASSERT(threshold_parse("p(95)<30xs", &(threshold_t){0}, NULL, 0) == -1);
}

/* 1..1000 us, each once: percentiles below 2048 us are exact. */
static int fill_latency(stats_t *s)
{
    if (stats_init(s)) return -1;
    for (uint64_t v = 1; v <= 1000; v++) hist_record(&s->latency, v);
    s->requests = 1000;
    return 0;
}

TEST(threshold_eval_latency)
{
    stats_t s;
    threshold_result_t r;
    ASSERT(fill_latency(&s) == 0);
    ASSERT_EQ_INT(verdict("p(95)<=950us", &s, 1, &r), 1);
    ASSERT(r.measured == 950); ASSERT(r.note == NULL);
    ASSERT_EQ_INT(verdict("max<=1ms", &s, 1, &r), 1);
    ASSERT(r.measured == 1000);
    ASSERT_EQ_INT(verdict("mean==500.5us", &s, 1, &r), 1);
    ASSERT(r.measured == 500.5);
    ASSERT_EQ_INT(verdict("stdev<289us", &s, 1, &r), 1);
    ASSERT(near(r.measured, sqrt((1000.0 * 1000.0 - 1) / 12)));   /* 288.67 */
    static const expect_t at_the_edges[] = {
        { "p(95)<950us", 0 }, { "p(95)==950us", 1 }, { "p(95)!=950us", 0 }, { "p(95)>=950us", 1 },
        { "p(95)>950us", 0 }, { "p(95)>949us", 1 },
        { "p(95)<1", 1 },                               /* 1 ms */
        { "p(99.9)==999us", 1 }, { "p(100)==1ms", 1 }, { "med==500us", 1 },
        { "max<1ms", 0 }, { "min==1us", 1 }, { "min>1us", 0 }, { "min>=1us", 1 },
        /* 0.5005 ms is not exactly 500.5 us in binary: equal within noise. */
        { "mean<=0.5005ms", 1 }, { "mean<0.5005ms", 0 }, { "avg>0.5ms", 1 },
        { "stdev>288us", 1 },
    };
    ASSERT(VERDICTS(&s, 1, at_the_edges));
    stats_free(&s);

    /* Large values: percentiles within 0.1%, max exact. */
    ASSERT(stats_init(&s) == 0);
    hist_record_n(&s.latency, 100000, 95);
    hist_record_n(&s.latency, 312400, 5);
    s.requests = 100;
    ASSERT_EQ_INT(verdict("p(95)<300ms", &s, 1, &r), 1);
    ASSERT(fabs(r.measured - 100000) <= 100);
    ASSERT_EQ_INT(verdict("p(99)<300ms", &s, 1, &r), 0);
    ASSERT(r.measured == 312400);
    char buf[32];
    threshold_t t;
    ASSERT(parse("p(99)<300ms", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, r.measured, buf, sizeof buf), "312.40ms");
    threshold_free(&t);
    ASSERT_EQ_INT(verdict("max==312.4ms", &s, 1, NULL), 1);
    ASSERT_EQ_INT(verdict("min==0.1s", &s, 1, NULL), 1);
    stats_free(&s);
}

TEST(threshold_eval_counts)
{
    stats_t s;
    threshold_result_t r;
    ASSERT(stats_init(&s) == 0);
    s.requests = 990;
    s.errors.connect = 4; s.errors.read = 3; s.errors.write = 1;
    s.errors.timeout = 1; s.errors.parse = 1;          /* 10 socket/protocol errors */
    s.errors.status = 5;                               /* not an error here */
    ASSERT_EQ_INT(verdict("errors==10", &s, 10, &r), 1);
    ASSERT(r.measured == 10);
    ASSERT_EQ_INT(verdict("errors<=1%", &s, 10, &r), 1);     /* 10 / (990 + 10) = 1% */
    ASSERT(r.measured == 1);
    ASSERT_EQ_INT(verdict("non2xx==5", &s, 10, &r), 1);
    ASSERT(r.measured == 5);
    ASSERT_EQ_INT(verdict("non2xx<0.51%", &s, 10, &r), 1);    /* 5 / 990 = 0.505% */
    ASSERT(near(r.measured, 500.0 / 990));
    ASSERT_EQ_INT(verdict("requests==990", &s, 10, &r), 1);
    ASSERT(r.measured == 990);
    ASSERT_EQ_INT(verdict("rps==99", &s, 10, &r), 1);         /* 990 / 10 s */
    ASSERT(r.measured == 99);
    static const expect_t at_the_edges[] = {
        { "errors<10", 0 }, { "errors<=10", 1 }, { "errors>9", 1 }, { "errors!=10", 0 },
        { "errors<1%", 0 }, { "errors==1%", 1 }, { "errors>=1%", 1 }, { "errors<0.1%", 0 },
        { "non2xx==0", 0 }, { "non2xx>0.5%", 1 },
        { "requests>=1k", 0 }, { "requests>=990", 1 },
        { "rps>=99", 1 }, { "rps>99", 0 }, { "rps>1000", 0 },
    };
    ASSERT(VERDICTS(&s, 10, at_the_edges));
    ASSERT_EQ_INT(verdict("rps<=198", &s, 5, NULL), 1);

    /* checks: 99.5% over all; "a" 99%, "b" 100%. */
    int a = stats_check_index(&s, "a"), b = stats_check_index(&s, "has token");
    ASSERT(a >= 0 && b >= 0);
    s.checks[a].pass = 99; s.checks[a].fail = 1;
    s.checks[b].pass = 100;
    ASSERT_EQ_INT(verdict("checks>=99.5%", &s, 10, &r), 1);
    ASSERT(r.measured == 99.5);
    static const expect_t checks[] = {
        { "checks>99.5%", 0 }, { "a:checks==99%", 1 }, { "a:checks<99%", 0 }, { "has token:checks==100%", 1 },
    };
    ASSERT(VERDICTS(&s, 10, checks));
    ASSERT_EQ_INT(verdict("c:checks>1%", &s, 10, &r), 0);
    ASSERT(r.note != NULL && strstr(r.note, "check"));
    stats_free(&s);
}

TEST(threshold_eval_named)
{
    stats_t s;
    threshold_result_t r;
    ASSERT(stats_init(&s) == 0);
    int li = stats_named_index(&s, "login"), it = stats_named_index(&s, "list items");
    ASSERT(li >= 0 && it >= 0);
    stats_named_t *login = &s.named[li], *items = &s.named[it];
    login->requests = 200; login->failures = 2;
    for (uint64_t v = 1; v <= 198; v++) hist_record(&login->latency, v * 5);   /* 5..990 us */
    items->requests = 10;
    hist_record_n(&items->latency, 150000, 10);
    /* The whole run's numbers differ, so a mix-up shows. */
    s.requests = 5000;
    s.errors.connect = 50;
    hist_record_n(&s.latency, 900000, 5000);

    ASSERT_EQ_INT(verdict("login:errors==2", &s, 10, &r), 1);
    ASSERT(r.measured == 2);
    ASSERT_EQ_INT(verdict("login:errors==1%", &s, 10, &r), 1);   /* 2 / 200 */
    ASSERT(r.measured == 1);
    ASSERT_EQ_INT(verdict("list items:p(95)<200ms", &s, 10, &r), 1);
    ASSERT(r.measured == 150000);
    static const expect_t per_name[] = {
        { "login:errors<1%", 0 }, { "login:requests==200", 1 }, { "login:rps==20", 1 },
        { "login:max==990us", 1 }, { "login:min==5us", 1 }, { "login:p(50)==495us", 1 },
        { "login:mean==497.5us", 1 }, { "login:p(95)<1ms", 1 },
        { "p(95)<1ms", 0 },                             /* the whole run: 900 ms */
        { "list items:p(95)<150ms", 0 }, { " list items : p(95) <= 150ms", 1 },
        { "List items:p(95)<1s", 0 },                   /* names are exact */
    };
    ASSERT(VERDICTS(&s, 10, per_name));

    /* A name that never occurred fails with a note, whatever the condition. */
    ASSERT_EQ_INT(verdict("logout:p(95)<1s", &s, 10, &r), 0);
    ASSERT(r.measured == 0); ASSERT(r.note != NULL && strstr(r.note, "name"));
    ASSERT_EQ_INT(verdict("logout:errors==0", &s, 10, &r), 0);
    ASSERT(r.note != NULL);
    /* A name with attempts but no responses has no latency. */
    int dead = stats_named_index(&s, "dead");
    ASSERT(dead >= 0);
    s.named[dead].requests = 3; s.named[dead].failures = 3;
    ASSERT_EQ_INT(verdict("dead:p(95)<1s", &s, 10, &r), 0);
    ASSERT(r.note != NULL);
    ASSERT_EQ_INT(verdict("dead:errors==100%", &s, 10, NULL), 1);
    stats_free(&s);
}

TEST(threshold_eval_no_data)
{
    stats_t s;
    threshold_result_t r;
    ASSERT(stats_init(&s) == 0);
    ASSERT_EQ_INT(verdict("p(95)<1s", &s, 10, &r), 0);
    ASSERT(r.measured == 0); ASSERT(r.note != NULL && strstr(r.note, "no responses"));
    ASSERT_EQ_INT(verdict("mean>0", &s, 10, &r), 0);
    ASSERT(r.note != NULL);
    ASSERT_EQ_INT(verdict("errors<1%", &s, 10, &r), 0);
    ASSERT(r.note != NULL && strstr(r.note, "no requests"));
    ASSERT_EQ_INT(verdict("non2xx<1%", &s, 10, &r), 0);
    ASSERT(r.note != NULL);
    ASSERT_EQ_INT(verdict("checks>99%", &s, 10, &r), 0);
    ASSERT(r.note != NULL && strstr(r.note, "checks"));
    /* Counts are measurements even when zero. */
    ASSERT_EQ_INT(verdict("errors==0", &s, 10, &r), 1);
    ASSERT(r.note == NULL);
    ASSERT_EQ_INT(verdict("non2xx==0", &s, 10, NULL), 1);
    ASSERT_EQ_INT(verdict("requests==0", &s, 10, NULL), 1);
    ASSERT_EQ_INT(verdict("rps<1", &s, 10, NULL), 1);
    ASSERT_EQ_INT(verdict("rps<1", &s, 0, &r), 0);
    ASSERT(r.note != NULL && strstr(r.note, "duration"));
    stats_free(&s);
}

TEST(threshold_certainly_broken)
{
    stats_t s;
    ASSERT(stats_init(&s) == 0);
    static const expect_t empty[] = {   /* an empty run breaks nothing */
        { "max<1s", 0 }, { "min>1s", 0 }, { "errors==0", 0 },
    };
    ASSERT(BROKEN(&s, empty));

    hist_record(&s.latency, 500000);
    static const expect_t at_500ms[] = {
        { "max<1s", 0 }, { "max<500ms", 1 }, { "max<=500ms", 0 }, { "max<=499ms", 1 },
        { "max==500ms", 0 }, { "max==400ms", 1 },
        { "max==600ms", 0 }, { "max>1s", 0 },           /* may still get there */
        { "max!=500ms", 0 },
        { "min>=500ms", 0 }, { "min>500ms", 1 }, { "min==600ms", 1 }, { "min==400ms", 0 },
        { "min<100ms", 0 },                             /* min may still drop */
    };
    ASSERT(BROKEN(&s, at_500ms));
    hist_record(&s.latency, 1500000);
    static const expect_t at_1500ms[] = {
        { "max<1s", 1 },
        /* Percentiles, means and rates can recover: never broken. */
        { "p(95)<1ms", 0 }, { "p(100)<1ms", 0 }, { "mean<1ms", 0 }, { "stdev<1us", 0 }, { "rps>1000000", 0 },
    };
    ASSERT(BROKEN(&s, at_1500ms));

    s.requests = 100;
    s.errors.timeout = 9;
    ASSERT_EQ_INT(broken("errors<10", &s), 0);
    s.errors.connect = 1;                              /* 10 errors */
    static const expect_t ten_errors[] = {
        { "errors<10", 1 }, { "errors<=10", 0 }, { "errors==10", 0 }, { "errors==0", 1 },
        { "errors>50", 0 }, { "errors!=10", 0 },
        { "errors<0.1%", 0 },                           /* a percentage can recover */
        { "non2xx==0", 0 },
    };
    ASSERT(BROKEN(&s, ten_errors));
    s.errors.status = 1;
    static const expect_t one_non2xx[] = {
        { "non2xx==0", 1 }, { "non2xx<=1", 0 }, { "non2xx<1%", 0 },
        { "requests<100", 1 }, { "requests<=100", 0 }, { "requests>=1k", 0 },
    };
    ASSERT(BROKEN(&s, one_non2xx));

    int c = stats_check_index(&s, "ok");
    ASSERT(c >= 0);
    s.checks[c].fail = 1000;
    ASSERT_EQ_INT(broken("checks>99%", &s), 0);
    ASSERT_EQ_INT(broken("ok:checks>99%", &s), 0);

    /* Per name: its own counts and latency; an unseen name may still come. */
    int li = stats_named_index(&s, "login");
    ASSERT(li >= 0);
    s.named[li].requests = 5; s.named[li].failures = 2;
    hist_record(&s.named[li].latency, 2000);
    static const expect_t per_name[] = {
        { "login:errors<2", 1 }, { "login:errors<3", 0 }, { "login:requests<=4", 1 },
        { "login:max<1s", 0 },                          /* the run's max is 1.5 s, login's 2 ms */
        { "login:max<2ms", 1 }, { "logout:errors==0", 0 }, { "logout:max<1us", 0 },
    };
    ASSERT(BROKEN(&s, per_name));
    stats_free(&s);
}

TEST(threshold_format_value)
{
    threshold_t t;
    char buf[32];
    ASSERT(parse("p(95)<300ms", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, 312400, buf, sizeof buf), "312.40ms");
    ASSERT_EQ_STR(threshold_format_value(&t, 850, buf, sizeof buf), "850.00us");
    ASSERT_EQ_STR(threshold_format_value(&t, 1.5e6, buf, sizeof buf), "1.50s");
    ASSERT_EQ_STR(threshold_format_value(&t, 90e6, buf, sizeof buf), "1.50m");
    ASSERT_EQ_STR(threshold_format_value(&t, t.value, buf, sizeof buf), "300.00ms");
    threshold_free(&t);
    ASSERT(parse("errors<0.1%", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, 0.123, buf, sizeof buf), "0.12%");
    threshold_free(&t);
    ASSERT(parse("errors<10", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, 17, buf, sizeof buf), "17");
    threshold_free(&t);
    ASSERT(parse("non2xx==0", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, 0, buf, sizeof buf), "0");
    threshold_free(&t);
    ASSERT(parse("rps>1000", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, 1234.5, buf, sizeof buf), "1234.5/s");
    threshold_free(&t);
    ASSERT(parse("checks>99%", &t) == 0);
    ASSERT_EQ_STR(threshold_format_value(&t, 99.5, buf, sizeof buf), "99.50%");
    char tiny[4];
    ASSERT_EQ_STR(threshold_format_value(&t, 99.5, tiny, sizeof tiny), "99.");
    threshold_free(&t);
    ASSERT_EQ_INT(THRESHOLD_EXIT_FAILED, 99);
}
