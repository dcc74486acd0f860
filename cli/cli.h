/*
 * cli — the kpi binary: global options, the command table, and one handler
 * per command (cmd_*.c). Handlers parse their options, call the library
 * modules and format the answer; they print data to stdout and messages to
 * stderr, and return a process exit code (SPEC §4: 0 ok, 1 usage, 2 bad
 * input, 3 storage/system, 4 not found).
 */
#ifndef KPI_CLI_H
#define KPI_CLI_H

#include "common/common.h"
#include "report/report.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_USAGE = 1,
    CLI_EXIT_INPUT = 2,
    CLI_EXIT_SYSTEM = 3,
    CLI_EXIT_NOTFOUND = 4,
};

/* What every command gets from main: the resolved data directory and
 * whether standard output/error are terminals. */
struct cli_context {
    const char *data_dir; /* --data, else $KPI_DATA, else ./kpi-data */
    bool stdout_tty;
    bool stderr_tty;
};

/* One subcommand. usage is the full --help text. */
struct cli_command {
    const char *name;
    int (*run)(const struct cli_context *ctx, int argc, char **argv);
    const char *summary;
    const char *usage;
};

/* The exit code of a kpi_status (the one table, SPEC §4). */
int cli_exit_code(int status);

/* Print "kpi: <message>" to stderr and return the exit code of err->code. */
int cli_fail(const struct kpi_error *err);

/* Write size bytes of data to path through a temporary file beside it,
 * renamed over it once complete (a reader never sees half a file), with the
 * mode a plain create would give. Returns 0, or KPI_ESYSTEM in err. */
int cli_write_file(const char *path, const void *data, size_t size, struct kpi_error *err);

/* Print "kpi <command>: <printf message>" plus a hint to run --help, and
 * return CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print a command's usage text to stdout and return 0. */
int cli_print_help(const struct cli_command *cmd);

/* Open the store of ctx->data_dir and load its current view. Returns 0 or an
 * exit code (message printed). On success the caller closes both. */
int cli_open_view(const struct cli_context *ctx, struct store **st, struct store_view **view);

/* The same, as the data stood at the commit that known_at names (--known-at
 * N|DATETIME; NULL: the latest). An unknown commit or a time before the
 * first commit is a usage error (exit 1). */
int cli_open_view_at(const struct cli_context *ctx, const char *known_at, struct store **st,
                     struct store_view **view);

/* The catalog only (teams and indicators, no series): for commands that
 * resolve names and read nothing else of the data. */
int cli_open_catalog(const struct cli_context *ctx, struct store **st, struct store_view **view);

/* The same for a question about one team (team not NULL): the view holds the
 * series of that team and its descendants only (with kpi, of that indicator
 * only), which is all its answers read (store_view_open_scoped). team NULL:
 * the whole directory. */
int cli_open_view_for(const struct cli_context *ctx, const char *known_at, const char *team,
                      const char *kpi, struct store **st, struct store_view **view);

/* Who a writing command's commits are by (SPEC §10): flag (--author) when
 * given and not empty, else $KPI_AUTHOR, else the login name, else
 * "unknown". Returns flag, the environment's string, or buf (cap bytes). */
const char *cli_author(const char *flag, char *buf, size_t cap);

/* Resolve a team / indicator argument against the view; prints the error and
 * returns an exit code (4 when unknown), or 0 with *index set. */
int cli_resolve_team(const struct store_view *view, const char *ref, size_t *index);
int cli_resolve_indicator(const struct store_view *view, const char *ref, size_t *index);

/* The output format of an output command: the --format value when given,
 * else table on a terminal and CSV in a pipe. Returns 0 or CLI_EXIT_USAGE. */
int cli_output_format(const struct cli_context *ctx, const char *command, const char *value,
                      enum report_format *out);

/* Write a table (and free it), or a JSON document (and free it) plus a
 * newline. NULL (out of memory) is an error. Return an exit code. */
int cli_write_table(struct report_table *t, enum report_format format);
int cli_write_json(char *doc);

/* Commands (cmd_*.c). */
int cli_cmd_import(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_export(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_teams(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_indicators(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_series(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_path(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_trend(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_drift(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_alerts(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_graph(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_serve(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_log(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_history(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_restatements(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_check(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_backup(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_revert(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_token(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_note(const struct cli_context *ctx, int argc, char **argv);
int cli_cmd_review(const struct cli_context *ctx, int argc, char **argv);

/* The command table (main.c) and lookup by name. */
const struct cli_command *cli_find_command(const char *name);

/* The i-th command of the table, in its order; NULL past the end. */
const struct cli_command *cli_command_at(size_t i);

/* Write the manual page kpi(1) in troff, made from the command table's help
 * texts (man.c). Returns an exit code. */
int cli_write_man(FILE *out, const char *version);

#endif
