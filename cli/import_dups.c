/* Cells given twice within one file (SPEC §4): two rows that give one
 * (team, indicator, period) different values are bad input, both lines
 * named; the same value twice is an idempotent row; with --aggregate the
 * rows combine by the indicator's aggregate, as daily lines make a month.
 *
 * Cost. The staging of a cell that is new in the working state (nearly
 * every cell of a fresh load) asks store_txn_get, which answers in two
 * comparisons for the next period of the last series, and nothing more: no
 * cell is remembered. A cell that already has a working value is either a
 * stored cell met for the first time (remembered from then on, with its
 * line: corrections and re-imports pay a hash insert per cell) or a cell
 * this file set before. In that last case, when it gives another value,
 * the line of the earlier row is found by reading the file again up to the
 * current row (once per file: from then on every cell is remembered). Not
 * possible for standard input, which is remembered from the start; so are
 * the cells of --aggregate, which are staged only at the end of the file. */
#include "cli/import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t series_of(size_t team, size_t indicator)
{
    return (uint64_t)team << 32 | (uint64_t)indicator;
}

static int64_t pf_of(int64_t period, enum store_field field)
{
    return period * 2 + (field == STORE_TARGET ? 1 : 0);
}

static size_t slot_of(uint64_t series, int64_t pf, size_t cap)
{
    uint64_t h = (series * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)pf * 0xC2B2AE3D27D4EB4Full);
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

struct import_cell *import_cells_find(const struct import_cells *m, size_t team, size_t indicator,
                                      int64_t period, enum store_field field)
{
    if (m->cap == 0)
        return NULL;
    uint64_t s = series_of(team, indicator);
    int64_t pf = pf_of(period, field);
    for (size_t i = slot_of(s, pf, m->cap); m->index[i] != 0; i = (i + 1) & (m->cap - 1)) {
        struct import_cell *c = &m->cells[m->index[i] - 1];
        if (c->series == s && c->pf == pf)
            return c;
    }
    return NULL;
}

static int grow(struct import_cells *m)
{
    if (m->count == m->cells_cap) {
        size_t cap = m->cells_cap ? m->cells_cap * 2 : 256;
        struct import_cell *cells = realloc(m->cells, cap * sizeof *cells);
        if (cells == NULL)
            return KPI_ESYSTEM;
        m->cells = cells;
        m->cells_cap = cap;
    }
    if ((m->count + 1) * 2 <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap * 2 : 512;
    size_t *index = calloc(cap, sizeof *index);
    if (index == NULL)
        return KPI_ESYSTEM;
    for (size_t k = 0; k < m->count; k++) {
        size_t i = slot_of(m->cells[k].series, m->cells[k].pf, cap);
        while (index[i] != 0)
            i = (i + 1) & (cap - 1);
        index[i] = k + 1;
    }
    free(m->index);
    m->index = index;
    m->cap = cap;
    return 0;
}

int import_cells_add(struct import_cells *m, size_t team, size_t indicator, int64_t period,
                     enum store_field field, unsigned long line, double v, struct import_cell **out)
{
    struct import_cell *c = import_cells_find(m, team, indicator, period, field);
    if (c != NULL) {
        c->sum += v;
        c->count++;
        *out = c;
        return 0;
    }
    if (grow(m) != 0)
        return KPI_ESYSTEM;
    uint64_t s = series_of(team, indicator);
    int64_t pf = pf_of(period, field);
    size_t i = slot_of(s, pf, m->cap);
    while (m->index[i] != 0)
        i = (i + 1) & (m->cap - 1);
    c = &m->cells[m->count];
    *c = (struct import_cell){s, pf, line, v, 1};
    m->index[i] = ++m->count;
    *out = c;
    return 0;
}

void import_cell_key(const struct import_cell *c, size_t *team, size_t *indicator, int64_t *period,
                     enum store_field *field)
{
    *team = (size_t)(c->series >> 32);
    *indicator = (size_t)(c->series & 0xFFFFFFFFu);
    *period = c->pf >> 1; /* periods are >= 0 (years 1 to 9999) */
    *field = (c->pf & 1) ? STORE_TARGET : STORE_VALUE;
}

void import_cells_free(struct import_cells *m)
{
    free(m->cells);
    free(m->index);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ rescan */

/* Reading the file again up to the current row, to remember the line of
 * every cell staged before it. */
struct rescan {
    struct import_dups *d;
    unsigned long stop; /* the current row's line */
    int status;         /* KPI_ESYSTEM when out of memory */
};

enum { RESCAN_DONE = 1 };

static int rescan_row(void *ctx, const struct ingest_row *row)
{
    struct rescan *r = ctx;
    if (row->line >= r->stop)
        return RESCAN_DONE;
    for (size_t i = 0; i < row->cell_count; i++) {
        const struct ingest_cell *cell = &row->cells[i];
        if (isnan(cell->number) || import_is_total(cell->team, cell->team_len))
            continue;
        /* the references were resolved (or created) by the first reading;
         * what does not resolve now was a rejected row */
        char team_ref[KPI_ERROR_MAX], kpi_ref[KPI_ERROR_MAX];
        snprintf(team_ref, sizeof team_ref, "%.*s", (int)cell->team_len, cell->team);
        snprintf(kpi_ref, sizeof kpi_ref, "%.*s", (int)cell->kpi_len, cell->kpi);
        size_t team, ind;
        if (store_txn_resolve_team(r->d->txn, team_ref, false, &team, NULL, NULL) != 0 ||
            store_txn_resolve_indicator(r->d->txn, kpi_ref, false, &ind, NULL, NULL) != 0)
            continue;
        int64_t period = kpi_period_of_day(store_txn_indicator(r->d->txn, ind)->period, cell->day);
        enum store_field field = cell->is_target ? STORE_TARGET : STORE_VALUE;
        if (import_cells_find(&r->d->cells, team, ind, period, field) != NULL)
            continue; /* the earliest line stays */
        struct import_cell *c;
        if (import_cells_add(&r->d->cells, team, ind, period, field, row->line, cell->number, &c) !=
            0) {
            r->status = KPI_ESYSTEM;
            return KPI_ESYSTEM;
        }
    }
    return 0;
}

static int rescan_bad(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    (void)why;
    const struct rescan *r = ctx;
    return row->line >= r->stop && row->line != 0 ? RESCAN_DONE : 0;
}

/* Remember every cell of the rows before line `stop`, then every cell from
 * now on. Returns 0, or KPI_ESYSTEM (err filled). */
static KPI_COLD int rescan(struct import_dups *d, unsigned long stop, struct kpi_error *err)
{
    d->tracking = true;
    struct ingest_reader *reader = NULL;
    int rc = ingest_open(d->path, d->display_name, d->ingest, &reader, err);
    if (rc != 0)
        return rc == KPI_ESYSTEM ? rc : kpi_fail(err, KPI_ESYSTEM, "cannot read %s again", d->path);
    struct rescan r = {d, stop, 0};
    const struct ingest_sink sink = {rescan_row, rescan_bad, &r};
    rc = ingest_read(reader, &sink, err);
    ingest_close(reader);
    if (r.status != 0)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    return rc == RESCAN_DONE ? 0 : rc;
}

/* ------------------------------------------------------------ checks */

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* "duplicate value for ventes-idf/ca 2026-01: 999 here, 100 on line 7;
 * ..." (the caller names the file, line and column). */
static int conflict(struct import_dups *d, const struct import_cell_ref *at, double here,
                    double before, unsigned long before_line, struct kpi_error *err)
{
    const struct kpi_indicator *ind = store_txn_indicator(d->txn, at->indicator);
    char label[KPI_LABEL_MAX], a[KPI_NUMBER_MAX], b[KPI_NUMBER_MAX];
    kpi_period_label(ind->period, at->period, label);
    return kpi_fail(err, KPI_EINPUT,
                    "duplicate %s for %s/%s %s: %s here, %s on line %lu; use --aggregate to "
                    "combine detail rows",
                    at->field == STORE_TARGET ? "target" : "value",
                    store_txn_team(d->txn, at->team)->id, ind->id, label,
                    kpi_format_number(here, a), kpi_format_number(before, b), before_line);
}

int import_dups_check(struct import_dups *d, const struct import_cell_ref *at, double v,
                      double working, double base, struct kpi_error *err)
{
    struct import_cell *c =
        import_cells_find(&d->cells, at->team, at->indicator, at->period, at->field);
    if (c == NULL && !d->tracking && (isnan(base) || !same_bits(working, base))) {
        /* set by an earlier row of this file, not remembered */
        if (same_bits(working, v))
            return IMPORT_DUP_SAME;
        int rc = rescan(d, at->line, err);
        if (rc != 0)
            return rc;
        c = import_cells_find(&d->cells, at->team, at->indicator, at->period, at->field);
        if (c == NULL) /* cannot happen: the earlier row is in the file */
            return conflict(d, at, v, working, 0, err);
    }
    if (c != NULL) {
        if (same_bits(working, v))
            return IMPORT_DUP_SAME;
        return conflict(d, at, v, working, c->line, err);
    }
    /* a stored cell met for the first time: remember it */
    if (import_cells_add(&d->cells, at->team, at->indicator, at->period, at->field, at->line, v,
                         &c) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    return IMPORT_DUP_FIRST;
}

int import_dups_remember(struct import_dups *d, const struct import_cell_ref *at, double v,
                         struct kpi_error *err)
{
    struct import_cell *c;
    if (import_cells_add(&d->cells, at->team, at->indicator, at->period, at->field, at->line, v,
                         &c) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    return 0;
}

double import_cell_total(const struct import_cell *c, enum kpi_aggregate aggregate)
{
    double v = aggregate == KPI_AGGREGATE_MEAN ? c->sum / (double)c->count : c->sum;
    return c->count == 1 ? v : kpi_round_total(v);
}
