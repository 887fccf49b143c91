/* Whole-file CSV reader (pathos/table.h).
 *
 * Speed on wide numeric files comes from doing almost nothing per cell: the file is mapped
 * (not copied), UTF-8 is checked only where non-ASCII bytes can be (see check_utf8), and
 * each cell is parsed as a number straight from the buffer into a row block that is copied
 * to the column arrays (preallocated from a row estimate), with no per-cell allocation.
 * Only cells that are not plain numbers go through the general field scanner.  Text is copied out in a second pass,
 * and only for the columns that turn out to need it. */
#define _DEFAULT_SOURCE /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/csv_internal.h"
#include "pathos/csv.h"
#include "pathos/io.h"
#include "pathos/table.h"

typedef struct {
    const char *name, *base, *end; /* base: where line 1 starts (after a BOM) */
    char delim;
} src_info;

/* Per-column bookkeeping during pass 1. */
typedef struct {
    const char *bad;      /* first non-numeric cell (raw span) */
    pth_csv_span bad_span;
    size_t bad_line;
    int want_text;
} col_work;

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int fail_pos(const src_info *si, const char *pos, const char *what, pth_error *err)
{
    size_t line, col;
    pth_csv_position(si->base, 1, pos, &line, &col);
    return pth_fail(err, PTH_ERR_PARSE, "%s:%zu:%zu: %s", si->name, line, col, what);
}

static int is_pad(char c, char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

/* Skips blank lines ("\n", "\r\n") at p, counting them. */
static const char *skip_blank_lines(const char *p, const char *end, size_t *line)
{
    for (;;) {
        if (p < end && *p == '\n') {
            p++;
            (*line)++;
        } else if (p + 1 < end && p[0] == '\r' && p[1] == '\n') {
            p += 2;
            (*line)++;
        } else if (p + 1 == end && p[0] == '\r') {
            p++; /* a lone '\r' at the very end is a (blank) line end, as in the stream reader */
        } else
            return p;
    }
}

/* UTF-8 is checked per field, on the raw bytes of every field that goes through the general
 * scanner (header, text, quoted, missing markers).  Cells taken by the numeric fast path are
 * ASCII by construction, and delimiters and line ends are ASCII, so together this covers
 * every byte without a separate pass over the whole file. */
static int check_utf8(const src_info *si, const char *from, const char *to, pth_error *err)
{
    size_t bad = pth_utf8_check(from, (size_t)(to - from));
    return bad ? fail_pos(si, from + bad - 1, "invalid UTF-8", err) : PTH_OK;
}

/* Scans one field with the general scanner; syntax errors and invalid UTF-8 become
 * positioned errors. */
static int scan_cell(const src_info *si, const char *p, pth_csv_span *sp, const char **next, size_t *inner,
                     int *kind, pth_error *err)
{
    const char *errpos = p;
    *next = p;
    *kind = pth_csv_scan_field(p, si->end, si->delim, 1, 1, sp, next, inner, &errpos);
    if (*kind == PTH_SCAN_ERR_QUOTE)
        return fail_pos(si, errpos, "unterminated quoted field (opened here)", err);
    if (*kind == PTH_SCAN_ERR_AFTER)
        return fail_pos(si, errpos, "unexpected character after a closing quote", err);
    return check_utf8(si, p, *next, err);
}

/* Scans one record into a growable span array (used for the header and the first row). */
static int scan_record(const src_info *si, const char *p, pth_csv_span **spans, size_t *nf,
                       const char **next, size_t *newlines, pth_error *err)
{
    size_t cap = 0, n = 0, nl = 0, inner;
    pth_csv_span *sp = NULL;
    const char *nx = p;
    int kind;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            pth_csv_span *ns = realloc(sp, cap * sizeof *ns);
            if (!ns) {
                free(sp);
                return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", si->name);
            }
            sp = ns;
        }
        int rc = scan_cell(si, p, &sp[n], &nx, &inner, &kind, err);
        if (rc) {
            free(sp);
            return rc;
        }
        n++;
        nl += inner;
        p = nx;
    } while (kind == PTH_SCAN_DELIM);
    *spans = sp;
    *nf = n;
    *next = nx;
    *newlines = nl + (kind == PTH_SCAN_EOL);
    return PTH_OK;
}

static char *trimmed_name(const pth_csv_span *sp)
{
    char *s = malloc(sp->n + 1);
    if (!s)
        return NULL;
    size_t n = pth_csv_unquote(sp, s), a = 0;
    while (a < n && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
    return s;
}

typedef struct {
    const char *name;
    size_t idx;
} name_idx;

static int cmp_names(const void *a, const void *b)
{
    const name_idx *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static int check_duplicates(const pth_table *t, size_t line, pth_error *err)
{
    name_idx *v = malloc((t->ncols ? t->ncols : 1) * sizeof *v);
    if (!v)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    for (size_t j = 0; j < t->ncols; j++) {
        v[j].name = t->cols[j].name;
        v[j].idx = j;
    }
    qsort(v, t->ncols, sizeof *v, cmp_names);
    for (size_t j = 1; j < t->ncols; j++)
        if (strcmp(v[j].name, v[j - 1].name) == 0) {
            int rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: duplicate column name '%s' (columns %zu and %zu)",
                              t->source, line, v[j].name, v[j - 1].idx + 1, v[j].idx + 1);
            free(v);
            return rc;
        }
    free(v);
    return PTH_OK;
}

/* Allocates the columns and names them from the header (or c0, c1, ... without one). */
static int setup_columns(pth_table *t, const pth_csv_span *hdr, size_t nf, int named, size_t line,
                         pth_error *err)
{
    t->ncols = nf;
    t->cols = calloc(nf ? nf : 1, sizeof *t->cols);
    if (!t->cols)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    for (size_t j = 0; j < nf; j++) {
        if (named)
            t->cols[j].name = trimmed_name(&hdr[j]);
        else {
            char b[32];
            snprintf(b, sizeof b, "c%zu", j);
            t->cols[j].name = dup_n(b, strlen(b));
        }
        if (!t->cols[j].name)
            return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    }
    return named ? check_duplicates(t, line, err) : PTH_OK;
}

/* Hard upper bound on data rows: a complete row needs at least ncols bytes (ncols-1
 * delimiters and a terminator), except perhaps the last. */
static size_t row_bound(const char *p, const char *end, size_t ncols)
{
    return (size_t)(end - p) / (ncols ? ncols : 1) + 1;
}

/* Initial row capacity: the newlines in the first MiB, scaled to the file size (exact for
 * smaller files), which saves a full pass over big files; parse_rows grows the arrays when
 * later rows turn out shorter. */
static size_t row_estimate(const char *p, const char *end, size_t ncols)
{
    const size_t sample_max = (size_t)1 << 20;
    size_t len = (size_t)(end - p), sample = len < sample_max ? len : sample_max, nl = 0;
    for (const char *c = p; c < p + sample && (c = memchr(c, '\n', (size_t)(p + sample - c))) != NULL; c++)
        nl++;
    size_t est = sample == len ? nl + 1 : (size_t)((double)nl * ((double)len / (double)sample) * 1.05) + 64;
    size_t bound = row_bound(p, end, ncols);
    return est < bound ? est : bound;
}

/* Faults in the whole pages of a fresh allocation with one system call.  In the virtual
 * machines this runs on, taking ~20k separate page faults to fill the column arrays of a
 * 200 MB file cost about a quarter of the read time.  Only a hint: content is unchanged
 * (populating never writes data), and kernels without MADV_POPULATE_WRITE just refuse. */
static void prefault(void *ptr, size_t bytes)
{
#if defined(MADV_POPULATE_WRITE)
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)ptr + page - 1) & ~(page - 1), b = ((uintptr_t)ptr + bytes) & ~(page - 1);
    if (bytes >= 16 * page && b > a)
        (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)ptr;
    (void)bytes;
#endif
}

static int alloc_numeric(pth_table *t, size_t cap, pth_error *err)
{
    if (cap && t->ncols > ((size_t)-1 / sizeof(double)) / cap)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: table too large", t->source);
    t->row_line = malloc((cap ? cap : 1) * sizeof *t->row_line);
    if (!t->row_line)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
    for (size_t j = 0; j < t->ncols; j++) {
        t->cols[j].num = malloc((cap ? cap : 1) * sizeof(double));
        if (!t->cols[j].num)
            return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory for %zu rows", t->source, cap);
        prefault(t->cols[j].num, cap * sizeof(double));
    }
    return PTH_OK;
}

/* Grows the row capacity by half (never beyond the hard bound). */
static int grow_rows(pth_table *t, size_t *cap, size_t bound, pth_error *err)
{
    size_t ncap = *cap + *cap / 2 + 64;
    ncap = ncap < bound ? ncap : bound;
    if (ncap <= *cap)
        return pth_fail(err, PTH_ERR_INTERNAL, "%s: more rows than the file can hold", t->source);
    size_t *rl = realloc(t->row_line, ncap * sizeof *rl);
    if (!rl)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory for %zu rows", t->source, ncap);
    t->row_line = rl;
    for (size_t j = 0; j < t->ncols; j++) {
        double *num = realloc(t->cols[j].num, ncap * sizeof(double));
        if (!num)
            return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory for %zu rows", t->source, ncap);
        t->cols[j].num = num;
        prefault(num + *cap, (ncap - *cap) * sizeof(double));
    }
    *cap = ncap;
    return PTH_OK;
}

/* Value of a cell that did not take the fast path: a number (maybe quoted), a missing
 * marker, or text (NaN, remembered as the column's first bad cell). */
static double classify(const pth_csv_span *sp, col_work *w, size_t line)
{
    double v;
    if (!sp->escaped && pth_parse_number(sp->s, sp->n, &v))
        return v;
    if (!sp->escaped && pth_is_missing(sp->s, sp->n))
        return NAN;
    if (!w->bad) {
        w->bad = sp->s;
        w->bad_span = *sp;
        w->bad_line = line;
    }
    return NAN;
}

static int ragged(const src_info *si, const char *pos, size_t got, size_t want, pth_error *err)
{
    char d[160];
    snprintf(d, sizeof d, "row has %s%zu fields, expected %zu like the header", got > want ? "more than " : "",
             got > want ? want : got, want);
    return fail_pos(si, pos, d, err);
}

/* Fast path for one cell: optional padding, a number, padding, then a terminator.
 * Returns the terminator position or NULL when the cell needs the general scanner. */
static const char *fast_cell(const char *p, const char *end, char delim, double *v)
{
    while (p < end && is_pad(*p, delim))
        p++;
    if (p == end || *p == '"')
        return NULL;
    const char *q = pth_csv_number(p, end, v);
    if (!q)
        return NULL;
    while (q < end && is_pad(*q, delim))
        q++;
    if (q == end || *q == delim || *q == '\n' || (*q == '\r' && q + 1 < end && q[1] == '\n'))
        return q;
    return NULL;
}

/* Copies rows [row0, row0 + k) from the row-major block into the column arrays. */
static void flush_block(pth_table *t, const double *blk, size_t row0, size_t k)
{
    for (size_t c = 0; c < t->ncols; c++) {
        double *dst = t->cols[c].num + row0;
        for (size_t r = 0; r < k; r++)
            dst[r] = blk[r * t->ncols + c];
    }
}

/* One data row into brow[0..ncols).  Advances *pp and *line past the row. */
static int parse_row(const src_info *si, size_t ncols, const char **pp, size_t *line, double *brow, col_work *w,
                     pth_error *err)
{
    const char *p = *pp, *end = si->end;
    const char delim = si->delim;
    size_t c = 0;
    int more = 1;
    while (more) {
        if (c == ncols)
            return ragged(si, p, ncols + 1, ncols, err);
        double v;
        const char *q = fast_cell(p, end, delim, &v);
        if (q) {
            /* q is at the delimiter, a newline, "\r\n" or the end. */
            more = q < end && *q == delim;
            if (q < end && !more)
                (*line)++;
            p = q == end ? end : q + (*q == '\r' ? 2 : 1);
        } else {
            pth_csv_span sp;
            const char *next;
            size_t inner;
            int kind, rc = scan_cell(si, p, &sp, &next, &inner, &kind, err);
            if (rc)
                return rc;
            v = classify(&sp, &w[c], *line);
            *line += inner + (kind == PTH_SCAN_EOL);
            more = kind == PTH_SCAN_DELIM;
            p = next;
        }
        brow[c++] = v;
    }
    *pp = p;
    if (c != ncols)
        return ragged(si, p > si->base && p[-1] == '\n' ? p - 1 : p, c, ncols, err);
    return PTH_OK;
}

/* Pass 1: every data row into the numeric arrays.
 * Rows are parsed into a small cache-resident row-major block, then copied to the columns a
 * few dozen rows at a time: storing each cell straight into its column touches ncols arrays
 * per row whose large, page-aligned allocations all alias the same cache sets, which made
 * that one store most of the run time. */
static int parse_rows(pth_table *t, const src_info *si, const char *p, size_t line, size_t cap,
                      size_t bound, col_work *w, pth_error *err)
{
    const size_t ncols = t->ncols;
    size_t block_rows = ncols ? 32768 / ncols : 64;
    block_rows = block_rows < 1 ? 1 : block_rows > 64 ? 64 : block_rows;
    double *blk = malloc((ncols ? block_rows * ncols : 1) * sizeof *blk);
    if (!blk)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", si->name);
    int rc = PTH_OK;
    size_t row = 0;
    for (;;) {
        p = skip_blank_lines(p, si->end, &line);
        if (p >= si->end)
            break;
        if (row == cap && (rc = grow_rows(t, &cap, bound, err)) != PTH_OK)
            break;
        t->row_line[row] = line;
        rc = parse_row(si, ncols, &p, &line, blk + (row % block_rows) * ncols, w, err);
        if (rc)
            break;
        row++;
        if (row % block_rows == 0)
            flush_block(t, blk, row - block_rows, block_rows);
    }
    if (!rc) {
        flush_block(t, blk, row - row % block_rows, row % block_rows);
        t->nrows = row;
    }
    free(blk);
    return rc;
}

/* Pass 2 text pool of one column: strings back to back, offsets per row. */
typedef struct {
    char *buf;
    size_t len, cap;
    size_t *off;
} text_pool;

static int pool_add(text_pool *tp, size_t row, const pth_csv_span *sp)
{
    if (tp->len + sp->n + 1 > tp->cap) {
        size_t ncap = tp->cap ? tp->cap * 2 : 4096;
        while (ncap < tp->len + sp->n + 1)
            ncap *= 2;
        char *nb = realloc(tp->buf, ncap);
        if (!nb)
            return 0;
        tp->buf = nb;
        tp->cap = ncap;
    }
    tp->off[row] = tp->len;
    tp->len += pth_csv_unquote(sp, tp->buf + tp->len) + 1;
    return 1;
}

/* Moves a finished pool into one block: the pointer array followed by the strings, so a
 * single free() of col->str releases everything. */
static int pool_finish(text_pool *tp, size_t nrows, pth_column *col)
{
    char **block = malloc(nrows * sizeof(char *) + tp->len + 1);
    if (!block)
        return 0;
    char *text = (char *)(block + nrows);
    if (tp->len)
        memcpy(text, tp->buf, tp->len);
    for (size_t i = 0; i < nrows; i++)
        block[i] = text + tp->off[i];
    col->str = block;
    return 1;
}

static void pools_free(text_pool *pools, size_t n)
{
    for (size_t j = 0; pools && j < n; j++) {
        free(pools[j].buf);
        free(pools[j].off);
    }
    free(pools);
}

/* Pass 2: copy the text of the columns that need it (pass 1 validated the syntax). */
static int extract_text(pth_table *t, const src_info *si, const char *p, const col_work *w, pth_error *err)
{
    const size_t ncols = t->ncols;
    text_pool *pools = calloc(ncols ? ncols : 1, sizeof *pools);
    int ok = pools != NULL;
    for (size_t j = 0; ok && j < ncols; j++)
        if (w[j].want_text)
            ok = (pools[j].off = malloc((t->nrows ? t->nrows : 1) * sizeof(size_t))) != NULL;
    size_t line = 0;
    for (size_t row = 0; ok && row < t->nrows; row++) {
        p = skip_blank_lines(p, si->end, &line);
        int kind = PTH_SCAN_DELIM;
        for (size_t c = 0; ok && c < ncols && kind == PTH_SCAN_DELIM; c++) {
            pth_csv_span sp;
            const char *next = p, *errpos = p;
            size_t inner;
            kind = pth_csv_scan_field(p, si->end, si->delim, 1, 1, &sp, &next, &inner, &errpos);
            if (pools[c].off)
                ok = pool_add(&pools[c], row, &sp);
            p = next;
        }
    }
    for (size_t j = 0; ok && j < ncols; j++)
        if (pools[j].off)
            ok = pool_finish(&pools[j], t->nrows, &t->cols[j]);
    pools_free(pools, ncols);
    return ok ? PTH_OK : pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory for text columns", si->name);
}

static int finish_columns(pth_table *t, col_work *w, pth_error *err)
{
    for (size_t j = 0; j < t->ncols; j++) {
        pth_column *c = &t->cols[j];
        double *shrunk = realloc(c->num, (t->nrows ? t->nrows : 1) * sizeof(double));
        if (shrunk)
            c->num = shrunk;
        if (w[j].bad) {
            c->type = PTH_COL_TEXT;
            c->bad_line = w[j].bad_line;
            c->bad_value = malloc(w[j].bad_span.n + 1);
            if (!c->bad_value)
                return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", t->source);
            pth_csv_unquote(&w[j].bad_span, c->bad_value);
            w[j].want_text = 1;
        }
    }
    size_t *rl = realloc(t->row_line, (t->nrows ? t->nrows : 1) * sizeof *rl);
    if (rl)
        t->row_line = rl;
    return PTH_OK;
}

static void mark_keep(const pth_table *t, col_work *w, int keep_all, const char *const *keep, size_t n_keep)
{
    for (size_t j = 0; j < t->ncols; j++)
        w[j].want_text = keep_all;
    for (size_t k = 0; keep && (n_keep ? k < n_keep : keep[k] != NULL); k++) {
        long j = pth_table_find(t, keep[k]);
        if (j >= 0)
            w[j].want_text = 1;
    }
}

static int read_table(const char *data, size_t len, const char *name, const pth_csv_options *opts,
                      const char *const *keep, size_t n_keep, pth_table *t, pth_error *err)
{
    src_info si = {name, data, data + len, opts && opts->delimiter ? opts->delimiter : ','};
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        si.base += 3;
    size_t line = 1;
    const char *p = skip_blank_lines(si.base, si.end, &line);
    int named = !(opts && opts->no_header);
    if (p == si.end && named)
        return pth_fail(err, PTH_ERR_PARSE, "%s: empty file (no header line)", name);
    pth_csv_span *hdr = NULL;
    size_t nf = 0, nl = 0;
    const char *next = p;
    if (p < si.end) {
        int rc = scan_record(&si, p, &hdr, &nf, &next, &nl, err);
        if (rc)
            return rc;
    }
    int rc = setup_columns(t, hdr, nf, named, line, err);
    free(hdr);
    if (rc)
        return rc;
    if (named) {
        p = next;
        line += nl;
    }
    size_t cap = row_estimate(p, si.end, t->ncols), bound = row_bound(p, si.end, t->ncols);
    col_work *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    if (!w)
        return pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", name);
    rc = alloc_numeric(t, cap, err);
    if (!rc)
        rc = parse_rows(t, &si, p, line, cap, bound, w, err);
    if (!rc) {
        mark_keep(t, w, opts && opts->keep_text, keep, n_keep);
        rc = finish_columns(t, w, err);
    }
    int any_text = 0;
    for (size_t j = 0; !rc && j < t->ncols; j++)
        any_text |= w[j].want_text;
    if (!rc && any_text)
        rc = extract_text(t, &si, p, w, err);
    free(w);
    return rc;
}

/* Maps a regular file (no copy); other files are read into memory. */
static int load(const char *path, const char **data, size_t *len, int *mapped, char **owned, pth_error *err)
{
    *data = NULL;
    *len = 0;
    *mapped = 0;
    *owned = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return pth_fail(err, PTH_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE; /* map every page now rather than fault them in one by one */
#endif
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, flags, fd, 0);
        if (m != MAP_FAILED) {
            close(fd);
            *data = m;
            *len = (size_t)sb.st_size;
            *mapped = 1;
            return PTH_OK;
        }
    }
    close(fd);
    size_t n;
    int rc = pth_read_file(path, (size_t)1 << 40, owned, &n, err);
    if (rc)
        return rc;
    *data = *owned;
    *len = n;
    return PTH_OK;
}

static int init_table(pth_table *t, const char *name, pth_error *err)
{
    memset(t, 0, sizeof *t);
    t->source = dup_n(name, strlen(name));
    return t->source ? PTH_OK : pth_fail(err, PTH_ERR_NOMEM, "%s: out of memory", name);
}

int pth_csv_read_buffer(const char *data, size_t len, const char *name, const pth_csv_options *opts,
                        pth_table *out, pth_error *err)
{
    if (!name)
        name = "<buffer>";
    int rc = init_table(out, name, err);
    if (!rc)
        rc = read_table(data, len, name, opts, NULL, 0, out, err);
    if (rc)
        pth_table_free(out);
    return rc;
}

int pth_csv_read_keep(const char *path, const pth_csv_options *opts, const char *const *keep_names,
                      size_t n_keep, pth_table *out, pth_error *err)
{
    const char *data;
    size_t len;
    int mapped;
    char *owned;
    int rc = init_table(out, path, err);
    if (rc)
        return rc;
    rc = load(path, &data, &len, &mapped, &owned, err);
    if (rc) {
        pth_table_free(out);
        return rc;
    }
    rc = read_table(data ? data : "", len, path, opts, keep_names, n_keep, out, err);
    if (mapped)
        munmap((void *)data, len);
    free(owned);
    if (rc)
        pth_table_free(out);
    return rc;
}

int pth_csv_read(const char *path, const pth_csv_options *opts, pth_table *out, pth_error *err)
{
    return pth_csv_read_keep(path, opts, NULL, 0, out, err);
}

void pth_table_free(pth_table *t)
{
    if (!t)
        return;
    for (size_t j = 0; t->cols && j < t->ncols; j++) {
        free(t->cols[j].name);
        free(t->cols[j].num);
        free(t->cols[j].str);
        free(t->cols[j].bad_value);
    }
    free(t->cols);
    free(t->source);
    free(t->row_line);
    memset(t, 0, sizeof *t);
}

long pth_table_find(const pth_table *t, const char *name)
{
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->cols[j].name, name) == 0)
            return (long)j;
    return -1;
}

const char *pth_table_cell_text(const pth_table *t, size_t row, size_t col)
{
    static _Thread_local char buf[40];
    const pth_column *c = &t->cols[col];
    if (c->str)
        return c->str[row];
    double v = c->num[row];
    if (isnan(v))
        return "";
    snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
