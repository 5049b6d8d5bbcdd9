/* web.h - --web: the live dashboard. A page (web_page.html, embedded at
 * build time) served by httpd at "/", fed once a second over server-sent
 * events ("/events", event "tick") with a JSON snapshot of the run: totals,
 * the last complete second, latency so far, targets, thresholds evaluated
 * so far, control events, and the HTML report's own time charts rendered as
 * SVG (report_chart: one chart code for the report and the page). Controls
 * are POSTs: /stop (ends the run as SIGINT does), /users?n=N, /rate?r=R
 * (control.h). When the run is over, "/" serves the final HTML report and
 * it is sent as the last event ("done") to every open page.
 *
 * Threads: web_new, web_start, web_tick, web_done and web_free run on the
 * main thread; the handlers run on httpd's and only read what is copied
 * under the web's mutex. Nothing prints. */
#ifndef BARRAGE_WEB_H
#define BARRAGE_WEB_H

#include "config.h"
#include "control.h"
#include "report.h"

typedef struct web web_t;

/* Bind cfg->web (before the run starts). 0, or -1 with one line in err. */
int web_new(web_t **out, const config_t *cfg, char *err, size_t errlen);
/* The dashboard's URL, "http://127.0.0.1:PORT/". */
const char *web_url(const web_t *w);
/* 1 if it listens on a loopback address only. */
int web_loopback(const web_t *w);
/* Serve: controls go to ctl, Stop calls stop() once (on httpd's thread;
 * it must be safe there). 0 or a negative errno. */
int web_start(web_t *w, control_t *ctl, void (*stop)(void));
/* The run so far (run->verdicts unused: thresholds are evaluated here on
 * run->total) with `seconds` complete seconds in run->series: render and
 * send one snapshot. Call about once a second. */
void web_tick(web_t *w, const report_run_t *run, uint32_t seconds);
/* The finished run: "/" serves its HTML report from now on, and the page is
 * sent as the "done" event. */
void web_done(web_t *w, const report_run_t *run);
/* Wait up to timeout_ms for every open page to have received what was
 * sent (the "done" event before barrage exits). */
void web_flush(web_t *w, int timeout_ms);
/* Stop serving and free (NULL is fine). */
void web_free(web_t *w);

#endif
