/* serve.c - `barrage serve`, the built-in HTTP/1.1 target (see serve.h).
 *
 * Shape: N workers, each a thread with its own loop and its own listener
 * (SO_REUSEPORT when N > 1); the main thread binds, prints, then waits in
 * sigwait() for SIGTERM/SIGINT, stops the workers and prints the counters.
 *
 * Why it is fast:
 *  - Every normal response is prebuilt once (status line, headers and the
 *    encoded body) in read-only memory shared by all threads. Answering a
 *    request only appends references to it to the connection's output queue;
 *    nothing is formatted, copied or allocated per request.
 *  - One read buffer per thread. The responses produced by one read go out
 *    in one sendmsg() (an iovec per queued segment), then we wait: a
 *    keep-alive request costs one read and one write.
 *  - The clock is read only when --delay, --stall or --trickle need it.
 *
 * Files: serve_args (options, --help), serve_http (prebuilt responses,
 * request parsing with llhttp, routing), serve_api (the demo API),
 * serve_faults (fault modes), serve_conn (the connection engine and its
 * output queue); this one: listeners, accept, workers, signals, serve_main.
 */
#define _GNU_SOURCE
#include "serve.h"
#include "loop.h"
#include "serve_args.h"
#include "serve_conn.h"
#include "serve_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVE_ACCEPT_RETRY_NS 100000000ull   /* accept() out of descriptors: retry later */

/* ---------------------------------------------------------------------------
 * Accepting */

static void worker_accept(serve_worker_t *w)
{
    for (;;) {
        int fd = accept4(w->listen_h.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the edge is spent, so retry on a timer */
            loop_timer_start(w->loop, &w->accept_timer, loop_now() + SERVE_ACCEPT_RETRY_NS);
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve_conn_open(w, fd); /* on failure fd is closed: accept the next */
    }
}

static void worker_on_listen(loop_handle_t *h, int events)
{
    (void)events;
    worker_accept(SERVE_CONTAINER(h, serve_worker_t, listen_h));
}

static void worker_on_accept_timer(loop_timer_t *t)
{
    worker_accept(SERVE_CONTAINER(t, serve_worker_t, accept_timer));
}

static void *worker_main(void *arg)
{
    serve_worker_t *w = arg;
    w->rbuf = malloc(SERVE_READ_BUF);
    if (!w->rbuf || loop_add(w->loop, &w->listen_h) < 0) {
        w->failed = 1;
        kill(getpid(), SIGTERM); /* serve_main's sigwait() stops everything */
        free(w->rbuf);
        return NULL;
    }
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        if (loop_run_once(w->loop, UINT64_MAX) < 0) {
            w->failed = 1;
            kill(getpid(), SIGTERM);
            break;
        }
    }
    while (w->conns) {
        serve_conn_t *c = w->conns;
        serve_conn_kill(c);
        serve_conn_free(c);
    }
    loop_timer_stop(w->loop, &w->accept_timer);
    loop_remove(w->loop, &w->listen_h);
    free(w->rbuf);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Listening and the program */

/* A bound, listening, non-blocking socket, or -errno. */
static int serve_listen_socket(const struct sockaddr *addr, socklen_t len, int reuseport)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        bind(fd, addr, len) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void serve_format_addr(const struct sockaddr_storage *ss, char *buf, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(buf, n, "[%s]:%u", ip, (unsigned)ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    }
}

int serve_main(int argc, char **argv)
{
    serve_shared_t *sh = calloc(1, sizeof *sh);
    if (!sh) { fputs("barrage serve: out of memory\n", stderr); return 1; }
    int rc = serve_args_parse(argc, argv, &sh->cfg);
    if (rc) { free(sh); return rc < 0 ? 0 : rc; }
    serve_config_t *cfg = &sh->cfg;
    atomic_init(&sh->fault_seq, 0);
    if (serve_static_build(cfg, &sh->st) < 0) {
        fputs("barrage serve: out of memory\n", stderr);
        free(sh);
        return 1;
    }

    /* Workers inherit this mask; the main thread takes the signals in sigwait(). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* belt and braces: every send uses MSG_NOSIGNAL */

    int n = cfg->threads, started = 0;
    serve_worker_t *workers = calloc((size_t)n, sizeof *workers);
    rc = 1;
    if (!workers) { fputs("barrage serve: out of memory\n", stderr); goto out; }
    for (int i = 0; i < n; i++) workers[i].listen_h.fd = -1;

    struct sockaddr_storage bound = cfg->addr;
    socklen_t bound_len = cfg->addr_len;
    for (int i = 0; i < n; i++) {
        int fd = serve_listen_socket((struct sockaddr *)&bound, bound_len, n > 1);
        if (fd < 0) {
            char where[INET6_ADDRSTRLEN + 16];
            serve_format_addr(&bound, where, sizeof where);
            fprintf(stderr, "barrage serve: cannot listen on %s: %s (pick another "
                    "--listen address or port)\n", where, strerror(-fd));
            goto out;
        }
        workers[i].listen_h.fd = fd;
        if (i == 0) { /* port 0: every other listener joins the port we got */
            bound_len = sizeof bound;
            getsockname(fd, (struct sockaddr *)&bound, &bound_len);
        }
    }

    cfg->start_ns = loop_now();
    for (int i = 0; i < n; i++) {
        serve_worker_t *w = &workers[i];
        w->sh = sh;
        w->cfg = cfg;
        w->st = &sh->st;
        w->listen_h.cb = worker_on_listen;
        loop_timer_init(&w->accept_timer, worker_on_accept_timer);
        w->need_due = cfg->delay_ns || cfg->stall_ns || cfg->capacity.rps > 0;
        w->need_clock = w->need_due || cfg->trickle_ns;
        atomic_init(&w->stop, 0);
        w->loop = loop_create(256);
        if (!w->loop) { fputs("barrage serve: cannot create an event loop\n", stderr); break; }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            fputs("barrage serve: cannot start a thread\n", stderr);
            break;
        }
        started++;
    }

    if (started == n) {
        char where[INET6_ADDRSTRLEN + 16];
        serve_format_addr(&bound, where, sizeof where);
        printf("listening on %s\n", where);
        fflush(stdout);
        int sig;
        sigwait(&set, &sig);
        rc = 0;
    }

    for (int i = 0; i < started; i++) {
        atomic_store_explicit(&workers[i].stop, 1, memory_order_release);
        loop_wake(workers[i].loop);
    }
    uint64_t conns = 0, reqs = 0, resps = 0, faults = 0;
    for (int i = 0; i < started; i++) {
        serve_worker_t *w = &workers[i];
        pthread_join(w->thread, NULL);
        if (w->failed) {
            fprintf(stderr, "barrage serve: worker %d stopped: its event loop failed\n", i);
            rc = 1;
        }
        conns += w->connections;
        reqs += w->requests;
        resps += w->responses;
        faults += w->faults;
    }
    if (started == n)
        fprintf(stderr, "serve: connections=%llu requests=%llu responses=%llu faults=%llu\n",
                (unsigned long long)conns, (unsigned long long)reqs,
                (unsigned long long)resps, (unsigned long long)faults);
out:
    if (workers) {
        for (int i = 0; i < n; i++) {
            if (workers[i].loop) loop_destroy(workers[i].loop);
            if (workers[i].listen_h.fd >= 0) close(workers[i].listen_h.fd);
        }
    }
    free(workers);
    serve_static_free(&sh->st);
    free(sh);
    return rc;
}
