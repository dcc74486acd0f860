/* The analysis of a store view: the query dataset it describes. */
#include "report/report.h"

#include <stdlib.h>

/* The dataset's note function: the view's notes. */
static const char *view_note(const void *ctx, size_t team, size_t indicator, int64_t period)
{
    return store_view_note(ctx, team, indicator, period);
}

/* The analysis of view: prepared from prev when prev_q (report_analysis_update),
 * else opened (prepared when shared). */
static int analysis_of(const struct store_view *view, bool shared, const struct query *prev_q,
                       struct query **out, struct kpi_error *err)
{
    *out = NULL;
    size_t team_count = store_view_team_count(view);
    size_t indicator_count = store_view_indicator_count(view);
    size_t series_count = store_view_series_count(view);
    /* query_new copies these descriptor arrays; the strings and points stay
     * in the view. */
    struct kpi_team *teams = calloc(team_count + 1, sizeof *teams);
    struct kpi_indicator *indicators = calloc(indicator_count + 1, sizeof *indicators);
    struct query_series_data *series = calloc(series_count + 1, sizeof *series);
    int rc = 0;
    if (teams == NULL || indicators == NULL || series == NULL) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < team_count; i++)
        teams[i] = *store_view_team(view, i);
    for (size_t i = 0; i < indicator_count; i++)
        indicators[i] = *store_view_indicator(view, i);
    for (size_t i = 0; i < series_count; i++) {
        struct store_series s;
        store_view_series(view, i, &s);
        series[i] = (struct query_series_data){
            .team = s.team, .indicator = s.indicator, .points = s.points, .count = s.count};
    }
    struct query_dataset ds = {.teams = teams,
                               .team_count = team_count,
                               .parents = NULL,
                               .indicators = indicators,
                               .indicator_count = indicator_count,
                               .series = series,
                               .series_count = series_count,
                               .note = view_note,
                               .note_ctx = view};
    if (prev_q != NULL) {
        rc = query_new_from(&ds, prev_q, out, err);
        goto done;
    }
    rc = query_new(&ds, out, err);
    if (rc == 0 && shared && (rc = query_prepare(*out, err)) != 0) {
        query_free(*out);
        *out = NULL;
    }
done:
    free(teams);
    free(indicators);
    free(series);
    return rc;
}

int report_analysis_open(const struct store_view *view, bool shared, struct query **out,
                         struct kpi_error *err)
{
    return analysis_of(view, shared, NULL, out, err);
}

int report_analysis_update(const struct store_view *view, const struct query *prev,
                           struct query **out, struct kpi_error *err)
{
    if (prev == NULL)
        return analysis_of(view, true, NULL, out, err);
    return analysis_of(view, true, prev, out, err);
}
