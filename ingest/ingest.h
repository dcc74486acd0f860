/*
 * ingest — CSV files to records (SPEC §4): encoding (UTF-8 with or without
 * BOM, Windows-1252), delimiter, RFC 4180 quoting (libcsv, strict), header
 * roles and aliases, the four kinds and the long / wide / periods layouts,
 * dates and numbers in both conventions.
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
};

/* The roles a column can take in observation and target files. */
enum ingest_role {
    INGEST_ROLE_DATE = 0,
    INGEST_ROLE_TEAM,
    INGEST_ROLE_KPI,
    INGEST_ROLE_VALUE,
    INGEST_ROLE_TARGET,
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
};

/* Parse "date", "team", "kpi", "value" or "target" (for --column). */
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
const char *ingest_display_name(const struct ingest_reader *r);

/* The header's fields (UTF-8, as in the file), for a rejects file. Borrowed
 * until ingest_close. */
size_t ingest_header_count(const struct ingest_reader *r);
const char *ingest_header(const struct ingest_reader *r, size_t i);

/* Bytes of the file consumed so far and its size (0 when unknown, e.g. a
 * pipe), for a progress bar. */
uint64_t ingest_bytes_read(const struct ingest_reader *r);
uint64_t ingest_bytes_total(const struct ingest_reader *r);

/* One number of an observations or targets row. */
struct ingest_cell {
    const char *team; /* reference text, trimmed */
    const char *kpi;  /* reference text, trimmed */
    int64_t day;      /* the last day of the span the date names */
    bool is_target;   /* a target point, else an observed value */
    double number;    /* NaN: no value (empty, NA, N/A, -, n.d.) */
    unsigned column;  /* 1-based column of the number */
};

/* One data record. All pointers are borrowed until the next ingest_next or
 * ingest_close. */
struct ingest_row {
    unsigned long line; /* physical line where the record starts (header = 1) */
    size_t field_count; /* the record's raw fields, decoded to UTF-8 */
    const char *const *fields;
    /* observations and targets: one cell per number the row carries
     * (long: 1 or 2; wide: one per indicator column; periods: one per period) */
    size_t cell_count;
    const struct ingest_cell *cells;
    /* teams / indicators files: the row as a catalog patch. Strings are
     * trimmed; an empty cell gives NULL (or leaves its KPI_SET_ bit unset).
     * amber and red with a trailing '%' are percentages (5 % = 0.05). */
    struct kpi_team_patch team;
    struct kpi_indicator_patch indicator;
};

/* Read the next record. Returns 1 with *row filled; 0 at the end; KPI_EINPUT
 * for a bad record, err = "name:line:col: what was expected", with row->line
 * and row->fields filled when the record could be split into fields (else
 * field_count 0). After a bad record the next call goes on with the following
 * record, except after a CSV syntax error (an unterminated quote...) from
 * which there is no resynchronising: the next call returns 0. KPI_ESYSTEM: a
 * read error; stop. Blank lines and records whose fields are all empty
 * (";;;" from a spreadsheet) are not records. A record with more or fewer
 * fields than the header is bad; in a long file, columns without a role are
 * ignored, and so are columns with an empty header everywhere. A row with a
 * value and an empty team or kpi reference is bad. */
int ingest_next(struct ingest_reader *r, struct ingest_row *row, struct kpi_error *err);

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
