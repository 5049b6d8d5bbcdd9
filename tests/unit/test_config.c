/* Unit tests: durations, counts, URLs and option parsing. */
#include "config.h"
#include "units.h"
#include "test.h"

#include <stdint.h>

TEST(config_duration)
{
    uint64_t ns;
    ASSERT(units_parse_duration("10s", &ns) == 0); ASSERT_EQ_INT(ns, 10000000000ULL);
    ASSERT(units_parse_duration("10", &ns) == 0);  ASSERT_EQ_INT(ns, 10000000000ULL);
    ASSERT(units_parse_duration("2m", &ns) == 0);  ASSERT_EQ_INT(ns, 120000000000ULL);
    ASSERT(units_parse_duration("1h", &ns) == 0);  ASSERT_EQ_INT(ns, 3600000000000ULL);
    ASSERT(units_parse_duration("250ms", &ns) == 0); ASSERT_EQ_INT(ns, 250000000ULL);
    ASSERT(units_parse_duration("100us", &ns) == 0); ASSERT_EQ_INT(ns, 100000ULL);
    ASSERT(units_parse_duration("1.5s", &ns) == 0); ASSERT_EQ_INT(ns, 1500000000ULL);
    ASSERT(units_parse_duration("", &ns) == -1);
    ASSERT(units_parse_duration("s", &ns) == -1);
    ASSERT(units_parse_duration("10x", &ns) == -1);
    ASSERT(units_parse_duration("-1s", &ns) == -1);
    ASSERT(units_parse_duration("10 s", &ns) == -1);
    ASSERT(units_parse_duration("1e30h", &ns) == -1);
}

TEST(config_count)
{
    uint64_t n;
    ASSERT(units_parse_count("100", &n) == 0); ASSERT_EQ_INT(n, 100);
    ASSERT(units_parse_count("10k", &n) == 0); ASSERT_EQ_INT(n, 10000);
    ASSERT(units_parse_count("2M", &n) == 0);  ASSERT_EQ_INT(n, 2000000);
    ASSERT(units_parse_count("1G", &n) == 0);  ASSERT_EQ_INT(n, 1000000000);
    ASSERT(units_parse_count("", &n) == -1);
    ASSERT(units_parse_count("-5", &n) == -1);
    ASSERT(units_parse_count("5x", &n) == -1);
    ASSERT(units_parse_count("99999999999999999999", &n) == -1);
    ASSERT(units_parse_count("99999999999999999G", &n) == -1);
}

TEST(config_url_forms)
{
    config_url_t u;
    char err[256];
    ASSERT(config_parse_url("http://127.0.0.1:8080/health?x=1#frag", &u, err, sizeof err) == 0);
    ASSERT_EQ_STR(u.scheme, "http"); ASSERT_EQ_STR(u.host, "127.0.0.1");
    ASSERT_EQ_STR(u.port, "8080"); ASSERT_EQ_STR(u.path, "/health?x=1");
    ASSERT_EQ_INT(u.default_port, 0);
    config_url_free(&u);
    ASSERT(config_parse_url("http://localhost", &u, err, sizeof err) == 0);
    ASSERT_EQ_STR(u.port, "80"); ASSERT_EQ_STR(u.path, "/"); ASSERT_EQ_INT(u.default_port, 1);
    config_url_free(&u);
    ASSERT(config_parse_url("https://example.test/a", &u, err, sizeof err) == 0);
    ASSERT_EQ_STR(u.port, "443"); ASSERT_EQ_STR(u.scheme, "https");
    config_url_free(&u);
    ASSERT(config_parse_url("http://[::1]:9000/x", &u, err, sizeof err) == 0);
    ASSERT_EQ_STR(u.host, "::1"); ASSERT_EQ_STR(u.port, "9000"); ASSERT_EQ_INT(u.is_ipv6, 1);
    config_url_free(&u);
    ASSERT(config_parse_url("http://h?q", &u, err, sizeof err) == 0);
    ASSERT_EQ_STR(u.path, "/?q");
    config_url_free(&u);
}

TEST(config_url_errors)
{
    config_url_t u;
    char err[256];
    const char *bad[] = { "127.0.0.1:8080", "ftp://x/", "http://", "http://:80/", "http://h:0/",
                          "http://h:70000/", "http://h:/", "http://h:8x/", "http://[::1/",
                          "http://u:p@h/", "http://h/a b", "http://h h/", "http://[::1]x/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (config_parse_url(bad[i], &u, err, sizeof err) != -1) {
            fprintf(stderr, "    accepted bad URL %s\n", bad[i]);
            ASSERT(0);
        }
        ASSERT(strstr(err, "URL") != NULL);
        ASSERT(strchr(err, '\n') == NULL);
    }
}

static int parse(config_t *c, char *err, size_t n, int argc, char **argv)
{
    config_defaults(c);
    return config_parse(c, argc, argv, err, n);
}

TEST(config_options)
{
    config_t c;
    char err[256];
    char *argv[] = { "barrage", "-t4", "-c", "100", "--duration=2m", "-H", "X-A: 1",
                     "--header", "X-B: 2", "--latency", "-n", "5k", "--timeout", "500ms",
                     "-m", "POST", "--body", "hello", "--no-pin", "http://127.0.0.1:1/p",
                     "--", "a", "-b" };
    ASSERT(parse(&c, err, sizeof err, 23, argv) == 0);
    ASSERT_EQ_INT(c.threads, 4); ASSERT_EQ_INT(c.connections, 100);
    ASSERT_EQ_INT(c.duration_ns, 120000000000ULL); ASSERT_EQ_INT(c.duration_set, 1);
    ASSERT_EQ_INT(c.nheaders, 2); ASSERT_EQ_STR(c.headers[1], "X-B: 2");
    ASSERT_EQ_INT(c.latency, 1); ASSERT_EQ_INT(c.requests, 5000);
    ASSERT_EQ_INT(c.timeout_ns, 500000000ULL); ASSERT_EQ_STR(c.method, "POST");
    ASSERT_EQ_INT(c.body_len, 5); ASSERT_EQ_INT(c.pin, 0);
    ASSERT_EQ_INT(c.nscript_args, 2); ASSERT_EQ_STR(c.script_args[1], "-b");
    ASSERT_EQ_STR(c.url.path, "/p");
    config_free(&c);

    char *defaults[] = { "barrage", "http://h/" };
    ASSERT(parse(&c, err, sizeof err, 2, defaults) == 0);
    ASSERT_EQ_INT(c.threads, 2); ASSERT_EQ_INT(c.connections, 10);
    ASSERT_EQ_INT(c.duration_ns, 10000000000ULL); ASSERT_EQ_INT(c.timeout_ns, 2000000000ULL);
    ASSERT_EQ_INT(c.pin, 1); ASSERT_EQ_STR(c.method, "GET"); ASSERT_EQ_INT(c.requests, 0);
    config_free(&c);
}

TEST(config_option_errors)
{
    struct { int argc; char *argv[6]; const char *needle; } cases[] = {
        { 3, { "barrage", "--frobnicate", "http://h/" }, "unknown option '--frobnicate'" },
        { 3, { "barrage", "-x", "http://h/" }, "unknown option '-x'" },
        { 4, { "barrage", "-c", "0", "http://h/" }, "connections" },
        { 4, { "barrage", "-c", "abc", "http://h/" }, "connections" },
        { 6, { "barrage", "-c", "2", "-t", "4", "http://h/" }, "-c >= -t" },
        { 4, { "barrage", "-d", "ten", "http://h/" }, "duration" },
        { 4, { "barrage", "--timeout", "0", "http://h/" }, "timeout" },
        { 4, { "barrage", "-H", "nocolon", "http://h/" }, "header" },
        { 2, { "barrage", "-c" }, "needs a value" },
        { 1, { "barrage" }, "no URL" },
        { 3, { "barrage", "http://a/", "http://b/" }, "exactly one URL" },
        { 3, { "barrage", "--latency=1", "http://h/" }, "takes no value" },
        { 4, { "barrage", "--body-file", "/nonexistent/file", "http://h/" }, "cannot open" },
        { 4, { "barrage", "-m", "get", "http://h/" }, "method" },
        { 2, { "barrage", "not-a-url" }, "URL" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_t c;
        char err[256] = "";
        int rc = parse(&c, err, sizeof err, cases[i].argc, cases[i].argv);
        config_free(&c);
        if (rc != -1 || !strstr(err, cases[i].needle)) {
            fprintf(stderr, "    case %zu: rc=%d err='%s' (wanted '%s')\n", i, rc, err, cases[i].needle);
            ASSERT(0);
        }
    }
}
