/* Per-recording summary features from OpenFace frame-level output.
 *
 * One recording (an OpenFace CSV read into a pth_table) becomes one fixed-length vector:
 *
 *  1. Row filter.  A row is kept ("valid") only when a face was tracked in it:
 *       - not padding: at least one cell of a known OpenFace feature column (any family,
 *         selected or not) is finite and non-zero.  The released hri-empathy files are
 *         left-padded with all-zero rows, and OpenFace writes zeros when tracking fails;
 *       - when a `success` column exists: success != 0 (NaN counts as failure);
 *       - when a `confidence` column exists: confidence >= min_confidence (NaN fails).
 *     A recording without any valid row is an error naming the file.
 *
 *  2. Column selection by family (see pth_feature_family).  Columns are used in the table's
 *     order; metadata (frame, face_id, timestamp, confidence, success, the unnamed index
 *     column) and unknown columns are never features.
 *
 *  3. Per selected column, over its valid rows, skipping NaN (and +-inf) cells, in this order:
 *       NAME__mean            arithmetic mean
 *       NAME__std             population standard deviation (ddof = 0, like numpy.std)
 *       NAME__min, NAME__max
 *       NAME__median          = 50th percentile
 *       NAME__p10, NAME__p90  percentiles with linear interpolation between order
 *                             statistics (numpy.percentile's default "linear" method):
 *                             position h = (n-1)*q on the sorted values, interpolated
 *                             between floor(h) and floor(h)+1 (numpy's _lerp formula)
 *       NAME__mean_abs_diff   mean |x[t] - x[t-1]| over consecutive non-NaN values of the
 *                             valid rows (a gap of dropped rows is bridged); NaN with < 2
 *                             values
 *       NAME__frac_active     presence columns (AU*_c) only: fraction of values >= 0.5
 *     A column whose valid cells are all NaN gives NaN features (learners impute); so does
 *     a statistic that overflows (values near the double range), never +-inf.
 *     Finally one feature `n_valid_rows`.
 *
 * Feature names are therefore stable and self-explaining: "AU12_r__mean",
 * "gaze_angle_x__p90", "AU45_c__frac_active", "n_valid_rows". */
#ifndef PATHOS_FEATURES_H
#define PATHOS_FEATURES_H

#include <stddef.h>

#include "pathos/dataset.h"
#include "pathos/error.h"
#include "pathos/manifest.h"
#include "pathos/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature families, as bit flags (combine with |). */
typedef enum {
    PTH_FAM_GAZE = 1u << 0,        /* gaze_0_x .. gaze_angle_y */
    PTH_FAM_POSE = 1u << 1,        /* pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz */
    PTH_FAM_AU_R = 1u << 2,        /* AU*_r intensities */
    PTH_FAM_AU_C = 1u << 3,        /* AU*_c presence */
    PTH_FAM_LANDMARKS2D = 1u << 4, /* x_N, y_N (68 face landmarks, pixels) */
    PTH_FAM_LANDMARKS3D = 1u << 5, /* X_N, Y_N, Z_N (mm) */
    PTH_FAM_EYE = 1u << 6,         /* eye_lmk_x_N, eye_lmk_y_N, eye_lmk_X/Y/Z_N */
    PTH_FAM_PDM = 1u << 7          /* p_scale, p_rx, p_ry, p_rz, p_tx, p_ty, p_N */
} pth_feature_family;

#define PTH_FAM_DEFAULT (PTH_FAM_GAZE | PTH_FAM_POSE | PTH_FAM_AU_R | PTH_FAM_AU_C)
#define PTH_FAM_ALL 0xFFu
#define PTH_FEATURE_MIN_CONFIDENCE 0.75

/* Statistic names in feature order (suffixes after "__"); frac_active is AU*_c only. */
#define PTH_FEATURE_N_STATS 8

/* The family of an OpenFace column name (trimmed, e.g. "AU12_r"), or 0 when the column
 * is metadata or unknown. */
unsigned pth_feature_family_of(const char *column);
/* Family name ("gaze", "pose", "au_r", "au_c", "landmarks2d", "landmarks3d", "eye", "pdm")
 * of one flag, or NULL. */
const char *pth_feature_family_name(unsigned family);
/* Parses a comma-separated family list; also "all" and "default".  Empty entries and
 * surrounding spaces are ignored; an unknown name is an error listing the valid ones. */
int pth_feature_families_parse(const char *list, unsigned *families, pth_error *err);

/* Summary of one column's valid, non-NaN values (see the header comment). */
typedef struct {
    size_t n;     /* values used (non-NaN) */
    double mean, std, min, max, median, p10, p90, mean_abs_diff, frac_active;
} pth_column_stats;

/* Statistics of x[i] for rows with keep[i] != 0 (keep may be NULL: all rows); NaN and
 * infinite cells are skipped.  Needs scratch space for n doubles; returns PTH_ERR_NOMEM if it cannot get it. */
int pth_column_stats_compute(const double *x, const unsigned char *keep, size_t n, pth_column_stats *out,
                             pth_error *err);
/* Percentile q in [0,1] of n ascending values, numpy "linear" method; NaN when n == 0. */
double pth_percentile_sorted(const double *sorted, size_t n, double q);

/* Progress: called once per finished recording, in completion order (serialised across
 * threads), with done in 1..total.  `path` is the recording's path as resolved. */
typedef void (*pth_feature_progress_fn)(size_t done, size_t total, const char *path, void *user);

typedef struct {
    unsigned families;       /* PTH_FAM_* bits; 0 means PTH_FAM_DEFAULT */
    double min_confidence;   /* rows with confidence < this are dropped (if the column exists) */
    int threads;             /* recordings extracted in parallel; <= 0: OpenMP default */
    int skip_missing;        /* batch: silently drop recordings whose file does not exist */
    pth_feature_progress_fn progress;
    void *progress_user;
} pth_feature_options;

/* families = default, min_confidence = 0.75, threads = 1, skip_missing = 0, no progress. */
void pth_feature_options_init(pth_feature_options *opts);

typedef struct {
    size_t d;            /* number of features */
    double *values;      /* d */
    char **names;        /* d */
    size_t n_rows;       /* rows in the table */
    size_t n_valid_rows; /* rows kept by the filter */
} pth_feature_vector;

/* Row filter only: keep[i] = 1 for valid rows (caller allocates t->nrows bytes).  Returns the
 * number of valid rows through n_valid.  Errors: a non-numeric feature/success/confidence
 * column (file:line:column), no OpenFace feature column at all. */
int pth_features_valid_rows(const pth_table *t, const pth_feature_options *opts, unsigned char *keep,
                            size_t *n_valid, pth_error *err);
/* One recording.  opts may be NULL (defaults).  On error *out is left empty. */
int pth_features_from_table(const pth_table *t, const pth_feature_options *opts, pth_feature_vector *out,
                            pth_error *err);
int pth_features_from_file(const char *path, const pth_feature_options *opts, pth_feature_vector *out,
                           pth_error *err);
void pth_feature_vector_free(pth_feature_vector *v);

/* Many recordings -> one dataset row each, in the given order (independent of threads).
 * paths[i] is opened as given (callers resolve relative paths); record_ids[i] (may be NULL:
 * then the path) becomes ds->record_id; subjects[i] the group; labels[i] in
 * 0..n_classes-1 or -1.  Every recording must yield the same feature names (else an error
 * names the file and the first differing column).  With opts->skip_missing, recordings
 * whose file does not exist are left out and counted in *n_skipped (may be NULL).  The
 * first failing recording (in input order) determines the error. */
int pth_features_from_paths(const char *const *paths, const char *const *record_ids,
                            const char *const *subjects, const int *labels, size_t n, int n_classes,
                            const pth_feature_options *opts, pth_dataset *out, size_t *n_skipped,
                            pth_error *err);
/* The same for a manifest read with pth_manifest_read (its resolved paths are opened, its
 * record ids, subjects, labels and n_classes are copied).  Missing files were already
 * handled by the manifest's missing-file policy; opts->skip_missing applies on top. */
int pth_features_from_manifest(const pth_manifest *m, const pth_feature_options *opts, pth_dataset *out,
                               size_t *n_skipped, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
