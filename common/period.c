/* Calendar days, periods, labels and the target of a period: see common.h. */
#include "common/common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* Division and remainder rounded towards minus infinity, so that days before
 * 1970 (negative) fall into the right week, month or year. b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) < 0)
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* Days of the proleptic Gregorian calendar, counted in 400-year eras of
 * 146097 days that start on March 1st (so the leap day ends a year). Day 0 of
 * era 0 is 0000-03-01, which is 719468 days before 1970-01-01. */
#define DAYS_PER_ERA 146097
#define EPOCH_SHIFT 719468

int64_t kpi_day_from_ymd(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2 ? 1 : 0);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                         /* 0..399 */
    int64_t mp = month > 2 ? month - 3 : month + 9;      /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
}

void kpi_ymd_from_day(int64_t day, int *year, int *month, int *mday)
{
    int64_t z = day + EPOCH_SHIFT;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    if (year)
        *year = (int)y;
    if (month)
        *month = (int)m;
    if (mday)
        *mday = (int)d;
}

static bool is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && is_leap(year))
        return 29;
    return days[month - 1];
}

bool kpi_ymd_valid(int year, int month, int day)
{
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
        return false;
    return day <= days_in_month(year, month);
}

/* 1970-01-05, the first Monday after the epoch, starts week 0. */
#define WEEK0_MONDAY 4

int64_t kpi_period_of_day(enum kpi_period_kind kind, int64_t day)
{
    int y, m;
    switch (kind) {
    case KPI_PERIOD_DAY:
        return day;
    case KPI_PERIOD_WEEK:
        return floor_div(day - WEEK0_MONDAY, 7);
    case KPI_PERIOD_MONTH:
        kpi_ymd_from_day(day, &y, &m, NULL);
        return (int64_t)y * 12 + m - 1;
    case KPI_PERIOD_QUARTER:
        kpi_ymd_from_day(day, &y, &m, NULL);
        return (int64_t)y * 4 + (m - 1) / 3;
    case KPI_PERIOD_YEAR:
        kpi_ymd_from_day(day, &y, NULL, NULL);
        return y;
    }
    return day;
}

int64_t kpi_period_first_day(enum kpi_period_kind kind, int64_t period)
{
    switch (kind) {
    case KPI_PERIOD_DAY:
        return period;
    case KPI_PERIOD_WEEK:
        return period * 7 + WEEK0_MONDAY;
    case KPI_PERIOD_MONTH:
        return kpi_day_from_ymd((int)floor_div(period, 12), (int)floor_mod(period, 12) + 1, 1);
    case KPI_PERIOD_QUARTER:
        return kpi_day_from_ymd((int)floor_div(period, 4), (int)floor_mod(period, 4) * 3 + 1, 1);
    case KPI_PERIOD_YEAR:
        return kpi_day_from_ymd((int)period, 1, 1);
    }
    return period;
}

int64_t kpi_period_last_day(enum kpi_period_kind kind, int64_t period)
{
    /* The day before the first day of the next period. */
    return kpi_period_first_day(kind, period + 1) - 1;
}

/* The ISO week-numbering year and week (1..53) of a day: the week belongs to
 * the year of its Thursday. */
static void iso_week_of_day(int64_t day, int *iso_year, int *week)
{
    int64_t monday = kpi_period_first_day(KPI_PERIOD_WEEK, kpi_period_of_day(KPI_PERIOD_WEEK, day));
    int64_t thursday = monday + 3;
    int y;
    kpi_ymd_from_day(thursday, &y, NULL, NULL);
    *iso_year = y;
    *week = (int)((thursday - kpi_day_from_ymd(y, 1, 1)) / 7 + 1);
}

/* snprintf into a label buffer. Labels of years 1..9999 always fit; a
 * period far outside them is truncated rather than overflowing buf. */
static char *label_printf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *label_printf(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, KPI_LABEL_MAX, fmt, ap);
    va_end(ap);
    return buf;
}

char *kpi_period_label(enum kpi_period_kind kind, int64_t period, char *buf)
{
    int y, w;
    switch (kind) {
    case KPI_PERIOD_DAY:
        return kpi_day_label(period, buf);
    case KPI_PERIOD_WEEK:
        iso_week_of_day(kpi_period_first_day(KPI_PERIOD_WEEK, period), &y, &w);
        label_printf(buf, "%04d-W%02d", y, w);
        return buf;
    case KPI_PERIOD_MONTH:
        label_printf(buf, "%04lld-%02lld", (long long)floor_div(period, 12),
                     (long long)floor_mod(period, 12) + 1);
        return buf;
    case KPI_PERIOD_QUARTER:
        label_printf(buf, "%04lld-Q%lld", (long long)floor_div(period, 4),
                     (long long)floor_mod(period, 4) + 1);
        return buf;
    case KPI_PERIOD_YEAR:
        label_printf(buf, "%04lld", (long long)period);
        return buf;
    }
    buf[0] = '\0';
    return buf;
}

char *kpi_day_label(int64_t day, char *buf)
{
    int y, m, d;
    kpi_ymd_from_day(day, &y, &m, &d);
    label_printf(buf, "%04d-%02d-%02d", y, m, d);
    return buf;
}

int64_t kpi_today(void)
{
    return floor_div((int64_t)time(NULL), 86400);
}

size_t kpi_points_lower_bound(const struct kpi_point *points, size_t count, int64_t period)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (points[mid].period < period)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double kpi_target_at(const struct kpi_point *points, size_t count, int64_t period)
{
    if (!points || count == 0)
        return NAN;
    size_t at = kpi_points_lower_bound(points, count, period);
    if (at < count && points[at].period == period && !isnan(points[at].target))
        return points[at].target;
    /* The nearest target points on each side. Points without a target (only
     * an observation) are skipped, so this walks past them: O(log n) plus the
     * run of target-less points next to the period. */
    size_t after = at;
    while (after < count && isnan(points[after].target))
        after++;
    size_t before = at;
    while (before > 0 && isnan(points[before - 1].target))
        before--;
    if (after == count || before == 0)
        return NAN;
    const struct kpi_point *a = &points[before - 1];
    const struct kpi_point *b = &points[after];
    if (b->period == a->period) /* duplicate periods: not sorted strictly */
        return a->target;
    double t = (double)(period - a->period) / (double)(b->period - a->period);
    return a->target + (b->target - a->target) * t;
}
