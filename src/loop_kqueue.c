/* loop_kqueue.c - BSD/macOS backend of loop.h: kqueue with EV_CLEAR (edge-
 * triggered) read and write filters per fd, a self-pipe wake-up, and the
 * shared timer heap. Mirrors loop_epoll.c; the differences are kqueue's:
 *  - Read and write readiness are two filters, so one fd can yield two events
 *    in a batch. Adjacent ones are merged into one callback; others are
 *    delivered separately, which the edge-triggered contract allows.
 *  - The wake-up is a non-blocking pipe rather than EVFILT_USER: write(2) is
 *    async-signal-safe by POSIX, kevent(2) is not listed as such, and
 *    loop_wake() promises to work from a signal handler.
 *  - EV_EOF is mapped to epoll's meaning: on the read filter it is the peer's
 *    FIN (EPOLLRDHUP: LOOP_READABLE only, read to EOF) unless fflags holds a
 *    socket error; on the write filter it means nothing more can be sent
 *    (reset, or a refused connect: EPOLLHUP/EPOLLERR), so LOOP_ERROR is set.
 */
#include "loop.h"
#include "loop_heap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

/* NetBSD before 10 declares udata as intptr_t, the others as void *. */
#define KQ_UDATA(p) ((__typeof__(((struct kevent *)0)->udata))(intptr_t)(p))
#define KQ_HANDLE(ev) ((void *)(intptr_t)(ev)->udata)

#define MAX_WAIT_NS (UINT64_C(60) * 1000000000u) /* as epoll's 60 s cap */

struct loop {
    int kq;
    int wake_rd, wake_wr;    /* self-pipe written by loop_wake() */
    int max_events;
    struct kevent *events;   /* owned */
    int ready, cursor;       /* events[cursor+1 .. ready) still to dispatch */
    loop_heap_t timers;
};

const char *loop_backend(void) { return "kqueue"; }

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

loop_t *loop_create(int max_events)
{
    loop_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->kq = l->wake_rd = l->wake_wr = -1;
    l->max_events = max_events > 0 ? max_events : 64;
    l->events = calloc((size_t)l->max_events, sizeof *l->events);
    if (!l->events) goto fail;
    l->kq = kqueue();
    if (l->kq < 0) goto fail;
    (void)fcntl(l->kq, F_SETFD, FD_CLOEXEC); /* kqueues are not inherited by fork anyway */
    int p[2];
    if (pipe(p) < 0) goto fail;
    l->wake_rd = p[0];
    l->wake_wr = p[1];
    if (set_flags(p[0]) < 0 || set_flags(p[1]) < 0) goto fail;
    /* Level-triggered, udata NULL: the wake-up marker. */
    struct kevent ev;
    EV_SET(&ev, (uintptr_t)l->wake_rd, EVFILT_READ, EV_ADD, 0, 0, KQ_UDATA(NULL));
    if (kevent(l->kq, &ev, 1, NULL, 0, NULL) < 0) goto fail;
    return l;
fail:
    loop_destroy(l);
    return NULL;
}

void loop_destroy(loop_t *l)
{
    if (!l) return;
    if (l->kq >= 0) close(l->kq);
    if (l->wake_rd >= 0) close(l->wake_rd);
    if (l->wake_wr >= 0) close(l->wake_wr);
    free(l->events);
    loop_heap_free(&l->timers);
    free(l);
}

/* Delete one filter; kevent() stops at the first failing change when it has
 * no room to report errors, so each filter goes in its own call. */
static int delete_filter(loop_t *l, int fd, short filter)
{
    struct kevent ev;
    EV_SET(&ev, (uintptr_t)fd, filter, EV_DELETE, 0, 0, KQ_UDATA(NULL));
    return kevent(l->kq, &ev, 1, NULL, 0, NULL) < 0 ? -errno : 0;
}

int loop_add(loop_t *l, loop_handle_t *h)
{
    struct kevent ev[2];
    EV_SET(&ev[0], (uintptr_t)h->fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, KQ_UDATA(h));
    EV_SET(&ev[1], (uintptr_t)h->fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, KQ_UDATA(h));
    if (kevent(l->kq, ev, 2, NULL, 0, NULL) == 0) return 0;
    int err = -errno;
    /* Do not leave the fd half-registered. */
    (void)delete_filter(l, h->fd, EVFILT_READ);
    (void)delete_filter(l, h->fd, EVFILT_WRITE);
    return err;
}

int loop_remove(loop_t *l, loop_handle_t *h)
{
    /* A callback may remove (and free) another handle, or its own handle
     * while its other filter's event is still queued: forget those events so
     * they are never dispatched. The loop's own address marks them. */
    for (int i = l->cursor + 1; i < l->ready; i++)
        if (KQ_HANDLE(&l->events[i]) == (void *)h)
            l->events[i].udata = KQ_UDATA(l);
    int r1 = delete_filter(l, h->fd, EVFILT_READ);
    int r2 = delete_filter(l, h->fd, EVFILT_WRITE);
    return r1 < 0 ? r1 : r2;
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
    int saved = errno; /* may run in a signal handler */
    char one = 1;
    ssize_t r = write(l->wake_wr, &one, 1);
    (void)r; /* EAGAIN: the pipe is full, so a wake-up is already pending */
    errno = saved;
}

static void drain_wake(loop_t *l)
{
    char buf[256];
    while (read(l->wake_rd, buf, sizeof buf) > 0) {}
}

/* LOOP_* bits for one kevent (see the top of the file). */
static int event_bits(const struct kevent *ev)
{
    if (ev->flags & EV_ERROR) return LOOP_READABLE | LOOP_ERROR | LOOP_EOF;
    if (ev->filter == EVFILT_READ) {
        if ((ev->flags & EV_EOF) && ev->fflags) return LOOP_READABLE | LOOP_ERROR | LOOP_EOF;
        return (ev->flags & EV_EOF) ? LOOP_READABLE | LOOP_EOF : LOOP_READABLE;
    }
    if (ev->filter == EVFILT_WRITE) {
        if (ev->flags & EV_EOF) return LOOP_WRITABLE | LOOP_READABLE | LOOP_ERROR | LOOP_EOF;
        return LOOP_WRITABLE;
    }
    return 0;
}

int loop_run_once(loop_t *l, uint64_t deadline)
{
    uint64_t now = loop_heap_run(&l->timers);
    uint64_t next = loop_heap_next(&l->timers);
    if (deadline < next) next = deadline;
    struct timespec ts, *tsp = NULL;
    if (next != UINT64_MAX) {
        uint64_t wait = next > now ? next - now : 0;
        if (wait > MAX_WAIT_NS) wait = MAX_WAIT_NS;
        ts.tv_sec = (time_t)(wait / 1000000000u);
        ts.tv_nsec = (long)(wait % 1000000000u);
        tsp = &ts;
    }
    int n = kevent(l->kq, NULL, 0, l->events, l->max_events, tsp);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    int dispatched = 0;
    l->ready = n;
    for (l->cursor = 0; l->cursor < n; l->cursor++) {
        struct kevent *ev = &l->events[l->cursor];
        loop_handle_t *h = KQ_HANDLE(ev);
        if (!h) { drain_wake(l); continue; }
        if (h == (void *)l) continue; /* removed by an earlier callback */
        int bits = event_bits(ev);
        /* The fd's other filter often comes right after: one callback. */
        while (l->cursor + 1 < n && KQ_HANDLE(&l->events[l->cursor + 1]) == (void *)h)
            bits |= event_bits(&l->events[++l->cursor]);
        if (!bits) continue;
        dispatched++;
        h->cb(h, bits);
    }
    l->ready = l->cursor = 0;
    if (l->timers.len) loop_heap_run(&l->timers);
    return dispatched;
}
