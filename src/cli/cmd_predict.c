/* `pathos predict`: apply a saved model to recordings (manifest, feature table, or single
 * OpenFace CSVs) and write class probabilities per recording. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/dataset_opts.h"
#include "cli/learner_opts.h"
#include "pathos/csv.h"
#include "pathos/io.h"
#include "pathos/learner.h"

/* The model's features, looked up by name in the dataset: the column order of a new
 * feature table need not match, but every feature the model was trained on must exist. */
static double *align_features(const pth_model *m, const pth_dataset *ds, pth_error *err)
{
    size_t d = pth_model_n_features(m);
    const char *const *names = pth_model_feature_names(m);
    size_t *col = malloc((d ? d : 1) * sizeof *col);
    double *X = malloc((ds->n * d + 1) * sizeof *X);
    if (!col || !X) {
        free(col);
        free(X);
        pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t j = 0; j < d; j++) {
        size_t k = 0;
        if (names && names[j]) {
            while (k < ds->d && (!ds->feature_names[k] || strcmp(ds->feature_names[k], names[j])))
                k++;
        } else {
            k = ds->d == d ? j : ds->d;
        }
        if (k == ds->d) {
            pth_fail(err, PTH_ERR_INVALID,
                     "the model needs feature '%s', which the input does not have (were the same --families "
                     "used as in training?)",
                     names && names[j] ? names[j] : "?");
            free(col);
            free(X);
            return NULL;
        }
        col[j] = k;
    }
    for (size_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = ds->X[i * ds->d + col[j]];
    free(col);
    return X;
}

static int write_predictions(const char *path, const pth_dataset *ds, const double *proba, int K, pth_error *err)
{
    pth_outfile of;
    int rc = pth_outfile_open(&of, path, err);
    if (rc)
        return rc;
    fputs("record_id,subject,label", of.fp);
    for (int k = 0; k < K; k++)
        fprintf(of.fp, ",p%d", k);
    fputs(",predicted\n", of.fp);
    for (size_t i = 0; i < ds->n; i++) {
        pth_csv_write_field(of.fp, ds->record_id[i] ? ds->record_id[i] : "");
        fputc(',', of.fp);
        pth_csv_write_field(of.fp, ds->subject[i] ? ds->subject[i] : "");
        if (ds->y[i] >= 0)
            fprintf(of.fp, ",%d", ds->y[i]);
        else
            fputc(',', of.fp);
        int best = 0;
        for (int k = 0; k < K; k++) {
            fprintf(of.fp, ",%.9g", proba[i * (size_t)K + (size_t)k]);
            if (proba[i * (size_t)K + (size_t)k] > proba[i * (size_t)K + (size_t)best])
                best = k;
        }
        fprintf(of.fp, ",%d\n", best);
    }
    return pth_outfile_commit(&of, err);
}

int pth_cmd_predict(int argc, char **argv)
{
    pth_cli_data_opts d;
    pth_cli_data_opts_init(&d);
    const char *model_path = NULL, *out = "-";
    pth_arg_spec specs[PTH_CLI_DATA_MAX_SPECS + 4];
    size_t ns = pth_cli_data_specs(&d, specs, 1);
    const pth_arg_spec own[] = {
        {"model", 'M', PTH_ARG_STR, &model_path, "FILE", "model written by `pathos train` (required)"},
        {"output", 'o', PTH_ARG_STR, &out, "FILE", "CSV of probabilities (default: stdout)"},
    };
    memcpy(specs + ns, own, sizeof own);
    ns += sizeof own / sizeof own[0];
    pth_arg_parser p = {"predict",
                        "pathos predict --model model.pthm (--manifest M.csv | --table T.csv | REC.csv...)",
                        "Writes one CSV row per recording: record_id, subject, label (if known), the "
                        "probability of each class p0..pK-1, and the predicted class.",
                        specs, ns, 0, 100000};
    char **pos;
    size_t npos;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!model_path) {
        free(pos);
        fprintf(stderr, "pathos predict: --model is required\n");
        return 2;
    }
    if (npos && (d.manifest || d.table)) {
        free(pos);
        fprintf(stderr, "pathos predict: give recordings as arguments or --manifest/--table, not both\n");
        return 2;
    }
    pth_error err;
    pth_error_clear(&err);
    pth_model *m = pth_model_load(model_path, &err);
    if (!m) {
        free(pos);
        return pth_cli_fail("predict", &err);
    }
    if (!strcmp(pth_model_learner(m), "tabpfn"))
        pth_cli_tabpfn_notice("predict");
    pth_dataset ds;
    rc = npos ? pth_cli_load_recordings("predict", &d, pos, npos, &ds) : pth_cli_load_dataset("predict", &d, 0, &ds);
    free(pos);
    if (rc) {
        pth_model_free(m);
        return rc;
    }
    int K = pth_model_n_classes(m);
    double *X = align_features(m, &ds, &err);
    double *proba = malloc((ds.n * (size_t)K + 1) * sizeof *proba);
    rc = !X || !proba;
    if (!rc)
        rc = pth_model_predict_proba(m, X, ds.n, proba, &err);
    if (!rc)
        rc = write_predictions(out, &ds, proba, K, &err);
    if (X && !proba)
        pth_fail(&err, PTH_ERR_NOMEM, "out of memory");
    free(X);
    free(proba);
    pth_dataset_free(&ds);
    pth_model_free(m);
    return rc ? pth_cli_fail("predict", &err) : 0;
}
