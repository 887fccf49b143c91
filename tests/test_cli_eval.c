/* End to end through the `pathos` binary: synthetic data with a planted signal is
 * detectable under subject-independent CV, leaky CV scores higher, no signal gives chance
 * level; train/predict round trip; bad input gives a clear error, a non-zero exit and no
 * output file. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/io.h"

static char cmd[8192];

static int run(const char *fmt, const char *a, const char *b)
{
    char inner[4096];
    snprintf(inner, sizeof inner, fmt, a, b);
    snprintf(cmd, sizeof cmd, "%s %s", pth_test_bin(), inner);
    return pth_test_run(cmd);
}

static const char *tmp(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", pth_test_tmpdir(), name);
    return buf[k];
}

/* Summary mean of `metric` for `learner` in an eval JSON report (NaN if absent). */
static double summary_mean(const char *json_path, const char *learner, const char *metric)
{
    char *text;
    size_t len;
    if (pth_read_file(json_path, 1 << 26, &text, &len, NULL))
        return NAN;
    cJSON *root = cJSON_Parse(text);
    free(text);
    double v = NAN;
    const cJSON *L;
    cJSON_ArrayForEach(L, cJSON_GetObjectItem(root, "learners"))
    {
        const cJSON *name = cJSON_GetObjectItem(L, "learner");
        if (cJSON_IsString(name) && !strcmp(name->valuestring, learner)) {
            const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(L, "summary"), metric), "mean");
            if (cJSON_IsNumber(m))
                v = m->valuedouble;
        }
    }
    cJSON_Delete(root);
    return v;
}

static char *read_text(const char *path)
{
    char *t = NULL;
    size_t len;
    if (pth_read_file(path, 1 << 24, &t, &len, NULL))
        return NULL;
    return t;
}

static void test_signal_detected(void)
{
    CHECK(run("synth -o %s --seed 3 > /dev/null%s", tmp("s1"), "") == 0);
    const char *man = tmp("s1/manifest.csv");
    CHECK(pth_test_file_exists(man));
    CHECK(run("features --manifest %s -q -o %s", man, tmp("s1.csv")) == 0);
    const char *feats = tmp("s1.csv");
    CHECK(run("eval --table %s --learners logreg,xgboost,majority --repeats 3 --bootstrap 0 -q --json-out %s "
              "> /dev/null",
              feats, tmp("grouped.json")) == 0);
    CHECK(run("eval --table %s --protocol leaky --learners logreg,xgboost,majority --repeats 3 --bootstrap 0 -q "
              "--json-out %s > /dev/null",
              feats, tmp("leaky.json")) == 0);
    double g_lr = summary_mean(tmp("grouped.json"), "logreg", "roc_auc");
    double g_xgb = summary_mean(tmp("grouped.json"), "xgboost", "roc_auc");
    double l_lr = summary_mean(tmp("leaky.json"), "logreg", "roc_auc");
    double l_xgb = summary_mean(tmp("leaky.json"), "xgboost", "roc_auc");
    double g_maj = summary_mean(tmp("grouped.json"), "majority", "balanced_accuracy");
    fprintf(stderr, "grouped AUC logreg %.3f xgboost %.3f; leaky AUC logreg %.3f xgboost %.3f\n", g_lr, g_xgb, l_lr,
            l_xgb);
    CHECK(g_lr > 0.6);
    CHECK(g_xgb > 0.6);
    CHECK(l_xgb > g_xgb + 0.03); /* the subject confound inflates record-level CV */
    CHECK_NEAR(g_maj, 0.5, 0.05);

    /* The same data with the label signal removed: chance level under grouped CV. */
    CHECK(run("synth -o %s --seed 3 --signal 0 > /dev/null%s", tmp("s0"), "") == 0);
    CHECK(run("eval --manifest %s --learners logreg --repeats 3 --bootstrap 0 -q --json-out %s > /dev/null",
              tmp("s0/manifest.csv"), tmp("null.json")) == 0);
    double null_auc = summary_mean(tmp("null.json"), "logreg", "roc_auc");
    fprintf(stderr, "no-signal grouped AUC logreg %.3f\n", null_auc);
    CHECK(null_auc > 0.35 && null_auc < 0.62);
}

static void test_train_predict(void)
{
    const char *feats = tmp("s1.csv");
    CHECK(run("train --table %s --learner xgboost -q -o %s", feats, tmp("m.pthm")) == 0);
    snprintf(cmd, sizeof cmd, "%s predict --model %s --table %s -q -o %s", pth_test_bin(), tmp("m.pthm"), feats,
             tmp("pred.csv"));
    CHECK(pth_test_run(cmd) == 0);
    char *t = read_text(tmp("pred.csv"));
    CHECK(t && !strncmp(t, "record_id,subject,label,p0,p1,predicted\n", 40));
    size_t lines = 0;
    for (char *c = t; c && *c; c++)
        lines += *c == '\n';
    CHECK(lines == 127); /* header + 126 recordings */
    free(t);
    /* Predicting straight from a manifest of raw recordings gives the same probabilities. */
    snprintf(cmd, sizeof cmd, "%s predict --model %s --manifest %s -q -o %s", pth_test_bin(), tmp("m.pthm"),
             tmp("s1/manifest.csv"), tmp("pred2.csv"));
    CHECK(pth_test_run(cmd) == 0);
    char *a = read_text(tmp("pred.csv")), *b = read_text(tmp("pred2.csv"));
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
}

/* Runs a failing command: non-zero exit, a message on stderr containing `needle`, and no
 * file left at `out`. */
static void expect_failure(const char *args, const char *needle, const char *out)
{
    snprintf(cmd, sizeof cmd, "%s %s 2> %s", pth_test_bin(), args, tmp("stderr.txt"));
    int rc = pth_test_run(cmd);
    char *msg = read_text(tmp("stderr.txt"));
    int ok = rc != 0 && msg && strstr(msg, needle);
    if (!ok)
        fprintf(stderr, "expected failure with '%s' from: %s\n  got rc %d: %s\n", needle, args, rc, msg ? msg : "");
    CHECK(ok);
    if (out)
        CHECK(!pth_test_file_exists(out));
    free(msg);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

static void test_bad_input(void)
{
    char args[4096], out[1024];
    snprintf(out, sizeof out, "%s", tmp("never.json")); /* tmp() buffers rotate */
    snprintf(args, sizeof args, "eval --table %s --json-out %s", tmp("does-not-exist.csv"), out);
    expect_failure(args, "does-not-exist.csv", out);

    write_file(tmp("empty.csv"), "");
    snprintf(args, sizeof args, "eval --table %s --json-out %s", tmp("empty.csv"), out);
    expect_failure(args, "empty.csv", out);

    write_file(tmp("nonnum.csv"), "subject,label,f1\na,0,1.5\nb,1,abc\nc,0,2\nd,1,3\n");
    snprintf(args, sizeof args, "eval --table %s --json-out %s", tmp("nonnum.csv"), out);
    expect_failure(args, "abc", out);

    write_file(tmp("oneclass.csv"), "subject,label,f1\na,1,1\nb,1,2\nc,1,3\nd,1,4\ne,1,5\nf,1,6\n");
    snprintf(args, sizeof args, "eval --table %s --folds 2 --json-out %s", tmp("oneclass.csv"), out);
    expect_failure(args, "class", out);

    write_file(tmp("few.csv"), "subject,label,f1\na,0,1\na,1,2\nb,0,3\nb,1,4\nc,0,5\nc,1,6\n");
    snprintf(args, sizeof args, "eval --table %s --folds 5 --json-out %s", tmp("few.csv"), out);
    expect_failure(args, "subjects", out);

    snprintf(args, sizeof args, "eval --table %s --folds 1", tmp("few.csv"));
    expect_failure(args, "folds", NULL);

    snprintf(args, sizeof args, "eval --table %s --learners nosuch", tmp("few.csv"));
    expect_failure(args, "nosuch", NULL);

    write_file(tmp("corrupt.pthm"), "PTHM this is not a model");
    snprintf(out, sizeof out, "%s", tmp("never.csv"));
    snprintf(args, sizeof args, "predict --model %s --table %s -o %s", tmp("corrupt.pthm"), tmp("few.csv"), out);
    expect_failure(args, "corrupt.pthm", out);

    /* A subject with a single record is legitimate for grouped CV (it simply lands in one
     * fold); the run must succeed. */
    write_file(tmp("single.csv"), "subject,label,f1\na,0,1\nb,1,2\nb,0,3\nc,1,4\nc,0,5\nd,1,6\nd,0,2\ne,1,5\n");
    snprintf(cmd, sizeof cmd, "%s eval --table %s --folds 2 --repeats 1 --learners logreg -q > /dev/null",
             pth_test_bin(), tmp("single.csv"));
    CHECK(pth_test_run(cmd) == 0);
}

int main(void)
{
    test_signal_detected();
    test_train_predict();
    test_bad_input();
    return pth_test_finish();
}
