/* torch's CPU random numbers, as TabPFN v2 draws its column embeddings:
 * torch.randn(shape, generator=torch.Generator().manual_seed(seed)) on CPU, float32. */
#include <math.h>
#include <stdint.h>

#include "tabpfn/tabpfn_internal.h"

enum { MT_N = 624, MT_M = 397 };

typedef struct {
    uint32_t s[MT_N];
    int i;
} mt19937;

/* init_genrand: the reference seeding of Matsumoto & Nishimura (torch uses the low 32 bits). */
static void mt_seed(mt19937 *mt, uint32_t seed)
{
    mt->s[0] = seed;
    for (int i = 1; i < MT_N; i++)
        mt->s[i] = 1812433253u * (mt->s[i - 1] ^ (mt->s[i - 1] >> 30)) + (uint32_t)i;
    mt->i = MT_N;
}

static uint32_t mt_next(mt19937 *mt)
{
    if (mt->i >= MT_N) {
        for (int k = 0; k < MT_N; k++) {
            uint32_t y = (mt->s[k] & 0x80000000u) | (mt->s[(k + 1) % MT_N] & 0x7fffffffu);
            mt->s[k] = mt->s[(k + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        mt->i = 0;
    }
    uint32_t y = mt->s[mt->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* Box-Muller on 16 uniforms: pairs (j, j+8), as ATen's normal_fill_16_AVX2 (the path torch
 * takes on x86 CPUs with AVX2): float32 throughout, theta = (float)(2 pi) * u2.  torch uses
 * Cephes-style vector log/sincos; libm's float functions land within 1 ulp of its draws. */
static void normal_fill_16(float *d)
{
    const float two_pi = 6.28318530717958647692f;
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j], u2 = d[j + 8];
        float radius = sqrtf(-2.0f * logf(u1));
        float theta = two_pi * u2;
        d[j] = radius * cosf(theta);
        d[j + 8] = radius * sinf(theta);
    }
}

void tabpfn_torch_randn(uint64_t seed, float *out, size_t n)
{
    mt19937 mt;
    mt_seed(&mt, (uint32_t)(seed & 0xffffffffu));
    /* torch fills all uniforms first (24-bit mantissa floats), then transforms in blocks of
     * 16; a ragged tail re-draws the last 16 values (n >= 16 required, as torch's vector
     * path). */
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(mt_next(&mt) & 0xFFFFFFu) * (1.0f / 16777216.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        normal_fill_16(out + i);
    if (n % 16 != 0 && n >= 16) {
        float *t = out + n - 16;
        for (int j = 0; j < 16; j++)
            t[j] = (float)(mt_next(&mt) & 0xFFFFFFu) * (1.0f / 16777216.0f);
        normal_fill_16(t);
    }
}
