/* Packed-weight GEMM (src/nn/gemm.c) against a naive double-precision product: every row tail
 * of the 14-row micro-tile, column tails of the 32-column panel, both weight layouts, strided
 * operands, accumulate, the fused GELU, and the portable kernel as well as the AVX-512 one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/gemm.h"
#include "nn/nn.h"
#include "pathos/rng.h"

static pth_rng rng;

static float *rand_mat(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)pth_rng_normal(&rng);
    return p;
}

static double gelu_ref(double x)
{
    return 0.5 * x * erfc(-x / sqrt(2.0));
}

/* Max |out - (acc ? out0 : 0) - f(A op(W))| relative to sqrt(K) (the size of a sum of K unit
 * products), for one shape; f is GELU with NN_GEMM_GELU, else the identity. */
static double check_shape(int M, int K, int N, int trans_w, int flags)
{
    const int lda = K + 3, ldo = N + 5, ldw = (trans_w ? K : N) + 2;
    float *A = rand_mat((size_t)M * (size_t)lda), *W = rand_mat((size_t)(trans_w ? N : K) * (size_t)ldw);
    float *out = rand_mat((size_t)M * (size_t)ldo);
    float *out0 = malloc((size_t)M * (size_t)ldo * sizeof *out0);
    memcpy(out0, out, (size_t)M * (size_t)ldo * sizeof *out0);
    nn_packed pk;
    double md = INFINITY;
    if (nn_pack(&pk, W, ldw, N, K, trans_w) == 0) {
        nn_gemm_packed(out, ldo, A, lda, &pk, M, flags);
        md = 0.0;
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double s = 0.0;
                for (int k = 0; k < K; k++) {
                    const float w = trans_w ? W[(size_t)j * (size_t)ldw + (size_t)k] : W[(size_t)k * (size_t)ldw + (size_t)j];
                    s += (double)A[(size_t)i * (size_t)lda + (size_t)k] * (double)w;
                }
                if (flags & NN_GEMM_GELU)
                    s = gelu_ref(s);
                if (flags & NN_GEMM_ACCUMULATE)
                    s += (double)out0[(size_t)i * (size_t)ldo + (size_t)j];
                md = fmax(md, fabs(s - out[(size_t)i * (size_t)ldo + (size_t)j]) / sqrt((double)K));
            }
            /* columns past N in the padding of the leading dimension stay untouched */
            for (int j = N; j < ldo; j++)
                if (out[(size_t)i * (size_t)ldo + (size_t)j] != out0[(size_t)i * (size_t)ldo + (size_t)j])
                    md = INFINITY;
        }
        nn_packed_free(&pk);
    }
    free(A), free(W), free(out), free(out0);
    return md;
}

static void run_all(void)
{
    static const int Ms[] = {1, 2, 7, 13, 14, 15, 28, 29, 100};
    static const int KNs[][2] = {{1, 1}, {5, 31}, {16, 32}, {33, 33}, {64, 64}, {192, 96}, {70, 45}};
    double worst = 0.0;
    for (size_t a = 0; a < sizeof Ms / sizeof Ms[0]; a++)
        for (size_t b = 0; b < sizeof KNs / sizeof KNs[0]; b++)
            for (int t = 0; t < 2; t++)
                worst = fmax(worst, check_shape(Ms[a], KNs[b][0], KNs[b][1], t, (int)((a + b + (size_t)t) % 4)));
    /* float32 accumulation of K unit-variance products: error ~ K * 2^-24 * sqrt(K)/sqrt(K) */
    CHECK(worst < 1e-5);
}

int main(void)
{
    pth_rng_seed(&rng, 42);
    run_all(); /* the widest kernel the CPU has */
    nn_gemm_isa = 1;
    run_all(); /* AVX2 + FMA where the CPU has it */
    nn_gemm_isa = 0;
    nn_portable_only = 1;
    run_all(); /* the portable kernel */
    nn_portable_only = 0;
    /* The packed layout: panel 1 of a [K=2, N=40] matrix holds columns 32..39 then zeros. */
    float W[2 * 40];
    for (int i = 0; i < 80; i++)
        W[i] = (float)i; /* W[k][j] = 40k + j */
    nn_packed pk;
    CHECK(nn_pack(&pk, W, 40, 40, 2, 0) == 0);
    CHECK(pk.p[0] == 0.0f && pk.p[1] == 1.0f && pk.p[32] == 40.0f);           /* panel 0, k = 0 then 1 */
    CHECK(pk.p[64] == 32.0f && pk.p[64 + 7] == 39.0f && pk.p[64 + 8] == 0.0f); /* panel 1 */
    CHECK(pk.p[96] == 72.0f && pk.p[127] == 0.0f);
    nn_packed_free(&pk);
    return pth_test_finish();
}
