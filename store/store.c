/*
 * store.c — opening a data directory, paths inside it, and the writer lock.
 * See store.h for the layout and ledger.c / rrd.c for the design.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *store_path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static size_t blank_at(const unsigned char *p, size_t len)
{
    if (len >= 1 && (p[0] == ' ' || p[0] == '\t' || p[0] == '\r' || p[0] == '\n'))
        return 1;
    if (len >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (len >= 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0x87 || p[2] == 0xAF))
        return 3;
    return 0;
}

static size_t blank_before(const unsigned char *p, size_t len)
{
    if (len >= 1 && blank_at(p + len - 1, 1) == 1)
        return 1;
    if (len >= 2 && blank_at(p + len - 2, 2) == 2)
        return 2;
    if (len >= 3 && blank_at(p + len - 3, 3) == 3)
        return 3;
    return 0;
}

const char *store_trim(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), k;
    while ((k = blank_at(p, n)) > 0) {
        p += k;
        n -= k;
    }
    while ((k = blank_before(p, n)) > 0)
        n -= k;
    *len = n;
    return (const char *)p;
}

bool store_ref_as_id(const char *ref, char *id)
{
    size_t n;
    const char *t = store_trim(ref, &n);
    if (n == 0 || n > KPI_ID_MAX)
        return false;
    static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
    for (size_t i = 0; i < n; i++) {
        id[i] = t[i];
        if (t[i] >= 'A' && t[i] <= 'Z')
            id[i] = lower[t[i] - 'A'];
    }
    id[n] = '\0';
    return kpi_id_valid(id);
}

int store_open(const char *dir, const struct store_options *opts, struct store **out,
               struct kpi_error *err)
{
    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        return kpi_fail(err, KPI_EUSAGE, "empty data directory");
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return kpi_fail(err, KPI_ESYSTEM, "%s: not a directory", dir);
    } else if (errno != ENOENT) {
        return kpi_fail(err, KPI_ESYSTEM, "%s: %s", dir, strerror(errno));
    }
    struct store *st = calloc(1, sizeof *st);
    if (st == NULL || (st->dir = strdup(dir)) == NULL ||
        (st->ledger_path = store_path_join(dir, "ledger")) == NULL) {
        if (st != NULL)
            free(st->dir);
        free(st);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    pthread_mutex_init(&st->poll_mu, NULL);
    pthread_mutex_init(&st->pcache_mu, NULL);
    st->create = opts != NULL && opts->create;
    st->read_only = opts != NULL && opts->read_only;
    unsigned threads = opts != NULL ? opts->threads : 0;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)(n > 64 ? 64 : n) : 1u;
    }
    st->threads = threads;
    st->lock_wait_ms = opts != NULL ? opts->lock_wait_ms : 0;
    st->wal_bound = opts != NULL ? opts->wal_bound : 0;
    *out = st;
    return 0;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    pcache_stop(st);
    pthread_mutex_destroy(&st->pcache_mu);
    sqlite3_finalize(st->poll_stmt);
    sqlite3_close(st->poll_db);
    pthread_mutex_destroy(&st->poll_mu);
    free(st->ledger_path);
    free(st->dir);
    free(st);
}

const char *store_dir(const struct store *st)
{
    return st->dir;
}

int store_series_path(const struct store *st, const char *team_id, const char *kpi_id, char *buf,
                      size_t cap, struct kpi_error *err)
{
    if (!kpi_id_valid(team_id))
        return kpi_fail(err, KPI_EINPUT, "invalid team id \"%s\"", team_id);
    if (!kpi_id_valid(kpi_id))
        return kpi_fail(err, KPI_EINPUT, "invalid indicator id \"%s\"", kpi_id);
    int n = snprintf(buf, cap, "%s/series/%s/%s.rrd", st->dir, team_id, kpi_id);
    if (n < 0 || (size_t)n >= cap)
        return kpi_fail(err, KPI_ESYSTEM, "%s: path too long", st->dir);
    return 0;
}

/* mkdir -p DIR: create its missing parents, then DIR. *made is how many of
 * the path's last components this call created (DIR itself included), which
 * store_unmake_dirs removes again. Returns 0, 1 when a component vanished
 * under us (another writer removed what it had created: try again), or a
 * negative status with err filled. */
static int make_dirs(const char *dir, unsigned *made, struct kpi_error *err)
{
    *made = 0;
    size_t len = strlen(dir);
    char *path = malloc(len + 1);
    if (path == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    memcpy(path, dir, len + 1);
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        if (path[i - 1] == '/') /* "a//b", "a/" */
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) == 0)
            (*made)++;
        else if (errno == ENOENT)
            rc = 1;
        else if (errno != EEXIST)
            rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
        else if (*made > 0) /* created by someone else after our parent */
            *made = 0;
        path[i] = saved;
    }
    free(path);
    return rc;
}

void store_unmake_dirs(const char *dir, unsigned made)
{
    size_t len = strlen(dir);
    char *path = malloc(len + 1);
    if (path == NULL)
        return;
    memcpy(path, dir, len + 1);
    for (unsigned k = 0; k < made; k++) {
        while (len > 1 && path[len - 1] == '/')
            path[--len] = '\0';
        if (rmdir(path) != 0) /* not empty: someone wrote there */
            break;
        while (len > 0 && path[len - 1] != '/')
            len--;
        path[len] = '\0';
        if (len == 0)
            break;
    }
    free(path);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* flock(LOCK_EX) on dfd: as long as it takes, or at most st->lock_wait_ms
 * (polled every 10 ms: flock has no timeout of its own). */
static int take_lock(const struct store *st, int dfd, struct kpi_error *err)
{
    bool bounded = st->lock_wait_ms > 0;
    int64_t deadline = bounded ? now_ms() + st->lock_wait_ms : 0;
    while (flock(dfd, bounded ? LOCK_EX | LOCK_NB : LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK)
            return kpi_fail(err, KPI_ESYSTEM, "%s: %s", st->dir, strerror(errno));
        if (now_ms() >= deadline)
            return kpi_fail(err, KPI_EBUSY,
                            "another writer (an import) has held %s for more than %u ms", st->dir,
                            st->lock_wait_ms);
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return 0;
}

int store_lock_create(const struct store *st, bool create_now, int *fd, unsigned *made,
                      struct kpi_error *err)
{
    *fd = -1;
    *made = 0;
    /* A writer that created DIR removes it again when it commits nothing
     * (store_unmake_dirs): a writer that waited for its lock then holds the
     * lock of a directory that is gone, and starts over. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        struct stat sb;
        if (stat(st->dir, &sb) != 0) {
            if (errno != ENOENT || !st->create)
                return kpi_fail(err, KPI_ESYSTEM, "%s: %s", st->dir, strerror(errno));
            if (!create_now)
                return 0;
            int rc = make_dirs(st->dir, made, err);
            if (rc < 0)
                return rc;
            if (rc > 0)
                continue;
        } else if (!S_ISDIR(sb.st_mode)) {
            return kpi_fail(err, KPI_ESYSTEM, "%s: not a directory", st->dir);
        }
        /* The lock is taken on the directory itself, so that locking creates
         * no file: an import that fails leaves the directory byte for byte as
         * it was. */
        int dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            if (errno == ENOENT)
                continue;
            return kpi_fail(err, KPI_ESYSTEM, "%s: %s", st->dir, strerror(errno));
        }
        int rc = take_lock(st, dfd, err);
        if (rc != 0) {
            close(dfd);
            return rc;
        }
        struct stat held;
        if (fstat(dfd, &held) == 0 && stat(st->dir, &sb) == 0 && held.st_dev == sb.st_dev &&
            held.st_ino == sb.st_ino) {
            *fd = dfd;
            return 0;
        }
        close(dfd); /* removed while we waited */
        *made = 0;
    }
    return kpi_fail(err, KPI_ESYSTEM, "%s: removed and created again too often to lock it",
                    st->dir);
}

int store_lock(const struct store *st, bool create_now, int *fd, struct kpi_error *err)
{
    unsigned made;
    return store_lock_create(st, create_now, fd, &made, err);
}

int store_repair(struct store *st, const struct store_progress *progress, struct kpi_error *err)
{
    struct stat sb;
    if (stat(st->dir, &sb) != 0 && errno == ENOENT)
        return 0; /* nothing was ever written */
    int fd;
    int rc = store_lock(st, true, &fd, err);
    if (rc != 0)
        return rc;
    struct store_view *view = NULL;
    sqlite3 *db = NULL;
    if (db_exists(st->dir)) {
        rc = db_open(st->dir, DB_WRITE, &db, err);
        if (rc == 0)
            rc = db_check_format(db, err);
        if (rc == 0) /* the series with work only: not every point */
            rc = db_load_view_repair(db, st, &view, err);
    } else {
        rc = ledger_load(st->dir, &view, err);
    }
    if (rc == 0)
        rc = rrd_repair_view(st, view, db, true, progress, err);
    store_view_free(view);
    sqlite3_close(db);
    close(fd); /* releases the lock */
    return rc;
}

int store_checkpoint(struct store *st, struct store_wal *wal, struct kpi_error *err)
{
    if (wal != NULL)
        *wal = (struct store_wal){0, 0};
    if (!db_exists(st->dir))
        return 0;
    sqlite3 *db = NULL;
    int rc = db_open(st->dir, DB_WRITE, &db, err);
    if (rc == 0)
        rc = db_checkpoint(db, wal, err);
    sqlite3_close(db);
    return rc;
}

int store_upgrade(struct store *st, struct kpi_error *err)
{
    if (!db_exists(st->dir))
        return 0;
    int fd;
    int rc = store_lock(st, false, &fd, err);
    if (rc != 0)
        return rc;
    sqlite3 *db = NULL;
    rc = db_open(st->dir, DB_WRITE, &db, err);
    if (rc == 0 && (rc = db_exec(db, "BEGIN IMMEDIATE", err)) == 0) {
        rc = db_create_schema(db, err);
        if (rc == 0)
            rc = db_exec(db, "COMMIT", err);
        else
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    /* the whole file was rewritten: into kpi.db now, not left in the WAL
     * for the next connections to index and read through */
    if (rc == 0)
        rc = db_checkpoint(db, NULL, err);
    sqlite3_close(db);
    close(fd); /* releases the lock */
    return rc;
}
