/* cJSON helpers: exact numbers, nulls for unknowns. */
#include "report/json_int.h"

#include "common/common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

int report_json_text_string(struct kpi_buf *b, const char *s)
{
    if (s == NULL)
        return kpi_buf_append(b, "null", 4);
    int rc = kpi_buf_append(b, "\"", 1);
    const char *run = s; /* bytes written as they are, up to p */
    const unsigned char *p = (const unsigned char *)s;
    for (; rc == 0 && *p != '\0'; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        char esc[8];
        switch (*p) {
        case '"':
        case '\\':
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc[2] = '\0';
            break;
        case '\b':
            strcpy(esc, "\\b");
            break;
        case '\f':
            strcpy(esc, "\\f");
            break;
        case '\n':
            strcpy(esc, "\\n");
            break;
        case '\r':
            strcpy(esc, "\\r");
            break;
        case '\t':
            strcpy(esc, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)*p);
            break;
        }
        rc = kpi_buf_append(b, run, (size_t)((const char *)p - run));
        if (rc == 0)
            rc = kpi_buf_puts(b, esc);
        run = (const char *)p + 1;
    }
    if (rc == 0)
        rc = kpi_buf_append(b, run, (size_t)((const char *)p - run));
    return rc == 0 ? kpi_buf_append(b, "\"", 1) : rc;
}
