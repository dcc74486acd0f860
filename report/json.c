/* cJSON helpers: exact numbers, nulls for unknowns. */
#include "report/json_int.h"

#include "common/common.h"

#include <math.h>

cJSON *report_json_number(double v)
{
    if (isnan(v) || isinf(v))
        return cJSON_CreateNull();
    char text[KPI_NUMBER_MAX];
    return cJSON_CreateRaw(kpi_format_number(v, text));
}

bool report_json_add_number(cJSON *obj, const char *key, double v)
{
    cJSON *n = report_json_number(v);
    return n != NULL && cJSON_AddItemToObject(obj, key, n);
}

bool report_json_add_string(cJSON *obj, const char *key, const char *s)
{
    cJSON *item = s ? cJSON_CreateString(s) : cJSON_CreateNull();
    return item != NULL && cJSON_AddItemToObject(obj, key, item);
}

bool report_json_add_bool(cJSON *obj, const char *key, bool b)
{
    return cJSON_AddBoolToObject(obj, key, b) != NULL;
}

char *report_json_finish(cJSON *doc)
{
    if (doc == NULL)
        return NULL;
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}
