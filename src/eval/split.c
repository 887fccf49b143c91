/* Fold assignment: stratified group k-fold, leave-one-subject-out, and the (leaky)
 * record-level stratified k-fold.  The algorithms are documented in pathos/split.h. */
#include "pathos/split.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/csv.h"
#include "pathos/io.h"
#include "pathos/rng.h"

#define MAX_LOCAL_PASSES 64
#define MAX_SWAP_SUBJECTS 3000

const char *pth_split_kind_name(pth_split_kind kind)
{
    switch (kind) {
    case PTH_SPLIT_GROUP_KFOLD: return "group-kfold";
    case PTH_SPLIT_LOSO: return "loso";
    case PTH_SPLIT_RECORD_KFOLD_LEAKY: return "record-kfold-LEAKY";
    }
    return "unknown";
}

int pth_split_kind_is_leaky(pth_split_kind kind) { return kind == PTH_SPLIT_RECORD_KFOLD_LEAKY; }

static int str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

int pth_split_kind_parse(const char *s, pth_split_kind *kind, pth_error *err)
{
    static const struct {
        const char *name;
        pth_split_kind kind;
    } names[] = {{"group-kfold", PTH_SPLIT_GROUP_KFOLD},
                 {"group", PTH_SPLIT_GROUP_KFOLD},
                 {"grouped", PTH_SPLIT_GROUP_KFOLD},
                 {"subject", PTH_SPLIT_GROUP_KFOLD},
                 {"loso", PTH_SPLIT_LOSO},
                 {"record-kfold-LEAKY", PTH_SPLIT_RECORD_KFOLD_LEAKY},
                 {"record-kfold", PTH_SPLIT_RECORD_KFOLD_LEAKY},
                 {"record", PTH_SPLIT_RECORD_KFOLD_LEAKY},
                 {"leaky", PTH_SPLIT_RECORD_KFOLD_LEAKY}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (str_ieq(s, names[i].name)) {
            *kind = names[i].kind;
            return PTH_OK;
        }
    return pth_fail(err, PTH_ERR_INVALID,
                    "unknown protocol '%s' (expected group-kfold, loso or record-kfold-LEAKY)",
                    s ? s : "(null)");
}

/* ---- stratified group k-fold ------------------------------------------------------- */

typedef struct {
    size_t k, n_subjects;
    int n_classes;
    const long long *cnt_g; /* n_subjects x n_classes: records of class c in subject g */
    const long long *size_g;
    const long long *total_c;
    long long *dev;  /* k x n_classes: k*n_fc - N_c, the quantity the cost squares */
    long long *size_f;
    size_t *members; /* subjects per fold */
    int *fold_g;
} group_state;

/* Cost change of adding (sign=+1) or removing (sign=-1) subject g to/from fold f:
 * sum_c (d + s*k*c)^2 - d^2 = sum_c s*k*c*(2d + s*k*c). */
static long long delta_one(const group_state *st, size_t g, size_t f, long long sign)
{
    long long k = (long long)st->k, d = 0;
    for (int c = 0; c < st->n_classes; c++) {
        long long x = sign * k * st->cnt_g[g * (size_t)st->n_classes + (size_t)c];
        d += x * (2 * st->dev[f * (size_t)st->n_classes + (size_t)c] + x);
    }
    return d;
}

static void apply(group_state *st, size_t g, size_t f, long long sign)
{
    long long k = (long long)st->k;
    for (int c = 0; c < st->n_classes; c++)
        st->dev[f * (size_t)st->n_classes + (size_t)c] += sign * k * st->cnt_g[g * (size_t)st->n_classes + (size_t)c];
    st->size_f[f] += sign * st->size_g[g];
    st->members[f] = sign > 0 ? st->members[f] + 1 : st->members[f] - 1;
    if (sign > 0)
        st->fold_g[g] = (int)f;
}

/* Cost change of exchanging subject g (fold a) with subject h (fold b): fold a gains
 * v = cnt_h - cnt_g, fold b loses it: sum_c k*v*(2*(d_a - d_b) + 2*k*v). */
static long long delta_swap(const group_state *st, size_t g, size_t h, size_t a, size_t b)
{
    long long k = (long long)st->k, d = 0;
    size_t C = (size_t)st->n_classes;
    for (size_t c = 0; c < C; c++) {
        long long v = k * (st->cnt_g[h * C + c] - st->cnt_g[g * C + c]);
        d += v * (2 * (st->dev[a * C + c] - st->dev[b * C + c]) + 2 * v);
    }
    return d;
}

static void greedy_assign(group_state *st, const size_t *order)
{
    size_t empty = st->k;
    for (size_t i = 0; i < st->n_subjects; i++) {
        size_t g = order[i], remaining = st->n_subjects - i, best = 0;
        int only_empty = remaining <= empty;
        long long best_d = 0;
        int have = 0;
        for (size_t f = 0; f < st->k; f++) {
            if (only_empty && st->members[f] > 0)
                continue;
            long long d = delta_one(st, g, f, +1);
            if (!have || d < best_d || (d == best_d && st->size_f[f] < st->size_f[best])) {
                best = f;
                best_d = d;
                have = 1;
            }
        }
        if (st->members[best] == 0)
            empty--;
        apply(st, g, best, +1);
    }
}

/* One pass of single-subject moves; returns 1 if anything improved. */
static int improve_moves(group_state *st)
{
    int improved = 0;
    for (size_t g = 0; g < st->n_subjects; g++) {
        size_t a = (size_t)st->fold_g[g];
        if (st->members[a] < 2)
            continue; /* never empty a fold */
        long long out = delta_one(st, g, a, -1);
        apply(st, g, a, -1);
        size_t best = a;
        long long best_d = 0;
        for (size_t f = 0; f < st->k; f++) {
            if (f == a)
                continue;
            long long d = out + delta_one(st, g, f, +1);
            if (d < best_d) {
                best = f;
                best_d = d;
            }
        }
        apply(st, g, best, +1);
        improved |= best != a;
    }
    return improved;
}

static int improve_swaps(group_state *st)
{
    int improved = 0;
    for (size_t g = 0; g < st->n_subjects; g++)
        for (size_t h = g + 1; h < st->n_subjects; h++) {
            size_t a = (size_t)st->fold_g[g], b = (size_t)st->fold_g[h];
            if (a == b || delta_swap(st, g, h, a, b) >= 0)
                continue;
            apply(st, g, a, -1);
            apply(st, h, b, -1);
            apply(st, g, b, +1);
            apply(st, h, a, +1);
            improved = 1;
        }
    return improved;
}

static int group_kfold(const pth_split_config *cfg, pth_rng *rng, const int *y, int n_classes,
                       const int *subject, size_t n_subjects, size_t n, int *fold, pth_error *err)
{
    size_t k = cfg->k, C = (size_t)n_classes;
    long long *cnt_g = calloc(n_subjects * C, sizeof *cnt_g);
    long long *size_g = calloc(n_subjects, sizeof *size_g);
    long long *total_c = calloc(C, sizeof *total_c);
    long long *dev = calloc(k * C, sizeof *dev);
    long long *size_f = calloc(k, sizeof *size_f);
    size_t *members = calloc(k, sizeof *members);
    int *fold_g = calloc(n_subjects, sizeof *fold_g);
    size_t *order = malloc(n_subjects * sizeof *order);
    int rc = PTH_OK;
    if (!cnt_g || !size_g || !total_c || !dev || !size_f || !members || !fold_g || !order) {
        rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory assigning %zu subjects to folds", n_subjects);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        cnt_g[(size_t)subject[i] * C + (size_t)y[i]]++;
        size_g[subject[i]]++;
        total_c[y[i]]++;
    }
    /* All folds start empty: deviation k*0 - N_c. */
    for (size_t f = 0; f < k; f++)
        for (size_t c = 0; c < C; c++)
            dev[f * C + c] = -total_c[c];
    group_state st = {k, n_subjects, n_classes, cnt_g, size_g, total_c, dev, size_f, members, fold_g};
    for (size_t g = 0; g < n_subjects; g++)
        order[g] = g;
    pth_rng_shuffle(rng, order, n_subjects);
    greedy_assign(&st, order);
    for (int pass = 0; pass < MAX_LOCAL_PASSES; pass++) {
        int improved = improve_moves(&st);
        if (n_subjects <= MAX_SWAP_SUBJECTS)
            improved |= improve_swaps(&st);
        if (!improved)
            break;
    }
    for (size_t i = 0; i < n; i++)
        fold[i] = fold_g[subject[i]];
done:
    free(cnt_g);
    free(size_g);
    free(total_c);
    free(dev);
    free(size_f);
    free(members);
    free(fold_g);
    free(order);
    return rc;
}

/* ---- record-level stratified k-fold (leaky) ---------------------------------------- */

static int record_kfold(size_t k, pth_rng *rng, const int *y, int n_classes, size_t n, int *fold,
                        pth_error *err)
{
    size_t *order = malloc(n * sizeof *order);
    size_t *perm = malloc(k * sizeof *perm);
    if (!order || !perm) {
        free(order);
        free(perm);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory assigning %zu records to folds", n);
    }
    for (size_t f = 0; f < k; f++)
        perm[f] = f;
    pth_rng_shuffle(rng, perm, k);
    /* Records of class 0 (shuffled), then class 1 (shuffled), ...; dealing them round-robin
     * keeps every class's per-fold count within one of N_c / k and fold sizes within one. */
    size_t m = 0;
    for (int c = 0; c < n_classes; c++) {
        size_t start = m;
        for (size_t i = 0; i < n; i++)
            if (y[i] == c)
                order[m++] = i;
        pth_rng_shuffle(rng, order + start, m - start);
    }
    for (size_t j = 0; j < n; j++)
        fold[order[j]] = (int)perm[j % k];
    free(order);
    free(perm);
    return PTH_OK;
}

/* ---- validation ---------------------------------------------------------------------- */

static int check_inputs(const pth_split_config *cfg, const int *y, int n_classes, const int *subject,
                        size_t n_subjects, size_t n, pth_error *err)
{
    if (n == 0)
        return pth_fail(err, PTH_ERR_INVALID, "cannot split an empty dataset (no records)");
    if (n_classes < 2)
        return pth_fail(err, PTH_ERR_INVALID, "cannot split for classification with %d class(es); need at least 2",
                        n_classes);
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= n_classes)
            return pth_fail(err, PTH_ERR_INVALID,
                            "record %zu has label %d, outside 0..%d (remove unlabelled records first)", i, y[i],
                            n_classes - 1);
        if (subject[i] < 0 || (size_t)subject[i] >= n_subjects)
            return pth_fail(err, PTH_ERR_INVALID, "record %zu has subject index %d, outside 0..%zu", i, subject[i],
                            n_subjects - 1);
    }
    if (cfg->kind == PTH_SPLIT_LOSO) {
        if (n_subjects < 2)
            return pth_fail(err, PTH_ERR_INVALID, "leave-one-subject-out needs at least 2 subjects, found %zu",
                            n_subjects);
        return PTH_OK;
    }
    if (cfg->k < 2)
        return pth_fail(err, PTH_ERR_INVALID, "k = %zu folds: need at least 2", cfg->k);
    if (cfg->kind == PTH_SPLIT_GROUP_KFOLD && cfg->k > n_subjects)
        return pth_fail(err, PTH_ERR_INVALID,
                        "k = %zu folds but only %zu subjects: subject-independent folds need k <= subjects "
                        "(use fewer folds or loso)",
                        cfg->k, n_subjects);
    if (cfg->k > n)
        return pth_fail(err, PTH_ERR_INVALID, "k = %zu folds but only %zu records", cfg->k, n);
    return PTH_OK;
}

/* Every subject index must own a record, and every fold's training part needs 2 classes. */
static int check_result(const pth_split_config *cfg, const int *y, int n_classes, const int *subject,
                        size_t n_subjects, size_t n, const int *fold, size_t k, pth_error *err)
{
    size_t C = (size_t)n_classes;
    size_t *cnt = calloc(k * C + C + n_subjects, sizeof *cnt);
    if (!cnt)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory checking folds");
    size_t *total = cnt + k * C, *per_subject = total + C;
    for (size_t i = 0; i < n; i++) {
        cnt[(size_t)fold[i] * C + (size_t)y[i]]++;
        total[y[i]]++;
        per_subject[subject[i]]++;
    }
    int rc = PTH_OK;
    for (size_t g = 0; g < n_subjects && !rc; g++)
        if (per_subject[g] == 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "subject index %zu has no records", g);
    for (size_t f = 0; f < k && !rc; f++) {
        size_t present = 0, only = 0;
        for (size_t c = 0; c < C; c++)
            if (total[c] > cnt[f * C + c]) {
                present++;
                only = c;
            }
        if (present < 2)
            rc = pth_fail(err, PTH_ERR_INVALID,
                          "%s: the training part of fold %zu would contain only class %zu, so no classifier "
                          "can be fit on it (too few records or subjects of the other class%s)",
                          pth_split_kind_name(cfg->kind), f, only,
                          cfg->kind == PTH_SPLIT_GROUP_KFOLD ? "; try fewer folds" : "");
    }
    free(cnt);
    return rc;
}

int pth_split_assign(const pth_split_config *cfg, uint64_t repeat, const int *y, int n_classes,
                     const int *subject, size_t n_subjects, size_t n, int *fold, size_t *n_folds,
                     pth_error *err)
{
    int rc = check_inputs(cfg, y, n_classes, subject, n_subjects, n, err);
    if (rc)
        return rc;
    pth_rng rng;
    pth_rng_seed_stream(&rng, cfg->seed, repeat);
    size_t k = cfg->kind == PTH_SPLIT_LOSO ? n_subjects : cfg->k;
    switch (cfg->kind) {
    case PTH_SPLIT_GROUP_KFOLD:
        rc = group_kfold(cfg, &rng, y, n_classes, subject, n_subjects, n, fold, err);
        break;
    case PTH_SPLIT_LOSO:
        for (size_t i = 0; i < n; i++)
            fold[i] = subject[i];
        break;
    case PTH_SPLIT_RECORD_KFOLD_LEAKY:
        rc = record_kfold(k, &rng, y, n_classes, n, fold, err);
        break;
    default:
        return pth_fail(err, PTH_ERR_INVALID, "unknown split kind %d", (int)cfg->kind);
    }
    if (!rc)
        rc = check_result(cfg, y, n_classes, subject, n_subjects, n, fold, k, err);
    if (!rc && n_folds)
        *n_folds = k;
    return rc;
}

int pth_split_dataset(const pth_split_config *cfg, const pth_dataset *ds, size_t repeats, int *folds,
                      size_t *n_folds, pth_error *err)
{
    if (repeats < 1)
        return pth_fail(err, PTH_ERR_INVALID, "need at least 1 repeat");
    if (ds->n == 0)
        return pth_fail(err, PTH_ERR_INVALID, "cannot split an empty dataset (no records)");
    size_t n_subjects = 0;
    int *subject = pth_dataset_subject_index(ds, &n_subjects);
    if (!subject)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory indexing subjects");
    int rc = PTH_OK;
    for (size_t r = 0; r < repeats && !rc; r++)
        rc = pth_split_assign(cfg, r, ds->y, ds->n_classes, subject, n_subjects, ds->n, folds + r * ds->n,
                              n_folds, err);
    free(subject);
    return rc;
}

/* ---- CSV ------------------------------------------------------------------------------- */

int pth_split_write_csv(const pth_dataset *ds, const int *folds, size_t repeats, const char *path,
                        pth_error *err)
{
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputs("record_id,subject,repeat,fold\n", out.fp);
    for (size_t r = 0; r < repeats; r++)
        for (size_t i = 0; i < ds->n; i++) {
            if (ds->record_id[i])
                pth_csv_write_field(out.fp, ds->record_id[i]);
            else
                fprintf(out.fp, "%zu", i);
            fputc(',', out.fp);
            pth_csv_write_field(out.fp, ds->subject[i]);
            fprintf(out.fp, ",%zu,%d\n", r, folds[r * ds->n + i]);
        }
    return pth_outfile_commit(&out, err);
}
