/* The evaluation protocol runner: cross-validates a list of learners on one dataset with
 * the same folds for every learner (so comparisons are paired), R times with different
 * fold assignments, and reports per-fold, per-repeat and summary metrics.
 *
 * Protocol (see pathos/split.h): repeat r assigns folds with pth_split_assign(cfg, r, ...),
 * i.e. pth_rng stream r of the seed.  LOSO folds do not depend on the seed, so a LOSO run
 * is clamped to a single repeat (result->repeats says what ran).
 *
 * For every (repeat, fold, learner) a model is fit on the other folds' records and
 * predicts P(y=1) for the fold's records.  Each fit gets the learner's config unchanged
 * (including its seed), so between repeats only the folds change.  What is reported:
 *   per fold    metrics of the fold's test records (a fold with one class has AUC NaN);
 *   per repeat  metrics of the pooled out-of-fold predictions of all n records of that
 *               repeat.  Pooling is used (rather than averaging folds) because subject-wise
 *               folds are small and uneven, and fold-level AUC is then noisy or undefined.
 *               Caveat: pooled ranking metrics also penalise scores that shift between
 *               folds (a constant "majority" predictor gets pooled AUC < 0.5, because a
 *               fold's training prior anticorrelates with its test prior), so fold_mean,
 *               the mean of the per-fold metrics (NaN folds skipped), is reported as well;
 *   summary     mean and sample std (ddof = 1) of the per-repeat metrics over repeats;
 *               repeat_lo/hi: the 2.5 / 97.5 percentiles of the per-repeat metrics (the
 *               spread due to the choice of folds; meaningful only with many repeats);
 *               boot_lo/hi: 95% percentile bootstrap over records of repeat 0's pooled
 *               predictions (B = options.bootstrap resamples; the same resamples for every
 *               learner; NaN when bootstrap = 0).  The text table shows mean +- std; the
 *               JSON has all of them.
 * Only binary labels are supported (metrics are binary); rows must all be labelled.
 *
 * Results are bit-identical for any thread count: every task writes only its own slots and
 * all reductions run in a fixed order after the tasks finish. */
#ifndef PATHOS_EVAL_H
#define PATHOS_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/dataset.h"
#include "pathos/error.h"
#include "pathos/learner.h"
#include "pathos/metrics.h"
#include "pathos/split.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the runner fits and applies models.  The default calls pth_model_fit /
 * pth_model_predict_proba / pth_model_free; tests inject a fake.  Models are opaque. */
typedef struct {
    void *(*fit)(void *ctx, const pth_learner_config *cfg, const double *X, const int *y, size_t n, size_t d,
                 int n_classes, const char *const *feature_names, pth_error *err);
    int (*predict_proba)(void *ctx, const void *model, const double *X, size_t n, double *proba, pth_error *err);
    void (*release)(void *ctx, void *model);
    void *ctx; /* passed to every call; the calls may run concurrently */
} pth_eval_backend;

const pth_eval_backend *pth_eval_default_backend(void);

/* Progress: called after each finished task (done of total) with a short description
 * such as "repeat 1 fold 3 xgboost".  Calls are serialised by the runner (never
 * concurrent), but they may come from worker threads. */
typedef void (*pth_eval_progress_fn)(void *ctx, size_t done, size_t total, const char *what);

typedef struct {
    pth_split_kind protocol;   /* default PTH_SPLIT_GROUP_KFOLD */
    size_t k;                  /* folds, default 5 (ignored by LOSO) */
    size_t repeats;            /* default 1 */
    uint64_t seed;             /* fold seed, default 42 */
    int threads;               /* parallel tasks; 0 = number of online CPUs */
    double threshold;          /* default 0.5 */
    size_t bootstrap;          /* B resamples for the bootstrap CI, default 1000; 0 = none */
    const pth_eval_backend *backend; /* NULL = pth_eval_default_backend() */
    pth_eval_progress_fn progress;   /* may be NULL */
    void *progress_ctx;
} pth_eval_options;

void pth_eval_options_init(pth_eval_options *o);

typedef struct {
    char *name;       /* display name: names[i] if given, else "learner(key=value,...)" */
    char *learner;    /* the config's learner */
    char **param_key; /* copies of the config's params */
    char **param_value;
    size_t n_params;
    uint64_t seed;
    double *oof;         /* repeats x n: out-of-fold P(y=1), oof[r*n + i] */
    pth_metrics *fold;   /* repeats x n_folds: fold[r*n_folds + f] */
    pth_metrics *repeat; /* repeats */
    pth_metrics mean, std, repeat_lo, repeat_hi, boot_lo, boot_hi;
    pth_metrics fold_mean; /* mean of the per-fold metrics over all repeats and folds */
} pth_eval_learner_result;

typedef struct {
    pth_split_kind protocol;
    size_t k_requested, n_folds, repeats, bootstrap;
    uint64_t seed;
    double threshold;
    size_t n, n_subjects, n_positive;
    char **record_id; /* copies, n (row number when the dataset had none) */
    char **subject;   /* copies, n */
    int *y;           /* copy, n */
    int *fold;        /* repeats x n: fold[r*n + i] */
    size_t *fold_size; /* repeats x n_folds: test records per fold */
    size_t n_learners;
    pth_eval_learner_result *learners;
} pth_eval_result;

/* Runs the protocol for n_learners configs.  names may be NULL (or hold NULL entries) for
 * derived names; duplicates get "#2", "#3" appended.  When the runner uses more than one
 * thread, a config with threads == 0 is fit with threads = 1 (the parallelism is over
 * tasks).  On failure returns the error of the first failing task in task order
 * (repeat, fold, learner) — the same error for any thread count — and frees everything. */
int pth_eval_run(const pth_dataset *ds, const pth_learner_config *cfgs, const char *const *names,
                 size_t n_learners, const pth_eval_options *opt, pth_eval_result *res, pth_error *err);
void pth_eval_result_free(pth_eval_result *res);

/* Writers; path "-" is stdout; files are replaced atomically. */
/* Aligned plain-text table: one row per learner, columns "mean ± std" of every metric, a
 * header naming the protocol (with a warning line when it is leaky). */
int pth_eval_write_table(const pth_eval_result *res, const char *path, pth_error *err);
/* JSON: {"format":"pathos-eval-1","config":{...},"metrics":[names],"learners":[{"name",
 * "learner","params","seed","summary":{metric:{"mean","std","repeat_ci95":[lo,hi],
 * "bootstrap_ci95":[lo,hi],"fold_mean"}},"per_repeat":[{"repeat",metrics...}],"per_fold":[{"repeat",
 * "fold","n_test",metrics...}]}]}; undefined values are null. */
int pth_eval_write_json(const pth_eval_result *res, const char *path, pth_error *err);
/* CSV: learner,repeat,fold,n_test,<metrics...> (empty field = undefined). */
int pth_eval_write_fold_metrics_csv(const pth_eval_result *res, const char *path, pth_error *err);
/* CSV: record_id,subject,label,repeat,fold,learner,p1 (p1 with 17 significant digits). */
int pth_eval_write_predictions_csv(const pth_eval_result *res, const char *path, pth_error *err);
/* CSV: record_id,subject,repeat,fold — the folds used, for external pipelines. */
int pth_eval_write_folds_csv(const pth_eval_result *res, const char *path, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
