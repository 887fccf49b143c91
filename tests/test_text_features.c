/* TF-IDF vs scikit-learn, hashed corpus featurisation, CSR helpers, lexicon features and
 * document statistics.
 *
 * TF-IDF provenance (Debian python3-sklearn 1.2.1, `/usr/bin/python3 tests/ref/text_sklearn_refs.py`):
 *   docs = ["the cat sat on the mat", "the dog sat", "dogs and cats sat sat sat"]
 *   TfidfVectorizer(sublinear_tf=True).fit_transform(docs).toarray()
 *   TfidfVectorizer(sublinear_tf=False, smooth_idf=False).fit_transform(docs).toarray()
 * vocabulary (sorted): and cat cats dog dogs mat on sat the.  Here the same counts come from
 * pth_tokenize + an exact vocabulary built by the test, so no hashing is involved. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/text.h"

static const char *const DOCS[3] = {"the cat sat on the mat", "the dog sat", "dogs and cats sat sat sat"};
static const char *const VOCAB[9] = {"and", "cat", "cats", "dog", "dogs", "mat", "on", "sat", "the"};

static const double REF_SUBLINEAR[3][9] = {
    {0, 0.4469029938, 0, 0, 0, 0.4469029938, 0.4469029938, 0.2639481073, 0.5754689732},
    {0, 0, 0, 0.7203334491, 0, 0, 0, 0.4254405390, 0.5478321549},
    {0.4695148042, 0, 0.4695148042, 0, 0.4695148042, 0, 0, 0.5819514979, 0}};
static const double REF_PLAIN[3][9] = {
    {0, 0.4462724106, 0, 0, 0, 0.4462724106, 0.4462724106, 0.2126511948, 0.5977476690},
    {0, 0, 0, 0.7725357305, 0, 0, 0, 0.3681174149, 0.5173761823},
    {0.4452801032, 0, 0.4452801032, 0, 0.4452801032, 0, 0, 0.6365350650, 0}};

static void vocab_counts(pth_csr *X)
{
    pth_error err;
    pth_tokens t = {0};
    pth_csr_init(X, 9, &err);
    for (int d = 0; d < 3; d++) {
        pth_tokenize(DOCS[d], strlen(DOCS[d]), NULL, &t, &err);
        float cnt[9] = {0};
        for (size_t i = 0; i < t.n; i++)
            for (int v = 0; v < 9; v++)
                if (strcmp(t.tok[i], VOCAB[v]) == 0)
                    cnt[v] += 1;
        uint32_t idx[9];
        float val[9];
        size_t nnz = 0;
        for (uint32_t v = 0; v < 9; v++)
            if (cnt[v] > 0) {
                idx[nnz] = v;
                val[nnz++] = cnt[v];
            }
        pth_csr_append_row(X, idx, val, nnz, &err);
    }
    pth_tokens_free(&t);
}

static void dense_row(const pth_csr *X, size_t i, double *out)
{
    memset(out, 0, X->ncols * sizeof *out);
    for (size_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
        out[X->indices[k]] = X->data[k];
}

static void test_tfidf(void)
{
    pth_error err;
    for (int variant = 0; variant < 2; variant++) {
        pth_csr X;
        vocab_counts(&X);
        pth_tfidf_options o;
        pth_tfidf_options_default(&o);
        if (variant == 1) {
            o.sublinear_tf = 0;
            o.smooth_idf = 0;
        }
        pth_tfidf m;
        CHECK_OK(pth_tfidf_fit(&m, &X, &o, NULL, 0, &err), &err);
        CHECK_NEAR(m.idf[0], variant ? 2.0986122887 : 1.6931471806, 1e-9);
        CHECK_NEAR(m.idf[8], variant ? 1.4054651081 : 1.2876820725, 1e-9);
        /* Save/load round trip before transforming. */
        pth_blob_writer w = {0};
        pth_tfidf_save(&m, &w);
        pth_blob_reader r;
        pth_blob_reader_init(&r, w.data, w.len, "tfidf");
        pth_tfidf m2;
        CHECK_OK(pth_tfidf_load(&m2, &r, &err), &err);
        CHECK(m2.ncols == 9 && m2.n_blocks == 1 && m2.idf[8] == m.idf[8] && m2.opt.sublinear_tf == o.sublinear_tf);
        pth_blob_reader_init(&r, w.data, w.len - 1, "tfidf");
        pth_tfidf m3;
        CHECK(pth_tfidf_load(&m3, &r, &err) == PTH_ERR_FORMAT);
        pth_blob_writer_free(&w);
        CHECK_OK(pth_tfidf_transform(&m2, &X, &err), &err);
        for (size_t i = 0; i < 3; i++) {
            double row[9];
            dense_row(&X, i, row);
            for (int j = 0; j < 9; j++)
                CHECK_NEAR(row[j], variant ? REF_PLAIN[i][j] : REF_SUBLINEAR[i][j], 1e-7);
        }
        pth_tfidf_free(&m);
        pth_tfidf_free(&m2);
        pth_csr_free(&X);
    }
}

static void test_hash_corpus(void)
{
    pth_error err;
    pth_hash_options ho;
    pth_hash_options_default(&ho);
    ho.word_bits = 12;
    ho.char_bits = 12;
    const char *texts[5] = {"I am so sorry for their loss :(", "", "Not great, not terrible.",
                            "wow \xF0\x9F\x98\x80!!", NULL};
    pth_csr X, Y;
    CHECK_OK(pth_csr_init(&X, pth_hash_ncols(&ho), &err), &err);
    CHECK_OK(pth_text_hash_corpus(&ho, NULL, texts, 5, &X, &err), &err);
    CHECK(X.nrows == 5 && X.ncols == 8192);
    CHECK(X.indptr[2] == X.indptr[1] && X.indptr[5] == X.indptr[4]); /* empty and NULL texts */
    /* Rows equal the one-at-a-time path. */
    CHECK_OK(pth_csr_init(&Y, pth_hash_ncols(&ho), &err), &err);
    pth_tokens t = {0};
    for (int d = 0; d < 4; d++) {
        pth_tokenize(texts[d], strlen(texts[d]), NULL, &t, &err);
        CHECK_OK(pth_text_hash_row(&ho, &t, &Y, &err), &err);
    }
    CHECK(Y.indptr[4] == X.indptr[4]);
    CHECK(memcmp(X.indices, Y.indices, X.indptr[4] * sizeof *X.indices) == 0);
    CHECK(memcmp(X.data, Y.data, X.indptr[4] * sizeof *X.data) == 0);
    pth_tokens_free(&t);
    pth_csr_free(&Y);

    /* TF-IDF with the two hash blocks: each block of a row has unit norm. */
    size_t bs[3];
    size_t nb = pth_hash_blocks(&ho, bs);
    CHECK(nb == 2 && bs[1] == 4096 && bs[2] == 8192);
    pth_tfidf m;
    CHECK_OK(pth_tfidf_fit(&m, &X, NULL, bs, nb, &err), &err);
    CHECK_OK(pth_tfidf_transform(&m, &X, &err), &err);
    double wn = 0, cn = 0;
    for (size_t k = X.indptr[0]; k < X.indptr[1]; k++) {
        double v = X.data[k];
        if (X.indices[k] < 4096)
            wn += v * v;
        else
            cn += v * v;
    }
    CHECK_NEAR(wn, 1.0, 1e-5);
    CHECK_NEAR(cn, 1.0, 1e-5);
    pth_tfidf_free(&m);

    /* CSR helpers: select rows and hstack with a dense block (zeros skipped). */
    size_t rows[2] = {3, 0};
    CHECK_OK(pth_csr_select_rows(&X, rows, 2, &Y, &err), &err);
    CHECK(Y.nrows == 2 && Y.indptr[1] == X.indptr[4] - X.indptr[3]);
    double D[4] = {1.5, 0.0, 0.0, -2.0};
    pth_csr Z;
    CHECK_OK(pth_csr_hstack(&Y, NULL, D, 2, &Z, &err), &err);
    CHECK(Z.ncols == 8194 && Z.indptr[1] == Y.indptr[1] + 1 && Z.indices[Z.indptr[1] - 1] == 8192);
    CHECK(Z.indptr[2] - Z.indptr[1] == Y.indptr[2] - Y.indptr[1] + 1 && Z.data[Z.indptr[2] - 1] == -2.0f);
    double v[8194], y[2];
    for (size_t j = 0; j < 8194; j++)
        v[j] = j >= 8192 ? 1.0 : 0.0;
    pth_csr_matvec(&Z, v, y);
    CHECK_NEAR(y[0], 1.5, 1e-12);
    CHECK_NEAR(y[1], -2.0, 1e-12);
    uint32_t bad[2] = {5, 5};
    float bv[2] = {1, 1};
    CHECK(pth_csr_append_row(&Z, bad, bv, 2, &err) == PTH_ERR_INVALID);
    pth_csr_free(&Z);
    pth_csr_free(&Y);
    pth_csr_free(&X);
}

static void test_lexicon(void)
{
    pth_error err;
    pth_lexicon *lex = NULL;
    size_t skipped = 0;
    CHECK_OK(pth_lexicon_load(&lex, pth_test_source("data/lexicons/afinn/AFINN-en-165.txt"), PTH_LEX_AFINN, &skipped,
                              &err), &err);
    CHECK(pth_lexicon_size(lex) > 3000 && skipped > 0);
    CHECK_OK(pth_lexicon_load(&lex, pth_test_source("data/lexicons/afinn/AFINN-emoticon-8.txt"), PTH_LEX_AFINN, NULL,
                              &err), &err);
    double v = 0;
    CHECK(pth_lexicon_lookup(lex, "good", &v) && v == 3.0);
    CHECK(pth_lexicon_lookup(lex, ":)", &v) && v == 2.0);
    CHECK(!pth_lexicon_lookup(lex, "zzzz", &v));
    /* "not good" flips: good(+3) negated -> -3; sad(-2) stays; :) +2. */
    pth_tokens t = {0};
    const char *s = "This is not good. So sad :)";
    pth_tokenize(s, strlen(s), NULL, &t, &err);
    double f[PTH_LEX_NFEAT];
    pth_lexicon_features(lex, &t, f);
    CHECK_NEAR(f[0], -3.0, 1e-12);
    CHECK_NEAR(f[2], 2.0, 1e-12);
    CHECK_NEAR(f[3], -3.0, 1e-12);
    CHECK_NEAR(f[4], 1, 0);
    CHECK_NEAR(f[5], 2, 0);
    CHECK_NEAR(f[7], 1, 0);
    CHECK(strcmp(pth_lexicon_feature_name(0), "lex_sum") == 0 && !pth_lexicon_feature_name(PTH_LEX_NFEAT));
    pth_lexicon_free(lex);

    lex = NULL;
    CHECK_OK(pth_lexicon_load(&lex, pth_test_source("data/lexicons/vader/vader_lexicon.txt"), PTH_LEX_VADER, NULL,
                              &err), &err);
    CHECK(pth_lexicon_lookup(lex, "good", &v) && fabs(v - 1.9) < 1e-12);
    CHECK(pth_lexicon_lookup(lex, ":D", &v) && v > 2);
    pth_lexicon_free(lex);
    lex = NULL;
    CHECK(pth_lexicon_load(&lex, "/nonexistent/lexicon.txt", PTH_LEX_VADER, NULL, &err) == PTH_ERR_IO);
    pth_lexicon_free(lex);

    double st[PTH_DOCSTAT_NFEAT];
    s = "I LOVE it!! Do you? We don't :)";
    pth_tokenize(s, strlen(s), NULL, &t, &err);
    pth_doc_stats(&t, st);
    CHECK_NEAR(st[0], log1p((double)t.n), 1e-12);
    CHECK_NEAR(st[2], 2, 0);
    CHECK_NEAR(st[3], 1, 0);
    CHECK_NEAR(st[5], 1, 0); /* LOVE */
    CHECK_NEAR(st[8], 1, 0);
    CHECK_NEAR(st[10], 1.0 / 8.0, 1e-12); /* i | love it do you we do n't: 8 words */
    CHECK(strcmp(pth_doc_stat_name(13), "negators") == 0);
    pth_tokens_free(&t);
}

int main(void)
{
    test_tfidf();
    test_hash_corpus();
    test_lexicon();
    return pth_test_finish();
}
