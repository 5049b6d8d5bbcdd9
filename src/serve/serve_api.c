/* serve_api.c - the demo API (see serve_api.h).
 */
#define _GNU_SOURCE
#include "serve_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------
 * The demo API under /api/, for scripts/login.lua and the workflow tests.
 * Stateless on purpose: a token is "tok-" + the user's name, the session
 * cookie holds the name.
 *   POST /api/login  {"name": N, "password": "pw"} -> 200 {"token": "tok-N"}
 *                    and Set-Cookie: session=N; 401 on a wrong password
 *   GET  /api/items          (Authorization: Bearer tok-...) -> 200 JSON list
 *   GET  /api/items/ID       (Authorization) -> 200 item, 404 unknown ID
 *   POST /api/cart           (Cookie: session=...) -> 201, 403 without it
 *   GET  /api/me             (Cookie) -> 200 {"name": N}, 403 without it
 * Anything else under /api/ is 404. */

static const char *demo_items[] = { "apple", "banana", "cherry", "damson", "elderberry" };
#define DEMO_NITEMS (sizeof demo_items / sizeof demo_items[0])

static const serve_header_t *find_header(const serve_request_t *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name_len == n && !strncasecmp(req->headers[i].name, name, n))
            return &req->headers[i];
    return NULL;
}

/* The string value of "key" in a flat JSON object (demo-grade: no escapes). */
static int json_string(const char *body, size_t len, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *end = body + len, *p = body;
    size_t pl = strlen(pat);
    for (; p + pl <= end; p++) {
        if (memcmp(p, pat, pl)) continue;
        p += pl;
        while (p < end && (*p == ' ' || *p == ':' || *p == '\t')) p++;
        if (p >= end || *p != '"') return -1;
        const char *v = ++p;
        while (p < end && *p != '"') p++;
        if (p >= end || (size_t)(p - v) >= size) return -1;
        memcpy(out, v, (size_t)(p - v));
        out[p - v] = 0;
        return 0;
    }
    return -1;
}

/* The session cookie's value, or -1. */
static int session_of(const serve_request_t *req, char *out, size_t size)
{
    const serve_header_t *h = find_header(req, "Cookie");
    if (!h) return -1;
    const char *p = h->value, *end = h->value + h->value_len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ';')) p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) return -1;
        const char *semi = memchr(eq, ';', (size_t)(end - eq));
        if (!semi) semi = end;
        if (eq - p == 7 && !memcmp(p, "session", 7) && (size_t)(semi - eq - 1) < size && semi > eq + 1) {
            memcpy(out, eq + 1, (size_t)(semi - eq - 1));
            out[semi - eq - 1] = 0;
            return 0;
        }
        p = semi;
    }
    return -1;
}

static int has_token(const serve_request_t *req)
{
    const serve_header_t *h = find_header(req, "Authorization");
    return h && h->value_len > 11 && !memcmp(h->value, "Bearer tok-", 11);
}

static _Thread_local char demo_body[1024];
static _Thread_local char demo_headers[256];

static void demo_json(serve_response_t *res, int status, const char *fmt, const char *arg)
{
    int n = snprintf(demo_body, sizeof demo_body, fmt, arg);
    res->status = status;
    res->content_type = "application/json";
    res->body = demo_body;
    res->body_len = n < 0 ? 0 : (size_t)n >= sizeof demo_body ? sizeof demo_body - 1 : (size_t)n;
}

void serve_demo_api(const serve_request_t *req, serve_response_t *res)
{
    const char *path = req->path + 4; /* after "/api" */
    size_t len = req->path_len - 4;
    const char *q = memchr(path, '?', len);
    if (q) len = (size_t)(q - path);
    int get = !strcmp(req->method, "GET") || req->head, post = !strcmp(req->method, "POST");
    char name[64];
#define IS(p) (len == sizeof(p) - 1 && !memcmp(path, p, len))
    if (IS("/login") && post) {
        char pw[64];
        if (json_string(req->body, req->body_len, "name", name, sizeof name) ||
            json_string(req->body, req->body_len, "password", pw, sizeof pw) || strcmp(pw, "pw")) {
            demo_json(res, 401, "{\"error\": \"bad credentials%s\"}", "");
            return;
        }
        for (char *p = name; *p; p++)
            if (!isalnum((unsigned char)*p)) *p = '_';
        demo_json(res, 200, "{\"token\": \"tok-%s\"}", name);
        snprintf(demo_headers, sizeof demo_headers, "Set-Cookie: session=%s; Path=/; HttpOnly\r\n", name);
        res->headers = demo_headers;
    } else if (IS("/items") && get) {
        if (!has_token(req)) { demo_json(res, 401, "{\"error\": \"token required%s\"}", ""); return; }
        demo_json(res, 200, "[{\"id\": 1, \"name\": \"apple\"}, {\"id\": 2, \"name\": \"banana\"}, "
                  "{\"id\": 3, \"name\": \"cherry\"}, {\"id\": 4, \"name\": \"damson\"}, "
                  "{\"id\": 5, \"name\": \"elderberry\"}%s]", "");
    } else if (len > 7 && !memcmp(path, "/items/", 7) && get) {
        if (!has_token(req)) { demo_json(res, 401, "{\"error\": \"token required%s\"}", ""); return; }
        char *end;
        char idbuf[16];
        size_t il = len - 7 < sizeof idbuf - 1 ? len - 7 : sizeof idbuf - 1;
        memcpy(idbuf, path + 7, il);
        idbuf[il] = 0;
        long id = strtol(idbuf, &end, 10);
        if (*end || id < 1 || id > (long)DEMO_NITEMS) {
            demo_json(res, 404, "{\"error\": \"no such item%s\"}", "");
            return;
        }
        snprintf(name, sizeof name, "%ld", id);
        demo_json(res, 200, "{\"id\": %s, ", name);
        size_t n = res->body_len;
        snprintf(demo_body + n, sizeof demo_body - n, "\"name\": \"%s\"}", demo_items[id - 1]);
        res->body_len = strlen(demo_body);
    } else if (IS("/cart") && post) {
        if (session_of(req, name, sizeof name)) { demo_json(res, 403, "{\"error\": \"log in first%s\"}", ""); return; }
        demo_json(res, 201, "{\"ok\": true, \"user\": \"%s\"}", name);
    } else if (IS("/me") && get) {
        if (session_of(req, name, sizeof name)) { demo_json(res, 403, "{\"error\": \"log in first%s\"}", ""); return; }
        demo_json(res, 200, "{\"name\": \"%s\"}", name);
    } else {
        demo_json(res, 404, "{\"error\": \"not found%s\"}", "");
    }
#undef IS
}
