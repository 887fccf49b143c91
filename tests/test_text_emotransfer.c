/* GoEmotions transfer features (src/text/emotransfer.c): fitted on a slice of GoEmotions
 * train; the features are deterministic, in range, the Ekman groups are the maxima of their
 * members, document features are the mean and max over sentences, and a written model reads
 * back with identical features (a truncated one is refused). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/blob.h"
#include "pathos/textemo.h"

#define NF PTH_EMOTRANSFER_NFEAT

static pth_emotransfer *fit(pth_textemo_model kind, size_t rows)
{
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s", pth_test_shared("data/goemotions"));
    pth_emotransfer_config c;
    pth_emotransfer_config_default(&c);
    c.data_dir = dir;
    c.model = kind;
    c.max_train = rows;
    pth_error err = {0};
    pth_emotransfer *t = pth_emotransfer_train(&c, &err);
    CHECK_OK(t ? 0 : (int)err.code, &err);
    return t;
}

static const char *const texts[] = {
    "Thank you so much, I really appreciate it!",
    "I am so angry at you right now.",
    "That is terrifying, I'm scared.",
    "",
    "I'm so sorry for your loss. That is heartbreaking.",
};
#define NT (sizeof texts / sizeof *texts)

static void test_text_features(pth_emotransfer *t, pth_emotransfer *t2)
{
    double F[NT * NF], G[NT * NF];
    pth_error err = {0};
    CHECK_OK(pth_emotransfer_text_features(t, NT, texts, F, &err), &err);
    CHECK_OK(pth_emotransfer_text_features(t, NT, texts, G, &err), &err);
    CHECK(memcmp(F, G, sizeof F) == 0); /* same model: same features */
    CHECK_OK(pth_emotransfer_text_features(t2, NT, texts, G, &err), &err);
    CHECK(memcmp(F, G, sizeof F) == 0); /* same data and seed: same model */
    int ekman[PTH_GOEMO_NLABELS], sent[PTH_GOEMO_NLABELS];
    CHECK_OK(pth_goemo_groups(pth_test_shared("data/goemotions"), ekman, sent, &err), &err);
    for (size_t i = 0; i < NT; i++) {
        const double *row = F + i * NF;
        for (size_t f = 0; f < NF; f++)
            CHECK(row[f] >= 0 && row[f] <= 1);
        for (size_t e = 0; e < PTH_GOEMO_EKMAN_GROUPS; e++) {
            double mx = 0;
            for (size_t l = 0; l < PTH_GOEMO_NLABELS; l++)
                if (ekman[l] == (int)e && row[l] > mx)
                    mx = row[l];
            CHECK(row[PTH_GOEMO_NLABELS + e] == mx);
        }
    }
    /* A non-trivial signal from 8,000 training texts: gratitude (15) dominates the thank-you
     * text, anger (Ekman 0) beats joy (Ekman 3) in the angry one and joy beats anger in the
     * thank-you text. */
    CHECK(F[0 * NF + 15] > 0.5);
    CHECK(F[1 * NF + PTH_GOEMO_NLABELS + 0] > F[1 * NF + PTH_GOEMO_NLABELS + 3]);
    CHECK(F[0 * NF + PTH_GOEMO_NLABELS + 3] > F[0 * NF + PTH_GOEMO_NLABELS + 0]);
    printf("gratitude(thanks) %.3f  anger/joy(angry) %.3f/%.3f  fear(scared) %.3f\n", F[15],
           F[NF + PTH_GOEMO_NLABELS], F[NF + PTH_GOEMO_NLABELS + 3], F[2 * NF + 14]);
}

static void test_doc_features(pth_emotransfer *t)
{
    const char *doc[] = {"I am so angry at you right now. Thank you so much, I really appreciate it!!  \n",
                         "no sentence end", "...", "Fine."};
    const char *parts[] = {"I am so angry at you right now.", "Thank you so much, I really appreciate it!!",
                           "no sentence end", "...", "Fine."};
    double D[4 * PTH_EMOTRANSFER_NDOC], S[5 * NF];
    pth_error err = {0};
    CHECK_OK(pth_emotransfer_doc_features(t, 4, doc, D, &err), &err);
    CHECK_OK(pth_emotransfer_text_features(t, 5, parts, S, &err), &err);
    for (size_t f = 0; f < NF; f++) {
        CHECK_NEAR(D[f], 0.5 * (S[f] + S[NF + f]), 1e-12);
        CHECK(D[NF + f] == fmax(S[f], S[NF + f]));
        /* One sentence: mean = max = its features; no letters at all: the whole text. */
        CHECK_NEAR(D[PTH_EMOTRANSFER_NDOC + f], S[2 * NF + f], 1e-12);
        CHECK(D[PTH_EMOTRANSFER_NDOC + NF + f] == S[2 * NF + f]);
        CHECK_NEAR(D[2 * PTH_EMOTRANSFER_NDOC + f], S[3 * NF + f], 1e-12);
        CHECK_NEAR(D[3 * PTH_EMOTRANSFER_NDOC + f], S[4 * NF + f], 1e-12);
    }
}

static void test_roundtrip(pth_emotransfer *t)
{
    pth_blob_writer w = {0};
    pth_emotransfer_write(t, &w);
    CHECK(!w.failed && w.len > 100);
    pth_blob_reader r;
    pth_error err = {0};
    pth_blob_reader_init(&r, w.data, w.len, "transfer");
    pth_emotransfer *u = pth_emotransfer_read(&r, &err);
    CHECK(u != NULL && pth_blob_reader_ok(&r) && r.pos == w.len);
    if (u) {
        double F[NT * NF], G[NT * NF];
        CHECK_OK(pth_emotransfer_text_features(t, NT, texts, F, &err), &err);
        CHECK_OK(pth_emotransfer_text_features(u, NT, texts, G, &err), &err);
        CHECK(memcmp(F, G, sizeof F) == 0);
    }
    pth_emotransfer_free(u);
    /* Truncated: refused, no leak. */
    pth_blob_reader_init(&r, w.data, w.len / 2, "transfer");
    u = pth_emotransfer_read(&r, &err);
    CHECK(u == NULL);
    pth_emotransfer_free(u);
    pth_blob_writer_free(&w);
}

int main(void)
{
    pth_emotransfer *t = fit(PTH_TEXTEMO_FASTTEXT, 8000), *t2 = fit(PTH_TEXTEMO_FASTTEXT, 8000);
    if (t && t2) {
        test_text_features(t, t2);
        test_doc_features(t);
        test_roundtrip(t);
    }
    pth_emotransfer_free(t);
    pth_emotransfer_free(t2);
    /* The linear and ensemble kinds round-trip too. */
    pth_emotransfer *l = fit(PTH_TEXTEMO_ENSEMBLE, 3000);
    if (l)
        test_roundtrip(l);
    pth_emotransfer_free(l);
    return pth_test_finish();
}
