/* The sparse linear text model of the emotion tasks: per-field hashed TF-IDF blocks
 * (pathos/text.h) side by side, one-vs-rest L2 logistic regression on top. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hugemem.h"
#include "text/linear_internal.h"
#include "text/textemo_internal.h"

#define TXL_MAGIC 0x314C5854u /* "TXL1" */

double txe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void txl_init(txl_model *m, size_t nfields, unsigned bits, double ctx_scale)
{
    memset(m, 0, sizeof *m);
    /* The solver's defaults.  (With L-BFGS a looser tolerance, 1e-4, saved little time and
     * cost about 0.01 GoEmotions test macro-F1; with the Newton solver it costs nothing on
     * dev, and GoEmotions uses it: pth_goemo_config.linear_tol.) */
    m->tol = 1e-6;
    m->max_iter = 500;
    m->nfields = nfields < 1 ? 1 : nfields > TXL_MAXFIELDS ? TXL_MAXFIELDS : nfields;
    for (size_t f = 0; f < m->nfields; f++) {
        pth_hash_options *o = &m->ho[f];
        pth_hash_options_default(o);
        if (f == 0) {
            o->word_bits = bits;
            o->char_bits = bits;
            o->char_min = 2;
            o->char_max = 5;
        } else {
            /* Context fields: words only, smaller blocks, own hash seed. */
            o->word_bits = bits > 4 ? bits - 2 : bits;
            o->char_bits = 0;
            o->seed = (uint32_t)(0x51ED27u * f);
        }
        m->field_scale[f] = f == 0 ? 1.0 : ctx_scale;
    }
}

/* Builds m->coefT from m->lin with up to `threads` threads; -1 when out of memory. */
static int build_coefT(txl_model *m, int threads)
{
    size_t d = m->lin.d, K = m->lin.n_out;
    free(m->coefT);
    m->coefT = pth_huge_alloc(d * K * sizeof(float) + 1);
    if (!m->coefT)
        return -1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (long long j = 0; j < (long long)d; j++)
        for (size_t k = 0; k < K; k++)
            m->coefT[(size_t)j * K + k] = (float)m->lin.coef[k * d + (size_t)j];
    return 0;
}

void txl_free(txl_model *m)
{
    free(m->coefT);
    for (size_t f = 0; f < m->nfields; f++)
        pth_tfidf_free(&m->tf[f]);
    pth_linear_free(&m->lin);
    memset(m, 0, sizeof *m);
}

/* TF-IDF matrix of one field (fit the idf first when `fit`).  X is zeroed ({0}) or a
 * matrix from an earlier call, whose storage is reused. */
static int field_matrix(txl_model *m, size_t f, int fit, size_t n, const char *const *fields, pth_csr *X,
                        pth_error *err)
{
    const char **texts = malloc((n + 1) * sizeof *texts);
    if (!texts)
        return pth_fail(err, PTH_ERR_NOMEM, "text model: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = fields[i * m->nfields + f];
        texts[i] = s ? s : "";
    }
    size_t ncols = pth_hash_ncols(&m->ho[f]);
    int rc = 0;
    if (X->indptr && X->ncols == ncols)
        pth_csr_clear(X);
    else {
        pth_csr_free(X);
        rc = pth_csr_init(X, ncols, err);
    }
    if (!rc)
        rc = pth_text_hash_corpus(&m->ho[f], NULL, texts, n, X, err);
    free(texts);
    if (!rc && fit) {
        size_t bs[3];
        size_t nb = pth_hash_blocks(&m->ho[f], bs);
        pth_tfidf_options to;
        pth_tfidf_options_default(&to);
        rc = pth_tfidf_fit(&m->tf[f], X, &to, bs, nb, err);
    }
    if (!rc)
        rc = pth_tfidf_transform(&m->tf[f], X, err);
    if (!rc && m->field_scale[f] != 1.0) {
        float s = (float)m->field_scale[f];
        for (size_t j = 0; j < X->indptr[X->nrows]; j++)
            X->data[j] *= s;
    }
    if (rc)
        pth_csr_free(X);
    return rc;
}

/* All fields side by side; X as in field_matrix. */
static int featurize(txl_model *m, int fit, size_t n, const char *const *fields, pth_csr *X, pth_error *err)
{
    int rc = field_matrix(m, 0, fit, n, fields, X, err);
    for (size_t f = 1; f < m->nfields && !rc; f++) {
        pth_csr B = {0}, out;
        rc = field_matrix(m, f, fit, n, fields, &B, err);
        if (rc)
            break;
        rc = pth_csr_hstack(X, &B, NULL, 0, &out, err);
        pth_csr_free(&B);
        if (rc)
            break;
        pth_csr_free(X);
        *X = out;
    }
    if (rc)
        pth_csr_free(X);
    return rc;
}

int txl_fit(txl_model *m, size_t n, const char *const *fields, const unsigned char *Y, size_t L, double C,
            int threads, pth_error *err)
{
    pth_csr X = {0};
    int rc = featurize(m, 1, n, fields, &X, err);
    if (rc)
        return rc;
    pth_logreg_options o;
    pth_logreg_options_default(&o);
    o.C = C;
    o.threads = threads;
    o.tol = m->tol;
    o.max_iter = m->max_iter;
    rc = pth_logreg_fit(&X, Y, L, &o, &m->lin, err);
    pth_csr_free(&X);
    if (!rc && build_coefT(m, threads > 0 ? threads : 1))
        rc = pth_fail(err, PTH_ERR_NOMEM, "text model: out of memory");
    return rc;
}

/* Scores the rows of X into proba (K per row).  The weight rows of a document's features are
 * scattered over a table far larger than the caches, so each is prefetched a few features
 * ahead of its use. */
static void score_rows(const txl_model *m, const pth_csr *X, double *proba)
{
    size_t K = m->lin.n_out;
    for (size_t i = 0; i < X->nrows; i++) {
        double *out = proba + i * K;
        for (size_t k = 0; k < K; k++)
            out[k] = m->lin.intercept[k];
        size_t end = X->indptr[i + 1];
        for (size_t q = X->indptr[i]; q < end; q++) {
            if (q + 8 < end) {
                const float *ahead = m->coefT + (size_t)X->indices[q + 8] * K;
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + K - 1);
            }
            const float *w = m->coefT + (size_t)X->indices[q] * K;
            double v = X->data[q];
            for (size_t k = 0; k < K; k++)
                out[k] += v * w[k];
        }
        for (size_t k = 0; k < K; k++)
            out[k] = 1.0 / (1.0 + exp(-out[k]));
    }
}

/* Texts are featurised and scored a chunk at a time: memory stays bounded and the chunk's
 * sparse rows are still in cache when they are scored.  Rows are independent, so the
 * probabilities do not depend on the chunk size. */
#define TXL_PREDICT_CHUNK 1024

int txl_predict(const txl_model *m, size_t n, const char *const *fields, double *proba, pth_error *err)
{
    if (!m->coefT)
        return pth_fail(err, PTH_ERR_INVALID, "text model: not fitted");
    pth_csr X = {0};
    int rc = 0;
    for (size_t lo = 0; lo < n && !rc; lo += TXL_PREDICT_CHUNK) {
        size_t nc = n - lo < TXL_PREDICT_CHUNK ? n - lo : TXL_PREDICT_CHUNK;
        /* featurize() only writes m's tf-idf when fitting. */
        if ((rc = featurize((txl_model *)m, 0, nc, fields + lo * m->nfields, &X, err)) != 0)
            break;
        if (X.ncols != m->lin.d)
            rc = pth_fail(err, PTH_ERR_INVALID, "text model: %zu feature columns, the model has %zu", X.ncols,
                          m->lin.d);
        else
            score_rows(m, &X, proba + lo * m->lin.n_out);
    }
    pth_csr_free(&X);
    return rc;
}

void txl_save(const txl_model *m, pth_blob_writer *w)
{
    pth_blob_u32(w, TXL_MAGIC);
    pth_blob_u32(w, (uint32_t)m->nfields);
    for (size_t f = 0; f < m->nfields; f++) {
        const pth_hash_options *o = &m->ho[f];
        pth_blob_u32(w, o->word_bits);
        pth_blob_u32(w, o->word_min);
        pth_blob_u32(w, o->word_max);
        pth_blob_u32(w, o->char_bits);
        pth_blob_u32(w, o->char_min);
        pth_blob_u32(w, o->char_max);
        pth_blob_u32(w, o->seed);
        pth_blob_i32(w, o->negation);
        pth_blob_i32(w, o->alternate_sign);
        pth_blob_f64(w, m->field_scale[f]);
        pth_tfidf_save(&m->tf[f], w);
    }
    pth_linear_save(&m->lin, w);
}

/* Trained logistic weights stay far below this; the bound keeps the float copy (coefT) and
 * every score finite, so a corrupt model cannot produce NaN probabilities. */
#define TXL_MAXWEIGHT 1e6

int txl_load(txl_model *m, pth_blob_reader *r, size_t n_out, pth_error *err)
{
    memset(m, 0, sizeof *m);
    if (pth_blob_read_u32(r) != TXL_MAGIC)
        pth_blob_reader_fail(r, "not a pathos linear text model (bad magic)");
    uint32_t nf = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && (nf < 1 || nf > TXL_MAXFIELDS))
        pth_blob_reader_fail(r, "linear text model: %u fields (1..%d allowed)", nf, TXL_MAXFIELDS);
    if (!pth_blob_reader_ok(r))
        return pth_blob_reader_status(r, err);
    m->nfields = nf;
    int rc = 0;
    for (size_t f = 0; f < m->nfields && !rc; f++) {
        pth_hash_options *o = &m->ho[f];
        o->word_bits = pth_blob_read_u32(r);
        o->word_min = pth_blob_read_u32(r);
        o->word_max = pth_blob_read_u32(r);
        o->char_bits = pth_blob_read_u32(r);
        o->char_min = pth_blob_read_u32(r);
        o->char_max = pth_blob_read_u32(r);
        o->seed = pth_blob_read_u32(r);
        o->negation = pth_blob_read_i32(r);
        o->alternate_sign = pth_blob_read_i32(r);
        m->field_scale[f] = pth_blob_read_f64(r);
        if (pth_blob_reader_ok(r) && (o->word_bits > 26 || o->char_bits > 26 || o->word_max > 8 ||
                                      o->char_max > 16 || o->word_min > o->word_max || o->char_min > o->char_max)) {
            pth_blob_reader_fail(r, "linear text model: invalid hashing options for field %zu", f);
        }
        if (!pth_blob_reader_ok(r))
            rc = pth_blob_reader_status(r, err);
        else
            rc = pth_tfidf_load(&m->tf[f], r, err);
        if (!rc && m->tf[f].ncols != pth_hash_ncols(o))
            rc = pth_fail(err, PTH_ERR_FORMAT, "linear text model: field %zu has %zu tf-idf columns, expected %zu", f,
                          m->tf[f].ncols, pth_hash_ncols(o));
    }
    size_t d = 0;
    for (size_t f = 0; f < m->nfields; f++)
        d += m->tf[f].ncols;
    if (!rc && d == 0) /* 0 would mean "any shape" below */
        rc = pth_fail(err, PTH_ERR_FORMAT, "linear text model without feature columns");
    if (!rc)
        rc = pth_linear_load_shape(&m->lin, r, d, n_out, err);
    if (!rc && m->lin.kind != PTH_LINEAR_LOGREG)
        rc = pth_fail(err, PTH_ERR_FORMAT, "linear text model: not a logistic model");
    if (!rc && !(pth_blob_f64s_within(m->lin.coef, m->lin.d * m->lin.n_out, TXL_MAXWEIGHT) &&
                 pth_blob_f64s_within(m->lin.intercept, m->lin.n_out, TXL_MAXWEIGHT)))
        rc = pth_fail(err, PTH_ERR_FORMAT, "%s: linear text model: weights not finite or larger than %g", r->what,
                      TXL_MAXWEIGHT);
    if (!rc && build_coefT(m, 1))
        rc = pth_fail(err, PTH_ERR_NOMEM, "linear text model: out of memory");
    if (rc)
        txl_free(m);
    return rc;
}
