/* json_access.c - reading a parsed document (json.h): lookups by key and
 * index, typed getters, deep equality. Pure functions over the public
 * json_value_t; parsing and the writer are in json.c. */
#include "json.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

const json_value_t *json_get(const json_value_t *v, const char *key)
{
    if (!json_is(v, JSON_OBJECT) || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->len; i++) {
        const json_value_t *k = v->items[2 * i];
        if (k->len == n && !memcmp(k->str, key, n)) return v->items[2 * i + 1];
    }
    return NULL;
}

const json_value_t *json_at(const json_value_t *v, size_t i)
{
    return json_is(v, JSON_ARRAY) && i < v->len ? v->items[i] : NULL;
}

const char *json_key_at(const json_value_t *v, size_t i)
{
    return json_is(v, JSON_OBJECT) && i < v->len ? v->items[2 * i]->str : NULL;
}

const json_value_t *json_value_at(const json_value_t *v, size_t i)
{
    return json_is(v, JSON_OBJECT) && i < v->len ? v->items[2 * i + 1] : NULL;
}

size_t json_len(const json_value_t *v)
{
    return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT || v->type == JSON_STRING) ? v->len : 0;
}

int json_is(const json_value_t *v, json_type_t t)
{
    return v && v->type == t;
}

const char *json_str(const json_value_t *v)
{
    return json_is(v, JSON_STRING) ? v->str : NULL;
}

int json_num(const json_value_t *v, double *out)
{
    if (!json_is(v, JSON_NUMBER)) return -1;
    *out = v->num;
    return 0;
}

int json_u64(const json_value_t *v, uint64_t *out)
{
    if (!json_is(v, JSON_NUMBER) || !v->exact) return -1;
    *out = v->u;
    return 0;
}

int json_bool(const json_value_t *v, int *out)
{
    if (!v || (v->type != JSON_TRUE && v->type != JSON_FALSE)) return -1;
    *out = v->type == JSON_TRUE;
    return 0;
}

/* Every member of a has an equal member of the same key in b. */
static int members_in(const json_value_t *a, const json_value_t *b)
{
    for (size_t i = 0; i < a->len; i++) {
        const json_value_t *k = a->items[2 * i], *bv = NULL;
        for (size_t j = 0; j < b->len && !bv; j++) {
            const json_value_t *bk = b->items[2 * j];
            if (bk->len == k->len && !memcmp(bk->str, k->str, k->len)) bv = b->items[2 * j + 1];
        }
        if (!json_equal(a->items[2 * i + 1], bv)) return 0;
    }
    return 1;
}

int json_equal(const json_value_t *a, const json_value_t *b)
{
    if (!a || !b || a->type != b->type) return 0;
    switch (a->type) {
    case JSON_NULL: case JSON_TRUE: case JSON_FALSE:
        return 1;
    case JSON_NUMBER:
        return a->exact && b->exact ? a->u == b->u : a->num == b->num;
    case JSON_STRING:
        return a->len == b->len && !memcmp(a->str, b->str, a->len);
    case JSON_ARRAY:
        if (a->len != b->len) return 0;
        for (size_t i = 0; i < a->len; i++)
            if (!json_equal(a->items[i], b->items[i])) return 0;
        return 1;
    case JSON_OBJECT:
        return a->len == b->len && members_in(a, b) && members_in(b, a);
    }
    return 0;
}

const char *json_type_name(const json_value_t *v)
{
    if (!v) return "nothing";
    switch (v->type) {
    case JSON_NULL: return "null";
    case JSON_TRUE: case JSON_FALSE: return "boolean";
    case JSON_NUMBER: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    }
    return "nothing";
}
