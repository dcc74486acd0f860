/* A team's indicators and its drift (SPEC §5 "Team drift", D10, D15). */
#include "query/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Evaluate every indicator the team has a series of. *items is NULL or
 * malloc'ed; *count records. */
static int team_records(struct query *q, size_t team, const struct query_options *opt,
                        struct query_indicator **items, size_t *count, struct kpi_error *err)
{
    *items = NULL;
    *count = 0;
    struct query_indicator *v = malloc((q->ninds ? q->ninds : 1) * sizeof *v);
    if (!v)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < q->ninds; i++) {
        const struct q_cell *c;
        int rc = q_cell_get(q, team, i, &c, err);
        if (rc == 0 && !q_cell_has_data(c))
            continue;
        if (rc == 0)
            rc = q_eval_at(q, team, i, kpi_period_of_day(q->inds[i].period, opt->as_of_day), opt,
                           &v[n], err);
        if (rc != 0) {
            free(v);
            return rc;
        }
        n++;
    }
    if (n == 0) {
        free(v);
        return 0;
    }
    *items = v;
    *count = n;
    return 0;
}

int query_team_indicators(struct query *q, size_t team, const struct query_options *opt,
                          struct query_indicator **items, size_t *count, struct kpi_error *err)
{
    *items = NULL;
    *count = 0;
    int rc = q_check_team(q, team, err);
    if (rc == 0)
        rc = q_check_options(opt, err);
    if (rc != 0)
        return rc;
    return team_records(q, team, opt, items, count, err);
}

/* Fill the summary fields of d from the team's records. */
static void summarise(const struct query *q, const struct query_indicator *r, size_t n,
                      struct query_drift *d)
{
    double w = 0, wsum = 0, fw[KPI_FAMILY_COUNT] = {0}, fsum[KPI_FAMILY_COUNT] = {0};
    for (size_t k = 0; k < n; k++) {
        d->status_counts[r[k].status]++;
        if (isnan(r[k].gap))
            continue;
        double weight = q->inds[r[k].indicator].weight;
        double shortfall = r[k].gap < 0 ? -r[k].gap : 0;
        w += weight;
        wsum += weight * shortfall;
        int f = (int)r[k].family;
        if (f >= 0 && f < KPI_FAMILY_COUNT) {
            fw[f] += weight;
            fsum[f] += weight * shortfall;
            d->covered[f] = true;
        }
    }
    d->drift = w > 0 ? wsum / w : NAN;
    for (int f = 0; f < KPI_FAMILY_COUNT; f++)
        d->families[f] = fw[f] > 0 ? fsum[f] / fw[f] : NAN;
}

int query_team_drift(struct query *q, size_t team, const struct query_options *opt,
                     bool with_indicators, struct query_drift *out, struct kpi_error *err)
{
    memset(out, 0, sizeof *out);
    out->drift = NAN;
    for (int f = 0; f < KPI_FAMILY_COUNT; f++)
        out->families[f] = NAN;
    int rc = q_check_team(q, team, err);
    if (rc == 0)
        rc = q_check_options(opt, err);
    if (rc != 0)
        return rc;
    out->team = team;
    out->team_id = q->teams[team].id;
    struct query_indicator *r;
    size_t n;
    if ((rc = team_records(q, team, opt, &r, &n, err)) != 0)
        return rc;
    summarise(q, r, n, out);
    if (with_indicators) {
        out->indicators = r;
        out->indicator_count = n;
    } else {
        free(r);
    }
    return 0;
}

void query_drift_free(struct query_drift *d)
{
    if (!d)
        return;
    free(d->indicators);
    d->indicators = NULL;
    d->indicator_count = 0;
}

int query_all_drift(struct query *q, const struct query_options *opt, struct query_drift **items,
                    size_t *count, struct kpi_error *err)
{
    *items = NULL;
    *count = 0;
    int rc = q_check_options(opt, err);
    if (rc != 0)
        return rc;
    struct query_drift *v = calloc(q->nteams ? q->nteams : 1, sizeof *v);
    if (!v)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t t = 0; t < q->nteams; t++)
        if ((rc = query_team_drift(q, t, opt, false, &v[t], err)) != 0) {
            free(v);
            return rc;
        }
    *items = v;
    *count = q->nteams;
    return 0;
}
