/* common/date.c: the date texts of SPEC §2, built-in and strptime. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Day numbers computed by hand from 2026-01-01 = 20454 (see
 * test_common_periods.c): January has 31 days, February 2026 28. */
#define D_2026_01_13 20466
#define D_2026_01_31 20484
#define D_2026_02_01 20485
#define D_2026_03_31 20543 /* 20454 + 31 + 28 + 31 - 1 */
#define D_2026_12_31 20818 /* 20454 + 364 */
#define D_2024_02_29 19782 /* 2024-01-01 = 20454 - 366 - 365 = 19723, + 59 */

static const char builtin_expected[] =
    "(expected YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY, YYYY-Www or DD/MM/YYYY)";

/* The last day a text names; fails the test when it does not parse. */
static int64_t parse_ok(const char *text, const char *format)
{
    struct kpi_error err = {0};
    int64_t day = -999999;
    int rc = kpi_date_parse(text, format, &day, &err);
    ck_assert_msg(rc == 0, "\"%s\" should parse: %s", text, err.message);
    return day;
}

/* Asserts that text does not parse, with KPI_EINPUT and a message naming it. */
static void parse_bad(const char *text, const char *format)
{
    struct kpi_error err = {0};
    int64_t day = 12345;
    int rc = kpi_date_parse(text, format, &day, &err);
    ck_assert_msg(rc == KPI_EINPUT, "\"%s\" should not parse (rc %d)", text, rc);
    ck_assert_int_eq(err.code, KPI_EINPUT);
    ck_assert_int_eq(day, 12345); /* untouched */
    ck_assert_ptr_nonnull(strstr(err.message, "invalid date \""));
}

START_TEST(test_date_iso_day)
{
    ck_assert_int_eq(parse_ok("2026-01-31", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("1970-01-01", NULL), 0);
    ck_assert_int_eq(parse_ok("2024-02-29", NULL), D_2024_02_29);
}
END_TEST

START_TEST(test_date_iso_datetime_ignores_time)
{
    ck_assert_int_eq(parse_ok("2026-01-31T23:59:59Z", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("2026-01-31T00:00:00", NULL), D_2026_01_31);
}
END_TEST

START_TEST(test_date_month_means_its_last_day)
{
    ck_assert_int_eq(parse_ok("2026-01", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("2026-02", NULL), D_2026_02_01 + 27);
    ck_assert_int_eq(parse_ok("2024-02", NULL), D_2024_02_29);
}
END_TEST

START_TEST(test_date_quarter_means_its_last_day)
{
    ck_assert_int_eq(parse_ok("2026-Q1", NULL), D_2026_03_31);
    ck_assert_int_eq(parse_ok("2026-Q4", NULL), D_2026_12_31);
}
END_TEST

START_TEST(test_date_year_means_december_31)
{
    ck_assert_int_eq(parse_ok("2026", NULL), D_2026_12_31);
}
END_TEST

START_TEST(test_date_iso_week_means_its_sunday)
{
    /* 2026-W01 is Mon 2025-12-29 .. Sun 2026-01-04; W05 ends Sun 2026-02-01 */
    ck_assert_int_eq(parse_ok("2026-W01", NULL), 20454 + 3);
    ck_assert_int_eq(parse_ok("2026-W05", NULL), D_2026_02_01);
    /* 2026 starts on a Thursday, so it has a week 53, ending 2027-01-03 */
    ck_assert_int_eq(parse_ok("2026-W53", NULL), D_2026_12_31 + 3);
    /* 2020 is leap and starts on a Wednesday: W53 ends Sun 2021-01-03 */
    ck_assert_int_eq(parse_ok("2020-W53", NULL), kpi_day_from_ymd(2021, 1, 3));
}
END_TEST

START_TEST(test_date_european_never_month_first)
{
    ck_assert_int_eq(parse_ok("31/01/2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("01/02/2026", NULL), D_2026_02_01); /* 1 Feb, not 2 Jan */
    ck_assert_int_eq(parse_ok("1/2/2026", NULL), D_2026_02_01);
    ck_assert_int_eq(parse_ok("13/01/2026", NULL), D_2026_01_13);
    parse_bad("01/13/2026", NULL); /* would be a valid MM/DD date */
}
END_TEST

START_TEST(test_date_surrounding_blanks_ignored)
{
    ck_assert_int_eq(parse_ok("  2026-01-31 \t", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("\t2026-Q1\r\n", NULL), D_2026_03_31);
}
END_TEST

START_TEST(test_date_impossible_days_rejected)
{
    parse_bad("2026-02-30", NULL);
    parse_bad("2023-02-29", NULL);
    parse_bad("2026-04-31", NULL);
    parse_bad("31/02/2026", NULL);
    parse_bad("0/01/2026", NULL);
    parse_bad("2026-13", NULL);
    parse_bad("2026-00", NULL);
    parse_bad("2026-13-01", NULL);
    parse_bad("0000-01-01", NULL);
}
END_TEST

START_TEST(test_date_bad_quarter_and_week_rejected)
{
    parse_bad("2026-Q5", NULL);
    parse_bad("2026-Q0", NULL);
    parse_bad("2026-Q12", NULL);
    parse_bad("2026-W54", NULL);
    parse_bad("2026-W00", NULL);
    parse_bad("2026-W5", NULL);
    parse_bad("2027-W53", NULL); /* 2027 starts on a Friday: 52 weeks */
    parse_bad("2021-W53", NULL);
}
END_TEST

START_TEST(test_date_bad_time_rejected)
{
    parse_bad("2026-01-01T25:00:00", NULL);
    parse_bad("2026-01-01T12:60:00", NULL);
    parse_bad("2026-01-01T12:00", NULL);
    parse_bad("2026-01-01T12:00:00+01:00", NULL);
}
END_TEST

START_TEST(test_date_malformed_texts_rejected)
{
    parse_bad("", NULL);
    parse_bad("   ", NULL);
    parse_bad("x", NULL);
    parse_bad("2026-1-5", NULL);
    parse_bad("20260131", NULL);
    parse_bad("2026-01-31x", NULL);
    parse_bad("2026-01-31 junk", NULL);
    parse_bad("26", NULL);
    parse_bad("2026/01/31", NULL);
    parse_bad("1/2/26", NULL);
}
END_TEST

START_TEST(test_date_error_message_says_what_was_expected)
{
    struct kpi_error err = {0};
    int64_t day;
    ck_assert_int_eq(kpi_date_parse("2026-13-01", NULL, &day, &err), KPI_EINPUT);
    ck_assert_str_eq(err.message, "invalid date \"2026-13-01\" (expected YYYY-MM-DD, YYYY-MM, "
                                  "YYYY-Qn, YYYY, YYYY-Www or DD/MM/YYYY)");
    ck_assert_int_eq(kpi_date_parse("x", "%d.%m.%Y", &day, &err), KPI_EINPUT);
    ck_assert_str_eq(err.message, "invalid date \"x\" (expected format \"%d.%m.%Y\")");
}
END_TEST

START_TEST(test_date_error_without_err_struct)
{
    int64_t day;
    ck_assert_int_eq(kpi_date_parse("nope", NULL, &day, NULL), KPI_EINPUT);
    ck_assert_int_eq(kpi_date_parse(NULL, NULL, &day, NULL), KPI_EINPUT);
}
END_TEST

START_TEST(test_date_long_text_error_keeps_expectation)
{
    char text[300];
    memset(text, '9', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    struct kpi_error err = {0};
    int64_t day;
    ck_assert_int_eq(kpi_date_parse(text, NULL, &day, &err), KPI_EINPUT);
    size_t len = strlen(err.message);
    size_t tail = strlen(builtin_expected);
    ck_assert_uint_ge(len, tail);
    ck_assert_str_eq(err.message + len - tail, builtin_expected);
}
END_TEST

START_TEST(test_date_strptime_format)
{
    ck_assert_int_eq(parse_ok("31.01.2026", "%d.%m.%Y"), D_2026_01_31);
    ck_assert_int_eq(parse_ok(" 31.01.2026  ", "%d.%m.%Y"), D_2026_01_31);
    ck_assert_int_eq(parse_ok("2026/01/13", "%Y/%m/%d"), D_2026_01_13);
}
END_TEST

START_TEST(test_date_strptime_without_day_means_last_day_of_month)
{
    ck_assert_int_eq(parse_ok("02/2024", "%m/%Y"), D_2024_02_29);
    ck_assert_int_eq(parse_ok("01/2026", "%m/%Y"), D_2026_01_31);
    ck_assert_int_eq(parse_ok("2026", "%Y"), D_2026_12_31); /* no month: the year */
}
END_TEST

START_TEST(test_date_strptime_rejects_leftovers_and_bad_days)
{
    parse_bad("31.01.2026 extra", "%d.%m.%Y");
    parse_bad("30.02.2026", "%d.%m.%Y");
    parse_bad("2026-01-31", "%d.%m.%Y"); /* the format replaces built-in forms */
    parse_bad("", "%d.%m.%Y");
}
END_TEST

static Suite *dates_suite(void)
{
    Suite *s = suite_create("common_dates");
    TCase *good = tcase_create("accepted");
    tcase_add_test(good, test_date_iso_day);
    tcase_add_test(good, test_date_iso_datetime_ignores_time);
    tcase_add_test(good, test_date_month_means_its_last_day);
    tcase_add_test(good, test_date_quarter_means_its_last_day);
    tcase_add_test(good, test_date_year_means_december_31);
    tcase_add_test(good, test_date_iso_week_means_its_sunday);
    tcase_add_test(good, test_date_european_never_month_first);
    tcase_add_test(good, test_date_surrounding_blanks_ignored);
    suite_add_tcase(s, good);
    TCase *bad = tcase_create("rejected");
    tcase_add_test(bad, test_date_impossible_days_rejected);
    tcase_add_test(bad, test_date_bad_quarter_and_week_rejected);
    tcase_add_test(bad, test_date_bad_time_rejected);
    tcase_add_test(bad, test_date_malformed_texts_rejected);
    tcase_add_test(bad, test_date_error_message_says_what_was_expected);
    tcase_add_test(bad, test_date_error_without_err_struct);
    tcase_add_test(bad, test_date_long_text_error_keeps_expectation);
    suite_add_tcase(s, bad);
    TCase *fmt = tcase_create("strptime");
    tcase_add_test(fmt, test_date_strptime_format);
    tcase_add_test(fmt, test_date_strptime_without_day_means_last_day_of_month);
    tcase_add_test(fmt, test_date_strptime_rejects_leftovers_and_bad_days);
    suite_add_tcase(s, fmt);
    return s;
}

int main(void)
{
    return ts_run_suite(dates_suite());
}
