/* GoEmotions: TSV loading (quoted fields, bad label lists), the Ekman / sentiment
 * groupings, an end-to-end run on a 3k-row training slice (dev-tuned thresholds, test
 * scores), and the saved classifier's round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/textclf.h"
#include "pathos/textemo.h"

static const char *write_tmp(const char *name, const char *content)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", pth_test_tmpdir(), name);
    FILE *fp = fopen(p, "wb");
    fputs(content, fp);
    fclose(fp);
    return p;
}

static void test_load(void)
{
    pth_goemo_split s;
    pth_error err = {0};
    CHECK_OK(pth_goemo_load(pth_test_shared("data/goemotions/train.tsv"), 3000, &s, &err), &err);
    CHECK(s.n == 3000);
    if (s.n == 3000) {
        CHECK(strcmp(s.text[0], "My favourite food is anything I didn't have to cook myself.") == 0);
        CHECK(s.Y[0 * 28 + 27] == 1);
        CHECK(s.Y[2 * 28 + 2] == 1); /* "WHY THE FUCK IS BAYLESS ISOING" -> anger */
    }
    pth_goemo_split_free(&s);
    /* RFC 4180 quoting as in the real files: doubled quotes, a tab inside quotes. */
    const char *p = write_tmp("q.tsv", "\"He said \"\"hi\"\"\tthere\"\t3,27\tid1\nplain\t0\tid2\n");
    CHECK_OK(pth_goemo_load(p, 0, &s, &err), &err);
    CHECK(s.n == 2);
    if (s.n == 2) {
        CHECK(strcmp(s.text[0], "He said \"hi\"\tthere") == 0);
        CHECK(s.Y[3] == 1 && s.Y[27] == 1 && s.Y[0] == 0);
    }
    pth_goemo_split_free(&s);
    p = write_tmp("bad.tsv", "ok\t1\ta\nbad\t28\tb\n");
    CHECK(pth_goemo_load(p, 0, &s, &err) == PTH_ERR_PARSE);
    CHECK(strstr(err.msg, ":2:") != NULL && strstr(err.msg, "28") != NULL);
    p = write_tmp("bad2.tsv", "text only\n");
    CHECK(pth_goemo_load(p, 0, &s, &err) == PTH_ERR_PARSE);
    CHECK(pth_goemo_load("/nonexistent.tsv", 0, &s, &err) != 0);
}

static void test_groups(void)
{
    int ek[28], se[28];
    pth_error err = {0};
    CHECK_OK(pth_goemo_groups(pth_test_shared("data/goemotions"), ek, se, &err), &err);
    CHECK(ek[2] == 0 && ek[3] == 0 && ek[10] == 0); /* anger, annoyance, disapproval -> anger */
    CHECK(ek[11] == 1);                              /* disgust */
    CHECK(ek[14] == 2 && ek[19] == 2);               /* fear, nervousness */
    CHECK(ek[17] == 3 && ek[0] == 3 && ek[5] == 3);  /* joy, admiration, caring */
    CHECK(ek[25] == 4 && ek[16] == 4);               /* sadness, grief */
    CHECK(ek[26] == 5 && ek[22] == 5);               /* surprise, realization */
    CHECK(ek[27] == 6);                              /* neutral */
    CHECK(se[1] == 0 && se[14] == 1 && se[6] == 2 && se[27] == 3);
    CHECK(strcmp(pth_goemo_ekman_name(3), "joy") == 0);
    CHECK(strcmp(pth_goemo_label(27), "neutral") == 0);
}

static void test_end_to_end(void)
{
    pth_goemo_config c;
    pth_goemo_config_default(&c);
    c.data_dir = pth_test_shared("data/goemotions");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", c.data_dir);
    c.data_dir = dir;
    c.model = PTH_TEXTEMO_ENSEMBLE;
    c.max_train = 3000;
    c.hash_bits = 15;
    c.ft.epochs = 10;
    pth_goemo_result r;
    pth_error err = {0};
    CHECK_OK(pth_goemo_eval(&c, &r, &err), &err);
    printf("goemotions 3k slice, ensemble: test macro-F1 %.4f micro %.4f ekman %.4f sentiment %.4f dev %.4f w %.1f\n",
           r.macro_f1, r.micro_f1, r.ekman_macro_f1, r.sent_macro_f1, r.dev_macro_f1, r.ensemble_weight);
    CHECK(r.n_train == 3000 && r.n_dev == 5426 && r.n_test == 5427);
    /* Chance level is ~0.05 macro; a 3k-row linear model reaches ~0.37 on the full 28. */
    CHECK(r.macro_f1 > 0.30);
    CHECK(r.micro_f1 > 0.40);
    /* Coarser groupings are easier. */
    CHECK(r.ekman_macro_f1 > r.macro_f1);
    CHECK(r.sent_micro_f1 > r.micro_f1);
    CHECK(r.ensemble_weight >= 0 && r.ensemble_weight <= 1);

    /* Saved classifier: bit-identical scores after a round trip. */
    c.model = PTH_TEXTEMO_FASTTEXT;
    c.max_train = 2000;
    pth_textclf *m = pth_goemo_train(&c, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/ge.bin", pth_test_tmpdir());
    CHECK_OK(pth_textclf_save(m, path, &err), &err);
    pth_textclf *l = pth_textclf_load(path, &err);
    CHECK(l != NULL);
    const char *texts[3] = {"Thank you so much!", "I'm scared of what happens next", ""};
    double a[3 * 28], b[3 * 28];
    CHECK_OK(pth_textclf_scores(m, 3, texts, a, &err), &err);
    if (l) {
        CHECK_OK(pth_textclf_scores(l, 3, texts, b, &err), &err);
        CHECK(memcmp(a, b, sizeof a) == 0);
        CHECK(pth_textclf_multilabel(l) == 1 && pth_textclf_nlabels(l) == 28);
        CHECK(strcmp(pth_textclf_task(l), "goemotions") == 0);
        unsigned char dec[28];
        pth_textclf_decide(l, b + 28, dec);
        int any = 0;
        for (int k = 0; k < 28; k++)
            any += dec[k];
        CHECK(any >= 1);
        pth_textclf_free(l);
    }
    pth_textclf_free(m);
    /* A corrupt classifier file is an error, not a crash. */
    const char *bad = write_tmp("bad.bin", "PTXC but not really");
    CHECK(pth_textclf_load(bad, &err) == NULL);
}

int main(void)
{
    test_load();
    test_groups();
    test_end_to_end();
    return pth_test_finish();
}
