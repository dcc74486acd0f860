/* The files commands write whole (charts, review pages). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_write_file(const char *path, const void *data, size_t size, struct kpi_error *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (tmp == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    snprintf(tmp, len + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    /* mkstemp creates 0600: give the file the mode a plain create would */
    mode_t mask = umask(0);
    umask(mask);
    int rc = 0;
    const char *p = data;
    size_t left = size;
    while (rc == 0 && left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc =
                kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, n < 0 ? strerror(errno) : "short write");
        else {
            p += n;
            left -= (size_t)n;
        }
    }
    if (rc == 0 && fchmod(fd, 0666 & ~mask) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}
