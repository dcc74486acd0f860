/* Tests of query/: attribution (SPEC §11) -- each child's contribution to
 * its parent's gap, and the residual, with numbers worked by hand: sum and
 * mean, direction down, a child without a target, a team with its own
 * target, a target of 0, a team whose actual is its own. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

struct tree {
    size_t a, b, c, co, d;
};

/* co with children a, b, c, d (ids sorted: a b c co d). */
static struct tree tree_of(struct fx *f)
{
    struct tree t;
    t.a = fx_team(f, "a", "Team A", "co");
    t.b = fx_team(f, "b", "Team B", "co");
    t.c = fx_team(f, "c", "Team C", "co");
    t.co = fx_team(f, "co", "Company", "");
    t.d = fx_team(f, "d", "Team D", "co");
    return t;
}

/* The attribution of (team, ind) as of 2026-01-31. */
static struct query_attribution attribute(struct query *q, size_t team, size_t ind,
                                          struct query_indicator *r)
{
    struct query_options o = at_day(2026, 1, 31);
    *r = eval_ok(q, team, ind, o);
    struct query_attribution a;
    struct kpi_error err = {0};
    int rc = query_attribution(q, r, &o, &a, &err);
    ck_assert_msg(rc == 0, "attribution: %s", err.message);
    return a;
}

static void check_item(const struct query_attribution *a, size_t k, const char *team, double actual,
                       double target, double contribution)
{
    ck_assert_uint_lt(k, a->count);
    ck_assert_str_eq(a->items[k].team_id, team);
    ck_assert_double_eq_tol(a->items[k].actual, actual, 1e-12);
    ck_assert_double_eq_tol(a->items[k].target, target, 1e-12);
    ck_assert_double_eq_tol(a->items[k].contribution, contribution, 1e-12);
}

START_TEST(test_attribution_sum_adds_up_to_the_gap)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.a, k, mon(2026, 1), 100, 120);
    fx_set(f, t.b, k, mon(2026, 1), 90, 80);
    fx_set(f, t.c, k, mon(2026, 1), 50, 50);
    struct query *q = fx_query(f);
    struct query_indicator r;
    struct query_attribution a = attribute(q, t.co, k, &r);
    /* actual 240, target 250 (like for like), gap -10/250 = -0.04 */
    ck_assert_double_eq_tol(r.gap, -0.04, 1e-12);
    ck_assert(a.set);
    ck_assert_uint_eq(a.count, 3);
    check_item(&a, 0, "a", 100, 120, -20.0 / 250); /* -0.08, worst first */
    check_item(&a, 1, "c", 50, 50, 0);
    check_item(&a, 2, "b", 90, 80, 10.0 / 250); /* +0.04 */
    ck_assert(a.residual == 0);                 /* D20: exactly 0 */
    query_attribution_free(&a);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_attribution_mean_divides_by_reporting_children)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "sat", "Satisfaction", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    f->inds[k].aggregate = KPI_AGGREGATE_MEAN;
    fx_set(f, t.a, k, mon(2026, 1), 60, 90);
    fx_set(f, t.b, k, mon(2026, 1), 70, 70);
    fx_set(f, t.c, k, mon(2026, 1), 90, 80);
    fx_set(f, t.d, k, mon(2025, 12), 10, 80); /* no value in P: not in n */
    struct query *q = fx_query(f);
    struct query_indicator r;
    struct query_attribution a = attribute(q, t.co, k, &r);
    /* actual 220/3, target 240/3 = 80, gap (220/3 - 80) / 80 = -1/12 */
    ck_assert_double_eq_tol(r.target, 80, 1e-12);
    ck_assert_double_eq_tol(r.gap, -1.0 / 12, 1e-12);
    ck_assert_uint_eq(a.count, 3);
    check_item(&a, 0, "a", 60, 90, -30.0 / 240); /* (60 - 90) / (3 * 80) */
    check_item(&a, 1, "b", 70, 70, 0);
    check_item(&a, 2, "c", 90, 80, 10.0 / 240);
    ck_assert(a.residual == 0);
    query_attribution_free(&a);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_attribution_down_direction_negates)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "cost", "Costs", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    f->inds[k].direction = KPI_DIRECTION_DOWN;
    fx_set(f, t.a, k, mon(2026, 1), 120, 100);
    fx_set(f, t.b, k, mon(2026, 1), 40, 50);
    struct query *q = fx_query(f);
    struct query_indicator r;
    struct query_attribution a = attribute(q, t.co, k, &r);
    /* actual 160, target 150, gap -(10/150) */
    ck_assert_double_eq_tol(r.gap, -10.0 / 150, 1e-12);
    ck_assert_uint_eq(a.count, 2);
    check_item(&a, 0, "a", 120, 100, -20.0 / 150); /* over budget: negative */
    check_item(&a, 1, "b", 40, 50, 10.0 / 150);    /* under budget: positive */
    ck_assert(a.residual == 0);
    query_attribution_free(&a);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_attribution_child_without_target_stays_in_residual)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.a, k, mon(2026, 1), 100, 120);
    fx_set(f, t.b, k, mon(2026, 1), 90, NAN);
    struct query *q = fx_query(f);
    struct query_indicator r;
    struct query_attribution a = attribute(q, t.co, k, &r);
    /* actual 190; like-for-like target 120 (b has none); gap 70/120 */
    ck_assert_double_eq_tol(r.target, 120, 1e-12);
    ck_assert_double_eq_tol(r.gap, 70.0 / 120, 1e-12);
    ck_assert_uint_eq(a.count, 1);
    check_item(&a, 0, "a", 100, 120, -20.0 / 120);
    ck_assert_double_eq_tol(a.residual, 90.0 / 120, 1e-12); /* b's value */
    query_attribution_free(&a);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_attribution_own_target_leaves_cascade_gap_in_residual)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 300);
    fx_set(f, t.a, k, mon(2026, 1), 100, 120);
    fx_set(f, t.b, k, mon(2026, 1), 90, 80);
    struct query *q = fx_query(f);
    struct query_indicator r;
    struct query_attribution a = attribute(q, t.co, k, &r);
    /* actual 190 (rolled up), target 300 (own), gap -110/300 */
    ck_assert_double_eq_tol(r.gap, -110.0 / 300, 1e-12);
    ck_assert_uint_eq(a.count, 2);
    check_item(&a, 0, "a", 100, 120, -20.0 / 300);
    check_item(&a, 1, "b", 90, 80, 10.0 / 300);
    /* children's targets 200 against 300: the cascade gap -100/300 */
    ck_assert_double_eq_tol(a.residual, -100.0 / 300, 1e-12);
    ck_assert_double_eq_tol(r.cascade_gap, -100.0 / 300, 1e-12);
    query_attribution_free(&a);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_attribution_null_for_target_zero_or_own_actual)
{
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "inc", "Incidents", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    size_t m = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.co, k, mon(2026, 1), NAN, 0); /* own target 0 */
    fx_set(f, t.a, k, mon(2026, 1), 3, 0);
    fx_set(f, t.co, m, mon(2026, 1), 500, 400); /* own actual */
    fx_set(f, t.a, m, mon(2026, 1), 100, 120);
    fx_set(f, t.b, m, mon(2026, 2), 100, 120); /* after P */
    struct query *q = fx_query(f);
    struct query_indicator r;
    struct query_attribution a = attribute(q, t.co, k, &r);
    ck_assert(r.value_rolled_up);
    ck_assert_double_eq_tol(r.gap, 3, 1e-12); /* a difference against 0 */
    ck_assert(!a.set);
    ck_assert_uint_eq(a.count, 0);
    ck_assert_ptr_null(a.items);
    ck_assert(isnan(a.residual));
    query_attribution_free(&a);
    a = attribute(q, t.co, m, &r);
    ck_assert(!r.value_rolled_up);
    ck_assert(!a.set);
    ck_assert_uint_eq(a.count, 0);
    ck_assert(isnan(a.residual));
    query_attribution_free(&a);
    a = attribute(q, t.b, m, &r); /* no child, no data in P */
    ck_assert(!a.set);
    query_attribution_free(&a);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_attribution_bad_index_is_usage_error)
{
    struct fx *f = fx_new();
    tree_of(f);
    fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 1, 31);
    struct query_indicator r = eval_ok(q, 0, 0, o);
    r.team = 99;
    struct query_attribution a;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_attribution(q, &r, &o, &a, &err), KPI_EUSAGE);
    ck_assert_uint_eq(a.count, 0);
    r.team = 0;
    r.indicator = 7;
    ck_assert_int_eq(query_attribution(q, &r, &o, &a, &err), KPI_EUSAGE);
    ck_assert_str_eq(err.message, "indicator index 7 out of range");
    query_attribution_free(&a);
    query_attribution_free(NULL);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_attribution");
    TCase *tc = tcase_create("attribution");
    tcase_add_test(tc, test_attribution_sum_adds_up_to_the_gap);
    tcase_add_test(tc, test_attribution_mean_divides_by_reporting_children);
    tcase_add_test(tc, test_attribution_down_direction_negates);
    tcase_add_test(tc, test_attribution_child_without_target_stays_in_residual);
    tcase_add_test(tc, test_attribution_own_target_leaves_cascade_gap_in_residual);
    tcase_add_test(tc, test_attribution_null_for_target_zero_or_own_actual);
    tcase_add_test(tc, test_attribution_bad_index_is_usage_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
