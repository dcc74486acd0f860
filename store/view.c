/*
 * view.c — read-only snapshots of one ledger generation (see ledger.c for
 * the file and how it is loaded). Lookups are binary searches over the
 * sorted arrays; resolving what a user typed scans names once.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int store_view_open(struct store *st, struct store_view **out, struct kpi_error *err)
{
    return ledger_load(st->dir, out, err);
}

void store_view_free(struct store_view *view)
{
    if (view == NULL)
        return;
    free(view->buf);
    free(view->teams);
    free(view->team_parent);
    free(view->indicators);
    free(view->series);
    free(view->lag);
    free(view);
}

uint64_t store_view_generation(const struct store_view *view)
{
    return view->generation;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether DIR/ledger is another file than the one view was loaded from. */
static bool ledger_replaced(const struct store *st, const struct store_view *view)
{
    struct stat sb;
    if (stat(st->ledger_path, &sb) != 0)
        return view->exists; /* gone (or unreadable): changed unless it never was */
    return !view->exists || sb.st_dev != view->dev || sb.st_ino != view->ino ||
           sb.st_size != view->file_size || sb.st_mtim.tv_sec != view->mtim.tv_sec ||
           sb.st_mtim.tv_nsec != view->mtim.tv_nsec;
}

bool store_changed(struct store *st, const struct store_view *view)
{
    /* Fast path: the generation every commit publishes (generation.c), read
     * from memory. The slow path, a stat of the ledger, runs when nothing is
     * published yet and once a second anyway, in case a writer died between
     * its rename and its publication. */
    int64_t now = monotonic_ms();
    const volatile uint64_t *published = atomic_load(&st->generation_map);
    if (published != NULL && now - atomic_load(&st->last_slow_ms) < 1000)
        return *published != view->generation;
    atomic_store(&st->last_slow_ms, now);
    store_map_generation(st);
    return ledger_replaced(st, view);
}

size_t store_view_team_count(const struct store_view *view)
{
    return view->team_count;
}

const struct kpi_team *store_view_team(const struct store_view *view, size_t i)
{
    return &view->teams[i];
}

size_t store_view_indicator_count(const struct store_view *view)
{
    return view->indicator_count;
}

const struct kpi_indicator *store_view_indicator(const struct store_view *view, size_t i)
{
    return &view->indicators[i];
}

/* Binary search of id among count records of size bytes whose first member
 * is the id pointer (struct kpi_team and struct kpi_indicator both are). */
static int find_id(const void *base, size_t count, size_t size, const char *id, size_t *index)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *const *rec =
            (const char *const *)(const void *)((const char *)base + mid * size);
        int c = strcmp(*rec, id);
        if (c == 0) {
            *index = mid;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return KPI_ENOTFOUND;
}

int store_view_find_team(const struct store_view *view, const char *id, size_t *index)
{
    return find_id(view->teams, view->team_count, sizeof *view->teams, id, index);
}

int store_view_find_indicator(const struct store_view *view, const char *id, size_t *index)
{
    return find_id(view->indicators, view->indicator_count, sizeof *view->indicators, id, index);
}

static int resolve(const struct store_view *view, bool teams, const char *ref, size_t *index,
                   struct kpi_error *err)
{
    const void *base = teams ? (const void *)view->teams : (const void *)view->indicators;
    size_t count = teams ? view->team_count : view->indicator_count;
    size_t size = teams ? sizeof *view->teams : sizeof *view->indicators;
    char id[KPI_ID_MAX + 1];
    if (store_ref_as_id(ref, id) && find_id(base, count, size, id, index) == 0)
        return 0;
    size_t rlen = strlen(ref);
    char *want = malloc(rlen * 2 + 8);
    char *have = NULL;
    if (want == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    kpi_fold(ref, want, rlen * 2 + 8);
    size_t cap = 0;
    int rc = KPI_ENOTFOUND;
    for (size_t i = 0; i < count && rc != 0; i++) {
        const char *name = teams ? view->teams[i].name : view->indicators[i].name;
        size_t need = strlen(name) * 2 + 8;
        if (need > cap || have == NULL) {
            char *grown = realloc(have, need);
            if (grown == NULL) {
                free(want);
                free(have);
                return kpi_fail(err, KPI_ESYSTEM, "out of memory");
            }
            have = grown;
            cap = need;
        }
        kpi_fold(name, have, cap);
        if (want[0] != '\0' && strcmp(have, want) == 0) {
            *index = i;
            rc = 0;
        }
    }
    free(want);
    free(have);
    if (rc != 0)
        kpi_fail(err, KPI_ENOTFOUND, "unknown %s \"%s\"", teams ? "team" : "indicator", ref);
    return rc;
}

int store_view_resolve_team(const struct store_view *view, const char *ref, size_t *index,
                            struct kpi_error *err)
{
    return resolve(view, true, ref, index, err);
}

int store_view_resolve_indicator(const struct store_view *view, const char *ref, size_t *index,
                                 struct kpi_error *err)
{
    return resolve(view, false, ref, index, err);
}

size_t store_view_series_count(const struct store_view *view)
{
    return view->series_count;
}

void store_view_series(const struct store_view *view, size_t i, struct store_series *out)
{
    *out = view->series[i];
}

bool view_series_index(const struct store_view *view, size_t team, size_t indicator, size_t *index)
{
    size_t lo = 0, hi = view->series_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct store_series *s = &view->series[mid];
        if (s->team == team && s->indicator == indicator) {
            *index = mid;
            return true;
        }
        if (s->team < team || (s->team == team && s->indicator < indicator))
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool store_view_find_series(const struct store_view *view, size_t team, size_t indicator,
                            struct store_series *out)
{
    size_t i;
    if (!view_series_index(view, team, indicator, &i))
        return false;
    *out = view->series[i];
    return true;
}
