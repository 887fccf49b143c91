/* Benchmark driver for pth_csv_read (compiled by bench/csv_throughput.sh, not by CMake).
 *
 *   csv_bench gen  OUT MB DIGITS SEED   write an OpenFace-like CSV of about MB megabytes:
 *                                       710 columns, header ", gaze_0_x, gaze_0_y, ..." (leading
 *                                       spaces, first name empty), frame index first, then
 *                                       values printed with %.{DIGITS}g
 *   csv_bench read FILE REPEATS         read it REPEATS times; print the best wall and CPU
 *                                       times, MB/s (1 MB = 10^6 bytes) and a checksum (sum of all
 *                                       non-missing cells) to compare with pandas */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pathos/rng.h"
#include "pathos/table.h"

#define NCOLS 710

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void col_name(size_t j, char *buf, size_t n)
{
    static const char *const fam[] = {"gaze_%zu", "pose_R%zu", "eye_lmk_x_%zu", "x_%zu", "Y_%zu", "p_%zu",
                                      "AU%02zu_r"};
    snprintf(buf, n, fam[j % 7], j);
}

static int gen(const char *out, double mb, int digits, uint64_t seed)
{
    FILE *fp = fopen(out, "wb");
    if (!fp) {
        perror(out);
        return 1;
    }
    static char iobuf[1 << 20];
    setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
    /* Like the released files: the index column has an empty name. */
    for (size_t j = 1; j < NCOLS; j++) {
        char nm[64];
        col_name(j, nm, sizeof nm);
        fprintf(fp, ", %s", nm);
    }
    fputc('\n', fp);
    pth_rng r;
    pth_rng_seed(&r, seed);
    double target = mb * 1e6;
    char fmt[16];
    snprintf(fmt, sizeof fmt, ",%%.%dg", digits);
    for (size_t row = 0; (double)ftell(fp) < target; row++) {
        fprintf(fp, "%zu", row);
        for (size_t j = 1; j < NCOLS; j++) {
            /* Magnitudes as in OpenFace output: unit vectors, angles, pixels, millimetres. */
            double scale = j % 7 == 0 ? 1.0 : j % 7 == 1 ? 3.0 : j % 7 == 2 ? 400.0 : j % 7 == 3 ? 700.0 : 90.0;
            double v = (pth_rng_uniform(&r) - 0.3) * scale;
            fprintf(fp, fmt, v);
        }
        fputc('\n', fp);
    }
    return fclose(fp) != 0;
}

static int bench_read(const char *path, int repeats)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return 1;
    }
    double best = 1e30, best_cpu = 1e30, checksum = 0;
    size_t rows = 0, cols = 0;
    for (int k = 0; k < repeats; k++) {
        pth_table t;
        pth_error e;
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (pth_csv_read(path, NULL, &t, &e) != 0) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        best = dt < best ? dt : best;
        best_cpu = dc < best_cpu ? dc : best_cpu;
        rows = t.nrows;
        cols = t.ncols;
        checksum = 0;
        for (size_t j = 0; j < t.ncols; j++)
            for (size_t i = 0; i < t.nrows; i++)
                if (!isnan(t.cols[j].num[i]))
                    checksum += t.cols[j].num[i];
        pth_table_free(&t);
    }
    double mbytes = (double)sb.st_size / 1e6;
    printf("pathos rows=%zu cols=%zu size_MB=%.1f best_s=%.3f MB_per_s=%.1f cpu_s=%.3f cpu_MB_per_s=%.1f "
           "checksum=%.10g\n",
           rows, cols, mbytes, best, mbytes / best, best_cpu, mbytes / best_cpu, checksum);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], atof(argv[3]), atoi(argv[4]), (uint64_t)atoll(argv[5]));
    if (argc == 4 && strcmp(argv[1], "read") == 0)
        return bench_read(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: csv_bench gen OUT MB DIGITS SEED | csv_bench read FILE REPEATS\n");
    return 2;
}
