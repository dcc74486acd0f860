/* Errors as data: see common.h. */
#include "common/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kpi_fail(struct kpi_error *err, enum kpi_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        /* vsnprintf truncates to the buffer and always NUL-terminates. */
        int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        if (n < 0)
            err->message[0] = '\0';
        err->code = code;
    }
    return code;
}

void kpi_error_prefix(struct kpi_error *err, const char *prefix)
{
    if (!err || !prefix)
        return;
    char old[KPI_ERROR_MAX];
    memcpy(old, err->message, sizeof old);
    old[sizeof old - 1] = '\0';
    int n = snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
    if (n < 0)
        memcpy(err->message, old, sizeof old);
}

const char *kpi_status_name(enum kpi_status code)
{
    switch (code) {
    case KPI_OK:
        return "ok";
    case KPI_EUSAGE:
        return "usage";
    case KPI_EINPUT:
        return "input";
    case KPI_ESYSTEM:
        return "system";
    case KPI_ENOTFOUND:
        return "not_found";
    case KPI_EBUSY:
        return "busy";
    }
    return "unknown";
}
