/* The analysis answers as tables: exact numbers for CSV, readable ones with
 * arrows and colours for a person at a terminal. */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 96

/* Hand the table out, or free it when building it failed. Returns rc. */
static int finish_table(int rc, struct report_table *t, struct report_table **out)
{
    if (rc != 0) {
        report_table_free(t);
        t = NULL;
    }
    *out = t;
    return rc;
}

/* A number for the table: shortest exact for CSV; for a person, at most two
 * decimals (thousands stay readable in aligned columns). "" for NaN. */
static char *number_cell(double v, const struct report_style *style, char *buf)
{
    if (isnan(v)) {
        buf[0] = '\0';
    } else if (!style->human) {
        kpi_format_number(v, buf);
    } else if (fabs(v) >= 1e15 || (v != 0 && fabs(v) < 0.005)) {
        snprintf(buf, CELL_MAX, "%.3g", v);
    } else {
        snprintf(buf, CELL_MAX, "%.2f", v);
        char *dot = strchr(buf, '.');
        if (dot) { /* 12.50 -> 12.5, 12.00 -> 12 */
            char *end = buf + strlen(buf) - 1;
            while (end > dot && *end == '0')
                *end-- = '\0';
            if (end == dot)
                *end = '\0';
        }
    }
    return buf;
}

/* A ratio as a percentage for a person (signed for a gap, plain for a
 * drift, which is a shortfall and never negative); exact for CSV. */
static char *percent_cell(double v, bool sign, const struct report_style *style, char *buf)
{
    if (isnan(v))
        buf[0] = '\0';
    else if (style->human)
        snprintf(buf, CELL_MAX, sign ? "%+.1f%%" : "%.1f%%", v * 100);
    else
        kpi_format_number(v, buf);
    return buf;
}

static char *ratio_cell(double v, const struct report_style *style, char *buf)
{
    return percent_cell(v, true, style, buf);
}

static char *drift_cell(double v, const struct report_style *style, char *buf)
{
    return percent_cell(v, false, style, buf);
}

static const char *status_color(enum query_status s)
{
    switch (s) {
    case QUERY_ON_TRACK:
        return "\033[32m";
    case QUERY_AT_RISK:
        return "\033[33m";
    case QUERY_OFF_TRACK:
        return "\033[31m";
    default:
        return "\033[2m";
    }
}

static char *status_cell(enum query_status s, const struct report_style *style, char *buf)
{
    if (style->color)
        snprintf(buf, CELL_MAX, "%s%s\033[0m", status_color(s), query_status_name(s));
    else
        snprintf(buf, CELL_MAX, "%s", query_status_name(s));
    return buf;
}

static char *trend_cell(const struct query_trend *t, const struct report_style *style, char *buf)
{
    if (!t->set) {
        buf[0] = '\0';
        return buf;
    }
    const char *name = query_direction_name(t->direction);
    if (!style->human) {
        snprintf(buf, CELL_MAX, "%s", name);
        return buf;
    }
    const char *arrow = t->slope > 0 ? "↗" : t->slope < 0 ? "↘" : "→";
    if (t->direction == QUERY_FLAT)
        arrow = "→";
    const char *color = t->direction == QUERY_IMPROVING   ? "\033[32m"
                        : t->direction == QUERY_WORSENING ? "\033[31m"
                                                          : "";
    if (style->color && color[0])
        snprintf(buf, CELL_MAX, "%s%s %s\033[0m", color, arrow, name);
    else
        snprintf(buf, CELL_MAX, "%s %s", arrow, name);
    return buf;
}

static const char *bool_cell(bool b, const struct report_style *style)
{
    return style->human ? (b ? "yes" : "") : (b ? "true" : "false");
}

int report_series_table(struct query *q, size_t team, size_t indicator, int64_t from_day,
                        int64_t to_day, const struct report_style *style, struct report_table **out,
                        struct kpi_error *err)
{
    static const char *const headers[] = {"period", "date", "value", "target", "rolled_up"};
    static const bool numeric[] = {false, false, true, true, false};
    struct query_series s = {0};
    int rc = query_series_get(q, team, indicator, from_day, to_day, &s, err);
    struct report_table *t = rc == 0 ? report_table_new(5, headers, numeric) : NULL;
    if (rc == 0 && t == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < s.count; i++) {
        char value[CELL_MAX], target[CELL_MAX];
        const struct query_point *p = &s.points[i];
        const char *cells[] = {p->period.label, p->period.date, number_cell(p->value, style, value),
                               number_cell(p->target, style, target),
                               bool_cell(p->rolled_up, style)};
        if (report_table_add(t, cells) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    query_series_free(&s);
    return finish_table(rc, t, out);
}

/* Columns of an INDICATOR row; with_cascade adds cascade_gap. */
static struct report_table *indicator_table(bool with_cascade)
{
    static const char *const headers[] = {
        "kpi",           "family", "period",         "actual",      "target",      "gap",
        "status",        "trend",  "required_slope", "diverging",   "deadline",    "projected",
        "projected_gap", "stale",  "rolled_up",      "cascade_gap", "worst_child", "contribution"};
    static const bool numeric[] = {false, false, false, true, true,  true,  false, false, true,
                                   false, false, true,  true, false, false, true,  false, true};
    return report_table_new(with_cascade ? 18 : 15, headers, numeric);
}

/* worst: the team drift table's worst contributor (SPEC §11), NULL in the
 * trends table. */
static int add_indicator_row(struct report_table *t, const struct query_indicator *ind,
                             const struct query_attribution *worst,
                             const struct report_style *style)
{
    bool with_cascade = worst != NULL;
    const struct query_contribution *w = worst && worst->count ? &worst->items[0] : NULL;
    char actual[CELL_MAX], target[CELL_MAX], gap[CELL_MAX], status[CELL_MAX], trend[CELL_MAX],
        slope[CELL_MAX], projected[CELL_MAX], pgap[CELL_MAX], cascade[CELL_MAX],
        contribution[CELL_MAX];
    const char *cells[] = {ind->kpi,
                           kpi_family_name(ind->family),
                           ind->period.set ? ind->period.label : "",
                           number_cell(ind->actual, style, actual),
                           number_cell(ind->target, style, target),
                           ratio_cell(ind->gap, style, gap),
                           status_cell(ind->status, style, status),
                           trend_cell(&ind->trend, style, trend),
                           number_cell(ind->required_slope, style, slope),
                           bool_cell(ind->diverging, style),
                           ind->deadline.set ? ind->deadline.label : "",
                           number_cell(ind->projected, style, projected),
                           ratio_cell(ind->projected_gap, style, pgap),
                           bool_cell(ind->stale, style),
                           bool_cell(ind->rolled_up, style),
                           with_cascade ? ratio_cell(ind->cascade_gap, style, cascade) : "",
                           w ? w->team_id : "",
                           ratio_cell(w ? w->contribution : NAN, style, contribution)};
    return report_table_add(t, cells);
}

int report_trends_table(struct query *q, size_t team, size_t indicator,
                        const struct query_options *opt, const struct report_style *style,
                        struct report_table **out, struct kpi_error *err)
{
    struct query_indicator *items = NULL, one;
    size_t count = 0;
    int rc = indicator == QUERY_NONE ? query_team_indicators(q, team, opt, &items, &count, err)
                                     : query_indicator_eval(q, team, indicator, opt, &one, err);
    if (indicator != QUERY_NONE)
        count = 1;
    struct report_table *t = rc == 0 ? indicator_table(false) : NULL;
    if (rc == 0 && t == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (add_indicator_row(t, indicator == QUERY_NONE ? &items[i] : &one, NULL, style) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    free(items);
    return finish_table(rc, t, out);
}

static const char *const family_names[KPI_FAMILY_COUNT] = {"financial", "human", "process",
                                                           "customer"};

/* "drift +20.8% · 3 on_track, 1 at_risk ... · missing: human, process" */
static char *drift_summary(const struct query_drift *d, const struct report_style *style)
{
    struct kpi_buf b = {0};
    char drift[CELL_MAX];
    kpi_buf_printf(&b, "%s: drift %s", d->team_id,
                   isnan(d->drift) ? "none" : drift_cell(d->drift, style, drift));
    for (size_t s = 0; s < QUERY_STATUS_COUNT; s++)
        if (d->status_counts[s])
            kpi_buf_printf(&b, ", %zu %s", d->status_counts[s],
                           query_status_name((enum query_status)s));
    const char *sep = "; missing families: ";
    for (size_t f = 0; f < KPI_FAMILY_COUNT; f++) {
        if (!d->covered[f]) {
            kpi_buf_printf(&b, "%s%s", sep, family_names[f]);
            sep = ", ";
        }
    }
    return b.data;
}

int report_team_drift_table(struct query *q, size_t team, const struct query_options *opt,
                            const struct report_style *style, struct report_table **out,
                            char **summary, struct kpi_error *err)
{
    struct query_drift d = {0};
    int rc = query_team_drift(q, team, opt, true, &d, err);
    struct report_table *t = rc == 0 ? indicator_table(true) : NULL;
    if (rc == 0 && t == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < d.indicator_count; i++) {
        struct query_attribution a;
        rc = query_attribution(q, &d.indicators[i], opt, &a, err);
        if (rc == 0 && add_indicator_row(t, &d.indicators[i], &a, style) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        query_attribution_free(&a);
    }
    if (rc == 0 && summary)
        *summary = drift_summary(&d, style);
    query_drift_free(&d);
    return finish_table(rc, t, out);
}

int report_all_drift_table(struct query *q, const struct query_options *opt,
                           const struct report_style *style, struct report_table **out,
                           struct kpi_error *err)
{
    static const char *const headers[] = {
        "team",     "drift",   "financial", "human",     "process", "customer",
        "on_track", "at_risk", "off_track", "no_target", "no_data", "missing_families"};
    static const bool numeric[] = {false, true, true, true, true, true,
                                   true,  true, true, true, true, false};
    struct query_drift *items = NULL;
    size_t count = 0;
    int rc = query_all_drift(q, opt, &items, &count, err);
    struct report_table *t = rc == 0 ? report_table_new(12, headers, numeric) : NULL;
    if (rc == 0 && t == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const struct query_drift *d = &items[i];
        char drift[CELL_MAX], fam[KPI_FAMILY_COUNT][CELL_MAX], counts[5][24], missing[64] = "";
        for (size_t f = 0; f < KPI_FAMILY_COUNT; f++) {
            drift_cell(d->families[f], style, fam[f]);
            if (!d->covered[f]) {
                if (missing[0])
                    strcat(missing, style->human ? " " : ";");
                strcat(missing, family_names[f]);
            }
        }
        static const enum query_status order[] = {QUERY_ON_TRACK, QUERY_AT_RISK, QUERY_OFF_TRACK,
                                                  QUERY_NO_TARGET, QUERY_NO_DATA};
        for (size_t s = 0; s < 5; s++)
            snprintf(counts[s], sizeof counts[s], "%zu", d->status_counts[order[s]]);
        const char *cells[] = {d->team_id, drift_cell(d->drift, style, drift),
                               fam[0],     fam[1],
                               fam[2],     fam[3],
                               counts[0],  counts[1],
                               counts[2],  counts[3],
                               counts[4],  missing};
        if (report_table_add(t, cells) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    free(items);
    return finish_table(rc, t, out);
}

static char *severity_cell(enum query_severity s, const struct report_style *style, char *buf)
{
    const char *color = s == QUERY_CRITICAL ? "\033[31m" : s == QUERY_WARNING ? "\033[33m" : "";
    if (style->color && color[0])
        snprintf(buf, CELL_MAX, "%s%s\033[0m", color, query_severity_name(s));
    else
        snprintf(buf, CELL_MAX, "%s", query_severity_name(s));
    return buf;
}

int report_alerts_table(struct query *q, const struct query_options *opt,
                        const struct query_alert_filter *filter, const struct report_style *style,
                        struct report_table **out, struct kpi_error *err)
{
    static const char *const headers[] = {"severity", "team",   "kpi",    "kind", "period",
                                          "since",    "actual", "target", "gap",  "message"};
    static const bool numeric[] = {false, false, false, false, false,
                                   false, true,  true,  true,  false};
    struct query_alert_list list = {0};
    int rc = query_alerts(q, opt, filter, &list, err);
    struct report_table *t = rc == 0 ? report_table_new(10, headers, numeric) : NULL;
    if (rc == 0 && t == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < list.count; i++) {
        const struct query_alert *a = &list.items[i];
        char severity[CELL_MAX], actual[CELL_MAX], target[CELL_MAX], gap[CELL_MAX];
        const char *cells[] = {severity_cell(a->severity, style, severity),
                               a->team_id,
                               a->kpi ? a->kpi : "",
                               query_alert_kind_name(a->kind),
                               a->period.set ? a->period.label : "",
                               a->since.set ? a->since.label : "",
                               number_cell(a->actual, style, actual),
                               number_cell(a->target, style, target),
                               ratio_cell(a->gap, style, gap),
                               a->message};
        if (report_table_add(t, cells) != 0)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    query_alert_list_free(&list);
    return finish_table(rc, t, out);
}
