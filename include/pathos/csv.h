/* Streaming CSV/TSV record reader and the decimal number parser behind pth_csv_read.
 *
 * The reader hands out one record at a time, so text files of any size can be processed
 * in bounded memory (files are read in chunks; a buffer only needs to hold one record).
 * Fields are unquoted and NUL-terminated; they stay valid until the next call.
 *
 *     pth_csv_reader *r;
 *     pth_csv_record rec;
 *     if (pth_csv_open_file(&r, "train.tsv", &(pth_csv_reader_options){.delimiter = '\t',
 *                                                                     .no_quotes = 1}, err))
 *         return err->code;
 *     while ((rc = pth_csv_next_record(r, &rec, err)) == PTH_OK && rec.n > 0)
 *         use(rec.field[0], rec.len[0]);
 *     pth_csv_close(r);
 *
 * Syntax (RFC 4180): fields separated by the delimiter, records by "\n" or "\r\n"; a field
 * that starts with '"' is quoted: it may contain delimiters and newlines, and "" stands for
 * one quote.  A quote inside an unquoted field is an ordinary character.  A UTF-8 byte
 * order mark at the start is skipped; the text must be valid UTF-8. */
#ifndef PATHOS_CSV_H
#define PATHOS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char delimiter;        /* 0 = ',' */
    int no_quotes;         /* 1: '"' is an ordinary character everywhere (plain TSV) */
    int keep_blank_lines;  /* 1: an empty line is a record with one empty field; default skips them */
    int no_utf8_check;     /* 1: accept bytes that are not valid UTF-8 */
    size_t max_record;     /* longest record in bytes; 0 = 1 GiB */
} pth_csv_reader_options;

typedef struct {
    size_t n;             /* number of fields; 0 means end of input */
    char **field;         /* n unquoted, NUL-terminated fields */
    const size_t *len;    /* their lengths (a field may contain NUL bytes only with no_utf8_check) */
    size_t line;          /* 1-based physical line where the record starts */
} pth_csv_record;

typedef struct pth_csv_reader pth_csv_reader;

/* path "-" reads standard input. opts may be NULL. */
int pth_csv_open_file(pth_csv_reader **r, const char *path, const pth_csv_reader_options *opts,
                      pth_error *err);
/* Reads from memory (not copied: data must outlive the reader). name is used in messages. */
int pth_csv_open_buffer(pth_csv_reader **r, const char *data, size_t len, const char *name,
                        const pth_csv_reader_options *opts, pth_error *err);
/* Next record into rec; rec->n == 0 at end of input.  Malformed input (unterminated quote,
 * text after a closing quote, invalid UTF-8) is PTH_ERR_PARSE naming file:line:column. */
int pth_csv_next_record(pth_csv_reader *r, pth_csv_record *rec, pth_error *err);
void pth_csv_close(pth_csv_reader *r);

/* Parses a whole decimal number s[0..n) (surrounding spaces/tabs allowed; sign, digits, '.',
 * exponent; no hex, no "inf"/"nan").  Correctly rounded (round-to-nearest-even, as strtod in
 * the C locale).  Returns 1 on success, 0 when s is not a number. */
int pth_parse_number(const char *s, size_t n, double *out);
/* 1 when s[0..n) is a missing-value marker: empty or blank, NaN, nan, NA, N/A, null, inf,
 * -inf, +inf, infinity (any case). */
int pth_is_missing(const char *s, size_t n);
/* 0 when s[0..n) is valid UTF-8; otherwise the 1-based offset of the first bad byte. */
size_t pth_utf8_check(const char *s, size_t n);

/* Writes s (NULL = empty) as one CSV field, quoted per RFC 4180 when it contains a comma, a
 * quote, CR or LF, or starts or ends with a blank (which readers may trim). */
void pth_csv_write_field(FILE *fp, const char *s);

#ifdef __cplusplus
}
#endif
#endif
