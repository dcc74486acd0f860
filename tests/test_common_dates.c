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
    "(expected YYYY-MM-DD, DD/MM/YYYY, YYYY-MM, MM/YYYY, a month and its year (janv. 2026, "
    "Sep-26), YYYY-Qn, YYYY or YYYY-Www; --date-format reads other forms)";

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

#define D_2026_02_28 20512
#define D_2026_04_30 20573
#define D_2026_05_31 20604
#define D_2026_06_30 20634
#define D_2026_07_31 20665
#define D_2026_08_31 20696
#define D_2026_09_30 20726
#define D_2026_10_31 20757
#define D_2026_11_30 20787
#define D_2025_03_31 20178

START_TEST(test_date_month_slash_year)
{
    ck_assert_int_eq(parse_ok("01/2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("1/2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok(" 12/2026 ", NULL), D_2026_12_31);
    ck_assert_int_eq(parse_ok("02/2026", NULL), D_2026_02_28);
    parse_bad("13/2026", NULL);
    parse_bad("0/2026", NULL);
    parse_bad("01/26", NULL);
    parse_bad("01/202", NULL);
    parse_bad("001/2026", NULL);
}
END_TEST

START_TEST(test_date_french_month_names)
{
    ck_assert_int_eq(parse_ok("janvier 2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("janv. 2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("janv 2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("JANV.-26", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("f\xC3\xA9vr.-26", NULL), D_2026_02_28);
    ck_assert_int_eq(parse_ok("F\xC3\x89VRIER 2026", NULL), D_2026_02_28);
    ck_assert_int_eq(parse_ok("fevr.-26", NULL), D_2026_02_28);
    ck_assert_int_eq(parse_ok("mars 2025", NULL), D_2025_03_31);
    ck_assert_int_eq(parse_ok("avr.-26", NULL), D_2026_04_30);
    ck_assert_int_eq(parse_ok("mai-26", NULL), D_2026_05_31);
    ck_assert_int_eq(parse_ok("juin 2026", NULL), D_2026_06_30);
    ck_assert_int_eq(parse_ok("juil.-26", NULL), D_2026_07_31);
    ck_assert_int_eq(parse_ok("ao\xC3\xBBt 2026", NULL), D_2026_08_31);
    ck_assert_int_eq(parse_ok("aout-26", NULL), D_2026_08_31);
    ck_assert_int_eq(parse_ok("sept. 2026", NULL), D_2026_09_30);
    ck_assert_int_eq(parse_ok("oct.-26", NULL), D_2026_10_31);
    ck_assert_int_eq(parse_ok("nov. 2026", NULL), D_2026_11_30);
    ck_assert_int_eq(parse_ok("d\xC3\xA9"
                              "c.-26",
                              NULL),
                     D_2026_12_31);
    ck_assert_int_eq(parse_ok("D\xC3\x89"
                              "CEMBRE 2026",
                              NULL),
                     D_2026_12_31);
    ck_assert_int_eq(parse_ok("janv.\xC2\xA0"
                              "2026",
                              NULL),
                     D_2026_01_31); /* NBSP */
    ck_assert_int_eq(parse_ok("janv.2026", NULL), D_2026_01_31);
}
END_TEST

START_TEST(test_date_english_month_names)
{
    ck_assert_int_eq(parse_ok("Jan 2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("January 2026", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("Sep-26", NULL), D_2026_09_30);
    ck_assert_int_eq(parse_ok("Sept. 2026", NULL), D_2026_09_30);
    ck_assert_int_eq(parse_ok("SEPTEMBER 2026", NULL), D_2026_09_30);
    ck_assert_int_eq(parse_ok("May-2026", NULL), D_2026_05_31);
    ck_assert_int_eq(parse_ok("may 2026", NULL), D_2026_05_31);
    ck_assert_int_eq(parse_ok("Jun-26", NULL), D_2026_06_30);
    ck_assert_int_eq(parse_ok("Jul-26", NULL), D_2026_07_31);
    ck_assert_int_eq(parse_ok("Aug 2026", NULL), D_2026_08_31);
    ck_assert_int_eq(parse_ok("Dec-26", NULL), D_2026_12_31);
    ck_assert_int_eq(parse_ok("Mar-25", NULL), D_2025_03_31);
}
END_TEST

/* What stays ambiguous is refused, and the message says why. */
static void bad_because(const char *text, const char *why)
{
    struct kpi_error err = {0};
    int64_t day = 7;
    ck_assert_int_eq(kpi_date_parse(text, NULL, &day, &err), KPI_EINPUT);
    ck_assert_int_eq(day, 7);
    ck_assert_msg(strstr(err.message, why) != NULL, "\"%s\": %s", text, err.message);
    char buf[KPI_ERROR_MAX];
    kpi_date_explain(text, NULL, buf, sizeof buf);
    ck_assert_msg(strstr(err.message, buf) != NULL, "explain \"%s\": %s", text, buf);
}

START_TEST(test_date_ambiguous_month_forms_are_refused)
{
    bad_because("01/26", "a two-digit year is ambiguous here: write the year in full (01/2026), "
                         "or give --date-format %m/%y");
    bad_because("31/01/26", "write the year in full (31/01/2026), or give --date-format %d/%m/%y");
    bad_because("mars", "a month needs its year: janv. 2026, or janv.-26 as Excel writes it");
    bad_because("Sept.", "a month needs its year");
    bad_because("mars 26", "a two-digit year only after '-' (janv.-26, as Excel writes it)");
    bad_because("Sep 26", "a two-digit year only after '-'");
    bad_because("jui 2026", "the month is ambiguous (juin or juillet?)");
    parse_bad("ja 2026", NULL);
    parse_bad("janvier2026", NULL);
    parse_bad("janvx 2026", NULL);
    parse_bad("janvier 2026 x", NULL);
    parse_bad("janvier 20266", NULL);
    parse_bad("janvier 0000", NULL);
    parse_bad("janvier -", NULL);
    parse_bad("janvier--26", NULL);
    parse_bad("Total", NULL);
    parse_bad("#N/A", NULL);
}
END_TEST

START_TEST(test_date_european_datetime_ignores_time)
{
    ck_assert_int_eq(parse_ok("31/01/2026 00:00", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("31/01/2026 23:59:59", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("31/01/2026 9:05", NULL), D_2026_01_31);
    ck_assert_int_eq(parse_ok("1/2/2026 12:00", NULL), D_2026_02_01);
    parse_bad("31/01/2026 24:00", NULL);
    parse_bad("31/01/2026 12:60", NULL);
    parse_bad("31/01/2026 12", NULL);
    parse_bad("31/01/2026 12:00 PM", NULL);
    parse_bad("31/01/2026T12:00", NULL);
    parse_bad("30/02/2026 00:00", NULL);
}
END_TEST

START_TEST(test_date_error_message_says_what_was_expected)
{
    struct kpi_error err = {0};
    int64_t day;
    ck_assert_int_eq(kpi_date_parse("2026-13-01", NULL, &day, &err), KPI_EINPUT);
    ck_assert_str_eq(err.message, "invalid date \"2026-13-01\" (expected YYYY-MM-DD, DD/MM/YYYY, "
                                  "YYYY-MM, MM/YYYY, a month and its year (janv. 2026, Sep-26), "
                                  "YYYY-Qn, YYYY or YYYY-Www; --date-format reads other forms)");
    ck_assert_int_eq(kpi_date_parse("x", "%d.%m.%Y", &day, &err), KPI_EINPUT);
    ck_assert_str_eq(err.message, "invalid date \"x\" (expected format \"%d.%m.%Y\" of "
                                  "--date-format)");
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
    tcase_add_test(good, test_date_month_slash_year);
    tcase_add_test(good, test_date_french_month_names);
    tcase_add_test(good, test_date_english_month_names);
    tcase_add_test(good, test_date_european_datetime_ignores_time);
    suite_add_tcase(s, good);
    TCase *bad = tcase_create("rejected");
    tcase_add_test(bad, test_date_impossible_days_rejected);
    tcase_add_test(bad, test_date_bad_quarter_and_week_rejected);
    tcase_add_test(bad, test_date_bad_time_rejected);
    tcase_add_test(bad, test_date_malformed_texts_rejected);
    tcase_add_test(bad, test_date_error_message_says_what_was_expected);
    tcase_add_test(bad, test_date_ambiguous_month_forms_are_refused);
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
