/* script_options.c - a script's global `options` table (k6's `export let
 * options`), read before the run and handed to config entry by entry, each
 * value written as the text its command-line option takes.
 *
 * The table is read from a state of its own, loaded and freed here: the
 * options must be final before the run's main state is created (wrk.*
 * and the run's limits come from the configuration). The script's main
 * chunk runs once more for it, as it does in every worker; a script whose
 * text never mentions `options` is not loaded here at all. */
#define _GNU_SOURCE /* memmem */
#include "script_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

typedef struct reader {
    lua_State *L;
    config_t *cfg;
    char *err;
    size_t errlen;
} reader_t;

static int fail(reader_t *r, const char *fmt, const char *key, const char *what)
{
    snprintf(r->err, r->errlen, fmt, key, what);
    return -1;
}

/* A number as its option's text: integers without a fraction. */
static void number_text(double v, char *buf, size_t len)
{
    if (v == (double)(long long)v && v > -1e15 && v < 1e15) snprintf(buf, len, "%lld", (long long)v);
    else snprintf(buf, len, "%.15g", v);
}

/* The string keys of the table at the top, sorted (a table's order is its
 * hash's: the options apply, and thresholds list, the same every run).
 * NULL-terminated array of borrowed strings (valid while the table is). */
static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **sorted_keys(reader_t *r, const char *where, size_t *n)
{
    lua_State *L = r->L;
    size_t cap = 16, k = 0;
    const char **keys = malloc(cap * sizeof *keys);
    if (!keys) { fail(r, "%s: out of memory%s", where, ""); return NULL; }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) continue; /* the array part: the caller's */
        if (k + 1 >= cap) {
            const char **g = realloc(keys, (cap *= 2) * sizeof *keys);
            if (!g) { free(keys); lua_pop(L, 1); fail(r, "%s: out of memory%s", where, ""); return NULL; }
            keys = g;
        }
        keys[k++] = lua_tostring(L, -1);
    }
    qsort(keys, k, sizeof *keys, by_name);
    keys[k] = NULL;
    *n = k;
    return keys;
}

/* stages = { {duration = "30s", target = 20}, ... } -> "30s:20,..." */
static int stages_text(reader_t *r, char *buf, size_t len)
{
    lua_State *L = r->L;
    size_t n = lua_objlen(L, -1), used = 0;
    if (!n) return fail(r, "options.%s: expected a list like { {duration = \"30s\", target = 20} }%s", "stages", "");
    buf[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (int)i);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            return fail(r, "options.%s: each stage is a table like {duration = \"30s\", target = 20}%s", "stages", "");
        }
        lua_getfield(L, -1, "duration");
        lua_getfield(L, -2, "target");
        char dur[64], target[64];
        int ok = lua_type(L, -1) == LUA_TNUMBER &&
                 (lua_type(L, -2) == LUA_TSTRING || lua_type(L, -2) == LUA_TNUMBER);
        if (ok) {
            number_text(lua_tonumber(L, -1), target, sizeof target);
            if (lua_type(L, -2) == LUA_TNUMBER) number_text(lua_tonumber(L, -2), dur, sizeof dur);
            else snprintf(dur, sizeof dur, "%s", lua_tostring(L, -2));
        }
        lua_pop(L, 3);
        if (!ok)
            return fail(r, "options.%s: a stage needs duration (e.g. \"30s\") and target (a number): "
                        "{duration = \"30s\", target = 20}%s", "stages", "");
        int w = snprintf(buf + used, len - used, "%s%s:%s", i > 1 ? "," : "", dur, target);
        if (w < 0 || (size_t)w >= len - used) return fail(r, "options.%s: too many stages%s", "stages", "");
        used += (size_t)w;
    }
    return 0;
}

/* One threshold: KEY:EXPR (or EXPR alone from the array part). */
static int threshold_one(reader_t *r, const char *key, const char *expr, int abort_on_fail)
{
    char buf[1024];
    int w = key ? snprintf(buf, sizeof buf, "%s:%s", key, expr) : snprintf(buf, sizeof buf, "%s", expr);
    if (w < 0 || (size_t)w >= sizeof buf) return fail(r, "options.thresholds: '%.60s' is too long%s", expr, "");
    return config_apply_script(r->cfg, "thresholds", buf, abort_on_fail ? CONFIG_VALUE_ABORT : CONFIG_VALUE_THRESHOLD,
                               r->err, r->errlen);
}

/* The value at the top: "expr", or {threshold = "expr", abortOnFail = bool}. */
static int threshold_value(reader_t *r, const char *key)
{
    lua_State *L = r->L;
    const char *shown = key ? key : "thresholds";
    if (lua_type(L, -1) == LUA_TSTRING) return threshold_one(r, key, lua_tostring(L, -1), 0);
    if (!lua_istable(L, -1))
        return fail(r, "options.thresholds: %s: expected expressions like \"p(95)<500\", got a %s", shown,
                    luaL_typename(L, -1));
    lua_getfield(L, -1, "threshold");
    lua_getfield(L, -2, "abortOnFail");
    int ok = lua_type(L, -2) == LUA_TSTRING && (lua_isnil(L, -1) || lua_isboolean(L, -1));
    int abort_on_fail = lua_toboolean(L, -1);
    const char *expr = lua_tostring(L, -2);
    lua_pop(L, 2);
    if (!ok)
        return fail(r, "options.thresholds: %s: expected \"p(95)<500\" or {threshold = \"p(95)<500\", "
                    "abortOnFail = true}%s", shown, "");
    /* delayAbortEval and anything else: not silently dropped */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
        if (strcmp(k, "threshold") && strcmp(k, "abortOnFail")) {
            char what[96];
            snprintf(what, sizeof what, "%.60s", k);
            lua_pop(L, 1);
            return fail(r, "options.thresholds: %s: unknown field '%s' (use threshold and abortOnFail)", shown, what);
        }
    }
    return threshold_one(r, key, expr, abort_on_fail);
}

/* thresholds = { METRIC = {"expr", ...} or "expr", ..., "expr" (barrage's) } */
static int thresholds(reader_t *r)
{
    lua_State *L = r->L;
    size_t n = lua_objlen(L, -1);
    for (size_t i = 1; i <= n; i++) { /* barrage's own expressions, in order */
        lua_rawgeti(L, -1, (int)i);
        int rc = threshold_value(r, NULL);
        lua_pop(L, 1);
        if (rc) return -1;
    }
    size_t nk;
    const char **keys = sorted_keys(r, "options.thresholds", &nk);
    if (!keys) return -1;
    int rc = 0;
    for (size_t i = 0; !rc && i < nk; i++) {
        lua_getfield(L, -1, keys[i]);
        if (lua_istable(L, -1) && lua_objlen(L, -1) > 0) {
            for (size_t j = 1; !rc && j <= lua_objlen(L, -1); j++) {
                lua_rawgeti(L, -1, (int)j);
                rc = threshold_value(r, keys[i]);
                lua_pop(L, 1);
            }
        } else {
            rc = threshold_value(r, keys[i]);
        }
        lua_pop(L, 1);
    }
    free(keys);
    return rc;
}

/* One key of options, its value at the top. */
static int option(reader_t *r, const char *key)
{
    lua_State *L = r->L;
    char text[4096];
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        return config_apply_script(r->cfg, key, lua_tostring(L, -1), CONFIG_VALUE_STRING, r->err, r->errlen);
    case LUA_TNUMBER:
        number_text(lua_tonumber(L, -1), text, sizeof text);
        return config_apply_script(r->cfg, key, text, CONFIG_VALUE_NUMBER, r->err, r->errlen);
    case LUA_TBOOLEAN:
        return config_apply_script(r->cfg, key, lua_toboolean(L, -1) ? "true" : "false", CONFIG_VALUE_BOOLEAN,
                                   r->err, r->errlen);
    case LUA_TTABLE:
        if (!strcmp(key, "thresholds")) return thresholds(r);
        if (!strcmp(key, "stages")) {
            if (stages_text(r, text, sizeof text)) return -1;
            return config_apply_script(r->cfg, key, text, CONFIG_VALUE_STAGES, r->err, r->errlen);
        }
        /* an unknown key first, else the key's expected type */
        return config_apply_script(r->cfg, key, "a table", CONFIG_VALUE_STAGES, r->err, r->errlen);
    default:
        return fail(r, "options.%s: expected a string, a number or a boolean, got a %s", key, luaL_typename(L, -1));
    }
}

/* Whether the file's text mentions `options` at all (no: nothing to read). */
static int mentions_options(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 1; /* script_load says why */
    char buf[8192];
    size_t keep = 0, n;
    int found = 0;
    while (!found && (n = fread(buf + keep, 1, sizeof buf - keep, f)) > 0) {
        size_t len = keep + n;
        found = memmem(buf, len, "options", 7) != NULL;
        keep = len < 6 ? len : 6;             /* the word may straddle two reads */
        memmove(buf, buf + len - keep, keep);
    }
    fclose(f);
    return found;
}

int script_options(const char *path, config_t *cfg, char *err, size_t errlen)
{
    if (!mentions_options(path)) return 0;
    script_t *s = script_load(path, cfg, err, errlen);
    if (!s) return -1;
    reader_t r = { s->L, cfg, err, errlen };
    lua_State *L = s->L;
    int rc = 0;
    lua_getglobal(L, "options");
    if (lua_isnil(L, -1)) {
        rc = 0;
    } else if (!lua_istable(L, -1)) {
        rc = fail(&r, "options: expected a table, e.g. options = { duration = \"30s\" }, got a %s%s",
                  luaL_typename(L, -1), "");
    } else if (lua_objlen(L, -1) > 0) {
        rc = fail(&r, "options: expected names as keys, e.g. options = { vus = 10, duration = \"30s\" }%s%s", "", "");
    } else {
        size_t n;
        const char **keys = sorted_keys(&r, "options", &n);
        if (!keys) rc = -1;
        for (size_t i = 0; keys && !rc && i < n; i++) {
            lua_getfield(L, -1, keys[i]);
            rc = option(&r, keys[i]);
            lua_pop(L, 1);
        }
        free(keys);
    }
    script_free(s);
    return rc;
}
