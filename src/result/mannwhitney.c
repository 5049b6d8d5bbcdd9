/* mannwhitney.c - the Mann-Whitney U test (mannwhitney.h).
 *
 * Rank-based, so no normality is assumed and a few outliers cannot
 * dominate: compare runs it on per-second values of two runs' series. */
#include "mannwhitney.h"

#include <math.h>
#include <stdlib.h>

typedef struct ranked {
    double v;
    int side;   /* 0: x, 1: y */
} ranked_t;

static int by_value(const void *a, const void *b)
{
    double x = ((const ranked_t *)a)->v, y = ((const ranked_t *)b)->v;
    return (x > y) - (x < y);
}

double mannwhitney_p(const double *x, size_t nx, const double *y, size_t ny, int *direction)
{
    *direction = 0;
    if (!nx || !ny) return 1;
    size_t n = nx + ny;
    ranked_t *r = malloc(n * sizeof *r);
    if (!r) return -1;
    for (size_t i = 0; i < nx; i++) r[i] = (ranked_t){ x[i], 0 };
    for (size_t i = 0; i < ny; i++) r[nx + i] = (ranked_t){ y[i], 1 };
    qsort(r, n, sizeof *r, by_value);
    /* Ranks 1..n, ties sharing their average rank; sum(t^3 - t) over the
     * groups of ties shrinks the variance. */
    double rank_x = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && r[j].v == r[i].v) j++;
        double avg = (double)(i + 1 + j) / 2, t = (double)(j - i);
        ties += t * t * t - t;
        for (size_t k = i; k < j; k++)
            if (!r[k].side) rank_x += avg;
        i = j;
    }
    free(r);
    double n1 = (double)nx, n2 = (double)ny, N = (double)n;
    double u = rank_x - n1 * (n1 + 1) / 2;   /* pairs with x above y (ties count half) */
    double mu = n1 * n2 / 2;
    double var = n1 * n2 / 12 * ((N + 1) - ties / (N * (N - 1)));
    if (!(var > 0)) return 1;                /* every value tied */
    double d = u - mu;
    double z = (fabs(d) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    *direction = d > 0 ? -1 : d < 0 ? 1 : 0;
    return erfc(z / sqrt(2.0));
}

double mannwhitney_min_p(size_t nx, size_t ny)
{
    if (!nx || !ny) return 1;
    double n1 = (double)nx, n2 = (double)ny;
    double sd = sqrt(n1 * n2 * (n1 + n2 + 1) / 12);
    return erfc((n1 * n2 / 2 - 0.5) / sd / sqrt(2.0));
}
