/* Helpers shared by the checkpoint loaders (safetensors, torch zip/pickle): element-type
 * decoding to float32, config JSON normalisation and the size bounds that keep untrusted
 * files from driving allocations or run time. Internal to libpathos. */
#ifndef PATHOS_TABPFN_LOADER_COMMON_H
#define PATHOS_TABPFN_LOADER_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"
#include "pathos/tensorset.h"

/* Largest checkpoint file read into memory. */
#define PTH_CKPT_MAX_FILE_BYTES ((size_t)1 << (sizeof(size_t) >= 8 ? 34 : 30))
/* Most tensors in one file (name lookup is linear, so this also bounds run time). */
#define PTH_CKPT_MAX_TENSORS 16384
/* Largest config JSON text accepted (header metadata, pickle dict or sibling file). */
#define PTH_CKPT_MAX_CONFIG_BYTES ((size_t)16 << 20)
/* Deepest nesting of lists/dicts converted to config JSON. */
#define PTH_CKPT_MAX_DEPTH 64

typedef enum { PTH_DT_F32, PTH_DT_F16, PTH_DT_BF16, PTH_DT_F64 } pth_dtype;

/* Bytes per element of dt. */
size_t pth_dtype_size(pth_dtype dt);
/* Decodes n little-endian elements of type dt from src (any alignment) into dst. */
void pth_dtype_decode(pth_dtype dt, const unsigned char *src, size_t n, float *dst);
/* One element at src. */
float pth_dtype_decode_one(pth_dtype dt, const unsigned char *src);

/* Little-endian reads from an unaligned byte pointer. */
uint16_t pth_le16(const unsigned char *p);
uint32_t pth_le32(const unsigned char *p);
uint64_t pth_le64(const unsigned char *p);

/* Parses config text, requires a JSON object and re-prints it compactly with cJSON, so
 * every loader yields the same config_json text for the same dict. *out is malloc'd.
 * `what` names the source in error messages. */
int pth_config_json_normalize(const char *text, size_t len, const char *what, char **out, pth_error *err);

/* Reads the file at path (bounded by PTH_CKPT_MAX_FILE_BYTES) and hands it to a buffer
 * loader, with the path as the name in messages; out is empty on failure. */
typedef int (*pth_buffer_loader)(const void *data, size_t len, const char *name, pth_tensor_set *out,
                                 pth_error *err);
int pth_load_path_with(const char *path, pth_buffer_loader load, pth_tensor_set *out, pth_error *err);

#endif
