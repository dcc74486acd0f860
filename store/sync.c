/*
 * sync.c — when the RRD files of a commit are on disk, and who may stop
 * calling them pending.
 *
 * A commit is durable with one sync: SQLite's at COMMIT, which also makes
 * its rrd_pending rows durable (the series whose files may lag it). The RRD
 * files are then written without a sync, and after the last of them the
 * writer records in DIR/rrd-written "<boot id> <commit>\n" (the kernel's
 * /proc/sys/kernel/random/boot_id, new at every boot; written as a scratch
 * file renamed over, not synced). While that file names the current boot
 * and the latest commit, every file of a pending series is whole in the page
 * cache: a reader may use it, and a kill -9 changes nothing to that. After a
 * power loss the boot id differs (or the file is gone or torn), and the
 * pending series are rebuilt from the database as after an interrupted
 * commit.
 *
 * The pending rows are cleared by the next commit, inside its own
 * transaction, after one syncfs(2) of DIR's file system has put the
 * previous commit's files on disk (cheap when the kernel has written them
 * back already, as it does within seconds). One syncfs rather than one
 * fsync per file: a month of 20,000 series would pay 20,000 syncs.
 */
#define _GNU_SOURCE /* syncfs */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RRD_WRITTEN "rrd-written"
#define BOOT_ID_MAX 64

int store_sync_files(const char *dir, struct kpi_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return kpi_fail(err, KPI_ESYSTEM, "%s: %s", dir, strerror(errno));
    int rc = syncfs(fd);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return kpi_fail(err, KPI_ESYSTEM, "%s: syncing the RRD files: %s", dir, strerror(saved));
    return 0;
}

/* Read at most cap - 1 bytes of path into buf (NUL-terminated); the length,
 * or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* This boot's id (a UUID), or false when the system does not give one. */
static bool boot_id(char id[BOOT_ID_MAX])
{
    ssize_t n = read_small("/proc/sys/kernel/random/boot_id", id, BOOT_ID_MAX);
    while (n > 0 && (id[n - 1] == '\n' || id[n - 1] == ' '))
        id[--n] = '\0';
    if (n < 16)
        return false;
    for (ssize_t i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~')
            return false;
    return true;
}

bool store_rrd_settled(const char *dir, uint64_t commit)
{
    char id[BOOT_ID_MAX], text[BOOT_ID_MAX + 32], want[BOOT_ID_MAX + 32];
    char *path = store_path_join(dir, RRD_WRITTEN);
    if (path == NULL || !boot_id(id)) {
        free(path);
        return false;
    }
    ssize_t n = read_small(path, text, sizeof text);
    free(path);
    int len = snprintf(want, sizeof want, "%s %" PRIu64 "\n", id, commit);
    return n == len && memcmp(text, want, (size_t)len) == 0;
}

int store_rrd_written(const char *dir, uint64_t commit, struct kpi_error *err)
{
    char id[BOOT_ID_MAX];
    if (!boot_id(id))
        return STORE_NO_BOOT_ID;
    char text[BOOT_ID_MAX + 32];
    int len = snprintf(text, sizeof text, "%s %" PRIu64 "\n", id, commit);
    return store_replace_small(dir, RRD_WRITTEN, text, (size_t)len, err);
}
