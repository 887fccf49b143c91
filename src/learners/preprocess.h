/* Column preprocessing owned by a pth_model and fitted on its training rows only:
 * mean imputation of NaN (all-NaN column -> 0) and optional z-scoring with the population
 * standard deviation (sklearn SimpleImputer(strategy="mean") followed by StandardScaler,
 * except that an all-NaN column is kept and filled with 0 instead of being dropped). */
#ifndef PATHOS_LEARNERS_PREPROCESS_H
#define PATHOS_LEARNERS_PREPROCESS_H

#include <stddef.h>

#include "pathos/error.h"

/* Standardised values are clamped to +-PTH_PREP_CLAMP so that an extreme (but finite)
 * test value cannot overflow to inf in a learner's dot products or distances. */
#define PTH_PREP_CLAMP 1e100

typedef struct {
    size_t d;
    unsigned flags; /* PTH_PREP_* (learner_impl.h); STANDARDISE always comes with IMPUTE */
    double *fill;   /* d imputation values, or NULL without PTH_PREP_IMPUTE */
    double *mean;   /* d means after imputation, or NULL without PTH_PREP_STANDARDISE */
    double *scale;  /* d standard deviations (> 0), or NULL without PTH_PREP_STANDARDISE */
} pth_prep;

/* Fits on n rows of d columns (NaN = missing; no infinities). */
int pth_prep_fit(pth_prep *p, unsigned flags, const double *X, size_t n, size_t d, pth_error *err);
/* Writes the preprocessed copy of X (n * d) to out; out may equal X. */
void pth_prep_apply(const pth_prep *p, const double *X, size_t n, double *out);
void pth_prep_free(pth_prep *p);

#endif
