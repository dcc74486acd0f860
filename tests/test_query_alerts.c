/* Tests of query/: alerts (SPEC §5): each kind, severity, message, ids,
 * period, `since` (also across a period without observation), filters and
 * order. */
#include "query/query.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_query_fixture.h"
/* ---------------------------------------------------------------------- */

/* sales -> nord ("Ventes Nord"), sud ("Ventes Sud"). Revenue targets 100 all
 * year (points January and December). nord: May 96, June 95, July 80, no
 * August, September 81, October 81.8. sud: October 100; FTE January..June. */
struct world {
    size_t sales, nord, sud, fte, rev;
};

static struct query *world_of(struct fx *f, struct world *w)
{
    w->nord = fx_team(f, "nord", "Ventes Nord", "sales");
    w->sales = fx_team(f, "sales", "Sales", "");
    w->sud = fx_team(f, "sud", "Ventes Sud", "sales");
    w->fte = fx_ind(f, "fte", "FTE", KPI_FAMILY_HUMAN, KPI_PERIOD_MONTH);
    w->rev = fx_ind(f, "revenue", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    size_t teams[2] = {w->nord, w->sud};
    for (size_t i = 0; i < 2; i++) {
        fx_set(f, teams[i], w->rev, mon(2026, 1), NAN, 100);
        fx_set(f, teams[i], w->rev, mon(2026, 12), NAN, 100);
    }
    double nord[] = {NAN, NAN, NAN, NAN, 96, 95, 80, NAN, 81, 81.8};
    for (int m = 1; m <= 10; m++)
        if (!isnan(nord[m - 1]))
            fx_set(f, w->nord, w->rev, mon(2026, m), nord[m - 1], NAN);
    fx_set(f, w->sud, w->rev, mon(2026, 10), 100, NAN);
    for (int m = 1; m <= 6; m++)
        fx_set(f, w->sud, w->fte, mon(2026, m), 10, NAN);
    return fx_query(f);
}

static struct query_alert_list alerts_ok(struct query *q, size_t team, enum query_severity min)
{
    struct query_options o = at_day(2026, 10, 15);
    struct query_alert_filter filter = {team, min};
    struct query_alert_list l;
    struct kpi_error err = {0};
    int rc = query_alerts(q, &o, &filter, &l, &err);
    ck_assert_msg(rc == 0, "alerts: %s", err.message);
    return l;
}

static const struct query_alert *find(const struct query_alert_list *l, const char *id)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    return NULL;
}

START_TEST(test_alert_off_track_since_across_gap)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list l = alerts_ok(q, w.nord, QUERY_INFO);
    const struct query_alert *a = find(&l, "nord/revenue/off_track");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->team_id, "nord");
    ck_assert_str_eq(a->kpi, "revenue");
    ck_assert_int_eq(a->kind, QUERY_ALERT_OFF_TRACK);
    ck_assert_int_eq(a->severity, QUERY_CRITICAL);
    ck_assert_str_eq(a->message,
                     "Revenue of Ventes Nord is 18.2% below target (off track) in 2026-10");
    ck_assert_str_eq(a->period.label, "2026-10");
    ck_assert_double_eq_tol(a->actual, 81.8, 1e-12);
    ck_assert_double_eq_tol(a->target, 100, 1e-9);
    ck_assert_double_eq_tol(a->gap, -0.182, 1e-9);
    /* As of September (81), August (P = July, 80) and July it is off track;
     * as of June (95, -0.05) it is on track: since July. */
    ck_assert(a->since.set);
    ck_assert_str_eq(a->since.label, "2026-07");
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_will_miss_projection)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list l = alerts_ok(q, w.nord, QUERY_INFO);
    const struct query_alert *a = find(&l, "nord/revenue/will_miss");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->severity, QUERY_WARNING);
    /* Window May..October, x = 0 1 2 4 5, y = 96 95 80 81 81.8: Sxy =
     * -53.12, Sxx = 17.2, slope -3.0883721; projected to December
     * 81.8 + 2 * slope = 75.6232558, 24.4% below 100. */
    ck_assert_str_eq(a->message,
                     "Revenue of Ventes Nord is projected at 75.62 by 2026-12, 24.4% below target");
    /* As of June the window has May and June: slope -1, projected
     * 95 - 6 = 89 (-0.11): holds; as of May one point: no trend. */
    ck_assert_str_eq(a->since.label, "2026-06");
    /* Required slope (100 - 100) / 2 = 0: never diverging. */
    ck_assert_ptr_null(find(&l, "nord/revenue/diverging"));
    ck_assert_ptr_null(find(&l, "nord/revenue/at_risk"));
    ck_assert_ptr_null(find(&l, "nord/revenue/stale"));
    struct query_indicator r = eval_ok(q, w.nord, w.rev, at_day(2026, 10, 15));
    ck_assert_double_eq_tol(r.trend.slope, -53.12 / 17.2, 1e-12);
    ck_assert_double_eq_tol(r.projected_gap, (81.8 - 2 * 53.12 / 17.2 - 100) / 100, 1e-12);
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_stale_since_first_stale_period)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list l = alerts_ok(q, w.sud, QUERY_INFO);
    const struct query_alert *a = find(&l, "sud/fte/stale");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(
        a->message,
        "FTE of Ventes Sud has not been updated since 2026-06 (4 periods before 2026-10)");
    ck_assert_str_eq(a->period.label, "2026-06");
    ck_assert_str_eq(a->since.label, "2026-09"); /* June + 2 + 1 */
    ck_assert_double_eq_tol(a->actual, 10, 1e-12);
    ck_assert(isnan(a->target) && isnan(a->gap));
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_coverage_per_team_without_kpi)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list l = alerts_ok(q, w.nord, QUERY_INFO);
    const struct query_alert *a = find(&l, "nord/coverage");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, QUERY_ALERT_COVERAGE);
    ck_assert_int_eq(a->severity, QUERY_INFO);
    ck_assert_ptr_null(a->kpi);
    ck_assert_uint_eq(a->indicator, QUERY_NONE);
    ck_assert(!a->period.set && !a->since.set);
    ck_assert(isnan(a->actual) && isnan(a->target) && isnan(a->gap));
    ck_assert(!a->missing[KPI_FAMILY_FINANCIAL] && a->missing[KPI_FAMILY_HUMAN]);
    ck_assert_str_eq(a->message, "Ventes Nord has no indicator with a target in the human, "
                                 "process and customer families");
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_filters_severity_and_descendants)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list l = alerts_ok(q, w.nord, QUERY_CRITICAL);
    ck_assert_uint_eq(l.count, 1);
    ck_assert_str_eq(l.items[0].id, "nord/revenue/off_track");
    query_alert_list_free(&l);
    l = alerts_ok(q, w.nord, QUERY_INFO);
    for (size_t i = 0; i < l.count; i++)
        ck_assert_str_eq(l.items[i].team_id, "nord");
    query_alert_list_free(&l);
    /* sales includes nord and sud, and its own (rolled-up) alerts. */
    l = alerts_ok(q, w.sales, QUERY_INFO);
    ck_assert_ptr_nonnull(find(&l, "nord/revenue/off_track"));
    ck_assert_ptr_nonnull(find(&l, "sud/fte/stale"));
    ck_assert_ptr_nonnull(find(&l, "sales/fte/stale"));
    /* sales revenue in October: 81.8 + 100 against 200, -0.091: at risk. */
    const struct query_alert *a = find(&l, "sales/revenue/at_risk");
    ck_assert_ptr_nonnull(a);
    ck_assert_double_eq_tol(a->gap, -18.2 / 200, 1e-12);
    ck_assert_str_eq(a->since.label, "2026-10");
    query_alert_list_free(&l);
    struct query_alert_list all = alerts_ok(q, QUERY_NONE, QUERY_INFO);
    l = alerts_ok(q, w.sales, QUERY_INFO);
    ck_assert_uint_eq(all.count, l.count); /* sales is the only root */
    query_alert_list_free(&l);
    query_alert_list_free(&all);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alerts_sorted_by_severity_team_kpi_kind)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list l = alerts_ok(q, QUERY_NONE, QUERY_INFO);
    ck_assert_uint_gt(l.count, 3);
    ck_assert_int_eq(l.items[0].severity, QUERY_CRITICAL);
    ck_assert_int_eq(l.items[l.count - 1].severity, QUERY_INFO);
    for (size_t i = 1; i < l.count; i++) {
        const struct query_alert *a = &l.items[i - 1], *b = &l.items[i];
        ck_assert_int_ge(a->severity, b->severity);
        if (a->severity != b->severity)
            continue;
        int c = strcmp(a->team_id, b->team_id);
        ck_assert_int_le(c, 0);
        if (c == 0 && a->kpi && b->kpi) {
            c = strcmp(a->kpi, b->kpi);
            ck_assert_int_le(c, 0);
            if (c == 0)
                ck_assert_int_lt(a->kind, b->kind);
        }
    }
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_ids_stable_across_calls_and_generations)
{
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_alert_list a = alerts_ok(q, QUERY_NONE, QUERY_INFO);
    struct query_alert_list b = alerts_ok(q, QUERY_NONE, QUERY_INFO);
    ck_assert_uint_eq(a.count, b.count);
    for (size_t i = 0; i < a.count; i++) {
        ck_assert_str_eq(a.items[i].id, b.items[i].id);
        ck_assert_str_eq(a.items[i].message, b.items[i].message);
    }
    query_free(q);
    /* A new generation: an unrelated observation added. */
    size_t other = fx_ind(f, "visits", "Visits", KPI_FAMILY_CUSTOMER, KPI_PERIOD_MONTH);
    fx_set(f, w.sud, other, mon(2026, 10), 5, NAN);
    q = fx_query(f);
    struct query_alert_list c = alerts_ok(q, QUERY_NONE, QUERY_INFO);
    for (size_t i = 0; i < a.count; i++)
        ck_assert_ptr_nonnull(find(&c, a.items[i].id));
    query_alert_list_free(&a);
    query_alert_list_free(&b);
    query_alert_list_free(&c);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_cascade_gap_at_as_of_period)
{
    struct fx *f = fx_new();
    size_t co = fx_team(f, "co", "Company", "");
    size_t a = fx_team(f, "div-a", "Division A", "co");
    size_t b = fx_team(f, "div-b", "Division B", "co");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    f->inds[k].unit = "EUR";
    for (int m = 1; m <= 3; m += 2) {
        fx_set(f, co, k, mon(2026, m), NAN, 300);
        fx_set(f, a, k, mon(2026, m), NAN, 180);
        fx_set(f, b, k, mon(2026, m), NAN, 100);
    }
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 3, 15);
    struct query_alert_filter filter = {co, QUERY_WARNING};
    struct query_alert_list l;
    ck_assert_int_eq(query_alerts(q, &o, &filter, &l, NULL), 0);
    const struct query_alert *al = find(&l, "co/rev/cascade_gap");
    ck_assert_ptr_nonnull(al);
    ck_assert_str_eq(al->period.label, "2026-03");
    ck_assert_str_eq(al->since.label, "2026-01"); /* no target in December */
    ck_assert(isnan(al->actual));
    ck_assert_double_eq_tol(al->target, 300, 1e-9);
    ck_assert_double_eq_tol(al->gap, -20.0 / 300, 1e-9);
    ck_assert_str_eq(al->message, "The targets of Company's teams for Revenue add up to 280 EUR, "
                                  "6.7% less than its own target of 300 EUR in 2026-03");
    ck_assert_ptr_null(find(&l, "co/coverage")); /* info is below warning */
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_diverging_message)
{
    struct fx *f = fx_new();
    size_t t = fx_team(f, "t", "Team", "");
    size_t k = fx_ind(f, "rev", "Revenue", KPI_FAMILY_FINANCIAL, KPI_PERIOD_MONTH);
    fx_set(f, t, k, mon(2026, 1), NAN, 100);
    fx_set(f, t, k, mon(2026, 12), NAN, 210);
    for (int m = 1; m <= 6; m++)
        fx_set(f, t, k, mon(2026, m), 124 - 4 * m, NAN); /* 120 ... 100 */
    struct query *q = fx_query(f);
    struct query_options o = at_day(2026, 6, 30);
    struct query_alert_filter filter = {QUERY_NONE, QUERY_WARNING};
    struct query_alert_list l;
    ck_assert_int_eq(query_alerts(q, &o, &filter, &l, NULL), 0);
    const struct query_alert *al = find(&l, "t/rev/diverging");
    ck_assert_ptr_nonnull(al);
    ck_assert_str_eq(al->message, "Revenue of Team moves away from its target in 2026-06: -4 "
                                  "per period while +10 per period is required");
    /* As of February (120, 116: slope -4; required (210 - 110) / 10)
     * it already diverged; as of January there is no trend. */
    ck_assert_str_eq(al->since.label, "2026-02");
    query_alert_list_free(&l);
    query_free(q);
    free(f);
}
END_TEST

START_TEST(test_alert_names_and_errors)
{
    enum query_severity s;
    ck_assert_int_eq(query_severity_parse("Warning", &s), 0);
    ck_assert_int_eq(s, QUERY_WARNING);
    ck_assert_int_eq(query_severity_parse("loud", &s), KPI_EUSAGE);
    ck_assert_str_eq(query_severity_name(QUERY_CRITICAL), "critical");
    ck_assert_str_eq(query_alert_kind_name(QUERY_ALERT_CASCADE_GAP), "cascade_gap");
    ck_assert_str_eq(query_alert_kind_name(QUERY_ALERT_WILL_MISS), "will_miss");
    struct fx *f = fx_new();
    struct world w;
    struct query *q = world_of(f, &w);
    struct query_options o = at_day(2026, 10, 15);
    struct query_alert_filter filter = {42, QUERY_INFO};
    struct query_alert_list l;
    struct kpi_error err = {0};
    ck_assert_int_eq(query_alerts(q, &o, &filter, &l, &err), KPI_EUSAGE);
    ck_assert_uint_eq(l.count, 0);
    query_alert_list_free(&l);
    query_alert_list_free(NULL);
    query_free(q);
    free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("query_alerts");
    TCase *tc = tcase_create("alerts");
    tcase_add_test(tc, test_alert_off_track_since_across_gap);
    tcase_add_test(tc, test_alert_will_miss_projection);
    tcase_add_test(tc, test_alert_stale_since_first_stale_period);
    tcase_add_test(tc, test_alert_coverage_per_team_without_kpi);
    tcase_add_test(tc, test_alert_filters_severity_and_descendants);
    tcase_add_test(tc, test_alerts_sorted_by_severity_team_kpi_kind);
    tcase_add_test(tc, test_alert_ids_stable_across_calls_and_generations);
    tcase_add_test(tc, test_alert_cascade_gap_at_as_of_period);
    tcase_add_test(tc, test_alert_diverging_message);
    tcase_add_test(tc, test_alert_names_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
