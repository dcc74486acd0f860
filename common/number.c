/* Exact, locale-independent number text: see common.h. */
#include "common/common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

char *kpi_format_number(double v, char *buf)
{
    if (isnan(v)) {
        buf[0] = '\0';
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, KPI_NUMBER_MAX, "%s", v < 0 ? "-inf" : "inf");
        return buf;
    }
    if (v == 0.0) { /* also -0.0: a signed zero means nothing to a user */
        snprintf(buf, KPI_NUMBER_MAX, "0");
        return buf;
    }
    /* 17 significant digits always read back exactly; fewer usually do and
     * read better (0.1 rather than 0.10000000000000001). strtod runs before
     * the ',' -> '.' fix below, in the same locale as snprintf, so the two
     * agree on the decimal separator. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, KPI_NUMBER_MAX, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
    return buf;
}

double kpi_round_total(double v)
{
    if (!isfinite(v) || v == 0.0)
        return v;
    /* correctly rounded both ways (glibc): the double nearest the 15-digit
     * decimal; snprintf and strtod share the locale's decimal separator */
    char buf[KPI_NUMBER_MAX];
    snprintf(buf, sizeof buf, "%.15g", v);
    return strtod(buf, NULL);
}
