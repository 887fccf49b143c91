/* NewsEmp (Buechel et al., EMNLP 2018): empathy and distress regression from essays, with
 * cross-validation grouped by writer and conformal prediction intervals.
 *
 * Model (per outer training fold; nothing is fitted on test rows, idf included):
 *   features  TF-IDF hashed word 1-2-grams and char_wb 3-5-grams (sublinear tf, smooth idf,
 *             each block L2-normalised), plus 36 dense features (VADER and AFINN lexicon
 *             features, document statistics) standardised with training-fold statistics.
 *   learner   kernel ridge with a linear kernel K = v K_word + K_char + w K_dense (exactly
 *             ridge regression on the weighted feature concatenation, with an unpenalised
 *             intercept), solved by Cholesky of the centred n x n Gram matrix.
 *   tuning    (alpha, v, w) per target by inner k-fold CV (grouped by writer when the outer
 *             split is) on the training fold only, minimising MSE.
 *   stacking  (stack_targets) each target is then re-predicted as b0 + b1 yhat_emp +
 *             b2 yhat_dis, b fitted by least squares on the inner-CV out-of-fold predictions.
 *   blend     (blend_gamma > 0, the default) a second kernel ridge with the Gaussian kernel
 *             of the word and character blocks, tuned and stacked the same way on the same
 *             inner folds; the prediction is the mean of the two stacked models.
 *   intervals normalised cross-conformal: the inner-CV out-of-fold residuals r_i (of the
 *             stacked, blended predictions) give a
 *             difficulty model sigma(x) (kernel ridge on |r|, first model's kernel) whose out-of-fold
 *             values give scores s_i = r_i / sigma_-k(x_i); the interval for a test essay
 *             is yhat(x) +- q sigma(x), q = the ceil((m+1)(1-a))-th smallest s_i.  This is
 *             the K-fold analogue of split conformal (like CV+), so coverage is close to but
 *             not guaranteed at 1-a; the result reports it.  Constant-width intervals from
 *             the unnormalised residuals are reported alongside.  Interval ends are
 *             clipped to the 1..7 rating scale.
 *
 * Fold assignment (reproducible outside pathos, e.g. in bench/newsemp_sklearn.py):
 *   plain:   fold(row)  = murmur3_32(message_id, seed) mod k
 *   grouped: fold(row)  = murmur3_32(response_id, seed) mod k   (no writer in two folds)
 *   inner:   fold'(row) = murmur3_32(key, seed + 1 + outer fold) mod k_inner, key as above.
 * murmur3_32 = pth_murmur3_32 = sklearn.utils.murmurhash3_32(key, seed, positive=True). */
#ifndef PATHOS_NEWSEMP_H
#define PATHOS_NEWSEMP_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"
#include "pathos/text.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t n;
    char **message_id, **writer, **essay; /* n strings each */
    double *empathy, *distress;           /* n values, 1..7 */
} pth_newsemp;

/* Reads messages.csv (columns message_id, response_id, empathy, distress, essay).
 * max_rows > 0 keeps only the first max_rows essays. */
int pth_newsemp_load(const char *path, size_t max_rows, pth_newsemp *d, pth_error *err);
void pth_newsemp_free(pth_newsemp *d);

/* Fold of every row under the rule above; folds[i] in 0..k-1. */
void pth_newsemp_folds(const pth_newsemp *d, int grouped, size_t k, uint32_t seed, int *folds);

typedef struct {
    size_t folds;        /* outer folds (default 10) */
    size_t inner_folds;  /* inner folds for tuning and conformal scores (default 5) */
    int grouped;         /* 1: folds grouped by writer (response_id) */
    uint32_t seed;       /* fold seed (default 0) */
    double miscoverage;  /* interval level 1 - miscoverage (default 0.1) */
    pth_hash_options hash;      /* default: pth_hash_options_default (2^20 word + 2^20 char buckets) */
    const char *vader_path;     /* NULL: no VADER features (zeros) */
    const char *afinn_dir;      /* directory with AFINN-en-165.txt, AFINN-emoticon-8.txt; NULL: none */
    const double *alphas;       /* ridge grid (NULL: 0.25 .. 16, 7 values) */
    size_t n_alphas;
    const double *dense_weights; /* grid for w (NULL: {0, 0.3, 1}) */
    size_t n_dense_weights;
    const double *word_weights;  /* grid for v, the weight of the word block (NULL: {1, 2, 4}) */
    size_t n_word_weights;
    int stack_targets;           /* 1 (default): multi-task stacking - each target is refitted
                                    as b0 + b1 yhat_empathy + b2 yhat_distress on the inner-CV
                                    out-of-fold predictions of the training fold */
    double rbf_gamma;            /* 0 (default): the linear kernel K above.  > 0: the Gaussian
                                    kernel of the same weighted features, s exp(-gamma d^2 / (2s))
                                    with d^2 = K_ii + K_jj - 2 K_ij and s = v + 1 + w (so a unit
                                    row in every block has K_ii = s, as in the linear case, and
                                    the alpha grid keeps its meaning).  CV only: pth_newsemp_fit_all
                                    (text train) refuses it, the saved model is linear. */
    double blend_gamma;          /* 2 (default): the prediction is the equal-weight mean of the
                                    model above and a Gaussian-kernel partner with this gamma
                                    (same features, same inner folds, its own stacking); the
                                    conformal intervals are calibrated on the blended
                                    out-of-fold residuals.  The two kernels make different
                                    errors, so the mean beats either (bench/RESULTS-text-newsemp.md).
                                    0: the model above alone. */
    double blend_word_weight;    /* v of the partner (default 3; its dense weight is 0) */
    const double *blend_alphas;  /* the partner's ridge grid (NULL: 0.02 .. 2.56, 8 values) */
    size_t n_blend_alphas;
    const struct pth_emotransfer *transfer; /* NULL (default): none.  Otherwise an emotion model
                                    fitted on GoEmotions train (pathos/textemo.h; it never sees
                                    NewsEmp ratings) whose PTH_EMOTRANSFER_NDOC document features
                                    (mean and max over sentences) join the dense block, sharing
                                    its standardisation and its weight w. */
} pth_newsemp_options;

void pth_newsemp_options_default(pth_newsemp_options *o);

enum { PTH_NEWSEMP_EMPATHY = 0, PTH_NEWSEMP_DISTRESS = 1 };

typedef struct {
    double pearson;       /* mean over outer folds of the per-fold Pearson r (primary) */
    double pearson_pooled; /* Pearson r of all out-of-fold predictions */
    double spearman;      /* mean per-fold Spearman rho */
    double mae;           /* mean absolute error, pooled */
    double coverage;      /* normalised conformal intervals: fraction of y inside */
    double mean_width;
    double width_error_spearman; /* Spearman(width, |error|) over all test rows */
    double coverage_const; /* constant-width cross-conformal intervals */
    double mean_width_const;
    double mean_alpha;    /* mean selected alpha over folds */
    double mean_dense_weight;
    double mean_word_weight;
    double mean_blend_alpha; /* of the Gaussian partner (0 without one) */
} pth_newsemp_metrics;

typedef struct {
    size_t n;
    pth_newsemp_metrics target[2]; /* PTH_NEWSEMP_EMPATHY, PTH_NEWSEMP_DISTRESS */
    double *pred, *lo, *hi;        /* n x 2 (row-major: empathy, distress) */
    int *fold;                     /* n */
    double seconds;                /* wall time of the CV */
    double featurize_docs_per_s;   /* tokenize + hash throughput */
} pth_newsemp_result;

int pth_newsemp_cv(const pth_newsemp *d, const pth_newsemp_options *o, pth_newsemp_result *r, pth_error *err);
void pth_newsemp_result_free(pth_newsemp_result *r);

/* Statistics used above (NaN when undefined, e.g. constant input). */
double pth_text_pearson(const double *x, const double *y, size_t n);
double pth_text_spearman(const double *x, const double *y, size_t n); /* average ranks for ties */
/* The ceil((n+1)(1-a))-th smallest score (+inf when that exceeds n). scores is not modified. */
double pth_conformal_quantile(const double *scores, size_t n, double miscoverage);

#ifdef __cplusplus
}
#endif
#endif
