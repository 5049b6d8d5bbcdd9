/* worker.c - the per-thread event loop around the connections. */
#define _GNU_SOURCE
#include "worker.h"
#include "units.h"
#include "cpuload.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (128 * 1024)
#define SAMPLE_NS UINT64_C(100000000) /* Req/Sec sample: every 100 ms, like wrk */

static void apply_stages(worker_t *w, uint64_t now);
static void apply_controls(worker_t *w, uint64_t now);
static int all_open(worker_t *w);
static void start_timeline(worker_t *w, uint64_t now, int forced);

static void on_sample(loop_timer_t *t)
{
    worker_t *w = (worker_t *)((char *)t - offsetof(worker_t, sample_timer));
    uint64_t now = loop_now();
    uint64_t n = w->stats.requests - w->sample_last_requests;
    uint64_t dt = now - w->sample_last_ns;
    if (dt) hist_record(&w->stats.rate, (uint64_t)((double)n * 1e9 / (double)dt + 0.5));
    w->sample_last_ns = now;
    w->sample_last_requests = w->stats.requests;
    if (w->sched_waiting && w->nidle && all_open(w)) start_timeline(w, now, 0);
    apply_controls(w, now);
    apply_stages(w, now);
    loop_timer_start(w->loop, t, now + SAMPLE_NS);
}

/* ---- rate gate: connections wait here for their slot on the schedule */

/* Above 10,000 slots/s per thread, waking once per slot costs more CPU than
 * the requests themselves; wake up to 100 us late instead and send every slot
 * due by then. Latency still counts from each slot's intended time, so the
 * report includes those microseconds; below that rate every slot is exact. */
static uint64_t coalesce_ns(const worker_t *w)
{
    double per_sec = w->rate_live > 0 ? w->rate_live
                   : w->stages_rate ? rate_stages_value(w->stages, loop_now() - w->t0) /
                                          w->nthreads / (w->shard_count ? w->shard_count : 1)
                                    : w->rate;
    return per_sec > 10000 ? 100000 : 0;
}

/* A constant rate's timeline starts once the thread's connections are open
 * (or failed), not at the run's start: slots that fell due while they were
 * connecting would all be late, and count as schedule delay and corrected
 * latency, though no server made them wait (with -c1000, tens of ms). wrk2
 * leaves a calibration period out for the same reason. At most
 * RATE_OPEN_WAIT_NS after the start the timeline starts anyway. */
#define RATE_OPEN_WAIT_NS UINT64_C(1000000000)

static uint64_t sched_origin(const worker_t *w) { return w->hold_until ? w->hold_until : w->t0; }

static int64_t wall_us(void);

/* The run measures from the mean of the threads' timeline starts and keeps
 * going for the whole duration after it (run.c run_wait). */
static void start_timeline(worker_t *w, uint64_t now, int forced)
{
    w->sched_waiting = 0;
    /* the threads' timelines interleave: thread g of n (over every shard) is
     * g/R s behind the first, so the run's slots are evenly spaced at the
     * whole rate R, not n at once every n/R s (and n rates of R/n that do
     * not divide the duration give R*D slots in all, not n more) */
    uint64_t n = (uint64_t)w->nthreads * (w->shard_count ? w->shard_count : 1);
    uint64_t g = (uint64_t)w->shard_index * (uint64_t)w->nthreads + (uint64_t)w->index;
    double phase_ns = n > 1 && w->rate > 0 ? (double)g / (w->rate * (double)n) * 1e9 : 0;
    if (!(phase_ns < 1e18)) phase_ns = 1e18; /* a rate so low its first slot is after any run */
    rate_sched_init(&w->sched, w->rate, now + (uint64_t)phase_ns);
    /* its own duration's slots, no more: a thread that started before the
     * threads' mean start (the run's) would otherwise send one slot more
     * than the rate gives (-R 50 -d 2s -t 2 sent 102) */
    if ((w->cfg->duration_set || !w->cfg->requests) && w->cfg->duration_ns) /* as run.c ends it (-n alone: no end) */
        w->slots_until = now + w->cfg->duration_ns;
    w->stats.rate_start_forced = (uint8_t)forced;
    __atomic_store_n(&w->released_unix_us, wall_us(), __ATOMIC_RELAXED);
    __atomic_store_n(&w->timeline_ns, now ? now : 1, __ATOMIC_RELEASE);
    loop_timer_start(w->loop, &w->rate_timer, now); /* the waiting connections go, oldest first */
}

/* Whether every connection is past connecting (amortized O(1) per call). */
static int all_open(worker_t *w)
{
    while (w->sched_scan < w->connections) {
        int st = w->conns[w->sched_scan].state;
        if (st == CONN_CONNECTING || st == CONN_HANDSHAKE) return 0;
        w->sched_scan++;
    }
    return 1;
}

/* Queue c at the gate (once): the rate timer resumes it, oldest first.
 * c->owner_mark says it is queued. */
static void wait_at_gate(worker_t *w, conn_t *c)
{
    if (c->owner_mark) return;
    c->owner_mark = 1;
    w->idle[w->nidle++] = c;
}

/* When the next slot is intended: UINT64_MAX when there is none before
 * slots_until (the rest wait for the run's end). */
static uint64_t next_slot(const worker_t *w)
{
    uint64_t at = rate_sched_next_at(&w->sched);
    /* 100 ns: a slot computed to the ns (and a phase rounded to it) may sit
     * a few ns before an end it is exactly at; that one is the next period's */
    return w->slots_until && at != UINT64_MAX && at + 100 >= w->slots_until ? UINT64_MAX : at;
}

static int gate(conn_t *c, uint64_t *intended)
{
    worker_t *w = c->ctx->owner;
    if (w->sched_waiting) {
        wait_at_gate(w, c);
        if (all_open(w)) start_timeline(w, c->ctx->now, 0);
        return 0;
    }
    if (next_slot(w) <= c->ctx->now && rate_sched_take(&w->sched, c->ctx->now, intended)) {
        hist_record(&w->stats.jitter, (c->ctx->now - *intended) / 1000);
        return 1;
    }
    wait_at_gate(w, c);
    uint64_t at = next_slot(w);
    if (at != UINT64_MAX) at += coalesce_ns(w);
    if (at != UINT64_MAX && (w->rate_timer.slot < 0 || w->rate_timer.when > at))
        loop_timer_start(w->loop, &w->rate_timer, at);
    return 0;
}

static void on_rate_timer(loop_timer_t *t)
{
    worker_t *w = (worker_t *)((char *)t - offsetof(worker_t, rate_timer));
    uint64_t now = loop_now();
    if (w->sched_waiting) { /* RATE_OPEN_WAIT_NS passed: some connection is still connecting */
        start_timeline(w, now, !all_open(w));
        return;
    }
    /* oldest waiter first: FIFO keeps every connection busy in turn */
    size_t i = 0;
    while (i < w->nidle && next_slot(w) <= now) {
        conn_t *c = w->idle[i++];
        c->owner_mark = 0;
        conn_resume(c);
    }
    memmove(w->idle, w->idle + i, (w->nidle - i) * sizeof *w->idle);
    w->nidle -= i;
    uint64_t at = next_slot(w);
    if (w->nidle && at != UINT64_MAX) {
        at += coalesce_ns(w);
        loop_timer_start(w->loop, t, at > now ? at : now);
    }
}

/* ---- per-second series */

static uint32_t open_conns(const worker_t *w)
{
    uint32_t n = 0;
    for (uint64_t i = 0; i < w->connections; i++) n += w->conns[i].state == CONN_OPEN;
    return n;
}

/* This thread's run-queue wait so far (ns), 0 where the kernel has no schedstat. */
static uint64_t read_wait(worker_t *w)
{
    char buf[128];
    uint64_t wait = 0;
    ssize_t n = w->schedstat_fd >= 0 ? pread(w->schedstat_fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0) return 0;
    buf[n] = 0;
    return cpuload_parse_schedstat(buf, &wait) ? 0 : wait;
}

static void push_second(worker_t *w)
{
    stats_second_t *sec = stats_second_take(&w->stats, &w->prev, w->second, open_conns(w));
    if (!sec) return;
    /* the client's own load: this thread's CPU time, read once a second */
    struct timespec cpu;
    uint64_t cpu_ns = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) ? w->cpu_last_ns
                    : (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec, now = loop_now();
    sec->cpu_ns = cpu_ns - w->cpu_last_ns;
    uint64_t wait = read_wait(w);
    sec->wait_ns = wait > w->wait_last_ns ? wait - w->wait_last_ns : 0;
    w->wait_last_ns = wait;
    sec->wall_ns = now - w->wall_last_ns;
    w->cpu_last_ns = cpu_ns;
    w->wall_last_ns = now;
    unsigned head = w->ring_head, tail = __atomic_load_n(&w->ring_tail, __ATOMIC_ACQUIRE);
    if (head - tail >= WORKER_RING) { free(sec); return; } /* main thread stalled: drop */
    w->ring[head % WORKER_RING] = sec;
    __atomic_store_n(&w->ring_head, head + 1, __ATOMIC_RELEASE);
    if (w->live_names) { /* --web: names and checks so far, replacing the last unread one */
        stats_live_t *snap = stats_live_take(&w->stats);
        stats_live_free(__atomic_exchange_n(&w->live_snap, snap, __ATOMIC_ACQ_REL));
    }
}

stats_second_t *worker_pop_second(worker_t *w)
{
    unsigned tail = w->ring_tail, head = __atomic_load_n(&w->ring_head, __ATOMIC_ACQUIRE);
    if (tail == head) return NULL;
    stats_second_t *sec = w->ring[tail % WORKER_RING];
    __atomic_store_n(&w->ring_tail, tail + 1, __ATOMIC_RELEASE);
    return sec;
}

/* ---- connection stages: how many of this thread's connections are active */

static void apply_stages(worker_t *w, uint64_t now)
{
    uint32_t limit;
    if (w->ctl_users_on) {
        limit = w->ctl_limit; /* --web's target, already this thread's share */
    } else {
        if (!w->stages || w->stages_rate) return;
        uint64_t t = now > w->t0 ? now - w->t0 : 0;
        uint64_t total = rate_stages_count(w->stages, t);
        uint64_t shards = w->shard_count ? w->shard_count : 1;
        total = units_share(total, shards, w->shard_index); /* this shard's share */
        limit = (uint32_t)units_share(total, (uint64_t)w->nthreads, (uint64_t)w->index);
    }
    uint32_t old = w->active_limit;
    if (old > w->connections) old = (uint32_t)w->connections;
    w->active_limit = limit;
    if (limit > old || w->users) { /* users: one retired after its on_stop starts again (a new user) */
        for (uint64_t i = w->users ? 0 : old; i < limit && i < w->connections; i++)
            if (w->conns[i].state == CONN_IDLE) conn_start(&w->conns[i]);
    }
    if (limit < old && w->users) { /* users stop: on_stop first (admit asks the script) */
        for (uint64_t i = limit; i < old && i < w->connections; i++) {
            conn_t *c = &w->conns[i];
            if (c->state == CONN_OPEN) conn_resume(c); /* in flight: at its response */
            else if (c->state != CONN_IDLE) { script_user_stop(c); conn_retire(c); }
        }
    } else if (limit < old) {
        /* idle ones go now; busy ones after their response (admit) */
        for (uint64_t i = limit; i < old && i < w->connections; i++) {
            conn_t *c = &w->conns[i];
            if (!c->inflight && c->state != CONN_IDLE) conn_retire(c);
        }
    }
}

static int admit(conn_t *c, enum conn_ask ask, uint64_t *intended);

/* ---- live controls (--web): read once a sample, applied on this thread */

void worker_control(worker_t *w, int users_set, uint32_t users, double rate, uint64_t at)
{
    if (users_set) {
        __atomic_store_n(&w->ctl_users, users, __ATOMIC_RELAXED);
        __atomic_store_n(&w->ctl_users_set, 1, __ATOMIC_RELAXED);
    }
    if (rate > 0) {
        __atomic_store(&w->ctl_rate, &rate, __ATOMIC_RELAXED);
        __atomic_store_n(&w->ctl_at, at, __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&w->ctl_seq, 1, __ATOMIC_RELEASE);
}

static void apply_controls(worker_t *w, uint64_t now)
{
    unsigned seq = __atomic_load_n(&w->ctl_seq, __ATOMIC_ACQUIRE);
    if (seq == w->ctl_seen) return;
    w->ctl_seen = seq;
    if (__atomic_load_n(&w->ctl_users_set, __ATOMIC_RELAXED)) {
        w->ctl_limit = __atomic_load_n(&w->ctl_users, __ATOMIC_RELAXED);
        /* the admit hook retires connections above the target after their
         * response; installed only now, so a run nobody steers never calls it */
        w->ctl_users_on = 1;
        w->ctx.admit = admit;
    }
    double rate;
    __atomic_load(&w->ctl_rate, &rate, __ATOMIC_RELAXED);
    if (!(rate > 0) || !w->ctx.paced || rate == w->rate_live) return;
    w->rate_live = rate;
    if (w->sched_waiting) { /* the timeline has not started: it starts at this rate */
        w->rate = rate;
        return;
    }
    uint64_t at = __atomic_load_n(&w->ctl_at, __ATOMIC_RELAXED);
    if (at < now) at = now; /* slots handed out until now keep their instants */
    if (rate_sched_set_rate(&w->sched, rate, at)) return;
    uint64_t next = next_slot(w);
    if (w->nidle && next != UINT64_MAX) { /* a faster rate's next slot may come sooner */
        next += coalesce_ns(w);
        loop_timer_start(w->loop, &w->rate_timer, next > now ? next : now);
    }
}

/* conn's question before each request (conn.h, enum conn_ask): stages
 * retire the connections above the thread's share, --start-at holds every
 * one until the start, -R hands out slots. Installed only when one of them
 * is on, so the plain path never calls it. */
static int admit(conn_t *c, enum conn_ask ask, uint64_t *intended)
{
    worker_t *w = c->ctx->owner;
    if (ask == CONN_ASK_START) {
        if (w->ending || c->index >= w->active_limit) return w->users ? script_user_stop(c) : CONN_RETIRE;
        return w->holding ? CONN_HOLD : CONN_GO;
    }
    if (c->ctx->paced) return gate(c, intended) ? CONN_GO : CONN_HOLD;
    return CONN_GO;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --start-at: the start instant; every idle connection sends now. */
static void on_start(loop_timer_t *t)
{
    worker_t *w = (worker_t *)((char *)t - offsetof(worker_t, start_timer));
    __atomic_store_n(&w->released_unix_us, wall_us(), __ATOMIC_RELAXED);
    w->holding = 0;
    for (uint64_t i = 0; i < w->connections; i++) conn_resume(&w->conns[i]);
}

static void on_second(loop_timer_t *t)
{
    worker_t *w = (worker_t *)((char *)t - offsetof(worker_t, second_timer));
    push_second(w);
    w->second++;
    loop_timer_start(w->loop, t, w->t0 + (uint64_t)(w->second + 1) * 1000000000u);
}

static void pin(int cpu)
{
#ifdef __linux__
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((size_t)cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
    (void)cpu; /* no portable per-thread affinity: run unpinned */
#endif
}

static int done(worker_t *w)
{
    return __atomic_load_n(&w->stop, __ATOMIC_SEQ_CST) || w->ctx.fatal || (w->quota && w->stats.requests >= w->quota);
}

/* Create the thread's own Lua state and decide how requests are made: by
 * hooks, or from the script's one static request (the fast path). */
static int load_script(worker_t *w, conn_ctx_t *x)
{
    w->script = script_load_thread(w->cfg->script, w->cfg, w->thread);
    if (!w->script || script_thread_error(w->thread)) return SCRIPT_EFAIL;
    x->addr = script_thread_addr(w->thread);
    int capture = 0;
    x->hooks = script_hooks(w->script, &capture);
    x->capture = (uint8_t)capture;
    if (!x->hooks || !x->hooks->next) {
        /* no request() or delay(): one static request (with response(), Lua
         * still sees every response) */
        uint32_t pipeline;
        int rc = script_static_request(w->script, &w->own_req, &x->req_len, &pipeline, &x->req_heads);
        if (rc) return rc;
        x->req = w->own_req;
        x->pipeline = pipeline;
    }
    return 0;
}

/* The end of the run with virtual users: each one runs its on_stop (and
 * its requests) and retires; after USER_STOP_GRACE_NS the rest are cut
 * off. Below run.c's STOP_GRACE_MS, after which a script still running is
 * interrupted as an error. */
#define USER_STOP_GRACE_NS UINT64_C(500000000)

static void stop_users(worker_t *w)
{
    conn_ctx_t *x = &w->ctx;
    uint64_t until = loop_now() + USER_STOP_GRACE_NS;
    w->ending = 1;
    for (uint64_t i = 0; i < w->connections; i++) {
        conn_t *c = &w->conns[i];
        if (c->state == CONN_OPEN) conn_resume(c); /* in flight: at its response */
        else if (c->state != CONN_IDLE) { script_user_stop(c); conn_retire(c); }
    }
    for (;;) {
        uint64_t now = loop_now(), open = 0;
        for (uint64_t i = 0; i < w->connections; i++) open += w->conns[i].state != CONN_IDLE;
        if (!open || now >= until || x->fatal) break;
        uint64_t next = conn_expire(x, now);
        int rc = loop_run_once(w->loop, next < until ? next : until);
        if (rc < 0) break;
    }
}

static void *run(void *arg)
{
    static const uint8_t head_bit = 1; /* -m HEAD: the one request is HEAD */
    worker_t *w = arg;
    pin(w->cpu);
    int err = 0;
    loop_t *loop = loop_create(256);
    __atomic_store_n(&w->loop, loop, __ATOMIC_SEQ_CST); /* pairs with worker_stop */
    w->conns = calloc(w->connections, sizeof *w->conns);
    char *rbuf = malloc(RBUF_SIZE);
    if (!loop || !w->conns || !rbuf || stats_init(&w->stats)) { err = -ENOMEM; goto out; }

    conn_ctx_t *x = &w->ctx;
    *x = (conn_ctx_t){
        .loop = w->loop, .stats = &w->stats, .addr = w->addr,
        .req = w->req, .req_len = w->req_len, .req_heads = w->req_is_head ? &head_bit : NULL,
        .timeout_ns = w->timeout_ns, .rbuf = rbuf, .rbuf_size = RBUF_SIZE,
        .quota = w->quota, .pipeline = 1, .tls = w->tls, .close_each = (uint8_t)w->close_each,
        .expect = w->cfg ? &w->cfg->expect : NULL,
        .connect_timeout_ns = w->cfg->connect_timeout_ns,
        /* -n without -d: nothing else would end a run whose server never accepts */
        .connect_give_up = w->cfg->requests && !w->cfg->duration_set,
    };
    if (w->tls) {
        x->pbuf_size = RBUF_SIZE;
        if (!(x->pbuf = malloc(x->pbuf_size))) { err = -ENOMEM; goto out; }
    }
    x->owner = w;
    w->active_limit = UINT32_MAX;
    if (w->thread && (err = load_script(w, x))) goto out;
    if (stats_init(&w->prev)) { err = -ENOMEM; goto out; }
    w->prev.keep_named = w->cfg->csv_prefix != NULL; /* per-name seconds for the CSV history */
    if (w->rate > 0 || (w->stages && w->stages_rate)) {
        if (!(w->idle = calloc(w->connections, sizeof *w->idle))) { err = -ENOMEM; goto out; }
        x->paced = 1;
        loop_timer_init(&w->rate_timer, on_rate_timer);
        if (w->stages_rate) { /* ramps start from 0: nothing piles up while connecting */
            rate_sched_init_stages(&w->sched, w->stages,
                                   1.0 / w->nthreads / (w->shard_count ? w->shard_count : 1), w->t0);
        } else {
            w->sched_waiting = 1;
            loop_timer_start(w->loop, &w->rate_timer, sched_origin(w) + RATE_OPEN_WAIT_NS);
        }
#ifdef PR_SET_TIMERSLACK
        prctl(PR_SET_TIMERSLACK, 1000UL); /* wake within 1 us of a slot, not 50 us */
#endif
    }
    if (w->stages && !w->stages_rate) w->active_limit = 0; /* ramps up from 0 */
    w->holding = w->hold_until != 0;
    w->users = w->script ? script_user_mode(w->script) : 0;
    if (x->paced || w->stages || w->holding || w->users) x->admit = admit;
    if (w->hold_until) {
        loop_timer_init(&w->start_timer, on_start);
        loop_timer_start(w->loop, &w->start_timer, w->hold_until);
    } else {
        __atomic_store_n(&w->released_unix_us, wall_us(), __ATOMIC_RELAXED);
    }
    loop_timer_init(&w->second_timer, on_second);
    loop_timer_start(w->loop, &w->second_timer, w->t0 + 1000000000u);
    w->start_ns = loop_now();
    w->sample_last_ns = w->start_ns;
    w->wall_last_ns = w->start_ns;
    w->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    w->wait_last_ns = read_wait(w);
    struct timespec cpu;
    if (!clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu))
        w->cpu_last_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
    loop_timer_init(&w->sample_timer, on_sample);
    loop_timer_start(w->loop, &w->sample_timer, w->start_ns + SAMPLE_NS);
    for (uint64_t i = 0; i < w->connections; i++) {
        conn_init(&w->conns[i], x);
        w->conns[i].index = (uint32_t)i;
    }
    if (w->script && x->hooks && (err = script_attach(w->script, w->conns, w->connections, loop, &w->stats)))
        goto out;
    if (w->users) { /* the run-wide ids of this thread's users: the shards', then the threads' before it */
        uint64_t first = w->cfg->users_offset;
        for (int i = 0; i < w->index; i++) first += units_share(w->cfg->connections, (uint64_t)w->nthreads, (uint64_t)i);
        if ((err = script_users_init(w->script, first, w->cfg->users_total))) goto out;
    }
    apply_stages(w, loop_now());
    for (uint64_t i = 0; i < w->connections; i++) conn_start(&w->conns[i]);
    uint64_t next_deadline = conn_expire(x, loop_now()); /* the connects just started */
    while (!done(w)) {
        int rc = loop_run_once(w->loop, next_deadline);
        if (rc < 0) { err = rc; break; }
        next_deadline = conn_expire(x, rc > 0 ? loop_time(w->loop) : loop_now());
    }
    if (!err) err = x->fatal;
    w->end_ns = loop_now(); /* the run's duration ends here; the on_stop grace is not part of it */
    if (!err && w->users == 2 && !(w->quota && w->stats.requests >= w->quota)) stop_users(w);
    if (!err) err = x->fatal;
    conn_ctx_stop(x);
    push_second(w); /* the last, partial second */
    for (uint64_t i = 0; i < w->connections; i++) conn_close(&w->conns[i]);
out:
    if (w->conns)
        for (uint64_t i = 0; i < w->connections; i++) conn_free(&w->conns[i]);
    w->error = err;
    free(rbuf);
    free(w->ctx.pbuf);
    w->ctx.pbuf = NULL;
    free(w->idle);
    w->idle = NULL;
    rate_sched_free(&w->sched);
    stats_free(&w->prev);
    if (w->schedstat_fd >= 0) close(w->schedstat_fd);
    w->schedstat_fd = -1;
    __atomic_store_n(&w->stop_ns, loop_now(), __ATOMIC_RELEASE); /* "finished" */
    char one = 1;
    ssize_t r = write(w->notify_fd, &one, 1);
    (void)r;
    return NULL;
}

int worker_start(worker_t *w)
{
    w->schedstat_fd = -1; /* the thread opens it */
    int rc = pthread_create(&w->tid, NULL, run, w);
    if (rc) return -rc;
    w->started = 1;
    return 0;
}

void worker_stop(worker_t *w)
{
    __atomic_store_n(&w->stop, 1, __ATOMIC_SEQ_CST);
    loop_t *l = __atomic_load_n(&w->loop, __ATOMIC_SEQ_CST);
    if (l) loop_wake(l); /* else the thread will see `stop` before it waits */
}

void worker_join(worker_t *w)
{
    if (w->started) pthread_join(w->tid, NULL);
    w->started = 0;
}

void worker_free(worker_t *w)
{
    stats_second_t *sec;
    while ((sec = worker_pop_second(w))) free(sec);
    stats_live_free(w->live_snap);
    w->live_snap = NULL;
    free(w->own_req);
    w->own_req = NULL;
    free(w->conns);
    w->conns = NULL;
    if (w->loop) loop_destroy(w->loop);
    w->loop = NULL;
    stats_free(&w->stats);
}
