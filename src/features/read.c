/* One recording from an OpenFace CSV file on disk. */
#include <string.h>

#include "pathos/features.h"

int pth_features_from_file(const char *path, const pth_feature_options *opts, pth_feature_vector *out,
                           pth_error *err)
{
    memset(out, 0, sizeof *out);
    pth_table t;
    int rc = pth_csv_read(path, NULL, &t, err);
    if (rc)
        return rc;
    rc = pth_features_from_table(&t, opts, out, err);
    pth_table_free(&t);
    return rc;
}
