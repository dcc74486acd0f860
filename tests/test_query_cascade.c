/* Tests of query/: cascade gap (SPEC §5) at the as-of period: children that
 * add up or not, interpolated and rolled-up targets, mean indicators, zero
 * and missing targets. */
#include "query/query.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------
 * Fixture (each suite is self-contained): a small dataset built in memory,
 * teams added in id order, points merged into one sorted series per
 * (team, indicator).
 */
struct fx {
    struct kpi_team teams[16];
    size_t nteams;
    struct kpi_indicator inds[8];
    size_t ninds;
    struct kpi_point pts[32][64];
    struct query_series_data series[32];
    size_t nseries;
};

static inline struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    return f;
}

static inline size_t fx_team(struct fx *f, const char *id, const char *name, const char *parent)
{
    ck_assert_uint_lt(f->nteams, 16);
    if (f->nteams > 0)
        ck_assert_int_lt(strcmp(f->teams[f->nteams - 1].id, id), 0);
    f->teams[f->nteams] = (struct kpi_team){id, name, parent};
    return f->nteams++;
}

static inline size_t fx_ind(struct fx *f, const char *id, const char *name, enum kpi_family family,
                            enum kpi_period_kind period)
{
    ck_assert_uint_lt(f->ninds, 8);
    struct kpi_indicator *ind = &f->inds[f->ninds];
    kpi_indicator_defaults(ind, id);
    ind->name = name;
    ind->family = family;
    ind->period = period;
    return f->ninds++;
}

/* Set the value and/or target (NAN: leave as is) of one period. */
static inline void fx_set(struct fx *f, size_t team, size_t ind, int64_t period, double value,
                          double target)
{
    size_t s = 0;
    while (s < f->nseries && (f->series[s].team != team || f->series[s].indicator != ind))
        s++;
    if (s == f->nseries) {
        ck_assert_uint_lt(s, 32);
        f->series[s] = (struct query_series_data){team, ind, f->pts[s], 0};
        f->nseries++;
    }
    struct query_series_data *sd = &f->series[s];
    size_t k = 0;
    while (k < sd->count && f->pts[s][k].period < period)
        k++;
    if (k == sd->count || f->pts[s][k].period != period) {
        ck_assert_uint_lt(sd->count, 64);
        memmove(&f->pts[s][k + 1], &f->pts[s][k], (sd->count - k) * sizeof f->pts[s][0]);
        f->pts[s][k] = (struct kpi_point){period, NAN, NAN};
        sd->count++;
    }
    if (!isnan(value))
        f->pts[s][k].value = value;
    if (!isnan(target))
        f->pts[s][k].target = target;
}

static inline struct query *fx_query(const struct fx *f)
{
    struct query_dataset ds = {f->teams, f->nteams, NULL, f->inds, f->ninds, f->series, f->nseries};
    struct query *q = NULL;
    struct kpi_error err = {0};
    int rc = query_new(&ds, &q, &err);
    ck_assert_msg(rc == 0, "query_new: %s", err.message);
    return q;
}

/* Month index of SPEC periods: year * 12 + month - 1. */
static inline int64_t mon(int year, int month)
{
    return (int64_t)year * 12 + month - 1;
}

static inline struct query_options at_day(int year, int month, int mday)
{
    struct query_options o;
    query_options_default(&o, kpi_day_from_ymd(year, month, mday));
    return o;
}

static inline struct query_indicator eval_ok(struct query *q, size_t team, size_t ind,
                                             struct query_options o)
{
    struct query_indicator r;
    struct kpi_error err = {0};
    int rc = query_indicator_eval(q, team, ind, &o, &r, &err);
    ck_assert_msg(rc == 0, "eval: %s", err.message);
    return r;
}
/* ---------------------------------------------------------------------- */

struct tree {
    size_t co, div_a, div_b, t1, t2;
};

static struct tree tree_of(struct fx *f)
{
    struct tree t;
    t.co = fx_team(f, "co", "Company", "");
    t.div_a = fx_team(f, "div-a", "Division A", "co");
    t.div_b = fx_team(f, "div-b", "Division B", "co");
    t.t1 = fx_team(f, "t1", "Team 1", "div-a");
    t.t2 = fx_team(f, "t2", "Team 2", "div-a");
    return t;
}

START_TEST(test_cascade_that_adds_up_is_zero)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 300);
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 200);
    fx_set(f, t.div_b, k, mon(2026, 1), NAN, 100);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 1, 15));
    ck_assert(r.cascade_gap == 0);
    ck_assert_double_eq_tol(r.children_target, 300, 1e-12);
    ck_assert_double_eq_tol(r.cascade_target, 300, 1e-12);
    ck_assert_int_eq(r.status, QUERY_NO_DATA); /* targets only */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_cascade_that_does_not_add_up_is_signed_ratio)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 300);
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 180);
    fx_set(f, t.div_b, k, mon(2026, 1), NAN, 100);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 1, 15));
    ck_assert_double_eq_tol(r.cascade_gap, -20.0 / 300, 1e-12); /* (280 - 300) / 300 */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_cascade_uses_interpolated_targets_at_as_of)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 300);
    fx_set(f, t.co, k, mon(2026, 3), NAN, 500); /* February: 400 */
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 100);
    fx_set(f, t.div_a, k, mon(2026, 3), NAN, 300); /* February: 200 */
    fx_set(f, t.div_b, k, mon(2026, 2), NAN, 150);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 2, 1));
    ck_assert_double_eq_tol(r.children_target, 350, 1e-9);
    ck_assert_double_eq_tol(r.cascade_gap, -50.0 / 400, 1e-12);
    /* March: division B has no target; 300 against 500. */
    r = eval_ok(q, t.co, k, at_day(2026, 3, 1));
    ck_assert_double_eq_tol(r.cascade_gap, -200.0 / 500, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_cascade_counts_rolled_up_child_targets)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 300);
    fx_set(f, t.t1, k, mon(2026, 1), NAN, 120);
    fx_set(f, t.t2, k, mon(2026, 1), NAN, 80);
    fx_set(f, t.div_b, k, mon(2026, 1), NAN, 130);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 1, 1));
    ck_assert_double_eq_tol(r.cascade_gap, 0.1, 1e-12); /* (200 + 130 - 300) / 300 */
    /* Division A's targets are rolled up: nothing to compare (D11). */
    r = eval_ok(q, t.div_a, k, at_day(2026, 1, 1));
    ck_assert(isnan(r.cascade_gap));
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_cascade_mean_indicator_uses_mean_of_children)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "nps", "NPS", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    f->inds[k].aggregate = KPI_AGGREGATE_MEAN;
    fx_set(f, t.co, k, mon(2026, 1), NAN, 50);
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 40);
    fx_set(f, t.div_b, k, mon(2026, 1), NAN, 70);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 1, 1));
    ck_assert_double_eq_tol(r.children_target, 55, 1e-12);
    ck_assert_double_eq_tol(r.cascade_gap, 0.1, 1e-12); /* (55 - 50) / 50 */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_cascade_down_direction_is_not_negated)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "cost", "Costs", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    f->inds[k].direction = KPI_DIRECTION_DOWN;
    fx_set(f, t.co, k, mon(2026, 1), NAN, 300);
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 230);
    fx_set(f, t.div_b, k, mon(2026, 1), NAN, 100);
    struct query *q = fx_query(f);
    ck_assert_double_eq_tol(eval_ok(q, t.co, k, at_day(2026, 1, 1)).cascade_gap, 0.1, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_cascade_null_without_team_or_child_target_or_when_zero)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 0);
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 10);
    fx_set(f, t.div_b, k, mon(2026, 2), NAN, 10); /* not in January */
    fx_set(f, t.t1, k, mon(2026, 2), NAN, 5);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 1, 1));
    ck_assert(isnan(r.cascade_gap)); /* the team's target is 0 */
    ck_assert_double_eq_tol(r.children_target, 10, 1e-12);
    r = eval_ok(q, t.co, k, at_day(2026, 2, 1));
    ck_assert(isnan(r.cascade_gap)); /* no target of its own in February */
    r = eval_ok(q, t.div_b, k, at_day(2026, 2, 1));
    ck_assert(isnan(r.cascade_gap)); /* no children */
    r = eval_ok(q, t.div_a, k, at_day(2026, 1, 1));
    ck_assert(isnan(r.cascade_gap)); /* children without a January target */
    ck_assert(isnan(r.children_target));
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_cascade");
    TCase *tc = tcase_create("cascade");
    tcase_add_test(tc, test_cascade_that_adds_up_is_zero);
    tcase_add_test(tc, test_cascade_that_does_not_add_up_is_signed_ratio);
    tcase_add_test(tc, test_cascade_uses_interpolated_targets_at_as_of);
    tcase_add_test(tc, test_cascade_counts_rolled_up_child_targets);
    tcase_add_test(tc, test_cascade_mean_indicator_uses_mean_of_children);
    tcase_add_test(tc, test_cascade_down_direction_is_not_negated);
    tcase_add_test(tc, test_cascade_null_without_team_or_child_target_or_when_zero);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
