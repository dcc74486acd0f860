/*
 * common — what every kpi module shares: error codes, the domain model
 * (teams, indicators, points), calendar days and periods, identifiers and
 * text folding, and exact number formatting.
 *
 * Conventions for the whole project (STYLE.md):
 * - A function that can fail returns 0 or a negative enum kpi_status and
 *   fills an optional caller-owned struct kpi_error. Library code never prints.
 * - Unknown numbers are NaN (the RRD convention); JSON prints them as null.
 * - Calendar days are counted from 1970-01-01 (day 0) in UTC, as int64_t.
 * - Nothing here keeps state: every function is thread-safe.
 */
#ifndef KPI_COMMON_H
#define KPI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* For the per-cell paths of an import (millions of calls a second):
 * KPI_HOT forces the inlining of a small helper, KPI_COLD keeps a rare path
 * (an error, a cache miss) out of its caller, so that the caller does not
 * save registers for it on every call. */
#define KPI_HOT static inline __attribute__((always_inline))
#define KPI_COLD __attribute__((noinline, cold))

/* ---------------------------------------------------------------- errors */

/* The error vocabulary. The CLI maps each to an exit code (cli/exit.c) and
 * the server to an HTTP status: usage 1/400, input 2/400, system 3/500,
 * not found 4/404, busy (a writer that would not wait longer: server only)
 * 3/503. */
enum kpi_status {
    KPI_OK = 0,
    KPI_EUSAGE = -1,    /* bad option or option value */
    KPI_EINPUT = -2,    /* bad input data (CSV content, references) */
    KPI_ESYSTEM = -3,   /* storage, I/O, memory, a library failing */
    KPI_ENOTFOUND = -4, /* an unknown team or indicator was asked for */
    KPI_EBUSY = -5,     /* another writer held the lock longer than allowed */
};

#define KPI_ERROR_MAX 512

/* An error as data: a code and one human sentence. Caller-owned, usually on
 * the stack; a zeroed struct means "no error". */
struct kpi_error {
    enum kpi_status code;
    char message[KPI_ERROR_MAX];
};

/* Fill err (when not NULL) with code and a printf-style message, truncated to
 * KPI_ERROR_MAX - 1 bytes. Returns code, so callers can `return kpi_fail(...)`. */
int kpi_fail(struct kpi_error *err, enum kpi_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err's message with "prefix: " (e.g. a file name), keeping its code. */
void kpi_error_prefix(struct kpi_error *err, const char *prefix);

/* The name of a status, e.g. "input" (for JSON error codes and logs). */
const char *kpi_status_name(enum kpi_status code);

/* ---------------------------------------------------------- domain model */

enum kpi_family {
    KPI_FAMILY_NONE = -1, /* an indicator created by an observation has none */
    KPI_FAMILY_FINANCIAL = 0,
    KPI_FAMILY_HUMAN,
    KPI_FAMILY_PROCESS,
    KPI_FAMILY_CUSTOMER,
};
#define KPI_FAMILY_COUNT 4

enum kpi_direction { KPI_DIRECTION_UP = 0, KPI_DIRECTION_DOWN };
enum kpi_aggregate { KPI_AGGREGATE_SUM = 0, KPI_AGGREGATE_MEAN };

enum kpi_period_kind {
    KPI_PERIOD_DAY = 0,
    KPI_PERIOD_WEEK, /* ISO week, Monday to Sunday */
    KPI_PERIOD_MONTH,
    KPI_PERIOD_QUARTER,
    KPI_PERIOD_YEAR,
};

/* Names as in the SPEC ("financial", "up", "sum", "month"...). The _name
 * functions return a static string ("" for KPI_FAMILY_NONE); the _parse
 * functions match case-insensitively and return 0, or KPI_EINPUT for an
 * unknown word (err not filled: the caller knows the context). */
const char *kpi_family_name(enum kpi_family f);
int kpi_family_parse(const char *text, enum kpi_family *out);
const char *kpi_direction_name(enum kpi_direction d);
int kpi_direction_parse(const char *text, enum kpi_direction *out);
const char *kpi_aggregate_name(enum kpi_aggregate a);
int kpi_aggregate_parse(const char *text, enum kpi_aggregate *out);
const char *kpi_period_kind_name(enum kpi_period_kind k);
int kpi_period_kind_parse(const char *text, enum kpi_period_kind *out);

#define KPI_ID_MAX 64 /* characters of an identifier, without the NUL */

/* A team. Strings are owned by whoever holds the struct (the store's views
 * own theirs). parent is "" for a root. */
struct kpi_team {
    const char *id;
    const char *name;
    const char *parent;
};

/* An indicator with the SPEC defaults: direction up, period month,
 * aggregate sum, amber 0.05, red 0.10, weight 1. */
struct kpi_indicator {
    const char *id;
    const char *name;
    enum kpi_family family;
    const char *unit;
    enum kpi_direction direction;
    enum kpi_period_kind period;
    enum kpi_aggregate aggregate;
    double amber;
    double red;
    double weight;
};

/* Fill ind with the SPEC defaults for an indicator id (name = id, unit "",
 * family none). The strings are borrowed from id. */
void kpi_indicator_defaults(struct kpi_indicator *ind, const char *id);

/* A change to a team's catalog entry, as read from a teams file: NULL fields
 * are left as they are. ref is matched like any reference (SPEC §2). */
struct kpi_team_patch {
    const char *ref;
    const char *name;
    const char *parent; /* a reference, or "" to make the team a root */
};

/* A change to an indicator's catalog entry, as read from an indicators file.
 * NULL strings are left as they are; the other attributes only when their
 * KPI_SET_ bit is in `set`. */
enum {
    KPI_SET_FAMILY = 1u << 0,
    KPI_SET_DIRECTION = 1u << 1,
    KPI_SET_PERIOD = 1u << 2,
    KPI_SET_AGGREGATE = 1u << 3,
    KPI_SET_AMBER = 1u << 4,
    KPI_SET_RED = 1u << 5,
    KPI_SET_WEIGHT = 1u << 6,
};
struct kpi_indicator_patch {
    const char *ref;
    const char *name;
    const char *unit;
    unsigned set;
    enum kpi_family family;
    enum kpi_direction direction;
    enum kpi_period_kind period;
    enum kpi_aggregate aggregate;
    double amber;
    double red;
    double weight;
};

/* One period of one series: its index (see periods below), its observed value
 * and its target point, NaN where there is none. */
struct kpi_point {
    int64_t period;
    double value;
    double target;
};

/* The target of a period (SPEC §5): the target point of that period when
 * there is one, else the linear interpolation by period index between the
 * nearest target points before and after it, else NaN (before the first or
 * after the last target point). points must be sorted by period; O(log n)
 * plus the run of points without a target next to period (observations
 * only), which are skipped. */
double kpi_target_at(const struct kpi_point *points, size_t count, int64_t period);

/* The index of the first of the count points (sorted by period) whose period
 * is >= period; count when there is none. O(log n). */
size_t kpi_points_lower_bound(const struct kpi_point *points, size_t count, int64_t period);

/* ------------------------------------------------------- days and periods */

/* Days from 1970-01-01 for a proleptic Gregorian date; month 1..12. No range
 * check: use kpi_ymd_valid first on untrusted input. */
int64_t kpi_day_from_ymd(int year, int month, int day);
void kpi_ymd_from_day(int64_t day, int *year, int *month, int *mday);
bool kpi_ymd_valid(int year, int month, int day); /* years 1..9999 */

/* Period indices. Consecutive periods have consecutive indices, so "periods
 * from A to B" is B - A (January to December is 11):
 *   day: the day number; week: ISO weeks since the week of 1970-01-05;
 *   month: year * 12 + month - 1; quarter: year * 4 + quarter - 1; year: year. */
int64_t kpi_period_of_day(enum kpi_period_kind kind, int64_t day);
int64_t kpi_period_first_day(enum kpi_period_kind kind, int64_t period);
int64_t kpi_period_last_day(enum kpi_period_kind kind, int64_t period);

#define KPI_LABEL_MAX 16

/* The SPEC label of a period: "2026-01-31", "2026-W05", "2026-01", "2026-Q1",
 * "2026". buf must hold KPI_LABEL_MAX bytes. Returns buf. */
char *kpi_period_label(enum kpi_period_kind kind, int64_t period, char *buf);

/* "YYYY-MM-DD" of a day into buf (KPI_LABEL_MAX bytes). Returns buf. */
char *kpi_day_label(int64_t day, char *buf);

/* Parse a date text of SPEC §2 and return the LAST day of the span it names
 * (a day for YYYY-MM-DD, DD/MM/YYYY[ hh:mm[:ss]] and YYYY-MM-DDThh:mm:ss[Z];
 * the month for YYYY-MM, MM/YYYY and a month name with its year — "janv.
 * 2026", "févr.-26", "Sep-26", French or English, full or any prefix of at
 * least 3 letters, any case, accents optional; the quarter for YYYY-Qn; the year for YYYY; the
 * Sunday of an ISO week for YYYY-Www). Leading and trailing blanks are ignored. When
 * strptime_format is not NULL it replaces the built-in forms; the text must
 * match it entirely (trailing blanks aside); a format without a day (%m/%Y)
 * names the last day of its month, one without a month either (%Y) the last
 * day of its year. Returns 0, or KPI_EINPUT with err saying what was
 * expected (no file/line: the caller adds them); *last_day is then untouched. */
int kpi_date_parse(const char *text, const char *strptime_format, int64_t *last_day,
                   struct kpi_error *err);

/* Why kpi_date_parse refuses text, as its message says it between
 * parentheses ("expected YYYY-MM-DD, ..." or what makes the text
 * ambiguous, and which option reads it): at most cap bytes into buf. */
void kpi_date_explain(const char *text, const char *strptime_format, char *buf, size_t cap);

/* Today in UTC, as a day number. */
int64_t kpi_today(void);

/* ------------------------------------------------- identifiers and text */

/* True when s matches [a-z0-9][a-z0-9_.-]{0,63}. */
bool kpi_id_valid(const char *s);

/* Lower-case and fold Latin letters to ASCII (é→e, ç→c, œ→oe, æ→ae, ß→ss,
 * ø→o, Å→a ...); other characters are copied unchanged; leading and trailing
 * blanks (space, tab, no-break spaces) are removed. For header matching and
 * case-insensitive name matching. in should be valid UTF-8 (invalid bytes are
 * copied as they are). Writes at most cap bytes including the NUL (truncating
 * on a character boundary); returns the length written. */
size_t kpi_fold(const char *in, char *out, size_t cap);

/* The slug of a reference (SPEC §2): kpi_fold, then every run of characters
 * other than a-z0-9 becomes one '-', leading and trailing '-' trimmed, cut to
 * 64 characters (and trailing '-' trimmed again). out must hold
 * KPI_ID_MAX + 1 bytes. Returns the length; 0 means the reference slugifies
 * to nothing (the caller rejects it). "../../etc" gives "etc". */
size_t kpi_slugify(const char *in, char *out);

/* True when s[0..len) is valid UTF-8 (no overlongs, no surrogates,
 * <= U+10FFFF). A NUL byte (U+0000) is valid UTF-8: reject it separately. */
bool kpi_utf8_valid(const char *s, size_t len);

/* A short text as zero-padded 64-bit words, compared and hashed a word at a
 * time: the caches of dates and references that an import consults for
 * every cell would spend more on memcmp, a byte loop or a byte-wise hash
 * than on the rest of the cell. */
#define KPI_KEY_WORDS 8
#define KPI_KEY_MAX (KPI_KEY_WORDS * 8) /* longer texts have no key (ids have 64 bytes) */

struct kpi_key {
    uint64_t w[KPI_KEY_WORDS]; /* the words past the text's are 0 */
    size_t len;
};

/* The word at text holding its first keep bytes (keep >= 1), others zeroed. */
KPI_HOT uint64_t kpi_key_word(const char *text, size_t keep)
{
    uint64_t w;
    memcpy(&w, text, 8);
    if (keep < 8) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w &= ~(((uint64_t)1 << (8 * (8 - keep))) - 1);
#else
        w &= ((uint64_t)1 << (8 * keep)) - 1;
#endif
    }
    return w;
}

/* The key of text[0..len), 1 <= len <= KPI_KEY_MAX. It reads the whole
 * words that hold the text: up to 7 bytes past its end must be readable
 * (ingest's texts are: see INGEST_TEXT_SLACK). */
KPI_HOT void kpi_key_of(const char *text, size_t len, struct kpi_key *out)
{
    out->len = len;
    out->w[0] = kpi_key_word(text, len);
    if (len <= 8) { /* most ids and dates: one word */
        memset(out->w + 1, 0, sizeof out->w - sizeof out->w[0]);
        return;
    }
    for (size_t i = 1; i < KPI_KEY_WORDS; i++)
        out->w[i] = 8 * i < len ? kpi_key_word(text + 8 * i, len - 8 * i) : 0;
}

KPI_HOT bool kpi_key_eq(const struct kpi_key *a, const struct kpi_key *b)
{
    if (a->len != b->len || a->w[0] != b->w[0])
        return false;
    for (size_t i = 1; 8 * i < a->len; i++)
        if (a->w[i] != b->w[i])
            return false;
    return true;
}

/* 64 well-mixed bits of a key (take the high ones). */
KPI_HOT uint64_t kpi_key_hash(const struct kpi_key *k)
{
    uint64_t h = k->len;
    for (size_t i = 0; i == 0 || 8 * i < k->len; i++)
        h = (h ^ k->w[i]) * 0x9E3779B97F4A7C15ull;
    return h ^ h >> 29;
}

/* -------------------------------------------------------------- numbers */

#define KPI_NUMBER_MAX 32

/* The shortest decimal text that reads back as exactly v ("1234.5", "0.1",
 * "1e-07", "-3"), with '.' whatever the locale; "" for NaN. buf must hold
 * KPI_NUMBER_MAX bytes. Returns buf. This is how every number leaves kpi, so
 * export -> import is lossless. */
char *kpi_format_number(double v, char *buf);

/* A sum or mean of imported numbers as a spreadsheet shows it: v rounded to
 * 15 significant digits (NaN and infinities unchanged). Binary arithmetic
 * leaves noise in the 16th and 17th digits of decimal sums, which
 * kpi_format_number would print: 12345.67 + 98765.43 is
 * 111111.09999999999 in doubles and 111111.1 after this. */
double kpi_round_total(double v);

/* ------------------------------------------------------------- buffers */

/* A growable byte buffer that stays NUL-terminated. Zero-initialise it
 * (struct kpi_buf b = {0}); free with kpi_buf_free. */
struct kpi_buf {
    char *data;
    size_t len;
    size_t cap;
};

/* Append bytes / a string / printf output. Return 0 or KPI_ESYSTEM (out of
 * memory; the buffer keeps what it had). */
int kpi_buf_append(struct kpi_buf *b, const void *bytes, size_t len);
int kpi_buf_puts(struct kpi_buf *b, const char *s);
int kpi_buf_printf(struct kpi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kpi_buf_free(struct kpi_buf *b);

/* -------------------------------------------------------------- SHA-256 */

/* SHA-256 (FIPS 180-4), for token secrets and the digests of imported files.
 * Streaming: init, update any number of times, final. The context is
 * caller-owned (on the stack); no allocation, no shared state. */
#define KPI_SHA256_SIZE 32                       /* bytes of a digest */
#define KPI_SHA256_HEX (2 * KPI_SHA256_SIZE + 1) /* lower-case hex plus NUL */

struct kpi_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    size_t used;
    unsigned char block[64];
    int impl; /* which rounds run, chosen at init (common/sha256_int.h) */
};

void kpi_sha256_init(struct kpi_sha256 *ctx);
void kpi_sha256_update(struct kpi_sha256 *ctx, const void *data, size_t len);
/* Write the digest; ctx must be initialised again before reuse. */
void kpi_sha256_final(struct kpi_sha256 *ctx, unsigned char digest[KPI_SHA256_SIZE]);
/* The digest of data[0..len) in one call. */
void kpi_sha256(const void *data, size_t len, unsigned char digest[KPI_SHA256_SIZE]);
/* The digest as 64 lower-case hex digits plus a NUL. Returns out. */
char *kpi_sha256_hex(const unsigned char digest[KPI_SHA256_SIZE], char out[KPI_SHA256_HEX]);

#endif
