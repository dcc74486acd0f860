/* kpi export: the raw ledger as one long CSV, or the catalog. What it prints
 * is what `kpi import` reads back, so import -> export -> import -> export is
 * byte-identical (numbers in their shortest exact form). */
#include "cli/cli.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

static bool kept(size_t team, size_t kpi, size_t t, size_t i)
{
    return (team == SIZE_MAX || t == team) && (kpi == SIZE_MAX || i == kpi);
}

/* (a, b) before (c, d) */
static bool pair_before(size_t a, size_t b, size_t c, size_t d)
{
    return a < c || (a == c && b < d);
}

/* One series' rows: its points and its notes (SPEC §11: a note may sit on a
 * period without a value), by period; note: the sixth column is written. */
static void export_series(const struct store_view *view, size_t t, size_t i,
                          const struct kpi_point *pts, size_t count, size_t *n, size_t note_count,
                          bool note)
{
    const struct kpi_team *tm = store_view_team(view, t);
    const struct kpi_indicator *ind = store_view_indicator(view, i);
    struct store_note nt = {0};
    bool has = *n < note_count;
    if (has)
        store_view_note_at(view, *n, &nt);
    size_t p = 0;
    for (;;) {
        bool own = has && nt.team == t && nt.indicator == i;
        if (p == count && !own)
            break;
        int64_t period =
            p < count && (!own || pts[p].period <= nt.period) ? pts[p].period : nt.period;
        double v = NAN, tg = NAN;
        if (p < count && pts[p].period == period) {
            v = pts[p].value;
            tg = pts[p].target;
            p++;
        }
        const char *text = NULL;
        if (own && nt.period == period) {
            text = nt.text;
            (*n)++;
            has = *n < note_count;
            if (has)
                store_view_note_at(view, *n, &nt);
        }
        char label[KPI_LABEL_MAX], value[KPI_NUMBER_MAX], target[KPI_NUMBER_MAX];
        /* ids never need quoting: [a-z0-9_.-] */
        printf("%s,%s,%s,%s,%s", kpi_period_label(ind->period, period, label), tm->id, ind->id,
               kpi_format_number(v, value), kpi_format_number(tg, target));
        if (note) {
            fputc(',', stdout);
            report_csv_field(stdout, text != NULL ? text : "");
        }
        fputc('\n', stdout);
    }
}

/* team / kpi: indices to keep, or SIZE_MAX for all. The sixth column, note,
 * is there when a note of the kept series exists (SPEC §11). */
static void export_points(const struct store_view *view, size_t team, size_t kpi)
{
    size_t note_count = store_view_note_count(view);
    bool note = false;
    for (size_t k = 0; k < note_count && !note; k++) {
        struct store_note nt;
        store_view_note_at(view, k, &nt);
        note = kept(team, kpi, nt.team, nt.indicator);
    }
    fputs(note ? "date,team,kpi,value,target,note\n" : "date,team,kpi,value,target\n", stdout);
    size_t n = 0, series_count = store_view_series_count(view);
    for (size_t i = 0;;) {
        struct store_series s = {0};
        bool has_series = i < series_count;
        if (has_series)
            store_view_series(view, i, &s);
        struct store_note nt = {0};
        bool has_note = n < note_count;
        if (has_note)
            store_view_note_at(view, n, &nt);
        if (!has_series && !has_note)
            break;
        /* the next (team, indicator): a series, or notes without points */
        if (has_series && (!has_note || !pair_before(nt.team, nt.indicator, s.team, s.indicator))) {
            if (kept(team, kpi, s.team, s.indicator))
                export_series(view, s.team, s.indicator, s.points, s.count, &n, note_count, note);
            else
                while (n < note_count && (store_view_note_at(view, n, &nt), true) &&
                       nt.team == s.team && nt.indicator == s.indicator)
                    n++;
            i++;
        } else if (kept(team, kpi, nt.team, nt.indicator)) {
            export_series(view, nt.team, nt.indicator, NULL, 0, &n, note_count, note);
        } else {
            n++;
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
