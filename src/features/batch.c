/* Many recordings -> one pth_dataset, extracted in parallel (OpenMP over recordings).
 * Results land in per-recording slots and are assembled in input order afterwards, so the
 * dataset and the reported error do not depend on the thread count or scheduling. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathos/features.h"

typedef struct {
    pth_feature_vector v;
    pth_error err;
    int rc;
    int missing; /* skipped: the file does not exist */
} slot;

static int file_missing(const char *path)
{
    struct stat sb;
    return stat(path, &sb) != 0 && errno == ENOENT;
}

static void extract_one(const char *path, const pth_feature_options *opts, slot *s)
{
    pth_error_clear(&s->err);
    if (opts->skip_missing && file_missing(path)) {
        s->missing = 1;
        return;
    }
    s->rc = pth_features_from_file(path, opts, &s->v, &s->err);
}

/* All extracted recordings must agree on the feature names with the first one. */
static int check_same_names(const pth_feature_vector *ref, const char *ref_path, const pth_feature_vector *v,
                            const char *path, pth_error *err)
{
    for (size_t j = 0; j < ref->d && j < v->d; j++)
        if (strcmp(ref->names[j], v->names[j]))
            return pth_fail(err, PTH_ERR_INVALID,
                            "%s: feature %zu is '%s' but '%s' in %s (recordings must have the same columns)",
                            path, j + 1, v->names[j], ref->names[j], ref_path);
    if (ref->d != v->d)
        return pth_fail(err, PTH_ERR_INVALID, "%s: %zu features, but %zu in %s (recordings must have the same columns)",
                        path, v->d, ref->d, ref_path);
    return PTH_OK;
}

/* Copies the kept slots into a freshly allocated dataset, in input order. */
static int assemble(const char *const *paths, const char *const *record_ids, const char *const *subjects,
                    const int *labels, size_t n, int n_classes, slot *slots, size_t first, size_t kept,
                    pth_dataset *out, pth_error *err)
{
    const pth_feature_vector *ref = &slots[first].v;
    int rc = pth_dataset_alloc(out, kept, ref->d, err);
    if (rc)
        return rc;
    out->n_classes = n_classes;
    int oom = 0;
    for (size_t j = 0; j < ref->d; j++)
        oom |= !(out->feature_names[j] = strdup(ref->names[j]));
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
        if (slots[i].missing)
            continue;
        memcpy(out->X + row * ref->d, slots[i].v.values, ref->d * sizeof(double));
        out->y[row] = labels ? labels[i] : -1;
        oom |= !(out->subject[row] = strdup(subjects && subjects[i] ? subjects[i] : ""));
        const char *id = record_ids && record_ids[i] ? record_ids[i] : paths[i];
        oom |= !(out->record_id[row] = strdup(id));
        row++;
    }
    if (oom) {
        pth_dataset_free(out);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory assembling the feature dataset");
    }
    return PTH_OK;
}

static void run_parallel(const char *const *paths, size_t n, const pth_feature_options *opts, slot *slots)
{
    size_t done = 0;
    int threads = opts->threads > 0 ? opts->threads : omp_get_max_threads();
    if ((size_t)threads > n)
        threads = n > 0 ? (int)n : 1; /* no idle threads for short lists */
    long nl = (long)n;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (long i = 0; i < nl; i++) {
        extract_one(paths[i], opts, &slots[i]);
        if (opts->progress) {
#pragma omp critical(pth_features_progress)
            opts->progress(++done, n, paths[i], opts->progress_user);
        }
    }
}

static void free_slots(slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pth_feature_vector_free(&slots[i].v);
    free(slots);
}

int pth_features_from_paths(const char *const *paths, const char *const *record_ids,
                            const char *const *subjects, const int *labels, size_t n, int n_classes,
                            const pth_feature_options *opts, pth_dataset *out, size_t *n_skipped,
                            pth_error *err)
{
    pth_feature_options defaults;
    if (!opts) {
        pth_feature_options_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    if (n_skipped)
        *n_skipped = 0;
    slot *slots = calloc(n ? n : 1, sizeof *slots);
    if (!slots)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory (%zu recordings)", n);
    run_parallel(paths, n, opts, slots);
    size_t first = n, kept = 0;
    int rc = PTH_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (slots[i].missing)
            continue;
        if (slots[i].rc) {
            if (err)
                *err = slots[i].err;
            rc = slots[i].rc;
            break;
        }
        if (first == n)
            first = i;
        else
            rc = check_same_names(&slots[first].v, paths[first], &slots[i].v, paths[i], err);
        kept++;
    }
    if (!rc && kept == 0)
        rc = pth_fail(err, PTH_ERR_INVALID, "no recordings to extract features from (%zu listed, all missing)", n);
    if (!rc)
        rc = assemble(paths, record_ids, subjects, labels, n, n_classes, slots, first, kept, out, err);
    if (n_skipped && !rc)
        *n_skipped = n - kept;
    free_slots(slots, n);
    return rc;
}

int pth_features_from_manifest(const pth_manifest *m, const pth_feature_options *opts, pth_dataset *out,
                               size_t *n_skipped, pth_error *err)
{
    return pth_features_from_paths((const char *const *)m->path, (const char *const *)m->record_id,
                                   (const char *const *)m->subject, m->label, m->n, m->n_classes, opts, out,
                                   n_skipped, err);
}
