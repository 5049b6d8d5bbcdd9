/* serve_conn.h - `barrage serve`'s connection engine: a worker's state and
 * one connection's (its request being parsed, its output queue), reading,
 * writing and closing. Internal to src/serve/.
 *
 * The output queue is a ring of segments. A segment points at static bytes
 * (prebuilt responses, fault strings) or at the connection's obuf (bytes
 * formatted for this response: dynamic handler answers, fault headers), has
 * a due time (--delay/--stall) and an optional action run once it is fully
 * written (graceful close, or reset).
 */
#ifndef BARRAGE_SERVE_CONN_H
#define BARRAGE_SERVE_CONN_H

#include "loop.h"
#include "serve_args.h"
#include "serve_http.h"

#include <llhttp.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SERVE_READ_BUF        (64 * 1024)    /* per-thread read buffer */
#define SERVE_MAX_HEADERS     64             /* request headers kept for the handler */

#define SERVE_CONTAINER(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---------------------------------------------------------------------------
 * Workers and connections */

typedef struct serve_shared {
    serve_config_t cfg;
    serve_static_t st;
    atomic_uint_fast64_t fault_seq;   /* requests seen, server-wide (only with --fault) */
    atomic_uint_fast64_t fault_t0;    /* --fault-window: when the first request came (0: none yet) */
    serve_capacity_t capacity;        /* --capacity: the shared timeline */
} serve_shared_t;

typedef struct serve_conn serve_conn_t;

typedef struct serve_worker {
    serve_shared_t *sh;
    const serve_config_t *cfg;        /* &sh->cfg */
    const serve_static_t *st;         /* &sh->st */
    loop_t *loop;                     /* owned */
    loop_handle_t listen_h;           /* listener (fd owned by serve_main) */
    loop_timer_t accept_timer;        /* accept() retry after EMFILE and friends */
    pthread_t thread;
    atomic_int stop;                  /* set by serve_main, then loop_wake() */
    int failed;                       /* the loop failed; the thread stopped */
    int need_due;                     /* --delay/--stall: responses carry due times */
    int need_clock;                   /* need_due or --trickle: flush reads the clock */
    char *rbuf;                       /* SERVE_READ_BUF bytes, owned by the thread */
    serve_conn_t *conns;              /* open connections (owned list) */
    uint64_t connections, requests, responses, faults;  /* summed at exit */
} serve_worker_t;

enum { SEG_NONE, SEG_CLOSE, SEG_RESET }; /* action once a segment is written */

typedef struct serve_seg {
    const char *ptr;      /* static bytes, or NULL: c->obuf + obuf_off */
    uint64_t due;         /* not before this monotonic time (0 = now) */
    uint32_t len, off;    /* length, bytes already written */
    uint32_t obuf_off;
    uint8_t action;       /* SEG_* */
} serve_seg_t;

/* The request being parsed, reused across requests (owned by its conn). */
typedef struct serve_req {
    char *buf;            /* url, header names and values, kept body */
    uint32_t len, cap;
    uint32_t head_len;    /* request-line + header bytes seen (431 limit) */
    uint32_t url_off, url_len;
    struct { uint32_t name_off, name_len, value_off, value_len; } hdr[SERVE_MAX_HEADERS];
    uint32_t nhdr;
    uint32_t body_off, body_len;
    uint64_t body_total;
    uint8_t in;           /* RQ_*: what the last header callback was */
    uint8_t keep;         /* the current header fits in hdr[] */
} serve_req_t;

enum { RQ_NONE, RQ_FIELD, RQ_VALUE };
enum { CONN_OPEN, CONN_LINGER, CONN_DEAD };

struct serve_conn {
    loop_handle_t h;          /* first: the io callback casts back */
    loop_timer_t timer;       /* next due write (delay, stall, trickle) or linger end */
    loop_timer_t probe;       /* EOF probe after a short read (see conn_watch_eof) */
    serve_worker_t *w;
    serve_conn_t *prev, *next;
    llhttp_t parser;
    serve_seg_t *q;           /* output ring (owned), q_cap a power of two */
    uint32_t q_head, q_len, q_cap;
    char *obuf;               /* bytes of queued dynamic segments (owned) */
    uint32_t obuf_len, obuf_cap;
    serve_req_t *rq;          /* owned, allocated on the first request */
    uint64_t arrival;         /* when the current read arrived (need_due only) */
    uint64_t next_byte_at;    /* --trickle: earliest next byte */
    uint64_t nresp;           /* requests answered on this connection */
    uint32_t reads, probe_reads; /* short reads so far / when the probe was armed */
    uint8_t state;            /* CONN_* */
    uint8_t ignore_input;     /* after hang/drop/reset/close: parse nothing more */
    uint8_t peer_eof;         /* the client sent FIN */
    uint8_t want_write;       /* the last write hit EAGAIN: wait for LOOP_WRITABLE */
    uint8_t read_paused;      /* too much queued: read again once drained */
    uint8_t resume_read;      /* drained while paused: read now (edge-triggered) */
    uint8_t broken;           /* out of memory: close */
    uint16_t error_status;    /* 431 when the request head is too large */
};

/* Accept fd (non-blocking, connected) as a new connection of w, on w's loop
 * and list: 0, or -1 (out of memory or the loop refused it; fd is closed). */
int serve_conn_open(serve_worker_t *w, int fd);

/* Close c at once (no-op when dead); c stays allocated and listed. */
void serve_conn_kill(serve_conn_t *c);

/* Unlist and free a dead c. */
void serve_conn_free(serve_conn_t *c);

/* Queue len static bytes (they outlive c), not before due, then action
 * (SEG_*); out of memory sets c->broken. */
void serve_conn_push(serve_conn_t *c, const char *p, size_t len, uint64_t due, int action);

/* Queue a copy of len bytes (in c->obuf), as serve_conn_push. */
void serve_conn_push_copy(serve_conn_t *c, const char *p, size_t len, uint64_t due, int action);

/* When the response to a request read now may go out (0: at once). */
uint64_t serve_conn_due(const serve_conn_t *c);

#endif
