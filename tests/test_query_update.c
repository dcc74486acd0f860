/* query_new_from (the server's take-up of a commit): after each change of a
 * dataset -- points appended in place, a correction, a series added or gone,
 * a new team or indicator, a moved team, a changed aggregate, direction or
 * thresholds -- the analysis built from the previous one answers exactly as
 * one computed from scratch: every series, evaluation, team drift and alert
 * at several as-of days, compared as text. */
#include "support/support.h"
#include "test_query_fixture.h"

#include <stdio.h>

enum { MAXT = 16, MAXI = 6, MAXS = MAXT * MAXI, CAP = 96, MAXBUF = 4096 };

/* One dataset; points live in the pool (never rewritten once a query has
 * seen them, only appended after: what store views promise). */
struct ds {
    struct kpi_team teams[MAXT];
    size_t nteams;
    struct kpi_indicator inds[MAXI];
    size_t ninds;
    struct query_series_data series[MAXS];
    size_t nseries;
};

struct pool {
    struct kpi_point *bufs[MAXBUF];
    size_t n;
    uint64_t seed;
};

static uint64_t rnd(struct pool *p, uint64_t n)
{
    p->seed = p->seed * 6364136223846793005u + 1442695040888963407u;
    return (p->seed >> 33) % n;
}

static struct kpi_point *new_buf(struct pool *p)
{
    ck_assert_uint_lt(p->n, MAXBUF);
    struct kpi_point *b = malloc(CAP * sizeof *b);
    ck_assert_ptr_nonnull(b);
    p->bufs[p->n++] = b;
    return b;
}

static const char *const ind_ids[] = {"k1", "k2", "k3"};
static const int64_t P0 = 2026 * 12; /* 2026-01 */

static size_t team_of(const struct ds *d, const char *id)
{
    for (size_t t = 0; t < d->nteams; t++)
        if (strcmp(d->teams[t].id, id) == 0)
            return t;
    ck_abort_msg("no team %s", id);
    return 0;
}

static struct query_series_data *series_of(struct ds *d, size_t t, size_t i)
{
    for (size_t s = 0; s < d->nseries; s++)
        if (d->series[s].team == t && d->series[s].indicator == i)
            return &d->series[s];
    return NULL;
}

/* n periods from P0 for (t, i): values in 3 periods out of 4 (has_values),
 * targets every third period (has_targets). */
static void fill(struct pool *p, struct ds *d, size_t t, size_t i, size_t n, bool has_values,
                 bool has_targets)
{
    struct kpi_point *b = new_buf(p);
    size_t c = 0;
    for (size_t k = 0; k < n; k++) {
        double v = has_values && rnd(p, 4) != 0 ? (double)(50 + rnd(p, 100)) / 2 : NAN;
        double g = has_targets && k % 3 == 0 ? (double)(60 + rnd(p, 80)) / 2 : NAN;
        if (isnan(v) && isnan(g))
            continue;
        b[c++] = (struct kpi_point){P0 + (int64_t)k, v, g};
    }
    if (c == 0)
        return;
    ck_assert_uint_lt(d->nseries, MAXS);
    d->series[d->nseries++] = (struct query_series_data){t, i, b, c};
}

/* Teams t10 (root) > t20, t30; t20 > t40, t50; t30 > t60; t70 (root) > t80;
 * indicators k1 (sum), k2 (mean, down), k3 (sum, thresholds 2 % and 5 %). */
static void initial(struct pool *p, struct ds *d)
{
    memset(d, 0, sizeof *d);
    static const char *const ids[] = {"t10", "t20", "t30", "t40", "t50", "t60", "t70", "t80"};
    static const char *const parents[] = {"", "t10", "t10", "t20", "t20", "t30", "", "t70"};
    for (size_t t = 0; t < 8; t++)
        d->teams[d->nteams++] = (struct kpi_team){ids[t], ids[t], parents[t]};
    for (size_t i = 0; i < 3; i++) {
        kpi_indicator_defaults(&d->inds[i], ind_ids[i]);
        d->inds[i].name = ind_ids[i];
        d->inds[i].period = KPI_PERIOD_MONTH;
        d->inds[i].family = (enum kpi_family)i;
    }
    d->ninds = 3;
    d->inds[1].aggregate = KPI_AGGREGATE_MEAN;
    d->inds[1].direction = KPI_DIRECTION_DOWN;
    d->inds[2].amber = 0.02;
    d->inds[2].red = 0.05;
    for (size_t t = 0; t < d->nteams; t++) {
        bool leaf = strcmp(d->teams[t].id, "t40") >= 0 && strcmp(d->teams[t].id, "t70") != 0;
        for (size_t i = 0; i < d->ninds; i++) {
            if (leaf)
                fill(p, d, t, i, 24, true, rnd(p, 2) == 0);
            else if (rnd(p, 2) == 0)
                fill(p, d, t, i, 30, false, true); /* a budget set at its level */
        }
    }
}

/* Append period `at` to series s in place (the same buffer, one more point). */
static void append(struct pool *p, struct query_series_data *s, int64_t at, bool value, bool target)
{
    ck_assert_uint_lt(s->count, CAP);
    ck_assert_int_gt(at, s->points[s->count - 1].period);
    struct kpi_point *b = (struct kpi_point *)(uintptr_t)s->points;
    b[s->count++] = (struct kpi_point){at, value ? (double)(40 + rnd(p, 120)) / 2 : NAN,
                                       target ? (double)(70 + rnd(p, 60)) / 2 : NAN};
}

/* A copy of s in a new buffer with point k's value changed. */
static void correct(struct pool *p, struct query_series_data *s, size_t k)
{
    struct kpi_point *b = new_buf(p);
    memcpy(b, s->points, s->count * sizeof *b);
    b[k].value = (double)(10 + rnd(p, 200)) / 4;
    s->points = b;
}

static void insert_team(struct ds *d, const char *id, const char *parent)
{
    size_t at = 0;
    while (at < d->nteams && strcmp(d->teams[at].id, id) < 0)
        at++;
    memmove(&d->teams[at + 1], &d->teams[at], (d->nteams - at) * sizeof d->teams[0]);
    d->teams[at] = (struct kpi_team){id, id, parent};
    d->nteams++;
    for (size_t s = 0; s < d->nseries; s++)
        if (d->series[s].team >= at)
            d->series[s].team++;
}

static void insert_indicator(struct ds *d, const char *id)
{
    size_t at = 0;
    while (at < d->ninds && strcmp(d->inds[at].id, id) < 0)
        at++;
    memmove(&d->inds[at + 1], &d->inds[at], (d->ninds - at) * sizeof d->inds[0]);
    kpi_indicator_defaults(&d->inds[at], id);
    d->inds[at].name = id;
    d->inds[at].period = KPI_PERIOD_MONTH;
    d->ninds++;
    for (size_t s = 0; s < d->nseries; s++)
        if (d->series[s].indicator >= at)
            d->series[s].indicator++;
}

static void remove_series(struct ds *d, struct query_series_data *s)
{
    *s = d->series[--d->nseries];
}

static void num(struct kpi_buf *b, double v)
{
    ck_assert_int_eq(kpi_buf_printf(b, isnan(v) ? " -" : " %.17g", v), 0);
}

/* Everything the questions answer, as text. */
static void dump(struct query *q, const struct ds *d, struct kpi_buf *b)
{
    struct kpi_error err = {0};
    for (size_t t = 0; t < d->nteams; t++)
        for (size_t i = 0; i < d->ninds; i++) {
            struct query_series s;
            ck_assert_int_eq(query_series_get(q, t, i, INT64_MIN, INT64_MAX, &s, &err), 0);
            kpi_buf_printf(b, "\nseries %s %s:", d->teams[t].id, d->inds[i].id);
            for (size_t k = 0; k < s.count; k++) {
                kpi_buf_printf(b, " %s%s", s.points[k].period.label,
                               s.points[k].rolled_up ? "r" : "");
                num(b, s.points[k].value);
                num(b, s.points[k].target);
            }
            query_series_free(&s);
        }
    static const int64_t as_of[] = {P0 + 5, P0 + 23, P0 + 24, P0 + 26, P0 + 40};
    for (size_t a = 0; a < sizeof as_of / sizeof as_of[0]; a++) {
        struct query_options o;
        query_options_default(&o, kpi_period_last_day(KPI_PERIOD_MONTH, as_of[a]));
        o.window = a % 2 == 0 ? 6 : 3;
        for (size_t t = 0; t < d->nteams; t++) {
            struct query_drift dr;
            ck_assert_int_eq(query_team_drift(q, t, &o, true, &dr, &err), 0);
            kpi_buf_printf(b, "\ndrift %s", d->teams[t].id);
            num(b, dr.drift);
            for (size_t k = 0; k < dr.indicator_count; k++) {
                const struct query_indicator *r = &dr.indicators[k];
                kpi_buf_printf(b, "\n  %s %d %lld %d %d %d %d %d %d %lld", r->kpi, r->period.set,
                               (long long)r->period.index, r->status, r->trend.set,
                               r->trend.direction, r->diverging, r->stale, r->rolled_up,
                               (long long)r->deadline.index);
                double nums[] = {r->actual,         r->target,         r->gap,
                                 r->trend.slope,    r->trend.change,   r->required_slope,
                                 r->projected,      r->projected_gap,  r->cascade_gap,
                                 r->cascade_target, r->children_target};
                for (size_t n = 0; n < sizeof nums / sizeof nums[0]; n++)
                    num(b, nums[n]);
            }
            query_drift_free(&dr);
        }
        struct query_alert_list l;
        ck_assert_int_eq(query_alerts(q, &o, NULL, &l, &err), 0);
        for (size_t k = 0; k < l.count; k++) {
            kpi_buf_printf(b, "\nalert %s since %s: %s", l.items[k].id, l.items[k].since.label,
                           l.items[k].message);
            num(b, l.items[k].gap);
        }
        query_alert_list_free(&l);
    }
}

static struct query_dataset dataset(const struct ds *d)
{
    return (struct query_dataset){d->teams,  d->nteams,  NULL, d->inds, d->ninds,
                                  d->series, d->nseries, NULL, NULL};
}

/* The analysis of d from prev equals the one from scratch; returns it. */
static struct query *step(struct query *prev, const struct ds *d, const char *what)
{
    struct query_dataset ds = dataset(d);
    struct query *incr = NULL, *full = NULL;
    struct kpi_error err = {0};
    ck_assert_msg(query_new_from(&ds, prev, &incr, &err) == 0, "%s: %s", what, err.message);
    ck_assert_msg(query_new(&ds, &full, &err) == 0, "%s: %s", what, err.message);
    ck_assert_int_eq(query_prepare(full, &err), 0);
    struct kpi_buf a = {0}, b = {0};
    dump(incr, d, &a);
    dump(full, d, &b);
    /* where they differ: from the start of that line (or 120 bytes before) */
    size_t at = 0, line = 0;
    for (; a.data[at] != '\0' && a.data[at] == b.data[at]; at++)
        if (a.data[at] == '\n')
            line = at + 1;
    size_t from = at > line + 120 ? at - 120 : line;
    ck_assert_msg(a.data[at] == '\0' && b.data[at] == '\0',
                  "after %s:\n%.240s\nfrom scratch:\n%.240s", what, a.data + from, b.data + from);
    kpi_buf_free(&a);
    kpi_buf_free(&b);
    query_free(full);
    return incr;
}

/* The changes of the server's life, each taken up from the previous
 * analysis (which is freed after the next one is built, as a snapshot). */
static void run(uint64_t seed)
{
    struct pool *p = calloc(1, sizeof *p);
    struct ds *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(d);
    p->seed = seed;
    initial(p, d);
    struct query *q = step(NULL, d, "start");
    struct query *next;
#define STEP(what)                                                                                 \
    do {                                                                                           \
        next = step(q, d, what);                                                                   \
        query_free(q);                                                                             \
        q = next;                                                                                  \
    } while (0)
    STEP("nothing");
    /* one more month for one leaf, then for every series */
    struct query_series_data *s40 = series_of(d, team_of(d, "t40"), 0);
    append(p, s40, s40->points[s40->count - 1].period + 1, true, false);
    STEP("one leaf's new period");
    for (size_t s = 0; s < d->nseries; s++)
        append(p, &d->series[s], d->series[s].points[d->series[s].count - 1].period + 1,
               rnd(p, 4) != 0, rnd(p, 3) == 0);
    STEP("every series' new period");
    /* a correction of a past value (a new buffer), in the other tree */
    struct query_series_data *s80 = series_of(d, team_of(d, "t80"), 2);
    if (s80 != NULL) {
        correct(p, s80, s80->count / 2);
        STEP("a correction");
    }
    /* a parent that starts reporting its own values (it stops rolling up) */
    struct query_series_data *s20 = series_of(d, team_of(d, "t20"), 0);
    if (s20 == NULL) {
        fill(p, d, team_of(d, "t20"), 0, 2, true, false);
        s20 = series_of(d, team_of(d, "t20"), 0);
    }
    if (s20 != NULL) {
        append(p, s20, s20->points[s20->count - 1].period + 2, true, false);
        STEP("a parent's own value");
    }
    /* a target-only series gets a value */
    for (size_t s = 0; s < d->nseries; s++) {
        struct query_series_data *x = &d->series[s];
        bool values = false;
        for (size_t k = 0; k < x->count; k++)
            values |= !isnan(x->points[k].value);
        if (!values) {
            append(p, x, x->points[x->count - 1].period + 1, true, true);
            STEP("a budget's first value");
            break;
        }
    }
    /* a series gone (a revert of its only commit) */
    remove_series(d, &d->series[rnd(p, d->nseries)]);
    STEP("a series gone");
    /* a new team in the middle of the ids, with data, under t20 */
    insert_team(d, "t45", "t20");
    fill(p, d, team_of(d, "t45"), 1, 26, true, true);
    STEP("a new team");
    /* a moved team: t60 from t30 to t70 */
    d->teams[team_of(d, "t60")].parent = "t70";
    STEP("a moved team");
    /* a new indicator before k3, with data for two leaves */
    insert_indicator(d, "k25");
    fill(p, d, team_of(d, "t50"), 2, 20, true, true);
    fill(p, d, team_of(d, "t80"), 2, 20, true, true);
    STEP("a new indicator");
    /* catalog changes the cells do not read, and one they do */
    d->inds[0].direction = KPI_DIRECTION_DOWN;
    d->inds[0].amber = 0.01;
    d->inds[0].red = 0.03;
    d->teams[team_of(d, "t10")].name = "Acme";
    STEP("thresholds, direction and a name");
    d->inds[1].aggregate = KPI_AGGREGATE_SUM;
    STEP("an aggregate");
    /* and new periods again after all that */
    for (size_t s = 0; s < d->nseries; s += 2)
        append(p, &d->series[s], d->series[s].points[d->series[s].count - 1].period + 1, true,
               rnd(p, 2) == 0);
    STEP("new periods again");
#undef STEP
    query_free(q);
    for (size_t k = 0; k < p->n; k++)
        free(p->bufs[k]);
    free(p);
    free(d);
}

START_TEST(test_take_up_equals_a_fresh_analysis)
{
    run(1 + (uint64_t)_i);
}
END_TEST

/* The numbers themselves, by hand: t20's k1 rolls up t40 + t50; a new
 * period of t40 alone (12) is its value there, and t70's subtree, not
 * touched, keeps its roll-up. */
START_TEST(test_rolled_up_value_of_a_new_period)
{
    struct ds d = {0};
    d.teams[0] = (struct kpi_team){"t20", "t20", ""};
    d.teams[1] = (struct kpi_team){"t40", "t40", "t20"};
    d.teams[2] = (struct kpi_team){"t50", "t50", "t20"};
    d.teams[3] = (struct kpi_team){"t70", "t70", ""};
    d.teams[4] = (struct kpi_team){"t80", "t80", "t70"};
    d.nteams = 5;
    kpi_indicator_defaults(&d.inds[0], "k1");
    d.inds[0].period = KPI_PERIOD_MONTH;
    d.ninds = 1;
    struct kpi_point a[4] = {{P0, 10, NAN}, {P0 + 1, 20, NAN}};
    struct kpi_point b[4] = {{P0, 1.5, NAN}, {P0 + 1, 2.5, NAN}};
    struct kpi_point c[4] = {{P0, 7, NAN}};
    d.series[0] = (struct query_series_data){1, 0, a, 2};
    d.series[1] = (struct query_series_data){2, 0, b, 2};
    d.series[2] = (struct query_series_data){4, 0, c, 1};
    d.nseries = 3;
    struct query *q = step(NULL, &d, "start");
    a[2] = (struct kpi_point){P0 + 2, 12, NAN};
    d.series[0].count = 3;
    struct query *q2 = step(q, &d, "t40's new period");
    query_free(q); /* q2 keeps nothing of it but shared roll-ups */
    struct query_series s;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_series_get(q2, 0, 0, INT64_MIN, INT64_MAX, &s, &err), 0);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_double_eq(s.points[0].value, 11.5);
    ck_assert_double_eq(s.points[1].value, 22.5);
    ck_assert_double_eq(s.points[2].value, 12);
    query_series_free(&s);
    ck_assert_int_eq(query_series_get(q2, 3, 0, INT64_MIN, INT64_MAX, &s, &err), 0);
    ck_assert_uint_eq(s.count, 1);
    ck_assert_double_eq(s.points[0].value, 7);
    ck_assert(s.points[0].rolled_up);
    query_series_free(&s);
    query_free(q2);
}
END_TEST

/* A grown series is checked where it grew: a new point out of order is
 * refused as query_new refuses it. */
START_TEST(test_grown_series_checked)
{
    struct ds d = {0};
    d.teams[0] = (struct kpi_team){"t1", "t1", ""};
    d.nteams = 1;
    kpi_indicator_defaults(&d.inds[0], "k1");
    d.ninds = 1;
    struct kpi_point a[4] = {{P0, 1, NAN}, {P0 + 1, 2, NAN}};
    d.series[0] = (struct query_series_data){0, 0, a, 2};
    d.nseries = 1;
    struct query *q = step(NULL, &d, "start");
    a[2] = (struct kpi_point){P0 + 1, 3, NAN};
    d.series[0].count = 3;
    struct query_dataset ds = dataset(&d);
    struct query *bad = NULL;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_new_from(&ds, q, &bad, &err), KPI_EINPUT);
    ck_assert_ptr_null(bad);
    ck_assert_str_eq(err.message, "series of \"t1\" / \"k1\" is not sorted by period");
    query_free(q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query_update");
    TCase *tc = tcase_create("update");
    tcase_add_loop_test(tc, test_take_up_equals_a_fresh_analysis, 0, 12);
    tcase_add_test(tc, test_rolled_up_value_of_a_new_period);
    tcase_add_test(tc, test_grown_series_checked);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
