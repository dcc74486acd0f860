/* Identifiers, UTF-8 validity, folding and slugs (SPEC §2): see common.h. */
#include "common/common.h"

#include <string.h>

bool kpi_id_valid(const char *s)
{
    if (!s)
        return false;
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
        if (i >= KPI_ID_MAX)
            return false;
    }
    return i > 0;
}

/* Decode one UTF-8 character of s[0..len) (len >= 1) into *cp. Returns its
 * length in bytes, or 0 when the bytes there are not strict UTF-8: overlong
 * forms, surrogates, code points above U+10FFFF and truncated sequences are
 * all rejected. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

bool kpi_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Folding tables. One letter per code point; upper-case markers stand for
 * two letters: A = "ae", O = "oe", T = "th", S = "ss", J = "ij"; '*' means
 * "not a letter, copy unchanged" (U+00D7 and U+00F7). */
static const char latin1[] = /* U+00C0 .. U+00FF */
    "aaaaaaAceeeeiiiidnooooo*ouuuuyTS"
    "aaaaaaAceeeeiiiidnooooo*ouuuuyTy";
static const char latin_ext_a[] = /* U+0100 .. U+017F */
    "aaaaaa"
    "cccccccc"
    "dddd"
    "eeeeeeeeee"
    "gggggggg"
    "hhhh"
    "iiiiiiiiii"
    "JJ"
    "jj"
    "kkk"
    "llllllllll"
    "nnnnnnnnn"
    "oooooo"
    "OO"
    "rrrrrr"
    "ssssssss"
    "tttttt"
    "uuuuuuuuuuuu"
    "ww"
    "yyy"
    "zzzzzz"
    "s";
_Static_assert(sizeof latin1 == 64 + 1, "one entry per code point U+00C0..U+00FF");
_Static_assert(sizeof latin_ext_a == 128 + 1, "one entry per code point U+0100..U+017F");

/* The ASCII folding of a code point into out (up to 2 bytes); 0 when it has
 * none (the character is kept as it is). */
static size_t fold_cp(uint32_t cp, char out[2])
{
    char f = 0;
    if (cp >= 'A' && cp <= 'Z')
        f = (char)(cp - 'A' + 'a');
    else if (cp < 0x80)
        f = (char)cp;
    else if (cp >= 0xC0 && cp <= 0xFF)
        f = latin1[cp - 0xC0];
    else if (cp >= 0x100 && cp <= 0x17F)
        f = latin_ext_a[cp - 0x100];
    else if (cp == 0x218 || cp == 0x219) /* Romanian S and T with comma below */
        f = 's';
    else if (cp == 0x21A || cp == 0x21B)
        f = 't';
    static const char pairs[][3] = {
        {'A', 'a', 'e'}, {'O', 'o', 'e'}, {'T', 't', 'h'}, {'S', 's', 's'}, {'J', 'i', 'j'}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (f == pairs[i][0] && cp >= 0x80) {
            out[0] = pairs[i][1];
            out[1] = pairs[i][2];
            return 2;
        }
    }
    if (f == 0 || f == '*')
        return 0;
    out[0] = f;
    return 1;
}

/* Blanks trimmed around names: ASCII white space, U+00A0 (no-break space),
 * U+2007 (figure space) and U+202F (narrow no-break space, French thousands). */
static bool is_blank_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\v' || cp == '\f' ||
           cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
}

/* One step over text: the next character and its length. Bytes that are not
 * valid UTF-8 are taken one at a time, as code point 0xFFFFFFFF (no fold). */
static size_t next_char(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t n = utf8_decode(s, len, cp);
    if (n == 0) {
        *cp = UINT32_MAX;
        n = 1;
    }
    return n;
}

size_t kpi_fold(const char *in, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)in;
    size_t len = strlen(in);
    /* The span [start, end) without leading and trailing blanks. */
    size_t start = len, end = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = next_char(s + i, len - i, &cp);
        if (!is_blank_cp(cp)) {
            if (start == len)
                start = i;
            end = i + n;
        }
        i += n;
    }
    size_t w = 0;
    for (size_t i = start; i < end;) {
        uint32_t cp;
        size_t n = next_char(s + i, end - i, &cp);
        char folded[2];
        size_t fn = fold_cp(cp, folded);
        const char *piece = fn ? folded : (const char *)s + i;
        size_t piece_len = fn ? fn : n;
        if (w + piece_len > cap - 1) /* truncate on a character boundary */
            break;
        memcpy(out + w, piece, piece_len);
        w += piece_len;
        i += n;
    }
    out[w] = '\0';
    return w;
}

size_t kpi_slugify(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t len = strlen(in);
    size_t w = 0;
    bool pending_dash = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = next_char(s + i, len - i, &cp);
        i += n;
        char folded[2];
        size_t fn = fold_cp(cp, folded);
        for (size_t k = 0; k < fn; k++) {
            char c = folded[k];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                pending_dash = true;
                continue;
            }
            /* A run of separators between letters becomes one '-'; none
             * leads, and none trails: a dash is written only with the letter
             * after it, and only if both fit in KPI_ID_MAX. */
            size_t need = (pending_dash && w > 0) ? 2 : 1;
            if (w + need > KPI_ID_MAX)
                goto done;
            if (need == 2)
                out[w++] = '-';
            out[w++] = c;
            pending_dash = false;
        }
        if (fn == 0)
            pending_dash = true;
    }
done:
    out[w] = '\0';
    return w;
}
