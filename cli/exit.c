/* Errors to exit codes and messages: the one mapping of SPEC §4. */
#include "cli/cli.h"

#include <stdarg.h>

int cli_exit_code(int status)
{
    switch (status) {
    case KPI_OK:
        return CLI_EXIT_OK;
    case KPI_EUSAGE:
        return CLI_EXIT_USAGE;
    case KPI_EINPUT:
        return CLI_EXIT_INPUT;
    case KPI_ENOTFOUND:
        return CLI_EXIT_NOTFOUND;
    default:
        return CLI_EXIT_SYSTEM;
    }
}

int cli_fail(const struct kpi_error *err)
{
    fprintf(stderr, "kpi: %s\n", err->message[0] ? err->message : "unknown error");
    return cli_exit_code(err->code);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kpi %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'kpi %s --help'.\n", command);
    return CLI_EXIT_USAGE;
}

int cli_print_help(const struct cli_command *cmd)
{
    fputs(cmd->usage, stdout);
    return CLI_EXIT_OK;
}
