/* A manifest: a CSV file with one row per recording, naming its file, its subject and
 * (optionally) its class label.  Extra columns are kept as text.
 *
 *     path,participant_id,empathy_binary,story_id
 *     dataset/video_features/averaged_1_2020_03_02_1_first.csv,1,1,1
 *
 * Relative paths resolve against a data root (default: the manifest's own directory);
 * absolute paths are used as they are.  Path and subject cells are trimmed of surrounding
 * blanks (so "a.csv, s1" works).  Labels must be integers 0..K-1; an empty or NA
 * label means "unlabelled" (-1), e.g. for prediction. */
#ifndef PATHOS_MANIFEST_H
#define PATHOS_MANIFEST_H

#include <stddef.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PTH_MISSING_KEEP = 0,  /* keep rows whose file does not exist (nothing is checked) */
    PTH_MISSING_SKIP = 1,  /* drop them, counting them in n_skipped */
    PTH_MISSING_ERROR = 2  /* the first missing file is an error naming its manifest line */
} pth_missing_policy;

typedef struct {
    const char *path_col;     /* NULL: "path" */
    const char *subject_col;  /* NULL: "subject" */
    const char *label_col;    /* NULL: "label"; "" means no label column */
    int label_optional;       /* 1: a missing label column is fine (all rows unlabelled) */
    int n_classes;            /* >0: labels must be < n_classes; 0: K = largest label + 1 */
    const char *root;         /* data root for relative paths; NULL: the manifest's directory */
    pth_missing_policy missing;
    char delimiter;           /* 0 = ',' */
} pth_manifest_options;

typedef struct {
    size_t n;              /* rows kept */
    char **path;           /* n resolved paths (root joined) */
    char **record_id;      /* n paths as written in the manifest */
    char **subject;        /* n subject ids */
    int *label;            /* n labels in 0..n_classes-1, or -1 when unlabelled */
    int n_classes;         /* K; 0 when no row is labelled */
    size_t *line;          /* n manifest lines (1-based) */
    size_t n_skipped;      /* rows dropped by PTH_MISSING_SKIP */
    size_t n_extra;        /* other columns, in file order */
    char **extra_names;    /* n_extra */
    char **extra;          /* n * n_extra cells, row-major (extra[i * n_extra + k]) */
    char *source;          /* the manifest's file name */
} pth_manifest;

/* opts may be NULL (defaults).  Errors name manifest:line and the column. */
int pth_manifest_read(const char *path, const pth_manifest_options *opts, pth_manifest *out, pth_error *err);
void pth_manifest_free(pth_manifest *m);
/* The extra cell of row i in the column with this name, or NULL when there is no such column. */
const char *pth_manifest_extra(const pth_manifest *m, size_t i, const char *name);

#ifdef __cplusplus
}
#endif
#endif
