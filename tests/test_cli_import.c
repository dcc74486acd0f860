/* End-to-end tests of `kpi import` and the commands that read back what it
 * stored (export, teams, series): the real binary on files written here. */
#include "support/support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A scratch directory with a data directory path inside it. */
struct scene {
    char *root;
    char *data;
};

static void scene_open(struct scene *s, const char *tag)
{
    s->root = ts_tempdir(tag);
    s->data = ts_path(s->root, "data");
}

static void scene_close(struct scene *s)
{
    ts_rm_rf(s->root);
    free(s->root);
    free(s->data);
}

/* Write `content` to root/name and return name (caller frees): kpi runs in
 * the scene's root, so messages name the file as a user would type it. */
static char *scene_file(const struct scene *s, const char *name, const char *content)
{
    char *path = ts_path(s->root, name);
    ts_write_file(path, content, (size_t)-1);
    free(path);
    return strdup(name);
}

/* Run kpi --data <data> args... in the scene's root directory. */
static void kpi(struct ts_run *r, const struct scene *s, const char *const *args)
{
    ck_assert_int_eq(chdir(s->root), 0);
    const char *argv[32] = {"--data", s->data};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

static char *export_all(const struct scene *s)
{
    struct ts_run r;
    kpi(&r, s, (const char *[]){"export", NULL});
    ck_assert_msg(r.status == 0, "export failed: %s", r.err);
    free(r.err);
    return r.out;
}

START_TEST(test_long_file_imports_and_exports_exactly)
{
    struct scene s;
    scene_open(&s, "long");
    char *csv = scene_file(&s, "sales.csv",
                           "date,team,kpi,value\n"
                           "2026-01-31,north,revenue,1234.5\n"
                           "2026-02,north,revenue,0.1\n"
                           "2026-03-15,north,revenue,-3\n"
                           "2026-01,south,revenue,1e6\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", csv, NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "sales.csv: 4 rows, 4 new, 0 corrected, 0 unchanged, 0 empty, "
                            "0 rejected, 2 series, 2 new teams, 1 new indicators\n");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,north,revenue,1234.5,\n"
                          "2026-02,north,revenue,0.1,\n"
                          "2026-03,north,revenue,-3,\n"
                          "2026-01,south,revenue,1000000,\n");
    free(out);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_reimport_same_file_changes_nothing)
{
    struct scene s;
    scene_open(&s, "idem");
    char *csv = scene_file(&s, "a.csv",
                           "date,team,kpi,value\n2026-01,north,revenue,10\n2026-02,north,revenue,"
                           "20\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--quiet", csv, NULL});
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    char *before = ts_tree_digest(s.data);
    kpi(&r, &s, (const char *[]){"import", csv, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "a.csv: 2 rows, 0 new, 0 corrected, 2 unchanged, 0 empty, "
                            "0 rejected, 1 series, 0 new teams, 0 new indicators\n");
    ts_run_free(&r);
    char *after = ts_tree_digest(s.data);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_correction_of_old_period_after_later_ones)
{
    struct scene s;
    scene_open(&s, "correct");
    char *a = scene_file(&s, "a.csv",
                         "date,team,kpi,value\n2026-03,north,revenue,30\n2026-01,north,revenue,"
                         "10\n2026-02,north,revenue,20\n");
    char *b = scene_file(&s, "b.csv", "date,team,kpi,value\n2026-01,north,revenue,11\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--quiet", a, NULL});
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"import", b, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "0 new, 1 corrected, 0 unchanged"));
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,north,revenue,11,\n"
                          "2026-02,north,revenue,20,\n"
                          "2026-03,north,revenue,30,\n");
    free(out);
    free(a);
    free(b);
    scene_close(&s);
}
END_TEST

START_TEST(test_rfc4180_quoting_crlf_and_no_final_newline)
{
    struct scene s;
    scene_open(&s, "quoting");
    /* A team name with the delimiter, doubled quotes and a line break, CRLF
     * line ends and no newline after the last record. */
    char *teams = scene_file(&s, "teams.csv",
                             "team,name\r\n"
                             "north,\"Nord, \"\"le grand\"\"\r\nsite 2\"\r\n"
                             "south,Sud");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--kind", "teams", teams, NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"teams", "--format", "json", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "{\"teams\":[{\"id\":\"north\",\"name\":\"Nord, \\\"le "
                            "grand\\\"\\nsite 2\",\"parent\":null,\"children\":[]},"
                            "{\"id\":\"south\",\"name\":\"Sud\",\"parent\":null,"
                            "\"children\":[]}]}\n");
    ts_run_free(&r);
    free(teams);
    scene_close(&s);
}
END_TEST

START_TEST(test_french_excel_cp1252_semicolon_decimal_comma)
{
    struct scene s;
    scene_open(&s, "excel");
    /* Windows-1252 bytes: 0xC9 = É, 0xE9 = é, 0xA0 = no-break space. */
    char *csv = scene_file(&s, "ventes.csv",
                           "Date;\xC9quipe;Indicateur;Valeur\r\n"
                           "31/01/2026;Ventes \xCEle-de-France;Chiffre d'affaires;1\xA0"
                           "234,5\r\n"
                           "28/02/2026;Ventes \xCEle-de-France;Chiffre d'affaires;n.d.\r\n"
                           "31/03/2026;Ventes \xCEle-de-France;Chiffre d'affaires;12,5 %\r\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", csv, NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "ventes.csv: 3 rows, 2 new, 0 corrected, 0 unchanged, 1 empty, "
                            "0 rejected, 1 series, 1 new teams, 1 new indicators\n");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,ventes-ile-de-france,chiffre-d-affaires,1234.5,\n"
                          "2026-03,ventes-ile-de-france,chiffre-d-affaires,12.5,\n");
    free(out);
    kpi(&r, &s, (const char *[]){"teams", "--format", "csv", NULL});
    ck_assert_str_eq(r.out, "id,name,parent\nventes-ile-de-france,Ventes Île-de-France,\n");
    ts_run_free(&r);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_utf8_bom_wide_layout)
{
    struct scene s;
    scene_open(&s, "bom");
    char *csv = scene_file(&s, "hr.csv",
                           "\xEF\xBB\xBF"
                           "date,team,headcount,absenteeism\n"
                           "2026-01,north,12,3.5\n"
                           "2026-02,north,13,\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", csv, NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ck_assert_str_eq(r.out, "hr.csv: 2 rows, 3 new, 0 corrected, 0 unchanged, 1 empty, "
                            "0 rejected, 2 series, 1 new teams, 2 new indicators\n");
    ts_run_free(&r);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,north,absenteeism,3.5,\n"
                          "2026-01,north,headcount,12,\n"
                          "2026-02,north,headcount,13,\n");
    free(out);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_bad_number_aborts_whole_file_with_position)
{
    struct scene s;
    scene_open(&s, "bad");
    char *good = scene_file(&s, "good.csv", "date,team,kpi,value\n2026-01,north,revenue,1\n");
    char *bad = scene_file(&s, "sales.csv",
                           "date,team,kpi,value\n"
                           "2026-02,north,revenue,2\n"
                           "2026-03,north,revenue,12;3.4\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--quiet", good, NULL});
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    char *before = ts_tree_digest(s.root);
    kpi(&r, &s, (const char *[]){"import", bad, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "sales.csv:3:4: invalid number \"12;3.4\" in column \"value\""),
                  "stderr: %s", r.err);
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
    char *after = ts_tree_digest(s.root);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(good);
    free(bad);
    scene_close(&s);
}
END_TEST

START_TEST(test_unterminated_quote_is_bad_input)
{
    struct scene s;
    scene_open(&s, "quote");
    char *bad = scene_file(&s, "q.csv", "date,team,kpi,value\n2026-01,\"north,revenue,1\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", bad, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "q.csv:2:2:") != NULL, "stderr: %s", r.err);
    ts_run_free(&r);
    free(bad);
    scene_close(&s);
}
END_TEST

/* Quoting errors do not hide where their record ends: each bad row is
 * reported and, with --on-error skip, the good row after them is imported. */
START_TEST(test_quoting_errors_do_not_hide_later_rows)
{
    struct scene s;
    scene_open(&s, "quoting");
    char *csv = scene_file(&s, "q.csv",
                           "date,team,kpi,value\n2026-01,a,b,1\"2\n2026-02,a,b,\"1\"x\n"
                           "2026-03,a,b,zz\n2026-04,a,b,5\n");
    char *rejects = ts_path(s.root, "rejects.csv");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--on-error", "skip", "--rejects", rejects, csv, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "q.csv: 4 rows, 1 new, 0 corrected, 0 unchanged, 0 empty, "
                            "3 rejected, 1 series, 1 new teams, 1 new indicators\n");
    ck_assert_str_eq(
        r.err, "q.csv:2:4: quote inside an unquoted field (quote the whole field and double "
               "the quote)\n"
               "q.csv:3:4: text after a closing quote (expected a delimiter or the end of the "
               "line)\n"
               "q.csv:4:4: invalid number \"zz\" in column \"value\": expected a number (with "
               "',' the decimal separator is '.'): 1234.50, -3, (1234.50), 12 %, 1e6; empty, NA "
               "or #N/A for no value\n"
               "q.csv:5: created team \"a\" (no parent)\n"
               "q.csv:5: created indicator \"b\" (no family)\n");
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"series", "a", "b", "--format", "csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "period,date,value,target,rolled_up\n2026-04,2026-04-30,5,,false\n");
    ts_run_free(&r);
    /* records without fields keep their message in the error column */
    char *text = ts_read_file(rejects, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strncmp(text,
                          "date,team,kpi,value,error\n"
                          ",,,,q.csv:2:4: quote inside an unquoted field (quote the whole field "
                          "and double the quote)\n"
                          ",,,,q.csv:3:4: text after a closing quote (expected a delimiter or the "
                          "end of the line)\n"
                          "2026-03,a,b,zz,\"q.csv:4:4: invalid number \"\"zz\"\"",
                          230) == 0,
                  "rejects: %s", text);
    free(text);
    free(rejects);
    free(csv);
    scene_close(&s);
}
END_TEST

/* An unterminated quote ends the reading, and says so: with --on-error skip
 * the rows before it are imported, nothing after it is counted. */
START_TEST(test_unterminated_quote_says_the_rest_was_not_read)
{
    struct scene s;
    scene_open(&s, "unterminated");
    char *csv = scene_file(&s, "u.csv",
                           "date,team,kpi,value\n2026-01,a,b,1\n2026-02,a,b,\"2\n2026-03,a,b,3\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--on-error", "skip", csv, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "u.csv: 2 rows, 1 new, 0 corrected, 0 unchanged, 0 empty, "
                            "1 rejected, 1 series, 1 new teams, 1 new indicators\n");
    ck_assert_msg(strstr(r.err, "u.csv:3:4: unterminated quote opened here; the rest of the file "
                                "was not read\n") != NULL,
                  "stderr: %s", r.err);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"series", "a", "b", "--format", "csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "period,date,value,target,rolled_up\n2026-01,2026-01-31,1,,false\n");
    ts_run_free(&r);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_skip_mode_imports_good_rows_and_writes_rejects)
{
    struct scene s;
    scene_open(&s, "skip");
    char *csv = scene_file(&s, "mixed.csv",
                           "date,team,kpi,value\n"
                           "2026-01,north,revenue,1\n"
                           "2026-13,north,revenue,2\n"
                           "2026-03,north,revenue,3\n");
    char *rejects = ts_path(s.root, "rejects.csv");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--on-error", "skip", "--rejects", rejects, csv, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "mixed.csv: 3 rows, 2 new, 0 corrected, 0 unchanged, 0 empty, "
                            "1 rejected, 1 series, 1 new teams, 1 new indicators\n");
    ck_assert_msg(strstr(r.err, "mixed.csv:3:1: invalid date \"2026-13\""), "stderr: %s", r.err);
    ts_run_free(&r);
    char *text = ts_read_file(rejects, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strncmp(text, "date,team,kpi,value,error\n2026-13,north,revenue,2,", 50) == 0,
                  "rejects: %s", text);
    free(text);
    char *out = export_all(&s);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n"
                          "2026-01,north,revenue,1,\n"
                          "2026-03,north,revenue,3,\n");
    free(out);
    free(rejects);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_dry_run_writes_nothing)
{
    struct scene s;
    scene_open(&s, "dry");
    char *csv = scene_file(&s, "a.csv", "date,team,kpi,value\n2026-01,north,revenue,1\n");
    char *before = ts_tree_digest(s.root);
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--dry-run", csv, NULL});
    ck_assert_msg(r.status == 0, "stderr: %s", r.err);
    ck_assert_str_eq(r.out, "a.csv: 1 rows, 1 new, 0 corrected, 0 unchanged, 0 empty, "
                            "0 rejected, 1 series, 1 new teams, 1 new indicators (dry run)\n");
    ts_run_free(&r);
    char *after = ts_tree_digest(s.root);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_json_summary_has_every_key)
{
    struct scene s;
    scene_open(&s, "json");
    char *csv = scene_file(&s, "a.csv", "date,team,kpi,value\n2026-01,north,revenue,1\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--json", csv, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "{\"file\":\"a.csv\",\"rows\":1,\"new\":1,\"corrected\":0,"
                            "\"unchanged\":0,\"empty\":0,\"rejected\":0,\"series\":1,"
                            "\"new_teams\":1,\"new_indicators\":1,\"total_rows_skipped\":0}\n");
    ts_run_free(&r);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_hostile_ids_stay_inside_data_directory)
{
    struct scene s;
    scene_open(&s, "escape");
    char *csv = scene_file(&s, "evil.csv",
                           "date,team,kpi,value\n"
                           "2026-01,..,revenue,1\n"
                           "2026-01,../x,revenue,2\n"
                           "2026-01,a/b,../../etc/passwd,3\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--on-error", "skip", csv, NULL});
    /* ".." slugifies to nothing: rejected; the others become x and a-b */
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "evil.csv:2:") != NULL, "stderr: %s", r.err);
    ts_run_free(&r);
    char *digest = ts_tree_digest(s.root);
    /* everything written is under data/ */
    for (char *line = digest; line && *line;) {
        ck_assert_msg(strncmp(line, "data/", 5) == 0 || strncmp(line, "evil.csv ", 9) == 0,
                      "file outside the data directory: %s", line);
        char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    ck_assert_ptr_nonnull(strstr(digest, "data/series/x/revenue.rrd"));
    ck_assert_ptr_nonnull(strstr(digest, "data/series/a-b/etc-passwd.rrd"));
    free(digest);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_roundtrip_export_import_export_is_identical)
{
    struct scene s, t;
    scene_open(&s, "round1");
    scene_open(&t, "round2");
    char *teams = scene_file(&s, "teams.csv", "team,name,parent\nco,Company,\nnorth,Nord,co\n");
    char *inds = scene_file(&s, "inds.csv",
                            "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
                            "revenue,Revenue,financial,EUR,up,month,sum,0.05,0.1,2\n"
                            "nps,NPS,customer,points,up,quarter,mean,0.1,0.2,1\n"
                            "visits,Visits,customer,,up,week,sum,,,\n");
    char *data = scene_file(&s, "data.csv",
                            "date,team,kpi,value,target\n"
                            "2026-01,north,revenue,0.30000000000000004,100\n"
                            "2026-03,north,revenue,,120\n"
                            "2026-Q1,north,nps,42,\n"
                            "2026-W01,north,visits,7,\n"
                            "2025-12-29,north,visits,,9\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--quiet", teams, inds, data, NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ts_run_free(&r);
    /* export the three parts from the first directory */
    const char *kinds[] = {"teams", "indicators", NULL};
    char *paths[3];
    char *first[3];
    for (size_t i = 0; i < 3; i++) {
        if (kinds[i])
            kpi(&r, &s, (const char *[]){"export", "--kind", kinds[i], NULL});
        else
            kpi(&r, &s, (const char *[]){"export", NULL});
        ck_assert_int_eq(r.status, 0);
        first[i] = r.out;
        free(r.err);
        char name[32];
        snprintf(name, sizeof name, "export%zu.csv", i);
        paths[i] = scene_file(&t, name, first[i]);
    }
    ck_assert_str_eq(first[2], "date,team,kpi,value,target\n"
                               "2026-Q1,north,nps,42,\n"
                               "2026-01,north,revenue,0.30000000000000004,100\n"
                               "2026-03,north,revenue,,120\n"
                               "2026-W01,north,visits,7,9\n");
    kpi(&r, &t, (const char *[]){"import", "--quiet", "--kind", "teams", paths[0], NULL});
    ck_assert_msg(r.status == 0, "import teams: %s", r.err);
    ts_run_free(&r);
    kpi(&r, &t, (const char *[]){"import", "--quiet", "--kind", "indicators", paths[1], NULL});
    ck_assert_msg(r.status == 0, "import indicators: %s", r.err);
    ts_run_free(&r);
    kpi(&r, &t, (const char *[]){"import", "--quiet", paths[2], NULL});
    ck_assert_msg(r.status == 0, "import data: %s", r.err);
    ts_run_free(&r);
    for (size_t i = 0; i < 3; i++) {
        if (kinds[i])
            kpi(&r, &t, (const char *[]){"export", "--kind", kinds[i], NULL});
        else
            kpi(&r, &t, (const char *[]){"export", NULL});
        ck_assert_str_eq(r.out, first[i]);
        ts_run_free(&r);
        free(first[i]);
        free(paths[i]);
    }
    free(teams);
    free(inds);
    free(data);
    scene_close(&s);
    scene_close(&t);
}
END_TEST

START_TEST(test_exit_codes_usage_notfound_system)
{
    struct scene s;
    scene_open(&s, "exit");
    char *csv = scene_file(&s, "a.csv", "date,team,kpi,value\n2026-01,north,revenue,1\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--quiet", csv, NULL});
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"series", "nobody", "revenue", NULL});
    ck_assert_int_eq(r.status, 4);
    ck_assert_msg(strstr(r.err, "unknown team \"nobody\""), "stderr: %s", r.err);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"teams", "--format", "xml", NULL});
    ck_assert_int_eq(r.status, 1);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"import", "--bogus", csv, NULL});
    ck_assert_int_eq(r.status, 1);
    ts_run_free(&r);
    const char *argv[] = {"--data", csv, "teams", NULL}; /* a file, not a directory */
    ts_kpi(&r, NULL, argv);
    ck_assert_int_eq(r.status, 3);
    ts_run_free(&r);
    char *missing = ts_path(s.root, "missing.csv");
    kpi(&r, &s, (const char *[]){"import", missing, NULL});
    ck_assert_int_eq(r.status, 3);
    ts_run_free(&r);
    free(missing);
    free(csv);
    scene_close(&s);
}
END_TEST

START_TEST(test_series_shows_interpolated_targets_and_gaps)
{
    struct scene s;
    scene_open(&s, "series");
    char *csv = scene_file(&s, "a.csv",
                           "date,team,kpi,value,target\n"
                           "2026-01,north,revenue,10,100\n"
                           "2026-03,north,revenue,30,\n"
                           "2026-05,north,revenue,,140\n");
    struct ts_run r;
    kpi(&r, &s, (const char *[]){"import", "--quiet", csv, NULL});
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    kpi(&r, &s, (const char *[]){"series", "north", "revenue", "--format", "csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "period,date,value,target,rolled_up\n"
                            "2026-01,2026-01-31,10,100,false\n"
                            "2026-02,2026-02-28,,110,false\n"
                            "2026-03,2026-03-31,30,120,false\n"
                            "2026-04,2026-04-30,,130,false\n"
                            "2026-05,2026-05-31,,140,false\n");
    ts_run_free(&r);
    free(csv);
    scene_close(&s);
}
END_TEST

/* Every kind of bad input: its message names file, line and column and says
 * what was expected, the exit code is 2, and nothing is written (the data
 * directory is not even created by a failed first import). */
static const struct {
    const char *name;
    const char *content;
    const char *args[4];
    const char *message;
} bad_inputs[] = {
    {"q1.csv",
     "date,team,kpi,value\n2026-01,no\"rth,revenue,1\n",
     {NULL},
     "q1.csv:2:2: quote inside an unquoted field"},
    {"q2.csv",
     "date,team,kpi,value\n2026-01,\"north\"x,revenue,1\n",
     {NULL},
     "q2.csv:2:2: text after a closing quote"},
    {"q3.csv", "date,team,kpi,value\n2026-01,\"north,revenue,1\n", {NULL}, "q3.csv:2:2:"},
    {"date.csv",
     "date,team,kpi,value\n2026-02-30,north,revenue,1\n",
     {NULL},
     "date.csv:2:1: invalid date \"2026-02-30\" in column \"date\" (expected YYYY-MM-DD"},
    {"cp.csv",
     "date,team,kpi,value\n2026-01,\xe9quipe\x81,revenue,1\n",
     {NULL},
     "cp.csv:2:2: byte 0x81 is undefined in Windows-1252"},
    {"nul.csv", NULL, {NULL}, NULL},
    {"rag.csv",
     "date,team,kpi,value\n2026-01,north,revenue,1,9\n",
     {NULL},
     "rag.csv:2:5: the record has 5 fields, the header has 4"},
    {"dec.csv",
     "date;team;kpi;value\n2026-01;north;revenue;1.234\n",
     {NULL},
     "dec.csv:2:4: invalid number \"1.234\" in column \"value\""},
    {"empty.csv", "", {NULL}, "empty.csv: empty file (no header)"},
    {"strict.csv",
     "date,team,kpi,value\n2026-01,ghost,revenue,1\n",
     {"--strict", NULL},
     "strict.csv:2: unknown team \"ghost\""},
};

START_TEST(test_bad_input_is_reported_and_writes_nothing)
{
    struct scene s;
    scene_open(&s, "badinput");
    const size_t i = (size_t)_i;
    if (bad_inputs[i].message == NULL) { /* a NUL byte cannot sit in a C literal */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", s.root, bad_inputs[i].name);
        const char data[] = "date,team,kpi,value\n2026-01,nor\0th,revenue,1\n";
        ts_write_file(path, data, sizeof data - 1);
    } else {
        free(scene_file(&s, bad_inputs[i].name, bad_inputs[i].content));
    }
    char *before = ts_tree_digest(s.root);
    const char *argv[8] = {"import"};
    size_t n = 1;
    for (size_t k = 0; bad_inputs[i].args[k]; k++)
        argv[n++] = bad_inputs[i].args[k];
    argv[n++] = bad_inputs[i].name;
    argv[n] = NULL;
    struct ts_run r;
    kpi(&r, &s, argv);
    ck_assert_msg(r.status == 2, "%s: exit %d, stderr: %s", bad_inputs[i].name, r.status, r.err);
    const char *want = bad_inputs[i].message ? bad_inputs[i].message : "nul.csv:2:2: NUL byte";
    ck_assert_msg(strstr(r.err, want) != NULL, "%s: expected \"%s\" in: %s", bad_inputs[i].name,
                  want, r.err);
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
    char *after = ts_tree_digest(s.root);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    scene_close(&s);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cli_import");
    TCase *tc = tcase_create("import");
    tcase_add_test(tc, test_long_file_imports_and_exports_exactly);
    tcase_add_test(tc, test_reimport_same_file_changes_nothing);
    tcase_add_test(tc, test_correction_of_old_period_after_later_ones);
    tcase_add_test(tc, test_rfc4180_quoting_crlf_and_no_final_newline);
    tcase_add_test(tc, test_french_excel_cp1252_semicolon_decimal_comma);
    tcase_add_test(tc, test_utf8_bom_wide_layout);
    tcase_add_test(tc, test_bad_number_aborts_whole_file_with_position);
    tcase_add_test(tc, test_unterminated_quote_is_bad_input);
    tcase_add_test(tc, test_quoting_errors_do_not_hide_later_rows);
    tcase_add_test(tc, test_unterminated_quote_says_the_rest_was_not_read);
    tcase_add_test(tc, test_skip_mode_imports_good_rows_and_writes_rejects);
    tcase_add_test(tc, test_dry_run_writes_nothing);
    tcase_add_test(tc, test_json_summary_has_every_key);
    tcase_add_test(tc, test_hostile_ids_stay_inside_data_directory);
    tcase_add_test(tc, test_roundtrip_export_import_export_is_identical);
    tcase_add_test(tc, test_exit_codes_usage_notfound_system);
    tcase_add_test(tc, test_series_shows_interpolated_targets_and_gaps);
    tcase_add_loop_test(tc, test_bad_input_is_reported_and_writes_nothing, 0,
                        (int)(sizeof bad_inputs / sizeof bad_inputs[0]));
    suite_add_tcase(suite, tc);
    return ts_run_suite(suite);
}
