/* safetensors reader: an 8-byte little-endian header length, a JSON header mapping tensor
 * names to {dtype, shape, data_offsets} (offsets relative to the data block that follows
 * the header), and an optional "__metadata__" object of strings whose "config" entry
 * holds the model config as JSON text. Every number in the header is checked before it
 * is used as a size or offset. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/io.h"
#include "pathos/tensorset.h"
#include "tabpfn/loader_common.h"

/* Real headers are a few KB per hundred tensors; this bounds cJSON's work and memory. */
#define ST_MAX_HEADER_BYTES ((uint64_t)100 << 20)

typedef struct {
    const char *file; /* for messages */
    const unsigned char *data;
    size_t data_len; /* size of the data block after the header */
} st_ctx;

static int parse_dtype(const st_ctx *c, const char *name, const cJSON *j, pth_dtype *dt, pth_error *err)
{
    if (!cJSON_IsString(j))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: tensor '%s': missing or non-string dtype", c->file, name);
    const char *s = j->valuestring;
    if (!strcmp(s, "F32"))
        *dt = PTH_DT_F32;
    else if (!strcmp(s, "F16"))
        *dt = PTH_DT_F16;
    else if (!strcmp(s, "BF16"))
        *dt = PTH_DT_BF16;
    else if (!strcmp(s, "F64"))
        *dt = PTH_DT_F64;
    else
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype '%.32s' (F32, F16, BF16, F64 only)",
                        c->file, name, s);
    return PTH_OK;
}

/* A JSON number that is an exact non-negative integer no larger than max. */
static int json_uint(const cJSON *j, double max, uint64_t *v)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= max) || floor(d) != d)
        return 0;
    *v = (uint64_t)d;
    return 1;
}

static int parse_shape(const st_ctx *c, const char *name, const cJSON *j, int *ndim, int64_t *shape,
                       size_t *numel, pth_error *err)
{
    if (!cJSON_IsArray(j))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: tensor '%s': missing or non-array shape", c->file, name);
    int n = cJSON_GetArraySize(j);
    if (n > PTH_TENSOR_MAX_DIMS)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d)", c->file, name, n,
                        PTH_TENSOR_MAX_DIMS);
    size_t prod = 1;
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, j)
    {
        uint64_t v = 0;
        /* 2^53: beyond it doubles stop being exact integers. */
        if (!json_uint(d, 9007199254740992.0, &v))
            return pth_fail(err, PTH_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer",
                            c->file, name, i);
        if (v != 0 && prod > SIZE_MAX / v)
            return pth_fail(err, PTH_ERR_FORMAT, "%s: tensor '%s': shape overflows", c->file, name);
        prod *= (size_t)v;
        shape[i++] = (int64_t)v;
    }
    *ndim = n;
    *numel = prod;
    return PTH_OK;
}

/* data_offsets [begin, end) must lie inside the data block and match numel * elemsize. */
static int parse_offsets(const st_ctx *c, const char *name, const cJSON *j, size_t numel, size_t es,
                         size_t *begin, pth_error *err)
{
    uint64_t b = 0, e = 0;
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2 || !json_uint(cJSON_GetArrayItem(j, 0), 9e15, &b) ||
        !json_uint(cJSON_GetArrayItem(j, 1), 9e15, &e))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end] integers",
                        c->file, name);
    if (b > e || e > c->data_len)
        return pth_fail(err, PTH_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%llu, %llu) outside the %zu-byte data block", c->file,
                        name, (unsigned long long)b, (unsigned long long)e, c->data_len);
    if (numel > SIZE_MAX / es || (uint64_t)(numel * es) != e - b)
        return pth_fail(err, PTH_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets span %llu bytes but shape needs %zu elements of %zu bytes",
                        c->file, name, (unsigned long long)(e - b), numel, es);
    *begin = (size_t)b;
    return PTH_OK;
}

/* With out == NULL only validates the entry; otherwise decodes it into out. */
static int load_tensor(const st_ctx *c, const cJSON *j, pth_tensor_set *out, pth_error *err)
{
    const char *name = j->string;
    if (!cJSON_IsObject(j))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: header entry '%s' is not an object", c->file, name);
    pth_dtype dt = 0;
    int ndim = 0;
    int64_t shape[PTH_TENSOR_MAX_DIMS];
    size_t numel = 0, begin = 0;
    int rc = parse_dtype(c, name, cJSON_GetObjectItemCaseSensitive(j, "dtype"), &dt, err);
    if (!rc)
        rc = parse_shape(c, name, cJSON_GetObjectItemCaseSensitive(j, "shape"), &ndim, shape, &numel, err);
    if (!rc)
        rc = parse_offsets(c, name, cJSON_GetObjectItemCaseSensitive(j, "data_offsets"), numel, pth_dtype_size(dt),
                           &begin, err);
    if (rc || !out)
        return rc;
    float *data = malloc(numel ? numel * sizeof *data : 1);
    if (!data)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: tensor '%s': out of memory", c->file, name);
    pth_dtype_decode(dt, c->data + begin, numel, data);
    rc = pth_tensor_set_add(out, name, ndim, shape, data, err);
    if (rc)
        pth_error_prefix(err, "%s", c->file);
    return rc;
}

/* "__metadata__" is a string->string map; only "config" matters here. */
static int load_metadata(const st_ctx *c, const cJSON *j, pth_tensor_set *out, pth_error *err)
{
    if (!cJSON_IsObject(j))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: __metadata__ is not an object", c->file);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
    if (!cfg)
        return PTH_OK;
    if (!cJSON_IsString(cfg))
        return pth_fail(err, PTH_ERR_FORMAT, "%s: __metadata__.config is not a string", c->file);
    if (out->config_json)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: __metadata__ appears twice", c->file);
    char what[300];
    snprintf(what, sizeof what, "%s: __metadata__", c->file);
    return pth_config_json_normalize(cfg->valuestring, strlen(cfg->valuestring), what, &out->config_json, err);
}

/* Two passes: every entry is validated before any data is decoded, so a damaged file
 * fails fast and without allocating the (possibly large) tensors. */
static int load_entries(const st_ctx *c, const cJSON *root, pth_tensor_set *out, pth_error *err)
{
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        int rc;
        if (!strcmp(e->string, "__metadata__"))
            rc = load_metadata(c, e, out, err);
        else if (++n > PTH_CKPT_MAX_TENSORS)
            rc = pth_fail(err, PTH_ERR_FORMAT, "%s: more than %d tensors", c->file, PTH_CKPT_MAX_TENSORS);
        else
            rc = load_tensor(c, e, NULL, err);
        if (rc)
            return rc;
    }
    cJSON_ArrayForEach(e, root)
    {
        int rc = strcmp(e->string, "__metadata__") ? load_tensor(c, e, out, err) : PTH_OK;
        if (rc)
            return rc;
    }
    return PTH_OK;
}

static int load_header(const st_ctx *c, const char *text, size_t len, pth_tensor_set *out, pth_error *err)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: header is not valid JSON", c->file);
    int rc = cJSON_IsObject(root) ? load_entries(c, root, out, err)
                                  : pth_fail(err, PTH_ERR_FORMAT, "%s: header is not a JSON object", c->file);
    cJSON_Delete(root);
    return rc;
}

int pth_safetensors_load_buffer(const void *buf, size_t len, const char *name, pth_tensor_set *out,
                                pth_error *err)
{
    const unsigned char *p = buf;
    const char *file = name ? name : "<buffer>";
    memset(out, 0, sizeof *out);
    if (len < 8)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: too short for a safetensors file (%zu bytes)", file, len);
    uint64_t hlen = pth_le64(p);
    if (hlen > ST_MAX_HEADER_BYTES || hlen > len - 8)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: safetensors header length %llu exceeds %s", file,
                        (unsigned long long)hlen, hlen > ST_MAX_HEADER_BYTES ? "the 100 MB limit" : "the file size");
    st_ctx c = {file, p + 8 + hlen, len - 8 - (size_t)hlen};
    int rc = load_header(&c, (const char *)p + 8, (size_t)hlen, out, err);
    if (rc)
        pth_tensor_set_free(out);
    return rc;
}

int pth_safetensors_load(const char *path, pth_tensor_set *out, pth_error *err)
{
    return pth_load_path_with(path, pth_safetensors_load_buffer, out, err);
}
