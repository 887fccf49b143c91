/* A saved NewsEmp empathy / distress regressor with 90% (1 - miscoverage) prediction
 * intervals, as written by `pathos text train --task newsemp` and used by `pathos text
 * predict`.
 *
 * Model: exactly one outer fold of pth_newsemp_cv (see pathos/newsemp.h) fitted on all the
 * training essays - hashed word + char TF-IDF and standardised lexicon / document-statistic
 * features, kernel ridge with a linear kernel (alpha and block weights chosen per target by
 * inner writer-grouped CV), stacking of the two targets, and normalised cross-conformal
 * intervals calibrated on the inner-CV out-of-fold residuals.  The linear kernel lets the
 * fitted kernel ridge be stored in the primal (weights over the hashed columns seen in
 * training), so the file does not hold the training essays and predictions are identical to
 * the kernel form.
 *
 * File format: little-endian blob (pathos/blob.h), magic "PTXR", version 1; see textreg.c.
 * The VADER / AFINN lexicon paths used in training are stored and reloaded on load (the
 * load fails with a clear error when they are gone). */
#ifndef PATHOS_TEXTREG_H
#define PATHOS_TEXTREG_H

#include <stddef.h>

#include "pathos/error.h"
#include "pathos/newsemp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pth_textreg pth_textreg;

/* One prediction; index 0 = empathy, 1 = distress (PTH_NEWSEMP_EMPATHY / _DISTRESS).
 * value is clipped to [1, 7]; lo <= value <= hi, both in [1, 7]. */
typedef struct {
    double value[2], lo[2], hi[2];
} pth_textreg_pred;

/* Fits on every essay of d.  Uses o->inner_folds, o->grouped (writer-grouped inner folds;
 * recommended), o->seed, o->miscoverage, o->hash, the lexicons and the grids; o->folds is
 * ignored except for the minimum-size check (d->n >= 4 folds). */
pth_textreg *pth_textreg_train(const pth_newsemp *d, const pth_newsemp_options *o, pth_error *err);

int pth_textreg_save(const pth_textreg *m, const char *path, pth_error *err); /* atomic */
pth_textreg *pth_textreg_load(const char *path, pth_error *err);
/* Same from a file's bytes in memory (not kept after the call); name labels error messages
 * (NULL: "<buffer>").  Safe on untrusted input, but note that the lexicon paths stored in the
 * model are opened. */
pth_textreg *pth_textreg_load_buffer(const void *buf, size_t len, const char *name, pth_error *err);
void pth_textreg_free(pth_textreg *m);
/* 1 when the file starts with the textreg magic (cheap check for CLIs). */
int pth_textreg_is_file(const char *path);

/* Predicts n texts. */
int pth_textreg_predict(const pth_textreg *m, size_t n, const char *const *texts, pth_textreg_pred *out,
                        pth_error *err);

double pth_textreg_level(const pth_textreg *m); /* 1 - miscoverage, e.g. 0.9 */
size_t pth_textreg_ntrain(const pth_textreg *m);
/* Selected hyper-parameters of target t: ridge alpha, word-block and dense-block weights. */
void pth_textreg_hyper(const pth_textreg *m, int t, double *alpha, double *word_w, double *dense_w);

#ifdef __cplusplus
}
#endif
#endif
