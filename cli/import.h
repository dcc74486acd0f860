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

/* Import one file into st as one transaction; prints its errors and summary.
 * Returns an exit code. */
int import_file(struct store *st, const char *path, const struct import_settings *settings);

#endif
