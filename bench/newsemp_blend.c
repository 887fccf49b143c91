/* Blend of two NewsEmp cross-validation runs (bench/RESULTS-text-newsemp.md, session 7).
 *
 * Build (from the repository root, after building libpathos.a into build-ne/):
 *   cc -O2 -std=c11 -fopenmp -Iinclude bench/newsemp_blend.c build-ne/libpathos.a \
 *      $(pkg-config --libs libutf8proc openblas libcjson) -lxgboost -lm -o build-ne/newsemp_blend
 * Run:
 *   build-ne/newsemp_blend A.csv B.csv [WEIGHT]
 * A.csv, B.csv: --preds files of build-ne/newsemp_cv on the SAME folds (same seed and split).
 * Prints, per target, the mean per-fold Pearson r (as newsemp_cv does), the pooled r and the
 * MAE of (1 - WEIGHT) * pred_A + WEIGHT * pred_B (WEIGHT default 0.5, fixed in advance: it is
 * not tuned, so no test fold chooses anything).  Point predictions only: the conformal
 * intervals of the two runs are calibrated for each run alone, not for the blend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/newsemp.h"

#define MAXROWS 20000
#define NFOLD 100

typedef struct {
    long row;
    int fold, target; /* target 0 = empathy, 1 = distress */
    double y, pred;
} prow;

/* Reads a --preds file: row,message_id,fold,target,y,pred,lo,hi.  Returns the row count, -1 on error. */
static long read_preds(const char *path, prow *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    long n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n < MAXROWS && fgets(line, sizeof line, f)) {
        char mid[512], tgt[32];
        prow *p = out + n;
        if (sscanf(line, "%ld,%511[^,],%d,%31[^,],%lf,%lf", &p->row, mid, &p->fold, tgt, &p->y, &p->pred) != 6 ||
            p->fold < 0 || p->fold >= NFOLD) {
            fclose(f);
            return -1;
        }
        p->target = strcmp(tgt, "distress") == 0;
        n++;
    }
    fclose(f);
    return n;
}

/* Mean per-fold Pearson r of the blend for one target. */
static double fold_mean_r(const prow *a, const prow *b, long n, int t, double w, double *x, double *y)
{
    double s = 0;
    int nf = 0;
    for (int k = 0; k < NFOLD; k++) {
        size_t q = 0;
        for (long i = 0; i < n; i++)
            if (a[i].target == t && a[i].fold == k) {
                x[q] = (1 - w) * a[i].pred + w * b[i].pred;
                y[q++] = a[i].y;
            }
        if (q >= 3) {
            s += pth_text_pearson(x, y, q);
            nf++;
        }
    }
    return nf ? s / nf : NAN;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s A.csv B.csv [WEIGHT]\n", argv[0]);
        return 2;
    }
    double w = argc > 3 ? atof(argv[3]) : 0.5;
    prow *a = malloc(MAXROWS * sizeof *a), *b = malloc(MAXROWS * sizeof *b);
    double *x = malloc(MAXROWS * sizeof *x), *y = malloc(MAXROWS * sizeof *y);
    if (!a || !b || !x || !y)
        return 1;
    long na = read_preds(argv[1], a), nb = read_preds(argv[2], b);
    int ok = na > 0 && na == nb;
    for (long i = 0; ok && i < na; i++)
        ok = a[i].row == b[i].row && a[i].fold == b[i].fold && a[i].target == b[i].target && a[i].y == b[i].y;
    if (!ok) {
        fprintf(stderr, "error: unreadable files, or the two runs differ in rows, folds or targets\n");
        return 1;
    }
    const char *names[2] = {"empathy", "distress"};
    for (int t = 0; t < 2; t++) {
        size_t q = 0;
        double mae = 0;
        for (long i = 0; i < na; i++)
            if (a[i].target == t) {
                x[q] = (1 - w) * a[i].pred + w * b[i].pred;
                y[q] = a[i].y;
                mae += fabs(x[q] - y[q]);
                q++;
            }
        double pooled = pth_text_pearson(x, y, q);
        double r = fold_mean_r(a, b, na, t, w, x, y);
        printf("%-8s weight %.2f: r %.3f (pooled %.3f)  MAE %.3f\n", names[t], w, r, pooled, mae / (double)q);
    }
    free(a), free(b), free(x), free(y);
    return 0;
}
