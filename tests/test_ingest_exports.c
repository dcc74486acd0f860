/* ingest: files as French Excel and accounting tools write them
 * (tests/data/ingest/): Windows-1252 with title lines and CRLF, Excel's
 * "Unicode text" (UTF-16 with BOM, TAB), old Mac line ends, headers with
 * line breaks; title-line detection and --header-line; rejects files
 * written the way the input was. */
#include "test_ingest_helpers.h"

static char *data_path(const char *name)
{
    return ts_path(KPI_SOURCE_DIR "/tests/data/ingest", name);
}

#define DATA_EXPECT(name, opts, expected)                                                          \
    do {                                                                                           \
        char *path_ = data_path(name);                                                             \
        char *got_ = ti_read(path_, name, (opts));                                                 \
        ck_assert_str_eq(got_, (expected));                                                        \
        free(got_);                                                                                \
        free(path_);                                                                               \
    } while (0)

#define VIF "Ventes \xE2\x80\x93 \xC3\x8Ele-de-France"

/* Two title lines above the header; accountants' numbers, Excel's errors,
 * month forms and a date-time, all in Windows-1252 with CRLF. */
START_TEST(test_cp1252_sales_report_with_title_lines)
{
    DATA_EXPECT("ventes_titre_cp1252.csv", NULL,
                "observations long cp1252 ;\n"
                "4: " VIF "|Chiffre d'affaires|2026-01-31|V|1234.5|4\n"
                "5: " VIF "|Marge|2026-01-31|V|-1234.5|4\n"
                "6: " VIF "|Chiffre d'affaires|2026-02-28|V|-2345.75|4\n"
                "7: " VIF "|Marge|2026-02-28|V|NaN|4\n"
                "8: " VIF "|Chiffre d'affaires|2026-03-31|V|-3000|4\n"
                "9: " VIF "|Marge|2026-03-31|V|12.5|4\n"
                "10: " VIF "|Effectif|2026-03-31|V|NaN|4\n");
}
END_TEST

/* Excel's "Unicode text": UTF-16 with its BOM, TAB, decimal commas, a
 * budget sheet with mmm-yy headers. */
START_TEST(test_utf16_budget_sheet)
{
    struct ingest_options o = {.kind = INGEST_KIND_TARGETS, .decimal = ','};
    const char *rows =
        "2: " VIF "|Chiffre d'affaires|2026-01-31|T|1200.5|3 " VIF
        "|Chiffre d'affaires|2026-02-28|T|1300|4 " VIF
        "|Chiffre d'affaires|2026-03-31|T|1400.25|5 " VIF "|Chiffre d'affaires|2026-04-30|T|NaN|6\n"
        "3: " VIF "|Marge|2026-01-31|T|NaN|3 " VIF "|Marge|2026-02-28|T|10.5|4 " VIF
        "|Marge|2026-03-31|T|11|5 " VIF "|Marge|2026-04-30|T|12|6\n";
    char want[2048];
    snprintf(want, sizeof want, "targets periods utf-16le TAB\n%s", rows);
    DATA_EXPECT("budget_unicode.txt", &o, want);
    snprintf(want, sizeof want, "targets periods utf-16be TAB\n%s", rows);
    DATA_EXPECT("budget_unicode_be.txt", &o, want);
}
END_TEST

START_TEST(test_utf16_errors_give_their_line)
{
    /* "a\nb" then a lone low surrogate on line 2 */
    static const char le[] = "\xFF\xFE"
                             "a\0\n\0b\0\x00\xDC";
    char *got = ti_dump_n(le, sizeof le - 1, NULL);
    ck_assert_str_eq(got, "OPEN -2 t.csv:2: invalid UTF-16 (a low surrogate alone)\n");
    free(got);
    static const char odd[] = "\xFF\xFE"
                              "a\0b";
    got = ti_dump_n(odd, sizeof odd - 1, NULL);
    ck_assert_str_eq(
        got, "OPEN -2 t.csv:1: invalid UTF-16 (the file ends in the middle of a character)\n");
    free(got);
    static const char nul[] = "\xFE\xFF\0a\0\0";
    got = ti_dump_n(nul, sizeof nul - 1, NULL);
    ck_assert_str_eq(got, "OPEN -2 t.csv:1: NUL character\n");
    free(got);
    /* a character beyond the BMP, as a surrogate pair, in a team name */
    static const char pair[] = "\xFF\xFE"
                               "t\0e\0a\0m\0,\0k\0p\0i\0,\0d\0a\0t\0e\0,\0v\0a\0l\0u\0e\0\n\0"
                               "\x3D\xD8\x00\xDE,\0k\0,\0"
                               "2\0000\0002\0006\0,\0"
                               "1\0\n\0";
    got = ti_dump_n(pair, sizeof pair - 1, NULL);
    ck_assert_str_eq(got, "observations long utf-16le ,\n"
                          "2: \xF0\x9F\x98\x80|k|2026-12-31|V|1|4\n");
    free(got);
}
END_TEST

/* Old Mac line ends: every message gives the physical line. */
START_TEST(test_lone_cr_line_ends_give_physical_lines)
{
    DATA_EXPECT("mac_cr.csv", NULL,
                "observations long utf-8 ,\n"
                "2: ventes|ca|2026-01-31|V|100|4\n"
                "3: ventes|ca|2026-02-28|V|110|4\n"
                "ERR -2 mac_cr.csv:4:4: invalid number \"cent\" in column \"value\": expected a "
                "number (with ',' the decimal separator is '.'): 1234.50, -3, (1234.50), 12 %, "
                "1e6; empty, NA or #N/A for no value\n"
                "5: ventes|ca|2026-04-30|V|130|4\n");
    /* a quoted field over two lines, then a syntax error on line 5 */
    TI_EXPECT("date,team,kpi,value\r2026-01,\"two\rlines\",k,1\r\r2026-02,a\"b,k,2\r", NULL,
              "observations long utf-8 ,\n"
              "2: two\nlines|k|2026-01-31|V|1|4\n"
              "ERR -2 t.csv:5:2: quote inside an unquoted field (quote the whole field and double "
              "the quote)\n");
    /* CRLF files keep their CRLF inside quotes as LF, and lines as they are */
    TI_EXPECT("date,team,kpi,value\r\n2026-01,\"a\r\nb\",k,1\r\n2026-02,a,k,x\r\n", NULL,
              "observations long utf-8 ,\n"
              "2: a\nb|k|2026-01-31|V|1|4\n"
              "ERR -2 t.csv:4:4: invalid number \"x\" in column \"value\": expected a number (with "
              "',' the decimal separator is '.'): 1234.50, -3, (1234.50), 12 %, 1e6; empty, NA "
              "or #N/A for no value\n");
}
END_TEST

/* Line breaks inside a quoted header read as spaces (SPEC §4). */
START_TEST(test_header_with_line_breaks_in_quotes)
{
    DATA_EXPECT("entete_multiligne.csv", NULL,
                "observations wide utf-8 ;\n"
                "4: Ventes|Chiffre d'affaires|2026-01-31|V|1000|3 Ventes|Marge "
                "brute|2026-01-31|V|200|4\n"
                "ERR -2 entete_multiligne.csv:5:4: invalid number \"abc\" in column \"Marge "
                "brute\": expected a number (with ';' the decimal separator is ','): 1 234,50, -3, "
                "(1 234,50), 12 %, 1e6; empty, NA or #N/A for no value\n");
    /* a role name with a line break after it keeps its role */
    TI_EXPECT("date;\"\xC3\xA9quipe\r\n\";kpi;valeur\n2026-01;a;k;1\n", NULL,
              "observations long utf-8 ;\n3: a|k|2026-01-31|V|1|4\n");
}
END_TEST

START_TEST(test_semicolon_file_with_points_reads_with_decimal_option)
{
    struct ingest_options o = {.decimal = '.'};
    DATA_EXPECT("points_semicolon.csv", &o,
                "observations long utf-8 ;\n"
                "2: ventes|ca|2026-01-31|V|1234.5|4\n"
                "3: ventes|ca|2026-02-28|V|99.5|4\n");
    o.decimal = ',';
    DATA_EXPECT("virgules_tab.txt", &o,
                "observations long utf-8 TAB\n"
                "2: ventes|ca|2026-01-31|V|1234.5|4\n"
                "3: ventes|ca|2026-02-28|V|99.5|4\n");
}
END_TEST

/* The line of the header and the delimiter detected on it. */
static void header_is(const char *csv, const struct ingest_options *o, unsigned long line,
                      char delim)
{
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "h.csv");
    ts_write_file(path, csv, (size_t)-1);
    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    ck_assert_msg(ingest_open(path, "h.csv", o, &r, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(ingest_header_line(r), line);
    ck_assert_int_eq(ingest_delimiter(r), delim);
    ingest_close(r);
    ts_rm_rf(dir);
    free(path);
    free(dir);
}

START_TEST(test_title_lines_are_skipped)
{
    /* the delimiter and the decimal separator come from the header line */
    TI_EXPECT("Rapport des ventes, janvier 2026\n\ndate;team;kpi;value\n2026-01;a;k;1,5\n", NULL,
              "observations long utf-8 ;\n4: a|k|2026-01-31|V|1.5|4\n");
    header_is("Rapport des ventes, janvier 2026\n\ndate;team;kpi;value\n", NULL, 3, ';');
    header_is("date,team,kpi,value\n", NULL, 1, ',');
    header_is("\n\ndate\tteam\tkpi\tvalue\n", NULL, 3, '\t');
    /* the header on line 10 is found, on line 11 it is not */
    header_is("T\n2\n3\n4\n5\n6\n7\n8\n9\nteam,name\n", NULL, 10, ',');
    TI_EXPECT("T\n2\n3\n4\n5\n6\n7\n8\n9\n10\nteam,name\n", NULL,
              "OPEN -2 t.csv:1: the header fits no kind of file: expected date, team, kpi, value "
              "and/or target (long), date, team and one column per indicator (wide), team, kpi "
              "and one column per period (periods), or a teams or indicators catalog; line 1 "
              "reads \"T\" (delimiter ,); lines 2 to 10 are no header either (--header-line N "
              "reads it from line N)\n");
    /* a line under the title that is not even CSV is passed over */
    header_is("Titre\nx\"y,z\ndate,team,kpi,value\n", NULL, 3, ',');
    TI_EXPECT("Titre\n\"open\n", NULL,
              "OPEN -2 t.csv:1: the header fits no kind of file: expected date, team, kpi, value "
              "and/or target (long), date, team and one column per indicator (wide), team, kpi "
              "and one column per period (periods), or a teams or indicators catalog; line 1 "
              "reads \"Titre\" (delimiter ,); line 2 is no header either (--header-line N "
              "reads it from line N)\n");
    /* a budget sheet under a title still needs --kind, and says so */
    TI_EXPECT("Budget 2026\n\nteam;kpi;janv.-26;f\xC3\xA9vr.-26\na;k;1;2\n", NULL,
              "OPEN -1 t.csv:3: a file with one column per period (team, kpi, janv.-26, ...) may "
              "hold actuals or a budget: say which with --kind observations or --kind targets\n");
    /* a line 1 with a role is a bad header, never a title */
    TI_EXPECT("date,team,kpi,value,value\ndate,team,kpi,value\n", NULL,
              "OPEN -2 t.csv:1:5: column \"value\" and column 4 (\"value\") both have the role "
              "value\n");
}
END_TEST

START_TEST(test_header_line_option_forces_the_header)
{
    struct ingest_options o = {.header_line = 2};
    TI_EXPECT("date,team,kpi,value\nteam,name\na,A\n", &o,
              "teams catalog utf-8 ,\n3: ref=a name=A parent=NULL\n");
    header_is("x;y\r\nteam\tname\r\n", &o, 2, '\t');
    o.header_line = 1;
    TI_EXPECT("Titre\ndate,team,kpi,value\n", &o,
              "OPEN -2 t.csv: the header fits no kind of file: expected date, team, kpi, value "
              "and/or target (long), date, team and one column per indicator (wide), team, kpi "
              "and one column per period (periods), or a teams or indicators catalog\n");
    o.header_line = 5;
    TI_EXPECT("a\nb\n", &o, "OPEN -2 t.csv: no header at or after line 5\n");
    /* lone-CR lines are counted the same way */
    o.header_line = 3;
    header_is("Titre\rSous-titre\rteam;name\r", &o, 3, ';');
}
END_TEST

/* Write the rejects of path (read with o) for its bad records, return the
 * bytes written; *len gets their count. */
struct rejects_run {
    struct ingest_reader *r;
    FILE *out;
};

static int rj_row(void *ctx, const struct ingest_row *row)
{
    (void)ctx;
    (void)row;
    return 0;
}

static int rj_bad(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    struct rejects_run *run = ctx;
    ck_assert_int_eq(
        ingest_rejects_row(run->r, run->out, row->fields, row->field_count, why->message), 0);
    return 0;
}

static char *rejects_of(const char *path, const struct ingest_options *o, size_t *len)
{
    struct rejects_run run = {0};
    struct kpi_error err = {0};
    ck_assert_int_eq(ingest_open(path, "in.csv", o, &run.r, &err), 0);
    run.out = tmpfile();
    ck_assert_ptr_nonnull(run.out);
    ck_assert_int_eq(ingest_rejects_header(run.r, run.out), 0);
    const struct ingest_sink sink = {rj_row, rj_bad, &run};
    ck_assert_int_eq(ingest_read(run.r, &sink, &err), 0);
    long n = ftell(run.out);
    char *buf = calloc(1, (size_t)n + 1);
    rewind(run.out);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, run.out), (size_t)n);
    fclose(run.out);
    ingest_close(run.r);
    *len = (size_t)n;
    return buf;
}

static char *rejects_of_text(const char *csv, size_t csv_len, const struct ingest_options *o,
                             size_t *len)
{
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "in.csv");
    ts_write_file(path, csv, csv_len);
    char *got = rejects_of(path, o, len);
    ts_rm_rf(dir);
    free(path);
    free(dir);
    return got;
}

/* A ';' Windows-1252 CRLF file gets ';' Windows-1252 CRLF rejects. */
START_TEST(test_rejects_in_cp1252_semicolon_crlf)
{
    static const char in[] = "Mois;\xC9quipe;Valeur\r\n"
                             "janv.-26;Ventes \x96 \xCEle;1.234,50\r\n"
                             "f\xE9vr.-26;Ventes;12\r\n";
    struct ingest_options o = {.kpi = "ca"};
    size_t len;
    char *got = rejects_of_text(in, sizeof in - 1, &o, &len);
    static const char want[] =
        "Mois;\xC9quipe;Valeur;error\r\n"
        "janv.-26;Ventes \x96 \xCEle;1.234,50;\"in.csv:2:3: invalid number \"\"1.234,50\"\" in "
        "column \"\"Valeur\"\": with ';' the decimal separator is ',', and a '.' between "
        "thousands is never guessed (1.234 may mean 1234 or 1,234): remove the dots (1234,50 or "
        "1 234,50)\"\r\n";
    ck_assert_uint_eq(len, sizeof want - 1);
    ck_assert_mem_eq(got, want, len);
    free(got);
}
END_TEST

/* UTF-16 input, UTF-16 rejects of the same byte order with their BOM. */
START_TEST(test_rejects_in_utf16)
{
    char *path = data_path("budget_unicode.txt");
    struct ingest_options o = {.kind = INGEST_KIND_TARGETS};
    size_t len;
    char *got = rejects_of(path, &o, &len);
    ck_assert_uint_ge(len, 4);
    ck_assert_mem_eq(got, "\xFF\xFE\xC9\0q\0", 6); /* BOM, then "Éq" */
    /* back to UTF-8 to read it */
    struct kpi_buf u = {0};
    for (size_t i = 2; i + 1 < len; i += 2) {
        unsigned cp = (unsigned char)got[i] | (unsigned)(unsigned char)got[i + 1] << 8;
        char c[4];
        size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        if (n == 1) {
            c[0] = (char)cp;
        } else if (n == 2) {
            c[0] = (char)(0xC0 | cp >> 6);
            c[1] = (char)(0x80 | (cp & 0x3F));
        } else {
            c[0] = (char)(0xE0 | cp >> 12);
            c[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            c[2] = (char)(0x80 | (cp & 0x3F));
        }
        kpi_buf_append(&u, c, n);
    }
    ck_assert_str_eq(
        u.data, "\xC3\x89quipe\tIndicateur\tjanv.-26\tf\xC3\xA9vr.-26\tmars-26\tavr.-26\terror\r\n"
                "" VIF "\tChiffre d'affaires\t1200,5\t1300\t1 400,25\t\t\"in.csv:2:3: invalid "
                "number \"\"1200,5\"\" in column \"\"janv.-26\"\": with TAB the decimal separator "
                "is '.'; use --decimal , if this file writes 1234,50\"\r\n"
                "" VIF "\tMarge\t#N/A\t10,5\t11\t12\t\"in.csv:3:4: invalid number \"\"10,5\"\" in "
                "column \"\"f\xC3\xA9vr.-26\"\": with TAB the decimal separator is '.'; use "
                "--decimal , if this file writes 1234,50\"\r\n");
    kpi_buf_free(&u);
    free(got);
    free(path);
}
END_TEST

/* Old Mac line ends give lone-CR rejects; a UTF-8 BOM is kept. */
START_TEST(test_rejects_keep_line_ends_and_bom)
{
    size_t len;
    char *got = rejects_of_text("\xEF\xBB\xBF"
                                "date,team,kpi,value\r2026-01,a,k,x\r",
                                (size_t)-1, NULL, &len);
    static const char want[] = "\xEF\xBB\xBF"
                               "date,team,kpi,value,error\r2026-01,a,k,x,\"in.csv:2:4: invalid "
                               "number \"\"x\"\" in column \"\"value\"\": expected a number (with "
                               "',' the decimal separator is '.'): 1234.50, -3, (1234.50), 12 %, "
                               "1e6; empty, NA or #N/A for no value\"\r";
    ck_assert_uint_eq(len, sizeof want - 1);
    ck_assert_mem_eq(got, want, len);
    free(got);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ingest_exports");
    TCase *tc = tcase_create("exports");
    tcase_add_test(tc, test_cp1252_sales_report_with_title_lines);
    tcase_add_test(tc, test_utf16_budget_sheet);
    tcase_add_test(tc, test_utf16_errors_give_their_line);
    tcase_add_test(tc, test_lone_cr_line_ends_give_physical_lines);
    tcase_add_test(tc, test_header_with_line_breaks_in_quotes);
    tcase_add_test(tc, test_semicolon_file_with_points_reads_with_decimal_option);
    tcase_add_test(tc, test_title_lines_are_skipped);
    tcase_add_test(tc, test_header_line_option_forces_the_header);
    tcase_add_test(tc, test_rejects_in_cp1252_semicolon_crlf);
    tcase_add_test(tc, test_rejects_in_utf16);
    tcase_add_test(tc, test_rejects_keep_line_ends_and_bom);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
