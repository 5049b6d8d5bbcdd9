/* script.h - LuaJIT scripting: wrk's API unchanged, plus virtual-user
 * workflows. Only the files of src/script/ include Lua headers.
 *
 * Life of a script:
 *   main thread:  script_load -> script_resolve -> script_setup (per thread)
 *   each worker:  script_load_thread (own lua_State, init(args)) ->
 *                 script_hooks / script_static_request -> run
 *   main thread:  after every worker has been joined, script_done (done())
 *                 may read the workers' states (thread:get): they are idle.
 * Every call into Lua goes through lua_pcall with a traceback handler; a
 * script error is recorded (script_error) and returned as SCRIPT_EFAIL,
 * never raised into C. */
#ifndef BARRAGE_SCRIPT_H
#define BARRAGE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "loop.h"
#include "net.h"
#include "stats.h"

#define SCRIPT_EFAIL (-10001)  /* a script error; see script_error() */

typedef struct script script_t;
/* wrk's `thread` object: one per worker, shared by the main state (setup,
 * done) and the worker's own state (running). */
typedef struct script_thread script_thread_t;

/* Create a Lua state, load the embedded prelude, set wrk.* from the
 * configuration and run the user's script. NULL with err set on failure. */
script_t *script_load(const char *path, const config_t *cfg, char *err, size_t errlen);
/* Before config_finish: the script's global `options` table (k6's), each
 * entry given to config_apply_script (the command line wins). Runs the
 * script in a state of its own, freed before it returns; does nothing when
 * the script's text never says `options`. 0, or -1 with err holding one
 * line ("options.duration: ..."). */
int script_options(const char *path, config_t *cfg, char *err, size_t errlen);
/* Free a state (main or worker). */
void script_free(script_t *s);
/* The last script error, "file:line: message (in hook())". */
const char *script_error(const script_t *s);

/* wrk.resolve(host, port): the addresses that accept connections, stored in
 * wrk.addrs. 0, or -1 with err naming the host. */
int script_resolve(script_t *s, const char *host, const char *port, char *err, size_t errlen);
/* A thread object for worker `index`, owned by the main state. */
script_thread_t *script_thread_new(script_t *main, int index);
/* wrk.setup(thread): runs setup(thread) and fixes the thread's address and
 * the values set with thread:set. 0, or SCRIPT_EFAIL. */
int script_setup(script_t *main, script_thread_t *t);
/* The address the thread connects to (thread.addr). */
const net_addr_t *script_thread_addr(const script_thread_t *t);
/* The worker's stop flag, set by thread:stop() (borrowed, must outlive t). */
void script_thread_bind(script_thread_t *t, int *stop_flag);
/* Free a thread object (after its worker's state is freed). */
void script_thread_free(script_thread_t *t);
/* Why a script was stopped (script_interrupt): the message its error gets. */
enum { SCRIPT_STOP_END = 1, SCRIPT_STOP_DONE_LIMIT, SCRIPT_STOP_SIGNAL };
/* From any thread, or a signal handler: make the state's Lua code raise
 * "FILE:LINE: stopped..." at its next instruction and at every one after
 * (scripts run interpreted, so endless loops see it too; pcall cannot keep
 * it). The hook stays until the state is freed: call it only when the
 * state must stop. */
void script_interrupt(script_t *s, int why);
/* From any thread: script_interrupt(SCRIPT_STOP_END) on the worker's state
 * (init(), a hook, anything it runs). Safe before the state exists (it is
 * stopped as soon as it does) and while it runs; not after it is freed. */
void script_thread_interrupt(script_thread_t *t);
/* From any thread: with -n, whether the worker's last response was counted
 * (set before its response() runs, which might never return). */
int script_thread_quota_done(const script_thread_t *t);
/* The error that ended the worker's script, or NULL. */
const char *script_thread_error(const script_thread_t *t);

/* In the worker: create the thread's own state, apply thread:set values,
 * run wrk.init(args). NULL with the error kept in t (script_thread_error). */
script_t *script_load_thread(const char *path, const config_t *cfg, script_thread_t *t);
/* Per-request hooks for conn, or NULL when the script defines none of
 * request(), response(), delay(), user(): the hot path then never enters
 * Lua. *capture says whether responses' headers and bodies are needed. */
const conn_hooks_t *script_hooks(script_t *s, int *capture);
/* The request string when hooks are NULL: wrk.request() after init, copied
 * (caller frees). *pipeline: the number of requests in it; *heads which are
 * HEAD (http_is_head; NULL: none; owned by s). 0, SCRIPT_EFAIL or -ENOMEM. */
int script_static_request(script_t *s, char **buf, size_t *len, uint32_t *pipeline,
                          const uint8_t **heads);
/* Attach per-connection script data to conns (after conn_init) and give the
 * script the thread's loop and statistics. 0 or -ENOMEM. */
int script_attach(script_t *s, conn_t *conns, size_t n, loop_t *loop, stats_t *stats);

/* Virtual users (user(u) or barrage.user{} classes): 0 if s runs none, 2
 * if a class has an on_stop (the end of the run waits for it), else 1. */
int script_user_mode(const script_t *s);
/* After script_attach: this thread's users are run-wide users first+1 ..
 * first+n (u.gid, 1-based) of total, which fixes each one's class; the
 * per-class counts go to the thread's stats. 0, SCRIPT_EFAIL or -ENOMEM. */
int script_users_init(script_t *s, uint64_t first, uint64_t total);
/* c's user must stop (stages ramping down, the end of the run): CONN_GO
 * while its on_stop still runs (its requests go out), CONN_RETIRE once the
 * user is gone (a new one starts if c starts again). */
int script_user_stop(conn_t *c);

/* done(summary, latency, requests) in the main state, if defined. 0 or
 * SCRIPT_EFAIL. */
int script_done(script_t *main, const stats_t *total, uint64_t duration_us);
/* Whether the script defines done(). */
int script_has_done(script_t *s);

#endif
