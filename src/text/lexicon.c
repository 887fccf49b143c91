/* Sentiment lexicons (VADER, AFINN) and document statistics (see pathos/text.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pathos/io.h"
#include "pathos/text.h"

/* Open-addressing hash table: token -> valence. */
struct pth_lexicon {
    char **key;
    double *val;
    size_t cap, n; /* cap is a power of two */
};

static int lex_grow(pth_lexicon *lx)
{
    size_t cap = lx->cap ? lx->cap * 2 : 1024;
    char **key = calloc(cap, sizeof *key);
    double *val = calloc(cap, sizeof *val);
    if (!key || !val) {
        free(key);
        free(val);
        return -1;
    }
    for (size_t i = 0; i < lx->cap; i++) {
        if (!lx->key[i])
            continue;
        size_t h = pth_murmur3_32(lx->key[i], strlen(lx->key[i]), 0) & (cap - 1);
        while (key[h])
            h = (h + 1) & (cap - 1);
        key[h] = lx->key[i];
        val[h] = lx->val[i];
    }
    free(lx->key);
    free(lx->val);
    lx->key = key;
    lx->val = val;
    lx->cap = cap;
    return 0;
}

static size_t lex_slot(const pth_lexicon *lx, const char *s)
{
    size_t h = pth_murmur3_32(s, strlen(s), 0) & (lx->cap - 1);
    while (lx->key[h] && strcmp(lx->key[h], s) != 0)
        h = (h + 1) & (lx->cap - 1);
    return h;
}

static int lex_put(pth_lexicon *lx, const char *s, double v)
{
    if ((lx->n + 1) * 2 > lx->cap && lex_grow(lx) != 0)
        return -1;
    size_t h = lex_slot(lx, s);
    if (!lx->key[h]) {
        size_t len = strlen(s);
        lx->key[h] = malloc(len + 1);
        if (!lx->key[h])
            return -1;
        memcpy(lx->key[h], s, len + 1);
        lx->n++;
    }
    lx->val[h] = v;
    return 0;
}

int pth_lexicon_lookup(const pth_lexicon *lx, const char *token, double *valence)
{
    if (!lx || lx->cap == 0)
        return 0;
    size_t h = lex_slot(lx, token);
    if (!lx->key[h])
        return 0;
    if (valence)
        *valence = lx->val[h];
    return 1;
}

size_t pth_lexicon_size(const pth_lexicon *lx)
{
    return lx ? lx->n : 0;
}

void pth_lexicon_free(pth_lexicon *lx)
{
    if (!lx)
        return;
    for (size_t i = 0; i < lx->cap; i++)
        free(lx->key[i]);
    free(lx->key);
    free(lx->val);
    free(lx);
}

/* The key a lexicon entry is stored under: the tokenizer's form of a one-token entry
 * (case-folded word, emoticon as written), or NULL when the entry is several tokens. */
static const char *entry_key(const char *word, pth_tokens *tk)
{
    pth_tokenize_options o;
    pth_tokenize_options_default(&o);
    o.split_contractions = 0;
    o.mark_negation = 0;
    if (pth_tokenize(word, strlen(word), &o, tk, NULL) != PTH_OK || tk->n != 1)
        return NULL;
    return tk->tok[0];
}

int pth_lexicon_load(pth_lexicon **lex, const char *path, int format, size_t *n_skipped, pth_error *err)
{
    if (format != PTH_LEX_VADER && format != PTH_LEX_AFINN)
        return pth_fail(err, PTH_ERR_INVALID, "unknown lexicon format %d", format);
    char *buf = NULL;
    size_t len = 0;
    int rc = pth_read_file(path, (size_t)64 << 20, &buf, &len, err);
    if (rc)
        return rc;
    if (!*lex) {
        *lex = calloc(1, sizeof **lex);
        if (!*lex) {
            free(buf);
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory loading %s", path);
        }
    }
    pth_tokens tk = {0};
    size_t skipped = 0, line = 0;
    char *p = buf;
    while (rc == PTH_OK && p < buf + len) {
        char *eol = strchr(p, '\n');
        if (!eol)
            eol = buf + len;
        *eol = '\0';
        line++;
        if (eol > p && eol[-1] == '\r')
            eol[-1] = '\0';
        char *tab = strchr(p, '\t');
        if (*p && !tab) {
            rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: expected TOKEN<TAB>VALENCE", path, line);
            break;
        }
        if (tab) {
            *tab = '\0';
            char *end = NULL;
            double v = strtod(tab + 1, &end);
            if (end == tab + 1 || !isfinite(v)) {
                rc = pth_fail(err, PTH_ERR_PARSE, "%s:%zu: bad valence '%.40s'", path, line, tab + 1);
                break;
            }
            const char *key = entry_key(p, &tk);
            if (!key)
                skipped++;
            else if (lex_put(*lex, key, v) != 0)
                rc = pth_fail(err, PTH_ERR_NOMEM, "out of memory loading %s", path);
        }
        p = eol + 1;
    }
    pth_tokens_free(&tk);
    free(buf);
    if (n_skipped)
        *n_skipped = skipped;
    return rc;
}

static const char *const LEX_NAMES[PTH_LEX_NFEAT] = {
    "lex_sum", "lex_mean", "lex_max", "lex_min", "lex_npos", "lex_nneg",
    "lex_coverage", "lex_neg_pos", "lex_neg_neg", "lex_sum_sqrt", "lex_balance"};

const char *pth_lexicon_feature_name(size_t i)
{
    return i < PTH_LEX_NFEAT ? LEX_NAMES[i] : NULL;
}

void pth_lexicon_features(const pth_lexicon *lex, const pth_tokens *t, double out[PTH_LEX_NFEAT])
{
    memset(out, 0, PTH_LEX_NFEAT * sizeof *out);
    double sum = 0, mx = -INFINITY, mn = INFINITY, pos = 0, neg = 0;
    size_t matched = 0;
    for (size_t i = 0; i < t->n; i++) {
        double v;
        if (!pth_lexicon_lookup(lex, t->tok[i], &v))
            continue;
        /* Inside a negation scope the valence flips ("not good" counts as negative). */
        if (t->neg[i]) {
            if (v > 0)
                out[7] += 1;
            else if (v < 0)
                out[8] += 1;
            v = -v;
        }
        matched++;
        sum += v;
        mx = v > mx ? v : mx;
        mn = v < mn ? v : mn;
        if (v > 0) {
            out[4] += 1;
            pos += v;
        } else if (v < 0) {
            out[5] += 1;
            neg += -v;
        }
    }
    out[0] = sum;
    if (matched) {
        out[1] = sum / (double)matched;
        out[2] = mx;
        out[3] = mn;
    }
    if (t->n) {
        out[6] = (double)matched / (double)t->n;
        out[9] = sum / sqrt((double)t->n);
    }
    if (pos + neg > 0)
        out[10] = (pos - neg) / (pos + neg);
}

static const char *const STAT_NAMES[PTH_DOCSTAT_NFEAT] = {
    "log_tokens", "log_chars", "exclamations", "questions", "upper_ratio", "caps_words", "mean_word_len",
    "type_token", "emoticons", "emoji", "pron_1sg", "pron_1pl", "pron_2_3", "negators"};

const char *pth_doc_stat_name(size_t i)
{
    return i < PTH_DOCSTAT_NFEAT ? STAT_NAMES[i] : NULL;
}

static int in_list(const char *s, const char *const *list)
{
    for (size_t k = 0; list[k]; k++)
        if (strcmp(s, list[k]) == 0)
            return 1;
    return 0;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Number of distinct word tokens (a small open-addressing set of hashes). */
static size_t distinct_words(const pth_tokens *t)
{
    size_t cap = 16;
    while (cap < t->n * 2)
        cap *= 2;
    uint32_t *set = calloc(cap, sizeof *set);
    if (!set)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->kind[i] != PTH_TOK_WORD)
            continue;
        uint32_t h = pth_murmur3_32(t->tok[i], strlen(t->tok[i]), 7) | 1u; /* 0 = empty */
        size_t s = h & (cap - 1);
        while (set[s] && set[s] != h)
            s = (s + 1) & (cap - 1);
        if (!set[s]) {
            set[s] = h;
            n++;
        }
    }
    free(set);
    return n;
}

void pth_doc_stats(const pth_tokens *t, double out[PTH_DOCSTAT_NFEAT])
{
    static const char *const P1S[] = {"i", "me", "my", "mine", "myself", NULL};
    static const char *const P1P[] = {"we", "us", "our", "ours", "ourselves", NULL};
    static const char *const P23[] = {"you", "your", "yours", "yourself", "he", "him", "his", "she", "her",
                                      "hers", "they", "them", "their", "theirs", "themselves", NULL};
    memset(out, 0, PTH_DOCSTAT_NFEAT * sizeof *out);
    size_t words = 0, wlen = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->tok[i];
        switch (t->kind[i]) {
        case PTH_TOK_WORD:
            words++;
            wlen += utf8_len(s);
            out[5] += t->caps[i];
            out[10] += in_list(s, P1S);
            out[11] += in_list(s, P1P);
            out[12] += in_list(s, P23);
            out[13] += pth_is_negator(s);
            break;
        case PTH_TOK_PUNCT:
            for (; *s; s++) {
                out[2] += *s == '!';
                out[3] += *s == '?';
            }
            break;
        case PTH_TOK_EMOTICON:
            out[8] += 1;
            break;
        case PTH_TOK_EMOJI:
            out[9] += 1;
            break;
        default:
            break;
        }
    }
    out[0] = log1p((double)t->n);
    out[1] = log1p((double)t->n_codepoints);
    out[4] = t->n_letters ? (double)t->n_upper / (double)t->n_letters : 0.0;
    if (words) {
        double w = (double)words;
        out[6] = (double)wlen / w;
        out[7] = (double)distinct_words(t) / w;
        out[10] /= w;
        out[11] /= w;
        out[12] /= w;
        out[13] /= w;
    }
}
