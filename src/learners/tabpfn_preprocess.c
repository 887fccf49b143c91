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

/* Eigen-decomposition of the symmetric m x m matrix v (row-major, overwritten by the
 * eigenvectors, in its columns): Householder tridiagonalisation and the implicit QL method
 * (the EISPACK tred2 / tql2 algorithms, as in JAMA).  d: eigenvalues, e: m doubles of work.
 * Returns 0, or -1 if QL did not converge. */
static int sym_eigen(double *v, size_t m, double *d, double *e)
{
#define V_(i, j) v[(size_t)(i) * m + (size_t)(j)]
    size_t n = m;
    for (size_t j = 0; j < n; j++)
        d[j] = V_(n - 1, j);
    for (size_t i = n - 1; i > 0; i--) {
        double scale = 0.0, h = 0.0;
        for (size_t k = 0; k < i; k++)
            scale += fabs(d[k]);
        if (scale == 0.0) {
            e[i] = d[i - 1];
            for (size_t j = 0; j < i; j++) {
                d[j] = V_(i - 1, j);
                V_(i, j) = 0.0;
                V_(j, i) = 0.0;
            }
        } else {
            for (size_t k = 0; k < i; k++) {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            double f = d[i - 1], g = sqrt(h);
            if (f > 0)
                g = -g;
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for (size_t j = 0; j < i; j++)
                e[j] = 0.0;
            for (size_t j = 0; j < i; j++) {
                f = d[j];
                V_(j, i) = f;
                g = e[j] + V_(j, j) * f;
                for (size_t k = j + 1; k + 1 <= i; k++) {
                    g += V_(k, j) * d[k];
                    e[k] += V_(k, j) * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for (size_t j = 0; j < i; j++) {
                e[j] /= h;
                f += e[j] * d[j];
            }
            double hh = f / (h + h);
            for (size_t j = 0; j < i; j++)
                e[j] -= hh * d[j];
            for (size_t j = 0; j < i; j++) {
                f = d[j];
                g = e[j];
                for (size_t k = j; k + 1 <= i; k++)
                    V_(k, j) -= (f * e[k] + g * d[k]);
                d[j] = V_(i - 1, j);
                V_(i, j) = 0.0;
            }
        }
        d[i] = h;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        V_(n - 1, i) = V_(i, i);
        V_(i, i) = 1.0;
        double h = d[i + 1];
        if (h != 0.0) {
            for (size_t k = 0; k <= i; k++)
                d[k] = V_(k, i + 1) / h;
            for (size_t j = 0; j <= i; j++) {
                double g = 0.0;
                for (size_t k = 0; k <= i; k++)
                    g += V_(k, i + 1) * V_(k, j);
                for (size_t k = 0; k <= i; k++)
                    V_(k, j) -= g * d[k];
            }
        }
        for (size_t k = 0; k <= i; k++)
            V_(k, i + 1) = 0.0;
    }
    for (size_t j = 0; j < n; j++) {
        d[j] = V_(n - 1, j);
        V_(n - 1, j) = 0.0;
    }
    V_(n - 1, n - 1) = 1.0;
    e[0] = 0.0;

    for (size_t i = 1; i < n; i++)
        e[i - 1] = e[i];
    e[n - 1] = 0.0;
    double f = 0.0, tst1 = 0.0;
    const double eps = 0x1p-52;
    for (size_t l = 0; l < n; l++) {
        tst1 = fmax(tst1, fabs(d[l]) + fabs(e[l]));
        size_t mm = l;
        while (mm < n) {
            if (fabs(e[mm]) <= eps * tst1)
                break;
            mm++;
        }
        if (mm == n)
            mm = n - 1; /* e[n-1] == 0, so the loop always stops at n - 1 at the latest */
        if (mm > l) {
            int iter = 0;
            do {
                if (++iter > 100)
                    return -1;
                double g = d[l];
                double p = (d[l + 1] - g) / (2.0 * e[l]);
                double r = hypot(p, 1.0);
                if (p < 0)
                    r = -r;
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                double dl1 = d[l + 1];
                double h = g - d[l];
                for (size_t i = l + 2; i < n; i++)
                    d[i] -= h;
                f += h;
                p = d[mm];
                double c = 1.0, c2 = c, c3 = c, el1 = e[l + 1], s = 0.0, s2 = 0.0;
                for (size_t i = mm; i-- > l;) {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = hypot(p, e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for (size_t k = 0; k < n; k++) {
                        h = V_(k, i + 1);
                        V_(k, i + 1) = s * V_(k, i) + c * h;
                        V_(k, i) = c * V_(k, i) - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
            } while (fabs(e[l]) > eps * tst1);
        }
        d[l] += f;
        e[l] = 0.0;
    }
    return 0;
#undef V_
}

int pth_tpp_svd_top(const double *A, size_t n, size_t m, size_t k, double *V, double *sv, pth_error *err)
{
    if (k > m)
        return pth_fail(err, PTH_ERR_INVALID, "tabpfn svd: %zu components of %zu columns", k, m);
    /* Fewer rows than columns: decompose A A^T (n x n) instead and map back, v = A^T u / |A^T u|. */
    const int rows = n < m;
    const size_t q = rows ? n : m;
    double *G = calloc(q * q + 1, sizeof *G), *lam = malloc(q * sizeof *lam + 1), *wk = malloc(q * sizeof *wk + 1);
    double *v = malloc(m * sizeof *v);
    size_t *order = malloc(q * sizeof *order + 1);
    if (!G || !lam || !wk || !order || !v) {
        free(G), free(lam), free(wk), free(order), free(v);
        return pth_fail(err, PTH_ERR_NOMEM, "tabpfn svd: out of memory (%zu columns)", m);
    }
    if (rows) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i; j < n; j++) {
                double acc = 0.0;
                for (size_t c = 0; c < m; c++)
                    acc += A[i * m + c] * A[j * m + c];
                G[i * n + j] = acc;
            }
    } else {
        for (size_t r = 0; r < n; r++) {
            const double *x = A + r * m;
            for (size_t i = 0; i < m; i++) {
                if (x[i] == 0.0)
                    continue;
                for (size_t j = i; j < m; j++)
                    G[i * m + j] += x[i] * x[j];
            }
        }
    }
    for (size_t i = 0; i < q; i++)
        for (size_t j = 0; j < i; j++)
            G[i * q + j] = G[j * q + i];
    if (q > 0 && sym_eigen(G, q, lam, wk)) {
        free(G), free(lam), free(wk), free(order), free(v);
        return pth_fail(err, PTH_ERR_INTERNAL, "tabpfn svd: the eigen-decomposition did not converge");
    }
    const double *E = G; /* eigenvectors in the columns */
    /* Eigenvalues descending (stable on ties: lower index first). */
    for (size_t i = 0; i < q; i++)
        order[i] = i;
    for (size_t i = 1; i < q; i++) {
        size_t o = order[i], j = i;
        while (j > 0 && lam[order[j - 1]] < lam[o]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = o;
    }
    for (size_t c = 0; c < k; c++) {
        size_t e = c < q ? order[c] : 0;
        sv[c] = c < q && lam[e] > 0 ? sqrt(lam[e]) : 0.0;
        if (!rows) {
            for (size_t i = 0; i < m; i++)
                v[i] = E[i * m + e];
        } else {
            double nrm = 0.0;
            for (size_t i = 0; i < m; i++) {
                double acc = 0.0;
                for (size_t r = 0; c < q && sv[c] > 0 && r < n; r++)
                    acc += A[r * m + i] * E[r * n + e];
                v[i] = acc, nrm += acc * acc;
            }
            nrm = sqrt(nrm);
            for (size_t i = 0; i < m; i++)
                v[i] = nrm > 0 ? v[i] / nrm : 0.0;
        }
        size_t arg = 0;
        for (size_t i = 1; i < m; i++)
            if (fabs(v[i]) > fabs(v[arg]))
                arg = i;
        double sgn = v[arg] < 0 ? -1.0 : 1.0;
        for (size_t i = 0; i < m; i++)
            V[i * k + c] = sgn * v[i];
    }
    free(G), free(lam), free(wk), free(order), free(v);
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
    free(p->q), free(p->scale), free(p->V), free(p->sv), free(p->lo), free(p->hi);
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

static int fit_raw(pth_tpp *p, const pth_tpp_config *cfg, const float *X, size_t n, size_t d, pth_error *err)
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
    p->append_original = cfg->append_original && 2 * d + want_svd + (cfg->fingerprint ? 1 : 0) <= budget;
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

static int transform_raw(const pth_tpp *p, const float *X, size_t n, int train, float *out, pth_error *err)
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

/* The reference's remove_outliers (InputNormalizationEncoderStep, n_sigma = outlier_std):
 * bounds mean -+ n_sigma * std (NaN-ignoring, ddof 1) of the training column, recomputed
 * once with the values outside the first bounds left out; then every value is squashed
 * softly into them: x = max(-log(1 + |x|) + lower, x); x = min(log(1 + |x|) + upper, x). */
static void outlier_bounds(const float *T, size_t n, size_t W, size_t j, double k, double *lo, double *hi)
{
    double l = -INFINITY, u = INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        double s = 0, ss = 0;
        size_t cnt = 0;
        for (size_t r = 0; r < n; r++) {
            double x = T[r * W + j];
            if (!isnan(x) && x >= l && x <= u)
                s += x, cnt++;
        }
        double mean = cnt ? s / (double)cnt : NAN;
        for (size_t r = 0; r < n; r++) {
            double x = T[r * W + j];
            if (!isnan(x) && x >= l && x <= u)
                ss += (x - mean) * (x - mean);
        }
        double sd = cnt > 1 ? sqrt(ss / (double)(cnt - 1)) : NAN;
        l = mean - k * sd, u = mean + k * sd;
        if (isnan(l) || isnan(u)) /* too few values: no clipping (the reference gets NaN bounds) */
            l = -INFINITY, u = INFINITY;
    }
    *lo = l, *hi = u;
}

int pth_tpp_fit(pth_tpp *p, const pth_tpp_config *cfg, const float *X, size_t n, size_t d, pth_error *err)
{
    int rc = fit_raw(p, cfg, X, n, d, err);
    if (rc || !(cfg->outlier_std > 0))
        return rc;
    size_t W = p->width;
    float *T = malloc(n * W * sizeof *T + 1);
    p->lo = malloc(W * sizeof *p->lo), p->hi = malloc(W * sizeof *p->hi);
    if (!T || !p->lo || !p->hi)
        rc = pth_fail(err, PTH_ERR_NOMEM, "tabpfn: out of memory for the outlier bounds");
    if (!rc)
        rc = transform_raw(p, X, n, 1, T, err);
    for (size_t j = 0; !rc && j < W; j++)
        outlier_bounds(T, n, W, j, cfg->outlier_std, &p->lo[j], &p->hi[j]);
    free(T);
    if (rc)
        pth_tpp_free(p);
    return rc;
}

int pth_tpp_transform(const pth_tpp *p, const float *X, size_t n, int train, float *out, pth_error *err)
{
    int rc = transform_raw(p, X, n, train, out, err);
    if (rc || !p->lo)
        return rc;
    size_t W = p->width;
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < W; j++) {
            double x = out[r * W + j];
            if (isnan(x))
                continue;
            x = fmax(-log1p(fabs(x)) + p->lo[j], x);
            x = fmin(log1p(fabs(x)) + p->hi[j], x);
            out[r * W + j] = (float)x;
        }
    return PTH_OK;
}
