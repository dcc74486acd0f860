/*
 * backup.c — kpi backup DEST (SPEC §10): the database copied with SQLite's
 * online backup API, which reads one snapshot (a whole commit) while
 * imports and servers go on, then the RRD files built from that copy, so
 * that they match it exactly whatever the source's files were doing, and
 * DIR/points.cache when it is a cache of a commit the copy holds. All of
 * it is written into DEST.partial-PID beside DEST, synced, and renamed to
 * DEST last: DEST exists only whole. The source is only read.
 */
#define _GNU_SOURCE /* copy_file_range */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* dest must not exist or be an empty directory (checked, not created:
 * the copy arrives there by a rename). */
static int check_dest(const char *dest, struct kpi_error *err)
{
    struct stat sb;
    if (stat(dest, &sb) != 0) {
        if (errno != ENOENT)
            return kpi_fail(err, KPI_ESYSTEM, "%s: %s", dest, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(sb.st_mode))
        return kpi_fail(err, KPI_EUSAGE, "%s: not a directory", dest);
    DIR *d = opendir(dest);
    if (d == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "%s: %s", dest, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty ? 0 : kpi_fail(err, KPI_EUSAGE, "%s: not empty", dest);
}

/* rm -rf path, best effort (what a failed backup wrote). */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *child = store_path_join(path, e->d_name);
            if (child != NULL)
                remove_tree(child);
            free(child);
        }
        if (d != NULL)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* size bytes of in into out, both at offset 0: in the kernel where it can
 * (copy_file_range), else through a buffer. */
static bool copy_bytes(int in, int out, uint64_t size)
{
    off_t off_in = 0, off_out = 0;
    bool kernel = true;
    char *buf = NULL;
    while ((uint64_t)off_in < size) {
        size_t want = size - (uint64_t)off_in > (1u << 30) ? 1u << 30 : size - (uint64_t)off_in;
        ssize_t n;
        if (kernel) {
            n = copy_file_range(in, &off_in, out, &off_out, want, 0);
            if (n < 0 &&
                (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
                kernel = false; /* another file system, or none of it here */
                continue;
            }
        } else {
            if (buf == NULL && (buf = malloc(1 << 20)) == NULL)
                return false;
            n = pread(in, buf, want < (1u << 20) ? want : 1u << 20, off_in);
            if (n > 0 && !store_pwrite_all(out, buf, (size_t)n, off_out))
                n = -1;
            if (n > 0) {
                off_in += n;
                off_out += n;
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* an error, or the file shorter than it was */
            free(buf);
            return false;
        }
    }
    free(buf);
    return true;
}

/* DIR/points.cache into the copy `to` (its database open as copy) when it
 * is a cache of a commit the copy holds: the backed-up commit, or an
 * earlier one of the same history, which a load of the copy catches up
 * like any stale cache. A cache of a later commit (written by a server
 * after the copy's snapshot), of another history, or with a bad header is
 * left out, and so is everything when it cannot be copied: the cache is
 * derived, a restored directory only starts slower without it (its server
 * writes one), so the backup never fails for it. The file is opened once
 * and checked and copied through that descriptor: a server replaces the
 * cache by a rename, never in place. */
static void copy_cache(const char *from, const char *to, sqlite3 *copy)
{
    char *src = store_path_join(from, STORE_PCACHE_NAME);
    char *dst = store_path_join(to, STORE_PCACHE_NAME);
    int in = src != NULL && dst != NULL ? open(src, O_RDONLY | O_CLOEXEC) : -1;
    uint64_t commit = 0;
    struct stat sb;
    int out = -1;
    if (in >= 0 && pcache_check(in, copy, &commit) == PCACHE_OK && fstat(in, &sb) == 0)
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, sb.st_mode & 0777);
    if (out >= 0) {
        bool ok = copy_bytes(in, out, (uint64_t)sb.st_size);
        if (close(out) != 0 || !ok)
            unlink(dst);
    }
    if (in >= 0)
        close(in);
    free(src);
    free(dst);
}

/* The copy itself, in the directory tmp (made here). */
static int copy_into(struct store *st, const char *tmp, struct kpi_error *err)
{
    if (mkdir(tmp, 0777) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "%s: %s", tmp, strerror(errno));
    sqlite3 *src = NULL, *dst = NULL;
    int rc = db_open(st->dir, DB_READ, &src, err);
    if (rc != 0)
        return rc;
    if ((rc = db_open(tmp, DB_CREATE, &dst, err)) != 0) {
        sqlite3_close(src);
        return rc;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        rc = db_fail(err, dst, "backup");
    } else {
        /* all pages in one step: one read transaction, one snapshot */
        int s;
        while ((s = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || s == SQLITE_LOCKED)
            sqlite3_sleep(10);
        if (sqlite3_backup_finish(b) != SQLITE_OK || s != SQLITE_DONE)
            rc = db_fail(err, dst, "backup");
    }
    /* the copy is a data directory of its own: durable, in WAL mode */
    if (rc == 0)
        rc = db_exec(dst,
                     "PRAGMA journal_mode=WAL; DELETE FROM rrd_pending; PRAGMA "
                     "wal_checkpoint(TRUNCATE);",
                     err);
    /* before the repair below, which drops the cache with points it mends */
    if (rc == 0)
        copy_cache(st->dir, tmp, dst);
    sqlite3_close(src);
    sqlite3_close(dst);
    if (rc != 0)
        return rc;
    /* the RRD files of the copy, built from the copy */
    struct store *copy = NULL;
    struct store_options o = {.create = false, .threads = st->threads};
    rc = store_open(tmp, &o, &copy, err);
    if (rc == 0)
        rc = store_repair(copy, NULL, err);
    store_close(copy);
    /* on disk before it is given its name */
    if (rc == 0)
        rc = store_sync_files(tmp, err);
    return rc;
}

int store_backup(struct store *st, const char *dest, struct kpi_error *err)
{
    if (!db_exists(st->dir))
        return kpi_fail(err, KPI_EUSAGE,
                        "%s: no database to back up (no commit yet, or a directory of an older "
                        "kpi: any import converts it)",
                        st->dir);
    int rc = check_dest(dest, err);
    if (rc != 0)
        return rc;
    /* written as DEST.partial-PID beside DEST, renamed to DEST once whole and
     * synced: a backup killed on the way leaves no DEST that looks complete */
    size_t len = strlen(dest);
    while (len > 1 && dest[len - 1] == '/')
        len--;
    char *tmp = malloc(len + 40);
    if (tmp == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    snprintf(tmp, len + 40, "%.*s.partial-%ld", (int)len, dest, (long)getpid());
    rc = copy_into(st, tmp, err);
    if (rc == 0 && rename(tmp, dest) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", dest, strerror(errno));
    if (rc != 0) {
        remove_tree(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    /* the rename itself durable: sync the directory that holds DEST */
    char *parent = strndup(dest, len);
    if (parent == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    char *slash = strrchr(parent, '/');
    const char *pdir = slash == NULL ? "." : slash == parent ? "/" : (*slash = '\0', parent);
    int fd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", pdir, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(parent);
    return rc;
}
