/* `pathos synth`: writes a synthetic dataset in the hri-empathy format and prints the path
 * of its manifest on stdout (so it can feed `pathos features --manifest "$(pathos synth ...)"`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cmd_features.h"
#include "pathos/synth.h"

#define CMD "synth"

/* Counts come in as int options; values below 1 are usage errors. */
static int to_count(const char *what, int v, size_t *out)
{
    if (v < 1) {
        fprintf(stderr, "pathos %s: --%s must be >= 1 (got %d)\n", CMD, what, v);
        return 2;
    }
    *out = (size_t)v;
    return 0;
}

int pth_cmd_synth(int argc, char **argv)
{
    pth_synth_options o;
    pth_synth_options_init(&o);
    const char *out_dir = NULL;
    int subjects = (int)o.n_subjects, recordings = (int)o.n_recordings, rows = (int)o.n_rows;
    uint64_t seed = o.seed;
    const pth_arg_spec specs[] = {
        {"output", 'o', PTH_ARG_STR, &out_dir, "DIR", "output folder (created; files inside are replaced)"},
        {"seed", 's', PTH_ARG_U64, &seed, "S", "random seed (default 1); same seed, same bytes"},
        {"subjects", 0, PTH_ARG_INT, &subjects, "N", "number of subjects (default 42)"},
        {"recordings", 0, PTH_ARG_INT, &recordings, "N", "recordings per subject (default 3)"},
        {"rows", 0, PTH_ARG_INT, &rows, "N", "rows per recording incl. zero padding (default 60; real files 565)"},
        {"signal", 0, PTH_ARG_DOUBLE, &o.signal, "X", "label effect size multiplier (default 1; 0 = no signal)"},
        {"subject-label-prob", 0, PTH_ARG_DOUBLE, &o.subject_label_prob, "P",
         "P(recording has its subject's preferred label) (default 0.9)"},
    };
    const pth_arg_parser p = {
        CMD,
        "pathos synth -o DIR [--seed S] [--subjects 42] [--recordings 3] [--rows 60] [--signal 1.0]",
        "Writes a SYNTHETIC dataset in the hri-empathy format: DIR/video_features/*.csv (OpenFace\n"
        "columns, zero-padded), DIR/manifest.csv (path,subject,label,story_id) and DIR/README.txt.\n"
        "Planted: a weak label signal in AU06_r/AU12_r/AU25_r and a strong subject confound\n"
        "(subject offsets + label propensity), so record-level CV beats subject-grouped CV.\n"
        "Prints the manifest path on stdout.",
        specs,
        sizeof specs / sizeof specs[0],
        0,
        0,
    };
    char **pos;
    size_t npos;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    if (rc)
        return rc < 0 ? 0 : rc;
    free(pos);
    if (!out_dir) {
        fprintf(stderr, "pathos %s: -o DIR is required\nusage: %s\n", CMD, p.usage);
        return 2;
    }
    o.seed = seed;
    if ((rc = to_count("subjects", subjects, &o.n_subjects)) || (rc = to_count("recordings", recordings, &o.n_recordings)) ||
        (rc = to_count("rows", rows, &o.n_rows)))
        return rc;
    pth_error err;
    if (pth_synth_write(out_dir, &o, &err))
        return pth_cli_fail(CMD, &err);
    printf("%s/manifest.csv\n", out_dir);
    return fflush(stdout) == 0 ? 0 : 1;
}
