/* Tests of query/: like-for-like roll-ups of targets (SPEC §5 "Roll-up",
 * D18). In a period where at least one child has a value (up to the as-of
 * period in the analysis, every value in the series document), only the
 * targets of the children that have a value count; in the other periods
 * every child's target counts, and the cascade gap always compares planned
 * targets (every child's). Every number below is worked by hand. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* co -> sales -> s1, s2, s3 (ids sorted). */
struct tree {
    size_t co, s1, s2, s3, sales;
};

static struct tree tree_of(struct fx *f)
{
    struct tree t;
    t.co = fx_team(f, "co", "Company", "");
    t.s1 = fx_team(f, "s1", "Sales 1", "sales");
    t.s2 = fx_team(f, "s2", "Sales 2", "sales");
    t.s3 = fx_team(f, "s3", "Sales 3", "sales");
    t.sales = fx_team(f, "sales", "Sales", "co");
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

/* The regression of the issue: three sales teams with monthly revenue
 * budgets; s3 reports April late. Targets (all four months):
 *   s1 300,000   s2 270,000   s3 235,000   -> planned 805,000
 * Values January..March for all three, April for s1 (310,000) and s2
 * (260,000) only: April's rolled-up actual 570,000.
 * Before: 570,000 vs 805,000 = -29.19 %, off_track on sales and co.
 * Like for like: 570,000 vs 300,000 + 270,000 = 570,000: gap 0. */
static struct query *three_sales_teams(struct fx *f, struct tree *t, size_t *k)
{
    *t = tree_of(f);
    *k = fx_ind(f, "ca", "Chiffre d'affaires", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    for (int m = 1; m <= 4; m++) {
        fx_set(f, t->s1, *k, mon(2026, m), NAN, 300000);
        fx_set(f, t->s2, *k, mon(2026, m), NAN, 270000);
        fx_set(f, t->s3, *k, mon(2026, m), NAN, 235000);
    }
    for (int m = 1; m <= 3; m++) {
        fx_set(f, t->s1, *k, mon(2026, m), 300000, NAN);
        fx_set(f, t->s2, *k, mon(2026, m), 270000, NAN);
        fx_set(f, t->s3, *k, mon(2026, m), 235000, NAN);
    }
    fx_set(f, t->s1, *k, mon(2026, 4), 310000, NAN);
    fx_set(f, t->s2, *k, mon(2026, 4), 260000, NAN);
    return fx_query(f);
}

START_TEST(test_lfl_late_child_left_out_of_both_sides)
{
    struct fx *f = fx_new();
    struct tree t;
    size_t k;
    struct query *q = three_sales_teams(f, &t, &k);
    size_t teams[2] = {t.sales, t.co};
    for (size_t i = 0; i < 2; i++) {
        struct query_indicator r = eval_ok(q, teams[i], k, at_day(2026, 4, 30));
        ck_assert_str_eq(r.period.label, "2026-04");
        ck_assert_double_eq_tol(r.actual, 570000, 1e-6);
        ck_assert_double_eq_tol(r.target, 570000, 1e-6); /* not 805,000 */
        ck_assert(r.gap == 0);
        ck_assert_int_eq(r.status, QUERY_ON_TRACK);
        ck_assert(r.value_rolled_up && r.target_rolled_up);
    }
    /* The series document (no as-of) shows the same pair. */
    struct query_series s = series_ok(q, t.co, k);
    ck_assert_uint_eq(s.count, 4);
    ck_assert_double_eq_tol(s.points[2].target, 805000, 1e-6); /* March: all three */
    ck_assert_double_eq_tol(s.points[3].value, 570000, 1e-6);
    ck_assert_double_eq_tol(s.points[3].target, 570000, 1e-6);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_values_after_as_of_do_not_count)
{
    /* As of March, April is after the as-of period: its values do not
     * count, so April's target is the planned 805,000 -- the deadline of
     * March's evaluation: required slope (805,000 - 805,000) / 1 = 0. The
     * March evaluation itself compares all three: 805,000 vs 805,000. */
    struct fx *f = fx_new();
    struct tree t;
    size_t k;
    struct query *q = three_sales_teams(f, &t, &k);
    struct query_indicator r = eval_ok(q, t.sales, k, at_day(2026, 3, 31));
    ck_assert_str_eq(r.period.label, "2026-03");
    ck_assert_double_eq_tol(r.actual, 805000, 1e-6);
    ck_assert_double_eq_tol(r.target, 805000, 1e-6);
    ck_assert_str_eq(r.deadline.label, "2026-04");
    ck_assert_double_eq_tol(r.deadline_target, 805000, 1e-6);
    ck_assert(r.required_slope == 0);
    /* Trend 805,000 flat over January..March: projected 805,000 at April,
     * projected_gap 0 -- against the planned target, not 570,000. */
    ck_assert_double_eq_tol(r.projected, 805000, 1e-6);
    ck_assert(fabs(r.projected_gap) < 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_late_child_counts_once_it_reports)
{
    /* s3 reports April (240,000): 810,000 vs 805,000 = +0.62 %. */
    struct fx *f = fx_new();
    struct tree t;
    size_t k;
    struct query *q = three_sales_teams(f, &t, &k);
    query_free(q);
    fx_set(f, t.s3, k, mon(2026, 4), 240000, NAN);
    q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 4, 30));
    ck_assert_double_eq_tol(r.actual, 810000, 1e-6);
    ck_assert_double_eq_tol(r.target, 805000, 1e-6);
    ck_assert_double_eq_tol(r.gap, 5000.0 / 805000, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_mean_of_reporting_children_targets)
{
    /* NPS (mean): targets s1 50, s2 55, s3 70 in January and February.
     * January: s1 40, s2 60 report (s3 does not): actual (40 + 60) / 2 =
     * 50, target (50 + 55) / 2 = 52.5, gap -2.5 / 52.5 = -0.047619 (on
     * track at amber 0.05); with s3's 70 the target would be 58.333 and the
     * gap -0.142857, off track. February: nobody reports: planned mean
     * (50 + 55 + 70) / 3 = 58.333333. */
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "nps", "NPS", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    f->inds[k].aggregate = KPI_AGGREGATE_MEAN;
    for (int m = 1; m <= 2; m++) {
        fx_set(f, t.s1, k, mon(2026, m), NAN, 50);
        fx_set(f, t.s2, k, mon(2026, m), NAN, 55);
        fx_set(f, t.s3, k, mon(2026, m), NAN, 70);
    }
    fx_set(f, t.s1, k, mon(2026, 1), 40, NAN);
    fx_set(f, t.s2, k, mon(2026, 1), 60, NAN);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.sales, k, at_day(2026, 1, 31));
    ck_assert_double_eq_tol(r.actual, 50, 1e-12);
    ck_assert_double_eq_tol(r.target, 52.5, 1e-12);
    ck_assert_double_eq_tol(r.gap, -2.5 / 52.5, 1e-12);
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    /* The company is the mean of its one division: the same. */
    ck_assert_double_eq_tol(eval_ok(q, t.co, k, at_day(2026, 1, 31)).target, 52.5, 1e-12);
    struct query_series s = series_ok(q, t.sales, k);
    ck_assert_uint_eq(s.count, 2);
    ck_assert_double_eq_tol(s.points[0].target, 52.5, 1e-12);
    ck_assert_double_eq_tol(s.points[1].target, 175.0 / 3, 1e-12);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_reporting_child_without_target)
{
    /* January: s1 reports 100 without a target, s2 reports 50 against 60,
     * s3 has a target of 80 and no value. Sum: actual 150, target 60 (s2
     * is the only reporting child with a target; s3 is left out).
     * February: only s1 reports (70, no target) while s2 and s3 have
     * targets (60, 80): no reporting child has a target, so the team has
     * no target that month (no_target), not s2 + s3's 140 against s1's 70.
     * March: nobody reports: planned 60 + 80 = 140. */
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "ca", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.s1, k, mon(2026, 1), 100, NAN);
    fx_set(f, t.s1, k, mon(2026, 2), 70, NAN);
    for (int m = 1; m <= 3; m++) {
        fx_set(f, t.s2, k, mon(2026, m), NAN, 60);
        fx_set(f, t.s3, k, mon(2026, m), NAN, 80);
    }
    fx_set(f, t.s2, k, mon(2026, 1), 50, NAN);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.sales, k, at_day(2026, 1, 31));
    ck_assert_double_eq_tol(r.actual, 150, 1e-12);
    ck_assert_double_eq_tol(r.target, 60, 1e-12);
    ck_assert_double_eq_tol(r.gap, 1.5, 1e-12); /* (150 - 60) / 60 */
    r = eval_ok(q, t.sales, k, at_day(2026, 2, 28));
    ck_assert_double_eq_tol(r.actual, 70, 1e-12);
    ck_assert(isnan(r.target));
    ck_assert_int_eq(r.status, QUERY_NO_TARGET);
    ck_assert(!r.target_rolled_up);
    /* The deadline is still March's planned 140. */
    ck_assert_str_eq(r.deadline.label, "2026-03");
    ck_assert_double_eq_tol(r.deadline_target, 140, 1e-12);
    struct query_series s = series_ok(q, t.sales, k);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_double_eq_tol(s.points[0].target, 60, 1e-12);
    ck_assert(isnan(s.points[1].target));
    ck_assert_double_eq_tol(s.points[2].target, 140, 1e-12);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_interpolated_child_target_counts_where_it_reports)
{
    /* s1's own targets 100 (January) and 130 (April) interpolate to 110 in
     * February; s1 reports February (105), s2 (target 40 every month) does
     * not: February's target is 110 alone. s2 reports March (45) and s1
     * does not: March's target is s2's 40 alone. April: nobody reports:
     * 130 + 40 = 170. */
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "ca", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t.s1, k, mon(2026, 1), NAN, 100);
    fx_set(f, t.s1, k, mon(2026, 4), NAN, 130);
    fx_set(f, t.s1, k, mon(2026, 2), 105, NAN);
    for (int m = 1; m <= 4; m++)
        fx_set(f, t.s2, k, mon(2026, m), NAN, 40);
    fx_set(f, t.s2, k, mon(2026, 3), 45, NAN);
    struct query *q = fx_query(f);
    struct query_series s = series_ok(q, t.sales, k);
    ck_assert_uint_eq(s.count, 4);
    ck_assert_double_eq_tol(s.points[0].target, 140, 1e-12); /* planned 100 + 40 */
    ck_assert_double_eq_tol(s.points[1].target, 110, 1e-12);
    ck_assert_double_eq_tol(s.points[2].target, 40, 1e-12);
    ck_assert_double_eq_tol(s.points[3].target, 170, 1e-12);
    query_series_free(&s);
    /* As of March: P = March, 45 vs 40 = +12.5 %; the window's targets for
     * the trend of targets are not needed (April is the deadline, 170):
     * required (170 - 40) / 1 = 130. */
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 3, 31));
    ck_assert_double_eq_tol(r.actual, 45, 1e-12);
    ck_assert_double_eq_tol(r.gap, 0.125, 1e-12);
    ck_assert_double_eq_tol(r.required_slope, 130, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_cascade_gap_compares_planned_targets)
{
    /* The company has its own April target 800,000; its child, the sales
     * division, rolls up s1 + s2 + s3 = 805,000 planned. s3 has not
     * reported April: the division's like-for-like target is 570,000, but
     * the cascade compares plans: (805,000 - 800,000) / 800,000 = +0.625 %.
     * The company's own gap uses its own target: 570,000 vs 800,000. */
    struct fx *f = fx_new();
    struct tree t;
    size_t k;
    struct query *q = three_sales_teams(f, &t, &k);
    query_free(q);
    fx_set(f, t.co, k, mon(2026, 4), NAN, 800000);
    q = fx_query(f);
    struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, 4, 30));
    ck_assert_double_eq_tol(r.children_target, 805000, 1e-6);
    ck_assert_double_eq_tol(r.cascade_target, 800000, 1e-6);
    ck_assert_double_eq_tol(r.cascade_gap, 5000.0 / 800000, 1e-12);
    ck_assert_double_eq_tol(r.target, 800000, 1e-6);
    ck_assert_double_eq_tol(r.gap, -230000.0 / 800000, 1e-12);
    ck_assert(!r.target_rolled_up);
    /* The division's own evaluation is like for like. */
    ck_assert_double_eq_tol(eval_ok(q, t.sales, k, at_day(2026, 4, 30)).target, 570000, 1e-6);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_lfl_alert_since_uses_each_as_of)
{
    /* s3 reported January..March and stops; s1 and s2 report every month
     * through April at 95 % of plan (s1 285,000, s2 256,500 against 300,000
     * and 270,000). Each month's like-for-like gap is -5 % (at the amber
     * limit, on track with the 1e-9 tolerance); the company is never
     * at_risk because s3's silence is not counted against it. */
    struct fx *f = fx_new();
    struct tree t = tree_of(f);
    size_t k = fx_ind(f, "ca", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    for (int m = 1; m <= 4; m++) {
        fx_set(f, t.s1, k, mon(2026, m), 285000, 300000);
        fx_set(f, t.s2, k, mon(2026, m), 256500, 270000);
        fx_set(f, t.s3, k, mon(2026, m), m <= 3 ? 223250 : NAN, 235000);
    }
    struct query *q = fx_query(f);
    for (int m = 1; m <= 4; m++) {
        struct query_indicator r = eval_ok(q, t.co, k, at_day(2026, m, 28));
        ck_assert_double_eq_tol(r.gap, -0.05, 1e-12);
        ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    }
    struct query_alert_list l;
    struct query_options o = at_day(2026, 4, 30);
    struct kpi_error err = {0};
    ck_assert_int_eq(query_alerts(q, &o, NULL, &l, &err), 0);
    for (size_t i = 0; i < l.count; i++)
        ck_assert_msg(l.items[i].kind != QUERY_ALERT_OFF_TRACK &&
                          l.items[i].kind != QUERY_ALERT_AT_RISK,
                      "unexpected alert %s", l.items[i].id);
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_like_for_like");
    TCase *tc = tcase_create("like_for_like");
    tcase_add_test(tc, test_lfl_late_child_left_out_of_both_sides);
    tcase_add_test(tc, test_lfl_values_after_as_of_do_not_count);
    tcase_add_test(tc, test_lfl_late_child_counts_once_it_reports);
    tcase_add_test(tc, test_lfl_mean_of_reporting_children_targets);
    tcase_add_test(tc, test_lfl_reporting_child_without_target);
    tcase_add_test(tc, test_lfl_interpolated_child_target_counts_where_it_reports);
    tcase_add_test(tc, test_lfl_cascade_gap_compares_planned_targets);
    tcase_add_test(tc, test_lfl_alert_since_uses_each_as_of);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
