/* Options every dataset-consuming subcommand (eval, train, predict, features) shares:
 * either a manifest of OpenFace recordings (summarised into features on the fly) or a
 * plain feature table, with the column names and filters that go with them. */
#ifndef PATHOS_CLI_DATASET_OPTS_H
#define PATHOS_CLI_DATASET_OPTS_H

#include "cli/args.h"
#include "pathos/dataset.h"

typedef struct {
    const char *manifest, *table, *root;
    const char *path_col, *subject_col, *label_col, *id_col;
    const char *families, *ignore;
    int skip_missing;
    double min_confidence;
    int threads;
    int quiet;
} pth_cli_data_opts;

#define PTH_CLI_DATA_MAX_SPECS 14

void pth_cli_data_opts_init(pth_cli_data_opts *o);
/* Writes the shared option specs into out (room for PTH_CLI_DATA_MAX_SPECS); returns how many.
 * with_table: include the feature-table options (--table, --id-col, --ignore). */
size_t pth_cli_data_specs(pth_cli_data_opts *o, pth_arg_spec *out, int with_table);
/* Loads the dataset the options describe.  need_labels: every row must be labelled.
 * Prints progress on stderr unless o->quiet.  Returns 0 or an exit code (1 runtime, 2 usage). */
int pth_cli_load_dataset(const char *command, const pth_cli_data_opts *o, int need_labels, pth_dataset *ds);
/* Single OpenFace recordings named on the command line, unlabelled; each file's base name
 * is its subject (there is nothing better to group by).  Same return convention. */
int pth_cli_load_recordings(const char *command, const pth_cli_data_opts *o, char **files, size_t n,
                            pth_dataset *ds);

#endif
