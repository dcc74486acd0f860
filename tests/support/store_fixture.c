/* A small store scenario written through the transaction API (store_fixture.h). */
#include "support/store_fixture.h"
#include "store/store_int.h" /* lag_count */

#include <check.h>
#include <string.h>

int64_t sf_month(int m)
{
    return (int64_t)2025 * 12 + m - 1;
}

void sf_set(struct store_txn *txn, const char *team, const char *kpi, int m, enum store_field field,
            double v)
{
    struct kpi_error e = {0};
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, team, false, &t, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, kpi, false, &k, NULL, NULL), 0);
    ck_assert_msg(store_txn_set(txn, t, k, sf_month(m), field, v, NULL, &e) == 0, "%s", e.message);
}

void sf_team(struct store_txn *txn, const char *id, const char *parent)
{
    struct kpi_error e = {0};
    struct kpi_team_patch p = {.ref = id, .name = id, .parent = parent};
    ck_assert_msg(store_txn_patch_team(txn, &p, false, NULL, &e) == 0, "%s", e.message);
}

void sf_indicator(struct store_txn *txn, const char *id)
{
    struct kpi_error e = {0};
    struct kpi_indicator_patch p = {.ref = id,
                                    .name = id,
                                    .unit = "EUR",
                                    .set = KPI_SET_DIRECTION | KPI_SET_PERIOD | KPI_SET_AGGREGATE,
                                    .direction = KPI_DIRECTION_UP,
                                    .period = KPI_PERIOD_MONTH,
                                    .aggregate = KPI_AGGREGATE_SUM};
    ck_assert_msg(store_txn_patch_indicator(txn, &p, false, NULL, &e) == 0, "%s", e.message);
}

struct store_txn *sf_begin(struct store *st)
{
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(st, &txn, &e) == 0, "%s", e.message);
    return txn;
}

void sf_commit(struct store_txn *txn)
{
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_commit(txn, NULL, NULL, &e) == 0, "%s", e.message);
}

bool sf_same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

void sf_assert_same_views(const struct store_view *a, const struct store_view *b)
{
    ck_assert_uint_eq(store_view_generation(a), store_view_generation(b));
    ck_assert_uint_eq(store_view_team_count(a), store_view_team_count(b));
    for (size_t i = 0; i < store_view_team_count(a); i++) {
        ck_assert_str_eq(store_view_team(a, i)->id, store_view_team(b, i)->id);
        ck_assert_str_eq(store_view_team(a, i)->name, store_view_team(b, i)->name);
        ck_assert_str_eq(store_view_team(a, i)->parent, store_view_team(b, i)->parent);
    }
    ck_assert_uint_eq(store_view_indicator_count(a), store_view_indicator_count(b));
    for (size_t i = 0; i < store_view_indicator_count(a); i++)
        ck_assert_str_eq(store_view_indicator(a, i)->id, store_view_indicator(b, i)->id);
    ck_assert_uint_eq(store_view_note_count(a), store_view_note_count(b));
    for (size_t i = 0; i < store_view_note_count(a); i++) {
        struct store_note x, y;
        store_view_note_at(a, i, &x);
        store_view_note_at(b, i, &y);
        ck_assert_uint_eq(x.team, y.team);
        ck_assert_uint_eq(x.indicator, y.indicator);
        ck_assert_int_eq(x.period, y.period);
        ck_assert_str_eq(x.text, y.text);
    }
    ck_assert_uint_eq(a->lag_count, b->lag_count);
    ck_assert_uint_eq(store_view_series_count(a), store_view_series_count(b));
    for (size_t i = 0; i < store_view_series_count(a); i++) {
        struct store_series x, y;
        store_view_series(a, i, &x);
        store_view_series(b, i, &y);
        ck_assert_uint_eq(x.team, y.team);
        ck_assert_uint_eq(x.indicator, y.indicator);
        ck_assert_uint_eq(x.count, y.count);
        for (size_t j = 0; j < x.count; j++) {
            ck_assert_int_eq(x.points[j].period, y.points[j].period);
            ck_assert(sf_same_double(x.points[j].value, y.points[j].value));
            ck_assert(sf_same_double(x.points[j].target, y.points[j].target));
        }
    }
}
