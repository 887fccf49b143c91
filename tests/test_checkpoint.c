/* Checkpoint loaders (safetensors and torch .ckpt): both reference files load the same 81
 * tensors bit for bit with the same config; damaged files (truncated, bytes flipped,
 * hand-crafted hostile headers) fail with a message and never crash (run under
 * -DPATHOS_SANITIZE=ON to make the "never crash" part strict). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/io.h"
#include "pathos/tensorset.h"

#define ST_PATH "testdata/tabpfn-v2/model_random.safetensors"
#define CKPT_PATH "testdata/tabpfn-v2/model_random.ckpt"

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static double cfg_num(const cJSON *cfg, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return cJSON_IsNumber(j) ? j->valuedouble : -1.0;
}

static void check_config(const pth_tensor_set *s)
{
    CHECK(s->config_json != NULL);
    cJSON *cfg = s->config_json ? cJSON_Parse(s->config_json) : NULL;
    CHECK(cJSON_IsObject(cfg));
    CHECK(cfg_num(cfg, "emsize") == 192);
    CHECK(cfg_num(cfg, "nlayers") == 12);
    CHECK(cfg_num(cfg, "nhead") == 6);
    CHECK(cfg_num(cfg, "features_per_group") == 2);
    CHECK(cfg_num(cfg, "max_num_classes") == 10);
    CHECK(cfg_num(cfg, "seed") == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cfg, "dag_pos_enc_dim")));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "nan_handling_enabled")));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cfg, "feature_positional_embedding");
    CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, "subspace"));
    cJSON_Delete(cfg);
}

/* Values read independently with /usr/bin/python3: struct.unpack('<Q') for the header
 * length, json.loads for the header, struct.unpack('<f'/'<I') at data_offsets[0] + 4*i in
 * model_random.safetensors (bit patterns as u32). */
static void check_spot_values(const pth_tensor_set *s)
{
    static const struct {
        const char *name;
        size_t idx;
        uint32_t bits;
    } spots[] = {
        {"encoder.5.layer.weight", 0, 3167301853u},                           /* -0.0245594326 */
        {"encoder.5.layer.weight", 767, 1055628492u},                         /* 0.46018064 */
        {"transformer_encoder.layers.11.mlp.linear2.weight", 12345, 1019281863u}, /* 0.0235604178 */
        {"decoder_dict.standard.2.bias", 9, 1018171434u},                     /* 0.0214920826 */
        {"feature_positional_embedding_embeddings.bias", 100, 3177004736u},   /* -0.0540149212 */
    };
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        const pth_tensor *t = pth_tensor_set_find(s, spots[i].name);
        CHECK(t != NULL);
        if (t && spots[i].idx < t->numel)
            CHECK(float_bits(t->data[spots[i].idx]) == spots[i].bits);
    }
    const pth_tensor *e = pth_tensor_set_find(s, "encoder.5.layer.weight");
    CHECK(e && e->ndim == 2 && e->shape[0] == 192 && e->shape[1] == 4 && e->numel == 768);
    const pth_tensor *q = pth_tensor_set_find(s, "transformer_encoder.layers.3.self_attn_between_items._w_qkv");
    CHECK(q && q->ndim == 4 && q->shape[0] == 3 && q->shape[1] == 6 && q->shape[2] == 32 && q->shape[3] == 192);
}

static void test_safetensors(void)
{
    pth_tensor_set s;
    pth_error err = {0};
    CHECK_OK(pth_safetensors_load(pth_test_shared(ST_PATH), &s, &err), &err);
    CHECK(s.count == 81);
    check_config(&s);
    check_spot_values(&s);
    size_t total = 0;
    for (size_t i = 0; i < s.count; i++)
        total += s.items[i].numel;
    CHECK(total == 7244554); /* parameter count stated in the README */
    pth_tensor_set_free(&s);
}

/* Same names, shapes and bit-identical data, in whatever order each file lists them. */
static void check_same_tensors(const pth_tensor_set *a, const pth_tensor_set *b)
{
    CHECK(a->count == b->count);
    size_t mismatched = 0;
    for (size_t i = 0; i < a->count; i++) {
        const pth_tensor *x = &a->items[i], *y = pth_tensor_set_find(b, x->name);
        int same = y && x->ndim == y->ndim && x->numel == y->numel;
        for (int d = 0; same && d < x->ndim; d++)
            same = x->shape[d] == y->shape[d];
        same = same && memcmp(x->data, y->data, x->numel * sizeof(float)) == 0;
        if (!same) {
            mismatched++;
            fprintf(stderr, "tensor %s differs between formats\n", x->name);
        }
    }
    CHECK(mismatched == 0);
}

static void test_ckpt_matches_safetensors(void)
{
    pth_tensor_set st, ck, any;
    pth_error err = {0};
    CHECK_OK(pth_safetensors_load(pth_test_shared(ST_PATH), &st, &err), &err);
    CHECK_OK(pth_ckpt_load(pth_test_shared(CKPT_PATH), &ck, &err), &err);
    CHECK(ck.count == 81);
    check_config(&ck);
    check_spot_values(&ck);
    check_same_tensors(&st, &ck);
    check_same_tensors(&ck, &st);
    /* Both configs are the same dict; only the key order differs (the header's is sorted). */
    cJSON *a = cJSON_Parse(st.config_json ? st.config_json : ""), *b = cJSON_Parse(ck.config_json ? ck.config_json : "");
    CHECK(a && b && cJSON_GetArraySize(a) == 33 && cJSON_Compare(a, b, 1));
    /* ... and the dict that the README ships as config.json. */
    char *text;
    size_t len;
    CHECK_OK(pth_read_file(pth_test_shared("testdata/tabpfn-v2/config.json"), 1 << 20, &text, &len, &err), &err);
    cJSON *ref = text ? cJSON_Parse(text) : NULL;
    CHECK(ref && cJSON_Compare(ref, b, 1));
    cJSON_Delete(ref);
    free(text);
    cJSON_Delete(a);
    cJSON_Delete(b);
    /* Dispatch by content picks the right reader for each. */
    CHECK_OK(pth_checkpoint_load(pth_test_shared(CKPT_PATH), &any, &err), &err);
    check_same_tensors(&any, &st);
    pth_tensor_set_free(&any);
    CHECK_OK(pth_checkpoint_load(pth_test_shared(ST_PATH), &any, &err), &err);
    check_same_tensors(&any, &ck);
    CHECK(any.config_json && st.config_json && strcmp(any.config_json, st.config_json) == 0);
    pth_tensor_set_free(&any);
    pth_tensor_set_free(&st);
    pth_tensor_set_free(&ck);
}

/* Loads a file (any format) and expects failure with `code` and `needle` in the message. */
static void expect_fail(const char *path, int code, const char *needle)
{
    pth_tensor_set s;
    pth_error err = {0};
    int rc = pth_checkpoint_load(path, &s, &err);
    CHECK(rc == code);
    CHECK(strstr(err.msg, needle) != NULL);
    CHECK(s.count == 0 && s.items == NULL && s.config_json == NULL);
    if (rc != code || !strstr(err.msg, needle))
        fprintf(stderr, "  %s: rc %d, message: %s\n", path, rc, err.msg);
}

static const pth_tensor *find_shape2(const pth_tensor_set *s, const char *name, int64_t r, int64_t c)
{
    const pth_tensor *t = pth_tensor_set_find(s, name);
    CHECK(t && t->ndim == 2 && t->shape[0] == r && t->shape[1] == c);
    return t && t->ndim == 2 && t->shape[0] == r && t->shape[1] == c ? t : NULL;
}

/* fuzz/corpus/ckpt seeds written by fuzz/make_seeds.py: storage '0' holds
 * s0[i] = i/8 - 4 (64 x f32), storage '1' holds 0.5*i (8 x f16). */
static void test_small_ckpt_seeds(void)
{
    pth_tensor_set s;
    pth_error err = {0};
    CHECK_OK(pth_ckpt_load(pth_test_source("fuzz/corpus/ckpt/small.ckpt"), &s, &err), &err);
    CHECK(s.count == 4 && s.config_json != NULL);
    const pth_tensor *w = find_shape2(&s, "a.weight", 3, 4);
    if (w)
        CHECK(w->data[0] == -4.0f && w->data[11] == 11 * 0.125f - 4.0f);
    const pth_tensor *b = pth_tensor_set_find(&s, "a.bias");
    CHECK(b && b->ndim == 1 && b->numel == 3 && b->data[0] == 12 * 0.125f - 4.0f);
    /* Transposed view: shape (3,2), stride (1,3), offset 16 -> element [i][j] = s0[16+i+3j]. */
    const pth_tensor *t = find_shape2(&s, "a.t", 3, 2);
    int ok = t != NULL;
    for (int i = 0; ok && i < 3; i++)
        for (int j = 0; j < 2; j++)
            ok &= t->data[i * 2 + j] == (float)(16 + i + 3 * j) * 0.125f - 4.0f;
    CHECK(ok);
    const pth_tensor *h = find_shape2(&s, "h", 2, 2); /* f16 storage, offset 2 */
    if (h)
        CHECK(h->data[0] == 1.0f && h->data[1] == 1.5f && h->data[2] == 2.0f && h->data[3] == 2.5f);
    cJSON *cfg = s.config_json ? cJSON_Parse(s.config_json) : NULL;
    CHECK(cfg_num(cfg, "emsize") == 4 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cfg, "dag_pos_enc_dim")));
    cJSON_Delete(cfg);
    pth_tensor_set_free(&s);

    /* A bare nn.Module state dict: OrderedDict + BUILD(_metadata), Parameters, no config. */
    CHECK_OK(pth_ckpt_load(pth_test_source("fuzz/corpus/ckpt/ordered_params.ckpt"), &s, &err), &err);
    CHECK(s.count == 2 && s.config_json == NULL);
    const pth_tensor *p = find_shape2(&s, "p", 2, 2);
    if (p)
        CHECK(p->data[0] == 4 * 0.125f - 4.0f && p->data[3] == 7 * 0.125f - 4.0f);
    pth_tensor_set_free(&s);
}

static void test_hostile_ckpt_seeds(void)
{
    static const struct {
        const char *file;
        int code;
        const char *needle;
    } cases[] = {
        {"bad_global.ckpt", PTH_ERR_UNSUPPORTED, "refusing to load global 'os.system'"},
        {"bad_opcode.ckpt", PTH_ERR_UNSUPPORTED, "unsupported pickle opcode 0x81 at offset 5"},
        {"bad_dtype.ckpt", PTH_ERR_UNSUPPORTED, "unsupported dtype torch.LongStorage"},
        {"bad_view.ckpt", PTH_ERR_FORMAT, "past the end of its storage"},
        {"bad_key.ckpt", PTH_ERR_FORMAT, "bad storage key"},
        {"bad_cycle.ckpt", PTH_ERR_FORMAT, "config holds values"},
        {"bad_deflate.ckpt", PTH_ERR_UNSUPPORTED, "compressed (method 8)"},
    };
    char rel[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(rel, sizeof rel, "fuzz/corpus/ckpt/%s", cases[i].file);
        expect_fail(pth_test_source(rel), cases[i].code, cases[i].needle);
    }
}

static void test_safetensors_seeds(void)
{
    pth_tensor_set s;
    pth_error err = {0};
    CHECK_OK(pth_safetensors_load(pth_test_source("fuzz/corpus/safetensors/mixed_dtypes.safetensors"), &s, &err),
             &err);
    CHECK(s.count == 5 && s.config_json == NULL);
    const pth_tensor *h = pth_tensor_set_find(&s, "h");
    /* 6e-8 rounds to the half subnormal 2^-24. */
    CHECK(h && h->numel == 4 && h->data[0] == 1.0f && h->data[1] == -0.5f && h->data[2] == 65504.0f &&
          h->data[3] == 0x1p-24f);
    const pth_tensor *b = pth_tensor_set_find(&s, "b");
    CHECK(b && b->numel == 2 && b->data[0] == 1.0f && b->data[1] == -3.0f);
    const pth_tensor *d = pth_tensor_set_find(&s, "d");
    CHECK(d && d->numel == 2 && d->data[0] == 1.5f && d->data[1] == (float)-1e-3);
    const pth_tensor *e = pth_tensor_set_find(&s, "empty");
    CHECK(e && e->ndim == 2 && e->numel == 0);
    const pth_tensor *sc = pth_tensor_set_find(&s, "scalar");
    CHECK(sc && sc->ndim == 0 && sc->numel == 1 && sc->data[0] == 7.0f);
    pth_tensor_set_free(&s);
    expect_fail(pth_test_source("fuzz/corpus/safetensors/bad_dtype.safetensors"), PTH_ERR_UNSUPPORTED,
                "unsupported dtype 'I64'");
}

/* Writes len bytes to dir/name and returns the path (static buffer). */
static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", pth_test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
    return path;
}

/* A safetensors file without header config takes config.json from its folder. */
static void test_sibling_config(void)
{
    char *st;
    size_t len;
    pth_error err = {0};
    CHECK_OK(pth_read_file(pth_test_source("fuzz/corpus/safetensors/mixed_dtypes.safetensors"), 1 << 20, &st, &len,
                           &err),
             &err);
    if (!st)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s", write_tmp("model.safetensors", st, len));
    free(st);
    pth_tensor_set s;
    CHECK_OK(pth_checkpoint_load(path, &s, &err), &err);
    CHECK(s.count == 5 && s.config_json == NULL);
    pth_tensor_set_free(&s);
    const char *cfg = "{ \"emsize\": 192,\n \"nlayers\": 12 }\n";
    write_tmp("config.json", cfg, strlen(cfg));
    CHECK_OK(pth_checkpoint_load(path, &s, &err), &err);
    CHECK(s.config_json && strcmp(s.config_json, "{\"emsize\":192,\"nlayers\":12}") == 0);
    pth_tensor_set_free(&s);
    write_tmp("config.json", "[1,2", 4);
    expect_fail(path, PTH_ERR_FORMAT, "config.json: config is not valid JSON");
    remove(write_tmp("config.json", "", 0));
}

/* safetensors file from a header text and n_data zero bytes of data. */
static int load_st_header(const char *header, size_t n_data, pth_tensor_set *s, pth_error *err)
{
    size_t h = strlen(header), len = 8 + h + n_data;
    unsigned char *buf = calloc(1, len);
    if (!buf)
        return -1;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    int rc = pth_safetensors_load_buffer(buf, len, "crafted", s, err);
    free(buf);
    return rc;
}

static void test_hostile_safetensors_headers(void)
{
    static const struct {
        const char *header;
        size_t n_data;
        int code;
        const char *needle;
    } cases[] = {
        {"[1,2]", 0, PTH_ERR_FORMAT, "not a JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]", 8, PTH_ERR_FORMAT, "not valid JSON"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 8, PTH_ERR_FORMAT, "outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,4]}}", 8, PTH_ERR_FORMAT, "outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, PTH_ERR_FORMAT, "shape needs 3"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, PTH_ERR_FORMAT, "non-negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8, PTH_ERR_FORMAT, "non-negative"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
         PTH_ERR_FORMAT, "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 8, PTH_ERR_FORMAT,
         "9 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e300]}}", 8, PTH_ERR_FORMAT,
         "data_offsets must be"},
        {"{\"a\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 8, PTH_ERR_UNSUPPORTED,
         "unsupported dtype 'I8'"},
        {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, PTH_ERR_FORMAT, "missing or non-string dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, PTH_ERR_FORMAT, "appears twice"},
        {"{\"__metadata__\":{\"config\":\"{not json\"}}", 0, PTH_ERR_FORMAT, "config is not valid JSON"},
        {"{\"__metadata__\":{\"config\":\"[1]\"}}", 0, PTH_ERR_FORMAT, "config is not a JSON object"},
        {"{\"__metadata__\":{\"config\":7}}", 0, PTH_ERR_FORMAT, "config is not a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pth_tensor_set s;
        pth_error err = {0};
        int rc = load_st_header(cases[i].header, cases[i].n_data, &s, &err);
        int ok = rc == cases[i].code && strstr(err.msg, cases[i].needle) && s.count == 0 && !s.items;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  case %zu: rc %d, message: %s\n", i, rc, err.msg);
    }
    /* Header length fields that point beyond the limit or the file. */
    unsigned char big[16] = {0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}'}; /* 256 MB */
    pth_tensor_set s;
    pth_error err = {0};
    CHECK(pth_safetensors_load_buffer(big, sizeof big, "x", &s, &err) == PTH_ERR_FORMAT &&
          strstr(err.msg, "100 MB"));
    unsigned char past[16] = {9, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK(pth_safetensors_load_buffer(past, 16, "x", &s, &err) == PTH_ERR_FORMAT && strstr(err.msg, "file size"));
    CHECK(pth_safetensors_load_buffer(past, 5, "x", &s, &err) == PTH_ERR_FORMAT && strstr(err.msg, "too short"));
    /* An empty header is a valid file with no tensors. */
    unsigned char empty[10] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    CHECK_OK(pth_safetensors_load_buffer(empty, sizeof empty, "x", &s, &err), &err);
    CHECK(s.count == 0);
    pth_tensor_set_free(&s);
}

/* Cut points: the first bytes one by one, then spread evenly over the file. */
static size_t cut_point(size_t k, size_t len)
{
    return k < 24 ? k : 24 + (len - 24) / 40 * (k - 24) + k * 7919 % 97;
}

typedef int (*loader_fn)(const void *, size_t, const char *, pth_tensor_set *, pth_error *);

/* Every truncation must fail with a message and leave the set empty. */
static void check_truncations(loader_fn load, const unsigned char *buf, size_t len)
{
    size_t bad = 0;
    for (size_t k = 0; k < 64; k++) {
        size_t cut = cut_point(k, len);
        if (cut >= len)
            break;
        pth_tensor_set s;
        pth_error err = {0};
        int rc = load(buf, cut, "cut", &s, &err);
        if (rc == 0 || !err.msg[0] || s.count || s.items) {
            bad++;
            fprintf(stderr, "  truncation at %zu: rc %d (%s)\n", cut, rc, err.msg);
            if (rc == 0)
                pth_tensor_set_free(&s);
        }
    }
    CHECK(bad == 0);
}

/* Byte flips: each either fails with a message or still yields 81 tensors. With
 * `must_fail_from` set, flips at or beyond that offset must fail (CRC-protected data). */
static void check_flips(loader_fn load, unsigned char *buf, size_t len, size_t must_fail_from, size_t must_fail_to)
{
    size_t bad = 0;
    for (size_t k = 0; k < 14; k++) {
        size_t at = k < 5 ? k * 3 : (k < 9 ? len - 1 - (k - 5) * 9 : (len / 6) * (k - 8) + k);
        if (at >= len)
            continue;
        unsigned char old = buf[at];
        buf[at] ^= (unsigned char)(0x5A + k);
        pth_tensor_set s;
        pth_error err = {0};
        int rc = load(buf, len, "flip", &s, &err);
        int ok = rc ? (err.msg[0] && !s.count && !s.items) : s.count == 81;
        if (at >= must_fail_from && at < must_fail_to)
            ok &= rc != 0;
        if (!ok) {
            bad++;
            fprintf(stderr, "  flip at %zu: rc %d (%s)\n", at, rc, err.msg);
        }
        if (rc == 0)
            pth_tensor_set_free(&s);
        buf[at] = old;
    }
    CHECK(bad == 0);
}

static void test_damaged_reference_files(void)
{
    char *st, *ck;
    size_t st_len, ck_len;
    pth_error err = {0};
    CHECK_OK(pth_read_file(pth_test_shared(ST_PATH), 1 << 26, &st, &st_len, &err), &err);
    CHECK_OK(pth_read_file(pth_test_shared(CKPT_PATH), 1 << 26, &ck, &ck_len, &err), &err);
    if (!st || !ck) {
        free(st);
        free(ck);
        return;
    }
    check_truncations(pth_safetensors_load_buffer, (unsigned char *)st, st_len);
    check_truncations(pth_ckpt_load_buffer, (unsigned char *)ck, ck_len);
    check_flips(pth_safetensors_load_buffer, (unsigned char *)st, st_len, 0, 0);
    /* Stored entries start after the first local header; the CRC covers all of them. The
     * last ~2 KB are central directory + ZIP64 records, where some fields are unused. */
    check_flips(pth_ckpt_load_buffer, (unsigned char *)ck, ck_len, 12301, ck_len - 8192);
    /* The same through real files, via the format dispatch. */
    for (int k = 1; k <= 3; k++) {
        expect_fail(write_tmp("cut.safetensors", st, st_len / 4 * (size_t)k), PTH_ERR_FORMAT, "cut.safetensors");
        expect_fail(write_tmp("cut.ckpt", ck, ck_len / 4 * (size_t)k), PTH_ERR_FORMAT, "cut.ckpt");
    }
    free(st);
    free(ck);
}

int main(void)
{
    test_safetensors();
    test_ckpt_matches_safetensors();
    test_small_ckpt_seeds();
    test_hostile_ckpt_seeds();
    test_safetensors_seeds();
    test_sibling_config();
    test_hostile_safetensors_headers();
    test_damaged_reference_files();
    return pth_test_finish();
}
