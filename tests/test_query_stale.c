/* Tests of query/: staleness (SPEC §5) in months, quarters, weeks across a
 * year boundary and years, and stale_after. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

static struct query *series_of(struct fx *f, enum kpi_period_kind kind, const int64_t *p, size_t n)
{
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_PROCESS, kind);
    for (size_t i = 0; i < n; i++)
        fx_set(f, t, k, p[i], 1, NAN);
    return fx_query(f);
}

START_TEST(test_stale_when_p_more_than_stale_after_before_as_of)
{
    struct fx *f = fx_new();
    int64_t p[] = {mon(2026, 1), mon(2026, 2), mon(2026, 3)};
    struct query *q = series_of(f, KPI_PERIOD_MONTH, p, 3);
    ck_assert(eval_ok(q, 0, 0, at_day(2026, 6, 1)).stale);   /* 3 > 2 */
    ck_assert(!eval_ok(q, 0, 0, at_day(2026, 5, 31)).stale); /* 2 */
    ck_assert(!eval_ok(q, 0, 0, at_day(2026, 3, 1)).stale);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_stale_after_option)
{
    struct fx *f = fx_new();
    int64_t p[] = {mon(2026, 3)};
    struct query *q = series_of(f, KPI_PERIOD_MONTH, p, 1);
    struct query_options o = at_day(2026, 4, 1);
    o.stale_after = 0;
    ck_assert(eval_ok(q, 0, 0, o).stale);
    o = at_day(2026, 3, 31);
    o.stale_after = 0;
    ck_assert(!eval_ok(q, 0, 0, o).stale);
    o = at_day(2026, 9, 1);
    o.stale_after = 6;
    ck_assert(!eval_ok(q, 0, 0, o).stale);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_stale_false_without_observation)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "T", "");
    size_t k = fx_ind(f, "x", "X", KPI_FAMILY_PROCESS, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2025, 1), NAN, 100); /* a target, never an actual */
    struct query *q = fx_query(f);
    struct query_indicator r = eval_ok(q, t, k, at_day(2026, 6, 1));
    ck_assert_int_eq(r.status, QUERY_NO_DATA);
    ck_assert(!r.stale);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_stale_in_quarters)
{
    struct fx *f = fx_new();
    int64_t p[] = {2025 * 4}; /* 2025-Q1 */
    struct query *q = series_of(f, KPI_PERIOD_QUARTER, p, 1);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2025, 11, 10)); /* Q4 */
    ck_assert(r.stale);
    ck_assert_str_eq(r.period.label, "2025-Q1");
    ck_assert(!eval_ok(q, 0, 0, at_day(2025, 8, 1)).stale); /* Q3 */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_stale_in_weeks_across_year_boundary)
{
    struct fx *f = fx_new();
    int64_t w51 = kpi_period_of_day(KPI_PERIOD_WEEK, kpi_day_from_ymd(2025, 12, 21));
    struct query *q = series_of(f, KPI_PERIOD_WEEK, &w51, 1);
    /* 2025-W51 -> 2025-W52 -> 2026-W01 -> 2026-W02: 3 weeks */
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 1, 7));
    ck_assert_str_eq(r.period.label, "2025-W51");
    ck_assert_str_eq(r.as_of.label, "2026-W02");
    ck_assert(r.stale);
    ck_assert(!eval_ok(q, 0, 0, at_day(2026, 1, 4)).stale); /* W01: 2 weeks */
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_stale_in_years)
{
    struct fx *f = fx_new();
    int64_t y = 2023;
    struct query *q = series_of(f, KPI_PERIOD_YEAR, &y, 1);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 6, 1));
    ck_assert_str_eq(r.period.label, "2023");
    ck_assert_str_eq(r.period.date, "2023-12-31");
    ck_assert(r.stale);
    ck_assert(!eval_ok(q, 0, 0, at_day(2025, 12, 31)).stale);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_stale_in_days)
{
    struct fx *f = fx_new();
    int64_t d = kpi_day_from_ymd(2026, 2, 27);
    struct query *q = series_of(f, KPI_PERIOD_DAY, &d, 1);
    struct query_indicator r = eval_ok(q, 0, 0, at_day(2026, 3, 2)); /* 3 days */
    ck_assert_str_eq(r.period.label, "2026-02-27");
    ck_assert(r.stale);
    ck_assert(!eval_ok(q, 0, 0, at_day(2026, 3, 1)).stale);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_stale");
    TCase *tc = tcase_create("stale");
    tcase_add_test(tc, test_stale_when_p_more_than_stale_after_before_as_of);
    tcase_add_test(tc, test_stale_after_option);
    tcase_add_test(tc, test_stale_false_without_observation);
    tcase_add_test(tc, test_stale_in_quarters);
    tcase_add_test(tc, test_stale_in_weeks_across_year_boundary);
    tcase_add_test(tc, test_stale_in_years);
    tcase_add_test(tc, test_stale_in_days);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
