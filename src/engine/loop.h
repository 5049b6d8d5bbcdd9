/* loop.h - a tiny edge-triggered event loop with timers (one per thread).
 *
 * Contract (redis ae / libuv in spirit, smaller):
 *  - Readiness is EDGE-TRIGGERED: a handle is told when it *becomes* readable
 *    or writable. A reader must read until a short read or EAGAIN before it
 *    waits again; a writer that hits EAGAIN waits for LOOP_WRITABLE. This lets
 *    a connection register once and never call epoll_ctl/kevent per request.
 *  - Timers live in a min-heap; each is a caller-owned loop_timer_t that the
 *    loop never frees. Times are CLOCK_MONOTONIC nanoseconds (loop_now()).
 *  - Closing a watched fd removes it from the kernel's set, but an event for
 *    it may already wait in the batch being dispatched: whoever closes a
 *    handle's fd calls loop_forget() (no syscall) or loop_remove() first, so
 *    a stale event never reaches a handle that has been reused or freed.
 *  - loop_wake() is the only function another thread may call.
 * The core (loop.c: timers, the batch and its scrub, run-once) is written
 * once; one backend that only registers and polls is compiled per OS:
 * loop_epoll.c (Linux), loop_kqueue.c (BSD, macOS), see loop_poller.h.
 * Functions return 0 or a negative errno-style code and never print.
 */
#ifndef BARRAGE_LOOP_H
#define BARRAGE_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum {
    LOOP_READABLE = 1,  /* data (or EOF) may be read */
    LOOP_WRITABLE = 2,  /* send buffer has room, or a connect() finished */
    LOOP_ERROR    = 4,  /* error or hang-up on the fd (read it to learn which) */
    LOOP_EOF      = 8,  /* the peer closed its side: read until read() returns 0,
                           a short read does not mean "drained" any more */
};

typedef struct loop loop_t;
typedef struct loop_handle loop_handle_t;
typedef struct loop_timer loop_timer_t;

/* Called with the readiness bits (LOOP_*) that became true for the handle. */
typedef void (*loop_io_fn)(loop_handle_t *h, int events);
/* Called once when a timer is due; the timer is no longer armed then. */
typedef void (*loop_timer_fn)(loop_timer_t *t);

/* Embed in the object that owns the fd; use container_of-style casts in cb. */
struct loop_handle {
    int fd;          /* the watched descriptor */
    loop_io_fn cb;   /* readiness callback */
};

struct loop_timer {
    uint64_t when;     /* due time, monotonic ns */
    loop_timer_fn cb;  /* called when due */
    int slot;          /* index in the heap, -1 when not armed (owned by loop) */
};

/* Monotonic clock in nanoseconds (vDSO clock_gettime, no syscall on Linux). */
static inline uint64_t loop_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Create a loop able to report up to max_events per poll. NULL on failure. */
loop_t *loop_create(int max_events);
/* Close the loop's own descriptors and free it (handles are not touched). */
void loop_destroy(loop_t *l);
/* Name of the backend ("epoll" or "kqueue"). */
const char *loop_backend(void);

/* Watch h->fd for both readability and writability, edge-triggered. */
int loop_add(loop_t *l, loop_handle_t *h);
/* Stop watching h->fd (call before close()); implies loop_forget(). */
int loop_remove(loop_t *l, loop_handle_t *h);
/* Drop h's events from the batch being dispatched, without a syscall: call
 * it right before close(h->fd) when the close itself unregisters the fd. */
void loop_forget(loop_t *l, loop_handle_t *h);

/* Arm t to fire at `when` (re-arming an armed timer moves it). 0, or
 * -ENOMEM when the heap cannot grow (t is then not armed). */
int loop_timer_start(loop_t *l, loop_timer_t *t, uint64_t when);
/* Disarm t if armed; harmless otherwise. */
void loop_timer_stop(loop_t *l, loop_timer_t *t);
/* Initialise a timer before first use. */
static inline void loop_timer_init(loop_timer_t *t, loop_timer_fn cb)
{
    t->when = 0; t->cb = cb; t->slot = -1;
}
/* Earliest armed timer's due time, or UINT64_MAX when none. */
uint64_t loop_next_timer(const loop_t *l);

/* Run due timers, wait for I/O at most until `deadline` (monotonic ns,
 * UINT64_MAX = no limit other than timers), dispatch what is ready, run due
 * timers again. Returns the number of I/O events dispatched, or <0 on error. */
int loop_run_once(loop_t *l, uint64_t deadline);
/* The clock (loop_now()) as the last loop_run_once read it at its end,
 * after the I/O callbacks, before the timers then due: one read fewer for
 * a caller that goes on at once (stale after an early return: 0 events). */
uint64_t loop_time(const loop_t *l);

/* Make a blocked loop_run_once() return soon; safe from any thread and from
 * signal handlers. */
void loop_wake(loop_t *l);

#endif
