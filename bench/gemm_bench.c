/* Packed-weight GEMM (src/nn/gemm.c) against cblas_sgemm on the shapes of a TabPFN v2 layer,
 * one thread, in one run.  Build and run (from the repository root, after a Release build in BUILD):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc -Iinclude bench/gemm_bench.c BUILD/libpathos.a \
 *      -lcjson -lutf8proc -lopenblas -lxgboost -fopenmp -lm -o /tmp/gemm_bench
 *   OPENBLAS_NUM_THREADS=1 /tmp/gemm_bench [M] [avx2|portable]
 * "avx2" / "portable" measure the kernels used on CPUs without AVX-512 / without AVX2.
 * Prints GFLOP/s of each (median of 7 runs of ~0.2 s) and their ratio. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn/gemm.h"
#include "nn/nn.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* GFLOP/s of f over a 7-run median; each run repeats the product `reps` times. */
static double rate(int which, int M, int K, int N, const float *A, const float *W, const nn_packed *pk, float *C)
{
    const double flop = 2.0 * M * K * N;
    const int reps = (int)(0.2e9 * 60 / flop) + 1; /* ~0.2 s at 60 GFLOP/s */
    double t[7];
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        for (int i = 0; i < reps; i++)
            if (which)
                nn_gemm_packed(C, N, A, K, pk, M, 0);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, W, K, 0.0f, C, N);
        t[r] = (now() - t0) / reps;
    }
    qsort(t, 7, sizeof *t, cmp);
    return flop / t[3] * 1e-9;
}

int main(int argc, char **argv)
{
    const int M = argc > 1 ? atoi(argv[1]) : 256;
    nn_gemm_isa = argc > 2 ? (argv[2][0] == 'p' ? 2 : 1) : 0;
    const int shapes[][2] = {{192, 576}, {192, 192}, {192, 768}, {768, 192}, {192, 32}};
    printf("M=%d, one thread, %s kernel, OPENBLAS_CORETYPE=%s\n", M, nn_gemm_isa == 2 ? "portable" : (nn_gemm_isa == 1 ? "AVX2" : "AVX-512"), getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "auto");
    printf("%-12s %14s %14s %8s\n", "K x N", "cblas GF/s", "packed GF/s", "ratio");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int K = shapes[s][0], N = shapes[s][1];
        float *A = malloc(sizeof(float) * (size_t)M * (size_t)K), *W = malloc(sizeof(float) * (size_t)N * (size_t)K);
        float *C = malloc(sizeof(float) * (size_t)M * (size_t)N);
        for (size_t i = 0; i < (size_t)M * (size_t)K; i++)
            A[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
        for (size_t i = 0; i < (size_t)N * (size_t)K; i++)
            W[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
        nn_packed pk;
        if (nn_pack(&pk, W, K, N, K, 1)) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        double b = rate(0, M, K, N, A, W, &pk, C), p = rate(1, M, K, N, A, W, &pk, C);
        printf("%4d x %-5d %14.1f %14.1f %7.2fx\n", K, N, b, p, p / b);
        nn_packed_free(&pk);
        free(A);
        free(W);
        free(C);
    }
    return 0;
}
