/*
 * Number cells (SPEC §4). The syntax is checked here, by hand, so that the
 * C locale's strtod never sees a separator it might read differently: the
 * digits are gathered into "[-]DIGITSeEXP" (no decimal point at all), which
 * every locale reads the same.
 *
 * Fast path: up to 15 significant digits with a power of ten up to 22 is
 * computed as one IEEE multiplication or division of two exact doubles,
 * which is correctly rounded (Clinger); that covers nearly every KPI value.
 * Anything else goes through strtod.
 */
#include "ingest/ingest_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_TEXT_MAX 128 /* longer cells are not numbers */

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c | 0x20);
    return c;
}

/* "no value": empty, NA, N/A, -, n.d. in any case */
static bool is_missing(const char *s, size_t len)
{
    static const char *const tokens[] = {"na", "n/a", "-", "n.d."};
    for (size_t t = 0; t < sizeof tokens / sizeof tokens[0]; t++) {
        size_t n = strlen(tokens[t]);
        if (n != len)
            continue;
        size_t i = 0;
        while (i < n && lower(s[i]) == tokens[t][i])
            i++;
        if (i == n)
            return true;
    }
    return len == 0;
}

/* Length of a thousands separator at p (space, U+00A0, U+202F), or 0. */
static size_t thousands_sep(const unsigned char *p, const unsigned char *e)
{
    if (p < e && *p == ' ')
        return 1;
    if (e - p >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (e - p >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xAF)
        return 3;
    return 0;
}

/* "[sign]DIGITS[,DIGITS][eEXP]" with thousands groups in comma mode, on
 * [p, e): the plain syntax, after the wrappers of number_slow are gone. */
static int number_core(const unsigned char *p, const unsigned char *e, char decimal, double *out)
{
    bool comma = decimal == ',';
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    const unsigned char *mant = p; /* the digits start here */
    /* significant digits as an integer, for the fast path */
    uint64_t m = 0;
    size_t sig = 0;

    /* integer part, with thousands groups in comma mode: 1-3 digits, then
     * groups of exactly 3 after each separator. m accumulates every digit;
     * sig counts them from the first non-zero one (m wraps harmlessly past
     * 19 digits: it is only used up to 15). */
    size_t int_digits = 0, group = 0;
    bool grouped = false;
    for (;;) {
        while (p < e && is_digit(*p)) {
            m = m * 10 + (uint64_t)(*p++ - '0');
            sig += m != 0;
            int_digits++;
            group++;
        }
        size_t sep = comma && p < e ? thousands_sep(p, e) : 0;
        if (sep == 0)
            break;
        if (group == 0 || group > 3 || (grouped && group != 3) || p + sep >= e || !is_digit(p[sep]))
            return KPI_EINPUT;
        grouped = true;
        group = 0;
        p += sep;
    }
    if (grouped && group != 3)
        return KPI_EINPUT;
    long frac_digits = 0;
    if (p < e && *p == (unsigned char)(comma ? ',' : '.')) {
        p++;
        while (p < e && is_digit(*p)) {
            m = m * 10 + (uint64_t)(*p++ - '0');
            sig += m != 0;
            frac_digits++;
        }
    }
    if (int_digits == 0 && frac_digits == 0)
        return KPI_EINPUT;
    long exp10 = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == e || !is_digit(*p))
            return KPI_EINPUT;
        while (p < e && is_digit(*p)) {
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            exp10 = -exp10;
    }
    if (p != e)
        return KPI_EINPUT; /* a '.' in comma mode, a ',' in dot mode, letters... */
    exp10 -= frac_digits;

    if (sig == 0) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    if (sig <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m; /* exact: m < 10^15 < 2^53 */
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return 0;
    }
    /* slow path: "[-]DIGITSeEXP", without separators or decimal point */
    char digits[NUMBER_TEXT_MAX + 32];
    size_t nd = 0;
    digits[nd++] = neg ? '-' : '+';
    for (size_t k = 0; k < int_digits + (size_t)frac_digits; mant++)
        if (is_digit(*mant)) {
            digits[nd++] = (char)*mant;
            k++;
        }
    snprintf(digits + nd, sizeof digits - nd, "e%ld", exp10);
    char *end;
    double v = strtod(digits, &end);
    if (*end != '\0' || !isfinite(v))
        return KPI_EINPUT;
    *out = v;
    return 0;
}

/* Does [p, e) equal word (lower-case ASCII), in any case? */
static bool equals_fold(const unsigned char *p, const unsigned char *e, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(e - p) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((char)p[i]) != word[i])
            return false;
    return true;
}

/* Excel's error values, in English and French: no value. */
static bool is_excel_error(const unsigned char *p, const unsigned char *e)
{
    static const char *const errors[] = {"#n/a",   "#div/0!",  "#valeur!", "#value!",
                                         "#ref!",  "#nombre!", "#num!",    "#nom?",
                                         "#name?", "#null!",   "#nul!"};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (equals_fold(p, e, errors[i]))
            return true;
    return false;
}

/* Is [p, p+3) the code, in any case? (code: lower-case ASCII) */
static bool code_is(const unsigned char *p, const char *code)
{
    return (p[0] | 0x20) == code[0] && (p[1] | 0x20) == code[1] && (p[2] | 0x20) == code[2];
}

/* Length of a currency sign or code (SPEC §4: € $ £ EUR USD GBP CHF, any
 * case) at the start of [p, e), or 0. Dispatched on the first byte: a
 * French export carries one on every cell. */
static size_t currency_prefix(const unsigned char *p, const unsigned char *e)
{
    size_t n = (size_t)(e - p);
    switch (p[0]) {
    case '$':
        return 1;
    case 0xC2: /* £ = C2 A3 */
        return n >= 2 && p[1] == 0xA3 ? 2 : 0;
    case 0xE2: /* € = E2 82 AC */
        return n >= 3 && p[1] == 0x82 && p[2] == 0xAC ? 3 : 0;
    case 'E':
    case 'e':
    case 'U':
    case 'u':
    case 'G':
    case 'g':
    case 'C':
    case 'c':
        return n >= 3 && (code_is(p, "eur") || code_is(p, "usd") || code_is(p, "gbp") ||
                          code_is(p, "chf"))
                   ? 3
                   : 0;
    default:
        return 0;
    }
}

/* The same at the end of [p, e), dispatched on the last byte. */
static size_t currency_suffix(const unsigned char *p, const unsigned char *e)
{
    size_t n = (size_t)(e - p);
    switch (e[-1]) {
    case '$':
        return 1;
    case 0xA3:
        return n >= 2 && e[-2] == 0xC2 ? 2 : 0;
    case 0xAC:
        return n >= 3 && e[-3] == 0xE2 && e[-2] == 0x82 ? 3 : 0;
    case 'R':
    case 'r':
    case 'D':
    case 'd':
    case 'P':
    case 'p':
    case 'F':
    case 'f':
        return n >= 3 && (code_is(e - 3, "eur") || code_is(e - 3, "usd") || code_is(e - 3, "gbp") ||
                          code_is(e - 3, "chf"))
                   ? 3
                   : 0;
    default:
        return 0;
    }
}

static bool is_unicode_minus(const unsigned char *p, const unsigned char *e)
{
    return e - p >= 3 && p[0] == 0xE2 && p[1] == 0x88 && p[2] == 0x92; /* U+2212 */
}

/* Everything the fast path does not take: Excel's errors, then the
 * wrappers around a number peeled off one at a time, each at most once —
 * accountants' parentheses, a trailing minus, a Unicode minus, a currency
 * sign or code on either side, a trailing '%' — and the plain syntax of
 * number_core on what is left. One negative mark at most: "(-5)" is bad
 * input, not a double negation. */
KPI_COLD static int number_slow(const unsigned char *p, const unsigned char *e, char decimal,
                                double *out)
{
    if (*p == '#')
        return is_excel_error(p, e) ? 1 : KPI_EINPUT;
    /* the "no value" tokens were taken by ingest_number_n */
    int negs = 0;
    bool paren = false, currency = false, percent = false, trailing = false;
    for (;;) {
        size_t n;
        p = (const unsigned char *)ingest_trim((const char *)p, (size_t)(e - p), &n);
        e = p + n;
        if (n == 0)
            return KPI_EINPUT;
        if (!paren && n >= 2 && p[0] == '(' && e[-1] == ')') {
            paren = true;
            negs++;
            p++;
            e--;
        } else if (!currency && (n = currency_prefix(p, e)) != 0) {
            currency = true;
            p += n;
        } else if (!currency && !percent && (n = currency_suffix(p, e)) != 0) {
            currency = true;
            e -= n;
        } else if (!percent && !currency && e[-1] == '%') {
            percent = true;
            e--;
        } else if (!trailing && e - p >= 2 && e[-1] == '-') {
            trailing = true;
            negs++;
            e--;
        } else if (is_unicode_minus(p, e)) {
            negs++;
            p += 3;
        } else if (e - p >= 2 && *p == '-' && !is_digit(p[1]) && p[1] != '.' && p[1] != ',') {
            negs++; /* a sign before a currency or a parenthesis: "-€12" */
            p++;
        } else {
            break;
        }
    }
    if (negs > 1)
        return KPI_EINPUT;
    if (negs == 1 && (*p == '-' || *p == '+'))
        return KPI_EINPUT;
    int rc = number_core(p, e, decimal, out);
    if (rc != 0)
        return rc;
    if (negs == 1)
        *out = -*out;
    return 0;
}

int ingest_number_n(const char *text, size_t text_len, char decimal, double *out)
{
    *out = NAN;
    size_t len;
    const char *t = ingest_trim(text, text_len, &len);
    if (len == 0 || (len <= 4 && !is_digit((unsigned char)t[0]) && is_missing(t, len)))
        return 1;
    if (len > NUMBER_TEXT_MAX)
        return KPI_EINPUT;
    const unsigned char *p = (const unsigned char *)t, *e = p + len;
    /* fast path, most cells: [-]DIGITS[.DIGITS] with up to 15 digits. The
     * result is number_core's (sig <= 15 digits, exp10 >= -15). */
    {
        const unsigned char *q = p;
        const unsigned char point = (unsigned char)(decimal == ',' ? ',' : '.');
        bool neg = *q == '-';
        q += neg || *q == '+';
        uint64_t m = 0;
        size_t nd = 0, frac = 0;
        bool seen_point = false;
        for (; q < e; q++) {
            unsigned d = (unsigned)*q - '0';
            if (d < 10) {
                m = m * 10 + d;
                nd++;
                frac += seen_point;
            } else if (*q == point && !seen_point) {
                seen_point = true;
            } else {
                break;
            }
        }
        if (q == e && nd >= 1 && nd <= 15) {
            double v = (double)m / pow10_exact[frac];
            *out = neg ? -v : v;
            return 0;
        }
    }
    int rc = number_slow(p, e, decimal, out);
    if (rc != 0 && rc != 1)
        *out = NAN;
    return rc;
}

/* [-]DIGITS[.DIGITS] of at most 8 bytes after the sign, read as one word:
 * the point is cut out, the digits checked and combined by multiplications
 * that each join neighbouring groups (1+1 digits, 2+2, 4+4). The result is
 * the general fast path's (m / 10^frac, one correctly rounded division).
 * False for anything else, which the caller reads byte by byte. */
static bool plain_number_word(const char *t, size_t len, char point, double *out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    bool neg = t[0] == '-';
    t += neg;
    len -= neg;
    if (len == 0 || len > 8)
        return false;
    const uint64_t ones = 0x0101010101010101ull, zeros = ones * '0';
    uint64_t w;
    memcpy(&w, t, 8);
    if (len < 8)
        w &= ((uint64_t)1 << (8 * len)) - 1;
    /* the first byte equal to point (bytes past len are 0, never point) */
    uint64_t x = w ^ (ones * (unsigned char)point);
    uint64_t hit = (x - ones) & ~x & (ones << 7);
    size_t frac = 0;
    if (hit != 0) {
        unsigned k = (unsigned)__builtin_ctzll(hit) / 8;
        uint64_t low = w & (((uint64_t)1 << (8 * k)) - 1);
        uint64_t high = k == 7 ? 0 : (w >> (8 * (k + 1))) << (8 * k);
        w = low | high;
        frac = len - k - 1;
        if (--len == 0)
            return false;
    }
    /* leading '0's make eight digits, the first one in the low byte */
    if (len < 8)
        w = (w << (8 * (8 - len))) | (zeros >> (8 * len));
    const uint64_t high_nibbles = ones * 0xF0;
    if ((w & high_nibbles) != zeros || ((w + ones * 6) & high_nibbles) != zeros)
        return false; /* a byte that is not a digit (a second point...) */
    w &= ones * 0x0F;
    w = (w * (10 * 256 + 1)) >> 8;
    w = ((w & 0x00FF00FF00FF00FFull) * (100 * 65536 + 1)) >> 16;
    w = ((w & 0x0000FFFF0000FFFFull) * (10000 * 4294967296ull + 1)) >> 32;
    double v = (double)w / pow10_exact[frac];
    *out = neg ? -v : v;
    return true;
#else
    (void)t;
    (void)len;
    (void)point;
    (void)out;
    return false;
#endif
}

int ingest_number_field(const char *text, size_t len, char decimal, double *out)
{
    if (len > 0 && len <= 9 && plain_number_word(text, len, decimal == ',' ? ',' : '.', out))
        return 0;
    return ingest_number_n(text, len, decimal, out);
}

int ingest_parse_number(const char *text, char decimal, double *out)
{
    return ingest_number_n(text, strlen(text), decimal, out);
}

/* What the settings make of a decimal separator, for messages:
 * "with ';' the decimal separator is ','". */
static void settings_phrase(char decimal, char delimiter, bool forced, char *buf, size_t cap)
{
    if (forced)
        snprintf(buf, cap, "with --decimal %c the decimal separator is '%c'", decimal, decimal);
    else
        snprintf(buf, cap, "with %s%s%s the decimal separator is '%c'",
                 delimiter == '\t' ? "" : "'", delimiter == '\t' ? "TAB" : (char[]){delimiter, 0},
                 delimiter == '\t' ? "" : "'", decimal);
}

void ingest_number_hint(const char *text, char decimal, char delimiter, bool forced, char *buf,
                        size_t cap)
{
    char settings[80];
    settings_phrase(decimal, delimiter, forced, settings, sizeof settings);
    const char *dot = strchr(text, '.'), *comma = strchr(text, ',');
    bool has_digit = strpbrk(text, "0123456789") != NULL;
    if (decimal == ',' && dot != NULL && comma != NULL && dot < comma)
        snprintf(buf, cap,
                 "%s, and a '.' between thousands is never guessed (1.234 may mean 1234 or "
                 "1,234): remove the dots (1234,50 or 1 234,50)",
                 settings);
    else if (decimal == ',' && dot != NULL && comma != NULL)
        snprintf(buf, cap,
                 "%s; this looks like 1,234.50 with ',' between thousands: remove the commas and "
                 "use --decimal .",
                 settings);
    else if (decimal == ',' && dot != NULL && has_digit)
        snprintf(buf, cap, "%s; use --decimal . if this file writes 1234.50", settings);
    else if (decimal == '.' && comma != NULL && dot != NULL && comma < dot)
        snprintf(buf, cap,
                 "%s, and a ',' between thousands is never guessed (1,234 may mean 1234 or "
                 "1.234): remove the commas (1234.50)",
                 settings);
    else if (decimal == '.' && comma != NULL && dot != NULL)
        snprintf(buf, cap,
                 "%s; this looks like 1 234,50 with '.' between thousands: remove the dots and "
                 "use --decimal ,",
                 settings);
    else if (decimal == '.' && comma != NULL && has_digit)
        snprintf(buf, cap, "%s; use --decimal , if this file writes 1234,50", settings);
    else
        snprintf(buf, cap,
                 "expected a number (%s): %s, -3, (%s), 12 %%, 1e6; empty, NA or #N/A for no "
                 "value",
                 settings, decimal == ',' ? "1 234,50" : "1234.50",
                 decimal == ',' ? "1 234,50" : "1234.50");
}
