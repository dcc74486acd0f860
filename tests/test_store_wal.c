/* Tests of the checkpoint policy (docs/ARCHITECTURE.md, "Checkpoints"): a
 * commit leaves its pages in DIR/kpi.db-wal and DIR/kpi.db byte for byte as
 * it was; store_checkpoint copies them into kpi.db and empties the WAL; a
 * commit that takes the WAL past the store's bound checkpoints itself, and
 * so does one that writes a quarter of the bound, below it; a
 * reader that holds a snapshot keeps the frames it reads, and a checkpoint
 * copies none of them under it.
 *
 * The scenario (monthly revenue, sum, up; 2025): commit 1 creates team acme,
 * the indicator and acme's January value 100; commit k (k = 2, 3, ...) adds
 * month k with the value 100 + k. */
#include "store/store.h"
#include "support/store_fixture.h"
#include "support/support.h"

#include <check.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The big commit's months (3..BIG_MONTHS): see
 * test_a_commit_of_a_quarter_of_the_bound_checkpoints_itself. */
#ifndef BIG_MONTHS
#define BIG_MONTHS 4000
#endif

struct fixture {
    char *dir;
    struct store *st;
};

/* A directory at commit 1, opened with the WAL bound given (0: default). */
static void setup(struct fixture *f, const char *tag, size_t wal_bound)
{
    f->dir = ts_tempdir(tag);
    struct store_options o = {.create = true, .threads = 1, .wal_bound = wal_bound};
    struct kpi_error e = {0};
    ck_assert_msg(store_open(f->dir, &o, &f->st, &e) == 0, "%s", e.message);
    struct store_txn *txn = sf_begin(f->st);
    sf_team(txn, "acme", "");
    sf_indicator(txn, "revenue");
    sf_set(txn, "acme", "revenue", 1, STORE_VALUE, 100);
    sf_commit(txn);
}

static void teardown(struct fixture *f)
{
    store_close(f->st);
    ts_rm_rf(f->dir);
    free(f->dir);
}

/* Commit k: acme's value of month k, 100 + k. */
static void commit_month(struct fixture *f, int k)
{
    struct store_txn *txn = sf_begin(f->st);
    sf_set(txn, "acme", "revenue", k, STORE_VALUE, 100 + k);
    sf_commit(txn);
}

static long long file_size(const struct fixture *f, const char *name)
{
    char *path = ts_path(f->dir, name);
    struct stat sb;
    long long size = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
    free(path);
    return size;
}

static char *file_bytes(const struct fixture *f, const char *name, size_t *len)
{
    char *path = ts_path(f->dir, name);
    char *bytes = ts_read_file(path, len);
    ck_assert_ptr_nonnull(bytes);
    free(path);
    return bytes;
}

/* The latest data holds acme's months 1..months, month k = 100 + k (100 for
 * January), and kpi check finds nothing wrong. */
static void assert_months(struct fixture *f, int months)
{
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open(f->st, &v, &e) == 0, "%s", e.message);
    struct store_series s;
    ck_assert(store_view_find_series(v, 0, 0, &s));
    ck_assert_uint_eq(s.count, (size_t)months);
    for (int k = 1; k <= months; k++) {
        ck_assert_int_eq(s.points[k - 1].period, sf_month(k));
        ck_assert(sf_same_double(s.points[k - 1].value, k == 1 ? 100 : 100 + k));
    }
    store_view_free(v);
    size_t problems = 9, repaired = 9;
    ck_assert_msg(store_check(f->st, false, NULL, &problems, &repaired, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(problems, 0);
}

START_TEST(test_a_commit_leaves_kpi_db_as_it_was_until_a_checkpoint)
{
    struct fixture f;
    setup(&f, "wal-commit", 0);
    size_t len0, len1;
    char *before = file_bytes(&f, "kpi.db", &len0);
    long long wal1 = file_size(&f, "kpi.db-wal");
    ck_assert_int_gt(wal1, 0);
    commit_month(&f, 2);
    char *after = file_bytes(&f, "kpi.db", &len1);
    ck_assert_uint_eq(len1, len0);
    ck_assert(memcmp(before, after, len0) == 0); /* the commit is in the WAL only */
    ck_assert_int_gt(file_size(&f, "kpi.db-wal"), wal1);
    assert_months(&f, 2);

    struct store_wal wal = {0};
    struct kpi_error e = {0};
    ck_assert_msg(store_checkpoint(f.st, &wal, &e) == 0, "%s", e.message);
    ck_assert_uint_gt(wal.frames, 0);
    ck_assert_uint_eq(wal.copied, wal.frames);
    ck_assert_int_eq(file_size(&f, "kpi.db-wal"), 0); /* emptied: nobody else reads it */
    free(after);
    after = file_bytes(&f, "kpi.db", &len1);
    ck_assert(len1 != len0 || memcmp(before, after, len0) != 0);
    assert_months(&f, 2);
    /* nothing more to copy: a second checkpoint finds an empty WAL */
    ck_assert_msg(store_checkpoint(f.st, &wal, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(wal.frames, 0);
    ck_assert_uint_eq(wal.copied, 0);
    free(before);
    free(after);
    teardown(&f);
}
END_TEST

START_TEST(test_a_commit_past_the_bound_checkpoints_it)
{
    /* a bound of one page: every commit passes it, and empties the WAL */
    struct fixture f;
    setup(&f, "wal-bound", 1);
    ck_assert_int_eq(file_size(&f, "kpi.db-wal"), 0);
    for (int k = 2; k <= 5; k++) {
        size_t len0, len1;
        char *before = file_bytes(&f, "kpi.db", &len0);
        commit_month(&f, k);
        ck_assert_int_eq(file_size(&f, "kpi.db-wal"), 0);
        char *after = file_bytes(&f, "kpi.db", &len1);
        ck_assert(len1 != len0 || memcmp(before, after, len0) != 0);
        free(before);
        free(after);
    }
    assert_months(&f, 5);
    teardown(&f);
}
END_TEST

/* Months from..to of acme in one commit, month k = 100 + k. */
static void commit_months(struct fixture *f, int from, int to)
{
    struct store_txn *txn = sf_begin(f->st);
    for (int k = from; k <= to; k++)
        sf_set(txn, "acme", "revenue", k, STORE_VALUE, 100 + k);
    sf_commit(txn);
}

START_TEST(test_a_commit_of_a_quarter_of_the_bound_checkpoints_itself)
{
    /* a bound of 512 KiB (128 pages of 4 KiB): a commit that writes 32
     * pages or more copies itself into kpi.db and empties the WAL, though
     * the WAL stays below the bound (the first commit ~12 frames, a month
     * ~4, 3,998 months ~65); the small commits before and after it leave
     * theirs in the WAL, kpi.db as it was */
    struct fixture f;
    setup(&f, "wal-quarter", (size_t)512 << 10);
    long long wal1 = file_size(&f, "kpi.db-wal");
    ck_assert_int_gt(wal1, 0);
    commit_month(&f, 2);
    ck_assert_int_gt(file_size(&f, "kpi.db-wal"), wal1);
    size_t len0, len1;
    char *before = file_bytes(&f, "kpi.db", &len0);
    commit_months(&f, 3, BIG_MONTHS);
    ck_assert_int_eq(file_size(&f, "kpi.db-wal"), 0);
    char *after = file_bytes(&f, "kpi.db", &len1);
    ck_assert(len1 != len0 || memcmp(before, after, len0) != 0);
    assert_months(&f, BIG_MONTHS);
    free(before);
    before = after;
    len0 = len1;
    commit_month(&f, BIG_MONTHS + 1);
    ck_assert_int_gt(file_size(&f, "kpi.db-wal"), 0);
    after = file_bytes(&f, "kpi.db", &len1);
    ck_assert_uint_eq(len1, len0);
    ck_assert(memcmp(before, after, len0) == 0); /* the small commit is in the WAL only */
    assert_months(&f, BIG_MONTHS + 1);
    free(before);
    free(after);
    teardown(&f);
}
END_TEST

START_TEST(test_the_default_bound_keeps_many_commits_in_the_wal)
{
    /* 11 small commits stay far below 64 MiB: none checkpoints, and the WAL
     * grows with each (SQLite appends frames) */
    struct fixture f;
    setup(&f, "wal-default", 0);
    long long last = file_size(&f, "kpi.db-wal");
    for (int k = 2; k <= 12; k++) {
        commit_month(&f, k);
        long long now = file_size(&f, "kpi.db-wal");
        ck_assert_int_gt(now, last);
        last = now;
    }
    assert_months(&f, 12);
    teardown(&f);
}
END_TEST

START_TEST(test_a_reader_keeps_its_snapshot_through_a_checkpoint)
{
    /* a reader inside a read transaction at commit 2 (the sqlite3 API, as an
     * analyst's tool would); commit 3 is made; a checkpoint then copies only
     * what the reader does not read from the WAL, keeps the WAL, and the
     * reader still sees 2 months; once it ends, the next checkpoint copies
     * everything and empties the WAL */
    struct fixture f;
    setup(&f, "wal-reader", 0);
    commit_month(&f, 2);
    char *path = ts_path(f.dir, "kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM points", -1, &q, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(q, 0), 2);
    sqlite3_reset(q);
    commit_month(&f, 3);
    struct store_wal wal = {0};
    struct kpi_error e = {0};
    ck_assert_msg(store_checkpoint(f.st, &wal, &e) == 0, "%s", e.message);
    ck_assert_uint_lt(wal.copied, wal.frames); /* commit 3's frames wait for the reader */
    ck_assert_int_gt(file_size(&f, "kpi.db-wal"), 0);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(q, 0), 2); /* its snapshot, whole */
    sqlite3_finalize(q);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_msg(store_checkpoint(f.st, &wal, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(wal.copied, wal.frames);
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
    assert_months(&f, 3);
    free(path);
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_wal");
    TCase *tc = tcase_create("wal");
    tcase_add_test(tc, test_a_commit_leaves_kpi_db_as_it_was_until_a_checkpoint);
    tcase_add_test(tc, test_a_commit_past_the_bound_checkpoints_it);
    tcase_add_test(tc, test_a_commit_of_a_quarter_of_the_bound_checkpoints_itself);
    tcase_add_test(tc, test_the_default_bound_keeps_many_commits_in_the_wal);
    tcase_add_test(tc, test_a_reader_keeps_its_snapshot_through_a_checkpoint);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
