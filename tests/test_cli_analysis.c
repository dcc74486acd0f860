/* End-to-end tests of the analysis commands (kpi series, trend, drift,
 * alerts): small scenarios imported from CSV written here, then the JSON
 * documents of the real binary compared with files of
 * tests/data/analysis/, written by hand from the SPEC §5 definitions and
 * query/query.h's decisions D1-D16 (never produced by kpi itself). The
 * arithmetic behind every expected number is in the comment of its scenario.
 *
 * Defaults unless a scenario says otherwise: window 6, stale_after 2, amber
 * 0.05, red 0.10. Periods are numbered as SPEC §5 counts them ("periods from
 * A to B"); x below is the position inside the trend window (0 = oldest). */
#include "support/json_match.h"
#include "support/support.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expected files hold numbers rounded by hand to 7 significant digits. */
#define REL_TOL 1e-5

static const char *const ALERT_IGNORE[] = {"message", NULL};

/* ------------------------------------------------------------- helpers */

struct scene {
    char *root;
    char *data;
};

static void scene_open(struct scene *s, const char *tag)
{
    s->root = ts_tempdir(tag);
    s->data = ts_path(s->root, "data");
}

static void scene_close(struct scene *s)
{
    ts_rm_rf(s->root);
    free(s->root);
    free(s->data);
}

/* Run kpi --data <data> args... */
static void kpi(struct ts_run *r, const struct scene *s, const char *const *args)
{
    const char *argv[40] = {"--data", s->data};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        ck_assert_uint_lt(n, 39);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

/* Write name into the scene and import it (with extra options, may be NULL). */
static void import_csv(const struct scene *s, const char *name, const char *content,
                       const char *const *options)
{
    char *path = ts_path(s->root, name);
    ts_write_file(path, content, (size_t)-1);
    const char *args[16] = {"import", "--quiet"};
    size_t n = 2;
    for (size_t i = 0; options && options[i]; i++)
        args[n++] = options[i];
    args[n++] = path;
    args[n] = NULL;
    struct ts_run r;
    kpi(&r, s, args);
    ck_assert_msg(r.status == 0, "import %s: exit %d: %s", name, r.status, r.err);
    ts_run_free(&r);
    free(path);
}

/* The catalogs, then the data file (long layout, value and target columns),
 * with --strict so that a typo in the data cannot create a team. */
static void load(const struct scene *s, const char *teams, const char *indicators, const char *data)
{
    import_csv(s, "teams.csv", teams, (const char *const[]){"--kind", "teams", NULL});
    import_csv(s, "indicators.csv", indicators,
               (const char *const[]){"--kind", "indicators", NULL});
    import_csv(s, "data.csv", data, (const char *const[]){"--strict", NULL});
}

static char *expected_text(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/analysis/%s", KPI_SOURCE_DIR, name);
    char *text = ts_read_file(path, NULL);
    ck_assert_msg(text != NULL, "missing expected file %s", path);
    return text;
}

/* Every alert of an alerts document has a non-empty message (the matcher
 * skips it: its wording is free). */
static void check_messages(const char *json)
{
    cJSON *doc = cJSON_ParseWithLengthOpts(json, strlen(json), NULL, false);
    ck_assert_ptr_nonnull(doc);
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "message");
        ck_assert_msg(cJSON_IsString(m) && m->valuestring[0] != '\0',
                      "alert without a message in %s", json);
    }
    cJSON_Delete(doc);
}

/* Run kpi args (which must include --format json) and compare its output
 * with tests/data/analysis/<expected>. Alerts documents skip "message". */
static void expect_doc(const struct scene *s, const char *expected, const char *const *args)
{
    struct ts_run r;
    kpi(&r, s, args);
    ck_assert_msg(r.status == 0, "%s: %s exited %d: %s", expected, args[0], r.status, r.err);
    char *want = expected_text(expected);
    bool alerts = strcmp(args[0], "alerts") == 0;
    char why[2048];
    bool ok =
        json_match_ignoring(want, r.out, REL_TOL, alerts ? ALERT_IGNORE : NULL, why, sizeof why);
    ck_assert_msg(ok, "kpi %s vs %s: %s\n--- actual:\n%s", args[0], expected, why, r.out);
    if (alerts)
        check_messages(r.out);
    free(want);
    ts_run_free(&r);
}

/* Run kpi args and expect a failure with exit code `status` and `needle` in
 * its standard error (NULL: anything). */
static void expect_fail(const struct scene *s, int status, const char *needle,
                        const char *const *args)
{
    struct ts_run r;
    kpi(&r, s, args);
    ck_assert_msg(r.status == status, "kpi %s %s: exit %d, expected %d; stderr: %s", args[0],
                  args[1] ? args[1] : "", r.status, status, r.err);
    if (needle)
        ck_assert_msg(strstr(r.err, needle) != NULL, "kpi %s: stderr lacks \"%s\": %s", args[0],
                      needle, r.err);
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
}

/* ------------------------------------------------------ the matcher */

START_TEST(test_json_match_reports_the_first_difference)
{
    char why[512];
    ck_assert(json_match("{\"a\":[1,{\"b\":-0.236292}],\"c\":null}",
                         "{\"c\":null,\"a\":[1,{\"b\":-0.2362921234}]}\n", 1e-5, why, sizeof why));
    ck_assert(!json_match("{\"alerts\":[{},{},{},{\"gap\":-0.2363}]}",
                          "{\"alerts\":[{},{},{},{\"gap\":-0.2412}]}", 1e-3, why, sizeof why));
    ck_assert_str_eq(why, "alerts[3].gap: expected -0.2363, got -0.2412");
    ck_assert(!json_match("{\"a\":1}", "{\"a\":1,\"b\":2}", 0, why, sizeof why));
    ck_assert_str_eq(why, "b: unexpected key");
    ck_assert(!json_match("{\"a\":{\"b\":null}}", "{\"a\":{}}", 0, why, sizeof why));
    ck_assert_str_eq(why, "a.b: missing (expected null)");
    ck_assert(!json_match("{\"a\":null}", "{\"a\":0}", 0, why, sizeof why));
    ck_assert_str_eq(why, "a: expected null, got 0");
    ck_assert(!json_match("{\"a\":0}", "{\"a\":1e-11}", 0.5, why, sizeof why));
    ck_assert(json_match("{\"a\":0}", "{\"a\":1e-13}", 0, why, sizeof why));
    ck_assert(!json_match("[1,2]", "[1,2,3]", 0, why, sizeof why));
    ck_assert_str_eq(why, "(root): expected 2 elements, got 3; the first extra one is 3");
    ck_assert(!json_match("{\"s\":\"x\"}", "{\"s\":\"y\"}", 0, why, sizeof why));
    ck_assert_str_eq(why, "s: expected \"x\", got \"y\"");
    ck_assert(!json_match("{\"t\":true}", "{\"t\":false}", 0, why, sizeof why));
    ck_assert(!json_match("{", "{}", 0, why, sizeof why));
    ck_assert(!json_match("{}", "{} x", 0, why, sizeof why));
    const char *const ignore[] = {"message", NULL};
    ck_assert(json_match_ignoring("{\"l\":[{\"k\":1}]}", "{\"l\":[{\"k\":1,\"message\":\"hi\"}]}",
                                  0, ignore, why, sizeof why));
}
END_TEST

/* ------------------------------------------- a monthly `up` indicator */

static const char MONTHLY_TEAMS[] = "team,name,parent\nnorth,North,\nsouth,South,\n";
static const char MONTHLY_INDICATORS[] =
    "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
    "sales,Sales,financial,EUR,up,month,sum,0.05,0.10,1\n";
/* Target points at January (100) and December (210) for both teams: the
 * target of month m is interpolated, 100 + 10 (m - 1): Mar 120, Apr 130, May
 * 140, Jun 150, Jul 160, Aug 170, ... Dec 210. North has no observation in
 * May; south none before April and none in May. */
static const char MONTHLY_DATA[] = "date,team,kpi,value,target\n"
                                   "2026-01,north,sales,,100\n"
                                   "2026-12-31,north,sales,,210\n"
                                   "2026-03-31,north,sales,184.1,\n"
                                   "15/04/2026,north,sales,177.1,\n"
                                   "2026-06,north,sales,167.1,\n"
                                   "2026-07-01,north,sales,164.1,\n"
                                   "2026-08,north,sales,158.1,\n"
                                   "2026-01,south,sales,,100\n"
                                   "2026-12,south,sales,,210\n"
                                   "2026-04,south,sales,110,\n"
                                   "2026-06,south,sales,130,\n"
                                   "2026-07,south,sales,140,\n"
                                   "2026-08,south,sales,150,\n";

/*
 * north/sales at --as-of 2026-08-31: P = 2026-08, actual 158.1, target 170.
 *   gap = (158.1 - 170) / 170 = -0.07: -0.10 <= gap < -0.05 -> at_risk.
 *   Window 6 = Mar..Aug, x = 0..5; May (x = 2) has no observation, so the OLS
 *   runs over x = 0,1,3,4,5 with y = 184.1, 177.1, 167.1, 164.1, 158.1
 *   = 183.1 - 5x + (1, -1, -1, 1, 0), residuals orthogonal to 1 and x:
 *   slope = -5 exactly (x = 0..4 without the gap would give -6.5).
 *   mean = 850.5 / 5 = 170.1; change = -5 x (6 - 1) / 170.1 = -0.1469724
 *   -> worsening (|change| >= 0.01, slope < 0 for `up`).
 *   Deadline: the last target point after P, 2026-12, 4 periods away:
 *   required = (210 - 170) / 4 = 10 > 0 against slope -5: diverging.
 *   projected = 158.1 - 5 x 4 = 138.1; projected_gap = (138.1 - 210) / 210
 *   = -0.3423810 < -0.05 -> will_miss.
 * south/sales: actual 150 vs 170: gap = -20/170 = -0.1176471 < -0.10 ->
 *   off_track. Window points Apr, Jun, Jul, Aug = 110, 130, 140, 150 lie on
 *   100 + 10x: slope 10, mean 132.5, change = 50 / 132.5 = 0.3773585,
 *   improving; required 10: same sign, not diverging; projected = 150 + 40 =
 *   190, projected_gap = -20/210 = -0.0952381 -> will_miss.
 * since (D13, evaluated at every earlier as-of month):
 *   north at_risk: at 2026-07 P = Jul, 164.1 vs 160 is on_track -> 2026-08.
 *   north diverging: Jul slope -5 (x 1,2,4,5), Jun -5.571, May and Apr
 *   (P = Apr, the gap month: points Mar, Apr) -7 vs required (210-130)/8 =
 *   10: all diverging; at Mar one point, no trend -> since 2026-04.
 *   north will_miss: Apr: 177.1 - 7 x 8 = 121.1 -> -0.42 holds; Mar no trend
 *   -> 2026-04.
 *   south off_track: Jul -0.125, Jun -0.133, May (P = Apr across the gap)
 *   and Apr (110 vs 130) -0.154; Mar no data -> since 2026-04.
 *   south will_miss: Jul (Apr, Jun, Jul) and Jun (Apr, Jun) slope 10 ->
 *   190 -> -0.095; May P = Apr, one point, no trend -> since 2026-06.
 * Both teams have a gap and only a financial indicator: one coverage alert
 * each. Order (D14): critical, then warnings by team and kind, then info.
 * Drift of north = max(0, 0.07) = 0.07, financial only.
 */
START_TEST(test_monthly_up_indicator)
{
    struct scene s;
    scene_open(&s, "monthly");
    load(&s, MONTHLY_TEAMS, MONTHLY_INDICATORS, MONTHLY_DATA);
    expect_doc(&s, "monthly_up_trend_north.json",
               (const char *const[]){"trend", "north", "sales", "--as-of", "2026-08-31", "--window",
                                     "6", "--format", "json", NULL});
    expect_doc(
        &s, "monthly_up_trend_south.json",
        (const char *const[]){"trend", "south", "--as-of", "2026-08-31", "--format", "json", NULL});
    expect_doc(
        &s, "monthly_up_drift_north.json",
        (const char *const[]){"drift", "north", "--as-of", "2026-08-31", "--format", "json", NULL});
    expect_doc(&s, "monthly_up_alerts.json",
               (const char *const[]){"alerts", "--as-of", "2026-08-31", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/*
 * The series document (D16): every month from the first to the last with a
 * value or a target, January to December, interpolated targets included,
 * value null where there is no observation. --from/--to clip to the months
 * containing those days: 2026-05-10 .. 2026-07-01 -> May, Jun, Jul.
 */
START_TEST(test_monthly_series_interpolated_targets)
{
    struct scene s;
    scene_open(&s, "mseries");
    load(&s, MONTHLY_TEAMS, MONTHLY_INDICATORS, MONTHLY_DATA);
    expect_doc(&s, "monthly_up_series_north.json",
               (const char *const[]){"series", "north", "sales", "--format", "json", NULL});
    expect_doc(&s, "monthly_up_series_north_may_jul.json",
               (const char *const[]){"series", "north", "sales", "--from", "2026-05-10", "--to",
                                     "2026-07-01", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* ------------------------------------ a `down` indicator, a zero target */

/*
 * west/delay (down, mean): target points Jan 10, Jul 7: -0.5 a month, Apr
 * 8.5. Observations Jan 10, Feb 9.9, Mar 9.3, Apr 8.925. At 2026-04-30:
 *   gap = -(8.925 - 8.5) / 8.5 = -0.05 (-0.0500000000000001 in doubles):
 *   equal to -amber up to rounding -> on_track (SPEC 1e-9, D7).
 *   Window Nov..Apr, points x = 2..5: mean x 3.5, Sxx = 5,
 *   Sxy = -1.5x10 - 0.5x9.9 + 0.5x9.3 + 1.5x8.925 = -1.9125 -> slope -0.3825;
 *   mean y = 38.125/4 = 9.53125, change = -1.9125 / 9.53125 = -0.2006557;
 *   slope x (-1 for down) > 0 -> improving.
 *   Deadline 2026-07: required = (7 - 8.5) / 3 = -0.5, same sign: not
 *   diverging. projected = 8.925 - 0.3825 x 3 = 7.7775, projected_gap =
 *   -(7.7775 - 7) / 7 = -0.1110714 -> will_miss; since: at Mar slope -0.35,
 *   9.3 - 1.4 = 7.9 -> -0.129; at Feb slope -0.1, 9.9 - 0.5 = 9.4 -> -0.343;
 *   at Jan one point -> since 2026-02.
 * west/incidents (down, sum): target points Jan 0 and Jul 0, so the target
 *   is 0 and the gap a difference: -(0.08 - 0) = -0.08 -> at_risk.
 *   Points Feb 3, Mar 1, Apr 0.08 (x = 3, 4, 5): slope (0.08 - 3)/2 = -1.46,
 *   mean 4.08/3 = 1.36, change = -1.46 x 5 / 1.36 = -5.367647, improving.
 *   required = (0 - 0) / 3 = 0: not diverging (D8). projected = 0.08 -
 *   1.46 x 3 = -4.3, projected_gap = -(-4.3 - 0) = 4.3: no will_miss.
 *   at_risk since 2026-04 (at Mar: gap -1 is off_track, not at_risk).
 * Drift = (0.05 + 0.08) / 2 = 0.065, process only.
 */
START_TEST(test_down_indicator_and_zero_target)
{
    struct scene s;
    scene_open(&s, "down");
    load(&s, "team,name,parent\nwest,West,\n",
         "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
         "delay,Delay,process,days,down,month,mean,0.05,0.10,1\n"
         "incidents,Incidents,process,count,down,month,sum,0.05,0.10,1\n",
         "date,team,kpi,value,target\n"
         "2026-01,west,delay,10,10\n"
         "2026-02,west,delay,9.9,\n"
         "2026-03,west,delay,9.3,\n"
         "2026-04,west,delay,8.925,\n"
         "2026-07,west,delay,,7\n"
         "2026-01,west,incidents,,0\n"
         "2026-02,west,incidents,3,\n"
         "2026-03,west,incidents,1,\n"
         "2026-04,west,incidents,0.08,\n"
         "2026-07,west,incidents,,0\n");
    expect_doc(
        &s, "down_trend_west.json",
        (const char *const[]){"trend", "west", "--as-of", "2026-04-30", "--format", "json", NULL});
    expect_doc(
        &s, "down_drift_west.json",
        (const char *const[]){"drift", "west", "--as-of", "2026-04-30", "--format", "json", NULL});
    expect_doc(&s, "down_alerts.json",
               (const char *const[]){"alerts", "--as-of", "2026-04-30", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* ---------------------------------------------------------- stale */

/*
 * plant/scrap (down, mean, amber 0.15, red 0.30), target 3 all year (points
 * Jan and Dec), observations Jan 2.8, Feb 2.9, Mar 3.0, Apr 2.7 only.
 * At 2026-07-31, --stale-after 2: P = 2026-04, 3 periods before Jul: 3 > 2
 *   -> stale. gap = -(2.7 - 3) / 3 = 0.1, on_track.
 *   Window Nov..Apr, x = 2..5: Sxy = -1.5x2.8 - 0.5x2.9 + 0.5x3.0 + 1.5x2.7 =
 *   -0.1, slope = -0.1 / 5 = -0.02; mean 2.85, change = -0.1 / 2.85 =
 *   -0.03508772, improving (down). required (3 - 3) / 8 = 0. projected =
 *   2.7 - 0.02 x 8 = 2.54, projected_gap = -(2.54 - 3) / 3 = 0.1533333.
 * At 2026-09-30 the stale alert runs since 2026-07: at Sep, Aug, Jul P is 5,
 *   4, 3 periods back (> 2), at Jun only 2.
 * With --stale-after 3 at 2026-07-31: 3 is not more than 3: no stale alert.
 */
START_TEST(test_stale_series)
{
    struct scene s;
    scene_open(&s, "stale");
    load(&s, "team,name,parent\nplant,Plant,\n",
         "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
         "scrap,Scrap rate,process,%,down,month,mean,0.15,0.30,1\n",
         "date,team,kpi,value,target\n"
         "2026-01,plant,scrap,2.8,3\n"
         "2026-02,plant,scrap,2.9,\n"
         "2026-03,plant,scrap,3.0,\n"
         "2026-04,plant,scrap,2.7,\n"
         "2026-12,plant,scrap,,3\n");
    expect_doc(&s, "stale_trend_plant.json",
               (const char *const[]){"trend", "plant", "--as-of", "2026-07-31", "--stale-after",
                                     "2", "--format", "json", NULL});
    expect_doc(&s, "stale_alerts.json",
               (const char *const[]){"alerts", "--as-of", "2026-09-30", "--stale-after", "2",
                                     "--format", "json", NULL});
    expect_doc(&s, "stale_alerts_after3.json",
               (const char *const[]){"alerts", "--as-of", "2026-07-31", "--stale-after", "3",
                                     "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* ------------------------------------------------------- quarterly */

/*
 * hr/engagement (quarter, mean): target points 2025-Q4 = 70 and 2026-Q4 = 74
 * (given as "2026-12": a month is placed in the quarter holding its last
 * day): +1 a quarter, 2026-Q3 = 73. Observations 2025-Q4 68, 2026-Q1 69
 * ("2026-03"), 2026-Q2 70.5 ("15/05/2026"), 2026-Q3 67.89 ("2026-08-20").
 * At 2026-10-31 the as-of period is 2026-Q4; P = 2026-Q3 (date 2026-09-30).
 *   gap = (67.89 - 73) / 73 = -0.07 -> at_risk.
 *   Window 2025-Q2..2026-Q3, points x = 2..5: Sxy = -1.5x68 - 0.5x69 +
 *   0.5x70.5 + 1.5x67.89 = 0.585, slope 0.117; mean 275.39/4 = 68.8475,
 *   change = 0.585 / 68.8475 = 0.008497041 < 0.01 -> flat.
 *   Deadline 2026-Q4, 1 period: required = (74 - 73) / 1 = 1; flat -> not
 *   diverging. projected = 67.89 + 0.117 (D9: flat slope used) = 68.007,
 *   projected_gap = (68.007 - 74) / 74 = -0.08098649 -> will_miss.
 *   Not stale: one quarter before the as-of quarter.
 * since, per quarter: at 2026-Q3 P is Q3 again (same numbers): both hold; at
 *   2026-Q2: 70.5 vs 72 on_track, and slope (70.5 - 68)/2 = 1.25 projects 73
 *   -> -0.0135: neither -> both since 2026-Q3.
 */
START_TEST(test_quarterly_indicator)
{
    struct scene s;
    scene_open(&s, "quarter");
    load(&s, "team,name,parent\nhr,Human resources,\n",
         "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
         "engagement,Engagement,human,points,up,quarter,mean,0.05,0.10,1\n",
         "date,team,kpi,value,target\n"
         "2025-Q4,hr,engagement,68,70\n"
         "2026-03,hr,engagement,69,\n"
         "15/05/2026,hr,engagement,70.5,\n"
         "2026-08-20,hr,engagement,67.89,\n"
         "2026-12,hr,engagement,,74\n");
    expect_doc(&s, "quarterly_trend_hr.json",
               (const char *const[]){"trend", "hr", "engagement", "--as-of", "2026-10-31",
                                     "--format", "json", NULL});
    expect_doc(&s, "quarterly_alerts.json",
               (const char *const[]){"alerts", "--as-of", "2026-10-31", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* ---------------------------------------------------------- weekly */

/*
 * support/csat (week, mean) across the 2025/2026 boundary. ISO weeks:
 * 2025-W50 = Dec 8-14, W51 = Dec 15-21, W52 = Dec 22-28 (2025 has 52 weeks),
 * 2026-W01 = 2025-12-29 .. 2026-01-04, W02 = Jan 5-11, W04 ends Jan 25.
 * Target points W50 = 80 and 2026-W04 = 86, 6 weeks apart: +1 a week, W02 =
 * 84. Observations W50 79 ("2025-12-10"), W51 80, W52 80.5 ("2025-12-28",
 * a Sunday), 2026-W01 81 ("2025-12-31", a Wednesday of 2026-W01), W02 81.2
 * ("2026-01-05"). At 2026-01-07 (W02): P = 2026-W02, date 2026-01-11.
 *   gap = (81.2 - 84) / 84 = -0.03333333 -> on_track.
 *   Window W49..W02, points x = 1..5: Sxx 10, Sxy = -2x79 - 80 + 81 +
 *   2x81.2 = 5.4 -> slope 0.54; mean 401.7/5 = 80.34, change = 2.7 / 80.34
 *   = 0.03360717, improving. Deadline W04, 2 weeks: required (86 - 84)/2 =
 *   1. projected = 81.2 + 1.08 = 82.28, projected_gap = -3.72/86 =
 *   -0.04325581 (>= -0.05: no will_miss).
 */
START_TEST(test_weekly_indicator_across_year_boundary)
{
    struct scene s;
    scene_open(&s, "weekly");
    load(&s, "team,name,parent\nsupport,Support,\n",
         "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
         "csat,Satisfaction,customer,points,up,week,mean,0.05,0.10,1\n",
         "date,team,kpi,value,target\n"
         "2025-12-10,support,csat,79,80\n"
         "2025-W51,support,csat,80,\n"
         "2025-12-28,support,csat,80.5,\n"
         "2025-12-31,support,csat,81,\n"
         "2026-01-05,support,csat,81.2,\n"
         "2026-W04,support,csat,,86\n");
    expect_doc(&s, "weekly_trend_support.json",
               (const char *const[]){"trend", "support", "--as-of", "2026-01-07", "--format",
                                     "json", NULL});
    expect_doc(&s, "weekly_series_support.json",
               (const char *const[]){"series", "support", "csat", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* ------------------------------------------------ three-level roll-up */

static const char ROLLUP_TEAMS[] = "team,name,parent\n"
                                   "co,Company,\n"
                                   "div,Division,co\n"
                                   "t1,Team one,div\n"
                                   "t2,Team two,div\n";
static const char ROLLUP_INDICATORS[] =
    "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
    "revenue,Revenue,financial,EUR,up,month,sum,0.05,0.10,2\n"
    "nps,NPS,customer,points,up,month,mean,0.05,0.10,1\n";
static const char ROLLUP_DATA[] = "date,team,kpi,value,target\n"
                                  "2026-01,t1,revenue,50,50\n"
                                  "2026-02,t1,revenue,55,\n"
                                  "2026-03,t1,revenue,60,60\n"
                                  "2026-06,t1,revenue,,75\n"
                                  "2026-01,t2,revenue,30,30\n"
                                  "2026-03,t2,revenue,36,40\n"
                                  "2026-06,t2,revenue,,46\n"
                                  "2026-01,t1,nps,40,40\n"
                                  "2026-02,t1,nps,42,\n"
                                  "2026-03,t1,nps,44,50\n"
                                  "2026-01,t2,nps,30,\n"
                                  "2026-03,t2,nps,34,\n";

/*
 * co -> div -> {t1, t2}; only t1 and t2 have data; t2 has no February.
 * revenue (sum, weight 2): t1 targets 50, 55, 60, 65, 70, 75 (Jan..Jun,
 *   interpolated), t2 targets 30, 35, 40, 42, 44, 46. Rolled up to div and
 *   co: values Jan 50+30 = 80, Feb 55 (t1 alone), Mar 60+36 = 96; targets
 *   80, 55 (like for like: t2 has not reported February, so its 35 is left
 *   out with its value), 100, then 107, 114, 121 (planned: no value) --
 *   every point rolled_up.
 * nps (mean, weight 1): values Jan (40+30)/2 = 35, Feb 42 (t1 alone), Mar
 *   (44+34)/2 = 39; only t1 has targets: 40, 45, 50 (Jan..Mar).
 * At 2026-03-31, co (and div, the same numbers):
 *   nps: 39 vs 50, gap -0.22 -> off_track. Points x = 3, 4, 5: slope
 *   (39 - 35)/2 = 2, mean 116/3, change = 10 / 38.6667 = 0.2586207,
 *   improving. No rolled-up target after March (D4): no deadline, required
 *   = OLS of the window's targets 40, 45, 50 = 5; no projection.
 *   revenue: 96 vs 100, gap -0.04, on_track. slope (96 - 80)/2 = 8, mean 77,
 *   change = 40/77 = 0.5194805. Deadline 2026-06 (121): required (121 -
 *   100)/3 = 7; projected 96 + 24 = 120, projected_gap = -1/121 =
 *   -0.008264463.
 * Attribution (SPEC §11) at 2026-03-31: co's one child div explains its
 *   whole gap (revenue (96 - 100)/100 = -0.04; nps, a mean over n = 1,
 *   (39 - 50)/(1 x 50) = -0.22; residual 0). div's children: revenue t2
 *   (36 - 40)/100 = -0.04, t1 (60 - 60)/100 = 0, residual 0; nps t1
 *   (44 - 50)/(2 x 50) = -0.06 (n = 2: t2 reports 34 without a target),
 *   residual -0.22 + 0.06 = -0.16, t2's share (34 - 50)/(2 x 50).
 *   drift = (2 x 0.04 + 1 x 0.22) / 3 = 0.1; financial 0.04, customer 0.22.
 * t1: revenue gap 0, nps 44 vs 50 = -0.12 off_track: drift (2x0 + 0.12)/3 =
 *   0.04. t2: revenue 36 vs 40 = -0.1 (at_risk: -red <= gap), nps no target:
 *   drift 0.1, covers financial only.
 * Alerts: off_track nps for co, div, t1 since 2026-03 (at Feb: 42 vs 45 =
 *   -0.067, at_risk); t2 revenue at_risk since 2026-03 (at Feb P = Jan, 30
 *   vs 30). No will_miss: t1 projects 60 + 3x5 = 75 (gap 0), t2 36 + 3x3 =
 *   45 vs 46 (-0.022). Coverage for all four teams (no human or process).
 */
START_TEST(test_three_level_rollup)
{
    struct scene s;
    scene_open(&s, "rollup");
    load(&s, ROLLUP_TEAMS, ROLLUP_INDICATORS, ROLLUP_DATA);
    expect_doc(&s, "rollup_series_co_revenue.json",
               (const char *const[]){"series", "co", "revenue", "--format", "json", NULL});
    expect_doc(&s, "rollup_series_div_nps.json",
               (const char *const[]){"series", "div", "nps", "--format", "json", NULL});
    expect_doc(&s, "rollup_series_t2_revenue.json",
               (const char *const[]){"series", "t2", "revenue", "--format", "json", NULL});
    expect_doc(
        &s, "rollup_trend_co.json",
        (const char *const[]){"trend", "co", "--as-of", "2026-03-31", "--format", "json", NULL});
    expect_doc(
        &s, "rollup_drift_co.json",
        (const char *const[]){"drift", "co", "--as-of", "2026-03-31", "--format", "json", NULL});
    expect_doc(
        &s, "rollup_drift_div.json",
        (const char *const[]){"drift", "div", "--as-of", "2026-03-31", "--format", "json", NULL});
    /* the table names the worst contributor of each indicator */
    struct ts_run r;
    kpi(&r, &s,
        (const char *const[]){"drift", "div", "--as-of", "2026-03-31", "--format", "csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, ",projected_gap,stale,rolled_up,cascade_gap,worst_child,"
                                "contribution\n") != NULL,
                  "%s", r.out);
    ck_assert_msg(strstr(r.out, "\nnps,customer,2026-03,39,50,-0.22,") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, ",true,,t1,-0.06\nrevenue,") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, ",true,,t2,-0.04\n") != NULL, "%s", r.out);
    ts_run_free(&r);
    expect_doc(&s, "rollup_drift_all.json",
               (const char *const[]){"drift", "--as-of", "2026-03-31", "--format", "json", NULL});
    expect_doc(&s, "rollup_alerts.json",
               (const char *const[]){"alerts", "--as-of", "2026-03-31", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* --severity warning keeps warning and critical; --team div keeps div, t1
 * and t2 (descendants included), not co. */
START_TEST(test_alert_filters)
{
    struct scene s;
    scene_open(&s, "filters");
    load(&s, ROLLUP_TEAMS, ROLLUP_INDICATORS, ROLLUP_DATA);
    expect_doc(&s, "rollup_alerts_warning.json",
               (const char *const[]){"alerts", "--severity", "warning", "--as-of", "2026-03-31",
                                     "--format", "json", NULL});
    expect_doc(&s, "rollup_alerts_team_div.json",
               (const char *const[]){"alerts", "--team", "div", "--as-of", "2026-03-31", "--format",
                                     "json", NULL});
    scene_close(&s);
}
END_TEST

/* ------------------------------------------------------ cascade gap */

/*
 * sales -> {s1, s2}. sales has its own target points Jan 100 and Jun 100
 * (so 100, interpolated, in March) for revenue (amber 0.05) and orders
 * (amber 0.15); s1 and s2 have a target and an observation in March only:
 * 60 and 30.
 * At 2026-03-31: cascade_gap = (60 + 30 - 100) / |100| = -0.1 for both.
 *   revenue: |-0.1| > 0.05 -> cascade_gap alert (period = as-of period
 *   2026-03, actual null, target 100, gap -0.1; D12), since 2026-03 (in
 *   February no child has a target yet).
 *   orders: 0.1 <= 0.15: no alert, but cascade_gap -0.1 in the drift.
 *   sales' value is rolled up, 90, against its own 100: gap -0.1 -> at_risk
 *   for revenue (-red <= gap < -amber), on_track for orders (amber 0.15).
 *   One point: trend null, no projection. Deadline 2026-06: required =
 *   (100 - 100)/3 = 0.
 *   drift = (0.1 + 0.1) / 2 = 0.1, financial 0.1, process 0.1.
 *   Attribution: s1 (60 - 60)/100 = 0, s2 (30 - 30)/100 = 0: the children
 *   meet their targets, and the residual -0.1 is the cascade gap.
 */
START_TEST(test_cascade_gap)
{
    struct scene s;
    scene_open(&s, "cascade");
    load(&s, "team,name,parent\nsales,Sales,\ns1,Sales one,sales\ns2,Sales two,sales\n",
         "kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n"
         "revenue,Revenue,financial,EUR,up,month,sum,0.05,0.10,1\n"
         "orders,Orders,process,count,up,month,sum,0.15,0.30,1\n",
         "date,team,kpi,value,target\n"
         "2026-01,sales,revenue,,100\n"
         "2026-06,sales,revenue,,100\n"
         "2026-01,sales,orders,,100\n"
         "2026-06,sales,orders,,100\n"
         "2026-03,s1,revenue,60,60\n"
         "2026-03,s2,revenue,30,30\n"
         "2026-03,s1,orders,60,60\n"
         "2026-03,s2,orders,30,30\n");
    expect_doc(
        &s, "cascade_drift_sales.json",
        (const char *const[]){"drift", "sales", "--as-of", "2026-03-31", "--format", "json", NULL});
    expect_doc(&s, "cascade_alerts.json",
               (const char *const[]){"alerts", "--as-of", "2026-03-31", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

/* ------------------------------------------------------ error paths */

START_TEST(test_error_paths)
{
    struct scene s;
    scene_open(&s, "errors");
    load(&s, ROLLUP_TEAMS, ROLLUP_INDICATORS, ROLLUP_DATA);
    /* unknown team or indicator: exit 4 with the message */
    expect_fail(&s, 4, "unknown team \"nobody\"",
                (const char *const[]){"trend", "nobody", "--as-of", "2026-03-31", "--format",
                                      "json", NULL});
    expect_fail(&s, 4, "unknown team \"nobody\"",
                (const char *const[]){"drift", "nobody", "--as-of", "2026-03-31", "--format",
                                      "json", NULL});
    expect_fail(&s, 4, "unknown team \"nobody\"",
                (const char *const[]){"alerts", "--team", "nobody", "--as-of", "2026-03-31",
                                      "--format", "json", NULL});
    expect_fail(&s, 4, "unknown team \"nobody\"",
                (const char *const[]){"series", "nobody", "revenue", "--format", "json", NULL});
    expect_fail(&s, 4, "unknown indicator \"nothing\"",
                (const char *const[]){"trend", "co", "nothing", "--as-of", "2026-03-31", "--format",
                                      "json", NULL});
    /* bad --as-of: a usage error */
    expect_fail(
        &s, 1, "--as-of",
        (const char *const[]){"trend", "co", "--as-of", "2026-13-45", "--format", "json", NULL});
    expect_fail(&s, 1, "--as-of",
                (const char *const[]){"alerts", "--as-of", "yesterday", "--format", "json", NULL});
    expect_fail(&s, 1, "--as-of",
                (const char *const[]){"drift", "--as-of", "2026-02-30", "--format", "json", NULL});
    /* --window 0: a usage error */
    expect_fail(&s, 1, "--window",
                (const char *const[]){"trend", "co", "--window", "0", "--as-of", "2026-03-31",
                                      "--format", "json", NULL});
    expect_fail(&s, 1, "--window",
                (const char *const[]){"alerts", "--window", "0", "--format", "json", NULL});
    expect_fail(&s, 1, "--severity",
                (const char *const[]){"alerts", "--severity", "loud", "--format", "json", NULL});
    scene_close(&s);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cli_analysis");
    TCase *tc = tcase_create("analysis");
    tcase_add_test(tc, test_json_match_reports_the_first_difference);
    tcase_add_test(tc, test_monthly_up_indicator);
    tcase_add_test(tc, test_monthly_series_interpolated_targets);
    tcase_add_test(tc, test_down_indicator_and_zero_target);
    tcase_add_test(tc, test_stale_series);
    tcase_add_test(tc, test_quarterly_indicator);
    tcase_add_test(tc, test_weekly_indicator_across_year_boundary);
    tcase_add_test(tc, test_three_level_rollup);
    tcase_add_test(tc, test_alert_filters);
    tcase_add_test(tc, test_cascade_gap);
    tcase_add_test(tc, test_error_paths);
    suite_add_tcase(suite, tc);
    return ts_run_suite(suite);
}
