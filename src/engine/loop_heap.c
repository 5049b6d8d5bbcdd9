/* loop_heap.c - binary min-heap of loop timers, keyed on `when`. Each timer
 * knows its slot so stop/move are O(log n) without searching. */
#include "loop_heap.h"

#include <errno.h>
#include <stdlib.h>

static void put(loop_heap_t *hp, int i, loop_timer_t *t)
{
    hp->items[i] = t;
    t->slot = i;
}

static void sift_up(loop_heap_t *hp, int i)
{
    loop_timer_t *t = hp->items[i];
    while (i > 0) {
        int p = (i - 1) / 2;
        if (hp->items[p]->when <= t->when) break;
        put(hp, i, hp->items[p]);
        i = p;
    }
    put(hp, i, t);
}

static void sift_down(loop_heap_t *hp, int i)
{
    loop_timer_t *t = hp->items[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= hp->len) break;
        if (c + 1 < hp->len && hp->items[c + 1]->when < hp->items[c]->when) c++;
        if (t->when <= hp->items[c]->when) break;
        put(hp, i, hp->items[c]);
        i = c;
    }
    put(hp, i, t);
}

void loop_heap_stop(loop_heap_t *hp, loop_timer_t *t)
{
    int i = t->slot;
    if (i < 0 || i >= hp->len || hp->items[i] != t) return;
    t->slot = -1;
    loop_timer_t *last = hp->items[--hp->len];
    if (i == hp->len) return;
    put(hp, i, last);
    sift_up(hp, i);
    sift_down(hp, last->slot);
}

int loop_heap_start(loop_heap_t *hp, loop_timer_t *t, uint64_t when)
{
    loop_heap_stop(hp, t);
    t->when = when;
    if (hp->len == hp->cap) {
        int cap = hp->cap ? hp->cap * 2 : 64;
        loop_timer_t **n = realloc(hp->items, (size_t)cap * sizeof *n);
        if (!n) return -ENOMEM;
        hp->items = n;
        hp->cap = cap;
    }
    put(hp, hp->len++, t);
    sift_up(hp, t->slot);
    return 0;
}

uint64_t loop_heap_next(const loop_heap_t *hp)
{
    return hp->len ? hp->items[0]->when : UINT64_MAX;
}

uint64_t loop_heap_run(loop_heap_t *hp)
{
    uint64_t now = loop_now();
    while (hp->len && hp->items[0]->when <= now) {
        loop_timer_t *t = hp->items[0];
        loop_heap_stop(hp, t);
        t->cb(t);
    }
    return now;
}

void loop_heap_free(loop_heap_t *hp)
{
    free(hp->items);
    hp->items = NULL;
    hp->len = hp->cap = 0;
}
