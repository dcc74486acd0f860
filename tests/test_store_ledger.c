/* Tests of store/txn.c, view.c and db.c: commits, views, the writer lock;
 * and of ledger.c, the reader of directories written before the database:
 * a corrupt ledger is an error, never a crash. */
#include "store/store.h"
#include "store/store_int.h"
#include "store/txn_int.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct store *open_store(const char *dir, unsigned threads)
{
    struct store_options o = {.create = true, .threads = threads};
    struct store *st = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_open(dir, &o, &st, &e) == 0, "%s", e.message);
    return st;
}

static struct store_txn *begin(struct store *st)
{
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(st, &txn, &e) == 0, "%s", e.message);
    return txn;
}

static void commit(struct store_txn *txn)
{
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_commit(txn, NULL, NULL, &e) == 0, "%s", e.message);
}

static struct store_view *view_of(struct store *st)
{
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open(st, &v, &e) == 0, "%s", e.message);
    return v;
}

static size_t team(struct store_txn *txn, const char *ref)
{
    size_t i;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_resolve_team(txn, ref, true, &i, NULL, &e) == 0, "%s", e.message);
    return i;
}

static size_t indicator(struct store_txn *txn, const char *ref)
{
    size_t i;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_resolve_indicator(txn, ref, true, &i, NULL, &e) == 0, "%s", e.message);
    return i;
}

static enum store_change set(struct store_txn *txn, size_t t, size_t k, int64_t period,
                             enum store_field f, double v)
{
    enum store_change c;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_set(txn, t, k, period, f, v, &c, &e) == 0, "%s", e.message);
    return c;
}

static int64_t month(int y, int m)
{
    return (int64_t)y * 12 + m - 1;
}

/* The rows of query on DIR/kpi.db, "a|b|c\n" each (as sqlite3 prints). */
static char *sql_rows(const char *dir, const char *query)
{
    char *path = ts_path(dir, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK, "%s",
                  sqlite3_errmsg(db));
    struct kpi_buf b = {0};
    kpi_buf_puts(&b, "");
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            if (sqlite3_column_type(st, i) == SQLITE_FLOAT)
                kpi_buf_printf(&b, "%s%.1f", i ? "|" : "", sqlite3_column_double(st, i));
            else
                kpi_buf_printf(&b, "%s%s", i ? "|" : "", t ? (const char *)t : "");
        }
        kpi_buf_puts(&b, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return b.data;
}

/* A directory of the ledger store (before the database) holding team
 * "sales", indicator "revenue" and its values Jan 0.1 and Feb 0.2, 2026. */
static void write_legacy_sample(const char *dir)
{
    struct kpi_team t = {"sales", "Sales", ""};
    size_t parent = SIZE_MAX;
    struct kpi_indicator ind;
    kpi_indicator_defaults(&ind, "revenue");
    struct kpi_point pts[] = {{month(2026, 1), 0.1, NAN}, {month(2026, 2), 0.2, NAN}};
    struct store_series s = {0, 0, 2, pts};
    struct ledger_image img = {.generation = 1,
                               .teams = &t,
                               .team_parent = &parent,
                               .team_count = 1,
                               .indicators = &ind,
                               .indicator_count = 1,
                               .series = &s,
                               .series_count = 1};
    struct kpi_error e = {0};
    ck_assert_msg(ledger_write(dir, &img, &e) == 0, "%s", e.message);
}

/* A directory with one commit: team "sales" (Sales), indicator "revenue",
 * points Jan 0.1 / target 1234.5, Feb 1e-7, Mar 1/3. */
static void commit_sample(struct store *st)
{
    struct store_txn *txn = begin(st);
    size_t t = team(txn, "Sales"), k = indicator(txn, "revenue");
    set(txn, t, k, month(2026, 1), STORE_VALUE, 0.1);
    set(txn, t, k, month(2026, 1), STORE_TARGET, 1234.5);
    set(txn, t, k, month(2026, 2), STORE_VALUE, 1e-7);
    set(txn, t, k, month(2026, 3), STORE_VALUE, 1.0 / 3);
    commit(txn);
}

START_TEST(test_missing_dir_reads_as_empty_generation_zero)
{
    char *dir = ts_tempdir("ledger");
    char *missing = ts_path(dir, "nope");
    struct store_options o = {0};
    struct store *st = NULL;
    ck_assert_int_eq(store_open(missing, &o, &st, NULL), 0);
    struct store_view *v = view_of(st);
    ck_assert_uint_eq(store_view_generation(v), 0);
    ck_assert_uint_eq(store_view_team_count(v), 0);
    ck_assert_uint_eq(store_view_indicator_count(v), 0);
    ck_assert_uint_eq(store_view_series_count(v), 0);
    ck_assert(!store_changed(st, v));
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(missing);
    free(dir);
}
END_TEST

START_TEST(test_open_on_a_file_is_system_error)
{
    char *dir = ts_tempdir("ledger");
    char *file = ts_path(dir, "file");
    ts_write_file(file, "x", (size_t)-1);
    struct store *st = NULL;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_open(file, NULL, &st, &e), KPI_ESYSTEM);
    ck_assert_ptr_null(st);
    ck_assert_ptr_nonnull(strstr(e.message, "not a directory"));
    ts_rm_rf(dir);
    free(file);
    free(dir);
}
END_TEST

START_TEST(test_commit_then_view_reads_back_exact_points)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    struct store_view *v = view_of(st);
    ck_assert_uint_eq(store_view_generation(v), 1);
    ck_assert_uint_eq(store_view_team_count(v), 1);
    ck_assert_str_eq(store_view_team(v, 0)->id, "sales");
    ck_assert_str_eq(store_view_team(v, 0)->name, "Sales");
    ck_assert_str_eq(store_view_team(v, 0)->parent, "");
    ck_assert_uint_eq(store_view_indicator_count(v), 1);
    const struct kpi_indicator *ind = store_view_indicator(v, 0);
    ck_assert_str_eq(ind->id, "revenue");
    ck_assert_int_eq(ind->period, KPI_PERIOD_MONTH);
    ck_assert_int_eq(ind->family, KPI_FAMILY_NONE);
    ck_assert_uint_eq(store_view_series_count(v), 1);
    struct store_series s;
    ck_assert(store_view_find_series(v, 0, 0, &s));
    ck_assert_uint_eq(s.count, 3);
    ck_assert_int_eq(s.points[0].period, month(2026, 1));
    ck_assert(s.points[0].value == 0.1);
    ck_assert(s.points[0].target == 1234.5);
    ck_assert(s.points[1].value == 1e-7);
    ck_assert(isnan(s.points[1].target));
    ck_assert(s.points[2].value == 1.0 / 3);
    ck_assert_int_eq(s.points[2].period, month(2026, 3));
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_generation_increments_at_each_commit)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    struct store_txn *txn = begin(st);
    set(txn, 0, 0, month(2026, 4), STORE_VALUE, 4);
    commit(txn);
    struct store_view *v = view_of(st);
    ck_assert_uint_eq(store_view_generation(v), 2);
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_commit_without_change_writes_nothing)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    char *before = ts_tree_digest(dir);
    struct store_txn *txn = begin(st);
    ck_assert_int_eq(set(txn, 0, 0, month(2026, 1), STORE_VALUE, 0.1), STORE_UNCHANGED);
    commit(txn);
    char *after = ts_tree_digest(dir);
    ck_assert_str_eq(before, after);
    struct store_view *v = view_of(st);
    ck_assert_uint_eq(store_view_generation(v), 1);
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(before);
    free(after);
    free(dir);
}
END_TEST

START_TEST(test_abort_writes_nothing)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    char *before = ts_tree_digest(dir);
    struct store_txn *txn = begin(st);
    size_t t = team(txn, "Other team"), k = indicator(txn, "cost");
    set(txn, t, k, month(2026, 1), STORE_VALUE, 5);
    set(txn, 0, 0, month(2026, 1), STORE_VALUE, 99);
    store_txn_abort(txn);
    char *after = ts_tree_digest(dir);
    ck_assert_str_eq(before, after);
    store_txn_abort(NULL);
    store_close(st);
    ts_rm_rf(dir);
    free(before);
    free(after);
    free(dir);
}
END_TEST

START_TEST(test_changed_is_true_only_after_a_commit)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    struct store_view *v = view_of(st);
    ck_assert(!store_changed(st, v));
    struct store_txn *txn = begin(st);
    set(txn, 0, 0, month(2026, 5), STORE_VALUE, 5);
    commit(txn);
    ck_assert(store_changed(st, v));
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* A reader in another process (a second store handle here) sees a commit
 * at its next question, and a view reloaded after it sees no change. */
START_TEST(test_changed_sees_other_writers)
{
    char *dir = ts_tempdir("ledger");
    struct store *writer = open_store(dir, 1);
    struct store *reader = open_store(dir, 1);
    struct store_view *empty = view_of(reader);
    ck_assert(!store_changed(reader, empty)); /* no database yet */
    commit_sample(writer);
    ck_assert(store_changed(reader, empty)); /* the first commit creates it */
    struct store_view *v = view_of(reader);
    ck_assert(!store_changed(reader, v));
    ck_assert(!store_changed(reader, v));
    struct store_txn *txn = begin(writer);
    set(txn, 0, 0, month(2026, 6), STORE_VALUE, 6);
    commit(txn);
    ck_assert(store_changed(reader, v));
    struct store_view *v2 = view_of(reader);
    ck_assert(!store_changed(reader, v2));
    ck_assert_uint_eq(store_view_generation(v2), 2);
    store_view_free(v2);
    store_view_free(v);
    store_view_free(empty);
    store_close(reader);
    store_close(writer);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_set_reports_new_corrected_unchanged)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    struct store_txn *txn = begin(st);
    ck_assert_int_eq(set(txn, 0, 0, month(2026, 1), STORE_VALUE, 0.1), STORE_UNCHANGED);
    ck_assert_int_eq(set(txn, 0, 0, month(2026, 1), STORE_VALUE, 0.2), STORE_CORRECTED);
    ck_assert_int_eq(set(txn, 0, 0, month(2026, 2), STORE_TARGET, 7), STORE_NEW);
    ck_assert_int_eq(set(txn, 0, 0, month(2025, 6), STORE_VALUE, 7), STORE_NEW);
    ck_assert_int_eq(set(txn, 0, 0, month(2025, 6), STORE_VALUE, 7), STORE_UNCHANGED);
    struct store_txn_stats stats;
    store_txn_stats(txn, &stats);
    ck_assert_uint_eq(stats.series, 1);
    ck_assert_uint_eq(stats.new_teams, 0);
    commit(txn);
    struct store_view *v = view_of(st);
    struct store_series s;
    ck_assert(store_view_find_series(v, 0, 0, &s));
    ck_assert_uint_eq(s.count, 4);
    ck_assert_int_eq(s.points[0].period, month(2025, 6));
    ck_assert(s.points[1].value == 0.2);
    ck_assert(s.points[2].target == 7);
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_set_rejects_non_finite_and_out_of_range)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    struct store_txn *txn = begin(st);
    size_t t = team(txn, "a"), k = indicator(txn, "b");
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_set(txn, t, k, month(2026, 1), STORE_VALUE, NAN, NULL, &e),
                     KPI_EINPUT);
    ck_assert_int_eq(store_txn_set(txn, t, k, month(2026, 1), STORE_VALUE, INFINITY, NULL, &e),
                     KPI_EINPUT);
    ck_assert_int_eq(store_txn_set(txn, t, k, month(10000, 1), STORE_VALUE, 1, NULL, &e),
                     KPI_EINPUT);
    ck_assert_int_eq(store_txn_set(txn, t + 1, k, month(2026, 1), STORE_VALUE, 1, NULL, &e),
                     KPI_EINPUT);
    store_txn_abort(txn);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_output_order_does_not_depend_on_input_order)
{
    char *d1 = ts_tempdir("ledger"), *d2 = ts_tempdir("ledger");
    const char *teams[] = {"b", "a", "c"}, *kpis[] = {"y", "x"};
    for (int run = 0; run < 2; run++) {
        struct store *st = open_store(run == 0 ? d1 : d2, 1);
        struct store_txn *txn = begin(st);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) {
                int ti = run == 0 ? i : 2 - i, kj = run == 0 ? j : 1 - j;
                size_t t = team(txn, teams[ti]), k = indicator(txn, kpis[kj]);
                set(txn, t, k, month(2026, 1), STORE_VALUE, ti * 10 + kj);
            }
        commit(txn);
        store_close(st);
    }
    /* the same rows in both databases: series numbered in id order */
    const char *q = "SELECT s.id, s.team, s.kpi, v.period, v.field, v.value FROM series s JOIN "
                    "versions v ON v.series = s.id ORDER BY s.id";
    char *r1 = sql_rows(d1, q), *r2 = sql_rows(d2, q);
    ck_assert_str_eq(r1, r2);
    ck_assert_str_eq(r1, "1|a|x|24312|0|11.0\n2|a|y|24312|0|10.0\n3|b|x|24312|0|1.0\n"
                         "4|b|y|24312|0|0.0\n5|c|x|24312|0|21.0\n6|c|y|24312|0|20.0\n");
    free(r1);
    free(r2);
    struct store *st = open_store(d1, 1);
    struct store_view *v = view_of(st);
    ck_assert_str_eq(store_view_team(v, 0)->id, "a");
    ck_assert_str_eq(store_view_team(v, 2)->id, "c");
    ck_assert_str_eq(store_view_indicator(v, 0)->id, "x");
    struct store_series s;
    store_view_series(v, 1, &s);
    ck_assert_uint_eq(s.team, 0);
    ck_assert_uint_eq(s.indicator, 1);
    ck_assert(s.points[0].value == 10); /* team a = teams[1], kpi y = kpis[0] */
    store_view_free(v);
    store_close(st);
    ts_rm_rf(d1);
    ts_rm_rf(d2);
    free(d1);
    free(d2);
}
END_TEST

/* Points' room taken from the transaction's slabs (store/txn_int.h). */
static size_t slab_points_used(const struct store_txn *txn)
{
    size_t n = 0;
    for (const struct point_slab *slab = txn->slabs; slab != NULL; slab = slab->next)
        n += slab->used;
    return n;
}

/* Stage a value for every (team, kpi, month) of a grid, by series (all
 * months of a series, then the next series) or by date (every series of a
 * month, then the next month). Returns the failed calls. */
static size_t stage_grid(struct store_txn *txn, int nteams, int nkpis, int months, bool by_date)
{
    size_t teams[1000], kpis[20];
    ck_assert_int_le(nteams, 1000);
    ck_assert_int_le(nkpis, 20);
    for (int i = 0; i < nteams; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "team-%04d", i);
        teams[i] = team(txn, ref);
    }
    for (int i = 0; i < nkpis; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "kpi-%02d", i);
        kpis[i] = indicator(txn, ref);
    }
    size_t failures = 0; /* not ck_assert: each one writes to check's pipe */
    int series = nteams * nkpis;
    for (int k = 0; k < series * months; k++) {
        int s = by_date ? k % series : k / months, m = by_date ? k / series : k % months;
        int i = s / nkpis, j = s % nkpis;
        failures += store_txn_set(txn, teams[i], kpis[j], month(2020, 1) + m, STORE_VALUE,
                                  m + i * 0.5, NULL, NULL) != 0;
    }
    return failures;
}

START_TEST(test_sets_by_series_pack_the_point_slabs)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    struct store_txn *txn = begin(st);
    ck_assert_uint_eq(stage_grid(txn, 100, 20, 50, false), 0);
    /* each series' slot is trimmed to its 50 points when the next one is
     * taken: only the last series keeps the spare room of its slot */
    size_t used = slab_points_used(txn);
    ck_assert_uint_ge(used, 100000);
    ck_assert_uint_lt(used, 100000 + 64);
    store_txn_abort(txn);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_a_million_sets_by_date_move_each_series_once)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    struct store_txn *txn = begin(st);
    ck_assert_uint_eq(stage_grid(txn, 1000, 20, 50, true), 0);
    /* the first slot of every series is trimmed to its one point when the
     * next series takes a slot; its second point moves it once, to room
     * for 65 points: trimming that slot too would move it every month */
    ck_assert_uint_le(slab_points_used(txn), 20000 * (1 + 65));
    struct store_txn_stats stats;
    store_txn_stats(txn, &stats);
    ck_assert_uint_eq(stats.series, 20000);
    ck_assert_uint_eq(stats.new_teams, 1000);
    ck_assert_uint_eq(stats.new_indicators, 20);
    store_txn_abort(txn);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------- corruption */

static void expect_corrupt(const char *dir)
{
    struct store *st = open_store(dir, 1);
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_view_open(st, &v, &e), KPI_ESYSTEM);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(e.message, "/ledger: corrupt ledger (") != NULL, "%s", e.message);
    struct store_txn *txn = NULL;
    ck_assert_int_eq(store_txn_begin(st, &txn, &e), KPI_ESYSTEM);
    ck_assert_ptr_null(txn);
    store_close(st);
}

/* Rewrite DIR/ledger through f, then fix its checksum when asked. */
static void tamper(const char *dir, void (*f)(char *buf, size_t len), bool fix_sum)
{
    char *path = ts_path(dir, "ledger");
    size_t len;
    char *buf = ts_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    f(buf, len);
    if (fix_sum) {
        uint64_t sum = ledger_checksum(buf, len - 8);
        memcpy(buf + len - 8, &sum, 8);
    }
    ts_write_file(path, buf, len);
    free(buf);
    free(path);
}

static void flip_middle(char *buf, size_t len)
{
    buf[len / 2] ^= 0x10;
}

static void huge_point_count(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    h.point_count = UINT64_MAX / 2;
    memcpy(buf, &h, sizeof h);
}

static void huge_series_count(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    h.series_count = (uint64_t)1 << 60;
    memcpy(buf, &h, sizeof h);
}

static void bad_string_offset(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    struct ledger_team t;
    memcpy(&t, buf + h.teams_off, sizeof t);
    t.name = h.strings_len + 100;
    memcpy(buf + h.teams_off, &t, sizeof t);
}

static void bad_team_id(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    memcpy(buf + h.strings_off, "..", 2); /* "sales" -> "..les" */
}

static void self_parent(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    struct ledger_team t;
    memcpy(&t, buf + h.teams_off, sizeof t);
    t.parent = 0;
    memcpy(buf + h.teams_off, &t, sizeof t);
}

static void periods_out_of_order(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    int64_t p = month(2026, 3); /* the first point, after the second */
    memcpy(buf + h.points_off, &p, sizeof p);
}

static void series_index_out_of_range(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    struct ledger_series s;
    memcpy(&s, buf + h.series_off, sizeof s);
    s.indicator = 7;
    memcpy(buf + h.series_off, &s, sizeof s);
}

static void misaligned_points(char *buf, size_t len)
{
    (void)len;
    struct ledger_header h;
    memcpy(&h, buf, sizeof h);
    h.points_off += 4;
    memcpy(buf, &h, sizeof h);
}

static void (*const tamperings[])(char *, size_t) = {
    huge_point_count, huge_series_count,    bad_string_offset,         bad_team_id,
    self_parent,      periods_out_of_order, series_index_out_of_range, misaligned_points,
};

START_TEST(test_crafted_ledger_with_valid_checksum_is_corrupt)
{
    char *dir = ts_tempdir("ledger");
    write_legacy_sample(dir);
    tamper(dir, tamperings[_i], true);
    expect_corrupt(dir);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_flipped_byte_is_corrupt)
{
    char *dir = ts_tempdir("ledger");
    write_legacy_sample(dir);
    tamper(dir, flip_middle, false);
    expect_corrupt(dir);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_truncated_ledger_is_corrupt)
{
    char *dir = ts_tempdir("ledger");
    write_legacy_sample(dir);
    char *path = ts_path(dir, "ledger");
    size_t len;
    char *buf = ts_read_file(path, &len);
    size_t cuts[] = {0, 7, 100, len / 2, len - 8, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        ts_write_file(path, buf, cuts[i]);
        expect_corrupt(dir);
    }
    ts_write_file(path,
                  "garbage that is not a ledger at all, longer than a header......"
                  "...................................................................",
                  (size_t)-1);
    expect_corrupt(dir);
    free(buf);
    free(path);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------ the lock */

START_TEST(test_second_begin_waits_for_the_first_commit)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(ready[0]);
        struct store_txn *txn = NULL;
        if (store_txn_begin(st, &txn, NULL) != 0)
            _exit(1);
        size_t t, k;
        store_txn_resolve_team(txn, "child", true, &t, NULL, NULL);
        store_txn_resolve_indicator(txn, "k", true, &k, NULL, NULL);
        store_txn_set(txn, t, k, month(2026, 1), STORE_VALUE, 1, NULL, NULL);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        /* hold the lock while the parent blocks in store_txn_begin */
        struct timespec pause = {0, 200000000};
        nanosleep(&pause, NULL);
        _exit(store_txn_commit(txn, NULL, NULL, NULL) == 0 ? 0 : 1);
    }
    close(ready[1]);
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1); /* the child holds the lock */
    struct store_txn *txn = begin(st);          /* returns once the child committed */
    size_t t;
    ck_assert_int_eq(store_txn_resolve_team(txn, "child", false, &t, NULL, NULL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    store_txn_abort(txn);
    close(ready[0]);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------- views, paths */

START_TEST(test_view_lookups_by_id_and_name)
{
    char *dir = ts_tempdir("ledger");
    struct store *st = open_store(dir, 1);
    commit_sample(st);
    struct store_view *v = view_of(st);
    size_t i = 99;
    ck_assert_int_eq(store_view_find_team(v, "sales", &i), 0);
    ck_assert_uint_eq(i, 0);
    ck_assert_int_eq(store_view_find_team(v, "Sales", &i), KPI_ENOTFOUND);
    ck_assert_int_eq(store_view_find_indicator(v, "revenue", &i), 0);
    ck_assert_int_eq(store_view_find_indicator(v, "x", &i), KPI_ENOTFOUND);
    struct kpi_error e = {0};
    ck_assert_int_eq(store_view_resolve_team(v, " SALES ", &i, &e), 0);
    ck_assert_int_eq(store_view_resolve_indicator(v, "REVENUE", &i, &e), 0);
    ck_assert_int_eq(store_view_resolve_team(v, "nobody", &i, &e), KPI_ENOTFOUND);
    ck_assert_str_eq(e.message, "unknown team \"nobody\"");
    ck_assert_int_eq(store_view_resolve_indicator(v, "nothing", &i, &e), KPI_ENOTFOUND);
    ck_assert_str_eq(e.message, "unknown indicator \"nothing\"");
    struct store_series s;
    ck_assert(!store_view_find_series(v, 0, 1, &s));
    store_view_free(v);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_series_path_never_leaves_dir)
{
    struct store *st = NULL;
    ck_assert_int_eq(store_open("/tmp/kpi-data", NULL, &st, NULL), 0);
    char buf[256];
    struct kpi_error e = {0};
    ck_assert_int_eq(store_series_path(st, "sales", "revenue", buf, sizeof buf, &e), 0);
    ck_assert_str_eq(buf, "/tmp/kpi-data/series/sales/revenue.rrd");
    const char *bad[] = {"..", "../x", "a/b", "", ".", "/etc", "A"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(store_series_path(st, bad[i], "k", buf, sizeof buf, &e), KPI_EINPUT);
        ck_assert_int_eq(store_series_path(st, "t", bad[i], buf, sizeof buf, &e), KPI_EINPUT);
    }
    ck_assert_int_eq(store_series_path(st, "sales", "revenue", buf, 10, &e), KPI_ESYSTEM);
    ck_assert_str_eq(store_dir(st), "/tmp/kpi-data");
    store_close(st);
    store_close(NULL);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("store_ledger");
    TCase *tc = tcase_create("ledger");
    tcase_add_test(tc, test_missing_dir_reads_as_empty_generation_zero);
    tcase_add_test(tc, test_open_on_a_file_is_system_error);
    tcase_add_test(tc, test_commit_then_view_reads_back_exact_points);
    tcase_add_test(tc, test_generation_increments_at_each_commit);
    tcase_add_test(tc, test_commit_without_change_writes_nothing);
    tcase_add_test(tc, test_abort_writes_nothing);
    tcase_add_test(tc, test_changed_is_true_only_after_a_commit);
    tcase_add_test(tc, test_changed_sees_other_writers);
    tcase_add_test(tc, test_set_reports_new_corrected_unchanged);
    tcase_add_test(tc, test_set_rejects_non_finite_and_out_of_range);
    tcase_add_test(tc, test_output_order_does_not_depend_on_input_order);
    tcase_add_test(tc, test_sets_by_series_pack_the_point_slabs);
    tcase_add_test(tc, test_a_million_sets_by_date_move_each_series_once);
    tcase_add_loop_test(tc, test_crafted_ledger_with_valid_checksum_is_corrupt, 0,
                        (int)(sizeof tamperings / sizeof tamperings[0]));
    tcase_add_test(tc, test_flipped_byte_is_corrupt);
    tcase_add_test(tc, test_truncated_ledger_is_corrupt);
    tcase_add_test(tc, test_second_begin_waits_for_the_first_commit);
    tcase_add_test(tc, test_view_lookups_by_id_and_name);
    tcase_add_test(tc, test_series_path_never_leaves_dir);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(ledger_suite());
}
