/* `pathos eval`: cross-validate learners under a subject-independent (or, for comparison,
 * leaky) protocol and print a comparison table (or JSON). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/dataset_opts.h"
#include "cli/learner_opts.h"
#include "pathos/eval.h"

typedef struct {
    const char *protocol, *learners, *tabpfn_model;
    const char *json_out, *folds_out, *pred_out, *fold_metrics_out, *table_out;
    int json, folds, repeats, bootstrap;
    uint64_t seed;
    double threshold;
    pth_arg_list params;
} eval_opts;

static void eval_progress(void *ctx, size_t done, size_t total, const char *what)
{
    (void)what;
    (void)ctx;
    pth_cli_progress("eval", done, total, "fits");
}

/* Runs every requested writer; the first failure wins. */
static int write_outputs(const eval_opts *o, const pth_eval_result *res, pth_error *err)
{
    int rc = 0;
    if (!rc && o->folds_out)
        rc = pth_eval_write_folds_csv(res, o->folds_out, err);
    if (!rc && o->pred_out)
        rc = pth_eval_write_predictions_csv(res, o->pred_out, err);
    if (!rc && o->fold_metrics_out)
        rc = pth_eval_write_fold_metrics_csv(res, o->fold_metrics_out, err);
    if (!rc && o->json_out)
        rc = pth_eval_write_json(res, o->json_out, err);
    if (!rc && o->table_out)
        rc = pth_eval_write_table(res, o->table_out, err);
    if (!rc)
        rc = o->json ? pth_eval_write_json(res, "-", err) : pth_eval_write_table(res, "-", err);
    return rc;
}

int pth_cmd_eval(int argc, char **argv)
{
    pth_cli_data_opts d;
    pth_cli_data_opts_init(&d);
    eval_opts o = {.protocol = "grouped", .learners = "all", .folds = 5, .repeats = 10, .bootstrap = 1000,
                   .seed = 42, .threshold = 0.5};
    pth_arg_spec specs[PTH_CLI_DATA_MAX_SPECS + 20];
    size_t ns = pth_cli_data_specs(&d, specs, 1);
    const pth_arg_spec own[] = {
        {"protocol", 'p', PTH_ARG_STR, &o.protocol, "P",
         "grouped (subject-independent stratified k-fold, default) | loso | leaky (record-level k-fold)"},
        {"folds", 'k', PTH_ARG_INT, &o.folds, "K", "number of folds (default 5; ignored by loso)"},
        {"repeats", 'r', PTH_ARG_INT, &o.repeats, "R", "repeat CV with R fold seeds (default 10)"},
        {"seed", 's', PTH_ARG_U64, &o.seed, "S", "seed for folds and learners (default 42)"},
        {"learners", 'l', PTH_ARG_STR, &o.learners, "LIST", "comma-separated learners, or all (default)"},
        {"param", 0, PTH_ARG_LIST, &o.params, "L.K=V", "learner option, e.g. xgboost.max_depth=3 (repeatable)"},
        {"tabpfn-model", 0, PTH_ARG_STR, &o.tabpfn_model, "PATH", "TabPFN v2 checkpoint (.ckpt/.safetensors) for tabpfn"},
        {"model", 0, PTH_ARG_STR, &o.tabpfn_model, "PATH", "same as --tabpfn-model"},
        {"threshold", 0, PTH_ARG_DOUBLE, &o.threshold, "X", "decision threshold on P(y=1) (default 0.5)"},
        {"bootstrap", 0, PTH_ARG_INT, &o.bootstrap, "B", "bootstrap resamples for 95% CIs (default 1000; 0 = off)"},
        {"json", 0, PTH_ARG_FLAG, &o.json, NULL, "print JSON on stdout instead of the table"},
        {"json-out", 0, PTH_ARG_STR, &o.json_out, "FILE", "also write the JSON report to FILE"},
        {"table-out", 0, PTH_ARG_STR, &o.table_out, "FILE", "also write the text table to FILE"},
        {"folds-out", 0, PTH_ARG_STR, &o.folds_out, "FILE", "write the folds used (record_id,subject,repeat,fold)"},
        {"predictions-out", 0, PTH_ARG_STR, &o.pred_out, "FILE", "write out-of-fold predictions per record"},
        {"fold-metrics-out", 0, PTH_ARG_STR, &o.fold_metrics_out, "FILE", "write per-fold metrics CSV"},
    };
    memcpy(specs + ns, own, sizeof own);
    ns += sizeof own / sizeof own[0];
    pth_arg_parser p = {"eval", "pathos eval (--manifest M.csv | --table T.csv) [options]",
                        "Cross-validates learners with the same folds for each and prints mean +- std over "
                        "repeats of accuracy, balanced accuracy, ROC AUC, F1, MCC, log loss, Brier and ECE.\n"
                        "The default protocol never lets a subject appear in both train and test; "
                        "'leaky' is there to show how much record-level CV inflates scores.",
                        specs, ns, 0, 0};
    char **pos;
    size_t npos;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    if (rc)
        return rc < 0 ? 0 : rc;
    free(pos);

    pth_error err;
    pth_error_clear(&err);
    pth_eval_options eo;
    pth_eval_options_init(&eo);
    if (pth_split_kind_parse(o.protocol, &eo.protocol, &err)) {
        pth_args_free_list(&o.params);
        fprintf(stderr, "pathos eval: %s\n", err.msg);
        return 2;
    }
    if (o.folds < 2 || o.repeats < 1 || o.bootstrap < 0) {
        pth_args_free_list(&o.params);
        fprintf(stderr, "pathos eval: need --folds >= 2, --repeats >= 1, --bootstrap >= 0\n");
        return 2;
    }
    eo.k = (size_t)o.folds;
    eo.repeats = (size_t)o.repeats;
    eo.seed = o.seed;
    eo.threads = d.threads;
    eo.threshold = o.threshold;
    eo.bootstrap = (size_t)o.bootstrap;
    if (!d.quiet)
        eo.progress = eval_progress;

    pth_cli_learners L;
    rc = pth_cli_learners_build("eval", o.learners, &o.params, o.tabpfn_model, o.seed, 0, &L);
    if (rc) {
        pth_cli_learners_free(&L);
        pth_args_free_list(&o.params);
        return rc;
    }
    pth_dataset ds;
    rc = pth_cli_load_dataset("eval", &d, 1, &ds);
    if (rc) {
        pth_cli_learners_free(&L);
        pth_args_free_list(&o.params);
        return rc;
    }
    pth_eval_result res;
    rc = pth_eval_run(&ds, L.cfgs, L.display, L.n, &eo, &res, &err);
    if (!rc) {
        rc = write_outputs(&o, &res, &err);
        pth_eval_result_free(&res);
    }
    pth_dataset_free(&ds);
    pth_cli_learners_free(&L);
    pth_args_free_list(&o.params);
    return rc ? pth_cli_fail("eval", &err) : 0;
}
