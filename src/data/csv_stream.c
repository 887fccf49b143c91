/* Streaming record reader (pathos/csv.h).  Input is held in a window that always starts at
 * a record boundary; when a record runs past the window's end the window is shifted and
 * refilled and the record is scanned again, so memory stays at about one chunk plus the
 * longest record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_internal.h"
#include "pathos/csv.h"

#define CHUNK ((size_t)1 << 20)

struct pth_csv_reader {
    char *name;
    FILE *fp;          /* NULL for buffers */
    int own_fp;
    char *buf;         /* owned window (files only) */
    size_t cap;
    const char *data;  /* window */
    size_t len, pos;   /* bytes in window; start of the next record */
    int at_eof;
    int bom_done;
    size_t line;       /* physical line at pos */
    pth_csv_reader_options o;
    /* current record */
    pth_csv_span *spans;
    char **fields;
    size_t *lens;
    size_t fcap;
    char *scratch;
    size_t scap;
};

enum { REC_OK, REC_MORE, REC_END, REC_ERR };

static int reader_new(pth_csv_reader **r, const char *name, const pth_csv_reader_options *opts,
                      pth_error *err)
{
    *r = calloc(1, sizeof **r);
    if (!*r)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", name);
    if (opts)
        (*r)->o = *opts;
    if (!(*r)->o.delimiter)
        (*r)->o.delimiter = ',';
    if (!(*r)->o.max_record)
        (*r)->o.max_record = (size_t)1 << 30;
    (*r)->line = 1;
    (*r)->name = strdup(name);
    if (!(*r)->name) {
        free(*r);
        *r = NULL;
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", name);
    }
    return PTH_OK;
}

int pth_csv_open_buffer(pth_csv_reader **r, const char *data, size_t len, const char *name,
                        const pth_csv_reader_options *opts, pth_error *err)
{
    int rc = reader_new(r, name ? name : "<buffer>", opts, err);
    if (rc)
        return rc;
    (*r)->data = data;
    (*r)->len = len;
    (*r)->at_eof = 1;
    return PTH_OK;
}

int pth_csv_open_file(pth_csv_reader **r, const char *path, const pth_csv_reader_options *opts,
                      pth_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    int rc = reader_new(r, is_stdin ? "<stdin>" : path, opts, err);
    if (rc)
        return rc;
    pth_csv_reader *rd = *r;
    rd->fp = is_stdin ? stdin : fopen(path, "rb");
    rd->own_fp = !is_stdin;
    rd->cap = CHUNK;
    rd->buf = malloc(rd->cap);
    if (!rd->fp || !rd->buf) {
        int e = errno;
        int nomem = rd->fp != NULL;
        pth_csv_close(rd);
        *r = NULL;
        if (nomem)
            return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", path);
        return pth_fail(err, PTH_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    rd->data = rd->buf;
    return PTH_OK;
}

void pth_csv_close(pth_csv_reader *r)
{
    if (!r)
        return;
    if (r->fp && r->own_fp)
        fclose(r->fp);
    free(r->buf);
    free(r->name);
    free(r->spans);
    free(r->fields);
    free(r->lens);
    free(r->scratch);
    free(r);
}

/* Moves the unread tail to the front of the window and reads more, growing the window when
 * a single record fills it. */
static int refill(pth_csv_reader *r, pth_error *err)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap) {
        if (r->cap >= r->o.max_record)
            return pth_fail(err, PTH_ERR_PARSE, "%s:%zu: record longer than %zu bytes", r->name,
                            r->line, r->o.max_record);
        size_t ncap = r->cap * 2;
        char *nb = realloc(r->buf, ncap);
        if (!nb)
            return pth_fail(err, PTH_ERR_NOMEM, "%s:%zu: out of memory", r->name, r->line);
        r->buf = nb;
        r->cap = ncap;
    }
    size_t got = fread(r->buf + r->len, 1, r->cap - r->len, r->fp);
    r->len += got;
    r->data = r->buf;
    if (got == 0) {
        if (ferror(r->fp))
            return pth_fail(err, PTH_ERR_IO, "%s: read error", r->name);
        r->at_eof = 1;
    }
    return PTH_OK;
}

static int grow_fields(pth_csv_reader *r, size_t need)
{
    if (need <= r->fcap)
        return 1;
    size_t ncap = r->fcap ? r->fcap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    pth_csv_span *s = realloc(r->spans, ncap * sizeof *s);
    if (s)
        r->spans = s;
    char **f = realloc(r->fields, ncap * sizeof *f);
    if (f)
        r->fields = f;
    size_t *l = realloc(r->lens, ncap * sizeof *l);
    if (l)
        r->lens = l;
    if (!s || !f || !l)
        return 0;
    r->fcap = ncap;
    return 1;
}

static int fail_at(pth_csv_reader *r, const char *base, const char *pos, const char *what,
                   pth_error *err)
{
    size_t line, col;
    pth_csv_position(base, r->line, pos, &line, &col);
    return pth_fail(err, PTH_ERR_PARSE, "%s:%zu:%zu: %s", r->name, line, col, what);
}

/* Skips "\n" / "\r\n" lines at the record start.  REC_MORE when it cannot tell yet. */
static int skip_blank(pth_csv_reader *r)
{
    for (;;) {
        const char *p = r->data + r->pos, *end = r->data + r->len;
        if (p == end)
            return r->at_eof ? REC_END : REC_MORE;
        if (*p == '\n') {
            r->pos++;
            r->line++;
        } else if (*p == '\r' && (p + 1 == end || p[1] == '\n')) {
            if (p + 1 == end && !r->at_eof)
                return REC_MORE;
            r->pos += p + 1 == end ? 1 : 2;
            r->line += p + 1 != end;
        } else
            return REC_OK;
    }
}

static int copy_out(pth_csv_reader *r, size_t nf, pth_csv_record *rec, pth_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < nf; i++)
        total += r->spans[i].n + 1;
    if (total > r->scap) {
        size_t ncap = total * 2;
        char *s = realloc(r->scratch, ncap);
        if (!s)
            return pth_fail(err, PTH_ERR_NOMEM, "%s:%zu: out of memory", r->name, r->line);
        r->scratch = s;
        r->scap = ncap;
    }
    char *dst = r->scratch;
    for (size_t i = 0; i < nf; i++) {
        r->fields[i] = dst;
        r->lens[i] = pth_csv_unquote(&r->spans[i], dst);
        dst += r->lens[i] + 1;
    }
    rec->n = nf;
    rec->field = r->fields;
    rec->len = r->lens;
    rec->line = r->line;
    return PTH_OK;
}

static int parse_record(pth_csv_reader *r, pth_csv_record *rec, pth_error *err)
{
    if (!r->o.keep_blank_lines) {
        int b = skip_blank(r);
        if (b != REC_OK)
            return b;
    } else if (r->pos == r->len)
        return r->at_eof ? REC_END : REC_MORE;
    const char *start = r->data + r->pos, *p = start, *end = r->data + r->len, *next = p, *errpos = p;
    size_t nf = 0, nl = 0, inner;
    int kind;
    do {
        if (!grow_fields(r, nf + 1)) {
            pth_fail(err, PTH_ERR_NOMEM, "%s:%zu: out of memory", r->name, r->line);
            return REC_ERR;
        }
        kind = pth_csv_scan_field(p, end, r->o.delimiter, !r->o.no_quotes, r->at_eof,
                                  &r->spans[nf], &next, &inner, &errpos);
        if (kind == PTH_SCAN_MORE)
            return REC_MORE;
        if (kind == PTH_SCAN_ERR_QUOTE || kind == PTH_SCAN_ERR_AFTER) {
            fail_at(r, start, errpos,
                    kind == PTH_SCAN_ERR_QUOTE ? "unterminated quoted field (opened here)"
                                               : "unexpected character after a closing quote",
                    err);
            return REC_ERR;
        }
        nf++;
        nl += inner;
        p = next;
    } while (kind == PTH_SCAN_DELIM);
    if (!r->o.no_utf8_check) {
        size_t bad = pth_utf8_check(start, (size_t)(next - start));
        if (bad) {
            fail_at(r, start, start + bad - 1, "invalid UTF-8", err);
            return REC_ERR;
        }
    }
    if (copy_out(r, nf, rec, err))
        return REC_ERR;
    r->line += nl + (kind == PTH_SCAN_EOL);
    r->pos = (size_t)(next - r->data);
    return REC_OK;
}

int pth_csv_next_record(pth_csv_reader *r, pth_csv_record *rec, pth_error *err)
{
    memset(rec, 0, sizeof *rec);
    for (;;) {
        if (!r->bom_done) {
            if (r->len - r->pos < 3 && !r->at_eof) {
                int rc = refill(r, err);
                if (rc)
                    return rc;
                continue;
            }
            if (r->len - r->pos >= 3 && memcmp(r->data + r->pos, "\xEF\xBB\xBF", 3) == 0)
                r->pos += 3;
            r->bom_done = 1;
        }
        int k = parse_record(r, rec, err);
        if (k == REC_OK)
            return PTH_OK;
        if (k == REC_END) {
            rec->line = r->line;
            return PTH_OK;
        }
        if (k == REC_ERR)
            return err ? err->code : PTH_ERR_PARSE;
        int rc = refill(r, err);
        if (rc)
            return rc;
    }
}
