/* Saved NewsEmp regressor (see pathos/textreg.h); the fitting lives in newsemp.c.
 *
 * Layout (little-endian, pathos/blob.h primitives):
 *   u32 "PTXR", u32 version (2; version 1 files, which end before "partner", still load),
 *   hash options: u32 word_bits word_min word_max char_bits char_min char_max seed,
 *                 i32 negation, i32 alternate_sign,
 *   str vader_path ("" = none), str afinn_dir ("" = none),
 *   u64 n_train, f64 miscoverage,
 *   tfidf (pth_tfidf_save),
 *   f64s mean (NDENSE), f64s sd (NDENSE),
 *   bytes cols (nnz x u32 little-endian, ascending, < columns),
 *   4 x { f64s w (nnz), f64s dw (NDENSE), f64 b }     models: base emp, base dis, sigma emp, sigma dis
 *   2 x { f64 beta0 beta1 beta2, f64 qn, f64 floor, f64 alpha, f64 word_w, f64 dense_w }
 *   u32 partner (0: none, 1: the Gaussian blend partner of newsemp_internal.h follows),
 *     f64 gamma, 2 x { f64 ww, wd, alpha, b, beta0, beta1, beta2, f64s a (n_train) },
 *     bytes row lengths (n_train x u32), bytes support positions (x u32, ascending per row),
 *     f32s TF-IDF values, f64s standardised dense rows (n_train x NDENSE)
 *   u32 end marker "RXTP".
 * The prediction is the linear model's stacked value, or with a partner the mean of it and
 * the partner's; the interval half-width is qn sigma(x) either way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newsemp_internal.h"
#include "pathos/io.h"
#include "pathos/textreg.h"

#define TXR_MAGIC 0x52585450u /* "PTXR" */
#define TXR_END 0x50545852u   /* "RXTP" */
#define TXR_VERSION 2u
#define ND PTH_NEWSEMP_NDENSE

struct pth_textreg {
    pth_newsemp_fit f;
    char *vader_path, *afinn_dir; /* NULL: none */
    pth_lexicon *vader, *afinn;
    uint32_t *pos; /* column -> support position, UINT32_MAX when absent */
    size_t split;  /* first char column of the hashing (word columns lie below) */
};

void pth_textreg_free(pth_textreg *m)
{
    if (!m)
        return;
    pth_newsemp_fit_free(&m->f);
    free(m->vader_path);
    free(m->afinn_dir);
    pth_lexicon_free(m->vader);
    pth_lexicon_free(m->afinn);
    free(m->pos);
    free(m);
}

static char *dup_opt(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Lexicons and the column lookup, shared by train and load. */
static int finish(pth_textreg *m, pth_error *err)
{
    int rc = pth_newsemp_load_lexicons(m->vader_path, m->afinn_dir, &m->vader, &m->afinn, err);
    if (rc)
        return rc;
    size_t ncols = pth_hash_ncols(&m->f.hash);
    m->pos = malloc(ncols * sizeof *m->pos);
    if (!m->pos)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    memset(m->pos, 0xff, ncols * sizeof *m->pos);
    for (size_t s = 0; s < m->f.nnz; s++)
        m->pos[m->f.cols[s]] = (uint32_t)s;
    m->split = pth_newsemp_word_split(&m->f.hash);
    return PTH_OK;
}

pth_textreg *pth_textreg_train(const pth_newsemp *d, const pth_newsemp_options *o, pth_error *err)
{
    pth_textreg *m = calloc(1, sizeof *m);
    if (!m) {
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    m->vader_path = dup_opt(o->vader_path);
    m->afinn_dir = dup_opt(o->afinn_dir);
    int rc = ((o->vader_path && *o->vader_path && !m->vader_path) || (o->afinn_dir && *o->afinn_dir && !m->afinn_dir))
                 ? pth_fail(err, PTH_ERR_NOMEM, "out of memory")
                 : PTH_OK;
    /* The saved format holds the lexicon / statistics dense block only (transfer features did
     * not help NewsEmp, see bench/RESULTS-text-newsemp.md, and would need their model inside). */
    if (!rc && o->transfer)
        rc = pth_fail(err, PTH_ERR_UNSUPPORTED, "a saved NewsEmp regressor does not support GoEmotions transfer features");
    if (!rc)
        rc = pth_newsemp_fit_all(d, o, &m->f, err);
    if (!rc)
        rc = finish(m, err);
    if (rc) {
        pth_textreg_free(m);
        return NULL;
    }
    return m;
}

double pth_textreg_level(const pth_textreg *m) { return 1.0 - m->f.miscoverage; }
size_t pth_textreg_ntrain(const pth_textreg *m) { return m->f.n_train; }

void pth_textreg_hyper(const pth_textreg *m, int t, double *alpha, double *word_w, double *dense_w)
{
    size_t k = t == 1 ? 1 : 0;
    if (alpha)
        *alpha = m->f.alpha[k];
    if (word_w)
        *word_w = m->f.word_w[k];
    if (dense_w)
        *dense_w = m->f.dense_w[k];
}

static double clip17(double v)
{
    return v < 1.0 ? 1.0 : (v > 7.0 ? 7.0 : v);
}

int pth_textreg_predict(const pth_textreg *m, size_t n, const char *const *texts, pth_textreg_pred *out,
                        pth_error *err)
{
    if (n == 0)
        return PTH_OK;
    const pth_newsemp_fit *f = &m->f;
    pth_csr X = {0};
    double *D = malloc(n * ND * sizeof *D);
    /* The partner's query row, scattered onto support positions (cleared after each text). */
    double *qs = f->g.gamma > 0 ? calloc(f->nnz + 1, sizeof *qs) : NULL;
    if (!D || (f->g.gamma > 0 && !qs)) {
        free(D);
        free(qs);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    }
    int rc = pth_csr_init(&X, pth_hash_ncols(&f->hash), err);
    if (!rc)
        rc = pth_text_hash_corpus(&f->hash, NULL, texts, n, &X, err);
    if (!rc)
        rc = pth_tfidf_transform(&f->tfidf, &X, err);
    if (!rc && pth_newsemp_dense_features(texts, n, m->vader, m->afinn, D) != 0)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory computing lexicon features");
    for (size_t i = 0; i < n && !rc; i++) {
        double z[ND], s[4];
        pth_newsemp_dense_z(D + i * ND, f->mean, f->sd, z);
        for (int k = 0; k < 4; k++) {
            double v = f->b[k];
            for (size_t j = X.indptr[i]; j < X.indptr[i + 1]; j++) {
                uint32_t p = m->pos[X.indices[j]];
                if (p != UINT32_MAX)
                    v += f->w[k][p] * (double)X.data[j];
            }
            for (int q = 0; q < ND; q++)
                v += f->dw[k][q] * z[q];
            s[k] = v;
        }
        double gp[2] = {0, 0};
        if (qs) {
            double qw = 0, qc = 0;
            for (size_t j = X.indptr[i]; j < X.indptr[i + 1]; j++) {
                double v = (double)X.data[j];
                uint32_t p = m->pos[X.indices[j]];
                if (p != UINT32_MAX)
                    qs[p] = v;
                if (X.indices[j] < m->split)
                    qw += v * v;
                else
                    qc += v * v;
            }
            pth_newsemp_gauss_predict(&f->g, ND, qs, qw, qc, z, gp);
            for (size_t j = X.indptr[i]; j < X.indptr[i + 1]; j++) {
                uint32_t p = m->pos[X.indices[j]];
                if (p != UINT32_MAX)
                    qs[p] = 0;
            }
        }
        for (int t = 0; t < 2; t++) {
            double yhat = f->beta[t][0] + f->beta[t][1] * s[0] + f->beta[t][2] * s[1];
            if (qs)
                yhat = 0.5 * (yhat + gp[t]);
            double sig = s[2 + t] > f->floor_s[t] ? s[2 + t] : f->floor_s[t];
            if (isnan(yhat) || isnan(yhat - f->qn[t] * sig) || isnan(yhat + f->qn[t] * sig)) {
                rc = pth_fail(err, PTH_ERR_INVALID, "text %zu: prediction is not a number (corrupt model?)", i);
                break;
            }
            double v = clip17(yhat);
            out[i].value[t] = v;
            /* As in pth_newsemp_cv, clipped to the rating scale; the clipped point is kept inside. */
            out[i].lo[t] = fmin(v, clip17(yhat - f->qn[t] * sig));
            out[i].hi[t] = fmax(v, clip17(yhat + f->qn[t] * sig));
        }
    }
    pth_csr_free(&X);
    free(D);
    free(qs);
    return rc;
}

static void save_hash(pth_blob_writer *w, const pth_hash_options *h)
{
    pth_blob_u32(w, h->word_bits);
    pth_blob_u32(w, h->word_min);
    pth_blob_u32(w, h->word_max);
    pth_blob_u32(w, h->char_bits);
    pth_blob_u32(w, h->char_min);
    pth_blob_u32(w, h->char_max);
    pth_blob_u32(w, h->seed);
    pth_blob_i32(w, h->negation);
    pth_blob_i32(w, h->alternate_sign);
}

static void save_partner(pth_blob_writer *w, const pth_newsemp_gauss *g)
{
    pth_blob_u32(w, g->gamma > 0);
    if (!(g->gamma > 0))
        return;
    pth_blob_f64(w, g->gamma);
    for (int t = 0; t < 2; t++) {
        pth_blob_f64(w, g->ww[t]);
        pth_blob_f64(w, g->wd[t]);
        pth_blob_f64(w, g->alpha[t]);
        pth_blob_f64(w, g->b[t]);
        for (int j = 0; j < 3; j++)
            pth_blob_f64(w, g->beta[t][j]);
        pth_blob_f64s(w, g->a[t], g->n);
    }
    uint32_t *len = malloc((g->n + 1) * sizeof *len);
    if (!len)
        w->failed = 1;
    for (size_t j = 0; len && j < g->n; j++)
        len[j] = (uint32_t)(g->indptr[j + 1] - g->indptr[j]);
    pth_blob_u32s(w, len, len ? g->n : 0);
    free(len);
    size_t nnz = g->indptr[g->n];
    pth_blob_u32s(w, g->pos, nnz);
    pth_blob_f32s(w, g->val, nnz);
    pth_blob_f64s(w, g->Z, g->n * ND);
}

int pth_textreg_save(const pth_textreg *m, const char *path, pth_error *err)
{
    const pth_newsemp_fit *f = &m->f;
    pth_blob_writer w = {0};
    pth_blob_u32(&w, TXR_MAGIC);
    pth_blob_u32(&w, TXR_VERSION);
    save_hash(&w, &f->hash);
    pth_blob_str(&w, m->vader_path ? m->vader_path : "");
    pth_blob_str(&w, m->afinn_dir ? m->afinn_dir : "");
    pth_blob_u64(&w, f->n_train);
    pth_blob_f64(&w, f->miscoverage);
    pth_tfidf_save(&f->tfidf, &w);
    pth_blob_f64s(&w, f->mean, ND);
    pth_blob_f64s(&w, f->sd, ND);
    pth_blob_u32s(&w, f->cols, f->nnz);
    for (int k = 0; k < 4; k++) {
        pth_blob_f64s(&w, f->w[k], f->nnz);
        pth_blob_f64s(&w, f->dw[k], ND);
        pth_blob_f64(&w, f->b[k]);
    }
    for (int t = 0; t < 2; t++) {
        for (int j = 0; j < 3; j++)
            pth_blob_f64(&w, f->beta[t][j]);
        pth_blob_f64(&w, f->qn[t]);
        pth_blob_f64(&w, f->floor_s[t]);
        pth_blob_f64(&w, f->alpha[t]);
        pth_blob_f64(&w, f->word_w[t]);
        pth_blob_f64(&w, f->dense_w[t]);
    }
    save_partner(&w, &f->g);
    pth_blob_u32(&w, TXR_END);
    return pth_blob_write_file(&w, path, "the model", err);
}

int pth_textreg_is_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    unsigned char b[4] = {0};
    size_t got = fread(b, 1, 4, fp);
    fclose(fp);
    return got == 4 && ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24) == TXR_MAGIC;
}

static void load_hash(pth_blob_reader *r, pth_hash_options *h)
{
    h->word_bits = pth_blob_read_u32(r);
    h->word_min = pth_blob_read_u32(r);
    h->word_max = pth_blob_read_u32(r);
    h->char_bits = pth_blob_read_u32(r);
    h->char_min = pth_blob_read_u32(r);
    h->char_max = pth_blob_read_u32(r);
    h->seed = pth_blob_read_u32(r);
    h->negation = pth_blob_read_i32(r);
    h->alternate_sign = pth_blob_read_i32(r);
    if (pth_blob_reader_ok(r) &&
        (h->word_bits > 24 || h->char_bits > 24 || (h->word_bits == 0 && h->char_bits == 0) || h->word_min < 1 ||
         h->word_max < h->word_min || h->word_max > 8 || h->char_min < 1 || h->char_max < h->char_min ||
         h->char_max > 16 || h->negation < 0 || h->negation > 2))
        pth_blob_reader_fail(r, "invalid hashing options in the model");
}

/* The partner section (version 2), checked before any value can reach a score: finite and
 * bounded weights, row lengths that add up, support positions in range and ascending. */
static void load_partner(pth_blob_reader *r, pth_newsemp_fit *f, size_t nd)
{
    pth_newsemp_gauss *g = &f->g;
    uint32_t has = pth_blob_read_u32(r);
    if (!pth_blob_reader_ok(r) || has == 0)
        return;
    if (has != 1) {
        pth_blob_reader_fail(r, "bad partner flag %u", has);
        return;
    }
    double gamma = pth_blob_read_f64(r);
    if (pth_blob_reader_ok(r) && !(gamma > 0 && gamma < 1e6)) {
        pth_blob_reader_fail(r, "partner gamma %g out of range", gamma);
        return;
    }
    g->n = f->n_train;
    for (int t = 0; t < 2 && pth_blob_reader_ok(r); t++) {
        g->ww[t] = pth_blob_read_f64(r);
        g->wd[t] = pth_blob_read_f64(r);
        g->alpha[t] = pth_blob_read_f64(r);
        g->b[t] = pth_blob_read_f64(r);
        for (int j = 0; j < 3; j++)
            g->beta[t][j] = pth_blob_read_f64(r);
        g->a[t] = pth_blob_read_f64s(r, g->n);
        if (pth_blob_reader_ok(r) &&
            !(g->ww[t] >= 0 && g->ww[t] <= 1e6 && g->wd[t] >= 0 && g->wd[t] <= 1e6 && isfinite(g->alpha[t]) &&
              isfinite(g->b[t]) && pth_blob_f64s_within(g->beta[t], 3, HUGE_VAL) &&
              pth_blob_f64s_within(g->a[t], g->n, 1e12)))
            pth_blob_reader_fail(r, "invalid partner weights");
    }
    size_t nl = 0, np = 0;
    uint32_t *len = pth_blob_reader_ok(r) ? pth_blob_read_u32s(r, g->n, &nl, "partner row lengths") : NULL;
    if (len && nl != g->n)
        pth_blob_reader_fail(r, "partner has %zu row lengths for %zu rows", nl, g->n);
    g->indptr = pth_blob_reader_ok(r) ? malloc((g->n + 1) * sizeof *g->indptr) : NULL;
    if (pth_blob_reader_ok(r) && !g->indptr)
        pth_blob_reader_fail(r, "out of memory");
    if (g->indptr) {
        g->indptr[0] = 0;
        for (size_t j = 0; j < g->n; j++)
            g->indptr[j + 1] = g->indptr[j] + len[j];
    }
    free(len);
    /* Each row holds at most one value per support column. */
    if (g->indptr && pth_blob_reader_ok(r)) {
        size_t total = g->indptr[g->n];
        g->pos = pth_blob_read_u32s(r, total, &np, "partner support positions");
        if (pth_blob_reader_ok(r) && np != total)
            pth_blob_reader_fail(r, "partner has %zu support positions, its row lengths add up to %zu", np, total);
        for (size_t j = 0; j < g->n && pth_blob_reader_ok(r); j++)
            for (size_t k = g->indptr[j]; k < g->indptr[j + 1]; k++)
                if (g->pos[k] >= f->nnz || (k > g->indptr[j] && g->pos[k] <= g->pos[k - 1])) {
                    pth_blob_reader_fail(r, "partner row %zu: support positions not ascending or out of range", j);
                    break;
                }
        g->val = pth_blob_read_f32s(r, total);
        if (pth_blob_reader_ok(r) && !pth_blob_f32s_within(g->val, total, 1e3f))
            pth_blob_reader_fail(r, "invalid partner TF-IDF values");
        g->Z = pth_blob_read_f64s(r, g->n * nd);
        if (pth_blob_reader_ok(r) && !pth_blob_f64s_within(g->Z, g->n * nd, 1e3))
            pth_blob_reader_fail(r, "invalid partner dense rows");
    }
    if (!pth_blob_reader_ok(r))
        return;
    if (pth_newsemp_gauss_prepare(g, f->cols, pth_newsemp_word_split(&f->hash), nd) != 0)
        pth_blob_reader_fail(r, "out of memory");
    else
        g->gamma = gamma;
}

pth_textreg *pth_textreg_load_buffer(const void *buf, size_t len, const char *name, pth_error *err)
{
    pth_textreg *m = calloc(1, sizeof *m);
    if (!m) {
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pth_newsemp_fit *f = &m->f;
    pth_blob_reader r;
    pth_blob_reader_init(&r, buf, len, name);
    int rc = PTH_OK, have_tfidf = 0;
    if (pth_blob_read_u32(&r) != TXR_MAGIC)
        pth_blob_reader_fail(&r, "not a pathos NewsEmp regressor (bad magic)");
    uint32_t ver = pth_blob_read_u32(&r);
    if (pth_blob_reader_ok(&r) && (ver < 1 || ver > TXR_VERSION))
        pth_blob_reader_fail(&r, "unsupported NewsEmp regressor version %u (this build reads %u)", ver, TXR_VERSION);
    if (pth_blob_reader_ok(&r))
        load_hash(&r, &f->hash);
    char *vp = pth_blob_read_str(&r, 4095), *ad = pth_blob_read_str(&r, 4095);
    m->vader_path = dup_opt(vp);
    m->afinn_dir = dup_opt(ad);
    free(vp);
    free(ad);
    f->n_train = (size_t)pth_blob_read_u64(&r);
    f->miscoverage = pth_blob_read_f64(&r);
    if (pth_blob_reader_ok(&r) && !(f->miscoverage > 0 && f->miscoverage < 1))
        pth_blob_reader_fail(&r, "miscoverage %g out of range", f->miscoverage);
    size_t ncols = pth_blob_reader_ok(&r) ? pth_hash_ncols(&f->hash) : 0;
    if (pth_blob_reader_ok(&r)) {
        rc = pth_tfidf_load(&f->tfidf, &r, err);
        have_tfidf = rc == 0;
        if (!rc && f->tfidf.ncols != ncols)
            pth_blob_reader_fail(&r, "TF-IDF has %zu columns, the hashing options %zu", f->tfidf.ncols, ncols);
    }
    double *mean = NULL, *sd = NULL;
    if (!rc) {
        mean = pth_blob_read_f64s(&r, ND);
        sd = pth_blob_read_f64s(&r, ND);
    }
    f->ndense = ND;
    if (mean && sd && pth_blob_reader_ok(&r) &&
        !(pth_blob_f64s_within(mean, ND, HUGE_VAL) && pth_blob_f64s_within(sd, ND, HUGE_VAL)))
        pth_blob_reader_fail(&r, "non-finite dense-feature statistics");
    if (mean && sd) {
        memcpy(f->mean, mean, ND * sizeof *mean);
        memcpy(f->sd, sd, ND * sizeof *sd);
    }
    free(mean);
    free(sd);
    if (!rc)
        f->cols = pth_blob_read_u32s(&r, ncols, &f->nnz, "column list");
    for (size_t s = 0; f->cols && s < f->nnz && pth_blob_reader_ok(&r); s++)
        if (f->cols[s] >= ncols || (s > 0 && f->cols[s] <= f->cols[s - 1]))
            pth_blob_reader_fail(&r, "column list not ascending or out of range");
    for (int k = 0; k < 4 && !rc && pth_blob_reader_ok(&r); k++) {
        f->w[k] = pth_blob_read_f64s(&r, f->nnz);
        double *dw = pth_blob_read_f64s(&r, ND);
        if (dw)
            memcpy(f->dw[k], dw, ND * sizeof *dw);
        free(dw);
        f->b[k] = pth_blob_read_f64(&r);
        if (pth_blob_reader_ok(&r) && !(pth_blob_f64s_within(f->w[k], f->nnz, HUGE_VAL) &&
                                        pth_blob_f64s_within(f->dw[k], ND, HUGE_VAL) && isfinite(f->b[k])))
            pth_blob_reader_fail(&r, "non-finite weights");
    }
    for (int t = 0; t < 2 && !rc; t++) {
        for (int j = 0; j < 3; j++)
            f->beta[t][j] = pth_blob_read_f64(&r);
        f->qn[t] = pth_blob_read_f64(&r);
        f->floor_s[t] = pth_blob_read_f64(&r);
        f->alpha[t] = pth_blob_read_f64(&r);
        f->word_w[t] = pth_blob_read_f64(&r);
        f->dense_w[t] = pth_blob_read_f64(&r);
        if (pth_blob_reader_ok(&r) && !(pth_blob_f64s_within(f->beta[t], 3, HUGE_VAL) && f->qn[t] >= 0 &&
                                         f->floor_s[t] > 0 && isfinite(f->floor_s[t])))
            pth_blob_reader_fail(&r, "invalid stacking or interval parameters");
    }
    if (!rc && ver >= 2 && pth_blob_reader_ok(&r))
        load_partner(&r, f, ND);
    if (!rc && pth_blob_read_u32(&r) != TXR_END)
        pth_blob_reader_fail(&r, "missing end marker (truncated or corrupt file)");
    if (!rc && pth_blob_reader_ok(&r) && r.pos != r.len)
        pth_blob_reader_fail(&r, "%zu trailing bytes", r.len - r.pos);
    if (!rc && !pth_blob_reader_ok(&r))
        rc = pth_blob_reader_status(&r, err);
    if (!rc)
        rc = finish(m, err);
    if (rc) {
        if (!have_tfidf)
            memset(&f->tfidf, 0, sizeof f->tfidf);
        pth_textreg_free(m);
        return NULL;
    }
    return m;
}

pth_textreg *pth_textreg_load(const char *path, pth_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (pth_read_file(path, (size_t)1 << 33, &buf, &len, err))
        return NULL;
    pth_textreg *m = pth_textreg_load_buffer(buf, len, path, err);
    free(buf);
    return m;
}
