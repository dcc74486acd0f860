/* Importing one file: read its records (ingest), resolve references and stage
 * values in a store transaction, then commit it whole or not at all. */
#include "cli/import.h"
#include "cli/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_PRINTED_ERRORS = 20 };

/* resolve_cached's answer for a team cell that is a total: the row is
 * skipped and counted (SPEC §4), never resolved nor created. */
enum { REF_TOTAL = 1 };

/* References resolved so far, direct-mapped by a hash of their text: a file
 * names a few teams and indicators over and over, in any order (a long file
 * sorted by date alternates its kpi column on every row), so nearly every
 * cell resolves without asking the store. Texts are compared as words
 * (kpi_key: ingest's texts can be read past their end); longer ones than a
 * key holds always ask the store. Only successful resolutions are kept; a
 * catalog row may change what a text resolves to, so it empties the cache
 * (gen++: a slot is valid only with the cache's generation). */
enum { REF_SLOTS = 256 };

struct ref_slot {
    unsigned gen;
    size_t index;
    struct kpi_key key;
};

struct ref_cache {
    unsigned gen;          /* starts at 1: zeroed slots are empty */
    struct ref_slot *last; /* the last hit: files name one team for many rows */
    struct ref_slot slot[REF_SLOTS];
};

enum { PERIOD_SLOTS = 256 };

/* What check_row_refs found for one cell, so staging resolves nothing twice,
 * and what the duplicate check said of it (IMPORT_DUP_*, or -1: unchecked). */
struct cell_refs {
    size_t team, indicator;
    bool team_found, indicator_found;
    int dup;
};

struct import_run {
    const struct import_settings *settings;
    struct ingest_reader *reader;
    enum ingest_kind kind;
    struct store_txn *txn;
    struct report_import_summary summary;
    size_t printed_errors;
    bool rejects_header_written;
    struct ref_cache teams, indicators;
    struct cell_refs *refs; /* one per cell of the current row */
    size_t refs_cap;
    /* periods computed so far, direct-mapped by day: a file names few days */
    struct period_slot {
        int64_t day, period;
        enum kpi_period_kind kind;
        bool valid;
    } periods[PERIOD_SLOTS];
    struct cli_progress progress;
    uint64_t rows_seen;
    struct kpi_error *err; /* of read_records, for the sink */
    unsigned long line;    /* of the row being staged */
    unsigned err_column;   /* the column of err's cell, or 0 */
    struct import_created created;
    struct import_dups dups;
    size_t kind_of; /* the indicator whose period kind_is is (SIZE_MAX: none) */
    enum kpi_period_kind kind_is;
};

static void write_reject(struct import_run *run, const struct ingest_row *row, const char *message)
{
    FILE *out = run->settings->rejects;
    if (out == NULL)
        return;
    if (!run->rejects_header_written) {
        ingest_rejects_header(run->reader, out);
        run->rejects_header_written = true;
    }
    ingest_rejects_row(run->reader, out, row ? row->fields : NULL, row ? row->field_count : 0,
                       message);
}

/* Count, print (the first few) and record a rejected row. */
static void reject(struct import_run *run, const struct ingest_row *row, const char *message)
{
    run->summary.rejected++;
    if (run->settings->hooks != NULL) {
        run->settings->hooks->bad_row(run->settings->hooks->ctx, message);
        return;
    }
    if (run->printed_errors < MAX_PRINTED_ERRORS)
        fprintf(stderr, "%s\n", message);
    run->printed_errors++;
    write_reject(run, row, message);
}

/* resolve_cached beyond the last hit: the slot of ref's key, else the
 * store, whose answer is kept in that slot. */
__attribute__((noinline)) static int resolve_lookup(struct import_run *run, struct ref_cache *cache,
                                                    bool team, const char *ref, size_t len,
                                                    bool create, size_t *index,
                                                    struct kpi_error *err)
{
    struct ref_slot *slot = NULL;
    struct kpi_key key;
    if (len > 0 && len <= KPI_KEY_MAX) {
        kpi_key_of(ref, len, &key);
        slot = cache->last;
        if (slot != NULL && slot->gen == cache->gen && kpi_key_eq(&slot->key, &key)) {
            *index = slot->index;
            return 0;
        }
        slot = &cache->slot[kpi_key_hash(&key) >> 56];
        if (slot->gen == cache->gen && kpi_key_eq(&slot->key, &key)) {
            *index = slot->index;
            cache->last = slot;
            return 0;
        }
    }
    if (team && import_is_total(ref, len))
        return REF_TOTAL; /* never cached: a hit is a resolved team */
    bool created = false;
    int rc = team ? store_txn_resolve_team(run->txn, ref, create, index, &created, err)
                  : store_txn_resolve_indicator(run->txn, ref, create, index, &created, err);
    if (rc == 0 && created) {
        const char *name = team ? store_txn_team(run->txn, *index)->name
                                : store_txn_indicator(run->txn, *index)->name;
        const char *id =
            team ? store_txn_team(run->txn, *index)->id : store_txn_indicator(run->txn, *index)->id;
        import_created_add(&run->created, team, name, id, run->line);
    }
    if (rc == 0 && slot != NULL) {
        slot->gen = cache->gen;
        slot->index = *index;
        slot->key = key;
        cache->last = slot;
    }
    return rc;
}

/* The index of ref (len bytes, readable past its end as ingest promises).
 * The usual case, a short text equal to the previous one, is one word
 * compared. */
KPI_HOT int resolve_cached(struct import_run *run, struct ref_cache *cache, bool team,
                           const char *ref, size_t len, bool create, size_t *index,
                           struct kpi_error *err)
{
    const struct ref_slot *last = cache->last;
    if (len - 1 < 8 && last != NULL && last->gen == cache->gen && last->key.len == len &&
        last->key.w[0] == kpi_key_word(ref, len)) {
        *index = last->index;
        return 0;
    }
    return resolve_lookup(run, cache, team, ref, len, create, index, err);
}

/* The team and indicator of cell: created when create is true (never with
 * --strict), else refs->*_found says what exists. An unknown reference
 * under --strict is bad input. */
KPI_HOT int cell_refs(struct import_run *run, const struct ingest_cell *cell, bool create,
                      struct cell_refs *refs, struct kpi_error *err)
{
    bool strict = run->settings->strict;
    const struct import_hooks *hooks = run->settings->hooks;
    if (hooks != NULL && hooks->team_allowed != NULL) {
        /* a scoped token writes its teams only, and creates none */
        size_t t;
        int found =
            resolve_cached(run, &run->teams, true, cell->team, cell->team_len, false, &t, err);
        if (found == KPI_EINPUT || found == KPI_ESYSTEM || found == REF_TOTAL)
            return found; /* a total row is skipped, whoever uploads it */
        if (found != 0 || !hooks->team_allowed(hooks->team_ctx, run->txn, t))
            return kpi_fail(err, KPI_EINPUT, "team \"%.*s\" is outside this token's teams",
                            (int)cell->team_len, cell->team);
    }
    int rc = resolve_cached(run, &run->teams, true, cell->team, cell->team_len, create, &refs->team,
                            err);
    refs->team_found = rc == 0;
    refs->indicator_found = false;
    if (rc == KPI_ENOTFOUND && !strict)
        rc = 0;
    if (rc == 0) {
        rc = resolve_cached(run, &run->indicators, false, cell->kpi, cell->kpi_len, create,
                            &refs->indicator, err);
        refs->indicator_found = rc == 0;
        if (rc == KPI_ENOTFOUND && !strict)
            rc = 0;
    }
    if (rc == KPI_ENOTFOUND) {
        /* a copy: printing a buffer into itself is undefined */
        char why[KPI_ERROR_MAX];
        snprintf(why, sizeof why, "%s", err->message);
        rc = kpi_fail(err, KPI_EINPUT, "%s (--strict)", why);
    }
    return rc;
}

/* Check that every reference of a row of several cells resolves (or may be
 * created) before anything is created, so a rejected row leaves no new team
 * behind. What is found is kept in run->refs for staging. */
static int check_row_refs(struct import_run *run, const struct ingest_row *row,
                          struct kpi_error *err)
{
    if (row->cell_count > run->refs_cap) {
        struct cell_refs *grown = realloc(run->refs, row->cell_count * sizeof *grown);
        if (grown == NULL)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        run->refs = grown;
        run->refs_cap = row->cell_count;
    }
    for (size_t i = 0; i < row->cell_count; i++) {
        if (isnan(row->cells[i].number))
            continue;
        int rc = cell_refs(run, &row->cells[i], false, &run->refs[i], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void count_change(struct import_run *run, enum store_change change)
{
    if (change == STORE_NEW)
        run->summary.new_values++;
    else if (change == STORE_CORRECTED)
        run->summary.corrected++;
    else
        run->summary.unchanged++;
}

/* The period of day for an indicator of that kind. */
static int64_t period_of(struct import_run *run, int64_t day, enum kpi_period_kind kind)
{
    /* two-way set-associative, Fibonacci hashing: month ends are ~30 days
     * apart, which a plain modulo would fold onto few slots */
    uint64_t h = ((uint64_t)day * 8 + kind) * 0x9E3779B97F4A7C15ull;
    struct period_slot *ps = &run->periods[(h >> 56) & (PERIOD_SLOTS - 2)];
    if (ps->valid && ps->day == day && ps->kind == kind)
        return ps->period;
    if (ps[1].valid && ps[1].day == day && ps[1].kind == kind)
        return ps[1].period;
    ps[1] = ps[0]; /* the newest first; the older one stays */
    *ps = (struct period_slot){day, kpi_period_of_day(kind, day), kind, true};
    return ps->period;
}

/* The cell as the duplicate checks see it. */
KPI_HOT struct import_cell_ref cell_ref_of(struct import_run *run, const struct ingest_cell *cell,
                                           size_t team, size_t ind)
{
    if (ind != run->kind_of) { /* an indicator's period is fixed for the file */
        run->kind_of = ind;
        run->kind_is = store_txn_indicator(run->txn, ind)->period;
    }
    return (struct import_cell_ref){team,
                                    ind,
                                    period_of(run, cell->day, run->kind_is),
                                    cell->is_target ? STORE_TARGET : STORE_VALUE,
                                    run->line,
                                    cell->column};
}

/* The duplicate check of a cell (see cli/import_dups.c): IMPORT_DUP_FIRST
 * for a cell new to this file, IMPORT_DUP_SAME, or an error. */
static int check_cell(struct import_run *run, const struct import_cell_ref *at, double v,
                      struct kpi_error *err)
{
    double working, base;
    store_txn_get(run->txn, at->team, at->indicator, at->period, at->field, &working, &base);
    if (isnan(working)) /* nearly every cell: new in the working state */
        return IMPORT_DUP_FIRST;
    int rc = import_dups_check(&run->dups, at, v, working, base, err);
    if (rc == KPI_EINPUT)
        run->err_column = at->column;
    return rc;
}

/* stage_cell beyond a new cell: --aggregate, a cell that has a number
 * already (checked here when dup < 0), a cell checked before, and
 * remembering a new cell when every cell is. */
static KPI_COLD int stage_checked(struct import_run *run, const struct ingest_cell *cell,
                                  size_t team, size_t ind, int dup, bool staged,
                                  struct kpi_error *err)
{
    struct import_cell_ref at = cell_ref_of(run, cell, team, ind);
    double v = cell->number;
    if (staged) /* new, and every cell is remembered */
        return import_dups_remember(&run->dups, &at, v, err);
    if (run->settings->aggregate) { /* staged at the end of the file */
        struct import_cell *c;
        if (import_cells_add(&run->dups.cells, team, ind, at.period, at.field, at.line, v, &c) != 0)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        return 0;
    }
    if (dup < 0 && (dup = check_cell(run, &at, v, err)) < 0)
        return dup;
    if (dup == IMPORT_DUP_SAME) { /* an idempotent row */
        run->summary.unchanged++;
        return 0;
    }
    enum store_change change;
    int rc = store_txn_set(run->txn, team, ind, at.period, at.field, v, &change, err);
    if (rc != 0)
        return rc;
    count_change(run, change);
    if (run->dups.tracking && change == STORE_NEW)
        return import_dups_remember(&run->dups, &at, v, err);
    return 0;
}

/* Stage the number of cell, whose references are resolved; dup is what
 * check_cell said of it, or -1 when it is yet to be checked. */
KPI_HOT int stage_cell(struct import_run *run, const struct ingest_cell *cell, size_t team,
                       size_t ind, int dup, struct kpi_error *err)
{
    if (dup < 0 && !run->settings->aggregate) {
        /* nearly every cell is new: staged at once */
        if (ind != run->kind_of) { /* an indicator's period is fixed for the file */
            run->kind_of = ind;
            run->kind_is = store_txn_indicator(run->txn, ind)->period;
        }
        enum store_change change;
        int rc =
            store_txn_put(run->txn, team, ind, period_of(run, cell->day, run->kind_is),
                          cell->is_target ? STORE_TARGET : STORE_VALUE, cell->number, &change, err);
        if (rc == 0) {
            count_change(run, change);
            if (!run->dups.tracking)
                return 0;
            return stage_checked(run, cell, team, ind, dup, true, err);
        }
        if (rc != STORE_PUT_KEPT)
            return rc;
    }
    return stage_checked(run, cell, team, ind, dup, false, err);
}

static int stage_data_row(struct import_run *run, const struct ingest_row *row,
                          struct kpi_error *err)
{
    if (row->cell_count == 1) { /* a long file: nothing to check first */
        const struct ingest_cell *cell = &row->cells[0];
        struct cell_refs refs;
        if (isnan(cell->number)) {
            run->summary.empty++;
            return 0;
        }
        int rc = cell_refs(run, cell, !run->settings->strict, &refs, err);
        if (rc == REF_TOTAL) {
            run->summary.total_rows++;
            return 0;
        }
        return rc != 0 ? rc : stage_cell(run, cell, refs.team, refs.indicator, -1, err);
    }
    size_t values = 0;
    for (size_t i = 0; i < row->cell_count; i++)
        values += isnan(row->cells[i].number) ? 0u : 1u;
    if (values == 0) { /* a row that carries no value creates nothing */
        run->summary.empty += row->cell_count;
        return 0;
    }
    int rc = check_row_refs(run, row, err);
    if (rc == REF_TOTAL) {
        run->summary.total_rows++;
        return 0;
    }
    if (rc != 0)
        return rc;
    /* every cell given twice is found before any is staged: a rejected row
     * leaves nothing behind (cells of new teams or indicators are new) */
    for (size_t i = 0; i < row->cell_count; i++) {
        struct cell_refs *refs = &run->refs[i];
        refs->dup = -1;
        if (isnan(row->cells[i].number) || !refs->team_found || !refs->indicator_found ||
            run->settings->aggregate)
            continue;
        struct import_cell_ref at = cell_ref_of(run, &row->cells[i], refs->team, refs->indicator);
        if ((refs->dup = check_cell(run, &at, row->cells[i].number, err)) < 0)
            return refs->dup;
    }
    for (size_t i = 0; i < row->cell_count; i++) {
        const struct ingest_cell *cell = &row->cells[i];
        if (isnan(cell->number)) {
            run->summary.empty++;
            continue;
        }
        /* what check_row_refs did not find is created now (an earlier cell
         * of the row may have created it already: the cache knows) */
        struct cell_refs refs = run->refs[i];
        if ((!refs.team_found || !refs.indicator_found) &&
            (rc = cell_refs(run, cell, true, &refs, err)) != 0)
            return rc;
        if ((rc = stage_cell(run, cell, refs.team, refs.indicator, refs.dup, err)) != 0)
            return rc;
    }
    return 0;
}

/* The note of a long file's row (SPEC §11), set as its values are: on the
 * row's team, indicator and period, created like theirs. */
static KPI_COLD int stage_note(struct import_run *run, const struct ingest_row *row,
                               struct kpi_error *err)
{
    const struct ingest_cell *cell = &row->cells[0];
    run->err_column = row->note_column;
    if (cell->team_len == 0 || cell->kpi_len == 0)
        return kpi_fail(err, KPI_EINPUT, "a note needs a team and a kpi");
    struct cell_refs refs;
    int rc = cell_refs(run, cell, !run->settings->strict, &refs, err);
    if (rc == REF_TOTAL)
        return 0; /* counted with the row's values */
    if (rc != 0)
        return rc;
    enum kpi_period_kind kind = store_txn_indicator(run->txn, refs.indicator)->period;
    rc = store_txn_note(run->txn, refs.team, refs.indicator, kpi_period_of_day(kind, cell->day),
                        row->note, row->note_len, NULL, err);
    if (rc == 0)
        run->err_column = 0;
    return rc;
}

static int stage_row(struct import_run *run, const struct ingest_row *row, struct kpi_error *err)
{
    switch (run->kind) {
    case INGEST_KIND_TEAMS:
        /* A catalog file defines its entries: --strict applies to data rows. */
        run->teams.gen++;
        return store_txn_patch_team(run->txn, &row->team, false, NULL, err);
    case INGEST_KIND_INDICATORS:
        run->indicators.gen++;
        run->kind_of = SIZE_MAX;
        return store_txn_patch_indicator(run->txn, &row->indicator, false, NULL, err);
    default:
        if (row->note == NULL)
            return stage_data_row(run, row, err);
        /* a note that cannot be stored rejects its row before anything of
         * it is staged */
        run->err_column = row->note_column;
        int rc = store_note_check(row->note, row->note_len, err);
        if (rc == 0) {
            run->err_column = 0;
            rc = stage_data_row(run, row, err);
        }
        return rc != 0 || row->cell_count == 0 ? rc : stage_note(run, row, err);
    }
}

/* cli_fail, or for the server's uploads the error handed over. */
static int import_fail(const struct import_settings *settings, const struct kpi_error *err)
{
    if (settings->hooks == NULL)
        return cli_fail(err);
    settings->hooks->err = *err;
    return cli_exit_code(err->code);
}

static void report_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    cli_progress_update(ctx, phase, done, total);
}

static void print_summary(const struct import_run *run)
{
    if (run->settings->hooks != NULL) {
        run->settings->hooks->summary_json = report_import_json(&run->summary);
        return;
    }
    if (run->settings->quiet)
        return;
    if (run->settings->json) {
        char *doc = report_import_json(&run->summary);
        if (doc) {
            puts(doc);
            free(doc);
        }
    } else {
        report_import_line(&run->summary, stdout);
        fputc('\n', stdout);
    }
    fflush(stdout);
}

static void show_progress(struct import_run *run)
{
    if ((++run->rows_seen & 1023) == 0)
        cli_progress_update(&run->progress, "reading", ingest_bytes_read(run->reader),
                            ingest_bytes_total(run->reader));
}

/* A good record: staged, or rejected when the store refuses it. */
static int on_row(void *ctx, const struct ingest_row *row)
{
    struct import_run *run = ctx;
    run->summary.rows++;
    run->line = row->line;
    int rc = stage_row(run, row, run->err);
    if (rc == KPI_ESYSTEM)
        return rc;
    if (rc != 0) {
        char message[KPI_ERROR_MAX + 64], column[16] = "";
        if (run->err_column > 0)
            snprintf(column, sizeof column, "%u:", run->err_column);
        snprintf(message, sizeof message, "%s:%lu:%s %s", ingest_display_name(run->reader),
                 row->line, column, run->err->message);
        run->err_column = 0;
        reject(run, row, message);
    }
    show_progress(run);
    return 0;
}

static int on_bad(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    struct import_run *run = ctx;
    run->summary.rows++;
    reject(run, row, why->message);
    show_progress(run);
    return 0;
}

/* Read every record, staging the good ones. Returns 0 or a fatal status. */
static int read_records(struct import_run *run, struct kpi_error *err)
{
    const struct ingest_sink sink = {on_row, on_bad, run};
    run->err = err;
    return ingest_read(run->reader, &sink, err);
}

/* --aggregate: stage every cell the file gave, its numbers combined by its
 * indicator's aggregate, in the order the file first gave them. */
static int stage_aggregates(struct import_run *run, struct kpi_error *err)
{
    for (size_t k = 0; k < run->dups.cells.count; k++) {
        const struct import_cell *c = &run->dups.cells.cells[k];
        size_t team, ind;
        int64_t period;
        enum store_field field;
        import_cell_key(c, &team, &ind, &period, &field);
        double v = import_cell_total(c, store_txn_indicator(run->txn, ind)->aggregate);
        enum store_change change;
        int rc = store_txn_set(run->txn, team, ind, period, field, v, &change, err);
        if (rc == KPI_ESYSTEM)
            return rc;
        if (rc != 0) {
            char message[KPI_ERROR_MAX + 64];
            snprintf(message, sizeof message, "%s:%lu: %s", run->summary.file, c->line,
                     err->message);
            reject(run, NULL, message);
            continue;
        }
        count_change(run, change);
    }
    return 0;
}

/* Decide the file's fate once every record was read: commit, or not. */
static int finish(struct import_run *run, struct kpi_error *err)
{
    if (run->settings->aggregate && stage_aggregates(run, err) != 0)
        return cli_fail(err);
    struct store_txn_stats stats;
    store_txn_stats(run->txn, &stats);
    run->summary.series = stats.series;
    run->summary.new_teams = stats.new_teams;
    run->summary.new_indicators = stats.new_indicators;
    if (run->printed_errors > MAX_PRINTED_ERRORS)
        fprintf(stderr, "%s: ... and %zu more errors\n", run->summary.file,
                run->printed_errors - MAX_PRINTED_ERRORS);
    if (run->summary.rejected > 0 && !run->settings->skip_errors) {
        store_txn_abort(run->txn);
        run->txn = NULL;
        if (run->settings->hooks != NULL)
            return CLI_EXIT_INPUT;
        fprintf(stderr, "%s: %zu bad rows, nothing imported (see --on-error skip)\n",
                run->summary.file, run->summary.rejected);
        return CLI_EXIT_INPUT;
    }
    if (run->settings->dry_run) {
        store_txn_abort(run->txn);
    } else {
        char digest[65];
        if (ingest_sha256(run->reader, digest, err) != 0) {
            store_txn_abort(run->txn);
            run->txn = NULL;
            return cli_fail(err);
        }
        struct store_commit_info info = {.author = run->settings->author,
                                         .kind = "import",
                                         .source = run->summary.file,
                                         .sha256 = digest,
                                         .rows = run->summary.rows};
        store_txn_describe(run->txn, &info);
        struct store_progress progress = {report_progress, &run->progress};
        uint64_t commit = 0;
        int rc = store_txn_commit(run->txn, &progress, &commit, err);
        if (run->settings->hooks != NULL)
            run->settings->hooks->commit = commit;
        cli_progress_done(&run->progress);
        run->txn = NULL;
        if (rc != 0)
            return import_fail(run->settings, err);
    }
    run->txn = NULL;
    /* what was created, now that it is (a warning: --quiet silences it) */
    if (!run->settings->quiet)
        import_created_print(&run->created, run->summary.file, stderr);
    print_summary(run);
    return run->summary.rejected > 0 ? CLI_EXIT_INPUT : CLI_EXIT_OK;
}

int import_file(struct store *st, const char *path, const struct import_settings *settings)
{
    struct import_run run = {
        .settings = settings, .teams.gen = 1, .indicators.gen = 1, .kind_of = SIZE_MAX};
    struct kpi_error err = {0};
    int rc = ingest_open(path, settings->display_name, &settings->ingest, &run.reader, &err);
    if (rc != 0)
        return import_fail(settings, &err);
    run.summary.file = ingest_display_name(run.reader);
    run.summary.header_line = ingest_header_line(run.reader);
    run.kind = ingest_kind(run.reader);
    if (settings->hooks != NULL && settings->hooks->team_allowed != NULL &&
        (run.kind == INGEST_KIND_TEAMS || run.kind == INGEST_KIND_INDICATORS)) {
        settings->hooks->catalog_refused = true; /* catalogs need an unscoped token */
        ingest_close(run.reader);
        return CLI_EXIT_USAGE;
    }
    run.summary.dry_run = settings->dry_run;
    cli_progress_start(&run.progress, settings->progress, run.summary.file);
    rc = store_txn_begin(st, &run.txn, &err);
    /* standard input or a pipe cannot be read twice: their cells are
     * remembered from the start (cli/import_dups.c), as are those of
     * --aggregate */
    struct stat sb;
    bool again = strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    run.dups = (struct import_dups){.tracking = settings->aggregate || !again,
                                    .txn = run.txn,
                                    .path = path,
                                    .ingest = &settings->ingest};
    if (rc == 0)
        rc = read_records(&run, &err);
    cli_progress_done(&run.progress);
    if (rc == 0)
        rc = finish(&run, &err);
    else
        rc = import_fail(settings, &err);
    store_txn_abort(run.txn);
    ingest_close(run.reader);
    free(run.refs);
    import_created_free(&run.created);
    import_cells_free(&run.dups.cells);
    return rc;
}
