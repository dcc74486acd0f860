/* The series document's points (SPEC §7, D16). */
#include "query/internal.h"

#include <math.h>
#include <stdlib.h>

int query_series_get(struct query *q, size_t team, size_t indicator, int64_t from_day,
                     int64_t to_day, struct query_series *out, struct kpi_error *err)
{
    out->team = team;
    out->indicator = indicator;
    out->points = NULL;
    out->count = 0;
    int rc = q_check_team(q, team, err);
    if (rc != 0)
        return rc;
    if (indicator >= q->ninds)
        return kpi_fail(err, KPI_EUSAGE, "indicator index %zu out of range", indicator);
    const struct q_cell *c;
    if ((rc = q_cell_get(q, team, indicator, &c, err)) != 0)
        return rc;
    int64_t first, last;
    if (!q_cell_span(c, &first, &last))
        return 0;
    enum kpi_period_kind kind = q->inds[indicator].period;
    if (from_day != INT64_MIN) {
        int64_t f = kpi_period_of_day(kind, from_day);
        if (f > first)
            first = f;
    }
    if (to_day != INT64_MAX) {
        int64_t t = kpi_period_of_day(kind, to_day);
        if (t < last)
            last = t;
    }
    if (first > last)
        return 0;
    uint64_t n = (uint64_t)(last - first) + 1;
    if (n > SIZE_MAX / sizeof *out->points)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    out->points = malloc((size_t)n * sizeof *out->points);
    if (!out->points)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (int64_t p = first; p <= last; p++) {
        struct query_point *pt = &out->points[out->count++];
        q_period_fill(&pt->period, kind, p);
        pt->value = q_value_at(c, p);
        pt->target = q_target_at(c, p, Q_ALL_VALUES); /* D18: no as-of */
        /* D5: a number shown that comes from the children. */
        pt->rolled_up =
            (!isnan(pt->value) && c->values_rolled) || (!isnan(pt->target) && c->targets_rolled);
    }
    return 0;
}

void query_series_free(struct query_series *s)
{
    if (!s)
        return;
    free(s->points);
    s->points = NULL;
    s->count = 0;
}
