/* History end to end (SPEC §10): directories of the ledger store converted
 * with nothing lost, commits and their log, known-at, history,
 * restatements, revert, check and backup -- with the real binary. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Run kpi with argv (NULL-terminated); stdout returned (caller frees), the
 * exit code checked. */
static char *kpi_ok(const char *stdin_data, const char *const *argv)
{
    struct ts_run r;
    ts_kpi(&r, stdin_data, argv);
    ck_assert_msg(r.status == 0, "kpi %s %s: exit %d: %s", argv[2], argv[3] ? argv[3] : "",
                  r.status, r.err);
    free(r.err);
    return r.out;
}

/* Write csv to DIR/name and import it with --author; returns the summary. */
static char *import_csv(const char *data, const char *root, const char *name, const char *csv,
                        const char *author)
{
    char *file = ts_path(root, name);
    ts_write_file(file, csv, (size_t)-1);
    const char *argv[] = {"--data", data, "import", file, "--author", author, NULL};
    char *out = kpi_ok(NULL, argv);
    free(file);
    return out;
}

/* The rows of query on DIR/kpi.db, "a|b\n" each. */
static char *sql_rows(const char *data, const char *query)
{
    char *path = ts_path(data, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    ck_assert_ptr_nonnull(out);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *t = (const char *)sqlite3_column_text(st, i);
            size_t need = len + (t ? strlen(t) : 0) + 3;
            if (need > cap) {
                cap = need * 2;
                out = realloc(out, cap);
                ck_assert_ptr_nonnull(out);
            }
            len += (size_t)sprintf(out + len, "%s%s", i ? "|" : "", t ? t : "");
        }
        out[len++] = '\n';
        out[len] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return out;
}

/* Directories written by earlier versions, each with the outputs its
 * binary printed: tests/data/legacy-v1 (before the database) and
 * tests/data/format-2 (points and versions keyed by series first). */
#define LEGACY "legacy-v1"
#define FORMAT2 "format-2"

/* A copy of tests/data/KIND/dir at ROOT/data. */
static char *copy_old_dir(const char *kind, const char *root)
{
    char *data = ts_path(root, "data");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp -a '%s/tests/data/%s/dir' '%s'", KPI_SOURCE_DIR, kind, data);
    ck_assert_int_eq(system(cmd), 0);
    return data;
}

/* The file NAME of tests/data/KIND, as printed by the binary that wrote
 * that directory. */
static char *golden(const char *kind, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/tests/data/%s/%s", KPI_SOURCE_DIR, kind, name);
    char *text = ts_read_file(rel, NULL);
    ck_assert_ptr_nonnull(text);
    return text;
}

static void expect_exports(const char *data, const char *extra_row)
{
    const char *obs[] = {"--data", data, "export", NULL};
    const char *teams[] = {"--data", data, "export", "--kind", "teams", NULL};
    const char *inds[] = {"--data", data, "export", "--kind", "indicators", NULL};
    char *out = kpi_ok(NULL, obs), *want = golden(LEGACY, "export.csv");
    if (extra_row != NULL) {
        char *grown = malloc(strlen(want) + strlen(extra_row) + 1);
        ck_assert_ptr_nonnull(grown);
        /* the extra row is a later month of lille/ca: it goes after 2026-04 */
        char *at = strstr(want, "2026-Q1");
        ck_assert_ptr_nonnull(at);
        size_t head = (size_t)(at - want);
        memcpy(grown, want, head);
        strcpy(grown + head, extra_row);
        strcat(grown, at);
        free(want);
        want = grown;
    }
    ck_assert_str_eq(out, want);
    free(out);
    free(want);
    out = kpi_ok(NULL, teams);
    want = golden(LEGACY, "teams.csv");
    ck_assert_str_eq(out, want);
    free(out);
    free(want);
    out = kpi_ok(NULL, inds);
    want = golden(LEGACY, "indicators.csv");
    ck_assert_str_eq(out, want);
    free(out);
    free(want);
}

START_TEST(test_legacy_directory_reads_back_as_written)
{
    char *root = ts_tempdir("history-legacy");
    char *data = copy_old_dir(LEGACY, root);
    expect_exports(data, NULL);
    const char *series[] = {"--data", data, "series", "lille", "ca", "--format", "csv", NULL};
    char *out = kpi_ok(NULL, series);
    ck_assert_ptr_nonnull(strstr(out, "2026-02,2026-02-28,1250.75,1150,"));
    free(out);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_legacy_directory_converted_at_its_first_write)
{
    char *root = ts_tempdir("history-legacy");
    char *data = copy_old_dir(LEGACY, root);
    /* a file that changes nothing converts nothing: the directory stays */
    char *before = ts_tree_digest(data);
    free(import_csv(data, root, "same.csv", "date,team,kpi,value\n2026-01,lille,ca,1000.5\n",
                    "ana"));
    char *after = ts_tree_digest(data);
    ck_assert_str_eq(before, after);
    char *db = ts_path(data, "kpi.db"), *ledger = ts_path(data, "ledger");
    ck_assert(!exists(db));
    /* the first change converts: commit 1 is the ledger, commit 2 the file */
    free(import_csv(data, root, "may.csv", "date,team,kpi,value\n2026-05,lille,ca,7\n", "ana"));
    ck_assert(exists(db));
    ck_assert(!exists(ledger));
    expect_exports(data, "2026-05,lille,ca,7,\n");
    char *rows = sql_rows(data, "SELECT id, author, kind, source, rows, new, corrected, series, "
                                "teams FROM commits ORDER BY id");
    char want[4096];
    snprintf(want, sizeof want,
             "1|ana|import|ledger|0|9|0|2|[\"lille\",\"nord\"]\n"
             "2|ana|import|%s/may.csv|1|1|0|1|[\"lille\"]\n",
             root);
    ck_assert_str_eq(rows, want);
    free(rows);
    free(db);
    free(ledger);
    free(before);
    free(after);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* ------------------------------------------------------------- a history */

static void sql_exec(const char *data, const char *sql)
{
    char *path = ts_path(data, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    free(path);
}

/* Four commits, worked by hand:
 * 1 teams.csv (catalog, ana): north; lille and paris under north
 * 2 jan.csv (ana): lille ca 2026-01 100 target 110, paris 2026-01 200,
 *   lille 2026-02 50                              -> 4 new, 2 series
 * 3 fix.csv (bob): lille 2026-01 125 (+25 %), 2026-02 40 (-20 %), paris
 *   2026-01 200 again (unchanged)                 -> 2 corrected, 1 series
 * 4 fix2.csv (carol): paris 2026-01 150 (-25 %), lille 2026-03 60
 *                                                 -> 1 new, 1 corrected
 * with times set to 2026-07-01T09:00, 07-02T09:00, 07-05T12:00, 07-06T08:00. */
static char *make_history(const char *root)
{
    char *data = ts_path(root, "data");
    char *file = ts_path(root, "teams.csv");
    ts_write_file(file, "team,name,parent\nnorth,North,\nlille,Lille,north\nparis,Paris,north\n",
                  (size_t)-1);
    const char *argv[] = {"--data", data,       "import", file, "--kind",
                          "teams",  "--author", "ana",    NULL};
    free(kpi_ok(NULL, argv));
    free(file);
    free(import_csv(data, root, "jan.csv",
                    "date,team,kpi,value,target\n2026-01,lille,ca,100,110\n2026-01,paris,ca,200,\n"
                    "2026-02,lille,ca,50,\n",
                    "ana"));
    free(import_csv(data, root, "fix.csv",
                    "date,team,kpi,value\n2026-01,lille,ca,125\n2026-02,lille,ca,40\n"
                    "2026-01,paris,ca,200\n",
                    "bob"));
    free(import_csv(data, root, "fix2.csv",
                    "date,team,kpi,value\n2026-01,paris,ca,150\n2026-03,lille,ca,60\n", "carol"));
    sql_exec(data, "UPDATE commits SET time = CASE id WHEN 1 THEN '2026-07-01T09:00:00Z' WHEN 2 "
                   "THEN '2026-07-02T09:00:00Z' WHEN 3 THEN '2026-07-05T12:00:00Z' ELSE "
                   "'2026-07-06T08:00:00Z' END");
    return data;
}

/* The SHA-256 of ROOT/name, in hex. */
static void file_digest(const char *root, const char *name, char hex[KPI_SHA256_HEX])
{
    char *path = ts_path(root, name);
    size_t len = 0;
    char *data = ts_read_file(path, &len);
    ck_assert_ptr_nonnull(data);
    unsigned char d[KPI_SHA256_SIZE];
    kpi_sha256(data, len, d);
    kpi_sha256_hex(d, hex);
    free(data);
    free(path);
}

START_TEST(test_log_lists_commits_newest_first_with_their_counts)
{
    char *root = ts_tempdir("history-log");
    char *data = make_history(root);
    char h1[KPI_SHA256_HEX], h2[KPI_SHA256_HEX], h3[KPI_SHA256_HEX], h4[KPI_SHA256_HEX];
    file_digest(root, "teams.csv", h1);
    file_digest(root, "jan.csv", h2);
    file_digest(root, "fix.csv", h3);
    file_digest(root, "fix2.csv", h4);
    /* sources are the file names as given */
    char want[8192];
    snprintf(want, sizeof want,
             "id,time,author,kind,source,sha256,rows,new,corrected,series,teams\n"
             "4,2026-07-06T08:00:00Z,carol,import,%s/fix2.csv,%s,2,1,1,2,lille paris\n"
             "3,2026-07-05T12:00:00Z,bob,import,%s/fix.csv,%s,3,0,2,1,lille\n"
             "2,2026-07-02T09:00:00Z,ana,import,%s/jan.csv,%s,3,4,0,2,lille paris\n"
             "1,2026-07-01T09:00:00Z,ana,catalog,%s/teams.csv,%s,3,0,0,0,lille north paris\n",
             root, h4, root, h3, root, h2, root, h1);
    const char *all[] = {"--data", data, "log", "--format", "csv", NULL};
    char *out = kpi_ok(NULL, all);
    ck_assert_str_eq(out, want);
    free(out);
    /* --team keeps the commits that changed the team's cells or its entry */
    const char *paris[] = {"--data", data, "log", "--team", "Paris", "--format", "json", NULL};
    out = kpi_ok(NULL, paris);
    snprintf(want, sizeof want,
             "{\"commits\":[{\"id\":4,\"time\":\"2026-07-06T08:00:00Z\",\"author\":\"carol\","
             "\"kind\":\"import\",\"source\":\"%s/fix2.csv\",\"sha256\":\"%s\",\"rows\":2,"
             "\"new\":1,\"corrected\":1,\"series\":2,\"teams\":[\"lille\",\"paris\"]},",
             root, h4);
    ck_assert(strncmp(out, want, strlen(want)) == 0);
    ck_assert_ptr_null(strstr(out, "\"id\":3,"));
    ck_assert_ptr_nonnull(strstr(out, "},{\"id\":2,"));
    ck_assert_ptr_nonnull(strstr(out, "},{\"id\":1,"));
    free(out);
    const char *limited[] = {"--data",  data, "log",      "--kpi", "ca",
                             "--limit", "2",  "--format", "csv",   NULL};
    out = kpi_ok(NULL, limited);
    ck_assert_uint_eq(ts_count_lines_with(out, ",import,"), 2);
    ck_assert_ptr_nonnull(strstr(out, "\n4,2026-07-06T08:00:00Z,carol,"));
    ck_assert_ptr_nonnull(strstr(out, "\n3,2026-07-05T12:00:00Z,bob,"));
    free(out);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_known_at_a_time_between_two_commits)
{
    char *root = ts_tempdir("history-known");
    char *data = make_history(root);
    /* 2026-07-05T11:59:59Z is after commit 2 and before commit 3 */
    const char *between[] = {"--data", data, "export", "--known-at", "2026-07-05T11:59:59Z", NULL};
    char *out = kpi_ok(NULL, between);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n2026-01,lille,ca,100,110\n"
                          "2026-02,lille,ca,50,\n2026-01,paris,ca,200,\n");
    free(out);
    /* a day means its end: commit 3 is in, commit 4 is not */
    const char *day[] = {"--data", data, "export", "--known-at", "2026-07-05", NULL};
    out = kpi_ok(NULL, day);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n2026-01,lille,ca,125,110\n"
                          "2026-02,lille,ca,40,\n2026-01,paris,ca,200,\n");
    free(out);
    const char *number[] = {"--data",     data, "series",   "lille", "ca",
                            "--known-at", "2",  "--format", "csv",   NULL};
    out = kpi_ok(NULL, number);
    ck_assert_ptr_nonnull(strstr(out, "2026-01,2026-01-31,100,110,"));
    ck_assert_ptr_nonnull(strstr(out, "2026-02,2026-02-28,50,"));
    ck_assert_ptr_null(strstr(out, "2026-03"));
    free(out);
    const char *latest[] = {"--data", data, "export", "--known-at", "4", NULL};
    const char *plain[] = {"--data", data, "export", NULL};
    char *a = kpi_ok(NULL, latest), *b = kpi_ok(NULL, plain);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(b, "date,team,kpi,value,target\n2026-01,lille,ca,125,110\n"
                        "2026-02,lille,ca,40,\n2026-03,lille,ca,60,\n2026-01,paris,ca,150,\n");
    free(a);
    free(b);
    /* usage errors: exit 1 */
    struct ts_run r;
    const char *before[] = {"--data", data, "drift", "--known-at", "2026-06-30", NULL};
    ts_kpi(&r, NULL, before);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "kpi: no commit at or before 2026-06-30T23:59:59Z\n");
    ts_run_free(&r);
    const char *unknown[] = {"--data", data, "alerts", "--known-at", "5", NULL};
    ts_kpi(&r, NULL, unknown);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "kpi: unknown commit 5\n");
    ts_run_free(&r);
    const char *bad[] = {"--data", data, "trend", "lille", "--known-at", "yesterday", NULL};
    ts_kpi(&r, NULL, bad);
    ck_assert_int_eq(r.status, 1);
    ts_run_free(&r);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_history_lists_every_version_oldest_first)
{
    char *root = ts_tempdir("history-cells");
    char *data = make_history(root);
    const char *all[] = {"--data", data, "history", "lille", "ca", "--format", "csv", NULL};
    char *out = kpi_ok(NULL, all);
    ck_assert_str_eq(out, "period,date,field,value,commit,time,author\n"
                          "2026-01,2026-01-31,value,100,2,2026-07-02T09:00:00Z,ana\n"
                          "2026-01,2026-01-31,target,110,2,2026-07-02T09:00:00Z,ana\n"
                          "2026-02,2026-02-28,value,50,2,2026-07-02T09:00:00Z,ana\n"
                          "2026-01,2026-01-31,value,125,3,2026-07-05T12:00:00Z,bob\n"
                          "2026-02,2026-02-28,value,40,3,2026-07-05T12:00:00Z,bob\n"
                          "2026-03,2026-03-31,value,60,4,2026-07-06T08:00:00Z,carol\n");
    free(out);
    const char *one[] = {"--data",   data,         "history",  "lille", "ca",
                         "--period", "2026-01-15", "--format", "json",  NULL};
    out = kpi_ok(NULL, one);
    ck_assert_str_eq(out, "{\"team\":\"lille\",\"kpi\":\"ca\",\"versions\":["
                          "{\"period\":\"2026-01\",\"date\":\"2026-01-31\",\"field\":\"value\","
                          "\"value\":100,\"commit\":2,\"time\":\"2026-07-02T09:00:00Z\","
                          "\"author\":\"ana\"},"
                          "{\"period\":\"2026-01\",\"date\":\"2026-01-31\",\"field\":\"target\","
                          "\"value\":110,\"commit\":2,\"time\":\"2026-07-02T09:00:00Z\","
                          "\"author\":\"ana\"},"
                          "{\"period\":\"2026-01\",\"date\":\"2026-01-31\",\"field\":\"value\","
                          "\"value\":125,\"commit\":3,\"time\":\"2026-07-05T12:00:00Z\","
                          "\"author\":\"bob\"}]}\n");
    free(out);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_restatements_sorted_by_change_with_ratios_by_hand)
{
    char *root = ts_tempdir("history-restated");
    char *data = make_history(root);
    /* lille 01: 100 -> 125 = +0.25; paris 01: 200 -> 150 = -0.25 (ties by
     * team); lille 02: 50 -> 40 = -0.2. lille 03 and the target: not
     * restated. */
    const char *all[] = {"--data", data, "restatements", "--format", "csv", NULL};
    char *out = kpi_ok(NULL, all);
    ck_assert_str_eq(out, "team,kpi,period,date,first_value,first_commit,value,commit,change\n"
                          "lille,ca,2026-01,2026-01-31,100,2,125,3,0.25\n"
                          "paris,ca,2026-01,2026-01-31,200,2,150,4,-0.25\n"
                          "lille,ca,2026-02,2026-02-28,50,2,40,3,-0.2\n");
    free(out);
    const char *since[] = {"--data", data,       "restatements", "--since",
                           "3",      "--format", "json",         NULL};
    out = kpi_ok(NULL, since);
    ck_assert_str_eq(out, "{\"restatements\":[{\"team\":\"paris\",\"kpi\":\"ca\",\"period\":"
                          "\"2026-01\",\"date\":\"2026-01-31\",\"first_value\":200,"
                          "\"first_commit\":2,\"value\":150,\"commit\":4,\"change\":-0.25}]}\n");
    free(out);
    const char *team[] = {"--data",  data,         "restatements", "--team", "north",
                          "--since", "2026-07-05", "--format",     "csv",    NULL};
    out = kpi_ok(NULL, team);
    ck_assert_uint_eq(ts_count_lines_with(out, ",ca,"), 1); /* paris, under north */
    free(out);
    const char *lille[] = {"--data", data,       "restatements", "--team",
                           "lille",  "--format", "csv",          NULL};
    out = kpi_ok(NULL, lille);
    ck_assert_uint_eq(ts_count_lines_with(out, "lille,ca,"), 2);
    ck_assert_uint_eq(ts_count_lines_with(out, "paris"), 0);
    free(out);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* ------------------------------------------------------- check, backup */

static struct ts_run run_kpi(const char *const *argv)
{
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    return r;
}

START_TEST(test_check_finds_a_value_changed_with_the_sqlite3_tool)
{
    char *root = ts_tempdir("history-check");
    char *data = make_history(root);
    const char *check[] = {"--data", data, "check", NULL};
    const char *repair[] = {"--data", data, "check", "--repair", NULL};
    /* the times were set behind kpi's back too (make_history): every
     * commit's hash fails, which is what check is for */
    struct ts_run r = run_kpi(check);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out, "commit 1: changed after it was written (its hash does not match its "
                            "content)\n"
                            "commit 2: changed after it was written (its hash does not match its "
                            "content)\n"
                            "commit 3: changed after it was written (its hash does not match its "
                            "content)\n"
                            "commit 4: changed after it was written (its hash does not match its "
                            "content)\n");
    ts_run_free(&r);
    free(data);
    ts_rm_rf(root);
    free(root);

    /* a clean history, then one value changed in the current points and
     * one in a version */
    root = ts_tempdir("history-check");
    data = ts_path(root, "data");
    free(import_csv(data, root, "a.csv",
                    "date,team,kpi,value,target\n2026-01,lille,ca,100,110\n2026-01,paris,ca,200,\n",
                    "ana"));
    free(import_csv(data, root, "b.csv", "date,team,kpi,value\n2026-02,lille,ca,125\n", "bob"));
    const char *check2[] = {"--data", data, "check", NULL};
    r = run_kpi(check2);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
    sql_exec(data, "UPDATE points SET value = 7 WHERE value = 200");
    r = run_kpi(check2);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out,
                     "kpi.db: paris/ca 2026-01: the current value differs from its "
                     "versions\n"
                     "series/paris/ca.rrd: value on 2026-01-01 holds 200, the data says 7\n");
    ts_run_free(&r);
    const char *repair2[] = {"--data", data, "check", "--repair", NULL};
    r = run_kpi(repair2);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "kpi.db: paris/ca 2026-01: the current value differs from its "
                            "versions (rebuilt)\n");
    ts_run_free(&r);
    r = run_kpi(check2);
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    /* a version changed: the hash chain says which commit */
    sql_exec(data, "UPDATE versions SET value = 126 WHERE value = 125; UPDATE points SET value = "
                   "126 WHERE value = 125");
    r = run_kpi(check2);
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out, "commit 2: changed after it was written (its hash does not match its "
                            "content)\n"
                            "series/lille/ca.rrd: value on 2026-02-01 holds 125, the data says "
                            "126\n");
    ts_run_free(&r);
    r = run_kpi(repair2); /* the RRD follows; the history stays wrong */
    ck_assert_int_eq(r.status, 3);
    ts_run_free(&r);
    (void)check;
    (void)repair;
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_check_finds_a_corrupt_rrd_and_a_damaged_database)
{
    char *root = ts_tempdir("history-damage");
    char *data = ts_path(root, "data");
    free(import_csv(data, root, "a.csv",
                    "date,team,kpi,value,target\n2026-01,lille,ca,100,110\n2026-02,lille,ca,90,\n",
                    "ana"));
    char *rrd = ts_path(data, "series/lille/ca.rrd");
    size_t len;
    char *bytes = ts_read_file(rrd, &len);
    ck_assert_ptr_nonnull(bytes);
    ts_write_file(rrd, bytes, 1000); /* cut short */
    const char *check[] = {"--data", data, "check", NULL};
    const char *repair[] = {"--data", data, "check", "--repair", NULL};
    struct ts_run r = run_kpi(check);
    ck_assert_int_eq(r.status, 3);
    ck_assert_msg(strncmp(r.out, "series/lille/ca.rrd: unreadable: ", 33) == 0, "%s", r.out);
    ck_assert_uint_eq(ts_count_lines_with(r.out, ".rrd"), 1);
    ts_run_free(&r);
    r = run_kpi(repair);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(ts_count_lines_with(r.out, "(rebuilt)"), 1);
    ts_run_free(&r);
    r = run_kpi(check);
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    size_t len2;
    char *again = ts_read_file(rrd, &len2);
    ck_assert_uint_eq(len2, len);
    free(again);
    /* the database damaged: 4 KiB of zeros over its second page, once the
     * commits are copied into it (kpi leaves them in the WAL until a
     * checkpoint; the sqlite3 tool closing last makes one too) */
    sql_exec(data, "PRAGMA wal_checkpoint(TRUNCATE)");
    char *db = ts_path(data, "kpi.db");
    size_t dlen;
    char *dbytes = ts_read_file(db, &dlen);
    ck_assert_uint_gt(dlen, 3 * 4096);
    memset(dbytes + 4096, 0x5a, 4096);
    ts_write_file(db, dbytes, dlen);
    r = run_kpi(check);
    ck_assert_int_eq(r.status, 3);
    ck_assert_msg(strncmp(r.out, "kpi.db: ", 8) == 0, "%s", r.out);
    ts_run_free(&r);
    free(dbytes);
    free(db);
    free(bytes);
    free(rrd);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* A backup taken while a big import commits is the data before or after
 * it, whole, and a data directory of its own that kpi check finds sound. */
START_TEST(test_backup_while_an_import_runs_is_whole)
{
    char *root = ts_tempdir("history-backup");
    char *data = ts_path(root, "data");
    free(import_csv(data, root, "a.csv", "date,team,kpi,value\n2026-01,t0,k0,1\n", "ana"));
    const char *exp[] = {"--data", data, "export", NULL};
    char *before = kpi_ok(NULL, exp);
    /* 200 teams x 5 kpis x 24 months */
    char *big = ts_path(root, "big.csv");
    FILE *f = fopen(big, "w");
    ck_assert_ptr_nonnull(f);
    fputs("date,team,kpi,value\n", f);
    for (int t = 0; t < 200; t++)
        for (int k = 0; k < 5; k++)
            for (int m = 0; m < 24; m++)
                fprintf(f, "%04d-%02d,t%d,k%d,%d\n", 2024 + m / 12, m % 12 + 1, t, k, t + k + m);
    ck_assert_int_eq(fclose(f), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execl(KPI_BINARY, KPI_BINARY, "--data", data, "import", "--quiet", big, (char *)NULL);
        _exit(127);
    }
    char *copy = ts_path(root, "copy");
    const char *backup[] = {"--data", data, "backup", copy, NULL};
    free(kpi_ok(NULL, backup));
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *after = kpi_ok(NULL, exp);
    const char *exp_copy[] = {"--data", copy, "export", NULL};
    char *seen = kpi_ok(NULL, exp_copy);
    ck_assert_msg(strcmp(seen, before) == 0 || strcmp(seen, after) == 0,
                  "the backup is neither before nor after the import");
    const char *check[] = {"--data", copy, "check", NULL};
    struct ts_run r = run_kpi(check);
    ck_assert_msg(r.status == 0, "%s", r.out);
    ts_run_free(&r);
    /* a second backup into a directory that is not empty is refused */
    r = run_kpi(backup);
    ck_assert_int_eq(r.status, 1);
    ts_run_free(&r);
    free(seen);
    free(after);
    free(before);
    free(copy);
    free(big);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* make_history: commit 3 changed lille 01 and 02; commit 4 changed paris 01
 * and created lille 03. */
START_TEST(test_revert_puts_back_and_refuses_cells_changed_later)
{
    char *root = ts_tempdir("history-revert");
    char *data = make_history(root);
    /* commit 2 created lille 01, 02 and paris 01: 3 and 4 changed three
     * of its four cells again */
    const char *r2[] = {"--data", data, "revert", "2", NULL};
    struct ts_run r = run_kpi(r2);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "kpi revert: lille ca 2026-01 value: changed again by a later commit\n"
                            "kpi revert: lille ca 2026-02 value: changed again by a later commit\n"
                            "kpi revert: paris ca 2026-01 value: changed again by a later commit\n"
                            "kpi: commit 2: 3 cells were changed again later; nothing reverted "
                            "(see --force)\n");
    ts_run_free(&r);
    /* commit 4 is the last: paris 01 back to 200, lille 03 removed */
    const char *r4[] = {"--data", data, "revert", "4", "--author", "dan", NULL};
    char *out = kpi_ok(NULL, r4);
    ck_assert_str_eq(out, "reverted commit 4: 2 cells put back\n");
    free(out);
    const char *exp[] = {"--data", data, "export", NULL};
    out = kpi_ok(NULL, exp);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n2026-01,lille,ca,125,110\n"
                          "2026-02,lille,ca,40,\n2026-01,paris,ca,200,\n");
    free(out);
    char *rows = sql_rows(data, "SELECT id, author, kind, source, rows, new, corrected, series "
                                "FROM commits WHERE id = 5");
    ck_assert_str_eq(rows, "5|dan|revert|commit 4|2|0|2|2\n");
    free(rows);
    /* --force reverts commit 3 over nothing later: lille back to 100 / 50 */
    const char *r3[] = {"--data", data, "revert", "3", "--force", NULL};
    free(kpi_ok(NULL, r3));
    out = kpi_ok(NULL, exp);
    ck_assert_str_eq(out, "date,team,kpi,value,target\n2026-01,lille,ca,100,110\n"
                          "2026-02,lille,ca,50,\n2026-01,paris,ca,200,\n");
    free(out);
    const char *check[] = {"--data", data, "check", NULL};
    r = run_kpi(check); /* the times set by make_history break commits 1-4 only */
    ck_assert_int_eq(r.status, 3);
    ck_assert_uint_eq(ts_count_lines_with(r.out, "commit 5"), 0);
    ck_assert_uint_eq(ts_count_lines_with(r.out, "commit 6"), 0);
    ck_assert_uint_eq(ts_count_lines_with(r.out, ".rrd"), 0);
    ts_run_free(&r);
    const char *bad[] = {"--data", data, "revert", "9", NULL};
    r = run_kpi(bad);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "kpi: unknown commit 9\n");
    ts_run_free(&r);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* ------------------------------------------------- format 2, converted */

/* What the reading commands printed on tests/data/format-2/dir, by the
 * binary that wrote it (its README), and the file each output is in. The
 * log is compared apart (a commit more after the conversion). */
static const struct {
    const char *golden;
    const char *args[10];
} format2_reads[] = {
    {"export.csv", {"export", NULL}},
    {"export-at-4.csv", {"export", "--known-at", "4", NULL}},
    {"export-at-3.csv", {"export", "lille", "visits", "--known-at", "3", NULL}},
    {"history-ca.csv", {"history", "lille", "ca", "--format", "csv", NULL}},
    {"history-visits-1969-12-31.csv",
     {"history", "lille", "visits", "--period", "1969-12-31", "--format", "csv", NULL}},
    {"restatements.csv", {"restatements", "--format", "csv", NULL}},
    {"series-visits-at-4-1970.csv",
     {"series", "lille", "visits", "--known-at", "4", "--from", "1969-12-28", "--to", "1970-01-02",
      NULL}},
    {"series-visits-at-3-2026.csv",
     {"series", "lille", "visits", "--known-at", "3", "--from", "2026-01-13", "--to", "2026-02-02",
      NULL}},
    {"series-ca-1970.csv", {"series", "lille", "ca", "--from", "1969-10", "--to", "1970-02", NULL}},
    {"series-visits-2026.csv",
     {"series", "lille", "visits", "--from", "2026-01-13", "--to", "2026-02-01", NULL}},
};

/* Run kpi --data data args... and compare its output with the file
 * expected of tests/data/format-2. */
static void expect_read(const char *data, const char *const *args, const char *expected)
{
    const char *argv[16] = {"--data", data};
    size_t n = 2;
    for (size_t i = 0; args[i] != NULL && n < 14; i++)
        argv[n++] = args[i];
    if (strcmp(args[0], "series") == 0) { /* csv by default on a pipe; said for clarity */
        argv[n++] = "--format";
        argv[n++] = "csv";
    }
    argv[n] = NULL;
    char *out = kpi_ok(NULL, argv), *want = golden(FORMAT2, expected);
    ck_assert_msg(strcmp(out, want) == 0, "kpi %s: got\n%s\nwant (%s)\n%s", args[0], out, expected,
                  want);
    free(out);
    free(want);
}

static void expect_format2_reads(const char *data)
{
    for (size_t i = 0; i < sizeof format2_reads / sizeof format2_reads[0]; i++)
        expect_read(data, format2_reads[i].args, format2_reads[i].golden);
}

START_TEST(test_format_2_read_without_writing_then_converted_by_its_first_write)
{
    char *root = ts_tempdir("history-format2");
    char *data = copy_old_dir(FORMAT2, root);
    char hex[KPI_SHA256_HEX], after_hex[KPI_SHA256_HEX];
    file_digest(data, "kpi.db", hex);
    /* read as it is: every reading command answers what format 2 did */
    expect_format2_reads(data);
    expect_read(data, (const char *const[]){"log", "--format", "csv", NULL}, "log.csv");
    expect_read(data, (const char *const[]){"history", "lille", "visits", "--format", "csv", NULL},
                "history-visits.csv");
    const char *check[] = {"--data", data, "check", NULL};
    free(kpi_ok(NULL, check));
    /* and wrote nothing: the file and its format as they were */
    file_digest(data, "kpi.db", after_hex);
    ck_assert_str_eq(hex, after_hex);
    char *v = sql_rows(data, "PRAGMA user_version");
    ck_assert_str_eq(v, "2\n");
    free(v);
    /* a file that changes nothing converts nothing */
    free(import_csv(data, root, "same.csv", "date,team,kpi,value\n2026-01-14,lille,visits,14\n",
                    "dan"));
    v = sql_rows(data, "PRAGMA user_version");
    ck_assert_str_eq(v, "2\n");
    free(v);
    /* the first change converts: commit 8, in the bucket of 2026-02-01
     * (day 20485: 20480..20495) */
    free(import_csv(data, root, "feb.csv", "date,team,kpi,value\n2026-02-03,lille,visits,33\n",
                    "dan"));
    v = sql_rows(data, "PRAGMA user_version");
    ck_assert_str_eq(v, "3\n");
    free(v);
    /* buckets of 16 periods, floored: days -12 and -1 (1969-12-20, -31)
     * in bucket -1, day 0 in 0; months 23638..23640 (1969-11..1970-01) in
     * 1477; the new day 20487 in 1280 */
    char *rows = sql_rows(data, "SELECT bucket, series, period FROM points WHERE period < 100 OR "
                                "period BETWEEN 20487 AND 23640 ORDER BY bucket, series, period");
    ck_assert_str_eq(rows, "-1|2|-12\n-1|2|-1\n0|2|0\n1280|2|20487\n1477|1|23638\n1477|1|23639\n"
                           "1477|1|23640\n");
    free(rows);
    rows = sql_rows(data, "SELECT count(*), sum(bucket = period >> 4) FROM versions");
    ck_assert_str_eq(rows, "30|30\n");
    free(rows);
    /* everything answers as before, the new cell aside */
    expect_read(data, (const char *const[]){"export", "--known-at", "7", NULL}, "export.csv");
    for (size_t i = 1; i < sizeof format2_reads / sizeof format2_reads[0]; i++)
        expect_read(data, format2_reads[i].args, format2_reads[i].golden);
    char *want = golden(FORMAT2, "export.csv"), *grown = malloc(strlen(want) + 64);
    ck_assert_ptr_nonnull(grown);
    char *at = strstr(want, "2026-01-14,nord");
    ck_assert_ptr_nonnull(at);
    snprintf(grown, strlen(want) + 64, "%.*s2026-02-03,lille,visits,33,,\n%s", (int)(at - want),
             want, at);
    const char *exp[] = {"--data", data, "export", NULL};
    char *out = kpi_ok(NULL, exp);
    ck_assert_str_eq(out, grown);
    free(out);
    free(grown);
    free(want);
    /* the log: commit 8 on top of the seven */
    const char *log[] = {"--data", data, "log", "--format", "csv", NULL};
    out = kpi_ok(NULL, log);
    want = golden(FORMAT2, "log.csv");
    char *second = strchr(out, '\n');
    ck_assert_ptr_nonnull(second);
    ck_assert_msg(strncmp(second + 1, "8,", 2) == 0, "%s", out);
    char *third = strchr(second + 1, '\n');
    ck_assert_ptr_nonnull(third);
    ck_assert_str_eq(third + 1, strchr(want, '\n') + 1);
    free(out);
    free(want);
    /* the history: the new version last */
    const char *hist[] = {"--data", data, "history", "lille", "visits", "--format", "csv", NULL};
    out = kpi_ok(NULL, hist);
    want = golden(FORMAT2, "history-visits.csv");
    ck_assert_int_eq(strncmp(out, want, strlen(want)), 0);
    ck_assert_msg(strncmp(out + strlen(want), "2026-02-03,2026-02-03,value,33,8,", 33) == 0, "%s",
                  out + strlen(want));
    free(out);
    free(want);
    /* the hash chain of the commits written before the conversion holds */
    free(kpi_ok(NULL, check));
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_history");
    TCase *tc = tcase_create("legacy");
    tcase_add_test(tc, test_legacy_directory_reads_back_as_written);
    tcase_add_test(tc, test_legacy_directory_converted_at_its_first_write);
    suite_add_tcase(s, tc);
    TCase *h = tcase_create("history");
    tcase_add_test(h, test_log_lists_commits_newest_first_with_their_counts);
    tcase_add_test(h, test_known_at_a_time_between_two_commits);
    tcase_add_test(h, test_history_lists_every_version_oldest_first);
    tcase_add_test(h, test_restatements_sorted_by_change_with_ratios_by_hand);
    tcase_add_test(h, test_check_finds_a_value_changed_with_the_sqlite3_tool);
    tcase_add_test(h, test_check_finds_a_corrupt_rrd_and_a_damaged_database);
    tcase_add_test(h, test_backup_while_an_import_runs_is_whole);
    tcase_add_test(h, test_revert_puts_back_and_refuses_cells_changed_later);
    suite_add_tcase(s, h);
    TCase *f = tcase_create("format2");
    tcase_add_test(f, test_format_2_read_without_writing_then_converted_by_its_first_write);
    suite_add_tcase(s, f);
    return ts_run_suite(s);
}
