/* Effective series of (team, indicator): own values and targets, or rolled up
 * from the children (SPEC §5 "Roll-up", D1-D3), memoized per cell. */
#include "query/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One child's number for one period; seq (the child's rank) keeps the sum in
 * children order, so results do not depend on qsort's tie order. */
struct entry {
    int64_t period;
    size_t seq;
    double v;
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->period != y->period)
        return x->period < y->period ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return 0;
}

/* The field a list is read through. */
static double field(const struct kpi_point *p, bool targets)
{
    return targets ? p->target : p->value;
}

/* View the stored points as a list (no copy): count the numbers of the
 * field and note the first and last period that has one. */
static void own_list(const struct query_series_data *s, bool targets, struct q_list *out)
{
    out->pts = s->points;
    out->n = s->count;
    for (size_t k = 0; k < s->count; k++) {
        if (isnan(field(&s->points[k], targets)))
            continue;
        if (out->count++ == 0)
            out->first = s->points[k].period;
        out->last = s->points[k].period;
    }
}

/* Call fn for each (period, number) a child contributes to its parent: its
 * values, or its target in every period where it has one (own target points
 * are interpolated in between, D3). */
static void child_each(const struct q_cell *c, bool targets, size_t seq,
                       void (*fn)(void *ctx, int64_t period, size_t seq, double v), void *ctx)
{
    if (!targets || c->targets_rolled) {
        const struct q_list *l = targets ? &c->targets : &c->values;
        for (size_t j = 0; j < l->n; j++)
            if (!isnan(field(&l->pts[j], targets)))
                fn(ctx, l->pts[j].period, seq, field(&l->pts[j], targets));
    } else if (c->targets.count > 0) {
        /* Between two consecutive target points i < j, kpi_target_at over
         * just pts[i..j] gives the same interpolation as over the whole
         * series, without searching it for every period. */
        const struct kpi_point *pts = c->targets.pts;
        size_t i = 0;
        while (isnan(pts[i].target))
            i++;
        for (;;) {
            size_t j = i + 1;
            while (j < c->targets.n && isnan(pts[j].target))
                j++;
            if (j == c->targets.n) {
                fn(ctx, pts[i].period, seq, pts[i].target);
                break;
            }
            for (int64_t p = pts[i].period; p < pts[j].period; p++)
                fn(ctx, p, seq, kpi_target_at(pts + i, j - i + 1, p));
            i = j;
        }
    }
}

/* Number of pairs and period range a child contributes. */
static size_t child_extent(const struct q_cell *c, bool targets, int64_t *lo, int64_t *hi)
{
    const struct q_list *l = targets ? &c->targets : &c->values;
    if (l->count == 0)
        return 0;
    *lo = l->first;
    *hi = l->last;
    if (targets && !c->targets_rolled)
        return (size_t)(*hi - *lo) + 1;
    return l->count;
}

/* Dense accumulation: one slot per period of the children's range. */
struct dense {
    int64_t lo;
    double *sum;
    size_t *cnt;
};

static void dense_add(void *ctx, int64_t period, size_t seq, double v)
{
    struct dense *d = ctx;
    (void)seq; /* children are visited in order: sums are in children order */
    d->sum[period - d->lo] += v;
    d->cnt[period - d->lo]++;
}

/* Sparse accumulation: entries sorted afterwards. */
struct sparse {
    struct entry *e;
    size_t n;
};

static void sparse_add(void *ctx, int64_t period, size_t seq, double v)
{
    struct sparse *s = ctx;
    s->e[s->n++] = (struct entry){period, seq, v};
}

static struct kpi_point point_of(int64_t period, double v, bool targets)
{
    struct kpi_point p = {period, NAN, NAN};
    if (targets)
        p.target = v;
    else
        p.value = v;
    return p;
}

/* A computed list: every point has a number. */
static void finish(struct q_list *l)
{
    l->pts = l->owned;
    l->count = l->n;
    if (l->n > 0) {
        l->first = l->owned[0].period;
        l->last = l->owned[l->n - 1].period;
    }
}

/* The children's sum or mean, without the binary noise of decimal sums
 * (D17). */
static double aggregate(double sum, size_t n, enum kpi_aggregate agg)
{
    return kpi_round_total(agg == KPI_AGGREGATE_MEAN ? sum / (double)n : sum);
}

/* The rolled-up values (or targets) of (team, ind) from its children: per
 * period, the sum or mean of the children that have a number. When the
 * children's periods are dense enough (the usual case) they are accumulated
 * in an array indexed by period, else sorted. */
static int rolled_list(struct query *q, size_t team, size_t ind, bool targets, struct q_list *out,
                       struct kpi_error *err)
{
    size_t nchild;
    const size_t *kids = query_children(q, team, &nchild);
    enum kpi_aggregate agg = q->inds[ind].aggregate;
    size_t total = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t k = 0; k < nchild; k++) {
        const struct q_cell *c;
        int rc = q_cell_get(q, kids[k], ind, &c, err);
        if (rc != 0)
            return rc;
        int64_t clo, chi;
        size_t m = child_extent(c, targets, &clo, &chi);
        if (m == 0)
            continue;
        if (m > SIZE_MAX / sizeof(struct entry) - total)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        total += m;
        lo = clo < lo ? clo : lo;
        hi = chi > hi ? chi : hi;
    }
    if (total == 0)
        return 0;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    if (span <= 4 * (uint64_t)total + 4096) {
        struct dense d = {lo, calloc((size_t)span, sizeof(double)),
                          calloc((size_t)span, sizeof(size_t))};
        out->owned = malloc((size_t)(span < total ? span : total) * sizeof *out->owned);
        if (!d.sum || !d.cnt || !out->owned) {
            free(d.sum);
            free(d.cnt);
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        }
        for (size_t k = 0; k < nchild; k++)
            child_each(&q->rows[kids[k]][ind], targets, k, dense_add, &d);
        for (size_t i = 0; i < span; i++)
            if (d.cnt[i] > 0)
                out->owned[out->n++] =
                    point_of(lo + (int64_t)i, aggregate(d.sum[i], d.cnt[i], agg), targets);
        free(d.sum);
        free(d.cnt);
        finish(out);
        return 0;
    }
    struct sparse s = {malloc(total * sizeof *s.e), 0};
    out->owned = malloc(total * sizeof *out->owned);
    if (!s.e || !out->owned) {
        free(s.e);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    for (size_t k = 0; k < nchild; k++) /* computed above */
        child_each(&q->rows[kids[k]][ind], targets, k, sparse_add, &s);
    qsort(s.e, s.n, sizeof *s.e, cmp_entry);
    for (size_t k = 0; k < s.n;) {
        size_t j = k;
        double sum = 0;
        while (j < s.n && s.e[j].period == s.e[k].period)
            sum += s.e[j++].v;
        out->owned[out->n++] = point_of(s.e[k].period, aggregate(sum, j - k, agg), targets);
        k = j;
    }
    free(s.e);
    finish(out);
    return 0;
}

int q_cell_get(struct query *q, size_t team, size_t ind, const struct q_cell **out,
               struct kpi_error *err)
{
    if (!q->rows[team]) {
        q->rows[team] = calloc(q->ninds ? q->ninds : 1, sizeof *q->rows[team]);
        if (!q->rows[team])
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    struct q_cell *c = &q->rows[team][ind];
    *out = c;
    if (c->state == Q_DONE)
        return 0;
    if (c->state == Q_BUSY) /* query_new refuses cycles: cannot happen */
        return kpi_fail(err, KPI_ESYSTEM, "roll-up cycle at team \"%s\"", q->teams[team].id);
    c->state = Q_BUSY;
    const struct query_series_data *own = q_own_series(q, team, ind);
    if (own) {
        own_list(own, false, &c->values);
        own_list(own, true, &c->targets);
    }
    /* D1, D2: values and targets each roll up when the team has none of its
     * own in any period. */
    int rc = 0;
    c->values_rolled = c->values.count == 0;
    c->targets_rolled = c->targets.count == 0;
    if (c->values_rolled)
        c->values = (struct q_list){0};
    if (c->targets_rolled)
        c->targets = (struct q_list){0};
    if (rc == 0 && c->values_rolled)
        rc = rolled_list(q, team, ind, false, &c->values, err);
    if (rc == 0 && c->targets_rolled)
        rc = rolled_list(q, team, ind, true, &c->targets, err);
    if (rc != 0) {
        free(c->values.owned);
        free(c->targets.owned);
        memset(c, 0, sizeof *c);
        return rc;
    }
    c->state = Q_DONE;
    return 0;
}

size_t q_last_upto(const struct q_list *l, int64_t p)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->pts[mid].period <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? SIZE_MAX : lo - 1;
}

size_t q_first_from(const struct q_list *l, int64_t p)
{
    size_t k = q_last_upto(l, p - 1);
    return k == SIZE_MAX ? 0 : k + 1;
}

double q_value_at(const struct q_cell *c, int64_t p)
{
    size_t k = q_last_upto(&c->values, p);
    return k != SIZE_MAX && c->values.pts[k].period == p ? c->values.pts[k].value : NAN;
}

double q_target_at(const struct q_cell *c, int64_t p)
{
    if (c->targets.count == 0)
        return NAN;
    if (!c->targets_rolled) /* skips the points that only have a value */
        return kpi_target_at(c->targets.pts, c->targets.n, p);
    size_t k = q_last_upto(&c->targets, p); /* D3: exact periods only */
    return k != SIZE_MAX && c->targets.pts[k].period == p ? c->targets.pts[k].target : NAN;
}

bool q_latest_value(const struct q_cell *c, int64_t a, int64_t *p)
{
    size_t k = q_last_upto(&c->values, a);
    while (k != SIZE_MAX && isnan(c->values.pts[k].value)) /* target-only points */
        k = k == 0 ? SIZE_MAX : k - 1;
    if (k == SIZE_MAX)
        return false;
    *p = c->values.pts[k].period;
    return true;
}

bool q_cell_has_data(const struct q_cell *c)
{
    return c->values.count > 0 || c->targets.count > 0;
}

bool q_cell_span(const struct q_cell *c, int64_t *first, int64_t *last)
{
    bool any = false;
    const struct q_list *lists[2] = {&c->values, &c->targets};
    for (size_t k = 0; k < 2; k++) {
        const struct q_list *l = lists[k];
        if (l->count == 0)
            continue;
        if (!any || l->first < *first)
            *first = l->first;
        if (!any || l->last > *last)
            *last = l->last;
        any = true;
    }
    return any;
}
