/* Reading saved text models from memory (pth_textclf_load_buffer, pth_textreg_load_buffer) and
 * the reader checks that fuzz/fuzz_textmodel.c motivated.  Uses the fuzz seeds in
 * fuzz/corpus/textmodel/ (tiny models, see fuzz/gen_textmodel_corpus.c): each is located with
 * a small walk over the documented layout, one field is overwritten, and the load must fail
 * with a format error instead of yielding NaN scores, reading past the caller's texts or
 * allocating from an unchecked header. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/io.h"
#include "pathos/textclf.h"
#include "pathos/textreg.h"

static const char *const texts[2] = {"What a lovely surprise!", "I can't believe you did that."};

static char *read_seed(const char *name, size_t *len)
{
    char rel[256], *buf = NULL;
    snprintf(rel, sizeof rel, "fuzz/corpus/textmodel/%s", name);
    pth_error err = {0};
    if (pth_read_file(pth_test_source(rel), (size_t)1 << 24, &buf, len, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return buf;
}

static uint64_t get_le(const char *b, size_t at, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)(unsigned char)b[at + (size_t)i] << (8 * i);
    return v;
}

static void put_f64(char *b, size_t at, double v)
{
    memcpy(b + at, &v, 8);
}

/* Offsets into a "PTXC" file, found by walking its layout (textclf.c). */
typedef struct {
    size_t thr, w_ft;            /* first threshold value, ensemble weight */
    size_t ft_nfields, ft_a;     /* fastText blob: field count, first input weight */
    size_t lin_idf, lin_d, lin_vals; /* linear blob: first idf, header d, first coefficient */
} clf_offsets;

static size_t skip_str(const char *b, size_t at)
{
    return at + 4 + (size_t)get_le(b, at, 4);
}

static size_t walk_fasttext(const char *b, size_t at, clf_offsets *o)
{
    at += 8;                  /* magic, version */
    at += 4 * 5 + 8 + 4 * 3;  /* dim .. epochs, lr, min_count, loss, threads */
    at += 8 + 8 + 4;          /* seed, max_features, field_pool */
    o->ft_nfields = at;
    uint64_t nl = get_le(b, at + 8, 8);
    at += 16;
    for (uint64_t k = 0; k < nl; k++)
        at = skip_str(b, at);
    uint64_t nfeat = get_le(b, at, 8);
    at += 8 + 8 * nfeat;
    o->ft_a = at + 8;
    at += 8 + 4 * get_le(b, at, 8);
    return at + 8 + 4 * get_le(b, at, 8); /* output matrix */
}

static void walk_linear(const char *b, size_t at, clf_offsets *o)
{
    at += 8 + 44;               /* magic, one field; hash options and scale */
    at = skip_str(b, at) + 20;  /* "PTHTFIDF", version, 4 flags */
    uint64_t ncols = get_le(b, at, 8);
    o->lin_idf = at + 16;
    at += 16 + 8 * ncols;       /* ncols, idf count, values */
    at += 8 + 8 * (get_le(b, at, 8) + 1);
    at = skip_str(b, at) + 8;   /* "PTHLIN", version, kind */
    o->lin_d = at;
    at += 24;
    at += 8 + get_le(b, at, 8); /* column list */
    o->lin_vals = at + 8;
}

static clf_offsets walk_classifier(const char *b)
{
    clf_offsets o = {0};
    size_t at = skip_str(b, 8); /* magic, version, task */
    uint64_t L = get_le(b, at + 4, 4);
    at += 8;
    for (uint64_t k = 0; k < L; k++)
        at = skip_str(b, at);
    o.thr = at + 8;
    o.w_ft = at + 8 + 8 * L;
    at = o.w_ft + 8 + 4; /* w_ft, has_cal */
    if (get_le(b, at - 4, 4))
        at += 8 + 8 * get_le(b, at, 8);
    at += 4; /* has_ft */
    if (get_le(b, at - 4, 4))
        at = walk_fasttext(b, at, &o);
    if (get_le(b, at, 4))
        walk_linear(b, at + 4, &o);
    return o;
}

/* The load of b with one edit applied must fail with a format error. */
static void check_rejected(const char *b, size_t len, const char *what)
{
    pth_error err = {0};
    pth_textclf *m = pth_textclf_load_buffer(b, len, "edited", &err);
    CHECK(m == NULL);
    CHECK(err.code == PTH_ERR_FORMAT && err.msg[0] != '\0');
    if (m) {
        fprintf(stderr, "%s: loaded\n", what);
        pth_textclf_free(m);
    }
}

/* Positive control for an edit site: a plausible value there still loads (so the walk found
 * the right field and the rejections below are about the values). */
static void check_accepted(const char *b, size_t len, const char *what)
{
    pth_error err = {0};
    pth_textclf *m = pth_textclf_load_buffer(b, len, "edited", &err);
    CHECK(m != NULL);
    if (!m)
        fprintf(stderr, "%s: %s\n", what, err.msg);
    pth_textclf_free(m);
}

static void test_buffer_matches_file(void)
{
    const char *seeds[3] = {"goemo.ptxc", "meld_ctx.ptxc", "meld_transfer.ptxc"};
    for (int s = 0; s < 3; s++) {
        char rel[256];
        size_t len = 0;
        char *b = read_seed(seeds[s], &len);
        CHECK(b != NULL);
        if (!b)
            continue;
        snprintf(rel, sizeof rel, "fuzz/corpus/textmodel/%s", seeds[s]);
        pth_error err = {0};
        pth_textclf *f = pth_textclf_load(pth_test_source(rel), &err);
        pth_textclf *m = pth_textclf_load_buffer(b, len, NULL, &err);
        CHECK(f != NULL && m != NULL);
        if (f && m) {
            size_t L = pth_textclf_nlabels(m);
            double P[2 * 1024], Q[2 * 1024];
            CHECK(L == pth_textclf_nlabels(f) && L <= 1024);
            CHECK_OK(pth_textclf_score_dialogue(m, 2, texts, NULL, P, &err), &err);
            CHECK_OK(pth_textclf_score_dialogue(f, 2, texts, NULL, Q, &err), &err);
            for (size_t k = 0; k < 2 * L; k++)
                CHECK(P[k] == Q[k] && P[k] >= 0 && P[k] <= 1);
        }
        pth_textclf_free(f);
        pth_textclf_free(m);
        /* Truncated anywhere: an error that names the buffer. */
        pth_textclf *t = pth_textclf_load_buffer(b, len / 2, NULL, &err);
        CHECK(t == NULL && err.code == PTH_ERR_FORMAT && strstr(err.msg, "<buffer>") != NULL);
        free(b);
    }
}

/* Non-finite thresholds and ensemble weights, and fastText weights (finite but huge ones
 * overflow float scores): before the fix these loaded and scored NaN. */
static void test_fasttext_checks(void)
{
    size_t len = 0;
    char *b = read_seed("goemo.ptxc", &len);
    CHECK(b != NULL);
    if (!b)
        return;
    clf_offsets o = walk_classifier(b);
    char *e = malloc(len);
    memcpy(e, b, len);
    put_f64(e, o.w_ft, 0.25);
    put_f64(e, o.thr, 0.125);
    const float ok_a = 0.5f;
    memcpy(e + o.ft_a, &ok_a, 4);
    check_accepted(e, len, "fastText control");
    const double bad_w[3] = {NAN, -0.5, 1.5};
    for (int k = 0; k < 3; k++) {
        memcpy(e, b, len);
        put_f64(e, o.w_ft, bad_w[k]);
        check_rejected(e, len, "ensemble weight");
    }
    memcpy(e, b, len);
    put_f64(e, o.thr, NAN);
    check_rejected(e, len, "threshold");
    const float bad_a[2] = {INFINITY, 1e30f};
    for (int k = 0; k < 2; k++) {
        memcpy(e, b, len);
        memcpy(e + o.ft_a, &bad_a[k], 4);
        check_rejected(e, len, "fastText weight");
    }
    /* Two fields: scoring one text per document would read past the caller's array. */
    memcpy(e, b, len);
    e[o.ft_nfields] = 2;
    check_rejected(e, len, "fastText fields");
    free(e);
    free(b);
}

/* The linear part: idf and coefficients must be finite and plausible, and a header shape that
 * disagrees with the TF-IDF columns fails before the dense coefficients are allocated (a
 * 2^31-cell model was accepted from a few bytes before). */
static void test_linear_checks(void)
{
    size_t len = 0;
    char *b = read_seed("meld_ctx.ptxc", &len);
    CHECK(b != NULL);
    if (!b)
        return;
    clf_offsets o = walk_classifier(b);
    CHECK(o.lin_vals > 0 && o.lin_vals < len);
    char *e = malloc(len);
    memcpy(e, b, len);
    put_f64(e, o.lin_idf, 2.0);
    put_f64(e, o.lin_vals, 0.5);
    check_accepted(e, len, "linear control");
    memcpy(e, b, len);
    put_f64(e, o.lin_idf, 1e300);
    check_rejected(e, len, "idf");
    memcpy(e, b, len);
    put_f64(e, o.lin_vals, NAN);
    check_rejected(e, len, "coefficient");
    memcpy(e, b, len);
    put_f64(e, o.lin_vals, 1e200);
    check_rejected(e, len, "coefficient");
    memcpy(e, b, len);
    uint64_t d = (uint64_t)1 << 31;
    memcpy(e + o.lin_d, &d, 8);
    check_rejected(e, len, "linear shape");
    free(e);
    free(b);
}

static void test_regressor_buffer(void)
{
    size_t len = 0;
    char *b = read_seed("newsemp.ptxr", &len);
    CHECK(b != NULL);
    if (!b)
        return;
    pth_error err = {0};
    pth_textreg *m = pth_textreg_load_buffer(b, len, "newsemp", &err);
    CHECK(m != NULL);
    if (m) {
        pth_textreg_pred p[2];
        CHECK_OK(pth_textreg_predict(m, 2, texts, p, &err), &err);
        for (int i = 0; i < 2; i++)
            for (int t = 0; t < 2; t++)
                CHECK(p[i].lo[t] >= 1 && p[i].lo[t] <= p[i].value[t] && p[i].value[t] <= p[i].hi[t] &&
                      p[i].hi[t] <= 7);
        pth_textreg_free(m);
    }
    CHECK(pth_textreg_load_buffer(b, len - 1, "newsemp", &err) == NULL && err.code == PTH_ERR_FORMAT &&
          strstr(err.msg, "newsemp") != NULL);
    /* A classifier is not a regressor and vice versa. */
    CHECK(pth_textclf_load_buffer(b, len, NULL, &err) == NULL && err.code == PTH_ERR_FORMAT);
    free(b);
}

int main(void)
{
    test_buffer_matches_file();
    test_fasttext_checks();
    test_linear_checks();
    test_regressor_buffer();
    return pth_test_finish();
}
