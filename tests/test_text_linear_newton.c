/* The truncated-Newton logistic solver (the default of pth_logreg_fit) against the L-BFGS
 * solver and against the optimality conditions of the objective
 *   0.5 ||w||^2 + C sum_i s_i log(1 + exp(-y_i (w.x_i + b)))
 * on random sparse problems: the same optimum (coefficients to 1e-6 at tol 1e-10), a
 * gradient that meets the stopping rule, and results that do not depend on the thread
 * count, on the other labels of the call or on a label's lane in its block. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/rng.h"
#include "pathos/text.h"
#include "text/rowtiles.h"

/* The project's own PRNG, seeded in main(). */
static pth_rng rng;
static double urand(void) { return pth_rng_uniform(&rng); }

/* n rows over ncols hashed-style columns (some never used), L labels that depend on the
 * features (plus noise), with label rates from 50% down to a few percent. */
static void make_problem(pth_csr *X, unsigned char *Y, size_t n, size_t ncols, size_t L)
{
    pth_error err;
    pth_csr_init(X, ncols, &err);
    double *beta = malloc(ncols * L * sizeof *beta);
    for (size_t k = 0; k < ncols * L; k++)
        beta[k] = 4.0 * (urand() - 0.5);
    uint32_t idx[64];
    float val[64];
    for (size_t i = 0; i < n; i++) {
        size_t nnz = 0;
        for (size_t j = 0; j < ncols && nnz < 64; j++)
            if (j % 7 != 3 && urand() < 0.08) { /* columns 3, 10, ... stay empty */
                idx[nnz] = (uint32_t)j;
                val[nnz++] = (float)(0.2 + urand());
            }
        pth_csr_append_row(X, idx, val, nnz, &err);
        for (size_t l = 0; l < L; l++) {
            double z = -0.3 * (double)l;
            for (size_t k = 0; k < nnz; k++)
                z += val[k] * beta[idx[k] * L + l];
            Y[i * L + l] = z + 2.0 * (urand() - 0.5) > 0.5;
        }
    }
    free(beta);
}

/* ||grad||_inf and f of label l at the fitted model. */
static void grad_check(const pth_csr *X, const unsigned char *Y, size_t L, size_t l, const pth_logreg_options *o,
                       const pth_linear *m, double *gmax, double *fval)
{
    size_t n = X->nrows, d = X->ncols, npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += Y[i * L + l] != 0;
    double wp = o->balanced ? (double)n / (2.0 * (double)npos) : 1.0;
    double wn = o->balanced ? (double)n / (2.0 * (double)(n - npos)) : 1.0;
    const double *w = m->coef + l * d;
    double *g = calloc(d + 1, sizeof *g), f = 0;
    for (size_t j = 0; j < d; j++) {
        g[j] = w[j];
        f += 0.5 * w[j] * w[j];
    }
    for (size_t i = 0; i < n; i++) {
        double z = m->intercept[l];
        for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++)
            z += X->data[q] * w[X->indices[q]];
        double y = Y[i * L + l] ? 1.0 : -1.0, c = o->C * (Y[i * L + l] ? wp : wn), mg = y * z;
        f += c * (mg > 0 ? log1p(exp(-mg)) : -mg + log1p(exp(mg)));
        double r = -c * y / (1.0 + exp(mg));
        for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++)
            g[X->indices[q]] += X->data[q] * r;
        g[d] += r;
    }
    *gmax = 0;
    for (size_t j = 0; j <= d; j++)
        if (j < d || o->fit_intercept)
            *gmax = fabs(g[j]) > *gmax ? fabs(g[j]) : *gmax;
    *fval = f;
    free(g);
}

/* n rows: 400 fit one row tile of the solver's passes; 8,492 span three (rowtiles.h). */
static void test_same_optimum(size_t N, int balanced, int intercept)
{
    enum { NC = 120, L = 5 };
    pth_csr X;
    unsigned char *Y = malloc(N * L);
    make_problem(&X, Y, N, NC, L);
    pth_logreg_options o;
    pth_logreg_options_default(&o);
    CHECK(o.solver == PTH_LOGREG_NEWTON);
    o.C = 4.0;
    o.tol = 1e-10;
    o.max_iter = 5000;
    o.balanced = balanced;
    o.fit_intercept = intercept;
    o.threads = 1;
    pth_linear mn, ml;
    pth_error err;
    CHECK_OK(pth_logreg_fit(&X, Y, L, &o, &mn, &err), &err);
    o.solver = PTH_LOGREG_LBFGS;
    CHECK_OK(pth_logreg_fit(&X, Y, L, &o, &ml, &err), &err);
    o.solver = PTH_LOGREG_NEWTON;
    for (size_t l = 0; l < L; l++) {
        double dmax = 0;
        for (size_t j = 0; j < NC; j++)
            dmax = fmax(dmax, fabs(mn.coef[l * NC + j] - ml.coef[l * NC + j]));
        CHECK(dmax < 1e-6);
        CHECK_NEAR(mn.intercept[l], ml.intercept[l], 1e-6);
        if (!intercept)
            CHECK(mn.intercept[l] == 0.0);
        for (size_t j = 3; j < NC; j += 7) /* empty columns */
            CHECK(mn.coef[l * NC + j] == 0.0);
        double gmax, f;
        grad_check(&X, Y, L, l, &o, &mn, &gmax, &f);
        /* At tol 1e-10 both solvers may stop where f no longer changes in double
         * precision (relative gradient about 1e-9). */
        CHECK(gmax <= 1e-8 * fmax(1.0, f));
        /* On 8,492 rows L-BFGS stops at a gradient ~100x larger than Newton's (f has
         * stopped changing in double); Newton's own gradient gets the tighter check. */
        if (N > 1000)
            CHECK(gmax <= 1e-9 * fmax(1.0, f));
    }
    pth_linear_free(&mn);
    pth_linear_free(&ml);
    pth_csr_free(&X);
    free(Y);
}

/* Default tolerance: the stopping rule holds; 20 labels = two blocks of 10 lanes. */
static void test_default_tol_and_determinism(size_t N)
{
    enum { NC = 150, L = 20 };
    pth_csr X;
    unsigned char *Y = malloc(N * L);
    make_problem(&X, Y, N, NC, L);
    for (size_t i = 0; i < N; i++)
        Y[i * L + 7] = 0; /* a label with one class */
    pth_logreg_options o;
    pth_logreg_options_default(&o);
    o.C = 4.0;
    o.threads = 1;
    pth_linear m1, m2, m3;
    pth_error err;
    CHECK_OK(pth_logreg_fit(&X, Y, L, &o, &m1, &err), &err);
    CHECK(m1.intercept[7] == -30.0);
    for (size_t l = 0; l < L; l++) {
        if (l == 7)
            continue;
        double gmax, f;
        grad_check(&X, Y, L, l, &o, &m1, &gmax, &f);
        CHECK(gmax <= o.tol * fmax(1.0, f) * 1.0001);
    }
    /* Thread count: bit-identical. */
    o.threads = 2;
    CHECK_OK(pth_logreg_fit(&X, Y, L, &o, &m2, &err), &err);
    CHECK(memcmp(m1.coef, m2.coef, L * NC * sizeof(double)) == 0);
    CHECK(memcmp(m1.intercept, m2.intercept, L * sizeof(double)) == 0);
    /* One label alone (lane 0 of a block of 1) = the same label among 20. */
    const size_t pick[3] = {0, 11, 19};
    for (int k = 0; k < 3; k++) {
        unsigned char *Y1 = malloc(N);
        for (size_t i = 0; i < N; i++)
            Y1[i] = Y[i * L + pick[k]];
        CHECK_OK(pth_logreg_fit(&X, Y1, 1, &o, &m3, &err), &err);
        CHECK(memcmp(m3.coef, m1.coef + pick[k] * NC, NC * sizeof(double)) == 0);
        CHECK(m3.intercept[0] == m1.intercept[pick[k]]);
        pth_linear_free(&m3);
        free(Y1);
    }
    pth_linear_free(&m1);
    pth_linear_free(&m2);
    pth_csr_free(&X);
    free(Y);
}

int main(void)
{
    pth_rng_seed(&rng, 11);
    test_same_optimum(400, 0, 1);
    test_same_optimum(400, 1, 1);
    test_same_optimum(400, 0, 0);
    test_same_optimum(2 * PTH_TILE_ROWS + 300, 0, 1);
    test_default_tol_and_determinism(600);
    test_default_tol_and_determinism(2 * PTH_TILE_ROWS + 300);
    return pth_test_finish();
}
