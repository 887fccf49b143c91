/* The protocol runner (see pathos/eval.h): folds, a pool of worker threads over
 * (repeat, fold, learner) tasks, then per-learner aggregation. */
#include "pathos/eval.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NULL copies as "" (strdup would crash on it). */
static char *str_or_empty_dup(const char *s) { return strdup(s ? s : ""); }

/* Bootstrap resamples come from their own stream, far from the repeat streams 0..R-1. */
#define BOOTSTRAP_STREAM 0x8000000000626f6fULL

void pth_eval_options_init(pth_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->protocol = PTH_SPLIT_GROUP_KFOLD;
    o->k = 5;
    o->repeats = 1;
    o->seed = 42;
    o->threads = 0;
    o->threshold = PTH_DEFAULT_THRESHOLD;
    o->bootstrap = 1000;
}

/* ---- result bookkeeping ------------------------------------------------------------- */

static void learner_result_free(pth_eval_learner_result *lr)
{
    free(lr->name);
    free(lr->learner);
    for (size_t j = 0; j < lr->n_params; j++) {
        if (lr->param_key)
            free(lr->param_key[j]);
        if (lr->param_value)
            free(lr->param_value[j]);
    }
    free(lr->param_key);
    free(lr->param_value);
    free(lr->oof);
    free(lr->fold);
    free(lr->repeat);
}

void pth_eval_result_free(pth_eval_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n; i++) {
        if (res->record_id)
            free(res->record_id[i]);
        if (res->subject)
            free(res->subject[i]);
    }
    free(res->record_id);
    free(res->subject);
    free(res->y);
    free(res->fold);
    free(res->fold_size);
    for (size_t l = 0; l < res->n_learners && res->learners; l++)
        learner_result_free(&res->learners[l]);
    free(res->learners);
    memset(res, 0, sizeof *res);
}

/* "logreg" or "logreg(C=0.1,penalty=l2)", unless the caller named it. */
static char *derive_name(const pth_learner_config *cfg, const char *given)
{
    if (given && *given)
        return str_or_empty_dup(given);
    const char *base = cfg->learner ? cfg->learner : "?";
    size_t len = strlen(base) + 3;
    for (size_t j = 0; j < cfg->n_params; j++)
        len += strlen(cfg->params[j].key ? cfg->params[j].key : "") +
               strlen(cfg->params[j].value ? cfg->params[j].value : "") + 2;
    char *s = malloc(len);
    if (!s)
        return NULL;
    strcpy(s, base);
    for (size_t j = 0; j < cfg->n_params; j++) {
        strcat(s, j ? "," : "(");
        strcat(s, cfg->params[j].key ? cfg->params[j].key : "");
        strcat(s, "=");
        strcat(s, cfg->params[j].value ? cfg->params[j].value : "");
    }
    if (cfg->n_params)
        strcat(s, ")");
    return s;
}

/* Appends "#2", "#3", ... to names that repeat an earlier one. */
static int dedupe_names(pth_eval_result *res)
{
    for (size_t l = 1; l < res->n_learners; l++) {
        size_t same = 1;
        for (size_t m = 0; m < l; m++)
            same += strcmp(res->learners[m].name, res->learners[l].name) == 0;
        if (same == 1)
            continue;
        size_t len = strlen(res->learners[l].name) + 24;
        char *s = malloc(len);
        if (!s)
            return -1;
        snprintf(s, len, "%s#%zu", res->learners[l].name, same);
        free(res->learners[l].name);
        res->learners[l].name = s;
    }
    return 0;
}

static int init_learner(pth_eval_learner_result *lr, const pth_learner_config *cfg, const char *name, size_t n,
                        size_t repeats, size_t n_folds)
{
    lr->name = derive_name(cfg, name);
    lr->learner = str_or_empty_dup(cfg->learner);
    lr->seed = cfg->seed;
    lr->param_key = calloc(cfg->n_params ? cfg->n_params : 1, sizeof *lr->param_key);
    lr->param_value = calloc(cfg->n_params ? cfg->n_params : 1, sizeof *lr->param_value);
    if (!lr->name || !lr->learner || !lr->param_key || !lr->param_value)
        return -1;
    lr->n_params = cfg->n_params;
    for (size_t j = 0; j < cfg->n_params; j++) {
        lr->param_key[j] = str_or_empty_dup(cfg->params[j].key);
        lr->param_value[j] = str_or_empty_dup(cfg->params[j].value);
        if (!lr->param_key[j] || !lr->param_value[j])
            return -1;
    }
    lr->oof = malloc(repeats * n * sizeof *lr->oof);
    lr->fold = malloc(repeats * n_folds * sizeof *lr->fold);
    lr->repeat = malloc(repeats * sizeof *lr->repeat);
    if (!lr->oof || !lr->fold || !lr->repeat)
        return -1;
    for (size_t i = 0; i < repeats * n; i++)
        lr->oof[i] = NAN;
    for (size_t i = 0; i < repeats * n_folds; i++)
        pth_metrics_set_nan(&lr->fold[i]);
    for (size_t i = 0; i < repeats; i++)
        pth_metrics_set_nan(&lr->repeat[i]);
    return 0;
}

/* Copies the dataset's identifying columns and labels into the result. */
static int init_result(pth_eval_result *res, const pth_dataset *ds)
{
    size_t n = ds->n;
    res->n = n;
    res->record_id = calloc(n, sizeof *res->record_id);
    res->subject = calloc(n, sizeof *res->subject);
    res->y = malloc(n * sizeof *res->y);
    if (!res->record_id || !res->subject || !res->y)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char rowname[32];
        snprintf(rowname, sizeof rowname, "%zu", i);
        res->record_id[i] = str_or_empty_dup(ds->record_id[i] ? ds->record_id[i] : rowname);
        res->subject[i] = str_or_empty_dup(ds->subject[i]);
        res->y[i] = ds->y[i];
        res->n_positive += ds->y[i] == 1;
        if (!res->record_id[i] || !res->subject[i])
            return -1;
    }
    return 0;
}

/* ---- tasks ------------------------------------------------------------------------------ */

typedef struct {
    const pth_dataset *ds;
    const pth_learner_config *cfgs;
    const pth_eval_options *opt;
    const pth_eval_backend *be;
    pth_eval_result *res;
    size_t *rows;  /* repeats x n: row numbers grouped by fold */
    size_t *start; /* repeats x (n_folds+1): fold f of repeat r is rows[r*n + start[..f] ..] */
    int nthreads;
    size_t n_fit_tasks, n_tasks;

    pthread_mutex_t lock;
    size_t next, done;
    int abort;
    size_t fail_task; /* lowest failing task index, n_tasks when none */
    pth_error fail_err;
} runner;

static void task_fail(runner *rn, size_t t, const pth_error *e)
{
    pthread_mutex_lock(&rn->lock);
    if (t < rn->fail_task) {
        rn->fail_task = t;
        rn->fail_err = *e;
    }
    rn->abort = 1;
    pthread_mutex_unlock(&rn->lock);
}

static void task_done(runner *rn, const char *what)
{
    pthread_mutex_lock(&rn->lock);
    rn->done++;
    if (rn->opt->progress)
        rn->opt->progress(rn->opt->progress_ctx, rn->done, rn->n_tasks, what);
    pthread_mutex_unlock(&rn->lock);
}

static void gather(const pth_dataset *ds, const size_t *idx, size_t m, double *X, int *y)
{
    for (size_t i = 0; i < m; i++) {
        memcpy(X + i * ds->d, ds->X + idx[i] * ds->d, ds->d * sizeof *X);
        y[i] = ds->y[idx[i]];
    }
}

/* Fit on every fold but f of repeat r, predict fold f, store P(y=1) and the fold's metrics. */
static int fit_task(runner *rn, size_t r, size_t f, size_t l, pth_error *e)
{
    const pth_dataset *ds = rn->ds;
    size_t n = ds->n, F = rn->res->n_folds, d = ds->d;
    const size_t *rows = rn->rows + r * n, *st = rn->start + r * (F + 1);
    size_t t0 = st[f], t1 = st[f + 1], n_test = t1 - t0, n_train = n - n_test;
    size_t *train = malloc((n_train ? n_train : 1) * sizeof *train);
    double *X = malloc(((n_train > n_test ? n_train : n_test) * d + 1) * sizeof *X);
    int *y = malloc((n_train + n_test + 1) * sizeof *y);
    double *proba = malloc((n_test * 2 + 1) * sizeof *proba);
    double *p1 = malloc((n_test + 1) * sizeof *p1);
    void *model = NULL;
    int rc = PTH_OK;
    if (!train || !X || !y || !proba || !p1) {
        rc = pth_fail(e, PTH_ERR_NOMEM, "out of memory for a fold of %zu records", n);
        goto done;
    }
    memcpy(train, rows, t0 * sizeof *train);
    memcpy(train + t0, rows + t1, (n - t1) * sizeof *train);
    gather(ds, train, n_train, X, y);
    pth_learner_config cfg = rn->cfgs[l];
    if (rn->nthreads > 1 && cfg.threads == 0)
        cfg.threads = 1;
    model = rn->be->fit(rn->be->ctx, &cfg, X, y, n_train, d, ds->n_classes, (const char *const *)ds->feature_names,
                        e);
    if (!model) {
        rc = e->code ? (int)e->code : pth_fail(e, PTH_ERR_INTERNAL, "fit returned no model");
        goto done;
    }
    gather(ds, rows + t0, n_test, X, y);
    rc = rn->be->predict_proba(rn->be->ctx, model, X, n_test, proba, e);
    if (rc)
        goto done;
    pth_eval_learner_result *lr = &rn->res->learners[l];
    for (size_t j = 0; j < n_test; j++) {
        p1[j] = proba[2 * j + 1];
        lr->oof[r * n + rows[t0 + j]] = p1[j];
    }
    rc = pth_metrics_compute(y, p1, n_test, rn->opt->threshold, &lr->fold[r * F + f], e);
done:
    if (model)
        rn->be->release(rn->be->ctx, model);
    free(train);
    free(X);
    free(y);
    free(proba);
    free(p1);
    if (rc)
        pth_error_prefix(e, "%s, repeat %zu, fold %zu", rn->res->learners[l].name, r, f);
    return rc;
}

/* Per-repeat metrics on pooled out-of-fold predictions, summary over repeats, bootstrap. */
static int summary_task(runner *rn, size_t l, pth_error *e)
{
    pth_eval_result *res = rn->res;
    pth_eval_learner_result *lr = &res->learners[l];
    size_t n = res->n, R = res->repeats;
    int rc = PTH_OK;
    for (size_t r = 0; r < R && !rc; r++)
        rc = pth_metrics_compute(res->y, lr->oof + r * n, n, res->threshold, &lr->repeat[r], e);
    size_t F = res->n_folds;
    double *v = malloc(R * F * sizeof *v);
    if (!rc && !v)
        rc = pth_fail(e, PTH_ERR_NOMEM, "out of memory summarising repeats");
    for (int m = 0; m < PTH_M_COUNT && !rc; m++) {
        for (size_t r = 0; r < R; r++)
            v[r] = lr->repeat[r].v[m];
        pth_mean_std(v, R, &lr->mean.v[m], &lr->std.v[m]);
        lr->repeat_lo.v[m] = pth_quantile(v, R, 0.025);
        lr->repeat_hi.v[m] = pth_quantile(v, R, 0.975);
        for (size_t i = 0; i < R * F; i++)
            v[i] = lr->fold[i].v[m];
        double sd;
        pth_mean_std(v, R * F, &lr->fold_mean.v[m], &sd);
    }
    free(v);
    pth_metrics_set_nan(&lr->boot_lo);
    pth_metrics_set_nan(&lr->boot_hi);
    if (!rc && res->bootstrap > 0)
        rc = pth_bootstrap_ci(res->y, lr->oof, n, res->threshold, res->bootstrap, 0.05,
                              res->seed ^ BOOTSTRAP_STREAM, &lr->boot_lo, &lr->boot_hi, e);
    if (rc)
        pth_error_prefix(e, "%s: summary", lr->name);
    return rc;
}

static void run_task(runner *rn, size_t t)
{
    pth_error e;
    pth_error_clear(&e);
    char what[256];
    int rc;
    if (t < rn->n_fit_tasks) {
        size_t L = rn->res->n_learners, F = rn->res->n_folds;
        size_t r = t / (F * L), f = (t / L) % F, l = t % L;
        rc = fit_task(rn, r, f, l, &e);
        snprintf(what, sizeof what, "repeat %zu fold %zu %s", r, f, rn->res->learners[l].name);
    } else {
        size_t l = t - rn->n_fit_tasks;
        rc = summary_task(rn, l, &e);
        snprintf(what, sizeof what, "summary %s", rn->res->learners[l].name);
    }
    if (rc) {
        if (e.code == PTH_OK)
            e.code = (pth_code)rc;
        task_fail(rn, t, &e);
    }
    else
        task_done(rn, what);
}

/* Tasks are claimed in index order and a claimed task always runs, so every task before
 * the first failure runs too: the reported error is the same for any thread count. */
static void run_range(runner *rn, size_t end)
{
    for (;;) {
        pthread_mutex_lock(&rn->lock);
        size_t t = rn->next;
        int stop = rn->abort || t >= end;
        if (!stop)
            rn->next++;
        pthread_mutex_unlock(&rn->lock);
        if (stop)
            return;
        run_task(rn, t);
    }
}

typedef struct {
    runner *rn;
    size_t end;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *wa = arg;
    run_range(wa->rn, wa->end);
    return NULL;
}

/* Runs tasks [rn->next, end) on rn->nthreads threads (the caller's thread included). */
static void run_parallel(runner *rn, size_t end)
{
    size_t todo = end - rn->next;
    size_t extra = (size_t)rn->nthreads > todo ? (todo ? todo - 1 : 0) : (size_t)rn->nthreads - 1;
    pthread_t *th = malloc((extra ? extra : 1) * sizeof *th);
    worker_arg wa = {rn, end};
    size_t started = 0;
    for (size_t i = 0; th && i < extra; i++)
        if (pthread_create(&th[i], NULL, worker, &wa) == 0)
            started++;
    run_range(rn, end);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
}

/* Rows of each repeat grouped by fold (stable), with fold start offsets and sizes. */
static int index_folds(runner *rn)
{
    pth_eval_result *res = rn->res;
    size_t n = res->n, F = res->n_folds, R = res->repeats;
    rn->rows = malloc(R * n * sizeof *rn->rows);
    rn->start = calloc(R * (F + 1), sizeof *rn->start);
    res->fold_size = calloc(R * F, sizeof *res->fold_size);
    if (!rn->rows || !rn->start || !res->fold_size)
        return -1;
    for (size_t r = 0; r < R; r++) {
        size_t *st = rn->start + r * (F + 1), *sz = res->fold_size + r * F;
        const int *fold = res->fold + r * n;
        for (size_t i = 0; i < n; i++)
            sz[fold[i]]++;
        for (size_t f = 0; f < F; f++)
            st[f + 1] = st[f] + sz[f];
        size_t *pos = malloc((F ? F : 1) * sizeof *pos);
        if (!pos)
            return -1;
        memcpy(pos, st, F * sizeof *pos);
        for (size_t i = 0; i < n; i++)
            rn->rows[r * n + pos[fold[i]]++] = i;
        free(pos);
    }
    return 0;
}

static int check_args(const pth_dataset *ds, const pth_learner_config *cfgs, size_t n_learners,
                      const pth_eval_options *opt, pth_error *err)
{
    if (ds->n == 0)
        return pth_fail(err, PTH_ERR_INVALID, "cannot evaluate on an empty dataset");
    if (n_learners == 0 || !cfgs)
        return pth_fail(err, PTH_ERR_INVALID, "no learners to evaluate");
    if (ds->n_classes != 2)
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "evaluation supports binary labels only (dataset has %d classes)",
                        ds->n_classes);
    for (size_t i = 0; i < ds->n; i++)
        if (ds->y[i] != 0 && ds->y[i] != 1)
            return pth_fail(err, PTH_ERR_INVALID, "record %zu (%s) has no label 0/1 (got %d); remove unlabelled records",
                            i, ds->record_id[i] ? ds->record_id[i] : "?", ds->y[i]);
    if (opt->repeats < 1)
        return pth_fail(err, PTH_ERR_INVALID, "repeats must be at least 1");
    if (!(opt->threshold > 0 && opt->threshold < 1))
        return pth_fail(err, PTH_ERR_INVALID, "threshold %g is not in (0, 1)", opt->threshold);
    for (size_t l = 0; l < n_learners; l++)
        if (!cfgs[l].learner)
            return pth_fail(err, PTH_ERR_INVALID, "learner config %zu has no learner name", l);
    return PTH_OK;
}

static int setup(pth_eval_result *res, const pth_dataset *ds, const pth_learner_config *cfgs,
                 const char *const *names, size_t n_learners, const pth_eval_options *opt, pth_error *err)
{
    res->protocol = opt->protocol;
    res->k_requested = opt->k;
    res->repeats = opt->protocol == PTH_SPLIT_LOSO ? 1 : opt->repeats;
    res->bootstrap = opt->bootstrap;
    res->seed = opt->seed;
    res->threshold = opt->threshold;
    res->n_subjects = pth_dataset_n_subjects(ds);
    if (init_result(res, ds))
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory copying the dataset's ids");
    res->fold = malloc(res->repeats * ds->n * sizeof *res->fold);
    if (!res->fold)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory for folds");
    pth_split_config sc = {opt->protocol, opt->k, opt->seed};
    int rc = pth_split_dataset(&sc, ds, res->repeats, res->fold, &res->n_folds, err);
    if (rc)
        return rc;
    if (opt->protocol == PTH_SPLIT_LOSO)
        res->k_requested = res->n_folds; /* k is the number of subjects, whatever was asked */
    res->learners = calloc(n_learners, sizeof *res->learners);
    if (!res->learners)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory for results");
    res->n_learners = n_learners;
    for (size_t l = 0; l < n_learners; l++)
        if (init_learner(&res->learners[l], &cfgs[l], names ? names[l] : NULL, ds->n, res->repeats, res->n_folds))
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory for results");
    if (dedupe_names(res))
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory for results");
    return PTH_OK;
}

static int pick_threads(int requested, size_t tasks)
{
    long t = requested > 0 ? requested : sysconf(_SC_NPROCESSORS_ONLN);
    if (t < 1)
        t = 1;
    if ((size_t)t > tasks)
        t = (long)tasks;
    return (int)(t < 1 ? 1 : t);
}

int pth_eval_run(const pth_dataset *ds, const pth_learner_config *cfgs, const char *const *names,
                 size_t n_learners, const pth_eval_options *opt, pth_eval_result *res, pth_error *err)
{
    memset(res, 0, sizeof *res);
    pth_eval_options defaults;
    if (!opt) {
        pth_eval_options_init(&defaults);
        opt = &defaults;
    }
    int rc = check_args(ds, cfgs, n_learners, opt, err);
    if (!rc)
        rc = setup(res, ds, cfgs, names, n_learners, opt, err);
    if (rc) {
        pth_eval_result_free(res);
        return rc;
    }
    runner rn;
    memset(&rn, 0, sizeof rn);
    rn.ds = ds;
    rn.cfgs = cfgs;
    rn.opt = opt;
    rn.be = opt->backend ? opt->backend : pth_eval_default_backend();
    rn.res = res;
    rn.n_fit_tasks = res->repeats * res->n_folds * n_learners;
    rn.n_tasks = rn.n_fit_tasks + n_learners;
    rn.fail_task = rn.n_tasks;
    rn.nthreads = pick_threads(opt->threads, rn.n_fit_tasks);
    pthread_mutex_init(&rn.lock, NULL);
    if (index_folds(&rn)) {
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory indexing folds");
    } else {
        /* Summaries need every fold of their learner, so they run after all fits. */
        run_parallel(&rn, rn.n_fit_tasks);
        if (!rn.abort)
            run_parallel(&rn, rn.n_tasks);
        if (rn.abort) {
            if (err)
                *err = rn.fail_err;
            rc = (int)rn.fail_err.code;
        }
    }
    pthread_mutex_destroy(&rn.lock);
    free(rn.rows);
    free(rn.start);
    if (rc)
        pth_eval_result_free(res);
    return rc;
}
