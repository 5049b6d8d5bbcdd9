/* script_api.c - the wrk API objects a state holds: wrk.lookup and
 * wrk.connect, the thread objects (thread.addr, get/set/stop) and the
 * transfer of values between states they need, done()'s statistics objects
 * (latency, requests), check(), and the wrk and barrage tables that
 * script_api_open puts in a new state. */
#include "script_internal.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#define MAX_DEPTH 32

static const char *THREAD_MT = "barrage.thread";
static const char *STATS_MT = "barrage.stats";

/* ---------------------------------------------------- values across states */

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
const char *script_ser(lua_State *L, int idx, sbuf_t *b, int depth)
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
            const char *e = script_ser(L, -2, b, depth + 1);
            if (!e) e = script_ser(L, -1, b, depth + 1);
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
int script_deser(lua_State *L, const char **p, const char *end)
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
            if (script_deser(L, p, end) || script_deser(L, p, end)) return -1;
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
    const char *e = script_ser(from, -1, &b, 0);
    lua_pop(from, 1);
    if (!e && b.bad) e = "out of memory";
    if (!e) {
        const char *p = b.p;
        if (script_deser(to, &p, b.p + b.len)) e = "corrupt value";
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
void script_push_staged(lua_State *L, script_thread_t *t)
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
    g->e = script_ser(W, -1, &g->b, 0);
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
            if (script_deser(L, &p, g.b.p + g.b.len)) g.e = "corrupt value";
        }
        free(g.b.p);
        if (g.e) return luaL_error(L, "thread:get('%s'): %s", name, g.e);
        return 1;
    }
    /* setup(): values set so far, else the script's global of that name (wrk
     * reads the thread's state, which ran the same script), as a copy */
    script_push_staged(L, t);
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
    const char *e = script_ser(L, 3, &b, 0);
    free(b.p);
    if (e) return luaL_error(L, "thread:set('%s'): %s", name, e);
    /* staged in the main state, serialized when setup is over */
    script_push_staged(L, t);
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

void script_push_thread(lua_State *L, script_thread_t *t)
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

void script_push_stats(lua_State *L, const hist_t *h)
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
    script_t *s = lua_touserdata(L, lua_upvalueindex(1));
    if (!s || !s->stats) return luaL_error(L, "check() can only be called while the test runs");
    int i = stats_check_index(s->stats, name);
    if (i < 0) return luaL_error(L, "check(): out of memory");
    if (ok) s->stats->checks[i].pass++;
    else s->stats->checks[i].fail++;
    return 0;
}

/* barrage.now(): the monotonic clock of the latencies and r.timings, in ms. */
static int l_now(lua_State *L)
{
    lua_pushnumber(L, (double)loop_now() / 1e6);
    return 1;
}

/* barrage._iteration(): one user() iteration (or task) completed; k6's
 * `iterations`. Called by the prelude's user loop. */
static int l_iteration(lua_State *L)
{
    script_t *s = lua_touserdata(L, lua_upvalueindex(1));
    if (s && s->stats) s->stats->iterations++;
    return 0;
}

/* ------------------------------------------------- the wrk and barrage tables */

static void set_string(lua_State *L, const char *k, const char *v)
{
    if (v) lua_pushstring(L, v);
    else lua_pushnil(L);
    lua_setfield(L, -2, k);
}


void script_api_open(lua_State *L, const config_t *cfg)
{
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
    /* the per-request functions carry their state as an upvalue (no registry lookup per call) */
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.script"); lua_pushcclosure(L, l_check, 1); lua_setfield(L, -2, "_check");
    lua_pushcfunction(L, l_now); lua_setfield(L, -2, "now");
    script_request_open(L); /* barrage._send */
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.script"); lua_pushcclosure(L, script_l_mark, 1); lua_setfield(L, -2, "_mark");
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.script"); lua_pushcclosure(L, l_iteration, 1); lua_setfield(L, -2, "_iteration");
    script_user_open(L); /* barrage._duration_ms, barrage._mono */
    lua_pushstring(L, BARRAGE_VERSION); lua_setfield(L, -2, "version");
    lua_createtable(L, 0, 2); /* barrage.shard: partition test data by it */
    lua_pushinteger(L, cfg->shard_index); lua_setfield(L, -2, "index");
    lua_pushinteger(L, cfg->shard_count); lua_setfield(L, -2, "count");
    lua_setfield(L, -2, "shard");
    lua_setglobal(L, "barrage");
}
