/* A growable NUL-terminated byte buffer: see common.h. */
#include "common/common.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

/* Make room for `more` bytes plus the NUL. Doubles the capacity so that n
 * appends cost O(n) copies in total; checks every size for overflow. */
static int reserve(struct kpi_buf *b, size_t more)
{
    if (more > SIZE_MAX - 1 - b->len)
        return KPI_ESYSTEM;
    size_t need = b->len + more + 1;
    if (b->data && need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return KPI_ESYSTEM;
    if (!b->data)
        data[0] = '\0';
    b->data = data;
    b->cap = cap;
    return 0;
}

int kpi_buf_append(struct kpi_buf *b, const void *bytes, size_t len)
{
    int rc = reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, bytes, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int kpi_buf_puts(struct kpi_buf *b, const char *s)
{
    return kpi_buf_append(b, s, strlen(s));
}

int kpi_buf_printf(struct kpi_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return KPI_ESYSTEM;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void kpi_buf_free(struct kpi_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
