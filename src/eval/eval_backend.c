/* The runner's default backend: the real learners of pathos/learner.h.  Kept in its own
 * file so that programs which always inject a backend (the eval tests) do not need it. */
#include "pathos/eval.h"

static void *fit_real(void *ctx, const pth_learner_config *cfg, const double *X, const int *y, size_t n, size_t d,
                      int n_classes, const char *const *feature_names, pth_error *err)
{
    (void)ctx;
    return pth_model_fit(cfg, X, y, n, d, n_classes, feature_names, err);
}

static int predict_real(void *ctx, const void *model, const double *X, size_t n, double *proba, pth_error *err)
{
    (void)ctx;
    return pth_model_predict_proba((const pth_model *)model, X, n, proba, err);
}

static void release_real(void *ctx, void *model)
{
    (void)ctx;
    pth_model_free((pth_model *)model);
}

const pth_eval_backend *pth_eval_default_backend(void)
{
    static const pth_eval_backend backend = {fit_real, predict_real, release_real, NULL};
    return &backend;
}
