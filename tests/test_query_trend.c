/* Tests of query/: the trend (SPEC §5): least squares over the window's
 * observed periods, change, direction, flat threshold, window size. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* A monthly up indicator of one team with values from January 2026 on
 * (NAN = no observation that month). */
static struct query *months(struct fx *f, const double *v, size_t n, enum kpi_direction dir)
{
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    f->inds[k].direction = dir;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            fx_set(f, t, k, mon(2026, 1) + (int64_t)i, v[i], NAN);
    return fx_query(f);
}

START_TEST(test_trend_linear_series)
{
    struct fx *f = fx_new();
    double v[] = {10, 12, 14, 16, 18, 20};
    struct query *q = months(f, v, 6, KPI_DIRECTION_UP);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(r.trend.set);
    ck_assert_double_eq_tol(r.trend.slope, 2, 1e-12);
    /* mean 15: change = 2 * 5 / 15 */
    ck_assert_double_eq_tol(r.trend.change, 10.0 / 15, 1e-12);
    ck_assert_int_eq(r.trend.direction, QUERY_IMPROVING);
    ck_assert_uint_eq(r.trend.window, 6);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_gaps_inside_window_use_observed_periods)
{
    struct fx *f = fx_new();
    /* x = 0, 2, 5 (Jan, Mar, Jun), y = 10, 15, 20: mean x 7/3, mean y 15,
     * Sxy = (-7/3)(-5) + (-1/3)(0) + (8/3)(5) = 25, Sxx = 114/9,
     * slope = 225/114; change = slope * 5 / 15. A value of December 2025
     * lies outside the 6-month window and is ignored. */
    double v[] = {10, NAN, 15, NAN, NAN, 20};
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2025, 12), 1000, NAN);
    for (size_t i = 0; i < 6; i++)
        if (!isnan(v[i]))
            fx_set(f, t, k, mon(2026, 1) + (int64_t)i, v[i], NAN);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 6, 1));
    ck_assert_double_eq_tol(r.trend.slope, 225.0 / 114, 1e-12);
    ck_assert_double_eq_tol(r.trend.change, 225.0 / 114 * 5 / 15, 1e-12);
    ck_assert_int_eq(r.trend.direction, QUERY_IMPROVING);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_window_option_limits_periods)
{
    struct fx *f = fx_new();
    double v[] = {50, 12, 14, 16, 18, 20};
    struct query *q = months(f, v, 6, KPI_DIRECTION_UP);
    struct query_options o = at_day(2026, 6, 30);
    o.window = 3; /* April to June: 16, 18, 20; mean 18; change 2 * 2 / 18 */
    struct query_indicator r = eval_ok(q, 0, 0, o);
    ck_assert_double_eq_tol(r.trend.slope, 2, 1e-12);
    ck_assert_double_eq_tol(r.trend.change, 4.0 / 18, 1e-12);
    ck_assert_uint_eq(r.trend.window, 3);
    o.window = 1; /* one period: never a trend */
    r = eval_ok(q, 0, 0, o);
    ck_assert(!r.trend.set);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_small_change_is_flat)
{
    struct fx *f = fx_new();
    /* Sxy = 2.5 * 0.5 = 1.25, Sxx = 17.5: slope 1/14; mean 600.5 / 6;
     * change = (1/14) * 5 / 100.0833 = 0.0035685 < 0.01. */
    double v[] = {100, 100, 100, 100, 100, 100.5};
    struct query *q = months(f, v, 6, KPI_DIRECTION_UP);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_double_eq_tol(r.trend.slope, 1.0 / 14, 1e-12);
    ck_assert_double_eq_tol(r.trend.change, (1.0 / 14) * 5 / (600.5 / 6), 1e-12);
    ck_assert_int_eq(r.trend.direction, QUERY_FLAT);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_constant_series_has_zero_slope)
{
    struct fx *f = fx_new();
    double v[] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    struct query *q = months(f, v, 6, KPI_DIRECTION_UP);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(r.trend.slope == 0);
    ck_assert(r.trend.change == 0);
    ck_assert_int_eq(r.trend.direction, QUERY_FLAT);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_change_at_threshold_is_not_flat)
{
    struct fx *f = fx_new();
    /* 99.5 then 100.5: slope 1, mean 100, window 2: change = 1 * 1 / 100. */
    double v[] = {NAN, 99.5, 100.5};
    struct query *q = months(f, v, 3, KPI_DIRECTION_UP);
    struct query_options o = at_day(2026, 3, 31);
    o.window = 2;
    struct query_indicator r = eval_ok(q, 0, 0, o);
    ck_assert_double_eq_tol(r.trend.change, 0.01, 1e-15);
    ck_assert_int_eq(r.trend.direction, QUERY_IMPROVING);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_zero_mean_gives_zero_change)
{
    struct fx *f = fx_new();
    double v[] = {-1, 1};
    struct query *q = months(f, v, 2, KPI_DIRECTION_UP);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 2, 28));
    ck_assert_double_eq_tol(r.trend.slope, 2, 1e-12);
    ck_assert(r.trend.change == 0);
    ck_assert_int_eq(r.trend.direction, QUERY_FLAT);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_trend_direction_follows_indicator_direction)
{
    struct fx *f = fx_new();
    double down[] = {20, 18, 16, 14, 12, 10};
    struct query *q = months(f, down, 6, KPI_DIRECTION_DOWN);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_double_eq_tol(r.trend.slope, -2, 1e-12);
    /* change keeps the slope's sign: -2 * 5 / 15 */
    ck_assert_double_eq_tol(r.trend.change, -10.0 / 15, 1e-12);
    ck_assert_int_eq(r.trend.direction, QUERY_IMPROVING); /* lower is better */
    query_free(q);
    free(f);

    f = fx_new();
    q = months(f, down, 6, KPI_DIRECTION_UP);
    r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_int_eq(r.trend.direction, QUERY_WORSENING);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_trend");
    TCase *tc = tcase_create("trend");
    tcase_add_test(tc, test_trend_linear_series);
    tcase_add_test(tc, test_trend_gaps_inside_window_use_observed_periods);
    tcase_add_test(tc, test_trend_window_option_limits_periods);
    tcase_add_test(tc, test_trend_small_change_is_flat);
    tcase_add_test(tc, test_trend_constant_series_has_zero_slope);
    tcase_add_test(tc, test_trend_change_at_threshold_is_not_flat);
    tcase_add_test(tc, test_trend_zero_mean_gives_zero_change);
    tcase_add_test(tc, test_trend_direction_follows_indicator_direction);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
