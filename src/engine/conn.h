/* conn.h - one client connection's state machine:
 *   connect -> write request -> read/parse response -> account -> next
 * with reconnects (immediate after a server close, backed off after a
 * connect failure) and per-request timeouts.
 *
 * A connection registers its socket once, edge-triggered, and never touches
 * epoll again: the next request is written as soon as a response completes,
 * and writability is only waited for after a short write. Requests are read
 * from an immutable per-thread buffer, responses parsed in place from the
 * per-thread read buffer; a connection owns only its parser and offsets. */
#ifndef BARRAGE_CONN_H
#define BARRAGE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "loop.h"
#include "net.h"
#include "stats.h"
#include "tls.h"

typedef struct conn conn_t;

/* connect_give_up: consecutive failed opens of one connection, in a thread
 * that never opened any, after which the run ends (the server does not
 * accept at all; -n without -d would otherwise retry forever). */
#define CONN_GIVE_UP_TRIES 3

/* Why a request in flight failed (the error classes of stats_errors_t). */
enum conn_error {
    CONN_ERR_CONNECT = 0,
    CONN_ERR_READ,
    CONN_ERR_WRITE,
    CONN_ERR_TIMEOUT,
    CONN_ERR_PARSE,
};

enum conn_next {
    CONN_NEXT_SEND = 0,  /* buf and len hold the next request string */
    CONN_NEXT_WAIT = 1,  /* nothing now: the hook will call conn_resume() */
    CONN_NEXT_RETIRE = 2,/* the hook is done with this connection: conn_retire() it */
};

/* A request string from hooks->next: its bytes, how many requests it
 * holds and which are HEAD. All of it must stay valid until the next call
 * for this connection or until it closes (a partial write copies the rest
 * of buf). */
typedef struct conn_req {
    const char *buf;
    size_t len;
    uint32_t n;              /* complete requests in buf (>= 1) */
    const uint8_t *heads;    /* bit i: request i is HEAD (http_is_head); NULL: none is */
} conn_req_t;

/* Optional per-request callbacks (scripts). Any member may be NULL. A
 * negative return is fatal: it ends the thread's run (ctx->fatal). */
typedef struct conn_hooks {
    /* The connection is open and idle (nothing in flight, the last request
     * written entirely): produce the next request string in *req. */
    int (*next)(conn_t *c, conn_req_t *req);
    /* A complete response (c->resp; captured headers/body in ctx->capture). */
    int (*response)(conn_t *c, uint64_t latency_us);
    /* The request(s) in flight failed and will not be answered. */
    int (*failed)(conn_t *c, enum conn_error why);
} conn_hooks_t;

/* The questions a connection asks its worker's admit hook, and the answers.
 *  CONN_ASK_START: before a connection opens and before it takes its next
 *    request: CONN_GO, CONN_HOLD (stay idle; the worker calls conn_resume()
 *    later; a connection still opens) or CONN_RETIRE (close and stay closed
 *    until conn_start(), as stages ramping down do).
 *  CONN_ASK_SLOT: the request is taken: CONN_GO (send it now; *intended may
 *    be set to an earlier intended send time) or CONN_HOLD (keep it; the
 *    worker calls conn_resume() when its slot comes). */
enum conn_ask { CONN_ASK_START = 0, CONN_ASK_SLOT = 1 };
enum conn_verdict { CONN_GO = 0, CONN_HOLD = 1, CONN_RETIRE = 2 };

/* What every connection of one thread shares. Owned by the worker. */
typedef struct conn_ctx {
    loop_t *loop;            /* the thread's loop */
    stats_t *stats;          /* the thread's counters */
    const net_addr_t *addr;  /* where to connect */
    const char *req;         /* request bytes, immutable for the run */
    size_t req_len;
    const uint8_t *req_heads; /* which requests of `req` are HEAD (http_is_head), NULL: none */
    uint64_t timeout_ns;     /* per-request timeout */
    char *rbuf;              /* the thread's read buffer */
    size_t rbuf_size;
    uint64_t quota;          /* responses this thread must complete; 0 = no limit */
    uint64_t issued;         /* requests started and not failed (<= quota) */
    uint64_t now;            /* latest clock reading, monotonic ns */
    int stopping;            /* send no more requests, do not reconnect */
    int fatal;               /* negative errno that must end the run (EMFILE...) */
    conn_t *tq_head;         /* connections awaiting a response, oldest first */
    conn_t *tq_tail;
    conn_t *cq_head;         /* connections still opening (connect, TLS handshake), oldest first */
    conn_t *cq_tail;
    uint64_t connect_timeout_ns; /* --connect-timeout: a connection not open by then is a connect error */
    uint8_t connect_give_up; /* end the run (fatal) when no connection of the thread ever opened and
                                one has failed to open CONN_GIVE_UP_TRIES times in a row */
    const conn_hooks_t *hooks; /* NULL: every request is `req` (the fast path) */
    uint32_t pipeline;       /* requests in `req` (>= 1) */
    uint8_t capture;         /* collect response headers and bodies */
    uint8_t close_each;      /* --no-keepalive: close after every response */
    tls_ctx_t *tls;          /* https: the shared TLS context, else NULL */
    /* The worker's say on sending (rate gate, stages, --start-at); NULL:
     * always now (the plain path). See enum conn_ask. */
    int (*admit)(conn_t *c, enum conn_ask ask, uint64_t *intended);
    void *owner;             /* the worker (for admit) */
    uint8_t paced;           /* -R: record the uncorrected service time too */
    char *pbuf;              /* the thread's plaintext buffer (TLS only) */
    size_t pbuf_size;
    const stats_expect_t *expect; /* the run's expected statuses (--expect-status); NULL: < 400 */
} conn_ctx_t;

enum conn_state {
    CONN_IDLE = 0,     /* no socket */
    CONN_CONNECTING,   /* connect() in progress */
    CONN_HANDSHAKE,    /* TLS handshake in progress */
    CONN_OPEN,         /* connected */
    CONN_BACKOFF,      /* waiting to reconnect after a connect failure */
};

struct conn {
    loop_handle_t h;         /* fd and readiness callback */
    conn_ctx_t *ctx;
    http_resp_t resp;        /* response parser */
    conn_t *tq_prev, *tq_next;
    uint64_t sent_at;        /* when the pending request started, ns */
    uint64_t deadline;       /* sent_at + timeout (opening: connect start + connect timeout) */
    size_t woff;             /* bytes of the pending request written */
    uint32_t inflight;       /* requests awaiting a response */
    uint32_t backoff_ms;     /* next reconnect delay after a connect failure */
    uint8_t state;           /* enum conn_state */
    uint8_t writing;         /* a write waits for writability */
    uint8_t in_tq;           /* linked in ctx's timeout queue */
    uint8_t in_cq;           /* linked in ctx's connect queue (same links: never in both) */
    loop_timer_t timer;      /* reconnect back-off */
    const char *wbuf;        /* bytes of the pending request string */
    size_t wlen;
    char *wcopy;             /* owned copy after a partial write (hooks only) */
    size_t wcopy_cap;
    http_capture_t *cap;     /* owned when ctx->capture */
    void *user;              /* the hooks' per-connection data */
    uint32_t index;          /* 0-based number of the connection in its thread */
    tls_sess_t *tls;         /* owned TLS session (kept across reconnects to resume) */
    uint64_t opened_at;      /* when connect() / the handshake started, ns */
    uint64_t actual_at;      /* when the pending request really started, ns */
    uint32_t held_n;         /* requests in the held (then in-flight) request string */
    const uint8_t *heads;    /* which of them are HEAD (http_is_head), NULL: none */
    uint8_t held;            /* a request string waits for the rate gate */
    uint8_t owner_mark;      /* the worker's own flag for this connection; conn never reads it */
    uint8_t resp_failed;     /* the response just completed has an unexpected status
                              * (set before hooks->response: the one definition of failed) */
    const stats_expect_t *expect; /* expected statuses of this connection's requests, set by
                              * a hook before sending (per-request expectations); NULL: ctx's */
    /* Per-request timings for scripts (r.timings): written per request only when ctx->hooks,
     * so the plain path reads no clock and writes none of them. */
    uint64_t first_at;       /* clock of the read that brought the response's first bytes, ns */
    uint32_t connect_us;     /* TCP connect of the current socket, us */
    uint32_t tls_us;         /* its TLS handshake, us (0 without TLS) */
    uint8_t fresh;           /* the current socket has carried no request yet */
    uint8_t req_fresh;       /* the request in flight is the first on its socket */
    uint8_t want_fb;         /* first_at is still to be taken for the request in flight */
};

/* Bind c to ctx; no socket yet. */
void conn_init(conn_t *c, conn_ctx_t *ctx);
/* Open the connection (non-blocking); failures are counted and retried. */
void conn_start(conn_t *c);
/* Close the socket, drop anything in flight without counting it. */
void conn_close(conn_t *c);
/* After CONN_NEXT_WAIT: ask hooks->next again and send what it gives (not
 * while a request is still being written: its end sends the next). */
void conn_resume(conn_t *c);
/* Close the connection for good (stages ramping down): a request held at
 * the gate is given back to the quota. conn_start() opens it again. */
void conn_retire(conn_t *c);
/* Every connection of x: send no more requests, do not reconnect. */
void conn_ctx_stop(conn_ctx_t *x);
/* Free what the connection owns (after conn_close). */
void conn_free(conn_t *c);
/* Fail every request whose deadline has passed (counted as timeouts,
 * connection closed and reopened) and every connection not open within the
 * connect timeout (counted as connect errors, reopened with back-off).
 * Returns the next deadline or UINT64_MAX. */
uint64_t conn_expire(conn_ctx_t *ctx, uint64_t now);

#endif
