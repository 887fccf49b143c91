/* `pathos features`: OpenFace recordings (a manifest, or one CSV) -> a feature table with one
 * row per recording (subject,label,record_id,features...), written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cmd_features.h"
#include "pathos/features.h"
#include "pathos/featuretable.h"
#include "pathos/manifest.h"

#define CMD "features"

typedef struct {
    const char *manifest, *root, *path_col, *subject_col, *label_col, *families, *output;
    int skip_missing, threads, quiet;
    double min_confidence;
} features_args;

static void on_progress(size_t done, size_t total, const char *path, void *user)
{
    (void)path;
    (void)user;
    pth_cli_progress(CMD, done, total, "recordings");
}

static int extract_manifest(const features_args *a, const pth_feature_options *fo, pth_dataset *ds,
                            size_t *skipped, pth_error *err)
{
    pth_manifest_options mo;
    memset(&mo, 0, sizeof mo);
    mo.path_col = a->path_col;
    mo.subject_col = a->subject_col;
    mo.label_col = a->label_col;
    /* Feature extraction does not need labels: a manifest without the (default) label column
     * gives an unlabelled table.  An explicitly named label column must exist. */
    mo.label_optional = a->label_col == NULL;
    mo.root = a->root;
    mo.missing = a->skip_missing ? PTH_MISSING_SKIP : PTH_MISSING_ERROR;
    pth_manifest m;
    int rc = pth_manifest_read(a->manifest, &mo, &m, err);
    if (rc)
        return rc;
    rc = m.n ? PTH_OK
             : pth_fail(err, PTH_ERR_INVALID, "%s: no recordings to process (%zu skipped as missing)", a->manifest,
                        m.n_skipped);
    if (!rc)
        rc = pth_features_from_manifest(&m, fo, ds, NULL, err);
    *skipped = m.n_skipped;
    pth_manifest_free(&m);
    return rc;
}

/* One recording: its subject is the file name (there is nothing better to group by). */
static int extract_single(const char *path, const pth_feature_options *fo, pth_dataset *ds, pth_error *err)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *paths[1] = {path}, *subjects[1] = {base};
    const int labels[1] = {-1};
    return pth_features_from_paths(paths, NULL, subjects, labels, 1, 0, fo, ds, NULL, err);
}

static int run(const features_args *a, const char *single)
{
    pth_error err;
    pth_feature_options fo;
    pth_feature_options_init(&fo);
    fo.threads = a->threads;
    fo.min_confidence = a->min_confidence;
    if (a->families && pth_feature_families_parse(a->families, &fo.families, &err)) {
        fprintf(stderr, "pathos %s: %s\n", CMD, err.msg);
        return 2;
    }
    if (a->manifest && !a->quiet) {
        fo.progress = on_progress;
    }
    pth_dataset ds;
    size_t skipped = 0;
    int rc = a->manifest ? extract_manifest(a, &fo, &ds, &skipped, &err) : extract_single(single, &fo, &ds, &err);
    if (rc)
        return pth_cli_fail(CMD, &err);
    rc = pth_dataset_write_csv(&ds, a->output, &err);
    if (!rc && !a->quiet) {
        fprintf(stderr, "pathos %s: %zu recordings x %zu features -> %s", CMD, ds.n, ds.d,
                strcmp(a->output, "-") ? a->output : "<stdout>");
        if (skipped)
            fprintf(stderr, " (%zu missing files skipped)", skipped);
        fputc('\n', stderr);
    }
    pth_dataset_free(&ds);
    return rc ? pth_cli_fail(CMD, &err) : 0;
}

int pth_cmd_features(int argc, char **argv)
{
    features_args a;
    memset(&a, 0, sizeof a);
    a.output = "-";
    a.threads = 0;
    a.min_confidence = PTH_FEATURE_MIN_CONFIDENCE;
    const pth_arg_spec specs[] = {
        {"manifest", 'm', PTH_ARG_STR, &a.manifest, "CSV", "manifest: one row per recording (path, subject, label)"},
        {"root", 0, PTH_ARG_STR, &a.root, "DIR", "resolve relative recording paths here (default: manifest's folder)"},
        {"path-col", 0, PTH_ARG_STR, &a.path_col, "NAME", "manifest column with the recording path (default path)"},
        {"subject-col", 0, PTH_ARG_STR, &a.subject_col, "NAME", "manifest column with the subject (default subject)"},
        {"label-col", 0, PTH_ARG_STR, &a.label_col, "NAME", "manifest column with the label (default label, if present)"},
        {"skip-missing", 0, PTH_ARG_FLAG, &a.skip_missing, NULL, "skip manifest rows whose file does not exist"},
        {"families", 'f', PTH_ARG_STR, &a.families, "LIST",
         "gaze,pose,au_r,au_c,landmarks2d,landmarks3d,eye,pdm, all (default gaze,pose,au_r,au_c)"},
        {"min-confidence", 0, PTH_ARG_DOUBLE, &a.min_confidence, "X",
         "drop rows with OpenFace confidence below X, if that column exists (default 0.75)"},
        {"threads", 'j', PTH_ARG_INT, &a.threads, "N", "recordings processed in parallel (default: all cores)"},
        {"output", 'o', PTH_ARG_STR, &a.output, "CSV", "output feature table (default: stdout)"},
        {"quiet", 'q', PTH_ARG_FLAG, &a.quiet, NULL, "no progress or summary on stderr"},
    };
    const pth_arg_parser p = {
        CMD,
        "pathos features (--manifest M.csv | REC.csv) [options] [-o out.csv]",
        "Summarises each OpenFace recording (padding and untracked rows dropped) into one row of\n"
        "statistics per column: mean, std (ddof 0), min, max, median, p10, p90 (linear\n"
        "interpolation), mean absolute first difference, and for AU*_c the fraction active\n"
        "(>= 0.5); plus n_valid_rows.  Output columns: subject,label,record_id,<features>.",
        specs,
        sizeof specs / sizeof specs[0],
        0,
        1,
    };
    char **pos;
    size_t npos;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((npos == 1) == (a.manifest != NULL)) {
        free(pos);
        fprintf(stderr, "pathos %s: give either --manifest M.csv or one recording CSV\nusage: %s\n", CMD, p.usage);
        return 2;
    }
    if (a.threads < 0) {
        free(pos);
        fprintf(stderr, "pathos %s: --threads must be >= 0\n", CMD);
        return 2;
    }
    const char *single = npos ? pos[0] : NULL;
    rc = run(&a, single);
    free(pos);
    return rc;
}
