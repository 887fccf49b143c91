/* A deterministic SYNTHETIC stand-in for the hri-empathy dataset, in exactly its format:
 * per-recording OpenFace CSVs (the same 710-column header with the unnamed index column and
 * the leading spaces, left-padded with all-zero rows) plus a manifest.
 *
 * Layout written under out_dir:
 *   video_features/synth_sNN_storyR.csv   one per subject x recording
 *   manifest.csv                          path,subject,label,story_id  (paths relative to out_dir)
 *   README.txt                            says the data is synthetic and what is planted
 *
 * Planted structure (so that evaluation protocols can be checked end to end):
 *   - labels: subjects come in pairs with complementary labels, so the classes are balanced
 *     exactly (for an even number of subjects); each subject has a propensity: each of its
 *     recordings gets its "preferred" label with probability subject_label_prob;
 *   - a strong subject-identity confound: every subject has a random offset ("face") on every
 *     column (landmarks, pose, gaze, AUs), independent of the labels.  Record-level CV that
 *     sees a subject's other recordings can exploit propensity + identity; subject-grouped
 *     CV cannot;
 *   - a weak genuine label signal: AU06_r, AU12_r and AU25_r recording means are shifted by
 *     `signal` x 1.2 between-subject standard deviations (0.18 intensity units) for label 1
 *     (presence AU06_c, AU12_c, AU25_c follow).  signal = 0 removes it, and grouped CV is then
 *     at chance on average -- but with 42 subjects whose labels cluster, one dataset's grouped
 *     AUC scatters widely around 0.5 (about 0.35-0.65 over seeds), so compare across seeds.
 * Everything derives from pth_rng streams of `seed`: the same options give byte-identical
 * files. */
#ifndef PATHOS_SYNTH_H
#define PATHOS_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t seed;             /* default 1 */
    size_t n_subjects;         /* default 42 */
    size_t n_recordings;       /* per subject, default 3 (story_id 1..n) */
    size_t n_rows;             /* rows per CSV including the zero padding, default 60 */
    double signal;             /* label effect size multiplier, default 1.0; 0 = none */
    double subject_label_prob; /* P(recording has its subject's preferred label), default 0.9 */
} pth_synth_options;

void pth_synth_options_init(pth_synth_options *opts);

/* Writes the dataset (creating out_dir and out_dir/video_features as needed).  Every file is
 * written through pth_outfile (temporary + rename), the manifest last, so a failure never
 * leaves a manifest that points at missing or partial recordings.  opts may be NULL.
 * Limits: 1..10000 subjects, 1..100 recordings, 1..100000 rows, signal and probability
 * finite, probability in [0, 1]. */
int pth_synth_write(const char *out_dir, const pth_synth_options *opts, pth_error *err);

/* The OpenFace column names in file order, without the index column and without the
 * leading space: "gaze_0_x" .. "AU45_c" (709 names).  The name of column i (< n_columns)
 * is written to buf (32 bytes suffice). */
size_t pth_synth_n_columns(void);
void pth_synth_column_name(size_t i, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
