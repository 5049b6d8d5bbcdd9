/* fuzz_options.c - libFuzzer target for the command line: config_defaults +
 * config_parse + config_free over argv words taken from the input, then what
 * main.c does with an accepted configuration (parse every --threshold, build
 * the Host header and format the request). Also units_parse_duration and
 * units_parse_count on the whole input as one string.
 *
 * The input is split into words on NUL and newline bytes (at most MAX_WORDS;
 * argv[0] is "barrage"), so a seed is one option or value per line.
 *
 * --body-file reads a file: the fuzzer must never open what the input names
 * (/dev/zero would grow without end, /dev/stdin would block), so the word
 * after "--body-file", or the value of "--body-file=...", is replaced by a
 * small file written at start-up, or by a path that does not exist.
 *
 * Invariants checked (a violation traps): a failure leaves a message; a
 * success without -h/-v has a parsed URL, 1 <= threads <= connections, a
 * duration, a timeout of at least 1 ms, and valid stages; durations and
 * counts that parse are in range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "threshold.h"
#include "units.h"

/* A broken invariant: say which, then trap (libFuzzer saves the input). */
#define CHECK(c) do { if (!(c)) { \
    fprintf(stderr, "fuzz invariant failed: %s:%d: %s\n", __FILE__, __LINE__, #c); \
    __builtin_trap(); } } while (0)
#define MAX_WORDS 64

static char body_file[512];
static const char missing_file[] = "/nonexistent/barrage-fuzz-body";

static void remove_body_file(void)
{
    unlink(body_file);
}

/* The body file: $BARRAGE_FUZZ_BODY (run.sh puts it in build-fuzz/ so a
 * crash leaves nothing behind elsewhere), else one in $TMPDIR removed at exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    const char *path = getenv("BARRAGE_FUZZ_BODY");
    int temporary = !(path && *path);
    if (temporary) {
        const char *dir = getenv("TMPDIR");
        snprintf(body_file, sizeof body_file, "%s/barrage-fuzz-body.%ld",
                 dir && *dir ? dir : "/tmp", (long)getpid());
    } else {
        snprintf(body_file, sizeof body_file, "%s", path);
    }
    FILE *f = fopen(body_file, "wb");
    if (f) {
        fputs("{\"user\":\"fuzz\"}\n", f);
        fclose(f);
        if (temporary) atexit(remove_body_file);
    }
    return 0;
}

static const char *safe_file(const char *word)
{
    return (word[0] & 1) ? missing_file : body_file;
}

static void check_duration_and_count(const char *s)
{
    uint64_t v = 12345;
    if (units_parse_duration(s, &v) == 0) CHECK(v <= UINT64_C(1000000000000000001));
    else CHECK(v == 12345);
    v = 12345;
    if (units_parse_count(s, &v) != 0) CHECK(v == 12345);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;

    check_duration_and_count(buf);

    /* Words: split on NUL and '\n'. Empty words are kept (argv may hold ""). */
    char *argv[MAX_WORDS + 2];
    int argc = 0;
    argv[argc++] = "barrage";
    char *w = buf;
    for (size_t i = 0; i <= size && argc < MAX_WORDS + 1; i++) {
        if (i == size || buf[i] == 0 || buf[i] == '\n') {
            buf[i] = 0;
            argv[argc++] = w;
            w = buf + i + 1;
        }
    }
    argv[argc] = NULL;

    /* Keep --body-file away from the real file system. */
    char eqbuf[96];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--body-file") && i + 1 < argc) {
            argv[i + 1] = (char *)safe_file(argv[i + 1]);
            i++;
        } else if (!strncmp(argv[i], "--body-file=", 12)) {
            snprintf(eqbuf, sizeof eqbuf, "--body-file=%s", safe_file(argv[i] + 12));
            argv[i] = eqbuf;
        }
    }

    for (int i = 1; i < argc; i++) check_duration_and_count(argv[i]);

    config_t c;
    char err[512];
    err[0] = 0;
    config_defaults(&c);
    int rc = config_parse(&c, argc, argv, err, sizeof err);
    if (rc) {
        CHECK(rc == -1);
        CHECK(err[0]);
    } else if (!c.show_help && !c.show_version) {
        CHECK(c.url_text && c.url.scheme && c.url.host && c.url.port && c.url.path);
        CHECK(c.threads >= 1 && c.threads <= c.connections);
        CHECK(c.duration_ns > 0);
        CHECK(c.timeout_ns >= 1000000);
        CHECK(c.method && c.method[0]);
        CHECK(c.stages.n <= RATE_MAX_STAGES);
        for (size_t i = 0; i < c.stages.n; i++) CHECK(c.stages.dur_ns[i] > 0);
        if (c.stages.n) {
            /* the run lasts the stages' total: it must not wrap around */
            uint64_t total = 0;
            for (size_t i = 0; i < c.stages.n; i++)
                CHECK(!__builtin_add_overflow(total, c.stages.dur_ns[i], &total));
            CHECK(c.duration_ns == total);
        }
        CHECK(c.body || !c.body_len);

        /* main.c: every --threshold is parsed before the run */
        for (size_t i = 0; i < c.nthresholds; i++) {
            threshold_t t;
            char terr[512];
            terr[0] = 0;
            if (threshold_parse(c.thresholds[i], &t, terr, sizeof terr) == 0) threshold_free(&t);
            else CHECK(terr[0]);
        }

        /* main.c: the request every connection sends */
        char host[300];
        http_host_header(host, sizeof host, c.url.host, c.url.is_ipv6, c.url.port,
                         c.url.default_port);
        char *req = NULL;
        size_t req_len = 0;
        if (http_format(&req, &req_len, c.method, c.url.path, host, c.headers, c.nheaders,
                        c.body, c.body_len, !c.keepalive) == 0) {
            size_t ml = strlen(c.method);
            CHECK(req_len >= ml + 1 && !memcmp(req, c.method, ml) && req[ml] == ' ');
            CHECK(req[req_len] == 0);
            CHECK(req_len >= c.body_len + 4);
            CHECK(!memcmp(req + req_len - c.body_len - 4, "\r\n\r\n", 4));
            if (c.body_len) CHECK(!memcmp(req + req_len - c.body_len, c.body, c.body_len));
            (void)http_count_requests(req, req_len);
            free(req);
        }
    }
    config_free(&c);
    free(buf);
    return 0;
}
