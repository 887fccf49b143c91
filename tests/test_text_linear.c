/* Ridge and logistic regression on CSR features vs scikit-learn 1.2.1, and save/load.
 *
 * Reference values: Debian python3-sklearn 1.2.1, `/usr/bin/python3 tests/ref/text_sklearn_refs.py` with
 *   X = [[1,0,2,0],[0,1,0,3],[1,1,0,0],[0,0,1,1],[2,0,0,1],[0,3,1,0],[1,2,3,0]]
 *   y = [1.0,2.5,0.5,3.0,-1.0,2.0,1.5]
 *   Ridge(alpha=0.5, solver='cholesky').fit(X, y)
 *   Ridge(alpha=0.5, fit_intercept=False, solver='cholesky').fit(X, y)
 *   Ridge(alpha=0.3, solver='cholesky').fit(X[:3], y[:3])            (n < d: dual CG path)
 *   LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(X, [1,0,1,0,0,1,1])
 *   LogisticRegression(C=2.0, class_weight='balanced', tol=1e-10, max_iter=10000)
 *       .fit(X, [1,0,0,0,0,1,0])
 * scikit-learn's lbfgs stops short of the optimum by ~1e-5, so the logistic checks use the
 * optimum of the same objective found by scipy BFGS (gtol 1e-13, same script) at 1e-6 and
 * scikit-learn's numbers at 3e-5:
 *   minimize(0.5 w.w + C sum s_i logaddexp(0, -y_i (x_i.w + b))) ->
 *   label 0: w = [0.07492504, 0.63566773, 0.46127807, -0.9544027], b = -0.03642936
 *   label 1 (C=2, balanced): w = [-0.52758939, 0.15550676, 0.34502905, -0.98900457],
 *            b = 0.15160837 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/text.h"

static const double XD[7][4] = {{1, 0, 2, 0}, {0, 1, 0, 3}, {1, 1, 0, 0}, {0, 0, 1, 1},
                                {2, 0, 0, 1}, {0, 3, 1, 0}, {1, 2, 3, 0}};
static const double YR[7] = {1.0, 2.5, 0.5, 3.0, -1.0, 2.0, 1.5};

/* X scattered into `ncols` columns (column j -> spread[j]) so compaction is exercised. */
static void make_x(pth_csr *X, size_t rows, size_t ncols, const uint32_t spread[4])
{
    pth_error err;
    pth_csr_init(X, ncols, &err);
    for (size_t i = 0; i < rows; i++) {
        uint32_t idx[4];
        float val[4];
        size_t nnz = 0;
        for (size_t j = 0; j < 4; j++)
            if (XD[i][j] != 0) {
                idx[nnz] = spread[j];
                val[nnz++] = (float)XD[i][j];
            }
        pth_csr_append_row(X, idx, val, nnz, &err);
    }
}

static void test_ridge(void)
{
    static const uint32_t spread[4] = {3, 100, 500, 900};
    pth_csr X;
    pth_error err;
    make_x(&X, 7, 1024, spread);
    pth_ridge_options o;
    pth_ridge_options_default(&o);
    o.alpha = 0.5;
    pth_linear m;
    CHECK_OK(pth_ridge_fit(&X, YR, 1, &o, &m, &err), &err);
    const double ref[4] = {-1.41993511, -0.07152758, 0.35707261, 0.22301551};
    for (int j = 0; j < 4; j++)
        CHECK_NEAR(m.coef[spread[j]], ref[j], 1e-7);
    CHECK_NEAR(m.intercept[0], 1.9265403944586845, 1e-7);
    CHECK(m.coef[0] == 0.0 && m.coef[1023] == 0.0);

    /* Predictions equal X w + b; save/load round trip reproduces them exactly. */
    double pred[7], pred2[7];
    CHECK_OK(pth_linear_predict(&m, &X, pred, &err), &err);
    double manual = m.intercept[0];
    for (int j = 0; j < 4; j++)
        manual += XD[6][j] * m.coef[spread[j]];
    CHECK_NEAR(pred[6], manual, 1e-12);
    char path[512];
    snprintf(path, sizeof path, "%s/ridge.bin", pth_test_tmpdir());
    CHECK_OK(pth_linear_save_file(&m, path, &err), &err);
    pth_linear m2;
    CHECK_OK(pth_linear_load_file(&m2, path, &err), &err);
    CHECK(m2.kind == PTH_LINEAR_RIDGE && m2.d == 1024 && m2.n_out == 1);
    CHECK_OK(pth_linear_predict(&m2, &X, pred2, &err), &err);
    CHECK(memcmp(pred, pred2, sizeof pred) == 0);
    pth_linear_free(&m2);

    /* A truncated or corrupted file is a format error, never a crash. */
    pth_blob_writer w = {0};
    pth_linear_save(&m, &w);
    for (size_t cut = 0; cut < w.len; cut += 3) {
        pth_blob_reader r;
        pth_blob_reader_init(&r, w.data, cut, "cut");
        CHECK(pth_linear_load(&m2, &r, &err) != PTH_OK);
    }
    pth_blob_writer_free(&w);
    pth_linear_free(&m);

    o.fit_intercept = 0;
    CHECK_OK(pth_ridge_fit(&X, YR, 1, &o, &m, &err), &err);
    const double ref2[4] = {-0.69266423, 0.33710069, 0.71827501, 0.79615229};
    for (int j = 0; j < 4; j++)
        CHECK_NEAR(m.coef[spread[j]], ref2[j], 1e-7);
    CHECK_NEAR(m.intercept[0], 0.0, 0);
    pth_linear_free(&m);
    pth_csr_free(&X);

    /* n = 3 < d = 4: dual system. Two identical targets give identical outputs. */
    make_x(&X, 3, 1024, spread);
    o.fit_intercept = 1;
    o.alpha = 0.3;
    double Y2[6] = {YR[0], YR[0], YR[1], YR[1], YR[2], YR[2]};
    CHECK_OK(pth_ridge_fit(&X, Y2, 2, &o, &m, &err), &err);
    const double ref3[4] = {-0.18643496, -0.07929813, 0.15859625, 0.55930488};
    for (int j = 0; j < 4; j++) {
        CHECK_NEAR(m.coef[spread[j]], ref3[j], 1e-7);
        CHECK_NEAR(m.coef[1024 + spread[j]], ref3[j], 1e-7);
    }
    CHECK_NEAR(m.intercept[0], 0.8454530116416399, 1e-7);
    pth_linear_free(&m);

    o.alpha = 0;
    CHECK(pth_ridge_fit(&X, Y2, 2, &o, &m, &err) == PTH_ERR_INVALID);
    pth_csr_free(&X);
}

static void test_logreg(void)
{
    static const uint32_t spread[4] = {0, 1, 2, 3};
    pth_csr X;
    pth_error err;
    make_x(&X, 7, 4, spread);
    /* Two labels fitted one-vs-rest in one call, plus a constant label. */
    unsigned char Y[7 * 3];
    const unsigned char l0[7] = {1, 0, 1, 0, 0, 1, 1}, l1[7] = {1, 0, 0, 0, 0, 1, 0};
    for (int i = 0; i < 7; i++) {
        Y[i * 3] = l0[i];
        Y[i * 3 + 1] = l1[i];
        Y[i * 3 + 2] = 0;
    }
    pth_logreg_options o;
    pth_logreg_options_default(&o);
    o.tol = 1e-10;
    o.max_iter = 2000;
    pth_linear m;
    CHECK_OK(pth_logreg_fit(&X, Y, 3, &o, &m, &err), &err);
    const double ref[4] = {0.0749239, 0.63565745, 0.4612731, -0.95439389};
    const double opt[4] = {0.07492504, 0.63566773, 0.46127807, -0.9544027};
    for (int j = 0; j < 4; j++) {
        CHECK_NEAR(m.coef[j], ref[j], 3e-5);
        CHECK_NEAR(m.coef[j], opt[j], 1e-6);
    }
    CHECK_NEAR(m.intercept[0], -0.03643181, 3e-5);
    CHECK_NEAR(m.intercept[0], -0.03642936, 1e-6);
    CHECK(m.intercept[2] < -10);
    double p[7 * 3];
    CHECK_OK(pth_linear_predict_proba(&m, &X, p, &err), &err);
    CHECK(p[2] < 1e-6 && p[0] > 0 && p[0] < 1);
    pth_linear_free(&m);

    o.C = 2.0;
    o.balanced = 1;
    CHECK_OK(pth_logreg_fit(&X, Y, 3, &o, &m, &err), &err);
    const double refb[4] = {-0.52759502, 0.15550474, 0.3450293, -0.98900638};
    const double optb[4] = {-0.52758939, 0.15550676, 0.34502905, -0.98900457};
    for (int j = 0; j < 4; j++) {
        CHECK_NEAR(m.coef[4 + j], refb[j], 3e-5);
        CHECK_NEAR(m.coef[4 + j], optb[j], 1e-6);
    }
    CHECK_NEAR(m.intercept[1], 0.15161812, 3e-5);
    CHECK_NEAR(m.intercept[1], 0.15160837, 1e-6);
    pth_linear_free(&m);
    pth_csr_free(&X);
}

int main(void)
{
    test_ridge();
    test_logreg();
    return pth_test_finish();
}
