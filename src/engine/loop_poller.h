/* loop_poller.h - what a loop backend implements (internal to loop*.c).
 *
 * The loop core (loop.c) owns everything that is the same on every OS: the
 * timer heap, the batch of ready events and its scrub (loop_forget), the
 * run-once step and the dispatch. A backend only registers descriptors and
 * polls: loop_poller_wait() turns the OS's events into loop_event_t entries
 * of l->batch (at most one per handle and poll where the OS allows it) and
 * consumes its own wake-up events, which never reach the batch. Redis ae's
 * split (ae.c over ae_epoll.c/ae_kqueue.c) and libuv's uv__io_poll are the
 * model. */
#ifndef BARRAGE_LOOP_POLLER_H
#define BARRAGE_LOOP_POLLER_H

#include "loop.h"
#include "loop_heap.h"

typedef struct loop_event {
    loop_handle_t *h;   /* NULL once forgotten (loop_forget) */
    int bits;           /* LOOP_* readiness */
} loop_event_t;

typedef struct loop_poller loop_poller_t; /* the backend's own state */

struct loop {
    loop_heap_t timers;
    loop_event_t *batch;     /* owned, max_events entries */
    int max_events;
    int ready, cursor;       /* batch[cursor+1 .. ready) still to dispatch */
    loop_poller_t *poller;   /* owned by the backend */
    uint64_t now;            /* the clock as loop_run_once last read it, at its end */
};

/* Create l->poller (descriptors, wake-up, a native event array of
 * l->max_events). 0 or -errno; on failure loop_poller_close() cleans up. */
int loop_poller_open(loop_t *l);
/* Close the backend's descriptors and free l->poller (NULL is fine). */
void loop_poller_close(loop_t *l);
/* Watch h->fd, edge-triggered, for reading and writing. 0 or -errno. */
int loop_poller_add(loop_t *l, loop_handle_t *h);
/* Stop watching h->fd. 0 or -errno. */
int loop_poller_del(loop_t *l, loop_handle_t *h);
/* Wait up to ns nanoseconds (forever when `forever`), fill l->batch and
 * return the number of entries, or -errno (-EINTR included). */
int loop_poller_wait(loop_t *l, uint64_t ns, int forever);
/* Make a blocked loop_poller_wait() return; async-signal-safe. */
void loop_poller_wake(loop_t *l);

#endif
