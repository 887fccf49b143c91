/* Learner "tabpfn": the TabPFN v2 classifier (Built with PriorLabs-TabPFN, see
 * pth_tabpfn_attribution()) as an ensemble over the raw forward pass.
 *
 * Member i sees the features in its own order and the classes under its own permutation
 * (member 0: both unchanged; the others: shuffles drawn from the seed), as TabPFN's
 * ensembling does, so the members' errors decorrelate.  Each member's probabilities are
 * softmax(logits[:K] / softmax_temperature) mapped back to the original classes; the
 * ensemble averages them.  Fitting caches each member's training context, so predicting
 * costs only the new rows (see pathos/tabpfn.h).
 *
 * Params: model=PATH (required: a TabPFN v2 .ckpt or .safetensors), n_estimators (4),
 * softmax_temperature (0.9), max_train_rows (10000; the model was trained on at most that
 * many).  At most max_num_classes (10) classes and 2000 features.
 *
 * Per-member preprocessing (tabpfn_preprocess.h), after the reference v2 classifier configs:
 * preprocess=auto (default: the first n/2 members quantile_uni_coarse + original + SVD, the
 * next n/2 none, an odd last one quantile, as the reference assigns them), none (every member sees the raw features: the behaviour before these options),
 * quantile (every member quantile + original + SVD); svd=on|off; fingerprint=auto|on|off
 * (auto: on unless preprocess=none); max_features (2000): cap on a member's feature count;
 * outlier_removal_std (-1 = auto: 12 unless preprocess=none, then 0 = off);
 * append_original=auto|on|off (auto: on below 500 features, as the reference's "auto").
 * The transforms are fitted on the stored training rows and are deterministic, so loading
 * refits them bit-identically.  Model files written before these options load as
 * preprocess=none, fingerprint=off, no outlier removal.
 *
 * Model files store the checkpoint path (not the 29 MB of weights), the training rows and
 * the options; loading reopens the checkpoint and refits the contexts. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learner_impl.h"
#include "learners/tabpfn_preprocess.h"
#include "pathos/rng.h"
#include "pathos/tabpfn.h"

typedef struct {
    const char *model;
    int n_estimators;
    double temperature;
    int max_train_rows;
    const char *preprocess, *svd, *fingerprint, *append;
    int max_features;
    double outlier_std;
} tabpfn_opts;

enum { PREP_NONE = 0, PREP_AUTO = 1, PREP_QUANTILE = 2 };
static const char *const prep_names[] = {"none", "auto", "quantile", NULL};
static const char *const onoff[] = {"on", "off", NULL};
static const char *const fp_names[] = {"auto", "on", "off", NULL};

static const pth_param_spec tabpfn_specs[] = {
    {"model", PTH_PARAM_STRING, 0, 0, offsetof(tabpfn_opts, model), NULL},
    {"n_estimators", PTH_PARAM_INT, 1, 64, offsetof(tabpfn_opts, n_estimators), NULL},
    {"softmax_temperature", PTH_PARAM_DOUBLE, 1e-3, 1e3, offsetof(tabpfn_opts, temperature), NULL},
    {"max_train_rows", PTH_PARAM_INT, 1, PTH_TABPFN_MAX_TRAIN, offsetof(tabpfn_opts, max_train_rows), NULL},
    {"preprocess", PTH_PARAM_STRING, 0, 0, offsetof(tabpfn_opts, preprocess), prep_names},
    {"svd", PTH_PARAM_STRING, 0, 0, offsetof(tabpfn_opts, svd), onoff},
    {"fingerprint", PTH_PARAM_STRING, 0, 0, offsetof(tabpfn_opts, fingerprint), fp_names},
    {"max_features", PTH_PARAM_INT, 1, PTH_TABPFN_MAX_FEATURES, offsetof(tabpfn_opts, max_features), NULL},
    {"append_original", PTH_PARAM_STRING, 0, 0, offsetof(tabpfn_opts, append), fp_names},
    {"outlier_removal_std", PTH_PARAM_DOUBLE, -1, 1e6, offsetof(tabpfn_opts, outlier_std), NULL},
};

typedef struct {
    char *path;
    pth_tabpfn *m;
    int n_est, K, n_out, max_rows;
    double temperature;
    uint64_t seed;
    size_t n, d;
    float *X;     /* n * d training rows, original column order (NaN allowed) */
    int *y;       /* n */
    size_t *fperm; /* n_est * d: member i's column j is original column fperm[i*d + j] */
    int *cperm;   /* n_est * K: original class k is class cperm[i*K + k] for member i */
    pth_tabpfn_ctx **ctx;
    int prep, svd, fingerprint, max_features; /* PREP_*, 0/1, 0/1 (resolved), cap */
    double outlier_std;                       /* resolved: 0 = off */
    int append;                               /* resolved append_original: 0/1 */
    pth_tpp pre[2];                           /* [0]: none config, [1]: quantile config */
} tabpfn_state;

/* Which preprocessing config member i uses: 0 none, 1 quantile.  auto follows the
 * reference's assignment over its list [quantile_uni_coarse, none]: _balance() repeats each
 * config n_est / 2 times in list order ([q, q, none, none] for 4), and the leftover member
 * of an odd count takes the first config (quantile). */
static int member_kind(const tabpfn_state *s, int i)
{
    if (s->prep != PREP_AUTO)
        return s->prep == PREP_QUANTILE;
    int half = s->n_est / 2;
    return i < half || i >= 2 * half;
}

static int kind_used(const tabpfn_state *s, int kind)
{
    for (int i = 0; i < s->n_est; i++)
        if (member_kind(s, i) == kind)
            return 1;
    return 0;
}

/* Member row: the leading d-wide blocks in the member's column order, the rest unchanged. */
static void permute_row(const pth_tpp *p, const size_t *fp, const float *t, float *o)
{
    size_t d = p->d, nb = pth_tpp_blocks(p), W = pth_tpp_width(p);
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < d; j++)
            o[b * d + j] = t[b * d + fp[j]];
    for (size_t j = nb * d; j < W; j++)
        o[j] = t[j];
}

/* Transforms n rows (float, original order) for every config in use: T[kind] (n x width). */
static int transform_all(const tabpfn_state *s, const float *X, size_t n, int train, float *T[2], pth_error *err)
{
    int rc = PTH_OK;
    for (int k = 0; k < 2; k++)
        T[k] = NULL;
    for (int k = 0; !rc && k < 2; k++) {
        if (!kind_used(s, k))
            continue;
        T[k] = malloc(n * pth_tpp_width(&s->pre[k]) * sizeof *T[k] + 1);
        if (!T[k])
            rc = pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory preprocessing %zu rows", n);
        else
            rc = pth_tpp_transform(&s->pre[k], X, n, train, T[k], err);
    }
    if (rc)
        free(T[0]), free(T[1]), T[0] = T[1] = NULL;
    return rc;
}

static void tabpfn_free(void *state)
{
    tabpfn_state *s = state;
    if (!s)
        return;
    for (int i = 0; s->ctx && i < s->n_est; i++)
        pth_tabpfn_ctx_free(s->ctx[i]);
    free(s->ctx);
    pth_tabpfn_free(s->m);
    free(s->path), free(s->X), free(s->y), free(s->fperm), free(s->cperm);
    pth_tpp_free(&s->pre[0]), pth_tpp_free(&s->pre[1]);
    free(s);
}

/* Permutations from the seed alone, so a loaded model rebuilds the same members. */
static void make_perms(tabpfn_state *s)
{
    for (int i = 0; i < s->n_est; i++) {
        size_t *fp = s->fperm + (size_t)i * s->d;
        for (size_t j = 0; j < s->d; j++)
            fp[j] = j;
        size_t cp[1024];
        for (int k = 0; k < s->K; k++)
            cp[k] = (size_t)k;
        if (i > 0) {
            pth_rng r;
            pth_rng_seed_stream(&r, s->seed, (uint64_t)i);
            pth_rng_shuffle(&r, fp, s->d);
            pth_rng_shuffle(&r, cp, (size_t)s->K);
        }
        for (int k = 0; k < s->K; k++)
            s->cperm[i * s->K + k] = (int)cp[k];
    }
}

/* Loads the checkpoint, checks the limits and fits one context per member. */
static int build(tabpfn_state *s, int threads, pth_error *err)
{
    if (s->n > (size_t)s->max_rows)
        return pth_fail(err, PTH_ERR_INVALID,
                        "tabpfn: %zu training rows exceed max_train_rows=%d (TabPFN v2 was trained on at most "
                        "10000; raise max_train_rows up to %d to try anyway)",
                        s->n, s->max_rows, PTH_TABPFN_MAX_TRAIN);
    if (s->d > PTH_TABPFN_MAX_FEATURES)
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn: %zu features (at most %d supported)", s->d,
                        PTH_TABPFN_MAX_FEATURES);
    if (!(s->m = pth_tabpfn_load(s->path, err))) {
        pth_error_prefix(err, "tabpfn: model=%s", s->path);
        return err ? err->code : PTH_ERR_IO;
    }
    pth_tabpfn_set_threads(s->m, threads);
    s->n_out = pth_tabpfn_get_info(s->m).n_outputs;
    if (s->K > s->n_out)
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn: %d classes, but the model supports at most %d", s->K,
                        s->n_out);
    s->fperm = malloc((size_t)s->n_est * s->d * sizeof *s->fperm);
    s->cperm = malloc((size_t)s->n_est * (size_t)s->K * sizeof *s->cperm);
    s->ctx = calloc((size_t)s->n_est, sizeof *s->ctx);
    int rc = PTH_OK;
    for (int k = 0; !rc && k < 2; k++) {
        pth_tpp_config cfg = {k, s->svd, s->fingerprint, (size_t)s->max_features, s->outlier_std, s->append};
        if (kind_used(s, k))
            rc = pth_tpp_fit(&s->pre[k], &cfg, s->X, s->n, s->d, err);
    }
    float *T[2] = {NULL, NULL};
    if (!rc)
        rc = transform_all(s, s->X, s->n, 1, T, err);
    size_t Wmax = s->d;
    for (int k = 0; k < 2; k++)
        if (T[k] && pth_tpp_width(&s->pre[k]) > Wmax)
            Wmax = pth_tpp_width(&s->pre[k]);
    float *Xp = malloc(s->n * Wmax * sizeof *Xp), *yp = malloc(s->n * sizeof *yp);
    if (!rc && (!s->fperm || !s->cperm || !s->ctx || !Xp || !yp))
        rc = pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory");
    if (!rc)
        make_perms(s);
    for (int i = 0; !rc && i < s->n_est; i++) {
        const size_t *fp = s->fperm + (size_t)i * s->d;
        const int kind = member_kind(s, i);
        const pth_tpp *p = &s->pre[kind];
        const size_t W = pth_tpp_width(p);
        for (size_t r = 0; r < s->n; r++) {
            permute_row(p, fp, T[kind] + r * W, Xp + r * W);
            yp[r] = (float)s->cperm[i * s->K + s->y[r]];
        }
        if (!(s->ctx[i] = pth_tabpfn_fit_context(s->m, Xp, yp, s->n, W, err)))
            rc = err ? err->code : PTH_ERR_NOMEM;
    }
    free(Xp), free(yp), free(T[0]), free(T[1]);
    return rc;
}

static int tabpfn_fit(const pth_fit_input *in, void **state, pth_error *err)
{
    tabpfn_opts o = {NULL, 4, 0.9, 10000, "auto", "on", "auto", "auto", PTH_TABPFN_MAX_FEATURES, -1.0};
    int rc = pth_params_parse("tabpfn", tabpfn_specs, sizeof tabpfn_specs / sizeof tabpfn_specs[0], in->params,
                              in->n_params, &o, err);
    if (rc)
        return rc;
    if (!o.model || !*o.model)
        return pth_fail(err, PTH_ERR_INVALID,
                        "learner 'tabpfn': parameter 'model' (path to a TabPFN v2 checkpoint) is required");
    if (in->n_classes > 1000)
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn: %d classes", in->n_classes);
    tabpfn_state *s = calloc(1, sizeof *s);
    if (!s)
        return pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory");
    s->n_est = o.n_estimators, s->K = in->n_classes, s->temperature = o.temperature, s->seed = in->seed;
    s->max_rows = o.max_train_rows, s->n = in->n, s->d = in->d;
    s->prep = !strcmp(o.preprocess, "none") ? PREP_NONE : !strcmp(o.preprocess, "quantile") ? PREP_QUANTILE : PREP_AUTO;
    s->svd = strcmp(o.svd, "off") != 0;
    s->fingerprint = !strcmp(o.fingerprint, "on") || (!strcmp(o.fingerprint, "auto") && s->prep != PREP_NONE);
    s->max_features = o.max_features;
    s->append = !strcmp(o.append, "on") || (!strcmp(o.append, "auto") && in->d < 500);
    s->outlier_std = o.outlier_std >= 0 ? o.outlier_std : s->prep != PREP_NONE ? 12.0 : 0.0;
    if (o.outlier_std < 0 && o.outlier_std != -1.0) {
        free(s);
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn: outlier_removal_std must be >= 0 (or -1 = auto)");
    }
    s->path = strdup(o.model);
    s->X = malloc(in->n * in->d * sizeof *s->X);
    s->y = malloc(in->n * sizeof *s->y);
    if (!s->path || !s->X || !s->y) {
        tabpfn_free(s);
        return pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory for %zu training rows", in->n);
    }
    for (size_t i = 0; i < in->n * in->d; i++)
        s->X[i] = (float)in->X[i];
    memcpy(s->y, in->y, in->n * sizeof *s->y);
    rc = build(s, in->threads, err);
    if (rc) {
        tabpfn_free(s);
        return rc;
    }
    *state = s;
    return PTH_OK;
}

static int tabpfn_predict(const void *state, const double *X, size_t n, double *proba, pth_error *err)
{
    const tabpfn_state *s = state;
    const int K = s->K, n_out = s->n_out;
    size_t Wmax = s->d;
    for (int k = 0; k < 2; k++)
        if (kind_used(s, k) && pth_tpp_width(&s->pre[k]) > Wmax)
            Wmax = pth_tpp_width(&s->pre[k]);
    float *Xf = malloc(n * s->d * sizeof *Xf + 1), *Xp = malloc(n * Wmax * sizeof *Xp + 1);
    float *lg = malloc(n * (size_t)n_out * sizeof *lg + 1), *T[2] = {NULL, NULL};
    int rc = PTH_OK;
    if (!Xf || !Xp || !lg)
        rc = pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory predicting %zu rows", n);
    for (size_t i = 0; !rc && i < n * s->d; i++)
        Xf[i] = (float)X[i];
    if (!rc)
        rc = transform_all(s, Xf, n, 0, T, err);
    memset(proba, 0, n * (size_t)K * sizeof *proba);
    for (int i = 0; !rc && i < s->n_est; i++) {
        const size_t *fp = s->fperm + (size_t)i * s->d;
        const int *cp = s->cperm + i * K;
        const int kind = member_kind(s, i);
        const size_t W = pth_tpp_width(&s->pre[kind]);
        for (size_t r = 0; r < n; r++)
            permute_row(&s->pre[kind], fp, T[kind] + r * W, Xp + r * W);
        rc = pth_tabpfn_predict_logits(s->ctx[i], Xp, n, lg, err);
        for (size_t r = 0; !rc && r < n; r++) {
            const float *l = lg + r * (size_t)n_out;
            double z[1024], mx = -INFINITY, sum = 0.0;
            for (int k = 0; k < K; k++) {
                z[k] = (double)l[cp[k]] / s->temperature;
                mx = z[k] > mx ? z[k] : mx;
            }
            for (int k = 0; k < K; k++)
                sum += (z[k] = exp(z[k] - mx));
            for (int k = 0; k < K; k++)
                proba[r * (size_t)K + (size_t)k] += z[k] / sum / s->n_est;
        }
    }
    free(Xf), free(Xp), free(lg), free(T[0]), free(T[1]);
    return rc;
}

static int tabpfn_save(const void *state, pth_blob_writer *w, pth_error *err)
{
    (void)err;
    const tabpfn_state *s = state;
    pth_blob_str(w, s->path);
    pth_blob_i32(w, s->n_est);
    pth_blob_f64(w, s->temperature);
    pth_blob_i32(w, s->max_rows);
    pth_blob_u64(w, s->seed);
    pth_blob_u64(w, s->n);
    pth_blob_f32s(w, s->X, s->n * s->d);
    for (size_t i = 0; i < s->n; i++)
        pth_blob_i32(w, s->y[i]);
    /* Appended after the original fields: files without them load as preprocess=none. */
    pth_blob_i32(w, s->prep);
    pth_blob_i32(w, s->svd);
    pth_blob_i32(w, s->fingerprint);
    pth_blob_i32(w, s->max_features);
    pth_blob_f64(w, s->outlier_std);
    pth_blob_i32(w, s->append);
    return PTH_OK;
}

static int tabpfn_load(pth_blob_reader *r, const pth_learner_shape *shape, void **state, pth_error *err)
{
    tabpfn_state *s = calloc(1, sizeof *s);
    if (!s)
        return pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory");
    s->path = pth_blob_read_str(r, 4096);
    s->n_est = pth_blob_read_i32(r);
    s->temperature = pth_blob_read_f64(r);
    s->max_rows = pth_blob_read_i32(r);
    s->seed = pth_blob_read_u64(r);
    uint64_t n = pth_blob_read_u64(r);
    s->d = shape->d, s->K = shape->n_classes;
    if (!pth_blob_reader_ok(r))
        ;
    else if (s->n_est < 1 || s->n_est > 64 || !(s->temperature >= 1e-3 && s->temperature <= 1e3) ||
             s->max_rows < 1 || s->max_rows > PTH_TABPFN_MAX_TRAIN)
        pth_blob_reader_fail(r, "tabpfn: invalid options");
    else if (n == 0 || n > (uint64_t)s->max_rows || s->d == 0 || n > (r->len - r->pos) / (4 * s->d + 4))
        pth_blob_reader_fail(r, "tabpfn: impossible number of training rows %llu", (unsigned long long)n);
    else if (shape->n_classes < 2 || shape->n_classes > 1000)
        pth_blob_reader_fail(r, "tabpfn: %d classes", shape->n_classes);
    if (pth_blob_reader_ok(r)) {
        s->n = (size_t)n;
        s->X = pth_blob_read_f32s(r, s->n * s->d);
        s->y = malloc(s->n * sizeof *s->y);
        if (!s->y)
            pth_blob_reader_fail(r, "out of memory");
        for (size_t i = 0; s->y && i < s->n && pth_blob_reader_ok(r); i++) {
            s->y[i] = pth_blob_read_i32(r);
            if (pth_blob_reader_ok(r) && (s->y[i] < 0 || s->y[i] >= s->K))
                pth_blob_reader_fail(r, "tabpfn: training label %d outside 0..%d", s->y[i], s->K - 1);
        }
    }
    s->prep = PREP_NONE, s->svd = 1, s->fingerprint = 0, s->max_features = PTH_TABPFN_MAX_FEATURES;
    s->outlier_std = 0.0, s->append = 1;
    if (pth_blob_reader_ok(r) && r->pos < r->len) {
        s->prep = pth_blob_read_i32(r);
        s->svd = pth_blob_read_i32(r);
        s->fingerprint = pth_blob_read_i32(r);
        s->max_features = pth_blob_read_i32(r);
        s->outlier_std = pth_blob_read_f64(r);
        s->append = pth_blob_read_i32(r);
        if (pth_blob_reader_ok(r) && s->append != 0 && s->append != 1)
            pth_blob_reader_fail(r, "tabpfn: invalid append_original");
        if (pth_blob_reader_ok(r) && !(s->outlier_std >= 0 && s->outlier_std <= 1e6))
            pth_blob_reader_fail(r, "tabpfn: invalid outlier_removal_std");
        if (pth_blob_reader_ok(r) &&
            (s->prep < PREP_NONE || s->prep > PREP_QUANTILE || (s->svd != 0 && s->svd != 1) ||
             (s->fingerprint != 0 && s->fingerprint != 1) || s->max_features < 1 ||
             s->max_features > PTH_TABPFN_MAX_FEATURES))
            pth_blob_reader_fail(r, "tabpfn: invalid preprocessing options");
    }
    if (!pth_blob_reader_ok(r)) {
        tabpfn_free(s);
        return pth_blob_reader_status(r, err);
    }
    int rc = build(s, 0, err);
    if (rc) {
        tabpfn_free(s);
        return rc;
    }
    *state = s;
    return PTH_OK;
}

const pth_learner_ops pth_learner_tabpfn = {
    "tabpfn",
    "TabPFN v2 foundation model (Built with PriorLabs-TabPFN); params model=PATH (required), n_estimators (4), "
    "softmax_temperature (0.9), max_train_rows (10000), preprocess (auto|none|quantile), svd (on|off), "
    "fingerprint (auto|on|off), max_features (2000), outlier_removal_std (auto: 12), append_original (auto|on|off)",
    0, /* TabPFN imputes and scales inside the model */
    tabpfn_fit,
    tabpfn_predict,
    tabpfn_save,
    tabpfn_load,
    tabpfn_free,
};
