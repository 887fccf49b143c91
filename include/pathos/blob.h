/* Little-endian binary serialisation for pathos' versioned file formats (models).
 * The writer appends to a growable buffer; the reader is bounds-checked on every call and
 * latches the first error, so a corrupt or truncated file can never read out of bounds:
 * callers read everything, then check pth_blob_reader_ok() once. */
#ifndef PATHOS_BLOB_H
#define PATHOS_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed; /* allocation failure latched */
} pth_blob_writer;

void pth_blob_u32(pth_blob_writer *w, uint32_t v);
void pth_blob_u64(pth_blob_writer *w, uint64_t v);
void pth_blob_i32(pth_blob_writer *w, int32_t v);
void pth_blob_f64(pth_blob_writer *w, double v);
void pth_blob_f64s(pth_blob_writer *w, const double *v, size_t n); /* u64 count, then values */
void pth_blob_f32s(pth_blob_writer *w, const float *v, size_t n);  /* u64 count, then values */
void pth_blob_str(pth_blob_writer *w, const char *s);              /* u32 length, then bytes */
void pth_blob_bytes(pth_blob_writer *w, const void *p, size_t n);  /* u64 length, then bytes */
/* n u32 values as one byte block: u64 length 4n, then the values little-endian (the form
 * the column lists of the text models have always had). */
void pth_blob_u32s(pth_blob_writer *w, const uint32_t *v, size_t n);
void pth_blob_writer_free(pth_blob_writer *w);
/* Writes the serialised bytes to path atomically (pth_write_file_atomic) and frees w; a
 * latched allocation failure becomes an error naming `what` (e.g. "a fastText model"). */
int pth_blob_write_file(pth_blob_writer *w, const char *path, const char *what, pth_error *err);

typedef struct {
    const unsigned char *data;
    size_t len, pos;
    const char *what; /* name used in error messages, e.g. the file path */
    pth_error err;    /* first error, if any */
} pth_blob_reader;

void pth_blob_reader_init(pth_blob_reader *r, const void *data, size_t len, const char *what);
uint32_t pth_blob_read_u32(pth_blob_reader *r);
uint64_t pth_blob_read_u64(pth_blob_reader *r);
int32_t pth_blob_read_i32(pth_blob_reader *r);
double pth_blob_read_f64(pth_blob_reader *r);
/* Array readers: `expected` is the count the caller requires (a mismatch is a format
 * error); the returned array is malloc'd (NULL on error). */
double *pth_blob_read_f64s(pth_blob_reader *r, size_t expected);
float *pth_blob_read_f32s(pth_blob_reader *r, size_t expected);
/* 1 when all n values are finite and at most bound in magnitude (HUGE_VAL: finite only):
 * the check a reader makes on weights it loaded before they can reach a score. */
int pth_blob_f64s_within(const double *v, size_t n, double bound);
int pth_blob_f32s_within(const float *v, size_t n, float bound);
char *pth_blob_read_str(pth_blob_reader *r, size_t max_len); /* malloc'd, NUL-terminated */
/* Returns a pointer into the reader's buffer (not a copy) and its length. */
const void *pth_blob_read_bytes(pth_blob_reader *r, size_t max_len, size_t *len);
/* Reads a pth_blob_u32s block of at most max values (what names it in errors): malloc'd
 * (NULL on error), *n receives the count. */
uint32_t *pth_blob_read_u32s(pth_blob_reader *r, size_t max, size_t *n, const char *what);
/* Marks the reader failed with a message (for semantic checks by callers). */
void pth_blob_reader_fail(pth_blob_reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int pth_blob_reader_ok(const pth_blob_reader *r);
/* Copies the latched error (if any) into err and returns its code. */
int pth_blob_reader_status(const pth_blob_reader *r, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
