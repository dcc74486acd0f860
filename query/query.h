/*
 * query — the analysis of SPEC §5 as pure computation on arrays: roll-ups,
 * series, latest point, gap, status, trend, required slope, divergence,
 * projection, staleness, cascade gap, team drift and alerts. No I/O, no
 * globals, no JSON: the result structs carry every field of the documents of
 * SPEC §7 (INDICATOR, team drift, all teams, ALERT), NaN for unknown numbers
 * and a `set` flag for absent periods; report/ serialises them.
 *
 * Usage: describe the data (struct query_dataset, usually from a store view),
 * query_new, then ask any number of questions with any options (as-of,
 * window, stale_after), query_free. Team and indicator arguments are indices
 * into the dataset's arrays. Roll-ups do not depend on the options: they are
 * computed lazily, once per (team, indicator), and kept in the object.
 *
 * Cost: roll-ups are O(points) once; 1,000 teams x 20 monthly indicators x 3
 * years in a 3-level tree: every roll-up ~20 ms, then a team's drift ~30 us,
 * all teams' drift ~30 ms, all alerts with `since` ~0.2 s.
 *
 * Thread-safety: a struct query caches roll-ups as it answers, so one object
 * must not be used by two threads at once -- unless query_prepare() was called
 * first: after it, every query_* function only reads the object and any number
 * of threads may share it.
 *
 * Decisions where SPEC §5 is silent or ambiguous (copied to the docs):
 *
 *  D1  Roll-up is decided over all periods, not only up to the as-of period:
 *      "a team without any observation of its own (in any period)". So the
 *      series document (which has no as-of) and the analysis agree, and a
 *      team that starts reporting itself stops being a roll-up everywhere.
 *  D2  Values and targets roll up independently: a team with its own
 *      observations but no targets of its own gets rolled-up targets, and a
 *      team with its own targets (a budget set at its level) but no
 *      observations gets rolled-up values.
 *  D3  A child's target in a period is its target as defined in §5 (target
 *      point, interpolated or rolled up). A rolled-up target exists exactly in
 *      the periods where at least one child has one: it is never interpolated
 *      across periods where no child has a target.
 *  D4  For rolled-up targets, every period with a rolled-up target is a
 *      "target point": the deadline is the last period after P that has one.
 *  D5  `rolled_up` (series point and INDICATOR) is true when a number shown
 *      (the value/actual or the target) comes from the children;
 *      value_rolled_up and target_rolled_up tell which.
 *  D6  Without an observation up to the as-of period (status no_data),
 *      period, target, gap, trend, required_slope, deadline, projected and
 *      projected_gap are null and stale and diverging are false, even when
 *      the series has observations after the as-of period or targets.
 *  D7  The 1e-9 tolerance is applied on the side that treats a ratio equal to
 *      its threshold up to rounding as equal: on_track when
 *      gap >= -amber - 1e-9, off_track when gap < -red - 1e-9, flat when
 *      |change| < 0.01 - 1e-9, will_miss when projected_gap < -amber - 1e-9,
 *      cascade_gap alert when |cascade_gap| > amber + 1e-9. The same rule is
 *      used for a gap that is a difference (target 0).
 *  D8  Slopes are not ratios: "required slope is not 0" and "opposite signs"
 *      are exact comparisons. Least squares are computed on values relative
 *      to the first one, so a constant series has a slope of exactly 0.
 *  D9  The projection uses the trend's slope even when the trend is flat.
 *  D10 Drift: indicators without a family count in `drift` but in no family
 *      and not in coverage; a team whose indicators with a gap all weigh 0
 *      has drift null (so does a family). Only indicators with a gap cover a
 *      family (a no_target indicator does not).
 *  D11 Cascade gap: the team needs its own target (points or interpolated,
 *      not rolled up) at the as-of period; children count with their target
 *      of that period, own or rolled up; sum or mean per the indicator. It is
 *      not multiplied by -1 for `down`: it says whether the children's targets
 *      add up to more (+) or less (-) than the team's.
 *  D12 Alerts: id is "<team>/<kpi>/<kind>" ("<team>/coverage" for coverage):
 *      readable and stable across calls and generations (ids never contain
 *      '/'). actual/target/gap are those of P for the indicator kinds; for
 *      cascade_gap, target is the team's own target at the as-of period, gap
 *      the cascade gap and actual null; all three null for coverage.
 *  D13 `since` evaluates the condition with the same window and stale_after
 *      at each earlier as-of period of the indicator's own period kind,
 *      going backwards until it fails; a cascade gap is evaluated at each of
 *      those periods. It is the as-of period itself when the condition did not
 *      hold one period earlier.
 *  D14 Alerts are sorted by severity (critical first), then team id, then kpi
 *      id (coverage, without kpi, before the team's others of its severity),
 *      then kind in the order of the SPEC table. A team filter includes the
 *      team and all its descendants; coverage alerts are info.
 *  D15 A team's indicators (trends, drift, alerts) are those it has a series
 *      of, own or rolled up, with at least one value or target in any period,
 *      in indicator id order.
 *  D16 Series points run from the first to the last period having a value or
 *      a target (interpolated and rolled-up targets included), all periods
 *      (no as-of), clipped to the periods containing the from/to days.
 *  D17 A rolled-up value or target, and the children's aggregate of the
 *      cascade gap, is the sum or mean rounded to 15 significant digits
 *      (kpi_round_total), as a spreadsheet shows it: 12345.67 + 98765.43
 *      reports 111111.1, not the 111111.09999999999 that binary addition
 *      leaves. Own numbers are never rounded: they are the imported ones.
 *  D18 Rolled-up targets are like for like (SPEC §5): in a period where at
 *      least one child has a value (own or rolled up; in the analysis only
 *      periods up to the as-of period, in the series document and charts,
 *      which have no as-of, every period), the team's target is the
 *      aggregate of the targets of the children that have a value there,
 *      each child's own like-for-like target when it rolls up too. When none
 *      of those children has a target, the period has no target (no_target):
 *      the children that report are not compared with the targets of those
 *      that do not. In the other periods (after the as-of period, or when no
 *      child reports) every child's planned target counts, so the deadline
 *      and its target are planned ones. The cascade gap compares planned
 *      targets: every child's, rolled up from every grandchild.
 *  D19 Attribution (SPEC §11): a child's actual is its value in the team's
 *      evaluation period P (own or rolled up) and its target its target of
 *      P as the child's own INDICATOR would show it at the same as-of
 *      (like for like when it rolls up). Children without a value in P do
 *      not count in n; children with a value and no target count in n but
 *      get no contribution (their value stays in the residual). Ties are
 *      broken by child id.
 *  D20 The residual is rounded like the numbers it comes from: below 1e-12
 *      in absolute value it is 0 (the binary noise of gap - sum when the
 *      children explain the whole gap).
 */
#ifndef KPI_QUERY_H
#define KPI_QUERY_H

#include "common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_NONE SIZE_MAX /* no index: a root's parent */

/* ------------------------------------------------------------ the input */

/* One stored series: the points of (team, indicator), sorted by strictly
 * increasing period, only periods with a value or a target point (the other
 * field NaN) -- exactly what store_view_series gives. */
struct query_series_data {
    size_t team;      /* index into query_dataset.teams */
    size_t indicator; /* index into query_dataset.indicators */
    const struct kpi_point *points;
    size_t count;
};

/* What the analysis reads. Teams are sorted by id (as a store view gives
 * them); parents (may be NULL) gives each team's parent index or QUERY_NONE
 * for a root; when NULL it is resolved from teams[i].parent ("" = root, an
 * unknown parent id makes the team a root). At most one series per (team,
 * indicator), in any order. */
struct query_dataset {
    const struct kpi_team *teams;
    size_t team_count;
    const size_t *parents;
    const struct kpi_indicator *indicators;
    size_t indicator_count;
    const struct query_series_data *series;
    size_t series_count;
    /* The note of (team, indicator, period) (SPEC §11), or NULL; called with
     * note_ctx. NULL: no notes. Strings borrowed for the query's life. */
    const char *(*note)(const void *note_ctx, size_t team, size_t indicator, int64_t period);
    const void *note_ctx;
};

/* Options of every analysis: as_of is a day (days since 1970-01-01); each
 * indicator's as-of period is its period containing that day. */
struct query_options {
    int64_t as_of_day;
    unsigned window;      /* N periods ending at P; >= 1, default 6 */
    unsigned stale_after; /* default 2 */
};

/* Fill o with the defaults (window 6, stale_after 2) for as_of_day. */
void query_options_default(struct query_options *o, int64_t as_of_day);

struct query; /* a prepared analysis of one dataset (opaque) */

/* Prepare the analysis of ds. The descriptor arrays (teams, parents,
 * indicators, series) are copied; the strings they point to and the points
 * of each series are borrowed and must stay valid until query_free.
 * Errors: KPI_EINPUT (index out of range, two series for one (team,
 * indicator), points not sorted, a parent cycle), KPI_ESYSTEM (memory).
 * *out is caller-owned: query_free. */
int query_new(const struct query_dataset *ds, struct query **out, struct kpi_error *err);
void query_free(struct query *q); /* NULL is fine */

/* The note of (team, indicator, period) through the dataset's note
 * function, or NULL. Borrowed as the dataset's strings. Thread-safe when
 * that function is. */
const char *query_note(const struct query *q, size_t team, size_t indicator, int64_t period);

/* Compute every roll-up now, so that q can then be shared by threads (see
 * above). Errors: KPI_ESYSTEM. */
int query_prepare(struct query *q, struct kpi_error *err);

/* query_new then query_prepare, computing again only what differs from
 * prev, the prepared analysis of the previous dataset (NULL: everything is
 * computed): the server's take-up of a new commit. prev and what it borrows
 * must stay valid during the call; after it, *out borrows nothing from prev
 * (cells it keeps are shared through reference counts) and either may be
 * freed first.
 *
 * What is kept: a series whose points pointer and count are prev's for the
 * same (team id, indicator id) is unchanged; one with the same pointer and
 * more points grew (only its new points are read and checked) -- the
 * caller promises that points once lent to a query are never rewritten,
 * only appended after, while that query lives (store views: a series'
 * buffer is shared between views and only written past every view's
 * count). A cell whose own series and whose children's cells are unchanged
 * (same children, by id) is prev's; a roll-up whose children's cells are
 * unchanged is prev's. Teams or indicators not sorted by id, a new team or
 * indicator, a changed parent or aggregate compute the cells they touch
 * (and their ancestors') again; names, directions, thresholds, families and
 * weights are read by the questions, not by the cells.
 * Errors and ownership: those of query_new and query_prepare. */
int query_new_from(const struct query_dataset *ds, const struct query *prev, struct query **out,
                   struct kpi_error *err);

/* The children of a team (indices, sorted by id). Borrowed until
 * query_free. team must be < team_count. */
const size_t *query_children(const struct query *q, size_t team, size_t *count);

/* The dataset's team / indicator at an index (< the count; borrowed until
 * query_free), so that documents can name them. */
const struct kpi_team *query_team(const struct query *q, size_t team);
const struct kpi_indicator *query_indicator(const struct query *q, size_t indicator);

/* ----------------------------------------------------------- periods */

/* A period in output: absent when !set (JSON null). label and date (its last
 * day) are the SPEC texts, e.g. "2026-W05" and "2026-02-01". */
struct query_period {
    bool set;
    enum kpi_period_kind kind;
    int64_t index;
    char label[KPI_LABEL_MAX];
    char date[KPI_LABEL_MAX];
};

/* ------------------------------------------------------------- series */

struct query_point {
    struct query_period period;
    double value;  /* NaN where none */
    double target; /* the period's target (point, interpolated, rolled up) */
    bool rolled_up;
};

struct query_series {
    size_t team, indicator;
    struct query_point *points; /* caller-owned via query_series_free */
    size_t count;
};

/* The series document's points of (team, indicator) (D16): every period from
 * the first to the last having a value or a target, restricted to the
 * periods from the one containing from_day to the one containing to_day
 * (INT64_MIN / INT64_MAX for no bound). A team without the series gets no
 * points. Errors: KPI_EUSAGE (an index out of range), KPI_ESYSTEM. Free
 * *out with query_series_free, also after an error. */
int query_series_get(struct query *q, size_t team, size_t indicator, int64_t from_day,
                     int64_t to_day, struct query_series *out, struct kpi_error *err);
void query_series_free(struct query_series *s);

/* ---------------------------------------------------------- indicator */

enum query_status {
    QUERY_NO_DATA = 0,
    QUERY_NO_TARGET,
    QUERY_ON_TRACK,
    QUERY_AT_RISK,
    QUERY_OFF_TRACK,
};
#define QUERY_STATUS_COUNT 5
/* "no_data", "no_target", "on_track", "at_risk", "off_track". */
const char *query_status_name(enum query_status s);

enum query_direction { QUERY_FLAT = 0, QUERY_IMPROVING, QUERY_WORSENING };
/* "flat", "improving", "worsening". */
const char *query_direction_name(enum query_direction d);

/* The trend object, or JSON null when !set. */
struct query_trend {
    bool set;
    double slope;  /* units per period */
    double change; /* slope * (N - 1) / |mean| */
    enum query_direction direction;
    unsigned window; /* N */
};

/* The INDICATOR record of the trends and team drift documents. */
struct query_indicator {
    size_t team, indicator;
    const char *kpi;            /* indicator id, borrowed from the dataset */
    enum kpi_family family;     /* KPI_FAMILY_NONE: JSON null */
    struct query_period as_of;  /* the indicator's as-of period */
    struct query_period period; /* P (with date); unset without observation */
    double actual, target, gap;
    enum query_status status;
    struct query_trend trend;
    double required_slope;
    bool diverging;
    struct query_period deadline;
    double deadline_target; /* the target at the deadline (for messages) */
    double projected, projected_gap;
    bool stale;
    bool rolled_up, value_rolled_up, target_rolled_up; /* D5 */
    double cascade_gap;                                /* team drift document only; NaN = null */
    double cascade_target;  /* the team's own target at the as-of period (D11) */
    double children_target; /* what its children's targets add up to there */
};

/* Evaluate one (team, indicator) at opt (a team without that series gets a
 * no_data record). Errors: KPI_EUSAGE (index out of range, window 0),
 * KPI_ESYSTEM. */
int query_indicator_eval(struct query *q, size_t team, size_t indicator,
                         const struct query_options *opt, struct query_indicator *out,
                         struct kpi_error *err);

/* The trends document's list: one record per indicator the team has a series
 * of (D15). *items is caller-owned (free()), NULL when *count is 0.
 * Errors: KPI_EUSAGE, KPI_ESYSTEM. */
int query_team_indicators(struct query *q, size_t team, const struct query_options *opt,
                          struct query_indicator **items, size_t *count, struct kpi_error *err);

/* -------------------------------------------------------------- drift */

struct query_drift {
    size_t team;
    const char *team_id; /* borrowed from the dataset */
    double drift;        /* NaN = null */
    double families[KPI_FAMILY_COUNT];
    size_t status_counts[QUERY_STATUS_COUNT];
    bool covered[KPI_FAMILY_COUNT];     /* coverage: true; missing_families: false */
    struct query_indicator *indicators; /* NULL unless asked for */
    size_t indicator_count;
};

/* The team drift document of one team; with_indicators also fills its
 * indicators (D15, with cascade_gap). Free with query_drift_free, also after
 * an error. Errors: KPI_EUSAGE, KPI_ESYSTEM. */
int query_team_drift(struct query *q, size_t team, const struct query_options *opt,
                     bool with_indicators, struct query_drift *out, struct kpi_error *err);
void query_drift_free(struct query_drift *d); /* frees indicators; NULL is fine */

/* The all-teams document: one summary (without indicators) per team, in team
 * order. *items is caller-owned (free()); *count is the team count. */
int query_all_drift(struct query *q, const struct query_options *opt, struct query_drift **items,
                    size_t *count, struct kpi_error *err);

/* -------------------------------------------------------- attribution */

/* One child's share of its parent's gap (SPEC §11): contribution =
 * s * (actual - target) / |T| for a sum, s * (actual - target) / (n * |T|)
 * for a mean (T the parent's target in P, n the children whose values make
 * the parent's actual in P, s = -1 for direction down). */
struct query_contribution {
    size_t team;         /* the child's index */
    const char *team_id; /* borrowed from the dataset */
    double actual, target, contribution;
};

/* The attribution of one INDICATOR of the team drift document. When !set
 * (the actual is not rolled up, or T is missing or 0) contributions is []
 * and residual null. */
struct query_attribution {
    bool set;
    struct query_contribution *items; /* worst first; caller-owned via
                                         query_attribution_free */
    size_t count;
    double residual; /* gap - sum of contributions; NaN when !set */
};

/* The contributions of the children of ind->team to the gap of ind (a record
 * of query_team_drift / query_indicator_eval at opt), each child with an
 * actual and a target in ind's period P, sorted by contribution ascending
 * (ties: child id order), and the residual (D19, D20). Errors: KPI_EUSAGE
 * (index out of range), KPI_ESYSTEM. Free *out with query_attribution_free,
 * also after an error. */
int query_attribution(struct query *q, const struct query_indicator *ind,
                      const struct query_options *opt, struct query_attribution *out,
                      struct kpi_error *err);
void query_attribution_free(struct query_attribution *a); /* NULL is fine */

/* ------------------------------------------------------------- alerts */

enum query_severity { QUERY_INFO = 0, QUERY_WARNING, QUERY_CRITICAL };
/* "info", "warning", "critical"; parse returns 0 or KPI_EUSAGE. */
const char *query_severity_name(enum query_severity s);
int query_severity_parse(const char *text, enum query_severity *out);

enum query_alert_kind {
    QUERY_ALERT_OFF_TRACK = 0,
    QUERY_ALERT_AT_RISK,
    QUERY_ALERT_DIVERGING,
    QUERY_ALERT_WILL_MISS,
    QUERY_ALERT_STALE,
    QUERY_ALERT_CASCADE_GAP,
    QUERY_ALERT_COVERAGE,
};
/* "off_track", "at_risk", "diverging", "will_miss", "stale", "cascade_gap",
 * "coverage". */
const char *query_alert_kind_name(enum query_alert_kind k);

#define QUERY_ALERT_ID_MAX (2 * KPI_ID_MAX + 16)

struct query_alert {
    char id[QUERY_ALERT_ID_MAX]; /* D12 */
    size_t team;
    const char *team_id; /* borrowed from the dataset */
    size_t indicator;    /* QUERY_NONE for coverage */
    const char *kpi;     /* NULL for coverage (JSON null) */
    enum query_alert_kind kind;
    enum query_severity severity;
    char *message;                  /* one English sentence, owned by the list */
    struct query_period period;     /* P; the as-of period for cascade_gap */
    struct query_period since;      /* unset for coverage */
    double actual, target, gap;     /* NaN where they do not apply (D12) */
    bool missing[KPI_FAMILY_COUNT]; /* coverage: the families missing */
};

struct query_alert_list {
    struct query_alert *items;
    size_t count;
};

/* Which alerts: team QUERY_NONE for all, else that team and its
 * descendants; min_severity and above. A NULL filter means all. */
struct query_alert_filter {
    size_t team;
    enum query_severity min_severity;
};

/* Every alert of SPEC §5 at opt, filtered, sorted as D14 says. Free *out
 * with query_alert_list_free, also after an error. Errors: KPI_EUSAGE
 * (team out of range, window 0), KPI_ESYSTEM. */
int query_alerts(struct query *q, const struct query_options *opt,
                 const struct query_alert_filter *filter, struct query_alert_list *out,
                 struct kpi_error *err);
void query_alert_list_free(struct query_alert_list *l);

#endif
