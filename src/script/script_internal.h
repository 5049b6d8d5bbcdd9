/* script_internal.h - inside the script module: only the .c files of
 * src/script/ include it (it names Lua's types, and no other module includes
 * Lua headers). The states, threads and per-connection data the files
 * share, and the glue each file gives the others. script.h stays the public
 * contract. */
#ifndef BARRAGE_SCRIPT_INTERNAL_H
#define BARRAGE_SCRIPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "http.h"
#include "script.h"

#define ERR_MAX 1024

enum mode { MODE_STATIC = 0, MODE_WRK, MODE_USER };

/* Per-connection script state. */
typedef struct sconn {
    script_t *s;
    conn_t *c;
    loop_timer_t timer;   /* delay() and u:sleep() */
    int user_ref;         /* the virtual user (LUA_NOREF until created) */
    int req_ref;          /* the pending request string (kept alive) */
    const char *req_str;  /* that string's bytes: an identical Lua string is not checked again */
    http_reqs_t reqs;     /* its requests: how many, which are HEAD */
    int name;             /* index in stats->named of the pending request, -1 */
    uint8_t pending;      /* a request string is ready to send */
    uint8_t delayed;      /* delay() already waited for this request */
    uint8_t waiting;      /* the timer is armed: nothing to send until it fires */
    /* u:request{expect = ...}: the statuses expected of the request being made */
    stats_expect_t expect;
    char expect_text[64]; /* the spec parsed into expect ("" none), so a repeat is not parsed again */
    /* The response last handed to the user, open to r:failure()/r:success() until
     * the user yields again (its accounting then is final; script_user.c) */
    double mark_token;    /* its token (unique in the state), 0: none open */
    int mark_name;        /* its name's index in stats->named, -1 */
    uint8_t mark_failed;  /* it counts as failed now */
    uint8_t mark_error;   /* a failed attempt (status 0): marks change nothing */
    uint8_t mark_has_reason; /* mark_reason is counted in its name's reasons */
    int mark_status;      /* its status while it is counted as a failure kind of its name (PREFIX_failures.csv),
                             else 0: a mark that overrides the status takes it out */
    char mark_reason[STATS_REASON_LEN + 1];
    uint8_t stop_state;   /* virtual users: 0 running, 1 on_stop running, 2 ended (retire) */
    /* Virtual users: the request barrage._send wrote (script_request.c) */
    char *rbuf;           /* its bytes (owned; reused, kept until the next request) */
    size_t rlen, rcap;
    uint8_t cbuilt;       /* _send made one since the user was last resumed */
    uint8_t cbuilt_head;  /* it is a HEAD request */
    int name_ref;         /* its name as given (r.name), a registry slot reused, LUA_NOREF */
    int name_text_ref;    /* tostring() of it when it is not a string (the same kind of slot) */
    uint8_t name_is_text; /* the name is a string: name_ref is its text */
    char req_method[STATS_METHOD_MAX]; /* its method (the statistics row's key) */
} sconn_t;

/* A virtual user's response as script_push_response makes it. */
typedef struct script_response {
    int status;                     /* 0: a failed attempt */
    const http_capture_t *cap;      /* headers and body, NULL for a failed attempt */
    const char *error;              /* the error class of a failed attempt, else NULL */
    int failed;                     /* it counts as failed */
    double elapsed, connect, tls, ttfb; /* ms */
    double token;                   /* its r:failure()/r:success() token */
} script_response_t;

struct script {
    lua_State *L;
    script_thread_t *thread;  /* the worker's thread object (worker states) */
    char error[ERR_MAX];
    enum mode mode;
    int request_ref, response_ref, delay_ref; /* functions (LUA_NOREF if none) */
    int resume_ref;           /* barrage._user_resume (user mode) */
    http_reqs_t static_reqs;  /* the requests of script_static_request's string */
    loop_t *loop;
    stats_t *stats;
    sconn_t *sconns;
    size_t nsconns;
    conn_hooks_t hooks;
    int onerror_ref, guard_ref; /* on_error and guard_entry, made once (no allocation per call) */
    int user_new_ref;         /* barrage._user_new (user mode) */
    int timed;                /* the run ends on time (-d, or no -n): a wait may last until then */
    int why;                  /* the reason given to script_interrupt() (enum stop_why) */
    const config_t *cfg_init; /* only while init_state runs */
    char stop_msg[512];       /* the error on_interrupt raises, once it has fired */
    sconn_t *cur;             /* the connection whose user() is running (script_user_step), NULL */
    double tokens;            /* the last response token handed out (r:failure()/r:success()) */
    int user_stop_ref;        /* barrage._user_stop (user mode) */
    int users_mode_ref, class_counts_ref; /* barrage._users_mode, barrage._class_counts */
    int has_on_stop;          /* a barrage.user{} class has an on_stop */
    uint64_t gid_base;        /* virtual users: run-wide id of this thread's first user, minus 1 */
    uint64_t users_total;     /* virtual users of the whole run (class spread) */
    uint64_t max_exceptions;  /* --max-exceptions (UINT64_MAX: no limit) */
    int max_exceptions_untimed; /* ... the implicit bound of a run that only -n ends */
    uint64_t exceptions_seen; /* main state: exceptions of every thread so far (atomic) */
    int respond_ref;          /* barrage._user_respond */
    struct hent *hents;       /* barrage._send's scratch: the merged headers (script_request.c) */
    size_t nhents, hcap;
};

struct script_thread {
    int index;
    net_addr_t addr;
    int has_addr;
    char *staged;             /* serialized thread:set values from setup() */
    size_t staged_len;
    script_t *main;           /* the main state's script */
    script_t *worker;         /* the worker's state, once created */
    int *stop;                /* the worker's stop flag */
    script_t *busy;           /* the worker's state once it exists, else NULL (atomic) */
    int interrupted;          /* script_thread_interrupt() was called */
    int quota_done;           /* -n: its last response was counted (atomic) */
    char error[ERR_MAX];      /* why the worker's script failed */
};

/* script.c: errors and protected calls */

/* Call the function below nargs arguments with the handler at index 1: 0,
 * or SCRIPT_EFAIL with the error recorded "(in hook)". */
int script_pcall(script_t *s, int nargs, int nres, const char *hook);
/* Record the error message on top of the stack (popped) as s's error,
 * "MESSAGE (in HOOK)". SCRIPT_EFAIL. */
int script_fail(script_t *s, const char *hook);
/* fn(s, arg) protected (see script.c): its return value, or SCRIPT_EFAIL
 * with the error recorded "(in hook)". The stack is as before. */
int script_guard(script_t *s, int (*fn)(script_t *, void *), void *arg, const char *hook);
/* "file:line" where the function at registry ref was defined, or "?". */
void script_where(lua_State *L, int ref, char *buf, size_t n);
/* Record a formatted error in s (and its thread): SCRIPT_EFAIL. */
__attribute__((format(printf, 2, 3)))
int script_errorf(script_t *s, const char *fmt, ...);
/* Push the global `name`, looked up raw (no metamethod of the script runs). */
void script_raw_global(lua_State *L, const char *name);
/* Whether the global `name` (raw) is a function. */
int script_is_function(lua_State *L, const char *name);

/* script_api.c: values between states, thread and statistics objects */

/* A growing byte buffer for script_ser (bad: out of memory). */
typedef struct sbuf { char *p; size_t len, cap; int bad; } sbuf_t;

/* Append the value at idx to b (nil, boolean, number, string, tables of
 * them: wrk's thread:get/set rule). NULL or why not. */
const char *script_ser(lua_State *L, int idx, sbuf_t *b, int depth);
/* Push the value serialized at *p, advancing *p. 0, or -1 if corrupt. */
int script_deser(lua_State *L, const char **p, const char *end);
/* Push the table of thread:set values staged for t during setup(). */
void script_push_staged(lua_State *L, script_thread_t *t);
/* Push wrk's thread object for t. */
void script_push_thread(lua_State *L, script_thread_t *t);
/* Push a done() statistics object (latency, requests) over h (borrowed). */
void script_push_stats(lua_State *L, const hist_t *h);
/* Put the metatables, the wrk table (from cfg) and the barrage table in a
 * new state (raises on out of memory: run under lua_cpcall). */
void script_api_open(lua_State *L, const config_t *cfg);

/* script_hooks.c */

/* Take the request string at the top of the stack as sc's pending request
 * (popped): 0, SCRIPT_EFAIL or -ENOMEM. */
int script_take_request(sconn_t *sc, const char *hook);

/* script_user.c: user() and waits */

/* The connection timer's callback (delay() and u:sleep()): resume it. */
void script_on_timer(loop_timer_t *tm);
/* Wait ms before sc's connection goes on: CONN_NEXT_WAIT, SCRIPT_EFAIL or
 * -ENOMEM. */
int script_wait_ms(sconn_t *sc, double ms, const char *hook);
/* Resume sc's virtual user with the nargs values on the stack and act on
 * what it yields (a request taken, or a wait). */
int script_user_step(sconn_t *sc, int nargs);
/* The same with a response: the nargs values script_push_response pushed. */
int script_user_respond(sconn_t *sc, int nargs);
/* Open sc's response for r:failure()/r:success() (failed: it counts as failed
 * now; reason: the error class of a failed attempt, else NULL): its token. */
double script_mark_open(sconn_t *sc, int failed, const char *reason);
/* The statuses expected of sc's next request, from u:request's expect
 * (--expect-status's grammar): 0, or -1 with the message in msg. */
int script_expect_set(sconn_t *sc, const char *spec, size_t len, char *msg, size_t msglen);
/* barrage._mark (registered in every state). */
int script_l_mark(lua_State *L);
/* Put barrage._duration_ms (units.c's grammar) and barrage._mono in the
 * table at the top of the stack. */
void script_user_open(lua_State *L);
/* Forget sc's virtual user (its next request starts a new one). */
void script_user_drop(sconn_t *sc);
/* script_request.c: a virtual user's requests and responses */

/* Put barrage._send in the table at the top of the stack. */
void script_request_open(lua_State *L);
/* Store r's Set-Cookie values in the user's jar, then push what
 * barrage._user_respond makes the response table of (status, the raw
 * header block, body, error, name, failed, elapsed, connect, tls, ttfb,
 * token): how many values. */
int script_push_response(sconn_t *sc, const script_response_t *r);

#endif
