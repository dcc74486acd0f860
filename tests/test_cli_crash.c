/* Crash safety, end to end: kill -9 a large `kpi import` at different moments
 * (while reading, while SQLite writes the commit, while writing RRD files), then
 * every series is either as before or as after the import, and running the
 * same import again completes with the RRD files equal to a clean import's.
 * kill -9 of `kpi backup` at different moments leaves the source as it was
 * and no destination. */
#include "support/support.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <rrd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { TEAMS = 120, KPIS = 10, MONTHS = 40 };

/* The base data: the first 20 months of every series. The big file: all 40
 * months, with the first 20 corrected (+0.5) so old periods change too. */
static char *write_csv(const char *dir, const char *name, int months, double shift)
{
    char *path = ts_path(dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("date,team,kpi,value,target\n", f);
    for (int t = 0; t < TEAMS; t++)
        for (int k = 0; k < KPIS; k++)
            for (int m = 0; m < months; m++)
                fprintf(f, "%04d-%02d,team%03d,kpi%02d,%g,%d\n", 2022 + m / 12, m % 12 + 1, t, k,
                        100.0 + t + k * 10 + m + (m < 20 ? shift : 0), 150 + m);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static char *run_export(const char *data)
{
    struct ts_run r;
    const char *argv[] = {"--data", data, "export", NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "export: %s", r.err);
    free(r.err);
    return r.out;
}

static void run_import(const char *data, const char *csv)
{
    struct ts_run r;
    const char *argv[] = {"--data", data, "import", "--quiet", csv, NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ts_run_free(&r);
}

/* The inode of path, 0 when it does not exist. */
static ino_t inode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

static off_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Start an import and kill it with SIGKILL as soon as `trigger` changes
 * identity (appears, or is replaced by a rename), or, with min_size > 0,
 * once it holds at least min_size bytes (NULL: kill at once). Polls the
 * file system: the test waits for a condition, it does not depend on
 * timing to be correct. */
static void import_killed_when(const char *data, const char *csv, const char *trigger,
                               off_t min_size)
{
    ino_t initial = trigger && min_size == 0 ? inode_of(trigger) : 0;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execl(KPI_BINARY, KPI_BINARY, "--data", data, "import", "--quiet", csv, (char *)NULL);
        _exit(127);
    }
    const struct timespec tick = {0, 200000};
    int status;
    /* a size is watched without pausing: SQLite writes a commit's log in a
     * few milliseconds */
    while (trigger && (min_size > 0 ? size_of(trigger) < min_size : inode_of(trigger) == initial) &&
           waitpid(pid, &status, WNOHANG) == 0)
        if (min_size == 0)
            nanosleep(&tick, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

/* Every RRD file of `clean` must hold the same daily rows in `other`. */
static void assert_rrds_equal(const char *clean, const char *other)
{
    for (int t = 0; t < TEAMS; t += 7) {
        for (int k = 0; k < KPIS; k += 3) {
            char rel[64];
            snprintf(rel, sizeof rel, "series/team%03d/kpi%02d.rrd", t, k);
            char *a = ts_path(clean, rel), *b = ts_path(other, rel);
            time_t start = 1640995200, end = 1640995200 + 40L * 31 * 86400; /* 2022-01-01 + */
            unsigned long step = 86400, ds_a, ds_b;
            char **names_a, **names_b;
            rrd_value_t *data_a, *data_b;
            time_t s1 = start, e1 = end, s2 = start, e2 = end;
            unsigned long st1 = step, st2 = step;
            rrd_clear_error();
            ck_assert_msg(rrd_fetch_r(a, "AVERAGE", &s1, &e1, &st1, &ds_a, &names_a, &data_a) == 0,
                          "%s: %s", a, rrd_get_error());
            rrd_clear_error();
            ck_assert_msg(rrd_fetch_r(b, "AVERAGE", &s2, &e2, &st2, &ds_b, &names_b, &data_b) == 0,
                          "%s: %s", b, rrd_get_error());
            ck_assert(s1 == s2 && e1 == e2 && st1 == st2 && ds_a == ds_b);
            size_t cells = (size_t)((e1 - s1) / (time_t)st1) * ds_a;
            for (size_t i = 0; i < cells; i++) {
                bool both_nan = data_a[i] != data_a[i] && data_b[i] != data_b[i];
                ck_assert_msg(both_nan || data_a[i] == data_b[i], "%s row %zu: %g vs %g", rel,
                              i / ds_a, data_a[i], data_b[i]);
            }
            for (unsigned long d = 0; d < ds_a; d++) {
                rrd_freemem(names_a[d]);
                rrd_freemem(names_b[d]);
            }
            rrd_freemem(names_a);
            rrd_freemem(names_b);
            rrd_freemem(data_a);
            rrd_freemem(data_b);
            free(a);
            free(b);
        }
    }
}

static void crash_scenario(const char *tag, const char *trigger_rel, off_t min_size)
{
    char *root = ts_tempdir(tag);
    char *base = write_csv(root, "base.csv", 20, 0);
    char *big = write_csv(root, "big.csv", MONTHS, 0.5);
    char *clean = ts_path(root, "clean"), *data = ts_path(root, "data");
    run_import(clean, base);
    run_import(clean, big);
    char *after = run_export(clean);
    run_import(data, base);
    char *before = run_export(data);
    char *trigger = trigger_rel ? ts_path(data, trigger_rel) : NULL;

    import_killed_when(data, big, trigger, min_size);
    char *seen = run_export(data);
    ck_assert_msg(strcmp(seen, before) == 0 || strcmp(seen, after) == 0,
                  "after kill -9 the data is neither before nor after the import");
    run_import(data, big);
    char *final = run_export(data);
    ck_assert_str_eq(final, after);
    assert_rrds_equal(clean, data);

    free(seen);
    free(final);
    free(before);
    free(after);
    free(trigger);
    free(clean);
    free(data);
    free(base);
    free(big);
    ts_rm_rf(root);
    free(root);
}

START_TEST(test_kill_while_reading_keeps_previous_state)
{
    crash_scenario("crash-read", NULL, 0);
}
END_TEST

/* The commit's 96,000 versions and points fill several MB of SQLite's
 * write-ahead log: kill once 256 KiB are written, in the middle of it. */
START_TEST(test_kill_while_writing_the_commit_is_all_or_nothing)
{
    crash_scenario("crash-db", "kpi.db-wal", 256 * 1024);
}
END_TEST

START_TEST(test_kill_while_writing_rrd_files_is_repaired)
{
    /* The big import corrects old periods, so every RRD file is rebuilt and
     * renamed into place, in team order: kill once team060's files (half
     * way) are replaced. */
    crash_scenario("crash-rrd", "series/team060/kpi05.rrd", 0);
}
END_TEST

/* Start `kpi backup dest` and kill it with SIGKILL once the file `rel` of
 * its temporary directory (dest.partial-PID) exists with at least min_size
 * bytes (rel NULL: at once), or once it has finished. */
static void backup_killed_when(const char *data, const char *dest, const char *rel, off_t min_size)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execl(KPI_BINARY, KPI_BINARY, "--data", data, "backup", dest, (char *)NULL);
        _exit(127);
    }
    char partial[4096];
    snprintf(partial, sizeof partial, "%s.partial-%ld/%s", dest, (long)pid, rel ? rel : "");
    const struct timespec tick = {0, 200000};
    int status;
    while (rel && (inode_of(partial) == 0 || size_of(partial) < min_size) &&
           waitpid(pid, &status, WNOHANG) == 0)
        nanosleep(&tick, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

/* kpi --data data ARGS: its exit status. */
static int kpi_status(const char *data, const char *a, const char *b)
{
    struct ts_run r;
    const char *argv[] = {"--data", data, a, b, NULL};
    ts_kpi(&r, NULL, argv);
    int status = r.status;
    ts_run_free(&r);
    return status;
}

/* A backup killed at any moment leaves the source as it was and no DEST
 * (only a DEST.partial-PID directory, named for what it is); the next
 * backup is whole: kpi check passes on it and it exports the same data. */
START_TEST(test_kill_during_backup_leaves_no_destination)
{
    char *root = ts_tempdir("crash-backup");
    char *base = write_csv(root, "base.csv", 20, 0);
    char *data = ts_path(root, "data"), *dest = ts_path(root, "copy");
    run_import(data, base);
    char *before = ts_tree_digest(data);
    char *exported = run_export(data);
    /* at once; once the copy's database is being written; half way through
     * its RRD files (built in team order) */
    const char *moments[] = {NULL, "kpi.db", "series/team060"};
    const off_t sizes[] = {0, 64 * 1024, 0};
    for (size_t i = 0; i < 3; i++) {
        backup_killed_when(data, dest, moments[i], sizes[i]);
        char *now = ts_tree_digest(data);
        ck_assert_msg(strcmp(now, before) == 0, "moment %zu: the source changed", i);
        free(now);
        ck_assert_msg(inode_of(dest) == 0, "moment %zu: %s exists after kill -9", i, dest);
    }
    ck_assert_int_eq(kpi_status(data, "backup", dest), 0);
    ck_assert_int_eq(kpi_status(dest, "check", NULL), 0);
    char *copied = run_export(dest);
    ck_assert_str_eq(copied, exported);
    free(copied);
    free(exported);
    free(before);
    free(data);
    free(dest);
    free(base);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* Copy file src to dst (whole). */
static void copy_file(const char *src, const char *dst)
{
    size_t len = 0;
    char *data = ts_read_file(src, &len);
    ck_assert_ptr_nonnull(data);
    ts_write_file(dst, data, len);
    free(data);
}

/* DIR/rrd-written as a power cut leaves it: written in the boot before
 * (its id differs from this boot's), whatever commit it names. */
static void written_in_another_boot(const char *data)
{
    char *path = ts_path(data, "rrd-written");
    char *text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    char *space = strchr(text, ' ');
    ck_assert_ptr_nonnull(space);
    char other[256];
    snprintf(other, sizeof other, "00000000-0000-4000-8000-000000000000%s", space);
    ts_write_file(path, other, strlen(other));
    free(text);
    free(path);
}

/* A power cut during a commit's RRD step: the database holds the commit
 * (synced at COMMIT) and its rrd_pending rows, but RRD files that were not
 * synced yet are back to their content before the commit, truncated, half
 * written or missing. The next writer (here kpi check --repair, and an
 * import that changes nothing) makes every file equal to the data. */
START_TEST(test_power_loss_during_the_rrd_step_is_repaired)
{
    char *root = ts_tempdir("crash-power");
    char *base = write_csv(root, "base.csv", 20, 0);
    char *big = write_csv(root, "big.csv", MONTHS, 0.5);
    char *clean = ts_path(root, "clean"), *data = ts_path(root, "data");
    run_import(clean, base);
    run_import(clean, big);
    run_import(data, base);
    /* the files as they were before the commit */
    char *old0 = ts_path(root, "old0.rrd"), *old7 = ts_path(root, "old7.rrd");
    char *f0 = ts_path(data, "series/team000/kpi00.rrd");
    char *f7 = ts_path(data, "series/team007/kpi03.rrd");
    char *f14 = ts_path(data, "series/team014/kpi06.rrd");
    char *f21 = ts_path(data, "series/team021/kpi09.rrd");
    copy_file(f0, old0);
    copy_file(f7, old7);
    run_import(data, big);
    /* what the power cut left: every series pending again (the commit's
     * rows), two files back to their old content, one truncated to half,
     * one missing */
    char *db = ts_path(data, "kpi.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' 'INSERT OR IGNORE INTO rrd_pending SELECT id FROM series'", db);
    ck_assert_int_eq(system(cmd), 0);
    written_in_another_boot(data);
    copy_file(old0, f0);
    copy_file(old7, f7);
    ck_assert_int_eq(truncate(f14, size_of(f14) / 2), 0);
    ck_assert_int_eq(unlink(f21), 0);
    struct ts_run r;
    const char *check[] = {"--data", data, "check", "--repair", NULL};
    ts_kpi(&r, NULL, check);
    ck_assert_msg(r.status == 0, "check --repair: %s%s", r.out, r.err);
    ts_run_free(&r);
    assert_rrds_equal(clean, data);
    /* the same state again, repaired by the next import instead */
    ck_assert_int_eq(system(cmd), 0);
    written_in_another_boot(data);
    copy_file(old0, f0);
    ck_assert_int_eq(truncate(f7, 0), 0);
    run_import(data, big); /* changes nothing: no commit, but repairs */
    assert_rrds_equal(clean, data);
    const char *check2[] = {"--data", data, "check", NULL};
    ts_kpi(&r, NULL, check2);
    ck_assert_msg(r.status == 0, "check: %s%s", r.out, r.err);
    ts_run_free(&r);
    free(db);
    free(old0);
    free(old7);
    free(f0);
    free(f7);
    free(f14);
    free(f21);
    free(clean);
    free(data);
    free(base);
    free(big);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* A power cut after a whole commit, before the kernel wrote its RRD files
 * back: nothing synced them (a commit syncs the database only), so files
 * are back to their content before the commit, truncated or missing, while
 * the database holds the commit and its rrd_pending rows, and
 * DIR/rrd-written names the commit in the boot before. A reader does not
 * trust those files (kpi graph), and the next writer rebuilds them. In
 * this boot, the same marks are no reason to rebuild anything. */
START_TEST(test_power_loss_after_a_commit_is_repaired_by_the_next_writer)
{
    char *root = ts_tempdir("crash-after");
    char *base = write_csv(root, "base.csv", 20, 0);
    char *big = write_csv(root, "big.csv", MONTHS, 0.5);
    char *clean = ts_path(root, "clean"), *data = ts_path(root, "data");
    run_import(clean, base);
    run_import(clean, big);
    run_import(data, base);
    char *old0 = ts_path(root, "old0.rrd");
    char *f0 = ts_path(data, "series/team000/kpi00.rrd");
    char *f7 = ts_path(data, "series/team007/kpi03.rrd");
    char *f14 = ts_path(data, "series/team014/kpi06.rrd");
    copy_file(f0, old0);
    run_import(data, big);
    /* the commit's marks are durable with it; the files are whole in this
     * boot: an import that changes nothing leaves every file as it is */
    char *db = ts_path(data, "kpi.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'SELECT count(*) FROM rrd_pending' > '%s/n.txt'", db,
             root);
    ck_assert_int_eq(system(cmd), 0);
    char *n_path = ts_path(root, "n.txt");
    char *n = ts_read_file(n_path, NULL);
    ck_assert_str_eq(n, "1200\n"); /* 120 teams x 10 indicators */
    free(n);
    ino_t i7 = inode_of(f7);
    run_import(data, big);
    ck_assert_uint_eq(inode_of(f7), i7);
    /* the power cut */
    written_in_another_boot(data);
    copy_file(old0, f0);
    ck_assert_int_eq(truncate(f7, 0), 0);
    ck_assert_int_eq(unlink(f14), 0);
    /* a reader draws from the data, not from the stale file */
    struct ts_run r;
    char *png = ts_path(root, "g.png"), *want = ts_path(root, "want.png");
    const char *graph[] = {"--data", data, "graph", "team000", "kpi00", "-o", png, NULL};
    ts_kpi(&r, NULL, graph);
    ck_assert_msg(r.status == 0, "graph: %s", r.err);
    ts_run_free(&r);
    const char *graph_clean[] = {"--data", clean, "graph", "team000", "kpi00", "-o", want, NULL};
    ts_kpi(&r, NULL, graph_clean);
    ck_assert_msg(r.status == 0, "graph: %s", r.err);
    ts_run_free(&r);
    size_t glen = 0, wlen = 0;
    char *got = ts_read_file(png, &glen), *exp = ts_read_file(want, &wlen);
    ck_assert(glen == wlen && memcmp(got, exp, glen) == 0);
    free(got);
    free(exp);
    free(want);
    /* the next writer repairs */
    run_import(data, big);
    assert_rrds_equal(clean, data);
    const char *check[] = {"--data", data, "check", NULL};
    ts_kpi(&r, NULL, check);
    ck_assert_msg(r.status == 0, "check: %s%s", r.out, r.err);
    ts_run_free(&r);
    ck_assert_int_eq(system(cmd), 0);
    n = ts_read_file(n_path, NULL);
    ck_assert_str_eq(n, "0\n"); /* repaired, synced, no longer pending */
    free(n);
    free(n_path);
    free(png);
    free(db);
    free(old0);
    free(f0);
    free(f7);
    free(f14);
    free(clean);
    free(data);
    free(base);
    free(big);
    ts_rm_rf(root);
    free(root);
}
END_TEST

/* A commit that fails in the database (here a trigger refuses its row)
 * after its RRD files were written beside it: none of them is named, the
 * old files are as they were, the data directory holds nothing new. */
START_TEST(test_a_failed_commit_names_no_rrd_file)
{
    char *root = ts_tempdir("crash-refused");
    char *base = write_csv(root, "base.csv", 20, 0);
    char *big = write_csv(root, "big.csv", MONTHS, 0.5);
    char *data = ts_path(root, "data");
    run_import(data, base);
    char *db = ts_path(data, "kpi.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"CREATE TRIGGER refuse BEFORE INSERT ON commits BEGIN SELECT "
             "RAISE(ABORT, 'refused by a test'); END;\"",
             db);
    ck_assert_int_eq(system(cmd), 0);
    char *before = ts_tree_digest(data);
    char *extra = ts_path(root, "extra.csv");
    ts_write_file(extra, "date,team,kpi,value\n2022-01,newteam,kpi00,1\n2022-02,newteam,kpi00,2\n",
                  (size_t)-1);
    struct ts_run r;
    const char *argv[] = {"--data", data, "import", "--quiet", big, NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(strstr(r.err, "refused by a test") != NULL, "%s", r.err);
    ts_run_free(&r);
    const char *argv2[] = {"--data", data, "import", "--quiet", extra, NULL};
    ts_kpi(&r, NULL, argv2);
    ck_assert_int_ne(r.status, 0);
    ts_run_free(&r);
    char *after = ts_tree_digest(data);
    ck_assert_str_eq(before, after);
    char *newfile = ts_path(data, "series/newteam/kpi00.rrd");
    ck_assert_int_ne(access(newfile, F_OK), 0);
    free(newfile);
    free(before);
    free(after);
    free(extra);
    free(db);
    free(data);
    free(base);
    free(big);
    ts_rm_rf(root);
    free(root);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cli_crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_kill_while_reading_keeps_previous_state);
    tcase_add_test(tc, test_kill_while_writing_the_commit_is_all_or_nothing);
    tcase_add_test(tc, test_kill_while_writing_rrd_files_is_repaired);
    tcase_add_test(tc, test_kill_during_backup_leaves_no_destination);
    tcase_add_test(tc, test_power_loss_during_the_rrd_step_is_repaired);
    tcase_add_test(tc, test_power_loss_after_a_commit_is_repaired_by_the_next_writer);
    tcase_add_test(tc, test_a_failed_commit_names_no_rrd_file);
    suite_add_tcase(suite, tc);
    return ts_run_suite(suite);
}
