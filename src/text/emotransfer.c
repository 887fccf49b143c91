/* GoEmotions transfer features (include/pathos/textemo.h): an emotion model fitted on the
 * GoEmotions training split whose probabilities are dense features for MELD and NewsEmp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/blob.h"
#include "pathos/fasttext.h"
#include "pathos/textemo.h"
#include "text/textemo_internal.h"

#define NL PTH_GOEMO_NLABELS
#define NE PTH_GOEMO_EKMAN_GROUPS
#define NF PTH_EMOTRANSFER_NFEAT
#define TRF_MAGIC 0x46525445u /* "ETRF" */

struct pth_emotransfer {
    pth_textemo_model model;
    int ekman_of[NL];
    pth_fasttext *ft; /* NULL unless FASTTEXT / ENSEMBLE */
    txl_model *lin;   /* NULL unless LINEAR / ENSEMBLE */
};

void pth_emotransfer_config_default(pth_emotransfer_config *c)
{
    pth_goemo_config g;
    pth_goemo_config_default(&g);
    memset(c, 0, sizeof *c);
    c->data_dir = g.data_dir;
    c->model = PTH_TEXTEMO_LINEAR;
    c->threads = 1;
    c->seed = 1;
    c->ft = g.ft;
    c->linear_C = g.linear_C;
    c->hash_bits = g.hash_bits;
}

void pth_emotransfer_free(pth_emotransfer *t)
{
    if (!t)
        return;
    pth_ft_free(t->ft);
    if (t->lin) {
        txl_free(t->lin);
        free(t->lin);
    }
    free(t);
}

pth_emotransfer *pth_emotransfer_train(const pth_emotransfer_config *c, pth_error *err)
{
    if ((int)c->model < 0 || c->model > PTH_TEXTEMO_ENSEMBLE) {
        pth_fail(err, PTH_ERR_INVALID, "emotion transfer: unknown model %d", (int)c->model);
        return NULL;
    }
    pth_emotransfer *t = calloc(1, sizeof *t);
    if (!t) {
        pth_fail(err, PTH_ERR_NOMEM, "emotion transfer: out of memory");
        return NULL;
    }
    t->model = c->model;
    int sent[NL];
    int rc = pth_goemo_groups(c->data_dir, t->ekman_of, sent, err);
    pth_goemo_split tr = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/train.tsv", c->data_dir);
    if (!rc)
        rc = pth_goemo_load(path, c->max_train, &tr, err);
    const char *names[NL];
    for (size_t l = 0; l < NL; l++)
        names[l] = pth_goemo_label(l);
    if (!rc && c->model != PTH_TEXTEMO_LINEAR) {
        pth_ft_params p = c->ft;
        p.loss = PTH_FT_OVA;
        p.seed = c->seed;
        p.threads = c->threads;
        pth_ft_data d = {tr.n, 1, (const char *const *)tr.text, NL, tr.Y, names};
        if (!(t->ft = pth_ft_train(&p, &d, err)))
            rc = err && err->code ? err->code : PTH_ERR_INTERNAL;
    }
    if (!rc && c->model != PTH_TEXTEMO_FASTTEXT) {
        if (!(t->lin = calloc(1, sizeof *t->lin)))
            rc = pth_fail(err, PTH_ERR_NOMEM, "emotion transfer: out of memory");
        else {
            txl_init(t->lin, 1, c->hash_bits, 0);
            rc = txl_fit(t->lin, tr.n, (const char *const *)tr.text, tr.Y, NL, c->linear_C, c->threads, err);
        }
    }
    pth_goemo_split_free(&tr);
    if (rc) {
        pth_emotransfer_free(t);
        return NULL;
    }
    return t;
}

/* 28 probabilities, then each Ekman group's largest member probability. */
static void add_groups(const pth_emotransfer *t, double *row)
{
    double *g = row + NL;
    for (size_t e = 0; e < NE; e++)
        g[e] = 0;
    for (size_t l = 0; l < NL; l++) {
        int e = t->ekman_of[l];
        if (row[l] > g[e])
            g[e] = row[l];
    }
}

int pth_emotransfer_text_features(const pth_emotransfer *t, size_t n, const char *const *texts, double *F,
                                  pth_error *err)
{
    double *P = malloc(n * NL * sizeof *P + 1), *Q = malloc(n * NL * sizeof *Q + 1);
    int rc = !P || !Q ? pth_fail(err, PTH_ERR_NOMEM, "emotion transfer: out of memory") : 0;
    if (!rc && t->ft)
        pth_ft_predict_many(t->ft, n, texts, P, 1);
    if (!rc && t->lin)
        rc = txl_predict(t->lin, n, texts, Q, err);
    for (size_t i = 0; !rc && i < n; i++) {
        double *row = F + i * NF;
        for (size_t l = 0; l < NL; l++)
            row[l] = t->ft && t->lin ? 0.5 * (P[i * NL + l] + Q[i * NL + l]) : t->ft ? P[i * NL + l] : Q[i * NL + l];
        add_groups(t, row);
    }
    free(P), free(Q);
    return rc;
}

/* Sentence spans of s: a sentence ends after a run of . ! ? or at a newline; spans with no
 * letter or digit are dropped.  Returns the count (0 for an empty text). */
static size_t sentences(const char *s, size_t *beg, size_t *len, size_t cap)
{
    size_t n = 0, start = 0, L = strlen(s);
    for (size_t i = 0; i <= L; i++) {
        int end = i == L || s[i] == '\n';
        if (!end && (s[i] == '.' || s[i] == '!' || s[i] == '?')) {
            while (i + 1 < L && (s[i + 1] == '.' || s[i + 1] == '!' || s[i + 1] == '?'))
                i++;
            end = i + 1 == L || s[i + 1] == ' ' || s[i + 1] == '\n' || s[i + 1] == '\t' || s[i + 1] == '"';
            if (end)
                i++;
        }
        if (!end)
            continue;
        int alnum = 0;
        for (size_t k = start; k < i && !alnum; k++)
            alnum = (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9');
        if (alnum && n < cap) {
            beg[n] = start;
            len[n++] = i - start;
        } else if (alnum && n > 0) /* over capacity: extend the last sentence */
            len[n - 1] = i - beg[n - 1];
        start = i + 1;
    }
    return n;
}

#define MAX_SENT 256

int pth_emotransfer_doc_features(const pth_emotransfer *t, size_t n, const char *const *texts, double *F,
                                 pth_error *err)
{
    /* Every sentence of every text in one batch. */
    size_t cap = 0, ns = 0, beg[MAX_SENT], len[MAX_SENT];
    for (size_t i = 0; i < n; i++) {
        size_t k = sentences(texts[i], beg, len, MAX_SENT);
        cap += k ? k : 1;
    }
    char **sent = calloc(cap + 1, sizeof *sent);
    size_t *owner = malloc((cap + 1) * sizeof *owner);
    double *S = malloc((cap + 1) * NF * sizeof *S);
    int rc = !sent || !owner || !S ? pth_fail(err, PTH_ERR_NOMEM, "emotion transfer: out of memory") : 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t k = sentences(texts[i], beg, len, MAX_SENT);
        if (k == 0) { /* no sentence: the whole (possibly empty) text */
            beg[0] = 0;
            len[0] = strlen(texts[i]);
            k = 1;
        }
        for (size_t j = 0; j < k && !rc; j++) {
            if (!(sent[ns] = strndup(texts[i] + beg[j], len[j])))
                rc = pth_fail(err, PTH_ERR_NOMEM, "emotion transfer: out of memory");
            owner[ns++] = i;
        }
    }
    if (!rc)
        rc = pth_emotransfer_text_features(t, ns, (const char *const *)sent, S, err);
    if (!rc) {
        memset(F, 0, n * PTH_EMOTRANSFER_NDOC * sizeof *F);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            double *mean = F + i * PTH_EMOTRANSFER_NDOC, *mx = mean + NF;
            size_t k = 0;
            for (; j < ns && owner[j] == i; j++, k++)
                for (size_t f = 0; f < NF; f++) {
                    double v = S[j * NF + f];
                    mean[f] += v;
                    if (k == 0 || v > mx[f])
                        mx[f] = v;
                }
            for (size_t f = 0; f < NF && k > 0; f++)
                mean[f] /= (double)k;
        }
    }
    for (size_t j = 0; sent && j < ns; j++)
        free(sent[j]);
    free(sent), free(owner), free(S);
    return rc;
}

void pth_emotransfer_write(const pth_emotransfer *t, pth_blob_writer *w)
{
    pth_blob_u32(w, TRF_MAGIC);
    pth_blob_u32(w, (uint32_t)t->model);
    for (size_t l = 0; l < NL; l++)
        pth_blob_i32(w, t->ekman_of[l]);
    if (t->ft)
        pth_ft_write(t->ft, w);
    if (t->lin)
        txl_save(t->lin, w);
}

pth_emotransfer *pth_emotransfer_read(pth_blob_reader *r, pth_error *err)
{
    if (pth_blob_read_u32(r) != TRF_MAGIC) {
        pth_blob_reader_fail(r, "not an emotion transfer model (bad magic)");
        return NULL;
    }
    uint32_t kind = pth_blob_read_u32(r);
    if (pth_blob_reader_ok(r) && kind > PTH_TEXTEMO_ENSEMBLE) {
        pth_blob_reader_fail(r, "emotion transfer: unknown model kind %u", kind);
        return NULL;
    }
    pth_emotransfer *t = calloc(1, sizeof *t);
    if (!t) {
        pth_blob_reader_fail(r, "out of memory");
        return NULL;
    }
    t->model = (pth_textemo_model)kind;
    for (size_t l = 0; l < NL; l++) {
        t->ekman_of[l] = pth_blob_read_i32(r);
        if (pth_blob_reader_ok(r) && (t->ekman_of[l] < 0 || t->ekman_of[l] >= NE))
            pth_blob_reader_fail(r, "emotion transfer: Ekman group %d out of range", t->ekman_of[l]);
    }
    int rc = pth_blob_reader_ok(r) ? 0 : -1;
    if (!rc && t->model != PTH_TEXTEMO_LINEAR) {
        t->ft = pth_ft_read(r);
        /* Texts are scored one field each: more fields would read past them. */
        if (t->ft && (pth_ft_nlabels(t->ft) != NL || pth_ft_nfields(t->ft) != 1))
            pth_blob_reader_fail(r, "emotion transfer: fastText part has %zu labels and %zu fields, expected %d and 1",
                                 pth_ft_nlabels(t->ft), pth_ft_nfields(t->ft), NL);
        rc = t->ft && pth_blob_reader_ok(r) ? 0 : -1;
    }
    if (!rc && t->model != PTH_TEXTEMO_FASTTEXT) {
        t->lin = calloc(1, sizeof *t->lin);
        if (!t->lin) {
            pth_blob_reader_fail(r, "out of memory");
            rc = -1;
        } else if (txl_load(t->lin, r, NL, err) != 0) {
            free(t->lin);
            t->lin = NULL;
            rc = -1;
        } else if (t->lin->lin.n_out != NL || t->lin->nfields != 1) {
            pth_blob_reader_fail(r, "emotion transfer: linear part has %zu outputs and %zu fields, expected %d and 1",
                                 t->lin->lin.n_out, t->lin->nfields, NL);
            rc = -1;
        }
    }
    if (rc) {
        pth_emotransfer_free(t);
        return NULL;
    }
    return t;
}
