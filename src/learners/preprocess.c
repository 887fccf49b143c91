#include "learners/preprocess.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learner_impl.h"

void pth_prep_free(pth_prep *p)
{
    free(p->fill);
    free(p->mean);
    free(p->scale);
    memset(p, 0, sizeof *p);
}

static void fit_fill(pth_prep *p, const double *X, size_t n)
{
    for (size_t j = 0; j < p->d; j++) {
        double s = 0;
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            double v = X[i * p->d + j];
            if (!isnan(v)) {
                s += v;
                cnt++;
            }
        }
        p->fill[j] = cnt ? s / (double)cnt : 0.0;
    }
}

/* Two-pass mean and population variance of the imputed column.  A (numerically)
 * constant column gets scale 1, using sklearn's bound on the rounding error of the
 * variance so that near-constant columns are not blown up to huge z-scores. */
static void fit_scale(pth_prep *p, const double *X, size_t n)
{
    for (size_t j = 0; j < p->d; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) {
            double v = X[i * p->d + j];
            s += isnan(v) ? p->fill[j] : v;
        }
        double mean = s / (double)n, ss = 0;
        for (size_t i = 0; i < n; i++) {
            double v = X[i * p->d + j];
            double dv = (isnan(v) ? p->fill[j] : v) - mean;
            ss += dv * dv;
        }
        double var = ss / (double)n, nd = (double)n;
        double bound = nd * DBL_EPSILON * var + (nd * mean * DBL_EPSILON) * (nd * mean * DBL_EPSILON);
        p->mean[j] = mean;
        p->scale[j] = (var <= bound || !(sqrt(var) > 0)) ? 1.0 : sqrt(var);
    }
}

int pth_prep_fit(pth_prep *p, unsigned flags, const double *X, size_t n, size_t d, pth_error *err)
{
    memset(p, 0, sizeof *p);
    if (flags & PTH_PREP_STANDARDISE)
        flags |= PTH_PREP_IMPUTE;
    p->d = d;
    p->flags = flags;
    if (flags & PTH_PREP_IMPUTE) {
        p->fill = malloc(d * sizeof *p->fill);
        if (!p->fill)
            goto nomem;
        fit_fill(p, X, n);
    }
    if (flags & PTH_PREP_STANDARDISE) {
        p->mean = malloc(d * sizeof *p->mean);
        p->scale = malloc(d * sizeof *p->scale);
        if (!p->mean || !p->scale)
            goto nomem;
        fit_scale(p, X, n);
    }
    /* Sums of huge values (|x| ~ 1e300) overflow; refuse rather than produce inf/NaN. */
    for (size_t j = 0; j < d; j++) {
        int bad = (p->fill && !isfinite(p->fill[j])) || (p->mean && !isfinite(p->mean[j])) ||
                  (p->scale && !isfinite(p->scale[j]));
        if (bad) {
            pth_prep_free(p);
            return pth_fail(err, PTH_ERR_INVALID,
                            "column %zu (0-based): values too large to compute its mean / standard deviation", j);
        }
    }
    return PTH_OK;
nomem:
    pth_prep_free(p);
    return pth_fail(err, PTH_ERR_NOMEM, "preprocessing: out of memory for %zu columns", d);
}

void pth_prep_apply(const pth_prep *p, const double *X, size_t n, double *out)
{
    size_t d = p->d;
    if (out != X)
        memcpy(out, X, n * d * sizeof *out);
    if (!(p->flags & PTH_PREP_IMPUTE))
        return;
    for (size_t i = 0; i < n; i++) {
        double *row = out + i * d;
        for (size_t j = 0; j < d; j++) {
            double v = isnan(row[j]) ? p->fill[j] : row[j];
            if (p->flags & PTH_PREP_STANDARDISE) {
                v = (v - p->mean[j]) / p->scale[j];
                v = v > PTH_PREP_CLAMP ? PTH_PREP_CLAMP : v < -PTH_PREP_CLAMP ? -PTH_PREP_CLAMP : v;
            }
            row[j] = v;
        }
    }
}
