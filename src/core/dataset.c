#include "pathos/dataset.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int pth_dataset_alloc(pth_dataset *ds, size_t n, size_t d, pth_error *err)
{
    memset(ds, 0, sizeof *ds);
    if (d && n > ((size_t)-1 / sizeof(double)) / d)
        return pth_fail(err, PTH_ERR_NOMEM, "dataset of %zu x %zu is too large", n, d);
    ds->n = n;
    ds->d = d;
    ds->X = calloc(n * d > 0 ? n * d : 1, sizeof *ds->X);
    ds->y = malloc((n ? n : 1) * sizeof *ds->y);
    ds->feature_names = calloc(d ? d : 1, sizeof *ds->feature_names);
    ds->subject = calloc(n ? n : 1, sizeof *ds->subject);
    ds->record_id = calloc(n ? n : 1, sizeof *ds->record_id);
    if (!ds->X || !ds->y || !ds->feature_names || !ds->subject || !ds->record_id) {
        pth_dataset_free(ds);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory allocating a %zu x %zu dataset", n, d);
    }
    for (size_t i = 0; i < n; i++)
        ds->y[i] = -1;
    return PTH_OK;
}

void pth_dataset_free(pth_dataset *ds)
{
    if (!ds)
        return;
    if (ds->feature_names)
        for (size_t j = 0; j < ds->d; j++)
            free(ds->feature_names[j]);
    if (ds->subject)
        for (size_t i = 0; i < ds->n; i++)
            free(ds->subject[i]);
    if (ds->record_id)
        for (size_t i = 0; i < ds->n; i++)
            free(ds->record_id[i]);
    free(ds->feature_names);
    free(ds->subject);
    free(ds->record_id);
    free(ds->X);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

int pth_dataset_subset(const pth_dataset *src, const size_t *idx, size_t m, pth_dataset *out, pth_error *err)
{
    int rc = pth_dataset_alloc(out, m, src->d, err);
    if (rc)
        return rc;
    out->n_classes = src->n_classes;
    int oom = 0;
    for (size_t j = 0; j < src->d; j++) {
        out->feature_names[j] = dup_or_null(src->feature_names[j]);
        oom |= src->feature_names[j] && !out->feature_names[j];
    }
    for (size_t i = 0; i < m; i++) {
        size_t r = idx[i];
        if (r >= src->n) {
            pth_dataset_free(out);
            return pth_fail(err, PTH_ERR_INTERNAL, "subset index %zu out of range (%zu rows)", r, src->n);
        }
        memcpy(out->X + i * src->d, src->X + r * src->d, src->d * sizeof(double));
        out->y[i] = src->y[r];
        out->subject[i] = dup_or_null(src->subject[r]);
        out->record_id[i] = dup_or_null(src->record_id[r]);
        oom |= (src->subject[r] && !out->subject[i]) || (src->record_id[r] && !out->record_id[i]);
    }
    if (oom) {
        pth_dataset_free(out);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory copying a dataset subset");
    }
    return PTH_OK;
}

size_t pth_dataset_n_subjects(const pth_dataset *ds)
{
    size_t g = 0;
    int *idx = pth_dataset_subject_index(ds, &g);
    free(idx);
    return g;
}

typedef struct {
    const char *s;
    size_t row;
} subj_row;

static int cmp_subj_row(const void *a, const void *b)
{
    const subj_row *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->row < y->row ? -1 : x->row > y->row);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorting (subject, row) pairs groups equal ids; each group's first element is then the
 * subject's first row, and ranking groups by that row gives ids in order of appearance. */
int *pth_dataset_subject_index(const pth_dataset *ds, size_t *n_subjects)
{
    size_t n = ds->n;
    *n_subjects = 0;
    int *out = malloc((n ? n : 1) * sizeof *out);
    subj_row *sr = malloc((n ? n : 1) * sizeof *sr);
    size_t *firsts = malloc((n ? n : 1) * sizeof *firsts);
    if (!out || !sr || !firsts) {
        free(out);
        free(sr);
        free(firsts);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        sr[i].s = ds->subject[i] ? ds->subject[i] : "";
        sr[i].row = i;
    }
    qsort(sr, n, sizeof *sr, cmp_subj_row);
    size_t groups = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || strcmp(sr[k].s, sr[k - 1].s) != 0)
            firsts[groups++] = sr[k].row;
    qsort(firsts, groups, sizeof *firsts, cmp_size);
    /* out[first row of subject] = rank; then propagate along each sorted run. */
    for (size_t g = 0; g < groups; g++)
        out[firsts[g]] = (int)g;
    for (size_t k = 0; k < n; k++)
        if (k > 0 && strcmp(sr[k].s, sr[k - 1].s) == 0)
            out[sr[k].row] = out[sr[k - 1].row];
    free(sr);
    free(firsts);
    *n_subjects = groups;
    return out;
}
