/*
 * ingest internals shared by the files of ingest/ (not a public header).
 *
 *   source.c   the bytes: file or standard input (spooled to a temporary
 *              file), the UTF-8 detection pass, BOM, Windows-1252 decoding,
 *              UTF-16 converted to a UTF-8 temporary file
 *   csvread.c  libcsv driven in 64 KiB chunks, each record handed to a
 *              callback as libcsv completes it, with physical line numbers,
 *              size limits and decoding to UTF-8
 *   header.c   header roles and aliases, kind and layout detection
 *   row.c      the cells of each layout and the catalog patches
 *   number.c   number cells in both conventions, and why one is refused
 *   reader.c   the public reader (ingest_open / ingest_read), the header
 *              search under title lines
 *   rejects.c  the rejects file, in the input's delimiter and encoding
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
    bool cr_lines;                 /* line ends are lone CRs (old Mac), read as LF */
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

/* The physical line (1-based) of a file offset, by counting '\n' (and lone
 * '\r' when cr_lines) before it (rereads the file: for error messages
 * only). */
unsigned long source_line_at(const struct ingest_source *s, uint64_t offset);

/* True when [p, p+len) is valid UTF-8; *bad gets the offset of the first
 * invalid byte otherwise. */
bool ingest_utf8_check(const char *p, size_t len, size_t *bad);

/* Decode Windows-1252 into out, which holds 3 * len bytes: returns the
 * length written, or (size_t)-1 with *bad_offset at an undefined byte or a
 * NUL. */
size_t ingest_cp1252_decode(const char *in, size_t len, char *out, size_t *bad_offset);

/* ------------------------------------------------------------ csvread.c */

/* Bytes that may be read (not used) past the end of any field a record hands
 * out: short texts are then read as whole words. */
#define INGEST_FIELD_SLACK INGEST_TEXT_SLACK

/* A record as csvread hands it out: fields decoded to UTF-8 and
 * NUL-terminated, borrowed until the callback returns. INGEST_FIELD_SLACK
 * bytes past the end of each field are readable. */
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

/* Called for every record in file order: a good one (bad NULL), or a bad one
 * (bad says why; rec->line is its line, rec->count 0 when its fields could
 * not be decoded). Returns 0 to go on, anything else to stop the reading. */
typedef int (*csvr_record_fn)(void *ctx, const struct csvr_out *rec, const struct kpi_error *bad);

struct csvr {
    struct csv_parser parser;
    bool parser_ready;
    struct ingest_source *src;
    const char *name;
    char delimiter; /* 0 until detected from the first chunk */
    char *chunk;
    size_t chunk_len, chunk_done; /* the chunk read, and what libcsv has taken of it */

    /* the record in progress: its fields' bytes, NUL-terminated, in the arena */
    char *arena;
    size_t arena_len, arena_cap;
    const char **ptrs; /* each field's bytes, INGEST_MAX_FIELDS of them */
    size_t *lens;      /* each field's length, as many */
    size_t nfields;
    bool nonempty;
    unsigned long rec_line; /* physical line where it starts */
    bool held;              /* the header: kept until csvr_run starts */

    csvr_record_fn on_record; /* NULL while reading the header */
    void *ctx;

    unsigned long line; /* physical line of the parser's position */
    unsigned long skip; /* physical lines still to skip before the header */
    bool eol_known;     /* the first line end was seen: src->cr_lines, eol */
    char eol[3];        /* the file's line end: "\n", "\r\n" or "\r" */
    char forced_delimiter;
    bool quotes_seen; /* a '"' occurred: fields may hold line breaks */
    bool eof;
    bool halted; /* fatal, oom or stop: libcsv's callbacks do nothing more */
    bool fatal;  /* fatal_err is pending */
    bool oom;    /* out of memory */
    int stop;    /* what on_record returned to stop */
    struct kpi_error fatal_err;

    /* Windows-1252 records decoded */
    const char **dec_ptrs;
    size_t *dec_lens;
    char *dec;
    size_t dec_cap;

    /* After a quoting error (already reported), the rest of the bad record
     * is read and dropped: CSVR_RESYNC_FIELD skips the bad field's bytes up
     * to the next delimiter or line end, CSVR_RESYNC_ROW lets libcsv read
     * the record's other fields (counted in nfields, not kept) to its end.
     * Last in the struct: between the flags, it would split the test of
     * halted and quotes_seen that on_field makes as one. */
    enum { CSVR_RESYNC_NONE, CSVR_RESYNC_FIELD, CSVR_RESYNC_ROW } resync;
};

int csvr_init(struct csvr *c, struct ingest_source *src, const char *name, char delimiter,
              struct kpi_error *err);
void csvr_free(struct csvr *c);

/* Read up to the end of the first record (the header): 1 with out filled
 * (borrowed until csvr_run), 0 for a file without records, KPI_EINPUT for bad
 * CSV or a bad encoding in it, KPI_ESYSTEM for a read error or no memory. */
int csvr_header(struct csvr *c, struct csvr_out *out, struct kpi_error *err);

/* Start reading the file again from its first byte, skipping `skip`
 * physical lines before the header (title lines above it), and detecting
 * the delimiter from the line after them. Returns 0 or KPI_ESYSTEM. */
int csvr_rewind(struct csvr *c, unsigned long skip, struct kpi_error *err);

/* Parse the rest of the input, calling on_record for every record. Returns
 * 0 at the end, or what on_record returned to stop, or KPI_ESYSTEM (err
 * filled) for a read error or no memory. CSV syntax errors and size limits
 * are fatal: records before them are handed out, then the error as a bad
 * record, then the reading ends. */
int csvr_run(struct csvr *c, csvr_record_fn on_record, void *ctx, struct kpi_error *err);

/* ------------------------------------------------------------- header.c */

/* What a header column is. The first six are enum ingest_role. */
enum col_role {
    COL_DATE = INGEST_ROLE_DATE,
    COL_TEAM = INGEST_ROLE_TEAM,
    COL_KPI = INGEST_ROLE_KPI,
    COL_VALUE = INGEST_ROLE_VALUE,
    COL_TARGET = INGEST_ROLE_TARGET,
    COL_NOTE = INGEST_ROLE_NOTE, /* long: the note of the row's period (SPEC §11) */
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

/* A reference text given once for the whole file (--team, --kpi), with the
 * slack the cells' texts promise. */
struct fixed_ref {
    char *text;
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
    unsigned long header_line; /* physical line of the header */
    bool has_role;             /* a header cell took a role (so it is no title line) */
    size_t ncols;
    char **hdr;          /* raw header texts (one allocation each) */
    unsigned char *role; /* enum col_role per column */
    int64_t *col_day;    /* periods: the last day each column names */
    char **col_ref;      /* wide: the trimmed indicator reference (INGEST_FIELD_SLACK after) */
    size_t *col_ref_len;
    size_t col[COL_COUNT]; /* 1-based column of each role, 0 = none */

    struct fixed_ref team_opt, kpi_opt; /* --team, --kpi */

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
        struct kpi_key key; /* len 0 = empty */
        int64_t day;
    } date_cache[DATE_CACHE_SLOTS];
    struct date_slot *date_last; /* the slot of the previous row's date */
};

/* Classify the header (rec) and decide kind and layout. */
int header_setup(struct ingest_reader *r, const struct csvr_out *rec, struct kpi_error *err);

/* Forget what header_setup decided (to try another line as the header). */
void header_reset(struct ingest_reader *r);

/* Fill row from a data record. */
int row_build(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
              struct kpi_error *err);

/* ingest_parse_number on [text, text+len) (text[len] must be readable). */
int ingest_number_n(const char *text, size_t len, char decimal, double *out);

/* The same for a field, which has INGEST_FIELD_SLACK readable bytes after
 * it: short plain numbers are read a word at a time. */
int ingest_number_field(const char *text, size_t len, char decimal, double *out);

/* Why text (a refused number cell) was refused, for its message: what the
 * file's settings expect (decimal, from delimiter or --decimal when forced)
 * and which option changes them. Writes at most cap bytes into buf. */
void ingest_number_hint(const char *text, char decimal, char delimiter, bool forced, char *buf,
                        size_t cap);

/* Trim blanks (ASCII white space, U+00A0, U+202F) from both ends of
 * [s, s+len): returns the first kept byte and sets *out_len. Inline: most
 * cells have nothing to trim. */
const char *ingest_trim_slow(const char *s, size_t len, size_t *out_len);

/* Bytes that may start (bit 0) or end (bit 1) a blank: ASCII white space,
 * and the first or last byte of U+00A0 (C2 A0) and U+202F (E2 80 AF). */
extern const unsigned char ingest_blank_edge[256];

static inline bool ingest_blank_first(unsigned char c)
{
    return ingest_blank_edge[c] & 1;
}

static inline bool ingest_blank_last(unsigned char c)
{
    return ingest_blank_edge[c] & 2;
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
