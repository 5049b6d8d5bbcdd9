/* script_done.c - done(summary, latency, requests) in the main state, after
 * the run: the summary table (counts, status codes, errors, per-name stats,
 * checks) and the statistics objects of script_api.c. */
#include "script_internal.h"

#include <string.h>

#include <lua.h>

static int has_done_glue(script_t *s, void *arg)
{
    *(int *)arg = script_is_function(s->L, "done");
    return 0;
}

int script_has_done(script_t *s)
{
    int has = 0;
    /* a _G whose __index raises: the error then shows in script_done() */
    if (script_guard(s, has_done_glue, &has, "done()")) return 1;
    return has;
}

static void set_number(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

typedef struct done_args { const stats_t *t; uint64_t duration_us; } done_args_t;

static int done_glue(script_t *s, void *arg)
{
    const stats_t *t = ((done_args_t *)arg)->t;
    uint64_t duration_us = ((done_args_t *)arg)->duration_us;
    lua_State *L = s->L;
    script_raw_global(L, "done");
    if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return 0; }
    lua_newtable(L);
    set_number(L, "duration", (double)duration_us);
    set_number(L, "requests", (double)t->requests);
    set_number(L, "bytes", (double)t->bytes);
    set_number(L, "failed", (double)stats_failed(t));
    lua_newtable(L); /* status: responses by status code */
    for (uint32_t i = 0; i < STATS_STATUS_MAX; i++)
        if (t->status[i]) { lua_pushnumber(L, (double)t->status[i]); lua_rawseti(L, -2, (int)i); }
    lua_setfield(L, -2, "status");
    lua_newtable(L);
    set_number(L, "connect", (double)t->errors.connect);
    set_number(L, "read", (double)t->errors.read);
    set_number(L, "write", (double)t->errors.write);
    set_number(L, "status", (double)t->errors.status);
    set_number(L, "timeout", (double)t->errors.timeout);
    set_number(L, "parse", (double)t->errors.parse);
    lua_setfield(L, -2, "errors");
    lua_newtable(L); /* names: Locust-style per-name stats, each name over all its methods */
    for (size_t i = 0; i < t->nnamed; i++) {
        size_t j = 0;
        while (j < i && strcmp(t->named[j].name, t->named[i].name)) j++;
        if (j < i) continue; /* summed with its first entry */
        stats_named_t scratch;
        scratch.latency.counts = NULL;
        const stats_named_t *n = stats_named_sum(t, t->named[i].name, &scratch);
        if (!n) return script_errorf(s, "out of memory building the summary of done()");
        lua_newtable(L);
        set_number(L, "requests", (double)n->requests);
        set_number(L, "failures", (double)n->failures);
        set_number(L, "rps", duration_us ? (double)n->requests * 1e6 / (double)duration_us : 0);
        script_push_stats(L, &n->latency);
        lua_setfield(L, -2, "latency");
        lua_newtable(L); /* failure_reasons: reason -> count, over the name's methods */
        for (size_t k = i; k < t->nnamed; k++) {
            const stats_named_t *e = &t->named[k];
            if (strcmp(e->name, t->named[i].name)) continue;
            for (uint32_t q = 0; q < e->nreasons; q++) {
                lua_getfield(L, -1, e->reasons[q].reason);
                double before = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
                lua_pop(L, 1);
                lua_pushnumber(L, before + (double)e->reasons[q].count);
                lua_setfield(L, -2, e->reasons[q].reason);
            }
        }
        lua_setfield(L, -2, "failure_reasons");
        lua_setfield(L, -2, t->named[i].name);
        if (scratch.latency.counts) hist_free(&scratch.latency);
    }
    lua_setfield(L, -2, "names");
    lua_newtable(L);
    for (size_t i = 0; i < t->nchecks; i++) {
        lua_newtable(L);
        set_number(L, "pass", (double)t->checks[i].pass);
        set_number(L, "fail", (double)t->checks[i].fail);
        lua_setfield(L, -2, t->checks[i].name);
    }
    lua_setfield(L, -2, "checks");
    script_push_stats(L, &t->latency);
    script_push_stats(L, &t->rate);
    return script_pcall(s, 3, 0, "done()");
}

int script_done(script_t *s, const stats_t *t, uint64_t duration_us)
{
    s->stats = NULL;
    done_args_t a = { t, duration_us };
    return script_guard(s, done_glue, &a, "done()");
}
