/* Fuzz target for the CSV layer: the table reader under several option sets, the streaming
 * reader, and the number parser checked against strtod.  Besides memory safety it asserts
 * that accepted tables are valid UTF-8 and cross-reader agreement: when both readers accept
 * an input, the stream sees one record per table row plus the header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/csv.h"
#include "pathos/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_table(const pth_table *t)
{
    for (size_t j = 0; j < t->ncols; j++) {
        const pth_column *c = &t->cols[j];
        if (!c->name || (c->type == PTH_COL_TEXT && (!c->str || !c->bad_value)))
            abort();
        for (size_t i = 0; i < t->nrows; i++)
            (void)pth_table_cell_text(t, i, j);
    }
    for (size_t i = 1; i < t->nrows; i++)
        if (t->row_line[i] <= t->row_line[i - 1])
            abort();
}

static size_t stream_count(const char *s, size_t n, const pth_csv_reader_options *o, int *ok)
{
    pth_csv_reader *r;
    pth_error e;
    pth_csv_record rec;
    size_t count = 0;
    *ok = 0;
    if (pth_csv_open_buffer(&r, s, n, "fuzz", o, &e))
        return 0;
    int rc;
    while ((rc = pth_csv_next_record(r, &rec, &e)) == PTH_OK && rec.n > 0) {
        for (size_t i = 0; i < rec.n; i++)
            if (rec.field[i][rec.len[i]] != '\0')
                abort();
        count++;
    }
    *ok = rc == PTH_OK;
    pth_csv_close(r);
    return count;
}

/* Whatever pth_parse_number accepts, strtod must read to the same bits. */
static void check_number(const char *s, size_t n)
{
    double v;
    if (n > 400 || !pth_parse_number(s, n, &v))
        return;
    char buf[512];
    memcpy(buf, s, n);
    buf[n] = '\0';
    double w = strtod(buf, NULL);
    if (memcmp(&v, &w, sizeof v) != 0) {
        fprintf(stderr, "number mismatch on '%s': %.17g vs %.17g\n", buf, v, w);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    pth_table t;
    pth_error e;
    static const pth_csv_options opts[3] = {{0, 0, 0}, {'\t', 1, 1}, {';', 0, 1}};
    for (int k = 0; k < 3; k++) {
        if (pth_csv_read_buffer(s, size, "fuzz", &opts[k], &t, &e) == PTH_OK) {
            check_table(&t);
            /* The reader checks UTF-8 per field, skipping numeric cells: it must still
             * never accept a file that is not UTF-8 as a whole. */
            size_t bom = size >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
            if (pth_utf8_check(s + bom, size - bom) != 0) {
                fprintf(stderr, "table accepted invalid UTF-8\n");
                abort();
            }
            if (k == 0) {
                int ok;
                size_t recs = stream_count(s, size, NULL, &ok);
                if (ok && recs != t.nrows + 1) {
                    fprintf(stderr, "stream saw %zu records, table %zu rows\n", recs, t.nrows);
                    abort();
                }
            }
            pth_table_free(&t);
        }
    }
    int ok;
    pth_csv_reader_options tsv = {.delimiter = '\t', .no_quotes = 1, .keep_blank_lines = 1, .no_utf8_check = 1};
    (void)stream_count(s, size, &tsv, &ok);
    check_number(s, size);
    (void)pth_is_missing(s, size);
    (void)pth_utf8_check(s, size);
    return 0;
}
