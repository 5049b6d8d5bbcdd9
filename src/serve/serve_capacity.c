/* serve_capacity.c - the known-capacity server model (see serve_capacity.h). */
#include "serve_capacity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

int serve_capacity_parse(const char *s, serve_capacity_cfg_t *cfg, char *err, size_t errlen)
{
    char buf[128];
    memset(cfg, 0, sizeof *cfg);
    if (strlen(s) >= sizeof buf) {
        snprintf(err, errlen, "--capacity: '%.40s...' is too long (use RPS:SERVICE[:QUEUE[:RECOVER]], "
                 "e.g. 2000:10ms:50ms:3s)", s);
        return -1;
    }
    strcpy(buf, s);
    char *field[5] = { 0 };
    int n = 0;
    for (char *p = buf; n < 5;) {
        field[n++] = p;
        char *colon = strchr(p, ':');
        if (!colon) break;
        *colon = 0;
        p = colon + 1;
    }
    char *end = NULL;
    double rps = field[0] && *field[0] ? strtod(field[0], &end) : 0;
    if (n < 2 || n > 4 || !end || *end || !(rps >= 1 && rps <= 1e7)) {
        snprintf(err, errlen, "--capacity: cannot parse '%s' as RPS:SERVICE[:QUEUE[:RECOVER]] with "
                 "RPS from 1 to 1e7 (use e.g. 2000:10ms or 2000:10ms:50ms:3s)", s);
        return -1;
    }
    static const char *const what[] = { "", "SERVICE", "QUEUE", "RECOVER" };
    uint64_t *dst[] = { NULL, &cfg->service_ns, &cfg->queue_ns, &cfg->recover_ns };
    for (int i = 1; i < n; i++) {
        if (units_parse_duration(field[i], dst[i]) < 0) {
            snprintf(err, errlen, "--capacity: cannot parse %s '%s' in '%s' as a duration "
                     "(use e.g. 2000:10ms:50ms:3s)", what[i], field[i], s);
            return -1;
        }
    }
    if (cfg->service_ns == 0) {
        snprintf(err, errlen, "--capacity: SERVICE in '%s' must be longer than 0 (use e.g. 2000:10ms)", s);
        return -1;
    }
    cfg->rps = rps;
    return 0;
}

int serve_capacity_admit(serve_capacity_t *st, const serve_capacity_cfg_t *cfg, uint64_t now,
                         uint64_t *due)
{
    uint64_t gap = (uint64_t)llround(1e9 / cfg->rps);
    uint64_t prev = atomic_load_explicit(&st->last_due, memory_order_relaxed);
    uint64_t d;
    for (;;) {
        d = now + cfg->service_ns;
        if (prev + gap > d) d = prev + gap;
        if (cfg->queue_ns && d - now > cfg->service_ns + cfg->queue_ns) {
            atomic_store_explicit(&st->last_refusal, now, memory_order_relaxed);
            *due = now + cfg->service_ns + cfg->queue_ns;
            return 1;
        }
        if (atomic_compare_exchange_weak_explicit(&st->last_due, &prev, d, memory_order_relaxed,
                                                  memory_order_relaxed))
            break;
    }
    uint64_t refused = atomic_load_explicit(&st->last_refusal, memory_order_relaxed);
    if (cfg->recover_ns && refused && now < refused + cfg->recover_ns) d += 4 * cfg->service_ns;
    *due = d;
    return 0;
}
