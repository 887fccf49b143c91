/* Replay driver for the fuzz targets when libFuzzer is not in use (gcc builds, ctest).
 * Runs LLVMFuzzerTestOneInput on every file named on the command line (or every file in a
 * named directory), then on a fixed number of deterministic mutations of each: byte flips,
 * truncations and insertions. Sanitizer builds turn any memory error into a failure. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathos/io.h"
#include "pathos/rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long n_inputs;

static void run_mutations(const unsigned char *data, size_t len, int rounds, uint64_t seed)
{
    pth_rng r;
    pth_rng_seed(&r, seed);
    unsigned char *buf = malloc(len + 64);
    if (!buf)
        return;
    for (int k = 0; k < rounds; k++) {
        size_t n = len;
        memcpy(buf, data, len);
        int edits = 1 + (int)pth_rng_below(&r, 4);
        for (int e = 0; e < edits; e++) {
            uint64_t op = pth_rng_below(&r, 3);
            if (op == 0 && n > 0)
                buf[pth_rng_below(&r, n)] = (unsigned char)pth_rng_below(&r, 256);
            else if (op == 1 && n > 0)
                n = (size_t)pth_rng_below(&r, n + 1);
            else if (n < len + 63) {
                size_t at = (size_t)pth_rng_below(&r, n + 1);
                memmove(buf + at + 1, buf + at, n - at);
                static const char interesting[] = "\"\n\r,\t\\0x9.-e";
                buf[at] = (unsigned char)interesting[pth_rng_below(&r, sizeof interesting - 1)];
                n++;
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
        n_inputs++;
    }
    free(buf);
}

static void run_file(const char *path, int rounds)
{
    char *data;
    size_t len;
    if (pth_read_file(path, 1 << 26, &data, &len, NULL) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    n_inputs++;
    run_mutations((const unsigned char *)data, len, rounds, (uint64_t)len * 2654435761u);
    free(data);
}

int main(int argc, char **argv)
{
    int rounds = 200;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--rounds=", 9)) {
            rounds = atoi(argv[i] + 9);
            continue;
        }
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "cannot stat %s\n", argv[i]);
            return 2;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                run_file(p, rounds);
            }
            if (d)
                closedir(d);
        } else {
            run_file(argv[i], rounds);
        }
    }
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    printf("%ld passed, 0 failed\n", n_inputs + 1);
    return 0;
}
