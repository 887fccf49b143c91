/* A trained text emotion classifier as saved by `pathos text train` and used by `pathos
 * text predict`: fastText and/or sparse linear first-level models, their ensemble weight,
 * per-label decision thresholds (multi-label tasks) and, for conversation tasks, the
 * stacked dialogue-context level (see pathos/textemo.h).
 *
 * File format: little-endian, magic "PTXC", versions 1..4; see textclf.c for the layout. */
#ifndef PATHOS_TEXTCLF_H
#define PATHOS_TEXTCLF_H

#include <stddef.h>

#include "pathos/error.h"
#include "pathos/textemo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pth_textclf pth_textclf;

/* Trains on the task's train split, tunes on dev (thresholds, ensemble weight). */
pth_textclf *pth_goemo_train(const pth_goemo_config *c, pth_error *err);
pth_textclf *pth_meld_train(const pth_meld_config *c, pth_error *err);

int pth_textclf_save(const pth_textclf *m, const char *path, pth_error *err); /* atomic */
pth_textclf *pth_textclf_load(const char *path, pth_error *err);
/* Same from a file's bytes in memory (not kept after the call); name labels error messages
 * (NULL: "<buffer>").  Safe on untrusted input: a corrupt buffer fails with an error. */
pth_textclf *pth_textclf_load_buffer(const void *buf, size_t len, const char *name, pth_error *err);
void pth_textclf_free(pth_textclf *m);

const char *pth_textclf_task(const pth_textclf *m);   /* "goemotions", "meld" */
int pth_textclf_multilabel(const pth_textclf *m);     /* 1: thresholds; 0: argmax */
size_t pth_textclf_nlabels(const pth_textclf *m);
const char *pth_textclf_label(const pth_textclf *m, size_t k);
/* Context window of a conversation model (0 = texts are scored one by one) and whether it
 * only looks backwards. */
int pth_textclf_context(const pth_textclf *m, int *causal);

/* Scores (n x nlabels probabilities) of n texts scored independently (no context). */
int pth_textclf_scores(const pth_textclf *m, size_t n, const char *const *texts, double *P, pth_error *err);
/* Scores of the n turns of ONE dialogue, in order, with their speakers (may be NULL); uses
 * the context level when the model has one. */
int pth_textclf_score_dialogue(const pth_textclf *m, size_t n, const char *const *texts,
                               const char *const *speakers, double *P, pth_error *err);
/* Decisions for one row of scores: multi-label thresholds (at least one label) or argmax. */
void pth_textclf_decide(const pth_textclf *m, const double *scores, unsigned char *labels);

#ifdef __cplusplus
}
#endif
#endif
