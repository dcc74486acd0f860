/*
 * pcache.c — DIR/points.cache: the points of the latest data as one binary
 * file beside the database, so that a whole-directory load (kpi serve at
 * start, drift, alerts, export) reads one file instead of stepping 20 M
 * rows through SQLite. Like the RRD files it is derived: rebuilt from the
 * database, never the only copy of anything, ignored whenever it cannot be
 * proved to be the data of a commit of this database.
 *
 * File (native byte order and layout: the file never leaves the machine that
 * wrote it; another one fails the header check):
 *   header   struct pcache_header (magic, version, byte-order mark, point
 *            size, commit, the commit's chain hash, counts, checksum)
 *   table    series_count x {uint32 series id, uint32 0, uint64 count}
 *   points   point_count x struct kpi_point, series after series in table
 *            order
 * The checksum (64 bits, four lanes of multiply-rotate in the manner of
 * xxHash64) covers the header with its checksum field zero, the table and
 * the points. A file is used only when its size is exactly what its header
 * says, its checksum matches, and commit N of the database has the hash it
 * records: the chain hash of N covers every commit up to N, so a cache of
 * another directory, of another history of this one (a restored backup
 * then written to), or of a commit the database no longer has is refused.
 * The view is then brought to the latest commit by the server's take-up
 * (db_update_view: the cells changed after N), which is what makes a stale
 * cache still useful.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCACHE_MAGIC "KPIPTS\r\n"
#define PCACHE_VERSION 1u
#define PCACHE_BOM 0x01020304u
#define HASH_HEX 64 /* the chain hash: SHA-256 in hex */

struct pcache_header {
    char magic[8];
    uint32_t version;
    uint32_t bom;
    uint32_t point_size;
    uint32_t table_size;
    uint64_t commit;
    char hash[HASH_HEX];
    uint64_t series_count;
    uint64_t point_count;
    uint64_t checksum;
};

struct pcache_entry {
    uint32_t series;
    uint32_t zero;
    uint64_t count;
};

/* ------------------------------------------------------------- checksum */

#define P1 0x9E3779B185EBCA87u
#define P2 0xC2B2AE3D27D4EB4Fu
#define P3 0x165667B19E3779F9u
#define P4 0x85EBCA77C2B2AE63u

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t lane(uint64_t acc, uint64_t in)
{
    return rotl(acc + in * P2, 31) * P1;
}

/* The checksum of data[0, n) continuing from seed. */
static uint64_t checksum(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    size_t len = n;
    for (; n >= 32; p += 32, n -= 32) {
        uint64_t w[4];
        memcpy(w, p, sizeof w);
        v1 = lane(v1, w[0]);
        v2 = lane(v2, w[1]);
        v3 = lane(v3, w[2]);
        v4 = lane(v4, w[3]);
    }
    uint64_t h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18) + (uint64_t)len;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w);
        h = rotl(h ^ lane(0, w), 27) * P1 + P4;
    }
    for (; n > 0; p++, n--)
        h = rotl(h ^ (*p * P1), 11) * P3;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* ------------------------------------------------------------------ read */

/* The chain hash of commit `commit` into hash (HASH_HEX bytes, no NUL);
 * false when the database has no such commit. */
static bool commit_hash(sqlite3 *db, uint64_t commit, char hash[HASH_HEX])
{
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_prepare_v2(db, "SELECT hash FROM commits WHERE id = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)commit);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == HASH_HEX) {
            memcpy(hash, sqlite3_column_text(st, 0), HASH_HEX);
            ok = true;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static bool pread_all(int fd, void *buf, size_t size, off_t off)
{
    unsigned char *p = buf;
    while (size > 0) {
        ssize_t n = pread(fd, p, size, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        size -= (size_t)n;
        off += n;
    }
    return true;
}

/* The header of fd (of size bytes) when it is one of ours, for this size. */
static bool read_header(int fd, off_t size, struct pcache_header *h)
{
    if (!pread_all(fd, h, sizeof *h, 0) || memcmp(h->magic, PCACHE_MAGIC, 8) != 0 ||
        h->version != PCACHE_VERSION || h->bom != PCACHE_BOM ||
        h->point_size != sizeof(struct kpi_point) || h->table_size != sizeof(struct pcache_entry) ||
        h->commit == 0)
        return false;
    uint64_t max = (uint64_t)size;
    if (h->series_count > max / sizeof(struct pcache_entry) ||
        h->point_count > max / sizeof(struct kpi_point))
        return false;
    return sizeof *h + h->series_count * sizeof(struct pcache_entry) +
               h->point_count * sizeof(struct kpi_point) ==
           max;
}

/* The header of fd into h when it is one of ours and names a commit of db
 * with the same chain hash. */
static enum pcache_status check_header(int fd, sqlite3 *db, struct pcache_header *h)
{
    struct stat sb;
    char hash[HASH_HEX];
    if (fstat(fd, &sb) != 0 || !read_header(fd, sb.st_size, h))
        return PCACHE_DAMAGED;
    if (!commit_hash(db, h->commit, hash) || memcmp(hash, h->hash, HASH_HEX) != 0)
        return PCACHE_FOREIGN;
    return PCACHE_OK;
}

enum pcache_status pcache_check(int fd, sqlite3 *db, uint64_t *commit)
{
    struct pcache_header h;
    enum pcache_status status = check_header(fd, db, &h);
    if (status == PCACHE_OK)
        *commit = h.commit;
    return status;
}

/* An empty view of commit `commit` with room for n series. */
static struct store_view *skeleton(uint64_t commit, size_t n)
{
    struct store_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return NULL;
    v->generation = v->last_commit = v->cache_commit = commit;
    v->from_db = true;
    v->series = calloc(n + 1, sizeof *v->series);
    v->series_buf = calloc(n + 1, sizeof *v->series_buf);
    v->series_id = calloc(n + 1, sizeof *v->series_id);
    if (v->series == NULL || v->series_buf == NULL || v->series_id == NULL) {
        store_view_free(v);
        return NULL;
    }
    return v;
}

enum pcache_status pcache_read(const char *dir, sqlite3 *db, struct store_view **out)
{
    *out = NULL;
    char *path = store_path_join(dir, STORE_PCACHE_NAME);
    if (path == NULL)
        return PCACHE_NO_MEMORY;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return PCACHE_MISSING;
    struct pcache_header h;
    struct pcache_entry *table = NULL;
    struct store_view *v = NULL;
    enum pcache_status status = check_header(fd, db, &h);
    if (status != PCACHE_OK)
        goto done;
    status = PCACHE_NO_MEMORY;
    size_t n = (size_t)h.series_count;
    table = malloc(n * sizeof *table + 1);
    v = skeleton(h.commit, n);
    if (table == NULL || v == NULL)
        goto done;
    status = PCACHE_DAMAGED;
    off_t off = (off_t)sizeof h;
    if (!pread_all(fd, table, n * sizeof *table, off))
        goto done;
    off += (off_t)(n * sizeof *table);
    uint64_t sum = h.checksum, total = 0;
    h.checksum = 0;
    uint64_t c = checksum(&h, sizeof h, 0);
    c = checksum(table, n * sizeof *table, c);
    for (size_t i = 0; i < n; i++) {
        if (table[i].series == 0 || table[i].zero != 0 || table[i].count == 0 ||
            table[i].count > h.point_count - total)
            goto done;
        size_t count = (size_t)table[i].count;
        total += count;
        struct series_points *b = series_points_alloc(count);
        if (b == NULL) {
            status = PCACHE_NO_MEMORY;
            goto done;
        }
        v->series_buf[i] = b;
        v->series_id[i] = table[i].series;
        v->series[i] = (struct store_series){0, 0, count, b->pts};
        v->series_count = i + 1;
        if (!pread_all(fd, b->pts, count * sizeof b->pts[0], off))
            goto done;
        off += (off_t)(count * sizeof b->pts[0]);
        atomic_store(&b->used, count);
        c = checksum(b->pts, count * sizeof b->pts[0], c);
    }
    if (total != h.point_count || c != sum)
        goto done;
    status = PCACHE_OK;
    *out = v;
    v = NULL;
done:
    close(fd);
    free(table);
    store_view_free(v);
    return status;
}

/* ----------------------------------------------------------------- write */

/* What a write needs, holding a reference to each series' allocation (the
 * points [0, count) of an allocation never change: later views only append
 * after them), so that it can run while the view is freed. */
struct pcache_job {
    char *dir;
    struct pcache_header h;
    size_t n;
    struct pcache_entry *table;
    struct series_points **bufs;
    atomic_bool stop; /* set by store_close: give up, write nothing */
    atomic_bool done;
    pthread_t thread;
};

static void job_free(struct pcache_job *j)
{
    if (j == NULL)
        return;
    if (j->bufs != NULL)
        for (size_t i = 0; i < j->n; i++)
            series_points_release(j->bufs[i]);
    free(j->bufs);
    free(j->table);
    free(j->dir);
    free(j);
}

/* A job writing view (loaded per series, of the latest commit when it was
 * loaded) as the cache of dir; NULL when it cannot be (errno set). */
static struct pcache_job *job_new(const char *dir, sqlite3 *db, const struct store_view *view)
{
    if (!view->from_db || view->series_buf == NULL || view->series_id == NULL ||
        view->generation != view->last_commit || view->generation == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct pcache_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->h = (struct pcache_header){.version = PCACHE_VERSION,
                                  .bom = PCACHE_BOM,
                                  .point_size = sizeof(struct kpi_point),
                                  .table_size = sizeof(struct pcache_entry),
                                  .commit = view->generation,
                                  .series_count = view->series_count};
    memcpy(j->h.magic, PCACHE_MAGIC, 8);
    atomic_init(&j->stop, false);
    atomic_init(&j->done, false);
    if (!commit_hash(db, view->generation, j->h.hash)) {
        free(j);
        errno = ENOENT;
        return NULL;
    }
    size_t n = view->series_count;
    j->dir = strdup(dir);
    j->table = calloc(n + 1, sizeof *j->table);
    j->bufs = calloc(n + 1, sizeof *j->bufs);
    if (j->dir == NULL || j->table == NULL || j->bufs == NULL) {
        job_free(j);
        errno = ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        j->table[i] = (struct pcache_entry){view->series_id[i], 0, view->series[i].count};
        j->h.point_count += view->series[i].count;
        j->bufs[i] = view->series_buf[i];
        atomic_fetch_add(&j->bufs[i]->refs, 1);
    }
    j->n = n;
    return j;
}

/* Write buf at *off of fd, adding it to *c. */
static bool put(int fd, const void *buf, size_t size, off_t *off, uint64_t *c)
{
    if (!store_pwrite_all(fd, buf, size, *off))
        return false;
    *off += (off_t)size;
    *c = checksum(buf, size, *c);
    return true;
}

static int job_run(struct pcache_job *j)
{
    char *path = store_path_join(j->dir, STORE_PCACHE_NAME);
    char *tmp = store_path_join(j->dir, STORE_PCACHE_TMP);
    int fd = -1, rc = -1;
    if (path == NULL || tmp == NULL) {
        errno = ENOMEM;
        goto done;
    }
#ifdef O_TMPFILE
    fd = open(j->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
#else
    errno = EOPNOTSUPP;
#endif
    if (fd < 0)
        goto done; /* no unnamed files here: no cache (it is only a cache) */
    /* the header last, once its checksum is known */
    off_t off = (off_t)sizeof j->h;
    uint64_t c = checksum(&j->h, sizeof j->h, 0);
    if (!put(fd, j->table, j->n * sizeof *j->table, &off, &c))
        goto done;
    for (size_t i = 0; i < j->n; i++) {
        if (atomic_load(&j->stop)) {
            errno = ECANCELED;
            goto done;
        }
        if (!put(fd, j->bufs[i]->pts, (size_t)j->table[i].count * sizeof(struct kpi_point), &off,
                 &c))
            goto done;
    }
    struct pcache_header h = j->h;
    h.checksum = c;
    if (!store_pwrite_all(fd, &h, sizeof h, 0))
        goto done;
    /* named tmp first (linkat cannot replace), then renamed over the old
     * cache; a kill in between leaves a whole file under tmp, replaced by
     * the next writer and never read */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if ((unlink(tmp) != 0 && errno != ENOENT) ||
        linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0)
        goto done;
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(path);
    free(tmp);
    return rc;
}

int pcache_write(const char *dir, sqlite3 *db, const struct store_view *view)
{
    struct pcache_job *j = job_new(dir, db, view);
    if (j == NULL)
        return -1;
    int rc = job_run(j);
    int saved = errno;
    job_free(j);
    errno = saved;
    return rc;
}

static void *job_thread(void *arg)
{
    struct pcache_job *j = arg;
    job_run(j);
    atomic_store(&j->done, true);
    return NULL;
}

/* Write view as the cache in a thread of its own (store_close stops and
 * joins it), unless one is still writing. */
static void write_async(struct store *st, sqlite3 *db, const struct store_view *view)
{
    pthread_mutex_lock(&st->pcache_mu);
    struct pcache_job *prev = st->pcache;
    if (prev != NULL && atomic_load(&prev->done)) {
        pthread_join(prev->thread, NULL);
        job_free(prev);
        st->pcache = prev = NULL;
    }
    struct pcache_job *j = prev == NULL ? job_new(st->dir, db, view) : NULL;
    if (j != NULL) {
        if (pthread_create(&j->thread, NULL, job_thread, j) == 0)
            st->pcache = j;
        else
            job_free(j);
    }
    pthread_mutex_unlock(&st->pcache_mu);
}

void pcache_wait(struct store *st)
{
    pthread_mutex_lock(&st->pcache_mu);
    struct pcache_job *j = st->pcache;
    st->pcache = NULL;
    pthread_mutex_unlock(&st->pcache_mu);
    if (j == NULL)
        return;
    pthread_join(j->thread, NULL);
    job_free(j);
}

void pcache_stop(struct store *st)
{
    pthread_mutex_lock(&st->pcache_mu);
    struct pcache_job *j = st->pcache;
    st->pcache = NULL;
    pthread_mutex_unlock(&st->pcache_mu);
    if (j == NULL)
        return;
    atomic_store(&j->stop, true);
    pthread_join(j->thread, NULL);
    job_free(j);
}

void pcache_remove(const char *dir)
{
    char *path = store_path_join(dir, STORE_PCACHE_NAME);
    if (path != NULL)
        unlink(path);
    free(path);
}

/* ------------------------------------------------------------------ load */

/* The fewest points for which a whole load writes the cache:
 * KPI_POINTS_CACHE_MIN, else 1,000,000 (below, SQLite loads them in a few
 * tenths of a second and a file would only take room). */
static uint64_t cache_min(void)
{
    const char *env = getenv("KPI_POINTS_CACHE_MIN");
    if (env != NULL && *env != '\0') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(env, &end, 10);
        if (errno == 0 && *end == '\0')
            return v;
    }
    return 1000000;
}

static uint64_t view_points(const struct store_view *v)
{
    uint64_t total = 0;
    for (size_t i = 0; i < v->series_count; i++)
        total += v->series[i].count;
    return total;
}

int pcache_load_latest(struct store *st, sqlite3 *db, bool write, struct store_view **out,
                       struct kpi_error *err)
{
    const char *dir = st->dir;
    *out = NULL;
    struct store_view *cached = NULL;
    if (pcache_read(dir, db, &cached) == PCACHE_OK) {
        size_t changes = 0;
        int rc = db_update_view(db, cached, out, &changes, err);
        uint64_t from = cached->generation;
        store_view_free(cached);
        if (rc != 0)
            return rc;
        (*out)->cache_commit = from;
        /* caught up from far behind (an eighth of the points changed
         * since): the next load should not pay that again */
        if (write && (*out)->generation != from && changes > view_points(*out) / 8)
            write_async(st, db, *out);
        return 0;
    }
    int rc = db_load_view_shared(db, out, err);
    if (rc == 0 && write && (*out)->generation > 0 && view_points(*out) >= cache_min())
        write_async(st, db, *out);
    return rc;
}
