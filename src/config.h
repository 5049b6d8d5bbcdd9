/* config.h - command-line options, their defaults, and the parsers for
 * URLs, durations and counts. Parsing never prints: a failure fills the
 * caller's buffer with one line naming the problem and the fix. */
#ifndef BARRAGE_CONFIG_H
#define BARRAGE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "rate.h"
#include "stats.h"

/* A parsed http(s) URL. Strings are owned by the struct (config_url_free). */
typedef struct config_url {
    char *scheme;    /* "http" or "https" */
    char *host;      /* host name or address, without IPv6 brackets */
    char *port;      /* decimal port, the scheme's default when absent */
    char *path;      /* path plus query, "/" when absent; no fragment */
    int is_ipv6;     /* host was written in brackets */
    int default_port;/* port was absent or equal to the scheme's default */
} config_url_t;

/* --body-file: the largest body read from a file (bytes). */
#define CONFIG_BODY_FILE_MAX (UINT64_C(256) << 20)

/* --monitor-pid PID / --monitor-cmd NAME: one watched target. */
typedef struct config_monitor {
    int pid;              /* --monitor-pid, or 0 */
    const char *cmd;      /* --monitor-cmd (borrowed from argv), or NULL */
} config_monitor_t;

typedef struct config {
    config_url_t url;     /* the target */
    const char *url_text; /* as given (borrowed from argv) */
    uint64_t connections; /* -c, default 10 */
    uint64_t threads;     /* -t, default 2 */
    uint64_t duration_ns; /* -d, default 10 s */
    int duration_set;     /* -d was given */
    uint64_t timeout_ns;  /* --timeout, default 2 s */
    uint64_t connect_timeout_ns; /* --connect-timeout (TCP connect + TLS handshake), default timeout_ns */
    uint64_t requests;    /* -n: stop after exactly this many responses; 0 = no limit */
    int latency;          /* --latency: print the percentile table */
    int pin;              /* pin threads to CPUs (default on, --no-pin) */
    const char *method;   /* -m, default GET (borrowed) */
    char *body;           /* --body / --body-file contents (owned), NULL if none */
    size_t body_len;
    const char **headers; /* -H values, borrowed from argv; array owned */
    size_t nheaders;
    const char *script;   /* -s path (borrowed), NULL if none */
    const char **script_args; /* arguments after "--" (borrowed); array owned */
    size_t nscript_args;
    int insecure;         /* -k: do not verify the server's certificate */
    const char *cacert;   /* --cacert FILE: an extra CA to trust (borrowed) */
    const char *cert;     /* --cert FILE: client certificate for mutual TLS */
    const char *key;      /* --key FILE: its private key */
    int tls_resume;       /* resume TLS sessions on reconnect (default on) */
    int keepalive;        /* keep connections open (default on; --no-keepalive) */
    double rate;          /* -R: total requests/s (0 = as fast as possible) */
    rate_stages_t stages; /* --stages (stages.n == 0: none) */
    const char **thresholds; /* --threshold expressions (borrowed, or in owned); array owned */
    size_t nthresholds;
    unsigned char *threshold_abort; /* per threshold: 1 = stop the run when it can no longer
                                     * pass (a script's abortOnFail); array owned */
    int abort_on_fail;    /* stop as soon as a threshold is certainly broken */
    stats_expect_t expect;/* --expect-status: statuses that are not failures (default 100-399) */
    const char *expect_text; /* --expect-status as given (borrowed), NULL for the default */
    int failure_exit;     /* --exit-on-failures (1) / --exit-code-on-error N: the exit code
                             when any request failed; 0 = off (the default, as wrk) */
    int quiet;            /* no live progress line */
    uint32_t shard_index; /* --shard I/N: this instance is shard I (0-based) */
    uint32_t shard_count; /* ... of N (1 = not sharded) */
    double start_at;      /* --start-at: wall-clock start, Unix seconds (0 = now) */
    config_monitor_t *monitors; /* --monitor-pid/--monitor-cmd in the order given (owned) */
    size_t nmonitors;
    const char *json_path;/* --json FILE ("-" = stdout), or NULL */
    const char *csv_prefix;/* --csv PREFIX, or NULL */
    int csv_per_second;   /* --csv-history per-second: history percentiles of each second alone */
    const char *html_path;/* --html FILE, or NULL */
    uint64_t seed;        /* --seed: the run's random seed (0..SEED_MAX); a fresh one when not given */
    int seed_given;       /* --seed was given */
    uint64_t users;       /* --users/-u (Locust's): the same as -c; 0 = not given */
    double spawn_rate;    /* --spawn-rate/-r: users started per second (0 = all at once) */
    uint64_t given;       /* bit per option given on the command line (internal to config*.c) */
    uint64_t from_script; /* bit per option taken from the script's `options` table */
    char **owned;         /* strings copied from a script's options (owned) */
    size_t nowned;
    const char *web;      /* --web [ADDR:]PORT: the live dashboard's address, or NULL */
    uint64_t web_linger_ns; /* --web-linger T: serve the final report this long after the run */
    const char *metrics_listen; /* --metrics [ADDR:]PORT, or NULL */
    const char *metrics_push;   /* --metrics-push URL (http://), or NULL */
    const char *stream_path;    /* --stream FILE ("-" = stdout), or NULL */
    int stream_influx;          /* --stream-format influx (else NDJSON) */
    uint64_t max_exceptions; /* --max-exceptions: end the run (exit 2) past this many exceptions in
                             virtual users' code; UINT64_MAX (the default) = never; a run bounded by
                             -n alone (no duration) gets -n, so users that only fail cannot hang it */
    int max_exceptions_untimed; /* max_exceptions is that implicit -n bound */
    uint64_t users_total; /* virtual users of the whole run (all shards): -c, or the --stages peak */
    uint64_t users_offset;/* this shard's first user: the users of the shards before it */
    int show_help;        /* -h given */
    int show_version;     /* -v given */
} config_t;

/* Fill *c with defaults. */
void config_defaults(config_t *c);
/* Parse argv (argv[0] is the program). 0 on success; -1 with a one-line
 * message in err (no trailing newline) on any invalid input. */
int config_parse(config_t *c, int argc, char **argv, char *err, size_t errlen);
/* The two halves of config_parse: argv into *c (and the URL), then the
 * checks and derived values (shards, stages, --users/--spawn-rate). A
 * script's options go between the two (config_apply_script). */
int config_parse_args(config_t *c, int argc, char **argv, char *err, size_t errlen);
int config_finish(config_t *c, char *err, size_t errlen);

/* The kind of a script option's value, as the script wrote it. */
typedef enum config_value_kind {
    CONFIG_VALUE_STRING, CONFIG_VALUE_NUMBER, CONFIG_VALUE_BOOLEAN,
    CONFIG_VALUE_STAGES,      /* a stages table, made "DUR:TARGET,..." */
    CONFIG_VALUE_THRESHOLD,   /* one threshold expression */
    CONFIG_VALUE_ABORT        /* one threshold expression with abortOnFail = true */
} config_value_kind_t;
/* One entry of a script's `options` table (k6's names or barrage's, see
 * config_script_keys) with its value written as text (copied). A value
 * the command line gave already is ignored (the command line wins),
 * except thresholds, which add to the command line's. 0, or -1 with err
 * "options.KEY: ..." (an unknown key, a wrong type, a bad value). */
int config_apply_script(config_t *c, const char *key, const char *value, config_value_kind_t kind,
                        char *err, size_t errlen);
/* The keys a script's options may hold, for messages ("vus, duration, ..."). */
const char *config_script_keys(void);
/* Calls fn with the name of each option (barrage's long name) that came
 * from the script's options, in the order of the option table. */
void config_script_sources(const config_t *c, void (*fn)(void *ctx, const char *name), void *ctx);
/* Free what config_parse allocated. */
void config_free(config_t *c);
/* The --help text. */
const char *config_usage(void);

/* RFC 3339 ("2026-11-23T15:30:00Z", fractions and offsets allowed) or
 * Unix seconds ("1795446000.5"). 0 and *unix_s, or -1. */
int config_parse_time(const char *s, double *unix_s);
/* Parse an http:// or https:// URL into u. 0, or -1 with a message. */
int config_parse_url(const char *s, config_url_t *u, char *err, size_t errlen);
void config_url_free(config_url_t *u);

#endif
