/* `pathos features`: OpenFace recordings (a manifest, or CSVs named on the command line) ->
 * a feature table with one row per recording (subject,label,record_id,features...),
 * written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cmd_features.h"
#include "cli/dataset_opts.h"
#include "pathos/featuretable.h"

#define CMD "features"

int pth_cmd_features(int argc, char **argv)
{
    pth_cli_data_opts d;
    pth_cli_data_opts_init(&d);
    const char *output = "-";
    pth_arg_spec specs[PTH_CLI_DATA_MAX_SPECS + 2];
    size_t ns = pth_cli_data_specs(&d, specs, 0);
    specs[ns++] = (pth_arg_spec){"output", 'o', PTH_ARG_STR, &output, "CSV", "output feature table (default: stdout)"};
    const pth_arg_parser p = {
        CMD,
        "pathos features (--manifest M.csv | REC.csv...) [options] [-o out.csv]",
        "Summarises each OpenFace recording (padding and untracked rows dropped) into one row of\n"
        "statistics per column: mean, std (ddof 0), min, max, median, p10, p90 (linear\n"
        "interpolation), mean absolute first difference, and for AU*_c the fraction active\n"
        "(>= 0.5); plus n_valid_rows.  Output columns: subject,label,record_id,<features>.",
        specs,
        ns,
        0,
        100000,
    };
    char **pos;
    size_t npos;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((npos > 0) == (d.manifest != NULL)) {
        free(pos);
        fprintf(stderr, "pathos %s: give either --manifest M.csv or recording CSVs\nusage: %s\n", CMD, p.usage);
        return 2;
    }
    if (d.threads < 0) {
        free(pos);
        fprintf(stderr, "pathos %s: --threads must be >= 0\n", CMD);
        return 2;
    }
    pth_dataset ds;
    rc = npos ? pth_cli_load_recordings(CMD, &d, pos, npos, &ds) : pth_cli_load_dataset(CMD, &d, 0, &ds);
    free(pos);
    if (rc)
        return rc;
    pth_error err;
    pth_error_clear(&err);
    rc = pth_dataset_write_csv(&ds, output, &err);
    if (!rc && !d.quiet)
        fprintf(stderr, "pathos %s: %zu recordings x %zu features -> %s\n", CMD, ds.n, ds.d,
                strcmp(output, "-") ? output : "<stdout>");
    pth_dataset_free(&ds);
    return rc ? pth_cli_fail(CMD, &err) : 0;
}
