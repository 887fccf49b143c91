/* GoEmotions multi-label emotion classification (see include/pathos/textemo.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/csv.h"
#include "pathos/io.h"
#include "pathos/textclf.h"
#include "pathos/textemo.h"
#include "pathos/textmetrics.h"
#include "text/textemo_internal.h"

static const char *const goemo_labels[PTH_GOEMO_NLABELS] = {
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment", "excitement",
    "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism", "pride",
    "realization", "relief", "remorse", "sadness", "surprise", "neutral"};

static const char *const ekman_names[PTH_GOEMO_EKMAN_GROUPS] = {"anger", "disgust", "fear", "joy",
                                                                 "sadness", "surprise", "neutral"};
static const char *const sentiment_names[PTH_GOEMO_SENTIMENT_GROUPS] = {"positive", "negative", "ambiguous",
                                                                         "neutral"};

const char *pth_goemo_label(size_t id) { return id < PTH_GOEMO_NLABELS ? goemo_labels[id] : ""; }
const char *pth_goemo_ekman_name(size_t g) { return g < PTH_GOEMO_EKMAN_GROUPS ? ekman_names[g] : ""; }
const char *pth_goemo_sentiment_name(size_t g)
{
    return g < PTH_GOEMO_SENTIMENT_GROUPS ? sentiment_names[g] : "";
}

int pth_textemo_model_parse(const char *name)
{
    if (!strcmp(name, "linear"))
        return PTH_TEXTEMO_LINEAR;
    if (!strcmp(name, "fasttext"))
        return PTH_TEXTEMO_FASTTEXT;
    if (!strcmp(name, "ensemble"))
        return PTH_TEXTEMO_ENSEMBLE;
    return -1;
}

const char *pth_textemo_model_name(pth_textemo_model m)
{
    return m == PTH_TEXTEMO_LINEAR ? "linear" : m == PTH_TEXTEMO_FASTTEXT ? "fasttext" : "ensemble";
}

/* ------------------------------------------------------------------ loading */

void pth_goemo_split_free(pth_goemo_split *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->text[i]);
    free(s->text);
    free(s->Y);
    memset(s, 0, sizeof *s);
}

/* "3,27" -> sets Y[3], Y[27]; 0 on success. */
static int parse_label_ids(const char *s, unsigned char *Y)
{
    int any = 0;
    while (*s) {
        if (*s < '0' || *s > '9')
            return -1;
        long v = 0;
        while (*s >= '0' && *s <= '9' && v < 1000)
            v = v * 10 + (*s++ - '0');
        if (v >= PTH_GOEMO_NLABELS)
            return -1;
        Y[v] = 1;
        any = 1;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return any ? 0 : -1;
}

static int goemo_grow(pth_goemo_split *out, size_t *cap)
{
    size_t nc = *cap ? *cap * 2 : 1024;
    char **t = realloc(out->text, nc * sizeof *t);
    if (!t)
        return -1;
    out->text = t;
    unsigned char *Y = realloc(out->Y, nc * PTH_GOEMO_NLABELS);
    if (!Y)
        return -1;
    out->Y = Y;
    *cap = nc;
    return 0;
}

int pth_goemo_load(const char *path, size_t max_rows, pth_goemo_split *out, pth_error *err)
{
    memset(out, 0, sizeof *out);
    pth_csv_reader *r;
    pth_csv_reader_options o = {0};
    o.delimiter = '\t';
    int rc = pth_csv_open_file(&r, path, &o, err);
    if (rc)
        return rc;
    pth_csv_record rec;
    size_t cap = 0;
    while ((rc = pth_csv_next_record(r, &rec, err)) == PTH_OK && rec.n > 0) {
        if (max_rows && out->n >= max_rows)
            break;
        if (rec.n < 2) {
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: expected text<TAB>labels<TAB>id, found %zu field(s)", path,
                          rec.line, rec.n);
            break;
        }
        if (out->n == cap && goemo_grow(out, &cap)) {
            rc = pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        unsigned char *Y = out->Y + out->n * PTH_GOEMO_NLABELS;
        memset(Y, 0, PTH_GOEMO_NLABELS);
        if (parse_label_ids(rec.field[1], Y)) {
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: bad label list '%s' (expected ids 0..27 separated by ',')",
                          path, rec.line, rec.field[1]);
            break;
        }
        out->text[out->n] = strdup(rec.field[0]);
        if (!out->text[out->n]) {
            rc = pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        out->n++;
    }
    pth_csv_close(r);
    if (!rc && out->n == 0)
        rc = pth_fail(err, PTH_ERR_INVALID, "%s: no rows", path);
    if (rc)
        pth_goemo_split_free(out);
    return rc;
}

static long label_index(const char *name)
{
    for (size_t i = 0; i < PTH_GOEMO_NLABELS; i++)
        if (!strcmp(goemo_labels[i], name))
            return (long)i;
    return -1;
}

/* Reads {"group": ["label", ...], ...}; group names must be in `names` (first ng-1; the last
 * group is neutral). */
static int read_grouping(const char *path, const char *const *names, size_t ng, int *group_of, pth_error *err)
{
    char *buf;
    size_t len;
    int rc = pth_read_file(path, 1 << 20, &buf, &len, err);
    if (rc)
        return rc;
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pth_fail(err, PTH_ERR_PARSE, "%s: expected a JSON object of label lists", path);
    }
    for (size_t l = 0; l < PTH_GOEMO_NLABELS; l++)
        group_of[l] = -1;
    group_of[PTH_GOEMO_NEUTRAL] = (int)(ng - 1);
    rc = 0;
    for (const cJSON *g = j->child; g && !rc; g = g->next) {
        long gi = -1;
        for (size_t k = 0; k + 1 < ng; k++)
            if (g->string && !strcmp(g->string, names[k]))
                gi = (long)k;
        if (gi < 0 || !cJSON_IsArray(g)) {
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: unexpected group '%s'", path, g->string ? g->string : "?");
            break;
        }
        for (const cJSON *e = g->child; e; e = e->next) {
            long li = cJSON_IsString(e) ? label_index(e->valuestring) : -1;
            if (li < 0) {
                rc = pth_fail(err, PTH_ERR_INVALID, "%s: unknown label in group '%s'", path, g->string);
                break;
            }
            group_of[li] = (int)gi;
        }
    }
    cJSON_Delete(j);
    for (size_t l = 0; l < PTH_GOEMO_NLABELS && !rc; l++)
        if (group_of[l] < 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: label '%s' is in no group", path, goemo_labels[l]);
    return rc;
}

int pth_goemo_groups(const char *dir, int ekman_of[PTH_GOEMO_NLABELS], int sentiment_of[PTH_GOEMO_NLABELS],
                     pth_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ekman_mapping.json", dir);
    int rc = read_grouping(path, ekman_names, PTH_GOEMO_EKMAN_GROUPS, ekman_of, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/sentiment_dict.json", dir);
    return read_grouping(path, sentiment_names, PTH_GOEMO_SENTIMENT_GROUPS, sentiment_of, err);
}

/* ------------------------------------------------------------------ evaluation */

void pth_goemo_config_default(pth_goemo_config *c)
{
    memset(c, 0, sizeof *c);
    c->data_dir = "data/goemotions";
    c->model = PTH_TEXTEMO_ENSEMBLE;
    c->threads = 1;
    c->seed = 1;
    pth_ft_params_default(&c->ft);
    c->ft.loss = PTH_FT_OVA;
    c->ft.dim = 64;
    c->ft.epochs = 20;
    c->ft.lr = 0.2;
    c->ft.word_ngrams = 2;
    c->ft.minn = 0;
    c->ft.maxn = 0;
    c->linear_C = 4.0;
    /* Chosen on dev with the Newton solver: 1e-6, 1e-5, 3e-5 and 1e-4 gave dev macro-F1
     * 0.5154, 0.5154, 0.5157 and 0.5157, and at 1e-4 the slower of the two label blocks
     * needs a third fewer Hessian passes than at 1e-6 (377 -> 249, lanes in lock-step). */
    c->linear_tol = 1e-4;
    c->hash_bits = 18;
}

/* Per-label dev-tuned thresholds; returns the dev macro-F1 they reach. */
static double tune_thresholds(const double *dev, const unsigned char *Y, size_t n, double *thr)
{
    for (size_t l = 0; l < PTH_GOEMO_NLABELS; l++)
        thr[l] = pth_best_f1_threshold(dev + l, Y + l, n, PTH_GOEMO_NLABELS, NULL);
    unsigned char *pred = malloc(n * PTH_GOEMO_NLABELS + 1);
    if (!pred)
        return 0;
    pth_apply_thresholds(dev, n, PTH_GOEMO_NLABELS, thr, 1, pred);
    pth_ml_scores sc;
    pth_multilabel_f1(Y, pred, n, PTH_GOEMO_NLABELS, NULL, &sc);
    free(pred);
    return sc.macro_f1;
}

static void mix_scores(const double *a, const double *b, double w, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = w * a[i] + (1 - w) * b[i];
}

static int score_test(const pth_goemo_config *c, const double *test, const double *thr, const pth_goemo_split *te,
                      pth_goemo_result *r, pth_error *err)
{
    int ekman_of[PTH_GOEMO_NLABELS], sent_of[PTH_GOEMO_NLABELS];
    int rc = pth_goemo_groups(c->data_dir, ekman_of, sent_of, err);
    if (rc)
        return rc;
    size_t n = te->n;
    unsigned char *pred = malloc(n * PTH_GOEMO_NLABELS + 1), *gg = malloc(n * 8 + 1), *gp = malloc(n * 8 + 1);
    if (!pred || !gg || !gp) {
        free(pred), free(gg), free(gp);
        return pth_fail(err, PTH_ERR_NOMEM, "goemotions: out of memory");
    }
    pth_apply_thresholds(test, n, PTH_GOEMO_NLABELS, thr, 1, pred);
    pth_ml_scores sc;
    pth_multilabel_f1(te->Y, pred, n, PTH_GOEMO_NLABELS, r->per_label_f1, &sc);
    r->macro_f1 = sc.macro_f1;
    r->micro_f1 = sc.micro_f1;
    pth_multilabel_group(te->Y, n, PTH_GOEMO_NLABELS, ekman_of, PTH_GOEMO_EKMAN_GROUPS, gg);
    pth_multilabel_group(pred, n, PTH_GOEMO_NLABELS, ekman_of, PTH_GOEMO_EKMAN_GROUPS, gp);
    pth_multilabel_f1(gg, gp, n, PTH_GOEMO_EKMAN_GROUPS, NULL, &sc);
    r->ekman_macro_f1 = sc.macro_f1;
    r->ekman_micro_f1 = sc.micro_f1;
    pth_multilabel_group(te->Y, n, PTH_GOEMO_NLABELS, sent_of, PTH_GOEMO_SENTIMENT_GROUPS, gg);
    pth_multilabel_group(pred, n, PTH_GOEMO_NLABELS, sent_of, PTH_GOEMO_SENTIMENT_GROUPS, gp);
    pth_multilabel_f1(gg, gp, n, PTH_GOEMO_SENTIMENT_GROUPS, NULL, &sc);
    r->sent_macro_f1 = sc.macro_f1;
    r->sent_micro_f1 = sc.micro_f1;
    free(pred), free(gg), free(gp);
    return 0;
}

/* Chooses the ensemble weight on dev (grid 0, 0.1, ..., 1; thresholds re-tuned for each). */
static double choose_weight(const double *ft, const double *lin, const pth_goemo_split *dv, double *mix, double *thr)
{
    size_t nn = dv->n * PTH_GOEMO_NLABELS;
    double best = -1, bw = 0.5;
    for (int k = 0; k <= 10; k++) {
        double w = k / 10.0;
        mix_scores(ft, lin, w, nn, mix);
        double f = tune_thresholds(mix, dv->Y, dv->n, thr);
        if (f > best + 1e-12) {
            best = f;
            bw = w;
        }
    }
    return bw;
}

static int fit_models(const pth_goemo_config *c, const pth_goemo_split *tr, pth_textclf *m, double *train_s,
                      pth_error *err)
{
    double t0 = txe_now();
    if (c->model != PTH_TEXTEMO_LINEAR) {
        pth_ft_params p = c->ft;
        p.seed = c->seed;
        p.threads = c->threads;
        pth_ft_data d = {tr->n, 1, (const char *const *)tr->text, PTH_GOEMO_NLABELS, tr->Y, goemo_labels};
        if (!(m->ft = pth_ft_train(&p, &d, err)))
            return err ? err->code : PTH_ERR_INTERNAL;
    }
    if (c->model != PTH_TEXTEMO_FASTTEXT) {
        if (!(m->lin = calloc(1, sizeof *m->lin)))
            return pth_fail(err, PTH_ERR_NOMEM, "goemotions: out of memory");
        txl_init(m->lin, 1, c->hash_bits, 0);
        m->lin->tol = c->linear_tol;
        int rc = txl_fit(m->lin, tr->n, (const char *const *)tr->text, tr->Y, PTH_GOEMO_NLABELS, c->linear_C,
                         c->threads, err);
        if (rc)
            return rc;
    }
    *train_s = txe_now() - t0;
    return 0;
}

/* Ensemble weight and per-label thresholds from the dev split. */
static int tune_on_dev(pth_textclf *m, const pth_goemo_split *dv, double *dev_macro, double *thr_ft,
                       double *thr_lin, pth_error *err)
{
    size_t nd = dv->n * PTH_GOEMO_NLABELS;
    double *a = malloc((nd + 1) * sizeof(double)), *b = malloc((nd + 1) * sizeof(double));
    double *mix = malloc((nd + 1) * sizeof(double));
    int rc = !a || !b || !mix ? pth_fail(err, PTH_ERR_NOMEM, "goemotions: out of memory") : 0;
    const char *const *tx = (const char *const *)dv->text;
    if (!rc && m->ft && m->lin) {
        pth_ft_predict_many(m->ft, dv->n, tx, a, 1);
        rc = txl_predict(m->lin, dv->n, tx, b, err);
        /* The two models' scores live on different scales (fastText is far more confident):
         * calibrate each label of each model on dev before averaging. */
        if (!rc && !(m->cal = malloc(4 * PTH_GOEMO_NLABELS * sizeof(double))))
            rc = pth_fail(err, PTH_ERR_NOMEM, "goemotions: out of memory");
        if (!rc) {
            txc_platt_fit(a, dv->Y, dv->n, PTH_GOEMO_NLABELS, m->cal);
            txc_platt_fit(b, dv->Y, dv->n, PTH_GOEMO_NLABELS, m->cal + 2 * PTH_GOEMO_NLABELS);
            txc_platt_apply(m->cal, dv->n, PTH_GOEMO_NLABELS, a);
            txc_platt_apply(m->cal + 2 * PTH_GOEMO_NLABELS, dv->n, PTH_GOEMO_NLABELS, b);
            tune_thresholds(a, dv->Y, dv->n, thr_ft);
            tune_thresholds(b, dv->Y, dv->n, thr_lin);
            m->w_ft = choose_weight(a, b, dv, mix, m->thr);
            mix_scores(a, b, m->w_ft, nd, mix);
            *dev_macro = tune_thresholds(mix, dv->Y, dv->n, m->thr);
        }
    } else if (!rc) {
        m->w_ft = m->ft ? 1.0 : 0.0;
        rc = txc_level1(m, dv->n, tx, a, err);
        if (!rc)
            *dev_macro = tune_thresholds(a, dv->Y, dv->n, m->thr);
    }
    free(mix);
    free(a), free(b);
    return rc;
}

static pth_textclf *goemo_fit(const pth_goemo_config *c, const pth_goemo_split *tr, const pth_goemo_split *dv,
                              pth_goemo_result *r, double *thr_ft, double *thr_lin, pth_error *err)
{
    pth_textclf *m = txc_new("goemotions", 1, PTH_GOEMO_NLABELS, goemo_labels);
    if (!m) {
        pth_fail(err, PTH_ERR_NOMEM, "goemotions: out of memory");
        return NULL;
    }
    if (fit_models(c, tr, m, &r->train_seconds, err) || tune_on_dev(m, dv, &r->dev_macro_f1, thr_ft, thr_lin, err)) {
        pth_textclf_free(m);
        return NULL;
    }
    r->ensemble_weight = m->w_ft;
    return m;
}

static int load_splits(const pth_goemo_config *c, int with_test, pth_goemo_split *tr, pth_goemo_split *dv,
                       pth_goemo_split *te, pth_error *err)
{
    char path[4096];
    int rc;
    memset(dv, 0, sizeof *dv);
    memset(te, 0, sizeof *te);
    snprintf(path, sizeof path, "%s/train.tsv", c->data_dir);
    if ((rc = pth_goemo_load(path, c->max_train, tr, err)))
        return rc;
    snprintf(path, sizeof path, "%s/dev.tsv", c->data_dir);
    rc = pth_goemo_load(path, c->max_eval, dv, err);
    snprintf(path, sizeof path, "%s/test.tsv", c->data_dir);
    if (!rc && with_test)
        rc = pth_goemo_load(path, c->max_eval, te, err);
    if (rc) {
        pth_goemo_split_free(tr);
        pth_goemo_split_free(dv);
    }
    return rc;
}

static int check_config(const pth_goemo_config *c, pth_error *err)
{
    if ((int)c->model < 0 || c->model > PTH_TEXTEMO_ENSEMBLE)
        return pth_fail(err, PTH_ERR_INVALID, "goemotions: unknown model %d", (int)c->model);
    if (c->hash_bits < 10 || c->hash_bits > 24)
        return pth_fail(err, PTH_ERR_INVALID, "goemotions: hash_bits must be 10..24, got %u", c->hash_bits);
    if (!(c->linear_C > 0))
        return pth_fail(err, PTH_ERR_INVALID, "goemotions: C must be positive");
    return 0;
}

pth_textclf *pth_goemo_train(const pth_goemo_config *c, pth_error *err)
{
    pth_goemo_split tr, dv, te;
    pth_goemo_result r;
    memset(&r, 0, sizeof r);
    if (check_config(c, err) || load_splits(c, 0, &tr, &dv, &te, err))
        return NULL;
    double t1[PTH_GOEMO_NLABELS], t2[PTH_GOEMO_NLABELS];
    pth_textclf *m = goemo_fit(c, &tr, &dv, &r, t1, t2, err);
    pth_goemo_split_free(&tr);
    pth_goemo_split_free(&dv);
    return m;
}

/* Test macro-F1 of each ensemble member alone (calibrated, with its own dev thresholds). */
static int score_members(const pth_goemo_config *c, const pth_textclf *m, const pth_goemo_split *te,
                         const double *thr_ft, const double *thr_lin, double *P, pth_goemo_result *r, pth_error *err)
{
    pth_goemo_result tmp;
    for (int k = 0; k < 2; k++) {
        pth_textclf view = *m; /* shallow: only one member kept */
        if (k == 0)
            view.lin = NULL;
        else
            view.ft = NULL;
        int rc = txc_level1(&view, te->n, (const char *const *)te->text, P, err);
        if (!rc)
            rc = score_test(c, P, k == 0 ? thr_ft : thr_lin, te, &tmp, err);
        if (rc)
            return rc;
        *(k == 0 ? &r->ft_macro_f1 : &r->linear_macro_f1) = tmp.macro_f1;
    }
    return 0;
}

int pth_goemo_eval(const pth_goemo_config *c, pth_goemo_result *r, pth_error *err)
{
    memset(r, 0, sizeof *r);
    pth_goemo_split tr, dv, te;
    int rc = check_config(c, err);
    if (rc || (rc = load_splits(c, 1, &tr, &dv, &te, err)))
        return rc;
    r->n_train = tr.n;
    r->n_dev = dv.n;
    r->n_test = te.n;
    double thr_ft[PTH_GOEMO_NLABELS], thr_lin[PTH_GOEMO_NLABELS];
    pth_textclf *m = goemo_fit(c, &tr, &dv, r, thr_ft, thr_lin, err);
    r->ft_macro_f1 = r->linear_macro_f1 = NAN;
    double *P = malloc((te.n * PTH_GOEMO_NLABELS + 1) * sizeof(double));
    if (!m)
        rc = err ? err->code : PTH_ERR_INTERNAL;
    else if (!P)
        rc = pth_fail(err, PTH_ERR_NOMEM, "goemotions: out of memory");
    if (!rc) {
        double t0 = txe_now();
        rc = txc_level1(m, te.n, (const char *const *)te.text, P, err);
        double dt = txe_now() - t0;
        r->test_texts_per_second = dt > 0 ? (double)te.n / dt : 0;
    }
    if (!rc)
        rc = score_test(c, P, m->thr, &te, r, err);
    if (!rc && m->ft && m->lin)
        rc = score_members(c, m, &te, thr_ft, thr_lin, P, r, err);
    free(P);
    pth_textclf_free(m);
    pth_goemo_split_free(&tr);
    pth_goemo_split_free(&dv);
    pth_goemo_split_free(&te);
    return rc;
}
