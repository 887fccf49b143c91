/* Manifests (real file_index.csv and synthetic ones) and feature tables <-> datasets. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/featuretable.h"
#include "pathos/manifest.h"
#include "pathos/rng.h"
#include "pathos/table.h"

static const char *write_tmp(const char *name, const char *text)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", pth_test_tmpdir(), name);
    FILE *fp = fopen(p, "wb");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    return p;
}

static void test_real_index(void)
{
    char index[1024], root[1024];
    snprintf(index, sizeof index, "%s", pth_test_shared("data/hri-empathy/derived/file_index.csv"));
    snprintf(root, sizeof root, "%s", pth_test_shared("data/hri-empathy"));
    pth_manifest_options o = {.path_col = "path", .subject_col = "participant_id",
                              .label_col = "empathy_binary", .root = root, .missing = PTH_MISSING_SKIP};
    pth_manifest m;
    pth_error e;
    CHECK_OK(pth_manifest_read(index, &o, &m, &e), &e);
    CHECK(m.n == 8 && m.n_skipped == 114 && m.n_classes == 2);
    int ok = 1;
    for (size_t i = 0; i < m.n; i++) {
        const char *present = pth_manifest_extra(&m, i, "present_here");
        ok &= present && strcmp(present, "1") == 0;
        ok &= m.label[i] == 0 || m.label[i] == 1;
        ok &= strncmp(m.record_id[i], "dataset/video_features/averaged_", 32) == 0;
        ok &= strncmp(m.path[i], root, strlen(root)) == 0;
        FILE *fp = fopen(m.path[i], "rb");
        ok &= fp != NULL;
        if (fp)
            fclose(fp);
    }
    CHECK(ok);
    CHECK(m.n_extra == 5 && strcmp(m.extra_names[0], "session_date") == 0);
    CHECK(pth_manifest_extra(&m, 0, "nope") == NULL);
    /* averaged_13_2020_03_03_3_first.csv is participant 13 (CRLF file: no stray '\r'). */
    int found13 = 0;
    for (size_t i = 0; i < m.n; i++)
        found13 |= strcmp(m.subject[i], "13") == 0 && strstr(m.record_id[i], "averaged_13_") != NULL;
    CHECK(found13);
    pth_manifest_free(&m);

    /* Default root is the manifest's own directory (derived/), where none of them lie. */
    o.root = NULL;
    CHECK_OK(pth_manifest_read(index, &o, &m, &e), &e);
    CHECK(m.n == 0 && m.n_skipped == 122 && m.n_classes == 0);
    pth_manifest_free(&m);
    /* Keeping missing files keeps all 122; requiring them fails on the first, by line. */
    o.root = root;
    o.missing = PTH_MISSING_KEEP;
    CHECK_OK(pth_manifest_read(index, &o, &m, &e), &e);
    CHECK(m.n == 122 && m.line[0] == 2 && m.line[121] == 123);
    pth_manifest_free(&m);
    o.missing = PTH_MISSING_ERROR;
    CHECK(pth_manifest_read(index, &o, &m, &e) == PTH_ERR_IO);
    CHECK(strstr(e.msg, "file_index.csv:2: file '") && strstr(e.msg, "averaged_1_2020_03_02_1_first.csv"));
}

static void expect_invalid(const char *text, const pth_manifest_options *o, const char *want)
{
    const char *p = write_tmp("bad.csv", text);
    pth_manifest m;
    pth_error e = {0};
    int rc = pth_manifest_read(p, o, &m, &e);
    CHECK(rc != 0 && strstr(e.msg, want) != NULL);
    if (rc && !strstr(e.msg, want))
        fprintf(stderr, "  message '%s' lacks '%s'\n", e.msg, want);
    if (!rc)
        pth_manifest_free(&m);
}

static void test_synthetic(void)
{
    const char *p = write_tmp("m.csv", "path, subject, label,note\n"
                                       "a.csv, s1 ,1,\"x, y\"\n"
                                       "/abs/b.csv,s2,,\n"
                                       " c.csv,007,0,z\n");
    pth_manifest m;
    pth_error e;
    CHECK_OK(pth_manifest_read(p, NULL, &m, &e), &e);
    CHECK(m.n == 3 && m.n_classes == 2 && m.n_extra == 1);
    CHECK(m.label[0] == 1 && m.label[1] == -1 && m.label[2] == 0);
    CHECK(strcmp(m.subject[2], "007") == 0 && strcmp(m.extra[0], "x, y") == 0);
    CHECK(strcmp(m.subject[0], "s1") == 0 && strcmp(m.record_id[2], "c.csv") == 0); /* blanks trimmed */
    CHECK(strcmp(m.path[1], "/abs/b.csv") == 0);
    char want[600];
    snprintf(want, sizeof want, "%s/a.csv", pth_test_tmpdir());
    CHECK(strcmp(m.path[0], want) == 0 && strcmp(m.record_id[0], "a.csv") == 0);
    pth_manifest_free(&m);

    expect_invalid("path,subject,label\na,s,1.5\n", NULL,
                   "bad.csv:2: column 'label' (field 3): label '1.5' is not a non-negative integer");
    expect_invalid("path,subject,label\na,s,1\nb,s,-1\n", NULL, "bad.csv:3: column 'label' (field 3): label '-1'");
    expect_invalid("path,subject,label\na,s,yes\n", NULL, "label 'yes'");
    pth_manifest_options two = {.n_classes = 2};
    expect_invalid("path,subject,label\na,s,2\n", &two, "label '2' is not an integer in 0..1");
    expect_invalid("path,subject\na,s\n", NULL, "no label column 'label'");
    expect_invalid("file,subject,label\na,s,1\n", NULL, "no path column 'path'");
    expect_invalid("path,subject,label\na,,1\n", NULL, "bad.csv:2: column 'subject': empty subject");
    expect_invalid("path,subject,label\n,s,1\n", NULL, "bad.csv:2: column 'path': empty path");

    pth_manifest_options nolab = {.label_optional = 1, .root = "/data"};
    p = write_tmp("p.csv", "path,subject\nx.csv,s\n");
    CHECK_OK(pth_manifest_read(p, &nolab, &m, &e), &e);
    CHECK(m.n == 1 && m.label[0] == -1 && m.n_classes == 0 && strcmp(m.path[0], "/data/x.csv") == 0);
    pth_manifest_free(&m);
}

static uint64_t bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Random values of every magnitude (including -0, subnormals, NaN) survive write -> read
 * bit for bit; so do awkward subject and id strings. */
static void test_roundtrip(void)
{
    pth_dataset ds, back;
    pth_error e;
    size_t n = 60, d = 7;
    CHECK_OK(pth_dataset_alloc(&ds, n, d, &e), &e);
    pth_rng r;
    pth_rng_seed(&r, 99);
    static const char *const subj[] = {"s,1", "with \"quote\"", " padded ", "007", "line\nbreak", "plain"};
    for (size_t j = 0; j < d; j++) {
        char nm[32];
        snprintf(nm, sizeof nm, j == 3 ? "f %zu, odd" : "f%zu", j);
        ds.feature_names[j] = strdup(nm);
    }
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "rec-%zu", i);
        ds.record_id[i] = strdup(id);
        ds.subject[i] = strdup(subj[i % 6]);
        ds.y[i] = i % 5 == 4 ? -1 : (int)(i % 3);
        for (size_t j = 0; j < d; j++) {
            double v;
            uint64_t u = pth_rng_u64(&r);
            if (j == 0)
                memcpy(&v, &u, sizeof v);
            else if (j == 1)
                v = (pth_rng_uniform(&r) - 0.5) * 1e-310;
            else
                v = pth_rng_normal(&r) * pow(10.0, (double)pth_rng_below(&r, 30) - 15.0);
            if (!isfinite(v) || (i == 3 && j == 2))
                v = NAN;
            if (i == 5 && j == 4)
                v = -0.0;
            ds.X[i * d + j] = v;
        }
    }
    ds.n_classes = 3;
    char path[512];
    snprintf(path, sizeof path, "%s/features.csv", pth_test_tmpdir());
    CHECK_OK(pth_dataset_write_csv(&ds, path, &e), &e);
    CHECK_OK(pth_dataset_read_csv(path, NULL, &back, &e), &e);
    CHECK(back.n == n && back.d == d && back.n_classes == 3);
    int same = back.n == n && back.d == d;
    for (size_t i = 0; same && i < n; i++) {
        same &= strcmp(back.subject[i], ds.subject[i]) == 0 && strcmp(back.record_id[i], ds.record_id[i]) == 0;
        same &= back.y[i] == ds.y[i];
        for (size_t j = 0; j < d; j++) {
            double a = ds.X[i * d + j], b = back.X[i * d + j];
            same &= isnan(a) ? isnan(b) : bits(a) == bits(b);
        }
    }
    for (size_t j = 0; same && j < d; j++)
        same &= strcmp(back.feature_names[j], ds.feature_names[j]) == 0;
    CHECK(same);
    pth_dataset_free(&back);
    free(ds.feature_names[1]);
    ds.feature_names[1] = strdup("label");
    CHECK(pth_dataset_write_csv(&ds, path, &e) == PTH_ERR_INVALID && strstr(e.msg, "'label'"));
    pth_dataset_free(&ds);
}

static void test_from_table(void)
{
    pth_table t;
    pth_error e;
    const char *text = "subject,id,x,label,junk,y\n"
                       "a,r1,1.5,1,zz,2\n"
                       "b,r2,,0,zz,3\n"
                       "a,r3,2,,zz,4\n";
    CHECK_OK(pth_csv_read_buffer(text, strlen(text), "t.csv", NULL, &t, &e), &e);
    pth_dataset ds;
    const char *ign[] = {"junk"};
    pth_featuretable_options o = {.id_col = "id", .ignore = ign, .n_ignore = 1};
    CHECK_OK(pth_dataset_from_table(&t, &o, &ds, &e), &e);
    CHECK(ds.n == 3 && ds.d == 2 && strcmp(ds.feature_names[0], "x") == 0 && strcmp(ds.feature_names[1], "y") == 0);
    CHECK(ds.X[0] == 1.5 && ds.X[1] == 2.0 && isnan(ds.X[2]) && ds.X[5] == 4.0);
    CHECK(ds.y[0] == 1 && ds.y[1] == 0 && ds.y[2] == -1 && ds.n_classes == 2);
    CHECK(strcmp(ds.record_id[2], "r3") == 0 && strcmp(ds.subject[1], "b") == 0);
    CHECK(pth_dataset_n_subjects(&ds) == 2);
    pth_dataset_free(&ds);
    /* Without ignoring it, the text column is an error naming file, line, column, value. */
    o.ignore = NULL;
    o.n_ignore = 0;
    CHECK(pth_dataset_from_table(&t, &o, &ds, &e) == PTH_ERR_INVALID);
    CHECK(strstr(e.msg, "t.csv:2: column 'junk': expected a number, found 'zz'") != NULL);
    /* No subject column: one per row; no id column: the row number; no label: unlabelled. */
    pth_featuretable_options per_row = {.subject_col = "", .label_col = "", .ignore = ign, .n_ignore = 1};
    const char *ign2[] = {"junk", "id", "subject"};
    per_row.ignore = ign2;
    per_row.n_ignore = 3;
    CHECK_OK(pth_dataset_from_table(&t, &per_row, &ds, &e), &e);
    CHECK(ds.d == 3 && ds.n_classes == 0 && ds.y[0] == -1 && strcmp(ds.record_id[1], "1") == 0);
    CHECK(strcmp(ds.subject[2], "2") == 0 && pth_dataset_n_subjects(&ds) == 3);
    pth_dataset_free(&ds);
    pth_featuretable_options badsub = {.subject_col = "who"};
    CHECK(pth_dataset_from_table(&t, &badsub, &ds, &e) == PTH_ERR_INVALID && strstr(e.msg, "no subject column 'who'"));
    pth_featuretable_options badign = {.ignore = (const char *const[]){"nope"}, .n_ignore = 1};
    CHECK(pth_dataset_from_table(&t, &badign, &ds, &e) == PTH_ERR_INVALID && strstr(e.msg, "'nope'"));
    pth_table_free(&t);
}

int main(void)
{
    test_real_index();
    test_synthetic();
    test_roundtrip();
    test_from_table();
    return pth_test_finish();
}
