/* The linear text model (src/text/textlinear.c): scoring works a chunk of texts at a time,
 * and a text's probabilities must not depend on which chunk it falls in, on the batch size,
 * or on the number of fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/rng.h"
#include "text/textemo_internal.h"

#define N_FIT 300
#define N_SCORE 2500 /* more than two scoring chunks */

static const char *const VOCAB[] = {"happy", "sad", "great", "awful", "love", "hate", "fine", "okay",
                                    "wow", "no", "yes", "!", "?", "so", "very", "not"};
#define NV (sizeof VOCAB / sizeof VOCAB[0])

/* A random text of 1..8 vocabulary words; label 1 when "happy" or "love" occurs. */
static char *random_text(pth_rng *r, unsigned char *label)
{
    char *s = calloc(128, 1);
    size_t nw = 1 + (size_t)pth_rng_below(r, 8);
    *label = 0;
    for (size_t w = 0; s && w < nw; w++) {
        size_t v = (size_t)pth_rng_below(r, NV);
        *label |= v == 0 || v == 4;
        strcat(s, w ? " " : "");
        strcat(s, VOCAB[v]);
    }
    return s;
}

static void check_chunks(size_t nfields)
{
    pth_rng r;
    pth_rng_seed(&r, 42 + nfields);
    size_t n = N_FIT + N_SCORE;
    char **text = calloc(n * nfields, sizeof *text);
    unsigned char *Y = calloc(n, 1), scratch;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < nfields; f++)
            text[i * nfields + f] = random_text(&r, f == 0 ? &Y[i] : &scratch);
    txl_model m;
    txl_init(&m, nfields, 12, 0.5);
    pth_error err = {0};
    CHECK_OK(txl_fit(&m, N_FIT, (const char *const *)text, Y, 1, 1.0, 1, &err), &err);
    const char *const *score = (const char *const *)text + N_FIT * nfields;
    double *all = calloc(N_SCORE, sizeof *all), one, few[7];
    CHECK_OK(txl_predict(&m, N_SCORE, score, all, &err), &err);
    size_t same = 0, right = 0;
    for (size_t i = 0; i < N_SCORE; i++) {
        txl_predict(&m, 1, score + i * nfields, &one, &err);
        same += one == all[i];
        right += (all[i] > 0.5) == (Y[N_FIT + i] != 0);
    }
    CHECK(same == N_SCORE);
    for (size_t i = 0; i + 7 <= N_SCORE; i += 7) {
        txl_predict(&m, 7, score + i * nfields, few, &err);
        CHECK(memcmp(few, all + i, sizeof few) == 0);
    }
    /* The label is a function of the first field's words: the model must have learnt it. */
    printf("txl, %zu field(s): %zu / %d held-out texts right\n", nfields, right, N_SCORE);
    CHECK(right > N_SCORE * 9 / 10);
    txl_free(&m);
    for (size_t i = 0; i < n * nfields; i++)
        free(text[i]);
    free(text), free(Y), free(all);
}

int main(void)
{
    check_chunks(1);
    check_chunks(2);
    return pth_test_finish();
}
