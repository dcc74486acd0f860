/*
 * Data records to rows: the cells of the long, wide and periods layouts and
 * the patches of catalog files. Per row this does no allocation once the
 * scratch buffer has grown to the longest record, and no name matching (the
 * header did that once).
 */
#include "ingest/ingest_int.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ingest_trim_slow(const char *s, size_t len, size_t *out_len)
{
    const unsigned char *b = (const unsigned char *)s, *e = b + len;
    for (;;) {
        if (b < e && (*b == ' ' || (*b >= '\t' && *b <= '\r'))) {
            b++;
        } else if (e - b >= 2 && b[0] == 0xC2 && b[1] == 0xA0) {
            b += 2;
        } else if (e - b >= 3 && b[0] == 0xE2 && b[1] == 0x80 && b[2] == 0xAF) {
            b += 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (e > b && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r'))) {
            e--;
        } else if (e - b >= 2 && e[-2] == 0xC2 && e[-1] == 0xA0) {
            e -= 2;
        } else if (e - b >= 3 && e[-3] == 0xE2 && e[-2] == 0x80 && e[-1] == 0xAF) {
            e -= 3;
        } else {
            break;
        }
    }
    *out_len = (size_t)(e - b);
    return (const char *)b;
}

/* The trimmed text of field i, NUL-terminated: the field itself when only
 * leading blanks go, else a copy in the scratch buffer (reserved by
 * row_build for the whole record, so earlier copies stay put). */
static const char *trimmed(struct ingest_reader *r, const struct csvr_out *rec, size_t i)
{
    size_t len;
    const char *t = ingest_trim(rec->fields[i], rec->lens[i], &len);
    if (t + len == rec->fields[i] + rec->lens[i])
        return t;
    char *dst = r->scratch + r->scratch_len;
    memcpy(dst, t, len);
    dst[len] = '\0';
    r->scratch_len += len + 1;
    return dst;
}

static int reserve_scratch(struct ingest_reader *r, const struct csvr_out *rec,
                           struct kpi_error *err)
{
    r->scratch_len = 0;
    if (rec->bytes <= r->scratch_cap)
        return 0;
    char *p = realloc(r->scratch, rec->bytes);
    if (p == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
    r->scratch = p;
    r->scratch_cap = rec->bytes;
    return 0;
}

static int bad_cell(struct ingest_reader *r, const struct csvr_out *rec, size_t i, const char *what,
                    const char *expected, struct kpi_error *err)
{
    char q[64], h[64];
    return ingest_fail_at(
        err, KPI_EINPUT, r->name, rec->line, i + 1, "invalid %s \"%s\" in column \"%s\"%s%s%s",
        what, ingest_quote(rec->fields[i], q, sizeof q), ingest_quote(r->hdr[i], h, sizeof h),
        expected ? " (expected " : "", expected ? expected : "", expected ? ")" : "");
}

/* The key of a date text of 1 to 31 bytes, read a word at a time (the
 * field has INGEST_FIELD_SLACK readable bytes; those past the text are
 * masked off). Building it byte by byte and reading it back as words would
 * stall on store forwarding. */
/* The word at text holding its first keep bytes (keep >= 1), the others
 * zeroed. */
static uint64_t word_of(const char *text, size_t keep)
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

static void date_key_of(const char *text, size_t len, struct date_key *k)
{
    for (size_t i = 0; i < DATE_SLOT_WORDS; i++)
        k->w[i] = 8 * i < len ? word_of(text + 8 * i, len - 8 * i) : 0;
    k->len = len;
}

static bool date_key_eq(const struct date_key *a, const struct date_key *b)
{
    return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3]) |
            (a->len ^ b->len)) == 0;
}

/* The cached slot of key, or NULL with *pair where key would go. */
static struct date_slot *date_cache_find(struct ingest_reader *r, const struct date_key *key,
                                         struct date_slot **pair)
{
    struct date_slot *slot = r->date_last;
    if (slot != NULL && date_key_eq(&slot->key, key))
        return slot; /* sorted files repeat the previous row's date */
    uint64_t h = (key->w[0] ^ key->w[1] * 0xC2B2AE3D27D4EB4Full ^
                  key->w[2] * 0x165667B19E3779F9ull ^ key->w[3] * 0x27D4EB2F165667C5ull) *
                 0x9E3779B97F4A7C15ull;
    *pair = &r->date_cache[(h >> 56) & (DATE_CACHE_SLOTS - 2)];
    for (int k = 0; k < 2; k++)
        if (date_key_eq(&(*pair)[k].key, key))
            return r->date_last = &(*pair)[k];
    return NULL;
}

static int parse_date(struct ingest_reader *r, const struct csvr_out *rec, size_t i, int64_t *day,
                      struct kpi_error *err)
{
    const char *text = rec->fields[i];
    size_t len = rec->lens[i];
    struct date_slot *pair = NULL;
    struct date_key key;
    static_assert(DATE_SLOT_WORDS * 8 <= INGEST_FIELD_SLACK, "date keys read whole words");
    if (len > 0 && len < DATE_SLOT_WORDS * 8) {
        if (len <= 8) /* most dates (2026-05, 31/05/2026): no loop over the words */
            key = (struct date_key){{word_of(text, len), 0, 0, 0}, len};
        else
            date_key_of(text, len, &key);
        struct date_slot *hit = date_cache_find(r, &key, &pair);
        if (hit != NULL) {
            *day = hit->day;
            return 0;
        }
    }
    struct kpi_error why = {0};
    if (kpi_date_parse(text, r->opts.date_format, day, &why) != 0) {
        /* kpi_date_parse says what was expected: keep that part */
        const char *expected = strstr(why.message, "(expected");
        char q[64], h[64];
        return ingest_fail_at(err, KPI_EINPUT, r->name, rec->line, i + 1,
                              "invalid date \"%s\" in column \"%s\" %s",
                              ingest_quote(text, q, sizeof q), ingest_quote(r->hdr[i], h, sizeof h),
                              expected ? expected : why.message);
    }
    if (pair != NULL) {
        /* the newest date goes first; the older one of the pair stays */
        if (pair[0].key.len != 0)
            pair[1] = pair[0];
        pair[0].key = key;
        pair[0].day = *day;
        r->date_last = &pair[0];
    }
    return 0;
}

static int add_cell(struct ingest_reader *r, const struct csvr_out *rec, size_t i,
                    struct ingest_row *row, const char *team, const char *kpi, int64_t day,
                    bool is_target, struct kpi_error *err)
{
    struct ingest_cell *c = &r->cells[row->cell_count];
    if (ingest_number_n(rec->fields[i], rec->lens[i], r->decimal, &c->number) < 0)
        return bad_cell(r, rec, i, "number", NULL, err);
    c->team = team;
    c->kpi = kpi;
    c->day = day;
    c->is_target = is_target;
    c->column = (unsigned)(i + 1);
    row->cell_count++;
    return 0;
}

/* A reference that is empty while the row carries a value cannot be stored.
 * team and kpi are the row's references (kpi NULL in a wide file, whose
 * indicator names come from the header and are never empty). */
static int check_refs(struct ingest_reader *r, const struct csvr_out *rec,
                      const struct ingest_row *row, const char *team, const char *kpi,
                      struct kpi_error *err)
{
    if (team[0] != '\0' && (kpi == NULL || kpi[0] != '\0'))
        return 0;
    size_t k = 0;
    while (k < row->cell_count && isnan(row->cells[k].number))
        k++;
    if (k == row->cell_count)
        return 0; /* a row without any value creates nothing */
    int role = team[0] == '\0' ? COL_TEAM : COL_KPI;
    size_t col = r->col[role] ? r->col[role] : row->cells[k].column;
    char h[64];
    return ingest_fail_at(err, KPI_EINPUT, r->name, rec->line, col, "empty %s in column \"%s\"",
                          role == COL_TEAM ? "team" : "kpi",
                          ingest_quote(r->hdr[col - 1], h, sizeof h));
}

static int build_long(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
                      struct kpi_error *err)
{
    int64_t day;
    int rc = parse_date(r, rec, r->col[COL_DATE] - 1, &day, err);
    if (rc != 0)
        return rc;
    const char *team = r->col[COL_TEAM] ? trimmed(r, rec, r->col[COL_TEAM] - 1) : r->opts.team;
    const char *kpi = r->col[COL_KPI] ? trimmed(r, rec, r->col[COL_KPI] - 1) : r->opts.kpi;
    if (r->want_value &&
        (rc = add_cell(r, rec, r->col[COL_VALUE] - 1, row, team, kpi, day, false, err)) != 0)
        return rc;
    if (r->want_target) {
        size_t col = r->value_is_target ? r->col[COL_VALUE] : r->col[COL_TARGET];
        if ((rc = add_cell(r, rec, col - 1, row, team, kpi, day, true, err)) != 0)
            return rc;
    }
    return check_refs(r, rec, row, team, kpi, err);
}

static int build_wide(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
                      struct kpi_error *err)
{
    int64_t day;
    int rc = parse_date(r, rec, r->col[COL_DATE] - 1, &day, err);
    if (rc != 0)
        return rc;
    const char *team = r->col[COL_TEAM] ? trimmed(r, rec, r->col[COL_TEAM] - 1) : r->opts.team;
    bool target = r->kind == INGEST_KIND_TARGETS;
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->role[i] != COL_OTHER)
            continue;
        if ((rc = add_cell(r, rec, i, row, team, r->col_ref[i], day, target, err)) != 0)
            return rc;
    }
    return check_refs(r, rec, row, team, NULL, err);
}

static int build_periods(struct ingest_reader *r, const struct csvr_out *rec,
                         struct ingest_row *row, struct kpi_error *err)
{
    const char *team = r->col[COL_TEAM] ? trimmed(r, rec, r->col[COL_TEAM] - 1) : r->opts.team;
    const char *kpi = r->col[COL_KPI] ? trimmed(r, rec, r->col[COL_KPI] - 1) : r->opts.kpi;
    bool target = r->kind == INGEST_KIND_TARGETS;
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->role[i] != COL_OTHER)
            continue;
        int rc = add_cell(r, rec, i, row, team, kpi, r->col_day[i], target, err);
        if (rc != 0)
            return rc;
    }
    return check_refs(r, rec, row, team, kpi, err);
}

/* The trimmed text of the column with role, or NULL when there is no such
 * column or the cell is empty. */
static const char *opt_text(struct ingest_reader *r, const struct csvr_out *rec, int role)
{
    if (!r->col[role])
        return NULL;
    const char *t = trimmed(r, rec, r->col[role] - 1);
    return t[0] == '\0' ? NULL : t;
}

/* A tolerance or weight: 1 when set, 0 when empty, else an error. A
 * trailing '%' on amber and red means percent of the target (5 % = 0.05). */
static int opt_ratio(struct ingest_reader *r, const struct csvr_out *rec, int role,
                     const char *what, bool percent, double *out, struct kpi_error *err)
{
    if (!r->col[role])
        return 0;
    size_t i = r->col[role] - 1;
    int rc = ingest_number_n(rec->fields[i], rec->lens[i], r->decimal, out);
    if (rc == 1)
        return 0;
    if (rc < 0 || *out < 0)
        return bad_cell(r, rec, i, what, "a number >= 0", err);
    size_t len;
    const char *t = ingest_trim(rec->fields[i], rec->lens[i], &len);
    if (percent && len > 0 && t[len - 1] == '%')
        *out /= 100;
    return 1;
}

static int build_team(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
                      struct kpi_error *err)
{
    row->team.ref = opt_text(r, rec, COL_TEAM);
    if (row->team.ref == NULL)
        return bad_cell(r, rec, r->col[COL_TEAM] - 1, "team", "a team id", err);
    row->team.name = opt_text(r, rec, COL_NAME);
    row->team.parent = opt_text(r, rec, COL_PARENT);
    return 0;
}

static int build_indicator(struct ingest_reader *r, const struct csvr_out *rec,
                           struct ingest_row *row, struct kpi_error *err)
{
    struct kpi_indicator_patch *p = &row->indicator;
    const char *t;
    int rc;
    p->ref = opt_text(r, rec, COL_KPI);
    if (p->ref == NULL)
        return bad_cell(r, rec, r->col[COL_KPI] - 1, "kpi", "an indicator id", err);
    p->name = opt_text(r, rec, COL_NAME);
    p->unit = opt_text(r, rec, COL_UNIT);
    if ((t = opt_text(r, rec, COL_FAMILY)) != NULL) {
        if (kpi_family_parse(t, &p->family) != 0)
            return bad_cell(r, rec, r->col[COL_FAMILY] - 1, "family",
                            "financial, human, process or customer", err);
        p->set |= KPI_SET_FAMILY;
    }
    if ((t = opt_text(r, rec, COL_DIRECTION)) != NULL) {
        if (kpi_direction_parse(t, &p->direction) != 0)
            return bad_cell(r, rec, r->col[COL_DIRECTION] - 1, "direction", "up or down", err);
        p->set |= KPI_SET_DIRECTION;
    }
    if ((t = opt_text(r, rec, COL_PERIOD)) != NULL) {
        if (kpi_period_kind_parse(t, &p->period) != 0)
            return bad_cell(r, rec, r->col[COL_PERIOD] - 1, "period",
                            "day, week, month, quarter or year", err);
        p->set |= KPI_SET_PERIOD;
    }
    if ((t = opt_text(r, rec, COL_AGGREGATE)) != NULL) {
        if (kpi_aggregate_parse(t, &p->aggregate) != 0)
            return bad_cell(r, rec, r->col[COL_AGGREGATE] - 1, "aggregate", "sum or mean", err);
        p->set |= KPI_SET_AGGREGATE;
    }
    if ((rc = opt_ratio(r, rec, COL_AMBER, "amber", true, &p->amber, err)) < 0)
        return rc;
    if (rc > 0)
        p->set |= KPI_SET_AMBER;
    if ((rc = opt_ratio(r, rec, COL_RED, "red", true, &p->red, err)) < 0)
        return rc;
    if (rc > 0)
        p->set |= KPI_SET_RED;
    if ((rc = opt_ratio(r, rec, COL_WEIGHT, "weight", false, &p->weight, err)) < 0)
        return rc;
    if (rc > 0)
        p->set |= KPI_SET_WEIGHT;
    if ((p->set & KPI_SET_AMBER) && (p->set & KPI_SET_RED) && p->red < p->amber) {
        char a[KPI_NUMBER_MAX], b[KPI_NUMBER_MAX];
        return ingest_fail_at(err, KPI_EINPUT, r->name, rec->line, r->col[COL_RED],
                              "red (%s) must be >= amber (%s)", kpi_format_number(p->red, a),
                              kpi_format_number(p->amber, b));
    }
    return 0;
}

int row_build(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
              struct kpi_error *err)
{
    row->line = rec->line;
    row->field_count = rec->count;
    row->fields = rec->fields;
    row->cells = r->cells;
    row->indicator.amber = row->indicator.red = row->indicator.weight = NAN;
    if (rec->count != r->ncols)
        return ingest_fail_at(err, KPI_EINPUT, r->name, rec->line,
                              rec->count > r->ncols ? r->ncols + 1 : rec->count + 1,
                              "the record has %zu field%s, the header has %zu", rec->count,
                              rec->count == 1 ? "" : "s", r->ncols);
    int rc = reserve_scratch(r, rec, err);
    if (rc != 0)
        return rc;
    switch (r->layout) {
    case INGEST_LAYOUT_LONG:
        return build_long(r, rec, row, err);
    case INGEST_LAYOUT_WIDE:
        return build_wide(r, rec, row, err);
    case INGEST_LAYOUT_PERIODS:
        return build_periods(r, rec, row, err);
    case INGEST_LAYOUT_CATALOG:
        break;
    }
    if (r->kind == INGEST_KIND_TEAMS)
        return build_team(r, rec, row, err);
    return build_indicator(r, rec, row, err);
}
