/* Blend of NewsEmp cross-validation runs (bench/RESULTS-text-newsemp.md, session 7).
 *
 * Build (from the repository root, after building libpathos.a into build-ne/):
 *   cc -O2 -std=c11 -fopenmp -Iinclude bench/newsemp_blend.c build-ne/libpathos.a \
 *      $(pkg-config --libs libutf8proc openblas libcjson) -lxgboost -lm -o build-ne/newsemp_blend
 * Run:
 *   build-ne/newsemp_blend A.csv B.csv [C.csv ...]
 * The files: --preds files of build-ne/newsemp_cv on the SAME folds (same seed and split).
 * Prints, per target, the mean per-fold Pearson r (as newsemp_cv does), the pooled r and the
 * MAE of the plain mean of the runs' predictions (equal weights, fixed in advance: nothing is
 * tuned, so no test fold chooses anything).  Point predictions only: the conformal intervals
 * of the runs are calibrated for each run alone, not for the blend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/newsemp.h"

#define MAXROWS 20000
#define NFOLD 100
#define MAXRUNS 8

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

/* Mean per-fold Pearson r for one target of predictions p (aligned with a). */
static double fold_mean_r(const prow *a, const double *p, long n, int t, double *x, double *y)
{
    double s = 0;
    int nf = 0;
    for (int k = 0; k < NFOLD; k++) {
        size_t q = 0;
        for (long i = 0; i < n; i++)
            if (a[i].target == t && a[i].fold == k) {
                x[q] = p[i];
                y[q++] = a[i].y;
            }
        if (q >= 3) {
            s += pth_text_pearson(x, y, q);
            nf++;
        }
    }
    return nf ? s / nf : NAN;
}

static int same_rows(const prow *a, const prow *b, long n)
{
    for (long i = 0; i < n; i++)
        if (a[i].row != b[i].row || a[i].fold != b[i].fold || a[i].target != b[i].target || a[i].y != b[i].y)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    int nrun = argc - 1;
    if (nrun < 2 || nrun > MAXRUNS) {
        fprintf(stderr, "usage: %s A.csv B.csv [C.csv ...] (2..%d runs)\n", argv[0], MAXRUNS);
        return 2;
    }
    prow *a = malloc(MAXROWS * sizeof *a), *b = malloc(MAXROWS * sizeof *b);
    double *p = calloc(MAXROWS, sizeof *p), *x = malloc(MAXROWS * sizeof *x), *y = malloc(MAXROWS * sizeof *y);
    if (!a || !b || !p || !x || !y)
        return 1;
    long n = read_preds(argv[1], a);
    int ok = n > 0;
    for (int k = 1; ok && k <= nrun; k++) {
        ok = read_preds(argv[k], b) == n && same_rows(a, b, n);
        for (long i = 0; ok && i < n; i++)
            p[i] += b[i].pred / nrun;
    }
    if (!ok) {
        fprintf(stderr, "error: unreadable files, or the runs differ in rows, folds or targets\n");
        return 1;
    }
    const char *names[2] = {"empathy", "distress"};
    for (int t = 0; t < 2; t++) {
        size_t q = 0;
        double mae = 0;
        for (long i = 0; i < n; i++)
            if (a[i].target == t) {
                x[q] = p[i];
                y[q] = a[i].y;
                mae += fabs(x[q] - y[q]);
                q++;
            }
        double pooled = pth_text_pearson(x, y, q);
        double r = fold_mean_r(a, p, n, t, x, y);
        printf("%-8s mean of %d runs: r %.3f (pooled %.3f)  MAE %.3f\n", names[t], nrun, r, pooled, mae / (double)q);
    }
    free(a), free(b), free(p), free(x), free(y);
    return 0;
}
