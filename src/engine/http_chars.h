/* http_chars.h - byte classes and word-at-a-time scanning shared by the
 * request scanner (http_request.c) and the response parser (http.c).
 * Internal to src/engine/http*.c, and to src/script/script_request.c, which
 * checks the requests it writes with the same classes. */
#ifndef BARRAGE_HTTP_CHARS_H
#define BARRAGE_HTTP_CHARS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Byte classes: tchar (RFC 9110 5.6.2), and the bytes that end a request
 * target or a field value (SP, controls, DEL; HTAB is part of a value). */
enum { C_TCHAR = 1, C_END_VALUE = 2, C_END_TARGET = 4 };
static const uint8_t cls[256] = {
    [0x00 ... 0x08] = C_END_VALUE | C_END_TARGET,
    ['\t'] = C_END_TARGET,
    [0x0a ... 0x1f] = C_END_VALUE | C_END_TARGET,
    [' '] = C_END_TARGET,
    [0x7f] = C_END_VALUE | C_END_TARGET,
    ['0' ... '9'] = C_TCHAR, ['A' ... 'Z'] = C_TCHAR, ['a' ... 'z'] = C_TCHAR,
    ['!'] = C_TCHAR, ['#'] = C_TCHAR, ['$'] = C_TCHAR, ['%'] = C_TCHAR, ['&'] = C_TCHAR,
    ['\''] = C_TCHAR, ['*'] = C_TCHAR, ['+'] = C_TCHAR, ['-'] = C_TCHAR, ['.'] = C_TCHAR,
    ['^'] = C_TCHAR, ['_'] = C_TCHAR, ['`'] = C_TCHAR, ['|'] = C_TCHAR, ['~'] = C_TCHAR,
};

static inline int is_tchar(unsigned char c) { return cls[c] & C_TCHAR; }

static inline int ieq(const char *a, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 32) != lower[i]) return 0;
    return 1;
}

#define ONES 0x0101010101010101ULL
/* Some byte of x is below n (n <= 128): exact as a whole, per byte it may
 * flag bytes above the first hit (bit twiddling hacks' hasless). */
static inline uint64_t has_less(uint64_t x, unsigned n)
{
    return (x - ONES * n) & ~x & (ONES * 0x80);
}

/* The first byte from p of class `stop` (or end). Eight bytes at a time:
 * the lowest byte has_less flags is a real hit (a stop, or HTAB in a value). */
static inline const char *skip_to(const char *p, const char *end, unsigned below, uint8_t stop)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t hit = has_less(x, below) | has_less(x ^ (ONES * 0x7f), 1);
        if (!hit) {
            p += 8;
            continue;
        }
        p += __builtin_ctzll(hit) >> 3;
        if (cls[(unsigned char)*p] & stop) return p;
        p++;
    }
#else
    (void)below;
#endif
    while (p < end && !(cls[(unsigned char)*p] & stop)) p++;
    return p;
}

/* The first byte from p that is not a tchar (or end): eight at a time while
 * they all are. */
static inline const char *skip_tchars(const char *p, const char *end)
{
    while (end - p >= 8) {
        const unsigned char *u = (const unsigned char *)p;
        if (!(cls[u[0]] & cls[u[1]] & cls[u[2]] & cls[u[3]] & cls[u[4]] & cls[u[5]] & cls[u[6]] &
              cls[u[7]] & C_TCHAR))
            break;
        p += 8;
    }
    while (p < end && is_tchar((unsigned char)*p)) p++;
    return p;
}

/* One header field at *pp, as both fast scans read them: 1 with the name
 * [name, name + nl) (tchars before ':') and the value [v, cr) (leading
 * whitespace included), *pp past its CRLF; 0 for the blank line that ends
 * the head (*pp past it); -1 for anything else (cut short, or a form left to
 * llhttp). */
static inline int http_next_field(const char **pp, const char *end, const char **name, size_t *nl,
                                  const char **v, const char **cr)
{
    const char *p = *pp;
    if (end - p < 2) return -1;
    if (p[0] == '\r') {
        if (p[1] != '\n') return -1;
        *pp = p + 2;
        return 0;
    }
    *name = p;
    p = skip_tchars(p, end);
    if (p == *name || p == end || *p != ':') return -1;
    *nl = (size_t)(p - *name);
    *v = p + 1;
    *cr = skip_to(*v, end, 0x20, C_END_VALUE);
    if (end - *cr < 2 || (*cr)[0] != '\r' || (*cr)[1] != '\n') return -1;
    *pp = *cr + 2;
    return 1;
}

/* A Content-Length value [v, cr) as llhttp takes it: optional SP/HTAB, 1-15
 * digits, optional trailing SP (no trailing HTAB). 0 with *out, or -1. */
static inline int http_clen_value(const char *v, const char *cr, uint64_t *out)
{
    while (v < cr && (*v == ' ' || *v == '\t')) v++;
    while (cr > v && cr[-1] == ' ') cr--;
    if (v == cr || cr - v > 15) return -1;
    uint64_t n = 0;
    for (; v < cr; v++) {
        if (*v < '0' || *v > '9') return -1;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    *out = n;
    return 0;
}

#endif
