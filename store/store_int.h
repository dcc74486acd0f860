/*
 * store internals shared by the files of store/: the open store, the loaded
 * view, the ledger file format, hash maps and the RRD writer. Nothing here is
 * part of the public API (tests may include it to craft ledger files).
 */
#ifndef KPI_STORE_INT_H
#define KPI_STORE_INT_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* ---------------------------------------------------------------- store */

struct sqlite3;

struct store {
    char *dir;
    bool create;
    bool read_only;
    unsigned threads;      /* resolved: >= 1 */
    unsigned lock_wait_ms; /* store_options.lock_wait_ms */
    size_t wal_bound;      /* store_options.wal_bound (0: DB_WAL_BOUND) */
    char *ledger_path;     /* DIR/ledger, the format before the database */
    /* store_changed's own connection to DIR/kpi.db (NULL until the file
     * exists), used under poll_mu by whichever thread asks */
    pthread_mutex_t poll_mu;
    struct sqlite3 *poll_db;
    struct sqlite3_stmt *poll_stmt;
    /* the points cache being written in the background (pcache.c), NULL:
     * none; under pcache_mu */
    pthread_mutex_t pcache_mu;
    struct pcache_job *pcache;
};

/* "DIR/name" into a fresh malloc'd string; NULL when out of memory. */
char *store_path_join(const char *dir, const char *name);

/* pwrite all of buf at off, retrying short writes and EINTR; false with
 * errno set (EIO when nothing could be written). */
bool store_pwrite_all(int fd, const void *buf, size_t size, off_t off);

/* Make path (a file of directory dir) hold exactly buf[0, size): readers see
 * the old file or the whole new one, never a part (file.c). tmp is a scratch
 * name in dir, used only when needed and never left behind. Returns 0,
 * STORE_FILE_NO_DIR when dir does not exist (nothing written), or -1 with e
 * filled. Nothing is synced: the ledger is the durable copy. */

#define STORE_FILE_NO_DIR 1
#define STORE_FILE_NO_UNNAMED 2 /* internal to file.c */
int store_file_replace(const char *dir, const char *path, const char *tmp, const void *buf,
                       size_t size, struct kpi_error *e);

/* store_file_replace of DIR/name (scratch name DIR/name.tmp) with text[0,
 * len): the small marker files (rrd-synced, rrd-written). Returns 0 or -1
 * with e filled (dir must exist). */
int store_replace_small(const char *dir, const char *name, const char *text, size_t len,
                        struct kpi_error *e);

/* The first half of store_file_replace, for a file written before the
 * commit that makes it current: buf written into an unnamed file
 * (O_TMPFILE) of dir, or of fallback when dir does not exist (any
 * directory of the same file system: the link may cross directories), and
 * nothing named. *fd (caller-owned: store_file_publish, or close, which
 * makes the file vanish). Returns 0; STORE_FILE_NO_DIR when neither
 * exists, STORE_FILE_NO_UNNAMED when unnamed files are not available
 * (nothing written, *fd -1); -1 with e filled. */
int store_file_prepare(const char *dir, const char *fallback, const void *buf, size_t size, int *fd,
                       struct kpi_error *e);

/* The second half: name the unnamed file fd path (tmp, a scratch name in
 * path's directory, when path exists: renamed over it). Returns 0 (fd
 * closed), -1 with e filled (fd closed), or, with fd still open for the
 * caller, STORE_FILE_NO_DIR (path's directory does not exist: make it and
 * call again) or STORE_FILE_NO_UNNAMED (no /proc to link through). */
int store_file_publish(int fd, const char *path, const char *tmp, struct kpi_error *e);

/* The reference without leading and trailing blanks (space, tab, CR, LF,
 * U+00A0, U+2007, U+202F): *len bytes from the returned pointer. */
const char *store_trim(const char *s, size_t *len);

/* When the trimmed ref, ASCII letters lower-cased, is a valid id: copy it to
 * id (KPI_ID_MAX + 1 bytes) and return true. */
bool store_ref_as_id(const char *ref, char *id);

/* Lock DIR exclusively (flock on the directory itself: no lock file),
 * waiting for another writer (at most lock_wait_ms when set: KPI_EBUSY); *fd is the directory's fd
 * (close it to release). When DIR does not exist and the store was opened with create: with
 * create_now it is created first; without, *fd = -1 and 0 is returned (the caller creates it when
 * it has something to write). Returns 0 or a negative status with err filled. */
int store_lock(const struct store *st, bool create_now, int *fd, struct kpi_error *err);

/* store_lock, creating DIR with its missing parents (mkdir -p) when
 * create_now; *made is how many path components it created, for
 * store_unmake_dirs. A lock that was waited for on a directory removed
 * meanwhile is not returned: it starts over. */
int store_lock_create(const struct store *st, bool create_now, int *fd, unsigned *made,
                      struct kpi_error *err);

/* Undo store_lock_create's mkdir -p while still holding the lock: remove DIR
 * and then its parents, made levels in all, stopping at the first that is
 * not empty. */
void store_unmake_dirs(const char *dir, unsigned made);

/* ---------------------------------------------------------------- views */

/* The points of one series, in their own allocation, when the view was
 * loaded per series (scoped, or for store_view_update): refcounted, shared by
 * the views store_view_update builds from it. An update that only adds later
 * periods writes them after the points some view already counts (used),
 * claiming the room with a compare-and-swap on used, so that no view ever
 * sees its points change and two successors of one view never share room. */
struct series_points {
    atomic_size_t refs;
    atomic_size_t used; /* points claimed: the longest count of any view */
    size_t cap;
    struct kpi_point pts[];
};

void series_points_release(struct series_points *b); /* NULL is fine */
/* A new allocation with room for count points and the slack left for later
 * appends (refs 1, used 0); NULL when out of memory. */
struct series_points *series_points_alloc(size_t count);

/* A view: one loaded ledger generation. Every pointer inside points into buf
 * (strings, points) or into the arrays below, all owned by the view. */
struct store_view {
    uint64_t generation;      /* the commit it shows (the legacy ledger's generation) */
    uint64_t last_commit;     /* the latest commit when it was loaded */
    bool from_db;             /* loaded from DIR/kpi.db, else from a legacy ledger */
    struct kpi_point *points; /* the points of a view from the database */
    char *buf;
    size_t size;
    struct kpi_team *teams;
    size_t team_count;
    size_t *team_parent; /* index of the parent, SIZE_MAX for a root */
    struct kpi_indicator *indicators;
    size_t indicator_count;
    struct store_series *series;
    size_t series_count;
    /* parallel to series when loaded per series (else NULL: the points are
     * in `points` or `buf`): each series' allocation (a reference) and its
     * database id */
    struct series_points **series_buf;
    uint32_t *series_id;
    struct store_series_key *lag; /* series whose RRD file may lag */
    struct store_notes *notes;    /* NULL: none (notes.c) */
    size_t lag_count;
    uint64_t cache_commit; /* the commit of DIR/points.cache it was built from
                              (pcache.c); 0: read from the database alone */
    /* identity of DIR/ledger when loaded, for store_changed */
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t file_size;
    struct timespec mtim;
};

struct store_series_key {
    uint32_t team;
    uint32_t indicator;
};

/* The index of the series (team, indicator) in view->series. */
bool view_series_index(const struct store_view *view, size_t team, size_t indicator, size_t *index);

/* --------------------------------------------------------------- database */

#define STORE_DB_NAME "kpi.db"

enum db_mode {
    DB_READ,   /* an existing database, read only */
    DB_WRITE,  /* an existing database */
    DB_CREATE, /* created when missing (the first commit) */
};

/* "DIR/kpi.db", malloc'd (NULL when out of memory). */
char *db_path(const char *dir);
bool db_exists(const char *dir);

/* Open DIR/kpi.db (WAL, synchronous=FULL, a busy timeout). *out is
 * caller-owned: sqlite3_close. KPI_ESYSTEM when it cannot be opened. */
int db_open(const char *dir, enum db_mode mode, struct sqlite3 **out, struct kpi_error *err);

/* The WAL bound of a writer's connection when none is given (64 MiB): a
 * commit that leaves more frames in DIR/kpi.db-wal checkpoints them.
 * Consecutive commits write the same pages (each series' last leaves): a
 * checkpoint after several copies each page once. A commit that writes a
 * quarter of the bound itself (a load) checkpoints too. */
#define DB_WAL_BOUND ((size_t)64 << 20)

/* Set the connection's WAL bound, in bytes (0: DB_WAL_BOUND; at least one
 * page): a checkpoint after a commit past it, or one that wrote a quarter
 * of it. */
void db_wal_bound(struct sqlite3 *db, size_t bytes);

/* COMMIT on a connection of db_open: committed(arg) (committed may be NULL)
 * is called from SQLite's WAL hook once the commit is durable (its WAL
 * frames synced), before the checkpoint the WAL's bound may ask for; not
 * at all when the transaction wrote nothing. */
int db_commit(struct sqlite3 *db, void (*committed)(void *arg), void *arg, struct kpi_error *err);

/* A PASSIVE checkpoint: copies into kpi.db the frames no reader needs,
 * waiting for nobody; then, when all are copied and nobody reads or writes
 * the WAL, empties it (TRUNCATE). *wal (may be NULL): the frames of the WAL
 * and how many are in kpi.db, after the copy and before it was emptied. */
int db_checkpoint(struct sqlite3 *db, struct store_wal *wal, struct kpi_error *err);

/* Create the tables when the database is new (inside the caller's
 * transaction); KPI_ESYSTEM for a database of an unknown format. */
int db_create_schema(struct sqlite3 *db, struct kpi_error *err);
int db_check_format(struct sqlite3 *db, struct kpi_error *err);

/* The time bucket of a period index (format 3, docs/ARCHITECTURE.md "The
 * database"): 16 consecutive periods, floored for negative indices as
 * SQLite's `period >> 4` is. */
#define DB_BUCKET_SHIFT 4
static inline int64_t db_bucket(int64_t period)
{
    return period / 16 - (period % 16 < 0);
}

/* Whether the connection's database is of format 3 (points and versions
 * keyed by time bucket first); format 2 until its first writer converts
 * it. Queries that read one series across time are chosen by it. */
bool db_bucketed(struct sqlite3 *db);

/* SQL: the buckets of table t holding rows (from the bucket `from`
 * restricts to on, while the condition `to` on b.x holds), in order, as the
 * recursive table b(x): a walk of the
 * primary key's first column, one seek per bucket, written out rather than
 * left to the planner (its own skip-scan needs ANALYZE statistics). One
 * series' rows are then one range of the key per bucket. The last row of b
 * is NULL. */
#define DB_BUCKETS(t, from, to)                                                                    \
    "WITH RECURSIVE b(x) AS (SELECT min(bucket) FROM " t from " UNION ALL SELECT (SELECT "         \
    "min(bucket) FROM " t " WHERE bucket > b.x) FROM b WHERE b.x IS NOT NULL" to ") "

/* KPI_ESYSTEM "FILE: what: sqlite's message (corrupt|sqlite)". */
int db_fail(struct kpi_error *err, struct sqlite3 *db, const char *what);
int db_exec(struct sqlite3 *db, const char *sql, struct kpi_error *err);
/* Column col of the current row of st as a number: NAN for NULL (an absent
 * value or target). */
double db_column_number(struct sqlite3_stmt *st, int col);

/* The latest commit id (0 for none). */
uint64_t db_last_commit(struct sqlite3 *db);

/* Load the data as it stood right after commit `at` (0 or >= the latest:
 * the latest), in one read transaction. view->lag holds the series whose
 * RRD files may lag (rrd_pending) for the latest data. */
int db_load_view(struct sqlite3 *db, uint64_t at, struct store_view **out, struct kpi_error *err);
/* The same, keeping only the series scope asks for (NULL: all). */
int db_load_view_scoped(struct sqlite3 *db, uint64_t at, const struct store_scope *scope,
                        struct store_view **out, struct kpi_error *err);

/* The latest commit's catalog and notes only (a writer's base: its points
 * are read series by series when the writer touches them), with the lag set
 * (rrd_pending) in view->lag; no series. One read transaction. */
int db_load_catalog(struct sqlite3 *db, struct store_view **out, struct kpi_error *err);

/* The latest commit with only the series a repair has work for: pending
 * ones (unless this boot's writer settled them: store_rrd_settled) and
 * those whose RRD file is missing (rrd_repair_view with
 * check_files then does the same work as on the whole view). */
int db_load_view_repair(struct sqlite3 *db, const struct store *st, struct store_view **out,
                        struct kpi_error *err);

/* What a read transaction sees: the latest commit, the schema cookie and
 * the format (user_version). Two transactions with equal marks see the
 * same commit (db.c, begin_load). */
struct db_mark {
    uint64_t last_commit;
    int64_t schema, format;
};
int db_read_mark(struct sqlite3 *db, struct db_mark *out, struct kpi_error *err);

/* db_load_view of the whole latest data (at 0) or of commit at, for tests:
 * threads 1 loads on db alone (else the whole table in format 3 is read in
 * two ranges, one on a second connection in a thread of its own); between,
 * when not NULL, runs between the begins of the two read transactions. */
struct db_load_hook {
    int threads;
    void (*between)(void *arg);
    void *arg;
};
int db_load_view_hooked(struct sqlite3 *db, uint64_t at, const struct db_load_hook *hook,
                        struct store_view **out, struct kpi_error *err);

/* The latest commit, each series in its own allocation (store_view_update
 * can then share them). */
int db_load_view_shared(struct sqlite3 *db, struct store_view **out, struct kpi_error *err);

/* The latest commit built from old (a view loaded per series, of the latest
 * commit when it was loaded): the catalog read again, the cells of the
 * commits after old's read through versions_by_commit, unchanged series
 * shared with old. *changes (when not NULL): how many cells changed since
 * old's commit. */
int db_update_view(struct sqlite3 *db, const struct store_view *old, struct store_view **out,
                   size_t *changes, struct kpi_error *err);

/* The data as it stood after commit `at` (< cur's commit), built from cur
 * (a view loaded per series, store_view_open_shared/update): a series no
 * commit in (at, cur's] touched shares cur's points; one they only added
 * later periods to shares the points before those (same allocation, a
 * smaller count: store_view_update never rewrites points a view counts);
 * any other is read from versions. The catalog and notes of `at`. */
int db_view_at_from(struct sqlite3 *db, const struct store_view *cur, uint64_t at,
                    struct store_view **out, struct kpi_error *err);

/* ------------------------------------------------------------ points cache */

/* DIR/points.cache (pcache.c): the points of every series of the view of one
 * commit, derived from the database and rebuilt from it, so that a
 * whole-directory load reads one file instead of stepping every row. */
#define STORE_PCACHE_NAME "points.cache"
#define STORE_PCACHE_TMP "points.cache.tmp"

/* Why a cache was not used (pcache_read). */
enum pcache_status {
    PCACHE_OK,
    PCACHE_MISSING,   /* no file (or it cannot be opened) */
    PCACHE_DAMAGED,   /* bad header, size or checksum */
    PCACHE_FOREIGN,   /* its commit is not this database's (another
                         directory, another history, or a commit not there) */
    PCACHE_NO_MEMORY, /* out of memory reading it */
};

/* The view of the cache's commit as store_view_update wants an old view: the
 * series (team and indicator unset: the update takes them from its own
 * catalog) with their points, each in its own allocation, and their ids.
 * *out caller-owned (store_view_free) when PCACHE_OK, else NULL. db: a
 * connection to the directory's database, to check the commit's hash. */
enum pcache_status pcache_read(const char *dir, struct sqlite3 *db, struct store_view **out);

/* Whether the cache file open on fd is one of commit *commit of db: its
 * header, its size, and the chain hash of that commit in db (what
 * pcache_read checks before the points; the checksum is left to
 * pcache_read). PCACHE_OK, PCACHE_DAMAGED or PCACHE_FOREIGN. Used by
 * store_backup to copy a cache only into the copy it belongs to. */
enum pcache_status pcache_check(int fd, struct sqlite3 *db, uint64_t *commit);

/* Write view (loaded per series, of the latest commit when it was loaded) as
 * DIR/points.cache: an unnamed file renamed over the old one once whole, so
 * that a reader sees the old file or the new one. Nothing is synced: a file
 * damaged by a crash fails its checksum. 0, or -1 with errno set. */
int pcache_write(const char *dir, struct sqlite3 *db, const struct store_view *view);

/* The latest commit, whole, each series in its own allocation: from
 * DIR/points.cache and the commits after it when the cache is usable, else
 * from the database. With write, the cache is written again in the
 * background (a thread of st, pcache_stop) when it was not usable and the
 * directory holds at least KPI_POINTS_CACHE_MIN points (1,000,000 by
 * default), or when an eighth of the points changed since its commit. */
int pcache_load_latest(struct store *st, struct sqlite3 *db, bool write, struct store_view **out,
                       struct kpi_error *err);

/* Remove DIR/points.cache, if any (kpi check --repair, after rebuilding the
 * points it may hold as they were). */
void pcache_remove(const char *dir);

/* Stop the background write of the cache, if any, and wait for it: an
 * unfinished file is dropped (store_close). */
void pcache_stop(struct store *st);
/* Wait for the background write of the cache, if any, to end (tests). */
void pcache_wait(struct store *st);

/* After the RRD files of the pending series were written and synced: forget
 * them (not synced: a lost delete costs a redundant repair). */
int db_clear_pending(struct sqlite3 *db, struct kpi_error *err);

/* Flush every file of DIR's file system to disk (syncfs). */
int store_sync_files(const char *dir, struct kpi_error *err);

/* Whether DIR/rrd-written names this boot and commit: the RRD files of
 * every pending series were written whole after that commit, in this boot
 * (sync.c), so they hold what the data says, synced or not. */
bool store_rrd_settled(const char *dir, uint64_t commit);

/* Record that the RRD files of every pending series were written after
 * commit (DIR/rrd-written, not synced). 0; STORE_NO_BOOT_ID when the boot
 * cannot be told (nothing written: sync and clear the marks instead); or
 * KPI_ESYSTEM with err filled. */
#define STORE_NO_BOOT_ID 1
int store_rrd_written(const char *dir, uint64_t commit, struct kpi_error *err);

/* ----------------------------------------------------------------- commits */

#define COMMIT_TIME_LEN 20 /* YYYY-MM-DDThh:mm:ssZ */

struct commit_series {
    const char *team, *kpi;
    int64_t sid;                       /* its id in the series table when known, else 0 */
    const struct kpi_point *old, *cur; /* sorted by period */
    size_t old_count, cur_count;
};

/* What commit_write records: the catalog after the commit, with the entries
 * that changed flagged, and the series that may have changed. Sorted by id
 * (series by team id, then indicator id). */
struct commit_input {
    const char *author, *kind, *source, *sha256;
    uint64_t rows;
    const struct kpi_team *teams;
    const bool *team_changed;
    size_t team_count;
    const struct kpi_indicator *indicators;
    const bool *indicator_changed;
    size_t indicator_count;
    const struct commit_series *series;
    size_t series_count;
    const struct commit_note *notes; /* sorted by commit_note_cmp */
    size_t note_count;
};

/* Write one commit inside the caller's write transaction; *id = its id. */
int commit_write(struct sqlite3 *db, const struct commit_input *in, uint64_t *id,
                 struct kpi_error *err);

struct commit_header {
    uint64_t id;
    char time[COMMIT_TIME_LEN + 1];
    const char *author, *kind, *source, *sha256;
    uint64_t rows, new_cells, corrected, series;
    const char *teams;     /* JSON array */
    const char *prev_hash; /* 64 hex digits; zeros for the first commit */
    const char *body;      /* hex digest of the body (hash.c) */
};

void commit_hash_team(struct kpi_sha256 *s, const struct kpi_team *t);
void commit_hash_indicator(struct kpi_sha256 *s, const struct kpi_indicator *ind);
void commit_hash_version(struct kpi_sha256 *s, const char *team, const char *kpi, int64_t period,
                         int field, double v);
void commit_hash_header(const struct commit_header *h, char hash[65]);

/* ------------------------------------------------------------- ledger file */

#define LEDGER_MAGIC "KPILEDG1"
#define LEDGER_VERSION 1u
#define LEDGER_NONE UINT64_MAX /* a team without parent */

/* All integers in host byte order (kpi runs on little-endian machines; a
 * foreign file fails the version check). Every section starts at a multiple
 * of 8 bytes. The file ends with the 8-byte checksum of all bytes before it. */
struct ledger_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t generation;
    uint64_t team_count;
    uint64_t indicator_count;
    uint64_t series_count;
    uint64_t point_count;
    uint64_t lag_count;
    uint64_t strings_off; /* NUL-terminated strings, referenced by offset */
    uint64_t strings_len;
    uint64_t teams_off;      /* struct ledger_team[team_count], sorted by id */
    uint64_t indicators_off; /* struct ledger_indicator[], sorted by id */
    uint64_t series_off;     /* struct ledger_series[], sorted by (team, indicator) */
    uint64_t points_off;     /* struct kpi_point[point_count], series after series */
    uint64_t lag_off;        /* struct store_series_key[lag_count] */
    uint64_t total_size;     /* of the whole file, checksum included */
};

struct ledger_team {
    uint64_t id; /* string offsets */
    uint64_t name;
    uint64_t parent; /* team index, or LEDGER_NONE */
};

struct ledger_indicator {
    uint64_t id;
    uint64_t name;
    uint64_t unit;
    int32_t family;
    int32_t direction;
    int32_t period;
    int32_t aggregate;
    double amber;
    double red;
    double weight;
};

struct ledger_series {
    uint32_t team;
    uint32_t indicator;
    uint64_t first; /* index of its first point; series are contiguous */
    uint64_t count; /* >= 1 */
};

/* The 64-bit checksum of len bytes (len a multiple of 8), word-wise. */
uint64_t ledger_checksum(const void *data, size_t len);

/* What ledger_write serialises: arrays already sorted as the file wants
 * them (teams and indicators by id, series by (team, indicator) index). */
struct ledger_image {
    uint64_t generation;
    const struct kpi_team *teams;
    const size_t *team_parent; /* SIZE_MAX for a root */
    size_t team_count;
    const struct kpi_indicator *indicators;
    size_t indicator_count;
    const struct store_series *series;
    size_t series_count;
    const struct store_series_key *lag;
    size_t lag_count;
};

/* Load DIR/ledger into a new view (a missing file is generation 0, empty).
 * KPI_ESYSTEM "DIR/ledger: corrupt ledger (...)" for a bad file. */
int ledger_load(const char *dir, struct store_view **out, struct kpi_error *err);

/* True when DIR/ledger exists (some generation was committed). */
bool ledger_exists(const char *dir);

/* Write img durably as the new DIR/ledger (tmp file, fsync, rename, fsync
 * DIR). Only tests write ledgers now: the format before the database. */
int ledger_write(const char *dir, const struct ledger_image *img, struct kpi_error *err);

/* The smallest and largest period index of years 1..9999 for a kind. */
void ledger_period_bounds(enum kpi_period_kind kind, int64_t *min, int64_t *max);

/* ------------------------------------------------------------- hash maps */

/* String keys (borrowed) to indices; duplicates allowed (lookups visit every
 * slot whose key is equal). Open addressing, load factor <= 1/2. */
struct strmap_slot {
    const char *key; /* NULL: empty */
    uint64_t hash;
    size_t value;
};
struct strmap {
    struct strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t used;
};
uint64_t strmap_hash(const char *s);
int strmap_put(struct strmap *m, const char *key, size_t value); /* 0 or KPI_ESYSTEM */
/* Iterate the values of key: start with *pos = 0; returns false at the end. */
bool strmap_next(const struct strmap *m, const char *key, uint64_t hash, size_t *pos,
                 size_t *value);
void strmap_free(struct strmap *m);

/* -------------------------------------------------------------- RRD files */

/* One series to bring in line: its new points and those of the generation
 * its RRD file currently holds (NULL/0: no file yet, or unknown). */
struct rrd_job {
    const char *team_id;
    const char *kpi_id;
    enum kpi_period_kind kind;
    const struct kpi_point *points;
    size_t count;
    const struct kpi_point *old_points;
    size_t old_count;
    bool rebuild; /* rebuild whatever the old points say */
    /* points and old_points are the series' last points only (a
     * transaction's window): the job may append to the file, but when the
     * file is not as old_points say, it fails with RRD_NEED_WHOLE instead of
     * rebuilding it */
    bool partial;
};

#define RRD_NEED_WHOLE 100 /* rrd_run_jobs: a partial job could not append */

#define RRD_JOB_NOTHING 101 /* rrd_job_prepare: the file already holds it */

/* Run the jobs on st->threads threads (nothing, append or rebuild each),
 * reporting ("rrd", done, total) from the calling thread. RRD_NEED_WHOLE
 * when every job but some partial ones succeeded (those need a rebuild from
 * the whole series). */
int rrd_run_jobs(const struct store *st, struct rrd_job *jobs, size_t count,
                 const struct store_progress *progress, struct kpi_error *err);
/* The same, reporting (phase, done, total). */
int rrd_run_phase(const struct store *st, struct rrd_job *jobs, size_t count, const char *phase,
                  const struct store_progress *progress, struct kpi_error *err);

/* One job, the data committed (rrd.c): nothing, append or rebuild. 0,
 * RRD_NEED_WHOLE (a partial job that cannot append), or -1 with e filled.
 * Thread-safe (touches job's file only). */
int rrd_job_run(const struct store *st, const struct rrd_job *job, struct kpi_error *e);

/* What a job prepared before its commit (rrd_job_prepare): a rebuild's
 * file written unnamed (fd >= 0), or an append computed, its file open and
 * locked (append), or neither (-1, NULL). */
struct rrd_image_pending;
struct rrd_prepared {
    int fd;
    struct rrd_image_pending *append;
};

/* One job before its commit is made, writing nothing anyone can see: a
 * rebuild's file built and written into an unnamed file
 * (store_file_prepare); an append (when alloc is not NULL) read and
 * computed, its bytes held for the writes after the commit in memory from
 * alloc(ctx, size) (never freed by the job). *out (caller-owned:
 * rrd_job_publish once committed, else rrd_prepared_drop); with neither,
 * the job runs after the commit (rrd_job_run), which also reports whatever
 * failed here. Returns RRD_JOB_NOTHING when the file already holds what the
 * data gives, else 0. Thread-safe. */
int rrd_job_prepare(const struct store *st, const struct rrd_job *job,
                    void *(*alloc)(void *ctx, size_t size), void *ctx, struct rrd_prepared *out);

/* Once committed: finish what *prep holds (taken, *prep left empty): name
 * the prepared file, replacing the old one, or write the computed append;
 * with nothing prepared, rrd_job_run. Returns as rrd_job_run. Thread-safe. */
int rrd_job_publish(const struct store *st, const struct rrd_job *job, struct rrd_prepared *prep,
                    struct kpi_error *e);
/* Not committed: the prepared file vanishes, the append is not written. */
void rrd_prepared_drop(struct rrd_prepared *prep);

/* The RRD step of a commit beside its database transaction (rrd_pool.c):
 * rrd_batch_start starts st->threads threads that prepare the jobs
 * (rrd_job_prepare) while the caller writes the database; then exactly one
 * of rrd_batch_finish (committed: the prepared files are named, the other
 * jobs run; returns as rrd_run_jobs, reporting "rrd") or rrd_batch_abort
 * (not committed: the prepared files vanish) frees the batch. jobs and
 * their points are borrowed, read-only, until then. *out NULL when out of
 * memory (the caller runs rrd_run_jobs after the commit instead). */
struct rrd_batch;
void rrd_batch_start(const struct store *st, struct rrd_job *jobs, size_t count,
                     struct rrd_batch **out);
/* The database says the commit is durable: the threads may name and append
 * at once, before rrd_batch_finish (called from SQLite's WAL hook, while the
 * committing thread checkpoints). Thread-safe; b may be NULL. */
void rrd_batch_commit(struct rrd_batch *b);
int rrd_batch_finish(struct rrd_batch *b, const struct store_progress *progress,
                     struct kpi_error *err);
void rrd_batch_abort(struct rrd_batch *b);

/* Compare the RRD file of job (its points, rebuild ignored) with what the
 * data says for every day its daily archive holds: 0 equal, 1 different
 * (why says how: missing, unreadable, or the first day that differs). */
int rrd_verify(const struct store *st, const struct rrd_job *job, char *why, size_t cap);

/* The generation recorded in DIR/rrd-synced (0 when missing or unreadable). */
uint64_t rrd_synced_read(const char *dir);
int rrd_synced_write(const char *dir, uint64_t generation, struct kpi_error *err);

/* With DIR locked: rebuild the RRD files of view's lag set (a legacy
 * ledger's when rrd-synced is behind; the database's rrd_pending), and with
 * check_files those of every series whose file is missing; then sync them
 * and clear the lag (db: the view's database, NULL for a legacy ledger). */
int rrd_repair_view(const struct store *st, const struct store_view *view, struct sqlite3 *db,
                    bool check_files, const struct store_progress *progress, struct kpi_error *err);

/* ------------------------------------------------------------------ notes */

struct store_notes; /* the notes of a view (notes.c) */
struct note_stage;  /* the notes staged by a transaction (notes.c) */
struct sqlite3_stmt;

/* Load the notes as they stood at commit `at` for view v (whose catalog is
 * loaded). *out is owned by the view: notes_free. */
int notes_load(struct sqlite3 *db, uint64_t at, const struct store_view *v,
               struct store_notes **out, struct kpi_error *err);
void notes_free(struct store_notes *n);      /* NULL is fine */
void notes_stage_free(struct note_stage *s); /* NULL is fine */
bool notes_stage_dirty(const struct note_stage *s);

/* One changed note of a commit: text NULL = removed; was_set: the cell had
 * a note before. Sorted by commit_note_cmp (team, kpi, period). */
struct commit_note {
    const char *team, *kpi;
    int64_t period;
    const char *text;
    bool was_set;
};
int commit_note_cmp(const void *a, const void *b);

struct notes_counts {
    size_t new_cells, corrected;
    size_t series; /* series with a changed note and no changed number */
};

/* Write the notes of commit `commit` (after its versions) and hash them into
 * body. */
int notes_write(struct sqlite3 *db, uint64_t commit, const struct commit_note *notes, size_t count,
                struct kpi_sha256 *body, struct notes_counts *counts, struct kpi_error *err);

/* Hash the notes commit `commit` wrote, as notes_write did (kpi check);
 * *cache is a statement kept between calls (finalize it). 0 or -1. */
int notes_hash_commit(struct sqlite3 *db, struct sqlite3_stmt **cache, uint64_t commit,
                      struct kpi_sha256 *body);

void commit_hash_note(struct kpi_sha256 *s, const char *team, const char *kpi, int64_t period,
                      const char *text);

#endif
