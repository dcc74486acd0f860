/*
 * history.c — reading the history of a data directory (SPEC §10): the log
 * of commits, what a --known-at text names, every version of a series'
 * cells, and the restated observations. Each question is one read
 * transaction on its own connection (a whole commit, whatever a writer
 * does meanwhile).
 */
#include "store/store_int.h"

#include <ctype.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A read connection, or NULL (and 0) when the directory has no database:
 * no commit yet. */
static int open_read(struct store *st, sqlite3 **db, struct kpi_error *err)
{
    *db = NULL;
    if (!db_exists(st->dir))
        return 0;
    int rc = db_open(st->dir, DB_READ, db, err);
    if (rc == 0 && (rc = db_check_format(*db, err)) != 0) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

static char *dup_text(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return strdup(t != NULL ? t : "");
}

/* How read_rows turns the rows of a statement into an array. */
struct row_reader {
    size_t size;      /* of one element */
    const char *what; /* "reading commits": what a failure message says */
    /* Fill item (zeroed) from the current row; false when out of memory
     * (what it did allocate is freed by release). */
    bool (*row)(sqlite3_stmt *s, void *item);
    void (*release)(void *items, size_t count); /* the array's own free */
};

/* Step s to its end, one array element per row. On success *out (malloc'd,
 * NULL when there is no row) holds *count elements; on failure nothing is
 * kept and err says why. s is finalized and db closed in every case. */
static int read_rows(sqlite3 *db, sqlite3_stmt *s, const struct row_reader *r, void **out,
                     size_t *count, struct kpi_error *err)
{
    size_t cap = 0, n = 0;
    char *items = NULL;
    int rc = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap < 64 ? 64 : cap * 2;
            char *g = realloc(items, cap * r->size);
            if (g == NULL) {
                rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            items = g;
        }
        void *item = items + n++ * r->size;
        memset(item, 0, r->size);
        if (!r->row(s, item)) {
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(err, db, r->what);
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (rc != 0) {
        r->release(items, n);
        return rc;
    }
    *out = (void *)items;
    *count = n;
    return 0;
}

/* A parameter of a statement: text (NULL binds NULL) or a number. */
struct param {
    const char *text;
    int64_t number;
    bool is_number;
};

#define PARAM_TEXT(t) ((struct param){.text = (t)})
#define PARAM_NUMBER(n) ((struct param){.number = (n), .is_number = true})

/* Run sql (by the database's format: sql[0] for format 1 or 2, sql[1] for
 * format 3, db_bucketed) with params bound to ?1, ?2, ... on a read
 * connection of st and read its rows as r says (read_rows). No database: no
 * row. */
static int select_rows(struct store *st, const char *const sql[2], const struct param *params,
                       size_t nparams, const struct row_reader *r, void **out, size_t *count,
                       struct kpi_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3 *db;
    int rc = open_read(st, &db, err);
    if (rc != 0 || db == NULL)
        return rc;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql[db_bucketed(db)], -1, &s, NULL) != SQLITE_OK) {
        rc = db_fail(err, db, r->what);
        sqlite3_close(db);
        return rc;
    }
    for (size_t i = 0; i < nparams; i++) {
        if (params[i].is_number)
            sqlite3_bind_int64(s, (int)i + 1, (sqlite3_int64)params[i].number);
        else if (params[i].text != NULL)
            sqlite3_bind_text(s, (int)i + 1, params[i].text, -1, SQLITE_STATIC);
    }
    return read_rows(db, s, r, out, count, err);
}

/* ------------------------------------------------------------------ log */

void store_commits_free(struct store_commit *c, size_t count)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(c[i].author);
        free(c[i].kind);
        free(c[i].source);
        free(c[i].sha256);
        free(c[i].teams);
    }
    free(c);
}

static bool commit_row(sqlite3_stmt *s, void *item)
{
    struct store_commit *x = item;
    x->id = (uint64_t)sqlite3_column_int64(s, 0);
    snprintf(x->time, sizeof x->time, "%s", (const char *)sqlite3_column_text(s, 1));
    x->author = dup_text(s, 2);
    x->kind = dup_text(s, 3);
    x->source = dup_text(s, 4);
    x->sha256 = dup_text(s, 5);
    x->rows = (uint64_t)sqlite3_column_int64(s, 6);
    x->new_cells = (uint64_t)sqlite3_column_int64(s, 7);
    x->corrected = (uint64_t)sqlite3_column_int64(s, 8);
    x->series = (uint64_t)sqlite3_column_int64(s, 9);
    x->teams = dup_text(s, 10);
    return x->author != NULL && x->kind != NULL && x->source != NULL && x->sha256 != NULL &&
           x->teams != NULL;
}

static void release_commits(void *items, size_t count)
{
    store_commits_free(items, count);
}

int store_log(struct store *st, const struct store_log_query *q, struct store_commit **out,
              size_t *count, struct kpi_error *err)
{
    /* team and kpi keep the commits that changed a cell of them, or (alone)
     * their catalog entry */
    static const char sql[] =
        "SELECT id, time, author, kind, source, sha256, rows, new, corrected, series, teams "
        "FROM commits c WHERE "
        "(?1 IS NULL AND ?2 IS NULL) OR "
        "EXISTS (SELECT 1 FROM versions v JOIN series s ON s.id = v.series WHERE v.commit_id = "
        "c.id AND (?1 IS NULL OR s.team = ?1) AND (?2 IS NULL OR s.kpi = ?2)) OR "
        "EXISTS (SELECT 1 FROM notes n JOIN series s ON s.id = n.series WHERE n.commit_id = "
        "c.id AND (?1 IS NULL OR s.team = ?1) AND (?2 IS NULL OR s.kpi = ?2)) OR "
        "(?2 IS NULL AND EXISTS (SELECT 1 FROM teams t WHERE t.commit_id = c.id AND t.id = ?1)) "
        "OR (?1 IS NULL AND EXISTS (SELECT 1 FROM indicators i WHERE i.commit_id = c.id AND "
        "i.id = ?2)) "
        "ORDER BY id DESC LIMIT ?3";
    const struct param params[] = {
        PARAM_TEXT(q != NULL ? q->team : NULL),
        PARAM_TEXT(q != NULL ? q->kpi : NULL),
        PARAM_NUMBER(q != NULL && q->limit > 0 ? (int64_t)q->limit : -1),
    };
    static const struct row_reader reader = {sizeof(struct store_commit), "reading commits",
                                             commit_row, release_commits};
    return select_rows(st, (const char *const[2]){sql, sql}, params, 3, &reader, (void **)out,
                       count, err);
}

/* ------------------------------------------------------------- known at */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DD" (the end of that UTC day) or "YYYY-MM-DDThh:mm:ss[Z]" into
 * the canonical "YYYY-MM-DDThh:mm:ssZ" of commit times. */
static bool canonical_time(const char *text, char out[COMMIT_TIME_LEN + 1])
{
    size_t len = strlen(text);
    if (len != 10 && len != 19 && len != 20)
        return false;
    if (!digits(text, 4) || text[4] != '-' || !digits(text + 5, 2) || text[7] != '-' ||
        !digits(text + 8, 2) || !kpi_ymd_valid(num(text, 4), num(text + 5, 2), num(text + 8, 2)))
        return false;
    if (len == 10) {
        snprintf(out, COMMIT_TIME_LEN + 1, "%.10sT23:59:59Z", text);
        return true;
    }
    if (text[10] != 'T' || !digits(text + 11, 2) || text[13] != ':' || !digits(text + 14, 2) ||
        text[16] != ':' || !digits(text + 17, 2) || (len == 20 && text[19] != 'Z') ||
        num(text + 11, 2) > 23 || num(text + 14, 2) > 59 || num(text + 17, 2) > 59)
        return false;
    snprintf(out, COMMIT_TIME_LEN + 1, "%.19sZ", text);
    return true;
}

static bool id_row(sqlite3_stmt *s, void *item)
{
    *(uint64_t *)item = (uint64_t)sqlite3_column_int64(s, 0); /* NULL: 0 */
    return true;
}

static void release_ids(void *items, size_t count)
{
    (void)count;
    free(items);
}

int store_resolve_commit(struct store *st, const char *text, uint64_t *commit,
                         struct kpi_error *err)
{
    *commit = 0;
    size_t len = strlen(text);
    bool number = len > 0 && len <= 18 && digits(text, len);
    char when[COMMIT_TIME_LEN + 1];
    if (!number && !canonical_time(text, when))
        return kpi_fail(err, KPI_EUSAGE,
                        "invalid commit \"%s\" (expected a commit number, YYYY-MM-DD or "
                        "YYYY-MM-DDThh:mm:ssZ)",
                        text);
    const char *sql = number ? "SELECT id FROM commits WHERE id = ?1"
                             : "SELECT max(id) FROM commits WHERE time <= ?1";
    const struct param param =
        number ? PARAM_NUMBER((int64_t)strtoull(text, NULL, 10)) : PARAM_TEXT(when);
    static const struct row_reader reader = {sizeof(uint64_t), "reading commits", id_row,
                                             release_ids};
    uint64_t *ids = NULL, found = 0;
    size_t n = 0;
    int rc = select_rows(st, (const char *const[2]){sql, sql}, &param, 1, &reader, (void **)&ids,
                         &n, err);
    if (rc != 0)
        return rc;
    if (n > 0)
        found = ids[0];
    free(ids);
    if (found == 0)
        return number ? kpi_fail(err, KPI_EUSAGE, "unknown commit %s", text)
                      : kpi_fail(err, KPI_EUSAGE, "no commit at or before %s", when);
    *commit = found;
    return 0;
}

/* -------------------------------------------------------------- history */

void store_versions_free(struct store_version *v, size_t count)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(v[i].author);
        free(v[i].text);
    }
    free(v);
}

static bool version_row(sqlite3_stmt *s, void *item)
{
    struct store_version *x = item;
    x->period = sqlite3_column_int64(s, 0);
    int field = sqlite3_column_int(s, 1);
    x->field = field == 0 ? STORE_VALUE : field == 1 ? STORE_TARGET : STORE_NOTE;
    x->value = db_column_number(s, 2);
    x->commit = (uint64_t)sqlite3_column_int64(s, 3);
    snprintf(x->time, sizeof x->time, "%s", (const char *)sqlite3_column_text(s, 4));
    const char *text = (const char *)sqlite3_column_text(s, 6);
    if (text != NULL && (x->text = strdup(text)) == NULL)
        return false;
    return (x->author = dup_text(s, 5)) != NULL;
}

static void release_versions(void *items, size_t count)
{
    store_versions_free(items, count);
}

int store_history(struct store *st, const char *team, const char *kpi, const int64_t *period,
                  struct store_version **out, size_t *count, struct kpi_error *err)
{
    /* notes are field 2 (STORE_NOTE), after the value and target; each
     * side of the union a range of its primary key (the series id found
     * first: a join over the union made SQLite scan every version); in
     * format 3 a range per bucket (the period's only when one is given) */
    static const char *const sql[2] = {
        "SELECT v.period, v.field, v.value, v.commit_id, c.time, c.author, v.text FROM (SELECT "
        "period, field, value, commit_id, NULL AS text FROM versions WHERE series = (SELECT id "
        "FROM series WHERE team = ?1 AND kpi = ?2) AND (?3 IS NULL OR period = ?3) UNION ALL "
        "SELECT period, 2, NULL, commit_id, text FROM notes WHERE series = (SELECT id FROM "
        "series WHERE team = ?1 AND kpi = ?2) AND (?3 IS NULL OR period = ?3)) v JOIN commits c "
        "ON c.id = v.commit_id ORDER BY v.commit_id, v.period, v.field",
        DB_BUCKETS(
            "versions", " WHERE bucket >= coalesce(?3 >> 4, -9223372036854775807)",
            " AND b.x < coalesce(?3 >> 4, 9223372036854775807)") "SELECT v.period, "
                                                                 "v.field, v.value, v.commit_id, "
                                                                 "c.time, c.author, v.text FROM "
                                                                 "(SELECT w.period, w.field, "
                                                                 "w.value, w.commit_id, NULL AS "
                                                                 "text FROM b JOIN versions w ON "
                                                                 "w.bucket = b.x AND "
                                                                 "w.series = (SELECT id FROM "
                                                                 "series WHERE team = ?1 AND kpi = "
                                                                 "?2) WHERE ?3 IS NULL OR "
                                                                 "w.period = ?3 UNION ALL SELECT "
                                                                 "period, 2, NULL, commit_id, text "
                                                                 "FROM notes WHERE "
                                                                 "series = (SELECT id FROM series "
                                                                 "WHERE team = ?1 AND kpi = ?2) "
                                                                 "AND (?3 IS NULL OR "
                                                                 "period = ?3)) v JOIN commits c "
                                                                 "ON c.id = v.commit_id ORDER BY "
                                                                 "v.commit_id, v.period, "
                                                                 "v.field",
    };
    const struct param params[] = {
        PARAM_TEXT(team),
        PARAM_TEXT(kpi),
        period != NULL ? PARAM_NUMBER(*period) : PARAM_TEXT(NULL),
    };
    static const struct row_reader reader = {sizeof(struct store_version), "reading versions",
                                             version_row, release_versions};
    return select_rows(st, sql, params, 3, &reader, (void **)out, count, err);
}

/* --------------------------------------------------------- restatements */

void store_restatements_free(struct store_restatement *r, size_t count)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(r[i].team);
        free(r[i].kpi);
    }
    free(r);
}

static int cmp_restatement(const void *a, const void *b)
{
    const struct store_restatement *x = a, *y = b;
    /* |change| descending; unknown changes last; then a stable order */
    double cx = fabs(x->change), cy = fabs(y->change);
    bool nx = isnan(cx), ny = isnan(cy);
    if (nx != ny)
        return nx ? 1 : -1;
    if (!nx && cx != cy)
        return cx > cy ? -1 : 1;
    int c = strcmp(x->team, y->team);
    if (c == 0)
        c = strcmp(x->kpi, y->kpi);
    if (c == 0)
        c = (x->period > y->period) - (x->period < y->period);
    return c;
}

static bool restatement_row(sqlite3_stmt *s, void *item)
{
    struct store_restatement *x = item;
    x->team = dup_text(s, 0);
    x->kpi = dup_text(s, 1);
    x->period = sqlite3_column_int64(s, 2);
    x->first_value = db_column_number(s, 3);
    x->first_commit = (uint64_t)sqlite3_column_int64(s, 4);
    x->value = db_column_number(s, 5);
    x->commit = (uint64_t)sqlite3_column_int64(s, 6);
    x->change = isnan(x->first_value) || isnan(x->value) || x->first_value == 0
                    ? NAN
                    : kpi_round_total((x->value - x->first_value) / fabs(x->first_value));
    return x->team != NULL && x->kpi != NULL;
}

static void release_restatements(void *items, size_t count)
{
    store_restatements_free(items, count);
}

int store_restatements(struct store *st, uint64_t since, struct store_restatement **out,
                       size_t *count, struct kpi_error *err)
{
    /* observations (field 0) with more than one version, whose latest
     * version is a commit after since: one pass over versions in key order
     * (the bucket first in format 3; sorted here after) */
    static const char *const sql[2] = {
        "SELECT s.team, s.kpi, c.period, f.value, c.first, l.value, c.last FROM (SELECT series, "
        "period, min(commit_id) AS first, max(commit_id) AS last, count(*) AS n FROM versions "
        "WHERE field = 0 GROUP BY series, period) c JOIN series s ON s.id = c.series JOIN "
        "versions f ON f.series = c.series AND f.period = c.period AND f.field = 0 AND "
        "f.commit_id = c.first JOIN versions l ON l.series = c.series AND l.period = c.period "
        "AND l.field = 0 AND l.commit_id = c.last WHERE c.n > 1 AND c.last > ?1",
        "SELECT s.team, s.kpi, c.period, f.value, c.first, l.value, c.last FROM (SELECT bucket, "
        "series, period, min(commit_id) AS first, max(commit_id) AS last, count(*) AS n FROM "
        "versions WHERE field = 0 GROUP BY bucket, series, period) c JOIN series s ON s.id = "
        "c.series JOIN versions f ON f.bucket = c.bucket AND f.series = c.series AND f.period = "
        "c.period AND f.field = 0 AND f.commit_id = c.first JOIN versions l ON l.bucket = "
        "c.bucket AND l.series = c.series AND l.period = c.period AND l.field = 0 AND "
        "l.commit_id = c.last WHERE c.n > 1 AND c.last > ?1",
    };
    const struct param param = PARAM_NUMBER((int64_t)since);
    static const struct row_reader reader = {sizeof(struct store_restatement), "reading versions",
                                             restatement_row, release_restatements};
    int rc = select_rows(st, sql, &param, 1, &reader, (void **)out, count, err);
    if (rc != 0)
        return rc;
    if (*count > 1)
        qsort(*out, *count, sizeof **out, cmp_restatement);
    return 0;
}
