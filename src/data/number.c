/* Decimal number parsing for the CSV reader, plus the missing-value and UTF-8 checks.
 *
 * Decimal to double in three tiers, all correctly rounded:
 *  1. Clinger's fast path: mantissa <= 2^53 and |exponent| <= 22 are both exact doubles, so
 *     one multiplication or division rounds once, correctly.  Covers "0.123456"-style data.
 *  2. Eisel-Lemire: mantissa of up to 19 digits times a 128-bit approximation of 5^q;
 *     correct for every exact 19-digit mantissa (Mushtak & Lemire 2023).  Covers the
 *     17-significant-digit values Python and %.17g write.
 *  3. strtod for the rest (more than 19 significant digits, extreme exponents). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv_internal.h"
#include "data/pow5_table.h"
#include "pathos/csv.h"

__extension__ typedef unsigned __int128 pth_u128;

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* strtod for what the fast tiers cannot do, on a validated [sign]digits[.digits][e[sign]digits]
 * text.  The copy drops the '.' and folds the fraction length into the exponent
 * ("12.5e3" -> "125e2"), so the result does not depend on the locale's decimal point. */
static double slow_strtod(const char *s, size_t n)
{
    char small[160];
    char *buf = n + 32 < sizeof small ? small : malloc(n + 32);
    if (!buf)
        return NAN;
    size_t k = 0, i = 0;
    int64_t frac = 0, in_frac = 0, ev = 0, eneg = 0;
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.')
            in_frac = 1;
        else {
            buf[k++] = s[i];
            frac += in_frac;
        }
    }
    if (i < n) { /* exponent digits (validated by the caller) */
        i++;
        if (s[i] == '-' || s[i] == '+')
            eneg = s[i++] == '-';
        for (; i < n; i++)
            if (ev < 1000000000000000LL)
                ev = ev * 10 + (s[i] - '0');
    }
    snprintf(buf + k, 32, "e%lld", (long long)((eneg ? -ev : ev) - frac));
    double v = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return v;
}

static int clz64(uint64_t x)
{
    return __builtin_clzll(x);
}

/* Eisel-Lemire for w * 10^q, w != 0, |q| <= 300.  Returns 0 when the 128-bit
 * approximation cannot decide (the caller then uses strtod). */
static int eisel_lemire(uint64_t w, int q, int neg, double *out)
{
    int lz = clz64(w);
    w <<= lz;
    size_t idx = 2 * (size_t)(q - PTH_POW5_MIN_Q);
    pth_u128 first = (pth_u128)w * pth_pow5_table[idx];
    uint64_t hi = (uint64_t)(first >> 64), lo = (uint64_t)first;
    const uint64_t mask = UINT64_MAX >> 55; /* 52 explicit bits + 3 */
    if ((hi & mask) == mask) {
        /* The truncated product might carry into the kept bits: refine with the low half. */
        pth_u128 second = (pth_u128)w * pth_pow5_table[idx + 1];
        uint64_t shi = (uint64_t)(second >> 64);
        lo += shi;
        if (shi > lo)
            hi++;
    }
    if (lo == UINT64_MAX && (q < -27 || q > 55))
        return 0;
    int upper = (int)(hi >> 63);
    int shift = upper + 64 - 52 - 3;
    uint64_t mant = hi >> shift;
    /* floor(log2(10^q)) + 63, via 217706 / 2^16 ~= log2(10) (exact for |q| <= 350). */
    int64_t power2 = ((((int64_t)152170 + 65536) * q) >> 16) + 63 + upper - lz + 1023;
    if (power2 <= 0)
        return 0; /* subnormal: leave to strtod */
    /* Exactly halfway between two doubles: only possible for small q; round to even. */
    if (lo <= 1 && q >= -4 && q <= 23 && (mant & 3) == 1 && (mant << shift) == hi)
        mant &= ~(uint64_t)1;
    mant += mant & 1;
    mant >>= 1;
    if (mant >= (uint64_t)2 << 52) {
        mant = (uint64_t)1 << 52;
        power2++;
    }
    mant &= ~((uint64_t)1 << 52);
    if (power2 >= 0x7FF)
        return 0;
    uint64_t bits = mant | ((uint64_t)power2 << 52) | ((uint64_t)neg << 63);
    memcpy(out, &bits, sizeof *out);
    return 1;
}

typedef struct {
    uint64_t w;    /* first (up to) 19 significant digits */
    int64_t exp10; /* value = w * 10^exp10 when !truncated */
    int truncated; /* more than 19 significant digits */
    int ndigits;   /* mantissa digits seen (including leading zeros) */
} decimal;

/* Digits of one run (integer or fraction part); frac says whether kept digits scale down. */
static const char *scan_digits(const char *p, const char *end, decimal *d, int frac, int *sig)
{
    for (; p < end && is_digit(*p); p++) {
        unsigned dig = (unsigned)(*p - '0');
        d->ndigits++;
        if (*sig == 0 && dig == 0) {
            if (frac)
                d->exp10--; /* leading zero after the point: shifts the scale only */
            continue;
        }
        if (*sig < 19) {
            d->w = d->w * 10 + dig;
            (*sig)++;
            if (frac)
                d->exp10--;
        } else {
            d->truncated = 1;
            if (!frac)
                d->exp10++;
        }
    }
    return p;
}

/* Careful decimal scan for mantissas of more than 19 digits: leading zeros do not count,
 * digits past the 19th only set `truncated` (and scale the integer part). */
static decimal scan_long(const char *p, const char *end)
{
    decimal d = {0, 0, 0, 0};
    int sig = 0;
    p = scan_digits(p, end, &d, 0, &sig);
    if (p < end && *p == '.')
        (void)scan_digits(p + 1, end, &d, 1, &sig);
    return d;
}

/* Exponent part "e[+-]digits" at p; returns the position after it (p when there is none). */
static const char *scan_exponent(const char *p, const char *end, int64_t *exp10)
{
    if (p == end || (*p != 'e' && *p != 'E'))
        return p;
    const char *e = p + 1;
    int eneg = 0;
    if (e < end && (*e == '-' || *e == '+')) {
        eneg = *e == '-';
        e++;
    }
    if (e == end || !is_digit(*e))
        return p; /* "1e" is the number 1 followed by text; the caller rejects the field */
    int64_t ev = 0;
    for (; e < end && is_digit(*e); e++)
        if (ev < 1000000000000000LL) /* far beyond any double; keeps exp10 exact and bounded */
            ev = ev * 10 + (*e - '0');
    *exp10 += eneg ? -ev : ev;
    return e;
}

static const uint64_t pow10_u64[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* Number of leading ASCII digits in the 8 bytes of v (little-endian load): a byte is flagged
 * when it is above '9' (adding 0x46 sets its top bit), below '0' (subtracting 0x30 borrows)
 * or non-ASCII.  Carries and borrows only start at a flagged byte, so they can only disturb
 * bytes after the first flag, which do not matter. */
static int swar_digit_count(uint64_t v)
{
    uint64_t flags = ((v + 0x4646464646464646ULL) | (v - 0x3030303030303030ULL) | v) & 0x8080808080808080ULL;
    return flags ? __builtin_ctzll(flags) >> 3 : 8;
}

/* Value of the first n (1..8) digits of v: shifting left drops the bytes after them and
 * leaves zeros as leading digits; then the usual 8-digits-at-once multiply tree. */
static uint64_t swar_digits_value(uint64_t v, int n)
{
    v = (v - 0x3030303030303030ULL) << (8 * (8 - n));
    v = v * 10 + (v >> 8);
    const uint64_t mask = 0x000000FF000000FFULL;
    return (((v & mask) * (100 + (1000000ULL << 32))) + (((v >> 16) & mask) * (1 + (10000ULL << 32)))) >> 32;
}

/* Accumulates a run of digits into *w (modulo 2^64; callers count digits), eight at a time
 * while eight bytes remain, so typical 5-17 digit runs cost one or two steps instead of a
 * hard-to-predict branch per digit. */
static const char *digit_run(const char *p, const char *end, uint64_t *w)
{
    uint64_t acc = *w;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        int n = swar_digit_count(v);
        if (n == 0)
            break;
        acc = acc * pow10_u64[n] + swar_digits_value(v, n);
        p += n;
        if (n < 8) {
            *w = acc;
            return p;
        }
    }
    for (; p < end && is_digit(*p); p++)
        acc = acc * 10 + (uint64_t)(*p - '0');
    *w = acc;
    return p;
}

const char *pth_csv_number(const char *p, const char *end, double *out)
{
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    /* Common case first: accumulate every digit; only when there are more than 19 (w may
     * have wrapped) rescan carefully. */
    const char *mant = p;
    uint64_t w = 0;
    p = digit_run(p, end, &w);
    size_t nint = (size_t)(p - mant), nfrac = 0;
    if (p < end && *p == '.') {
        const char *f = ++p;
        p = digit_run(p, end, &w);
        nfrac = (size_t)(p - f);
    }
    if (nint + nfrac == 0)
        return NULL;
    decimal d = {w, -(int64_t)nfrac, 0, (int)(nint + nfrac)};
    if (nint + nfrac > 19)
        d = scan_long(mant, end);
    p = scan_exponent(p, end, &d.exp10);
    if (d.w == 0 && !d.truncated) {
        *out = neg ? -0.0 : 0.0;
        return p;
    }
    if (!d.truncated && d.w <= ((uint64_t)1 << 53) && d.exp10 >= -22 && d.exp10 <= 22) {
        double v = (double)d.w;
        v = d.exp10 < 0 ? v / exact_pow10[-d.exp10] : v * exact_pow10[d.exp10];
        *out = neg ? -v : v;
        return p;
    }
    if (!d.truncated && d.exp10 >= -300 && d.exp10 <= 300 && eisel_lemire(d.w, (int)d.exp10, neg, out))
        return p;
    *out = slow_strtod(start, (size_t)(p - start));
    return p;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int pth_parse_number(const char *s, size_t n, double *out)
{
    const char *p = s, *end = s + n;
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    if (p == end)
        return 0;
    double v;
    const char *q = pth_csv_number(p, end, &v);
    if (q != end)
        return 0;
    *out = v;
    return 1;
}

static int word_eq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

int pth_is_missing(const char *s, size_t n)
{
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (n == 0)
        return 1;
    if (n > 9)
        return 0;
    if (*s == '-' || *s == '+') {
        s++;
        n--;
        return word_eq(s, n, "inf") || word_eq(s, n, "infinity") || word_eq(s, n, "nan");
    }
    static const char *const words[] = {"nan", "na", "n/a", "null", "inf", "infinity"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (word_eq(s, n, words[i]))
            return 1;
    return 0;
}

/* Length of the UTF-8 sequence starting at s[0..n), or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t pth_utf8_check(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path: 32, then 8 bytes at a time while no high bit is set. */
        while (i + 32 <= n) {
            uint64_t w[4];
            memcpy(w, u + i, 32);
            if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)
                break;
            i += 32;
        }
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq(u + i, n - i);
        if (!len)
            return i + 1;
        i += len;
    }
    return 0;
}
