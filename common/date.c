/* Parsing the date texts of SPEC §2: see common.h. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "common/common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Longest date text worth looking at; anything longer is not a date. */
#define DATE_TEXT_MAX 128
/* How much of a bad text an error message quotes. */
#define QUOTE_MAX 80

static const char builtin_forms[] =
    "expected YYYY-MM-DD, DD/MM/YYYY, YYYY-MM, MM/YYYY, a month and its year (janv. 2026, "
    "Sep-26), YYYY-Qn, YYYY or YYYY-Www; --date-format reads other forms";

/* Why a built-in form was refused, when more can be said than what the
 * forms are: texts that look like a date but stay ambiguous. */
enum date_why {
    WHY_NONE = 0,
    WHY_SHORT_YEAR,       /* 01/26, 31/01/26 */
    WHY_NO_YEAR,          /* mars */
    WHY_SHORT_YEAR_SPACE, /* mars 26 */
    WHY_MONTH_AMBIGUOUS,  /* jui: juin or juillet */
};

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

/* Month names, French and English, folded (lower case, no accents). */
static const char *const month_names[2][12] = {
    {"janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
     "octobre", "novembre", "decembre"},
    {"january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"},
};

/* The month a word names (folded letters, n of them): a name or any prefix
 * of at least 3 letters of one (janv, févr, sept, Sep, déc...), in either
 * language. 0 for none, -1 when the prefix fits two months (jui). */
static int month_of_word(const char *w, size_t n)
{
    int found = 0;
    if (n < 3)
        return 0;
    for (int lang = 0; lang < 2; lang++) {
        for (int m = 0; m < 12; m++) {
            const char *name = month_names[lang][m];
            if (strlen(name) >= n && strncmp(name, w, n) == 0) {
                if (found != 0 && found != m + 1)
                    return -1;
                found = m + 1;
            }
        }
    }
    return found;
}

static bool is_letter(char c)
{
    return c >= 'a' && c <= 'z';
}

/* A blank between a month and its year: space, tab, U+00A0, U+202F.
 * Returns its length or 0. */
static size_t blank_len(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    if (*u == ' ' || *u == '\t')
        return 1;
    if (u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0xAF)
        return 3;
    return 0;
}

/* A month name and its year (SPEC §2): "janvier 2026", "janv. 2026",
 * "févr.-26", "Jan 2026", "Sep-26", "May-2026"; any case, accents optional.
 * A two-digit year only after '-' (Excel's mmm-yy): after a blank it could
 * be a day. */
static bool parse_month_name(const char *text, int64_t *last_day, enum date_why *why)
{
    char f[DATE_TEXT_MAX];
    kpi_fold(text, f, sizeof f);
    const char *p = f;
    size_t n = 0;
    while (is_letter(p[n]))
        n++;
    if (n == 0)
        return false;
    int month = month_of_word(p, n);
    if (month < 0)
        *why = WHY_MONTH_AMBIGUOUS;
    if (month <= 0)
        return false;
    p += n;
    bool dot = *p == '.';
    p += dot;
    size_t b;
    bool blank = false, dash = false;
    while ((b = blank_len(p)) != 0) {
        p += b;
        blank = true;
    }
    if (*p == '-') {
        dash = true;
        p++;
        while ((b = blank_len(p)) != 0)
            p += b;
    }
    if (*p == '\0' && !dash) {
        *why = WHY_NO_YEAR;
        return false;
    }
    if (!dot && !blank && !dash)
        return false; /* "janvier2026" */
    int year;
    const char *y = p;
    if (digits(&p, 4, &year) && *p == '\0' && year >= 1) {
        *last_day = last_day_of_month(year, month);
        return true;
    }
    p = y;
    if (digits(&p, 2, &year) && *p == '\0') {
        if (!dash) {
            *why = WHY_SHORT_YEAR_SPACE;
            return false;
        }
        *last_day = last_day_of_month(2000 + year, month);
        return true;
    }
    return false;
}

/* h:mm or hh:mm, then optionally :ss, after a European date (ignored). */
static bool parse_short_time(const char **p)
{
    int h, mi, s;
    if (!one_or_two_digits(p, &h) || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, 2, &mi))
        return false;
    if (**p == ':') {
        (*p)++;
        if (!digits(p, 2, &s) || s > 60)
            return false;
    }
    return h <= 23 && mi <= 59;
}

/* The forms that start with the day or month: DD/MM/YYYY (European, never
 * read as MM/DD) with an optional time, and MM/YYYY. */
static bool parse_european(const char *text, int64_t *last_day, enum date_why *why)
{
    const char *p = text;
    int day, month, year;
    if (!one_or_two_digits(&p, &day) || *p++ != '/')
        return false;
    const char *second = p;
    if (digits(&p, 4, &year) && *p == '\0') { /* MM/YYYY */
        month = day;
        if (month < 1 || month > 12 || year < 1)
            return false;
        *last_day = last_day_of_month(year, month);
        return true;
    }
    p = second;
    if (digits(&p, 2, &year) && *p == '\0') {
        *why = WHY_SHORT_YEAR; /* 01/26 */
        return false;
    }
    p = second;
    if (!one_or_two_digits(&p, &month) || *p++ != '/')
        return false;
    const char *y = p;
    if (!digits(&p, 4, &year)) {
        p = y;
        if (digits(&p, 2, &year) && (*p == '\0' || *p == ' '))
            *why = WHY_SHORT_YEAR; /* 31/01/26 */
        return false;
    }
    if (*p == ' ') { /* DD/MM/YYYY hh:mm[:ss], as French Excel writes date-times */
        while (*p == ' ')
            p++;
        if (!parse_short_time(&p))
            return false;
    }
    if (*p != '\0' || !kpi_ymd_valid(year, month, day))
        return false;
    *last_day = kpi_day_from_ymd(year, month, day);
    return true;
}

/* The built-in forms on a trimmed text of len bytes (NUL-terminated). */
static bool parse_builtin(const char *text, int64_t *last_day, enum date_why *why)
{
    const char *p = text;
    int year, month, day, n;
    if (!is_digit(*p) && *p != '\0')
        return parse_month_name(text, last_day, why);
    if (!digits(&p, 4, &year))
        return parse_european(text, last_day, why);
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

/* What was expected of a refused text (start, len: trimmed), for its
 * message. */
static void explain(const char *start, size_t len, const char *format, enum date_why why, char *buf,
                    size_t cap)
{
    if (format != NULL) {
        snprintf(buf, cap, "expected format \"%s\" of --date-format", format);
        return;
    }
    const char *slash = memchr(start, '/', len);
    switch (why) {
    case WHY_SHORT_YEAR:
        snprintf(buf, cap,
                 "a two-digit year is ambiguous here: write the year in full (%s), or give "
                 "--date-format %s",
                 slash != NULL && memchr(slash + 1, '/', len - (size_t)(slash + 1 - start))
                     ? "31/01/2026"
                     : "01/2026",
                 slash != NULL && memchr(slash + 1, '/', len - (size_t)(slash + 1 - start))
                     ? "%d/%m/%y"
                     : "%m/%y");
        return;
    case WHY_NO_YEAR:
        snprintf(buf, cap, "a month needs its year: janv. 2026, or janv.-26 as Excel writes it");
        return;
    case WHY_SHORT_YEAR_SPACE:
        snprintf(buf, cap,
                 "a two-digit year only after '-' (janv.-26, as Excel writes it), where it cannot "
                 "be a day; else write the year in full (janv. 2026)");
        return;
    case WHY_MONTH_AMBIGUOUS:
        snprintf(buf, cap,
                 "the month is ambiguous (juin or juillet?): write juin, juil. or the "
                 "month's number");
        return;
    case WHY_NONE:
        break;
    }
    snprintf(buf, cap, "%s", builtin_forms);
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
    enum date_why why = WHY_NONE;
    if (len > 0 && len < DATE_TEXT_MAX) {
        char trimmed[DATE_TEXT_MAX];
        memcpy(trimmed, start, len);
        trimmed[len] = '\0';
        if (strptime_format)
            ok = parse_with_format(trimmed, strptime_format, &day);
        else
            ok = parse_builtin(trimmed, &day, &why);
    }
    if (!ok) {
        char detail[KPI_ERROR_MAX];
        explain(start, len, strptime_format, why, detail, sizeof detail);
        return kpi_fail(err, KPI_EINPUT, "invalid date \"%.*s\" (%s)", quote_len(start, len), start,
                        detail);
    }
    *last_day = day;
    return 0;
}

void kpi_date_explain(const char *text, const char *strptime_format, char *buf, size_t cap)
{
    if (!text)
        text = "";
    while (is_blank(*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && is_blank(text[len - 1]))
        len--;
    enum date_why why = WHY_NONE;
    if (!strptime_format && len > 0 && len < DATE_TEXT_MAX) {
        char trimmed[DATE_TEXT_MAX];
        int64_t day;
        memcpy(trimmed, text, len);
        trimmed[len] = '\0';
        parse_builtin(trimmed, &day, &why);
    }
    explain(text, len, strptime_format, why, buf, cap);
}
