/* Plain feature tables <-> pth_dataset (pathos/featuretable.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_internal.h"
#include "pathos/csv.h"
#include "pathos/featuretable.h"
#include "pathos/io.h"

int pth_table_label(const pth_table *t, size_t col, size_t row, int n_classes, int *out, pth_error *err)
{
    const pth_column *c = &t->cols[col];
    double v = c->num[row];
    const char *text = c->str ? c->str[row] : NULL;
    *out = -1;
    if (isnan(v) && (!text || pth_is_missing(text, strlen(text))))
        return PTH_OK;
    if (!isnan(v) && v >= 0 && v <= INT_MAX && v == floor(v) && (n_classes <= 0 || v < n_classes)) {
        *out = (int)v;
        return PTH_OK;
    }
    char shown[64];
    if (text)
        snprintf(shown, sizeof shown, "%s", text);
    else
        snprintf(shown, sizeof shown, "%.17g", v);
    if (n_classes > 0)
        return pth_fail(err, PTH_ERR_INVALID, "%s:%zu: column '%s' (field %zu): label '%s' is not an integer in 0..%d",
                        t->source, t->row_line[row], c->name, col + 1, shown, n_classes - 1);
    return pth_fail(err, PTH_ERR_INVALID,
                    "%s:%zu: column '%s' (field %zu): label '%s' is not a non-negative integer class index",
                    t->source, t->row_line[row], c->name, col + 1, shown);
}

/* Resolves an optional column: NULL -> default name (required or not), "" -> none. */
static int find_col(const pth_table *t, const char *given, const char *dflt, int required_default,
                    const char *role, long *idx, pth_error *err)
{
    *idx = -1;
    if (given && !*given)
        return PTH_OK;
    const char *name = given ? given : dflt;
    *idx = pth_table_find(t, name);
    if (*idx < 0 && (given || required_default))
        return pth_fail(err, PTH_ERR_INVALID, "%s: no %s column '%s'", t->source, role, name);
    return PTH_OK;
}

typedef struct {
    long subj, label, id;
    unsigned char *skip; /* ncols: 1 = not a feature */
    size_t d;
} layout;

static int plan_layout(const pth_table *t, const pth_featuretable_options *o, layout *L, pth_error *err)
{
    int rc = find_col(t, o->subject_col, "subject", 1, "subject", &L->subj, err);
    if (!rc)
        rc = find_col(t, o->label_col, "label", 0, "label", &L->label, err);
    if (!rc)
        rc = find_col(t, o->id_col, "record_id", 0, "record id", &L->id, err);
    if (rc)
        return rc;
    L->skip = calloc(t->ncols ? t->ncols : 1, 1);
    if (!L->skip)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    for (size_t k = 0; k < o->n_ignore; k++) {
        long j = pth_table_find(t, o->ignore[k]);
        if (j < 0)
            return pth_fail(err, PTH_ERR_INVALID, "%s: cannot ignore column '%s': no such column", t->source,
                            o->ignore[k]);
        L->skip[j] = 1;
    }
    long special[3] = {L->subj, L->label, L->id};
    for (int k = 0; k < 3; k++)
        if (special[k] >= 0)
            L->skip[special[k]] = 1;
    L->d = 0;
    for (size_t j = 0; j < t->ncols; j++) {
        if (L->skip[j])
            continue;
        const pth_column *c = &t->cols[j];
        if (c->type != PTH_COL_NUMERIC)
            return pth_fail(err, PTH_ERR_INVALID, "%s:%zu: column '%s': expected a number, found '%s'", t->source,
                            c->bad_line, c->name, c->bad_value ? c->bad_value : "");
        L->d++;
    }
    return PTH_OK;
}

static int fill_row_strings(const pth_table *t, const layout *L, size_t i, pth_dataset *ds, pth_error *err)
{
    char num[32];
    const char *id;
    if (L->id >= 0)
        id = pth_table_cell_text(t, i, (size_t)L->id);
    else {
        snprintf(num, sizeof num, "%zu", i);
        id = num;
    }
    ds->record_id[i] = strdup(id);
    const char *s = L->subj >= 0 ? pth_table_cell_text(t, i, (size_t)L->subj) : id;
    if (!*s)
        return pth_fail(err, PTH_ERR_INVALID, "%s:%zu: column '%s': empty subject", t->source, t->row_line[i],
                        L->subj >= 0 ? t->cols[L->subj].name : t->cols[L->id].name);
    ds->subject[i] = strdup(s);
    if (!ds->record_id[i] || !ds->subject[i])
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    return PTH_OK;
}

static int fill_dataset(const pth_table *t, const pth_featuretable_options *o, const layout *L, pth_dataset *ds,
                        pth_error *err)
{
    size_t k = 0;
    for (size_t j = 0; j < t->ncols; j++) {
        if (L->skip[j])
            continue;
        ds->feature_names[k] = strdup(t->cols[j].name);
        if (!ds->feature_names[k])
            return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
        /* Column-major table into the row-major matrix. */
        const double *src = t->cols[j].num;
        for (size_t i = 0; i < t->nrows; i++)
            ds->X[i * L->d + k] = src[i];
        k++;
    }
    int maxlab = -1;
    for (size_t i = 0; i < t->nrows; i++) {
        int rc = fill_row_strings(t, L, i, ds, err);
        if (!rc && L->label >= 0)
            rc = pth_table_label(t, (size_t)L->label, i, o->n_classes, &ds->y[i], err);
        if (rc)
            return rc;
        if (ds->y[i] > maxlab)
            maxlab = ds->y[i];
    }
    ds->n_classes = maxlab < 0 ? 0 : (o->n_classes > 0 ? o->n_classes : maxlab + 1);
    return PTH_OK;
}

int pth_dataset_from_table(const pth_table *t, const pth_featuretable_options *opts, pth_dataset *out,
                           pth_error *err)
{
    pth_featuretable_options o = {0};
    if (opts)
        o = *opts;
    memset(out, 0, sizeof *out);
    layout L = {-1, -1, -1, NULL, 0};
    int rc = plan_layout(t, &o, &L, err);
    if (!rc)
        rc = pth_dataset_alloc(out, t->nrows, L.d, err);
    if (!rc) {
        rc = fill_dataset(t, &o, &L, out, err);
        if (rc)
            pth_dataset_free(out);
    }
    free(L.skip);
    return rc;
}

int pth_dataset_read_csv(const char *path, const pth_featuretable_options *opts, pth_dataset *out, pth_error *err)
{
    /* Subject and id cells are strings: keep "007" as written rather than as the number 7. */
    const char *keep[3] = {"subject", "record_id", NULL};
    size_t nk = 2;
    if (opts && opts->subject_col && *opts->subject_col)
        keep[0] = opts->subject_col;
    if (opts && opts->id_col && *opts->id_col)
        keep[1] = opts->id_col;
    pth_table t;
    memset(out, 0, sizeof *out);
    int rc = pth_csv_read_keep(path, NULL, keep, nk, &t, err);
    if (rc)
        return rc;
    rc = pth_dataset_from_table(&t, opts, out, err);
    pth_table_free(&t);
    return rc;
}

static int check_names(const pth_dataset *ds, pth_error *err)
{
    static const char *const fixed[3] = {"subject", "label", "record_id"};
    for (size_t j = 0; j < ds->d; j++) {
        const char *nm = ds->feature_names[j] ? ds->feature_names[j] : "";
        for (int k = 0; k < 3; k++)
            if (strcmp(nm, fixed[k]) == 0)
                return pth_fail(err, PTH_ERR_INVALID, "feature %zu is named '%s', like a fixed column", j + 1, nm);
    }
    return PTH_OK;
}

int pth_dataset_write_csv(const pth_dataset *ds, const char *path, pth_error *err)
{
    int rc = check_names(ds, err);
    if (rc)
        return rc;
    pth_outfile of;
    rc = pth_outfile_open(&of, path, err);
    if (rc)
        return rc;
    FILE *fp = of.fp;
    fputs("subject,label,record_id", fp);
    for (size_t j = 0; j < ds->d; j++) {
        fputc(',', fp);
        pth_csv_write_field(fp, ds->feature_names[j] ? ds->feature_names[j] : "");
    }
    fputc('\n', fp);
    for (size_t i = 0; i < ds->n; i++) {
        pth_csv_write_field(fp, ds->subject[i] ? ds->subject[i] : "");
        if (ds->y[i] >= 0)
            fprintf(fp, ",%d,", ds->y[i]);
        else
            fputs(",,", fp);
        pth_csv_write_field(fp, ds->record_id[i] ? ds->record_id[i] : "");
        const double *x = ds->X + i * ds->d;
        for (size_t j = 0; j < ds->d; j++) {
            if (isnan(x[j]))
                fputc(',', fp);
            else
                fprintf(fp, ",%.17g", x[j]);
        }
        fputc('\n', fp);
    }
    return pth_outfile_commit(&of, err);
}
