/* The analysis commands: kpi series, trend, drift, alerts. Each parses the
 * shared options (--format, --as-of, --window, --stale-after), loads the
 * current view and its analysis, and prints a report document or table. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FORMAT = 256,
    OPT_AS_OF,
    OPT_WINDOW,
    OPT_STALE,
    OPT_FROM,
    OPT_TO,
    OPT_TEAM,
    OPT_SEVERITY,
    OPT_KNOWN_AT
};

struct analysis_args {
    const char *command;
    const char *format_text;
    const char *from_text, *to_text, *team_text, *severity_text, *known_at;
    enum report_format format;
    struct query_options opt;
    struct report_style style;
    int first; /* index of the first positional argument */
};

static int parse_count(const char *command, const char *name, const char *text, unsigned min,
                       unsigned *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || v < min || v > 10000)
        return cli_usage_error(command, "invalid --%s \"%s\" (expected a whole number >= %u)", name,
                               text, min);
    *out = (unsigned)v;
    return 0;
}

static int parse_day(const char *command, const char *name, const char *text, int64_t *out)
{
    struct kpi_error err = {0};
    if (kpi_date_parse(text, NULL, out, &err) != 0)
        return cli_usage_error(command, "invalid --%s: %s", name, err.message);
    return 0;
}

static int parse_analysis_args(const struct cli_context *ctx, const char *command, int argc,
                               char **argv, struct analysis_args *a)
{
    static const struct option options[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                            {"as-of", required_argument, NULL, OPT_AS_OF},
                                            {"window", required_argument, NULL, OPT_WINDOW},
                                            {"stale-after", required_argument, NULL, OPT_STALE},
                                            {"from", required_argument, NULL, OPT_FROM},
                                            {"to", required_argument, NULL, OPT_TO},
                                            {"team", required_argument, NULL, OPT_TEAM},
                                            {"severity", required_argument, NULL, OPT_SEVERITY},
                                            {"known-at", required_argument, NULL, OPT_KNOWN_AT},
                                            {0}};
    memset(a, 0, sizeof *a);
    a->command = command;
    query_options_default(&a->opt, kpi_today());
    optind = 0;
    opterr = 0;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            a->format_text = optarg;
            break;
        case OPT_AS_OF:
            rc = parse_day(command, "as-of", optarg, &a->opt.as_of_day);
            break;
        case OPT_WINDOW:
            rc = parse_count(command, "window", optarg, 1, &a->opt.window);
            break;
        case OPT_STALE:
            rc = parse_count(command, "stale-after", optarg, 0, &a->opt.stale_after);
            break;
        case OPT_FROM:
            a->from_text = optarg;
            break;
        case OPT_TO:
            a->to_text = optarg;
            break;
        case OPT_TEAM:
            a->team_text = optarg;
            break;
        case OPT_SEVERITY:
            a->severity_text = optarg;
            break;
        case OPT_KNOWN_AT:
            a->known_at = optarg;
            break;
        default:
            rc = cli_usage_error(command, "unknown option or missing value \"%s\"",
                                 argv[optind - 1]);
        }
    }
    a->first = optind;
    if (rc == 0)
        rc = cli_output_format(ctx, command, a->format_text, &a->format);
    const char *no_color = getenv("NO_COLOR");
    a->style.human = a->format == REPORT_TABLE;
    a->style.color = a->style.human && ctx->stdout_tty && (no_color == NULL || !no_color[0]);
    return rc;
}

/* The loaded data: store, view and its analysis. */
struct analysis_data {
    struct store *st;
    struct store_view *view;
    struct query *q;
};

/* team (and kpi): what the command asks about, whose series alone are
 * loaded; NULL: every team. */
static int open_analysis(const struct cli_context *ctx, const struct analysis_args *a,
                         const char *team, const char *kpi, struct analysis_data *d)
{
    memset(d, 0, sizeof *d);
    int rc = cli_open_view_for(ctx, a->known_at, team, kpi, &d->st, &d->view);
    if (rc != 0)
        return rc;
    struct kpi_error err = {0};
    if (report_analysis_open(d->view, false, &d->q, &err) != 0) {
        store_view_free(d->view);
        store_close(d->st);
        return cli_fail(&err);
    }
    return 0;
}

static void close_analysis(struct analysis_data *d)
{
    query_free(d->q);
    store_view_free(d->view);
    store_close(d->st);
}

/* Print what a report function produced: a JSON document or a table. */
static int emit(int rc, const struct kpi_error *err, char *json, struct report_table *table,
                enum report_format format)
{
    if (rc != 0)
        return cli_fail(err);
    return json ? cli_write_json(json) : cli_write_table(table, format);
}

int cli_cmd_series(const struct cli_context *ctx, int argc, char **argv)
{
    struct analysis_args a;
    int rc = parse_analysis_args(ctx, "series", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (argc - a.first != 2)
        return cli_usage_error("series", "expected TEAM KPI");
    int64_t from = INT64_MIN, to = INT64_MAX;
    if ((a.from_text && (rc = parse_day("series", "from", a.from_text, &from)) != 0) ||
        (a.to_text && (rc = parse_day("series", "to", a.to_text, &to)) != 0))
        return rc;
    struct analysis_data d;
    if ((rc = open_analysis(ctx, &a, argv[a.first], argv[a.first + 1], &d)) != 0)
        return rc;
    size_t team, ind;
    if ((rc = cli_resolve_team(d.view, argv[a.first], &team)) == 0 &&
        (rc = cli_resolve_indicator(d.view, argv[a.first + 1], &ind)) == 0) {
        struct kpi_error err = {0};
        char *json = NULL;
        struct report_table *table = NULL;
        rc = a.format == REPORT_JSON
                 ? report_series_doc(d.q, team, ind, from, to, &json, &err)
                 : report_series_table(d.q, team, ind, from, to, &a.style, &table, &err);
        rc = emit(rc, &err, json, table, a.format);
    }
    close_analysis(&d);
    return rc;
}

int cli_cmd_trend(const struct cli_context *ctx, int argc, char **argv)
{
    struct analysis_args a;
    int rc = parse_analysis_args(ctx, "trend", argc, argv, &a);
    if (rc != 0)
        return rc;
    int positional = argc - a.first;
    if (positional < 1 || positional > 2)
        return cli_usage_error("trend", "expected TEAM [KPI]");
    struct analysis_data d;
    if ((rc = open_analysis(ctx, &a, argv[a.first], positional == 2 ? argv[a.first + 1] : NULL,
                            &d)) != 0)
        return rc;
    size_t team, ind = QUERY_NONE;
    if ((rc = cli_resolve_team(d.view, argv[a.first], &team)) == 0 &&
        (positional == 1 || (rc = cli_resolve_indicator(d.view, argv[a.first + 1], &ind)) == 0)) {
        struct kpi_error err = {0};
        char *json = NULL;
        struct report_table *table = NULL;
        rc = a.format == REPORT_JSON
                 ? report_trends_doc(d.q, team, ind, &a.opt, &json, &err)
                 : report_trends_table(d.q, team, ind, &a.opt, &a.style, &table, &err);
        rc = emit(rc, &err, json, table, a.format);
    }
    close_analysis(&d);
    return rc;
}

int cli_cmd_drift(const struct cli_context *ctx, int argc, char **argv)
{
    struct analysis_args a;
    int rc = parse_analysis_args(ctx, "drift", argc, argv, &a);
    if (rc != 0)
        return rc;
    int positional = argc - a.first;
    if (positional > 1)
        return cli_usage_error("drift", "expected at most one TEAM");
    struct analysis_data d;
    if ((rc = open_analysis(ctx, &a, positional == 1 ? argv[a.first] : NULL, NULL, &d)) != 0)
        return rc;
    size_t team = QUERY_NONE;
    if (positional == 1)
        rc = cli_resolve_team(d.view, argv[a.first], &team);
    if (rc == 0) {
        struct kpi_error err = {0};
        char *json = NULL, *summary = NULL;
        struct report_table *table = NULL;
        if (a.format == REPORT_JSON && team != QUERY_NONE)
            rc = report_team_drift_doc(d.q, team, &a.opt, &json, &err);
        else if (a.format == REPORT_JSON)
            rc = report_all_drift_doc(d.q, &a.opt, &json, &err);
        else if (team != QUERY_NONE)
            rc = report_team_drift_table(d.q, team, &a.opt, &a.style, &table,
                                         a.style.human ? &summary : NULL, &err);
        else
            rc = report_all_drift_table(d.q, &a.opt, &a.style, &table, &err);
        if (rc == 0 && summary)
            printf("%s\n\n", summary);
        free(summary);
        rc = emit(rc, &err, json, table, a.format);
    }
    close_analysis(&d);
    return rc;
}

int cli_cmd_alerts(const struct cli_context *ctx, int argc, char **argv)
{
    struct analysis_args a;
    int rc = parse_analysis_args(ctx, "alerts", argc, argv, &a);
    if (rc != 0)
        return rc;
    if (argc > a.first)
        return cli_usage_error("alerts", "unexpected argument \"%s\"", argv[a.first]);
    struct query_alert_filter filter = {.team = QUERY_NONE, .min_severity = QUERY_INFO};
    if (a.severity_text && query_severity_parse(a.severity_text, &filter.min_severity) != 0)
        return cli_usage_error("alerts",
                               "invalid --severity \"%s\" (expected info, warning or critical)",
                               a.severity_text);
    struct analysis_data d;
    if ((rc = open_analysis(ctx, &a, a.team_text, NULL, &d)) != 0)
        return rc;
    if (a.team_text)
        rc = cli_resolve_team(d.view, a.team_text, &filter.team);
    if (rc == 0) {
        struct kpi_error err = {0};
        char *json = NULL;
        struct report_table *table = NULL;
        rc = a.format == REPORT_JSON
                 ? report_alerts_doc(d.q, &a.opt, &filter, &json, &err)
                 : report_alerts_table(d.q, &a.opt, &filter, &a.style, &table, &err);
        rc = emit(rc, &err, json, table, a.format);
    }
    close_analysis(&d);
    return rc;
}
