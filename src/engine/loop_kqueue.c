/* loop_kqueue.c - BSD/macOS backend of the loop (loop_poller.h): kqueue with
 * EV_CLEAR (edge-triggered) read and write filters per fd and a self-pipe
 * wake-up. It only registers and polls; the core is loop.c. The differences
 * from loop_epoll.c are kqueue's:
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
#include "loop_poller.h"

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

struct loop_poller {
    int kq;
    int wake_rd, wake_wr;    /* self-pipe written by loop_wake() */
    struct kevent *events;   /* owned, max_events entries */
};

const char *loop_backend(void) { return "kqueue"; }

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int loop_poller_open(loop_t *l)
{
    loop_poller_t *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    l->poller = p;
    p->kq = p->wake_rd = p->wake_wr = -1;
    p->events = calloc((size_t)l->max_events, sizeof *p->events);
    if (!p->events) return -ENOMEM;
    p->kq = kqueue();
    if (p->kq < 0) return -errno;
    (void)fcntl(p->kq, F_SETFD, FD_CLOEXEC); /* kqueues are not inherited by fork anyway */
    int fds[2];
    if (pipe(fds) < 0) return -errno;
    p->wake_rd = fds[0];
    p->wake_wr = fds[1];
    if (set_flags(fds[0]) < 0 || set_flags(fds[1]) < 0) return -errno;
    /* Level-triggered, udata NULL: the wake-up marker. */
    struct kevent ev;
    EV_SET(&ev, (uintptr_t)p->wake_rd, EVFILT_READ, EV_ADD, 0, 0, KQ_UDATA(NULL));
    return kevent(p->kq, &ev, 1, NULL, 0, NULL) < 0 ? -errno : 0;
}

void loop_poller_close(loop_t *l)
{
    loop_poller_t *p = l->poller;
    if (!p) return;
    if (p->kq >= 0) close(p->kq);
    if (p->wake_rd >= 0) close(p->wake_rd);
    if (p->wake_wr >= 0) close(p->wake_wr);
    free(p->events);
    free(p);
    l->poller = NULL;
}

/* Delete one filter; kevent() stops at the first failing change when it has
 * no room to report errors, so each filter goes in its own call. */
static int delete_filter(loop_poller_t *p, int fd, short filter)
{
    struct kevent ev;
    EV_SET(&ev, (uintptr_t)fd, filter, EV_DELETE, 0, 0, KQ_UDATA(NULL));
    return kevent(p->kq, &ev, 1, NULL, 0, NULL) < 0 ? -errno : 0;
}

int loop_poller_add(loop_t *l, loop_handle_t *h)
{
    loop_poller_t *p = l->poller;
    struct kevent ev[2];
    EV_SET(&ev[0], (uintptr_t)h->fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, KQ_UDATA(h));
    EV_SET(&ev[1], (uintptr_t)h->fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, KQ_UDATA(h));
    if (kevent(p->kq, ev, 2, NULL, 0, NULL) == 0) return 0;
    int err = -errno;
    /* Do not leave the fd half-registered. */
    (void)delete_filter(p, h->fd, EVFILT_READ);
    (void)delete_filter(p, h->fd, EVFILT_WRITE);
    return err;
}

int loop_poller_del(loop_t *l, loop_handle_t *h)
{
    int r1 = delete_filter(l->poller, h->fd, EVFILT_READ);
    int r2 = delete_filter(l->poller, h->fd, EVFILT_WRITE);
    return r1 < 0 ? r1 : r2;
}

void loop_poller_wake(loop_t *l)
{
    int saved = errno; /* may run in a signal handler */
    char one = 1;
    ssize_t r = write(l->poller->wake_wr, &one, 1);
    (void)r; /* EAGAIN: the pipe is full, so a wake-up is already pending */
    errno = saved;
}

static void drain_wake(loop_poller_t *p)
{
    char buf[256];
    while (read(p->wake_rd, buf, sizeof buf) > 0) {}
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

int loop_poller_wait(loop_t *l, uint64_t ns, int forever)
{
    loop_poller_t *p = l->poller;
    struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
    int n = kevent(p->kq, NULL, 0, p->events, l->max_events, forever ? NULL : &ts);
    if (n < 0) return -errno;
    int out = 0;
    for (int i = 0; i < n; i++) {
        const struct kevent *ev = &p->events[i];
        loop_handle_t *h = KQ_HANDLE(ev);
        if (!h) { drain_wake(p); continue; }
        int bits = event_bits(ev);
        /* The fd's other filter often comes right after: one callback. */
        while (i + 1 < n && KQ_HANDLE(&p->events[i + 1]) == (void *)h)
            bits |= event_bits(&p->events[++i]);
        if (bits) l->batch[out++] = (loop_event_t){ .h = h, .bits = bits };
    }
    return out;
}
