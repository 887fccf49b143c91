/* Writers of an evaluation result: text table, JSON, and CSVs of fold metrics,
 * out-of-fold predictions and folds. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/csv.h"
#include "pathos/eval.h"
#include "pathos/io.h"

/* ---- text table --------------------------------------------------------------------- */

/* Display width of a UTF-8 string: UTF-8 continuation bytes take no column ("±" is 2
 * bytes but 1 column), so printf's byte-based widths would misalign. */
static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void put_padded(FILE *fp, const char *s, size_t width, int right)
{
    size_t w = display_width(s);
    if (right)
        for (size_t i = w; i < width; i++)
            fputc(' ', fp);
    fputs(s, fp);
    if (!right)
        for (size_t i = w; i < width; i++)
            fputc(' ', fp);
}

static void fmt_mean_std(char *buf, size_t len, double mean, double sd)
{
    if (isnan(mean))
        snprintf(buf, len, "n/a");
    else if (isnan(sd))
        snprintf(buf, len, "%.3f", mean);
    else
        snprintf(buf, len, "%.3f \xC2\xB1 %.3f", mean, sd);
}

static void fmt_interval(char *buf, size_t len, double lo, double hi)
{
    if (isnan(lo) || isnan(hi))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, "[%.3f, %.3f]", lo, hi);
}

static void write_header(FILE *fp, const pth_eval_result *res)
{
    fprintf(fp, "protocol: %s", pth_split_kind_name(res->protocol));
    fprintf(fp, ", %zu folds, %zu repeat%s, seed %llu\n", res->n_folds, res->repeats, res->repeats == 1 ? "" : "s",
            (unsigned long long)res->seed);
    fprintf(fp, "data: %zu records (%zu positive), %zu subjects\n", res->n, res->n_positive, res->n_subjects);
    if (pth_split_kind_is_leaky(res->protocol))
        fputs("WARNING: LEAKY protocol - recordings of the same subject are in training and test folds; "
              "these scores are optimistic and NOT subject-independent.\n",
              fp);
    fprintf(fp, "metrics of the pooled out-of-fold predictions of each repeat, %s\n\n",
            res->repeats > 1 ? "mean \xC2\xB1 std (ddof 1) over repeats" : "single repeat");
}

/* Writes rows x cols cells (row-major, cells[0..cols-1] = header) with aligned columns. */
static void write_grid(FILE *fp, char **cells, size_t rows, size_t cols)
{
    size_t width[PTH_M_COUNT + 1] = {0};
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t w = display_width(cells[r * cols + c]);
            width[c] = w > width[c] ? w : width[c];
        }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            if (c)
                fputs("  ", fp);
            put_padded(fp, cells[r * cols + c], c + 1 < cols ? width[c] : 0, 0);
        }
        fputc('\n', fp);
    }
}

#define CELL 64

static int table_to(FILE *fp, const pth_eval_result *res)
{
    size_t rows = res->n_learners + 1, cols = PTH_M_COUNT + 1;
    char **cells = calloc(rows * cols, sizeof *cells);
    char *buf = malloc(rows * cols * CELL);
    if (!cells || !buf) {
        free(cells);
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < rows * cols; i++)
        cells[i] = buf + i * CELL;
    write_header(fp, res);
    snprintf(cells[0], CELL, "learner");
    for (int m = 0; m < PTH_M_COUNT; m++)
        snprintf(cells[1 + m], CELL, "%s", pth_metric_label((pth_metric_id)m));
    /* Learner names can be long; they get their own allocation-free column via %.*s. */
    for (size_t l = 0; l < res->n_learners; l++) {
        const pth_eval_learner_result *lr = &res->learners[l];
        snprintf(cells[(l + 1) * cols], CELL, "%.*s", CELL - 1, lr->name);
        for (int m = 0; m < PTH_M_COUNT; m++)
            fmt_mean_std(cells[(l + 1) * cols + 1 + (size_t)m], CELL, lr->mean.v[m], lr->std.v[m]);
    }
    write_grid(fp, cells, rows, cols);
    if (res->bootstrap > 0) {
        fprintf(fp, "\n95%% CI, percentile bootstrap over records of repeat 0 (B = %zu):\n", res->bootstrap);
        snprintf(cells[1], CELL, "auc");
        snprintf(cells[2], CELL, "bal_acc");
        snprintf(cells[3], CELL, "f1");
        const pth_metric_id ci_metrics[3] = {PTH_M_ROC_AUC, PTH_M_BALANCED_ACCURACY, PTH_M_F1};
        char **ci = calloc(rows * 4, sizeof *ci);
        if (ci) {
            for (size_t r = 0; r < rows; r++)
                for (size_t c = 0; c < 4; c++)
                    ci[r * 4 + c] = cells[r * cols + c];
            for (size_t l = 0; l < res->n_learners; l++)
                for (size_t c = 0; c < 3; c++)
                    fmt_interval(ci[(l + 1) * 4 + 1 + c], CELL, res->learners[l].boot_lo.v[ci_metrics[c]],
                                 res->learners[l].boot_hi.v[ci_metrics[c]]);
            write_grid(fp, ci, rows, 4);
            free(ci);
        }
    }
    free(cells);
    free(buf);
    return 0;
}

int pth_eval_write_table(const pth_eval_result *res, const char *path, pth_error *err)
{
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    if (table_to(out.fp, res)) {
        pth_outfile_abort(&out);
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory formatting the results table");
    }
    return pth_outfile_commit(&out, err);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

/* Adds every metric of m as "name": value (or null) to obj. */
static void add_metrics(cJSON *obj, const pth_metrics *m)
{
    for (int i = 0; i < PTH_M_COUNT; i++)
        cJSON_AddItemToObject(obj, pth_metric_name((pth_metric_id)i), num_or_null(m->v[i]));
}

static cJSON *pair(double lo, double hi)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, num_or_null(lo));
    cJSON_AddItemToArray(a, num_or_null(hi));
    return a;
}

/* JSON numbers are doubles: seeds beyond 2^53 are written as strings to stay exact. */
static cJSON *u64_item(uint64_t v)
{
    if (v <= (1ULL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateString(buf);
}

static cJSON *config_json(const pth_eval_result *res)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "protocol", pth_split_kind_name(res->protocol));
    cJSON_AddBoolToObject(c, "leaky", pth_split_kind_is_leaky(res->protocol));
    cJSON_AddItemToObject(c, "k", u64_item(res->k_requested));
    cJSON_AddItemToObject(c, "n_folds", u64_item(res->n_folds));
    cJSON_AddItemToObject(c, "repeats", u64_item(res->repeats));
    cJSON_AddItemToObject(c, "seed", u64_item(res->seed));
    cJSON_AddNumberToObject(c, "threshold", res->threshold);
    cJSON_AddItemToObject(c, "bootstrap", u64_item(res->bootstrap));
    cJSON_AddItemToObject(c, "n_records", u64_item(res->n));
    cJSON_AddItemToObject(c, "n_positive", u64_item(res->n_positive));
    cJSON_AddItemToObject(c, "n_subjects", u64_item(res->n_subjects));
    cJSON_AddStringToObject(c, "per_repeat_metrics", "pooled out-of-fold predictions of the repeat");
    cJSON_AddStringToObject(c, "std", "sample std over repeats, ddof=1");
    cJSON_AddStringToObject(c, "repeat_ci95", "2.5/97.5 percentiles of the per-repeat metrics");
    cJSON_AddStringToObject(c, "bootstrap_ci95", "percentile bootstrap over records of repeat 0");
    cJSON_AddStringToObject(c, "fold_mean", "mean of the per-fold metrics over all repeats and folds");
    return c;
}

static cJSON *learner_json(const pth_eval_result *res, const pth_eval_learner_result *lr)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", lr->name);
    cJSON_AddStringToObject(o, "learner", lr->learner);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (size_t j = 0; j < lr->n_params; j++)
        cJSON_AddStringToObject(params, lr->param_key[j], lr->param_value[j]);
    cJSON_AddItemToObject(o, "seed", u64_item(lr->seed));
    cJSON *summary = cJSON_AddObjectToObject(o, "summary");
    for (int m = 0; m < PTH_M_COUNT; m++) {
        cJSON *s = cJSON_AddObjectToObject(summary, pth_metric_name((pth_metric_id)m));
        cJSON_AddItemToObject(s, "mean", num_or_null(lr->mean.v[m]));
        cJSON_AddItemToObject(s, "std", num_or_null(lr->std.v[m]));
        cJSON_AddItemToObject(s, "repeat_ci95", pair(lr->repeat_lo.v[m], lr->repeat_hi.v[m]));
        cJSON_AddItemToObject(s, "bootstrap_ci95", pair(lr->boot_lo.v[m], lr->boot_hi.v[m]));
        cJSON_AddItemToObject(s, "fold_mean", num_or_null(lr->fold_mean.v[m]));
    }
    cJSON *per_repeat = cJSON_AddArrayToObject(o, "per_repeat");
    for (size_t r = 0; r < res->repeats; r++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "repeat", u64_item(r));
        add_metrics(e, &lr->repeat[r]);
        cJSON_AddItemToArray(per_repeat, e);
    }
    cJSON *per_fold = cJSON_AddArrayToObject(o, "per_fold");
    for (size_t r = 0; r < res->repeats; r++)
        for (size_t f = 0; f < res->n_folds; f++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "repeat", u64_item(r));
            cJSON_AddItemToObject(e, "fold", u64_item(f));
            cJSON_AddItemToObject(e, "n_test", u64_item(res->fold_size[r * res->n_folds + f]));
            add_metrics(e, &lr->fold[r * res->n_folds + f]);
            cJSON_AddItemToArray(per_fold, e);
        }
    return o;
}

static char *json_text(const pth_eval_result *res)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", "pathos-eval-1");
    cJSON_AddItemToObject(root, "config", config_json(res));
    cJSON *names = cJSON_AddArrayToObject(root, "metrics");
    for (int m = 0; m < PTH_M_COUNT; m++)
        cJSON_AddItemToArray(names, cJSON_CreateString(pth_metric_name((pth_metric_id)m)));
    cJSON *learners = cJSON_AddArrayToObject(root, "learners");
    for (size_t l = 0; l < res->n_learners; l++)
        cJSON_AddItemToArray(learners, learner_json(res, &res->learners[l]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

int pth_eval_write_json(const pth_eval_result *res, const char *path, pth_error *err)
{
    char *text = json_text(res);
    if (!text)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory building the results JSON");
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (!rc) {
        fputs(text, out.fp);
        fputc('\n', out.fp);
        rc = pth_outfile_commit(&out, err);
    }
    cJSON_free(text);
    return rc;
}

/* ---- CSVs ---------------------------------------------------------------------------- */

static void csv_number(FILE *fp, double v)
{
    if (!isnan(v))
        fprintf(fp, "%.17g", v);
}

int pth_eval_write_fold_metrics_csv(const pth_eval_result *res, const char *path, pth_error *err)
{
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputs("learner,repeat,fold,n_test", out.fp);
    for (int m = 0; m < PTH_M_COUNT; m++)
        fprintf(out.fp, ",%s", pth_metric_name((pth_metric_id)m));
    fputc('\n', out.fp);
    for (size_t l = 0; l < res->n_learners; l++)
        for (size_t r = 0; r < res->repeats; r++)
            for (size_t f = 0; f < res->n_folds; f++) {
                const pth_metrics *pm = &res->learners[l].fold[r * res->n_folds + f];
                pth_csv_write_field(out.fp, res->learners[l].name);
                fprintf(out.fp, ",%zu,%zu,%zu", r, f, res->fold_size[r * res->n_folds + f]);
                for (int m = 0; m < PTH_M_COUNT; m++) {
                    fputc(',', out.fp);
                    csv_number(out.fp, pm->v[m]);
                }
                fputc('\n', out.fp);
            }
    return pth_outfile_commit(&out, err);
}

int pth_eval_write_predictions_csv(const pth_eval_result *res, const char *path, pth_error *err)
{
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputs("record_id,subject,label,repeat,fold,learner,p1\n", out.fp);
    for (size_t l = 0; l < res->n_learners; l++)
        for (size_t r = 0; r < res->repeats; r++)
            for (size_t i = 0; i < res->n; i++) {
                pth_csv_write_field(out.fp, res->record_id[i]);
                fputc(',', out.fp);
                pth_csv_write_field(out.fp, res->subject[i]);
                fprintf(out.fp, ",%d,%zu,%d,", res->y[i], r, res->fold[r * res->n + i]);
                pth_csv_write_field(out.fp, res->learners[l].name);
                fputc(',', out.fp);
                csv_number(out.fp, res->learners[l].oof[r * res->n + i]);
                fputc('\n', out.fp);
            }
    return pth_outfile_commit(&out, err);
}

int pth_eval_write_folds_csv(const pth_eval_result *res, const char *path, pth_error *err)
{
    pth_outfile out;
    int rc = pth_outfile_open(&out, path, err);
    if (rc)
        return rc;
    fputs("record_id,subject,repeat,fold\n", out.fp);
    for (size_t r = 0; r < res->repeats; r++)
        for (size_t i = 0; i < res->n; i++) {
            pth_csv_write_field(out.fp, res->record_id[i]);
            fputc(',', out.fp);
            pth_csv_write_field(out.fp, res->subject[i]);
            fprintf(out.fp, ",%zu,%d\n", r, res->fold[r * res->n + i]);
        }
    return pth_outfile_commit(&out, err);
}
