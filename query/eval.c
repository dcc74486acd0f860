/* One (team, indicator) at one as-of period: latest point, gap, status,
 * trend, required slope, divergence, projection, staleness and cascade gap
 * (SPEC §5). */
#include "query/internal.h"

#include <math.h>
#include <string.h>

/* SPEC §5 gap; + 0.0 turns the -0 of a down indicator on target into 0. */
static double gap_of(double actual, double target, enum kpi_direction dir)
{
    if (isnan(actual) || isnan(target))
        return NAN;
    double g = target == 0 ? actual - target : (actual - target) / fabs(target);
    return (dir == KPI_DIRECTION_DOWN ? -g : g) + 0.0;
}

/* D7: thresholds allow Q_EPS of rounding in the gap's favour. */
static enum query_status status_of(double gap, const struct kpi_indicator *ind)
{
    if (isnan(gap))
        return QUERY_NO_TARGET;
    if (gap >= -ind->amber - Q_EPS)
        return QUERY_ON_TRACK;
    if (gap >= -ind->red - Q_EPS)
        return QUERY_AT_RISK;
    return QUERY_OFF_TRACK;
}

/* Running least squares of y against period index x. Both are taken relative
 * to the first point (the slope does not change), so that a constant series
 * gives exactly 0 and large period indices lose no precision (D8). */
struct ols {
    size_t n;
    int64_t x0;
    double y0;
    double sx, sy, sxx, sxy;
    double sum; /* plain sum of y, for the mean */
};

static void ols_add(struct ols *o, int64_t x, double y)
{
    if (o->n == 0) {
        o->x0 = x;
        o->y0 = y;
    }
    double dx = (double)(x - o->x0), dy = y - o->y0;
    o->n++;
    o->sx += dx;
    o->sy += dy;
    o->sxx += dx * dx;
    o->sxy += dx * dy;
    o->sum += y;
}

/* Slope, or NaN with fewer than 2 points. */
static double ols_slope(const struct ols *o)
{
    if (o->n < 2)
        return NAN;
    double n = (double)o->n;
    double den = o->sxx - o->sx * o->sx / n;
    return (o->sxy - o->sx * o->sy / n) / den;
}

static void trend_of(const struct q_cell *c, int64_t lo, int64_t p, unsigned window,
                     enum kpi_direction dir, struct query_trend *t)
{
    struct ols o = {0};
    for (size_t k = q_first_from(&c->values, lo); k < c->values.n; k++) {
        int64_t x = c->values.pts[k].period;
        if (x > p)
            break;
        if (!isnan(c->values.pts[k].value))
            ols_add(&o, x, c->values.pts[k].value);
    }
    double slope = ols_slope(&o);
    if (isnan(slope))
        return;
    double mean = o.sum / (double)o.n;
    t->set = true;
    t->slope = slope + 0.0;
    t->window = window;
    t->change = mean == 0 ? 0 : slope * (double)(window - 1) / fabs(mean) + 0.0;
    if (fabs(t->change) < 0.01 - Q_EPS)
        t->direction = QUERY_FLAT;
    else if (slope * (dir == KPI_DIRECTION_DOWN ? -1 : 1) > 0)
        t->direction = QUERY_IMPROVING;
    else
        t->direction = QUERY_WORSENING;
}

/* Without a deadline: slope of the period's target over the window's periods
 * that have one. Targets exist only between the first and last target, so the
 * loop is bounded by the target span, not by the window. */
static double target_slope(const struct q_cell *c, int64_t lo, int64_t p)
{
    if (c->targets.count == 0)
        return NAN;
    int64_t first = c->targets.first, last = c->targets.last;
    struct ols o = {0};
    for (int64_t x = lo > first ? lo : first; x <= p && x <= last; x++) {
        double t = q_target_at(c, x, p);
        if (!isnan(t))
            ols_add(&o, x, t);
    }
    return ols_slope(&o);
}

int q_cascade_at(struct query *q, size_t team, size_t ind, int64_t a, double *own, double *children,
                 double *gap, struct kpi_error *err)
{
    *own = NAN;
    *gap = NAN;
    *children = NAN;
    const struct q_cell *c;
    int rc = q_cell_get(q, team, ind, &c, err);
    if (rc != 0)
        return rc;
    if (c->targets_rolled) /* D11: only a team's own targets cascade */
        return 0;
    double mine = q_target_at(c, a, Q_PLANNED);
    if (isnan(mine))
        return 0;
    *own = mine;
    size_t nchild, n = 0;
    const size_t *kids = query_children(q, team, &nchild);
    double sum = 0;
    for (size_t k = 0; k < nchild; k++) {
        const struct q_cell *cc;
        if ((rc = q_cell_get(q, kids[k], ind, &cc, err)) != 0)
            return rc;
        double t = q_target_at(cc, a, Q_PLANNED); /* SPEC §5: planned targets */
        if (!isnan(t)) {
            sum += t;
            n++;
        }
    }
    if (n == 0)
        return 0;
    *children = kpi_round_total(q->inds[ind].aggregate == KPI_AGGREGATE_MEAN ? sum / (double)n
                                                                             : sum); /* D17 */
    if (mine != 0)
        *gap = (*children - mine) / fabs(mine) + 0.0;
    return 0;
}

int q_eval_at(struct query *q, size_t team, size_t ind, int64_t a, const struct query_options *opt,
              struct query_indicator *out, struct kpi_error *err)
{
    const struct kpi_indicator *kpi = &q->inds[ind];
    memset(out, 0, sizeof *out);
    out->team = team;
    out->indicator = ind;
    out->kpi = kpi->id;
    out->family = kpi->family;
    q_period_fill(&out->as_of, kpi->period, a);
    out->actual = out->target = out->gap = NAN;
    out->required_slope = out->projected = out->projected_gap = out->deadline_target = NAN;
    out->status = QUERY_NO_DATA;
    const struct q_cell *c;
    int rc = q_cell_get(q, team, ind, &c, err);
    if (rc == 0)
        rc = q_cascade_at(q, team, ind, a, &out->cascade_target, &out->children_target,
                          &out->cascade_gap, err);
    if (rc != 0)
        return rc;
    int64_t p;
    if (!q_latest_value(c, a, &p)) /* D6 */
        return 0;
    q_period_fill(&out->period, kpi->period, p);
    out->actual = q_value_at(c, p);
    out->target = q_target_at(c, p, a);
    out->gap = gap_of(out->actual, out->target, kpi->direction);
    out->status = status_of(out->gap, kpi);
    out->value_rolled_up = c->values_rolled;
    out->target_rolled_up = c->targets_rolled && !isnan(out->target);
    out->rolled_up = out->value_rolled_up || out->target_rolled_up;

    int64_t lo = p - (int64_t)opt->window + 1;
    trend_of(c, lo, p, opt->window, kpi->direction, &out->trend);

    /* The deadline: the last target point after P (D4 for rolled-up ones). */
    if (c->targets.count > 0 && c->targets.last > p) {
        int64_t d = c->targets.last;
        double td = q_target_at(c, d, a);
        out->deadline_target = td;
        double base = isnan(out->target) ? out->actual : out->target;
        q_period_fill(&out->deadline, kpi->period, d);
        out->required_slope = (td - base) / (double)(d - p) + 0.0;
        if (out->trend.set) {
            out->projected = out->actual + out->trend.slope * (double)(d - p);
            out->projected_gap = gap_of(out->projected, td, kpi->direction);
        }
    } else {
        out->required_slope = target_slope(c, lo, p);
    }
    out->diverging = out->trend.set && out->trend.direction != QUERY_FLAT &&
                     !isnan(out->required_slope) && out->required_slope != 0 &&
                     out->trend.slope * out->required_slope < 0;
    out->stale = a - p > (int64_t)opt->stale_after;
    return 0;
}

int query_indicator_eval(struct query *q, size_t team, size_t indicator,
                         const struct query_options *opt, struct query_indicator *out,
                         struct kpi_error *err)
{
    int rc = q_check_team(q, team, err);
    if (rc == 0)
        rc = q_check_options(opt, err);
    if (rc != 0)
        return rc;
    if (indicator >= q->ninds)
        return kpi_fail(err, KPI_EUSAGE, "indicator index %zu out of range", indicator);
    int64_t a = kpi_period_of_day(q->inds[indicator].period, opt->as_of_day);
    return q_eval_at(q, team, indicator, a, opt, out, err);
}

const char *query_status_name(enum query_status s)
{
    static const char *const names[QUERY_STATUS_COUNT] = {"no_data", "no_target", "on_track",
                                                          "at_risk", "off_track"};
    return (unsigned)s < QUERY_STATUS_COUNT ? names[s] : "";
}

const char *query_direction_name(enum query_direction d)
{
    static const char *const names[] = {"flat", "improving", "worsening"};
    return (unsigned)d < sizeof names / sizeof names[0] ? names[d] : "";
}
