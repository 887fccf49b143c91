/* Shared pieces of the emotion tasks (goemotions.c, meld.c, textclf.c): the sparse linear
 * text model over several text fields, and a wall clock. */
#ifndef PATHOS_TEXTEMO_INTERNAL_H
#define PATHOS_TEXTEMO_INTERNAL_H

#include <stddef.h>

#include "pathos/blob.h"
#include "pathos/error.h"
#include "pathos/text.h"
#include "pathos/textclf.h"

#define TXL_MAXFIELDS 8

/* Hashed TF-IDF features of each text field in its own column block, scaled by
 * field_scale[f], then one-vs-rest L2 logistic regression. */
typedef struct {
    size_t nfields;
    pth_hash_options ho[TXL_MAXFIELDS];
    double field_scale[TXL_MAXFIELDS];
    double tol;   /* solver tolerance (not saved) */
    int max_iter; /* solver iterations per label (not saved) */
    pth_tfidf tf[TXL_MAXFIELDS];
    pth_linear lin;
    /* lin.coef transposed to feature-major floats (d x n_out), so scoring a sparse row
     * touches one cache line per feature instead of n_out lines d doubles apart. */
    float *coefT;
} txl_model;

/* Field 0: word 1-2-grams + char_wb 2-5-grams with `bits` bits per block; other fields:
 * word unigrams + bigrams only, with bits-2 bits, scaled by ctx_scale. */
void txl_init(txl_model *m, size_t nfields, unsigned bits, double ctx_scale);
/* fields: n x nfields (NULL = empty).  Y: n x L 0/1. */
int txl_fit(txl_model *m, size_t n, const char *const *fields, const unsigned char *Y, size_t L, double C,
            int threads, pth_error *err);
/* proba: n x L. */
int txl_predict(const txl_model *m, size_t n, const char *const *fields, double *proba, pth_error *err);
void txl_free(txl_model *m);
void txl_save(const txl_model *m, pth_blob_writer *w);
/* n_out: the outputs the caller expects (0 = any); checked before anything is allocated. */
int txl_load(txl_model *m, pth_blob_reader *r, size_t n_out, pth_error *err);

double txe_now(void); /* seconds, monotonic */

/* Multinomial logistic regression on standardised dense features (the stacked context
 * level): L2 penalty lambda on the weights, Nesterov-accelerated gradient descent. */
typedef struct {
    size_t nf, K;
    double *mu, *sd; /* nf */
    double *W;       /* K x (nf + 1), last column the intercept */
} txe_l2;

int txe_l2_fit(const double *F, const int *y, size_t n, size_t nf, size_t K, double lambda, int iters, txe_l2 *m);
void txe_l2_predict(const txe_l2 *m, const double *F, size_t n, double *P);
void txe_l2_free(txe_l2 *m);

struct pth_fasttext;

struct pth_textclf {
    char task[32];
    int multilabel;
    size_t nlabels;
    char **labels;
    double *thr;             /* multi-label decision thresholds (nlabels) */
    double w_ft;             /* ensemble: w_ft * fastText + (1 - w_ft) * linear */
    double *cal;             /* 4 x nlabels Platt scalings (a_l, b_l) of fastText, then of
                                linear: p -> sigmoid(a logit(p) + b); NULL = none */
    struct pth_fasttext *ft; /* may be NULL */
    txl_model *lin;          /* may be NULL */
    int context, causal;     /* conversation context level (context 0 = none) */
    struct pth_emotransfer *transfer; /* GoEmotions transfer features of the stacked level; may be NULL */
    int doc_stats;           /* 1: the stacked level also sees the utterance's document statistics */
    txe_l2 *l2;
};

/* MELD stacked level (meld.c): number of inputs, and the inputs of n utterances of one or
 * more dialogues (rows sorted by dialogue).  Without T: the context features of
 * pth_meld_context_features (context > 0) or the own log-probabilities (context 0).  With T
 * (n x PTH_EMOTRANSFER_NFEAT transfer features): the own log-probabilities, log(T + 1e-3) of
 * the utterance, then for each of the `context` previous turns its first-level probabilities
 * in a same- or other-speaker slot and a presence flag (earlier turns only, so causal or not
 * gives the same inputs).  With S (n x PTH_DOCSTAT_NFEAT, from txm_doc_features) each row ends
 * with the utterance's row of S. */
size_t txm_l2_nfeat(int context, int transfer, int doc_stats);
void txm_l2_features(const int *dialogue, const char *const *speaker, size_t n, const double *P, const double *T,
                     const double *S, int context, int causal, double *F);
/* The document statistics of n texts as stacked-level inputs (counts as log(1 + count)). */
int txm_doc_features(size_t n, const char *const *texts, double *S, pth_error *err);
/* Per-class log-prior offsets b (K, b[0] = 0) maximising weighted-F1 of argmax(log Q + b) over
 * n rows of probabilities Q with gold labels y; -1 when out of memory. */
int txm_tune_bias(const double *Q, const int *y, size_t n, size_t K, double *b);

/* Allocates a classifier with copies of the label names. */
struct pth_textclf *txc_new(const char *task, int multilabel, size_t nlabels, const char *const *labels);
/* Platt scaling per label, fitted by Newton's method on (logit p, y); ab: 2 x L. */
void txc_platt_fit(const double *P, const unsigned char *Y, size_t n, size_t L, double *ab);
void txc_platt_apply(const double *ab, size_t n, size_t L, double *P);
/* First-level probabilities: n x nlabels (calibrated when m->cal is set; multi-class
 * linear scores are renormalised). */
int txc_level1(const struct pth_textclf *m, size_t n, const char *const *texts, double *P, pth_error *err);

#endif
