/* config_script.c - a script's `options` table onto the config: its keys
 * (k6's, barrage's, Locust's), their types, and the rule that the command
 * line wins (thresholds add up). Each value goes through the option's own
 * parser (config_apply_option). */
#include "config_internal.h"
#include "threshold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A script's `options` table: k6's names, barrage's own (its long options
 * with '_' for '-') and Locust's. */
static const struct script_key {
    const char *key;
    enum opt_id id;
    int boolean;   /* true/false; `negate`: false turns the option on */
    int negate;
} script_keys[] = {
    { "vus", OPT_CONNECTIONS, 0, 0 },        { "connections", OPT_CONNECTIONS, 0, 0 },
    { "users", OPT_USERS, 0, 0 },            { "spawn_rate", OPT_SPAWN_RATE, 0, 0 },
    { "threads", OPT_THREADS, 0, 0 },        { "duration", OPT_DURATION, 0, 0 },
    { "run_time", OPT_RUN_TIME, 0, 0 },      { "stages", OPT_STAGES, 0, 0 },
    { "thresholds", OPT_THRESHOLD, 0, 0 },   { "rate", OPT_RATE, 0, 0 },
    { "requests", OPT_REQUESTS, 0, 0 },      { "timeout", OPT_TIMEOUT, 0, 0 },
    { "connect_timeout", OPT_CONNECT_TIMEOUT, 0, 0 }, { "expect_status", OPT_EXPECT_STATUS, 0, 0 },
    { "abort_on_fail", OPT_ABORT_ON_FAIL, 1, 0 }, { "latency", OPT_LATENCY, 1, 0 },
    { "insecure", OPT_INSECURE, 1, 0 },      { "insecureSkipTLSVerify", OPT_INSECURE, 1, 0 },
    { "keepalive", OPT_NO_KEEPALIVE, 1, 1 }, { "noConnectionReuse", OPT_NO_KEEPALIVE, 1, 0 },
    { "method", OPT_METHOD, 0, 0 },          { "body", OPT_BODY, 0, 0 },
};

const char *config_script_keys(void)
{
    return "vus/connections, duration, stages, thresholds, rate, requests, threads, timeout, connect_timeout, "
           "expect_status, abort_on_fail, latency, insecure/insecureSkipTLSVerify, keepalive/noConnectionReuse, "
           "method, body, users, spawn_rate, run_time";
}

/* The options of one meaning: the command line giving any of them replaces
 * the script's. Stages also yield to -c/--users and -R (they would
 * change what their targets mean or overrule the count). */
static uint64_t script_group(enum opt_id id)
{
    const uint64_t schedule = BIT(OPT_DURATION) | BIT(OPT_RUN_TIME) | BIT(OPT_STAGES) | BIT(OPT_SPAWN_RATE);
    switch (id) {
    case OPT_CONNECTIONS: case OPT_USERS: return BIT(OPT_CONNECTIONS) | BIT(OPT_USERS);
    case OPT_DURATION: case OPT_RUN_TIME: case OPT_SPAWN_RATE: return schedule;
    case OPT_STAGES: return schedule | BIT(OPT_CONNECTIONS) | BIT(OPT_USERS) | BIT(OPT_RATE);
    case OPT_BODY: return BIT(OPT_BODY) | BIT(OPT_BODY_FILE);
    default: return BIT(id);
    }
}

int config_apply_script(config_t *c, const char *key, const char *value, config_value_kind_t kind,
                        char *err, size_t errlen)
{
    char name[96];
    snprintf(name, sizeof name, "options.%.60s", key);
    const struct script_key *k = NULL;
    for (size_t i = 0; i < sizeof script_keys / sizeof script_keys[0]; i++)
        if (!strcmp(script_keys[i].key, key)) k = &script_keys[i];
    if (!k) {
        if (!strcmp(key, "iterations"))
            return config_fail(err, errlen, "%s: k6's shared iterations are not supported (use requests = N for a number of requests, or a duration)", name);
        if (!strcmp(key, "rps"))
            return config_fail(err, errlen, "%s: k6's rps is a cap; barrage's rate = N sends N requests/s at a constant rate (use rate)", name);
        if (!strcmp(key, "scenarios") || !strcmp(key, "executor"))
            return config_fail(err, errlen, "%s: k6's scenarios are not supported (use stages, or barrage.user{} classes)", name);
        return config_fail(err, errlen, "options: unknown key '%.60s' (use %s)", key, config_script_keys());
    }
    const struct config_opt *o = NULL;
    for (size_t i = 0; i < config_nopts; i++)
        if (config_opts[i].id == k->id) o = &config_opts[i];
    if (k->boolean != (kind == CONFIG_VALUE_BOOLEAN))
        return config_fail(err, errlen, "%s: expected %s, got %s%.40s%s", name,
                    k->boolean ? "true or false" : k->id == OPT_THRESHOLD ? "a table of expressions" : "a string or a number",
                    kind == CONFIG_VALUE_BOOLEAN ? "a boolean" : "'", kind == CONFIG_VALUE_BOOLEAN ? "" : value,
                    kind == CONFIG_VALUE_BOOLEAN ? "" : "'");
    if ((kind == CONFIG_VALUE_THRESHOLD || kind == CONFIG_VALUE_ABORT) != (k->id == OPT_THRESHOLD))
        return config_fail(err, errlen, "%s: expected a table of threshold expressions, e.g. thresholds = { http_req_duration = {\"p(95)<500\"} }", name);
    if (kind == CONFIG_VALUE_STAGES && k->id != OPT_STAGES)
        return config_fail(err, errlen, "%s: expected a string or a number, got a table", name);
    /* the command line wins; thresholds add up (a gate never disappears) */
    if (k->id != OPT_THRESHOLD && (c->given & script_group(k->id))) return 0;
    if (k->boolean) {
        if (strcmp(value, "true") == (k->negate ? 0 : 1)) return 0;  /* the default */
        if (config_apply_option(c, o, name, NULL, err, errlen)) return -1;
        c->from_script |= BIT(k->id);
        return 0;
    }
    char **owned = realloc(c->owned, (c->nowned + 1) * sizeof *owned);
    if (!owned) return config_fail(err, errlen, "out of memory");
    c->owned = owned;
    if (!(owned[c->nowned] = strdup(value))) return config_fail(err, errlen, "out of memory");
    const char *v = owned[c->nowned++];
    if (k->id == OPT_THRESHOLD) {
        char terr[480];
        if (threshold_parse(v, NULL, terr, sizeof terr)) /* "--threshold 'EXPR': why" */
            return config_fail(err, errlen, "options.thresholds%s", terr + strlen("--threshold"));
        if (config_push_threshold(c, v, kind == CONFIG_VALUE_ABORT)) return config_fail(err, errlen, "out of memory");
    } else if (config_apply_option(c, o, name, v, err, errlen)) {
        return -1;
    }
    c->from_script |= BIT(k->id);
    return 0;
}

void config_script_sources(const config_t *c, void (*fn)(void *ctx, const char *name), void *ctx)
{
    for (size_t i = 0; i < config_nopts; i++)
        if (c->from_script & BIT(config_opts[i].id)) fn(ctx, config_opts[i].lname);
}
