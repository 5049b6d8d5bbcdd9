/* script_user.c - user() workflows: each connection's virtual user is a
 * coroutine (barrage.lua's _user_resume), stepped with each response and
 * failure, that yields its next request or a wait; waits and delay() are
 * the connection's timer. */
#include "script_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

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

/* Resume the virtual user with what is on the stack (nargs values) and act
 * on what it yields. */
int script_user_step(sconn_t *sc, int nargs)
{
    script_t *s = sc->s;
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->resume_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->user_ref);
    lua_insert(L, base + 1);
    lua_insert(L, base + 1);
    sconn_t *outer = s->cur;
    s->cur = sc;
    int failed = script_pcall(s, nargs + 1, 3, "user()");
    s->cur = outer;
    sc->mark_token = 0; /* the user yielded: its last response's accounting is final */
    if (failed) return SCRIPT_EFAIL;
    const char *kind = lua_tostring(L, -3);
    if (kind && !strcmp(kind, "request")) {
        const char *name = lua_tostring(L, -1);
        /* the method is the request's first word: rows are keyed by (method, name) as Locust's */
        size_t rl = 0;
        const char *req = lua_tolstring(L, -2, &rl), *sp = req ? memchr(req, ' ', rl) : NULL;
        char method[STATS_METHOD_MAX] = "";
        if (sp) {
            size_t ml = (size_t)(sp - req) < sizeof method - 1 ? (size_t)(sp - req) : sizeof method - 1;
            memcpy(method, req, ml);
            method[ml] = 0;
        }
        sc->name = stats_named_key(s->stats, method, name ? name : "?");
        lua_pop(L, 1);
        lua_remove(L, -2);
        return script_take_request(sc, "u:request()");
    }
    if (kind && !strcmp(kind, "sleep")) {
        double ms = lua_tonumber(L, -2);
        lua_pop(L, 3);
        return script_wait_ms(sc, ms, "u:sleep()");
    }
    lua_pop(L, 3);
    return script_errorf(s, "user(u) yielded something unexpected (do not call coroutine.yield in user()) (in user())");
}

static script_t *state_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.script");
    script_t *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

/* barrage._expect(spec | nil): the statuses expected of the request the
 * running user is about to make (nil: --expect-status's). Returns nothing,
 * or the error message (raised by barrage.lua at the script's line). */
int script_l_expect(lua_State *L)
{
    script_t *s = state_of(L);
    sconn_t *sc = s ? s->cur : NULL;
    if (!sc) {
        lua_pushliteral(L, "u:request: expect can only be given while user() runs");
        return 1;
    }
    if (lua_isnil(L, 1)) {
        sc->c->expect = NULL;
        return 0;
    }
    size_t len;
    const char *spec = lua_tolstring(L, 1, &len);
    if (!spec) spec = "", len = 0;
    if (!sc->expect_text[0] || strcmp(spec, sc->expect_text)) {
        const char *bad;
        size_t badlen;
        sc->expect_text[0] = 0;
        if (stats_expect_parse(&sc->expect, spec, &bad, &badlen)) {
            sc->c->expect = NULL;
            char msg[320];
            snprintf(msg, sizeof msg, "u:request: expect: cannot read '%.*s' in '%.80s' as a status or a range "
                     "(use codes 100-999 and ranges, e.g. expect = {200, 429} or expect = \"200-299\")",
                     (int)(badlen > 80 ? 80 : badlen), bad, spec);
            lua_pushstring(L, msg);
            return 1;
        }
        if (len < sizeof sc->expect_text) memcpy(sc->expect_text, spec, len + 1);
    }
    sc->c->expect = &sc->expect;
    return 0;
}

void script_mark_open(sconn_t *sc, int failed, const char *reason)
{
    script_t *s = sc->s;
    sc->mark_token = ++s->tokens;
    sc->mark_name = sc->name;
    sc->mark_failed = (uint8_t)(failed != 0);
    sc->mark_error = reason != NULL;
    sc->mark_has_reason = 0;
    lua_pushnumber(s->L, sc->mark_token);
}

/* barrage._mark(token, ok, msg): r:success() (ok) or r:failure(msg) on the
 * response with that token, the last call winning. Returns true when the
 * mark applies, false on a failed attempt (status 0: it stays failed), or
 * nil and the error when the response is not open any more. The change goes
 * to the totals, the current second and the name at once: a response stays
 * open only until its user yields, so it is in the second it was counted. */
int script_l_mark(lua_State *L)
{
    script_t *s = state_of(L);
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

/* Push what a virtual user's response needs: the headers keyed by
 * lower-case name, repeated ones joined with ", " (RFC 9110 5.3), then the
 * Set-Cookie values as a list (nil when there are none: the jar is only
 * touched when the server sets a cookie). Done here rather than in Lua:
 * it runs for every response of a workflow. */
void script_push_user_headers(lua_State *L, const http_capture_t *cap)
{
    lua_createtable(L, 0, (int)cap->nheaders);
    int t = lua_gettop(L), cookies = 0;
    char *p = cap->hbuf; /* lower-cased in place: this is its last reader */
    for (uint32_t i = 0; i < cap->nheaders; i++) {
        size_t nl = strlen(p);
        const char *v = p + nl + 1;
        size_t vl = strlen(v);
        for (size_t k = 0; k < nl; k++)
            if (p[k] >= 'A' && p[k] <= 'Z') p[k] = (char)(p[k] + 32);
        lua_pushlstring(L, p, nl);
        lua_pushvalue(L, -1);
        lua_rawget(L, t);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, v, vl);
        } else {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, v, vl);
            lua_concat(L, 3);
        }
        lua_rawset(L, t);
        if (nl == 10 && !memcmp(p, "set-cookie", 10)) {
            if (!cookies) {
                lua_createtable(L, 1, 0);
                cookies = lua_gettop(L);
            }
            lua_pushlstring(L, v, vl);
            lua_rawseti(L, cookies, (int)lua_objlen(L, cookies) + 1);
        }
        p = (char *)v + vl + 1;
    }
    if (!cookies) lua_pushnil(L);
}
