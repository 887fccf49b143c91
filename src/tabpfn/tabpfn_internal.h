/* TabPFN v2 internals shared by model.c, forward.c, mt19937.c and the tests. */
#ifndef PATHOS_TABPFN_INTERNAL_H
#define PATHOS_TABPFN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/gemm.h"
#include "pathos/tabpfn.h"

typedef struct {
    const float *f_qkv; /* feature attention, [3*E, E]: W_q; W_k; W_v, (out, in) */
    const float *f_out; /* [E(heads*D), E(out)]: out = o @ f_out */
    const float *i_qkv; /* item attention, same layouts */
    const float *i_out;
    const float *w1; /* [hid, E] */
    const float *w2; /* [E, hid] */
    /* The same weights packed for nn_gemm_packed (out = in @ W for each): f_qkv/i_qkv 576
     * columns (Q, K, V heads in order), f_out/i_out and w2 E columns, w1 hid columns. */
    nn_packed p_f_qkv, p_f_out, p_i_qkv, p_i_out, p_w1, p_w2;
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
