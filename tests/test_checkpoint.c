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

int main(void)
{
    test_safetensors();
    test_ckpt_matches_safetensors();
    return pth_test_finish();
}
