/* json.c - a strict, recursive-descent JSON reader into a flat DOM.
 *
 * Memory: the document keeps one copy of the text (strings are decoded into
 * it in place: an escape never decodes to more bytes than it spells, so the
 * write position never passes the read position), one growing array of
 * values, and one array of child pointers. While parsing, values refer to
 * each other by index, because the value array moves when it grows; children
 * wait on a shared stack until their container closes, then move into the
 * child array as one contiguous run, so json_at is O(1). Once the text is
 * consumed, indices become pointers.
 *
 * Positions: newlines may only appear in whitespace (a raw newline inside a
 * string is an error), so the line is tracked while skipping whitespace and
 * every column is the offset from the last line start. */
#define _GNU_SOURCE
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_doc {
    char *text;                    /* copy of the input; strings point into it */
    json_value_t *values;          /* values[0] is the root */
    size_t nvalues;
    const json_value_t **items;    /* every container's children, in runs */
};

typedef struct parser {
    char *buf;                     /* the document's copy (decoded in place) */
    size_t len, pos;
    uint32_t line;                 /* line of pos */
    size_t line_start;             /* offset where that line begins */
    int depth, max_depth;
    json_value_t *values;          /* children: u = offset of their run in kids while parsing */
    size_t nvalues, vcap;
    size_t *kids;                  /* value indices, each container's run contiguous */
    size_t nkids, kcap;
    size_t *stack;                 /* children of the open containers */
    size_t nstack, scap;
    int nomem;
    char *err;
    size_t errlen;
} parser_t;

/* Report a syntax error at offset `at` of the current line. Returns -1. */
static int fail_at(parser_t *p, size_t at, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        size_t col = at >= p->line_start ? at - p->line_start + 1 : 1;
        int n = snprintf(p->err, p->errlen, "%u:%zu: ", p->line, col);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static int out_of_memory(parser_t *p)
{
    p->nomem = 1;
    if (p->err && p->errlen) snprintf(p->err, p->errlen, "out of memory");
    return -1;
}

/* A byte as the message shows it: 'x' when printable, else 0xNN. */
static const char *show_byte(unsigned char c, char *buf, size_t size)
{
    if (c >= 0x20 && c < 0x7f) snprintf(buf, size, "'%c'", c);
    else snprintf(buf, size, "byte 0x%02x", c);
    return buf;
}

static int grow(void **ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size) return -1;
        n *= 2;
    }
    void *q = realloc(*ptr, n * size);
    if (!q) return -1;
    *ptr = q;
    *cap = n;
    return 0;
}

/* A new value at the current position; its index, or -1. */
static long new_value(parser_t *p, json_type_t type)
{
    if (grow((void **)&p->values, &p->vcap, p->nvalues + 1, sizeof *p->values)) return out_of_memory(p);
    json_value_t *v = &p->values[p->nvalues];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->line = p->line;
    size_t col = p->pos - p->line_start + 1;
    v->col = col > UINT32_MAX ? UINT32_MAX : (uint32_t)col;
    return (long)p->nvalues++;
}

static int push(parser_t *p, size_t index)
{
    if (grow((void **)&p->stack, &p->scap, p->nstack + 1, sizeof *p->stack)) return out_of_memory(p);
    p->stack[p->nstack++] = index;
    return 0;
}

static void skip_ws(parser_t *p)
{
    while (p->pos < p->len) {
        char c = p->buf[p->pos];
        if (c == '\n') {
            p->pos++;
            if (p->line < UINT32_MAX) p->line++;
            p->line_start = p->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static int parse_value(parser_t *p, size_t *index);

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) { d[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

size_t json_utf8_seq(const unsigned char *s, size_t n) { return utf8_seq(s, n); }

/* The string at pos (on its opening quote), decoded in place into a new value. */
static int parse_string(parser_t *p, size_t *index)
{
    long vi = new_value(p, JSON_STRING);
    if (vi < 0) return -1;
    size_t open = p->pos;
    size_t src = ++p->pos, dst = src;
    char *b = p->buf;
    for (;;) {
        if (src >= p->len) return fail_at(p, open, "unterminated string");
        unsigned char c = (unsigned char)b[src];
        if (c == '"') break;
        if (c == '\\') {
            if (src + 1 >= p->len) return fail_at(p, open, "unterminated string");
            char e = b[src + 1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char out[] = "\"\\/\b\f\n\r\t";
                b[dst++] = out[simple - "\"\\/bfnrt"];
                src += 2;
                continue;
            }
            if (e != 'u') {
                char sb[16];
                if (e >= 0x20 && e < 0x7f) return fail_at(p, src, "invalid escape '\\%c' in a string", e);
                return fail_at(p, src, "invalid escape (backslash then %s) in a string",
                               show_byte((unsigned char)e, sb, sizeof sb));
            }
            unsigned cp;
            if (src + 6 > p->len || hex4(b + src + 2, &cp))
                return fail_at(p, src, "invalid \\u escape: expected 4 hex digits");
            size_t used = 6;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail_at(p, src, "unpaired surrogate \\u%04X in a string", cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (src + 12 > p->len || b[src + 6] != '\\' || b[src + 7] != 'u' || hex4(b + src + 8, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return fail_at(p, src, "unpaired surrogate \\u%04X in a string", cp);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                used = 12;
            }
            dst += put_utf8(b + dst, cp);   /* at most 4 bytes for 12, 3 for 6 */
            src += used;
            continue;
        }
        if (c < 0x20) {
            char sb[16];
            return fail_at(p, src, "control character (%s) in a string: escape it", show_byte(c, sb, sizeof sb));
        }
        if (c < 0x80) {
            b[dst++] = (char)c;
            src++;
            continue;
        }
        size_t n = utf8_seq((const unsigned char *)b + src, p->len - src);
        if (!n) return fail_at(p, src, "invalid UTF-8 in a string");
        memmove(b + dst, b + src, n);
        dst += n;
        src += n;
    }
    b[dst] = 0;   /* dst <= src, the closing quote's place or before */
    p->pos = src + 1;
    json_value_t *v = &p->values[vi];
    v->str = b + open + 1;
    v->len = dst - (open + 1);
    *index = (size_t)vi;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(parser_t *p, size_t *index)
{
    long vi = new_value(p, JSON_NUMBER);
    if (vi < 0) return -1;
    const char *b = p->buf;
    size_t start = p->pos, i = start;
    int neg = 0, plain = 1;
    if (b[i] == '-') { neg = 1; i++; }
    if (i >= p->len || !is_digit(b[i])) return fail_at(p, i, "invalid number: expected a digit after '-'");
    if (b[i] == '0') {
        i++;
        if (i < p->len && is_digit(b[i])) return fail_at(p, start, "invalid number: leading zeros are not allowed");
    } else {
        while (i < p->len && is_digit(b[i])) i++;
    }
    if (i < p->len && b[i] == '.') {
        plain = 0;
        i++;
        if (i >= p->len || !is_digit(b[i])) return fail_at(p, i, "invalid number: expected a digit after '.'");
        while (i < p->len && is_digit(b[i])) i++;
    }
    if (i < p->len && (b[i] == 'e' || b[i] == 'E')) {
        plain = 0;
        i++;
        if (i < p->len && (b[i] == '+' || b[i] == '-')) i++;
        if (i >= p->len || !is_digit(b[i])) return fail_at(p, i, "invalid number: expected a digit in the exponent");
        while (i < p->len && is_digit(b[i])) i++;
    }
    /* The span is a valid JSON number and the byte after it is not part of
     * one, so strtod (the buffer is NUL-terminated) reads exactly the span. */
    errno = 0;
    double d = strtod(b + start, NULL);
    if (isinf(d)) return fail_at(p, start, "number out of range");
    json_value_t *v = &p->values[vi];
    v->num = d;
    if (plain && !neg) {
        uint64_t u = 0;
        int fits = 1;
        for (size_t k = start; k < i; k++) {
            unsigned digit = (unsigned)(b[k] - '0');
            if (u > (UINT64_MAX - digit) / 10) { fits = 0; break; }
            u = u * 10 + digit;
        }
        if (fits) { v->exact = 1; v->u = u; }
    } else if (d >= 0 && d == floor(d) && d <= 9007199254740992.0) {
        v->exact = 1;   /* 1e3, 2.0, -0: integers a double holds exactly */
        v->u = (uint64_t)d;
    }
    p->pos = i;
    *index = (size_t)vi;
    return 0;
}

static int parse_literal(parser_t *p, size_t *index)
{
    static const struct { const char *word; json_type_t type; } lits[] = {
        { "true", JSON_TRUE }, { "false", JSON_FALSE }, { "null", JSON_NULL },
    };
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(lits[k].word);
        if (p->buf[p->pos] != lits[k].word[0]) continue;
        if (p->len - p->pos < n || memcmp(p->buf + p->pos, lits[k].word, n))
            return fail_at(p, p->pos, "invalid literal (expected '%s')", lits[k].word);
        long vi = new_value(p, lits[k].type);
        if (vi < 0) return -1;
        p->pos += n;
        *index = (size_t)vi;
        return 0;
    }
    char sb[16];
    return fail_at(p, p->pos, "unexpected %s: expected a value",
                   show_byte((unsigned char)p->buf[p->pos], sb, sizeof sb));
}

/* Move the children pushed since `base` into the kids array as one run. */
static int close_container(parser_t *p, size_t vi, size_t base, size_t count)
{
    size_t n = p->nstack - base;
    if (grow((void **)&p->kids, &p->kcap, p->nkids + n, sizeof *p->kids)) return out_of_memory(p);
    if (n) memcpy(p->kids + p->nkids, p->stack + base, n * sizeof *p->kids);
    p->values[vi].u = p->nkids;   /* the run's offset, until the end of the parse */
    p->values[vi].len = count;
    p->nkids += n;
    p->nstack = base;
    return 0;
}

/* An array or object at pos (on its bracket); object members go on the stack as key, value. */
static int parse_container(parser_t *p, size_t *index)
{
    int object = p->buf[p->pos] == '{';
    char close = object ? '}' : ']';
    if (++p->depth > p->max_depth)
        return fail_at(p, p->pos, "nesting deeper than %d levels", p->max_depth);
    long vi = new_value(p, object ? JSON_OBJECT : JSON_ARRAY);
    if (vi < 0) return -1;
    size_t base = p->nstack, count = 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->buf[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            size_t k;
            skip_ws(p);
            if (p->pos >= p->len)
                return fail_at(p, p->pos, "unexpected end of input: expected %s", object ? "a key" : "a value");
            if (object) {
                char c = p->buf[p->pos];
                if (c != '"') {
                    char sb[16];
                    if (c == '}' && count) return fail_at(p, p->pos, "trailing comma before '}'");
                    return fail_at(p, p->pos, "unexpected %s: expected a string key",
                                   show_byte((unsigned char)c, sb, sizeof sb));
                }
                if (parse_string(p, &k) || push(p, k)) return -1;
                skip_ws(p);
                if (p->pos >= p->len) return fail_at(p, p->pos, "unexpected end of input: expected ':'");
                if (p->buf[p->pos] != ':') {
                    char sb[16];
                    return fail_at(p, p->pos, "unexpected %s: expected ':' after the key",
                                   show_byte((unsigned char)p->buf[p->pos], sb, sizeof sb));
                }
                p->pos++;
                skip_ws(p);
            } else if (p->buf[p->pos] == ']' && count) {
                return fail_at(p, p->pos, "trailing comma before ']'");
            }
            if (parse_value(p, &k) || push(p, k)) return -1;
            count++;
            skip_ws(p);
            if (p->pos >= p->len)
                return fail_at(p, p->pos, "unexpected end of input: expected ',' or '%c'", close);
            char c = p->buf[p->pos];
            if (c == ',') { p->pos++; continue; }
            if (c == close) { p->pos++; break; }
            char sb[16];
            return fail_at(p, p->pos, "unexpected %s: expected ',' or '%c'", show_byte((unsigned char)c, sb, sizeof sb),
                           close);
        }
    }
    p->depth--;
    if (close_container(p, (size_t)vi, base, count)) return -1;
    *index = (size_t)vi;
    return 0;
}

static int parse_value(parser_t *p, size_t *index)
{
    skip_ws(p);
    if (p->pos >= p->len) return fail_at(p, p->pos, "unexpected end of input: expected a value");
    char c = p->buf[p->pos];
    if (c == '{' || c == '[') return parse_container(p, index);
    if (c == '"') return parse_string(p, index);
    if (c == '-' || is_digit(c)) return parse_number(p, index);
    return parse_literal(p, index);
}

int json_parse(json_doc_t **out, const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    parser_t p;
    memset(&p, 0, sizeof p);
    p.err = err;
    p.errlen = errlen;
    p.line = 1;
    p.max_depth = max_depth <= 0 ? JSON_DEPTH_DEFAULT : max_depth > JSON_DEPTH_MAX ? JSON_DEPTH_MAX : max_depth;
    json_doc_t *doc = calloc(1, sizeof *doc);
    p.buf = len < SIZE_MAX ? malloc(len + 1) : NULL;
    if (!doc || !p.buf) {
        free(doc);
        free(p.buf);
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (len) memcpy(p.buf, text, len);
    p.buf[len] = 0;
    p.len = len;
    if (len >= 3 && !memcmp(p.buf, "\xef\xbb\xbf", 3)) p.pos = p.line_start = 3;

    size_t root;
    int rc = parse_value(&p, &root);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos < p.len) {
            char sb[16];
            rc = fail_at(&p, p.pos, "unexpected %s after the document",
                         show_byte((unsigned char)p.buf[p.pos], sb, sizeof sb));
        }
    }
    const json_value_t **items = NULL;
    if (rc == 0 && p.nkids) {
        items = malloc(p.nkids * sizeof *items);
        if (!items) rc = out_of_memory(&p);
    }
    free(p.stack);
    if (rc) {
        free(p.kids);
        free(p.values);
        free(p.buf);
        free(doc);
        return p.nomem ? -ENOMEM : -EINVAL;
    }
    /* Indices become pointers now that the value array no longer moves. */
    for (size_t i = 0; i < p.nkids; i++) items[i] = &p.values[p.kids[i]];
    for (size_t i = 0; i < p.nvalues; i++) {
        json_value_t *v = &p.values[i];
        if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
            v->items = v->len ? items + v->u : NULL;
            v->u = 0;
        }
    }
    free(p.kids);
    doc->text = p.buf;
    doc->values = p.values;
    doc->nvalues = p.nvalues;
    doc->items = items;
    (void)root;   /* always 0: the first value created */
    *out = doc;
    return 0;
}

int json_parse_file(json_doc_t **out, const char *path, int max_depth, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot read: %s", strerror(e));
        return -e;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t n = cap ? cap * 2 : 65536;
            char *q = n > cap ? realloc(buf, n) : NULL;
            if (!q) { rc = -ENOMEM; snprintf(err, errlen, "cannot read: out of memory"); break; }
            buf = q;
            cap = n;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = errno ? -errno : -EIO;
                snprintf(err, errlen, "cannot read: %s", strerror(-rc));
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0) rc = json_parse(out, buf ? buf : "", len, max_depth, err, errlen);
    free(buf);
    return rc;
}

void json_free(json_doc_t *doc)
{
    if (!doc) return;
    free(doc->text);
    free(doc->values);
    free((void *)doc->items);
    free(doc);
}

const json_value_t *json_root(const json_doc_t *doc)
{
    return doc && doc->nvalues ? &doc->values[0] : NULL;
}

void json_write_string(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    if (!s) n = 0;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else if (c >= 0x80) { /* the reader's own check: what is written reads back */
            size_t len = utf8_seq(p + i, n - i);
            if (!len) fputs("\\ufffd", f);
            else fwrite(p + i, 1, len, f);
            i += len ? len : 1;
            continue;
        } else fputc(c, f);
        i++;
    }
    fputc('"', f);
}
