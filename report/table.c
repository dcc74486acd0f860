/* Tables of text cells, written as aligned columns or as RFC 4180 CSV. */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

struct report_table {
    size_t columns;
    char **headers;
    bool *numeric;
    char **cells; /* rows * columns, row-major */
    size_t rows;
    size_t cap_rows;
};

int report_format_parse(const char *text, enum report_format *out)
{
    static const char *const names[] = {"table", "csv", "json"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum report_format)i;
            return 0;
        }
    }
    return KPI_EUSAGE;
}

static char *copy_text(const char *s)
{
    return strdup(s ? s : "");
}

struct report_table *report_table_new(size_t columns, const char *const *headers,
                                      const bool *numeric)
{
    struct report_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->columns = columns;
    t->headers = calloc(columns, sizeof *t->headers);
    t->numeric = calloc(columns, sizeof *t->numeric);
    if (t->headers == NULL || t->numeric == NULL) {
        report_table_free(t);
        return NULL;
    }
    for (size_t c = 0; c < columns; c++) {
        t->headers[c] = copy_text(headers[c]);
        t->numeric[c] = numeric ? numeric[c] : false;
        if (t->headers[c] == NULL) {
            report_table_free(t);
            return NULL;
        }
    }
    return t;
}

void report_table_free(struct report_table *t)
{
    if (t == NULL)
        return;
    for (size_t c = 0; t->headers && c < t->columns; c++)
        free(t->headers[c]);
    for (size_t i = 0; i < t->rows * t->columns; i++)
        free(t->cells[i]);
    free(t->headers);
    free(t->numeric);
    free(t->cells);
    free(t);
}

int report_table_add(struct report_table *t, const char *const *cells)
{
    if (t->rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
        char **grown = realloc(t->cells, cap * t->columns * sizeof *grown);
        if (grown == NULL)
            return KPI_ESYSTEM;
        t->cells = grown;
        t->cap_rows = cap;
    }
    char **row = t->cells + t->rows * t->columns;
    for (size_t c = 0; c < t->columns; c++) {
        row[c] = copy_text(cells[c]);
        if (row[c] == NULL) {
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return KPI_ESYSTEM;
        }
    }
    t->rows++;
    return 0;
}

/* Width on a terminal: UTF-8 continuation bytes and colour escapes
 * (ESC [ ... m) take no column. */
static size_t text_width(const char *s)
{
    size_t width = 0;
    while (*s) {
        if (*s == '\033' && s[1] == '[') {
            s += 2;
            while (*s && *s != 'm')
                s++;
            if (*s)
                s++;
            continue;
        }
        if (((unsigned char)*s & 0xC0) != 0x80)
            width++;
        s++;
    }
    return width;
}

void report_csv_field(FILE *out, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void write_csv_row(FILE *out, char *const *cells, size_t columns)
{
    for (size_t c = 0; c < columns; c++) {
        if (c)
            fputc(',', out);
        report_csv_field(out, cells[c]);
    }
    fputc('\n', out);
}

static void write_padded(FILE *out, const char *text, size_t width, bool right, bool last)
{
    size_t pad = width - text_width(text);
    if (right)
        fprintf(out, "%*s", (int)pad, "");
    fputs(text, out);
    if (!right && !last)
        fprintf(out, "%*s", (int)pad, "");
}

static void write_aligned_row(FILE *out, const struct report_table *t, char *const *cells,
                              const size_t *widths)
{
    for (size_t c = 0; c < t->columns; c++) {
        if (c)
            fputs("  ", out);
        write_padded(out, cells[c], widths[c], t->numeric[c], c + 1 == t->columns);
    }
    fputc('\n', out);
}

int report_table_write(const struct report_table *t, enum report_format format, FILE *out)
{
    if (format == REPORT_CSV) {
        write_csv_row(out, t->headers, t->columns);
        for (size_t r = 0; r < t->rows; r++)
            write_csv_row(out, t->cells + r * t->columns, t->columns);
    } else {
        size_t *widths = calloc(t->columns, sizeof *widths);
        if (widths == NULL)
            return KPI_ESYSTEM;
        for (size_t c = 0; c < t->columns; c++)
            widths[c] = text_width(t->headers[c]);
        for (size_t i = 0; i < t->rows * t->columns; i++) {
            size_t w = text_width(t->cells[i]);
            if (w > widths[i % t->columns])
                widths[i % t->columns] = w;
        }
        write_aligned_row(out, t, t->headers, widths);
        for (size_t r = 0; r < t->rows; r++)
            write_aligned_row(out, t, t->cells + r * t->columns, widths);
        free(widths);
    }
    return ferror(out) ? KPI_ESYSTEM : 0;
}
