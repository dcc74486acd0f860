/* Crash safety, end to end, scenario by scenario from tables: kill -9 a
 * large `kpi import` at different moments (IMPORT_MOMENTS: while reading,
 * while SQLite writes the commit, while writing RRD files), then every
 * series is either as before or as after the import, and running the same
 * import again completes with the RRD files equal to a clean import's.
 * kill -9 of `kpi backup` at different moments (BACKUP_MOMENTS) leaves the
 * source as it was and no destination. A power cut after a commit or during
 * its RRD step (POWER_CUTS) is repaired by the next writer. A commit that
 * fails names no RRD file. */
#include "support/support.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <rrd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
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

/* The modification time of path in nanoseconds, 0 when it does not exist. */
static long long mtime_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec
                                : 0;
}

/* One scenario's scratch directory: the base and big files, `data` holding
 * the base import, and `clean` holding base then big (the state every
 * repair must reach; made only when asked). The big file corrects the base
 * months by `shift` (0: it only appends). */
struct scene {
    char *root, *base, *big, *clean, *data;
};

static void scene_open(struct scene *s, const char *tag, bool with_clean, double shift)
{
    s->root = ts_tempdir(tag);
    s->base = write_csv(s->root, "base.csv", 20, 0);
    s->big = write_csv(s->root, "big.csv", MONTHS, shift);
    s->clean = ts_path(s->root, "clean");
    s->data = ts_path(s->root, "data");
    if (with_clean) {
        run_import(s->clean, s->base);
        run_import(s->clean, s->big);
    }
    run_import(s->data, s->base);
}

static void scene_close(struct scene *s)
{
    ts_rm_rf(s->root);
    free(s->root);
    free(s->base);
    free(s->big);
    free(s->clean);
    free(s->data);
}

/* A moment to kill a kpi process at: once the file rel (NULL: at once)
 * changes identity (appears, or is replaced by a rename), or, with
 * min_size > 0, holds at least min_size bytes, or, with written, is written
 * in place (its modification time changes). appends: the import only
 * appends (the scene's shift 0). */
struct moment {
    const char *what;
    const char *rel;
    off_t min_size;
    bool written, appends;
};

/* Run kpi args (NULL-terminated, at most 8) and kill it with SIGKILL at
 * moment m of the file rel under dir, or under dir.partial-PID (the
 * temporary directory of `kpi backup dir`, named by the child's pid) with
 * partial; or once it has finished. Polls the file system: the test waits
 * for a condition, it does not depend on timing to be correct. */
static void kpi_killed_at(const char *const *args, const char *dir, bool partial,
                          const struct moment *m)
{
    char trigger[4096] = "";
    if (m->rel != NULL && !partial)
        snprintf(trigger, sizeof trigger, "%s/%s", dir, m->rel);
    ino_t initial = trigger[0] != '\0' && m->min_size == 0 ? inode_of(trigger) : 0;
    long long modified = trigger[0] != '\0' && m->written ? mtime_of(trigger) : 0;
    const char *argv[10] = {KPI_BINARY};
    for (size_t i = 0; args[i] != NULL && i < 8; i++)
        argv[i + 1] = args[i];
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execv(KPI_BINARY, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    if (m->rel != NULL && partial)
        snprintf(trigger, sizeof trigger, "%s.partial-%ld/%s", dir, (long)pid, m->rel);
    const struct timespec tick = {0, 200000};
    int status;
    /* a size is watched without pausing: SQLite writes a commit's log in a
     * few milliseconds */
    while (trigger[0] != '\0' &&
           (m->min_size > 0 ? size_of(trigger) < m->min_size
            : m->written    ? mtime_of(trigger) == modified
                            : inode_of(trigger) == initial) &&
           waitpid(pid, &status, WNOHANG) == 0)
        if (m->min_size == 0 && !m->written)
            nanosleep(&tick, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

/* kill -9 of the big import (it corrects the first 20 months of every
 * series and adds 20, or only adds them) at each of these moments. */
static const struct moment IMPORT_MOMENTS[] = {
    {"at once, while it reads", NULL, 0, false, false},
    /* the commit's 96,000 versions and points fill several MB of SQLite's
     * write-ahead log: once 256 KiB are written, in the middle of it */
    {"while SQLite writes the commit", "kpi.db-wal", 256 * 1024, false, false},
    /* every RRD file is rebuilt (old periods change) and renamed into
     * place, in team order: once team060's files (half way) are replaced */
    {"while it writes the RRD files", "series/team060/kpi05.rrd", 0, false, false},
    /* an import that only appends: its files are opened, locked, read and
     * their new bytes computed beside the commit, written after it */
    {"while SQLite writes the commit of appends", "kpi.db-wal", 256 * 1024, false, true},
    /* once team060's kpi05 (half way) is written in place: the commit is
     * made (the appends start once it is durable, while SQLite may still
     * checkpoint), some files are appended to, others not */
    {"while it appends to the RRD files", "series/team060/kpi05.rrd", 0, true, true},
};
#define IMPORT_MOMENT_COUNT (sizeof IMPORT_MOMENTS / sizeof IMPORT_MOMENTS[0])

/* After the kill every series is either as before or as after the import
 * (before: every RRD file as it was; after, when an RRD file was written:
 * no file is written before the commit), and running the same import
 * again completes with the RRD files equal to a clean import's. */
START_TEST(test_kill_during_import_is_before_or_after_then_repaired)
{
    const struct moment *m = &IMPORT_MOMENTS[_i];
    struct scene s;
    scene_open(&s, "crash-import", true, m->appends ? 0 : 0.5);
    char *after = run_export(s.clean);
    char *before = run_export(s.data);
    char *series = ts_path(s.data, "series");
    char *files_before = ts_tree_digest(series);
    kpi_killed_at((const char *[]){"--data", s.data, "import", "--quiet", s.big, NULL}, s.data,
                  false, m);
    char *seen = run_export(s.data);
    ck_assert_msg(strcmp(seen, before) == 0 || strcmp(seen, after) == 0,
                  "killed %s: the data is neither before nor after the import", m->what);
    char *files_seen = ts_tree_digest(series);
    if (strcmp(seen, before) == 0)
        ck_assert_msg(strcmp(files_seen, files_before) == 0,
                      "killed %s: an RRD file changed, the commit was not made", m->what);
    if (m->written)
        ck_assert_msg(strcmp(seen, after) == 0 && strcmp(files_seen, files_before) != 0,
                      "killed %s: no RRD file written, or written before the commit", m->what);
    free(files_seen);
    free(files_before);
    free(series);
    run_import(s.data, s.big);
    char *final = run_export(s.data);
    ck_assert_str_eq(final, after);
    assert_rrds_equal(s.clean, s.data);
    free(seen);
    free(final);
    free(before);
    free(after);
    scene_close(&s);
}
END_TEST

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

/* A load into an empty directory big enough that its commit writes more
 * than a quarter of the WAL's bound (16 MiB of 64; 400 teams x 10
 * indicators x 100 months = 400,000 rows: ~23 MB of WAL, 300 teams wrote
 * 17.5 MB): it copies
 * its own WAL into kpi.db after its COMMIT, beside its RRD step
 * (docs/ARCHITECTURE.md, "Checkpoints"). Killed -9 once that copy has
 * written 1 MiB of kpi.db (nothing else writes kpi.db in WAL mode; in
 * three runs the kill found 1.1, 3.5 and 4.7 MB of ~23 copied): the
 * data is the load's (the commit was durable), and the next writer repairs
 * the RRD files; kpi check is clean and the export the same. */
START_TEST(test_kill_while_a_load_copies_its_wal_is_after_then_repaired)
{
    char *root = ts_tempdir("crash-load-ckpt");
    char *csv = ts_path(root, "load.csv");
    FILE *f = fopen(csv, "w");
    ck_assert_ptr_nonnull(f);
    fputs("date,team,kpi,value\n", f);
    for (int t = 0; t < 400; t++)
        for (int k = 0; k < KPIS; k++)
            for (int m = 0; m < 100; m++)
                fprintf(f, "%04d-%02d,team%03d,kpi%02d,%d\n", 2015 + m / 12, m % 12 + 1, t, k,
                        t * 7 + k * 13 + m);
    ck_assert_int_eq(fclose(f), 0);
    char *clean = ts_path(root, "clean");
    char *data = ts_path(root, "data");
    run_import(clean, csv);
    char *after = run_export(clean);
    const struct moment m = {"while the load copies its WAL into kpi.db", "kpi.db", 1 << 20, false,
                             false};
    kpi_killed_at((const char *[]){"--data", data, "import", "--quiet", csv, NULL}, data, false,
                  &m);
    char *seen = run_export(data);
    ck_assert_msg(strcmp(seen, after) == 0, "killed %s: the data is not the load's", m.what);
    run_import(data, csv); /* changes nothing: no commit, but repairs */
    char *final = run_export(data);
    ck_assert_str_eq(final, after);
    ck_assert_int_eq(kpi_status(data, "check", NULL), 0);
    assert_rrds_equal(clean, data);
    free(final);
    free(seen);
    free(after);
    ts_rm_rf(root);
    free(root);
    free(csv);
    free(clean);
    free(data);
}
END_TEST

/* kill -9 of `kpi backup DEST` at each of these moments, in its temporary
 * directory DEST.partial-PID. */
static const struct moment BACKUP_MOMENTS[] = {
    {"at once", NULL, 0, false, false},
    {"while the copy's database is written", "kpi.db", 64 * 1024, false, false},
    {"half way through the copy's RRD files (built in team order)", "series/team060", 0, false,
     false},
};
#define BACKUP_MOMENT_COUNT (sizeof BACKUP_MOMENTS / sizeof BACKUP_MOMENTS[0])

/* A backup killed at any moment leaves the source as it was and no DEST
 * (only a DEST.partial-PID directory, named for what it is); the next
 * backup is whole: kpi check passes on it and it exports the same data. */
START_TEST(test_kill_during_backup_leaves_no_destination)
{
    struct scene s;
    scene_open(&s, "crash-backup", false, 0.5);
    char *dest = ts_path(s.root, "copy");
    char *before = ts_tree_digest(s.data);
    char *exported = run_export(s.data);
    for (size_t i = 0; i < BACKUP_MOMENT_COUNT; i++) {
        const struct moment *m = &BACKUP_MOMENTS[i];
        kpi_killed_at((const char *[]){"--data", s.data, "backup", dest, NULL}, dest, true, m);
        char *now = ts_tree_digest(s.data);
        ck_assert_msg(strcmp(now, before) == 0, "killed %s: the source changed", m->what);
        free(now);
        ck_assert_msg(inode_of(dest) == 0, "killed %s: %s exists after kill -9", m->what, dest);
    }
    ck_assert_int_eq(kpi_status(s.data, "backup", dest), 0);
    ck_assert_int_eq(kpi_status(dest, "check", NULL), 0);
    char *copied = run_export(dest);
    ck_assert_str_eq(copied, exported);
    free(copied);
    free(exported);
    free(before);
    free(dest);
    scene_close(&s);
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

/* The RRD files a power cut damages, and how. */
static const char *const CUT_FILES[] = {
    "series/team000/kpi00.rrd",
    "series/team007/kpi03.rrd",
    "series/team014/kpi06.rrd",
    "series/team021/kpi09.rrd",
};
#define CUT_FILE_COUNT (sizeof CUT_FILES / sizeof CUT_FILES[0])

enum damage {
    INTACT,
    OLD_CONTENT, /* back to its content before the big import's commit */
    EMPTY,       /* truncated to nothing */
    HALF,        /* truncated to half */
    GONE,        /* missing */
};

enum repairer { NEXT_IMPORT, CHECK_REPAIR };

/* What a power cut left after the big import's commit, which the next
 * writer repairs. The database holds the commit (synced at COMMIT) and
 * DIR/rrd-written names the boot before; RRD files that were not synced
 * yet are back to an older content, truncated or missing. */
struct power_cut {
    const char *what;
    /* every series marked pending again, as during the commit's RRD step
     * (before the next commit cleared the marks); else the marks left are
     * those of the commit itself, which must be the last one made */
    bool mark_all_pending;
    enum damage file[CUT_FILE_COUNT]; /* what happened to CUT_FILES[i] */
    enum repairer by;
};

/* In this order, on one directory: the first right after the commit. */
static const struct power_cut POWER_CUTS[] = {
    /* a whole commit, its files not written back yet: nothing synced them
     * (a commit syncs the database only) */
    {"after a commit, repaired by an import",
     false,
     {OLD_CONTENT, EMPTY, GONE, INTACT},
     NEXT_IMPORT},
    {"during the RRD step, repaired by kpi check --repair",
     true,
     {OLD_CONTENT, OLD_CONTENT, HALF, GONE},
     CHECK_REPAIR},
    {"during the RRD step, repaired by an import",
     true,
     {OLD_CONTENT, EMPTY, INTACT, INTACT},
     NEXT_IMPORT},
};
#define POWER_CUT_COUNT (sizeof POWER_CUTS / sizeof POWER_CUTS[0])

/* SELECT count(*) FROM rrd_pending in data's database, as sqlite3 prints
 * it ("1200\n"). Caller frees. */
static char *pending_count(const struct scene *s)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s/kpi.db' 'SELECT count(*) FROM rrd_pending' > '%s/n.txt'",
             s->data, s->root);
    ck_assert_int_eq(system(cmd), 0);
    char *path = ts_path(s->root, "n.txt");
    char *n = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(n);
    free(path);
    return n;
}

/* kpi graph team000 kpi00 of data is byte for byte clean's: a reader that
 * does not trust the series' file draws from the database. */
static void assert_graph_as_clean(const struct scene *s)
{
    char *png = ts_path(s->root, "g.png"), *want = ts_path(s->root, "want.png");
    struct ts_run r;
    ts_kpi(&r, NULL,
           (const char *[]){"--data", s->data, "graph", "team000", "kpi00", "-o", png, NULL});
    ck_assert_msg(r.status == 0, "graph: %s", r.err);
    ts_run_free(&r);
    ts_kpi(&r, NULL,
           (const char *[]){"--data", s->clean, "graph", "team000", "kpi00", "-o", want, NULL});
    ck_assert_msg(r.status == 0, "graph: %s", r.err);
    ts_run_free(&r);
    size_t glen = 0, wlen = 0;
    char *got = ts_read_file(png, &glen), *exp = ts_read_file(want, &wlen);
    ck_assert(glen == wlen && memcmp(got, exp, glen) == 0);
    free(got);
    free(exp);
    free(png);
    free(want);
}

/* Each power cut of POWER_CUTS in turn: a reader does not trust the
 * damaged files (kpi graph), and the next writer (an import that changes
 * nothing, or kpi check --repair) makes every file equal to the data and
 * clears the marks. In this boot, the commit's marks are no reason to
 * rebuild anything. */
START_TEST(test_power_loss_is_repaired_by_the_next_writer)
{
    struct scene s;
    scene_open(&s, "crash-power", true, 0.5);
    char *path[CUT_FILE_COUNT], *old[CUT_FILE_COUNT];
    for (size_t i = 0; i < CUT_FILE_COUNT; i++) { /* the files before the commit */
        char name[32];
        snprintf(name, sizeof name, "old%zu.rrd", i);
        path[i] = ts_path(s.data, CUT_FILES[i]);
        old[i] = ts_path(s.root, name);
        copy_file(path[i], old[i]);
    }
    run_import(s.data, s.big);
    /* the commit's marks are durable with it; the files are whole in this
     * boot: an import that changes nothing leaves every file as it is */
    char *n = pending_count(&s);
    ck_assert_str_eq(n, "1200\n"); /* 120 teams x 10 indicators */
    free(n);
    ino_t i1 = inode_of(path[1]);
    run_import(s.data, s.big);
    ck_assert_uint_eq(inode_of(path[1]), i1);
    char mark[8192];
    snprintf(mark, sizeof mark,
             "sqlite3 '%s/kpi.db' 'INSERT OR IGNORE INTO rrd_pending SELECT id FROM series'",
             s.data);
    for (size_t c = 0; c < POWER_CUT_COUNT; c++) {
        const struct power_cut *cut = &POWER_CUTS[c];
        if (cut->mark_all_pending)
            ck_assert_int_eq(system(mark), 0);
        written_in_another_boot(s.data);
        for (size_t i = 0; i < CUT_FILE_COUNT; i++) {
            switch (cut->file[i]) {
            case INTACT:
                break;
            case OLD_CONTENT:
                copy_file(old[i], path[i]);
                break;
            case EMPTY:
                ck_assert_int_eq(truncate(path[i], 0), 0);
                break;
            case HALF:
                ck_assert_int_eq(truncate(path[i], size_of(path[i]) / 2), 0);
                break;
            case GONE:
                ck_assert_int_eq(unlink(path[i]), 0);
                break;
            }
        }
        assert_graph_as_clean(&s);
        if (cut->by == CHECK_REPAIR) {
            struct ts_run r;
            ts_kpi(&r, NULL, (const char *[]){"--data", s.data, "check", "--repair", NULL});
            ck_assert_msg(r.status == 0, "cut %zu (%s), check --repair: %s%s", c, cut->what, r.out,
                          r.err);
            ts_run_free(&r);
        } else {
            run_import(s.data, s.big); /* changes nothing: no commit, but repairs */
        }
        assert_rrds_equal(s.clean, s.data);
        ck_assert_msg(kpi_status(s.data, "check", NULL) == 0, "cut %zu (%s): kpi check", c,
                      cut->what);
        n = pending_count(&s);
        ck_assert_msg(strcmp(n, "0\n") == 0, "cut %zu (%s): %s pending after the repair", c,
                      cut->what, n);
        free(n);
    }
    for (size_t i = 0; i < CUT_FILE_COUNT; i++) {
        free(path[i]);
        free(old[i]);
    }
    scene_close(&s);
}
END_TEST

/* A commit that fails in the database (here a trigger refuses its row)
 * after its RRD files were written beside it: none of them is named, the
 * old files are as they were, the data directory holds nothing new. */
START_TEST(test_a_failed_commit_names_no_rrd_file)
{
    struct scene s;
    scene_open(&s, "crash-refused", false, 0.5);
    char *db = ts_path(s.data, "kpi.db");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"CREATE TRIGGER refuse BEFORE INSERT ON commits BEGIN SELECT "
             "RAISE(ABORT, 'refused by a test'); END;\"",
             db);
    ck_assert_int_eq(system(cmd), 0);
    char *before = ts_tree_digest(s.data);
    char *extra = ts_path(s.root, "extra.csv");
    ts_write_file(extra, "date,team,kpi,value\n2022-01,newteam,kpi00,1\n2022-02,newteam,kpi00,2\n",
                  (size_t)-1);
    struct ts_run r;
    ts_kpi(&r, NULL, (const char *[]){"--data", s.data, "import", "--quiet", s.big, NULL});
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(strstr(r.err, "refused by a test") != NULL, "%s", r.err);
    ts_run_free(&r);
    ts_kpi(&r, NULL, (const char *[]){"--data", s.data, "import", "--quiet", extra, NULL});
    ck_assert_int_ne(r.status, 0);
    ts_run_free(&r);
    char *after = ts_tree_digest(s.data);
    ck_assert_str_eq(before, after);
    char *newfile = ts_path(s.data, "series/newteam/kpi00.rrd");
    ck_assert_int_ne(access(newfile, F_OK), 0);
    free(newfile);
    free(before);
    free(after);
    free(extra);
    free(db);
    scene_close(&s);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cli_crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_kill_during_import_is_before_or_after_then_repaired, 0,
                        (int)IMPORT_MOMENT_COUNT);
    tcase_add_test(tc, test_kill_while_a_load_copies_its_wal_is_after_then_repaired);
    tcase_add_test(tc, test_kill_during_backup_leaves_no_destination);
    tcase_add_test(tc, test_power_loss_is_repaired_by_the_next_writer);
    tcase_add_test(tc, test_a_failed_commit_names_no_rrd_file);
    suite_add_tcase(suite, tc);
    return ts_run_suite(suite);
}
