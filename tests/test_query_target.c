/* Tests of query/: target of a period (point, interpolated, none outside), latest point,
 * series points, period kinds (weeks across a year, quarters) and the
 * argument checks. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

START_TEST(test_target_interpolated_between_points)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 1), NAN, 100);
    fx_set(f, t, k, mon(2026, 3), 118, NAN);
    fx_set(f, t, k, mon(2026, 4), NAN, 130);
    struct query *q = fx_query(f);
    /* March lies 2/3 of the way from January (100) to April (130): 120. */
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 3, 15));
    ck_assert_double_eq_tol(r.target, 120, 1e-9);
    ck_assert_double_eq_tol(r.actual, 118, 1e-12);
    /* gap = (118 - 120) / 120 = -0.0166667 */
    ck_assert_double_eq_tol(r.gap, -2.0 / 120, 1e-12);
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_target_none_before_first_or_after_last_point)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 1), 90, NAN);
    fx_set(f, t, k, mon(2026, 2), NAN, 100);
    fx_set(f, t, k, mon(2026, 4), NAN, 120);
    fx_set(f, t, k, mon(2026, 5), 130, NAN);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 1, 31));
    ck_assert(isnan(r.target));
    ck_assert(isnan(r.gap));
    ck_assert_int_eq(r.status, QUERY_NO_TARGET);
    r = eval_ok(q, t, k, at_day(2026, 5, 1));
    ck_assert(isnan(r.target));
    ck_assert_int_eq(r.status, QUERY_NO_TARGET);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_latest_point_is_last_observation_up_to_as_of)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 1), 10, NAN);
    fx_set(f, t, k, mon(2026, 2), 20, NAN);
    fx_set(f, t, k, mon(2026, 6), 60, NAN); /* after the as-of period: unused */
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 4, 10));
    ck_assert(r.period.set);
    ck_assert_str_eq(r.period.label, "2026-02");
    ck_assert_str_eq(r.period.date, "2026-02-28");
    ck_assert_str_eq(r.as_of.label, "2026-04");
    ck_assert_double_eq_tol(r.actual, 20, 1e-12);
    /* Trend over Nov..Apr? No: over the 6 periods ending at P (Sep..Feb):
     * 10 and 20, slope 10. */
    ck_assert(r.trend.set);
    ck_assert_double_eq_tol(r.trend.slope, 10, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_single_observation_has_no_trend_nor_slope)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 3), 50, 40);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 3, 31));
    ck_assert_double_eq_tol(r.actual, 50, 1e-12);
    ck_assert_double_eq_tol(r.target, 40, 1e-12);
    ck_assert_double_eq_tol(r.gap, 0.25, 1e-12); /* (50 - 40) / 40 */
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    ck_assert(!r.trend.set);
    ck_assert(isnan(r.required_slope)); /* one target in the window */
    ck_assert(!r.deadline.set);
    ck_assert(!r.diverging);
    ck_assert(isnan(r.projected));
    ck_assert(isnan(r.projected_gap));
    ck_assert(!r.stale);
    ck_assert(!r.rolled_up);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_series_points_fill_every_period_and_clip)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 1), NAN, 100);
    fx_set(f, t, k, mon(2026, 2), 105, NAN);
    fx_set(f, t, k, mon(2026, 4), NAN, 130);
    fx_set(f, t, k, mon(2026, 6), 140, NAN);
    struct query *q = fx_query(f);
    struct query_series s;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_series_get(q, t, k, INT64_MIN, INT64_MAX, &s, &err), 0);
    ck_assert_uint_eq(s.count, 6); /* January to June */
    ck_assert_str_eq(s.points[0].period.label, "2026-01");
    ck_assert(isnan(s.points[0].value));
    ck_assert_double_eq_tol(s.points[0].target, 100, 1e-12);
    ck_assert_double_eq_tol(s.points[1].value, 105, 1e-12);
    ck_assert_double_eq_tol(s.points[1].target, 110, 1e-9);
    ck_assert_double_eq_tol(s.points[2].target, 120, 1e-9);
    ck_assert(isnan(s.points[4].value));
    ck_assert(isnan(s.points[4].target)); /* after the last target point */
    ck_assert_double_eq_tol(s.points[5].value, 140, 1e-12);
    ck_assert_str_eq(s.points[5].period.date, "2026-06-30");
    ck_assert(!s.points[1].rolled_up);
    query_series_free(&s);
    ck_assert_int_eq(query_series_get(q, t, k, kpi_day_from_ymd(2026, 2, 15),
                                      kpi_day_from_ymd(2026, 4, 1), &s, &err),
                     0);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_str_eq(s.points[0].period.label, "2026-02");
    ck_assert_str_eq(s.points[2].period.label, "2026-04");
    query_series_free(&s);
    ck_assert_int_eq(query_series_get(q, t, k, kpi_day_from_ymd(2026, 5, 1),
                                      kpi_day_from_ymd(2026, 4, 1), &s, &err),
                     0);
    ck_assert_uint_eq(s.count, 0);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_weeks_across_year_boundary)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "tickets", "Tickets", KPI_FAMILY_PROCESS, KPI_PERIOD_WEEK);
    int64_t w52 = kpi_period_of_day(KPI_PERIOD_WEEK, kpi_day_from_ymd(2025, 12, 28));
    int64_t w02 = kpi_period_of_day(KPI_PERIOD_WEEK, kpi_day_from_ymd(2026, 1, 11));
    ck_assert_int_eq(w02 - w52, 2); /* 2025-W52, 2026-W01, 2026-W02 */
    fx_set(f, t, k, w52, 90, 100);
    fx_set(f, t, k, w02, 118, 120);
    struct query *q = fx_query(f);
    struct query_series s;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_series_get(q, t, k, INT64_MIN, INT64_MAX, &s, &err), 0);
    ck_assert_uint_eq(s.count, 3);
    ck_assert_str_eq(s.points[0].period.label, "2025-W52");
    ck_assert_str_eq(s.points[0].period.date, "2025-12-28");
    ck_assert_str_eq(s.points[1].period.label, "2026-W01");
    ck_assert_str_eq(s.points[1].period.date, "2026-01-04");
    ck_assert(isnan(s.points[1].value));
    ck_assert_double_eq_tol(s.points[1].target, 110, 1e-9);
    query_series_free(&s);
    /* As of Wednesday 2026-01-07 (W02): P = W02. Trend: 90 and 118 two
     * weeks apart, slope 14; mean 104; change 14 * 5 / 104. */
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 1, 7));
    ck_assert_str_eq(r.as_of.label, "2026-W02");
    ck_assert_str_eq(r.period.label, "2026-W02");
    ck_assert_str_eq(r.period.date, "2026-01-11");
    ck_assert_double_eq_tol(r.gap, -2.0 / 120, 1e-12);
    ck_assert_double_eq_tol(r.trend.slope, 14, 1e-12);
    ck_assert_double_eq_tol(r.trend.change, 70.0 / 104, 1e-12);
    ck_assert_int_eq(r.trend.direction, QUERY_IMPROVING);
    ck_assert_uint_eq(r.trend.window, 6);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_quarters_label_and_deadline)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "margin", "Margin", KPI_FAMILY_FINANCIAL, KPI_PERIOD_QUARTER);
    int64_t q4_25 = 2025 * 4 + 3, q1 = 2026 * 4, q4 = 2026 * 4 + 3;
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, kpi_day_from_ymd(2026, 2, 1)), q1);
    fx_set(f, t, k, q4_25, 200, NAN);
    fx_set(f, t, k, q1, 210, 200);
    fx_set(f, t, k, q4, NAN, 280);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 5, 15));
    ck_assert_str_eq(r.as_of.label, "2026-Q2");
    ck_assert_str_eq(r.as_of.date, "2026-06-30");
    ck_assert_str_eq(r.period.label, "2026-Q1");
    ck_assert_str_eq(r.period.date, "2026-03-31");
    ck_assert_double_eq_tol(r.gap, 0.05, 1e-12); /* (210 - 200) / 200 */
    ck_assert_int_eq(r.status, QUERY_ON_TRACK);
    ck_assert_str_eq(r.deadline.label, "2026-Q4");
    /* (280 - 200) / 3 quarters */
    ck_assert_double_eq_tol(r.required_slope, 80.0 / 3, 1e-9);
    /* slope 10 per quarter: projected 210 + 10 * 3 = 240, gap -40/280 */
    ck_assert_double_eq_tol(r.projected, 240, 1e-9);
    ck_assert_double_eq_tol(r.projected_gap, -40.0 / 280, 1e-12);
    ck_assert(!r.stale); /* Q1 is 1 quarter before Q2 */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_team_without_series_is_no_data)
{
    struct fx *f = fx_new();
    size_t a = fx_team(f, "a", "A", "");
    size_t b = fx_team(f, "b", "B", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, a, k, mon(2026, 1), 10, 10);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, b, k, at_day(2026, 1, 31));
    ck_assert_int_eq(r.status, QUERY_NO_DATA);
    ck_assert(!r.period.set);
    ck_assert(isnan(r.actual));
    ck_assert(!r.stale);
    ck_assert(!r.trend.set);
    struct query_indicator *items = NULL;
    size_t n = 99;
    struct query_options o = at_day(2026, 1, 31);
    ck_assert_int_eq(query_team_indicators(q, b, &o, &items, &n, NULL), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(items);
    ck_assert_int_eq(query_team_indicators(q, a, &o, &items, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(items[0].kpi, "rev");
    free(items);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_observations_after_as_of_only_is_no_data)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 5), 10, 10);
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 4, 30));
    ck_assert_int_eq(r.status, QUERY_NO_DATA);
    ck_assert(!r.stale);
    ck_assert(isnan(r.target));
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_new_rejects_duplicate_unsorted_and_cyclic_input)
{
    struct fx *f = fx_new();
    size_t a = fx_team(f, "a", "A", "");
    size_t b = fx_team(f, "b", "B", "a");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, a, k, mon(2026, 1), 1, NAN);
    fx_set(f, a, k, mon(2026, 2), 2, NAN);
    (void)b;
    struct query *q = NULL;
    struct kpi_error err = {0};
    struct query_series_data two[2] = {f->series[0], f->series[0]};
    struct query_dataset ds = {f->teams, f->nteams, NULL, f->inds, f->ninds, two, 2, NULL, NULL};
    ck_assert_int_eq(query_new(&ds, &q, &err), KPI_EINPUT);
    ck_assert_ptr_null(q);
    ck_assert_ptr_nonnull(strstr(err.message, "two series"));

    struct kpi_point bad[2] = {{mon(2026, 2), 1, NAN}, {mon(2026, 1), 2, NAN}};
    struct query_series_data unsorted = {a, k, bad, 2};
    ds.series = &unsorted;
    ds.series_count = 1;
    ck_assert_int_eq(query_new(&ds, &q, &err), KPI_EINPUT);

    struct query_series_data out_of_range = {5, k, bad, 1};
    ds.series = &out_of_range;
    ck_assert_int_eq(query_new(&ds, &q, &err), KPI_EINPUT);

    size_t cyclic[2] = {1, 0};
    ds.series_count = 0;
    ds.parents = cyclic;
    ck_assert_int_eq(query_new(&ds, &q, &err), KPI_EINPUT);
    ck_assert_ptr_nonnull(strstr(err.message, "ancestor"));
    ck_assert_ptr_null(q);
    query_free(NULL);
    free(f);
}
END_TEST

START_TEST(test_bad_indices_and_window_are_usage_errors)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 1), 1, NAN);
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 1, 1);
    struct query_indicator r;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_indicator_eval(q, 7, k, &o, &r, &err), KPI_EUSAGE);
    ck_assert_int_eq(query_indicator_eval(q, t, 7, &o, &r, &err), KPI_EUSAGE);
    o.window = 0;
    ck_assert_int_eq(query_indicator_eval(q, t, k, &o, &r, &err), KPI_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.message, "window"));
    struct query_series s;
    ck_assert_int_eq(query_series_get(q, t, 9, INT64_MIN, INT64_MAX, &s, &err), KPI_EUSAGE);
    query_series_free(&s);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_target");
    TCase *tc = tcase_create("target");
    tcase_add_test(tc, test_target_interpolated_between_points);
    tcase_add_test(tc, test_target_none_before_first_or_after_last_point);
    tcase_add_test(tc, test_latest_point_is_last_observation_up_to_as_of);
    tcase_add_test(tc, test_single_observation_has_no_trend_nor_slope);
    tcase_add_test(tc, test_series_points_fill_every_period_and_clip);
    tcase_add_test(tc, test_weeks_across_year_boundary);
    tcase_add_test(tc, test_quarters_label_and_deadline);
    tcase_add_test(tc, test_team_without_series_is_no_data);
    tcase_add_test(tc, test_observations_after_as_of_only_is_no_data);
    tcase_add_test(tc, test_new_rejects_duplicate_unsorted_and_cyclic_input);
    tcase_add_test(tc, test_bad_indices_and_window_are_usage_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
