/* Importing one file: read its records (ingest), resolve references and stage
 * values in a store transaction, then commit it whole or not at all. */
#include "cli/import.h"
#include "cli/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PRINTED_ERRORS = 20 };

/* A one-entry cache per cell position: in long and wide files consecutive
 * rows name the same team and indicators, so most rows resolve nothing. */
struct ref_cache {
    char text[256];
    size_t index;
    bool valid;
};

struct import_run {
    const struct import_settings *settings;
    struct ingest_reader *reader;
    struct store_txn *txn;
    struct report_import_summary summary;
    size_t printed_errors;
    bool rejects_header_written;
    struct ref_cache team_cache;
    struct ref_cache *kpi_cache; /* one per cell position */
    size_t kpi_cache_count;
    struct cli_progress progress;
};

static void write_reject(struct import_run *run, const struct ingest_row *row, const char *message)
{
    FILE *out = run->settings->rejects;
    if (out == NULL)
        return;
    if (!run->rejects_header_written) {
        for (size_t i = 0; i < ingest_header_count(run->reader); i++) {
            report_csv_field(out, ingest_header(run->reader, i));
            fputc(',', out);
        }
        fputs("error\n", out);
        run->rejects_header_written = true;
    }
    for (size_t i = 0; row && i < row->field_count; i++) {
        report_csv_field(out, row->fields[i] ? row->fields[i] : "");
        fputc(',', out);
    }
    report_csv_field(out, message);
    fputc('\n', out);
}

/* Count, print (the first few) and record a rejected row. */
static void reject(struct import_run *run, const struct ingest_row *row, const char *message)
{
    run->summary.rejected++;
    if (run->printed_errors < MAX_PRINTED_ERRORS)
        fprintf(stderr, "%s\n", message);
    run->printed_errors++;
    write_reject(run, row, message);
}

static int resolve_cached(struct import_run *run, struct ref_cache *cache, bool team,
                          const char *ref, bool create, size_t *index, struct kpi_error *err)
{
    if (cache->valid && strcmp(cache->text, ref) == 0) {
        *index = cache->index;
        return 0;
    }
    int rc = team ? store_txn_resolve_team(run->txn, ref, create, index, NULL, err)
                  : store_txn_resolve_indicator(run->txn, ref, create, index, NULL, err);
    if (rc == 0 && strlen(ref) < sizeof cache->text) {
        strcpy(cache->text, ref);
        cache->index = *index;
        cache->valid = true;
    }
    return rc;
}

static struct ref_cache *kpi_cache_at(struct import_run *run, size_t position)
{
    if (position >= run->kpi_cache_count) {
        size_t count = position + 1;
        struct ref_cache *grown = realloc(run->kpi_cache, count * sizeof *grown);
        if (grown == NULL)
            return NULL;
        memset(grown + run->kpi_cache_count, 0, (count - run->kpi_cache_count) * sizeof *grown);
        run->kpi_cache = grown;
        run->kpi_cache_count = count;
    }
    return &run->kpi_cache[position];
}

/* Check that every reference of the row resolves (or may be created) before
 * anything is created, so a rejected row leaves no new team behind. */
static int check_row_refs(struct import_run *run, const struct ingest_row *row,
                          struct kpi_error *err)
{
    bool strict = run->settings->strict;
    for (size_t i = 0; i < row->cell_count; i++) {
        const struct ingest_cell *cell = &row->cells[i];
        if (isnan(cell->number))
            continue;
        size_t index;
        struct ref_cache *cache = kpi_cache_at(run, i);
        if (cache == NULL)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        int rc = resolve_cached(run, &run->team_cache, true, cell->team, false, &index, err);
        if (rc == KPI_ENOTFOUND && !strict)
            rc = 0;
        if (rc == 0) {
            rc = resolve_cached(run, cache, false, cell->kpi, false, &index, err);
            if (rc == KPI_ENOTFOUND && !strict)
                rc = 0;
        }
        if (rc != 0) {
            if (rc == KPI_ENOTFOUND)
                kpi_fail(err, KPI_EINPUT, "%s (--strict)", err->message);
            return err->code;
        }
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

static int stage_data_row(struct import_run *run, const struct ingest_row *row,
                          struct kpi_error *err)
{
    size_t values = 0;
    for (size_t i = 0; i < row->cell_count; i++)
        values += isnan(row->cells[i].number) ? 0u : 1u;
    if (values == 0) { /* a row that carries no value creates nothing */
        run->summary.empty += row->cell_count;
        return 0;
    }
    int rc = check_row_refs(run, row, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < row->cell_count; i++) {
        const struct ingest_cell *cell = &row->cells[i];
        if (isnan(cell->number)) {
            run->summary.empty++;
            continue;
        }
        size_t team, ind;
        enum store_change change;
        if ((rc = resolve_cached(run, &run->team_cache, true, cell->team, true, &team, err)) ||
            (rc = resolve_cached(run, kpi_cache_at(run, i), false, cell->kpi, true, &ind, err)))
            return rc;
        const struct kpi_indicator *indicator = store_txn_indicator(run->txn, ind);
        int64_t period = kpi_period_of_day(indicator->period, cell->day);
        rc =
            store_txn_set(run->txn, team, ind, period, cell->is_target ? STORE_TARGET : STORE_VALUE,
                          cell->number, &change, err);
        if (rc != 0)
            return rc;
        count_change(run, change);
    }
    return 0;
}

static int stage_row(struct import_run *run, const struct ingest_row *row, struct kpi_error *err)
{
    switch (ingest_kind(run->reader)) {
    case INGEST_KIND_TEAMS:
        /* A catalog file defines its entries: --strict applies to data rows. */
        run->team_cache.valid = false;
        return store_txn_patch_team(run->txn, &row->team, false, NULL, err);
    case INGEST_KIND_INDICATORS:
        for (size_t i = 0; i < run->kpi_cache_count; i++)
            run->kpi_cache[i].valid = false;
        return store_txn_patch_indicator(run->txn, &row->indicator, false, NULL, err);
    default:
        return stage_data_row(run, row, err);
    }
}

static void report_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    cli_progress_update(ctx, phase, done, total);
}

static void print_summary(const struct import_run *run)
{
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

/* Read every record, staging the good ones. Returns 0 or a fatal status. */
static int read_records(struct import_run *run, struct kpi_error *err)
{
    struct ingest_row row;
    int rc;
    uint64_t rows_seen = 0;
    while ((rc = ingest_next(run->reader, &row, err)) != 0) {
        if (rc == KPI_ESYSTEM)
            return rc;
        run->summary.rows++;
        if (rc == KPI_EINPUT) {
            reject(run, &row, err->message);
            continue;
        }
        rc = stage_row(run, &row, err);
        if (rc == KPI_ESYSTEM)
            return rc;
        if (rc != 0) {
            char message[KPI_ERROR_MAX + 64];
            snprintf(message, sizeof message, "%s:%lu: %s", ingest_display_name(run->reader),
                     row.line, err->message);
            reject(run, &row, message);
        }
        if ((++rows_seen & 1023) == 0)
            cli_progress_update(&run->progress, "reading", ingest_bytes_read(run->reader),
                                ingest_bytes_total(run->reader));
    }
    return 0;
}

/* Decide the file's fate once every record was read: commit, or not. */
static int finish(struct import_run *run, struct kpi_error *err)
{
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
        fprintf(stderr, "%s: %zu bad rows, nothing imported (see --on-error skip)\n",
                run->summary.file, run->summary.rejected);
        return CLI_EXIT_INPUT;
    }
    if (run->settings->dry_run) {
        store_txn_abort(run->txn);
    } else {
        struct store_progress progress = {report_progress, &run->progress};
        int rc = store_txn_commit(run->txn, &progress, err);
        cli_progress_done(&run->progress);
        run->txn = NULL;
        if (rc != 0)
            return cli_fail(err);
    }
    run->txn = NULL;
    print_summary(run);
    return run->summary.rejected > 0 ? CLI_EXIT_INPUT : CLI_EXIT_OK;
}

int import_file(struct store *st, const char *path, const struct import_settings *settings)
{
    struct import_run run = {.settings = settings};
    struct kpi_error err = {0};
    int rc = ingest_open(path, NULL, &settings->ingest, &run.reader, &err);
    if (rc != 0)
        return cli_fail(&err);
    run.summary.file = ingest_display_name(run.reader);
    run.summary.dry_run = settings->dry_run;
    cli_progress_start(&run.progress, settings->progress, run.summary.file);
    rc = store_txn_begin(st, &run.txn, &err);
    if (rc == 0)
        rc = read_records(&run, &err);
    cli_progress_done(&run.progress);
    if (rc == 0)
        rc = finish(&run, &err);
    else
        rc = cli_fail(&err);
    store_txn_abort(run.txn);
    ingest_close(run.reader);
    free(run.kpi_cache);
    return rc;
}
