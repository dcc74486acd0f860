/* common/number.c and common/buf.c: exact number text, growable buffers. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *fmt(double v, char *buf)
{
    return kpi_format_number(v, buf);
}

START_TEST(test_number_shortest_text)
{
    char buf[KPI_NUMBER_MAX];
    ck_assert_str_eq(fmt(0.1, buf), "0.1");
    ck_assert_str_eq(fmt(1234.5, buf), "1234.5");
    ck_assert_str_eq(fmt(1e-7, buf), "1e-07");
    ck_assert_str_eq(fmt(-3.0, buf), "-3");
    ck_assert_str_eq(fmt(100.0, buf), "100");
    ck_assert_str_eq(fmt(1.0 / 3.0, buf), "0.3333333333333333");  /* 16 digits */
    ck_assert_str_eq(fmt(0.1 + 0.2, buf), "0.30000000000000004"); /* needs 17 */
}
END_TEST

START_TEST(test_number_beyond_2_pow_53)
{
    char buf[KPI_NUMBER_MAX];
    /* 2^53 + 1 is not a double: it rounds to 2^53 = 9007199254740992 */
    double v = 9007199254740993.0;
    ck_assert_str_eq(fmt(v, buf), "9007199254740992");
    ck_assert(strtod(buf, NULL) == 9007199254740992.0);
    ck_assert_str_eq(fmt(9007199254740994.0, buf), "9007199254740994");
}
END_TEST

START_TEST(test_number_negative_zero_prints_zero)
{
    char buf[KPI_NUMBER_MAX];
    ck_assert_str_eq(fmt(-0.0, buf), "0");
    ck_assert_str_eq(fmt(0.0, buf), "0");
}
END_TEST

START_TEST(test_number_nan_is_empty_and_infinities_do_not_crash)
{
    char buf[KPI_NUMBER_MAX];
    ck_assert_str_eq(fmt(NAN, buf), "");
    ck_assert_str_eq(fmt(INFINITY, buf), "inf");
    ck_assert_str_eq(fmt(-INFINITY, buf), "-inf");
}
END_TEST

START_TEST(test_number_round_trips_extremes_and_random_bits)
{
    char buf[KPI_NUMBER_MAX];
    const double extremes[] = {
        DBL_MAX, -DBL_MAX, DBL_MIN, DBL_TRUE_MIN, 1e21, -1e-300, 123456789012345678.0};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        fmt(extremes[i], buf);
        ck_assert_msg(strtod(buf, NULL) == extremes[i], "%s", buf);
    }
    /* Finite doubles from a fixed 64-bit LCG: every one reads back exactly. */
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        fmt(v, buf);
        ck_assert_uint_lt(strlen(buf), KPI_NUMBER_MAX);
        ck_assert_msg(strtod(buf, NULL) == v, "%s", buf);
        ck_assert_ptr_null(strchr(buf, ','));
    }
}
END_TEST

START_TEST(test_round_total_removes_binary_noise_only)
{
    char buf[KPI_NUMBER_MAX];
    ck_assert_str_eq(fmt(12345.67 + 98765.43, buf), "111111.09999999999");
    ck_assert_str_eq(fmt(kpi_round_total(12345.67 + 98765.43), buf), "111111.1");
    ck_assert_str_eq(fmt(kpi_round_total(0.1 + 0.2), buf), "0.3");
    ck_assert_str_eq(fmt(kpi_round_total(-1234567.891), buf), "-1234567.891");
    ck_assert_str_eq(fmt(kpi_round_total(1.0 / 3.0), buf), "0.333333333333333");
    ck_assert_str_eq(fmt(kpi_round_total(123456789012345678.0), buf), "1.23456789012346e+17");
    ck_assert(kpi_round_total(0.0) == 0.0);
    ck_assert(isnan(kpi_round_total(NAN)));
    ck_assert(isinf(kpi_round_total(INFINITY)));
    ck_assert(kpi_round_total(1e-300) == 1e-300);
}
END_TEST

START_TEST(test_buf_puts_and_printf_append)
{
    struct kpi_buf b = {0};
    ck_assert_int_eq(kpi_buf_puts(&b, "abc"), 0);
    ck_assert_int_eq(kpi_buf_printf(&b, "-%s-%d", "x", 42), 0);
    ck_assert_int_eq(kpi_buf_append(&b, "yz", 1), 0);
    ck_assert_str_eq(b.data, "abc-x-42y");
    ck_assert_uint_eq(b.len, 9);
    ck_assert_uint_gt(b.cap, b.len);
    kpi_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    kpi_buf_free(&b); /* twice is fine */
    kpi_buf_free(NULL);
}
END_TEST

START_TEST(test_buf_empty_append_gives_empty_string)
{
    struct kpi_buf b = {0};
    ck_assert_int_eq(kpi_buf_append(&b, NULL, 0), 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(kpi_buf_printf(&b, "%s", ""), 0);
    ck_assert_uint_eq(b.len, 0);
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_buf_grows_geometrically)
{
    struct kpi_buf b = {0};
    size_t cap_changes = 0, last_cap = 0;
    for (size_t i = 0; i < 100000; i++) {
        char c = (char)('a' + i % 26);
        ck_assert_int_eq(kpi_buf_append(&b, &c, 1), 0);
        if (b.cap != last_cap) {
            cap_changes++;
            last_cap = b.cap;
        }
        ck_assert_int_eq(b.data[b.len], '\0');
    }
    ck_assert_uint_eq(b.len, 100000);
    ck_assert_uint_eq(strlen(b.data), 100000);
    ck_assert_int_eq(b.data[99999], 'a' + 99999 % 26);
    /* doubling from a small start: about log2(100000) = 17 reallocations */
    ck_assert_uint_le(cap_changes, 20);
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf_longer_than_capacity)
{
    struct kpi_buf b = {0};
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(kpi_buf_puts(&b, "<"), 0);
    ck_assert_int_eq(kpi_buf_printf(&b, "%s>%05d", big, 7), 0);
    ck_assert_uint_eq(b.len, 1 + 4999 + 1 + 5);
    ck_assert_str_eq(b.data + 5000, ">00007");
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_buf_keeps_bytes_with_nul)
{
    struct kpi_buf b = {0};
    ck_assert_int_eq(kpi_buf_append(&b, "a\0b", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_buf_size_overflow_fails_and_keeps_content)
{
    struct kpi_buf b = {0};
    ck_assert_int_eq(kpi_buf_puts(&b, "keep"), 0);
    ck_assert_int_eq(kpi_buf_append(&b, "x", SIZE_MAX), KPI_ESYSTEM);
    ck_assert_int_eq(kpi_buf_append(&b, "x", SIZE_MAX - 4), KPI_ESYSTEM);
    ck_assert_str_eq(b.data, "keep");
    ck_assert_uint_eq(b.len, 4);
    kpi_buf_free(&b);
}
END_TEST

static Suite *number_suite(void)
{
    Suite *s = suite_create("common_number");
    TCase *num = tcase_create("number");
    tcase_add_test(num, test_number_shortest_text);
    tcase_add_test(num, test_number_beyond_2_pow_53);
    tcase_add_test(num, test_number_negative_zero_prints_zero);
    tcase_add_test(num, test_number_nan_is_empty_and_infinities_do_not_crash);
    tcase_add_test(num, test_number_round_trips_extremes_and_random_bits);
    tcase_add_test(num, test_round_total_removes_binary_noise_only);
    suite_add_tcase(s, num);
    TCase *buf = tcase_create("buf");
    tcase_add_test(buf, test_buf_puts_and_printf_append);
    tcase_add_test(buf, test_buf_empty_append_gives_empty_string);
    tcase_add_test(buf, test_buf_grows_geometrically);
    tcase_add_test(buf, test_buf_printf_longer_than_capacity);
    tcase_add_test(buf, test_buf_keeps_bytes_with_nul);
    tcase_add_test(buf, test_buf_size_overflow_fails_and_keeps_content);
    suite_add_tcase(s, buf);
    return s;
}

int main(void)
{
    return ts_run_suite(number_suite());
}
