/* test_loop.c - the loop.h contract: timer order and re-arming, wake-ups
 * from another thread, edge-triggered readiness, removal during a batch.
 * Timing asserts are one-sided or generous (machines are noisy); anything
 * that could block forever is bounded by a watchdog thread that does not
 * depend on the feature under test. */
#include "test.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS (UINT64_C(1000000))
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A non-blocking stream socketpair (fcntl: macOS lacks SOCK_NONBLOCK). */
static int nonblocking_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    }
    return 0;
}

/* ---- watchdog: after `ms`, make the loop return through a socket ----
 * One static instance. A failed assertion ends the test's process (each
 * test runs in its own), so a watchdog never outlives its test; the check
 * in watchdog_start() is only a safety net. */

typedef struct watchdog {
    loop_t *loop;
    int fds[2];              /* fds[0] is watched by the loop */
    loop_handle_t h;
    pthread_t thread;
    int active;
    int stop, barked;        /* shared with the thread: __atomic */
    uint64_t ms;
} watchdog_t;

static watchdog_t g_watchdog;
static int watchdog_stop(watchdog_t *w);

static void watchdog_cb(loop_handle_t *h, int events)
{
    char buf[64];
    (void)events;
    while (read(h->fd, buf, sizeof buf) > 0) {}
}

/* Polls a flag every 2 ms (portable: macOS has no condvar on a monotonic
 * clock); a stop costs at most that. */
static void *watchdog_main(void *arg)
{
    watchdog_t *w = arg;
    uint64_t until = loop_now() + w->ms * MS;
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
        if (loop_now() >= until) {
            __atomic_store_n(&w->barked, 1, __ATOMIC_RELEASE);
            ssize_t r = write(w->fds[1], "!", 1);
            (void)r;
            break;
        }
        usleep(2000);
    }
    return NULL;
}

static int watchdog_start(watchdog_t **wp, loop_t *l, uint64_t ms)
{
    watchdog_t *w = *wp = &g_watchdog;
    if (w->active) watchdog_stop(w);
    memset(w, 0, sizeof *w);
    w->loop = l;
    w->ms = ms;
    if (nonblocking_pair(w->fds) < 0) return -1;
    w->h.fd = w->fds[0];
    w->h.cb = watchdog_cb;
    if (loop_add(l, &w->h) < 0) return -1;
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) return -1;
    w->active = 1;
    /* Swallow fds[0]'s initial "writable" edge so tests count only theirs. */
    loop_run_once(l, 0);
    return 0;
}

/* Stop it; returns whether it had to intervene. */
static int watchdog_stop(watchdog_t *w)
{
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    pthread_join(w->thread, NULL);
    w->active = 0;
    loop_remove(w->loop, &w->h);
    close(w->fds[0]);
    close(w->fds[1]);
    return __atomic_load_n(&w->barked, __ATOMIC_ACQUIRE);
}

/* ---- timers ---- */

typedef struct tt {
    loop_timer_t t;
    int id;
    int armed;      /* the model: should it be in the heap? */
    int fired;      /* how many times its callback ran */
    int slot_in_cb; /* t.slot seen inside the callback */
} tt_t;

#define NTIMERS 1000
static int g_order[4 * NTIMERS];
static uint64_t g_order_when[4 * NTIMERS];
static int g_norder;
static loop_t *g_loop;

static void record_cb(loop_timer_t *t)
{
    tt_t *x = container_of(t, tt_t, t);
    x->fired++;
    x->slot_in_cb = t->slot;
    if (g_norder < 4 * NTIMERS) {
        g_order[g_norder] = x->id;
        g_order_when[g_norder] = t->when;
        g_norder++;
    }
}

TEST(loop_timers_random_order)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    tt_t *ts = calloc(NTIMERS, sizeof *ts);
    ASSERT(ts);
    g_norder = 0;
    for (int i = 0; i < NTIMERS; i++) {
        loop_timer_init(&ts[i].t, record_cb);
        ts[i].id = i;
    }
    /* Past times fire on the next run; "future" ones are an hour away. */
    const uint64_t base = loop_now();
    const uint64_t past0 = base - 1000 * MS, future0 = base + 3600000 * MS;
    uint64_t s = 7;
    loop_timer_stop(l, &ts[0].t);                 /* never armed: harmless */
    for (int op = 0; op < 20000; op++) {
        tt_t *x = &ts[rng_next(&s) % NTIMERS];
        uint64_t r = rng_next(&s) % 100;
        if (r < 25) {                             /* stop */
            loop_timer_stop(l, &x->t);
            x->armed = 0;
        } else {                                  /* start or move */
            uint64_t when = (r < 35 ? future0 : past0) + rng_next(&s) % (500 * MS);
            if (r == 99) when = past0;            /* plenty of equal times */
            ASSERT_EQ_INT(loop_timer_start(l, &x->t, when), 0);
            x->armed = 1;
        }
        if (op % 97 == 0) {                       /* the heap's min is the model's */
            uint64_t min = UINT64_MAX;
            for (int i = 0; i < NTIMERS; i++) {
                ASSERT((ts[i].t.slot >= 0) == ts[i].armed);
                if (ts[i].armed && ts[i].t.when < min) min = ts[i].t.when;
            }
            ASSERT(loop_next_timer(l) == min);
        }
    }
    int expect = 0;
    uint64_t future_min = UINT64_MAX;
    for (int i = 0; i < NTIMERS; i++) {
        if (!ts[i].armed) continue;
        if (ts[i].t.when < base) expect++;
        else if (ts[i].t.when < future_min) future_min = ts[i].t.when;
    }
    ASSERT(expect > 100 && future_min != UINT64_MAX);
    ASSERT(loop_run_once(l, 0) >= 0);
    ASSERT_EQ_INT(g_norder, expect);
    for (int k = 1; k < g_norder; k++) ASSERT(g_order_when[k - 1] <= g_order_when[k]);
    for (int i = 0; i < NTIMERS; i++) {
        tt_t *x = &ts[i];
        if (x->armed && x->t.when < base) {
            ASSERT_EQ_INT(x->fired, 1);
            ASSERT_EQ_INT(x->slot_in_cb, -1);     /* disarmed before the call */
            ASSERT_EQ_INT(x->t.slot, -1);
        } else {
            ASSERT_EQ_INT(x->fired, 0);           /* stopped or future: never */
            ASSERT((x->t.slot >= 0) == x->armed);
        }
    }
    ASSERT(loop_next_timer(l) == future_min);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
    free(ts);
}

/* Callbacks that change the heap while it is being run. */
static tt_t g_cb[5]; /* A B C D E */

static void cb_a(loop_timer_t *t)
{
    record_cb(t);
    if (g_cb[0].fired == 1) {
        loop_timer_stop(g_loop, &g_cb[2].t);                 /* C never fires */
        loop_timer_start(g_loop, &g_cb[0].t, g_cb[3].t.when - 1); /* A again, before D */
    }
}

static void cb_b(loop_timer_t *t)
{
    record_cb(t);
    loop_timer_start(g_loop, &g_cb[4].t, t->when - 100);   /* E: already due */
}

TEST(loop_timers_changed_by_callbacks)
{
    loop_t *l = g_loop = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    g_norder = 0;
    loop_timer_fn fns[5] = { cb_a, cb_b, record_cb, record_cb, record_cb };
    uint64_t base = loop_now() - 1000 * MS;
    for (int i = 0; i < 5; i++) {
        memset(&g_cb[i], 0, sizeof g_cb[i]);
        loop_timer_init(&g_cb[i].t, fns[i]);
        g_cb[i].id = i;
    }
    for (int i = 0; i < 4; i++) ASSERT_EQ_INT(loop_timer_start(l, &g_cb[i].t, base + (uint64_t)i * 1000), 0);
    loop_timer_t later;
    loop_timer_init(&later, record_cb);
    ASSERT_EQ_INT(loop_timer_start(l, &later, loop_now() + 3600000 * MS), 0);
    ASSERT(loop_run_once(l, 0) >= 0);
    /* A(0) B(1000) E(900) A(2999) D(3000); C stopped; `later` not due. */
    int want[] = { 0, 1, 4, 0, 3 };
    ASSERT_EQ_INT(g_norder, 5);
    for (int k = 0; k < 5; k++) ASSERT_EQ_INT(g_order[k], want[k]);
    ASSERT_EQ_INT(g_cb[2].fired, 0);
    ASSERT(later.slot >= 0);
    loop_timer_stop(l, &later);
    loop_timer_stop(l, &later);                     /* twice: harmless */
    ASSERT(loop_next_timer(l) == UINT64_MAX);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
}

static uint64_t g_early;   /* callbacks that ran before their due time */
static int g_real_fired;

static void due_cb(loop_timer_t *t)
{
    if (loop_now() < t->when) g_early++;
    g_real_fired++;
}

TEST(loop_timers_never_early)
{
    /* Real waits: 20 timers 1..20 ms out, in shuffled order. */
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    loop_timer_t ts[20];
    uint64_t s = 9, now = loop_now();
    g_early = 0;
    g_real_fired = 0;
    for (int i = 0; i < 20; i++) {
        loop_timer_init(&ts[i], due_cb);
        ASSERT_EQ_INT(loop_timer_start(l, &ts[i], now + (1 + rng_next(&s) % 20) * MS), 0);
    }
    while (g_real_fired < 20 && loop_now() - now < 2000 * MS)
        ASSERT(loop_run_once(l, UINT64_MAX) >= 0);
    ASSERT(!watchdog_stop(w));
    ASSERT_EQ_INT(g_real_fired, 20);
    ASSERT_EQ_INT(g_early, 0);
    loop_destroy(l);
}

TEST(loop_timer_bounds_wait)
{
    /* Nothing to read, no deadline: the 20 ms timer alone ends the wait. */
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    loop_timer_t t;
    loop_timer_init(&t, due_cb);
    g_real_fired = 0;
    g_early = 0;
    uint64_t start = loop_now();
    ASSERT_EQ_INT(loop_timer_start(l, &t, start + 20 * MS), 0);
    int n = loop_run_once(l, UINT64_MAX);
    uint64_t took = loop_now() - start;
    int barked = watchdog_stop(w);
    ASSERT(!barked);
    ASSERT_EQ_INT(n, 0);
    ASSERT_EQ_INT(g_real_fired, 1);   /* fired within the same call */
    ASSERT_EQ_INT(g_early, 0);
    ASSERT(took < 1000 * MS);
    loop_destroy(l);
}

TEST(loop_deadline_bounds_wait)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    uint64_t start = loop_now();
    ASSERT_EQ_INT(loop_run_once(l, start + 20 * MS), 0);
    uint64_t took = loop_now() - start;
    /* A deadline already past does not block at all (and does not fail). */
    ASSERT_EQ_INT(loop_run_once(l, 0), 0);
    ASSERT(!watchdog_stop(w));
    ASSERT(took < 1000 * MS);
    loop_destroy(l);
}

/* ---- wake-ups ---- */

static void *wake_later(void *arg)
{
    usleep(50 * 1000);
    loop_wake(arg);
    return NULL;
}

TEST(loop_wake_from_thread)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    pthread_t th;
    uint64_t start = loop_now();
    ASSERT_EQ_INT(pthread_create(&th, NULL, wake_later, l), 0);
    int n = loop_run_once(l, UINT64_MAX);  /* no timers: only a wake ends it */
    uint64_t took = loop_now() - start;
    pthread_join(th, NULL);
    int barked = watchdog_stop(w);
    ASSERT(!barked);
    ASSERT_EQ_INT(n, 0);                     /* a wake-up is not an I/O event */
    ASSERT(took < 1000 * MS);
    loop_destroy(l);
}

TEST(loop_wake_pending_and_drained)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    /* Wakes before the wait are not lost, several coalesce into one, errno
     * is preserved (loop_wake may run in a signal handler). */
    errno = EDOM;
    for (int i = 0; i < 1000; i++) loop_wake(l);
    ASSERT_EQ_INT(errno, EDOM);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0); /* its run_once eats the wake */
    loop_wake(l);
    uint64_t start = loop_now();
    ASSERT_EQ_INT(loop_run_once(l, UINT64_MAX), 0);
    ASSERT(loop_now() - start < 1000 * MS);
    /* Drained: the next wait lasts until its deadline instead of spinning
     * (a one-sided check: the wait cannot be shorter than asked). */
    start = loop_now();
    ASSERT_EQ_INT(loop_run_once(l, start + 30 * MS), 0);
    uint64_t took = loop_now() - start;
    ASSERT(!watchdog_stop(w));
    ASSERT(took >= 25 * MS);
    loop_destroy(l);
}

/* ---- readiness ---- */

typedef struct io {
    loop_handle_t h;
    int calls, events;   /* callbacks seen, OR of their bits */
    int remove_other;    /* callback removes `other` (and poisons it) */
    int reopen_other;    /* callback closes `other`'s fd and gives it a new one */
    int new_fd[2];       /* the pair opened by reopen_other */
    struct io *other;
    loop_t *loop;
} io_t;

static void io_cb(loop_handle_t *h, int events)
{
    io_t *x = container_of(h, io_t, h);
    x->calls++;
    x->events |= events;
    if (x->remove_other && x->other) {
        loop_remove(x->loop, &x->other->h);
        x->other->h.cb = NULL;           /* would crash if still dispatched */
        x->other = NULL;
    }
    if (x->reopen_other && x->other) {
        /* as conn_close + conn_start do: close() unregisters the fd, the
         * same handle is watched again with a new one */
        io_t *o = x->other;
        loop_forget(x->loop, &o->h);
        close(o->h.fd);
        if (nonblocking_pair(x->new_fd) == 0) {
            o->h.fd = x->new_fd[0];
            (void)loop_add(x->loop, &o->h);
        }
        o->other = NULL;
        x->other = NULL;
    }
}

static void io_reset(io_t *x) { x->calls = 0; x->events = 0; }

/* Two watched socket pairs, past their first edges, each with one byte
 * waiting: the next poll returns both in one batch. x and y point at each
 * other. 0, or -1. */
static int two_ready(loop_t *l, int a[2], int b[2], io_t *x, io_t *y)
{
    if (nonblocking_pair(a) || nonblocking_pair(b)) return -1;
    *x = (io_t){ .h = { .fd = a[0], .cb = io_cb }, .loop = l, .other = y, .new_fd = { -1, -1 } };
    *y = (io_t){ .h = { .fd = b[0], .cb = io_cb }, .loop = l, .other = x, .new_fd = { -1, -1 } };
    if (loop_add(l, &x->h) || loop_add(l, &y->h)) return -1;
    if (loop_run_once(l, loop_now() + 1000 * MS) != 2) return -1; /* initial edges */
    io_reset(x);
    io_reset(y);
    if (write(a[1], "x", 1) != 1 || write(b[1], "y", 1) != 1) return -1;
    return 0;
}


TEST(loop_edge_triggered_read)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    int fds[2];
    ASSERT_EQ_INT(nonblocking_pair(fds), 0);
    io_t x = { .h = { .fd = fds[0], .cb = io_cb } };
    ASSERT_EQ_INT(loop_add(l, &x.h), 0);
    uint64_t later = loop_now() + 1000 * MS;
    /* A fresh socket reports its writability once, then nothing. */
    ASSERT_EQ_INT(loop_run_once(l, later), 1);
    ASSERT_EQ_INT(x.calls, 1);
    ASSERT_EQ_INT(x.events, LOOP_WRITABLE);
    io_reset(&x);
    ASSERT_EQ_INT(loop_run_once(l, 0), 0);
    ASSERT_EQ_INT(x.calls, 0);
    /* Bytes arrive: one READABLE edge. */
    ASSERT_EQ_INT(write(fds[1], "hello", 5), 5);
    ASSERT_EQ_INT(loop_run_once(l, loop_now() + 1000 * MS), 1);
    ASSERT_EQ_INT(x.calls, 1);
    ASSERT(x.events & LOOP_READABLE);
    ASSERT(!(x.events & LOOP_ERROR));
    /* Not read yet, but no new data: edge-triggered, so no new event. */
    io_reset(&x);
    ASSERT_EQ_INT(loop_run_once(l, 0), 0);
    ASSERT_EQ_INT(x.calls, 0);
    /* More bytes: a new edge, and the reader sees all ten. */
    ASSERT_EQ_INT(write(fds[1], "world", 5), 5);
    ASSERT_EQ_INT(loop_run_once(l, loop_now() + 1000 * MS), 1);
    ASSERT(x.events & LOOP_READABLE);
    char buf[64];
    ASSERT_EQ_INT(read(fds[0], buf, sizeof buf), 10);
    ASSERT(memcmp(buf, "helloworld", 10) == 0);
    ASSERT(read(fds[0], buf, sizeof buf) < 0 && errno == EAGAIN);
    /* The peer closes: READABLE (read then returns 0). kqueue may report
     * the read and write filters' EOF in two callbacks. */
    io_reset(&x);
    close(fds[1]);
    ASSERT(loop_run_once(l, loop_now() + 1000 * MS) >= 1);
    ASSERT(x.events & LOOP_READABLE);
    ASSERT_EQ_INT(read(fds[0], buf, sizeof buf), 0);
    ASSERT_EQ_INT(loop_remove(l, &x.h), 0);
    close(fds[0]);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
}

TEST(loop_edge_triggered_write)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    int fds[2];
    ASSERT_EQ_INT(nonblocking_pair(fds), 0);
    io_t x = { .h = { .fd = fds[0], .cb = io_cb } };
    ASSERT_EQ_INT(loop_add(l, &x.h), 0);
    ASSERT_EQ_INT(loop_run_once(l, loop_now() + 1000 * MS), 1); /* initial edge */
    /* Fill the send buffer until EAGAIN: no WRITABLE while it is full. */
    static char chunk[65536];
    size_t sent = 0;
    for (;;) {
        ssize_t r = write(fds[0], chunk, sizeof chunk);
        if (r < 0) { ASSERT(errno == EAGAIN); break; }
        sent += (size_t)r;
    }
    io_reset(&x);
    ASSERT_EQ_INT(loop_run_once(l, 0), 0);
    ASSERT_EQ_INT(x.calls, 0);
    /* The peer drains it: the buffer has room again, one WRITABLE edge. */
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fds[1], chunk, sizeof chunk);
        if (r <= 0) break;
        got += (size_t)r;
    }
    ASSERT_EQ_INT(got, sent);
    ASSERT_EQ_INT(loop_run_once(l, loop_now() + 1000 * MS), 1);
    ASSERT(x.events & LOOP_WRITABLE);
    ASSERT(!(x.events & LOOP_READABLE));
    ASSERT_EQ_INT(loop_remove(l, &x.h), 0);
    close(fds[0]);
    close(fds[1]);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
}

TEST(loop_remove_stops_events)
{
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    int fds[2];
    ASSERT_EQ_INT(nonblocking_pair(fds), 0);
    io_t x = { .h = { .fd = fds[0], .cb = io_cb } };
    ASSERT_EQ_INT(loop_add(l, &x.h), 0);
    ASSERT_EQ_INT(loop_remove(l, &x.h), 0);
    ASSERT(loop_remove(l, &x.h) < 0);             /* not watched any more */
    ASSERT_EQ_INT(write(fds[1], "x", 1), 1);
    ASSERT_EQ_INT(loop_run_once(l, 0), 0);
    ASSERT_EQ_INT(x.calls, 0);
    /* And it can be watched again. */
    ASSERT_EQ_INT(loop_add(l, &x.h), 0);
    ASSERT_EQ_INT(loop_run_once(l, loop_now() + 1000 * MS), 1);
    ASSERT(x.events & LOOP_READABLE);
    ASSERT_EQ_INT(loop_remove(l, &x.h), 0);
    close(fds[0]);
    close(fds[1]);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
}

TEST(loop_remove_during_batch)
{
    /* Two handles ready in the same batch; whichever runs first removes the
     * other (as a connection closing another would), so the other's pending
     * event must not be dispatched. */
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    int a[2], b[2];
    io_t x, y;
    ASSERT_EQ_INT(two_ready(l, a, b, &x, &y), 0);
    x.remove_other = y.remove_other = 1;
    ASSERT(loop_run_once(l, loop_now() + 1000 * MS) >= 1);
    /* (kqueue may also deliver the survivor's write filter separately.) */
    ASSERT((x.calls == 0) != (y.calls == 0));
    io_t *alive = x.calls ? &x : &y;
    ASSERT(alive->events & LOOP_READABLE);
    ASSERT_EQ_INT(loop_remove(l, &alive->h), 0);
    close(a[0]); close(a[1]);
    close(b[0]); close(b[1]);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
}

TEST(loop_forget_during_batch)
{
    /* Two handles ready in the same batch; whichever runs first closes the
     * other's fd without a syscall to the loop (close() unregisters it) and
     * reuses the handle for a new socket, as a reconnect does. The old fd's
     * event still waiting in the batch must not reach the reused handle: it
     * would be taken for news about the new socket. */
    loop_t *l = loop_create(64);
    ASSERT(l);
    watchdog_t *w;
    ASSERT_EQ_INT(watchdog_start(&w, l, 2000), 0);
    int a[2], b[2];
    io_t x, y;
    ASSERT_EQ_INT(two_ready(l, a, b, &x, &y), 0);
    x.reopen_other = y.reopen_other = 1;
    ASSERT_EQ_INT(loop_run_once(l, loop_now() + 1000 * MS), 1);
    ASSERT((x.calls == 0) != (y.calls == 0));
    io_t *first = x.calls ? &x : &y, *reused = x.calls ? &y : &x;
    ASSERT_EQ_INT(reused->calls, 0);
    /* The reused handle hears about its new socket in the next batch. */
    ASSERT(loop_run_once(l, loop_now() + 1000 * MS) >= 1);
    ASSERT_EQ_INT(reused->events, LOOP_WRITABLE);
    ASSERT_EQ_INT(loop_remove(l, &first->h), 0);
    ASSERT_EQ_INT(loop_remove(l, &reused->h), 0);
    close(first->h.fd);
    close(reused->h.fd);
    close(first->new_fd[1]);
    close(a[1]);
    close(b[1]);
    ASSERT(!watchdog_stop(w));
    loop_destroy(l);
}

TEST(loop_backend_name)
{
    const char *name = loop_backend();
#ifdef __linux__
    ASSERT_EQ_STR(name, "epoll");   /* the Makefile builds loop_epoll.c on Linux */
#else
    ASSERT_EQ_STR(name, "kqueue");  /* and loop_kqueue.c elsewhere */
#endif
    loop_destroy(NULL);                           /* harmless */
}
