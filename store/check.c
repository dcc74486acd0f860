/*
 * check.c — kpi check (SPEC §10): SQLite's integrity check, the hash chain
 * of the commits recomputed from what the database holds, the current
 * points against the versions, and every RRD file against the data; with
 * repair, the points and the RRD files are rebuilt from the versions.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct checker {
    const struct store_check_sink *sink;
    size_t problems;
};

__attribute__((format(printf, 2, 3))) static void problem(struct checker *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->problems++;
    if (c->sink != NULL && c->sink->problem != NULL)
        c->sink->problem(c->sink->ctx, line);
}

static const char *text_at(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t != NULL ? t : "";
}

/* SQLite's own check of the file's structure. false: the file cannot be
 * read at all (nothing else can be checked). */
static bool check_integrity(sqlite3 *db, struct checker *c)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        problem(c, "kpi.db: %s", sqlite3_errmsg(db));
        return false;
    }
    int rc;
    bool ok = true;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = text_at(st, 0);
        if (strcmp(line, "ok") != 0) {
            problem(c, "kpi.db: integrity: %s", line);
            ok = false;
        }
    }
    if (rc != SQLITE_DONE) {
        problem(c, "kpi.db: %s", sqlite3_errmsg(db));
        ok = false;
    }
    sqlite3_finalize(st);
    return ok;
}

static int parse_indicator(sqlite3_stmt *st, struct kpi_indicator *ind)
{
    ind->id = text_at(st, 0);
    ind->name = text_at(st, 1);
    const char *family = (const char *)sqlite3_column_text(st, 2);
    ind->unit = text_at(st, 3);
    ind->family = KPI_FAMILY_NONE;
    if ((family != NULL && family[0] != '\0' && kpi_family_parse(family, &ind->family) != 0) ||
        kpi_direction_parse(text_at(st, 4), &ind->direction) != 0 ||
        kpi_period_kind_parse(text_at(st, 5), &ind->period) != 0 ||
        kpi_aggregate_parse(text_at(st, 6), &ind->aggregate) != 0)
        return -1;
    ind->amber = sqlite3_column_double(st, 7);
    ind->red = sqlite3_column_double(st, 8);
    ind->weight = sqlite3_column_double(st, 9);
    return 0;
}

/* Every commit's hash recomputed from its rows, and its link to the one
 * before. */
static void check_chain(sqlite3 *db, struct checker *c)
{
    sqlite3_stmt *cm = NULL, *tq = NULL, *iq = NULL, *vq = NULL, *nq = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, time, author, kind, source, sha256, rows, new, corrected, "
                           "series, teams, prev_hash, hash FROM commits ORDER BY id",
                           -1, &cm, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT id, name, parent FROM teams WHERE commit_id = ?1 ORDER BY id",
                           -1, &tq, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT id, name, family, unit, direction, period, aggregate, amber, "
                           "red, weight FROM indicators WHERE commit_id = ?1 ORDER BY id",
                           -1, &iq, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT s.team, s.kpi, v.period, v.field, v.value FROM versions v JOIN "
                           "series s ON s.id = v.series WHERE v.commit_id = ?1 ORDER BY s.team, "
                           "s.kpi, v.period, v.field",
                           -1, &vq, NULL) != SQLITE_OK) {
        problem(c, "kpi.db: commits unreadable: %s", sqlite3_errmsg(db));
        goto done;
    }
    char prev[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    uint64_t expected = 1;
    int rc;
    while ((rc = sqlite3_step(cm)) == SQLITE_ROW) {
        uint64_t id = (uint64_t)sqlite3_column_int64(cm, 0);
        if (id != expected)
            problem(c, "commit %" PRIu64 ": commits %" PRIu64 " to %" PRIu64 " are missing", id,
                    expected, id - 1);
        if (strcmp(text_at(cm, 11), prev) != 0)
            problem(c, "commit %" PRIu64 ": does not follow the commit before it (hash chain)", id);
        struct kpi_sha256 body;
        kpi_sha256_init(&body);
        sqlite3_bind_int64(tq, 1, (sqlite3_int64)id);
        while (sqlite3_step(tq) == SQLITE_ROW) {
            struct kpi_team t = {text_at(tq, 0), text_at(tq, 1), text_at(tq, 2)};
            commit_hash_team(&body, &t);
        }
        sqlite3_reset(tq);
        sqlite3_bind_int64(iq, 1, (sqlite3_int64)id);
        while (sqlite3_step(iq) == SQLITE_ROW) {
            struct kpi_indicator ind;
            if (parse_indicator(iq, &ind) != 0)
                problem(c, "commit %" PRIu64 ": indicator \"%s\" has a bad attribute", id,
                        text_at(iq, 0));
            else
                commit_hash_indicator(&body, &ind);
        }
        sqlite3_reset(iq);
        sqlite3_bind_int64(vq, 1, (sqlite3_int64)id);
        while (sqlite3_step(vq) == SQLITE_ROW) {
            double v = db_column_number(vq, 4);
            commit_hash_version(&body, text_at(vq, 0), text_at(vq, 1), sqlite3_column_int64(vq, 2),
                                sqlite3_column_int(vq, 3), v);
        }
        sqlite3_reset(vq);
        if (notes_hash_commit(db, &nq, id, &body) != 0)
            problem(c, "commit %" PRIu64 ": notes unreadable: %s", id, sqlite3_errmsg(db));
        unsigned char digest[KPI_SHA256_SIZE];
        char body_hex[KPI_SHA256_HEX], hash[65];
        kpi_sha256_final(&body, digest);
        kpi_sha256_hex(digest, body_hex);
        struct commit_header h = {
            .id = id,
            .author = text_at(cm, 2),
            .kind = text_at(cm, 3),
            .source = text_at(cm, 4),
            .sha256 = text_at(cm, 5),
            .rows = (uint64_t)sqlite3_column_int64(cm, 6),
            .new_cells = (uint64_t)sqlite3_column_int64(cm, 7),
            .corrected = (uint64_t)sqlite3_column_int64(cm, 8),
            .series = (uint64_t)sqlite3_column_int64(cm, 9),
            .teams = text_at(cm, 10),
            .prev_hash = text_at(cm, 11),
            .body = body_hex,
        };
        snprintf(h.time, sizeof h.time, "%s", text_at(cm, 1));
        commit_hash_header(&h, hash);
        if (strcmp(hash, text_at(cm, 12)) != 0)
            problem(c,
                    "commit %" PRIu64 ": changed after it was written (its hash does not match "
                    "its content)",
                    id);
        snprintf(prev, sizeof prev, "%s", text_at(cm, 12));
        expected = id + 1;
    }
    if (rc != SQLITE_DONE)
        problem(c, "kpi.db: commits unreadable: %s", sqlite3_errmsg(db));
    sqlite3_stmt *orphans = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM versions WHERE commit_id NOT IN (SELECT id FROM "
                           "commits)",
                           -1, &orphans, NULL) == SQLITE_OK &&
        sqlite3_step(orphans) == SQLITE_ROW && sqlite3_column_int64(orphans, 0) > 0)
        problem(c, "kpi.db: %lld versions belong to no commit",
                (long long)sqlite3_column_int64(orphans, 0));
    sqlite3_finalize(orphans);
done:
    sqlite3_finalize(cm);
    sqlite3_finalize(tq);
    sqlite3_finalize(iq);
    sqlite3_finalize(vq);
    sqlite3_finalize(nq);
}

/* The latest data computed from the versions, as the points should hold it:
 * want(series, period, value, target). By format (db_bucketed): each cell's
 * versions a range of the primary key, the bucket first in format 3. */
static const char *const points_want_sql[2] = {
    "WITH latest AS (SELECT series, period, "
    " (SELECT value FROM versions w WHERE w.series = c.series AND w.period = c.period AND "
    "  w.field = 0 ORDER BY commit_id DESC LIMIT 1) AS value, "
    " (SELECT value FROM versions w WHERE w.series = c.series AND w.period = c.period AND "
    "  w.field = 1 ORDER BY commit_id DESC LIMIT 1) AS target "
    " FROM (SELECT DISTINCT series, period FROM versions) c), "
    "want AS (SELECT series, period, value, target FROM latest WHERE value IS NOT NULL OR "
    "target IS NOT NULL) ",
    "WITH latest AS (SELECT series, period, "
    " (SELECT value FROM versions w WHERE w.bucket = c.bucket AND w.series = c.series AND "
    "  w.period = c.period AND w.field = 0 ORDER BY commit_id DESC LIMIT 1) AS value, "
    " (SELECT value FROM versions w WHERE w.bucket = c.bucket AND w.series = c.series AND "
    "  w.period = c.period AND w.field = 1 ORDER BY commit_id DESC LIMIT 1) AS target "
    " FROM (SELECT DISTINCT bucket, series, period FROM versions) c), "
    "want AS (SELECT series, period, value, target FROM latest WHERE value IS NOT NULL OR "
    "target IS NOT NULL) ",
};

static bool check_points(sqlite3 *db, bool repair, struct checker *c)
{
    static const char tail[] =
        "SELECT s.team, s.kpi, d.period, (SELECT period FROM indicators i WHERE i.id = s.kpi "
        "ORDER BY commit_id DESC LIMIT 1) FROM (SELECT * FROM (SELECT * FROM want EXCEPT SELECT "
        "series, period, value, target FROM points) UNION SELECT * FROM (SELECT series, period, "
        "value, target FROM points EXCEPT SELECT * FROM want)) d "
        "JOIN series s ON s.id = d.series GROUP BY d.series, d.period ORDER BY s.team, s.kpi, "
        "d.period";
    char sql[4096];
    snprintf(sql, sizeof sql, "%s%s", points_want_sql[db_bucketed(db)], tail);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        problem(c, "kpi.db: points unreadable: %s", sqlite3_errmsg(db));
        return false;
    }
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        enum kpi_period_kind kind = KPI_PERIOD_MONTH;
        kpi_period_kind_parse(text_at(st, 3), &kind);
        char label[KPI_LABEL_MAX];
        kpi_period_label(kind, sqlite3_column_int64(st, 2), label);
        if (n++ < 20)
            problem(c, "kpi.db: %s/%s %s: the current value differs from its versions%s",
                    text_at(st, 0), text_at(st, 1), label, repair ? " (rebuilt)" : "");
        else
            c->problems++;
    }
    sqlite3_finalize(st);
    if (n > 20)
        problem(c, "kpi.db: ... and %zu more current values that differ from their versions",
                n - 20);
    return n > 0;
}

static int repair_points(sqlite3 *db, struct kpi_error *err)
{
    bool f3 = db_bucketed(db);
    char sql[4096];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; DELETE FROM points; %s INSERT INTO points(%sseries, period, value, "
             "target) SELECT %sseries, period, value, target FROM want; INSERT OR IGNORE INTO "
             "rrd_pending SELECT id FROM series; COMMIT;",
             points_want_sql[f3], f3 ? "bucket, " : "", f3 ? "period >> 4, " : "");
    if (db_exec(db, sql, err) != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return KPI_ESYSTEM;
    }
    return 0;
}

/* Every RRD file of view against its series; with repair, rebuild those
 * that differ. */
static int check_rrds(const struct store *st, const struct store_view *view, bool repair,
                      struct checker *c, struct kpi_error *err)
{
    struct rrd_job *jobs = malloc((view->series_count + 1) * sizeof *jobs);
    if (jobs == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < view->series_count; i++) {
        const struct store_series *s = &view->series[i];
        struct rrd_job job = {
            .team_id = view->teams[s->team].id,
            .kpi_id = view->indicators[s->indicator].id,
            .kind = view->indicators[s->indicator].period,
            .points = s->points,
            .count = s->count,
            .rebuild = true,
        };
        char why[512];
        int rc = rrd_verify(st, &job, why, sizeof why);
        if (rc == 0)
            continue;
        problem(c, "series/%s/%s.rrd: %s%s", job.team_id, job.kpi_id, why,
                repair ? " (rebuilt)" : "");
        jobs[n++] = job;
    }
    int rc = 0;
    if (repair && n > 0)
        rc = rrd_run_jobs(st, jobs, n, NULL, err);
    /* on disk before the pending marks are cleared (store/sync.c) */
    if (repair && rc == 0 && (n > 0 || view->lag_count > 0))
        rc = store_sync_files(st->dir, err);
    free(jobs);
    return rc;
}

int store_check(struct store *st, bool repair, const struct store_check_sink *sink,
                size_t *problems, size_t *repaired, struct kpi_error *err)
{
    struct checker c = {.sink = sink};
    *problems = 0;
    *repaired = 0;
    int fd = -1;
    unsigned made = 0;
    int rc = 0;
    if (repair && (rc = store_lock_create(st, false, &fd, &made, err)) != 0)
        return rc;
    sqlite3 *db = NULL;
    struct store_view *view = NULL;
    if (!db_exists(st->dir)) {
        /* empty, or a ledger of before the database: its RRD files only */
        if (ledger_load(st->dir, &view, err) != 0) {
            problem(&c, "%s", err->message);
            goto done;
        }
    } else {
        if (db_open(st->dir, repair ? DB_WRITE : DB_READ, &db, err) != 0) {
            problem(&c, "%s", err->message);
            goto done;
        }
        if (!check_integrity(db, &c))
            goto done;
        if (db_check_format(db, err) != 0) {
            problem(&c, "%s", err->message);
            goto done;
        }
        check_chain(db, &c);
        size_t before = c.problems;
        bool points_bad = check_points(db, repair, &c);
        if (points_bad && repair) {
            if ((rc = repair_points(db, err)) != 0)
                goto done;
            pcache_remove(st->dir); /* it may hold the points as they were */
            *repaired += c.problems - before;
        }
        if (db_load_view(db, 0, &view, err) != 0) {
            problem(&c, "%s", err->message);
            goto done;
        }
    }
    size_t before = c.problems;
    rc = check_rrds(st, view, repair, &c, err);
    if (repair && rc == 0) {
        *repaired += c.problems - before;
        if (db != NULL)
            rc = db_clear_pending(db, err);
    }
done:
    store_view_free(view);
    sqlite3_close(db);
    if (fd >= 0)
        close(fd);
    *problems = c.problems;
    return rc;
}
