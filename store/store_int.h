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
#include <stdatomic.h>
#include <time.h>

/* ---------------------------------------------------------------- store */

struct store {
    char *dir;
    bool create;
    bool read_only;
    unsigned threads;  /* resolved: >= 1 */
    char *ledger_path; /* DIR/ledger */
    /* DIR/generation mapped read-only (NULL until it exists): store_changed
     * reads the committed generation from memory (see generation.c). */
    _Atomic(const volatile uint64_t *) generation_map;
    _Atomic int64_t last_slow_ms; /* when store_changed last took the slow path */
};

/* After a commit renamed generation g into place: publish g in
 * DIR/generation (written in place, never replaced, so mappings of it see
 * the change). A failure only makes readers fall back to stat(2). */
void store_publish_generation(const struct store *st, uint64_t g);

/* Map DIR/generation if it exists and is not mapped yet. Thread-safe. */
void store_map_generation(struct store *st);

/* "DIR/name" into a fresh malloc'd string; NULL when out of memory. */
char *store_path_join(const char *dir, const char *name);

/* Make path (a file of directory dir) hold exactly buf[0, size): readers see
 * the old file or the whole new one, never a part (file.c). tmp is a scratch
 * name in dir, used only when needed and never left behind. Returns 0,
 * STORE_FILE_NO_DIR when dir does not exist (nothing written), or -1 with e
 * filled. Nothing is synced: the ledger is the durable copy. */
/* pwrite all of buf at off, retrying short writes and EINTR; false with
 * errno set (EIO when nothing could be written). */
bool store_pwrite_all(int fd, const void *buf, size_t size, off_t off);

#define STORE_FILE_NO_DIR 1
#define STORE_FILE_NO_UNNAMED 2 /* internal to file.c */
int store_file_replace(const char *dir, const char *path, const char *tmp, const void *buf,
                       size_t size, struct kpi_error *e);

/* The reference without leading and trailing blanks (space, tab, CR, LF,
 * U+00A0, U+2007, U+202F): *len bytes from the returned pointer. */
const char *store_trim(const char *s, size_t *len);

/* When the trimmed ref, ASCII letters lower-cased, is a valid id: copy it to
 * id (KPI_ID_MAX + 1 bytes) and return true. */
bool store_ref_as_id(const char *ref, char *id);

/* Lock DIR exclusively (flock on the directory itself: no lock file),
 * waiting for another writer; *fd is the directory's fd (close it to
 * release). When DIR does not exist and the store was opened with create:
 * with create_now it is created first; without, *fd = -1 and 0 is returned
 * (the caller creates it when it has something to write). Returns 0 or a
 * negative status with err filled. */
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

/* A view: one loaded ledger generation. Every pointer inside points into buf
 * (strings, points) or into the arrays below, all owned by the view. */
struct store_view {
    uint64_t generation;
    char *buf;
    size_t size;
    struct kpi_team *teams;
    size_t team_count;
    size_t *team_parent; /* index of the parent, SIZE_MAX for a root */
    struct kpi_indicator *indicators;
    size_t indicator_count;
    struct store_series *series;
    size_t series_count;
    struct store_series_key *lag; /* series whose RRD file may lag */
    size_t lag_count;
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
 * DIR). */
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
};

/* Run the jobs on st->threads threads (nothing, append or rebuild each),
 * reporting ("rrd", done, total) from the calling thread. */
int rrd_run_jobs(const struct store *st, struct rrd_job *jobs, size_t count,
                 const struct store_progress *progress, struct kpi_error *err);

/* The generation recorded in DIR/rrd-synced (0 when missing or unreadable). */
uint64_t rrd_synced_read(const char *dir);
int rrd_synced_write(const char *dir, uint64_t generation, struct kpi_error *err);

/* With DIR/lock held: rebuild the RRD files of view's lag set when
 * rrd-synced is behind, and with check_files those of every series whose
 * file is missing. */
int rrd_repair_view(const struct store *st, const struct store_view *view, bool check_files,
                    const struct store_progress *progress, struct kpi_error *err);

#endif
