/* Internal contract between the pth_model wrapper (model.c, modelfile.c) and the
 * individual learners (one file each).  A learner is a constant pth_learner_ops table plus
 * an opaque state pointer; the wrapper owns validation, preprocessing and the model file,
 * so a learner only ever sees finite, validated data (NaN only if it does not ask for
 * imputation) and parameters it must parse itself.
 *
 * To add a learner: write src/learners/NAME.c defining
 *     const pth_learner_ops pth_learner_NAME = { ... };
 * and add one line X(NAME) to PTH_LEARNER_LIST in src/learners/registry.c. */
#ifndef PATHOS_LEARNER_IMPL_H
#define PATHOS_LEARNER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/blob.h"
#include "pathos/error.h"
#include "pathos/learner.h"

/* Preprocessing a learner asks the wrapper for (bit flags in pth_learner_ops.prep). */
enum {
    PTH_PREP_IMPUTE = 1u,     /* replace NaN by the training-column mean (all-NaN column: 0) */
    PTH_PREP_STANDARDISE = 2u /* z-score with training mean / population std (std 0 -> 1);
                                 implies PTH_PREP_IMPUTE */
};

/* What a learner's fit() receives: X already preprocessed as the learner asked. */
typedef struct {
    const double *X; /* n * d, row-major */
    const int *y;    /* n labels in 0..n_classes-1; at least two distinct */
    size_t n, d;
    int n_classes;
    const pth_param *params;
    size_t n_params;
    uint64_t seed;
    int threads; /* 0 = learner's choice */
} pth_fit_input;

/* Shape known to the wrapper when a learner's state is loaded from a model file. */
typedef struct {
    size_t d;
    int n_classes;
} pth_learner_shape;

typedef struct pth_learner_ops {
    const char *name;        /* registry key and the name stored in model files */
    const char *description; /* one line for `--help` listings */
    unsigned prep;           /* PTH_PREP_* flags */
    /* Fits and returns a new state in *state.  Unknown or unparsable params are errors. */
    int (*fit)(const pth_fit_input *in, void **state, pth_error *err);
    /* proba: n * n_classes, rows summing to 1; X preprocessed like in fit. */
    int (*predict_proba)(const void *state, const double *X, size_t n, double *proba, pth_error *err);
    /* Appends the learner's state to w (the wrapper frames it as one length-prefixed
     * payload), or fails. */
    int (*save)(const void *state, pth_blob_writer *w, pth_error *err);
    /* Reads a state written by save() from r (exactly the payload bytes); must validate
     * everything against `shape` and leave r failed (or return an error) on any
     * inconsistency. */
    int (*load)(pth_blob_reader *r, const pth_learner_shape *shape, void **state, pth_error *err);
    void (*free)(void *state);
} pth_learner_ops;

/* Registry lookup (registry.c); NULL if no such learner. */
const pth_learner_ops *pth_learner_find(const char *name);

/* ---- parameter parsing shared by the learners (params.c) ---- */

typedef enum { PTH_PARAM_INT, PTH_PARAM_DOUBLE, PTH_PARAM_STRING } pth_param_type;

/* One accepted key: its type, the inclusive range for numbers, and where to store the
 * value (byte offset into the learner's options struct: int, double or const char *). */
typedef struct {
    const char *key;
    pth_param_type type;
    double lo, hi;
    size_t offset;
    const char *const *choices; /* PTH_PARAM_STRING: NULL-terminated allowed values, or NULL */
} pth_param_spec;

/* Parses params into opts according to specs; an unknown key, an unparsable or
 * out-of-range value is an error naming the key and the learner. */
int pth_params_parse(const char *learner, const pth_param_spec *specs, size_t n_specs, const pth_param *params,
                     size_t n_params, void *opts, pth_error *err);

/* Test hook (logreg.c): the fitted coefficients of a logreg state, nv blocks of d weights
 * followed by the intercept (nv = 1 for two classes, else n_classes). */
const double *pth_logreg_theta(const void *state, size_t *nv);

/* Number of CPUs online (at least 1). */
int pth_cpu_count(void);

#endif
