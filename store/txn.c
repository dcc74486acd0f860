/*
 * txn.c — write transactions: one imported file (or revert, or note)
 * becomes one commit of the database.
 *
 * Design (docs/ARCHITECTURE.md, "what a write transaction reads"):
 * - store_txn_begin takes flock(LOCK_EX) on DIR itself (blocking: a second
 *   import waits for the first), repairs lagging RRD files (rrd.c), and
 *   loads the latest commit's catalog only (db_load_catalog): catalog
 *   arrays with hash maps (catalog.c) and an empty hash map (team,
 *   indicator) -> series. A series is read when the transaction first
 *   touches it, from that period on (its last row for an append): a window
 *   of its base points, borrowed by the working points until the first
 *   change (copy on write), widened when an earlier period is touched.
 *   Beginning costs the catalog, a commit what it touches.
 * - store_txn_set finds the period by binary search, with a fast path for
 *   appending after the last period (the usual import order), and compares
 *   doubles bit for bit (NaN = absent): a million calls take tens of
 *   milliseconds.
 * - Commit sorts teams and indicators by id and series by (team id,
 *   indicator id), so the commit does not depend on the order of the input,
 *   and writes the changed cells of each series' window (commit.c). A
 *   transaction that changed nothing writes nothing: no commit, the
 *   directory untouched. Then the RRD files of the changed series follow
 *   (rrd.c).
 */
#include "store/txn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------ series map */

static size_t key_slot(uint64_t key, size_t cap)
{
    /* the splitmix64 finaliser: the team (high half) must reach the low bits */
    key ^= key >> 30;
    key *= 0xBF58476D1CE4E5B9ull;
    key ^= key >> 27;
    key *= 0x94D049BB133111EBull;
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

static uint64_t series_key(size_t team, size_t indicator)
{
    return ((uint64_t)team << 32 | (uint64_t)indicator) + 1;
}

static bool smap_find(const struct store_txn *txn, uint64_t key, size_t *index)
{
    if (txn->scap == 0)
        return false;
    for (size_t i = key_slot(key, txn->scap); txn->skeys[i] != 0; i = (i + 1) & (txn->scap - 1))
        if (txn->skeys[i] == key) {
            *index = txn->svals[i];
            return true;
        }
    return false;
}

static void smap_insert(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t key, uint32_t v)
{
    size_t i = key_slot(key, cap);
    while (keys[i] != 0)
        i = (i + 1) & (cap - 1);
    keys[i] = key;
    vals[i] = v;
}

enum { HUGE_PAGE = 2 << 20 };

/* Memory for n elements of size bytes (zeroed when zero is true), or NULL.
 * A big array is given whole 2 MiB pages and asked to live in huge pages:
 * on this project's virtual machines a 4 KiB page fault costs ~13 us (more
 * than the cells whose series fill that page), a huge page one fault per
 * 2 MiB. Free with free(). */
static void *array_alloc(size_t n, size_t size, bool zero)
{
    size_t bytes = n * size;
    if (bytes < HUGE_PAGE / 4)
        return zero ? calloc(n, size) : malloc(bytes);
    bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *mem = NULL;
    if (posix_memalign(&mem, HUGE_PAGE, bytes) != 0)
        return NULL;
    madvise(mem, bytes, MADV_HUGEPAGE); /* advice only: failure is fine */
    if (zero)
        memset(mem, 0, bytes);
    return mem;
}

/* Append a new empty series for (team, indicator); returns its index. */
static int series_add(struct store_txn *txn, size_t team, size_t indicator, size_t *index)
{
    if (txn->series_count >= UINT32_MAX - 1)
        return KPI_ESYSTEM;
    if (txn->series_count == txn->series_cap) {
        size_t cap = txn->series_cap < 64 ? 64 : txn->series_cap * 2;
        struct wseries *s = array_alloc(cap, sizeof *s, false);
        if (s == NULL)
            return KPI_ESYSTEM;
        if (txn->series_count > 0)
            memcpy(s, txn->series, txn->series_count * sizeof *s);
        free(txn->series);
        txn->series = s;
        txn->series_cap = cap;
    }
    if ((txn->series_count + 1) * 2 > txn->scap) {
        size_t cap = txn->scap < 128 ? 128 : txn->scap * 2;
        uint64_t *keys = array_alloc(cap, sizeof *keys, true);
        uint32_t *vals = array_alloc(cap, sizeof *vals, false);
        if (keys == NULL || vals == NULL) {
            free(keys);
            free(vals);
            return KPI_ESYSTEM;
        }
        for (size_t i = 0; i < txn->scap; i++)
            if (txn->skeys[i] != 0)
                smap_insert(keys, vals, cap, txn->skeys[i], txn->svals[i]);
        free(txn->skeys);
        free(txn->svals);
        txn->skeys = keys;
        txn->svals = vals;
        txn->scap = cap;
    }
    size_t i = txn->series_count++;
    txn->series[i] =
        (struct wseries){.team = (uint32_t)team, .indicator = (uint32_t)indicator, .lo = INT64_MIN};
    smap_insert(txn->skeys, txn->svals, txn->scap, series_key(team, indicator), (uint32_t)i);
    *index = i;
    return 0;
}

/* ---------------------------------------------------------- base series */

/* Remember a failure to read the base (sticky: see txn_int.h). */
static int txn_failed(struct store_txn *txn, int rc, const struct kpi_error *why)
{
    if (txn->failed == 0) {
        txn->failed = rc;
        if (why != NULL)
            txn->failure = *why;
        else
            kpi_fail(&txn->failure, rc, "out of memory");
    }
    return txn->failed;
}

/* Format 3: read the points table's buckets, ascending, into
 * txn->buckets (once, in the read transaction: one seek per bucket). */
static int txn_buckets(struct store_txn *txn, struct kpi_error *err)
{
    if (txn->buckets_read)
        return 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(txn->db, "SELECT min(bucket) FROM points WHERE bucket > ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return db_fail(err, txn->db, "reading buckets");
    size_t cap = 0;
    int64_t after = INT64_MIN;
    int rc;
    for (;;) {
        sqlite3_bind_int64(q, 1, after);
        rc = sqlite3_step(q);
        bool more = rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL;
        if (more)
            after = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (!more)
            break;
        if (txn->bucket_count == cap) {
            cap = cap < 64 ? 64 : cap * 2;
            int64_t *g = realloc(txn->buckets, cap * sizeof *g);
            if (g == NULL) {
                sqlite3_finalize(q);
                return kpi_fail(err, KPI_ESYSTEM, "out of memory");
            }
            txn->buckets = g;
        }
        txn->buckets[txn->bucket_count++] = after;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(err, txn->db, "reading buckets");
    txn->buckets_read = true;
    return 0;
}

/* The index of the first of txn->buckets >= bucket (bucket_count when
 * none). */
static size_t bucket_index(const struct store_txn *txn, int64_t bucket)
{
    size_t lo = 0, hi = txn->bucket_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (txn->buckets[mid] < bucket)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The point of q's current row (period, value, target: q_points and
 * q_last). */
static struct kpi_point base_point(sqlite3_stmt *q)
{
    return (struct kpi_point){sqlite3_column_int64(q, 0), db_column_number(q, 1),
                              db_column_number(q, 2)};
}

/* Append the rows q yields to *pts (count, cap). */
static int collect_rows(sqlite3_stmt *q, struct kpi_point **pts, size_t *count, size_t *cap)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*count == *cap) {
            *cap = *cap < 16 ? 16 : *cap * 2;
            struct kpi_point *g = realloc(*pts, *cap * sizeof *g);
            if (g == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *pts = g;
        }
        (*pts)[(*count)++] = base_point(q);
    }
    sqlite3_reset(q);
    return rc;
}

/* Read the base rows of series sid with lo <= period < hi (the points
 * table's primary key range; format 3: bucket by bucket) into a malloc'd
 * array: *out, *n. */
static int read_rows(struct store_txn *txn, int64_t sid, int64_t lo, int64_t hi,
                     struct kpi_point **out, size_t *n, struct kpi_error *err)
{
    sqlite3_stmt *q = txn->q_points;
    sqlite3_bind_int64(q, 1, sid);
    sqlite3_bind_int64(q, 2, lo);
    sqlite3_bind_int64(q, 3, hi);
    size_t count = 0, cap = 0;
    struct kpi_point *pts = NULL;
    int rc = SQLITE_DONE;
    if (!txn->bucketed) {
        rc = collect_rows(q, &pts, &count, &cap);
    } else if (hi > lo) {
        int st = txn_buckets(txn, err);
        if (st != 0)
            return st;
        int64_t last = db_bucket(hi - 1);
        for (size_t i = bucket_index(txn, db_bucket(lo));
             rc == SQLITE_DONE && i < txn->bucket_count && txn->buckets[i] <= last; i++) {
            sqlite3_bind_int64(q, 4, txn->buckets[i]);
            rc = collect_rows(q, &pts, &count, &cap);
        }
    }
    if (rc != SQLITE_DONE) {
        free(pts);
        return rc == SQLITE_NOMEM ? kpi_fail(err, KPI_ESYSTEM, "out of memory")
                                  : db_fail(err, txn->db, "reading points");
    }
    *out = pts;
    *n = count;
    return 0;
}

/* The last base row of series sid before period: *found, *pt. Format 3
 * walks txn->buckets back from the period's, one seek each, until one
 * holds a row of the series (the period's own or the one before, for the
 * usual append). */
static int read_last(struct store_txn *txn, int64_t sid, int64_t period, struct kpi_point *pt,
                     bool *found, struct kpi_error *err)
{
    *found = false;
    sqlite3_stmt *q = txn->q_last;
    size_t i = 0;
    if (txn->bucketed) {
        int st = txn_buckets(txn, err);
        if (st != 0)
            return st;
        /* the buckets <= the period's: [0, i) */
        i = bucket_index(txn, db_bucket(period) + 1);
    }
    for (;;) {
        if (txn->bucketed) {
            if (i == 0)
                return 0;
            sqlite3_bind_int64(q, 3, txn->buckets[--i]);
        }
        sqlite3_bind_int64(q, 1, sid);
        sqlite3_bind_int64(q, 2, period);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *found = true;
            *pt = base_point(q);
        }
        sqlite3_reset(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return db_fail(err, txn->db, "reading points");
        if (*found || !txn->bucketed)
            return 0;
    }
}

/* The base points of s from period on: its rows of the points table with
 * period >= period, or when it has none there, its last row (so that the
 * window always holds the series' last point); or a legacy ledger's whole
 * series (borrowed). Entries the transaction created have none. */
static int series_load(struct store_txn *txn, struct wseries *s, int64_t period,
                       struct kpi_error *err)
{
    s->lo = INT64_MIN;
    if (txn->tcat.created[s->team] || txn->icat.created[s->indicator])
        return 0;
    const struct store_view *b = txn->base;
    if (txn->db == NULL) {
        size_t k;
        if (view_series_index(b, s->team, s->indicator, &k)) {
            s->points = s->base_points = b->series[k].points;
            s->count = s->base_count = b->series[k].count;
        }
        return 0;
    }
    if (txn->no_series)
        return 0;
    sqlite3_stmt *q = txn->q_sid;
    sqlite3_bind_text(q, 1, txn->teams[s->team].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, txn->inds[s->indicator].id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        s->sid = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(err, txn->db, "reading series");
    if (s->sid == 0)
        return 0;
    /* its rows from period on, or when it has none there its last row:
     * the whole window of the usual append (period after it) */
    struct kpi_point *pts = NULL;
    size_t n = 0;
    if ((rc = read_rows(txn, s->sid, period, INT64_MAX, &pts, &n, err)) != 0)
        return rc;
    int64_t lo = period;
    if (n == 0) {
        free(pts);
        pts = NULL;
        struct kpi_point last;
        bool found = false;
        if ((rc = read_last(txn, s->sid, period, &last, &found, err)) != 0)
            return rc;
        if (!found)
            return 0; /* no points */
        if ((pts = malloc(sizeof *pts)) == NULL)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        pts[n++] = last;
        lo = last.period;
    }
    s->lo = lo;
    s->base_own = pts;
    s->points = s->base_points = pts;
    s->count = s->base_count = n;
    return 0;
}

/* Make the window of series si hold every base point from period on
 * (INT64_MIN: all of them): the rows before it are read and put in front,
 * of the base and of the working points alike (the transaction changed
 * nothing before its window). */
static int series_cover(struct store_txn *txn, size_t si, int64_t period, struct kpi_error *err)
{
    struct wseries *s = &txn->series[si];
    if (period >= s->lo)
        return 0;
    struct kpi_point *rows = NULL;
    size_t k = 0;
    int rc = read_rows(txn, s->sid, period, s->lo, &rows, &k, err);
    if (rc != 0)
        return rc;
    s->lo = period;
    if (k == 0) {
        free(rows);
        return 0;
    }
    struct kpi_point *base = malloc((k + s->base_count) * sizeof *base);
    size_t cap = k + s->count + s->count / 4 + 64;
    struct kpi_point *own = s->own != NULL ? malloc(cap * sizeof *own) : NULL;
    if (base == NULL || (s->own != NULL && own == NULL)) {
        free(rows);
        free(base);
        free(own);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    memcpy(base, rows, k * sizeof *base);
    if (s->base_count > 0)
        memcpy(base + k, s->base_points, s->base_count * sizeof *base);
    if (own != NULL) {
        memcpy(own, rows, k * sizeof *own);
        if (s->count > 0)
            memcpy(own + k, s->own, s->count * sizeof *own);
        if (!s->own_in_slab)
            free(s->own);
        s->own = own;
        s->own_in_slab = false;
        s->cap = cap;
        s->points = own;
    } else {
        s->points = base;
    }
    free(rows);
    free(s->base_own);
    s->base_own = base;
    s->base_points = base;
    s->base_count += k;
    s->count += k;
    return 0;
}

/* The working series of (team, indicator) with its base points from period
 * on: *index, read the first time. 0, or the (sticky) failure. */
static int series_get(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                      size_t *index, struct kpi_error *err)
{
    struct kpi_error why = {0};
    int rc = txn->failed;
    if (rc == 0 && smap_find(txn, series_key(team, indicator), index)) {
        if ((rc = series_cover(txn, *index, period, &why)) != 0)
            rc = txn_failed(txn, rc, &why);
    } else if (rc == 0) {
        if (series_add(txn, team, indicator, index) != 0)
            rc = txn_failed(txn, KPI_ESYSTEM, NULL);
        else if ((rc = series_load(txn, &txn->series[*index], period, &why)) != 0)
            rc = txn_failed(txn, rc, &why);
    }
    if (rc != 0 && err != NULL)
        *err = txn->failure;
    return rc;
}

int txn_indicator_has_data(struct store_txn *txn, size_t ind, bool *has, struct kpi_error *err)
{
    *has = txn->ind_has_data[ind];
    if (*has || txn->db == NULL || txn->icat.created[ind])
        return 0;
    static const char *const sql[2] = {
        "SELECT 1 FROM series s WHERE s.kpi = ?1 AND EXISTS (SELECT 1 FROM points p WHERE "
        "p.series = s.id) LIMIT 1",
        "SELECT 1 FROM series s WHERE s.kpi = ?1 AND EXISTS (" DB_BUCKETS(
            "points", "",
            "") "SELECT 1 FROM b JOIN points p ON p.bucket = b.x AND p.series = s.id) "
                "LIMIT 1",
    };
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(txn->db, sql[txn->bucketed], -1, &q, NULL) != SQLITE_OK)
        return db_fail(err, txn->db, "reading series");
    sqlite3_bind_text(q, 1, txn->inds[ind].id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(err, txn->db, "reading series");
    *has = txn->ind_has_data[ind] = rc == SQLITE_ROW;
    return 0;
}

/* ----------------------------------------------------------------- begin */

/* The statements that read a series' base points, by format: its id; its
 * rows with ?2 <= period < ?3; its last row before ?2 (format 3: in bucket
 * ?3, and the bucket before ?1 that holds rows, walked back from the
 * period's until a bucket has one of the series). */
static int prepare_reads(struct store_txn *txn, struct kpi_error *err)
{
    /* format 3: one bucket at a time (?4), the buckets walked in C over
     * txn->buckets: a plain seek each, where a recursive walk in SQL built
     * its queue table on every call (one call per series touched) */
    static const char *const points_sql[2] = {
        "SELECT period, value, target FROM points WHERE series = ?1 AND period >= ?2 AND "
        "period < ?3 ORDER BY period",
        "SELECT period, value, target FROM points WHERE bucket = ?4 AND series = ?1 AND period "
        ">= ?2 AND period < ?3 ORDER BY period",
    };
    static const char *const last_sql[2] = {
        "SELECT period, value, target FROM points WHERE series = ?1 AND period < ?2 ORDER BY "
        "period DESC LIMIT 1",
        "SELECT period, value, target FROM points WHERE bucket = ?3 AND series = ?1 AND period "
        "< ?2 ORDER BY period DESC LIMIT 1",
    };
    txn->bucketed = db_bucketed(txn->db);
    if (sqlite3_prepare_v3(txn->db, "SELECT id FROM series WHERE team = ?1 AND kpi = ?2", -1,
                           SQLITE_PREPARE_PERSISTENT, &txn->q_sid, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(txn->db, points_sql[txn->bucketed], -1, SQLITE_PREPARE_PERSISTENT,
                           &txn->q_points, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(txn->db, last_sql[txn->bucketed], -1, SQLITE_PREPARE_PERSISTENT,
                           &txn->q_last, NULL) != SQLITE_OK)
        return db_fail(err, txn->db, "preparing the transaction");
    return 0;
}

static void txn_free(struct store_txn *txn)
{
    if (txn == NULL)
        return;
    sqlite3_finalize(txn->q_sid);
    sqlite3_finalize(txn->q_points);
    sqlite3_finalize(txn->q_last);
    free(txn->buckets);
    sqlite3_close(txn->db);
    if (txn->lock_fd >= 0) {
        if (txn->made_dirs > 0) /* empty unless committed: a failed import leaves nothing */
            store_unmake_dirs(txn->st->dir, txn->made_dirs);
        close(txn->lock_fd); /* releases the lock */
    }
    txn_catalog_free(txn);
    for (size_t i = 0; i < txn->series_count; i++) {
        if (!txn->series[i].own_in_slab)
            free(txn->series[i].own);
        free(txn->series[i].base_own);
    }
    free(txn->series);
    free(txn->skeys);
    free(txn->svals);
    while (txn->arena != NULL) {
        struct arena_block *next = txn->arena->next;
        free(txn->arena);
        txn->arena = next;
    }
    while (txn->slabs != NULL) {
        struct point_slab *next = txn->slabs->next;
        free(txn->slabs);
        txn->slabs = next;
    }
    notes_stage_free(txn->notes);
    store_view_free(txn->base);
    free(txn);
}

/* Rebuild the RRD files of the series rrd_pending names from the whole
 * latest data, loaded for that only. */
static int repair_lag_whole(struct store_txn *txn, struct kpi_error *err)
{
    struct store_view *whole = NULL;
    int rc = db_load_view(txn->db, 0, &whole, err);
    if (rc == 0)
        rc = rrd_repair_view(txn->st, whole, txn->db, false, NULL, err);
    store_view_free(whole);
    return rc;
}

/* RRD files left lagging by an interrupted commit (rare: after a crash). */
static int repair_lag(struct store_txn *txn, struct kpi_error *err)
{
    if (txn->db == NULL) /* a legacy ledger: its view is whole */
        return rrd_repair_view(txn->st, txn->base, NULL, false, NULL, err);
    if (txn->base->lag_count == 0)
        return 0;
    /* the files of the previous commit, written in this boot: whole, synced
     * and no longer pending with this commit (sync.c) */
    txn->settle = store_rrd_settled(txn->st->dir, txn->base->last_commit);
    return txn->settle ? 0 : repair_lag_whole(txn, err);
}

/* The transaction's connection, with the store's WAL bound when a test set
 * one (db_open gives a writer the default bound). */
static int txn_db_open(struct store_txn *txn, enum db_mode mode, struct kpi_error *err)
{
    int rc = db_open(txn->st->dir, mode, &txn->db, err);
    if (rc == 0 && mode != DB_READ && txn->st->wal_bound > 0)
        db_wal_bound(txn->db, txn->st->wal_bound);
    return rc;
}

int store_txn_begin(struct store *st, struct store_txn **out, struct kpi_error *err)
{
    *out = NULL;
    struct store_txn *txn = calloc(1, sizeof *txn);
    if (txn == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    txn->st = st;
    txn->author = "unknown";
    txn->kind = "import";
    txn->source = "";
    txn->sha256 = "";
    /* A read-only transaction (a dry run) writes nothing: no lock, no
     * repair; the ledger generation it reads is whole without a lock. */
    txn->lock_fd = -1;
    /* A data directory that does not exist yet is created now, with its
     * missing parents, and locked, so that a second import waits for this
     * one; txn_free removes it again when nothing was committed. */
    int rc = st->read_only ? 0 : store_lock_create(st, true, &txn->lock_fd, &txn->made_dirs, err);
    if (rc == 0 && db_exists(st->dir)) {
        rc = txn_db_open(txn, st->read_only ? DB_READ : DB_WRITE, err);
        if (rc == 0)
            rc = db_check_format(txn->db, err);
        if (rc == 0)
            rc = db_load_catalog(txn->db, &txn->base, err);
        if (rc == 0)
            rc = prepare_reads(txn, err);
    } else if (rc == 0) {
        /* no database yet: an empty directory, or one written before it
         * (DIR/ledger), which the first commit converts */
        rc = ledger_load(st->dir, &txn->base, err);
        txn->convert = rc == 0 && txn->base->generation > 0;
    }
    if (rc == 0 && !st->read_only && txn->made_dirs == 0)
        rc = repair_lag(txn, err);
    if (rc == 0)
        rc = txn_catalog_load(txn, err);
    /* the series are read in one read transaction (one snapshot, and no
     * transaction to open per statement), ended before the commit's */
    if (rc == 0 && txn->db != NULL)
        rc = db_exec(txn->db, "BEGIN", err);
    /* a database of the catalog only (imported before the first data file)
     * has no series to look up */
    if (rc == 0 && txn->db != NULL) {
        sqlite3_stmt *q = NULL;
        int s = sqlite3_prepare_v2(txn->db, "SELECT EXISTS (SELECT 1 FROM series)", -1, &q, NULL);
        if (s == SQLITE_OK && (s = sqlite3_step(q)) == SQLITE_ROW)
            txn->no_series = sqlite3_column_int(q, 0) == 0;
        sqlite3_finalize(q);
        if (s != SQLITE_ROW)
            rc = db_fail(err, txn->db, "reading series");
    }
    for (int kind = KPI_PERIOD_DAY; kind <= KPI_PERIOD_YEAR; kind++)
        ledger_period_bounds((enum kpi_period_kind)kind, &txn->pmin[kind], &txn->pmax[kind]);
    if (rc != 0) {
        txn_free(txn);
        return rc;
    }
    *out = txn;
    return 0;
}

void store_txn_abort(struct store_txn *txn)
{
    txn_free(txn);
}

/* ------------------------------------------------------------------- set */

/* Exact comparison: -0 differs from 0, as the text kpi exports does. */
static bool same_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

/* Give back the unused tail of the slot on top of the current slab: a file
 * sorted by series fills one series, then the next, and the next series'
 * slot then starts where the previous one's points end. Fewer pages
 * touched is less time: fresh memory costs its zeroing (and, on a virtual
 * machine, the host's). A series given back its tail grows like any other
 * when it needs room again (to a slot that is never trimmed). */
static void slab_trim_top(struct store_txn *txn)
{
    struct point_slab *slab = txn->slabs;
    if (slab == NULL || txn->slab_top == 0)
        return;
    struct wseries *s = &txn->series[txn->slab_top - 1];
    txn->slab_top = 0;
    if (s->own_in_slab && s->own + s->cap == slab->data + slab->used && s->count > 0) {
        slab->used -= s->cap - s->count;
        s->cap = s->count;
    }
}

/* A slot of n points from the transaction's slabs, or NULL when it does not
 * fit a slab (the caller mallocs). */
static struct kpi_point *slab_take(struct store_txn *txn, size_t n)
{
    enum { SLAB_BYTES = 8 << 20 };
    const size_t slab_points = (SLAB_BYTES - sizeof(struct point_slab)) / sizeof(struct kpi_point);
    if (n > slab_points / 16)
        return NULL;
    slab_trim_top(txn);
    struct point_slab *slab = txn->slabs;
    if (slab == NULL || slab->cap - slab->used < n) {
        if ((slab = array_alloc(1, SLAB_BYTES, false)) == NULL)
            return NULL;
        slab->next = txn->slabs;
        slab->used = 0;
        slab->cap = slab_points;
        txn->slabs = slab;
    }
    struct kpi_point *p = slab->data + slab->used;
    slab->used += n;
    return p;
}

/* Make the points of s writable with room for one more. */
static int series_own(struct store_txn *txn, struct wseries *s)
{
    if (s->own != NULL && s->count < s->cap)
        return 0;
    /* a first change usually appends a few periods: room for a quarter more
     * (and at least 64 periods, five years of months), then doubling */
    size_t cap = s->count + s->count / 4 + 64;
    if (s->own != NULL && cap < s->cap * 2)
        cap = s->cap * 2;
    bool in_slab = false;
    struct kpi_point *p = slab_take(txn, cap);
    if (p != NULL)
        in_slab = true;
    else if ((p = malloc(cap * sizeof *p)) == NULL)
        return KPI_ESYSTEM;
    if (s->count > 0)
        memcpy(p, s->points, s->count * sizeof *p);
    /* only a series' first slot may be trimmed: one that grew once is set
     * out of order (a file sorted by date), and trimming it again and again
     * would move it on every period */
    if (in_slab && s->own == NULL)
        txn->slab_top = (size_t)(s - txn->series) + 1;
    if (!s->own_in_slab)
        free(s->own); /* a slot of a slab stays there, unused */
    s->own = p;
    s->own_in_slab = in_slab;
    s->points = p;
    s->cap = cap;
    return 0;
}

/* A new point of period holding v as its value or target. */
static struct kpi_point point_of(int64_t period, enum store_field field, double v)
{
    return field == STORE_VALUE ? (struct kpi_point){period, v, NAN}
                                : (struct kpi_point){period, NAN, v};
}

/* store_txn_set, every case. */
__attribute__((noinline)) static int set_point(struct store_txn *txn, size_t team, size_t indicator,
                                               int64_t period, enum store_field field, double v,
                                               enum store_change *change, struct kpi_error *err)
{
    if (!isfinite(v))
        return kpi_fail(err, KPI_EINPUT, "not a finite number");
    if (team >= txn->tcat.count || indicator >= txn->icat.count)
        return kpi_fail(err, KPI_EINPUT, "no such team or indicator");
    enum kpi_period_kind kind = txn->inds[indicator].period;
    if (period < txn->pmin[kind] || period > txn->pmax[kind])
        return kpi_fail(err, KPI_EINPUT, "period out of range (years 1 to 9999)");
    uint64_t key = series_key(team, indicator);
    size_t si = txn->last_index;
    if (key != txn->last_key || period < txn->series[si].lo) {
        int rc = series_get(txn, team, indicator, period, &si, err);
        if (rc != 0)
            return rc;
        txn->last_key = key;
        txn->last_index = si;
    }
    struct wseries *s = &txn->series[si];
    if (!s->touched) {
        s->touched = true;
        txn->touched++;
    }
    /* where the period is, or goes */
    size_t lo = s->count;
    bool found = false;
    if (s->count > 0 && period <= s->points[s->count - 1].period) {
        lo = kpi_points_lower_bound(s->points, s->count, period);
        found = s->points[lo].period == period;
    }
    double old = NAN;
    if (found)
        old = field == STORE_VALUE ? s->points[lo].value : s->points[lo].target;
    enum store_change what = isnan(old)          ? STORE_NEW
                             : same_bits(old, v) ? STORE_UNCHANGED
                                                 : STORE_CORRECTED;
    if (change != NULL)
        *change = what;
    if (what == STORE_UNCHANGED)
        return 0;
    if (series_own(txn, s) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    struct kpi_point *p = s->own;
    if (!found) {
        if (lo < s->count) /* not the usual append */
            memmove(p + lo + 1, p + lo, (s->count - lo) * sizeof *p);
        p[lo] = point_of(period, field, v);
        s->count++;
    } else if (field == STORE_VALUE) {
        p[lo].value = v;
    } else {
        p[lo].target = v;
    }
    s->dirty = true;
    txn->ind_has_data[indicator] = true;
    return 0;
}

/* The field of the point of period among pts[0..n), or NaN. */
static double field_at(const struct kpi_point *pts, size_t n, int64_t period, enum store_field f)
{
    size_t lo = kpi_points_lower_bound(pts, n, period);
    if (lo == n || pts[lo].period != period)
        return NAN;
    return f == STORE_VALUE ? pts[lo].value : pts[lo].target;
}

void store_txn_get(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                   enum store_field field, double *working, double *base)
{
    *working = *base = NAN;
    uint64_t key = series_key(team, indicator);
    size_t si = txn->last_index;
    if ((key != txn->last_key || period < txn->series[si].lo) &&
        series_get(txn, team, indicator, period, &si, NULL) != 0)
        return; /* the failure is the next set's, put's or commit's */
    const struct wseries *s = &txn->series[si];
    if (s->count == 0 || period > s->points[s->count - 1].period)
        return; /* the usual case: the next period */
    *working = field_at(s->points, s->count, period, field);
    if (!isnan(*working))
        *base = field_at(s->base_points, s->base_count, period, field);
}

int store_txn_set(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                  enum store_field field, double v, enum store_change *change,
                  struct kpi_error *err)
{
    /* the usual call: the next period of the previous call's series, with
     * room to append (set_point does the same, with every check) */
    if (txn->last_key == series_key(team, indicator)) {
        struct wseries *last = &txn->series[txn->last_index];
        if (last->own != NULL && last->count < last->cap && last->count > 0 &&
            period > last->own[last->count - 1].period && isfinite(v) &&
            period <= txn->pmax[txn->inds[indicator].period]) {
            last->own[last->count++] = point_of(period, field, v);
            if (change != NULL)
                *change = STORE_NEW;
            return 0;
        }
    }
    return set_point(txn, team, indicator, period, field, v, change, err);
}

/* store_txn_put beyond an append (out of line: the append needs no frame). */
__attribute__((noinline)) static int put_point(struct store_txn *txn, size_t team, size_t indicator,
                                               int64_t period, enum store_field field, double v,
                                               enum store_change *change, struct kpi_error *err)
{
    double working, base;
    store_txn_get(txn, team, indicator, period, field, &working, &base);
    if (!isnan(working))
        return STORE_PUT_KEPT;
    return set_point(txn, team, indicator, period, field, v, change, err);
}

int store_txn_put(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                  enum store_field field, double v, enum store_change *change,
                  struct kpi_error *err)
{
    /* store_txn_set's usual call: an append, so a new cell */
    if (txn->last_key == series_key(team, indicator)) {
        struct wseries *last = &txn->series[txn->last_index];
        if (last->own != NULL && last->count < last->cap && last->count > 0 &&
            period > last->own[last->count - 1].period && isfinite(v) &&
            period <= txn->pmax[txn->inds[indicator].period]) {
            last->own[last->count++] = point_of(period, field, v);
            *change = STORE_NEW;
            return 0;
        }
    }
    return put_point(txn, team, indicator, period, field, v, change, err);
}

void store_txn_stats(const struct store_txn *txn, struct store_txn_stats *out)
{
    out->series = txn->touched;
    out->new_teams = txn->new_teams;
    out->new_indicators = txn->new_indicators;
}

/* ---------------------------------------------------------------- commit */

struct sort_ref {
    const char *id;
    size_t index;
};

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const struct sort_ref *)a)->id, ((const struct sort_ref *)b)->id);
}

struct sort_key {
    uint64_t key;
    size_t index;
};

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = ((const struct sort_key *)a)->key, y = ((const struct sort_key *)b)->key;
    return (x > y) - (x < y);
}

/* rank[i] = position of entry i once sorted by id. */
static int rank_by_id(size_t count, const char *(*id_of)(const struct store_txn *, size_t),
                      const struct store_txn *txn, size_t *rank, size_t *order)
{
    struct sort_ref *r = malloc((count ? count : 1) * sizeof *r);
    if (r == NULL)
        return KPI_ESYSTEM;
    for (size_t i = 0; i < count; i++)
        r[i] = (struct sort_ref){id_of(txn, i), i};
    qsort(r, count, sizeof *r, cmp_ref);
    for (size_t i = 0; i < count; i++) {
        order[i] = r[i].index;
        rank[r[i].index] = i;
    }
    free(r);
    return 0;
}

static const char *team_id_of(const struct store_txn *txn, size_t i)
{
    return txn->teams[i].id;
}

static const char *ind_id_of(const struct store_txn *txn, size_t i)
{
    return txn->inds[i].id;
}

/* Everything commit builds next to the working state. */
struct commit_plan {
    size_t *trank, *torder, *irank, *iorder;
    struct kpi_team *teams;
    size_t *parents;
    struct kpi_indicator *inds;
    struct store_series *series;
    size_t *sorder; /* working series index of each sorted series */
    struct rrd_job *jobs;
    size_t job_count;
};

static void plan_free(struct commit_plan *p)
{
    free(p->trank);
    free(p->torder);
    free(p->irank);
    free(p->iorder);
    free(p->teams);
    free(p->parents);
    free(p->inds);
    free(p->series);
    free(p->sorder);
    free(p->jobs);
}

static int plan_catalog(const struct store_txn *txn, struct commit_plan *p)
{
    size_t tc = txn->tcat.count, ic = txn->icat.count;
    p->trank = malloc((tc + 1) * sizeof *p->trank);
    p->torder = malloc((tc + 1) * sizeof *p->torder);
    p->irank = malloc((ic + 1) * sizeof *p->irank);
    p->iorder = malloc((ic + 1) * sizeof *p->iorder);
    p->teams = malloc((tc + 1) * sizeof *p->teams);
    p->parents = malloc((tc + 1) * sizeof *p->parents);
    p->inds = malloc((ic + 1) * sizeof *p->inds);
    if (p->trank == NULL || p->torder == NULL || p->irank == NULL || p->iorder == NULL ||
        p->teams == NULL || p->parents == NULL || p->inds == NULL ||
        rank_by_id(tc, team_id_of, txn, p->trank, p->torder) != 0 ||
        rank_by_id(ic, ind_id_of, txn, p->irank, p->iorder) != 0)
        return KPI_ESYSTEM;
    for (size_t r = 0; r < tc; r++) {
        size_t i = p->torder[r], parent = txn->team_parent[i];
        p->teams[r] = txn->teams[i];
        p->parents[r] = parent == SIZE_MAX ? SIZE_MAX : p->trank[parent];
    }
    for (size_t r = 0; r < ic; r++)
        p->inds[r] = txn->inds[p->iorder[r]];
    return 0;
}

/* Whether the RRD file of dirty series s can follow from its window
 * alone: values appended after the base's last point (which has a value),
 * no target in the window, less than ten years appended. Then the rows the
 * window gives are exactly the file's last ones (a target is interpolated
 * from targets on both sides: none after the base's last point, none
 * appended) and the file is appended to; anything else reads the whole
 * series first. */
static bool window_enough(const struct store_txn *txn, const struct wseries *s)
{
    if (s->lo == INT64_MIN)
        return true;
    if (s->base_count == 0 || s->count <= s->base_count)
        return false;
    const struct kpi_point *last = &s->base_points[s->base_count - 1];
    enum kpi_period_kind kind = txn->inds[s->indicator].period;
    if (isnan(last->value) || kpi_period_last_day(kind, s->points[s->count - 1].period) -
                                      kpi_period_last_day(kind, last->period) >
                                  3650)
        return false;
    for (size_t i = 0; i < s->base_count; i++)
        if (!isnan(s->base_points[i].target) || s->points[i].period != s->base_points[i].period ||
            !same_bits(s->points[i].value, s->base_points[i].value) || !isnan(s->points[i].target))
            return false;
    for (size_t i = s->base_count; i < s->count; i++)
        if (!isnan(s->points[i].target))
            return false;
    return true;
}

/* Series sorted by (team id, indicator id), and the RRD jobs of the
 * changed series (begin brought every lagging file in line already). */
static int plan_series(struct store_txn *txn, struct commit_plan *p)
{
    size_t n = txn->series_count;
    struct sort_key *keys = malloc((n + 1) * sizeof *keys);
    p->series = malloc((n + 1) * sizeof *p->series);
    p->sorder = malloc((n + 1) * sizeof *p->sorder);
    p->jobs = malloc((n + 1) * sizeof *p->jobs);
    if (keys == NULL || p->series == NULL || p->sorder == NULL || p->jobs == NULL) {
        free(keys);
        return -1;
    }
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wseries *s = &txn->series[i];
        if (s->count > 0 || s->base_count > 0)
            keys[live++] = (struct sort_key){
                (uint64_t)p->trank[s->team] << 32 | (uint64_t)p->irank[s->indicator], i};
    }
    qsort(keys, live, sizeof *keys, cmp_key);
    for (size_t r = 0; r < live; r++) {
        size_t i = keys[r].index;
        const struct wseries *s = &txn->series[i];
        p->sorder[r] = i;
        p->series[r] =
            (struct store_series){p->trank[s->team], p->irank[s->indicator], s->count, s->points};
        if (s->dirty)
            p->jobs[p->job_count++] = (struct rrd_job){
                .team_id = txn->teams[s->team].id,
                .kpi_id = txn->inds[s->indicator].id,
                .kind = txn->inds[s->indicator].period,
                .points = s->points,
                .count = s->count,
                .old_points = s->base_points,
                .old_count = s->base_count,
                .partial = s->lo != INT64_MIN,
            };
    }
    free(keys);
    return (int)live;
}

/* A copy of the changed-flags of the catalog for commit_write. */
static int catalog_changes(const struct store_txn *txn, const struct commit_plan *p,
                           bool **team_changed, bool **ind_changed)
{
    const struct store_view *b = txn->base;
    size_t tc = txn->tcat.count, ic = txn->icat.count;
    *team_changed = calloc(tc + 1, sizeof **team_changed);
    *ind_changed = calloc(ic + 1, sizeof **ind_changed);
    if (*team_changed == NULL || *ind_changed == NULL)
        return KPI_ESYSTEM;
    for (size_t r = 0; r < tc; r++) {
        size_t i = p->torder[r];
        const struct kpi_team *t = &txn->teams[i];
        (*team_changed)[r] = i >= b->team_count || strcmp(t->name, b->teams[i].name) != 0 ||
                             strcmp(t->parent, b->teams[i].parent) != 0;
    }
    for (size_t r = 0; r < ic; r++) {
        size_t i = p->iorder[r];
        const struct kpi_indicator *x = &txn->inds[i];
        const struct kpi_indicator *y = i < b->indicator_count ? &b->indicators[i] : NULL;
        (*ind_changed)[r] =
            y == NULL || strcmp(x->name, y->name) != 0 || strcmp(x->unit, y->unit) != 0 ||
            x->family != y->family || x->direction != y->direction || x->period != y->period ||
            x->aggregate != y->aggregate || memcmp(&x->amber, &y->amber, 8) != 0 ||
            memcmp(&x->red, &y->red, 8) != 0 || memcmp(&x->weight, &y->weight, 8) != 0;
    }
    return 0;
}

/* The SHA-256 of DIR/ledger, the source of a conversion. */
static void ledger_digest(const char *dir, char hex[65])
{
    struct kpi_sha256 s;
    kpi_sha256_init(&s);
    char *path = store_path_join(dir, "ledger");
    int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    char buf[65536];
    ssize_t n;
    while (fd >= 0 && ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
            kpi_sha256_update(&s, buf, (size_t)n);
    if (fd >= 0)
        close(fd);
    unsigned char digest_bytes[KPI_SHA256_SIZE];
    kpi_sha256_final(&s, digest_bytes);
    kpi_sha256_hex(digest_bytes, hex);
}

/* Commit 1 of a converted directory: the legacy ledger's whole content. */
static int write_conversion(struct store_txn *txn, struct kpi_error *err)
{
    const struct store_view *b = txn->base;
    bool *tch = malloc((b->team_count + 1) * sizeof *tch);
    bool *ich = malloc((b->indicator_count + 1) * sizeof *ich);
    struct commit_series *cs = calloc(b->series_count + 1, sizeof *cs);
    int rc = 0;
    if (tch == NULL || ich == NULL || cs == NULL) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < b->team_count; i++)
        tch[i] = true;
    for (size_t i = 0; i < b->indicator_count; i++)
        ich[i] = true;
    for (size_t i = 0; i < b->series_count; i++) {
        const struct store_series *s = &b->series[i];
        cs[i] = (struct commit_series){.team = b->teams[s->team].id,
                                       .kpi = b->indicators[s->indicator].id,
                                       .cur = s->points,
                                       .cur_count = s->count};
    }
    char digest[65];
    ledger_digest(txn->st->dir, digest);
    struct commit_input in = {
        .author = txn->author,
        .kind = "import",
        .source = "ledger",
        .sha256 = digest,
        .teams = b->teams,
        .team_changed = tch,
        .team_count = b->team_count,
        .indicators = b->indicators,
        .indicator_changed = ich,
        .indicator_count = b->indicator_count,
        .series = cs,
        .series_count = b->series_count,
    };
    rc = commit_write(txn->db, &in, NULL, err);
    /* the converted RRD files were written by the ledger store: the pending
     * marks of this commit are not needed */
    if (rc == 0)
        rc = db_exec(txn->db, "DELETE FROM rrd_pending", err);
done:
    free(tch);
    free(ich);
    free(cs);
    return rc;
}

/* Remove the files of the ledger store once the database holds its data. */
static void remove_legacy(const char *dir)
{
    static const char *const names[] = {"ledger", "generation", "rrd-synced"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *path = store_path_join(dir, names[i]);
        if (path != NULL)
            unlink(path);
        free(path);
    }
}

/* db_commit tells the RRD batch as soon as the commit is durable (from
 * SQLite's WAL hook, once the WAL frames are synced): the RRD threads start
 * naming and appending at once, beside the checkpoint that may follow (a
 * commit past the WAL's bound) rather than after it. */
static void tell_batch(void *batch)
{
    rrd_batch_commit(batch);
}

/* The database transaction of the commit: everything or nothing. */
static int write_commit(struct store_txn *txn, const struct commit_plan *p, size_t live,
                        struct rrd_batch *batch, uint64_t *id, struct kpi_error *err)
{
    bool *tch = NULL, *ich = NULL;
    struct commit_series *cs = calloc(live + 1, sizeof *cs);
    struct commit_note *notes = NULL;
    size_t note_count = 0;
    int rc = 0;
    if (cs == NULL || catalog_changes(txn, p, &tch, &ich) != 0 ||
        notes_plan(txn, &notes, &note_count) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t r = 0; r < live; r++) {
        const struct wseries *s = &txn->series[p->sorder[r]];
        if (!s->dirty)
            continue;
        cs[n++] = (struct commit_series){.team = txn->teams[s->team].id,
                                         .kpi = txn->inds[s->indicator].id,
                                         .sid = s->sid,
                                         .old = s->base_points,
                                         .old_count = s->base_count,
                                         .cur = s->points,
                                         .cur_count = s->count};
    }
    if (txn->db == NULL && (rc = txn_db_open(txn, DB_CREATE, err)) != 0)
        goto done;
    if (!sqlite3_get_autocommit(txn->db) && (rc = db_exec(txn->db, "COMMIT", err)) != 0)
        goto done; /* the reads' transaction (nothing changed meanwhile: DIR is locked) */
    if ((rc = db_exec(txn->db, "BEGIN IMMEDIATE", err)) != 0)
        goto done;
    if ((rc = db_create_schema(txn->db, err)) == 0 && txn->convert)
        rc = write_conversion(txn, err);
    if (rc == 0 && txn->settle) /* synced before: store_txn_commit */
        rc = db_exec(txn->db, "DELETE FROM rrd_pending", err);
    struct commit_input in = {
        .author = txn->author,
        .kind = txn->kind,
        .source = txn->source,
        .sha256 = txn->sha256,
        .rows = txn->rows,
        .teams = p->teams,
        .team_changed = tch,
        .team_count = txn->tcat.count,
        .indicators = p->inds,
        .indicator_changed = ich,
        .indicator_count = txn->icat.count,
        .series = cs,
        .series_count = n,
        .notes = notes,
        .note_count = note_count,
    };
    if (rc == 0)
        rc = commit_write(txn->db, &in, id, err);
    if (rc == 0)
        rc = db_commit(txn->db, batch != NULL ? tell_batch : NULL, batch, err);
    if (rc != 0)
        *id = 0;
    if (rc != 0)
        sqlite3_exec(txn->db, "ROLLBACK", NULL, NULL, NULL);
    else if (txn->convert)
        remove_legacy(txn->st->dir);
done:
    free(tch);
    free(ich);
    free(cs);
    free(notes);
    return rc;
}

int store_txn_commit(struct store_txn *txn, const struct store_progress *progress,
                     uint64_t *commit_id, struct kpi_error *err)
{
    uint64_t id = 0;
    if (commit_id != NULL)
        *commit_id = 0;
    if (txn->st->read_only) {
        txn_free(txn);
        return kpi_fail(err, KPI_EUSAGE, "a read-only transaction cannot commit");
    }
    if (txn->failed != 0) {
        int rc = txn->failed;
        if (err != NULL)
            *err = txn->failure;
        txn_free(txn);
        return rc;
    }
    bool dirty = txn->catalog_dirty || notes_stage_dirty(txn->notes);
    for (size_t i = 0; i < txn->series_count && !dirty; i++)
        dirty = txn->series[i].dirty;
    if (!dirty) {
        txn_free(txn); /* nothing changed: no commit */
        return 0;
    }
    struct commit_plan p = {0};
    int rc = 0;
    int live = 0;
    for (size_t i = 0; i < txn->series_count; i++)
        if (txn->series[i].dirty && !window_enough(txn, &txn->series[i]) &&
            (rc = series_cover(txn, i, INT64_MIN, err)) != 0)
            goto done;
    if (plan_catalog(txn, &p) != 0 || (live = plan_series(txn, &p)) < 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    /* the previous commit's files on disk before this one clears their
     * marks (sync.c) */
    if (txn->settle && (rc = store_sync_files(txn->st->dir, err)) != 0)
        goto done;
    /* the RRD files are built and written, unnamed, beside the database
     * transaction, and named once it is committed (rrd_pool.c) */
    struct rrd_batch *batch = NULL;
    if (p.job_count > 0)
        rrd_batch_start(txn->st, p.jobs, p.job_count, &batch);
    rc = write_commit(txn, &p, (size_t)live, batch, &id, err);
    if (rc != 0) {
        rrd_batch_abort(batch);
        goto done;
    }
    if (commit_id != NULL)
        *commit_id = id;
    /* committed: the RRD files follow; a crash before they are all written
     * leaves them pending, and the next writer rebuilds them */
    rc = batch != NULL ? rrd_batch_finish(batch, progress, err)
                       : rrd_run_jobs(txn->st, p.jobs, p.job_count, progress, err);
    if (rc == RRD_NEED_WHOLE) /* a file not as the data says: rebuilt from the whole data */
        rc = repair_lag_whole(txn, err);
    /* written: current for readers in this boot, cleared by the next commit
     * after a sync; where the boot cannot be told, synced and cleared now */
    if (rc == 0 && p.job_count > 0 &&
        (rc = store_rrd_written(txn->st->dir, id, err)) == STORE_NO_BOOT_ID &&
        (rc = store_sync_files(txn->st->dir, err)) == 0)
        rc = db_clear_pending(txn->db, err);
    if (rc != 0) {
        char why[KPI_ERROR_MAX];
        snprintf(why, sizeof why, "%s", err != NULL ? err->message : "");
        kpi_fail(err, KPI_ESYSTEM,
                 "the data is committed, but RRD files lag (the next import repairs them): %s",
                 why);
    }
done:
    plan_free(&p);
    txn_free(txn);
    return rc;
}

void store_txn_describe(struct store_txn *txn, const struct store_commit_info *info)
{
    const char *author = info->author != NULL && info->author[0] != '\0' ? info->author : "unknown";
    txn->author = txn_strdup(txn, author, strlen(author));
    const char *kind = info->kind != NULL ? info->kind : "import";
    txn->kind = txn_strdup(txn, kind, strlen(kind));
    const char *source = info->source != NULL ? info->source : "";
    txn->source = txn_strdup(txn, source, strlen(source));
    const char *sha = info->sha256 != NULL ? info->sha256 : "";
    txn->sha256 = txn_strdup(txn, sha, strlen(sha));
    txn->rows = info->rows;
}

/* ---------------------------------------------------------------- revert */

/* Remove the field of a cell (a revert putting back "no value"). */
static int txn_remove(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                      enum store_field field)
{
    size_t si;
    int rc = series_get(txn, team, indicator, period, &si, NULL);
    if (rc != 0)
        return rc;
    struct wseries *s = &txn->series[si];
    size_t k = 0;
    while (k < s->count && s->points[k].period < period)
        k++;
    if (k == s->count || s->points[k].period != period)
        return 0;
    double old = field == STORE_VALUE ? s->points[k].value : s->points[k].target;
    if (isnan(old))
        return 0;
    if (series_own(txn, s) != 0)
        return KPI_ESYSTEM;
    struct kpi_point *p = &s->own[k];
    if (field == STORE_VALUE)
        p->value = NAN;
    else
        p->target = NAN;
    if (isnan(p->value) && isnan(p->target)) {
        memmove(s->own + k, s->own + k + 1, (s->count - k - 1) * sizeof *s->own);
        s->count--;
    }
    s->dirty = true;
    txn->last_key = 0; /* the append fast path must not trust this series' end */
    return 0;
}

int store_revert(struct store *st, uint64_t commit, bool force, const char *author,
                 const struct store_check_sink *conflicts, uint64_t *cells, struct kpi_error *err)
{
    *cells = 0;
    struct store_txn *txn = NULL;
    int rc = store_txn_begin(st, &txn, err);
    if (rc != 0)
        return rc;
    if (txn->db == NULL || commit == 0 || commit > db_last_commit(txn->db)) {
        store_txn_abort(txn);
        return kpi_fail(err, KPI_EUSAGE, "unknown commit %llu", (unsigned long long)commit);
    }
    sqlite3_stmt *q = NULL;
    /* each cell's versions before and after: a range of the primary key
     * (the bucket first in format 3) */
    static const char *const sql[2] = {
        "SELECT s.team, s.kpi, v.period, v.field, (SELECT w.value FROM versions w WHERE "
        "w.series = v.series AND w.period = v.period AND w.field = v.field AND w.commit_id < "
        "?1 ORDER BY w.commit_id DESC LIMIT 1), EXISTS (SELECT 1 FROM versions w WHERE "
        "w.series = v.series AND w.period = v.period AND w.field = v.field AND w.commit_id > "
        "?1), (SELECT period FROM indicators i WHERE i.id = s.kpi ORDER BY commit_id DESC "
        "LIMIT 1) FROM versions v JOIN series s ON s.id = v.series WHERE v.commit_id = ?1 "
        "ORDER BY s.team, s.kpi, v.period, v.field",
        "SELECT s.team, s.kpi, v.period, v.field, (SELECT w.value FROM versions w WHERE "
        "w.bucket = v.bucket AND w.series = v.series AND w.period = v.period AND w.field = "
        "v.field AND w.commit_id < ?1 ORDER BY w.commit_id DESC LIMIT 1), EXISTS (SELECT 1 FROM "
        "versions w WHERE w.bucket = v.bucket AND w.series = v.series AND w.period = v.period "
        "AND w.field = v.field AND w.commit_id > ?1), (SELECT period FROM indicators i WHERE "
        "i.id = s.kpi ORDER BY commit_id DESC LIMIT 1) FROM versions v JOIN series s ON s.id = "
        "v.series WHERE v.commit_id = ?1 ORDER BY s.team, s.kpi, v.period, v.field",
    };
    if (sqlite3_prepare_v2(txn->db, sql[db_bucketed(txn->db)], -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(err, txn->db, "reading versions");
        store_txn_abort(txn);
        return rc;
    }
    sqlite3_bind_int64(q, 1, (sqlite3_int64)commit);
    size_t later = 0;
    /* first pass: conflicts (cells changed again by a later commit) */
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (!sqlite3_column_int(q, 5))
            continue;
        later++;
        enum kpi_period_kind kind = KPI_PERIOD_MONTH;
        const char *kt = (const char *)sqlite3_column_text(q, 6);
        if (kt != NULL)
            kpi_period_kind_parse(kt, &kind);
        char label[KPI_LABEL_MAX], line[512];
        snprintf(line, sizeof line, "%s %s %s %s: changed again by a later commit",
                 (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1),
                 kpi_period_label(kind, sqlite3_column_int64(q, 2), label),
                 sqlite3_column_int(q, 3) == 0 ? "value" : "target");
        if (conflicts != NULL && conflicts->problem != NULL)
            conflicts->problem(conflicts->ctx, line);
    }
    sqlite3_reset(q);
    uint64_t later_notes = 0;
    if ((rc = notes_revert(txn, commit, false, conflicts, &later_notes, err)) != 0) {
        sqlite3_finalize(q);
        store_txn_abort(txn);
        return rc;
    }
    later += (size_t)later_notes;
    if (later > 0 && !force) {
        sqlite3_finalize(q);
        store_txn_abort(txn);
        return kpi_fail(err, KPI_EINPUT,
                        "commit %llu: %zu cells were changed again later; nothing reverted (see "
                        "--force)",
                        (unsigned long long)commit, later);
    }
    while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
        const char *team = (const char *)sqlite3_column_text(q, 0);
        const char *kpi = (const char *)sqlite3_column_text(q, 1);
        size_t ti, ii;
        if (store_txn_resolve_team(txn, team, false, &ti, NULL, err) != 0 ||
            store_txn_resolve_indicator(txn, kpi, false, &ii, NULL, err) != 0) {
            rc = KPI_ESYSTEM;
            break;
        }
        int64_t period = sqlite3_column_int64(q, 2);
        enum store_field field = sqlite3_column_int(q, 3) == 0 ? STORE_VALUE : STORE_TARGET;
        if (sqlite3_column_type(q, 4) == SQLITE_NULL)
            rc = txn_remove(txn, ti, ii, period, field);
        else
            rc = set_point(txn, ti, ii, period, field, sqlite3_column_double(q, 4), NULL, err);
        txn->last_key = 0;
        (*cells)++;
    }
    sqlite3_finalize(q);
    if (rc == 0)
        rc = notes_revert(txn, commit, true, NULL, cells, err);
    if (rc != 0) {
        store_txn_abort(txn);
        return rc != KPI_ESYSTEM ? rc : kpi_fail(err, KPI_ESYSTEM, "revert failed");
    }
    char source[64];
    snprintf(source, sizeof source, "commit %llu", (unsigned long long)commit);
    struct store_commit_info info = {
        .author = author, .kind = "revert", .source = source, .sha256 = NULL, .rows = *cells};
    store_txn_describe(txn, &info);
    return store_txn_commit(txn, NULL, NULL, err);
}
