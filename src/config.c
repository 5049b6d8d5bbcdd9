/* config.c - the configuration's life: defaults, the argv walk (written by
 * hand instead of with getopt_long so that every mistake gets barrage's own
 * one-line message), the checks and derived values of config_finish (Locust's
 * schedule, shard shares, stages), and freeing it. Each option's value is
 * parsed in config_options.c, a script's options in config_script.c. */
#include "config_internal.h"
#include "seed.h"
#include "units.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S UINT64_C(1000000000)

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof *c);
    c->connections = 10;
    c->threads = 2;
    c->duration_ns = 10 * NS_PER_S;
    c->timeout_ns = 2 * NS_PER_S;
    c->pin = 1;
    c->method = "GET";
    c->tls_resume = 1;
    c->keepalive = 1;
    c->shard_count = 1;
    c->max_exceptions = UINT64_MAX;
    stats_expect_default(&c->expect);
}

int config_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int config_parse(config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    if (config_parse_args(c, argc, argv, err, errlen)) return -1;
    if (c->show_help || c->show_version) return 0;
    return config_finish(c, err, errlen);
}

/* An option barrage does not have; Locust's and k6's own get barrage's word for them. */
static int unknown_option(const char *name, char *err, size_t errlen)
{
    static const char script[] = "a script is -s FILE.lua (a locustfile ports line by line: README \"Coming from Locust / k6\")";
    static const struct { const char *opt, *hint; } other[] = {
        { "--host", "the target is the URL argument, as in wrk: barrage [options] http://host:port/path" },
        { "-f", script },
        { "--locustfile", script },
        { "--vus", "users are connections: -c N (or --users N)" },
        { "--iterations", "a request count is -n N" },
        { "--stop-timeout", "at the end every user's on_stop gets a fixed 0.5 s grace" },
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (!strcmp(name, other[i].opt))
            return config_fail(err, errlen, "unknown option '%s': %s", name, other[i].hint);
    return config_fail(err, errlen, "unknown option '%s' (see barrage --help)", name);
}

int config_parse_args(config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                if (config_push(&c->script_args, &c->nscript_args, argv[i]))
                    return config_fail(err, errlen, "out of memory");
            break;
        }
        if (a[0] != '-' || !a[1]) {
            if (url) return config_fail(err, errlen, "unexpected argument '%s': give exactly one URL (see barrage --help)", a);
            url = a;
            continue;
        }
        const struct config_opt *o = NULL;
        const char *val = NULL;
        char name[64];
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (size_t k = 0; k < config_nopts; k++)
                if (strlen(config_opts[k].lname) == n && !strncmp(config_opts[k].lname, a + 2, n)) o = &config_opts[k];
            snprintf(name, sizeof name, "--%.*s", (int)(n > 40 ? 40 : n), a + 2);
            if (!o) return unknown_option(name, err, errlen);
            if (eq) {
                if (!o->has_arg) return config_fail(err, errlen, "%s takes no value", name);
                val = eq + 1;
            }
        } else {
            for (size_t k = 0; k < config_nopts; k++)
                if (config_opts[k].sname == a[1]) o = &config_opts[k];
            snprintf(name, sizeof name, "-%c", a[1]);
            if (!o) return unknown_option(name, err, errlen);
            if (a[2]) {
                if (!o->has_arg) return config_fail(err, errlen, "unknown option '%s' (see barrage --help)", a);
                val = a + 2;
            }
        }
        if (o->has_arg && !val) {
            if (i + 1 >= argc) return config_fail(err, errlen, "%s needs a value (see barrage --help)", name);
            val = argv[++i];
        }
        if (config_apply_option(c, o, name, val, err, errlen)) return -1;
        c->given |= BIT(o->id);
    }
    if (c->show_help || c->show_version) return 0;
    if (!url) return config_fail(err, errlen, "no URL given (usage: barrage [options] http://host:port/path)");
    c->url_text = url;
    return config_parse_url(url, &c->url, err, errlen);
}

/* Locust's --users/--spawn-rate/--run-time onto -c, stages and -d. */
static int locust_schedule(config_t *c, char *err, size_t errlen)
{
    uint64_t set = c->given | c->from_script;
    if ((set & BIT(OPT_RUN_TIME)) && (set & BIT(OPT_DURATION)))
        return config_fail(err, errlen, "--run-time and -d both set the duration: give one");
    if (c->users) {
        if (set & BIT(OPT_CONNECTIONS))
            return config_fail(err, errlen, "--users and -c both set the number of connections (one per user): give one");
        c->connections = c->users;
    }
    if (!c->spawn_rate) return 0;
    if (c->stages.n)
        return config_fail(err, errlen, "--spawn-rate and --stages both set the ramp: give one (--spawn-rate R ramps 0 to --users N at R per second)");
    if (c->rate > 0)
        return config_fail(err, errlen, "--spawn-rate ramps users, not a rate: with -R use --stages for a rate ramp");
    if (!(set & (BIT(OPT_USERS) | BIT(OPT_CONNECTIONS))))
        return config_fail(err, errlen, "--spawn-rate needs --users N (the number of users to ramp up to)");
    /* users grow by R per second from 0 to N, then N until the end; user k
     * starts at (k-1)/R s, the first at once, as Locust starts them (spawn) */
    c->stages.spawn = 1;
    double n = (double)c->connections, total_s = (double)c->duration_ns / 1e9;
    double ramp_s = n / c->spawn_rate;
    if (ramp_s >= total_s) { /* the run ends while still spawning */
        c->stages.n = 1;
        c->stages.dur_ns[0] = c->duration_ns;
        c->stages.target[0] = c->spawn_rate * total_s;
    } else {
        uint64_t ramp_ns = (uint64_t)(ramp_s * 1e9 + 0.5);
        c->stages.n = 2;
        c->stages.dur_ns[0] = ramp_ns;
        c->stages.target[0] = n;
        c->stages.dur_ns[1] = c->duration_ns - ramp_ns;
        c->stages.target[1] = n;
        if (!c->stages.dur_ns[0]) { /* so fast it is no ramp */
            c->stages.n = 1;
            c->stages.dur_ns[0] = c->duration_ns;
            c->stages.target[0] = n;
        }
    }
    c->duration_set = 0; /* the stages carry it now */
    return 0;
}

int config_finish(config_t *c, char *err, size_t errlen)
{
    if (!c->seed_given) c->seed = seed_random(); /* recorded in --json, so a run can be repeated */
    if (!c->connect_timeout_ns) c->connect_timeout_ns = c->timeout_ns;
    if (locust_schedule(c, err, errlen)) return -1;
    c->users_total = c->connections; /* before a shard takes its share */
    if (c->shard_count > 1) { /* this shard's share; remainders go to the first shards */
        uint64_t i = c->shard_index, n = c->shard_count;
        if (c->requests) {
            c->requests = units_share(c->requests, n, i);
            if (!c->requests)
                return config_fail(err, errlen, "-n is smaller than the number of shards: shard %llu would have no requests",
                            (unsigned long long)i);
        }
        c->rate /= (double)n;
        if (!c->stages.n) {
            uint64_t total = c->connections;
            c->connections = units_share(total, n, i);
            if (!c->connections)
                return config_fail(err, errlen, "%llu connections cannot be spread over %llu shards: use at least one per shard",
                            (unsigned long long)total, (unsigned long long)n);
            if (c->connections < c->threads) c->threads = c->connections;
        }
    }
    if (c->web_linger_ns && !c->web)
        return config_fail(err, errlen, "--web-linger keeps the --web dashboard up after the run: add --web PORT (or drop --web-linger)");
    if (c->stages.n) {
        if ((c->from_script & BIT(OPT_STAGES)) && (c->from_script & (BIT(OPT_DURATION) | BIT(OPT_RUN_TIME))))
            return config_fail(err, errlen, "options: stages set the duration: drop duration (or stages)");
        if (c->duration_set)
            return config_fail(err, errlen, "--stages sets the duration: drop -d (or drop --stages)");
        c->duration_ns = rate_stages_total(&c->stages);
        c->duration_set = 1;
        if (!c->rate) { /* stages ramp connections: -c is their maximum */
            uint64_t total = rate_stages_count_max(&c->stages), n = c->shard_count;
            if (!total) return config_fail(err, errlen, "--stages: every target is 0 connections");
            c->users_total = total;
            c->connections = units_share(total, n, c->shard_index);
            if (!c->connections)
                return config_fail(err, errlen, "--stages: a peak of %llu connections leaves shard %u without any",
                            (unsigned long long)total, c->shard_index);
            if (c->connections < c->threads) c->threads = c->connections;
        }
    }
    if (c->stream_path && !strcmp(c->stream_path, "-") && c->json_path && !strcmp(c->json_path, "-"))
        return config_fail(err, errlen, "--stream - and --json - both want stdout: write one of them to a file");
    if (c->requests && !c->duration_set && !(c->given & BIT(OPT_MAX_EXCEPTIONS)) &&
        !(c->from_script & BIT(OPT_MAX_EXCEPTIONS))) { /* only -n ends it: users that only fail must not hang it */
        c->max_exceptions = c->requests;
        c->max_exceptions_untimed = 1;
    }
    if (c->users_total < c->connections) c->users_total = c->connections; /* -R stages: not split */
    for (uint32_t j = 0; j < c->shard_index && c->shard_count > 1; j++)
        c->users_offset += units_share(c->users_total, c->shard_count, j);
    if (c->connections < c->threads)
        return config_fail(err, errlen, "%llu connections cannot be spread over %llu threads: use at least as many connections as threads (-c >= -t)",
                    (unsigned long long)c->connections, (unsigned long long)c->threads);
    return 0;
}

void config_free(config_t *c)
{
    config_url_free(&c->url);
    free(c->body);
    free(c->headers);
    free(c->script_args);
    free(c->thresholds);
    free(c->threshold_abort);
    for (size_t i = 0; i < c->nowned; i++) free(c->owned[i]);
    free(c->owned);
    free(c->monitors);
    memset(c, 0, sizeof *c);
}
