/* Hand-written JSON text (report/json.c): strings escaped exactly as cJSON
 * prints them, so that a document written by hand (the series document) is
 * byte for byte the one cJSON would print. */
#include "report/json_int.h"
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static char *text(const char *s)
{
    struct kpi_buf b = {0};
    ck_assert_int_eq(report_json_text_string(&b, s), 0);
    return b.data;
}

START_TEST(test_escapes_by_hand)
{
    char *t = text("a\"b\\c\bd\fe\nf\rg\th\x01i\x1fj\x7f\xc3\xa9");
    ck_assert_str_eq(t, "\"a\\\"b\\\\c\\bd\\fe\\nf\\rg\\th\\u0001i\\u001fj\x7f\xc3\xa9\"");
    free(t);
    t = text("");
    ck_assert_str_eq(t, "\"\"");
    free(t);
    t = text(NULL);
    ck_assert_str_eq(t, "null");
    free(t);
}
END_TEST

/* Every byte, alone and between others, as cJSON prints it. */
START_TEST(test_every_byte_like_cjson)
{
    for (unsigned c = 1; c < 256; c++) {
        char s[4] = {'x', (char)c, 'y', '\0'};
        cJSON *item = cJSON_CreateString(s);
        ck_assert_ptr_nonnull(item);
        char *want = cJSON_PrintUnformatted(item);
        char *got = text(s);
        ck_assert_msg(strcmp(got, want) == 0, "byte 0x%02x: %s, cJSON %s", c, got, want);
        free(got);
        free(want);
        cJSON_Delete(item);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, test_escapes_by_hand);
    tcase_add_test(tc, test_every_byte_like_cjson);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
