/* ingest: bad input, each with its exact "name:line:col: message". */
#include "test_ingest_helpers.h"

START_TEST(test_unterminated_quote_names_line_where_field_starts)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,1\n2026-02,\"open\nstill open\n", NULL,
              "observations long utf-8 ,\n"
              "2: a|k|2026-01-31|V|1|4\n"
              "ERR -2 t.csv:3:2: unterminated quote opened here; the rest of the file was not "
              "read\n");
}
END_TEST

START_TEST(test_quote_inside_unquoted_field_is_bad_input)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,1\n2026-02,a,k\"x,2\n2026-03,a,k,3\n", NULL,
              "observations long utf-8 ,\n"
              "2: a|k|2026-01-31|V|1|4\n"
              "ERR -2 t.csv:3:3: quote inside an unquoted field (quote the whole field and "
              "double the quote)\n"
              "4: a|k|2026-03-31|V|3|4\n");
}
END_TEST

/* After a quoting error the record still ends at its next line end outside
 * a quoted field: its other fields (here a quoted one over two lines, then
 * a second quoting error) are dropped, and the next record keeps its line. */
START_TEST(test_quoting_error_skips_to_the_records_end)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k\"x,\"2\n2\"\n2026-02,a\"b,k\"c,\"x\"y\n"
              "2026-03,a,k,3\n",
              NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:3: quote inside an unquoted field (quote the whole field and "
              "double the quote)\n"
              "ERR -2 t.csv:4:2: quote inside an unquoted field (quote the whole field and "
              "double the quote)\n"
              "5: a|k|2026-03-31|V|3|4\n");
}
END_TEST

/* CRLF line ends, text after a closing quote of a field over two lines:
 * the error's line is where the refused byte is, the next record's line
 * follows. */
START_TEST(test_text_after_closing_quote_in_crlf_file_goes_on)
{
    TI_EXPECT("date;team;kpi;value\r\n2026-01;\"a\r\nb\" x;k;1\r\n2026-02;a;k;2\r\n", NULL,
              "observations long utf-8 ;\n"
              "ERR -2 t.csv:3:2: text after a closing quote (expected a delimiter or the end of "
              "the line)\n"
              "4: a|k|2026-02-28|V|2|4\n");
}
END_TEST

/* A bad field longer than a chunk: its bytes are skipped across chunks. */
START_TEST(test_quoting_error_in_field_longer_than_a_chunk)
{
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\n2026-01,a,k,1\"");
    for (int i = 0; i < 100000; i++)
        kpi_buf_puts(&b, "9");
    kpi_buf_puts(&b, "\n2026-02,a,k,2\n");
    char *got = ti_dump_n(b.data, b.len, NULL);
    ck_assert_str_eq(got, "observations long utf-8 ,\n"
                          "ERR -2 t.csv:2:4: quote inside an unquoted field (quote the whole "
                          "field and double the quote)\n"
                          "3: a|k|2026-02-28|V|2|4\n");
    free(got);
    kpi_buf_free(&b);
}
END_TEST

/* The rest of a bad record opens a quote that never closes: that stops the
 * reading, and is said too. */
START_TEST(test_unterminated_quote_after_quoting_error_is_said)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,a\"b,k,\"1\n2026-02,a,k,2\n", NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:2: quote inside an unquoted field (quote the whole field and "
              "double the quote)\n"
              "ERR -2 t.csv:2:4: unterminated quote opened here; the rest of the file was not "
              "read\n");
}
END_TEST

START_TEST(test_text_after_closing_quote_is_bad_input)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,\"multi\nline\"x,k,1\n", NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:3:2: text after a closing quote (expected a delimiter or the end of "
              "the line)\n");
}
END_TEST

START_TEST(test_syntax_error_in_header_fails_open)
{
    TI_EXPECT("date,te\"am,kpi,value\n", NULL,
              "OPEN -2 t.csv:1:2: quote inside an unquoted field (quote the whole field and "
              "double the quote)\n");
}
END_TEST

START_TEST(test_invalid_number_names_line_column_and_header)
{
    TI_EXPECT(
        "date;team;kpi;value\n2026-01;a;k;12,3.4\n2026-02;a;k;1\n", NULL,
        "observations long utf-8 ;\n"
        "ERR -2 t.csv:2:4: invalid number \"12,3.4\" in column \"value\": with ';' the decimal "
        "separator is ','; this looks like 1,234.50 with ',' between thousands: remove the "
        "commas and use --decimal .\n"
        "3: a|k|2026-02-28|V|1|4\n");
}
END_TEST

START_TEST(test_invalid_date_says_what_was_expected)
{
    TI_EXPECT("kpi,date,team,value\nk,2026-13,a,1\n", NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:2: invalid date \"2026-13\" in column \"date\" (expected "
              "YYYY-MM-DD, DD/MM/YYYY, YYYY-MM, MM/YYYY, a month and its year (janv. 2026, "
              "Sep-26), YYYY-Qn, YYYY or YYYY-Www; --date-format reads other forms)\n");
}
END_TEST

START_TEST(test_ragged_rows_are_bad_input)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,1,9\n2026-02,a,k\n2026-03,a,k,3\n", NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:5: the record has 5 fields, the header has 4\n"
              "ERR -2 t.csv:3:4: the record has 3 fields, the header has 4\n"
              "4: a|k|2026-03-31|V|3|4\n");
}
END_TEST

START_TEST(test_bad_row_keeps_its_fields_for_rejects)
{
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "r.csv");
    ts_write_file(path, "date,team,kpi,value\n2026-01,a,k,oops\n", (size_t)-1);
    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    ck_assert_int_eq(ingest_open(path, "r.csv", NULL, &r, &err), 0);
    struct kpi_buf got = {0};
    const struct ingest_sink sink = {ti_fields_row, ti_fields_bad, &got};
    ck_assert_int_eq(ingest_read(r, &sink, &err), 0);
    ck_assert_str_eq(got.data, "BAD 2: 2026-01|a|k|oops (r.csv:2:4: invalid number \"oops\" in "
                               "column \"value\": expected a number (with ',' the decimal "
                               "separator is '.'): 1234.50, -3, (1234.50), 12 %, 1e6; empty, NA "
                               "or #N/A for no value)\n");
    kpi_buf_free(&got);
    ingest_close(r);
    ts_rm_rf(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_empty_team_with_value_is_bad_input)
{
    TI_EXPECT("date,team,kpi,value\n2026-01,,k,1\n2026-02,,k,\n", NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:2: empty team in column \"team\"\n"
              "3: |k|2026-02-28|V|NaN|4\n");
}
END_TEST

START_TEST(test_bad_catalog_words_name_the_accepted_ones)
{
    TI_EXPECT("kpi,family,direction,period,aggregate\n"
              "a,money,up,month,sum\n"
              "b,human,higher,month,sum\n"
              "c,human,up,fortnight,sum\n"
              "d,human,up,month,median\n",
              NULL,
              "indicators catalog utf-8 ,\n"
              "ERR -2 t.csv:2:2: invalid family \"money\" in column \"family\" (expected "
              "financial, human, process or customer)\n"
              "ERR -2 t.csv:3:3: invalid direction \"higher\" in column \"direction\" (expected "
              "up or down)\n"
              "ERR -2 t.csv:4:4: invalid period \"fortnight\" in column \"period\" (expected "
              "day, week, month, quarter or year)\n"
              "ERR -2 t.csv:5:5: invalid aggregate \"median\" in column \"aggregate\" (expected "
              "sum or mean)\n");
}
END_TEST

START_TEST(test_bad_tolerances_and_weight_are_bad_input)
{
    TI_EXPECT("kpi,amber,red,weight\n"
              "a,-0.1,,\n"
              "b,0.2,0.1,\n"
              "c,,,x\n"
              "d,0.1,0.1,0\n",
              NULL,
              "indicators catalog utf-8 ,\n"
              "ERR -2 t.csv:2:2: invalid amber \"-0.1\" in column \"amber\" (expected a number "
              ">= 0)\n"
              "ERR -2 t.csv:3:3: red (0.1) must be >= amber (0.2)\n"
              "ERR -2 t.csv:4:4: invalid weight \"x\" in column \"weight\" (expected a number "
              ">= 0)\n"
              "5: ref=d name=NULL unit=NULL amber=0.1 red=0.1 weight=0\n");
}
END_TEST

START_TEST(test_empty_catalog_id_is_bad_input)
{
    TI_EXPECT("team,name\n,Orphan\n", NULL,
              "teams catalog utf-8 ,\n"
              "ERR -2 t.csv:2:1: invalid team \"\" in column \"team\" (expected a team id)\n");
}
END_TEST

START_TEST(test_field_longer_than_limit_is_bad_input)
{
    size_t n = 1024 * 1024 + 10;
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\n2026-01,a,k,1\n2026-02,");
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    kpi_buf_append(&b, big, n);
    kpi_buf_puts(&b, ",k,1\n");
    char *got = ti_dump_n(b.data, b.len, NULL);
    ck_assert_str_eq(got, "observations long utf-8 ,\n"
                          "2: a|k|2026-01-31|V|1|4\n"
                          "ERR -2 t.csv:3:2: field longer than 1 MiB\n");
    free(got);
    free(big);
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_record_with_too_many_fields_is_bad_input)
{
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\n2026-01");
    for (int i = 0; i < 10000; i++)
        kpi_buf_puts(&b, ",1");
    kpi_buf_puts(&b, "\n");
    char *got = ti_dump_n(b.data, b.len, NULL);
    ck_assert_str_eq(got, "observations long utf-8 ,\n"
                          "ERR -2 t.csv:2:10001: record has more than 10000 fields\n");
    free(got);
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_errors_after_many_chunks_give_physical_line)
{
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\n");
    for (int i = 0; i < 20000; i++)
        kpi_buf_puts(&b, i % 100 == 0 ? "2026-01,\"q\nq\",k,1\n" : "2026-01,a,k,1\n");
    kpi_buf_puts(&b, "2026-01,a,k,x\"\n2026-02,a,k,7\n");
    char *got = ti_dump_n(b.data, b.len, NULL);
    /* 20000 records + 200 embedded line breaks after the header */
    ck_assert_msg(strstr(got, "ERR -2 t.csv:20202:4: quote inside an unquoted field") != NULL, "%s",
                  got + strlen(got) - 200);
    ck_assert_msg(strstr(got, "\n20203: a|k|2026-02-28|V|7|4\n") != NULL, "%s",
                  got + strlen(got) - 200);
    free(got);
    kpi_buf_free(&b);
}
END_TEST

START_TEST(test_value_error_after_many_chunks_gives_physical_line)
{
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "date,team,kpi,value\r\n");
    for (int i = 0; i < 20000; i++)
        kpi_buf_puts(&b, i % 100 == 0 ? "2026-01,\"q\r\nq\",k,1\r\n\r\n" : "2026-01,a,k,1\r\n");
    kpi_buf_puts(&b, "2026-01,a,k,bad\r\n");
    char *got = ti_dump_n(b.data, b.len, NULL);
    /* 20000 records, 200 embedded line breaks and 200 blank lines */
    ck_assert_msg(strstr(got, "\nERR -2 t.csv:20402:4: invalid number \"bad\"") != NULL, "%s",
                  got + strlen(got) - 200);
    free(got);
    kpi_buf_free(&b);
}
END_TEST

/* Bytes this process has read with read(2) and pread(2) so far
 * (/proc/self/io rchar). */
static unsigned long long bytes_read_so_far(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long long rchar = 0;
    ck_assert_int_eq(fscanf(f, "rchar: %llu", &rchar), 1);
    fclose(f);
    return rchar;
}

/* 16 MiB of garbage (xorshift, NULs included: what tests/test_web_auth_hostile
 * uploads) is refused after its first lines: the header search reads lines 2
 * to 10 again, never the whole file per line (64 MiB took minutes when a
 * candidate that failed before any record was tried again forever). */
START_TEST(test_garbage_is_refused_after_reading_its_first_lines_only)
{
    size_t size = 16u << 20;
    char *garbage = malloc(size);
    ck_assert_ptr_nonnull(garbage);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < size; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(garbage + i, &x, 8);
    }
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "in.csv");
    ts_write_file(path, garbage, size);
    free(garbage);
    unsigned long long before = bytes_read_so_far();
    char *out = ti_read(path, "t.csv", NULL);
    unsigned long long read = bytes_read_so_far() - before;
    /* each of the 10 candidate lines is read from the file's start, within
     * its first 64 KiB chunk: 12 chunks (786,432 bytes) today; one pass over
     * the file alone would be 16 MiB */
    ck_assert_msg(read < 16u * 65536, "read %llu bytes of a 16 MiB file", read);
    ck_assert_str_eq(
        out,
        "OPEN -2 t.csv:1: the header fits no kind of file: expected date, team, kpi, value "
        "and/or target (long), date, team and one column per indicator (wide), team, kpi and "
        "one column per period (periods), or a teams or indicators catalog; line 1 reads "
        "\"\xc2\xb0?\xc3\x9e\xc3\xbbu\", \"iy\xe2\x80\xba\xc3\x85,\xc2\xaeWs3*\xc3\x90\xc5\xa1R'z?"
        "\xc3\xaf/\xc3\xa5\xe2\x80\xb9*C\xc3\xb8=\", \"\xc3\xa4\xc2\xb2\xe2\x80\xa1?'?\", "
        "\"\xc3\x9dq=?u?4\xc2\xbb\" (delimiter TAB); lines 2 to 10 are no header either "
        "(--header-line N reads it from line N)\n");
    free(out);
    ts_rm_rf(dir);
    free(path);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ingest_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, test_unterminated_quote_names_line_where_field_starts);
    tcase_add_test(tc, test_quote_inside_unquoted_field_is_bad_input);
    tcase_add_test(tc, test_text_after_closing_quote_is_bad_input);
    tcase_add_test(tc, test_quoting_error_skips_to_the_records_end);
    tcase_add_test(tc, test_text_after_closing_quote_in_crlf_file_goes_on);
    tcase_add_test(tc, test_quoting_error_in_field_longer_than_a_chunk);
    tcase_add_test(tc, test_unterminated_quote_after_quoting_error_is_said);
    tcase_add_test(tc, test_syntax_error_in_header_fails_open);
    tcase_add_test(tc, test_invalid_number_names_line_column_and_header);
    tcase_add_test(tc, test_invalid_date_says_what_was_expected);
    tcase_add_test(tc, test_ragged_rows_are_bad_input);
    tcase_add_test(tc, test_bad_row_keeps_its_fields_for_rejects);
    tcase_add_test(tc, test_empty_team_with_value_is_bad_input);
    tcase_add_test(tc, test_bad_catalog_words_name_the_accepted_ones);
    tcase_add_test(tc, test_bad_tolerances_and_weight_are_bad_input);
    tcase_add_test(tc, test_empty_catalog_id_is_bad_input);
    tcase_add_test(tc, test_field_longer_than_limit_is_bad_input);
    tcase_add_test(tc, test_record_with_too_many_fields_is_bad_input);
    tcase_add_test(tc, test_errors_after_many_chunks_give_physical_line);
    tcase_add_test(tc, test_value_error_after_many_chunks_gives_physical_line);
    tcase_add_test(tc, test_garbage_is_refused_after_reading_its_first_lines_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
