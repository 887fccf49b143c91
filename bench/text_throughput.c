/* Scoring throughput of a saved text classifier on the texts of a GoEmotions-style TSV
 * (column 0), single-threaded; reports texts per CPU second and per wall second.
 *   cc -O2 -fopenmp -Iinclude -Isrc bench/text_throughput.c BUILD/libpathos.a \
 *      -lcjson -lutf8proc -lopenblas -lxgboost -lm -lpthread -o /tmp/text_throughput
 *   /tmp/text_throughput model.bin ../shared/data/goemotions/train.tsv */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pathos/textclf.h"
#include "pathos/textemo.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s model.bin texts.tsv\n", argv[0]);
        return 2;
    }
    pth_error err = {0};
    pth_textclf *m = pth_textclf_load(argv[1], &err);
    pth_goemo_split s;
    if (!m || pth_goemo_load(argv[2], 0, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double *P = malloc(s.n * pth_textclf_nlabels(m) * sizeof(double));
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    int rc = pth_textclf_scores(m, s.n, (const char *const *)s.text, P, &err);
    double c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w1 = clock_s(CLOCK_MONOTONIC);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("%zu texts: %.0f texts per CPU second, %.0f per wall second\n", s.n, (double)s.n / (c1 - c0),
           (double)s.n / (w1 - w0));
    free(P);
    pth_goemo_split_free(&s);
    pth_textclf_free(m);
    return 0;
}
