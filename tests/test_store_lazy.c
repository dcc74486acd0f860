/* Tests of a write transaction's lazy reading (store/txn.c): begin reads the
 * catalog only, a series' points are read when the transaction first
 * touches it (set, put, get). A directory of 1,000 monthly series (100 teams
 * x 10 indicators, 12 months each, value = 100 * team + 10 * indicator +
 * month index) is written by commit 1. */
#include "store/store.h"
#include "store/store_int.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TEAMS = 100, KPIS = 10, MONTHS = 12, FIRST = 24240 }; /* 2020 * 12 + 0: 2020-01 */

struct fixture {
    char *dir;
    struct store *st;
    struct store_txn *txn;
};

static double value_of(int t, int k, int m)
{
    return 100.0 * t + 10.0 * k + m;
}

static size_t team(struct store_txn *txn, int t)
{
    char id[16];
    snprintf(id, sizeof id, "t%03d", t);
    size_t i = SIZE_MAX;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_resolve_team(txn, id, true, &i, NULL, &e) == 0, "%s", e.message);
    return i;
}

static size_t kpi(struct store_txn *txn, int k)
{
    char id[16];
    snprintf(id, sizeof id, "k%d", k);
    size_t i = SIZE_MAX;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_resolve_indicator(txn, id, true, &i, NULL, &e) == 0, "%s", e.message);
    return i;
}

static void begin(struct fixture *f)
{
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(f->st, &f->txn, &e) == 0, "%s", e.message);
}

static uint64_t commit(struct fixture *f)
{
    struct kpi_error e = {0};
    uint64_t id = 99;
    ck_assert_msg(store_txn_commit(f->txn, NULL, &id, &e) == 0, "%s", e.message);
    f->txn = NULL;
    return id;
}

static void setup(struct fixture *f)
{
    f->dir = ts_tempdir("lazy");
    struct store_options o = {.create = true, .threads = 1};
    ck_assert_int_eq(store_open(f->dir, &o, &f->st, NULL), 0);
    begin(f);
    for (int k = 0; k < KPIS; k++) {
        struct kpi_indicator_patch p = {
            .ref = NULL, .set = KPI_SET_PERIOD, .period = KPI_PERIOD_MONTH};
        char id[16];
        snprintf(id, sizeof id, "k%d", k);
        p.ref = id;
        ck_assert_int_eq(store_txn_patch_indicator(f->txn, &p, false, NULL, NULL), 0);
    }
    for (int t = 0; t < TEAMS; t++)
        for (int k = 0; k < KPIS; k++)
            for (int m = 0; m < MONTHS; m++)
                ck_assert_int_eq(store_txn_set(f->txn, team(f->txn, t), kpi(f->txn, k), FIRST + m,
                                               STORE_VALUE, value_of(t, k, m), NULL, NULL),
                                 0);
    ck_assert_uint_eq(commit(f), 1);
    begin(f);
}

static void teardown(struct fixture *f)
{
    store_txn_abort(f->txn);
    store_close(f->st);
    ts_rm_rf(f->dir);
    free(f->dir);
}

/* One number from the database, as a user's `sqlite3 DIR/kpi.db` reads it. */
static long long sql_count(const struct fixture *f, const char *sql)
{
    char *path = ts_path(f->dir, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return n;
}

/* kpi check: the hash chain, the points against the versions and every
 * RRD file against the data; returns the problems found. */
static size_t check_problems(struct fixture *f)
{
    size_t problems = 99, repaired = 99;
    struct kpi_error e = {0};
    ck_assert_msg(store_check(f->st, false, NULL, &problems, &repaired, &e) == 0, "%s", e.message);
    return problems;
}

/* The value of (t, k) at period in the latest view (NaN: none), and the
 * series' point count in *count. */
static double view_value(struct fixture *f, const char *t, const char *k, int64_t period,
                         size_t *count)
{
    struct store_view *v = NULL;
    ck_assert_int_eq(store_view_open(f->st, &v, NULL), 0);
    size_t ti, ki;
    ck_assert_int_eq(store_view_find_team(v, t, &ti), 0);
    ck_assert_int_eq(store_view_find_indicator(v, k, &ki), 0);
    struct store_series s;
    ck_assert(store_view_find_series(v, ti, ki, &s));
    double value = NAN;
    for (size_t i = 0; i < s.count; i++)
        if (s.points[i].period == period)
            value = s.points[i].value;
    *count = s.count;
    store_view_free(v);
    return value;
}

/* The latest commit as store_log gives it (kpi log). */
static struct store_commit last_commit(struct fixture *f, struct store_commit **all, size_t *n)
{
    struct store_log_query q = {.limit = 1};
    ck_assert_int_eq(store_log(f->st, &q, all, n, NULL), 0);
    ck_assert_uint_eq(*n, 1);
    return (*all)[0];
}

START_TEST(test_correction_of_an_old_period_of_a_series_not_touched_before)
{
    struct fixture f;
    setup(&f);
    size_t t = team(f.txn, 42), k = kpi(f.txn, 7);
    /* 2020-03 of t042/k7 held 4272 (100 * 42 + 10 * 7 + 2); the first call of
     * the transaction on that series is a set of that old period */
    enum store_change change = STORE_NEW;
    ck_assert_int_eq(store_txn_set(f.txn, t, k, FIRST + 2, STORE_VALUE, 4300.5, &change, NULL), 0);
    ck_assert_int_eq(change, STORE_CORRECTED);
    double working, base;
    store_txn_get(f.txn, t, k, FIRST + 2, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 4300.5);
    ck_assert_double_eq(base, 4272.0);
    ck_assert_uint_eq(commit(&f), 2);
    /* the series has its 12 months, one of them corrected */
    struct store_view *v = NULL;
    ck_assert_int_eq(store_view_open(f.st, &v, NULL), 0);
    size_t ti, ki;
    ck_assert_int_eq(store_view_find_team(v, "t042", &ti), 0);
    ck_assert_int_eq(store_view_find_indicator(v, "k7", &ki), 0);
    struct store_series s;
    ck_assert(store_view_find_series(v, ti, ki, &s));
    ck_assert_uint_eq(s.count, MONTHS);
    ck_assert_double_eq(s.points[1].value, 4271.0);
    ck_assert_double_eq(s.points[2].value, 4300.5);
    ck_assert_double_eq(s.points[3].value, 4273.0);
    store_view_free(v);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions WHERE commit_id = 2"), 1);
    struct store_commit *all = NULL;
    size_t n = 0;
    struct store_commit c = last_commit(&f, &all, &n);
    ck_assert_uint_eq(c.corrected, 1);
    ck_assert_uint_eq(c.new_cells, 0);
    ck_assert_uint_eq(c.series, 1);
    store_commits_free(all, n);
    teardown(&f);
}
END_TEST

START_TEST(test_duplicate_within_a_file_against_the_stored_cell)
{
    struct fixture f;
    setup(&f);
    size_t t = team(f.txn, 3), k = kpi(f.txn, 1);
    /* a get first: the series is read then; the stored cell is its own base */
    double working, base;
    store_txn_get(f.txn, t, k, FIRST + 5, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 315.0);
    ck_assert_double_eq(base, 315.0);
    /* a put keeps a cell that has a number */
    enum store_change change;
    ck_assert_int_eq(store_txn_put(f.txn, t, k, FIRST + 5, STORE_VALUE, 1.0, &change, NULL),
                     STORE_PUT_KEPT);
    /* a first row corrects it; the same cell again in the file: its working
     * value now differs from its base (set by this transaction) */
    ck_assert_int_eq(store_txn_set(f.txn, t, k, FIRST + 5, STORE_VALUE, 316.0, &change, NULL), 0);
    ck_assert_int_eq(change, STORE_CORRECTED);
    store_txn_get(f.txn, t, k, FIRST + 5, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 316.0);
    ck_assert_double_eq(base, 315.0);
    ck_assert_int_eq(store_txn_set(f.txn, t, k, FIRST + 5, STORE_VALUE, 316.0, &change, NULL), 0);
    ck_assert_int_eq(change, STORE_UNCHANGED);
    /* a new cell given twice: new, then kept; its base is none */
    ck_assert_int_eq(store_txn_put(f.txn, t, k, FIRST + 12, STORE_VALUE, 7.0, &change, NULL), 0);
    ck_assert_int_eq(change, STORE_NEW);
    ck_assert_int_eq(store_txn_put(f.txn, t, k, FIRST + 12, STORE_VALUE, 8.0, &change, NULL),
                     STORE_PUT_KEPT);
    store_txn_get(f.txn, t, k, FIRST + 12, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 7.0);
    ck_assert(isnan(base));
    /* a series never touched: get reads it, nothing else changes */
    store_txn_get(f.txn, team(f.txn, 99), kpi(f.txn, 9), FIRST + 11, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 10001.0); /* 9900 + 90 + 11 */
    ck_assert_uint_eq(commit(&f), 2);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions WHERE commit_id = 2"), 2);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM points"), TEAMS * KPIS * MONTHS + 1);
    teardown(&f);
}
END_TEST

START_TEST(test_a_file_touching_one_series_of_a_thousand)
{
    struct fixture f;
    setup(&f);
    enum store_change change;
    ck_assert_int_eq(store_txn_set(f.txn, team(f.txn, 17), kpi(f.txn, 4), FIRST + MONTHS,
                                   STORE_VALUE, 12.25, &change, NULL),
                     0);
    ck_assert_int_eq(change, STORE_NEW);
    struct store_txn_stats stats;
    store_txn_stats(f.txn, &stats);
    ck_assert_uint_eq(stats.series, 1);
    ck_assert_uint_eq(commit(&f), 2);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions WHERE commit_id = 2"), 1);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions"), TEAMS * KPIS * MONTHS + 1);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM points"), TEAMS * KPIS * MONTHS + 1);
    /* commit 1's marks were cleared by commit 2 (after a sync); commit 2's
     * own stays until the next commit, its file written in this boot */
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM rrd_pending"), 1);
    char *written = ts_path(f.dir, "rrd-written");
    char *boot = ts_read_file("/proc/sys/kernel/random/boot_id", NULL);
    char *marker = ts_read_file(written, NULL);
    ck_assert_ptr_nonnull(boot);
    ck_assert_ptr_nonnull(marker);
    boot[strcspn(boot, "\n")] = '\0';
    char want[128];
    snprintf(want, sizeof want, "%s 2\n", boot);
    ck_assert_str_eq(marker, want);
    free(boot);
    free(marker);
    free(written);
    struct store_commit *all = NULL;
    size_t n = 0;
    struct store_commit c = last_commit(&f, &all, &n);
    ck_assert_uint_eq(c.id, 2);
    ck_assert_uint_eq(c.new_cells, 1);
    ck_assert_uint_eq(c.corrected, 0);
    ck_assert_uint_eq(c.series, 1);
    ck_assert_str_eq(c.teams, "[\"t017\"]");
    store_commits_free(all, n);
    /* the RRD file was appended to from the last point only: it holds what
     * the data says */
    ck_assert_uint_eq(check_problems(&f), 0);
    /* the same value again: nothing changes, no commit (id 0) */
    begin(&f);
    ck_assert_int_eq(store_txn_set(f.txn, team(f.txn, 17), kpi(f.txn, 4), FIRST + MONTHS,
                                   STORE_VALUE, 12.25, &change, NULL),
                     0);
    ck_assert_int_eq(change, STORE_UNCHANGED);
    ck_assert_uint_eq(commit(&f), 0);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM commits"), 2);
    begin(&f);
    teardown(&f);
}
END_TEST

/* commit.c writes versions and points 100 rows per statement, the rest one
 * by one: 256 versions (two batches and 56) and 255 point upserts (two and
 * 55), appends at the end of each B-tree and corrections inside them. */
START_TEST(test_a_commit_of_more_rows_than_a_batch)
{
    struct fixture f;
    setup(&f);
    /* 2021-01 (month 12) for the 250 series of t000..t024 */
    for (int t = 0; t < 25; t++)
        for (int k = 0; k < KPIS; k++)
            ck_assert_int_eq(store_txn_set(f.txn, team(f.txn, t), kpi(f.txn, k), FIRST + MONTHS,
                                           STORE_VALUE, value_of(t, k, MONTHS), NULL, NULL),
                             0);
    /* 2020-06 (month 5) of t030/k0..k4 corrected by +0.5; a target on k0 */
    enum store_change change = STORE_NEW;
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(store_txn_set(f.txn, team(f.txn, 30), kpi(f.txn, k), FIRST + 5,
                                       STORE_VALUE, value_of(30, k, 5) + 0.5, &change, NULL),
                         0);
    ck_assert_int_eq(change, STORE_CORRECTED);
    ck_assert_int_eq(store_txn_set(f.txn, team(f.txn, 30), kpi(f.txn, 0), FIRST + 5, STORE_TARGET,
                                   999.0, NULL, NULL),
                     0);
    ck_assert_uint_eq(commit(&f), 2);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions WHERE commit_id = 2"), 256);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions"), TEAMS * KPIS * MONTHS + 256);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM points"), TEAMS * KPIS * MONTHS + 250);
    /* values of commit 2, doubled: 2 * (sum over t < 25, k < 10 of 100 t +
     * 10 k + 12 = 300,000 + 11,250 + 3,000, plus 5 * 3005 + 10 * (0 + 1 +
     * 2 + 3 + 4) + 5 * 0.5 = 15,127.5) = 658,755 */
    ck_assert_int_eq(sql_count(&f, "SELECT CAST(2 * sum(value) AS INTEGER) FROM versions WHERE "
                                   "commit_id = 2 AND field = 0"),
                     658755);
    ck_assert_int_eq(sql_count(&f, "SELECT CAST(2 * sum(value) + sum(target) AS INTEGER) FROM "
                                   "points p JOIN series s ON s.id = p.series WHERE s.team = "
                                   "'t030' AND s.kpi = 'k0' AND p.period = 24245"),
                     2 * 3005 + 1 + 999);
    size_t count = 0;
    ck_assert_double_eq(view_value(&f, "t024", "k9", FIRST + MONTHS, &count), 2502.0);
    ck_assert_uint_eq(count, MONTHS + 1);
    ck_assert_double_eq(view_value(&f, "t030", "k4", FIRST + 5, &count), 3045.5);
    ck_assert_uint_eq(count, MONTHS);
    struct store_commit *all = NULL;
    size_t n = 0;
    struct store_commit c = last_commit(&f, &all, &n);
    ck_assert_uint_eq(c.new_cells, 251);
    ck_assert_uint_eq(c.corrected, 5);
    ck_assert_uint_eq(c.series, 255);
    store_commits_free(all, n);
    /* the hash chain recomputed from the rows written gives the hash
     * recorded, and every RRD file matches */
    ck_assert_uint_eq(check_problems(&f), 0);
    begin(&f);
    teardown(&f);
}
END_TEST

START_TEST(test_an_earlier_period_after_an_append_reads_the_rows_before)
{
    struct fixture f;
    setup(&f);
    size_t t = team(f.txn, 8), k = kpi(f.txn, 2);
    enum store_change change;
    /* an append first: the transaction holds the series' last point only */
    ck_assert_int_eq(store_txn_set(f.txn, t, k, FIRST + MONTHS, STORE_VALUE, 1.5, &change, NULL),
                     0);
    ck_assert_int_eq(change, STORE_NEW);
    /* then 2020-02 (820 + 1 = 821 stored) is corrected, and 2020-01 read */
    ck_assert_int_eq(store_txn_set(f.txn, t, k, FIRST + 1, STORE_VALUE, 2.5, &change, NULL), 0);
    ck_assert_int_eq(change, STORE_CORRECTED);
    double working, base;
    store_txn_get(f.txn, t, k, FIRST, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 820.0);
    ck_assert_double_eq(base, 820.0);
    store_txn_get(f.txn, t, k, FIRST + 1, STORE_VALUE, &working, &base);
    ck_assert_double_eq(working, 2.5);
    ck_assert_double_eq(base, 821.0);
    ck_assert_uint_eq(commit(&f), 2);
    size_t count;
    ck_assert_double_eq(view_value(&f, "t008", "k2", FIRST, &count), 820.0);
    ck_assert_double_eq(view_value(&f, "t008", "k2", FIRST + 1, &count), 2.5);
    ck_assert_double_eq(view_value(&f, "t008", "k2", FIRST + MONTHS, &count), 1.5);
    ck_assert_uint_eq(count, MONTHS + 1);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM versions WHERE commit_id = 2"), 2);
    ck_assert_uint_eq(check_problems(&f), 0); /* the file was rebuilt from the whole series */
    teardown(&f);
}
END_TEST

/* Points a repair (kpi serve's start) reads with the latest commit's marks
 * pending: every point of the marked series. */
static size_t repair_points(const struct fixture *f)
{
    struct kpi_error e = {0};
    struct sqlite3 *db = NULL;
    struct store_view *v = NULL;
    ck_assert_msg(db_open(f->dir, DB_READ, &db, &e) == 0, "%s", e.message);
    ck_assert_msg(db_load_view_repair(db, f->st, &v, &e) == 0, "%s", e.message);
    size_t points = 0;
    for (size_t i = 0; i < store_view_series_count(v); i++) {
        struct store_series s;
        store_view_series(v, i, &s);
        points += s.count;
    }
    store_view_free(v);
    sqlite3_close(db);
    return points;
}

/* Commit 1 leaves its 1,000 series pending until the next commit, with
 * DIR/rrd-written naming this boot: a restart in this boot has nothing to
 * repair and reads no series (it read all 12,000 points, 3 s on 20 M
 * points); after a power cut (another boot id) every marked series; with a
 * file missing, that series only. */
START_TEST(test_a_restart_in_the_same_boot_reads_no_pending_series)
{
    struct fixture f;
    setup(&f);
    store_txn_abort(f.txn);
    f.txn = NULL;
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM rrd_pending"), TEAMS * KPIS);
    ck_assert_uint_eq(repair_points(&f), 0);
    char *written = ts_path(f.dir, "rrd-written");
    char *marker = ts_read_file(written, NULL);
    ck_assert_ptr_nonnull(marker);
    const char other[] = "00000000-0000-0000-0000-000000000000 1\n";
    ts_write_file(written, other, sizeof other - 1);
    ck_assert_uint_eq(repair_points(&f), TEAMS * KPIS * MONTHS);
    ts_write_file(written, marker, strlen(marker));
    char *path = ts_path(f.dir, "series/t050/k5.rrd");
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_uint_eq(repair_points(&f), MONTHS);
    free(path);
    free(marker);
    free(written);
    begin(&f);
    teardown(&f);
}
END_TEST

START_TEST(test_an_append_to_a_missing_rrd_file_rebuilds_it_whole)
{
    struct fixture f;
    setup(&f);
    store_txn_abort(f.txn);
    char *path = ts_path(f.dir, "series/t050/k5.rrd");
    ck_assert_int_eq(unlink(path), 0);
    begin(&f);
    ck_assert_int_eq(store_txn_set(f.txn, team(f.txn, 50), kpi(f.txn, 5), FIRST + MONTHS,
                                   STORE_VALUE, 3.0, NULL, NULL),
                     0);
    ck_assert_uint_eq(commit(&f), 2);
    /* the file is back, with the 13 months: the append could not be made
     * from the last point, the whole series was read */
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_uint_eq(check_problems(&f), 0);
    ck_assert_int_eq(sql_count(&f, "SELECT count(*) FROM rrd_pending"), 0);
    free(path);
    begin(&f);
    teardown(&f);
}
END_TEST

START_TEST(test_revert_of_the_commit_that_made_a_series_removes_its_rrd_file)
{
    struct fixture f;
    setup(&f);
    /* commit 2 makes series t001/fresh (2 months), t002/k0 gets a month */
    size_t t = team(f.txn, 1), k = kpi(f.txn, 0);
    size_t fresh = SIZE_MAX;
    struct kpi_indicator_patch p = {
        .ref = "fresh", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_MONTH};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "fresh", false, &fresh, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_set(f.txn, t, fresh, FIRST, STORE_VALUE, 1.0, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_set(f.txn, t, fresh, FIRST + 1, STORE_VALUE, 2.0, NULL, NULL), 0);
    ck_assert_int_eq(
        store_txn_set(f.txn, team(f.txn, 2), k, FIRST + MONTHS, STORE_VALUE, 3.0, NULL, NULL), 0);
    ck_assert_uint_eq(commit(&f), 2);
    char *path = ts_path(f.dir, "series/t001/fresh.rrd");
    ck_assert_int_eq(access(path, F_OK), 0);
    /* kpi revert 2: the series has no point left, its file goes */
    uint64_t cells = 0;
    struct kpi_error e = {0};
    ck_assert_msg(store_revert(f.st, 2, false, "test", NULL, &cells, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(cells, 3);
    ck_assert_int_ne(access(path, F_OK), 0);
    size_t count;
    ck_assert(isnan(view_value(&f, "t002", "k0", FIRST + MONTHS, &count)));
    ck_assert_uint_eq(count, MONTHS);
    ck_assert_uint_eq(check_problems(&f), 0);
    free(path);
    begin(&f);
    teardown(&f);
}
END_TEST

START_TEST(test_period_change_of_an_indicator_with_stored_data_is_refused)
{
    struct fixture f;
    setup(&f);
    /* k3 has data in the database though the transaction read none of it */
    struct kpi_indicator_patch p = {.ref = "k3", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_DAY};
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, NULL, &e), KPI_EINPUT);
    ck_assert_str_eq(e.message, "indicator \"k3\" has data by month: its period cannot change to "
                                "day");
    /* an indicator without points may change */
    struct kpi_indicator_patch q = {
        .ref = "fresh", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_DAY};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &q, false, NULL, NULL), 0);
    ck_assert_uint_eq(commit(&f), 2);
    begin(&f);
    q.period = KPI_PERIOD_WEEK;
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &q, false, NULL, NULL), 0);
    teardown(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_lazy");
    TCase *tc = tcase_create("lazy");
    tcase_add_test(tc, test_correction_of_an_old_period_of_a_series_not_touched_before);
    tcase_add_test(tc, test_duplicate_within_a_file_against_the_stored_cell);
    tcase_add_test(tc, test_a_file_touching_one_series_of_a_thousand);
    tcase_add_test(tc, test_a_commit_of_more_rows_than_a_batch);
    tcase_add_test(tc, test_an_earlier_period_after_an_append_reads_the_rows_before);
    tcase_add_test(tc, test_an_append_to_a_missing_rrd_file_rebuilds_it_whole);
    tcase_add_test(tc, test_a_restart_in_the_same_boot_reads_no_pending_series);
    tcase_add_test(tc, test_revert_of_the_commit_that_made_a_series_removes_its_rrd_file);
    tcase_add_test(tc, test_period_change_of_an_indicator_with_stored_data_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
