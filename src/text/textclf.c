/* The saved text emotion classifier (include/pathos/textclf.h) and the stacked context
 * level's multinomial logistic regression. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/blob.h"
#include "pathos/fasttext.h"
#include "pathos/io.h"
#include "pathos/textemo.h"
#include "pathos/textmetrics.h"
#include "text/textemo_internal.h"

#define TXC_MAGIC 0x43585450u /* "PTXC" */
/* 2: GoEmotions transfer model of the stacked level; 3: with transfer and context, the stacked
 * level's context inputs are the previous turns only (txm_l2_features); 4: a doc_stats flag
 * (the stacked level's inputs end with document statistics).  1..3 still read (doc_stats 0),
 * except a version-2 model with both transfer and context (its inputs had another layout). */
#define TXC_VERSION 4u
#define TXC_MAXLABELS 1024

/* ------------------------------------------------------------------ second level */

void txe_l2_free(txe_l2 *m)
{
    if (!m)
        return;
    free(m->mu), free(m->sd), free(m->W);
    memset(m, 0, sizeof *m);
}

static void l2_standardise(const txe_l2 *m, const double *f, double *z)
{
    for (size_t j = 0; j < m->nf; j++)
        z[j] = (f[j] - m->mu[j]) / m->sd[j];
    z[m->nf] = 1;
}

static void softmax_row(const double *W, const double *z, size_t d, size_t K, double *p)
{
    double mx = -HUGE_VAL, s = 0;
    for (size_t k = 0; k < K; k++) {
        double v = 0;
        for (size_t j = 0; j < d; j++)
            v += W[k * d + j] * z[j];
        p[k] = isnan(v) ? -HUGE_VAL : v;
        mx = p[k] > mx ? p[k] : mx;
    }
    /* Finite weights can still overflow on an extreme input (a standardised feature far out
     * in the tail): an infinite logit takes all the mass (shared among ties), and a row
     * without any usable logit gets the uniform distribution rather than NaN. */
    if (isinf(mx)) {
        for (size_t k = 0; k < K; k++)
            s += (p[k] = mx > 0 ? (double)(p[k] == mx) : 1.0);
    } else {
        for (size_t k = 0; k < K; k++)
            s += (p[k] = exp(p[k] - mx));
    }
    for (size_t k = 0; k < K; k++)
        p[k] /= s;
}

/* Largest eigenvalue of Z^T Z / n by power iteration (bounds the loss' curvature). */
static double top_eigen(const double *Z, size_t n, size_t d, double *v, double *u)
{
    for (size_t j = 0; j < d; j++)
        v[j] = 1.0 / sqrt((double)d);
    double lam = 1;
    for (int it = 0; it < 30; it++) {
        memset(u, 0, d * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += Z[i * d + j] * v[j];
            for (size_t j = 0; j < d; j++)
                u[j] += s * Z[i * d + j];
        }
        double nu = 0;
        for (size_t j = 0; j < d; j++)
            nu += u[j] * u[j];
        nu = sqrt(nu);
        if (nu <= 0)
            break;
        lam = nu / (double)n;
        for (size_t j = 0; j < d; j++)
            v[j] = u[j] / nu;
    }
    return lam;
}

/* Gradient of the mean cross-entropy + lambda/2 ||W||^2 (intercepts unpenalised). */
static void l2_gradient(const double *Z, const int *y, size_t n, size_t d, size_t K, const double *W, double lambda,
                        double *p, double *G)
{
    memset(G, 0, K * d * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * d;
        softmax_row(W, z, d, K, p);
        p[y[i]] -= 1;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++)
                G[k * d + j] += p[k] * z[j];
    }
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < d; j++)
            G[k * d + j] = G[k * d + j] / (double)n + (j + 1 < d ? lambda * W[k * d + j] : 0);
}

static void standardise_fit(txe_l2 *m, const double *F, size_t n)
{
    size_t nf = m->nf;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < nf; j++)
            m->mu[j] += F[i * nf + j] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < nf; j++)
            m->sd[j] += (F[i * nf + j] - m->mu[j]) * (F[i * nf + j] - m->mu[j]) / (double)n;
    for (size_t j = 0; j < nf; j++)
        m->sd[j] = m->sd[j] > 1e-12 ? sqrt(m->sd[j]) : 1;
}

int txe_l2_fit(const double *F, const int *y, size_t n, size_t nf, size_t K, double lambda, int iters, txe_l2 *m)
{
    size_t d = nf + 1;
    memset(m, 0, sizeof *m);
    m->nf = nf;
    m->K = K;
    m->mu = calloc(nf + 1, sizeof(double));
    m->sd = calloc(nf + 1, sizeof(double));
    m->W = calloc(K * d, sizeof(double));
    double *Z = malloc(n * d * sizeof(double) + 1), *G = malloc(K * d * sizeof(double));
    double *V = calloc(K * d, sizeof(double)), *Wp = calloc(K * d, sizeof(double));
    double *ev = malloc((2 * d + K) * sizeof(double));
    int rc = 0;
    if (!m->mu || !m->sd || !m->W || !Z || !G || !V || !Wp || !ev) {
        rc = -1;
        goto done;
    }
    standardise_fit(m, F, n);
    for (size_t i = 0; i < n; i++)
        l2_standardise(m, F + i * nf, Z + i * d);
    /* Softmax cross-entropy curvature <= 0.5 * lambda_max(Z^T Z / n), plus the penalty. */
    double step = 1.0 / (0.5 * top_eigen(Z, n, d, ev, ev + d) + lambda);
    /* Nesterov: V is the look-ahead point, Wp the last iterate. */
    for (int it = 0; it < iters; it++) {
        l2_gradient(Z, y, n, d, K, V, lambda, ev + 2 * d, G);
        double mom = (double)it / (double)(it + 3);
        for (size_t j = 0; j < K * d; j++) {
            double w = V[j] - step * G[j];
            V[j] = w + mom * (w - Wp[j]);
            Wp[j] = w;
        }
    }
    memcpy(m->W, Wp, K * d * sizeof(double));
done:
    free(Z), free(G), free(V), free(Wp), free(ev);
    if (rc)
        txe_l2_free(m);
    return rc;
}

void txe_l2_predict(const txe_l2 *m, const double *F, size_t n, double *P)
{
    size_t d = m->nf + 1;
    double *z = malloc(d * sizeof(double));
    if (!z) { /* cannot happen for the small models here; keep P defined */
        for (size_t i = 0; i < n * m->K; i++)
            P[i] = 1.0 / (double)m->K;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        l2_standardise(m, F + i * m->nf, z);
        softmax_row(m->W, z, d, m->K, P + i * m->K);
    }
    free(z);
}

/* ------------------------------------------------------------------ classifier */

pth_textclf *txc_new(const char *task, int multilabel, size_t nlabels, const char *const *labels)
{
    pth_textclf *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    snprintf(m->task, sizeof m->task, "%s", task);
    m->multilabel = multilabel;
    m->nlabels = nlabels;
    m->labels = calloc(nlabels, sizeof(char *));
    m->thr = calloc(nlabels, sizeof(double));
    if (!m->labels || !m->thr) {
        pth_textclf_free(m);
        return NULL;
    }
    for (size_t k = 0; k < nlabels; k++)
        if (!(m->labels[k] = strdup(labels[k]))) {
            pth_textclf_free(m);
            return NULL;
        }
    return m;
}

void pth_textclf_free(pth_textclf *m)
{
    if (!m)
        return;
    if (m->labels)
        for (size_t k = 0; k < m->nlabels; k++)
            free(m->labels[k]);
    free(m->labels);
    free(m->thr);
    free(m->cal);
    pth_ft_free(m->ft);
    if (m->lin) {
        txl_free(m->lin);
        free(m->lin);
    }
    if (m->l2) {
        txe_l2_free(m->l2);
        free(m->l2);
    }
    pth_emotransfer_free(m->transfer);
    free(m);
}

const char *pth_textclf_task(const pth_textclf *m) { return m->task; }
int pth_textclf_multilabel(const pth_textclf *m) { return m->multilabel; }
size_t pth_textclf_nlabels(const pth_textclf *m) { return m->nlabels; }
const char *pth_textclf_label(const pth_textclf *m, size_t k) { return k < m->nlabels ? m->labels[k] : ""; }

int pth_textclf_context(const pth_textclf *m, int *causal)
{
    if (causal)
        *causal = m->causal;
    return m->l2 ? m->context : 0;
}

static double logit_clip(double p)
{
    p = p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
    return log(p / (1 - p));
}

/* Penalised log loss of sigmoid(A z + B) against smoothed targets (see platt_one). */
static double platt_loss(const double *P, const unsigned char *Y, size_t n, size_t L, double tpos, double tneg,
                         double A, double B)
{
    double f = 0.5e-3 * (A - 1) * (A - 1) + 0.5e-3 * B * B;
    for (size_t i = 0; i < n; i++) {
        double u = A * logit_clip(P[i * L]) + B, t = Y[i * L] ? tpos : tneg;
        /* log(1 + e^u) - t u, computed without overflow */
        f += (u > 0 ? u + log1p(exp(-u)) : log1p(exp(u))) - t * u;
    }
    return f;
}

/* One label: minimises the log loss of sigmoid(a z + b) against Platt's smoothed targets
 * (N+ + 1) / (N+ + 2) and 1 / (N- + 2), which keep (a, b) finite when dev separates the
 * label perfectly (rare labels), plus a small ridge towards (1, 0).  Newton steps with
 * backtracking: a label the model never scores above the clip has a nearly singular
 * Hessian, where a full step would diverge. */
static void platt_one(const double *P, const unsigned char *Y, size_t n, size_t L, double *a, double *b)
{
    double A = 1, B = 0, npos = 0;
    for (size_t i = 0; i < n; i++)
        npos += Y[i * L] != 0;
    double tpos = (npos + 1) / (npos + 2), tneg = 1 / ((double)n - npos + 2);
    double f = platt_loss(P, Y, n, L, tpos, tneg, A, B);
    for (int it = 0; it < 50; it++) {
        double ga = 1e-3 * (A - 1), gb = 1e-3 * B, haa = 1e-3, hab = 0, hbb = 1e-3;
        for (size_t i = 0; i < n; i++) {
            double z = logit_clip(P[i * L]), q = 1 / (1 + exp(-(A * z + B)));
            double r = q - (Y[i * L] ? tpos : tneg);
            double w = q * (1 - q);
            ga += r * z, gb += r;
            haa += w * z * z, hab += w * z, hbb += w;
        }
        double det = haa * hbb - hab * hab;
        if (!(det > 0))
            break;
        double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det, step = 1, fn = f;
        for (int k = 0; k < 40; k++, step *= 0.5)
            if ((fn = platt_loss(P, Y, n, L, tpos, tneg, A - step * da, B - step * db)) <= f)
                break;
        if (!(fn <= f))
            break;
        A -= step * da, B -= step * db;
        if (f - fn < 1e-10 * (1 + f))
            break;
        f = fn;
    }
    *a = A, *b = B;
}

void txc_platt_fit(const double *P, const unsigned char *Y, size_t n, size_t L, double *ab)
{
    for (size_t l = 0; l < L; l++)
        platt_one(P + l, Y + l, n, L, &ab[2 * l], &ab[2 * l + 1]);
}

void txc_platt_apply(const double *ab, size_t n, size_t L, double *P)
{
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < L; l++) {
            double *p = &P[i * L + l];
            *p = 1 / (1 + exp(-(ab[2 * l] * logit_clip(*p) + ab[2 * l + 1])));
        }
}

int txc_level1(const pth_textclf *m, size_t n, const char *const *texts, double *P, pth_error *err)
{
    size_t L = m->nlabels;
    double w = m->ft && m->lin ? m->w_ft : m->ft ? 1.0 : 0.0;
    if (m->ft) {
        pth_ft_predict_many(m->ft, n, texts, P, 1);
        if (m->cal)
            txc_platt_apply(m->cal, n, L, P);
    }
    if (!m->lin)
        return 0;
    double *q = malloc(n * L * sizeof(double) + 1);
    if (!q)
        return pth_fail(err, PTH_ERR_NOMEM, "text classifier: out of memory");
    int rc = txl_predict(m->lin, n, texts, q, err);
    if (!rc && m->cal)
        txc_platt_apply(m->cal + 2 * L, n, L, q);
    for (size_t i = 0; !rc && i < n; i++) {
        double z = 0, *row = q + i * L;
        for (size_t k = 0; k < L && !m->multilabel; k++)
            z += row[k];
        for (size_t k = 0; k < L; k++) {
            /* One-vs-rest probabilities form a distribution only after renormalising. */
            double v = m->multilabel ? row[k] : z > 0 ? row[k] / z : 1.0 / (double)L;
            P[i * L + k] = m->ft ? w * P[i * L + k] + (1 - w) * v : v;
        }
    }
    free(q);
    return rc;
}

int pth_textclf_scores(const pth_textclf *m, size_t n, const char *const *texts, double *P, pth_error *err)
{
    /* A stacked level without context (transfer features only) scores each text alone. */
    if (m->l2 && m->context == 0)
        return pth_textclf_score_dialogue(m, n, texts, NULL, P, err);
    return txc_level1(m, n, texts, P, err);
}

int pth_textclf_score_dialogue(const pth_textclf *m, size_t n, const char *const *texts,
                               const char *const *speakers, double *P, pth_error *err)
{
    int rc = txc_level1(m, n, texts, P, err);
    if (rc || !m->l2 || n == 0)
        return rc;
    size_t nf = txm_l2_nfeat(m->context, m->transfer != NULL, m->doc_stats);
    double *F = malloc(n * nf * sizeof(double) + 1);
    double *T = m->transfer ? malloc(n * PTH_EMOTRANSFER_NFEAT * sizeof(double) + 1) : NULL;
    double *S = m->doc_stats ? malloc(n * PTH_DOCSTAT_NFEAT * sizeof(double) + 1) : NULL;
    int *dia = calloc(n + 1, sizeof(int));
    if (!F || !dia || (m->transfer && !T) || (m->doc_stats && !S)) {
        free(F), free(dia), free(T), free(S);
        return pth_fail(err, PTH_ERR_NOMEM, "text classifier: out of memory");
    }
    if (T)
        rc = pth_emotransfer_text_features(m->transfer, n, texts, T, err);
    if (!rc && S)
        rc = txm_doc_features(n, texts, S, err);
    if (!rc) {
        txm_l2_features(dia, speakers, n, P, T, S, m->context, m->causal, F);
        txe_l2_predict(m->l2, F, n, P);
    }
    free(F), free(dia), free(T), free(S);
    return rc;
}

void pth_textclf_decide(const pth_textclf *m, const double *scores, unsigned char *labels)
{
    if (m->multilabel) {
        pth_apply_thresholds(scores, 1, m->nlabels, m->thr, 1, labels);
        return;
    }
    size_t b = 0;
    for (size_t k = 0; k < m->nlabels; k++) {
        labels[k] = 0;
        if (scores[k] > scores[b])
            b = k;
    }
    labels[b] = 1;
}

/* ------------------------------------------------------------------ files
 *
 * Layout: u32 "PTXC", u32 version, str task, u32 multilabel, u32 nlabels, nlabels x str
 * label, f64s thresholds, f64 w_ft, u32 has_cal [f64s 4 x nlabels Platt (a, b): fastText
 * then linear], u32 has_ft [fastText blob], u32 has_lin [linear
 * blob], i32 context, i32 causal, (version 2:) u32 has_transfer [pth_emotransfer_write blob],
 * (version 4:) u32 doc_stats, u32 has_l2 [u64 nf, u64 K, f64s mu, f64s sd, f64s W]. */

int pth_textclf_save(const pth_textclf *m, const char *path, pth_error *err)
{
    pth_blob_writer w = {0};
    pth_blob_u32(&w, TXC_MAGIC);
    pth_blob_u32(&w, TXC_VERSION);
    pth_blob_str(&w, m->task);
    pth_blob_u32(&w, (uint32_t)m->multilabel);
    pth_blob_u32(&w, (uint32_t)m->nlabels);
    for (size_t k = 0; k < m->nlabels; k++)
        pth_blob_str(&w, m->labels[k]);
    pth_blob_f64s(&w, m->thr, m->nlabels);
    pth_blob_f64(&w, m->w_ft);
    pth_blob_u32(&w, m->cal != NULL);
    if (m->cal)
        pth_blob_f64s(&w, m->cal, 4 * m->nlabels);
    pth_blob_u32(&w, m->ft != NULL);
    if (m->ft)
        pth_ft_write(m->ft, &w);
    pth_blob_u32(&w, m->lin != NULL);
    if (m->lin)
        txl_save(m->lin, &w);
    pth_blob_i32(&w, m->context);
    pth_blob_i32(&w, m->causal);
    pth_blob_u32(&w, m->transfer != NULL);
    if (m->transfer)
        pth_emotransfer_write(m->transfer, &w);
    pth_blob_u32(&w, (uint32_t)m->doc_stats);
    pth_blob_u32(&w, m->l2 != NULL);
    if (m->l2) {
        pth_blob_u64(&w, m->l2->nf);
        pth_blob_u64(&w, m->l2->K);
        pth_blob_f64s(&w, m->l2->mu, m->l2->nf);
        pth_blob_f64s(&w, m->l2->sd, m->l2->nf);
        pth_blob_f64s(&w, m->l2->W, m->l2->K * (m->l2->nf + 1));
    }
    return pth_blob_write_file(&w, path, "the model", err);
}

static int read_l2(pth_blob_reader *r, pth_textclf *m)
{
    uint64_t nf = pth_blob_read_u64(r), K = pth_blob_read_u64(r);
    if (!pth_blob_reader_ok(r))
        return -1;
    size_t want = txm_l2_nfeat(m->context, m->transfer != NULL, m->doc_stats);
    if (K != m->nlabels || nf != want) {
        pth_blob_reader_fail(r, "context level has %llu features x %llu classes, expected %zu x %zu",
                             (unsigned long long)nf, (unsigned long long)K, want, m->nlabels);
        return -1;
    }
    m->l2 = calloc(1, sizeof *m->l2);
    if (!m->l2) {
        pth_blob_reader_fail(r, "out of memory");
        return -1;
    }
    m->l2->nf = (size_t)nf;
    m->l2->K = (size_t)K;
    m->l2->mu = pth_blob_read_f64s(r, m->l2->nf);
    m->l2->sd = pth_blob_read_f64s(r, m->l2->nf);
    m->l2->W = pth_blob_read_f64s(r, m->l2->K * (m->l2->nf + 1));
    for (size_t j = 0; pth_blob_reader_ok(r) && j < m->l2->nf; j++)
        if (!(m->l2->sd[j] > 0 && m->l2->sd[j] < HUGE_VAL))
            pth_blob_reader_fail(r, "context level: non-positive or infinite scale");
    if (pth_blob_reader_ok(r) && !(pth_blob_f64s_within(m->l2->mu, m->l2->nf, HUGE_VAL) &&
                                   pth_blob_f64s_within(m->l2->W, m->l2->K * (nf + 1), HUGE_VAL)))
        pth_blob_reader_fail(r, "context level: non-finite weights");
    return pth_blob_reader_ok(r) ? 0 : -1;
}

static pth_textclf *read_header(pth_blob_reader *r, uint32_t *version)
{
    if (pth_blob_read_u32(r) != TXC_MAGIC) {
        pth_blob_reader_fail(r, "not a pathos text classifier (bad magic)");
        return NULL;
    }
    uint32_t ver = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && (ver < 1 || ver > TXC_VERSION)) {
        pth_blob_reader_fail(r, "unsupported text classifier version %u (this build reads 1..%u)", ver, TXC_VERSION);
        return NULL;
    }
    *version = ver;
    char *task = pth_blob_read_str(r, 31);
    uint32_t ml = pth_blob_read_u32(r), L = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && (L < 1 || L > TXC_MAXLABELS))
        pth_blob_reader_fail(r, "text classifier: %u labels", L);
    char **names = pth_blob_reader_ok(r) ? calloc(L, sizeof(char *)) : NULL;
    pth_textclf *m = NULL;
    if (names) {
        for (size_t k = 0; k < L; k++)
            names[k] = pth_blob_read_str(r, 4096);
        if (pth_blob_reader_ok(r))
            m = txc_new(task, ml != 0, L, (const char *const *)names);
        for (size_t k = 0; k < L; k++)
            free(names[k]);
    }
    free(names);
    free(task);
    return m;
}

/* The linear first-level model; txl_load reports through err, the rest through r. */
static int read_linear(pth_blob_reader *r, pth_textclf *m, pth_error *err)
{
    m->lin = calloc(1, sizeof *m->lin);
    if (!m->lin)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", r->what);
    int rc = txl_load(m->lin, r, m->nlabels, err);
    if (rc) {
        free(m->lin);
        m->lin = NULL;
        return rc;
    }
    /* Texts are scored one field each: a model over more fields would read past them. */
    if (m->lin->lin.n_out != m->nlabels || m->lin->nfields != 1)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: linear part has %zu outputs and %zu fields, expected %zu and 1",
                        r->what, m->lin->lin.n_out, m->lin->nfields, m->nlabels);
    return 0;
}

/* Everything after the header; returns a nonzero code only for errors reported through err
 * (errors latched in r are collected by the caller). */
static int read_body(pth_blob_reader *r, pth_textclf *m, uint32_t version, pth_error *err)
{
    int rc = 0;
    free(m->thr);
    m->thr = pth_blob_read_f64s(r, m->nlabels);
    m->w_ft = pth_blob_read_f64(r);
    if (pth_blob_reader_ok(r) && !(pth_blob_f64s_within(m->thr, m->nlabels, HUGE_VAL) && m->w_ft >= 0 && m->w_ft <= 1))
        pth_blob_reader_fail(r, "non-finite thresholds or ensemble weight %g outside [0, 1]", m->w_ft);
    if (pth_blob_read_u32(r) && pth_blob_reader_ok(r))
        m->cal = pth_blob_read_f64s(r, 4 * m->nlabels);
    if (m->cal && pth_blob_reader_ok(r) && !pth_blob_f64s_within(m->cal, 4 * m->nlabels, HUGE_VAL))
        pth_blob_reader_fail(r, "non-finite calibration");
    if (pth_blob_read_u32(r) && pth_blob_reader_ok(r))
        m->ft = pth_ft_read(r);
    if (m->ft && (pth_ft_nlabels(m->ft) != m->nlabels || pth_ft_nfields(m->ft) != 1))
        pth_blob_reader_fail(r, "fastText part has %zu labels and %zu fields, expected %zu and 1",
                             pth_ft_nlabels(m->ft), pth_ft_nfields(m->ft), m->nlabels);
    if (pth_blob_read_u32(r) && pth_blob_reader_ok(r))
        rc = read_linear(r, m, err);
    m->context = pth_blob_read_i32(r);
    m->causal = pth_blob_read_i32(r);
    if (!rc && pth_blob_reader_ok(r) && (m->context < 0 || m->context > 5))
        pth_blob_reader_fail(r, "context window %d out of range", m->context);
    if (!rc && version >= 2 && pth_blob_read_u32(r) && pth_blob_reader_ok(r))
        if (!(m->transfer = pth_emotransfer_read(r, err)) && pth_blob_reader_ok(r))
            rc = err && err->code ? err->code : PTH_ERR_FORMAT;
    if (!rc && version == 2 && m->transfer && m->context > 0 && pth_blob_reader_ok(r))
        pth_blob_reader_fail(r, "version-2 MELD model with transfer and context: its stacked level used an "
                                "older input layout; retrain it with this build");
    if (!rc && version >= 4 && pth_blob_reader_ok(r)) {
        uint32_t ds = pth_blob_read_u32(r);
        if (ds > 1 && pth_blob_reader_ok(r))
            pth_blob_reader_fail(r, "document-statistics flag %u is not 0 or 1", ds);
        m->doc_stats = ds == 1;
    }
    if (!rc && pth_blob_read_u32(r) && pth_blob_reader_ok(r))
        read_l2(r, m);
    if (!rc && pth_blob_reader_ok(r) && !m->ft && !m->lin)
        pth_blob_reader_fail(r, "text classifier without a model");
    return rc;
}

pth_textclf *pth_textclf_load_buffer(const void *buf, size_t len, const char *name, pth_error *err)
{
    pth_blob_reader r;
    pth_blob_reader_init(&r, buf, len, name);
    uint32_t version = 0;
    pth_textclf *m = read_header(&r, &version);
    int rc = m ? read_body(&r, m, version, err) : 0;
    if (!rc && (!m || !pth_blob_reader_ok(&r)))
        rc = pth_blob_reader_ok(&r) ? pth_fail(err, PTH_ERR_FORMAT, "%s: cannot read text classifier", r.what)
                                    : pth_blob_reader_status(&r, err);
    if (rc) {
        pth_textclf_free(m);
        return NULL;
    }
    return m;
}

pth_textclf *pth_textclf_load(const char *path, pth_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (pth_read_file(path, (size_t)1 << 34, &buf, &len, err))
        return NULL;
    pth_textclf *m = pth_textclf_load_buffer(buf, len, path, err);
    free(buf);
    return m;
}
