/* End-to-end tests of what an import means (SPEC §4 "Semantics"): near-miss
 * references, total rows, teams and indicators created by data files,
 * duplicate cells within one file and --aggregate. The input files under
 * tests/data/semantics/ are written as the tools write them: the catalogs in
 * UTF-8 with LF, French Excel's exports in cp1252 with ';' and CRLF. kpi
 * runs in that directory, so messages name the files as a user types them. */
#include "support/support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA_DIR KPI_SOURCE_DIR "/tests/data/semantics"

struct scene {
    char *root;
    char *data;
};

/* A scratch data directory with the teams and indicators catalogs. */
static void scene_open(struct scene *s, const char *tag);

/* Run kpi --data <data> args... in tests/data/semantics. */
static void kpi(struct ts_run *r, const struct scene *s, const char *const *args)
{
    ck_assert_int_eq(chdir(DATA_DIR), 0);
    const char *argv[32] = {"--data", s->data};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

static void kpi_ok(const struct scene *s, const char *const *args)
{
    struct ts_run r;
    kpi(&r, s, args);
    ck_assert_msg(r.status == 0, "kpi %s %s: exit %d: %s", args[0], args[1], r.status, r.err);
    ts_run_free(&r);
}

static void scene_open(struct scene *s, const char *tag)
{
    s->root = ts_tempdir(tag);
    s->data = ts_path(s->root, "data");
    kpi_ok(s, (const char *const[]){"import", "--quiet", "teams.csv", "--kind", "teams", NULL});
    kpi_ok(s, (const char *const[]){"import", "--quiet", "indicators.csv", "--kind", "indicators",
                                    NULL});
}

static void scene_close(struct scene *s)
{
    ts_rm_rf(s->root);
    free(s->root);
    free(s->data);
}

static char *export_all(const struct scene *s)
{
    struct ts_run r;
    kpi(&r, s, (const char *const[]){"export", NULL});
    ck_assert_msg(r.status == 0, "export failed: %s", r.err);
    free(r.err);
    return r.out;
}

/* ------------------------------------------------------------ references */

/* ventes_janvier.csv, a report retyped by hand:
 *   line 2 "Ventes - Ile de France" / "Chiffre d’affaires" (hyphen, no
 *     accents, curly apostrophe): their slugs are those of the names
 *     "Ventes – Île-de-France" and "Chiffre d'affaires";
 *   line 3 "VENTES – AUVERGNE-RHONE-ALPES" / "chiffre d'affaires": names
 *     folded (case and accents);
 *   line 4 "EXPORT & GRANDS-COMPTES" / "Chiffre d'Affaires": the slug of
 *     "Export & grands comptes";
 *   lines 5, 8, 9 "Sous-total", "Total général", "TOTAL": skipped;
 *   line 6 the marge of Île-de-France by its name;
 *   line 7 "Ventes Lyonn" / "Taux de marge brut": typos, created. */
START_TEST(test_near_miss_names_resolve_and_totals_are_skipped)
{
    struct scene s;
    scene_open(&s, "refs");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "ventes_janvier.csv", NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "ventes_janvier.csv: 8 rows, 5 new, 0 corrected, 0 unchanged, 0 empty, "
                            "0 rejected, 5 series, 1 new teams, 1 new indicators, "
                            "3 total rows skipped\n");
    ck_assert_str_eq(r.err, "ventes_janvier.csv:7: created team \"Ventes Lyonn\" "
                            "(id ventes-lyonn, no parent)\n"
                            "ventes_janvier.csv:7: created indicator \"Taux de marge brut\" "
                            "(id taux-de-marge-brut, no family)\n");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,export,ca,250340.91,\n"
                          "2026-01,ventes-ara,ca,263464.04,\n"
                          "2026-01,ventes-idf,ca,406860.44,\n"
                          "2026-01,ventes-idf,marge,36.5,\n"
                          "2026-01,ventes-lyonn,taux-de-marge-brut,29.9,\n");
    free(out);
    /* Again: every value unchanged, nothing created, the totals skipped. */
    kpi(&r, &s, (const char *const[]){"import", "--json", "ventes_janvier.csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "{\"file\":\"ventes_janvier.csv\",\"rows\":8,\"new\":0,"
                            "\"corrected\":0,\"unchanged\":5,\"empty\":0,\"rejected\":0,"
                            "\"series\":5,\"new_teams\":0,\"new_indicators\":0,"
                            "\"total_rows_skipped\":3}\n");
    ck_assert_str_eq(r.err, "");
    ts_run_free(&r);
    scene_close(&s);
}
END_TEST

START_TEST(test_strict_rejects_only_the_typos)
{
    struct scene s;
    scene_open(&s, "strict");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "--strict", "ventes_janvier.csv", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "ventes_janvier.csv:7: unknown team \"Ventes Lyonn\" (--strict)\n"
                            "ventes_janvier.csv: 1 bad rows, nothing imported "
                            "(see --on-error skip)\n");
    ts_run_free(&r);
    scene_close(&s);
}
END_TEST

START_TEST(test_budget_sheet_total_line_is_skipped)
{
    struct scene s;
    scene_open(&s, "budget");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "--kind", "targets", "budget_2026.csv", NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "budget_2026.csv: 3 rows, 6 new, 0 corrected, 0 unchanged, 0 empty, "
                            "0 rejected, 2 series, 0 new teams, 0 new indicators, "
                            "1 total rows skipped\n");
    ck_assert_str_eq(r.err, "");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,ventes-ara,ca,,345000\n"
                          "2026-02,ventes-ara,ca,,346000\n"
                          "2026-03,ventes-ara,ca,,347000\n"
                          "2026-01,ventes-idf,ca,,391000\n"
                          "2026-02,ventes-idf,ca,,392000\n"
                          "2026-03,ventes-idf,ca,,393000\n");
    free(out);
    scene_close(&s);
}
END_TEST

/* 23 new teams: the first 20 are named with their line, then a count;
 * --quiet silences them with the summary; a refused file names none. */
START_TEST(test_created_names_first_twenty_then_a_count)
{
    struct scene s;
    scene_open(&s, "created");
    char text[4096] = "date,team,kpi,value\n";
    for (int i = 1; i <= 23; i++) {
        char line[64];
        snprintf(line, sizeof line, "2026-01-31,Agence %02d,ca,%d\n", i, i);
        strcat(text, line);
    }
    char *path = ts_path(s.root, "agences.csv");
    ts_write_file(path, text, (size_t)-1);
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "--dry-run", path, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(ts_count_lines_with(r.err, "created team \"Agence "), 20);
    char first[4200], last[4200];
    snprintf(first, sizeof first, "%s:2: created team \"Agence 01\" (id agence-01, no parent)\n",
             path);
    snprintf(last, sizeof last,
             "%s:21: created team \"Agence 20\" (id agence-20, no parent)\n"
             "%s: ... and 3 more created\n",
             path, path);
    ck_assert_msg(strncmp(r.err, first, strlen(first)) == 0, "stderr: %s", r.err);
    ck_assert_msg(strstr(r.err, last) != NULL, "stderr: %s", r.err);
    ts_run_free(&r);
    kpi(&r, &s, (const char *const[]){"import", "--quiet", path, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "");
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
    /* a file refused as a whole creates nothing and says nothing of it */
    ts_write_file(path, "date,team,kpi,value\n2026-01-31,Agence 99,ca,1\n2026-13-01,x,ca,2\n",
                  (size_t)-1);
    kpi(&r, &s, (const char *const[]){"import", path, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_null(strstr(r.err, "created team"));
    ts_run_free(&r);
    free(path);
    scene_close(&s);
}
END_TEST

/* ------------------------------------------------------------ duplicates */

static const char DETAIL_ERRORS[] =
    "ventes_detail.csv:5:4: duplicate value for ventes-idf/ca 2026-01: 999 here, 100 on line 2; "
    "use --aggregate to combine detail rows\n"
    "ventes_detail.csv:6:4: duplicate value for ventes-idf/marge 2026-01: 34 here, 30 on line 3; "
    "use --aggregate to combine detail rows\n";

/* ventes_detail.csv, daily lines of January: ventes-idf ca 100 (line 2)
 * then 999 (line 5), marge 30 (line 3) then 34 (line 6); ventes-ara ca
 * 250,5 twice (lines 4 and 7: the same value, an idempotent row). */
START_TEST(test_duplicate_cells_are_bad_input_naming_both_lines)
{
    struct scene s;
    scene_open(&s, "dup");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "ventes_detail.csv", NULL});
    ck_assert_int_eq(r.status, 2);
    char want[1024];
    snprintf(want, sizeof want, "%s%s", DETAIL_ERRORS,
             "ventes_detail.csv: 2 bad rows, nothing imported (see --on-error skip)\n");
    ck_assert_str_eq(r.err, want);
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n");
    free(out);
    /* the same file on standard input (read once: remembered from the
     * start) says the same */
    char *text = ts_read_file(DATA_DIR "/ventes_detail.csv", NULL);
    ck_assert_int_eq(chdir(DATA_DIR), 0);
    ts_kpi(&r, text, (const char *const[]){"--data", s.data, "import", "-", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "stdin:5:4: duplicate value for ventes-idf/ca 2026-01: "
                                        "999 here, 100 on line 2;"));
    ck_assert_ptr_nonnull(strstr(r.err, "stdin:6:4: duplicate value for ventes-idf/marge "
                                        "2026-01: 34 here, 30 on line 3;"));
    ts_run_free(&r);
    free(text);
    scene_close(&s);
}
END_TEST

/* --on-error skip: the later row of a pair is rejected, the earlier value
 * stays (the rejected row can be re-imported as a correction). */
START_TEST(test_duplicate_with_skip_keeps_the_first_row)
{
    struct scene s;
    scene_open(&s, "dupskip");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "--on-error", "skip", "ventes_detail.csv", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, DETAIL_ERRORS);
    ck_assert_str_eq(r.out, "ventes_detail.csv: 6 rows, 3 new, 0 corrected, 1 unchanged, 0 empty, "
                            "2 rejected, 3 series, 0 new teams, 0 new indicators\n");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,ventes-ara,ca,250.5,\n"
                          "2026-01,ventes-idf,ca,100,\n"
                          "2026-01,ventes-idf,marge,30,\n");
    free(out);
    scene_close(&s);
}
END_TEST

/* --aggregate: ca is a sum (100 + 999 = 1099, 250.5 + 250.5 = 501), marge
 * a mean ((30 + 34) / 2 = 32). A second import changes nothing, byte for
 * byte. */
START_TEST(test_aggregate_combines_detail_rows_by_the_indicator)
{
    struct scene s;
    scene_open(&s, "agg");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "--aggregate", "ventes_detail.csv", NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "ventes_detail.csv: 6 rows, 3 new, 0 corrected, 0 unchanged, 0 empty, "
                            "0 rejected, 3 series, 0 new teams, 0 new indicators\n");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,ventes-ara,ca,501,\n"
                          "2026-01,ventes-idf,ca,1099,\n"
                          "2026-01,ventes-idf,marge,32,\n");
    free(out);
    char *before = ts_tree_digest(s.data);
    kpi(&r, &s, (const char *const[]){"import", "--aggregate", "ventes_detail.csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "ventes_detail.csv: 6 rows, 0 new, 0 corrected, 3 unchanged, 0 empty, "
                            "0 rejected, 3 series, 0 new teams, 0 new indicators\n");
    ts_run_free(&r);
    char *after = ts_tree_digest(s.data);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    scene_close(&s);
}
END_TEST

/* ventes_doublon.csv gives ventes-idf's January twice with the same value:
 * an idempotent row, counted unchanged. */
START_TEST(test_same_value_twice_is_not_an_error)
{
    struct scene s;
    scene_open(&s, "same");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "ventes_doublon.csv", NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "ventes_doublon.csv: 3 rows, 2 new, 0 corrected, 1 unchanged, 0 empty, "
                            "0 rejected, 2 series, 0 new teams, 0 new indicators\n");
    ts_run_free(&r);
    scene_close(&s);
}
END_TEST

/* A file correcting stored data: its first row for a cell is a correction,
 * a second row with the same value is unchanged, with another value an
 * error naming both lines; targets the same way. */
START_TEST(test_duplicates_of_stored_cells_and_of_targets)
{
    struct scene s;
    scene_open(&s, "stored");
    char *first = ts_path(s.root, "first.csv");
    ts_write_file(first,
                  "date,team,kpi,value,target\n"
                  "2026-01,ventes-idf,ca,100,110\n"
                  "2026-02,ventes-idf,ca,200,210\n",
                  (size_t)-1);
    kpi_ok(&s, (const char *const[]){"import", "--quiet", first, NULL});
    char *fix = ts_path(s.root, "fix.csv");
    ts_write_file(fix,
                  "date;team;kpi;value\r\n"
                  "2026-01;ventes-idf;ca;150\r\n"
                  "2026-02;ventes-idf;ca;200\r\n"
                  "2026-01;ventes-idf;ca;150\r\n",
                  (size_t)-1);
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", fix, NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, ": 3 rows, 0 new, 1 corrected, 2 unchanged,"));
    ts_run_free(&r);
    ts_write_file(fix,
                  "date;team;kpi;value\r\n"
                  "2026-02;ventes-idf;ca;200\r\n"
                  "2026-01;ventes-idf;ca;160\r\n"
                  "2026-02;ventes-idf;ca;250\r\n",
                  (size_t)-1);
    kpi(&r, &s, (const char *const[]){"import", fix, NULL});
    ck_assert_int_eq(r.status, 2);
    char want[4200];
    snprintf(want, sizeof want,
             "%s:4:4: duplicate value for ventes-idf/ca 2026-02: 250 here, 200 on line 2; "
             "use --aggregate to combine detail rows\n",
             fix);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "stderr: %s", r.err);
    ts_run_free(&r);
    ts_write_file(fix,
                  "date,team,kpi,target\n"
                  "2026-03-31,ventes-idf,ca,300\n"
                  "2026-03-15,ventes-idf,ca,310\n",
                  (size_t)-1);
    kpi(&r, &s, (const char *const[]){"import", fix, NULL});
    ck_assert_int_eq(r.status, 2);
    snprintf(want, sizeof want,
             "%s:3:4: duplicate target for ventes-idf/ca 2026-03: 310 here, 300 on line 2; "
             "use --aggregate to combine detail rows\n",
             fix);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "stderr: %s", r.err);
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,ventes-idf,ca,150,110\n"
                          "2026-02,ventes-idf,ca,200,210\n");
    free(out);
    free(first);
    free(fix);
    scene_close(&s);
}
END_TEST

/* A wide row whose second cell is a duplicate is rejected whole: none of
 * its cells is staged. */
START_TEST(test_wide_row_with_a_duplicate_is_rejected_whole)
{
    struct scene s;
    scene_open(&s, "wide");
    char *path = ts_path(s.root, "wide.csv");
    ts_write_file(path,
                  "date,team,marge,ca\n"
                  "2026-01-31,ventes-idf,30,100\n"
                  "2026-01-31,ventes-ara,31,200\n"
                  "2026-01-15,ventes-idf,35,300\n",
                  (size_t)-1);
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"import", "--on-error", "skip", path, NULL});
    ck_assert_int_eq(r.status, 2);
    char want[4200];
    snprintf(want, sizeof want,
             "%s:4:3: duplicate value for ventes-idf/marge 2026-01: 35 here, 30 on line 2; "
             "use --aggregate to combine detail rows\n",
             path);
    ck_assert_str_eq(r.err, want);
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,ventes-ara,ca,200,\n"
                          "2026-01,ventes-ara,marge,31,\n"
                          "2026-01,ventes-idf,ca,100,\n"
                          "2026-01,ventes-idf,marge,30,\n");
    free(out);
    free(path);
    scene_close(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_semantics");
    TCase *tc = tcase_create("semantics");
    tcase_add_test(tc, test_near_miss_names_resolve_and_totals_are_skipped);
    tcase_add_test(tc, test_strict_rejects_only_the_typos);
    tcase_add_test(tc, test_budget_sheet_total_line_is_skipped);
    tcase_add_test(tc, test_created_names_first_twenty_then_a_count);
    tcase_add_test(tc, test_duplicate_cells_are_bad_input_naming_both_lines);
    tcase_add_test(tc, test_duplicate_with_skip_keeps_the_first_row);
    tcase_add_test(tc, test_aggregate_combines_detail_rows_by_the_indicator);
    tcase_add_test(tc, test_same_value_twice_is_not_an_error);
    tcase_add_test(tc, test_duplicates_of_stored_cells_and_of_targets);
    tcase_add_test(tc, test_wide_row_with_a_duplicate_is_rejected_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
