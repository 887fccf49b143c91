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

/* The Gaussian blend partner in dual form: for target t
 *   g_t(x) = b[t] + sum_j a[t][j] s exp(-gamma d_t(x, x_j)^2 / (2 s)),  s = ww[t] + 1 + wd[t],
 *   d_t^2 = k_t(x, x) + k_t(x_j, x_j) - 2 k_t(x, x_j),
 *   k_t(x, y) = ww[t] <x_word, y_word> + <x_char, y_char> + wd[t] <z(x), z(y)> / ndense,
 * over the n training rows (TF-IDF on the support positions of pth_newsemp_fit.cols, and the
 * standardised dense rows Z); the stacked partner is beta[t] . (1, g_0(x), g_1(x)). */
typedef struct {
    double gamma;            /* 0: no partner */
    double ww[2], wd[2], alpha[2], b[2], beta[2][3];
    size_t n;
    double *a[2];            /* n each */
    size_t *indptr;          /* n + 1 */
    uint32_t *pos;           /* indptr[n]: support positions, ascending within a row */
    float *val;              /* indptr[n] */
    double *Z;               /* n x ndense */
    double *sq;              /* derived, n x 3: squared norms of the word, char and dense parts
                                (the dense part already divided by ndense) */
    size_t *split;           /* derived, n: first entry of each row's char block */
} pth_newsemp_gauss;

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
    pth_newsemp_gauss g;  /* the Gaussian blend partner (g.gamma 0: none) */
    double *train_pred;   /* n_train x 2: the final model's own predictions of its training
                             rows, computed from the kernel matrices (tests compare the saved
                             model against them); NULL after loading from a file */
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
/* First char column of the hashing h: the word block's columns lie below it. */
size_t pth_newsemp_word_split(const pth_hash_options *h);
/* Fills g->sq and g->split from the stored rows; cols maps support positions to hash columns
 * (word columns lie below split).  -1 when out of memory. */
int pth_newsemp_gauss_prepare(pth_newsemp_gauss *g, const uint32_t *cols, size_t split, size_t ndense);
/* The partner's stacked predictions for one row: q (nsupport values, zero on entry and on
 * return) receives the row's TF-IDF scattered onto support positions; qw, qc = the row's
 * squared word / char norms over ALL its columns (unseen ones included, as in the CV
 * kernel); z = its standardised dense row. */
void pth_newsemp_gauss_predict(const pth_newsemp_gauss *g, size_t ndense, const double *q, double qw, double qc,
                               const double *z, double out[2]);
void pth_newsemp_gauss_free(pth_newsemp_gauss *g);
/* Standardised, clipped dense row. */
void pth_newsemp_dense_z(const double *row, const double *mean, const double *sd, double *z);

#endif
