/*
 * libcsv, driven in 64 KiB chunks, turned into a pull reader of records.
 *
 * libcsv pushes fields and rows through callbacks for a whole chunk, so the
 * records of one chunk are queued (their bytes in one arena, no allocation
 * per field) and handed out one by one; when the queue is empty the arena is
 * compacted down to the record still in progress and the next chunk is
 * parsed. Memory is bounded by the chunk and the longest record.
 *
 * Physical lines: libcsv has no position API. CSV_REPALL_NL makes it report
 * every line terminator (a CRLF gives a '\r' row then an empty '\n' row, a
 * blank line an empty row), so counting '\n' rows plus the '\n' inside
 * quoted fields gives the physical line of every record. Fields can only
 * hold a line break after a '"' occurred, so files without quotes never pay
 * for the newline count. Syntax errors give a byte offset: its line is found
 * by rereading the file (the error is fatal, so this happens once).
 */
#include "ingest/ingest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* libcsv's parser states (csv_parser.pstate), to tell its strict errors apart */
enum { CSV_STATE_FIELD_BEGUN = 2, CSV_STATE_FIELD_MIGHT_HAVE_ENDED = 3 };

/* Grow the array whose pointer is at pp (any object pointer type) to hold
 * need elements of size bytes. False when out of memory (array unchanged). */
static bool grow(void *pp, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = realloc(p, n * size);
    if (q == NULL)
        return false;
    memcpy(pp, &q, sizeof q);
    *cap = n;
    return true;
}

static void fatal(struct csvr *c, unsigned long line, size_t col, const char *msg)
{
    if (c->fatal || c->oom)
        return;
    c->fatal = true;
    ingest_fail_at(&c->fatal_err, KPI_EINPUT, c->name, line, col, "%s", msg);
}

static unsigned long count_nl(const char *s, size_t len)
{
    unsigned long n = 0;
    const char *end = s + len;
    while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
        n++;
        s++;
    }
    return n;
}

/* Copy a quoted field that holds line breaks; a CRLF inside it is read as
 * LF. Returns the length copied. */
static size_t copy_crlf_as_lf(char *dst, const char *src, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r' && i + 1 < len && src[i + 1] == '\n')
            continue;
        dst[out++] = src[i];
    }
    return out;
}

/* Copy 1 to 16 bytes as two fixed-size copies that may overlap (each
 * compiles to one load and one store): most fields are short, and both a
 * call to memcpy and a byte loop cost more than the field's parsing. */
static inline void copy_short(char *dst, const char *src, size_t len)
{
    if (len >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + len - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + len - 8, &b, 8);
    } else if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + len - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + len - 4, &b, 4);
    } else {
        dst[0] = src[0];
        dst[len / 2] = src[len / 2];
        dst[len - 1] = src[len - 1];
    }
}

/* Called for every field: keep it cheap. The limits and growth are one
 * unlikely branch; memory for the field is reserved before the copy. */
static void on_field(void *s, size_t len, void *data)
{
    struct csvr *c = data;
    if (c->fatal || c->oom)
        return;
    if (c->cur_count == 0)
        c->cur_line = c->line;
    if (c->cur_count >= INGEST_MAX_FIELDS || len > INGEST_MAX_FIELD ||
        c->arena_len + len + 1 + INGEST_FIELD_SLACK > c->arena_cap || c->nfields == c->fields_cap) {
        size_t col = c->cur_count + 1;
        if (c->cur_count >= INGEST_MAX_FIELDS) {
            fatal(c, c->cur_line, col, "record has more than 10000 fields");
            return;
        }
        if (len > INGEST_MAX_FIELD) {
            fatal(c, c->line, col, "field longer than 1 MiB");
            return;
        }
        if (c->arena_len - c->cur_bytes + len + 1 > INGEST_MAX_RECORD) {
            fatal(c, c->cur_line, col, "record longer than 16 MiB");
            return;
        }
        if (!grow(&c->arena, &c->arena_cap, c->arena_len + len + 1 + INGEST_FIELD_SLACK, 1) ||
            !grow(&c->fields, &c->fields_cap, c->nfields + 1, sizeof *c->fields)) {
            c->oom = true;
            return;
        }
    }
    char *dst = c->arena + c->arena_len;
    size_t out = len;
    if (len > 0) {
        const char *src = s;
        if (c->quotes_seen && memchr(src, '\n', len) != NULL) {
            c->line += count_nl(src, len);
            out = copy_crlf_as_lf(dst, src, len);
        } else if (len <= 16) {
            copy_short(dst, src, len);
        } else {
            memcpy(dst, src, len);
        }
        c->cur_nonempty = true;
    }
    dst[out] = '\0';
    c->fields[c->nfields].off = c->arena_len;
    c->fields[c->nfields].len = out;
    c->nfields++;
    c->arena_len += out + 1;
    c->cur_count++;
}

static void on_row(int term, void *data)
{
    struct csvr *c = data;
    if (c->fatal || c->oom)
        return;
    if (c->cur_count > 0) {
        if (c->cur_nonempty) {
            if (c->nrecs == c->recs_cap &&
                !grow(&c->recs, &c->recs_cap, c->nrecs + 1, sizeof *c->recs)) {
                c->oom = true;
                return;
            }
            c->recs[c->nrecs].first = c->cur_first;
            c->recs[c->nrecs].count = c->cur_count;
            c->recs[c->nrecs].line = c->cur_line;
            c->nrecs++;
        } else {
            /* every field empty (";;;" from a spreadsheet): a blank line */
            c->nfields = c->cur_first;
            c->arena_len = c->cur_bytes;
        }
        c->cur_first = c->nfields;
        c->cur_bytes = c->arena_len;
        c->cur_count = 0;
        c->cur_nonempty = false;
    }
    if (term == '\n')
        c->line++;
}

int csvr_init(struct csvr *c, struct ingest_source *src, const char *name, char delimiter,
              struct kpi_error *err)
{
    memset(c, 0, sizeof *c);
    c->src = src;
    c->name = name;
    c->delimiter = delimiter;
    c->line = 1;
    c->chunk = malloc(INGEST_CHUNK);
    if (c->chunk == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
    if (csv_init(&c->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL |
                                 CSV_REPALL_NL) != 0) {
        free(c->chunk);
        c->chunk = NULL;
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
    }
    c->parser_ready = true;
    return 0;
}

void csvr_free(struct csvr *c)
{
    if (c->parser_ready)
        csv_free(&c->parser);
    free(c->chunk);
    free(c->arena);
    free(c->fields);
    free(c->recs);
    free(c->ptrs);
    free(c->lens);
    free(c->dec);
    memset(c, 0, sizeof *c);
}

/* Drop the records handed out; keep the record in progress. */
static void compact(struct csvr *c)
{
    size_t nf = c->nfields - c->cur_first;
    size_t nb = c->arena_len - c->cur_bytes;
    if (c->cur_first > 0) {
        memmove(c->fields, c->fields + c->cur_first, nf * sizeof *c->fields);
        for (size_t i = 0; i < nf; i++)
            c->fields[i].off -= c->cur_bytes;
    }
    if (c->cur_bytes > 0)
        memmove(c->arena, c->arena + c->cur_bytes, nb);
    c->nfields = nf;
    c->arena_len = nb;
    c->cur_first = 0;
    c->cur_bytes = 0;
    c->nrecs = 0;
    c->head = 0;
}

static void syntax_error(struct csvr *c, uint64_t offset)
{
    const char *msg;
    if (csv_error(&c->parser) != CSV_EPARSE)
        msg = csv_strerror(csv_error(&c->parser));
    else if (c->parser.pstate == CSV_STATE_FIELD_MIGHT_HAVE_ENDED)
        msg = "text after a closing quote (expected a delimiter or the end of the line)";
    else if (c->parser.pstate == CSV_STATE_FIELD_BEGUN)
        msg = "quote inside an unquoted field (quote the whole field and double the quote)";
    else
        msg = "malformed CSV";
    fatal(c, source_line_at(c->src, offset), c->cur_count + 1, msg);
}

/* Parse the next chunk, or finish at the end of the input. */
static int fill(struct csvr *c, struct kpi_error *err)
{
    long n = source_read(c->src, c->chunk, INGEST_CHUNK);
    if (n < 0)
        return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "cannot read: %s", strerror(errno));
    if (n == 0) {
        c->eof = true;
        if (csv_fini(&c->parser, on_field, on_row, c) != 0 && !c->fatal)
            fatal(c, c->line, c->cur_count + 1, "unterminated quoted field");
        return 0;
    }
    size_t len = (size_t)n;
    uint64_t chunk_off = c->src->offset - len;
    int rc = source_scan(c->src, c->chunk, len, chunk_off, c->name, err);
    if (rc != 0)
        return rc;
    if (c->delimiter == 0)
        c->delimiter = ingest_detect_delimiter(c->chunk, len);
    csv_set_delim(&c->parser, (unsigned char)c->delimiter);
    if (!c->quotes_seen && memchr(c->chunk, '"', len) != NULL)
        c->quotes_seen = true;
    size_t done = csv_parse(&c->parser, c->chunk, len, on_field, on_row, c);
    if (done != len)
        syntax_error(c, chunk_off + done);
    else if (csv_get_buffer_size(&c->parser) > INGEST_MAX_FIELD + INGEST_CHUNK)
        fatal(c, c->line, c->cur_count + 1, "field longer than 1 MiB");
    return 0;
}

static int decode_error(struct csvr *c, const struct csvr_rec *rec, size_t i, size_t bad,
                        const char *msg, struct kpi_error *err)
{
    const struct csvr_field *f = c->fields + rec->first;
    unsigned long line = rec->line;
    for (size_t k = 0; k < i; k++)
        line += count_nl(c->arena + f[k].off, f[k].len);
    line += count_nl(c->arena + f[i].off, bad);
    return ingest_fail_at(err, KPI_EINPUT, c->name, line, i + 1, "%s", msg);
}

static int decode(struct csvr *c, const struct csvr_rec *rec, struct csvr_out *out,
                  struct kpi_error *err)
{
    size_t n = rec->count;
    if (n > c->ptrs_cap) {
        size_t cap = c->ptrs_cap, cap2 = c->ptrs_cap;
        if (!grow(&c->ptrs, &cap, n, sizeof *c->ptrs) || !grow(&c->lens, &cap2, n, sizeof *c->lens))
            return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
        c->ptrs_cap = cap;
    }
    const struct csvr_field *f = c->fields + rec->first;
    out->line = rec->line;
    out->fields = c->ptrs;
    out->lens = c->lens;
    if (c->src->encoding == INGEST_ENCODING_UTF8) {
        bool check_utf8 = !c->src->utf8_valid, check_nul = c->src->maybe_nul;
        for (size_t i = 0; i < n; i++) {
            const char *p = c->arena + f[i].off;
            size_t bad;
            const char *z;
            if (check_nul && (z = memchr(p, '\0', f[i].len)) != NULL)
                return decode_error(c, rec, i, (size_t)(z - p), "NUL byte", err);
            if (check_utf8 && !ingest_utf8_check(p, f[i].len, &bad)) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "invalid UTF-8 (byte 0x%02X); if the file is Windows-1252, give "
                         "--encoding cp1252",
                         (unsigned)(unsigned char)p[bad]);
                return decode_error(c, rec, i, bad, msg, err);
            }
            c->ptrs[i] = p;
            c->lens[i] = f[i].len;
        }
        out->count = n;
        out->bytes = f[n - 1].off + f[n - 1].len + 1 - f[0].off;
        return 0;
    }
    size_t raw = f[n - 1].off + f[n - 1].len + 1 - f[0].off; /* <= 16 MiB */
    if (raw * 3 + INGEST_FIELD_SLACK > c->dec_cap) {
        char *d = realloc(c->dec, raw * 3 + INGEST_FIELD_SLACK);
        if (d == NULL)
            return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
        c->dec = d;
        c->dec_cap = raw * 3 + INGEST_FIELD_SLACK;
    }
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = c->arena + f[i].off;
        size_t bad = 0;
        size_t len = ingest_cp1252_decode(p, f[i].len, c->dec + pos, &bad);
        if (len == (size_t)-1) {
            char msg[80];
            if (p[bad] == '\0')
                snprintf(msg, sizeof msg, "NUL byte");
            else
                snprintf(msg, sizeof msg, "byte 0x%02X is undefined in Windows-1252",
                         (unsigned)(unsigned char)p[bad]);
            return decode_error(c, rec, i, bad, msg, err);
        }
        c->ptrs[i] = c->dec + pos;
        c->lens[i] = len;
        c->dec[pos + len] = '\0';
        pos += len + 1;
    }
    out->count = n;
    out->bytes = pos;
    return 0;
}

int csvr_next(struct csvr *c, struct csvr_out *out, struct kpi_error *err)
{
    out->count = 0;
    out->line = 0;
    while (c->head == c->nrecs) {
        if (c->oom) {
            c->finished = true;
            return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
        }
        if (c->fatal) {
            c->fatal = false;
            c->finished = true;
            if (err != NULL)
                *err = c->fatal_err;
            return KPI_EINPUT;
        }
        if (c->finished)
            return 0;
        if (c->eof) {
            c->finished = true;
            continue;
        }
        compact(c);
        int rc = fill(c, err);
        if (rc != 0) {
            c->finished = true;
            return rc;
        }
    }
    const struct csvr_rec *rec = &c->recs[c->head++];
    int rc = decode(c, rec, out, err);
    return rc == 0 ? 1 : rc;
}
