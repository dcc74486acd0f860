/* Notes on periods end to end (SPEC §11): kpi note as a commit, its errors
 * and exit codes, notes in history, log and check, and a database of
 * format 1 (no notes table) read as it is and converted by its first
 * write -- with the real binary. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX 2000 /* bytes, SPEC §11 */

static char *kpi_ok(const char *const *argv)
{
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "kpi %s %s: exit %d: %s", argv[2], argv[3] ? argv[3] : "",
                  r.status, r.err);
    free(r.err);
    return r.out;
}

/* Run kpi expecting exit code status and a message containing msg. */
static void kpi_fails(const char *const *argv, int status, const char *msg)
{
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == status, "kpi %s: exit %d, expected %d: %s", argv[2], r.status, status,
                  r.err);
    ck_assert_msg(strstr(r.err, msg) != NULL, "stderr \"%s\" lacks \"%s\"", r.err, msg);
    ts_run_free(&r);
}

static void sql_exec(const char *data, const char *sql)
{
    char *path = ts_path(data, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    free(path);
}

/* The first column of the first row of query, as text ("" for none). */
static char *sql_one(const char *data, const char *query)
{
    char *path = ts_path(data, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    const char *t = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "";
    char *out = strdup(t != NULL ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return out;
}

/* A data directory with sales/revenue, Jan 100 and Feb 90 (targets 110):
 * commit 1. *root is the scratch directory (caller removes it). */
static char *fixture(char **root)
{
    *root = ts_tempdir("notes");
    char *data = ts_path(*root, "data");
    char *file = ts_path(*root, "jan.csv");
    ts_write_file(file,
                  "date,team,kpi,value,target\n2026-01,sales,revenue,100,110\n"
                  "2026-02,sales,revenue,90,110\n",
                  (size_t)-1);
    const char *argv[] = {"--data", data, "import", file, "--author", "ana", "--quiet", NULL};
    free(kpi_ok(argv));
    free(file);
    return data;
}

START_TEST(test_note_is_a_commit_of_kind_note_in_log_and_history)
{
    char *root, *data = fixture(&root);
    const char *set[] = {
        "--data",   data,         "note",
        "--author", "bob",        "sales",
        "revenue",  "2026-02-14", "Strike in the warehouse\nfrom the 3rd to the 10th",
        NULL};
    char *out = kpi_ok(set);
    ck_assert_str_eq(out, "note set in commit 2\n");
    free(out);
    /* the same text again changes nothing: no commit */
    out = kpi_ok(set);
    ck_assert_str_eq(out, "unchanged: no commit\n");
    free(out);
    const char *log[] = {"--data", data, "log", "--format", "csv", "--limit", "1", NULL};
    out = kpi_ok(log);
    /* rows 1, 1 new cell, 0 corrected, 1 series, team sales; source "kpi note" */
    ck_assert_msg(strstr(out, ",bob,note,kpi note,") != NULL, "%s", out);
    ck_assert_msg(strstr(out, ",1,1,0,1,sales\n") != NULL, "%s", out);
    free(out);
    /* log --kpi keeps the note commit */
    const char *logk[] = {"--data", data, "log", "--kpi", "revenue", "--format", "json", NULL};
    out = kpi_ok(logk);
    ck_assert_msg(strstr(out, "\"id\":2,") != NULL && strstr(out, "\"kind\":\"note\"") != NULL,
                  "%s", out);
    free(out);
    /* replaced, then removed (an empty text, blanks only) */
    const char *fix[] = {"--data", data, "note", "sales", "revenue", "2026-02", "  Strike  ", NULL};
    out = kpi_ok(fix);
    ck_assert_str_eq(out, "note set in commit 3\n");
    free(out);
    const char *del[] = {"--data", data, "note", "sales", "revenue", "2026-02", " \n", NULL};
    out = kpi_ok(del);
    ck_assert_str_eq(out, "note removed in commit 4\n");
    free(out);
    const char *hist[] = {"--data",   data,      "history",  "sales", "revenue",
                          "--period", "2026-02", "--format", "json",  NULL};
    out = kpi_ok(hist);
    ck_assert_msg(strstr(out, "{\"period\":\"2026-02\",\"date\":\"2026-02-28\",\"field\":\"note\","
                              "\"value\":\"Strike in the warehouse\\nfrom the 3rd to the "
                              "10th\",\"commit\":2,") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "\"field\":\"note\",\"value\":\"Strike\",\"commit\":3,") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "\"field\":\"note\",\"value\":null,\"commit\":4,") != NULL, "%s",
                  out);
    free(out);
    /* the third commit corrected a note, the fourth removed it */
    const char *log2[] = {"--data", data, "log", "--format", "csv", "--limit", "2", NULL};
    out = kpi_ok(log2);
    ck_assert_int_eq((int)ts_count_lines_with(out, ",1,0,1,1,sales"), 2);
    free(out);
    /* removing a note that is not there: no commit */
    out = kpi_ok(del);
    ck_assert_str_eq(out, "unchanged: no commit\n");
    free(out);
    char *n = sql_one(data, "SELECT count(*) FROM commits");
    ck_assert_str_eq(n, "4");
    free(n);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_note_on_a_period_without_value_and_a_name_reference)
{
    char *root, *data = fixture(&root);
    /* July has no value: the note may explain why (decision); the team is
     * found by its display name as well */
    const char *set[] = {"--data",  data,         "note",          "Sales",
                         "revenue", "2026-07-31", "ERP migration", NULL};
    char *out = kpi_ok(set);
    ck_assert_str_eq(out, "note set in commit 2\n");
    free(out);
    char *t = sql_one(data, "SELECT period || ':' || text FROM notes");
    /* July 2026 = 2026 * 12 + 6 */
    ck_assert_str_eq(t, "24318:ERP migration");
    free(t);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_note_errors_and_exit_codes)
{
    char *root, *data = fixture(&root);
    char long_text[NOTE_MAX + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0'; /* 2,001 bytes */
    const char *too_long[] = {"--data",  data,      "note",    "sales",
                              "revenue", "2026-02", long_text, NULL};
    kpi_fails(too_long, 2, "kpi: note of 2001 bytes (at most 2000 bytes of UTF-8)");
    long_text[NOTE_MAX] = '\0'; /* exactly 2,000 bytes: fine */
    char *out = kpi_ok(too_long);
    ck_assert_str_eq(out, "note set in commit 2\n");
    free(out);
    const char *tab[] = {"--data", data, "note", "sales", "revenue", "2026-02", "a\tb", NULL};
    kpi_fails(tab, 2, "note contains the control character 0x09 at byte 2");
    const char *c1[] = {"--data", data, "note", "sales", "revenue", "2026-02", "a\xc2\x85", NULL};
    kpi_fails(c1, 2, "note contains the control character U+0085 at byte 2");
    const char *latin1[] = {"--data",  data,      "note",     "sales",
                            "revenue", "2026-02", "gr\xe8ve", NULL};
    kpi_fails(latin1, 2, "note is not valid UTF-8");
    const char *team[] = {"--data", data, "note", "nobody", "revenue", "2026-02", "x", NULL};
    kpi_fails(team, 4, "unknown team \"nobody\"");
    const char *kpi[] = {"--data", data, "note", "sales", "margin", "2026-02", "x", NULL};
    kpi_fails(kpi, 4, "unknown indicator \"margin\"");
    const char *date[] = {"--data", data, "note", "sales", "revenue", "2026-13", "x", NULL};
    kpi_fails(date, 1, "kpi note: invalid DATE");
    const char *few[] = {"--data", data, "note", "sales", "revenue", "2026-02", NULL};
    kpi_fails(few, 1, "expected TEAM KPI DATE TEXT");
    /* nothing of the refused notes was written */
    char *n = sql_one(data, "SELECT count(*) FROM commits");
    ck_assert_str_eq(n, "2");
    free(n);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_check_finds_a_note_changed_with_the_sqlite3_tool)
{
    char *root, *data = fixture(&root);
    const char *set[] = {"--data", data, "note", "sales", "revenue", "2026-02", "Strike", NULL};
    free(kpi_ok(set));
    const char *check[] = {"--data", data, "check", NULL};
    free(kpi_ok(check));
    sql_exec(data, "UPDATE notes SET text = 'All fine' WHERE commit_id = 2");
    struct ts_run r;
    ts_kpi(&r, NULL, check);
    ck_assert_int_eq(r.status, 3);
    ck_assert_msg(strstr(r.out, "commit 2: changed after it was written") != NULL, "%s", r.out);
    ts_run_free(&r);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_format_1_read_as_it_is_and_converted_by_its_first_write)
{
    char *root, *data = fixture(&root);
    /* what a directory written before notes holds */
    sql_exec(data, "DROP TABLE notes; PRAGMA user_version=1;");
    const char *hist[] = {"--data", data, "history", "sales", "revenue", "--format", "csv", NULL};
    char *out = kpi_ok(hist);
    /* the header and the values of January and February */
    ck_assert_int_eq((int)ts_count_lines_with(out, ",value,"), 3);
    free(out);
    const char *check[] = {"--data", data, "check", NULL};
    free(kpi_ok(check));
    const char *log[] = {"--data", data, "log", "--team", "sales", "--format", "csv", NULL};
    free(kpi_ok(log));
    /* reading changed nothing */
    char *v = sql_one(data, "PRAGMA user_version");
    ck_assert_str_eq(v, "1");
    free(v);
    const char *set[] = {"--data", data, "note", "sales", "revenue", "2026-01", "Launch", NULL};
    out = kpi_ok(set);
    ck_assert_str_eq(out, "note set in commit 2\n");
    free(out);
    /* converted to the latest format (3: notes, and points and versions
     * keyed by time bucket) */
    v = sql_one(data, "PRAGMA user_version");
    ck_assert_str_eq(v, "3");
    free(v);
    v = sql_one(data, "SELECT text FROM notes WHERE commit_id = 2");
    ck_assert_str_eq(v, "Launch");
    free(v);
    free(kpi_ok(check));
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_revert_puts_back_notes_and_refuses_notes_changed_later)
{
    char *root, *data = fixture(&root);
    const char *a[] = {"--data", data, "note", "sales", "revenue", "2026-02", "Strike", NULL};
    const char *b[] = {"--data",  data,      "note",           "sales",
                       "revenue", "2026-02", "Strike, 8 days", NULL};
    free(kpi_ok(a));
    free(kpi_ok(b));
    const char *rev3[] = {"--data", data, "revert", "3", NULL};
    char *out = kpi_ok(rev3);
    ck_assert_str_eq(out, "reverted commit 3: 1 cells put back\n");
    free(out);
    char *t = sql_one(data, "SELECT text FROM notes WHERE commit_id = 4");
    ck_assert_str_eq(t, "Strike");
    free(t);
    const char *rev2[] = {"--data", data, "revert", "2", NULL};
    kpi_fails(rev2, 2, "kpi revert: sales revenue 2026-02 note: changed again by a later commit");
    const char *force[] = {"--data", data, "revert", "2", "--force", NULL};
    free(kpi_ok(force));
    t = sql_one(data, "SELECT coalesce(text, 'NULL') FROM notes WHERE commit_id = 5");
    ck_assert_str_eq(t, "NULL");
    free(t);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* Feb: 90 against 110, gap -0.1818..., off_track (red 0.10) since 2026-02 */
START_TEST(test_notes_in_series_trend_drift_and_alerts_as_known_at)
{
    char *root, *data = fixture(&root);
    const char *a[] = {"--data", data, "note", "sales", "revenue", "2026-02", "Strike", NULL};
    const char *b[] = {"--data",  data,      "note",           "sales",
                       "revenue", "2026-02", "Strike, 8 days", NULL};
    free(kpi_ok(a));
    free(kpi_ok(b));
    const char *series[] = {"--data", data, "series", "sales", "revenue", "--format", "json", NULL};
    char *out = kpi_ok(series);
    ck_assert_msg(strstr(out, "\"period\":\"2026-01\",\"date\":\"2026-01-31\",\"value\":100,"
                              "\"target\":110,\"rolled_up\":false,\"note\":null}") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "\"value\":90,\"target\":110,\"rolled_up\":false,\"note\":"
                              "\"Strike, 8 days\"}") != NULL,
                  "%s", out);
    free(out);
    /* as the data stood after commit 2 */
    const char *old[] = {"--data",   data,   "series",     "sales", "revenue",
                         "--format", "json", "--known-at", "2",     NULL};
    out = kpi_ok(old);
    ck_assert_msg(strstr(out, "\"note\":\"Strike\"}") != NULL, "%s", out);
    free(out);
    const char *before[] = {"--data",   data,   "series",     "sales", "revenue",
                            "--format", "json", "--known-at", "1",     NULL};
    out = kpi_ok(before);
    ck_assert_int_eq((int)ts_count_lines_with(out, "Strike"), 0);
    free(out);
    const char *trend[] = {"--data",  data,         "trend",    "sales", "revenue",
                           "--as-of", "2026-02-28", "--format", "json",  NULL};
    out = kpi_ok(trend);
    ck_assert_msg(strstr(out, "\"rolled_up\":false,\"note\":\"Strike, 8 days\"}") != NULL, "%s",
                  out);
    free(out);
    /* evaluated in January, the indicator's period has no note */
    const char *jan[] = {"--data",  data,         "trend",    "sales", "revenue",
                         "--as-of", "2026-01-31", "--format", "json",  NULL};
    out = kpi_ok(jan);
    ck_assert_msg(strstr(out, "\"note\":null") != NULL, "%s", out);
    free(out);
    const char *drift[] = {"--data",     data,       "drift", "sales", "--as-of",
                           "2026-02-28", "--format", "json",  NULL};
    out = kpi_ok(drift);
    ck_assert_msg(strstr(out, "\"note\":\"Strike, 8 days\"") != NULL, "%s", out);
    free(out);
    const char *alerts[] = {"--data",   data,   "alerts",     "--as-of", "2026-02-28",
                            "--format", "json", "--known-at", "2",       NULL};
    out = kpi_ok(alerts);
    ck_assert_msg(strstr(out, "\"id\":\"sales/revenue/off_track\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"gap\":-0.18181818181818182,\"note\":\"Strike\"}") != NULL, "%s",
                  out);
    free(out);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

static struct ts_run import_file(const char *data, const char *root, const char *name,
                                 const char *csv, const char *extra)
{
    char *file = ts_path(root, name);
    ts_write_file(file, csv, (size_t)-1);
    const char *argv[] = {"--data", data, "import", file, extra, NULL};
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    free(file);
    return r;
}

START_TEST(test_csv_note_column_cp1252_multiline_and_export_round_trip)
{
    char *root = ts_tempdir("notes-csv");
    char *data = ts_path(root, "data");
    /* Windows-1252, ';', a quoted note over two lines (CRLF inside: LF),
     * a note on a period without value, an empty note cell */
    struct ts_run r = import_file(data, root, "fr.csv",
                                  "date;team;kpi;valeur;Remarque\r\n"
                                  "2026-01;sales;revenue;100;\r\n"
                                  "2026-02;sales;revenue;90,5;\"Gr\xe8ve d\x92une semaine\r\n"
                                  "plan d\x92"
                                  "action\"\r\n"
                                  "2026-03;sales;revenue;;Chiffres en retard (ERP)\r\n",
                                  "--quiet");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    const char *exp[] = {"--data", data, "export", NULL};
    char *out = kpi_ok(exp);
    ck_assert_str_eq(out, "date,team,kpi,value,target,note\n"
                          "2026-01,sales,revenue,100,,\n"
                          "2026-02,sales,revenue,90.5,,\"Gr\xc3\xa8ve d\xe2\x80\x99une semaine\n"
                          "plan d\xe2\x80\x99"
                          "action\"\n"
                          "2026-03,sales,revenue,,,Chiffres en retard (ERP)\n");
    /* the export imports back with its notes, into a new directory */
    char *copy = ts_path(root, "copy");
    r = import_file(copy, root, "export.csv", out, "--quiet");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    const char *exp2[] = {"--data", copy, "export", NULL};
    char *out2 = kpi_ok(exp2);
    ck_assert_str_eq(out2, out);
    free(out2);
    /* importing the same file again changes nothing: no commit */
    r = import_file(copy, root, "export.csv", out, "--quiet");
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    char *n = sql_one(copy, "SELECT count(*) FROM commits");
    ck_assert_str_eq(n, "1");
    free(n);
    /* the import's commit holds 2 notes and 2 values (new 4) */
    n = sql_one(copy, "SELECT new || ' ' || kind FROM commits WHERE id = 1");
    ck_assert_str_eq(n, "4 import");
    free(n);
    free(out);
    /* kpi note never creates an indicator */
    const char *t[] = {"--data", data, "note", "sales", "costs", "2026-01", "x", NULL};
    kpi_fails(t, 4, "unknown indicator \"costs\"");
    free(copy);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_csv_note_errors_name_line_and_column)
{
    char *root = ts_tempdir("notes-csv");
    char *data = ts_path(root, "data");
    struct ts_run r = import_file(data, root, "two.csv",
                                  "date,team,kpi,value,comment\n"
                                  "2026-01,sales,revenue,100,Launch\n"
                                  "2026-01-31,sales,revenue,100,Launch week\n",
                                  "--quiet");
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "two.csv:3:5: another row of this file gives this period another "
                                "note") != NULL,
                  "%s", r.err);
    ts_run_free(&r);
    /* with --on-error skip the bad row leaves nothing, not even its value */
    r = import_file(data, root, "skip.csv",
                    "date,team,kpi,value,note\n"
                    "2026-01,sales,revenue,100,Launch\n"
                    "2026-02,sales,revenue,90,\"a\x01"
                    "b\"\n",
                    "--on-error=skip");
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "skip.csv:3:5: note contains the control character 0x01 at "
                                "byte 2") != NULL,
                  "%s", r.err);
    ts_run_free(&r);
    const char *exp[] = {"--data", data, "export", NULL};
    char *out = kpi_ok(exp);
    ck_assert_str_eq(out, "date,team,kpi,value,target,note\n2026-01,sales,revenue,100,,Launch\n");
    free(out);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* --column note=HEADER names the note column of a file whose header is no
 * alias of note; a note cell with a NUL byte is refused with its line and
 * column, and nothing is imported. */
START_TEST(test_csv_note_column_option_and_nul_byte)
{
    char *root = ts_tempdir("notes-csv");
    char *data = ts_path(root, "data");
    const char *csv = "date,team,kpi,value,Explanation\n"
                      "2026-01,sales,revenue,100,Launch\n";
    struct ts_run r = import_file(data, root, "plain.csv", csv, "--quiet");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    const char *exp[] = {"--data", data, "export", NULL};
    char *out = kpi_ok(exp);
    /* without the option the column is ignored: no note, no note column */
    ck_assert_str_eq(out, "date,team,kpi,value,target\n2026-01,sales,revenue,100,\n");
    free(out);
    r = import_file(data, root, "named.csv", csv, "--column=note=Explanation");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    out = kpi_ok(exp);
    ck_assert_str_eq(out, "date,team,kpi,value,target,note\n2026-01,sales,revenue,100,,Launch\n");
    free(out);
    static const char nul[] = "date,team,kpi,value,note\n"
                              "2026-02,sales,revenue,90,Str\0ike\n";
    char *file = ts_path(root, "nul.csv");
    ts_write_file(file, nul, sizeof nul - 1);
    const char *argv[] = {"--data", data, "import", file, NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "nul.csv:2:5: NUL byte") != NULL, "%s", r.err);
    ts_run_free(&r);
    out = kpi_ok(exp);
    ck_assert_str_eq(out, "date,team,kpi,value,target,note\n2026-01,sales,revenue,100,,Launch\n");
    free(out);
    const char *bad[] = {"--data", data, "import", file, "--column", "notes=x", NULL};
    kpi_fails(bad, 1,
              "invalid --column role \"notes\" (expected date, team, kpi, value, target or "
              "note)");
    free(file);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* The chart marks a noted period in RRDtool's terms: a VRULE (the note's
 * colour, #7b3294, drawn by cairo as rgb(48.235294%,...)) with the note's
 * first line as its numbered legend, which the SVG's description repeats. */
START_TEST(test_graph_marks_noted_periods_and_review_shows_notes)
{
    char *root, *data = fixture(&root);
    char *svg = ts_path(root, "chart.svg");
    const char *graph[] = {"--data", data, "graph", "sales", "revenue", "-o", svg, NULL};
    free(kpi_ok(graph));
    char *image = ts_read_file(svg, NULL);
    ck_assert_ptr_nonnull(image);
    ck_assert_ptr_null(strstr(image, "48.235294%"));
    ck_assert_ptr_null(strstr(image, "notes:"));
    free(image);
    const char *set[] = {"--data",
                         data,
                         "note",
                         "sales",
                         "revenue",
                         "2026-02",
                         "Strike: 8 days <warehouse>\nsecond line",
                         NULL};
    free(kpi_ok(set));
    free(kpi_ok(graph));
    image = ts_read_file(svg, NULL);
    ck_assert_ptr_nonnull(image);
    /* the rule and its legend's swatch */
    ck_assert_int_eq((int)ts_count_lines_with(image, "rgb(48.235294%,19.607843%,58.039216%)"), 2);
    ck_assert_msg(
        strstr(image, "; notes: [1] 2026-02: Strike: 8 days &lt;warehouse&gt; ...</desc>") != NULL,
        "%s", strstr(image, "<desc>"));
    free(image);
    /* the review: with the alert, with the indicator, on its chart */
    char *html = ts_path(root, "review.html");
    const char *review[] = {"--data", data, "review", "--as-of", "2026-02-28", "-o", html, NULL};
    free(kpi_ok(review));
    char *page = ts_read_file(html, NULL);
    ck_assert_ptr_nonnull(page);
    ck_assert_msg(strstr(page,
                         "<div class=\"note\">Note 2026-02: Strike: 8 days &lt;warehouse&gt;\n"
                         "second line</div>") != NULL,
                  "no note with the alert");
    ck_assert_msg(strstr(page, "<p class=\"note\">Note 2026-02: Strike") != NULL,
                  "no note with the indicator");
    ck_assert_msg(strstr(page, "notes: [1] 2026-02: Strike") != NULL, "no note on the chart");
    free(page);
    const char *before[] = {"--data", data, "review",     "--as-of", "2026-02-28",
                            "-o",     html, "--known-at", "1",       NULL};
    free(kpi_ok(before));
    page = ts_read_file(html, NULL);
    ck_assert_ptr_null(strstr(page, "Strike"));
    free(page);
    free(html);
    free(svg);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_notes");
    TCase *tc = tcase_create("note");
    tcase_add_test(tc, test_note_is_a_commit_of_kind_note_in_log_and_history);
    tcase_add_test(tc, test_note_on_a_period_without_value_and_a_name_reference);
    tcase_add_test(tc, test_note_errors_and_exit_codes);
    tcase_add_test(tc, test_check_finds_a_note_changed_with_the_sqlite3_tool);
    tcase_add_test(tc, test_format_1_read_as_it_is_and_converted_by_its_first_write);
    tcase_add_test(tc, test_revert_puts_back_notes_and_refuses_notes_changed_later);
    tcase_add_test(tc, test_notes_in_series_trend_drift_and_alerts_as_known_at);
    tcase_add_test(tc, test_csv_note_column_option_and_nul_byte);
    tcase_add_test(tc, test_csv_note_column_cp1252_multiline_and_export_round_trip);
    tcase_add_test(tc, test_csv_note_errors_name_line_and_column);
    tcase_add_test(tc, test_graph_marks_noted_periods_and_review_shows_notes);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
