/* Pieces shared by the sparse linear solvers (linear.c, logreg_newton.c) and their readers. */
#ifndef PATHOS_TEXT_LINEAR_INTERNAL_H
#define PATHOS_TEXT_LINEAR_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include "pathos/text.h"

/* log(1 + exp(-m)), stable for any m. */
static inline double lr_log1pexp_neg(double m)
{
    return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
}

/* Truncated Newton for the one-vs-rest labels lab[0..na) of Y (n x L, 0/1; every listed
 * label has both classes) on X, whose columns are compact (all used) and numbered by
 * falling document frequency.  Writes W (L x ncols, label-major) and B (L) for the listed
 * labels only.  Returns -1 when out of memory. */
int lr_newton_fit(const pth_csr *X, const unsigned char *Y, size_t L, const size_t *lab, size_t na,
                  const pth_logreg_options *o, int threads, double *W, double *B);

/* pth_linear_load for a model whose shape the caller knows (d features, n_out outputs; 0 =
 * any): a different shape fails before the coefficients are allocated. */
int pth_linear_load_shape(pth_linear *m, pth_blob_reader *r, size_t d, size_t n_out, pth_error *err);

#endif
