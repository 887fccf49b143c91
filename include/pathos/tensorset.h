/* A named set of float32 tensors, as loaded from a checkpoint (.ckpt or .safetensors),
 * plus the model's configuration as JSON text.  Loaders fill it; models validate every
 * name and shape against their config before use. */
#ifndef PATHOS_TENSORSET_H
#define PATHOS_TENSORSET_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PTH_TENSOR_MAX_DIMS 8

typedef struct {
    char *name;
    int ndim;
    int64_t shape[PTH_TENSOR_MAX_DIMS];
    size_t numel;
    float *data; /* owned, row-major (C order) */
} pth_tensor;

typedef struct {
    pth_tensor *items;
    size_t count, cap;
    char *config_json; /* owned; NULL if the file carried no config */
} pth_tensor_set;

/* Takes ownership of data (numel = product of shape) on success and on failure. */
int pth_tensor_set_add(pth_tensor_set *set, const char *name, int ndim, const int64_t *shape, float *data,
                       pth_error *err);
const pth_tensor *pth_tensor_set_find(const pth_tensor_set *set, const char *name);
void pth_tensor_set_free(pth_tensor_set *set);

/* Loaders (src/tabpfn/): untrusted input, every size bounded, nothing executed. */
int pth_safetensors_load(const char *path, pth_tensor_set *out, pth_error *err);
int pth_ckpt_load(const char *path, pth_tensor_set *out, pth_error *err);
/* The same loaders on a file already in memory (fuzzing, embedded models). `name` labels
 * error messages (NULL: "<buffer>"). `out` is overwritten; on failure it is left empty. */
int pth_safetensors_load_buffer(const void *data, size_t len, const char *name, pth_tensor_set *out,
                                pth_error *err);
int pth_ckpt_load_buffer(const void *data, size_t len, const char *name, pth_tensor_set *out, pth_error *err);
/* Picks the loader by file content (zip magic -> ckpt, else safetensors); for
 * .safetensors a sibling config.json is used when the header has no config. */
int pth_checkpoint_load(const char *path, pth_tensor_set *out, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
