/* NewsEmp empathy / distress regression with grouped CV and conformal intervals
 * (see pathos/newsemp.h for the model and the fold rule). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pathos/newsemp.h"
#include "pathos/table.h"
#include "newsemp_internal.h"

/* NULL copies as "" (strdup would crash on it). */
static char *str_or_empty_dup(const char *s) { return strdup(s ? s : ""); }

/* LAPACK (OpenBLAS): Cholesky factorisation and solve. */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b,
                    const int *ldb, int *info);

#define NDENSE PTH_NEWSEMP_NDENSE
#define NT 2

/* ---------------------------------------------------------------------------------- */
/* Statistics                                                                          */

double pth_text_pearson(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    if (sxx <= 0 || syy <= 0)
        return NAN;
    return sxy / sqrt(sxx * syy);
}

typedef struct {
    double v;
    size_t i;
} vi_pair;

static int cmp_vi(const void *a, const void *b)
{
    double x = ((const vi_pair *)a)->v, y = ((const vi_pair *)b)->v;
    return (x > y) - (x < y);
}

/* Average ranks (1-based) with ties sharing their mean rank. */
static int ranks(const double *x, size_t n, double *r)
{
    vi_pair *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++) {
        p[i].v = x[i];
        p[i].i = i;
    }
    qsort(p, n, sizeof *p, cmp_vi);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && p[b].v == p[a].v)
            b++;
        double rank = 0.5 * (double)(a + 1 + b);
        for (size_t k = a; k < b; k++)
            r[p[k].i] = rank;
        a = b;
    }
    free(p);
    return 0;
}

double pth_text_spearman(const double *x, const double *y, size_t n)
{
    double *rx = malloc((2 * n + 1) * sizeof *rx);
    if (!rx)
        return NAN;
    double *ry = rx + n;
    double s = NAN;
    if (ranks(x, n, rx) == 0 && ranks(y, n, ry) == 0)
        s = pth_text_pearson(rx, ry, n);
    free(rx);
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pth_conformal_quantile(const double *scores, size_t n, double miscoverage)
{
    double kk = ceil((double)(n + 1) * (1.0 - miscoverage));
    if (n == 0 || kk > (double)n)
        return INFINITY;
    if (kk < 1)
        kk = 1;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return NAN;
    memcpy(c, scores, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double q = c[(size_t)kk - 1];
    free(c);
    return q;
}

/* ---------------------------------------------------------------------------------- */
/* Data                                                                                */

void pth_newsemp_free(pth_newsemp *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        if (d->message_id)
            free(d->message_id[i]);
        if (d->writer)
            free(d->writer[i]);
        if (d->essay)
            free(d->essay[i]);
    }
    free(d->message_id);
    free(d->writer);
    free(d->essay);
    free(d->empathy);
    free(d->distress);
    memset(d, 0, sizeof *d);
}

int pth_newsemp_load(const char *path, size_t max_rows, pth_newsemp *d, pth_error *err)
{
    memset(d, 0, sizeof *d);
    pth_csv_options co = {0};
    co.keep_text = 1;
    pth_table t;
    int rc = pth_csv_read(path, &co, &t, err);
    if (rc)
        return rc;
    const char *names[5] = {"message_id", "response_id", "empathy", "distress", "essay"};
    long col[5];
    for (int k = 0; k < 5; k++) {
        col[k] = pth_table_find(&t, names[k]);
        if (col[k] < 0) {
            pth_table_free(&t);
            return pth_fail(err, PTH_ERR_PARSE, "%s: missing column '%s'", path, names[k]);
        }
    }
    for (int k = 2; k <= 3; k++)
        if (t.cols[col[k]].type != PTH_COL_NUMERIC) {
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: column '%s': expected a number, found '%s'", path,
                          t.cols[col[k]].bad_line, names[k], t.cols[col[k]].bad_value);
            pth_table_free(&t);
            return rc;
        }
    size_t n = max_rows && max_rows < t.nrows ? max_rows : t.nrows;
    d->message_id = calloc(n + 1, sizeof *d->message_id);
    d->writer = calloc(n + 1, sizeof *d->writer);
    d->essay = calloc(n + 1, sizeof *d->essay);
    d->empathy = malloc((n + 1) * sizeof *d->empathy);
    d->distress = malloc((n + 1) * sizeof *d->distress);
    d->n = n;
    if (!d->message_id || !d->writer || !d->essay || !d->empathy || !d->distress)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory loading %s", path);
    for (size_t i = 0; i < n && !rc; i++) {
        d->message_id[i] = str_or_empty_dup(pth_table_cell_text(&t, i, (size_t)col[0]));
        d->writer[i] = str_or_empty_dup(pth_table_cell_text(&t, i, (size_t)col[1]));
        d->essay[i] = str_or_empty_dup(pth_table_cell_text(&t, i, (size_t)col[4]));
        d->empathy[i] = t.cols[col[2]].num[i];
        d->distress[i] = t.cols[col[3]].num[i];
        if (!d->message_id[i] || !d->writer[i] || !d->essay[i])
            rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory loading %s", path);
        else if (!isfinite(d->empathy[i]) || !isfinite(d->distress[i]))
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: missing empathy or distress", path, t.row_line[i]);
    }
    pth_table_free(&t);
    if (rc)
        pth_newsemp_free(d);
    return rc;
}

static uint32_t fold_of(const char *key, uint32_t seed, size_t k)
{
    return (uint32_t)(pth_murmur3_32(key, strlen(key), seed) % (uint32_t)k);
}

void pth_newsemp_folds(const pth_newsemp *d, int grouped, size_t k, uint32_t seed, int *folds)
{
    for (size_t i = 0; i < d->n; i++)
        folds[i] = (int)fold_of(grouped ? d->writer[i] : d->message_id[i], seed, k);
}

/* ---------------------------------------------------------------------------------- */
/* Features                                                                            */

void pth_newsemp_options_default(pth_newsemp_options *o)
{
    memset(o, 0, sizeof *o);
    o->folds = 10;
    o->inner_folds = 5;
    o->grouped = 0;
    o->seed = 0;
    o->miscoverage = 0.1;
    o->stack_targets = 1;
    o->blend_gamma = 2.0;
    o->blend_word_weight = 3.0;
    pth_hash_options_default(&o->hash);
}

int pth_newsemp_load_lexicons(const char *vader_path, const char *afinn_dir, pth_lexicon **vader, pth_lexicon **afinn,
                              pth_error *err)
{
    *vader = *afinn = NULL;
    int rc = PTH_OK;
    if (vader_path)
        rc = pth_lexicon_load(vader, vader_path, PTH_LEX_VADER, NULL, err);
    if (!rc && afinn_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/AFINN-en-165.txt", afinn_dir);
        rc = pth_lexicon_load(afinn, path, PTH_LEX_AFINN, NULL, err);
        snprintf(path, sizeof path, "%s/AFINN-emoticon-8.txt", afinn_dir);
        if (!rc)
            rc = pth_lexicon_load(afinn, path, PTH_LEX_AFINN, NULL, err);
    }
    return rc;
}

/* Lexicon block (n x NDENSE): VADER features, AFINN features, document statistics. */
int pth_newsemp_dense_features(const char *const *texts, size_t n, const pth_lexicon *vader, const pth_lexicon *afinn,
                               double *D)
{
    int failed = 0;
#pragma omp parallel
    {
        pth_tokens t = {0};
#pragma omp for schedule(dynamic, 16)
        for (long long i = 0; i < (long long)n; i++) {
            double *row = D + (size_t)i * NDENSE;
            const char *s = texts[i];
            if (pth_tokenize(s, strlen(s), NULL, &t, NULL) != PTH_OK) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            pth_lexicon_features(vader, &t, row);
            pth_lexicon_features(afinn, &t, row + PTH_LEX_NFEAT);
            pth_doc_stats(&t, row + 2 * PTH_LEX_NFEAT);
        }
        pth_tokens_free(&t);
    }
    return failed ? -1 : 0;
}

/* The whole dense block (n x nd): the lexicon block, then (nd > NDENSE) the transfer
 * model's document features. */
static int dense_all(const char *const *texts, size_t n, const pth_lexicon *vader, const pth_lexicon *afinn,
                     const pth_emotransfer *transfer, size_t nd, double *D, pth_error *err)
{
    double *L = malloc(n * NDENSE * sizeof *L + 1);
    double *T = transfer ? malloc(n * PTH_EMOTRANSFER_NDOC * sizeof *T + 1) : NULL;
    int rc = !L || (transfer && !T) ? pth_fail(err, PTH_ERR_NOMEM, "out of memory computing dense features") : 0;
    if (!rc && pth_newsemp_dense_features(texts, n, vader, afinn, L) != 0)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory computing lexicon features");
    if (!rc && T)
        rc = pth_emotransfer_doc_features(transfer, n, texts, T, err);
    for (size_t i = 0; i < n && !rc; i++) {
        memcpy(D + i * nd, L + i * NDENSE, NDENSE * sizeof *D);
        if (T)
            memcpy(D + i * nd + NDENSE, T + i * PTH_EMOTRANSFER_NDOC, PTH_EMOTRANSFER_NDOC * sizeof *D);
    }
    free(L), free(T);
    return rc;
}

static size_t dense_count(const pth_newsemp_options *o)
{
    return o->transfer ? PTH_NEWSEMP_NDENSE_MAX : NDENSE;
}

/* Linear kernels of the two TF-IDF blocks over all rows: Kw = Xw Xw^T, Kc = Xc Xc^T.
 * Each row is scattered into a dense vector over the columns that occur (a few hundred
 * thousand of the 2^21, so it stays cache-resident) and dotted with every earlier row. */
static int gram_blocks(const pth_csr *X, size_t split, double *Kw, double *Kc)
{
    size_t N = X->nrows, nnz = X->indptr[N];
    int32_t *map = malloc((X->ncols ? X->ncols : 1) * sizeof *map);
    uint32_t *cidx = malloc((nnz ? nnz : 1) * sizeof *cidx);
    size_t *rsplit = malloc((N ? N : 1) * sizeof *rsplit);
    if (!map || !cidx || !rsplit) {
        free(map);
        free(cidx);
        free(rsplit);
        return -1;
    }
    size_t dact = pth_csr_active_columns(X, map);
    for (size_t k = 0; k < nnz; k++)
        cidx[k] = (uint32_t)map[X->indices[k]];
    for (size_t i = 0; i < N; i++) {
        size_t k = X->indptr[i];
        while (k < X->indptr[i + 1] && X->indices[k] < split)
            k++;
        rsplit[i] = k;
    }
    free(map);
    int failed = 0;
#pragma omp parallel
    {
        float *dense = calloc(dact + 1, sizeof *dense);
        if (!dense) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (long long ii = 0; ii < (long long)N; ii++) {
            size_t i = (size_t)ii;
            if (!dense)
                continue;
            for (size_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
                dense[cidx[k]] = X->data[k];
            for (size_t j = 0; j <= i; j++) {
                double sw = 0, sc = 0;
                for (size_t k = X->indptr[j]; k < rsplit[j]; k++)
                    sw += (double)X->data[k] * dense[cidx[k]];
                for (size_t k = rsplit[j]; k < X->indptr[j + 1]; k++)
                    sc += (double)X->data[k] * dense[cidx[k]];
                Kw[i * N + j] = Kw[j * N + i] = sw;
                Kc[i * N + j] = Kc[j * N + i] = sc;
            }
            for (size_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
                dense[cidx[k]] = 0.0f;
        }
        free(dense);
    }
    free(cidx);
    free(rsplit);
    return failed ? -1 : 0;
}

/* Kd = Z Z^T / nd with Z the dense block standardised by training-row statistics. */
static void dense_z_n(const double *row, const double *mean, const double *sd, size_t nd, double *z)
{
    for (size_t f = 0; f < nd; f++) {
        double v = sd[f] > 1e-12 ? (row[f] - mean[f]) / sd[f] : 0.0;
        /* Clip extreme z-scores so one odd essay cannot dominate the kernel. */
        z[f] = v > 5 ? 5 : (v < -5 ? -5 : v);
    }
}

void pth_newsemp_dense_z(const double *row, const double *mean, const double *sd, double *z)
{
    dense_z_n(row, mean, sd, NDENSE, z);
}

/* mean/sd (nd each) receive the training-row statistics. */
static void dense_kernel(const double *D, size_t N, size_t nd, const size_t *tr, size_t m, double *Kd, double *mean,
                         double *sd)
{
    memset(mean, 0, nd * sizeof *mean);
    memset(sd, 0, nd * sizeof *sd);
    for (size_t a = 0; a < m; a++)
        for (size_t f = 0; f < nd; f++)
            mean[f] += D[tr[a] * nd + f];
    for (size_t f = 0; f < nd; f++)
        mean[f] /= (double)m;
    for (size_t a = 0; a < m; a++)
        for (size_t f = 0; f < nd; f++) {
            double v = D[tr[a] * nd + f] - mean[f];
            sd[f] += v * v;
        }
    for (size_t f = 0; f < nd; f++)
        sd[f] = sqrt(sd[f] / (double)m);
    double *Z = malloc(N * nd * sizeof *Z);
    if (!Z) {
        memset(Kd, 0, N * N * sizeof *Kd);
        return;
    }
    for (size_t i = 0; i < N; i++)
        dense_z_n(D + i * nd, mean, sd, nd, Z + i * nd);
#pragma omp parallel for schedule(dynamic, 16)
    for (long long ii = 0; ii < (long long)N; ii++) {
        size_t i = (size_t)ii;
        for (size_t j = 0; j <= i; j++) {
            double s = 0;
            for (size_t f = 0; f < nd; f++)
                s += Z[i * nd + f] * Z[j * nd + f];
            Kd[i * N + j] = Kd[j * N + i] = s / (double)nd;
        }
    }
    free(Z);
}

/* ---------------------------------------------------------------------------------- */
/* Kernel ridge with an unpenalised intercept                                          */

typedef struct {
    double *A, *r, *B;
    size_t cap;
    /* When cap_a is set, a single-target fit stores its dual weights (m) there and its
     * intercept ybar - sum_j a_j rowmean_j in *cap_b (the fitted function is
     * f(x) = cap_b + sum_j a_j K(x_j, x)); both are then cleared. */
    double *cap_a, *cap_b;
} kr_work;

static void kr_work_free(kr_work *w)
{
    free(w->A);
    free(w->r);
    free(w->B);
    w->A = w->r = w->B = NULL;
    w->cap = 0;
}

/* Fits on rows tr[0..m) of the N x N kernel K and predicts rows te[0..q).
 * Y: T columns of m targets; pred: T columns of q predictions.
 * Centring the kernel (H K H) is ridge on centred features; the intercept is ybar - c with
 * c = sum_j a_j rowmean_j, because the dual weights a sum to zero. */
static int kr_fit_predict(const double *K, size_t N, const size_t *tr, size_t m, const size_t *te, size_t q,
                          const double *Y, size_t T, double alpha, double *pred, kr_work *w)
{
    if (m > w->cap) {
        free(w->A);
        free(w->r);
        free(w->B);
        w->A = malloc(m * m * sizeof *w->A);
        w->r = malloc(m * sizeof *w->r);
        w->B = malloc(m * 4 * sizeof *w->B);
        w->cap = m;
        if (!w->A || !w->r || !w->B) {
            kr_work_free(w);
            return -1;
        }
    }
    if (T > 4)
        return -1;
    double g = 0;
    for (size_t i = 0; i < m; i++) {
        const double *Ki = K + tr[i] * N;
        double s = 0;
        for (size_t j = 0; j < m; j++)
            s += Ki[tr[j]];
        w->r[i] = s / (double)m;
        g += w->r[i];
    }
    g /= (double)m;
    for (size_t i = 0; i < m; i++) {
        const double *Ki = K + tr[i] * N;
        double *Ai = w->A + i * m;
        for (size_t j = 0; j < m; j++)
            Ai[j] = Ki[tr[j]] - w->r[i] - w->r[j] + g;
        Ai[i] += alpha;
    }
    int n = (int)m, info = 0, nrhs = (int)T;
    dpotrf_("L", &n, w->A, &n, &info);
    if (info != 0)
        return -1;
    double ybar[4];
    for (size_t t = 0; t < T; t++) {
        double s = 0;
        for (size_t i = 0; i < m; i++)
            s += Y[t * m + i];
        ybar[t] = s / (double)m;
        for (size_t i = 0; i < m; i++)
            w->B[t * m + i] = Y[t * m + i] - ybar[t];
    }
    dpotrs_("L", &n, &nrhs, w->A, &n, w->B, &n, &info);
    if (info != 0)
        return -1;
    for (size_t t = 0; t < T; t++) {
        const double *a = w->B + t * m;
        double c = 0;
        for (size_t j = 0; j < m; j++)
            c += a[j] * w->r[j];
        if (w->cap_a && T == 1) {
            memcpy(w->cap_a, a, m * sizeof *a);
            *w->cap_b = ybar[t] - c;
            w->cap_a = NULL;
            w->cap_b = NULL;
        }
        for (size_t v = 0; v < q; v++) {
            const double *Kv = K + te[v] * N;
            double s = 0;
            for (size_t j = 0; j < m; j++)
                s += a[j] * Kv[tr[j]];
            pred[t * q + v] = ybar[t] + s - c;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Cross-validation                                                                    */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void pth_newsemp_result_free(pth_newsemp_result *r)
{
    if (!r)
        return;
    free(r->pred);
    free(r->lo);
    free(r->hi);
    free(r->fold);
    memset(r, 0, sizeof *r);
}

static const double DEFAULT_ALPHAS[] = {0.25, 0.5, 1, 2, 4, 8, 16};
static const double DEFAULT_DENSE_W[] = {0, 0.3, 1};
static const double DEFAULT_WORD_W[] = {1, 2, 4};
/* The Gaussian partner's own diagonal (s against off-diagonal values near 0.2 s) already acts
 * as a ridge, so its inner CV wants far smaller alphas than the linear kernel. */
static const double DEFAULT_BLEND_ALPHAS[] = {0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56};

/* One kernel model: its (word weight, dense weight) combinations, alpha grid and Gaussian
 * bandwidth (0: the linear kernel). */
typedef struct {
    double gamma;
    const double *alphas;
    size_t na, nw;               /* nw: number of (word weight, dense weight) combinations */
    double cww[256], cwd[256];   /* the combinations */
} kspec;

/* Everything one outer fold needs. */
typedef struct {
    const pth_newsemp *d;
    const pth_newsemp_options *o;
    size_t N;
    size_t nd;                /* dense features per row */
    kspec spec[2];            /* 0: the model; 1: its Gaussian blend partner */
    size_t nspec;
    double *Kw, *Kc, *Kd, *K; /* N x N */
    double *diag;             /* N: scratch of the Gaussian kernel */
    kr_work kw;
} cv_ctx;

void pth_newsemp_rbf_kernel(double *K, size_t n, double gamma, double s, double *diag)
{
    for (size_t i = 0; i < n; i++)
        diag[i] = K[i * n + i];
    double g = gamma / (2.0 * s);
#pragma omp parallel for schedule(static)
    for (long long ii = 0; ii < (long long)n; ii++) {
        size_t i = (size_t)ii;
        for (size_t j = 0; j < n; j++) {
            double d2 = diag[i] + diag[j] - 2.0 * K[i * n + j];
            /* Rounding can make d2 of (near-)duplicate rows slightly negative. */
            K[i * n + j] = s * exp(-g * (d2 > 0 ? d2 : 0.0));
        }
    }
}

/* K = ww Kw + Kc + wd Kd for combination ci of model s (scaling all three would only
 * rescale alpha); with s->gamma > 0 the Gaussian kernel of the same weighted features. */
static void combine_kernel(cv_ctx *c, const kspec *s, size_t ci)
{
    size_t NN = c->N * c->N;
    double ww = s->cww[ci], wd = s->cwd[ci];
    for (size_t k = 0; k < NN; k++)
        c->K[k] = ww * c->Kw[k] + c->Kc[k] + wd * c->Kd[k];
    if (s->gamma > 0 && c->diag)
        pth_newsemp_rbf_kernel(c->K, c->N, s->gamma, ww + 1.0 + wd, c->diag);
}

static double target_value(const pth_newsemp *d, size_t t, size_t i)
{
    return t == 0 ? d->empathy[i] : d->distress[i];
}

/* Splits positions 0..m-1 of the training rows into inner fold k's train / validation. */
static void inner_split(const int *ifold, size_t m, int k, const size_t *tr, size_t *itr, size_t *ni, size_t *iva,
                        size_t *nv, size_t *pos_va)
{
    *ni = *nv = 0;
    for (size_t a = 0; a < m; a++) {
        if (ifold[a] == k) {
            pos_va[*nv] = a;
            iva[(*nv)++] = tr[a];
        } else {
            itr[(*ni)++] = tr[a];
        }
    }
}

/* Least squares y ~ b0 + b1 p0 + b2 p1 (3 x 3 normal equations, tiny ridge for safety). */
static void stack_fit(const double *p0, const double *p1, const double *y, size_t m, double beta[3])
{
    double A[3][4] = {{0}};
    for (size_t i = 0; i < m; i++) {
        double x[3] = {1.0, p0[i], p1[i]};
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++)
                A[r][c] += x[r] * x[c];
            A[r][3] += x[r] * y[i];
        }
    }
    for (int r = 1; r < 3; r++)
        A[r][r] += 1e-9 * (double)m;
    /* Gauss-Jordan with partial pivoting. */
    for (int col = 0; col < 3; col++) {
        int piv = col;
        for (int r = col + 1; r < 3; r++)
            if (fabs(A[r][col]) > fabs(A[piv][col]))
                piv = r;
        for (int c = 0; c < 4; c++) {
            double tmp = A[col][c];
            A[col][c] = A[piv][c];
            A[piv][c] = tmp;
        }
        double d = A[col][col];
        if (fabs(d) < 1e-300) {
            beta[0] = beta[1] = beta[2] = 0;
            return;
        }
        for (int c = 0; c < 4; c++)
            A[col][c] /= d;
        for (int r = 0; r < 3; r++) {
            if (r == col)
                continue;
            double f = A[r][col];
            for (int c = 0; c < 4; c++)
                A[r][c] -= f * A[col][c];
        }
    }
    for (int r = 0; r < 3; r++)
        beta[r] = A[r][3];
}

/* Per-fold scratch shared by the phases of run_fold. */
typedef struct {
    int *ifold;
    size_t *itr, *iva, *pva;
    double *Yi, *pv, *oof, *Ytr, *ptest, *score, *sig, *res;
    double *best_oof; /* NT x m: out-of-fold predictions of the selected model */
    double *base_te;  /* NT x q: test predictions of the selected model */
    double *stk_oof, *stk_te;
    double *first_oof, *first_te; /* the first model's stacked predictions while its partner runs */
} fold_work;

static void fold_work_free(fold_work *w)
{
    free(w->ifold);
    free(w->itr);
    free(w->iva);
    free(w->pva);
    free(w->Yi);
    free(w->pv);
    free(w->oof);
    free(w->Ytr);
    free(w->ptest);
    free(w->score);
    free(w->sig);
    free(w->res);
    free(w->best_oof);
    free(w->base_te);
    free(w->stk_oof);
    free(w->stk_te);
    free(w->first_oof);
    free(w->first_te);
}

static int fold_work_alloc(fold_work *w, size_t m, size_t q, size_t ncombo)
{
    memset(w, 0, sizeof *w);
    w->ifold = malloc(m * sizeof *w->ifold);
    w->itr = malloc(m * sizeof *w->itr);
    w->iva = malloc(m * sizeof *w->iva);
    w->pva = malloc(m * sizeof *w->pva);
    w->Yi = malloc(NT * m * sizeof *w->Yi);
    w->pv = malloc(NT * m * sizeof *w->pv);
    w->oof = calloc(ncombo * NT * m, sizeof *w->oof);
    w->Ytr = malloc(2 * m * sizeof *w->Ytr);
    w->ptest = malloc(2 * (q + 1) * sizeof *w->ptest);
    w->score = malloc(m * sizeof *w->score);
    w->sig = malloc(m * sizeof *w->sig);
    w->res = malloc(m * sizeof *w->res);
    w->best_oof = malloc(NT * m * sizeof *w->best_oof);
    w->base_te = malloc(NT * (q + 1) * sizeof *w->base_te);
    w->stk_oof = malloc(NT * m * sizeof *w->stk_oof);
    w->stk_te = malloc(NT * (q + 1) * sizeof *w->stk_te);
    w->first_oof = malloc(NT * m * sizeof *w->first_oof);
    w->first_te = malloc(NT * (q + 1) * sizeof *w->first_te);
    return (w->ifold && w->itr && w->iva && w->pva && w->Yi && w->pv && w->oof && w->Ytr && w->ptest && w->score &&
            w->sig && w->res && w->best_oof && w->base_te && w->stk_oof && w->stk_te && w->first_oof && w->first_te)
               ? 0
               : -1;
}

/* What one kernel model of run_fold hands back when fitting a final model. */
typedef struct {
    size_t combo[NT];
    double *a[NT], b[NT]; /* dual weights (m each) and intercepts */
    double beta[NT][3];
} model_capture;

typedef struct {
    model_capture model[2]; /* the model and its blend partner */
    double *a_sig[NT], b_sig[NT];
    double qn[NT], qc[NT], floor_s[NT];
    double *train_pred;     /* m x NT: the final predictions of the training rows */
} fit_capture;

/* Inner CV of model s over its (kernel weights, alpha) grid; both targets share each
 * factorisation. */
static int inner_grid(cv_ctx *c, const kspec *s, const size_t *tr, size_t m, fold_work *w)
{
    const pth_newsemp *d = c->d;
    size_t na = s->na, K = c->o->inner_folds;
    for (size_t wi = 0; wi < s->nw; wi++) {
        combine_kernel(c, s, wi);
        for (int k = 0; k < (int)K; k++) {
            size_t ni, nv;
            inner_split(w->ifold, m, k, tr, w->itr, &ni, w->iva, &nv, w->pva);
            if (nv == 0 || ni < 2)
                continue;
            for (size_t t = 0; t < NT; t++)
                for (size_t a = 0; a < ni; a++)
                    w->Yi[t * ni + a] = target_value(d, t, w->itr[a]);
            for (size_t ai = 0; ai < na; ai++) {
                if (kr_fit_predict(c->K, c->N, w->itr, ni, w->iva, nv, w->Yi, NT, s->alphas[ai], w->pv, &c->kw) != 0)
                    return -1;
                for (size_t t = 0; t < NT; t++)
                    for (size_t v = 0; v < nv; v++)
                        w->oof[((wi * na + ai) * NT + t) * m + w->pva[v]] = w->pv[t * nv + v];
            }
        }
    }
    return 0;
}

/* The (weights, alpha) of model s with the least inner-CV squared error for target t. */
static void select_combo(const cv_ctx *c, const kspec *s, const size_t *tr, size_t m, const fold_work *w, size_t t,
                         size_t *bw, size_t *ba)
{
    double best = INFINITY;
    *bw = *ba = 0;
    for (size_t wi = 0; wi < s->nw; wi++)
        for (size_t ai = 0; ai < s->na; ai++) {
            const double *p = w->oof + ((wi * s->na + ai) * NT + t) * m;
            double mse = 0;
            for (size_t a = 0; a < m; a++) {
                double e = target_value(c->d, t, tr[a]) - p[a];
                mse += e * e;
            }
            if (mse < best) {
                best = mse;
                *bw = wi;
                *ba = ai;
            }
        }
}

/* Normalised and constant-width cross-conformal intervals for target t around stk_te; the
 * kernel in c->K is the one the difficulty model uses. */
static int intervals(cv_ctx *c, const size_t *tr, size_t m, const size_t *te, size_t q, fold_work *w, size_t t,
                     double alpha, double *lo, double *hi, double *lo_c, double *hi_c, fit_capture *cap)
{
    const pth_newsemp *d = c->d;
    size_t K = c->o->inner_folds;
    double rmean = 0;
    for (size_t a = 0; a < m; a++) {
        w->res[a] = fabs(target_value(d, t, tr[a]) - w->stk_oof[t * m + a]);
        rmean += w->res[a];
    }
    rmean /= (double)m;
    /* sigma floor: keeps scores finite where the difficulty model predicts ~0. */
    double floor_s = 0.25 * rmean;
    /* Out-of-fold difficulty: sigma_-k trained on the residuals of the other inner folds. */
    for (int k = 0; k < (int)K; k++) {
        size_t ni, nv;
        inner_split(w->ifold, m, k, tr, w->itr, &ni, w->iva, &nv, w->pva);
        if (nv == 0 || ni < 2)
            continue;
        size_t b = 0;
        for (size_t a = 0; a < m; a++)
            if (w->ifold[a] != k)
                w->Yi[b++] = w->res[a];
        if (kr_fit_predict(c->K, c->N, w->itr, ni, w->iva, nv, w->Yi, 1, alpha, w->pv, &c->kw) != 0)
            return -1;
        for (size_t v = 0; v < nv; v++)
            w->sig[w->pva[v]] = w->pv[v] > floor_s ? w->pv[v] : floor_s;
    }
    for (size_t a = 0; a < m; a++)
        w->score[a] = w->res[a] / w->sig[a];
    double qn = pth_conformal_quantile(w->score, m, c->o->miscoverage);
    double qc = pth_conformal_quantile(w->res, m, c->o->miscoverage);
    if (cap) {
        cap->qn[t] = qn;
        cap->qc[t] = qc;
        cap->floor_s[t] = floor_s;
        c->kw.cap_a = cap->a_sig[t];
        c->kw.cap_b = &cap->b_sig[t];
    }
    if (kr_fit_predict(c->K, c->N, tr, m, te, q, w->res, 1, alpha, w->ptest, &c->kw) != 0)
        return -1;
    for (size_t v = 0; v < q; v++) {
        double yhat = w->stk_te[t * q + v], s = w->ptest[v] > floor_s ? w->ptest[v] : floor_s;
        /* Intervals are clipped to the 1..7 rating scale (coverage is unaffected). */
        lo[v * NT + t] = fmax(1.0, yhat - qn * s);
        hi[v * NT + t] = fmin(7.0, yhat + qn * s);
        lo_c[v * NT + t] = fmax(1.0, yhat - qc);
        hi_c[v * NT + t] = fmin(7.0, yhat + qc);
    }
    return 0;
}

/* Model s on one outer fold: tune by inner CV, fit both targets with the chosen kernel and
 * alpha, stack.  Leaves the stacked out-of-fold and test predictions in w->stk_oof / stk_te
 * and the choices in bw / ba. */
static int fit_model(cv_ctx *c, const kspec *s, const size_t *tr, size_t m, const size_t *te, size_t q,
                     fold_work *w, size_t bw[NT], size_t ba[NT], model_capture *cap)
{
    const pth_newsemp *d = c->d;
    memset(w->oof, 0, s->nw * s->na * NT * m * sizeof *w->oof);
    int rc = inner_grid(c, s, tr, m, w);
    for (size_t t = 0; t < NT && !rc; t++) {
        select_combo(c, s, tr, m, w, t, &bw[t], &ba[t]);
        memcpy(w->best_oof + t * m, w->oof + ((bw[t] * s->na + ba[t]) * NT + t) * m, m * sizeof *w->best_oof);
        combine_kernel(c, s, bw[t]);
        for (size_t a = 0; a < m; a++)
            w->Ytr[a] = target_value(d, t, tr[a]);
        if (cap) {
            cap->combo[t] = bw[t];
            c->kw.cap_a = cap->a[t];
            c->kw.cap_b = &cap->b[t];
        }
        rc = kr_fit_predict(c->K, c->N, tr, m, te, q, w->Ytr, 1, s->alphas[ba[t]], w->base_te + t * q, &c->kw);
    }
    /* Multi-task stacking: each target is re-predicted from both targets' out-of-fold
     * predictions (empathy and distress correlate), fitted on the training fold only. */
    for (size_t t = 0; t < NT && !rc; t++) {
        double beta[3] = {0, t == 0 ? 1.0 : 0.0, t == 1 ? 1.0 : 0.0};
        if (c->o->stack_targets) {
            for (size_t a = 0; a < m; a++)
                w->Ytr[a] = target_value(d, t, tr[a]);
            stack_fit(w->best_oof, w->best_oof + m, w->Ytr, m, beta);
        }
        if (cap)
            memcpy(cap->beta[t], beta, sizeof beta);
        for (size_t a = 0; a < m; a++)
            w->stk_oof[t * m + a] = beta[0] + beta[1] * w->best_oof[a] + beta[2] * w->best_oof[m + a];
        for (size_t v = 0; v < q; v++)
            w->stk_te[t * q + v] = beta[0] + beta[1] * w->base_te[v] + beta[2] * w->base_te[q + v];
    }
    return rc;
}

/* One outer fold: the model (and its blend partner), then intervals.  Writes pred/lo/hi/
 * lo_c/hi_c for the test rows in te order; chosen receives, per target, alpha, dense weight,
 * word weight and the partner's alpha. */
static int run_fold(cv_ctx *c, const size_t *tr, size_t m, const size_t *te, size_t q, int outer, double *pred,
                    double *lo, double *hi, double *lo_c, double *hi_c, double *chosen, fit_capture *cap)
{
    const pth_newsemp *d = c->d;
    const pth_newsemp_options *o = c->o;
    size_t ncombo = c->spec[0].nw * c->spec[0].na;
    if (c->nspec > 1 && c->spec[1].nw * c->spec[1].na > ncombo)
        ncombo = c->spec[1].nw * c->spec[1].na;
    fold_work w;
    int rc = fold_work_alloc(&w, m, q, ncombo);
    for (size_t a = 0; a < m && !rc; a++)
        w.ifold[a] = (int)fold_of(o->grouped ? d->writer[tr[a]] : d->message_id[tr[a]], o->seed + 1u + (uint32_t)outer,
                                  o->inner_folds);
    size_t bw[NT] = {0}, ba[NT] = {0}, bw2[NT] = {0}, ba2[NT] = {0};
    if (!rc)
        rc = fit_model(c, &c->spec[0], tr, m, te, q, &w, bw, ba, cap ? &cap->model[0] : NULL);
    for (size_t t = 0; t < NT && !rc; t++) {
        chosen[t * 4] = c->spec[0].alphas[ba[t]];
        chosen[t * 4 + 1] = c->spec[0].cwd[bw[t]];
        chosen[t * 4 + 2] = c->spec[0].cww[bw[t]];
        chosen[t * 4 + 3] = 0;
    }
    if (!rc && c->nspec > 1) {
        /* The blend: both models' stacked predictions, averaged (out-of-fold ones too, so the
         * conformal scores below are those of the blend). */
        memcpy(w.first_oof, w.stk_oof, NT * m * sizeof *w.stk_oof);
        memcpy(w.first_te, w.stk_te, NT * q * sizeof *w.stk_te);
        rc = fit_model(c, &c->spec[1], tr, m, te, q, &w, bw2, ba2, cap ? &cap->model[1] : NULL);
        for (size_t k = 0; k < NT * m && !rc; k++)
            w.stk_oof[k] = 0.5 * (w.first_oof[k] + w.stk_oof[k]);
        for (size_t k = 0; k < NT * q && !rc; k++)
            w.stk_te[k] = 0.5 * (w.first_te[k] + w.stk_te[k]);
        for (size_t t = 0; t < NT && !rc; t++)
            chosen[t * 4 + 3] = c->spec[1].alphas[ba2[t]];
    }
    for (size_t t = 0; t < NT && !rc; t++) {
        combine_kernel(c, &c->spec[0], bw[t]);
        rc = intervals(c, tr, m, te, q, &w, t, c->spec[0].alphas[ba[t]], lo, hi, lo_c, hi_c, cap);
        for (size_t v = 0; v < q; v++)
            pred[v * NT + t] = w.stk_te[t * q + v];
    }
    if (cap && cap->train_pred && !rc)
        for (size_t v = 0; v < q; v++)
            for (size_t t = 0; t < NT; t++)
                cap->train_pred[v * NT + t] = w.stk_te[t * q + v];
    fold_work_free(&w);
    return rc;
}

/* TF-IDF fitted on the training rows, applied to all rows; then the block kernels. */
static int fold_kernels(cv_ctx *c, const pth_csr *counts, const pth_hash_options *ho, const size_t *tr, size_t m,
                        const double *D, pth_tfidf *keep_tf, pth_csr *keep_X, double *mean, double *sd, pth_error *err)
{
    pth_csr Xtr, Xall;
    size_t bs[3];
    size_t nb = pth_hash_blocks(ho, bs);
    int rc = pth_csr_select_rows(counts, tr, m, &Xtr, err);
    if (rc)
        return rc;
    pth_tfidf tf;
    rc = pth_tfidf_fit(&tf, &Xtr, NULL, bs, nb, err);
    pth_csr_free(&Xtr);
    if (rc)
        return rc;
    size_t *all = malloc(c->N * sizeof *all);
    if (!all) {
        pth_tfidf_free(&tf);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->N; i++)
        all[i] = i;
    rc = pth_csr_select_rows(counts, all, c->N, &Xall, err);
    free(all);
    if (!rc)
        rc = pth_tfidf_transform(&tf, &Xall, err);
    if (keep_tf && !rc)
        *keep_tf = tf;
    else
        pth_tfidf_free(&tf);
    if (!rc && gram_blocks(&Xall, pth_newsemp_word_split(ho), c->Kw, c->Kc) != 0)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory computing the kernel");
    if (keep_X && !rc)
        *keep_X = Xall;
    else
        pth_csr_free(&Xall);
    if (keep_tf && rc)
        pth_tfidf_free(keep_tf);
    double mbuf[PTH_NEWSEMP_NDENSE_MAX], sbuf[PTH_NEWSEMP_NDENSE_MAX];
    if (!rc)
        dense_kernel(D, c->N, c->nd, tr, m, c->Kd, mean ? mean : mbuf, sd ? sd : sbuf);
    return rc;
}

static void summarise(const pth_newsemp *d, const pth_newsemp_options *o, pth_newsemp_result *r,
                      const double *lo_c, const double *hi_c, const double *chosen)
{
    size_t n = d->n, K = o->folds;
    double *x = malloc((4 * n + 1) * sizeof *x);
    if (!x)
        return;
    double *y = x + n, *wdt = y + n, *er = wdt + n;
    for (size_t t = 0; t < NT; t++) {
        pth_newsemp_metrics *mt = &r->target[t];
        double sr = 0, ss = 0;
        size_t nf = 0;
        for (size_t f = 0; f < K; f++) {
            size_t q = 0;
            for (size_t i = 0; i < n; i++)
                if (r->fold[i] == (int)f) {
                    x[q] = r->pred[i * NT + t];
                    y[q++] = target_value(d, t, i);
                }
            if (q < 3)
                continue;
            sr += pth_text_pearson(x, y, q);
            ss += pth_text_spearman(x, y, q);
            nf++;
        }
        mt->pearson = nf ? sr / (double)nf : NAN;
        mt->spearman = nf ? ss / (double)nf : NAN;
        double mae = 0, cov = 0, wid = 0, covc = 0, widc = 0;
        for (size_t i = 0; i < n; i++) {
            double yi = target_value(d, t, i), p = r->pred[i * NT + t];
            x[i] = p;
            y[i] = yi;
            mae += fabs(yi - p);
            cov += yi >= r->lo[i * NT + t] && yi <= r->hi[i * NT + t];
            wdt[i] = r->hi[i * NT + t] - r->lo[i * NT + t];
            er[i] = fabs(yi - p);
            wid += wdt[i];
            covc += yi >= lo_c[i * NT + t] && yi <= hi_c[i * NT + t];
            widc += hi_c[i * NT + t] - lo_c[i * NT + t];
        }
        mt->pearson_pooled = pth_text_pearson(x, y, n);
        mt->mae = mae / (double)n;
        mt->coverage = cov / (double)n;
        mt->mean_width = wid / (double)n;
        mt->coverage_const = covc / (double)n;
        mt->mean_width_const = widc / (double)n;
        mt->width_error_spearman = pth_text_spearman(wdt, er, n);
        double sa = 0, sw = 0, sww = 0, sb = 0;
        for (size_t f = 0; f < K; f++) {
            sa += chosen[(f * NT + t) * 4];
            sw += chosen[(f * NT + t) * 4 + 1];
            sww += chosen[(f * NT + t) * 4 + 2];
            sb += chosen[(f * NT + t) * 4 + 3];
        }
        mt->mean_alpha = sa / (double)K;
        mt->mean_dense_weight = sw / (double)K;
        mt->mean_word_weight = sww / (double)K;
        mt->mean_blend_alpha = sb / (double)K;
    }
    free(x);
}

static int check_options(const pth_newsemp *d, const pth_newsemp_options *o, pth_error *err)
{
    if (o->folds < 2 || o->folds > 100 || o->inner_folds < 2 || o->inner_folds > 100)
        return pth_fail(err, PTH_ERR_INVALID, "folds must be 2..100 (outer %zu, inner %zu)", o->folds,
                        o->inner_folds);
    if (!(o->miscoverage > 0 && o->miscoverage < 1))
        return pth_fail(err, PTH_ERR_INVALID, "miscoverage must be in (0, 1), got %g", o->miscoverage);
    if (!(o->rbf_gamma >= 0 && o->rbf_gamma < 1e6))
        return pth_fail(err, PTH_ERR_INVALID, "rbf_gamma must be 0 (linear) or a positive number, got %g", o->rbf_gamma);
    if (!(o->blend_gamma >= 0 && o->blend_gamma < 1e6))
        return pth_fail(err, PTH_ERR_INVALID, "blend_gamma must be 0 (no blend) or a positive number, got %g",
                        o->blend_gamma);
    if (o->blend_gamma > 0 && !(o->blend_word_weight >= 0 && o->blend_word_weight < 1e6))
        return pth_fail(err, PTH_ERR_INVALID, "blend_word_weight must be a non-negative number, got %g",
                        o->blend_word_weight);
    if (d->n < o->folds * 4)
        return pth_fail(err, PTH_ERR_INVALID, "%zu essays are too few for %zu folds", d->n, o->folds);
    /* Four dense N x N kernels: 8000 essays already need 2 GB. */
    if (d->n > 8000)
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "%zu essays: the exact kernel solver is limited to 8000", d->n);
    return PTH_OK;
}

static int ctx_init(cv_ctx *c, const pth_newsemp *d, const pth_newsemp_options *o, pth_error *err)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->o = o;
    c->N = d->n;
    c->nd = dense_count(o);
    kspec *s = &c->spec[0];
    s->gamma = o->rbf_gamma;
    s->alphas = o->alphas ? o->alphas : DEFAULT_ALPHAS;
    s->na = o->alphas ? o->n_alphas : sizeof DEFAULT_ALPHAS / sizeof *DEFAULT_ALPHAS;
    const double *dws = o->dense_weights ? o->dense_weights : DEFAULT_DENSE_W;
    size_t ndw = o->dense_weights ? o->n_dense_weights : sizeof DEFAULT_DENSE_W / sizeof *DEFAULT_DENSE_W;
    const double *wws = o->word_weights ? o->word_weights : DEFAULT_WORD_W;
    size_t nww = o->word_weights ? o->n_word_weights : sizeof DEFAULT_WORD_W / sizeof *DEFAULT_WORD_W;
    if (s->na == 0 || ndw == 0 || nww == 0 || ndw * nww > 256)
        return pth_fail(err, PTH_ERR_INVALID, "empty or too large grid (%zu alphas, %zu x %zu kernel weights)", s->na,
                        nww, ndw);
    for (size_t a = 0; a < nww; a++)
        for (size_t b = 0; b < ndw; b++) {
            s->cww[s->nw] = wws[a];
            s->cwd[s->nw++] = dws[b];
        }
    c->nspec = 1;
    if (o->blend_gamma > 0) {
        kspec *g = &c->spec[c->nspec++];
        g->gamma = o->blend_gamma;
        g->alphas = o->blend_alphas ? o->blend_alphas : DEFAULT_BLEND_ALPHAS;
        g->na = o->blend_alphas ? o->n_blend_alphas : sizeof DEFAULT_BLEND_ALPHAS / sizeof *DEFAULT_BLEND_ALPHAS;
        if (g->na == 0)
            return pth_fail(err, PTH_ERR_INVALID, "empty alpha grid for the Gaussian blend partner");
        /* Without the dense block: inside a Gaussian kernel it is left almost unregularised
         * by the small alphas and the inner CV over-fits it (bench/RESULTS-text-newsemp.md). */
        g->cww[0] = o->blend_word_weight;
        g->cwd[0] = 0;
        g->nw = 1;
    }
    return PTH_OK;
}

int pth_newsemp_cv(const pth_newsemp *d, const pth_newsemp_options *o, pth_newsemp_result *r, pth_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = check_options(d, o, err);
    if (rc)
        return rc;
    double t0 = now_s();
    size_t N = d->n;
    cv_ctx c;
    rc = ctx_init(&c, d, o, err);
    if (rc)
        return rc;
    pth_lexicon *vader = NULL, *afinn = NULL;
    pth_csr counts = {0};
    double *D = malloc(N * c.nd * sizeof *D), *lo_c = malloc(N * NT * sizeof *lo_c);
    double *hi_c = malloc(N * NT * sizeof *hi_c), *chosen = calloc(o->folds * NT * 4, sizeof *chosen);
    /* Per-fold outputs in test-row order: pred, lo, hi, lo_c, hi_c (q x NT each). */
    double *scratch = malloc(5 * N * NT * sizeof *scratch);
    size_t *tr = malloc(N * sizeof *tr), *te = malloc(N * sizeof *te);
    r->pred = malloc(N * NT * sizeof *r->pred);
    r->lo = malloc(N * NT * sizeof *r->lo);
    r->hi = malloc(N * NT * sizeof *r->hi);
    r->fold = malloc(N * sizeof *r->fold);
    r->n = N;
    c.Kw = malloc(N * N * sizeof *c.Kw);
    c.Kc = malloc(N * N * sizeof *c.Kc);
    c.Kd = malloc(N * N * sizeof *c.Kd);
    c.K = malloc(N * N * sizeof *c.K);
    c.diag = malloc(N * sizeof *c.diag);
    if (!D || !lo_c || !hi_c || !chosen || !scratch || !tr || !te || !r->pred || !r->lo || !r->hi || !r->fold ||
        !c.Kw || !c.Kc || !c.Kd || !c.K || !c.diag)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory for %zu essays", N);
    if (!rc)
        rc = pth_newsemp_load_lexicons(o->vader_path, o->afinn_dir, &vader, &afinn, err);
    if (!rc)
        rc = pth_csr_init(&counts, pth_hash_ncols(&o->hash), err);
    if (!rc) {
        double tf0 = now_s();
        rc = pth_text_hash_corpus(&o->hash, NULL, (const char *const *)d->essay, N, &counts, err);
        r->featurize_docs_per_s = (double)N / fmax(now_s() - tf0, 1e-9);
    }
    if (!rc)
        rc = dense_all((const char *const *)d->essay, N, vader, afinn, o->transfer, c.nd, D, err);
    if (!rc)
        pth_newsemp_folds(d, o->grouped, o->folds, o->seed, r->fold);
    for (size_t f = 0; f < o->folds && !rc; f++) {
        size_t m = 0, q = 0;
        for (size_t i = 0; i < N; i++) {
            if (r->fold[i] == (int)f)
                te[q++] = i;
            else
                tr[m++] = i;
        }
        if (q == 0)
            continue;
        double *fp = scratch, *fl = fp + q * NT, *fh = fl + q * NT, *flc = fh + q * NT, *fhc = flc + q * NT;
        rc = fold_kernels(&c, &counts, &o->hash, tr, m, D, NULL, NULL, NULL, NULL, err);
        if (!rc && run_fold(&c, tr, m, te, q, (int)f, fp, fl, fh, flc, fhc, chosen + f * NT * 4, NULL) != 0)
            rc = pth_fail(err, PTH_ERR_INTERNAL, "fold %zu: kernel ridge failed (out of memory or not positive definite)",
                          f);
        for (size_t v = 0; v < q && !rc; v++)
            for (size_t t = 0; t < NT; t++) {
                size_t at = te[v] * NT + t, from = v * NT + t;
                r->pred[at] = fp[from];
                r->lo[at] = fl[from];
                r->hi[at] = fh[from];
                lo_c[at] = flc[from];
                hi_c[at] = fhc[from];
            }
    }
    pth_lexicon_free(vader);
    pth_lexicon_free(afinn);
    pth_csr_free(&counts);
    kr_work_free(&c.kw);
    free(c.Kw);
    free(c.Kc);
    free(c.Kd);
    free(c.K);
    free(c.diag);
    free(D);
    free(tr);
    free(te);
    if (!rc)
        summarise(d, o, r, lo_c, hi_c, chosen);
    free(lo_c);
    free(hi_c);
    free(chosen);
    free(scratch);
    r->seconds = now_s() - t0;
    if (rc)
        pth_newsemp_result_free(r);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* Final model on all rows (for pathos/textreg.h)                                      */

void pth_newsemp_gauss_free(pth_newsemp_gauss *g)
{
    if (!g)
        return;
    free(g->a[0]);
    free(g->a[1]);
    free(g->indptr);
    free(g->pos);
    free(g->val);
    free(g->Z);
    free(g->sq);
    free(g->split);
    memset(g, 0, sizeof *g);
}

void pth_newsemp_fit_free(pth_newsemp_fit *m)
{
    if (!m)
        return;
    pth_tfidf_free(&m->tfidf);
    free(m->cols);
    for (int k = 0; k < 4; k++)
        free(m->w[k]);
    pth_newsemp_gauss_free(&m->g);
    free(m->train_pred);
    memset(m, 0, sizeof *m);
}

size_t pth_newsemp_word_split(const pth_hash_options *h)
{
    size_t bs[3];
    pth_hash_blocks(h, bs);
    return h->word_bits ? bs[1] : 0;
}

int pth_newsemp_gauss_prepare(pth_newsemp_gauss *g, const uint32_t *cols, size_t split, size_t ndense)
{
    free(g->sq);
    free(g->split);
    g->sq = malloc((3 * g->n + 1) * sizeof *g->sq);
    g->split = malloc((g->n + 1) * sizeof *g->split);
    if (!g->sq || !g->split)
        return -1;
    for (size_t j = 0; j < g->n; j++) {
        double sw = 0, sc = 0, sz = 0;
        size_t k = g->indptr[j];
        for (; k < g->indptr[j + 1] && cols[g->pos[k]] < split; k++)
            sw += (double)g->val[k] * (double)g->val[k];
        g->split[j] = k;
        for (; k < g->indptr[j + 1]; k++)
            sc += (double)g->val[k] * (double)g->val[k];
        for (size_t f = 0; f < ndense; f++)
            sz += g->Z[j * ndense + f] * g->Z[j * ndense + f];
        g->sq[3 * j] = sw;
        g->sq[3 * j + 1] = sc;
        g->sq[3 * j + 2] = sz / (double)ndense;
    }
    return 0;
}

/* The same kernel as combine_kernel + pth_newsemp_rbf_kernel in the CV, between a new row and
 * each training row: the three block dot products once per training row, then per target. */
void pth_newsemp_gauss_predict(const pth_newsemp_gauss *g, size_t ndense, const double *q, double qw, double qc,
                               const double *z, double out[2])
{
    double qz = 0, raw[2], s[2], kxx[2];
    for (size_t f = 0; f < ndense; f++)
        qz += z[f] * z[f];
    qz /= (double)ndense;
    int need_z = g->wd[0] != 0 || g->wd[1] != 0;
    for (int t = 0; t < 2; t++) {
        raw[t] = g->b[t];
        s[t] = g->ww[t] + 1.0 + g->wd[t];
        kxx[t] = g->ww[t] * qw + qc + g->wd[t] * qz;
    }
    for (size_t j = 0; j < g->n; j++) {
        double dw = 0, dc = 0, dz = 0;
        for (size_t k = g->indptr[j]; k < g->split[j]; k++)
            dw += (double)g->val[k] * q[g->pos[k]];
        for (size_t k = g->split[j]; k < g->indptr[j + 1]; k++)
            dc += (double)g->val[k] * q[g->pos[k]];
        if (need_z) {
            for (size_t f = 0; f < ndense; f++)
                dz += z[f] * g->Z[j * ndense + f];
            dz /= (double)ndense;
        }
        const double *sq = g->sq + 3 * j;
        for (int t = 0; t < 2; t++) {
            double lin = g->ww[t] * dw + dc + g->wd[t] * dz;
            double d2 = kxx[t] + g->ww[t] * sq[0] + sq[1] + g->wd[t] * sq[2] - 2.0 * lin;
            raw[t] += g->a[t][j] * s[t] * exp(-g->gamma / (2.0 * s[t]) * (d2 > 0 ? d2 : 0.0));
        }
    }
    for (int t = 0; t < 2; t++)
        out[t] = g->beta[t][0] + g->beta[t][1] * raw[0] + g->beta[t][2] * raw[1];
}

/* Primal weights of the kernel-ridge function with dual weights a over the rows of X (TF-IDF,
 * word block below `split`) and Z (standardised dense rows): word columns ww X^T a, char
 * columns X^T a, dense wd Z^T a / nd (the kernels of gram_blocks and dense_kernel). */
static void primal(const pth_csr *X, size_t split, const double *Z, size_t nd, const double *a, double ww, double wd,
                   const uint32_t *pos, double *w, double *dw)
{
    for (size_t j = 0; j < X->nrows; j++)
        for (size_t k = X->indptr[j]; k < X->indptr[j + 1]; k++) {
            uint32_t col = X->indices[k];
            w[pos[col]] += (col < split ? ww : 1.0) * a[j] * (double)X->data[k];
        }
    for (size_t j = 0; j < X->nrows; j++)
        for (size_t f = 0; f < nd; f++)
            dw[f] += wd * a[j] * Z[j * nd + f] / (double)nd;
}

/* The blend partner in dual form: its training rows (TF-IDF on support positions, dense z),
 * dual weights, intercepts and stacking from the capture. */
static int keep_gauss(pth_newsemp_fit *m, const cv_ctx *c, const fit_capture *cap, const pth_csr *X, const double *Z,
                      const uint32_t *pos, size_t split, const double *chosen)
{
    pth_newsemp_gauss *g = &m->g;
    const kspec *s = &c->spec[1];
    size_t N = X->nrows, nnz = X->indptr[N], nd = m->ndense;
    g->gamma = s->gamma;
    g->n = N;
    g->indptr = malloc((N + 1) * sizeof *g->indptr);
    g->pos = malloc((nnz + 1) * sizeof *g->pos);
    g->val = malloc((nnz + 1) * sizeof *g->val);
    g->Z = malloc((N * nd + 1) * sizeof *g->Z);
    for (int t = 0; t < NT; t++)
        g->a[t] = malloc((N + 1) * sizeof *g->a[t]);
    if (!g->indptr || !g->pos || !g->val || !g->Z || !g->a[0] || !g->a[1])
        return -1;
    for (size_t j = 0; j <= N; j++)
        g->indptr[j] = X->indptr[j];
    for (size_t k = 0; k < nnz; k++) {
        g->pos[k] = pos[X->indices[k]];
        g->val[k] = X->data[k];
    }
    memcpy(g->Z, Z, N * nd * sizeof *Z);
    for (int t = 0; t < NT; t++) {
        const model_capture *mc = &cap->model[1];
        memcpy(g->a[t], mc->a[t], N * sizeof *g->a[t]);
        g->b[t] = mc->b[t];
        memcpy(g->beta[t], mc->beta[t], sizeof g->beta[t]);
        g->ww[t] = s->cww[mc->combo[t]];
        g->wd[t] = s->cwd[mc->combo[t]];
        g->alpha[t] = chosen[t * 4 + 3];
    }
    return pth_newsemp_gauss_prepare(g, m->cols, split, nd);
}

int pth_newsemp_fit_all(const pth_newsemp *d, const pth_newsemp_options *o, pth_newsemp_fit *m, pth_error *err)
{
    memset(m, 0, sizeof *m);
    int rc = check_options(d, o, err);
    if (rc)
        return rc;
    /* The saved regressor's first model is primal (linear); a Gaussian first model is CV-only. */
    if (o->rbf_gamma > 0)
        return pth_fail(err, PTH_ERR_UNSUPPORTED,
                        "the Gaussian kernel (rbf_gamma %g) is CV-only: a saved NewsEmp model's first kernel is linear "
                        "(use the Gaussian blend partner, blend_gamma)",
                        o->rbf_gamma);
    cv_ctx c;
    rc = ctx_init(&c, d, o, err);
    if (rc)
        return rc;
    size_t N = d->n, ncols = pth_hash_ncols(&o->hash);
    m->hash = o->hash;
    m->miscoverage = o->miscoverage;
    m->n_train = N;
    pth_lexicon *vader = NULL, *afinn = NULL;
    pth_csr counts = {0}, X = {0};
    fit_capture cap;
    memset(&cap, 0, sizeof cap);
    size_t nd = c.nd;
    m->ndense = nd;
    double *D = malloc(N * nd * sizeof *D), *Z = malloc(N * nd * sizeof *Z);
    double *abuf = calloc(6 * N, sizeof *abuf), *pred = malloc(5 * NT * N * sizeof *pred);
    double chosen[NT * 4];
    size_t *all = malloc(N * sizeof *all);
    uint32_t *pos = malloc(ncols * sizeof *pos);
    m->train_pred = malloc(NT * N * sizeof *m->train_pred);
    c.Kw = malloc(N * N * sizeof *c.Kw);
    c.Kc = malloc(N * N * sizeof *c.Kc);
    c.Kd = malloc(N * N * sizeof *c.Kd);
    c.K = malloc(N * N * sizeof *c.K);
    c.diag = malloc(N * sizeof *c.diag);
    if (!D || !Z || !abuf || !pred || !all || !pos || !m->train_pred || !c.Kw || !c.Kc || !c.Kd || !c.K || !c.diag)
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory for %zu essays", N);
    for (size_t i = 0; i < N && !rc; i++)
        all[i] = i;
    for (size_t t = 0; t < NT && abuf; t++) {
        cap.model[0].a[t] = abuf + t * N;
        cap.a_sig[t] = abuf + (NT + t) * N;
        cap.model[1].a[t] = abuf + (2 * NT + t) * N;
    }
    cap.train_pred = m->train_pred;
    if (!rc)
        rc = pth_newsemp_load_lexicons(o->vader_path, o->afinn_dir, &vader, &afinn, err);
    if (!rc)
        rc = pth_csr_init(&counts, ncols, err);
    if (!rc)
        rc = pth_text_hash_corpus(&o->hash, NULL, (const char *const *)d->essay, N, &counts, err);
    if (!rc)
        rc = dense_all((const char *const *)d->essay, N, vader, afinn, o->transfer, nd, D, err);
    pth_lexicon_free(vader);
    pth_lexicon_free(afinn);
    if (!rc)
        rc = fold_kernels(&c, &counts, &o->hash, all, N, D, &m->tfidf, &X, m->mean, m->sd, err);
    pth_csr_free(&counts);
    /* The inner folds use the seed of outer fold 0.  The training rows are also the "test"
     * rows, so the capture holds the final model's own predictions of them. */
    if (!rc && run_fold(&c, all, N, all, N, 0, pred, pred + NT * N, pred + 2 * NT * N, pred + 3 * NT * N,
                        pred + 4 * NT * N, chosen, &cap) != 0)
        rc = pth_fail(err, PTH_ERR_INTERNAL, "kernel ridge failed (out of memory or not positive definite)");
    kr_work_free(&c.kw);
    free(c.Kw);
    free(c.Kc);
    free(c.Kd);
    free(c.K);
    free(c.diag);
    if (!rc) {
        for (size_t i = 0; i < N; i++)
            dense_z_n(D + i * nd, m->mean, m->sd, nd, Z + i * nd);
        /* Support = the columns that occur in training (every other weight is zero). */
        memset(pos, 0xff, ncols * sizeof *pos);
        for (size_t k = 0; k < X.indptr[N]; k++)
            pos[X.indices[k]] = 0;
        for (size_t col = 0; col < ncols; col++)
            m->nnz += pos[col] == 0;
        m->cols = malloc((m->nnz + 1) * sizeof *m->cols);
        for (int k = 0; k < 4; k++)
            m->w[k] = calloc(m->nnz + 1, sizeof *m->w[k]);
        if (!m->cols || !m->w[0] || !m->w[1] || !m->w[2] || !m->w[3])
            rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        size_t s = 0, split = pth_newsemp_word_split(&o->hash);
        for (size_t col = 0; col < ncols; col++)
            if (pos[col] == 0) {
                m->cols[s] = (uint32_t)col;
                pos[col] = (uint32_t)s++;
            }
        const kspec *s0 = &c.spec[0];
        for (size_t t = 0; t < NT; t++) {
            const model_capture *mc = &cap.model[0];
            double ww = s0->cww[mc->combo[t]], wd = s0->cwd[mc->combo[t]];
            primal(&X, split, Z, nd, mc->a[t], ww, wd, pos, m->w[t], m->dw[t]);
            primal(&X, split, Z, nd, cap.a_sig[t], ww, wd, pos, m->w[NT + t], m->dw[NT + t]);
            m->b[t] = mc->b[t];
            m->b[NT + t] = cap.b_sig[t];
            memcpy(m->beta[t], mc->beta[t], sizeof mc->beta[t]);
            m->qn[t] = cap.qn[t];
            m->floor_s[t] = cap.floor_s[t];
            m->alpha[t] = chosen[t * 4];
            m->dense_w[t] = chosen[t * 4 + 1];
            m->word_w[t] = chosen[t * 4 + 2];
        }
        if (c.nspec > 1 && keep_gauss(m, &c, &cap, &X, Z, pos, split, chosen) != 0)
            rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory keeping the Gaussian partner's training rows");
    }
    pth_csr_free(&X);
    free(D);
    free(Z);
    free(abuf);
    free(pred);
    free(all);
    free(pos);
    if (rc)
        pth_newsemp_fit_free(m);
    return rc;
}
