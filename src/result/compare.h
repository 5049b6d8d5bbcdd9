/* compare.h - `barrage compare`: a program over JSON results
 * (src/result/result.schema.json) rather than over a network. Like serve.h,
 * it is a program of its own: it prints its output and its one-line errors,
 * and returns the process exit code. Results are read by result.h, which
 * rebuilds every distribution losslessly, so every number is what a single
 * run over the same samples gives.
 *
 * compare BASE NEW...   one table per NEW: req/s, mean, p50, p90, p99, p99.9,
 *   max, errors (and per name), absolute and relative deltas, and a verdict per
 *   row from a two-sided Mann-Whitney U test (mannwhitney.h, alpha 0.05) on
 *   the per-second samples of the series, first and last seconds skipped;
 *   `--fail-if 'p(99)>+5%'` gates.
 */
#ifndef BARRAGE_COMPARE_H
#define BARRAGE_COMPARE_H

#include <stddef.h>

/* Exit code of compare when a --fail-if gate fails (the same as thresholds'). */
#define COMPARE_EXIT_GATE 99

/* `barrage compare [--fail-if EXPR]... [--no-color] BASE.json NEW.json...`;
 * argv[0] is "compare". Prints the tables on stdout and returns 0, 99 when a
 * gate failed, 2 on a usage error, a bad gate or an unreadable/invalid file. */
int compare_main(int argc, char **argv);

/* A --fail-if gate: `[NAME:]METRIC OP SIGNED%`. */
typedef struct compare_gate {
    char *expr;        /* as given, trimmed (owned) */
    char *name;        /* request name before ':' or NULL for the whole run (owned) */
    int metric;        /* COMPARE_M_* */
    double p;          /* percentile for COMPARE_M_PCT */
    int op;            /* COMPARE_OP_* */
    double pct;        /* the relative change, in percent (signed) */
} compare_gate_t;

enum { COMPARE_M_RPS, COMPARE_M_PCT, COMPARE_M_MEAN, COMPARE_M_MAX, COMPARE_M_ERRORS };
enum { COMPARE_OP_LT, COMPARE_OP_LE, COMPARE_OP_GT, COMPARE_OP_GE };

/* Parse a gate expression into g (which then owns its strings). 0, or -1
 * with err naming the expression and the offending token. */
int compare_gate_parse(const char *expr, compare_gate_t *g, char *err, size_t errlen);
/* Free a gate's strings. NULL-safe. */
void compare_gate_free(compare_gate_t *g);
/* 1 if a change of delta_pct percent trips the gate (delta_pct OP pct). */
int compare_gate_trips(const compare_gate_t *g, double delta_pct);

#endif
