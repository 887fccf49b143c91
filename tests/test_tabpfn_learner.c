/* Learner "tabpfn" through its ops table: one member reproduces softmax(reference logits /
 * 0.9), an ensemble gives valid probabilities and is deterministic, save/load round-trips,
 * and the limits fail with clear errors. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "learners/learner_impl.h"

extern const pth_learner_ops pth_learner_tabpfn;

static void *read_bin(const char *rel, size_t bytes)
{
    FILE *f = fopen(pth_test_shared(rel), "rb");
    if (!f)
        return NULL;
    void *p = malloc(bytes);
    if (fread(p, 1, bytes, f) != bytes) {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

enum { N = 40, T = 10, F = 5, K = 2 };

int main(void)
{
    const pth_learner_ops *ops = &pth_learner_tabpfn;
    float *Xf = read_bin("testdata/tabpfn-v2/case_a/X.bin", (N + T) * F * sizeof(float));
    float *yf = read_bin("testdata/tabpfn-v2/case_a/y_train.bin", N * sizeof(float));
    double *ref = read_bin("testdata/tabpfn-v2/case_a/logits_f64.bin", T * 10 * sizeof(double));
    CHECK(Xf && yf && ref);
    if (!Xf || !yf || !ref)
        return pth_test_finish();
    double X[(N + T) * F];
    int y[N];
    for (int i = 0; i < (N + T) * F; i++)
        X[i] = Xf[i];
    for (int i = 0; i < N; i++)
        y[i] = (int)yf[i];
    char model[1024];
    snprintf(model, sizeof model, "%s", pth_test_shared("testdata/tabpfn-v2/model_random.safetensors"));
    pth_param p1[] = {{"model", model}, {"n_estimators", "1"}, {"preprocess", "none"}};
    pth_fit_input in = {X, y, N, F, K, p1, 3, 7, 0};
    pth_error err = {0};
    void *st = NULL;
    double proba[T * K], proba2[T * K];

    /* One member = the raw model with temperature 0.9. */
    CHECK_OK(ops->fit(&in, &st, &err), &err);
    if (st) {
        CHECK_OK(ops->predict_proba(st, X + N * F, T, proba, &err), &err);
        double md = 0;
        for (int r = 0; r < T; r++) {
            double z0 = ref[r * 10] / 0.9, z1 = ref[r * 10 + 1] / 0.9, m = fmax(z0, z1);
            double p0 = exp(z0 - m) / (exp(z0 - m) + exp(z1 - m));
            md = fmax(md, fabs(proba[r * K] - p0));
        }
        printf("one member vs softmax(logits_f64/0.9): %.3g\n", md);
        CHECK(md < 1e-5);
        ops->free(st);
    }

    /* Four members: valid, deterministic, and save/load gives the same probabilities. */
    pth_param p4[] = {{"model", model}, {"n_estimators", "4"}, {"softmax_temperature", "0.9"}};
    in.params = p4, in.n_params = 3;
    st = NULL;
    CHECK_OK(ops->fit(&in, &st, &err), &err);
    if (st) {
        CHECK_OK(ops->predict_proba(st, X + N * F, T, proba, &err), &err);
        int valid = 1, agree = 0;
        for (int r = 0; r < T; r++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += proba[r * K + k], valid &= proba[r * K + k] > 0 && proba[r * K + k] < 1;
            valid &= fabs(s - 1) < 1e-12;
            agree += (proba[r * K + 1] > 0.5) == (ref[r * 10 + 1] > ref[r * 10]);
        }
        CHECK(valid);
        printf("ensemble of 4: %d/%d rows agree with the single raw model's argmax\n", agree, T);
        pth_blob_writer w = {0};
        CHECK_OK(ops->save(st, &w, &err), &err);
        pth_blob_reader rd;
        pth_blob_reader_init(&rd, w.data, w.len, "mem");
        pth_learner_shape shape = {F, K};
        void *st2 = NULL;
        CHECK_OK(ops->load(&rd, &shape, &st2, &err), &err);
        if (st2) {
            CHECK_OK(ops->predict_proba(st2, X + N * F, T, proba2, &err), &err);
            CHECK(memcmp(proba, proba2, sizeof proba) == 0);
            ops->free(st2);
        }
        /* A truncated payload is refused. */
        pth_blob_reader_init(&rd, w.data, w.len / 2, "mem");
        st2 = NULL;
        CHECK(ops->load(&rd, &shape, &st2, &err) != 0 && st2 == NULL);
        pth_blob_writer_free(&w);
        ops->free(st);
    }

    /* Limits and errors. */
    pth_param none[] = {{"n_estimators", "2"}};
    in.params = none, in.n_params = 1;
    st = NULL;
    CHECK(ops->fit(&in, &st, &err) == PTH_ERR_INVALID && strstr(err.msg, "model") != NULL);
    pth_param badpath[] = {{"model", "/nonexistent/tabpfn.ckpt"}};
    in.params = badpath;
    CHECK(ops->fit(&in, &st, &err) != 0 && strstr(err.msg, "/nonexistent/tabpfn.ckpt") != NULL);
    pth_param small[] = {{"model", model}, {"max_train_rows", "20"}};
    in.params = small, in.n_params = 2;
    CHECK(ops->fit(&in, &st, &err) == PTH_ERR_INVALID && strstr(err.msg, "max_train_rows") != NULL);
    int y11[N];
    for (int i = 0; i < N; i++)
        y11[i] = i % 11;
    pth_fit_input in11 = {X, y11, N, F, 11, p1, 2, 7, 0};
    CHECK(ops->fit(&in11, &st, &err) == PTH_ERR_INVALID && strstr(err.msg, "at most 10") != NULL);
    pth_param unknown[] = {{"model", model}, {"depth", "3"}};
    in.params = unknown;
    CHECK(ops->fit(&in, &st, &err) == PTH_ERR_INVALID);
    free(Xf), free(yf), free(ref);
    return pth_test_finish();
}
