/* The body of POST /api/v1/teams/{team}/kpis/{kpi}/notes (SPEC §11):
 * {"period": DATE, "text": TEXT}, read with cJSON like every document. */
#include "report/json_int.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

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
    if (!cJSON_IsString(p))
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
