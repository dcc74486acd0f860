/*
 * libFuzzer target for the date parser of common/ (every date text of a CSV
 * goes through it): any bytes, with and without a strptime format, must
 * either parse to a valid day or fail with a message, never crash.
 */
#include "common/common.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t day;
    struct kpi_error err = {0};
    if (kpi_date_parse(text, NULL, &day, &err) == 0) {
        int y, m, d;
        kpi_ymd_from_day(day, &y, &m, &d);
        if (!kpi_ymd_valid(y, m, d))
            abort(); /* a parsed date is always a real day */
    }
    char why[KPI_ERROR_MAX];
    kpi_date_explain(text, NULL, why, sizeof why);
    kpi_date_parse(text, "%d.%m.%Y", &day, &err);
    free(text);
    return 0;
}
