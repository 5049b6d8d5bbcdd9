/* loop.c - the loop core shared by every backend (see loop.h and
 * loop_poller.h): timers, the ready batch and its scrub, run-once. */
#include "loop.h"
#include "loop_poller.h"

#include <errno.h>
#include <stdlib.h>

#define MAX_WAIT_NS (UINT64_C(60) * 1000000000u) /* re-check timers at least each minute */

loop_t *loop_create(int max_events)
{
    loop_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->max_events = max_events > 0 ? max_events : 64;
    l->batch = calloc((size_t)l->max_events, sizeof *l->batch);
    if (!l->batch || loop_poller_open(l)) {
        loop_destroy(l);
        return NULL;
    }
    return l;
}

void loop_destroy(loop_t *l)
{
    if (!l) return;
    loop_poller_close(l);
    free(l->batch);
    loop_heap_free(&l->timers);
    free(l);
}

int loop_add(loop_t *l, loop_handle_t *h)
{
    return loop_poller_add(l, h);
}

void loop_forget(loop_t *l, loop_handle_t *h)
{
    /* A callback may close (and reuse or free) another handle whose event is
     * already in this batch, or its own: those events must never reach it. */
    for (int i = l->cursor + 1; i < l->ready; i++)
        if (l->batch[i].h == h) l->batch[i].h = NULL;
}

int loop_remove(loop_t *l, loop_handle_t *h)
{
    loop_forget(l, h);
    return loop_poller_del(l, h);
}

int loop_timer_start(loop_t *l, loop_timer_t *t, uint64_t when)
{
    return loop_heap_start(&l->timers, t, when);
}

void loop_timer_stop(loop_t *l, loop_timer_t *t)
{
    loop_heap_stop(&l->timers, t);
}

uint64_t loop_next_timer(const loop_t *l)
{
    return loop_heap_next(&l->timers);
}

void loop_wake(loop_t *l)
{
    loop_poller_wake(l);
}

uint64_t loop_time(const loop_t *l)
{
    return l->now;
}

int loop_run_once(loop_t *l, uint64_t deadline)
{
    uint64_t now = loop_heap_run(&l->timers);
    uint64_t next = loop_heap_next(&l->timers);
    if (deadline < next) next = deadline;
    uint64_t wait = next == UINT64_MAX || next <= now ? 0 : next - now;
    if (wait > MAX_WAIT_NS) wait = MAX_WAIT_NS;
    int n = loop_poller_wait(l, wait, next == UINT64_MAX);
    if (n < 0) return n == -EINTR ? 0 : n;
    int dispatched = 0;
    l->ready = n;
    for (l->cursor = 0; l->cursor < n; l->cursor++) {
        loop_event_t *ev = &l->batch[l->cursor];
        if (!ev->h) continue; /* forgotten by an earlier callback */
        dispatched++;
        ev->h->cb(ev->h, ev->bits);
    }
    l->ready = l->cursor = 0;
    l->now = loop_heap_run(&l->timers); /* its clock read is loop_time()'s */
    return dispatched;
}
