/*
 * Writing a small store scenario through the public transaction API, for
 * the store suites that build the same monthly hierarchy (test_store_view,
 * test_store_pcache): months of 2025, indicators in EUR, direction up,
 * summed, and the comparison of two views they share. Each helper fails
 * the running check test on an error.
 */
#ifndef KPI_TEST_STORE_FIXTURE_H
#define KPI_TEST_STORE_FIXTURE_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* The period of month m (1 = January) of 2025. */
int64_t sf_month(int m);

/* Set team's kpi (both existing) for month m of 2025. */
void sf_set(struct store_txn *txn, const char *team, const char *kpi, int m, enum store_field field,
            double v);

/* Create or update team id (name = id) under parent (NULL: a root). */
void sf_team(struct store_txn *txn, const char *id, const char *parent);

/* Create or update indicator id: monthly, EUR, up, summed. */
void sf_indicator(struct store_txn *txn, const char *id);

/* A write transaction on st; the caller commits or aborts it. */
struct store_txn *sf_begin(struct store *st);

/* Commit txn (which is then gone). */
void sf_commit(struct store_txn *txn);

/* a and b the same double bit for bit (NaN equal to the same NaN). */
bool sf_same_double(double a, double b);

/* Views a and b hold the same data: generation, teams (id, name, parent),
 * indicator ids, notes, lagging RRD files, and every series by ids with
 * its points bit for bit. */
void sf_assert_same_views(const struct store_view *a, const struct store_view *b);

#endif
