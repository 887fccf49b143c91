/* The CSV field scanner shared by the table reader and the streaming reader.  It never
 * copies: it reports where a field lies and what ended it, so the caller decides whether to
 * parse a number in place or copy text out. */
#include <string.h>

#include "data/csv_internal.h"

/* Unquoted field: runs to the delimiter, "\n", "\r\n" or the end of the input. */
static int scan_plain(const char *p, const char *end, char delim, int at_eof, pth_csv_span *f,
                      const char **next)
{
    const char *q = p;
    for (; q < end; q++) {
        char c = *q;
        if (c == delim) {
            f->n = (size_t)(q - p);
            *next = q + 1;
            return PTH_SCAN_DELIM;
        }
        if (c == '\n') {
            f->n = (size_t)(q - p);
            *next = q + 1;
            return PTH_SCAN_EOL;
        }
        if (c == '\r') {
            if (q + 1 == end && !at_eof)
                return PTH_SCAN_MORE;
            /* "\r\n" ends the record; a lone '\r' at the very end does too; elsewhere it is data. */
            if (q + 1 == end || q[1] == '\n') {
                f->n = (size_t)(q - p);
                *next = q + 1 == end ? end : q + 2;
                return q + 1 == end ? PTH_SCAN_EOF : PTH_SCAN_EOL;
            }
        }
    }
    if (!at_eof)
        return PTH_SCAN_MORE;
    f->n = (size_t)(q - p);
    *next = end;
    return PTH_SCAN_EOF;
}

/* What may follow a closing quote: delimiter, end of record, or end of input. */
static int after_quote(const char *q, const char *end, char delim, int at_eof, const char **next,
                       const char **errpos)
{
    if (q == end) {
        *next = end;
        return at_eof ? PTH_SCAN_EOF : PTH_SCAN_MORE;
    }
    if (*q == delim) {
        *next = q + 1;
        return PTH_SCAN_DELIM;
    }
    if (*q == '\n') {
        *next = q + 1;
        return PTH_SCAN_EOL;
    }
    if (*q == '\r') {
        if (q + 1 == end) {
            *next = end;
            return at_eof ? PTH_SCAN_EOF : PTH_SCAN_MORE;
        }
        if (q[1] == '\n') {
            *next = q + 2;
            return PTH_SCAN_EOL;
        }
    }
    *errpos = q;
    return PTH_SCAN_ERR_AFTER;
}

int pth_csv_scan_field(const char *p, const char *end, char delim, int quoting, int at_eof,
                       pth_csv_span *f, const char **next, size_t *newlines, const char **errpos)
{
    *newlines = 0;
    f->s = p;
    f->n = 0;
    f->quoted = 0;
    f->escaped = 0;
    if (!quoting || p == end || *p != '"')
        return scan_plain(p, end, delim, at_eof, f, next);
    f->quoted = 1;
    f->s = p + 1;
    const char *q = p + 1;
    for (;;) {
        const char *quote = memchr(q, '"', (size_t)(end - q));
        const char *stop = quote ? quote : end;
        for (const char *c = q; (c = memchr(c, '\n', (size_t)(stop - c))) != NULL; c++)
            (*newlines)++;
        if (!quote) {
            if (!at_eof)
                return PTH_SCAN_MORE;
            *errpos = p;
            return PTH_SCAN_ERR_QUOTE;
        }
        if (quote + 1 == end && !at_eof)
            return PTH_SCAN_MORE; /* might be the first half of a doubled quote */
        if (quote + 1 < end && quote[1] == '"') {
            f->escaped = 1;
            q = quote + 2;
            continue;
        }
        f->n = (size_t)(quote - f->s);
        return after_quote(quote + 1, end, delim, at_eof, next, errpos);
    }
}

size_t pth_csv_unquote(const pth_csv_span *f, char *dst)
{
    if (!f->escaped) {
        memcpy(dst, f->s, f->n);
        dst[f->n] = '\0';
        return f->n;
    }
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        dst[k++] = f->s[i];
        if (f->s[i] == '"')
            i++; /* skip the second quote of the pair */
    }
    dst[k] = '\0';
    return k;
}

void pth_csv_position(const char *base, size_t base_line, const char *pos, size_t *line, size_t *col)
{
    size_t ln = base_line;
    const char *ls = base;
    for (const char *c = base; c < pos; c++)
        if (*c == '\n') {
            ln++;
            ls = c + 1;
        }
    size_t chars = 0;
    for (const char *c = ls; c < pos; c++)
        chars += ((unsigned char)*c & 0xC0) != 0x80; /* count UTF-8 lead bytes only */
    *line = ln;
    *col = chars + 1;
}
