/* History end to end (SPEC §10): directories of the ledger store converted
 * with nothing lost, commits and their log, known-at, history,
 * restatements, revert, check and backup -- with the real binary. */
#include "support/support.h"

#include <check.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A copy of tests/data/legacy-v1/dir (written by kpi before the database)
 * at ROOT/data. */
static char *copy_legacy(const char *root)
{
    char *data = ts_path(root, "data");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp -a '%s/tests/data/legacy-v1/dir' '%s'", KPI_SOURCE_DIR, data);
    ck_assert_int_eq(system(cmd), 0);
    return data;
}

static char *golden(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/tests/data/legacy-v1/%s", KPI_SOURCE_DIR, name);
    char *text = ts_read_file(rel, NULL);
    ck_assert_ptr_nonnull(text);
    return text;
}

static void expect_exports(const char *data, const char *extra_row)
{
    const char *obs[] = {"--data", data, "export", NULL};
    const char *teams[] = {"--data", data, "export", "--kind", "teams", NULL};
    const char *inds[] = {"--data", data, "export", "--kind", "indicators", NULL};
    char *out = kpi_ok(NULL, obs), *want = golden("export.csv");
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
    want = golden("teams.csv");
    ck_assert_str_eq(out, want);
    free(out);
    free(want);
    out = kpi_ok(NULL, inds);
    want = golden("indicators.csv");
    ck_assert_str_eq(out, want);
    free(out);
    free(want);
}

START_TEST(test_legacy_directory_reads_back_as_written)
{
    char *root = ts_tempdir("history-legacy");
    char *data = copy_legacy(root);
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
    char *data = copy_legacy(root);
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

int main(void)
{
    Suite *s = suite_create("cli_history");
    TCase *tc = tcase_create("legacy");
    tcase_add_test(tc, test_legacy_directory_reads_back_as_written);
    tcase_add_test(tc, test_legacy_directory_converted_at_its_first_write);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
