/* pathos' own portable PRNG: xoshiro256** seeded through splitmix64.  Every random
 * choice in pathos (splits, synthetic data, bootstrap, SGD order) draws from it, so a
 * seed gives bit-identical results on every platform and thread count. */
#ifndef PATHOS_RNG_H
#define PATHOS_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t s[4];
} pth_rng;

void pth_rng_seed(pth_rng *r, uint64_t seed);
/* Independent stream number `stream` of a seed (for per-repeat / per-thread streams). */
void pth_rng_seed_stream(pth_rng *r, uint64_t seed, uint64_t stream);
uint64_t pth_rng_u64(pth_rng *r);
double pth_rng_uniform(pth_rng *r);            /* [0, 1), 53 random bits */
uint64_t pth_rng_below(pth_rng *r, uint64_t n); /* uniform in [0, n), unbiased; n > 0 */
double pth_rng_normal(pth_rng *r);             /* standard normal (Box-Muller, no caching) */
void pth_rng_shuffle(pth_rng *r, size_t *a, size_t n); /* Fisher-Yates */

#ifdef __cplusplus
}
#endif
#endif
