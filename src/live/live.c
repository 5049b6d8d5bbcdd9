/* live.c - the run's live outputs, fanned out from one hook (see live.h). */
#define _GNU_SOURCE
#include "live.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "metrics.h"
#include "stream.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct live {
    const config_t *cfg;
    httpd_t *metrics;        /* --metrics */
    char metrics_url[128];
    uint64_t rendered_ms;    /* when the metrics were last rendered */
    uint32_t rendered_sec;   /* ... and how many seconds were complete then */
    FILE *stream;            /* --stream (stdout for "-") */
    int stream_err;          /* the first errno writing it, or 0 */
    uint32_t streamed;       /* seconds 0..streamed-1 are written */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int live_new(live_t **out, const config_t *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->metrics_listen && !cfg->stream_path && !cfg->metrics_push) return 0;
    live_t *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "out of memory"); return -1; }
    l->cfg = cfg;
    if (cfg->metrics_listen) {
        if (httpd_new(&l->metrics, cfg->metrics_listen, "--metrics", err, errlen)) { live_free(l); return -1; }
        static const char wait[] = "# barrage: the first update comes within a second\n";
        if (httpd_publish(l->metrics, "/metrics", METRICS_TYPE, wait, sizeof wait - 1)) {
            snprintf(err, errlen, "out of memory");
            live_free(l);
            return -1;
        }
        snprintf(l->metrics_url, sizeof l->metrics_url, "%s/metrics", httpd_url(l->metrics));
    }
    if (cfg->stream_path) {
        l->stream = strcmp(cfg->stream_path, "-") ? fopen(cfg->stream_path, "w") : stdout;
        if (!l->stream) {
            snprintf(err, errlen, "--stream: cannot open '%s' for writing: %s (check the path)", cfg->stream_path,
                     strerror(errno));
            live_free(l);
            return -1;
        }
    }
    *out = l;
    return 0;
}

int live_start(live_t *l)
{
    return l && l->metrics ? httpd_start(l->metrics) : 0;
}

static void render(live_t *l, const live_state_t *st)
{
    char *body;
    size_t len;
    if (metrics_render(st, &body, &len)) return; /* out of memory: the last body stays */
    httpd_publish(l->metrics, "/metrics", METRICS_TYPE, body, len);
    free(body);
}

static void stream_seconds(live_t *l, const live_state_t *st)
{
    const stats_series_t *ser = st->series;
    uint32_t upto = st->final ? ser->n : st->finished < ser->n ? st->finished : ser->n;
    if (!l->stream || l->stream_err || l->streamed >= upto) return;
    for (; l->streamed < upto; l->streamed++)
        if (stream_write(l->stream, l->cfg->stream_influx, &ser->pts[l->streamed], l->streamed,
                         st->start_unix_ms + (int64_t)l->streamed * 1000, l->cfg->stages.n > 0)) break;
    if ((fflush(l->stream) || ferror(l->stream)) && !l->stream_err) l->stream_err = errno ? errno : EIO;
}

void live_tick(live_t *l, const live_state_t *st)
{
    if (!l) return;
    if (l->metrics) {
        uint64_t now = now_ms();
        if (st->finished > l->rendered_sec || now >= l->rendered_ms + 1000) {
            render(l, st);
            l->rendered_ms = now;
            l->rendered_sec = st->finished;
        }
    }
    if (st->series) stream_seconds(l, st);
}

int live_final(live_t *l, const live_state_t *st, char *err, size_t errlen, char *warn, size_t warnlen)
{
    int rc = 0;
    warn[0] = 0;
    if (!l) return 0;
    if (st->series) stream_seconds(l, st);
    if (l->stream_err) {
        snprintf(err, errlen, "--stream: cannot write '%s': %s", l->cfg->stream_path, strerror(l->stream_err));
        rc = -1;
    }
    if (!l->metrics && !l->cfg->metrics_push) return rc;
    char *body;
    size_t len;
    if (metrics_render(st, &body, &len)) {
        snprintf(warn, warnlen, "--metrics: out of memory: the final state is not served or pushed");
        return rc;
    }
    if (l->metrics) httpd_publish(l->metrics, "/metrics", METRICS_TYPE, body, len);
    char perr[512];
    if (l->cfg->metrics_push && metrics_push(l->cfg, body, len, perr, sizeof perr))
        snprintf(warn, warnlen, "--metrics-push: %s; the results are not affected", perr);
    free(body);
    return rc;
}

const char *live_metrics_url(const live_t *l) { return l && l->metrics ? l->metrics_url : NULL; }
int live_metrics_exposed(const live_t *l) { return l && l->metrics && !httpd_loopback(l->metrics); }

void live_free(live_t *l)
{
    if (!l) return;
    httpd_free(l->metrics);
    if (l->stream && l->stream != stdout) fclose(l->stream);
    free(l);
}
