/* File helpers shared by every writer and reader in pathos.
 * Output files are written to a temporary sibling and renamed into place on success, so a
 * failed run never leaves a half-written file under the requested name. */
#ifndef PATHOS_IO_H
#define PATHOS_IO_H

#include <stddef.h>
#include <stdio.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    FILE *fp;         /* write here */
    char *final_path; /* renamed to this on commit; NULL when writing to stdout */
    char *tmp_path;
} pth_outfile;

/* path "-" (or NULL) means stdout. */
int pth_outfile_open(pth_outfile *out, const char *path, pth_error *err);
/* Flushes, checks for write errors, renames into place. Always releases `out`. */
int pth_outfile_commit(pth_outfile *out, pth_error *err);
/* Discards the temporary file. Safe to call on a committed or zeroed pth_outfile. */
void pth_outfile_abort(pth_outfile *out);

/* Writes len bytes to path atomically (temp file + rename; "-" = stdout). */
int pth_write_file_atomic(const char *path, const void *data, size_t len, pth_error *err);

/* Reads a whole file into a NUL-terminated malloc'd buffer; fails beyond max_bytes. */
int pth_read_file(const char *path, size_t max_bytes, char **buf, size_t *len, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
