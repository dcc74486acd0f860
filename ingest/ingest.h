/*
 * ingest — CSV files to records (SPEC §4): encoding (UTF-8 with or without
 * BOM, Windows-1252, UTF-16 with BOM), delimiter, line ends (LF, CRLF, lone
 * CR), RFC 4180 quoting (libcsv, strict), title lines above the header,
 * header roles and aliases, the four kinds and the long / wide / periods
 * layouts, dates and numbers in both conventions and as finance exports
 * write them; and the rejects file, written the way the input was.
 *
 * It knows nothing of the data directory: references to teams and
 * indicators come out as the text of the file (UTF-8); the caller resolves
 * them. The file is streamed: memory is bounded by the longest record, not by
 * the file (whether a file is valid UTF-8 is decided by one validation pass
 * over a regular file from its first non-ASCII byte to its end; standard
 * input is spooled to an unlinked temporary file and validated on the way).
 * Limits (bad input beyond them, and fatal like a CSV syntax error): a field
 * of 1 MiB, a record of 10,000 fields or 16 MiB.
 *
 * Thread-safety: a reader belongs to one thread; readers are independent.
 */
#ifndef KPI_INGEST_H
#define KPI_INGEST_H

#include "common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ingest_kind {
    INGEST_KIND_AUTO = 0, /* detect from the header */
    INGEST_KIND_OBSERVATIONS,
    INGEST_KIND_TARGETS,
    INGEST_KIND_TEAMS,
    INGEST_KIND_INDICATORS,
};

enum ingest_layout {
    INGEST_LAYOUT_CATALOG = 0, /* teams or indicators */
    INGEST_LAYOUT_LONG,        /* date, team, kpi, value and/or target */
    INGEST_LAYOUT_WIDE,        /* date, team, one column per indicator */
    INGEST_LAYOUT_PERIODS,     /* team, kpi, one column per period */
};

enum ingest_encoding {
    INGEST_ENCODING_AUTO = 0,
    INGEST_ENCODING_UTF8,
    INGEST_ENCODING_CP1252,
    INGEST_ENCODING_UTF16LE, /* with its BOM (Excel's "Unicode text"); never forced */
    INGEST_ENCODING_UTF16BE, /* with its BOM; never forced */
};

/* The roles a column can take in observation and target files. */
enum ingest_role {
    INGEST_ROLE_DATE = 0,
    INGEST_ROLE_TEAM,
    INGEST_ROLE_KPI,
    INGEST_ROLE_VALUE,
    INGEST_ROLE_TARGET,
    INGEST_ROLE_NOTE, /* long files: the row's note (SPEC §11) */
    INGEST_ROLE_COUNT
};

/* Import options of SPEC §4. Strings are borrowed for the reader's life.
 * Zero-initialised means: everything detected. */
struct ingest_options {
    enum ingest_kind kind;                 /* --kind */
    const char *team;                      /* --team: team of files without a team column */
    const char *kpi;                       /* --kpi: indicator of long files without one */
    const char *column[INGEST_ROLE_COUNT]; /* --column ROLE=HEADER */
    const char *date_format;               /* --date-format (strptime), NULL = built-in */
    enum ingest_encoding encoding;         /* --encoding */
    char delimiter;                        /* --delimiter, 0 = detect */
    char decimal;                          /* --decimal, 0 = ',' with ';' delimiter, else '.' */
    unsigned long header_line;             /* --header-line: physical line of the header,
                                              0 = line 1, or the first of lines 2-10 that is a
                                              header when line 1 is a title */
};

/* Parse "date", "team", "kpi", "value", "target" or "note" (for --column). */
int ingest_role_parse(const char *text, enum ingest_role *out);

struct ingest_reader;

/* Open path ("-" for standard input) and read its header. display_name is
 * what messages call the file (NULL: path, or "stdin"); both are copied.
 * Errors (err prefixed with "name:" or "name:line:col:"):
 *   KPI_ESYSTEM  the file cannot be read;
 *   KPI_EINPUT   an empty file (no header), a bad encoding or CSV syntax in
 *                the header, a header that fits no kind/layout, a missing
 *                team column without --team, ...;
 *   KPI_EUSAGE   a header of only id,name without --kind, a --column
 *                naming no header.
 * *out is caller-owned: ingest_close. */
int ingest_open(const char *path, const char *display_name, const struct ingest_options *opts,
                struct ingest_reader **out, struct kpi_error *err);
void ingest_close(struct ingest_reader *r); /* NULL is fine */

/* The kind, never AUTO. A long file with both a value and a target column
 * (without --kind) says OBSERVATIONS: its cells' is_target tell them apart.
 * The detection rules are listed at the top of ingest/header.c. */
enum ingest_kind ingest_kind(const struct ingest_reader *r);
enum ingest_layout ingest_layout(const struct ingest_reader *r);
/* The encoding, never AUTO. A regular file is read once: while everything
 * read so far is ASCII (where UTF-8 and Windows-1252 agree) this says the
 * forced encoding or utf-8; at the first non-ASCII byte the rest of the file
 * is validated and the answer becomes final. Ask after the last row for the
 * verdict on the whole file. Standard input is decided at ingest_open. */
enum ingest_encoding ingest_encoding(const struct ingest_reader *r);
char ingest_delimiter(const struct ingest_reader *r);
/* The physical line of the header: 1, or the line below the title lines
 * that were skipped (SPEC §4), or --header-line. */
unsigned long ingest_header_line(const struct ingest_reader *r);
const char *ingest_display_name(const struct ingest_reader *r);

/* The header's fields (UTF-8, as in the file), for a rejects file. Borrowed
 * until ingest_close. */
size_t ingest_header_count(const struct ingest_reader *r);
const char *ingest_header(const struct ingest_reader *r, size_t i);

/* Bytes of the file consumed so far and its size (0 when unknown, e.g. a
 * pipe), for a progress bar. */
uint64_t ingest_bytes_read(const struct ingest_reader *r);

/* The SHA-256 of the file's bytes (all of them, BOM included), as 64 hex
 * digits and a NUL, read again from the file or from the copy of standard
 * input. KPI_ESYSTEM when it cannot be read. */
int ingest_sha256(const struct ingest_reader *r, char hex[65], struct kpi_error *err);
uint64_t ingest_bytes_total(const struct ingest_reader *r);

/* Bytes that can be read past the end of every text of a cell (its team and
 * kpi), so that they can be compared and hashed a word at a time
 * (kpi_key_of). */
#define INGEST_TEXT_SLACK 32

/* One number of an observations or targets row. */
struct ingest_cell {
    const char *team; /* reference text, trimmed */
    const char *kpi;  /* reference text, trimmed */
    size_t team_len, kpi_len;
    int64_t day;     /* the last day of the span the date names */
    bool is_target;  /* a target point, else an observed value */
    double number;   /* NaN: no value (empty, NA, N/A, -, n.d.) */
    unsigned column; /* 1-based column of the number */
};

/* One data record, as ingest_read hands it to its sink. */
struct ingest_row {
    unsigned long line; /* physical line where the record starts (header = 1) */
    size_t field_count; /* the record's raw fields, decoded to UTF-8 */
    const char *const *fields;
    /* observations and targets: one cell per number the row carries
     * (long: 1 or 2; wide: one per indicator column; periods: one per period) */
    size_t cell_count;
    const struct ingest_cell *cells;
    /* long files with a note column: the row's note, trimmed (note_len
     * bytes, UTF-8, not NUL-terminated), NULL when the cell is empty or
     * there is no such column; note_column is 1-based */
    const char *note;
    size_t note_len;
    unsigned note_column;
    /* teams / indicators files (only: undefined in other files): the row as
     * a catalog patch. Strings are trimmed; an empty cell gives NULL (or
     * leaves its KPI_SET_ bit unset).
     * amber and red with a trailing '%' are percentages (5 % = 0.05). */
    struct kpi_team_patch team;
    struct kpi_indicator_patch indicator;
};

/* What ingest_read does with each record, in file order: row() gets a good
 * one, bad() a bad one with why = "name:line:col: what was expected", and
 * row->line and row->fields filled when the record could be split into
 * fields (else field_count 0). The row and its strings are borrowed for the
 * call. Each returns 0 to go on, or a status that stops the reading. */
struct ingest_sink {
    int (*row)(void *ctx, const struct ingest_row *row);
    int (*bad)(void *ctx, const struct ingest_row *row, const struct kpi_error *why);
    void *ctx;
};

/* Read every record after the header, handing each to sink as soon as it is
 * parsed (nothing is queued: a million-row file costs the memory of its
 * longest record). Returns 0 at the end of the file, the status a sink
 * function returned to stop, or KPI_ESYSTEM (err filled) for a read error or
 * no memory. Call it once per reader.
 *
 * Bad records (each handed to bad(), the reading goes on): a record with
 * more or fewer fields than the header; in a long file, columns without a
 * role are ignored, and so are columns with an empty header everywhere; a
 * row with a value and an empty team or kpi reference; a cell that is not a
 * date or a number; a bad encoding; a quote inside an unquoted field or
 * text after a closing quote (the record still ends at its next line end
 * outside a quoted field). An unterminated quote (open at the end of the
 * file) or a size limit is handed to bad() too, and ends the reading: there
 * is no resynchronising after it. Blank lines and records whose fields
 * are all empty (";;;" from a spreadsheet) are not records. */
int ingest_read(struct ingest_reader *r, const struct ingest_sink *sink, struct kpi_error *err);

/* A rejects file (--rejects, SPEC §4) written the way the input was: its
 * delimiter, encoding (Windows-1252 stays Windows-1252, UTF-16 stays
 * UTF-16 of the same byte order with its BOM, UTF-8 keeps its BOM) and line
 * end. ingest_rejects_header writes the header cells plus an "error"
 * column (and the BOM when out is at its start); ingest_rejects_row one
 * record's fields (UTF-8 as handed to the sink; count 0, a record whose
 * quoting is broken, writes as many empty fields as the header has) and its
 * message. Fields are written as read, so numbers keep the input's decimal
 * separator. Both return 0, or KPI_ESYSTEM when out has a write error. */
int ingest_rejects_header(const struct ingest_reader *r, FILE *out);
int ingest_rejects_row(const struct ingest_reader *r, FILE *out, const char *const *fields,
                       size_t count, const char *message);

/* --------------------------------------------------- building blocks (tested) */

/* Parse a number cell (SPEC §4): "1234.5", "-3", "1e6"; with decimal ',':
 * "1 234,5" (space, U+00A0 or U+202F between thousands) and a '.' is an
 * error; a trailing '%' (optionally after a space) is dropped. Returns 0 with
 * *out set, 1 for a "no value" token (empty, NA, N/A, -, n.d., any case;
 * *out = NaN), KPI_EINPUT for anything else (err not filled). */
int ingest_parse_number(const char *text, char decimal, double *out);

/* The delimiter of a header line: the most frequent of ',' ';' TAB outside
 * quotes; ',' when none occurs. */
char ingest_detect_delimiter(const char *line, size_t len);

/* Convert Windows-1252 bytes to UTF-8, appending to out. Returns 0, or
 * KPI_EINPUT at the first byte undefined in Windows-1252 (0x81 0x8D 0x8F
 * 0x90 0x9D) or a NUL, with *bad_offset set to its offset. */
int ingest_cp1252_to_utf8(const char *in, size_t len, struct kpi_buf *out, size_t *bad_offset);

#endif
