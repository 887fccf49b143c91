#include "cli/dataset_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/features.h"
#include "pathos/featuretable.h"
#include "pathos/manifest.h"

void pth_cli_data_opts_init(pth_cli_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->min_confidence = PTH_FEATURE_MIN_CONFIDENCE;
}

size_t pth_cli_data_specs(pth_cli_data_opts *o, pth_arg_spec *out, int with_table)
{
    const pth_arg_spec specs[] = {
        {"manifest", 'm', PTH_ARG_STR, &o->manifest, "CSV", "recordings: one row per OpenFace CSV (path, subject, label)"},
        {"table", 't', PTH_ARG_STR, &o->table, "CSV", "or a plain feature table: one row per sample"},
        {"root", 0, PTH_ARG_STR, &o->root, "DIR", "manifest paths are relative to DIR (default: the manifest's folder)"},
        {"path-col", 0, PTH_ARG_STR, &o->path_col, "NAME", "manifest column with the recording path (default: path)"},
        {"subject-col", 0, PTH_ARG_STR, &o->subject_col, "NAME", "column with the subject id (default: subject)"},
        {"label-col", 0, PTH_ARG_STR, &o->label_col, "NAME", "column with the class label 0..K-1 (default: label)"},
        {"id-col", 0, PTH_ARG_STR, &o->id_col, "NAME", "feature table: column with the record id (default: record_id)"},
        {"ignore", 0, PTH_ARG_STR, &o->ignore, "A,B", "feature table: columns that are not features"},
        {"skip-missing", 0, PTH_ARG_FLAG, &o->skip_missing, NULL, "skip manifest rows whose file does not exist"},
        {"families", 0, PTH_ARG_STR, &o->families, "LIST",
         "feature families: gaze,pose,au_r,au_c,landmarks2d,landmarks3d,eye,pdm|all|default"},
        {"min-confidence", 0, PTH_ARG_DOUBLE, &o->min_confidence, "X",
         "drop frames with OpenFace confidence below X (default 0.75)"},
        {"threads", 'j', PTH_ARG_INT, &o->threads, "N", "worker threads (default: all cores)"},
        {"quiet", 'q', PTH_ARG_FLAG, &o->quiet, NULL, "no progress on stderr"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const char *nm = specs[i].name;
        if (with_table || (strcmp(nm, "table") && strcmp(nm, "id-col") && strcmp(nm, "ignore")))
            out[n++] = specs[i];
    }
    return n;
}

typedef struct {
    const char *command;
} progress_ctx;


static void feature_progress(size_t done, size_t total, const char *path, void *user)
{
    (void)path;
    const progress_ctx *p = user;
    pth_cli_progress(p->command, done, total, "recordings summarised");
}

/* A bad --families value is a usage error (exit 2), reported before any file is read. */
static int check_families(const char *command, const pth_cli_data_opts *o)
{
    unsigned fam;
    pth_error err;
    if (o->families && pth_feature_families_parse(o->families, &fam, &err)) {
        fprintf(stderr, "pathos %s: %s\n", command, err.msg);
        return 2;
    }
    return 0;
}

/* Feature extraction settings shared by manifests and single recordings. */
static int feature_options(const char *command, const pth_cli_data_opts *o, pth_feature_options *fo,
                           progress_ctx *pc, pth_error *err)
{
    pth_feature_options_init(fo);
    fo->min_confidence = o->min_confidence;
    fo->threads = o->threads;
    if (!o->quiet) {
        pc->command = command;
        fo->progress = feature_progress;
        fo->progress_user = pc;
    }
    return o->families ? pth_feature_families_parse(o->families, &fo->families, err) : PTH_OK;
}

static int load_manifest(const char *command, const pth_cli_data_opts *o, int need_labels, pth_dataset *ds,
                         pth_error *err)
{
    pth_manifest_options mo;
    memset(&mo, 0, sizeof mo);
    mo.path_col = o->path_col;
    mo.subject_col = o->subject_col;
    mo.label_col = o->label_col;
    /* Labels may be absent when they are not needed, but an explicitly named column must exist. */
    mo.label_optional = !need_labels && !o->label_col;
    mo.root = o->root;
    mo.missing = o->skip_missing ? PTH_MISSING_SKIP : PTH_MISSING_ERROR;
    pth_feature_options fo;
    progress_ctx pc;
    int rc = feature_options(command, o, &fo, &pc, err);
    if (rc)
        return rc;
    pth_manifest m;
    if ((rc = pth_manifest_read(o->manifest, &mo, &m, err)))
        return rc;
    if (m.n_skipped && !o->quiet)
        fprintf(stderr, "pathos %s: %zu missing files skipped (manifest rows whose file does not exist); %zu left\n",
                command, m.n_skipped, m.n);
    rc = m.n ? pth_features_from_manifest(&m, &fo, ds, NULL, err)
             : pth_fail(err, PTH_ERR_INVALID, "%s: no recordings to process (%zu skipped as missing)", o->manifest,
                        m.n_skipped);
    pth_manifest_free(&m);
    return rc;
}

int pth_cli_load_recordings(const char *command, const pth_cli_data_opts *o, char **files, size_t n,
                            pth_dataset *ds)
{
    if (check_families(command, o))
        return 2;
    pth_error err;
    pth_error_clear(&err);
    pth_feature_options fo;
    progress_ctx pc;
    const char **subjects = malloc((n ? n : 1) * sizeof *subjects);
    int *labels = malloc((n ? n : 1) * sizeof *labels);
    int rc = !subjects || !labels ? pth_fail(&err, PTH_ERR_NOMEM, "out of memory")
                                  : feature_options(command, o, &fo, &pc, &err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *base = strrchr(files[i], '/');
        subjects[i] = base ? base + 1 : files[i];
        labels[i] = -1;
    }
    if (!rc)
        rc = pth_features_from_paths((const char *const *)files, NULL, subjects, labels, n, 0, &fo, ds, NULL, &err);
    free(subjects);
    free(labels);
    return rc ? pth_cli_fail(command, &err) : 0;
}

static int load_table(const pth_cli_data_opts *o, pth_dataset *ds, pth_error *err)
{
    pth_featuretable_options fo;
    memset(&fo, 0, sizeof fo);
    fo.subject_col = o->subject_col;
    fo.label_col = o->label_col;
    fo.id_col = o->id_col;
    size_t n_ignore = 0;
    char **ignore = o->ignore ? pth_cli_split_commas(o->ignore, &n_ignore) : NULL;
    fo.ignore = (const char *const *)ignore;
    fo.n_ignore = n_ignore;
    int rc = pth_dataset_read_csv(o->table, &fo, ds, err);
    pth_cli_free_strings(ignore, n_ignore);
    return rc;
}

int pth_cli_load_dataset(const char *command, const pth_cli_data_opts *o, int need_labels, pth_dataset *ds)
{
    if (check_families(command, o))
        return 2;
    if (!!o->manifest == !!o->table) {
        fprintf(stderr, "pathos %s: give exactly one of --manifest or --table (see --help)\n", command);
        return 2;
    }
    pth_error err;
    pth_error_clear(&err);
    int rc = o->manifest ? load_manifest(command, o, need_labels, ds, &err) : load_table(o, ds, &err);
    if (rc)
        return pth_cli_fail(command, &err);
    if (need_labels) {
        for (size_t i = 0; i < ds->n; i++)
            if (ds->y[i] < 0) {
                fprintf(stderr, "pathos %s: error: record '%s' has no label; every record needs one here\n", command,
                        ds->record_id[i] ? ds->record_id[i] : "?");
                pth_dataset_free(ds);
                return 1;
            }
    }
    if (!o->quiet)
        fprintf(stderr, "pathos %s: %zu records, %zu subjects, %zu features\n", command, ds->n,
                pth_dataset_n_subjects(ds), ds->d);
    return 0;
}
