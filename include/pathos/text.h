/* Text features, natively in C: no pretrained language model, no network.
 *
 * Pipeline (each step usable on its own):
 *
 *   raw bytes --pth_tokenize--> pth_tokens --pth_text_hash_row--> raw counts (pth_csr row)
 *             --pth_tfidf_fit/transform--> TF-IDF rows --> pth_ridge_fit / pth_logreg_fit
 *   pth_tokens --pth_lexicon_features / pth_doc_stats--> small dense blocks
 *
 * UTF-8: input that is not valid UTF-8 is never rejected.  Every byte that does not start a
 * valid, shortest-form UTF-8 sequence (stray continuation bytes, truncated sequences,
 * overlong forms, surrogates U+D800..DFFF, code points above U+10FFFF) is replaced by ONE
 * U+FFFD REPLACEMENT CHARACTER, and decoding resumes at the next byte.  NUL bytes count as
 * whitespace.
 *
 * Normalisation: NFKC (utf8proc) and, for word tokens, Unicode case folding.  Emoticons are
 * recognised before case folding and kept as written (":D" stays ":D", "XD" stays "XD").
 *
 * Tokens (see pth_tokenize): URLs, @mentions, #hashtags, emoticons (":)", ":-(", ";P", "<3",
 * "</3", "^_^", "XD", ...), each emoji (a pictographic code point together with its
 * variation selectors, skin-tone modifiers and ZWJ continuations; regional-indicator pairs
 * = flags) as one token, numbers ("3.5", "1,000"), words (letters/marks/digits with inner
 * apostrophes or hyphens: "well-known"), and every other punctuation or symbol character as
 * its own token (runs of '!' or '?' or '.' are kept together: "!!!", "...").
 *
 * Contractions (split_contractions = 1, the default; Penn-Treebank style):
 *   "don't" -> "do" "n't", "can't" -> "ca" "n't", "won't" -> "wo" "n't",
 *   "I'm" -> "i" "'m", "you're" -> "you" "'re", "we've" -> "we" "'ve",
 *   "she'll" -> "she" "'ll", "he'd" -> "he" "'d", "it's" / "John's" -> "it" "'s".
 * The typographic apostrophe U+2019 is treated as "'".  With split_contractions = 0 the word
 * is kept whole ("don't").
 *
 * Negation scope (mark_negation = 1, the default): after a negator token - "not", "no",
 * "never", "n't", "nor", "neither", "nobody", "nothing", "nowhere", "none", "cannot",
 * "without", "hardly", "barely", "scarcely", and apostrophe-less or unsplit forms such as
 * "dont", "didnt", "isnt", "don't", "can't", "wont" - every following token is marked
 * neg[i] = 1 until (excluding) the next clause punctuation token (. , ; : ! ? and runs of
 * them) or emoticon/emoji.  The negator itself is not marked.  Featurisers then use the
 * variant "NEG_" + token (upper-case prefix, so it never collides with a case-folded token).
 */
#ifndef PATHOS_TEXT_H
#define PATHOS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "pathos/blob.h"
#include "pathos/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* UTF-8 and normalisation                                                               */

/* Returns a malloc'd, NUL-terminated copy of s[0..len) with invalid UTF-8 replaced as
 * described above; *out_len (may be NULL) gets its length, *n_replaced (may be NULL) the
 * number of U+FFFD inserted.  NULL only when out of memory. */
char *pth_utf8_sanitize(const char *s, size_t len, size_t *out_len, size_t *n_replaced);

enum {
    PTH_NORM_NFKC = 1,     /* compatibility composition: "ﬁ" -> "fi", full-width -> ASCII */
    PTH_NORM_CASEFOLD = 2  /* Unicode case folding ("Straße" -> "strasse") */
};
/* Sanitises then normalises: *out is malloc'd and NUL-terminated. */
int pth_text_normalize(const char *s, size_t len, unsigned flags, char **out, size_t *out_len, pth_error *err);

/* ------------------------------------------------------------------------------------ */
/* Tokenizer                                                                             */

typedef enum {
    PTH_TOK_WORD = 0,
    PTH_TOK_NUMBER,
    PTH_TOK_PUNCT,
    PTH_TOK_EMOTICON,
    PTH_TOK_EMOJI,
    PTH_TOK_URL,
    PTH_TOK_MENTION,
    PTH_TOK_HASHTAG,
    PTH_TOK_SYMBOL
} pth_tok_kind;

typedef struct {
    int casefold;           /* 1 (default): case-fold word/hashtag/mention/URL tokens */
    int split_contractions; /* 1 (default): Penn-Treebank contraction split (see above) */
    int mark_negation;      /* 1 (default): fill neg[] (see above); 0: neg[] all zero */
} pth_tokenize_options;

void pth_tokenize_options_default(pth_tokenize_options *o);

/* The tokens of one text.  Zero-initialise (pth_tokens t = {0};) before first use; a
 * pth_tokens may be reused for any number of pth_tokenize calls (its storage is kept and
 * grown, so streaming a corpus does not allocate per document); free with pth_tokens_free. */
typedef struct {
    size_t n;             /* number of tokens */
    char **tok;           /* n normalised, NUL-terminated UTF-8 tokens */
    unsigned char *kind;  /* n pth_tok_kind values */
    unsigned char *neg;   /* n flags: 1 = inside a negation scope */
    unsigned char *caps;  /* n flags: 1 = word written in capitals in the input ("NEVER") */
    /* Statistics of the (sanitised, NFKC) input, for pth_doc_stats. */
    size_t n_codepoints;  /* code points, whitespace included */
    size_t n_letters;     /* alphabetic code points */
    size_t n_upper;       /* upper-case letters */
    size_t n_replaced;    /* U+FFFD inserted for invalid UTF-8 */
    /* private */
    char *store_;
    size_t store_len_, store_cap_, cap_;
    size_t *off_;
    char *norm_;
    size_t norm_cap_;
    int32_t *cp_;
    size_t *cpoff_;
    size_t cp_cap_;
} pth_tokens;

/* Tokenizes text[0..len) (need not be NUL-terminated, may be invalid UTF-8).  o may be NULL
 * (defaults).  Fails only on allocation failure or a text over 256 MiB. */
int pth_tokenize(const char *text, size_t len, const pth_tokenize_options *o, pth_tokens *out, pth_error *err);
void pth_tokens_free(pth_tokens *t);

/* ------------------------------------------------------------------------------------ */
/* Sparse matrices (CSR, float values, uint32 column indices)                            */

typedef struct {
    size_t nrows, ncols;
    size_t *indptr;     /* nrows + 1 */
    uint32_t *indices;  /* indptr[nrows]; sorted and unique within each row */
    float *data;
    size_t cap_;        /* private: capacity of indices/data */
    size_t rcap_;       /* private: capacity of indptr */
} pth_csr;

/* Empty matrix (0 rows) with ncols columns. */
int pth_csr_init(pth_csr *X, size_t ncols, pth_error *err);
/* Appends a row; idx must be sorted ascending, unique and < ncols. */
int pth_csr_append_row(pth_csr *X, const uint32_t *idx, const float *val, size_t nnz, pth_error *err);
void pth_csr_free(pth_csr *X);
/* Removes every row but keeps the storage, so a matrix can be refilled without reallocating. */
void pth_csr_clear(pth_csr *X);
/* out = rows[0..m) of X (a row may repeat). */
int pth_csr_select_rows(const pth_csr *X, const size_t *rows, size_t m, pth_csr *out, pth_error *err);
/* out = [A | B] (same row count); B may be NULL with dense D (nrows x dcols, row-major)
 * appended instead: pth_csr_hstack(A, NULL, D, dcols, out). */
int pth_csr_hstack(const pth_csr *A, const pth_csr *B, const double *D, size_t dcols, pth_csr *out, pth_error *err);
/* y = X v (y: nrows); y = X^T u (y: ncols, overwritten). */
/* Numbers the columns that occur in X: map[j] = 0.. in column order for columns with at
 * least one stored entry, -1 for the others (map has X->ncols entries).  Returns how many
 * occur.  Learners on hashed features work in this compact space. */
size_t pth_csr_active_columns(const pth_csr *X, int32_t *map);
void pth_csr_matvec(const pth_csr *X, const double *v, double *y);
void pth_csr_tmatvec(const pth_csr *X, const double *u, double *y);

/* ------------------------------------------------------------------------------------ */
/* Hashed n-gram features (hashing trick: fixed memory, no vocabulary)                   */

/* MurmurHash3 x86_32 (Austin Appleby, public domain), the function scikit-learn's
 * HashingVectorizer uses: pth_murmur3_32("hello", 5, 0) == 613153351. */
uint32_t pth_murmur3_32(const void *key, size_t len, uint32_t seed);

enum { PTH_NEG_NONE = 0, PTH_NEG_REPLACE = 1, PTH_NEG_BOTH = 2 };

typedef struct {
    unsigned word_bits;       /* word n-gram block: 2^word_bits columns; 0 = no word block (default 20) */
    unsigned word_min, word_max; /* word n-gram orders (default 1, 2) */
    unsigned char_bits;       /* char n-gram block: 2^char_bits columns; 0 = none (default 20) */
    unsigned char_min, char_max; /* char n-gram orders in code points (default 3, 5) */
    uint32_t seed;            /* hash seed (default 0) */
    int negation;             /* PTH_NEG_REPLACE (default): negated tokens count as "NEG_tok" in
                                 word n-grams; PTH_NEG_BOTH: as both; PTH_NEG_NONE: ignore */
    int alternate_sign;       /* 1: sign of each feature from hash bit 31 (default 0) */
} pth_hash_options;

void pth_hash_options_default(pth_hash_options *o);
/* Columns of the hashed matrix: [word block | char block]. */
size_t pth_hash_ncols(const pth_hash_options *o);

/* Feature strings and their columns (documented so that results are reproducible):
 *  - word n-gram of tokens t1..tk: the UTF-8 string "t1 t2 ... tk" (single spaces), where a
 *    token inside a negation scope is "NEG_" + token (PTH_NEG_REPLACE; with PTH_NEG_BOTH
 *    unigrams count both forms, n-grams use the plain form); column =
 *    murmur3_32(string, seed) & (2^word_bits - 1).
 *  - char n-gram ("char_wb" as in scikit-learn, but over pathos tokens): every token (plain
 *    form, no NEG_ prefix) is padded to " token " and, for n = char_min..char_max, all runs
 *    of n code points are taken; a padded token of at most n code points is counted once as
 *    a whole and stops the loop over larger n (scikit-learn's rule).  column = 2^word_bits +
 *    (murmur3_32(ngram, seed ^ 0x9E3779B9) & (2^char_bits - 1)).
 * Values are raw counts (summed, or +-1 summed with alternate_sign). */
int pth_text_hash_row(const pth_hash_options *o, const pth_tokens *t, pth_csr *X, pth_error *err);
/* Tokenizes and hashes n texts, appending n rows to X (pth_csr_init'ed with
 * pth_hash_ncols(ho) columns). Parallel (OpenMP) over documents; rows stay in order. */
int pth_text_hash_corpus(const pth_hash_options *ho, const pth_tokenize_options *to, const char *const *texts,
                         size_t n, pth_csr *X, pth_error *err);

/* ------------------------------------------------------------------------------------ */
/* TF-IDF (scikit-learn TfidfTransformer semantics)                                      */

typedef struct {
    int sublinear_tf;   /* 1 (default): tf -> 1 + ln(tf) for tf > 0 */
    int smooth_idf;     /* 1 (default): idf = ln((1 + n) / (1 + df)) + 1; 0: ln(n / df) + 1 */
    int use_idf;        /* 1 (default) */
    int l2_normalize;   /* 1 (default): each row scaled to unit L2 norm within each block */
} pth_tfidf_options;

void pth_tfidf_options_default(pth_tfidf_options *o);

typedef struct {
    pth_tfidf_options opt;
    size_t ncols;
    double *idf;         /* ncols; columns never seen get the idf of df = 0 */
    size_t n_blocks;     /* >= 1 */
    size_t *block_start; /* n_blocks + 1 column offsets (last = ncols) */
} pth_tfidf;

/* Learns idf from a count matrix.  Blocks: block_start[0..n_blocks] (0 .. ncols) column
 * ranges normalised separately (like scikit-learn's FeatureUnion of two vectorizers);
 * block_start NULL = one block.  pth_hash_blocks fills the two blocks of a hashed matrix. */
int pth_tfidf_fit(pth_tfidf *m, const pth_csr *counts, const pth_tfidf_options *o, const size_t *block_start,
                  size_t n_blocks, pth_error *err);
size_t pth_hash_blocks(const pth_hash_options *o, size_t block_start[3]); /* returns n_blocks */
/* Transforms counts in place into TF-IDF values (columns must match the fit). */
int pth_tfidf_transform(const pth_tfidf *m, pth_csr *X, pth_error *err);
void pth_tfidf_free(pth_tfidf *m);
void pth_tfidf_save(const pth_tfidf *m, pth_blob_writer *w);
int pth_tfidf_load(pth_tfidf *m, pth_blob_reader *r, pth_error *err);

/* ------------------------------------------------------------------------------------ */
/* Lexicons and document statistics                                                      */

typedef struct pth_lexicon pth_lexicon;

enum {
    PTH_LEX_VADER = 1, /* TOKEN<TAB>mean valence (-4..4)<TAB>...; vader_lexicon.txt */
    PTH_LEX_AFINN = 2  /* word or phrase<TAB>integer valence (-5..5); AFINN-*.txt */
};
/* Loads a lexicon file (may be called on the same lexicon several times to merge files,
 * e.g. AFINN-en-165 + AFINN-emoticon-8; later entries win).  *lex NULL on first call.
 * Entries are matched against tokens: single-word entries by their case-folded form,
 * emoticons as written; multi-word AFINN phrases are skipped (counted in n_skipped). */
int pth_lexicon_load(pth_lexicon **lex, const char *path, int format, size_t *n_skipped, pth_error *err);
/* 1 and *valence when found. */
int pth_lexicon_lookup(const pth_lexicon *lex, const char *token, double *valence);
size_t pth_lexicon_size(const pth_lexicon *lex);
void pth_lexicon_free(pth_lexicon *lex);

/* Lexicon features of one text; a negated token (neg[i]) contributes -valence to the sums
 * (and is counted separately).  The "Caps" boost of VADER is not applied. */
#define PTH_LEX_NFEAT 11
/* out[0] sum of valences, [1] mean over matched tokens, [2] max, [3] min (0 when none),
 * [4] #positive, [5] #negative, [6] matched / tokens, [7] #negated positive,
 * [8] #negated negative, [9] sum / sqrt(tokens), [10] sum of positive - |sum of negative|
 * divided by their total (polarity balance, 0 when none). */
void pth_lexicon_features(const pth_lexicon *lex, const pth_tokens *t, double out[PTH_LEX_NFEAT]);
const char *pth_lexicon_feature_name(size_t i);

#define PTH_DOCSTAT_NFEAT 14
/* out: [0] ln(1+tokens), [1] ln(1+code points), [2] '!' count, [3] '?' count,
 * [4] upper-case letters / letters, [5] words in capitals, [6] mean word length (code points),
 * [7] type/token ratio of words, [8] emoticons, [9] emoji, [10] first-person singular
 * pronouns / words (i, me, my, mine, myself), [11] first-person plural / words (we, us, our,
 * ours, ourselves), [12] second/third-person pronouns / words, [13] negators / words. */
void pth_doc_stats(const pth_tokens *t, double out[PTH_DOCSTAT_NFEAT]);
const char *pth_doc_stat_name(size_t i);
/* 1 when tok is one of the negators listed at the top of this file. */
int pth_is_negator(const char *tok);

/* ------------------------------------------------------------------------------------ */
/* Linear models on sparse features                                                      */

/* A fitted linear model with n_out outputs: score_k(x) = coef[k*d .. k*d+d) . x + intercept[k].
 * Ridge: n_out regression targets.  Logistic: n_out independent binary labels (one-vs-rest). */
typedef struct {
    int kind;           /* PTH_LINEAR_RIDGE or PTH_LINEAR_LOGREG */
    size_t d, n_out;
    double *coef;       /* n_out * d, row-major by output */
    double *intercept;  /* n_out */
} pth_linear;

enum { PTH_LINEAR_RIDGE = 1, PTH_LINEAR_LOGREG = 2 };

typedef struct {
    double alpha;       /* L2 penalty, objective ||y - Xw - b||^2 + alpha ||w||^2 (default 1) */
    int fit_intercept;  /* 1 (default): b unpenalised (X centred implicitly, like scikit-learn) */
    double tol;         /* CG stops at ||r|| <= tol * ||rhs|| (default 1e-8) */
    int max_iter;       /* CG iterations per target (default 2000) */
} pth_ridge_options;

void pth_ridge_options_default(pth_ridge_options *o);
/* Y: n x n_targets, row-major.  Solves the dual system (K + alpha I) a = y, K = Xc Xc^T, by
 * conjugate gradients when n <= d, the primal normal equations otherwise; w = Xc^T a. */
int pth_ridge_fit(const pth_csr *X, const double *Y, size_t n_targets, const pth_ridge_options *o, pth_linear *m,
                  pth_error *err);

typedef struct {
    double C;           /* inverse regularisation, scikit-learn's C: objective
                           0.5 ||w||^2 + C sum_i s_i log(1 + exp(-y_i (w.x_i + b))) (default 1) */
    int fit_intercept;  /* 1 (default), intercept unpenalised */
    int balanced;       /* 1: per-label sample weights s_i = n / (2 n_class(y_i)); 0 (default): 1 */
    double tol;         /* stop at ||grad||_inf <= tol * max(1, |f|) (default 1e-6) */
    int max_iter;       /* Newton (or L-BFGS) iterations per label (default 500) */
    int threads;        /* threads (Newton: one per block of up to 16 labels; L-BFGS: one per
                           label); 0 = OpenMP default.  Results are bit-identical for any
                           thread count */
    int solver;         /* PTH_LOGREG_NEWTON (default): truncated Newton, preconditioned CG,
                           labels in lock-step blocks sharing the passes over X;
                           PTH_LOGREG_LBFGS: L-BFGS, one label at a time.  Same objective
                           and stopping rule. */
} pth_logreg_options;

enum { PTH_LOGREG_NEWTON = 0, PTH_LOGREG_LBFGS = 1 };

void pth_logreg_options_default(pth_logreg_options *o);
/* Y: n x n_labels, row-major, 0/1 bytes (one-vs-rest: each label an independent binary
 * problem).  A label with a single class gets coef 0 and intercept +-30. */
int pth_logreg_fit(const pth_csr *X, const unsigned char *Y, size_t n_labels, const pth_logreg_options *o,
                   pth_linear *m, pth_error *err);

/* scores: X.nrows x n_out row-major raw scores (ridge: predictions; logreg: logits). */
int pth_linear_predict(const pth_linear *m, const pth_csr *X, double *scores, pth_error *err);
/* Logistic models: probabilities 1 / (1 + exp(-score)). */
int pth_linear_predict_proba(const pth_linear *m, const pth_csr *X, double *proba, pth_error *err);
void pth_linear_free(pth_linear *m);

/* Versioned serialisation (magic "PTHLIN", version 1) into / out of a blob; files are
 * written atomically. */
void pth_linear_save(const pth_linear *m, pth_blob_writer *w);
int pth_linear_load(pth_linear *m, pth_blob_reader *r, pth_error *err);
int pth_linear_save_file(const pth_linear *m, const char *path, pth_error *err);
int pth_linear_load_file(pth_linear *m, const char *path, pth_error *err);

#ifdef __cplusplus
}
#endif
#endif
