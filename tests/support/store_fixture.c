/* A small store scenario written through the transaction API (store_fixture.h). */
#include "support/store_fixture.h"

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
