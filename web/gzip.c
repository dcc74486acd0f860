/* gzip (zlib) for clients that accept it: Accept-Encoding parsing and the
 * one compression of a cached answer. */
#include "web/web_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* A q-value of 0 ("q=0", "q=0.0", "q=0.000"): the coding is refused. */
static bool q_is_zero(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
        return false;
    p += 2;
    if (p == end || *p != '0')
        return false;
    for (p++; p < end && (*p == '.' || *p == '0'); p++)
        ;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p == end;
}

bool web_accepts_gzip(const char *header)
{
    if (header == NULL)
        return false;
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *item = p;
        while (*p && *p != ',')
            p++;
        const char *name_end = item;
        while (name_end < p && *name_end != ';' && *name_end != ' ' && *name_end != '\t')
            name_end++;
        size_t n = (size_t)(name_end - item);
        if ((n == 4 && strncasecmp(item, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(item, "x-gzip", 6) == 0)) {
            const char *params = memchr(item, ';', (size_t)(p - item));
            return params == NULL || !q_is_zero(params + 1, p);
        }
    }
    return false;
}

int web_gzip(const void *data, size_t len, char **out, size_t *out_len, struct kpi_error *err)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper, with no name and mtime 0, so the
     * same body always compresses to the same bytes. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return kpi_fail(err, KPI_ESYSTEM, "cannot start compressing (zlib)");
    uLong cap = deflateBound(&z, (uLong)len);
    char *buf = malloc(cap > 0 ? cap : 1);
    if (buf == NULL) {
        deflateEnd(&z);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    /* zlib's in-pointer is not const; deflate only reads through it. */
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = (size_t)z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return kpi_fail(err, KPI_ESYSTEM, "cannot compress an answer (zlib)");
    }
    *out = buf;
    *out_len = produced;
    return 0;
}
