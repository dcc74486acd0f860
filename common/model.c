/* Names of the domain model's enums, and indicator defaults: see common.h. */
#include "common/common.h"

#include <strings.h>

static const char *const family_names[KPI_FAMILY_COUNT] = {"financial", "human", "process",
                                                           "customer"};
static const char *const direction_names[] = {"up", "down"};
static const char *const aggregate_names[] = {"sum", "mean"};
static const char *const period_names[] = {"day", "week", "month", "quarter", "year"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The index of text in names (case-insensitive), or -1. */
static int lookup(const char *text, const char *const *names, size_t count)
{
    if (!text)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (strcasecmp(text, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *kpi_family_name(enum kpi_family f)
{
    if ((int)f < 0 || (int)f >= KPI_FAMILY_COUNT)
        return "";
    return family_names[f];
}

int kpi_family_parse(const char *text, enum kpi_family *out)
{
    int i = lookup(text, family_names, COUNT(family_names));
    if (i < 0)
        return KPI_EINPUT;
    *out = (enum kpi_family)i;
    return 0;
}

const char *kpi_direction_name(enum kpi_direction d)
{
    if ((unsigned)d >= COUNT(direction_names))
        return "";
    return direction_names[d];
}

int kpi_direction_parse(const char *text, enum kpi_direction *out)
{
    int i = lookup(text, direction_names, COUNT(direction_names));
    if (i < 0)
        return KPI_EINPUT;
    *out = (enum kpi_direction)i;
    return 0;
}

const char *kpi_aggregate_name(enum kpi_aggregate a)
{
    if ((unsigned)a >= COUNT(aggregate_names))
        return "";
    return aggregate_names[a];
}

int kpi_aggregate_parse(const char *text, enum kpi_aggregate *out)
{
    int i = lookup(text, aggregate_names, COUNT(aggregate_names));
    if (i < 0)
        return KPI_EINPUT;
    *out = (enum kpi_aggregate)i;
    return 0;
}

const char *kpi_period_kind_name(enum kpi_period_kind k)
{
    if ((unsigned)k >= COUNT(period_names))
        return "";
    return period_names[k];
}

int kpi_period_kind_parse(const char *text, enum kpi_period_kind *out)
{
    int i = lookup(text, period_names, COUNT(period_names));
    if (i < 0)
        return KPI_EINPUT;
    *out = (enum kpi_period_kind)i;
    return 0;
}

void kpi_indicator_defaults(struct kpi_indicator *ind, const char *id)
{
    ind->id = id;
    ind->name = id;
    ind->family = KPI_FAMILY_NONE;
    ind->unit = "";
    ind->direction = KPI_DIRECTION_UP;
    ind->period = KPI_PERIOD_MONTH;
    ind->aggregate = KPI_AGGREGATE_SUM;
    ind->amber = 0.05;
    ind->red = 0.10;
    ind->weight = 1.0;
}
