/* Checkpoints, end to end (docs/ARCHITECTURE.md, "Checkpoints"): `kpi
 * import` leaves its commit in DIR/kpi.db-wal (DIR/kpi.db byte for byte as
 * it was); `kpi serve` copies it into kpi.db after taking it up, on a thread
 * of its own, and empties the WAL (its start-up copies nothing); a server killed with SIGKILL while
 * it copies leaves the data whole (`kpi check` clean, the same export), and the next import and
 * checkpoint go on from it. */
#include "support/support.h"
#include "support/web_fixture.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static struct ts_run run_kpi(const char *const *argv)
{
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    return r;
}

static char *kpi_ok(const char *const *argv)
{
    struct ts_run r = run_kpi(argv);
    ck_assert_msg(r.status == 0, "kpi %s: %s", argv[2], r.err);
    free(r.err);
    return r.out;
}

static void import_file(const char *data, const char *csv)
{
    free(kpi_ok((const char *const[]){"--data", data, "import", "--quiet", csv, NULL}));
}

static long long size_of(const char *data, const char *name)
{
    char *path = ts_path(data, name);
    struct stat sb;
    long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
    free(path);
    return size;
}

/* Wait until DIR/name's size satisfies want (polls the file system; the
 * test waits for a condition, it does not depend on how long it takes, but
 * gives up after 60 s so that a broken server fails the test). */
static bool wait_size(const char *data, const char *name, bool (*want)(long long))
{
    struct timespec pause = {0, 2 * 1000 * 1000};
    for (int i = 0; i < 30000; i++) {
        if (want(size_of(data, name)))
            return true;
        nanosleep(&pause, NULL);
    }
    return false;
}

static bool is_empty(long long size)
{
    return size == 0;
}

static bool past_first_page(long long size)
{
    return size > 4096;
}

static char *write_csv(const char *root, const char *name, int teams, int months, int first)
{
    char *path = ts_path(root, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("date,team,kpi,value\n", f);
    for (int t = 0; t < teams; t++)
        for (int k = 0; k < 10; k++)
            for (int m = first; m < first + months; m++)
                fprintf(f, "%04d-%02d,t%03d,k%d,%d\n", 2020 + m / 12, m % 12 + 1, t, k,
                        t * 7 + k * 13 + m);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

START_TEST(test_the_server_checkpoints_after_taking_up_a_commit)
{
    char *root = ts_tempdir("ckpt-serve");
    char *data = ts_path(root, "data");
    char *a = write_csv(root, "a.csv", 3, 12, 0); /* 2020-01..12 */
    char *b = write_csv(root, "b.csv", 3, 1, 12); /* 2021-01 */
    import_file(data, a);
    ck_assert_int_gt(size_of(data, "kpi.db-wal"), 0);
    struct wf_server s;
    wf_start(&s, data, NULL); /* its start-up leaves the WAL as it is */
    char *db = ts_path(data, "kpi.db");
    size_t len0, len1;
    char *before = ts_read_file(db, &len0);
    import_file(data, b);
    ck_assert_int_gt(size_of(data, "kpi.db-wal"), 0);
    char *mid = ts_read_file(db, &len1);
    ck_assert_uint_eq(len1, len0);
    ck_assert(memcmp(before, mid, len0) == 0); /* the commit is in the WAL only */
    /* t001 k2 2021-01: 1 * 7 + 2 * 13 + 12 = 45 */
    struct th_response r;
    wf_request(&s, "GET", "/api/v1/teams/t001/kpis/k2/series", NULL, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\"2021-01\"") != NULL && strstr(r.body, "45") != NULL, "%s",
                  r.body);
    th_response_free(&r);
    ck_assert(wait_size(data, "kpi.db-wal", is_empty));
    char *after = ts_read_file(db, &len1);
    ck_assert(len1 != len0 || memcmp(before, after, len0) != 0);
    wf_stop(&s, SIGTERM);
    struct ts_run c = run_kpi((const char *const[]){"--data", data, "check", NULL});
    ck_assert_msg(c.status == 0, "%s%s", c.out, c.err);
    ts_run_free(&c);
    free(before);
    free(mid);
    free(after);
    free(db);
    free(a);
    free(b);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

START_TEST(test_a_server_killed_while_it_checkpoints_leaves_the_data_whole)
{
    char *root = ts_tempdir("ckpt-kill");
    char *data = ts_path(root, "data");
    /* 120 teams x 10 kpis x 40 months in one commit, one more month in a
     * second: all of it in the WAL, kpi.db its first page only until the
     * server takes up the second commit and checkpoints */
    char *big = write_csv(root, "big.csv", 120, 40, 0);
    char *more = write_csv(root, "more.csv", 120, 1, 40);
    char *last_month = write_csv(root, "last.csv", 120, 1, 41);
    import_file(data, big);
    struct wf_server s;
    wf_start(&s, data, NULL);
    import_file(data, more);
    ck_assert_int_eq(size_of(data, "kpi.db"), 4096);
    const char *exp[] = {"--data", data, "export", NULL};
    char *before = kpi_ok(exp);
    struct th_response r;
    wf_request(&s, "GET", "/api/v1/teams/t001/kpis/k2/series", NULL, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    /* killed as soon as the checkpoint has written past the first page */
    ck_assert(wait_size(data, "kpi.db", past_first_page));
    wf_stop(&s, SIGKILL);
    struct ts_run c = run_kpi((const char *const[]){"--data", data, "check", NULL});
    ck_assert_msg(c.status == 0, "%s%s", c.out, c.err);
    ts_run_free(&c);
    char *seen = kpi_ok(exp);
    ck_assert_str_eq(seen, before);
    /* and on from there: one more month taken up and checkpointed whole */
    wf_start(&s, data, NULL);
    import_file(data, last_month);
    wf_request(&s, "GET", "/api/v1/teams/t001/kpis/k2/series", NULL, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    ck_assert(wait_size(data, "kpi.db-wal", is_empty));
    wf_stop(&s, SIGTERM);
    c = run_kpi((const char *const[]){"--data", data, "check", NULL});
    ck_assert_msg(c.status == 0, "%s%s", c.out, c.err);
    ts_run_free(&c);
    char *last = kpi_ok(exp);
    /* months 41 (2023-05) and 42 (2023-06) of the 1,200 series */
    ck_assert_uint_eq(ts_count_lines_with(before, "2023-05"), 1200);
    ck_assert_uint_eq(ts_count_lines_with(before, "2023-06"), 0);
    ck_assert_uint_eq(ts_count_lines_with(last, "2023-06"), 1200);
    free(last);
    free(last_month);
    free(seen);
    free(before);
    free(more);
    free(big);
    free(data);
    ts_rm_rf(root);
    free(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_the_server_checkpoints_after_taking_up_a_commit);
    tcase_add_test(tc, test_a_server_killed_while_it_checkpoints_leaves_the_data_whole);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
