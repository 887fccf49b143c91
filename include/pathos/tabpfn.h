/* TabPFN v2 (Prior Labs) tabular foundation model, run natively on a CPU in float32.
 *
 * The model is a transformer over a [rows, feature-groups + 1] token grid: attention between
 * the features of a row, attention between the rows of a column, and an MLP, 12 times.  Train
 * rows attend only to train rows, so everything computed for them (in particular the keys and
 * values that test rows read) depends on the training set alone.  pth_tabpfn_fit_context()
 * runs that part once; pth_tabpfn_predict_logits() then only pays for the test rows.
 *
 * Exactness: predict_logits(ctx, X_test) returns what the reference forward pass
 * model(concat(X_train, X_test), y_train) returns for that batch.  The one place where test
 * rows influence the train rows is the in-model preprocessing: a feature slot that is constant
 * over ALL rows (train and test) is dropped.  A context assumes the slot masks of the training
 * rows alone; when a test batch breaks one of them (a test value differs from a train column
 * that is constant, e.g. a constant train column or a NaN), predict_logits detects it and
 * recomputes a temporary context for that batch (the cost of a full forward pass), so the
 * result stays exact.  Predicting rows one at a time and in batches therefore agrees except
 * in that case, exactly as the reference does.
 *
 * Built with PriorLabs-TabPFN: see pth_tabpfn_attribution(). */
#ifndef PATHOS_TABPFN_H
#define PATHOS_TABPFN_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"
#include "pathos/tensorset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pth_tabpfn pth_tabpfn;
typedef struct pth_tabpfn_ctx pth_tabpfn_ctx;

typedef struct {
    int emsize, nlayers, nhead, features_per_group;
    int n_outputs;      /* max_num_classes: width of the logits */
    int mlp_hidden;     /* nhid_factor * emsize */
    int decoder_hidden; /* hidden width of the decoder MLP */
    uint64_t seed;      /* column-embedding RNG seed */
} pth_tabpfn_info;

/* Limits (checked, with clear errors). */
#define PTH_TABPFN_MAX_TRAIN 100000
#define PTH_TABPFN_MAX_FEATURES 2000

/* Loads a .ckpt or .safetensors checkpoint (config from the file or a sibling config.json)
 * and validates every tensor name and shape against the config. */
pth_tabpfn *pth_tabpfn_load(const char *path, pth_error *err);
/* Same from an already loaded set; takes ownership of *set (also on failure) and empties it. */
pth_tabpfn *pth_tabpfn_from_tensors(pth_tensor_set *set, pth_error *err);
void pth_tabpfn_free(pth_tabpfn *m);
pth_tabpfn_info pth_tabpfn_get_info(const pth_tabpfn *m);
/* OpenMP threads for the forward pass; 0 (default) = omp_get_max_threads(). */
void pth_tabpfn_set_threads(pth_tabpfn *m, int threads);

/* Runs the training rows through the network once and keeps what test rows need.
 * X_train: n_train x n_features row-major float32 (NaN/Inf allowed); y_train: class indices
 * (any finite floats; they are densified to ranks as the model does).  The context refers to
 * m, which must outlive it.  The context is read-only afterwards: several threads may predict
 * from it at once. */
pth_tabpfn_ctx *pth_tabpfn_fit_context(const pth_tabpfn *m, const float *X_train, const float *y_train,
                                       size_t n_train, size_t n_features, pth_error *err);
/* logits: n_test x n_outputs (all outputs, no softmax). */
int pth_tabpfn_predict_logits(const pth_tabpfn_ctx *ctx, const float *X_test, size_t n_test, float *logits,
                              pth_error *err);
/* Bytes held by the context (cached keys/values and preprocessing state). */
size_t pth_tabpfn_ctx_bytes(const pth_tabpfn_ctx *ctx);
void pth_tabpfn_ctx_free(pth_tabpfn_ctx *ctx);

/* One reference forward pass: X holds the n_train train rows then the n_test test rows. */
int pth_tabpfn_forward(const pth_tabpfn *m, const float *X, size_t n_train, size_t n_test, size_t n_features,
                       const float *y_train, float *logits, pth_error *err);

/* "Built with PriorLabs-TabPFN" and the licence note that must accompany any distribution
 * (the CLI prints it; the library never prints). */
const char *pth_tabpfn_attribution(void);

#ifdef __cplusplus
}
#endif
#endif
