/* Placeholder until the torch zip/pickle reader lands. */
#include <string.h>

#include "pathos/tensorset.h"

int pth_ckpt_load_buffer(const void *data, size_t len, const char *name, pth_tensor_set *out, pth_error *err)
{
    (void)data;
    (void)len;
    memset(out, 0, sizeof *out);
    return pth_fail(err, PTH_ERR_UNSUPPORTED, "%s: .ckpt loading not implemented yet", name ? name : "<buffer>");
}

int pth_ckpt_load(const char *path, pth_tensor_set *out, pth_error *err)
{
    return pth_ckpt_load_buffer(NULL, 0, path, out, err);
}
