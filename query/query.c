/* The analysis object: validation of the dataset, the team tree and the
 * index of own series. Roll-ups live in rollup.c. */
#include "query/internal.h"

#include <stdlib.h>
#include <string.h>

void query_options_default(struct query_options *o, int64_t as_of_day)
{
    o->as_of_day = as_of_day;
    o->window = 6;
    o->stale_after = 2;
}

/* malloc of n elements of size sz, NULL on overflow; never malloc(0). */
static void *alloc_array(size_t n, size_t sz)
{
    if (sz != 0 && n > SIZE_MAX / sz)
        return NULL;
    return malloc(n * sz != 0 ? n * sz : 1);
}

/* Parent indices from the parent ids: a binary search over the teams
 * (sorted by id, as the dataset promises; a linear scan confirms a miss so
 * that a caller that did not sort still gets the right tree). */
static void resolve_parents(struct query *q)
{
    for (size_t t = 0; t < q->nteams; t++) {
        const char *p = q->teams[t].parent;
        q->parent[t] = QUERY_NONE;
        if (!p || !*p)
            continue;
        size_t lo = 0, hi = q->nteams;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const char *id = q->teams[mid].id ? q->teams[mid].id : "";
            int c = strcmp(id, p);
            if (c == 0) {
                q->parent[t] = mid;
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (q->parent[t] != QUERY_NONE)
            continue;
        for (size_t k = 0; k < q->nteams; k++)
            if (q->teams[k].id && strcmp(q->teams[k].id, p) == 0) {
                q->parent[t] = k;
                break;
            }
    }
}

/* A cycle in the parent links makes roll-ups infinite: refuse it. Each walk
 * up from a team marks the teams it visits with the walk's number; meeting
 * the current walk's mark again is a cycle. O(teams). */
static int check_cycles(const struct query *q, struct kpi_error *err)
{
    size_t *mark = calloc(q->nteams ? q->nteams : 1, sizeof *mark);
    if (!mark)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    int rc = 0;
    for (size_t t = 0; t < q->nteams && rc == 0; t++) {
        size_t walk = t + 1;
        for (size_t u = t; u != QUERY_NONE; u = q->parent[u]) {
            if (mark[u] == walk) {
                rc = kpi_fail(err, KPI_EINPUT, "team \"%s\" is its own ancestor",
                              q->teams[u].id ? q->teams[u].id : "");
                break;
            }
            if (mark[u] != 0)
                break; /* reached a team whose ancestors are known good */
            mark[u] = walk;
        }
    }
    free(mark);
    return rc;
}

static int build_children(struct query *q, struct kpi_error *err)
{
    q->child_start = calloc(q->nteams + 1, sizeof *q->child_start);
    q->child = alloc_array(q->nteams, sizeof *q->child);
    if (!q->child_start || !q->child)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t t = 0; t < q->nteams; t++)
        if (q->parent[t] != QUERY_NONE)
            q->child_start[q->parent[t] + 1]++;
    for (size_t t = 0; t < q->nteams; t++)
        q->child_start[t + 1] += q->child_start[t];
    size_t *fill = alloc_array(q->nteams, sizeof *fill);
    if (!fill)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    memcpy(fill, q->child_start, q->nteams * sizeof *fill);
    /* Children in increasing index order, which is id order. */
    for (size_t t = 0; t < q->nteams; t++)
        if (q->parent[t] != QUERY_NONE)
            q->child[fill[q->parent[t]]++] = t;
    free(fill);
    return 0;
}

static int cmp_series_key(const void *a, const void *b)
{
    const struct query_series_data *x = a, *y = b;
    if (x->team != y->team)
        return x->team < y->team ? -1 : 1;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return 0;
}

/* Sort the copied series by (team, indicator) and index them per team. */
static int index_series(struct query *q, struct kpi_error *err)
{
    for (size_t s = 0; s < q->nseries; s++) {
        const struct query_series_data *sd = &q->series[s];
        if (sd->team >= q->nteams || sd->indicator >= q->ninds)
            return kpi_fail(err, KPI_EINPUT, "series %zu names a team or indicator out of range",
                            s);
        if (sd->count > 0 && !sd->points)
            return kpi_fail(err, KPI_EINPUT, "series %zu has no points", s);
    }
    qsort(q->series, q->nseries, sizeof *q->series, cmp_series_key);
    for (size_t s = 1; s < q->nseries; s++)
        if (cmp_series_key(&q->series[s - 1], &q->series[s]) == 0)
            return kpi_fail(err, KPI_EINPUT, "two series for \"%s\" / \"%s\"",
                            q->teams[q->series[s].team].id, q->inds[q->series[s].indicator].id);
    q->team_series = calloc(q->nteams + 1, sizeof *q->team_series);
    if (!q->team_series)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t s = 0; s < q->nseries; s++)
        q->team_series[q->series[s].team + 1]++;
    for (size_t t = 0; t < q->nteams; t++)
        q->team_series[t + 1] += q->team_series[t];
    return 0;
}

/* Each series' points from index from[s] on (all of them when from is
 * NULL) follow the one before in strictly increasing period order. */
int q_check_sorted(const struct query *q, const size_t *from, struct kpi_error *err)
{
    for (size_t s = 0; s < q->nseries; s++) {
        const struct query_series_data *sd = &q->series[s];
        for (size_t k = from == NULL || from[s] < 1 ? 1 : from[s]; k < sd->count; k++)
            if (sd->points[k].period <= sd->points[k - 1].period)
                return kpi_fail(err, KPI_EINPUT,
                                "series of \"%s\" / \"%s\" is not sorted by period",
                                q->teams[sd->team].id, q->inds[sd->indicator].id);
    }
    return 0;
}

/* query_new without the check of the points' order. */
int q_create(const struct query_dataset *ds, struct query **out, struct kpi_error *err)
{
    *out = NULL;
    if (!ds || (ds->team_count && !ds->teams) || (ds->indicator_count && !ds->indicators) ||
        (ds->series_count && !ds->series))
        return kpi_fail(err, KPI_EINPUT, "incomplete dataset");
    struct query *q = calloc(1, sizeof *q);
    if (!q)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    q->note = ds->note;
    q->note_ctx = ds->note_ctx;
    q->nteams = ds->team_count;
    q->ninds = ds->indicator_count;
    q->nseries = ds->series_count;
    q->teams = alloc_array(q->nteams, sizeof *q->teams);
    q->inds = alloc_array(q->ninds, sizeof *q->inds);
    q->series = alloc_array(q->nseries, sizeof *q->series);
    q->parent = alloc_array(q->nteams, sizeof *q->parent);
    q->rows = calloc(q->nteams ? q->nteams : 1, sizeof *q->rows);
    int rc;
    if (!q->teams || !q->inds || !q->series || !q->parent || !q->rows) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto fail;
    }
    if (q->nteams)
        memcpy(q->teams, ds->teams, q->nteams * sizeof *q->teams);
    if (q->ninds)
        memcpy(q->inds, ds->indicators, q->ninds * sizeof *q->inds);
    if (q->nseries)
        memcpy(q->series, ds->series, q->nseries * sizeof *q->series);
    if (ds->parents) {
        for (size_t t = 0; t < q->nteams; t++) {
            size_t p = ds->parents[t];
            if (p != QUERY_NONE && p >= q->nteams) {
                rc = kpi_fail(err, KPI_EINPUT, "parent of team %zu out of range", t);
                goto fail;
            }
            q->parent[t] = p;
        }
    } else {
        resolve_parents(q);
    }
    if ((rc = check_cycles(q, err)) != 0 || (rc = build_children(q, err)) != 0 ||
        (rc = index_series(q, err)) != 0)
        goto fail;
    *out = q;
    return 0;
fail:
    query_free(q);
    return rc;
}

int query_new(const struct query_dataset *ds, struct query **out, struct kpi_error *err)
{
    int rc = q_create(ds, out, err);
    if (rc == 0 && (rc = q_check_sorted(*out, NULL, err)) != 0) {
        query_free(*out);
        *out = NULL;
    }
    return rc;
}

void query_free(struct query *q)
{
    if (!q)
        return;
    for (size_t t = 0; t < q->nteams; t++) {
        if (!q->rows[t])
            continue;
        for (size_t i = 0; i < q->ninds; i++) {
            q_block_release(q->rows[t][i].values.owned);
            q_block_release(q->rows[t][i].targets.owned);
            q_block_release(q->rows[t][i].lfl.owned);
        }
        free(q->rows[t]);
    }
    free(q->rows);
    free(q->teams);
    free(q->inds);
    free(q->series);
    free(q->parent);
    free(q->child_start);
    free(q->child);
    free(q->team_series);
    free(q);
}

int query_prepare(struct query *q, struct kpi_error *err)
{
    for (size_t t = 0; t < q->nteams; t++)
        for (size_t i = 0; i < q->ninds; i++) {
            const struct q_cell *c;
            int rc = q_cell_get(q, t, i, &c, err);
            if (rc != 0)
                return rc;
        }
    return 0;
}

const size_t *query_children(const struct query *q, size_t team, size_t *count)
{
    *count = q->child_start[team + 1] - q->child_start[team];
    return q->child + q->child_start[team];
}

const struct query_series_data *q_own_series(const struct query *q, size_t team, size_t ind)
{
    size_t lo = q->team_series[team], hi = q->team_series[team + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->series[mid].indicator == ind)
            return &q->series[mid];
        if (q->series[mid].indicator < ind)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void q_period_fill(struct query_period *out, enum kpi_period_kind kind, int64_t index)
{
    out->set = true;
    out->kind = kind;
    out->index = index;
    kpi_period_label(kind, index, out->label);
    kpi_day_label(kpi_period_last_day(kind, index), out->date);
}

int q_check_team(const struct query *q, size_t team, struct kpi_error *err)
{
    if (team >= q->nteams)
        return kpi_fail(err, KPI_EUSAGE, "team index %zu out of range", team);
    return 0;
}

int q_check_options(const struct query_options *opt, struct kpi_error *err)
{
    if (!opt || opt->window < 1)
        return kpi_fail(err, KPI_EUSAGE, "the window must be at least 1 period");
    return 0;
}

const char *query_note(const struct query *q, size_t team, size_t indicator, int64_t period)
{
    if (q == NULL || q->note == NULL || team >= q->nteams || indicator >= q->ninds)
        return NULL;
    return q->note(q->note_ctx, team, indicator, period);
}
