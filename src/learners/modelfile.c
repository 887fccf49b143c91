/* The versioned model file (docs/model-format.md):
 *   magic "PTHMODEL", u32 version, learner name, shape, feature names, preprocessing,
 *   length-prefixed learner payload, CRC-32 of everything before it.
 * Loading checks magic and version first (so an old or foreign file gets a precise
 * message), then the checksum (so random corruption is reported as such instead of being
 * half-parsed), then parses with the bounds-checked blob reader and validates every value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learners/model_impl.h"
#include "pathos/io.h"

#define MAGIC "PTHMODEL"
#define MAX_NAME 64
#define MAX_FEATURE_NAME 4096
#define MAX_CLASSES 65536
#define MAX_FILE ((size_t)1 << 31)
#define HEADER_LEN 12 /* magic + version */

uint32_t pth_crc32(const void *data, size_t n)
{
    /* Bitwise CRC-32 (IEEE 802.3, reflected, as in zlib): slow per byte but model files
     * are small and it needs no table. */
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static uint64_t magic_u64(void)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)(unsigned char)MAGIC[i] << (8 * i);
    return v;
}

static void write_body(const pth_model *m, pth_blob_writer *w)
{
    pth_blob_u64(w, magic_u64());
    pth_blob_u32(w, PTH_MODEL_FORMAT_VERSION);
    pth_blob_str(w, m->ops->name);
    pth_blob_u64(w, m->d);
    pth_blob_i32(w, m->n_classes);
    for (size_t j = 0; j < m->d; j++) {
        pth_blob_u32(w, m->feature_names[j] ? 1u : 0u);
        if (m->feature_names[j])
            pth_blob_str(w, m->feature_names[j]);
    }
    pth_blob_u32(w, m->prep.flags);
    if (m->prep.flags & PTH_PREP_IMPUTE)
        pth_blob_f64s(w, m->prep.fill, m->d);
    if (m->prep.flags & PTH_PREP_STANDARDISE) {
        pth_blob_f64s(w, m->prep.mean, m->d);
        pth_blob_f64s(w, m->prep.scale, m->d);
    }
}

int pth_model_save_buffer(const pth_model *m, unsigned char **data, size_t *len, pth_error *err)
{
    *data = NULL;
    *len = 0;
    if (!m || !m->state)
        return pth_fail(err, PTH_ERR_INVALID, "no model given");
    for (size_t j = 0; j < m->d; j++)
        if (m->feature_names[j] && strlen(m->feature_names[j]) > MAX_FEATURE_NAME)
            return pth_fail(err, PTH_ERR_INVALID, "feature name %zu is longer than %d bytes", j, MAX_FEATURE_NAME);
    pth_blob_writer w = {0}, payload = {0};
    write_body(m, &w);
    int rc = m->ops->save(m->state, &payload, err);
    if (rc) {
        pth_blob_writer_free(&w);
        pth_blob_writer_free(&payload);
        return rc;
    }
    pth_blob_bytes(&w, payload.data, payload.len);
    int failed = payload.failed;
    pth_blob_writer_free(&payload);
    if (!w.failed && !failed)
        pth_blob_u32(&w, pth_crc32(w.data, w.len));
    if (w.failed || failed) {
        pth_blob_writer_free(&w);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory serialising the model");
    }
    *data = w.data;
    *len = w.len;
    return PTH_OK;
}

int pth_model_save(const pth_model *m, const char *path, pth_error *err)
{
    unsigned char *data;
    size_t len;
    int rc = pth_model_save_buffer(m, &data, &len, err);
    if (rc)
        return rc;
    rc = pth_write_file_atomic(path, data, len, err);
    free(data);
    return rc;
}

/* ---- loading ---- */

static void read_names(pth_blob_reader *r, pth_model *m)
{
    for (size_t j = 0; j < m->d && pth_blob_reader_ok(r); j++) {
        uint32_t has = pth_blob_read_u32(r);
        if (has > 1)
            pth_blob_reader_fail(r, "feature %zu: name flag %u is neither 0 nor 1", j, has);
        else if (has)
            m->feature_names[j] = pth_blob_read_str(r, MAX_FEATURE_NAME);
    }
}

static double *read_column_stats(pth_blob_reader *r, size_t d, int positive, const char *what)
{
    double *v = pth_blob_read_f64s(r, d);
    for (size_t j = 0; v && j < d; j++)
        if (!isfinite(v[j]) || (positive && !(v[j] > 0))) {
            pth_blob_reader_fail(r, "preprocessing %s of column %zu is %g", what, j, v[j]);
            break;
        }
    return v;
}

static void read_prep(pth_blob_reader *r, pth_model *m)
{
    uint32_t flags = pth_blob_read_u32(r);
    unsigned want = m->ops->prep & PTH_PREP_STANDARDISE ? m->ops->prep | PTH_PREP_IMPUTE : m->ops->prep;
    if (!pth_blob_reader_ok(r))
        return;
    if (flags != want) {
        pth_blob_reader_fail(r, "preprocessing flags %u do not match learner '%s' (expects %u)", flags,
                             m->ops->name, want);
        return;
    }
    m->prep.d = m->d;
    m->prep.flags = flags;
    if (flags & PTH_PREP_IMPUTE)
        m->prep.fill = read_column_stats(r, m->d, 0, "fill value");
    if (flags & PTH_PREP_STANDARDISE) {
        m->prep.mean = read_column_stats(r, m->d, 0, "mean");
        m->prep.scale = read_column_stats(r, m->d, 1, "scale");
    }
}

/* Header up to the feature names: learner, shape.  Returns the model or NULL (r failed). */
static pth_model *read_shape(pth_blob_reader *r)
{
    (void)pth_blob_read_u64(r); /* magic and version were checked by the caller */
    (void)pth_blob_read_u32(r);
    char *name = pth_blob_read_str(r, MAX_NAME);
    uint64_t d = pth_blob_read_u64(r);
    int32_t k = pth_blob_read_i32(r);
    const pth_learner_ops *ops = name ? pth_learner_find(name) : NULL;
    pth_model *m = NULL;
    if (!pth_blob_reader_ok(r))
        ;
    else if (!ops)
        pth_blob_reader_fail(r, "unknown learner '%s' (written by a newer pathos?)", name);
    else if (d == 0 || d > (r->len - r->pos) / 4) /* every feature costs at least 4 bytes */
        pth_blob_reader_fail(r, "impossible number of features %llu", (unsigned long long)d);
    else if (k < 2 || k > MAX_CLASSES)
        pth_blob_reader_fail(r, "impossible number of classes %d", (int)k);
    else if (!(m = pth_model_alloc(ops, (size_t)d, (int)k)))
        pth_blob_reader_fail(r, "out of memory");
    free(name);
    return m;
}

static void read_payload(pth_blob_reader *r, pth_model *m)
{
    size_t plen;
    const void *p = pth_blob_read_bytes(r, r->len, &plen);
    if (!pth_blob_reader_ok(r))
        return;
    char what[1200];
    snprintf(what, sizeof what, "%s ('%s' payload)", r->what, m->ops->name);
    pth_blob_reader sub;
    pth_blob_reader_init(&sub, p, plen, what);
    pth_learner_shape shape = {m->d, m->n_classes};
    pth_error lerr = {0};
    int rc = m->ops->load(&sub, &shape, &m->state, &lerr);
    if (!rc && pth_blob_reader_ok(&sub) && sub.pos != sub.len)
        pth_blob_reader_fail(&sub, "%zu unread bytes at the end", sub.len - sub.pos);
    /* Latch the learner's message (already naming file and payload) as the file's error. */
    if (!pth_blob_reader_ok(&sub)) {
        r->err = sub.err;
    } else if (rc) {
        r->err = lerr;
        if (r->err.code == PTH_OK)
            pth_fail(&r->err, PTH_ERR_FORMAT, "%s: learner could not load its state", what);
    }
    if (!pth_blob_reader_ok(r) && m->state) {
        m->ops->free(m->state);
        m->state = NULL;
    }
}

static int check_header(const unsigned char *b, size_t len, const char *what, pth_error *err)
{
    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: not a pathos model file (bad magic)", what);
    if (len < HEADER_LEN)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: truncated model file (%zu bytes)", what, len);
    uint32_t version = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
    if (version != PTH_MODEL_FORMAT_VERSION)
        return pth_fail(err, PTH_ERR_FORMAT,
                        "%s: unsupported model format version %u (this pathos reads version %d)", what, version,
                        PTH_MODEL_FORMAT_VERSION);
    if (len < HEADER_LEN + 4)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: truncated model file (%zu bytes)", what, len);
    const unsigned char *t = b + len - 4;
    uint32_t stored = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    if (stored != pth_crc32(b, len - 4))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: checksum mismatch: the model file is corrupt or truncated", what);
    return PTH_OK;
}

pth_model *pth_model_load_buffer(const void *data, size_t len, const char *name, pth_error *err)
{
    const char *what = name ? name : "<model buffer>";
    if (!data && len)
        len = 0;
    if (check_header(data ? data : "", len, what, err))
        return NULL;
    pth_blob_reader r;
    pth_blob_reader_init(&r, data, len - 4, what);
    pth_model *m = read_shape(&r);
    if (m) {
        read_names(&r, m);
        read_prep(&r, m);
        read_payload(&r, m);
    }
    if (pth_blob_reader_ok(&r) && r.pos != r.len)
        pth_blob_reader_fail(&r, "%zu unexpected bytes before the checksum", r.len - r.pos);
    if (!pth_blob_reader_ok(&r)) {
        pth_blob_reader_status(&r, err);
        pth_model_free(m);
        return NULL;
    }
    return m;
}

pth_model *pth_model_load(const char *path, pth_error *err)
{
    char *buf;
    size_t len;
    if (!path)
        return pth_fail(err, PTH_ERR_INVALID, "no model path given"), NULL;
    if (pth_read_file(path, MAX_FILE, &buf, &len, err))
        return NULL;
    pth_model *m = pth_model_load_buffer(buf, len, path, err);
    free(buf);
    return m;
}
