/* config_url.c - http(s) URLs parsed into their parts (the target, and
 * --metrics-push's address), one line naming what is wrong. */
#include "config_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_url_free(config_url_t *u)
{
    free(u->scheme); free(u->host); free(u->port); free(u->path);
    memset(u, 0, sizeof *u);
}

static char *dupn(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) { memcpy(r, s, n); r[n] = 0; }
    return r;
}

int config_parse_url(const char *s, config_url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *p;
    const char *def_port;
    if (!strncmp(s, "http://", 7)) { u->scheme = strdup("http"); p = s + 7; def_port = "80"; }
    else if (!strncmp(s, "https://", 8)) { u->scheme = strdup("https"); p = s + 8; def_port = "443"; }
    else if (strstr(s, "://"))
        return config_fail(err, errlen, "invalid URL '%s': only http:// and https:// are supported", s);
    else
        return config_fail(err, errlen, "invalid URL '%s': it needs a scheme, e.g. http://%s", s, s);

    const char *auth_end = p + strcspn(p, "/?#");
    if (auth_end == p) {
        config_url_free(u);
        return config_fail(err, errlen, "invalid URL '%s': no host (use e.g. http://127.0.0.1:8080/)", s);
    }
    if (memchr(p, '@', (size_t)(auth_end - p))) {
        config_url_free(u);
        return config_fail(err, errlen, "invalid URL '%s': user:password@ is not supported (send -H 'Authorization: ...')", s);
    }
    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(auth_end - p));
        if (!rb || rb == p + 1) {
            config_url_free(u);
            return config_fail(err, errlen, "invalid URL '%s': unterminated IPv6 address (write it as [::1])", s);
        }
        host = p + 1; host_end = rb;
        u->is_ipv6 = 1;
        if (rb + 1 < auth_end) {
            if (rb[1] != ':') {
                config_url_free(u);
                return config_fail(err, errlen, "invalid URL '%s': unexpected text after ']'", s);
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        host_end = colon ? colon : auth_end;
        if (colon) port = colon + 1;
        if (host_end == host) {
            config_url_free(u);
            return config_fail(err, errlen, "invalid URL '%s': no host (use e.g. http://127.0.0.1:8080/)", s);
        }
    }
    for (const char *q = host; q < host_end; q++) {
        if (!isalnum((unsigned char)*q) && !strchr(".-_:%", *q)) {
            config_url_free(u);
            return config_fail(err, errlen, "invalid URL '%s': bad character '%c' in host", s, *q);
        }
    }
    u->host = dupn(host, (size_t)(host_end - host));
    if (port && port < auth_end) {
        size_t n = (size_t)(auth_end - port);
        long v = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)port[i]) || i > 5) { v = -1; break; }
            v = v * 10 + (port[i] - '0');
        }
        if (v < 1 || v > 65535) {
            config_url_free(u);
            return config_fail(err, errlen, "invalid URL '%s': port must be a number from 1 to 65535", s);
        }
        char buf[8];
        snprintf(buf, sizeof buf, "%ld", v);
        u->port = strdup(buf);
    } else if (port) {
        config_url_free(u);
        return config_fail(err, errlen, "invalid URL '%s': empty port after ':'", s);
    } else {
        u->port = strdup(def_port);
    }
    u->default_port = !strcmp(u->port, def_port);
    const char *path_end = auth_end + strcspn(auth_end, "#");
    if (*auth_end == '?') {
        size_t n = (size_t)(path_end - auth_end);
        u->path = malloc(n + 2);
        if (u->path) { u->path[0] = '/'; memcpy(u->path + 1, auth_end, n); u->path[n + 1] = 0; }
    } else if (path_end > auth_end) {
        u->path = dupn(auth_end, (size_t)(path_end - auth_end));
    } else {
        u->path = strdup("/");
    }
    for (const char *q = u->path ? u->path : ""; *q; q++) {
        if ((unsigned char)*q <= ' ' || *q == 0x7f) {
            config_url_free(u);
            return config_fail(err, errlen, "invalid URL '%s': spaces and control characters must be percent-encoded", s);
        }
    }
    if (!u->scheme || !u->host || !u->port || !u->path) {
        config_url_free(u);
        return config_fail(err, errlen, "out of memory");
    }
    return 0;
}
