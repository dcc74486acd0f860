/*
 * db.c — the SQLite database of a data directory, DIR/kpi.db: opening it,
 * its schema, and loading a view (the latest commit, or the data as it stood
 * right after an earlier one). The schema and why it is so are in
 * docs/ARCHITECTURE.md ("The database"); commit.c writes commits.
 *
 * Connections: every writer and every view load opens its own connection
 * (SQLITE_OPEN_READWRITE, never CREATE except for the first commit) and
 * reads inside one transaction, so it sees one whole commit (WAL snapshot).
 * Checkpoints (docs/ARCHITECTURE.md, "Checkpoints"): no connection copies
 * the WAL into kpi.db when it closes; a commit that takes the WAL past its
 * bound, or writes a quarter of it itself, does (PASSIVE), and `kpi serve`
 * does after taking up a commit (store_checkpoint). A commit is durable
 * once the WAL is synced; the checkpoint is maintenance.
 */
#include "store/store_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The notes of SPEC §11, added by format 2: one row per set (text) or
 * removal (NULL) of a note, in the commit that made it. */
#define NOTES_SQL                                                                                  \
    "notes("                                                                                       \
    " series INTEGER NOT NULL,"                                                                    \
    " period INTEGER NOT NULL,"                                                                    \
    " commit_id INTEGER NOT NULL,"                                                                 \
    " text TEXT,"                                                                                  \
    " PRIMARY KEY(series, period, commit_id)) WITHOUT ROWID;"

/* The versions and the current points of format 3: keyed by time bucket
 * first (db_bucket: period >> 4), so that a day's new rows share leaves
 * whatever the directory's age (docs/ARCHITECTURE.md, "The database").
 * Format 2 had the same tables without the bucket. */
#define VERSIONS_SQL                                                                               \
    "("                                                                                            \
    " bucket INTEGER NOT NULL,"                                                                    \
    " series INTEGER NOT NULL,"                                                                    \
    " period INTEGER NOT NULL,"                                                                    \
    " field INTEGER NOT NULL,"                                                                     \
    " commit_id INTEGER NOT NULL,"                                                                 \
    " value REAL,"                                                                                 \
    " PRIMARY KEY(bucket, series, period, field, commit_id)) WITHOUT ROWID;"
#define POINTS_SQL                                                                                 \
    "("                                                                                            \
    " bucket INTEGER NOT NULL,"                                                                    \
    " series INTEGER NOT NULL,"                                                                    \
    " period INTEGER NOT NULL,"                                                                    \
    " value REAL,"                                                                                 \
    " target REAL,"                                                                                \
    " PRIMARY KEY(bucket, series, period)) WITHOUT ROWID;"

/* The schema of format 3 (PRAGMA user_version = 3; format 2 keyed versions
 * and points by series first, format 1 had no notes either). */
static const char schema_sql[] =
    "CREATE TABLE commits("
    " id INTEGER PRIMARY KEY,"
    " time TEXT NOT NULL,"
    " author TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('import','note','revert','catalog')),"
    " source TEXT NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " rows INTEGER NOT NULL,"
    " new INTEGER NOT NULL,"
    " corrected INTEGER NOT NULL,"
    " series INTEGER NOT NULL,"
    " teams TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE TABLE teams("
    " id TEXT NOT NULL,"
    " commit_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " parent TEXT,"
    " PRIMARY KEY(id, commit_id)) WITHOUT ROWID;"
    "CREATE TABLE indicators("
    " id TEXT NOT NULL,"
    " commit_id INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " family TEXT,"
    " unit TEXT NOT NULL,"
    " direction TEXT NOT NULL,"
    " period TEXT NOT NULL,"
    " aggregate TEXT NOT NULL,"
    " amber REAL NOT NULL,"
    " red REAL NOT NULL,"
    " weight REAL NOT NULL,"
    " PRIMARY KEY(id, commit_id)) WITHOUT ROWID;"
    "CREATE TABLE series("
    " id INTEGER PRIMARY KEY,"
    " team TEXT NOT NULL,"
    " kpi TEXT NOT NULL,"
    " UNIQUE(team, kpi));"
    "CREATE TABLE versions" VERSIONS_SQL "CREATE INDEX versions_by_commit ON versions(commit_id);"
    "CREATE TABLE points" POINTS_SQL "CREATE TABLE rrd_pending(series INTEGER PRIMARY KEY);"
    "CREATE TABLE " NOTES_SQL "CREATE INDEX notes_by_commit ON notes(commit_id);"
    "PRAGMA user_version=3;";

/* How long a connection waits for a lock SQLite holds. */
#define DB_BUSY_MS 60000

/* Format 1 to 2, in the first writer's transaction: the notes table (the
 * empty temporary one db_check_format gave the connection goes first). */
static const char upgrade_sql[] =
    "DROP TABLE IF EXISTS temp.notes;"
    "CREATE TABLE " NOTES_SQL "CREATE INDEX notes_by_commit ON notes(commit_id);"
    "PRAGMA user_version=2;";

/* Format 2 to 3, in the first writer's transaction (one transaction: a
 * crash leaves format 2 whole): each table copied in its new key order
 * with its bucket, the old one dropped before the next copy (its pages
 * are free for it). Costs a pass and a sort of every version and point:
 * once per directory (docs/PERFORMANCE.md). */
static const char convert_sql[] =
    "CREATE TABLE versions_f3" VERSIONS_SQL
    "INSERT INTO versions_f3(bucket, series, period, field, commit_id, value) SELECT period >> 4, "
    "series, period, field, commit_id, value FROM versions ORDER BY 1, 2, 3, 4, 5;"
    "DROP TABLE versions;"
    "ALTER TABLE versions_f3 RENAME TO versions;"
    "CREATE INDEX versions_by_commit ON versions(commit_id);"
    "CREATE TABLE points_f3" POINTS_SQL
    "INSERT INTO points_f3(bucket, series, period, value, target) SELECT period >> 4, series, "
    "period, value, target FROM points ORDER BY 1, 2, 3;"
    "DROP TABLE points;"
    "ALTER TABLE points_f3 RENAME TO points;"
    "PRAGMA user_version=3;";

char *db_path(const char *dir)
{
    return store_path_join(dir, STORE_DB_NAME);
}

bool db_exists(const char *dir)
{
    char *path = db_path(dir);
    struct stat sb;
    bool exists = path != NULL && stat(path, &sb) == 0;
    free(path);
    return exists;
}

int db_fail(struct kpi_error *err, sqlite3 *db, const char *what)
{
    const char *msg = db != NULL ? sqlite3_errmsg(db) : "out of memory";
    const char *file = db != NULL ? sqlite3_db_filename(db, "main") : NULL;
    int code = db != NULL ? sqlite3_errcode(db) : SQLITE_NOMEM;
    return kpi_fail(err, KPI_ESYSTEM, "%s: %s: %s (%s)", file != NULL && *file ? file : "kpi.db",
                    what, msg,
                    code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? "corrupt" : "sqlite");
}

int db_exec(sqlite3 *db, const char *sql, struct kpi_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(err, db, sql);
    return 0;
}

int db_open(const char *dir, enum db_mode mode, sqlite3 **out, struct kpi_error *err)
{
    *out = NULL;
    char *path = db_path(dir);
    if (path == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (mode == DB_CREATE)
        flags |= SQLITE_OPEN_CREATE;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        int saved = errno;
        kpi_fail(err, KPI_ESYSTEM, "%s: %s", path,
                 db != NULL ? sqlite3_errmsg(db) : strerror(saved));
        sqlite3_close(db);
        free(path);
        return KPI_ESYSTEM;
    }
    free(path);
    sqlite3_busy_timeout(db, DB_BUSY_MS);
    /* WAL with synchronous=FULL: a commit syncs the WAL once, and is then
     * durable (NORMAL could lose the last commits on power loss) */
    /* journal_mode is a property of the file, set once, outside any
     * transaction: by the opening that may create it */
    const char *setup = mode == DB_READ    ? "PRAGMA synchronous=FULL;PRAGMA query_only=1;"
                        : mode == DB_WRITE ? "PRAGMA synchronous=FULL;PRAGMA cache_size=-65536;"
                                             "PRAGMA foreign_keys=0;"
                                           : "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"
                                             "PRAGMA cache_size=-65536;PRAGMA foreign_keys=0;";
    if (db_exec(db, setup, err) != 0) {
        sqlite3_close(db);
        return KPI_ESYSTEM;
    }
    /* a connection closing last would copy the whole WAL into kpi.db and
     * sync it: every CLI commit would pay the checkpoint of its pages */
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (mode != DB_READ)
        db_wal_bound(db, 0);
    *out = db;
    return 0;
}

/* After a commit (SQLite's WAL hook, as its automatic checkpoint): past the
 * bound (frames), checkpoint; and when the commit itself wrote a quarter of
 * the bound (a load, a big restatement: pages that the next commits do not
 * write again, and that every later process would read from the WAL to
 * rebuild its index). own: the pages the connection wrote since its last
 * commit (SQLITE_DBSTATUS_CACHE_WRITE counts every frame, spills too; reset
 * here, and after the checkpoint). */
static int wal_hook(void *bound, sqlite3 *db, const char *name, int frames)
{
    (void)name;
    int own = 0, high = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &own, &high, 1);
    if ((frames >= 0 && (uintptr_t)frames >= (uintptr_t)bound) ||
        (own > 0 && (uintptr_t)own * 4 >= (uintptr_t)bound)) {
        db_checkpoint(db, NULL, NULL); /* maintenance: the commit is durable */
        sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &own, &high, 1);
    }
    return SQLITE_OK;
}

struct commit_hook {
    void (*committed)(void *arg);
    void *arg;
    void *bound; /* the connection's WAL hook argument: its bound in frames */
};

static int commit_hook(void *hook, sqlite3 *db, const char *name, int frames)
{
    const struct commit_hook *h = hook;
    if (h->committed != NULL)
        h->committed(h->arg);
    return h->bound != NULL ? wal_hook(h->bound, db, name, frames) : SQLITE_OK;
}

int db_commit(sqlite3 *db, void (*committed)(void *arg), void *arg, struct kpi_error *err)
{
    struct commit_hook h = {.committed = committed, .arg = arg, .bound = NULL};
    /* SQLite chains no hooks: the bound's, taken back after COMMIT (its
     * argument is the bound, as for SQLite's own automatic checkpoint) */
    h.bound = sqlite3_wal_hook(db, commit_hook, &h);
    int rc = db_exec(db, "COMMIT", err);
    sqlite3_wal_hook(db, h.bound != NULL ? wal_hook : NULL, h.bound);
    return rc;
}

void db_wal_bound(sqlite3 *db, size_t bytes)
{
    if (bytes == 0)
        bytes = DB_WAL_BOUND;
    sqlite3_stmt *st = NULL;
    long page = 4096;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    size_t pages = bytes / (size_t)page;
    sqlite3_wal_hook(db, wal_hook, (void *)(uintptr_t)(pages < 1 ? 1 : pages));
}

int db_checkpoint(sqlite3 *db, struct store_wal *wal, struct kpi_error *err)
{
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    /* BUSY: another connection is checkpointing (it copies the frames) */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return db_fail(err, db, "checkpoint");
    /* All copied: empty the WAL if nobody reads or writes it right now (a
     * TRUNCATE checkpoint that waits for nobody). Else the next commit
     * restarts it, as long as a connection keeps the WAL index; a WAL left
     * whole when the last connection closes would be read again by the
     * next one to open, and copied again by the next checkpoint. */
    if (wal != NULL)
        *wal = (struct store_wal){.frames = log > 0 ? (uint64_t)log : 0,
                                  .copied = copied > 0 ? (uint64_t)copied : 0};
    if (rc == SQLITE_OK && log > 0 && log == copied) {
        int left = 0, done = 0;
        sqlite3_busy_timeout(db, 0);
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &left, &done);
        sqlite3_busy_timeout(db, DB_BUSY_MS);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            return db_fail(err, db, "checkpoint");
    }
    return 0;
}

int db_create_schema(sqlite3 *db, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version == 3)
        return 0;
    if (version == 1 && db_exec(db, upgrade_sql, err) != 0)
        return KPI_ESYSTEM;
    if (version == 1 || version == 2)
        return db_exec(db, convert_sql, err);
    if (version != 0)
        return kpi_fail(err, KPI_ESYSTEM, "%s: unknown database format %d",
                        sqlite3_db_filename(db, "main"), version);
    return db_exec(db, schema_sql, err);
}

int db_check_format(sqlite3 *db, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        return db_fail(err, db, "reading the format");
    if (version < 1 || version > 3)
        return kpi_fail(err, KPI_ESYSTEM, "%s: unknown database format %d",
                        sqlite3_db_filename(db, "main"), version);
    /* format 1 has no notes: an empty temporary table (in the connection's
     * own temporary database, never in the file) lets every query read both
     * formats alike, until a writer converts the file */
    if (version != 1)
        return 0;
    bool query_only = false;
    if (sqlite3_prepare_v2(db, "PRAGMA query_only", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        query_only = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    if (db_exec(db, "PRAGMA query_only=0;CREATE TEMP TABLE IF NOT EXISTS " NOTES_SQL, err) != 0 ||
        (query_only && db_exec(db, "PRAGMA query_only=1", err) != 0))
        return KPI_ESYSTEM;
    return 0;
}

bool db_bucketed(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return version >= 3;
}

uint64_t db_last_commit(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    uint64_t id = 0;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM commits", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        id = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}

/* ------------------------------------------------------------ view load */

/* Strings of a view: appended to one growing buffer, referenced by offset
 * until the buffer is final, then turned into pointers. */
struct strbuf {
    char *data;
    size_t len, cap;
};

static int sb_add(struct strbuf *b, const unsigned char *s, size_t *off)
{
    size_t n = s != NULL ? strlen((const char *)s) : 0;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap < 4096 ? 4096 : b->cap;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return KPI_ESYSTEM;
        b->data = d;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, s, n);
    b->data[b->len + n] = '\0';
    *off = b->len;
    b->len += n + 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Offsets stored in pointer fields until the string buffer is final. */
static const char *off_ptr(size_t off)
{
    return (const char *)(uintptr_t)off;
}

static size_t ptr_off(const char *p)
{
    return (size_t)(uintptr_t)p;
}

static int load_teams(sqlite3 *db, uint64_t at, struct store_view *v, struct strbuf *sb,
                      size_t **parent_off, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT id, name, parent FROM teams t WHERE commit_id = (SELECT max(commit_id) FROM "
        "teams u WHERE u.id = t.id AND u.commit_id <= ?1) ORDER BY id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(err, db, "reading teams");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
    size_t cap = 0;
    int status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (v->team_count == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            struct kpi_team *t = realloc(v->teams, cap * sizeof *t);
            size_t *p = t != NULL ? realloc(*parent_off, cap * sizeof *p) : NULL;
            if (t != NULL)
                v->teams = t;
            if (p == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            *parent_off = p;
        }
        size_t id, name, parent = SIZE_MAX;
        const unsigned char *ptext = sqlite3_column_text(st, 2);
        if (sb_add(sb, sqlite3_column_text(st, 0), &id) != 0 ||
            sb_add(sb, sqlite3_column_text(st, 1), &name) != 0 ||
            (ptext != NULL && ptext[0] != '\0' && sb_add(sb, ptext, &parent) != 0)) {
            status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            break;
        }
        v->teams[v->team_count] = (struct kpi_team){off_ptr(id), off_ptr(name), NULL};
        (*parent_off)[v->team_count++] = parent;
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading teams");
    sqlite3_finalize(st);
    return status;
}

static int load_indicators(sqlite3 *db, uint64_t at, struct store_view *v, struct strbuf *sb,
                           struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT id, name, family, unit, direction, period, aggregate, amber, red, weight FROM "
        "indicators t WHERE commit_id = (SELECT max(commit_id) FROM indicators u WHERE u.id = "
        "t.id AND u.commit_id <= ?1) ORDER BY id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(err, db, "reading indicators");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
    size_t cap = 0;
    int status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (v->indicator_count == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            struct kpi_indicator *t = realloc(v->indicators, cap * sizeof *t);
            if (t == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            v->indicators = t;
        }
        struct kpi_indicator *ind = &v->indicators[v->indicator_count];
        size_t id, name, unit;
        if (sb_add(sb, sqlite3_column_text(st, 0), &id) != 0 ||
            sb_add(sb, sqlite3_column_text(st, 1), &name) != 0 ||
            sb_add(sb, sqlite3_column_text(st, 3), &unit) != 0) {
            status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            break;
        }
        ind->id = off_ptr(id);
        ind->name = off_ptr(name);
        ind->unit = off_ptr(unit);
        const char *family = (const char *)sqlite3_column_text(st, 2);
        const char *direction = (const char *)sqlite3_column_text(st, 4);
        const char *period = (const char *)sqlite3_column_text(st, 5);
        const char *aggregate = (const char *)sqlite3_column_text(st, 6);
        ind->family = KPI_FAMILY_NONE;
        if ((family != NULL && family[0] != '\0' && kpi_family_parse(family, &ind->family) != 0) ||
            direction == NULL || kpi_direction_parse(direction, &ind->direction) != 0 ||
            period == NULL || kpi_period_kind_parse(period, &ind->period) != 0 ||
            aggregate == NULL || kpi_aggregate_parse(aggregate, &ind->aggregate) != 0) {
            status = kpi_fail(err, KPI_ESYSTEM, "%s: bad attribute of indicator \"%s\"",
                              sqlite3_db_filename(db, "main"), sqlite3_column_text(st, 0));
            break;
        }
        ind->amber = sqlite3_column_double(st, 7);
        ind->red = sqlite3_column_double(st, 8);
        ind->weight = sqlite3_column_double(st, 9);
        v->indicator_count++;
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading indicators");
    sqlite3_finalize(st);
    return status;
}

/* Turn offsets into pointers, resolve parents, check order. */
static int finish_catalog(struct store_view *v, char *strings, const size_t *parent_off,
                          struct kpi_error *err)
{
    v->team_parent = malloc((v->team_count + 1) * sizeof *v->team_parent);
    if (v->team_parent == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; i < v->team_count; i++) {
        v->teams[i].id = strings + ptr_off(v->teams[i].id);
        v->teams[i].name = strings + ptr_off(v->teams[i].name);
    }
    for (size_t i = 0; i < v->indicator_count; i++) {
        v->indicators[i].id = strings + ptr_off(v->indicators[i].id);
        v->indicators[i].name = strings + ptr_off(v->indicators[i].name);
        v->indicators[i].unit = strings + ptr_off(v->indicators[i].unit);
    }
    for (size_t i = 0; i < v->team_count; i++) {
        v->team_parent[i] = SIZE_MAX;
        v->teams[i].parent = "";
        if (parent_off[i] == SIZE_MAX)
            continue;
        const char *pid = strings + parent_off[i];
        const struct kpi_team *hit =
            bsearch(&pid, v->teams, v->team_count, sizeof *v->teams, cmp_str);
        if (hit == NULL)
            return kpi_fail(err, KPI_ESYSTEM, "corrupt database: team \"%s\" has unknown parent",
                            v->teams[i].id);
        v->team_parent[i] = (size_t)(hit - v->teams);
        v->teams[i].parent = hit->id;
    }
    return 0;
}

/* series id -> (team index, indicator index); SIZE_MAX for a series whose
 * team or indicator the view does not have. */
struct series_ref {
    size_t team, indicator;
};

static int load_series_ids(sqlite3 *db, const struct store_view *v, struct series_ref **out,
                           size_t *count, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, team, kpi FROM series ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(err, db, "reading series");
    size_t cap = 0, n = 0;
    struct series_ref *refs = NULL;
    int rc, status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id < 1 || id > (sqlite3_int64)UINT32_MAX) {
            status = kpi_fail(err, KPI_ESYSTEM, "corrupt database: bad series id");
            break;
        }
        size_t need = (size_t)id + 1;
        if (need > cap) {
            size_t c = cap < 64 ? 64 : cap;
            while (c < need)
                c *= 2;
            struct series_ref *r = realloc(refs, c * sizeof *r);
            if (r == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            for (size_t i = cap; i < c; i++)
                r[i] = (struct series_ref){SIZE_MAX, SIZE_MAX};
            refs = r;
            cap = c;
        }
        const char *team = (const char *)sqlite3_column_text(st, 1);
        const char *kpi = (const char *)sqlite3_column_text(st, 2);
        size_t ti, ii;
        if (team != NULL && kpi != NULL && store_view_find_team(v, team, &ti) == 0 &&
            store_view_find_indicator(v, kpi, &ii) == 0)
            refs[id] = (struct series_ref){ti, ii};
        if (need > n)
            n = need;
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading series");
    sqlite3_finalize(st);
    if (status != 0) {
        free(refs);
        return status;
    }
    *out = refs;
    *count = n;
    return 0;
}

double db_column_number(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

/* One cell as it stood at commit `at`, for a cell changed after it. */
struct override {
    uint32_t series;
    int64_t period;
    int field;
    double value; /* NaN: absent then */
};

static int cmp_override(const void *a, const void *b)
{
    const struct override *x = a, *y = b;
    if (x->series != y->series)
        return x->series < y->series ? -1 : 1;
    if (x->period != y->period)
        return x->period < y->period ? -1 : 1;
    return (x->field > y->field) - (x->field < y->field);
}

/* The cells changed after commit `at`, with their value at `at`: what
 * undoes the later commits. Costs what changed since `at`. */
static int load_overrides(sqlite3 *db, uint64_t at, struct override **out, size_t *count,
                          struct kpi_error *err)
{
    *out = NULL;
    *count = 0;
    /* each cell's versions: a range of the primary key (the bucket first
     * in format 3) */
    static const char *const sql[2] = {
        "SELECT c.series, c.period, c.field, (SELECT w.value FROM versions w WHERE w.series = "
        "c.series AND w.period = c.period AND w.field = c.field AND w.commit_id <= ?1 ORDER BY "
        "w.commit_id DESC LIMIT 1) FROM (SELECT DISTINCT series, period, field FROM versions "
        "INDEXED BY versions_by_commit WHERE commit_id > ?1) c",
        "SELECT c.series, c.period, c.field, (SELECT w.value FROM versions w WHERE w.bucket = "
        "c.bucket AND w.series = c.series AND w.period = c.period AND w.field = c.field AND "
        "w.commit_id <= ?1 ORDER BY w.commit_id DESC LIMIT 1) FROM (SELECT DISTINCT bucket, "
        "series, period, field FROM versions INDEXED BY versions_by_commit WHERE commit_id > ?1) "
        "c",
    };
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql[db_bucketed(db)], -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(err, db, "reading versions");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
    size_t cap = 0, n = 0;
    struct override *o = NULL;
    int status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap < 256 ? 256 : cap * 2;
            struct override *g = realloc(o, cap * sizeof *g);
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            o = g;
        }
        o[n++] =
            (struct override){(uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                              sqlite3_column_int(st, 2), db_column_number(st, 3)};
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading versions");
    sqlite3_finalize(st);
    if (status != 0) {
        free(o);
        return status;
    }
    if (n > 1)
        qsort(o, n, sizeof *o, cmp_override);
    *out = o;
    *count = n;
    return 0;
}

static int cmp_series(const void *a, const void *b)
{
    const struct store_series *x = a, *y = b;
    if (x->team != y->team)
        return x->team < y->team ? -1 : 1;
    return (x->indicator > y->indicator) - (x->indicator < y->indicator);
}

/* Apply the overrides of one series to its points [p, p + n), writing the
 * merged points to out (room for n + the overrides' count); returns how
 * many. */
static size_t merge_series(const struct kpi_point *p, size_t n, const struct override *o, size_t on,
                           struct kpi_point *out)
{
    size_t i = 0, k = 0, m = 0;
    while (i < n || k < on) {
        int64_t period =
            i < n && (k >= on || p[i].period <= o[k].period) ? p[i].period : o[k].period;
        struct kpi_point pt = {period, NAN, NAN};
        if (i < n && p[i].period == period)
            pt = p[i++];
        for (; k < on && o[k].period == period; k++) {
            if (o[k].field == 0)
                pt.value = o[k].value;
            else
                pt.target = o[k].value;
        }
        if (!isnan(pt.value) || !isnan(pt.target))
            out[m++] = pt;
    }
    return m;
}

/* Append pt to *b (count points so far). */
static int sp_push(struct series_points **b, size_t *count, struct kpi_point pt);
static struct series_points *sp_fit(struct series_points *b, size_t count);
static struct series_points *sp_reserve(struct series_points *b, size_t n);
static size_t sp_slack(size_t count);

/* One series of a view being built. */
struct built_series {
    struct store_series s;
    struct series_points *buf; /* a reference the view takes */
    uint32_t sid;
};

static int set_series(struct store_view *v, struct built_series *b, size_t n,
                      struct kpi_error *err);

/* The whole table, in its primary key's order: format 2 by series, format
 * 3 by bucket then series (each series' rows still by period); in format 3
 * also the buckets below ?1, and those from ?1 on (the two halves of a
 * split load). */
static const char *const scan_sql[4] = {
    "SELECT series, period, value, target FROM points ORDER BY series, period",
    "SELECT series, period, value, target FROM points ORDER BY bucket, series, period",
    "SELECT series, period, value, target FROM points WHERE bucket < ?1 ORDER BY bucket, series, "
    "period",
    "SELECT series, period, value, target FROM points WHERE bucket >= ?1 ORDER BY bucket, series, "
    "period",
};

/* One scan of points (scan_sql[which], ?1 = split), each row of a series
 * refs keeps appended to buf[sid] (count[sid] points so far). */
struct scan {
    sqlite3 *db;
    int which;
    int64_t split;
    const struct series_ref *refs;
    size_t ref_count;
    struct series_points **buf;
    size_t *count;
    int status;
    struct kpi_error err;
};

static void scan_points(struct scan *sc)
{
    sqlite3_stmt *st = NULL;
    int rc;
    sc->status = 0;
    if (sqlite3_prepare_v2(sc->db, scan_sql[sc->which], -1, &st, NULL) != SQLITE_OK) {
        sc->status = db_fail(&sc->err, sc->db, "reading points");
        return;
    }
    if (sc->which >= 2)
        sqlite3_bind_int64(st, 1, sc->split);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 sid = sqlite3_column_int64(st, 0);
        if (sid < 1 || (size_t)sid >= sc->ref_count) {
            sc->status =
                kpi_fail(&sc->err, KPI_ESYSTEM, "corrupt database: point of an unknown series");
            break;
        }
        if (sc->refs[sid].team == SIZE_MAX)
            continue;
        struct kpi_point pt = {sqlite3_column_int64(st, 1), db_column_number(st, 2),
                               db_column_number(st, 3)};
        if (sp_push(&sc->buf[sid], &sc->count[sid], pt) != 0) {
            sc->status = kpi_fail(&sc->err, KPI_ESYSTEM, "out of memory");
            break;
        }
    }
    if (sc->status == 0 && rc != SQLITE_DONE)
        sc->status = db_fail(&sc->err, sc->db, "reading points");
    sqlite3_finalize(st);
}

static void *scan_thread(void *arg)
{
    scan_points(arg);
    return NULL;
}

/* The bucket the second half of a split load starts at: the first bucket
 * from the middle of the buckets' range on (one seek; 20 M points of
 * daily series spread evenly). False when there is no split (fewer than
 * two buckets). */
static bool split_bucket(sqlite3 *db, int64_t *split)
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT min(bucket) FROM points), (SELECT max(bucket) FROM "
                           "points)",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1);
        *split = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2) + 1;
        ok = hi > lo;
    }
    sqlite3_finalize(st);
    return ok;
}

/* Move each series' points buffer of buf (count[sid] points, series ids
 * 1 to ref_count - 1) into built, in id order, fitted to its size; empty
 * buffers are freed. Every buf[sid] is NULL after. Returns how many were
 * built. */
static size_t take_built(struct series_points **buf, const size_t *count,
                         const struct series_ref *refs, size_t ref_count,
                         struct built_series *built)
{
    size_t n = 0;
    for (size_t sid = 1; sid < ref_count; sid++) {
        if (buf[sid] == NULL)
            continue;
        if (count[sid] == 0) {
            free(buf[sid]);
            buf[sid] = NULL;
            continue;
        }
        struct series_points *b = sp_fit(buf[sid], count[sid]);
        buf[sid] = NULL;
        built[n++] = (struct built_series){
            {refs[sid].team, refs[sid].indicator, count[sid], b->pts}, b, (uint32_t)sid};
    }
    return n;
}

/* The points of the series kept in refs (all of them but those the catalog
 * lacks, or those a scope keeps), by one scan of the points table in key
 * order, each row appended to its series' own allocation (no sort: in
 * format 3 the series come bucket by bucket, each series' rows by period);
 * known at an earlier commit `at`, the cells changed since merged in. With
 * db2 (format 3, a connection in a read transaction of the same commit as
 * db's: db_begin_pair), the scan is split in two ranges of buckets, the
 * later one read on db2 by a thread of its own; each series' rows of the
 * first range all precede those of the second, so a series is its first
 * half followed by its second. */
static int load_points(sqlite3 *db, sqlite3 *db2, uint64_t at, bool latest, struct store_view *v,
                       const struct series_ref *refs, size_t ref_count, struct kpi_error *err)
{
    struct override *o = NULL;
    size_t on = 0;
    if (!latest && load_overrides(db, at, &o, &on, err) != 0)
        return KPI_ESYSTEM;
    struct series_points **buf = calloc(ref_count + 1, sizeof *buf);
    size_t *count = calloc(ref_count + 1, sizeof *count);
    struct series_points **buf2 = NULL;
    size_t *count2 = NULL;
    struct built_series *built = calloc(ref_count + 1, sizeof *built);
    size_t n = 0;
    int status = 0;
    if (buf == NULL || count == NULL || built == NULL) {
        status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    bool f3 = db_bucketed(db);
    int64_t split = 0;
    bool two = f3 && db2 != NULL && split_bucket(db, &split);
    if (two) {
        buf2 = calloc(ref_count + 1, sizeof *buf2);
        count2 = calloc(ref_count + 1, sizeof *count2);
        if (buf2 == NULL || count2 == NULL) {
            status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            goto done;
        }
    }
    struct scan first = {db, two ? 2 : f3, split, refs, ref_count, buf, count, 0, {0}};
    struct scan second = {db2, 3, split, refs, ref_count, buf2, count2, 0, {0}};
    pthread_t thread;
    bool started = two && pthread_create(&thread, NULL, scan_thread, &second) == 0;
    if (two && !started)
        scan_points(&second); /* no thread: one after the other */
    scan_points(&first);
    if (started)
        pthread_join(thread, NULL);
    if (first.status != 0 || (two && second.status != 0)) {
        status = first.status != 0 ? first.status : second.status;
        *err = first.status != 0 ? first.err : second.err;
        goto done;
    }
    /* a series' second half after its first */
    for (size_t sid = 1; two && sid < ref_count; sid++) {
        if (buf2[sid] == NULL)
            continue;
        if (buf[sid] == NULL) {
            buf[sid] = buf2[sid];
            count[sid] = count2[sid];
            buf2[sid] = NULL;
            continue;
        }
        /* its final size with the slack sp_fit leaves (no doubling) */
        size_t total = count[sid] + count2[sid], cap = total + sp_slack(total);
        struct series_points *g = buf[sid];
        if (cap > g->cap) {
            g = realloc(g, sizeof *g + cap * sizeof g->pts[0]);
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                goto done;
            }
            g->cap = cap;
        }
        memcpy(g->pts + count[sid], buf2[sid]->pts, count2[sid] * sizeof g->pts[0]);
        buf[sid] = g;
        count[sid] += count2[sid];
        free(buf2[sid]);
        buf2[sid] = NULL;
    }
    /* known at an earlier commit: each changed series merged with what it
     * held then */
    for (size_t k = 0; k < on;) {
        size_t e = k;
        while (e < on && o[e].series == o[k].series)
            e++;
        uint32_t sid = o[k].series;
        if (sid >= 1 && sid < ref_count && refs[sid].team != SIZE_MAX) {
            struct series_points *g = sp_reserve(NULL, count[sid] + (e - k));
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                goto done;
            }
            size_t m = merge_series(buf[sid] != NULL ? buf[sid]->pts : NULL, count[sid], o + k,
                                    e - k, g->pts);
            free(buf[sid]);
            buf[sid] = g;
            count[sid] = m;
        }
        k = e;
    }
    n = take_built(buf, count, refs, ref_count, built);
    if ((status = set_series(v, built, n, err)) == 0)
        n = 0; /* the view's now */
done:
    for (size_t sid = 0; sid <= ref_count; sid++) {
        if (buf != NULL)
            free(buf[sid]);
        if (buf2 != NULL)
            free(buf2[sid]);
    }
    for (size_t i = 0; i < n; i++)
        series_points_release(built[i].buf);
    free(built);
    free(buf);
    free(count);
    free(buf2);
    free(count2);
    free(o);
    return status;
}

/* Keep, of refs, the series the scope asks for: the scope's team and its
 * descendants (what its roll-ups read), and only the scope's indicator when
 * it names one. A reference the catalog does not know keeps none, nor does
 * a scope of the catalog only. */
static void apply_scope(const struct store_view *v, const struct store_scope *scope,
                        struct series_ref *refs, size_t ref_count)
{
    size_t team = SIZE_MAX, ind = SIZE_MAX;
    bool known = !scope->catalog_only && scope->team != NULL &&
                 store_view_resolve_team(v, scope->team, &team, NULL) == 0;
    if (known && scope->kpi != NULL)
        known = store_view_resolve_indicator(v, scope->kpi, &ind, NULL) == 0;
    for (size_t i = 1; i < ref_count; i++) {
        if (refs[i].team == SIZE_MAX)
            continue;
        bool keep = known && (ind == SIZE_MAX || refs[i].indicator == ind);
        if (keep) { /* team or a descendant: its chain of parents reaches team */
            size_t t = refs[i].team;
            for (size_t steps = 0; t != team && t != SIZE_MAX && steps <= v->team_count; steps++)
                t = v->team_parent[t];
            keep = t == team;
        }
        if (!keep)
            refs[i] = (struct series_ref){SIZE_MAX, SIZE_MAX};
    }
}

/* ------------------------------------------------- points of one series */

/* A series' own allocation with room for n points, grown from b (NULL: a
 * new one); NULL when out of memory (b untouched). */
static struct series_points *sp_reserve(struct series_points *b, size_t n)
{
    size_t cap = b != NULL ? b->cap : 0;
    if (n <= cap)
        return b;
    size_t c = cap < 64 ? 64 : cap;
    while (c < n)
        c *= 2;
    struct series_points *g = realloc(b, sizeof *g + c * sizeof g->pts[0]);
    if (g == NULL)
        return NULL;
    if (b == NULL) {
        atomic_init(&g->refs, 1);
        atomic_init(&g->used, 0);
    }
    g->cap = c;
    return g;
}

/* Room for the appends of later commits: an eighth more, at least 16. */
static size_t sp_slack(size_t count)
{
    return count / 8 + 16;
}

/* b holding its final count points: trimmed to count plus slack. */
static struct series_points *sp_fit(struct series_points *b, size_t count)
{
    size_t cap = count + sp_slack(count);
    if (b->cap > cap) {
        struct series_points *g = realloc(b, sizeof *g + cap * sizeof g->pts[0]);
        if (g != NULL) {
            b = g;
            b->cap = cap;
        }
    }
    atomic_store(&b->used, count);
    return b;
}

struct series_points *series_points_alloc(size_t count)
{
    size_t cap = count + sp_slack(count);
    struct series_points *b = malloc(sizeof *b + cap * sizeof b->pts[0]);
    if (b == NULL)
        return NULL;
    atomic_init(&b->refs, 1);
    atomic_init(&b->used, 0);
    b->cap = cap;
    return b;
}

void series_points_release(struct series_points *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

static int sp_push(struct series_points **b, size_t *count, struct kpi_point pt)
{
    struct series_points *g = sp_reserve(*b, *count + 1);
    if (g == NULL)
        return KPI_ESYSTEM;
    *b = g;
    g->pts[(*count)++] = pt;
    return 0;
}

/* Read the points of series sid with st (the statement of
 * load_points_each: its latest points, or its versions up to `at`) into a
 * new allocation: *out (NULL when the series has no point) and *count. */
static int read_series(sqlite3 *db, sqlite3_stmt *st, bool latest, uint64_t at, size_t sid,
                       struct series_points **out, size_t *count, struct kpi_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)sid);
    if (!latest)
        sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
    struct series_points *b = NULL;
    size_t n = 0;
    struct kpi_point cur = {0, NAN, NAN};
    bool open = false, oom = false;
    int rc;
    while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t period = sqlite3_column_int64(st, 0);
        if (latest) {
            oom = sp_push(&b, &n,
                          (struct kpi_point){period, db_column_number(st, 1),
                                             db_column_number(st, 2)}) != 0;
            continue;
        }
        if (open && period != cur.period) {
            oom = (!isnan(cur.value) || !isnan(cur.target)) && sp_push(&b, &n, cur) != 0;
            cur = (struct kpi_point){period, NAN, NAN};
        }
        open = true;
        cur.period = period;
        /* the last version at or before `at` wins: rows come by commit */
        if (sqlite3_column_int(st, 1) == 0)
            cur.value = db_column_number(st, 2);
        else
            cur.target = db_column_number(st, 2);
    }
    if (!oom && open && (!isnan(cur.value) || !isnan(cur.target)))
        oom = sp_push(&b, &n, cur) != 0;
    int status = oom ? kpi_fail(err, KPI_ESYSTEM, "out of memory")
                 : rc != SQLITE_DONE
                     ? db_fail(err, db, latest ? "reading points" : "reading versions")
                     : 0;
    if (status != 0 || n == 0) {
        free(b);
        return status;
    }
    *out = sp_fit(b, n);
    *count = n;
    return 0;
}

static int cmp_built(const void *a, const void *b)
{
    return cmp_series(&((const struct built_series *)a)->s, &((const struct built_series *)b)->s);
}

/* Make the n built series the view's, sorted; the view then owns their
 * references (on failure the caller still does). */
static int set_series(struct store_view *v, struct built_series *b, size_t n, struct kpi_error *err)
{
    v->series = calloc(n + 1, sizeof *v->series);
    v->series_buf = calloc(n + 1, sizeof *v->series_buf);
    v->series_id = calloc(n + 1, sizeof *v->series_id);
    if (v->series == NULL || v->series_buf == NULL || v->series_id == NULL) {
        free(v->series);
        free(v->series_buf);
        free(v->series_id);
        v->series = NULL;
        v->series_buf = NULL;
        v->series_id = NULL;
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    if (n > 1)
        qsort(b, n, sizeof *b, cmp_built);
    for (size_t i = 0; i < n; i++) {
        v->series[i] = b[i].s;
        v->series_buf[i] = b[i].buf;
        v->series_id[i] = b[i].sid;
    }
    v->series_count = n;
    return 0;
}

static void release_built(struct built_series *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        series_points_release(b[i].buf);
    free(b);
}

/* One series (?1) across time: its latest points; its versions up to
 * commit ?2; whether it has a version of a period >= ?2 at commit ?3. By
 * format: format 2's tables are keyed by series first. */
static const char *const each_latest_sql[2] = {
    "SELECT period, value, target FROM points WHERE series = ?1 ORDER BY period",
    DB_BUCKETS("points", "",
               "") "SELECT p.period, p.value, p.target FROM b JOIN points p ON p.bucket = "
                   "b.x AND p.series = ?1 ORDER BY p.period",
};
static const char *const each_at_sql[2] = {
    "SELECT period, field, value FROM versions WHERE series = ?1 AND commit_id <= ?2 ORDER BY "
    "period, field, commit_id",
    DB_BUCKETS("versions", "",
               "") "SELECT v.period, v.field, v.value FROM b JOIN versions v ON v.bucket "
                   "= b.x AND v.series = ?1 WHERE v.commit_id <= ?2 ORDER BY v.period, "
                   "v.field, v.commit_id",
};
static const char *const had_from_sql[2] = {
    "SELECT 1 FROM versions WHERE series = ?1 AND period >= ?2 AND commit_id <= ?3 LIMIT 1",
    DB_BUCKETS("versions", " WHERE bucket >= (?2 >> 4)",
               "") "SELECT 1 FROM b JOIN versions v ON v.bucket "
                   "= b.x AND v.series = ?1 AND v.period >= ?2 "
                   "WHERE v.commit_id <= ?3 LIMIT 1",
};

/* A range of series ids [lo, hi] read as one: kept series close enough
 * that reading the rows of those between costs less than a seek each. */
struct id_run {
    size_t lo, hi;
};

/* The runs of the series kept in refs (series farther apart than
 * RUN_GAP ids start a new run): *out (NULL when none is kept) and *count. */
#define RUN_GAP 2
static int kept_runs(const struct series_ref *refs, size_t ref_count, struct id_run **out,
                     size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t n = 0, cap = 0;
    struct id_run *r = NULL;
    for (size_t sid = 1; sid < ref_count; sid++) {
        if (refs[sid].team == SIZE_MAX)
            continue;
        if (n > 0 && sid - r[n - 1].hi <= RUN_GAP + 1) {
            r[n - 1].hi = sid;
            continue;
        }
        if (n == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            struct id_run *g = realloc(r, cap * sizeof *g);
            if (g == NULL) {
                free(r);
                return KPI_ESYSTEM;
            }
            r = g;
        }
        r[n++] = (struct id_run){sid, sid};
    }
    *out = r;
    *count = n;
    return 0;
}

/* The points of the series kept in refs in format 3, by one walk over the
 * buckets shared by all of them: per bucket, one range of the primary key
 * per run of kept series ids (kept_runs: a seek each, a team's series being
 * mostly consecutive ids); the next bucket is tried directly (buckets are
 * dense: a day's data fills the next one) and, when none of the kept series
 * has a row in it, found by a seek past it, so an empty stretch of periods
 * costs one seek. Rows reach each series by period (buckets in order, each
 * series' rows of a bucket by period: the key's order, SQLite sorts
 * nothing); known at an earlier commit `at`, each cell's last version at or
 * before `at` wins (a series' rows of a bucket by period, field, commit). */
static int load_points_walk(sqlite3 *db, uint64_t at, bool latest, struct store_view *v,
                            const struct series_ref *refs, size_t ref_count, struct kpi_error *err)
{
    static const char *const rows_sql[2] = {
        "SELECT series, period, field, value FROM versions WHERE bucket = ?1 AND series >= ?2 "
        "AND series <= ?3 AND commit_id <= ?4 ORDER BY series, period, field, commit_id",
        "SELECT series, period, value, target FROM points WHERE bucket = ?1 AND series >= ?2 AND "
        "series <= ?3 ORDER BY series, period",
    };
    static const char *const next_sql[2] = {
        "SELECT min(bucket) FROM versions WHERE bucket > ?1",
        "SELECT min(bucket) FROM points WHERE bucket > ?1",
    };
    static const char *const last_sql[2] = {"SELECT max(bucket) FROM versions",
                                            "SELECT max(bucket) FROM points"};
    const char *what = latest ? "reading points" : "reading versions";
    struct series_points **buf = calloc(ref_count + 1, sizeof *buf);
    size_t *count = calloc(ref_count + 1, sizeof *count);
    struct kpi_point *cur = calloc(ref_count + 1, sizeof *cur);
    bool *open = calloc(ref_count + 1, sizeof *open);
    struct built_series *built = calloc(ref_count + 1, sizeof *built);
    struct id_run *runs = NULL;
    size_t run_count = 0;
    sqlite3_stmt *rows = NULL, *next = NULL, *last = NULL;
    size_t n = 0;
    int status = 0, rc;
    if (buf == NULL || count == NULL || cur == NULL || open == NULL || built == NULL ||
        kept_runs(refs, ref_count, &runs, &run_count) != 0)
        goto oom;
    if (sqlite3_prepare_v2(db, rows_sql[latest], -1, &rows, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, next_sql[latest], -1, &next, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, last_sql[latest], -1, &last, NULL) != SQLITE_OK) {
        status = db_fail(err, db, what);
        goto done;
    }
    if (!latest)
        sqlite3_bind_int64(rows, 4, (sqlite3_int64)at);
    if (sqlite3_step(last) != SQLITE_ROW) {
        status = db_fail(err, db, what);
        goto done;
    }
    sqlite3_int64 max = sqlite3_column_int64(last, 0);
    bool have = run_count > 0 && sqlite3_column_type(last, 0) != SQLITE_NULL;
    sqlite3_int64 x = INT64_MIN;
    bool seek = true; /* x is not a bucket yet: seek the first one past it */
    while (have) {
        if (seek) {
            sqlite3_reset(next);
            sqlite3_bind_int64(next, 1, x);
            if (sqlite3_step(next) != SQLITE_ROW) {
                status = db_fail(err, db, what);
                goto done;
            }
            if (sqlite3_column_type(next, 0) == SQLITE_NULL)
                break;
            x = sqlite3_column_int64(next, 0);
        }
        bool any = false;
        for (size_t r = 0; r < run_count; r++) {
            sqlite3_reset(rows);
            sqlite3_bind_int64(rows, 1, x);
            sqlite3_bind_int64(rows, 2, (sqlite3_int64)runs[r].lo);
            sqlite3_bind_int64(rows, 3, (sqlite3_int64)runs[r].hi);
            while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
                sqlite3_int64 sid = sqlite3_column_int64(rows, 0);
                if (sid < 1 || (size_t)sid >= ref_count || refs[sid].team == SIZE_MAX)
                    continue;
                any = true;
                int64_t period = sqlite3_column_int64(rows, 1);
                if (latest) {
                    if (sp_push(&buf[sid], &count[sid],
                                (struct kpi_point){period, db_column_number(rows, 2),
                                                   db_column_number(rows, 3)}) != 0)
                        goto oom;
                    continue;
                }
                struct kpi_point *c = &cur[sid];
                if (open[sid] && period != c->period) {
                    if ((!isnan(c->value) || !isnan(c->target)) &&
                        sp_push(&buf[sid], &count[sid], *c) != 0)
                        goto oom;
                    open[sid] = false;
                }
                if (!open[sid])
                    *c = (struct kpi_point){period, NAN, NAN};
                open[sid] = true;
                if (sqlite3_column_int(rows, 2) == 0)
                    c->value = db_column_number(rows, 3);
                else
                    c->target = db_column_number(rows, 3);
            }
            if (rc != SQLITE_DONE) {
                status = db_fail(err, db, what);
                goto done;
            }
        }
        if (x >= max)
            break;
        seek = !any;
        if (!seek)
            x++;
    }
    for (size_t sid = 1; sid < ref_count; sid++)
        if (open[sid] && (!isnan(cur[sid].value) || !isnan(cur[sid].target)) &&
            sp_push(&buf[sid], &count[sid], cur[sid]) != 0)
            goto oom;
    n = take_built(buf, count, refs, ref_count, built);
    if ((status = set_series(v, built, n, err)) == 0)
        n = 0; /* the view's now */
    goto done;
oom:
    status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
done:
    sqlite3_finalize(rows);
    sqlite3_finalize(next);
    sqlite3_finalize(last);
    if (buf != NULL)
        for (size_t sid = 0; sid <= ref_count; sid++)
            free(buf[sid]);
    for (size_t i = 0; i < n; i++)
        series_points_release(built[i].buf);
    free(built);
    free(buf);
    free(count);
    free(cur);
    free(open);
    free(runs);
    return status;
}

/* The points of the series kept in refs, each into its own allocation:
 * format 3 by load_points_walk; format 2 one series at a time by primary
 * key, the latest from points, known at an earlier commit `at` each cell's
 * last version at or before `at` from versions (rows in key order: period,
 * field, commit). Costs the kept series' points (and their history for an
 * earlier commit), not the directory's. */
static int load_points_each(sqlite3 *db, uint64_t at, bool latest, struct store_view *v,
                            const struct series_ref *refs, size_t ref_count, struct kpi_error *err)
{
    bool f3 = db_bucketed(db);
    if (f3)
        return load_points_walk(db, at, latest, v, refs, ref_count, err);
    struct built_series *built = calloc(ref_count + 1, sizeof *built);
    if (built == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int status = 0;
    if (sqlite3_prepare_v2(db, latest ? each_latest_sql[f3] : each_at_sql[f3], -1, &st, NULL) !=
        SQLITE_OK)
        status = db_fail(err, db, latest ? "reading points" : "reading versions");
    for (size_t sid = 1; sid < ref_count && status == 0; sid++) {
        if (refs[sid].team == SIZE_MAX)
            continue;
        struct series_points *b;
        size_t count;
        status = read_series(db, st, latest, at, sid, &b, &count, err);
        if (status == 0 && b != NULL)
            built[n++] = (struct built_series){
                {refs[sid].team, refs[sid].indicator, count, b->pts}, b, (uint32_t)sid};
    }
    sqlite3_finalize(st);
    if (status == 0)
        status = set_series(v, built, n, err);
    if (status != 0) {
        release_built(built, n);
        return status;
    }
    free(built);
    return 0;
}

static int load_pending(sqlite3 *db, struct store_view *v, const struct series_ref *refs,
                        size_t ref_count, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT series FROM rrd_pending", -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading rrd_pending");
    size_t cap = 0;
    int rc, status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 sid = sqlite3_column_int64(st, 0);
        if (sid < 1 || (size_t)sid >= ref_count || refs[sid].team == SIZE_MAX)
            continue;
        if (v->lag_count == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            struct store_series_key *g = realloc(v->lag, cap * sizeof *g);
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            v->lag = g;
        }
        v->lag[v->lag_count++] =
            (struct store_series_key){(uint32_t)refs[sid].team, (uint32_t)refs[sid].indicator};
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading rrd_pending");
    sqlite3_finalize(st);
    return status;
}

/* The teams and indicators of commit v->generation into v. */
static int load_teams_and_indicators(sqlite3 *db, struct store_view *v, struct kpi_error *err)
{
    struct strbuf sb = {0};
    size_t *parent_off = NULL;
    int status;
    if ((status = load_teams(db, v->generation, v, &sb, &parent_off, err)) != 0 ||
        (status = load_indicators(db, v->generation, v, &sb, err)) != 0)
        goto done;
    if (sb_add(&sb, (const unsigned char *)"", &(size_t){0}) != 0) {
        status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    v->buf = sb.data;
    sb.data = NULL;
    status = finish_catalog(v, v->buf, parent_off, err);
done:
    free(sb.data);
    free(parent_off);
    return status;
}

/* The catalog of commit v->generation into v, and the series ids (*refs:
 * series id -> team and indicator indices of v). */
static int load_catalog(sqlite3 *db, struct store_view *v, struct series_ref **refs,
                        size_t *ref_count, struct kpi_error *err)
{
    int status = load_teams_and_indicators(db, v, err);
    if (status == 0)
        status = load_series_ids(db, v, refs, ref_count, err);
    return status;
}

/* Keep of refs only the series a repair has work for: those pending in
 * rrd_pending (not settled in this boot), and those whose RRD file is missing (store_repair then
 * loads their points only, not the directory's). */
static int apply_repair(sqlite3 *db, const struct store *st, const struct store_view *v,
                        struct series_ref *refs, size_t ref_count, struct kpi_error *err)
{
    bool *pending = calloc(ref_count + 1, sizeof *pending);
    if (pending == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    sqlite3_stmt *st_ = NULL;
    if (sqlite3_prepare_v2(db, "SELECT series FROM rrd_pending", -1, &st_, NULL) != SQLITE_OK) {
        free(pending);
        return db_fail(err, db, "reading rrd_pending");
    }
    int rc;
    while ((rc = sqlite3_step(st_)) == SQLITE_ROW) {
        sqlite3_int64 sid = sqlite3_column_int64(st_, 0);
        if (sid >= 1 && (size_t)sid < ref_count)
            pending[sid] = true;
    }
    sqlite3_finalize(st_);
    if (rc != SQLITE_DONE) {
        free(pending);
        return db_fail(err, db, "reading rrd_pending");
    }
    /* marks whose files this boot wrote for the latest commit have no work
     * (sync.c): a restarted server reads only the series whose file is
     * missing, not every series the last import touched */
    bool settled = store_rrd_settled(st->dir, v->last_commit);
    for (size_t sid = 1; sid < ref_count; sid++) {
        if (refs[sid].team == SIZE_MAX || (pending[sid] && !settled))
            continue;
        char path[4096];
        bool missing = store_series_path(st, v->teams[refs[sid].team].id,
                                         v->indicators[refs[sid].indicator].id, path, sizeof path,
                                         NULL) == 0 &&
                       access(path, F_OK) != 0 && errno == ENOENT;
        if (!missing)
            refs[sid] = (struct series_ref){SIZE_MAX, SIZE_MAX};
    }
    free(pending);
    return 0;
}

/* Whether the series refs keeps are better read one by one than by a scan
 * of the whole table: always in format 2 (each series is a range of the
 * key); in format 3 (each series is a range per bucket: a seek per bucket
 * for at most 16 rows) when they are at most half the directory's. */
static bool read_each(sqlite3 *db, const struct series_ref *refs, size_t ref_count)
{
    if (!db_bucketed(db))
        return true;
    size_t kept = 0;
    for (size_t i = 1; i < ref_count; i++)
        kept += refs[i].team != SIZE_MAX;
    return kept * 2 <= ref_count - 1;
}

/* A second connection to db's file, read only, for the second half of a
 * split load; NULL when it cannot be opened (the load then runs on one). */
static sqlite3 *open_second(sqlite3 *db)
{
    const char *path = sqlite3_db_filename(db, "main");
    sqlite3 *db2 = NULL;
    if (path == NULL || *path == '\0' ||
        sqlite3_open_v2(path, &db2,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(db2, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(db2);
        return NULL;
    }
    sqlite3_busy_timeout(db2, DB_BUSY_MS);
    sqlite3_db_config(db2, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    return db2;
}

int db_read_mark(sqlite3 *db, struct db_mark *out, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT coalesce(max(id), 0) FROM commits), (SELECT "
                           "schema_version FROM pragma_schema_version), (SELECT user_version "
                           "FROM pragma_user_version)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading commits");
    int status = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = (struct db_mark){(uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                sqlite3_column_int64(st, 2)};
    else
        status = db_fail(err, db, "reading commits");
    sqlite3_finalize(st);
    return status;
}

/* How many times a split load begins its two transactions again when a
 * commit came between them, before it loads on one connection. */
#define PAIR_TRIES 8

/* Begin the load's read transaction on db and, for a split load (split:
 * the whole table in format 3), one on a second connection (*db2, NULL
 * otherwise) that sees the same commit. SQLite here has no snapshot API:
 * both read their mark (db_read_mark) once begun, and begin again when the
 * marks differ. Equal marks are the same commit: every change of points
 * comes with a commit row (its id the max), a conversion changes the
 * schema; a commit after the second begin is seen by neither. hook->between
 * (tests) runs between the two begins. */
static int begin_load(sqlite3 *db, bool split, const struct db_load_hook *hook, sqlite3 **db2,
                      struct kpi_error *err)
{
    *db2 = NULL;
    sqlite3 *second = NULL;
    int status = 0;
    for (int tries = 0;; tries++) {
        if ((status = db_exec(db, "BEGIN", err)) != 0)
            break;
        if (!split || tries == PAIR_TRIES || !db_bucketed(db) ||
            (second == NULL && (second = open_second(db)) == NULL))
            break;
        struct db_mark a, b;
        if ((status = db_read_mark(db, &a, err)) != 0)
            break;
        if (hook != NULL && hook->between != NULL)
            hook->between(hook->arg);
        if ((status = db_exec(second, "BEGIN", err)) != 0 ||
            (status = db_read_mark(second, &b, err)) != 0)
            break;
        if (a.last_commit == b.last_commit && a.schema == b.schema && a.format == b.format) {
            *db2 = second;
            return 0;
        }
        sqlite3_exec(second, "COMMIT", NULL, NULL, NULL);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    if (second != NULL) {
        sqlite3_exec(second, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(second);
    }
    if (status != 0 && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return status;
}

/* A view of commit `at` (0: the latest), of the series scope keeps (NULL:
 * all; with repair, those apply_repair keeps), each series in its own
 * allocation; the whole table in format 3 read on two connections, each
 * in a thread (load_points), unless hook says one. */
static int load_view_with(sqlite3 *db, uint64_t at, const struct store_scope *scope,
                          const struct store *repair, const struct db_load_hook *hook,
                          struct store_view **out, struct kpi_error *err)
{
    *out = NULL;
    struct store_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    struct series_ref *refs = NULL;
    size_t ref_count = 0;
    sqlite3 *db2 = NULL;
    bool split = scope == NULL && repair == NULL && (hook == NULL || hook->threads != 1);
    int status = begin_load(db, split, hook, &db2, err);
    if (status != 0) {
        free(v);
        return status;
    }
    uint64_t last = db_last_commit(db);
    bool latest = at == 0 || at >= last;
    v->generation = latest ? last : at;
    v->last_commit = last;
    v->from_db = true;
    if ((status = load_catalog(db, v, &refs, &ref_count, err)) != 0)
        goto done;
    if (scope != NULL)
        apply_scope(v, scope, refs, ref_count);
    if (repair != NULL && (status = apply_repair(db, repair, v, refs, ref_count, err)) != 0)
        goto done;
    status = (scope != NULL || repair != NULL) && read_each(db, refs, ref_count)
                 ? load_points_each(db, v->generation, latest, v, refs, ref_count, err)
                 : load_points(db, db2, v->generation, latest, v, refs, ref_count, err);
    if (status == 0 && latest)
        status = load_pending(db, v, refs, ref_count, err);
    if (status == 0)
        status = notes_load(db, v->generation, v, &v->notes, err);
done:
    if (db2 != NULL) {
        sqlite3_exec(db2, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(db2);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    free(refs);
    if (status != 0) {
        store_view_free(v);
        return status;
    }
    *out = v;
    return 0;
}

static int load_view(sqlite3 *db, uint64_t at, const struct store_scope *scope,
                     const struct store *repair, struct store_view **out, struct kpi_error *err)
{
    return load_view_with(db, at, scope, repair, NULL, out, err);
}

int db_load_view_hooked(sqlite3 *db, uint64_t at, const struct db_load_hook *hook,
                        struct store_view **out, struct kpi_error *err)
{
    return load_view_with(db, at, NULL, NULL, hook, out, err);
}

int db_load_view(sqlite3 *db, uint64_t at, struct store_view **out, struct kpi_error *err)
{
    return load_view(db, at, NULL, NULL, out, err);
}

int db_load_view_scoped(sqlite3 *db, uint64_t at, const struct store_scope *scope,
                        struct store_view **out, struct kpi_error *err)
{
    return load_view(db, at, scope, NULL, out, err);
}

int db_load_view_shared(sqlite3 *db, struct store_view **out, struct kpi_error *err)
{
    return load_view(db, 0, NULL, NULL, out, err);
}

int db_load_view_repair(sqlite3 *db, const struct store *st, struct store_view **out,
                        struct kpi_error *err)
{
    return load_view(db, 0, NULL, st, out, err);
}

/* --------------------------------------------------------- view update */

/* The cells changed by the commits after `since`, each with its latest
 * version (NaN: removed), sorted by series, period, field: the
 * versions_by_commit index, then a sort of those rows only. */
static int load_changes(sqlite3 *db, uint64_t since, struct override **out, size_t *count,
                        struct kpi_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            db,
            "SELECT series, period, field, value FROM versions INDEXED BY versions_by_commit "
            "WHERE commit_id > "
            "?1 ORDER BY series, period, field, commit_id",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading versions");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    size_t cap = 0, n = 0;
    struct override *o = NULL;
    int rc, status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct override x = {(uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                             sqlite3_column_int(st, 2), db_column_number(st, 3)};
        if (n > 0 && o[n - 1].series == x.series && o[n - 1].period == x.period &&
            o[n - 1].field == x.field) {
            o[n - 1] = x; /* a later commit's version of the same cell */
            continue;
        }
        if (n == cap) {
            cap = cap < 256 ? 256 : cap * 2;
            struct override *g = realloc(o, cap * sizeof *g);
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            o = g;
        }
        o[n++] = x;
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading versions");
    sqlite3_finalize(st);
    if (status != 0) {
        free(o);
        return status;
    }
    *out = o;
    *count = n;
    return 0;
}

/* Series sid of the new view from the old one's (old_pts/old_count in
 * old_buf, NULL when it had none) and the changes o[0, on) of that series:
 * later periods only are written in place after the old points when old_buf
 * has room and no other view claimed it (atomic on used); anything else is
 * merged into a new allocation. *b is a reference for the new view (NULL
 * when the series has no point left). */
static int update_series(struct series_points *old_buf, const struct kpi_point *old_pts,
                         size_t old_count, const struct override *o, size_t on,
                         struct series_points **b, size_t *count)
{
    *b = NULL;
    *count = 0;
    bool later = old_count == 0 || o[0].period > old_pts[old_count - 1].period;
    size_t claimed = old_count;
    if (later && old_buf != NULL && old_count + on <= old_buf->cap &&
        atomic_compare_exchange_strong(&old_buf->used, &claimed, old_count + on)) {
        size_t m = merge_series(NULL, 0, o, on, old_buf->pts + old_count);
        atomic_store(&old_buf->used, old_count + m); /* ours to lower: we claimed it */
        atomic_fetch_add(&old_buf->refs, 1);
        *b = old_buf;
        *count = old_count + m;
        return 0;
    }
    size_t need = old_count + on;
    struct series_points *g = sp_reserve(NULL, need + sp_slack(need));
    if (g == NULL)
        return KPI_ESYSTEM;
    size_t m = merge_series(old_pts, old_count, o, on, g->pts);
    if (m == 0) {
        free(g);
        return 0;
    }
    atomic_store(&g->used, m);
    *b = g;
    *count = m;
    return 0;
}

int db_update_view(sqlite3 *db, const struct store_view *old, struct store_view **out,
                   size_t *changes, struct kpi_error *err)
{
    *out = NULL;
    if (changes != NULL)
        *changes = 0;
    struct store_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    struct series_ref *refs = NULL;
    size_t ref_count = 0, on = 0, n = 0;
    struct override *o = NULL;
    size_t *old_of = NULL; /* series id -> index in old->series */
    struct built_series *built = NULL;
    sqlite3_stmt *st = NULL;
    int status = db_exec(db, "BEGIN", err);
    if (status != 0) {
        free(v);
        return status;
    }
    v->generation = v->last_commit = db_last_commit(db);
    v->from_db = true;
    if ((status = load_catalog(db, v, &refs, &ref_count, err)) != 0 ||
        (status = load_changes(db, old->generation, &o, &on, err)) != 0)
        goto done;
    if (changes != NULL)
        *changes = on;
    old_of = malloc((ref_count + 1) * sizeof *old_of);
    built = calloc(ref_count + 1, sizeof *built);
    if (old_of == NULL || built == NULL) {
        status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i <= ref_count; i++)
        old_of[i] = SIZE_MAX;
    for (size_t i = 0; i < old->series_count; i++)
        if (old->series_id[i] < ref_count)
            old_of[old->series_id[i]] = i;
    size_t k = 0;
    for (size_t sid = 1; sid < ref_count && status == 0; sid++) {
        while (k < on && o[k].series < sid)
            k++;
        size_t e = k;
        while (e < on && o[e].series == sid)
            e++;
        if (refs[sid].team == SIZE_MAX)
            continue;
        size_t oi = old_of[sid], count = 0;
        struct series_points *b = NULL;
        if (e == k && oi != SIZE_MAX) { /* unchanged: shared as it is */
            b = old->series_buf[oi];
            atomic_fetch_add(&b->refs, 1);
            count = old->series[oi].count;
        } else if (e == k) { /* not in the old view (its catalog lacked it) */
            if (st == NULL && sqlite3_prepare_v2(db, each_latest_sql[db_bucketed(db)], -1, &st,
                                                 NULL) != SQLITE_OK)
                status = db_fail(err, db, "reading points");
            else
                status = read_series(db, st, true, 0, sid, &b, &count, err);
        } else if (update_series(oi != SIZE_MAX ? old->series_buf[oi] : NULL,
                                 oi != SIZE_MAX ? old->series[oi].points : NULL,
                                 oi != SIZE_MAX ? old->series[oi].count : 0, o + k, e - k, &b,
                                 &count) != 0) {
            status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        }
        if (status == 0 && b != NULL)
            built[n++] = (struct built_series){
                {refs[sid].team, refs[sid].indicator, count, b->pts}, b, (uint32_t)sid};
        k = e;
    }
    if (status == 0 && (status = set_series(v, built, n, err)) == 0)
        n = 0; /* the view's now */
    if (status == 0)
        status = load_pending(db, v, refs, ref_count, err);
    /* notes are few (one per commented period): read again whole */
    if (status == 0)
        status = notes_load(db, v->generation, v, &v->notes, err);
done:
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (built != NULL)
        release_built(built, n);
    free(old_of);
    free(o);
    free(refs);
    if (status != 0) {
        store_view_free(v);
        return status;
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------ known at, from a view */

/* The first period each series changed at by the commits in (at, upto]:
 * first[sid] (INT64_MAX: none), first holding ref_count entries. */
static int load_first_changed(sqlite3 *db, uint64_t at, uint64_t upto, int64_t *first,
                              size_t ref_count, struct kpi_error *err)
{
    for (size_t i = 0; i < ref_count; i++)
        first[i] = INT64_MAX;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT series, min(period) FROM versions INDEXED BY "
                           "versions_by_commit WHERE commit_id > ?1 AND commit_id <= ?2 "
                           "GROUP BY series",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading versions");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 sid = sqlite3_column_int64(st, 0);
        if (sid >= 1 && (size_t)sid < ref_count)
            first[sid] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(err, db, "reading versions");
}

/* Whether series sid had, at commit `at`, a version of a period >= from
 * (then its points at `at` are not a prefix of a later view's). */
static int had_period_from(sqlite3 *db, sqlite3_stmt **st, size_t sid, int64_t from, uint64_t at,
                           bool *had, struct kpi_error *err)
{
    if (*st == NULL &&
        sqlite3_prepare_v2(db, had_from_sql[db_bucketed(db)], -1, st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading versions");
    sqlite3_reset(*st);
    sqlite3_bind_int64(*st, 1, (sqlite3_int64)sid);
    sqlite3_bind_int64(*st, 2, from);
    sqlite3_bind_int64(*st, 3, (sqlite3_int64)at);
    int rc = sqlite3_step(*st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(err, db, "reading versions");
    *had = rc == SQLITE_ROW;
    return 0;
}

int db_view_at_from(sqlite3 *db, const struct store_view *cur, uint64_t at, struct store_view **out,
                    struct kpi_error *err)
{
    *out = NULL;
    struct store_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    struct series_ref *refs = NULL;
    size_t ref_count = 0, n = 0;
    int64_t *first = NULL;
    size_t *cur_of = NULL; /* series id -> index in cur->series */
    struct built_series *built = NULL;
    sqlite3_stmt *each = NULL, *probe = NULL;
    int status = db_exec(db, "BEGIN", err);
    if (status != 0) {
        free(v);
        return status;
    }
    v->generation = at;
    v->last_commit = db_last_commit(db);
    v->from_db = true;
    if ((status = load_catalog(db, v, &refs, &ref_count, err)) != 0)
        goto done;
    first = malloc((ref_count + 1) * sizeof *first);
    cur_of = malloc((ref_count + 1) * sizeof *cur_of);
    built = calloc(ref_count + 1, sizeof *built);
    if (first == NULL || cur_of == NULL || built == NULL) {
        status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    if ((status = load_first_changed(db, at, cur->generation, first, ref_count, err)) != 0)
        goto done;
    for (size_t i = 0; i < ref_count; i++)
        cur_of[i] = SIZE_MAX;
    for (size_t i = 0; i < cur->series_count; i++)
        if (cur->series_id[i] < ref_count)
            cur_of[cur->series_id[i]] = i;
    for (size_t sid = 1; sid < ref_count && status == 0; sid++) {
        if (refs[sid].team == SIZE_MAX)
            continue;
        size_t ci = cur_of[sid], count = 0;
        const struct kpi_point *pts = ci != SIZE_MAX ? cur->series[ci].points : NULL;
        size_t cur_count = ci != SIZE_MAX ? cur->series[ci].count : 0;
        struct series_points *b = NULL;
        bool rebuild = false;
        if (first[sid] != INT64_MAX) /* changed after `at`: later periods only? */
            status = had_period_from(db, &probe, sid, first[sid], at, &rebuild, err);
        if (status != 0)
            break;
        if (rebuild) { /* corrected after `at`: each cell's version then */
            if (each == NULL &&
                sqlite3_prepare_v2(db, each_at_sql[db_bucketed(db)], -1, &each, NULL) != SQLITE_OK)
                status = db_fail(err, db, "reading versions");
            else
                status = read_series(db, each, false, at, sid, &b, &count, err);
        } else { /* the current points, or those before the later periods */
            count = first[sid] == INT64_MAX ? cur_count
                                            : kpi_points_lower_bound(pts, cur_count, first[sid]);
            if (count > 0) {
                b = cur->series_buf[ci];
                atomic_fetch_add(&b->refs, 1);
            }
        }
        if (status == 0 && b != NULL)
            built[n++] = (struct built_series){
                {refs[sid].team, refs[sid].indicator, count, b->pts}, b, (uint32_t)sid};
    }
    if (status == 0 && (status = set_series(v, built, n, err)) == 0)
        n = 0; /* the view's now */
    if (status == 0)
        status = notes_load(db, v->generation, v, &v->notes, err);
done:
    sqlite3_finalize(each);
    sqlite3_finalize(probe);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (built != NULL)
        release_built(built, n);
    free(cur_of);
    free(first);
    free(refs);
    if (status != 0) {
        store_view_free(v);
        return status;
    }
    *out = v;
    return 0;
}

/* The lag set of the latest data by ids: (team, kpi) of every pending
 * series whose team and indicator the view has. */
static int load_pending_ids(sqlite3 *db, struct store_view *v, struct kpi_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT s.team, s.kpi FROM rrd_pending r JOIN series s ON s.id = "
                           "r.series ORDER BY r.series",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading rrd_pending");
    size_t cap = 0;
    int rc, status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *team = (const char *)sqlite3_column_text(st, 0);
        const char *kpi = (const char *)sqlite3_column_text(st, 1);
        size_t ti, ii;
        if (team == NULL || kpi == NULL || store_view_find_team(v, team, &ti) != 0 ||
            store_view_find_indicator(v, kpi, &ii) != 0)
            continue;
        if (v->lag_count == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            struct store_series_key *g = realloc(v->lag, cap * sizeof *g);
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            v->lag = g;
        }
        v->lag[v->lag_count++] = (struct store_series_key){(uint32_t)ti, (uint32_t)ii};
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading rrd_pending");
    sqlite3_finalize(st);
    return status;
}

int db_load_catalog(sqlite3 *db, struct store_view **out, struct kpi_error *err)
{
    *out = NULL;
    struct store_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    int status = db_exec(db, "BEGIN", err);
    if (status != 0) {
        free(v);
        return status;
    }
    v->generation = v->last_commit = db_last_commit(db);
    v->from_db = true;
    if ((status = load_teams_and_indicators(db, v, err)) == 0)
        status = load_pending_ids(db, v, err);
    if (status == 0)
        status = notes_load(db, v->generation, v, &v->notes, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (status != 0) {
        store_view_free(v);
        return status;
    }
    *out = v;
    return 0;
}

int db_clear_pending(sqlite3 *db, struct kpi_error *err)
{
    if (db == NULL)
        return 0;
    /* not synced: losing this delete only costs a redundant repair */
    return db_exec(db, "PRAGMA synchronous=NORMAL;DELETE FROM rrd_pending;PRAGMA synchronous=FULL;",
                   err);
}
