/* Tests of query/: required slope (deadline or target trend), projection and
 * divergence (SPEC §5). */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* One monthly indicator of one team: values from January 2026 (NAN: none)
 * and target points (period, target) pairs. */
static struct query *build(struct fx *f, enum kpi_direction dir, const double *v, size_t nv,
                           const int64_t *tp, const double *tv, size_t nt)
{
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    f->inds[k].direction = dir;
    for (size_t i = 0; i < nv; i++)
        if (!isnan(v[i]))
            fx_set(f, t, k, mon(2026, 1) + (int64_t)i, v[i], NAN);
    for (size_t i = 0; i < nt; i++)
        fx_set(f, t, k, tp[i], NAN, tv[i]);
    return fx_query(f);
}

static const double rising[] = {100, 104, 108, 112, 116, 120};
static const double falling[] = {120, 116, 112, 108, 104, 100};

START_TEST(test_required_slope_to_deadline_from_target_at_p)
{
    struct fx *f = fx_new();
    int64_t tp[] = {mon(2026, 1), mon(2026, 12)};
    double tv[] = {100, 210}; /* +10 a month: target(June) = 150 */
    struct query *q = build(f, KPI_DIRECTION_UP, rising, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_double_eq_tol(r.target, 150, 1e-9);
    ck_assert_double_eq_tol(r.gap, -0.2, 1e-12); /* (120 - 150) / 150 */
    ck_assert_int_eq(r.status, QUERY_OFF_TRACK);
    ck_assert(r.deadline.set);
    ck_assert_str_eq(r.deadline.label, "2026-12");
    ck_assert_str_eq(r.deadline.date, "2026-12-31");
    ck_assert_double_eq_tol(r.required_slope, 10, 1e-9); /* (210 - 150) / 6 */
    ck_assert_double_eq_tol(r.trend.slope, 4, 1e-12);
    ck_assert(!r.diverging);                                      /* both positive */
    ck_assert_double_eq_tol(r.projected, 144, 1e-9);              /* 120 + 4 * 6 */
    ck_assert_double_eq_tol(r.projected_gap, -66.0 / 210, 1e-12); /* (144 - 210) / 210 */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_required_slope_only_future_deadline_uses_actual)
{
    struct fx *f = fx_new();
    int64_t tp[] = {mon(2026, 12)};
    double tv[] = {200};
    struct query *q = build(f, KPI_DIRECTION_UP, rising, 6, tp, tv, 1);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(isnan(r.target)); /* before the first target point */
    ck_assert_int_eq(r.status, QUERY_NO_TARGET);
    ck_assert_str_eq(r.deadline.label, "2026-12");
    ck_assert_double_eq_tol(r.required_slope, 80.0 / 6, 1e-9); /* (200 - 120) / 6 */
    ck_assert_double_eq_tol(r.projected, 144, 1e-9);
    ck_assert_double_eq_tol(r.projected_gap, -0.28, 1e-12); /* (144 - 200) / 200 */
    ck_assert_double_eq_tol(r.deadline_target, 200, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_diverging_when_trend_opposes_required_slope)
{
    struct fx *f = fx_new();
    int64_t tp[] = {mon(2026, 1), mon(2026, 12)};
    double tv[] = {100, 210};
    struct query *q = build(f, KPI_DIRECTION_UP, falling, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_double_eq_tol(r.trend.slope, -4, 1e-12);
    ck_assert_int_eq(r.trend.direction, QUERY_WORSENING);
    ck_assert_double_eq_tol(r.required_slope, 10, 1e-9);
    ck_assert(r.diverging);
    ck_assert_double_eq_tol(r.projected, 76, 1e-9); /* 100 - 4 * 6 */
    ck_assert_double_eq_tol(r.projected_gap, (76.0 - 210) / 210, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_required_slope_without_deadline_is_target_trend)
{
    struct fx *f = fx_new();
    /* Target points January and June only: the window January..June has
     * the interpolated targets 100, 102, ..., 110, slope 2. No point after
     * June: no deadline, no projection. */
    int64_t tp[] = {mon(2026, 1), mon(2026, 6)};
    double tv[] = {100, 110};
    struct query *q = build(f, KPI_DIRECTION_UP, falling, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(!r.deadline.set);
    ck_assert_double_eq_tol(r.required_slope, 2, 1e-9);
    ck_assert(isnan(r.projected));
    ck_assert(isnan(r.projected_gap));
    ck_assert(r.diverging); /* slope -4 against +2 */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_required_slope_target_at_p_last_point_uses_window)
{
    struct fx *f = fx_new();
    /* Targets March 100 and June 110: window targets March..June are 100,
     * 103.33, 106.67, 110: slope 10/3. */
    int64_t tp[] = {mon(2026, 3), mon(2026, 6)};
    double tv[] = {100, 110};
    struct query *q = build(f, KPI_DIRECTION_UP, rising, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_double_eq_tol(r.required_slope, 10.0 / 3, 1e-9);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_required_slope_null_with_one_target_in_window)
{
    struct fx *f = fx_new();
    int64_t tp[] = {mon(2026, 6)};
    double tv[] = {150};
    struct query *q = build(f, KPI_DIRECTION_UP, falling, 6, tp, tv, 1);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(isnan(r.required_slope));
    ck_assert(!r.diverging);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_zero_required_slope_is_not_diverging)
{
    struct fx *f = fx_new();
    int64_t tp[] = {mon(2026, 1), mon(2026, 12)};
    double tv[] = {100, 100};
    struct query *q = build(f, KPI_DIRECTION_UP, falling, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(r.required_slope == 0);
    ck_assert_int_eq(r.trend.direction, QUERY_WORSENING);
    ck_assert(!r.diverging);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_flat_trend_is_not_diverging)
{
    struct fx *f = fx_new();
    double v[] = {100, 100, 100, 100, 100, 99.9};
    int64_t tp[] = {mon(2026, 1), mon(2026, 12)};
    double tv[] = {100, 210};
    struct query *q = build(f, KPI_DIRECTION_UP, v, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert(r.trend.slope < 0);
    ck_assert_int_eq(r.trend.direction, QUERY_FLAT);
    ck_assert(!r.diverging);
    /* The projection still uses the (small) slope: 99.9 + slope * 6, where
     * slope = Sxy / Sxx = (2.5 * -0.1) / 17.5. */
    ck_assert_double_eq_tol(r.projected, 99.9 - 0.25 / 17.5 * 6, 1e-9);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_down_direction_falling_to_lower_target_is_not_diverging)
{
    struct fx *f = fx_new();
    /* Costs: target 200 in January, 90 in December (-10 a month), so 150 in
     * June; actual 100 beats it. Required (90 - 150) / 6 = -10, slope -4. */
    int64_t tp[] = {mon(2026, 1), mon(2026, 12)};
    double tv[] = {200, 90};
    struct query *q = build(f, KPI_DIRECTION_DOWN, falling, 6, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_double_eq_tol(r.gap, 50.0 / 150, 1e-12); /* -(100 - 150) / 150 */
    ck_assert_double_eq_tol(r.required_slope, -10, 1e-9);
    ck_assert_int_eq(r.trend.direction, QUERY_IMPROVING);
    ck_assert(!r.diverging);
    /* projected 100 - 24 = 76 against 90: -(76 - 90) / 90 */
    ck_assert_double_eq_tol(r.projected, 76, 1e-9);
    ck_assert_double_eq_tol(r.projected_gap, 14.0 / 90, 1e-12);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_deadline_counts_periods_from_p_not_as_of)
{
    struct fx *f = fx_new();
    double v[] = {100, 104, 108, 112}; /* January to April */
    int64_t tp[] = {mon(2026, 1), mon(2026, 12)};
    double tv[] = {100, 210};
    struct query *q = build(f, KPI_DIRECTION_UP, v, 4, tp, tv, 2);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 30));
    ck_assert_str_eq(r.period.label, "2026-04");
    /* target(April) = 130; (210 - 130) / 8; projected 112 + 4 * 8 */
    ck_assert_double_eq_tol(r.required_slope, 10, 1e-9);
    ck_assert_double_eq_tol(r.projected, 144, 1e-9);
    ck_assert(!r.stale); /* June - April = 2 */
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_slope");
    TCase *tc = tcase_create("slope");
    tcase_add_test(tc, test_required_slope_to_deadline_from_target_at_p);
    tcase_add_test(tc, test_required_slope_only_future_deadline_uses_actual);
    tcase_add_test(tc, test_diverging_when_trend_opposes_required_slope);
    tcase_add_test(tc, test_required_slope_without_deadline_is_target_trend);
    tcase_add_test(tc, test_required_slope_target_at_p_last_point_uses_window);
    tcase_add_test(tc, test_required_slope_null_with_one_target_in_window);
    tcase_add_test(tc, test_zero_required_slope_is_not_diverging);
    tcase_add_test(tc, test_flat_trend_is_not_diverging);
    tcase_add_test(tc, test_down_direction_falling_to_lower_target_is_not_diverging);
    tcase_add_test(tc, test_deadline_counts_periods_from_p_not_as_of);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
