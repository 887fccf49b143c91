/* A labelled tabular dataset: one row per recording (or sample), numeric features,
 * an integer class label and the subject the row belongs to.  This is what learners and
 * evaluation protocols consume, whether it came from a manifest of OpenFace recordings
 * (via pathos/features.h) or from a plain feature table (pathos/table.h). */
#ifndef PATHOS_DATASET_H
#define PATHOS_DATASET_H

#include <stddef.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t n;             /* rows */
    size_t d;             /* features */
    double *X;            /* n*d, row-major; NaN marks a missing value */
    int *y;               /* n labels in 0..n_classes-1, or -1 where unlabelled */
    int n_classes;        /* 0 when unlabelled */
    char **feature_names; /* d */
    char **subject;       /* n subject ids (strings; groups for subject-independent CV) */
    char **record_id;     /* n record ids (recording path or row id), for prediction output */
} pth_dataset;

/* Allocates an n x d dataset with zeroed X, y = -1, and empty (NULL) strings. */
int pth_dataset_alloc(pth_dataset *ds, size_t n, size_t d, pth_error *err);
void pth_dataset_free(pth_dataset *ds);
/* Copies rows idx[0..m-1] of src into out (all strings duplicated). */
int pth_dataset_subset(const pth_dataset *src, const size_t *idx, size_t m, pth_dataset *out, pth_error *err);
/* Number of distinct subjects. */
size_t pth_dataset_n_subjects(const pth_dataset *ds);
/* Subject index per row (0..n_subjects-1, in order of first appearance). Caller frees. */
int *pth_dataset_subject_index(const pth_dataset *ds, size_t *n_subjects);

#ifdef __cplusplus
}
#endif
#endif
