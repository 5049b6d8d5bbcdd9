/* monitor.c - per-second series and live progress (see monitor.h). */
#include "monitor.h"

#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "report.h"

#define WINDOW 16 /* seconds being merged at once (threads drift a little) */

struct monitor {
    const config_t *cfg;
    worker_t *ws;
    size_t n;
    uint64_t t0;
    FILE *progress;
    uint64_t last_print;
    stats_series_t series;
    stats_t totals;
    struct { int used; uint32_t second; uint32_t reports; hist_t h; } open[WINDOW];
    uint32_t finished;        /* seconds 0..finished-1 are complete */
};

monitor_t *monitor_new(const config_t *cfg, worker_t *ws, size_t n, uint64_t t0, FILE *progress)
{
    monitor_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = cfg;
    m->ws = ws;
    m->n = n;
    m->t0 = t0;
    m->progress = progress;
    if (stats_init(&m->totals)) { free(m); return NULL; }
    for (int i = 0; i < WINDOW; i++)
        if (hist_init(&m->open[i].h)) { monitor_free(m); return NULL; }
    return m;
}

static void finish_second(monitor_t *m, int slot)
{
    uint32_t sec = m->open[slot].second;
    stats_series_finish(&m->series, sec, &m->open[slot].h);
    if (m->cfg->stages.n && sec < m->series.n)
        m->series.pts[sec].stage = (uint32_t)rate_stages_index(&m->cfg->stages, (uint64_t)sec * 1000000000u);
    hist_reset(&m->open[slot].h);
    m->open[slot].used = 0;
    if (sec + 1 > m->finished) m->finished = sec + 1;
}

static void take(monitor_t *m, stats_second_t *sec)
{
    int slot = -1;
    for (int i = 0; i < WINDOW; i++)
        if (m->open[i].used && m->open[i].second == sec->second) slot = i;
    if (slot < 0) {
        for (int i = 0; i < WINDOW && slot < 0; i++) if (!m->open[i].used) slot = i;
        if (slot < 0) { /* a thread lags far behind: close the oldest second */
            slot = 0;
            for (int i = 1; i < WINDOW; i++) if (m->open[i].second < m->open[slot].second) slot = i;
            finish_second(m, slot);
        }
        m->open[slot].used = 1;
        m->open[slot].second = sec->second;
        m->open[slot].reports = 0;
    }
    stats_series_add(&m->series, sec, &m->open[slot].h);
    /* running totals */
    m->totals.requests += sec->requests;
    m->totals.errors.connect += sec->errors.connect;
    m->totals.errors.read += sec->errors.read;
    m->totals.errors.write += sec->errors.write;
    m->totals.errors.timeout += sec->errors.timeout;
    m->totals.errors.status += sec->errors.status;
    m->totals.errors.parse += sec->errors.parse;
    m->totals.failed_status += sec->failed_status;
    for (uint32_t i = 0; i < sec->ncodes; i++)
        if (sec->codes[i].code < STATS_STATUS_MAX) m->totals.status[sec->codes[i].code] += sec->codes[i].count;
    for (uint32_t i = 0; i < sec->nbuckets; i++)
        hist_record_n(&m->totals.latency, hist_highest(sec->bucket[i].index), sec->bucket[i].count);
    for (uint32_t i = 0; i < sec->nnamed; i++) { /* counters only: per-name latency is the merge's */
        int k = stats_named_index(&m->totals, sec->named[i].name);
        if (k < 0) continue;
        m->totals.named[k].requests += sec->named[i].requests;
        m->totals.named[k].failures += sec->named[i].failures;
    }
    if (++m->open[slot].reports >= m->n) finish_second(m, slot);
}

static void drain(monitor_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        stats_second_t *sec;
        while ((sec = worker_pop_second(&m->ws[i]))) {
            take(m, sec);
            free(sec);
        }
    }
}

void monitor_poll(monitor_t *m, uint64_t now)
{
    drain(m);
    if (!m->progress || now < m->t0 || now < m->last_print + 1000000000u) return;
    m->last_print = now;
    const stats_point_t *last = m->finished ? &m->series.pts[m->finished - 1] : NULL;
    report_progress(m->progress, m->cfg, now - m->t0, last, &m->totals);
}

void monitor_finish(monitor_t *m)
{
    drain(m);
    for (int i = 0; i < WINDOW; i++) if (m->open[i].used) finish_second(m, i);
    if (m->progress) report_progress_clear(m->progress);
}

const stats_series_t *monitor_series(const monitor_t *m) { return &m->series; }
const stats_t *monitor_totals(const monitor_t *m) { return &m->totals; }
uint32_t monitor_finished(const monitor_t *m) { return m->finished; }

void monitor_free(monitor_t *m)
{
    if (!m) return;
    stats_free(&m->totals);
    for (int i = 0; i < WINDOW; i++) hist_free(&m->open[i].h);
    stats_series_free(&m->series);
    free(m);
}
