/*
 * query internals shared by the files of query/ (not part of the API).
 *
 * A "cell" is the effective series of one (team, indicator): its values and
 * its targets, each either the team's own or rolled up from its children
 * (D1, D2). Both are lists of struct kpi_point sorted by period: a values
 * list is read through .value, a targets list through .target, and points
 * whose field is NaN are skipped. Own lists are the stored points themselves
 * (borrowed, no copy); rolled-up lists are computed and owned. Own targets
 * are interpolated by kpi_target_at; rolled-up targets list every period that
 * has one and are looked up exactly (D3).
 *
 * Rolled-up targets are like for like (SPEC §5, D18): a cell whose targets
 * roll up keeps two lists. `targets` holds the planned targets (every
 * child's target, in every period where one has a target): the cascade gap
 * and the periods after the as-of period use them. `lfl` has one point per
 * period where at least one child has a value, whose .target is the
 * aggregate of the targets of the children that have a value there (NaN
 * when none of them has a target): in the analysis it wins in the periods
 * up to the as-of period, in the series document (no as-of) everywhere.
 */
#ifndef KPI_QUERY_INTERNAL_H
#define KPI_QUERY_INTERNAL_H

#include "query/query.h"

#include <stdatomic.h>

/* The tolerance of SPEC §5 on ratio comparisons. */
#define Q_EPS 1e-9

/* The points of a computed list, shared by the queries whose cells hold it
 * (query_new_from keeps an unchanged roll-up): freed with the last one. */
struct q_block {
    atomic_size_t refs;
    struct kpi_point pts[];
};

struct q_block *q_block_new(size_t n);   /* refs 1; NULL when out of memory */
void q_block_retain(struct q_block *b);  /* NULL is fine */
void q_block_release(struct q_block *b); /* NULL is fine */

struct q_list {
    const struct kpi_point *pts;
    size_t n;              /* points, including those whose field is NaN */
    size_t count;          /* points whose field is a number */
    int64_t first, last;   /* periods of the first and last of those (count > 0) */
    struct q_block *owned; /* pts is owned->pts when computed (a reference) */
};

enum q_state { Q_EMPTY = 0, Q_BUSY, Q_DONE };

/* What query_new_from knows of a cell from the previous query: the cell it
 * was there (NULL: none, computed in full), whether its own series only
 * grew (own_tail: the count of the points already counted in prev's own
 * lists, or one of the two values below), and
 * whether the cells it rolls up from may differ (kids_changed). */
#define Q_OWN_SAME SIZE_MAX          /* own_tail: the same points (or none in both) */
#define Q_OWN_CHANGED (SIZE_MAX - 1) /* own_tail: new, gone or rewritten */
struct q_hint {
    const struct q_cell *prev;
    size_t own_tail;
    bool kids_changed;
};

struct q_cell {
    enum q_state state;
    struct q_list values;
    struct q_list targets; /* planned targets when rolled up */
    struct q_list lfl;     /* like-for-like targets (rolled-up targets only) */
    bool values_rolled;
    bool targets_rolled;
};

struct query {
    struct kpi_team *teams;
    size_t nteams;
    struct kpi_indicator *inds;
    size_t ninds;
    struct query_series_data *series;
    size_t nseries;
    size_t *parent;       /* nteams */
    size_t *child_start;  /* nteams + 1, into child */
    size_t *child;        /* children of each team, sorted by index */
    size_t *team_series;  /* nteams + 1: each team's range of series (sorted) */
    struct q_cell **rows; /* per team, allocated on first use */
    const char *(*note)(const void *ctx, size_t team, size_t indicator, int64_t period);
    const void *note_ctx;
    struct q_hint *hint; /* nteams * ninds, only while query_new_from prepares */
};

/* query_new without the check of the points' order (query_new_from checks
 * only what changed). */
int q_create(const struct query_dataset *ds, struct query **out, struct kpi_error *err);
/* Each series' points from index from[s] on (every point when from is
 * NULL) have increasing periods. KPI_EINPUT otherwise. */
int q_check_sorted(const struct query *q, const size_t *from, struct kpi_error *err);

/* The cell of (team, ind), computing it (and its children's) on first use.
 * Returns 0 or KPI_ESYSTEM. *out is borrowed until query_free. */
int q_cell_get(struct query *q, size_t team, size_t ind, const struct q_cell **out,
               struct kpi_error *err);

/* The team's own stored series of ind, or NULL. */
const struct query_series_data *q_own_series(const struct query *q, size_t team, size_t ind);

/* Index of the first point of l with period >= p (l->n when none). */
size_t q_first_from(const struct q_list *l, int64_t p);
/* Index of the last point of l with period <= p, or SIZE_MAX. */
size_t q_last_upto(const struct q_list *l, int64_t p);

/* Value observed in period p, or NaN. */
double q_value_at(const struct q_cell *c, int64_t p);
/* Which children's values make a rolled-up target like for like: those of
 * the periods up to this one (the as-of period in the analysis). */
#define Q_PLANNED INT64_MIN    /* no value counts: planned targets (cascade gap) */
#define Q_ALL_VALUES INT64_MAX /* every value counts (series document) */

/* The target of period p (SPEC §5, D3, D18), or NaN: a rolled-up target of
 * a period <= upto where a child has a value is the like-for-like one. */
double q_target_at(const struct q_cell *c, int64_t p, int64_t upto);
/* The latest period <= a with a value: true and *p, or false. */
bool q_latest_value(const struct q_cell *c, int64_t a, int64_t *p);
/* True when the cell has any value or target. */
bool q_cell_has_data(const struct q_cell *c);
/* First and last period having a value or a target (interpolated ones
 * included); false when empty. */
bool q_cell_span(const struct q_cell *c, int64_t *first, int64_t *last);

/* Fill a query_period (set) for a period of the given kind. */
void q_period_fill(struct query_period *out, enum kpi_period_kind kind, int64_t index);

/* Argument checks shared by the entry points. */
int q_check_team(const struct query *q, size_t team, struct kpi_error *err);
int q_check_options(const struct query_options *opt, struct kpi_error *err);

/* Evaluate (team, ind) with the as-of period a of the indicator's kind. */
int q_eval_at(struct query *q, size_t team, size_t ind, int64_t a, const struct query_options *opt,
              struct query_indicator *out, struct kpi_error *err);

/* The cascade of (team, ind) at period a (D11): *own the team's own target,
 * *children its children's aggregate target, *gap the cascade gap; each NaN
 * when undefined. */
int q_cascade_at(struct query *q, size_t team, size_t ind, int64_t a, double *own, double *children,
                 double *gap, struct kpi_error *err);

#endif
