/* test_metrics.c - the Prometheus text of a run's state (metrics.h): the
 * `le` cut of the histogram at the bounds, label escaping, what only the
 * final state shows, and the Pushgateway path. */
#define _GNU_SOURCE
#include "test.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

static char *render(const config_t *c, const stats_t *s, int final)
{
    stats_series_t ser = { 0 };
    live_state_t st = { .cfg = c, .totals = s, .series = &ser, .elapsed_ns = 1500000000, .final = final };
    char *buf;
    size_t len;
    ASSERT_EQ_INT(metrics_render(&st, &buf, &len), 0);
    ASSERT_EQ_U64(strlen(buf), len);
    return buf;
}

static void config(config_t *c)
{
    config_defaults(c);
    c->url_text = "http://127.0.0.1:8080/";
}

TEST(metrics_buckets_at_the_bounds)
{
    config_t c;
    config(&c);
    stats_t s;
    ASSERT_EQ_INT(stats_init(&s), 0);
    /* below 2048 us every value has its own bucket: 99 < 100 <= 100;
     * 2499 < 2500 = a bucket's start; 24999 shares [24992, 25007] with 25000 */
    uint64_t v[] = { 99, 100, 2499, 2500, 24990, 24999, 10000000, 20000000 };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) hist_record(&s.latency, v[i]);
    s.requests = 8;
    s.status[200] = 8;
    char *m = render(&c, &s, 0);
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.0001\"} 1\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.00025\"} 2\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.0025\"} 3\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.005\"} 4\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.01\"} 4\n"));
    /* 24990 is in a bucket wholly below 25 ms; 24999's bucket straddles it */
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.025\"} 5\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"0.05\"} 6\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"5\"} 6\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"10\"} 6\n")); /* 10 s is not below 10 s */
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_bucket{le=\"+Inf\"} 8\n"));
    ASSERT(strstr(m, "barrage_http_req_duration_seconds_count 8\n"));
    ASSERT(strstr(m, "barrage_http_reqs_total 8\n"));
    ASSERT(strstr(m, "barrage_http_responses_total{code=\"200\"} 8\n"));
    ASSERT(strstr(m, "barrage_running 1\n"));
    ASSERT(!strstr(m, "barrage_data_received_bytes_total")); /* final only */
    ASSERT(!strstr(m, "barrage_rate_target_per_second"));
    free(m);
    stats_free(&s);
}

TEST(metrics_names_escaped_and_final_only_parts)
{
    config_t c;
    config(&c);
    c.rate = 250;
    stats_t s;
    ASSERT_EQ_INT(stats_init(&s), 0);
    int k = stats_named_index(&s, "say \"hi\"\\\nnow");
    s.named[k].requests = 4;
    s.named[k].failures = 1;
    hist_record(&s.named[k].latency, 1000);
    s.bytes = 1234;
    k = stats_named_index(&s, "caf\xc3\xa9 \xff\xc3");
    s.named[k].requests = 1;
    char *m = render(&c, &s, 0);
    ASSERT(strstr(m, "barrage_http_reqs_by_name_total{name=\"caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd\"} 1\n"));
    ASSERT(strstr(m, "barrage_http_reqs_by_name_total{name=\"say \\\"hi\\\"\\\\\\nnow\"} 4\n"));
    ASSERT(strstr(m, "barrage_http_req_failed_by_name_total{name=\"say \\\"hi\\\"\\\\\\nnow\"} 1\n"));
    ASSERT(!strstr(m, "by_name_seconds")); /* per-name latency: final only */
    ASSERT(strstr(m, "barrage_rate_target_per_second 250\n"));
    free(m);
    m = render(&c, &s, 1);
    ASSERT(strstr(m, "barrage_http_req_duration_by_name_seconds_count{name=\"say \\\"hi\\\"\\\\\\nnow\"} 1\n"));
    ASSERT(strstr(m, "barrage_data_received_bytes_total 1234\n"));
    ASSERT(strstr(m, "barrage_running 0\n"));
    free(m);
    stats_free(&s);
}

TEST(metrics_push_path)
{
    config_t c;
    config(&c);
    char buf[256];
    ASSERT_EQ_INT(metrics_push_path(&c, "/", buf, sizeof buf), 0);
    ASSERT_EQ_STR(buf, "/metrics/job/barrage");
    ASSERT_EQ_INT(metrics_push_path(&c, "/gw//", buf, sizeof buf), 0);
    ASSERT_EQ_STR(buf, "/gw/metrics/job/barrage");
    ASSERT_EQ_INT(metrics_push_path(&c, "/metrics/job/nightly/env/ci", buf, sizeof buf), 0);
    ASSERT_EQ_STR(buf, "/metrics/job/nightly/env/ci");
    c.shard_count = 3;
    c.shard_index = 2;
    ASSERT_EQ_INT(metrics_push_path(&c, "/", buf, sizeof buf), 0);
    ASSERT_EQ_STR(buf, "/metrics/job/barrage/instance/shard-2");
    ASSERT_EQ_INT(metrics_push_path(&c, "/", buf, 10), -1);
}
