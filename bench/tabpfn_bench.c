/* TabPFN v2 speed: one-shot forward, context fit, cached prediction, single-row latency and
 * peak RSS on one reference case.  Usage:
 *   tabpfn_bench MODEL CASE_DIR N_TRAIN N_TEST N_FEATURES TORCH_MEDIAN_S [REPS]
 * Prints wall and CPU seconds (median over REPS after one warm-up) and max |logit - f64|. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pathos/tabpfn.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static void *read_bin(const char *dir, const char *name, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    void *p = malloc(bytes);
    if (fread(p, 1, bytes, f) != bytes) {
        fprintf(stderr, "%s: short file\n", path);
        exit(1);
    }
    fclose(f);
    return p;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const pth_error *err)
{
    fprintf(stderr, "error: %s\n", err->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s MODEL CASE_DIR N_TRAIN N_TEST N_FEATURES TORCH_MEDIAN_S [REPS]\n", argv[0]);
        return 2;
    }
    const size_t N = strtoul(argv[3], NULL, 10), T = strtoul(argv[4], NULL, 10), F = strtoul(argv[5], NULL, 10);
    const double torch_s = atof(argv[6]);
    const int reps = argc > 7 ? atoi(argv[7]) : 3;
    pth_error err = {0};
    pth_tabpfn *m = pth_tabpfn_load(argv[1], &err);
    if (!m)
        die(&err);
    const int K = pth_tabpfn_get_info(m).n_outputs;
    float *X = read_bin(argv[2], "X.bin", (N + T) * F * sizeof(float));
    float *y = read_bin(argv[2], "y_train.bin", N * sizeof(float));
    double *ref = read_bin(argv[2], "logits_f64.bin", T * (size_t)K * sizeof(double));
    float *lg = malloc(T * (size_t)K * sizeof *lg);
    double *w = malloc((size_t)(reps + 32) * sizeof *w), *c = malloc((size_t)(reps + 32) * sizeof *c);

    /* 1. One-shot forward (train + test rows), as the PyTorch anchor measures it. */
    for (int i = -1; i < reps; i++) {
        double t0 = now(), c0 = cpu_now();
        if (pth_tabpfn_forward(m, X, N, T, F, y, lg, &err))
            die(&err);
        if (i >= 0)
            w[i] = now() - t0, c[i] = cpu_now() - c0;
    }
    double fw = median(w, reps), fc = median(c, reps);
    double md = 0;
    for (size_t i = 0; i < T * (size_t)K; i++)
        md = fmax(md, fabs(lg[i] - ref[i]));

    /* 2. Context fit, then repeated prediction of all test rows from the cache. */
    double t0 = now(), c0 = cpu_now();
    pth_tabpfn_ctx *ctx = pth_tabpfn_fit_context(m, X, y, N, F, &err);
    if (!ctx)
        die(&err);
    double fitw = now() - t0, fitc = cpu_now() - c0;
    for (int i = -1; i < reps; i++) {
        t0 = now(), c0 = cpu_now();
        if (pth_tabpfn_predict_logits(ctx, X + N * F, T, lg, &err))
            die(&err);
        if (i >= 0)
            w[i] = now() - t0, c[i] = cpu_now() - c0;
    }
    double pw = median(w, reps), pc = median(c, reps);
    double mdc = 0;
    for (size_t i = 0; i < T * (size_t)K; i++)
        mdc = fmax(mdc, fabs(lg[i] - ref[i]));

    /* 3. Single-row latency: 16 different test rows one at a time. */
    const int nrow = T < 16 ? (int)T : 16;
    for (int i = 0; i < nrow; i++) {
        t0 = now(), c0 = cpu_now();
        if (pth_tabpfn_predict_logits(ctx, X + (N + (size_t)i) * F, 1, lg, &err))
            die(&err);
        w[i] = now() - t0, c[i] = cpu_now() - c0;
    }
    double sw = median(w, nrow), sc = median(c, nrow);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("case N=%zu T=%zu F=%zu  reps=%d  (median; wall s / cpu s)\n", N, T, F, reps);
    printf("  one-shot forward        %8.3f / %8.3f   torch %.2f s -> %.2fx (wall)\n", fw, fc, torch_s,
           torch_s / fw);
    printf("  fit_context (once)      %8.3f / %8.3f\n", fitw, fitc);
    printf("  predict %4zu rows cached %8.3f / %8.3f   torch %.2f s -> %.2fx (wall)\n", T, pw, pc, torch_s,
           torch_s / pw);
    printf("  single-row latency      %8.2f ms / %6.2f ms cpu\n", 1e3 * sw, 1e3 * sc);
    printf("  context size            %8.1f MB\n", (double)pth_tabpfn_ctx_bytes(ctx) / 1e6);
    printf("  peak RSS                %8.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    printf("  max |logit - f64|       %.3g (forward), %.3g (cached)\n", md, mdc);
    pth_tabpfn_ctx_free(ctx);
    pth_tabpfn_free(m);
    free(X), free(y), free(ref), free(lg), free(w), free(c);
    return 0;
}
