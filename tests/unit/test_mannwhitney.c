/* Unit tests for mannwhitney.c: p-values against values computed with the
 * exact formulas (python3: math.erfc of the continuity-corrected z with the
 * tie-corrected variance) and with scipy.stats.mannwhitneyu(x, y,
 * method="asymptotic"). */
#include "test.h"
#include "mannwhitney.h"

#include <math.h>

TEST(mannwhitney_reference_values)
{
    /* p-values of scipy.stats.mannwhitneyu(x, y, method="asymptotic") (continuity-corrected) */
    static const double x1[] = { 1, 2, 3, 4 }, y1[] = { 5, 6, 7, 8 };
    int dir = 0;
    double p = mannwhitney_p(x1, 4, y1, 4, &dir);
    ASSERT(fabs(p - 0.030382821976577) < 1e-9);
    ASSERT_EQ_INT(dir, 1);                       /* y is larger */
    p = mannwhitney_p(y1, 4, x1, 4, &dir);
    ASSERT(fabs(p - 0.030382821976577) < 1e-9);
    ASSERT_EQ_INT(dir, -1);
    static const double x2[] = { 1, 2, 2, 3 }, y2[] = { 2, 3, 3, 4 };   /* ties */
    p = mannwhitney_p(x2, 4, y2, 4, &dir);
    ASSERT(fabs(p - 0.172033708921823) < 1e-9);
    static const double x3[] = { 3, 1, 4, 1, 5, 9, 2, 6 }, y3[] = { 5, 3, 5, 8, 9, 7, 9, 3, 2, 3 };
    p = mannwhitney_p(x3, 8, y3, 10, &dir);
    ASSERT(fabs(p - 0.261736376424185) < 1e-9);
    /* the same samples: no difference at all */
    p = mannwhitney_p(x3, 8, x3, 8, &dir);
    ASSERT(p == 1.0);
    ASSERT_EQ_INT(dir, 0);
    /* every value tied, or an empty side: nothing to say */
    static const double same[] = { 7, 7, 7 };
    ASSERT(mannwhitney_p(same, 3, same, 2, &dir) == 1.0);
    ASSERT(mannwhitney_p(same, 0, same, 3, &dir) == 1.0);
}

TEST(mannwhitney_by_hand)
{
    int dir = 0;
    /* complete separation, 3 and 3: U = 0, mean 4.5, variance 3*3*7/12 = 5.25,
     * z = (4.5 - 0.5) / sqrt(5.25) = 1.7457, p = erfc(z / sqrt 2) */
    static const double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
    ASSERT_NEAR(mannwhitney_p(a, 3, b, 3, &dir), 0.0808555983700523, 1e-12);
    ASSERT_EQ_INT(dir, 1);
    /* interleaved, no ties: U(x) = 0+1+2+3+3 = 9 pairs with x above y, mean
     * 7.5, variance 5*3*9/12 = 11.25, z = (1.5 - 0.5) / 3.354 */
    static const double c[] = { 10, 20, 30, 40, 50 }, d[] = { 15, 25, 35 };
    ASSERT_NEAR(mannwhitney_p(c, 5, d, 3, &dir), 0.765594483995764, 1e-12);
    ASSERT_EQ_INT(dir, -1);                      /* x tends to be larger */
    /* ties across the sides (2, 3, 5, 8) and within one (1, 1): U(x) = 8 */
    static const double e[] = { 1, 1, 2, 3, 5, 8 }, g[] = { 2, 3, 5, 8, 13, 21, 34 };
    ASSERT_NEAR(mannwhitney_p(e, 6, g, 7, &dir), 0.07216011300239515, 1e-12);
    ASSERT_EQ_INT(dir, 1);
    /* order within a side does not matter */
    static const double e2[] = { 8, 1, 5, 2, 1, 3 };
    ASSERT_NEAR(mannwhitney_p(e2, 6, g, 7, &dir), 0.07216011300239515, 1e-12);
}

TEST(mannwhitney_min_p_is_complete_separation)
{
    /* the p-value of two fully separated samples of those sizes */
    ASSERT_NEAR(mannwhitney_min_p(3, 3), 0.0808555983700523, 1e-12);
    ASSERT_NEAR(mannwhitney_min_p(4, 4), 0.03038282197657751, 1e-12);
    ASSERT_NEAR(mannwhitney_min_p(5, 4), 0.019964453305216057, 1e-12);
    static const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9 };
    int dir;
    ASSERT_NEAR(mannwhitney_p(a, 5, b, 4, &dir), mannwhitney_min_p(5, 4), 1e-15);
    ASSERT(mannwhitney_min_p(0, 4) == 1.0);
    ASSERT(mannwhitney_min_p(4, 0) == 1.0);
}
