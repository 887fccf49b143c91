/* Numeric core: every kernel against a naive double-precision implementation, on strided
 * (non-contiguous) views where the kernel accepts them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/nn.h"
#include "pathos/rng.h"

static pth_rng rng;

static float *rand_mat(size_t n, float scale)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(pth_rng_normal(&rng) * scale);
    return p;
}

static void test_linear_matmul(void)
{
    enum { M = 37, K = 70, N = 45, LDI = 80, LDO = 50 };
    float *in = rand_mat((size_t)M * LDI, 1.0f), *W = rand_mat((size_t)N * K, 0.3f), *b = rand_mat(N, 1.0f);
    float *out = calloc((size_t)M * LDO, sizeof *out);
    nn_linear(out, LDO, in, LDI, W, b, M, K, N);
    double md = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = b[j];
            for (int k = 0; k < K; k++)
                s += (double)in[i * LDI + k] * W[j * K + k];
            md = fmax(md, fabs(s - out[i * LDO + j]));
        }
    CHECK(md < 2e-5);
    /* out = 0.5*out + 2 * A B */
    float *B = rand_mat((size_t)K * N, 0.3f);
    float *ref = malloc((size_t)M * LDO * sizeof *ref);
    memcpy(ref, out, (size_t)M * LDO * sizeof *ref);
    nn_matmul(out, LDO, in, LDI, B, N, M, K, N, 2.0f, 0.5f);
    md = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)in[i * LDI + k] * B[k * N + j];
            md = fmax(md, fabs(0.5 * ref[i * LDO + j] + 2.0 * s - out[i * LDO + j]));
        }
    CHECK(md < 5e-5);
    free(in), free(W), free(b), free(out), free(B), free(ref);
}

static void test_layernorm(void)
{
    enum { M = 9, E = 192, LD = 200 };
    float *x = rand_mat((size_t)M * LD, 3.0f), *a = rand_mat((size_t)M * LD, 1.0f);
    for (size_t i = 0; i < (size_t)M * LD; i++)
        x[i] += 5.0f; /* an offset the mean must remove */
    double *ref = malloc((size_t)M * E * sizeof *ref);
    for (int i = 0; i < M; i++) {
        double s = 0, ss = 0;
        for (int e = 0; e < E; e++)
            s += (double)x[i * LD + e] + a[i * LD + e];
        double mean = s / E;
        for (int e = 0; e < E; e++) {
            double d = (double)x[i * LD + e] + a[i * LD + e] - mean;
            ss += d * d;
        }
        for (int e = 0; e < E; e++)
            ref[i * E + e] = ((double)x[i * LD + e] + a[i * LD + e] - mean) / sqrt(ss / E + 1e-5);
    }
    nn_add_layernorm(x, LD, a, LD, M, E, 1e-5f);
    double md = 0;
    for (int i = 0; i < M; i++)
        for (int e = 0; e < E; e++)
            md = fmax(md, fabs(ref[i * E + e] - x[i * LD + e]));
    CHECK(md < 2e-6);
    /* A constant row normalises to 0 (variance 0 + eps). */
    float c[E];
    for (int e = 0; e < E; e++)
        c[e] = 2.5f;
    nn_add_layernorm(c, E, NULL, 0, 1, E, 1e-5f);
    CHECK(c[0] == 0.0f && c[E - 1] == 0.0f);
    free(x), free(a), free(ref);
}

static void test_gelu_exp_softmax(void)
{
    enum { N = 200001 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++)
        x[i] = -12.0f + 24.0f * (float)i / (N - 1);
    memcpy(y, x, N * sizeof *y);
    nn_gelu(y, N);
    double md = 0;
    for (int i = 0; i < N; i++) {
        double v = x[i], g = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        /* within one float ulp of the exact value (plus a tiny absolute floor) */
        md = fmax(md, fabs(g - y[i]) / (fabs(g) * 1.2e-7 + 1e-9));
    }
    CHECK(md <= 8.0);
    double gd = 0;
    for (int i = 0; i < N; i++) {
        double v = x[i], g = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        gd = fmax(gd, fabs(g - y[i]));
    }
    CHECK(gd < 1e-6);
    printf("gelu: max |err| %.3g, max err / ulp-ish %.3g\n", gd, md);

    for (int i = 0; i < N; i++)
        x[i] = -87.0f + 95.0f * (float)i / (N - 1);
    memcpy(y, x, N * sizeof *y);
    nn_exp(y, N);
    double mr = 0;
    for (int i = 0; i < N; i++)
        mr = fmax(mr, fabs(y[i] - exp((double)x[i])) / exp((double)x[i]));
    CHECK(mr < 2.5e-7);
    printf("exp: max rel err %.3g\n", mr);

    enum { R = 5, C = 77, LD = 80 };
    float *s = rand_mat((size_t)R * LD, 4.0f);
    double ref[R][C];
    for (int i = 0; i < R; i++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < C; j++)
            mx = fmax(mx, s[i * LD + j]);
        for (int j = 0; j < C; j++)
            sum += exp(s[i * LD + j] - mx);
        for (int j = 0; j < C; j++)
            ref[i][j] = exp(s[i * LD + j] - mx) / sum;
    }
    nn_softmax_rows(s, LD, R, C);
    md = 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            md = fmax(md, fabs(ref[i][j] - s[i * LD + j]));
    CHECK(md < 1e-7);
    free(x), free(y), free(s);
}

/* Naive attention in double: O[i] = sum_j softmax_j(scale q_i.k_j) v_j. */
static double attn_check(const nn_attn *a)
{
    double md = 0;
    double *p = malloc((size_t)a->N * sizeof *p);
    for (int i = 0; i < a->M; i++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < a->N; j++) {
            double s = 0;
            for (int d = 0; d < a->D; d++)
                s += (double)a->Q[(size_t)i * a->ldq + d] *
                     (a->k_t ? a->K[(size_t)d * a->ldk + j] : a->K[(size_t)j * a->ldk + d]);
            p[j] = s * a->scale;
            mx = fmax(mx, p[j]);
        }
        for (int j = 0; j < a->N; j++)
            sum += (p[j] = exp(p[j] - mx));
        for (int d = 0; d < a->D; d++) {
            double o = 0;
            for (int j = 0; j < a->N; j++)
                o += p[j] / sum * a->V[(size_t)j * a->ldv + d];
            double got = a->O[(size_t)i * a->ldo + d];
            md = isfinite(got) ? fmax(md, fabs(o - got)) : INFINITY;
        }
    }
    free(p);
    return md;
}

static void test_attention(void)
{
    /* A fused QKV buffer [rows, 3*H*D] as the model keeps it; head 2 of it. */
    enum { ROWS = 203, H = 6, D = 32, LD = 3 * H * D };
    float *qkv = rand_mat((size_t)ROWS * LD, 1.5f);
    float *o = calloc((size_t)ROWS * H * D, sizeof *o);
    const int configs[][2] = {{0, 0}, {16, 64}, {7, 50}, {64, 1}, {0, 0}, {16, 64}};
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        nn_portable_only = c >= 4; /* the last two: portable softmax */
        nn_attn a = {.M = ROWS, .N = ROWS, .D = D, .Q = qkv + 2 * D, .ldq = LD, .K = qkv + H * D + 2 * D,
                     .ldk = LD, .V = qkv + 2 * H * D + 2 * D, .ldv = LD, .O = o + 2 * D, .ldo = H * D,
                     .scale = 1.0f / sqrtf((float)D), .bq = configs[c][0], .bk = configs[c][1]};
        float *scr = malloc(nn_attention_scratch(&a) * sizeof *scr);
        nn_attention(&a, scr);
        double md = attn_check(&a);
        printf("attention bq=%d bk=%d%s: max |err| %.3g\n", a.bq, a.bk, nn_portable_only ? " (portable)" : "", md);
        CHECK(md < 1e-5); /* float32 rounding of scores ~10 in size: ~2e-6 */
        free(scr);
    }
    nn_portable_only = 0;
    /* Few keys (attention between the features of a row): the small-N path, C = 64, 51, 26,
     * 16 and 4, with the AVX-512 kernel (where the CPU has it) and the portable one. */
    const int smallC[] = {64, 51, 26, 16, 4, 64, 26, 4};
    for (int t = 0; t < 8; t++) {
        const int C = smallC[t];
        nn_portable_only = t >= 5;
        nn_attn a = {.M = C, .N = C, .D = D, .Q = qkv + 5 * D, .ldq = LD, .K = qkv + H * D + 5 * D, .ldk = LD,
                     .V = qkv + 2 * H * D + 5 * D, .ldv = LD, .O = o + 5 * D, .ldo = H * D, .scale = 0.17677669f};
        float *scr = malloc(nn_attention_scratch(&a) * sizeof *scr);
        nn_attention(&a, scr);
        double md = attn_check(&a);
        printf("attention small N=%d%s: max |err| %.3g\n", C, nn_portable_only ? " (portable)" : "", md);
        CHECK(md < 1e-5);
        free(scr);
    }
    nn_portable_only = 0;
    /* Multi-query: 6 query heads of 40 rows stacked as [240, D] against one K/V head of 150
     * rows (the model's test-row item attention), with fewer keys than queries. */
    nn_attn a = {.M = 40 * H, .N = 150, .D = D, .Q = qkv, .ldq = D, .K = qkv + 40 * LD, .ldk = LD,
                 .V = qkv + 40 * LD + H * D, .ldv = LD, .O = o, .ldo = D, .scale = 0.17677669f, .bq = 0, .bk = 64};
    float *scr = malloc(nn_attention_scratch(&a) * sizeof *scr);
    nn_attention(&a, scr);
    double md = attn_check(&a);
    CHECK(md < 1e-5);
    /* The cached layout of the model's test-row attention: K^T [D, N] and V [N, D]; few
     * queries (the register-blocked kernel; 6 = one test row, 13 = a ragged group), many
     * queries (GEMM path), streaming key blocks, and the portable fallback. */
    {
        enum { NK = 150 };
        float *kt = malloc((size_t)D * NK * sizeof *kt);
        for (int j = 0; j < NK; j++)
            for (int d = 0; d < D; d++)
                kt[d * NK + j] = qkv[40 * LD + (size_t)j * LD + (size_t)d];
        const int Ms[] = {6, 13, 48, 240, 6, 240};
        const int bks[] = {0, 0, 0, 0, 0, 64};
        for (int t = 0; t < 6; t++) {
            nn_portable_only = t == 4;
            nn_attn b = {.M = Ms[t], .N = NK, .D = D, .Q = qkv, .ldq = D, .K = kt, .ldk = NK, .k_t = 1,
                         .V = qkv + 40 * LD + H * D, .ldv = LD, .O = o, .ldo = D, .scale = 0.17677669f, .bk = bks[t]};
            float *sc = malloc(nn_attention_scratch(&b) * sizeof *sc);
            nn_attention(&b, sc);
            double e = attn_check(&b);
            printf("K^T layout M=%d bk=%d%s: max |err| %.3g\n", b.M, b.bk, nn_portable_only ? " (portable)" : "", e);
            CHECK(e < 1e-5);
            free(sc);
        }
        nn_portable_only = 0;
        free(kt);
    }
    /* Large scores: the online rescaling must not overflow. */
    for (size_t i = 0; i < (size_t)ROWS * LD; i++)
        qkv[i] *= 6.0f;
    nn_attention(&a, scr);
    md = attn_check(&a);
    CHECK(md < 2e-3); /* scores ~300: float32 rounding alone gives ~3e-4 */
    printf("mqa: max |err| %.3g (large scores)\n", md);
    free(scr), free(qkv), free(o);
}

int main(void)
{
    pth_rng_seed(&rng, 1234);
    int prev = nn_blas_threads_single();
    test_linear_matmul();
    test_layernorm();
    test_gelu_exp_softmax();
    test_attention();
    nn_blas_threads_restore(prev);
    return pth_test_finish();
}
