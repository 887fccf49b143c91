/* Plain feature tables <-> pth_dataset.
 *
 * A feature table is a CSV with one row per sample: a subject column, an optional label
 * column, an optional record-id column, and every other column a numeric feature (missing
 * cells are NaN).  pth_dataset_write_csv writes exactly this layout
 * (subject,label,record_id,features...) with %.17g, so write -> read is bit-exact
 * (except +-inf, which reads back as missing). */
#ifndef PATHOS_FEATURETABLE_H
#define PATHOS_FEATURETABLE_H

#include <stddef.h>

#include "pathos/dataset.h"
#include "pathos/error.h"
#include "pathos/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *subject_col;   /* NULL: "subject" (must exist); "": one subject per row (= record id) */
    const char *label_col;     /* NULL: "label" when present, else unlabelled; "": unlabelled */
    const char *id_col;        /* NULL: "record_id" when present, else the 0-based row number; "": row number */
    const char *const *ignore; /* column names that are not features (each must exist) */
    size_t n_ignore;
    int n_classes;             /* >0: labels must be < n_classes; 0: largest label + 1 */
} pth_featuretable_options;

/* Labels must be integers >= 0 (empty/NA: unlabelled, -1).  A non-numeric feature cell is
 * an error "file:line: column 'x': expected a number, found 'abc'".  opts may be NULL. */
int pth_dataset_from_table(const pth_table *t, const pth_featuretable_options *opts, pth_dataset *out,
                           pth_error *err);
/* pth_csv_read + pth_dataset_from_table, keeping the subject/id columns' exact spelling. */
int pth_dataset_read_csv(const char *path, const pth_featuretable_options *opts, pth_dataset *out,
                         pth_error *err);
/* Writes subject,label,record_id,<feature names> (through pth_outfile; "-" is stdout).
 * Missing labels and NaN features are empty cells; text is quoted when needed.  A feature
 * named like another column is an error (the file could not be read back). */
int pth_dataset_write_csv(const pth_dataset *ds, const char *path, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
