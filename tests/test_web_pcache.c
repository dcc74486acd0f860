/* A server started from DIR/points.cache (store/pcache.c) answers what the
 * CLI prints from a plain load of the database: with a cache of the latest
 * commit, and with a stale one caught up with the commits after it.
 * KPI_POINTS_CACHE_MIN=0 makes the small example directory get a cache. */
#include "store/store_int.h"
#include "test_web_helpers.h"

#include <sqlite3.h>
#include <stdio.h>
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

static char *cache_path(void)
{
    char *data = ts_path(dir, "data");
    char *path = ts_path(data, STORE_PCACHE_NAME);
    free(data);
    return path;
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

/* A server started now answers each case as expected; whether its store
 * found a usable cache of commit `cached` (0: none) is checked on the
 * side. */
static void expect_server(char *const expected[NCASES], uint64_t cached)
{
    struct test_server server;
    server_start(&server, dir);
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

static void free_answers(char *a[NCASES])
{
    for (size_t i = 0; i < NCASES; i++)
        free(a[i]);
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
    import_text(dir, "more.csv",
                "date,team,kpi,value\n2026-02,sales,revenue,97\n2026-05,sales,revenue,85\n"
                "2026-05,ops,delay,4.5\n",
                NULL);
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

int main(void)
{
    Suite *s = suite_create("web_pcache");
    TCase *tc = tcase_create("pcache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_server_from_the_cache_answers_like_the_cli);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
