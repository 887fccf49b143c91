/* PyTorch checkpoint reader (torch.save zip format). The archive holds <prefix>/data.pkl,
 * a pickle of the saved object in which every tensor is
 * torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
 * and every storage is a persistent id ('storage', torch.<T>Storage, key, location,
 * numel) whose bytes are the stored entry <prefix>/data/<key>. The pickle is interpreted
 * as data only (pickle.c); this file turns the resulting object tree into tensors and the
 * config dict into JSON. The expected layout is {"state_dict": {...}, "config": {...}};
 * a bare state dict is accepted too. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/io.h"
#include "pathos/tensorset.h"
#include "tabpfn/loader_common.h"
#include "tabpfn/pickle.h"
#include "tabpfn/zip.h"

#define MAX_PICKLE_BYTES ((size_t)64 << 20)
#define MAX_CONFIG_NODES 10000
#define MAX_KEY_LEN 64
#define PK_NAME_BUF 512

#define G_REBUILD_TENSOR "torch._utils._rebuild_tensor_v2"
#define G_REBUILD_PARAM "torch._utils._rebuild_parameter"

/* Every global the pickle may name. The storage types beyond the four float ones are
 * allowed only so that their tensors fail with "unsupported dtype" instead of a refusal. */
static const char *const allowed_globals[] = {
    G_REBUILD_TENSOR, G_REBUILD_PARAM, "collections.OrderedDict", "torch.FloatStorage", "torch.HalfStorage",
    "torch.BFloat16Storage", "torch.DoubleStorage", "torch.LongStorage", "torch.IntStorage",
    "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
    "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", NULL};

typedef struct {
    const char *file;
    const pth_zip *zip;
    const char *prefix; /* archive folder name, e.g. "model_random" */
    size_t budget;      /* float32 elements that may still be allocated */
    pth_error *err;
} ckpt_ctx;

static int storage_dtype(const ckpt_ctx *c, const char *tname, const pk_value *g, pth_dtype *dt)
{
    if (g->kind != PK_GLOBAL)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': storage type is not a global", c->file, tname);
    if (!strcmp(g->s, "torch.FloatStorage"))
        *dt = PTH_DT_F32;
    else if (!strcmp(g->s, "torch.HalfStorage"))
        *dt = PTH_DT_F16;
    else if (!strcmp(g->s, "torch.BFloat16Storage"))
        *dt = PTH_DT_BF16;
    else if (!strcmp(g->s, "torch.DoubleStorage"))
        *dt = PTH_DT_F64;
    else
        return pth_fail(c->err, PTH_ERR_UNSUPPORTED,
                        "%s: tensor '%s': unsupported dtype %s (float32/16, bfloat16, float64 only)", c->file,
                        tname, g->s);
    return PTH_OK;
}

static int is_int(const pk_value *v)
{
    return v->kind == PK_INT && v->i >= 0;
}

typedef struct {
    pth_dtype dt;
    const unsigned char *bytes;
    size_t numel;
} storage;

/* Resolves ('storage', type, key, location, numel) to the bytes of <prefix>/data/<key>. */
static int resolve_storage(const ckpt_ctx *c, const char *tname, const pk_value *p, storage *s)
{
    const pk_value *pid = p->kind == PK_PERSID ? p->a : NULL;
    if (!pid || pid->kind != PK_TUPLE || pid->n != 5 || pid->items[0]->kind != PK_STR ||
        strcmp(pid->items[0]->s, "storage") != 0 || pid->items[2]->kind != PK_STR || !is_int(pid->items[4]))
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': malformed storage reference", c->file, tname);
    int rc = storage_dtype(c, tname, pid->items[1], &s->dt);
    if (rc)
        return rc;
    const pk_value *key = pid->items[2];
    /* Keys are small integers as text; anything else could walk out of data/. */
    if (key->slen == 0 || key->slen > MAX_KEY_LEN || strlen(key->s) != key->slen || strchr(key->s, '/'))
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': bad storage key", c->file, tname);
    char ename[PK_NAME_BUF];
    snprintf(ename, sizeof ename, "%s/data/%s", c->prefix, key->s);
    const pth_zip_entry *e = pth_zip_find(c->zip, ename);
    if (!e)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': storage entry '%s' missing", c->file, tname,
                        ename);
    size_t es = pth_dtype_size(s->dt);
    uint64_t n = (uint64_t)pid->items[4]->i;
    if (n > e->size / es || n * es != e->size)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': storage '%s' holds %zu bytes, not %llu elements",
                        c->file, tname, ename, e->size, (unsigned long long)n);
    s->bytes = e->data;
    s->numel = (size_t)n;
    return PTH_OK;
}

typedef struct {
    int ndim;
    int64_t shape[PTH_TENSOR_MAX_DIMS], stride[PTH_TENSOR_MAX_DIMS];
    size_t offset, numel;
    int contiguous;
} view;

/* size/stride tuples -> view. Checks that every element indexes inside the storage and
 * that the view is no larger than its storage (no amplification by broadcasting). */
static int parse_view(const ckpt_ctx *c, const char *tname, const pk_value *off, const pk_value *size,
                      const pk_value *stride, size_t storage_numel, view *v)
{
    if (!is_int(off) || size->kind != PK_TUPLE || stride->kind != PK_TUPLE || size->n != stride->n ||
        size->n > PTH_TENSOR_MAX_DIMS)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': malformed size/stride", c->file, tname);
    v->ndim = (int)size->n;
    v->offset = (size_t)off->i;
    int empty = 0;
    for (int d = 0; d < v->ndim; d++) {
        if (!is_int(size->items[d]) || !is_int(stride->items[d]))
            return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': negative or non-integer size/stride",
                            c->file, tname);
        v->shape[d] = size->items[d]->i;
        v->stride[d] = stride->items[d]->i;
        empty |= v->shape[d] == 0;
    }
    v->numel = empty ? 0 : 1;
    v->contiguous = 1;
    if (empty)
        return PTH_OK;
    /* Last element index = offset + sum (size-1)*stride; each step is checked against the
     * storage so that nothing overflows. */
    uint64_t room = v->offset < storage_numel ? storage_numel - 1 - v->offset : 0, expect = 1;
    if (v->offset >= storage_numel)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': offset past the end of its storage", c->file,
                        tname);
    for (int d = v->ndim - 1; d >= 0; d--) {
        uint64_t sz = (uint64_t)v->shape[d], st = (uint64_t)v->stride[d];
        if (v->numel > storage_numel / sz)
            return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': larger than its storage", c->file, tname);
        v->numel *= (size_t)sz;
        if (sz > 1 && st > 0 && (sz - 1) > room / st)
            return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': view runs past the end of its storage",
                            c->file, tname);
        if (sz > 1) {
            room -= (sz - 1) * st;
            v->contiguous &= st == expect;
        }
        expect *= sz; /* <= numel <= storage_numel: no overflow */
    }
    return PTH_OK;
}

/* Copies a strided view element by element, walking a multi-index in C order. */
static void gather(const storage *s, const view *v, float *dst)
{
    size_t es = pth_dtype_size(s->dt);
    int64_t idx[PTH_TENSOR_MAX_DIMS] = {0};
    size_t pos = v->offset;
    for (size_t k = 0; k < v->numel; k++) {
        dst[k] = pth_dtype_decode_one(s->dt, s->bytes + pos * es);
        for (int d = v->ndim - 1; d >= 0; d--) {
            pos += (size_t)v->stride[d];
            if (++idx[d] < v->shape[d])
                break;
            pos -= (size_t)(v->stride[d] * v->shape[d]);
            idx[d] = 0;
        }
    }
}

static int rebuild_tensor(ckpt_ctx *c, const char *tname, const pk_value *args, pth_tensor_set *out)
{
    if (args->n != 6 && args->n != 7)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: tensor '%s': _rebuild_tensor_v2 takes 6 or 7 arguments, got %zu",
                        c->file, tname, args->n);
    storage s = {0};
    view v = {0};
    int rc = resolve_storage(c, tname, args->items[0], &s);
    if (!rc)
        rc = parse_view(c, tname, args->items[1], args->items[2], args->items[3], s.numel, &v);
    if (rc)
        return rc;
    if (v.numel > c->budget)
        return pth_fail(c->err, PTH_ERR_NOMEM, "%s: tensor '%s': tensors exceed the size bound for this file",
                        c->file, tname);
    c->budget -= v.numel;
    float *data = malloc(v.numel ? v.numel * sizeof *data : 1);
    if (!data)
        return pth_fail(c->err, PTH_ERR_NOMEM, "%s: tensor '%s': out of memory", c->file, tname);
    if (v.contiguous)
        pth_dtype_decode(s.dt, s.bytes + v.offset * pth_dtype_size(s.dt), v.numel, data);
    else
        gather(&s, &v, data);
    rc = pth_tensor_set_add(out, tname, v.ndim, v.shape, data, c->err);
    if (rc)
        pth_error_prefix(c->err, "%s", c->file);
    return rc;
}

static int is_call(const pk_value *v, const char *fn)
{
    return v->kind == PK_REDUCE && !strcmp(v->a->s, fn);
}

static int load_tensor(ckpt_ctx *c, const pk_value *key, const pk_value *val, pth_tensor_set *out)
{
    if (key->kind != PK_STR || strlen(key->s) != key->slen)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: state_dict has a key that is not a string", c->file);
    /* nn.Parameter wraps a tensor: _rebuild_parameter(tensor, requires_grad, hooks). */
    if (is_call(val, G_REBUILD_PARAM) && val->b->n >= 1)
        val = val->b->items[0];
    if (!is_call(val, G_REBUILD_TENSOR))
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: state_dict['%.200s'] is not a tensor", c->file, key->s);
    return rebuild_tensor(c, key->s, val->b, out);
}

static int load_state_dict(ckpt_ctx *c, const pk_value *sd, pth_tensor_set *out)
{
    if (!sd || sd->kind != PK_DICT)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: checkpoint holds no state_dict", c->file);
    if (sd->n / 2 > PTH_CKPT_MAX_TENSORS)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: more than %d tensors", c->file, PTH_CKPT_MAX_TENSORS);
    for (size_t i = 0; i + 1 < sd->n; i += 2) {
        int rc = load_tensor(c, sd->items[i], sd->items[i + 1], out);
        if (rc)
            return rc;
    }
    return PTH_OK;
}

static cJSON *to_json(const pk_value *v, int depth, int *nodes);

static cJSON *dict_to_json(const pk_value *v, int depth, int *nodes)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i + 1 < v->n; i += 2) {
        const pk_value *k = v->items[i];
        cJSON *item = NULL;
        if (k->kind == PK_STR && strlen(k->s) == k->slen)
            item = to_json(v->items[i + 1], depth + 1, nodes);
        if (!item) {
            cJSON_Delete(o);
            return NULL;
        }
        /* Python dicts keep the last value for a repeated key. */
        if (cJSON_GetObjectItemCaseSensitive(o, k->s))
            cJSON_ReplaceItemInObjectCaseSensitive(o, k->s, item);
        else
            cJSON_AddItemToObject(o, k->s, item);
    }
    return o;
}

static cJSON *seq_to_json(const pk_value *v, int depth, int *nodes)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < v->n; i++) {
        cJSON *item = to_json(v->items[i], depth + 1, nodes);
        if (!item) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, item);
    }
    return a;
}

/* Config values are plain data; depth and node count are bounded because the memo lets
 * a pickle build cycles and exponentially shared structures. NULL: unsupported or OOM. */
static cJSON *to_json(const pk_value *v, int depth, int *nodes)
{
    if (depth > PTH_CKPT_MAX_DEPTH || ++*nodes > MAX_CONFIG_NODES)
        return NULL;
    switch (v->kind) {
    case PK_NONE: return cJSON_CreateNull();
    case PK_BOOL: return cJSON_CreateBool(v->i != 0);
    case PK_INT: return cJSON_CreateNumber((double)v->i);
    case PK_FLOAT: return cJSON_CreateNumber(v->f);
    case PK_STR: return strlen(v->s) == v->slen ? cJSON_CreateString(v->s) : NULL;
    case PK_TUPLE:
    case PK_LIST: return seq_to_json(v, depth, nodes);
    case PK_DICT: return dict_to_json(v, depth, nodes);
    default: return NULL;
    }
}

static int load_config(const ckpt_ctx *c, const pk_value *cfg, pth_tensor_set *out)
{
    if (!cfg)
        return PTH_OK;
    if (cfg->kind != PK_DICT)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: config is not a dict", c->file);
    int nodes = 0;
    cJSON *j = to_json(cfg, 0, &nodes);
    if (!j)
        return pth_fail(c->err, PTH_ERR_FORMAT,
                        "%s: config holds values other than str/int/float/bool/None/list/dict, or is too large",
                        c->file);
    out->config_json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out->config_json ? PTH_OK : pth_fail(c->err, PTH_ERR_NOMEM, "%s: out of memory", c->file);
}

/* The archive's single top-level folder that holds data.pkl. */
static int find_prefix(const ckpt_ctx *c, const pth_zip_entry **pkl, char *prefix, size_t cap)
{
    *pkl = NULL;
    for (size_t i = 0; i < c->zip->count; i++) {
        const char *n = c->zip->entries[i].name, *slash = strchr(n, '/');
        if (!slash || slash == n || strcmp(slash, "/data.pkl") != 0)
            continue;
        if (*pkl)
            return pth_fail(c->err, PTH_ERR_FORMAT, "%s: archive holds more than one data.pkl", c->file);
        if ((size_t)(slash - n) >= cap)
            return pth_fail(c->err, PTH_ERR_FORMAT, "%s: archive folder name too long", c->file);
        memcpy(prefix, n, (size_t)(slash - n));
        prefix[slash - n] = '\0';
        *pkl = &c->zip->entries[i];
    }
    if (!*pkl)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: not a torch checkpoint (no <name>/data.pkl in the archive)",
                        c->file);
    return PTH_OK;
}

/* torch >= 2.1 records the byte order of the storages; older files are little-endian. */
static int check_byteorder(const ckpt_ctx *c)
{
    char name[PK_NAME_BUF];
    snprintf(name, sizeof name, "%s/byteorder", c->prefix);
    const pth_zip_entry *e = pth_zip_find(c->zip, name);
    if (e && !(e->size == 6 && !memcmp(e->data, "little", 6)))
        return pth_fail(c->err, PTH_ERR_UNSUPPORTED, "%s: big-endian checkpoints are not supported", c->file);
    return PTH_OK;
}

static int interpret(ckpt_ctx *c, const pk_value *top, pth_tensor_set *out)
{
    if (top->kind != PK_DICT)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: checkpoint is not a dict", c->file);
    const pk_value *sd = pth_pickle_dict_get(top, "state_dict");
    int rc = load_state_dict(c, sd ? sd : top, out);
    if (!rc && sd)
        rc = load_config(c, pth_pickle_dict_get(top, "config"), out);
    return rc;
}

static int load_archive(ckpt_ctx *c, pth_tensor_set *out)
{
    char prefix[PK_NAME_BUF / 2], what[PK_NAME_BUF + 300];
    const pth_zip_entry *pkl = NULL;
    int rc = find_prefix(c, &pkl, prefix, sizeof prefix);
    if (rc)
        return rc;
    c->prefix = prefix;
    if ((rc = check_byteorder(c)))
        return rc;
    if (pkl->size > MAX_PICKLE_BYTES)
        return pth_fail(c->err, PTH_ERR_FORMAT, "%s: data.pkl larger than %zu bytes", c->file, MAX_PICKLE_BYTES);
    snprintf(what, sizeof what, "%s: %s", c->file, pkl->name);
    pth_pickle pk = {0};
    pk_value *top = NULL;
    rc = pth_pickle_run(&pk, pkl->data, pkl->size, allowed_globals, what, &top, c->err);
    if (!rc)
        rc = interpret(c, top, out);
    pth_pickle_free(&pk);
    return rc;
}

int pth_ckpt_load_buffer(const void *data, size_t len, const char *name, pth_tensor_set *out, pth_error *err)
{
    memset(out, 0, sizeof *out);
    const char *file = name ? name : "<buffer>";
    pth_zip zip = {0};
    int rc = pth_zip_open(&zip, data, len, file, err);
    if (rc)
        return rc;
    /* Decoded floats may exceed the file (half precision, shared storages) but not by much. */
    ckpt_ctx c = {file, &zip, NULL, len + ((size_t)1 << 18), err};
    rc = load_archive(&c, out);
    pth_zip_close(&zip);
    if (rc)
        pth_tensor_set_free(out);
    return rc;
}

int pth_ckpt_load(const char *path, pth_tensor_set *out, pth_error *err)
{
    return pth_load_path_with(path, pth_ckpt_load_buffer, out, err);
}
