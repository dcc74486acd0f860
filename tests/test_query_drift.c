/* Tests of query/: team drift (SPEC §5): weighted mean of shortfalls,
 * per family, status counts, coverage and missing families, all teams. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* One team "t" with five indicators (ids sorted): cost (financial, down),
 * fte (human, no target), misc (no family), nps (customer), rev
 * (financial, weight 2). */
static struct query *five(struct fx *f)
{
    size_t t = fx_team(f, "t", "T", "");
    size_t cost = fx_ind(f, "cost", "Costs", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    size_t fte = fx_ind(f, "fte", "FTE", KPI_FAMILY_HUMAN, KPI_PERIOD_MONTH);
    size_t misc = fx_ind(f, "misc", "Misc", KPI_FAMILY_NONE, KPI_PERIOD_MONTH);
    size_t nps = fx_ind(f, "nps", "NPS", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    size_t rev = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    f->inds[cost].direction = KPI_DIRECTION_DOWN;
    f->inds[rev].weight = 2;
    fx_set(f, t, cost, mon(2026, 3), 90, 100); /* +0.1, on track */
    fx_set(f, t, fte, mon(2026, 3), 10, NAN);  /* no target */
    fx_set(f, t, misc, mon(2026, 3), 50, 100); /* -0.5, off track */
    fx_set(f, t, nps, mon(2026, 3), 90, 100);  /* -0.1, at risk */
    fx_set(f, t, rev, mon(2026, 3), 80, 100);  /* -0.2, off track */
    return fx_query(f);
}

START_TEST(test_drift_weighted_mean_of_shortfalls)
{
    struct fx *f = fx_new();
    struct query *q = five(f);
    struct query_options o = at_day(2026, 3, 31);
    struct query_drift d;
    ck_assert_int_eq(query_team_drift(q, 0, &o, true, &d, NULL), 0);
    ck_assert_str_eq(d.team_id, "t");
    /* (2 * 0.2 + 1 * 0 + 1 * 0.1 + 1 * 0.5) / (2 + 1 + 1 + 1) = 0.2 */
    ck_assert_double_eq_tol(d.drift, 0.2, 1e-12);
    /* financial: (2 * 0.2 + 0) / 3; customer 0.1; human, process null */
    ck_assert_double_eq_tol(d.families[KPI_FAMILY_FINANCIAL], 0.4 / 3, 1e-12);
    ck_assert_double_eq_tol(d.families[KPI_FAMILY_CUSTOMER], 0.1, 1e-12);
    ck_assert(isnan(d.families[KPI_FAMILY_HUMAN]));
    ck_assert(isnan(d.families[KPI_FAMILY_PROCESS]));
    ck_assert_uint_eq(d.status_counts[QUERY_OFF_TRACK], 2);
    ck_assert_uint_eq(d.status_counts[QUERY_AT_RISK], 1);
    ck_assert_uint_eq(d.status_counts[QUERY_ON_TRACK], 1);
    ck_assert_uint_eq(d.status_counts[QUERY_NO_TARGET], 1);
    ck_assert_uint_eq(d.status_counts[QUERY_NO_DATA], 0);
    ck_assert(d.covered[KPI_FAMILY_FINANCIAL] && d.covered[KPI_FAMILY_CUSTOMER]);
    ck_assert(!d.covered[KPI_FAMILY_HUMAN] && !d.covered[KPI_FAMILY_PROCESS]);
    ck_assert_uint_eq(d.indicator_count, 5);
    ck_assert_str_eq(d.indicators[0].kpi, "cost");
    ck_assert_str_eq(d.indicators[4].kpi, "rev");
    ck_assert(isnan(d.indicators[4].cascade_gap));
    query_drift_free(&d);
    query_drift_free(NULL);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_drift_null_without_any_gap)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "fte", "FTE", KPI_FAMILY_HUMAN, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 3), 10, NAN);
    fx_set(f, t, k, mon(2026, 12), NAN, 12);
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 1, 31); /* before any observation */
    struct query_drift d;
    ck_assert_int_eq(query_team_drift(q, t, &o, false, &d, NULL), 0);
    ck_assert(isnan(d.drift));
    ck_assert_uint_eq(d.status_counts[QUERY_NO_DATA], 1);
    ck_assert_ptr_null(d.indicators);
    for (int i = 0; i < KPI_FAMILY_COUNT; i++)
        ck_assert(!d.covered[i] && isnan(d.families[i]));
    query_drift_free(&d);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_drift_zero_weights_give_null)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    f->inds[k].weight = 0;
    fx_set(f, t, k, mon(2026, 3), 50, 100);
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 3, 31);
    struct query_drift d;
    ck_assert_int_eq(query_team_drift(q, t, &o, false, &d, NULL), 0);
    ck_assert(isnan(d.drift));
    ck_assert(d.covered[KPI_FAMILY_FINANCIAL]); /* it has a gap */
    query_drift_free(&d);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_drift_over_target_counts_as_zero)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t a = fx_ind(f, "a", "A", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    size_t b = fx_ind(f, "b", "B", KPI_FAMILY_PROCESS, KPI_PERIOD_QUARTER);
    fx_set(f, t, a, mon(2026, 3), 150, 100); /* +0.5: no shortfall */
    fx_set(f, t, b, 2026 * 4, 70, 100);      /* -0.3 in 2026-Q1 */
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 3, 31);
    struct query_drift d;
    ck_assert_int_eq(query_team_drift(q, t, &o, true, &d, NULL), 0);
    ck_assert_double_eq_tol(d.drift, 0.15, 1e-12); /* (0 + 0.3) / 2 */
    ck_assert_double_eq_tol(d.families[KPI_FAMILY_PROCESS], 0.15, 1e-12);
    ck_assert_str_eq(d.indicators[1].period.label, "2026-Q1");
    query_drift_free(&d);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_all_drift_one_summary_per_team)
{
    struct fx *f = fx_new();
    size_t co = fx_team(f, "co", "Company", "");
    size_t t1 = fx_team(f, "t1", "Team 1", "co");
    size_t t2 = fx_team(f, "t2", "Team 2", "co");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t1, k, mon(2026, 3), 80, 100);
    fx_set(f, t2, k, mon(2026, 3), 100, 100);
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 3, 31);
    struct query_drift *all;
    size_t n;
    ck_assert_int_eq(query_all_drift(q, &o, &all, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(all[co].team_id, "co");
    /* co: 180 against 200, gap -0.1 */
    ck_assert_double_eq_tol(all[co].drift, 0.1, 1e-12);
    ck_assert_double_eq_tol(all[t1].drift, 0.2, 1e-12);
    ck_assert_double_eq_tol(all[t2].drift, 0, 1e-12);
    ck_assert_ptr_null(all[co].indicators);
    free(all);
    o.window = 0;
    ck_assert_int_eq(query_all_drift(q, &o, &all, &n, NULL), KPI_EUSAGE);
    struct query_drift d;
    o.window = 6;
    ck_assert_int_eq(query_team_drift(q, 99, &o, true, &d, NULL), KPI_EUSAGE);
    query_drift_free(&d);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_drift");
    TCase *tc = tcase_create("drift");
    tcase_add_test(tc, test_drift_weighted_mean_of_shortfalls);
    tcase_add_test(tc, test_drift_null_without_any_gap);
    tcase_add_test(tc, test_drift_zero_weights_give_null);
    tcase_add_test(tc, test_drift_over_target_counts_as_zero);
    tcase_add_test(tc, test_all_drift_one_summary_per_team);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
