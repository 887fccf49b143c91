/* Per-member preprocessing of the "tabpfn" learner (src/learners/tabpfn_preprocess.c): the
 * quantile transform against sklearn, the SVD against numpy, the width rules, fingerprints,
 * and the learner with preprocess=auto/quantile/none on the random-weight checkpoint.
 *
 * Reference numbers: Debian's python3-sklearn 1.2.1 / numpy 1.24.2, computed with
 *   /usr/bin/python3 tpp_ref.py
 * where tpp_ref.py is:
 *   import numpy as np
 *   from sklearn.preprocessing import QuantileTransformer
 *   x0 = [3.0, -1.5, 2.25, 7.0, 0.5, 0.5, 4.0, -3.0, 9.5, 1.0, 2.0, 6.0, 5.5, -0.25, 8.0,
 *         3.5, 1.75, 0.0, -2.0, 4.5, 6.5, 2.5, 10.0, -1.0, 3.0]
 *   x1 = [1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 7, 8, 9, 9, 9, 10, float('nan'), 1]
 *   x2 = [0.0]*5 + [2.0]*15 + [5.0]*5
 *   X = np.array([x0, x1, x2]).T
 *   Xt = np.array([[-5.0, 0.0, -1.0], [0.5, 1.0, 0.0], [3.0, 3.0, 1.0], [3.1, 4.5, 2.0],
 *                  [9.99, 9.0, 3.5], [11.0, 12.0, 5.0], [2.2, float('nan'), 2.0000001]])
 *   for nq in (max(len(x0)//10, 2), 7):
 *       qt = QuantileTransformer(n_quantiles=nq, output_distribution='uniform').fit(X)
 *       print(qt.quantiles_.T.tolist(), qt.transform(Xt).tolist(), qt.transform(X)[:5].tolist())
 *   A = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, 1.0, 3.0, 2.0], [2.0, -1.0, 1.0, 0.0],
 *                 [1.5, 0.5, -2.0, 1.0], [-1.0, 2.5, 0.0, 3.0], [0.5, 0.0, 1.0, -2.0]])
 *   U, S, VT = np.linalg.svd(A, full_matrices=False); print(S.tolist(), VT.tolist()) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "learners/learner_impl.h"
#include "learners/tabpfn_preprocess.h"
#include "pathos/rng.h"

extern const pth_learner_ops pth_learner_tabpfn;

enum { NQ_N = 25, NQ_D = 3, NQ_T = 7 };

static const double x0[NQ_N] = {3.0, -1.5, 2.25, 7.0, 0.5, 0.5, 4.0, -3.0, 9.5, 1.0, 2.0, 6.0, 5.5,
                                -0.25, 8.0, 3.5, 1.75, 0.0, -2.0, 4.5, 6.5, 2.5, 10.0, -1.0, 3.0};
static const double x1[NQ_N] = {1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 7, 8, 9, 9, 9, 10, NAN, 1};
static const double xt[NQ_T][NQ_D] = {{-5.0, 0.0, -1.0}, {0.5, 1.0, 0.0},  {3.0, 3.0, 1.0},
                                      {3.1, 4.5, 2.0},   {9.99, 9.0, 3.5}, {11.0, 12.0, 5.0},
                                      {2.2, NAN, 2.0000001}};

/* sklearn outputs for nq = 2 (the coarse rule for 25 rows) and nq = 7. */
static const double q2[NQ_D][2] = {{-3.0, 10.0}, {1.0, 10.0}, {0.0, 5.0}};
static const double t2[NQ_T][NQ_D] = {{0.0, 0.0, 0.0},
                                      {0.2692307692307692, 0.0, 0.0},
                                      {0.4615384615384615, 0.22222222222222227, 0.19999999999999998},
                                      {0.46923076923076923, 0.3888888888888889, 0.39999999999999997},
                                      {0.9992307692307693, 0.8888888888888888, 0.7},
                                      {1.0, 1.0, 1.0},
                                      {0.4, NAN, 0.40000001999999996}};
static const double q7[NQ_D][7] = {
    {-3.0, -0.25000000000000067, 0.9999999999999991, 2.5, 3.9999999999999982, 6.5, 10.0},
    {1.0, 1.8333333333333326, 3.0, 4.0, 5.0, 8.166666666666664, 10.0},
    {0.0, 0.0, 2.0, 2.0, 2.0, 5.0, 5.0}};
static const double t7[NQ_T][NQ_D] = {{0.0, 0.0, 0.0},
                                      {0.2666666666666668, 0.0, 0.0},
                                      {0.5555555555555556, 0.3333333333333333, 0.25},
                                      {0.5666666666666668, 0.5833333333333333, 0.5},
                                      {0.9995238095238095, 0.9090909090909092, 0.75},
                                      {1.0, 1.0, 1.0},
                                      {0.4666666666666667, NAN, 0.6666666722222222}};
static const double tr7[5][NQ_D] = {{0.5555555555555556, 0.0, 0.0},
                                    {0.09090909090909094, 0.0, 0.0},
                                    {0.4722222222222222, 0.0, 0.0},
                                    {0.8571428571428571, 0.19047619047619055, 0.0},
                                    {0.2666666666666668, 0.19047619047619055, 0.0}};

static int same(double a, double b, double tol)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= tol;
}

static void test_quantile(void)
{
    CHECK(pth_tpp_coarse_quantiles(25) == 2 && pth_tpp_coarse_quantiles(1000) == 100);
    CHECK(pth_tpp_coarse_quantiles(3) == 2 && pth_tpp_coarse_quantiles(1) == 1);
    double X[NQ_N * NQ_D], work[NQ_N], q[NQ_D][7];
    for (int i = 0; i < NQ_N; i++)
        X[i * NQ_D] = x0[i], X[i * NQ_D + 1] = x1[i], X[i * NQ_D + 2] = i < 5 ? 0.0 : i < 20 ? 2.0 : 5.0;
    double md = 0;
    int ok = 1;
    for (int j = 0; j < NQ_D; j++) {
        pth_tpp_quantile_fit(X + j, NQ_D, NQ_N, 2, q[j], work);
        for (int k = 0; k < 2; k++)
            md = fmax(md, fabs(q[j][k] - q2[j][k]));
        for (int t = 0; t < NQ_T; t++)
            ok &= same(pth_tpp_quantile_apply(q[j], 2, xt[t][j]), t2[t][j], 1e-12);
    }
    for (int j = 0; j < NQ_D; j++) {
        pth_tpp_quantile_fit(X + j, NQ_D, NQ_N, 7, q[j], work);
        for (int k = 0; k < 7; k++)
            md = fmax(md, fabs(q[j][k] - q7[j][k]));
        for (int t = 0; t < NQ_T; t++)
            ok &= same(pth_tpp_quantile_apply(q[j], 7, xt[t][j]), t7[t][j], 1e-12);
        for (int r = 0; r < 5; r++)
            ok &= same(pth_tpp_quantile_apply(q[j], 7, X[r * NQ_D + j]), tr7[r][j], 1e-12);
    }
    printf("quantiles vs sklearn: max |diff| %.3g, transforms within 1e-12: %s\n", md, ok ? "yes" : "NO");
    CHECK(md < 1e-12);
    CHECK(ok);
}

static void test_svd(void)
{
    static const double A[6 * 4] = {1.0, 2.0,  0.5, -1.0, 0.0, 1.0, 3.0, 2.0,  2.0,  -1.0, 1.0, 0.0,
                                    1.5, 0.5, -2.0, 1.0,  -1.0, 2.5, 0.0, 3.0, 0.5, 0.0,  1.0, -2.0};
    static const double S[4] = {5.077955232193711, 3.8575603416623565, 2.792338978169417, 2.6050800182079064};
    static const double VT[4][4] = {
        {-0.21387965184359187, 0.5352694663264732, 0.21389651759693193, 0.78866366260006},
        {-0.12409236175009694, 0.014360944354964295, -0.9676839092605333, 0.2190495395812779},
        {0.8439044805033837, 0.5152881191144454, -0.12053249180869956, -0.08817766442924663},
        {0.476111129956926, -0.6691476040421149, 0.0575156494925016, 0.5676721113453536}};
    double V[4 * 4], sv[4];
    pth_error err = {0};
    for (size_t k = 2; k <= 4; k += 2) {
        CHECK_OK(pth_tpp_svd_top(A, 6, 4, k, V, sv, &err), &err);
        double ds = 0, dv = 0;
        for (size_t c = 0; c < k; c++) {
            ds = fmax(ds, fabs(sv[c] - S[c]));
            double dp = 0, dm = 0; /* up to sign */
            for (size_t i = 0; i < 4; i++) {
                dp = fmax(dp, fabs(V[i * k + c] - VT[c][i]));
                dm = fmax(dm, fabs(V[i * k + c] + VT[c][i]));
            }
            dv = fmax(dv, fmin(dp, dm));
        }
        printf("svd k=%zu vs numpy: singular values %.3g, components (up to sign) %.3g\n", k, ds, dv);
        CHECK(ds < 1e-10 && dv < 1e-10);
    }
    CHECK(pth_tpp_svd_top(A, 6, 4, 5, V, sv, &err) == PTH_ERR_INVALID);

    /* A larger matrix (60 x 25, with two equal columns so one singular value is 0):
     * A^T A v = s^2 v, orthonormal components, decreasing values. */
    enum { R = 60, M = 25 };
    double *B = malloc(R * M * sizeof *B), *W = malloc(M * M * sizeof *W), s2[M];
    pth_rng rng;
    pth_rng_seed(&rng, 3);
    for (int i = 0; i < R * M; i++)
        B[i] = pth_rng_normal(&rng) * (1.0 + (double)(i % M));
    for (int i = 0; i < R; i++)
        B[i * M + 7] = B[i * M + 3];
    CHECK_OK(pth_tpp_svd_top(B, R, M, M, W, s2, &err), &err);
    double res = 0, orth = 0;
    int dec = 1;
    for (int c = 0; c < M; c++) {
        dec &= c == 0 || s2[c] <= s2[c - 1];
        for (int i = 0; i < M; i++) {
            double g = 0; /* (A^T A v)_i */
            for (int r = 0; r < R; r++) {
                double av = 0;
                for (int j = 0; j < M; j++)
                    av += B[r * M + j] * W[j * M + c];
                g += B[r * M + i] * av;
            }
            res = fmax(res, fabs(g - s2[c] * s2[c] * W[i * M + c]) / (s2[0] * s2[0]));
        }
        for (int c2 = 0; c2 < M; c2++) {
            double dot = 0;
            for (int i = 0; i < M; i++)
                dot += W[i * M + c] * W[i * M + c2];
            orth = fmax(orth, fabs(dot - (c == c2)));
        }
    }
    printf("svd 60x25: relative residual %.3g, orthonormality %.3g, smallest value %.3g\n", res, orth, s2[M - 1]);
    CHECK(dec && res < 1e-12 && orth < 1e-12 && s2[M - 1] < 1e-6 * s2[0]);
    /* Fewer rows than columns (12 x 30, the A A^T path): the same checks for the top 6. */
    enum { R2 = 12, M2 = 30, K2 = 6 };
    double *B2 = malloc(R2 * M2 * sizeof *B2), W2[M2 * K2], s3[K2];
    for (int i = 0; i < R2 * M2; i++)
        B2[i] = pth_rng_normal(&rng) * (1.0 + (double)(i % 7));
    CHECK_OK(pth_tpp_svd_top(B2, R2, M2, K2, W2, s3, &err), &err);
    double res2 = 0, orth2 = 0;
    for (int c = 0; c < K2; c++) {
        for (int i = 0; i < M2; i++) {
            double g = 0;
            for (int r = 0; r < R2; r++) {
                double av = 0;
                for (int j = 0; j < M2; j++)
                    av += B2[r * M2 + j] * W2[j * K2 + c];
                g += B2[r * M2 + i] * av;
            }
            res2 = fmax(res2, fabs(g - s3[c] * s3[c] * W2[i * K2 + c]) / (s3[0] * s3[0]));
        }
        for (int c2 = 0; c2 < K2; c2++) {
            double dot = 0;
            for (int i = 0; i < M2; i++)
                dot += W2[i * K2 + c] * W2[i * K2 + c2];
            orth2 = fmax(orth2, fabs(dot - (c == c2)));
        }
    }
    printf("svd 12x30 (rows path): relative residual %.3g, orthonormality %.3g\n", res2, orth2);
    CHECK(res2 < 1e-12 && orth2 < 1e-12 && s3[K2 - 1] > 0 && s3[K2 - 1] <= s3[0]);
    /* The rows path agrees with the columns path: the 4 x 6 transpose case of the numpy matrix
     * has the same singular values. */
    double At[4 * 6], Vt[6 * 4], st4[4];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++)
            At[j * 6 + i] = A[i * 4 + j];
    CHECK_OK(pth_tpp_svd_top(At, 4, 6, 4, Vt, st4, &err), &err);
    double dsv = 0;
    for (int c = 0; c < 4; c++)
        dsv = fmax(dsv, fabs(st4[c] - S[c]));
    CHECK(dsv < 1e-10);
    free(B), free(W), free(B2);
}

/* Fit on train rows only, width rules, fingerprints. */
static void test_fit_transform(const float *X, size_t n, size_t d)
{
    pth_error err = {0};
    pth_tpp p;
    pth_tpp_config cfg = {1, 1, 1, 2000, 0.0, 1};
    CHECK_OK(pth_tpp_fit(&p, &cfg, X, n, d, &err), &err);
    /* n = 40, d = 5: nq = 4, n_svd = max(1, min(40/10 + 1, 5/2)) = 2, width 5 + 5 + 2 + 1. */
    CHECK(p.nq == 4 && p.n_svd == 2 && p.append_original && p.fingerprint && pth_tpp_width(&p) == 13);
    CHECK(pth_tpp_blocks(&p) == 2);
    size_t W = pth_tpp_width(&p);
    float *T = malloc((n + 2) * W * sizeof *T), *T2 = malloc(2 * W * sizeof *T2);
    CHECK_OK(pth_tpp_transform(&p, X, n, 1, T, &err), &err);
    /* The quantile block of the train rows lies in [0, 1] and hits both ends; the original
     * block is the input; the SVD columns of the train rows are orthogonal with squared norms
     * sv^2 (they are U * S). */
    int ok = 1;
    double lo = 1, hi = 0, g00 = 0, g11 = 0, g01 = 0;
    for (size_t r = 0; r < n; r++) {
        for (size_t j = 0; j < d; j++) {
            float v = T[r * W + j];
            ok &= v >= 0 && v <= 1 && T[r * W + d + j] == X[r * d + j];
            lo = fmin(lo, v), hi = fmax(hi, v);
        }
        double a = T[r * W + 2 * d], b = T[r * W + 2 * d + 1];
        g00 += a * a, g11 += b * b, g01 += a * b;
        ok &= T[r * W + W - 1] >= 0 && T[r * W + W - 1] < 1;
    }
    CHECK(ok && lo == 0 && hi == 1);
    printf("svd features of the train rows: |u0|^2 %.6g vs sv0^2 %.6g, |u1|^2 %.6g vs %.6g, u0.u1 %.3g\n", g00,
           p.sv[0] * p.sv[0], g11, p.sv[1] * p.sv[1], g01);
    CHECK(fabs(g00 - p.sv[0] * p.sv[0]) < 1e-4 * g00 && fabs(g11 - p.sv[1] * p.sv[1]) < 1e-4 * g00);
    CHECK(fabs(g01) < 1e-4 * g00);
    /* A test row far outside the training range maps to the ends; transforming train rows as
     * test rows gives the same features (nothing is refitted on them), fingerprint included
     * where no duplicate was re-hashed. */
    float far[2 * 5];
    for (size_t j = 0; j < d; j++)
        far[j] = -1e6f, far[d + j] = 1e6f;
    CHECK_OK(pth_tpp_transform(&p, far, 2, 0, T2, &err), &err);
    ok = 1;
    for (size_t j = 0; j < d; j++)
        ok &= T2[j] == 0.0f && T2[W + j] == 1.0f;
    CHECK(ok);
    CHECK_OK(pth_tpp_transform(&p, X, 2, 0, T2, &err), &err);
    CHECK(memcmp(T2, T, 2 * W * sizeof *T) == 0);

    /* Duplicate training rows get distinct fingerprints; as test rows, equal ones. */
    float dup[3 * 5];
    memcpy(dup, X, d * sizeof *dup), memcpy(dup + d, X, d * sizeof *dup), memcpy(dup + 2 * d, X + d, d * sizeof *dup);
    CHECK_OK(pth_tpp_transform(&p, dup, 3, 1, T, &err), &err);
    CHECK(T[W - 1] != T[2 * W - 1] && memcmp(T, T + W, (W - 1) * sizeof *T) == 0);
    CHECK_OK(pth_tpp_transform(&p, dup, 3, 0, T, &err), &err);
    CHECK(T[W - 1] == T[2 * W - 1]);
    pth_tpp_free(&p);

    /* Width caps: drop the original block, then cap the SVD, then drop the fingerprint. */
    cfg.max_features = 11;
    CHECK_OK(pth_tpp_fit(&p, &cfg, X, n, d, &err), &err);
    CHECK(!p.append_original && p.n_svd == 2 && p.fingerprint && pth_tpp_width(&p) == 8 && pth_tpp_blocks(&p) == 1);
    pth_tpp_free(&p);
    cfg.max_features = 6;
    CHECK_OK(pth_tpp_fit(&p, &cfg, X, n, d, &err), &err);
    CHECK(!p.append_original && p.n_svd == 1 && !p.fingerprint && pth_tpp_width(&p) == 6);
    pth_tpp_free(&p);
    cfg.max_features = 4;
    CHECK(pth_tpp_fit(&p, &cfg, X, n, d, &err) == PTH_ERR_INVALID);
    /* Outlier removal (std 12): the training rows stay (n = 40: |x - mean| <= (n - 1) /
     * sqrt(n) std < 12 std); a far test value is squashed to log(1 + |x|) + mean + 12 std
     * (ddof 1); NaN stays. */
    pth_tpp_config outl = {0, 1, 0, 2000, 12.0, 1};
    CHECK_OK(pth_tpp_fit(&p, &outl, X, n, d, &err), &err);
    CHECK_OK(pth_tpp_transform(&p, X, n, 1, T, &err), &err);
    CHECK(memcmp(T, X, n * d * sizeof *T) == 0);
    {
        double s = 0, ss = 0;
        for (size_t r = 0; r < n; r++)
            s += X[r * d + 1];
        for (size_t r = 0; r < n; r++)
            ss += (X[r * d + 1] - s / (double)n) * (X[r * d + 1] - s / (double)n);
        double bound = s / (double)n + 12 * sqrt(ss / (double)(n - 1));
        float row[5] = {0, 1e6f, NAN, 0, 0};
        CHECK_OK(pth_tpp_transform(&p, row, 1, 0, T2, &err), &err);
        printf("outlier bound of column 1: %.6g; 1e6 -> %.6g (expected %.6g)\n", bound, (double)T2[1],
               log1p(1e6) + bound);
        CHECK(fabs(T2[1] - (log1p(1e6) + bound)) < 1e-4 * bound && isnan(T2[2]) && T2[0] == 0.0f);
    }
    pth_tpp_free(&p);
    /* svd=off; the none config passes the rows through. */
    pth_tpp_config nosvd = {1, 0, 0, 2000, 0.0, 1}, none = {0, 1, 0, 2000, 0.0, 1};
    CHECK_OK(pth_tpp_fit(&p, &nosvd, X, n, d, &err), &err);
    CHECK(p.n_svd == 0 && pth_tpp_width(&p) == 10);
    pth_tpp_free(&p);
    nosvd.append_original = 0;
    CHECK_OK(pth_tpp_fit(&p, &nosvd, X, n, d, &err), &err);
    CHECK(!p.append_original && pth_tpp_width(&p) == 5 && pth_tpp_blocks(&p) == 1);
    pth_tpp_free(&p);
    CHECK_OK(pth_tpp_fit(&p, &none, X, n, d, &err), &err);
    CHECK(pth_tpp_width(&p) == d);
    CHECK_OK(pth_tpp_transform(&p, X, n, 1, T, &err), &err);
    CHECK(memcmp(T, X, n * d * sizeof *T) == 0);
    pth_tpp_free(&p);
    free(T), free(T2);
}

static void *read_bin(const char *rel, size_t bytes)
{
    FILE *f = fopen(pth_test_shared(rel), "rb");
    if (!f)
        return NULL;
    void *p = malloc(bytes);
    if (fread(p, 1, bytes, f) != bytes) {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

enum { N = 40, T = 10, F = 5, K = 2 };

static int valid_proba(const double *p, size_t n, int k)
{
    int ok = 1;
    for (size_t r = 0; r < n; r++) {
        double s = 0;
        for (int c = 0; c < k; c++) {
            double v = p[r * (size_t)k + (size_t)c];
            s += v, ok &= v > 0 && v < 1;
        }
        ok &= fabs(s - 1) < 1e-12;
    }
    return ok;
}

static void roundtrip(const pth_learner_ops *ops, void *st, const double *Xt, const double *proba, size_t drop)
{
    pth_error err = {0};
    pth_blob_writer w = {0};
    CHECK_OK(ops->save(st, &w, &err), &err);
    pth_blob_reader rd;
    pth_blob_reader_init(&rd, w.data, w.len - drop, "mem");
    pth_learner_shape shape = {F, K};
    void *st2 = NULL;
    double proba2[T * K];
    CHECK_OK(ops->load(&rd, &shape, &st2, &err), &err);
    if (st2) {
        CHECK_OK(ops->predict_proba(st2, Xt, T, proba2, &err), &err);
        CHECK(memcmp(proba, proba2, sizeof proba2) == 0);
        ops->free(st2);
    }
    pth_blob_writer_free(&w);
}

static void test_learner(const double *X, const int *y)
{
    const pth_learner_ops *ops = &pth_learner_tabpfn;
    char model[1024];
    snprintf(model, sizeof model, "%s", pth_test_shared("testdata/tabpfn-v2/model_random.ckpt"));
    pth_error err = {0};
    double pa[T * K], pq[T * K], pn[T * K], p1[T * K];
    const double *Xt = X + N * F;

    /* auto (the default), 4 members: valid, deterministic, save/load bit-identical. */
    pth_param pauto[] = {{"model", model}, {"n_estimators", "4"}};
    pth_fit_input in = {X, y, N, F, K, pauto, 2, 7, 0};
    void *st = NULL;
    CHECK_OK(ops->fit(&in, &st, &err), &err);
    if (st) {
        CHECK_OK(ops->predict_proba(st, Xt, T, pa, &err), &err);
        CHECK(valid_proba(pa, T, K));
        roundtrip(ops, st, Xt, pa, 0);
        /* Predicting one row at a time gives the same probabilities. */
        CHECK_OK(ops->predict_proba(st, Xt + 3 * F, 1, p1, &err), &err);
        CHECK(fabs(p1[0] - pa[3 * K]) < 1e-6);
        ops->free(st);
    }
    /* quantile for every member, and none. */
    pth_param pquant[] = {{"model", model}, {"n_estimators", "2"}, {"preprocess", "quantile"}, {"svd", "on"},
                          {"append_original", "on"}};
    in.params = pquant, in.n_params = 5, st = NULL;
    CHECK_OK(ops->fit(&in, &st, &err), &err);
    if (st) {
        CHECK_OK(ops->predict_proba(st, Xt, T, pq, &err), &err);
        CHECK(valid_proba(pq, T, K));
        roundtrip(ops, st, Xt, pq, 0);
        ops->free(st);
    }
    pth_param pnone[] = {{"model", model}, {"n_estimators", "2"}, {"preprocess", "none"}};
    in.params = pnone, in.n_params = 3, st = NULL;
    CHECK_OK(ops->fit(&in, &st, &err), &err);
    if (st) {
        CHECK_OK(ops->predict_proba(st, Xt, T, pn, &err), &err);
        CHECK(valid_proba(pn, T, K));
        /* A file written before the preprocessing options (without their 16 trailing bytes)
         * loads as preprocess=none. */
        roundtrip(ops, st, Xt, pn, 28);
        ops->free(st);
    }
    double dq = 0;
    for (int i = 0; i < T * K; i++)
        dq = fmax(dq, fabs(pq[i] - pn[i]));
    printf("max |p(quantile) - p(none)| over the test rows: %.3g\n", dq);
    CHECK(dq > 0);
    /* Outlier removal never moves a training row here (n = 40: |x - mean| <= (n - 1) /
     * sqrt(n) std < 12 std) but squashes a far test value; outlier_removal_std=0 leaves it. */
    {
        double Xo[T * F];
        memcpy(Xo, Xt, sizeof Xo);
        Xo[0] = 1e6;
        double po[T * K], poff[T * K];
        pth_param pout[] = {{"model", model}, {"n_estimators", "1"}, {"preprocess", "none"},
                            {"outlier_removal_std", "12"}};
        in.params = pout, in.n_params = 4, st = NULL;
        CHECK_OK(ops->fit(&in, &st, &err), &err);
        if (st) {
            CHECK_OK(ops->predict_proba(st, Xo, T, po, &err), &err);
            roundtrip(ops, st, Xo, po, 0);
            ops->free(st);
        }
        pout[3].value = "0", st = NULL;
        CHECK_OK(ops->fit(&in, &st, &err), &err);
        if (st) {
            CHECK_OK(ops->predict_proba(st, Xo, T, poff, &err), &err);
            ops->free(st);
        }
        CHECK(memcmp(po + K, poff + K, (T - 1) * K * sizeof *po) == 0 && po[0] != poff[0]);
        printf("outlier removal: p(row 0 with x=1e6) %.6f (std 12) vs %.6f (off)\n", po[0], poff[0]);
    }
    /* Options are checked. */
    pth_param bad[] = {{"model", model}, {"preprocess", "power"}};
    in.params = bad, in.n_params = 2, st = NULL;
    CHECK(ops->fit(&in, &st, &err) == PTH_ERR_INVALID && st == NULL);
    pth_param small[] = {{"model", model}, {"max_features", "4"}};
    in.params = small;
    CHECK(ops->fit(&in, &st, &err) == PTH_ERR_INVALID && st == NULL);
}

int main(void)
{
    test_quantile();
    test_svd();
    float *Xf = read_bin("testdata/tabpfn-v2/case_a/X.bin", (N + T) * F * sizeof(float));
    float *yf = read_bin("testdata/tabpfn-v2/case_a/y_train.bin", N * sizeof(float));
    CHECK(Xf && yf);
    if (Xf && yf) {
        test_fit_transform(Xf, N, F);
        double X[(N + T) * F];
        int y[N];
        for (int i = 0; i < (N + T) * F; i++)
            X[i] = Xf[i];
        for (int i = 0; i < N; i++)
            y[i] = (int)yf[i];
        test_learner(X, y);
    }
    free(Xf), free(yf);
    return pth_test_finish();
}
