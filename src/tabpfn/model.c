/* TabPFN v2 model: config parsing and validation of every checkpoint tensor against it. */
#include <cjson/cJSON.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tabpfn/tabpfn_internal.h"

const char *pth_tabpfn_attribution(void)
{
    return "Built with PriorLabs-TabPFN. TabPFN v2 (github.com/PriorLabs/TabPFN) is licensed under the Prior "
           "Labs License v1.2 (Apache-2.0 with an attribution clause): distributing a work or service that "
           "contains it or its weights requires including a copy of that licence and displaying \"Built with "
           "PriorLabs-TabPFN\".";
}

static int cfg_int(const cJSON *cfg, const char *key, int dflt, int lo, int hi, int *out, pth_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (!j || cJSON_IsNull(j)) {
        if (dflt < lo)
            return pth_fail(err, PTH_ERR_FORMAT, "TabPFN config: missing '%s'", key);
        *out = dflt;
        return PTH_OK;
    }
    if (!cJSON_IsNumber(j) || j->valuedouble != (double)(long long)j->valuedouble || j->valuedouble < lo ||
        j->valuedouble > hi)
        return pth_fail(err, PTH_ERR_FORMAT, "TabPFN config: '%s' must be an integer in [%d, %d]", key, lo, hi);
    *out = (int)j->valuedouble;
    return PTH_OK;
}

/* Options that change the v2 forward pass: this implementation covers the shipped v2
 * classifier settings and refuses anything else instead of silently computing another model. */
static int cfg_check_supported(const cJSON *cfg, pth_error *err)
{
    static const struct {
        const char *key;
        int want; /* boolean */
    } bools[] = {{"nan_handling_enabled", 1},
                 {"nan_handling_y_encoder", 1},
                 {"normalize_by_used_features", 1},
                 {"normalize_on_train_only", 1},
                 {"normalize_x", 1},
                 {"remove_empty_features", 1},
                 {"normalize_to_ranking", 0},
                 {"remove_outliers", 0},
                 {"multiquery_item_attention", 0},
                 {"multiquery_item_attention_for_test_set", 1},
                 {"encoder_use_bias", 0},
                 {"use_separate_decoder", 0}};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, bools[i].key);
        if (j && !cJSON_IsNull(j) && (!cJSON_IsBool(j) || cJSON_IsTrue(j) != bools[i].want))
            return pth_fail(err, PTH_ERR_UNSUPPORTED, "TabPFN config: '%s' = %s is not supported (only %s)",
                            bools[i].key, cJSON_IsTrue(j) ? "true" : "false", bools[i].want ? "true" : "false");
    }
    static const struct {
        const char *key, *want;
    } strs[] = {{"feature_positional_embedding", "subspace"},
                {"encoder_type", "linear"},
                {"item_attention_type", "full"},
                {"feature_attention_type", "full"}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, strs[i].key);
        if (j && !cJSON_IsNull(j) && (!cJSON_IsString(j) || strcmp(j->valuestring, strs[i].want) != 0))
            return pth_fail(err, PTH_ERR_UNSUPPORTED, "TabPFN config: '%s' must be \"%s\"", strs[i].key,
                            strs[i].want);
    }
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, "num_thinking_rows");
    if (j && !cJSON_IsNull(j) && !(cJSON_IsNumber(j) && j->valuedouble == 0))
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "TabPFN config: num_thinking_rows > 0 is not supported");
    j = cJSON_GetObjectItemCaseSensitive(cfg, "dag_pos_enc_dim");
    if (j && !cJSON_IsNull(j) && !(cJSON_IsNumber(j) && j->valuedouble == 0))
        return pth_fail(err, PTH_ERR_UNSUPPORTED, "TabPFN config: dag_pos_enc_dim is not supported");
    return PTH_OK;
}

static int parse_config(pth_tabpfn *m, pth_error *err)
{
    if (!m->ts.config_json)
        return pth_fail(err, PTH_ERR_FORMAT, "TabPFN checkpoint carries no config (and no config.json beside it)");
    cJSON *cfg = cJSON_Parse(m->ts.config_json);
    if (!cfg || !cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        return pth_fail(err, PTH_ERR_PARSE, "TabPFN config is not a JSON object");
    }
    int nhid_factor = 0, seed = 0;
    int rc = cfg_int(cfg, "emsize", -1, 8, 4096, &m->E, err);
    if (!rc)
        rc = cfg_int(cfg, "nlayers", -1, 1, 256, &m->L, err);
    if (!rc)
        rc = cfg_int(cfg, "nhead", -1, 1, 256, &m->H, err);
    if (!rc)
        rc = cfg_int(cfg, "features_per_group", -1, 1, 64, &m->FG, err);
    if (!rc)
        rc = cfg_int(cfg, "max_num_classes", -1, 1, 1000, &m->n_out, err);
    if (!rc)
        rc = cfg_int(cfg, "nhid_factor", 4, 1, 64, &nhid_factor, err);
    if (!rc)
        rc = cfg_int(cfg, "seed", 0, 0, 2147483647, &seed, err);
    if (!rc)
        rc = cfg_check_supported(cfg, err);
    cJSON_Delete(cfg);
    if (rc)
        return rc;
    if (m->E % m->H != 0 || m->E % 4 != 0)
        return pth_fail(err, PTH_ERR_FORMAT, "TabPFN config: emsize %d must be a multiple of nhead %d and of 4",
                        m->E, m->H);
    m->D = m->E / m->H;
    m->hid = nhid_factor * m->E;
    m->pe_dim = m->E / 4;
    m->seed = (uint64_t)seed;
    return PTH_OK;
}

typedef struct {
    pth_tabpfn *m;
    unsigned char *used;
    pth_error *err;
} finder;

static int shape_is(const pth_tensor *t, int ndim, const int64_t *want)
{
    if (t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != want[i])
            return 0;
    return 1;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *s)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < ndim && k + 24 < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)s[i]);
}

/* Finds `name`, checks its shape, marks it used. */
static const float *need(finder *f, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    const int64_t want[4] = {d0, d1, d2, d3};
    const pth_tensor *t = pth_tensor_set_find(&f->m->ts, name);
    if (!t) {
        pth_fail(f->err, PTH_ERR_FORMAT, "TabPFN checkpoint: missing tensor '%s'", name);
        return NULL;
    }
    if (!shape_is(t, ndim, want)) {
        char a[128], b[128];
        shape_str(a, sizeof a, t->ndim, t->shape);
        shape_str(b, sizeof b, ndim, want);
        pth_fail(f->err, PTH_ERR_FORMAT, "TabPFN checkpoint: tensor '%s' has shape [%s], config implies [%s]", name,
                 a, b);
        return NULL;
    }
    f->used[t - f->m->ts.items] = 1;
    return t->data;
}

/* The encoder index shifts with the training options (e.g. remove_duplicate_features), so the
 * projection is found by pattern, as the upstream loader does. */
static const char *find_pattern(finder *f, const char *pattern, const char *what)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        pth_fail(f->err, PTH_ERR_INTERNAL, "bad regex");
        return NULL;
    }
    const char *hit = NULL;
    int n = 0;
    for (size_t i = 0; i < f->m->ts.count; i++)
        if (regexec(&re, f->m->ts.items[i].name, 0, NULL, 0) == 0) {
            hit = f->m->ts.items[i].name;
            n++;
        }
    regfree(&re);
    if (n != 1) {
        pth_fail(f->err, PTH_ERR_FORMAT, "TabPFN checkpoint: expected exactly one %s tensor, found %d", what, n);
        return NULL;
    }
    return hit;
}

#define N_PACKED 9

static void layer_packed(tabpfn_layer *ly, nn_packed *all[N_PACKED])
{
    nn_packed *v[N_PACKED] = {&ly->f_qkv, &ly->f_out, &ly->i_qkv, &ly->i_q, &ly->i_k0,
                              &ly->i_v0,  &ly->i_out, &ly->w1,    &ly->w2};
    memcpy(all, v, sizeof v);
}

/* Frees the checkpoint's copy of a tensor once it is packed (the set keeps the entry). */
static void release(pth_tabpfn *m, const float *data)
{
    for (size_t i = 0; i < m->ts.count; i++)
        if (m->ts.items[i].data == data) {
            free(m->ts.items[i].data);
            m->ts.items[i].data = NULL;
            return;
        }
}

/* Packs one layer's weights (shapes already validated) and releases the originals. */
static int pack_layer(pth_tabpfn *m, tabpfn_layer *ly, const float *f_qkv, const float *f_out, const float *i_qkv,
                      const float *i_out, const float *w1, const float *w2)
{
    const int E = m->E, D = m->D, hid = m->hid;
    const size_t EE = (size_t)E * (size_t)E;
    if (nn_pack(&ly->f_qkv, f_qkv, E, 3 * E, E, 1) || nn_pack(&ly->f_out, f_out, E, E, E, 0) ||
        nn_pack(&ly->i_qkv, i_qkv, E, 3 * E, E, 1) || nn_pack(&ly->i_q, i_qkv, E, E, E, 1) ||
        nn_pack(&ly->i_k0, i_qkv + EE, E, D, E, 1) || nn_pack(&ly->i_v0, i_qkv + 2 * EE, E, D, E, 1) ||
        nn_pack(&ly->i_out, i_out, E, E, E, 0) || nn_pack(&ly->w1, w1, E, hid, E, 1) ||
        nn_pack(&ly->w2, w2, hid, E, hid, 1))
        return -1;
    const float *raw[] = {f_qkv, f_out, i_qkv, i_out, w1, w2};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        release(m, raw[i]);
    return 0;
}

static int bind_tensors(pth_tabpfn *m, pth_error *err)
{
    finder f = {m, calloc(m->ts.count ? m->ts.count : 1, 1), err};
    if (!f.used)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    m->layers = calloc((size_t)m->L, sizeof *m->layers);
    if (!m->layers) {
        free(f.used);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    }
    const int E = m->E, H = m->H, D = m->D;
    char name[256];
    int ok = 1;
    const char *enc = find_pattern(&f, "^encoder\\.[0-9]+\\.layer\\.weight$", "encoder.<i>.layer.weight");
    ok = ok && enc && (m->enc_w = need(&f, enc, 2, E, 2 * m->FG, 0, 0));
    const char *yw = ok ? find_pattern(&f, "^y_encoder\\.[0-9]+\\.layer\\.weight$", "y_encoder.<i>.layer.weight")
                        : NULL;
    ok = ok && yw && (m->y_w = need(&f, yw, 2, E, 2, 0, 0));
    if (ok) {
        snprintf(name, sizeof name, "%.*sbias", (int)(strlen(yw) - strlen("weight")), yw);
        ok = (m->y_b = need(&f, name, 1, E, 0, 0, 0)) != NULL;
    }
    ok = ok && (m->pe_w = need(&f, "feature_positional_embedding_embeddings.weight", 2, E, m->pe_dim, 0, 0));
    ok = ok && (m->pe_b = need(&f, "feature_positional_embedding_embeddings.bias", 1, E, 0, 0, 0));
    /* The decoder's hidden width is not in the config: take it from the first layer. */
    const pth_tensor *d1 = pth_tensor_set_find(&m->ts, "decoder_dict.standard.0.weight");
    m->dec_hid = d1 && d1->ndim == 2 && d1->shape[0] > 0 && d1->shape[0] <= 65536 ? (int)d1->shape[0] : m->hid;
    ok = ok && (m->d1_w = need(&f, "decoder_dict.standard.0.weight", 2, m->dec_hid, E, 0, 0));
    ok = ok && (m->d1_b = need(&f, "decoder_dict.standard.0.bias", 1, m->dec_hid, 0, 0, 0));
    ok = ok && (m->d2_w = need(&f, "decoder_dict.standard.2.weight", 2, m->n_out, m->dec_hid, 0, 0));
    ok = ok && (m->d2_b = need(&f, "decoder_dict.standard.2.bias", 1, m->n_out, 0, 0, 0));
    for (int l = 0; ok && l < m->L; l++) {
        const float *f_qkv = NULL, *f_out = NULL, *i_qkv = NULL, *i_out = NULL, *w1 = NULL, *w2 = NULL;
        const char *p = "transformer_encoder.layers";
        snprintf(name, sizeof name, "%s.%d.self_attn_between_features._w_qkv", p, l);
        ok = ok && (f_qkv = need(&f, name, 4, 3, H, D, E));
        snprintf(name, sizeof name, "%s.%d.self_attn_between_features._w_out", p, l);
        ok = ok && (f_out = need(&f, name, 3, H, D, E, 0));
        snprintf(name, sizeof name, "%s.%d.self_attn_between_items._w_qkv", p, l);
        ok = ok && (i_qkv = need(&f, name, 4, 3, H, D, E));
        snprintf(name, sizeof name, "%s.%d.self_attn_between_items._w_out", p, l);
        ok = ok && (i_out = need(&f, name, 3, H, D, E, 0));
        snprintf(name, sizeof name, "%s.%d.mlp.linear1.weight", p, l);
        ok = ok && (w1 = need(&f, name, 2, m->hid, E, 0, 0));
        snprintf(name, sizeof name, "%s.%d.mlp.linear2.weight", p, l);
        ok = ok && (w2 = need(&f, name, 2, E, m->hid, 0, 0));
        if (ok && pack_layer(m, &m->layers[l], f_qkv, f_out, i_qkv, i_out, w1, w2)) {
            free(f.used);
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; ok && i < m->ts.count; i++)
        if (!f.used[i]) {
            pth_fail(err, PTH_ERR_FORMAT, "TabPFN checkpoint: unexpected tensor '%s' (not part of a %d-layer v2 model)",
                     m->ts.items[i].name, m->L);
            ok = 0;
        }
    free(f.used);
    return ok ? PTH_OK : (err && err->code ? err->code : PTH_ERR_FORMAT);
}

pth_tabpfn *pth_tabpfn_from_tensors(pth_tensor_set *set, pth_error *err)
{
    pth_tabpfn *m = calloc(1, sizeof *m);
    if (!m) {
        pth_tensor_set_free(set);
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    m->ts = *set;
    memset(set, 0, sizeof *set);
    if (err)
        err->code = PTH_OK;
    if (parse_config(m, err) || bind_tensors(m, err)) {
        pth_tabpfn_free(m);
        return NULL;
    }
    return m;
}

pth_tabpfn *pth_tabpfn_load(const char *path, pth_error *err)
{
    pth_tensor_set ts;
    if (pth_checkpoint_load(path, &ts, err))
        return NULL;
    pth_tabpfn *m = pth_tabpfn_from_tensors(&ts, err);
    if (!m)
        pth_error_prefix(err, "%s", path);
    return m;
}

void pth_tabpfn_free(pth_tabpfn *m)
{
    if (!m)
        return;
    pth_tensor_set_free(&m->ts);
    for (int l = 0; m->layers && l < m->L; l++) {
        nn_packed *all[N_PACKED];
        layer_packed(&m->layers[l], all);
        for (size_t i = 0; i < N_PACKED; i++)
            nn_packed_free(all[i]);
    }
    free(m->layers);
    free(m);
}

pth_tabpfn_info pth_tabpfn_get_info(const pth_tabpfn *m)
{
    pth_tabpfn_info i = {m->E, m->L, m->H, m->FG, m->n_out, m->hid, m->dec_hid, m->seed};
    return i;
}

void pth_tabpfn_set_threads(pth_tabpfn *m, int threads)
{
    m->threads = threads > 0 ? threads : 0;
}
