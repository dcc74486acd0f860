/* The JSON documents of SPEC §7 that answer questions: series, trends, team
 * drift, all teams, alerts. One serializer for the CLI and the server. */
#include "report/json_int.h"
#include "report/report.h"

#include <math.h>
#include <stdlib.h>

static const char *const family_keys[KPI_FAMILY_COUNT] = {"financial", "human", "process",
                                                          "customer"};

static bool add_period_label(cJSON *obj, const char *key, const struct query_period *p)
{
    return report_json_add_string(obj, key, p->set ? p->label : NULL);
}

static bool add_as_of(cJSON *doc, const struct query_options *opt)
{
    char date[KPI_LABEL_MAX];
    return report_json_add_string(doc, "as_of", kpi_day_label(opt->as_of_day, date));
}

static cJSON *trend_json(const struct query_trend *t)
{
    if (!t->set)
        return cJSON_CreateNull();
    cJSON *obj = cJSON_CreateObject();
    bool ok = obj != NULL && report_json_add_number(obj, "slope", t->slope) &&
              report_json_add_number(obj, "change", t->change) &&
              report_json_add_string(obj, "direction", query_direction_name(t->direction)) &&
              report_json_add_number(obj, "window", t->window);
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* "note": the note of (team, indicator) in period p (SPEC §11), or null. */
static bool add_note(cJSON *obj, const struct query *q, size_t team, size_t indicator,
                     const struct query_period *p)
{
    const char *note =
        p->set && indicator != QUERY_NONE ? query_note(q, team, indicator, p->index) : NULL;
    return report_json_add_string(obj, "note", note);
}

/* The INDICATOR record; with_cascade adds cascade_gap (team drift). */
static cJSON *indicator_json(const struct query *q, const struct query_indicator *ind,
                             bool with_cascade)
{
    cJSON *obj = cJSON_CreateObject();
    bool ok =
        obj != NULL && report_json_add_string(obj, "kpi", ind->kpi) &&
        report_json_add_string(
            obj, "family", ind->family == KPI_FAMILY_NONE ? NULL : kpi_family_name(ind->family)) &&
        add_period_label(obj, "period", &ind->period) &&
        report_json_add_string(obj, "date", ind->period.set ? ind->period.date : NULL) &&
        report_json_add_number(obj, "actual", ind->actual) &&
        report_json_add_number(obj, "target", ind->target) &&
        report_json_add_number(obj, "gap", ind->gap) &&
        report_json_add_string(obj, "status", query_status_name(ind->status));
    cJSON *trend = ok ? trend_json(&ind->trend) : NULL;
    ok = ok && trend != NULL && cJSON_AddItemToObject(obj, "trend", trend);
    ok = ok && report_json_add_number(obj, "required_slope", ind->required_slope) &&
         report_json_add_bool(obj, "diverging", ind->diverging) &&
         add_period_label(obj, "deadline", &ind->deadline) &&
         report_json_add_number(obj, "projected", ind->projected) &&
         report_json_add_number(obj, "projected_gap", ind->projected_gap) &&
         report_json_add_bool(obj, "stale", ind->stale) &&
         report_json_add_bool(obj, "rolled_up", ind->rolled_up) &&
         add_note(obj, q, ind->team, ind->indicator, &ind->period);
    if (ok && with_cascade)
        ok = report_json_add_number(obj, "cascade_gap", ind->cascade_gap);
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static int finish_doc(cJSON *doc, bool ok, char **json, struct kpi_error *err)
{
    if (!ok) {
        cJSON_Delete(doc);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    *json = report_json_finish(doc);
    return *json ? 0 : kpi_fail(err, KPI_ESYSTEM, "out of memory");
}

/* A number of a hand-written document, as report_json_number prints it. */
static int text_number(struct kpi_buf *b, double v)
{
    char text[KPI_NUMBER_MAX];
    if (isnan(v) || isinf(v))
        return kpi_buf_append(b, "null", 4);
    return kpi_buf_puts(b, kpi_format_number(v, text));
}

/* The series document is written by hand, byte for byte what cJSON would
 * print: building one cJSON object per point cost 12 ms for the 10,000
 * points of a daily series over 27 years, the bulk of the server's answer
 * after a take-up (docs/PERFORMANCE.md, "History"). */
int report_series_doc(struct query *q, size_t team, size_t indicator, int64_t from_day,
                      int64_t to_day, char **json, struct kpi_error *err)
{
    struct query_series s = {0};
    int rc = query_series_get(q, team, indicator, from_day, to_day, &s, err);
    if (rc != 0) {
        query_series_free(&s);
        return rc;
    }
    const struct kpi_team *t = query_team(q, team);
    const struct kpi_indicator *ind = query_indicator(q, indicator);
    struct kpi_buf b = {0};
    rc = kpi_buf_puts(&b, "{\"team\":");
    if (rc == 0 && (rc = report_json_text_string(&b, t->id)) == 0 &&
        (rc = kpi_buf_puts(&b, ",\"kpi\":")) == 0 &&
        (rc = report_json_text_string(&b, ind->id)) == 0 &&
        (rc = kpi_buf_puts(&b, ",\"unit\":")) == 0 &&
        (rc = report_json_text_string(&b, ind->unit)) == 0)
        rc = kpi_buf_puts(&b, ",\"points\":[");
    for (size_t i = 0; rc == 0 && i < s.count; i++) {
        const struct query_point *p = &s.points[i];
        const char *note = p->period.set ? query_note(q, team, indicator, p->period.index) : NULL;
        if ((rc = kpi_buf_puts(&b, i == 0 ? "{\"period\":" : ",{\"period\":")) == 0 &&
            (rc = report_json_text_string(&b, p->period.set ? p->period.label : NULL)) == 0 &&
            (rc = kpi_buf_puts(&b, ",\"date\":")) == 0 &&
            (rc = report_json_text_string(&b, p->period.date)) == 0 &&
            (rc = kpi_buf_puts(&b, ",\"value\":")) == 0 && (rc = text_number(&b, p->value)) == 0 &&
            (rc = kpi_buf_puts(&b, ",\"target\":")) == 0 &&
            (rc = text_number(&b, p->target)) == 0 &&
            (rc = kpi_buf_puts(&b, p->rolled_up ? ",\"rolled_up\":true,\"note\":"
                                                : ",\"rolled_up\":false,\"note\":")) == 0 &&
            (rc = report_json_text_string(&b, note)) == 0)
            rc = kpi_buf_append(&b, "}", 1);
    }
    if (rc == 0)
        rc = kpi_buf_puts(&b, "]}");
    query_series_free(&s);
    if (rc != 0) {
        kpi_buf_free(&b);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    *json = b.data;
    return 0;
}

int report_trends_doc(struct query *q, size_t team, size_t indicator,
                      const struct query_options *opt, char **json, struct kpi_error *err)
{
    struct query_indicator *items = NULL, one;
    size_t count = 0;
    int rc;
    if (indicator == QUERY_NONE) {
        rc = query_team_indicators(q, team, opt, &items, &count, err);
    } else {
        rc = query_indicator_eval(q, team, indicator, opt, &one, err);
        count = 1;
    }
    if (rc != 0) {
        free(items);
        return rc;
    }
    const struct query_indicator *list = indicator == QUERY_NONE ? items : &one;
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && report_json_add_string(doc, "team", query_team(q, team)->id) &&
              add_as_of(doc, opt) && report_json_add_number(doc, "window", opt->window);
    cJSON *arr = ok ? cJSON_AddArrayToObject(doc, "indicators") : NULL;
    ok = ok && arr != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        cJSON *item = indicator_json(q, &list[i], false);
        ok = item != NULL && cJSON_AddItemToArray(arr, item);
    }
    free(items);
    return finish_doc(doc, ok, json, err);
}

/* The drift summary fields of one team (without indicators). */
static bool drift_fields(cJSON *obj, const struct query_drift *d)
{
    bool ok = report_json_add_string(obj, "team", d->team_id) &&
              report_json_add_number(obj, "drift", d->drift);
    cJSON *families = ok ? cJSON_AddObjectToObject(obj, "families") : NULL;
    ok = ok && families != NULL;
    for (size_t f = 0; ok && f < KPI_FAMILY_COUNT; f++)
        ok = report_json_add_number(families, family_keys[f], d->families[f]);
    cJSON *counts = ok ? cJSON_AddObjectToObject(obj, "status_counts") : NULL;
    ok = ok && counts != NULL;
    for (size_t s = 0; ok && s < QUERY_STATUS_COUNT; s++)
        ok = report_json_add_number(counts, query_status_name((enum query_status)s),
                                    (double)d->status_counts[s]);
    cJSON *coverage = ok ? cJSON_AddArrayToObject(obj, "coverage") : NULL;
    cJSON *missing = coverage ? cJSON_AddArrayToObject(obj, "missing_families") : NULL;
    ok = ok && missing != NULL;
    for (size_t f = 0; ok && f < KPI_FAMILY_COUNT; f++) {
        cJSON *name = cJSON_CreateString(family_keys[f]);
        ok = name != NULL && cJSON_AddItemToArray(d->covered[f] ? coverage : missing, name);
    }
    return ok;
}

/* "contributions" and "residual" of one INDICATOR (SPEC §11). */
static bool add_attribution(cJSON *obj, const struct query_attribution *a)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "contributions");
    bool ok = arr != NULL;
    for (size_t k = 0; ok && k < a->count; k++) {
        const struct query_contribution *c = &a->items[k];
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(arr, item) &&
             report_json_add_string(item, "team", c->team_id) &&
             report_json_add_number(item, "actual", c->actual) &&
             report_json_add_number(item, "target", c->target) &&
             report_json_add_number(item, "contribution", c->contribution);
    }
    return ok && report_json_add_number(obj, "residual", a->set ? a->residual : NAN);
}

int report_team_drift_doc_with(struct query *q, size_t team, const struct query_options *opt,
                               bool attribution, char **json, struct kpi_error *err)
{
    struct query_drift d = {0};
    int rc = query_team_drift(q, team, opt, true, &d, err);
    if (rc != 0) {
        query_drift_free(&d);
        return rc;
    }
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && drift_fields(doc, &d) && add_as_of(doc, opt);
    cJSON *arr = ok ? cJSON_AddArrayToObject(doc, "indicators") : NULL;
    ok = ok && arr != NULL;
    for (size_t i = 0; ok && rc == 0 && i < d.indicator_count; i++) {
        cJSON *item = indicator_json(q, &d.indicators[i], true);
        ok = item != NULL && cJSON_AddItemToArray(arr, item);
        if (ok && attribution) {
            struct query_attribution a;
            rc = query_attribution(q, &d.indicators[i], opt, &a, err);
            ok = rc != 0 || add_attribution(item, &a);
            query_attribution_free(&a);
        }
    }
    query_drift_free(&d);
    if (rc != 0) {
        cJSON_Delete(doc);
        return rc;
    }
    return finish_doc(doc, ok, json, err);
}

int report_team_drift_doc(struct query *q, size_t team, const struct query_options *opt,
                          char **json, struct kpi_error *err)
{
    return report_team_drift_doc_with(q, team, opt, true, json, err);
}

int report_all_drift_doc(struct query *q, const struct query_options *opt, char **json,
                         struct kpi_error *err)
{
    struct query_drift *items = NULL;
    size_t count = 0;
    int rc = query_all_drift(q, opt, &items, &count, err);
    if (rc != 0) {
        free(items);
        return rc;
    }
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && add_as_of(doc, opt);
    cJSON *arr = ok ? cJSON_AddArrayToObject(doc, "teams") : NULL;
    ok = ok && arr != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(arr, item) && drift_fields(item, &items[i]);
    }
    free(items);
    return finish_doc(doc, ok, json, err);
}

static cJSON *alert_json(const struct query *q, const struct query_alert *a)
{
    cJSON *obj = cJSON_CreateObject();
    bool ok = obj != NULL && report_json_add_string(obj, "id", a->id) &&
              report_json_add_string(obj, "team", a->team_id) &&
              report_json_add_string(obj, "kpi", a->kpi) &&
              report_json_add_string(obj, "kind", query_alert_kind_name(a->kind)) &&
              report_json_add_string(obj, "severity", query_severity_name(a->severity)) &&
              report_json_add_string(obj, "message", a->message) &&
              add_period_label(obj, "period", &a->period) &&
              add_period_label(obj, "since", &a->since) &&
              report_json_add_number(obj, "actual", a->actual) &&
              report_json_add_number(obj, "target", a->target) &&
              report_json_add_number(obj, "gap", a->gap) &&
              add_note(obj, q, a->team, a->indicator, &a->period);
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

int report_alerts_doc(struct query *q, const struct query_options *opt,
                      const struct query_alert_filter *filter, char **json, struct kpi_error *err)
{
    struct query_alert_list list = {0};
    int rc = query_alerts(q, opt, filter, &list, err);
    if (rc != 0) {
        query_alert_list_free(&list);
        return rc;
    }
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && add_as_of(doc, opt);
    cJSON *arr = ok ? cJSON_AddArrayToObject(doc, "alerts") : NULL;
    ok = ok && arr != NULL;
    for (size_t i = 0; ok && i < list.count; i++) {
        cJSON *item = alert_json(q, &list.items[i]);
        ok = item != NULL && cJSON_AddItemToArray(arr, item);
    }
    query_alert_list_free(&list);
    return finish_doc(doc, ok, json, err);
}
