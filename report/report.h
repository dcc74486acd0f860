/*
 * report — the answers kpi gives, in its three output formats: the JSON
 * documents of SPEC §7 (one serializer, used by the CLI and the server so
 * that both print the same bytes), CSV and aligned tables for a terminal.
 *
 * Numbers leave kpi through kpi_format_number (shortest exact decimal), in
 * JSON as in CSV; NaN is JSON null and an empty CSV cell.
 *
 * Ownership: every char * returned is caller-owned (free with free()).
 * Thread-safety: no shared state; documents may be built on any thread
 * (cJSON is used without its global error pointer).
 */
#ifndef KPI_REPORT_H
#define KPI_REPORT_H

#include "common/common.h"
#include "query/query.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>

enum report_format { REPORT_TABLE = 0, REPORT_CSV, REPORT_JSON };

/* "table", "csv" or "json"; 0 or KPI_EUSAGE. */
int report_format_parse(const char *text, enum report_format *out);

/* ------------------------------------------------------------ tables */

/* A table of text cells, rendered as aligned columns (terminal) or CSV. */
struct report_table;

/* A table with the given column headers (copied). Alignment: numeric columns
 * are right-aligned when `numeric` has a true entry for them (may be NULL).
 * Returns NULL when out of memory. Free with report_table_free. */
struct report_table *report_table_new(size_t columns, const char *const *headers,
                                      const bool *numeric);
void report_table_free(struct report_table *t);

/* Append a row of `columns` cells (copied; NULL means empty). 0 or
 * KPI_ESYSTEM. */
int report_table_add(struct report_table *t, const char *const *cells);

/* Write the table: REPORT_TABLE as aligned columns with a header line (cell
 * widths counted in characters, not bytes), REPORT_CSV as RFC 4180 with a
 * header row and LF line ends. 0 or KPI_ESYSTEM on a write error. */
int report_table_write(const struct report_table *t, enum report_format format, FILE *out);

/* Write one CSV field (quoted when it holds a comma, a quote or a line
 * break). */
void report_csv_field(FILE *out, const char *text);

/* --------------------------------------------------------- documents */

/* {"teams": [{"id", "name", "parent", "children": [ids]}]}, teams sorted by
 * id, parent null for a root. NULL when out of memory. */
char *report_teams_json(const struct store_view *view);

/* {"indicators": [{"id", "name", "family", "unit", "direction", "period",
 * "aggregate", "amber", "red", "weight"}]}, family null when none. */
char *report_indicators_json(const struct store_view *view);

/* Tables of the catalog (columns as the JSON fields). tree: the teams as an
 * indented tree (roots first, children sorted by id). */
struct report_table *report_teams_table(const struct store_view *view, bool tree);
struct report_table *report_indicators_table(const struct store_view *view);

/* ------------------------------------------------ analysis documents */

/* The analysis of a view: a struct query over the view's teams, indicators
 * and series. shared: compute every roll-up now so that threads may share
 * the result (the server); otherwise roll-ups are computed as questions need
 * them, and one answer about one team costs only that team's subtree (the
 * CLI). The view must outlive it. *out is caller-owned: query_free.
 * Errors: KPI_ESYSTEM. */
int report_analysis_open(const struct store_view *view, bool shared, struct query **out,
                         struct kpi_error *err);
/* The shared analysis of view computed from prev, the shared analysis of the
 * view it was updated from (store_view_update: unchanged series share their
 * points), computing again only what changed (query_new_from); prev NULL:
 * report_analysis_open(view, true). prev and its view must stay valid during
 * the call only. Errors: KPI_ESYSTEM. */
int report_analysis_update(const struct store_view *view, const struct query *prev,
                           struct query **out, struct kpi_error *err);

/* The documents of SPEC §7 that answer questions, as compact JSON. Each is
 * the exact text the CLI prints (--format json) and the server returns.
 * team/indicator are indices of the view; indicator may be QUERY_NONE
 * (every indicator). Return 0 with *json caller-owned (free()), or an error
 * of the query (KPI_EUSAGE, KPI_ESYSTEM). */
int report_series_doc(struct query *q, size_t team, size_t indicator, int64_t from_day,
                      int64_t to_day, char **json, struct kpi_error *err);
int report_trends_doc(struct query *q, size_t team, size_t indicator,
                      const struct query_options *opt, char **json, struct kpi_error *err);
int report_team_drift_doc(struct query *q, size_t team, const struct query_options *opt,
                          char **json, struct kpi_error *err);
/* The team drift document without "contributions" and "residual" when
 * !attribution: what bench/attribution.c compares the document with, to
 * measure what attribution costs (docs/PERFORMANCE.md). */
int report_team_drift_doc_with(struct query *q, size_t team, const struct query_options *opt,
                               bool attribution, char **json, struct kpi_error *err);
int report_all_drift_doc(struct query *q, const struct query_options *opt, char **json,
                         struct kpi_error *err);
int report_alerts_doc(struct query *q, const struct query_options *opt,
                      const struct query_alert_filter *filter, char **json, struct kpi_error *err);

/* How a table shows numbers: for a person on a terminal (human: gaps and
 * drift as percentages, arrows for trends, rounded values; color: status
 * words in colour) or exact for CSV (every number shortest-exact, words
 * plain). */
struct report_style {
    bool human;
    bool color;
};

/* The same answers as tables. *out is caller-owned (report_table_free). */
int report_series_table(struct query *q, size_t team, size_t indicator, int64_t from_day,
                        int64_t to_day, const struct report_style *style, struct report_table **out,
                        struct kpi_error *err);
int report_trends_table(struct query *q, size_t team, size_t indicator,
                        const struct query_options *opt, const struct report_style *style,
                        struct report_table **out, struct kpi_error *err);
/* One team: its indicators with cascade_gap and the worst contributor
 * (SPEC §11: the child of the most negative contribution, "team -3.2%");
 * *summary (caller-owned, may be
 * NULL when not wanted) is a one-line text of the team's drift, coverage and
 * status counts. */
int report_team_drift_table(struct query *q, size_t team, const struct query_options *opt,
                            const struct report_style *style, struct report_table **out,
                            char **summary, struct kpi_error *err);
int report_all_drift_table(struct query *q, const struct query_options *opt,
                           const struct report_style *style, struct report_table **out,
                           struct kpi_error *err);
int report_alerts_table(struct query *q, const struct query_options *opt,
                        const struct query_alert_filter *filter, const struct report_style *style,
                        struct report_table **out, struct kpi_error *err);

/* ------------------------------------------------------------ review */

/* Which teams a review holds. */
struct report_review_options {
    size_t team; /* QUERY_NONE: every root; else this team; with descendants */
    /* NULL: every team; else only the teams it says true of (a token's
     * scope, SPEC §9): called from the calling thread only. */
    bool (*visible)(void *ctx, size_t team);
    void *visible_ctx;
};

/* What the review is made of: the view (and the store, for the charts) and
 * its analysis, all borrowed. charts: render the charts with librrd
 * (store_graph), else leave them out. */
struct report_review_input {
    struct store *st;
    const struct store_view *view;
    struct query *q;
    struct query_options opt;
    struct report_review_options options;
    bool charts;
    /* The restatements of SPEC §10 whose latest change is a commit after
     * since (0: all), of the report's teams, when restatements is true. */
    bool restatements;
    uint64_t since;
};

/* The commit a review's restatements start after by default: the last
 * commit before the as-of month (0 when there is none). Errors:
 * KPI_ESYSTEM. */
int report_review_default_since(struct store *st, int64_t as_of_day, uint64_t *since,
                                struct kpi_error *err);

/* The review report of SPEC §11 as one self-contained HTML page (A4 print
 * layout, inline styles and SVG charts, no script, nothing loaded from
 * elsewhere): the drift of the teams by family, the alerts by severity,
 * each off_track or diverging indicator with its chart and attribution, and
 * the teams that miss families. Every user text is HTML-escaped. *html
 * (*len bytes, NUL-terminated) is caller-owned: free(). Errors: those of
 * the query (KPI_EUSAGE, KPI_ESYSTEM), KPI_ESYSTEM from librrd. Charts are
 * rendered one at a time (librrd's graph function is serialised). */
int report_review_html(const struct report_review_input *in, char **html, size_t *len,
                       struct kpi_error *err);

/* What one imported file did (SPEC §4). */
struct report_import_summary {
    const char *file;
    size_t rows, new_values, corrected, unchanged, empty, rejected;
    size_t series, new_teams, new_indicators;
    size_t total_rows; /* rows skipped because their team cell is a total */
    bool dry_run;
    unsigned long header_line; /* > 1: title lines above the header were skipped */
};

/* The summary line, without a newline: "sales.csv: 1200 rows, 1180 new, 12
 * corrected, 8 unchanged, 20 empty, 0 rejected, 3 series, 2 new teams, 0 new
 * indicators" (+ ", header on line 3" when title lines were skipped, + ", 2
 * total rows skipped" when there are, + " (dry run)"). */
void report_import_line(const struct report_import_summary *s, FILE *out);

/* The summary as one JSON object: file, rows, new, corrected, unchanged,
 * empty, rejected, series, new_teams, new_indicators, total_rows_skipped
 * (and dry_run when true, header_line when it is not 1). */
char *report_import_json(const struct report_import_summary *s);

/* ------------------------------------------------------------- history */

/* {"commits": [{"id", "time", "author", "kind", "source", "sha256", "rows",
 * "new", "corrected", "series", "teams"}]} (SPEC §10), and its table.
 * Caller frees (free / report_table_free); NULL when out of memory. */
char *report_commits_json(const struct store_commit *c, size_t n);
struct report_table *report_commits_table(const struct store_commit *c, size_t n);

/* {"team", "kpi", "versions": [{"period", "date", "field", "value", "commit",
 * "time", "author"}]}, periods labelled in kind; and its table. */
char *report_history_json(const char *team, const char *kpi, enum kpi_period_kind kind,
                          const struct store_version *v, size_t n);
struct report_table *report_history_table(enum kpi_period_kind kind, const struct store_version *v,
                                          size_t n);

/* {"restatements": [{"team", "kpi", "period", "date", "first_value",
 * "first_commit", "value", "commit", "change"}]}, periods labelled with the
 * indicators' kinds in view; and its table. */
/* Whether team (an id) is root (an index of view) or one of its
 * descendants. */
bool report_team_under(const struct store_view *view, const char *team, size_t root);

char *report_restatements_json(const struct store_view *view, const struct store_restatement *r,
                               size_t n);
struct report_table *report_restatements_table(const struct store_view *view,
                                               const struct store_restatement *r, size_t n);

/* --------------------------------------------------------------- notes */

/* The body of POST .../notes, {"period": DATE, "text": TEXT} (text "" or
 * null removes the note): *period and *text malloc'd (free both), the text
 * as sent (store_txn_note trims and checks it). KPI_EUSAGE with err saying
 * what is wrong with the body; KPI_ESYSTEM. */
int report_note_request_parse(const char *body, size_t len, char **period, char **text,
                              struct kpi_error *err);

#endif
