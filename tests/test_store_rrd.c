/* Tests of store/rrd.c: what RRDtool clients read back from the series
 * files, appends versus rebuilds, and repair. */
#include "store/store.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400

struct fixture {
    char *dir;
    struct store *st;
};

static void setup(struct fixture *f, unsigned threads)
{
    f->dir = ts_tempdir("rrd");
    struct store_options o = {.create = true, .threads = threads};
    ck_assert_int_eq(store_open(f->dir, &o, &f->st, NULL), 0);
}

static void teardown(struct fixture *f)
{
    store_close(f->st);
    ts_rm_rf(f->dir);
    free(f->dir);
}

/* One point to import: a period of the indicator's kind. */
struct pt {
    int64_t period;
    double value; /* NaN: none */
    double target;
};

/* Import points into (team, kpi) of kind in one transaction. */
static void import(struct fixture *f, const char *team, const char *kpi, enum kpi_period_kind kind,
                   const struct pt *pts, size_t n)
{
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(f->st, &txn, &e) == 0, "%s", e.message);
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, team, true, &t, NULL, NULL), 0);
    struct kpi_indicator_patch p = {.ref = kpi, .set = KPI_SET_PERIOD, .period = kind};
    ck_assert_msg(store_txn_patch_indicator(txn, &p, false, NULL, &e) == 0, "%s", e.message);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, kpi, false, &k, NULL, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        if (!isnan(pts[i].value))
            ck_assert_int_eq(
                store_txn_set(txn, t, k, pts[i].period, STORE_VALUE, pts[i].value, NULL, NULL), 0);
        if (!isnan(pts[i].target))
            ck_assert_int_eq(
                store_txn_set(txn, t, k, pts[i].period, STORE_TARGET, pts[i].target, NULL, NULL),
                0);
    }
    ck_assert_msg(store_txn_commit(txn, NULL, NULL, &e) == 0, "%s", e.message);
}

static char *rrd_path(struct fixture *f, const char *team, const char *kpi)
{
    char buf[4096];
    ck_assert_int_eq(store_series_path(f->st, team, kpi, buf, sizeof buf, NULL), 0);
    return strdup(buf);
}

/* Daily rows of a file between two days, as `rrdtool fetch FILE AVERAGE -r 86400`. */
struct fetched {
    time_t start, end;
    unsigned long step, ds;
    rrd_value_t *data;
};

static void fetch(const char *path, int64_t first_day, int64_t last_day, struct fetched *out)
{
    char **names = NULL;
    out->start = (time_t)(first_day * DAY);
    out->end = (time_t)((last_day + 1) * DAY);
    out->step = DAY;
    rrd_clear_error();
    int rc = rrd_fetch_r(path, "AVERAGE", &out->start, &out->end, &out->step, &out->ds, &names,
                         &out->data);
    ck_assert_msg(rc == 0, "fetch %s: %s", path, rrd_get_error());
    ck_assert_uint_eq(out->step, DAY);
    ck_assert_uint_eq(out->ds, 2);
    ck_assert_str_eq(names[0], "value");
    ck_assert_str_eq(names[1], "target");
    for (unsigned long i = 0; i < out->ds; i++)
        rrd_freemem(names[i]);
    rrd_freemem(names);
}

/* The number of a day (row labelled with the end of the day), ds 0 = value. */
static double on_day(const struct fetched *f, int64_t day, unsigned long ds)
{
    time_t label = (time_t)((day + 1) * DAY);
    ck_assert(label > f->start && label <= f->end);
    size_t row = (size_t)((label - f->start) / (time_t)f->step) - 1;
    return f->data[row * f->ds + ds];
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-9 * fabs(b);
}

/* Every day from 3 days before the first period to 3 days after the last
 * holds its period's value (ds 0) and target (ds 1) from want, else NaN. */
static void check_days(const char *path, enum kpi_period_kind kind, const struct pt *want, size_t n)
{
    int64_t from = kpi_period_first_day(kind, want[0].period) - 3;
    int64_t to = kpi_period_last_day(kind, want[n - 1].period) + 3;
    struct fetched f;
    fetch(path, from, to, &f);
    for (int64_t d = from; d <= to; d++) {
        int64_t p = kpi_period_of_day(kind, d);
        double v = NAN, t = NAN;
        for (size_t i = 0; i < n; i++)
            if (want[i].period == p) {
                v = want[i].value;
                t = want[i].target;
            }
        char label[KPI_LABEL_MAX];
        ck_assert_msg(same(on_day(&f, d, 0), v), "value of %s: %g, want %g",
                      kpi_day_label(d, label), on_day(&f, d, 0), v);
        ck_assert_msg(same(on_day(&f, d, 1), t), "target of %s: %g, want %g",
                      kpi_day_label(d, label), on_day(&f, d, 1), t);
    }
    rrd_freemem(f.data);
}

static int64_t month(int y, int m)
{
    return (int64_t)y * 12 + m - 1;
}

static int64_t period_of(enum kpi_period_kind kind, int y, int m, int d)
{
    return kpi_period_of_day(kind, kpi_day_from_ymd(y, m, d));
}

START_TEST(test_monthly_missing_month_is_unknown_never_a_neighbour)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {
        {month(2025, 1), 10, NAN}, {month(2025, 2), 20, NAN}, {month(2025, 4), 40, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 3);
    char *path = rrd_path(&f, "t", "k");
    struct pt want[] = {{month(2024, 12), NAN, NAN}, {month(2025, 1), 10, NAN},
                        {month(2025, 2), 20, NAN},   {month(2025, 3), NAN, NAN},
                        {month(2025, 4), 40, NAN},   {month(2025, 5), NAN, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 6);
    rrd_clear_error();
    ck_assert_int_eq(rrd_last_r(path), (kpi_day_from_ymd(2025, 5, 1)) * DAY);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_weekly_series_fills_monday_to_sunday)
{
    struct fixture f;
    setup(&f, 1);
    int64_t w1 = period_of(KPI_PERIOD_WEEK, 2026, 1, 1); /* 2025-12-29 .. 2026-01-04 */
    ck_assert_int_eq(kpi_period_first_day(KPI_PERIOD_WEEK, w1), kpi_day_from_ymd(2025, 12, 29));
    struct pt in[] = {{w1, 1.5, NAN}, {w1 + 1, 2.5, 3}, {w1 + 3, 4.5, NAN}};
    import(&f, "t", "k", KPI_PERIOD_WEEK, in, 3);
    char *path = rrd_path(&f, "t", "k");
    /* the target 3 is the only target point: no interpolation after it */
    struct pt exact[] = {{w1 - 1, NAN, NAN},
                         {w1, 1.5, NAN},
                         {w1 + 1, 2.5, 3},
                         {w1 + 2, NAN, NAN},
                         {w1 + 3, 4.5, NAN}};
    check_days(path, KPI_PERIOD_WEEK, exact, 5);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_quarterly_yearly_and_daily_series)
{
    struct fixture f;
    setup(&f, 2);
    int64_t q = period_of(KPI_PERIOD_QUARTER, 2024, 1, 1);
    struct pt qin[] = {{q, 1e-7, NAN}, {q + 2, 1.0 / 3, NAN}};
    import(&f, "t", "quarterly", KPI_PERIOD_QUARTER, qin, 2);
    struct pt qwant[] = {
        {q - 1, NAN, NAN}, {q, 1e-7, NAN}, {q + 1, NAN, NAN}, {q + 2, 1.0 / 3, NAN}};
    char *path = rrd_path(&f, "t", "quarterly");
    check_days(path, KPI_PERIOD_QUARTER, qwant, 4);
    free(path);

    struct pt yin[] = {{2021, 100, 90}, {2023, 300, 310}};
    import(&f, "t", "yearly", KPI_PERIOD_YEAR, yin, 2);
    struct pt ywant[] = {{2021, 100, 90}, {2022, NAN, 200}, {2023, 300, 310}};
    path = rrd_path(&f, "t", "yearly");
    check_days(path, KPI_PERIOD_YEAR, ywant, 3);
    free(path);

    int64_t d = kpi_day_from_ymd(2026, 2, 27);
    struct pt din[] = {{d, 1234.5, NAN}, {d + 1, -2, NAN}, {d + 3, 0.1, NAN}};
    import(&f, "t", "daily", KPI_PERIOD_DAY, din, 3);
    struct pt dwant[] = {{d, 1234.5, NAN}, {d + 1, -2, NAN}, {d + 2, NAN, NAN}, {d + 3, 0.1, NAN}};
    path = rrd_path(&f, "t", "daily");
    check_days(path, KPI_PERIOD_DAY, dwant, 4);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_targets_interpolated_and_later_targets_left_out)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 90, 100},  {month(2026, 2), 210, NAN},
                      {month(2026, 4), 380, 400}, {month(2026, 5), 520, NAN},
                      {month(2026, 6), NAN, 600}, {month(2026, 12), NAN, 1200}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 6);
    char *path = rrd_path(&f, "t", "k");
    struct pt want[] = {{month(2026, 1), 90, 100},  {month(2026, 2), 210, 200},
                        {month(2026, 3), NAN, 300}, {month(2026, 4), 380, 400},
                        {month(2026, 5), 520, 500}, {month(2026, 6), NAN, NAN},
                        {month(2026, 7), NAN, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 7);
    rrd_clear_error();
    ck_assert_int_eq(rrd_last_r(path), kpi_day_from_ymd(2026, 6, 1) * DAY);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_targets_only_series_has_its_targets)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), NAN, 10}, {month(2026, 3), NAN, 30}};
    import(&f, "t", "budget", KPI_PERIOD_MONTH, in, 2);
    char *path = rrd_path(&f, "t", "budget");
    struct pt want[] = {{month(2026, 1), NAN, 10},
                        {month(2026, 2), NAN, 20},
                        {month(2026, 3), NAN, 30},
                        {month(2026, 4), NAN, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 4);
    free(path);
    teardown(&f);
}
END_TEST

static struct stat stat_of(const char *path)
{
    struct stat sb;
    ck_assert_msg(stat(path, &sb) == 0, "%s missing", path);
    return sb;
}

START_TEST(test_append_keeps_the_file_and_old_correction_rebuilds_it)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 1, 5}, {month(2026, 2), 2, NAN}, {month(2026, 3), 3, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 3);
    char *path = rrd_path(&f, "t", "k");
    struct stat s1 = stat_of(path);
    struct pt more[] = {{month(2026, 4), 4, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, more, 1);
    struct stat s2 = stat_of(path);
    ck_assert_uint_eq(s1.st_ino, s2.st_ino);
    struct pt want[] = {{month(2026, 1), 1, 5},
                        {month(2026, 2), 2, NAN},
                        {month(2026, 3), 3, NAN},
                        {month(2026, 4), 4, NAN},
                        {month(2026, 5), NAN, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 5);
    struct pt fix[] = {{month(2026, 2), 2.25, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, fix, 1);
    struct stat s3 = stat_of(path);
    ck_assert_uint_ne(s2.st_ino, s3.st_ino);
    want[1].value = 2.25;
    check_days(path, KPI_PERIOD_MONTH, want, 5);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_unchanged_series_file_is_not_touched)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 1, 5}, {month(2026, 2), 2, 6}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 2);
    char *path = rrd_path(&f, "t", "k");
    struct stat s1 = stat_of(path);
    size_t n1, n2;
    char *b1 = ts_read_file(path, &n1);
    /* the same values again, a target after the last observation, and
     * another series: the ledger changes, this file does not */
    struct pt again[] = {
        {month(2026, 1), 1, 5}, {month(2026, 2), 2, NAN}, {month(2026, 9), NAN, 9}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, again, 3);
    struct pt other[] = {{month(2026, 1), 7, NAN}};
    import(&f, "t", "other", KPI_PERIOD_MONTH, other, 1);
    struct stat s2 = stat_of(path);
    char *b2 = ts_read_file(path, &n2);
    ck_assert_uint_eq(s1.st_ino, s2.st_ino);
    ck_assert_int_eq(s1.st_mtim.tv_sec, s2.st_mtim.tv_sec);
    ck_assert_int_eq(s1.st_mtim.tv_nsec, s2.st_mtim.tv_nsec);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(b1, b2, n1) == 0);
    struct store_view *v = NULL;
    ck_assert_int_eq(store_view_open(f.st, &v, NULL), 0);
    ck_assert_uint_eq(store_view_generation(v), 3);
    store_view_free(v);
    free(b1);
    free(b2);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_later_target_point_updates_interpolated_targets_in_file)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 1, 5}, {month(2026, 2), 2, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 2);
    struct pt later[] = {{month(2026, 3), NAN, 7}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, later, 1);
    char *path = rrd_path(&f, "t", "k");
    struct pt want[] = {{month(2026, 1), 1, 5}, {month(2026, 2), 2, 6}, {month(2026, 3), NAN, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 3);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_points_before_1971_stay_in_the_ledger_only)
{
    struct fixture f;
    setup(&f, 1);
    struct pt old[] = {{1965, 1, NAN}, {1969, 2, NAN}};
    import(&f, "t", "old", KPI_PERIOD_YEAR, old, 2);
    char *path = rrd_path(&f, "t", "old");
    ck_assert_int_ne(access(path, F_OK), 0); /* nothing after the epoch: no file */
    free(path);
    struct pt in[] = {{1965, 1, NAN}, {1971, 3, NAN}, {1972, 4, NAN}};
    import(&f, "t", "k", KPI_PERIOD_YEAR, in, 3);
    path = rrd_path(&f, "t", "k");
    struct pt want[] = {{1971, 3, NAN}, {1972, 4, NAN}};
    check_days(path, KPI_PERIOD_YEAR, want, 2);
    free(path);
    struct store_view *v = NULL;
    ck_assert_int_eq(store_view_open(f.st, &v, NULL), 0);
    struct store_series s;
    ck_assert(store_view_find_series(v, 0, 0, &s));
    ck_assert_uint_eq(s.count, 3);
    ck_assert_int_eq(s.points[0].period, 1965);
    store_view_free(v);
    teardown(&f);
}
END_TEST

START_TEST(test_long_daily_series_appends_within_its_window)
{
    struct fixture f;
    setup(&f, 1);
    int64_t d0 = kpi_day_from_ymd(1990, 1, 1), d1 = kpi_day_from_ymd(2026, 1, 1);
    struct pt in[] = {{d0, 1, NAN}, {d1 - 1, 2, NAN}, {d1, 3, NAN}};
    import(&f, "t", "k", KPI_PERIOD_DAY, in, 3);
    char *path = rrd_path(&f, "t", "k");
    struct stat s1 = stat_of(path);
    struct pt more[] = {{d1 + 1, 4, NAN}};
    import(&f, "t", "k", KPI_PERIOD_DAY, more, 1);
    ck_assert_uint_eq(stat_of(path).st_ino, s1.st_ino);
    struct pt want[] = {{d1 - 1, 2, NAN}, {d1, 3, NAN}, {d1 + 1, 4, NAN}};
    check_days(path, KPI_PERIOD_DAY, want, 3);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_missing_file_for_an_append_is_rebuilt)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 1, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 1);
    char *path = rrd_path(&f, "t", "k");
    /* the file vanishes behind kpi's back while rrd-synced says all is well:
     * the append the next commit plans fails, and it rebuilds instead */
    ck_assert_int_eq(unlink(path), 0);
    struct pt more[] = {{month(2026, 2), 2, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, more, 1);
    struct pt want[] = {{month(2026, 1), 1, NAN}, {month(2026, 2), 2, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 2);
    free(path);
    teardown(&f);
}
END_TEST

START_TEST(test_repair_rebuilds_deleted_file)
{
    struct fixture f;
    setup(&f, 2);
    struct pt in[] = {{month(2026, 1), 1, 2}, {month(2026, 2), 3, NAN}};
    import(&f, "a", "k", KPI_PERIOD_MONTH, in, 2);
    import(&f, "b", "k", KPI_PERIOD_MONTH, in, 2);
    char *pa = rrd_path(&f, "a", "k"), *pb = rrd_path(&f, "b", "k");
    struct stat before = stat_of(pb);
    ck_assert_int_eq(unlink(pa), 0);
    struct kpi_error e = {0};
    ck_assert_msg(store_repair(f.st, NULL, &e) == 0, "%s", e.message);
    check_days(pa, KPI_PERIOD_MONTH, in, 2);
    ck_assert_uint_eq(stat_of(pb).st_ino, before.st_ino); /* in line: untouched */
    free(pa);
    free(pb);
    teardown(&f);
}
END_TEST

/* Run sql on DIR/kpi.db, as a user's tool would. */
static void sql_exec(const char *dir, const char *sql)
{
    char *path = ts_path(dir, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    free(path);
}

static long sql_count(const char *dir, const char *sql)
{
    char *path = ts_path(dir, "kpi.db");
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return n;
}

START_TEST(test_repair_rebuilds_pending_series)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 1, NAN}};
    import(&f, "a", "k", KPI_PERIOD_MONTH, in, 1);
    struct pt in2[] = {{month(2026, 2), 2, NAN}};
    import(&f, "b", "k", KPI_PERIOD_MONTH, in2, 1);
    char *pa = rrd_path(&f, "a", "k"), *pb = rrd_path(&f, "b", "k");
    /* commit 2 cleared commit 1's mark, its own stays until the next
     * commit: DIR/rrd-written says its file is whole in this boot */
    ck_assert_int_eq(sql_count(f.dir, "SELECT count(*) FROM rrd_pending"), 1);
    ino_t ia = stat_of(pa).st_ino, ib = stat_of(pb).st_ino;
    struct kpi_error e = {0};
    ck_assert_msg(store_repair(f.st, NULL, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(stat_of(pb).st_ino, ib); /* written in this boot: left as it is */
    /* as if the process died during the RRD work of commit 2, before it
     * could say its files were written */
    char *written = ts_path(f.dir, "rrd-written");
    ck_assert_int_eq(unlink(written), 0);
    free(written);
    sql_exec(f.dir, "INSERT OR IGNORE INTO rrd_pending SELECT id FROM series WHERE team = 'b'");
    ck_assert_msg(store_repair(f.st, NULL, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(stat_of(pa).st_ino, ia); /* not pending */
    ck_assert_uint_ne(stat_of(pb).st_ino, ib);
    check_days(pb, KPI_PERIOD_MONTH, in2, 1);
    ck_assert_int_eq(sql_count(f.dir, "SELECT count(*) FROM rrd_pending"), 0);
    /* in line now: a second repair does nothing */
    char *d1 = ts_tree_digest(f.dir);
    ck_assert_int_eq(store_repair(f.st, NULL, &e), 0);
    char *d2 = ts_tree_digest(f.dir);
    ck_assert_str_eq(d1, d2);
    free(d1);
    free(d2);
    free(pa);
    free(pb);
    teardown(&f);
}
END_TEST

START_TEST(test_lag_set_carries_over_when_rrd_work_failed)
{
    struct fixture f;
    setup(&f, 1);
    /* the team directory is a file: creating the RRD file fails */
    char *series = ts_path(f.dir, "series");
    ck_assert_int_eq(mkdir(series, 0777), 0);
    char *blocker = ts_path(series, "a");
    ts_write_file(blocker, "x", (size_t)-1);
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_begin(f.st, &txn, &e), 0);
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, "a", true, &t, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, "k", true, &k, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_set(txn, t, k, month(2026, 1), STORE_VALUE, 1, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_commit(txn, NULL, NULL, &e), KPI_ESYSTEM);
    ck_assert_msg(strstr(e.message, "committed") != NULL, "%s", e.message);
    struct store_view *v = NULL;
    ck_assert_int_eq(store_view_open(f.st, &v, NULL), 0);
    ck_assert_uint_eq(store_view_generation(v), 1);
    store_view_free(v);
    /* still blocked: the next writer cannot repair, so it cannot begin */
    ck_assert_int_eq(store_txn_begin(f.st, &txn, &e), KPI_ESYSTEM);
    ck_assert_int_eq(unlink(blocker), 0);
    ck_assert_msg(store_repair(f.st, NULL, &e) == 0, "%s", e.message);
    char *path = rrd_path(&f, "a", "k");
    struct pt want[] = {{month(2026, 1), 1, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 1);
    free(path);
    free(blocker);
    free(series);
    teardown(&f);
}
END_TEST

START_TEST(test_append_waits_for_a_reader_lock)
{
    struct fixture f;
    setup(&f, 1);
    struct pt in[] = {{month(2026, 1), 1, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, in, 1);
    char *path = rrd_path(&f, "t", "k");
    ino_t ino = stat_of(path).st_ino;
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* a reader (like rrd_fetch_r in the server) holds librrd's lock */
        int fd = open(path, O_RDONLY);
        struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        if (fd < 0 || fcntl(fd, F_SETLK, &lk) != 0 || write(ready[1], "x", 1) != 1)
            _exit(1);
        struct timespec pause = {0, 300000000};
        nanosleep(&pause, NULL);
        _exit(0);
    }
    close(ready[1]);
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    struct pt more[] = {{month(2026, 2), 2, NAN}};
    import(&f, "t", "k", KPI_PERIOD_MONTH, more, 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_uint_eq(stat_of(path).st_ino, ino); /* appended, not rebuilt */
    struct pt want[] = {{month(2026, 1), 1, NAN}, {month(2026, 2), 2, NAN}};
    check_days(path, KPI_PERIOD_MONTH, want, 2);
    close(ready[0]);
    free(path);
    teardown(&f);
}
END_TEST

struct progress_log {
    int calls;
    uint64_t done, total;
    char phase[16];
};

static void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    struct progress_log *log = ctx;
    log->calls++;
    log->done = done;
    log->total = total;
    snprintf(log->phase, sizeof log->phase, "%s", phase);
}

START_TEST(test_commit_of_many_series_reports_progress)
{
    struct fixture f;
    setup(&f, 2);
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_begin(f.st, &txn, &e), 0);
    for (int i = 0; i < 40; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "team-%d", i);
        size_t t, k;
        ck_assert_int_eq(store_txn_resolve_team(txn, ref, true, &t, NULL, NULL), 0);
        ck_assert_int_eq(store_txn_resolve_indicator(txn, "k", true, &k, NULL, NULL), 0);
        for (int m = 1; m <= 12; m++)
            ck_assert_int_eq(
                store_txn_set(txn, t, k, month(2025, m), STORE_VALUE, i * 100 + m, NULL, NULL), 0);
    }
    struct progress_log log = {0};
    struct store_progress progress = {on_progress, &log};
    ck_assert_msg(store_txn_commit(txn, &progress, NULL, &e) == 0, "%s", e.message);
    ck_assert_int_ge(log.calls, 2);
    ck_assert_str_eq(log.phase, "rrd");
    ck_assert_uint_eq(log.done, 40);
    ck_assert_uint_eq(log.total, 40);
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "team-%d", i);
        char *path = rrd_path(&f, id, "k");
        struct pt want[12];
        for (int m = 1; m <= 12; m++)
            want[m - 1] = (struct pt){month(2025, m), i * 100 + m, NAN};
        check_days(path, KPI_PERIOD_MONTH, want, 12);
        free(path);
    }
    teardown(&f);
}
END_TEST

static Suite *rrd_suite(void)
{
    Suite *s = suite_create("store_rrd");
    TCase *tc = tcase_create("rrd");
    tcase_add_test(tc, test_monthly_missing_month_is_unknown_never_a_neighbour);
    tcase_add_test(tc, test_weekly_series_fills_monday_to_sunday);
    tcase_add_test(tc, test_quarterly_yearly_and_daily_series);
    tcase_add_test(tc, test_targets_interpolated_and_later_targets_left_out);
    tcase_add_test(tc, test_targets_only_series_has_its_targets);
    tcase_add_test(tc, test_append_keeps_the_file_and_old_correction_rebuilds_it);
    tcase_add_test(tc, test_unchanged_series_file_is_not_touched);
    tcase_add_test(tc, test_later_target_point_updates_interpolated_targets_in_file);
    tcase_add_test(tc, test_points_before_1971_stay_in_the_ledger_only);
    tcase_add_test(tc, test_long_daily_series_appends_within_its_window);
    tcase_add_test(tc, test_missing_file_for_an_append_is_rebuilt);
    tcase_add_test(tc, test_repair_rebuilds_deleted_file);
    tcase_add_test(tc, test_repair_rebuilds_pending_series);
    tcase_add_test(tc, test_lag_set_carries_over_when_rrd_work_failed);
    tcase_add_test(tc, test_append_waits_for_a_reader_lock);
    tcase_add_test(tc, test_commit_of_many_series_reports_progress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(rrd_suite());
}
