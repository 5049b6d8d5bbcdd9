/* script_user.c - user() workflows: each connection's virtual user is a
 * coroutine (barrage.lua's _user_resume), stepped with each response and
 * failure, that yields its next request or a wait; waits and delay() are
 * the connection's timer. */
#include "script_internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

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
    if (script_pcall(s, nargs + 1, 3, "user()")) return SCRIPT_EFAIL;
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
