/* NewsEmp cross-validation driver for bench/RESULTS-text-newsemp.md.
 *
 * Build (from the repository root, after building libpathos.a into build/):
 *   cc -O2 -std=c11 -fopenmp -Iinclude bench/newsemp_cv.c build/libpathos.a \
 *      $(pkg-config --libs libutf8proc openblas libcjson) -lxgboost -lm -o build/newsemp_cv
 * Run:
 *   build/newsemp_cv [--grouped] [--rows N] [--folds K] [--seed S] [--preds FILE]
 *                    [--transfer GOEMOTIONS_DIR [--transfer-model linear|fasttext|ensemble]] [--rbf GAMMA] [--blend GAMMA]
 *                    [--alpha-grid A1,..] [--word-grid W1,..] [--dense-grid W1,..] [--ngrams WMIN,WMAX,CMIN,CMAX]
 * --transfer fits the GoEmotions transfer model on GOEMOTIONS_DIR/train.tsv (once, before the
 * CV; it never sees NewsEmp ratings) and adds its document features to the dense block.
 * Prints one line per target; --preds writes row,message_id,fold,target,y,pred,lo,hi as CSV (bench/newsemp_blend reads it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/newsemp.h"
#include "pathos/textemo.h"

int main(int argc, char **argv)
{
    pth_newsemp_options o;
    pth_newsemp_options_default(&o);
    o.vader_path = "data/lexicons/vader/vader_lexicon.txt";
    o.afinn_dir = "data/lexicons/afinn";
    size_t rows = 0;
    const char *preds = NULL, *data = "data/newsemp/messages.csv", *transfer = NULL, *tmodel = "linear";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--grouped"))
            o.grouped = 1;
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--folds") && i + 1 < argc)
            o.folds = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            o.seed = (uint32_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--preds") && i + 1 < argc)
            preds = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--word-grid") && i + 1 < argc) {
            /* comma-separated weights of the word block, e.g. 1,2,4 */
            static double ww[16];
            size_t nww = 0;
            for (char *p = argv[++i]; *p && nww < 16;) {
                char *end;
                ww[nww++] = strtod(p, &end);
                p = *end == ',' ? end + 1 : end;
                if (end == p && *p)
                    break;
            }
            o.word_weights = ww;
            o.n_word_weights = nww;
        } else if (!strcmp(argv[i], "--no-stack"))
            o.stack_targets = 0;
        else if (!strcmp(argv[i], "--transfer") && i + 1 < argc)
            transfer = argv[++i];
        else if (!strcmp(argv[i], "--transfer-model") && i + 1 < argc)
            tmodel = argv[++i];
        else if (!strcmp(argv[i], "--dense-grid") && i + 1 < argc) {
            static double dw[16];
            size_t ndw = 0;
            for (char *p = argv[++i]; *p && ndw < 16;) {
                char *end;
                dw[ndw++] = strtod(p, &end);
                p = *end == ',' ? end + 1 : end;
                if (end == p && *p)
                    break;
            }
            o.dense_weights = dw;
            o.n_dense_weights = ndw;
        } else if (!strcmp(argv[i], "--alpha-grid") && i + 1 < argc) {
            static double al[16];
            size_t nal = 0;
            for (char *p = argv[++i]; *p && nal < 16;) {
                char *end;
                al[nal++] = strtod(p, &end);
                p = *end == ',' ? end + 1 : end;
                if (end == p && *p)
                    break;
            }
            o.alphas = al;
            o.n_alphas = nal;
        } else if (!strcmp(argv[i], "--ngrams") && i + 1 < argc) {
            /* word and char n-gram orders: WMIN,WMAX,CMIN,CMAX (default 1,2,3,5) */
            unsigned v[4];
            if (sscanf(argv[++i], "%u,%u,%u,%u", &v[0], &v[1], &v[2], &v[3]) != 4) {
                fprintf(stderr, "--ngrams needs WMIN,WMAX,CMIN,CMAX\n");
                return 2;
            }
            o.hash.word_min = v[0], o.hash.word_max = v[1], o.hash.char_min = v[2], o.hash.char_max = v[3];
        } else if (!strcmp(argv[i], "--rbf") && i + 1 < argc)
            o.rbf_gamma = atof(argv[++i]);
        else if (!strcmp(argv[i], "--blend") && i + 1 < argc)
            o.blend_gamma = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-lexicon"))
            o.vader_path = o.afinn_dir = NULL;
        else {
            fprintf(stderr, "usage: %s [--grouped] [--rows N] [--folds K] [--seed S] [--preds FILE] [--data CSV] [--no-lexicon] [--no-stack] [--rbf GAMMA] [--blend GAMMA (0: off)] [--ngrams WMIN,WMAX,CMIN,CMAX] [--alpha-grid A1,A2,..] [--word-grid W1,W2,..] [--dense-grid W1,W2,..] [--transfer GOEMO_DIR] [--transfer-model KIND]\n", argv[0]);
            return 2;
        }
    }
    pth_error err = {0};
    pth_newsemp d;
    if (pth_newsemp_load(data, rows, &d, &err) != PTH_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    pth_emotransfer *tm = NULL;
    if (transfer) {
        pth_emotransfer_config tc;
        pth_emotransfer_config_default(&tc);
        tc.data_dir = transfer;
        if (pth_textemo_model_parse(tmodel) < 0) {
            fprintf(stderr, "error: unknown transfer model '%s'\n", tmodel);
            return 2;
        }
        tc.model = (pth_textemo_model)pth_textemo_model_parse(tmodel);
        if (!(tm = pth_emotransfer_train(&tc, &err))) {
            fprintf(stderr, "error: %s\n", err.msg);
            pth_newsemp_free(&d);
            return 1;
        }
        o.transfer = tm;
    }
    pth_newsemp_result r;
    int crc = pth_newsemp_cv(&d, &o, &r, &err);
    pth_emotransfer_free(tm);
    if (crc != PTH_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        pth_newsemp_free(&d);
        return 1;
    }
    printf("essays %zu, %zu-fold %s CV, seed %u, %.1f s, featurise %.0f docs/s, transfer %s, rbf gamma %g, blend gamma %g\n",
           d.n, o.folds, o.grouped ? "grouped-by-writer" : "plain", o.seed, r.seconds, r.featurize_docs_per_s,
           transfer ? tmodel : "off", o.rbf_gamma, o.blend_gamma);
    const char *names[2] = {"empathy", "distress"};
    for (int t = 0; t < 2; t++) {
        const pth_newsemp_metrics *m = &r.target[t];
        printf("%-8s r %.3f (pooled %.3f)  spearman %.3f  MAE %.3f | 90%% normalised: coverage %.3f width %.2f "
               "spearman(width,|err|) %.3f | constant: coverage %.3f width %.2f | alpha %.2f w_dense %.2f w_word %.2f blend alpha %.3f\n",
               names[t], m->pearson, m->pearson_pooled, m->spearman, m->mae, m->coverage, m->mean_width,
               m->width_error_spearman, m->coverage_const, m->mean_width_const, m->mean_alpha, m->mean_dense_weight, m->mean_word_weight,
               m->mean_blend_alpha);
    }
    if (preds) {
        FILE *f = fopen(preds, "w");
        if (f) {
            fprintf(f, "row,message_id,fold,target,y,pred,lo,hi\n");
            for (size_t i = 0; i < d.n; i++)
                for (int t = 0; t < 2; t++)
                    fprintf(f, "%zu,%s,%d,%s,%.4f,%.6f,%.6f,%.6f\n", i, d.message_id[i], r.fold[i], names[t],
                            t ? d.distress[i] : d.empathy[i], r.pred[i * 2 + t], r.lo[i * 2 + t], r.hi[i * 2 + t]);
            fclose(f);
        }
    }
    pth_newsemp_result_free(&r);
    pth_newsemp_free(&d);
    return 0;
}
