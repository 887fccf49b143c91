/* Cross-validation fold assignment.
 *
 * The scientific point of pathos is evaluation on subjects never seen in training, so the
 * default protocol keeps every subject's recordings together in one fold.  Three kinds:
 *
 *  - PTH_SPLIT_GROUP_KFOLD ("group-kfold"): stratified group k-fold.  No subject is in two
 *    folds, every record is in exactly one test fold, and the per-fold class counts are as
 *    close as the subjects allow to the ideal N_c / k.  Algorithm (deterministic per seed,
 *    repeat r draws from pth_rng stream r of the seed):
 *      1. count the records of every class per subject;
 *      2. shuffle the subjects with the repeat's rng;
 *      3. greedy: walk the shuffled subjects and put each into the fold whose cost rises
 *         least, where  cost = sum over folds f and classes c of (k*n_fc - N_c)^2
 *         (integer arithmetic; n_fc = records of class c in fold f, N_c = records of class
 *         c overall).  This one objective balances both fold sizes and class mix.  Ties go
 *         to the fold with fewer records, then the lower fold number.  When only as many
 *         subjects remain as there are empty folds, they go to empty folds, so no fold is
 *         ever empty;
 *      4. local search: repeatedly move one subject to another fold, or swap two subjects
 *         of different folds, whenever that strictly lowers the cost (first improvement,
 *         fixed scan order, at most 64 passes; swaps are skipped beyond 3000 subjects).
 *    The random visiting order in step 3 is what makes different seeds (and repeats) give
 *    different, equally balanced partitions; sorting subjects by size instead would make
 *    the greedy result independent of the seed whenever all sizes differ.
 *    A subject with a single record is fine (it is simply a small group), but note that
 *    subjects are the unit of independence: k can be at most the number of subjects.
 *
 *  - PTH_SPLIT_LOSO ("loso"): leave-one-subject-out; fold = subject index (order of first
 *    appearance), k = number of subjects.  Independent of the seed and the repeat.
 *
 *  - PTH_SPLIT_RECORD_KFOLD_LEAKY ("record-kfold-LEAKY"): stratified k-fold over records
 *    that ignores subjects.  The same subject appears in training and test folds, so its
 *    scores are optimistic (identity leakage); it exists only to demonstrate that gap.
 *    Algorithm: records are shuffled within each class, concatenated class by class, and
 *    dealt round-robin to a random permutation of the folds, so per-fold class counts
 *    differ by at most one.
 *
 * Errors (PTH_ERR_INVALID, with a message saying what to change): no records; k < 2; more
 * folds than subjects (group-kfold) or than records (record-kfold); fewer than 2 subjects
 * (loso); a label outside 0..n_classes-1 (unlabelled rows must be removed first); a subject
 * index out of range or without records; and a split in which some training part (all
 * folds but one) would contain a single class, since no classifier can be fit on it.
 * A test fold that lacks a class is allowed (its AUC is then undefined, NaN); this is the
 * usual case when a class has fewer members than folds. */
#ifndef PATHOS_SPLIT_H
#define PATHOS_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/dataset.h"
#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PTH_SPLIT_GROUP_KFOLD = 0,
    PTH_SPLIT_LOSO = 1,
    PTH_SPLIT_RECORD_KFOLD_LEAKY = 2
} pth_split_kind;

typedef struct {
    pth_split_kind kind;
    size_t k;      /* folds; ignored by loso */
    uint64_t seed; /* repeat r uses pth_rng_seed_stream(seed, r) */
} pth_split_config;

/* "group-kfold", "loso", "record-kfold-LEAKY". */
const char *pth_split_kind_name(pth_split_kind kind);
/* Accepts the names above (case-insensitive) and the aliases "group", "grouped",
 * "subject", "record", "record-kfold", "leaky". */
int pth_split_kind_parse(const char *s, pth_split_kind *kind, pth_error *err);
/* 1 for protocols that let a subject appear in both training and test data. */
int pth_split_kind_is_leaky(pth_split_kind kind);

/* Fold per record for one repeat: fold[i] in 0..*n_folds-1.  y[i] in 0..n_classes-1,
 * subject[i] in 0..n_subjects-1 (e.g. from pth_dataset_subject_index).  fold has n
 * entries.  n_folds (may be NULL) receives k, or the number of subjects for loso. */
int pth_split_assign(const pth_split_config *cfg, uint64_t repeat, const int *y, int n_classes,
                     const int *subject, size_t n_subjects, size_t n, int *fold, size_t *n_folds,
                     pth_error *err);

/* The same for a dataset, for repeats 0..repeats-1: folds has repeats * ds->n entries,
 * repeat r's in folds[r*n .. r*n+n-1]. */
int pth_split_dataset(const pth_split_config *cfg, const pth_dataset *ds, size_t repeats, int *folds,
                      size_t *n_folds, pth_error *err);

/* Writes the folds as CSV with header "record_id,subject,repeat,fold" (one row per record
 * per repeat; fields quoted per RFC 4180 when needed) so an external pipeline can use the
 * very same folds.  path "-" is stdout. */
int pth_split_write_csv(const pth_dataset *ds, const int *folds, size_t repeats, const char *path,
                        pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
