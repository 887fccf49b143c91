/* Synthetic dataset generator: determinism, exact real-file format, manifest shape and
 * balance, planted structure (label signal, subject confound), option validation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/features.h"
#include "pathos/io.h"
#include "pathos/manifest.h"
#include "pathos/synth.h"
#include "pathos/table.h"

#define ROWS 12 /* small files keep the test fast; the format does not depend on it */

static int same_file(const char *a, const char *b)
{
    char *x, *y;
    size_t nx, ny;
    pth_error err;
    if (pth_read_file(a, 1 << 26, &x, &nx, &err))
        return 0;
    if (pth_read_file(b, 1 << 26, &y, &ny, &err)) {
        free(x);
        return 0;
    }
    int same = nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

static void gen(const char *dir, uint64_t seed, double signal)
{
    pth_synth_options o;
    pth_synth_options_init(&o);
    o.seed = seed;
    o.n_rows = ROWS;
    o.signal = signal;
    pth_error err;
    CHECK_OK(pth_synth_write(dir, &o, &err), &err);
}

static void path_in(char *buf, size_t n, const char *dir, const char *rel)
{
    snprintf(buf, n, "%s/%s", dir, rel);
}

static void test_defaults_and_errors(void)
{
    pth_synth_options o;
    pth_synth_options_init(&o);
    CHECK(o.seed == 1 && o.n_subjects == 42 && o.n_recordings == 3 && o.n_rows == 60);
    CHECK(o.signal == 1.0 && o.subject_label_prob == 0.9);
    CHECK(pth_synth_n_columns() == 709);
    char name[32];
    pth_synth_column_name(0, name, sizeof name);
    CHECK(!strcmp(name, "gaze_0_x"));
    pth_synth_column_name(708, name, sizeof name);
    CHECK(!strcmp(name, "AU45_c"));
    pth_error err;
    char dir[4096];
    path_in(dir, sizeof dir, pth_test_tmpdir(), "bad");
    o.n_subjects = 0;
    CHECK(pth_synth_write(dir, &o, &err) == PTH_ERR_INVALID && strstr(err.msg, "subjects"));
    o.n_subjects = 4;
    o.subject_label_prob = 1.5;
    CHECK(pth_synth_write(dir, &o, &err) == PTH_ERR_INVALID && strstr(err.msg, "probability"));
    o.subject_label_prob = 0.9;
    o.signal = NAN;
    CHECK(pth_synth_write(dir, &o, &err) == PTH_ERR_INVALID);
    CHECK(!pth_test_file_exists(dir));
    /* An output "directory" that is a file. */
    o.signal = 1;
    char file[4200];
    path_in(file, sizeof file, pth_test_tmpdir(), "plainfile");
    FILE *fp = fopen(file, "w");
    fclose(fp);
    CHECK(pth_synth_write(file, &o, &err) == PTH_ERR_IO);

    /* A recording that cannot be written (a directory sits at its path): an error naming
     * it, and no manifest, so nothing points at a missing recording. */
    char blocked[4200], manifest[4200];
    path_in(dir, sizeof dir, pth_test_tmpdir(), "blocked");
    path_in(blocked, sizeof blocked, dir, "video_features/synth_s03_story2.csv");
    path_in(manifest, sizeof manifest, dir, "manifest.csv");
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", blocked);
    CHECK(pth_test_run(cmd) == 0);
    o.n_subjects = 4;
    o.n_rows = 5;
    CHECK(pth_synth_write(dir, &o, &err) == PTH_ERR_IO && strstr(err.msg, "synth_s03_story2.csv"));
    CHECK(!pth_test_file_exists(manifest));
}

static void test_determinism(const char *a)
{
    char b[4096], c[4096];
    path_in(b, sizeof b, pth_test_tmpdir(), "b");
    path_in(c, sizeof c, pth_test_tmpdir(), "c");
    gen(b, 5, 1.0);
    gen(c, 6, 1.0);
    int all_same = 1, any_diff_c = 0;
    const char *files[] = {"manifest.csv", "README.txt", "video_features/synth_s01_story1.csv",
                           "video_features/synth_s42_story3.csv", "video_features/synth_s17_story2.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char pa[4200], pb[4200], pc[4200];
        path_in(pa, sizeof pa, a, files[i]);
        path_in(pb, sizeof pb, b, files[i]);
        path_in(pc, sizeof pc, c, files[i]);
        all_same &= same_file(pa, pb);
        if (i >= 2)
            any_diff_c |= !same_file(pa, pc);
    }
    CHECK(all_same);
    CHECK(any_diff_c);
}

/* The header line of a generated CSV equals that of a real hri-empathy file byte for byte. */
static void test_header(const char *dir)
{
    const char *real = pth_test_shared("data/hri-empathy/dataset/video_features/averaged_13_2020_03_03_3_first.csv");
    char gen_path[4200];
    path_in(gen_path, sizeof gen_path, dir, "video_features/synth_s01_story1.csv");
    char *x, *y;
    size_t nx, ny;
    pth_error err;
    CHECK_OK(pth_read_file(real, 1 << 24, &x, &nx, &err), &err);
    CHECK_OK(pth_read_file(gen_path, 1 << 24, &y, &ny, &err), &err);
    if (!x || !y)
        return;
    char *ex = strchr(x, '\n'), *ey = strchr(y, '\n');
    CHECK(ex && ey && ex - x == ey - y && !memcmp(x, y, (size_t)(ex - x)));
    free(x);
    free(y);
}

/* Each recording: 710 columns, ROWS rows, index 0..n-1, leading all-zero padding and none
 * after the first face row, presence columns in multiples of 1/24. */
static void check_recording(const char *path)
{
    pth_table t;
    pth_error err;
    int rc = pth_csv_read(path, NULL, &t, &err);
    CHECK_OK(rc, &err);
    if (rc)
        return;
    CHECK(t.ncols == 710 && t.nrows == ROWS && !strcmp(t.cols[0].name, ""));
    size_t first_face = t.nrows, zero_after = 0, bad_c = 0, bad_index = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        int nonzero = 0;
        bad_index += t.cols[0].num[r] != (double)r;
        for (size_t c = 1; c < t.ncols; c++) {
            double v = t.cols[c].num[r];
            nonzero |= v != 0;
            if (pth_feature_family_of(t.cols[c].name) == PTH_FAM_AU_C)
                bad_c += fabs(v * 24 - floor(v * 24 + 0.5)) > 0.01 || v < 0 || v > 1;
        }
        if (nonzero && first_face == t.nrows)
            first_face = r;
        zero_after += !nonzero && first_face < r;
    }
    CHECK(first_face >= 3 && first_face <= ROWS - 2); /* 45-53% padding, >= 2 face rows */
    CHECK(zero_after == 0 && bad_c == 0 && bad_index == 0);
    pth_table_free(&t);
}

static double group_mean_diff(const pth_dataset *ds, const char *feature)
{
    long j = -1;
    for (size_t k = 0; k < ds->d; k++)
        if (!strcmp(ds->feature_names[k], feature))
            j = (long)k;
    if (j < 0)
        return NAN;
    double s[2] = {0, 0};
    size_t n[2] = {0, 0};
    for (size_t i = 0; i < ds->n; i++) {
        s[ds->y[i]] += ds->X[i * ds->d + (size_t)j];
        n[ds->y[i]]++;
    }
    return s[1] / (double)n[1] - s[0] / (double)n[0];
}

/* Reads the manifest back, checks its shape and balance, extracts features. */
static void test_manifest_and_features(const char *dir, double signal, pth_dataset *ds)
{
    char mpath[4200];
    path_in(mpath, sizeof mpath, dir, "manifest.csv");
    pth_manifest_options mo = {0};
    mo.missing = PTH_MISSING_ERROR;
    pth_manifest m;
    pth_error err;
    int rc = pth_manifest_read(mpath, &mo, &m, &err);
    CHECK_OK(rc, &err);
    if (rc)
        return;
    CHECK(m.n == 126 && m.n_classes == 2);
    size_t ones = 0;
    for (size_t i = 0; i < m.n; i++)
        ones += m.label[i] == 1;
    CHECK(ones == 63);
    CHECK(!strcmp(m.subject[0], "s01") && !strcmp(m.subject[125], "s42"));
    CHECK(!strcmp(m.record_id[4], "video_features/synth_s02_story2.csv"));
    const char *story = pth_manifest_extra(&m, 5, "story_id");
    CHECK(story && !strcmp(story, "3"));
    /* Propensity: most of a subject's recordings share a label. */
    size_t unanimous = 0;
    for (size_t s = 0; s < 42; s++)
        unanimous += m.label[3 * s] == m.label[3 * s + 1] && m.label[3 * s] == m.label[3 * s + 2];
    CHECK(unanimous >= 25);
    if (signal > 0) {
        check_recording(m.path[0]);
        check_recording(m.path[125]);
    }
    pth_feature_options fo;
    pth_feature_options_init(&fo);
    fo.threads = 2;
    CHECK_OK(pth_features_from_manifest(&m, &fo, ds, NULL, &err), &err);
    pth_manifest_free(&m);
    int finite = 1;
    for (size_t k = 0; k < ds->n * ds->d; k++)
        finite &= isfinite(ds->X[k]) != 0;
    CHECK(ds->n == 126 && finite);
}

/* Label 1 raises AU06_r/AU12_r/AU25_r by 1.2 between-subject sd (0.15) = 0.18 per unit of
 * signal; subject offsets (sd 0.15, about 21 subjects per side) blur the group means by
 * roughly 0.05, so 0.1 separates "planted" from "absent" at this fixed seed. */
static void test_planted(const pth_dataset *with, const pth_dataset *without)
{
    CHECK(group_mean_diff(with, "AU06_r__mean") > 0.1);
    CHECK(group_mean_diff(with, "AU12_r__mean") > 0.1);
    CHECK(fabs(group_mean_diff(without, "AU06_r__mean")) < 0.1);
    CHECK(fabs(group_mean_diff(without, "AU12_r__mean")) < 0.1);
    /* Subject confound: pose_Tz__mean varies far more between subjects than within. */
    long j = -1;
    for (size_t k = 0; k < with->d; k++)
        if (!strcmp(with->feature_names[k], "pose_Tz__mean"))
            j = (long)k;
    CHECK(j >= 0);
    if (j < 0)
        return;
    double within = 0, all = 0, grand = 0;
    for (size_t i = 0; i < with->n; i++)
        grand += with->X[i * with->d + (size_t)j] / (double)with->n;
    for (size_t s = 0; s < 42; s++) {
        double m = 0;
        for (size_t r = 0; r < 3; r++)
            m += with->X[(3 * s + r) * with->d + (size_t)j] / 3;
        for (size_t r = 0; r < 3; r++) {
            double v = with->X[(3 * s + r) * with->d + (size_t)j];
            within += (v - m) * (v - m);
            all += (v - grand) * (v - grand);
        }
    }
    CHECK(within < 0.2 * all);
}

int main(void)
{
    char a[4096], z[4096];
    path_in(a, sizeof a, pth_test_tmpdir(), "a/nested");
    path_in(z, sizeof z, pth_test_tmpdir(), "zero");
    test_defaults_and_errors();
    gen(a, 5, 1.0);
    gen(z, 5, 0.0);
    test_determinism(a);
    test_header(a);
    pth_dataset with, without;
    memset(&with, 0, sizeof with);
    memset(&without, 0, sizeof without);
    test_manifest_and_features(a, 1.0, &with);
    test_manifest_and_features(z, 0.0, &without);
    if (with.n && without.n)
        test_planted(&with, &without);
    pth_dataset_free(&with);
    pth_dataset_free(&without);
    /* Clean up the generated files (a few MB). */
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/a '%s'/b '%s'/c '%s'/zero '%s'/plainfile '%s'/blocked",
             pth_test_tmpdir(), pth_test_tmpdir(), pth_test_tmpdir(), pth_test_tmpdir(), pth_test_tmpdir(),
             pth_test_tmpdir());
    (void)pth_test_run(cmd);
    return pth_test_finish();
}
