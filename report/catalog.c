/* The catalog documents: teams and indicators, as JSON and as tables. */
#include "report/json_int.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

static cJSON *team_children(const struct store_view *view, const char *id)
{
    cJSON *children = cJSON_CreateArray();
    size_t n = store_view_team_count(view);
    for (size_t i = 0; children && i < n; i++) {
        const struct kpi_team *t = store_view_team(view, i);
        if (strcmp(t->parent, id) == 0) {
            cJSON *child = cJSON_CreateString(t->id);
            if (child == NULL || !cJSON_AddItemToArray(children, child)) {
                cJSON_Delete(children);
                return NULL;
            }
        }
    }
    return children;
}

char *report_teams_json(const struct store_view *view)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *teams = cJSON_AddArrayToObject(doc, "teams");
    bool ok = teams != NULL;
    size_t n = store_view_team_count(view);
    for (size_t i = 0; ok && i < n; i++) {
        const struct kpi_team *t = store_view_team(view, i);
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(teams, item);
        ok = ok && report_json_add_string(item, "id", t->id);
        ok = ok && report_json_add_string(item, "name", t->name);
        ok = ok && report_json_add_string(item, "parent", t->parent[0] ? t->parent : NULL);
        cJSON *children = ok ? team_children(view, t->id) : NULL;
        ok = ok && children != NULL && cJSON_AddItemToObject(item, "children", children);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}

char *report_indicators_json(const struct store_view *view)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "indicators");
    bool ok = list != NULL;
    size_t n = store_view_indicator_count(view);
    for (size_t i = 0; ok && i < n; i++) {
        const struct kpi_indicator *ind = store_view_indicator(view, i);
        cJSON *item = cJSON_CreateObject();
        ok = item != NULL && cJSON_AddItemToArray(list, item);
        ok = ok && report_json_add_string(item, "id", ind->id);
        ok = ok && report_json_add_string(item, "name", ind->name);
        ok = ok && report_json_add_string(
                       item, "family",
                       ind->family == KPI_FAMILY_NONE ? NULL : kpi_family_name(ind->family));
        ok = ok && report_json_add_string(item, "unit", ind->unit);
        ok = ok && report_json_add_string(item, "direction", kpi_direction_name(ind->direction));
        ok = ok && report_json_add_string(item, "period", kpi_period_kind_name(ind->period));
        ok = ok && report_json_add_string(item, "aggregate", kpi_aggregate_name(ind->aggregate));
        ok = ok && report_json_add_number(item, "amber", ind->amber);
        ok = ok && report_json_add_number(item, "red", ind->red);
        ok = ok && report_json_add_number(item, "weight", ind->weight);
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}

/* Depth-first: a team, then its children (the view is sorted by id, so
 * siblings come out sorted). `prefix` holds the tree drawing so far. */
static int add_tree_rows(struct report_table *t, const struct store_view *view, const char *parent,
                         const char *prefix)
{
    size_t n = store_view_team_count(view);
    size_t last = n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(store_view_team(view, i)->parent, parent) == 0)
            last = i;
    for (size_t i = 0; i < n; i++) {
        const struct kpi_team *team = store_view_team(view, i);
        if (strcmp(team->parent, parent) != 0)
            continue;
        bool root = parent[0] == '\0';
        char label[1024], child_prefix[1024];
        snprintf(label, sizeof label, "%s%s%s", prefix, root ? "" : (i == last ? "└─ " : "├─ "),
                 team->id);
        snprintf(child_prefix, sizeof child_prefix, "%s%s", prefix,
                 root ? "" : (i == last ? "   " : "│  "));
        const char *cells[] = {label, team->name};
        if (report_table_add(t, cells) != 0)
            return KPI_ESYSTEM;
        if (add_tree_rows(t, view, team->id, child_prefix) != 0)
            return KPI_ESYSTEM;
    }
    return 0;
}

struct report_table *report_teams_table(const struct store_view *view, bool tree)
{
    static const char *const flat_headers[] = {"id", "name", "parent"};
    static const char *const tree_headers[] = {"team", "name"};
    struct report_table *t =
        tree ? report_table_new(2, tree_headers, NULL) : report_table_new(3, flat_headers, NULL);
    if (t == NULL)
        return NULL;
    int rc = 0;
    if (tree) {
        rc = add_tree_rows(t, view, "", "");
    } else {
        size_t n = store_view_team_count(view);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const struct kpi_team *team = store_view_team(view, i);
            const char *cells[] = {team->id, team->name, team->parent};
            rc = report_table_add(t, cells);
        }
    }
    if (rc != 0) {
        report_table_free(t);
        return NULL;
    }
    return t;
}

struct report_table *report_indicators_table(const struct store_view *view)
{
    static const char *const headers[] = {"id",     "name",      "family", "unit", "direction",
                                          "period", "aggregate", "amber",  "red",  "weight"};
    static const bool numeric[] = {false, false, false, false, false,
                                   false, false, true,  true,  true};
    struct report_table *t = report_table_new(10, headers, numeric);
    size_t n = store_view_indicator_count(view);
    for (size_t i = 0; t && i < n; i++) {
        const struct kpi_indicator *ind = store_view_indicator(view, i);
        char amber[KPI_NUMBER_MAX], red[KPI_NUMBER_MAX], weight[KPI_NUMBER_MAX];
        const char *cells[] = {ind->id,
                               ind->name,
                               kpi_family_name(ind->family),
                               ind->unit,
                               kpi_direction_name(ind->direction),
                               kpi_period_kind_name(ind->period),
                               kpi_aggregate_name(ind->aggregate),
                               kpi_format_number(ind->amber, amber),
                               kpi_format_number(ind->red, red),
                               kpi_format_number(ind->weight, weight)};
        if (report_table_add(t, cells) != 0) {
            report_table_free(t);
            return NULL;
        }
    }
    return t;
}
