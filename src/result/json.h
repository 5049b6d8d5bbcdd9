/* json.h - a small, strict JSON reader (RFC 8259) into a read-only DOM.
 *
 * A document is parsed in one pass into a handful of allocations (a copy of
 * the text, in which strings are decoded in place; one array of values; one
 * array of child pointers), whatever its size. Strict: no comments, no
 * trailing commas, no leading zeros, no NaN/Infinity, no raw control
 * characters in strings, valid UTF-8 only, \uXXXX surrogates must pair; a
 * leading UTF-8 byte-order mark is skipped (RFC 8259 8.1). Nesting deeper
 * than the caller's limit is an error, so a hostile file cannot exhaust the
 * stack. Duplicate keys are kept; json_get answers the first.
 *
 * Every syntax error is one line, "LINE:COL: message" (1-based; COL counts
 * bytes, after the byte-order mark if any), e.g. "3:14: invalid escape '\q'
 * in a string".
 *
 * Numbers are kept as the nearest double and, when the value is an integer
 * in [0, 2^64), also exactly as a uint64_t: 9007199254740993 (2^53 + 1) reads
 * back exact, which a double cannot hold.
 *
 * The accessors accept NULL and answer NULL/0/-1 for a missing value or the
 * wrong type, so lookups chain: json_get(json_get(root, "summary"), "rps").
 */
#ifndef BARRAGE_JSON_H
#define BARRAGE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_DEFAULT 64    /* nesting limit when json_parse is given 0 */
#define JSON_DEPTH_MAX 1024      /* larger limits are lowered to this */

typedef enum json_type {
    JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_type_t;

typedef struct json_value json_value_t;

/* One value. Owned by its document; valid until json_free. */
struct json_value {
    json_type_t type;
    int exact;              /* JSON_NUMBER: 1 when u holds the value exactly (an integer in [0, 2^64)) */
    double num;             /* JSON_NUMBER: the value, rounded to the nearest double */
    uint64_t u;             /* JSON_NUMBER with exact: the value */
    const char *str;        /* JSON_STRING: decoded UTF-8, NUL-terminated (\u0000 may put NULs inside: see len) */
    size_t len;             /* bytes of a string; elements of an array; members of an object */
    const json_value_t *const *items; /* JSON_ARRAY: len elements; JSON_OBJECT: 2 * len, key (a string) then value */
    uint32_t line, col;     /* where the value starts in the text (1-based, col in bytes) */
};

typedef struct json_doc json_doc_t;

/* Parse text[0..len) (it need not be NUL-terminated) into *out, allowing
 * max_depth nested arrays/objects (0: JSON_DEPTH_DEFAULT). 0; -EINVAL with err
 * "LINE:COL: message" on a syntax error; -ENOMEM. *out is NULL on failure. */
int json_parse(json_doc_t **out, const char *text, size_t len, int max_depth, char *err, size_t errlen);
/* Read the file at path and parse it as json_parse does. 0; -errno with err
 * "cannot read: REASON" when the file cannot be read; json_parse's errors. */
int json_parse_file(json_doc_t **out, const char *path, int max_depth, char *err, size_t errlen);
/* Free the document and every value in it. NULL-safe. */
void json_free(json_doc_t *doc);
/* The top-level value (never NULL for a parsed document). */
const json_value_t *json_root(const json_doc_t *doc);

/* The value of the first member named key in an object; NULL if v is not an object or has no such member. */
const json_value_t *json_get(const json_value_t *v, const char *key);
/* Element i of an array; NULL if v is not an array or i >= its length. */
const json_value_t *json_at(const json_value_t *v, size_t i);
/* Key and value of member i of an object; NULL if v is not an object or i >= its member count. */
const char *json_key_at(const json_value_t *v, size_t i);
const json_value_t *json_value_at(const json_value_t *v, size_t i);
/* Elements of an array, members of an object, bytes of a string; 0 for anything else and NULL. */
size_t json_len(const json_value_t *v);
/* 1 if v is non-NULL and of type t. */
int json_is(const json_value_t *v, json_type_t t);
/* The string's bytes (NUL-terminated), or NULL if v is not a string. */
const char *json_str(const json_value_t *v);
/* 0 with *out set if v is a number; -1 otherwise. */
int json_num(const json_value_t *v, double *out);
/* 0 with *out set if v is a number that is an integer in [0, 2^64), exactly; -1 otherwise. */
int json_u64(const json_value_t *v, uint64_t *out);
/* 0 with *out 0/1 if v is false/true; -1 otherwise. */
int json_bool(const json_value_t *v, int *out);
/* 1 if a and b are equal JSON values (objects regardless of member order, numbers by value); 0 otherwise or if either is NULL. */
int json_equal(const json_value_t *a, const json_value_t *b);
/* "null", "boolean", "number", "string", "array" or "object"; "nothing" for NULL. */
const char *json_type_name(const json_value_t *v);

/* Write s[0..n) as a JSON string literal that json_parse reads back: quote,
 * backslash and control characters escaped (\n, \r, \t, \u00XX, NUL too),
 * valid UTF-8 copied as is, and each byte that is not part of a valid UTF-8
 * sequence (stray continuation bytes, overlong forms, surrogates, > U+10FFFF,
 * truncated sequences) written as \ufffd, the replacement character. So the
 * output is always valid UTF-8 JSON, whatever bytes a name, header, URL or
 * message held. */
void json_write_string(FILE *f, const char *s, size_t n);
/* Length of the well-formed UTF-8 sequence of a byte >= 0x80 at s (at most
 * n bytes), or 0 when it is not one (json_write_string's rule). */
size_t json_utf8_seq(const unsigned char *s, size_t n);

#endif
