/*
 * file.c — putting a whole file in place at once.
 *
 * A new RRD file is written as an unnamed file (O_TMPFILE) in its
 * directory and then linked under its name: a reader never sees half of
 * it, and the directory's lock is taken once (the link) instead of twice
 * (creating a named temporary, then renaming it). That lock matters: the
 * worker threads write files of the same team directory side by side, and
 * on ext4 the creation of an inode can be slow (after a mass deletion it
 * scans the recently deleted inodes of its group), which an unnamed file
 * does without holding the directory. Replacing an existing file links
 * the unnamed file under the scratch name, then renames it over the old
 * one. Where unnamed files are not available (another system, a file
 * system without them, no /proc), the scratch file is created by name.
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fill e with "what: the system's reason" and return -1. */
static int fail(struct kpi_error *e, const char *what)
{
    kpi_fail(e, KPI_ESYSTEM, "%s: %s", what, strerror(errno));
    return -1;
}

bool store_pwrite_all(int fd, const void *buf, size_t size, off_t off)
{
    const unsigned char *p = buf;
    while (size > 0) {
        ssize_t n = pwrite(fd, p, size, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        p += n;
        size -= (size_t)n;
        off += n;
    }
    return true;
}

/* Write all of buf to the new file fd, one page per write: a larger write
 * lets the kernel (ext4 on Linux 6.x) cache the file in large folios, and a
 * later append, which touches a few pages, then dirties and writes back
 * whole folios — 2.5 times the bytes of an append to a file written 4 KiB
 * at a time, as librrd does. */
static int write_all(int fd, const unsigned char *buf, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t chunk = page > 0 ? (size_t)page : 4096;
    for (size_t done = 0; done < size; done += chunk)
        if (!store_pwrite_all(fd, buf + done, size - done < chunk ? size - done : chunk,
                              (off_t)done))
            return -1;
    return 0;
}

/* The named way: tmp created, written, renamed over path. */
static int replace_by_name(const char *path, const char *tmp, const unsigned char *buf, size_t size,
                           struct kpi_error *e)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno == ENOENT ? STORE_FILE_NO_DIR : fail(e, tmp);
    if (write_all(fd, buf, size) != 0) {
        fail(e, tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        fail(e, tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        fail(e, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

#ifdef O_TMPFILE
/* Give the unnamed file fd the name path (linkat through /proc, which
 * needs no privilege, unlike AT_EMPTY_PATH). */
static int link_unnamed(int fd, const char *path)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}
#endif

int store_file_prepare(const char *dir, const char *fallback, const void *buf, size_t size,
                       int *fd_out, struct kpi_error *e)
{
    *fd_out = -1;
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0 && errno == ENOENT && fallback != NULL)
        fd = open(fallback, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == ENOENT)
            return STORE_FILE_NO_DIR;
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
            return STORE_FILE_NO_UNNAMED;
        return fail(e, dir);
    }
    if (write_all(fd, buf, size) != 0) {
        fail(e, dir);
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
#else
    (void)dir;
    (void)fallback;
    (void)buf;
    (void)size;
    (void)e;
    return STORE_FILE_NO_UNNAMED;
#endif
}

int store_file_publish(int fd, const char *path, const char *tmp, struct kpi_error *e)
{
#ifdef O_TMPFILE
    int rc = 0;
    if (link_unnamed(fd, path) != 0) {
        if (errno == EEXIST) { /* a replacement: name it tmp, rename that over path */
            if ((unlink(tmp) != 0 && errno != ENOENT) || link_unnamed(fd, tmp) != 0) {
                rc = errno == ENOENT ? STORE_FILE_NO_DIR : fail(e, tmp);
            } else if (rename(tmp, path) != 0) {
                rc = fail(e, path);
                unlink(tmp);
            }
        } else if (errno == ENOENT && access("/proc/self/fd", F_OK) != 0) {
            rc = STORE_FILE_NO_UNNAMED; /* no /proc */
        } else if (errno == ENOENT) {
            rc = STORE_FILE_NO_DIR; /* path's directory: the caller makes it */
        } else {
            rc = fail(e, path);
        }
    }
    if (rc == STORE_FILE_NO_DIR || rc == STORE_FILE_NO_UNNAMED)
        return rc; /* fd stays open: the caller tries again, or writes by name */
    if (close(fd) != 0 && rc == 0)
        rc = fail(e, path);
    return rc;
#else
    (void)fd;
    (void)path;
    (void)tmp;
    (void)e;
    return STORE_FILE_NO_UNNAMED;
#endif
}

/* The unnamed way; STORE_FILE_NO_UNNAMED when it is not available and
 * nothing was done. */
static int replace_unnamed(const char *dir, const char *path, const char *tmp,
                           const unsigned char *buf, size_t size, struct kpi_error *e)
{
    int fd;
    int rc = store_file_prepare(dir, NULL, buf, size, &fd, e);
    if (rc != 0)
        return rc;
    rc = store_file_publish(fd, path, tmp, e);
    if (rc == STORE_FILE_NO_DIR || rc == STORE_FILE_NO_UNNAMED)
        close(fd);
    return rc;
}

int store_file_replace(const char *dir, const char *path, const char *tmp, const void *buf,
                       size_t size, struct kpi_error *e)
{
    int rc = replace_unnamed(dir, path, tmp, buf, size, e);
    if (rc != STORE_FILE_NO_UNNAMED)
        return rc;
    return replace_by_name(path, tmp, buf, size, e);
}

int store_replace_small(const char *dir, const char *name, const char *text, size_t len,
                        struct kpi_error *e)
{
    char tmp_name[256];
    int n = snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    char *path = store_path_join(dir, name);
    char *tmp = n > 0 && (size_t)n < sizeof tmp_name ? store_path_join(dir, tmp_name) : NULL;
    int rc = path == NULL || tmp == NULL ? kpi_fail(e, KPI_ESYSTEM, "out of memory")
                                         : store_file_replace(dir, path, tmp, text, len, e);
    if (rc == STORE_FILE_NO_DIR)
        rc = kpi_fail(e, KPI_ESYSTEM, "%s: No such file or directory", dir);
    free(tmp);
    free(path);
    return rc;
}
