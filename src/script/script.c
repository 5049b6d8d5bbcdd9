/* script.c - the LuaJIT glue (see script.h): a script's life. States are
 * created and loaded here (the prelude, the user's script, setup(), init()),
 * every C-side call into Lua runs through script_guard() and script_pcall(),
 * and script_interrupt stops a state's code. The rest is apart, sharing
 * script_internal.h: script_api.c (wrk.*, thread objects, values between
 * states, done()'s statistics objects, check()), script_hooks.c (the
 * per-request hooks), script_user.c (user() coroutines) and script_done.c
 * (done()). The Lua half of the API lives in barrage.lua, embedded at build
 * time (barrage_lua.h) and loaded with luaL_loadbuffer, so a stripped binary
 * still finds it. */
#include "script_internal.h"

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
#include "seed.h"

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

int script_fail(script_t *s, const char *hook)
{
    const char *msg = lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : NULL;
    snprintf(s->error, sizeof s->error, "%s (in %s)", msg ? msg : "unknown error", hook);
    lua_pop(s->L, 1);
    if (s->thread) snprintf(s->thread->error, sizeof s->thread->error, "%s", s->error);
    return SCRIPT_EFAIL;
}

/* Call the function below nargs arguments with the handler at index 1. */
int script_pcall(script_t *s, int nargs, int nres, const char *hook)
{
    if (lua_pcall(s->L, nargs, nres, 1)) return script_fail(s, hook);
    return 0;
}

const char *script_error(const script_t *s) { return s->error; }

/* Protected glue. Any Lua API call may raise (out of memory, a string past
 * LuaJIT's limit, a metamethod of the script's: a strict _G, a read-only
 * wrk), and a raise outside lua_pcall is a LuaJIT PANIC that ends the
 * process. So every C-side sequence of Lua calls runs as fn inside
 * script_guard(): a pcall of guard_entry, which puts on_error at index 1 of
 * its own frame so fn's script_pcall(s, ..., hook) calls work unchanged. The
 * two functions are made once per state: a guarded call allocates nothing. */
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
int script_guard(script_t *s, int (*fn)(script_t *, void *), void *arg, const char *hook)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    guarded_t g = { fn, s, arg, 0 };
    /* two slots: within the LUA_MINSTACK every frame has, so nothing here raises */
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->guard_ref);
    lua_pushlightuserdata(L, &g);
    int rc = lua_pcall(L, 1, 0, 1) ? script_fail(s, hook) : g.rc;
    lua_settop(L, top);
    return rc;
}

/* Where a function was defined, for "must return" errors. */
void script_where(lua_State *L, int ref, char *buf, size_t n)
{
    lua_Debug ar;
    snprintf(buf, n, "?");
    if (ref == LUA_NOREF) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return; }
    if (lua_getinfo(L, ">S", &ar)) snprintf(buf, n, "%s:%d", ar.short_src, ar.linedefined);
}

__attribute__((format(printf, 2, 3)))
int script_errorf(script_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    if (s->thread) snprintf(s->thread->error, sizeof s->thread->error, "%s", s->error);
    return SCRIPT_EFAIL;
}

/* ------------------------------------------------------------- loading */

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

    script_api_open(L, cfg);
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
    lua_getfield(L, -1, "_user_stop");
    s->user_stop_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "_users_mode");
    s->users_mode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "_class_counts");
    s->class_counts_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "_user_respond");
    s->respond_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return 0;
}

static script_t *new_state(const config_t *cfg, uint32_t stream, char *err, size_t errlen)
{
    script_t *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
    s->request_ref = s->response_ref = s->delay_ref = s->user_new_ref = s->resume_ref = LUA_NOREF;
    s->user_stop_ref = s->users_mode_ref = s->class_counts_ref = s->respond_ref = LUA_NOREF;
    s->timed = cfg->duration_set || !cfg->requests;
    s->max_exceptions = cfg->max_exceptions;
    s->max_exceptions_untimed = cfg->max_exceptions_untimed;
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
    /* math.random: this state's own sequence of the run's seed (--seed),
     * before the script's main chunk draws from it */
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushnumber(L, seed_stream(cfg->seed, cfg->shard_index, stream));
    if (lua_pcall(L, 1, 0, 1)) {
        snprintf(err, errlen, "internal error seeding math.random: %s", lua_tostring(L, -1));
        script_free(s);
        return NULL;
    }
    lua_pop(L, 1);
    /* the workflow functions, before the script can replace `barrage` */
    if (script_guard(s, prelude_refs, NULL, "barrage.lua")) {
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
    if (script_pcall(s, 0, 0, "the script's main chunk")) {
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
    script_t *s = new_state(cfg, 0, err, errlen);
    if (s && load_user(s, path, err, errlen)) { script_free(s); s = NULL; }
    return s;
}

void script_free(script_t *s)
{
    if (!s) return;
    if (s->L) lua_sethook(s->L, NULL, 0, 0);
    if (s->L) lua_close(s->L);
    for (size_t i = 0; i < s->nsconns; i++) {
        http_reqs_free(&s->sconns[i].reqs);
        free(s->sconns[i].rbuf);
    }
    free(s->hents);
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
    if (script_pcall(s, 2, 0, "wrk.resolve()")) return SCRIPT_EFAIL;
    lua_getfield(L, -1, "addrs");
    a->n = lua_objlen(L, -1);
    return 0;
}

int script_resolve(script_t *s, const char *host, const char *port, char *err, size_t errlen)
{
    resolve_args_t a = { host, port, 0 };
    if (script_guard(s, resolve_glue, &a, "wrk.resolve()")) {
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
    script_push_thread(L, t);
    int rc = script_pcall(main, 1, 0, "setup()");
    lua_pop(L, 1);
    if (rc) return rc;
    if (!t->has_addr) {
        snprintf(main->error, sizeof main->error, "setup() left thread.addr unset (in setup())");
        return SCRIPT_EFAIL;
    }
    /* freeze thread:set values for the worker's own state */
    script_push_staged(L, t);
    sbuf_t b = { 0 };
    {
        const char *e = script_ser(L, -1, &b, 0);
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

int script_setup(script_t *main, script_thread_t *t) { return script_guard(main, setup_glue, t, "setup()"); }

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
void script_raw_global(lua_State *L, const char *name)
{
    lua_pushstring(L, name);
    lua_rawget(L, LUA_GLOBALSINDEX);
}

static int ref_function(lua_State *L, const char *name)
{
    script_raw_global(L, name);
    if (lua_isfunction(L, -1)) return luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return LUA_NOREF;
}

int script_is_function(lua_State *L, const char *name)
{
    script_raw_global(L, name);
    int r = lua_isfunction(L, -1);
    lua_pop(L, 1);
    return r;
}

static int thread_glue(script_t *s, void *arg);

script_t *script_load_thread(const char *path, const config_t *cfg, script_thread_t *t)
{
    char err[ERR_MAX];
    script_t *s = new_state(cfg, (uint32_t)t->index + 1, err, sizeof err);
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
    script_guard(s, thread_glue, (void *)cfg, "init()");
    return s;
}

/* The thread object, the thread:set values, init(args), and the hooks. */
static int thread_glue(script_t *s, void *arg)
{
    const config_t *cfg = arg;
    script_thread_t *t = s->thread;
    lua_State *L = s->L;
    lua_getglobal(L, "wrk");
    script_push_thread(L, t);
    lua_setfield(L, -2, "thread");
    /* thread:set values from setup() */
    if (t->staged) {
        const char *p = t->staged;
        if (script_deser(L, &p, t->staged + t->staged_len) == 0) {
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
    int rc = script_pcall(s, 1, 0, "init()");
    lua_pop(L, 1);
    if (rc) return rc;

    lua_rawgeti(L, LUA_REGISTRYINDEX, s->users_mode_ref);
    if (script_pcall(s, 0, 2, "barrage.user{}")) return SCRIPT_EFAIL;
    s->has_on_stop = lua_toboolean(L, -1);
    lua_pop(L, 1);
    const char *users = lua_tostring(L, -1);
    int has_user = users != NULL, classes = users && strcmp(users, "user");
    if (users && !strcmp(users, "both")) {
        snprintf(t->error, sizeof t->error, "the script defines both user() and barrage.user{} classes: keep one "
                 "(a class per kind of user, or one user(u) function)");
        return SCRIPT_EFAIL;
    }
    lua_pop(L, 1);
    if (has_user && script_is_function(L, "request")) {
        snprintf(t->error, sizeof t->error, "the script defines both %s and request(): keep one",
                 classes ? "barrage.user{} classes" : "user()");
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
    if (script_pcall(s, 0, 1, "wrk.request()")) return SCRIPT_EFAIL;
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
    return script_guard(s, static_glue, &a, "wrk.request()");
}
