/* CSR matrices, hashed n-gram features and TF-IDF (see pathos/text.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/text.h"

/* ---------------------------------------------------------------------------------- */
/* CSR                                                                                 */

int pth_csr_init(pth_csr *X, size_t ncols, pth_error *err)
{
    memset(X, 0, sizeof *X);
    if (ncols > (size_t)UINT32_MAX)
        return pth_fail(err, PTH_ERR_INVALID, "sparse matrix with %zu columns exceeds 2^32", ncols);
    X->ncols = ncols;
    X->rcap_ = 64;
    X->indptr = calloc(X->rcap_, sizeof *X->indptr);
    if (!X->indptr)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory allocating a sparse matrix");
    return PTH_OK;
}

void pth_csr_free(pth_csr *X)
{
    if (!X)
        return;
    free(X->indptr);
    free(X->indices);
    free(X->data);
    memset(X, 0, sizeof *X);
}

void pth_csr_clear(pth_csr *X)
{
    X->nrows = 0;
    if (X->indptr)
        X->indptr[0] = 0;
}

static int csr_reserve(pth_csr *X, size_t extra_rows, size_t extra_nnz)
{
    if (X->nrows + extra_rows + 1 > X->rcap_) {
        size_t cap = X->rcap_ ? X->rcap_ : 64;
        while (cap < X->nrows + extra_rows + 1)
            cap *= 2;
        size_t *p = realloc(X->indptr, cap * sizeof *p);
        if (!p)
            return -1;
        X->indptr = p;
        X->rcap_ = cap;
    }
    size_t nnz = X->indptr[X->nrows];
    if (nnz + extra_nnz > X->cap_) {
        size_t cap = X->cap_ ? X->cap_ : 1024;
        while (cap < nnz + extra_nnz)
            cap *= 2;
        uint32_t *ni = realloc(X->indices, cap * sizeof *ni);
        if (ni)
            X->indices = ni;
        float *nd = realloc(X->data, cap * sizeof *nd);
        if (nd)
            X->data = nd;
        if (!ni || !nd)
            return -1;
        X->cap_ = cap;
    }
    return 0;
}

int pth_csr_append_row(pth_csr *X, const uint32_t *idx, const float *val, size_t nnz, pth_error *err)
{
    for (size_t k = 0; k < nnz; k++) {
        if (idx[k] >= X->ncols)
            return pth_fail(err, PTH_ERR_INVALID, "sparse row: column %u out of range (%zu columns)", idx[k],
                            X->ncols);
        if (k > 0 && idx[k] <= idx[k - 1])
            return pth_fail(err, PTH_ERR_INVALID, "sparse row: column indices not strictly increasing");
    }
    if (csr_reserve(X, 1, nnz) != 0)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory growing a sparse matrix");
    size_t at = X->indptr[X->nrows];
    if (nnz) {
        memcpy(X->indices + at, idx, nnz * sizeof *idx);
        memcpy(X->data + at, val, nnz * sizeof *val);
    }
    X->nrows++;
    X->indptr[X->nrows] = at + nnz;
    return PTH_OK;
}

int pth_csr_select_rows(const pth_csr *X, const size_t *rows, size_t m, pth_csr *out, pth_error *err)
{
    int rc = pth_csr_init(out, X->ncols, err);
    if (rc)
        return rc;
    size_t nnz = 0;
    for (size_t k = 0; k < m; k++) {
        if (rows[k] >= X->nrows) {
            pth_csr_free(out);
            return pth_fail(err, PTH_ERR_INVALID, "row %zu out of range (%zu rows)", rows[k], X->nrows);
        }
        nnz += X->indptr[rows[k] + 1] - X->indptr[rows[k]];
    }
    if (csr_reserve(out, m, nnz) != 0) {
        pth_csr_free(out);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory selecting sparse rows");
    }
    for (size_t k = 0; k < m; k++) {
        size_t a = X->indptr[rows[k]], b = X->indptr[rows[k] + 1], at = out->indptr[k];
        memcpy(out->indices + at, X->indices + a, (b - a) * sizeof *X->indices);
        memcpy(out->data + at, X->data + a, (b - a) * sizeof *X->data);
        out->indptr[k + 1] = at + (b - a);
    }
    out->nrows = m;
    return PTH_OK;
}

int pth_csr_hstack(const pth_csr *A, const pth_csr *B, const double *D, size_t dcols, pth_csr *out, pth_error *err)
{
    size_t bcols = B ? B->ncols : dcols;
    if (B && B->nrows != A->nrows)
        return pth_fail(err, PTH_ERR_INVALID, "hstack: %zu rows vs %zu rows", A->nrows, B->nrows);
    int rc = pth_csr_init(out, A->ncols + bcols, err);
    if (rc)
        return rc;
    size_t nnz = A->indptr[A->nrows] + (B ? B->indptr[B->nrows] : A->nrows * dcols);
    if (csr_reserve(out, A->nrows, nnz) != 0) {
        pth_csr_free(out);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory in hstack");
    }
    size_t at = 0;
    for (size_t i = 0; i < A->nrows; i++) {
        for (size_t k = A->indptr[i]; k < A->indptr[i + 1]; k++, at++) {
            out->indices[at] = A->indices[k];
            out->data[at] = A->data[k];
        }
        if (B) {
            for (size_t k = B->indptr[i]; k < B->indptr[i + 1]; k++, at++) {
                out->indices[at] = (uint32_t)(B->indices[k] + A->ncols);
                out->data[at] = B->data[k];
            }
        } else {
            for (size_t j = 0; j < dcols; j++) {
                double v = D[i * dcols + j];
                if (v == 0.0)
                    continue;
                out->indices[at] = (uint32_t)(A->ncols + j);
                out->data[at++] = (float)v;
            }
        }
        out->indptr[i + 1] = at;
    }
    out->nrows = A->nrows;
    return PTH_OK;
}

size_t pth_csr_active_columns(const pth_csr *X, int32_t *map)
{
    size_t nnz = X->indptr[X->nrows];
    for (size_t j = 0; j < X->ncols; j++)
        map[j] = -1;
    for (size_t k = 0; k < nnz; k++)
        map[X->indices[k]] = 0;
    size_t dact = 0;
    for (size_t j = 0; j < X->ncols; j++)
        if (map[j] == 0)
            map[j] = (int32_t)dact++;
    return dact;
}

void pth_csr_matvec(const pth_csr *X, const double *v, double *y)
{
    for (size_t i = 0; i < X->nrows; i++) {
        double s = 0.0;
        for (size_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
            s += (double)X->data[k] * v[X->indices[k]];
        y[i] = s;
    }
}

void pth_csr_tmatvec(const pth_csr *X, const double *u, double *y)
{
    memset(y, 0, X->ncols * sizeof *y);
    for (size_t i = 0; i < X->nrows; i++) {
        double ui = u[i];
        if (ui == 0.0)
            continue;
        for (size_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
            y[X->indices[k]] += (double)X->data[k] * ui;
    }
}

/* ---------------------------------------------------------------------------------- */
/* MurmurHash3 x86_32                                                                  */

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

uint32_t pth_murmur3_32(const void *key, size_t len, uint32_t seed)
{
    const unsigned char *p = key;
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h = seed;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        /* Little-endian block read, independent of host byte order. */
        uint32_t k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                     (uint32_t)p[4 * i + 3] << 24;
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    const unsigned char *tail = p + nblocks * 4;
    uint32_t k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k1 ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h ^= k1;
        break;
    default:
        break;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* ---------------------------------------------------------------------------------- */
/* Hashed features                                                                     */

void pth_hash_options_default(pth_hash_options *o)
{
    o->word_bits = 20;
    o->word_min = 1;
    o->word_max = 2;
    o->char_bits = 20;
    o->char_min = 3;
    o->char_max = 5;
    o->seed = 0;
    o->negation = PTH_NEG_REPLACE;
    o->alternate_sign = 0;
}

static size_t block_size(unsigned bits)
{
    return bits ? (size_t)1 << bits : 0;
}

size_t pth_hash_ncols(const pth_hash_options *o)
{
    return block_size(o->word_bits) + block_size(o->char_bits);
}

size_t pth_hash_blocks(const pth_hash_options *o, size_t block_start[3])
{
    size_t nb = 0;
    block_start[0] = 0;
    if (o->word_bits)
        block_start[++nb] = block_size(o->word_bits);
    if (o->char_bits) {
        block_start[nb + 1] = block_start[nb] + block_size(o->char_bits);
        nb++;
    }
    if (nb == 0) {
        block_start[1] = 0;
        nb = 1;
    }
    return nb;
}

/* Growable list of (column, value) pairs for one document, plus a string scratch. */
typedef struct {
    uint32_t *idx;
    float *val;
    size_t n, cap;
    char *s;
    size_t scap;
    size_t *cpo; /* code-point offsets of a padded token */
    size_t cpcap;
} hash_buf;

static void hash_buf_free(hash_buf *b)
{
    free(b->idx);
    free(b->val);
    free(b->s);
    free(b->cpo);
    memset(b, 0, sizeof *b);
}

static int hb_push(hash_buf *b, uint32_t col, float v)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 512;
        uint32_t *ni = realloc(b->idx, cap * sizeof *ni);
        if (ni)
            b->idx = ni;
        float *nv = realloc(b->val, cap * sizeof *nv);
        if (nv)
            b->val = nv;
        if (!ni || !nv)
            return -1;
        b->cap = cap;
    }
    b->idx[b->n] = col;
    b->val[b->n] = v;
    b->n++;
    return 0;
}

static int hb_string_reserve(hash_buf *b, size_t need)
{
    if (need <= b->scap)
        return 0;
    size_t cap = b->scap ? b->scap : 256;
    while (cap < need)
        cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns)
        return -1;
    b->s = ns;
    b->scap = cap;
    return 0;
}

static int hash_add(hash_buf *b, const pth_hash_options *o, const char *s, size_t len, uint32_t seed, size_t base,
                    unsigned bits)
{
    uint32_t h = pth_murmur3_32(s, len, seed);
    uint32_t col = (uint32_t)(base + (h & (uint32_t)(block_size(bits) - 1)));
    float v = (o->alternate_sign && (h >> 31)) ? -1.0f : 1.0f;
    return hb_push(b, col, v);
}

/* Token k as used in word n-grams: "NEG_" + token inside a negation scope. */
static size_t word_form(const pth_tokens *t, size_t k, int negated, char *dst)
{
    size_t len = strlen(t->tok[k]);
    size_t o = 0;
    if (negated) {
        memcpy(dst, "NEG_", 4);
        o = 4;
    }
    memcpy(dst + o, t->tok[k], len);
    return o + len;
}

static int hash_words(hash_buf *b, const pth_hash_options *o, const pth_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (unsigned n = o->word_min; n <= o->word_max && i + n <= t->n; n++) {
            if (n == 0)
                continue;
            size_t need = 0;
            for (size_t k = i; k < i + n; k++)
                need += strlen(t->tok[k]) + 5;
            if (hb_string_reserve(b, need + 1) != 0)
                return -1;
            /* Forms: the negation-marked form (REPLACE), or for BOTH the plain form, plus
             * the marked unigram. */
            int use_neg = o->negation == PTH_NEG_REPLACE;
            size_t len = 0;
            for (size_t k = i; k < i + n; k++) {
                if (k > i)
                    b->s[len++] = ' ';
                len += word_form(t, k, use_neg && t->neg[k], b->s + len);
            }
            if (hash_add(b, o, b->s, len, o->seed, 0, o->word_bits) != 0)
                return -1;
            if (o->negation == PTH_NEG_BOTH && n == 1 && t->neg[i]) {
                len = word_form(t, i, 1, b->s);
                if (hash_add(b, o, b->s, len, o->seed, 0, o->word_bits) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* scikit-learn "char_wb": pad each token with one space on both sides and take all runs of
 * n code points; a padded token of at most n code points is counted once and ends the
 * loop over larger n. */
static int hash_chars(hash_buf *b, const pth_hash_options *o, const pth_tokens *t)
{
    size_t base = block_size(o->word_bits);
    uint32_t seed = o->seed ^ 0x9E3779B9u;
    for (size_t i = 0; i < t->n; i++) {
        size_t len = strlen(t->tok[i]);
        if (hb_string_reserve(b, len + 3) != 0)
            return -1;
        b->s[0] = ' ';
        memcpy(b->s + 1, t->tok[i], len);
        b->s[len + 1] = ' ';
        size_t blen = len + 2;
        if (b->cpcap < blen + 1) {
            size_t *nc = realloc(b->cpo, (blen + 1) * sizeof *nc);
            if (!nc)
                return -1;
            b->cpo = nc;
            b->cpcap = blen + 1;
        }
        size_t ncp = 0;
        for (size_t k = 0; k < blen; k++)
            if (((unsigned char)b->s[k] & 0xC0) != 0x80)
                b->cpo[ncp++] = k;
        b->cpo[ncp] = blen;
        for (unsigned n = o->char_min; n <= o->char_max; n++) {
            if (n == 0)
                continue;
            if (ncp <= n) {
                if (hash_add(b, o, b->s, blen, seed, base, o->char_bits) != 0)
                    return -1;
                break;
            }
            for (size_t s = 0; s + n <= ncp; s++)
                if (hash_add(b, o, b->s + b->cpo[s], b->cpo[s + n] - b->cpo[s], seed, base, o->char_bits) != 0)
                    return -1;
        }
    }
    return 0;
}

/* LSD radix sort of 64-bit keys by their upper 32 bits (the column): 4 passes of 8 bits,
 * linear in the number of n-grams of a document (qsort dominated the profile). */
static void radix_sort_hi32(uint64_t *keys, uint64_t *tmp, size_t n)
{
    for (int pass = 0; pass < 4; pass++) {
        int shift = 32 + 8 * pass;
        size_t count[257] = {0};
        for (size_t k = 0; k < n; k++)
            count[((keys[k] >> shift) & 0xFF) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t k = 0; k < n; k++)
            tmp[count[(keys[k] >> shift) & 0xFF]++] = keys[k];
        memcpy(keys, tmp, n * sizeof *keys);
    }
}

/* Sorts the buffer by column and sums duplicates in place; returns the unique count. */
static size_t hb_merge(hash_buf *b)
{
    if (b->n == 0)
        return 0;
    /* Pack (column, sign) into 64-bit keys. */
    uint64_t *keys = malloc(2 * b->n * sizeof *keys);
    if (!keys)
        return (size_t)-1;
    for (size_t k = 0; k < b->n; k++) {
        uint32_t vb = b->val[k] < 0 ? 1u : 0u;
        keys[k] = (uint64_t)b->idx[k] << 32 | vb;
    }
    radix_sort_hi32(keys, keys + b->n, b->n);
    size_t m = 0;
    for (size_t k = 0; k < b->n; k++) {
        uint32_t col = (uint32_t)(keys[k] >> 32);
        float v = (keys[k] & 1u) ? -1.0f : 1.0f;
        if (m > 0 && b->idx[m - 1] == col) {
            b->val[m - 1] += v;
        } else {
            b->idx[m] = col;
            b->val[m] = v;
            m++;
        }
    }
    free(keys);
    /* alternate_sign can cancel a feature out: drop exact zeros. */
    size_t w = 0;
    for (size_t k = 0; k < m; k++) {
        if (b->val[k] != 0.0f) {
            b->idx[w] = b->idx[k];
            b->val[w] = b->val[k];
            w++;
        }
    }
    return w;
}

static int hash_doc(hash_buf *b, const pth_hash_options *o, const pth_tokens *t, size_t *nnz)
{
    b->n = 0;
    if (o->word_bits && hash_words(b, o, t) != 0)
        return -1;
    if (o->char_bits && hash_chars(b, o, t) != 0)
        return -1;
    size_t m = hb_merge(b);
    if (m == (size_t)-1)
        return -1;
    *nnz = m;
    return 0;
}

static int check_hash_options(const pth_hash_options *o, pth_error *err)
{
    if (o->word_bits > 28 || o->char_bits > 28)
        return pth_fail(err, PTH_ERR_INVALID, "hash bits must be at most 28 (word %u, char %u)", o->word_bits,
                        o->char_bits);
    if ((o->word_bits && (o->word_min < 1 || o->word_max < o->word_min || o->word_max > 8)) ||
        (o->char_bits && (o->char_min < 1 || o->char_max < o->char_min || o->char_max > 16)))
        return pth_fail(err, PTH_ERR_INVALID, "invalid n-gram range (word %u..%u, char %u..%u)", o->word_min,
                        o->word_max, o->char_min, o->char_max);
    return PTH_OK;
}

int pth_text_hash_row(const pth_hash_options *o, const pth_tokens *t, pth_csr *X, pth_error *err)
{
    int rc = check_hash_options(o, err);
    if (rc)
        return rc;
    if (X->ncols != pth_hash_ncols(o))
        return pth_fail(err, PTH_ERR_INVALID, "matrix has %zu columns, hash options give %zu", X->ncols,
                        pth_hash_ncols(o));
    hash_buf b = {0};
    size_t nnz = 0;
    if (hash_doc(&b, o, t, &nnz) != 0) {
        hash_buf_free(&b);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory hashing features");
    }
    rc = pth_csr_append_row(X, b.idx, b.val, nnz, err);
    hash_buf_free(&b);
    return rc;
}

/* Per-document result of the parallel pass. */
typedef struct {
    uint32_t *idx;
    float *val;
    size_t nnz;
    int failed;
} doc_row;

int pth_text_hash_corpus(const pth_hash_options *ho, const pth_tokenize_options *to, const char *const *texts,
                         size_t n, pth_csr *X, pth_error *err)
{
    int rc = check_hash_options(ho, err);
    if (rc)
        return rc;
    if (X->ncols != pth_hash_ncols(ho))
        return pth_fail(err, PTH_ERR_INVALID, "matrix has %zu columns, hash options give %zu", X->ncols,
                        pth_hash_ncols(ho));
    /* Chunks bound the memory held by per-document rows before they are appended. */
    const size_t CHUNK = 1024;
    doc_row *rows = calloc(CHUNK, sizeof *rows);
    if (!rows)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory hashing a corpus");
    for (size_t c0 = 0; c0 < n && rc == PTH_OK; c0 += CHUNK) {
        size_t cn = n - c0 < CHUNK ? n - c0 : CHUNK;
#pragma omp parallel
        {
            pth_tokens tk = {0};
            hash_buf b = {0};
#pragma omp for schedule(dynamic, 16)
            for (long long j = 0; j < (long long)cn; j++) {
                doc_row *r = &rows[j];
                const char *s = texts[c0 + (size_t)j];
                size_t nnz = 0;
                r->failed = pth_tokenize(s ? s : "", s ? strlen(s) : 0, to, &tk, NULL) != PTH_OK ||
                            hash_doc(&b, ho, &tk, &nnz) != 0;
                if (!r->failed) {
                    r->idx = malloc((nnz ? nnz : 1) * sizeof *r->idx);
                    r->val = malloc((nnz ? nnz : 1) * sizeof *r->val);
                    r->failed = !r->idx || !r->val;
                    if (!r->failed) {
                        memcpy(r->idx, b.idx, nnz * sizeof *r->idx);
                        memcpy(r->val, b.val, nnz * sizeof *r->val);
                        r->nnz = nnz;
                    }
                }
            }
            pth_tokens_free(&tk);
            hash_buf_free(&b);
        }
        for (size_t j = 0; j < cn; j++) {
            if (rc == PTH_OK && rows[j].failed)
                rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory hashing document %zu", c0 + j);
            if (rc == PTH_OK)
                rc = pth_csr_append_row(X, rows[j].idx, rows[j].val, rows[j].nnz, err);
            free(rows[j].idx);
            free(rows[j].val);
            memset(&rows[j], 0, sizeof rows[j]);
        }
    }
    free(rows);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* TF-IDF                                                                              */

void pth_tfidf_options_default(pth_tfidf_options *o)
{
    o->sublinear_tf = 1;
    o->smooth_idf = 1;
    o->use_idf = 1;
    o->l2_normalize = 1;
}

void pth_tfidf_free(pth_tfidf *m)
{
    if (!m)
        return;
    free(m->idf);
    free(m->block_start);
    memset(m, 0, sizeof *m);
}

static int set_blocks(pth_tfidf *m, const size_t *block_start, size_t n_blocks, pth_error *err)
{
    if (!block_start || n_blocks == 0)
        n_blocks = 1;
    m->block_start = malloc((n_blocks + 1) * sizeof *m->block_start);
    if (!m->block_start)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory in TF-IDF");
    m->n_blocks = n_blocks;
    if (!block_start) {
        m->block_start[0] = 0;
        m->block_start[1] = m->ncols;
        return PTH_OK;
    }
    for (size_t b = 0; b <= n_blocks; b++) {
        m->block_start[b] = block_start[b];
        if ((b > 0 && block_start[b] < block_start[b - 1]) || block_start[b] > m->ncols)
            return pth_fail(err, PTH_ERR_INVALID, "TF-IDF blocks must increase within 0..%zu", m->ncols);
    }
    if (block_start[0] != 0 || block_start[n_blocks] != m->ncols)
        return pth_fail(err, PTH_ERR_INVALID, "TF-IDF blocks must span columns 0..%zu", m->ncols);
    return PTH_OK;
}

int pth_tfidf_fit(pth_tfidf *m, const pth_csr *counts, const pth_tfidf_options *o, const size_t *block_start,
                  size_t n_blocks, pth_error *err)
{
    memset(m, 0, sizeof *m);
    if (o)
        m->opt = *o;
    else
        pth_tfidf_options_default(&m->opt);
    m->ncols = counts->ncols;
    int rc = set_blocks(m, block_start, n_blocks, err);
    if (rc) {
        pth_tfidf_free(m);
        return rc;
    }
    m->idf = malloc((m->ncols ? m->ncols : 1) * sizeof *m->idf);
    uint32_t *df = calloc(m->ncols ? m->ncols : 1, sizeof *df);
    if (!m->idf || !df) {
        free(df);
        pth_tfidf_free(m);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory fitting TF-IDF over %zu columns", m->ncols);
    }
    size_t nnz = counts->indptr[counts->nrows];
    for (size_t k = 0; k < nnz; k++)
        if (counts->data[k] != 0.0f)
            df[counts->indices[k]]++;
    double n = (double)counts->nrows;
    int smooth = m->opt.smooth_idf;
    for (size_t j = 0; j < m->ncols; j++) {
        double d = (double)df[j];
        if (!m->opt.use_idf)
            m->idf[j] = 1.0;
        else if (smooth)
            m->idf[j] = log((1.0 + n) / (1.0 + d)) + 1.0;
        else
            m->idf[j] = d > 0 ? log(n / d) + 1.0 : 1.0; /* unseen columns never occur in training */
    }
    free(df);
    return PTH_OK;
}

int pth_tfidf_transform(const pth_tfidf *m, pth_csr *X, pth_error *err)
{
    if (X->ncols != m->ncols)
        return pth_fail(err, PTH_ERR_INVALID, "TF-IDF fitted on %zu columns, matrix has %zu", m->ncols, X->ncols);
    for (size_t i = 0; i < X->nrows; i++) {
        size_t a = X->indptr[i], e = X->indptr[i + 1];
        for (size_t k = a; k < e; k++) {
            double v = X->data[k];
            if (m->opt.sublinear_tf && v != 0.0)
                v = v > 0 ? 1.0 + log(v) : -(1.0 + log(-v));
            X->data[k] = (float)(v * m->idf[X->indices[k]]);
        }
        if (!m->opt.l2_normalize)
            continue;
        /* Columns are sorted, so each block is a contiguous run of the row. */
        size_t k = a;
        for (size_t b = 0; b < m->n_blocks; b++) {
            size_t start = k;
            double ss = 0.0;
            while (k < e && X->indices[k] < m->block_start[b + 1]) {
                ss += (double)X->data[k] * X->data[k];
                k++;
            }
            if (ss > 0.0) {
                double inv = 1.0 / sqrt(ss);
                for (size_t q = start; q < k; q++)
                    X->data[q] = (float)(X->data[q] * inv);
            }
        }
    }
    return PTH_OK;
}

void pth_tfidf_save(const pth_tfidf *m, pth_blob_writer *w)
{
    pth_blob_str(w, "PTHTFIDF");
    pth_blob_u32(w, 1);
    pth_blob_u32(w, (uint32_t)m->opt.sublinear_tf);
    pth_blob_u32(w, (uint32_t)m->opt.smooth_idf);
    pth_blob_u32(w, (uint32_t)m->opt.use_idf);
    pth_blob_u32(w, (uint32_t)m->opt.l2_normalize);
    pth_blob_u64(w, m->ncols);
    pth_blob_f64s(w, m->idf, m->ncols);
    pth_blob_u64(w, m->n_blocks);
    for (size_t b = 0; b <= m->n_blocks; b++)
        pth_blob_u64(w, m->block_start[b]);
}

int pth_tfidf_load(pth_tfidf *m, pth_blob_reader *r, pth_error *err)
{
    memset(m, 0, sizeof *m);
    char *magic = pth_blob_read_str(r, 16);
    if (pth_blob_reader_ok(r) && (!magic || strcmp(magic, "PTHTFIDF") != 0))
        pth_blob_reader_fail(r, "not a TF-IDF block");
    free(magic);
    uint32_t ver = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && ver != 1)
        pth_blob_reader_fail(r, "unsupported TF-IDF version %u", ver);
    m->opt.sublinear_tf = (int)pth_blob_read_u32(r);
    m->opt.smooth_idf = (int)pth_blob_read_u32(r);
    m->opt.use_idf = (int)pth_blob_read_u32(r);
    m->opt.l2_normalize = (int)pth_blob_read_u32(r);
    uint64_t ncols = pth_blob_read_u64(r);
    if (pth_blob_reader_ok(r) && ncols > ((uint64_t)1 << 32))
        pth_blob_reader_fail(r, "TF-IDF with %llu columns", (unsigned long long)ncols);
    m->ncols = (size_t)ncols;
    if (pth_blob_reader_ok(r))
        m->idf = pth_blob_read_f64s(r, m->ncols);
    /* Real idf values are 1 + log(n / df), a few dozen at most; the bound keeps tf-idf
     * values and their norms finite for any text, so a corrupt file cannot yield NaN. */
    for (size_t j = 0; m->idf && pth_blob_reader_ok(r) && j < m->ncols; j++)
        if (!(fabs(m->idf[j]) <= 1e6))
            pth_blob_reader_fail(r, "TF-IDF weight %g of column %zu is not finite or implausible", m->idf[j], j);
    uint64_t nb = pth_blob_read_u64(r);
    if (pth_blob_reader_ok(r) && (nb == 0 || nb > 64))
        pth_blob_reader_fail(r, "TF-IDF with %llu blocks", (unsigned long long)nb);
    if (pth_blob_reader_ok(r)) {
        m->n_blocks = (size_t)nb;
        m->block_start = malloc((m->n_blocks + 1) * sizeof *m->block_start);
        if (!m->block_start)
            pth_blob_reader_fail(r, "out of memory");
        for (size_t b = 0; m->block_start && b <= m->n_blocks; b++) {
            m->block_start[b] = (size_t)pth_blob_read_u64(r);
            if (pth_blob_reader_ok(r) &&
                (m->block_start[b] > m->ncols || (b > 0 && m->block_start[b] < m->block_start[b - 1])))
                pth_blob_reader_fail(r, "TF-IDF block offsets out of order");
        }
        if (pth_blob_reader_ok(r) && (m->block_start[0] != 0 || m->block_start[m->n_blocks] != m->ncols))
            pth_blob_reader_fail(r, "TF-IDF blocks do not span the columns");
    }
    int rc = pth_blob_reader_status(r, err);
    if (rc)
        pth_tfidf_free(m);
    return rc;
}
