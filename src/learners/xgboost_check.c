/* Structural validation of an xgboost 1.7 JSON model before libxgboost sees it.
 *
 * libxgboost's model readers trust their input (its UBJSON reader overreads on a corrupt
 * length, and tree node indices are used unchecked at prediction time), so a model file
 * is only handed to it after this check has proven, with cJSON's bounds-checked parser,
 * that it is well-formed JSON describing a plain gbtree whose every reachable node has
 * in-range consecutive children that come after it (so traversal terminates), in-range split
 * features, finite values, no categorical splits, and the shape in the pathos header. */
#include "learners/xgboost_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#define MAX_NODES (1 << 24)

static cJSON *path(cJSON *o, const char *a, const char *b, const char *c)
{
    o = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (c)
        o = cJSON_GetObjectItemCaseSensitive(o, c);
    return o;
}

/* xgboost stores many integers as decimal strings ("num_nodes": "5"). */
static long str_int(const cJSON *o)
{
    if (!cJSON_IsString(o) || !o->valuestring[0])
        return -1;
    char *end;
    long v = strtol(o->valuestring, &end, 10);
    return *end || v < 0 ? -1 : v;
}

static int is_int_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi && floor(v->valuedouble) == v->valuedouble;
}

/* Array `key` of tree t exists, has n numeric elements (all finite). */
static const cJSON *num_array(const cJSON *tree, const char *key, int n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(tree, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return NULL;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return NULL;
    return a;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies a numeric array into a malloc'd int array (values already checked integral). */
static int *to_ints(const cJSON *a, int n)
{
    int *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    int i = 0;
    const cJSON *e;
    if (v)
        cJSON_ArrayForEach(e, a) v[i++] = is_int_in(e, -2147483648.0, 2147483647.0) ? (int)e->valuedouble : -2;
    return v;
}

/* Walks the nodes reachable from the root.  Children must both be -1 (leaf) or be the
 * consecutive pair (left, left + 1) after the node: strictly increasing indices rule out
 * cycles. */
static int check_nodes(const int *left, const int *right, const int *split, int n, size_t d, long t, char *why,
                       size_t cap)
{
    char *reach = calloc((size_t)n, 1);
    int rc = 0;
    if (!reach)
        return fail(why, cap, "tree %ld: out of memory", t);
    reach[0] = 1;
    for (int i = 0; i < n && !rc; i++) {
        if (!reach[i])
            continue;
        if (left[i] == -1 && right[i] == -1)
            continue;
        /* xgboost's predictor computes the right child as left + 1, ignoring right[]. */
        if (left[i] <= i || left[i] >= n - 1 || right[i] != left[i] + 1)
            rc = fail(why, cap, "tree %ld: node %d has invalid children", t, i);
        else if (split[i] < 0 || (size_t)split[i] >= d)
            rc = fail(why, cap, "tree %ld: node %d splits on a feature out of range", t, i);
        else
            reach[left[i]] = reach[right[i]] = 1;
    }
    free(reach);
    return rc;
}

static int check_tree(const cJSON *tree, long t, size_t d, char *why, size_t cap)
{
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(tree, "tree_param");
    long n = str_int(cJSON_GetObjectItemCaseSensitive(tp, "num_nodes"));
    long nf = str_int(cJSON_GetObjectItemCaseSensitive(tp, "num_feature"));
    if (n < 1 || n > MAX_NODES || nf != (long)d)
        return fail(why, cap, "tree %ld: bad tree_param (num_nodes %ld)", t, n);
    if (!is_int_in(cJSON_GetObjectItemCaseSensitive(tree, "id"), (double)t, (double)t))
        return fail(why, cap, "tree %ld: id is not %ld", t, t);
    static const char *const arrays[] = {"left_children", "right_children", "parents", "split_indices",
                                         "split_conditions", "default_left", "base_weights", "loss_changes",
                                         "sum_hessian", "split_type"};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        if (!num_array(tree, arrays[i], (int)n))
            return fail(why, cap, "tree %ld: array '%s' is missing, non-numeric or of the wrong length", t, arrays[i]);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(tree, "split_type")) if (v->valuedouble != 0) return fail(
        why, cap, "tree %ld: categorical split", t);
    static const char *const cats[] = {"categories", "categories_nodes", "categories_segments", "categories_sizes"};
    for (size_t i = 0; i < 4; i++)
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(tree, cats[i])) ||
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tree, cats[i])) != 0)
            return fail(why, cap, "tree %ld: categorical data in '%s'", t, cats[i]);
    int *left = to_ints(cJSON_GetObjectItemCaseSensitive(tree, "left_children"), (int)n);
    int *right = to_ints(cJSON_GetObjectItemCaseSensitive(tree, "right_children"), (int)n);
    int *split = to_ints(cJSON_GetObjectItemCaseSensitive(tree, "split_indices"), (int)n);
    int rc = left && right && split ? check_nodes(left, right, split, (int)n, d, t, why, cap)
                                    : fail(why, cap, "tree %ld: out of memory", t);
    free(left);
    free(right);
    free(split);
    return rc;
}

static int check_learner(const cJSON *lrn, size_t d, int k, char *why, size_t cap)
{
    const char *want = k == 2 ? "binary:logistic" : "multi:softprob";
    const cJSON *obj = path((cJSON *)lrn, "objective", "name", NULL);
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(lrn, "learner_model_param");
    if (!cJSON_IsString(obj) || strcmp(obj->valuestring, want) != 0)
        return fail(why, cap, "objective is not the one for %d classes", k);
    if (str_int(cJSON_GetObjectItemCaseSensitive(mp, "num_feature")) != (long)d ||
        str_int(cJSON_GetObjectItemCaseSensitive(mp, "num_class")) != (k == 2 ? 0 : k) ||
        str_int(cJSON_GetObjectItemCaseSensitive(mp, "num_target")) != 1)
        return fail(why, cap, "model parameters do not match %zu features, %d classes", d, k);
    const cJSON *gb = cJSON_GetObjectItemCaseSensitive(lrn, "gradient_booster");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(gb, "name");
    if (!cJSON_IsString(name) || strcmp(name->valuestring, "gbtree") != 0)
        return fail(why, cap, "booster is not a gbtree");
    return 0;
}

static int check_trees(const cJSON *model, size_t d, int k, char *why, size_t cap)
{
    const cJSON *trees = cJSON_GetObjectItemCaseSensitive(model, "trees");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(model, "tree_info");
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(model, "gbtree_model_param");
    int nt = cJSON_GetArraySize(trees), groups = k == 2 ? 1 : k;
    if (!cJSON_IsArray(trees) || !cJSON_IsArray(info) || cJSON_GetArraySize(info) != nt ||
        str_int(cJSON_GetObjectItemCaseSensitive(mp, "num_trees")) != nt ||
        str_int(cJSON_GetObjectItemCaseSensitive(mp, "num_parallel_tree")) != 1 ||
        str_int(cJSON_GetObjectItemCaseSensitive(mp, "size_leaf_vector")) != 0)
        return fail(why, cap, "inconsistent tree list (%d trees)", nt);
    const cJSON *v;
    cJSON_ArrayForEach(v, info) if (!is_int_in(v, 0, groups - 1)) return fail(why, cap, "tree_info out of range");
    long t = 0;
    cJSON_ArrayForEach(v, trees)
    {
        if (check_tree(v, t, d, why, cap))
            return -1;
        t++;
    }
    return 0;
}

int pth_xgb_check_json(const char *json, size_t len, size_t d, int k, char *why, size_t cap)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return fail(why, cap, "not valid JSON");
    const cJSON *lrn = cJSON_GetObjectItemCaseSensitive(root, "learner");
    const cJSON *model = path((cJSON *)lrn, "gradient_booster", "model", NULL);
    int rc = !cJSON_IsObject(lrn) || !cJSON_IsObject(model) ? fail(why, cap, "not an xgboost model")
             : check_learner(lrn, d, k, why, cap)            ? -1
                                                             : check_trees(model, d, k, why, cap);
    cJSON_Delete(root);
    return rc;
}
