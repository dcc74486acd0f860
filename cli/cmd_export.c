/* kpi export: the raw ledger as one long CSV, or the catalog. What it prints
 * is what `kpi import` reads back, so import -> export -> import -> export is
 * byte-identical (numbers in their shortest exact form). */
#include "cli/cli.h"

#include <getopt.h>
#include <string.h>

static void export_teams(const struct store_view *view)
{
    fputs("team,name,parent\n", stdout);
    for (size_t i = 0; i < store_view_team_count(view); i++) {
        const struct kpi_team *t = store_view_team(view, i);
        report_csv_field(stdout, t->id);
        fputc(',', stdout);
        report_csv_field(stdout, t->name);
        fputc(',', stdout);
        report_csv_field(stdout, t->parent);
        fputc('\n', stdout);
    }
}

static void export_indicators(const struct store_view *view)
{
    fputs("kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n", stdout);
    for (size_t i = 0; i < store_view_indicator_count(view); i++) {
        const struct kpi_indicator *ind = store_view_indicator(view, i);
        char amber[KPI_NUMBER_MAX], red[KPI_NUMBER_MAX], weight[KPI_NUMBER_MAX];
        const char *fields[] = {ind->id,
                                ind->name,
                                kpi_family_name(ind->family),
                                ind->unit,
                                kpi_direction_name(ind->direction),
                                kpi_period_kind_name(ind->period),
                                kpi_aggregate_name(ind->aggregate),
                                kpi_format_number(ind->amber, amber),
                                kpi_format_number(ind->red, red),
                                kpi_format_number(ind->weight, weight)};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            if (f)
                fputc(',', stdout);
            report_csv_field(stdout, fields[f]);
        }
        fputc('\n', stdout);
    }
}

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
    static const struct option long_options[] = {{"kind", required_argument, NULL, 'k'}, {0}};
    const char *kind = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == 'k')
            kind = optarg;
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
    int rc = cli_open_view(ctx, &st, &view);
    if (rc != 0)
        return rc;
    size_t team = SIZE_MAX, ind = SIZE_MAX;
    if (positional >= 1)
        rc = cli_resolve_team(view, argv[optind], &team);
    if (rc == 0 && positional == 2)
        rc = cli_resolve_indicator(view, argv[optind + 1], &ind);
    if (rc == 0) {
        if (kind && strcmp(kind, "teams") == 0)
            export_teams(view);
        else if (kind)
            export_indicators(view);
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
