/* `pathos train`: fit one learner on a whole dataset and save a versioned model file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/dataset_opts.h"
#include "cli/learner_opts.h"
#include "pathos/learner.h"

int pth_cmd_train(int argc, char **argv)
{
    pth_cli_data_opts d;
    pth_cli_data_opts_init(&d);
    const char *learner = "xgboost", *out = NULL, *tabpfn_model = NULL;
    uint64_t seed = 42;
    pth_arg_list params = {0};
    pth_arg_spec specs[PTH_CLI_DATA_MAX_SPECS + 8];
    size_t ns = pth_cli_data_specs(&d, specs, 1);
    const pth_arg_spec own[] = {
        {"learner", 'l', PTH_ARG_STR, &learner, "NAME", "learner to fit (default xgboost)"},
        {"param", 0, PTH_ARG_LIST, &params, "K=V", "learner option, e.g. max_depth=3 (repeatable)"},
        {"tabpfn-model", 0, PTH_ARG_STR, &tabpfn_model, "PATH", "TabPFN v2 checkpoint for --learner tabpfn"},
        {"model", 0, PTH_ARG_STR, &tabpfn_model, "PATH", "same as --tabpfn-model"},
        {"seed", 's', PTH_ARG_U64, &seed, "S", "seed (default 42)"},
        {"output", 'o', PTH_ARG_STR, &out, "FILE", "model file to write (required)"},
    };
    memcpy(specs + ns, own, sizeof own);
    ns += sizeof own / sizeof own[0];
    pth_arg_parser p = {"train", "pathos train (--manifest M.csv | --table T.csv) --learner NAME -o model.pthm",
                        "Fits one learner on every labelled record (preprocessing is fitted on these rows) and "
                        "writes a model file that `pathos predict` applies to new recordings.",
                        specs, ns, 0, 0};
    char **pos;
    size_t npos;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    if (rc)
        return rc < 0 ? 0 : rc;
    free(pos);
    if (!out) {
        pth_args_free_list(&params);
        fprintf(stderr, "pathos train: -o/--output is required\n");
        return 2;
    }
    pth_cli_learners L;
    rc = pth_cli_learners_build("train", learner, &params, tabpfn_model, seed, d.threads, &L);
    if (!rc && L.n != 1) {
        fprintf(stderr, "pathos train: give exactly one learner\n");
        rc = 2;
    }
    pth_dataset ds;
    if (!rc)
        rc = pth_cli_load_dataset("train", &d, 1, &ds);
    if (rc) {
        pth_cli_learners_free(&L);
        pth_args_free_list(&params);
        return rc;
    }
    pth_error err;
    pth_error_clear(&err);
    pth_model *m = pth_model_fit(&L.cfgs[0], ds.X, ds.y, ds.n, ds.d, ds.n_classes,
                                 (const char *const *)ds.feature_names, &err);
    rc = m ? pth_model_save(m, out, &err) : 1;
    if (!rc && !d.quiet)
        fprintf(stderr, "pathos train: %s model on %zu records x %zu features written to %s\n", L.names[0], ds.n,
                ds.d, out);
    pth_model_free(m);
    pth_dataset_free(&ds);
    pth_cli_learners_free(&L);
    pth_args_free_list(&params);
    return rc ? pth_cli_fail("train", &err) : 0;
}
