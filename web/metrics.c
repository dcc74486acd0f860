/* GET /metrics: the Prometheus text exposition (format 0.0.4) of SPEC §7.
 *
 * Per series (every team's indicators, own or rolled up, as in the trends
 * document): kpi_value (the latest actual), kpi_target and kpi_gap_ratio (of
 * that period; no sample without a target), labelled team, kpi and family.
 * An indicator without a family has family="none". Per team: kpi_team_drift
 * (no sample when null) and kpi_alerts{team, severity}, the count of the
 * team's own alerts (not its descendants'), every severity present (0s
 * included) so that a cleared alert drops to 0 instead of vanishing. */
#include "web/web_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A label value: \ " and newline escaped. */
static int put_label(struct kpi_buf *b, const char *text)
{
    int rc = 0;
    for (const char *p = text; rc == 0 && *p; p++) {
        if (*p == '\\')
            rc = kpi_buf_puts(b, "\\\\");
        else if (*p == '"')
            rc = kpi_buf_puts(b, "\\\"");
        else if (*p == '\n')
            rc = kpi_buf_puts(b, "\\n");
        else
            rc = kpi_buf_append(b, p, 1);
    }
    return rc;
}

static int put_header(struct kpi_buf *b, const char *name, const char *help)
{
    return kpi_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static int put_series_sample(struct kpi_buf *b, const char *name, const struct query_indicator *it,
                             const char *team, double v)
{
    if (!isfinite(v))
        return 0;
    char num[KPI_NUMBER_MAX];
    int rc = kpi_buf_printf(b, "%s{team=\"", name);
    if (rc == 0)
        rc = put_label(b, team);
    if (rc == 0)
        rc = kpi_buf_puts(b, "\",kpi=\"");
    if (rc == 0)
        rc = put_label(b, it->kpi);
    if (rc == 0)
        rc = kpi_buf_printf(b, "\",family=\"%s\"} %s\n",
                            it->family == KPI_FAMILY_NONE ? "none" : kpi_family_name(it->family),
                            kpi_format_number(v, num));
    return rc;
}

/* The per-series families. Each metric's samples are grouped under its
 * HELP/TYPE lines, so the teams' indicators are computed once and walked
 * three times. */
struct team_items {
    struct query_indicator *items;
    size_t count;
};

static int series_metrics(struct kpi_buf *b, const struct store_view *view,
                          const struct team_items *teams, size_t team_count)
{
    static const struct {
        const char *name, *help;
    } families[] = {
        {"kpi_value", "Latest observed value of the series up to the as-of period."},
        {"kpi_target", "Target of the period of the latest observed value."},
        {"kpi_gap_ratio", "Gap of the latest value to its target (positive is better)."},
    };
    int rc = 0;
    for (size_t f = 0; rc == 0 && f < 3; f++) {
        rc = put_header(b, families[f].name, families[f].help);
        for (size_t t = 0; rc == 0 && t < team_count; t++) {
            const char *team = store_view_team(view, t)->id;
            for (size_t i = 0; rc == 0 && i < teams[t].count; i++) {
                const struct query_indicator *it = &teams[t].items[i];
                double v = f == 0 ? it->actual : f == 1 ? it->target : it->gap;
                rc = put_series_sample(b, families[f].name, it, team, v);
            }
        }
    }
    return rc;
}

static int drift_metrics(struct kpi_buf *b, struct query *q, const struct query_options *opt,
                         struct kpi_error *err)
{
    struct query_drift *items = NULL;
    size_t count = 0;
    int rc = query_all_drift(q, opt, &items, &count, err);
    if (rc == 0 && (rc = put_header(b, "kpi_team_drift",
                                    "Weighted mean shortfall of the team's indicators against "
                                    "their targets (0 when all are on target).")) == 0) {
        for (size_t i = 0; rc == 0 && i < count; i++) {
            if (!isfinite(items[i].drift))
                continue;
            char num[KPI_NUMBER_MAX];
            rc = kpi_buf_puts(b, "kpi_team_drift{team=\"");
            if (rc == 0)
                rc = put_label(b, items[i].team_id);
            if (rc == 0)
                rc = kpi_buf_printf(b, "\"} %s\n", kpi_format_number(items[i].drift, num));
        }
    }
    for (size_t i = 0; i < count; i++)
        query_drift_free(&items[i]);
    free(items);
    return rc;
}

static int alert_metrics(struct kpi_buf *b, struct query *q, const struct store_view *view,
                         const struct query_options *opt, struct kpi_error *err)
{
    static const enum query_severity order[] = {QUERY_CRITICAL, QUERY_WARNING, QUERY_INFO};
    size_t team_count = store_view_team_count(view);
    struct query_alert_list list = {0};
    struct query_alert_filter all = {.team = QUERY_NONE, .min_severity = QUERY_INFO};
    size_t(*counts)[3] = calloc(team_count + 1, sizeof *counts);
    int rc = counts ? query_alerts(q, opt, &all, &list, err)
                    : kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < list.count; i++)
        if (list.items[i].team < team_count)
            counts[list.items[i].team][list.items[i].severity]++;
    if (rc == 0)
        rc = put_header(b, "kpi_alerts", "Number of the team's own alerts by severity.");
    for (size_t t = 0; rc == 0 && t < team_count; t++)
        for (size_t s = 0; rc == 0 && s < 3; s++) {
            rc = kpi_buf_puts(b, "kpi_alerts{team=\"");
            if (rc == 0)
                rc = put_label(b, store_view_team(view, t)->id);
            if (rc == 0)
                rc = kpi_buf_printf(b, "\",severity=\"%s\"} %zu\n", query_severity_name(order[s]),
                                    counts[t][order[s]]);
        }
    query_alert_list_free(&list);
    free(counts);
    return rc;
}

int web_metrics_build(struct query *q, const struct store_view *view,
                      const struct query_options *opt, struct web_body *out, struct kpi_error *err)
{
    size_t team_count = store_view_team_count(view);
    struct team_items *teams = calloc(team_count + 1, sizeof *teams);
    struct kpi_buf b = {0};
    int rc = teams ? 0 : kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t t = 0; rc == 0 && t < team_count; t++)
        rc = query_team_indicators(q, t, opt, &teams[t].items, &teams[t].count, err);
    if (rc == 0 && series_metrics(&b, view, teams, team_count) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    if (rc == 0)
        rc = drift_metrics(&b, q, opt, err);
    if (rc == 0)
        rc = alert_metrics(&b, q, view, opt, err);
    for (size_t t = 0; teams && t < team_count; t++)
        free(teams[t].items);
    free(teams);
    if (rc == 0 && b.data == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    if (rc != 0) {
        kpi_buf_free(&b);
        return rc;
    }
    *out = (struct web_body){.data = b.data, .len = b.len, .borrowed = false};
    return 0;
}
