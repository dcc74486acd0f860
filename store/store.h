/*
 * store — the data directory: the catalog of teams and indicators, the
 * lossless raw ledger of observations and targets, and one RRD file per
 * series that follows the ledger (SPEC §3).
 *
 * Writers take flock(2) on DIR itself: one writer at a time, others wait;
 * a DIR that does not exist yet is created by the first commit, so a failed
 * first import leaves nothing behind.
 *
 * Layout of a data directory DIR (docs/ARCHITECTURE.md explains why):
 *   DIR/kpi.db            SQLite (WAL): the catalog, every commit and every
 *                         version of every cell (the system of record); a
 *                         commit is one SQLite transaction, synced once
 *   DIR/series/<team>/<kpi>.rrd
 * A directory written before the database (DIR/ledger, DIR/generation,
 * DIR/rrd-synced) is read as it is and converted by its first commit.
 *
 * Numbers that kpi reports come from the database (exact doubles, as
 * imported); the RRD files are derived from it for RRDtool clients and
 * graphs, and are rebuilt from it whenever they lag (after a crash, or a
 * correction of a period they already hold).
 *
 * Thread-safety: a struct store may be shared by threads for reading
 * (store_view_open); a view is immutable and may be read from any thread; a
 * transaction belongs to one thread.
 */
#ifndef KPI_STORE_H
#define KPI_STORE_H

#include "common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;      /* an open data directory */
struct store_view; /* an immutable snapshot of the data after one commit */
struct store_txn;  /* a write transaction: one imported file */

struct store_options {
    bool create;      /* create DIR (and parents' last level) when missing */
    bool read_only;   /* validate only (import --dry-run): transactions take no
                         lock, repair nothing and cannot commit */
    unsigned threads; /* RRD writer threads; 0 = number of online CPUs */
    /* how long a transaction waits for another writer's lock, in ms, before
     * store_txn_begin fails with KPI_EBUSY; 0 = as long as it takes */
    unsigned lock_wait_ms;
    /* bytes of DIR/kpi.db-wal past which a commit checkpoints (copies its
     * frames into DIR/kpi.db), as does a commit that writes a quarter of
     * them itself; 0 = 64 MiB */
    size_t wal_bound;
};

/* Open the data directory dir (copied). A missing dir is fine without
 * create: it reads as empty. Errors: KPI_ESYSTEM when dir exists but is not
 * a directory or cannot be read/created. *out is caller-owned: store_close. */
int store_open(const char *dir, const struct store_options *opts, struct store **out,
               struct kpi_error *err);
void store_close(struct store *st); /* NULL is fine */

/* The directory as given to store_open. Borrowed until store_close. */
const char *store_dir(const struct store *st);

/* ------------------------------------------------------------------ views */

/* Load the latest commit (one read transaction: a whole commit).
 * *out is caller-owned: store_view_free.
 * Errors: KPI_ESYSTEM (unreadable or corrupt database, with the path). */
int store_view_open(struct store *st, struct store_view **out, struct kpi_error *err);

/* Load the data as it stood right after commit `commit` (1..latest; 0 is
 * the latest). The catalog is the one of that commit too. Costs loading
 * the latest data plus what changed after that commit (found by commit id:
 * cheap for a recent commit, slower than a scan when most of the data
 * changed since). KPI_EUSAGE
 * "unknown commit N" when there is no such commit. */
int store_view_open_at(struct store *st, uint64_t commit, struct store_view **out,
                       struct kpi_error *err);

/* What a question about one team needs (SPEC §5): the team and its
 * descendants, whose series roll up into it; with kpi, that indicator only.
 * References are resolved as store_view_resolve_team/indicator do. */
struct store_scope {
    const char *team;  /* the team (required unless catalog_only) */
    const char *kpi;   /* NULL: every indicator */
    bool catalog_only; /* no series at all: listings, log, history */
};

/* store_view_open_at loading only the series scope asks for (scope NULL:
 * all of them). The catalog is whole; other series are absent from the view
 * (store_view_series_count counts the kept ones). A team or indicator the
 * catalog does not know keeps no series: resolving it on the view then
 * reports it. The latest data costs the kept series' points, read by primary
 * key; at an earlier commit, each of their cells is its last version at or
 * before that commit, read from their history -- neither costs the rest of
 * the directory. A directory of the ledger store not converted yet loads
 * whole. */
int store_view_open_scoped(struct store *st, uint64_t commit, const struct store_scope *scope,
                           struct store_view **out, struct kpi_error *err);

/* The latest commit, as store_view_open, for a long-lived reader (kpi
 * serve) that takes up later commits with store_view_update: each series'
 * points in an allocation of their own, with room for later periods. */
int store_view_open_shared(struct store *st, struct store_view **out, struct kpi_error *err);

/* The latest commit, built from old (a view of store_view_open_shared or of
 * this function, of the latest commit when it was loaded) by reading what
 * changed since old's commit: the catalog again (small), the cells of the
 * later commits (their versions, found by commit id), and the pending RRD
 * files. Series no commit touched share old's points (no copy); a series
 * that only gained later periods gets them written in place after old's
 * points when its allocation has room (old never sees them); any other
 * changed series is rebuilt from old's points and the changes. Costs what
 * changed, not the data. old stays valid and unchanged, and may be freed
 * before or after *out. Any other old (NULL, an earlier commit, a view of
 * store_view_open) loads as store_view_open_shared. Thread-safe: two
 * updates of one view never write the same room (the second copies). */
int store_view_update(struct store *st, const struct store_view *old, struct store_view **out,
                      struct kpi_error *err);

/* store_view_open_at built from current (a view of store_view_open_shared
 * or store_view_update, which stays borrowed only during the call): equal
 * to it, at the cost of the series corrected after commit only (the others
 * share current's points). Any other current, or a commit of 0 or >=
 * current's, loads as store_view_open_at. *out is caller-owned. */
int store_view_open_at_from(struct store *st, const struct store_view *current, uint64_t commit,
                            struct store_view **out, struct kpi_error *err);

/* Whether the view is the latest data (not an earlier commit's). */
bool store_view_is_latest(const struct store_view *view);
void store_view_free(struct store_view *view); /* NULL is fine */

/* The commit the view shows: 0 for an empty directory (for a directory of
 * the ledger store not converted yet, the ledger's generation). */
uint64_t store_view_generation(const struct store_view *view);

/* True when a commit was made (or pending RRD files were brought in line)
 * since `view` was loaded, for a view of the latest data. One query on the
 * store's own connection (a few microseconds); thread-safe. */
bool store_changed(struct store *st, const struct store_view *view);

/* The latest commit id (0: none), asked on the store's own connection as
 * store_changed does; UINT64_MAX when the database cannot be asked. */
uint64_t store_latest_commit(struct store *st);

/* Teams and indicators, sorted by id. Pointers are borrowed until
 * store_view_free. Index arguments must be < the count. */
size_t store_view_team_count(const struct store_view *view);
const struct kpi_team *store_view_team(const struct store_view *view, size_t i);
size_t store_view_indicator_count(const struct store_view *view);
const struct kpi_indicator *store_view_indicator(const struct store_view *view, size_t i);

/* Exact id lookup; returns 0 and sets *index, or KPI_ENOTFOUND. */
int store_view_find_team(const struct store_view *view, const char *id, size_t *index);
int store_view_find_indicator(const struct store_view *view, const char *id, size_t *index);

/* Resolve what a user typed (CLI argument, URL): the trimmed text matched
 * against ids case-insensitively, then against display names
 * case-insensitively. Never creates. KPI_ENOTFOUND with err saying
 * "unknown team \"x\"" / "unknown indicator \"x\"". */
int store_view_resolve_team(const struct store_view *view, const char *ref, size_t *index,
                            struct kpi_error *err);
int store_view_resolve_indicator(const struct store_view *view, const char *ref, size_t *index,
                                 struct kpi_error *err);

/* One series: the points of one (team, indicator), sorted by period, only
 * periods that have a value or a target point (the other field NaN).
 * Borrowed until store_view_free. */
struct store_series {
    size_t team;      /* index into the view's teams */
    size_t indicator; /* index into the view's indicators */
    size_t count;
    const struct kpi_point *points;
};

/* Series sorted by (team id, indicator id). */
size_t store_view_series_count(const struct store_view *view);
void store_view_series(const struct store_view *view, size_t i, struct store_series *out);
/* Returns true and fills *out when the series exists. */
bool store_view_find_series(const struct store_view *view, size_t team, size_t indicator,
                            struct store_series *out);

/* The RRD path of a series: DIR/series/<team>/<kpi>.rrd. Both ids must be
 * valid identifiers (KPI_EINPUT otherwise): the path never leaves DIR.
 * Returns 0 or KPI_ESYSTEM when cap is too small. */
int store_series_path(const struct store *st, const char *team_id, const char *kpi_id, char *buf,
                      size_t cap, struct kpi_error *err);

/* ----------------------------------------------------------- transactions */

/* Progress of long work (a commit writing thousands of RRD files). Called
 * from the committing thread only. */
struct store_progress {
    void (*report)(void *ctx, const char *phase, uint64_t done, uint64_t total);
    void *ctx;
};

/* Begin a write: locks DIR (waiting for another writer to finish),
 * creates DIR when the store was opened with create (KPI_ESYSTEM when it is
 * missing otherwise), brings the RRD files that lag after an interrupted
 * commit in line with the database, and loads the latest commit's catalog
 * as the working state: the points of a series are read when the
 * transaction first touches it, so beginning costs the catalog, not the
 * data. Indices of teams and indicators are those of this
 * transaction only (a commit sorts them by id). *out is owned by the caller
 * until store_txn_commit or store_txn_abort, which free it. */
int store_txn_begin(struct store *st, struct store_txn **out, struct kpi_error *err);

/* Resolve a team or indicator reference of input data (SPEC §2): match ids
 * case-insensitively, then names case-insensitively, then a valid id once
 * lower-cased, then its slug. When found, *index is set and 0 returned. When
 * not found: with create, the entry is created (display name = the trimmed
 * reference; an indicator gets kpi_indicator_defaults), *created is set and 0
 * returned; without create, KPI_ENOTFOUND. A reference whose slug is empty is
 * KPI_EINPUT in both cases. err's message has no file/line: the caller adds
 * them. created may be NULL. */
int store_txn_resolve_team(struct store_txn *txn, const char *ref, bool create, size_t *index,
                           bool *created, struct kpi_error *err);
int store_txn_resolve_indicator(struct store_txn *txn, const char *ref, bool create, size_t *index,
                                bool *created, struct kpi_error *err);

/* Apply a catalog row (creating the entry when unknown; strict refuses that
 * with KPI_ENOTFOUND). A parent that would make a cycle, or a period change
 * of an indicator that already has data, is KPI_EINPUT. created may be NULL. */
int store_txn_patch_team(struct store_txn *txn, const struct kpi_team_patch *patch, bool strict,
                         bool *created, struct kpi_error *err);
int store_txn_patch_indicator(struct store_txn *txn, const struct kpi_indicator_patch *patch,
                              bool strict, bool *created, struct kpi_error *err);

/* The working catalog (borrowed until the next call that changes it). */
const struct kpi_team *store_txn_team(const struct store_txn *txn, size_t index);
const struct kpi_indicator *store_txn_indicator(const struct store_txn *txn, size_t index);

enum store_field { STORE_VALUE = 0, STORE_TARGET, STORE_NOTE /* history only */ };
enum store_change { STORE_NEW = 0, STORE_CORRECTED, STORE_UNCHANGED };

/* Set one value or target point of (team, indicator) for a period (an index
 * in the indicator's period kind). v must be finite. *change (may be NULL)
 * says what it was against the working state: a new cell, a different value
 * (a correction) or the same value (compared bit for bit). Errors:
 * KPI_EINPUT for a non-finite v, a period outside the years 1 to 9999 or an
 * index out of range; KPI_ESYSTEM out of memory. O(1) when period is after
 * the series' last one, O(log n) to find it otherwise. */
int store_txn_set(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                  enum store_field field, double v, enum store_change *change,
                  struct kpi_error *err);

/* The cell's value (or target) in the working state, *working, and in the
 * generation the transaction began from, *base (NaN where there is none;
 * *base is only looked up when *working is a number: a working state only
 * adds and changes cells). Reads memory only, except the first time the
 * transaction touches the series (get, set or put), when its current points
 * from that period on are read from the database, and for a period before
 * those read so far (a failure then reads as NaN and makes the next set, put
 * and the commit fail with it). Cheapest for the next period of the
 * series of the last store_txn_set, where both are NaN after two
 * comparisons. An import tells a duplicate cell within one file from a
 * correction of stored data with it (a cell whose working value differs from
 * its base was set by this transaction). */
void store_txn_get(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                   enum store_field field, double *working, double *base);

/* store_txn_set for a cell that has no number yet. When the cell has one in
 * the working state, nothing is written and STORE_PUT_KEPT is returned
 * (store_txn_get reads what it holds); else as store_txn_set, and as fast
 * for the next period of the last series (an import sorted by series). */
enum { STORE_PUT_KEPT = 1 };
int store_txn_put(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                  enum store_field field, double v, enum store_change *change,
                  struct kpi_error *err);

/* What the transaction did so far: distinct series with at least one set
 * call, teams and indicators it created. */
struct store_txn_stats {
    size_t series;
    size_t new_teams;
    size_t new_indicators;
};
void store_txn_stats(const struct store_txn *txn, struct store_txn_stats *out);

/* What a commit records besides the data (SPEC §10). Strings are copied.
 * author NULL or "": "unknown"; kind "import" (default), "note" or
 * "revert" -- a commit that changes only the catalog is recorded as
 * "catalog" whatever kind says; source: the file name as given, "stdin";
 * sha256: 64 hex digits of the source's bytes, or NULL. */
struct store_commit_info {
    const char *author;
    const char *kind;
    const char *source;
    const char *sha256;
    uint64_t rows;
};
void store_txn_describe(struct store_txn *txn, const struct store_commit_info *info);

/* Commit: write one commit into the database in one SQLite transaction
 * (synced once; a directory of the ledger store is converted first, as
 * commit 1, in the same transaction), then bring the RRD files of the
 * changed series in line (appending in place when only later periods
 * changed, rebuilding via a temporary file and rename otherwise) on the
 * store's writer threads, sync them, mark them current, and release the
 * lock. A transaction that changed nothing (every set call UNCHANGED, no
 * catalog change) writes nothing: no commit, the directory untouched.
 * progress may be NULL; it gets ("rrd", done, total). *commit_id (may be
 * NULL) is set to the id of the commit written (what `kpi log` shows), 0
 * when none was (nothing changed, or the database transaction failed); it is
 * set too when only the RRD files failed after the data was committed. Frees
 * txn in every case. When it fails after the data was committed, the next
 * writer repairs the RRD files: err says so. */
int store_txn_commit(struct store_txn *txn, const struct store_progress *progress,
                     uint64_t *commit_id, struct kpi_error *err);

/* Discard everything the transaction did and release the lock. NULL is fine. */
void store_txn_abort(struct store_txn *txn);

/* Bring every RRD file that lags the committed data back in line (after a
 * crash), and recreate any series' RRD file that is missing. Takes the lock
 * itself (waiting for a writer); a no-op when all are in line, and when dir
 * does not exist. progress gets ("repair", done, total). */
int store_repair(struct store *st, const struct store_progress *progress, struct kpi_error *err);

/* ------------------------------------------------------------------ graphs */

struct store_graph_options {
    int64_t from_day, to_day; /* INT64_MIN / INT64_MAX: the whole series */
    unsigned width, height;   /* the graph area in pixels, e.g. 800 x 300 */
    bool png;                 /* else SVG */
};

/* Render the chart of (team, indicator) of view with librrd (rrdtool graph):
 * the actual as a line, the target as a dashed line, the amber and red
 * tolerance bands beside the target (below it for direction up, above for
 * down), the title "team name — indicator name (unit)" and a summary of the
 * last observation (value, target, gap, status). It covers the periods from
 * the series' first period with a value or a target to its last observed
 * one -- what its RRD file holds -- clipped to the periods containing
 * from_day and to_day (days since 1970-01-01); a range holding none of them
 * gives an empty chart of the requested periods. The graph area is width x
 * height pixels (100..4000 x 50..2000); the image is larger (axes, title,
 * legend). An SVG also carries the title and a text description of the chart
 * in <title> and <desc>.
 * Drawn from DIR/series/<team>/<kpi>.rrd when that file holds the view's
 * numbers; a roll-up (a team without observations or targets of its own,
 * SPEC §5), or a file that lags the view, is drawn from a temporary RRD file
 * (under $TMPDIR, else /tmp; removed before returning) holding the exact
 * numbers of the view.
 * *image (malloc'd, *size bytes) is caller-owned: free(); NULL after an
 * error. Thread-safe: rendering is serialised inside (librrd 1.7.2's graph
 * function is not thread-safe), the rest runs in parallel.
 * Errors: KPI_EUSAGE (bad options: size out of range, from_day > to_day,
 * index out of range, NULL argument), KPI_ENOTFOUND (no value nor target for
 * that series, own or rolled up), KPI_ESYSTEM (librrd, temporary file,
 * memory). */
int store_graph(struct store *st, const struct store_view *view, size_t team, size_t indicator,
                const struct store_graph_options *opts, void **image, size_t *size,
                struct kpi_error *err);

/* ---------------------------------------------------------------- history */

/* One commit (SPEC §10). Strings are owned by the array: store_commits_free. */
struct store_commit {
    uint64_t id;
    char time[21]; /* YYYY-MM-DDThh:mm:ssZ */
    char *author, *kind, *source, *sha256;
    char *teams; /* JSON array of team ids, e.g. ["a","b"] */
    uint64_t rows, new_cells, corrected, series;
};

struct store_log_query {
    const char *team; /* NULL: any; else commits that changed that team (exact id) */
    const char *kpi;  /* NULL: any; else commits that changed that indicator */
    size_t limit;     /* 0: all */
};

/* The commits, newest first. A directory without a database has none.
 * *out is caller-owned: store_commits_free(*out, *count). */
int store_log(struct store *st, const struct store_log_query *q, struct store_commit **out,
              size_t *count, struct kpi_error *err);
void store_commits_free(struct store_commit *c, size_t count);

/* What a --known-at text names: a commit number that exists, or the last
 * commit at or before a time ("YYYY-MM-DDThh:mm:ss[Z]" to the second,
 * "YYYY-MM-DD" the end of that UTC day). KPI_EUSAGE "unknown commit N",
 * "no commit at or before T" or "invalid commit ...". */
int store_resolve_commit(struct store *st, const char *text, uint64_t *commit,
                         struct kpi_error *err);

/* One version of one cell: value NaN when the cell was removed; for a
 * note (field STORE_NOTE), text (NULL when removed) and value NaN. */
struct store_version {
    int64_t period;
    enum store_field field;
    double value;
    char *text;
    uint64_t commit;
    char time[21];
    char *author;
};

/* Every version of every cell of (team, kpi) -- of one period when period
 * is not NULL -- oldest first (by commit, then period, then field). Ids are
 * exact. *out is caller-owned: store_versions_free. */
int store_history(struct store *st, const char *team, const char *kpi, const int64_t *period,
                  struct store_version **out, size_t *count, struct kpi_error *err);
void store_versions_free(struct store_version *v, size_t count);

/* An observation changed after it was first imported. */
struct store_restatement {
    char *team, *kpi;
    int64_t period;
    double first_value; /* NaN: none */
    uint64_t first_commit;
    double value; /* NaN: removed */
    uint64_t commit;
    double change; /* (value - first_value) / |first_value|; NaN when unknown */
};

/* Every observation with more than one version whose latest version is a
 * commit after since (0: all), sorted by |change| descending (unknown
 * changes last). *out is caller-owned: store_restatements_free. */
int store_restatements(struct store *st, uint64_t since, struct store_restatement **out,
                       size_t *count, struct kpi_error *err);
void store_restatements_free(struct store_restatement *r, size_t count);

/* ------------------------------------------------------ check and backup */

struct store_check_sink {
    void (*problem)(void *ctx, const char *line); /* one line per problem */
    void *ctx;
};

/* Verify the data directory (SPEC §10): SQLite's integrity check, every
 * commit's hash recomputed from its rows and its link to the previous one
 * (a change made behind kpi's back), the current points against the
 * versions, and every RRD file against the data. With repair (under the
 * writer lock): the current points are rebuilt from the versions and every
 * RRD file that differs is rebuilt. *problems counts what was found,
 * *repaired what of it was rebuilt. Returns 0, or a status when the check
 * itself could not run. */
int store_check(struct store *st, bool repair, const struct store_check_sink *sink,
                size_t *problems, size_t *repaired, struct kpi_error *err);

/* Write a consistent copy of the data directory to dest (which must not
 * exist, or be an empty directory): the database copied with SQLite's online
 * backup (one snapshot, while imports and servers go on), then the RRD files
 * built from that copy. KPI_EUSAGE when dest is not empty or the directory
 * has no database yet. */
int store_backup(struct store *st, const char *dest, struct kpi_error *err);

/* DIR/kpi.db-wal at a checkpoint: the frames it held (the commits since the
 * WAL last restarted) and how many of them are in DIR/kpi.db after it. */
struct store_wal {
    uint64_t frames;
    uint64_t copied;
};

/* Copy the commits of DIR/kpi.db-wal into DIR/kpi.db and sync it (an SQLite
 * PASSIVE checkpoint): waits for no writer and no reader, copies what no
 * reader still reads from the WAL; the next commit restarts the WAL once
 * all of it is copied. Commits are durable without it (their WAL is
 * synced): kpi serve runs it after taking up a commit, off the commits'
 * path. When all is copied and nobody reads or writes the WAL, it is
 * emptied (truncated). *wal (may be NULL): zeros when there is no
 * database. Thread-safe (its own connection). KPI_ESYSTEM with the path. */
int store_checkpoint(struct store *st, struct store_wal *wal, struct kpi_error *err);

/* Convert DIR/kpi.db to the latest format now, as the first writer's
 * commit otherwise does (docs/DECISIONS.md, "Format 3"): one transaction,
 * no commit of the history. 0 when there is no database or it is already
 * of the latest format. Takes DIR's lock (waits for a running import). */
int store_upgrade(struct store *st, struct kpi_error *err);

/* kpi revert N: one new commit (kind "revert", source "commit N") that puts
 * back, for every cell commit N changed, its version before N (removing
 * the cells N created). When a later commit changed one of those cells
 * again, each is reported to conflicts ("team kpi period field: ...") and
 * KPI_EINPUT returned with nothing written, unless force. *cells = the
 * cells put back. KPI_EUSAGE for an unknown commit. */
int store_revert(struct store *st, uint64_t commit, bool force, const char *author,
                 const struct store_check_sink *conflicts, uint64_t *cells, struct kpi_error *err);

/* ------------------------------------------------------------------ notes */

/* A note (SPEC §11): a text on one (team, indicator, period), at most
 * STORE_NOTE_MAX bytes of UTF-8 without control characters but newline.
 * Notes are versioned like values: each set or removal is part of a
 * commit (its hash, kpi history, --known-at, kpi revert). */
#define STORE_NOTE_MAX 2000

/* The text without leading and trailing blanks (space, tab, CR, LF): *len
 * bytes from the returned pointer (inside text). */
const char *store_note_trim(const char *text, size_t *len);

/* Whether text[0, len) may be a note: KPI_EINPUT with err saying why not
 * (too long, not UTF-8, a control character and its byte), else 0. */
int store_note_check(const char *text, size_t len, struct kpi_error *err);

/* Set the note of (team, indicator, period) -- indices of this
 * transaction, period in the indicator's kind -- to text[0, len) after
 * store_note_trim; an empty text removes it. *change (may be NULL) against
 * the working state: NEW, CORRECTED (changed or removed) or UNCHANGED. A
 * cell given a note already in this transaction must get the same text
 * again (KPI_EINPUT "another row of this file gives this period another
 * note" otherwise). Errors: KPI_EINPUT (store_note_check, period outside
 * the years 1 to 9999), KPI_ESYSTEM (memory). */
int store_txn_note(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                   const char *text, size_t len, enum store_change *change, struct kpi_error *err);

/* The note of (team, indicator, period) as the view's commit left it, or
 * NULL. Borrowed until store_view_free. O(log notes); thread-safe. */
const char *store_view_note(const struct store_view *view, size_t team, size_t indicator,
                            int64_t period);

/* Every note of a view, sorted by (team, indicator, period): count, then
 * the i-th (i < count; text borrowed until store_view_free). */
struct store_note {
    size_t team, indicator;
    int64_t period;
    const char *text;
};
size_t store_view_note_count(const struct store_view *view);
void store_view_note_at(const struct store_view *view, size_t i, struct store_note *out);

/* kpi note and its endpoint: one commit (kind "note", rows 1, sha256 of the
 * text) that sets or removes one note. team and kpi are references resolved
 * like input data (ids, names, slugs; never created: KPI_ENOTFOUND "unknown
 * team \"x\""); day is any day of the period (days since 1970-01-01). */
struct store_note_request {
    const char *team, *kpi;
    int64_t day;
    const char *text; /* len bytes; empty (after trimming) removes the note */
    size_t len;
    const char *author, *source;
};

/* *commit = the commit written, 0 when the note was already so (no
 * commit); *change (may be NULL) as store_txn_note says. Errors as
 * store_txn_begin, store_txn_note and store_txn_commit. */
int store_set_note(struct store *st, const struct store_note_request *rq, uint64_t *commit,
                   enum store_change *change, struct kpi_error *err);

#endif
