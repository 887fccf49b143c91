/* L2-regularised logistic regression, sklearn's convention:
 *     minimise  C * sum_i loss_i + 0.5 * sum_k ||w_k||^2     (intercepts not penalised)
 * Two classes: one weight vector and the logistic loss (sklearn's binary case).  More
 * classes: one vector per class and the multinomial (softmax) loss.
 *
 * Solver: Newton's method with the Newton system solved by conjugate gradients on exact
 * Hessian-vector products (never forming the Hessian, so memory is O(n*K + d*K)), and an
 * Armijo backtracking line search.  Newton converges quadratically near the optimum, which
 * makes a tight tolerance cheap; the stopping rule is sklearn's lbfgs one: the largest
 * gradient component of the mean-normalised objective (F / (C*n)) below `tol`.
 * Parameters: C (default 1), tol (1e-10), max_iter (100 Newton steps). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learner_impl.h"

typedef struct {
    double C, tol;
    int max_iter;
} logreg_opts;

static const pth_param_spec logreg_specs[] = {
    {"C", PTH_PARAM_DOUBLE, 1e-12, 1e12, offsetof(logreg_opts, C), NULL},
    {"tol", PTH_PARAM_DOUBLE, 0.0, 1.0, offsetof(logreg_opts, tol), NULL},
    {"max_iter", PTH_PARAM_INT, 1, 100000, offsetof(logreg_opts, max_iter), NULL},
};

typedef struct {
    size_t d, nv; /* nv = 1 for two classes, else n_classes */
    int k;
    double *theta; /* nv blocks of d weights followed by the intercept */
} logreg_state;

/* Training problem and per-row work arrays (n * nv each). */
typedef struct {
    const double *X;
    const int *y;
    size_t n, d, nv;
    double C;
    double *Z, *P, *U;
} lr_prob;

static void logreg_free(void *state)
{
    logreg_state *s = state;
    if (s)
        free(s->theta);
    free(s);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* Z = X * W^T + b for nv blocks of theta (layout: block k = w_k[0..d-1], b_k). */
static void scores(const double *X, size_t n, size_t d, size_t nv, const double *theta, double *Z)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nv; k++)
            Z[i * nv + k] = dot(X + i * d, theta + k * (d + 1), d) + theta[k * (d + 1) + d];
}

/* Probabilities from scores, in place of P; returns the summed loss. */
static double probs_and_loss(const double *Z, const int *y, size_t n, size_t nv, double *P)
{
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * nv;
        double *p = P + i * nv;
        if (nv == 1) {
            double zi = z[0];
            loss += (zi > 0 ? zi + log1p(exp(-zi)) : log1p(exp(zi))) - (y[i] == 1 ? zi : 0.0);
            p[0] = sigmoid(zi);
            continue;
        }
        double mx = z[0], se = 0;
        for (size_t k = 1; k < nv; k++)
            mx = z[k] > mx ? z[k] : mx;
        for (size_t k = 0; k < nv; k++)
            se += exp(z[k] - mx);
        double lse = mx + log(se);
        for (size_t k = 0; k < nv; k++)
            p[k] = exp(z[k] - lse);
        loss += lse - z[y[i]];
    }
    return loss;
}

static double objective(lr_prob *pr, const double *theta)
{
    scores(pr->X, pr->n, pr->d, pr->nv, theta, pr->Z);
    double f = pr->C * probs_and_loss(pr->Z, pr->y, pr->n, pr->nv, pr->P);
    for (size_t k = 0; k < pr->nv; k++)
        f += 0.5 * dot(theta + k * (pr->d + 1), theta + k * (pr->d + 1), pr->d);
    return f;
}

/* out = C * X^T R (+ intercept sums) + penalty term pen (weights only), R is n * nv. */
static void backproject(const lr_prob *pr, const double *R, const double *pen, double *out)
{
    size_t d = pr->d, nv = pr->nv;
    memset(out, 0, nv * (d + 1) * sizeof *out);
    for (size_t i = 0; i < pr->n; i++) {
        const double *x = pr->X + i * d;
        for (size_t k = 0; k < nv; k++) {
            double r = pr->C * R[i * nv + k];
            double *o = out + k * (d + 1);
            for (size_t j = 0; j < d; j++)
                o[j] += r * x[j];
            o[d] += r;
        }
    }
    for (size_t k = 0; k < nv; k++)
        for (size_t j = 0; j < d; j++)
            out[k * (d + 1) + j] += pen[k * (d + 1) + j];
}

/* Gradient at the point whose probabilities are in pr->P (residuals go through U). */
static void gradient(lr_prob *pr, const double *theta, double *g)
{
    for (size_t i = 0; i < pr->n; i++)
        for (size_t k = 0; k < pr->nv; k++) {
            int yk = pr->nv == 1 ? pr->y[i] == 1 : pr->y[i] == (int)k;
            pr->U[i * pr->nv + k] = pr->P[i * pr->nv + k] - (double)yk;
        }
    backproject(pr, pr->U, theta, g);
}

/* Hessian-vector product at pr->P.  Binary: X^T diag(p(1-p)) X v.  Softmax: per row,
 * r_k = p_k (u_k - sum_j p_j u_j) with u = X v. */
static void hess_vec(lr_prob *pr, const double *v, double *out)
{
    size_t nv = pr->nv;
    scores(pr->X, pr->n, pr->d, nv, v, pr->U);
    for (size_t i = 0; i < pr->n; i++) {
        double *u = pr->U + i * nv;
        const double *p = pr->P + i * nv;
        if (nv == 1) {
            u[0] *= p[0] * (1.0 - p[0]);
            continue;
        }
        double s = dot(p, u, nv);
        for (size_t k = 0; k < nv; k++)
            u[k] = p[k] * (u[k] - s);
    }
    backproject(pr, pr->U, v, out);
}

/* Conjugate gradients for H s = -g to relative residual eta (work: 3 vectors of m). */
static void cg_solve(lr_prob *pr, const double *g, size_t m, double eta, double *s, double *work)
{
    double *r = work, *dir = work + m, *Hd = work + 2 * m;
    memset(s, 0, m * sizeof *s);
    for (size_t i = 0; i < m; i++)
        r[i] = dir[i] = -g[i];
    double rr = dot(r, r, m), stop = eta * eta * rr;
    size_t max_cg = m < 50 ? 100 : 2 * m > 1000 ? 1000 : 2 * m;
    for (size_t it = 0; it < max_cg && rr > stop; it++) {
        hess_vec(pr, dir, Hd);
        double dHd = dot(dir, Hd, m);
        if (!(dHd > 0))
            break;
        double a = rr / dHd;
        for (size_t i = 0; i < m; i++) {
            s[i] += a * dir[i];
            r[i] -= a * Hd[i];
        }
        double rr_new = dot(r, r, m);
        for (size_t i = 0; i < m; i++)
            dir[i] = r[i] + rr_new / rr * dir[i];
        rr = rr_new;
    }
}

/* Backtracking from the full Newton step.  Near the optimum the decrease falls below the
 * rounding noise of f, so a step that changes f only at that level is accepted too.
 * Returns the new objective, or NAN if no acceptable step was found. */
static double line_search(lr_prob *pr, double *theta, const double *s, const double *g, size_t m, double f0,
                          double *trial)
{
    double gs = dot(g, s, m);
    for (double a = 1.0; a > 1e-12; a *= 0.5) {
        for (size_t i = 0; i < m; i++)
            trial[i] = theta[i] + a * s[i];
        double f = objective(pr, trial);
        if (f <= f0 + 1e-4 * a * gs || fabs(f - f0) <= 1e-13 * fabs(f0)) {
            memcpy(theta, trial, m * sizeof *theta);
            return f;
        }
    }
    return NAN;
}

static double max_abs(const double *v, size_t m)
{
    double mx = 0;
    for (size_t i = 0; i < m; i++)
        mx = fabs(v[i]) > mx ? fabs(v[i]) : mx;
    return mx;
}

static void newton(lr_prob *pr, const logreg_opts *o, double *theta, double *work)
{
    size_t m = pr->nv * (pr->d + 1);
    double *g = work, *s = work + m, *trial = work + 2 * m, *cgw = work + 3 * m;
    double scale = pr->C * (double)pr->n; /* F / scale is sklearn's objective */
    double f = objective(pr, theta);
    for (int it = 0; it < o->max_iter; it++) {
        gradient(pr, theta, g);
        double gmax = max_abs(g, m) / scale;
        if (gmax <= o->tol)
            break;
        double eta = sqrt(gmax) < 0.1 ? sqrt(gmax) : 0.1;
        cg_solve(pr, g, m, eta, s, cgw);
        if (!(dot(g, s, m) < 0))
            for (size_t i = 0; i < m; i++)
                s[i] = -g[i];
        f = line_search(pr, theta, s, g, m, f, trial);
        if (isnan(f))
            break; /* no further progress representable in double precision */
        /* pr->P now holds the probabilities at the accepted point (its last evaluation). */
    }
}

/* Softmax intercepts are defined only up to a common shift; report the zero-sum one
 * (which is also what an lbfgs run started from zero, like sklearn's, converges to). */
static void centre_intercepts(logreg_state *s)
{
    if (s->nv < 2)
        return;
    double mean = 0;
    for (size_t k = 0; k < s->nv; k++)
        mean += s->theta[k * (s->d + 1) + s->d];
    mean /= (double)s->nv;
    for (size_t k = 0; k < s->nv; k++)
        s->theta[k * (s->d + 1) + s->d] -= mean;
}

static int logreg_fit(const pth_fit_input *in, void **state, pth_error *err)
{
    logreg_opts o = {1.0, 1e-10, 100};
    int rc = pth_params_parse("logreg", logreg_specs, sizeof logreg_specs / sizeof logreg_specs[0], in->params,
                              in->n_params, &o, err);
    if (rc)
        return rc;
    size_t nv = in->n_classes == 2 ? 1 : (size_t)in->n_classes, m = nv * (in->d + 1);
    logreg_state *s = calloc(1, sizeof *s);
    lr_prob pr = {in->X, in->y, in->n, in->d, nv, o.C, NULL, NULL, NULL};
    pr.Z = malloc(in->n * nv * sizeof *pr.Z);
    pr.P = malloc(in->n * nv * sizeof *pr.P);
    pr.U = malloc(in->n * nv * sizeof *pr.U);
    double *work = malloc(6 * m * sizeof *work);
    if (s)
        s->theta = calloc(m, sizeof *s->theta);
    if (!s || !s->theta || !pr.Z || !pr.P || !pr.U || !work) {
        rc = pth_fail(err, PTH_ERR_NOMEM, "logreg: out of memory for %zu rows x %zu features", in->n, in->d);
    } else {
        s->d = in->d;
        s->nv = nv;
        s->k = in->n_classes;
        newton(&pr, &o, s->theta, work);
        centre_intercepts(s);
    }
    free(pr.Z);
    free(pr.P);
    free(pr.U);
    free(work);
    if (rc) {
        logreg_free(s);
        return rc;
    }
    *state = s;
    return PTH_OK;
}

static int logreg_predict(const void *state, const double *X, size_t n, double *proba, pth_error *err)
{
    const logreg_state *s = state;
    double *Z = malloc(n * s->nv * sizeof *Z);
    if (!Z)
        return pth_fail(err, PTH_ERR_NOMEM, "logreg: out of memory for %zu rows", n);
    scores(X, n, s->d, s->nv, s->theta, Z);
    size_t k = (size_t)s->k;
    for (size_t i = 0; i < n; i++) {
        if (s->nv == 1) {
            double p = sigmoid(Z[i]);
            proba[i * 2] = 1.0 - p;
            proba[i * 2 + 1] = p;
        } else {
            int y0 = 0;
            probs_and_loss(Z + i * k, &y0, 1, k, proba + i * k);
        }
    }
    free(Z);
    return PTH_OK;
}

static int logreg_save(const void *state, pth_blob_writer *w, pth_error *err)
{
    (void)err;
    const logreg_state *s = state;
    pth_blob_u64(w, s->nv);
    pth_blob_f64s(w, s->theta, s->nv * (s->d + 1));
    return PTH_OK;
}

static int logreg_load(pth_blob_reader *r, const pth_learner_shape *shape, void **state, pth_error *err)
{
    (void)err;
    uint64_t nv = pth_blob_read_u64(r);
    size_t want = shape->n_classes == 2 ? 1 : (size_t)shape->n_classes;
    if (pth_blob_reader_ok(r) && nv != want)
        pth_blob_reader_fail(r, "%llu weight vectors for %d classes", (unsigned long long)nv, shape->n_classes);
    if (pth_blob_reader_ok(r) && shape->d >= ((size_t)1 << 40) / want)
        pth_blob_reader_fail(r, "too many coefficients");
    logreg_state *s = pth_blob_reader_ok(r) ? calloc(1, sizeof *s) : NULL;
    if (s) {
        s->d = shape->d;
        s->nv = want;
        s->k = shape->n_classes;
        s->theta = pth_blob_read_f64s(r, want * (shape->d + 1));
        for (size_t i = 0; s->theta && i < want * (shape->d + 1); i++)
            if (!isfinite(s->theta[i])) {
                pth_blob_reader_fail(r, "coefficient %zu is %g", i, s->theta[i]);
                break;
            }
    } else if (pth_blob_reader_ok(r)) {
        pth_blob_reader_fail(r, "out of memory");
    }
    if (!pth_blob_reader_ok(r)) {
        logreg_free(s);
        return PTH_ERR_FORMAT;
    }
    *state = s;
    return PTH_OK;
}

const double *pth_logreg_theta(const void *state, size_t *nv)
{
    const logreg_state *s = state;
    *nv = s->nv;
    return s->theta;
}

const pth_learner_ops pth_learner_logreg = {
    "logreg", "L2-regularised logistic regression (softmax for >2 classes); params C, tol, max_iter",
    PTH_PREP_IMPUTE | PTH_PREP_STANDARDISE, logreg_fit, logreg_predict, logreg_save, logreg_load, logreg_free,
};
