/* Fuzz target for per-recording feature extraction: any CSV the table reader accepts goes
 * through the row filter and the statistics under two option sets.  Besides memory safety
 * it asserts the extractor's invariants: names and values line up, every value is finite or
 * NaN (never inf), the order statistics are ordered (min <= p10 <= median <= p90 <= max),
 * std and mean_abs_diff are >= 0, fractions lie in [0, 1], n_valid_rows <= rows, and an
 * error always comes with a message. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/features.h"
#include "pathos/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "features invariant broken: %s (%s)\n", what, name ? name : "?");
    abort();
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* The statistics of one column sit at v[j..j+7] in the documented order. */
static void check_column(const pth_feature_vector *v, size_t j)
{
    const double *x = v->values + j;
    const char *name = v->names[j];
    if (!ends_with(name, "__mean") || !ends_with(v->names[j + 7], "__mean_abs_diff"))
        fail("statistic order", name);
    if (isnan(x[2]))
        return; /* no values: min is NaN, everything derived from the order is too */
    /* min, max, median, p10, p90 */
    double mn = x[2], mx = x[3], med = x[4], p10 = x[5], p90 = x[6];
    if (!(mn <= p10 && p10 <= med && med <= p90 && p90 <= mx)) {
        fprintf(stderr, "min %.17g p10 %.17g median %.17g p90 %.17g max %.17g\n", mn, p10, med, p90, mx);
        fail("order statistics out of order", name);
    }
    if (!isnan(x[1]) && !(x[1] >= 0))
        fail("negative std", name);
    if (!isnan(x[7]) && !(x[7] >= 0))
        fail("negative mean_abs_diff", name);
}

static void check_vector(const pth_feature_vector *v)
{
    if (v->d < 2 || !v->names || !v->values || strcmp(v->names[v->d - 1], "n_valid_rows"))
        fail("layout", NULL);
    if (v->n_valid_rows == 0 || v->n_valid_rows > v->n_rows || v->values[v->d - 1] != (double)v->n_valid_rows)
        fail("n_valid_rows", NULL);
    for (size_t j = 0; j < v->d; j++) {
        if (!v->names[j])
            fail("NULL name", NULL);
        if (isinf(v->values[j]))
            fail("infinite value", v->names[j]);
        if (ends_with(v->names[j], "__frac_active") && (v->values[j] < 0 || v->values[j] > 1))
            fail("fraction outside [0, 1]", v->names[j]);
        if (ends_with(v->names[j], "__mean"))
            check_column(v, j);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pth_table t;
    pth_error e;
    if (pth_csv_read_buffer((const char *)data, size, "fuzz.csv", NULL, &t, &e) != PTH_OK)
        return 0;
    pth_feature_options o;
    pth_feature_options_init(&o);
    for (int k = 0; k < 2; k++) {
        o.families = k == 0 ? PTH_FAM_DEFAULT : PTH_FAM_ALL;
        o.min_confidence = k == 0 ? 0.75 : -1;
        pth_feature_vector v;
        pth_error_clear(&e);
        int rc = pth_features_from_table(&t, &o, &v, &e);
        if (rc == PTH_OK)
            check_vector(&v);
        else if (!e.msg[0] || v.d != 0 || v.values || v.names)
            fail("error without message or with output", NULL);
        pth_feature_vector_free(&v);
    }
    pth_table_free(&t);
    return 0;
}
