/* Binary metrics against independently computed reference values.
 *
 * Provenance of the reference numbers (Debian python3-sklearn 1.2.1, numpy 1.24.2):
 *   /usr/bin/python3 skl.py   with skl.py =
 *     import numpy as np
 *     from sklearn.metrics import (accuracy_score, balanced_accuracy_score, roc_auc_score,
 *         f1_score, matthews_corrcoef, log_loss, brier_score_loss)
 *     def show(name, y, p, t=0.5):
 *         y = np.array(y); p = np.array(p); yh = (p > t).astype(int)
 *         auc = roc_auc_score(y, p) if len(set(y)) > 1 else float('nan')
 *         vals = [accuracy_score(y, yh), balanced_accuracy_score(y, yh), auc, f1_score(y, yh),
 *                 f1_score(y, yh, average='macro'), matthews_corrcoef(y, yh),
 *                 log_loss(y, p, labels=[0, 1], eps=1e-15), brier_score_loss(y, p, pos_label=1)]
 *         print(name, ', '.join('%.17g' % v for v in vals))
 *     show('A', [0,0,1,1,0,1,0,1,1,0,1,0], [0.1,0.4,0.35,0.8,0.5,0.5,0.7,0.9,0.2,0.2,0.65,0.05])
 *     show('A_t03', <same>, 0.3)
 *     show('B', [1,1,1,1], [0.9,0.2,0.6,0.6])
 *     show('C', [1,0,1,0,1,0], [1.0,0.0,0.0,1.0,0.5,0.5])
 *     show('D', [0,1,0,1,0,1,1,0], [0.3,0.3,0.3,0.3,0.6,0.6,0.6,0.6])
 *   and for pth_quantile / pth_mean_std:
 *     v = [0.3,0.1,0.4,0.1,0.5,0.9]
 *     np.percentile(v, 2.5), np.percentile(v, 97.5), np.mean(v), np.std(v, ddof=1)
 * Case A has tied scores across classes (0.5, 0.2) and a score exactly at the threshold;
 * B has a single class (AUC undefined); C needs log-loss clipping at 1e-15; D is all ties. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/metrics.h"

#define TOL 1e-12

typedef struct {
    const char *name;
    const int *y;
    const double *p;
    size_t n;
    double threshold;
    double ref[8]; /* acc, bal_acc, auc, f1, macro_f1, mcc, log_loss, brier */
} ref_case;

static const int yA[] = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0};
static const double pA[] = {0.1, 0.4, 0.35, 0.8, 0.5, 0.5, 0.7, 0.9, 0.2, 0.2, 0.65, 0.05};
static const int yB[] = {1, 1, 1, 1};
static const double pB[] = {0.9, 0.2, 0.6, 0.6};
static const int yC[] = {1, 0, 1, 0, 1, 0};
static const double pC[] = {1.0, 0.0, 0.0, 1.0, 0.5, 0.5};
static const int yD[] = {0, 1, 0, 1, 0, 1, 1, 0};
static const double pD[] = {0.3, 0.3, 0.3, 0.3, 0.6, 0.6, 0.6, 0.6};

static void test_against_sklearn(void)
{
    const ref_case cases[] = {
        {"A", yA, pA, 12, 0.5,
         {0.66666666666666663, 0.66666666666666674, 0.75, 0.59999999999999998, 0.65714285714285714,
          0.35355339059327379, 0.57495309754738932, 0.203125}},
        {"A_t03", yA, pA, 12, 0.3,
         {0.66666666666666663, 0.66666666666666674, 0.75, 0.7142857142857143, 0.65714285714285714,
          0.35355339059327379, 0.57495309754738932, 0.203125}},
        {"B", yB, pB, 4, 0.5, {0.75, 0.75, NAN, 0.8571428571428571, 0.42857142857142855, 0, 0.68411241890597707,
                               0.24250000000000005}},
        {"C", yC, pC, 6, 0.5, {0.5, 0.5, 0.5, 0.40000000000000002, 0.48571428571428577, 0, 11.744107791395242,
                               0.41666666666666669}},
        {"D", yD, pD, 8, 0.5, {0.5, 0.5, 0.5, 0.5, 0.5, 0, 0.74694102597620349, 0.27500000000000002}},
    };
    const pth_metric_id ids[8] = {PTH_M_ACCURACY, PTH_M_BALANCED_ACCURACY, PTH_M_ROC_AUC, PTH_M_F1,
                                  PTH_M_MACRO_F1, PTH_M_MCC,     PTH_M_LOG_LOSS, PTH_M_BRIER};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const ref_case *rc = &cases[c];
        pth_metrics m;
        pth_error err;
        CHECK_OK(pth_metrics_compute(rc->y, rc->p, rc->n, rc->threshold, &m, &err), &err);
        for (int k = 0; k < 8; k++) {
            if (fabs(m.v[ids[k]] - rc->ref[k]) > TOL && !(isnan(m.v[ids[k]]) && isnan(rc->ref[k])))
                fprintf(stderr, "case %s metric %s\n", rc->name, pth_metric_name(ids[k]));
            CHECK_NEAR(m.v[ids[k]], rc->ref[k], TOL);
        }
        /* The single-metric functions agree with the batch. */
        CHECK_NEAR(pth_metric_accuracy(rc->y, rc->p, rc->n, rc->threshold), rc->ref[0], TOL);
        CHECK_NEAR(pth_metric_balanced_accuracy(rc->y, rc->p, rc->n, rc->threshold), rc->ref[1], TOL);
        CHECK_NEAR(pth_metric_roc_auc(rc->y, rc->p, rc->n), rc->ref[2], TOL);
        CHECK_NEAR(pth_metric_f1(rc->y, rc->p, rc->n, rc->threshold), rc->ref[3], TOL);
        CHECK_NEAR(pth_metric_macro_f1(rc->y, rc->p, rc->n, rc->threshold), rc->ref[4], TOL);
        CHECK_NEAR(pth_metric_mcc(rc->y, rc->p, rc->n, rc->threshold), rc->ref[5], TOL);
        CHECK_NEAR(pth_metric_log_loss(rc->y, rc->p, rc->n), rc->ref[6], TOL);
        CHECK_NEAR(pth_metric_brier(rc->y, rc->p, rc->n), rc->ref[7], TOL);
    }
    CHECK(isnan(pth_metric_roc_auc(yB, pB, 4)));
}

/* ECE by hand.  y = 1 0 1 1 0, p1 = .95 .85 .62 .28 .12, threshold .5:
 *   yhat     = 1   1   1   0   0
 *   conf     = .95 .85 .62 .72 .88   (probability of the predicted class)
 *   correct  = 1   0   1   0   1
 *   bins:  6: {.62 ok}        |1 - .62|   = .38,  weight 1/5
 *          7: {.72 wrong}     |0 - .72|   = .72,  weight 1/5
 *          8: {.85 wrong, .88 ok}  |.5 - .865| = .365, weight 2/5
 *          9: {.95 ok}        |1 - .95|   = .05,  weight 1/5
 *   ECE = (.38 + .72 + 2 * .365 + .05) / 5 = 1.88 / 5 = 0.376 */
static void test_ece(void)
{
    const int y[] = {1, 0, 1, 1, 0};
    const double p[] = {0.95, 0.85, 0.62, 0.28, 0.12};
    CHECK_NEAR(pth_metric_ece(y, p, 5, 0.5), 0.376, TOL);
    /* Confident and always right in bin 9 (conf 1.0 goes to the last bin): ECE 0. */
    const int y2[] = {1, 0, 1, 0};
    const double p2[] = {1.0, 0.0, 1.0, 0.0};
    CHECK_NEAR(pth_metric_ece(y2, p2, 4, 0.5), 0.0, TOL);
    /* Always 0.5 (predicts class 0, confidence 0.5, bin 5) with half positives: ECE 0. */
    const int y3[] = {1, 0, 1, 0};
    const double p3[] = {0.5, 0.5, 0.5, 0.5};
    CHECK_NEAR(pth_metric_ece(y3, p3, 4, 0.5), 0.0, TOL);
    /* Confidently wrong: ECE 1 - 0.0 = 0.9 for conf 0.9 everywhere and never right. */
    const int y4[] = {0, 1};
    const double p4[] = {0.9, 0.1};
    CHECK_NEAR(pth_metric_ece(y4, p4, 2, 0.5), 0.9, TOL);
}

static void test_summaries(void)
{
    const double v[] = {0.3, 0.1, 0.4, 0.1, 0.5, 0.9};
    double mean, sd;
    pth_mean_std(v, 6, &mean, &sd);
    CHECK_NEAR(mean, 0.3833333333333333, TOL);
    CHECK_NEAR(sd, 0.29944392908634276, TOL);
    CHECK_NEAR(pth_quantile(v, 6, 0.025), 0.10000000000000001, TOL);
    CHECK_NEAR(pth_quantile(v, 6, 0.975), 0.84999999999999998, TOL);
    CHECK_NEAR(pth_quantile(v, 6, 0.0), 0.1, TOL);
    CHECK_NEAR(pth_quantile(v, 6, 1.0), 0.9, TOL);
    /* NaNs are skipped; one value has no std; none has no mean. */
    const double w[] = {NAN, 2.0, NAN, 4.0};
    pth_mean_std(w, 4, &mean, &sd);
    CHECK_NEAR(mean, 3.0, TOL);
    CHECK_NEAR(sd, sqrt(2.0), TOL);
    pth_mean_std(w, 2, &mean, &sd);
    CHECK(mean == 2.0 && isnan(sd));
    pth_mean_std(w, 1, &mean, &sd);
    CHECK(isnan(mean) && isnan(sd));
    CHECK(isnan(pth_quantile(w, 1, 0.5)));
}

static void test_bootstrap(void)
{
    enum { N = 200 };
    int y[N];
    double p[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        p[i] = y[i] ? 0.55 + 0.4 * (double)(i % 7) / 7.0 : 0.45 - 0.4 * (double)(i % 5) / 5.0; /* separable */
    }
    pth_metrics lo, hi, lo2, hi2, point;
    pth_error err;
    CHECK_OK(pth_metrics_compute(y, p, N, 0.5, &point, &err), &err);
    CHECK_OK(pth_bootstrap_ci(y, p, N, 0.5, 300, 0.05, 7, &lo, &hi, &err), &err);
    CHECK_NEAR(lo.v[PTH_M_ROC_AUC], 1.0, TOL);
    CHECK_NEAR(hi.v[PTH_M_ACCURACY], 1.0, TOL);
    /* Noisy scores: the interval brackets the point estimate and has positive width. */
    for (int i = 0; i < N; i++)
        p[i] = fmod(0.37 * i + 0.2 * y[i], 1.0);
    CHECK_OK(pth_metrics_compute(y, p, N, 0.5, &point, &err), &err);
    CHECK_OK(pth_bootstrap_ci(y, p, N, 0.5, 300, 0.05, 7, &lo, &hi, &err), &err);
    int ok = 1;
    for (int m = 0; m < PTH_M_COUNT; m++)
        ok &= lo.v[m] <= point.v[m] + 1e-9 && point.v[m] <= hi.v[m] + 1e-9 && lo.v[m] < hi.v[m];
    CHECK(ok);
    /* Deterministic per seed; another seed moves the interval. */
    CHECK_OK(pth_bootstrap_ci(y, p, N, 0.5, 300, 0.05, 7, &lo2, &hi2, &err), &err);
    CHECK(memcmp(&lo, &lo2, sizeof lo) == 0 && memcmp(&hi, &hi2, sizeof hi) == 0);
    CHECK_OK(pth_bootstrap_ci(y, p, N, 0.5, 300, 0.05, 8, &lo2, &hi2, &err), &err);
    CHECK(memcmp(&lo, &lo2, sizeof lo) != 0);
    /* Bad arguments. */
    CHECK(pth_bootstrap_ci(y, p, N, 0.5, 0, 0.05, 7, &lo, &hi, &err) == PTH_ERR_INVALID);
    CHECK(pth_bootstrap_ci(y, p, N, 0.5, 10, 1.5, 7, &lo, &hi, &err) == PTH_ERR_INVALID);
}

static void test_errors(void)
{
    pth_metrics m;
    pth_error err;
    const int y[] = {0, 2};
    const double p[] = {0.2, 0.8};
    CHECK(pth_metrics_compute(y, p, 0, 0.5, &m, &err) == PTH_ERR_INVALID);
    CHECK(pth_metrics_compute(y, p, 2, 0.5, &m, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "record 1") != NULL);
    const int y2[] = {0, 1};
    const double p2[] = {0.2, NAN};
    CHECK(pth_metrics_compute(y2, p2, 2, 0.5, &m, &err) == PTH_ERR_INVALID);
    const double p3[] = {-0.1, 0.5};
    CHECK(pth_metrics_compute(y2, p3, 2, 0.5, &m, &err) == PTH_ERR_INVALID);
    CHECK(strcmp(pth_metric_name(PTH_M_ROC_AUC), "roc_auc") == 0);
    CHECK(pth_metric_higher_is_better(PTH_M_MCC) && !pth_metric_higher_is_better(PTH_M_LOG_LOSS));
}

int main(void)
{
    test_against_sklearn();
    test_ece();
    test_summaries();
    test_bootstrap();
    test_errors();
    return pth_test_finish();
}
