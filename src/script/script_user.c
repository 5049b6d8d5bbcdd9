/* script_user.c - virtual users (user(u) or barrage.user{} classes): each
 * connection's user is a coroutine (barrage.lua's _user_resume), stepped
 * with each response and failure, that yields its next request, a wait, an
 * exception (counted; the user goes on after a back-off) or its end after
 * on_stop; waits and delay() are the connection's timer. Also the user's
 * life around it: its run-wide id and class, stopping (stages ramping down,
 * the end of the run). */
#include "script_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "units.h"

void script_on_timer(loop_timer_t *tm)
{
    sconn_t *sc = (sconn_t *)((char *)tm - offsetof(sconn_t, timer));
    sc->waiting = 0;
    conn_resume(sc->c);
}

/* Longer waits than this (about 3 years, math.huge included) mean "for the
 * rest of the run"; below it, ms * 1e6 ns fits a uint64_t with room. */
#define WAIT_FOREVER_MS 1e11

/* Wait ms before the connection goes on: NaN or a negative wait is a script
 * error, one past WAIT_FOREVER_MS lasts until the run ends (an error when
 * nothing but -n ends it). */
int script_wait_ms(sconn_t *sc, double ms, const char *hook)
{
    script_t *s = sc->s;
    if (ms != ms || ms < 0)
        return script_errorf(s, "%s waits %g ms: a wait must be a number of milliseconds >= 0 (in %s)", hook, ms, hook);
    if (ms >= WAIT_FOREVER_MS) {
        if (!s->timed)
            return script_errorf(s, "%s waits %g ms, which with -n and no -d would never end: give -d or a shorter wait (in %s)",
                                hook, ms, hook);
        sc->waiting = 1; /* no timer: the end of the run stops the thread */
        return CONN_NEXT_WAIT;
    }
    uint64_t when = loop_now() + (uint64_t)(ms * 1e6);
    if (loop_timer_start(sc->s->loop, &sc->timer, when)) return -ENOMEM;
    sc->waiting = 1;
    return CONN_NEXT_WAIT;
}

/* An exception in the user's code: counted by (message, location) in the
 * thread's stats and run-wide against --max-exceptions (past it the run
 * ends with the error); then the user waits backoff ms and starts a new
 * iteration, or (backoff < 0: in on_stop) ends. */
/* The hook a virtual user's error names: what barrage.lua set as u._in
 * ("on_start of class Shopper", ...), else "user()". Reads the user table
 * raw (no __index runs) with a key the Lua code already interned. */
static const char *user_hook(sconn_t *sc, char *buf, size_t n)
{
    lua_State *L = sc->s->L;
    snprintf(buf, n, "user()");
    if (sc->user_ref == LUA_NOREF || !lua_checkstack(L, 2)) return buf;
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->user_ref);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushliteral(L, "_in");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) snprintf(buf, n, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return buf;
}

#define EXCEPTIONS_DISTINCT_MAX 200 /* per thread; more are counted under one entry */

static int user_exception(sconn_t *sc, const char *msg, const char *where, double backoff)
{
    script_t *s = sc->s;
    const stats_t *st = s->stats;
    if (st->nexceptions >= EXCEPTIONS_DISTINCT_MAX) { /* a message with an id in it: do not grow without end */
        size_t i = 0;
        while (i < st->nexceptions && (strcmp(st->exceptions[i].message, msg) || strcmp(st->exceptions[i].location, where)))
            i++;
        if (i == st->nexceptions) msg = "(other messages: more than 200 distinct exceptions in this thread)", where = "?";
    }
    if (stats_exception_add(s->stats, msg, where, 1)) return -ENOMEM;
    uint64_t seen = __atomic_add_fetch(s->thread ? &s->thread->main->exceptions_seen : &s->exceptions_seen, 1,
                                       __ATOMIC_SEQ_CST);
    char hook[128];
    if (seen > s->max_exceptions && s->max_exceptions_untimed)
        return script_errorf(s, "%s: %s (in %s); more exceptions than the -n %" PRIu64 " requests of a run "
                             "without a duration: the run stops (bound it with -d, or set --max-exceptions)",
                             where, msg, user_hook(sc, hook, sizeof hook), s->max_exceptions);
    if (seen > s->max_exceptions)
        return script_errorf(s, "%s: %s (in %s); more than --max-exceptions %" PRIu64 " exceptions: the run stops",
                             where, msg, user_hook(sc, hook, sizeof hook), s->max_exceptions);
    if (backoff < 0) {
        sc->stop_state = 2;
        return 0;
    }
    return script_wait_ms(sc, backoff, "user()");
}

/* Resume the virtual user with what is on the stack (nargs values) and act
 * on what it yields. */
static int step(sconn_t *sc, int fn_ref, int nargs)
{
    script_t *s = sc->s;
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->user_ref);
    lua_insert(L, base + 1);
    lua_insert(L, base + 1);
    sconn_t *outer = s->cur;
    s->cur = sc;
    sc->cbuilt = 0; /* set again only by this resume's barrage._send */
    int failed = lua_pcall(L, nargs + 1, 4, 1); /* the error handler is at index 1 (script_pcall) */
    s->cur = outer;
    sc->mark_token = 0; /* the user yielded: its last response's accounting is final */
    if (failed) {
        char hook[128];
        return script_fail(s, user_hook(sc, hook, sizeof hook));
    }
    if (lua_type(L, -4) == LUA_TBOOLEAN && sc->cbuilt) { /* barrage._send wrote it: its row, then it goes */
        sc->cbuilt = 0;
        lua_pop(L, 4);
        lua_rawgeti(L, LUA_REGISTRYINDEX, sc->name_is_text ? sc->name_ref : sc->name_text_ref);
        const char *name = lua_tostring(L, -1);
        int idx = stats_named_key(s->stats, sc->req_method, name ? name : "?");
        lua_pop(L, 1);
        if (idx < 0) return -ENOMEM;
        sc->name = idx;
        sc->pending = 1;
        return 0;
    }
    const char *kind = lua_type(L, -4) == LUA_TSTRING ? lua_tostring(L, -4) : NULL;
    if (kind && !strcmp(kind, "sleep")) {
        double ms = lua_tonumber(L, -3);
        lua_pop(L, 4);
        return script_wait_ms(sc, ms, "u:sleep()");
    }
    if (kind && !strcmp(kind, "exception")) {
        const char *msg = lua_tostring(L, -3), *where = lua_tostring(L, -2);
        int rc = user_exception(sc, msg ? msg : "?", where ? where : "?", lua_tonumber(L, -1));
        lua_pop(L, 4);
        return rc;
    }
    if (kind && !strcmp(kind, "stopped")) {
        lua_pop(L, 4);
        sc->stop_state = 2;
        return 0;
    }
    lua_pop(L, 4);
    return script_errorf(s, "user(u) yielded something unexpected (do not call coroutine.yield in user()) (in user())");
}

int script_user_step(sconn_t *sc, int nargs) { return step(sc, sc->s->resume_ref, nargs); }
int script_user_respond(sconn_t *sc, int nargs) { return step(sc, sc->s->respond_ref, nargs); }

/* The statuses expected of the request the running user is about to make
 * (a spec parsed once and kept while it repeats). */
int script_expect_set(sconn_t *sc, const char *spec, size_t len, char *msg, size_t msglen)
{
    if (!sc->expect_text[0] || strcmp(spec, sc->expect_text)) {
        const char *bad;
        size_t badlen;
        sc->expect_text[0] = 0;
        if (stats_expect_parse(&sc->expect, spec, &bad, &badlen)) {
            sc->c->expect = NULL;
            snprintf(msg, msglen, "u:request: expect: cannot read '%.*s' in '%.80s' as a status or a range "
                     "(use codes 100-999 and ranges, e.g. expect = {200, 429} or expect = \"200-299\")",
                     (int)(badlen > 80 ? 80 : badlen), bad, spec);
            return -1;
        }
        if (len < sizeof sc->expect_text) memcpy(sc->expect_text, spec, len + 1);
    }
    sc->c->expect = &sc->expect;
    return 0;
}

double script_mark_open(sconn_t *sc, int failed, const char *reason)
{
    script_t *s = sc->s;
    sc->mark_token = ++s->tokens;
    sc->mark_name = sc->name;
    sc->mark_failed = (uint8_t)(failed != 0);
    sc->mark_error = reason != NULL;
    sc->mark_has_reason = 0;
    if (!failed || reason) sc->mark_status = 0;
    return sc->mark_token;
}

/* barrage._mark(token, ok, msg): r:success() (ok) or r:failure(msg) on the
 * response with that token, the last call winning. Returns true when the
 * mark applies, false on a failed attempt (status 0: it stays failed), or
 * nil and the error when the response is not open any more. The change goes
 * to the totals, the current second and the name at once: a response stays
 * open only until its user yields, so it is in the second it was counted. */
int script_l_mark(lua_State *L)
{
    script_t *s = lua_touserdata(L, lua_upvalueindex(1)); /* a closure over its state (script_api.c) */
    double token = lua_tonumber(L, 1);
    int ok = lua_toboolean(L, 2);
    sconn_t *sc = s ? s->cur : NULL;
    if (!sc || !sc->mark_token || sc->mark_token != token) {
        lua_pushnil(L);
        lua_pushstring(L, ok ? "r:success(): this response is settled: mark it before the user's next request or sleep"
                             : "r:failure(): this response is settled: mark it before the user's next request or sleep");
        return 2;
    }
    if (sc->mark_error) {
        lua_pushboolean(L, 0);
        return 1;
    }
    stats_t *st = s->stats;
    stats_named_t *n = sc->mark_name >= 0 ? &st->named[sc->mark_name] : NULL;
    if (n && sc->mark_has_reason) {
        (void)stats_reason_add(n, sc->mark_reason, strlen(sc->mark_reason), -1);
        sc->mark_has_reason = 0;
    }
    if (n && sc->mark_status) { /* the mark, not the status, says why from now on */
        stats_named_fail_drop(n, sc->mark_status);
        sc->mark_status = 0;
    }
    if (ok != !sc->mark_failed) {
        if (ok) { st->failed_status--; if (n) n->failures--; }
        else    { st->failed_status++; if (n) n->failures++; }
        sc->mark_failed = (uint8_t)!ok;
    }
    if (!ok && n) {
        size_t len;
        const char *msg = lua_tolstring(L, 3, &len);
        if (!msg) msg = "r:failure()", len = strlen(msg);
        if (len > STATS_REASON_LEN) len = STATS_REASON_LEN;
        memcpy(sc->mark_reason, msg, len);
        sc->mark_reason[len] = 0;
        if (stats_reason_add(n, sc->mark_reason, strlen(sc->mark_reason), 1)) return luaL_error(L, "r:failure(): out of memory");
        sc->mark_has_reason = 1;
    }
    lua_pushboolean(L, 1);
    return 1;
}

void script_user_drop(sconn_t *sc)
{
    script_t *s = sc->s;
    if (sc->waiting) loop_timer_stop(s->loop, &sc->timer);
    sc->waiting = 0;
    sc->pending = 0;
    sc->stop_state = 0;
    if (sc->user_ref != LUA_NOREF) luaL_unref(s->L, LUA_REGISTRYINDEX, sc->user_ref);
    sc->user_ref = LUA_NOREF;
}

static int stop_glue(script_t *s, void *arg)
{
    sconn_t *sc = arg;
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->user_stop_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->user_ref);
    if (script_pcall(s, 1, 1, "on_stop")) return SCRIPT_EFAIL;
    int has = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return has;
}

int script_user_stop(conn_t *c)
{
    sconn_t *sc = c->user;
    if (!sc || sc->s->mode != MODE_USER || sc->user_ref == LUA_NOREF) return CONN_RETIRE;
    if (sc->stop_state == 1 && c->state == CONN_OPEN) return CONN_GO;
    if (sc->stop_state == 0 && c->state == CONN_OPEN && script_guard(sc->s, stop_glue, sc, "on_stop") == 1) {
        /* on_stop runs from the next request on: the wait and the request
         * the user was at are abandoned */
        if (sc->waiting) loop_timer_stop(sc->s->loop, &sc->timer);
        sc->waiting = 0;
        sc->pending = 0;
        sc->stop_state = 1;
        return CONN_GO;
    }
    script_user_drop(sc);
    return CONN_RETIRE;
}

int script_user_mode(const script_t *s) { return s && s->mode == MODE_USER ? 1 + s->has_on_stop : 0; }

typedef struct users_args { uint64_t first, total; } users_args_t;

static int users_glue(script_t *s, void *arg)
{
    users_args_t *a = arg;
    lua_State *L = s->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->class_counts_ref);
    lua_pushnumber(L, (lua_Number)a->first + 1);
    lua_pushnumber(L, (lua_Number)s->nsconns);
    lua_pushnumber(L, (lua_Number)a->total);
    if (script_pcall(s, 3, 1, "barrage.user{}")) return SCRIPT_EFAIL;
    if (!lua_istable(L, -1)) return 0;
    int n = (int)lua_objlen(L, -1);
    for (int i = 1; i + 1 <= n; i += 2) {
        lua_rawgeti(L, -1, i);
        lua_rawgeti(L, -2, i + 1);
        const char *name = lua_tostring(L, -2);
        if (stats_class_add(s->stats, name ? name : "?", (uint64_t)lua_tonumber(L, -1))) return -ENOMEM;
        lua_pop(L, 2);
    }
    return 0;
}

int script_users_init(script_t *s, uint64_t first, uint64_t total)
{
    if (s->mode != MODE_USER) return 0;
    s->gid_base = first;
    s->users_total = total ? total : s->nsconns;
    users_args_t a = { first, s->users_total };
    return script_guard(s, users_glue, &a, "barrage.user{}");
}

/* barrage._duration_ms(text): the duration in ms, or nil. */
static int l_duration_ms(lua_State *L)
{
    uint64_t ns;
    if (units_parse_duration(luaL_checkstring(L, 1), &ns)) return 0;
    lua_pushnumber(L, (lua_Number)ns / 1e6);
    return 1;
}

/* barrage._mono(): the monotonic clock in seconds (constant_pacing). */
static int l_mono(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)loop_now() / 1e9);
    return 1;
}

void script_user_open(lua_State *L)
{
    lua_pushcfunction(L, l_duration_ms);
    lua_setfield(L, -2, "_duration_ms");
    lua_pushcfunction(L, l_mono);
    lua_setfield(L, -2, "_mono");
}
