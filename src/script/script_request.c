/* script_request.c - a virtual user's request and response, in C: the
 * workflow's hot path. barrage._send (behind u:request/u:get/..., whose
 * checks and options stay in barrage.lua) merges the headers (wrk.headers,
 * u.headers, the request's own; names case-insensitive, the last spelling
 * wins), adds the cookie jar, Content-Type for json and Content-Length,
 * writes the request into the connection's own buffer (no Lua string, no
 * table per request), sets the expected statuses and keeps the name, and
 * yields true to the C side (script_user_step), which gives it its
 * statistics row and sends it. The response comes back as values that
 * barrage._user_respond makes one table of (script_push_response), the
 * server's Set-Cookie values already in the jar. barrage.lua's build_request
 * (wrk.format) stays the reference for the request bytes: the same headers,
 * the same order of the special ones. */
#include "script_internal.h"

#include "http_chars.h" /* is_tchar, ieq: the HTTP byte classes the engine uses */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

/* barrage._send's upvalues: its state, the wrk table the prelude saw, and
 * the key strings it reads (pushed, not interned again per request). */
enum { UP_STATE = 1, UP_WRK, UP_HEADERS, UP_COOKIES };

/* An error at the script's line: level 1 is barrage.lua's u:request, level
 * 2 the user's code that called it (u:get tail-calls u:request). */
__attribute__((noreturn, format(printf, 2, 3)))
static void raise(lua_State *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    luaL_where(L, 2);
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    lua_error(L);
    abort(); /* not reached: lua_error does not return */
}

/* ------------------------------------------------------------- buffer */

static void reserve(lua_State *L, sconn_t *sc, size_t n)
{
    if (sc->rlen + n <= sc->rcap) return;
    size_t cap = sc->rcap ? sc->rcap : 256;
    while (cap < sc->rlen + n) cap *= 2;
    char *b = realloc(sc->rbuf, cap);
    if (!b) raise(L, "u:request: out of memory building a request of %zu bytes", sc->rlen + n);
    sc->rbuf = b;
    sc->rcap = cap;
}

static inline void put(lua_State *L, sconn_t *sc, const char *p, size_t n)
{
    if (sc->rlen + n > sc->rcap) reserve(L, sc, n);
    memcpy(sc->rbuf + sc->rlen, p, n);
    sc->rlen += n;
}
#define PUTS(L, sc, lit) put(L, sc, lit, sizeof lit - 1)

/* ------------------------------------------------------------- headers */

static int same_name(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl) return 0;
    for (size_t i = 0; i < al; i++) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i], y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
        if (x != y) return 0;
    }
    return 1;
}

/* The value at idx as text, as tostring() gives it: strings and numbers as
 * they are, anything else through the global tostring (its result pushed:
 * the caller keeps it on the stack while it uses the bytes). *pushed is
 * set when a value was pushed. */
static const char *text_of(lua_State *L, int idx, size_t *len, int *pushed)
{
    *pushed = 0;
    if (lua_type(L, idx) == LUA_TSTRING) return lua_tolstring(L, idx, len);
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, idx < 0 && idx > LUA_REGISTRYINDEX ? idx - 1 : idx);
    lua_call(L, 1, 1);
    *pushed = 1;
    const char *t = lua_tolstring(L, -1, len);
    if (!t) raise(L, "u:request: tostring() of a header value did not give a string");
    return t;
}

/* A header's or a cookie's name and value can go on the wire: a token
 * name, and a value with no line break or control character (HTAB aside
 * in a header; no ';' in a cookie, which would end it). */
static void check_field(lua_State *L, const char *what, const char *n, size_t nl, const char *v, size_t vl)
{
    int cookie = what[0] == 'c';
    if (!nl) raise(L, "u:request: a %s name is empty", what);
    for (size_t i = 0; i < nl; i++)
        if (!is_tchar((unsigned char)n[i])) raise(L, "u:request: %s name '%.60s' has a character a name cannot have", what, n);
    for (size_t i = 0; i < vl; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 && (cookie || ch != '\t')) || ch == 0x7f || (cookie && ch == ';'))
            raise(L, "u:request: the value of %s '%.60s' has %s", what, n,
                  cookie ? "a ';', a line break or a control character" : "a line break or a control character");
    }
}

typedef struct hent { const char *n, *v; size_t nl, vl; } hent_t;

/* Merge the header table at idx into s->hents (case-insensitive names, the
 * last spelling given replacing an earlier one). Values that are not
 * strings are converted and their strings left on the stack below the
 * iteration key, which keeps them alive while the request is written. */
static void merge(lua_State *L, script_t *s, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE) return;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            raise(L, "u:request: a header name must be a string, got a %s", luaL_typename(L, -2));
        size_t nl, vl;
        const char *n = lua_tolstring(L, -2, &nl);
        int pushed;
        const char *v = text_of(L, -1, &vl, &pushed);
        check_field(L, "header", n, nl, v, vl);
        size_t k = 0;
        while (k < s->nhents && !same_name(s->hents[k].n, s->hents[k].nl, n, nl)) k++;
        if (k == s->nhents) {
            if (s->nhents == s->hcap) {
                size_t cap = s->hcap ? s->hcap * 2 : 16;
                hent_t *e = realloc(s->hents, cap * sizeof *e);
                if (!e) raise(L, "u:request: out of memory");
                s->hents = e;
                s->hcap = cap;
            }
            s->nhents++;
        }
        s->hents[k] = (hent_t){ n, v, nl, vl };
        if (pushed) {                 /* key value str */
            lua_replace(L, -2);       /* key str */
            lua_insert(L, -2);        /* str key: str stays, key goes on */
            if (!lua_checkstack(L, 4)) raise(L, "u:request: too many headers");
        } else {
            lua_pop(L, 1);
        }
    }
}

static int cmp_text(const void *a, const void *b)
{
    const hent_t *x = a, *y = b;
    size_t n = x->nl < y->nl ? x->nl : y->nl;
    int c = memcmp(x->n, y->n, n);
    return c ? c : (x->nl > y->nl) - (x->nl < y->nl);
}

/* Cookie: the jar's name=value pairs, sorted, joined with "; " (one pair
 * as it is). Uses s->hents past the headers as scratch. */
static void put_cookies(lua_State *L, script_t *s, sconn_t *sc, int jar)
{
    if (lua_type(L, jar) != LUA_TTABLE) return;
    size_t first = s->nhents, n = 0;
    lua_pushnil(L);
    while (lua_next(L, jar)) {
        int pushed, kpushed = 0;
        size_t kl, vl;
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER)
            raise(L, "u:request: a cookie name in u.cookies must be a string, got a %s", luaL_typename(L, -2));
        const char *v = text_of(L, -1, &vl, &pushed), *k;
        if (kt == LUA_TNUMBER) { /* a copy converted: lua_next needs the key itself untouched */
            lua_pushvalue(L, pushed ? -3 : -2);
            k = lua_tolstring(L, -1, &kl);
            kpushed = 1;
        } else {
            k = lua_tolstring(L, pushed ? -3 : -2, &kl);
        }
        check_field(L, "cookie", k, kl, v, vl);
        if (first + n == s->hcap) {
            size_t cap = s->hcap ? s->hcap * 2 : 16;
            hent_t *e = realloc(s->hents, cap * sizeof *e);
            if (!e) raise(L, "u:request: out of memory");
            s->hents = e;
            s->hcap = cap;
        }
        s->hents[first + n++] = (hent_t){ k, v, kl, vl };
        /* key value [vstr] [kstr]: keep the converted strings, below the key */
        int anchors = pushed + kpushed;
        lua_remove(L, -(anchors + 1));          /* key [vstr] [kstr] */
        if (anchors) {
            lua_pushvalue(L, -(anchors + 1));   /* key [vstr] [kstr] key */
            lua_remove(L, -(anchors + 2));      /* [vstr] [kstr] key */
            if (!lua_checkstack(L, 4)) raise(L, "u:request: too many cookies");
        }
    }
    if (!n) return;
    hent_t *c = s->hents + first;
    if (n > 1) {
        /* sorted as "k=v" strings: join each pair in a scratch Lua buffer */
        luaL_checkstack(L, LUA_MINSTACK, "u:request: cookies");
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (size_t i = 0; i < n; i++) {
            luaL_addlstring(&b, c[i].n, c[i].nl);
            luaL_addchar(&b, '=');
            luaL_addlstring(&b, c[i].v, c[i].vl);
            luaL_addchar(&b, 0);
        }
        luaL_pushresult(&b); /* stays on the stack: the pairs point into it */
        const char *p = lua_tostring(L, -1);
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(p);
            c[i] = (hent_t){ p, NULL, len, 0 };
            p += len + 1;
        }
        qsort(c, n, sizeof *c, cmp_text);
    }
    PUTS(L, sc, "Cookie: ");
    for (size_t i = 0; i < n; i++) {
        if (i) PUTS(L, sc, "; ");
        put(L, sc, c[i].n, c[i].nl);
        if (n == 1) {
            PUTS(L, sc, "=");
            put(L, sc, c[i].v, c[i].vl);
        }
    }
    PUTS(L, sc, "\r\n");
}

/* barrage._send(u, method, path, name, headers, body, expect, json): the
 * request u:request made ready (its arguments checked by barrage.lua),
 * then a yield to the C side that sends it; the response table comes back
 * as its result. */
static int l_send(lua_State *L)
{
    script_t *s = lua_touserdata(L, lua_upvalueindex(UP_STATE));
    sconn_t *sc = s ? s->cur : NULL;
    if (!sc) raise(L, "u:request: requests can only be made while user() or a barrage.user{} task runs");
    size_t ml, pl;
    const char *method = lua_tolstring(L, 2, &ml), *path = lua_tolstring(L, 3, &pl);
    if (!method || !ml) raise(L, "u:request: the method is empty");
    for (size_t i = 0; i < ml; i++)
        if (!is_tchar((unsigned char)method[i])) raise(L, "u:request: method '%.40s' is not an HTTP method name", method);
    if (!pl) raise(L, "u:request: the path is empty: give at least \"/\"");
    for (size_t i = 0; i < pl; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch <= 0x20 || ch == 0x7f)
            raise(L, "u:request: path '%.80s' has a space, a line break or a control character: percent-encode it "
                  "(a space is %%20)", path);
    }
    /* the expected statuses */
    if (lua_isnil(L, 7)) {
        sc->c->expect = NULL;
    } else {
        size_t el;
        const char *spec = lua_tolstring(L, 7, &el);
        char msg[320];
        if (script_expect_set(sc, spec ? spec : "", spec ? el : 0, msg, sizeof msg)) raise(L, "%s", msg);
    }
    /* the headers */
    int top = lua_gettop(L);
    s->nhents = 0;
    lua_pushvalue(L, lua_upvalueindex(UP_HEADERS));
    lua_gettable(L, lua_upvalueindex(UP_WRK));
    int wh = lua_gettop(L);
    merge(L, s, wh);
    lua_pushvalue(L, lua_upvalueindex(UP_HEADERS));
    lua_gettable(L, 1);
    int uh = lua_gettop(L);
    merge(L, s, uh);
    merge(L, s, 5);
    int has_cookie = 0, has_ctype = 0;
    sc->rlen = 0;
    put(L, sc, method, ml);
    PUTS(L, sc, " ");
    put(L, sc, path, pl);
    PUTS(L, sc, " HTTP/1.1\r\n");
    for (size_t i = 0; i < s->nhents; i++) {
        const hent_t *e = &s->hents[i];
        if (e->nl == 14 && ieq(e->n, "content-length", 14)) continue; /* from the body, below */
        if (e->nl == 6 && ieq(e->n, "cookie", 6)) has_cookie = 1;
        if (e->nl == 12 && ieq(e->n, "content-type", 12)) has_ctype = 1;
        put(L, sc, e->n, e->nl);
        PUTS(L, sc, ": ");
        put(L, sc, e->v, e->vl);
        PUTS(L, sc, "\r\n");
    }
    if (!has_cookie) {
        lua_pushvalue(L, lua_upvalueindex(UP_COOKIES));
        lua_gettable(L, 1);
        put_cookies(L, s, sc, lua_gettop(L));
    }
    if (lua_toboolean(L, 8) && !has_ctype) PUTS(L, sc, "Content-Type: application/json\r\n");
    size_t bl = 0;
    const char *body = lua_tolstring(L, 6, &bl);
    if (!body && ((ml == 4 && !memcmp(method, "POST", 4)) || (ml == 3 && !memcmp(method, "PUT", 3)) ||
                  (ml == 5 && !memcmp(method, "PATCH", 5)) || (ml == 6 && !memcmp(method, "DELETE", 6))))
        body = "", bl = 0;
    if (body) {
        char cl[48];
        int n = snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", bl);
        put(L, sc, cl, (size_t)n);
    }
    PUTS(L, sc, "\r\n");
    if (bl) put(L, sc, body, bl);
    lua_settop(L, top);
    /* HEAD answers have no body */
    sc->cbuilt_head = ml == 4 && !memcmp(method, "HEAD", 4);
    /* the name: its statistics row, and r.name */
    int pushed = 0;
    if (lua_isnil(L, 4)) lua_pushvalue(L, 3), lua_replace(L, 4);
    if (lua_type(L, 4) != LUA_TSTRING) { /* a number, say: its text for the row, pushed */
        size_t nl;
        text_of(L, 4, &nl, &pushed);
    }
    /* the statistics row comes once the yield has happened (script_user_step):
     * a u:get that cannot yield (inside a gsub callback, say) leaves none */
    size_t mk = ml < sizeof sc->req_method - 1 ? ml : sizeof sc->req_method - 1;
    memcpy(sc->req_method, method, mk);
    sc->req_method[mk] = 0;
    lua_pushvalue(L, 4); /* r.name: the name as given */
    if (sc->name_ref == LUA_NOREF) sc->name_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else lua_rawseti(L, LUA_REGISTRYINDEX, sc->name_ref);
    if (pushed) { /* its text, for the row (a name that is not a string) */
        if (sc->name_text_ref == LUA_NOREF) sc->name_text_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        else lua_rawseti(L, LUA_REGISTRYINDEX, sc->name_text_ref);
    }
    sc->name_is_text = !pushed;
    sc->cbuilt = 1;
    lua_pushboolean(L, 1); /* "a request is ready": script_user_step takes it from sc */
    return lua_yield(L, 1);
}

/* ------------------------------------------------------------- response */

/* A Set-Cookie value into the jar at index jar: the first name=value pair
 * (name trimmed); Max-Age=0, a negative Max-Age or an empty value removes
 * the cookie. */
static void store_cookie(lua_State *L, int jar, const char *v, size_t vl)
{
    const char *p = v, *end = v + vl;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v')) p++;
    const char *pair_end = memchr(p, ';', (size_t)(end - p));
    if (!pair_end) pair_end = end;
    const char *eq = memchr(p, '=', (size_t)(pair_end - p));
    if (!eq || eq == p) return;
    const char *k = p, *ke = eq;
    while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    const char *val = eq + 1;
    size_t val_len = (size_t)(pair_end - val);
    int remove = val_len == 0;
    for (const char *q = v; !remove && q + 8 < end; q++)
        if (ieq(q, "max-age=", 8) && (q[8] == '0' || q[8] == '-')) remove = 1;
    lua_pushlstring(L, k, (size_t)(ke - k));
    if (remove) lua_pushnil(L);
    else lua_pushlstring(L, val, val_len);
    lua_rawset(L, jar);
}

/* The server's Set-Cookie values into sc's user's jar (u.cookies), in the
 * order received: the jar is only touched when the server sets a cookie. */
static void store_cookies(lua_State *L, sconn_t *sc, const http_capture_t *cap)
{
    const char *p = cap->hbuf;
    int jar = 0;
    for (uint32_t i = 0; i < cap->nheaders; i++) {
        size_t nl = strlen(p);
        const char *v = p + nl + 1;
        size_t vl = strlen(v);
        if (nl == 10 && ieq(p, "set-cookie", 10)) {
            if (!jar) {
                if (sc->user_ref == LUA_NOREF) return;
                lua_rawgeti(L, LUA_REGISTRYINDEX, sc->user_ref);
                lua_getfield(L, -1, "cookies");
                lua_remove(L, -2);
                if (lua_type(L, -1) != LUA_TTABLE) { lua_pop(L, 1); return; }
                jar = lua_gettop(L);
            }
            store_cookie(L, jar, v, vl);
        }
        p = v + vl + 1;
    }
    if (jar) lua_pop(L, 1);
}

/* barrage._headers(raw): the response headers as a table keyed by
 * lower-case name, repeated ones joined with ", " (RFC 9110 5.3), from the
 * name\0value\0 block the response carries (nil: none). r.headers calls it
 * on first use: most workflows never read the headers, and the table is
 * the costliest part of a response. */
static int l_headers(lua_State *L)
{
    size_t len = 0;
    const char *p = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL, *end = p ? p + len : NULL;
    lua_createtable(L, 0, 8);
    int t = lua_gettop(L);
    char small[128];
    while (p && p < end) {
        size_t nl = strlen(p);
        const char *v = p + nl + 1;
        if (v >= end) break;
        size_t vl = strlen(v);
        luaL_Buffer b;
        if (nl < sizeof small) {
            for (size_t k = 0; k < nl; k++) small[k] = (char)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]);
            lua_pushlstring(L, small, nl);
        } else {
            luaL_buffinit(L, &b);
            for (size_t k = 0; k < nl; k++) luaL_addchar(&b, (char)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]));
            luaL_pushresult(&b);
        }
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
        p = v + vl + 1;
    }
    return 1;
}

int script_push_response(sconn_t *sc, const script_response_t *r)
{
    script_t *s = sc->s;
    lua_State *L = s->L;
    if (r->cap) store_cookies(L, sc, r->cap);
    lua_pushinteger(L, r->status);
    if (r->cap && r->cap->nheaders) lua_pushlstring(L, r->cap->hbuf, r->cap->hlen);
    else lua_pushnil(L);
    if (r->cap && r->cap->blen) lua_pushlstring(L, r->cap->body, r->cap->blen);
    else lua_pushliteral(L, "");
    if (r->error) lua_pushstring(L, r->error);
    else lua_pushnil(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sc->name_ref);
    lua_pushboolean(L, r->failed);
    lua_pushnumber(L, r->elapsed);
    lua_pushnumber(L, r->connect);
    lua_pushnumber(L, r->tls);
    lua_pushnumber(L, r->ttfb);
    lua_pushnumber(L, r->token);
    return 11;
}

void script_request_open(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "barrage.script");
    lua_getglobal(L, "wrk");
    lua_pushliteral(L, "headers");
    lua_pushliteral(L, "cookies");
    lua_pushcclosure(L, l_send, 4);
    lua_setfield(L, -2, "_send");
    lua_pushcfunction(L, l_headers);
    lua_setfield(L, -2, "_headers");
}
