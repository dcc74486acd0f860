/* Private to cli/: importing one file (import_file.c), driven by
 * cmd_import.c. */
#ifndef KPI_CLI_IMPORT_H
#define KPI_CLI_IMPORT_H

#include "cli/cli.h"
#include "ingest/ingest.h"

#include <stdio.h>

struct import_settings {
    struct ingest_options ingest;
    bool strict;
    bool aggregate;   /* --aggregate: cells given twice combine */
    bool skip_errors; /* --on-error skip */
    bool dry_run;
    bool quiet;
    bool json;
    FILE *rejects;              /* --rejects, or NULL */
    bool progress;              /* draw a progress bar on stderr */
    const char *display_name;   /* the file's name in messages; NULL: the path */
    struct import_hooks *hooks; /* the server's uploads; NULL for the CLI */
    const char *author;         /* who the commits are by (cli_author) */
};

/* What the server's uploads (cli/cmd_serve.c) change in an import: errors
 * and the summary are handed over instead of printed, and a scoped token's
 * rows are checked. */
struct import_hooks {
    void *ctx;
    void (*bad_row)(void *ctx, const char *message); /* every rejected row */
    /* NULL, or false for a team (index of txn) the row may not write */
    bool (*team_allowed)(void *ctx, const struct store_txn *txn, size_t team);
    void *team_ctx;
    char *summary_json;   /* out: the --json summary (malloc'd) */
    uint64_t commit;      /* out: the commit written, 0 when none */
    bool catalog_refused; /* out: a catalog file while team_allowed is set */
    struct kpi_error err; /* out: why, when the exit code is not 0 */
};

/* True when a team cell of len bytes (ref is read up to len only) is a
 * spreadsheet's total row (SPEC §4): "Total", "Sous-total", "Total général",
 * "Grand total", "Subtotal", any case, accents optional. */
bool import_is_total(const char *ref, size_t len);

/* The teams and indicators a data file created: the first few are named
 * with the line that created them, the rest counted. */
enum { IMPORT_CREATED_SHOWN = 20 };
struct import_created_entry {
    bool team; /* else an indicator */
    unsigned long line;
    char *name, *id; /* owned (NULL when out of memory) */
};
struct import_created {
    size_t count;
    struct import_created_entry shown[IMPORT_CREATED_SHOWN];
};
/* Record one creation (name and id are copied). */
void import_created_add(struct import_created *c, bool team, const char *name, const char *id,
                        unsigned long line);
/* "FILE:LINE: created team "Ventes Paris" (id ventes-paris, no parent)" per
 * recorded entry, then "FILE: ... and N more created". */
void import_created_print(const struct import_created *c, const char *file, FILE *out);
void import_created_free(struct import_created *c);

/* ------------------------------------------- cells given twice (import_dups.c) */

/* Cells remembered by an import: (team, indicator, period, field) -> the
 * line that first gave it, and the sum and count of its numbers (for
 * --aggregate). Cells stay in insertion order (cells[0..count)). */
struct import_cell {
    uint64_t series; /* team << 32 | indicator */
    int64_t pf;      /* period * 2 + (1 for a target) */
    unsigned long line;
    double sum;
    size_t count;
};
struct import_cells {
    struct import_cell *cells;
    size_t count, cells_cap;
    size_t *index; /* open addressing: 1 + position in cells, 0 = empty */
    size_t cap;
};
struct import_cell *import_cells_find(const struct import_cells *m, size_t team, size_t indicator,
                                      int64_t period, enum store_field field);
/* Add v to the cell (created with line when new); *out is borrowed until
 * the next add. 0 or KPI_ESYSTEM. */
int import_cells_add(struct import_cells *m, size_t team, size_t indicator, int64_t period,
                     enum store_field field, unsigned long line, double v,
                     struct import_cell **out);
void import_cell_key(const struct import_cell *c, size_t *team, size_t *indicator, int64_t *period,
                     enum store_field *field);
/* The cell's numbers combined: sum or mean (rounded like a spreadsheet's
 * total when there are several, query.h D17). */
double import_cell_total(const struct import_cell *c, enum kpi_aggregate aggregate);
void import_cells_free(struct import_cells *m);

/* What the duplicate checks of one file need. */
struct import_dups {
    struct import_cells cells;
    bool tracking; /* every staged cell is remembered (else stored ones only) */
    struct store_txn *txn;
    const char *path, *display_name; /* to read the file again */
    const struct ingest_options *ingest;
};

/* One cell being staged, resolved. */
struct import_cell_ref {
    size_t team, indicator;
    int64_t period;
    enum store_field field;
    unsigned long line;
    unsigned column;
};

enum { IMPORT_DUP_FIRST = 0, IMPORT_DUP_SAME = 1 };

/* A cell whose working value (working, not NaN) and base value (base) were
 * read with store_txn_get: IMPORT_DUP_FIRST when this file gives it for the
 * first time (a stored cell: stage v), IMPORT_DUP_SAME when an earlier row
 * gave it the same number (stage nothing), KPI_EINPUT when an earlier row
 * gave it another ("duplicate value for team/kpi PERIOD: v here, w on line
 * L; use --aggregate to combine detail rows"), KPI_ESYSTEM. */
int import_dups_check(struct import_dups *d, const struct import_cell_ref *at, double v,
                      double working, double base, struct kpi_error *err);
/* Remember a cell staged as new (when d->tracking). 0 or KPI_ESYSTEM. */
int import_dups_remember(struct import_dups *d, const struct import_cell_ref *at, double v,
                         struct kpi_error *err);

/* Import one file into st as one transaction; prints its errors and summary.
 * Returns an exit code. */
int import_file(struct store *st, const char *path, const struct import_settings *settings);

#endif
