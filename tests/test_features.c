/* Per-recording summary features: statistics against hand/numpy-computed values on tiny
 * in-memory tables, family selection, row filtering (padding, success, confidence), error
 * cases, and an integration run over the 8 real hri-empathy recordings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/features.h"

/* ---- tiny in-memory tables (freed by free_table, independent of the CSV reader) ---- */

static char *dup_s(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

/* rows: nrows x ncols, row-major. */
static pth_table make_table(const char *source, const char *const *names, size_t ncols, const double *rows,
                            size_t nrows)
{
    pth_table t;
    memset(&t, 0, sizeof t);
    t.nrows = nrows;
    t.ncols = ncols;
    t.source = dup_s(source);
    t.cols = calloc(ncols, sizeof *t.cols);
    for (size_t c = 0; c < ncols; c++) {
        t.cols[c].name = dup_s(names[c]);
        t.cols[c].type = PTH_COL_NUMERIC;
        t.cols[c].num = malloc(nrows * sizeof(double));
        for (size_t r = 0; r < nrows; r++)
            t.cols[c].num[r] = rows[r * ncols + c];
    }
    return t;
}

static void free_table(pth_table *t)
{
    for (size_t c = 0; c < t->ncols; c++) {
        free(t->cols[c].name);
        free(t->cols[c].num);
        free(t->cols[c].bad_value);
    }
    free(t->cols);
    free(t->source);
}

static long find_feature(const pth_feature_vector *v, const char *name)
{
    for (size_t j = 0; j < v->d; j++)
        if (!strcmp(v->names[j], name))
            return (long)j;
    return -1;
}

static double feat(const pth_feature_vector *v, const char *name)
{
    long j = find_feature(v, name);
    if (j < 0) {
        fprintf(stderr, "feature %s missing\n", name);
        return -12345.0;
    }
    return v->values[j];
}

/* Table A: one leading all-zero padding row (index column aside), then 5 face rows. */
static const char *const a_names[] = {"", "gaze_angle_x", "pose_Rx", "AU12_r", "AU12_c", "x_0"};
static const double a_rows[] = {
    0, 0,    0,   0,   0, 0,   /* padding */
    1, 0.1,  0.0, 1.5, 1, 300, /* */
    2, 0.3,  0.2, NAN, 0, 302, /* */
    3, -0.2, 0.1, 2.5, 1, 301, /* */
    4, 0.4,  0.0, 0.5, 0, 305, /* */
    5, 0.0,  0.3, 3.0, 1, 299,
};

static void test_statistics(void)
{
    pth_table t = make_table("a.csv", a_names, 6, a_rows, 6);
    pth_feature_options o;
    pth_feature_options_init(&o);
    o.families = PTH_FAM_ALL;
    pth_feature_vector v;
    pth_error err;
    CHECK_OK(pth_features_from_table(&t, &o, &v, &err), &err);
    /* 4 columns x 8 statistics + AU12_c x 9 + n_valid_rows */
    CHECK(v.d == 4 * 8 + 9 + 1);
    CHECK(v.n_rows == 6 && v.n_valid_rows == 5);
    CHECK(!strcmp(v.names[0], "gaze_angle_x__mean"));
    CHECK(!strcmp(v.names[7], "gaze_angle_x__mean_abs_diff"));
    CHECK(!strcmp(v.names[8], "pose_Rx__mean"));
    CHECK(!strcmp(v.names[24 + 8], "AU12_c__frac_active"));
    CHECK(!strcmp(v.names[v.d - 1], "n_valid_rows"));
    CHECK_NEAR(v.values[v.d - 1], 5, 0);
    /* Expected values: numpy 1.x on the 5 face rows (NaN dropped), e.g.
     *   v = np.array([0.1, 0.3, -0.2, 0.4, 0.0]); v.mean(); v.std(); np.percentile(v, 10);
     *   np.abs(np.diff(v)).mean(); (v >= 0.5).mean()
     * printed with %.17g (tests/features_reference.py prints them all). */
    const double tol = 1e-12;
    CHECK_NEAR(feat(&v, "gaze_angle_x__mean"), 0.12, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__std"), 0.21354156504062627, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__min"), -0.2, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__max"), 0.4, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__median"), 0.1, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__p10"), -0.12, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__p90"), 0.36, tol);
    CHECK_NEAR(feat(&v, "gaze_angle_x__mean_abs_diff"), 0.425, tol);
    CHECK_NEAR(feat(&v, "pose_Rx__std"), 0.116619037896906, tol);
    CHECK_NEAR(feat(&v, "pose_Rx__p90"), 0.26, tol);
    CHECK_NEAR(feat(&v, "pose_Rx__mean_abs_diff"), 0.175, tol);
    /* AU12_r has a NaN in row 2: statistics over the 4 others; the first difference
     * bridges the NaN (|2.5-1.5|, |0.5-2.5|, |3.0-0.5| -> 5.5/3). */
    CHECK_NEAR(feat(&v, "AU12_r__mean"), 1.875, tol);
    CHECK_NEAR(feat(&v, "AU12_r__std"), 0.96014321848357598, tol);
    CHECK_NEAR(feat(&v, "AU12_r__median"), 2.0, tol);
    CHECK_NEAR(feat(&v, "AU12_r__p10"), 0.8, tol);
    CHECK_NEAR(feat(&v, "AU12_r__p90"), 2.85, tol);
    CHECK_NEAR(feat(&v, "AU12_r__mean_abs_diff"), 1.8333333333333333, tol);
    CHECK(find_feature(&v, "AU12_r__frac_active") < 0);
    CHECK_NEAR(feat(&v, "AU12_c__mean"), 0.6, tol);
    CHECK_NEAR(feat(&v, "AU12_c__std"), 0.48989794855663565, tol);
    CHECK_NEAR(feat(&v, "AU12_c__frac_active"), 0.6, tol);
    CHECK_NEAR(feat(&v, "x_0__mean"), 301.4, 1e-9);
    CHECK_NEAR(feat(&v, "x_0__std"), 2.0591260281974, 1e-9);
    CHECK_NEAR(feat(&v, "x_0__p10"), 299.4, 1e-9);
    CHECK_NEAR(feat(&v, "x_0__p90"), 303.8, 1e-9);
    CHECK_NEAR(feat(&v, "x_0__mean_abs_diff"), 3.25, 1e-12);
    /* The unnamed index column is never a feature. */
    CHECK(find_feature(&v, "__mean") < 0);
    pth_feature_vector_free(&v);

    /* Default families: gaze, pose, au_r, au_c (no landmarks). */
    CHECK_OK(pth_features_from_table(&t, NULL, &v, &err), &err);
    CHECK(v.d == 3 * 8 + 9 + 1);
    CHECK(find_feature(&v, "x_0__mean") < 0);
    pth_feature_vector_free(&v);
    free_table(&t);
}

static void test_percentile_and_small(void)
{
    double s[] = {1, 2, 3, 4};
    CHECK(isnan(pth_percentile_sorted(s, 0, 0.5)));
    CHECK_NEAR(pth_percentile_sorted(s, 1, 0.9), 1, 0);
    CHECK_NEAR(pth_percentile_sorted(s, 4, 0.5), 2.5, 1e-15);
    CHECK_NEAR(pth_percentile_sorted(s, 4, 0.1), 1.3, 1e-15); /* h = 0.3 */
    CHECK_NEAR(pth_percentile_sorted(s, 4, 1.0), 4, 0);
    /* One value: std 0 (ddof 0), no first difference, all-NaN column -> NaN statistics. */
    double x[] = {NAN, 7, NAN};
    pth_column_stats st;
    pth_error err;
    CHECK_OK(pth_column_stats_compute(x, NULL, 3, &st, &err), &err);
    CHECK(st.n == 1 && st.mean == 7 && st.std == 0 && st.p10 == 7 && isnan(st.mean_abs_diff));
    unsigned char keep[] = {1, 0, 1};
    CHECK_OK(pth_column_stats_compute(x, keep, 3, &st, &err), &err);
    CHECK(st.n == 0 && isnan(st.mean) && isnan(st.std) && isnan(st.max) && isnan(st.frac_active));
    /* Near the double range: the squared deviations overflow -> NaN, never inf; the
     * percentile between -1e308 and 1e308 must not overflow either. */
    double huge[] = {-1e308, 1e308, 1e308};
    CHECK_OK(pth_column_stats_compute(huge, NULL, 3, &st, &err), &err);
    CHECK(isnan(st.std) && isfinite(st.mean) && st.max == 1e308 && st.min == -1e308);
    CHECK(isfinite(st.p10) && st.p10 < 0 && st.median == 1e308);
    CHECK(isnan(st.mean_abs_diff)); /* |1e308 - -1e308| overflows */
    /* numpy's _lerp, bit for bit: np.percentile([0.0, 0.45, 0.76], 90) (numpy 1.24) prints
     * 0.69800000000000006 with %.17g, where the naive a + t*(b-a) gives 0.69799999999999995. */
    double s3[] = {0.0, 0.45, 0.76};
    CHECK(pth_percentile_sorted(s3, 3, 0.9) == 0.69800000000000006);
}

static void test_families(void)
{
    CHECK(pth_feature_family_of("gaze_0_x") == PTH_FAM_GAZE);
    CHECK(pth_feature_family_of("gaze_angle_y") == PTH_FAM_GAZE);
    CHECK(pth_feature_family_of("eye_lmk_X_55") == PTH_FAM_EYE);
    CHECK(pth_feature_family_of("eye_lmk_y_0") == PTH_FAM_EYE);
    CHECK(pth_feature_family_of("pose_Tx") == PTH_FAM_POSE);
    CHECK(pth_feature_family_of("pose_Rz") == PTH_FAM_POSE);
    CHECK(pth_feature_family_of("pose_Tq") == 0);
    CHECK(pth_feature_family_of("pose_T") == 0);
    CHECK(pth_feature_family_of("AU01_r") == PTH_FAM_AU_R);
    CHECK(pth_feature_family_of("AU28_c") == PTH_FAM_AU_C);
    CHECK(pth_feature_family_of("AU_r") == 0);
    CHECK(pth_feature_family_of("AU12_rr") == 0);
    CHECK(pth_feature_family_of("x_67") == PTH_FAM_LANDMARKS2D);
    CHECK(pth_feature_family_of("y_0") == PTH_FAM_LANDMARKS2D);
    CHECK(pth_feature_family_of("Z_12") == PTH_FAM_LANDMARKS3D);
    CHECK(pth_feature_family_of("x_") == 0);
    CHECK(pth_feature_family_of("x_1a") == 0);
    CHECK(pth_feature_family_of("p_scale") == PTH_FAM_PDM);
    CHECK(pth_feature_family_of("p_ty") == PTH_FAM_PDM);
    CHECK(pth_feature_family_of("p_33") == PTH_FAM_PDM);
    const char *meta[] = {"", "frame", "face_id", "timestamp", "confidence", "success", "label"};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        CHECK(pth_feature_family_of(meta[i]) == 0);
    CHECK(!strcmp(pth_feature_family_name(PTH_FAM_LANDMARKS3D), "landmarks3d"));

    unsigned f = 0;
    pth_error err;
    CHECK_OK(pth_feature_families_parse(" gaze, pose ,", &f, &err), &err);
    CHECK(f == (PTH_FAM_GAZE | PTH_FAM_POSE));
    CHECK_OK(pth_feature_families_parse("all", &f, &err), &err);
    CHECK(f == PTH_FAM_ALL);
    CHECK_OK(pth_feature_families_parse("default,eye", &f, &err), &err);
    CHECK(f == (PTH_FAM_DEFAULT | PTH_FAM_EYE));
    CHECK(pth_feature_families_parse("gaze,bogus", &f, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "'bogus'") != NULL);
    CHECK(pth_feature_families_parse(" , ", &f, &err) == PTH_ERR_INVALID);

    /* Selecting only landmarks2d from table A leaves x_0; selecting eye finds nothing. */
    pth_table t = make_table("a.csv", a_names, 6, a_rows, 6);
    pth_feature_options o;
    pth_feature_options_init(&o);
    o.families = PTH_FAM_LANDMARKS2D;
    pth_feature_vector v;
    CHECK_OK(pth_features_from_table(&t, &o, &v, &err), &err);
    CHECK(v.d == 9 && !strcmp(v.names[0], "x_0__mean"));
    pth_feature_vector_free(&v);
    o.families = PTH_FAM_EYE;
    CHECK(pth_features_from_table(&t, &o, &v, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "a.csv") && strstr(err.msg, "selected feature families"));
    CHECK(v.d == 0 && v.values == NULL);
    free_table(&t);
}

static void test_success_confidence(void)
{
    /* Real OpenFace layout: frame, face_id, timestamp, confidence, success, features. */
    static const char *const names[] = {"frame", "face_id", "timestamp", "confidence", "success", "AU12_r", "gaze_0_x"};
    static const double rows[] = {
        1, 0, 0.00, 0.98, 1, 1.0, 0.1, /* kept */
        2, 0, 0.04, 0.98, 0, 2.0, 0.1, /* success 0 */
        3, 0, 0.08, 0.50, 1, 3.0, 0.1, /* low confidence */
        4, 0, 0.12, NAN,  1, 4.0, 0.1, /* NaN confidence */
        5, 0, 0.16, 0.80, 1, 5.0, 0.1, /* kept */
        6, 0, 0.20, 0.99, 1, 0.0, 0.0, /* all features zero: no face */
    };
    pth_table t = make_table("oface.csv", names, 7, rows, 6);
    pth_feature_options o;
    pth_feature_options_init(&o);
    CHECK_NEAR(o.min_confidence, 0.75, 0);
    unsigned char keep[6];
    size_t nv = 0;
    pth_error err;
    CHECK_OK(pth_features_valid_rows(&t, &o, keep, &nv, &err), &err);
    CHECK(nv == 2 && keep[0] && !keep[1] && !keep[2] && !keep[3] && keep[4] && !keep[5]);
    pth_feature_vector v;
    CHECK_OK(pth_features_from_table(&t, &o, &v, &err), &err);
    CHECK_NEAR(feat(&v, "AU12_r__mean"), 3.0, 1e-15);
    CHECK_NEAR(feat(&v, "n_valid_rows"), 2, 0);
    /* The metadata columns are not features. */
    CHECK(find_feature(&v, "confidence__mean") < 0 && find_feature(&v, "frame__mean") < 0);
    pth_feature_vector_free(&v);
    /* A lower threshold lets row 3 (confidence 0.5) in. */
    o.min_confidence = 0.4;
    CHECK_OK(pth_features_from_table(&t, &o, &v, &err), &err);
    CHECK_NEAR(feat(&v, "AU12_r__mean"), 3.0, 1e-15); /* (1+3+5)/3 */
    CHECK_NEAR(feat(&v, "n_valid_rows"), 3, 0);
    pth_feature_vector_free(&v);
    free_table(&t);
}

static void test_errors(void)
{
    pth_error err;
    pth_feature_vector v;
    /* Only padding rows: error naming the file. */
    static const double zeros[] = {0, 0, 0, 0, 1, 0, 0, 0, 2, 0, NAN, 0}; /* index column is not a feature */
    static const char *const names[] = {"", "gaze_0_x", "AU12_r", "AU12_c"};
    pth_table t = make_table("dir/empty_rec.csv", names, 4, zeros, 3);
    CHECK(pth_features_from_table(&t, NULL, &v, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "dir/empty_rec.csv") && strstr(err.msg, "no valid rows"));
    CHECK(v.d == 0 && v.names == NULL);
    free_table(&t);

    /* No OpenFace columns at all. */
    static const char *const other[] = {"a", "b"};
    static const double ab[] = {1, 2};
    t = make_table("x.csv", other, 2, ab, 1);
    CHECK(pth_features_from_table(&t, NULL, &v, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "x.csv") != NULL);
    free_table(&t);

    /* A text cell in a selected feature column: file:line:column and the bad text. */
    static const double one[] = {1, 0.5, 0.5, 1};
    t = make_table("bad.csv", names, 4, one, 1);
    t.cols[2].type = PTH_COL_TEXT;
    t.cols[2].bad_line = 7;
    t.cols[2].bad_value = dup_s("abc");
    CHECK(pth_features_from_table(&t, NULL, &v, &err) == PTH_ERR_PARSE);
    CHECK(strstr(err.msg, "bad.csv:7:3") && strstr(err.msg, "AU12_r") && strstr(err.msg, "'abc'"));
    free_table(&t);

    /* A column that is NaN in every valid row gives NaN features, not an error. */
    static const double nanrows[] = {0, 0.5, NAN, 1, 1, 0.7, NAN, 0};
    t = make_table("nan.csv", names, 4, nanrows, 2);
    CHECK_OK(pth_features_from_table(&t, NULL, &v, &err), &err);
    CHECK(isnan(feat(&v, "AU12_r__mean")) && isnan(feat(&v, "AU12_r__p90")));
    CHECK_NEAR(feat(&v, "gaze_0_x__mean"), 0.6, 1e-15);
    CHECK_NEAR(feat(&v, "AU12_c__frac_active"), 0.5, 0);
    pth_feature_vector_free(&v);
    free_table(&t);
}

/* ---- the 8 real recordings ---- */

typedef struct {
    const char *file;
    size_t n_valid;
    double au12_mean, gaze_x_p90, pose_rx_std, au45_frac, au06_mad;
} real_ref;

/* Reference values from pandas / numpy 1.24 (independent of pathos; tests/features_reference.py
 * regenerates them):
 *   d = pd.read_csv(f, index_col=0, float_precision='round_trip')  # correctly rounded parse
 *   d.columns = [c.strip() for c in d.columns]
 *   v = d[(d != 0).any(axis=1)]
 *   len(v), v.AU12_r.mean(), np.percentile(v.gaze_angle_x, 90), v.pose_Rx.std(ddof=0),
 *   (v.AU45_c >= 0.5).mean(), np.abs(np.diff(v.AU06_r)).mean()
 * The valid-row counts agree with SOURCE.md (266-291 non-zero rows per file).  (pandas'
 * default fast float parser is off by an ulp on some cells; round_trip is exact, so the
 * percentile, a pure order statistic + numpy lerp, can be compared bit for bit.) */
static const real_ref real[] = {
    {"averaged_13_2020_03_03_3_first.csv", 291, 0.0029252577319587632, 0.33237500000000003,
     0.13867449443309582, 0.14089347079037801, 0.0031954022988505749},
    {"averaged_22_2020_03_08_1_first.csv", 273, 0.0052289377289377282, 0.2512416666666667,
     0.02912899071302515, 0, 0.0047518382352941179},
    {"averaged_27_2020_03_10_3_third.csv", 283, 0.076542991755005896, 0.43249166666666666,
     0.066405108125765042, 0.042402826855123678, 0.06899822695035461},
    {"averaged_31_2020_03_05_3_first.csv", 277, 0.012695155130016221, 0.3133333333333333,
     0.17244099907643468, 0.093862815884476536, 0.025075680004200799},
    {"averaged_47_2020_03_07_3_first.csv", 290, 0.093987881059470257, 0.201325,
     0.040459217428980322, 0.22758620689655173, 0.056137229827992581},
    {"averaged_50_2020_03_07_3_first.csv", 275, 0.0003810276679841897, 0.2457333333333333,
     0.01290576505047041, 0, 0.013133000105786524},
    {"averaged_53_2020_03_08_2_first.csv", 266, 0.11314747466492317, 0.23277083333333332,
     0.1417092679100215, 0.10150375939849623, 0.11795153130981682},
    {"averaged_73_2020_03_09_3_third.csv", 287, 0.0067755516840882699, 0.33493333333333342,
     0.11388122414458922, 0.18466898954703834, 0.0034498834498834494},
};
#define N_REAL (sizeof real / sizeof real[0])

static void real_path(size_t i, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", pth_test_shared("data/hri-empathy/dataset/video_features"), real[i].file);
}

static void progress_count(size_t done, size_t total, const char *path, void *user)
{
    (void)path;
    size_t *calls = user;
    if (done >= 1 && done <= total)
        (*calls)++;
}

static void test_real_recordings(void)
{
    char paths_buf[N_REAL][4096];
    const char *paths[N_REAL];
    const char *subjects[N_REAL];
    int labels[N_REAL];
    for (size_t i = 0; i < N_REAL; i++) {
        real_path(i, paths_buf[i], sizeof paths_buf[i]);
        paths[i] = paths_buf[i];
        subjects[i] = real[i].file + 9; /* "13_2020_..." */
        labels[i] = (int)(i % 2);
    }
    if (!pth_test_file_exists(paths[0])) {
        fprintf(stderr, "real recordings not found: %s (set PATHOS_SHARED_DIR)\n", paths[0]);
        CHECK(0);
        return;
    }
    pth_error err;
    for (size_t i = 0; i < N_REAL; i++) {
        pth_feature_vector v;
        CHECK_OK(pth_features_from_file(paths[i], NULL, &v, &err), &err);
        if (v.d == 0)
            continue;
        CHECK(v.n_rows == 565);
        CHECK(v.n_valid_rows == real[i].n_valid);
        /* 8 gaze + 6 pose + 17 AU_r columns x 8 statistics, 18 AU_c x 9, n_valid_rows */
        CHECK(v.d == 31 * 8 + 18 * 9 + 1);
        int finite = 1;
        for (size_t j = 0; j < v.d; j++)
            finite &= isfinite(v.values[j]) != 0;
        CHECK(finite);
        CHECK_NEAR(feat(&v, "AU12_r__mean"), real[i].au12_mean, 1e-12);
        CHECK_NEAR(feat(&v, "gaze_angle_x__p90"), real[i].gaze_x_p90, 0); /* bit-exact: numpy _lerp */
        CHECK_NEAR(feat(&v, "pose_Rx__std"), real[i].pose_rx_std, 1e-12);
        CHECK_NEAR(feat(&v, "AU45_c__frac_active"), real[i].au45_frac, 1e-12);
        CHECK_NEAR(feat(&v, "AU06_r__mean_abs_diff"), real[i].au06_mad, 1e-12);
        pth_feature_vector_free(&v);
    }

    /* Batch over the first 3 (4 MB each, keep the test fast): all families, 1 vs 2 threads
     * give identical datasets in input order; a missing file is an error, or skipped with
     * skip_missing. */
    const size_t nb = 3;
    pth_feature_options o;
    pth_feature_options_init(&o);
    o.families = PTH_FAM_ALL;
    size_t calls = 0, skipped = 99;
    o.progress = progress_count;
    o.progress_user = &calls;
    pth_dataset a, b;
    CHECK_OK(pth_features_from_paths(paths, NULL, subjects, labels, nb, 2, &o, &a, &skipped, &err), &err);
    CHECK(calls == nb && skipped == 0);
    CHECK(a.n == nb && a.d == (8 + 280 + 6 + 340 + 40 + 17) * 8 + 18 * 9 + 1);
    CHECK(a.n_classes == 2 && a.y[1] == 1 && !strcmp(a.subject[2], subjects[2]) && !strcmp(a.record_id[2], paths[2]));
    o.threads = 2;
    o.progress = NULL;
    CHECK_OK(pth_features_from_paths(paths, NULL, subjects, labels, nb, 2, &o, &b, NULL, &err), &err);
    CHECK(b.n == a.n && b.d == a.d && !memcmp(a.X, b.X, a.n * a.d * sizeof(double)));
    int finite = 1;
    for (size_t k = 0; k < a.n * a.d; k++)
        finite &= isfinite(a.X[k]) != 0;
    CHECK(finite);
    pth_dataset_free(&a);
    pth_dataset_free(&b);

    /* [real 0, missing, real 1] */
    const char *mp[3] = {paths[0], "/nonexistent/averaged_0.csv", paths[1]};
    const char *ms[3] = {"13", "0", "22"};
    const int ml[3] = {0, 1, 1};
    o.families = PTH_FAM_DEFAULT;
    CHECK(pth_features_from_paths(mp, NULL, ms, ml, 3, 2, &o, &a, NULL, &err) == PTH_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/averaged_0.csv") != NULL);
    o.skip_missing = 1;
    CHECK_OK(pth_features_from_paths(mp, NULL, ms, ml, 3, 2, &o, &a, &skipped, &err), &err);
    CHECK(a.n == 2 && skipped == 1 && !strcmp(a.subject[1], "22") && a.y[1] == 1);
    pth_dataset_free(&a);
}

int main(void)
{
    test_statistics();
    test_percentile_and_small();
    test_families();
    test_success_confidence();
    test_errors();
    test_real_recordings();
    return pth_test_finish();
}
