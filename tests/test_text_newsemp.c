/* NewsEmp: statistics helpers, the fold rule (no writer in two folds), and an end-to-end
 * cross-validation on a slice of the bundled data (first 400 essays, 5 folds).
 *
 * Slice numbers measured with this test's settings (small grid, 2^18 buckets):
 *   plain 5-fold: empathy r 0.385, distress r 0.420; 90% intervals cover 0.910 / 0.895.
 * The assertions leave a margin below those. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/newsemp.h"
#include "pathos/textemo.h"
#include "text/newsemp_internal.h"

static void test_stats(void)
{
    const double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 5, 4, 5}, z[5] = {1, 1, 1, 1, 1};
    /* numpy.corrcoef / scipy.stats.spearmanr: 0.7745966692414834 and 0.7378647873726218. */
    CHECK_NEAR(pth_text_pearson(x, y, 5), 0.7745966692414834, 1e-12);
    CHECK_NEAR(pth_text_spearman(x, y, 5), 0.7378647873726218, 1e-12);
    CHECK(isnan(pth_text_pearson(x, z, 5)));
    /* ceil((n+1)(1-a))-th smallest: n=9, a=0.1 -> 9th; n=8 -> 9th > 8 -> +inf. */
    const double s[9] = {9, 1, 8, 2, 7, 3, 6, 4, 5};
    CHECK_NEAR(pth_conformal_quantile(s, 9, 0.1), 9, 0);
    CHECK_NEAR(pth_conformal_quantile(s, 9, 0.5), 5, 0);
    CHECK(isinf(pth_conformal_quantile(s, 8, 0.1)));
}

/* Gaussian kernel from a linear one: K = [[2, 1], [1, 3]], gamma 1, s 2.
 * d^2(0,1) = 2 + 3 - 2 = 3, so K01 = 2 exp(-3 / 4) = 0.9447331054820294; the diagonal is s. */
static void test_rbf_kernel(void)
{
    double K[4] = {2, 1, 1, 3}, diag[2];
    pth_newsemp_rbf_kernel(K, 2, 1.0, 2.0, diag);
    CHECK_NEAR(K[0], 2.0, 1e-15);
    CHECK_NEAR(K[3], 2.0, 1e-15);
    CHECK_NEAR(K[1], 0.9447331054820294, 1e-15);
    CHECK_NEAR(K[2], 0.9447331054820294, 1e-15);
    /* A near-duplicate pair whose rounded d^2 is negative still gives s, not > s. */
    double E[4] = {1, 1 + 1e-15, 1 + 1e-15, 1};
    pth_newsemp_rbf_kernel(E, 2, 3.0, 1.0, diag);
    CHECK(E[1] <= 1.0 && E[1] > 0.999999);
}

static void test_folds(const pth_newsemp *d)
{
    int *f = malloc(d->n * sizeof *f);
    pth_newsemp_folds(d, 1, 10, 0, f);
    size_t count[10] = {0};
    int ok = 1;
    for (size_t i = 0; i < d->n; i++) {
        count[f[i]]++;
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->writer[i], d->writer[j]) == 0 && f[i] != f[j])
                ok = 0;
    }
    CHECK(ok); /* no writer in two folds */
    for (int k = 0; k < 10; k++)
        CHECK(count[k] > 0);
    /* Plain folds split writers; the rule is the documented hash (stable across runs). */
    pth_newsemp_folds(d, 0, 10, 0, f);
    int split_writer = 0;
    for (size_t i = 1; i < d->n; i++)
        split_writer |= strcmp(d->writer[i], d->writer[i - 1]) == 0 && f[i] != f[i - 1];
    CHECK(split_writer);
    CHECK(f[0] == (int)(pth_murmur3_32(d->message_id[0], strlen(d->message_id[0]), 0) % 10u));
    free(f);
}

int main(void)
{
    test_stats();
    test_rbf_kernel();
    pth_error err;
    pth_newsemp d;
    CHECK_OK(pth_newsemp_load(pth_test_source("data/newsemp/messages.csv"), 400, &d, &err), &err);
    CHECK(d.n == 400);
    CHECK(strcmp(d.message_id[0], "R_1hGrPtWM4SumG0U_1") == 0 && strcmp(d.writer[0], "R_1hGrPtWM4SumG0U") == 0);
    CHECK_NEAR(d.empathy[0], 5.667, 1e-12);
    CHECK_NEAR(d.distress[0], 4.375, 1e-12);
    test_folds(&d);

    pth_newsemp_options o;
    pth_newsemp_options_default(&o);
    o.folds = 5;
    o.inner_folds = 4;
    o.hash.word_bits = 18;
    o.hash.char_bits = 18;
    /* A smaller grid than the default keeps the test at a few seconds. */
    static const double alphas[3] = {0.5, 2, 8}, dense_w[2] = {0, 0.5}, word_w[1] = {2};
    o.word_weights = word_w;
    o.n_word_weights = 1;
    o.alphas = alphas;
    o.n_alphas = 3;
    o.dense_weights = dense_w;
    o.n_dense_weights = 2;
    /* pth_test_source returns a static buffer: copy each path. */
    static char vader[4096], afinn[4096];
    snprintf(vader, sizeof vader, "%s", pth_test_source("data/lexicons/vader/vader_lexicon.txt"));
    o.vader_path = vader;
    snprintf(afinn, sizeof afinn, "%s", pth_test_source("data/lexicons/afinn"));
    o.afinn_dir = afinn;
    pth_newsemp_result r;
    CHECK_OK(pth_newsemp_cv(&d, &o, &r, &err), &err);
    if (r.pred) {
        fprintf(stderr, "slice: empathy r %.3f cov %.3f, distress r %.3f cov %.3f, %.1f s\n", r.target[0].pearson,
                r.target[0].coverage, r.target[1].pearson, r.target[1].coverage, r.seconds);
        CHECK(r.target[0].pearson > 0.25);
        CHECK(r.target[1].pearson > 0.3);
        for (int t = 0; t < 2; t++) {
            CHECK(r.target[t].coverage > 0.83 && r.target[t].coverage < 0.97);
            CHECK(r.target[t].mean_width > 1.0 && r.target[t].mean_width < 6.0);
            CHECK(r.target[t].mae > 0.5 && r.target[t].mae < 2.0);
        }
        int inside = 1;
        for (size_t i = 0; i < r.n * 2; i++)
            inside &= r.lo[i] <= r.hi[i] && r.lo[i] >= 1.0 && r.hi[i] <= 7.0;
        CHECK(inside);
    }
    pth_newsemp_result_free(&r);

    /* Gaussian kernel (CV only): runs on the slice and predicts; the saved-model fit refuses it. */
    o.rbf_gamma = 2.0;
    CHECK_OK(pth_newsemp_cv(&d, &o, &r, &err), &err);
    if (r.pred) {
        fprintf(stderr, "slice rbf 2: empathy r %.3f cov %.3f, distress r %.3f cov %.3f\n", r.target[0].pearson,
                r.target[0].coverage, r.target[1].pearson, r.target[1].coverage);
        CHECK(r.target[0].pearson > 0.25);
        CHECK(r.target[1].pearson > 0.3);
    }
    pth_newsemp_result_free(&r);
    pth_newsemp_fit fit;
    CHECK(pth_newsemp_fit_all(&d, &o, &fit, &err) == PTH_ERR_UNSUPPORTED);
    o.rbf_gamma = -1;
    CHECK(pth_newsemp_cv(&d, &o, &r, &err) == PTH_ERR_INVALID);
    o.rbf_gamma = 0;
    /* The blend partner's settings are checked too. */
    o.blend_gamma = NAN;
    CHECK(pth_newsemp_cv(&d, &o, &r, &err) == PTH_ERR_INVALID && strstr(err.msg, "blend_gamma"));
    o.blend_gamma = 2;
    o.blend_word_weight = -1;
    CHECK(pth_newsemp_cv(&d, &o, &r, &err) == PTH_ERR_INVALID && strstr(err.msg, "blend_word_weight"));
    o.blend_word_weight = 3;
    o.blend_alphas = alphas;
    o.n_blend_alphas = 0;
    CHECK(pth_newsemp_cv(&d, &o, &r, &err) == PTH_ERR_INVALID && strstr(err.msg, "blend partner"));
    o.blend_alphas = NULL;

    /* GoEmotions transfer features in the dense block (a fastText transfer model on a
     * GoEmotions slice keeps this fast): the CV runs and still predicts. */
    pth_emotransfer_config tc;
    pth_emotransfer_config_default(&tc);
    static char gdir[4096];
    snprintf(gdir, sizeof gdir, "%s", pth_test_shared("data/goemotions"));
    tc.data_dir = gdir;
    tc.model = PTH_TEXTEMO_FASTTEXT;
    tc.max_train = 4000;
    pth_emotransfer *tm = pth_emotransfer_train(&tc, &err);
    CHECK_OK(tm ? 0 : (int)err.code, &err);
    if (tm) {
        o.transfer = tm;
        CHECK_OK(pth_newsemp_cv(&d, &o, &r, &err), &err);
        if (r.pred) {
            fprintf(stderr, "slice + transfer: empathy r %.3f, distress r %.3f\n", r.target[0].pearson,
                    r.target[1].pearson);
            CHECK(r.target[0].pearson > 0.25);
            CHECK(r.target[1].pearson > 0.3);
        }
        pth_newsemp_result_free(&r);
        o.transfer = NULL;
        pth_emotransfer_free(tm);
    }

    /* Bad options are errors, not crashes. */
    o.folds = 1;
    CHECK(pth_newsemp_cv(&d, &o, &r, &err) == PTH_ERR_INVALID);
    pth_newsemp_free(&d);
    CHECK(pth_newsemp_load("/nonexistent.csv", 0, &d, &err) == PTH_ERR_IO);
    return pth_test_finish();
}
