/* Learners behind one small, stable interface (in the spirit of LIBLINEAR):
 * configure -> fit -> predict class probabilities -> save / load.
 *
 * A pth_model owns its preprocessing (fitted on the training rows only: mean imputation
 * and, for learners that want it, standardisation) and the learner's own state.  Model
 * files are versioned; see docs/model-format.md. */
#ifndef PATHOS_LEARNER_H
#define PATHOS_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A learner-specific option, e.g. {"max_depth", "6"} or {"C", "1.0"}. */
typedef struct {
    const char *key;
    const char *value;
} pth_param;

typedef struct {
    const char *learner;     /* "xgboost", "logreg", "knn", "majority", "tabpfn", ... */
    const pth_param *params; /* learner options; unknown keys are an error */
    size_t n_params;
    uint64_t seed;           /* all randomness derives from it */
    int threads;             /* 0 = pick automatically (xgboost: 1; logreg/knn/majority are
                                single-threaded).  Programs using xgboost with threads > 1
                                should start with OMP_WAIT_POLICY=PASSIVE in the environment:
                                libgomp reads it before main(), and spinning OpenMP workers make
                                fits on a busy machine 10-100x slower (src/learners/xgboost.c). */
} pth_learner_config;

/* Different models may be fitted and used from different threads at the same time. */
typedef struct pth_model pth_model;

/* Fits a model on n rows of d features (row-major, NaN = missing) with labels
 * y[i] in 0..n_classes-1.  feature_names may be NULL.  Returns NULL and fills err on
 * failure (unknown learner or option, a single class, non-finite values, ...). */
pth_model *pth_model_fit(const pth_learner_config *cfg, const double *X, const int *y, size_t n, size_t d,
                         int n_classes, const char *const *feature_names, pth_error *err);

/* proba: n * n_classes, row-major; each row sums to 1. */
int pth_model_predict_proba(const pth_model *m, const double *X, size_t n, double *proba, pth_error *err);

int pth_model_n_classes(const pth_model *m);
size_t pth_model_n_features(const pth_model *m);
const char *pth_model_learner(const pth_model *m);
/* Feature names the model was trained on (NULL entries where unnamed). */
const char *const *pth_model_feature_names(const pth_model *m);

int pth_model_save(const pth_model *m, const char *path, pth_error *err); /* atomic write */
pth_model *pth_model_load(const char *path, pth_error *err);
void pth_model_free(pth_model *m);
/* The same model file format in memory: save_buffer returns a malloc'd image (free()
 * it); load_buffer validates an image exactly like pth_model_load (`name`, may be NULL, is
 * used in error messages). */
int pth_model_save_buffer(const pth_model *m, unsigned char **data, size_t *len, pth_error *err);
pth_model *pth_model_load_buffer(const void *data, size_t len, const char *name, pth_error *err);

/* Registered learner names (static strings), and a one-line description of each. */
size_t pth_learner_count(void);
const char *pth_learner_name(size_t i);
const char *pth_learner_description(size_t i);

#ifdef __cplusplus
}
#endif
#endif
