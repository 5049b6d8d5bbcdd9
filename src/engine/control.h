/* control.h - steering a running benchmark (--web): the connection target
 * (virtual users) and the rate the workers obey, changed from any thread
 * (the web server's), and the list of control actions the result records
 * ("events"). A change reaches each worker at its next 100 ms sample
 * (worker_control); nothing is added to the request path. */
#ifndef BARRAGE_CONTROL_H
#define BARRAGE_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "worker.h"

/* What a control action did. */
typedef enum control_kind {
    CONTROL_USERS = 0,   /* value: the new connection target (all threads) */
    CONTROL_RATE,        /* value: the new rate, requests/s (all threads) */
    CONTROL_STOP,        /* the run was stopped (value 0) */
} control_kind_t;

typedef struct control_event {
    uint64_t at_ns;      /* monotonic ns: when it takes effect */
    control_kind_t kind;
    double value;
} control_event_t;

/* How far ahead of the request a rate change takes effect: every thread
 * sees it first (they look every 100 ms), so all switch at the same
 * instant, the one the event records. */
/* The most events a run records (later actions are refused). */
#define CONTROL_MAX_EVENTS 1024

#define CONTROL_RATE_LEAD_NS UINT64_C(200000000)

typedef struct control control_t;

/* For the n started workers ws of the run cfg. NULL when out of memory. */
control_t *control_new(const config_t *cfg, worker_t *ws, size_t n);
/* Keep `users` connections open from now on (0 to -c; replaces the
 * stages' target). 0, or -1 with a one-line reason in err. */
int control_users(control_t *c, uint64_t users, char *err, size_t errlen);
/* Send `rate` requests/s in all (> 0; only a run started with -R) from
 * CONTROL_RATE_LEAD_NS after now. 0, or -1 with a reason in err. */
int control_rate(control_t *c, double rate, char *err, size_t errlen);
/* Record a stop (the caller ends the run). 0, or -1 when one was already
 * recorded. */
int control_stop(control_t *c);
/* The current targets: users (-1 when none was set) and rate (the last
 * change's, or -R's; 0: unthrottled). */
void control_targets(control_t *c, int64_t *users, double *rate);
/* A copy of the events so far into out[max]; returns how many there are. */
size_t control_events(control_t *c, control_event_t *out, size_t max);
void control_free(control_t *c);

#endif
