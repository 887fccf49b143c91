/* Numeric core for transformer inference on a CPU: float32, row-major, every matrix given
 * as (pointer, leading dimension) so strided views (a column of a token grid, one head of a
 * fused QKV buffer) need no copies.  Products with fixed weights go through the packed-weight
 * GEMM of gemm.h; nn_linear / nn_matmul (any operands) call OpenBLAS's cblas_sgemm.  The
 * elementwise kernels are plain C compiled in several ISA versions and picked at load time;
 * with AVX-512, attention runs on hand-written kernels (few keys, few queries) or on the
 * packed GEMM (K and V packed once per call).
 *
 * Conventions: a linear map uses the nn.Linear layout, W is (out, in), y = x W^T + b.
 * Sizes are int because that is what CBLAS takes; callers check their bounds. */
#ifndef PATHOS_NN_H
#define PATHOS_NN_H

#include <stddef.h>

/* out[M,N] = in[M,K] W^T (+ bias[N] when non-NULL), W is [N,K] (ld K). */
void nn_linear(float *out, int ldo, const float *in, int ldi, const float *W, const float *bias, int M, int K,
               int N);
/* out[M,N] = beta*out + alpha * A[M,K] B[K,N]. */
void nn_matmul(float *out, int ldo, const float *A, int lda, const float *B, int ldb, int M, int K, int N,
               float alpha, float beta);

/* x[M,E] (ld ldx) = LayerNorm(x + add) row by row: no affine, eps 1e-5, biased variance.
 * add may be NULL (plain LayerNorm). */
void nn_add_layernorm(float *x, int ldx, const float *add, int lda, int M, int E, float eps);

/* y = x * Phi(x) (exact-erf GELU), in place over n floats; |error| <= ~1 ulp of the result. */
void nn_gelu(float *x, size_t n);
/* y = exp(x) for x <= 88; relative error <= ~1e-7.  In place. */
void nn_exp(float *x, size_t n);
/* Row-wise softmax of x[M,N] (ld ldx), in place. */
void nn_softmax_rows(float *x, int ldx, int M, int N);

/* One attention head: O[M,D] = softmax(scale * Q K^T) V with Q[M,D], K[N,D], V[N,D] (each with
 * its own leading dimension).  Queries are processed in blocks of bq rows and keys in blocks
 * of bk rows with an online (running max / running sum) softmax, so the score matrix held at
 * any time is bq x bk, never M x N.  bq/bk = 0 pick the defaults.  Multi-query attention is
 * the same call with several query heads stacked as extra rows of Q.  With K given
 * transposed (k_t) and few queries (M <= 48, e.g. one or a few test rows' 6 heads against one
 * K/V head), a register-blocked kernel runs without BLAS packing. */
typedef struct {
    int M, N, D;
    const float *Q;
    int ldq;
    const float *K; /* [N, D] rows, or with k_t set K^T: [D, N] (element (j, d) at d*ldk + j) */
    int ldk;
    int k_t;
    const float *V;
    int ldv;
    float *O;
    int ldo;
    float scale;
    int bq, bk;
} nn_attn;

/* Floats of scratch that nn_attention needs for these sizes. */
size_t nn_attention_scratch(const nn_attn *a);
void nn_attention(const nn_attn *a, float *scratch);

/* Tests only: 1 = never take the AVX-512 kernels (exercise the portable fallbacks). */
extern int nn_portable_only;

/* Runs BLAS single-threaded (we parallelise outer loops ourselves) and returns the previous
 * thread count for nn_blas_threads_restore. */
int nn_blas_threads_single(void);
void nn_blas_threads_restore(int prev);

#endif
