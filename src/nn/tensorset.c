#include "pathos/tensorset.h"

#include <stdlib.h>
#include <string.h>

int pth_tensor_set_add(pth_tensor_set *set, const char *name, int ndim, const int64_t *shape, float *data,
                       pth_error *err)
{
    if (ndim < 0 || ndim > PTH_TENSOR_MAX_DIMS) {
        free(data);
        return pth_fail(err, PTH_ERR_FORMAT, "tensor '%s': %d dimensions (at most %d supported)", name, ndim,
                        PTH_TENSOR_MAX_DIMS);
    }
    if (pth_tensor_set_find(set, name)) {
        free(data);
        return pth_fail(err, PTH_ERR_FORMAT, "tensor '%s' appears twice", name);
    }
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && numel > SIZE_MAX / (size_t)shape[i])) {
            free(data);
            return pth_fail(err, PTH_ERR_FORMAT, "tensor '%s': invalid shape", name);
        }
        numel *= (size_t)shape[i];
    }
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        pth_tensor *items = realloc(set->items, cap * sizeof *items);
        if (!items) {
            free(data);
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory adding tensor '%s'", name);
        }
        set->items = items;
        set->cap = cap;
    }
    pth_tensor *t = &set->items[set->count];
    memset(t, 0, sizeof *t);
    size_t nlen = strlen(name) + 1;
    t->name = malloc(nlen);
    if (!t->name) {
        free(data);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory adding tensor '%s'", name);
    }
    memcpy(t->name, name, nlen);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
    t->data = data;
    set->count++;
    return PTH_OK;
}

const pth_tensor *pth_tensor_set_find(const pth_tensor_set *set, const char *name)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].name, name) == 0)
            return &set->items[i];
    return NULL;
}

void pth_tensor_set_free(pth_tensor_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free(set->items[i].name);
        free(set->items[i].data);
    }
    free(set->items);
    free(set->config_json);
    memset(set, 0, sizeof *set);
}
