/*
 * backup.c — kpi backup DEST (SPEC §10): the database copied with SQLite's
 * online backup API, which reads one snapshot (a whole commit) while
 * imports and servers go on, then the RRD files built from that copy, so
 * that they match it exactly whatever the source's files were doing.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* dest must not exist (it is created) or be an empty directory. */
static int prepare_dest(const char *dest, struct kpi_error *err)
{
    struct stat sb;
    if (stat(dest, &sb) != 0) {
        if (errno != ENOENT)
            return kpi_fail(err, KPI_ESYSTEM, "%s: %s", dest, strerror(errno));
        if (mkdir(dest, 0777) != 0)
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

int store_backup(struct store *st, const char *dest, struct kpi_error *err)
{
    if (!db_exists(st->dir))
        return kpi_fail(err, KPI_EUSAGE,
                        "%s: no database to back up (no commit yet, or a directory of an older "
                        "kpi: any import converts it)",
                        st->dir);
    int rc = prepare_dest(dest, err);
    if (rc != 0)
        return rc;
    sqlite3 *src = NULL, *dst = NULL;
    if ((rc = db_open(st->dir, DB_READ, &src, err)) != 0)
        return rc;
    if ((rc = db_open(dest, DB_CREATE, &dst, err)) != 0) {
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
        rc = db_exec(dst, "PRAGMA journal_mode=WAL; DELETE FROM rrd_pending;", err);
    sqlite3_close(src);
    sqlite3_close(dst);
    if (rc != 0)
        return rc;
    /* the RRD files of the copy, built from the copy */
    struct store *copy = NULL;
    struct store_options o = {.create = false, .threads = st->threads};
    rc = store_open(dest, &o, &copy, err);
    if (rc == 0)
        rc = store_repair(copy, NULL, err);
    store_close(copy);
    return rc;
}
