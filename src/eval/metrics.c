/* Binary metrics (definitions in pathos/metrics.h).
 *
 * Everything is computed from per-record integer weights (multiplicities): weight 1 for
 * plain metrics, bootstrap counts for a resample.  A bootstrap resample therefore costs
 * O(n) instead of materialising and re-sorting n records: the records are sorted by
 * score once and every resample walks that order with its own weights. */
#include "pathos/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/rng.h"

static const struct {
    const char *name, *label;
    int higher_better;
} METRICS[PTH_M_COUNT] = {
    {"accuracy", "acc", 1},  {"balanced_accuracy", "bal_acc", 1}, {"roc_auc", "auc", 1},
    {"f1", "f1", 1},         {"macro_f1", "macro_f1", 1},         {"mcc", "mcc", 1},
    {"log_loss", "logloss", 0}, {"brier", "brier", 0},            {"ece", "ece", 0},
};

const char *pth_metric_name(pth_metric_id id) { return (unsigned)id < PTH_M_COUNT ? METRICS[id].name : "?"; }
const char *pth_metric_label(pth_metric_id id) { return (unsigned)id < PTH_M_COUNT ? METRICS[id].label : "?"; }
int pth_metric_higher_is_better(pth_metric_id id) { return (unsigned)id < PTH_M_COUNT && METRICS[id].higher_better; }

void pth_metrics_set_nan(pth_metrics *m)
{
    for (int i = 0; i < PTH_M_COUNT; i++)
        m->v[i] = NAN;
}

/* ---- weighted core ------------------------------------------------------------------- */

typedef struct {
    const int *y;
    const double *p;
    const unsigned *w; /* NULL: every weight is 1 */
    size_t n;
    double threshold;
} wdata;

static double wt(const wdata *d, size_t i) { return d->w ? (double)d->w[i] : 1.0; }
static int predict(const wdata *d, size_t i) { return d->p[i] > d->threshold; }

typedef struct {
    double tp, fp, tn, fn;
} confusion;

static confusion confusion_of(const wdata *d)
{
    confusion c = {0, 0, 0, 0};
    for (size_t i = 0; i < d->n; i++) {
        double w = wt(d, i);
        int yh = predict(d, i);
        if (d->y[i])
            *(yh ? &c.tp : &c.fn) += w;
        else
            *(yh ? &c.fp : &c.tn) += w;
    }
    return c;
}

static double f1_of(double tp, double fp, double fn)
{
    double den = 2 * tp + fp + fn;
    return den > 0 ? 2 * tp / den : 0.0;
}

static void confusion_metrics(confusion c, pth_metrics *m)
{
    double total = c.tp + c.fp + c.tn + c.fn;
    m->v[PTH_M_ACCURACY] = (c.tp + c.tn) / total;
    /* Balanced accuracy averages recall over the classes that occur in y. */
    double rsum = 0;
    int rcount = 0;
    if (c.tp + c.fn > 0) {
        rsum += c.tp / (c.tp + c.fn);
        rcount++;
    }
    if (c.tn + c.fp > 0) {
        rsum += c.tn / (c.tn + c.fp);
        rcount++;
    }
    m->v[PTH_M_BALANCED_ACCURACY] = rsum / rcount;
    m->v[PTH_M_F1] = f1_of(c.tp, c.fp, c.fn);
    /* Macro F1 averages over the classes present in y or in the predictions. */
    double fsum = 0;
    int fcount = 0;
    if (c.tp + c.fn + c.fp > 0) {
        fsum += f1_of(c.tp, c.fp, c.fn);
        fcount++;
    }
    if (c.tn + c.fp + c.fn > 0) {
        fsum += f1_of(c.tn, c.fn, c.fp);
        fcount++;
    }
    m->v[PTH_M_MACRO_F1] = fsum / fcount;
    double den = (c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn);
    m->v[PTH_M_MCC] = den > 0 ? (c.tp * c.tn - c.fp * c.fn) / sqrt(den) : 0.0;
}

static double clip(double p)
{
    if (p < PTH_LOG_LOSS_EPS)
        return PTH_LOG_LOSS_EPS;
    if (p > 1 - PTH_LOG_LOSS_EPS)
        return 1 - PTH_LOG_LOSS_EPS;
    return p;
}

static void probability_metrics(const wdata *d, pth_metrics *m)
{
    double total = 0, ll = 0, br = 0;
    double bin_n[PTH_ECE_BINS] = {0}, bin_conf[PTH_ECE_BINS] = {0}, bin_acc[PTH_ECE_BINS] = {0};
    for (size_t i = 0; i < d->n; i++) {
        double w = wt(d, i), p = d->p[i];
        if (w == 0)
            continue;
        int y = d->y[i], yh = predict(d, i);
        total += w;
        ll -= w * log(y ? clip(p) : 1 - clip(p)); /* sklearn clips p1, then takes 1 - p1 */
        br += w * (p - y) * (p - y);
        double conf = yh ? p : 1 - p;
        int b = (int)floor(conf * PTH_ECE_BINS);
        b = b < 0 ? 0 : b >= PTH_ECE_BINS ? PTH_ECE_BINS - 1 : b;
        bin_n[b] += w;
        bin_conf[b] += w * conf;
        bin_acc[b] += w * (yh == y);
    }
    double ece = 0;
    for (int b = 0; b < PTH_ECE_BINS; b++)
        if (bin_n[b] > 0)
            ece += bin_n[b] / total * fabs(bin_acc[b] / bin_n[b] - bin_conf[b] / bin_n[b]);
    m->v[PTH_M_LOG_LOSS] = ll / total;
    m->v[PTH_M_BRIER] = br / total;
    m->v[PTH_M_ECE] = ece;
}

/* Mann-Whitney AUC over records sorted by ascending score: a positive scores one for
 * every negative strictly below it and one half for every tied negative. */
static double auc_sorted(const wdata *d, const size_t *order)
{
    double neg_below = 0, num = 0, npos = 0, nneg = 0;
    size_t i = 0;
    while (i < d->n) {
        size_t j = i;
        double gpos = 0, gneg = 0;
        while (j < d->n && d->p[order[j]] == d->p[order[i]]) {
            size_t r = order[j++];
            *(d->y[r] ? &gpos : &gneg) += wt(d, r);
        }
        num += gpos * (neg_below + 0.5 * gneg);
        neg_below += gneg;
        npos += gpos;
        nneg += gneg;
        i = j;
    }
    return npos > 0 && nneg > 0 ? num / (npos * nneg) : NAN;
}


typedef struct {
    double p;
    size_t i;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Indices sorted by ascending p (ties by index); NULL when out of memory. */
static size_t *sort_by_score(const double *p, size_t n)
{
    scored *s = malloc((n ? n : 1) * sizeof *s);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!s || !order) {
        free(s);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s[i].p = p[i];
        s[i].i = i;
    }
    qsort(s, n, sizeof *s, cmp_scored);
    for (size_t i = 0; i < n; i++)
        order[i] = s[i].i;
    free(s);
    return order;
}

static void all_metrics(const wdata *d, const size_t *order, pth_metrics *m)
{
    confusion_metrics(confusion_of(d), m);
    probability_metrics(d, m);
    m->v[PTH_M_ROC_AUC] = order ? auc_sorted(d, order) : NAN;
}

/* ---- public ------------------------------------------------------------------------- */

static int validate(const int *y, const double *p1, size_t n, pth_error *err)
{
    if (n == 0)
        return pth_fail(err, PTH_ERR_INVALID, "cannot compute metrics of zero records");
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return pth_fail(err, PTH_ERR_INVALID, "record %zu: label %d is not binary (0/1)", i, y[i]);
        if (!(p1[i] >= 0.0 && p1[i] <= 1.0))
            return pth_fail(err, PTH_ERR_INVALID, "record %zu: probability %g is not in [0, 1]", i, p1[i]);
    }
    return PTH_OK;
}

int pth_metrics_compute(const int *y, const double *p1, size_t n, double threshold, pth_metrics *out,
                        pth_error *err)
{
    pth_metrics_set_nan(out);
    int rc = validate(y, p1, n, err);
    if (rc)
        return rc;
    size_t *order = sort_by_score(p1, n);
    if (!order)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory computing metrics of %zu records", n);
    wdata d = {y, p1, NULL, n, threshold};
    all_metrics(&d, order, out);
    free(order);
    return PTH_OK;
}

static pth_metrics one_shot(const int *y, const double *p1, size_t n, double threshold)
{
    pth_metrics m;
    pth_metrics_set_nan(&m);
    size_t *order = sort_by_score(p1, n);
    wdata d = {y, p1, NULL, n, threshold};
    all_metrics(&d, order, &m);
    free(order);
    return m;
}

double pth_metric_accuracy(const int *y, const double *p1, size_t n, double t)
{
    return one_shot(y, p1, n, t).v[PTH_M_ACCURACY];
}
double pth_metric_balanced_accuracy(const int *y, const double *p1, size_t n, double t)
{
    return one_shot(y, p1, n, t).v[PTH_M_BALANCED_ACCURACY];
}
double pth_metric_roc_auc(const int *y, const double *p1, size_t n)
{
    return one_shot(y, p1, n, PTH_DEFAULT_THRESHOLD).v[PTH_M_ROC_AUC];
}
double pth_metric_f1(const int *y, const double *p1, size_t n, double t) { return one_shot(y, p1, n, t).v[PTH_M_F1]; }
double pth_metric_macro_f1(const int *y, const double *p1, size_t n, double t)
{
    return one_shot(y, p1, n, t).v[PTH_M_MACRO_F1];
}
double pth_metric_mcc(const int *y, const double *p1, size_t n, double t) { return one_shot(y, p1, n, t).v[PTH_M_MCC]; }
double pth_metric_log_loss(const int *y, const double *p1, size_t n)
{
    return one_shot(y, p1, n, PTH_DEFAULT_THRESHOLD).v[PTH_M_LOG_LOSS];
}
double pth_metric_brier(const int *y, const double *p1, size_t n)
{
    return one_shot(y, p1, n, PTH_DEFAULT_THRESHOLD).v[PTH_M_BRIER];
}
double pth_metric_ece(const int *y, const double *p1, size_t n, double t) { return one_shot(y, p1, n, t).v[PTH_M_ECE]; }

void pth_mean_std(const double *v, size_t n, double *mean, double *std)
{
    double s = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            s += v[i];
            m++;
        }
    *mean = m ? s / (double)m : NAN;
    if (m < 2) {
        *std = NAN;
        return;
    }
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            ss += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(ss / (double)(m - 1));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double pth_quantile(const double *v, size_t n, double q)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[m++] = v[i];
    double r = NAN;
    if (m > 0) {
        qsort(s, m, sizeof *s, cmp_double);
        double pos = q * (double)(m - 1);
        size_t lo = (size_t)floor(pos);
        if (lo >= m - 1)
            r = s[m - 1];
        else
            r = s[lo] + (pos - (double)lo) * (s[lo + 1] - s[lo]);
    }
    free(s);
    return r;
}

int pth_bootstrap_ci(const int *y, const double *p1, size_t n, double threshold, size_t B, double alpha,
                     uint64_t seed, pth_metrics *lo, pth_metrics *hi, pth_error *err)
{
    pth_metrics_set_nan(lo);
    pth_metrics_set_nan(hi);
    int rc = validate(y, p1, n, err);
    if (rc)
        return rc;
    if (B < 1 || !(alpha > 0 && alpha < 1))
        return pth_fail(err, PTH_ERR_INVALID, "bootstrap needs B >= 1 and 0 < alpha < 1 (got B = %zu, alpha = %g)", B,
                        alpha);
    size_t *order = sort_by_score(p1, n);
    unsigned *w = malloc(n * sizeof *w);
    double *vals = malloc(B * PTH_M_COUNT * sizeof *vals); /* metric-major: vals[m*B + b] */
    if (!order || !w || !vals) {
        free(order);
        free(w);
        free(vals);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory for a bootstrap of %zu x %zu", B, n);
    }
    pth_rng rng;
    pth_rng_seed(&rng, seed);
    wdata d = {y, p1, w, n, threshold};
    for (size_t b = 0; b < B; b++) {
        memset(w, 0, n * sizeof *w);
        for (size_t j = 0; j < n; j++)
            w[pth_rng_below(&rng, n)]++;
        pth_metrics m;
        all_metrics(&d, order, &m);
        for (int k = 0; k < PTH_M_COUNT; k++)
            vals[(size_t)k * B + b] = m.v[k];
    }
    for (int k = 0; k < PTH_M_COUNT; k++) {
        lo->v[k] = pth_quantile(vals + (size_t)k * B, B, alpha / 2);
        hi->v[k] = pth_quantile(vals + (size_t)k * B, B, 1 - alpha / 2);
    }
    free(order);
    free(w);
    free(vals);
    return PTH_OK;
}
