/* TabPFN v2 forward pass (see shared/testdata/tabpfn-v2/README.md, "Forward pass").
 *
 * Structure: a context holds everything derived from the training rows (preprocessing
 * statistics, column embeddings and, per layer and column, the head-0 keys/values of the
 * train rows that the test rows' multi-query item attention reads).  Train rows never attend
 * to test rows, so that pass is exact and done once; a prediction runs only the test rows.
 *
 * Token grid: x[rows, C, E] row-major, C = G feature groups + the target token (last).
 * Parallelism: OpenMP over row chunks (feature attention, MLP) and over columns (item
 * attention); BLAS runs single-threaded inside. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "tabpfn/tabpfn_internal.h"

#define SCALER_EPS 1.1920928955078125e-07 /* float32 eps, as the float32 model adds it */
#define LN_EPS 1e-5f
#define TOKENS_PER_CHUNK 256 /* rows of the per-token GEMMs of one work item */
#define TEST_BATCH 512       /* test rows per pass: bounds the test-side buffers */

struct pth_tabpfn_ctx {
    const pth_tabpfn *m;
    size_t N, F;
    int G, C, S;          /* feature groups, tokens per row (G + 1), feature slots (G * FG) */
    float *Xtr;           /* [N, F] copy, for recomputation when a test batch changes a mask */
    float *ytr;           /* [N] */
    unsigned char *nc2;   /* [S] step 2: padded input column is non-constant */
    int *src;             /* [S] slot -> input column after step 2's reordering, -1 = empty */
    unsigned char *nc6;   /* [S] step 6: slot is non-constant after scaling */
    double *imp, *mu, *sd; /* [S] imputation mean, scaler mean and std */
    float *row0;          /* [S] scaled value of row 0 (step 6 compares against it) */
    double *fac;          /* [G] sqrt(FG / used), float32-valued */
    double *colemb;       /* [G, E] column embeddings */
    double *ydense;       /* [N] densified train labels */
    float *t_test;        /* [E] target token of every test row */
    float *kv;            /* cached head-0 K and V of the train rows, see kv_slot() */
    size_t kv_floats;
};

static int nthreads(const pth_tabpfn *m)
{
    return m->threads > 0 ? m->threads : omp_get_max_threads();
}

/* Whether a parallel loop over this much arithmetic is worth waking the other threads.  With
 * the CLI's OMP_WAIT_POLICY=PASSIVE idle threads sleep, and waking them was measured at about
 * 0.1 ms per parallel region on the 2-vCPU VM here: single-row prediction has ~60 regions of
 * a few MFLOP, and forking all of them made it slower than one thread (12 ms vs 8 ms, case c).
 * 20 MFLOP is ~0.1 ms of one core's GEMM time. */
#define PAR_MIN_FLOPS 2e7

static int worth_forking(double flops)
{
    return flops >= PAR_MIN_FLOPS;
}

/* Layers 0..L-2 cache every column; the last layer only the target column, the only one whose
 * item attention reaches the decoder.  Each slot is K0^T [D, N] (transposed: 16 keys per
 * vector load in the few-query kernel, no BLAS transpose-packing) followed by V0 [N, D]. */
static float *kv_slot(const pth_tabpfn_ctx *ctx, int l, int c)
{
    const pth_tabpfn *m = ctx->m;
    size_t slot = l < m->L - 1 ? (size_t)l * (size_t)ctx->C + (size_t)c : (size_t)(m->L - 1) * (size_t)ctx->C;
    return ctx->kv + slot * 2 * ctx->N * (size_t)m->D;
}

/* ---------------------------------------------------------------- workspaces */

/* One scratch buffer per OpenMP thread, allocated once per pass and reused by every layer
 * (fresh large mallocs per layer cost page faults). */
typedef struct {
    float **buf;
    int nt;
} wspace;

static void ws_free(wspace *w)
{
    for (int i = 0; i < w->nt; i++)
        free(w->buf[i]);
    free(w->buf);
    w->buf = NULL, w->nt = 0;
}

static int ws_init(wspace *w, int nt, size_t floats)
{
    w->nt = 0;
    w->buf = calloc((size_t)nt, sizeof *w->buf);
    if (!w->buf)
        return PTH_ERR_NOMEM;
    w->nt = nt;
    for (int i = 0; i < nt; i++)
        if (!(w->buf[i] = malloc(floats * sizeof(float)))) {
            ws_free(w);
            return PTH_ERR_NOMEM;
        }
    return PTH_OK;
}

static int rows_per_chunk(int C)
{
    return TOKENS_PER_CHUNK / C > 0 ? TOKENS_PER_CHUNK / C : 1;
}

static size_t ws_feature_attention(const pth_tabpfn *m, int C)
{
    nn_attn a = {.M = C, .N = C, .D = m->D};
    return (size_t)rows_per_chunk(C) * (size_t)C * (size_t)(5 * m->E) + nn_attention_scratch(&a);
}

static size_t ws_mlp(const pth_tabpfn *m)
{
    return (size_t)TOKENS_PER_CHUNK * (size_t)(m->hid + m->E);
}

static size_t ws_item_train(const pth_tabpfn *m, int N)
{
    nn_attn a = {.M = N, .N = N, .D = m->D};
    return (size_t)N * (size_t)(5 * m->E) + nn_attention_scratch(&a);
}

static size_t ws_item_test(const pth_tabpfn *m, int N, int T)
{
    nn_attn a = {.M = T * m->H, .N = N, .D = m->D};
    a.k_t = 1;
    return (size_t)T * (size_t)(2 * m->E) + nn_attention_scratch(&a);
}

static size_t zmax(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* ---------------------------------------------------------------- blocks */

/* x = LN(x + FeatureAttention(x)) for rows x C tokens: attention among the C tokens of a row. */
static void feature_attention(const pth_tabpfn *m, const tabpfn_layer *ly, float *X, size_t rows, int C,
                              const wspace *ws)
{
    const int E = m->E, H = m->H, D = m->D;
    int rpc = rows_per_chunk(C);
    /* Few rows (single-row prediction): smaller chunks so every thread gets one. */
    if ((size_t)rpc * (size_t)ws->nt > rows)
        rpc = (int)((rows + (size_t)ws->nt - 1) / (size_t)ws->nt);
    const long nchunks = (long)((rows + (size_t)rpc - 1) / (size_t)rpc);
    const size_t tok = (size_t)rpc * (size_t)C;
    const float scale = 1.0f / sqrtf((float)D);
    const int par = worth_forking((double)rows * C * (8.0 * E * E + 4.0 * C * E));
#pragma omp parallel for schedule(dynamic) num_threads(ws->nt) if (par)
    for (long ch = 0; ch < nchunks; ch++) {
        float *buf = ws->buf[omp_get_thread_num()];
        const size_t r0 = (size_t)ch * (size_t)rpc;
        const int nr = (int)(rows - r0 < (size_t)rpc ? rows - r0 : (size_t)rpc);
        const int M = nr * C;
        float *x = X + r0 * (size_t)C * (size_t)E;
        float *qkv = buf, *o = qkv + tok * (size_t)(3 * E), *tmp = o + tok * (size_t)E, *scr = tmp + tok * (size_t)E;
        nn_gemm_packed(qkv, 3 * E, x, E, &ly->f_qkv, M, 0);
        for (int r = 0; r < nr; r++)
            for (int h = 0; h < H; h++) {
                const float *q = qkv + (size_t)r * (size_t)C * (size_t)(3 * E) + (size_t)(h * D);
                nn_attn a = {.M = C, .N = C, .D = D, .Q = q, .ldq = 3 * E, .K = q + E, .ldk = 3 * E, .V = q + 2 * E,
                             .ldv = 3 * E, .O = o + (size_t)r * (size_t)C * (size_t)E + (size_t)(h * D), .ldo = E,
                             .scale = scale};
                nn_attention(&a, scr);
            }
        nn_gemm_packed(tmp, E, o, E, &ly->f_out, M, 0);
        nn_add_layernorm(x, E, tmp, E, M, E, LN_EPS);
    }
}

/* x = LN(x + W2 gelu(W1 x)) for M tokens at x, x + ld, ... */
static void mlp(const pth_tabpfn *m, const tabpfn_layer *ly, float *X, int ld, size_t M, const wspace *ws)
{
    const int E = m->E, hid = m->hid;
    size_t chunk = TOKENS_PER_CHUNK;
    /* Few tokens (single-row prediction): split them over the threads (at least 16 each). */
    if (chunk * (size_t)ws->nt > M) {
        chunk = (M + (size_t)ws->nt - 1) / (size_t)ws->nt;
        chunk = chunk < 16 ? 16 : chunk;
    }
    const long nchunks = (long)((M + chunk - 1) / chunk);
    const int par = worth_forking(4.0 * (double)M * E * hid);
#pragma omp parallel for schedule(dynamic) num_threads(ws->nt) if (par)
    for (long ch = 0; ch < nchunks; ch++) {
        float *buf = ws->buf[omp_get_thread_num()];
        const size_t t0 = (size_t)ch * chunk;
        const int mc = (int)(M - t0 < chunk ? M - t0 : chunk);
        float *x = X + t0 * (size_t)ld, *h = buf, *tmp = buf + (size_t)TOKENS_PER_CHUNK * (size_t)hid;
        nn_gemm_packed(h, hid, x, ld, &ly->w1, mc, NN_GEMM_GELU);
        nn_gemm_packed(tmp, E, h, hid, &ly->w2, mc, 0);
        nn_add_layernorm(x, ld, tmp, E, mc, E, LN_EPS);
    }
}

/* Item attention of the train rows, column by column: 6-head self-attention over the N train
 * rows.  Stores each column's head-0 K/V for the test rows.  In the last layer only the target
 * column's K/V are needed (nothing of the train rows reaches the decoder otherwise). */
static void item_attention_train(const pth_tabpfn_ctx *ctx, int l, float *X, const wspace *ws)
{
    const pth_tabpfn *m = ctx->m;
    const tabpfn_layer *ly = &m->layers[l];
    const int E = m->E, H = m->H, D = m->D, C = ctx->C, N = (int)ctx->N;
    const int last = l == m->L - 1;
    const int c0 = last ? C - 1 : 0;
    const float scale = 1.0f / sqrtf((float)D);
#pragma omp parallel for schedule(dynamic) num_threads(ws->nt)
    for (int c = c0; c < C; c++) {
        float *x = X + (size_t)c * (size_t)E, *kv = kv_slot(ctx, l, c);
        const int ld = C * E;
        if (last) {
            /* K0 = x W_k0 (stored transposed), V0 = x W_v0 */
            float *k0 = ws->buf[omp_get_thread_num()];
            nn_gemm_packed(k0, D, x, ld, &ly->i_k0, N, 0);
            for (int r = 0; r < N; r++)
                for (int d = 0; d < D; d++)
                    kv[(size_t)d * (size_t)N + (size_t)r] = k0[(size_t)r * (size_t)D + (size_t)d];
            nn_gemm_packed(kv + (size_t)N * (size_t)D, D, x, ld, &ly->i_v0, N, 0);
            continue;
        }
        float *buf = ws->buf[omp_get_thread_num()];
        float *qkv = buf, *o = qkv + (size_t)N * (size_t)(3 * E), *tmp = o + (size_t)N * (size_t)E,
              *scr = tmp + (size_t)N * (size_t)E;
        nn_gemm_packed(qkv, 3 * E, x, ld, &ly->i_qkv, N, 0);
        for (int r = 0; r < N; r++) {
            const float *k0 = qkv + (size_t)r * (size_t)(3 * E) + E;
            for (int d = 0; d < D; d++)
                kv[(size_t)d * (size_t)N + (size_t)r] = k0[d];
            memcpy(kv + (size_t)(N + r) * (size_t)D, qkv + (size_t)r * (size_t)(3 * E) + 2 * E,
                   (size_t)D * sizeof *kv);
        }
        for (int h = 0; h < H; h++) {
            nn_attn a = {.M = N, .N = N, .D = D, .Q = qkv + h * D, .ldq = 3 * E, .K = qkv + E + h * D, .ldk = 3 * E,
                         .V = qkv + 2 * E + h * D, .ldv = 3 * E, .O = o + h * D, .ldo = E, .scale = scale};
            nn_attention(&a, scr);
        }
        nn_gemm_packed(tmp, E, o, E, &ly->i_out, N, 0);
        nn_add_layernorm(x, ld, tmp, E, N, E, LN_EPS);
    }
}

/* Item attention of T test rows: all H query heads attend to the cached head-0 K/V of the
 * train rows (multi-query); the H heads of a column's T rows are one [T*H, D] query matrix.
 * The Q and output projections run as GEMMs over all tokens at once (one weight packing per
 * token chunk instead of one per column: with a single test row that packing would dominate);
 * only the attention itself is per column.  QO: 2 * T * C * E floats. */
static void item_attention_test(const pth_tabpfn_ctx *ctx, int l, float *X, int T, float *QO, const wspace *ws)
{
    const pth_tabpfn *m = ctx->m;
    const tabpfn_layer *ly = &m->layers[l];
    const int E = m->E, H = m->H, D = m->D, C = ctx->C, N = (int)ctx->N;
    const int last = l == m->L - 1;
    const int cols = last ? 1 : C;                        /* the last layer needs the target column only */
    float *base = X + (size_t)(last ? C - 1 : 0) * (size_t)E; /* token i = t*cols + j at base + i*ldt */
    const int ldt = last ? C * E : E;
    const size_t ntok = (size_t)T * (size_t)cols;
    float *Q = QO, *O = QO + ntok * (size_t)E;
    size_t chunk = TOKENS_PER_CHUNK;
    if (chunk * (size_t)ws->nt > ntok)
        chunk = (ntok + (size_t)ws->nt - 1) / (size_t)ws->nt;
    const long nchunks = (long)((ntok + chunk - 1) / chunk);
    const int par_proj = worth_forking(2.0 * (double)ntok * E * E);
    const int par_attn = worth_forking(4.0 * (double)ntok * H * N * D);
#pragma omp parallel for schedule(dynamic) num_threads(ws->nt) if (par_proj)
    for (long ch = 0; ch < nchunks; ch++) {
        const size_t t0 = (size_t)ch * chunk;
        const int mc = (int)(ntok - t0 < chunk ? ntok - t0 : chunk);
        nn_gemm_packed(Q + t0 * (size_t)E, E, base + t0 * (size_t)ldt, ldt, &ly->i_q, mc, 0);
    }
    /* Work items: (column, block of rows); rows are split when there are fewer columns than
     * threads (the last layer, or a narrow table). */
    const int nrb = cols >= ws->nt ? 1 : (T < ws->nt ? T : ws->nt);
    const int rpb = (T + nrb - 1) / nrb;
#pragma omp parallel for schedule(dynamic) num_threads(ws->nt) if (par_attn)
    for (int it = 0; it < cols * nrb; it++) {
        const int j = it / nrb, r0 = (it % nrb) * rpb, nr = T - r0 < rpb ? T - r0 : rpb;
        if (nr <= 0)
            continue;
        float *buf = ws->buf[omp_get_thread_num()];
        float *q = buf, *o = q + (size_t)nr * (size_t)E, *scr = o + (size_t)nr * (size_t)E;
        for (int t = 0; t < nr; t++)
            memcpy(q + (size_t)t * (size_t)E, Q + ((size_t)(r0 + t) * (size_t)cols + (size_t)j) * (size_t)E,
                   (size_t)E * sizeof *q);
        const float *kv = kv_slot(ctx, l, last ? C - 1 : j);
        nn_attn a = {.M = nr * H, .N = N, .D = D, .Q = q, .ldq = D, .K = kv, .ldk = N, .k_t = 1,
                     .V = kv + (size_t)N * (size_t)D, .ldv = D, .O = o, .ldo = D, .scale = 1.0f / sqrtf((float)D)};
        nn_attention(&a, scr);
        for (int t = 0; t < nr; t++)
            memcpy(O + ((size_t)(r0 + t) * (size_t)cols + (size_t)j) * (size_t)E, o + (size_t)t * (size_t)E,
                   (size_t)E * sizeof *o);
    }
#pragma omp parallel for schedule(dynamic) num_threads(ws->nt) if (par_proj)
    for (long ch = 0; ch < nchunks; ch++) {
        const size_t t0 = (size_t)ch * chunk;
        const int mc = (int)(ntok - t0 < chunk ? ntok - t0 : chunk);
        float *tmp = Q + t0 * (size_t)E; /* Q is consumed: reuse it for the projection */
        nn_gemm_packed(tmp, E, O + t0 * (size_t)E, E, &ly->i_out, mc, 0);
        nn_add_layernorm(base + t0 * (size_t)ldt, ldt, tmp, E, mc, E, LN_EPS);
    }
}

/* ---------------------------------------------------------------- preprocessing + encoder */

/* Steps 4-5 for one value of slot s: impute, standardise with train statistics, clip. */
static double scale_value(const pth_tabpfn_ctx *ctx, int s, float x)
{
    double v = isfinite(x) ? (double)x : ctx->imp[s];
    double z = (v - ctx->mu[s]) / (ctx->sd[s] + SCALER_EPS);
    return z < -100.0 ? -100.0 : (z > 100.0 ? 100.0 : z);
}

/* Steps 3-10 for `rows` rows of F inputs: the token grid [rows, C, E].  Train rows get their
 * densified label's target token, test rows (ydense NULL) the shared t_test. */
static void encode_rows(const pth_tabpfn_ctx *ctx, const float *Xr, size_t rows, const double *ydense, float *out)
{
    const pth_tabpfn *m = ctx->m;
    const int E = m->E, FG = m->FG, G = ctx->G, C = ctx->C;
#pragma omp parallel for schedule(static) num_threads(nthreads(m)) if (worth_forking(4.0 * (double)rows * G * E * FG))
    for (long r = 0; r < (long)rows; r++) {
        const float *x = Xr + (size_t)r * ctx->F;
        float *tok = out + (size_t)r * (size_t)C * (size_t)E;
        double v[128]; /* [x_0..x_{FG-1}, ind_0..ind_{FG-1}]; FG <= 64 */
        for (int g = 0; g < G; g++) {
            for (int j = 0; j < FG; j++) {
                const int s = g * FG + j, f = ctx->src[s];
                double z = 0.0, ind = 0.0;
                if (f >= 0) {
                    float raw = x[f];
                    ind = isnan(raw) ? -2.0 : (isinf(raw) ? (raw > 0 ? 2.0 : 4.0) : 0.0);
                    z = ctx->nc6[s] ? scale_value(ctx, s, raw) * ctx->fac[g] : 0.0;
                }
                v[j] = z;
                v[FG + j] = ind;
            }
            const double *ce = ctx->colemb + (size_t)g * (size_t)E;
            float *t = tok + (size_t)g * (size_t)E;
            for (int e = 0; e < E; e++) {
                const float *w = m->enc_w + (size_t)e * (size_t)(2 * FG);
                double s = ce[e];
                for (int k = 0; k < 2 * FG; k++)
                    s += (double)w[k] * v[k];
                t[e] = (float)s;
            }
        }
        float *t = tok + (size_t)G * (size_t)E;
        if (ydense)
            for (int e = 0; e < E; e++)
                t[e] = (float)((double)m->y_w[2 * e] * ydense[r] + (double)m->y_b[e]);
        else
            memcpy(t, ctx->t_test, (size_t)E * sizeof *t);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Count of sorted unique values u[0..nu) strictly below v. */
static size_t count_below(const double *u, size_t nu, double v)
{
    size_t lo = 0, hi = nu;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (u[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void pth_tabpfn_ctx_free(pth_tabpfn_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->Xtr), free(ctx->ytr), free(ctx->nc2), free(ctx->src), free(ctx->nc6), free(ctx->imp);
    free(ctx->mu), free(ctx->sd), free(ctx->row0), free(ctx->fac), free(ctx->colemb), free(ctx->ydense);
    free(ctx->t_test), free(ctx->kv);
    free(ctx);
}

size_t pth_tabpfn_ctx_bytes(const pth_tabpfn_ctx *ctx)
{
    return sizeof *ctx + ctx->kv_floats * sizeof(float) + ctx->N * ctx->F * sizeof(float) +
           (size_t)ctx->S * (3 * sizeof(double) + sizeof(float) + sizeof(int) + 2) +
           (size_t)ctx->G * (size_t)ctx->m->E * sizeof(double);
}

/* Preprocessing state (steps 1-9).  The constant-slot masks of steps 2 and 6 are taken over
 * the train rows plus `Xex` (n_ex extra rows, e.g. the test rows of a reference forward). */
static int prepare(pth_tabpfn_ctx *ctx, const float *Xex, size_t n_ex, pth_error *err)
{
    const pth_tabpfn *m = ctx->m;
    const size_t N = ctx->N, F = ctx->F;
    const int FG = m->FG, E = m->E, S = ctx->S, G = ctx->G;
    const float *X = ctx->Xtr;
    /* Step 2: a column is constant when every row equals row 0 (NaN never equals). */
    for (int f = 0; f < S; f++) {
        int nc = 0;
        if ((size_t)f < F) {
            const float x0 = X[f];
            for (size_t r = 1; r < N && !nc; r++)
                nc = !(X[r * F + (size_t)f] == x0);
            for (size_t r = 0; r < n_ex && !nc; r++)
                nc = !(Xex[r * F + (size_t)f] == x0);
        }
        ctx->nc2[f] = (unsigned char)nc;
    }
    for (int g = 0; g < G; g++) {
        int k = 0;
        for (int j = 0; j < FG; j++)
            if (ctx->nc2[g * FG + j])
                ctx->src[g * FG + k++] = g * FG + j;
        for (; k < FG; k++)
            ctx->src[g * FG + k] = -1;
    }
    /* Steps 4-5: statistics over the train rows only. */
    for (int s = 0; s < S; s++) {
        const int f = ctx->src[s];
        ctx->imp[s] = 0.0, ctx->mu[s] = 0.0, ctx->sd[s] = 1.0;
        if (f < 0)
            continue;
        double sum = 0.0;
        size_t cnt = 0;
        for (size_t r = 0; r < N; r++) {
            float x = X[r * F + (size_t)f];
            if (isfinite(x))
                sum += x, cnt++;
        }
        ctx->imp[s] = cnt ? sum / (double)cnt : 0.0;
        sum = 0.0;
        for (size_t r = 0; r < N; r++) {
            float x = X[r * F + (size_t)f];
            sum += isfinite(x) ? (double)x : ctx->imp[s];
        }
        const double mean = sum / (double)N;
        double ss = 0.0;
        for (size_t r = 0; r < N; r++) {
            float x = X[r * F + (size_t)f];
            double d = (isfinite(x) ? (double)x : ctx->imp[s]) - mean;
            ss += d * d;
        }
        double sd = sqrt(ss / (double)(N > 1 ? N - 1 : 1));
        ctx->mu[s] = mean;
        ctx->sd[s] = (sd == 0.0 || N == 1) ? 1.0 : sd;
    }
    /* Step 6: the mask again, on the scaled values (as float32, what the model compares). */
    for (int g = 0; g < G; g++) {
        int used = 0;
        for (int j = 0; j < FG; j++) {
            const int s = g * FG + j, f = ctx->src[s];
            int nc = 0;
            if (f >= 0) {
                const float z0 = (float)scale_value(ctx, s, X[f]);
                ctx->row0[s] = z0;
                for (size_t r = 1; r < N && !nc; r++)
                    nc = (float)scale_value(ctx, s, X[r * F + (size_t)f]) != z0;
                for (size_t r = 0; r < n_ex && !nc; r++)
                    nc = (float)scale_value(ctx, s, Xex[r * F + (size_t)f]) != z0;
            }
            ctx->nc6[s] = (unsigned char)nc;
            used += nc;
        }
        /* torch evaluates the factor in float32 even in a float64 run. */
        ctx->fac[g] = (double)sqrtf((float)FG / (float)(used > 1 ? used : 1));
    }
    /* Step 8: column embeddings from torch's CPU generator, regenerated for this G. */
    const size_t nu = (size_t)G * (size_t)m->pe_dim;
    if (nu < 16)
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "TabPFN: fewer than 16 column-embedding draws (G=%d, dim %d)", G,
                        m->pe_dim);
    float *u = malloc(nu * sizeof *u);
    if (!u)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    tabpfn_torch_randn(m->seed, u, nu);
    for (int g = 0; g < G; g++)
        for (int e = 0; e < E; e++) {
            const float *w = m->pe_w + (size_t)e * (size_t)m->pe_dim, *ug = u + (size_t)g * (size_t)m->pe_dim;
            double s = m->pe_b[e];
            for (int k = 0; k < m->pe_dim; k++)
                s += (double)w[k] * ug[k];
            ctx->colemb[(size_t)g * (size_t)E + (size_t)e] = s;
        }
    free(u);
    /* Step 9: labels densified to ranks among the unique train labels; test rows get the
     * train-label mean (densified the same way) and the missing-label indicator -2. */
    double *uy = malloc(N * sizeof *uy);
    if (!uy)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    double ysum = 0.0;
    for (size_t r = 0; r < N; r++)
        uy[r] = ctx->ytr[r], ysum += ctx->ytr[r];
    qsort(uy, N, sizeof *uy, cmp_double);
    size_t nuq = 0;
    for (size_t r = 0; r < N; r++)
        if (nuq == 0 || uy[r] != uy[nuq - 1])
            uy[nuq++] = uy[r];
    for (size_t r = 0; r < N; r++)
        ctx->ydense[r] = (double)count_below(uy, nuq, ctx->ytr[r]);
    const double yt = (double)count_below(uy, nuq, ysum / (double)N);
    free(uy);
    for (int e = 0; e < E; e++)
        ctx->t_test[e] = (float)((double)m->y_w[2 * e] * yt + (double)m->y_w[2 * e + 1] * -2.0 + (double)m->y_b[e]);
    return PTH_OK;
}

static pth_tabpfn_ctx *ctx_create(const pth_tabpfn *m, const float *X_train, const float *y_train, size_t N,
                                  size_t F, const float *Xex, size_t n_ex, tabpfn_hook hook, void *ud,
                                  pth_error *err)
{
    if (!m || !X_train || !y_train) {
        pth_fail(err, PTH_ERR_INVALID, "TabPFN: NULL model or training data");
        return NULL;
    }
    if (N < 1 || N > PTH_TABPFN_MAX_TRAIN) {
        pth_fail(err, PTH_ERR_INVALID, "TabPFN: %zu training rows (1..%d supported)", N, PTH_TABPFN_MAX_TRAIN);
        return NULL;
    }
    if (F < 1 || F > PTH_TABPFN_MAX_FEATURES) {
        pth_fail(err, PTH_ERR_INVALID, "TabPFN: %zu features (1..%d supported)", F, PTH_TABPFN_MAX_FEATURES);
        return NULL;
    }
    for (size_t r = 0; r < N; r++)
        if (!isfinite(y_train[r])) {
            pth_fail(err, PTH_ERR_INVALID, "TabPFN: training label %zu is not finite", r);
            return NULL;
        }
    pth_tabpfn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    const int E = m->E, L = m->L;
    ctx->m = m, ctx->N = N, ctx->F = F;
    ctx->G = (int)((F + (size_t)m->FG - 1) / (size_t)m->FG);
    ctx->C = ctx->G + 1;
    ctx->S = ctx->G * m->FG;
    const size_t S = (size_t)ctx->S, G = (size_t)ctx->G, C = (size_t)ctx->C;
    ctx->kv_floats = ((size_t)(L - 1) * C + 1) * 2 * N * (size_t)m->D;
    ctx->Xtr = malloc(N * F * sizeof *ctx->Xtr);
    ctx->ytr = malloc(N * sizeof *ctx->ytr);
    ctx->nc2 = malloc(S), ctx->nc6 = malloc(S);
    ctx->src = malloc(S * sizeof *ctx->src);
    ctx->imp = malloc(S * sizeof(double)), ctx->mu = malloc(S * sizeof(double)), ctx->sd = malloc(S * sizeof(double));
    ctx->row0 = calloc(S, sizeof *ctx->row0);
    ctx->fac = malloc(G * sizeof *ctx->fac);
    ctx->colemb = malloc(G * (size_t)E * sizeof *ctx->colemb);
    ctx->ydense = malloc(N * sizeof *ctx->ydense);
    ctx->t_test = malloc((size_t)E * sizeof *ctx->t_test);
    ctx->kv = malloc(ctx->kv_floats * sizeof *ctx->kv);
    float *X = malloc(N * C * (size_t)E * sizeof *X);
    if (!ctx->Xtr || !ctx->ytr || !ctx->nc2 || !ctx->nc6 || !ctx->src || !ctx->imp || !ctx->mu || !ctx->sd ||
        !ctx->row0 || !ctx->fac || !ctx->colemb || !ctx->ydense || !ctx->t_test || !ctx->kv || !X) {
        pth_fail(err, PTH_ERR_NOMEM, "TabPFN: out of memory for %zu train rows x %zu features", N, F);
        goto fail;
    }
    memcpy(ctx->Xtr, X_train, N * F * sizeof *X);
    memcpy(ctx->ytr, y_train, N * sizeof *ctx->ytr);
    if (prepare(ctx, Xex, n_ex, err))
        goto fail;
    encode_rows(ctx, ctx->Xtr, N, ctx->ydense, X);
    if (hook)
        hook(ud, -1, 0, X, N, C, (size_t)E);
    wspace ws;
    if (ws_init(&ws, nthreads(m),
                zmax(zmax(ws_feature_attention(m, ctx->C), ws_mlp(m)), ws_item_train(m, (int)N)))) {
        pth_fail(err, PTH_ERR_NOMEM, "TabPFN: out of memory for the forward pass workspace");
        goto fail;
    }
    const int prev = nn_blas_threads_single();
    for (int l = 0; l < L; l++) {
        feature_attention(m, &m->layers[l], X, N, ctx->C, &ws);
        item_attention_train(ctx, l, X, &ws);
        if (l < L - 1) {
            mlp(m, &m->layers[l], X, E, N * C, &ws);
            if (hook)
                hook(ud, l, 0, X, N, C, (size_t)E);
        }
    }
    nn_blas_threads_restore(prev);
    ws_free(&ws);
    free(X);
    return ctx;
fail:
    free(X);
    pth_tabpfn_ctx_free(ctx);
    return NULL;
}

pth_tabpfn_ctx *pth_tabpfn_fit_context(const pth_tabpfn *m, const float *X_train, const float *y_train,
                                       size_t n_train, size_t n_features, pth_error *err)
{
    return ctx_create(m, X_train, y_train, n_train, n_features, NULL, 0, NULL, NULL, err);
}

/* ---------------------------------------------------------------- prediction */

/* Would the batch change a constant-slot mask of the context (steps 2 and 6)?  A context
 * created from the train rows alone can only see constant slots become non-constant. */
static int batch_changes_masks(const pth_tabpfn_ctx *ctx, const float *Xt, size_t T)
{
    const size_t F = ctx->F;
    for (size_t f = 0; f < F; f++) {
        if (ctx->nc2[f])
            continue;
        const float x0 = ctx->Xtr[f];
        for (size_t r = 0; r < T; r++)
            if (!(Xt[r * F + f] == x0))
                return 1;
    }
    for (int s = 0; s < ctx->S; s++) {
        const int f = ctx->src[s];
        if (f < 0 || ctx->nc6[s])
            continue;
        for (size_t r = 0; r < T; r++)
            if ((float)scale_value(ctx, s, Xt[r * F + (size_t)f]) != ctx->row0[s])
                return 1;
    }
    return 0;
}

/* Runs T test rows (T <= TEST_BATCH) through the network against the cached train K/V. */
static void predict_batch(const pth_tabpfn_ctx *ctx, const float *Xt, int T, float *logits, float *X, float *h,
                          float *QO, const wspace *ws, tabpfn_hook hook, void *ud)
{
    const pth_tabpfn *m = ctx->m;
    const int E = m->E, C = ctx->C, L = m->L;
    encode_rows(ctx, Xt, (size_t)T, NULL, X);
    if (hook)
        hook(ud, -1, 1, X, (size_t)T, (size_t)C, (size_t)E);
    for (int l = 0; l < L; l++) {
        feature_attention(m, &m->layers[l], X, (size_t)T, C, ws);
        item_attention_test(ctx, l, X, T, QO, ws);
        if (l == L - 1) /* only the target tokens reach the decoder */
            mlp(m, &m->layers[l], X + (size_t)(C - 1) * (size_t)E, C * E, (size_t)T, ws);
        else
            mlp(m, &m->layers[l], X, E, (size_t)T * (size_t)C, ws);
        if (hook)
            hook(ud, l, 1, X, (size_t)T, (size_t)C, (size_t)E);
    }
    /* Decoder on the target tokens. */
    nn_linear(h, m->dec_hid, X + (size_t)(C - 1) * (size_t)E, C * E, m->d1_w, m->d1_b, T, E, m->dec_hid);
    nn_gelu(h, (size_t)T * (size_t)m->dec_hid);
    nn_linear(logits, m->n_out, h, m->dec_hid, m->d2_w, m->d2_b, T, m->dec_hid, m->n_out);
}

static int predict(const pth_tabpfn_ctx *ctx, const float *X_test, size_t n_test, float *logits, tabpfn_hook hook,
                   void *ud, pth_error *err)
{
    if (!ctx || (n_test && (!X_test || !logits)))
        return pth_fail(err, PTH_ERR_INVALID, "TabPFN: NULL context, test rows or output");
    if (n_test == 0)
        return PTH_OK;
    if (batch_changes_masks(ctx, X_test, n_test)) {
        /* The batch makes a train-constant slot non-constant: the reference would preprocess
         * (and so run) the train rows differently.  Recompute for this batch. */
        pth_tabpfn_ctx *tmp =
            ctx_create(ctx->m, ctx->Xtr, ctx->ytr, ctx->N, ctx->F, X_test, n_test, hook, ud, err);
        if (!tmp)
            return err && err->code ? err->code : PTH_ERR_NOMEM;
        int rc = predict(tmp, X_test, n_test, logits, hook, ud, err);
        pth_tabpfn_ctx_free(tmp);
        return rc;
    }
    const pth_tabpfn *m = ctx->m;
    const int Tmax = (int)(n_test < TEST_BATCH ? n_test : TEST_BATCH);
    float *X = malloc((size_t)Tmax * (size_t)ctx->C * (size_t)m->E * sizeof *X);
    float *h = malloc((size_t)Tmax * (size_t)m->dec_hid * sizeof *h);
    float *QO = malloc(2 * (size_t)Tmax * (size_t)ctx->C * (size_t)m->E * sizeof *QO);
    wspace ws = {0};
    if (!X || !h || !QO ||
        ws_init(&ws, nthreads(m),
                zmax(zmax(ws_feature_attention(m, ctx->C), ws_mlp(m)), ws_item_test(m, (int)ctx->N, Tmax)))) {
        free(X), free(h), free(QO);
        return pth_fail(err, PTH_ERR_NOMEM, "TabPFN: out of memory predicting %zu rows", n_test);
    }
    const int prev = nn_blas_threads_single();
    for (size_t t0 = 0; t0 < n_test; t0 += TEST_BATCH) {
        const int T = (int)(n_test - t0 < TEST_BATCH ? n_test - t0 : TEST_BATCH);
        predict_batch(ctx, X_test + t0 * ctx->F, T, logits + t0 * (size_t)m->n_out, X, h, QO, &ws, hook, ud);
    }
    nn_blas_threads_restore(prev);
    ws_free(&ws);
    free(X), free(h), free(QO);
    return PTH_OK;
}

int pth_tabpfn_predict_logits(const pth_tabpfn_ctx *ctx, const float *X_test, size_t n_test, float *logits,
                              pth_error *err)
{
    return predict(ctx, X_test, n_test, logits, NULL, NULL, err);
}

int tabpfn_forward_debug(const pth_tabpfn *m, const float *X, size_t n_train, size_t n_test, size_t n_features,
                         const float *y_train, float *logits, tabpfn_hook hook, void *ud, pth_error *err)
{
    if (X == NULL)
        return pth_fail(err, PTH_ERR_INVALID, "TabPFN: NULL input");
    const float *Xt = X + n_train * n_features;
    pth_tabpfn_ctx *ctx = ctx_create(m, X, y_train, n_train, n_features, Xt, n_test, hook, ud, err);
    if (!ctx)
        return err && err->code ? err->code : PTH_ERR_NOMEM;
    int rc = predict(ctx, Xt, n_test, logits, hook, ud, err);
    pth_tabpfn_ctx_free(ctx);
    return rc;
}

int pth_tabpfn_forward(const pth_tabpfn *m, const float *X, size_t n_train, size_t n_test, size_t n_features,
                       const float *y_train, float *logits, pth_error *err)
{
    return tabpfn_forward_debug(m, X, n_train, n_test, n_features, y_train, logits, NULL, NULL, err);
}
