/* The history documents of SPEC §10: commits, versions of a series' cells,
 * restatements -- as JSON and as tables. */
#include "report/json_int.h"
#include "report/report.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *field_name(enum store_field f)
{
    return f == STORE_VALUE ? "value" : f == STORE_TARGET ? "target" : "note";
}

/* The JSON array of a commit's teams (its stored text, ours). */
static cJSON *teams_array(const char *text)
{
    const char *end = NULL;
    cJSON *a = cJSON_ParseWithLengthOpts(text, strlen(text), &end, false);
    if (a == NULL || !cJSON_IsArray(a)) {
        cJSON_Delete(a);
        return cJSON_CreateArray();
    }
    return a;
}

char *report_commits_json(const struct store_commit *c, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "commits");
    bool ok = list != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(list, item);
        ok = ok && report_json_add_number(item, "id", (double)c[i].id);
        ok = ok && report_json_add_string(item, "time", c[i].time);
        ok = ok && report_json_add_string(item, "author", c[i].author);
        ok = ok && report_json_add_string(item, "kind", c[i].kind);
        ok = ok && report_json_add_string(item, "source", c[i].source);
        ok = ok && report_json_add_string(item, "sha256", c[i].sha256[0] ? c[i].sha256 : NULL);
        ok = ok && report_json_add_number(item, "rows", (double)c[i].rows);
        ok = ok && report_json_add_number(item, "new", (double)c[i].new_cells);
        ok = ok && report_json_add_number(item, "corrected", (double)c[i].corrected);
        ok = ok && report_json_add_number(item, "series", (double)c[i].series);
        cJSON *teams = ok ? teams_array(c[i].teams) : NULL;
        ok = ok && teams != NULL && cJSON_AddItemToObject(item, "teams", teams);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}

static void u64_text(uint64_t v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIu64, v);
}

struct report_table *report_commits_table(const struct store_commit *c, size_t n)
{
    static const char *const headers[] = {"id",   "time", "author",    "kind",   "source", "sha256",
                                          "rows", "new",  "corrected", "series", "teams"};
    static const bool numeric[] = {true, false, false, false, false, false,
                                   true, true,  true,  true,  false};
    struct report_table *t = report_table_new(11, headers, numeric);
    for (size_t i = 0; t != NULL && i < n; i++) {
        char id[24], rows[24], nw[24], cor[24], ser[24];
        u64_text(c[i].id, id, sizeof id);
        u64_text(c[i].rows, rows, sizeof rows);
        u64_text(c[i].new_cells, nw, sizeof nw);
        u64_text(c[i].corrected, cor, sizeof cor);
        u64_text(c[i].series, ser, sizeof ser);
        /* ["a","b"] -> a b */
        size_t len = strlen(c[i].teams);
        char *teams = malloc(len + 1);
        if (teams == NULL) {
            report_table_free(t);
            return NULL;
        }
        size_t k = 0;
        for (size_t j = 0; j < len; j++) {
            char ch = c[i].teams[j];
            if (ch == '[' || ch == ']' || ch == '"')
                continue;
            teams[k++] = ch == ',' ? ' ' : ch;
        }
        teams[k] = '\0';
        const char *cells[] = {id,   c[i].time, c[i].author, c[i].kind, c[i].source, c[i].sha256,
                               rows, nw,        cor,         ser,       teams};
        int rc = report_table_add(t, cells);
        free(teams);
        if (rc != 0) {
            report_table_free(t);
            return NULL;
        }
    }
    return t;
}

char *report_history_json(const char *team, const char *kpi, enum kpi_period_kind kind,
                          const struct store_version *v, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && report_json_add_string(doc, "team", team) &&
              report_json_add_string(doc, "kpi", kpi);
    cJSON *list = ok ? cJSON_AddArrayToObject(doc, "versions") : NULL;
    ok = list != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char label[KPI_LABEL_MAX], date[KPI_LABEL_MAX];
        kpi_period_label(kind, v[i].period, label);
        kpi_day_label(kpi_period_last_day(kind, v[i].period), date);
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(list, item);
        ok = ok && report_json_add_string(item, "period", label);
        ok = ok && report_json_add_string(item, "date", date);
        ok = ok && report_json_add_string(item, "field", field_name(v[i].field));
        ok = ok && (v[i].field == STORE_NOTE ? report_json_add_string(item, "value", v[i].text)
                                             : report_json_add_number(item, "value", v[i].value));
        ok = ok && report_json_add_number(item, "commit", (double)v[i].commit);
        ok = ok && report_json_add_string(item, "time", v[i].time);
        ok = ok && report_json_add_string(item, "author", v[i].author);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}

struct report_table *report_history_table(enum kpi_period_kind kind, const struct store_version *v,
                                          size_t n)
{
    static const char *const headers[] = {"period", "date", "field", "value",
                                          "commit", "time", "author"};
    static const bool numeric[] = {false, false, false, true, true, false, false};
    struct report_table *t = report_table_new(7, headers, numeric);
    for (size_t i = 0; t != NULL && i < n; i++) {
        char label[KPI_LABEL_MAX], date[KPI_LABEL_MAX], value[KPI_NUMBER_MAX], commit[24];
        kpi_period_label(kind, v[i].period, label);
        kpi_day_label(kpi_period_last_day(kind, v[i].period), date);
        kpi_format_number(v[i].value, value);
        u64_text(v[i].commit, commit, sizeof commit);
        const char *shown = v[i].field != STORE_NOTE ? value : v[i].text != NULL ? v[i].text : "";
        const char *cells[] = {label,     date,       field_name(v[i].field), shown, commit,
                               v[i].time, v[i].author};
        if (report_table_add(t, cells) != 0) {
            report_table_free(t);
            return NULL;
        }
    }
    return t;
}

/* The period kind of a restatement's indicator in view (month when the
 * view does not know it). */
static enum kpi_period_kind kind_of(const struct store_view *view, const char *kpi)
{
    size_t i;
    if (store_view_find_indicator(view, kpi, &i) == 0)
        return store_view_indicator(view, i)->period;
    return KPI_PERIOD_MONTH;
}

char *report_restatements_json(const struct store_view *view, const struct store_restatement *r,
                               size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "restatements");
    bool ok = list != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        enum kpi_period_kind kind = kind_of(view, r[i].kpi);
        char label[KPI_LABEL_MAX], date[KPI_LABEL_MAX];
        kpi_period_label(kind, r[i].period, label);
        kpi_day_label(kpi_period_last_day(kind, r[i].period), date);
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(list, item);
        ok = ok && report_json_add_string(item, "team", r[i].team);
        ok = ok && report_json_add_string(item, "kpi", r[i].kpi);
        ok = ok && report_json_add_string(item, "period", label);
        ok = ok && report_json_add_string(item, "date", date);
        ok = ok && report_json_add_number(item, "first_value", r[i].first_value);
        ok = ok && report_json_add_number(item, "first_commit", (double)r[i].first_commit);
        ok = ok && report_json_add_number(item, "value", r[i].value);
        ok = ok && report_json_add_number(item, "commit", (double)r[i].commit);
        ok = ok && report_json_add_number(item, "change", r[i].change);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}

struct report_table *report_restatements_table(const struct store_view *view,
                                               const struct store_restatement *r, size_t n)
{
    static const char *const headers[] = {"team",         "kpi",   "period", "date",  "first_value",
                                          "first_commit", "value", "commit", "change"};
    static const bool numeric[] = {false, false, false, false, true, true, true, true, true};
    struct report_table *t = report_table_new(9, headers, numeric);
    for (size_t i = 0; t != NULL && i < n; i++) {
        enum kpi_period_kind kind = kind_of(view, r[i].kpi);
        char label[KPI_LABEL_MAX], date[KPI_LABEL_MAX], first[KPI_NUMBER_MAX],
            value[KPI_NUMBER_MAX], change[KPI_NUMBER_MAX], fc[24], c[24];
        kpi_period_label(kind, r[i].period, label);
        kpi_day_label(kpi_period_last_day(kind, r[i].period), date);
        kpi_format_number(r[i].first_value, first);
        kpi_format_number(r[i].value, value);
        kpi_format_number(r[i].change, change);
        u64_text(r[i].first_commit, fc, sizeof fc);
        u64_text(r[i].commit, c, sizeof c);
        const char *cells[] = {r[i].team, r[i].kpi, label, date, first, fc, value, c, change};
        if (report_table_add(t, cells) != 0) {
            report_table_free(t);
            return NULL;
        }
    }
    return t;
}

bool report_team_under(const struct store_view *view, const char *team, size_t root)
{
    size_t i;
    if (store_view_find_team(view, team, &i) != 0)
        return false;
    for (size_t steps = 0; steps <= store_view_team_count(view); steps++) {
        if (i == root)
            return true;
        const char *parent = store_view_team(view, i)->parent;
        if (parent[0] == '\0' || store_view_find_team(view, parent, &i) != 0)
            return false;
    }
    return false;
}
