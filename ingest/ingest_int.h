/*
 * ingest internals shared by the files of ingest/ (not a public header).
 *
 *   source.c   the bytes: file or standard input (spooled to a temporary
 *              file), the UTF-8 detection pass, BOM, Windows-1252 decoding
 *   csvread.c  libcsv driven in 64 KiB chunks into a queue of records, with
 *              physical line numbers, size limits and decoding to UTF-8
 *   header.c   header roles and aliases, kind and layout detection
 *   row.c      the cells of each layout and the catalog patches
 *   number.c   number cells in both conventions
 *   reader.c   the public reader (ingest_open / ingest_next)
 */
#ifndef KPI_INGEST_INT_H
#define KPI_INGEST_INT_H

#include "ingest/ingest.h"

#include <csv.h>
#include <stdarg.h>
#include <stdio.h>

/* Every buffer fed from the input has a maximum size (STYLE.md). */
#define INGEST_CHUNK ((size_t)64 * 1024)             /* bytes read and parsed at a time */
#define INGEST_MAX_FIELD ((size_t)1024 * 1024)       /* bytes of one field */
#define INGEST_MAX_FIELDS 10000u                     /* fields of one record */
#define INGEST_MAX_RECORD ((size_t)16 * 1024 * 1024) /* bytes of one record */

/* Fill err with code and "name:line:col: message" ("name:line: message"
 * when col is 0, "name: message" when line is 0). Returns code. */
int ingest_fail_at(struct kpi_error *err, enum kpi_status code, const char *name,
                   unsigned long line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Copy text into buf (cap >= 8) for an error message: cut to about 40 bytes
 * on a character boundary (then "..."), control characters shown as '?'.
 * Returns buf. */
char *ingest_quote(const char *text, char *buf, size_t cap);

/* ------------------------------------------------------------- source.c */

struct ingest_source {
    int fd;                        /* read from here (the file, or the spool) */
    bool own_fd;                   /* close fd at the end (not standard input) */
    FILE *spool;                   /* the temporary copy of a pipe, or NULL */
    uint64_t start;                /* offset of the first byte to parse (3 after a BOM) */
    uint64_t size;                 /* total bytes */
    uint64_t offset;               /* file offset of the next read */
    bool decided;                  /* encoding, utf8_valid and maybe_nul are final */
    bool utf8_valid;               /* the file is valid UTF-8 (so far, until decided) */
    bool maybe_nul;                /* a NUL byte may occur */
    bool bom;                      /* the file starts with EF BB BF */
    enum ingest_encoding forced;   /* --encoding */
    enum ingest_encoding encoding; /* never AUTO; provisional until decided */
};

/* Open path ("-" = standard input); spool pipes to a temporary file,
 * validating them (decided at once); read a regular file's BOM. */
int source_open(struct ingest_source *s, const char *path, const char *name,
                enum ingest_encoding forced, struct kpi_error *err);
void source_close(struct ingest_source *s);

/* Read up to cap bytes; returns the count (0 at the end) or -1 (errno). */
long source_read(struct ingest_source *s, char *buf, size_t cap);

/* Look at a chunk about to be parsed (at file offset chunk_off): note NUL
 * bytes, and at the first non-ASCII byte validate the rest of the file and
 * decide the encoding. Returns 0 or KPI_ESYSTEM. */
int source_scan(struct ingest_source *s, const char *chunk, size_t len, uint64_t chunk_off,
                const char *name, struct kpi_error *err);

/* The physical line (1-based) of a file offset, by counting '\n' before it
 * (rereads the file: for error messages only). */
unsigned long source_line_at(const struct ingest_source *s, uint64_t offset);

/* True when [p, p+len) is valid UTF-8; *bad gets the offset of the first
 * invalid byte otherwise. */
bool ingest_utf8_check(const char *p, size_t len, size_t *bad);

/* Decode Windows-1252 into out, which holds 3 * len bytes: returns the
 * length written, or (size_t)-1 with *bad_offset at an undefined byte or a
 * NUL. */
size_t ingest_cp1252_decode(const char *in, size_t len, char *out, size_t *bad_offset);

/* ------------------------------------------------------------ csvread.c */

struct csvr_field {
    size_t off; /* into the arena */
    size_t len;
};

struct csvr_rec {
    size_t first; /* index of its first field */
    size_t count;
    unsigned long line;
};

/* Bytes that may be read (not used) past the start of any field csvr_next
 * returns, whatever its length: short texts are then read as whole words. */
#define INGEST_FIELD_SLACK 32

/* A record as csvr_next returns it: fields decoded to UTF-8 and
 * NUL-terminated, borrowed until the next csvr_next. INGEST_FIELD_SLACK
 * bytes from the start of each field are readable. */
struct csvr_out {
    /* not in the order of struct ingest_row's line, field_count, fields:
     * the compiler would copy them as one 16-byte load, which stalls on
     * the two 8-byte stores that have just written them */
    unsigned long line;
    const char *const *fields;
    size_t count;
    const size_t *lens;
    size_t bytes; /* sum of (lens[i] + 1) */
};

struct csvr {
    struct csv_parser parser;
    bool parser_ready;
    struct ingest_source *src;
    const char *name;
    char delimiter; /* 0 until detected from the first chunk */
    char *chunk;

    /* parsed fields of the queued records and of the record in progress */
    char *arena;
    size_t arena_len, arena_cap;
    struct csvr_field *fields;
    size_t nfields, fields_cap;
    struct csvr_rec *recs;
    size_t nrecs, recs_cap, head;

    /* the record in progress. cur_first and cur_bytes are not neighbours:
     * on_row sets them from nfields and arena_len, which on_field has just
     * stored, and the compiler would fetch those with 16-byte loads that
     * stall on the 8-byte stores (store forwarding fails) */
    size_t cur_first;
    unsigned long cur_line;
    size_t cur_count;
    bool cur_nonempty;
    size_t cur_bytes;

    unsigned long line; /* physical line of the parser's position */
    bool quotes_seen;   /* a '"' occurred: fields may hold line breaks */
    bool eof, finished, oom;
    bool fatal; /* fatal_err is pending after the queued records */
    struct kpi_error fatal_err;

    /* decoding */
    const char **ptrs;
    size_t *lens;
    size_t ptrs_cap;
    char *dec; /* Windows-1252 records decoded */
    size_t dec_cap;
};

int csvr_init(struct csvr *c, struct ingest_source *src, const char *name, char delimiter,
              struct kpi_error *err);
void csvr_free(struct csvr *c);

/* The next record: 1 (out filled), 0 at the end, KPI_EINPUT for a bad record
 * (decoding: the next call goes on; CSV syntax or size limits: fatal, the
 * next call returns 0), KPI_ESYSTEM for a read error or no memory. */
int csvr_next(struct csvr *c, struct csvr_out *out, struct kpi_error *err);

/* ------------------------------------------------------------- header.c */

/* What a header column is. The first five are enum ingest_role. */
enum col_role {
    COL_DATE = INGEST_ROLE_DATE,
    COL_TEAM = INGEST_ROLE_TEAM,
    COL_KPI = INGEST_ROLE_KPI,
    COL_VALUE = INGEST_ROLE_VALUE,
    COL_TARGET = INGEST_ROLE_TARGET,
    COL_ID,
    COL_NAME,
    COL_PARENT,
    COL_FAMILY,
    COL_UNIT,
    COL_DIRECTION,
    COL_PERIOD,
    COL_AGGREGATE,
    COL_AMBER,
    COL_RED,
    COL_WEIGHT,
    COL_OTHER,   /* wide: an indicator; periods: a period; long: ignored */
    COL_IGNORED, /* an empty header cell */
    COL_COUNT
};

/* ---------------------------------------------------------- the reader */

#define DATE_CACHE_SLOTS 256 /* 128 pairs: two texts may share a hash */
#define DATE_SLOT_WORDS 4    /* a cached date text has up to 31 bytes */

/* A date text as zero-padded 64-bit words, compared and hashed a word at a
 * time (memcmp and a byte-wise hash cost more than the date's parsing). */
struct date_key {
    uint64_t w[DATE_SLOT_WORDS];
    size_t len;
};

struct ingest_reader {
    char *name;
    struct ingest_options opts;
    struct ingest_source src;
    struct csvr csv;

    enum ingest_kind kind;
    enum ingest_layout layout;
    char decimal;
    bool want_value, want_target; /* long: which cells */
    bool value_is_target;         /* long --kind targets without a target column */

    /* header */
    size_t ncols;
    char **hdr;            /* raw header texts (one allocation each) */
    unsigned char *role;   /* enum col_role per column */
    int64_t *col_day;      /* periods: the last day each column names */
    char **col_ref;        /* wide: the trimmed indicator reference */
    size_t col[COL_COUNT]; /* 1-based column of each role, 0 = none */

    /* row scratch */
    struct ingest_cell *cells;
    size_t cells_cap;
    char *scratch;
    size_t scratch_len, scratch_cap;

    /* dates parsed so far, two-way set-associative by a hash of their text:
     * files repeat a few dates over and over (a long file sorted by series
     * cycles through them, so two dates that shared one slot would evict
     * each other on every cycle) */
    struct date_slot {
        struct date_key key; /* len 0 = empty */
        int64_t day;
    } date_cache[DATE_CACHE_SLOTS];
    struct date_slot *date_last; /* the slot of the previous row's date */
};

/* Classify the header (rec) and decide kind and layout. */
int header_setup(struct ingest_reader *r, const struct csvr_out *rec, struct kpi_error *err);

/* Fill row from a data record. */
int row_build(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
              struct kpi_error *err);

/* ingest_parse_number on [text, text+len) (text[len] must be readable). */
int ingest_number_n(const char *text, size_t len, char decimal, double *out);

/* Trim blanks (ASCII white space, U+00A0, U+202F) from both ends of
 * [s, s+len): returns the first kept byte and sets *out_len. Inline: most
 * cells have nothing to trim. */
const char *ingest_trim_slow(const char *s, size_t len, size_t *out_len);

static inline bool ingest_blank_first(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xC2 || c == 0xE2;
}

static inline bool ingest_blank_last(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0xAF;
}

static inline const char *ingest_trim(const char *s, size_t len, size_t *out_len)
{
    if (len == 0 || (!ingest_blank_first((unsigned char)s[0]) &&
                     !ingest_blank_last((unsigned char)s[len - 1]))) {
        *out_len = len;
        return s;
    }
    return ingest_trim_slow(s, len, out_len);
}

#endif
