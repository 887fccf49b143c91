/* MELD: CSV loading (header lookup, sorting by dialogue, bad rows), dialogue-grouped folds
 * (no dialogue in two folds), the context features, and an end-to-end run on a training
 * slice with and without context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pathos/io.h"
#include "pathos/textclf.h"
#include "pathos/textemo.h"
#include "text/textemo_internal.h"

static const char *write_tmp(const char *name, const char *content)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", pth_test_tmpdir(), name);
    FILE *fp = fopen(path, "wb");
    fputs(content, fp);
    fclose(fp);
    return path;
}

static void test_load(void)
{
    pth_meld_split s;
    pth_error err = {0};
    CHECK_OK(pth_meld_load(pth_test_shared("data/meld/MELD/dev_sent_emo.csv"), 0, &s, &err), &err);
    CHECK(s.n == 1109);
    int sorted = 1;
    for (size_t i = 1; i < s.n; i++)
        sorted &= s.dialogue[i - 1] < s.dialogue[i] || (s.dialogue[i - 1] == s.dialogue[i] && s.utt[i - 1] < s.utt[i]);
    CHECK(sorted);
    if (s.n) {
        CHECK(strcmp(s.text[0], "Oh my God, he\xE2\x80\x99s lost it. He\xE2\x80\x99s totally lost it.") == 0);
        CHECK(s.label[0] == pth_meld_class_parse("sadness"));
        CHECK(strcmp(s.speaker[0], "Phoebe") == 0);
    }
    pth_meld_split_free(&s);
    /* Rows out of order are sorted; a missing column or unknown emotion is an error. */
    const char *p = write_tmp("m.csv", "Utterance,Speaker,Emotion,Dialogue_ID,Utterance_ID\n"
                                       "\"b, second\",B,joy,1,1\na,A,anger,1,0\nc,C,neutral,0,0\n");
    CHECK_OK(pth_meld_load(p, 0, &s, &err), &err);
    CHECK(s.n == 3 && strcmp(s.text[0], "c") == 0 && strcmp(s.text[2], "b, second") == 0);
    pth_meld_split_free(&s);
    p = write_tmp("m2.csv", "Utterance,Speaker,Dialogue_ID,Utterance_ID\nx,A,0,0\n");
    CHECK(pth_meld_load(p, 0, &s, &err) == PTH_ERR_INVALID);
    CHECK(strstr(err.msg, "Emotion") != NULL);
    p = write_tmp("m3.csv", "Utterance,Speaker,Emotion,Dialogue_ID,Utterance_ID\nx,A,happy,0,0\n");
    CHECK(pth_meld_load(p, 0, &s, &err) == PTH_ERR_PARSE);
    CHECK(strstr(err.msg, ":2:") != NULL && strstr(err.msg, "happy") != NULL);
}

static void test_folds(void)
{
    pth_meld_split s;
    pth_error err = {0};
    CHECK_OK(pth_meld_load(pth_test_shared("data/meld/MELD/train_sent_emo.csv"), 0, &s, &err), &err);
    int *f = malloc(s.n * sizeof(int)), *g = malloc(s.n * sizeof(int));
    CHECK_OK(pth_group_kfold(s.dialogue, s.n, 5, 7, f, &err), &err);
    CHECK_OK(pth_group_kfold(s.dialogue, s.n, 5, 7, g, &err), &err);
    CHECK(memcmp(f, g, s.n * sizeof(int)) == 0); /* seeded: reproducible */
    size_t count[5] = {0};
    int same_fold = 1, in_range = 1;
    for (size_t i = 0; i < s.n; i++) {
        in_range &= f[i] >= 0 && f[i] < 5;
        if (f[i] >= 0 && f[i] < 5)
            count[f[i]]++;
        /* rows are sorted by dialogue, so one dialogue is a contiguous run */
        if (i > 0 && s.dialogue[i] == s.dialogue[i - 1])
            same_fold &= f[i] == f[i - 1];
    }
    CHECK(in_range);
    CHECK(same_fold); /* no dialogue in two folds */
    for (int k = 0; k < 5; k++)
        CHECK(count[k] > s.n / 8 && count[k] < s.n / 3);
    CHECK_OK(pth_group_kfold(s.dialogue, s.n, 5, 8, g, &err), &err);
    CHECK(memcmp(f, g, s.n * sizeof(int)) != 0); /* another seed, another split */
    CHECK(pth_group_kfold(s.dialogue, s.n, 1, 7, g, &err) == PTH_ERR_INVALID);
    int two[2] = {3, 3};
    CHECK(pth_group_kfold(two, 2, 2, 7, g, &err) == PTH_ERR_INVALID); /* one group, two folds */
    free(f), free(g);
    pth_meld_split_free(&s);
}

static void test_context_features(void)
{
    /* Dialogue 0: A, B, A; dialogue 1: C.  P rows are one-hot on class i. */
    const int dia[4] = {0, 0, 0, 1};
    const char *spk[4] = {"A", "B", "A", "C"};
    double P[4 * 7] = {0};
    for (int i = 0; i < 4; i++)
        P[i * 7 + i] = 1;
    size_t nf = pth_meld_context_nfeat(2);
    CHECK(nf == 7 + 2 * 2 * 15 + 14 + 4);
    double *F = calloc(4 * nf, sizeof(double));
    pth_meld_context_features(dia, spk, 4, P, 2, 0, F);
    const double *f = F + 2 * nf; /* third turn, speaker A */
    CHECK(f[2] > -0.001 && f[0] < -9);         /* own log-probabilities */
    const double *prev1 = f + 7, *next1 = f + 7 + 15, *prev2 = f + 7 + 30;
    CHECK(prev1[7 + 1] == 1 && prev1[1] == 0); /* turn 2 (B): other-speaker slot */
    CHECK(prev1[14] == 1);
    CHECK(next1[14] == 0);                     /* last turn: nothing after */
    CHECK(prev2[0] == 1 && prev2[14] == 1);    /* turn 1 (A): same-speaker slot */
    const double *means = f + 7 + 60;
    CHECK_NEAR(means[0], 0.5, 1e-12);          /* rest of the dialogue: turns 1 and 2 */
    CHECK_NEAR(means[1], 0.5, 1e-12);
    CHECK_NEAR(means[7 + 0], 1.0, 1e-12);      /* same speaker: turn 1 only */
    const double *g = F + 3 * nf;              /* a one-turn dialogue sees no other turn */
    CHECK(g[7 + 14] == 0 && g[7 + 60] == 0);
    /* Causal: the first turn does not see the second. */
    pth_meld_context_features(dia, spk, 4, P, 2, 1, F);
    CHECK(F[7 + 15 + 14] == 0);
    pth_meld_context_features(dia, spk, 4, P, 2, 0, F);
    CHECK(F[7 + 15 + 14] == 1);
    free(F);
}

/* Stacked-level inputs with transfer features: own log-probabilities, log transfer features,
 * then the previous turns only (same/other-speaker slot, presence flag), never across
 * dialogues, and the same whether causal or not. */
static void test_transfer_inputs(void)
{
    const int dia[4] = {0, 0, 0, 1};
    const char *spk[4] = {"A", "B", "A", "C"};
    double P[4 * 7] = {0}, T[4 * PTH_EMOTRANSFER_NFEAT];
    for (int i = 0; i < 4; i++)
        P[i * 7 + i] = 1;
    for (size_t j = 0; j < 4 * PTH_EMOTRANSFER_NFEAT; j++)
        T[j] = 0.5;
    size_t nf = txm_l2_nfeat(2, 1, 0);
    CHECK(nf == 7 + PTH_EMOTRANSFER_NFEAT + 2 * 15);
    CHECK(txm_l2_nfeat(0, 1, 0) == 7 + PTH_EMOTRANSFER_NFEAT);
    CHECK(txm_l2_nfeat(2, 0, 0) == pth_meld_context_nfeat(2));
    double *F = calloc(4 * nf, sizeof(double)), *G = calloc(4 * nf, sizeof(double));
    txm_l2_features(dia, spk, 4, P, T, NULL, 2, 0, F);
    txm_l2_features(dia, spk, 4, P, T, NULL, 2, 1, G);
    CHECK(memcmp(F, G, 4 * nf * sizeof(double)) == 0);
    const double *f = F + 2 * nf, *prev1 = f + 7 + PTH_EMOTRANSFER_NFEAT, *prev2 = prev1 + 15;
    CHECK(f[2] > -0.001 && f[0] < -9);
    CHECK_NEAR(f[7], log(0.5 + 1e-3), 1e-12);
    CHECK(prev1[7 + 1] == 1 && prev1[1] == 0 && prev1[14] == 1); /* turn 2 (B): other speaker */
    CHECK(prev2[0] == 1 && prev2[14] == 1);                      /* turn 1 (A): same speaker */
    const double *g = F + 3 * nf + 7 + PTH_EMOTRANSFER_NFEAT;    /* new dialogue: no previous turn */
    CHECK(g[14] == 0 && g[15 + 14] == 0);
    free(F), free(G);
}

/* Document statistics as stacked-level inputs: values worked out by hand from the tokens
 * ("WHAT" "?!" / "oh" "," "no" "!!!" "no" "."), counts as log(1 + count), and appended after
 * the other inputs of each row without disturbing them. */
static void test_doc_inputs(void)
{
    const char *texts[2] = {"WHAT?!", "Oh, no!!! No."};
    double S[2 * PTH_DOCSTAT_NFEAT];
    pth_error err = {0};
    CHECK_OK(txm_doc_features(2, texts, S, &err), &err);
    const double *a = S, *b = S + PTH_DOCSTAT_NFEAT;
    CHECK_NEAR(a[0], log(3.0), 1e-12);      /* two tokens: log(1 + 2) */
    CHECK_NEAR(a[2], log(2.0), 1e-12);      /* one '!' -> log 2 */
    CHECK_NEAR(a[3], log(2.0), 1e-12);      /* one '?' */
    CHECK_NEAR(a[4], 1.0, 1e-12);           /* all letters upper case */
    CHECK_NEAR(a[5], log(2.0), 1e-12);      /* one word in capitals */
    CHECK_NEAR(b[2], log(4.0), 1e-12);      /* "!!!" */
    CHECK_NEAR(b[3], 0.0, 1e-12);
    CHECK_NEAR(b[13], 2.0 / 3.0, 1e-12);    /* negators: no, no of 3 words */
    /* Appended: same base inputs with and without S. */
    const int dia[2] = {0, 0};
    const char *spk[2] = {"A", "B"};
    double P[2 * 7] = {0}, T[2 * PTH_EMOTRANSFER_NFEAT];
    P[0] = P[7 + 1] = 1;
    for (size_t j = 0; j < 2 * PTH_EMOTRANSFER_NFEAT; j++)
        T[j] = 0.25;
    size_t nb = txm_l2_nfeat(1, 1, 0), nf = txm_l2_nfeat(1, 1, 1);
    CHECK(nf == nb + PTH_DOCSTAT_NFEAT);
    CHECK(txm_l2_nfeat(0, 0, 1) == 7 + PTH_DOCSTAT_NFEAT);
    double F0[2 * 64], F1[2 * 80];
    CHECK(nb <= 64 && nf <= 80);
    txm_l2_features(dia, spk, 2, P, T, NULL, 1, 0, F0);
    txm_l2_features(dia, spk, 2, P, T, S, 1, 0, F1);
    for (size_t i = 0; i < 2; i++) {
        CHECK(memcmp(F1 + i * nf, F0 + i * nb, nb * sizeof(double)) == 0);
        CHECK(memcmp(F1 + i * nf + nb, S + i * PTH_DOCSTAT_NFEAT, PTH_DOCSTAT_NFEAT * sizeof(double)) == 0);
    }
}

/* Class offsets on a hand-made case: class 2 rows always rank second behind neutral by a
 * log-ratio of log(0.5 / 0.4) ~ 0.22, class 1 rows are right already.  The tuned offset
 * for class 2 must lift them above neutral without taking the neutral rows. */
static void test_class_offsets(void)
{
    enum { N = 30, KK = 3 };
    double Q[N * KK];
    int y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i < 15 ? 0 : i < 20 ? 1 : 2;
        double *q = Q + i * KK;
        if (y[i] == 0)
            q[0] = 0.7, q[1] = 0.1, q[2] = 0.2; /* log-ratio of class 2 to neutral: -1.25 */
        else if (y[i] == 1)
            q[0] = 0.2, q[1] = 0.7, q[2] = 0.1;
        else
            q[0] = 0.5, q[1] = 0.1, q[2] = 0.4;
    }
    double b[KK];
    CHECK(txm_tune_bias(Q, y, N, KK, b) == 0);
    CHECK(b[0] == 0);
    CHECK(b[2] > 0.22 && b[2] < 1.25);
    /* Already perfect: no offsets. */
    for (int i = 20; i < N; i++)
        Q[i * KK] = 0.3, Q[i * KK + 2] = 0.6;
    CHECK(txm_tune_bias(Q, y, N, KK, b) == 0);
    CHECK(b[0] == 0 && b[1] == 0 && b[2] == 0);
}

/* GoEmotions rows as MELD classes through the shipped Ekman mapping: one group -> its class,
 * two groups -> none, no label -> none. */
static void test_goemo_mapping(void)
{
    int ekman_of[PTH_GOEMO_NLABELS], sent[PTH_GOEMO_NLABELS];
    pth_error err = {0};
    CHECK_OK(pth_goemo_groups(pth_test_shared("data/goemotions"), ekman_of, sent, &err), &err);
    unsigned char Y[PTH_GOEMO_NLABELS] = {0};
    CHECK(pth_meld_from_goemo(Y, ekman_of) == -1);
    Y[PTH_GOEMO_NEUTRAL] = 1;
    CHECK(pth_meld_from_goemo(Y, ekman_of) == pth_meld_class_parse("neutral"));
    memset(Y, 0, sizeof Y);
    Y[1] = Y[15] = 1; /* amusement + gratitude: both joy */
    CHECK(pth_meld_from_goemo(Y, ekman_of) == pth_meld_class_parse("joy"));
    Y[2] = 1;         /* + anger: two groups */
    CHECK(pth_meld_from_goemo(Y, ekman_of) == -1);
    memset(Y, 0, sizeof Y);
    Y[19] = 1;        /* nervousness -> fear */
    CHECK(pth_meld_from_goemo(Y, ekman_of) == pth_meld_class_parse("fear"));
    Y[PTH_GOEMO_NEUTRAL] = 1; /* neutral is a group of its own */
    CHECK(pth_meld_from_goemo(Y, ekman_of) == -1);
}

static void test_end_to_end(void)
{
    pth_meld_config c;
    pth_meld_config_default(&c);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", pth_test_shared("data/meld/MELD"));
    c.data_dir = dir;
    c.model = PTH_TEXTEMO_FASTTEXT;
    c.max_train = 4000;
    c.context = 2;
    pth_meld_result r;
    pth_error err = {0};
    CHECK_OK(pth_meld_eval(&c, &r, &err), &err);
    printf("meld 4k slice, fastText: dev weighted-F1 %.4f (no context %.4f), macro %.4f (no context %.4f)\n",
           r.weighted_f1, r.utt_weighted_f1, r.macro_f1, r.utt_macro_f1);
    CHECK(r.n_train == 4000 && r.n_dev == 1109);
    /* Majority class (neutral, 42% of dev) gives weighted-F1 ~0.25. */
    CHECK(r.weighted_f1 > 0.40);
    CHECK(r.utt_weighted_f1 > 0.40);
    CHECK(r.accuracy > 0.45);
    c.context = 7;
    CHECK(pth_meld_eval(&c, &r, &err) == PTH_ERR_INVALID);
}

/* A version-3 file (no document-statistics flag) still loads, with the stacked level's
 * older inputs: made from a v4 file of a model without document statistics by removing the
 * flag (the u32 just before the stacked level's block) and relabelling the version. */
static void check_version3(pth_meld_config *c, const char *const *texts, const char *const *spk)
{
    pth_error err = {0};
    c->doc_stats = 0;
    pth_textclf *m = pth_meld_train(c, &err);
    c->doc_stats = 1;
    CHECK(m != NULL && m->l2 != NULL && m->doc_stats == 0);
    if (!m || !m->l2) {
        pth_textclf_free(m);
        return;
    }
    char path[1024], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/meld_v3.bin", pth_test_tmpdir());
    CHECK_OK(pth_textclf_save(m, path, &err), &err);
    CHECK_OK(pth_read_file(path, (size_t)1 << 30, &buf, &len, &err), &err);
    size_t nf = m->l2->nf, K = m->l2->K;
    /* has_l2, nf, K, then mu, sd and W, each an f64 array with a u64 count in front. */
    size_t l2_bytes = 4 + 8 + 8 + 3 * 8 + 8 * nf * 2 + 8 * K * (nf + 1), flag = len - l2_bytes - 4;
    CHECK(buf && len > l2_bytes + 8 && memcmp(buf + flag, "\0\0\0\0", 4) == 0);
    if (buf && len > l2_bytes + 8) {
        memmove(buf + flag, buf + flag + 4, l2_bytes);
        buf[4] = 3;
        FILE *fp = fopen(path, "wb");
        CHECK(fp && fwrite(buf, 1, len - 4, fp) == len - 4);
        if (fp)
            fclose(fp);
        pth_textclf *u = pth_textclf_load(path, &err);
        CHECK(u != NULL && u->doc_stats == 0);
        double P[4 * PTH_MELD_NCLASSES], Q[4 * PTH_MELD_NCLASSES];
        if (u) {
            CHECK_OK(pth_textclf_score_dialogue(m, 4, texts, spk, P, &err), &err);
            CHECK_OK(pth_textclf_score_dialogue(u, 4, texts, spk, Q, &err), &err);
            CHECK(memcmp(P, Q, sizeof P) == 0);
        }
        pth_textclf_free(u);
    }
    free(buf);
    pth_textclf_free(m);
}

/* GoEmotions transfer features in the stacked level: a small slice trains and scores with
 * and without context, and a saved classifier (transfer model inside) scores identically
 * after loading. */
static void test_transfer(void)
{
    pth_meld_config c;
    pth_meld_config_default(&c);
    char dir[1024], gdir[1024];
    snprintf(dir, sizeof dir, "%s", pth_test_shared("data/meld/MELD"));
    snprintf(gdir, sizeof gdir, "%s", pth_test_shared("data/goemotions"));
    c.data_dir = dir;
    c.model = PTH_TEXTEMO_FASTTEXT;
    c.max_train = 3000;
    c.transfer.data_dir = gdir;
    c.transfer.model = PTH_TEXTEMO_FASTTEXT;
    c.transfer.max_train = 6000;
    pth_error err = {0};
    for (int ctx = 0; ctx <= 1; ctx++) {
        c.context = ctx;
        c.goemo_extra = ctx; /* context 1 also adds up to 3,000 GoEmotions rows to the first level */
        pth_meld_result r;
        CHECK_OK(pth_meld_eval(&c, &r, &err), &err);
        printf("meld 3k slice + transfer (6k GoEmotions), context %d: dev weighted-F1 %.4f (first level %.4f), "
               "train CV %.4f (%.4f with offsets)\n",
               ctx, r.weighted_f1, r.utt_weighted_f1, r.cv_weighted_f1, r.cv_weighted_f1_offsets);
        CHECK(r.weighted_f1 > 0.40);
        /* Offsets are tuned on these very out-of-fold rows: they cannot lower the score. */
        CHECK(r.cv_weighted_f1 > 0.3 && r.cv_weighted_f1_offsets >= r.cv_weighted_f1);
        CHECK(r.class_offset[0] == 0);
    }
    pth_textclf *m = pth_meld_train(&c, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/meld_transfer.bin", pth_test_tmpdir());
    CHECK_OK(pth_textclf_save(m, path, &err), &err);
    pth_textclf *u = pth_textclf_load(path, &err);
    CHECK(u != NULL);
    const char *texts[] = {"Oh my God, are you serious?", "I hate this.", "Okay.", "Thank you so much!"};
    const char *spk[] = {"Rachel", "Ross", "Rachel", "Monica"};
    double P[4 * PTH_MELD_NCLASSES], Q[4 * PTH_MELD_NCLASSES];
    if (u) {
        CHECK_OK(pth_textclf_score_dialogue(m, 4, texts, spk, P, &err), &err);
        CHECK_OK(pth_textclf_score_dialogue(u, 4, texts, spk, Q, &err), &err);
        CHECK(memcmp(P, Q, sizeof P) == 0);
        CHECK(pth_textclf_context(u, NULL) == 1);
    }
    pth_textclf_free(u);
    check_version3(&c, texts, spk);
    /* The same file labelled version 2 (older input layout with transfer and context): refused. */
    FILE *fv = fopen(path, "r+b");
    if (fv) {
        unsigned char v2[4] = {2, 0, 0, 0};
        fseek(fv, 4, SEEK_SET);
        fwrite(v2, 1, 4, fv);
        fclose(fv);
        u = pth_textclf_load(path, &err);
        CHECK(u == NULL && strstr(err.msg, "older input layout") != NULL);
        pth_textclf_free(u);
    }
    /* Truncated: refused. */
    FILE *fp = fopen(path, "r+b");
    if (fp) {
        fseek(fp, 0, SEEK_END);
        long len = ftell(fp);
        fclose(fp);
        CHECK(truncate(path, len / 2) == 0);
        u = pth_textclf_load(path, &err);
        CHECK(u == NULL);
        pth_textclf_free(u);
    }
    pth_textclf_free(m);
}

int main(void)
{
    test_load();
    test_folds();
    test_context_features();
    test_transfer_inputs();
    test_doc_inputs();
    test_class_offsets();
    test_goemo_mapping();
    test_end_to_end();
    test_transfer();
    return pth_test_finish();
}
