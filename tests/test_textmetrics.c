/* Text-task metrics against scikit-learn, threshold tuning and label grouping.
 * Reference values: scikit-learn 1.2.1 (Debian python3-sklearn), computed with
 *   f1_score(G, P, average=a, zero_division=0) for a in macro/micro/samples (multi-label), and
 *   f1_score(g, p, labels=[0,1,2,3], average=a, zero_division=0) for macro/weighted/micro
 * on exactly the arrays below. */
#include <string.h>

#include "harness.h"
#include "pathos/textmetrics.h"

static void test_multilabel(void)
{
    const unsigned char G[6 * 4] = {1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0};
    const unsigned char P[6 * 4] = {1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0};
    double per[4];
    pth_ml_scores s;
    pth_multilabel_f1(G, P, 6, 4, per, &s);
    CHECK_NEAR(s.macro_f1, 0.4916666666666667, 1e-12);
    CHECK_NEAR(s.micro_f1, 0.5714285714285715, 1e-12);
    CHECK_NEAR(s.samples_f1, 0.5, 1e-12);
    CHECK_NEAR(per[0], 0.8, 1e-12);
    CHECK_NEAR(per[1], 0.5, 1e-12);
    CHECK_NEAR(per[2], 0.0, 1e-12);
    CHECK_NEAR(per[3], 2.0 / 3.0, 1e-12);
}

static void test_multiclass(void)
{
    const int g[10] = {0, 1, 2, 2, 1, 0, 0, 2, 1, 1};
    const int p[10] = {0, 2, 2, 2, 1, 0, 1, 0, 1, 2};
    double per[4];
    pth_mc_scores s;
    pth_multiclass_f1(g, p, 10, 4, per, &s);
    CHECK_NEAR(s.macro_f1, 0.45238095238095244, 1e-12);
    CHECK_NEAR(s.weighted_f1, 0.6000000000000001, 1e-12);
    CHECK_NEAR(s.micro_f1, 0.6, 1e-12);
    CHECK_NEAR(s.accuracy, 0.6, 1e-12);
    CHECK_NEAR(per[0], 2.0 / 3.0, 1e-12);
    CHECK_NEAR(per[3], 0.0, 1e-12); /* absent class: zero_division = 0 */
}

static void test_threshold(void)
{
    /* Positives score 0.9, 0.7, 0.4; negatives 0.8, 0.3, 0.2, 0.1.  The best cut keeps
     * {0.9, 0.8, 0.7, 0.4}: tp 3, fp 1 -> F1 6/7; the midpoint below 0.4 is 0.35. */
    const double sc[7] = {0.9, 0.8, 0.7, 0.4, 0.3, 0.2, 0.1};
    const unsigned char y[7] = {1, 0, 1, 1, 0, 0, 0};
    double f;
    double t = pth_best_f1_threshold(sc, y, 7, 1, &f);
    CHECK_NEAR(f, 6.0 / 7.0, 1e-12);
    CHECK_NEAR(t, 0.35, 1e-12);
    /* Strided access (column 1 of a 7 x 2 matrix) gives the same answer. */
    double sc2[14];
    unsigned char y2[14];
    for (int i = 0; i < 7; i++) {
        sc2[2 * i] = 0.5, sc2[2 * i + 1] = sc[i];
        y2[2 * i] = 0, y2[2 * i + 1] = y[i];
    }
    CHECK_NEAR(pth_best_f1_threshold(sc2 + 1, y2 + 1, 7, 2, NULL), 0.35, 1e-12);
    /* Tied scores cannot be split: all-equal scores give "everything positive". */
    const double tie[4] = {0.5, 0.5, 0.5, 0.5};
    const unsigned char yt[4] = {1, 0, 1, 0};
    t = pth_best_f1_threshold(tie, yt, 4, 1, &f);
    CHECK(0.5 >= t);
    CHECK_NEAR(f, 2.0 / 3.0, 1e-12);
    /* No positives: predict nothing. */
    const unsigned char none[4] = {0, 0, 0, 0};
    CHECK(pth_best_f1_threshold(sc, none, 4, 1, &f) > 1e299);
    CHECK(f == 0);
}

static void test_apply_and_group(void)
{
    const double sc[2 * 3] = {0.2, 0.6, 0.1, 0.1, 0.2, 0.3};
    const double thr[3] = {0.5, 0.5, 0.5};
    unsigned char pred[6];
    pth_apply_thresholds(sc, 2, 3, thr, 1, pred);
    CHECK(pred[0] == 0 && pred[1] == 1 && pred[2] == 0);
    CHECK(pred[3] == 0 && pred[4] == 0 && pred[5] == 1); /* none above: best label forced */
    pth_apply_thresholds(sc, 2, 3, thr, 0, pred);
    CHECK(pred[5] == 0);
    /* Labels 0,1 -> group 0, label 2 -> group 1; a group is active if any member is. */
    const int gof[3] = {0, 0, 1};
    const unsigned char in[3 * 3] = {1, 1, 0, 0, 0, 1, 0, 0, 0};
    unsigned char out[3 * 2];
    pth_multilabel_group(in, 3, 3, gof, 2, out);
    CHECK(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 1 && out[4] == 0 && out[5] == 0);
}

int main(void)
{
    test_multilabel();
    test_multiclass();
    test_threshold();
    test_apply_and_group();
    return pth_test_finish();
}
