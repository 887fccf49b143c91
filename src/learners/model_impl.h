/* The pth_model struct, shared by model.c (fit / predict) and modelfile.c (save / load). */
#ifndef PATHOS_LEARNERS_MODEL_IMPL_H
#define PATHOS_LEARNERS_MODEL_IMPL_H

#include "learners/learner_impl.h"
#include "learners/preprocess.h"

#include <stdint.h>

/* Version written to and required of model files (docs/model-format.md). */
#define PTH_MODEL_FORMAT_VERSION 1

/* CRC-32 (IEEE, as zlib's crc32) that ends every model file. */
uint32_t pth_crc32(const void *data, size_t n);

struct pth_model {
    const pth_learner_ops *ops;
    void *state; /* the learner's; freed with ops->free */
    size_t d;
    int n_classes;
    char **feature_names; /* d entries (NULL where unnamed); the array is always allocated */
    pth_prep prep;
};

/* Allocates a model with d NULL feature names and no state. */
pth_model *pth_model_alloc(const pth_learner_ops *ops, size_t d, int n_classes);

/* The fitted preprocessing (for tests and diagnostics). */
const pth_prep *pth_model_prep(const pth_model *m);

#endif
