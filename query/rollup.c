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

/* What a roll-up computes: the children's values, their planned targets
 * (every child's), or their like-for-like targets (those of the children
 * that have a value in the period, D18). */
enum roll { R_VALUES, R_PLANNED, R_LFL };

/* The field a list is read through. */
static double field(const struct kpi_point *p, bool targets)
{
    return targets ? p->target : p->value;
}

struct q_block *q_block_new(size_t n)
{
    if (n > (SIZE_MAX - sizeof(struct q_block)) / sizeof(struct kpi_point))
        return NULL;
    struct q_block *b = malloc(sizeof *b + n * sizeof b->pts[0]);
    if (b != NULL)
        atomic_init(&b->refs, 1);
    return b;
}

void q_block_retain(struct q_block *b)
{
    if (b != NULL)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void q_block_release(struct q_block *b)
{
    if (b != NULL && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

/* View the stored points as a list (no copy): count the numbers of the
 * field from point `from` on, after those out already counted, and note the
 * first and last period that has one. */
static void own_list_from(const struct query_series_data *s, bool targets, size_t from,
                          struct q_list *out)
{
    out->pts = s->points;
    out->n = s->count;
    out->owned = NULL;
    for (size_t k = from; k < s->count; k++) {
        if (isnan(field(&s->points[k], targets)))
            continue;
        if (out->count++ == 0)
            out->first = s->points[k].period;
        out->last = s->points[k].period;
    }
}

static void own_list(const struct query_series_data *s, bool targets, struct q_list *out)
{
    *out = (struct q_list){0};
    own_list_from(s, targets, 0, out);
}

/* The own list of a series that only grew since the previous query's cell:
 * prev_rolled means its first `from` points had no number of the field
 * (the list rolled up), else prev is what they counted. */
static void own_list_grown(const struct query_series_data *s, bool targets, bool prev_rolled,
                           const struct q_list *prev, size_t from, struct q_list *out)
{
    *out = prev_rolled ? (struct q_list){0} : *prev;
    own_list_from(s, targets, from, out);
}

/* A cell's own targets at increasing periods, exactly as kpi_target_at
 * gives them (the point, or interpolated between the nearest target points
 * on each side), in amortized constant time: kpi_target_at walks the run of
 * target-less points around a period, which would make a child with many
 * values and few targets quadratic. */
struct own_cursor {
    const struct kpi_point *pts;
    size_t n;
    size_t next;   /* first point after the last period asked */
    size_t before; /* last target point at or before it, or SIZE_MAX */
    size_t after;  /* first target point at or after next (when >= next) */
};

static double own_target_next(struct own_cursor *k, int64_t p)
{
    while (k->next < k->n && k->pts[k->next].period <= p) {
        if (!isnan(k->pts[k->next].target))
            k->before = k->next;
        k->next++;
    }
    if (k->before == SIZE_MAX)
        return NAN;
    const struct kpi_point *a = &k->pts[k->before];
    if (a->period == p)
        return a->target;
    if (k->after < k->next) { /* next >= 1 here: before is set */
        k->after = k->next;
        while (k->after < k->n && isnan(k->pts[k->after].target))
            k->after++;
    }
    if (k->after == k->n)
        return NAN;
    const struct kpi_point *b = &k->pts[k->after];
    double t = (double)(p - a->period) / (double)(b->period - a->period);
    return a->target + (b->target - a->target) * t;
}

/* Call fn for each (period, number) a child contributes to its parent: its
 * values; or its planned target in every period where it has one (own
 * target points are interpolated in between, D3); or, like for like, its
 * target in every period where it has a value (NaN when it has none there:
 * the child counts as reporting, with no target). */
static void child_each(const struct q_cell *c, enum roll mode, size_t seq,
                       void (*fn)(void *ctx, int64_t period, size_t seq, double v), void *ctx)
{
    if (mode == R_LFL) {
        struct own_cursor k = {c->targets.pts, c->targets.n, 0, SIZE_MAX, 0};
        const struct q_list *l = &c->values;
        for (size_t j = 0; j < l->n; j++) {
            if (isnan(l->pts[j].value))
                continue;
            int64_t p = l->pts[j].period;
            fn(ctx, p, seq,
               c->targets_rolled ? q_target_at(c, p, Q_ALL_VALUES) : own_target_next(&k, p));
        }
    } else if (mode == R_VALUES || c->targets_rolled) {
        bool targets = mode != R_VALUES;
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
static size_t child_extent(const struct q_cell *c, enum roll mode, int64_t *lo, int64_t *hi)
{
    const struct q_list *l = mode == R_PLANNED ? &c->targets : &c->values;
    if (l->count == 0)
        return 0;
    *lo = l->first;
    *hi = l->last;
    if (mode == R_PLANNED && !c->targets_rolled)
        return (size_t)(*hi - *lo) + 1;
    return l->count;
}

/* Dense accumulation: one slot per period of the children's range; rep
 * counts the children present in a period, cnt those with a number. */
struct dense {
    int64_t lo;
    double *sum;
    size_t *cnt;
    size_t *rep;
};

static void dense_add(void *ctx, int64_t period, size_t seq, double v)
{
    struct dense *d = ctx;
    (void)seq; /* children are visited in order: sums are in children order */
    d->rep[period - d->lo]++;
    if (isnan(v))
        return;
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

/* A computed list; a like-for-like one may hold NaN targets. */
static void finish(struct q_list *l, bool targets)
{
    l->pts = l->owned->pts;
    for (size_t k = 0; k < l->n; k++) {
        if (isnan(field(&l->pts[k], targets)))
            continue;
        if (l->count++ == 0)
            l->first = l->pts[k].period;
        l->last = l->pts[k].period;
    }
}

/* The children's sum or mean of cnt numbers, without the binary noise of
 * decimal sums (D17); NaN when none of the children present has one. */
static struct kpi_point point_of(int64_t period, double sum, size_t cnt, enum kpi_aggregate agg,
                                 bool targets)
{
    struct kpi_point p = {period, NAN, NAN};
    double v =
        cnt == 0 ? NAN : kpi_round_total(agg == KPI_AGGREGATE_MEAN ? sum / (double)cnt : sum);
    if (targets)
        p.target = v;
    else
        p.value = v;
    return p;
}

/* The rolled-up values or targets (mode) of (team, ind) from its children:
 * per period, the sum or mean of the children that have a number. When the
 * children's periods are dense enough (the usual case) they are accumulated
 * in an array indexed by period, else sorted. */
static int rolled_list(struct query *q, size_t team, size_t ind, enum roll mode, struct q_list *out,
                       struct kpi_error *err)
{
    size_t nchild;
    const size_t *kids = query_children(q, team, &nchild);
    enum kpi_aggregate agg = q->inds[ind].aggregate;
    bool targets = mode != R_VALUES;
    size_t total = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t k = 0; k < nchild; k++) {
        const struct q_cell *c;
        int rc = q_cell_get(q, kids[k], ind, &c, err);
        if (rc != 0)
            return rc;
        int64_t clo, chi;
        size_t m = child_extent(c, mode, &clo, &chi);
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
                          calloc((size_t)span, sizeof(size_t)),
                          calloc((size_t)span, sizeof(size_t))};
        out->owned = q_block_new((size_t)(span < total ? span : total));
        if (!d.sum || !d.cnt || !d.rep || !out->owned) {
            free(d.sum);
            free(d.cnt);
            free(d.rep);
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        }
        for (size_t k = 0; k < nchild; k++)
            child_each(&q->rows[kids[k]][ind], mode, k, dense_add, &d);
        for (size_t i = 0; i < span; i++)
            if (d.rep[i] > 0)
                out->owned->pts[out->n++] =
                    point_of(lo + (int64_t)i, d.sum[i], d.cnt[i], agg, targets);
        free(d.sum);
        free(d.cnt);
        free(d.rep);
        finish(out, targets);
        return 0;
    }
    struct sparse s = {malloc(total * sizeof *s.e), 0};
    out->owned = q_block_new(total);
    if (!s.e || !out->owned) {
        free(s.e);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    for (size_t k = 0; k < nchild; k++) /* computed above */
        child_each(&q->rows[kids[k]][ind], mode, k, sparse_add, &s);
    qsort(s.e, s.n, sizeof *s.e, cmp_entry);
    for (size_t k = 0; k < s.n;) {
        size_t j = k, cnt = 0;
        double sum = 0;
        for (; j < s.n && s.e[j].period == s.e[k].period; j++) {
            if (!isnan(s.e[j].v)) {
                sum += s.e[j].v;
                cnt++;
            }
        }
        out->owned->pts[out->n++] = point_of(s.e[k].period, sum, cnt, agg, targets);
        k = j;
    }
    free(s.e);
    finish(out, targets);
    return 0;
}

/* A rolled-up list of the previous query's cell, shared. */
static void reuse_list(const struct q_list *prev, struct q_list *out)
{
    *out = *prev;
    q_block_retain(out->owned);
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
    /* query_new_from: what the previous query computed of this cell */
    const struct q_hint *h = q->hint != NULL ? &q->hint[team * q->ninds + ind] : NULL;
    const struct q_cell *pc = h != NULL ? h->prev : NULL;
    if (pc != NULL && h->own_tail == Q_OWN_SAME && !h->kids_changed) {
        *c = *pc; /* nothing it reads changed: shared as it is */
        q_block_retain(c->values.owned);
        q_block_retain(c->targets.owned);
        q_block_retain(c->lfl.owned);
        return 0;
    }
    c->state = Q_BUSY;
    const struct query_series_data *own = q_own_series(q, team, ind);
    if (own && pc != NULL && h->own_tail != Q_OWN_CHANGED) {
        /* the same points, or more: only the new ones are counted */
        size_t from = h->own_tail == Q_OWN_SAME ? own->count : h->own_tail;
        own_list_grown(own, false, pc->values_rolled, &pc->values, from, &c->values);
        own_list_grown(own, true, pc->targets_rolled, &pc->targets, from, &c->targets);
    } else if (own) {
        own_list(own, false, &c->values);
        own_list(own, true, &c->targets);
    }
    /* D1, D2: values and targets each roll up when the team has none of its
     * own in any period; a roll-up whose children did not change is the
     * previous query's. */
    bool same_kids = pc != NULL && !h->kids_changed;
    int rc = 0;
    c->values_rolled = c->values.count == 0;
    c->targets_rolled = c->targets.count == 0;
    if (c->values_rolled)
        c->values = (struct q_list){0};
    if (c->targets_rolled)
        c->targets = (struct q_list){0};
    if (c->values_rolled && same_kids && pc->values_rolled)
        reuse_list(&pc->values, &c->values);
    else if (c->values_rolled)
        rc = rolled_list(q, team, ind, R_VALUES, &c->values, err);
    if (c->targets_rolled && same_kids && pc->targets_rolled) {
        reuse_list(&pc->targets, &c->targets);
        reuse_list(&pc->lfl, &c->lfl);
    } else {
        if (rc == 0 && c->targets_rolled)
            rc = rolled_list(q, team, ind, R_PLANNED, &c->targets, err);
        /* D18: like for like where a child reports, only with planned targets. */
        if (rc == 0 && c->targets_rolled && c->targets.count > 0)
            rc = rolled_list(q, team, ind, R_LFL, &c->lfl, err);
    }
    if (rc != 0) {
        q_block_release(c->values.owned);
        q_block_release(c->targets.owned);
        q_block_release(c->lfl.owned);
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

double q_target_at(const struct q_cell *c, int64_t p, int64_t upto)
{
    if (c->targets.count == 0)
        return NAN;
    if (!c->targets_rolled) /* skips the points that only have a value */
        return kpi_target_at(c->targets.pts, c->targets.n, p);
    size_t k;
    if (p <= upto && (k = q_last_upto(&c->lfl, p)) != SIZE_MAX && c->lfl.pts[k].period == p)
        return c->lfl.pts[k].target; /* D18: a child reports in p */
    k = q_last_upto(&c->targets, p); /* D3: exact periods only */
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
