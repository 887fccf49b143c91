/* Featurisation throughput: tokenize + hashed word 1-2 / char_wb 3-5 n-grams (+ TF-IDF),
 * and tokenize + lexicon + doc stats, over the NewsEmp essays repeated R times.
 * Build like bench/newsemp_cv.c; run: OMP_NUM_THREADS=1 build/text_featurize [R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pathos/newsemp.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    pth_error err;
    pth_newsemp d;
    if (pth_newsemp_load("data/newsemp/messages.csv", 0, &d, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = d.n * (size_t)reps, bytes = 0;
    const char **texts = malloc(n * sizeof *texts);
    for (size_t i = 0; i < n; i++) {
        texts[i] = d.essay[i % d.n];
        bytes += strlen(texts[i]);
    }
    pth_hash_options ho;
    pth_hash_options_default(&ho);
    pth_csr X;
    pth_csr_init(&X, pth_hash_ncols(&ho), &err);
    double t0 = now_s();
    pth_text_hash_corpus(&ho, NULL, texts, n, &X, &err);
    double t1 = now_s();
    size_t bs[3];
    size_t nb = pth_hash_blocks(&ho, bs);
    pth_tfidf tf;
    pth_tfidf_fit(&tf, &X, NULL, bs, nb, &err);
    pth_tfidf_transform(&tf, &X, &err);
    double t2 = now_s();
    pth_lexicon *vader = NULL;
    pth_lexicon_load(&vader, "data/lexicons/vader/vader_lexicon.txt", PTH_LEX_VADER, NULL, &err);
    pth_tokens t = {0};
    double f[PTH_LEX_NFEAT], s[PTH_DOCSTAT_NFEAT], sink = 0;
    double t3 = now_s();
    for (size_t i = 0; i < n; i++) {
        pth_tokenize(texts[i], strlen(texts[i]), NULL, &t, &err);
        pth_lexicon_features(vader, &t, f);
        pth_doc_stats(&t, s);
        sink += f[0] + s[0];
    }
    double t4 = now_s();
    printf("%zu docs (%.1f MB), nnz/doc %.0f: hash %.0f docs/s (%.1f MB/s), +tfidf %.0f docs/s; "
           "tokenize+lexicon+stats (1 thread) %.0f docs/s [%g]\n",
           n, (double)bytes / 1e6, (double)X.indptr[X.nrows] / (double)n, (double)n / (t1 - t0),
           (double)bytes / 1e6 / (t1 - t0), (double)n / (t2 - t0), (double)n / (t4 - t3), sink > 0 ? 1.0 : 0.0);
    pth_tokens_free(&t);
    pth_lexicon_free(vader);
    pth_tfidf_free(&tf);
    pth_csr_free(&X);
    free(texts);
    pth_newsemp_free(&d);
    return 0;
}
