/* Core utilities: PRNG reproducibility, blob round trip and bounds, atomic output files,
 * subject indexing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/blob.h"
#include "pathos/dataset.h"
#include "pathos/io.h"
#include "pathos/rng.h"
#include "core/hugemem.h"

static void test_rng(void)
{
    pth_rng a, b;
    pth_rng_seed(&a, 42);
    pth_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= pth_rng_u64(&a) == pth_rng_u64(&b);
    CHECK(same);
    /* First output of xoshiro256** seeded by splitmix64(0): computed independently with a
     * 10-line Python transcription of the published reference algorithms. */
    pth_rng_seed(&a, 0);
    CHECK(pth_rng_u64(&a) == 0x99EC5F36CB75F2B4ULL);
    double s = 0, s2 = 0;
    pth_rng_seed(&a, 7);
    for (int i = 0; i < 100000; i++) {
        double z = pth_rng_normal(&a);
        s += z;
        s2 += z * z;
    }
    CHECK_NEAR(s / 100000, 0.0, 0.02);
    CHECK_NEAR(s2 / 100000, 1.0, 0.02);
    size_t perm[10];
    for (size_t i = 0; i < 10; i++)
        perm[i] = i;
    pth_rng_shuffle(&a, perm, 10);
    int seen[10] = {0};
    for (size_t i = 0; i < 10; i++)
        seen[perm[i]]++;
    int ok = 1;
    for (size_t i = 0; i < 10; i++)
        ok &= seen[i] == 1;
    CHECK(ok);
}

static void test_blob(void)
{
    pth_blob_writer w = {0};
    double v[3] = {1.5, -2.0, 1e300};
    pth_blob_u32(&w, 0xDEADBEEF);
    pth_blob_str(&w, "hello");
    pth_blob_f64s(&w, v, 3);
    CHECK(!w.failed);
    pth_blob_reader r;
    pth_blob_reader_init(&r, w.data, w.len, "mem");
    CHECK(pth_blob_read_u32(&r) == 0xDEADBEEF);
    char *s = pth_blob_read_str(&r, 100);
    CHECK(s && strcmp(s, "hello") == 0);
    free(s);
    double *rv = pth_blob_read_f64s(&r, 3);
    CHECK(rv && rv[0] == 1.5 && rv[1] == -2.0 && rv[2] == 1e300);
    free(rv);
    CHECK(pth_blob_reader_ok(&r));
    /* Truncation anywhere must fail cleanly, never read past the end. */
    for (size_t cut = 0; cut < w.len; cut++) {
        pth_blob_reader_init(&r, w.data, cut, "mem");
        (void)pth_blob_read_u32(&r);
        free(pth_blob_read_str(&r, 100));
        free(pth_blob_read_f64s(&r, 3));
        CHECK(!pth_blob_reader_ok(&r));
    }
    /* A count that disagrees with the caller's expectation is a format error. */
    pth_blob_reader_init(&r, w.data, w.len, "mem");
    (void)pth_blob_read_u32(&r);
    free(pth_blob_read_str(&r, 100));
    CHECK(pth_blob_read_f64s(&r, 4) == NULL);
    pth_error e;
    CHECK(pth_blob_reader_status(&r, &e) == PTH_ERR_FORMAT);
    CHECK(strstr(e.msg, "mem") != NULL);
    pth_blob_writer_free(&w);

    /* u32 lists: 4n bytes little-endian, read back with a bound on the count. */
    const uint32_t u[3] = {1, 0x01020304u, 0xFFFFFFFFu};
    pth_blob_u32s(&w, u, 3);
    CHECK(w.len == 8 + 12 && w.data[8 + 4] == 0x04 && w.data[8 + 7] == 0x01);
    size_t n = 0;
    pth_blob_reader_init(&r, w.data, w.len, "mem");
    uint32_t *ru = pth_blob_read_u32s(&r, 3, &n, "list");
    CHECK(ru && n == 3 && ru[0] == 1 && ru[1] == 0x01020304u && ru[2] == 0xFFFFFFFFu && pth_blob_reader_ok(&r));
    free(ru);
    pth_blob_reader_init(&r, w.data, w.len, "mem");
    CHECK(pth_blob_read_u32s(&r, 2, &n, "list") == NULL && n == 0 && !pth_blob_reader_ok(&r)); /* over the bound */
    pth_blob_reader_init(&r, w.data, w.len - 1, "mem");
    CHECK(pth_blob_read_u32s(&r, 3, &n, "list") == NULL && !pth_blob_reader_ok(&r)); /* truncated */
    w.data[0] = 11; /* a length that is not a multiple of 4 */
    pth_blob_reader_init(&r, w.data, w.len, "mem");
    CHECK(pth_blob_read_u32s(&r, 3, &n, "list") == NULL && pth_blob_reader_status(&r, &e) == PTH_ERR_FORMAT);
    CHECK(strstr(e.msg, "list") != NULL);
    pth_blob_writer_free(&w);
}

static void test_outfile(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out.txt", pth_test_tmpdir());
    pth_error err;
    pth_outfile o;
    CHECK_OK(pth_outfile_open(&o, path, &err), &err);
    fputs("partial", o.fp);
    CHECK(!pth_test_file_exists(path)); /* nothing under the final name until commit */
    pth_outfile_abort(&o);
    CHECK(!pth_test_file_exists(path));
    CHECK_OK(pth_outfile_open(&o, path, &err), &err);
    fputs("done\n", o.fp);
    CHECK_OK(pth_outfile_commit(&o, &err), &err);
    char *buf;
    size_t len;
    CHECK_OK(pth_read_file(path, 1 << 20, &buf, &len, &err), &err);
    CHECK(len == 5 && strcmp(buf, "done\n") == 0);
    free(buf);
    CHECK(pth_read_file(path, 2, &buf, &len, &err) == PTH_ERR_NOMEM);
    CHECK(pth_read_file("/nonexistent/x", 10, &buf, &len, &err) == PTH_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/x") != NULL);
    remove(path);
    CHECK(pth_outfile_open(&o, "/nonexistent-dir/x.csv", &err) == PTH_ERR_IO);
}

static void test_subjects(void)
{
    pth_dataset ds;
    pth_error err;
    CHECK_OK(pth_dataset_alloc(&ds, 5, 1, &err), &err);
    const char *subj[5] = {"b", "a", "b", "c", "a"};
    for (int i = 0; i < 5; i++)
        ds.subject[i] = strdup(subj[i]);
    size_t g;
    int *idx = pth_dataset_subject_index(&ds, &g);
    CHECK(g == 3);
    CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 0 && idx[3] == 2 && idx[4] == 1);
    free(idx);
    size_t rows[2] = {3, 1};
    pth_dataset sub;
    CHECK_OK(pth_dataset_subset(&ds, rows, 2, &sub, &err), &err);
    CHECK(sub.n == 2 && strcmp(sub.subject[0], "c") == 0 && strcmp(sub.subject[1], "a") == 0);
    pth_dataset_free(&sub);
    pth_dataset_free(&ds);
}

/* Small blocks are 128-byte aligned; large ones 2 MB aligned, usable to their last byte. */
static void test_huge_alloc(void)
{
    unsigned char *small = pth_huge_alloc(100), *big = pth_huge_alloc((size_t)5 << 20);
    CHECK(small != NULL && big != NULL && (uintptr_t)small % 128 == 0);
    if (big) {
        CHECK((uintptr_t)big % ((uintptr_t)2 << 20) == 0);
        memset(big, 0xab, (size_t)5 << 20);
        CHECK(big[0] == 0xab && big[((size_t)5 << 20) - 1] == 0xab);
    }
    if (small)
        memset(small, 1, 100);
    free(small);
    free(big);
    void *zero = pth_huge_alloc(0);
    CHECK(zero != NULL);
    free(zero);
}

int main(void)
{
    test_rng();
    test_blob();
    test_outfile();
    test_subjects();
    test_huge_alloc();
    return pth_test_finish();
}
