/* fastText-style supervised classifier: hashed word / word n-gram / char n-gram features,
 * averaged embeddings, linear softmax or one-vs-all sigmoid output, SGD with linear
 * learning-rate decay.  See include/pathos/fasttext.h for the model. */
#include "pathos/fasttext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "pathos/io.h"
#include "pathos/rng.h"

#define FT_MAGIC 0x31544650u /* "PFT1" */
#define FT_VERSION 1u
#define FT_TOKMAX 128 /* bytes of a token kept for char n-grams (the hash sees all of it) */
#define FT_MAXDIM 1024
#define FT_MAXLABELS 4096

struct pth_fasttext {
    pth_ft_params p;
    size_t nfields, nlabels, nfeat;
    char **labels;
    uint64_t *keys;  /* nfeat feature keys, in row order */
    uint64_t *tkeys; /* open-addressing table key -> row (0 = empty slot) */
    uint32_t *trow;
    size_t tmask;
    float *A; /* nfeat x dim input embeddings */
    float *B; /* nlabels x dim output weights */
};

/* ---------------------------------------------------------------- hashing */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#define FNV_OFF 0xCBF29CE484222325ULL
#define FNV_PRIME 0x100000001B3ULL

static uint64_t fnv_bytes(uint64_t h, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * FNV_PRIME;
    return h;
}

/* Feature kinds inside a field's namespace: 1..4 = word n-gram of that length, 5 = char
 * n-gram.  The salt keeps "good" in field 0, "good" in field 1 and the trigram "goo"
 * apart. */
enum { KIND_CHAR = 5 };

static uint64_t feature_key(uint64_t h, uint32_t ns, int kind)
{
    uint64_t k = mix64(h + 0x9E3779B97F4A7C15ULL * (1 + (uint64_t)ns * 8 + (uint64_t)kind));
    return k ? k : 1; /* 0 marks empty table slots */
}

/* ---------------------------------------------------------------- tokeniser */

typedef void (*ft_emit_fn)(void *ctx, uint64_t key);

typedef struct {
    int word_ngrams, minn, maxn;
    uint32_t ns;
    int chars; /* char n-grams for this field */
    ft_emit_fn emit;
    void *ctx;
    uint64_t hist[4]; /* hashes of the last words, most recent last */
    int nhist;
    unsigned char tok[FT_TOKMAX];
    size_t toklen;
    uint64_t tokhash;
    int in_word;
} ft_tok_state;

static void emit_char_ngrams(ft_tok_state *s)
{
    unsigned char w[FT_TOKMAX + 2];
    size_t n = 0;
    w[n++] = '<';
    memcpy(w + n, s->tok, s->toklen);
    n += s->toklen;
    w[n++] = '>';
    /* Walk code point starts (skip UTF-8 continuation bytes), like fastText. */
    for (size_t i = 0; i < n; i++) {
        if ((w[i] & 0xC0) == 0x80)
            continue;
        size_t j = i;
        for (int len = 1; j < n && len <= s->maxn; len++) {
            j++;
            while (j < n && (w[j] & 0xC0) == 0x80)
                j++;
            if (len >= s->minn && !(len == 1 && (i == 0 || j == n)))
                s->emit(s->ctx, feature_key(fnv_bytes(FNV_OFF, w + i, j - i), s->ns, KIND_CHAR));
        }
    }
}

static void finish_token(ft_tok_state *s, int is_word)
{
    uint64_t h = s->tokhash;
    s->emit(s->ctx, feature_key(h, s->ns, 1));
    if (s->nhist == 4)
        memmove(s->hist, s->hist + 1, 3 * sizeof(uint64_t));
    else
        s->nhist++;
    s->hist[s->nhist - 1] = h;
    /* Word n-grams ending at this token, hashed incrementally as fastText does. */
    for (int n = 2; n <= s->word_ngrams && n <= s->nhist; n++) {
        uint64_t g = s->hist[s->nhist - n];
        for (int k = s->nhist - n + 1; k < s->nhist; k++)
            g = g * 116049371ULL + s->hist[k];
        s->emit(s->ctx, feature_key(g, s->ns, n));
    }
    if (is_word && s->chars && s->maxn > 0)
        emit_char_ngrams(s);
    s->toklen = 0;
    s->tokhash = FNV_OFF;
    s->in_word = 0;
}

static void append_cp(ft_tok_state *s, utf8proc_int32_t cp)
{
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t nb = utf8proc_encode_char(cp, buf);
    if (nb <= 0)
        return;
    s->tokhash = fnv_bytes(s->tokhash, buf, (size_t)nb);
    if (s->toklen + (size_t)nb <= FT_TOKMAX) {
        memcpy(s->tok + s->toklen, buf, (size_t)nb);
        s->toklen += (size_t)nb;
    }
}

/* 1 = word character, 0 = separator, 2 = a token of its own (punctuation, emoji). */
static int char_class(utf8proc_int32_t cp, int in_word)
{
    if (cp < 128) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
            return 1;
        if (cp == '\'')
            return in_word ? 1 : 0;
        if (cp <= 32 || cp == 127)
            return 0;
        return 2;
    }
    if (cp == 0x2019) /* right single quotation mark, used as an apostrophe */
        return in_word ? 1 : 0;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
        return 0;
    default:
        return 2;
    }
}

static void featurize_field(const pth_ft_params *p, const char *text, uint32_t ns, ft_emit_fn emit,
                            void *ctx)
{
    if (!text)
        return;
    ft_tok_state s;
    memset(&s, 0, sizeof s);
    s.word_ngrams = p->word_ngrams;
    s.minn = p->minn;
    s.maxn = p->maxn;
    s.ns = ns;
    s.chars = ns == 0;
    s.emit = emit;
    s.ctx = ctx;
    s.tokhash = FNV_OFF;
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)text;
    size_t len = strlen(text);
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t nb = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (nb <= 0) { /* invalid UTF-8: a separator, resynchronise on the next byte */
            nb = 1;
            cp = ' ';
        }
        i += (size_t)nb;
        int cls = char_class(cp, s.in_word);
        if (cls == 1) {
            append_cp(&s, utf8proc_tolower(cp));
            s.in_word = 1;
            continue;
        }
        if (s.in_word)
            finish_token(&s, 1);
        if (cls == 2) {
            append_cp(&s, cp);
            finish_token(&s, 0);
        }
    }
    if (s.in_word)
        finish_token(&s, 1);
    /* An end-of-text token, as fastText appends "</s>" to every line: every document then
     * shares one row, which acts as the output layer's bias. */
    s.tokhash = fnv_bytes(FNV_OFF, (const unsigned char *)"</s>", 4);
    finish_token(&s, 0);
}

static void featurize_doc(const pth_ft_params *p, size_t nfields, const char *const *fields,
                          ft_emit_fn emit, void *ctx)
{
    for (size_t f = 0; f < nfields; f++)
        featurize_field(p, fields[f], (uint32_t)f, emit, ctx);
}

/* ---------------------------------------------------------------- key table */

typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t mask, used;
} ktable;

static int kt_init(ktable *t, size_t cap_pow2)
{
    t->keys = calloc(cap_pow2, sizeof(uint64_t));
    t->vals = calloc(cap_pow2, sizeof(uint32_t));
    t->mask = cap_pow2 - 1;
    t->used = 0;
    return t->keys && t->vals ? 0 : -1;
}

static void kt_free(ktable *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static size_t kt_slot(const uint64_t *keys, size_t mask, uint64_t key)
{
    size_t i = (size_t)(key & mask);
    while (keys[i] && keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

static int kt_grow(ktable *t)
{
    ktable n;
    if (kt_init(&n, (t->mask + 1) * 2))
        return kt_free(&n), -1;
    for (size_t i = 0; i <= t->mask; i++)
        if (t->keys[i]) {
            size_t s = kt_slot(n.keys, n.mask, t->keys[i]);
            n.keys[s] = t->keys[i];
            n.vals[s] = t->vals[i];
        }
    n.used = t->used;
    kt_free(t);
    *t = n;
    return 0;
}

/* Adds `inc` to key's value (inserting it); -1 on allocation failure. */
static int kt_add(ktable *t, uint64_t key, uint32_t inc)
{
    if ((t->used + 1) * 2 > t->mask + 1 && kt_grow(t))
        return -1;
    size_t s = kt_slot(t->keys, t->mask, key);
    if (!t->keys[s]) {
        t->keys[s] = key;
        t->used++;
    }
    t->vals[s] += inc;
    return 0;
}

static long model_row(const pth_fasttext *m, uint64_t key)
{
    size_t s = kt_slot(m->tkeys, m->tmask, key);
    return m->tkeys[s] ? (long)m->trow[s] : -1;
}

/* Builds m's lookup table from m->keys. */
static int build_lookup(pth_fasttext *m)
{
    size_t cap = 16;
    while (cap < m->nfeat * 2 + 2)
        cap *= 2;
    m->tkeys = calloc(cap, sizeof(uint64_t));
    m->trow = calloc(cap, sizeof(uint32_t));
    if (!m->tkeys || !m->trow)
        return -1;
    m->tmask = cap - 1;
    for (size_t r = 0; r < m->nfeat; r++) {
        size_t s = kt_slot(m->tkeys, m->tmask, m->keys[r]);
        m->tkeys[s] = m->keys[r];
        m->trow[s] = (uint32_t)r;
    }
    return 0;
}

/* ---------------------------------------------------------------- misc */

void pth_ft_params_default(pth_ft_params *p)
{
    memset(p, 0, sizeof *p);
    p->dim = 64;
    p->word_ngrams = 2;
    p->minn = 0;
    p->maxn = 0;
    p->epochs = 10;
    p->lr = 0.2;
    p->min_count = 1;
    p->loss = PTH_FT_SOFTMAX;
    p->threads = 1;
    p->seed = 1;
    p->field_pool = 1;
}

void pth_ft_free(pth_fasttext *m)
{
    if (!m)
        return;
    if (m->labels)
        for (size_t k = 0; k < m->nlabels; k++)
            free(m->labels[k]);
    free(m->labels);
    free(m->keys);
    free(m->tkeys);
    free(m->trow);
    free(m->A);
    free(m->B);
    free(m);
}

size_t pth_ft_nlabels(const pth_fasttext *m) { return m->nlabels; }
size_t pth_ft_nfields(const pth_fasttext *m) { return m->nfields; }
size_t pth_ft_nfeatures(const pth_fasttext *m) { return m->nfeat; }
pth_ft_loss pth_ft_loss_kind(const pth_fasttext *m) { return m->p.loss; }
const pth_ft_params *pth_ft_get_params(const pth_fasttext *m) { return &m->p; }

const char *pth_ft_label_name(const pth_fasttext *m, size_t k)
{
    return k < m->nlabels && m->labels[k] ? m->labels[k] : "";
}

static int check_params(const pth_ft_params *p, pth_error *err)
{
    if (p->dim < 1 || p->dim > FT_MAXDIM)
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: dim must be in 1..%d, got %d", FT_MAXDIM, p->dim);
    if (p->word_ngrams < 1 || p->word_ngrams > 4)
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: word_ngrams must be in 1..4, got %d", p->word_ngrams);
    if (p->maxn < 0 || p->maxn > 8 || (p->maxn > 0 && (p->minn < 1 || p->minn > p->maxn)))
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: need 1 <= minn <= maxn <= 8 (or maxn = 0), got %d..%d",
                        p->minn, p->maxn);
    if (p->epochs < 1 || p->epochs > 10000)
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: epochs must be in 1..10000, got %d", p->epochs);
    if (!(p->lr > 0 && p->lr < 100))
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: lr must be in (0, 100), got %g", p->lr);
    if (p->min_count < 1)
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: min_count must be >= 1, got %d", p->min_count);
    if (p->loss != PTH_FT_SOFTMAX && p->loss != PTH_FT_OVA)
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: unknown loss %d", (int)p->loss);
    if (p->threads < 0 || p->threads > 256)
        return pth_fail(err, PTH_ERR_INVALID, "fasttext: threads must be in 0..256, got %d", p->threads);
    return 0;
}

/* ---------------------------------------------------------------- vocabulary */

typedef struct {
    uint64_t *v;
    size_t n, cap;
    int failed;
} u64vec;

static void collect_key(void *ctx, uint64_t key)
{
    u64vec *a = ctx;
    if (a->failed)
        return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        uint64_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->failed = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = key;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint64_t key;
    uint32_t count;
} keycount;

/* Most frequent first, then by key, so the cap is deterministic. */
static int cmp_keycount(const void *a, const void *b)
{
    const keycount *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Document frequency of every feature key over the training documents. */
static int count_features(const pth_ft_params *p, const pth_ft_data *d, ktable *df, pth_error *err)
{
    u64vec buf = {0};
    if (kt_init(df, 1u << 16))
        return kt_free(df), pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
    for (size_t i = 0; i < d->n; i++) {
        buf.n = 0;
        featurize_doc(p, d->nfields, d->fields + i * d->nfields, collect_key, &buf);
        if (buf.failed)
            break;
        qsort(buf.v, buf.n, sizeof(uint64_t), cmp_u64);
        for (size_t j = 0; j < buf.n; j++)
            if ((j == 0 || buf.v[j] != buf.v[j - 1]) && kt_add(df, buf.v[j], 1)) {
                buf.failed = 1;
                break;
            }
        if (buf.failed)
            break;
    }
    free(buf.v);
    if (buf.failed) {
        kt_free(df);
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory while counting features");
    }
    return 0;
}

/* Chooses the vocabulary (min_count, max_features) and builds m->keys and the lookup. */
static int build_vocab(pth_fasttext *m, const pth_ft_data *d, pth_error *err)
{
    ktable df;
    int rc = count_features(&m->p, d, &df, err);
    if (rc)
        return rc;
    keycount *kc = malloc((df.used + 1) * sizeof *kc);
    if (!kc) {
        kt_free(&df);
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
    }
    size_t nk = 0;
    for (size_t i = 0; i <= df.mask; i++)
        if (df.keys[i] && df.vals[i] >= (uint32_t)m->p.min_count)
            kc[nk++] = (keycount){df.keys[i], df.vals[i]};
    kt_free(&df);
    if (m->p.max_features && nk > m->p.max_features) {
        qsort(kc, nk, sizeof *kc, cmp_keycount);
        nk = m->p.max_features;
    }
    if (nk > UINT32_MAX - 1) {
        free(kc);
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: too many features (%zu)", nk);
    }
    m->keys = malloc((nk + 1) * sizeof(uint64_t));
    if (!m->keys) {
        free(kc);
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
    }
    for (size_t i = 0; i < nk; i++)
        m->keys[i] = kc[i].key;
    free(kc);
    /* Row order sorted by key: independent of hash-table layout. */
    qsort(m->keys, nk, sizeof(uint64_t), cmp_u64);
    m->nfeat = nk;
    if (build_lookup(m))
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
    return 0;
}

/* Training documents as rows of the input matrix: document i has segments
 * i*nseg .. i*nseg+nseg-1 (one per field when fields are pooled separately, else one), and
 * segment s holds ids[off[s] .. off[s+1]). */
typedef struct {
    size_t *off;
    uint32_t *ids;
    size_t nseg;
} ft_docs;

typedef struct {
    const pth_fasttext *m;
    u64vec *out; /* reused as a uint32 sink via the low bits */
} map_ctx;

static void collect_row(void *ctx, uint64_t key)
{
    map_ctx *c = ctx;
    long r = model_row(c->m, key);
    if (r >= 0)
        collect_key(c->out, (uint64_t)r);
}

static int encode_docs(const pth_fasttext *m, const pth_ft_data *d, ft_docs *docs, pth_error *err)
{
    u64vec all = {0};
    map_ctx c = {m, &all};
    docs->nseg = m->p.field_pool ? d->nfields : 1;
    docs->off = malloc((d->n * docs->nseg + 1) * sizeof(size_t));
    if (!docs->off)
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
    docs->off[0] = 0;
    size_t seg = 0;
    for (size_t i = 0; i < d->n; i++) {
        const char *const *f = d->fields + i * d->nfields;
        if (docs->nseg == 1) {
            featurize_doc(&m->p, d->nfields, f, collect_row, &c);
            docs->off[++seg] = all.n;
            continue;
        }
        for (size_t k = 0; k < d->nfields; k++) {
            featurize_field(&m->p, f[k], (uint32_t)k, collect_row, &c);
            docs->off[++seg] = all.n;
        }
    }
    docs->ids = all.failed ? NULL : malloc((all.n + 1) * sizeof(uint32_t));
    if (!docs->ids) {
        free(all.v);
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory while encoding documents");
    }
    for (size_t j = 0; j < all.n; j++)
        docs->ids[j] = (uint32_t)all.v[j];
    free(all.v);
    return 0;
}

/* ---------------------------------------------------------------- model maths */

static float dotf(const float *a, const float *b, size_t n)
{
    float s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static float sigmoidf_(float x)
{
    if (x >= 0)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* Output probabilities from the hidden vector h. */
static void output_probs(const pth_fasttext *m, const float *h, float *out)
{
    size_t dim = (size_t)m->p.dim, L = m->nlabels;
    for (size_t k = 0; k < L; k++)
        out[k] = dotf(m->B + k * dim, h, dim);
    if (m->p.loss == PTH_FT_OVA) {
        for (size_t k = 0; k < L; k++)
            out[k] = sigmoidf_(out[k]);
        return;
    }
    float mx = out[0], z = 0;
    for (size_t k = 1; k < L; k++)
        mx = out[k] > mx ? out[k] : mx;
    for (size_t k = 0; k < L; k++) {
        out[k] = expf(out[k] - mx);
        z += out[k];
    }
    for (size_t k = 0; k < L; k++)
        out[k] /= z;
}

/* One SGD step on the document whose segments are off[0..nseg] into ids, with 0/1
 * targets y.  The hidden vector is the sum over segments of each segment's mean row.
 * Scratch: h, grad (dim), probs (L). */
static void sgd_step(pth_fasttext *m, const uint32_t *ids, const size_t *off, size_t nseg, const unsigned char *y,
                     float lr, float *h, float *grad, float *probs)
{
    size_t dim = (size_t)m->p.dim, L = m->nlabels;
    memset(h, 0, dim * sizeof(float));
    for (size_t sg = 0; sg < nseg; sg++) {
        if (off[sg + 1] == off[sg])
            continue;
        float inv = 1.0f / (float)(off[sg + 1] - off[sg]);
        for (size_t j = off[sg]; j < off[sg + 1]; j++) {
            const float *a = m->A + (size_t)ids[j] * dim;
            for (size_t t = 0; t < dim; t++)
                h[t] += inv * a[t];
        }
    }
    output_probs(m, h, probs);
    float npos = 0;
    for (size_t k = 0; k < L; k++)
        npos += y[k] ? 1.0f : 0.0f;
    memset(grad, 0, dim * sizeof(float));
    for (size_t k = 0; k < L; k++) {
        float target = y[k] ? (m->p.loss == PTH_FT_OVA ? 1.0f : 1.0f / npos) : 0.0f;
        float g = lr * (target - probs[k]);
        float *b = m->B + k * dim;
        for (size_t t = 0; t < dim; t++) {
            grad[t] += g * b[t];
            b[t] += g * h[t];
        }
    }
    /* Each segment's part of the hidden vector is a mean, so each of its rows gets
     * 1/(segment size) of the gradient. */
    for (size_t sg = 0; sg < nseg; sg++) {
        if (off[sg + 1] == off[sg])
            continue;
        float inv = 1.0f / (float)(off[sg + 1] - off[sg]);
        for (size_t j = off[sg]; j < off[sg + 1]; j++) {
            float *a = m->A + (size_t)ids[j] * dim;
            for (size_t t = 0; t < dim; t++)
                a[t] += inv * grad[t];
        }
    }
}

static int usable_doc(const pth_fasttext *m, const ft_docs *docs, const pth_ft_data *d, size_t i)
{
    if (docs->off[(i + 1) * docs->nseg] == docs->off[i * docs->nseg])
        return 0;
    if (m->p.loss == PTH_FT_OVA)
        return 1;
    for (size_t k = 0; k < d->nlabels; k++)
        if (d->Y[i * d->nlabels + k])
            return 1;
    return 0;
}

/* Runs all epochs.  Each epoch visits the documents in a fresh seeded order; with T threads
 * each thread takes a contiguous 1/T of that order (Hogwild). */
static int run_sgd(pth_fasttext *m, const pth_ft_data *d, const ft_docs *docs, pth_error *err)
{
    size_t n = d->n, dim = (size_t)m->p.dim, L = m->nlabels;
    int T = m->p.threads > 0 ? m->p.threads : 1;
    size_t *order = malloc((n + 1) * sizeof(size_t));
    float *scratch = malloc((size_t)T * (2 * dim + L) * sizeof(float));
    if (!order || !scratch) {
        free(order);
        free(scratch);
        return pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
    }
    pth_rng rng;
    pth_rng_seed_stream(&rng, m->p.seed, 0x5EED);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    double total = (double)m->p.epochs * (double)n;
    for (int ep = 0; ep < m->p.epochs; ep++) {
        pth_rng_shuffle(&rng, order, n);
#pragma omp parallel num_threads(T) if (T > 1)
        {
            int tid = 0, nt = 1;
#ifdef _OPENMP
            tid = omp_get_thread_num();
            nt = omp_get_num_threads();
#endif
            size_t lo = n * (size_t)tid / (size_t)nt, hi = n * (size_t)(tid + 1) / (size_t)nt;
            float *h = scratch + (size_t)tid * (2 * dim + L), *grad = h + dim, *probs = grad + dim;
            for (size_t j = lo; j < hi; j++) {
                size_t i = order[j];
                if (!usable_doc(m, docs, d, i))
                    continue;
                /* Progress as if the threads interleave evenly: thread-count independent
                 * schedule for threads == 1. */
                double done = (double)ep * (double)n + (double)(j - lo) * (double)nt;
                float lr = (float)(m->p.lr * (1.0 - done / total));
                if (lr < 0)
                    lr = 0;
                sgd_step(m, docs->ids, docs->off + i * docs->nseg, docs->nseg, d->Y + i * d->nlabels, lr, h,
                         grad, probs);
            }
        }
    }
    free(order);
    free(scratch);
    return 0;
}

static int copy_labels(pth_fasttext *m, const char *const *names)
{
    m->labels = calloc(m->nlabels, sizeof(char *));
    if (!m->labels)
        return -1;
    for (size_t k = 0; k < m->nlabels; k++) {
        const char *s = names && names[k] ? names[k] : "";
        m->labels[k] = strdup(s);
        if (!m->labels[k])
            return -1;
    }
    return 0;
}

pth_fasttext *pth_ft_train(const pth_ft_params *p, const pth_ft_data *d, pth_error *err)
{
    if (check_params(p, err))
        return NULL;
    if (!d || d->n == 0 || d->nfields == 0 || d->nfields > 64 || d->nlabels == 0 || d->nlabels > FT_MAXLABELS ||
        !d->fields || !d->Y) {
        pth_fail(err, PTH_ERR_INVALID, "fasttext: need >= 1 document, 1..64 fields and 1..%d labels",
                 FT_MAXLABELS);
        return NULL;
    }
    if (p->loss == PTH_FT_SOFTMAX && d->nlabels < 2) {
        pth_fail(err, PTH_ERR_INVALID, "fasttext: softmax needs at least 2 labels");
        return NULL;
    }
    pth_fasttext *m = calloc(1, sizeof *m);
    if (!m) {
        pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
        return NULL;
    }
    m->p = *p;
    m->nfields = d->nfields;
    m->nlabels = d->nlabels;
    ft_docs docs = {0};
    if (copy_labels(m, d->label_names)) {
        pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory");
        goto fail;
    }
    if (build_vocab(m, d, err) || encode_docs(m, d, &docs, err))
        goto fail;
    size_t dim = (size_t)p->dim;
    m->A = malloc((m->nfeat + 1) * dim * sizeof(float));
    m->B = calloc(m->nlabels * dim, sizeof(float));
    if (!m->A || !m->B) {
        pth_fail(err, PTH_ERR_NOMEM, "fasttext: out of memory for %zu x %zu embeddings", m->nfeat, dim);
        goto fail;
    }
    /* fastText's initialisation: uniform in (-1/dim, 1/dim), here from the seeded stream. */
    pth_rng rng;
    pth_rng_seed_stream(&rng, p->seed, 0x1417);
    for (size_t i = 0; i < m->nfeat * dim; i++)
        m->A[i] = (float)((2.0 * pth_rng_uniform(&rng) - 1.0) / (double)dim);
    if (run_sgd(m, d, &docs, err))
        goto fail;
    free(docs.off);
    free(docs.ids);
    return m;
fail:
    free(docs.off);
    free(docs.ids);
    pth_ft_free(m);
    return NULL;
}

/* ---------------------------------------------------------------- prediction */

typedef struct {
    const pth_fasttext *m;
    float *h; /* running sum of the current segment's rows */
    size_t count;
} pred_ctx;

static void accumulate_row(void *ctx, uint64_t key)
{
    pred_ctx *c = ctx;
    long r = model_row(c->m, key);
    if (r < 0)
        return;
    size_t dim = (size_t)c->m->p.dim;
    const float *a = c->m->A + (size_t)r * dim;
    for (size_t t = 0; t < dim; t++)
        c->h[t] += a[t];
    c->count++;
}

/* Adds the mean of c's accumulated rows to h and resets c. */
static void flush_segment(pred_ctx *c, float *h, size_t dim)
{
    if (c->count > 0) {
        float inv = 1.0f / (float)c->count;
        for (size_t t = 0; t < dim; t++)
            h[t] += inv * c->h[t];
    }
    memset(c->h, 0, dim * sizeof(float));
    c->count = 0;
}

void pth_ft_predict(const pth_fasttext *m, const char *const *fields, double *scores)
{
    float h[FT_MAXDIM], seg[FT_MAXDIM], probs[FT_MAXLABELS];
    size_t dim = (size_t)m->p.dim;
    memset(h, 0, dim * sizeof(float));
    memset(seg, 0, dim * sizeof(float));
    pred_ctx c = {m, seg, 0};
    if (m->p.field_pool) {
        for (size_t f = 0; f < m->nfields; f++) {
            featurize_field(&m->p, fields[f], (uint32_t)f, accumulate_row, &c);
            flush_segment(&c, h, dim);
        }
    } else {
        featurize_doc(&m->p, m->nfields, fields, accumulate_row, &c);
        flush_segment(&c, h, dim);
    }
    output_probs(m, h, probs);
    for (size_t k = 0; k < m->nlabels; k++)
        scores[k] = (double)probs[k];
}

void pth_ft_predict_many(const pth_fasttext *m, size_t n, const char *const *fields, double *scores,
                         int threads)
{
    int T = threads > 0 ? threads : 1;
    long nn = (long)n;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long i = 0; i < nn; i++)
        pth_ft_predict(m, fields + (size_t)i * m->nfields, scores + (size_t)i * m->nlabels);
}

/* ---------------------------------------------------------------- serialisation
 *
 * Layout (little-endian): u32 magic "PFT1", u32 version 1, i32 dim, word_ngrams, minn, maxn,
 * epochs, f64 lr, i32 min_count, loss, threads, u64 seed, u64 max_features, i32 field_pool,
 * u64 nfields,
 * u64 nlabels, nlabels x str label name, u64 nfeat, nfeat x u64 feature key (row order),
 * f32s input matrix (nfeat*dim), f32s output matrix (nlabels*dim). */

void pth_ft_write(const pth_fasttext *m, pth_blob_writer *w)
{
    pth_blob_u32(w, FT_MAGIC);
    pth_blob_u32(w, FT_VERSION);
    pth_blob_i32(w, m->p.dim);
    pth_blob_i32(w, m->p.word_ngrams);
    pth_blob_i32(w, m->p.minn);
    pth_blob_i32(w, m->p.maxn);
    pth_blob_i32(w, m->p.epochs);
    pth_blob_f64(w, m->p.lr);
    pth_blob_i32(w, m->p.min_count);
    pth_blob_i32(w, (int32_t)m->p.loss);
    pth_blob_i32(w, m->p.threads);
    pth_blob_u64(w, m->p.seed);
    pth_blob_u64(w, m->p.max_features);
    pth_blob_i32(w, m->p.field_pool);
    pth_blob_u64(w, m->nfields);
    pth_blob_u64(w, m->nlabels);
    for (size_t k = 0; k < m->nlabels; k++)
        pth_blob_str(w, m->labels[k]);
    pth_blob_u64(w, m->nfeat);
    for (size_t r = 0; r < m->nfeat; r++)
        pth_blob_u64(w, m->keys[r]);
    pth_blob_f32s(w, m->A, m->nfeat * (size_t)m->p.dim);
    pth_blob_f32s(w, m->B, m->nlabels * (size_t)m->p.dim);
}

static void read_params(pth_blob_reader *r, pth_ft_params *p)
{
    p->dim = pth_blob_read_i32(r);
    p->word_ngrams = pth_blob_read_i32(r);
    p->minn = pth_blob_read_i32(r);
    p->maxn = pth_blob_read_i32(r);
    p->epochs = pth_blob_read_i32(r);
    p->lr = pth_blob_read_f64(r);
    p->min_count = pth_blob_read_i32(r);
    p->loss = (pth_ft_loss)pth_blob_read_i32(r);
    p->threads = pth_blob_read_i32(r);
    p->seed = pth_blob_read_u64(r);
    p->max_features = (size_t)pth_blob_read_u64(r);
    p->field_pool = pth_blob_read_i32(r) != 0;
}

/* Trained weights stay far below this.  The bound keeps every score finite in float: a hidden
 * value is at most 64 fields x FT_MAXWEIGHT, a score at most FT_MAXDIM times that x
 * FT_MAXWEIGHT (~7e16), so a corrupt model cannot turn probabilities into NaN. */
#define FT_MAXWEIGHT 1e6

pth_fasttext *pth_ft_read(pth_blob_reader *r)
{
    if (pth_blob_read_u32(r) != FT_MAGIC) {
        pth_blob_reader_fail(r, "not a pathos fastText model (bad magic)");
        return NULL;
    }
    uint32_t ver = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && ver != FT_VERSION) {
        pth_blob_reader_fail(r, "unsupported fastText model version %u (this build reads %u)", ver, FT_VERSION);
        return NULL;
    }
    pth_fasttext *m = calloc(1, sizeof *m);
    if (!m) {
        pth_blob_reader_fail(r, "out of memory");
        return NULL;
    }
    read_params(r, &m->p);
    uint64_t nf = pth_blob_read_u64(r), nl = pth_blob_read_u64(r);
    pth_error e;
    if (pth_blob_reader_ok(r) && (check_params(&m->p, &e) || nf < 1 || nf > 64 || nl < 1 || nl > FT_MAXLABELS)) {
        pth_blob_reader_fail(r, "invalid fastText header (%s)", check_params(&m->p, &e) ? e.msg : "fields/labels");
        goto fail;
    }
    if (!pth_blob_reader_ok(r))
        goto fail;
    m->nfields = (size_t)nf;
    m->nlabels = (size_t)nl;
    m->labels = calloc(m->nlabels, sizeof(char *));
    if (!m->labels)
        goto nomem;
    for (size_t k = 0; k < m->nlabels; k++)
        m->labels[k] = pth_blob_read_str(r, 4096);
    uint64_t nfeat = pth_blob_read_u64(r);
    /* Each key takes 8 bytes: a count beyond what is left is corrupt, not an allocation. */
    if (!pth_blob_reader_ok(r) || nfeat > (r->len - r->pos) / 8) {
        pth_blob_reader_fail(r, "fastText feature count %llu exceeds the file", (unsigned long long)nfeat);
        goto fail;
    }
    m->nfeat = (size_t)nfeat;
    m->keys = malloc((m->nfeat + 1) * sizeof(uint64_t));
    if (!m->keys)
        goto nomem;
    for (size_t i = 0; i < m->nfeat; i++)
        m->keys[i] = pth_blob_read_u64(r);
    m->A = pth_blob_read_f32s(r, m->nfeat * (size_t)m->p.dim);
    m->B = pth_blob_read_f32s(r, m->nlabels * (size_t)m->p.dim);
    if (!pth_blob_reader_ok(r))
        goto fail;
    for (size_t i = 0; i < m->nfeat; i++)
        if (m->keys[i] == 0 || (i > 0 && m->keys[i] <= m->keys[i - 1])) {
            pth_blob_reader_fail(r, "fastText feature keys are not strictly increasing");
            goto fail;
        }
    if (!pth_blob_f32s_within(m->A, m->nfeat * (size_t)m->p.dim, (float)FT_MAXWEIGHT) ||
        !pth_blob_f32s_within(m->B, m->nlabels * (size_t)m->p.dim, (float)FT_MAXWEIGHT)) {
        pth_blob_reader_fail(r, "fastText weights are not finite or larger than %g", FT_MAXWEIGHT);
        goto fail;
    }
    if (build_lookup(m))
        goto nomem;
    return m;
nomem:
    pth_blob_reader_fail(r, "out of memory");
fail:
    pth_ft_free(m);
    return NULL;
}

int pth_ft_save(const pth_fasttext *m, const char *path, pth_error *err)
{
    pth_blob_writer w = {0};
    pth_ft_write(m, &w);
    return pth_blob_write_file(&w, path, "a fastText model", err);
}

pth_fasttext *pth_ft_load(const char *path, pth_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (pth_read_file(path, (size_t)1 << 34, &buf, &len, err))
        return NULL;
    pth_blob_reader r;
    pth_blob_reader_init(&r, buf, len, path);
    pth_fasttext *m = pth_ft_read(&r);
    if (!m || pth_blob_reader_status(&r, err)) {
        if (!m && pth_blob_reader_ok(&r))
            pth_fail(err, PTH_ERR_FORMAT, "%s: cannot read fastText model", path);
        else
            pth_blob_reader_status(&r, err);
        pth_ft_free(m);
        m = NULL;
    }
    free(buf);
    return m;
}
