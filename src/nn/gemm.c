/* Packed-weight GEMM (see gemm.h). */
#include "nn/gemm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static size_t panels(int N)
{
    return (size_t)(N + NN_NR - 1) / NN_NR;
}

size_t nn_packed_floats(int N, int K)
{
    return panels(N) * (size_t)K * NN_NR;
}

void nn_pack_into(nn_packed *pk, float *buf, const float *W, int ldw, int N, int K, int trans_w, float scale)
{
    for (size_t pn = 0; pn < panels(N); pn++) {
        float *dst = buf + pn * (size_t)K * NN_NR;
        for (int k = 0; k < K; k++)
            for (int jj = 0; jj < NN_NR; jj++) {
                const size_t j = pn * NN_NR + (size_t)jj;
                float v = 0.0f;
                if (j < (size_t)N)
                    v = scale * (trans_w ? W[j * (size_t)ldw + (size_t)k] : W[(size_t)k * (size_t)ldw + j]);
                dst[(size_t)k * NN_NR + (size_t)jj] = v;
            }
    }
    pk->N = N;
    pk->K = K;
    pk->p = buf;
    pk->pstride = (size_t)K * NN_NR;
    pk->owned = 0;
}

int nn_pack(nn_packed *pk, const float *W, int ldw, int N, int K, int trans_w)
{
    memset(pk, 0, sizeof *pk);
    const size_t bytes = nn_packed_floats(N, K) * sizeof(float);
    /* aligned_alloc wants a multiple of the alignment; K x 32 floats always is (128 bytes). */
    float *p = bytes ? aligned_alloc(64, bytes) : NULL;
    if (!p)
        return -1;
    nn_pack_into(pk, p, W, ldw, N, K, trans_w, 1.0f);
    pk->owned = 1;
    return 0;
}

void nn_packed_free(nn_packed *pk)
{
    if (!pk)
        return;
    if (pk->owned)
        free(pk->p);
    memset(pk, 0, sizeof *pk);
}

/* ---------------------------------------------------------------- portable kernel */

/* Four rows by one 32-column panel; GCC vectorises the jj loops (twice: AVX2 and baseline). */
#define NN_MR_PORTABLE 4

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GEMM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GEMM_CLONES
#endif

GEMM_CLONES static void gemm_portable(float *out, int ldo, const float *A, int lda, const nn_packed *W, int M,
                                      int flags)
{
    const int K = W->K;
    for (int i0 = 0; i0 < M; i0 += NN_MR_PORTABLE) {
        const int mr = M - i0 < NN_MR_PORTABLE ? M - i0 : NN_MR_PORTABLE;
        for (size_t pn = 0; pn < panels(W->N); pn++) {
            const float *B = W->p + pn * W->pstride;
            float acc[NN_MR_PORTABLE][NN_NR] = {{0}};
            for (int k = 0; k < K; k++) {
                const float *b = B + (size_t)k * NN_NR;
                for (int i = 0; i < mr; i++) {
                    const float a = A[(size_t)(i0 + i) * (size_t)lda + (size_t)k];
                    for (int jj = 0; jj < NN_NR; jj++)
                        acc[i][jj] += a * b[jj];
                }
            }
            const int j0 = (int)pn * NN_NR, nc = W->N - j0 < NN_NR ? W->N - j0 : NN_NR;
            for (int i = 0; i < mr; i++) {
                float *o = out + (size_t)(i0 + i) * (size_t)ldo + (size_t)j0;
                if (flags & NN_GEMM_GELU)
                    nn_gelu(acc[i], (size_t)nc);
                for (int jj = 0; jj < nc; jj++)
                    o[jj] = (flags & NN_GEMM_ACCUMULATE) ? o[jj] + acc[i][jj] : acc[i][jj];
            }
        }
    }
}

/* ---------------------------------------------------------------- AVX-512 kernel */

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define NN_GEMM_AVX512 1
#include "nn/vmath512.h"

/* Rows per micro-tile: 14 rows x 2 registers of 16 columns = 28 accumulators, plus the two B
 * registers and one broadcast, fill the 32 zmm registers.  Each k step is 28 FMAs against 2
 * loads of B and 14 broadcasts of A, which keeps the FMA units, not the loads, the limit. */
#define NN_MR 14

/* One MR x 32 tile: out[i, j0..j0+nc) (+)= sum_k A[i,k] B[k, 0..nc).  mr is a compile-time
 * constant at every call site (see tile_dispatch), so the arrays live in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void tile_avx512(int mr, int K, const float *A,
                                                                                 size_t lda, const float *B,
                                                                                 float *out, size_t ldo,
                                                                                 __mmask16 m0, __mmask16 m1,
                                                                                 int flags)
{
    __m512 c0[NN_MR], c1[NN_MR];
#pragma GCC unroll 14
    for (int i = 0; i < mr; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    for (int k = 0; k < K; k++) {
        const __m512 b0 = _mm512_loadu_ps(B + (size_t)k * NN_NR), b1 = _mm512_loadu_ps(B + (size_t)k * NN_NR + 16);
#pragma GCC unroll 14
        for (int i = 0; i < mr; i++) {
            const __m512 a = _mm512_set1_ps(A[(size_t)i * lda + (size_t)k]);
            c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
        }
    }
#pragma GCC unroll 14
    for (int i = 0; i < mr; i++) {
        float *o = out + (size_t)i * ldo;
        if (flags & NN_GEMM_GELU) {
            c0[i] = gelu512(c0[i]);
            c1[i] = gelu512(c1[i]);
        }
        if (flags & NN_GEMM_ACCUMULATE) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, o));
            c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, o + 16));
        }
        _mm512_mask_storeu_ps(o, m0, c0[i]);
        _mm512_mask_storeu_ps(o + 16, m1, c1[i]);
    }
}

#define TILE_CASE(R)                                                                                          \
    case R:                                                                                                   \
        tile_avx512(R, K, A, lda, B, out, ldo, m0, m1, flags);                                           \
        break;

__attribute__((target("avx512f"))) static void tile_dispatch(int mr, int K, const float *A, size_t lda,
                                                             const float *B, float *out, size_t ldo, int nc,
                                                             int flags)
{
    const __mmask16 m0 = (__mmask16)(nc >= 16 ? 0xFFFFu : (1u << nc) - 1u);
    const __mmask16 m1 = (__mmask16)(nc >= 32 ? 0xFFFFu : (nc <= 16 ? 0u : (1u << (nc - 16)) - 1u));
    switch (mr) {
        TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6) TILE_CASE(7)
        TILE_CASE(8) TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12) TILE_CASE(13) TILE_CASE(14)
    default:
        break;
    }
}

/* Rows outer, panels inner: a 14-row strip of A (14 x K floats) stays in L1 while the packed
 * panels stream from L2 (a whole 192 x 768 weight matrix is 576 KB). */
__attribute__((target("avx512f"))) static void gemm_avx512(float *out, int ldo, const float *A, int lda,
                                                           const nn_packed *W, int M, int flags)
{
    const int K = W->K;
    for (int i0 = 0; i0 < M; i0 += NN_MR) {
        const int mr = M - i0 < NN_MR ? M - i0 : NN_MR;
        const float *Ai = A + (size_t)i0 * (size_t)lda;
        float *oi = out + (size_t)i0 * (size_t)ldo;
        for (size_t pn = 0; pn < panels(W->N); pn++) {
            const int j0 = (int)pn * NN_NR, nc = W->N - j0 < NN_NR ? W->N - j0 : NN_NR;
            tile_dispatch(mr, K, Ai, (size_t)lda, W->p + pn * W->pstride, oi + j0, (size_t)ldo, nc,
                          flags);
        }
    }
}
#endif

/* ---------------------------------------------------------------- AVX2 + FMA kernel */

#ifdef NN_GEMM_AVX512
/* 16 ymm registers: 6 rows x 16 columns (half a panel) = 12 accumulators, 2 B registers and
 * a broadcast, the classic Haswell shape.  Each k step is 12 FMAs, 2 loads, 6 broadcasts. */
#define NN_MR2 6

__attribute__((target("avx2,fma"), always_inline)) static inline void tile_avx2(int mr, int K, const float *A,
                                                                                size_t lda, const float *B,
                                                                                float *out, size_t ldo, int nc,
                                                                                int flags)
{
    __m256 c0[NN_MR2], c1[NN_MR2];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        c0[i] = _mm256_setzero_ps();
        c1[i] = _mm256_setzero_ps();
    }
    for (int k = 0; k < K; k++) {
        const __m256 b0 = _mm256_loadu_ps(B + (size_t)k * NN_NR), b1 = _mm256_loadu_ps(B + (size_t)k * NN_NR + 8);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            const __m256 a = _mm256_broadcast_ss(A + (size_t)i * lda + (size_t)k);
            c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
        }
    }
    float tmp[NN_MR2][16];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++) {
        _mm256_storeu_ps(tmp[i], c0[i]);
        _mm256_storeu_ps(tmp[i] + 8, c1[i]);
    }
    for (int i = 0; i < mr; i++) {
        float *o = out + (size_t)i * ldo;
        if (flags & NN_GEMM_GELU)
            nn_gelu(tmp[i], (size_t)nc);
        for (int j = 0; j < nc; j++)
            o[j] = (flags & NN_GEMM_ACCUMULATE) ? o[j] + tmp[i][j] : tmp[i][j];
    }
}

#define TILE2_CASE(R)                                                                                         \
    case R:                                                                                                   \
        tile_avx2(R, K, A, lda, B, out, ldo, nc, flags);                                                      \
        break;

__attribute__((target("avx2,fma"))) static void tile2_dispatch(int mr, int K, const float *A, size_t lda,
                                                               const float *B, float *out, size_t ldo, int nc,
                                                               int flags)
{
    switch (mr) {
        TILE2_CASE(1) TILE2_CASE(2) TILE2_CASE(3) TILE2_CASE(4) TILE2_CASE(5) TILE2_CASE(6)
    default:
        break;
    }
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(float *out, int ldo, const float *A, int lda,
                                                          const nn_packed *W, int M, int flags)
{
    const int K = W->K;
    for (int i0 = 0; i0 < M; i0 += NN_MR2) {
        const int mr = M - i0 < NN_MR2 ? M - i0 : NN_MR2;
        const float *Ai = A + (size_t)i0 * (size_t)lda;
        float *oi = out + (size_t)i0 * (size_t)ldo;
        for (size_t pn = 0; pn < panels(W->N); pn++)
            for (int half = 0; half < 2; half++) {
                const int j0 = (int)pn * NN_NR + 16 * half, nc = W->N - j0 < 16 ? W->N - j0 : 16;
                if (nc > 0)
                    tile2_dispatch(mr, K, Ai, (size_t)lda, W->p + pn * W->pstride + 16 * half, oi + j0,
                                   (size_t)ldo, nc, flags);
            }
    }
}
#endif

int nn_gemm_isa = 0;

void nn_gemm_packed(float *out, int ldo, const float *A, int lda, const nn_packed *W, int M, int flags)
{
    if (M <= 0 || W->N <= 0)
        return;
#ifdef NN_GEMM_AVX512
    if (!nn_portable_only && nn_gemm_isa < 1 && __builtin_cpu_supports("avx512f")) {
        gemm_avx512(out, ldo, A, lda, W, M, flags);
        return;
    }
    if (!nn_portable_only && nn_gemm_isa < 2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        gemm_avx2(out, ldo, A, lda, W, M, flags);
        return;
    }
#endif
    gemm_portable(out, ldo, A, lda, W, M, flags);
}
