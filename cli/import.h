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
    FILE *rejects; /* --rejects, or NULL */
    bool progress; /* draw a progress bar on stderr */
};

/* Import one file into st as one transaction; prints its errors and summary.
 * Returns an exit code. */
int import_file(struct store *st, const char *path, const struct import_settings *settings);

#endif
