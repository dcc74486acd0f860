/* The history endpoints of SPEC §10 over real HTTP: /api/v1/commits,
 * .../history, /api/v1/restatements and known_at= on the analysis routes. */
#include "test_web_helpers.h"

#include <stdio.h>

static char *dir;
static struct test_server server;

/* make_data's four commits (teams, indicators, observations, targets),
 * then a fifth by "eve": sales revenue 2026-04 80 -> 88 (+10 %). */
static void setup(void)
{
    dir = make_data("web-history");
    char *file = ts_path(dir, "fix.csv"), *data = ts_path(dir, "data");
    ts_write_file(file, "date,team,kpi,value\n2026-04,sales,revenue,88\n", (size_t)-1);
    const char *argv[] = {"--data", data, "import", file, "--author", "eve", "--quiet", NULL};
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    free(file);
    free(data);
    server_start(&server, dir);
}

static void teardown(void)
{
    server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

START_TEST(test_commits_newest_first_and_limited)
{
    struct th_response r;
    get_expect(server.port, "/api/v1/commits?limit=1", 200, &r);
    char want[512];
    snprintf(want, sizeof want, "{\"commits\":[{\"id\":5,\"time\":\"");
    ck_assert(strncmp(r.body, want, strlen(want)) == 0);
    ck_assert_ptr_nonnull(strstr(r.body, "\"author\":\"eve\",\"kind\":\"import\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"rows\":1,\"new\":0,\"corrected\":1,\"series\":1,"
                                         "\"teams\":[\"sales\"]}]}"));
    th_response_free(&r);
    get_expect(server.port, "/api/v1/commits?team=ops", 200, &r);
    /* ops: created by the teams file (1), its observations (3), targets (4) */
    ck_assert_ptr_nonnull(strstr(r.body, "{\"commits\":[{\"id\":4,"));
    ck_assert_ptr_nonnull(strstr(r.body, "},{\"id\":3,"));
    ck_assert_ptr_nonnull(strstr(r.body, "},{\"id\":1,"));
    ck_assert_ptr_null(strstr(r.body, "\"id\":5,"));
    ck_assert_ptr_null(strstr(r.body, "\"id\":2,"));
    th_response_free(&r);
    get_expect(server.port, "/api/v1/commits?limit=0", 400, &r);
    th_response_free(&r);
    get_expect(server.port, "/api/v1/commits?team=nobody", 404, &r);
    th_response_free(&r);
}
END_TEST

START_TEST(test_history_and_restatements)
{
    struct th_response r;
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/history?period=2026-04", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"team\":\"sales\",\"kpi\":\"revenue\",\"versions\":[{"
                                         "\"period\":\"2026-04\",\"date\":\"2026-04-30\","
                                         "\"field\":\"value\",\"value\":80,\"commit\":3,"));
    ck_assert_ptr_nonnull(strstr(r.body, "{\"period\":\"2026-04\",\"date\":\"2026-04-30\","
                                         "\"field\":\"value\",\"value\":88,\"commit\":5,"));
    th_response_free(&r);
    get_expect(server.port, "/api/v1/restatements", 200, &r);
    ck_assert_str_eq(r.body, "{\"restatements\":[{\"team\":\"sales\",\"kpi\":\"revenue\","
                             "\"period\":\"2026-04\",\"date\":\"2026-04-30\",\"first_value\":80,"
                             "\"first_commit\":3,\"value\":88,\"commit\":5,\"change\":0.1}]}");
    th_response_free(&r);
    get_expect(server.port, "/api/v1/restatements?since=5&team=acme", 200, &r);
    ck_assert_str_eq(r.body, "{\"restatements\":[]}");
    th_response_free(&r);
    get_expect(server.port, "/api/v1/restatements?since=9", 400, &r);
    th_response_free(&r);
}
END_TEST

START_TEST(test_known_at_answers_from_an_earlier_commit)
{
    struct th_response r;
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/series?known_at=4", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"period\":\"2026-04\",\"date\":\"2026-04-30\","
                                         "\"value\":80,"));
    th_response_free(&r);
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/series", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"period\":\"2026-04\",\"date\":\"2026-04-30\","
                                         "\"value\":88,"));
    th_response_free(&r);
    /* before the observations existed (commit 2): no indicator with data */
    get_expect(server.port, "/api/v1/teams/sales/trends?known_at=2", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"indicators\":[]}"));
    th_response_free(&r);
    get_expect(server.port, "/api/v1/drift?known_at=9", 400, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "unknown commit 9"));
    th_response_free(&r);
    get_expect(server.port, "/api/v1/alerts?known_at=2000-01-01", 400, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "no commit at or before 2000-01-01T23:59:59Z"));
    th_response_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("web_history");
    TCase *tc = tcase_create("history");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_commits_newest_first_and_limited);
    tcase_add_test(tc, test_history_and_restatements);
    tcase_add_test(tc, test_known_at_answers_from_an_earlier_commit);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
