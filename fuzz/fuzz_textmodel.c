/* Fuzz target for the text model readers: every input is loaded as a text emotion classifier
 * (pth_textclf_load_buffer: "PTXC" with its fastText, linear, GoEmotions transfer and stacked
 * context parts) and as a NewsEmp regressor (pth_textreg_load_buffer: "PTXR").  A failed load
 * must explain itself; a model that loads must score short texts (one by one and, for a
 * conversation model, as a two-turn dialogue) with finite probabilities / predictions.
 * Seeds: fuzz/corpus/textmodel/, written by fuzz/gen_textmodel_corpus.c. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "pathos/textclf.h"
#include "pathos/textreg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[2] = {"I am so happy for you!", "Why would you do that?? I hate it."};
static const char *const speakers[2] = {"Ross", "Rachel"};

static void check_failure(const pth_error *err)
{
    if (err->code == PTH_OK || err->msg[0] == '\0')
        abort(); /* a failure must always explain itself */
}

/* n rows of L scores: probabilities in [0, 1]. */
static void check_probs(const double *P, size_t n, size_t L)
{
    for (size_t i = 0; i < n * L; i++)
        if (!(P[i] >= 0 && P[i] <= 1))
            abort();
}

static void try_classifier(const uint8_t *data, size_t size)
{
    pth_error err = {0};
    pth_textclf *m = pth_textclf_load_buffer(data, size, "fuzz", &err);
    if (!m) {
        check_failure(&err);
        return;
    }
    size_t L = pth_textclf_nlabels(m);
    double *P = calloc(2 * L, sizeof *P);
    unsigned char *dec = calloc(L, 1);
    if (P && dec) {
        if (pth_textclf_scores(m, 2, texts, P, &err) == 0) {
            check_probs(P, 2, L);
            pth_textclf_decide(m, P, dec);
        } else {
            check_failure(&err);
        }
        int causal = 0;
        if (pth_textclf_context(m, &causal) > 0) {
            if (pth_textclf_score_dialogue(m, 2, texts, speakers, P, &err) == 0)
                check_probs(P, 2, L);
            else
                check_failure(&err);
        }
    }
    free(P);
    free(dec);
    pth_textclf_free(m);
}

static void try_regressor(const uint8_t *data, size_t size)
{
    pth_error err = {0};
    pth_textreg *m = pth_textreg_load_buffer(data, size, "fuzz", &err);
    if (!m) {
        check_failure(&err);
        return;
    }
    pth_textreg_pred out[2];
    if (pth_textreg_predict(m, 2, texts, out, &err) == 0) {
        for (int i = 0; i < 2; i++)
            for (int t = 0; t < 2; t++)
                if (!(out[i].lo[t] >= 1 && out[i].lo[t] <= out[i].value[t] && out[i].value[t] <= out[i].hi[t] &&
                      out[i].hi[t] <= 7))
                    abort();
    } else {
        check_failure(&err);
    }
    pth_textreg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_classifier(data, size);
    try_regressor(data, size);
    return 0;
}
