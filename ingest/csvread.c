/*
 * libcsv, driven in 64 KiB chunks, each record handed to a callback as soon
 * as libcsv completes it.
 *
 * libcsv pushes fields and rows through callbacks; the fields of the record
 * in progress are copied into an arena (libcsv reuses its buffer for the next
 * field) and, at the end of the record, decoded and handed to on_record while
 * they are still in the cache. There is no queue of records: memory is
 * bounded by the chunk and the longest record, and a record costs one copy.
 * The header is read alone: the first chunk is fed to libcsv one line at a
 * time until the first record ends, and the rest of it is parsed by csvr_run
 * once the caller knows what to do with records.
 *
 * Physical lines: libcsv has no position API. CSV_REPALL_NL makes it report
 * every line terminator (a CRLF gives a '\r' row then an empty '\n' row, a
 * blank line an empty row), so counting '\n' rows plus the '\n' inside
 * quoted fields gives the physical line of every record. Fields can only
 * hold a line break after a '"' occurred, so files without quotes never pay
 * for the newline count. A syntax error's line is the parser's plus the line
 * breaks of the quoted field libcsv holds. A quote inside an unquoted field
 * or text after a closing quote makes its record bad and the reading goes on
 * at the record's end (syntax_error); only a quote still open at the end of
 * the file ends the reading.
 *
 * A file whose first line end is a lone CR (old Mac exports) has every lone
 * CR of each chunk turned into LF before libcsv sees it, so the same count
 * holds. Title lines above the header are skipped as whole physical lines
 * (csvr_rewind), and the delimiter is detected on the line after them.
 */
#include "ingest/ingest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libcsv's parser states (csv_parser.pstate), to tell its strict errors apart */
enum { CSV_STATE_FIELD_BEGUN = 2, CSV_STATE_FIELD_MIGHT_HAVE_ENDED = 3 };

static void fatal(struct csvr *c, unsigned long line, size_t col, const char *msg)
{
    if (c->halted)
        return;
    c->halted = c->fatal = true;
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

/* A field on_field's fast path does not take: a limit reached, room to
 * make, a long or empty field, or one that may hold line breaks. The arena
 * never grows past the longest record allowed, so that on_field's one test
 * of its room also enforces that limit. Out of line, so that on_field is a
 * leaf that saves no registers. */
KPI_COLD static void field_slow(struct csvr *c, const char *src, size_t len)
{
    if (c->halted)
        return;
    if (c->resync != CSVR_RESYNC_NONE) { /* the rest of a bad record: counted, dropped */
        if (len > 0)
            c->line += count_nl(src, len);
        c->nfields++;
        return;
    }
    size_t col = c->nfields + 1;
    const char *limit = c->nfields >= INGEST_MAX_FIELDS ? "record has more than 10000 fields"
                        : len > INGEST_MAX_FIELD        ? "field longer than 1 MiB"
                        : c->arena_len + len + 1 > INGEST_MAX_RECORD ? "record longer than 16 MiB"
                                                                     : NULL;
    if (limit != NULL) {
        fatal(c, len > INGEST_MAX_FIELD ? c->line : c->rec_line, col, limit);
        return;
    }
    size_t need = c->arena_len + len + 1 + INGEST_FIELD_SLACK;
    if (need > c->arena_cap) {
        size_t cap = c->arena_cap * 2 > need ? c->arena_cap * 2 : need;
        if (cap > INGEST_MAX_RECORD + INGEST_FIELD_SLACK)
            cap = INGEST_MAX_RECORD + INGEST_FIELD_SLACK;
        char *arena = malloc(cap);
        if (arena == NULL) {
            c->halted = c->oom = true;
            return;
        }
        /* the fields so far move with their bytes */
        if (c->arena_len > 0)
            memcpy(arena, c->arena, c->arena_len);
        for (size_t i = 0; i < c->nfields; i++)
            c->ptrs[i] = arena + (c->ptrs[i] - c->arena);
        free(c->arena);
        c->arena = arena;
        c->arena_cap = cap;
    }
    char *dst = c->arena + c->arena_len;
    size_t out = len;
    if (len == 0) {
        /* libcsv passes NULL for an empty field (CSV_EMPTY_IS_NULL) */
    } else if (c->quotes_seen && memchr(src, '\n', len) != NULL) {
        c->line += count_nl(src, len);
        out = copy_crlf_as_lf(dst, src, len);
    } else {
        memcpy(dst, src, len);
    }
    c->nonempty |= len > 0;
    dst[out] = '\0';
    c->ptrs[c->nfields] = dst;
    c->lens[c->nfields] = out;
    c->nfields++;
    c->arena_len += out + 1;
}

/* Called for every field: the usual one (a short field of a file without
 * quotes, with room in the arena) costs a copy and a few stores. */
static void on_field(void *s, size_t len, void *data)
{
    struct csvr *c = data;
    /* len - 1 wraps for an empty field, which copy_short cannot copy */
    if (c->halted || c->quotes_seen || len - 1 >= 16 || c->nfields == INGEST_MAX_FIELDS ||
        c->arena_len + 16 + 1 + INGEST_FIELD_SLACK > c->arena_cap) {
        field_slow(c, s, len);
        return;
    }
    char *dst = c->arena + c->arena_len;
    copy_short(dst, s, len);
    dst[len] = '\0';
    c->ptrs[c->nfields] = dst;
    c->lens[c->nfields] = len;
    c->nfields++;
    c->arena_len += len + 1;
    c->nonempty = true;
}

static int decode_error(struct csvr *c, size_t i, size_t bad, const char *msg,
                        struct kpi_error *err)
{
    unsigned long line = c->rec_line;
    for (size_t k = 0; k < i; k++)
        line += count_nl(c->ptrs[k], c->lens[k]);
    line += count_nl(c->ptrs[i], bad);
    return ingest_fail_at(err, KPI_EINPUT, c->name, line, i + 1, "%s", msg);
}

/* A record of a file not yet known to be valid UTF-8, or that may hold NUL
 * bytes: check each field. */
KPI_COLD static int check_utf8(struct csvr *c, struct kpi_error *err)
{
    for (size_t i = 0; i < c->nfields; i++) {
        const char *p = c->ptrs[i];
        size_t bad;
        const char *z;
        if (c->src->maybe_nul && (z = memchr(p, '\0', c->lens[i])) != NULL)
            return decode_error(c, i, (size_t)(z - p), "NUL byte", err);
        if (!c->src->utf8_valid && !ingest_utf8_check(p, c->lens[i], &bad)) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "invalid UTF-8 (byte 0x%02X); if the file is Windows-1252, give "
                     "--encoding cp1252",
                     (unsigned)(unsigned char)p[bad]);
            return decode_error(c, i, bad, msg, err);
        }
    }
    return 0;
}

/* Windows-1252 into c->dec; returns the bytes used, or 0 with err filled. */
__attribute__((noinline)) static size_t decode_cp1252(struct csvr *c, struct kpi_error *err)
{
    size_t raw = c->arena_len; /* <= 16 MiB */
    if (raw * 3 + INGEST_FIELD_SLACK > c->dec_cap) {
        char *d = realloc(c->dec, raw * 3 + INGEST_FIELD_SLACK);
        if (d == NULL) {
            ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
            return 0;
        }
        c->dec = d;
        c->dec_cap = raw * 3 + INGEST_FIELD_SLACK;
    }
    size_t pos = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        const char *p = c->ptrs[i];
        size_t bad = 0;
        size_t len = ingest_cp1252_decode(p, c->lens[i], c->dec + pos, &bad);
        if (len == (size_t)-1) {
            char msg[80];
            if (p[bad] == '\0')
                snprintf(msg, sizeof msg, "NUL byte");
            else
                snprintf(msg, sizeof msg, "byte 0x%02X is undefined in Windows-1252",
                         (unsigned)(unsigned char)p[bad]);
            decode_error(c, i, bad, msg, err);
            return 0;
        }
        c->dec_ptrs[i] = c->dec + pos;
        c->dec_lens[i] = len;
        c->dec[pos + len] = '\0';
        pos += len + 1;
    }
    return pos;
}

/* The record in progress, decoded to UTF-8, into out. Returns 0, KPI_EINPUT
 * (a bad encoding: out->line set, out->count 0) or KPI_ESYSTEM. */
KPI_HOT int decode(struct csvr *c, struct csvr_out *out, struct kpi_error *err)
{
    out->line = c->rec_line;
    out->count = 0;
    if (c->src->encoding != INGEST_ENCODING_CP1252) { /* UTF-16 was made UTF-8 */
        /* the usual case: the fields as they are */
        if ((!c->src->utf8_valid || c->src->maybe_nul) && check_utf8(c, err) != 0)
            return err->code;
        out->fields = c->ptrs;
        out->lens = c->lens;
        out->bytes = c->arena_len;
    } else {
        if (c->dec_ptrs == NULL) {
            c->dec_ptrs = malloc(INGEST_MAX_FIELDS * sizeof *c->dec_ptrs);
            c->dec_lens = malloc(INGEST_MAX_FIELDS * sizeof *c->dec_lens);
            if (c->dec_ptrs == NULL || c->dec_lens == NULL)
                return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
        }
        size_t bytes = decode_cp1252(c, err);
        if (bytes == 0 && c->nfields > 0)
            return err->code;
        out->fields = c->dec_ptrs;
        out->lens = c->dec_lens;
        out->bytes = bytes;
    }
    out->count = c->nfields;
    return 0;
}

/* Hand the record in progress to on_record. */
KPI_HOT void deliver(struct csvr *c)
{
    struct csvr_out rec;
    struct kpi_error why; /* filled by decode when it fails */
    int rc = decode(c, &rec, &why);
    if (rc == KPI_ESYSTEM) {
        c->halted = c->oom = true;
        return;
    }
    rc = c->on_record(c->ctx, &rec, rc == 0 ? NULL : &why);
    if (rc != 0) {
        c->halted = true;
        c->stop = rc;
    }
}

static void on_row(int term, void *data)
{
    struct csvr *c = data;
    if (c->nfields > 0 && !c->halted) {
        if (c->on_record == NULL && c->nonempty) {
            c->held = true; /* the header, for csvr_header */
        } else {
            /* every field empty (";;;" from a spreadsheet): a blank line */
            if (c->nonempty)
                deliver(c);
            else
                c->resync = CSVR_RESYNC_NONE; /* the end of a bad record */
            c->nfields = 0;
            c->arena_len = 0;
            c->nonempty = false;
        }
    }
    if (term == '\n')
        c->line++;
    if (!c->held)
        c->rec_line = c->line; /* where the next record starts */
}

static int parser_init(struct csv_parser *p)
{
    return csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL |
                           CSV_REPALL_NL);
}

int csvr_init(struct csvr *c, struct ingest_source *src, const char *name, char delimiter,
              struct kpi_error *err)
{
    memset(c, 0, sizeof *c);
    c->src = src;
    c->name = name;
    c->delimiter = delimiter;
    c->forced_delimiter = delimiter;
    memcpy(c->eol, "\n", 2);
    c->line = 1;
    c->rec_line = 1;
    /* the fields' arrays at their limit: only the pages used are touched */
    c->chunk = malloc(INGEST_CHUNK);
    c->ptrs = malloc(INGEST_MAX_FIELDS * sizeof *c->ptrs);
    c->lens = malloc(INGEST_MAX_FIELDS * sizeof *c->lens);
    if (c->chunk == NULL || c->ptrs == NULL || c->lens == NULL) {
        csvr_free(c);
        return ingest_fail_at(err, KPI_ESYSTEM, name, 0, 0, "out of memory");
    }
    if (parser_init(&c->parser) != 0) {
        csvr_free(c);
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
    free(c->ptrs);
    free(c->lens);
    free(c->dec_ptrs);
    free(c->dec_lens);
    free(c->dec);
    memset(c, 0, sizeof *c);
}

/* libcsv refused the byte at done of the piece it was given: a quote inside
 * an unquoted field or text after a closing quote. Neither hides where the
 * record ends (its next line end outside a quoted field), so while records
 * are read the record is reported bad and the reading goes on after it: the
 * bad field's bytes are skipped up to the next delimiter or line end
 * (quotes in it are plain bytes), then libcsv, started afresh, reads the
 * record's other fields, dropped, to its end. In the header, the error is
 * fatal. */
KPI_COLD static void syntax_error(struct csvr *c, size_t done)
{
    /* the line of the refused byte: the parser's, plus the line breaks of
     * the quoted field in progress (only libcsv holds them yet) */
    unsigned long line = c->line;
    if (c->parser.quoted && c->parser.entry_pos > 0)
        line += count_nl((const char *)c->parser.entry_buf, c->parser.entry_pos);
    const char *msg;
    if (csv_error(&c->parser) != CSV_EPARSE)
        msg = csv_strerror(csv_error(&c->parser));
    else if (c->parser.pstate == CSV_STATE_FIELD_MIGHT_HAVE_ENDED)
        msg = "text after a closing quote (expected a delimiter or the end of the line)";
    else if (c->parser.pstate == CSV_STATE_FIELD_BEGUN)
        msg = "quote inside an unquoted field (quote the whole field and double the quote)";
    else
        msg = "malformed CSV";
    if (csv_error(&c->parser) != CSV_EPARSE || c->on_record == NULL) {
        fatal(c, line, c->nfields + 1, msg);
        return;
    }
    if (c->resync == CSVR_RESYNC_NONE && !c->halted) {
        struct kpi_error why;
        ingest_fail_at(&why, KPI_EINPUT, c->name, line, c->nfields + 1, "%s", msg);
        struct csvr_out rec = {.line = c->rec_line};
        int rc = c->on_record(c->ctx, &rec, &why);
        if (rc != 0) {
            c->halted = true;
            c->stop = rc;
        }
    }
    csv_free(&c->parser);
    c->parser_ready = false;
    if (parser_init(&c->parser) != 0) {
        c->halted = c->oom = true;
        return;
    }
    c->parser_ready = true;
    if (c->delimiter != 0)
        csv_set_delim(&c->parser, (unsigned char)c->delimiter);
    c->line = line;
    c->nfields++; /* the bad field */
    c->arena_len = 0;
    c->nonempty = false;
    c->quotes_seen = true; /* field_slow, which drops the rest, takes every field */
    c->resync = CSVR_RESYNC_FIELD;
    c->chunk_done += done;
}

/* Skip the bad field's bytes and the delimiter after them (the bad field
 * is counted already), or up to the line end, which libcsv then reads. */
KPI_COLD static void skip_bad_field(struct csvr *c)
{
    size_t i = c->chunk_done;
    while (i < c->chunk_len && c->chunk[i] != c->delimiter && c->chunk[i] != '\n' &&
           c->chunk[i] != '\r')
        i++;
    if (i < c->chunk_len) {
        c->resync = CSVR_RESYNC_ROW;
        if (c->chunk[i] == c->delimiter)
            i++;
    }
    c->chunk_done = i;
}

/* Let libcsv take len more bytes of the chunk. */
static void parse(struct csvr *c, size_t len)
{
    const char *p = c->chunk + c->chunk_done;
    size_t done = csv_parse(&c->parser, p, len, on_field, on_row, c);
    if (done != len) {
        syntax_error(c, done);
        return;
    }
    if (csv_get_buffer_size(&c->parser) > INGEST_MAX_FIELD + INGEST_CHUNK)
        fatal(c, c->line, c->nfields + 1, "field longer than 1 MiB");
    c->chunk_done += len;
}

/* The byte after the chunk (for a '\r' that ends it), or -1 at the end. */
static int byte_after_chunk(const struct csvr *c)
{
    unsigned char b;
    if (pread(c->src->fd, &b, 1, (off_t)c->src->offset) != 1)
        return -1;
    return b;
}

/* The file's line end, from its first '\r' or '\n': a lone CR (old Mac
 * exports) makes the reader turn every lone CR into LF. */
static void find_eol(struct csvr *c)
{
    for (size_t i = 0; i < c->chunk_len; i++) {
        char ch = c->chunk[i];
        if (ch != '\r' && ch != '\n')
            continue;
        int next = i + 1 < c->chunk_len ? (unsigned char)c->chunk[i + 1] : byte_after_chunk(c);
        if (ch == '\n')
            memcpy(c->eol, "\n", 2);
        else if (next == '\n')
            memcpy(c->eol, "\r\n", 3);
        else
            memcpy(c->eol, "\r", 2);
        c->src->cr_lines = ch == '\r' && next != '\n';
        c->eol_known = true;
        return;
    }
}

/* In a file of lone-CR line ends, every CR not followed by LF becomes LF:
 * libcsv and the line count then see an LF file. */
KPI_COLD static void cr_to_lf(struct csvr *c)
{
    char *p = c->chunk, *end = c->chunk + c->chunk_len;
    while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        int next = p + 1 < end ? (unsigned char)p[1] : byte_after_chunk(c);
        if (next != '\n')
            *p = '\n';
        p++;
    }
}

/* Skip whole physical lines (title lines above the header) at the start of
 * the chunk. */
static void skip_lines(struct csvr *c)
{
    while (c->skip > 0 && c->chunk_done < c->chunk_len) {
        const char *p = c->chunk + c->chunk_done;
        const char *nl = memchr(p, '\n', c->chunk_len - c->chunk_done);
        if (nl == NULL) {
            c->chunk_done = c->chunk_len;
            return;
        }
        c->chunk_done = (size_t)(nl + 1 - c->chunk);
        c->skip--;
        c->line++;
        c->rec_line = c->line;
    }
}

/* Read the next chunk (nothing parsed yet), or finish at the end of the
 * input. */
static int fill(struct csvr *c, struct kpi_error *err)
{
    long n = source_read(c->src, c->chunk, INGEST_CHUNK);
    if (n < 0)
        return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "cannot read: %s", strerror(errno));
    c->chunk_len = (size_t)n;
    c->chunk_done = 0;
    if (n == 0) {
        c->eof = true;
        if (csv_fini(&c->parser, on_field, on_row, c) != 0)
            fatal(c, c->line, c->nfields + 1,
                  "unterminated quote opened here; the rest of the file was not read");
        return 0;
    }
    int rc =
        source_scan(c->src, c->chunk, c->chunk_len, c->src->offset - c->chunk_len, c->name, err);
    if (rc != 0)
        return rc;
    if (!c->eol_known)
        find_eol(c);
    if (c->src->cr_lines)
        cr_to_lf(c);
    if (c->skip > 0)
        skip_lines(c);
    if (c->delimiter == 0 && c->skip == 0 && c->chunk_done < c->chunk_len)
        c->delimiter =
            ingest_detect_delimiter(c->chunk + c->chunk_done, c->chunk_len - c->chunk_done);
    if (c->delimiter != 0)
        csv_set_delim(&c->parser, (unsigned char)c->delimiter);
    if (!c->quotes_seen && memchr(c->chunk, '"', c->chunk_len) != NULL)
        c->quotes_seen = true;
    return 0;
}

int csvr_rewind(struct csvr *c, unsigned long skip, struct kpi_error *err)
{
    csv_free(&c->parser);
    c->parser_ready = false;
    if (parser_init(&c->parser) != 0)
        return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
    c->parser_ready = true;
    if (lseek(c->src->fd, (off_t)c->src->start, SEEK_SET) < 0)
        return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "cannot read: %s", strerror(errno));
    c->src->offset = c->src->start;
    c->chunk_len = c->chunk_done = 0;
    c->arena_len = c->nfields = 0;
    c->nonempty = c->held = c->eof = c->halted = c->fatal = c->oom = false;
    c->resync = CSVR_RESYNC_NONE;
    c->stop = 0;
    c->line = c->rec_line = 1;
    c->skip = skip;
    c->delimiter = c->forced_delimiter;
    return 0;
}

/* Up to and including the first '\n' or '\r' of the unparsed chunk (or all
 * of it): a piece in which at most one record ends. */
static size_t next_line(const struct csvr *c)
{
    const char *p = c->chunk + c->chunk_done;
    size_t left = c->chunk_len - c->chunk_done;
    for (size_t i = 0; i < left; i++)
        if (p[i] == '\n' || p[i] == '\r')
            return i + 1;
    return left;
}

static int halted_status(struct csvr *c, struct kpi_error *err)
{
    if (c->oom)
        return ingest_fail_at(err, KPI_ESYSTEM, c->name, 0, 0, "out of memory");
    if (c->fatal) {
        c->fatal = false;
        if (err != NULL)
            *err = c->fatal_err;
        return KPI_EINPUT;
    }
    return c->stop;
}

int csvr_header(struct csvr *c, struct csvr_out *out, struct kpi_error *err)
{
    while (!c->held && !c->halted && !c->eof) {
        if (c->chunk_done == c->chunk_len) {
            int rc = fill(c, err);
            if (rc != 0)
                return rc;
        } else {
            parse(c, next_line(c));
        }
    }
    if (c->halted)
        return halted_status(c, err);
    if (!c->held)
        return 0;
    int rc = decode(c, out, err);
    return rc == 0 ? 1 : rc;
}

int csvr_run(struct csvr *c, csvr_record_fn on_record, void *ctx, struct kpi_error *err)
{
    c->on_record = on_record;
    c->ctx = ctx;
    if (c->held) {
        c->held = false;
        c->nfields = 0;
        c->arena_len = 0;
        c->nonempty = false;
        c->rec_line = c->line;
    }
    while (!c->halted && !c->eof) {
        if (c->chunk_done < c->chunk_len) {
            if (c->resync == CSVR_RESYNC_FIELD)
                skip_bad_field(c);
            else
                parse(c, c->chunk_len - c->chunk_done);
        } else {
            int rc = fill(c, err);
            if (rc != 0)
                return rc;
        }
    }
    if (!c->fatal)
        return halted_status(c, err);
    /* the fatal error ends the reading as the last bad record */
    c->fatal = false;
    struct csvr_out rec = {0};
    return on_record(ctx, &rec, &c->fatal_err);
}
