/* k-nearest neighbours on standardised features (Euclidean distance, uniform weights):
 * the probability of a class is the fraction of the k nearest training rows carrying it,
 * as sklearn's KNeighborsClassifier(weights="uniform").
 *
 * Ties in distance are broken by training row order: among equally distant rows the
 * earlier one is nearer (a stable order; sklearn's brute-force search breaks such ties by
 * an unstable partition, so exact ties may differ from it).  k larger than the number of
 * training rows is reduced to that number (sklearn would refuse), so small
 * cross-validation folds still work. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learner_impl.h"

typedef struct {
    int k;
} knn_opts;

static const pth_param_spec knn_specs[] = {
    {"k", PTH_PARAM_INT, 1, 1e6, offsetof(knn_opts, k), NULL},
};

typedef struct {
    size_t n, d;
    int k, n_classes;
    double *X; /* n * d training rows (standardised) */
    int *y;
} knn_state;

static void knn_free(void *state)
{
    knn_state *s = state;
    if (s) {
        free(s->X);
        free(s->y);
    }
    free(s);
}

static knn_state *knn_alloc(size_t n, size_t d)
{
    knn_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->X = malloc(n * d * sizeof *s->X);
    s->y = malloc(n * sizeof *s->y);
    if (!s->X || !s->y) {
        knn_free(s);
        return NULL;
    }
    s->n = n;
    s->d = d;
    return s;
}

static int knn_fit(const pth_fit_input *in, void **state, pth_error *err)
{
    knn_opts o = {5};
    int rc = pth_params_parse("knn", knn_specs, 1, in->params, in->n_params, &o, err);
    if (rc)
        return rc;
    knn_state *s = knn_alloc(in->n, in->d);
    if (!s)
        return pth_fail(err, PTH_ERR_NOMEM, "knn: out of memory for %zu training rows", in->n);
    memcpy(s->X, in->X, in->n * in->d * sizeof *s->X);
    memcpy(s->y, in->y, in->n * sizeof *s->y);
    s->k = (size_t)o.k > in->n ? (int)in->n : o.k;
    s->n_classes = in->n_classes;
    *state = s;
    return PTH_OK;
}

/* Keeps the k smallest (distance, index) pairs sorted; a later row with an equal
 * distance never displaces an earlier one, which gives the documented tie-break. */
static void insert_best(double *bd, size_t *bi, size_t *cnt, size_t k, double dist, size_t idx)
{
    if (*cnt == k && !(dist < bd[k - 1]))
        return;
    size_t pos = *cnt < k ? (*cnt)++ : k - 1;
    while (pos > 0 && dist < bd[pos - 1]) {
        bd[pos] = bd[pos - 1];
        bi[pos] = bi[pos - 1];
        pos--;
    }
    bd[pos] = dist;
    bi[pos] = idx;
}

static int knn_predict(const void *state, const double *X, size_t n, double *proba, pth_error *err)
{
    const knn_state *s = state;
    size_t k = (size_t)s->k, nc = (size_t)s->n_classes;
    double *bd = malloc(k * sizeof *bd);
    size_t *bi = malloc(k * sizeof *bi);
    if (!bd || !bi) {
        free(bd);
        free(bi);
        return pth_fail(err, PTH_ERR_NOMEM, "knn: out of memory");
    }
    for (size_t q = 0; q < n; q++) {
        const double *x = X + q * s->d;
        size_t cnt = 0;
        for (size_t i = 0; i < s->n; i++) {
            const double *t = s->X + i * s->d;
            /* Once k rows are held, a partial sum that already reaches the k-th distance
             * can only grow (terms are >= 0), so the row is rejected early; the rows kept
             * and their order are exactly those of the full computation. */
            double dist = 0, bound = cnt == k ? bd[k - 1] : INFINITY;
            for (size_t j = 0; j < s->d && dist < bound; j++)
                dist += (x[j] - t[j]) * (x[j] - t[j]);
            if (dist < bound)
                insert_best(bd, bi, &cnt, k, dist, i);
        }
        double *p = proba + q * nc;
        memset(p, 0, nc * sizeof *p);
        for (size_t c = 0; c < cnt; c++)
            p[s->y[bi[c]]] += 1.0;
        for (size_t c = 0; c < nc; c++)
            p[c] /= (double)cnt;
    }
    free(bd);
    free(bi);
    return PTH_OK;
}

static int knn_save(const void *state, pth_blob_writer *w, pth_error *err)
{
    (void)err;
    const knn_state *s = state;
    pth_blob_i32(w, s->k);
    pth_blob_u64(w, s->n);
    pth_blob_f64s(w, s->X, s->n * s->d);
    for (size_t i = 0; i < s->n; i++)
        pth_blob_i32(w, s->y[i]);
    return PTH_OK;
}

static int knn_load(pth_blob_reader *r, const pth_learner_shape *shape, void **state, pth_error *err)
{
    (void)err;
    int32_t k = pth_blob_read_i32(r);
    uint64_t n = pth_blob_read_u64(r);
    knn_state *s = NULL;
    /* Every training row takes at least 8*d + 4 bytes, which bounds n before allocating. */
    if (!pth_blob_reader_ok(r))
        ;
    else if (n == 0 || n > (r->len - r->pos) / (8 * shape->d + 4))
        pth_blob_reader_fail(r, "impossible number of training rows %llu", (unsigned long long)n);
    else if (k < 1 || (uint64_t)k > n)
        pth_blob_reader_fail(r, "k = %d is outside 1..%llu", (int)k, (unsigned long long)n);
    else if (!(s = knn_alloc((size_t)n, shape->d)))
        pth_blob_reader_fail(r, "out of memory");
    if (s) {
        s->k = k;
        s->n_classes = shape->n_classes;
        free(s->X);
        s->X = pth_blob_read_f64s(r, s->n * s->d);
        for (size_t i = 0; s->X && i < s->n * s->d; i++)
            if (!isfinite(s->X[i])) {
                pth_blob_reader_fail(r, "training value %zu is %g", i, s->X[i]);
                break;
            }
        for (size_t i = 0; i < s->n && pth_blob_reader_ok(r); i++) {
            s->y[i] = pth_blob_read_i32(r);
            if (pth_blob_reader_ok(r) && (s->y[i] < 0 || s->y[i] >= shape->n_classes))
                pth_blob_reader_fail(r, "training label %d outside 0..%d", s->y[i], shape->n_classes - 1);
        }
    }
    if (!pth_blob_reader_ok(r)) {
        knn_free(s);
        return PTH_ERR_FORMAT;
    }
    *state = s;
    return PTH_OK;
}

const pth_learner_ops pth_learner_knn = {
    "knn", "k-nearest neighbours, Euclidean on standardised features, uniform weights; param k (5)",
    PTH_PREP_IMPUTE | PTH_PREP_STANDARDISE, knn_fit, knn_predict, knn_save, knn_load, knn_free,
};
