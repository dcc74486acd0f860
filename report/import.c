/* The summary of one imported file, as a line or a JSON object. */
#include "report/json_int.h"
#include "report/report.h"

void report_import_line(const struct report_import_summary *s, FILE *out)
{
    fprintf(out,
            "%s: %zu rows, %zu new, %zu corrected, %zu unchanged, %zu empty, %zu rejected, "
            "%zu series, %zu new teams, %zu new indicators%s",
            s->file, s->rows, s->new_values, s->corrected, s->unchanged, s->empty, s->rejected,
            s->series, s->new_teams, s->new_indicators, s->dry_run ? " (dry run)" : "");
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
                  {"new_indicators", s->new_indicators}};
    for (size_t i = 0; ok && i < sizeof counts / sizeof counts[0]; i++)
        ok = report_json_add_number(doc, counts[i].key, (double)counts[i].value);
    if (ok && s->dry_run)
        ok = report_json_add_bool(doc, "dry_run", true);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return report_json_finish(doc);
}
