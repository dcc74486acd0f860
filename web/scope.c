/* Team scopes (SPEC §9): which teams a token sees, and the filter that takes
 * the others out of the answers listing several teams.
 *
 * The documents are filtered as text, entry by entry, so that every number
 * keeps the exact bytes report/ printed (re-printing through a JSON library
 * would not). Roll-ups are untouched: the analysis always runs over every
 * team, and a scoped token sees its teams' numbers as everyone else does. */
#include "web/access.h"

#include <stdlib.h>
#include <string.h>

static bool token_has(const struct web_token *t, const char *id)
{
    size_t lo = 0, hi = t->team_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(t->teams[mid], id);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool web_scope_allows(const struct store_view *view, const struct web_principal *who, size_t team)
{
    const struct web_token *t = who->token;
    if (t == NULL || t->team_count == 0)
        return true;
    size_t count = store_view_team_count(view);
    /* up the parents; the catalog has no cycles, count bounds the walk anyway */
    for (size_t hops = 0; hops <= count && team < count; hops++) {
        const struct kpi_team *k = store_view_team(view, team);
        if (token_has(t, k->id))
            return true;
        if (k->parent == NULL || k->parent[0] == '\0' ||
            store_view_find_team(view, k->parent, &team) != 0)
            return false;
    }
    return false;
}

/* ------------------------------------------------------ a JSON scanner */

static const char *skip_string(const char *p)
{
    for (p++; *p != '"'; p++) {
        if (*p == '\0')
            return NULL;
        if (*p == '\\' && *++p == '\0')
            return NULL;
    }
    return p + 1;
}

/* The end of the value at p (compact JSON as report/ prints it). */
static const char *skip_value(const char *p)
{
    if (*p == '"')
        return skip_string(p);
    if (*p != '{' && *p != '[') {
        while (*p != '\0' && *p != ',' && *p != '}' && *p != ']')
            p++;
        return p;
    }
    size_t depth = 0;
    do {
        if (*p == '"') {
            p = skip_string(p);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        else if (*p == '\0')
            return NULL;
        p++;
    } while (depth > 0);
    return p;
}

/* In the object at obj, the value of key: [*value, *end). False when absent. */
static bool member(const char *obj, const char *key, const char **value, const char **end)
{
    size_t klen = strlen(key);
    const char *p = obj + 1;
    while (*p == '"') {
        const char *k = p + 1, *after = skip_string(p);
        if (after == NULL || *after != ':')
            return false;
        const char *v = after + 1, *ve = skip_value(v);
        if (ve == NULL)
            return false;
        if ((size_t)(after - 1 - k) == klen && memcmp(k, key, klen) == 0) {
            *value = v;
            *end = ve;
            return true;
        }
        p = *ve == ',' ? ve + 1 : ve;
    }
    return false;
}

/* The id in a string value [v, ve) into id (ids have no escapes). */
static bool id_of(const char *v, const char *ve, char id[KPI_ID_MAX + 1])
{
    size_t n = (size_t)(ve - v);
    if (n < 2 || n - 2 > KPI_ID_MAX || v[0] != '"')
        return false;
    memcpy(id, v + 1, n - 2);
    id[n - 2] = '\0';
    return true;
}

struct visible {
    const struct store_view *view;
    const bool *team; /* per team index */
};

static bool visible_id(const struct visible *vis, const char *id)
{
    size_t i;
    return store_view_find_team(vis->view, id, &i) == 0 && vis->team[i];
}

/* Copy doc with the entries of its top-level array `array` whose `key` names
 * a team outside the scope left out; parent_key (may be NULL): a member set
 * to null when it names such a team. */
static int filter_array(const char *doc, const char *array, const char *key, const char *parent_key,
                        const struct visible *vis, struct kpi_buf *out)
{
    const char *v, *ve;
    if (doc[0] != '{' || !member(doc, array, &v, &ve) || *v != '[')
        return KPI_ESYSTEM;
    int rc = kpi_buf_append(out, doc, (size_t)(v + 1 - doc));
    bool first = true;
    for (const char *p = v + 1; rc == 0 && *p == '{';) {
        const char *e = skip_value(p), *kv, *kve;
        char id[KPI_ID_MAX + 1];
        if (e == NULL || !member(p, key, &kv, &kve) || !id_of(kv, kve, id))
            return KPI_ESYSTEM;
        if (visible_id(vis, id)) {
            if (!first)
                rc = kpi_buf_puts(out, ",");
            first = false;
            const char *pv, *pve;
            if (rc == 0 && parent_key != NULL && member(p, parent_key, &pv, &pve) &&
                id_of(pv, pve, id) && !visible_id(vis, id)) {
                rc = kpi_buf_append(out, p, (size_t)(pv - p));
                if (rc == 0)
                    rc = kpi_buf_puts(out, "null");
                if (rc == 0)
                    rc = kpi_buf_append(out, pve, (size_t)(e - pve));
            } else if (rc == 0) {
                rc = kpi_buf_append(out, p, (size_t)(e - p));
            }
        }
        p = *e == ',' ? e + 1 : e;
    }
    return rc == 0 ? kpi_buf_puts(out, ve - 1) : rc;
}

/* The Prometheus text without the samples labelled with an unseen team. */
static int filter_metrics(const char *text, size_t len, const struct visible *vis,
                          struct kpi_buf *out)
{
    int rc = 0;
    for (const char *p = text, *end = text + len; rc == 0 && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        const char *label = p[0] != '#' ? strstr(p, "{team=\"") : NULL;
        bool keep = true;
        if (label != NULL && label < next) {
            const char *id = label + 7, *q = memchr(id, '"', (size_t)(next - id));
            char buf[KPI_ID_MAX + 1];
            keep = q != NULL && (size_t)(q - id) <= KPI_ID_MAX;
            if (keep) {
                memcpy(buf, id, (size_t)(q - id));
                buf[q - id] = '\0';
                keep = visible_id(vis, buf);
            }
        }
        if (keep)
            rc = kpi_buf_append(out, p, (size_t)(next - p));
        p = next;
    }
    return rc;
}

int web_scope_filter(const struct web_request *rq, struct web_body *body, struct kpi_error *err)
{
    const struct web_token *t = rq->who->token;
    if (t == NULL || t->team_count == 0)
        return 0;
    const char *pattern = web_routes[rq->key.route].pattern;
    enum { TEAMS, DRIFT, ALERTS, METRICS, OTHER } which = OTHER;
    if (strcmp(pattern, "/api/v1/teams") == 0)
        which = TEAMS;
    else if (strcmp(pattern, "/api/v1/drift") == 0)
        which = DRIFT;
    else if (strcmp(pattern, "/api/v1/alerts") == 0)
        which = ALERTS;
    else if (strcmp(pattern, "/metrics") == 0)
        which = METRICS;
    if (which == OTHER)
        return 0;
    const struct store_view *view = web_snapshot_view(rq->snap);
    size_t n = store_view_team_count(view);
    bool *team = calloc(n + 1, sizeof *team);
    if (team == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        team[i] = web_scope_allows(view, rq->who, i);
    struct visible vis = {view, team};
    struct kpi_buf out = {0};
    /* the builders' text is NUL-terminated (cJSON, kpi_buf) */
    int rc = which == METRICS ? filter_metrics(body->data, body->len, &vis, &out)
             : which == TEAMS ? filter_array(body->data, "teams", "id", "parent", &vis, &out)
             : which == DRIFT ? filter_array(body->data, "teams", "team", NULL, &vis, &out)
                              : filter_array(body->data, "alerts", "team", NULL, &vis, &out);
    free(team);
    if (rc != 0) {
        kpi_buf_free(&out);
        return kpi_fail(err, KPI_ESYSTEM, "cannot filter the answer to the token's teams");
    }
    if (!body->borrowed)
        free(body->data);
    *body = (struct web_body){.data = out.data ? out.data : strdup(""), .len = out.len};
    if (body->data == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    return 0;
}
