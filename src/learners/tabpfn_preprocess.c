/* Per-member preprocessing of the "tabpfn" learner: see tabpfn_preprocess.h. */
#include "learners/tabpfn_preprocess.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t pth_tpp_coarse_quantiles(size_t n)
{
    size_t nq = n / 10 < 2 ? 2 : n / 10;
    return nq > n ? n : nq;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void pth_tpp_quantile_fit(const double *col, size_t stride, size_t n, size_t nq, double *q, double *work)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(col[i * stride]))
            work[m++] = col[i * stride];
    if (m == 0) {
        for (size_t i = 0; i < nq; i++)
            q[i] = 0.0;
        return;
    }
    qsort(work, m, sizeof *work, cmp_double);
    for (size_t i = 0; i < nq; i++) {
        /* numpy percentile, method 'linear': position p * (m - 1) in the sorted values. */
        double p = nq > 1 ? (double)i / (double)(nq - 1) : 0.0;
        double pos = p * (double)(m - 1);
        size_t lo = (size_t)floor(pos);
        if (lo >= m - 1)
            q[i] = work[m - 1];
        else {
            double f = pos - (double)lo;
            q[i] = work[lo] + (work[lo + 1] - work[lo]) * f;
        }
        if (i > 0 && q[i] < q[i - 1]) /* np.maximum.accumulate */
            q[i] = q[i - 1];
    }
}

static double ref_at(size_t i, size_t nq)
{
    return nq > 1 ? (double)i / (double)(nq - 1) : 0.0;
}

double pth_tpp_quantile_apply(const double *q, size_t nq, double x)
{
    if (isnan(x))
        return x;
    const double eps = 1e-7; /* sklearn's BOUNDS_THRESHOLD */
    if (x - eps < q[0])
        return 0.0;
    if (x + eps > q[nq - 1])
        return 1.0;
    /* Forward interpolation (np.interp): the last i with q[i] <= x. */
    size_t lo = 0, hi = nq; /* first index with q > x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i = lo - 1; /* q[0] <= x, so lo >= 1; x < q[nq-1], so i < nq - 1 */
    double fwd = ref_at(i, nq) + (ref_at(i + 1, nq) - ref_at(i, nq)) * (x - q[i]) / (q[i + 1] - q[i]);
    /* Backward interpolation: the first j with q[j] >= x. */
    lo = 0, hi = nq;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t j = lo; /* q[0] < x, so j >= 1 */
    double bwd = ref_at(j, nq) - (ref_at(j, nq) - ref_at(j - 1, nq)) * (q[j] - x) / (q[j] - q[j - 1]);
    return 0.5 * (fwd + bwd);
}

/* Cyclic Jacobi eigen-decomposition of the symmetric m x m matrix a (destroyed); eigenvectors
 * in the columns of v. */
static void jacobi_eigen(double *a, size_t m, double *v)
{
    for (size_t i = 0; i < m * m; i++)
        v[i] = 0.0;
    for (size_t i = 0; i < m; i++)
        v[i * m + i] = 1.0;
    double norm = 0.0;
    for (size_t i = 0; i < m * m; i++)
        norm += a[i] * a[i];
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0;
        for (size_t p = 0; p < m; p++)
            for (size_t q = p + 1; q < m; q++)
                off += a[p * m + q] * a[p * m + q];
        if (off <= 1e-30 * norm || off == 0.0)
            break;
        for (size_t p = 0; p < m; p++)
            for (size_t q = p + 1; q < m; q++) {
                double apq = a[p * m + q];
                if (apq == 0.0)
                    continue;
                double theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (size_t k = 0; k < m; k++) { /* columns p, q */
                    double akp = a[k * m + p], akq = a[k * m + q];
                    a[k * m + p] = c * akp - s * akq;
                    a[k * m + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < m; k++) { /* rows p, q */
                    double apk = a[p * m + k], aqk = a[q * m + k];
                    a[p * m + k] = c * apk - s * aqk;
                    a[q * m + k] = s * apk + c * aqk;
                }
                a[p * m + q] = a[q * m + p] = 0.0;
                for (size_t k = 0; k < m; k++) {
                    double vkp = v[k * m + p], vkq = v[k * m + q];
                    v[k * m + p] = c * vkp - s * vkq;
                    v[k * m + q] = s * vkp + c * vkq;
                }
            }
    }
}

int pth_tpp_svd_top(const double *A, size_t n, size_t m, size_t k, double *V, double *sv, pth_error *err)
{
    if (k > m)
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn svd: %zu components of %zu columns", k, m);
    double *G = calloc(m * m, sizeof *G), *E = malloc(m * m * sizeof *E);
    size_t *order = malloc(m * sizeof *order);
    if (!G || !E || !order) {
        free(G), free(E), free(order);
        return pth_fail(err, PTH_ERR_NOMEM, "tabpfn svd: out of memory (%zu columns)", m);
    }
    for (size_t r = 0; r < n; r++) {
        const double *x = A + r * m;
        for (size_t i = 0; i < m; i++) {
            if (x[i] == 0.0)
                continue;
            for (size_t j = i; j < m; j++)
                G[i * m + j] += x[i] * x[j];
        }
    }
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < i; j++)
            G[i * m + j] = G[j * m + i];
    jacobi_eigen(G, m, E);
    /* Eigenvalues descending (stable on ties: lower index first). */
    for (size_t i = 0; i < m; i++)
        order[i] = i;
    for (size_t i = 1; i < m; i++) {
        size_t o = order[i], j = i;
        while (j > 0 && G[order[j - 1] * m + order[j - 1]] < G[o * m + o]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = o;
    }
    for (size_t c = 0; c < k; c++) {
        size_t e = order[c];
        double lam = G[e * m + e];
        sv[c] = lam > 0 ? sqrt(lam) : 0.0;
        size_t arg = 0;
        for (size_t i = 1; i < m; i++)
            if (fabs(E[i * m + e]) > fabs(E[arg * m + e]))
                arg = i;
        double sgn = E[arg * m + e] < 0 ? -1.0 : 1.0;
        for (size_t i = 0; i < m; i++)
            V[i * k + c] = sgn * E[i * m + e];
    }
    free(G), free(E), free(order);
    return PTH_OK;
}

size_t pth_tpp_width(const pth_tpp *p)
{
    return p->width;
}

size_t pth_tpp_blocks(const pth_tpp *p)
{
    return p->quantile && p->append_original ? 2 : 1;
}

void pth_tpp_free(pth_tpp *p)
{
    if (!p)
        return;
    free(p->q), free(p->scale), free(p->V), free(p->sv);
    memset(p, 0, sizeof *p);
}

/* Quantile and original blocks of n rows into T (n x svd_in doubles). */
static void base_blocks(const pth_tpp *p, const float *X, size_t n, double *T)
{
    size_t d = p->d, w = p->svd_in;
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < d; j++) {
            double x = (double)X[r * d + j];
            T[r * w + j] = pth_tpp_quantile_apply(p->q + j * p->nq, p->nq, x);
            if (p->append_original)
                T[r * w + d + j] = x;
        }
}

/* The SVD input: scaled, non-finite values as 0. */
static double svd_in_value(const pth_tpp *p, double x, size_t j)
{
    return isfinite(x) ? x * p->scale[j] : 0.0;
}

int pth_tpp_fit(pth_tpp *p, const pth_tpp_config *cfg, const float *X, size_t n, size_t d, pth_error *err)
{
    memset(p, 0, sizeof *p);
    if (d > cfg->max_features)
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn: %zu features exceed max_features=%zu", d, cfg->max_features);
    p->d = d, p->quantile = cfg->quantile;
    size_t budget = cfg->max_features;
    if (!p->quantile) {
        p->fingerprint = cfg->fingerprint && d + 1 <= budget;
        p->width = d + (size_t)p->fingerprint;
        return PTH_OK;
    }
    size_t want_svd = 0;
    if (cfg->svd) {
        want_svd = n / 10 + 1 < d / 2 ? n / 10 + 1 : d / 2;
        if (want_svd < 1)
            want_svd = 1;
    }
    p->append_original = 2 * d + want_svd + (cfg->fingerprint ? 1 : 0) <= budget;
    size_t base = d * (p->append_original ? 2u : 1u);
    p->n_svd = base + want_svd <= budget ? want_svd : budget - base;
    p->fingerprint = cfg->fingerprint && base + p->n_svd + 1 <= budget;
    p->svd_in = base;
    p->width = base + p->n_svd + (size_t)p->fingerprint;
    p->nq = pth_tpp_coarse_quantiles(n);
    p->q = malloc(d * p->nq * sizeof *p->q);
    double *col = malloc(n * sizeof *col), *work = malloc(n * sizeof *work);
    int rc = PTH_OK;
    if (!p->q || !col || !work)
        rc = pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory for the quantile transform");
    for (size_t j = 0; !rc && j < d; j++) {
        for (size_t r = 0; r < n; r++)
            col[r] = (double)X[r * d + j];
        pth_tpp_quantile_fit(col, 1, n, p->nq, p->q + j * p->nq, work);
    }
    free(col), free(work);
    if (rc || p->n_svd == 0) {
        if (rc)
            pth_tpp_free(p);
        return rc;
    }
    size_t w = p->svd_in;
    double *T = malloc(n * w * sizeof *T);
    p->scale = malloc(w * sizeof *p->scale);
    p->V = malloc(w * p->n_svd * sizeof *p->V);
    p->sv = malloc(p->n_svd * sizeof *p->sv);
    if (!T || !p->scale || !p->V || !p->sv)
        rc = pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory for the SVD features");
    if (!rc) {
        base_blocks(p, X, n, T);
        /* StandardScaler(with_mean=False): divide by the population std of the finite values. */
        for (size_t j = 0; j < w; j++) {
            double s = 0, ss = 0;
            size_t cnt = 0;
            for (size_t r = 0; r < n; r++)
                if (isfinite(T[r * w + j]))
                    s += T[r * w + j], cnt++;
            double mean = cnt ? s / (double)cnt : 0.0;
            for (size_t r = 0; r < n; r++)
                if (isfinite(T[r * w + j]))
                    ss += (T[r * w + j] - mean) * (T[r * w + j] - mean);
            double sd = cnt ? sqrt(ss / (double)cnt) : 0.0;
            p->scale[j] = sd > 0 ? 1.0 / sd : 1.0;
        }
        for (size_t r = 0; r < n; r++)
            for (size_t j = 0; j < w; j++)
                T[r * w + j] = svd_in_value(p, T[r * w + j], j);
        rc = pth_tpp_svd_top(T, n, w, p->n_svd, p->V, p->sv, err);
    }
    free(T);
    if (rc)
        pth_tpp_free(p);
    return rc;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Hash of a row's float bit patterns (NaN canonical) and a salt, as a value in [0, 1) with
 * 10000 levels, as the reference's _float_hash_arr. */
static double row_hash(const float *row, size_t w, uint64_t salt)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ mix64(salt + 1);
    for (size_t j = 0; j < w; j++) {
        float f = isnan(row[j]) ? NAN : row[j];
        uint32_t b;
        memcpy(&b, &f, sizeof b);
        h = mix64(h ^ b);
    }
    return (double)(h % 10000u) / 10000.0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int pth_tpp_transform(const pth_tpp *p, const float *X, size_t n, int train, float *out, pth_error *err)
{
    size_t d = p->d, W = p->width, wf = W - (size_t)p->fingerprint;
    if (!p->quantile) {
        for (size_t r = 0; r < n; r++)
            memcpy(out + r * W, X + r * d, d * sizeof *out);
    } else {
        size_t w = p->svd_in;
        double *T = malloc(n * w * sizeof *T + 1);
        if (!T)
            return pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory preprocessing %zu rows", n);
        base_blocks(p, X, n, T);
        for (size_t r = 0; r < n; r++) {
            const double *t = T + r * w;
            float *o = out + r * W;
            for (size_t j = 0; j < w; j++)
                o[j] = (float)t[j];
            for (size_t c = 0; c < p->n_svd; c++) {
                double acc = 0.0;
                for (size_t j = 0; j < w; j++)
                    acc += svd_in_value(p, t[j], j) * p->V[j * p->n_svd + c];
                o[w + c] = (float)acc;
            }
        }
        free(T);
    }
    if (!p->fingerprint)
        return PTH_OK;
    if (!train) {
        for (size_t r = 0; r < n; r++)
            out[r * W + wf] = (float)row_hash(out + r * W, wf, 0);
        return PTH_OK;
    }
    /* Training rows: a hash already taken by an earlier row is re-drawn with the next salt. */
    float *seen = malloc(n * sizeof *seen + 1);
    if (!seen)
        return pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory for the fingerprints");
    size_t n_seen = 0;
    for (size_t r = 0; r < n; r++) {
        float h = 0;
        for (uint64_t salt = 0;; salt++) {
            h = (float)row_hash(out + r * W, wf, salt);
            int dup = 0;
            if (n_seen) {
                const float *hit = bsearch(&h, seen, n_seen, sizeof *seen, cmp_float);
                dup = hit != NULL;
            }
            if (!dup || salt >= 1000) /* more rows than levels: give up on uniqueness */
                break;
        }
        out[r * W + wf] = h;
        /* insert h into the sorted set */
        size_t k = n_seen++;
        while (k > 0 && seen[k - 1] > h) {
            seen[k] = seen[k - 1];
            k--;
        }
        seen[k] = h;
    }
    free(seen);
    return PTH_OK;
}
