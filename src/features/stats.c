/* Summary statistics of one column over the kept rows (see pathos/features.h for the exact
 * definitions: ddof = 0, numpy-style linear percentiles, NaN and +-inf skipped). */
#include <math.h>
#include <stdlib.h>

#include "pathos/features.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pth_percentile_sorted(const double *s, size_t n, double q)
{
    if (n == 0)
        return NAN;
    if (q <= 0)
        return s[0];
    if (q >= 1)
        return s[n - 1];
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return s[n - 1];
    double t = h - (double)lo, a = s[lo], b = s[lo + 1];
    /* numpy's _lerp: interpolate from the nearer end, so results match numpy to the bit in
     * the usual cases and t = 1 gives b exactly. */
    double diff = b - a;
    if (!isfinite(diff)) /* a and b near opposite ends of the double range */
        return a * (1 - t) + b * t;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

static void set_all_nan(pth_column_stats *o)
{
    o->mean = o->std = o->min = o->max = o->median = NAN;
    o->p10 = o->p90 = o->mean_abs_diff = o->frac_active = NAN;
}

/* Values near the double range can overflow a sum or a square; an infinite feature would
 * break learners, so it becomes missing (NaN) like any other unusable value. */
static void infinite_to_nan(pth_column_stats *o)
{
    double *v[] = {&o->mean, &o->std, &o->min, &o->max, &o->median, &o->p10, &o->p90, &o->mean_abs_diff};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        if (isinf(*v[k]))
            *v[k] = NAN;
}

/* Moments and the temporal statistic from the compacted values v[0..m-1] (row order). */
static void moments(const double *v, size_t m, pth_column_stats *o)
{
    double sum = 0, absdiff = 0;
    size_t active = 0;
    for (size_t i = 0; i < m; i++) {
        sum += v[i];
        active += v[i] >= 0.5;
        if (i > 0)
            absdiff += fabs(v[i] - v[i - 1]);
    }
    o->mean = sum / (double)m;
    /* Two-pass variance: landmark columns have means in the hundreds and small spread, where
     * the one-pass formula loses most of its digits. */
    double ss = 0;
    for (size_t i = 0; i < m; i++)
        ss += (v[i] - o->mean) * (v[i] - o->mean);
    o->std = sqrt(ss / (double)m);
    o->mean_abs_diff = m >= 2 ? absdiff / (double)(m - 1) : NAN;
    o->frac_active = (double)active / (double)m;
}

int pth_column_stats_compute(const double *x, const unsigned char *keep, size_t n, pth_column_stats *out,
                             pth_error *err)
{
    set_all_nan(out);
    out->n = 0;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory computing column statistics (%zu rows)", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if ((!keep || keep[i]) && isfinite(x[i])) /* +-inf (e.g. "1e999") counts as missing too */
            v[m++] = x[i];
    out->n = m;
    if (m > 0) {
        moments(v, m, out);
        qsort(v, m, sizeof *v, cmp_double);
        out->min = v[0];
        out->max = v[m - 1];
        out->median = pth_percentile_sorted(v, m, 0.5);
        out->p10 = pth_percentile_sorted(v, m, 0.1);
        out->p90 = pth_percentile_sorted(v, m, 0.9);
        infinite_to_nan(out);
    }
    free(v);
    return PTH_OK;
}
