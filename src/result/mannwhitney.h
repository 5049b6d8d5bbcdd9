/* mannwhitney.h - the two-sided Mann-Whitney U test, as `barrage compare`
 * uses it to tell a change from run-to-run noise. Pure functions: no state,
 * no printing; the only allocation is a scratch array freed before return.
 *
 * Normal approximation with tie-corrected variance and continuity
 * correction (scipy.stats.mannwhitneyu(x, y, method="asymptotic")). */
#ifndef BARRAGE_MANNWHITNEY_H
#define BARRAGE_MANNWHITNEY_H

#include <stddef.h>

/* Two-sided Mann-Whitney U test of samples x[0..nx) against y[0..ny) (normal
 * approximation, tie-corrected variance, continuity correction). Returns the
 * p-value (1 when it cannot be computed: an empty side or every value tied)
 * and sets *direction to +1 when y tends to be larger than x, -1 when
 * smaller, 0 when neither. Allocates; returns -1 on allocation failure. */
double mannwhitney_p(const double *x, size_t nx, const double *y, size_t ny, int *direction);

/* The smallest p-value samples of these sizes can give (complete separation,
 * no ties); 1 when a side is empty. When it is not below alpha, the test
 * cannot say anything about samples of these sizes. */
double mannwhitney_min_p(size_t nx, size_t ny);

#endif
