/* Format dispatch for model checkpoints: a torch.save zip archive starts with a local
 * file header ("PK\3\4"); anything else is read as safetensors. A safetensors file whose
 * header carries no config borrows the config.json next to it, the layout in which
 * converted checkpoints are usually shipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/io.h"
#include "pathos/tensorset.h"
#include "tabpfn/loader_common.h"

/* dirname(path) + "/config.json", malloc'd. */
static char *sibling_config_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char *p = malloc(dir + sizeof "config.json");
    if (p) {
        memcpy(p, path, dir);
        memcpy(p + dir, "config.json", sizeof "config.json");
    }
    return p;
}

static int load_sibling_config(const char *path, pth_tensor_set *out, pth_error *err)
{
    char *cpath = sibling_config_path(path);
    if (!cpath)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
    FILE *probe = fopen(cpath, "rb");
    if (!probe) { /* no sibling config: the set simply has none */
        free(cpath);
        return PTH_OK;
    }
    fclose(probe);
    char *text;
    size_t len;
    int rc = pth_read_file(cpath, PTH_CKPT_MAX_CONFIG_BYTES, &text, &len, err);
    if (!rc) {
        rc = pth_config_json_normalize(text, len, cpath, &out->config_json, err);
        free(text);
    }
    free(cpath);
    return rc;
}

int pth_checkpoint_load(const char *path, pth_tensor_set *out, pth_error *err)
{
    char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = pth_read_file(path, PTH_CKPT_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    if (len >= 4 && !memcmp(buf, "PK\3\4", 4)) {
        rc = pth_ckpt_load_buffer(buf, len, path, out, err);
    } else {
        rc = pth_safetensors_load_buffer(buf, len, path, out, err);
        if (!rc && !out->config_json)
            rc = load_sibling_config(path, out, err);
        if (rc)
            pth_tensor_set_free(out);
    }
    free(buf);
    return rc;
}
