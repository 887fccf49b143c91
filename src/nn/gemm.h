/* GEMM against a weight matrix packed once, for the small-M products of transformer inference.
 *
 * Why not cblas_sgemm for these: a TabPFN forward pass multiplies a few hundred tokens at a
 * time by fixed weights ([192 x 576], [192 x 768], [768 x 192]).  OpenBLAS re-packs the weight
 * operand on every call (a tenth of the forward's time) and, in the 0.3.21 that Debian ships,
 * runs its AVX2 kernels on AVX-512 CPUs it does not know (Zen 4 and 5).  Here the weights are packed
 * at model load into column panels of NN_NR = 32, and an AVX-512 micro-kernel reads the
 * activations in place: row-major, any leading dimension, no copy.  Without AVX-512 an AVX2 +
 * FMA kernel, and without those a portable C kernel, runs on the same packed layout.
 *
 * Layout: panel p holds output columns 32p .. 32p+31 as K rows of 32 floats (k-major), zero
 * past N; nn_pack's buffer is 64-byte aligned (the kernels accept any alignment). */
#ifndef PATHOS_NN_GEMM_H
#define PATHOS_NN_GEMM_H

#include <stddef.h>

#define NN_NR 32

typedef struct {
    int N, K;       /* the product is A[M,K] -> out[M,N] */
    float *p;       /* ceil(N/32) panels of K x 32 floats */
    size_t pstride; /* floats from one panel to the next: K * 32, or more in a view of rows */
    int owned;      /* p was allocated by nn_pack */
} nn_packed;

/* Floats that nn_pack_into needs for an N x K matrix. */
size_t nn_packed_floats(int N, int K);

/* Packs W for out = A W^T (W given as nn.Linear's [N, K], row stride ldw) when trans_w = 1,
 * or for out = A W (W given as [K, N], row stride ldw) when trans_w = 0.  Returns 0, or -1
 * when out of memory (pk is then empty). */
int nn_pack(nn_packed *pk, const float *W, int ldw, int N, int K, int trans_w);
/* The same into caller memory (nn_packed_floats(N, K) floats, any alignment), every element
 * multiplied by scale.  No allocation; pk does not own buf. */
void nn_pack_into(nn_packed *pk, float *buf, const float *W, int ldw, int N, int K, int trans_w, float scale);
void nn_packed_free(nn_packed *pk);

/* Columns j0 .. j0+n-1 of a packed matrix, as a packed matrix of its own (no copy); j0 must be
 * a multiple of NN_NR.  E.g. the Q part of a fused QKV projection. */
static inline nn_packed nn_packed_cols(const nn_packed *pk, int j0, int n)
{
    nn_packed v = {n, pk->K, pk->p + (size_t)(j0 / NN_NR) * pk->pstride, pk->pstride, 0};
    return v;
}

/* Rows k0 .. k0+n-1 of the inner dimension (the product then uses A's columns k0..k0+n-1
 * only: pass A + k0). */
static inline nn_packed nn_packed_rows(const nn_packed *pk, int k0, int n)
{
    nn_packed v = {pk->N, n, pk->p + (size_t)k0 * NN_NR, pk->pstride, 0};
    return v;
}

enum {
    NN_GEMM_ACCUMULATE = 1, /* out += product (else out = product) */
    NN_GEMM_GELU = 2        /* the product goes through GELU (nn_gelu) first */
};

/* out[M,N] (ld ldo) = A[M,K] (ld lda) times the packed matrix, modified by flags (NN_GEMM_*).
 * Single-threaded: callers split M over their threads. */
void nn_gemm_packed(float *out, int ldo, const float *A, int lda, const nn_packed *W, int M, int flags);

/* Tests and benchmarks only: 0 = the widest kernel the CPU has (AVX-512, AVX2 + FMA, C);
 * 1 = at most AVX2; 2 = the portable C kernel.  nn_portable_only (nn.h) also forces C. */
extern int nn_gemm_isa;

#endif
