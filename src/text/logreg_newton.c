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
/* labels of one-vs-rest in blocks of NT_LANES.                                         */
/*                                                                                      */
/* Every label is its own Newton solve of the same objective as L-BFGS's (linear.c); a  */
/* block only shares the passes over X: in the sparse kernels each stored x_ij meets    */
/* the NT_LANES coefficients of column j, which lie side by side ([coordinate][lane]    */
/* layout), so one pass serves all labels of the block and the memory traffic per label */
/* drops.  Lanes never mix: every per-label quantity is computed lane by lane in a fixed */
/* order, so a label's result does not depend on its block, its lane or the thread      */
/* count.                                                                               */
/*                                                                                      */
/* One Newton iteration per label: PCG on H s = -g (Jacobi preconditioner diag(H)),     */
/* stopped at ||r|| <= NT_CG_ETA ||g||; Hessian-vector products in float (they only     */
/* shape the search direction); then X s in double, a backtracking (Armijo) line search */
/* on the exactly tracked margins z = X w + b, and the gradient in double at the new    */
/* point.  The stopping rule is the L-BFGS one: ||grad||_inf <= tol * max(1, |f|).      */
/* Labels need from 40 to 180 CG iterations in all (GoEmotions), so the lanes are not   */
/* kept in lock-step: each runs its own CG and waits only for the line search and       */
/* gradient passes, which serve all waiting lanes at once (nt_fit_block).               */

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
    double *gd;       /* D x lanes: X^T r of the gradient pass */
    float *mm;        /* D x lanes: X^T h (squares) of the gradient pass */
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
    size_t nd = 4 * B->n + 6 * B->D + PTH_TILE_ROWS, nf = B->n + 4 * B->D + PTH_TILE_ROWS;
    /* Every array is a whole number of 64-byte lane vectors (the doubles first, each a
     * whole number of 128-byte ones), so all of them keep the vector types' alignment. */
    size_t bytes = nd * NT_LANES * sizeof(double) + nf * NT_LANES * sizeof(float);
    B->mem_ = aligned_alloc(128, (bytes + 127) / 128 * 128);
    if (!B->mem_)
        return -1;
    memset(B->mem_, 0, bytes);
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
    B->gd = q, q += dl;
    B->rt = q, q += PTH_TILE_ROWS * NT_LANES;
    float *fq = (float *)q;
    B->dw = fq, fq += nl;
    B->m = fq, fq += dl;
    B->pf = fq, fq += dl;
    B->hf = fq, fq += dl;
    B->mm = fq, fq += dl;
    B->tt = fq;
    return 0;
}

/* The kernels spell out the lane loops with GCC/Clang vector types of one element per
 * lane: lane-wise IEEE operations (no contraction into FMA in ISO C mode), so each lane
 * computes exactly what a scalar loop would, whatever the vector width the compiler
 * picks.  The passes are compiled for AVX-512, AVX2 and the baseline, chosen at run
 * time: at 16 lanes one AVX-512 instruction does what takes four SSE ones. */
typedef float nt_lf __attribute__((vector_size(NT_LANES * sizeof(float))));
typedef double nt_ld __attribute__((vector_size(NT_LANES * sizeof(double))));
#define NT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* Columns ahead to prefetch: a tile's columns ascend with gaps, which the hardware
 * prefetcher does not follow. */
#define NT_PREFETCH 96

/* The passes walk X tile by tile (rowtiles.h): within a tile, column by column in
 * ascending order, each column's rows ascending.  Every sum over j of a row and over i
 * of a column is therefore added in the same order as a row-major walk would add it, so
 * the tiling changes the memory traffic, not one bit of the results. */

/* hf = X^T (dw .* t) over the d columns with t = X pf + pf_b, hb = sum of dw .* t, and
 * tdt = t' diag(dw) t, which is p.Hp less p_w.p_w.  A column's sum over its rows starts
 * at its first tile (the output needs no clearing) and alternates between two
 * accumulators, so that consecutive additions do not wait on each other. */
NT_CLONES static void nt_hv_pass(nt_block *B, double hb[NT_LANES], double tdt[NT_LANES])
{
    const pth_rowtiles *T = B->T;
    const nt_lf *pf = (const nt_lf *)B->pf, *dw = (const nt_lf *)B->dw;
    nt_lf *hf = (nt_lf *)B->hf, *tt = (nt_lf *)B->tt, zero = {0};
    nt_ld hbv = {0}, tdv = {0};
    if (!T->all_cols)
        memset(hf, 0, B->d * sizeof *hf);
    for (size_t t = 0; t < T->ntiles; t++) {
        size_t r0 = pth_rowtiles_first(t), nr = pth_rowtiles_rows(T, t);
        size_t k0 = T->tile_ptr[t], k1 = T->tile_ptr[t + 1];
        for (size_t r = 0; r < nr; r++)
            tt[r] = pf[B->d];
        for (size_t k = k0; k < k1; k++) {
            if (k + NT_PREFETCH < k1)
                __builtin_prefetch(pf + pth_rowtiles_col(T, k + NT_PREFETCH));
            nt_lf pj = pf[pth_rowtiles_col(T, k)];
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++)
                tt[T->row[e]] += T->val[e] * pj;
        }
        for (size_t r = 0; r < nr; r++) {
            nt_ld td = __builtin_convertvector(tt[r], nt_ld);
            tt[r] *= dw[r0 + r];
            nt_ld ud = __builtin_convertvector(tt[r], nt_ld);
            hbv += ud;
            tdv += ud * td;
        }
        for (size_t k = k0; k < k1; k++) {
            if (k + NT_PREFETCH < k1)
                __builtin_prefetch(hf + pth_rowtiles_col(T, k + NT_PREFETCH), 1);
            uint32_t j = pth_rowtiles_col(T, k);
            nt_lf a0 = T->all_cols && pth_rowtiles_first_visit(T, k) ? zero : hf[j], a1 = zero;
            size_t e = T->val_ptr[k], e1 = T->val_ptr[k + 1];
            for (; e + 1 < e1; e += 2) {
                a0 += T->val[e] * tt[T->row[e]];
                a1 += T->val[e + 1] * tt[T->row[e + 1]];
            }
            if (e < e1)
                a0 += T->val[e] * tt[T->row[e]];
            hf[j] = a0 + a1;
        }
    }
    memcpy(hb, &hbv, sizeof hbv);
    memcpy(tdt, &tdv, sizeof tdv);
}

/* xs = X s + s_b (double). */
NT_CLONES static void nt_xs_pass(nt_block *B)
{
    const pth_rowtiles *T = B->T;
    const nt_ld *sv = (const nt_ld *)B->s;
    nt_ld *xs = (nt_ld *)B->xs;
    for (size_t i = 0; i < B->n; i++)
        xs[i] = sv[B->d];
    for (size_t t = 0; t < T->ntiles; t++) {
        nt_ld *xt = xs + pth_rowtiles_first(t);
        for (size_t k = T->tile_ptr[t], k1 = T->tile_ptr[t + 1]; k < k1; k++) {
            if (k + NT_PREFETCH < k1) {
                __builtin_prefetch(sv + pth_rowtiles_col(T, k + NT_PREFETCH));
                __builtin_prefetch((const char *)(sv + pth_rowtiles_col(T, k + NT_PREFETCH)) + 64);
            }
            nt_ld sj = sv[pth_rowtiles_col(T, k)];
            for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++)
                xt[T->row[e]] += (double)T->val[e] * sj;
        }
    }
}

/* The loss terms of row i at its margins, for the lanes in mask: f += loss, r (the
 * derivative), h (the Hessian weight, into dw), gb += r, mb += h.  Other lanes get r = 0
 * and keep their dw. */
static void nt_row_terms(nt_block *B, size_t i, const int *mask, double *f, double *ri, double *gb, double *mb)
{
    const double *yi = B->y + i * NT_LANES, *ci = B->cs + i * NT_LANES, *zi = B->z + i * NT_LANES;
    float *di = B->dw + i * NT_LANES;
    for (int l = 0; l < NT_LANES; l++) {
        if (!mask[l]) {
            ri[l] = 0.0;
            continue;
        }
        double mi = yi[l] * zi[l];
        f[l] += ci[l] * lr_log1pexp_neg(mi);
        double sg = 1.0 / (1.0 + exp(mi)); /* sigma(-y z) */
        double r = -ci[l] * yi[l] * sg;
        double h = ci[l] * sg * (1.0 - sg);
        ri[l] = r;
        di[l] = (float)h;
        gb[l] += r;
        mb[l] += h;
    }
}

/* g_j += sum_i x_ij r_i and m_j += sum_i x_ij^2 h_i over the stored values of one tile
 * (starting from zero at a column's first tile when every column has one). */
NT_CLONES static void nt_grad_tile(const pth_rowtiles *T, size_t t, const nt_ld *rt, const nt_lf *ht, nt_ld *gd,
                                   nt_lf *mf)
{
    nt_ld zd = {0};
    nt_lf zf = {0};
    for (size_t k = T->tile_ptr[t], k1 = T->tile_ptr[t + 1]; k < k1; k++) {
        if (k + NT_PREFETCH < k1) {
            size_t jn = pth_rowtiles_col(T, k + NT_PREFETCH);
            __builtin_prefetch(gd + jn, 1);
            __builtin_prefetch((char *)(gd + jn) + 64, 1);
            __builtin_prefetch(mf + jn, 1);
        }
        uint32_t j = pth_rowtiles_col(T, k);
        int fresh = T->all_cols && pth_rowtiles_first_visit(T, k);
        nt_ld gj = fresh ? zd : gd[j];
        nt_lf mj = fresh ? zf : mf[j];
        for (size_t e = T->val_ptr[k]; e < T->val_ptr[k + 1]; e++) {
            float x = T->val[e];
            gj += (double)x * rt[T->row[e]];
            mj += x * x * ht[T->row[e]];
        }
        gd[j] = gj;
        mf[j] = mj;
    }
}

/* For the lanes in mask, at their margins z: objective f, gradient g, Hessian weights dw,
 * preconditioner m.  The other lanes (in the middle of their CG) keep all of these. */
static void nt_grad_pass(nt_block *B, const int mask[NT_LANES], double f[NT_LANES])
{
    const pth_rowtiles *T = B->T;
    size_t d = B->d;
    double gb[NT_LANES], mb[NT_LANES], fl[NT_LANES];
    if (!T->all_cols) {
        memset(B->gd, 0, d * NT_LANES * sizeof(double));
        memset(B->mm, 0, d * NT_LANES * sizeof(float));
    }
    for (int l = 0; l < NT_LANES; l++)
        fl[l] = gb[l] = mb[l] = 0.0;
    for (size_t t = 0; t < T->ntiles; t++) {
        size_t r0 = pth_rowtiles_first(t), nr = pth_rowtiles_rows(T, t);
        for (size_t r = 0; r < nr; r++)
            nt_row_terms(B, r0 + r, mask, fl, B->rt + r * NT_LANES, gb, mb);
        nt_grad_tile(T, t, (const nt_ld *)B->rt, (const nt_lf *)B->dw + r0, (nt_ld *)B->gd, (nt_lf *)B->mm);
    }
    double ww[NT_LANES] = {0};
    for (size_t j = 0; j < d; j++) {
        const double *wj = B->w + j * NT_LANES, *gdj = B->gd + j * NT_LANES;
        const float *mmj = B->mm + j * NT_LANES;
        double *gj = B->g + j * NT_LANES;
        float *mj = B->m + j * NT_LANES;
        for (int l = 0; l < NT_LANES; l++)
            if (mask[l]) {
                ww[l] += wj[l] * wj[l];
                gj[l] = wj[l] + gdj[l];
                mj[l] = mmj[l] + 1.0f;
            }
    }
    for (int l = 0; l < NT_LANES; l++)
        if (mask[l]) {
            f[l] = fl[l] + 0.5 * ww[l];
            B->g[d * NT_LANES + (size_t)l] = B->intercept ? gb[l] : 0.0;
            B->m[d * NT_LANES + (size_t)l] = B->intercept && mb[l] > 0.0 ? (float)mb[l] : 1.0f;
        }
}

/* The vector work of one CG step over the w coordinates (the intercept coordinate d is
 * done by the caller), lane by lane in coordinate order. */

/* s += alpha p, r -= alpha Hp; rr = r.r, rzn = r.(r / m). */
NT_CLONES static void nt_cg_update(nt_block *B, const double alpha[NT_LANES], double rr[NT_LANES],
                                   double rzn[NT_LANES])
{
    const nt_ld *p = (const nt_ld *)B->p;
    const nt_lf *hf = (const nt_lf *)B->hf, *m = (const nt_lf *)B->m;
    nt_ld *s = (nt_ld *)B->s, *r = (nt_ld *)B->r, a, rr_ = {0}, rz_ = {0};
    memcpy(&a, alpha, sizeof a);
    for (size_t j = 0; j < B->d; j++) {
        nt_ld hp = p[j] + __builtin_convertvector(hf[j], nt_ld);
        s[j] += a * p[j];
        r[j] -= a * hp;
        rr_ += r[j] * r[j];
        rz_ += r[j] * r[j] / __builtin_convertvector(m[j], nt_ld);
    }
    memcpy(rr, &rr_, sizeof rr_);
    memcpy(rzn, &rz_, sizeof rz_);
}

/* p = r / m + beta p, pf = (float)p and pp = p_w.p_w over the w coordinates (lanes out
 * of CG are not read again). */
NT_CLONES static void nt_cg_direction(nt_block *B, const double beta[NT_LANES], double pp[NT_LANES])
{
    const nt_ld *r = (const nt_ld *)B->r;
    const nt_lf *m = (const nt_lf *)B->m;
    nt_ld *p = (nt_ld *)B->p, b, acc = {0};
    nt_lf *pf = (nt_lf *)B->pf;
    memcpy(&b, beta, sizeof b);
    for (size_t j = 0; j < B->d; j++) {
        p[j] = r[j] / __builtin_convertvector(m[j], nt_ld) + b * p[j];
        pf[j] = __builtin_convertvector(p[j], nt_lf);
        acc += p[j] * p[j];
    }
    memcpy(pp, &acc, sizeof acc);
}

/* The intercept coordinate d of p and pf (pf 0 without an intercept). */
static void nt_cg_direction_b(nt_block *B, const double beta[NT_LANES])
{
    size_t q = B->d * NT_LANES;
    for (int l = 0; l < NT_LANES; l++) {
        B->p[q + (size_t)l] = B->r[q + (size_t)l] / (double)B->m[q + (size_t)l] + beta[l] * B->p[q + (size_t)l];
        B->pf[q + (size_t)l] = B->intercept ? (float)B->p[q + (size_t)l] : 0.0f;
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

enum { NT_CG = 0, NT_WAIT = 1, NT_DONE = 2 };

/* Where each lane of a block is: in its CG (NT_CG), done with it and waiting for the
 * line search and the new gradient (NT_WAIT), or converged (NT_DONE). */
typedef struct {
    int state[NT_LANES];
    int newton[NT_LANES]; /* Newton iterations begun */
    int cgk[NT_LANES];    /* CG iterations in the current one */
    double f[NT_LANES];   /* objective at w */
    double rz[NT_LANES], rtol[NT_LANES], pp[NT_LANES]; /* CG: r.z, target ||r||, p_w.p_w */
} nt_lanes;

/* For the lanes in mask, which have just got their gradient: stop the converged ones,
 * start a CG (s = 0, r = -g, p = r / m) for the others. */
static void nt_newton_start(nt_block *B, nt_lanes *S, const int mask[NT_LANES], const pth_logreg_options *o)
{
    size_t D = B->D, d = B->d;
    double gmax[NT_LANES] = {0}, gg[NT_LANES] = {0}, rz[NT_LANES] = {0};
    for (size_t j = 0; j < D; j++)
        for (int l = 0; l < NT_LANES; l++) {
            double v = B->g[j * NT_LANES + (size_t)l];
            gmax[l] = fabs(v) > gmax[l] ? fabs(v) : gmax[l];
            gg[l] += v * v;
        }
    int go[NT_LANES];
    for (int l = 0; l < NT_LANES; l++) {
        go[l] = 0;
        if (!mask[l] || S->state[l] == NT_DONE)
            continue;
        if (S->newton[l] >= o->max_iter || gmax[l] <= o->tol * (fabs(S->f[l]) > 1.0 ? fabs(S->f[l]) : 1.0)) {
            S->state[l] = NT_DONE;
            continue;
        }
        go[l] = 1;
        S->state[l] = NT_CG;
        S->newton[l]++;
        S->cgk[l] = 0;
        S->rtol[l] = NT_CG_ETA * sqrt(gg[l]);
        S->pp[l] = 0.0;
    }
    for (size_t j = 0; j < D; j++)
        for (int l = 0; l < NT_LANES; l++) {
            if (!go[l])
                continue;
            size_t k = j * NT_LANES + (size_t)l;
            double r = -B->g[k], zc = r / (double)B->m[k];
            B->r[k] = r;
            B->p[k] = zc;
            B->s[k] = 0.0;
            B->pf[k] = j < d || B->intercept ? (float)zc : 0.0f;
            rz[l] += r * zc;
            if (j < d)
                S->pp[l] += zc * zc;
        }
    for (int l = 0; l < NT_LANES; l++)
        if (go[l])
            S->rz[l] = rz[l];
}

/* One CG iteration of the lanes in NT_CG; a lane whose residual meets its target (or
 * whose curvature is not positive, or which ran NT_CG_MAX iterations) moves to NT_WAIT.
 * Lanes not in CG keep alpha = 0, so their s and r stay put whatever p holds. */
static void nt_cg_step(nt_block *B, nt_lanes *S)
{
    size_t d = B->d;
    double hb[NT_LANES], php[NT_LANES], alpha[NT_LANES], rr[NT_LANES], rzn[NT_LANES], beta[NT_LANES];
    int cg[NT_LANES];
    for (int l = 0; l < NT_LANES; l++)
        cg[l] = S->state[l] == NT_CG;
    nt_hv_pass(B, hb, php);
    /* p.Hp = p_w.p_w + t' diag(dw) t; Hp = p + hf (w part), hb (intercept). */
    for (int l = 0; l < NT_LANES; l++) {
        php[l] += S->pp[l];
        alpha[l] = cg[l] && php[l] > 0.0 ? S->rz[l] / php[l] : 0.0;
    }
    nt_cg_update(B, alpha, rr, rzn);
    for (int l = 0; l < NT_LANES; l++) {
        size_t q = d * NT_LANES + (size_t)l;
        double hp = B->intercept ? hb[l] : 0.0;
        B->s[q] += alpha[l] * B->p[q];
        B->r[q] -= alpha[l] * hp;
        rr[l] += B->r[q] * B->r[q];
        rzn[l] += B->r[q] * B->r[q] / (double)B->m[q];
    }
    for (int l = 0; l < NT_LANES; l++) {
        if (cg[l] && (!(php[l] > 0.0) || sqrt(rr[l]) <= S->rtol[l] || ++S->cgk[l] >= NT_CG_MAX)) {
            cg[l] = 0;
            S->state[l] = NT_WAIT;
        }
        beta[l] = cg[l] ? rzn[l] / S->rz[l] : 0.0;
        if (cg[l])
            S->rz[l] = rzn[l];
    }
    double pp[NT_LANES];
    nt_cg_direction(B, beta, pp);
    nt_cg_direction_b(B, beta);
    for (int l = 0; l < NT_LANES; l++)
        if (cg[l])
            S->pp[l] = pp[l];
}

/* The lanes in NT_WAIT finish their Newton iteration: X s, a backtracking (Armijo) line
 * search on the margins, the step, the gradient at the new point, and the next start. */
static void nt_newton_finish(nt_block *B, nt_lanes *S, const pth_logreg_options *o)
{
    size_t n = B->n, d = B->d, D = B->D;
    int mask[NT_LANES];
    for (int l = 0; l < NT_LANES; l++)
        mask[l] = S->state[l] == NT_WAIT;
    nt_xs_pass(B);
    double wws[NT_LANES][3], gs[NT_LANES], step[NT_LANES], fnew[NT_LANES], fold[NT_LANES];
    memset(wws, 0, sizeof wws);
    memset(gs, 0, sizeof gs);
    for (size_t j = 0; j < D; j++)
        for (int l = 0; l < NT_LANES; l++) {
            size_t q = j * NT_LANES + (size_t)l;
            if (j < d) {
                wws[l][0] += B->w[q] * B->w[q];
                wws[l][1] += B->w[q] * B->s[q];
                wws[l][2] += B->s[q] * B->s[q];
            }
            gs[l] += B->g[q] * B->s[q];
        }
    for (int l = 0; l < NT_LANES; l++) {
        step[l] = 0.0;
        fnew[l] = S->f[l];
        if (!mask[l])
            continue;
        if (!(gs[l] < 0.0)) { /* no descent direction (rounding at the optimum) */
            S->state[l] = NT_DONE;
            mask[l] = 0;
            continue;
        }
        double a = 1.0;
        for (int ls = 0; ls < 40; ls++, a *= 0.5) {
            double fa = nt_line_obj(B, l, a, wws[l]);
            if (fa <= S->f[l] + 1e-4 * a * gs[l]) {
                step[l] = a;
                fnew[l] = fa;
                break;
            }
        }
        if (step[l] == 0.0) {
            S->state[l] = NT_DONE;
            mask[l] = 0;
        }
    }
    for (size_t j = 0; j < D; j++)
        for (int l = 0; l < NT_LANES; l++)
            if (mask[l])
                B->w[j * NT_LANES + (size_t)l] += step[l] * B->s[j * NT_LANES + (size_t)l];
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l < NT_LANES; l++)
            if (mask[l])
                B->z[i * NT_LANES + (size_t)l] += step[l] * B->xs[i * NT_LANES + (size_t)l];
    memcpy(fold, S->f, sizeof fold);
    nt_grad_pass(B, mask, S->f);
    for (int l = 0; l < NT_LANES; l++)
        if (mask[l] && fold[l] - fnew[l] <= 1e-15 * (fabs(fold[l]) > 1.0 ? fabs(fold[l]) : 1.0)) {
            S->state[l] = NT_DONE;
            mask[l] = 0;
        }
    nt_newton_start(B, S, mask, o);
}

/* Solves the labels lab[0..nl) of Y into W (compact, label-major) and Bc. */
static int nt_fit_block(const pth_rowtiles *T, const unsigned char *Y, size_t L, const size_t *lab, int nl,
                        const pth_logreg_options *o, double *W, double *Bc)
{
    nt_block B;
    if (nt_alloc(&B, T, o->fit_intercept) != 0)
        return -1;
    size_t n = B.n, d = B.d;
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
    nt_lanes S;
    memset(&S, 0, sizeof S);
    for (int l = 0; l < NT_LANES; l++)
        S.state[l] = l < nl ? NT_WAIT : NT_DONE;
    int mask[NT_LANES];
    for (int l = 0; l < NT_LANES; l++)
        mask[l] = S.state[l] == NT_WAIT;
    nt_grad_pass(&B, mask, S.f);
    nt_newton_start(&B, &S, mask, o);
    /* A lane that has finished its CG waits until at least as many lanes wait as still
     * run CG (or none runs): then the waiting ones finish their Newton iteration together,
     * in two passes over X shared by all of them. */
    for (;;) {
        int ncg = 0, nwait = 0;
        for (int l = 0; l < NT_LANES; l++) {
            ncg += S.state[l] == NT_CG;
            nwait += S.state[l] == NT_WAIT;
        }
        if (nwait > 0 && nwait >= ncg)
            nt_newton_finish(&B, &S, o);
        else if (ncg > 0)
            nt_cg_step(&B, &S);
        else
            break;
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
    if (pth_rowtiles_build(X, threads, &T) != 0) {
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
