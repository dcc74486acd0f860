/* common/error.c and common/model.c: errors as data, enum names, defaults. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_fail_fills_error_and_returns_code)
{
    struct kpi_error err = {0};
    ck_assert_int_eq(kpi_fail(&err, KPI_EINPUT, "bad %s at %d", "cell", 3), KPI_EINPUT);
    ck_assert_int_eq(err.code, KPI_EINPUT);
    ck_assert_str_eq(err.message, "bad cell at 3");
    ck_assert_int_eq(kpi_fail(NULL, KPI_ESYSTEM, "ignored"), KPI_ESYSTEM);
}
END_TEST

START_TEST(test_fail_truncates_long_message)
{
    struct kpi_error err = {0};
    char big[2000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kpi_fail(&err, KPI_EUSAGE, "%s", big);
    ck_assert_uint_eq(strlen(err.message), KPI_ERROR_MAX - 1);
    ck_assert_int_eq(err.code, KPI_EUSAGE);
}
END_TEST

START_TEST(test_error_prefix_keeps_code)
{
    struct kpi_error err = {0};
    kpi_fail(&err, KPI_EINPUT, "invalid number \"x\"");
    kpi_error_prefix(&err, "sales.csv:57:3");
    ck_assert_str_eq(err.message, "sales.csv:57:3: invalid number \"x\"");
    ck_assert_int_eq(err.code, KPI_EINPUT);
    kpi_error_prefix(NULL, "ignored");
}
END_TEST

START_TEST(test_error_prefix_truncates_long_result)
{
    struct kpi_error err = {0};
    char big[KPI_ERROR_MAX];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kpi_fail(&err, KPI_EINPUT, "%s", big);
    kpi_error_prefix(&err, "file");
    ck_assert_uint_eq(strlen(err.message), KPI_ERROR_MAX - 1);
    ck_assert_int_eq(strncmp(err.message, "file: mmm", 9), 0);
}
END_TEST

START_TEST(test_status_names)
{
    ck_assert_str_eq(kpi_status_name(KPI_EUSAGE), "usage");
    ck_assert_str_eq(kpi_status_name(KPI_EINPUT), "input");
    ck_assert_str_eq(kpi_status_name(KPI_ESYSTEM), "system");
    ck_assert_str_eq(kpi_status_name(KPI_ENOTFOUND), "not_found");
    ck_assert_str_eq(kpi_status_name(KPI_OK), "ok");
}
END_TEST

START_TEST(test_enum_names)
{
    ck_assert_str_eq(kpi_family_name(KPI_FAMILY_FINANCIAL), "financial");
    ck_assert_str_eq(kpi_family_name(KPI_FAMILY_HUMAN), "human");
    ck_assert_str_eq(kpi_family_name(KPI_FAMILY_PROCESS), "process");
    ck_assert_str_eq(kpi_family_name(KPI_FAMILY_CUSTOMER), "customer");
    ck_assert_str_eq(kpi_family_name(KPI_FAMILY_NONE), "");
    ck_assert_str_eq(kpi_direction_name(KPI_DIRECTION_UP), "up");
    ck_assert_str_eq(kpi_direction_name(KPI_DIRECTION_DOWN), "down");
    ck_assert_str_eq(kpi_aggregate_name(KPI_AGGREGATE_SUM), "sum");
    ck_assert_str_eq(kpi_aggregate_name(KPI_AGGREGATE_MEAN), "mean");
    ck_assert_str_eq(kpi_period_kind_name(KPI_PERIOD_DAY), "day");
    ck_assert_str_eq(kpi_period_kind_name(KPI_PERIOD_WEEK), "week");
    ck_assert_str_eq(kpi_period_kind_name(KPI_PERIOD_MONTH), "month");
    ck_assert_str_eq(kpi_period_kind_name(KPI_PERIOD_QUARTER), "quarter");
    ck_assert_str_eq(kpi_period_kind_name(KPI_PERIOD_YEAR), "year");
}
END_TEST

START_TEST(test_enum_parse_ignores_case)
{
    enum kpi_family f = KPI_FAMILY_NONE;
    ck_assert_int_eq(kpi_family_parse("Customer", &f), 0);
    ck_assert_int_eq(f, KPI_FAMILY_CUSTOMER);
    enum kpi_direction d = KPI_DIRECTION_UP;
    ck_assert_int_eq(kpi_direction_parse("DOWN", &d), 0);
    ck_assert_int_eq(d, KPI_DIRECTION_DOWN);
    enum kpi_aggregate a = KPI_AGGREGATE_SUM;
    ck_assert_int_eq(kpi_aggregate_parse("Mean", &a), 0);
    ck_assert_int_eq(a, KPI_AGGREGATE_MEAN);
    enum kpi_period_kind k = KPI_PERIOD_MONTH;
    ck_assert_int_eq(kpi_period_kind_parse("quarter", &k), 0);
    ck_assert_int_eq(k, KPI_PERIOD_QUARTER);
    ck_assert_int_eq(kpi_period_kind_parse("WEEK", &k), 0);
    ck_assert_int_eq(k, KPI_PERIOD_WEEK);
}
END_TEST

START_TEST(test_enum_parse_unknown_word_leaves_output)
{
    enum kpi_family f = KPI_FAMILY_HUMAN;
    ck_assert_int_eq(kpi_family_parse("finance", &f), KPI_EINPUT);
    ck_assert_int_eq(kpi_family_parse("", &f), KPI_EINPUT);
    ck_assert_int_eq(f, KPI_FAMILY_HUMAN);
    enum kpi_direction d = KPI_DIRECTION_DOWN;
    ck_assert_int_eq(kpi_direction_parse("higher", &d), KPI_EINPUT);
    ck_assert_int_eq(d, KPI_DIRECTION_DOWN);
    enum kpi_aggregate a = KPI_AGGREGATE_MEAN;
    ck_assert_int_eq(kpi_aggregate_parse("avg", &a), KPI_EINPUT);
    ck_assert_int_eq(a, KPI_AGGREGATE_MEAN);
    enum kpi_period_kind k = KPI_PERIOD_YEAR;
    ck_assert_int_eq(kpi_period_kind_parse("monthly", &k), KPI_EINPUT);
    ck_assert_int_eq(kpi_period_kind_parse(NULL, &k), KPI_EINPUT);
    ck_assert_int_eq(k, KPI_PERIOD_YEAR);
}
END_TEST

START_TEST(test_indicator_defaults_follow_spec)
{
    struct kpi_indicator ind;
    memset(&ind, 0xff, sizeof ind);
    kpi_indicator_defaults(&ind, "revenue");
    ck_assert_str_eq(ind.id, "revenue");
    ck_assert_str_eq(ind.name, "revenue");
    ck_assert_str_eq(ind.unit, "");
    ck_assert_int_eq(ind.family, KPI_FAMILY_NONE);
    ck_assert_int_eq(ind.direction, KPI_DIRECTION_UP);
    ck_assert_int_eq(ind.period, KPI_PERIOD_MONTH);
    ck_assert_int_eq(ind.aggregate, KPI_AGGREGATE_SUM);
    ck_assert_double_eq_tol(ind.amber, 0.05, 1e-15);
    ck_assert_double_eq_tol(ind.red, 0.10, 1e-15);
    ck_assert_double_eq_tol(ind.weight, 1.0, 1e-15);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("common_model");
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_fail_fills_error_and_returns_code);
    tcase_add_test(errors, test_fail_truncates_long_message);
    tcase_add_test(errors, test_error_prefix_keeps_code);
    tcase_add_test(errors, test_error_prefix_truncates_long_result);
    tcase_add_test(errors, test_status_names);
    suite_add_tcase(s, errors);
    TCase *model = tcase_create("model");
    tcase_add_test(model, test_enum_names);
    tcase_add_test(model, test_enum_parse_ignores_case);
    tcase_add_test(model, test_enum_parse_unknown_word_leaves_output);
    tcase_add_test(model, test_indicator_defaults_follow_spec);
    suite_add_tcase(s, model);
    return s;
}

int main(void)
{
    return ts_run_suite(model_suite());
}
