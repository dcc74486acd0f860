/*
 * commit.c — writing one commit into DIR/kpi.db: the catalog rows that
 * changed, one version per changed cell, the current points, the series
 * whose RRD files now lag, and the commit row with its place in the hash
 * chain. Everything in one SQLite transaction (BEGIN IMMEDIATE ... COMMIT),
 * synced once (WAL, synchronous=FULL): readers see all of it or none.
 *
 * The hash of a commit is the SHA-256 of a canonical text of its content
 * (hash.c), which includes the hash of the previous commit: a change made
 * to history behind kpi's back breaks the chain at that commit (kpi check).
 */
#include "store/txn_int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    Q_SERIES_FIND,
    Q_SERIES_ADD,
    Q_VERSION,
    Q_POINT_SET,
    Q_VERSIONS,
    Q_POINTS_SET,
    Q_POINT_DEL,
    Q_PENDING,
    Q_PENDINGS,
    Q_TEAM,
    Q_INDICATOR,
    Q_COUNT
};

static const char *const sql_of[Q_COUNT] = {
    [Q_SERIES_FIND] = "SELECT id FROM series WHERE team = ?1 AND kpi = ?2",
    [Q_SERIES_ADD] = "INSERT INTO series(team, kpi) VALUES (?1, ?2)",
    [Q_VERSION] = "INSERT INTO versions(bucket, series, period, field, commit_id, value) VALUES "
                  "(?6, ?1, ?2, ?3, ?4, ?5)",
    [Q_POINT_SET] = "INSERT OR REPLACE INTO points(bucket, series, period, value, target) VALUES "
                    "(?5, ?1, ?2, ?3, ?4)",
    [Q_VERSIONS] = NULL, /* multi_sql */
    [Q_POINTS_SET] = NULL,
    [Q_POINT_DEL] = "DELETE FROM points WHERE bucket = ?3 AND series = ?1 AND period = ?2",
    [Q_PENDING] = "INSERT OR IGNORE INTO rrd_pending(series) VALUES (?1)",
    [Q_PENDINGS] = NULL,
    [Q_TEAM] = "INSERT INTO teams(id, commit_id, name, parent) VALUES (?1, ?2, ?3, ?4)",
    [Q_INDICATOR] = "INSERT INTO indicators(id, commit_id, name, family, unit, direction, "
                    "period, aggregate, amber, red, weight) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                    "?8, ?9, ?10, ?11)",
};

/* Versions, current points and pending marks are written BATCH rows at a
 * time by one multi-row INSERT (Q_VERSIONS, Q_POINTS_SET, Q_PENDINGS; the
 * rest of a commit row by row): one statement step per BATCH rows instead of one per row, and
 * within a step each table's cursor stays where the previous row went, so
 * rows in key order (held and sorted: below) do not
 * descend each B-tree from its root — SQLite appends a key that follows
 * the last one of the table in place. A load of 1 M rows spent more in
 * stepping one-row statements (their set-up, halt and seeks) than in its
 * B-trees. The multi-row statements resolve a conflict by OR ROLLBACK (the
 * points' upsert by ON CONFLICT DO UPDATE): a statement that may stop half
 * way with its default ABORT needs a statement journal, into which SQLite
 * copies every page the statement changes (a temporary file: as many pages
 * as the commit dirties, 16 MB for a day of 2,000 series on 20 M points);
 * any failure rolls the whole commit back anyway. */
enum { BATCH = 100 };

/* Versions and points are held and sorted in key order (bucket, series,
 * period, field) before they are written, all of a commit's: a commit
 * makes its changes series by series, and the tables are keyed by time
 * bucket first (format 3, docs/ARCHITECTURE.md "The database"), so that
 * rows written as they come would each descend the B-tree from its root
 * (SQLite appends in place only after the last key of the table): a 1 M-row
 * load spent +1 s of CPU so, and as much when sorted in chunks (each
 * chunk's rows then go between the previous chunk's). Sorted whole, the
 * rows of new buckets are appends. Costs 40 bytes per changed cell and
 * table while the commit is written. */

/* Parameters of one row of a multi-row statement: versions (bucket, series,
 * period, field, value), points (bucket, series, period, value, target). */
enum { ROW_PARAMS = 5 };

struct row {
    int64_t sid, period;
    int field;
    double a, b; /* versions: a = the value; points: a, b = value, target */
};

struct batch {
    int many, one; /* Q_VERSIONS and Q_VERSION, ... */
    size_t n;
    struct row rows[BATCH];
    bool hold;        /* rows held and sorted before they are written */
    struct row *held; /* malloc'd, held_cap rows */
    size_t held_n, held_cap;
};

struct writer {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    struct batch versions, points, pending;
    uint64_t id;
    struct kpi_sha256 hash;
    size_t new_cells, corrected, series;
    const char **teams; /* the teams changed (borrowed ids), duplicates allowed */
    size_t team_count, team_cap;
};

/* The SQL of Q_VERSIONS (the commit id is ?1), Q_POINTS_SET or
 * Q_PENDINGS: BATCH rows. */
static int multi_sql(int q, struct kpi_buf *out)
{
    int rc = kpi_buf_puts(out, q == Q_VERSIONS ? "INSERT OR ROLLBACK INTO versions(bucket, "
                                                 "series, period, field, commit_id, value) VALUES "
                               : q == Q_POINTS_SET
                                   ? "INSERT OR ROLLBACK INTO points(bucket, series, period, "
                                     "value, target) VALUES "
                                   : "INSERT OR IGNORE INTO rrd_pending(series) VALUES ");
    for (int r = 0; rc == 0 && r < BATCH; r++) {
        const char *sep = r > 0 ? "," : "";
        int p = ROW_PARAMS * r + (q == Q_VERSIONS ? 2 : 1);
        rc = q == Q_VERSIONS     ? kpi_buf_printf(out, "%s(?%d,?%d,?%d,?%d,?1,?%d)", sep, p, p + 1,
                                                  p + 2, p + 3, p + 4)
             : q == Q_POINTS_SET ? kpi_buf_printf(out, "%s(?%d,?%d,?%d,?%d,?%d)", sep, p, p + 1,
                                                  p + 2, p + 3, p + 4)
                                 : kpi_buf_printf(out, "%s(?%d)", sep, r + 1);
    }
    if (rc == 0 && q == Q_POINTS_SET)
        rc = kpi_buf_puts(out, " ON CONFLICT(bucket, series, period) DO UPDATE SET value = "
                               "excluded.value, target = excluded.target");
    return rc;
}

static bool same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

static int step_done(struct writer *w, sqlite3_stmt *st, struct kpi_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_fail(err, w->db, "writing the commit");
    return 0;
}

static void bind_number(sqlite3_stmt *st, int col, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_double(st, col, v);
}

/* Bind row r of batch kind q (its multi-row statement) from parameter
 * `first` on: versions (bucket, series, period, field, value), points
 * (bucket, series, period, value, target), pending marks (series). */
static void bind_row(sqlite3_stmt *st, int q, int first, const struct row *r)
{
    if (q == Q_PENDINGS) {
        sqlite3_bind_int64(st, first, r->sid);
        return;
    }
    sqlite3_bind_int64(st, first, db_bucket(r->period));
    sqlite3_bind_int64(st, first + 1, r->sid);
    sqlite3_bind_int64(st, first + 2, r->period);
    if (q == Q_VERSIONS) {
        sqlite3_bind_int(st, first + 3, r->field);
        bind_number(st, first + 4, r->a);
    } else {
        bind_number(st, first + 3, r->a);
        bind_number(st, first + 4, r->b);
    }
}

/* Write the rows of batch b: a full batch by the multi-row statement, the
 * rest of a commit's rows one by one. */
static int batch_flush(struct writer *w, struct batch *b, struct kpi_error *err)
{
    size_t n = b->n;
    b->n = 0;
    if (n == BATCH) {
        sqlite3_stmt *many = w->q[b->many];
        if (b->many == Q_VERSIONS)
            sqlite3_bind_int64(many, 1, (sqlite3_int64)w->id);
        for (size_t r = 0; r < n; r++)
            bind_row(many, b->many,
                     b->many == Q_PENDINGS   ? (int)r + 1
                     : b->many == Q_VERSIONS ? ROW_PARAMS * (int)r + 2
                                             : ROW_PARAMS * (int)r + 1,
                     &b->rows[r]);
        return step_done(w, many, err);
    }
    sqlite3_stmt *one = w->q[b->one];
    for (size_t r = 0; r < n; r++) {
        if (b->one == Q_VERSION) { /* (?1 series, ?2 period, ?3 field, ?4 commit, ?5 value,
                                    * ?6 bucket) */
            sqlite3_bind_int64(one, 4, (sqlite3_int64)w->id);
            sqlite3_bind_int64(one, 1, b->rows[r].sid);
            sqlite3_bind_int64(one, 2, b->rows[r].period);
            sqlite3_bind_int(one, 3, b->rows[r].field);
            bind_number(one, 5, b->rows[r].a);
            sqlite3_bind_int64(one, 6, db_bucket(b->rows[r].period));
        } else if (b->one == Q_POINT_SET) { /* (?1 series, ?2 period, ?3, ?4, ?5 bucket) */
            sqlite3_bind_int64(one, 1, b->rows[r].sid);
            sqlite3_bind_int64(one, 2, b->rows[r].period);
            bind_number(one, 3, b->rows[r].a);
            bind_number(one, 4, b->rows[r].b);
            sqlite3_bind_int64(one, 5, db_bucket(b->rows[r].period));
        } else {
            bind_row(one, b->many, 1, &b->rows[r]);
        }
        if (step_done(w, one, err) != 0)
            return KPI_ESYSTEM;
    }
    return 0;
}

static int cmp_row(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    int64_t ka = db_bucket(a->period), kb = db_bucket(b->period);
    if (ka != kb)
        return ka < kb ? -1 : 1;
    if (a->sid != b->sid)
        return a->sid < b->sid ? -1 : 1;
    if (a->period != b->period)
        return a->period < b->period ? -1 : 1;
    return (a->field > b->field) - (a->field < b->field);
}

/* Sort the n rows r in key order: distributed by bucket (a commit's rows
 * span few buckets, each series' rows already by period), then each
 * bucket's rows sorted by series only when they are not in order already
 * (rows come series by series, new series in id order). tmp: room for n. */
static void sort_rows(struct row *r, size_t n, struct row *tmp)
{
    int64_t lo = db_bucket(r[0].period), hi = lo;
    for (size_t i = 1; i < n; i++) {
        int64_t k = db_bucket(r[i].period);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
    }
    uint64_t span = (uint64_t)(hi - lo) + 1;
    size_t *start = span <= n + 1024 ? calloc((size_t)span + 1, sizeof *start) : NULL;
    if (start == NULL) { /* buckets far apart (or out of memory): a plain sort */
        qsort(r, n, sizeof *r, cmp_row);
        return;
    }
    for (size_t i = 0; i < n; i++)
        start[db_bucket(r[i].period) - lo + 1]++;
    for (size_t k = 1; k <= span; k++)
        start[k] += start[k - 1];
    for (size_t i = 0; i < n; i++)
        tmp[start[db_bucket(r[i].period) - lo]++] = r[i];
    memcpy(r, tmp, n * sizeof *r);
    size_t from = 0;
    for (size_t k = 0; k < span; k++) { /* start[k]: the end of bucket k now */
        size_t to = start[k];
        for (size_t i = from + 1; i < to; i++)
            if (cmp_row(&r[i - 1], &r[i]) > 0) {
                qsort(r + from, to - from, sizeof *r, cmp_row);
                break;
            }
        from = to;
    }
    free(start);
}

/* Write the rows batch b holds, sorted in key order, BATCH at a time (the
 * last ones stay in b->rows for the final flush). Once, at the end. */
static int batch_drain(struct writer *w, struct batch *b, struct kpi_error *err)
{
    if (b->held_n > 1) {
        struct row *tmp = malloc(b->held_n * sizeof *tmp);
        if (tmp == NULL)
            qsort(b->held, b->held_n, sizeof *b->held, cmp_row);
        else
            sort_rows(b->held, b->held_n, tmp);
        free(tmp);
    }
    for (size_t i = 0; i < b->held_n; i++) {
        b->rows[b->n++] = b->held[i];
        if (b->n == BATCH && batch_flush(w, b, err) != 0)
            return KPI_ESYSTEM;
    }
    free(b->held);
    b->held = NULL;
    b->held_n = b->held_cap = 0;
    return 0;
}

/* Add a row to batch b: held (batch_drain writes them), or written when
 * the batch is full. */
static int batch_add(struct writer *w, struct batch *b, struct row r, struct kpi_error *err)
{
    if (b->hold) {
        if (b->held_n == b->held_cap) {
            size_t cap = b->held_cap < 1024 ? 1024 : b->held_cap * 2;
            struct row *g = realloc(b->held, cap * sizeof *g);
            if (g == NULL)
                return kpi_fail(err, KPI_ESYSTEM, "out of memory");
            b->held = g;
            b->held_cap = cap;
        }
        b->held[b->held_n++] = r;
        return 0;
    }
    b->rows[b->n++] = r;
    return b->n == BATCH ? batch_flush(w, b, err) : 0;
}

/* The id of series (team, kpi), created when new. */
static int series_id(struct writer *w, const char *team, const char *kpi, sqlite3_int64 *id,
                     struct kpi_error *err)
{
    sqlite3_stmt *f = w->q[Q_SERIES_FIND];
    sqlite3_bind_text(f, 1, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(f, 2, kpi, -1, SQLITE_STATIC);
    int rc = sqlite3_step(f);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(f, 0);
        sqlite3_reset(f);
        return 0;
    }
    sqlite3_reset(f);
    if (rc != SQLITE_DONE)
        return db_fail(err, w->db, "reading series");
    sqlite3_stmt *a = w->q[Q_SERIES_ADD];
    sqlite3_bind_text(a, 1, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(a, 2, kpi, -1, SQLITE_STATIC);
    if (step_done(w, a, err) != 0)
        return KPI_ESYSTEM;
    *id = sqlite3_last_insert_rowid(w->db);
    return 0;
}

static int note_team(struct writer *w, const char *team)
{
    if (w->team_count > 0 && strcmp(w->teams[w->team_count - 1], team) == 0)
        return 0;
    if (w->team_count == w->team_cap) {
        size_t cap = w->team_cap < 16 ? 16 : w->team_cap * 2;
        const char **t = realloc(w->teams, cap * sizeof *t);
        if (t == NULL)
            return KPI_ESYSTEM;
        w->teams = t;
        w->team_cap = cap;
    }
    w->teams[w->team_count++] = team;
    return 0;
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The JSON array of the distinct teams changed, sorted. */
static int teams_json(struct writer *w, struct kpi_buf *out)
{
    if (w->team_count > 0)
        qsort(w->teams, w->team_count, sizeof *w->teams, cmp_text);
    int rc = kpi_buf_puts(out, "[");
    for (size_t i = 0; rc == 0 && i < w->team_count; i++)
        if (i == 0 || strcmp(w->teams[i - 1], w->teams[i]) != 0)
            rc = kpi_buf_printf(out, "%s\"%s\"", out->len > 1 ? "," : "", w->teams[i]);
    return rc == 0 ? kpi_buf_puts(out, "]") : rc;
}

/* One field of one cell changed: its version, and its part of the hash. */
static int put_version(struct writer *w, sqlite3_int64 sid, const char *team, const char *kpi,
                       int64_t period, int field, double old, double v, struct kpi_error *err)
{
    if (batch_add(w, &w->versions, (struct row){sid, period, field, v, NAN}, err) != 0)
        return KPI_ESYSTEM;
    commit_hash_version(&w->hash, team, kpi, period, field, v);
    if (isnan(old))
        w->new_cells++;
    else
        w->corrected++;
    return 0;
}

/* The cells of one series that differ between old and new (both sorted by
 * period): versions, current points, and the series' RRD marked pending. */
static int write_series(struct writer *w, const char *team, const char *kpi, int64_t known_sid,
                        const struct kpi_point *old, size_t on, const struct kpi_point *cur,
                        size_t cn, struct kpi_error *err)
{
    sqlite3_int64 sid = known_sid;
    bool any = false;
    size_t i = 0, k = 0;
    while (i < on || k < cn) {
        int64_t period =
            i < on && (k >= cn || old[i].period <= cur[k].period) ? old[i].period : cur[k].period;
        struct kpi_point a = {period, NAN, NAN}, b = {period, NAN, NAN};
        if (i < on && old[i].period == period)
            a = old[i++];
        if (k < cn && cur[k].period == period)
            b = cur[k++];
        bool dv = !same_bits(a.value, b.value), dt = !same_bits(a.target, b.target);
        if (!dv && !dt)
            continue;
        if (!any) {
            if ((sid == 0 && series_id(w, team, kpi, &sid, err) != 0) || note_team(w, team) != 0)
                return KPI_ESYSTEM;
            any = true;
        }
        if ((dv && put_version(w, sid, team, kpi, period, 0, a.value, b.value, err) != 0) ||
            (dt && put_version(w, sid, team, kpi, period, 1, a.target, b.target, err) != 0))
            return KPI_ESYSTEM;
        /* a cell is written once per commit: a removal need not wait for
         * the batched upserts */
        int rc;
        if (isnan(b.value) && isnan(b.target)) {
            sqlite3_stmt *q = w->q[Q_POINT_DEL];
            sqlite3_bind_int64(q, 1, sid);
            sqlite3_bind_int64(q, 2, period);
            sqlite3_bind_int64(q, 3, db_bucket(period));
            rc = step_done(w, q, err);
        } else {
            rc = batch_add(w, &w->points, (struct row){sid, period, 0, b.value, b.target}, err);
        }
        if (rc != 0)
            return KPI_ESYSTEM;
    }
    if (!any)
        return 0;
    w->series++;
    return batch_add(w, &w->pending, (struct row){sid, 0, 0, NAN, NAN}, err);
}

static int write_team(struct writer *w, const struct kpi_team *t, struct kpi_error *err)
{
    sqlite3_stmt *q = w->q[Q_TEAM];
    sqlite3_bind_text(q, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)w->id);
    sqlite3_bind_text(q, 3, t->name, -1, SQLITE_STATIC);
    if (t->parent[0] != '\0')
        sqlite3_bind_text(q, 4, t->parent, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 4);
    commit_hash_team(&w->hash, t);
    return step_done(w, q, err) != 0 || note_team(w, t->id) != 0 ? KPI_ESYSTEM : 0;
}

static int write_indicator(struct writer *w, const struct kpi_indicator *ind, struct kpi_error *err)
{
    sqlite3_stmt *q = w->q[Q_INDICATOR];
    sqlite3_bind_text(q, 1, ind->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)w->id);
    sqlite3_bind_text(q, 3, ind->name, -1, SQLITE_STATIC);
    if (ind->family == KPI_FAMILY_NONE)
        sqlite3_bind_null(q, 4);
    else
        sqlite3_bind_text(q, 4, kpi_family_name(ind->family), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, ind->unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, kpi_direction_name(ind->direction), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, kpi_period_kind_name(ind->period), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, kpi_aggregate_name(ind->aggregate), -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 9, ind->amber);
    sqlite3_bind_double(q, 10, ind->red);
    sqlite3_bind_double(q, 11, ind->weight);
    commit_hash_indicator(&w->hash, ind);
    return step_done(w, q, err);
}

/* "YYYY-MM-DDThh:mm:ssZ" of now, never before the previous commit's time
 * (a clock set back must not reorder history for --known-at). */
static void commit_time(const char *prev, char out[COMMIT_TIME_LEN + 1])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, COMMIT_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (prev != NULL && strlen(prev) == COMMIT_TIME_LEN && strcmp(prev, out) > 0)
        memcpy(out, prev, COMMIT_TIME_LEN + 1);
}

/* The previous commit's id, time and hash. */
static int previous(sqlite3 *db, uint64_t *id, char *time_buf, char *hash, struct kpi_error *err)
{
    *id = 0;
    time_buf[0] = '\0';
    memset(hash, '0', 64);
    hash[64] = '\0';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, time, hash FROM commits ORDER BY id DESC LIMIT 1", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading commits");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = (uint64_t)sqlite3_column_int64(st, 0);
        snprintf(time_buf, COMMIT_TIME_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(err, db, "reading commits");
    return 0;
}

static void writer_close(struct writer *w)
{
    for (size_t i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(w->q[i]);
    free(w->teams);
    free(w->versions.held);
    free(w->points.held);
}

/* Write one commit of the changes between the catalogs and series given,
 * inside the caller's transaction. */
int commit_write(sqlite3 *db, const struct commit_input *in, uint64_t *id_out,
                 struct kpi_error *err)
{
    struct writer w = {.db = db,
                       .versions = {.many = Q_VERSIONS, .one = Q_VERSION, .hold = true},
                       .points = {.many = Q_POINTS_SET, .one = Q_POINT_SET, .hold = true},
                       .pending = {.many = Q_PENDINGS, .one = Q_PENDING}};
    struct kpi_buf teams = {0};
    int rc = 0;
    for (size_t i = 0; i < Q_COUNT; i++) {
        struct kpi_buf sql = {0};
        if (sql_of[i] == NULL && multi_sql((int)i, &sql) != 0) {
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            goto done;
        }
        int prc = sqlite3_prepare_v3(db, sql_of[i] != NULL ? sql_of[i] : sql.data, -1,
                                     SQLITE_PREPARE_PERSISTENT, &w.q[i], NULL);
        kpi_buf_free(&sql);
        if (prc != SQLITE_OK) {
            rc = db_fail(err, db, "preparing the commit");
            goto done;
        }
    }
    uint64_t prev_id;
    char prev_time[COMMIT_TIME_LEN + 1], prev_hash[65];
    if ((rc = previous(db, &prev_id, prev_time, prev_hash, err)) != 0)
        goto done;
    w.id = prev_id + 1;
    /* The body (catalog rows, then versions) is hashed first into its own
     * digest; the commit's hash covers the header and that digest. */
    kpi_sha256_init(&w.hash);
    for (size_t i = 0; i < in->team_count; i++)
        if (in->team_changed[i] && (rc = write_team(&w, &in->teams[i], err)) != 0)
            goto done;
    for (size_t i = 0; i < in->indicator_count; i++)
        if (in->indicator_changed[i] && (rc = write_indicator(&w, &in->indicators[i], err)) != 0)
            goto done;
    for (size_t i = 0; i < in->series_count; i++) {
        const struct commit_series *s = &in->series[i];
        if ((rc = write_series(&w, s->team, s->kpi, s->sid, s->old, s->old_count, s->cur,
                               s->cur_count, err)) != 0)
            goto done;
    }
    if ((rc = batch_drain(&w, &w.versions, err)) != 0 ||
        (rc = batch_flush(&w, &w.versions, err)) != 0 ||
        (rc = batch_drain(&w, &w.points, err)) != 0 ||
        (rc = batch_flush(&w, &w.points, err)) != 0 || (rc = batch_flush(&w, &w.pending, err)) != 0)
        goto done;
    struct notes_counts nc;
    if ((rc = notes_write(db, w.id, in->notes, in->note_count, &w.hash, &nc, err)) != 0)
        goto done;
    for (size_t i = 0; i < in->note_count; i++)
        if (note_team(&w, in->notes[i].team) != 0) {
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            goto done;
        }
    w.new_cells += nc.new_cells;
    w.corrected += nc.corrected;
    w.series += nc.series;
    if (teams_json(&w, &teams) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    char body[65];
    unsigned char digest_bytes[KPI_SHA256_SIZE];
    kpi_sha256_final(&w.hash, digest_bytes);
    kpi_sha256_hex(digest_bytes, body);
    struct commit_header h = {
        .id = w.id,
        .author = in->author,
        .kind = w.series == 0 && strcmp(in->kind, "import") == 0 ? "catalog" : in->kind,
        .source = in->source,
        .sha256 = in->sha256,
        .rows = in->rows,
        .new_cells = w.new_cells,
        .corrected = w.corrected,
        .series = w.series,
        .teams = teams.data,
        .prev_hash = prev_hash,
        .body = body,
    };
    commit_time(prev_time, h.time);
    char hash[65];
    commit_hash_header(&h, hash);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO commits(id, time, author, kind, source, sha256, rows, "
                           "new, corrected, series, teams, prev_hash, hash) VALUES (?1, ?2, ?3, "
                           "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(err, db, "writing the commit");
        goto done;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h.id);
    sqlite3_bind_text(st, 2, h.time, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h.author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h.kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, h.source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, h.sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)h.rows);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)h.new_cells);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)h.corrected);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)h.series);
    sqlite3_bind_text(st, 11, h.teams, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, h.prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, hash, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        rc = db_fail(err, db, "writing the commit");
        goto done;
    }
    if (id_out != NULL)
        *id_out = w.id;
done:
    kpi_buf_free(&teams);
    writer_close(&w);
    return rc;
}
