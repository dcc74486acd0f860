/* Private to report/: building cJSON documents with exact numbers. */
#ifndef KPI_REPORT_JSON_INT_H
#define KPI_REPORT_JSON_INT_H

#include "common/common.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* A JSON number printed by kpi_format_number (cJSON's own %1.15g/%1.17g
 * printing is not the shortest exact text), or null for NaN. NULL when out of
 * memory. */
cJSON *report_json_number(double v);

/* Add to obj: a number (null for NaN), a string (null for NULL), a bool.
 * Return false when out of memory. */
bool report_json_add_number(cJSON *obj, const char *key, double v);
bool report_json_add_string(cJSON *obj, const char *key, const char *s);
bool report_json_add_bool(cJSON *obj, const char *key, bool b);

/* Append s to b as a JSON string exactly as cJSON_PrintUnformatted
 * writes it (quotes; \" \\ \b \f \n \r \t, other bytes below 0x20 as
 * \u00xx, every other byte as it is), or null for NULL: for documents
 * written by hand because building them with cJSON costs too much (the
 * series document: 10,000 points and more). Returns 0 or KPI_ESYSTEM. */
int report_json_text_string(struct kpi_buf *b, const char *s);

/* Print compactly and free the document. Returns NULL when out of memory
 * (the document is freed anyway). The result is malloc'd (cJSON's default
 * hooks), free with free(). */
char *report_json_finish(cJSON *doc);

#endif
