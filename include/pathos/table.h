/* A CSV file read into memory, column by column.
 *
 * Header names are trimmed of surrounding spaces (OpenFace writes " AU12_r").  Each column
 * is numeric when every non-missing cell parses as a number, text otherwise.  Missing cells
 * (empty, "NaN", "nan", "NA", "inf", "-inf", ...) are NaN in numeric columns.  A text
 * column remembers where its first non-numeric cell was, so a caller that needs a number
 * can report "file:line:column: expected a number, found 'abc'". */
#ifndef PATHOS_TABLE_H
#define PATHOS_TABLE_H

#include <stddef.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PTH_COL_NUMERIC = 0, PTH_COL_TEXT = 1 } pth_col_type;

typedef struct {
    char *name;        /* trimmed header name */
    pth_col_type type;
    double *num;       /* nrows values; NaN where missing or (text columns) non-numeric */
    char **str;        /* nrows cell strings (raw, unquoted) for text columns; NULL otherwise */
    size_t bad_line;   /* text columns: 1-based physical line of the first non-numeric cell */
    char *bad_value;   /* text columns: that cell's text */
} pth_column;

typedef struct {
    size_t nrows, ncols;
    pth_column *cols;
    char *source;      /* file name used in messages */
    size_t *row_line;  /* nrows: 1-based physical line where each data row starts */
} pth_table;

typedef struct {
    char delimiter;    /* 0 = ',' */
    int no_header;     /* 1: first row is data; columns are named "c0", "c1", ... */
    int keep_text;     /* 1: keep str[] also for numeric columns (e.g. id columns like "7") */
} pth_csv_options;

/* Reads a whole CSV file (RFC 4180: quotes, doubled quotes, embedded newlines, CRLF, UTF-8
 * BOM).  Ragged rows, unterminated quotes and invalid UTF-8 are errors naming
 * file:line:column.  opts may be NULL. */
int pth_csv_read(const char *path, const pth_csv_options *opts, pth_table *out, pth_error *err);
int pth_csv_read_buffer(const char *data, size_t len, const char *name, const pth_csv_options *opts,
                        pth_table *out, pth_error *err);
void pth_table_free(pth_table *t);
/* Index of the column with this (trimmed) name, or -1. */
long pth_table_find(const pth_table *t, const char *name);
/* The cell as text (numeric cells formatted with %.17g when no str[] is kept); static
 * buffer for numbers, so copy before the next call. */
const char *pth_table_cell_text(const pth_table *t, size_t row, size_t col);

#ifdef __cplusplus
}
#endif
#endif
