/* kpi export: the raw ledger as one long CSV, or the catalog. What it prints
 * is what `kpi import` reads back, so import -> export -> import -> export is
 * byte-identical (numbers in their shortest exact form). */
#include "cli/cli.h"

#include <getopt.h>
#include <string.h>

/* team / kpi: indices to keep, or SIZE_MAX for all. */
static void export_points(const struct store_view *view, size_t team, size_t kpi)
{
    fputs("date,team,kpi,value,target\n", stdout);
    for (size_t i = 0; i < store_view_series_count(view); i++) {
        struct store_series s;
        store_view_series(view, i, &s);
        if ((team != SIZE_MAX && s.team != team) || (kpi != SIZE_MAX && s.indicator != kpi))
            continue;
        const struct kpi_team *t = store_view_team(view, s.team);
        const struct kpi_indicator *ind = store_view_indicator(view, s.indicator);
        for (size_t p = 0; p < s.count; p++) {
            char label[KPI_LABEL_MAX], value[KPI_NUMBER_MAX], target[KPI_NUMBER_MAX];
            /* ids never need quoting: [a-z0-9_.-] */
            printf("%s,%s,%s,%s,%s\n", kpi_period_label(ind->period, s.points[p].period, label),
                   t->id, ind->id, kpi_format_number(s.points[p].value, value),
                   kpi_format_number(s.points[p].target, target));
        }
    }
}

int cli_cmd_export(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option long_options[] = {
        {"kind", required_argument, NULL, 'k'}, {"known-at", required_argument, NULL, 'a'}, {0}};
    const char *kind = NULL, *known_at = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == 'k')
            kind = optarg;
        else if (c == 'a')
            known_at = optarg;
        else
            return cli_usage_error("export", "unknown option \"%s\"", argv[optind - 1]);
    }
    int positional = argc - optind;
    if (kind && strcmp(kind, "teams") != 0 && strcmp(kind, "indicators") != 0)
        return cli_usage_error("export", "invalid --kind \"%s\" (expected teams or indicators)",
                               kind);
    if (positional > 2 || (kind && positional > 0))
        return cli_usage_error("export", "unexpected argument \"%s\"", argv[argc - 1]);
    struct store *st;
    struct store_view *view;
    int rc =
        cli_open_view_for(ctx, known_at, kind == NULL && positional >= 1 ? argv[optind] : NULL,
                          kind == NULL && positional == 2 ? argv[optind + 1] : NULL, &st, &view);
    if (rc != 0)
        return rc;
    size_t team = SIZE_MAX, ind = SIZE_MAX;
    if (positional >= 1)
        rc = cli_resolve_team(view, argv[optind], &team);
    if (rc == 0 && positional == 2)
        rc = cli_resolve_indicator(view, argv[optind + 1], &ind);
    if (rc == 0) {
        /* The catalogs are the listings' CSV: their headers (id, name, ...)
         * are what `kpi import` recognises as teams and indicators files. */
        if (kind && strcmp(kind, "teams") == 0)
            rc = cli_write_table(report_teams_table(view, false), REPORT_CSV);
        else if (kind)
            rc = cli_write_table(report_indicators_table(view), REPORT_CSV);
        else
            export_points(view, team, ind);
        if (fflush(stdout) != 0) {
            fputs("kpi: cannot write to standard output\n", stderr);
            rc = CLI_EXIT_SYSTEM;
        }
    }
    store_view_free(view);
    store_close(st);
    return rc;
}
