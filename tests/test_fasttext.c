/* fastText-style classifier: learns separable toy problems (softmax and one-vs-all), is
 * reproducible with one thread, round-trips through its file format bit-identically, and
 * rejects corrupt files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/blob.h"
#include "pathos/fasttext.h"

#define N 300

/* Class 0 texts talk about cats, class 1 about dogs, class 2 about birds; filler words are
 * shared.  Multi-label: "cat" and "dog" may both appear. */
static const char *animals[3][3] = {{"cat", "kitten", "meow"}, {"dog", "puppy", "woof"}, {"bird", "parrot", "tweet"}};
static const char *filler[6] = {"the", "a", "really", "today", "saw", "my"};

static void make_text(char *buf, size_t n, int i, int cls, int cls2)
{
    unsigned seed = (unsigned)i * 7919u;
    snprintf(buf, n, "%s %s %s %s %s!", filler[seed % 6], animals[cls][(i / 3) % 3], filler[(seed / 6) % 6],
             cls2 >= 0 ? animals[cls2][(i / 9) % 3] : filler[(seed / 36) % 6], filler[(seed / 7) % 6]);
}

static void test_softmax(void)
{
    static char texts[N][80];
    const char *fields[N];
    unsigned char Y[N * 3];
    memset(Y, 0, sizeof Y);
    for (int i = 0; i < N; i++) {
        make_text(texts[i], sizeof texts[i], i, i % 3, -1);
        fields[i] = texts[i];
        Y[i * 3 + i % 3] = 1;
    }
    const char *names[3] = {"cat", "dog", "bird"};
    pth_ft_data d = {N, 1, fields, 3, Y, names};
    pth_ft_params p;
    pth_ft_params_default(&p);
    p.dim = 16;
    p.epochs = 5;
    p.lr = 0.5;
    pth_error err = {0};
    pth_fasttext *m = pth_ft_train(&p, &d, &err);
    CHECK(m != NULL);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(pth_ft_nlabels(m) == 3);
    CHECK(strcmp(pth_ft_label_name(m, 1), "dog") == 0);
    int correct = 0;
    double s[3];
    for (int i = 0; i < N; i++) {
        pth_ft_predict(m, fields + i, s);
        int b = s[1] > s[0] ? 1 : 0;
        b = s[2] > s[b] ? 2 : b;
        correct += b == i % 3;
        if (i == 0)
            CHECK_NEAR(s[0] + s[1] + s[2], 1.0, 1e-5);
    }
    CHECK(correct == N);
    /* Unseen text with a known word; and a text with no known feature still gives a
     * distribution (only the end-of-text bias). */
    const char *q1 = "A PUPPY!!", *q2 = "zzzz qqqq";
    pth_ft_predict(m, &q1, s);
    CHECK(s[1] > s[0] && s[1] > s[2]);
    pth_ft_predict(m, &q2, s);
    CHECK_NEAR(s[0] + s[1] + s[2], 1.0, 1e-5);

    /* Same seed, one thread: bit-identical model scores. */
    pth_fasttext *m2 = pth_ft_train(&p, &d, &err);
    double a[N * 3], b[N * 3];
    pth_ft_predict_many(m, N, fields, a, 1);
    pth_ft_predict_many(m2, N, fields, b, 2);
    CHECK(memcmp(a, b, sizeof a) == 0);
    pth_ft_free(m2);

    /* Hogwild with two threads: not bit-reproducible, but learns the same problem. */
    p.threads = 2;
    m2 = pth_ft_train(&p, &d, &err);
    CHECK(m2 != NULL);
    if (m2) {
        pth_ft_predict_many(m2, N, fields, b, 1);
        int agree = 0;
        for (int i = 0; i < N; i++) {
            int x = b[i * 3 + 1] > b[i * 3] ? 1 : 0;
            x = b[i * 3 + 2] > b[i * 3 + x] ? 2 : x;
            agree += x == i % 3;
        }
        CHECK(agree >= N * 95 / 100);
        pth_ft_free(m2);
    }
    p.threads = 1;

    /* Save / load: identical predictions; truncations and flipped magic fail cleanly. */
    char path[512];
    snprintf(path, sizeof path, "%s/ft.bin", pth_test_tmpdir());
    CHECK_OK(pth_ft_save(m, path, &err), &err);
    pth_fasttext *l = pth_ft_load(path, &err);
    CHECK(l != NULL);
    if (l) {
        pth_ft_predict_many(l, N, fields, b, 1);
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK(pth_ft_nfeatures(l) == pth_ft_nfeatures(m));
        pth_ft_free(l);
    }
    pth_blob_writer w = {0};
    pth_ft_write(m, &w);
    int all_fail = 1;
    for (size_t cut = 0; cut < w.len; cut += 1 + cut / 8) {
        pth_blob_reader r;
        pth_blob_reader_init(&r, w.data, cut, "mem");
        pth_fasttext *x = pth_ft_read(&r);
        all_fail &= x == NULL && !pth_blob_reader_ok(&r);
        pth_ft_free(x);
    }
    CHECK(all_fail);
    w.data[0] ^= 0xFF;
    pth_blob_reader r;
    pth_blob_reader_init(&r, w.data, w.len, "mem");
    CHECK(pth_ft_read(&r) == NULL);
    CHECK(strstr(r.err.msg, "magic") != NULL);
    pth_blob_writer_free(&w);
    CHECK(pth_ft_load("/nonexistent/ft.bin", &err) == NULL);
    pth_ft_free(m);
}

static void test_ova_multilabel_fields(void)
{
    static char texts[N][80];
    const char *fields[N * 2];
    unsigned char Y[N * 3];
    memset(Y, 0, sizeof Y);
    for (int i = 0; i < N; i++) {
        int c1 = i % 3, c2 = (i / 3) % 4 == 0 ? (c1 + 1) % 3 : -1;
        make_text(texts[i], sizeof texts[i], i, c1, c2);
        fields[2 * i] = texts[i];
        fields[2 * i + 1] = i % 2 ? "context words here" : NULL; /* an optional second field */
        Y[i * 3 + c1] = 1;
        if (c2 >= 0)
            Y[i * 3 + c2] = 1;
    }
    pth_ft_data d = {N, 2, fields, 3, Y, NULL};
    pth_ft_params p;
    pth_ft_params_default(&p);
    p.loss = PTH_FT_OVA;
    p.dim = 16;
    p.epochs = 10;
    p.lr = 0.5;
    p.minn = 2;
    p.maxn = 4;
    pth_error err = {0};
    pth_fasttext *m = pth_ft_train(&p, &d, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    int exact = 0;
    double s[3];
    for (int i = 0; i < N; i++) {
        pth_ft_predict(m, fields + 2 * i, s);
        int ok = 1;
        for (int k = 0; k < 3; k++)
            ok &= (s[k] > 0.5) == (Y[i * 3 + k] != 0);
        exact += ok;
    }
    CHECK(exact >= N * 95 / 100);
    /* Character n-grams reach a misspelt word ("kitteen" shares "<ki", "itt", ...). */
    const char *q[2] = {"kitteen", NULL};
    pth_ft_predict(m, q, s);
    CHECK(s[0] > s[1] && s[0] > s[2]);
    pth_ft_free(m);

    /* Bad parameters are errors, not crashes. */
    p.dim = 0;
    CHECK(pth_ft_train(&p, &d, &err) == NULL);
    CHECK(err.code == PTH_ERR_INVALID);
}

int main(void)
{
    test_softmax();
    test_ova_multilabel_fields();
    return pth_test_finish();
}
