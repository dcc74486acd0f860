/*
 * The rejects file of an input (SPEC §4): its rejected records and their
 * errors, written the way the input was — its delimiter, encoding and line
 * end — so that the spreadsheet that made the file opens the rejects as is.
 * Fields are written as they were read, so numbers keep the input's decimal
 * separator. Windows-1252 input gives Windows-1252 rejects (a character
 * that Windows-1252 lacks, which only a message could hold, becomes '?');
 * UTF-16 input gives UTF-16 of the same byte order, with its BOM; UTF-8
 * input gives UTF-8, with a BOM when the input had one.
 */
#include "ingest/ingest_int.h"

#include <string.h>

/* Windows-1252 0x80..0x9F, as in source.c: the byte of each code point. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/* The next code point of UTF-8 text at *p (valid UTF-8: ingest's fields
 * and messages are), advancing *p. */
static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t cp;
    int n;
    if (s[0] < 0x80) {
        cp = s[0];
        n = 1;
    } else if (s[0] < 0xE0) {
        cp = s[0] & 0x1F;
        n = 2;
    } else if (s[0] < 0xF0) {
        cp = s[0] & 0x0F;
        n = 3;
    } else {
        cp = s[0] & 0x07;
        n = 4;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) { /* not UTF-8 after all: one byte */
            *p = s + 1;
            return '?';
        }
        cp = cp << 6 | (s[i] & 0x3F);
    }
    *p = s + n;
    return cp;
}

static void put_cp(FILE *out, enum ingest_encoding enc, uint32_t cp)
{
    switch (enc) {
    case INGEST_ENCODING_CP1252: {
        int byte = '?';
        if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
            byte = (int)cp;
        } else {
            for (int i = 0; i < 32; i++)
                if (cp1252_high[i] == cp)
                    byte = 0x80 + i;
        }
        fputc(byte, out);
        return;
    }
    case INGEST_ENCODING_UTF16LE:
    case INGEST_ENCODING_UTF16BE: {
        uint16_t units[2] = {(uint16_t)cp, 0};
        int n = 1;
        if (cp >= 0x10000) {
            units[0] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            units[1] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
            n = 2;
        }
        for (int i = 0; i < n; i++) {
            unsigned char b[2] = {(unsigned char)(units[i] & 0xFF), (unsigned char)(units[i] >> 8)};
            bool le = enc == INGEST_ENCODING_UTF16LE;
            fputc(le ? b[0] : b[1], out);
            fputc(le ? b[1] : b[0], out);
        }
        return;
    }
    default:
        break;
    }
}

/* UTF-8 text in the input's encoding. */
static void put_text(FILE *out, enum ingest_encoding enc, const char *text)
{
    if (enc != INGEST_ENCODING_CP1252 && enc != INGEST_ENCODING_UTF16LE &&
        enc != INGEST_ENCODING_UTF16BE) {
        fputs(text, out);
        return;
    }
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0')
        put_cp(out, enc, next_cp(&p));
}

/* One field, quoted when it holds the delimiter, a quote or a line break. */
static void put_field(FILE *out, enum ingest_encoding enc, char delim, const char *text)
{
    bool quote = strchr(text, delim) != NULL || strpbrk(text, "\"\r\n") != NULL;
    if (!quote) {
        put_text(out, enc, text);
        return;
    }
    put_text(out, enc, "\"");
    for (const char *p = text; *p != '\0';) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        char piece[256];
        while (n > 0) { /* put_text wants NUL-terminated pieces */
            size_t k = n < sizeof piece - 1 ? n : sizeof piece - 1;
            while (k < n && k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80)
                k--; /* never cut a character */
            memcpy(piece, p, k);
            piece[k] = '\0';
            put_text(out, enc, piece);
            p += k;
            n -= k;
        }
        if (q == NULL)
            break;
        put_text(out, enc, "\"\"");
        p = q + 1;
    }
    put_text(out, enc, "\"");
}

int ingest_rejects_header(const struct ingest_reader *r, FILE *out)
{
    enum ingest_encoding enc = r->src.encoding;
    char delim[2] = {r->csv.delimiter ? r->csv.delimiter : ',', 0};
    if (ftell(out) == 0) {
        if (enc == INGEST_ENCODING_UTF16LE)
            fputs("\xFF\xFE", out);
        else if (enc == INGEST_ENCODING_UTF16BE)
            fputs("\xFE\xFF", out);
        else if (enc == INGEST_ENCODING_UTF8 && r->src.bom)
            fputs("\xEF\xBB\xBF", out);
    }
    for (size_t i = 0; i < r->ncols; i++) {
        put_field(out, enc, delim[0], r->hdr[i]);
        put_text(out, enc, delim);
    }
    put_text(out, enc, "error");
    put_text(out, enc, r->csv.eol);
    return ferror(out) ? KPI_ESYSTEM : 0;
}

int ingest_rejects_row(const struct ingest_reader *r, FILE *out, const char *const *fields,
                       size_t count, const char *message)
{
    enum ingest_encoding enc = r->src.encoding;
    char delim[2] = {r->csv.delimiter ? r->csv.delimiter : ',', 0};
    /* a record without fields (its quoting broken) gets empty ones, so
     * that its message stays in the error column */
    size_t n = count > 0 ? count : r->ncols;
    for (size_t i = 0; i < n; i++) {
        put_field(out, enc, delim[0], i < count && fields[i] ? fields[i] : "");
        put_text(out, enc, delim);
    }
    put_field(out, enc, delim[0], message);
    put_text(out, enc, r->csv.eol);
    return ferror(out) ? KPI_ESYSTEM : 0;
}
