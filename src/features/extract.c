/* One recording -> one feature vector: row filter (padding / tracking failures), column
 * selection by family, per-column summary statistics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/features.h"

static const char *const stat_names[PTH_FEATURE_N_STATS] = {"mean", "std",  "min", "max",
                                                             "median", "p10", "p90", "mean_abs_diff"};

void pth_feature_options_init(pth_feature_options *o)
{
    memset(o, 0, sizeof *o);
    o->families = PTH_FAM_DEFAULT;
    o->min_confidence = PTH_FEATURE_MIN_CONFIDENCE;
    o->threads = 1;
}

static const char *source_name(const pth_table *t) { return t->source ? t->source : "<table>"; }

/* A text column where a number is required: report its first bad cell. */
static int not_numeric(const pth_table *t, size_t c, pth_error *err)
{
    const pth_column *col = &t->cols[c];
    return pth_fail(err, PTH_ERR_PARSE, "%s:%zu:%zu: column '%s': expected a number, found '%.64s'",
                    source_name(t), col->bad_line, c + 1, col->name,
                    col->bad_value ? col->bad_value : "");
}

/* Index of the column with this name, or -1.  (Kept local so that this file depends on the
 * table struct only, not on the CSV reader.) */
static long find_column(const pth_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].name && !strcmp(t->cols[c].name, name))
            return (long)c;
    return -1;
}

/* Index of an optional metadata column (numeric required when present), or -1. */
static int optional_numeric(const pth_table *t, const char *name, long *idx, pth_error *err)
{
    *idx = find_column(t, name);
    if (*idx >= 0 && t->cols[*idx].type != PTH_COL_NUMERIC)
        return not_numeric(t, (size_t)*idx, err);
    return PTH_OK;
}

/* Marks rows that have at least one non-zero, finite cell in some OpenFace feature column. */
static int mark_tracked_rows(const pth_table *t, unsigned char *keep, pth_error *err)
{
    size_t n_feature_cols = 0;
    memset(keep, 0, t->nrows);
    for (size_t c = 0; c < t->ncols; c++) {
        const pth_column *col = &t->cols[c];
        if (!pth_feature_family_of(col->name) || col->type != PTH_COL_NUMERIC)
            continue;
        n_feature_cols++;
        for (size_t r = 0; r < t->nrows; r++)
            if (!keep[r] && col->num[r] != 0 && isfinite(col->num[r]))
                keep[r] = 1;
    }
    if (n_feature_cols == 0)
        return pth_fail(err, PTH_ERR_INVALID,
                        "%s: no numeric OpenFace feature columns (such as gaze_0_x, pose_Rx, AU12_r)",
                        source_name(t));
    return PTH_OK;
}

int pth_features_valid_rows(const pth_table *t, const pth_feature_options *opts, unsigned char *keep,
                            size_t *n_valid, pth_error *err)
{
    pth_feature_options defaults;
    if (!opts) {
        pth_feature_options_init(&defaults);
        opts = &defaults;
    }
    *n_valid = 0;
    long success, confidence;
    int rc = optional_numeric(t, "success", &success, err);
    if (!rc)
        rc = optional_numeric(t, "confidence", &confidence, err);
    if (!rc)
        rc = mark_tracked_rows(t, keep, err);
    if (rc)
        return rc;
    for (size_t r = 0; r < t->nrows; r++) {
        /* Written as negations so that a NaN success/confidence also drops the row. */
        if (success >= 0 && !(t->cols[success].num[r] != 0 && !isnan(t->cols[success].num[r])))
            keep[r] = 0;
        if (confidence >= 0 && !(t->cols[confidence].num[r] >= opts->min_confidence))
            keep[r] = 0;
        *n_valid += keep[r];
    }
    return PTH_OK;
}

void pth_feature_vector_free(pth_feature_vector *v)
{
    if (!v)
        return;
    if (v->names)
        for (size_t j = 0; j < v->d; j++)
            free(v->names[j]);
    free(v->names);
    free(v->values);
    memset(v, 0, sizeof *v);
}

static char *feature_name(const char *column, const char *stat)
{
    size_t n = strlen(column) + strlen(stat) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s__%s", column, stat);
    return s;
}

/* Counts the selected columns and the features they produce; rejects non-numeric ones. */
static int count_selected(const pth_table *t, unsigned fams, size_t *d, pth_error *err)
{
    size_t ncols = 0;
    unsigned present = 0;
    *d = 1; /* n_valid_rows */
    for (size_t c = 0; c < t->ncols; c++) {
        unsigned f = pth_feature_family_of(t->cols[c].name);
        present |= f;
        if (!(f & fams))
            continue;
        if (t->cols[c].type != PTH_COL_NUMERIC)
            return not_numeric(t, c, err);
        ncols++;
        *d += PTH_FEATURE_N_STATS + (f == PTH_FAM_AU_C);
    }
    if (!present)
        return pth_fail(err, PTH_ERR_INVALID,
                        "%s: no OpenFace feature columns (such as gaze_0_x, pose_Rx, AU12_r): not a recording?",
                        source_name(t));
    if (ncols == 0)
        return pth_fail(err, PTH_ERR_INVALID, "%s: no columns of the selected feature families", source_name(t));
    return PTH_OK;
}

/* Appends one column's statistics (and their names) at position *j. */
static int append_column(const pth_column *col, unsigned fam, const unsigned char *keep, size_t nrows,
                         pth_feature_vector *v, size_t *j, pth_error *err)
{
    pth_column_stats s;
    int rc = pth_column_stats_compute(col->num, keep, nrows, &s, err);
    if (rc)
        return rc;
    const double vals[PTH_FEATURE_N_STATS] = {s.mean, s.std, s.min, s.max, s.median, s.p10, s.p90, s.mean_abs_diff};
    size_t k_end = PTH_FEATURE_N_STATS + (fam == PTH_FAM_AU_C);
    for (size_t k = 0; k < k_end; k++) {
        int is_frac = k == PTH_FEATURE_N_STATS;
        v->values[*j] = is_frac ? s.frac_active : vals[k];
        v->names[*j] = feature_name(col->name, is_frac ? "frac_active" : stat_names[k]);
        if (!v->names[(*j)++])
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory naming features");
    }
    return PTH_OK;
}

static int fill_vector(const pth_table *t, unsigned fams, const unsigned char *keep, pth_feature_vector *v,
                       pth_error *err)
{
    size_t j = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        unsigned f = pth_feature_family_of(t->cols[c].name);
        if (!(f & fams))
            continue;
        int rc = append_column(&t->cols[c], f, keep, t->nrows, v, &j, err);
        if (rc)
            return rc;
    }
    v->values[j] = (double)v->n_valid_rows;
    v->names[j] = malloc(sizeof "n_valid_rows");
    if (!v->names[j])
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory naming features");
    memcpy(v->names[j], "n_valid_rows", sizeof "n_valid_rows");
    return PTH_OK;
}

int pth_features_from_table(const pth_table *t, const pth_feature_options *opts, pth_feature_vector *out,
                            pth_error *err)
{
    pth_feature_options defaults;
    if (!opts) {
        pth_feature_options_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    unsigned fams = opts->families ? opts->families : PTH_FAM_DEFAULT;
    size_t d;
    int rc = count_selected(t, fams, &d, err);
    if (rc)
        return rc;
    unsigned char *keep = malloc(t->nrows ? t->nrows : 1);
    out->values = calloc(d, sizeof *out->values);
    out->names = calloc(d, sizeof *out->names);
    if (!keep || !out->values || !out->names) {
        free(keep);
        pth_feature_vector_free(out);
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", source_name(t));
    }
    out->d = d;
    out->n_rows = t->nrows;
    rc = pth_features_valid_rows(t, opts, keep, &out->n_valid_rows, err);
    if (!rc && out->n_valid_rows == 0)
        rc = pth_fail(err, PTH_ERR_INVALID,
                      "%s: no valid rows (%zu rows, all padding or without a tracked face)", source_name(t),
                      t->nrows);
    if (!rc)
        rc = fill_vector(t, fams, keep, out, err);
    free(keep);
    if (rc)
        pth_feature_vector_free(out);
    return rc;
}
