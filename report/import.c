/* The summary of one imported file, as a line or a JSON object. */
#include "report/json_int.h"
#include "report/report.h"

void report_import_line(const struct report_import_summary *s, FILE *out)
{
    fprintf(out,
            "%s: %zu rows, %zu new, %zu corrected, %zu unchanged, %zu empty, %zu rejected, "
            "%zu series, %zu new teams, %zu new indicators",
            s->file, s->rows, s->new_values, s->corrected, s->unchanged, s->empty, s->rejected,
            s->series, s->new_teams, s->new_indicators);
    if (s->header_line > 1)
        fprintf(out, ", header on line %lu", s->header_line);
    if (s->total_rows > 0)
        fprintf(out, ", %zu total rows skipped", s->total_rows);
    if (s->dry_run)
        fputs(" (dry run)", out);
}

char *report_import_json(const struct report_import_summary *s)
{
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL && report_json_add_string(doc, "file", s->file);
    const struct {
        const char *key;
        size_t value;
    } counts[] = {{"rows", s->rows},
                  {"new", s->new_values},
                  {"corrected", s->corrected},
                  {"unchanged", s->unchanged},
                  {"empty", s->empty},
                  {"rejected", s->rejected},
                  {"series", s->series},
                  {"new_teams", s->new_teams},
                  {"new_indicators", s->new_indicators},
                  {"total_rows_skipped", s->total_rows}};
    for (size_t i = 0; ok && i < sizeof counts / sizeof counts[0]; i++)
        ok = report_json_add_number(doc, counts[i].key, (double)counts[i].value);
    if (ok && s->dry_run)
        ok = report_json_add_bool(doc, "dry_run", true);
    if (ok && s->header_line > 1)
        ok = report_json_add_number(doc, "header_line", (double)s->header_line);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}
