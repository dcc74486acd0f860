/* End-to-end test of the bundled example data set (examples/README.md): the
 * seven import commands exactly as the README gives them, run from the source
 * tree, then the analysis at --as-of 2026-10-31 compared with what
 * examples/EXPECTED.md and the README compute by hand from SPEC §5:
 *   - every import prints the summary line the README announces;
 *   - the alert list is EXPECTED.md's table (tests/data/analysis/
 *     examples_alerts.json, transcribed by hand in the order of D14:
 *     severity, team, kpi, kind; `message` is free text and not compared);
 *   - every alert kind of SPEC §5 occurs;
 *   - the drift of ventes-ara (the drifting team) and of commercial (the
 *     division whose targets do not add up) match hand computations.
 * The examples are imported once (an unchecked fixture) into a scratch data
 * directory; each test reads it. */
#include "support/json_match.h"
#include "support/support.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* EXPECTED.md rounds actuals and targets to 4 decimals and gaps to 0.01 %;
 * the expected files keep those roundings (a few gaps recomputed by hand
 * from the table's actual and target where 0.01 % is too coarse). */
#define EXAMPLES_TOL 1e-3
#define AS_OF "2026-10-31"

static char *scratch;  /* the scratch directory */
static char *data_dir; /* scratch/data, the imported examples */

/* The commands of examples/README.md, in its order, and the stdout of each. */
#define IMPORT_COUNT 7
static const char *const IMPORTS[IMPORT_COUNT][12] = {
    {"import", "examples/teams.csv", "--kind", "teams", NULL},
    {"import", "examples/indicators.csv", "--kind", "indicators", NULL},
    {"import", "examples/budget.csv", "--kind", "targets", "--strict", NULL},
    {"import", "examples/finance.csv", "--encoding", "cp1252", "--strict", NULL},
    {"import", "examples/rh_effectifs.csv", "--column", "date=Fin de période", "--date-format",
     "%d.%m.%Y", "--strict", NULL},
    {"import", "examples/operations.csv", "--strict", NULL},
    {"import", "examples/enquete_engagement.csv", "--kpi", "engagement", "--column",
     "date=Trimestre", "--column", "value=Score", "--strict", NULL},
};
static char *import_out[IMPORT_COUNT];
static int import_status[IMPORT_COUNT];
static char *import_err[IMPORT_COUNT];

/* Run kpi --data <data_dir> args... in the source tree. */
static void kpi(struct ts_run *r, const char *const *args)
{
    const char *argv[24] = {"--data", data_dir};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        ck_assert_uint_lt(n, 23);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

static void import_examples(void)
{
    /* README: "From the repository root" -- relative paths as it gives them */
    ck_assert_int_eq(chdir(KPI_SOURCE_DIR), 0);
    scratch = ts_tempdir("examples");
    data_dir = ts_path(scratch, "data");
    for (size_t i = 0; i < IMPORT_COUNT; i++) {
        struct ts_run r;
        kpi(&r, IMPORTS[i]);
        import_status[i] = r.status;
        import_out[i] = r.out;
        import_err[i] = r.err;
    }
}

static void remove_examples(void)
{
    for (size_t i = 0; i < IMPORT_COUNT; i++) {
        free(import_out[i]);
        free(import_err[i]);
    }
    ts_rm_rf(scratch);
    free(scratch);
    free(data_dir);
}

static char *expected_text(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/analysis/%s", KPI_SOURCE_DIR, name);
    char *text = ts_read_file(path, NULL);
    ck_assert_msg(text != NULL, "missing expected file %s", path);
    return text;
}

/* stdout of kpi args, which must succeed. Caller frees. */
static char *run_ok(const char *const *args)
{
    struct ts_run r;
    kpi(&r, args);
    ck_assert_msg(r.status == 0, "kpi %s: exit %d: %s", args[0], r.status, r.err);
    free(r.err);
    return r.out;
}

static cJSON *parse(const char *json)
{
    cJSON *doc = cJSON_ParseWithLengthOpts(json, strlen(json), NULL, false);
    ck_assert_msg(doc != NULL, "not JSON: %s", json);
    return doc;
}

/* ------------------------------------------------------------ imports */

/* Every file's summary line, as the README announces it (files are named as
 * given on the command line, like a compiler names them):
 * all seven are compared before failing, so that one report lists them. */
START_TEST(test_import_summary_lines)
{
    static const char *const want[IMPORT_COUNT] = {
        /* nine teams, twelve indicators (README: the organisation, the
         * indicators) */
        "examples/teams.csv: 9 rows, 0 new, 0 corrected, 0 unchanged, 0 empty, 0 rejected, 0 "
        "series, "
        "9 new teams, 0 new indicators\n",
        "examples/indicators.csv: 12 rows, 0 new, 0 corrected, 0 unchanged, 0 empty, 0 rejected, "
        "0 series, 0 new teams, 12 new indicators\n",
        /* "40 rows, 411 target points, 629 empty cells", a series per row */
        "examples/budget.csv: 40 rows, 411 new, 0 corrected, 0 unchanged, 629 empty, 0 rejected, "
        "40 series, 0 new teams, 0 new indicators\n",
        /* the four "Expected summary" lines of the README */
        "examples/finance.csv: 288 rows, 285 new, 0 corrected, 0 unchanged, 3 empty, 0 rejected, "
        "12 series, 0 new teams, 0 new indicators\n",
        "examples/rh_effectifs.csv: 144 rows, 240 new, 0 corrected, 0 unchanged, 48 empty, 0 "
        "rejected, "
        "10 series, 0 new teams, 0 new indicators\n",
        "examples/operations.csv: 276 rows, 276 new, 0 corrected, 0 unchanged, 0 empty, 0 "
        "rejected, "
        "12 series, 0 new teams, 0 new indicators\n",
        "examples/enquete_engagement.csv: 40 rows, 40 new, 0 corrected, 0 unchanged, 0 empty, "
        "0 rejected, 5 series, 0 new teams, 0 new indicators\n",
    };
    char report[8192] = "";
    size_t used = 0;
    for (size_t i = 0; i < IMPORT_COUNT; i++) {
        if (import_status[i] == 0 && strcmp(import_out[i], want[i]) == 0)
            continue;
        int n = snprintf(report + used, sizeof report - used,
                         "\nkpi import %s: exit %d, printed\n  %s  expected\n  %s%s", IMPORTS[i][1],
                         import_status[i], import_out[i], want[i], import_err[i]);
        if (n > 0 && (size_t)n < sizeof report - used)
            used += (size_t)n;
    }
    ck_assert_msg(used == 0, "summary lines differ:%s", report);
}
END_TEST

/* README: "Importing any file a second time changes nothing (every value is
 * unchanged)": the data directory stays byte for byte the same. Runs last. */
START_TEST(test_reimport_changes_nothing)
{
    for (size_t i = 2; i < IMPORT_COUNT; i++)
        ck_assert_msg(import_status[i] == 0, "%s: %s", IMPORTS[i][1], import_err[i]);
    char *before = ts_tree_digest(data_dir);
    struct ts_run r;
    kpi(&r, IMPORTS[3]);
    ck_assert_msg(r.status == 0, "re-import: %s", r.err);
    ck_assert_msg(strstr(r.out, "288 rows, 0 new, 0 corrected, 285 unchanged, 3 empty, "
                                "0 rejected") != NULL,
                  "re-import of finance.csv: %s", r.out);
    ts_run_free(&r);
    char *after = ts_tree_digest(data_dir);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

/* ------------------------------------------------------------- alerts */

START_TEST(test_alerts_match_expected_md)
{
    char *out = run_ok((const char *const[]){"alerts", "--as-of", AS_OF, "--format", "json", NULL});
    char *want = expected_text("examples_alerts.json");
    static const char *const ignore[] = {"message", NULL};
    char why[2048];
    bool ok = json_match_ignoring(want, out, EXAMPLES_TOL, ignore, why, sizeof why);
    ck_assert_msg(ok, "kpi alerts --as-of %s vs examples_alerts.json: %s", AS_OF, why);
    free(want);
    free(out);
}
END_TEST

/* EXPECTED.md: "55 alerts: off_track 6, at_risk 7, diverging 21, will_miss 16,
 * stale 3, cascade_gap 1, coverage 1" -- every kind of the SPEC §5 table. */
START_TEST(test_every_alert_kind_occurs)
{
    static const char *const kinds[] = {"off_track", "at_risk",     "diverging", "will_miss",
                                        "stale",     "cascade_gap", "coverage"};
    static const int counts[] = {6, 7, 21, 16, 3, 1, 1};
    char *out = run_ok((const char *const[]){"alerts", "--as-of", AS_OF, "--format", "json", NULL});
    cJSON *doc = parse(out);
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
    ck_assert(cJSON_IsArray(alerts));
    ck_assert_int_eq(cJSON_GetArraySize(alerts), 55);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int n = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, alerts)
        {
            const cJSON *kind = cJSON_GetObjectItemCaseSensitive(a, "kind");
            if (cJSON_IsString(kind) && strcmp(kind->valuestring, kinds[k]) == 0)
                n++;
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "message");
            ck_assert(cJSON_IsString(m) && m->valuestring[0] != '\0');
        }
        ck_assert_msg(n == counts[k], "%d %s alerts, expected %d", n, kinds[k], counts[k]);
    }
    cJSON_Delete(doc);
    free(out);
}
END_TEST

/* -------------------------------------------------------------- drift */

/*
 * ventes-ara at 2026-10 (README "Drifting badly"), gaps from EXPECTED.md's
 * actuals and targets (targets as exact fractions of the budget points):
 *   ca      (263464.04 - 345000) / 345000             = -0.2363361  w 3
 *   marge   (29.9 - 104.2/3) / (104.2/3)              = -0.1391555  w 2
 *   dso     -(57.3 - 130/3) / (130/3)                 = -0.3223077  w 1
 *   effectif (15 - 16.409091) / 16.409091             = -0.0858726  w 1
 *   absenteisme -(4.73 - 4.086957) / 4.086957         = -0.1573404  w 1
 *   engagement (66.1 - 72.5) / 72.5                   = -0.0882759  w 1
 *   delai-reponse -(2.92 - 7.36/3) / (7.36/3)         = -0.1902174  w 1
 *   nps     (33.2 - 149/3) / (149/3)                  = -0.3315436  w 2
 *   drift = (3x0.2363361 + 2x0.1391555 + 0.3223077 + 0.0858726 + 0.1573404
 *            + 0.0882759 + 0.1902174 + 2x0.3315436) / 12 = 0.2078684
 *   financial (3x0.2363361 + 2x0.1391555 + 0.3223077) / 6 = 0.2182712
 *   human (0.0858726 + 0.1573404 + 0.0882759) / 3 = 0.1104963
 *   process 0.1902174, customer 0.3315436; 4 off_track, 4 at_risk.
 * commercial (rolled-up actuals; its own target for ca only):
 *   ca (920665.39 - 1101000) / 1101000 = -0.1637917 (w 3), marge -0.0429931
 *   (w 2), dso -(51.6 - 47.755556)/47.755556 = -0.0805025 (w 1), effectif
 *   (35.7 - 37.045455)/37.045455 = -0.0363190, absenteisme -(4.235 -
 *   3.973913)/3.973913 = -0.0657002, engagement -2.65/74 = -0.0358108,
 *   delai-reponse -0.17/2.26 = -0.0752212, nps (43.9 - 51.666667)/51.666667
 *   = -0.1503226 (w 2):
 *   drift = (3x0.1637917 + 2x0.0429931 + 0.0805025 + 0.0363190 + 0.0657002
 *            + 0.0358108 + 0.0752212 + 2x0.1503226) / 12 = 0.0976300
 *   financial 0.1096440, human 0.0459434, process 0.0752212, customer
 *   0.1503226; off_track ca, at_risk marge and nps, 5 on_track.
 *   cascade_gap of ca = (391000 + 345000 + 247000 - 1101000) / 1101000 =
 *   -0.1071753; the other indicators have no own target: null.
 */
static void expect_drift(const char *team, const char *expected)
{
    char *out =
        run_ok((const char *const[]){"drift", team, "--as-of", AS_OF, "--format", "json", NULL});
    char *want = expected_text(expected);
    static const char *const ignore[] = {"indicators", NULL};
    char why[2048];
    bool ok = json_match_ignoring(want, out, EXAMPLES_TOL, ignore, why, sizeof why);
    ck_assert_msg(ok, "kpi drift %s vs %s: %s\n--- actual:\n%s", team, expected, why, out);
    free(want);
    free(out);
}

START_TEST(test_drift_of_the_drifting_team)
{
    expect_drift("ventes-ara", "examples_drift_ventes_ara.json");
}
END_TEST

START_TEST(test_drift_and_cascade_gap_of_commercial)
{
    expect_drift("commercial", "examples_drift_commercial.json");
    char *out = run_ok(
        (const char *const[]){"drift", "commercial", "--as-of", AS_OF, "--format", "json", NULL});
    cJSON *doc = parse(out);
    const cJSON *inds = cJSON_GetObjectItemCaseSensitive(doc, "indicators");
    ck_assert_int_eq(cJSON_GetArraySize(inds), 8);
    const cJSON *ind;
    bool seen_ca = false;
    cJSON_ArrayForEach(ind, inds)
    {
        const char *kpi_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ind, "kpi"));
        const cJSON *cg = cJSON_GetObjectItemCaseSensitive(ind, "cascade_gap");
        ck_assert_ptr_nonnull(kpi_id);
        ck_assert_ptr_nonnull(cg);
        if (strcmp(kpi_id, "ca") == 0) {
            seen_ca = true;
            ck_assert_msg(cJSON_IsNumber(cg) && cg->valuedouble < -0.10716 &&
                              cg->valuedouble > -0.10719,
                          "commercial/ca cascade_gap: %s", out);
        } else {
            ck_assert_msg(cJSON_IsNull(cg), "commercial/%s cascade_gap should be null", kpi_id);
        }
    }
    ck_assert(seen_ca);
    cJSON_Delete(doc);
    free(out);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cli_examples");
    TCase *tc = tcase_create("examples");
    tcase_add_unchecked_fixture(tc, import_examples, remove_examples);
    tcase_add_test(tc, test_import_summary_lines);
    tcase_add_test(tc, test_alerts_match_expected_md);
    tcase_add_test(tc, test_every_alert_kind_occurs);
    tcase_add_test(tc, test_drift_of_the_drifting_team);
    tcase_add_test(tc, test_drift_and_cascade_gap_of_commercial);
    tcase_add_test(tc, test_reimport_changes_nothing);
    suite_add_tcase(suite, tc);
    return ts_run_suite(suite);
}
