/* script.c - the LuaJIT glue (see script.h). The Lua half of the API lives in
 * barrage.lua, embedded at build time (barrage_lua.h) and loaded with
 * luaL_loadbuffer, so a stripped binary still finds it. */
#include "script.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>

#include "barrage_lua.h"
#include "http.h"

#define ERR_MAX 1024
#define MAX_DEPTH 32

enum mode { MODE_STATIC = 0, MODE_WRK, MODE_USER };

/* Per-connection script state. */
typedef struct sconn {
    script_t *s;
    conn_t *c;
    loop_timer_t timer;   /* delay() and u:sleep() */
    int user_ref;         /* the virtual user (LUA_NOREF until created) */
    int req_ref;          /* the pending request string (kept alive) */
    const char *req_str;  /* that string's bytes: an identical Lua string is not checked again */
    http_reqs_t reqs;     /* its requests: how many, which are HEAD */
    int name;             /* index in stats->named of the pending request, -1 */
    uint8_t pending;      /* a request string is ready to send */
    uint8_t delayed;      /* delay() already waited for this request */
    uint8_t waiting;      /* the timer is armed: nothing to send until it fires */
} sconn_t;

struct script {
    lua_State *L;
    script_thread_t *thread;  /* the worker's thread object (worker states) */
    char error[ERR_MAX];
    enum mode mode;
    int request_ref, response_ref, delay_ref; /* functions (LUA_NOREF if none) */
    int resume_ref;           /* barrage._user_resume (user mode) */
    http_reqs_t static_reqs;  /* the requests of script_static_request's string */
    loop_t *loop;
    stats_t *stats;
    sconn_t *sconns;
    size_t nsconns;
    conn_hooks_t hooks;
    int onerror_ref, guard_ref; /* on_error and guard_entry, made once (no allocation per call) */
    int user_new_ref;         /* barrage._user_new (user mode) */
    int timed;                /* the run ends on time (-d, or no -n): a wait may last until then */
    int why;                  /* the reason given to script_interrupt() (enum stop_why) */
    const config_t *cfg_init; /* only while init_state runs */
    char stop_msg[512];       /* the error on_interrupt raises, once it has fired */
};

struct script_thread {
    int index;
    net_addr_t addr;
    int has_addr;
    char *staged;             /* serialized thread:set values from setup() */
    size_t staged_len;
    script_t *main;           /* the main state's script */
    script_t *worker;         /* the worker's state, once created */
    int *stop;                /* the worker's stop flag */
    script_t *busy;           /* the worker's state once it exists, else NULL (atomic) */
    int interrupted;          /* script_thread_interrupt() was called */
    int quota_done;           /* -n: its last response was counted (atomic) */
    char error[ERR_MAX];      /* why the worker's script failed */
};

static const char *THREAD_MT = "barrage.thread";
static const char *STATS_MT = "barrage.stats";

/* ---------------------------------------------------------------- errors */

/* Traceback handler: make sure the message starts with the file:line of the
 * innermost Lua frame (errors raised from C functions have none). */
static int on_error(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = lua_isnoneornil(L, 1) ? "error (nil)" : "error object is not a string";
    const char *colon = strchr(msg, ':');
    int has_loc = colon && colon[1] >= '0' && colon[1] <= '9';
    if (!has_loc) {
        lua_Debug ar;
        for (int level = 1; lua_getstack(L, level, &ar); level++) {
            lua_getinfo(L, "Sl", &ar);
            if (ar.currentline > 0 && ar.what[0] != 'C') {
                lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
                return 1;
            }
        }
    }
    lua_pushstring(L, msg);
    return 1;
}

static int fail(script_t *s, const char *hook)
{
    const char *msg = lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : NULL;
    snprintf(s->error, sizeof s->error, "%s (in %s)", msg ? msg : "unknown error", hook);
    lua_pop(s->L, 1);
    if (s->thread) snprintf(s->thread->error, sizeof s->thread->error, "%s", s->error);
    return SCRIPT_EFAIL;
}

/* Call the function below nargs arguments with the handler at index 1. */
static int pcall(script_t *s, int nargs, int nres, const char *hook)
{
    if (lua_pcall(s->L, nargs, nres, 1)) return fail(s, hook);
    return 0;
}

const char *script_error(const script_t *s) { return s->error; }

/* Protected glue. Any Lua API call may raise (out of memory, a string past
 * LuaJIT's limit, a metamethod of the script's: a strict _G, a read-only
 * wrk), and a raise outside lua_pcall is a LuaJIT PANIC that ends the
 * process. So every C-side sequence of Lua calls runs as fn inside guard():
 * a pcall of guard_entry, which puts on_error at index 1 of its own frame so
 * fn's pcall(s, ..., hook) calls work unchanged. The two functions are made
 * once per state: a guarded call allocates nothing. */
typedef struct guarded {
    int (*fn)(script_t *, void *);
    script_t *s;
    void *arg;
    int rc;
} guarded_t;

static int guard_entry(lua_State *L)
{
    guarded_t *g = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, g->s->onerror_ref);
    lua_replace(L, 1);
    g->rc = g->fn(g->s, g->arg);
    return 0;
}

/* fn(s, arg) protected: its return value, or SCRIPT_EFAIL with the error
 * recorded "(in hook)". The stack is as before. */
static int guard(script_t *s, int (*fn)(script_t *, void *), void *arg, const char *hook)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    guarded_t g = { fn, s, arg, 0 };
    /* two slots: within the LUA_MINSTACK every frame has, so nothing here raises */
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->guard_ref);
    lua_pushlightuserdata(L, &g);
    int rc = lua_pcall(L, 1, 0, 1) ? fail(s, hook) : g.rc;
    lua_settop(L, top);
    return rc;
}

/* Where a function was defined, for "must return" errors. */
static void where(lua_State *L, int ref, char *buf, size_t n)
{
    lua_Debug ar;
    snprintf(buf, n, "?");
    if (ref == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return; }
    if (lua_getinfo(L, ">S", &ar)) snprintf(buf, n, "%s:%d", ar.short_src, ar.linedefined);
}

/* ---------------------------------------------------- values across states */

typedef struct sbuf { char *p; size_t len, cap; int bad; } sbuf_t;

static void put(sbuf_t *b, const void *d, size_t n)
{
    if (b->bad) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->bad = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

/* Serialize the value at idx: nil, boolean, number, string, tables of them
 * (wrk's thread:get/set rule). Returns NULL or an error message. */
static const char *ser(lua_State *L, int idx, sbuf_t *b, int depth)
{
    if (idx < 0) idx = lua_gettop(L) + idx + 1;
    char tag;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: tag = 'n'; put(b, &tag, 1); return NULL;
    case LUA_TBOOLEAN: {
        char v[2] = { 'b', (char)lua_toboolean(L, idx) };
        put(b, v, 2);
        return NULL;
    }
    case LUA_TNUMBER: {
        double d = lua_tonumber(L, idx);
        tag = 'd';
        put(b, &tag, 1);
        put(b, &d, sizeof d);
        return NULL;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *str = lua_tolstring(L, idx, &n);
        tag = 's';
        put(b, &tag, 1);
        put(b, &n, sizeof n);
        put(b, str, n);
        return NULL;
    }
    case LUA_TTABLE: {
        if (depth >= MAX_DEPTH) return "table nested too deeply";
        tag = 't';
        put(b, &tag, 1);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            const char *e = ser(L, -2, b, depth + 1);
            if (!e) e = ser(L, -1, b, depth + 1);
            lua_pop(L, 1);
            if (e) { lua_pop(L, 1); return e; }
        }
        tag = 'e';
        put(b, &tag, 1);
        return NULL;
    }
    default:
        return "only nil, boolean, number, string and tables of them can be transferred";
    }
}

/* Push the value serialized at *p; advances *p. */
static int deser(lua_State *L, const char **p, const char *end)
{
    if (*p >= end) return -1;
    char tag = *(*p)++;
    switch (tag) {
    case 'n': lua_pushnil(L); return 0;
    case 'b': lua_pushboolean(L, *(*p)++); return 0;
    case 'd': { double d; memcpy(&d, *p, sizeof d); *p += sizeof d; lua_pushnumber(L, d); return 0; }
    case 's': {
        size_t n;
        memcpy(&n, *p, sizeof n);
        *p += sizeof n;
        lua_pushlstring(L, *p, n);
        *p += n;
        return 0;
    }
    case 't':
        lua_newtable(L);
        while (*p < end && **p != 'e') {
            if (deser(L, p, end) || deser(L, p, end)) return -1;
            lua_rawset(L, -3);
        }
        (*p)++;
        return 0;
    }
    return -1;
}

/* Copy the value on top of `from` to the top of `to` (popped from `from`):
 * the same rules as thread:set/get between states. NULL, or why not. */
static const char *transfer(lua_State *from, lua_State *to)
{
    sbuf_t b = { 0 };
    const char *e = ser(from, -1, &b, 0);
    lua_pop(from, 1);
    if (!e && b.bad) e = "out of memory";
    if (!e) {
        const char *p = b.p;
        if (deser(to, &p, b.p + b.len)) e = "corrupt value";
    }
    free(b.p);
    return e;
}

/* ------------------------------------------------------- wrk.lookup/connect */

static int parse_addr(const char *text, net_addr_t *a)
{
    char host[256], err[256];
    const char *port;
    if (text[0] == '[') {
        const char *rb = strchr(text, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - text - 1) >= sizeof host) return -1;
        memcpy(host, text + 1, (size_t)(rb - text - 1));
        host[rb - text - 1] = 0;
        port = rb + 2;
    } else {
        const char *c = strrchr(text, ':');
        if (!c || (size_t)(c - text) >= sizeof host) return -1;
        memcpy(host, text, (size_t)(c - text));
        host[c - text] = 0;
        port = c + 1;
    }
    return net_resolve(host, port, a, 1, err, sizeof err) == 1 ? 0 : -1;
}

static int l_lookup(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    const char *service = luaL_optstring(L, 2, "http");
    net_addr_t addrs[16];
    char err[256];
    int n = net_resolve(host, service, addrs, 16, err, sizeof err);
    if (n < 0) return luaL_error(L, "wrk.lookup: %s", err);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, addrs[i].text);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_connect(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    net_addr_t a;
    if (parse_addr(text, &a)) return luaL_error(L, "wrk.connect: '%s' is not an address from wrk.lookup", text);
    lua_pushboolean(L, net_probe(&a, 2000) == 0);
    return 1;
}

/* ------------------------------------------------------------ thread object */

static script_thread_t *check_thread(lua_State *L)
{
    script_thread_t **t = luaL_checkudata(L, 1, THREAD_MT);
    return *t;
}

/* Is L the worker's own, running state? */
static int in_worker(script_thread_t *t, lua_State *L)
{
    return t->worker && t->worker->L == L;
}

/* Push the table of thread:set values staged for t during setup(). */
static void push_staged(lua_State *L, script_thread_t *t)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.staged");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "barrage.staged");
    }
    lua_rawgeti(L, -1, t->index + 1);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, t->index + 1);
    }
    lua_remove(L, -2);
}

/* thread:get in done(): serialize a global of the finished worker's state,
 * raw (no metamethod of the script runs there), under lua_cpcall: nothing
 * raised in that state reaches this one. */
typedef struct worker_get { const char *name; sbuf_t b; const char *e; } worker_get_t;

static int worker_get(lua_State *W)
{
    worker_get_t *g = lua_touserdata(W, 1);
    lua_pushstring(W, g->name);
    lua_rawget(W, LUA_GLOBALSINDEX);
    g->e = ser(W, -1, &g->b, 0);
    return 0;
}

static int l_thread_get(lua_State *L)
{
    script_thread_t *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    if (in_worker(t, L)) {
        lua_getglobal(L, name);
        return 1;
    }
    if (t->worker) { /* done(): the worker has finished; read its state */
        worker_get_t g = { name, { 0 }, NULL };
        if (lua_cpcall(t->worker->L, worker_get, &g)) {
            lua_pop(t->worker->L, 1);
            g.e = "out of memory";
        }
        if (!g.e && g.b.bad) g.e = "out of memory";
        if (!g.e) {
            const char *p = g.b.p;
            if (deser(L, &p, g.b.p + g.b.len)) g.e = "corrupt value";
        }
        free(g.b.p);
        if (g.e) return luaL_error(L, "thread:get('%s'): %s", name, g.e);
        return 1;
    }
    /* setup(): values set so far, else the script's global of that name (wrk
     * reads the thread's state, which ran the same script), as a copy */
    push_staged(L, t);
    lua_getfield(L, -1, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_getglobal(L, name);
        const char *e = transfer(L, L);
        if (e) return luaL_error(L, "thread:get('%s'): %s", name, e);
    }
    return 1;
}

static int l_thread_set(lua_State *L)
{
    script_thread_t *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    lua_settop(L, 3);
    if (in_worker(t, L)) {
        lua_setglobal(L, name);
        return 0;
    }
    if (t->worker) { /* done(): set the finished thread's global, as wrk */
        lua_pushvalue(L, 3);
        const char *e = transfer(L, t->worker->L);
        if (e) return luaL_error(L, "thread:set('%s'): %s", name, e);
        lua_setglobal(t->worker->L, name);
        return 0;
    }
    sbuf_t b = { 0 };
    const char *e = ser(L, 3, &b, 0);
    free(b.p);
    if (e) return luaL_error(L, "thread:set('%s'): %s", name, e);
    /* staged in the main state, serialized when setup is over */
    push_staged(L, t);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, name);
    return 0;
}

static int l_thread_stop(lua_State *L)
{
    script_thread_t *t = check_thread(L);
    if (!in_worker(t, L) || !t->stop)
        return luaL_error(L, "thread:stop() can only be called while the thread is running");
    __atomic_store_n(t->stop, 1, __ATOMIC_SEQ_CST);
    /* and send nothing more from now on, not even on this loop iteration */
    if (t->worker->sconns) conn_ctx_stop(t->worker->sconns[0].c->ctx);
    return 0;
}

static int l_thread_index(lua_State *L)
{
    script_thread_t *t = check_thread(L);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "addr")) {
        if (t->has_addr) lua_pushstring(L, t->addr.text);
        else lua_pushnil(L);
    } else if (!strcmp(k, "get")) lua_pushcfunction(L, l_thread_get);
    else if (!strcmp(k, "set")) lua_pushcfunction(L, l_thread_set);
    else if (!strcmp(k, "stop")) lua_pushcfunction(L, l_thread_stop);
    else if (!strcmp(k, "id") || !strcmp(k, "index")) lua_pushinteger(L, t->index + 1);
    else lua_pushnil(L);
    return 1;
}

static int l_thread_newindex(lua_State *L)
{
    script_thread_t *t = check_thread(L);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "addr")) return luaL_error(L, "thread.%s cannot be set (only thread.addr)", k);
    if (t->worker) return luaL_error(L, "thread.addr can only be set in setup()");
    const char *v = luaL_checkstring(L, 3);
    if (parse_addr(v, &t->addr)) return luaL_error(L, "thread.addr: '%s' is not an address from wrk.lookup", v);
    t->has_addr = 1;
    return 0;
}

static void push_thread(lua_State *L, script_thread_t *t)
{
    script_thread_t **u = lua_newuserdata(L, sizeof *u);
    *u = t;
    luaL_getmetatable(L, THREAD_MT);
    lua_setmetatable(L, -2);
}

/* ------------------------------------------------------------ stats objects */

typedef struct lstats { const hist_t *h; double scale; } lstats_t;

static const hist_t *check_stats(lua_State *L, int idx)
{
    return ((lstats_t *)luaL_checkudata(L, idx, STATS_MT))->h;
}

/* The i-th (1-based) distinct recorded value and its count, as wrk's. */
static int stats_at(lua_State *L, const hist_t *h, lua_Integer i)
{
    lua_Integer k = 0;
    for (size_t b = 0; b < h->ncounts; b++) {
        if (!h->counts[b]) continue;
        if (++k == i) {
            uint64_t v = hist_highest(b);
            if (v > h->max) v = h->max;
            if (v < h->min) v = h->min;
            lua_pushnumber(L, (lua_Number)v);
            lua_pushnumber(L, (lua_Number)h->counts[b]);
            return 2;
        }
    }
    lua_pushnil(L);
    return 1;
}

static int l_stats_percentile(lua_State *L)
{
    const hist_t *h = check_stats(L, 1);
    double p = luaL_checknumber(L, 2);
    if (p < 0 || p > 100) return luaL_error(L, "percentile(%f): p must be between 0 and 100", p);
    lua_pushnumber(L, (lua_Number)hist_percentile(h, p));
    return 1;
}

static int l_stats_index(lua_State *L)
{
    const hist_t *h = check_stats(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        if (stats_at(L, h, lua_tointeger(L, 2)) == 2) lua_pop(L, 1); /* the value only */
        return 1;
    }
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "min")) lua_pushnumber(L, h->total ? (lua_Number)h->min : 0);
    else if (!strcmp(k, "max")) lua_pushnumber(L, (lua_Number)h->max);
    else if (!strcmp(k, "mean")) lua_pushnumber(L, hist_mean(h));
    else if (!strcmp(k, "stdev")) lua_pushnumber(L, hist_stdev(h));
    else if (!strcmp(k, "count")) lua_pushnumber(L, (lua_Number)h->total);
    else if (!strcmp(k, "percentile")) lua_pushcfunction(L, l_stats_percentile);
    else lua_pushvalue(L, 2); /* an unknown field answers its own name, as wrk's */
    return 1;
}

static int l_stats_call(lua_State *L)
{
    const hist_t *h = check_stats(L, 1);
    return stats_at(L, h, luaL_checkinteger(L, 2));
}

static int l_stats_len(lua_State *L)
{
    const hist_t *h = check_stats(L, 1);
    lua_Integer n = 0;
    for (size_t b = 0; b < h->ncounts; b++) n += h->counts[b] != 0;
    lua_pushinteger(L, n);
    return 1;
}

static void push_stats(lua_State *L, const hist_t *h)
{
    lstats_t *u = lua_newuserdata(L, sizeof *u);
    u->h = h;
    u->scale = 1;
    luaL_getmetatable(L, STATS_MT);
    lua_setmetatable(L, -2);
}

/* ------------------------------------------------------------- checks */

static int l_check(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    int ok = lua_toboolean(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.script");
    script_t *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!s || !s->stats) return luaL_error(L, "check() can only be called while the test runs");
    int i = stats_check_index(s->stats, name);
    if (i < 0) return luaL_error(L, "check(): out of memory");
    if (ok) s->stats->checks[i].pass++;
    else s->stats->checks[i].fail++;
    return 0;
}

/* ------------------------------------------------------------- loading */

static void set_string(lua_State *L, const char *k, const char *v)
{
    if (v) lua_pushstring(L, v);
    else lua_pushnil(L);
    lua_setfield(L, -2, k);
}

/* The state's tables and functions (run by lua_cpcall: out of memory here
 * is an error, not a PANIC). */
static int init_state(lua_State *L)
{
    script_t *s = lua_touserdata(L, 1);
    const config_t *cfg = s->cfg_init;
    luaL_openlibs(L);
    lua_pushcfunction(L, on_error);
    s->onerror_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, guard_entry);
    s->guard_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushlightuserdata(L, s);
    lua_setfield(L, LUA_REGISTRYINDEX, "barrage.script");

    luaL_newmetatable(L, THREAD_MT);
    lua_pushcfunction(L, l_thread_index); lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_thread_newindex); lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
    luaL_newmetatable(L, STATS_MT);
    lua_pushcfunction(L, l_stats_index); lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_stats_call); lua_setfield(L, -2, "__call");
    lua_pushcfunction(L, l_stats_len); lua_setfield(L, -2, "__len");
    lua_pop(L, 1);

    /* wrk = { scheme, host, port, method, path, headers, body, lookup, connect } */
    const config_url_t *u = &cfg->url;
    lua_newtable(L);
    set_string(L, "scheme", u->scheme);
    set_string(L, "host", u->host);
    set_string(L, "port", u->default_port ? NULL : u->port);
    set_string(L, "method", cfg->method);
    /* wrk.path keeps the URL's #fragment, as wrk's (requests made from it send it) */
    const char *frag = cfg->url_text ? strchr(cfg->url_text, '#') : NULL;
    lua_pushstring(L, u->path);
    if (frag) { lua_pushstring(L, frag); lua_concat(L, 2); }
    lua_setfield(L, -2, "path");
    if (cfg->body) { lua_pushlstring(L, cfg->body, cfg->body_len); lua_setfield(L, -2, "body"); }
    lua_newtable(L);
    for (size_t i = 0; i < cfg->nheaders; i++) {
        const char *h = cfg->headers[i], *colon = strchr(h, ':');
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        lua_pushlstring(L, h, (size_t)(colon - h));
        lua_pushstring(L, v);
        lua_rawset(L, -3);
    }
    if (!cfg->keepalive) {
        lua_pushliteral(L, "Connection");
        lua_pushliteral(L, "close");
        lua_rawset(L, -3);
    }
    lua_setfield(L, -2, "headers");
    lua_pushcfunction(L, l_lookup); lua_setfield(L, -2, "lookup");
    lua_pushcfunction(L, l_connect); lua_setfield(L, -2, "connect");
    lua_setglobal(L, "wrk");

    lua_newtable(L);
    lua_pushcfunction(L, l_check); lua_setfield(L, -2, "_check");
    lua_pushstring(L, BARRAGE_VERSION); lua_setfield(L, -2, "version");
    lua_createtable(L, 0, 2); /* barrage.shard: partition test data by it */
    lua_pushinteger(L, cfg->shard_index); lua_setfield(L, -2, "index");
    lua_pushinteger(L, cfg->shard_count); lua_setfield(L, -2, "count");
    lua_setfield(L, -2, "shard");
    lua_setglobal(L, "barrage");
    return 0;
}

static int prelude_refs(script_t *s, void *arg)
{
    (void)arg;
    lua_State *L = s->L;
    lua_getglobal(L, "barrage");
    lua_getfield(L, -1, "_user_resume");
    s->resume_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "_user_new");
    s->user_new_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return 0;
}

static script_t *new_state(const config_t *cfg, char *err, size_t errlen)
{
    script_t *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
    s->request_ref = s->response_ref = s->delay_ref = s->user_new_ref = s->resume_ref = LUA_NOREF;
    s->timed = cfg->duration_set || !cfg->requests;
    lua_State *L = s->L = luaL_newstate();
    if (!L) { free(s); snprintf(err, errlen, "cannot create a Lua state (out of memory)"); return NULL; }
    s->cfg_init = cfg;
    if (lua_cpcall(L, init_state, s)) {
        snprintf(err, errlen, "cannot create a Lua state (out of memory)");
        script_free(s);
        return NULL;
    }
    s->cfg_init = NULL;
    /* Scripts run on LuaJIT's interpreter: compiled loops never look at the
     * hook that stops a script stuck at the end of the run (script_interrupt),
     * the interpreter does. The cost is small: the hot paths (pairs, string
     * building, coroutines) are interpreted or in C anyway. After openlibs,
     * which turns the JIT on. */
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->onerror_ref); /* stays at index 1 */

    if (luaL_loadbuffer(L, barrage_lua, sizeof barrage_lua, "=barrage.lua") ||
        lua_pcall(L, 0, 0, 1)) {
        snprintf(err, errlen, "internal error in the Lua prelude: %s", lua_tostring(L, -1));
        script_free(s);
        return NULL;
    }
    /* the workflow functions, before the script can replace `barrage` */
    if (guard(s, prelude_refs, NULL, "barrage.lua")) {
        snprintf(err, errlen, "internal error in the Lua prelude: %s", s->error);
        script_free(s);
        return NULL;
    }
    return s;
}

static int load_user(script_t *s, const char *path, char *err, size_t errlen)
{
    lua_State *L = s->L;
    if (luaL_loadfile(L, path)) {
        const char *m = lua_tostring(L, -1);
        if (m && strstr(m, "cannot open"))
            snprintf(err, errlen, "-s: cannot open script '%s' (check the path)", path);
        else
            snprintf(err, errlen, "script error: %s", m ? m : "cannot load");
        lua_pop(L, 1);
        return -1;
    }
    if (pcall(s, 0, 0, "the script's main chunk")) {
        /* require's error lists every file it tried, one per line: keep one line */
        char *nf = strstr(s->error, " not found:\n");
        if (nf && strstr(s->error, "module '")) {
            snprintf(err, errlen, "script error: %.*s not found (install it, or add its directory to "
                     "LUA_PATH or package.path) (in the script's main chunk)", (int)(nf - s->error), s->error);
            return -1;
        }
        snprintf(err, errlen, "script error: %s", s->error);
        return -1;
    }
    return 0;
}

script_t *script_load(const char *path, const config_t *cfg, char *err, size_t errlen)
{
    script_t *s = new_state(cfg, err, errlen);
    if (s && load_user(s, path, err, errlen)) { script_free(s); s = NULL; }
    return s;
}

void script_free(script_t *s)
{
    if (!s) return;
    if (s->L) lua_sethook(s->L, NULL, 0, 0);
    if (s->L) lua_close(s->L);
    for (size_t i = 0; i < s->nsconns; i++) http_reqs_free(&s->sconns[i].reqs);
    free(s->sconns);
    http_reqs_free(&s->static_reqs);
    free(s);
}

/* ------------------------------------------------------------- main side */

typedef struct resolve_args { const char *host, *port; size_t n; } resolve_args_t;

static int resolve_glue(script_t *s, void *arg)
{
    resolve_args_t *a = arg;
    lua_State *L = s->L;
    lua_getglobal(L, "wrk");
    lua_getfield(L, -1, "resolve");
    lua_pushstring(L, a->host);
    lua_pushstring(L, a->port);
    if (pcall(s, 2, 0, "wrk.resolve()")) return SCRIPT_EFAIL;
    lua_getfield(L, -1, "addrs");
    a->n = lua_objlen(L, -1);
    return 0;
}

int script_resolve(script_t *s, const char *host, const char *port, char *err, size_t errlen)
{
    resolve_args_t a = { host, port, 0 };
    if (guard(s, resolve_glue, &a, "wrk.resolve()")) {
        snprintf(err, errlen, "script error: %s", s->error);
        return -1;
    }
    size_t n = a.n;
    if (!n) {
        snprintf(err, errlen, "cannot connect to %s:%s (is the server running? check the URL)", host, port);
        return -1;
    }
    return 0;
}

script_thread_t *script_thread_new(script_t *main, int index)
{
    script_thread_t *t = calloc(1, sizeof *t);
    if (t) { t->index = index; t->main = main; }
    return t;
}

static int setup_glue(script_t *main, void *arg)
{
    script_thread_t *t = arg;
    lua_State *L = main->L;
    lua_getglobal(L, "wrk");
    lua_getfield(L, -1, "setup");
    push_thread(L, t);
    int rc = pcall(main, 1, 0, "setup()");
    lua_pop(L, 1);
    if (rc) return rc;
    if (!t->has_addr) {
        snprintf(main->error, sizeof main->error, "setup() left thread.addr unset (in setup())");
        return SCRIPT_EFAIL;
    }
    /* freeze thread:set values for the worker's own state */
    push_staged(L, t);
    sbuf_t b = { 0 };
    {
        const char *e = ser(L, -1, &b, 0);
        if (e || b.bad) {
            free(b.p);
            snprintf(main->error, sizeof main->error, "thread:set: %s (in setup())", e ? e : "out of memory");
            lua_pop(L, 1);
            return SCRIPT_EFAIL;
        }
    }
    lua_pop(L, 1);
    free(t->staged);
    t->staged = b.p;
    t->staged_len = b.len;
    return 0;
}

int script_setup(script_t *main, script_thread_t *t) { return guard(main, setup_glue, t, "setup()"); }

const net_addr_t *script_thread_addr(const script_thread_t *t) { return &t->addr; }
void script_thread_bind(script_thread_t *t, int *stop_flag) { t->stop = stop_flag; }
static const char *const stop_msgs[] = {
    [SCRIPT_STOP_END] = "stopped: still running 1 s after the run ended (duration, -n or signal): an endless loop?",
    [SCRIPT_STOP_DONE_LIMIT] = "stopped: done() was still running 5 s after the run: an endless loop?",
    [SCRIPT_STOP_SIGNAL] = "stopped by a signal while this code was still running",
};

/* Count hook: raise an error inside the running Lua code, at every
 * instruction from now on, so that no pcall loop survives it; always the
 * first error, "FILE:LINE: stopped..." where the code was, so that the
 * message unwinds unchanged through barrage.lua (a workflow's coroutine). */
static void on_interrupt(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_pushliteral(L, "barrage.script");
    lua_rawget(L, LUA_REGISTRYINDEX);
    script_t *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (s && s->stop_msg[0]) {
        lua_pushstring(L, s->stop_msg);
        lua_error(L);
    }
    luaL_where(L, 0); /* level 0 in a hook: the code that was running */
    int why = s ? __atomic_load_n(&s->why, __ATOMIC_SEQ_CST) : SCRIPT_STOP_END;
    lua_pushstring(L, stop_msgs[why >= SCRIPT_STOP_END && why <= SCRIPT_STOP_SIGNAL ? why : SCRIPT_STOP_END]);
    lua_concat(L, 2);
    if (s) snprintf(s->stop_msg, sizeof s->stop_msg, "%s", lua_tostring(L, -1));
    lua_error(L);
}

void script_interrupt(script_t *s, int why)
{
    __atomic_store_n(&s->why, why, __ATOMIC_SEQ_CST);
    /* the hook Lua's own interpreter sets from a signal handler: safe from
     * another thread; the interpreter (the JIT is off) checks it at every
     * instruction */
    lua_sethook(s->L, on_interrupt, LUA_MASKCOUNT, 1);
}

void script_thread_interrupt(script_thread_t *t)
{
    if (!t) return;
    __atomic_store_n(&t->interrupted, 1, __ATOMIC_SEQ_CST);
    script_t *w = __atomic_load_n(&t->busy, __ATOMIC_SEQ_CST);
    if (w) script_interrupt(w, SCRIPT_STOP_END);
}

int script_thread_quota_done(const script_thread_t *t)
{
    return t && __atomic_load_n(&t->quota_done, __ATOMIC_ACQUIRE);
}

void script_thread_free(script_thread_t *t)
{
    if (!t) return;
    free(t->staged);
    free(t);
}

const char *script_thread_error(const script_thread_t *t) { return t->error[0] ? t->error : NULL; }

/* ------------------------------------------------------------ worker side */

/* Hooks are looked up raw: a strict _G (an __index that raises on unknown
 * names, as strict.lua's) must not turn "no delay()" into an error. */
static void raw_global(lua_State *L, const char *name)
{
    lua_pushstring(L, name);
    lua_rawget(L, LUA_GLOBALSINDEX);
}

static int ref_function(lua_State *L, const char *name)
{
    raw_global(L, name);
    if (lua_isfunction(L, -1)) return luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return LUA_NOREF;
}

static int is_function(lua_State *L, const char *name)
{
    raw_global(L, name);
    int r = lua_isfunction(L, -1);
    lua_pop(L, 1);
    return r;
}

static int thread_glue(script_t *s, void *arg);

script_t *script_load_thread(const char *path, const config_t *cfg, script_thread_t *t)
{
    char err[ERR_MAX];
    script_t *s = new_state(cfg, err, sizeof err);
    if (!s) { snprintf(t->error, sizeof t->error, "%s", err); return NULL; }
    s->thread = t;
    t->worker = s;
    /* from now on the end of the run can stop it (script_thread_interrupt) */
    __atomic_store_n(&t->busy, s, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&t->interrupted, __ATOMIC_SEQ_CST)) script_interrupt(s, SCRIPT_STOP_END);
    if (load_user(s, path, err, sizeof err)) {
        snprintf(t->error, sizeof t->error, "%s", strncmp(err, "script error: ", 14) ? err : err + 14);
        return s;
    }
    guard(s, thread_glue, (void *)cfg, "init()");
    return s;
}

/* The thread object, the thread:set values, init(args), and the hooks. */
static int thread_glue(script_t *s, void *arg)
{
    const config_t *cfg = arg;
    script_thread_t *t = s->thread;
    lua_State *L = s->L;
    lua_getglobal(L, "wrk");
    push_thread(L, t);
    lua_setfield(L, -2, "thread");
    /* thread:set values from setup() */
    if (t->staged) {
        const char *p = t->staged;
        if (deser(L, &p, t->staged + t->staged_len) == 0) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_settable(L, LUA_GLOBALSINDEX);
            }
        }
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "init");
    lua_newtable(L);
    lua_pushstring(L, cfg->url_text); /* args[0] is the URL, as wrk's */
    lua_rawseti(L, -2, 0);
    for (size_t i = 0; i < cfg->nscript_args; i++) {
        lua_pushstring(L, cfg->script_args[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    int rc = pcall(s, 1, 0, "init()");
    lua_pop(L, 1);
    if (rc) return rc;

    int has_user = is_function(L, "user");
    if (has_user && is_function(L, "request")) {
        snprintf(t->error, sizeof t->error, "the script defines both user() and request(): keep one");
        return SCRIPT_EFAIL;
    }
    s->mode = has_user ? MODE_USER : MODE_STATIC;
    s->delay_ref = ref_function(L, "delay");
    s->response_ref = ref_function(L, "response");
    if (!has_user) {
        s->request_ref = ref_function(L, "request");
        if (s->request_ref != LUA_NOREF || s->delay_ref != LUA_NOREF || s->response_ref != LUA_NOREF)
            s->mode = MODE_WRK;
    }
    if (s->mode == MODE_WRK && s->request_ref == LUA_NOREF) {
        /* wrk calls wrk.request() when request() is not defined */
        lua_getglobal(L, "wrk");
        lua_getfield(L, -1, "request");
        s->request_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pop(L, 1);
    }
    return 0;
}

typedef struct static_args { char **buf; size_t *len; uint32_t *pipeline; const uint8_t **heads; } static_args_t;

static int static_glue(script_t *s, void *arg)
{
    static_args_t *a = arg;
    char **buf = a->buf;
    size_t *len = a->len;
    uint32_t *pipeline = a->pipeline;
    const uint8_t **heads = a->heads;
    lua_State *L = s->L;
    lua_getglobal(L, "wrk");
    lua_getfield(L, -1, "request");
    lua_remove(L, -2);
    if (pcall(s, 0, 1, "wrk.request()")) return SCRIPT_EFAIL;
    size_t n;
    const char *str = lua_tolstring(L, -1, &n);
    int rc = str ? http_scan_requests(&s->static_reqs, str, n) : -EINVAL;
    if (rc == -ENOMEM) { lua_pop(L, 1); return rc; }
    if (rc) {
        snprintf(s->error, sizeof s->error, "wrk.request() must return one or more complete HTTP requests");
        if (s->thread) snprintf(s->thread->error, sizeof s->thread->error, "%s", s->error);
        lua_pop(L, 1);
        return SCRIPT_EFAIL;
    }
    *buf = malloc(n + 1);
    if (!*buf) { lua_pop(L, 1); return -ENOMEM; }
    memcpy(*buf, str, n);
    (*buf)[n] = 0;
    *len = n;
    *pipeline = s->static_reqs.n;
    *heads = s->static_reqs.nhead ? s->static_reqs.head : NULL;
    lua_pop(L, 1);
    return 0;
}

int script_static_request(script_t *s, char **buf, size_t *len, uint32_t *pipeline,
                          const uint8_t **heads)
{
    static_args_t a = { buf, len, pipeline, heads };
    return guard(s, static_glue, &a, "wrk.request()");
}

static sconn_t *sc_of(conn_t *c) { return c->user; }

__attribute__((format(printf, 2, 3)))
static int thread_error(script_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    if (s->thread) snprintf(s->thread->error, sizeof s->thread->error, "%s", s->error);
    return SCRIPT_EFAIL;
}

/* Take the request string at the top of the stack as sc's pending request. */
static int take_request(sconn_t *sc, const char *hook)
{
    script_t *s = sc->s;
    lua_State *L = s->L;
    if (lua_type(L, -1) != LUA_TSTRING) {
        char loc[256];
        const char *type = lua_typename(L, lua_type(L, -1));
        lua_pop(L, 1);
        where(L, s->request_ref, loc, sizeof loc);
        return thread_error(s, "%s: %s must return a string, got %s (in %s)", loc, hook, type, hook);
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
            where(L, s->request_ref, loc, sizeof loc);
            return thread_error(s, "%s: %s returned something that is not a complete HTTP request, or several in a row (build it with wrk.format()) (in %s)", loc, hook, hook);
        }
        sc->req_str = str;
    }
    if (sc->req_ref == LUA_NOREF) sc->req_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else lua_rawseti(L, LUA_REGISTRYINDEX, sc->req_ref); /* the connection's slot, reused */
    sc->pending = 1;
    return 0;
}

static void on_timer(loop_timer_t *tm)
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
static int wait_ms(sconn_t *sc, double ms, const char *hook)
{
    script_t *s = sc->s;
    if (ms != ms || ms < 0)
        return thread_error(s, "%s waits %g ms: a wait must be a number of milliseconds >= 0 (in %s)", hook, ms, hook);
    if (ms >= WAIT_FOREVER_MS) {
        if (!s->timed)
            return thread_error(s, "%s waits %g ms, which with -n and no -d would never end: give -d or a shorter wait (in %s)",
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
static int user_step(sconn_t *sc, int nargs)
{
    script_t *s = sc->s;
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->resume_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->user_ref);
    lua_insert(L, base + 1);
    lua_insert(L, base + 1);
    if (pcall(s, nargs + 1, 3, "user()")) return SCRIPT_EFAIL;
    const char *kind = lua_tostring(L, -3);
    if (kind && !strcmp(kind, "request")) {
        const char *name = lua_tostring(L, -1);
        sc->name = stats_named_index(s->stats, name ? name : "?");
        lua_pop(L, 1);
        lua_remove(L, -2);
        return take_request(sc, "u:request()");
    }
    if (kind && !strcmp(kind, "sleep")) {
        double ms = lua_tonumber(L, -2);
        lua_pop(L, 3);
        return wait_ms(sc, ms, "u:sleep()");
    }
    lua_pop(L, 3);
    return thread_error(s, "user(u) yielded something unexpected (do not call coroutine.yield in user()) (in user())");
}

static int hook_next(conn_t *c, conn_req_t *req)
{
    sconn_t *sc = sc_of(c);
    script_t *s = sc->s;
    lua_State *L = s->L;
    if (sc->waiting) return CONN_NEXT_WAIT;
    if (!sc->pending) {
        if (s->mode == MODE_USER) {
            if (sc->user_ref == LUA_NOREF) {
                lua_rawgeti(L, LUA_REGISTRYINDEX, s->user_new_ref);
                lua_pushinteger(L, (lua_Integer)c->index + 1);
                if (pcall(s, 1, 1, "user()")) return SCRIPT_EFAIL;
                sc->user_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            }
            int rc = user_step(sc, 0);
            if (rc) return rc;
        } else {
            if (s->delay_ref != LUA_NOREF && !sc->delayed) {
                lua_rawgeti(L, LUA_REGISTRYINDEX, s->delay_ref);
                if (pcall(s, 0, 1, "delay()")) return SCRIPT_EFAIL;
                if (!lua_isnumber(L, -1) && !lua_isnil(L, -1)) { /* nil: 0, as wrk */
                    const char *type = lua_typename(L, lua_type(L, -1));
                    lua_pop(L, 1);
                    char loc[256];
                    where(L, s->delay_ref, loc, sizeof loc);
                    return thread_error(s, "%s: delay() must return a number of milliseconds, got %s (in delay())", loc, type);
                }
                double ms = lua_tonumber(L, -1);
                lua_pop(L, 1);
                if (ms != 0) { /* wrk's rule: 0 sends at once */
                    sc->delayed = 1;
                    return wait_ms(sc, ms, "delay()");
                }
            }
            sc->delayed = 0;
            lua_rawgeti(L, LUA_REGISTRYINDEX, s->request_ref);
            if (pcall(s, 0, 1, "request()")) return SCRIPT_EFAIL;
            int rc = take_request(sc, "request()");
            if (rc) return rc;
        }
    }
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

/* Push what a virtual user's response needs: the headers keyed by
 * lower-case name, repeated ones joined with ", " (RFC 9110 5.3), then the
 * Set-Cookie values as a list (nil when there are none: the jar is only
 * touched when the server sets a cookie). Done here rather than in Lua:
 * it runs for every response of a workflow. */
static void push_user_headers(lua_State *L, const http_capture_t *cap)
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
        return thread_error(s, "a response body of %zu bytes is too large for a script (at most 1 GiB): "
                            "request something smaller (in %s)", cap->bseen,
                            s->mode == MODE_USER ? "user()" : "response()");
    if (s->mode == MODE_USER) {
        if (sc->name >= 0) {
            stats_named_t *n = &s->stats->named[sc->name];
            n->requests++;
            n->failures += c->resp_failed;
            if (stats_code_add(&n->codes, &n->ncodes, (uint32_t)status, 1)) return -ENOMEM;
            hist_record(&n->latency, latency_us);
        }
        if (c->inflight) return 0; /* not the last of a pipelined batch */
        lua_pushinteger(L, status);
        push_user_headers(L, cap);
        lua_pushlstring(L, cap->blen ? cap->body : "", cap->blen);
        return user_step(sc, 4);
    }
    if (s->response_ref == LUA_NOREF) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->response_ref);
    lua_pushinteger(L, status);
    push_headers(L, cap);
    lua_pushlstring(L, cap->blen ? cap->body : "", cap->blen);
    return pcall(s, 3, 0, "response()");
}

static const char *const error_names[] = { "connect", "read", "write", "timeout", "parse" };

/* The hooks conn.c calls: each runs guarded (see guard()). */
typedef struct hook_args { conn_t *c; conn_req_t *req; uint64_t us; int why; } hook_args_t;

static int next_glue(script_t *s, void *arg)
{
    (void)s;
    hook_args_t *a = arg;
    return hook_next(a->c, a->req);
}

static int guarded_next(conn_t *c, conn_req_t *req)
{
    sconn_t *sc = sc_of(c);
    if (sc->waiting) return CONN_NEXT_WAIT;
    hook_args_t a = { .c = c, .req = req };
    return guard(sc->s, next_glue, &a, sc->s->mode == MODE_USER ? "user()" : "request()");
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
    return guard(sc->s, response_glue, &a, sc->s->mode == MODE_USER ? "user()" : "response()");
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
    return guard(sc_of(c)->s, failed_glue, &a, "user()");
}

static int hook_failed(conn_t *c, enum conn_error why)
{
    sconn_t *sc = sc_of(c);
    script_t *s = sc->s;
    if (s->mode != MODE_USER) return 0; /* wrk semantics: the next request() is sent */
    if (sc->name >= 0) {
        s->stats->named[sc->name].requests++;
        s->stats->named[sc->name].failures++;
    }
    lua_State *L = s->L;
    lua_pushinteger(L, 0);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushliteral(L, "");
    lua_pushstring(L, error_names[why]);
    return user_step(sc, 5);
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
        sc->user_ref = sc->req_ref = LUA_NOREF;
        sc->name = -1;
        loop_timer_init(&sc->timer, on_timer);
        conns[i].user = sc;
    }
    return 0;
}

/* ------------------------------------------------------------ done() */

static int has_done_glue(script_t *s, void *arg)
{
    *(int *)arg = is_function(s->L, "done");
    return 0;
}

int script_has_done(script_t *s)
{
    int has = 0;
    /* a _G whose __index raises: the error then shows in script_done() */
    if (guard(s, has_done_glue, &has, "done()")) return 1;
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
    raw_global(L, "done");
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
    lua_newtable(L); /* names: Locust-style per-name stats */
    for (size_t i = 0; i < t->nnamed; i++) {
        const stats_named_t *n = &t->named[i];
        lua_newtable(L);
        set_number(L, "requests", (double)n->requests);
        set_number(L, "failures", (double)n->failures);
        set_number(L, "rps", duration_us ? (double)n->requests * 1e6 / (double)duration_us : 0);
        push_stats(L, &n->latency);
        lua_setfield(L, -2, "latency");
        lua_setfield(L, -2, n->name);
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
    push_stats(L, &t->latency);
    push_stats(L, &t->rate);
    return pcall(s, 3, 0, "done()");
}

int script_done(script_t *s, const stats_t *t, uint64_t duration_us)
{
    s->stats = NULL;
    done_args_t a = { t, duration_us };
    return guard(s, done_glue, &a, "done()");
}
