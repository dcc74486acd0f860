/* The public reader of ingest.h over source, csvread, header and row. */
#include "ingest/ingest_int.h"

#include <stdlib.h>
#include <string.h>

int ingest_fail_at(struct kpi_error *err, enum kpi_status code, const char *name,
                   unsigned long line, size_t col, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    int n;
    if (line == 0)
        n = snprintf(err->message, sizeof err->message, "%s: ", name);
    else if (col == 0)
        n = snprintf(err->message, sizeof err->message, "%s:%lu: ", name, line);
    else
        n = snprintf(err->message, sizeof err->message, "%s:%lu:%zu: ", name, line, col);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used >= sizeof err->message)
        used = sizeof err->message - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + used, sizeof err->message - used, fmt, ap);
    va_end(ap);
    return code;
}

char *ingest_quote(const char *text, char *buf, size_t cap)
{
    const size_t keep = cap - 4 < 40 ? cap - 4 : 40;
    size_t n = 0, i = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (s[i] != '\0' && n < keep) {
        size_t len = 1;
        if (s[i] >= 0xC0)
            while ((s[i + len] & 0xC0) == 0x80)
                len++;
        if (n + len > keep)
            break;
        if (s[i] < 0x20 || s[i] == 0x7F) {
            buf[n] = '?';
        } else {
            memcpy(buf + n, s + i, len);
        }
        n += s[i] < 0x20 || s[i] == 0x7F ? 1 : len;
        i += len;
    }
    if (s[i] != '\0') {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* Copy text (NULL: none) with the slack of a cell's texts. */
static int fixed_ref_set(struct fixed_ref *f, const char *text)
{
    if (text == NULL)
        return 0;
    f->len = strlen(text);
    f->text = calloc(1, f->len + 1 + INGEST_FIELD_SLACK);
    if (f->text == NULL)
        return KPI_ESYSTEM;
    memcpy(f->text, text, f->len);
    return 0;
}

/* Lines in which a header is looked for when line 1 is a title. */
#define HEADER_SEARCH_LINES 10

/* The record at the reader's position as the header: 1 when it fits,
 * 0 at the end of the file, a negative status otherwise. */
static int try_header(struct ingest_reader *r, struct csvr_out *hdr, struct kpi_error *err)
{
    int rc = csvr_header(&r->csv, hdr, err);
    if (rc != 1)
        return rc;
    char decimal = '.';
    if (r->opts.decimal != 0)
        decimal = r->opts.decimal;
    else if (r->csv.delimiter == ';')
        decimal = ',';
    r->decimal = decimal;
    rc = header_setup(r, hdr, err);
    return rc == 0 ? 1 : rc;
}

/* "\"a\", \"b\", \"\"" from the header cells, for a message. */
static void describe_cells(const struct ingest_reader *r, char *buf, size_t cap)
{
    size_t w = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->ncols && w + 8 < cap; i++) {
        char q[48];
        int n = snprintf(buf + w, cap - w, "%s\"%s\"", i ? ", " : "",
                         ingest_quote(r->hdr[i], q, sizeof q));
        if (n < 0 || (size_t)n >= cap - w) {
            buf[w] = '\0';
            snprintf(buf + w, cap - w, ", ...");
            return;
        }
        w += (size_t)n;
    }
}

/* Find and set up the header (SPEC §4): line 1, or --header-line, or when
 * line 1 is a title (no cell of it takes a role, and it fits no kind of
 * file) the first of the next 9 lines that is a header, each read with the
 * delimiter detected on that line. */
static int read_header(struct ingest_reader *r, struct kpi_error *err)
{
    struct csvr_out hdr;
    if (r->opts.header_line > 1)
        r->csv.skip = r->opts.header_line - 1;
    int rc = try_header(r, &hdr, err);
    if (rc == 1)
        return 0;
    if (rc == 0 && r->opts.header_line > 1)
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0, "no header at or after line %lu",
                              r->opts.header_line);
    if (rc == 0)
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0, "empty file (no header)");
    if ((rc != KPI_EINPUT && rc != KPI_EUSAGE) || r->opts.header_line != 0 || r->has_role ||
        r->ncols == 0)
        return rc;
    /* line 1 may be a title: keep what it says for the message */
    struct kpi_error first = *err;
    unsigned long first_line = r->header_line;
    char found[200];
    describe_cells(r, found, sizeof found);
    char delim = r->csv.delimiter;
    unsigned long last = first_line;
    for (unsigned long line = first_line + 1; line <= HEADER_SEARCH_LINES; line++) {
        header_reset(r);
        if ((rc = csvr_rewind(&r->csv, line - 1, err)) != 0)
            return rc;
        struct kpi_error why;
        rc = try_header(r, &hdr, &why);
        if (rc == 1 && r->header_line <= HEADER_SEARCH_LINES)
            return 0;
        /* a header that needs an option (a periods file without --kind) is
         * the header: its own message says what to add */
        if (rc == KPI_ESYSTEM || (rc == KPI_EUSAGE && r->header_line <= HEADER_SEARCH_LINES)) {
            *err = why;
            return rc;
        }
        if (rc == 0 || r->header_line > HEADER_SEARCH_LINES)
            break;
        if (r->header_line > line)
            line = r->header_line; /* blank lines between were skipped */
        last = line;
    }
    /* none: line 1's own error, what line 1 holds, and where else we looked */
    const char *msg = first.message;
    size_t prefix = strlen(r->name);
    if (strncmp(msg, r->name, prefix) == 0 && msg[prefix] == ':') {
        msg += prefix + 1;
        while (*msg >= '0' && *msg <= '9')
            msg++;
        if (*msg == ':')
            msg++;
        while (*msg == ' ')
            msg++;
    }
    char d[4] = {delim, 0}, more[120] = "";
    if (last == first_line + 1)
        snprintf(more, sizeof more,
                 "; line %lu is no header either (--header-line N reads it from line N)", last);
    else if (last > first_line)
        snprintf(more, sizeof more,
                 "; lines %lu to %lu are no header either (--header-line N reads it from line N)",
                 first_line + 1, last);
    return ingest_fail_at(err, first.code, r->name, first_line, 0,
                          "%s; line %lu reads %s (delimiter %s)%s", msg, first_line, found,
                          delim == '\t' ? "TAB" : d, more);
}

int ingest_open(const char *path, const char *display_name, const struct ingest_options *opts,
                struct ingest_reader **out, struct kpi_error *err)
{
    *out = NULL;
    static const struct ingest_options none = {0};
    if (opts == NULL)
        opts = &none;
    const char *name = display_name ? display_name : strcmp(path, "-") == 0 ? "stdin" : path;
    if (opts->delimiter == '"' || opts->delimiter == '\n' || opts->delimiter == '\r')
        return ingest_fail_at(err, KPI_EUSAGE, name, 0, 0, "invalid --delimiter");
    if (opts->decimal != 0 && opts->decimal != '.' && opts->decimal != ',')
        return ingest_fail_at(err, KPI_EUSAGE, name, 0, 0, "--decimal must be . or ,");
    struct ingest_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->name = strdup(name)) == NULL) {
        free(r);
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
    }
    r->opts = *opts;
    r->src.fd = -1;
    int rc = source_open(&r->src, path, r->name, opts->encoding, err);
    if (rc == 0)
        rc = csvr_init(&r->csv, &r->src, r->name, opts->delimiter, err);
    if (rc == 0)
        rc = read_header(r, err);
    if (rc == 0 && (fixed_ref_set(&r->team_opt, opts->team) != 0 ||
                    fixed_ref_set(&r->kpi_opt, opts->kpi) != 0))
        rc = ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
    if (rc == 0) {
        r->cells_cap = r->ncols + 2;
        r->cells = calloc(r->cells_cap, sizeof *r->cells);
        if (r->cells == NULL)
            rc = ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
    }
    if (rc != 0) {
        ingest_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void ingest_close(struct ingest_reader *r)
{
    if (r == NULL)
        return;
    csvr_free(&r->csv);
    source_close(&r->src);
    header_reset(r);
    free(r->team_opt.text);
    free(r->kpi_opt.text);
    free(r->cells);
    free(r->scratch);
    free(r->name);
    free(r);
}

struct read_run {
    struct ingest_reader *r;
    const struct ingest_sink *sink;
    struct kpi_error *err;
};

/* A record from csvread: its row, to the sink. */
static int on_record(void *ctx, const struct csvr_out *rec, const struct kpi_error *bad)
{
    struct read_run *run = ctx;
    struct ingest_reader *r = run->r;
    if (bad != NULL) { /* a record that could not be decoded, or fatal CSV */
        struct ingest_row row = {.line = rec->line, .cells = r->cells};
        return run->sink->bad(run->sink->ctx, &row, bad);
    }
    struct ingest_row row; /* row_build fills what a sink may read */
    struct kpi_error why;
    int rc = row_build(r, rec, &row, &why);
    if (rc == KPI_ESYSTEM) {
        if (run->err != NULL)
            *run->err = why;
        return rc;
    }
    if (rc != 0)
        return run->sink->bad(run->sink->ctx, &row, &why);
    return run->sink->row(run->sink->ctx, &row);
}

int ingest_read(struct ingest_reader *r, const struct ingest_sink *sink, struct kpi_error *err)
{
    struct read_run run = {r, sink, err};
    return csvr_run(&r->csv, on_record, &run, err);
}

enum ingest_kind ingest_kind(const struct ingest_reader *r)
{
    return r->kind;
}

enum ingest_layout ingest_layout(const struct ingest_reader *r)
{
    return r->layout;
}

enum ingest_encoding ingest_encoding(const struct ingest_reader *r)
{
    return r->src.encoding;
}

char ingest_delimiter(const struct ingest_reader *r)
{
    return r->csv.delimiter;
}

unsigned long ingest_header_line(const struct ingest_reader *r)
{
    return r->header_line;
}

const char *ingest_display_name(const struct ingest_reader *r)
{
    return r->name;
}

size_t ingest_header_count(const struct ingest_reader *r)
{
    return r->ncols;
}

const char *ingest_header(const struct ingest_reader *r, size_t i)
{
    return i < r->ncols ? r->hdr[i] : NULL;
}

uint64_t ingest_bytes_read(const struct ingest_reader *r)
{
    return r->src.offset;
}

uint64_t ingest_bytes_total(const struct ingest_reader *r)
{
    return r->src.size;
}
