/* Gradient-boosted trees through the C API of the system libxgboost (1.7).
 *
 * Defaults are those of Python xgboost 1.7's XGBClassifier (same library, so the same
 * model for the same data, parameters and seed): n_estimators 100, max_depth 6,
 * learning_rate 0.3, subsample 1, colsample_by{tree,level,node} 1, min_child_weight 1,
 * reg_lambda 1, reg_alpha 0, gamma 0, max_delta_step 0, scale_pos_weight 1, base_score
 * 0.5, tree_method "auto" -- which xgboost 1.7 resolves to "exact" on one machine (it
 * would pick "approx" only for distributed training or >= 2^22 rows; XGBClassifier leaves
 * it unset too).  Objective binary:logistic for two classes, multi:softprob otherwise.
 * Missing values (NaN) are handled by xgboost itself, so this learner asks the wrapper
 * for no imputation.  The seed is cfg->seed modulo 2^31.
 *
 * Threads: libgomp worker threads spin-wait between parallel regions unless
 * OMP_WAIT_POLICY=PASSIVE, and on a small, busy machine that makes a multi-threaded fit
 * 10-100x slower (measured on the 2-core dev box, 100 trees on 100x200: nthread 2 took
 * 1.2-14 s with the policy unset, 0.08-0.3 s with PASSIVE; nthread 1 took 0.12-0.19 s
 * either way).  libgomp reads OMP_WAIT_POLICY once, when it is loaded -- before main() --
 * so neither this library nor a setenv() in main() can change it (measured: no effect); a
 * program must have it in its environment at exec time, e.g. re-exec itself once with it
 * set.  What this file does: it uses cfg->threads if > 0, otherwise
 * PTH_XGB_DEFAULT_THREADS (1) -- small tabular problems gain little from more, and a
 * single thread never spins.  Param "nthread" overrides both.  Results do not depend on
 * the thread count (tested).
 *
 * The booster is stored in the model file as xgboost's JSON model (floats are written in
 * shortest round-trip form, so predictions after loading are bit-identical).  JSON rather
 * than UBJSON because a loaded model is first validated with cJSON (xgboost_check.c):
 * libxgboost's own readers are not safe on corrupt input. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <xgboost/c_api.h>

#include "learners/learner_impl.h"
#include "learners/xgboost_check.h"

#define PTH_XGB_DEFAULT_THREADS 1
#define MAX_PAYLOAD ((size_t)1 << 30)

typedef struct {
    int n_estimators, max_depth, max_bin, nthread;
    double learning_rate, subsample, colsample_bytree, colsample_bylevel, colsample_bynode;
    double min_child_weight, reg_lambda, reg_alpha, gamma, max_delta_step, scale_pos_weight, base_score;
    const char *tree_method;
} xgb_opts;

static const char *const tree_methods[] = {"auto", "exact", "approx", "hist", NULL};

#define DSPEC(key, lo, hi) {#key, PTH_PARAM_DOUBLE, lo, hi, offsetof(xgb_opts, key), NULL}
static const pth_param_spec xgb_specs[] = {
    {"n_estimators", PTH_PARAM_INT, 1, 1e6, offsetof(xgb_opts, n_estimators), NULL},
    {"max_depth", PTH_PARAM_INT, 0, 1000, offsetof(xgb_opts, max_depth), NULL},
    {"max_bin", PTH_PARAM_INT, 2, 1e6, offsetof(xgb_opts, max_bin), NULL},
    {"nthread", PTH_PARAM_INT, 1, 1024, offsetof(xgb_opts, nthread), NULL},
    DSPEC(learning_rate, 0, 1e6),
    DSPEC(subsample, 1e-9, 1),
    DSPEC(colsample_bytree, 1e-9, 1),
    DSPEC(colsample_bylevel, 1e-9, 1),
    DSPEC(colsample_bynode, 1e-9, 1),
    DSPEC(min_child_weight, 0, 1e300),
    DSPEC(reg_lambda, 0, 1e300),
    DSPEC(reg_alpha, 0, 1e300),
    DSPEC(gamma, 0, 1e300),
    DSPEC(max_delta_step, 0, 1e300),
    DSPEC(scale_pos_weight, 0, 1e300),
    DSPEC(base_score, 1e-9, 1 - 1e-9),
    {"tree_method", PTH_PARAM_STRING, 0, 0, offsetof(xgb_opts, tree_method), tree_methods},
};
#undef DSPEC
#define N_SPECS (sizeof xgb_specs / sizeof xgb_specs[0])

typedef struct {
    BoosterHandle booster;
    size_t d;
    int k, nthread;
} xgb_state;

static void xgb_free(void *state)
{
    xgb_state *s = state;
    if (s && s->booster)
        XGBoosterFree(s->booster);
    free(s);
}

/* xgboost logs warnings to stderr by default; the library must never print.  Both the
 * log callback and the global config are thread-local in xgboost 1.7, so this runs before
 * every fit, predict and load (callers may use one thread per model). */
static void quiet_log(const char *msg) { (void)msg; }

static void xgb_quiet(void)
{
    XGBRegisterLogCallback(quiet_log);
    XGBSetGlobalConfig("{\"verbosity\": 0}");
}

static int xgb_err(pth_error *err, const char *what)
{
    return pth_fail(err, PTH_ERR_INTERNAL, "xgboost: %s: %s", what, XGBGetLastError());
}

static int set_param(BoosterHandle b, const char *key, const char *value, pth_error *err)
{
    if (XGBoosterSetParam(b, key, value) != 0)
        return pth_fail(err, PTH_ERR_INVALID, "learner 'xgboost': parameter '%s' = '%s' rejected: %s", key, value,
                        XGBGetLastError());
    return PTH_OK;
}

static int set_num(BoosterHandle b, const char *key, double v, pth_error *err)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return set_param(b, key, buf, err);
}

static int set_params(BoosterHandle b, const xgb_opts *o, int k, unsigned long long seed, pth_error *err)
{
    int rc = set_param(b, "objective", k == 2 ? "binary:logistic" : "multi:softprob", err);
    if (!rc && k > 2)
        rc = set_num(b, "num_class", k, err);
    struct {
        const char *key;
        double v;
    } nums[] = {
        {"seed", (double)(seed % 2147483648ULL)}, {"nthread", o->nthread}, {"max_depth", o->max_depth},
        {"max_bin", o->max_bin}, {"eta", o->learning_rate}, {"subsample", o->subsample},
        {"colsample_bytree", o->colsample_bytree}, {"colsample_bylevel", o->colsample_bylevel},
        {"colsample_bynode", o->colsample_bynode}, {"min_child_weight", o->min_child_weight},
        {"lambda", o->reg_lambda}, {"alpha", o->reg_alpha}, {"gamma", o->gamma},
        {"max_delta_step", o->max_delta_step}, {"base_score", o->base_score},
    };
    for (size_t i = 0; !rc && i < sizeof nums / sizeof nums[0]; i++)
        rc = set_num(b, nums[i].key, nums[i].v, err);
    if (!rc && k == 2)
        rc = set_num(b, "scale_pos_weight", o->scale_pos_weight, err);
    if (!rc)
        rc = set_param(b, "tree_method", o->tree_method, err);
    return rc;
}

/* A float32 copy of X (xgboost's storage type; NaN stays NaN = missing) as a DMatrix. */
static int make_dmatrix(const double *X, size_t n, size_t d, int nthread, DMatrixHandle *dm, pth_error *err)
{
    float *f = malloc(n * d * sizeof *f);
    if (!f)
        return pth_fail(err, PTH_ERR_NOMEM, "xgboost: out of memory for %zu x %zu values", n, d);
    for (size_t i = 0; i < n * d; i++)
        f[i] = (float)X[i];
    int bad = XGDMatrixCreateFromMat_omp(f, n, d, NAN, dm, nthread);
    free(f);
    return bad ? xgb_err(err, "cannot create the data matrix") : PTH_OK;
}

static int train(xgb_state *s, const pth_fit_input *in, const xgb_opts *o, pth_error *err)
{
    DMatrixHandle dm;
    int rc = make_dmatrix(in->X, in->n, in->d, o->nthread, &dm, err);
    if (rc)
        return rc;
    float *yf = malloc(in->n * sizeof *yf);
    if (!yf)
        rc = pth_fail(err, PTH_ERR_NOMEM, "xgboost: out of memory");
    for (size_t i = 0; yf && i < in->n; i++)
        yf[i] = (float)in->y[i];
    if (!rc && XGDMatrixSetFloatInfo(dm, "label", yf, in->n) != 0)
        rc = xgb_err(err, "cannot set labels");
    if (!rc && XGBoosterCreate(&dm, 1, &s->booster) != 0)
        rc = xgb_err(err, "cannot create the booster");
    if (!rc)
        rc = set_params(s->booster, o, in->n_classes, (unsigned long long)in->seed, err);
    for (int it = 0; !rc && it < o->n_estimators; it++)
        if (XGBoosterUpdateOneIter(s->booster, it, dm) != 0)
            rc = xgb_err(err, "training failed");
    free(yf);
    XGDMatrixFree(dm);
    return rc;
}

static int default_threads(int cfg_threads)
{
    return cfg_threads > 0 ? (cfg_threads < 1024 ? cfg_threads : 1024) : PTH_XGB_DEFAULT_THREADS;
}

static int xgb_fit(const pth_fit_input *in, void **state, pth_error *err)
{
    xgb_opts o = {100, 6, 256, default_threads(in->threads), 0.3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0.5, "auto"};
    int rc = pth_params_parse("xgboost", xgb_specs, N_SPECS, in->params, in->n_params, &o, err);
    if (rc)
        return rc;
    xgb_quiet();
    xgb_state *s = calloc(1, sizeof *s);
    if (!s)
        return pth_fail(err, PTH_ERR_NOMEM, "xgboost: out of memory");
    s->d = in->d;
    s->k = in->n_classes;
    s->nthread = o.nthread;
    rc = train(s, in, &o, err);
    if (rc) {
        xgb_free(s);
        return rc;
    }
    *state = s;
    return PTH_OK;
}

static int xgb_predict(const void *state, const double *X, size_t n, double *proba, pth_error *err)
{
    const xgb_state *s = state;
    DMatrixHandle dm;
    xgb_quiet();
    int rc = make_dmatrix(X, n, s->d, s->nthread, &dm, err);
    if (rc)
        return rc;
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    static const char cfg[] =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}";
    size_t k = (size_t)s->k, per_row = k == 2 ? 1 : k;
    if (XGBoosterPredictFromDMatrix(s->booster, dm, cfg, &shape, &dim, &out) != 0)
        rc = xgb_err(err, "prediction failed");
    else if ((dim == 1 ? shape[0] : dim == 2 ? shape[0] * shape[1] : 0) != n * per_row)
        rc = pth_fail(err, PTH_ERR_INTERNAL, "xgboost: prediction has an unexpected shape");
    for (size_t i = 0; !rc && i < n; i++) {
        double sum = 0;
        if (k == 2) {
            proba[2 * i] = 1.0 - (double)out[i];
            proba[2 * i + 1] = (double)out[i];
            continue;
        }
        /* softprob rows sum to 1 only to float precision; renormalise in double. */
        for (size_t c = 0; c < k; c++)
            sum += (double)out[i * k + c];
        for (size_t c = 0; c < k; c++)
            proba[i * k + c] = (double)out[i * k + c] / sum;
    }
    XGDMatrixFree(dm);
    return rc;
}

static int xgb_save(const void *state, pth_blob_writer *w, pth_error *err)
{
    const xgb_state *s = state;
    bst_ulong len;
    const char *buf;
    if (XGBoosterSaveModelToBuffer(s->booster, "{\"format\": \"json\"}", &len, &buf) != 0)
        return xgb_err(err, "cannot serialise the booster");
    pth_blob_bytes(w, buf, (size_t)len);
    return PTH_OK;
}

/* The loaded booster must be the kind this wrapper trains: the right objective, number
 * of classes and features.  Checked from xgboost's own JSON view of its configuration. */
static int check_config(xgb_state *s, const char *what, pth_error *err)
{
    bst_ulong len, nfeat = 0;
    const char *json;
    if (XGBoosterGetNumFeature(s->booster, &nfeat) != 0 || XGBoosterSaveJsonConfig(s->booster, &len, &json) != 0)
        return xgb_err(err, "cannot inspect the loaded booster");
    cJSON *root = cJSON_ParseWithLength(json, (size_t)len);
    cJSON *lrn = cJSON_GetObjectItemCaseSensitive(root, "learner");
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lrn, "objective"), "name");
    cJSON *ncl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lrn, "learner_model_param"),
                                                  "num_class");
    const char *want = s->k == 2 ? "binary:logistic" : "multi:softprob";
    int ok = cJSON_IsString(obj) && strcmp(obj->valuestring, want) == 0 && cJSON_IsString(ncl) &&
             atoi(ncl->valuestring) == (s->k == 2 ? 0 : s->k) && nfeat == s->d;
    cJSON_Delete(root);
    if (!ok)
        return pth_fail(err, PTH_ERR_FORMAT,
                        "%s: the booster does not match the model header (%d classes, %zu features)", what, s->k,
                        s->d);
    return PTH_OK;
}

static int xgb_load(pth_blob_reader *r, const pth_learner_shape *shape, void **state, pth_error *err)
{
    size_t len;
    const void *buf = pth_blob_read_bytes(r, MAX_PAYLOAD, &len);
    if (!pth_blob_reader_ok(r))
        return PTH_ERR_FORMAT;
    if (len == 0) {
        pth_blob_reader_fail(r, "empty booster");
        return PTH_ERR_FORMAT;
    }
    char why[256];
    if (pth_xgb_check_json(buf, len, shape->d, shape->n_classes, why, sizeof why) != 0) {
        pth_blob_reader_fail(r, "invalid xgboost model: %s", why);
        return PTH_ERR_FORMAT;
    }
    xgb_quiet();
    xgb_state *s = calloc(1, sizeof *s);
    if (!s)
        return pth_fail(err, PTH_ERR_NOMEM, "xgboost: out of memory");
    s->d = shape->d;
    s->k = shape->n_classes;
    s->nthread = default_threads(0);
    int rc = PTH_OK;
    if (XGBoosterCreate(NULL, 0, &s->booster) != 0)
        rc = xgb_err(err, "cannot create the booster");
    else if (XGBoosterLoadModelFromBuffer(s->booster, buf, len) != 0)
        rc = pth_fail(err, PTH_ERR_FORMAT, "%s: xgboost rejected the booster: %s", r->what, XGBGetLastError());
    if (!rc)
        rc = check_config(s, r->what, err);
    if (!rc)
        rc = set_num(s->booster, "nthread", s->nthread, err);
    if (rc) {
        xgb_free(s);
        return rc;
    }
    *state = s;
    return PTH_OK;
}

const pth_learner_ops pth_learner_xgboost = {
    "xgboost", "gradient-boosted trees (libxgboost; XGBClassifier defaults); params n_estimators, max_depth, "
               "learning_rate, subsample, colsample_bytree, reg_lambda, ...",
    0, xgb_fit, xgb_predict, xgb_save, xgb_load, xgb_free,
};
