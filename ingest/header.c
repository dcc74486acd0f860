/*
 * The header: what each column is, and from that the kind and layout of the
 * file. Headers are folded once (kpi_fold: trimmed, lower-case, accents
 * folded) and matched against fixed word lists; rows never look at names.
 *
 * Detection rules (docs copy these):
 *  1. Column roles. A header equal to a --column ROLE=HEADER takes ROLE, and
 *     for such a ROLE no alias applies (this resolves a clash with an
 *     indicator's name in a wide file). Otherwise the aliases:
 *     date/période/periode/mois/month, team/équipe/equipe/service,
 *     kpi/indicator/indicateur, value/valeur, target/objectif/cible/budget;
 *     then the catalog words id, name, parent, family, unit, direction,
 *     period, aggregate, amber, red, weight. Two columns with one role: error.
 *     An empty header cell is ignored, with its cells, and so is a total
 *     column (Total, Sous-total, Total général, Grand total, Subtotal).
 *  2. --kind teams|indicators, or no date/value/target column and not a
 *     periods header (rule 5): a catalog. teams = team or id, plus name,
 *     parent; indicators = kpi (or indicator) or id, plus name, family,
 *     unit, direction, period, aggregate, amber, red, weight. Any other
 *     column is an error. A header that fits both (id, name) needs --kind.
 *  3. long: a date column and a value and/or target column; team and kpi
 *     from their columns or --team / --kpi; a note column (note, comment,
 *     commentaire, remarque) gives each row's note. Other columns are
 *     ignored (in wide files a note column is an indicator like any other).
 *     Target and no value (or --kind targets) = targets; value and no target
 *     = observations; both = observations and targets (a row gives up to
 *     two cells; --kind observations|targets keeps only one of them).
 *  4. wide: a date column, no kpi/value/target column; team from its column
 *     or --team; every other column is an indicator named by its header.
 *  5. periods: no date/value/target column, team and kpi from columns or
 *     --team / --kpi, and every other column's header is a date (built-in
 *     forms, or --date-format): one cell per period column.
 *  6. wide and periods hold observations, or targets with --kind targets.
 *  A team column wins over --team, a kpi column over --kpi.
 */
#include "ingest/ingest_int.h"

#include <assert.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FOLD_MAX 256

struct word {
    const char *text; /* folded */
    unsigned char role;
};

static const struct word role_words[] = {
    {"date", COL_DATE},           {"periode", COL_DATE},    {"mois", COL_DATE},
    {"month", COL_DATE},          {"team", COL_TEAM},       {"equipe", COL_TEAM},
    {"service", COL_TEAM},        {"kpi", COL_KPI},         {"indicator", COL_KPI},
    {"indicateur", COL_KPI},      {"value", COL_VALUE},     {"valeur", COL_VALUE},
    {"target", COL_TARGET},       {"objectif", COL_TARGET}, {"cible", COL_TARGET},
    {"budget", COL_TARGET},       {"id", COL_ID},           {"name", COL_NAME},
    {"parent", COL_PARENT},       {"family", COL_FAMILY},   {"unit", COL_UNIT},
    {"direction", COL_DIRECTION}, {"period", COL_PERIOD},   {"aggregate", COL_AGGREGATE},
    {"amber", COL_AMBER},         {"red", COL_RED},         {"weight", COL_WEIGHT},
    {"note", COL_NOTE},           {"comment", COL_NOTE},    {"commentaire", COL_NOTE},
    {"remarque", COL_NOTE},
};

static const char *const role_names[COL_COUNT] = {
    [COL_DATE] = "date",       [COL_TEAM] = "team",           [COL_KPI] = "kpi",
    [COL_VALUE] = "value",     [COL_TARGET] = "target",       [COL_NOTE] = "note",
    [COL_ID] = "id",           [COL_NAME] = "name",           [COL_PARENT] = "parent",
    [COL_FAMILY] = "family",   [COL_UNIT] = "unit",           [COL_DIRECTION] = "direction",
    [COL_PERIOD] = "period",   [COL_AGGREGATE] = "aggregate", [COL_AMBER] = "amber",
    [COL_RED] = "red",         [COL_WEIGHT] = "weight",       [COL_OTHER] = "other",
    [COL_IGNORED] = "ignored",
};

int ingest_role_parse(const char *text, enum ingest_role *out)
{
    for (int r = 0; r < INGEST_ROLE_COUNT; r++) {
        if (strcasecmp(text, role_names[r]) == 0) {
            *out = (enum ingest_role)r;
            return 0;
        }
    }
    return KPI_EUSAGE;
}

char ingest_detect_delimiter(const char *line, size_t len)
{
    size_t comma = 0, semi = 0, tab = 0;
    size_t i = 0;
    while (i < len && (line[i] == '\n' || line[i] == '\r'))
        i++; /* blank lines before the header are not records */
    bool quoted = false;
    for (; i < len; i++) {
        char c = line[i];
        if (c == '"')
            quoted = !quoted; /* a doubled quote toggles twice */
        else if (quoted)
            continue;
        else if (c == '\n')
            break;
        else if (c == ',')
            comma++;
        else if (c == ';')
            semi++;
        else if (c == '\t')
            tab++;
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    return ',';
}

static bool in_set(unsigned char role, const unsigned char *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == role)
            return true;
    return false;
}

static const unsigned char team_cols[] = {COL_NAME, COL_PARENT, COL_IGNORED};
static const unsigned char indicator_cols[] = {COL_NAME,   COL_FAMILY,    COL_UNIT,  COL_DIRECTION,
                                               COL_PERIOD, COL_AGGREGATE, COL_AMBER, COL_RED,
                                               COL_WEIGHT, COL_IGNORED};

/* Does the header fit a catalog kind? *bad gets the first column that does
 * not belong (0 when it is the key that is missing). */
static bool fits_catalog(const struct ingest_reader *r, enum ingest_kind kind, size_t *bad)
{
    bool teams = kind == INGEST_KIND_TEAMS;
    size_t key = teams ? r->col[COL_TEAM] : r->col[COL_KPI];
    size_t other_key = teams ? r->col[COL_KPI] : r->col[COL_TEAM];
    *bad = 0;
    if (key && r->col[COL_ID]) {
        *bad = key > r->col[COL_ID] ? key : r->col[COL_ID];
        return false;
    }
    if (!key && !r->col[COL_ID])
        return false;
    if (other_key) {
        *bad = other_key;
        return false;
    }
    size_t keycol = key ? key : r->col[COL_ID];
    for (size_t i = 0; i < r->ncols; i++) {
        if (i + 1 == keycol)
            continue;
        bool ok = teams ? in_set(r->role[i], team_cols, sizeof team_cols)
                        : in_set(r->role[i], indicator_cols, sizeof indicator_cols);
        if (!ok) {
            *bad = i + 1;
            return false;
        }
    }
    return true;
}

static int catalog_error(struct ingest_reader *r, enum ingest_kind kind, size_t bad,
                         struct kpi_error *err)
{
    bool teams = kind == INGEST_KIND_TEAMS;
    const char *expected = teams ? "team or id, name, parent"
                                 : "kpi (or indicator) or id, name, family, unit, direction, "
                                   "period, aggregate, amber, red, weight";
    if (bad == 0)
        return ingest_fail_at(
            err, KPI_EINPUT, r->name, 0, 0, "a %s file needs a %s column (columns: %s)",
            teams ? "teams" : "indicators", teams ? "team or id" : "kpi or id", expected);
    char q[64];
    return ingest_fail_at(err, KPI_EINPUT, r->name, r->header_line, bad,
                          "unexpected column \"%s\" in a %s file (columns: %s)",
                          ingest_quote(r->hdr[bad - 1], q, sizeof q),
                          teams ? "teams" : "indicators", expected);
}

static int setup_catalog(struct ingest_reader *r, struct kpi_error *err)
{
    size_t bad_t = 0, bad_i = 0;
    if (r->opts.kind == INGEST_KIND_TEAMS || r->opts.kind == INGEST_KIND_INDICATORS) {
        size_t bad;
        if (!fits_catalog(r, r->opts.kind, &bad))
            return catalog_error(r, r->opts.kind, bad, err);
        r->kind = r->opts.kind;
    } else {
        bool t = fits_catalog(r, INGEST_KIND_TEAMS, &bad_t);
        bool i = fits_catalog(r, INGEST_KIND_INDICATORS, &bad_i);
        if (t && i)
            return ingest_fail_at(err, KPI_EUSAGE, r->name, 0, 0,
                                  "a header of only id and name fits both teams and indicators "
                                  "files: give --kind teams or --kind indicators");
        if (!t && !i) {
            if (r->col[COL_TEAM] || (r->col[COL_ID] && r->col[COL_PARENT]))
                return catalog_error(r, INGEST_KIND_TEAMS, bad_t, err);
            if (r->col[COL_KPI] || r->col[COL_ID])
                return catalog_error(r, INGEST_KIND_INDICATORS, bad_i, err);
            return ingest_fail_at(
                err, KPI_EINPUT, r->name, 0, 0,
                "the header fits no kind of file: expected date, team, kpi, value "
                "and/or target (long), date, team and one column per indicator (wide), team, kpi "
                "and one column per period (periods), or a teams or indicators catalog");
        }
        r->kind = t ? INGEST_KIND_TEAMS : INGEST_KIND_INDICATORS;
    }
    r->layout = INGEST_LAYOUT_CATALOG;
    if (r->kind == INGEST_KIND_TEAMS && !r->col[COL_TEAM])
        r->col[COL_TEAM] = r->col[COL_ID];
    if (r->kind == INGEST_KIND_INDICATORS && !r->col[COL_KPI])
        r->col[COL_KPI] = r->col[COL_ID];
    return 0;
}

static int need_team_kpi(struct ingest_reader *r, bool kpi, struct kpi_error *err)
{
    if (!r->col[COL_TEAM] && r->opts.team == NULL)
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                              "no team column (expected team, équipe, equipe or service, or "
                              "--column team=HEADER); give --team for a file of one team");
    if (kpi && !r->col[COL_KPI] && r->opts.kpi == NULL)
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                              "no kpi column (expected kpi, indicator or indicateur, or "
                              "--column kpi=HEADER); give --kpi for a file of one indicator");
    return 0;
}

static int cmp_fold(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* wide: every column that is not date or team is an indicator */
static int setup_wide(struct ingest_reader *r, struct kpi_error *err)
{
    int rc = need_team_kpi(r, false, err);
    if (rc != 0)
        return rc;
    r->col_ref = calloc(r->ncols, sizeof *r->col_ref);
    r->col_ref_len = calloc(r->ncols, sizeof *r->col_ref_len);
    char **sorted = calloc(r->ncols, sizeof *sorted);
    size_t n = 0;
    if (r->col_ref == NULL || r->col_ref_len == NULL || sorted == NULL) {
        free(sorted);
        return ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
    }
    for (size_t i = 0; i < r->ncols; i++) {
        unsigned char role = r->role[i];
        if (role == COL_DATE || role == COL_TEAM || role == COL_IGNORED)
            continue;
        r->role[i] = COL_OTHER; /* catalog words are indicator names here */
        size_t len;
        const char *t = ingest_trim(r->hdr[i], strlen(r->hdr[i]), &len);
        /* the folded name after it gives INGEST_FIELD_SLACK readable bytes */
        static_assert(FOLD_MAX >= INGEST_FIELD_SLACK, "the slack of a reference");
        char *ref = malloc(len + 1 + FOLD_MAX);
        if (ref == NULL) {
            free(sorted);
            return ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
        }
        memcpy(ref, t, len);
        ref[len] = '\0';
        r->col_ref[i] = ref;
        r->col_ref_len[i] = len;
        /* the folded name after the reference, for the duplicate check */
        kpi_fold(ref, ref + len + 1, FOLD_MAX);
        sorted[n++] = ref + len + 1;
    }
    if (n == 0) {
        free(sorted);
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                              "a file with a date and no value or target column needs one column "
                              "per indicator (wide layout)");
    }
    qsort(sorted, n, sizeof *sorted, cmp_fold);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            char q[64];
            ingest_quote(sorted[i], q, sizeof q);
            free(sorted);
            return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                                  "two indicator columns are named \"%s\"", q);
        }
    }
    free(sorted);
    r->layout = INGEST_LAYOUT_WIDE;
    r->kind = r->opts.kind == INGEST_KIND_TARGETS ? INGEST_KIND_TARGETS : INGEST_KIND_OBSERVATIONS;
    return 0;
}

/* The first period column's header, for messages. */
static const char *first_period_header(const struct ingest_reader *r)
{
    for (size_t i = 0; i < r->ncols; i++)
        if (r->role[i] != COL_TEAM && r->role[i] != COL_KPI && r->role[i] != COL_IGNORED)
            return r->hdr[i];
    return "";
}

/* Do all the columns other than team and kpi name dates? Fills col_day. */
static bool headers_are_dates(struct ingest_reader *r, size_t *bad, struct kpi_error *why)
{
    size_t n = 0;
    *bad = 0;
    for (size_t i = 0; i < r->ncols; i++) {
        unsigned char role = r->role[i];
        if (role == COL_TEAM || role == COL_KPI || role == COL_IGNORED)
            continue;
        if (kpi_date_parse(r->hdr[i], r->opts.date_format, &r->col_day[i], why) != 0) {
            *bad = i + 1;
            return false;
        }
        n++;
    }
    return n > 0;
}

static int setup_periods(struct ingest_reader *r, struct kpi_error *err)
{
    int rc = need_team_kpi(r, true, err);
    if (rc != 0)
        return rc;
    /* A budget sheet and a monthly report look alike: reading one for the
     * other overwrites real figures (SPEC §4). */
    if (r->opts.kind != INGEST_KIND_OBSERVATIONS && r->opts.kind != INGEST_KIND_TARGETS)
        return ingest_fail_at(err, KPI_EUSAGE, r->name, r->header_line, 0,
                              "a file with one column per period (team, kpi, %s, ...) may hold "
                              "actuals or a budget: say which with --kind observations or "
                              "--kind targets",
                              first_period_header(r));
    for (size_t i = 0; i < r->ncols; i++) {
        unsigned char role = r->role[i];
        if (role == COL_TEAM || role == COL_KPI || role == COL_IGNORED)
            continue;
        r->role[i] = COL_OTHER;
        for (size_t k = 0; k < i; k++) {
            if (r->role[k] == COL_OTHER && r->col_day[k] == r->col_day[i]) {
                char q1[64], q2[64];
                return ingest_fail_at(err, KPI_EINPUT, r->name, r->header_line, i + 1,
                                      "column \"%s\" names the same period as column %zu "
                                      "(\"%s\")",
                                      ingest_quote(r->hdr[i], q1, sizeof q1), k + 1,
                                      ingest_quote(r->hdr[k], q2, sizeof q2));
            }
        }
    }
    r->layout = INGEST_LAYOUT_PERIODS;
    r->kind = r->opts.kind == INGEST_KIND_TARGETS ? INGEST_KIND_TARGETS : INGEST_KIND_OBSERVATIONS;
    return 0;
}

static int setup_long(struct ingest_reader *r, struct kpi_error *err)
{
    int rc = need_team_kpi(r, true, err);
    if (rc != 0)
        return rc;
    bool value = r->col[COL_VALUE] != 0, target = r->col[COL_TARGET] != 0;
    switch (r->opts.kind) {
    case INGEST_KIND_OBSERVATIONS:
        if (!value)
            return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                                  "an observations file needs a value column (value or valeur)");
        r->want_value = true;
        r->kind = INGEST_KIND_OBSERVATIONS;
        break;
    case INGEST_KIND_TARGETS:
        r->want_target = true;
        r->value_is_target = !target;
        r->kind = INGEST_KIND_TARGETS;
        break;
    default:
        r->want_value = value;
        r->want_target = target;
        r->kind = value ? INGEST_KIND_OBSERVATIONS : INGEST_KIND_TARGETS;
        break;
    }
    r->layout = INGEST_LAYOUT_LONG;
    return 0;
}

/* A total column of a spreadsheet (a budget's "Total" after its months):
 * the same words as the total rows the import skips (SPEC §4), compared by
 * slug. It is the sum of the row, not a period or an indicator. */
static bool is_total_header(const char *text)
{
    static const char *const totals[] = {"total",          "sous-total",  "total-general",
                                         "total-generale", "grand-total", "subtotal",
                                         "sub-total"};
    char slug[KPI_ID_MAX + 1];
    if (kpi_slugify(text, slug) == 0)
        return false;
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++)
        if (strcmp(slug, totals[i]) == 0)
            return true;
    return false;
}

/* Give each column its role (rule 1). */
static int assign_roles(struct ingest_reader *r, struct kpi_error *err)
{
    char mapped[INGEST_ROLE_COUNT][FOLD_MAX];
    char f[FOLD_MAX];
    for (int k = 0; k < INGEST_ROLE_COUNT; k++)
        if (r->opts.column[k] != NULL)
            kpi_fold(r->opts.column[k], mapped[k], sizeof mapped[k]);
    for (size_t i = 0; i < r->ncols; i++) {
        kpi_fold(r->hdr[i], f, sizeof f);
        unsigned char role = f[0] == '\0' ? COL_IGNORED : COL_OTHER;
        for (int k = 0; k < INGEST_ROLE_COUNT && role == COL_OTHER; k++)
            if (r->opts.column[k] != NULL && strcmp(f, mapped[k]) == 0)
                role = (unsigned char)k;
        for (size_t w = 0; w < sizeof role_words / sizeof role_words[0] && role == COL_OTHER; w++) {
            unsigned char cand = role_words[w].role;
            if (cand < INGEST_ROLE_COUNT && r->opts.column[cand] != NULL)
                continue;
            if (strcmp(f, role_words[w].text) == 0)
                role = cand;
        }
        if (role == COL_OTHER && is_total_header(r->hdr[i]))
            role = COL_IGNORED; /* ignored with its cells, like an empty header */
        r->role[i] = role;
        if (role == COL_OTHER || role == COL_IGNORED)
            continue;
        if (r->col[role]) {
            char q1[64], q2[64];
            return ingest_fail_at(err, KPI_EINPUT, r->name, r->header_line, i + 1,
                                  "column \"%s\" and column %zu (\"%s\") both have the role %s",
                                  ingest_quote(r->hdr[i], q1, sizeof q1), r->col[role],
                                  ingest_quote(r->hdr[r->col[role] - 1], q2, sizeof q2),
                                  role_names[role]);
        }
        r->col[role] = i + 1;
    }
    for (int k = 0; k < INGEST_ROLE_COUNT; k++) {
        if (r->opts.column[k] != NULL && !r->col[k]) {
            char q[64];
            return ingest_fail_at(err, KPI_EUSAGE, r->name, 0, 0,
                                  "--column %s=%s names no column of the header", role_names[k],
                                  ingest_quote(r->opts.column[k], q, sizeof q));
        }
    }
    return 0;
}

void header_reset(struct ingest_reader *r)
{
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->hdr != NULL)
            free(r->hdr[i]);
        if (r->col_ref != NULL)
            free(r->col_ref[i]);
    }
    free(r->hdr);
    free(r->col_ref);
    free(r->col_ref_len);
    free(r->role);
    free(r->col_day);
    r->hdr = r->col_ref = NULL;
    r->col_ref_len = NULL;
    r->role = NULL;
    r->col_day = NULL;
    r->ncols = 0;
    memset(r->col, 0, sizeof r->col);
    r->kind = INGEST_KIND_AUTO;
    r->layout = INGEST_LAYOUT_CATALOG;
    r->want_value = r->want_target = r->value_is_target = false;
    r->has_role = false;
    r->header_line = 0;
}

/* A header cell as a name: a line break inside its quotes (CRLF, LF or CR)
 * reads as one space (SPEC §4). */
static void copy_header_text(char *dst, const char *src, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r' && i + 1 < len && src[i + 1] == '\n')
            continue;
        dst[w++] = src[i] == '\n' || src[i] == '\r' ? ' ' : src[i];
    }
    dst[w] = '\0';
}

int header_setup(struct ingest_reader *r, const struct csvr_out *rec, struct kpi_error *err)
{
    r->header_line = rec->line;
    r->ncols = rec->count;
    r->hdr = calloc(rec->count, sizeof *r->hdr);
    r->role = calloc(rec->count, sizeof *r->role);
    r->col_day = calloc(rec->count, sizeof *r->col_day);
    if (r->hdr == NULL || r->role == NULL || r->col_day == NULL)
        return ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
    for (size_t i = 0; i < rec->count; i++) {
        r->hdr[i] = malloc(rec->lens[i] + 1);
        if (r->hdr[i] == NULL)
            return ingest_fail_at(err, KPI_ESYSTEM, r->name, 0, 0, "out of memory");
        copy_header_text(r->hdr[i], rec->fields[i], rec->lens[i]);
    }
    int rc = assign_roles(r, err);
    for (size_t i = 0; i < r->ncols; i++)
        r->has_role |= r->role[i] != COL_OTHER && r->role[i] != COL_IGNORED;
    if (rc != 0)
        return rc;

    enum ingest_kind k = r->opts.kind;
    bool has_date = r->col[COL_DATE] != 0;
    bool has_number = r->col[COL_VALUE] || r->col[COL_TARGET];
    if (k == INGEST_KIND_TEAMS || k == INGEST_KIND_INDICATORS)
        return setup_catalog(r, err);
    if (has_date && has_number)
        return setup_long(r, err);
    if (has_date) {
        if (r->col[COL_KPI])
            return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                                  "a file with date and kpi columns needs a value or target "
                                  "column (value, valeur, target, objectif, cible or budget)");
        return setup_wide(r, err);
    }
    if (has_number)
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                              "no date column (expected date, période, periode, mois or month, "
                              "or --column date=HEADER)");
    size_t bad;
    struct kpi_error why = {0};
    if (headers_are_dates(r, &bad, &why))
        return setup_periods(r, err);
    if (k == INGEST_KIND_AUTO && !(r->col[COL_TEAM] && r->col[COL_KPI]))
        return setup_catalog(r, err);
    if (bad == 0)
        return ingest_fail_at(err, KPI_EINPUT, r->name, 0, 0,
                              "no date column (expected date, période, periode, mois or month), "
                              "and no period columns after team and kpi");
    char q[64], detail[KPI_ERROR_MAX];
    kpi_date_explain(r->hdr[bad - 1], r->opts.date_format, detail, sizeof detail);
    return ingest_fail_at(err, KPI_EINPUT, r->name, r->header_line, bad,
                          "no date column, and column \"%s\" is not a period (%s)",
                          ingest_quote(r->hdr[bad - 1], q, sizeof q), detail);
}
