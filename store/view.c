/*
 * view.c — read-only snapshots of one ledger generation (see ledger.c for
 * the file and how it is loaded). Lookups are binary searches over the
 * sorted arrays; resolving what a user typed scans names once.
 */
#include "store/store_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int store_view_open_at(struct store *st, uint64_t commit, struct store_view **out,
                       struct kpi_error *err)
{
    return store_view_open_scoped(st, commit, NULL, out, err);
}

int store_view_open_scoped(struct store *st, uint64_t commit, const struct store_scope *scope,
                           struct store_view **out, struct kpi_error *err)
{
    *out = NULL;
    if (!db_exists(st->dir)) {
        /* an empty directory, or one of the ledger store not converted yet */
        if (commit != 0)
            return kpi_fail(err, KPI_EUSAGE, "unknown commit %llu", (unsigned long long)commit);
        return ledger_load(st->dir, out, err);
    }
    sqlite3 *db = NULL;
    int rc = db_open(st->dir, DB_READ, &db, err);
    if (rc == 0)
        rc = db_check_format(db, err);
    /* the latest data of the whole directory: through DIR/points.cache */
    if (rc == 0)
        rc = commit == 0 && scope == NULL ? pcache_load_latest(st, db, false, out, err)
                                          : db_load_view_scoped(db, commit, scope, out, err);
    sqlite3_close(db);
    if (rc == 0 && commit > (*out)->last_commit) {
        store_view_free(*out);
        *out = NULL;
        return kpi_fail(err, KPI_EUSAGE, "unknown commit %llu", (unsigned long long)commit);
    }
    return rc;
}

int store_view_open(struct store *st, struct store_view **out, struct kpi_error *err)
{
    return store_view_open_at(st, 0, out, err);
}

/* A read connection to DIR/kpi.db of a known format. */
static int open_db(struct store *st, sqlite3 **db, struct kpi_error *err)
{
    int rc = db_open(st->dir, DB_READ, db, err);
    if (rc == 0 && (rc = db_check_format(*db, err)) != 0) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

int store_view_open_shared(struct store *st, struct store_view **out, struct kpi_error *err)
{
    *out = NULL;
    if (!db_exists(st->dir))
        return ledger_load(st->dir, out, err);
    sqlite3 *db = NULL;
    int rc = open_db(st, &db, err);
    if (rc == 0)
        rc = pcache_load_latest(st, db, !st->read_only, out, err);
    sqlite3_close(db);
    return rc;
}

int store_view_update(struct store *st, const struct store_view *old, struct store_view **out,
                      struct kpi_error *err)
{
    *out = NULL;
    if (old == NULL || !old->from_db || old->series_buf == NULL ||
        old->generation != old->last_commit || !db_exists(st->dir))
        return store_view_open_shared(st, out, err);
    sqlite3 *db = NULL;
    int rc = open_db(st, &db, err);
    if (rc == 0)
        rc = db_update_view(db, old, out, NULL, err);
    sqlite3_close(db);
    return rc;
}

int store_view_open_at_from(struct store *st, const struct store_view *current, uint64_t commit,
                            struct store_view **out, struct kpi_error *err)
{
    *out = NULL;
    if (current == NULL || !current->from_db || current->series_buf == NULL ||
        current->series_id == NULL || commit == 0 || commit >= current->generation ||
        !db_exists(st->dir))
        return store_view_open_at(st, commit, out, err);
    sqlite3 *db = NULL;
    int rc = open_db(st, &db, err);
    if (rc == 0)
        rc = db_view_at_from(db, current, commit, out, err);
    sqlite3_close(db);
    return rc;
}

void store_view_free(struct store_view *view)
{
    if (view == NULL)
        return;
    free(view->buf);
    free(view->points);
    notes_free(view->notes);
    free(view->teams);
    free(view->team_parent);
    free(view->indicators);
    if (view->series_buf != NULL)
        for (size_t i = 0; i < view->series_count; i++)
            series_points_release(view->series_buf[i]);
    free(view->series_buf);
    free(view->series_id);
    free(view->series);
    free(view->lag);
    free(view);
}

uint64_t store_view_generation(const struct store_view *view)
{
    return view->generation;
}

bool store_view_is_latest(const struct store_view *view)
{
    return !view->from_db || view->generation == view->last_commit;
}

/* The latest commit and whether RRD files are pending, on the store's own
 * connection (opened on first use, once the database exists). Called with
 * poll_mu held. Returns false when the database cannot be asked. */
static bool poll_state(struct store *st, uint64_t *last, bool *pending)
{
    if (st->poll_db == NULL) {
        if (!db_exists(st->dir) || db_open(st->dir, DB_READ, &st->poll_db, NULL) != 0)
            return false;
        if (sqlite3_prepare_v3(st->poll_db,
                               "SELECT (SELECT coalesce(max(id), 0) FROM commits), EXISTS "
                               "(SELECT 1 FROM rrd_pending)",
                               -1, SQLITE_PREPARE_PERSISTENT, &st->poll_stmt, NULL) != SQLITE_OK) {
            sqlite3_close(st->poll_db);
            st->poll_db = NULL;
            return false;
        }
    }
    bool ok = sqlite3_step(st->poll_stmt) == SQLITE_ROW;
    if (ok) {
        *last = (uint64_t)sqlite3_column_int64(st->poll_stmt, 0);
        *pending = sqlite3_column_int(st->poll_stmt, 1) != 0;
    }
    sqlite3_reset(st->poll_stmt);
    return ok;
}

bool store_changed(struct store *st, const struct store_view *view)
{
    uint64_t last = 0;
    bool pending = false;
    pthread_mutex_lock(&st->poll_mu);
    bool ok = poll_state(st, &last, &pending);
    pthread_mutex_unlock(&st->poll_mu);
    if (!ok) /* no database (yet): nothing, or a ledger that only a commit
                converting it to a database changes */
        return view->from_db;
    if (!view->from_db)
        return true; /* the directory was converted */
    /* a view with pending RRD files is reloaded once they are written, so
     * that graphs use the files again */
    return last != view->last_commit || (view->lag_count > 0 && !pending);
}

uint64_t store_latest_commit(struct store *st)
{
    uint64_t last = 0;
    bool pending = false;
    pthread_mutex_lock(&st->poll_mu);
    bool ok = poll_state(st, &last, &pending);
    pthread_mutex_unlock(&st->poll_mu);
    return ok ? last : UINT64_MAX;
}

size_t store_view_team_count(const struct store_view *view)
{
    return view->team_count;
}

const struct kpi_team *store_view_team(const struct store_view *view, size_t i)
{
    return &view->teams[i];
}

size_t store_view_indicator_count(const struct store_view *view)
{
    return view->indicator_count;
}

const struct kpi_indicator *store_view_indicator(const struct store_view *view, size_t i)
{
    return &view->indicators[i];
}

/* Binary search of id among count records of size bytes whose first member
 * is the id pointer (struct kpi_team and struct kpi_indicator both are). */
static int find_id(const void *base, size_t count, size_t size, const char *id, size_t *index)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *const *rec =
            (const char *const *)(const void *)((const char *)base + mid * size);
        int c = strcmp(*rec, id);
        if (c == 0) {
            *index = mid;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return KPI_ENOTFOUND;
}

int store_view_find_team(const struct store_view *view, const char *id, size_t *index)
{
    return find_id(view->teams, view->team_count, sizeof *view->teams, id, index);
}

int store_view_find_indicator(const struct store_view *view, const char *id, size_t *index)
{
    return find_id(view->indicators, view->indicator_count, sizeof *view->indicators, id, index);
}

static int resolve(const struct store_view *view, bool teams, const char *ref, size_t *index,
                   struct kpi_error *err)
{
    const void *base = teams ? (const void *)view->teams : (const void *)view->indicators;
    size_t count = teams ? view->team_count : view->indicator_count;
    size_t size = teams ? sizeof *view->teams : sizeof *view->indicators;
    char id[KPI_ID_MAX + 1];
    if (store_ref_as_id(ref, id) && find_id(base, count, size, id, index) == 0)
        return 0;
    size_t rlen = strlen(ref);
    char *want = malloc(rlen * 2 + 8);
    char *have = NULL;
    if (want == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    kpi_fold(ref, want, rlen * 2 + 8);
    size_t cap = 0;
    int rc = KPI_ENOTFOUND;
    for (size_t i = 0; i < count && rc != 0; i++) {
        const char *name = teams ? view->teams[i].name : view->indicators[i].name;
        size_t need = strlen(name) * 2 + 8;
        if (need > cap || have == NULL) {
            char *grown = realloc(have, need);
            if (grown == NULL) {
                free(want);
                free(have);
                return kpi_fail(err, KPI_ESYSTEM, "out of memory");
            }
            have = grown;
            cap = need;
        }
        kpi_fold(name, have, cap);
        if (want[0] != '\0' && strcmp(have, want) == 0) {
            *index = i;
            rc = 0;
        }
    }
    free(want);
    free(have);
    if (rc != 0)
        kpi_fail(err, KPI_ENOTFOUND, "unknown %s \"%s\"", teams ? "team" : "indicator", ref);
    return rc;
}

int store_view_resolve_team(const struct store_view *view, const char *ref, size_t *index,
                            struct kpi_error *err)
{
    return resolve(view, true, ref, index, err);
}

int store_view_resolve_indicator(const struct store_view *view, const char *ref, size_t *index,
                                 struct kpi_error *err)
{
    return resolve(view, false, ref, index, err);
}

size_t store_view_series_count(const struct store_view *view)
{
    return view->series_count;
}

void store_view_series(const struct store_view *view, size_t i, struct store_series *out)
{
    *out = view->series[i];
}

bool view_series_index(const struct store_view *view, size_t team, size_t indicator, size_t *index)
{
    size_t lo = 0, hi = view->series_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct store_series *s = &view->series[mid];
        if (s->team == team && s->indicator == indicator) {
            *index = mid;
            return true;
        }
        if (s->team < team || (s->team == team && s->indicator < indicator))
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool store_view_find_series(const struct store_view *view, size_t team, size_t indicator,
                            struct store_series *out)
{
    size_t i;
    if (!view_series_index(view, team, indicator, &i))
        return false;
    *out = view->series[i];
    return true;
}
