/* Fuzz target: safetensors parsing from memory. Any input must either load (and then
 * every tensor's data must be readable) or fail with a message; never crash or leak. */
#include <stdint.h>
#include <stdlib.h>

#include "pathos/tensorset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pth_tensor_set set;
    pth_error err;
    if (pth_safetensors_load_buffer(data, size, "fuzz", &set, &err) != 0) {
        if (set.count != 0 || set.items || set.config_json || !err.msg[0])
            abort(); /* failure must leave the set empty and explain itself */
        return 0;
    }
    volatile float sink = 0;
    for (size_t i = 0; i < set.count; i++)
        for (size_t k = 0; k < set.items[i].numel; k++)
            sink += set.items[i].data[k];
    (void)sink;
    pth_tensor_set_free(&set);
    return 0;
}
