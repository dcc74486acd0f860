/* A progress bar on stderr for long work, drawn only on a terminal and only
 * once the work has lasted half a second (short imports stay silent). */
#ifndef KPI_CLI_PROGRESS_H
#define KPI_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct cli_progress {
    bool enabled; /* stderr is a terminal and output is not --quiet */
    const char *label;
    double started; /* monotonic seconds */
    double drawn;   /* last redraw, 0 = never */
};

void cli_progress_start(struct cli_progress *p, bool enabled, const char *label);
/* Redraw at most 10 times a second. total 0 = unknown (a spinner count). */
void cli_progress_update(struct cli_progress *p, const char *phase, uint64_t done, uint64_t total);
/* Erase the bar if one was drawn. */
void cli_progress_done(struct cli_progress *p);

#endif
