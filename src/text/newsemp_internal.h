/* Internal interface between newsemp.c (feature pipeline, kernel ridge, conformal
 * calibration) and textreg.c (the saved NewsEmp regressor). */
#ifndef PATHOS_NEWSEMP_INTERNAL_H
#define PATHOS_NEWSEMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/newsemp.h"
#include "pathos/text.h"
#include "pathos/textemo.h"

#define PTH_NEWSEMP_NDENSE (2 * PTH_LEX_NFEAT + PTH_DOCSTAT_NFEAT)
/* With GoEmotions transfer features (pth_newsemp_options.transfer) the dense block is
 * longer: the lexicon / statistics block, then PTH_EMOTRANSFER_NDOC document features. */
#define PTH_NEWSEMP_NDENSE_MAX (PTH_NEWSEMP_NDENSE + PTH_EMOTRANSFER_NDOC)

/* Linear functions of the NewsEmp features, 4 of them: 0/1 = base empathy / distress
 * predictors, 2/3 = difficulty models sigma(x) of the stacked empathy / distress.
 *   f_k(x) = b[k] + sum_s w[k][s] * tfidf(x)[cols[s]] + sum_f dw[k][f] * z(x)[f]
 * where z = pth_newsemp_dense_z of the dense features.  This is exactly the fitted kernel
 * ridge (linear kernel) written in the primal: w = sum_j a_j phi(x_j), block-weighted. */
typedef struct {
    pth_hash_options hash;
    pth_tfidf tfidf;
    size_t ndense;   /* dense features used: PTH_NEWSEMP_NDENSE, or NDENSE_MAX with transfer */
    double mean[PTH_NEWSEMP_NDENSE_MAX], sd[PTH_NEWSEMP_NDENSE_MAX];
    size_t nnz;      /* support: columns seen in training */
    uint32_t *cols;  /* nnz, ascending */
    double *w[4];    /* nnz each */
    double dw[4][PTH_NEWSEMP_NDENSE_MAX];
    double b[4];
    double beta[2][3];   /* stacked target t = beta0 + beta1 f_0 + beta2 f_1 */
    double qn[2];        /* normalised conformal quantile */
    double floor_s[2];   /* sigma floor */
    double alpha[2], word_w[2], dense_w[2]; /* selected hyper-parameters */
    double miscoverage;
    size_t n_train;
} pth_newsemp_fit;

/* Fits the model of one outer CV fold on all rows of d (inner CV with o->inner_folds
 * folds, grouped by writer when o->grouped). */
int pth_newsemp_fit_all(const pth_newsemp *d, const pth_newsemp_options *o, pth_newsemp_fit *m, pth_error *err);
void pth_newsemp_fit_free(pth_newsemp_fit *m);

int pth_newsemp_load_lexicons(const char *vader_path, const char *afinn_dir, pth_lexicon **vader, pth_lexicon **afinn,
                              pth_error *err);
/* n x PTH_NEWSEMP_NDENSE dense features; -1 when out of memory. */
int pth_newsemp_dense_features(const char *const *texts, size_t n, const pth_lexicon *vader, const pth_lexicon *afinn,
                               double *D);
/* In place: K (n x n, symmetric, linear kernel with diagonal K_ii) becomes the Gaussian
 * kernel s exp(-gamma (K_ii + K_jj - 2 K_ij) / (2 s)).  diag: n scratch values. */
void pth_newsemp_rbf_kernel(double *K, size_t n, double gamma, double s, double *diag);
/* Standardised, clipped dense row. */
void pth_newsemp_dense_z(const double *row, const double *mean, const double *sd, double *z);

#endif
