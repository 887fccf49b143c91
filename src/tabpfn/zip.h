/* Read-only ZIP archive index over a buffer in memory, for torch.save checkpoints. Only
 * STORED (uncompressed) entries are supported, which is what torch writes; ZIP64 records
 * are understood. Every offset and size is validated against the buffer, and each
 * entry's CRC-32 is checked when the index is built. Internal to libpathos. */
#ifndef PATHOS_TABPFN_ZIP_H
#define PATHOS_TABPFN_ZIP_H

#include <stddef.h>

#include "pathos/error.h"

typedef struct {
    char *name; /* NUL-terminated copy; names containing NUL are rejected */
    const unsigned char *data; /* points into the archive buffer */
    size_t size;
} pth_zip_entry;

typedef struct {
    pth_zip_entry *entries; /* sorted by name, names unique */
    size_t count;
} pth_zip;

/* Indexes the archive in buf (which must outlive z). `file` names it in messages. */
int pth_zip_open(pth_zip *z, const unsigned char *buf, size_t len, const char *file, pth_error *err);
/* Exact-name lookup (binary search); NULL if absent. */
const pth_zip_entry *pth_zip_find(const pth_zip *z, const char *name);
void pth_zip_close(pth_zip *z);

#endif
