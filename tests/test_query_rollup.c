/* Tests of query/: roll-ups (SPEC §5) over a three-level tree: sums and
 * means from the children that have a value, own data stopping the roll-up,
 * targets rolled up (interpolated children, no interpolation across holes),
 * values and targets rolling up independently. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* co -> div-a -> t1, t2; co -> div-b -> t3 (ids sorted). */
struct tree {
    size_t co, div_a, div_b, t1, t2, t3;
};

static struct tree tree_of(struct fx *f)
{
    struct tree t;
    t.co = fx_team(f, "co", "Company", "");
    t.div_a = fx_team(f, "div-a", "Division A", "co");
    t.div_b = fx_team(f, "div-b", "Division B", "co");
    t.t1 = fx_team(f, "t1", "Team 1", "div-a");
    t.t2 = fx_team(f, "t2", "Team 2", "div-a");
    t.t3 = fx_team(f, "t3", "Team 3", "div-b");
    return t;
}

static struct query_series series_ok(struct query *q, size_t team, size_t ind)
{
    struct query_series s;
    struct kpi_error err = {0};
    int rc = query_series_get(q, team, ind, INT64_MIN, INT64_MAX, &s, &err);
    ck_assert_msg(rc == 0, "series: %s", err.message);
    return s;
}

START_TEST(test_rollup_sum_three_levels_with_missing_child_value)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), 10, NAN);
    fx_set(f, t.t1, k, mon(2026, 2), 20, NAN);
    fx_set(f, t.t2, k, mon(2026, 1), 5, NAN); /* no February */
    fx_set(f, t.t3, k, mon(2026, 1), 7, NAN);
    fx_set(f, t.t3, k, mon(2026, 2), 8, NAN);
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.div_a, k);
    ck_assert_uint_eq(s.count, 2);
    ck_assert_double_eq_tol(s.points[0].value, 15, 1e-12); /* 10 + 5 */
    ck_assert_double_eq_tol(s.points[1].value, 20, 1e-12); /* t1 only */
    ck_assert(s.points[0].rolled_up && s.points[1].rolled_up);
    query_series_free(&s);
    s = series_ok(q, t.co, k);
    ck_assert_uint_eq(s.count, 2);
    ck_assert_double_eq_tol(s.points[0].value, 22, 1e-12); /* 15 + 7 */
    ck_assert_double_eq_tol(s.points[1].value, 28, 1e-12); /* 20 + 8 */
    query_series_free(&s);
    s = series_ok(q, t.t1, k);
    ck_assert(!s.points[0].rolled_up);
    query_series_free(&s);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 2, 28));
    ck_assert_double_eq_tol(r.actual, 28, 1e-12);
    ck_assert(r.rolled_up && r.value_rolled_up && !r.target_rolled_up);
    ck_assert_double_eq_tol(r.trend.slope, 6, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_mean_of_children_that_have_a_value)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "nps", "NPS", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    f->inds[k].aggregate = KPI_AGGREGATE_MEAN;
    fx_set(f, t.t1, k, mon(2026, 1), 40, NAN);
    fx_set(f, t.t1, k, mon(2026, 2), 50, NAN);
    fx_set(f, t.t2, k, mon(2026, 1), 60, NAN);
    fx_set(f, t.t3, k, mon(2026, 1), 10, NAN);
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.div_a, k);
    ck_assert_double_eq_tol(s.points[0].value, 50, 1e-12); /* (40 + 60) / 2 */
    ck_assert_double_eq_tol(s.points[1].value, 50, 1e-12); /* t1 alone */
    query_series_free(&s);
    /* The company is the mean of its divisions, not of the teams:
     * January (50 + 10) / 2 = 30, February 50 (division B has none). */
    s = series_ok(q, t.co, k);
    ck_assert_double_eq_tol(s.points[0].value, 30, 1e-12);
    ck_assert_double_eq_tol(s.points[1].value, 50, 1e-12);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_decimal_sums_are_the_decimal_sums)
{
    /* In doubles 12345.67 + 98765.43 = 111111.09999999999 and 0.1 + 0.2 =
     * 0.30000000000000004; a finance user reads 111111.1 and 0.3 (D17).
     * The children keep their own numbers, and the cascade's aggregate of
     * the children's targets is rounded the same way. */
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), 12345.67, 0.1);
    fx_set(f, t.t2, k, mon(2026, 1), 98765.43, 0.2);
    fx_set(f, t.div_a, k, mon(2026, 1), NAN, 0.3);
    size_t m = fx_ind(f, "nps", "NPS", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    f->inds[m].aggregate = KPI_AGGREGATE_MEAN;
    fx_set(f, t.t1, m, mon(2026, 1), 10.1, NAN);
    fx_set(f, t.t2, m, mon(2026, 1), 10.2, NAN);
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.div_a, k);
    ck_assert_uint_eq(s.count, 1);
    ck_assert(s.points[0].value == 111111.1);
    query_series_free(&s);
    s = series_ok(q, t.t1, k);
    ck_assert(s.points[0].value == 12345.67 && s.points[0].target == 0.1);
    query_series_free(&s);
    s = series_ok(q, t.div_a, m); /* (10.1 + 10.2) / 2 = 10.149999999999999 in doubles */
    ck_assert(s.points[0].value == 10.15);
    query_series_free(&s);
    struct query_indicator r = eval_ok(q, t.div_a, k, at_day(2026, 1, 31));
    ck_assert(r.actual == 111111.1);
    ck_assert(r.children_target == 0.3);
    ck_assert(r.cascade_gap == 0); /* 0.3 against its own 0.3: no gap */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_own_observation_in_any_period_stops_rollup)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), 10, NAN);
    fx_set(f, t.t2, k, mon(2026, 1), 5, NAN);
    fx_set(f, t.t3, k, mon(2026, 1), 7, NAN);
    fx_set(f, t.t3, k, mon(2026, 2), 8, NAN);
    fx_set(f, t.div_b, k, mon(2026, 3), 100, NAN); /* its own, March only */
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.div_b, k);
    ck_assert_uint_eq(s.count, 1);
    ck_assert_double_eq_tol(s.points[0].value, 100, 1e-12);
    ck_assert(!s.points[0].rolled_up);
    query_series_free(&s);
    s = series_ok(q, t.co, k); /* January 15, February none, March 100 */
    ck_assert_uint_eq(s.count, 3);
    ck_assert_double_eq_tol(s.points[0].value, 15, 1e-12);
    ck_assert(isnan(s.points[1].value));
    ck_assert_double_eq_tol(s.points[2].value, 100, 1e-12);
    query_series_free(&s);
    /* As of February, division B has no observation up to then. */
    ck_assert_int_eq(eval_ok(q, t.div_b, k, at_day(2026, 2, 1)).status, QUERY_NO_DATA);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_targets_from_interpolated_children)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), 90, 100);
    fx_set(f, t.t1, k, mon(2026, 3), NAN, 120); /* February: 110 */
    fx_set(f, t.t2, k, mon(2026, 2), 40, 50);
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.div_a, k);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_double_eq_tol(s.points[0].target, 100, 1e-9);
    /* February: only t2 reports, so like for like (D18) its 50 alone; t1's
     * interpolated 110 would count (160) once t1 reports February. */
    ck_assert_double_eq_tol(s.points[1].target, 50, 1e-9);
    ck_assert_double_eq_tol(s.points[2].target, 120, 1e-9);
    ck_assert(s.points[2].rolled_up); /* a rolled-up target, no value */
    query_series_free(&s);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 2, 10));
    ck_assert_double_eq_tol(r.actual, 40, 1e-12);
    ck_assert_double_eq_tol(r.target, 50, 1e-9);
    ck_assert_double_eq_tol(r.gap, -0.2, 1e-12); /* (40 - 50) / 50 */
    ck_assert(r.value_rolled_up && r.target_rolled_up);
    /* D4: the last rolled-up target (March, planned: nobody reports it) is
     * the deadline: (120 - 50) / 1. */
    ck_assert_str_eq(r.deadline.label, "2026-03");
    ck_assert_double_eq_tol(r.required_slope, 70, 1e-9);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_targets_not_interpolated_across_holes)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), NAN, 10);
    fx_set(f, t.t2, k, mon(2026, 4), NAN, 40);
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.div_a, k);
    ck_assert_uint_eq(s.count, 4);
    ck_assert_double_eq_tol(s.points[0].target, 10, 1e-12);
    ck_assert(isnan(s.points[1].target));
    ck_assert(isnan(s.points[2].target));
    ck_assert_double_eq_tol(s.points[3].target, 40, 1e-12);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_values_and_targets_independent)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 2), 20, 30);
    fx_set(f, t.div_a, k, mon(2026, 2), NAN, 200); /* a budget at its level */
    fx_set(f, t.t3, k, mon(2026, 1), 5, 10);
    fx_set(f, t.div_b, k, mon(2026, 1), 7, NAN); /* reports itself, no target */
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.div_a, k, at_day(2026, 2, 1));
    ck_assert_double_eq_tol(r.actual, 20, 1e-12);  /* rolled up */
    ck_assert_double_eq_tol(r.target, 200, 1e-12); /* its own */
    ck_assert(r.value_rolled_up && !r.target_rolled_up && r.rolled_up);
    r = eval_ok(q, t.div_b, k, at_day(2026, 1, 1));
    ck_assert_double_eq_tol(r.actual, 7, 1e-12);  /* its own */
    ck_assert_double_eq_tol(r.target, 10, 1e-12); /* rolled up from t3 */
    ck_assert(!r.value_rolled_up && r.target_rolled_up && r.rolled_up);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_leaf_without_data_has_no_indicator)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), 10, NAN);
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 1, 1);
    struct query_indicator *items;
    size_t n;
    ck_assert_int_eq(query_team_indicators(q, t.t3, &o, &items, &n, NULL), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(query_team_indicators(q, t.co, &o, &items, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert(items[0].rolled_up);
    free(items);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_rollup_sparse_days_far_apart)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "calls", "Calls", KPI_FAMILY_PROCESS, KPI_PERIOD_DAY);
    f->inds[k].aggregate = KPI_AGGREGATE_MEAN;
    int64_t a = kpi_day_from_ymd(2000, 1, 1), b = kpi_day_from_ymd(2026, 1, 1);
    fx_set(f, t.t1, k, a, 10, NAN);
    fx_set(f, t.t1, k, b, 1, 4);
    fx_set(f, t.t2, k, b, 2, 6);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.div_a, k, at_day(2026, 1, 1));
    ck_assert_double_eq_tol(r.actual, 1.5, 1e-12); /* (1 + 2) / 2 */
    ck_assert_double_eq_tol(r.target, 5, 1e-12);   /* (4 + 6) / 2 */
    r = eval_ok(q, t.div_a, k, at_day(2000, 1, 1));
    ck_assert_double_eq_tol(r.actual, 10, 1e-12);
    ck_assert(isnan(r.target));
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_prepare_and_explicit_parents_give_same_tree)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.t1, k, mon(2026, 1), 10, NAN);
    fx_set(f, t.t3, k, mon(2026, 1), 7, NAN);
    size_t parents[6] = {QUERY_NONE, t.co, t.co, t.div_a, t.div_a, t.div_b};
    struct query_dataset ds = {f->teams,  f->nteams,  parents, f->inds, f->ninds,
                               f->series, f->nseries, NULL,    NULL};
    struct query *q;
    ck_assert_int_eq(query_new(&ds, &q, NULL), 0);
    ck_assert_int_eq(query_prepare(q, NULL), 0);
    size_t n;
    const size_t *kids = query_children(q, t.div_a, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(kids[0], t.t1);
    ck_assert_uint_eq(kids[1], t.t2);
    query_children(q, t.t1, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_double_eq_tol(eval_ok(q, t.co, k, at_day(2026, 1, 1)).actual, 17, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_rollup");
    TCase *tc = tcase_create("rollup");
    tcase_add_test(tc, test_rollup_sum_three_levels_with_missing_child_value);
    tcase_add_test(tc, test_rollup_mean_of_children_that_have_a_value);
    tcase_add_test(tc, test_rollup_decimal_sums_are_the_decimal_sums);
    tcase_add_test(tc, test_rollup_own_observation_in_any_period_stops_rollup);
    tcase_add_test(tc, test_rollup_targets_from_interpolated_children);
    tcase_add_test(tc, test_rollup_targets_not_interpolated_across_holes);
    tcase_add_test(tc, test_rollup_values_and_targets_independent);
    tcase_add_test(tc, test_rollup_leaf_without_data_has_no_indicator);
    tcase_add_test(tc, test_rollup_sparse_days_far_apart);
    tcase_add_test(tc, test_prepare_and_explicit_parents_give_same_tree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
