/* Elementwise maths on 16 float lanes (AVX-512F), shared by the kernels that apply it inside
 * register tiles (nn.c's softmax, gemm.c's fused GELU epilogue).  Include only from x86-64 GCC
 * or clang code after <immintrin.h>; every function carries its own target attribute, so the
 * including file needs no -mavx512f. */
#ifndef PATHOS_NN_VMATH512_H
#define PATHOS_NN_VMATH512_H

#include <immintrin.h>

/* exp_approx on 16 lanes (same reduction and polynomial, fused multiply-adds). */
__attribute__((target("avx512f"))) static inline __m512 exp512(__m512 v)
{
    v = _mm512_max_ps(_mm512_min_ps(v, _mm512_set1_ps(88.3f)), _mm512_set1_ps(-87.3f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    __m512 t = _mm512_fmadd_ps(v, _mm512_set1_ps(1.44269504088896341f), magic);
    __m512 k = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), v);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 z = _mm512_mul_ps(r, r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, z, r), _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(-0x4B400000 + 127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* GELU(v) = v * Phi(v) on 16 lanes: nn_gelu's erfc formulation (see nn.c) with fused
 * multiply-adds, so it differs from the scalar version in the last bits only. */
__attribute__((target("avx512f"))) static inline __m512 gelu512(__m512 v)
{
    const __m512 a = _mm512_mul_ps(_mm512_abs_ps(v), _mm512_set1_ps(0.70710678118654752f));
    const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(a, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_set1_ps(0.17087277f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
    const __m512 half_ec = _mm512_mul_ps(_mm512_set1_ps(0.5f), _mm512_mul_ps(t, exp512(_mm512_fnmadd_ps(a, a, p))));
    const __mmask16 pos = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
    const __m512 phi = _mm512_mask_sub_ps(half_ec, pos, _mm512_set1_ps(1.0f), half_ec);
    return _mm512_mul_ps(v, phi);
}

#endif
