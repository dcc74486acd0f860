/* Hashing, ETags and JSON error bodies. */
#include "web/web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t web_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void web_etag(const void *body, size_t len, char out[WEB_ETAG_MAX])
{
    /* FNV-1a mixes its last bytes poorly into the high bits; a final
     * avalanche (from MurmurHash3's fmix64) spreads them over all 64. */
    uint64_t h = web_hash(body, len, WEB_HASH_SEED) ^ (uint64_t)len;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    snprintf(out, WEB_ETAG_MAX, "\"%016llx\"", (unsigned long long)h);
}

void web_etag_gzip(const char *etag, char out[WEB_ETAG_MAX])
{
    snprintf(out, WEB_ETAG_MAX, "%.*s-gz\"", (int)strcspn(etag + 1, "\"") + 1, etag);
}

bool web_etag_matches(const char *header, const char *etag)
{
    if (header == NULL)
        return false;
    size_t etag_len = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        /* A tag runs to the next comma outside its quotes. */
        bool quoted = false;
        while (*p && (quoted || *p != ',')) {
            if (*p == '"')
                quoted = !quoted;
            p++;
        }
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end - start == 1 && *start == '*')
            return true;
        /* If-None-Match uses the weak comparison (RFC 9110 13.1.2). */
        if (end - start > 2 && start[0] == 'W' && start[1] == '/')
            start += 2;
        if ((size_t)(end - start) == etag_len && memcmp(start, etag, etag_len) == 0)
            return true;
    }
    return false;
}

char *web_error_json(const char *code, const char *message, size_t *len)
{
    struct kpi_buf b = {0};
    int rc = kpi_buf_printf(&b, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    for (const unsigned char *p = (const unsigned char *)message; rc == 0 && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = kpi_buf_printf(&b, "\\%c", *p);
        else if (*p < 0x20)
            rc = kpi_buf_printf(&b, "\\u%04x", *p);
        else
            rc = kpi_buf_append(&b, p, 1);
    }
    if (rc == 0)
        rc = kpi_buf_puts(&b, "\"}}");
    if (rc != 0) {
        kpi_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
