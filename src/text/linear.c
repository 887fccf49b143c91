/* Ridge regression (conjugate gradients) and L2 logistic regression (one-vs-rest: L-BFGS
 * here, the default truncated Newton in logreg_newton.c) on CSR features; prediction and
 * versioned serialisation (see pathos/text.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "pathos/io.h"
#include "pathos/text.h"
#include "text/linear_internal.h"

/* ---------------------------------------------------------------------------------- */
/* Column compaction: hashed matrices use few of their 2^k columns, so the solvers work   */
/* on the columns that occur in the training rows only (memory O(active), not O(2^k)).    */

typedef struct {
    pth_csr X;        /* shallow: indptr/data borrowed from the input, own indices */
    uint32_t *active; /* dact original column ids, ascending */
    size_t dact;
} compact_csr;

static void compact_free(compact_csr *c)
{
    free(c->X.indices);
    free(c->active);
    memset(c, 0, sizeof *c);
}

static int compact_build(const pth_csr *X, int by_freq, compact_csr *c, pth_error *err)
{
    memset(c, 0, sizeof *c);
    size_t nnz = X->indptr[X->nrows];
    int32_t *map = malloc((X->ncols ? X->ncols : 1) * sizeof *map);
    c->X.indices = malloc((nnz ? nnz : 1) * sizeof *c->X.indices);
    if (!map || !c->X.indices) {
        free(map);
        compact_free(c);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory compacting %zu columns", X->ncols);
    }
    size_t dact = pth_csr_active_columns(X, map);
    c->active = malloc((dact ? dact : 1) * sizeof *c->active);
    if (!c->active) {
        free(map);
        compact_free(c);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory compacting columns");
    }
    for (size_t j = 0; j < X->ncols; j++)
        if (map[j] >= 0)
            c->active[map[j]] = (uint32_t)j;
    /* Original indices are sorted per row and the map is monotone, so rows stay sorted. */
    for (size_t k = 0; k < nnz; k++)
        c->X.indices[k] = (uint32_t)map[X->indices[k]];
    free(map);
    if (by_freq && dact > 0) {
        /* Renumber the compact columns by document frequency, most frequent first (ties in
         * column order; a stable counting sort): the coefficients that nearly every row
         * touches then share a few cache lines.  Rows are no longer sorted. */
        size_t *df = calloc(dact, sizeof *df), mx = 0;
        uint32_t *rank = malloc(dact * sizeof *rank), *act = malloc(dact * sizeof *act);
        size_t *cnt = NULL;
        if (df) {
            for (size_t k = 0; k < nnz; k++)
                df[c->X.indices[k]]++;
            for (size_t j = 0; j < dact; j++)
                mx = df[j] > mx ? df[j] : mx;
            cnt = calloc(mx + 2, sizeof *cnt);
        }
        if (!df || !rank || !act || !cnt) {
            free(df), free(rank), free(act), free(cnt);
            compact_free(c);
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory compacting columns");
        }
        for (size_t j = 0; j < dact; j++)
            cnt[mx - df[j] + 1]++;
        for (size_t v = 1; v < mx + 2; v++)
            cnt[v] += cnt[v - 1];
        for (size_t j = 0; j < dact; j++) {
            rank[j] = (uint32_t)cnt[mx - df[j]]++;
            act[rank[j]] = c->active[j];
        }
        for (size_t k = 0; k < nnz; k++)
            c->X.indices[k] = rank[c->X.indices[k]];
        free(c->active);
        c->active = act;
        free(df), free(rank), free(cnt);
    }
    c->dact = dact;
    c->X.nrows = X->nrows;
    c->X.ncols = dact;
    c->X.indptr = X->indptr;
    c->X.data = X->data;
    return PTH_OK;
}

static int alloc_linear(pth_linear *m, int kind, size_t d, size_t n_out, pth_error *err)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->d = d;
    m->n_out = n_out;
    m->coef = calloc(d * n_out + 1, sizeof *m->coef);
    m->intercept = calloc(n_out ? n_out : 1, sizeof *m->intercept);
    if (!m->coef || !m->intercept) {
        pth_linear_free(m);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory allocating %zu x %zu coefficients", n_out, d);
    }
    return PTH_OK;
}

void pth_linear_free(pth_linear *m)
{
    if (!m)
        return;
    free(m->coef);
    free(m->intercept);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------------- */
/* Ridge                                                                               */

void pth_ridge_options_default(pth_ridge_options *o)
{
    o->alpha = 1.0;
    o->fit_intercept = 1;
    o->tol = 1e-8;
    o->max_iter = 2000;
}

/* The centred operator Xc = X - 1 mu^T, applied without forming Xc. */
typedef struct {
    const pth_csr *X;
    const double *mu; /* column means (NULL: no centring) */
    double *tmp;      /* scratch of max(n, d) */
} centred_op;

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* y = Xc v (length n). */
static void op_mv(const centred_op *op, const double *v, double *y)
{
    pth_csr_matvec(op->X, v, y);
    if (op->mu) {
        double c = dot(op->mu, v, op->X->ncols);
        for (size_t i = 0; i < op->X->nrows; i++)
            y[i] -= c;
    }
}

/* y = Xc^T u (length d). */
static void op_tmv(const centred_op *op, const double *u, double *y)
{
    pth_csr_tmatvec(op->X, u, y);
    if (op->mu) {
        double s = 0.0;
        for (size_t i = 0; i < op->X->nrows; i++)
            s += u[i];
        for (size_t j = 0; j < op->X->ncols; j++)
            y[j] -= op->mu[j] * s;
    }
}

/* A v for the system being solved: dual (Xc Xc^T + alpha) or primal (Xc^T Xc + alpha). */
static void sys_apply(const centred_op *op, int dual, double alpha, const double *v, double *out)
{
    size_t n = dual ? op->X->nrows : op->X->ncols;
    if (dual) {
        op_tmv(op, v, op->tmp);
        op_mv(op, op->tmp, out);
    } else {
        op_mv(op, v, op->tmp);
        op_tmv(op, op->tmp, out);
    }
    for (size_t i = 0; i < n; i++)
        out[i] += alpha * v[i];
}

/* Conjugate gradients from x = 0; returns iterations used. */
static int cg_solve(const centred_op *op, int dual, double alpha, const double *b, double *x, size_t n, double tol,
                    int max_iter, double *r, double *p, double *ap)
{
    memset(x, 0, n * sizeof *x);
    memcpy(r, b, n * sizeof *r);
    memcpy(p, b, n * sizeof *p);
    double rr = dot(r, r, n), bnorm = sqrt(rr);
    if (bnorm == 0.0)
        return 0;
    int it = 0;
    while (it < max_iter && sqrt(rr) > tol * bnorm) {
        sys_apply(op, dual, alpha, p, ap);
        double pap = dot(p, ap, n);
        if (!(pap > 0.0))
            break;
        double step = rr / pap;
        for (size_t i = 0; i < n; i++) {
            x[i] += step * p[i];
            r[i] -= step * ap[i];
        }
        double rr2 = dot(r, r, n);
        double beta = rr2 / rr;
        rr = rr2;
        for (size_t i = 0; i < n; i++)
            p[i] = r[i] + beta * p[i];
        it++;
    }
    return it;
}

static int ridge_solve_compact(const pth_csr *X, const double *Y, size_t T, const pth_ridge_options *o,
                               double *W /* T x d */, double *B, pth_error *err)
{
    size_t n = X->nrows, d = X->ncols;
    int dual = n <= d;
    size_t m = dual ? n : d;
    double *mu = NULL;
    double *buf = malloc((5 * (n > d ? n : d) + 4 * m + n) * sizeof *buf);
    if (!buf)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory in ridge (%zu x %zu)", n, d);
    if (o->fit_intercept) {
        mu = calloc(d ? d : 1, sizeof *mu);
        if (!mu) {
            free(buf);
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory in ridge");
        }
        for (size_t k = 0; k < X->indptr[n]; k++)
            mu[X->indices[k]] += X->data[k];
        for (size_t j = 0; j < d; j++)
            mu[j] /= (double)n;
    }
    size_t big = n > d ? n : d;
    double *tmp = buf, *rhs = buf + big, *x = rhs + big, *r = x + big, *p = r + m, *ap = p + m, *yc = ap + m;
    centred_op op = {X, mu, tmp};
    for (size_t t = 0; t < T; t++) {
        double ybar = 0.0;
        for (size_t i = 0; i < n; i++)
            ybar += Y[i * T + t];
        ybar = o->fit_intercept ? ybar / (double)n : 0.0;
        for (size_t i = 0; i < n; i++)
            yc[i] = Y[i * T + t] - ybar;
        double *w = W + t * d;
        if (dual) {
            cg_solve(&op, 1, o->alpha, yc, x, n, o->tol, o->max_iter, r, p, ap);
            op_tmv(&op, x, w);
        } else {
            op_tmv(&op, yc, rhs);
            cg_solve(&op, 0, o->alpha, rhs, w, d, o->tol, o->max_iter, r, p, ap);
        }
        B[t] = ybar - (mu ? dot(mu, w, d) : 0.0);
    }
    free(mu);
    free(buf);
    return PTH_OK;
}

int pth_ridge_fit(const pth_csr *X, const double *Y, size_t n_targets, const pth_ridge_options *o, pth_linear *m,
                  pth_error *err)
{
    pth_ridge_options def;
    if (!o) {
        pth_ridge_options_default(&def);
        o = &def;
    }
    memset(m, 0, sizeof *m);
    if (X->nrows == 0 || n_targets == 0)
        return pth_fail(err, PTH_ERR_INVALID, "ridge: need at least one row and one target");
    if (!(o->alpha > 0.0) || !isfinite(o->alpha))
        return pth_fail(err, PTH_ERR_INVALID, "ridge: alpha must be positive (got %g)", o->alpha);
    for (size_t i = 0; i < X->nrows * n_targets; i++)
        if (!isfinite(Y[i]))
            return pth_fail(err, PTH_ERR_INVALID, "ridge: target %zu of row %zu is not finite", i % n_targets,
                            i / n_targets);
    compact_csr c;
    int rc = compact_build(X, 0, &c, err);
    if (rc)
        return rc;
    double *W = calloc(c.dact * n_targets + 1, sizeof *W);
    double *B = calloc(n_targets, sizeof *B);
    if (!W || !B)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory in ridge");
    if (!rc)
        rc = ridge_solve_compact(&c.X, Y, n_targets, o, W, B, err);
    if (!rc)
        rc = alloc_linear(m, PTH_LINEAR_RIDGE, X->ncols, n_targets, err);
    if (!rc) {
        for (size_t t = 0; t < n_targets; t++) {
            for (size_t j = 0; j < c.dact; j++)
                m->coef[t * X->ncols + c.active[j]] = W[t * c.dact + j];
            m->intercept[t] = B[t];
        }
    }
    free(W);
    free(B);
    compact_free(&c);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* Logistic regression (L-BFGS)                                                         */

void pth_logreg_options_default(pth_logreg_options *o)
{
    o->C = 1.0;
    o->fit_intercept = 1;
    o->balanced = 0;
    o->tol = 1e-6;
    o->max_iter = 500;
    o->threads = 0;
    o->solver = PTH_LOGREG_NEWTON;
}

typedef struct {
    const pth_csr *X;
    const double *y; /* +-1 */
    const double *s; /* sample weights */
    double C;
    int intercept;
    double *z, *g_row; /* n scratch */
} lr_problem;

/* f and gradient at theta = [w (d), b]; z must hold X w + b. */
static double lr_eval(const lr_problem *P, const double *theta, double *grad)
{
    size_t n = P->X->nrows, d = P->X->ncols;
    double f = 0.5 * dot(theta, theta, d), gb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double mi = P->y[i] * P->z[i];
        f += P->C * P->s[i] * lr_log1pexp_neg(mi);
        /* d/dz log(1+exp(-y z)) = -y sigmoid(-y z) */
        double sg = 1.0 / (1.0 + exp(mi));
        P->g_row[i] = -P->C * P->s[i] * P->y[i] * sg;
        gb += P->g_row[i];
    }
    pth_csr_tmatvec(P->X, P->g_row, grad);
    for (size_t j = 0; j < d; j++)
        grad[j] += theta[j];
    grad[d] = P->intercept ? gb : 0.0;
    return f;
}

#define LBFGS_M 7

/* Minimises one binary problem; theta (d+1) starts at 0.  Memory: (2 LBFGS_M + 4)(d+1). */
static int lr_lbfgs(lr_problem *P, double *theta, double tol, int max_iter)
{
    size_t n = P->X->nrows, d = P->X->ncols, D = d + 1;
    double *mem = malloc(((2 * LBFGS_M + 4) * D + 2 * n) * sizeof *mem);
    if (!mem)
        return -1;
    double *S = mem, *Yh = S + LBFGS_M * D, *g = Yh + LBFGS_M * D, *gn = g + D, *dir = gn + D, *tn = dir + D;
    double *xd = tn + D, *zn = xd + n;
    double rho[LBFGS_M], alph[LBFGS_M];
    memset(theta, 0, D * sizeof *theta);
    for (size_t i = 0; i < n; i++)
        P->z[i] = 0.0;
    double f = lr_eval(P, theta, g);
    int hist = 0, head = 0;
    for (int it = 0; it < max_iter; it++) {
        double gmax = 0.0;
        for (size_t j = 0; j < D; j++)
            gmax = fabs(g[j]) > gmax ? fabs(g[j]) : gmax;
        if (gmax <= tol * (fabs(f) > 1.0 ? fabs(f) : 1.0))
            break;
        /* Two-loop recursion: dir = -H g. */
        memcpy(dir, g, D * sizeof *dir);
        for (int k = 0; k < hist; k++) {
            int idx = (head - 1 - k + LBFGS_M) % LBFGS_M;
            alph[idx] = rho[idx] * dot(S + (size_t)idx * D, dir, D);
            for (size_t j = 0; j < D; j++)
                dir[j] -= alph[idx] * Yh[(size_t)idx * D + j];
        }
        double gamma = 1.0;
        if (hist > 0) {
            int last = (head - 1 + LBFGS_M) % LBFGS_M;
            gamma = dot(S + (size_t)last * D, Yh + (size_t)last * D, D) /
                    dot(Yh + (size_t)last * D, Yh + (size_t)last * D, D);
        } else {
            double gn2 = sqrt(dot(g, g, D));
            gamma = gn2 > 0 ? 1.0 / gn2 : 1.0;
        }
        for (size_t j = 0; j < D; j++)
            dir[j] *= gamma;
        for (int k = hist - 1; k >= 0; k--) {
            int idx = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double beta = rho[idx] * dot(Yh + (size_t)idx * D, dir, D);
            for (size_t j = 0; j < D; j++)
                dir[j] += S[(size_t)idx * D + j] * (alph[idx] - beta);
        }
        for (size_t j = 0; j < D; j++)
            dir[j] = -dir[j];
        double gd = dot(g, dir, D);
        if (!(gd < 0)) { /* not a descent direction: restart from steepest descent */
            for (size_t j = 0; j < D; j++)
                dir[j] = -g[j];
            gd = -dot(g, g, D);
            hist = 0;
        }
        /* Backtracking (Armijo); z moves along X dir, so each trial costs O(n + d). */
        pth_csr_matvec(P->X, dir, xd);
        double step = 1.0, fn = f;
        int accepted = 0;
        for (int ls = 0; ls < 40; ls++) {
            for (size_t j = 0; j < D; j++)
                tn[j] = theta[j] + step * dir[j];
            double bstep = P->intercept ? step * dir[d] : 0.0;
            for (size_t i = 0; i < n; i++)
                zn[i] = P->z[i] + step * xd[i] + bstep;
            double *zsave = P->z;
            P->z = zn; /* evaluate at the trial point without copying z */
            fn = lr_eval(P, tn, gn);
            P->z = zsave;
            if (fn <= f + 1e-4 * step * gd) {
                accepted = 1;
                break;
            }
            step *= 0.5;
        }
        if (!accepted)
            break;
        int slot = head;
        for (size_t j = 0; j < D; j++) {
            S[(size_t)slot * D + j] = tn[j] - theta[j];
            Yh[(size_t)slot * D + j] = gn[j] - g[j];
        }
        double sy = dot(S + (size_t)slot * D, Yh + (size_t)slot * D, D);
        if (sy > 1e-12) {
            rho[slot] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            hist = hist < LBFGS_M ? hist + 1 : LBFGS_M;
        }
        memcpy(theta, tn, D * sizeof *theta);
        memcpy(g, gn, D * sizeof *g);
        memcpy(P->z, zn, n * sizeof *zn);
        double fold = f;
        f = fn;
        if (fold - f <= 1e-15 * (fabs(fold) > 1.0 ? fabs(fold) : 1.0))
            break;
    }
    free(mem);
    return 0;
}

/* Fits label l of Y into W/B (compact columns) with L-BFGS. */
static int lr_fit_label(const pth_csr *X, const unsigned char *Y, size_t L, size_t l, const pth_logreg_options *o,
                        double *w, double *b)
{
    size_t n = X->nrows, d = X->ncols;
    size_t npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += Y[i * L + l] != 0;
    if (npos == 0 || npos == n) {
        memset(w, 0, d * sizeof *w);
        *b = npos ? 30.0 : -30.0;
        return 0;
    }
    double *buf = malloc((4 * n + d + 1) * sizeof *buf);
    if (!buf)
        return -1;
    double *y = buf, *s = y + n, *z = s + n, *gr = z + n, *theta = gr + n;
    double wpos = o->balanced ? (double)n / (2.0 * (double)npos) : 1.0;
    double wneg = o->balanced ? (double)n / (2.0 * (double)(n - npos)) : 1.0;
    for (size_t i = 0; i < n; i++) {
        int pos = Y[i * L + l] != 0;
        y[i] = pos ? 1.0 : -1.0;
        s[i] = pos ? wpos : wneg;
    }
    lr_problem P = {X, y, s, o->C, o->fit_intercept, z, gr};
    int rc = lr_lbfgs(&P, theta, o->tol, o->max_iter);
    if (rc == 0) {
        memcpy(w, theta, d * sizeof *w);
        *b = theta[d];
    }
    free(buf);
    return rc;
}

int pth_logreg_fit(const pth_csr *X, const unsigned char *Y, size_t n_labels, const pth_logreg_options *o,
                   pth_linear *m, pth_error *err)
{
    pth_logreg_options def;
    if (!o) {
        pth_logreg_options_default(&def);
        o = &def;
    }
    memset(m, 0, sizeof *m);
    if (X->nrows == 0 || n_labels == 0)
        return pth_fail(err, PTH_ERR_INVALID, "logreg: need at least one row and one label");
    if (!(o->C > 0.0) || !isfinite(o->C))
        return pth_fail(err, PTH_ERR_INVALID, "logreg: C must be positive (got %g)", o->C);
    compact_csr c;
    int rc = compact_build(X, 1, &c, err);
    if (rc)
        return rc;
    double *W = calloc(c.dact * n_labels + 1, sizeof *W);
    double *B = calloc(n_labels, sizeof *B);
    if (!W || !B)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory in logreg");
    int failed = 0;
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (!rc && o->solver == PTH_LOGREG_LBFGS) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (long long l = 0; l < (long long)n_labels; l++)
            if (lr_fit_label(&c.X, Y, n_labels, (size_t)l, o, W + (size_t)l * c.dact, B + l) != 0) {
#pragma omp atomic write
                failed = 1;
            }
    } else if (!rc) {
        /* Labels with one class are settled here; the others go to the Newton solver
         * (logreg_newton.c). */
        size_t *lab = malloc(n_labels * sizeof *lab), na = 0;
        if (!lab)
            failed = 1;
        for (size_t l = 0; lab && l < n_labels; l++) {
            size_t npos = 0;
            for (size_t i = 0; i < X->nrows; i++)
                npos += Y[i * n_labels + l] != 0;
            if (npos == 0 || npos == X->nrows)
                B[l] = npos ? 30.0 : -30.0;
            else
                lab[na++] = l;
        }
        if (lab && lr_newton_fit(&c.X, Y, n_labels, lab, na, o, threads, W, B) != 0)
            failed = 1;
        free(lab);
    }
    if (!rc && failed)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory in logreg");
    if (!rc)
        rc = alloc_linear(m, PTH_LINEAR_LOGREG, X->ncols, n_labels, err);
    if (!rc) {
        /* Parallel: the copy also faults in the fresh pages of a model that is often
         * over 100 MB. */
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
        for (long long l = 0; l < (long long)n_labels; l++) {
            for (size_t j = 0; j < c.dact; j++)
                m->coef[(size_t)l * X->ncols + c.active[j]] = W[(size_t)l * c.dact + j];
            m->intercept[l] = B[l];
        }
    }
    free(W);
    free(B);
    compact_free(&c);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* Prediction                                                                          */

int pth_linear_predict(const pth_linear *m, const pth_csr *X, double *scores, pth_error *err)
{
    if (X->ncols != m->d)
        return pth_fail(err, PTH_ERR_INVALID, "model has %zu features, matrix has %zu columns", m->d, X->ncols);
    size_t K = m->n_out;
    for (size_t i = 0; i < X->nrows; i++) {
        double *out = scores + i * K;
        for (size_t k = 0; k < K; k++)
            out[k] = m->intercept[k];
        for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) {
            double v = X->data[q];
            size_t j = X->indices[q];
            for (size_t k = 0; k < K; k++)
                out[k] += v * m->coef[k * m->d + j];
        }
    }
    return PTH_OK;
}

int pth_linear_predict_proba(const pth_linear *m, const pth_csr *X, double *proba, pth_error *err)
{
    int rc = pth_linear_predict(m, X, proba, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < X->nrows * m->n_out; i++)
        proba[i] = 1.0 / (1.0 + exp(-proba[i]));
    return PTH_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Serialisation: "PTHLIN" v1, kind, d, n_out, the active columns (union of nonzero      */
/* coefficients, u32 little-endian), coefficients over them per output, intercepts.       */

void pth_linear_save(const pth_linear *m, pth_blob_writer *w)
{
    size_t nact = 0;
    for (size_t j = 0; j < m->d; j++)
        for (size_t k = 0; k < m->n_out; k++)
            if (m->coef[k * m->d + j] != 0.0) {
                nact++;
                break;
            }
    uint32_t *cols = malloc((nact + 1) * sizeof *cols);
    double *vals = malloc((nact * m->n_out + 1) * sizeof *vals);
    if (!cols || !vals) {
        free(cols);
        free(vals);
        w->failed = 1;
        return;
    }
    size_t a = 0;
    for (size_t j = 0; j < m->d; j++) {
        int any = 0;
        for (size_t k = 0; k < m->n_out; k++)
            any |= m->coef[k * m->d + j] != 0.0;
        if (!any)
            continue;
        cols[a] = (uint32_t)j;
        for (size_t k = 0; k < m->n_out; k++)
            vals[k * nact + a] = m->coef[k * m->d + j];
        a++;
    }
    pth_blob_str(w, "PTHLIN");
    pth_blob_u32(w, 1);
    pth_blob_u32(w, (uint32_t)m->kind);
    pth_blob_u64(w, m->d);
    pth_blob_u64(w, m->n_out);
    pth_blob_u64(w, nact);
    pth_blob_u32s(w, cols, nact);
    pth_blob_f64s(w, vals, nact * m->n_out);
    pth_blob_f64s(w, m->intercept, m->n_out);
    free(cols);
    free(vals);
}

int pth_linear_load(pth_linear *m, pth_blob_reader *r, pth_error *err)
{
    return pth_linear_load_shape(m, r, 0, 0, err);
}

int pth_linear_load_shape(pth_linear *m, pth_blob_reader *r, size_t want_d, size_t want_out, pth_error *err)
{
    memset(m, 0, sizeof *m);
    char *magic = pth_blob_read_str(r, 16);
    if (pth_blob_reader_ok(r) && (!magic || strcmp(magic, "PTHLIN") != 0))
        pth_blob_reader_fail(r, "not a pathos linear model");
    free(magic);
    uint32_t ver = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && ver != 1)
        pth_blob_reader_fail(r, "unsupported linear model version %u (this build reads 1)", ver);
    uint32_t kind = pth_blob_read_u32(r);
    uint64_t d = pth_blob_read_u64(r), nout = pth_blob_read_u64(r), nact = pth_blob_read_u64(r);
    if (pth_blob_reader_ok(r) && (kind != PTH_LINEAR_RIDGE && kind != PTH_LINEAR_LOGREG))
        pth_blob_reader_fail(r, "unknown linear model kind %u", kind);
    if (pth_blob_reader_ok(r) && (d == 0 || d > ((uint64_t)1 << 32) || nout == 0 || nout > 100000 || nact > d ||
                                  d * nout > ((uint64_t)1 << 31)))
        pth_blob_reader_fail(r, "implausible linear model shape (%llu features, %llu outputs, %llu active)",
                             (unsigned long long)d, (unsigned long long)nout, (unsigned long long)nact);
    /* The dense coefficients are allocated from the header alone: check the shape the caller
     * knows before trusting it with gigabytes. */
    if (pth_blob_reader_ok(r) && ((want_d && d != want_d) || (want_out && nout != want_out)))
        pth_blob_reader_fail(r, "linear model of %llu features x %llu outputs, expected %zu x %zu",
                             (unsigned long long)d, (unsigned long long)nout, want_d, want_out);
    size_t ncols_read = 0;
    uint32_t *cols = NULL;
    if (pth_blob_reader_ok(r)) {
        cols = pth_blob_read_u32s(r, (size_t)nact, &ncols_read, "linear model column list");
        if (pth_blob_reader_ok(r) && ncols_read != nact)
            pth_blob_reader_fail(r, "linear model: column list of %zu values, expected %llu", ncols_read,
                                 (unsigned long long)nact);
    }
    double *vals = NULL, *icpt = NULL;
    if (pth_blob_reader_ok(r))
        vals = pth_blob_read_f64s(r, (size_t)(nact * nout));
    if (pth_blob_reader_ok(r))
        icpt = pth_blob_read_f64s(r, (size_t)nout);
    if (pth_blob_reader_ok(r) && alloc_linear(m, (int)kind, (size_t)d, (size_t)nout, NULL) != PTH_OK)
        pth_blob_reader_fail(r, "out of memory loading a linear model");
    for (size_t a = 0; pth_blob_reader_ok(r) && a < nact; a++) {
        uint32_t j = cols[a];
        if (j >= d) {
            pth_blob_reader_fail(r, "linear model: column %u out of range", j);
            break;
        }
        for (size_t k = 0; k < nout; k++)
            m->coef[k * d + j] = vals[k * nact + a];
    }
    if (pth_blob_reader_ok(r))
        memcpy(m->intercept, icpt, nout * sizeof *icpt);
    free(cols);
    free(vals);
    free(icpt);
    int rc = pth_blob_reader_status(r, err);
    if (rc)
        pth_linear_free(m);
    return rc;
}

int pth_linear_save_file(const pth_linear *m, const char *path, pth_error *err)
{
    pth_blob_writer w = {0};
    pth_linear_save(m, &w);
    return pth_blob_write_file(&w, path, "a linear model", err);
}

int pth_linear_load_file(pth_linear *m, const char *path, pth_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    memset(m, 0, sizeof *m);
    int rc = pth_read_file(path, (size_t)16 << 30, &buf, &len, err);
    if (rc)
        return rc;
    pth_blob_reader r;
    pth_blob_reader_init(&r, buf, len, path);
    rc = pth_linear_load(m, &r, err);
    free(buf);
    return rc;
}
