/* Ridge regression (conjugate gradients) and L2 logistic regression (truncated Newton or
 * L-BFGS, one-vs-rest)
 * on CSR features; prediction and versioned serialisation (see pathos/text.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "pathos/io.h"
#include "pathos/text.h"

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

/* log(1 + exp(-m)), stable for any m. */
static double log1pexp_neg(double m)
{
    return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
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
        f += P->C * P->s[i] * log1pexp_neg(mi);
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

/* ---------------------------------------------------------------------------------- */
/* Logistic regression: truncated Newton with preconditioned conjugate gradients, the   */
/* labels of one-vs-rest in lock-step blocks of NT_LANES.                               */
/*                                                                                      */
/* Every label is its own Newton solve of the same objective as above; a block only     */
/* shares the passes over X: in the sparse kernels each stored x_ij meets the NT_LANES  */
/* coefficients of column j, which lie side by side ([coordinate][lane] layout), so one */
/* pass serves all labels of the block and the memory traffic per label drops.  Lanes   */
/* never mix: every per-label quantity is computed lane by lane in a fixed order, so a  */
/* label's result does not depend on its block, its lane or the thread count.          */
/*                                                                                      */
/* One Newton iteration per label: PCG on H s = -g (Jacobi preconditioner diag(H)),     */
/* stopped at ||r|| <= NT_CG_ETA ||g||; Hessian-vector products in float (they only     */
/* shape the search direction); then X s in double, a backtracking (Armijo) line search */
/* on the exactly tracked margins z = X w + b, and the gradient in double at the new    */
/* point.  The stopping rule is the L-BFGS one: ||grad||_inf <= tol * max(1, |f|).      */

#define NT_LANES 16
#define NT_CG_ETA 0.1
#define NT_CG_MAX 200

typedef struct {
    const pth_csr *X; /* compact columns */
    size_t n, d, D;   /* D = d + 1: coordinate d is the intercept */
    int intercept;
    double *y, *cs;   /* n x lanes: +-1 and C s_i (both 0 in unused lanes) */
    double *z, *xs;   /* n x lanes: X w + b, X s + s_b */
    float *dw;        /* n x lanes: C s_i sigma (1 - sigma), the Hessian weights */
    double *w, *g, *s, *r, *p; /* D x lanes */
    float *m;         /* D x lanes: preconditioner diag(H) */
    float *pf, *hf;   /* D x lanes: p and X^T (dw (X p + p_b)) in float */
    double *bd;       /* D x lanes: scratch */
    void *mem_;
} nt_block;

static void nt_free(nt_block *B)
{
    free(B->mem_);
    memset(B, 0, sizeof *B);
}

static int nt_alloc(nt_block *B, const pth_csr *X, int intercept)
{
    memset(B, 0, sizeof *B);
    B->X = X;
    B->n = X->nrows;
    B->d = X->ncols;
    B->D = X->ncols + 1;
    B->intercept = intercept;
    size_t nd = 4 * B->n + 6 * B->D, nf = B->n + 3 * B->D;
    B->mem_ = calloc(nd * NT_LANES * sizeof(double) + nf * NT_LANES * sizeof(float), 1);
    if (!B->mem_)
        return -1;
    double *q = B->mem_;
    size_t nl = B->n * NT_LANES, dl = B->D * NT_LANES;
    B->y = q, q += nl;
    B->cs = q, q += nl;
    B->z = q, q += nl;
    B->xs = q, q += nl;
    B->w = q, q += dl;
    B->g = q, q += dl;
    B->s = q, q += dl;
    B->r = q, q += dl;
    B->p = q, q += dl;
    B->bd = q, q += dl;
    float *fq = (float *)q;
    B->dw = fq, fq += nl;
    B->m = fq, fq += dl;
    B->pf = fq, fq += dl;
    B->hf = fq;
    return 0;
}

/* The kernels spell out the lane loops with GCC/Clang vector types: lane-wise IEEE
 * operations, so each lane computes exactly what a scalar loop would. */
typedef float nt_vf __attribute__((vector_size(16)));
typedef double nt_vd __attribute__((vector_size(16)));
#define NT_VF (NT_LANES / 4)
#define NT_VD (NT_LANES / 2)

/* hf = X^T (dw .* (X pf + pf_b)) over the d columns, hb = sum of dw .* (X pf + pf_b). */
static void nt_hv_pass(nt_block *B, double hb[NT_LANES])
{
    const pth_csr *X = B->X;
    const nt_vf *pf = (const nt_vf *)B->pf, *pb = pf + B->d * NT_VF;
    nt_vf *hf = (nt_vf *)B->hf;
    const nt_vf *dw = (const nt_vf *)B->dw;
    memset(hf, 0, B->d * NT_LANES * sizeof(float));
    nt_vd hbv[NT_VD];
    memset(hbv, 0, sizeof hbv);
    for (size_t i = 0; i < B->n; i++) {
        nt_vf t[NT_VF];
        for (int v = 0; v < NT_VF; v++)
            t[v] = pb[v];
        size_t q0 = X->indptr[i], q1 = X->indptr[i + 1];
        for (size_t q = q0; q < q1; q++) {
            const nt_vf *pj = pf + (size_t)X->indices[q] * NT_VF;
            nt_vf x = {X->data[q], X->data[q], X->data[q], X->data[q]};
            for (int v = 0; v < NT_VF; v++)
                t[v] += x * pj[v];
        }
        const nt_vf *dwi = dw + i * NT_VF;
        for (int v = 0; v < NT_VF; v++) {
            t[v] *= dwi[v];
            hbv[2 * v] += (nt_vd){(double)t[v][0], (double)t[v][1]};
            hbv[2 * v + 1] += (nt_vd){(double)t[v][2], (double)t[v][3]};
        }
        for (size_t q = q0; q < q1; q++) {
            nt_vf *hj = hf + (size_t)X->indices[q] * NT_VF;
            nt_vf x = {X->data[q], X->data[q], X->data[q], X->data[q]};
            for (int v = 0; v < NT_VF; v++)
                hj[v] += x * t[v];
        }
    }
    for (int l = 0; l < NT_LANES; l++)
        hb[l] = hbv[l / 2][l % 2];
}

/* xs = X s + s_b (double). */
static void nt_xs_pass(nt_block *B)
{
    const pth_csr *X = B->X;
    const nt_vd *sv = (const nt_vd *)B->s, *sb = sv + B->d * NT_VD;
    nt_vd *xs = (nt_vd *)B->xs;
    for (size_t i = 0; i < B->n; i++) {
        nt_vd t[NT_VD];
        for (int v = 0; v < NT_VD; v++)
            t[v] = sb[v];
        for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) {
            const nt_vd *sj = sv + (size_t)X->indices[q] * NT_VD;
            double xd = (double)X->data[q];
            nt_vd x = {xd, xd};
            for (int v = 0; v < NT_VD; v++)
                t[v] += x * sj[v];
        }
        for (int v = 0; v < NT_VD; v++)
            xs[i * NT_VD + (size_t)v] = t[v];
    }
}

/* At the margins z: objective f, gradient g, Hessian weights dw, preconditioner m. */
static void nt_grad_pass(nt_block *B, double f[NT_LANES])
{
    const pth_csr *X = B->X;
    size_t d = B->d;
    nt_vd *gd = (nt_vd *)B->bd;
    nt_vf *mf = (nt_vf *)B->m;
    double gb[NT_LANES], mb[NT_LANES];
    memset(gd, 0, d * NT_LANES * sizeof(double));
    memset(mf, 0, d * NT_LANES * sizeof(float));
    for (int l = 0; l < NT_LANES; l++)
        f[l] = gb[l] = mb[l] = 0.0;
    for (size_t i = 0; i < B->n; i++) {
        nt_vd ri[NT_VD];
        nt_vf di[NT_VF];
        const double *yi = B->y + i * NT_LANES, *ci = B->cs + i * NT_LANES, *zi = B->z + i * NT_LANES;
        for (int l = 0; l < NT_LANES; l++) {
            double mi = yi[l] * zi[l];
            f[l] += ci[l] * log1pexp_neg(mi);
            double sg = 1.0 / (1.0 + exp(mi)); /* sigma(-y z) */
            double r = -ci[l] * yi[l] * sg;
            double h = ci[l] * sg * (1.0 - sg);
            ri[l / 2][l % 2] = r;
            di[l / 4][l % 4] = (float)h;
            gb[l] += r;
            mb[l] += h;
        }
        memcpy(B->dw + i * NT_LANES, di, sizeof di);
        for (size_t q = X->indptr[i]; q < X->indptr[i + 1]; q++) {
            size_t j = X->indices[q];
            double xd = (double)X->data[q];
            float xf = X->data[q] * X->data[q];
            nt_vd x = {xd, xd};
            nt_vf x2 = {xf, xf, xf, xf};
            nt_vd *gj = gd + j * NT_VD;
            nt_vf *mj = mf + j * NT_VF;
            for (int v = 0; v < NT_VD; v++)
                gj[v] += x * ri[v];
            for (int v = 0; v < NT_VF; v++)
                mj[v] += x2 * di[v];
        }
    }
    double ww[NT_LANES] = {0};
    for (size_t j = 0; j < d; j++) {
        const double *wj = B->w + j * NT_LANES, *gdj = B->bd + j * NT_LANES;
        double *gj = B->g + j * NT_LANES;
        float *mj = B->m + j * NT_LANES;
        for (int l = 0; l < NT_LANES; l++) {
            ww[l] += wj[l] * wj[l];
            gj[l] = wj[l] + gdj[l];
            mj[l] += 1.0f;
        }
    }
    for (int l = 0; l < NT_LANES; l++) {
        f[l] += 0.5 * ww[l];
        B->g[d * NT_LANES + (size_t)l] = B->intercept ? gb[l] : 0.0;
        B->m[d * NT_LANES + (size_t)l] = B->intercept && mb[l] > 0.0 ? (float)mb[l] : 1.0f;
    }
}

/* Objective of lane l at w + a s (margins z + a xs); wws = {w.w, w.s, s.s}. */
static double nt_line_obj(const nt_block *B, int l, double a, const double wws[3])
{
    double f = 0.5 * (wws[0] + 2.0 * a * wws[1] + a * a * wws[2]);
    for (size_t i = 0; i < B->n; i++) {
        size_t k = i * NT_LANES + (size_t)l;
        f += B->cs[k] * log1pexp_neg(B->y[k] * (B->z[k] + a * B->xs[k]));
    }
    return f;
}

enum { NT_RUN = 0, NT_DONE = 1 };

/* Solves the labels lab[0..nl) of Y into W (compact, label-major) and Bc. */
static int nt_fit_block(const pth_csr *X, const unsigned char *Y, size_t L, const size_t *lab, int nl,
                        const pth_logreg_options *o, double *W, double *Bc)
{
    nt_block B;
    if (nt_alloc(&B, X, o->fit_intercept) != 0)
        return -1;
    size_t n = B.n, d = B.d, D = B.D;
    for (int l = 0; l < nl; l++) {
        size_t npos = 0;
        for (size_t i = 0; i < n; i++)
            npos += Y[i * L + lab[l]] != 0;
        double wpos = o->balanced ? (double)n / (2.0 * (double)npos) : 1.0;
        double wneg = o->balanced ? (double)n / (2.0 * (double)(n - npos)) : 1.0;
        for (size_t i = 0; i < n; i++) {
            int pos = Y[i * L + lab[l]] != 0;
            B.y[i * NT_LANES + (size_t)l] = pos ? 1.0 : -1.0;
            B.cs[i * NT_LANES + (size_t)l] = o->C * (pos ? wpos : wneg);
        }
    }
    /* Start at w = 0 and the intercept that is optimal for w = 0 (the weighted log-odds). */
    for (int l = 0; l < nl && B.intercept; l++) {
        double sp = 0.0, sn = 0.0;
        for (size_t i = 0; i < n; i++) {
            size_t q = i * NT_LANES + (size_t)l;
            *(B.y[q] > 0 ? &sp : &sn) += B.cs[q];
        }
        double b0 = log(sp / sn);
        B.w[d * NT_LANES + (size_t)l] = b0;
        for (size_t i = 0; i < n; i++)
            B.z[i * NT_LANES + (size_t)l] = b0;
    }
    int state[NT_LANES], cg[NT_LANES];
    double f[NT_LANES], fnew[NT_LANES];
    for (int l = 0; l < NT_LANES; l++)
        state[l] = l < nl ? NT_RUN : NT_DONE;
    nt_grad_pass(&B, f);
    for (int it = 0;; it++) {
        /* Convergence, per lane. */
        int running = 0;
        double gmax[NT_LANES] = {0}, gg[NT_LANES] = {0};
        for (size_t j = 0; j < D; j++)
            for (int l = 0; l < NT_LANES; l++) {
                double v = B.g[j * NT_LANES + (size_t)l];
                gmax[l] = fabs(v) > gmax[l] ? fabs(v) : gmax[l];
                gg[l] += v * v;
            }
        for (int l = 0; l < NT_LANES; l++) {
            if (state[l] == NT_RUN && (it >= o->max_iter || gmax[l] <= o->tol * (fabs(f[l]) > 1.0 ? fabs(f[l]) : 1.0)))
                state[l] = NT_DONE;
            running += state[l] == NT_RUN;
        }
        if (!running)
            break;
        /* PCG on H s = -g for the running lanes. */
        double rz[NT_LANES] = {0}, rtol[NT_LANES];
        for (size_t j = 0; j < D; j++)
            for (int l = 0; l < NT_LANES; l++) {
                size_t k = j * NT_LANES + (size_t)l;
                double r = -B.g[k], zc = r / (double)B.m[k];
                B.r[k] = r;
                B.p[k] = zc;
                B.s[k] = 0.0;
                rz[l] += r * zc;
            }
        for (int l = 0; l < NT_LANES; l++) {
            rtol[l] = NT_CG_ETA * sqrt(gg[l]);
            cg[l] = state[l] == NT_RUN;
        }
        for (int k = 0; k < NT_CG_MAX; k++) {
            int any = 0;
            for (int l = 0; l < NT_LANES; l++)
                any |= cg[l];
            if (!any)
                break;
            for (size_t j = 0; j < D; j++)
                for (int l = 0; l < NT_LANES; l++)
                    B.pf[j * NT_LANES + (size_t)l] = cg[l] ? (float)B.p[j * NT_LANES + (size_t)l] : 0.0f;
            if (!B.intercept)
                for (int l = 0; l < NT_LANES; l++)
                    B.pf[d * NT_LANES + (size_t)l] = 0.0f;
            double hb[NT_LANES];
            nt_hv_pass(&B, hb);
            /* Hp = p + hf (w part), hb (intercept). */
            double php[NT_LANES] = {0}, alpha[NT_LANES], rr[NT_LANES] = {0}, rzn[NT_LANES] = {0};
            for (size_t j = 0; j < D; j++)
                for (int l = 0; l < NT_LANES; l++) {
                    size_t q = j * NT_LANES + (size_t)l;
                    double hp = j < d ? B.p[q] + (double)B.hf[q] : B.intercept ? hb[l] : 0.0;
                    php[l] += B.p[q] * hp;
                }
            for (int l = 0; l < NT_LANES; l++)
                alpha[l] = cg[l] && php[l] > 0.0 ? rz[l] / php[l] : 0.0;
            for (size_t j = 0; j < D; j++)
                for (int l = 0; l < NT_LANES; l++) {
                    size_t q = j * NT_LANES + (size_t)l;
                    double hp = j < d ? B.p[q] + (double)B.hf[q] : B.intercept ? hb[l] : 0.0;
                    B.s[q] += alpha[l] * B.p[q];
                    B.r[q] -= alpha[l] * hp;
                    rr[l] += B.r[q] * B.r[q];
                    rzn[l] += B.r[q] * B.r[q] / (double)B.m[q];
                }
            double beta[NT_LANES];
            for (int l = 0; l < NT_LANES; l++) {
                if (cg[l] && (!(php[l] > 0.0) || sqrt(rr[l]) <= rtol[l]))
                    cg[l] = 0;
                beta[l] = cg[l] ? rzn[l] / rz[l] : 0.0;
                if (cg[l])
                    rz[l] = rzn[l];
            }
            for (size_t j = 0; j < D; j++)
                for (int l = 0; l < NT_LANES; l++) {
                    size_t q = j * NT_LANES + (size_t)l;
                    if (cg[l])
                        B.p[q] = B.r[q] / (double)B.m[q] + beta[l] * B.p[q];
                }
        }
        /* Line search along s on the margins. */
        nt_xs_pass(&B);
        double wws[NT_LANES][3], gs[NT_LANES], step[NT_LANES];
        memset(wws, 0, sizeof wws);
        memset(gs, 0, sizeof gs);
        for (size_t j = 0; j < D; j++)
            for (int l = 0; l < NT_LANES; l++) {
                size_t q = j * NT_LANES + (size_t)l;
                if (j < d) {
                    wws[l][0] += B.w[q] * B.w[q];
                    wws[l][1] += B.w[q] * B.s[q];
                    wws[l][2] += B.s[q] * B.s[q];
                }
                gs[l] += B.g[q] * B.s[q];
            }
        for (int l = 0; l < NT_LANES; l++) {
            step[l] = 0.0;
            fnew[l] = f[l];
            if (state[l] != NT_RUN)
                continue;
            if (!(gs[l] < 0.0)) { /* no descent direction (rounding at the optimum) */
                state[l] = NT_DONE;
                continue;
            }
            double a = 1.0;
            for (int ls = 0; ls < 40; ls++, a *= 0.5) {
                double fa = nt_line_obj(&B, l, a, wws[l]);
                if (fa <= f[l] + 1e-4 * a * gs[l]) {
                    step[l] = a;
                    fnew[l] = fa;
                    break;
                }
            }
            if (step[l] == 0.0)
                state[l] = NT_DONE;
        }
        for (size_t j = 0; j < D; j++)
            for (int l = 0; l < NT_LANES; l++) {
                size_t q = j * NT_LANES + (size_t)l;
                B.w[q] += step[l] * B.s[q];
            }
        for (size_t i = 0; i < n; i++)
            for (int l = 0; l < NT_LANES; l++) {
                size_t q = i * NT_LANES + (size_t)l;
                B.z[q] += step[l] * B.xs[q];
            }
        double fold[NT_LANES];
        memcpy(fold, f, sizeof f);
        nt_grad_pass(&B, f);
        for (int l = 0; l < NT_LANES; l++)
            if (state[l] == NT_RUN && fold[l] - fnew[l] <= 1e-15 * (fabs(fold[l]) > 1.0 ? fabs(fold[l]) : 1.0))
                state[l] = NT_DONE;
    }
    for (int l = 0; l < nl; l++) {
        double *wl = W + lab[l] * d;
        for (size_t j = 0; j < d; j++)
            wl[j] = B.w[j * NT_LANES + (size_t)l];
        Bc[lab[l]] = B.intercept ? B.w[d * NT_LANES + (size_t)l] : 0.0;
    }
    nt_free(&B);
    return 0;
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
        /* Labels with one class are settled here; the others go to Newton blocks of at
         * most NT_LANES labels, as even as possible (28 labels: two blocks of 14). */
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
        size_t nb = (na + NT_LANES - 1) / NT_LANES, per = nb ? (na + nb - 1) / nb : 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (long long k = 0; k < (long long)nb; k++) {
            size_t a = (size_t)k * per, e = a + per < na ? a + per : na;
            if (nt_fit_block(&c.X, Y, n_labels, lab + a, (int)(e - a), o, W, B) != 0) {
#pragma omp atomic write
                failed = 1;
            }
        }
        free(lab);
    }
    if (!rc && failed)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory in logreg");
    if (!rc)
        rc = alloc_linear(m, PTH_LINEAR_LOGREG, X->ncols, n_labels, err);
    if (!rc) {
        for (size_t l = 0; l < n_labels; l++) {
            for (size_t j = 0; j < c.dact; j++)
                m->coef[l * X->ncols + c.active[j]] = W[l * c.dact + j];
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
    unsigned char *cols = malloc(nact * 4 + 1);
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
        for (int b = 0; b < 4; b++)
            cols[a * 4 + (size_t)b] = (unsigned char)((uint32_t)j >> (8 * b));
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
    pth_blob_bytes(w, cols, nact * 4);
    pth_blob_f64s(w, vals, nact * m->n_out);
    pth_blob_f64s(w, m->intercept, m->n_out);
    free(cols);
    free(vals);
}

int pth_linear_load(pth_linear *m, pth_blob_reader *r, pth_error *err)
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
    size_t clen = 0;
    const unsigned char *cols = NULL;
    if (pth_blob_reader_ok(r)) {
        cols = pth_blob_read_bytes(r, (size_t)nact * 4, &clen);
        if (pth_blob_reader_ok(r) && clen != nact * 4)
            pth_blob_reader_fail(r, "linear model: column list of %zu bytes, expected %llu", clen,
                                 (unsigned long long)(nact * 4));
    }
    double *vals = NULL, *icpt = NULL;
    if (pth_blob_reader_ok(r))
        vals = pth_blob_read_f64s(r, (size_t)(nact * nout));
    if (pth_blob_reader_ok(r))
        icpt = pth_blob_read_f64s(r, (size_t)nout);
    if (pth_blob_reader_ok(r) && alloc_linear(m, (int)kind, (size_t)d, (size_t)nout, NULL) != PTH_OK)
        pth_blob_reader_fail(r, "out of memory loading a linear model");
    for (size_t a = 0; pth_blob_reader_ok(r) && a < nact; a++) {
        uint32_t j = (uint32_t)cols[a * 4] | (uint32_t)cols[a * 4 + 1] << 8 | (uint32_t)cols[a * 4 + 2] << 16 |
                     (uint32_t)cols[a * 4 + 3] << 24;
        if (j >= d) {
            pth_blob_reader_fail(r, "linear model: column %u out of range", j);
            break;
        }
        for (size_t k = 0; k < nout; k++)
            m->coef[k * d + j] = vals[k * nact + a];
    }
    if (pth_blob_reader_ok(r))
        memcpy(m->intercept, icpt, nout * sizeof *icpt);
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
