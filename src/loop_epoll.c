/* loop_epoll.c - Linux backend of loop.h: epoll (edge-triggered), eventfd
 * wake-up, and the shared timer heap. */
#include "loop.h"
#include "loop_heap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct loop {
    int epfd;
    int wakefd;                 /* eventfd written by loop_wake() */
    int max_events;
    struct epoll_event *events; /* owned */
    int ready, cursor;          /* events[cursor+1 .. ready) still to dispatch */
    loop_heap_t timers;
};

const char *loop_backend(void) { return "epoll"; }

loop_t *loop_create(int max_events)
{
    loop_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->max_events = max_events > 0 ? max_events : 64;
    l->events = calloc((size_t)l->max_events, sizeof *l->events);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!l->events || l->epfd < 0 || l->wakefd < 0) goto fail;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0) goto fail;
    return l;
fail:
    loop_destroy(l);
    return NULL;
}

void loop_destroy(loop_t *l)
{
    if (!l) return;
    if (l->epfd >= 0) close(l->epfd);
    if (l->wakefd >= 0) close(l->wakefd);
    free(l->events);
    loop_heap_free(&l->timers);
    free(l);
}

int loop_add(loop_t *l, loop_handle_t *h)
{
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = h,
    };
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

int loop_remove(loop_t *l, loop_handle_t *h)
{
    /* A callback may remove (and free) another handle whose event is already
     * in this batch: forget those events so they are never dispatched. The
     * loop's own address marks them (it is never a handle). */
    for (int i = l->cursor + 1; i < l->ready; i++)
        if (l->events[i].data.ptr == h) l->events[i].data.ptr = l;
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL) < 0 ? -errno : 0;
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
    uint64_t one = 1;
    ssize_t r = write(l->wakefd, &one, sizeof one);
    (void)r; /* EAGAIN means a wake-up is already pending */
    errno = saved;
}

/* epoll_pwait2 (Linux 5.11, glibc 2.35) takes a nanosecond timeout, which a
 * constant-rate schedule needs; epoll_wait rounds to milliseconds. */
static int wait_ns(loop_t *l, uint64_t ns, int forever)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    static int no_pwait2; /* shared by every loop's thread: atomic */
    if (!__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
        struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
        int n = epoll_pwait2(l->epfd, l->events, l->max_events, forever ? NULL : &ts, NULL);
        if (n >= 0 || errno != ENOSYS) return n;
        __atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
    }
#endif
    int ms = forever ? -1 : (int)((ns + 999999) / 1000000); /* round up: never spin */
    return epoll_wait(l->epfd, l->events, l->max_events, ms);
}

int loop_run_once(loop_t *l, uint64_t deadline)
{
    uint64_t now = loop_heap_run(&l->timers);
    uint64_t next = loop_heap_next(&l->timers);
    if (deadline < next) next = deadline;
    uint64_t wait = next == UINT64_MAX || next <= now ? 0 : next - now;
    if (wait > 60000000000u) wait = 60000000000u;
    int n = wait_ns(l, wait, next == UINT64_MAX);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    int dispatched = 0;
    l->ready = n;
    for (l->cursor = 0; l->cursor < n; l->cursor++) {
        struct epoll_event *ev = &l->events[l->cursor];
        loop_handle_t *h = ev->data.ptr;
        if (!h) { /* wake-up: drain the eventfd */
            uint64_t v;
            ssize_t r = read(l->wakefd, &v, sizeof v);
            (void)r;
            continue;
        }
        if (h == (void *)l) continue; /* removed by an earlier callback */
        int bits = 0;
        if (ev->events & (EPOLLIN | EPOLLRDHUP)) bits |= LOOP_READABLE;
        if (ev->events & EPOLLOUT) bits |= LOOP_WRITABLE;
        if (ev->events & (EPOLLERR | EPOLLHUP)) bits |= LOOP_ERROR | LOOP_READABLE;
        if (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) bits |= LOOP_EOF;
        dispatched++;
        h->cb(h, bits);
    }
    l->ready = l->cursor = 0;
    if (l->timers.len) loop_heap_run(&l->timers);
    return dispatched;
}
