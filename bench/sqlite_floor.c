/*
 * What SQLite alone costs the import figures (docs/PERFORMANCE.md, History):
 * the rows a commit of the import benchmark writes, with kpi's schema and
 * connection settings (store/db.c: WAL, synchronous=FULL, 64 MB cache) and
 * nothing else — no CSV, no staging, no hash chain, no RRD file.
 *
 *   sqlite_floor DIR SERIES PERIODS MODE
 *
 * DIR must not exist. Commit 1 writes SERIES series of PERIODS monthly
 * points each (the load: 20,000 x 50 = 1 M), commit 2 one more period for
 * every series (the month). Per series: its `series` row, then per point one
 * `versions` row (and its versions_by_commit entry) and one `points` row,
 * in key order, as store/commit.c writes them; MODE `rows` steps one
 * statement per row (what commit.c did before), `batch` 100 rows per
 * multi-row INSERT (what it does now). Prints, per commit, the wall and CPU
 * seconds (user, system) of the inserts, of COMMIT (the WAL written and
 * synced) and of closing the connection (the checkpoint into kpi.db).
 */
#include "store/store_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

enum { BATCH = 100 };

struct clock3 {
    double wall, user, sys;
};

static struct clock3 now3(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (struct clock3){(double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
                           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
                           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6};
}

static void report(const char *what, struct clock3 a, struct clock3 b)
{
    printf("%-22s wall %6.3f s  user %6.3f s  sys %6.3f s\n", what, b.wall - a.wall,
           b.user - a.user, b.sys - a.sys);
}

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_floor: %s: %s\n", what, db != NULL ? sqlite3_errmsg(db) : "");
    exit(3);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die(db, sql);
    return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die(db, "step");
    sqlite3_reset(st);
}

/* The multi-row INSERT of n rows of 4 parameters (?1 the commit id for
 * versions, as commit.c writes it). */
static sqlite3_stmt *prepare_many(sqlite3 *db, bool versions, int n)
{
    char *sql = malloc((size_t)n * 40 + 200);
    if (sql == NULL)
        die(NULL, "out of memory");
    size_t len = (size_t)sprintf(
        sql, "%s",
        versions ? "INSERT INTO versions(series, period, field, commit_id, value) VALUES "
                 : "INSERT OR REPLACE INTO points(series, period, value, target) VALUES ");
    for (int r = 0; r < n; r++) {
        int p = 4 * r + (versions ? 2 : 1);
        len += (size_t)(versions ? sprintf(sql + len, "%s(?%d,?%d,?%d,?1,?%d)", r ? "," : "", p,
                                           p + 1, p + 2, p + 3)
                                 : sprintf(sql + len, "%s(?%d,?%d,?%d,?%d)", r ? "," : "", p, p + 1,
                                           p + 2, p + 3));
    }
    sqlite3_stmt *st = prepare(db, sql);
    free(sql);
    return st;
}

static double value_of(long s, long p)
{
    return 1000.0 + (double)(s % 97) * 4.25 + (double)p * 0.75;
}

/* One commit: periods [p0, p1) of every series (new series when p0 == 0). */
static void run_commit(const char *dir, long series, long p0, long p1, bool batch, int id)
{
    struct kpi_error err = {0};
    sqlite3 *db = NULL;
    struct clock3 t0 = now3();
    if (db_open(dir, id == 1 ? DB_CREATE : DB_WRITE, &db, &err) != 0) {
        fprintf(stderr, "sqlite_floor: %s\n", err.message);
        exit(3);
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        db_create_schema(db, &err) != 0)
        die(db, "begin");
    sqlite3_stmt *add = prepare(db, "INSERT INTO series(id, team, kpi) VALUES (?1, ?2, ?3)");
    sqlite3_stmt *v1 = prepare(db, "INSERT INTO versions(series, period, field, commit_id, value) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5)");
    sqlite3_stmt *p1s = prepare(db, "INSERT OR REPLACE INTO points(series, period, value, target) "
                                    "VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt *vm = prepare_many(db, true, BATCH), *pm = prepare_many(db, false, BATCH);
    sqlite3_bind_int64(vm, 1, id);
    int nb = 0;
    for (long s = 1; s <= series; s++) {
        if (p0 == 0) {
            char team[32], kpi[32];
            snprintf(team, sizeof team, "t%04ld", (s - 1) / 20 + 1);
            snprintf(kpi, sizeof kpi, "k%02ld", (s - 1) % 20 + 1);
            sqlite3_bind_int64(add, 1, s);
            sqlite3_bind_text(add, 2, team, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(add, 3, kpi, -1, SQLITE_TRANSIENT);
            step(db, add);
        }
        for (long p = p0; p < p1; p++) {
            double v = value_of(s, p);
            if (!batch) {
                sqlite3_bind_int64(v1, 1, s);
                sqlite3_bind_int64(v1, 2, 24272 + p);
                sqlite3_bind_int(v1, 3, 0);
                sqlite3_bind_int64(v1, 4, id);
                sqlite3_bind_double(v1, 5, v);
                step(db, v1);
                sqlite3_bind_int64(p1s, 1, s);
                sqlite3_bind_int64(p1s, 2, 24272 + p);
                sqlite3_bind_double(p1s, 3, v);
                sqlite3_bind_null(p1s, 4);
                step(db, p1s);
                continue;
            }
            /* the two batches fill at the same pace: one row each per point */
            sqlite3_bind_int64(vm, 4 * nb + 2, s);
            sqlite3_bind_int64(vm, 4 * nb + 3, 24272 + p);
            sqlite3_bind_int(vm, 4 * nb + 4, 0);
            sqlite3_bind_double(vm, 4 * nb + 5, v);
            sqlite3_bind_int64(pm, 4 * nb + 1, s);
            sqlite3_bind_int64(pm, 4 * nb + 2, 24272 + p);
            sqlite3_bind_double(pm, 4 * nb + 3, v);
            sqlite3_bind_null(pm, 4 * nb + 4);
            if (++nb == BATCH) {
                step(db, vm);
                step(db, pm);
                nb = 0;
            }
        }
    }
    if (nb > 0) { /* the rest: whole batches only in this benchmark */
        fprintf(stderr, "sqlite_floor: SERIES x periods must be a multiple of %d\n", BATCH);
        exit(2);
    }
    sqlite3_finalize(add);
    sqlite3_finalize(v1);
    sqlite3_finalize(p1s);
    sqlite3_finalize(vm);
    sqlite3_finalize(pm);
    struct clock3 t1 = now3();
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die(db, "commit");
    struct clock3 t2 = now3();
    sqlite3_close(db);
    struct clock3 t3 = now3();
    printf("commit %d (%ld rows, %s):\n", id, series * (p1 - p0), batch ? "batch" : "rows");
    report("  open + inserts", t0, t1);
    report("  COMMIT", t1, t2);
    report("  close (checkpoint)", t2, t3);
    report("  all", t0, t3);
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[4], "rows") != 0 && strcmp(argv[4], "batch") != 0)) {
        fprintf(stderr, "usage: sqlite_floor DIR SERIES PERIODS rows|batch\n");
        return 2;
    }
    const char *dir = argv[1];
    long series = atol(argv[2]), periods = atol(argv[3]);
    bool batch = strcmp(argv[4], "batch") == 0;
    if (series < 1 || periods < 1)
        return 2;
    if (mkdir(dir, 0777) != 0) {
        perror(dir);
        return 3;
    }
    run_commit(dir, series, 0, periods, batch, 1);
    run_commit(dir, series, periods, periods + 1, batch, 2);
    return 0;
}
