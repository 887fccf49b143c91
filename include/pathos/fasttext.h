/* A fastText-style supervised text classifier (Joulin et al., "Bag of Tricks for Efficient
 * Text Classification", 2016), written for pathos.
 *
 * A document is one or more text fields (e.g. field 0 = the utterance, field 1 = the
 * previous utterance).  Each field is tokenised (lower-cased; runs of letters, digits and
 * apostrophes form words; every other non-space code point is a token of its own), and
 * contributes hashed features in its own namespace: words, word n-grams up to
 * `word_ngrams`, an end-of-text token "</s>" (which, being in every document, acts as a
 * bias), and (field 0 only) character n-grams of length minn..maxn of "<word>".
 * Features seen in at least `min_count` training documents get a row of the input
 * embedding matrix; the document vector is the mean of its rows (per field, see
 * field_pool), and a linear output layer
 * gives either a softmax over the labels (multi-class) or one independent sigmoid per label
 * (multi-label, "one-vs-all").  Training is plain SGD with the learning rate decaying
 * linearly to zero over all epochs.
 *
 * Reproducibility: with threads == 1 a seed gives bit-identical models on every run.  With
 * threads > 1 the training is Hogwild-style (each thread takes a contiguous share of every
 * epoch's shuffled order and updates the shared weights without locks), so results vary
 * slightly from run to run; prediction is deterministic and thread-count independent. */
#ifndef PATHOS_FASTTEXT_H
#define PATHOS_FASTTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/blob.h"
#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PTH_FT_SOFTMAX = 0, PTH_FT_OVA = 1 } pth_ft_loss;

typedef struct {
    int dim;           /* embedding size (default 64) */
    int word_ngrams;   /* longest word n-gram, 1..4 (default 2) */
    int minn, maxn;    /* character n-gram lengths; maxn == 0 turns them off (default 0) */
    int epochs;        /* default 10 */
    double lr;         /* initial learning rate (default 0.2) */
    int min_count;     /* documents a feature must occur in (default 1) */
    pth_ft_loss loss;  /* default PTH_FT_SOFTMAX */
    int threads;       /* training threads; 1 = reproducible (default 1) */
    uint64_t seed;     /* default 1 */
    size_t max_features; /* cap on the vocabulary (most frequent kept); 0 = no cap */
    int field_pool;    /* 1 (default): hidden = sum over fields of each field's mean row, so
                          context fields do not dilute the main text; 0: one mean over all
                          features of all fields (fastText's pooling) */
} pth_ft_params;

void pth_ft_params_default(pth_ft_params *p);

/* Training data: n documents of nfields text fields each (fields[i*nfields + f], NULL or ""
 * for an absent field) and an n x nlabels 0/1 matrix Y.  For the softmax loss a row with
 * several positives trains towards the uniform distribution over them; a row with none is
 * skipped.  label_names may be NULL. */
typedef struct {
    size_t n;
    size_t nfields;
    const char *const *fields;
    size_t nlabels;
    const unsigned char *Y;
    const char *const *label_names;
} pth_ft_data;

typedef struct pth_fasttext pth_fasttext;

pth_fasttext *pth_ft_train(const pth_ft_params *p, const pth_ft_data *d, pth_error *err);

/* Scores for one document (nfields fields): probabilities, nlabels values (softmax sums to
 * 1; ova gives independent sigmoids).  Thread-safe on a const model. */
void pth_ft_predict(const pth_fasttext *m, const char *const *fields, double *scores);
/* Scores for n documents (n x nlabels, row-major), optionally with OpenMP threads. */
void pth_ft_predict_many(const pth_fasttext *m, size_t n, const char *const *fields, double *scores,
                         int threads);

size_t pth_ft_nlabels(const pth_fasttext *m);
size_t pth_ft_nfields(const pth_fasttext *m);
size_t pth_ft_nfeatures(const pth_fasttext *m);
pth_ft_loss pth_ft_loss_kind(const pth_fasttext *m);
const char *pth_ft_label_name(const pth_fasttext *m, size_t k); /* "" when unnamed */
const pth_ft_params *pth_ft_get_params(const pth_fasttext *m);

/* Serialisation (versioned, little-endian; layout in fasttext.c above pth_ft_write).  The
 * blob-level pair lets a caller embed a model inside a larger file. */
void pth_ft_write(const pth_fasttext *m, pth_blob_writer *w);
pth_fasttext *pth_ft_read(pth_blob_reader *r); /* NULL on error (latched in r) */
int pth_ft_save(const pth_fasttext *m, const char *path, pth_error *err); /* atomic write */
pth_fasttext *pth_ft_load(const char *path, pth_error *err);
void pth_ft_free(pth_fasttext *m);

#ifdef __cplusplus
}
#endif
#endif
