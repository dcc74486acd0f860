/* The SHA-256 of the bytes of an imported file, for the commit that records
 * it (SPEC §10): read again from the file, or from the spooled copy of
 * standard input, so the reading hot path pays nothing. */
#include "ingest/ingest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ingest_sha256(const struct ingest_reader *r, char hex[65], struct kpi_error *err)
{
    enum { CHUNK = 1 << 18 };
    char *buf = malloc(CHUNK);
    if (buf == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    struct kpi_sha256 s;
    kpi_sha256_init(&s);
    off_t at = 0;
    for (;;) {
        ssize_t n = pread(r->src.fd, buf, CHUNK, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return kpi_fail(err, KPI_ESYSTEM, "%s: cannot read: %s", r->name, strerror(e));
        }
        if (n == 0)
            break;
        kpi_sha256_update(&s, buf, (size_t)n);
        at += n;
    }
    free(buf);
    unsigned char digest_bytes[KPI_SHA256_SIZE];
    kpi_sha256_final(&s, digest_bytes);
    kpi_sha256_hex(digest_bytes, hex);
    return 0;
}
