/* serve_args.h - `barrage serve`'s options: the configuration they fill and
 * their parser (the usage text is in serve_args.c). Internal to src/serve/.
 */
#ifndef BARRAGE_SERVE_ARGS_H
#define BARRAGE_SERVE_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "serve_capacity.h"

typedef enum serve_fault {
    SERVE_FAULT_NONE = 0,
    SERVE_FAULT_RESET,
    SERVE_FAULT_DROP,
    SERVE_FAULT_HANG,
    SERVE_FAULT_MALFORMED,
    SERVE_FAULT_BADCHUNK,
    SERVE_FAULT_BIGHEADER,
    SERVE_FAULT_SHORTBODY,
    SERVE_FAULT_LONGBODY,
    SERVE_FAULT_CONTINUE,
    SERVE_FAULT_EXTRA,
    SERVE_FAULT_STATUS500,
    SERVE_FAULT_NOTMODIFIED,
    SERVE_FAULT_CHUNKEXT,
    SERVE_FAULT_COUNT
} serve_fault_t;

typedef struct serve_config {
    const char *listen;               /* --listen as given (argv-owned) */
    struct sockaddr_storage addr;     /* its resolution */
    socklen_t addr_len;
    int threads;
    int body_given;                   /* --body-size seen: pattern body, else "OK" */
    size_t body_size;
    int chunked;
    int status;
    uint64_t delay_ns;
    uint64_t stall_ns, stall_period_ns;
    uint64_t trickle_ns;
    uint64_t close_after;             /* 0 = never */
    serve_fault_t fault;
    uint64_t fault_every;             /* fault on every Nth request (N >= 1) */
    int fault_window;                 /* --fault-window given: faults only inside it */
    uint64_t fault_from_ns, fault_to_ns; /* ... [from, to) after the first request */
    uint64_t start_ns;                /* server start: origin of --stall periods */
    serve_capacity_cfg_t capacity;    /* --capacity (rps == 0: none) */
} serve_config_t;

/* Fill cfg from argv (argv[0] is "serve"). 0 to run, -1 when --help was
 * printed to stdout, 2 after one usage error line on stderr. */
int serve_args_parse(int argc, char **argv, serve_config_t *cfg);

#endif
