/* script_hooks.c - the per-request hooks conn.c calls when a script
 * defines request(), response(), delay() or user(): the request string
 * taken and checked, wrk's request()/response()/delay() called, user()
 * stepped (script_user.c), each hook guarded; script_hooks chooses them and
 * script_attach gives every connection its script data. */
#include "script_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "http.h"

static sconn_t *sc_of(conn_t *c) { return c->user; }

/* Take the request string at the top of the stack as sc's pending request. */
int script_take_request(sconn_t *sc, const char *hook)
{
    script_t *s = sc->s;
    lua_State *L = s->L;
    if (lua_type(L, -1) != LUA_TSTRING) {
        char loc[256];
        const char *type = lua_typename(L, lua_type(L, -1));
        lua_pop(L, 1);
        script_where(L, s->request_ref, loc, sizeof loc);
        return script_errorf(s, "%s: %s must return a string, got %s (in %s)", loc, hook, type, hook);
    }
    /* Every string is checked (count, HEAD bits): once per distinct Lua
     * string, since LuaJIT interns strings and req_ref keeps the last one
     * alive, the same pointer is the same string; a new one costs one
     * cheap scan (http_scan_requests). */
    size_t n;
    const char *str = lua_tolstring(L, -1, &n);
    if (str != sc->req_str) {
        int rc = http_scan_requests(&sc->reqs, str, n);
        if (rc == -ENOMEM) { lua_pop(L, 1); return rc; }
        if (rc) {
            lua_pop(L, 1);
            sc->req_str = NULL;
            char loc[256];
            script_where(L, s->request_ref, loc, sizeof loc);
            return script_errorf(s, "%s: %s returned something that is not a complete HTTP request, or several in a row (build it with wrk.format()) (in %s)", loc, hook, hook);
        }
        sc->req_str = str;
    }
    if (sc->req_ref == LUA_NOREF) sc->req_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else lua_rawseti(L, LUA_REGISTRYINDEX, sc->req_ref); /* the connection's slot, reused */
    sc->pending = 1;
    return 0;
}

static int ready_request(sconn_t *sc, conn_req_t *req);

static int hook_next(conn_t *c, conn_req_t *req)
{
    sconn_t *sc = sc_of(c);
    script_t *s = sc->s;
    lua_State *L = s->L;
    if (sc->waiting) return CONN_NEXT_WAIT;
    if (!sc->pending) {
        if (s->mode == MODE_USER) {
            if (sc->stop_state == 2) { script_user_drop(sc); return CONN_NEXT_RETIRE; }
            if (sc->user_ref == LUA_NOREF) {
                lua_rawgeti(L, LUA_REGISTRYINDEX, s->user_new_ref);
                lua_pushinteger(L, (lua_Integer)c->index + 1);
                lua_pushnumber(L, (lua_Number)(s->gid_base + c->index + 1));
                lua_pushnumber(L, (lua_Number)(s->users_total ? s->users_total : s->nsconns));
                if (script_pcall(s, 3, 1, "user()")) return SCRIPT_EFAIL;
                sc->user_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            }
            int rc = script_user_step(sc, 0);
            if (rc) return rc;
            if (sc->stop_state == 2) { script_user_drop(sc); return CONN_NEXT_RETIRE; }
            if (!sc->pending) return CONN_NEXT_WAIT;
        } else {
            if (s->delay_ref != LUA_NOREF && !sc->delayed) {
                lua_rawgeti(L, LUA_REGISTRYINDEX, s->delay_ref);
                if (script_pcall(s, 0, 1, "delay()")) return SCRIPT_EFAIL;
                if (!lua_isnumber(L, -1) && !lua_isnil(L, -1)) { /* nil: 0, as wrk */
                    const char *type = lua_typename(L, lua_type(L, -1));
                    lua_pop(L, 1);
                    char loc[256];
                    script_where(L, s->delay_ref, loc, sizeof loc);
                    return script_errorf(s, "%s: delay() must return a number of milliseconds, got %s (in delay())", loc, type);
                }
                double ms = lua_tonumber(L, -1);
                lua_pop(L, 1);
                if (ms != 0) { /* wrk's rule: 0 sends at once */
                    sc->delayed = 1;
                    return script_wait_ms(sc, ms, "delay()");
                }
            }
            sc->delayed = 0;
            lua_rawgeti(L, LUA_REGISTRYINDEX, s->request_ref);
            if (script_pcall(s, 0, 1, "request()")) return SCRIPT_EFAIL;
            int rc = script_take_request(sc, "request()");
            if (rc) return rc;
        }
    }
    if (s->mode == MODE_USER) return ready_request(sc, req); /* barrage._send's bytes: one request */
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->req_ref);
    req->buf = lua_tolstring(L, -1, &req->len); /* kept alive by req_ref */
    lua_pop(L, 1);
    req->n = sc->reqs.n;
    req->heads = sc->reqs.nhead ? sc->reqs.head : NULL;
    sc->pending = 0;
    return CONN_NEXT_SEND;
}

/* Push the captured headers as a name->value table (wrk's response()). */
static void push_headers(lua_State *L, const http_capture_t *cap)
{
    lua_createtable(L, 0, (int)cap->nheaders);
    const char *p = cap->hbuf;
    for (uint32_t i = 0; i < cap->nheaders; i++) {
        size_t nl = strlen(p);
        const char *v = p + nl + 1;
        size_t vl = strlen(v);
        lua_pushlstring(L, p, nl);
        lua_pushlstring(L, v, vl);
        lua_rawset(L, -3);
        p = v + vl + 1;
    }
}

/* A workflow response's r.elapsed and r.timings (connect, tls, ttfb), in
 * ms: us is the latency recorded for it; connect and tls are its socket's
 * when it was the socket's first request, else 0; ttfb from the actual send
 * to the read that brought the first bytes (0 if none came). */
static void set_timings(script_response_t *r, const conn_t *c, uint64_t us)
{
    r->elapsed = (double)us / 1000.0;
    r->connect = c->req_fresh ? (double)c->connect_us / 1000.0 : 0.0;
    r->tls = c->req_fresh ? (double)c->tls_us / 1000.0 : 0.0;
    uint64_t fb = !c->want_fb && c->first_at > c->actual_at ? (c->first_at - c->actual_at) / 1000 : 0;
    r->ttfb = (double)(fb < us ? fb : us) / 1000.0;
}

static int hook_response(conn_t *c, uint64_t latency_us)
{
    sconn_t *sc = sc_of(c);
    script_t *s = sc->s;
    lua_State *L = s->L;
    const http_capture_t *cap = c->cap;
    int status = c->resp.status;
    /* bodies past HTTP_CAPTURE_MAX were not kept: a clear error, not a
     * truncated body or a string LuaJIT refuses */
    if (cap->bseen > HTTP_CAPTURE_MAX)
        return script_errorf(s, "a response body of %zu bytes is too large for a script (at most 1 GiB): "
                            "request something smaller (in %s)", cap->bseen,
                            s->mode == MODE_USER ? "user()" : "response()");
    if (s->mode == MODE_USER) {
        if (sc->name >= 0) {
            stats_named_t *n = &s->stats->named[sc->name];
            n->requests++;
            n->failures += c->resp_failed;
            n->bytes += cap->bseen;
            s->stats->body_bytes += cap->bseen;
            if (c->resp_failed && stats_named_fail(n, status)) return -ENOMEM;
            if (stats_code_add(&n->codes, &n->ncodes, (uint32_t)status, 1)) return -ENOMEM;
            hist_record(&n->latency, latency_us);
        }
        if (c->inflight) return 0; /* not the last of a pipelined batch */
        script_response_t r = { .status = status, .cap = cap, .failed = c->resp_failed };
        set_timings(&r, c, latency_us);
        sc->mark_status = sc->name >= 0 ? status : 0; /* counted as a failure kind above, when failed */
        r.token = script_mark_open(sc, c->resp_failed, NULL);
        return script_user_respond(sc, script_push_response(sc, &r));
    }
    if (s->response_ref == LUA_NOREF) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->response_ref);
    lua_pushinteger(L, status);
    push_headers(L, cap);
    lua_pushlstring(L, cap->blen ? cap->body : "", cap->blen);
    return script_pcall(s, 3, 0, "response()");
}

static const char *const error_names[] = { "connect", "read", "write", "timeout", "parse" };

/* The hooks conn.c calls: each runs guarded (see script_guard()). */
typedef struct hook_args { conn_t *c; conn_req_t *req; uint64_t us; int why; } hook_args_t;

static int next_glue(script_t *s, void *arg)
{
    (void)s;
    hook_args_t *a = arg;
    return hook_next(a->c, a->req);
}

/* A virtual user's request that barrage._send made ready: no Lua to run. */
static int ready_request(sconn_t *sc, conn_req_t *req)
{
    static const uint8_t head = 1;
    req->buf = sc->rbuf;
    req->len = sc->rlen;
    req->n = 1;
    req->heads = sc->cbuilt_head ? &head : NULL;
    sc->pending = 0;
    return CONN_NEXT_SEND;
}

static int guarded_next(conn_t *c, conn_req_t *req)
{
    sconn_t *sc = sc_of(c);
    if (sc->waiting) return CONN_NEXT_WAIT;
    if (sc->pending && sc->s->mode == MODE_USER) return ready_request(sc, req); /* unguarded: no Lua API call */
    hook_args_t a = { .c = c, .req = req };
    return script_guard(sc->s, next_glue, &a, sc->s->mode == MODE_USER ? "user()" : "request()");
}

static int response_glue(script_t *s, void *arg)
{
    (void)s;
    hook_args_t *a = arg;
    return hook_response(a->c, a->us);
}

static int guarded_response(conn_t *c, uint64_t latency_us)
{
    sconn_t *sc = sc_of(c);
    conn_ctx_t *x = c->ctx;
    /* -n: this thread's share is complete; tell the main thread now, in case
     * this response() never returns */
    if (x->quota && x->stats->requests >= x->quota && sc->s->thread)
        __atomic_store_n(&sc->s->thread->quota_done, 1, __ATOMIC_RELEASE);
    hook_args_t a = { .c = c, .us = latency_us };
    return script_guard(sc->s, response_glue, &a, sc->s->mode == MODE_USER ? "user()" : "response()");
}

static int hook_failed(conn_t *c, enum conn_error why);

static int failed_glue(script_t *s, void *arg)
{
    (void)s;
    hook_args_t *a = arg;
    return hook_failed(a->c, (enum conn_error)a->why);
}

static int guarded_failed(conn_t *c, enum conn_error why)
{
    hook_args_t a = { .c = c, .why = (int)why };
    return script_guard(sc_of(c)->s, failed_glue, &a, "user()");
}

static int hook_failed(conn_t *c, enum conn_error why)
{
    sconn_t *sc = sc_of(c);
    script_t *s = sc->s;
    if (s->mode != MODE_USER) return 0; /* wrk semantics: the next request() is sent */
    const char *reason = error_names[why];
    if (sc->name >= 0) {
        stats_named_t *n = &s->stats->named[sc->name];
        n->requests++;
        n->failures++;
        if (stats_reason_add(n, reason, strlen(reason), 1)) return -ENOMEM;
        if (stats_named_fail(n, -1 - (int32_t)why)) return -ENOMEM;
    }
    script_response_t r = { .status = 0, .error = reason, .failed = 1 };
    uint64_t now = c->ctx->now;
    set_timings(&r, c, now > c->sent_at ? (now - c->sent_at) / 1000 : 0);
    r.token = script_mark_open(sc, 1, reason);
    return script_user_respond(sc, script_push_response(sc, &r));
}

const conn_hooks_t *script_hooks(script_t *s, int *capture)
{
    *capture = s->mode == MODE_USER || s->response_ref != LUA_NOREF;
    if (s->mode == MODE_STATIC) return NULL;
    s->hooks.next = (s->mode == MODE_USER || s->request_ref != LUA_NOREF || s->delay_ref != LUA_NOREF)
                        ? guarded_next : NULL;
    s->hooks.response = *capture ? guarded_response : NULL;
    s->hooks.failed = s->mode == MODE_USER ? guarded_failed : NULL;
    return &s->hooks;
}

int script_attach(script_t *s, conn_t *conns, size_t n, loop_t *loop, stats_t *stats)
{
    s->loop = loop;
    s->stats = stats;
    s->sconns = calloc(n ? n : 1, sizeof *s->sconns);
    if (!s->sconns) return -ENOMEM;
    s->nsconns = n;
    for (size_t i = 0; i < n; i++) {
        sconn_t *sc = &s->sconns[i];
        sc->s = s;
        sc->c = &conns[i];
        sc->user_ref = sc->req_ref = sc->name_ref = sc->name_text_ref = LUA_NOREF;
        sc->name = -1;
        loop_timer_init(&sc->timer, script_on_timer);
        conns[i].user = sc;
    }
    return 0;
}
