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

#define BOTH_EDGES 3
const unsigned char ingest_blank_edge[256] = {
    ['\t'] = BOTH_EDGES, ['\n'] = BOTH_EDGES, ['\v'] = BOTH_EDGES, ['\f'] = BOTH_EDGES,
    ['\r'] = BOTH_EDGES, [' '] = BOTH_EDGES,  [0xC2] = 1,          [0xE2] = 1,
    [0xA0] = 2,          [0xAF] = 2,
};

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

/* The trimmed text of field i, NUL-terminated and with INGEST_FIELD_SLACK
 * readable bytes after it: the field itself when only leading blanks go,
 * else a copy in the scratch buffer (reserved by row_build for the whole
 * record, so earlier copies stay put). */
KPI_HOT const char *trimmed_n(struct ingest_reader *r, const struct csvr_out *rec, size_t i,
                              size_t *len)
{
    const char *t = ingest_trim(rec->fields[i], rec->lens[i], len);
    if (t + *len == rec->fields[i] + rec->lens[i])
        return t;
    char *dst = r->scratch + r->scratch_len;
    memcpy(dst, t, *len);
    dst[*len] = '\0';
    r->scratch_len += *len + 1;
    return dst;
}

static const char *trimmed(struct ingest_reader *r, const struct csvr_out *rec, size_t i)
{
    size_t len;
    return trimmed_n(r, rec, i, &len);
}

KPI_HOT int reserve_scratch(struct ingest_reader *r, const struct csvr_out *rec,
                            struct kpi_error *err)
{
    r->scratch_len = 0;
    size_t need = rec->bytes + INGEST_FIELD_SLACK;
    if (need <= r->scratch_cap)
        return 0;
    char *p = realloc(r->scratch, need);
    if (p == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
    r->scratch = p;
    r->scratch_cap = need;
    return 0;
}

KPI_COLD static int bad_cell(struct ingest_reader *r, const struct csvr_out *rec, size_t i,
                             const char *what, const char *expected, struct kpi_error *err)
{
    char q[64], h[64];
    return ingest_fail_at(
        err, KPI_EINPUT, r->name, rec->line, i + 1, "invalid %s \"%s\" in column \"%s\"%s%s%s",
        what, ingest_quote(rec->fields[i], q, sizeof q), ingest_quote(r->hdr[i], h, sizeof h),
        expected ? " (expected " : "", expected ? expected : "", expected ? ")" : "");
}

KPI_COLD static int bad_number(struct ingest_reader *r, const struct csvr_out *rec, size_t i,
                               struct kpi_error *err)
{
    char q[64], h[64], hint[320];
    ingest_number_hint(rec->fields[i], r->decimal, r->csv.delimiter, r->opts.decimal != 0, hint,
                       sizeof hint);
    return ingest_fail_at(
        err, KPI_EINPUT, r->name, rec->line, i + 1, "invalid number \"%s\" in column \"%s\": %s",
        ingest_quote(rec->fields[i], q, sizeof q), ingest_quote(r->hdr[i], h, sizeof h), hint);
}

/* The cached slot of key, or NULL with *pair where key would go. */
KPI_HOT struct date_slot *date_cache_find(struct ingest_reader *r, const struct kpi_key *key,
                                          struct date_slot **pair)
{
    struct date_slot *slot = r->date_last;
    if (slot != NULL && kpi_key_eq(&slot->key, key))
        return slot; /* sorted files repeat the previous row's date */
    *pair = &r->date_cache[(kpi_key_hash(key) >> 56) & (DATE_CACHE_SLOTS - 2)];
    for (int k = 0; k < 2; k++)
        if (kpi_key_eq(&(*pair)[k].key, key))
            return r->date_last = &(*pair)[k];
    return NULL;
}

/* A date the cache does not know: parsed, then cached (pair: where, or
 * NULL for a text without a key). */
KPI_COLD static int parse_new_date(struct ingest_reader *r, const struct csvr_out *rec, size_t i,
                                   const struct kpi_key *key, struct date_slot *pair, int64_t *day,
                                   struct kpi_error *err)
{
    const char *text = rec->fields[i];
    if (kpi_date_parse(text, r->opts.date_format, day, NULL) != 0) {
        char q[64], h[64], detail[KPI_ERROR_MAX];
        kpi_date_explain(text, r->opts.date_format, detail, sizeof detail);
        return ingest_fail_at(
            err, KPI_EINPUT, r->name, rec->line, i + 1, "invalid date \"%s\" in column \"%s\" (%s)",
            ingest_quote(text, q, sizeof q), ingest_quote(r->hdr[i], h, sizeof h), detail);
    }
    if (pair != NULL) {
        /* the newest date goes first; the older one of the pair stays */
        if (pair[0].key.len != 0)
            pair[1] = pair[0];
        pair[0].key = *key;
        pair[0].day = *day;
        r->date_last = &pair[0];
    }
    return 0;
}

KPI_HOT int parse_date(struct ingest_reader *r, const struct csvr_out *rec, size_t i, int64_t *day,
                       struct kpi_error *err)
{
    size_t len = rec->lens[i];
    struct date_slot *pair = NULL;
    struct kpi_key key;
    static_assert(INGEST_FIELD_SLACK >= 8, "keys read the whole words of a text");
    if (len > 0 && len <= KPI_KEY_MAX) {
        kpi_key_of(rec->fields[i], len, &key);
        struct date_slot *hit = date_cache_find(r, &key, &pair);
        if (hit != NULL) {
            *day = hit->day;
            return 0;
        }
    }
    return parse_new_date(r, rec, i, &key, pair, day, err);
}

/* The team (or kpi) of a row: its column's trimmed text, or the one given
 * for the whole file. */
KPI_HOT const char *ref_of(struct ingest_reader *r, const struct csvr_out *rec, int role,
                           const struct fixed_ref *fixed, size_t *len)
{
    if (r->col[role])
        return trimmed_n(r, rec, r->col[role] - 1, len);
    *len = fixed->len;
    return fixed->text;
}

/* cell carries team, kpi and day: its number is column i. */
KPI_HOT int add_cell(struct ingest_reader *r, const struct csvr_out *rec, size_t i,
                     struct ingest_row *row, const struct ingest_cell *cell, bool is_target,
                     struct kpi_error *err)
{
    struct ingest_cell *c = &r->cells[row->cell_count];
    *c = *cell;
    if (ingest_number_field(rec->fields[i], rec->lens[i], r->decimal, &c->number) < 0)
        return bad_number(r, rec, i, err);
    c->is_target = is_target;
    c->column = (unsigned)(i + 1);
    row->cell_count++;
    return 0;
}

/* A reference that is empty while the row carries a value cannot be stored.
 * team and kpi are the row's references (kpi NULL in a wide file, whose
 * indicator names come from the header and are never empty). */
KPI_COLD static int check_empty_refs(struct ingest_reader *r, const struct csvr_out *rec,
                                     const struct ingest_row *row, const char *team,
                                     struct kpi_error *err)
{
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

KPI_HOT int check_refs(struct ingest_reader *r, const struct csvr_out *rec,
                       const struct ingest_row *row, const char *team, const char *kpi,
                       struct kpi_error *err)
{
    if (team[0] != '\0' && (kpi == NULL || kpi[0] != '\0'))
        return 0;
    return check_empty_refs(r, rec, row, team, err);
}

static int build_long(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
                      struct kpi_error *err)
{
    struct ingest_cell cell;
    int rc = parse_date(r, rec, r->col[COL_DATE] - 1, &cell.day, err);
    if (rc != 0)
        return rc;
    cell.team = ref_of(r, rec, COL_TEAM, &r->team_opt, &cell.team_len);
    cell.kpi = ref_of(r, rec, COL_KPI, &r->kpi_opt, &cell.kpi_len);
    if (r->want_value &&
        (rc = add_cell(r, rec, r->col[COL_VALUE] - 1, row, &cell, false, err)) != 0)
        return rc;
    if (r->want_target) {
        size_t col = r->value_is_target ? r->col[COL_VALUE] : r->col[COL_TARGET];
        if ((rc = add_cell(r, rec, col - 1, row, &cell, true, err)) != 0)
            return rc;
    }
    if (r->col[COL_NOTE]) {
        size_t i = r->col[COL_NOTE] - 1, len;
        const char *t = ingest_trim(rec->fields[i], rec->lens[i], &len);
        if (len > 0) {
            row->note = t;
            row->note_len = len;
            row->note_column = (unsigned)(i + 1);
        }
    }
    return check_refs(r, rec, row, cell.team, cell.kpi, err);
}

static int build_wide(struct ingest_reader *r, const struct csvr_out *rec, struct ingest_row *row,
                      struct kpi_error *err)
{
    struct ingest_cell cell;
    int rc = parse_date(r, rec, r->col[COL_DATE] - 1, &cell.day, err);
    if (rc != 0)
        return rc;
    cell.team = ref_of(r, rec, COL_TEAM, &r->team_opt, &cell.team_len);
    bool target = r->kind == INGEST_KIND_TARGETS;
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->role[i] != COL_OTHER)
            continue;
        cell.kpi = r->col_ref[i];
        cell.kpi_len = r->col_ref_len[i];
        if ((rc = add_cell(r, rec, i, row, &cell, target, err)) != 0)
            return rc;
    }
    return check_refs(r, rec, row, cell.team, NULL, err);
}

static int build_periods(struct ingest_reader *r, const struct csvr_out *rec,
                         struct ingest_row *row, struct kpi_error *err)
{
    struct ingest_cell cell;
    cell.team = ref_of(r, rec, COL_TEAM, &r->team_opt, &cell.team_len);
    cell.kpi = ref_of(r, rec, COL_KPI, &r->kpi_opt, &cell.kpi_len);
    bool target = r->kind == INGEST_KIND_TARGETS;
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->role[i] != COL_OTHER)
            continue;
        cell.day = r->col_day[i];
        int rc = add_cell(r, rec, i, row, &cell, target, err);
        if (rc != 0)
            return rc;
    }
    return check_refs(r, rec, row, cell.team, cell.kpi, err);
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
    row->cell_count = 0;
    row->note = NULL;
    row->note_len = 0;
    row->note_column = 0;
    if (r->layout == INGEST_LAYOUT_CATALOG) {
        memset(&row->team, 0, sizeof row->team);
        memset(&row->indicator, 0, sizeof row->indicator);
        row->indicator.amber = row->indicator.red = row->indicator.weight = NAN;
    }
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
