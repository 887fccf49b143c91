/* Classification metrics for the text tasks, with scikit-learn's conventions
 * (f1_score with zero_division=0: a label with no gold and no predicted positives has F1 0).
 *
 * Multi-label data are n x L row-major 0/1 byte matrices. */
#ifndef PATHOS_TEXTMETRICS_H
#define PATHOS_TEXTMETRICS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2tp / (2tp + fp + fn), 0 when the denominator is 0. */
double pth_f1_counts(size_t tp, size_t fp, size_t fn);

typedef struct {
    double macro_f1; /* unweighted mean of per-label F1 */
    double micro_f1; /* F1 of the pooled counts */
    double samples_f1; /* mean over rows of the row's F1 (rows with no gold and no prediction: 0) */
} pth_ml_scores;

/* Multi-label F1.  per_label (L values) may be NULL. */
void pth_multilabel_f1(const unsigned char *gold, const unsigned char *pred, size_t n, size_t L,
                       double *per_label, pth_ml_scores *out);

typedef struct {
    double accuracy;
    double macro_f1;    /* mean over the K classes */
    double weighted_f1; /* per-class F1 weighted by gold support */
    double micro_f1;    /* equals accuracy for single-label data */
} pth_mc_scores;

/* Multi-class F1 for labels in 0..K-1 (values outside are counted as wrong predictions
 * for no class).  per_class (K values) may be NULL. */
void pth_multiclass_f1(const int *gold, const int *pred, size_t n, size_t K, double *per_class,
                       pth_mc_scores *out);

/* The threshold t on scores[i*stride] that maximises F1 of (score >= t) against
 * gold[i*stride]; candidates are midpoints between consecutive distinct scores (ties
 * resolved towards the higher threshold).  With no positives returns +inf-like 1e300
 * (predict nothing).  best_f1 may be NULL. */
double pth_best_f1_threshold(const double *scores, const unsigned char *gold, size_t n, size_t stride,
                             double *best_f1);

/* Maps label sets to groups: out[i*G + g] = 1 when any label l of row i with
 * group_of[l] == g is set (group_of[l] < 0: label belongs to no group). */
void pth_multilabel_group(const unsigned char *in, size_t n, size_t L, const int *group_of, size_t G,
                          unsigned char *out);

/* Applies per-label thresholds: pred = score >= thr[l]; with force_one, a row with no
 * label above threshold gets its highest-scoring label (scores n x L). */
void pth_apply_thresholds(const double *scores, size_t n, size_t L, const double *thr, int force_one,
                          unsigned char *pred);

#ifdef __cplusplus
}
#endif
#endif
