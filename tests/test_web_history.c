/* The history endpoints of SPEC §10 over real HTTP: /api/v1/commits,
 * .../history, /api/v1/restatements and known_at= on the analysis routes. */
#include "test_web_helpers.h"

#include <sqlite3.h>
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

/* GET a and GET b answer the same status and bytes. */
static void assert_same_answer(const char *a, const char *b)
{
    struct th_response x, y;
    th_get(server.port, a, &x);
    th_get(server.port, b, &y);
    ck_assert_msg(x.status == 200 && y.status == 200, "GET %s: %d, GET %s: %d", a, x.status, b,
                  y.status);
    ck_assert_msg(strcmp(x.body, y.body) == 0, "GET %s:\n%s\nGET %s:\n%s", a, x.body, b, y.body);
    th_response_free(&x);
    th_response_free(&y);
}

/* known_at on a team's endpoints loads that team's subtree only (of one
 * indicator for a series): at the latest commit (5) the answers are the
 * snapshot's, and acme's alerts at commit 4 (acme is every team's root)
 * are those of the whole directory at commit 4 (built from the snapshot's
 * view by store_view_open_at_from). */
START_TEST(test_known_at_of_one_team_loads_its_subtree_only)
{
    static const char *const paths[] = {
        "/api/v1/teams/sales/kpis/revenue/series",
        "/api/v1/teams/acme/kpis/revenue/series",
        "/api/v1/teams/acme/trends",
        "/api/v1/teams/ops/trends?kpi=delay",
        "/api/v1/teams/acme/drift",
        "/api/v1/teams/ops/drift",
        "/api/v1/alerts?team=ops",
        "/api/v1/alerts?team=acme",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char at[256];
        snprintf(at, sizeof at, "%s%sknown_at=5", paths[i], strchr(paths[i], '?') ? "&" : "?");
        assert_same_answer(paths[i], at);
    }
    assert_same_answer("/api/v1/alerts?known_at=4", "/api/v1/alerts?team=acme&known_at=4");
    assert_same_answer("/api/v1/alerts?known_at=3", "/api/v1/alerts?team=acme&known_at=3");
}
END_TEST

/* kpi --data DIR/data ARGS...; must succeed. */
static void kpi_ok(const char *const *args)
{
    char *data = ts_path(dir, "data");
    const char *argv[16] = {"--data", data};
    size_t n = 2;
    for (; args[n - 2] != NULL && n < 15; n++)
        argv[n] = args[n - 2];
    argv[n] = NULL;
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "kpi %s: %s", args[0], r.err);
    ts_run_free(&r);
    free(data);
}

static const char *const compared[] = {
    "/api/v1/teams",
    "/api/v1/indicators",
    "/api/v1/drift",
    "/api/v1/alerts",
    "/api/v1/teams/acme/drift",
    "/api/v1/teams/acme/kpis/revenue/series",
    "/api/v1/teams/sales/kpis/revenue/series",
    "/api/v1/teams/ops/trends",
    "/api/v1/teams/ops/kpis/nps/series",
    "/api/v1/teams/acme/trends",
    "/api/v1/teams/sales/drift",
    "/api/v1/teams/acme/kpis/delay/series",
    "/api/v1/alerts?as_of=2026-06-30",
    "/api/v1/teams/acme/drift?as_of=2026-02-28",
    "/metrics",
};

/* Every compared answer of the running server (which took up the commits
 * one by one) equals a freshly started server's, byte for byte. */
static void assert_like_a_fresh_server(const char *after)
{
    struct test_server fresh;
    server_start(&fresh, dir);
    for (size_t i = 0; i < sizeof compared / sizeof compared[0]; i++) {
        struct th_response a, b;
        th_get(server.port, compared[i], &a);
        th_get(fresh.port, compared[i], &b);
        ck_assert_msg(a.status == b.status, "after %s: GET %s: %d, fresh %d", after, compared[i],
                      a.status, b.status);
        ck_assert_msg(strcmp(a.body, b.body) == 0, "after %s: GET %s:\n%s\nfresh:\n%s", after,
                      compared[i], a.body, b.body);
        th_response_free(&a);
        th_response_free(&b);
    }
    server_stop(&fresh);
}

START_TEST(test_take_up_answers_like_a_fresh_server)
{
    assert_like_a_fresh_server("start");
    /* new periods */
    import_text(dir, "may.csv",
                "date,team,kpi,value\n2026-05,sales,revenue,85\n2026-05,ops,delay,5.5\n", NULL);
    assert_like_a_fresh_server("new periods");
    /* a correction (commit 7), then its revert (commit 8) */
    import_text(dir, "fix2.csv", "date,team,kpi,value\n2026-02,sales,revenue,97\n", NULL);
    assert_like_a_fresh_server("a correction");
    kpi_ok((const char *const[]){"revert", "7", NULL});
    assert_like_a_fresh_server("a revert");
    /* a new team and a new indicator with data, then a rename */
    import_text(dir, "t2.csv", "team,name,parent\nsupport,Support,ops\n", "teams");
    import_text(dir, "i2.csv",
                "kpi,name,family,unit,direction,period\nnps,NPS,customer,pts,up,month\n",
                "indicators");
    import_text(dir, "nps.csv",
                "date,team,kpi,value\n2026-03,support,nps,40\n2026-04,support,nps,42\n"
                "2026-04,ops,revenue,7\n",
                NULL);
    assert_like_a_fresh_server("new teams and indicators");
    import_text(dir, "t3.csv", "team,name,parent\nsales,Ventes,ops\n", "teams");
    assert_like_a_fresh_server("a catalog change");
    /* notes, with a value and alone */
    import_text(dir, "n.csv",
                "date,team,kpi,value,note\n2026-05,ops,delay,6,Strike\n"
                "2026-04,sales,revenue,,Lost the Lyon deal\n",
                NULL);
    assert_like_a_fresh_server("notes");
    /* what the roll-ups do not read (thresholds, direction), then what
     * they do (the aggregate), then targets only */
    import_text(dir, "i3.csv",
                "kpi,name,direction,amber,red,aggregate\nrevenue,Revenue,down,0.01,0.02,sum\n",
                "indicators");
    assert_like_a_fresh_server("thresholds and direction");
    import_text(dir, "i4.csv", "kpi,name,aggregate\ndelay,Delay,mean\n", "indicators");
    assert_like_a_fresh_server("an aggregate");
    import_text(dir, "tg.csv",
                "date,team,kpi,target\n2026-06,ops,delay,2.5\n2026-06,acme,revenue,400\n", NULL);
    assert_like_a_fresh_server("targets");
    /* one team's new period only: the other subtrees are kept */
    import_text(dir, "jun.csv", "date,team,kpi,value\n2026-06,support,nps,44\n", NULL);
    assert_like_a_fresh_server("one team's new period");
}
END_TEST

static void sql(const char *query)
{
    char *path = ts_path(dir, "data/kpi.db");
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, query, NULL, NULL, &msg) == SQLITE_OK, "%s", msg);
    sqlite3_close(db);
    free(path);
}

START_TEST(test_failed_take_up_keeps_the_last_good_snapshot)
{
    struct th_response r;
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/series", 200, &r);
    ck_assert_ptr_null(strstr(r.body, "\"value\":85,"));
    th_response_free(&r);
    /* a commit the server cannot load: a team whose parent does not exist */
    sql("INSERT INTO commits VALUES(99, '2030-01-01T00:00:00Z', 'x', 'catalog', 'x', 'x', 0, 0, "
        "0, 0, '[]', 'x', 'x'); INSERT INTO teams VALUES('zz', 99, 'ZZ', 'nobody');");
    for (int i = 0; i < 3; i++) { /* the last good answers, not 500s */
        get_expect(server.port, "/api/v1/teams", 200, &r);
        ck_assert_ptr_null(strstr(r.body, "\"zz\""));
        th_response_free(&r);
    }
    /* repaired, then a new commit: taken up by the next request */
    sql("DELETE FROM teams WHERE id = 'zz'; DELETE FROM commits WHERE id = 99;");
    import_text(dir, "may.csv", "date,team,kpi,value\n2026-05,sales,revenue,85\n", NULL);
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/series", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"period\":\"2026-05\",\"date\":\"2026-05-31\","
                                         "\"value\":85,"));
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
    tcase_add_test(tc, test_known_at_of_one_team_loads_its_subtree_only);
    tcase_add_test(tc, test_take_up_answers_like_a_fresh_server);
    tcase_add_test(tc, test_failed_take_up_keeps_the_last_good_snapshot);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
