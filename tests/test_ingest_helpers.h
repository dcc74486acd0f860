/*
 * Helpers of the test_ingest_* suites: write a CSV into a scratch directory,
 * read it through the public reader and describe everything read as text,
 * so that a test compares one string:
 *
 *   "<kind> <layout> <encoding> <delimiter>\n"      after ingest_open
 *   "<line>: team|kpi|day|V or T|number|column ..."  a row of cells
 *   "<line>: ref=.. name=.. parent=.."               a teams row
 *   "<line>: ref=.. name=.. unit=.. family=.. ..."   an indicators row
 *   "ERR <code> <message>\n"                        a bad record
 *   "OPEN <code> <message>\n"                       ingest_open failed
 */
#ifndef KPI_TEST_INGEST_HELPERS_H
#define KPI_TEST_INGEST_HELPERS_H

#include "ingest/ingest.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ti_kind[] = {"auto", "observations", "targets", "teams", "indicators"};
static const char *const ti_layout[] = {"catalog", "long", "wide", "periods"};
static const char *const ti_encoding[] = {"auto", "utf-8", "cp1252", "utf-16le", "utf-16be"};

static void ti_cells(struct kpi_buf *b, const struct ingest_row *row)
{
    for (size_t i = 0; i < row->cell_count; i++) {
        const struct ingest_cell *c = &row->cells[i];
        char day[KPI_LABEL_MAX], num[KPI_NUMBER_MAX];
        kpi_buf_printf(b, " %s|%s|%s|%c|%s|%u", c->team, c->kpi, kpi_day_label(c->day, day),
                       c->is_target ? 'T' : 'V',
                       isnan(c->number) ? "NaN" : kpi_format_number(c->number, num), c->column);
    }
}

static const char *ti_s(const char *s)
{
    return s ? s : "NULL";
}

static void ti_indicator(struct kpi_buf *b, const struct kpi_indicator_patch *p)
{
    char n[KPI_NUMBER_MAX];
    kpi_buf_printf(b, " ref=%s name=%s unit=%s", ti_s(p->ref), ti_s(p->name), ti_s(p->unit));
    if (p->set & KPI_SET_FAMILY)
        kpi_buf_printf(b, " family=%s", kpi_family_name(p->family));
    if (p->set & KPI_SET_DIRECTION)
        kpi_buf_printf(b, " direction=%s", kpi_direction_name(p->direction));
    if (p->set & KPI_SET_PERIOD)
        kpi_buf_printf(b, " period=%s", kpi_period_kind_name(p->period));
    if (p->set & KPI_SET_AGGREGATE)
        kpi_buf_printf(b, " aggregate=%s", kpi_aggregate_name(p->aggregate));
    if (p->set & KPI_SET_AMBER)
        kpi_buf_printf(b, " amber=%s", kpi_format_number(p->amber, n));
    if (p->set & KPI_SET_RED)
        kpi_buf_printf(b, " red=%s", kpi_format_number(p->red, n));
    if (p->set & KPI_SET_WEIGHT)
        kpi_buf_printf(b, " weight=%s", kpi_format_number(p->weight, n));
}

struct ti_run {
    struct kpi_buf *b;
    struct ingest_reader *r;
};

static int ti_row(void *ctx, const struct ingest_row *row)
{
    struct ti_run *run = ctx;
    kpi_buf_printf(run->b, "%lu:", row->line);
    if (ingest_layout(run->r) != INGEST_LAYOUT_CATALOG)
        ti_cells(run->b, row);
    else if (ingest_kind(run->r) == INGEST_KIND_TEAMS)
        kpi_buf_printf(run->b, " ref=%s name=%s parent=%s", ti_s(row->team.ref),
                       ti_s(row->team.name), ti_s(row->team.parent));
    else
        ti_indicator(run->b, &row->indicator);
    kpi_buf_puts(run->b, "\n");
    return 0;
}

static int ti_bad(void *ctx, const struct ingest_row *row, const struct kpi_error *why)
{
    (void)row;
    struct ti_run *run = ctx;
    kpi_buf_printf(run->b, "ERR %d %s\n", why->code, why->message);
    return 0;
}

/* Read path entirely; caller frees the description. */
static char *ti_read(const char *path, const char *display, const struct ingest_options *o)
{
    struct kpi_buf b = {0};
    struct ingest_reader *r = NULL;
    struct kpi_error err = {0};
    int rc = ingest_open(path, display, o, &r, &err);
    if (rc != 0) {
        ck_assert_ptr_null(r);
        kpi_buf_printf(&b, "OPEN %d %s\n", rc, err.message);
        return b.data;
    }
    char d = ingest_delimiter(r);
    kpi_buf_printf(&b, "%s %s %s %s\n", ti_kind[ingest_kind(r)], ti_layout[ingest_layout(r)],
                   ti_encoding[ingest_encoding(r)], d == '\t' ? "TAB" : (char[]){d, 0});
    struct ti_run run = {&b, r};
    const struct ingest_sink sink = {ti_row, ti_bad, &run};
    rc = ingest_read(r, &sink, &err);
    if (rc != 0)
        kpi_buf_printf(&b, "ERR %d %s\n", rc, err.message);
    ingest_close(r);
    return b.data;
}

/* A sink that writes each record's line and raw fields: "<line>: f1|f2\n"
 * for a good one, "BAD <line>: f1|f2 (<message>)\n" for a bad one. */
static inline void ti_fields(struct kpi_buf *b, const struct ingest_row *row)
{
    kpi_buf_printf(b, "%lu:", row->line);
    for (size_t i = 0; i < row->field_count; i++)
        kpi_buf_printf(b, "%c%s", i == 0 ? ' ' : '|', row->fields[i]);
}

static inline int ti_fields_row(void *ctx, const struct ingest_row *row)
{
    ti_fields(ctx, row);
    kpi_buf_puts(ctx, "\n");
    return 0;
}

static inline int ti_fields_bad(void *ctx, const struct ingest_row *row,
                                const struct kpi_error *why)
{
    kpi_buf_puts(ctx, "BAD ");
    ti_fields(ctx, row);
    kpi_buf_printf(ctx, " (%s)\n", why->message);
    return 0;
}

/* Write len bytes of csv ((size_t)-1: strlen) to a scratch file and read it
 * as "t.csv". Caller frees. */
static char *ti_dump_n(const char *csv, size_t len, const struct ingest_options *o)
{
    char *dir = ts_tempdir("ingest");
    char *path = ts_path(dir, "in.csv");
    ts_write_file(path, csv, len);
    char *out = ti_read(path, "t.csv", o);
    ts_rm_rf(dir);
    free(path);
    free(dir);
    return out;
}

static char *ti_dump(const char *csv, const struct ingest_options *o)
{
    return ti_dump_n(csv, (size_t)-1, o);
}

/* Assert that reading csv gives exactly expected. */
#define TI_EXPECT(csv, opts, expected)                                                             \
    do {                                                                                           \
        char *ti_got_ = ti_dump((csv), (opts));                                                    \
        ck_assert_str_eq(ti_got_, (expected));                                                     \
        free(ti_got_);                                                                             \
    } while (0)

#endif
