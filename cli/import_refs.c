/* What an import does with references beyond resolving them (SPEC §4):
 * rows whose team cell is a total are skipped, and every team or indicator
 * a data file creates is named, so that a typo never hides in a count. */
#include "cli/import.h"

#include <stdlib.h>
#include <string.h>

/* The slugs of the team cells of spreadsheet totals: "Total", "TOTAL :",
 * "Sous-total", "Sous total", "Total général", "Grand total", "Subtotal",
 * "Sub-total" (any case, accents optional). A team named "Total Ventes" is
 * not one: only the whole cell counts. */
static const char *const TOTALS[] = {"total",       "sous-total", "total-general", "total-generale",
                                     "grand-total", "subtotal",   "sub-total"};

bool import_is_total(const char *ref, size_t len)
{
    /* cheap refusal first: every total starts with s, t or g once folded,
     * is short, and ref is read only up to len */
    if (len == 0 || len > 32)
        return false;
    char c = ref[0];
    if (strchr("sStTgG", c) == NULL)
        return false;
    char text[33], slug[KPI_ID_MAX + 1];
    memcpy(text, ref, len);
    text[len] = '\0';
    if (kpi_slugify(text, slug) == 0)
        return false;
    for (size_t i = 0; i < sizeof TOTALS / sizeof TOTALS[0]; i++)
        if (strcmp(slug, TOTALS[i]) == 0)
            return true;
    return false;
}

void import_created_add(struct import_created *c, bool team, const char *name, const char *id,
                        unsigned long line)
{
    if (c->count++ >= IMPORT_CREATED_SHOWN)
        return;
    struct import_created_entry *e = &c->shown[c->count - 1];
    e->team = team;
    e->line = line;
    e->name = strdup(name);
    e->id = strdup(id);
}

void import_created_print(const struct import_created *c, const char *file, FILE *out)
{
    size_t shown = c->count < IMPORT_CREATED_SHOWN ? c->count : IMPORT_CREATED_SHOWN;
    for (size_t i = 0; i < shown; i++) {
        const struct import_created_entry *e = &c->shown[i];
        if (e->name == NULL || e->id == NULL)
            continue; /* out of memory: the count still says it */
        bool same = strcmp(e->name, e->id) == 0;
        fprintf(out, "%s:%lu: created %s \"%s\" (%s%s%s%s)\n", file, e->line,
                e->team ? "team" : "indicator", e->name, same ? "" : "id ", same ? "" : e->id,
                same ? "" : ", ", e->team ? "no parent" : "no family");
    }
    if (c->count > shown)
        fprintf(out, "%s: ... and %zu more created\n", file, c->count - shown);
}

void import_created_free(struct import_created *c)
{
    size_t shown = c->count < IMPORT_CREATED_SHOWN ? c->count : IMPORT_CREATED_SHOWN;
    for (size_t i = 0; i < shown; i++) {
        free(c->shown[i].name);
        free(c->shown[i].id);
    }
    c->count = 0;
}
