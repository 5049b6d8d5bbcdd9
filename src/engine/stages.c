/* stages.c - the per-stage summary (see stages.h). */
#include "stages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int grow(stages_t *g, size_t n)
{
    if (n <= g->n) return 0;
    stage_sum_t *s = realloc(g->s, n * sizeof *s);
    if (!s) return -ENOMEM;
    g->s = s;
    for (size_t i = g->n; i < n; i++) {
        memset(&s[i], 0, sizeof s[i]);
        if (hist_init(&s[i].latency)) { g->n = i; return -ENOMEM; }
    }
    g->n = n;
    return 0;
}

int stages_init(stages_t *g, const rate_stages_t *st, int rate)
{
    memset(g, 0, sizeof *g);
    g->rate = rate;
    if (grow(g, st->n)) { stages_free(g); return -ENOMEM; }
    uint64_t at = 0;
    for (size_t i = 0; i < st->n; i++) {
        g->s[i].start_s = (double)at / 1e9;
        at += st->dur_ns[i];
        g->s[i].end_s = (double)at / 1e9;
        g->s[i].target = st->target[i];
    }
    return 0;
}

void stages_fold(stages_t *g, size_t k, const hist_t *second)
{
    if (k < g->n && second->total) hist_merge(&g->s[k].latency, second);
}

void stages_count(stages_t *g, const stats_series_t *ser, double elapsed_s)
{
    for (size_t k = 0; k < g->n; k++) {
        stage_sum_t *s = &g->s[k];
        s->duration_s = s->users_mean = 0;
        s->seconds = 0;
        s->requests = s->ok = s->failed = s->users = 0;
        memset(&s->errors, 0, sizeof s->errors);
    }
    for (uint32_t i = 0; ser && i < ser->n; i++) {
        const stats_point_t *p = &ser->pts[i];
        if (p->stage >= g->n) continue;
        stage_sum_t *s = &g->s[p->stage];
        uint64_t socket = stats_error_total(&p->errors), bad = p->failed > socket ? p->failed - socket : 0;
        s->requests += p->requests;
        s->ok += p->requests > bad ? p->requests - bad : 0;
        s->failed += p->failed;
        stats_errors_add(&s->errors, &p->errors);
        s->users = p->active;
        s->users_mean += p->active;
        s->seconds++;
        /* the run's last second may be partial; a point past the end covers nothing */
        double cover = elapsed_s - (double)i;
        s->duration_s += cover > 1 ? 1 : cover > 0 ? cover : 0;
    }
    for (size_t k = 0; k < g->n; k++)
        if (g->s[k].seconds) g->s[k].users_mean /= g->s[k].seconds;
}

int stages_merge(stages_t *dst, const stages_t *src)
{
    size_t had = dst->n;
    if (grow(dst, src->n)) return -ENOMEM;
    if (src->rate) dst->rate = 1;
    for (size_t k = 0; k < src->n; k++) {
        stage_sum_t *d = &dst->s[k];
        const stage_sum_t *s = &src->s[k];
        if (k >= had) { d->start_s = s->start_s; d->end_s = s->end_s; d->target = s->target; }
        if (s->duration_s > d->duration_s) d->duration_s = s->duration_s;
        if (s->seconds > d->seconds) d->seconds = s->seconds;
        d->requests += s->requests;
        d->ok += s->ok;
        d->failed += s->failed;
        stats_errors_add(&d->errors, &s->errors);
        d->users += s->users;
        d->users_mean += s->users_mean;
        hist_merge(&d->latency, &s->latency);
    }
    return 0;
}

void stages_free(stages_t *g)
{
    for (size_t i = 0; i < g->n; i++) hist_free(&g->s[i].latency);
    free(g->s);
    memset(g, 0, sizeof *g);
}
