/* Attribution (SPEC §11, D19, D20): which children make a parent miss. */
#include "query/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_contribution(const void *a, const void *b)
{
    const struct query_contribution *x = a, *y = b;
    if (x->contribution != y->contribution)
        return x->contribution < y->contribution ? -1 : 1;
    return x->team < y->team ? -1 : x->team > y->team ? 1 : 0; /* teams sorted by id */
}

int query_attribution(struct query *q, const struct query_indicator *ind,
                      const struct query_options *opt, struct query_attribution *out,
                      struct kpi_error *err)
{
    memset(out, 0, sizeof *out);
    out->residual = NAN;
    int rc = q_check_team(q, ind->team, err);
    if (rc == 0)
        rc = q_check_options(opt, err);
    if (rc != 0)
        return rc;
    if (ind->indicator >= q->ninds)
        return kpi_fail(err, KPI_EUSAGE, "indicator index %zu out of range", ind->indicator);
    double big_t = ind->target;
    if (!ind->value_rolled_up || !ind->period.set || isnan(big_t) || big_t == 0 || isnan(ind->gap))
        return 0;
    const struct kpi_indicator *kpi = &q->inds[ind->indicator];
    int64_t p = ind->period.index;
    int64_t a = kpi_period_of_day(kpi->period, opt->as_of_day);
    size_t nchild;
    const size_t *kids = query_children(q, ind->team, &nchild);
    struct query_contribution *v = malloc((nchild ? nchild : 1) * sizeof *v);
    if (!v)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    size_t n = 0, count = 0; /* n: children with a value in P */
    for (size_t k = 0; k < nchild; k++) {
        const struct q_cell *c;
        if ((rc = q_cell_get(q, kids[k], ind->indicator, &c, err)) != 0) {
            free(v);
            return rc;
        }
        double actual = q_value_at(c, p);
        if (isnan(actual))
            continue;
        n++;
        double target = q_target_at(c, p, a);
        if (isnan(target))
            continue;
        v[count++] = (struct query_contribution){kids[k], q->teams[kids[k]].id, actual, target,
                                                 actual - target};
    }
    double s = kpi->direction == KPI_DIRECTION_DOWN ? -1 : 1;
    double scale = fabs(big_t) * (kpi->aggregate == KPI_AGGREGATE_MEAN ? (double)n : 1);
    double sum = 0;
    for (size_t k = 0; k < count; k++) {
        v[k].contribution = s * v[k].contribution / scale + 0.0;
        sum += v[k].contribution;
    }
    qsort(v, count, sizeof *v, cmp_contribution);
    out->set = true;
    out->items = count ? v : NULL;
    out->count = count;
    if (!count)
        free(v);
    double residual = ind->gap - sum;
    out->residual = fabs(residual) < 1e-12 ? 0 : residual; /* D20 */
    return 0;
}

void query_attribution_free(struct query_attribution *a)
{
    if (!a)
        return;
    free(a->items);
    a->items = NULL;
    a->count = 0;
}
