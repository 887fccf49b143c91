/* Fold assignment invariants over many seeds and shapes: subject independence, every
 * record tested exactly once per repeat, stratification, determinism, clear errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/io.h"
#include "pathos/rng.h"
#include "pathos/split.h"

typedef struct {
    size_t n, n_subjects;
    int *y, *subject;
} shape;

/* Random shape: G subjects with 1..max_size records each; a subject is all-negative,
 * all-positive or mixed with probability 1/3 each (like people who never / always / sometimes
 * show the labelled behaviour). */
static shape make_shape(uint64_t seed, size_t G, size_t max_size)
{
    pth_rng r;
    pth_rng_seed(&r, seed);
    shape s = {0, G, NULL, NULL};
    size_t cap = G * max_size;
    s.y = malloc(cap * sizeof *s.y);
    s.subject = malloc(cap * sizeof *s.subject);
    for (size_t g = 0; g < G; g++) {
        size_t m = 1 + (size_t)pth_rng_below(&r, max_size);
        int kind = (int)pth_rng_below(&r, 3);
        for (size_t j = 0; j < m; j++) {
            s.subject[s.n] = (int)g;
            s.y[s.n] = kind == 2 ? (int)pth_rng_below(&r, 2) : kind;
            s.n++;
        }
    }
    /* Interleave the rows so subjects are not contiguous (as in real manifests). */
    for (size_t i = s.n; i > 1; i--) {
        size_t j = (size_t)pth_rng_below(&r, i);
        int t = s.y[i - 1];
        s.y[i - 1] = s.y[j];
        s.y[j] = t;
        t = s.subject[i - 1];
        s.subject[i - 1] = s.subject[j];
        s.subject[j] = t;
    }
    return s;
}

static void free_shape(shape *s)
{
    free(s->y);
    free(s->subject);
}

/* Checks fold range, non-empty folds, and (when grouped) that a subject stays in one fold. */
static int folds_valid(const shape *s, const int *fold, size_t k, int grouped)
{
    size_t *count = calloc(k, sizeof *count);
    int *subject_fold = malloc(s->n_subjects * sizeof *subject_fold);
    int ok = 1;
    for (size_t g = 0; g < s->n_subjects; g++)
        subject_fold[g] = -1;
    for (size_t i = 0; i < s->n; i++) {
        if (fold[i] < 0 || (size_t)fold[i] >= k) {
            ok = 0;
            break;
        }
        count[fold[i]]++;
        int *sf = &subject_fold[s->subject[i]];
        if (grouped && *sf >= 0 && *sf != fold[i])
            ok = 0;
        *sf = fold[i];
    }
    for (size_t f = 0; f < k && ok; f++)
        ok &= count[f] > 0;
    free(count);
    free(subject_fold);
    return ok;
}

/* sum over folds and classes of (k*n_fc - N_c)^2: the objective documented in split.h. */
static double cost(const shape *s, const int *fold, size_t k)
{
    double *cnt = calloc(2 * k, sizeof *cnt), tot[2] = {0, 0}, c = 0;
    for (size_t i = 0; i < s->n; i++) {
        cnt[(size_t)fold[i] * 2 + (size_t)s->y[i]]++;
        tot[s->y[i]]++;
    }
    for (size_t f = 0; f < k; f++)
        for (int cl = 0; cl < 2; cl++) {
            double d = (double)k * cnt[f * 2 + (size_t)cl] - tot[cl];
            c += d * d;
        }
    free(cnt);
    return c;
}

/* Largest |positive fraction of a fold - overall positive fraction|. */
static double max_pos_dev(const shape *s, const int *fold, size_t k)
{
    double *pos = calloc(k, sizeof *pos), *all = calloc(k, sizeof *all), P = 0, dev = 0;
    for (size_t i = 0; i < s->n; i++) {
        pos[fold[i]] += s->y[i];
        all[fold[i]]++;
        P += s->y[i];
    }
    for (size_t f = 0; f < k; f++) {
        double d = fabs(pos[f] / all[f] - P / (double)s->n);
        dev = d > dev ? d : dev;
    }
    free(pos);
    free(all);
    return dev;
}

static void test_group_invariants(void)
{
    int valid = 1, det = 1;
    size_t runs = 0, better = 0, distinct_pairs = 0, pairs = 0;
    double worst_dev = 0;
    for (uint64_t shape_seed = 1; shape_seed <= 30; shape_seed++) {
        size_t G = 6 + (size_t)(shape_seed * 7 % 35);
        shape s = make_shape(shape_seed, G, 1 + shape_seed % 12);
        for (size_t k = 2; k <= 6 && k <= G; k++) {
            int *fold = malloc(s.n * sizeof *fold), *again = malloc(s.n * sizeof *again);
            int *prev = malloc(s.n * sizeof *prev), *naive = malloc(s.n * sizeof *naive);
            for (uint64_t seed = 0; seed < 4; seed++) {
                pth_split_config cfg = {PTH_SPLIT_GROUP_KFOLD, k, seed};
                pth_error err;
                size_t nf = 0;
                int rc = pth_split_assign(&cfg, 0, s.y, 2, s.subject, G, s.n, fold, &nf, &err);
                if (rc) {
                    /* Allowed only for the documented single-class-training case. */
                    valid &= strstr(err.msg, "only class") != NULL;
                    continue;
                }
                runs++;
                valid &= nf == k && folds_valid(&s, fold, k, 1);
                CHECK_OK(pth_split_assign(&cfg, 0, s.y, 2, s.subject, G, s.n, again, NULL, &err), &err);
                det &= memcmp(fold, again, s.n * sizeof *fold) == 0;
                if (seed > 0) {
                    pairs++;
                    distinct_pairs += memcmp(fold, prev, s.n * sizeof *fold) != 0;
                }
                memcpy(prev, fold, s.n * sizeof *fold);
                /* Baseline: subjects dealt round-robin in index order (no stratification). */
                for (size_t i = 0; i < s.n; i++)
                    naive[i] = (int)((size_t)s.subject[i] % k);
                better += cost(&s, fold, k) <= cost(&s, naive, k);
                if (s.n >= 40 * k) {
                    double d = max_pos_dev(&s, fold, k);
                    worst_dev = d > worst_dev ? d : worst_dev;
                }
            }
            free(fold);
            free(again);
            free(prev);
            free(naive);
        }
        free_shape(&s);
    }
    CHECK(runs > 300);
    CHECK(valid);
    CHECK(det);
    CHECK(better == runs);              /* never worse than the unstratified baseline */
    CHECK(distinct_pairs * 10 >= pairs * 8); /* seeds give different splits (>= 80% of pairs) */
    /* With >= 40 records per fold, every fold's positive rate is within 5 points. */
    CHECK(worst_dev <= 0.05);
    if (worst_dev > 0.05)
        fprintf(stderr, "worst positive-fraction deviation %.3f\n", worst_dev);
}

/* Identical subjects (4 records, 2 positive) and G divisible by k: perfect balance. */
static void test_group_perfect(void)
{
    enum { G = 20, K = 5 };
    shape s = {G * 4, G, malloc(G * 4 * sizeof(int)), malloc(G * 4 * sizeof(int))};
    for (size_t i = 0; i < s.n; i++) {
        s.subject[i] = (int)(i / 4);
        s.y[i] = (int)(i % 2);
    }
    int fold[G * 4];
    int ok = 1;
    for (uint64_t seed = 0; seed < 20; seed++)
        for (uint64_t rep = 0; rep < 3; rep++) {
            pth_split_config cfg = {PTH_SPLIT_GROUP_KFOLD, K, seed};
            pth_error err;
            CHECK_OK(pth_split_assign(&cfg, rep, s.y, 2, s.subject, G, s.n, fold, NULL, &err), &err);
            ok &= cost(&s, fold, K) == 0 && folds_valid(&s, fold, K, 1);
        }
    CHECK(ok);
    /* Repeats of one seed differ from each other. */
    int f0[G * 4], f1[G * 4];
    pth_split_config cfg = {PTH_SPLIT_GROUP_KFOLD, K, 9};
    pth_error err;
    CHECK_OK(pth_split_assign(&cfg, 0, s.y, 2, s.subject, G, s.n, f0, NULL, &err), &err);
    CHECK_OK(pth_split_assign(&cfg, 1, s.y, 2, s.subject, G, s.n, f1, NULL, &err), &err);
    CHECK(memcmp(f0, f1, sizeof f0) != 0);
    free_shape(&s);
}

static void test_loso(void)
{
    shape s = make_shape(77, 9, 5);
    int *fold = malloc(s.n * sizeof *fold);
    pth_split_config cfg = {PTH_SPLIT_LOSO, 0, 3};
    pth_error err;
    size_t nf = 0;
    int rc = pth_split_assign(&cfg, 2, s.y, 2, s.subject, s.n_subjects, s.n, fold, &nf, &err);
    if (rc == 0) {
        CHECK(nf == s.n_subjects);
        int ok = 1;
        for (size_t i = 0; i < s.n; i++)
            ok &= fold[i] == s.subject[i];
        CHECK(ok && folds_valid(&s, fold, nf, 1));
    } else {
        CHECK(strstr(err.msg, "only class") != NULL);
    }
    free(fold);
    free_shape(&s);
}

static void test_record_kfold(void)
{
    int ok = 1, distinct = 0;
    for (uint64_t sh = 1; sh <= 20; sh++) {
        shape s = make_shape(100 + sh, 10 + sh, 8);
        int *fold = malloc(s.n * sizeof *fold), *first = malloc(s.n * sizeof *first);
        for (size_t k = 2; k <= 7; k++)
            for (uint64_t seed = 0; seed < 3; seed++) {
                pth_split_config cfg = {PTH_SPLIT_RECORD_KFOLD_LEAKY, k, seed};
                pth_error err;
                if (pth_split_assign(&cfg, 0, s.y, 2, s.subject, s.n_subjects, s.n, fold, NULL, &err)) {
                    ok &= strstr(err.msg, "only class") != NULL;
                    continue;
                }
                ok &= folds_valid(&s, fold, k, 0);
                /* Per-class counts per fold differ by at most one; so do fold sizes. */
                for (int c = 0; c < 2; c++) {
                    size_t lo = (size_t)-1, hi = 0;
                    for (size_t f = 0; f < k; f++) {
                        size_t m = 0;
                        for (size_t i = 0; i < s.n; i++)
                            m += fold[i] == (int)f && s.y[i] == c;
                        lo = m < lo ? m : lo;
                        hi = m > hi ? m : hi;
                    }
                    ok &= hi - lo <= 1;
                }
                if (seed == 0)
                    memcpy(first, fold, s.n * sizeof *fold);
                else
                    distinct += memcmp(first, fold, s.n * sizeof *fold) != 0;
            }
        free(fold);
        free(first);
        free_shape(&s);
    }
    CHECK(ok);
    CHECK(distinct > 200);
    CHECK(pth_split_kind_is_leaky(PTH_SPLIT_RECORD_KFOLD_LEAKY));
    CHECK(strstr(pth_split_kind_name(PTH_SPLIT_RECORD_KFOLD_LEAKY), "LEAKY") != NULL);
}

static void test_errors(void)
{
    int y[6] = {0, 1, 0, 1, 0, 1}, subj[6] = {0, 0, 1, 1, 2, 2}, fold[6];
    pth_error err;
    pth_split_config cfg = {PTH_SPLIT_GROUP_KFOLD, 1, 0};
    CHECK(pth_split_assign(&cfg, 0, y, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "at least 2") != NULL);
    cfg.k = 4;
    CHECK(pth_split_assign(&cfg, 0, y, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "subjects") != NULL);
    cfg.k = 3;
    CHECK_OK(pth_split_assign(&cfg, 0, y, 2, subj, 3, 6, fold, NULL, &err), &err);
    CHECK(pth_split_assign(&cfg, 0, y, 2, subj, 3, 0, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "empty") != NULL);
    cfg.kind = PTH_SPLIT_RECORD_KFOLD_LEAKY;
    cfg.k = 7;
    CHECK(pth_split_assign(&cfg, 0, y, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "records") != NULL);
    /* Unlabelled row, single class, bad subject index, subject without rows. */
    int yu[6] = {0, 1, -1, 1, 0, 1};
    cfg = (pth_split_config){PTH_SPLIT_GROUP_KFOLD, 2, 0};
    CHECK(pth_split_assign(&cfg, 0, yu, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "unlabelled") != NULL);
    int y1[6] = {1, 1, 1, 1, 1, 1};
    CHECK(pth_split_assign(&cfg, 0, y1, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(pth_split_assign(&cfg, 0, y, 1, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    int sbad[6] = {0, 0, 1, 1, 2, 3};
    CHECK(pth_split_assign(&cfg, 0, y, 2, sbad, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(pth_split_assign(&cfg, 0, y, 2, subj, 4, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "no records") != NULL);
    /* All positives in one subject: holding it out leaves a single-class training part. */
    int yp[6] = {1, 1, 0, 0, 0, 0};
    cfg.kind = PTH_SPLIT_LOSO;
    CHECK(pth_split_assign(&cfg, 0, yp, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "only class 0") != NULL);
    int s1[6] = {0, 0, 0, 0, 0, 0};
    CHECK(pth_split_assign(&cfg, 0, y, 2, s1, 1, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    /* A class with one record: the fold holding it trains on one class (record-level). */
    int yo[6] = {0, 0, 0, 1, 0, 0};
    cfg = (pth_split_config){PTH_SPLIT_RECORD_KFOLD_LEAKY, 2, 0};
    CHECK(pth_split_assign(&cfg, 0, yo, 2, subj, 3, 6, fold, NULL, &err) == PTH_ERR_INVALID);
    /* A subject with a single record is fine. */
    int ys[5] = {0, 1, 0, 1, 1}, ss[5] = {0, 0, 1, 1, 2};
    cfg = (pth_split_config){PTH_SPLIT_GROUP_KFOLD, 3, 0};
    CHECK_OK(pth_split_assign(&cfg, 0, ys, 2, ss, 3, 5, fold, NULL, &err), &err);
}

static void test_parse(void)
{
    pth_split_kind k;
    pth_error err;
    CHECK_OK(pth_split_kind_parse("LOSO", &k, &err), &err);
    CHECK(k == PTH_SPLIT_LOSO);
    CHECK_OK(pth_split_kind_parse("group-kfold", &k, &err), &err);
    CHECK(k == PTH_SPLIT_GROUP_KFOLD);
    CHECK_OK(pth_split_kind_parse("record-kfold-LEAKY", &k, &err), &err);
    CHECK(k == PTH_SPLIT_RECORD_KFOLD_LEAKY);
    CHECK(pth_split_kind_parse("bogus", &k, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "bogus") != NULL);
}

/* pth_split_dataset over a real pth_dataset, and the folds CSV. */
static void test_dataset_and_csv(void)
{
    pth_dataset ds;
    pth_error err;
    CHECK_OK(pth_dataset_alloc(&ds, 12, 1, &err), &err);
    ds.n_classes = 2;
    for (size_t i = 0; i < 12; i++) {
        char buf[32];
        ds.y[i] = (int)(i % 2);
        snprintf(buf, sizeof buf, "s%zu", i % 4);
        ds.subject[i] = strdup(buf);
        snprintf(buf, sizeof buf, i == 5 ? "rec,\"%zu\"" : "rec%zu", i);
        ds.record_id[i] = strdup(buf);
    }
    pth_split_config cfg = {PTH_SPLIT_GROUP_KFOLD, 2, 5};
    int folds[36];
    size_t nf = 0;
    CHECK_OK(pth_split_dataset(&cfg, &ds, 3, folds, &nf, &err), &err);
    CHECK(nf == 2);
    char path[512];
    snprintf(path, sizeof path, "%s/folds.csv", pth_test_tmpdir());
    CHECK_OK(pth_split_write_csv(&ds, folds, 3, path, &err), &err);
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(pth_read_file(path, 1 << 20, &text, &len, &err), &err);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    CHECK(lines == 1 + 36);
    CHECK(text && strncmp(text, "record_id,subject,repeat,fold\n", 30) == 0);
    CHECK(text && strstr(text, "\"rec,\"\"5\"\"\",s1,0,") != NULL);
    free(text);
    pth_dataset_free(&ds);
}

int main(void)
{
    test_group_invariants();
    test_group_perfect();
    test_loso();
    test_record_kfold();
    test_errors();
    test_parse();
    test_dataset_and_csv();
    return pth_test_finish();
}
