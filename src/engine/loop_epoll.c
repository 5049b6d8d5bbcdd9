/* loop_epoll.c - Linux backend of the loop (loop_poller.h): epoll, edge-
 * triggered, with an eventfd wake-up. It only registers and polls; the core
 * is loop.c. */
#include "loop_poller.h"
#include "sysio.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct loop_poller {
    int epfd;
    int wakefd;                 /* eventfd written by loop_wake() */
    struct epoll_event *events; /* owned, max_events entries */
};

const char *loop_backend(void) { return "epoll"; }

int loop_poller_open(loop_t *l)
{
    loop_poller_t *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    l->poller = p;
    p->events = calloc((size_t)l->max_events, sizeof *p->events);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!p->events || p->epfd < 0 || p->wakefd < 0) return -ENOMEM;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &ev) < 0 ? -errno : 0;
}

void loop_poller_close(loop_t *l)
{
    loop_poller_t *p = l->poller;
    if (!p) return;
    if (p->epfd >= 0) close(p->epfd);
    if (p->wakefd >= 0) close(p->wakefd);
    free(p->events);
    free(p);
    l->poller = NULL;
}

int loop_poller_add(loop_t *l, loop_handle_t *h)
{
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = h,
    };
    return epoll_ctl(l->poller->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

int loop_poller_del(loop_t *l, loop_handle_t *h)
{
    return epoll_ctl(l->poller->epfd, EPOLL_CTL_DEL, h->fd, NULL) < 0 ? -errno : 0;
}

void loop_poller_wake(loop_t *l)
{
    int saved = errno; /* may run in a signal handler */
    uint64_t one = 1;
    ssize_t r = write(l->poller->wakefd, &one, sizeof one);
    (void)r; /* EAGAIN means a wake-up is already pending */
    errno = saved;
}

/* epoll_pwait2 (Linux 5.11, glibc 2.35) takes a nanosecond timeout, which a
 * constant-rate schedule needs; epoll_wait rounds to milliseconds. Called
 * directly where sysio.h can (no cancellation point; any glibc). */
#if SYSIO_RAW && defined(SYS_epoll_pwait2)
#define HAVE_PWAIT2 1
static inline int pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *ts)
{
    /* the kernel takes a 64-bit timespec, which struct timespec is on LP64 */
    return (int)sysio_ret(sysio_call6(SYS_epoll_pwait2, epfd, (long)ev, max, (long)ts, 0, 8));
}
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define HAVE_PWAIT2 1
#define pwait2(epfd, ev, max, ts) epoll_pwait2(epfd, ev, max, ts, NULL)
#endif

static int wait_ns(loop_poller_t *p, int max, uint64_t ns, int forever)
{
#ifdef HAVE_PWAIT2
    static int no_pwait2; /* shared by every loop's thread: atomic */
    if (!__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
        struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
        int n = pwait2(p->epfd, p->events, max, forever ? NULL : &ts);
        if (n >= 0 || errno != ENOSYS) return n;
        __atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
    }
#endif
    int ms = forever ? -1 : (int)((ns + 999999) / 1000000); /* round up: never spin */
    return epoll_wait(p->epfd, p->events, max, ms);
}

int loop_poller_wait(loop_t *l, uint64_t ns, int forever)
{
    loop_poller_t *p = l->poller;
    int n = wait_ns(p, l->max_events, ns, forever);
    if (n < 0) return -errno;
    int out = 0;
    for (int i = 0; i < n; i++) {
        const struct epoll_event *ev = &p->events[i];
        if (!ev->data.ptr) { /* wake-up: drain the eventfd */
            uint64_t v;
            ssize_t r = read(p->wakefd, &v, sizeof v);
            (void)r;
            continue;
        }
        int bits = 0;
        if (ev->events & (EPOLLIN | EPOLLRDHUP)) bits |= LOOP_READABLE;
        if (ev->events & EPOLLOUT) bits |= LOOP_WRITABLE;
        if (ev->events & (EPOLLERR | EPOLLHUP)) bits |= LOOP_ERROR | LOOP_READABLE;
        if (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) bits |= LOOP_EOF;
        l->batch[out++] = (loop_event_t){ .h = ev->data.ptr, .bits = bits };
    }
    return out;
}
