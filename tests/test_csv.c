/* CSV layer: RFC 4180 syntax, missing values, errors with positions, the number parser
 * against strtod, the streaming reader, and the real OpenFace files. */
#include <glob.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/csv.h"
#include "pathos/rng.h"
#include "pathos/table.h"

static int read_str(const char *text, const pth_csv_options *o, pth_table *t, pth_error *e)
{
    return pth_csv_read_buffer(text, strlen(text), "mem.csv", o, t, e);
}

/* Expects a parse error whose message contains `want`. */
static void expect_error(const char *text, const pth_csv_options *o, const char *want)
{
    pth_table t;
    pth_error e = {0};
    int rc = read_str(text, o, &t, &e);
    CHECK(rc == PTH_ERR_PARSE);
    if (rc && !strstr(e.msg, want))
        fprintf(stderr, "  message '%s' lacks '%s'\n", e.msg, want);
    CHECK(rc && strstr(e.msg, want) != NULL);
    if (!rc)
        pth_table_free(&t);
}

static void test_quoting(void)
{
    pth_table t;
    pth_error e;
    const char *text = "\xEF\xBB\xBF name ,\"v\"\"q\",num\r\n"
                       "\"a,b\",\"x \"\"y\"\"\",1.5\r\n"
                       "\"multi\nline\",plain,\"2\"\r\n"
                       "\r\n"
                       "z,\"\",-3e2";
    CHECK_OK(read_str(text, NULL, &t, &e), &e);
    CHECK(t.nrows == 3 && t.ncols == 3);
    CHECK(strcmp(t.cols[0].name, "name") == 0);
    CHECK(strcmp(t.cols[1].name, "v\"q") == 0);
    CHECK(pth_table_find(&t, "num") == 2 && pth_table_find(&t, "nope") == -1);
    CHECK(t.cols[0].type == PTH_COL_TEXT && t.cols[1].type == PTH_COL_TEXT);
    CHECK(strcmp(t.cols[0].str[0], "a,b") == 0);
    CHECK(strcmp(t.cols[1].str[0], "x \"y\"") == 0);
    CHECK(strcmp(t.cols[0].str[1], "multi\nline") == 0);
    CHECK(strcmp(t.cols[1].str[2], "") == 0);
    CHECK(t.cols[2].type == PTH_COL_NUMERIC && !t.cols[2].str);
    CHECK(t.cols[2].num[0] == 1.5 && t.cols[2].num[1] == 2.0 && t.cols[2].num[2] == -300.0);
    /* Physical lines: the embedded newline pushes row 3 to line 5, the blank line to 6. */
    CHECK(t.row_line[0] == 2 && t.row_line[1] == 3 && t.row_line[2] == 6);
    CHECK(t.cols[0].bad_line == 2 && strcmp(t.cols[0].bad_value, "a,b") == 0);
    CHECK(strcmp(pth_table_cell_text(&t, 1, 2), "2") == 0);
    CHECK(strcmp(pth_table_cell_text(&t, 1, 1), "plain") == 0);
    pth_table_free(&t);
}

static void test_missing(void)
{
    pth_table t;
    pth_error e;
    const char *text = "a,b,c\n1,,x\nNaN,nan,y\nNA,inf,z\n-inf, 2 ,w\n+Infinity,N/A,\n";
    CHECK_OK(read_str(text, NULL, &t, &e), &e);
    CHECK(t.nrows == 5 && t.ncols == 3);
    CHECK(t.cols[0].type == PTH_COL_NUMERIC && t.cols[1].type == PTH_COL_NUMERIC);
    CHECK(t.cols[0].num[0] == 1.0 && isnan(t.cols[0].num[1]) && isnan(t.cols[0].num[2]));
    CHECK(isnan(t.cols[0].num[3]) && isnan(t.cols[0].num[4]));
    CHECK(isnan(t.cols[1].num[0]) && isnan(t.cols[1].num[2]) && t.cols[1].num[3] == 2.0);
    CHECK(t.cols[2].type == PTH_COL_TEXT && t.cols[2].bad_line == 2);
    CHECK(strcmp(t.cols[2].bad_value, "x") == 0 && strcmp(t.cols[2].str[4], "") == 0);
    CHECK(strcmp(pth_table_cell_text(&t, 1, 0), "") == 0);
    pth_table_free(&t);
    /* keep_text keeps the raw spelling of numeric cells (ids like "007"). */
    pth_csv_options o = {.keep_text = 1};
    CHECK_OK(read_str("id,v\n007,1\n8,2\n", &o, &t, &e), &e);
    CHECK(t.cols[0].type == PTH_COL_NUMERIC && t.cols[0].str && strcmp(t.cols[0].str[0], "007") == 0);
    CHECK(t.cols[0].num[0] == 7.0);
    pth_table_free(&t);
}

static void test_shapes(void)
{
    pth_table t;
    pth_error e;
    CHECK_OK(read_str("a, b ,c\r\n", NULL, &t, &e), &e);
    CHECK(t.nrows == 0 && t.ncols == 3 && strcmp(t.cols[1].name, "b") == 0);
    pth_table_free(&t);
    expect_error("", NULL, "empty file");
    expect_error("\xEF\xBB\xBF\n\n", NULL, "empty file");
    pth_csv_options nh = {.no_header = 1, .delimiter = '\t'};
    CHECK_OK(read_str("1\t2\n3\t4", &nh, &t, &e), &e);
    CHECK(t.nrows == 2 && t.ncols == 2 && strcmp(t.cols[1].name, "c1") == 0 && t.cols[1].num[1] == 4.0);
    pth_table_free(&t);
    CHECK_OK(read_str("", &nh, &t, &e), &e);
    CHECK(t.nrows == 0 && t.ncols == 0);
    pth_table_free(&t);
    /* Trailing delimiter: an empty last field. */
    CHECK_OK(read_str("a,b\n1,\n", NULL, &t, &e), &e);
    CHECK(t.nrows == 1 && isnan(t.cols[1].num[0]));
    pth_table_free(&t);
}

static void test_errors(void)
{
    expect_error("a,b\n1,2\n3\n", NULL, "mem.csv:3:2: row has 1 fields, expected 2");
    expect_error("a,b\n1,2,3\n", NULL, "mem.csv:2:5: row has more than 2 fields");
    expect_error("a,b\n1,\"open\n\n", NULL, "mem.csv:2:3: unterminated quoted field");
    expect_error("a,b\n1,\"x\"y\n", NULL, "mem.csv:2:6: unexpected character after a closing quote");
    expect_error("a,b,a\n1,2,3\n", NULL, "duplicate column name 'a' (columns 1 and 3)");
    expect_error("\n x ,x\n", NULL, "mem.csv:2: duplicate column name 'x'");
    expect_error("a,b\n1,\xC3\xA9\xFF\n", NULL, "mem.csv:2:4: invalid UTF-8");
    expect_error("a,b\n1,\xED\xA0\x80\n", NULL, "invalid UTF-8"); /* surrogate */
    expect_error("a,b\n1,\xC0\xAF\n", NULL, "invalid UTF-8");     /* overlong */
    pth_table t;
    pth_error e;
    CHECK(pth_csv_read("/nonexistent/x.csv", NULL, &t, &e) == PTH_ERR_IO);
    CHECK(strstr(e.msg, "/nonexistent/x.csv") != NULL);
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Random doubles printed at several precisions and styles must parse bit-identically to
 * strtod (both are correctly rounded). */
static void test_numbers_vs_strtod(void)
{
    pth_rng r;
    pth_rng_seed(&r, 2024);
    long mismatches = 0, total = 0;
    char buf[64];
    static const char *fmts[] = {"%.17g", "%.16g", "%.15g", "%.6f", "%.3e", "%.19e", "%.1f", "%g"};
    for (int i = 0; i < 200000; i++) {
        double v;
        uint64_t u = pth_rng_u64(&r);
        if (i % 3 == 0) {
            memcpy(&v, &u, sizeof v); /* any bit pattern */
            if (!isfinite(v))
                continue;
        } else if (i % 3 == 1)
            v = (pth_rng_uniform(&r) - 0.5) * pow(10.0, (double)pth_rng_below(&r, 40) - 20.0);
        else
            v = (double)(int64_t)(u >> pth_rng_below(&r, 64)) * (u & 1 ? 1 : -1);
        const char *f = fmts[i % 8];
        snprintf(buf, sizeof buf, f, v);
        double got = 0, want = strtod(buf, NULL);
        int ok = pth_parse_number(buf, strlen(buf), &got);
        total++;
        if (!ok || bits_of(got) != bits_of(want)) {
            if (mismatches++ < 5)
                fprintf(stderr, "  mismatch on '%s': %.17g vs %.17g\n", buf, got, want);
        }
    }
    CHECK(total > 150000);
    CHECK(mismatches == 0);
    /* Hard cases: halfway points, long mantissas, extremes, subnormals. */
    static const char *hard[] = {"9007199254740993", "9007199254740992.5", "4.9406564584124654e-324",
                                 "2.2250738585072011e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
                                 "1.7976931348623159e308", "1e-400", "1e400", "0.1", "123456789012345678901234567890",
                                 "0.000000000000000000000000000001234567890123456789", "7.038531e-26",
                                 "8.5e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
                                 "1.00000000000000011102230246251565404236316680908203125",
                                 "1.00000000000000011102230246251565404236316680908203124",
                                 "-0", "+.5", "5.", "0e999999999", "1e-99999999999"};
    for (size_t i = 0; i < sizeof hard / sizeof *hard; i++) {
        double got = 0, want = strtod(hard[i], NULL);
        CHECK(pth_parse_number(hard[i], strlen(hard[i]), &got) == 1);
        if (bits_of(got) != bits_of(want))
            fprintf(stderr, "  hard case '%s': %.17g vs %.17g\n", hard[i], got, want);
        CHECK(bits_of(got) == bits_of(want));
    }
    static const char *bad[] = {"", " ", "-", ".", "e5", "1e", "1.2.3", "0x10", "inf", "nan", "1 2", "--1", "1e+"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(pth_parse_number(bad[i], strlen(bad[i]), &v) == 0);
    CHECK(pth_parse_number(" \t-12.5e-1 ", 11, &v) == 1 && v == -1.25);
    CHECK(pth_is_missing(" NaN ", 5) && pth_is_missing("-INF", 4) && pth_is_missing("", 0));
    CHECK(!pth_is_missing("nana", 4) && !pth_is_missing("0", 1));
}

static void test_stream(void)
{
    const char *text = "\xEF\xBB\xBFid\ttext\tlabels\n1\tsay \"hi\"\t3,4\n\n2\tsecond\t\n";
    pth_csv_reader *r;
    pth_error e;
    pth_csv_reader_options o = {.delimiter = '\t', .no_quotes = 1};
    CHECK_OK(pth_csv_open_buffer(&r, text, strlen(text), "go.tsv", &o, &e), &e);
    pth_csv_record rec;
    CHECK_OK(pth_csv_next_record(r, &rec, &e), &e);
    CHECK(rec.n == 3 && strcmp(rec.field[0], "id") == 0 && rec.line == 1);
    CHECK_OK(pth_csv_next_record(r, &rec, &e), &e);
    CHECK(rec.n == 3 && strcmp(rec.field[1], "say \"hi\"") == 0 && strcmp(rec.field[2], "3,4") == 0);
    CHECK_OK(pth_csv_next_record(r, &rec, &e), &e);
    CHECK(rec.n == 3 && rec.line == 4 && rec.len[2] == 0);
    CHECK_OK(pth_csv_next_record(r, &rec, &e), &e);
    CHECK(rec.n == 0);
    pth_csv_close(r);

    /* A file larger than the 1 MiB window, with a quoted field spanning the refill point. */
    const char *dir = pth_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    size_t rows = 40000;
    for (size_t i = 0; i < rows; i++)
        fprintf(fp, "%zu,\"essay %zu, with \"\"quotes\"\"\nand a newline\",%zu\r\n", i, i, i * 7);
    fclose(fp);
    CHECK_OK(pth_csv_open_file(&r, path, NULL, &e), &e);
    size_t n = 0, bad = 0, line = 1;
    while (pth_csv_next_record(r, &rec, &e) == PTH_OK && rec.n > 0) {
        char want[96];
        snprintf(want, sizeof want, "essay %zu, with \"quotes\"\nand a newline", n);
        bad += rec.n != 3 || strcmp(rec.field[1], want) != 0 || (size_t)atol(rec.field[2]) != n * 7 ||
               rec.line != line;
        line += 2;
        n++;
    }
    CHECK(n == rows && bad == 0);
    pth_csv_close(r);
    remove(path);

    /* Errors carry positions. */
    const char *broken = "a,b\nc,\"d\n";
    CHECK_OK(pth_csv_open_buffer(&r, broken, strlen(broken), "b.csv", NULL, &e), &e);
    CHECK_OK(pth_csv_next_record(r, &rec, &e), &e);
    CHECK(pth_csv_next_record(r, &rec, &e) == PTH_ERR_PARSE && strstr(e.msg, "b.csv:2:3: unterminated"));
    pth_csv_close(r);
    const char *latin1 = "caf\xE9\n";
    CHECK_OK(pth_csv_open_buffer(&r, latin1, strlen(latin1), "l.csv", NULL, &e), &e);
    CHECK(pth_csv_next_record(r, &rec, &e) == PTH_ERR_PARSE && strstr(e.msg, "l.csv:1:4: invalid UTF-8"));
    pth_csv_close(r);
    pth_csv_reader_options lax = {.no_utf8_check = 1, .keep_blank_lines = 1};
    CHECK_OK(pth_csv_open_buffer(&r, "x\n\ny", 4, "l.csv", &lax, &e), &e);
    size_t count = 0;
    while (pth_csv_next_record(r, &rec, &e) == PTH_OK && rec.n > 0)
        count++;
    CHECK(count == 3);
    pth_csv_close(r);
}

/* The eight OpenFace files present in the shared data: 565 rows x 710 numeric columns, the
 * first column (frame index) with an empty name. */
static void test_real_files(void)
{
    glob_t g;
    const char *pattern = pth_test_shared("data/hri-empathy/dataset/video_features/*.csv");
    int grc = glob(pattern, 0, NULL, &g);
    CHECK(grc == 0 && g.gl_pathc == 8);
    if (grc != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        pth_table t;
        pth_error e;
        CHECK_OK(pth_csv_read(g.gl_pathv[i], NULL, &t, &e), &e);
        CHECK(t.nrows == 565 && t.ncols == 710);
        CHECK(t.ncols > 2 && strcmp(t.cols[0].name, "") == 0 && strcmp(t.cols[1].name, "gaze_0_x") == 0);
        size_t text_cols = 0;
        for (size_t j = 0; j < t.ncols; j++)
            text_cols += t.cols[j].type != PTH_COL_NUMERIC;
        CHECK(text_cols == 0);
        CHECK(t.nrows > 0 && t.cols[0].num[0] == 0.0 && t.cols[0].num[t.nrows - 1] == 564.0);
        CHECK(t.row_line[0] == 2);
        pth_table_free(&t);
    }
    globfree(&g);
}

/* More rows than one internal row block (rows are copied to the columns in blocks), with a
 * column that turns out to be text late and blank lines in between. */
static void test_many_rows(void)
{
    size_t n = 1000, cap = 64 * 1024;
    char *text = malloc(cap);
    CHECK(text != NULL);
    if (!text)
        return;
    size_t len = (size_t)snprintf(text, cap, "i,name,x\n");
    for (size_t i = 0; i < n; i++) {
        if (i % 100 == 50)
            len += (size_t)snprintf(text + len, cap - len, "\r\n");
        if (i == 777)
            len += (size_t)snprintf(text + len, cap - len, "%zu,\"late, text\",%zu.25\n", i, i);
        else
            len += (size_t)snprintf(text + len, cap - len, "%zu,%zu,%zu.25\n", i, i * 3, i);
    }
    pth_table t;
    pth_error e;
    CHECK_OK(pth_csv_read_buffer(text, len, "many.csv", NULL, &t, &e), &e);
    CHECK(t.nrows == n && t.ncols == 3);
    int ok = t.nrows == n;
    size_t blanks = 0;
    for (size_t i = 0; ok && i < n; i++) {
        blanks += i % 100 == 50;
        ok &= t.cols[0].num[i] == (double)i && t.cols[2].num[i] == (double)i + 0.25;
        ok &= t.row_line[i] == i + 2 + blanks;
        if (i != 777)
            ok &= t.cols[1].num[i] == (double)(i * 3) && atol(t.cols[1].str[i]) == (long)(i * 3);
    }
    CHECK(ok);
    CHECK(t.cols[1].type == PTH_COL_TEXT && isnan(t.cols[1].num[777]));
    CHECK(strcmp(t.cols[1].str[777], "late, text") == 0 && strcmp(t.cols[1].bad_value, "late, text") == 0);
    CHECK(t.cols[1].bad_line == 777 + 2 + 8);
    pth_table_free(&t);
    free(text);
}

/* Row capacity is estimated from the first MiB; a file whose later rows are much shorter
 * must grow the arrays without losing or corrupting rows. */
static void test_row_growth(void)
{
    size_t cap = 3u << 20, len = 0, n_long = 0, n_short = 0;
    char *text = malloc(cap);
    CHECK(text != NULL);
    if (!text)
        return;
    len += (size_t)snprintf(text + len, cap - len, "k,v\n");
    while (len < (1u << 20) + 4096) {
        len += (size_t)snprintf(text + len, cap - len, "%zu,", n_long);
        memset(text + len, 'x', 900);
        len += 900;
        text[len++] = '\n';
        n_long++;
    }
    while (len < (2u << 20))
        len += (size_t)snprintf(text + len, cap - len, "%zu,%zu\n", n_long + n_short, n_short), n_short++;
    pth_table t;
    pth_error e;
    CHECK_OK(pth_csv_read_buffer(text, len, "grow.csv", NULL, &t, &e), &e);
    CHECK(t.nrows == n_long + n_short && n_short > 50000);
    if (t.nrows != n_long + n_short || n_short <= 50000)
        fprintf(stderr, "  rows %zu, long %zu, short %zu\n", t.nrows, n_long, n_short);
    int ok = t.nrows == n_long + n_short;
    for (size_t i = 0; ok && i < t.nrows; i++) {
        ok &= t.cols[0].num[i] == (double)i && t.row_line[i] == i + 2;
        ok &= i < n_long ? strlen(t.cols[1].str[i]) == 900 : atol(t.cols[1].str[i]) == (long)(i - n_long);
    }
    CHECK(ok);
    pth_table_free(&t);
    free(text);
}

int main(void)
{
    test_quoting();
    test_missing();
    test_shapes();
    test_errors();
    test_numbers_vs_strtod();
    test_stream();
    test_many_rows();
    test_row_growth();
    test_real_files();
    return pth_test_finish();
}
