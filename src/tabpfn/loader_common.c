#include "tabpfn/loader_common.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/io.h"

uint16_t pth_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t pth_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t pth_le64(const unsigned char *p)
{
    return (uint64_t)pth_le32(p) | ((uint64_t)pth_le32(p + 4) << 32);
}

size_t pth_dtype_size(pth_dtype dt)
{
    switch (dt) {
    case PTH_DT_F16:
    case PTH_DT_BF16:
        return 2;
    case PTH_DT_F64:
        return 8;
    case PTH_DT_F32:
    default:
        return 4;
    }
}

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half -> single, exact for every input (subnormals renormalised, NaN payload kept). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    if (exp == 0x1F)
        return bits_to_float(sign | 0x7F800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0)
            return bits_to_float(sign);
        /* Subnormal: shift the mantissa up until its leading 1 becomes implicit. */
        exp = 127 - 15 + 1;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            exp--;
        }
        mant &= 0x3FFu;
        return bits_to_float(sign | (exp << 23) | (mant << 13));
    }
    return bits_to_float(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

float pth_dtype_decode_one(pth_dtype dt, const unsigned char *src)
{
    switch (dt) {
    case PTH_DT_F16:
        return half_to_float(pth_le16(src));
    case PTH_DT_BF16:
        return bits_to_float((uint32_t)pth_le16(src) << 16);
    case PTH_DT_F64: {
        uint64_t u = pth_le64(src);
        double d;
        memcpy(&d, &u, sizeof d);
        return (float)d;
    }
    case PTH_DT_F32:
    default:
        return bits_to_float(pth_le32(src));
    }
}

void pth_dtype_decode(pth_dtype dt, const unsigned char *src, size_t n, float *dst)
{
    size_t es = pth_dtype_size(dt);
    for (size_t i = 0; i < n; i++)
        dst[i] = pth_dtype_decode_one(dt, src + i * es);
}

int pth_config_json_normalize(const char *text, size_t len, const char *what, char **out, pth_error *err)
{
    *out = NULL;
    if (len > PTH_CKPT_MAX_CONFIG_BYTES)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: config larger than %zu bytes", what, PTH_CKPT_MAX_CONFIG_BYTES);
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j)
        return pth_fail(err, PTH_ERR_FORMAT, "%s: config is not valid JSON", what);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pth_fail(err, PTH_ERR_FORMAT, "%s: config is not a JSON object", what);
    }
    *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return *out ? PTH_OK : pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory printing config", what);
}

int pth_load_path_with(const char *path, pth_buffer_loader load, pth_tensor_set *out, pth_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = pth_read_file(path, PTH_CKPT_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = load(buf, len, path, out, err);
    free(buf);
    return rc;
}
