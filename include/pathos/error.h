/* Errors are values: every fallible function returns a pth_code (0 = success) or NULL,
 * and fills a caller-provided pth_error with a human-readable message that names the
 * file, line, column or field at fault. */
#ifndef PATHOS_ERROR_H
#define PATHOS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PTH_OK = 0,
    PTH_ERR_IO,          /* file cannot be opened, read or written */
    PTH_ERR_PARSE,       /* malformed input text (CSV, JSON, pickle, ...) */
    PTH_ERR_INVALID,     /* well-formed input with impossible content or arguments */
    PTH_ERR_NOMEM,       /* allocation failed or a size bound was exceeded */
    PTH_ERR_FORMAT,      /* corrupt or unsupported binary file (model, checkpoint) */
    PTH_ERR_UNSUPPORTED, /* valid but not implemented here */
    PTH_ERR_INTERNAL     /* a bug: please report */
} pth_code;

typedef struct {
    pth_code code;
    char msg[1024];
} pth_error;

/* Sets err (which may be NULL) and returns code. printf-style message. */
int pth_fail(pth_error *err, pth_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepends "prefix: " to an existing message (adds context as an error travels up). */
void pth_error_prefix(pth_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void pth_error_clear(pth_error *err);
const char *pth_code_name(pth_code code);

#ifdef __cplusplus
}
#endif
#endif
