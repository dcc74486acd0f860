/* kpi teams, kpi indicators, kpi path. */
#include "cli/cli.h"

#include <getopt.h>
#include <string.h>

/* Parse the options shared by the listing commands: --format and, for teams,
 * --tree. Returns 0 or an exit code; *positional is the first non-option. */
static int parse_listing(const char *command, int argc, char **argv, const char **format,
                         bool *tree, int *positional)
{
    static const struct option long_options[] = {
        {"format", required_argument, NULL, 'f'}, {"tree", no_argument, NULL, 't'}, {0}};
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == 'f')
            *format = optarg;
        else if (c == 't' && tree)
            *tree = true;
        else
            return cli_usage_error(command, "unknown option \"%s\"", argv[optind - 1]);
    }
    *positional = optind;
    return 0;
}

/* A catalog listing: --format (and --tree for teams), no argument. */
static int run_listing(const struct cli_context *ctx, const char *command, bool teams, int argc,
                       char **argv)
{
    const char *format_text = NULL;
    bool tree = false;
    int first, rc;
    if ((rc = parse_listing(command, argc, argv, &format_text, teams ? &tree : NULL, &first)) != 0)
        return rc;
    if (first < argc)
        return cli_usage_error(command, "unexpected argument \"%s\"", argv[first]);
    enum report_format format;
    if ((rc = cli_output_format(ctx, command, format_text, &format)) != 0)
        return rc;
    struct store *st;
    struct store_view *view;
    if ((rc = cli_open_catalog(ctx, &st, &view)) != 0)
        return rc;
    if (format == REPORT_JSON)
        rc = cli_write_json(teams ? report_teams_json(view) : report_indicators_json(view));
    else
        rc = cli_write_table(teams ? report_teams_table(view, tree && format == REPORT_TABLE)
                                   : report_indicators_table(view),
                             format);
    store_view_free(view);
    store_close(st);
    return rc;
}

int cli_cmd_teams(const struct cli_context *ctx, int argc, char **argv)
{
    return run_listing(ctx, "teams", true, argc, argv);
}

int cli_cmd_indicators(const struct cli_context *ctx, int argc, char **argv)
{
    return run_listing(ctx, "indicators", false, argc, argv);
}

int cli_cmd_path(const struct cli_context *ctx, int argc, char **argv)
{
    const char *unused = NULL;
    int first, rc;
    if ((rc = parse_listing("path", argc, argv, &unused, NULL, &first)) != 0)
        return rc;
    if (argc - first != 2)
        return cli_usage_error("path", "expected TEAM KPI");
    struct store *st;
    struct store_view *view;
    if ((rc = cli_open_catalog(ctx, &st, &view)) != 0)
        return rc;
    size_t team, ind;
    if ((rc = cli_resolve_team(view, argv[first], &team)) == 0 &&
        (rc = cli_resolve_indicator(view, argv[first + 1], &ind)) == 0) {
        char path[4096];
        struct kpi_error err = {0};
        if (store_series_path(st, store_view_team(view, team)->id,
                              store_view_indicator(view, ind)->id, path, sizeof path, &err) != 0)
            rc = cli_fail(&err);
        else
            puts(path);
    }
    store_view_free(view);
    store_close(st);
    return rc;
}
