/* Normaliser and tokenizer edge cases: invalid UTF-8, NFKC / case folding, emoji, emoticons,
 * empty text, contractions, negation scope, URLs, numbers. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pathos/rng.h"
#include "pathos/text.h"

/* Tokens joined by '|' with "~" prefixed to negated tokens, into a static buffer. */
static const char *toks(const char *text, const pth_tokenize_options *o)
{
    static char out[4096];
    static pth_tokens t; /* reused across calls: exercises storage reuse */
    pth_error err;
    out[0] = '\0';
    if (pth_tokenize(text, strlen(text), o, &t, &err) != PTH_OK)
        return "<error>";
    size_t len = 0;
    for (size_t i = 0; i < t.n && len + 64 < sizeof out; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s%s", i ? "|" : "", t.neg[i] ? "~" : "", t.tok[i]);
    return out;
}

static const char *kinds(const char *text)
{
    static char out[256];
    pth_tokens t = {0};
    pth_tokenize(text, strlen(text), NULL, &t, NULL);
    size_t k = 0;
    for (size_t i = 0; i < t.n && k + 1 < sizeof out; i++)
        out[k++] = "WNPTEUMHS"[t.kind[i]];
    out[k] = '\0';
    pth_tokens_free(&t);
    return out;
}

#define TOKS(text, expect) CHECK(strcmp(toks(text, NULL), expect) == 0 || (fprintf(stderr, "  got %s\n", toks(text, NULL)), 0))

static void test_utf8(void)
{
    size_t n = 0, repl = 0;
    /* Stray continuation, truncated 2-byte, surrogate (3 bytes -> 3 U+FFFD), overlong '/'. */
    char *s = pth_utf8_sanitize("a\x80" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf" "e", 12, &n, &repl);
    CHECK(s != NULL);
    CHECK(repl == 7);
    CHECK(strcmp(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                    "d\xEF\xBF\xBD\xEF\xBF\xBD" "e") == 0);
    CHECK(n == strlen(s));
    free(s);
    /* Valid multi-byte text passes unchanged, including a literal U+FFFD. */
    const char *valid = "caf\xC3\xA9 \xEF\xBF\xBD \xF0\x9F\x98\x80";
    s = pth_utf8_sanitize(valid, strlen(valid), &n, &repl);
    CHECK(repl == 0 && n == strlen(valid) && memcmp(s, valid, n) == 0);
    free(s);
    /* Embedded NUL is kept by the sanitiser and is whitespace for the tokenizer. */
    pth_tokens t = {0};
    pth_error err;
    CHECK_OK(pth_tokenize("ab\0cd", 5, NULL, &t, &err), &err);
    CHECK(t.n == 2 && strcmp(t.tok[1], "cd") == 0);
    CHECK_OK(pth_tokenize("x\xff", 2, NULL, &t, &err), &err);
    CHECK(t.n == 2 && t.n_replaced == 1 && strcmp(t.tok[1], "\xEF\xBF\xBD") == 0);
    pth_tokens_free(&t);
}

static void test_normalize(void)
{
    char *out = NULL;
    size_t n = 0;
    pth_error err;
    /* NFKC: ligature and full-width letters; case folding: sharp s. */
    const char *in = "\xEF\xAC\x81ne \xEF\xBC\xA1\xEF\xBC\xA2 Stra\xC3\x9F" "e";
    CHECK_OK(pth_text_normalize(in, strlen(in),
                                PTH_NORM_NFKC | PTH_NORM_CASEFOLD, &out, &n, &err), &err);
    CHECK(out && strcmp(out, "fine ab strasse") == 0);
    free(out);
    CHECK_OK(pth_text_normalize("ABC", 3, PTH_NORM_NFKC, &out, &n, &err), &err);
    CHECK(strcmp(out, "ABC") == 0);
    free(out);
    CHECK_OK(pth_text_normalize("", 0, PTH_NORM_CASEFOLD, &out, &n, &err), &err);
    CHECK(out && n == 0 && out[0] == '\0');
    free(out);
    /* Decomposed e + combining acute composes to U+00E9. */
    CHECK_OK(pth_text_normalize("e\xCC\x81", 3, PTH_NORM_NFKC, &out, &n, &err), &err);
    CHECK(strcmp(out, "\xC3\xA9") == 0);
    free(out);
}

static void test_tokens(void)
{
    TOKS("", "");
    TOKS("   \t\n ", "");
    TOKS("Hello, World!!!", "hello|,|world|!!!");
    /* Contractions, PTB style; the typographic apostrophe counts as '. */
    TOKS("I'm sure you're fine", "i|'m|sure|you|'re|fine");
    TOKS("It\xE2\x80\x99s John's", "it|'s|john|'s");
    pth_tokenize_options o;
    pth_tokenize_options_default(&o);
    o.split_contractions = 0;
    o.mark_negation = 0;
    CHECK(strcmp(toks("I don't know", &o), "i|don't|know") == 0);
    o.casefold = 0;
    CHECK(strcmp(toks("NOT Good", &o), "NOT|Good") == 0);
    /* Negation scope ends at clause punctuation; the negator itself is unmarked. */
    TOKS("I don't like it, but it is not bad. Never again!",
         "i|do|n't|~like|~it|,|but|it|is|not|~bad|.|never|~again|!");
    TOKS("didnt go: ok", "didnt|~go|:|ok");
    TOKS("can't stop :) now", "ca|n't|~stop|:)|now");
    /* Emoticons kept as written, emoji (with modifiers / ZWJ / flags) as single tokens. */
    TOKS(":) :-( ;P :D <3 </3 ^_^ XD :'( :/", ":)|:-(|;P|:D|<3|</3|^_^|XD|:'(|:/");
    TOKS("great:)", "great|:)");
    TOKS("at 10:30 :Document XDR", "at|10|:|30|:|document|xdr");
    TOKS("love \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!",
         "love|\xF0\x9F\x98\x80|\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD|!");
    TOKS("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 \xF0\x9F\x87\xA9\xF0\x9F\x87\xAA",
         "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7|\xF0\x9F\x87\xA9\xF0\x9F\x87\xAA");
    TOKS("\xE2\x9D\xA4\xEF\xB8\x8F you", "\xE2\x9D\xA4\xEF\xB8\x8F|you");
    /* URLs, mentions, hashtags, numbers, hyphenated words. */
    TOKS("see https://ex.com/a?b=1. @Bob #Yay", "see|https://ex.com/a?b=1|.|@bob|#yay");
    TOKS("3.5 of 1,000 in the 90s well-known", "3.5|of|1,000|in|the|90s|well-known");
    CHECK(strcmp(kinds("hi 3 , :) \xF0\x9F\x98\x80 www.x.org @a #b $"), "WNPTEUMHS") == 0);
    /* Capitals flag and letter statistics. */
    pth_tokens t = {0};
    pth_error err;
    CHECK_OK(pth_tokenize("NEVER Ever A", 12, NULL, &t, &err), &err);
    CHECK(t.n == 3 && t.caps[0] == 1 && t.caps[1] == 0 && t.caps[2] == 0);
    CHECK(t.n_letters == 10 && t.n_upper == 7 && t.n_codepoints == 12);
    pth_tokens_free(&t);
    CHECK(pth_is_negator("n't") && pth_is_negator("never") && !pth_is_negator("note"));
}

static void test_hash(void)
{
    /* MurmurHash3 x86_32 = sklearn.utils.murmurhash3_32(s.encode(), seed, positive=True)
     * (/usr/bin/python3 tests/ref/text_sklearn_refs.py, scikit-learn 1.2.1). */
    CHECK(pth_murmur3_32("hello", 5, 0) == 613153351u);
    CHECK(pth_murmur3_32("happy", 5, 0) == 3149663830u);
    CHECK(pth_murmur3_32("NEG_happy", 9, 0) == 3298688602u);
    CHECK(pth_murmur3_32("not happy", 9, 0) == 2365410711u);
    CHECK(pth_murmur3_32("\xF0\x9F\x98\x80", 4, 0) == 3199479546u);
    CHECK(pth_murmur3_32("", 0, 0) == 0u);
    CHECK(pth_murmur3_32("hello", 5, 42) == 3806057185u);
    CHECK((pth_murmur3_32(" ha", 3, 0x9E3779B9u) & 0xFFFFFu) == 346008u);

    /* Fixed buckets: "not happy" -> tokens not, ~happy. Word block 2^20: "not" plus
     * "NEG_happy" (917082) and the bigram "not NEG_happy"; char block starts at 2^20. */
    pth_hash_options ho;
    pth_hash_options_default(&ho);
    ho.char_bits = 0;
    ho.word_max = 1;
    pth_tokens t = {0};
    pth_csr X;
    pth_error err;
    CHECK_OK(pth_csr_init(&X, pth_hash_ncols(&ho), &err), &err);
    CHECK_OK(pth_tokenize("happy happy", 11, NULL, &t, &err), &err);
    CHECK_OK(pth_text_hash_row(&ho, &t, &X, &err), &err);
    CHECK(X.indptr[1] == 1 && X.indices[0] == 790102 && X.data[0] == 2.0f);
    CHECK_OK(pth_tokenize("not happy", 9, NULL, &t, &err), &err);
    CHECK_OK(pth_text_hash_row(&ho, &t, &X, &err), &err);
    int found = 0;
    for (size_t k = X.indptr[1]; k < X.indptr[2]; k++)
        found |= X.indices[k] == 917082;
    CHECK(found && X.indptr[2] - X.indptr[1] == 2);
    pth_csr_free(&X);

    /* char_wb n-grams of "ha": " ha", "ha " (n=3), then " ha " once (it is only 4 code
     * points long, so n=4 counts it and n=5 is skipped, as in scikit-learn). */
    ho.word_bits = 0;
    ho.char_bits = 20;
    CHECK_OK(pth_csr_init(&X, pth_hash_ncols(&ho), &err), &err);
    CHECK_OK(pth_tokenize("ha", 2, NULL, &t, &err), &err);
    CHECK_OK(pth_text_hash_row(&ho, &t, &X, &err), &err);
    CHECK(X.indptr[1] == 3);
    found = 0;
    for (size_t k = 0; k < X.indptr[1]; k++)
        found |= X.indices[k] == 346008;
    CHECK(found);
    pth_csr_free(&X);
    pth_tokens_free(&t);
}

/* Random byte soup (ASCII punctuation, emoticon characters, UTF-8 fragments and emoji
 * pieces): tokenizing never fails, tokens are non-empty valid UTF-8, and hashing works. */
static void test_random(void)
{
    static const char *const PIECES[] = {":", ")", "(", "-", "'", "<", "3", "/", "D", "x", "X", "^", "_", " ",
                                         "\n", "!", "?", ".", ",", "n't", "not", "a", "\xE2\x80\x99", "\xF0\x9F",
                                         "\x98\x80", "\xE2\x80\x8D", "\xEF\xB8\x8F", "\xF0\x9F\x87\xA9", "\xff",
                                         "\xC3", "\xA9", "http://", "@", "#", "1", ",0", "8", ";", "="};
    const size_t NP = sizeof PIECES / sizeof *PIECES;
    pth_rng rng;
    pth_rng_seed(&rng, 12345);
    pth_tokens t = {0};
    pth_hash_options ho;
    pth_hash_options_default(&ho);
    ho.word_bits = 10;
    ho.char_bits = 10;
    pth_csr X;
    pth_error err;
    pth_csr_init(&X, pth_hash_ncols(&ho), &err);
    int ok = 1;
    char buf[512];
    for (int iter = 0; iter < 3000 && ok; iter++) {
        size_t len = 0, parts = (size_t)pth_rng_below(&rng, 40);
        for (size_t k = 0; k < parts; k++) {
            const char *p = PIECES[pth_rng_below(&rng, NP)];
            size_t pl = strlen(p);
            if (len + pl >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        if (pth_tokenize(buf, len, NULL, &t, &err) != PTH_OK) {
            ok = 0;
            break;
        }
        for (size_t i = 0; i < t.n; i++) {
            size_t repl = 1, n = 0;
            char *c = pth_utf8_sanitize(t.tok[i], strlen(t.tok[i]), &n, &repl);
            ok &= t.tok[i][0] != '\0' && c && repl == 0 && t.kind[i] <= PTH_TOK_SYMBOL;
            free(c);
        }
        ok &= pth_text_hash_row(&ho, &t, &X, &err) == PTH_OK;
    }
    CHECK(ok);
    CHECK(X.nrows == 3000);
    pth_csr_free(&X);
    pth_tokens_free(&t);
}

int main(void)
{
    test_random();
    test_utf8();
    test_normalize();
    test_tokens();
    test_hash();
    return pth_test_finish();
}
