/* Tests of query/: cascade gap (SPEC §5) at the as-of period: children that
 * add up or not, interpolated and rolled-up targets, mean indicators, zero
 * and missing targets. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
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
    return ts_run_suite(suite());
}
