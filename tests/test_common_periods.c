/* common/period.c: calendar days, period indices, labels, target of a period. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Day numbers computed by hand: 2026-01-01 is 56 years after 1970 with 14
 * leap days (1972..2024), 56 * 365 + 14 = 20454. */
#define D_2026_01_01 20454
#define D_2025_12_29 20451 /* Monday of 2026-W01 */
#define D_2026_01_31 20484
#define D_2026_02_01 20485
#define D_2026_12_31 20818

static const char *label(enum kpi_period_kind kind, int64_t period, char *buf)
{
    return kpi_period_label(kind, period, buf);
}

static int64_t ymd(int y, int m, int d)
{
    return kpi_day_from_ymd(y, m, d);
}

START_TEST(test_day_from_ymd_known_days)
{
    ck_assert_int_eq(ymd(1970, 1, 1), 0);
    ck_assert_int_eq(ymd(1970, 1, 2), 1);
    ck_assert_int_eq(ymd(1969, 12, 31), -1);
    ck_assert_int_eq(ymd(2000, 1, 1), 10957);
    ck_assert_int_eq(ymd(2026, 1, 1), D_2026_01_01);
    ck_assert_int_eq(ymd(2026, 2, 1), D_2026_02_01);
    ck_assert_int_eq(ymd(1900, 1, 1), -25567);
    ck_assert_int_eq(ymd(1, 1, 1), -719162);
    ck_assert_int_eq(ymd(2024, 3, 1) - ymd(2024, 2, 28), 2); /* leap day */
    ck_assert_int_eq(ymd(1900, 3, 1) - ymd(1900, 2, 28), 1); /* 1900 is not leap */
    ck_assert_int_eq(ymd(2000, 3, 1) - ymd(2000, 2, 28), 2); /* 2000 is */
}
END_TEST

START_TEST(test_ymd_from_day_negative_days)
{
    int y, m, d;
    kpi_ymd_from_day(-1, &y, &m, &d);
    ck_assert_int_eq(y, 1969);
    ck_assert_int_eq(m, 12);
    ck_assert_int_eq(d, 31);
    kpi_ymd_from_day(-719162, &y, &m, &d);
    ck_assert_int_eq(y, 1);
    ck_assert_int_eq(m, 1);
    ck_assert_int_eq(d, 1);
}
END_TEST

START_TEST(test_ymd_round_trip_every_day_years_1_to_9999)
{
    /* Plain comparisons in the loop (check's asserts are slow); the first
     * bad day is reported. */
    int64_t first = ymd(1, 1, 1), last = ymd(9999, 12, 31);
    int64_t bad = INT64_MIN;
    int py = 0, pm = 12, pd = 31;
    for (int64_t day = first; day <= last && bad == INT64_MIN; day++) {
        int y, m, d;
        kpi_ymd_from_day(day, &y, &m, &d);
        bool next; /* consecutive days are consecutive dates */
        if (d == 1)
            next = (y == py && m == pm + 1) || (y == py + 1 && m == 1 && pm == 12);
        else
            next = y == py && m == pm && d == pd + 1;
        if (!next || !kpi_ymd_valid(y, m, d) || ymd(y, m, d) != day)
            bad = day;
        py = y, pm = m, pd = d;
    }
    ck_assert_msg(bad == INT64_MIN, "day %lld does not round-trip", (long long)bad);
}
END_TEST

START_TEST(test_ymd_valid_rejects_impossible_dates)
{
    ck_assert(kpi_ymd_valid(2024, 2, 29));
    ck_assert(kpi_ymd_valid(2000, 2, 29));
    ck_assert(kpi_ymd_valid(1, 1, 1));
    ck_assert(kpi_ymd_valid(9999, 12, 31));
    ck_assert(!kpi_ymd_valid(2023, 2, 29));
    ck_assert(!kpi_ymd_valid(1900, 2, 29));
    ck_assert(!kpi_ymd_valid(2026, 2, 30));
    ck_assert(!kpi_ymd_valid(2026, 4, 31));
    ck_assert(!kpi_ymd_valid(2026, 13, 1));
    ck_assert(!kpi_ymd_valid(2026, 0, 1));
    ck_assert(!kpi_ymd_valid(2026, 1, 0));
    ck_assert(!kpi_ymd_valid(0, 1, 1));
    ck_assert(!kpi_ymd_valid(10000, 1, 1));
}
END_TEST

START_TEST(test_week_index_counts_from_1970_01_05)
{
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, 4), 0);   /* Mon 1970-01-05 */
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, 10), 0);  /* Sun 1970-01-11 */
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, 11), 1);  /* Mon 1970-01-12 */
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, 3), -1);  /* Sun 1970-01-04 */
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, -3), -1); /* Mon 1969-12-29 */
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, -4), -2); /* Sun 1969-12-28 */
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_WEEK, -1), -3);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_WEEK, -1), 3);
    /* 2026-W01 runs from Mon 2025-12-29 to Sun 2026-01-04: (20451 - 4) / 7 */
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_WEEK, D_2026_01_01), 2921);
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_WEEK, 2921), D_2025_12_29);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_WEEK, 2921), D_2025_12_29 + 6);
}
END_TEST

START_TEST(test_month_index_jan_to_dec_is_11)
{
    int64_t jan = kpi_period_of_day(KPI_PERIOD_MONTH, ymd(2026, 1, 15));
    int64_t dec = kpi_period_of_day(KPI_PERIOD_MONTH, ymd(2026, 12, 1));
    ck_assert_int_eq(jan, 2026 * 12);
    ck_assert_int_eq(dec - jan, 11);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_MONTH, ymd(2027, 1, 1)) - dec, 1);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_MONTH, -1), 1969 * 12 + 11);
}
END_TEST

START_TEST(test_quarter_and_year_indices)
{
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, D_2026_01_01), 2026 * 4);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, ymd(2026, 3, 31)), 2026 * 4);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, ymd(2026, 4, 1)), 2026 * 4 + 1);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, D_2026_12_31), 2026 * 4 + 3);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, ymd(2025, 12, 31)), 2026 * 4 - 1);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_QUARTER, -1), 1969 * 4 + 3);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_YEAR, D_2026_12_31), 2026);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_YEAR, -1), 1969);
    ck_assert_int_eq(kpi_period_of_day(KPI_PERIOD_DAY, -42), -42);
}
END_TEST

START_TEST(test_first_and_last_days_of_each_kind)
{
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_DAY, 77), 77);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_DAY, 77), 77);
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_MONTH, 2026 * 12), D_2026_01_01);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_MONTH, 2026 * 12), D_2026_01_31);
    /* February 2026: 2026-02-01 + 27 days; February 2024 has 29 days */
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_MONTH, 2026 * 12 + 1), D_2026_02_01 + 27);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_MONTH, 2024 * 12 + 1), ymd(2024, 2, 29));
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_MONTH, 2025 * 12 + 11), D_2026_01_01 - 1);
    /* Q1 2026: 31 + 28 + 31 days from 2026-01-01 */
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_QUARTER, 2026 * 4), D_2026_01_01);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_QUARTER, 2026 * 4), D_2026_01_01 + 89);
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_QUARTER, 2026 * 4 + 3), ymd(2026, 10, 1));
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_QUARTER, 2026 * 4 + 3), D_2026_12_31);
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_YEAR, 2026), D_2026_01_01);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_YEAR, 2026), D_2026_01_01 + 364);
    ck_assert_int_eq(kpi_period_last_day(KPI_PERIOD_YEAR, 1969), -1);
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_MONTH, 1969 * 12 + 11), -31);
}
END_TEST

START_TEST(test_labels_of_each_kind)
{
    char buf[KPI_LABEL_MAX];
    ck_assert_str_eq(label(KPI_PERIOD_DAY, D_2026_01_31, buf), "2026-01-31");
    ck_assert_str_eq(label(KPI_PERIOD_MONTH, 2026 * 12, buf), "2026-01");
    ck_assert_str_eq(label(KPI_PERIOD_MONTH, 2026 * 12 + 11, buf), "2026-12");
    ck_assert_str_eq(label(KPI_PERIOD_QUARTER, 2026 * 4, buf), "2026-Q1");
    ck_assert_str_eq(label(KPI_PERIOD_QUARTER, 2026 * 4 + 3, buf), "2026-Q4");
    ck_assert_str_eq(label(KPI_PERIOD_QUARTER, 2026 * 4 - 1, buf), "2025-Q4");
    ck_assert_str_eq(label(KPI_PERIOD_YEAR, 2026, buf), "2026");
    ck_assert_str_eq(label(KPI_PERIOD_YEAR, 1, buf), "0001");
    ck_assert_str_eq(kpi_day_label(0, buf), "1970-01-01");
    ck_assert_str_eq(kpi_day_label(-1, buf), "1969-12-31");
    ck_assert_str_eq(kpi_day_label(ymd(9999, 12, 31), buf), "9999-12-31");
}
END_TEST

static const char *week_label_of(int64_t day, char *buf)
{
    return label(KPI_PERIOD_WEEK, kpi_period_of_day(KPI_PERIOD_WEEK, day), buf);
}

START_TEST(test_week_label_across_year_boundary)
{
    char buf[KPI_LABEL_MAX];
    ck_assert_str_eq(week_label_of(D_2026_01_01, buf), "2026-W01"); /* a Thursday */
    ck_assert_str_eq(week_label_of(D_2025_12_29, buf), "2026-W01"); /* its Monday */
    ck_assert_str_eq(week_label_of(ymd(2024, 12, 30), buf), "2025-W01");
    ck_assert_str_eq(week_label_of(ymd(2021, 1, 3), buf), "2020-W53");
    ck_assert_str_eq(week_label_of(ymd(2026, 12, 31), buf), "2026-W53"); /* 2026 has 53 */
    ck_assert_str_eq(week_label_of(ymd(2027, 1, 3), buf), "2026-W53");
    ck_assert_str_eq(week_label_of(ymd(2027, 1, 4), buf), "2027-W01");
    ck_assert_str_eq(week_label_of(D_2026_01_31, buf), "2026-W05");
    /* week 0 (1970-01-05) is 1970-W02: 1970-01-01 is a Thursday, in W01 */
    ck_assert_str_eq(label(KPI_PERIOD_WEEK, 0, buf), "1970-W02");
    ck_assert_str_eq(label(KPI_PERIOD_WEEK, -1, buf), "1970-W01");
    ck_assert_str_eq(label(KPI_PERIOD_WEEK, -2, buf), "1969-W52");
}
END_TEST

START_TEST(test_today_is_a_plausible_utc_day)
{
    int64_t today = kpi_today();
    ck_assert_int_ge(today, ymd(2024, 1, 1));
    ck_assert_int_le(today, ymd(2200, 1, 1));
}
END_TEST

/* Targets at 10 -> 100, 14 -> 140, 20 -> 200; period 12 has only a value. */
static const struct kpi_point sample[] = {
    {10, NAN, 100.0}, {12, 5.0, NAN}, {14, NAN, 140.0}, {16, 7.0, NAN}, {20, 8.0, 200.0},
};
#define SAMPLE_COUNT (sizeof sample / sizeof sample[0])

START_TEST(test_target_at_exact_point)
{
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 10), 100.0, 1e-12);
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 14), 140.0, 1e-12);
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 20), 200.0, 1e-12);
}
END_TEST

START_TEST(test_target_at_interpolates_by_period_index)
{
    /* midway between 10 (100) and 14 (140), over a point with no target */
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 12), 120.0, 1e-12);
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 11), 110.0, 1e-12);
    /* 140 + (200 - 140) * 3 / 6 = 170 at 17; at 16 (a value, no target) 160 */
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 17), 170.0, 1e-12);
    ck_assert_double_eq_tol(kpi_target_at(sample, SAMPLE_COUNT, 16), 160.0, 1e-12);
    const struct kpi_point thirds[] = {{0, NAN, 1.0}, {3, NAN, 2.0}};
    ck_assert_double_eq_tol(kpi_target_at(thirds, 2, 1), 4.0 / 3.0, 1e-12);
}
END_TEST

START_TEST(test_target_at_outside_target_points_is_nan)
{
    ck_assert(isnan(kpi_target_at(sample, SAMPLE_COUNT, 9)));
    ck_assert(isnan(kpi_target_at(sample, SAMPLE_COUNT, 21)));
    ck_assert(isnan(kpi_target_at(sample, SAMPLE_COUNT, -1000)));
    ck_assert(isnan(kpi_target_at(NULL, 0, 5)));
    const struct kpi_point values_only[] = {{1, 3.0, NAN}, {2, 4.0, NAN}};
    ck_assert(isnan(kpi_target_at(values_only, 2, 1)));
    ck_assert(isnan(kpi_target_at(values_only, 2, 2)));
    /* trailing points with values but no target: after the last target point */
    const struct kpi_point tail[] = {{1, NAN, 10.0}, {2, 4.0, NAN}, {3, 4.0, NAN}};
    ck_assert(isnan(kpi_target_at(tail, 3, 2)));
    ck_assert(isnan(kpi_target_at(tail, 3, 3)));
}
END_TEST

START_TEST(test_target_at_single_target_point)
{
    const struct kpi_point one[] = {{5, 1.0, 50.0}};
    ck_assert_double_eq_tol(kpi_target_at(one, 1, 5), 50.0, 1e-12);
    ck_assert(isnan(kpi_target_at(one, 1, 4)));
    ck_assert(isnan(kpi_target_at(one, 1, 6)));
}
END_TEST

static Suite *periods_suite(void)
{
    Suite *s = suite_create("common_periods");
    TCase *days = tcase_create("days");
    tcase_add_test(days, test_day_from_ymd_known_days);
    tcase_add_test(days, test_ymd_from_day_negative_days);
    tcase_add_test(days, test_ymd_round_trip_every_day_years_1_to_9999);
    tcase_add_test(days, test_ymd_valid_rejects_impossible_dates);
    tcase_add_test(days, test_today_is_a_plausible_utc_day);
    suite_add_tcase(s, days);
    TCase *periods = tcase_create("periods");
    tcase_add_test(periods, test_week_index_counts_from_1970_01_05);
    tcase_add_test(periods, test_month_index_jan_to_dec_is_11);
    tcase_add_test(periods, test_quarter_and_year_indices);
    tcase_add_test(periods, test_first_and_last_days_of_each_kind);
    tcase_add_test(periods, test_labels_of_each_kind);
    tcase_add_test(periods, test_week_label_across_year_boundary);
    suite_add_tcase(s, periods);
    TCase *targets = tcase_create("targets");
    tcase_add_test(targets, test_target_at_exact_point);
    tcase_add_test(targets, test_target_at_interpolates_by_period_index);
    tcase_add_test(targets, test_target_at_outside_target_points_is_nan);
    tcase_add_test(targets, test_target_at_single_target_point);
    suite_add_tcase(s, targets);
    return s;
}

int main(void)
{
    return ts_run_suite(periods_suite());
}
