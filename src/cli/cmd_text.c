/* `pathos text eval|train|predict`: the text tasks (NewsEmp empathy/distress regression,
 * GoEmotions multi-label emotion, MELD emotion in conversation). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "pathos/csv.h"
#include "pathos/io.h"
#include "pathos/newsemp.h"
#include "pathos/text.h"
#include "pathos/textclf.h"
#include "pathos/textemo.h"
#include "pathos/textreg.h"

#define MAX_LINE ((size_t)64 << 20) /* longest JSONL line / CSV record accepted */
#define MAX_DIALOGUE 10000          /* turns buffered for one dialogue */

/* ------------------------------------------------------------------ shared options */

typedef struct {
    const char *task, *data, *model, *out;
    int threads, json, context, causal, no_context;
    const char *goemo;      /* MELD / NewsEmp: GoEmotions folder of the transfer model */
    int no_transfer;        /* MELD / NewsEmp: no GoEmotions transfer features */
    const char *transfer_model; /* fasttext | linear | ensemble */
    const char *dump;           /* MELD eval: prefix of the stacked-level input dumps */
    int no_offsets;             /* MELD: plain argmax, no tuned class offsets */
    double goemo_extra;         /* MELD: GoEmotions texts as extra first-level rows (x MELD rows) */
    int no_doc_stats;           /* MELD: no document statistics in the stacked level */
    uint64_t seed;
    uint64_t max_train;
    int inner_folds;        /* NewsEmp train */
    const char *alphas;     /* NewsEmp train: comma-separated ridge grid */
    double level;           /* NewsEmp train: interval level */
    int no_blend;           /* NewsEmp: linear model alone, no Gaussian-kernel partner */
    int plain_folds;        /* NewsEmp eval: folds by essay, not by writer */
} task_opts;

static const char *default_data(const char *task, char *buf, size_t n)
{
    const char *base = getenv("PATHOS_DATA_DIR");
    const char *sub = !strcmp(task, "meld") ? "meld/MELD" : !strcmp(task, "newsemp") ? "newsemp-v1" : task;
    snprintf(buf, n, "%s/%s", base && *base ? base : "data", sub);
    return buf;
}

static int parse_task_opts(const char *cmd, const char *usage, const char *descr, int need_out, int argc,
                           char **argv, task_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = "ensemble";
    o->threads = 1;
    o->seed = 1;
    o->context = -1;
    o->inner_folds = 5;
    o->level = 0.9;
    const pth_arg_spec specs[] = {
        {"task", 't', PTH_ARG_STR, &o->task, "TASK", "newsemp | goemotions | meld (required)"},
        {"data", 'd', PTH_ARG_STR, &o->data, "DIR",
         "dataset folder (default $PATHOS_DATA_DIR/<task>, else data/<task>; MELD: .../meld/MELD)"},
        {"model", 'm', PTH_ARG_STR, &o->model, "KIND", "fasttext | linear | ensemble (default ensemble)"},
        {"threads", 'j', PTH_ARG_INT, &o->threads, "N", "threads (default 1: reproducible)"},
        {"seed", 's', PTH_ARG_U64, &o->seed, "S", "random seed (default 1)"},
        {"context", 0, PTH_ARG_INT, &o->context, "K", "MELD: context window in turns, 0 = none (default 2)"},
        {"causal", 0, PTH_ARG_FLAG, &o->causal, NULL, "MELD: use earlier turns only"},
        {"goemotions-data", 0, PTH_ARG_STR, &o->goemo, "DIR",
         "MELD: GoEmotions folder for the transfer features (default $PATHOS_DATA_DIR/goemotions, else "
         "data/goemotions)"},
        {"no-transfer", 0, PTH_ARG_FLAG, &o->no_transfer, NULL,
         "MELD: no GoEmotions transfer features (an emotion model fitted on GoEmotions train)"},
        {"transfer-model", 0, PTH_ARG_STR, &o->transfer_model, "KIND",
         "MELD: transfer model fasttext | linear | ensemble (default linear)"},
        {"no-class-offsets", 0, PTH_ARG_FLAG, &o->no_offsets, NULL,
         "MELD: no per-class offsets tuned for weighted-F1 by train CV (plain argmax)"},
        {"no-doc-stats", 0, PTH_ARG_FLAG, &o->no_doc_stats, NULL,
         "MELD: no document statistics (length, '!' / '?' counts, capitals, pronouns) in the stacked level"},
        {"goemotions-extra", 0, PTH_ARG_DOUBLE, &o->goemo_extra, "R",
         "MELD: add GoEmotions train texts of one Ekman group (or neutral) as extra first-level training rows, "
         "at most R x the MELD rows (default 0: none)"},
        {"dump-features", 0, PTH_ARG_STR, &o->dump, "PREFIX",
         "MELD eval: write the stacked level's inputs to PREFIX.train.tsv and PREFIX.dev.tsv"},
        {"max-train", 0, PTH_ARG_U64, &o->max_train, "N", "use only the first N training rows"},
        {"json", 0, PTH_ARG_FLAG, &o->json, NULL, "print results as JSON"},
        {"inner-folds", 0, PTH_ARG_INT, &o->inner_folds, "K", "NewsEmp train: inner CV folds for tuning and intervals (default 5)"},
        {"alphas", 0, PTH_ARG_STR, &o->alphas, "LIST", "NewsEmp train: ridge alphas, comma-separated (default 0.25..16)"},
        {"level", 0, PTH_ARG_DOUBLE, &o->level, "P", "NewsEmp train: prediction-interval level (default 0.9)"},
        {"plain-folds", 0, PTH_ARG_FLAG, &o->plain_folds, NULL,
         "NewsEmp eval: assign folds by essay, as the published numbers do, instead of by writer (a writer's "
         "other essays can then be in training: optimistic)"},
        {"no-blend", 0, PTH_ARG_FLAG, &o->no_blend, NULL,
         "NewsEmp: the linear kernel model alone, without averaging in the Gaussian-kernel model (smaller model "
         "file, faster scoring, about 0.01 lower r)"},
        {"output", 'o', PTH_ARG_STR, &o->out, "FILE", "model file to write (train)"},
    };
    pth_arg_parser p = {cmd, usage, descr, specs, sizeof specs / sizeof specs[0] - (need_out ? 0 : 1), 0, 0};
    char **pos = NULL;
    size_t npos = 0;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    free(pos);
    if (rc)
        return rc < 0 ? -1 : 2;
    if (!o->task || (strcmp(o->task, "newsemp") && strcmp(o->task, "goemotions") && strcmp(o->task, "meld"))) {
        fprintf(stderr, "pathos %s: --task must be newsemp, goemotions or meld\n", cmd);
        return 2;
    }
    if (pth_textemo_model_parse(o->model) < 0) {
        fprintf(stderr, "pathos %s: --model must be fasttext, linear or ensemble, got '%s'\n", cmd, o->model);
        return 2;
    }
    if (o->transfer_model && pth_textemo_model_parse(o->transfer_model) < 0) {
        fprintf(stderr, "pathos %s: --transfer-model must be fasttext, linear or ensemble, got '%s'\n", cmd,
                o->transfer_model);
        return 2;
    }
    if (o->threads < 1 || o->threads > 256) {
        fprintf(stderr, "pathos %s: --threads must be 1..256\n", cmd);
        return 2;
    }
    if (need_out && !o->out) {
        fprintf(stderr, "pathos %s: -o/--output FILE is required\n", cmd);
        return 2;
    }
    return 0;
}

static void goemo_config(const task_opts *o, const char *data, pth_goemo_config *c)
{
    pth_goemo_config_default(c);
    c->data_dir = data;
    c->model = (pth_textemo_model)pth_textemo_model_parse(o->model);
    c->threads = o->threads;
    c->seed = o->seed;
    c->max_train = (size_t)o->max_train;
}

/* GoEmotions folder of the transfer model, NULL when --no-transfer. */
static const char *transfer_dir(const task_opts *o, char *buf, size_t n)
{
    if (o->no_transfer)
        return NULL;
    return o->goemo ? o->goemo : default_data("goemotions", buf, n);
}

static void meld_config(const task_opts *o, const char *data, char *gbuf, size_t gn, pth_meld_config *c)
{
    pth_meld_config_default(c);
    c->data_dir = data;
    c->model = (pth_textemo_model)pth_textemo_model_parse(o->model);
    c->threads = o->threads;
    c->seed = o->seed;
    c->max_train = (size_t)o->max_train;
    if (o->context >= 0)
        c->context = o->context;
    c->causal = o->causal;
    c->transfer.data_dir = transfer_dir(o, gbuf, gn);
    c->transfer.seed = o->seed;
    if (o->transfer_model)
        c->transfer.model = (pth_textemo_model)pth_textemo_model_parse(o->transfer_model);
    c->dump_prefix = o->dump;
    c->class_offsets = !o->no_offsets;
    c->goemo_extra = o->goemo_extra;
    c->doc_stats = !o->no_doc_stats;
}

/* ------------------------------------------------------------------ eval */

static void print_json(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (s)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
}

static int eval_goemotions(const task_opts *o, const char *data)
{
    pth_goemo_config c;
    goemo_config(o, data, &c);
    pth_goemo_result r;
    pth_error err = {0};
    if (pth_goemo_eval(&c, &r, &err))
        return pth_cli_fail("text eval", &err);
    if (o->json) {
        cJSON *j = cJSON_CreateObject(), *pl = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "task", "goemotions");
        cJSON_AddStringToObject(j, "model", o->model);
        cJSON_AddNumberToObject(j, "test_macro_f1", r.macro_f1);
        cJSON_AddNumberToObject(j, "test_micro_f1", r.micro_f1);
        cJSON_AddNumberToObject(j, "test_ekman_macro_f1", r.ekman_macro_f1);
        cJSON_AddNumberToObject(j, "test_ekman_micro_f1", r.ekman_micro_f1);
        cJSON_AddNumberToObject(j, "test_sentiment_macro_f1", r.sent_macro_f1);
        cJSON_AddNumberToObject(j, "test_sentiment_micro_f1", r.sent_micro_f1);
        cJSON_AddNumberToObject(j, "dev_macro_f1_tuned", r.dev_macro_f1);
        cJSON_AddNumberToObject(j, "ensemble_weight_fasttext", r.ensemble_weight);
        if (!isnan(r.ft_macro_f1)) {
            cJSON_AddNumberToObject(j, "test_macro_f1_fasttext_alone", r.ft_macro_f1);
            cJSON_AddNumberToObject(j, "test_macro_f1_linear_alone", r.linear_macro_f1);
        }
        cJSON_AddNumberToObject(j, "train_seconds", r.train_seconds);
        cJSON_AddNumberToObject(j, "test_texts_per_second", r.test_texts_per_second);
        cJSON_AddNumberToObject(j, "n_train", (double)r.n_train);
        cJSON_AddNumberToObject(j, "n_dev", (double)r.n_dev);
        cJSON_AddNumberToObject(j, "n_test", (double)r.n_test);
        for (size_t l = 0; l < PTH_GOEMO_NLABELS; l++)
            cJSON_AddNumberToObject(pl, pth_goemo_label(l), r.per_label_f1[l]);
        cJSON_AddItemToObject(j, "test_per_label_f1", pl);
        print_json(j);
        return 0;
    }
    printf("GoEmotions (%s; train %zu, thresholds tuned on dev %zu, test %zu)\n", o->model, r.n_train, r.n_dev,
           r.n_test);
    printf("  test macro-F1 (28 labels)   %.4f   micro-F1 %.4f\n", r.macro_f1, r.micro_f1);
    printf("  test Ekman+neutral macro-F1 %.4f   micro-F1 %.4f\n", r.ekman_macro_f1, r.ekman_micro_f1);
    printf("  test sentiment+neutral      %.4f   micro-F1 %.4f\n", r.sent_macro_f1, r.sent_micro_f1);
    printf("  dev macro-F1 (tuned on dev) %.4f   fastText weight %.1f\n", r.dev_macro_f1, r.ensemble_weight);
    if (!isnan(r.ft_macro_f1))
        printf("  members alone: fastText %.4f, linear %.4f test macro-F1\n", r.ft_macro_f1, r.linear_macro_f1);
    printf("  training %.1f s, scoring %.0f texts/s\n", r.train_seconds, r.test_texts_per_second);
    for (size_t l = 0; l < PTH_GOEMO_NLABELS; l++)
        printf("    %-15s %.3f\n", pth_goemo_label(l), r.per_label_f1[l]);
    return 0;
}

static int eval_meld(const task_opts *o, const char *data)
{
    pth_meld_config c;
    char gbuf[4096];
    meld_config(o, data, gbuf, sizeof gbuf, &c);
    pth_meld_result r;
    pth_error err = {0};
    if (pth_meld_eval(&c, &r, &err))
        return pth_cli_fail("text eval", &err);
    if (o->json) {
        cJSON *j = cJSON_CreateObject(), *pc = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "task", "meld");
        cJSON_AddStringToObject(j, "model", o->model);
        cJSON_AddNumberToObject(j, "context", c.context);
        cJSON_AddBoolToObject(j, "causal", c.causal);
        cJSON_AddBoolToObject(j, "transfer", c.transfer.data_dir != NULL);
        cJSON_AddBoolToObject(j, "doc_stats", c.doc_stats);
        cJSON_AddNumberToObject(j, "dev_weighted_f1", r.weighted_f1);
        cJSON_AddNumberToObject(j, "dev_macro_f1", r.macro_f1);
        cJSON_AddNumberToObject(j, "dev_accuracy", r.accuracy);
        cJSON_AddNumberToObject(j, "dev_weighted_f1_no_context", r.utt_weighted_f1);
        cJSON_AddNumberToObject(j, "dev_macro_f1_no_context", r.utt_macro_f1);
        cJSON_AddNumberToObject(j, "train_cv_weighted_f1", r.cv_weighted_f1);
        cJSON_AddNumberToObject(j, "train_cv_weighted_f1_offsets", r.cv_weighted_f1_offsets);
        cJSON_AddNumberToObject(j, "train_seconds", r.train_seconds);
        cJSON_AddNumberToObject(j, "n_train", (double)r.n_train);
        cJSON_AddNumberToObject(j, "n_dev", (double)r.n_dev);
        cJSON *off = cJSON_CreateObject();
        for (size_t k = 0; k < PTH_MELD_NCLASSES; k++) {
            cJSON_AddNumberToObject(pc, pth_meld_class(k), r.per_class_f1[k]);
            cJSON_AddNumberToObject(off, pth_meld_class(k), r.class_offset[k]);
        }
        cJSON_AddItemToObject(j, "class_offsets", off);
        cJSON_AddItemToObject(j, "dev_per_class_f1", pc);
        print_json(j);
        return 0;
    }
    printf("MELD (%s; train %zu utterances, dev %zu)\n", o->model, r.n_train, r.n_dev);
    printf("  dev weighted-F1 %.4f  macro-F1 %.4f  accuracy %.4f  (context %d turns%s, %s)\n", r.weighted_f1,
           r.macro_f1, r.accuracy, c.context, c.causal ? ", causal" : "",
           c.transfer.data_dir ? "GoEmotions transfer" : "no transfer");
    printf("  dev weighted-F1 %.4f  macro-F1 %.4f  first level alone (no context, no transfer)\n", r.utt_weighted_f1,
           r.utt_macro_f1);
    printf("  train CV of the stacked level: weighted-F1 %.4f, %.4f with class offsets\n", r.cv_weighted_f1,
           r.cv_weighted_f1_offsets);
    printf("  training %.1f s\n", r.train_seconds);
    for (size_t k = 0; k < PTH_MELD_NCLASSES; k++)
        printf("    %-10s %.3f  (offset %+.1f)\n", pth_meld_class(k), r.per_class_f1[k], r.class_offset[k]);
    return 0;
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void find_lexicons(const char *data, char *vader, char *afinn, size_t n, const char **vp, const char **ap)
{
    *vp = *ap = NULL;
    const char *sub[2] = {"", "lexicons/"};
    for (int k = 0; k < 2 && !*vp; k++) {
        snprintf(vader, n, "%s/../%svader/vader_lexicon.txt", data, sub[k]);
        if (file_exists(vader))
            *vp = vader;
    }
    for (int k = 0; k < 2 && !*ap; k++) {
        snprintf(afinn, n, "%s/../%safinn/AFINN-en-165.txt", data, sub[k]);
        if (file_exists(afinn)) {
            snprintf(afinn, n, "%s/../%safinn", data, sub[k]);
            *ap = afinn;
        }
    }
}

/* Loads messages.csv from data and sets the options eval and train share: writer-grouped
 * folds, the seed, and the lexicons found beside the data (vader/afinn buffers hold the paths). */
static int newsemp_setup(const task_opts *o, const char *data, const char *cmd, char vader[4096], char afinn[4096],
                         pth_newsemp *d, pth_newsemp_options *opt)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/messages.csv", data);
    pth_error err = {0};
    if (pth_newsemp_load(path, (size_t)o->max_train, d, &err))
        return pth_cli_fail(cmd, &err);
    pth_newsemp_options_default(opt);
    opt->grouped = 1;
    opt->seed = (uint32_t)o->seed;
    if (o->no_blend)
        opt->blend_gamma = 0;
    find_lexicons(data, vader, afinn, 4096, &opt->vader_path, &opt->afinn_dir);
    return 0;
}

static int eval_newsemp(const task_opts *o, const char *data)
{
    char vader[4096], afinn[4096];
    pth_newsemp d;
    pth_newsemp_options opt;
    int src = newsemp_setup(o, data, "text eval", vader, afinn, &d, &opt);
    if (src)
        return src;
    if (o->plain_folds)
        opt.grouped = 0;
    pth_error err = {0};
    pth_newsemp_result r;
    int rc = pth_newsemp_cv(&d, &opt, &r, &err);
    pth_newsemp_free(&d);
    if (rc)
        return pth_cli_fail("text eval", &err);
    const char *names[2] = {"empathy", "distress"};
    cJSON *j = o->json ? cJSON_CreateObject() : NULL;
    if (j) {
        cJSON_AddStringToObject(j, "task", "newsemp");
        cJSON_AddNumberToObject(j, "folds", (double)opt.folds);
        cJSON_AddBoolToObject(j, "grouped_by_writer", opt.grouped);
        cJSON_AddNumberToObject(j, "seconds", r.seconds);
    } else
        printf("NewsEmp (%zu essays, %zu-fold CV %s, %.0f%% conformal intervals)\n", r.n, opt.folds,
               opt.grouped ? "grouped by writer" : "with plain folds (writers on both sides)",
               100 * (1 - opt.miscoverage));
    for (int t = 0; t < 2; t++) {
        const pth_newsemp_metrics *m = &r.target[t];
        if (j) {
            cJSON *o2 = cJSON_CreateObject();
            cJSON_AddNumberToObject(o2, "pearson", m->pearson);
            cJSON_AddNumberToObject(o2, "pearson_pooled", m->pearson_pooled);
            cJSON_AddNumberToObject(o2, "spearman", m->spearman);
            cJSON_AddNumberToObject(o2, "mae", m->mae);
            cJSON_AddNumberToObject(o2, "interval_coverage", m->coverage);
            cJSON_AddNumberToObject(o2, "interval_mean_width", m->mean_width);
            cJSON_AddItemToObject(j, names[t], o2);
        } else
            printf("  %-8s Pearson r %.4f (pooled %.4f)  Spearman %.4f  MAE %.3f  coverage %.3f  width %.2f\n",
                   names[t], m->pearson, m->pearson_pooled, m->spearman, m->mae, m->coverage, m->mean_width);
    }
    if (j)
        print_json(j);
    pth_newsemp_result_free(&r);
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    task_opts o;
    int rc = parse_task_opts("text eval", "pathos text eval --task newsemp|goemotions|meld [options]",
                             "Trains and evaluates a text task: GoEmotions trains on train, tunes per-label thresholds "
                             "on dev and reports test macro/micro-F1 (also Ekman and sentiment groupings); MELD "
                             "trains on train and reports dev weighted/macro-F1 of the stacked level (dialogue context "
                             "and GoEmotions transfer features) and of the utterance model alone; "
                             "NewsEmp reports writer-grouped (--plain-folds: plain) 10-fold CV correlations and "
                             "conformal intervals.",
                             0, argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    char buf[4096];
    const char *data = o.data ? o.data : default_data(o.task, buf, sizeof buf);
    if (!strcmp(o.task, "goemotions"))
        return eval_goemotions(&o, data);
    if (!strcmp(o.task, "meld"))
        return eval_meld(&o, data);
    return eval_newsemp(&o, data);
}

/* ------------------------------------------------------------------ train */

/* Lexicons next to the dataset: shared layout (DATA/../vader) or the repository's
 * (DATA/../lexicons/vader). */
static int parse_alphas(const char *s, double *a, size_t max, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || !(v > 0) || !isfinite(v) || *n == max)
            return -1;
        a[(*n)++] = v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return *n ? 0 : -1;
}

static int train_newsemp(const task_opts *o, const char *data)
{
    char path[4096], vader[4096], afinn[4096], alt[4096];
    snprintf(path, sizeof path, "%s/messages.csv", data);
    /* Without --data and $PATHOS_DATA_DIR, fall back to the bundled data/newsemp. */
    if (!o->data && !file_exists(path) && file_exists("data/newsemp/messages.csv")) {
        snprintf(alt, sizeof alt, "data/newsemp");
        data = alt;
        snprintf(path, sizeof path, "%s/messages.csv", data);
    }
    double alphas[64];
    size_t na = 0;
    if (o->alphas && parse_alphas(o->alphas, alphas, 64, &na)) {
        fprintf(stderr, "pathos text train: --alphas must be up to 64 positive numbers, comma-separated\n");
        return 2;
    }
    if (o->inner_folds < 2 || o->inner_folds > 100 || !(o->level > 0 && o->level < 1)) {
        fprintf(stderr, "pathos text train: --inner-folds must be 2..100 and --level in (0, 1)\n");
        return 2;
    }
    pth_newsemp d;
    pth_newsemp_options opt;
    int src = newsemp_setup(o, data, "text train", vader, afinn, &d, &opt);
    if (src)
        return src;
    pth_error err = {0};
    opt.inner_folds = (size_t)o->inner_folds;
    opt.folds = 2; /* only the minimum-size check */
    opt.miscoverage = 1.0 - o->level;
    if (na) {
        opt.alphas = alphas;
        opt.n_alphas = na;
    }
    pth_textreg *m = pth_textreg_train(&d, &opt, &err);
    pth_newsemp_free(&d);
    if (!m || pth_textreg_save(m, o->out, &err)) {
        pth_textreg_free(m);
        return pth_cli_fail("text train", &err);
    }
    fprintf(stderr, "pathos text train: wrote %s (NewsEmp regressor, %zu essays, %g%% intervals%s)\n", o->out,
            pth_textreg_ntrain(m), 100 * pth_textreg_level(m), opt.vader_path ? ", lexicons" : "");
    pth_textreg_free(m);
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    task_opts o;
    int rc = parse_task_opts("text train", "pathos text train --task newsemp|goemotions|meld -o model.bin [options]",
                             "Trains a text emotion classifier on the task's train split (GoEmotions: thresholds "
                             "and ensemble weight tuned on dev; MELD: with its GoEmotions transfer model inside the "
                             "file), or the NewsEmp empathy/distress regressor with "
                             "conformal prediction intervals on all essays (hyper-parameters by inner writer-grouped "
                             "CV), and writes it for 'pathos text predict'.",
                             1, argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    char buf[4096];
    const char *data = o.data ? o.data : default_data(o.task, buf, sizeof buf);
    if (!strcmp(o.task, "newsemp"))
        return train_newsemp(&o, data);
    pth_error err = {0};
    pth_textclf *m;
    if (!strcmp(o.task, "goemotions")) {
        pth_goemo_config c;
        goemo_config(&o, data, &c);
        m = pth_goemo_train(&c, &err);
    } else {
        pth_meld_config c;
        char gbuf[4096];
        meld_config(&o, data, gbuf, sizeof gbuf, &c);
        m = pth_meld_train(&c, &err);
    }
    if (!m || pth_textclf_save(m, o.out, &err)) {
        pth_textclf_free(m);
        return pth_cli_fail("text train", &err);
    }
    pth_textclf_free(m);
    fprintf(stderr, "pathos text train: wrote %s\n", o.out);
    return 0;
}

/* ------------------------------------------------------------------ predict */

typedef enum { FMT_CSV, FMT_TSV, FMT_JSONL } in_format;

typedef struct {
    const pth_textclf *m;
    const pth_textreg *reg; /* NewsEmp regressor instead of m */
    FILE *out;
    int flush_each; /* interactive / pipe input: emit every record at once */
    int use_dialogues;
    /* buffered records (one batch, or one dialogue) */
    size_t n, cap;
    char **text, **speaker, **id, **dialogue;
    double *P;
    unsigned char *dec;
} pred_state;

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

static void free_buffered(pred_state *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->text[i]);
        free(s->speaker[i]);
        free(s->id[i]);
        free(s->dialogue[i]);
    }
    s->n = 0;
}

static void free_state(pred_state *s)
{
    free_buffered(s);
    free(s->text), free(s->speaker), free(s->id), free(s->dialogue), free(s->P), free(s->dec);
}

static int flush_regression(pred_state *s, pth_error *err)
{
    pth_textreg_pred *p = malloc(s->n * sizeof *p);
    if (!p)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    int rc = pth_textreg_predict(s->reg, s->n, (const char *const *)s->text, p, err);
    for (size_t i = 0; i < s->n && !rc; i++) {
        FILE *fp = s->out;
        fputc('{', fp);
        if (s->id[i]) {
            fputs("\"id\":", fp);
            json_string(fp, s->id[i]);
            fputc(',', fp);
        }
        fprintf(fp, "\"empathy\":%.4f,\"empathy_interval\":[%.4f,%.4f],\"distress\":%.4f,\"distress_interval\":[%.4f,%.4f]}\n",
                p[i].value[0], p[i].lo[0], p[i].hi[0], p[i].value[1], p[i].lo[1], p[i].hi[1]);
    }
    free(p);
    if (rc)
        return rc;
    free_buffered(s);
    if (s->flush_each)
        fflush(s->out);
    return ferror(s->out) ? pth_fail(err, PTH_ERR_IO, "write error on the output") : 0;
}

/* Scores the buffered records and writes one JSON line each. */
static int flush_records(pred_state *s, pth_error *err)
{
    if (s->n == 0)
        return 0;
    if (s->reg)
        return flush_regression(s, err);
    size_t L = pth_textclf_nlabels(s->m);
    double *P = realloc(s->P, s->n * L * sizeof(double));
    unsigned char *dec = realloc(s->dec, L);
    if (P)
        s->P = P;
    if (dec)
        s->dec = dec;
    if (!P || !dec)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    int rc = s->use_dialogues ? pth_textclf_score_dialogue(s->m, s->n, (const char *const *)s->text,
                                                           (const char *const *)s->speaker, P, err)
                              : pth_textclf_scores(s->m, s->n, (const char *const *)s->text, P, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < s->n; i++) {
        FILE *fp = s->out;
        fputc('{', fp);
        if (s->id[i]) {
            fputs("\"id\":", fp);
            json_string(fp, s->id[i]);
            fputc(',', fp);
        }
        fputs("\"scores\":{", fp);
        for (size_t k = 0; k < L; k++) {
            json_string(fp, pth_textclf_label(s->m, k));
            fprintf(fp, ":%.4g%s", P[i * L + k], k + 1 < L ? "," : "}");
        }
        pth_textclf_decide(s->m, P + i * L, dec);
        fputs(",\"labels\":[", fp);
        for (size_t k = 0, first = 1; k < L; k++)
            if (dec[k]) {
                if (!first)
                    fputc(',', fp);
                json_string(fp, pth_textclf_label(s->m, k));
                first = 0;
            }
        fputs("]}\n", fp);
    }
    free_buffered(s);
    if (s->flush_each)
        fflush(s->out);
    return ferror(s->out) ? pth_fail(err, PTH_ERR_IO, "write error on the output") : 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Adds one record; scores the buffer when a batch is full or a dialogue ends. */
static int add_record(pred_state *s, const char *text, const char *speaker, const char *id, const char *dialogue,
                      pth_error *err)
{
    int rc = 0;
    size_t batch = s->use_dialogues ? MAX_DIALOGUE : s->flush_each ? 1 : 256;
    if (s->use_dialogues && s->n > 0 && strcmp(s->dialogue[s->n - 1], dialogue ? dialogue : ""))
        rc = flush_records(s, err);
    if (!rc && s->use_dialogues && s->n >= batch)
        rc = pth_fail(err, PTH_ERR_INVALID, "a dialogue has more than %d turns", MAX_DIALOGUE);
    if (rc)
        return rc;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        char **a = realloc(s->text, nc * sizeof *a), **b = a ? realloc(s->speaker, nc * sizeof *b) : NULL;
        if (a)
            s->text = a;
        if (b)
            s->speaker = b;
        char **c = b ? realloc(s->id, nc * sizeof *c) : NULL;
        if (c)
            s->id = c;
        char **d = c ? realloc(s->dialogue, nc * sizeof *d) : NULL;
        if (d)
            s->dialogue = d;
        if (!d)
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
        s->cap = nc;
    }
    size_t i = s->n++;
    s->text[i] = strdup(text);
    s->speaker[i] = dup_or_null(speaker);
    s->id[i] = dup_or_null(id);
    s->dialogue[i] = strdup(dialogue ? dialogue : "");
    if (!s->text[i] || (speaker && !s->speaker[i]) || (id && !s->id[i]) || !s->dialogue[i])
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory");
    /* A full batch is scored at once (batch 1 for stdin: every line answers immediately). */
    return !s->use_dialogues && s->n >= batch ? flush_records(s, err) : 0;
}

typedef struct {
    const char *input, *format, *text_col, *speaker_col, *dialogue_col, *id_col, *model, *out;
    int no_header;
} pred_opts;

static long col_index(const pth_csv_record *h, const char *name)
{
    for (size_t j = 0; j < h->n; j++)
        if (!strcmp(h->field[j], name))
            return (long)j;
    return -1;
}

static int predict_delimited(const pred_opts *o, char delim, pred_state *s, pth_error *err)
{
    pth_csv_reader *r;
    pth_csv_reader_options ro = {0};
    ro.delimiter = delim;
    ro.max_record = MAX_LINE;
    int rc = pth_csv_open_file(&r, o->input, &ro, err);
    if (rc)
        return rc;
    pth_csv_record rec;
    long tc = 0, sc = -1, dc = -1, ic = -1;
    if (!o->no_header) {
        rc = pth_csv_next_record(r, &rec, err);
        if (!rc && rec.n == 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: empty input (a header row is expected)", o->input);
        if (!rc && (tc = col_index(&rec, o->text_col)) < 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: no column '%s' in the header (use --text-col NAME)", o->input,
                          o->text_col);
        if (!rc && o->speaker_col && (sc = col_index(&rec, o->speaker_col)) < 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: no column '%s' in the header", o->input, o->speaker_col);
        if (!rc && o->dialogue_col && (dc = col_index(&rec, o->dialogue_col)) < 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: no column '%s' in the header", o->input, o->dialogue_col);
        if (!rc && o->id_col && (ic = col_index(&rec, o->id_col)) < 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s: no column '%s' in the header", o->input, o->id_col);
    } else {
        char *end;
        tc = strtol(o->text_col, &end, 10);
        if (*end || tc < 0)
            rc = pth_fail(err, PTH_ERR_INVALID, "--no-header needs --text-col as a 0-based column number, got '%s'",
                          o->text_col);
    }
    while (!rc && (rc = pth_csv_next_record(r, &rec, err)) == PTH_OK && rec.n > 0) {
        long need = tc > sc ? tc : sc;
        need = need > dc ? need : dc;
        need = need > ic ? need : ic;
        if ((long)rec.n <= need) {
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: %zu field(s), column %ld missing", o->input, rec.line, rec.n,
                          need + 1);
            break;
        }
        rc = add_record(s, rec.field[tc], sc >= 0 ? rec.field[sc] : NULL, ic >= 0 ? rec.field[ic] : NULL,
                        dc >= 0 ? rec.field[dc] : NULL, err);
    }
    pth_csv_close(r);
    return rc;
}

/* A JSON value as a string field (strings as they are, numbers formatted). */
static const char *json_field(const cJSON *obj, const char *name, char *buf, size_t n)
{
    const cJSON *v = name ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(buf, n, "%.17g", v->valuedouble);
        return buf;
    }
    return NULL;
}

static int predict_jsonl(const pred_opts *o, pred_state *s, pth_error *err)
{
    FILE *fp = !strcmp(o->input, "-") ? stdin : fopen(o->input, "rb");
    if (!fp)
        return pth_fail(err, PTH_ERR_IO, "%s: cannot open", o->input);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if ((size_t)len > MAX_LINE) {
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: line longer than %zu bytes", o->input, lineno, MAX_LINE);
            break;
        }
        size_t k = 0;
        while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n'))
            k++;
        if (k == (size_t)len)
            continue; /* blank line */
        cJSON *j = cJSON_ParseWithLength(line, (size_t)len);
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: not a JSON object", o->input, lineno);
            break;
        }
        char b1[64], b2[64], b3[64], b4[64];
        const char *text = json_field(j, o->text_col, b1, sizeof b1);
        if (!text)
            rc = pth_fail(err, PTH_ERR_INVALID, "%s:%zu: no string field '%s' (use --text-col NAME)", o->input, lineno,
                          o->text_col);
        else
            rc = add_record(s, text, json_field(j, o->speaker_col, b2, sizeof b2), json_field(j, o->id_col, b3, sizeof b3),
                            json_field(j, o->dialogue_col, b4, sizeof b4), err);
        cJSON_Delete(j);
    }
    if (!rc && ferror(fp))
        rc = pth_fail(err, PTH_ERR_IO, "%s: read error", o->input);
    free(line);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int parse_predict_opts(int argc, char **argv, pred_opts *o)
{
    memset(o, 0, sizeof *o);
    o->input = "-";
    o->out = "-";
    const pth_arg_spec specs[] = {
        {"model", 'm', PTH_ARG_STR, &o->model, "FILE", "classifier or NewsEmp regressor written by 'pathos text train' (required)"},
        {"input", 'i', PTH_ARG_STR, &o->input, "FILE", "input file, '-' = stdin (default)"},
        {"format", 'f', PTH_ARG_STR, &o->format, "FMT", "csv | tsv | jsonl (default: from the file name, else jsonl)"},
        {"text-col", 0, PTH_ARG_STR, &o->text_col, "NAME", "column / JSON field with the text (default 'text')"},
        {"id-col", 0, PTH_ARG_STR, &o->id_col, "NAME", "column / field copied to the output as \"id\""},
        {"speaker-col", 0, PTH_ARG_STR, &o->speaker_col, "NAME", "conversation models: speaker column"},
        {"dialogue-col", 0, PTH_ARG_STR, &o->dialogue_col, "NAME",
         "conversation models: dialogue id column; consecutive rows with the same id form one dialogue"},
        {"no-header", 0, PTH_ARG_FLAG, &o->no_header, NULL, "csv/tsv without a header row (--text-col is a number)"},
        {"output", 'o', PTH_ARG_STR, &o->out, "FILE", "output JSONL (default stdout; a file appears only on success)"},
    };
    pth_arg_parser p = {"text predict", "pathos text predict --model model.bin [--input FILE|-] [options]",
                        "Scores texts with a saved classifier, streaming: reads CSV/TSV/JSONL record by record and "
                        "writes one JSON line per record ({\"id\", \"scores\": {label: probability}, \"labels\": "
                        "[...]}; a NewsEmp regressor writes {\"id\", \"empathy\", \"empathy_interval\": [lo, hi], \"distress\", "
                        "\"distress_interval\"}) in bounded memory, so it can run inside xargs, GNU parallel or Hadoop streaming. "
                        "With a conversation model (MELD with context) and --dialogue-col, each dialogue is "
                        "buffered and scored with its context.",
                        specs, sizeof specs / sizeof specs[0], 0, 0};
    char **pos = NULL;
    size_t npos = 0;
    int rc = pth_args_parse(&p, argc, argv, &pos, &npos);
    free(pos);
    if (rc)
        return rc < 0 ? -1 : 2;
    if (!o->model) {
        fprintf(stderr, "pathos text predict: --model FILE is required\n");
        return 2;
    }
    if (!o->format) {
        size_t n = strlen(o->input);
        o->format = n > 4 && !strcmp(o->input + n - 4, ".csv") ? "csv"
                    : n > 4 && !strcmp(o->input + n - 4, ".tsv") ? "tsv"
                                                                  : "jsonl";
    }
    if (strcmp(o->format, "csv") && strcmp(o->format, "tsv") && strcmp(o->format, "jsonl")) {
        fprintf(stderr, "pathos text predict: --format must be csv, tsv or jsonl, got '%s'\n", o->format);
        return 2;
    }
    if (!o->text_col)
        o->text_col = o->no_header ? "0" : "text";
    return 0;
}

static int cmd_predict(int argc, char **argv)
{
    pred_opts o;
    int rc = parse_predict_opts(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    pth_error err = {0};
    pth_textclf *m = NULL;
    pth_textreg *reg = NULL;
    if (pth_textreg_is_file(o.model))
        reg = pth_textreg_load(o.model, &err);
    else
        m = pth_textclf_load(o.model, &err);
    if (!m && !reg)
        return pth_cli_fail("text predict", &err);
    pth_outfile of;
    if (pth_outfile_open(&of, o.out, &err)) {
        pth_textclf_free(m);
        pth_textreg_free(reg);
        return pth_cli_fail("text predict", &err);
    }
    pred_state s;
    memset(&s, 0, sizeof s);
    s.m = m;
    s.reg = reg;
    s.out = of.fp;
    s.flush_each = !strcmp(o.input, "-");
    /* Dialogues are buffered only when the model has a context level to use them. */
    s.use_dialogues = m && o.dialogue_col != NULL && pth_textclf_context(m, NULL) > 0;
    if (!strcmp(o.format, "jsonl"))
        rc = predict_jsonl(&o, &s, &err);
    else
        rc = predict_delimited(&o, !strcmp(o.format, "tsv") ? '\t' : ',', &s, &err);
    if (!rc)
        rc = flush_records(&s, &err);
    free_state(&s);
    pth_textclf_free(m);
    pth_textreg_free(reg);
    if (rc) {
        pth_outfile_abort(&of);
        return pth_cli_fail("text predict", &err);
    }
    if (pth_outfile_commit(&of, &err))
        return pth_cli_fail("text predict", &err);
    return 0;
}

/* ------------------------------------------------------------------ dispatch */

static void text_usage(FILE *fp)
{
    fprintf(fp, "usage: pathos text <eval|train|predict> [options]\n\n"
                "  eval     train and evaluate a task (newsemp, goemotions, meld)\n"
                "  train    train a GoEmotions or MELD classifier, or the NewsEmp regressor, and save it\n"
                "  predict  score CSV/TSV/JSONL texts with a saved classifier (streaming JSONL out)\n\n"
                "Run 'pathos text <subcommand> --help' for its options.\n");
}

int pth_cmd_text(int argc, char **argv)
{
    if (argc < 2) {
        text_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        text_usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(sub, "predict"))
        return cmd_predict(argc - 1, argv + 1);
    fprintf(stderr, "pathos text: unknown subcommand '%s'\n\n", sub);
    text_usage(stderr);
    return 2;
}
