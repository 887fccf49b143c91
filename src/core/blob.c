#include "pathos/blob.h"

#include "pathos/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

static void put(pth_blob_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        unsigned char *d = realloc(w->data, cap);
        if (!d) {
            w->failed = 1;
            return;
        }
        w->data = d;
        w->cap = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

static void put_le(pth_blob_writer *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}

void pth_blob_u32(pth_blob_writer *w, uint32_t v) { put_le(w, v, 4); }
void pth_blob_u64(pth_blob_writer *w, uint64_t v) { put_le(w, v, 8); }
void pth_blob_i32(pth_blob_writer *w, int32_t v) { put_le(w, (uint32_t)v, 4); }

void pth_blob_f64(pth_blob_writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(w, u, 8);
}

void pth_blob_f64s(pth_blob_writer *w, const double *v, size_t n)
{
    pth_blob_u64(w, n);
    for (size_t i = 0; i < n; i++)
        pth_blob_f64(w, v[i]);
}

void pth_blob_f32s(pth_blob_writer *w, const float *v, size_t n)
{
    pth_blob_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_le(w, u, 4);
    }
}

void pth_blob_str(pth_blob_writer *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    pth_blob_u32(w, (uint32_t)n);
    put(w, s ? s : "", n);
}

void pth_blob_bytes(pth_blob_writer *w, const void *p, size_t n)
{
    pth_blob_u64(w, n);
    put(w, p, n);
}

void pth_blob_u32s(pth_blob_writer *w, const uint32_t *v, size_t n)
{
    pth_blob_u64(w, 4 * (uint64_t)n);
    for (size_t i = 0; i < n; i++)
        put_le(w, v[i], 4);
}

void pth_blob_writer_free(pth_blob_writer *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

int pth_blob_write_file(pth_blob_writer *w, const char *path, const char *what, pth_error *err)
{
    int rc = w->failed ? pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory serialising %s", path, what)
                       : pth_write_file_atomic(path, w->data, w->len, err);
    pth_blob_writer_free(w);
    return rc;
}

/* ---- reader ---- */

void pth_blob_reader_init(pth_blob_reader *r, const void *data, size_t len, const char *what)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    r->what = what ? what : "<buffer>";
}

void pth_blob_reader_fail(pth_blob_reader *r, const char *fmt, ...)
{
    if (r->err.code != PTH_OK)
        return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pth_fail(&r->err, PTH_ERR_FORMAT, "%s: corrupt or truncated file at byte %zu: %s", r->what, r->pos, msg);
}

int pth_blob_reader_ok(const pth_blob_reader *r) { return r->err.code == PTH_OK; }

int pth_blob_reader_status(const pth_blob_reader *r, pth_error *err)
{
    if (r->err.code == PTH_OK)
        return PTH_OK;
    if (err)
        *err = r->err;
    return (int)r->err.code;
}

static const unsigned char *take(pth_blob_reader *r, size_t n)
{
    if (r->err.code != PTH_OK)
        return NULL;
    if (n > r->len - r->pos) {
        pth_blob_reader_fail(r, "needs %zu more bytes, %zu left", n, r->len - r->pos);
        return NULL;
    }
    const unsigned char *p = r->data + r->pos;
    r->pos += n;
    return p;
}

static uint64_t get_le(pth_blob_reader *r, int bytes)
{
    const unsigned char *p = take(r, (size_t)bytes);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint32_t pth_blob_read_u32(pth_blob_reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t pth_blob_read_u64(pth_blob_reader *r) { return get_le(r, 8); }
int32_t pth_blob_read_i32(pth_blob_reader *r) { return (int32_t)(uint32_t)get_le(r, 4); }

double pth_blob_read_f64(pth_blob_reader *r)
{
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static int read_count(pth_blob_reader *r, size_t expected, size_t elem)
{
    uint64_t n = pth_blob_read_u64(r);
    if (r->err.code != PTH_OK)
        return 0;
    if (n != expected) {
        pth_blob_reader_fail(r, "array of %llu values where %zu were expected", (unsigned long long)n, expected);
        return 0;
    }
    if (expected > (r->len - r->pos) / elem) {
        pth_blob_reader_fail(r, "array of %zu values runs past the end", expected);
        return 0;
    }
    return 1;
}

/* n little-endian elements of elem bytes into dst.  The file format is little-endian, so on a
 * little-endian host (every platform pathos runs on today) the block is one memcpy: a text
 * model holds millions of weights, and assembling each from bytes made loading slower than
 * scoring a whole dataset. */
static void read_le_block(pth_blob_reader *r, size_t n, size_t elem, void *dst)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const unsigned char *p = take(r, n * elem);
    if (p && n)
        memcpy(dst, p, n * elem);
#else
    unsigned char *out = dst;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = get_le(r, (int)elem);
        for (size_t b = 0; b < elem; b++)
            out[i * elem + b] = (unsigned char)(u >> (8 * b));
    }
#endif
}

/* n elements read into a malloc'd array (NULL, and the reader failed, on error).  Callers
 * have checked that the bytes are there, so a corrupt count cannot cost an allocation. */
static void *read_le_alloc(pth_blob_reader *r, size_t n, size_t elem)
{
    void *v = malloc(n ? n * elem : 1);
    if (!v) {
        pth_blob_reader_fail(r, "out of memory");
        return NULL;
    }
    read_le_block(r, n, elem, v);
    if (r->err.code != PTH_OK) {
        free(v);
        return NULL;
    }
    return v;
}

double *pth_blob_read_f64s(pth_blob_reader *r, size_t expected)
{
    return read_count(r, expected, 8) ? read_le_alloc(r, expected, sizeof(double)) : NULL;
}

float *pth_blob_read_f32s(pth_blob_reader *r, size_t expected)
{
    return read_count(r, expected, 4) ? read_le_alloc(r, expected, sizeof(float)) : NULL;
}

int pth_blob_f64s_within(const double *v, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || !(fabs(v[i]) <= bound))
            return 0;
    return 1;
}

int pth_blob_f32s_within(const float *v, size_t n, float bound)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || !(fabsf(v[i]) <= bound))
            return 0;
    return 1;
}

char *pth_blob_read_str(pth_blob_reader *r, size_t max_len)
{
    uint32_t n = pth_blob_read_u32(r);
    if (r->err.code != PTH_OK)
        return NULL;
    if (n > max_len) {
        pth_blob_reader_fail(r, "string of %u bytes exceeds the limit of %zu", n, max_len);
        return NULL;
    }
    const unsigned char *p = take(r, n);
    if (!p)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) {
        pth_blob_reader_fail(r, "out of memory");
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

uint32_t *pth_blob_read_u32s(pth_blob_reader *r, size_t max, size_t *n, const char *what)
{
    *n = 0;
    uint64_t bytes = pth_blob_read_u64(r);
    if (r->err.code != PTH_OK)
        return NULL;
    if (bytes % 4 || bytes / 4 > max) {
        pth_blob_reader_fail(r, "%s: %llu bytes, not a list of at most %zu u32 values", what,
                             (unsigned long long)bytes, max);
        return NULL;
    }
    size_t count = (size_t)(bytes / 4);
    /* Checked before allocating: a corrupt length must not cost gigabytes. */
    if (count > (r->len - r->pos) / 4) {
        pth_blob_reader_fail(r, "%s of %zu values runs past the end", what, count);
        return NULL;
    }
    uint32_t *v = read_le_alloc(r, count, sizeof *v);
    if (v)
        *n = count;
    return v;
}

const void *pth_blob_read_bytes(pth_blob_reader *r, size_t max_len, size_t *len)
{
    uint64_t n = pth_blob_read_u64(r);
    *len = 0;
    if (r->err.code != PTH_OK)
        return NULL;
    if (n > max_len) {
        pth_blob_reader_fail(r, "byte block of %llu bytes exceeds the limit of %zu", (unsigned long long)n, max_len);
        return NULL;
    }
    const unsigned char *p = take(r, (size_t)n);
    if (p)
        *len = (size_t)n;
    return p;
}
