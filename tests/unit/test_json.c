/* Unit tests: the JSON reader (valid documents, every error kind with its
 * line:column, the depth limit, exact big integers), and the gates of
 * `barrage compare`, which reads it. */
#include "compare.h"
#include "json.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static json_doc_t *parse(const char *text)
{
    json_doc_t *d = NULL;
    char err[256];
    if (json_parse(&d, text, strlen(text), 0, err, sizeof err)) {
        fprintf(stderr, "    unexpected error for %s: %s\n", text, err);
        return NULL;
    }
    return d;
}

TEST(json_valid_document)
{
    const char *text =
        "{\n"
        "  \"name\": \"barrage\",\n"
        "  \"n\": 42, \"pi\": 3.25, \"neg\": -7, \"ok\": true, \"no\": false, \"nil\": null,\n"
        "  \"list\": [1, [2, 3], {\"k\": \"v\"}, [], {}],\n"
        "  \"nested\": {\"a\": {\"b\": {\"c\": 5}}}\n"
        "}\n";
    json_doc_t *d = parse(text);
    ASSERT(d);
    const json_value_t *r = json_root(d);
    ASSERT(json_is(r, JSON_OBJECT));
    ASSERT_EQ_INT(json_len(r), 9);
    ASSERT_EQ_STR(json_str(json_get(r, "name")), "barrage");
    uint64_t u = 0;
    double x = 0;
    int b = -1;
    ASSERT(json_u64(json_get(r, "n"), &u) == 0); ASSERT_EQ_INT(u, 42);
    ASSERT(json_num(json_get(r, "pi"), &x) == 0); ASSERT(x == 3.25);
    ASSERT(json_u64(json_get(r, "pi"), &u) == -1);
    ASSERT(json_num(json_get(r, "neg"), &x) == 0); ASSERT(x == -7);
    ASSERT(json_u64(json_get(r, "neg"), &u) == -1);
    ASSERT(json_bool(json_get(r, "ok"), &b) == 0); ASSERT_EQ_INT(b, 1);
    ASSERT(json_bool(json_get(r, "no"), &b) == 0); ASSERT_EQ_INT(b, 0);
    ASSERT(json_is(json_get(r, "nil"), JSON_NULL));
    ASSERT(json_get(r, "missing") == NULL);
    const json_value_t *l = json_get(r, "list");
    ASSERT_EQ_INT(json_len(l), 5);
    ASSERT(json_u64(json_at(l, 0), &u) == 0); ASSERT_EQ_INT(u, 1);
    ASSERT(json_u64(json_at(json_at(l, 1), 1), &u) == 0); ASSERT_EQ_INT(u, 3);
    ASSERT_EQ_STR(json_str(json_get(json_at(l, 2), "k")), "v");
    ASSERT(json_is(json_at(l, 3), JSON_ARRAY)); ASSERT_EQ_INT(json_len(json_at(l, 3)), 0);
    ASSERT(json_is(json_at(l, 4), JSON_OBJECT)); ASSERT_EQ_INT(json_len(json_at(l, 4)), 0);
    ASSERT(json_at(l, 5) == NULL);
    ASSERT(json_u64(json_get(json_get(json_get(json_get(r, "nested"), "a"), "b"), "c"), &u) == 0);
    ASSERT_EQ_INT(u, 5);
    ASSERT_EQ_STR(json_key_at(r, 0), "name");
    ASSERT_EQ_STR(json_key_at(r, 8), "nested");
    ASSERT(json_key_at(r, 9) == NULL);
    ASSERT(json_is(json_value_at(r, 7), JSON_ARRAY));
    /* positions: "list" value starts on line 4, column 11 */
    ASSERT_EQ_INT(l->line, 4);
    ASSERT_EQ_INT(l->col, 11);
    ASSERT_EQ_INT(r->line, 1);
    ASSERT_EQ_INT(r->col, 1);
    json_free(d);
}

TEST(json_scalars_at_top_level_and_whitespace)
{
    const char *ok[] = { "0", " \t\r\n 1 \n", "\"s\"", "true", "false", "null", "[]", "{}", "-0", "1e2",
                         "\xef\xbb\xbf{\"bom\": 1}" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        json_doc_t *d = parse(ok[i]);
        ASSERT(d);
        json_free(d);
    }
}

TEST(json_null_tolerant_accessors)
{
    uint64_t u;
    double x;
    int b;
    ASSERT(json_get(NULL, "a") == NULL);
    ASSERT(json_at(NULL, 0) == NULL);
    ASSERT(json_key_at(NULL, 0) == NULL);
    ASSERT(json_value_at(NULL, 0) == NULL);
    ASSERT_EQ_INT(json_len(NULL), 0);
    ASSERT(json_str(NULL) == NULL);
    ASSERT(json_num(NULL, &x) == -1);
    ASSERT(json_u64(NULL, &u) == -1);
    ASSERT(json_bool(NULL, &b) == -1);
    ASSERT(!json_is(NULL, JSON_NULL));
    ASSERT_EQ_STR(json_type_name(NULL), "nothing");
    json_doc_t *d = parse("[\"x\", 1, {\"a\": 1}]");
    ASSERT(d);
    const json_value_t *r = json_root(d);
    ASSERT(json_get(r, "a") == NULL);                 /* not an object */
    ASSERT(json_at(json_at(r, 2), 0) == NULL);        /* not an array */
    ASSERT(json_str(json_at(r, 1)) == NULL);
    ASSERT(json_num(json_at(r, 0), &x) == -1);
    ASSERT_EQ_INT(json_len(json_at(r, 0)), 1);        /* string bytes */
    ASSERT_EQ_INT(json_len(json_at(r, 1)), 0);
    ASSERT_EQ_STR(json_type_name(json_at(r, 2)), "object");
    json_free(d);
    json_free(NULL);
}

TEST(json_string_escapes_to_utf8)
{
    json_doc_t *d = parse("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u0041\\u00e9\\u20AC\", \"\\uD83D\\uDE00\","
                          " \"a\\u0000b\", \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"\"]");
    ASSERT(d);
    const json_value_t *r = json_root(d);
    ASSERT_EQ_STR(json_str(json_at(r, 0)), "\"\\/\b\f\n\r\t");
    ASSERT_EQ_STR(json_str(json_at(r, 1)), "A\xc3\xa9\xe2\x82\xac");
    ASSERT_EQ_STR(json_str(json_at(r, 2)), "\xf0\x9f\x98\x80");
    const json_value_t *nul = json_at(r, 3);
    ASSERT_EQ_INT(json_len(nul), 3);
    ASSERT(!memcmp(nul->str, "a\0b", 4));
    ASSERT_EQ_STR(json_str(json_at(r, 4)), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    ASSERT_EQ_STR(json_str(json_at(r, 5)), "");
    json_free(d);
    /* keys are decoded too, and the first of duplicate keys wins */
    d = parse("{\"\\u006bey\": 1, \"key\": 2}");
    ASSERT(d);
    uint64_t u;
    ASSERT(json_u64(json_get(json_root(d), "key"), &u) == 0);
    ASSERT_EQ_INT(u, 1);
    json_free(d);
}

TEST(json_numbers)
{
    json_doc_t *d = parse("[0, -0, 1.5, -2.5e3, 1E2, 2.0, 1e-400, 18446744073709551615, 18446744073709551616,"
                          " 12345678901234567890123, 0.1]");
    ASSERT(d);
    const json_value_t *r = json_root(d);
    uint64_t u;
    ASSERT(json_u64(json_at(r, 0), &u) == 0); ASSERT_EQ_INT(u, 0);
    ASSERT(json_u64(json_at(r, 1), &u) == 0); ASSERT_EQ_INT(u, 0);         /* -0 is the integer 0 */
    ASSERT(json_at(r, 2)->num == 1.5 && !json_at(r, 2)->exact);
    ASSERT(json_at(r, 3)->num == -2500 && !json_at(r, 3)->exact);
    ASSERT(json_u64(json_at(r, 4), &u) == 0); ASSERT_EQ_INT(u, 100);       /* integral: exact */
    ASSERT(json_u64(json_at(r, 5), &u) == 0); ASSERT_EQ_INT(u, 2);
    ASSERT(json_at(r, 6)->num == 0);                                       /* underflow reads as 0 */
    ASSERT(json_u64(json_at(r, 7), &u) == 0); ASSERT(u == UINT64_MAX);
    ASSERT(json_u64(json_at(r, 8), &u) == -1);                             /* 2^64: not a uint64 */
    ASSERT(json_at(r, 8)->num == 18446744073709551616.0);
    ASSERT(json_u64(json_at(r, 9), &u) == -1);
    ASSERT(fabs(json_at(r, 9)->num - 1.2345678901234568e22) < 1e7);
    ASSERT(json_at(r, 10)->num == 0.1);
    json_free(d);
}

TEST(json_big_integers_round_trip)
{
    /* 2^53 + 1 has no double; it must come back exact as a uint64 */
    json_doc_t *d = parse("{\"count\": 9007199254740993, \"list\": [9007199254740993, 9223372036854775807,"
                          " 9223372036854775808]}");
    ASSERT(d);
    const json_value_t *r = json_root(d);
    uint64_t u = 0;
    ASSERT(json_u64(json_get(r, "count"), &u) == 0);
    ASSERT(u == UINT64_C(9007199254740993));
    ASSERT(json_get(r, "count")->num == 9007199254740992.0);   /* the nearest double differs */
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)u);
    ASSERT_EQ_STR(buf, "9007199254740993");
    const json_value_t *l = json_get(r, "list");
    ASSERT(json_u64(json_at(l, 0), &u) == 0); ASSERT(u == UINT64_C(9007199254740993));
    ASSERT(json_u64(json_at(l, 1), &u) == 0); ASSERT(u == UINT64_C(9223372036854775807));
    ASSERT(json_u64(json_at(l, 2), &u) == 0); ASSERT(u == UINT64_C(9223372036854775808));
    /* equality compares exact integers exactly */
    json_doc_t *e = parse("[9007199254740992, 9007199254740993]");
    ASSERT(e);
    ASSERT(!json_equal(json_at(json_root(e), 0), json_at(json_root(e), 1)));
    ASSERT(json_equal(json_at(json_root(e), 1), json_at(l, 0)));
    json_free(e);
    json_free(d);
}

/* Each malformed document fails with one line "LINE:COL: message". */
TEST(json_every_error_kind)
{
    static const struct { const char *text; size_t len; const char *err; } cases[] = {
        { "", 0, "1:1: unexpected end of input: expected a value" },
        { "   ", 3, "1:4: unexpected end of input: expected a value" },
        { "{", 1, "1:2: unexpected end of input: expected a key" },
        { "[1", 2, "1:3: unexpected end of input: expected ',' or ']'" },
        { "{\"a\"", 4, "1:5: unexpected end of input: expected ':'" },
        { "[1,]", 4, "1:4: trailing comma before ']'" },
        { "{\"a\": 1,}", 9, "1:9: trailing comma before '}'" },
        { "{\"a\" 1}", 7, "1:6: unexpected '1': expected ':' after the key" },
        { "{1: 2}", 6, "1:2: unexpected '1': expected a string key" },
        { "[1 2]", 5, "1:4: unexpected '2': expected ',' or ']'" },
        { "{\"a\": 1 \"b\": 2}", 15, "1:9: unexpected '\"': expected ',' or '}'" },
        { "01", 2, "1:1: invalid number: leading zeros are not allowed" },
        { "-", 1, "1:2: invalid number: expected a digit after '-'" },
        { "-x", 2, "1:2: invalid number: expected a digit after '-'" },
        { "1.", 2, "1:3: invalid number: expected a digit after '.'" },
        { "1.e5", 4, "1:3: invalid number: expected a digit after '.'" },
        { "1e", 2, "1:3: invalid number: expected a digit in the exponent" },
        { "1e+", 3, "1:4: invalid number: expected a digit in the exponent" },
        { "[1e999]", 7, "1:2: number out of range" },
        { "-1e999", 6, "1:1: number out of range" },
        { "+1", 2, "1:1: unexpected '+': expected a value" },
        { ".5", 2, "1:1: unexpected '.': expected a value" },
        { "tru", 3, "1:1: invalid literal (expected 'true')" },
        { "nul", 3, "1:1: invalid literal (expected 'null')" },
        { "[fals]", 6, "1:2: invalid literal (expected 'false')" },
        { "NaN", 3, "1:1: unexpected 'N': expected a value" },
        { "Infinity", 8, "1:1: unexpected 'I': expected a value" },
        { "'a'", 3, "1:1: unexpected ''': expected a value" },
        { "// c\n1", 6, "1:1: unexpected '/': expected a value" },
        { "\"abc", 4, "1:1: unterminated string" },
        { "[\"a\\", 4, "1:2: unterminated string" },
        { "\"a\nb\"", 5, "1:3: control character (byte 0x0a) in a string: escape it" },
        { "\"a\tb\"", 5, "1:3: control character (byte 0x09) in a string: escape it" },
        { "\"\\q\"", 4, "1:2: invalid escape '\\q' in a string" },
        { "\"\\u12G4\"", 8, "1:2: invalid \\u escape: expected 4 hex digits" },
        { "\"\\u12\"", 6, "1:2: invalid \\u escape: expected 4 hex digits" },
        { "\"\\uD800\"", 8, "1:2: unpaired surrogate \\uD800 in a string" },
        { "\"\\uDC00\"", 8, "1:2: unpaired surrogate \\uDC00 in a string" },
        { "\"\\uD800\\u0041\"", 14, "1:2: unpaired surrogate \\uD800 in a string" },
        { "\"\xff\"", 3, "1:2: invalid UTF-8 in a string" },
        { "\"\xc0\xaf\"", 4, "1:2: invalid UTF-8 in a string" },          /* overlong '/' */
        { "\"\xed\xa0\x80\"", 5, "1:2: invalid UTF-8 in a string" },      /* a UTF-16 surrogate */
        { "\"\xf4\x90\x80\x80\"", 6, "1:2: invalid UTF-8 in a string" },  /* above U+10FFFF */
        { "\"\xe2\x82\"", 4, "1:2: invalid UTF-8 in a string" },          /* truncated */
        { "\"a\0b\"", 5, "1:3: control character (byte 0x00) in a string: escape it" },
        { "\0", 1, "1:1: unexpected byte 0x00: expected a value" },
        { "\xef\xbb\xbf", 3, "1:1: unexpected end of input: expected a value" },   /* columns start after a BOM */
        { "1 2", 3, "1:3: unexpected '2' after the document" },
        { "{}}", 3, "1:3: unexpected '}' after the document" },
        { "[1]\n\n  ]", 8, "3:3: unexpected ']' after the document" },
        { "{\n  \"a\": [1,\n     2,,\n  ]\n}", 26, "3:8: unexpected ',': expected a value" },
        { "[\r\n\"x\",\r\n\"y\x01\"]", 14, "3:3: control character (byte 0x01) in a string: escape it" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_doc_t *d = (json_doc_t *)1;
        char err[256] = "";
        int rc = json_parse(&d, cases[i].text, cases[i].len, 0, err, sizeof err);
        if (rc != -EINVAL || d != NULL || strcmp(err, cases[i].err)) {
            fprintf(stderr, "    case %zu: rc %d, err \"%s\", want \"%s\"\n", i, rc, err, cases[i].err);
            ASSERT(0);
        }
        ASSERT(strchr(err, '\n') == NULL);
    }
}

TEST(json_depth_limit)
{
    char buf[4200];
    json_doc_t *d = NULL;
    char err[256];
    /* 64 levels (the default) pass, 65 do not */
    for (int depth = 64; depth <= 65; depth++) {
        int n = 0;
        for (int i = 0; i < depth; i++) buf[n++] = '[';
        for (int i = 0; i < depth; i++) buf[n++] = ']';
        int rc = json_parse(&d, buf, (size_t)n, 0, err, sizeof err);
        if (depth == 64) {
            ASSERT_EQ_INT(rc, 0);
            json_free(d);
        } else {
            ASSERT_EQ_INT(rc, -EINVAL);
            ASSERT_EQ_STR(err, "1:65: nesting deeper than 64 levels");
        }
    }
    /* a caller's limit, objects count too */
    const char *three = "{\"a\": [{\"b\": 1}]}", *four = "{\"a\": [{\"b\": [1]}]}";
    ASSERT_EQ_INT(json_parse(&d, three, strlen(three), 3, err, sizeof err), 0);
    json_free(d);
    ASSERT_EQ_INT(json_parse(&d, four, strlen(four), 3, err, sizeof err), -EINVAL);
    ASSERT_EQ_STR(err, "1:14: nesting deeper than 3 levels");
    /* a hostile depth is refused without exhausting the stack (limit clamped to JSON_DEPTH_MAX) */
    size_t big = 1000000;
    char *deep = malloc(big);
    ASSERT(deep);
    memset(deep, '[', big);
    int rc = json_parse(&d, deep, big, 1 << 30, err, sizeof err);
    free(deep);
    ASSERT_EQ_INT(rc, -EINVAL);
    ASSERT_EQ_STR(err, "1:1025: nesting deeper than 1024 levels");
}

TEST(json_equal_values)
{
    json_doc_t *d = parse("[{\"a\": 1, \"b\": [true, null, \"x\"]}, {\"b\": [true, null, \"x\"], \"a\": 1.0},"
                          " {\"a\": 1, \"b\": [true, null, \"y\"]}, {\"a\": 1}, 100, 1e2, \"1\"]");
    ASSERT(d);
    const json_value_t *r = json_root(d);
    ASSERT(json_equal(json_at(r, 0), json_at(r, 1)));       /* member order and 1 vs 1.0 do not matter */
    ASSERT(!json_equal(json_at(r, 0), json_at(r, 2)));
    ASSERT(!json_equal(json_at(r, 0), json_at(r, 3)));
    ASSERT(json_equal(json_at(r, 4), json_at(r, 5)));
    ASSERT(!json_equal(json_at(r, 4), json_at(r, 6)));
    ASSERT(!json_equal(json_at(r, 0), NULL));
    json_free(d);
}

TEST(json_large_document)
{
    /* many values: the value and child arrays grow and every pointer stays right */
    size_t n = 20000, cap = n * 24 + 16, len = 0;
    char *text = malloc(cap);
    ASSERT(text);
    text[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s[%zu, \"s%zu\"]", i ? "," : "", i, i);
    text[len++] = ']';
    json_doc_t *d = NULL;
    char err[256];
    int rc = json_parse(&d, text, len, 0, err, sizeof err);
    free(text);
    ASSERT_EQ_INT(rc, 0);
    const json_value_t *r = json_root(d);
    ASSERT_EQ_INT(json_len(r), n);
    for (size_t i = 0; i < n; i += 997) {
        uint64_t u;
        char want[32];
        ASSERT(json_u64(json_at(json_at(r, i), 0), &u) == 0);
        ASSERT_EQ_INT(u, i);
        snprintf(want, sizeof want, "s%zu", i);
        ASSERT_EQ_STR(json_str(json_at(json_at(r, i), 1)), want);
    }
    json_free(d);
}

TEST(json_parse_file)
{
    json_doc_t *d = NULL;
    char err[256];
    ASSERT_EQ_INT(json_parse_file(&d, "/nonexistent/barrage.json", 0, err, sizeof err), -ENOENT);
    ASSERT(d == NULL);
    ASSERT_EQ_STR(err, "cannot read: No such file or directory");
    char path[] = "/tmp/barrage-json-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    const char *text = "{\"schema\": \"x\",\n \"n\": [1, 2, 3]}";
    ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    int rc = json_parse_file(&d, path, 0, err, sizeof err);
    ASSERT_EQ_INT(rc, 0);
    ASSERT_EQ_INT(json_len(json_get(json_root(d), "n")), 3);
    json_free(d);
    fd = open(path, O_WRONLY | O_TRUNC);
    ASSERT(fd >= 0);
    ASSERT(write(fd, "{\n  \"a\": tru}", 13) == 13);
    close(fd);
    rc = json_parse_file(&d, path, 0, err, sizeof err);
    unlink(path);
    ASSERT_EQ_INT(rc, -EINVAL);
    ASSERT_EQ_STR(err, "2:8: invalid literal (expected 'true')");
}

/* compare reads JSON results: its gates are tested here (its statistics test
 * in test_mannwhitney.c). */

TEST(compare_gates_parse)
{
    compare_gate_t g;
    char err[256];
    ASSERT(compare_gate_parse("p(99)>+5%", &g, err, sizeof err) == 0);
    ASSERT_EQ_INT(g.metric, COMPARE_M_PCT); ASSERT(g.p == 99); ASSERT_EQ_INT(g.op, COMPARE_OP_GT); ASSERT(g.pct == 5);
    ASSERT(g.name == NULL);
    ASSERT(compare_gate_trips(&g, 5.01) && !compare_gate_trips(&g, 5) && !compare_gate_trips(&g, -20));
    compare_gate_free(&g);
    ASSERT(compare_gate_parse(" rps < -3% ", &g, err, sizeof err) == 0);
    ASSERT_EQ_INT(g.metric, COMPARE_M_RPS); ASSERT_EQ_INT(g.op, COMPARE_OP_LT); ASSERT(g.pct == -3);
    ASSERT_EQ_STR(g.expr, "rps < -3%");
    ASSERT(compare_gate_trips(&g, -3.5) && !compare_gate_trips(&g, -3) && !compare_gate_trips(&g, 10));
    compare_gate_free(&g);
    ASSERT(compare_gate_parse("login:p(99.9)>=10%", &g, err, sizeof err) == 0);
    ASSERT_EQ_STR(g.name, "login"); ASSERT(g.p == 99.9); ASSERT_EQ_INT(g.op, COMPARE_OP_GE); ASSERT(g.pct == 10);
    compare_gate_free(&g);
    const char *ok[] = { "mean>+1%", "avg<=0%", "max>+50%", "errors>+0%", "med>+2.5%", "req/s<-10%" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ASSERT(compare_gate_parse(ok[i], &g, err, sizeof err) == 0);
        compare_gate_free(&g);
    }
    static const struct { const char *expr, *err; } bad[] = {
        { "p(99)", "--fail-if 'p(99)': no comparison: use METRIC OP CHANGE, e.g. 'p(99)>+5%' or 'rps<-3%'" },
        { "p(99)>5", "--fail-if 'p(99)>5': cannot read '5' as a relative change (use e.g. +5% or -3%)" },
        { "p(99)>+5ms", "--fail-if 'p(99)>+5ms': cannot read '+5ms' as a relative change (use e.g. +5% or -3%)" },
        { "p(99)==5%", "--fail-if 'p(99)==5%': unknown operator '==' (use <, <=, > or >=)" },
        { "p(101)>1%", "--fail-if 'p(101)>1%': cannot read 'p(101)' as a percentile (use e.g. p(99) or p(99.9))" },
        { "p(x)>1%", "--fail-if 'p(x)>1%': cannot read 'p(x)' as a percentile (use e.g. p(99) or p(99.9))" },
        { "latency>1%", "--fail-if 'latency>1%': unknown metric 'latency' (use rps, p(N), mean, max or errors)" },
        { ">1%", "--fail-if '>1%': no metric before '>' (use rps, p(N), mean, max or errors)" },
        { " :p(99)>1%", "--fail-if ':p(99)>1%': empty name before ':'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (compare_gate_parse(bad[i].expr, &g, err, sizeof err) != -1 || strcmp(err, bad[i].err)) {
            fprintf(stderr, "    %s: got \"%s\"\n", bad[i].expr, err);
            ASSERT(0);
        }
    }
}

TEST(json_write_string_is_valid_utf8)
{
    static const struct { const char *in; size_t n; const char *out; } cases[] = {
        { "plain", 5, "\"plain\"" },
        { "q\"b\\\n\r\t\x01", 8, "\"q\\\"b\\\\\\n\\r\\t\\u0001\"" },
        { "a\0b", 3, "\"a\\u0000b\"" },
        { "\xe6\x97\xa5 ok", 6, "\"\xe6\x97\xa5 ok\"" },             /* valid UTF-8 kept */
        { "\xff\xfe", 2, "\"\\ufffd\\ufffd\"" },                       /* not UTF-8 at all */
        { "\xc3(", 2, "\"\\ufffd(\"" },                                /* truncated sequence */
        { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },            /* a surrogate */
        { "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },                       /* overlong */
        { "\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* above U+10FFFF */
        { "\xe6\x97", 2, "\"\\ufffd\\ufffd\"" },                       /* cut at the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ASSERT(f);
        json_write_string(f, cases[i].in, cases[i].n);
        fclose(f);
        if (strcmp(buf, cases[i].out)) fprintf(stderr, "    case %zu: got %s\n", i, buf);
        ASSERT_EQ_STR(buf, cases[i].out);
        json_doc_t *doc = NULL;
        char err[128];
        ASSERT_EQ_INT(json_parse(&doc, buf, len, 0, err, sizeof err), 0); /* reads back */
        json_free(doc);
        free(buf);
    }
}
