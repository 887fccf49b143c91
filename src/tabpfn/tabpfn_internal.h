/* TabPFN v2 internals shared by model.c, forward.c, mt19937.c and the tests. */
#ifndef PATHOS_TABPFN_INTERNAL_H
#define PATHOS_TABPFN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/gemm.h"
#include "pathos/tabpfn.h"

/* One layer's weights, packed at load for nn_gemm_packed (out = in @ W for each); the
 * checkpoint's own copies are released after packing.  The item attention's Q, K and V are
 * packed twice: fused for the train rows, and as the Q heads and the head-0 K/V alone, which
 * are all the test rows and the last layer need. */
typedef struct {
    nn_packed f_qkv; /* feature attention: [E] -> [3E] (W_q; W_k; W_v, heads in order) */
    nn_packed f_out; /* [E] -> [E] */
    nn_packed i_qkv; /* item attention, as f_qkv */
    nn_packed i_q;   /* [E] -> [E], the Q heads of i_qkv */
    nn_packed i_k0;  /* [E] -> [D], K head 0 */
    nn_packed i_v0;  /* [E] -> [D], V head 0 */
    nn_packed i_out; /* [E] -> [E] */
    nn_packed w1;    /* [E] -> [hid] */
    nn_packed w2;    /* [hid] -> [E] */
} tabpfn_layer;

struct pth_tabpfn {
    pth_tensor_set ts; /* owns all weights */
    int E, L, H, D, FG, n_out, hid, dec_hid, pe_dim;
    uint64_t seed;
    int threads;
    const float *enc_w;        /* [E, 2*FG]: [x_0..x_{FG-1}, ind_0..ind_{FG-1}] */
    const float *y_w, *y_b;    /* [E, 2], [E] */
    const float *pe_w, *pe_b;  /* [E, pe_dim], [E] */
    const float *d1_w, *d1_b;  /* [dec_hid, E], [dec_hid] */
    const float *d2_w, *d2_b;  /* [n_out, dec_hid], [n_out] */
    tabpfn_layer *layers;
};

/* torch.randn(n) from a CPU generator seeded with seed (n >= 16). */
void tabpfn_torch_randn(uint64_t seed, float *out, size_t n);

/* Debug hook: called with the token grid after the encoder (layer -1) and after each block
 * (layer 0..L-1), once for the train rows (test = 0) and once for the test rows (test = 1);
 * x is [rows, C, E].  In the last block only the test rows' target tokens are computed. */
typedef void (*tabpfn_hook)(void *ud, int layer, int test, const float *x, size_t rows, size_t C, size_t E);

int tabpfn_forward_debug(const pth_tabpfn *m, const float *X, size_t n_train, size_t n_test, size_t n_features,
                         const float *y_train, float *logits, tabpfn_hook hook, void *ud, pth_error *err);

#endif
