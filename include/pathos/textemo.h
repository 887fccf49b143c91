/* Emotion tasks on text: GoEmotions (multi-label, 27 emotions + neutral) and MELD (emotion
 * recognition in conversation, 7 classes), plus the saved text classifier that `pathos text
 * train` writes and `pathos text predict` reads.
 *
 * Models (pth_textemo_model):
 *  - LINEAR: hashed word 1-2-gram + char_wb 2-5-gram TF-IDF (pathos/text.h) with one L2
 *    logistic regression per label (one-vs-rest);
 *  - FASTTEXT: pathos/fasttext.h (one-vs-all sigmoids for GoEmotions, softmax for MELD);
 *  - ENSEMBLE: weighted mean of the two models' probabilities, each first calibrated per
 *    label by Platt scaling fitted on dev (GoEmotions; weight chosen on dev), or the plain
 *    mean of the two distributions (MELD).
 * GoEmotions decision rule: label l is predicted when its score >= a per-label threshold
 * tuned on the dev split to maximise that label's F1 (no test data is ever used to choose
 * anything); a text with no label over threshold gets its best-scoring label.
 * MELD decision rule: argmax of the class probabilities. */
#ifndef PATHOS_TEXTEMO_H
#define PATHOS_TEXTEMO_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/blob.h"
#include "pathos/error.h"
#include "pathos/fasttext.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PTH_TEXTEMO_LINEAR = 0, PTH_TEXTEMO_FASTTEXT = 1, PTH_TEXTEMO_ENSEMBLE = 2 } pth_textemo_model;

/* "linear" / "fasttext" / "ensemble" -> model; -1 when unknown. */
int pth_textemo_model_parse(const char *name);
const char *pth_textemo_model_name(pth_textemo_model m);

/* ------------------------------------------------------------------ GoEmotions */

#define PTH_GOEMO_NLABELS 28
#define PTH_GOEMO_NEUTRAL 27
#define PTH_GOEMO_EKMAN_GROUPS 7     /* anger disgust fear joy sadness surprise neutral */
#define PTH_GOEMO_SENTIMENT_GROUPS 4 /* positive negative ambiguous neutral */

typedef struct {
    size_t n;
    char **text;      /* n texts */
    unsigned char *Y; /* n x 28 gold labels */
} pth_goemo_split;

/* Reads a GoEmotions TSV (text, comma-separated label ids 0..27, id; RFC 4180 quoting).
 * max_rows > 0 keeps only the first max_rows rows.  Bad label ids name file:line. */
int pth_goemo_load(const char *path, size_t max_rows, pth_goemo_split *out, pth_error *err);
void pth_goemo_split_free(pth_goemo_split *s);
/* The 28 label names in id order (static strings). */
const char *pth_goemo_label(size_t id);
/* Group index of every label for the Ekman and sentiment groupings, read from
 * dir/ekman_mapping.json and dir/sentiment_dict.json; neutral maps to the last group. */
int pth_goemo_groups(const char *dir, int ekman_of[PTH_GOEMO_NLABELS], int sentiment_of[PTH_GOEMO_NLABELS],
                     pth_error *err);
const char *pth_goemo_ekman_name(size_t g);
const char *pth_goemo_sentiment_name(size_t g);

typedef struct {
    const char *data_dir;    /* folder with train/dev/test.tsv and the two mapping files */
    pth_textemo_model model;
    int threads;
    uint64_t seed;
    size_t max_train;        /* 0 = all rows (tests use a slice) */
    size_t max_eval;         /* 0 = all dev/test rows */
    pth_ft_params ft;        /* fastText settings (pth_goemo_config_default fills them) */
    double linear_C;         /* logistic regression C */
    double linear_tol;       /* its stopping tolerance (pth_logreg_options.tol; default 1e-4) */
    unsigned hash_bits;      /* bits of each hashed block */
} pth_goemo_config;

void pth_goemo_config_default(pth_goemo_config *c);

typedef struct {
    double macro_f1, micro_f1;             /* 28 labels, test */
    double ekman_macro_f1, ekman_micro_f1; /* 7 groups, test */
    double sent_macro_f1, sent_micro_f1;   /* 4 groups, test */
    double per_label_f1[PTH_GOEMO_NLABELS];
    double dev_macro_f1;                   /* dev with dev-tuned thresholds (optimistic) */
    double ensemble_weight;                /* fastText weight in the ensemble (0 / 1 for single models) */
    double ft_macro_f1, linear_macro_f1;   /* ensemble runs: each member alone on test (own dev
                                              thresholds); NaN otherwise */
    double train_seconds;                  /* wall time to fit (featurising included) */
    double test_texts_per_second;          /* scoring throughput on the test texts */
    size_t n_train, n_dev, n_test;
} pth_goemo_result;

/* Train on train, tune thresholds (and the ensemble weight) on dev, report on test. */
int pth_goemo_eval(const pth_goemo_config *c, pth_goemo_result *r, pth_error *err);

/* ------------------------------------------------------------------ GoEmotions transfer
 *
 * An emotion model trained on the GoEmotions *train* split only (never on the labels of the
 * task that uses it) whose outputs serve as dense features elsewhere: MELD utterances (and
 * their dialogue context) and NewsEmp essays.  Code: src/text/emotransfer.c.
 *
 * Text features (PTH_EMOTRANSFER_NFEAT per text): the 28 label probabilities (one-vs-rest
 * sigmoids; the ensemble averages fastText and linear), then the 7 Ekman groups
 * (anger disgust fear joy sadness surprise neutral), each the largest probability of its
 * member labels.  Document features (PTH_EMOTRANSFER_NDOC): the text features of every
 * sentence (split after . ! ? and newlines), their mean, then their maximum. */

#define PTH_EMOTRANSFER_NFEAT (PTH_GOEMO_NLABELS + PTH_GOEMO_EKMAN_GROUPS)
#define PTH_EMOTRANSFER_NDOC (2 * PTH_EMOTRANSFER_NFEAT)

typedef struct pth_emotransfer pth_emotransfer;

typedef struct {
    const char *data_dir;    /* GoEmotions folder: train.tsv and ekman_mapping.json */
    pth_textemo_model model; /* default LINEAR (the better GoEmotions model; ~2 CPU minutes to
                                fit on all of train, FASTTEXT takes seconds) */
    size_t max_train;        /* 0 = all 43,410 training texts (tests use a slice) */
    int threads;
    uint64_t seed;
    pth_ft_params ft;        /* as pth_goemo_config_default */
    double linear_C;
    unsigned hash_bits;
} pth_emotransfer_config;

void pth_emotransfer_config_default(pth_emotransfer_config *c);
pth_emotransfer *pth_emotransfer_train(const pth_emotransfer_config *c, pth_error *err);
void pth_emotransfer_free(pth_emotransfer *t);
/* F: n x PTH_EMOTRANSFER_NFEAT. */
int pth_emotransfer_text_features(const pth_emotransfer *t, size_t n, const char *const *texts, double *F,
                                  pth_error *err);
/* F: n x PTH_EMOTRANSFER_NDOC. */
int pth_emotransfer_doc_features(const pth_emotransfer *t, size_t n, const char *const *texts, double *F,
                                 pth_error *err);
/* Serialisation inside other model files: u32 model kind, 28 x i32 Ekman group of each label,
 * then the fastText blob and/or the linear blob (pathos/blob.h encodings). */
void pth_emotransfer_write(const pth_emotransfer *t, pth_blob_writer *w);
/* NULL on error: in err, or latched in r (pth_blob_reader_status). */
pth_emotransfer *pth_emotransfer_read(pth_blob_reader *r, pth_error *err);

/* ------------------------------------------------------------------ MELD */

#define PTH_MELD_NCLASSES 7

typedef struct {
    size_t n;
    char **text;      /* utterances */
    char **speaker;
    int *dialogue;    /* Dialogue_ID */
    int *utt;         /* Utterance_ID */
    int *label;       /* 0..6 in pth_meld_class order */
} pth_meld_split;

/* Reads a MELD *_sent_emo.csv (Utterance, Speaker, Emotion, Dialogue_ID, Utterance_ID by
 * header name); rows are sorted by (dialogue, utterance). */
int pth_meld_load(const char *path, size_t max_rows, pth_meld_split *out, pth_error *err);
void pth_meld_split_free(pth_meld_split *s);
const char *pth_meld_class(size_t k); /* neutral joy surprise anger sadness disgust fear */
/* MELD class of a GoEmotions row (Y: 28 gold flags) when all its labels fall in one Ekman group
 * (ekman_of from pth_goemo_groups; neutral is its own group), else -1. */
int pth_meld_from_goemo(const unsigned char *Y, const int ekman_of[PTH_GOEMO_NLABELS]);
int pth_meld_class_parse(const char *name); /* -1 when unknown */

/* Dialogue-grouped K-fold assignment: fold[i] in 0..k-1; all rows of one group (dialogue)
 * share a fold; groups are shuffled with the seed and dealt round-robin. */
int pth_group_kfold(const int *group, size_t n, int k, uint64_t seed, int *fold, pth_error *err);

/* Dialogue context, stacked: a first-level model scores every utterance on its own
 * (P: n x 7 class probabilities; for training rows out-of-fold over dialogue-grouped folds);
 * the second level is a multinomial logistic regression on context features of each
 * utterance built from P: its own log-probabilities, those of the utterances up to `window`
 * turns before (and, unless causal, after) it in the same dialogue, split by whether the
 * same speaker said them, the mean over the rest of the dialogue, and position features.
 * Rows of s must be sorted by dialogue (pth_meld_load does that). */
size_t pth_meld_context_nfeat(int window);
void pth_meld_context_features(const int *dialogue, const char *const *speaker, size_t n, const double *P,
                               int window, int causal, double *F);

typedef struct {
    const char *data_dir;   /* folder holding train_sent_emo.csv and dev_sent_emo.csv */
    pth_textemo_model model;
    int context;            /* context window in turns (0 = utterance alone, default 2) */
    int causal;             /* 1: only earlier turns (streaming); 0 (default): both sides */
    int folds;              /* out-of-fold folds for the stacked level (default 5) */
    int threads;
    uint64_t seed;
    size_t max_train;       /* 0 = all */
    pth_ft_params ft;
    double linear_C;
    unsigned hash_bits;
    /* GoEmotions transfer: when transfer.data_dir is set (default NULL = off), an emotion
     * model is fitted on GoEmotions train (pth_emotransfer_train; it never sees MELD) and the
     * log of its PTH_EMOTRANSFER_NFEAT probabilities for each utterance join the inputs of
     * the stacked level, which is then fitted even when context = 0 (with transfer, the
     * context inputs are the previous turns' first-level probabilities only).  The transfer model is saved inside the classifier. */
    pth_emotransfer_config transfer;
    /* Eval only: when set, PREFIX.train.tsv / PREFIX.dev.tsv receive the stacked level's raw
     * inputs (dialogue, utterance, label, 7 first-level probabilities - out-of-fold for train -
     * and the transfer features) so its design can be studied offline.  NULL = off. */
    const char *dump_prefix;
    /* Per-class log-prior offsets of the stacked level, tuned for weighted-F1 on its
     * out-of-fold probabilities over the training dialogues (default 1; 0 = plain argmax). */
    int class_offsets;
    /* Extra first-level training texts from GoEmotions train (transfer.data_dir): texts whose
     * labels all fall in one Ekman group (or are neutral), labelled with that MELD class, at
     * most goemo_extra x the MELD training rows (seeded sample).  0 (default) = none. */
    double goemo_extra;
    /* The utterance's document statistics (pth_doc_stats: length, '!' and '?' counts, capitals,
     * pronouns, ...) join the stacked level's inputs (default 1; 0 = off). */
    int doc_stats;
} pth_meld_config;

void pth_meld_config_default(pth_meld_config *c);

typedef struct {
    double weighted_f1, macro_f1, accuracy; /* dev, stacked level (context and/or transfer) */
    double utt_weighted_f1, utt_macro_f1;   /* dev, first level alone (no context) */
    double per_class_f1[PTH_MELD_NCLASSES];
    /* Train-split CV of the stacked level (dialogue-grouped folds, out-of-fold inputs):
     * weighted-F1 of its argmax, and with the tuned class offsets (those are tuned on the same
     * out-of-fold rows, so the second is optimistic); 0 when there is no stacked level. */
    double cv_weighted_f1, cv_weighted_f1_offsets;
    double class_offset[PTH_MELD_NCLASSES];
    double train_seconds;
    size_t n_train, n_dev;
} pth_meld_result;

/* Train on train, report on dev (MELD's test split is held back). */
int pth_meld_eval(const pth_meld_config *c, pth_meld_result *r, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
