/* Fuzz target for the model file reader (pth_model_load_buffer).  Each input is loaded
 * twice: as given (magic, version and checksum must reject it cleanly) and "resealed" with
 * a correct CRC-32, so that mutations get past the checksum and exercise the parser and
 * every learner's validation.  A model that loads must predict valid probabilities.
 * xgboost payloads are resealed too: src/learners/xgboost_check.c must stop anything that
 * libxgboost's own (unhardened) model reader or predictor would mishandle. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learners/model_impl.h"
#include "pathos/learner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_load(const uint8_t *data, size_t size)
{
    pth_error err = {0};
    pth_model *m = pth_model_load_buffer(data, size, "fuzz", &err);
    if (!m) {
        if (err.code == PTH_OK || err.msg[0] == '\0')
            abort(); /* a failure must always explain itself */
        return;
    }
    size_t d = pth_model_n_features(m), k = (size_t)pth_model_n_classes(m);
    if (d <= 4096 && k <= 4096) {
        double *X = calloc(2 * d, sizeof *X), *P = calloc(2 * k, sizeof *P);
        if (X && P) {
            for (size_t j = 0; j < d; j++)
                X[d + j] = j % 2 ? NAN : 1e6;
            if (pth_model_predict_proba(m, X, 2, P, &err) == 0)
                for (size_t i = 0; i < 2 * k; i++)
                    if (!(P[i] >= 0 && P[i] <= 1))
                        abort();
        }
        free(X);
        free(P);
    }
    pth_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_load(data, size);
    if (size < 16)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    uint32_t crc = pth_crc32(copy, size - 4);
    for (int i = 0; i < 4; i++)
        copy[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    try_load(copy, size);
    free(copy);
    return 0;
}
