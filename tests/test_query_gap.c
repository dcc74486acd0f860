/* Tests of query/: gap and status (SPEC §5), directions, zero and negative
 * targets, the 1e-9 tolerance at the amber and red thresholds. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* One team, one indicator, one period with the given value and target. */
static struct query_indicator one(double value, double target, enum kpi_direction dir)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    f->inds[k].direction = dir;
    fx_set(f, t, k, mon(2026, 3), value, target);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 3, 10));
    query_free(q);
    free(f);
    return r;
}

START_TEST(test_gap_at_amber_threshold_is_on_track)
{
    struct query_indicator r = one(95, 100, KPI_DIRECTION_UP); /* gap -0.05 */
    ck_assert_double_eq_tol(r.gap, -0.05, 1e-12);
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    r = one(0.95, 1, KPI_DIRECTION_UP); /* -0.050000000000000044 in doubles */
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
}
END_TEST

START_TEST(test_gap_between_amber_and_red_is_at_risk)
{
    struct query_indicator r = one(94, 100, KPI_DIRECTION_UP);
    ck_assert_double_eq_tol(r.gap, -0.06, 1e-12);
    ck_assert_int_eq(r.status, QUERY_AT_RISK);
    r = one(0.9, 1, KPI_DIRECTION_UP); /* exactly -red, up to rounding */
    ck_assert_int_eq(r.status, QUERY_AT_RISK);
}
END_TEST

START_TEST(test_gap_beyond_red_is_off_track)
{
    struct query_indicator r = one(89, 100, KPI_DIRECTION_UP);
    ck_assert_double_eq_tol(r.gap, -0.11, 1e-12);
    ck_assert_int_eq(r.status, QUERY_OFF_TRACK);
}
END_TEST

START_TEST(test_gap_down_direction_negates)
{
    /* Costs 110 against 100, lower is better: gap -(110 - 100) / 100. */
    struct query_indicator r = one(110, 100, KPI_DIRECTION_DOWN);
    ck_assert_double_eq_tol(r.gap, -0.10, 1e-12);
    ck_assert_int_eq(r.status, QUERY_AT_RISK);
    r = one(90, 100, KPI_DIRECTION_DOWN);
    ck_assert_double_eq_tol(r.gap, 0.10, 1e-12);
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    r = one(100, 100, KPI_DIRECTION_DOWN); /* on target: 0, not -0 */
    ck_assert(r.gap == 0 && !signbit(r.gap));
}
END_TEST

START_TEST(test_gap_zero_target_is_difference)
{
    struct query_indicator r = one(3, 0, KPI_DIRECTION_UP);
    ck_assert_double_eq_tol(r.gap, 3, 1e-12);
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    r = one(-2, 0, KPI_DIRECTION_UP);
    ck_assert_double_eq_tol(r.gap, -2, 1e-12);
    ck_assert_int_eq(r.status, QUERY_OFF_TRACK);
    r = one(3, 0, KPI_DIRECTION_DOWN); /* 3 incidents where 0 was the goal */
    ck_assert_double_eq_tol(r.gap, -3, 1e-12);
    ck_assert_int_eq(r.status, QUERY_OFF_TRACK);
}
END_TEST

START_TEST(test_gap_negative_target_uses_absolute_value)
{
    /* (-90 - -100) / |-100| = 0.1: a smaller loss is better. */
    struct query_indicator r = one(-90, -100, KPI_DIRECTION_UP);
    ck_assert_double_eq_tol(r.gap, 0.1, 1e-12);
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
}
END_TEST

START_TEST(test_no_target_has_null_gap)
{
    struct query_indicator r = one(42, NAN, KPI_DIRECTION_UP);
    ck_assert_double_eq_tol(r.actual, 42, 1e-12);
    ck_assert(isnan(r.target));
    ck_assert(isnan(r.gap));
    ck_assert_int_eq(r.status, QUERY_NO_TARGET);
}
END_TEST

START_TEST(test_custom_tolerances_are_used)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    f->inds[k].amber = 0.02;
    f->inds[k].red = 0.04;
    fx_set(f, t, k, mon(2026, 3), 97, 100); /* gap -0.03 */
    fx_set(f, t, k, mon(2026, 4), 95, 100); /* gap -0.05 */
    struct query *q = fx_query(f);
    ck_assert_int_eq(eval_ok(q, t, k, at_day(2026, 3, 1)).status, QUERY_AT_RISK);
    ck_assert_int_eq(eval_ok(q, t, k, at_day(2026, 4, 1)).status, QUERY_OFF_TRACK);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_status_names)
{
    ck_assert_str_eq(query_status_name(QUERY_NO_DATA), "no_data");
    ck_assert_str_eq(query_status_name(QUERY_NO_TARGET), "no_target");
    ck_assert_str_eq(query_status_name(QUERY_ON_TRACK), "on_track");
    ck_assert_str_eq(query_status_name(QUERY_AT_RISK), "at_risk");
    ck_assert_str_eq(query_status_name(QUERY_OFF_TRACK), "off_track");
    ck_assert_str_eq(query_status_name((enum query_status)9), "");
    ck_assert_str_eq(query_direction_name(QUERY_WORSENING), "worsening");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_gap");
    TCase *tc = tcase_create("gap");
    tcase_add_test(tc, test_gap_at_amber_threshold_is_on_track);
    tcase_add_test(tc, test_gap_between_amber_and_red_is_at_risk);
    tcase_add_test(tc, test_gap_beyond_red_is_off_track);
    tcase_add_test(tc, test_gap_down_direction_negates);
    tcase_add_test(tc, test_gap_zero_target_is_difference);
    tcase_add_test(tc, test_gap_negative_target_uses_absolute_value);
    tcase_add_test(tc, test_no_target_has_null_gap);
    tcase_add_test(tc, test_custom_tolerances_are_used);
    tcase_add_test(tc, test_status_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
