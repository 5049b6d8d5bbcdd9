/* control.c - live changes to a running benchmark (see control.h). Calls
 * come from the web server's thread and the main thread reads the events:
 * one mutex, taken a few times a second at most. */
#include "control.h"
#include "loop.h"
#include "units.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS CONTROL_MAX_EVENTS

struct control {
    const config_t *cfg;
    worker_t *ws;
    size_t n;
    pthread_mutex_t mu;
    int64_t users;               /* -1: none set */
    double rate;
    int stopped;
    control_event_t ev[MAX_EVENTS];
    size_t nev;
};

control_t *control_new(const config_t *cfg, worker_t *ws, size_t n)
{
    control_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cfg = cfg;
    c->ws = ws;
    c->n = n;
    c->users = -1;
    c->rate = cfg->rate;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static int record(control_t *c, control_kind_t kind, double value, uint64_t at, char *err, size_t errlen)
{
    if (c->nev == MAX_EVENTS) {
        if (err) snprintf(err, errlen, "already %d control actions in this run: no more are taken", MAX_EVENTS);
        return -1;
    }
    c->ev[c->nev++] = (control_event_t){ .at_ns = at, .kind = kind, .value = value };
    return 0;
}

int control_users(control_t *c, uint64_t users, char *err, size_t errlen)
{
    if (users > c->cfg->connections) {
        snprintf(err, errlen, "at most %llu users (the run's -c%s): start barrage with a larger -c to go higher",
                 (unsigned long long)c->cfg->connections, c->cfg->stages.n ? ", the stages' peak" : "");
        return -1;
    }
    pthread_mutex_lock(&c->mu);
    int rc = c->stopped ? (snprintf(err, errlen, "the run is stopping"), -1)
                        : record(c, CONTROL_USERS, (double)users, loop_now(), err, errlen);
    if (!rc) {
        c->users = (int64_t)users;
        for (size_t i = 0; i < c->n; i++) /* each thread's share, as -c is split */
            worker_control(&c->ws[i], 1, (uint32_t)units_share(users, c->n, i), 0, 0);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int control_rate(control_t *c, double rate, char *err, size_t errlen)
{
    if (!(c->cfg->rate > 0)) {
        snprintf(err, errlen, "this run is not paced: start it with -R to change the rate while it runs");
        return -1;
    }
    if (!(rate > 0) || !isfinite(rate) || rate > 1e9) {
        snprintf(err, errlen, "the rate must be a number of requests/s above 0 (and at most 1e9)");
        return -1;
    }
    pthread_mutex_lock(&c->mu);
    uint64_t at = loop_now() + CONTROL_RATE_LEAD_NS;
    int rc = c->stopped ? (snprintf(err, errlen, "the run is stopping"), -1)
                        : record(c, CONTROL_RATE, rate, at, err, errlen);
    if (!rc) {
        c->rate = rate;
        for (size_t i = 0; i < c->n; i++) worker_control(&c->ws[i], 0, 0, rate / (double)c->n, at);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int control_stop(control_t *c)
{
    pthread_mutex_lock(&c->mu);
    int rc = c->stopped ? -1 : 0;
    if (!rc) record(c, CONTROL_STOP, 0, loop_now(), NULL, 0); /* stops even when the list is full */
    c->stopped = 1;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void control_targets(control_t *c, int64_t *users, double *rate)
{
    pthread_mutex_lock(&c->mu);
    *users = c->users;
    *rate = c->rate;
    pthread_mutex_unlock(&c->mu);
}

size_t control_events(control_t *c, control_event_t *out, size_t max)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->nev;
    memcpy(out, c->ev, (n < max ? n : max) * sizeof *out);
    pthread_mutex_unlock(&c->mu);
    return n;
}

void control_free(control_t *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}
