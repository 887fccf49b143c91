/* Numeric kernels for float32 transformer inference (see nn.h). */
#include "nn/nn.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn/gemm.h"

/* The library is built for the baseline x86-64 ISA.  The elementwise kernels (exp inside the
 * softmax, GELU) run billions of times per forward pass, so GCC compiles them three times and
 * the loader picks the widest version the CPU supports (ifunc).  No FMA contraction happens in
 * ISO C mode and no reassociation is allowed, so every version computes bit-identical results.
 * (The one hand-vectorised kernel, attention over few keys, uses fused multiply-adds and so
 * differs from its portable fallback in the last bits.) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NN_CLONES
#endif

#define NN_BQ 128
#define NN_BK 1024

void nn_linear(float *out, int ldo, const float *in, int ldi, const float *W, const float *bias, int M, int K,
               int N)
{
    if (M <= 0 || N <= 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, in, ldi, W, K, 0.0f, out, ldo);
    if (bias)
        for (int i = 0; i < M; i++) {
            float *o = out + (size_t)i * (size_t)ldo;
            for (int j = 0; j < N; j++)
                o[j] += bias[j];
        }
}

void nn_matmul(float *out, int ldo, const float *A, int lda, const float *B, int ldb, int M, int K, int N,
               float alpha, float beta)
{
    if (M <= 0 || N <= 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, out, ldo);
}

/* One row: r = LN(r + a).  Statistics in double (the reference is a float64 evaluation);
 * eight partial sums keep the reductions vectorisable. */
NN_CLONES static void add_layernorm_row(float *r, const float *a, int E, float eps)
{
    if (a)
        for (int e = 0; e < E; e++)
            r[e] += a[e];
    double acc[8] = {0};
    int e = 0;
    for (; e + 8 <= E; e += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += (double)r[e + j];
    double s = 0.0;
    for (; e < E; e++)
        s += (double)r[e];
    for (int j = 0; j < 8; j++)
        s += acc[j];
    const double mean = s / E;
    double acc2[8] = {0};
    for (e = 0; e + 8 <= E; e += 8)
        for (int j = 0; j < 8; j++) {
            double d = (double)r[e + j] - mean;
            acc2[j] += d * d;
        }
    double ss = 0.0;
    for (; e < E; e++) {
        double d = (double)r[e] - mean;
        ss += d * d;
    }
    for (int j = 0; j < 8; j++)
        ss += acc2[j];
    const double inv = 1.0 / sqrt(ss / E + (double)eps);
    for (e = 0; e < E; e++)
        r[e] = (float)(((double)r[e] - mean) * inv);
}

void nn_add_layernorm(float *x, int ldx, const float *add, int lda, int M, int E, float eps)
{
    for (int i = 0; i < M; i++)
        add_layernorm_row(x + (size_t)i * (size_t)ldx, add ? add + (size_t)i * (size_t)lda : NULL, E, eps);
}

/* exp(v) by Cody-Waite range reduction (v = k ln2 + r, |r| <= ln2/2) and the Cephes degree-6
 * polynomial; 2^k is built in the exponent bits.  k is rounded with the 1.5*2^23 trick, so
 * the loop has no branches and no calls and vectorises. */
static inline float exp_approx(float v)
{
    v = v < -87.3f ? -87.3f : (v > 88.3f ? 88.3f : v);
    float t = v * 1.44269504088896341f + 12582912.0f;
    float k = t - 12582912.0f;
    float r = v - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    int32_t bits;
    memcpy(&bits, &t, sizeof bits);
    int32_t e = (int32_t)((uint32_t)(bits - 0x4B400000 + 127) << 23);
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

NN_CLONES void nn_exp(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = exp_approx(x[i]);
}

/* x = exp(x - shift) in place; returns the sum.  Sixteen partial sums keep the reduction
 * vectorisable without -ffast-math. */
NN_CLONES static float exp_shift_sum(float *x, int n, float shift)
{
    for (int i = 0; i < n; i++)
        x[i] = exp_approx(x[i] - shift);
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            acc[j] += x[i + j];
    float s = 0.0f;
    for (; i < n; i++)
        s += x[i];
    for (int j = 0; j < 16; j++)
        s += acc[j];
    return s;
}

NN_CLONES static float row_max(const float *x, int n)
{
    float m[16];
    for (int j = 0; j < 16; j++)
        m[j] = -INFINITY;
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    float r = -INFINITY;
    for (; i < n; i++)
        r = x[i] > r ? x[i] : r;
    for (int j = 0; j < 16; j++)
        r = m[j] > r ? m[j] : r;
    return r;
}

NN_CLONES static void scale_row(float *x, int n, float s)
{
    for (int i = 0; i < n; i++)
        x[i] *= s;
}

/* GELU(v) = v * Phi(v), Phi(v) = erfc(-v/sqrt2)/2.  erfc(a), a >= 0, is the Chebyshev fit
 * t*exp(-a^2 + P(t)), t = 1/(1 + a/2) (Numerical Recipes "erfcc", fractional error < 1.2e-7).
 * Going through erfc keeps the result accurate relative to |GELU| on both tails, unlike
 * 1 + erf(), which cancels for negative v. */
NN_CLONES void nn_gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float a = fabsf(v) * 0.70710678118654752f;
        float t = 1.0f / (1.0f + 0.5f * a);
        float p = 0.17087277f;
        p = p * t - 0.82215223f;
        p = p * t + 1.48851587f;
        p = p * t - 1.13520398f;
        p = p * t + 0.27886807f;
        p = p * t - 0.18628806f;
        p = p * t + 0.09678418f;
        p = p * t + 0.37409196f;
        p = p * t + 1.00002368f;
        p = p * t - 1.26551223f;
        float ec = t * exp_approx(-a * a + p);
        float phi = v > 0.0f ? 1.0f - 0.5f * ec : 0.5f * ec;
        x[i] = v * phi;
    }
}

void nn_softmax_rows(float *x, int ldx, int M, int N)
{
    for (int i = 0; i < M; i++) {
        float *r = x + (size_t)i * (size_t)ldx;
        float s = exp_shift_sum(r, N, row_max(r, N));
        scale_row(r, N, 1.0f / s);
    }
}

/* Element (key j, dim d) of K in either layout. */
static inline float k_at(const nn_attn *a, int j, int d)
{
    return a->k_t ? a->K[(size_t)d * (size_t)a->ldk + (size_t)j] : a->K[(size_t)j * (size_t)a->ldk + (size_t)d];
}

/* Attention over at most NN_SMALL keys (TabPFN's attention between the features of a row):
 * two GEMM calls per head would cost more in BLAS call and packing overhead than in
 * arithmetic, so scores and outputs are plain loops vectorised over keys and over D. */
#define NN_SMALL 64
NN_CLONES static void attention_small(const nn_attn *a, float *scratch)
{
    const int M = a->M, N = a->N, D = a->D;
    float *kt = scratch, *s = kt + (size_t)D * NN_SMALL; /* K^T [D, N], scores [N] */
    for (int j = 0; j < N; j++)
        for (int d = 0; d < D; d++)
            kt[d * NN_SMALL + j] = k_at(a, j, d);
    for (int i = 0; i < M; i++) {
        const float *q = a->Q + (size_t)i * (size_t)a->ldq;
        for (int j = 0; j < N; j++)
            s[j] = 0.0f;
        for (int d = 0; d < D; d++) {
            const float qd = q[d];
            const float *kr = kt + d * NN_SMALL;
            for (int j = 0; j < N; j++)
                s[j] += qd * kr[j];
        }
        float mx = -INFINITY;
        for (int j = 0; j < N; j++) {
            s[j] *= a->scale;
            mx = s[j] > mx ? s[j] : mx;
        }
        float sum = 0.0f;
        for (int j = 0; j < N; j++) {
            s[j] = exp_approx(s[j] - mx);
            sum += s[j];
        }
        const float inv = 1.0f / sum;
        float *o = a->O + (size_t)i * (size_t)a->ldo;
        for (int d = 0; d < D; d++)
            o[d] = 0.0f;
        for (int j = 0; j < N; j++) {
            const float p = s[j] * inv;
            const float *v = a->V + (size_t)j * (size_t)a->ldv;
            for (int d = 0; d < D; d++)
                o[d] += p * v[d];
        }
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define NN_AVX512_SMALL 1
#include "nn/vmath512.h"


/* attention_small for AVX-512: scores of a query in NB 16-lane registers (NB = ceil(N/16),
 * a compile-time constant per instantiation), four queries at a time so that every K^T and V
 * vector loaded feeds four fused multiply-adds; only the probabilities go through memory. */
#define NN_QG 4

__attribute__((target("avx512f"), always_inline)) static inline void
attention_small_block(const nn_attn *a, const float *kt, float *pr, int i0, int G, int NB)
{
    const int N = a->N, D = a->D, nv = D / 16;
    const __m512 scale = _mm512_set1_ps(a->scale), ninf = _mm512_set1_ps(-INFINITY);
    __m512 s[NN_QG][4];
    for (int g = 0; g < NN_QG; g++)
        for (int b = 0; b < NB; b++)
            s[g][b] = _mm512_setzero_ps();
    const float *q[NN_QG];
    for (int g = 0; g < NN_QG; g++)
        q[g] = a->Q + (size_t)(i0 + (g < G ? g : 0)) * (size_t)a->ldq;
    for (int d = 0; d < D; d++) {
        const float *kr = kt + d * NN_SMALL;
        __m512 k[4];
        for (int b = 0; b < NB; b++)
            k[b] = _mm512_loadu_ps(kr + 16 * b);
        for (int g = 0; g < NN_QG; g++) {
            const __m512 qd = _mm512_set1_ps(q[g][d]);
            for (int b = 0; b < NB; b++)
                s[g][b] = _mm512_fmadd_ps(qd, k[b], s[g][b]);
        }
    }
    float inv[NN_QG];
    for (int g = 0; g < NN_QG; g++) {
        __m512 mx = ninf;
        for (int b = 0; b < NB; b++) {
            const int n = N - 16 * b;
            const __mmask16 valid = (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
            s[g][b] = _mm512_mask_mov_ps(ninf, valid, _mm512_mul_ps(s[g][b], scale));
            mx = _mm512_max_ps(mx, s[g][b]);
        }
        const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        __m512 sum = _mm512_setzero_ps();
        for (int b = 0; b < NB; b++) {
            const __m512 e = exp512(_mm512_sub_ps(s[g][b], m)); /* exp(-inf) = 0 past N */
            sum = _mm512_add_ps(sum, e);
            _mm512_storeu_ps(pr + g * NN_SMALL + 16 * b, e);
        }
        inv[g] = 1.0f / _mm512_reduce_add_ps(sum);
    }
    __m512 o[NN_QG][4];
    for (int g = 0; g < NN_QG; g++)
        for (int b = 0; b < nv; b++)
            o[g][b] = _mm512_setzero_ps();
    for (int j = 0; j < N; j++) {
        const float *v = a->V + (size_t)j * (size_t)a->ldv;
        __m512 vj[4];
        for (int b = 0; b < nv; b++)
            vj[b] = _mm512_loadu_ps(v + 16 * b);
        for (int g = 0; g < NN_QG; g++) {
            const __m512 pj = _mm512_set1_ps(pr[g * NN_SMALL + j]);
            for (int b = 0; b < nv; b++)
                o[g][b] = _mm512_fmadd_ps(pj, vj[b], o[g][b]);
        }
    }
    for (int g = 0; g < G; g++) {
        float *out = a->O + (size_t)(i0 + g) * (size_t)a->ldo;
        for (int b = 0; b < nv; b++)
            _mm512_storeu_ps(out + 16 * b, _mm512_mul_ps(o[g][b], _mm512_set1_ps(inv[g])));
    }
}

__attribute__((target("avx512f"))) static void attention_small_avx512(const nn_attn *a, float *scratch)
{
    const int M = a->M, N = a->N, D = a->D, NB = (N + 15) / 16;
    float *kt = scratch, *pr = kt + (size_t)D * NN_SMALL; /* K^T [D, 64] zero-padded, probs [QG, 64] */
    for (int d = 0; d < D; d++)
        for (int j = N; j < 16 * NB; j++)
            kt[d * NN_SMALL + j] = 0.0f;
    for (int j = 0; j < N; j++)
        for (int d = 0; d < D; d++)
            kt[d * NN_SMALL + j] = k_at(a, j, d);
    for (int i0 = 0; i0 < M; i0 += NN_QG) {
        const int G = M - i0 < NN_QG ? M - i0 : NN_QG;
        switch (NB) {
        case 1: attention_small_block(a, kt, pr, i0, G, 1); break;
        case 2: attention_small_block(a, kt, pr, i0, G, 2); break;
        case 3: attention_small_block(a, kt, pr, i0, G, 3); break;
        default: attention_small_block(a, kt, pr, i0, G, 4); break;
        }
    }
}

__attribute__((target("avx512f"))) static float row_max_avx512(const float *x, int n)
{
    __m512 m = _mm512_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    if (i < n) {
        const __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        m = _mm512_mask_max_ps(m, k, m, _mm512_maskz_loadu_ps(k, x + i));
    }
    return _mm512_reduce_max_ps(m);
}

__attribute__((target("avx512f"))) static float exp_shift_sum_avx512(float *x, int n, float shift)
{
    const __m512 sh = _mm512_set1_ps(shift);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 e0 = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh));
        __m512 e1 = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), sh));
        _mm512_storeu_ps(x + i, e0);
        _mm512_storeu_ps(x + i + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; i < n; i += 16) {
        const __mmask16 k = (__mmask16)(n - i >= 16 ? 0xFFFFu : (1u << (n - i)) - 1u);
        __m512 e = _mm512_maskz_mov_ps(k, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), sh)));
        _mm512_mask_storeu_ps(x + i, k, e);
        s0 = _mm512_add_ps(s0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}


/* Few queries against many keys given as K^T [D, N] (the test rows' multi-query attention):
 * queries in groups of 8 held as broadcasts, 16 keys per register, so each K^T and V element
 * is loaded once per group; scores of the group go to scratch [8, N] for the softmax. */
__attribute__((target("avx512f"))) static void attention_fewq_avx512(const nn_attn *a, float *scratch)
{
    const int M = a->M, N = a->N, D = a->D, nv = D / 16;
    float *q = scratch, *S = q + 8 * 64; /* q: group queries [8, D <= 64], zero-padded */
    float inv[8];
    for (int g0 = 0; g0 < M; g0 += 8) {
        const int G = M - g0 < 8 ? M - g0 : 8;
        for (int g = 0; g < 8; g++)
            for (int d = 0; d < D; d++)
                q[g * 64 + d] = g < G ? a->Q[(size_t)(g0 + g) * (size_t)a->ldq + (size_t)d] * a->scale : 0.0f;
        for (int j0 = 0; j0 < N; j0 += 16) {
            const __mmask16 k = (__mmask16)(N - j0 >= 16 ? 0xFFFFu : (1u << (N - j0)) - 1u);
            __m512 acc[8];
            for (int g = 0; g < 8; g++)
                acc[g] = _mm512_setzero_ps();
            for (int d = 0; d < D; d++) {
                const __m512 kd = _mm512_maskz_loadu_ps(k, a->K + (size_t)d * (size_t)a->ldk + (size_t)j0);
                for (int g = 0; g < 8; g++)
                    acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[g * 64 + d]), kd, acc[g]);
            }
            for (int g = 0; g < G; g++)
                _mm512_mask_storeu_ps(S + (size_t)g * (size_t)N + (size_t)j0, k, acc[g]);
        }
        for (int g = 0; g < G; g++) {
            float *r = S + (size_t)g * (size_t)N;
            inv[g] = 1.0f / exp_shift_sum_avx512(r, N, row_max_avx512(r, N));
        }
        for (int b = 0; b < nv; b++) {
            __m512 o[8];
            for (int g = 0; g < 8; g++)
                o[g] = _mm512_setzero_ps();
            for (int j = 0; j < N; j++) {
                const __m512 vj = _mm512_loadu_ps(a->V + (size_t)j * (size_t)a->ldv + (size_t)(16 * b));
                for (int g = 0; g < G; g++)
                    o[g] = _mm512_fmadd_ps(_mm512_set1_ps(S[(size_t)g * (size_t)N + (size_t)j]), vj, o[g]);
            }
            for (int g = 0; g < G; g++)
                _mm512_storeu_ps(a->O + (size_t)(g0 + g) * (size_t)a->ldo + (size_t)(16 * b),
                                 _mm512_mul_ps(o[g], _mm512_set1_ps(inv[g])));
        }
    }
}

int nn_portable_only = 0;

#define NN_FEWQ 48 /* queries up to which the few-query kernel is used */

static int use_avx512_fewq(const nn_attn *a)
{
    return !nn_portable_only && a->k_t && a->M <= NN_FEWQ && a->D % 16 == 0 && a->D <= 64 &&
           a->bq <= 0 && a->bk <= 0 && __builtin_cpu_supports("avx512f");
}

/* Key blocks must start on a packed panel (32 keys). */
static int use_packed(const nn_attn *a)
{
    return !nn_portable_only && (a->bk <= 0 || a->bk % NN_NR == 0) && __builtin_cpu_supports("avx512f");
}

static int use_avx512_small(const nn_attn *a)
{
    return !nn_portable_only && a->D % 16 == 0 && a->D <= 64 && __builtin_cpu_supports("avx512f");
}
#else
int nn_portable_only = 0;
#endif

static int attn_small(const nn_attn *a)
{
    return a->N <= NN_SMALL && a->bq <= 0 && a->bk <= 0;
}

static int attn_bq(const nn_attn *a)
{
    int bq = a->bq > 0 ? a->bq : NN_BQ;
    return bq < a->M ? bq : a->M;
}

static int attn_bk(const nn_attn *a)
{
    int bk = a->bk > 0 ? a->bk : NN_BK;
    return bk < a->N ? bk : a->N;
}

static size_t nn_attention_scratch_big(const nn_attn *a)
{
    size_t bq = (size_t)attn_bq(a), bk = (size_t)attn_bk(a);
    return bq * bk + bq * (size_t)a->D + 2 * bq + 16;
}

/* Softmax pieces of the large attention path: AVX-512 where available. */
static float sm_row_max(const float *x, int n)
{
#ifdef NN_AVX512_SMALL
    if (!nn_portable_only && __builtin_cpu_supports("avx512f"))
        return row_max_avx512(x, n);
#endif
    return row_max(x, n);
}

static float sm_exp_shift_sum(float *x, int n, float shift)
{
#ifdef NN_AVX512_SMALL
    if (!nn_portable_only && __builtin_cpu_supports("avx512f"))
        return exp_shift_sum_avx512(x, n, shift);
#endif
    return exp_shift_sum(x, n, shift);
}

/* Floats of scratch for K and V packed whole (the packed products of nn_attention). */
static size_t packed_kv_floats(const nn_attn *a)
{
    return nn_packed_floats(a->N, a->D) + nn_packed_floats(a->D, a->N);
}

size_t nn_attention_scratch(const nn_attn *a)
{
    if (attn_small(a))
        return (size_t)a->D * NN_SMALL + 4 * NN_SMALL + 16; /* K^T, probabilities of 4 queries */
    /* Room for every kernel the CPU may pick: the BLAS path, the few-query kernel (callers may
     * run fewer queries than M) and the packed path. */
    size_t n = nn_attention_scratch_big(a) + packed_kv_floats(a);
    const size_t fewq = 8 * 64 + 8 * (size_t)a->N + 16;
    return n > fewq ? n : fewq;
}


/* The two products of the blocked attention below: through OpenBLAS, or (with AVX-512) through
 * the packed-weight GEMM with K (times the scale) and V packed once per call, so no query block
 * re-packs anything; at D = 32 OpenBLAS spends about as long packing as multiplying. */
typedef struct {
    int packed;
    nn_packed K, V; /* packed: K as the "weight" [N keys, D], V as [D, N] */
} attn_products;

/* S[m, n] = scale * Q_block K[k0 .. k0+n)^T */
static void attn_scores(const nn_attn *a, const attn_products *p, const float *Qb, int m, int k0, int n, float *S,
                        int lds)
{
    if (p->packed) {
        const nn_packed Kb = nn_packed_cols(&p->K, k0, n);
        nn_gemm_packed(S, lds, Qb, a->ldq, &Kb, m, 0);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, a->k_t ? CblasNoTrans : CblasTrans, m, n, a->D, a->scale, Qb, a->ldq,
                a->K + (a->k_t ? (size_t)k0 : (size_t)k0 * (size_t)a->ldk), a->ldk, 0.0f, S, lds);
}

/* acc[m, D] (+)= S[m, n] V[k0 .. k0+n) */
static void attn_accumulate(const nn_attn *a, const attn_products *p, const float *S, int lds, int m, int k0, int n,
                            float *acc, int add)
{
    if (p->packed) {
        const nn_packed Vb = nn_packed_rows(&p->V, k0, n);
        nn_gemm_packed(acc, a->D, S, lds, &Vb, m, add ? NN_GEMM_ACCUMULATE : 0);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, a->D, n, 1.0f, S, lds,
                a->V + (size_t)k0 * (size_t)a->ldv, a->ldv, add ? 1.0f : 0.0f, acc, a->D);
}

void nn_attention(const nn_attn *a, float *scratch)
{
    const int M = a->M, N = a->N, D = a->D;
    if (M <= 0)
        return;
    if (attn_small(a)) {
#ifdef NN_AVX512_SMALL
        if (use_avx512_small(a)) {
            attention_small_avx512(a, scratch);
            return;
        }
#endif
        attention_small(a, scratch);
        return;
    }
    attn_products p = {0};
#ifdef NN_AVX512_SMALL
    if (use_avx512_fewq(a)) {
        attention_fewq_avx512(a, scratch);
        return;
    }
    if (use_packed(a)) {
        float *kbuf = scratch, *vbuf = kbuf + nn_packed_floats(N, D);
        nn_pack_into(&p.K, kbuf, a->K, a->ldk, N, D, !a->k_t, a->scale);
        nn_pack_into(&p.V, vbuf, a->V, a->ldv, D, N, 0, 1.0f);
        p.packed = 1;
        scratch = vbuf + nn_packed_floats(D, N);
    }
#endif
    /* Queries in blocks of bq, keys in blocks of bk with an online softmax: a running maximum
     * and sum per row, and what was accumulated rescaled whenever the maximum grows. */
    const int bq = attn_bq(a), bk = attn_bk(a);
    float *S = scratch;                       /* [bq, bk] scores, then probabilities */
    float *acc = S + (size_t)bq * (size_t)bk; /* [bq, D] running output */
    float *mrow = acc + (size_t)bq * (size_t)D;
    float *lrow = mrow + bq;
    for (int q0 = 0; q0 < M; q0 += bq) {
        const int m = M - q0 < bq ? M - q0 : bq;
        const float *Qb = a->Q + (size_t)q0 * (size_t)a->ldq;
        for (int k0 = 0; k0 < N; k0 += bk) {
            const int n = N - k0 < bk ? N - k0 : bk;
            attn_scores(a, &p, Qb, m, k0, n, S, bk);
            for (int i = 0; i < m; i++) {
                float *r = S + (size_t)i * (size_t)bk;
                const float mx = sm_row_max(r, n);
                const float mnew = k0 == 0 || mx > mrow[i] ? mx : mrow[i];
                const float corr = k0 == 0 ? 0.0f : expf(mrow[i] - mnew);
                const float sum = sm_exp_shift_sum(r, n, mnew);
                lrow[i] = k0 == 0 ? sum : lrow[i] * corr + sum;
                mrow[i] = mnew;
                if (k0 > 0 && corr != 1.0f)
                    scale_row(acc + (size_t)i * (size_t)D, D, corr);
            }
            attn_accumulate(a, &p, S, bk, m, k0, n, acc, k0 > 0);
        }
        for (int i = 0; i < m; i++) {
            const float inv = 1.0f / lrow[i];
            const float *ai = acc + (size_t)i * (size_t)D;
            float *oi = a->O + (size_t)(q0 + i) * (size_t)a->ldo;
            for (int d = 0; d < D; d++)
                oi[d] = ai[d] * inv;
        }
    }
}

int nn_blas_threads_single(void)
{
    int prev = openblas_get_num_threads();
    if (prev != 1)
        openblas_set_num_threads(1);
    return prev;
}

void nn_blas_threads_restore(int prev)
{
    if (prev > 1)
        openblas_set_num_threads(prev);
}
