/* UTF-8 sanitising, NFKC / case-fold normalisation and the tokenizer (see pathos/text.h). */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "pathos/text.h"

#define PTH_TEXT_MAX_BYTES ((size_t)256 << 20)
#define REPLACEMENT_CHAR 0xFFFD

/* ---------------------------------------------------------------------------------- */
/* UTF-8                                                                               */

/* Appends the sanitised form of s to *buf (capacity *cap); returns 0 or -1 (no memory). */
static int sanitize_into(const char *s, size_t len, char **buf, size_t *cap, size_t *out_len, size_t *n_repl)
{
    /* Worst case every byte becomes a 3-byte U+FFFD. */
    size_t need = len * 3 + 1;
    if (*cap < need) {
        char *nb = realloc(*buf, need);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = need;
    }
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0, o = 0, repl = 0;
    char *dst = *buf;
    while (i < len) {
        if (p[i] < 0x80) { /* ASCII fast path */
            dst[o++] = (char)p[i++];
            continue;
        }
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0 || c < 0) {
            c = REPLACEMENT_CHAR;
            k = 1;
            repl++;
        }
        o += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)dst + o);
        i += (size_t)k;
    }
    dst[o] = '\0';
    *out_len = o;
    if (n_repl)
        *n_repl = repl;
    return 0;
}

char *pth_utf8_sanitize(const char *s, size_t len, size_t *out_len, size_t *n_replaced)
{
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (sanitize_into(s ? s : "", s ? len : 0, &buf, &cap, &n, n_replaced) != 0) {
        free(buf);
        return NULL;
    }
    if (out_len)
        *out_len = n;
    return buf;
}

static int is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* utf8proc_map on a valid buffer; returns malloc'd result or NULL. */
static char *map_utf8(const char *s, size_t len, int options, size_t *out_len)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
                                      (utf8proc_option_t)(UTF8PROC_STABLE | options));
    if (r < 0) {
        free(out);
        return NULL;
    }
    *out_len = (size_t)r;
    return (char *)out;
}

int pth_text_normalize(const char *s, size_t len, unsigned flags, char **out, size_t *out_len, pth_error *err)
{
    *out = NULL;
    if (len > PTH_TEXT_MAX_BYTES)
        return pth_fail(err, PTH_ERR_NOMEM, "text of %zu bytes exceeds the 256 MiB limit", len);
    size_t n = 0;
    char *clean = pth_utf8_sanitize(s, len, &n, NULL);
    if (!clean)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory normalising text");
    int opt = 0;
    if (flags & PTH_NORM_NFKC)
        opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    if (flags & PTH_NORM_CASEFOLD)
        opt |= UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE;
    if (opt == 0) {
        *out = clean;
    } else if (is_ascii(clean, n)) {
        /* NFKC is the identity on ASCII; case folding is tolower. */
        if (flags & PTH_NORM_CASEFOLD)
            for (size_t i = 0; i < n; i++)
                if (clean[i] >= 'A' && clean[i] <= 'Z')
                    clean[i] = (char)(clean[i] - 'A' + 'a');
        *out = clean;
    } else {
        size_t m = 0;
        char *mapped = map_utf8(clean, n, opt, &m);
        free(clean);
        if (!mapped)
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory normalising text");
        *out = mapped;
        n = m;
    }
    if (out_len)
        *out_len = n;
    return PTH_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Token storage                                                                       */

void pth_tokenize_options_default(pth_tokenize_options *o)
{
    o->casefold = 1;
    o->split_contractions = 1;
    o->mark_negation = 1;
}

void pth_tokens_free(pth_tokens *t)
{
    if (!t)
        return;
    free(t->tok);
    free(t->kind);
    free(t->neg);
    free(t->caps);
    free(t->store_);
    free(t->off_);
    free(t->norm_);
    free(t->cp_);
    free(t->cpoff_);
    memset(t, 0, sizeof *t);
}

static int grow_arrays(pth_tokens *t)
{
    size_t cap = t->cap_ ? t->cap_ * 2 : 64;
    char **tok = realloc(t->tok, cap * sizeof *tok);
    if (tok)
        t->tok = tok;
    unsigned char *kind = realloc(t->kind, cap);
    if (kind)
        t->kind = kind;
    unsigned char *neg = realloc(t->neg, cap);
    if (neg)
        t->neg = neg;
    unsigned char *caps = realloc(t->caps, cap);
    if (caps)
        t->caps = caps;
    size_t *off = realloc(t->off_, cap * sizeof *off);
    if (off)
        t->off_ = off;
    if (!tok || !kind || !neg || !caps || !off)
        return -1;
    t->cap_ = cap;
    return 0;
}

/* Appends one token (bytes are copied; a NUL is added). */
static int push_token(pth_tokens *t, const char *s, size_t len, int kind, int caps)
{
    if (t->n == t->cap_ && grow_arrays(t) != 0)
        return -1;
    if (t->store_len_ + len + 1 > t->store_cap_) {
        size_t cap = t->store_cap_ ? t->store_cap_ : 1024;
        while (cap < t->store_len_ + len + 1)
            cap *= 2;
        char *ns = realloc(t->store_, cap);
        if (!ns)
            return -1;
        t->store_ = ns;
        t->store_cap_ = cap;
    }
    memcpy(t->store_ + t->store_len_, s, len);
    t->store_[t->store_len_ + len] = '\0';
    t->off_[t->n] = t->store_len_;
    t->kind[t->n] = (unsigned char)kind;
    t->neg[t->n] = 0;
    t->caps[t->n] = (unsigned char)(caps != 0);
    t->store_len_ += len + 1;
    t->n++;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Character classes                                                                   */

static int is_space_cp(int32_t c)
{
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0)
        return 1;
    if (c < 0x80)
        return 0;
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP ||
           c == 0x200B || c == 0xFEFF || c == 0x85;
}

static int is_letter(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static int is_digit_cp(int32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

/* Letters, combining marks, digits and '_' continue a word. */
static int is_word_cp(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    utf8proc_category_t cat = utf8proc_category(c);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO);
}

static int is_alnum_ascii(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_pictographic(int32_t c)
{
    if (c < 0xA9)
        return 0;
    int b = utf8proc_get_property(c)->boundclass;
    return b == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC || b == UTF8PROC_BOUNDCLASS_E_ZWG ||
           b == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR;
}

static int is_regional(int32_t c)
{
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

/* ---------------------------------------------------------------------------------- */
/* Recognisers: each returns the number of code points matched at cps[i] (0 = none).   */

typedef struct {
    const int32_t *cp;
    size_t n;
} cpview;

static int32_t at(const cpview *v, size_t i)
{
    return i < v->n ? v->cp[i] : 0;
}

/* ASCII case-insensitive prefix test on code points. */
static int starts_with_ci(const cpview *v, size_t i, const char *lit)
{
    for (size_t k = 0; lit[k]; k++) {
        int32_t c = at(v, i + k);
        if (c >= 'A' && c <= 'Z')
            c = c - 'A' + 'a';
        if (c != (unsigned char)lit[k])
            return 0;
    }
    return 1;
}

static int starts_with(const cpview *v, size_t i, const char *lit)
{
    for (size_t k = 0; lit[k]; k++)
        if (at(v, i + k) != (unsigned char)lit[k])
            return 0;
    return 1;
}

static size_t match_url(const cpview *v, size_t i)
{
    if (!(starts_with_ci(v, i, "http://") || starts_with_ci(v, i, "https://") || starts_with_ci(v, i, "www.")))
        return 0;
    size_t j = i;
    while (j < v->n && !is_space_cp(v->cp[j]))
        j++;
    /* Trailing sentence punctuation is not part of the URL. */
    while (j > i + 4 && strchr(".,;:!?)]\"'", (int)(v->cp[j - 1] < 0x80 ? v->cp[j - 1] : 1)) && v->cp[j - 1] < 0x80)
        j--;
    return j - i;
}

/* Emoticons written as fixed strings; longest first within a shared prefix. */
static const char *const FIXED_EMOTICONS[] = {
    "</3", "<3", "^_^", "^.^", "^-^", "^^", "-_-", "-.-", "o_O", "O_o", "o.O", "O.o", "o_o", "O_O", ">_<",
    ">.<", "T_T", "T.T", ";_;", "XD", "xD", "X-D", "x-D", ":'-(", ":'-)", ":'(", ":')", "=')", "='(", "\\o/",
    "\\m/", "D:", NULL};

static int emoticon_boundary_ok(const cpview *v, size_t i, size_t len)
{
    int32_t before = i > 0 ? v->cp[i - 1] : ' ';
    int32_t after = at(v, i + len);
    /* An emoticon must not be glued to letters or digits on its outer side when its own
     * outer character is alphanumeric ("XD" in "XDR", ":D" in ":Document", "8)" in "18)"). */
    if (is_alnum_ascii(v->cp[i]) && (is_word_cp(before) && before != 0))
        return 0;
    if (is_alnum_ascii(v->cp[i + len - 1]) && is_word_cp(after) && after != 0)
        return 0;
    return 1;
}

static size_t match_emoticon(const cpview *v, size_t i)
{
    for (size_t k = 0; FIXED_EMOTICONS[k]; k++) {
        const char *e = FIXED_EMOTICONS[k];
        size_t len = strlen(e);
        if (starts_with(v, i, e) && emoticon_boundary_ok(v, i, len)) {
            /* "D:" and "XD" only as stand-alone tokens (avoid "D:\path", "XD-123"). */
            if ((strcmp(e, "D:") == 0) && !(is_space_cp(at(v, i + len)) || i + len == v->n))
                continue;
            if (strcmp(e, "D:") == 0 && i > 0 && !is_space_cp(v->cp[i - 1]))
                continue;
            return len;
        }
    }
    /* Western: [>]? eyes [:;=8] nose? ['-o^]? mouth+ */
    size_t j = i;
    if (at(v, j) == '>' && strchr(":;=", (int)at(v, j + 1)) && at(v, j + 1))
        j++;
    int32_t eyes = at(v, j);
    if (eyes == ':' || eyes == ';' || eyes == '=' || eyes == '8') {
        size_t k = j + 1;
        int32_t nose = at(v, k);
        if (nose == '-' || nose == '\'' || nose == '^' || (nose == 'o' && eyes != '8'))
            k++;
        int32_t m = at(v, k);
        static const char MOUTHS[] = ")(][DPpOo/\\|*3$@}{Ss";
        if (m != 0 && m < 0x80 && strchr(MOUTHS, (int)m)) {
            /* "8" eyes need a nose or a bracket mouth ("8)" in "(see 8)" is rare enough). */
            if (eyes == '8' && k == j + 1 && !(m == ')' || m == '('))
                return 0;
            if (eyes == '8' && i > 0 && is_word_cp(v->cp[i - 1]))
                return 0;
            /* Times and ratios: "10:30", "3:3". */
            if (i > 0 && is_digit_cp(v->cp[i - 1]) && (is_alnum_ascii(m)))
                return 0;
            if (nose == 'o' && k == j + 2 && !(m == ')' || m == '('))
                return 0;
            size_t e = k + 1;
            /* Repeated bracket mouths: ":)))", ":(((". */
            while ((m == ')' || m == '(' || m == 'D' || m == 'P' || m == 'p') && at(v, e) == m)
                e++;
            size_t len = e - i;
            if (!emoticon_boundary_ok(v, i, len))
                return 0;
            /* ":/" followed by '/' is a scheme separator, not a face. */
            if (m == '/' && at(v, e) == '/')
                return 0;
            /* Letter mouths (D P p O o S s) must end the token. */
            if (is_alnum_ascii(m) && is_word_cp(at(v, e)) && at(v, e) != 0)
                return 0;
            return len;
        }
    }
    /* Reversed faces, only stand-alone: "(:", "(-:", "):", ")-:". */
    if ((at(v, i) == '(' || at(v, i) == ')') && (i == 0 || is_space_cp(v->cp[i - 1]))) {
        size_t k = i + 1;
        if (at(v, k) == '-')
            k++;
        if (at(v, k) == ':' || at(v, k) == ';') {
            size_t len = k + 1 - i;
            if (i + len == v->n || is_space_cp(at(v, i + len)))
                return len;
        }
    }
    return 0;
}

/* One emoji: pictograph (+ VS16/VS15, skin tone, keycap) (+ ZWJ pictograph ...)*, or a
 * regional-indicator pair (flag). */
static size_t match_emoji(const cpview *v, size_t i)
{
    int32_t c = v->cp[i];
    if (!is_pictographic(c))
        return 0;
    if (is_regional(c))
        return is_regional(at(v, i + 1)) ? 2 : 1;
    size_t j = i + 1;
    for (;;) {
        int32_t d = at(v, j);
        if (d == 0xFE0F || d == 0xFE0E || (d >= 0x1F3FB && d <= 0x1F3FF) || d == 0x20E3 ||
            (d >= 0xE0020 && d <= 0xE007F)) {
            j++;
        } else if (d == 0x200D && is_pictographic(at(v, j + 1)) && !is_regional(at(v, j + 1))) {
            j += 2;
        } else {
            break;
        }
    }
    return j - i;
}

static size_t match_number(const cpview *v, size_t i)
{
    if (!is_digit_cp(v->cp[i]))
        return 0;
    size_t j = i + 1;
    for (;;) {
        if (j < v->n && is_digit_cp(v->cp[j]))
            j++;
        else if ((at(v, j) == '.' || at(v, j) == ',') && is_digit_cp(at(v, j + 1)))
            j += 2;
        else
            break;
    }
    /* "3rd", "90s", "2pm" are words. */
    if (j < v->n && is_letter(v->cp[j]))
        return 0;
    return j - i;
}

static int is_apostrophe(int32_t c)
{
    return c == '\'' || c == 0x2019;
}

static size_t match_word(const cpview *v, size_t i)
{
    if (!is_word_cp(v->cp[i]))
        return 0;
    size_t j = i + 1;
    for (;;) {
        int32_t c = at(v, j);
        if (j < v->n && is_word_cp(c))
            j++;
        else if ((is_apostrophe(c) || c == '-') && j + 1 < v->n && is_letter(v->cp[j + 1]))
            j += 2;
        else
            break;
    }
    return j - i;
}

/* ---------------------------------------------------------------------------------- */
/* Emitting tokens                                                                     */

/* Encodes cps[i..i+len) as UTF-8 into buf (>= 4*len+1 bytes), mapping U+2019 to '. */
static size_t encode_span(const cpview *v, size_t i, size_t len, char *buf)
{
    size_t o = 0;
    for (size_t k = i; k < i + len; k++) {
        int32_t c = v->cp[k] == 0x2019 ? '\'' : v->cp[k];
        if (c < 0x80)
            buf[o++] = (char)c;
        else
            o += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)buf + o);
    }
    buf[o] = '\0';
    return o;
}

static int word_in_caps(const cpview *v, size_t i, size_t len)
{
    size_t letters = 0;
    for (size_t k = i; k < i + len; k++) {
        int32_t c = v->cp[k];
        if (!is_letter(c))
            continue;
        letters++;
        if (c < 0x80 ? !(c >= 'A' && c <= 'Z') : utf8proc_category(c) != UTF8PROC_CATEGORY_LU)
            return 0;
    }
    return letters >= 2;
}

/* Case-folds buf in place when possible (ASCII) or via utf8proc; returns the new token
 * (buf itself or a malloc'd string stored in *owned). */
static const char *fold(char *buf, size_t *len, char **owned)
{
    *owned = NULL;
    if (is_ascii(buf, *len)) {
        for (size_t k = 0; k < *len; k++)
            if (buf[k] >= 'A' && buf[k] <= 'Z')
                buf[k] = (char)(buf[k] - 'A' + 'a');
        return buf;
    }
    size_t m = 0;
    char *f = map_utf8(buf, *len, UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE, &m);
    if (!f)
        return buf;
    *owned = f;
    *len = m;
    return f;
}

static const char *const CLITICS[] = {"'s", "'m", "'re", "'ve", "'ll", "'d", NULL};

/* Pushes a (case-folded) word, split PTB-style when it ends in a contraction. */
static int push_word(pth_tokens *t, const char *w, size_t len, int caps, int split)
{
    if (split && len > 3 && memcmp(w + len - 3, "n't", 3) == 0) {
        if (push_token(t, w, len - 3, PTH_TOK_WORD, caps) != 0)
            return -1;
        return push_token(t, "n't", 3, PTH_TOK_WORD, caps);
    }
    if (split) {
        for (size_t k = 0; CLITICS[k]; k++) {
            size_t cl = strlen(CLITICS[k]);
            if (len > cl && memcmp(w + len - cl, CLITICS[k], cl) == 0) {
                if (push_token(t, w, len - cl, PTH_TOK_WORD, caps) != 0)
                    return -1;
                return push_token(t, CLITICS[k], cl, PTH_TOK_WORD, caps);
            }
        }
    }
    return push_token(t, w, len, PTH_TOK_WORD, caps);
}

/* ---------------------------------------------------------------------------------- */
/* Negation                                                                            */

static const char *const NEGATORS[] = {
    "not", "no", "never", "n't", "nor", "neither", "nobody", "nothing", "nowhere", "none", "cannot", "without",
    "hardly", "barely", "scarcely", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "cant",
    "couldnt", "wouldnt", "shouldnt", "wont", "havent", "hasnt", "hadnt", "aint", "mustnt", "neednt",
    "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "couldn't", "wouldn't",
    "shouldn't", "won't", "haven't", "hasn't", "hadn't", "ain't", "mustn't", "needn't", NULL};

int pth_is_negator(const char *tok)
{
    /* Every negator starts with 'n' or ends in 't' or 'y': a cheap filter before the scan,
     * since this runs for every token. */
    size_t len = strlen(tok);
    if (len == 0 || (tok[0] != 'n' && tok[len - 1] != 't' && tok[len - 1] != 'y'))
        return 0;
    for (size_t k = 0; NEGATORS[k]; k++)
        if (strcmp(tok, NEGATORS[k]) == 0)
            return 1;
    return 0;
}

static int is_clause_punct(const char *tok)
{
    if (!*tok)
        return 0;
    for (const char *p = tok; *p; p++)
        if (!strchr(".,;:!?", *p))
            return 0;
    return 1;
}

static void mark_negation(pth_tokens *t)
{
    int scope = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->store_ + t->off_[i];
        int k = t->kind[i];
        if (k == PTH_TOK_EMOTICON || k == PTH_TOK_EMOJI || (k == PTH_TOK_PUNCT && is_clause_punct(s))) {
            scope = 0;
            continue;
        }
        if (pth_is_negator(s)) {
            scope = 1;
            continue;
        }
        t->neg[i] = (unsigned char)scope;
    }
}

/* ---------------------------------------------------------------------------------- */
/* Tokenizer                                                                           */

/* Sanitises + NFKC-normalises text into t->norm_ and decodes it into t->cp_. */
static int decode_input(const char *text, size_t len, pth_tokens *t)
{
    size_t n = 0;
    if (sanitize_into(text ? text : "", text ? len : 0, &t->norm_, &t->norm_cap_, &n, &t->n_replaced) != 0)
        return -1;
    if (!is_ascii(t->norm_, n)) {
        size_t m = 0;
        char *nf = map_utf8(t->norm_, n, UTF8PROC_COMPOSE | UTF8PROC_COMPAT, &m);
        if (!nf)
            return -1;
        if (m + 1 > t->norm_cap_) {
            free(t->norm_);
            t->norm_ = nf;
            t->norm_cap_ = m + 1;
        } else {
            memcpy(t->norm_, nf, m + 1);
            free(nf);
        }
        n = m;
    }
    if (n + 1 > t->cp_cap_) {
        int32_t *cp = realloc(t->cp_, (n + 1) * sizeof *cp);
        if (cp)
            t->cp_ = cp;
        size_t *off = realloc(t->cpoff_, (n + 1) * sizeof *off);
        if (off)
            t->cpoff_ = off;
        if (!cp || !off)
            return -1;
        t->cp_cap_ = n + 1;
    }
    size_t i = 0, k = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)t->norm_;
    while (i < n) {
        utf8proc_int32_t c = p[i];
        utf8proc_ssize_t step = 1;
        if (c >= 0x80) {
            step = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &c);
            if (step <= 0) { /* cannot happen after sanitising; be safe */
                c = REPLACEMENT_CHAR;
                step = 1;
            }
        }
        t->cp_[k] = c;
        t->cpoff_[k] = i;
        k++;
        i += (size_t)step;
    }
    t->cpoff_[k] = n;
    t->n_codepoints = k;
    return 0;
}

static void count_letters(pth_tokens *t)
{
    size_t letters = 0, upper = 0;
    for (size_t i = 0; i < t->n_codepoints; i++) {
        int32_t c = t->cp_[i];
        if (!is_letter(c))
            continue;
        letters++;
        if (c < 0x80 ? (c >= 'A' && c <= 'Z') : utf8proc_category(c) == UTF8PROC_CATEGORY_LU)
            upper++;
    }
    t->n_letters = letters;
    t->n_upper = upper;
}

/* Length of a run of '!'/'?' or of '.' starting at i (at least 1). */
static size_t punct_run(const cpview *v, size_t i)
{
    int32_t c = v->cp[i];
    size_t j = i + 1;
    if (c == '!' || c == '?') {
        while (at(v, j) == '!' || at(v, j) == '?')
            j++;
    } else if (c == '.') {
        while (at(v, j) == '.')
            j++;
    }
    return j - i;
}

static int emit_span(pth_tokens *t, const cpview *v, size_t i, size_t len, int kind, int casefold, int split,
                     char **scratch, size_t *scratch_cap)
{
    size_t need = len * 4 + 1;
    if (need > *scratch_cap) {
        char *ns = realloc(*scratch, need);
        if (!ns)
            return -1;
        *scratch = ns;
        *scratch_cap = need;
    }
    size_t blen = encode_span(v, i, len, *scratch);
    if (kind == PTH_TOK_EMOTICON || kind == PTH_TOK_EMOJI || kind == PTH_TOK_PUNCT || kind == PTH_TOK_SYMBOL ||
        kind == PTH_TOK_NUMBER || !casefold)
        return kind == PTH_TOK_WORD ? push_word(t, *scratch, blen, word_in_caps(v, i, len), split)
                                    : push_token(t, *scratch, blen, kind, 0);
    int caps = kind == PTH_TOK_WORD ? word_in_caps(v, i, len) : 0;
    char *owned = NULL;
    const char *f = fold(*scratch, &blen, &owned);
    int rc = kind == PTH_TOK_WORD ? push_word(t, f, blen, caps, split) : push_token(t, f, blen, kind, 0);
    free(owned);
    return rc;
}

/* Classifies the token starting at cps[i]; returns its length and kind. */
static size_t next_token(const cpview *v, size_t i, int *kind)
{
    size_t len;
    int32_t c = v->cp[i];
    if ((len = match_url(v, i)) > 0) {
        *kind = PTH_TOK_URL;
        return len;
    }
    if ((len = match_emoticon(v, i)) > 0) {
        *kind = PTH_TOK_EMOTICON;
        return len;
    }
    if ((len = match_emoji(v, i)) > 0) {
        *kind = PTH_TOK_EMOJI;
        return len;
    }
    if ((c == '@' || c == '#') && i + 1 < v->n && is_word_cp(v->cp[i + 1])) {
        size_t j = i + 1;
        while (j < v->n && is_word_cp(v->cp[j]))
            j++;
        *kind = c == '@' ? PTH_TOK_MENTION : PTH_TOK_HASHTAG;
        return j - i;
    }
    if ((len = match_number(v, i)) > 0) {
        *kind = PTH_TOK_NUMBER;
        return len;
    }
    if ((len = match_word(v, i)) > 0) {
        *kind = PTH_TOK_WORD;
        return len;
    }
    utf8proc_category_t cat = utf8proc_category(c);
    *kind = (cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO) ? PTH_TOK_SYMBOL : PTH_TOK_PUNCT;
    return punct_run(v, i);
}

int pth_tokenize(const char *text, size_t len, const pth_tokenize_options *o, pth_tokens *t, pth_error *err)
{
    pth_tokenize_options def;
    if (!o) {
        pth_tokenize_options_default(&def);
        o = &def;
    }
    t->n = 0;
    t->store_len_ = 0;
    t->n_codepoints = t->n_letters = t->n_upper = t->n_replaced = 0;
    if (len > PTH_TEXT_MAX_BYTES)
        return pth_fail(err, PTH_ERR_NOMEM, "text of %zu bytes exceeds the 256 MiB limit", len);
    if (decode_input(text, len, t) != 0)
        return pth_fail(err, PTH_ERR_NOMEM, "out of memory tokenizing text");
    count_letters(t);
    cpview v = {t->cp_, t->n_codepoints};
    char *scratch = NULL;
    size_t scratch_cap = 0;
    size_t i = 0;
    while (i < v.n) {
        if (is_space_cp(v.cp[i]) || (v.cp[i] >= 0xFE00 && v.cp[i] <= 0xFE0F) || v.cp[i] == 0x200D) {
            i++; /* whitespace, stray variation selectors and joiners */
            continue;
        }
        int kind = PTH_TOK_PUNCT;
        size_t n = next_token(&v, i, &kind);
        if (emit_span(t, &v, i, n, kind, o->casefold, o->split_contractions, &scratch, &scratch_cap) != 0) {
            free(scratch);
            return pth_fail(err, PTH_ERR_NOMEM, "out of memory tokenizing text");
        }
        i += n;
    }
    free(scratch);
    for (size_t k = 0; k < t->n; k++)
        t->tok[k] = t->store_ + t->off_[k];
    if (o->mark_negation)
        mark_negation(t);
    return PTH_OK;
}
