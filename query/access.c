/* Accessors of the dataset a query was prepared from. */
#include "query/internal.h"

const struct kpi_team *query_team(const struct query *q, size_t team)
{
    return &q->teams[team];
}

const struct kpi_indicator *query_indicator(const struct query *q, size_t indicator)
{
    return &q->inds[indicator];
}
