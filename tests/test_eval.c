/* The protocol runner with an injected, deterministic fake learner: identical results for
 * any thread count, the same folds for every learner, no record (and, for subject-wise
 * protocols, no subject) predicted by a model that saw it, writers' output. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/eval.h"
#include "pathos/io.h"
#include "pathos/rng.h"

/* ---- fake learner ------------------------------------------------------------------- *
 * Features: x0 = label + noise, x1 = row number, x2 = subject number.  The model is a
 * threshold halfway between the class means of x0, plus an optional "bias" param.  It
 * remembers which rows and subjects it was trained on: predicting a row it has seen gives
 * exactly 0.999 and a seen subject 0.998, so leakage is visible in the out-of-fold output. */

#define MAX_ROWS 256
#define MAX_FITS 4096

typedef struct {
    double mid, bias;
    unsigned char seen_row[MAX_ROWS], seen_subject[MAX_ROWS];
} fake_model;

typedef struct {
    pthread_mutex_t lock;
    size_t n_fits;
    unsigned long long train_hash[MAX_FITS]; /* sum over training rows of a row hash */
    char learner_tag[MAX_FITS][32];
    int fail_on_fit; /* fail the fit whose training part excludes row fail_row */
    size_t fail_row;
} fake_ctx;

/* Nonlinear (splitmix64 finaliser) so that sums over different row sets do not collide. */
static unsigned long long row_hash(size_t row)
{
    unsigned long long z = (row + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void *fake_fit(void *vctx, const pth_learner_config *cfg, const double *X, const int *y, size_t n, size_t d,
                      int n_classes, const char *const *names, pth_error *err)
{
    (void)names;
    fake_ctx *ctx = vctx;
    fake_model *m = calloc(1, sizeof *m);
    if (!m || d != 3 || n_classes != 2) {
        free(m);
        pth_fail(err, PTH_ERR_INVALID, "fake: bad shape");
        return NULL;
    }
    double s[2] = {0, 0}, c[2] = {0, 0};
    unsigned long long h = 0;
    int excludes_fail_row = 1;
    for (size_t i = 0; i < n; i++) {
        s[y[i]] += X[i * 3];
        c[y[i]]++;
        size_t row = (size_t)X[i * 3 + 1];
        m->seen_row[row] = 1;
        m->seen_subject[(size_t)X[i * 3 + 2]] = 1;
        h += row_hash(row);
        excludes_fail_row &= row != ctx->fail_row;
    }
    m->mid = (s[0] / c[0] + s[1] / c[1]) / 2;
    for (size_t j = 0; j < cfg->n_params; j++)
        if (strcmp(cfg->params[j].key, "bias") == 0)
            m->bias = atof(cfg->params[j].value);
    if (ctx->fail_on_fit && excludes_fail_row) {
        free(m);
        pth_fail(err, PTH_ERR_INVALID, "fake: refusing this fold");
        return NULL;
    }
    pthread_mutex_lock(&ctx->lock);
    if (ctx->n_fits < MAX_FITS) {
        ctx->train_hash[ctx->n_fits] = h;
        snprintf(ctx->learner_tag[ctx->n_fits], 32, "%s", cfg->n_params ? cfg->params[0].value : "-");
        ctx->n_fits++;
    }
    pthread_mutex_unlock(&ctx->lock);
    return m;
}

static int fake_predict(void *vctx, const void *model, const double *X, size_t n, double *proba, pth_error *err)
{
    (void)vctx;
    (void)err;
    const fake_model *m = model;
    for (size_t i = 0; i < n; i++) {
        double p = 1 / (1 + exp(-4 * (X[i * 3] - m->mid))) + m->bias;
        p = p < 0 ? 0 : p > 1 ? 1 : p;
        if (m->seen_subject[(size_t)X[i * 3 + 2]])
            p = 0.998;
        if (m->seen_row[(size_t)X[i * 3 + 1]])
            p = 0.999;
        proba[2 * i] = 1 - p;
        proba[2 * i + 1] = p;
    }
    return PTH_OK;
}

static void fake_release(void *vctx, void *model)
{
    (void)vctx;
    free(model);
}

/* ---- fixtures ------------------------------------------------------------------------ */

/* 12 subjects x 5 records; subject g has g % 3 + 1 positives (stratification matters). */
static void make_dataset(pth_dataset *ds)
{
    pth_error err;
    CHECK_OK(pth_dataset_alloc(ds, 60, 3, &err), &err);
    ds->n_classes = 2;
    pth_rng r;
    pth_rng_seed(&r, 11);
    for (size_t i = 0; i < 60; i++) {
        size_t g = (i * 7) % 12; /* interleaved subjects */
        size_t j = (i * 7) / 12; /* 0..4 within the subject, in some order */
        char buf[32];
        ds->y[i] = j < g % 3 + 1;
        ds->X[i * 3] = ds->y[i] + 0.8 * pth_rng_normal(&r);
        ds->X[i * 3 + 1] = (double)i;
        ds->X[i * 3 + 2] = (double)g;
        snprintf(buf, sizeof buf, "subj%02zu", g);
        ds->subject[i] = strdup(buf);
        snprintf(buf, sizeof buf, "rec%03zu", i);
        ds->record_id[i] = strdup(buf);
    }
    ds->feature_names[0] = strdup("x0");
    ds->feature_names[1] = strdup("row");
    ds->feature_names[2] = strdup("subject");
}

static const pth_param P1[] = {{"bias", "0"}}, P2[] = {{"bias", "0.05"}}, P3[] = {{"bias", "-0.1"}};
static const pth_learner_config CFGS[3] = {
    {"fake", P1, 1, 1, 0}, {"fake", P2, 1, 1, 0}, {"fake", P3, 1, 1, 0}};

static size_t progress_calls, progress_last, progress_total;
static int progress_monotonic = 1;
static void on_progress(void *c, size_t done, size_t total, const char *what)
{
    (void)c;
    (void)what;
    progress_monotonic &= done == progress_last + 1;
    progress_last = done;
    progress_total = total;
    progress_calls++;
}

static int run(const pth_dataset *ds, pth_split_kind kind, size_t repeats, int threads, fake_ctx *ctx,
               pth_eval_result *res, pth_error *err)
{
    pth_eval_backend be = {fake_fit, fake_predict, fake_release, ctx};
    pth_eval_options o;
    pth_eval_options_init(&o);
    o.protocol = kind;
    o.k = 4;
    o.repeats = repeats;
    o.seed = 2024;
    o.threads = threads;
    o.bootstrap = 200;
    o.backend = &be;
    o.progress = on_progress;
    return pth_eval_run(ds, CFGS, NULL, 3, &o, res, err);
}

static int results_equal(const pth_eval_result *a, const pth_eval_result *b)
{
    if (a->n != b->n || a->repeats != b->repeats || a->n_folds != b->n_folds || a->n_learners != b->n_learners)
        return 0;
    int eq = memcmp(a->fold, b->fold, a->repeats * a->n * sizeof *a->fold) == 0;
    for (size_t l = 0; l < a->n_learners; l++) {
        const pth_eval_learner_result *x = &a->learners[l], *y = &b->learners[l];
        eq &= memcmp(x->oof, y->oof, a->repeats * a->n * sizeof *x->oof) == 0;
        eq &= memcmp(x->fold, y->fold, a->repeats * a->n_folds * sizeof *x->fold) == 0;
        eq &= memcmp(x->repeat, y->repeat, a->repeats * sizeof *x->repeat) == 0;
        eq &= memcmp(&x->mean, &y->mean, sizeof x->mean) == 0 && memcmp(&x->boot_lo, &y->boot_lo, sizeof x->boot_lo) == 0;
        eq &= memcmp(&x->boot_hi, &y->boot_hi, sizeof x->boot_hi) == 0;
        eq &= memcmp(&x->std, &y->std, sizeof x->std) == 0; /* NaN bits compare equal too */
        eq &= memcmp(&x->fold_mean, &y->fold_mean, sizeof x->fold_mean) == 0;
    }
    return eq;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_threads_and_folds(void)
{
    pth_dataset ds;
    make_dataset(&ds);
    pth_eval_result r1, r2, r3;
    pth_error err;
    fake_ctx c1 = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}, 0, 0};
    fake_ctx c2 = c1, c3 = c1;
    progress_calls = progress_last = 0;
    CHECK_OK(run(&ds, PTH_SPLIT_GROUP_KFOLD, 3, 1, &c1, &r1, &err), &err);
    CHECK(progress_monotonic && progress_calls == progress_total && progress_total == 3 * 4 * 3 + 3);
    progress_last = 0;
    CHECK_OK(run(&ds, PTH_SPLIT_GROUP_KFOLD, 3, 2, &c2, &r2, &err), &err);
    progress_last = 0;
    CHECK_OK(run(&ds, PTH_SPLIT_GROUP_KFOLD, 3, 5, &c3, &r3, &err), &err);
    CHECK(progress_monotonic);
    CHECK(results_equal(&r1, &r2));
    CHECK(results_equal(&r1, &r3));
    CHECK(r1.repeats == 3 && r1.n_folds == 4 && r1.n_learners == 3 && c1.n_fits == 36);

    /* Every learner was trained on exactly the training parts implied by res.fold. */
    int same_folds = 1;
    for (size_t r = 0; r < 3; r++)
        for (size_t f = 0; f < 4; f++) {
            unsigned long long h = 0;
            for (size_t i = 0; i < ds.n; i++)
                if (r1.fold[r * ds.n + i] != (int)f)
                    h += row_hash(i);
            for (size_t l = 0; l < 3; l++) {
                size_t hits = 0;
                for (size_t t = 0; t < c1.n_fits; t++)
                    hits += c1.train_hash[t] == h && strcmp(c1.learner_tag[t], CFGS[l].params[0].value) == 0;
                same_folds &= hits == 1;
            }
        }
    CHECK(same_folds);

    /* No record and no subject was predicted by a model that had seen it; all filled. */
    int clean = 1;
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < 3 * ds.n; i++)
            clean &= r1.learners[l].oof[i] != 0.999 && r1.learners[l].oof[i] != 0.998 && !isnan(r1.learners[l].oof[i]);
    CHECK(clean);
    /* Different repeats use different folds; names derive from the params. */
    CHECK(memcmp(r1.fold, r1.fold + ds.n, ds.n * sizeof *r1.fold) != 0);
    CHECK(strcmp(r1.learners[1].name, "fake(bias=0.05)") == 0);
    /* Per-repeat metrics are those of the pooled predictions; summary = mean over repeats. */
    pth_metrics m;
    CHECK_OK(pth_metrics_compute(ds.y, r1.learners[0].oof + ds.n, ds.n, 0.5, &m, &err), &err);
    CHECK(memcmp(&m, &r1.learners[0].repeat[1], sizeof m) == 0);
    double mean = 0;
    for (size_t r = 0; r < 3; r++)
        mean += r1.learners[0].repeat[r].v[PTH_M_ROC_AUC] / 3;
    CHECK_NEAR(r1.learners[0].mean.v[PTH_M_ROC_AUC], mean, 1e-12);
    CHECK(r1.learners[0].boot_lo.v[PTH_M_ROC_AUC] <= r1.learners[0].repeat[0].v[PTH_M_ROC_AUC]);
    CHECK(r1.learners[0].boot_hi.v[PTH_M_ROC_AUC] >= r1.learners[0].repeat[0].v[PTH_M_ROC_AUC]);
    CHECK(r1.learners[0].mean.v[PTH_M_ROC_AUC] > 0.6); /* the fake learner does learn */
    pth_eval_result_free(&r1);
    pth_eval_result_free(&r2);
    pth_eval_result_free(&r3);
    pth_dataset_free(&ds);
}

/* The leaky protocol shows the subject leak the fake model detects; LOSO is 1 repeat. */
static void test_protocols(void)
{
    pth_dataset ds;
    make_dataset(&ds);
    pth_eval_result res;
    pth_error err;
    fake_ctx c = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}, 0, 0};
    CHECK_OK(run(&ds, PTH_SPLIT_RECORD_KFOLD_LEAKY, 2, 2, &c, &res, &err), &err);
    size_t seen_subject = 0, seen_row = 0;
    for (size_t i = 0; i < 2 * ds.n; i++) {
        seen_subject += res.learners[0].oof[i] == 0.998;
        seen_row += res.learners[0].oof[i] == 0.999;
    }
    CHECK(seen_subject == 2 * ds.n && seen_row == 0);
    pth_eval_result_free(&res);

    c.n_fits = 0;
    CHECK_OK(run(&ds, PTH_SPLIT_LOSO, 5, 2, &c, &res, &err), &err);
    CHECK(res.repeats == 1 && res.n_folds == 12 && c.n_fits == 36);
    pth_eval_result_free(&res);
    pth_dataset_free(&ds);
}

/* The first failing task's error is reported, the same for any thread count. */
static void test_failure(void)
{
    pth_dataset ds;
    make_dataset(&ds);
    pth_eval_result res;
    pth_error e1, e2;
    fake_ctx c = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}, 1, 17};
    CHECK(run(&ds, PTH_SPLIT_GROUP_KFOLD, 2, 1, &c, &res, &e1) == PTH_ERR_INVALID);
    CHECK(res.learners == NULL && res.fold == NULL);
    CHECK(run(&ds, PTH_SPLIT_GROUP_KFOLD, 2, 2, &c, &res, &e2) == PTH_ERR_INVALID);
    CHECK(strcmp(e1.msg, e2.msg) == 0);
    CHECK(strstr(e1.msg, "fake(bias=0), repeat 0, fold") != NULL && strstr(e1.msg, "refusing") != NULL);
    /* Argument errors. */
    pth_eval_backend be = {fake_fit, fake_predict, fake_release, &c};
    pth_eval_options o;
    pth_eval_options_init(&o);
    o.backend = &be;
    o.k = 13;
    CHECK(pth_eval_run(&ds, CFGS, NULL, 1, &o, &res, &e1) == PTH_ERR_INVALID);
    CHECK(strstr(e1.msg, "subjects") != NULL);
    o.k = 3;
    CHECK(pth_eval_run(&ds, CFGS, NULL, 0, &o, &res, &e1) == PTH_ERR_INVALID);
    ds.y[3] = -1;
    CHECK(pth_eval_run(&ds, CFGS, NULL, 1, &o, &res, &e1) == PTH_ERR_INVALID);
    CHECK(strstr(e1.msg, "rec003") != NULL);
    ds.y[3] = 1;
    ds.n_classes = 3;
    CHECK(pth_eval_run(&ds, CFGS, NULL, 1, &o, &res, &e1) == PTH_ERR_UNSUPPORTED);
    pth_dataset_free(&ds);
}

static size_t count_lines(const char *path)
{
    char *text = NULL;
    size_t len = 0, lines = 0;
    pth_error err;
    if (pth_read_file(path, 1 << 24, &text, &len, &err))
        return 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    free(text);
    return lines;
}

static void test_writers(void)
{
    pth_dataset ds;
    make_dataset(&ds);
    pth_eval_result res;
    pth_error err;
    fake_ctx c = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}, 0, 0};
    CHECK_OK(run(&ds, PTH_SPLIT_GROUP_KFOLD, 2, 2, &c, &res, &err), &err);
    char p_json[512], p_table[512], p_folds[512], p_pred[512], p_fm[512];
    const char *dir = pth_test_tmpdir();
    snprintf(p_json, sizeof p_json, "%s/eval.json", dir);
    snprintf(p_table, sizeof p_table, "%s/table.txt", dir);
    snprintf(p_folds, sizeof p_folds, "%s/folds.csv", dir);
    snprintf(p_pred, sizeof p_pred, "%s/pred.csv", dir);
    snprintf(p_fm, sizeof p_fm, "%s/foldmetrics.csv", dir);
    CHECK_OK(pth_eval_write_json(&res, p_json, &err), &err);
    CHECK_OK(pth_eval_write_table(&res, p_table, &err), &err);
    CHECK_OK(pth_eval_write_folds_csv(&res, p_folds, &err), &err);
    CHECK_OK(pth_eval_write_predictions_csv(&res, p_pred, &err), &err);
    CHECK_OK(pth_eval_write_fold_metrics_csv(&res, p_fm, &err), &err);
    CHECK(count_lines(p_folds) == 1 + 2 * 60);
    CHECK(count_lines(p_pred) == 1 + 3 * 2 * 60);
    CHECK(count_lines(p_fm) == 1 + 3 * 2 * 4);

    char *text = NULL;
    size_t len = 0;
    CHECK_OK(pth_read_file(p_json, 1 << 24, &text, &len, &err), &err);
    cJSON *root = cJSON_Parse(text);
    CHECK(root != NULL);
    cJSON *cfg = cJSON_GetObjectItem(root, "config");
    CHECK(cJSON_IsString(cJSON_GetObjectItem(cfg, "protocol")) &&
          strcmp(cJSON_GetObjectItem(cfg, "protocol")->valuestring, "group-kfold") == 0);
    CHECK(cJSON_GetObjectItem(cfg, "repeats")->valuedouble == 2 && cJSON_GetObjectItem(cfg, "seed")->valuedouble == 2024);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cfg, "leaky")));
    cJSON *learners = cJSON_GetObjectItem(root, "learners");
    CHECK(cJSON_GetArraySize(learners) == 3);
    cJSON *l0 = cJSON_GetArrayItem(learners, 0);
    CHECK(strcmp(cJSON_GetObjectItem(l0, "name")->valuestring, "fake(bias=0)") == 0);
    CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(l0, "params"), "bias")->valuestring, "0") == 0);
    cJSON *auc = cJSON_GetObjectItem(cJSON_GetObjectItem(l0, "summary"), "roc_auc");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(auc, "mean")));
    CHECK_NEAR(cJSON_GetObjectItem(auc, "mean")->valuedouble, res.learners[0].mean.v[PTH_M_ROC_AUC], 1e-12);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(auc, "bootstrap_ci95")) == 2);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(auc, "repeat_ci95")) == 2);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(auc, "fold_mean")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(l0, "per_repeat")) == 2);
    cJSON *pf = cJSON_GetObjectItem(l0, "per_fold");
    CHECK(cJSON_GetArraySize(pf) == 8);
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(pf, 5), "n_test") != NULL);
    CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(pf, 5), "ece") != NULL);
    cJSON_Delete(root);
    free(text);

    CHECK_OK(pth_read_file(p_table, 1 << 20, &text, &len, &err), &err);
    CHECK(text && strstr(text, "group-kfold") && strstr(text, "fake(bias=-0.1)") && strstr(text, "\xC2\xB1"));
    CHECK(text && !strstr(text, "LEAKY"));
    free(text);
    pth_eval_result_free(&res);

    /* The leaky protocol is labelled as such. */
    CHECK_OK(run(&ds, PTH_SPLIT_RECORD_KFOLD_LEAKY, 1, 1, &c, &res, &err), &err);
    CHECK_OK(pth_eval_write_table(&res, p_table, &err), &err);
    CHECK_OK(pth_read_file(p_table, 1 << 20, &text, &len, &err), &err);
    CHECK(text && strstr(text, "record-kfold-LEAKY") && strstr(text, "WARNING"));
    free(text);
    pth_eval_result_free(&res);
    pth_dataset_free(&ds);
}

/* The default backend (the real learners of pathos/learner.h), 1 vs 2 threads. */
static void test_default_backend(void)
{
    pth_dataset ds;
    make_dataset(&ds);
    const pth_learner_config cfgs[2] = {{"logreg", NULL, 0, 3, 0}, {"majority", NULL, 0, 3, 0}};
    pth_eval_options o;
    pth_eval_options_init(&o);
    o.k = 3;
    o.repeats = 2;
    o.bootstrap = 50;
    pth_eval_result r1, r2;
    pth_error err;
    o.threads = 1;
    CHECK_OK(pth_eval_run(&ds, cfgs, NULL, 2, &o, &r1, &err), &err);
    o.threads = 2;
    CHECK_OK(pth_eval_run(&ds, cfgs, NULL, 2, &o, &r2, &err), &err);
    if (r1.learners && r2.learners) {
        CHECK(results_equal(&r1, &r2));
        CHECK(r1.learners[0].mean.v[PTH_M_ROC_AUC] > 0.6);          /* x0 carries the label */
        /* Constant scores within a fold: AUC 0.5 per fold.  Pooled over folds it is not, as
         * the training prior (hence the score) of a fold anticorrelates with its test prior. */
        CHECK_NEAR(r1.learners[1].fold_mean.v[PTH_M_ROC_AUC], 0.5, 1e-12);
        CHECK(r1.learners[1].mean.v[PTH_M_ROC_AUC] < 0.5);
    }
    pth_eval_result_free(&r1);
    pth_eval_result_free(&r2);
    pth_dataset_free(&ds);
}

int main(void)
{
    test_default_backend();
    test_threads_and_folds();
    test_protocols();
    test_failure();
    test_writers();
    return pth_test_finish();
}
