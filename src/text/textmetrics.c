/* Multi-label / multi-class F1 and threshold tuning (see include/pathos/textmetrics.h). */
#include "pathos/textmetrics.h"

#include <stdlib.h>
#include <string.h>

double pth_f1_counts(size_t tp, size_t fp, size_t fn)
{
    size_t den = 2 * tp + fp + fn;
    return den ? 2.0 * (double)tp / (double)den : 0.0;
}

void pth_multilabel_f1(const unsigned char *gold, const unsigned char *pred, size_t n, size_t L,
                       double *per_label, pth_ml_scores *out)
{
    size_t TP = 0, FP = 0, FN = 0;
    double macro = 0, samples = 0;
    for (size_t l = 0; l < L; l++) {
        size_t tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < n; i++) {
            int g = gold[i * L + l] != 0, p = pred[i * L + l] != 0;
            tp += (size_t)(g && p);
            fp += (size_t)(!g && p);
            fn += (size_t)(g && !p);
        }
        double f = pth_f1_counts(tp, fp, fn);
        if (per_label)
            per_label[l] = f;
        macro += f;
        TP += tp;
        FP += fp;
        FN += fn;
    }
    for (size_t i = 0; i < n; i++) {
        size_t tp = 0, fp = 0, fn = 0;
        for (size_t l = 0; l < L; l++) {
            int g = gold[i * L + l] != 0, p = pred[i * L + l] != 0;
            tp += (size_t)(g && p);
            fp += (size_t)(!g && p);
            fn += (size_t)(g && !p);
        }
        samples += pth_f1_counts(tp, fp, fn);
    }
    out->macro_f1 = L ? macro / (double)L : 0;
    out->micro_f1 = pth_f1_counts(TP, FP, FN);
    out->samples_f1 = n ? samples / (double)n : 0;
}

void pth_multiclass_f1(const int *gold, const int *pred, size_t n, size_t K, double *per_class,
                       pth_mc_scores *out)
{
    size_t correct = 0;
    double macro = 0, weighted = 0;
    for (size_t i = 0; i < n; i++)
        correct += (size_t)(gold[i] == pred[i] && gold[i] >= 0 && (size_t)gold[i] < K);
    for (size_t k = 0; k < K; k++) {
        size_t tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < n; i++) {
            int g = gold[i] == (int)k, p = pred[i] == (int)k;
            tp += (size_t)(g && p);
            fp += (size_t)(!g && p);
            fn += (size_t)(g && !p);
        }
        double f = pth_f1_counts(tp, fp, fn);
        if (per_class)
            per_class[k] = f;
        macro += f;
        weighted += f * (double)(tp + fn);
    }
    out->accuracy = n ? (double)correct / (double)n : 0;
    out->micro_f1 = out->accuracy;
    out->macro_f1 = K ? macro / (double)K : 0;
    out->weighted_f1 = n ? weighted / (double)n : 0;
}

typedef struct {
    double s;
    unsigned char g;
} scored;

static int cmp_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return x > y ? -1 : x < y;
}

double pth_best_f1_threshold(const double *scores, const unsigned char *gold, size_t n, size_t stride,
                             double *best_f1)
{
    scored *v = malloc((n + 1) * sizeof *v);
    size_t pos = 0;
    if (!v) { /* degrade to "predict nothing" rather than fail */
        if (best_f1)
            *best_f1 = 0;
        return 1e300;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].s = scores[i * stride];
        v[i].g = gold[i * stride] != 0;
        pos += v[i].g;
    }
    qsort(v, n, sizeof *v, cmp_desc);
    /* Sweep the cut down the sorted scores; a cut is only valid between distinct scores. */
    double best = 0, thr = 1e300;
    size_t tp = 0;
    for (size_t i = 0; i < n; i++) {
        tp += v[i].g;
        if (i + 1 < n && v[i + 1].s == v[i].s)
            continue;
        size_t k = i + 1; /* predicted positives */
        double f = pth_f1_counts(tp, k - tp, pos - tp);
        if (f > best) {
            best = f;
            thr = i + 1 < n ? 0.5 * (v[i].s + v[i + 1].s) : v[i].s;
        }
    }
    free(v);
    if (best_f1)
        *best_f1 = best;
    return thr;
}

void pth_multilabel_group(const unsigned char *in, size_t n, size_t L, const int *group_of, size_t G,
                          unsigned char *out)
{
    memset(out, 0, n * G);
    for (size_t i = 0; i < n; i++)
        for (size_t l = 0; l < L; l++)
            if (in[i * L + l] && group_of[l] >= 0 && (size_t)group_of[l] < G)
                out[i * G + (size_t)group_of[l]] = 1;
}

void pth_apply_thresholds(const double *scores, size_t n, size_t L, const double *thr, int force_one,
                          unsigned char *pred)
{
    for (size_t i = 0; i < n; i++) {
        const double *s = scores + i * L;
        unsigned char *p = pred + i * L;
        size_t any = 0, best = 0;
        for (size_t l = 0; l < L; l++) {
            p[l] = s[l] >= thr[l];
            any += p[l];
            if (s[l] > s[best])
                best = l;
        }
        if (force_one && !any && L)
            p[best] = 1;
    }
}
