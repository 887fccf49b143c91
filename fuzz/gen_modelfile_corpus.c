/* Writes the seed models in fuzz/corpus/modelfile/ (not part of the build):
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -I/usr/include/cjson \
 *       src/core/*.c src/learners/*.c fuzz/gen_modelfile_corpus.c \
 *       -lxgboost -lcjson -lm -fopenmp -o /tmp/gen && /tmp/gen fuzz/corpus/modelfile */
#include <math.h>
#include <stdio.h>

#include "pathos/learner.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    double X[8 * 3] = {0, 1, 2, 1, NAN, 0, 2, 2, 1, -1, 0, 5, 3, 1, 1, -2, 2, 0, 4, 0, 2, 0, 1, 1};
    int y2[8] = {0, 1, 1, 0, 1, 0, 1, 0}, y3[8] = {0, 1, 2, 0, 1, 2, 2, 0};
    const char *names[3] = {"pitch", NULL, "gaze_x"};
    pth_param kp[] = {{"k", "3"}}, xp[] = {{"n_estimators", "2"}, {"max_depth", "2"}};
    struct {
        const char *learner, *file;
        const pth_param *p;
        size_t np;
        const int *y;
        int k;
    } seeds[] = {
        {"majority", "majority.model", NULL, 0, y2, 2}, {"logreg", "logreg2.model", NULL, 0, y2, 2},
        {"logreg", "logreg3.model", NULL, 0, y3, 3},    {"knn", "knn.model", kp, 1, y3, 3},
        {"xgboost", "xgboost.model", xp, 2, y2, 2},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        pth_error err = {0};
        pth_learner_config cfg = {seeds[i].learner, seeds[i].p, seeds[i].np, 1, 1};
        pth_model *m = pth_model_fit(&cfg, X, seeds[i].y, 8, 3, seeds[i].k, names, &err);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], seeds[i].file);
        if (!m || pth_model_save(m, path, &err)) {
            fprintf(stderr, "%s: %s\n", seeds[i].file, err.msg);
            return 1;
        }
        pth_model_free(m);
    }
    return 0;
}
