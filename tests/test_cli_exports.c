/* End-to-end: `kpi import` of files as French Excel and accounting tools
 * write them (tests/data/ingest/): the summary of a file with title lines,
 * a budget sheet without --kind, the options that make refused numbers
 * read, and rejects files written the way the input was. */
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA KPI_SOURCE_DIR "/tests/data/ingest/"

/* Run kpi --data <dir>/data args... in dir. */
static void kpi_in(struct ts_run *r, const char *dir, const char *const *args)
{
    ck_assert_int_eq(chdir(dir), 0);
    const char *argv[32] = {"--data", "data"};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

START_TEST(test_title_lines_are_said_in_the_summary)
{
    char *dir = ts_tempdir("exports");
    struct ts_run r;
    kpi_in(&r, dir, (const char *[]){"import", DATA "ventes_titre_cp1252.csv", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, DATA "ventes_titre_cp1252.csv: 7 rows, 5 new, 0 corrected, 0 "
                                 "unchanged, 2 empty, 0 rejected, 2 series, 1 new teams, 2 new "
                                 "indicators, header on line 3\n");
    ts_run_free(&r);
    kpi_in(&r, dir,
           (const char *[]){"import", "--json", "--dry-run", DATA "ventes_titre_cp1252.csv", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "\"header_line\":3") != NULL, "%s", r.out);
    ts_run_free(&r);
    /* what was stored: the accountants' numbers with their signs (the
     * #N/A row of "Effectif" carries no value: it creates nothing) */
    kpi_in(&r, dir, (const char *[]){"export", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "date,team,kpi,value,target\n"
                            "2026-01,ventes-ile-de-france,chiffre-d-affaires,1234.5,\n"
                            "2026-02,ventes-ile-de-france,chiffre-d-affaires,-2345.75,\n"
                            "2026-03,ventes-ile-de-france,chiffre-d-affaires,-3000,\n"
                            "2026-01,ventes-ile-de-france,marge,-1234.5,\n"
                            "2026-03,ventes-ile-de-france,marge,12.5,\n");
    ts_run_free(&r);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* A budget sheet imported as actuals overwrote real figures: exit 1 and
 * nothing written, until --kind says what the sheet holds. */
START_TEST(test_budget_sheet_needs_kind)
{
    char *dir = ts_tempdir("exports");
    struct ts_run r;
    kpi_in(&r, dir, (const char *[]){"import", "--decimal", ",", DATA "budget_unicode.txt", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "kpi: " DATA "budget_unicode.txt:1: a file with one column per "
                            "period (team, kpi, janv.-26, ...) may hold actuals or a budget: say "
                            "which with --kind observations or --kind targets\n");
    ck_assert_int_eq(access("data", F_OK), -1);
    ts_run_free(&r);
    kpi_in(&r, dir,
           (const char *[]){"import", "--kind", "targets", "--decimal", ",",
                            DATA "budget_unicode.txt", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, DATA "budget_unicode.txt: 2 rows, 6 new, 0 corrected, 0 unchanged, "
                                 "2 empty, 0 rejected, 2 series, 1 new teams, 2 new indicators\n");
    ts_run_free(&r);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_decimal_option_reads_the_other_convention)
{
    char *dir = ts_tempdir("exports");
    struct ts_run r;
    kpi_in(&r, dir, (const char *[]){"import", "--dry-run", DATA "points_semicolon.csv", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, DATA "points_semicolon.csv:2:4: invalid number \"1234.50\" in "
                                     "column \"value\": with ';' the decimal separator is ','; "
                                     "use --decimal . if this file writes 1234.50\n") != NULL,
                  "%s", r.err);
    ts_run_free(&r);
    kpi_in(&r, dir,
           (const char *[]){"import", "--dry-run", "--decimal", ".", DATA "points_semicolon.csv",
                            NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *[]){"import", "--dry-run", DATA "virgules_tab.txt", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "virgules_tab.txt:2:4: invalid number \"1234,50\" in column "
                                "\"value\": with TAB the decimal separator is '.'; use --decimal "
                                ", if this file writes 1234,50\n") != NULL,
                  "%s", r.err);
    ts_run_free(&r);
    kpi_in(
        &r, dir,
        (const char *[]){"import", "--dry-run", "--decimal", ",", DATA "virgules_tab.txt", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_header_line_option)
{
    char *dir = ts_tempdir("exports");
    char *path = ts_path(dir, "t.csv");
    ts_write_file(path, "date,team,kpi,value\nteam,name\nx,X\n", (size_t)-1);
    struct ts_run r;
    kpi_in(&r, dir, (const char *[]){"import", "--header-line", "2", "t.csv", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out,
                     "t.csv: 1 rows, 0 new, 0 corrected, 0 unchanged, 0 empty, 0 "
                     "rejected, 0 series, 1 new teams, 0 new indicators, header on line 2\n");
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *[]){"import", "--header-line", "0", "t.csv", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "invalid --header-line \"0\" (expected a line number)"));
    ts_run_free(&r);
    ts_rm_rf(dir);
    free(path);
    free(dir);
}
END_TEST

/* The rejects of a ';' Windows-1252 CRLF export open in the Excel that
 * made it: same delimiter, encoding and line ends. */
START_TEST(test_rejects_file_in_the_input_format)
{
    char *dir = ts_tempdir("exports");
    struct ts_run r;
    kpi_in(&r, dir,
           (const char *[]){"import", "--on-error", "skip", "--rejects", "rejets.csv",
                            DATA "points_semicolon.csv", NULL});
    ck_assert_int_eq(r.status, 2);
    ts_run_free(&r);
    char *path = ts_path(dir, "rejets.csv");
    size_t len;
    char *got = ts_read_file(path, &len);
    ck_assert_str_eq(got, "date;team;kpi;value;error\r\n"
                          "2026-01;ventes;ca;1234.50;\"" DATA
                          "points_semicolon.csv:2:4: invalid number \"\"1234.50\"\" in column "
                          "\"\"value\"\": with ';' the decimal separator is ','; use --decimal . "
                          "if this file writes 1234.50\"\r\n"
                          "2026-02;ventes;ca;99.5;\"" DATA
                          "points_semicolon.csv:3:4: invalid number \"\"99.5\"\" in column "
                          "\"\"value\"\": with ';' the decimal separator is ','; use --decimal . "
                          "if this file writes 1234.50\"\r\n");
    free(got);
    kpi_in(&r, dir,
           (const char *[]){"import", "--on-error", "skip", "--rejects", "rejets.csv",
                            DATA "ventes_titre_cp1252.csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    got = ts_read_file(path, &len);
    ck_assert_str_eq(got, ""); /* nothing rejected: an empty file */
    free(got);
    free(path);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_exports");
    TCase *tc = tcase_create("exports");
    tcase_add_test(tc, test_title_lines_are_said_in_the_summary);
    tcase_add_test(tc, test_budget_sheet_needs_kind);
    tcase_add_test(tc, test_decimal_option_reads_the_other_convention);
    tcase_add_test(tc, test_header_line_option);
    tcase_add_test(tc, test_rejects_file_in_the_input_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
