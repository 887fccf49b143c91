/* Majority-class baseline: predicts the training class frequencies (the prior) for every
 * row, so its argmax is the most frequent class (sklearn DummyClassifier("prior")). */
#include <math.h>
#include <stdlib.h>

#include "learners/learner_impl.h"

typedef struct {
    int k;
    double *prior;
} majority_state;

static void majority_free(void *state)
{
    majority_state *s = state;
    if (s)
        free(s->prior);
    free(s);
}

static majority_state *majority_new(int k)
{
    majority_state *s = calloc(1, sizeof *s);
    if (s && !(s->prior = calloc((size_t)k, sizeof *s->prior))) {
        free(s);
        s = NULL;
    }
    if (s)
        s->k = k;
    return s;
}

static int majority_fit(const pth_fit_input *in, void **state, pth_error *err)
{
    int rc = pth_params_parse("majority", NULL, 0, in->params, in->n_params, NULL, err);
    if (rc)
        return rc;
    majority_state *s = majority_new(in->n_classes);
    if (!s)
        return pth_fail(err, PTH_ERR_NOMEM, "majority: out of memory");
    for (size_t i = 0; i < in->n; i++)
        s->prior[in->y[i]] += 1.0;
    for (int c = 0; c < s->k; c++)
        s->prior[c] /= (double)in->n;
    *state = s;
    return PTH_OK;
}

static int majority_predict(const void *state, const double *X, size_t n, double *proba, pth_error *err)
{
    (void)X;
    (void)err;
    const majority_state *s = state;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < s->k; c++)
            proba[i * (size_t)s->k + (size_t)c] = s->prior[c];
    return PTH_OK;
}

static int majority_save(const void *state, pth_blob_writer *w, pth_error *err)
{
    (void)err;
    const majority_state *s = state;
    pth_blob_f64s(w, s->prior, (size_t)s->k);
    return PTH_OK;
}

static int majority_load(pth_blob_reader *r, const pth_learner_shape *shape, void **state, pth_error *err)
{
    (void)err;
    majority_state *s = majority_new(shape->n_classes);
    if (!s) {
        pth_blob_reader_fail(r, "out of memory");
        return PTH_ERR_NOMEM;
    }
    free(s->prior);
    s->prior = pth_blob_read_f64s(r, (size_t)shape->n_classes);
    double sum = 0;
    for (int c = 0; s->prior && c < s->k; c++) {
        if (!(s->prior[c] >= 0 && s->prior[c] <= 1))
            pth_blob_reader_fail(r, "class frequency %g is not a probability", s->prior[c]);
        sum += s->prior[c];
    }
    if (pth_blob_reader_ok(r) && fabs(sum - 1.0) > 1e-9)
        pth_blob_reader_fail(r, "class frequencies sum to %.12g, not 1", sum);
    if (!pth_blob_reader_ok(r)) {
        majority_free(s);
        return PTH_ERR_FORMAT;
    }
    *state = s;
    return PTH_OK;
}

const pth_learner_ops pth_learner_majority = {
    "majority", "baseline: predicts the training class frequencies for every row", 0,
    majority_fit, majority_predict, majority_save, majority_load, majority_free,
};
