/* Parsing the date texts of SPEC §2: see common.h. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "common/common.h"

#include <string.h>
#include <time.h>

/* Longest date text worth looking at; anything longer is not a date. */
#define DATE_TEXT_MAX 128
/* How much of a bad text an error message quotes. */
#define QUOTE_MAX 80

static const char builtin_forms[] = "YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY, YYYY-Www or DD/MM/YYYY";

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The length of text to quote in a message: at most QUOTE_MAX bytes, cut on
 * a UTF-8 character boundary. */
static int quote_len(const char *text, size_t len)
{
    if (len <= QUOTE_MAX)
        return (int)len;
    size_t n = QUOTE_MAX;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

/* Read exactly n digits at *p into *value and advance *p; false if any is not
 * a digit. */
static bool digits(const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *value = v;
    return true;
}

/* Read 1 or 2 digits (DD/MM/YYYY allows 1/2/2026). */
static bool one_or_two_digits(const char **p, int *value)
{
    if (!is_digit(**p))
        return false;
    int n = is_digit((*p)[1]) ? 2 : 1;
    return digits(p, n, value);
}

/* The ISO week-numbering year of a day: the year of its week's Thursday. */
static int iso_year_of(int64_t day)
{
    int64_t week = kpi_period_of_day(KPI_PERIOD_WEEK, day);
    int y;
    kpi_ymd_from_day(kpi_period_first_day(KPI_PERIOD_WEEK, week) + 3, &y, NULL, NULL);
    return y;
}

/* The Sunday of ISO week `week` of `year` into *sunday; false when the
 * year has no such week. Week 1 is the week that holds January 4th. */
static bool iso_week_sunday(int year, int week, int64_t *sunday)
{
    if (week < 1 || week > 53)
        return false;
    int64_t jan4 = kpi_day_from_ymd(year, 1, 4);
    int64_t week1 = kpi_period_of_day(KPI_PERIOD_WEEK, jan4);
    int64_t w = week1 + week - 1;
    int64_t last = kpi_period_last_day(KPI_PERIOD_WEEK, w);
    /* Week 53 exists only when its Thursday is still in `year`. */
    if (iso_year_of(last) != year)
        return false;
    *sunday = last;
    return true;
}

static int64_t last_day_of_month(int year, int month)
{
    return kpi_period_last_day(KPI_PERIOD_MONTH, (int64_t)year * 12 + month - 1);
}

/* hh:mm:ss and an optional Z, validated and ignored. */
static bool parse_time(const char **p)
{
    int h, mi, s;
    if (!digits(p, 2, &h) || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, 2, &mi) || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, 2, &s))
        return false;
    if (**p == 'Z' || **p == 'z')
        (*p)++;
    return h <= 23 && mi <= 59 && s <= 60; /* 60: a leap second */
}

/* The built-in forms on a trimmed text of len bytes (NUL-terminated). */
static bool parse_builtin(const char *text, int64_t *last_day)
{
    const char *p = text;
    int year, month, day, n;
    if (!digits(&p, 4, &year)) {
        /* DD/MM/YYYY, European: never read as MM/DD. */
        p = text;
        if (!one_or_two_digits(&p, &day) || *p++ != '/')
            return false;
        if (!one_or_two_digits(&p, &month) || *p++ != '/')
            return false;
        if (!digits(&p, 4, &year) || *p != '\0' || !kpi_ymd_valid(year, month, day))
            return false;
        *last_day = kpi_day_from_ymd(year, month, day);
        return true;
    }
    if (year < 1)
        return false;
    if (*p == '\0') { /* YYYY */
        *last_day = kpi_day_from_ymd(year, 12, 31);
        return true;
    }
    if (*p++ != '-')
        return false;
    if (*p == 'Q' || *p == 'q') { /* YYYY-Qn */
        p++;
        if (!digits(&p, 1, &n) || *p != '\0' || n < 1 || n > 4)
            return false;
        *last_day = last_day_of_month(year, n * 3);
        return true;
    }
    if (*p == 'W' || *p == 'w') { /* YYYY-Www */
        p++;
        if (!digits(&p, 2, &n) || *p != '\0')
            return false;
        return iso_week_sunday(year, n, last_day);
    }
    if (!digits(&p, 2, &month) || month < 1 || month > 12)
        return false;
    if (*p == '\0') { /* YYYY-MM */
        *last_day = last_day_of_month(year, month);
        return true;
    }
    if (*p++ != '-' || !digits(&p, 2, &day) || !kpi_ymd_valid(year, month, day))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') { /* YYYY-MM-DDThh:mm:ss[Z] */
        p++;
        if (!parse_time(&p))
            return false;
    }
    if (*p != '\0')
        return false;
    *last_day = kpi_day_from_ymd(year, month, day);
    return true;
}

/* Which fields a strptime format sets: a day of the month, a month. */
static void format_fields(const char *format, bool *has_day, bool *has_month)
{
    *has_day = *has_month = false;
    for (const char *f = format; *f; f++) {
        if (*f != '%')
            continue;
        f++;
        if (*f == 'E' || *f == 'O') /* alternative-representation modifiers */
            f++;
        switch (*f) {
        case 'd':
        case 'e':
            *has_day = true;
            break;
        case 'D':
        case 'F':
        case 'x':
        case 'c':
        case 's':
        case 'j': /* glibc derives month and day from the day of the year */
            *has_day = *has_month = true;
            break;
        case 'm':
        case 'b':
        case 'B':
        case 'h':
            *has_month = true;
            break;
        case '\0':
            return;
        default:
            break;
        }
    }
}

static bool parse_with_format(const char *text, const char *format, int64_t *last_day)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, format, &tm);
    if (!end || *end != '\0') /* the text is trimmed: nothing may be left */
        return false;
    bool has_day, has_month;
    format_fields(format, &has_day, &has_month);
    if (tm.tm_year > 9999 - 1900 || tm.tm_year < 1 - 1900)
        return false;
    int year = tm.tm_year + 1900;
    if (!has_month) /* a year alone names the whole year */
        tm.tm_mon = 11;
    int month = tm.tm_mon + 1;
    if (!has_day || tm.tm_mday == 0) { /* a month names its last day */
        if (month < 1 || month > 12)
            return false;
        *last_day = last_day_of_month(year, month);
        return true;
    }
    if (!kpi_ymd_valid(year, month, tm.tm_mday))
        return false;
    *last_day = kpi_day_from_ymd(year, month, tm.tm_mday);
    return true;
}

int kpi_date_parse(const char *text, const char *strptime_format, int64_t *last_day,
                   struct kpi_error *err)
{
    if (!text)
        text = "";
    const char *start = text;
    while (is_blank(*start))
        start++;
    size_t len = strlen(start);
    while (len > 0 && is_blank(start[len - 1]))
        len--;

    bool ok = false;
    int64_t day = 0;
    if (len > 0 && len < DATE_TEXT_MAX) {
        char trimmed[DATE_TEXT_MAX];
        memcpy(trimmed, start, len);
        trimmed[len] = '\0';
        if (strptime_format)
            ok = parse_with_format(trimmed, strptime_format, &day);
        else
            ok = parse_builtin(trimmed, &day);
    }
    if (!ok) {
        int q = quote_len(start, len);
        if (strptime_format)
            return kpi_fail(err, KPI_EINPUT, "invalid date \"%.*s\" (expected format \"%s\")", q,
                            start, strptime_format);
        return kpi_fail(err, KPI_EINPUT, "invalid date \"%.*s\" (expected %s)", q, start,
                        builtin_forms);
    }
    *last_day = day;
    return 0;
}
