/* Tests of DIR/points.cache (store/pcache.c): a whole-directory view read
 * from the cache equals a plain load from the database, bit for bit; a stale
 * cache is caught up with the commits after it; a damaged, truncated or
 * foreign cache is refused and the view loaded from the database.
 *
 * The scenario (monthly revenue, sum, up; 2025), KPI_POINTS_CACHE_MIN=0:
 *   acme
 *   ├── north: commit 1 values Jan 100, Feb 110, target Jan 120
 *   │   └── n1: commit 1 value Jan 10
 *   └── south: commit 1 value Jan 50; cost (second indicator) Jan 7
 * commit 1 holds 5 points in 4 series: the cache is 120 (header) + 4 x 16
 * (series table) + 5 x 24 (points) = 304 bytes.
 * commit 2: north Jan corrected to 105, north Mar 120, n1 Feb 20
 * commit 3: revert of commit 2
 * commit 4: a new team west under acme, value Jan 30; north Apr 130
 * commit 4 holds 7 points in 5 series: 120 + 80 + 168 = 368 bytes. */
#include "store/store_int.h"
#include "support/store_fixture.h"
#include "support/support.h"

#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char *dir;
    struct store *st;
};

/* A directory at commit 1 (north's January value given as jan). */
static void setup(struct fixture *f, const char *tag, double jan)
{
    ck_assert_int_eq(setenv("KPI_POINTS_CACHE_MIN", "0", 1), 0);
    f->dir = ts_tempdir(tag);
    struct store_options o = {.create = true, .threads = 1};
    struct kpi_error e = {0};
    ck_assert_msg(store_open(f->dir, &o, &f->st, &e) == 0, "%s", e.message);
    struct store_txn *txn = sf_begin(f->st);
    sf_team(txn, "acme", "");
    sf_team(txn, "north", "acme");
    sf_team(txn, "n1", "north");
    sf_team(txn, "south", "acme");
    sf_indicator(txn, "revenue");
    sf_indicator(txn, "cost");
    sf_set(txn, "north", "revenue", 1, STORE_VALUE, jan);
    sf_set(txn, "north", "revenue", 2, STORE_VALUE, 110);
    sf_set(txn, "north", "revenue", 1, STORE_TARGET, 120);
    sf_set(txn, "n1", "revenue", 1, STORE_VALUE, 10);
    sf_set(txn, "south", "revenue", 1, STORE_VALUE, 50);
    sf_set(txn, "south", "cost", 1, STORE_VALUE, 7);
    sf_commit(txn);
}

/* Commits 2 to 4. */
static void more_commits(struct fixture *f)
{
    struct store_txn *txn = sf_begin(f->st);
    sf_set(txn, "north", "revenue", 1, STORE_VALUE, 105);
    sf_set(txn, "north", "revenue", 3, STORE_VALUE, 120);
    sf_set(txn, "n1", "revenue", 2, STORE_VALUE, 20);
    sf_commit(txn);
    struct kpi_error e = {0};
    uint64_t cells = 0;
    ck_assert_msg(store_revert(f->st, 2, false, "test", NULL, &cells, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(cells, 3);
    txn = sf_begin(f->st);
    sf_team(txn, "west", "acme");
    sf_set(txn, "west", "revenue", 1, STORE_VALUE, 30);
    sf_set(txn, "north", "revenue", 4, STORE_VALUE, 130);
    sf_commit(txn);
}

static void teardown(struct fixture *f)
{
    store_close(f->st);
    ts_rm_rf(f->dir);
    free(f->dir);
    unsetenv("KPI_POINTS_CACHE_MIN");
}

static char *cache_path(const struct fixture *f)
{
    return ts_path(f->dir, STORE_PCACHE_NAME);
}

static long long cache_size(const struct fixture *f)
{
    char *path = cache_path(f);
    struct stat sb;
    long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
    free(path);
    return size;
}

/* The server's load (the cache written in the background), waited for. */
static struct store_view *open_shared(struct fixture *f)
{
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open_shared(f->st, &v, &e) == 0, "%s", e.message);
    pcache_wait(f->st);
    return v;
}

/* A plain load of the latest commit from the database (an explicit
 * commit: never through the cache). */
static struct store_view *open_plain(struct fixture *f, uint64_t commit)
{
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open_at(f->st, commit, &v, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(v->cache_commit, 0);
    return v;
}

/* north's revenue in v: count points, January's value. */
static void assert_north(const struct store_view *v, size_t count, double jan)
{
    size_t t, k;
    struct store_series s;
    ck_assert_int_eq(store_view_find_team(v, "north", &t), 0);
    ck_assert_int_eq(store_view_find_indicator(v, "revenue", &k), 0);
    ck_assert(store_view_find_series(v, t, k, &s));
    ck_assert_uint_eq(s.count, count);
    ck_assert_int_eq(s.points[0].period, sf_month(1));
    ck_assert(s.points[0].value == jan && s.points[0].target == 120);
}

static enum pcache_status read_status(struct fixture *f)
{
    sqlite3 *db = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(db_open(f->dir, DB_READ, &db, &e) == 0, "%s", e.message);
    struct store_view *v = NULL;
    enum pcache_status s = pcache_read(f->dir, db, &v);
    ck_assert(s == PCACHE_OK ? v != NULL : v == NULL);
    store_view_free(v);
    sqlite3_close(db);
    return s;
}

START_TEST(test_cache_is_written_and_read_back_equal_to_a_plain_load)
{
    struct fixture f;
    setup(&f, "pcache-read", 100);
    ck_assert_int_eq(read_status(&f), PCACHE_MISSING);
    struct store_view *first = open_shared(&f);
    ck_assert_uint_eq(first->cache_commit, 0); /* from the database */
    ck_assert_int_eq(cache_size(&f), 304);
    ck_assert_int_eq(read_status(&f), PCACHE_OK);

    struct store_view *cached = open_shared(&f), *plain = open_plain(&f, 1);
    ck_assert_uint_eq(cached->cache_commit, 1);
    sf_assert_same_views(cached, plain);
    sf_assert_same_views(first, plain);
    assert_north(cached, 2, 100);
    /* the CLI's whole-directory load reads it too, and never writes it */
    struct store_view *cli = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open(f.st, &cli, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(cli->cache_commit, 1);
    sf_assert_same_views(cli, plain);
    store_view_free(cli);
    store_view_free(first);
    store_view_free(cached);
    store_view_free(plain);
    teardown(&f);
}
END_TEST

START_TEST(test_stale_cache_is_caught_up_then_written_again)
{
    struct fixture f;
    setup(&f, "pcache-stale", 100);
    store_view_free(open_shared(&f));
    ck_assert_int_eq(cache_size(&f), 304);
    more_commits(&f);
    /* the cache of commit 1 and the 5 cells changed since (north Jan, Mar,
     * Apr, n1 Feb, west Jan): more than an eighth of the 7 points, so the
     * view of commit 4 is written as the new cache */
    struct store_view *v = open_shared(&f), *plain = open_plain(&f, 4);
    ck_assert_uint_eq(v->cache_commit, 1);
    ck_assert_uint_eq(store_view_generation(v), 4);
    sf_assert_same_views(v, plain);
    assert_north(v, 3, 100);
    ck_assert_int_eq(cache_size(&f), 368);
    struct store_view *again = open_shared(&f);
    ck_assert_uint_eq(again->cache_commit, 4);
    sf_assert_same_views(again, plain);
    store_view_free(again);
    store_view_free(v);
    store_view_free(plain);
    teardown(&f);
}
END_TEST

/* Change the cache file with fn, then: pcache_read says want, the server's
 * load comes from the database, equal to a plain one, and writes a good
 * cache again. */
static void expect_refused(struct fixture *f, void (*fn)(const char *path), enum pcache_status want)
{
    char *path = cache_path(f);
    fn(path);
    free(path);
    ck_assert_int_eq(read_status(f), want);
    struct store_view *v = open_shared(f), *plain = open_plain(f, 1);
    ck_assert_uint_eq(v->cache_commit, 0);
    sf_assert_same_views(v, plain);
    assert_north(v, 2, 100);
    ck_assert_int_eq(cache_size(f), 304);
    ck_assert_int_eq(read_status(f), PCACHE_OK);
    store_view_free(v);
    store_view_free(plain);
}

static void flip(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char c;
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c ^= 0x10;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void flip_last_point(const char *path)
{
    flip(path, 303); /* the last byte of the last point (south revenue, Jan target) */
}

static void flip_magic(const char *path)
{
    flip(path, 0);
}

static void flip_table(const char *path)
{
    flip(path, 120 + 8); /* the first series' count */
}

static void cut_one_byte(const char *path)
{
    ck_assert_int_eq(truncate(path, 303), 0);
}

static void cut_to_header(const char *path)
{
    ck_assert_int_eq(truncate(path, 120), 0);
}

static void cut_to_empty(const char *path)
{
    ck_assert_int_eq(truncate(path, 0), 0);
}

static void add_one_byte(const char *path)
{
    ck_assert_int_eq(truncate(path, 305), 0);
}

START_TEST(test_damaged_and_truncated_caches_are_refused)
{
    struct fixture f;
    setup(&f, "pcache-damaged", 100);
    store_view_free(open_shared(&f));
    ck_assert_int_eq(read_status(&f), PCACHE_OK);
    expect_refused(&f, flip_last_point, PCACHE_DAMAGED);
    expect_refused(&f, flip_magic, PCACHE_DAMAGED);
    expect_refused(&f, flip_table, PCACHE_DAMAGED);
    expect_refused(&f, cut_one_byte, PCACHE_DAMAGED);
    expect_refused(&f, cut_to_header, PCACHE_DAMAGED);
    expect_refused(&f, cut_to_empty, PCACHE_DAMAGED);
    expect_refused(&f, add_one_byte, PCACHE_DAMAGED);
    teardown(&f);
}
END_TEST

START_TEST(test_cache_of_another_directory_is_refused)
{
    struct fixture f, other;
    setup(&f, "pcache-mine", 100);
    setup(&other, "pcache-other", 101); /* commit 1 too, another history */
    store_view_free(open_shared(&other));
    ck_assert_int_eq(cache_size(&other), 304);
    char *theirs = cache_path(&other), *mine = cache_path(&f);
    size_t len = 0;
    char *bytes = ts_read_file(theirs, &len);
    ck_assert_uint_eq(len, 304);
    ts_write_file(mine, bytes, len);
    free(bytes);
    ck_assert_int_eq(read_status(&f), PCACHE_FOREIGN);
    struct store_view *v = open_shared(&f), *plain = open_plain(&f, 1);
    ck_assert_uint_eq(v->cache_commit, 0);
    sf_assert_same_views(v, plain);
    assert_north(v, 2, 100); /* not the other directory's 101 */
    ck_assert_int_eq(read_status(&f), PCACHE_OK);
    store_view_free(v);
    store_view_free(plain);
    free(theirs);
    free(mine);
    teardown(&other);
    teardown(&f);
}
END_TEST

START_TEST(test_a_leftover_scratch_file_is_replaced)
{
    /* a writer killed between naming its file and the rename leaves a
     * whole file under the scratch name: never read, replaced */
    struct fixture f;
    setup(&f, "pcache-tmp", 100);
    char *tmp = ts_path(f.dir, STORE_PCACHE_TMP);
    ts_write_file(tmp, "garbage", 7);
    ck_assert_int_eq(read_status(&f), PCACHE_MISSING);
    store_view_free(open_shared(&f));
    ck_assert_int_eq(cache_size(&f), 304);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    free(tmp);
    teardown(&f);
}
END_TEST

START_TEST(test_small_directories_get_no_cache)
{
    struct fixture f;
    setup(&f, "pcache-small", 100);
    ck_assert_int_eq(setenv("KPI_POINTS_CACHE_MIN", "6", 1), 0); /* 5 points: fewer */
    store_view_free(open_shared(&f));
    ck_assert_int_eq(cache_size(&f), -1);
    ck_assert_int_eq(setenv("KPI_POINTS_CACHE_MIN", "5", 1), 0);
    store_view_free(open_shared(&f));
    ck_assert_int_eq(cache_size(&f), 304);
    teardown(&f);
}
END_TEST

static void ignore_problem(void *ctx, const char *line)
{
    (void)line;
    (*(size_t *)ctx)++;
}

START_TEST(test_check_repair_removes_a_cache_of_tampered_points)
{
    /* north's January changed behind kpi's back (no commit), then a
     * server wrote that value into the cache of commit 1: kpi check
     * --repair puts the versions' 100 back and removes the cache */
    struct fixture f;
    setup(&f, "pcache-check", 100);
    sqlite3 *db = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(db_open(f.dir, DB_WRITE, &db, &e) == 0, "%s", e.message);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "UPDATE points SET value = 999 WHERE value = 100 AND series = "
                     "(SELECT id FROM series WHERE team = 'north' AND kpi = 'revenue')",
                     NULL, NULL, NULL),
        SQLITE_OK);
    ck_assert_int_eq(sqlite3_changes(db), 1);
    sqlite3_close(db);
    struct store_view *v = open_shared(&f);
    assert_north(v, 2, 999);
    store_view_free(v);
    ck_assert_int_eq(read_status(&f), PCACHE_OK);
    size_t lines = 0, problems = 0, repaired = 0;
    struct store_check_sink sink = {ignore_problem, &lines};
    ck_assert_msg(store_check(f.st, true, &sink, &problems, &repaired, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(problems, 1);
    ck_assert_uint_eq(repaired, 1);
    ck_assert_int_eq(cache_size(&f), -1);
    v = open_shared(&f);
    assert_north(v, 2, 100);
    store_view_free(v);
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_pcache");
    TCase *tc = tcase_create("pcache");
    tcase_add_test(tc, test_cache_is_written_and_read_back_equal_to_a_plain_load);
    tcase_add_test(tc, test_stale_cache_is_caught_up_then_written_again);
    tcase_add_test(tc, test_damaged_and_truncated_caches_are_refused);
    tcase_add_test(tc, test_cache_of_another_directory_is_refused);
    tcase_add_test(tc, test_a_leftover_scratch_file_is_replaced);
    tcase_add_test(tc, test_small_directories_get_no_cache);
    tcase_add_test(tc, test_check_repair_removes_a_cache_of_tampered_points);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
