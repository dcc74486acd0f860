/* ingest: number cells in both conventions, missing tokens, delimiter
 * detection (ingest_parse_number, ingest_detect_delimiter). */
#include "test_ingest_helpers.h"

static double num(const char *text, char decimal)
{
    double v = 0;
    int rc = ingest_parse_number(text, decimal, &v);
    ck_assert_msg(rc == 0, "\"%s\" with decimal '%c' gave %d", text, decimal, rc);
    return v;
}

static void rejected(const char *text, char decimal)
{
    double v = 0;
    int rc = ingest_parse_number(text, decimal, &v);
    ck_assert_msg(rc == KPI_EINPUT, "\"%s\" with decimal '%c' gave %d (%g)", text, decimal, rc, v);
}

static void missing(const char *text, char decimal)
{
    double v = 0;
    int rc = ingest_parse_number(text, decimal, &v);
    ck_assert_msg(rc == 1 && isnan(v), "\"%s\" should be no value, gave %d", text, rc);
}

START_TEST(test_number_dot_forms_parse)
{
    ck_assert_double_eq(num("1234.5", '.'), 1234.5);
    ck_assert_double_eq(num("-3", '.'), -3);
    ck_assert_double_eq(num("+2", '.'), 2);
    ck_assert_double_eq(num("1e6", '.'), 1e6);
    ck_assert_double_eq(num("1E-3", '.'), 1e-3);
    ck_assert_double_eq(num("0.1", '.'), 0.1);
    ck_assert_double_eq(num("0.05", '.'), 0.05);
    ck_assert_double_eq(num(".5", '.'), 0.5);
    ck_assert_double_eq(num("  7 ", '.'), 7);
    ck_assert_double_eq(num("-2.5e2", '.'), -250);
}
END_TEST

START_TEST(test_number_comma_forms_parse)
{
    ck_assert_double_eq(num("1234,5", ','), 1234.5);
    ck_assert_double_eq(num("1 234,5", ','), 1234.5);
    ck_assert_double_eq(num("1\xC2\xA0"
                            "234,5",
                            ','),
                        1234.5); /* NBSP */
    ck_assert_double_eq(num("1\xE2\x80\xAF"
                            "234,5",
                            ','),
                        1234.5); /* NNBSP */
    ck_assert_double_eq(num("12 345 678", ','), 12345678);
    ck_assert_double_eq(num("-0,5", ','), -0.5);
    ck_assert_double_eq(num("1e6", ','), 1e6);
    ck_assert_double_eq(num("-3", ','), -3);
    ck_assert_double_eq(num("0,1", ','), 0.1);
}
END_TEST

START_TEST(test_number_trailing_percent_is_dropped)
{
    ck_assert_double_eq(num("12%", '.'), 12);
    ck_assert_double_eq(num("12 %", '.'), 12);
    ck_assert_double_eq(num("12,5 %", ','), 12.5);
    ck_assert_double_eq(num("12,5\xE2\x80\xAF%", ','), 12.5);
    rejected("%", '.');
    rejected("12 % %", '.');
}
END_TEST

START_TEST(test_number_dot_in_comma_mode_is_rejected)
{
    rejected("1.234", ',');
    rejected("12,3.4", ',');
    rejected("1.5", ',');
}
END_TEST

START_TEST(test_number_bad_grouping_is_rejected)
{
    rejected("1 23,5", ',');
    rejected("1234 567", ',');
    rejected("1  234", ',');
    rejected(" 1 234 5", ',');
    rejected("1,2,3", ',');
    /* thousands separators only in comma mode */
    rejected("1 234.5", '.');
}
END_TEST

START_TEST(test_number_garbage_is_rejected)
{
    rejected("12,3.4", '.');
    rejected("1,5", '.');
    rejected("abc", '.');
    rejected("1e", '.');
    rejected("1e+", '.');
    rejected("inf", '.');
    rejected("nan", '.');
    rejected("0x10", '.');
    rejected("+", '.');
    rejected("--3", '.');
    rejected("1e400", '.');
    rejected("12abc", '.');
}
END_TEST

START_TEST(test_number_accountants_negatives)
{
    ck_assert_double_eq(num("(1 234,50)", ','), -1234.5);
    ck_assert_double_eq(num("( 1 234,50 )", ','), -1234.5);
    ck_assert_double_eq(num("1234,50-", ','), -1234.5);
    ck_assert_double_eq(num("1 234,50 -", ','), -1234.5);
    ck_assert_double_eq(num("\xE2\x88\x92"
                            "1 234,50",
                            ','),
                        -1234.5); /* U+2212 MINUS SIGN */
    ck_assert_double_eq(num("\xE2\x88\x92"
                            "12.5",
                            '.'),
                        -12.5);
    ck_assert_double_eq(num("(1234.50)", '.'), -1234.5);
    ck_assert_double_eq(num("12.5-", '.'), -12.5);
    /* one negative mark at most */
    rejected("(-5)", '.');
    rejected("-5-", '.');
    rejected("(5)-", '.');
    rejected("\xE2\x88\x92-5", '.');
    rejected("(5", '.');
    rejected("5)", '.');
    rejected("()", '.');
    rejected("1-2", '.');
}
END_TEST

START_TEST(test_number_currency_before_or_after_is_dropped)
{
    ck_assert_double_eq(num("1 234,50 \xE2\x82\xAC", ','), 1234.5);
    ck_assert_double_eq(num("1\xE2\x80\xAF"
                            "234,50\xC2\xA0\xE2\x82\xAC",
                            ','),
                        1234.5); /* what French Excel writes: NNBSP, NBSP, euro */
    ck_assert_double_eq(num("\xE2\x82\xAC"
                            "12",
                            ','),
                        12);
    ck_assert_double_eq(num("$1234.50", '.'), 1234.5);
    ck_assert_double_eq(num("-$1234.50", '.'), -1234.5);
    ck_assert_double_eq(num("$-1234.50", '.'), -1234.5);
    ck_assert_double_eq(num("($1234.50)", '.'), -1234.5);
    ck_assert_double_eq(num("\xC2\xA3"
                            "99",
                            '.'),
                        99);
    ck_assert_double_eq(num("1 234,50 EUR", ','), 1234.5);
    ck_assert_double_eq(num("EUR 1 234,50", ','), 1234.5);
    ck_assert_double_eq(num("usd 12", '.'), 12);
    ck_assert_double_eq(num("12 GBP", '.'), 12);
    ck_assert_double_eq(num("CHF 12.5", '.'), 12.5);
    ck_assert_double_eq(num("(1 234,50 \xE2\x82\xAC)", ','), -1234.5);
    ck_assert_double_eq(num("1 234,50 \xE2\x82\xAC-", ','), -1234.5);
    rejected("\xE2\x82\xAC", ',');
    rejected("EUR", '.');
    rejected("$12$", '.');
    rejected("EUR 12 USD", '.');
    rejected("12 %  EUR", '.');
    rejected("12 YEN", '.');
}
END_TEST

START_TEST(test_number_excel_errors_are_no_value)
{
    static const char *const errors[] = {"#N/A",     "#DIV/0!",  "#VALEUR!", "#VALUE!", "#REF!",
                                         "#NOMBRE!", "#NUM!",    "#NOM?",    "#NAME?",  "#n/a",
                                         "#div/0!",  "#Valeur!", " #N/A ",   "#NULL!"};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        missing(errors[i], ',');
        missing(errors[i], '.');
    }
    rejected("#", '.');
    rejected("#N/A!", '.');
    rejected("#12", '.');
}
END_TEST

START_TEST(test_number_missing_tokens_are_no_value)
{
    missing("", '.');
    missing("   ", '.');
    missing("NA", '.');
    missing("na", ',');
    missing("N/A", '.');
    missing("n/a", '.');
    missing("-", '.');
    missing(" - ", ',');
    missing("n.d.", '.');
    missing("N.D.", ',');
}
END_TEST

START_TEST(test_number_long_mantissa_is_correctly_rounded)
{
    ck_assert_double_eq(num("123456789012345678", '.'), 123456789012345678.0);
    ck_assert_double_eq(num("0.30000000000000004", '.'), 0.30000000000000004);
    ck_assert_double_eq(num("1.7976931348623157e308", '.'), 1.7976931348623157e308);
    ck_assert_double_eq(num("4.9e-324", '.'), 4.9e-324);
    ck_assert_double_eq(num("3,14159265358979", ','), 3.14159265358979);
}
END_TEST

START_TEST(test_delimiter_most_frequent_wins)
{
    ck_assert_int_eq(ingest_detect_delimiter("date,team,kpi,value", 19), ',');
    ck_assert_int_eq(ingest_detect_delimiter("date;team;kpi;value\n1,2,3,4,5,6", 32), ';');
    ck_assert_int_eq(ingest_detect_delimiter("date\tteam\tkpi", 13), '\t');
    ck_assert_int_eq(ingest_detect_delimiter("single", 6), ',');
    ck_assert_int_eq(ingest_detect_delimiter("", 0), ',');
    ck_assert_int_eq(ingest_detect_delimiter("\r\n\na;b;c\n", 10), ';');
}
END_TEST

START_TEST(test_delimiter_inside_quotes_is_ignored)
{
    const char *h = "\"a;b;c\",\"d;e\",f";
    ck_assert_int_eq(ingest_detect_delimiter(h, strlen(h)), ',');
    const char *h2 = "\"x,y,z\";w";
    ck_assert_int_eq(ingest_detect_delimiter(h2, strlen(h2)), ';');
}
END_TEST

START_TEST(test_role_parse_names_and_rejects_others)
{
    enum ingest_role role;
    ck_assert_int_eq(ingest_role_parse("date", &role), 0);
    ck_assert_int_eq(role, INGEST_ROLE_DATE);
    ck_assert_int_eq(ingest_role_parse("target", &role), 0);
    ck_assert_int_eq(role, INGEST_ROLE_TARGET);
    ck_assert_int_eq(ingest_role_parse("Note", &role), 0);
    ck_assert_int_eq(role, INGEST_ROLE_NOTE);
    ck_assert_int_eq(ingest_role_parse("colour", &role), KPI_EUSAGE);
}
END_TEST

START_TEST(test_numbers_in_semicolon_file_use_decimal_comma)
{
    TI_EXPECT(
        "date;team;kpi;value\n"
        "2026-01;a;k;1 234,5\n"
        "2026-02;a;k;12 %\n"
        "2026-03;a;k;1.234\n"
        "2026-04;a;k;n.d.\n",
        NULL,
        "observations long utf-8 ;\n"
        "2: a|k|2026-01-31|V|1234.5|4\n"
        "3: a|k|2026-02-28|V|12|4\n"
        "ERR -2 t.csv:4:4: invalid number \"1.234\" in column \"value\": with ';' the decimal "
        "separator is ','; use --decimal . if this file writes 1234.50\n"
        "5: a|k|2026-04-30|V|NaN|4\n");
}
END_TEST

START_TEST(test_decimal_option_forces_comma_in_comma_file)
{
    struct ingest_options o = {.decimal = ','};
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,\"1 234,5\"\n", &o,
              "observations long utf-8 ,\n2: a|k|2026-01-31|V|1234.5|4\n");
}
END_TEST

/* Each refusal says what the file's settings expect and which option
 * changes them, at file:line:col. */
START_TEST(test_refused_numbers_say_which_option)
{
    TI_EXPECT("date;team;kpi;value\n"
              "2026-01;a;k;1234.50\n"
              "2026-02;a;k;1.234,50\n"
              "2026-03;a;k;abc\n",
              NULL,
              "observations long utf-8 ;\n"
              "ERR -2 t.csv:2:4: invalid number \"1234.50\" in column \"value\": with ';' the "
              "decimal separator is ','; use --decimal . if this file writes 1234.50\n"
              "ERR -2 t.csv:3:4: invalid number \"1.234,50\" in column \"value\": with ';' the "
              "decimal separator is ',', and a '.' between thousands is never guessed (1.234 may "
              "mean 1234 or 1,234): remove the dots (1234,50 or 1 234,50)\n"
              "ERR -2 t.csv:4:4: invalid number \"abc\" in column \"value\": expected a number "
              "(with ';' the decimal separator is ','): 1 234,50, -3, (1 234,50), 12 %, 1e6; "
              "empty, NA or #N/A for no value\n");
    struct ingest_options dot = {.decimal = '.'};
    TI_EXPECT("date;team;kpi;value\n2026-01;a;k;1234.50\n2026-02;a;k;12,5\n", &dot,
              "observations long utf-8 ;\n"
              "2: a|k|2026-01-31|V|1234.5|4\n"
              "ERR -2 t.csv:3:4: invalid number \"12,5\" in column \"value\": with --decimal . "
              "the decimal separator is '.'; use --decimal , if this file writes 1234,50\n");
    TI_EXPECT("date,team,kpi,value\n2026-01,a,k,\"1,234.50\"\n", NULL,
              "observations long utf-8 ,\n"
              "ERR -2 t.csv:2:4: invalid number \"1,234.50\" in column \"value\": with ',' the "
              "decimal separator is '.', and a ',' between thousands is never guessed (1,234 may "
              "mean 1234 or 1.234): remove the commas (1234.50)\n");
}
END_TEST

/* A tab-separated export with decimal commas (Excel's "Unicode text" of a
 * French sheet): refused with the option to give, then read with it. */
START_TEST(test_tab_file_with_decimal_commas_needs_decimal_option)
{
    const char *csv = "date\tteam\tkpi\tvalue\n2026-01\ta\tk\t1 234,50\n2026-02\ta\tk\t(12,5)\n";
    TI_EXPECT(csv, NULL,
              "observations long utf-8 TAB\n"
              "ERR -2 t.csv:2:4: invalid number \"1 234,50\" in column \"value\": with TAB the "
              "decimal separator is '.'; use --decimal , if this file writes 1234,50\n"
              "ERR -2 t.csv:3:4: invalid number \"(12,5)\" in column \"value\": with TAB the "
              "decimal separator is '.'; use --decimal , if this file writes 1234,50\n");
    struct ingest_options comma = {.decimal = ','};
    TI_EXPECT(csv, &comma,
              "observations long utf-8 TAB\n"
              "2: a|k|2026-01-31|V|1234.5|4\n"
              "3: a|k|2026-02-28|V|-12.5|4\n");
}
END_TEST

/* Each text as the value of a row, read through a file: cells are parsed a
 * word at a time when they are short, and must give exactly what
 * ingest_parse_number gives (the same bits, -0 included), or be rejected
 * when it rejects them. */
struct cell_check {
    char decimal;
    size_t rows;
};

static const char *const word_texts[] = {
    "0",         "-0",       "7",         "12.",      ".5",        "-.5",      "1143.0",
    "1147.25",   "12345678", "-12345678", "1234.567", "9999999.9", "0.000001", "-1234567.8",
    "123456789", "00000001", "0.1",       "-0.0",     "1e5",       "+5",       "1.2.3",
    "12a4",      ".",        "--1",       "1-2",      "5 ",        " 5",       "1 234,5",
    "1,5",       "12,",      ",5",        "-1,25",    "1.234,5",   "9,999999", "NA",
    "-",         "",         "12%",       "1,2,3",    "0,",        "99999999", "4.",
    "(12)",      "12-",      "#N/A",      "$5",       "5 EUR",     "(1,5)",    "-$1",
};

static int cell_row(void *ctx, const struct ingest_row *row)
{
    struct cell_check *c = ctx;
    const char *text = word_texts[row->line - 2];
    double want = 0;
    int rc = ingest_parse_number(text, c->decimal, &want);
    ck_assert_msg(rc >= 0, "\"%s\" (decimal %c) read as %g, the parser rejects it", text,
                  c->decimal, row->cells[0].number);
    uint64_t a, b;
    memcpy(&a, &row->cells[0].number, sizeof a);
    memcpy(&b, &want, sizeof b);
    ck_assert_msg(a == b || (rc == 1 && isnan(row->cells[0].number)),
                  "\"%s\" (decimal %c) read as %.17g, the parser gives %.17g", text, c->decimal,
                  row->cells[0].number, want);
    c->rows++;
    return 0;
}

static int cell_bad(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    struct cell_check *c = ctx;
    const char *text = word_texts[row->line - 2];
    double v;
    ck_assert_msg(ingest_parse_number(text, c->decimal, &v) == KPI_EINPUT,
                  "\"%s\" (decimal %c) rejected: %s", text, c->decimal, why->message);
    c->rows++;
    return 0;
}

START_TEST(test_short_cells_read_as_words_equal_the_parser)
{
    const size_t n = sizeof word_texts / sizeof word_texts[0];
    struct kpi_buf csv = {0};
    kpi_buf_puts(&csv, "date;team;kpi;value\n");
    for (size_t i = 0; i < n; i++)
        kpi_buf_printf(&csv, "2026-01;a;k;\"%s\"\n", word_texts[i]);
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "w.csv");
    ts_write_file(path, csv.data, csv.len);
    for (int pass = 0; pass < 2; pass++) {
        struct ingest_options o = {.decimal = pass == 0 ? '.' : ','};
        struct cell_check check = {o.decimal, 0};
        struct ingest_reader *r = NULL;
        struct kpi_error err = {0};
        ck_assert_int_eq(ingest_open(path, "w.csv", &o, &r, &err), 0);
        const struct ingest_sink sink = {cell_row, cell_bad, &check};
        ck_assert_int_eq(ingest_read(r, &sink, &err), 0);
        ck_assert_uint_eq(check.rows, n);
        ingest_close(r);
    }
    ts_rm_rf(dir);
    free(path);
    free(dir);
    kpi_buf_free(&csv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ingest_numbers");
    TCase *tc = tcase_create("numbers");
    tcase_add_test(tc, test_number_dot_forms_parse);
    tcase_add_test(tc, test_number_comma_forms_parse);
    tcase_add_test(tc, test_number_trailing_percent_is_dropped);
    tcase_add_test(tc, test_number_dot_in_comma_mode_is_rejected);
    tcase_add_test(tc, test_number_bad_grouping_is_rejected);
    tcase_add_test(tc, test_number_garbage_is_rejected);
    tcase_add_test(tc, test_number_missing_tokens_are_no_value);
    tcase_add_test(tc, test_number_accountants_negatives);
    tcase_add_test(tc, test_number_currency_before_or_after_is_dropped);
    tcase_add_test(tc, test_number_excel_errors_are_no_value);
    tcase_add_test(tc, test_refused_numbers_say_which_option);
    tcase_add_test(tc, test_tab_file_with_decimal_commas_needs_decimal_option);
    tcase_add_test(tc, test_number_long_mantissa_is_correctly_rounded);
    tcase_add_test(tc, test_delimiter_most_frequent_wins);
    tcase_add_test(tc, test_delimiter_inside_quotes_is_ignored);
    tcase_add_test(tc, test_role_parse_names_and_rejects_others);
    tcase_add_test(tc, test_numbers_in_semicolon_file_use_decimal_comma);
    tcase_add_test(tc, test_decimal_option_forces_comma_in_comma_file);
    tcase_add_test(tc, test_short_cells_read_as_words_equal_the_parser);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
