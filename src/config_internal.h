/* config_internal.h - inside the config module: only src/config*.c include
 * it. The option table the argv walk, a script's options and the value
 * parsers share, and the glue each file gives the others. config.h stays
 * the public contract. */
#ifndef BARRAGE_CONFIG_INTERNAL_H
#define BARRAGE_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum opt_id {
    OPT_CONNECTIONS, OPT_DURATION, OPT_THREADS, OPT_HEADER, OPT_SCRIPT,
    OPT_TIMEOUT, OPT_LATENCY, OPT_REQUESTS, OPT_METHOD, OPT_BODY,
    OPT_BODY_FILE, OPT_NO_PIN, OPT_VERSION, OPT_HELP, OPT_INSECURE, OPT_CACERT,
    OPT_CERT, OPT_KEY, OPT_NO_TLS_RESUME, OPT_NO_KEEPALIVE, OPT_RATE, OPT_STAGES,
    OPT_THRESHOLD, OPT_ABORT_ON_FAIL, OPT_QUIET, OPT_JSON, OPT_CSV, OPT_CSV_HISTORY, OPT_HTML, OPT_SHARD,
    OPT_SHARDS, OPT_START_AT, OPT_EXPECT_STATUS, OPT_EXIT_ON_FAILURES, OPT_EXIT_CODE_ON_ERROR,
    OPT_CONNECT_TIMEOUT, OPT_SEED, OPT_USERS, OPT_SPAWN_RATE, OPT_RUN_TIME, OPT_HEADLESS,
    OPT_WEB,
    OPT_WEB_LINGER,
    OPT_METRICS, OPT_METRICS_PUSH, OPT_STREAM, OPT_STREAM_FORMAT,
    OPT_MONITOR_PID,
    OPT_MONITOR_CMD,
    OPT_MAX_EXCEPTIONS,
};
#define BIT(id) (UINT64_C(1) << (id))

/* One option of the command line: its long name, its short letter (0:
 * none), whether it takes a value, and what it sets. */
struct config_opt {
    const char *lname;
    char sname;
    int has_arg;
    enum opt_id id;
};
/* The option table (config_options.c); config_script_sources follows its order. */
extern const struct config_opt config_opts[];
extern const size_t config_nopts;

/* printf into err (a one-line message); returns -1 (config.c). */
int config_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append v to a borrowed-string array; 0, or -1 out of memory. */
int config_push(const char ***arr, size_t *n, const char *v);
/* Append a threshold and its abort flag (the two arrays grow together); 0 or -1. */
int config_push_threshold(config_t *c, const char *v, int abort_on_fail);
/* Apply option o with value v (NULL for one without a value) to *c; name is
 * how the user wrote it ("-c", "--duration", "options.vus") for messages.
 * 0, or -1 with err. */
int config_apply_option(config_t *c, const struct config_opt *o, const char *name, const char *v,
                        char *err, size_t errlen);

#endif
