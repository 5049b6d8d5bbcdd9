/* loop_heap.h - the timer min-heap shared by every loop backend (internal to
 * the loop_*.c files). */
#ifndef BARRAGE_LOOP_HEAP_H
#define BARRAGE_LOOP_HEAP_H

#include "loop.h"

typedef struct loop_heap {
    loop_timer_t **items; /* owned array of borrowed timers */
    int len, cap;
} loop_heap_t;

/* Arm (or move) t to `when`. 0, or -ENOMEM (t is then not armed). */
int loop_heap_start(loop_heap_t *hp, loop_timer_t *t, uint64_t when);
void loop_heap_stop(loop_heap_t *hp, loop_timer_t *t);
/* Earliest due time, UINT64_MAX when empty. */
uint64_t loop_heap_next(const loop_heap_t *hp);
/* Fire every due timer; returns the clock reading it used. */
uint64_t loop_heap_run(loop_heap_t *hp);
void loop_heap_free(loop_heap_t *hp);

#endif
