/* Binary classification metrics from labels y[i] in {0,1} and predicted P(y=1) p1[i].
 *
 * Hard predictions: yhat = 1 exactly when p1 > threshold (default 0.5).  At p1 == 0.5
 * this picks class 0, the same as argmax over [1-p, p] and sklearn's predict().
 *
 * Definitions (they match sklearn.metrics 1.2 with default arguments; tests/test_metrics.c
 * checks them against numbers computed with it):
 *   accuracy           mean(yhat == y)
 *   balanced_accuracy  mean over the classes present in y of the recall of that class
 *   roc_auc            Mann-Whitney U / (n_pos * n_neg), tied scores get average ranks;
 *                      NaN when y holds a single class
 *   f1                 F1 of the positive class, 2TP / (2TP + FP + FN); 0 when undefined
 *   macro_f1           mean of the per-class F1 over the classes present in y or yhat
 *   mcc                (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)); 0 when the
 *                      denominator is 0
 *   log_loss           mean of -log(p of the true class) with p1 first clipped to
 *                      [1e-15, 1-1e-15] (class 0 then gets 1 - clipped p1, as in sklearn's
 *                      log_loss(eps=1e-15); sklearn >= 1.2 defaults to eps = 2.2e-16)
 *   brier              mean of (p1 - y)^2
 *   ece                expected calibration error of the predicted ("top-label") class,
 *                      as in Guo et al. 2017: conf_i = probability given to yhat_i (p1 or
 *                      1 - p1), bins b = 0..9 take conf in [b/10, (b+1)/10) (bin 9 also
 *                      takes 1.0; index = min(floor(10 * conf), 9)), and
 *                      ECE = sum_b (n_b / n) * |acc_b - conf_b| with acc_b the fraction of
 *                      correct predictions and conf_b the mean confidence in bin b.
 * Accuracy, balanced accuracy, AUC, F1, macro F1 and MCC: higher is better; log loss,
 * Brier and ECE: lower is better. */
#ifndef PATHOS_METRICS_H
#define PATHOS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PTH_M_ACCURACY = 0,
    PTH_M_BALANCED_ACCURACY,
    PTH_M_ROC_AUC,
    PTH_M_F1,
    PTH_M_MACRO_F1,
    PTH_M_MCC,
    PTH_M_LOG_LOSS,
    PTH_M_BRIER,
    PTH_M_ECE,
    PTH_M_COUNT
} pth_metric_id;

typedef struct {
    double v[PTH_M_COUNT]; /* indexed by pth_metric_id */
} pth_metrics;

#define PTH_DEFAULT_THRESHOLD 0.5
#define PTH_LOG_LOSS_EPS 1e-15
#define PTH_ECE_BINS 10

/* Short machine names ("accuracy", "balanced_accuracy", "roc_auc", "f1", "macro_f1",
 * "mcc", "log_loss", "brier", "ece") and column labels for tables. */
const char *pth_metric_name(pth_metric_id id);
const char *pth_metric_label(pth_metric_id id);
int pth_metric_higher_is_better(pth_metric_id id);

/* All metrics at once.  Fails (PTH_ERR_INVALID) when n == 0, a label is not 0/1, or a
 * probability is not finite or outside [0, 1]. */
int pth_metrics_compute(const int *y, const double *p1, size_t n, double threshold, pth_metrics *out,
                        pth_error *err);
/* Fills every entry with NaN. */
void pth_metrics_set_nan(pth_metrics *m);

/* Single metrics; inputs are assumed valid (see pth_metrics_compute), n > 0. */
double pth_metric_accuracy(const int *y, const double *p1, size_t n, double threshold);
double pth_metric_balanced_accuracy(const int *y, const double *p1, size_t n, double threshold);
double pth_metric_roc_auc(const int *y, const double *p1, size_t n);
double pth_metric_f1(const int *y, const double *p1, size_t n, double threshold);
double pth_metric_macro_f1(const int *y, const double *p1, size_t n, double threshold);
double pth_metric_mcc(const int *y, const double *p1, size_t n, double threshold);
double pth_metric_log_loss(const int *y, const double *p1, size_t n);
double pth_metric_brier(const int *y, const double *p1, size_t n);
double pth_metric_ece(const int *y, const double *p1, size_t n, double threshold);

/* Mean and sample standard deviation (ddof = 1, i.e. divided by m - 1: the repeats are a
 * sample of the possible splits) of the non-NaN entries of v[0..n-1] (NaN entries, e.g.
 * an undefined AUC, are skipped like numpy.nanmean / nanstd(ddof=1)).  With one usable
 * value std is NaN; with none both are NaN. */
void pth_mean_std(const double *v, size_t n, double *mean, double *std);

/* q-th quantile (q in [0,1]) of the non-NaN entries with linear interpolation between
 * order statistics (numpy.percentile's default); NaN when there are none. */
double pth_quantile(const double *v, size_t n, double q);

/* Percentile bootstrap over records: B resamples of n records drawn with replacement from
 * pth_rng seeded with `seed`; every metric is computed on each resample and lo/hi are its
 * (alpha/2, 1-alpha/2) quantiles over the resamples where it is defined (a resample with
 * a single class has no AUC and is skipped for AUC only).  The same seed gives the same
 * resamples for any predictions, so CIs of different learners are paired.  B >= 1. */
int pth_bootstrap_ci(const int *y, const double *p1, size_t n, double threshold, size_t B, double alpha,
                     uint64_t seed, pth_metrics *lo, pth_metrics *hi, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
