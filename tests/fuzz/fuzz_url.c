/* fuzz_url.c - libFuzzer target for config_parse_url, and for what main.c
 * does next with an accepted URL: the Host header and the request line.
 *
 * Invariants checked (a violation traps):
 *   - a rejected URL leaves a one-line message and nothing allocated;
 *   - an accepted URL has scheme http/https, a non-empty host of allowed
 *     characters, a decimal port 1..65535, a path starting with '/' and free
 *     of spaces, control characters and '#', and default_port consistent;
 *   - the GET request formatted from it is exactly one valid HTTP request
 *     (http_count_requests == 1), so an accepted URL never produces bytes
 *     the target cannot parse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"

/* A broken invariant: say which, then trap (libFuzzer saves the input). */
#define CHECK(c) do { if (!(c)) { \
    fprintf(stderr, "fuzz invariant failed: %s:%d: %s\n", __FILE__, __LINE__, #c); \
    __builtin_trap(); } } while (0)

static int is_port(const char *p)
{
    if (!*p || *p == '0') return 0;
    long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (*p - '0');
        if (v > 65535) return 0;
    }
    return v >= 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;

    config_url_t u;
    char err[512];
    err[0] = 0;
    int rc = config_parse_url(s, &u, err, sizeof err);
    if (rc) {
        CHECK(rc == -1);
        CHECK(err[0]);
        CHECK(!u.scheme && !u.host && !u.port && !u.path);
        config_url_free(&u); /* harmless on a zeroed struct */
        free(s);
        return 0;
    }
    CHECK(u.scheme && u.host && u.port && u.path);
    int https = !strcmp(u.scheme, "https");
    CHECK(https || !strcmp(u.scheme, "http"));
    CHECK(u.host[0]);
    for (const char *q = u.host; *q; q++)
        CHECK((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              strchr(".-_:%", *q));
    CHECK(is_port(u.port));
    CHECK(u.default_port == !strcmp(u.port, https ? "443" : "80"));
    CHECK(u.path[0] == '/');
    for (const unsigned char *q = (const unsigned char *)u.path; *q; q++)
        CHECK(*q > ' ' && *q != 0x7f && *q != '#');

    /* What main.c does with it (same buffer size for the Host value). */
    char host[300];
    http_host_header(host, sizeof host, u.host, u.is_ipv6, u.port, u.default_port);
    char *req = NULL;
    size_t req_len = 0;
    if (http_format(&req, &req_len, "GET", u.path, host, NULL, 0, NULL, 0, 0) == 0) {
        CHECK(req_len == strlen(req));
        CHECK(http_count_requests(req, req_len) == 1);
        free(req);
    }
    config_url_free(&u);
    CHECK(!u.scheme && !u.host && !u.port && !u.path);
    free(s);
    return 0;
}
