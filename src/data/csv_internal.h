/* Pieces shared by the CSV table reader (csv.c), the streaming reader (csv_stream.c) and the
 * feature-table/manifest readers: the field scanner, unquoting, error positions and the
 * fast number parser. */
#ifndef PATHOS_DATA_CSV_INTERNAL_H
#define PATHOS_DATA_CSV_INTERNAL_H

#include <stddef.h>

#include "pathos/table.h"

/* One field as it lies in the input: for a quoted field, the text between the quotes
 * (doubled quotes still doubled when `escaped`). */
typedef struct {
    const char *s;
    size_t n;
    int quoted;
    int escaped;
} pth_csv_span;

enum {
    PTH_SCAN_DELIM,      /* field ended by the delimiter */
    PTH_SCAN_EOL,        /* field ended by "\n" or "\r\n": end of record */
    PTH_SCAN_EOF,        /* field ended by the end of the input */
    PTH_SCAN_MORE,       /* input ended inside the field, and more may come */
    PTH_SCAN_ERR_QUOTE,  /* unterminated quoted field */
    PTH_SCAN_ERR_AFTER   /* something other than delimiter/newline after a closing quote */
};

/* Scans one field starting at p (< end or == end).  Sets *next past the terminator,
 * *newlines to the '\n' bytes inside a quoted field, *errpos on errors. */
int pth_csv_scan_field(const char *p, const char *end, char delim, int quoting, int at_eof,
                       pth_csv_span *f, const char **next, size_t *newlines, const char **errpos);
/* Copies the field's content to dst (at least f->n + 1 bytes), collapsing doubled quotes;
 * NUL-terminates and returns the length. */
size_t pth_csv_unquote(const pth_csv_span *f, char *dst);
/* 1-based line and column (in characters) of pos, given that `base` starts line base_line. */
void pth_csv_position(const char *base, size_t base_line, const char *pos, size_t *line, size_t *col);

/* Parses a number that starts exactly at p, reading at most up to end.  Returns the
 * position after it (NULL when there is none) and stores the correctly rounded value. */
const char *pth_csv_number(const char *p, const char *end, double *out);

/* pth_csv_read with a per-column choice of which columns keep their text (in addition to
 * text columns): keep_names[0..n_keep) (NULL-terminated list also accepted when n_keep is 0). */
int pth_csv_read_keep(const char *path, const pth_csv_options *opts, const char *const *keep_names,
                      size_t n_keep, pth_table *out, pth_error *err);

/* Class label of a cell: -1 when missing (empty, NA, ...); otherwise it must be an integer
 * in 0..n_classes-1 (n_classes <= 0: any non-negative int), else an error naming
 * file:line and the column. */
int pth_table_label(const pth_table *t, size_t col, size_t row, int n_classes, int *out, pth_error *err);

#endif
