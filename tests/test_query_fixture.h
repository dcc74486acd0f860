/*
 * The fixture of the query/ suites: a small dataset built in memory (teams
 * added in id order, points merged into one sorted series per (team,
 * indicator)), and shorthands for months, as-of days and evaluations.
 * Included by tests/test_query_*.c; static inline so a suite may use part.
 */
#ifndef KPI_TEST_QUERY_FIXTURE_H
#define KPI_TEST_QUERY_FIXTURE_H

#include "query/query.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fx {
    struct kpi_team teams[16];
    size_t nteams;
    struct kpi_indicator inds[8];
    size_t ninds;
    struct kpi_point pts[32][64];
    struct query_series_data series[32];
    size_t nseries;
};

static inline struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    return f;
}

static inline size_t fx_team(struct fx *f, const char *id, const char *name, const char *parent)
{
    ck_assert_uint_lt(f->nteams, 16);
    if (f->nteams > 0)
        ck_assert_int_lt(strcmp(f->teams[f->nteams - 1].id, id), 0);
    f->teams[f->nteams] = (struct kpi_team){id, name, parent};
    return f->nteams++;
}

static inline size_t fx_ind(struct fx *f, const char *id, const char *name, enum kpi_family family,
                            enum kpi_period_kind period)
{
    ck_assert_uint_lt(f->ninds, 8);
    struct kpi_indicator *ind = &f->inds[f->ninds];
    kpi_indicator_defaults(ind, id);
    ind->name = name;
    ind->family = family;
    ind->period = period;
    return f->ninds++;
}

/* Set the value and/or target (NAN: leave as is) of one period. */
static inline void fx_set(struct fx *f, size_t team, size_t ind, int64_t period, double value,
                          double target)
{
    size_t s = 0;
    while (s < f->nseries && (f->series[s].team != team || f->series[s].indicator != ind))
        s++;
    if (s == f->nseries) {
        ck_assert_uint_lt(s, 32);
        f->series[s] = (struct query_series_data){team, ind, f->pts[s], 0};
        f->nseries++;
    }
    struct query_series_data *sd = &f->series[s];
    size_t k = 0;
    while (k < sd->count && f->pts[s][k].period < period)
        k++;
    if (k == sd->count || f->pts[s][k].period != period) {
        ck_assert_uint_lt(sd->count, 64);
        memmove(&f->pts[s][k + 1], &f->pts[s][k], (sd->count - k) * sizeof f->pts[s][0]);
        f->pts[s][k] = (struct kpi_point){period, NAN, NAN};
        sd->count++;
    }
    if (!isnan(value))
        f->pts[s][k].value = value;
    if (!isnan(target))
        f->pts[s][k].target = target;
}

static inline struct query *fx_query(const struct fx *f)
{
    struct query_dataset ds = {f->teams,  f->nteams,  NULL, f->inds, f->ninds,
                               f->series, f->nseries, NULL, NULL};
    struct query *q = NULL;
    struct kpi_error err = {0};
    int rc = query_new(&ds, &q, &err);
    ck_assert_msg(rc == 0, "query_new: %s", err.message);
    return q;
}

/* Month index of SPEC periods: year * 12 + month - 1. */
static inline int64_t mon(int year, int month)
{
    return (int64_t)year * 12 + month - 1;
}

static inline struct query_options at_day(int year, int month, int mday)
{
    struct query_options o;
    query_options_default(&o, kpi_day_from_ymd(year, month, mday));
    return o;
}

static inline struct query_indicator eval_ok(struct query *q, size_t team, size_t ind,
                                             struct query_options o)
{
    struct query_indicator r;
    struct kpi_error err = {0};
    int rc = query_indicator_eval(q, team, ind, &o, &r, &err);
    ck_assert_msg(rc == 0, "eval: %s", err.message);
    return r;
}

#endif
