/* The routes of SPEC §7: one static table of {method, pattern, handlers},
 * URL matching, query parameters and the documents (report/ builds the JSON
 * so that the CLI and the server print the same bytes). */
#include "report/report.h"
#include "web/web_int.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define PARAM_MAX 256 /* bytes of a query parameter value */

/* ----------------------------------------------------------- parameters */

/* A query parameter: NULL when absent or empty. Fails when it is too long or
 * not UTF-8 (an encoded NUL included, see server.c). */
static int param(const struct web_request *rq, const char *name, const char **out,
                 struct kpi_error *err)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
    *out = NULL;
    if (v == NULL || v[0] == '\0')
        return 0;
    size_t len = strlen(v);
    if (len > PARAM_MAX)
        return kpi_fail(err, KPI_EUSAGE, "parameter %s is too long", name);
    if (!kpi_utf8_valid(v, len))
        return kpi_fail(err, KPI_EUSAGE,
                        "parameter %s is not valid UTF-8 or contains an encoded NUL", name);
    *out = v;
    return 0;
}

static int param_uint(const struct web_request *rq, const char *name, uint32_t min, uint32_t max,
                      uint32_t *out, struct kpi_error *err)
{
    const char *v;
    int rc = param(rq, name, &v, err);
    if (rc != 0 || v == NULL)
        return rc;
    uint64_t n = 0;
    bool ok = strlen(v) <= 9;
    for (const char *p = v; ok && *p; p++) {
        ok = isdigit((unsigned char)*p) != 0;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (!ok || n < min || n > max)
        return kpi_fail(err, KPI_EUSAGE, "invalid %s \"%s\" (expected an integer from %u to %u)",
                        name, v, (unsigned)min, (unsigned)max);
    *out = (uint32_t)n;
    return 0;
}

static int param_day(const struct web_request *rq, const char *name, int64_t *out,
                     struct kpi_error *err)
{
    const char *v;
    int rc = param(rq, name, &v, err);
    if (rc != 0 || v == NULL)
        return rc;
    struct kpi_error why = {0};
    if (kpi_date_parse(v, NULL, out, &why) != 0)
        return kpi_fail(err, KPI_EUSAGE, "invalid %s \"%s\": %s", name, v, why.message);
    return 0;
}

/* The as_of a request may ask for (docs/DECISIONS.md "Server"): every
 * distinct as_of is an answer computed and cached, so its range is bounded
 * like the other parameters'. */
#define AS_OF_MIN_DAY (-25567) /* 1900-01-01 */
#define AS_OF_MAX_DAY 84005    /* 2199-12-31 */

/* known_at: the commit it names, 0 when it is the snapshot's (the latest).
 * An unknown commit or a time before the first commit is a 400. */
static int known_at_param(struct web_request *rq, struct kpi_error *err)
{
    const char *v;
    int rc = param(rq, "known_at", &v, err);
    if (rc != 0 || v == NULL)
        return rc;
    uint64_t commit;
    if ((rc = store_resolve_commit(rq->srv->st, v, &commit, err)) != 0)
        return rc;
    rq->key.known_at = commit >= store_view_generation(web_snapshot_view(rq->snap)) ? 0 : commit;
    return 0;
}

/* as_of (default: the server's), window and stale_after (defaults of
 * query_options_default). */
static int analysis_params(struct web_request *rq, struct kpi_error *err)
{
    struct query_options o;
    query_options_default(&o, web_server_as_of(rq->srv));
    rq->key.as_of = o.as_of_day;
    rq->key.window = o.window;
    rq->key.stale_after = o.stale_after;
    int64_t day = INT64_MIN;
    int rc = param_day(rq, "as_of", &day, err);
    if (rc == 0 && day != INT64_MIN) {
        if (day < AS_OF_MIN_DAY || day > AS_OF_MAX_DAY)
            return kpi_fail(err, KPI_EUSAGE,
                            "invalid as_of (expected a date from 1900-01-01 to 2199-12-31)");
        rq->key.as_of = day;
    }
    if (rc == 0)
        rc = param_uint(rq, "window", 1, 1000, &rq->key.window, err);
    if (rc == 0)
        rc = param_uint(rq, "stale_after", 0, 100000, &rq->key.stale_after, err);
    if (rc == 0)
        rc = known_at_param(rq, err);
    return rc;
}

static int range_params(struct web_request *rq, struct kpi_error *err)
{
    rq->key.from = INT64_MIN;
    rq->key.to = INT64_MAX;
    int rc = param_day(rq, "from", &rq->key.from, err);
    if (rc == 0)
        rc = param_day(rq, "to", &rq->key.to, err);
    return rc;
}

static int resolve_team(struct web_request *rq, const char *ref, struct kpi_error *err)
{
    size_t i;
    int rc = store_view_resolve_team(web_snapshot_view(rq->snap), ref, &i, err);
    /* a team outside the token's scope is answered exactly like an unknown
     * one (the message of store_view_resolve_team), SPEC §9 */
    if (rc == 0 && !web_scope_allows(web_snapshot_view(rq->snap), rq->who, i))
        rc = kpi_fail(err, KPI_ENOTFOUND, "unknown team \"%s\"", ref);
    rq->key.team = rc == 0 ? i : QUERY_NONE;
    return rc;
}

static int resolve_indicator(struct web_request *rq, const char *ref, struct kpi_error *err)
{
    size_t i;
    int rc = store_view_resolve_indicator(web_snapshot_view(rq->snap), ref, &i, err);
    rq->key.indicator = rc == 0 ? i : QUERY_NONE;
    return rc;
}

static void options_of(const struct web_key *key, struct query_options *o)
{
    query_options_default(o, key->as_of);
    o->window = key->window;
    o->stale_after = key->stale_after;
}

/* ------------------------------------------------------------- prepare */

static int prepare_nothing(struct web_request *rq, struct kpi_error *err)
{
    (void)rq;
    (void)err;
    return 0;
}

static int prepare_series(struct web_request *rq, struct kpi_error *err)
{
    int rc = resolve_team(rq, rq->captures[0], err);
    if (rc == 0)
        rc = resolve_indicator(rq, rq->captures[1], err);
    if (rc == 0)
        rc = range_params(rq, err);
    if (rc == 0)
        rc = known_at_param(rq, err);
    return rc;
}

static int prepare_trends(struct web_request *rq, struct kpi_error *err)
{
    const char *kpi = NULL;
    int rc = resolve_team(rq, rq->captures[0], err);
    if (rc == 0)
        rc = param(rq, "kpi", &kpi, err);
    if (rc == 0 && kpi != NULL)
        rc = resolve_indicator(rq, kpi, err);
    if (rc == 0)
        rc = analysis_params(rq, err);
    return rc;
}

static int prepare_team_drift(struct web_request *rq, struct kpi_error *err)
{
    int rc = resolve_team(rq, rq->captures[0], err);
    if (rc == 0)
        rc = analysis_params(rq, err);
    return rc;
}

static int prepare_all_drift(struct web_request *rq, struct kpi_error *err)
{
    return analysis_params(rq, err);
}

static int prepare_alerts(struct web_request *rq, struct kpi_error *err)
{
    const char *team = NULL, *severity = NULL;
    enum query_severity min = QUERY_INFO;
    int rc = param(rq, "team", &team, err);
    if (rc == 0 && team != NULL)
        rc = resolve_team(rq, team, err);
    if (rc == 0)
        rc = param(rq, "severity", &severity, err);
    if (rc == 0 && severity != NULL && query_severity_parse(severity, &min) != 0)
        rc = kpi_fail(err, KPI_EUSAGE,
                      "invalid severity \"%s\" (expected info, warning or critical)", severity);
    rq->key.severity = (uint32_t)min;
    if (rc == 0)
        rc = analysis_params(rq, err);
    return rc;
}

/* The review report (SPEC §11): team (default every root) and the
 * analysis parameters. */
static int prepare_review(struct web_request *rq, struct kpi_error *err)
{
    const char *team = NULL, *since = NULL;
    int rc = param(rq, "team", &team, err);
    if (rc == 0 && team != NULL)
        rc = resolve_team(rq, team, err);
    if (rc == 0)
        rc = analysis_params(rq, err);
    if (rc == 0)
        rc = param(rq, "since", &since, err);
    /* since (a commit or a time), else the last commit before the as-of
     * month; a commit that does not exist is a bad parameter (400) */
    if (rc == 0 && since != NULL)
        rc = store_resolve_commit(rq->srv->st, since, &rq->key.since, err);
    else if (rc == 0)
        rc = report_review_default_since(rq->srv->st, rq->key.as_of, &rq->key.since, err);
    return rc;
}

static int prepare_metrics(struct web_request *rq, struct kpi_error *err)
{
    (void)err;
    struct query_options o;
    query_options_default(&o, web_server_as_of(rq->srv));
    rq->key.as_of = o.as_of_day;
    rq->key.window = o.window;
    rq->key.stale_after = o.stale_after;
    return 0;
}

static int prepare_graph(struct web_request *rq, struct kpi_error *err)
{
    rq->key.width = 800;
    rq->key.height = 250;
    int rc = prepare_series(rq, err);
    if (rc == 0)
        rc = param_uint(rq, "width", 200, 2000, &rq->key.width, err);
    if (rc == 0)
        rc = param_uint(rq, "height", 100, 1000, &rq->key.height, err);
    return rc;
}

/* The history routes answer tokens for every team only: commits carry
 * counts and sources across teams, so a scoped token gets the 404 of a path
 * that does not exist (docs/DECISIONS.md, History). */
static int history_allowed(const struct web_request *rq, struct kpi_error *err)
{
    return rq->key.scope == 0 ? 0 : kpi_fail(err, KPI_ENOTFOUND, "no such path");
}

static int prepare_commits(struct web_request *rq, struct kpi_error *err)
{
    if (history_allowed(rq, err) != 0)
        return KPI_ENOTFOUND;
    const char *team = NULL, *kpi = NULL;
    uint32_t limit = 0;
    int rc = param(rq, "team", &team, err);
    if (rc == 0 && team != NULL)
        rc = resolve_team(rq, team, err);
    if (rc == 0)
        rc = param(rq, "kpi", &kpi, err);
    if (rc == 0 && kpi != NULL)
        rc = resolve_indicator(rq, kpi, err);
    if (rc == 0)
        rc = param_uint(rq, "limit", 1, 1000000000, &limit, err);
    rq->key.limit = limit;
    return rc;
}

static int prepare_history(struct web_request *rq, struct kpi_error *err)
{
    if (history_allowed(rq, err) != 0)
        return KPI_ENOTFOUND;
    int rc = resolve_team(rq, rq->captures[0], err);
    if (rc == 0)
        rc = resolve_indicator(rq, rq->captures[1], err);
    rq->key.period = INT64_MIN;
    if (rc == 0)
        rc = param_day(rq, "period", &rq->key.period, err);
    return rc;
}

static int prepare_restatements(struct web_request *rq, struct kpi_error *err)
{
    if (history_allowed(rq, err) != 0)
        return KPI_ENOTFOUND;
    const char *team = NULL, *since = NULL;
    int rc = param(rq, "team", &team, err);
    if (rc == 0 && team != NULL)
        rc = resolve_team(rq, team, err);
    if (rc == 0)
        rc = param(rq, "since", &since, err);
    if (rc == 0 && since != NULL)
        rc = store_resolve_commit(rq->srv->st, since, &rq->key.limit, err);
    return rc;
}

/* --------------------------------------------------------------- build */

/* The data a request reads: the snapshot's, or with known_at the data as it
 * stood after that commit (loaded for this answer, which the cache then
 * keeps), with the key's team and indicator found again by id. A request
 * about one team (scoped) loads, as the CLI does, only that team's subtree
 * (what its roll-ups, cascade and alerts read), of its indicator when it
 * names one. */
struct at_data {
    struct store_view *view; /* NULL: the snapshot's */
    struct query *q;
    struct web_key key;
};

static int data_at_scoped(const struct web_request *rq, bool scoped, struct at_data *d,
                          struct kpi_error *err)
{
    d->view = NULL;
    d->q = web_snapshot_query(rq->snap);
    d->key = rq->key;
    if (rq->key.known_at == 0)
        return 0;
    const struct store_view *latest = web_snapshot_view(rq->snap);
    struct store_scope scope = {0};
    if (scoped && rq->key.team != QUERY_NONE) {
        scope.team = store_view_team(latest, rq->key.team)->id;
        if (rq->key.indicator != QUERY_NONE)
            scope.kpi = store_view_indicator(latest, rq->key.indicator)->id;
    }
    /* about every team: from the snapshot's points (only the series
     * corrected since are read) */
    int rc = scope.team != NULL
                 ? store_view_open_scoped(rq->srv->st, rq->key.known_at, &scope, &d->view, err)
                 : store_view_open_at_from(rq->srv->st, latest, rq->key.known_at, &d->view, err);
    size_t i;
    if (rc == 0 && rq->key.team != QUERY_NONE) {
        const char *id = store_view_team(latest, rq->key.team)->id;
        rc = store_view_find_team(d->view, id, &i) == 0
                 ? 0
                 : kpi_fail(err, KPI_ENOTFOUND, "unknown team \"%s\"", id);
        d->key.team = i;
    }
    if (rc == 0 && rq->key.indicator != QUERY_NONE) {
        const char *id = store_view_indicator(latest, rq->key.indicator)->id;
        rc = store_view_find_indicator(d->view, id, &i) == 0
                 ? 0
                 : kpi_fail(err, KPI_ENOTFOUND, "unknown indicator \"%s\"", id);
        d->key.indicator = i;
    }
    if (rc == 0)
        rc = report_analysis_open(d->view, false, &d->q, err);
    if (rc != 0) {
        store_view_free(d->view);
        d->view = NULL;
    }
    return rc;
}

static int data_at(const struct web_request *rq, struct at_data *d, struct kpi_error *err)
{
    return data_at_scoped(rq, false, d, err);
}

static void data_release(struct at_data *d)
{
    if (d->view != NULL) {
        query_free(d->q);
        store_view_free(d->view);
    }
}

static int owned(char *doc, struct web_body *out, struct kpi_error *err)
{
    if (doc == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    *out = (struct web_body){.data = doc, .len = strlen(doc), .borrowed = false};
    return 0;
}

static int build_teams(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    return owned(report_teams_json(web_snapshot_view(rq->snap)), out, err);
}

static int build_indicators(const struct web_request *rq, struct web_body *out,
                            struct kpi_error *err)
{
    return owned(report_indicators_json(web_snapshot_view(rq->snap)), out, err);
}

static int build_series(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    struct at_data d;
    char *doc = NULL;
    int rc = data_at_scoped(rq, true, &d, err);
    if (rc == 0)
        rc = report_series_doc(d.q, d.key.team, d.key.indicator, d.key.from, d.key.to, &doc, err);
    data_release(&d);
    return rc != 0 ? rc : owned(doc, out, err);
}

static int build_trends(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    struct query_options o;
    options_of(&rq->key, &o);
    struct at_data d;
    char *doc = NULL;
    int rc = data_at_scoped(rq, true, &d, err);
    if (rc == 0)
        rc = report_trends_doc(d.q, d.key.team, d.key.indicator, &o, &doc, err);
    data_release(&d);
    return rc != 0 ? rc : owned(doc, out, err);
}

static int build_team_drift(const struct web_request *rq, struct web_body *out,
                            struct kpi_error *err)
{
    struct query_options o;
    options_of(&rq->key, &o);
    struct at_data d;
    char *doc = NULL;
    int rc = data_at_scoped(rq, true, &d, err);
    if (rc == 0)
        rc = report_team_drift_doc(d.q, d.key.team, &o, &doc, err);
    data_release(&d);
    return rc != 0 ? rc : owned(doc, out, err);
}

static int build_all_drift(const struct web_request *rq, struct web_body *out,
                           struct kpi_error *err)
{
    struct query_options o;
    options_of(&rq->key, &o);
    struct at_data d;
    char *doc = NULL;
    int rc = data_at(rq, &d, err);
    if (rc == 0)
        rc = report_all_drift_doc(d.q, &o, &doc, err);
    data_release(&d);
    return rc != 0 ? rc : owned(doc, out, err);
}

static int build_alerts(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    struct query_options o;
    options_of(&rq->key, &o);
    struct at_data d;
    char *doc = NULL;
    int rc = data_at_scoped(rq, true, &d, err);
    struct query_alert_filter f = {.team = d.key.team,
                                   .min_severity = (enum query_severity)rq->key.severity};
    if (rc == 0)
        rc = report_alerts_doc(d.q, &o, &f, &doc, err);
    data_release(&d);
    return rc != 0 ? rc : owned(doc, out, err);
}

static int build_metrics(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    struct query_options o;
    options_of(&rq->key, &o);
    return web_metrics_build(web_snapshot_query(rq->snap), web_snapshot_view(rq->snap), &o, out,
                             err);
}

static int build_graph(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    bool png = strstr(web_routes[rq->key.route].pattern, ".png") != NULL;
    struct at_data d;
    int rc = data_at(rq, &d, err);
    if (rc == 0)
        rc = web_graph_build(rq->srv->st, d.view != NULL ? d.view : web_snapshot_view(rq->snap),
                             &d.key, png, out, err);
    data_release(&d);
    return rc;
}

static int build_commits(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    const struct store_view *view = web_snapshot_view(rq->snap);
    struct store_log_query q = {.limit = (size_t)rq->key.limit};
    if (rq->key.team != QUERY_NONE)
        q.team = store_view_team(view, rq->key.team)->id;
    if (rq->key.indicator != QUERY_NONE)
        q.kpi = store_view_indicator(view, rq->key.indicator)->id;
    struct store_commit *c = NULL;
    size_t n = 0;
    int rc = store_log(rq->srv->st, &q, &c, &n, err);
    if (rc != 0)
        return rc;
    char *doc = report_commits_json(c, n);
    store_commits_free(c, n);
    return owned(doc, out, err);
}

static int build_history(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    const struct store_view *view = web_snapshot_view(rq->snap);
    const struct kpi_team *t = store_view_team(view, rq->key.team);
    const struct kpi_indicator *k = store_view_indicator(view, rq->key.indicator);
    int64_t period = kpi_period_of_day(k->period, rq->key.period);
    struct store_version *v = NULL;
    size_t n = 0;
    int rc = store_history(rq->srv->st, t->id, k->id, rq->key.period != INT64_MIN ? &period : NULL,
                           &v, &n, err);
    if (rc != 0)
        return rc;
    char *doc = report_history_json(t->id, k->id, k->period, v, n);
    store_versions_free(v, n);
    return owned(doc, out, err);
}

static int build_restatements(const struct web_request *rq, struct web_body *out,
                              struct kpi_error *err)
{
    const struct store_view *view = web_snapshot_view(rq->snap);
    struct store_restatement *r = NULL;
    size_t n = 0;
    int rc = store_restatements(rq->srv->st, rq->key.limit, &r, &n, err);
    if (rc != 0)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t ti;
        bool keep =
            store_view_find_team(view, r[i].team, &ti) == 0 &&
            web_scope_allows(view, rq->who, ti) &&
            (rq->key.team == QUERY_NONE || report_team_under(view, r[i].team, rq->key.team));
        if (!keep)
            continue;
        struct store_restatement tmp = r[kept];
        r[kept++] = r[i];
        r[i] = tmp;
    }
    char *doc = report_restatements_json(view, r, kept);
    store_restatements_free(r, n);
    return owned(doc, out, err);
}

/* The scope of a review: who asks, over the view the review reads (the
 * snapshot's, or the one of known_at). */
struct review_scope {
    const struct web_request *rq;
    const struct store_view *view;
};

static bool review_visible(void *ctx, size_t team)
{
    const struct review_scope *s = ctx;
    return web_scope_allows(s->view, s->rq->who, team);
}

/* Built on the worker (not the render thread): it needs the token's scope.
 * Its charts take librrd's lock one at a time. */
static int build_review(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    /* known_at: the review of the data as it stood after that commit */
    struct at_data d;
    int rc = data_at(rq, &d, err);
    if (rc != 0)
        return rc;
    struct review_scope scope = {rq, d.view != NULL ? d.view : web_snapshot_view(rq->snap)};
    struct report_review_input in = {.st = rq->srv->st,
                                     .view = scope.view,
                                     .q = d.q,
                                     .options = {.team = d.key.team},
                                     .charts = true,
                                     .restatements = true,
                                     .since = rq->key.since};
    options_of(&rq->key, &in.opt);
    if (rq->who != NULL && rq->who->scope != 0) {
        in.options.visible = review_visible;
        in.options.visible_ctx = &scope;
    }
    char *html = NULL;
    size_t len = 0;
    rc = report_review_html(&in, &html, &len, err);
    data_release(&d);
    if (rc != 0)
        return rc;
    *out = (struct web_body){.data = html, .len = len, .borrowed = false};
    return 0;
}

static int build_health(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    (void)rq;
    (void)err;
    static const char body[] = "{\"status\":\"ok\"}";
    *out = (struct web_body){
        .data = (char *)(uintptr_t)body, .len = sizeof body - 1, .borrowed = true};
    return 0;
}

/* The embedded file of the route, named by the pattern's last segment: "/"
 * is index.html, "/app.js" app.js, "/api/v1/openapi.json" openapi.json. */
static int build_asset(const struct web_request *rq, struct web_body *out, struct kpi_error *err)
{
    const char *pattern = web_routes[rq->key.route].pattern;
    const char *name = strcmp(pattern, "/") == 0 ? "index.html" : strrchr(pattern, '/') + 1;
    for (size_t i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].name, name) == 0) {
            *out = (struct web_body){.data = (char *)(uintptr_t)web_assets[i].data,
                                     .len = web_assets[i].size,
                                     .borrowed = true};
            return 0;
        }
    return kpi_fail(err, KPI_ENOTFOUND, "no such file");
}

/* ------------------------------------------------------------- the table */

#define JSON "application/json"
#define PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

const struct web_route web_routes[] = {
    {"GET", "/healthz", prepare_nothing, build_health, JSON, false},
    {"GET", "/api/v1/teams", prepare_nothing, build_teams, JSON, true},
    {"GET", "/api/v1/indicators", prepare_nothing, build_indicators, JSON, true},
    {"GET", "/api/v1/teams/{team}/kpis/{kpi}/series", prepare_series, build_series, JSON, true},
    {"GET", "/api/v1/teams/{team}/kpis/{kpi}/graph.svg", prepare_graph, build_graph,
     "image/svg+xml", true},
    {"GET", "/api/v1/teams/{team}/kpis/{kpi}/graph.png", prepare_graph, build_graph, "image/png",
     true},
    {"GET", "/api/v1/teams/{team}/trends", prepare_trends, build_trends, JSON, true},
    {"GET", "/api/v1/teams/{team}/drift", prepare_team_drift, build_team_drift, JSON, true},
    {"GET", "/api/v1/drift", prepare_all_drift, build_all_drift, JSON, true},
    {"GET", "/api/v1/alerts", prepare_alerts, build_alerts, JSON, true},
    {"GET", "/api/v1/review.html", prepare_review, build_review, "text/html; charset=utf-8", true},
    {"GET", "/metrics", prepare_metrics, build_metrics, PROMETHEUS, true},
    {"GET", "/api/v1/commits", prepare_commits, build_commits, JSON, true},
    {"GET", "/api/v1/teams/{team}/kpis/{kpi}/history", prepare_history, build_history, JSON, true},
    {"GET", "/api/v1/restatements", prepare_restatements, build_restatements, JSON, true},
    {"GET", "/api/v1/openapi.json", prepare_nothing, build_asset, JSON, false},
    /* not cached (needs_data false) but authenticated: see web_access_gate */
    {"GET", "/api/v1/whoami", prepare_nothing, web_whoami_build, JSON, false},
    {"GET", "/", prepare_nothing, build_asset, "text/html; charset=utf-8", false},
    {"GET", "/app.css", prepare_nothing, build_asset, "text/css; charset=utf-8", false},
    {"GET", "/app.js", prepare_nothing, build_asset, "text/javascript; charset=utf-8", false},
    {"GET", "/access.js", prepare_nothing, build_asset, "text/javascript; charset=utf-8", false},
    {"GET", "/favicon.ico", prepare_nothing, build_asset, "image/x-icon", false},
};
const size_t web_route_count = sizeof web_routes / sizeof web_routes[0];

/* Match path against pattern; "{name}" captures one non-empty segment. */
static bool match_pattern(const char *pattern, const char *path, char *buf, size_t cap,
                          const char *captures[2])
{
    size_t used = 0, n = 0;
    const char *p = pattern, *s = path;
    while (*p) {
        if (*p == '{') {
            size_t seg = strcspn(s, "/");
            if (seg == 0 || seg > WEB_SEGMENT_MAX || n == 2 || used + seg + 1 > cap)
                return false;
            memcpy(buf + used, s, seg);
            buf[used + seg] = '\0';
            captures[n++] = buf + used;
            used += seg + 1;
            s += seg;
            p = strchr(p, '}') + 1;
        } else if (*p++ != *s++) {
            return false;
        }
    }
    return *s == '\0';
}

int web_route_match(const char *path, const char *method, char *buf, size_t cap,
                    const char *captures[2], bool *path_known)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    *path_known = false;
    for (size_t i = 0; i < web_route_count; i++) {
        if (!match_pattern(web_routes[i].pattern, path, buf, cap, captures))
            continue;
        *path_known = true;
        if (strcmp(web_routes[i].method, method) == 0 ||
            (get && strcmp(web_routes[i].method, "GET") == 0))
            return (int)i;
    }
    return -1;
}
