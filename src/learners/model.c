/* pth_model: input validation, preprocessing fitted on the training rows, and dispatch to
 * the learner's vtable.  Learners never see invalid input: the checks live here once. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learners/model_impl.h"

/* Upper bounds that keep every size computation below far from overflow. */
#define MAX_CLASSES 65536
#define MAX_CELLS ((size_t)1 << 40)

pth_model *pth_model_alloc(const pth_learner_ops *ops, size_t d, int n_classes)
{
    pth_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->feature_names = calloc(d ? d : 1, sizeof *m->feature_names);
    if (!m->feature_names) {
        free(m);
        return NULL;
    }
    m->ops = ops;
    m->d = d;
    m->n_classes = n_classes;
    return m;
}

void pth_model_free(pth_model *m)
{
    if (!m)
        return;
    if (m->state && m->ops)
        m->ops->free(m->state);
    for (size_t j = 0; m->feature_names && j < m->d; j++)
        free(m->feature_names[j]);
    free(m->feature_names);
    pth_prep_free(&m->prep);
    free(m);
}

const pth_prep *pth_model_prep(const pth_model *m) { return &m->prep; }
int pth_model_n_classes(const pth_model *m) { return m ? m->n_classes : 0; }
size_t pth_model_n_features(const pth_model *m) { return m ? m->d : 0; }
const char *pth_model_learner(const pth_model *m) { return m && m->ops ? m->ops->name : NULL; }

const char *const *pth_model_feature_names(const pth_model *m)
{
    return m ? (const char *const *)m->feature_names : NULL;
}

static int unknown_learner(const char *name, pth_error *err)
{
    char avail[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < pth_learner_count() && used < sizeof avail; i++) {
        int w = snprintf(avail + used, sizeof avail - used, "%s%s", i ? ", " : "", pth_learner_name(i));
        used += w > 0 ? (size_t)w : 0;
    }
    return pth_fail(err, PTH_ERR_INVALID, "unknown learner '%s' (available: %s)", name ? name : "(none)", avail);
}

/* Rejects +-inf (NaN is "missing" and allowed), naming the cell and its feature. */
static int check_finite(const double *X, size_t n, size_t d, const char *const *names, const char *what,
                        pth_error *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double v = X[i * d + j];
            if (isinf(v)) {
                const char *nm = names && names[j] ? names[j] : NULL;
                return pth_fail(err, PTH_ERR_INVALID,
                                "%s row %zu, column %zu%s%s%s (0-based): infinite value (%s); use NaN for a missing "
                                "value",
                                what, i, j, nm ? " '" : "", nm ? nm : "", nm ? "'" : "", v > 0 ? "+inf" : "-inf");
            }
        }
    return PTH_OK;
}

static int check_labels(const int *y, size_t n, int n_classes, pth_error *err)
{
    int first = y[0], two = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= n_classes)
            return pth_fail(err, PTH_ERR_INVALID, "training label of row %zu (0-based) is %d, outside 0..%d", i, y[i],
                            n_classes - 1);
        two |= y[i] != first;
    }
    if (!two)
        return pth_fail(err, PTH_ERR_INVALID,
                        "only one class (%d) in the training data; a classifier needs at least two", first);
    return PTH_OK;
}

static int check_fit_args(const pth_learner_config *cfg, const double *X, const int *y, size_t n, size_t d,
                          int n_classes, const char *const *names, pth_error *err)
{
    if (!cfg)
        return pth_fail(err, PTH_ERR_INVALID, "no learner configuration given");
    if (n == 0 || d == 0)
        return pth_fail(err, PTH_ERR_INVALID, "cannot fit on %zu rows x %zu features: need at least one of each", n,
                        d);
    if (!X || !y)
        return pth_fail(err, PTH_ERR_INVALID, "no training data given");
    if (n_classes < 2 || n_classes > MAX_CLASSES)
        return pth_fail(err, PTH_ERR_INVALID, "number of classes must be in 2..%d, got %d", MAX_CLASSES, n_classes);
    if (d > MAX_CELLS / n)
        return pth_fail(err, PTH_ERR_NOMEM, "%zu rows x %zu features is too large", n, d);
    if (cfg->n_params && !cfg->params)
        return pth_fail(err, PTH_ERR_INVALID, "%zu parameters announced but none given", cfg->n_params);
    int rc = check_labels(y, n, n_classes, err);
    return rc ? rc : check_finite(X, n, d, names, "training data", err);
}

static int copy_names(pth_model *m, const char *const *names, pth_error *err)
{
    for (size_t j = 0; names && j < m->d; j++) {
        if (!names[j])
            continue;
        size_t len = strlen(names[j]) + 1;
        m->feature_names[j] = malloc(len);
        if (!m->feature_names[j])
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory copying feature names");
        memcpy(m->feature_names[j], names[j], len);
    }
    return PTH_OK;
}

pth_model *pth_model_fit(const pth_learner_config *cfg, const double *X, const int *y, size_t n, size_t d,
                         int n_classes, const char *const *feature_names, pth_error *err)
{
    const pth_learner_ops *ops = cfg ? pth_learner_find(cfg->learner) : NULL;
    if (cfg && !ops) {
        unknown_learner(cfg->learner, err);
        return NULL;
    }
    if (check_fit_args(cfg, X, y, n, d, n_classes, feature_names, err))
        return NULL;
    pth_model *m = pth_model_alloc(ops, d, n_classes);
    double *Xp = m ? malloc(n * d * sizeof *Xp) : NULL;
    if (!Xp) {
        pth_model_free(m);
        pth_fail(err, PTH_ERR_NOMEM, "out of memory for %zu x %zu training rows", n, d);
        return NULL;
    }
    int rc = copy_names(m, feature_names, err);
    if (!rc)
        rc = pth_prep_fit(&m->prep, ops->prep, X, n, d, err);
    if (!rc) {
        pth_prep_apply(&m->prep, X, n, Xp);
        pth_fit_input in = {Xp, y, n, d, n_classes, cfg->params, cfg->n_params, cfg->seed, cfg->threads};
        rc = ops->fit(&in, &m->state, err);
    }
    free(Xp);
    if (rc) {
        pth_model_free(m);
        return NULL;
    }
    return m;
}

/* A learner bug must not leak NaN probabilities to callers. */
static int check_proba(const pth_model *m, const double *proba, size_t n, pth_error *err)
{
    size_t k = (size_t)m->n_classes;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t c = 0; c < k; c++) {
            double p = proba[i * k + c];
            if (!(p >= 0.0 && p <= 1.0))
                return pth_fail(err, PTH_ERR_INTERNAL, "learner '%s' produced probability %g for row %zu",
                                m->ops->name, p, i);
            s += p;
        }
        if (fabs(s - 1.0) > 1e-6)
            return pth_fail(err, PTH_ERR_INTERNAL, "learner '%s': probabilities of row %zu sum to %.9g",
                            m->ops->name, i, s);
    }
    return PTH_OK;
}

int pth_model_predict_proba(const pth_model *m, const double *X, size_t n, double *proba, pth_error *err)
{
    if (!m || !m->state)
        return pth_fail(err, PTH_ERR_INVALID, "no model given");
    if (n == 0)
        return PTH_OK;
    if (!X || !proba)
        return pth_fail(err, PTH_ERR_INVALID, "no data or output buffer given");
    if (m->d > MAX_CELLS / n)
        return pth_fail(err, PTH_ERR_NOMEM, "%zu rows x %zu features is too large", n, m->d);
    int rc = check_finite(X, n, m->d, (const char *const *)m->feature_names, "input", err);
    if (rc)
        return rc;
    double *Xp = malloc(n * m->d * sizeof *Xp);
    if (!Xp)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory for %zu x %zu rows", n, m->d);
    pth_prep_apply(&m->prep, X, n, Xp);
    rc = m->ops->predict_proba(m->state, Xp, n, proba, err);
    free(Xp);
    return rc ? rc : check_proba(m, proba, n, err);
}
