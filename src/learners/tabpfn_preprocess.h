/* Per-member preprocessing of the TabPFN v2 classifier ensemble (learner "tabpfn"), after the
 * reference's v2 classifier configs: "quantile_uni_coarse" with the original features appended
 * and a global "svd" transformer, and "none".  Optionally a fingerprint column (a hash of each
 * row, so duplicate training rows can be told apart).  Everything is fitted on training rows
 * only and is deterministic (no randomness at all), so a loaded model refits it bit-identically.
 *
 * Output layout of one transformed row (width pth_tpp_width()):
 *   [ block 0: d | block 1: d (only if append_original) | n_svd SVD columns | fingerprint ]
 * quantile config: block 0 = quantile-transformed features, block 1 = original features;
 * none config:     block 0 = the original features.
 * The d-wide blocks keep the input column order, so a caller can permute them per member. */
#ifndef PATHOS_TABPFN_PREPROCESS_H
#define PATHOS_TABPFN_PREPROCESS_H

#include <stddef.h>

#include "pathos/error.h"

/* n_quantiles of "quantile_uni_coarse": max(n / 10, 2), then min(., n) as sklearn does. */
size_t pth_tpp_coarse_quantiles(size_t n);

/* sklearn QuantileTransformer(output_distribution='uniform') fit of one column: q[0..nq-1] =
 * np.nanpercentile(col, linspace(0, 100, nq)) (linear interpolation), made non-decreasing.
 * col has stride `stride`; NaNs are ignored; an all-NaN column gives q = 0.  work: n doubles. */
void pth_tpp_quantile_fit(const double *col, size_t stride, size_t n, size_t nq, double *q, double *work);
/* The transform of one value: the average of numpy's forward and backward interpolation,
 * 0 at or below q[0] (+1e-7), 1 at or above q[nq-1] (-1e-7), NaN stays NaN. */
double pth_tpp_quantile_apply(const double *q, size_t nq, double x);

/* Top-k right singular vectors of A (n x m, row-major) from the eigen-decomposition (tred2/tql2)
 * of A^T A: V is m x k row-major (column j = component j), sv[j] the singular values in
 * decreasing order.  Sign: the largest-magnitude entry of each component is positive.  With
 * fewer rows than columns it decomposes A A^T instead (v = A^T u normalised); components
 * beyond the rank are then arbitrary unit vectors or, beyond n, zero. */
int pth_tpp_svd_top(const double *A, size_t n, size_t m, size_t k, double *V, double *sv, pth_error *err);

typedef struct {
    int quantile;        /* 1: quantile_uni_coarse (+ original + svd), 0: none */
    int svd;             /* with quantile: append SVD features */
    int fingerprint;     /* append the fingerprint column */
    size_t max_features; /* cap on the output width (see pth_tpp_fit) */
    double outlier_std;  /* > 0: soft-clip every output column to mean -+ outlier_std * std */
    int append_original; /* with quantile: append the original features (if they fit) */
} pth_tpp_config;

typedef struct {
    size_t d, nq, n_svd, svd_in, width;
    int quantile, append_original, fingerprint;
    double *q;     /* d * nq quantiles (column-major: column j at q + j*nq) */
    double *scale; /* svd_in: 1 / population std of each SVD input column (std 0 -> 1) */
    double *V;     /* svd_in * n_svd */
    double *sv;    /* n_svd singular values of the scaled training matrix */
    double *lo, *hi; /* width: outlier bounds (NULL: no outlier removal) */
} pth_tpp;

/* Fits on the n training rows X (n x d float, NaN allowed).  Width rule: the quantile config
 * wants 2d + n_svd (+1) columns with n_svd = max(1, min(n/10 + 1, d/2)); if that exceeds
 * max_features the original columns are dropped, then n_svd is capped, then the fingerprint
 * is dropped.  d itself must not exceed max_features.  With outlier_std > 0, bounds are fitted
 * on the transformed training rows as the reference's remove_outliers does (see the .c). */
int pth_tpp_fit(pth_tpp *p, const pth_tpp_config *cfg, const float *X, size_t n, size_t d, pth_error *err);
size_t pth_tpp_width(const pth_tpp *p);
/* Number of leading d-wide blocks (1 or 2) that follow the input column order. */
size_t pth_tpp_blocks(const pth_tpp *p);
/* Transforms n rows into out (n x width).  train != 0: these are the training rows, and
 * duplicate fingerprints are re-hashed until unique (as the reference does for train rows). */
int pth_tpp_transform(const pth_tpp *p, const float *X, size_t n, int train, float *out, pth_error *err);
void pth_tpp_free(pth_tpp *p);

#endif
