/* A server started from DIR/points.cache (store/pcache.c) answers what the
 * CLI prints from a plain load of the database: with a cache of the latest
 * commit, and with a stale one caught up with the commits after it; a
 * restored `kpi backup` carries the cache of its commit, never a later
 * one's (store/backup.c). KPI_POINTS_CACHE_MIN=0 makes the small example
 * directory get a cache. */
#include "store/store_int.h"
#include "support/store_fixture.h"
#include "support/web_fixture.h"
#include "test_web_helpers.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
    ck_assert_int_eq(setenv("KPI_POINTS_CACHE_MIN", "0", 1), 0);
    dir = make_data("web-pcache");
}

static void teardown(void)
{
    ts_rm_rf(dir);
    free(dir);
    unsetenv("KPI_POINTS_CACHE_MIN");
}

/* The routes compared, and the CLI arguments printing the same bytes. */
static const struct {
    const char *path;
    const char *args[10];
} cases[] = {
    {"/api/v1/teams/sales/kpis/revenue/series", {"series", "sales", "revenue"}},
    {"/api/v1/teams/ops/kpis/delay/series", {"series", "ops", "delay"}},
    {"/api/v1/drift", {"drift", "--as-of", AS_OF}},
    {"/api/v1/teams/acme/drift", {"drift", "acme", "--as-of", AS_OF}},
    {"/api/v1/alerts", {"alerts", "--as-of", AS_OF}},
    {"/api/v1/teams/sales/trends", {"trend", "sales", "--as-of", AS_OF}},
};
#define NCASES (sizeof cases / sizeof cases[0])

static char *cache_path_in(const char *root)
{
    char *data = ts_path(root, "data");
    char *path = ts_path(data, STORE_PCACHE_NAME);
    free(data);
    return path;
}

static char *cache_path(void)
{
    return cache_path_in(dir);
}

/* What the CLI prints for each case (without its final newline), from the
 * database alone: any cache is moved aside meanwhile. */
static void cli_answers(char *out[NCASES])
{
    char *path = cache_path(), *aside = ts_path(dir, "aside.cache");
    bool had = rename(path, aside) == 0;
    char *data = ts_path(dir, "data");
    for (size_t i = 0; i < NCASES; i++) {
        const char *argv[16] = {"--data", data};
        size_t n = 2;
        for (size_t a = 0; cases[i].args[a] != NULL; a++)
            argv[n++] = cases[i].args[a];
        argv[n++] = "--format";
        argv[n++] = "json";
        argv[n] = NULL;
        struct ts_run run;
        ts_kpi(&run, NULL, argv);
        ck_assert_msg(run.status == 0, "kpi %s: %s", cases[i].args[0], run.err);
        size_t len = strlen(run.out);
        ck_assert(len > 0 && run.out[len - 1] == '\n');
        run.out[len - 1] = '\0';
        out[i] = strdup(run.out);
        ts_run_free(&run);
    }
    if (had)
        ck_assert_int_eq(rename(aside, path), 0);
    free(data);
    free(path);
    free(aside);
}

/* A server started now over root/data answers each case as expected;
 * whether its store found a usable cache of commit `cached` (0: none) is
 * checked on the side. */
static void expect_server_in(const char *root, char *const expected[NCASES], uint64_t cached)
{
    struct test_server server;
    server_start(&server, root);
    for (size_t i = 0; i < NCASES; i++) {
        struct th_response r;
        get_expect(server.port, cases[i].path, 200, &r);
        ck_assert_msg(strcmp(expected[i], r.body) == 0, "%s:\nHTTP %s\nCLI  %s", cases[i].path,
                      r.body, expected[i]);
        th_response_free(&r);
    }
    pcache_wait(server.st); /* the cache it writes, if any */
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open(server.st, &v, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(v->cache_commit, cached);
    store_view_free(v);
    server_stop(&server);
}

static void expect_server(char *const expected[NCASES], uint64_t cached)
{
    expect_server_in(dir, expected, cached);
}

static void free_answers(char *a[NCASES])
{
    for (size_t i = 0; i < NCASES; i++)
        free(a[i]);
}

/* Commit 5: a correction (2026-02) and a new month (2026-05). */
static void import_correction_and_month(void)
{
    import_text(dir, "more.csv",
                "date,team,kpi,value\n2026-02,sales,revenue,97\n2026-05,sales,revenue,85\n"
                "2026-05,ops,delay,4.5\n",
                NULL);
}

START_TEST(test_server_from_the_cache_answers_like_the_cli)
{
    char *plain[NCASES];
    cli_answers(plain);
    char *path = cache_path();
    ck_assert_int_eq(access(path, F_OK), -1);
    /* first start: from the database, the cache written meanwhile; its
     * store then reads the cache of commit 4 (4 imports) */
    expect_server(plain, 4);
    ck_assert_int_eq(access(path, F_OK), 0);
    /* second start: from the cache */
    expect_server(plain, 4);

    /* a correction and a new month: the cache of commit 4 is caught up */
    import_correction_and_month();
    char *later[NCASES];
    cli_answers(later);
    ck_assert_str_ne(later[0], plain[0]);
    ck_assert_ptr_nonnull(strstr(later[0], "97"));
    char *data = ts_path(dir, "data");
    sqlite3 *db = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(db_open(data, DB_READ, &db, &e) == 0, "%s", e.message);
    struct store_view *held = NULL;
    ck_assert_int_eq(pcache_read(data, db, &held), PCACHE_OK);
    ck_assert_uint_eq(held->generation, 4); /* stale: the database is at 5 */
    store_view_free(held);
    sqlite3_close(db);
    free(data);
    expect_server(later, 5); /* 3 cells of 12 points changed: written again */
    free_answers(plain);
    free_answers(later);
    free(path);
}
END_TEST

/* --------------------------------------------------- kpi backup, restored */

/* kpi --data from/data backup to/data, then kpi check on the copy: both
 * succeed. */
static void backup_and_check(const char *from, const char *to)
{
    char *src = ts_path(from, "data"), *dst = ts_path(to, "data");
    struct ts_run r;
    ts_kpi(&r, NULL, (const char *[]){"--data", src, "backup", dst, NULL});
    ck_assert_msg(r.status == 0, "backup: %s", r.err);
    ts_run_free(&r);
    ts_kpi(&r, NULL, (const char *[]){"--data", dst, "check", NULL});
    ck_assert_msg(r.status == 0, "check of the backup: %s%s", r.out, r.err);
    ts_run_free(&r);
    free(src);
    free(dst);
}

/* pcache_read's verdict on root/data's cache, and the commit it holds. */
static enum pcache_status cache_status_in(const char *root, uint64_t *commit)
{
    char *data = ts_path(root, "data");
    sqlite3 *db = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(db_open(data, DB_READ, &db, &e) == 0, "%s", e.message);
    struct store_view *v = NULL;
    enum pcache_status status = pcache_read(data, db, &v);
    *commit = v != NULL ? v->generation : 0;
    store_view_free(v);
    sqlite3_close(db);
    free(data);
    return status;
}

/* The bytes of two files are the same. */
static void assert_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = ts_read_file(a, &la), *y = ts_read_file(b, &lb);
    ck_assert_msg(x != NULL && y != NULL, "%s or %s is missing", a, b);
    ck_assert(la == lb && memcmp(x, y, la) == 0);
    free(x);
    free(y);
}

/* A backup taken after a server wrote the cache of its commit carries it:
 * the restored directory passes kpi check, and its server starts from the
 * cache and answers like the CLI on the source. A cache a few commits old
 * (of the same history) is carried too, and caught up at the start. */
START_TEST(test_backup_carries_the_cache_of_its_commit)
{
    char *plain[NCASES];
    cli_answers(plain);
    expect_server(plain, 4); /* writes the cache of commit 4 */
    char *restored = ts_tempdir("web-pcache-restored");
    backup_and_check(dir, restored);
    char *src = cache_path(), *copied = cache_path_in(restored);
    assert_same_file(src, copied);
    uint64_t commit = 0;
    ck_assert_int_eq(cache_status_in(restored, &commit), PCACHE_OK);
    ck_assert_uint_eq(commit, 4);
    expect_server_in(restored, plain, 4);

    /* commit 5 after the cache of 4: the backup holds 5 and the cache of 4 */
    import_correction_and_month();
    char *later[NCASES];
    cli_answers(later);
    char *again = ts_tempdir("web-pcache-restored-again");
    backup_and_check(dir, again);
    ck_assert_int_eq(cache_status_in(again, &commit), PCACHE_OK);
    ck_assert_uint_eq(commit, 4);
    expect_server_in(again, later, 5); /* caught up (and written again) */

    free_answers(plain);
    free_answers(later);
    ts_rm_rf(restored);
    ts_rm_rf(again);
    free(restored);
    free(again);
    free(src);
    free(copied);
}
END_TEST

/* A cache of a later commit than the backup's (what a server writes after
 * the backup's snapshot, made here by putting the future's cache into a
 * directory of the past) is left out: the restored directory has none,
 * passes kpi check, and its server loads the backed-up commit from the
 * database. */
START_TEST(test_backup_leaves_out_a_cache_of_a_later_commit)
{
    char *plain[NCASES];
    cli_answers(plain);
    char *past = ts_tempdir("web-pcache-past");
    backup_and_check(dir, past); /* commit 4, no cache yet */
    char *past_cache = cache_path_in(past);
    ck_assert_int_eq(access(past_cache, F_OK), -1);

    import_text(dir, "more.csv", "date,team,kpi,value\n2026-05,sales,revenue,85\n", NULL);
    char *later[NCASES];
    cli_answers(later);
    ck_assert_str_ne(later[0], plain[0]);
    expect_server(later, 5); /* writes the cache of commit 5 */
    char *future_cache = cache_path();
    size_t len = 0;
    char *bytes = ts_read_file(future_cache, &len);
    ck_assert_ptr_nonnull(bytes);
    ts_write_file(past_cache, bytes, len);
    free(bytes);
    uint64_t commit = 0;
    ck_assert_int_eq(cache_status_in(past, &commit), PCACHE_FOREIGN);

    char *restored = ts_tempdir("web-pcache-restored");
    backup_and_check(past, restored);
    char *copied = cache_path_in(restored);
    ck_assert_int_eq(access(copied, F_OK), -1);
    ck_assert_int_eq(cache_status_in(restored, &commit), PCACHE_MISSING);
    expect_server_in(restored, plain, 4); /* from the database; then its own cache */

    free_answers(plain);
    free_answers(later);
    ts_rm_rf(past);
    ts_rm_rf(restored);
    free(past);
    free(restored);
    free(past_cache);
    free(future_cache);
    free(copied);
}
END_TEST

/* `kpi serve` on dir/data, killed with SIGKILL `delay_us` after it printed
 * its address (the cache being written in the background by then, or not
 * yet, or already). */
static void serve_killed_after(long delay_us)
{
    char *data = ts_path(dir, "data");
    struct wf_server server;
    wf_start(&server, data, NULL);
    struct timespec t = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    nanosleep(&t, NULL);
    ck_assert_int_eq(kill(server.pid, SIGKILL), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(server.pid, &status, 0), server.pid);
    free(data);
}

START_TEST(test_kill_while_writing_the_cache_leaves_nothing_trusted_wrongly)
{
    /* 60 teams x 3 indicators x 48 months (8,640 points, a 208 KB cache),
     * imported after the examples; the server killed at moments from before
     * its write to after it (which moment each delay hits depends on the
     * machine's load; none is asserted). Each time the cache is absent or
     * whole (never a part of one under its name: a scratch file left
     * between its link and the rename is never read), and a load through
     * it equals a plain load of the database. */
    char *csv = ts_path(dir, "big.csv");
    FILE *f = fopen(csv, "w");
    ck_assert_ptr_nonnull(f);
    fputs("team,name,parent\n", f);
    for (int t = 0; t < 60; t++)
        fprintf(f, "t%02d,Team %d,acme\n", t, t);
    ck_assert_int_eq(fclose(f), 0);
    char *data = ts_path(dir, "data");
    struct ts_run r;
    ts_kpi(&r, NULL,
           (const char *[]){"--data", data, "import", csv, "--kind", "teams", "--quiet", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    f = fopen(csv, "w");
    ck_assert_ptr_nonnull(f);
    fputs("date,team,kpi,value\n", f);
    const char *kpis[] = {"revenue", "headcount", "delay"};
    for (int t = 0; t < 60; t++)
        for (int k = 0; k < 3; k++)
            for (int m = 0; m < 48; m++)
                fprintf(f, "%04d-%02d,t%02d,%s,%d.25\n", 2023 + m / 12, m % 12 + 1, t, kpis[k],
                        t * 1000 + k * 100 + m);
    ck_assert_int_eq(fclose(f), 0);
    ts_kpi(&r, NULL, (const char *[]){"--data", data, "import", csv, "--quiet", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);

    char *path = cache_path();
    const long delays_us[] = {0, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 200000};
    for (size_t i = 0; i < sizeof delays_us / sizeof delays_us[0]; i++) {
        unlink(path);
        serve_killed_after(delays_us[i]);
        struct store *st = NULL;
        struct kpi_error e = {0};
        struct store_options so = {.threads = 1};
        ck_assert_msg(store_open(data, &so, &st, &e) == 0, "%s", e.message);
        sqlite3 *db = NULL;
        ck_assert_msg(db_open(data, DB_READ, &db, &e) == 0, "%s", e.message);
        struct store_view *held = NULL;
        enum pcache_status status = pcache_read(data, db, &held);
        ck_assert_msg(status == PCACHE_OK || status == PCACHE_MISSING,
                      "killed after %ld us: cache status %d", delays_us[i], (int)status);
        store_view_free(held);
        sqlite3_close(db);
        struct store_view *through = NULL, *plain = NULL;
        ck_assert_msg(store_view_open(st, &through, &e) == 0, "%s", e.message);
        ck_assert_uint_eq(through->cache_commit, status == PCACHE_OK ? 6 : 0);
        ck_assert_msg(store_view_open_at(st, 6, &plain, &e) == 0, "%s", e.message);
        sf_assert_same_views(through, plain);
        ck_assert_uint_eq(store_view_series_count(plain), 184); /* 180 + the examples' 4 */
        store_view_free(through);
        store_view_free(plain);
        store_close(st);
    }
    free(path);
    free(data);
    free(csv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("web_pcache");
    TCase *tc = tcase_create("pcache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_server_from_the_cache_answers_like_the_cli);
    tcase_add_test(tc, test_kill_while_writing_the_cache_leaves_nothing_trusted_wrongly);
    tcase_add_test(tc, test_backup_carries_the_cache_of_its_commit);
    tcase_add_test(tc, test_backup_leaves_out_a_cache_of_a_later_commit);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
