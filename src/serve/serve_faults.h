/* serve_faults.h - `barrage serve --fault KIND[:N]`: which requests get a
 * fault, and what each fault queues instead of (or around) the normal answer.
 * Internal to src/serve/.
 */
#ifndef BARRAGE_SERVE_FAULTS_H
#define BARRAGE_SERVE_FAULTS_H

#include "serve_conn.h"

/* The fault for the next request (server-wide count, every Nth request,
 * and with --fault-window only inside the window after the server's first
 * request), SERVE_FAULT_NONE otherwise; counts the faults in w->faults. */
serve_fault_t serve_fault_pick(serve_worker_t *w);

/* Queue what fault (not SERVE_FAULT_NONE) answers the request just parsed on
 * c (head, te, ch, due as for serve_http_answer): HPE_PAUSED when c takes no
 * more input (hang, drop, reset, shortbody), else 0. */
int serve_fault_inject(serve_conn_t *c, const llhttp_t *p, serve_fault_t fault, int head,
                       int te, int ch, uint64_t due);

#endif
