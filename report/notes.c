/* The body of POST /api/v1/teams/{team}/kpis/{kpi}/notes (SPEC §11):
 * {"period": DATE, "text": TEXT}, read with cJSON like every document. */
#include "report/json_int.h"
#include "report/report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Does the JSON text hold a NUL byte or the escape \u0000? cJSON copies
 * either into a C string that ends there, so a note would be cut silently.
 * Backslashes only occur in strings, each starting an escape of one
 * character (or u and four hex digits). */
static bool has_nul(const char *body, size_t len)
{
    if (memchr(body, '\0', len) != NULL)
        return true;
    for (size_t i = 0; i + 1 < len; i++) {
        if (body[i] != '\\')
            continue;
        if (body[i + 1] == 'u' && i + 6 <= len && memcmp(body + i + 2, "0000", 4) == 0)
            return true;
        i++; /* the escaped character */
    }
    return false;
}

int report_note_request_parse(const char *body, size_t len, char **period, char **text,
                              struct kpi_error *err)
{
    *period = *text = NULL;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (doc == NULL || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return kpi_fail(err, KPI_EUSAGE,
                        "the body must be a JSON object {\"period\": DATE, \"text\": TEXT}");
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "period");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "text");
    int rc = 0;
    if (has_nul(body, len))
        rc = kpi_fail(err, KPI_EUSAGE,
                      "the body contains a NUL character (\\u0000): a note allows no control "
                      "character but line breaks");
    else if (!cJSON_IsString(p))
        rc = kpi_fail(err, KPI_EUSAGE, "\"period\" must be a date string (e.g. \"2026-10\")");
    else if (t != NULL && !cJSON_IsString(t) && !cJSON_IsNull(t))
        rc = kpi_fail(err, KPI_EUSAGE, "\"text\" must be a string (\"\" or null removes the note)");
    else if (t == NULL)
        rc = kpi_fail(err, KPI_EUSAGE, "\"text\" is missing (\"\" or null removes the note)");
    if (rc == 0) {
        *period = strdup(p->valuestring);
        *text = strdup(cJSON_IsString(t) ? t->valuestring : "");
        if (*period == NULL || *text == NULL) {
            free(*period);
            free(*text);
            *period = *text = NULL;
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        }
    }
    cJSON_Delete(doc);
    return rc;
}
