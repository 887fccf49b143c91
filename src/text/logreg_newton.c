/* L2 logistic regression, one-vs-rest: truncated Newton with preconditioned conjugate
 * gradients, the labels in lock-step blocks of NT_LANES that share every pass over X. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "text/linear_internal.h"
#include "text/rowtiles.h"

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
    const pth_rowtiles *T; /* X, compact columns, tiled by rows */
    size_t n, d, D;   /* D = d + 1: coordinate d is the intercept */
    int intercept;
    double *y, *cs;   /* n x lanes: +-1 and C s_i (both 0 in unused lanes) */
    double *z, *xs;   /* n x lanes: X w + b, X s + s_b */
    float *dw;        /* n x lanes: C s_i sigma (1 - sigma), the Hessian weights */
    double *w, *g, *s, *r, *p; /* D x lanes */
    float *m;         /* D x lanes: preconditioner diag(H) */
    float *pf, *hf;   /* D x lanes: p and X^T (dw (X p + p_b)) in float */
    double *bd;       /* D x lanes: scratch */
    float *tt;        /* PTH_TILE_ROWS x lanes: X p of one tile */
    double *rt;       /* PTH_TILE_ROWS x lanes: loss derivatives of one tile */
    void *mem_;
} nt_block;

static void nt_free(nt_block *B)
{
    free(B->mem_);
    memset(B, 0, sizeof *B);
}

static int nt_alloc(nt_block *B, const pth_rowtiles *T, int intercept)
{
    memset(B, 0, sizeof *B);
    B->T = T;
    B->n = T->nrows;
    B->d = T->ncols;
    B->D = T->ncols + 1;
    B->intercept = intercept;
    size_t nd = 4 * B->n + 6 * B->D + PTH_TILE_ROWS, nf = B->n + 3 * B->D + PTH_TILE_ROWS;
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
    B->rt = q, q += PTH_TILE_ROWS * NT_LANES;
    float *fq = (float *)q;
    B->dw = fq, fq += nl;
    B->m = fq, fq += dl;
    B->pf = fq, fq += dl;
    B->hf = fq, fq += dl;
    B->tt = fq;
    return 0;
}

/* The kernels spell out the lane loops with GCC/Clang vector types: lane-wise IEEE
 * operations, so each lane computes exactly what a scalar loop would. */
typedef float nt_vf __attribute__((vector_size(16)));
typedef double nt_vd __attribute__((vector_size(16)));
#define NT_VF (NT_LANES / 4)
#define NT_VD (NT_LANES / 2)

/* The passes walk X tile by tile (rowtiles.h): within a tile, column by column in
 * ascending order, each column's rows ascending.  Every sum over j of a row and over i
 * of a column is therefore added in the same order as a row-major walk would add it, so
 * the tiling changes the memory traffic, not one bit of the results. */

/* Columns ahead to prefetch: a tile's columns ascend with gaps, which the hardware
 * prefetcher does not follow. */
#define NT_PREFETCH 8

/* hf = X^T (dw .* (X pf + pf_b)) over the d columns, hb = sum of dw .* (X pf + pf_b). */
static void nt_hv_pass(nt_block *B, double hb[NT_LANES])
{
    const pth_rowtiles *T = B->T;
    const nt_vf *pf = (const nt_vf *)B->pf, *pb = pf + B->d * NT_VF;
    nt_vf *hf = (nt_vf *)B->hf, *tt = (nt_vf *)B->tt;
    const nt_vf *dw = (const nt_vf *)B->dw;
    memset(hf, 0, B->d * NT_LANES * sizeof(float));
    nt_vd hbv[NT_VD];
    memset(hbv, 0, sizeof hbv);
    for (size_t t = 0; t < T->ntiles; t++) {
        size_t r0 = pth_rowtiles_first(t), nr = pth_rowtiles_rows(T, t);
        size_t k0 = T->tile_ptr[t], k1 = T->tile_ptr[t + 1];
        for (size_t r = 0; r < nr; r++)
            for (int v = 0; v < NT_VF; v++)
                tt[r * NT_VF + (size_t)v] = pb[v];
        for (size_t k = k0; k < k1; k++) {
            nt_vf pj[NT_VF];
            if (k + NT_PREFETCH < k1)
                __builtin_prefetch(pf + (size_t)T->col[k + NT_PREFETCH] * NT_VF);
            memcpy(pj, pf + (size_t)T->col[k] * NT_VF, sizeof pj);
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++) {
                nt_vf *tr = tt + (size_t)T->row[e] * NT_VF;
                nt_vf x = {T->val[e], T->val[e], T->val[e], T->val[e]};
                for (int v = 0; v < NT_VF; v++)
                    tr[v] += x * pj[v];
            }
        }
        for (size_t r = 0; r < nr; r++) {
            nt_vf *tr = tt + r * NT_VF;
            const nt_vf *dwi = dw + (r0 + r) * NT_VF;
            for (int v = 0; v < NT_VF; v++) {
                tr[v] *= dwi[v];
                hbv[2 * v] += (nt_vd){(double)tr[v][0], (double)tr[v][1]};
                hbv[2 * v + 1] += (nt_vd){(double)tr[v][2], (double)tr[v][3]};
            }
        }
        for (size_t k = k0; k < k1; k++) {
            nt_vf *hj = hf + (size_t)T->col[k] * NT_VF, acc[NT_VF];
            if (k + NT_PREFETCH < k1)
                __builtin_prefetch(hf + (size_t)T->col[k + NT_PREFETCH] * NT_VF, 1);
            memcpy(acc, hj, sizeof acc);
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++) {
                const nt_vf *tr = tt + (size_t)T->row[e] * NT_VF;
                nt_vf x = {T->val[e], T->val[e], T->val[e], T->val[e]};
                for (int v = 0; v < NT_VF; v++)
                    acc[v] += x * tr[v];
            }
            memcpy(hj, acc, sizeof acc);
        }
    }
    for (int l = 0; l < NT_LANES; l++)
        hb[l] = hbv[l / 2][l % 2];
}

/* xs = X s + s_b (double). */
static void nt_xs_pass(nt_block *B)
{
    const pth_rowtiles *T = B->T;
    const nt_vd *sv = (const nt_vd *)B->s, *sb = sv + B->d * NT_VD;
    nt_vd *xs = (nt_vd *)B->xs;
    for (size_t i = 0; i < B->n; i++)
        for (int v = 0; v < NT_VD; v++)
            xs[i * NT_VD + (size_t)v] = sb[v];
    for (size_t t = 0; t < T->ntiles; t++) {
        nt_vd *xt = xs + pth_rowtiles_first(t) * NT_VD;
        for (size_t k = T->tile_ptr[t], k1 = T->tile_ptr[t + 1]; k < k1; k++) {
            nt_vd sj[NT_VD];
            if (k + NT_PREFETCH < k1) {
                __builtin_prefetch(sv + (size_t)T->col[k + NT_PREFETCH] * NT_VD);
                __builtin_prefetch(sv + (size_t)T->col[k + NT_PREFETCH] * NT_VD + 4);
            }
            memcpy(sj, sv + (size_t)T->col[k] * NT_VD, sizeof sj);
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++) {
                nt_vd *xr = xt + (size_t)T->row[e] * NT_VD;
                double xd = (double)T->val[e];
                nt_vd x = {xd, xd};
                for (int v = 0; v < NT_VD; v++)
                    xr[v] += x * sj[v];
            }
        }
    }
}

/* The loss terms of row i at its margins: f += loss, r (the derivative), h (the Hessian
 * weight, also into dw), gb += r, mb += h. */
static void nt_row_terms(nt_block *B, size_t i, double *f, nt_vd *ri, double *gb, double *mb)
{
    nt_vf di[NT_VF];
    const double *yi = B->y + i * NT_LANES, *ci = B->cs + i * NT_LANES, *zi = B->z + i * NT_LANES;
    for (int l = 0; l < NT_LANES; l++) {
        double mi = yi[l] * zi[l];
        f[l] += ci[l] * lr_log1pexp_neg(mi);
        double sg = 1.0 / (1.0 + exp(mi)); /* sigma(-y z) */
        double r = -ci[l] * yi[l] * sg;
        double h = ci[l] * sg * (1.0 - sg);
        ri[l / 2][l % 2] = r;
        di[l / 4][l % 4] = (float)h;
        gb[l] += r;
        mb[l] += h;
    }
    memcpy(B->dw + i * NT_LANES, di, sizeof di);
}

/* At the margins z: objective f, gradient g, Hessian weights dw, preconditioner m. */
static void nt_grad_pass(nt_block *B, double f[NT_LANES])
{
    const pth_rowtiles *T = B->T;
    size_t d = B->d;
    nt_vd *gd = (nt_vd *)B->bd, *rt = (nt_vd *)B->rt;
    nt_vf *mf = (nt_vf *)B->m;
    const nt_vf *dw = (const nt_vf *)B->dw;
    double gb[NT_LANES], mb[NT_LANES];
    memset(gd, 0, d * NT_LANES * sizeof(double));
    memset(mf, 0, d * NT_LANES * sizeof(float));
    for (int l = 0; l < NT_LANES; l++)
        f[l] = gb[l] = mb[l] = 0.0;
    for (size_t t = 0; t < T->ntiles; t++) {
        size_t r0 = pth_rowtiles_first(t), nr = pth_rowtiles_rows(T, t);
        for (size_t r = 0; r < nr; r++)
            nt_row_terms(B, r0 + r, f, rt + r * NT_VD, gb, mb);
        const nt_vf *dt = dw + r0 * NT_VF;
        for (size_t k = T->tile_ptr[t], k1 = T->tile_ptr[t + 1]; k < k1; k++) {
            size_t j = T->col[k];
            if (k + NT_PREFETCH < k1) {
                size_t jn = T->col[k + NT_PREFETCH];
                __builtin_prefetch(gd + jn * NT_VD, 1);
                __builtin_prefetch(gd + jn * NT_VD + 4, 1);
                __builtin_prefetch(mf + jn * NT_VF, 1);
            }
            nt_vd gj[NT_VD];
            nt_vf mj[NT_VF];
            memcpy(gj, gd + j * NT_VD, sizeof gj);
            memcpy(mj, mf + j * NT_VF, sizeof mj);
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++) {
                size_t r = T->row[e];
                double xd = (double)T->val[e];
                float xf = T->val[e] * T->val[e];
                nt_vd x = {xd, xd};
                nt_vf x2 = {xf, xf, xf, xf};
                for (int v = 0; v < NT_VD; v++)
                    gj[v] += x * rt[r * NT_VD + (size_t)v];
                for (int v = 0; v < NT_VF; v++)
                    mj[v] += x2 * dt[r * NT_VF + (size_t)v];
            }
            memcpy(gd + j * NT_VD, gj, sizeof gj);
            memcpy(mf + j * NT_VF, mj, sizeof mj);
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
        f += B->cs[k] * lr_log1pexp_neg(B->y[k] * (B->z[k] + a * B->xs[k]));
    }
    return f;
}

enum { NT_RUN = 0, NT_DONE = 1 };

/* Solves the labels lab[0..nl) of Y into W (compact, label-major) and Bc. */
static int nt_fit_block(const pth_rowtiles *T, const unsigned char *Y, size_t L, const size_t *lab, int nl,
                        const pth_logreg_options *o, double *W, double *Bc)
{
    nt_block B;
    if (nt_alloc(&B, T, o->fit_intercept) != 0)
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

int lr_newton_fit(const pth_csr *X, const unsigned char *Y, size_t L, const size_t *lab, size_t na,
                  const pth_logreg_options *o, int threads, double *W, double *B)
{
    pth_rowtiles T;
    if (pth_rowtiles_build(X, &T) != 0) {
        pth_rowtiles_free(&T);
        return -1;
    }
    /* Blocks of at most NT_LANES labels, as even as possible (28 labels: two of 14). */
    size_t nb = (na + NT_LANES - 1) / NT_LANES, per = nb ? (na + nb - 1) / nb : 0;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (long long k = 0; k < (long long)nb; k++) {
        size_t a = (size_t)k * per, e = a + per < na ? a + per : na;
        if (nt_fit_block(&T, Y, L, lab + a, (int)(e - a), o, W, B) != 0) {
#pragma omp atomic write
            failed = 1;
        }
    }
    pth_rowtiles_free(&T);
    return failed ? -1 : 0;
}
