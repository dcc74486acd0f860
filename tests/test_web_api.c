/* The HTTP API of SPEC §7 over real HTTP: every endpoint's status and
 * Content-Type, the same bytes as the CLI, ETags and 304, an import seen by
 * the next request, JSON errors, /metrics through promtool, the dashboard. */
#include "test_web_helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static char *dir;
static struct test_server server;

static void setup(void)
{
    dir = make_data("web-api");
    server_start(&server, dir);
}

static void teardown(void)
{
    server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

static void expect_content_type(const struct th_response *r, const char *path, const char *prefix)
{
    char value[128];
    ck_assert_msg(th_header(r, "Content-Type", value, sizeof value) != NULL, "%s: no Content-Type",
                  path);
    ck_assert_msg(strncmp(value, prefix, strlen(prefix)) == 0, "%s: Content-Type %s, expected %s",
                  path, value, prefix);
}

START_TEST(test_every_endpoint_answers_with_its_content_type)
{
    static const struct {
        const char *path;
        int status;
        const char *type;
    } cases[] = {
        {"/healthz", 200, "application/json"},
        {"/api/v1/teams", 200, "application/json"},
        {"/api/v1/indicators", 200, "application/json"},
        {"/api/v1/teams/sales/kpis/revenue/series", 200, "application/json"},
        {"/api/v1/teams/sales/trends", 200, "application/json"},
        {"/api/v1/teams/sales/trends?kpi=revenue", 200, "application/json"},
        {"/api/v1/teams/ops/drift", 200, "application/json"},
        {"/api/v1/drift", 200, "application/json"},
        {"/api/v1/alerts", 200, "application/json"},
        {"/api/v1/alerts?team=ops&severity=warning", 200, "application/json"},
        {"/metrics", 200, "text/plain; version=0.0.4"},
        {"/", 200, "text/html"},
        {"/app.css", 200, "text/css"},
        {"/app.js", 200, "text/javascript"},
        {"/nope", 404, "application/json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct th_response r;
        get_expect(server.port, cases[i].path, cases[i].status, &r);
        expect_content_type(&r, cases[i].path, cases[i].type);
        ck_assert_msg(r.body_len > 0, "%s: empty body", cases[i].path);
        th_response_free(&r);
    }
}
END_TEST

START_TEST(test_health_says_ok)
{
    struct th_response r;
    get_expect(server.port, "/healthz", 200, &r);
    ck_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    th_response_free(&r);
}
END_TEST

/* The body of GET path equals what `kpi --data DIR args... --format json`
 * prints (without its final newline). */
static void expect_same_as_cli(const char *path, const char *const *args)
{
    char *data = ts_path(dir, "data");
    const char *argv[16] = {"--data", data};
    size_t n = 2;
    for (; args[n - 2] != NULL; n++)
        argv[n] = args[n - 2];
    argv[n++] = "--format";
    argv[n++] = "json";
    argv[n] = NULL;
    struct ts_run run;
    ts_kpi(&run, NULL, argv);
    ck_assert_msg(run.status == 0, "kpi %s: %s", args[0], run.err);
    struct th_response r;
    get_expect(server.port, path, 200, &r);
    size_t len = strlen(run.out);
    ck_assert_msg(len > 0 && run.out[len - 1] == '\n', "kpi %s: no final newline", args[0]);
    run.out[len - 1] = '\0';
    ck_assert_msg(strcmp(run.out, r.body) == 0, "%s differs from kpi %s:\nHTTP %s\nCLI  %s", path,
                  args[0], r.body, run.out);
    th_response_free(&r);
    ts_run_free(&run);
    free(data);
}

START_TEST(test_cli_and_server_print_the_same_bytes)
{
    expect_same_as_cli("/api/v1/teams", (const char *[]){"teams", NULL});
    expect_same_as_cli("/api/v1/indicators", (const char *[]){"indicators", NULL});
    expect_same_as_cli("/api/v1/teams/sales/kpis/revenue/series",
                       (const char *[]){"series", "sales", "revenue", NULL});
    expect_same_as_cli("/api/v1/teams/sales/kpis/revenue/series?from=2026-02&to=2026-05",
                       (const char *[]){"series", "sales", "revenue", "--from", "2026-02", "--to",
                                        "2026-05", NULL});
    expect_same_as_cli("/api/v1/teams/sales/trends",
                       (const char *[]){"trend", "sales", "--as-of", AS_OF, NULL});
    expect_same_as_cli(
        "/api/v1/teams/sales/trends?kpi=revenue&window=3",
        (const char *[]){"trend", "sales", "revenue", "--as-of", AS_OF, "--window", "3", NULL});
    expect_same_as_cli("/api/v1/teams/ops/drift",
                       (const char *[]){"drift", "ops", "--as-of", AS_OF, NULL});
    expect_same_as_cli("/api/v1/drift?as_of=2026-03-31",
                       (const char *[]){"drift", "--as-of", "2026-03-31", NULL});
    expect_same_as_cli("/api/v1/alerts", (const char *[]){"alerts", "--as-of", AS_OF, NULL});
    expect_same_as_cli("/api/v1/alerts?team=ops&severity=warning&stale_after=1",
                       (const char *[]){"alerts", "--team", "ops", "--severity", "warning",
                                        "--stale-after", "1", "--as-of", AS_OF, NULL});
}
END_TEST

START_TEST(test_references_resolve_like_the_cli)
{
    /* Case-insensitive ids and display names, percent-encoded UTF-8. */
    struct th_response a, b;
    get_expect(server.port, "/api/v1/teams/ops/drift", 200, &a);
    get_expect(server.port, "/api/v1/teams/Op%C3%A9rations/drift", 200, &b);
    ck_assert_str_eq(a.body, b.body);
    th_response_free(&b);
    get_expect(server.port, "/api/v1/teams/OPS/drift", 200, &b);
    ck_assert_str_eq(a.body, b.body);
    th_response_free(&a);
    th_response_free(&b);
}
END_TEST

START_TEST(test_etag_is_stable_and_if_none_match_gives_304)
{
    const char *path = "/api/v1/drift";
    struct th_response a, b;
    get_expect(server.port, path, 200, &a);
    get_expect(server.port, path, 200, &b);
    char tag_a[64], tag_b[64], cache[64];
    ck_assert_ptr_nonnull(th_header(&a, "ETag", tag_a, sizeof tag_a));
    ck_assert_ptr_nonnull(th_header(&b, "ETag", tag_b, sizeof tag_b));
    ck_assert_str_eq(tag_a, tag_b);
    ck_assert_int_eq(tag_a[0], '"');
    ck_assert_ptr_nonnull(th_header(&a, "Cache-Control", cache, sizeof cache));
    ck_assert_str_eq(cache, "no-cache");
    th_response_free(&b);

    char forms[4][96];
    snprintf(forms[0], sizeof forms[0], "%s", tag_a);
    snprintf(forms[1], sizeof forms[1], "W/%s", tag_a);
    snprintf(forms[2], sizeof forms[2], "\"0000000000000000\", %s", tag_a);
    snprintf(forms[3], sizeof forms[3], "*");
    for (size_t i = 0; i < 4; i++) {
        char header[512], value[64];
        const char *inm = forms[i];
        snprintf(header, sizeof header, "If-None-Match: %s\r\n", inm);
        th_request(server.port, "GET", path, header, &b);
        ck_assert_msg(b.status == 304, "If-None-Match: %s gave %d", inm, b.status);
        ck_assert_uint_eq(b.body_len, 0);
        ck_assert_ptr_nonnull(th_header(&b, "ETag", value, sizeof value));
        ck_assert_str_eq(value, tag_a);
        th_response_free(&b);
    }
    th_request(server.port, "GET", path, "If-None-Match: \"0123456789abcdef\"\r\n", &b);
    ck_assert_int_eq(b.status, 200);
    ck_assert_str_eq(b.body, a.body);
    th_response_free(&b);

    /* Another question gets another tag. */
    get_expect(server.port, "/api/v1/drift?as_of=2026-02-28", 200, &b);
    ck_assert_ptr_nonnull(th_header(&b, "ETag", tag_b, sizeof tag_b));
    ck_assert_str_ne(tag_a, tag_b);
    th_response_free(&b);
    th_response_free(&a);
}
END_TEST

START_TEST(test_head_has_headers_without_body)
{
    struct th_response g, h;
    get_expect(server.port, "/api/v1/teams", 200, &g);
    th_request(server.port, "HEAD", "/api/v1/teams", NULL, &h);
    ck_assert_int_eq(h.status, 200);
    ck_assert_uint_eq(h.body_len, 0);
    char a[64], b[64];
    ck_assert_str_eq(th_header(&g, "ETag", a, sizeof a), th_header(&h, "ETag", b, sizeof b));
    th_response_free(&g);
    th_response_free(&h);
}
END_TEST

START_TEST(test_import_between_requests_changes_the_answer)
{
    const char *path = "/api/v1/teams/sales/kpis/revenue/series";
    struct th_response a, b;
    get_expect(server.port, path, 200, &a);
    ck_assert_ptr_null(strstr(a.body, "\"value\":123.5"));
    import_text(dir, "may.csv", "date,team,kpi,value\n2026-05,sales,revenue,123.5\n", NULL);
    get_expect(server.port, path, 200, &b);
    ck_assert_ptr_nonnull(strstr(b.body, "\"value\":123.5"));
    char tag_a[64], tag_b[64];
    th_header(&a, "ETag", tag_a, sizeof tag_a);
    th_header(&b, "ETag", tag_b, sizeof tag_b);
    ck_assert_str_ne(tag_a, tag_b);
    /* The old tag no longer matches. */
    char header[128];
    snprintf(header, sizeof header, "If-None-Match: %s\r\n", tag_a);
    th_response_free(&a);
    th_request(server.port, "GET", path, header, &a);
    ck_assert_int_eq(a.status, 200);
    /* A team created meanwhile is known at once. */
    th_response_free(&b);
    import_text(dir, "more-teams.csv", "team,name,parent\nrnd,R&D,acme\n", "teams");
    get_expect(server.port, "/api/v1/teams/rnd/drift", 200, &b);
    th_response_free(&a);
    th_response_free(&b);
}
END_TEST

/* Readers hammering one document while an import commits: every answer is
 * the whole old generation or the whole new one, with its own ETag. */
struct reader {
    const char *before; /* the body before the import */
    char before_tag[64];
    atomic_bool stop;
    size_t answers, bad;
    char bad_body[256];
};

#define SERIES_PATH "/api/v1/teams/sales/kpis/revenue/series"

static void *read_loop(void *arg)
{
    struct reader *rd = arg;
    int fd = th_connect(server.port); /* one keep-alive connection */
    while (!atomic_load(&rd->stop) || rd->answers < 20) {
        struct th_response r;
        th_send_request(fd, "GET", SERIES_PATH, NULL);
        if (!th_read_response(fd, false, &r)) {
            rd->bad++;
            break;
        }
        char tag[64] = "";
        th_header(&r, "ETag", tag, sizeof tag);
        bool old = strcmp(r.body, rd->before) == 0 && strcmp(tag, rd->before_tag) == 0;
        bool new = strstr(r.body, "\"value\":201") && strstr(r.body, "\"value\":202");
        if (r.status != 200 || (!old && !new)) {
            if (rd->bad++ == 0)
                snprintf(rd->bad_body, sizeof rd->bad_body, "%d %s", r.status, r.body);
        }
        rd->answers++;
        th_response_free(&r);
    }
    close(fd);
    return NULL;
}

START_TEST(test_answers_are_whole_generations_during_an_import)
{
    struct th_response before;
    get_expect(server.port, SERIES_PATH, 200, &before);
    struct reader rd[3];
    pthread_t threads[3];
    for (size_t i = 0; i < 3; i++) {
        memset(&rd[i], 0, sizeof rd[i]);
        rd[i].before = before.body;
        th_header(&before, "ETag", rd[i].before_tag, sizeof rd[i].before_tag);
        atomic_init(&rd[i].stop, false);
        ck_assert_int_eq(pthread_create(&threads[i], NULL, read_loop, &rd[i]), 0);
    }
    /* One file, two periods: no answer may show one without the other. */
    import_text(dir, "two.csv",
                "date,team,kpi,value\n2026-05,sales,revenue,201\n2026-06,sales,revenue,202\n",
                NULL);
    for (size_t i = 0; i < 3; i++)
        atomic_store(&rd[i].stop, true);
    for (size_t i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < 3; i++)
        ck_assert_msg(rd[i].bad == 0, "reader %zu: %zu bad answers of %zu, e.g. %s", i, rd[i].bad,
                      rd[i].answers, rd[i].bad_body);
    struct th_response after;
    get_expect(server.port, SERIES_PATH, 200, &after);
    ck_assert_ptr_nonnull(strstr(after.body, "\"value\":201"));
    ck_assert_ptr_nonnull(strstr(after.body, "\"value\":202"));
    th_response_free(&after);
    th_response_free(&before);
}
END_TEST

static void expect_error(const char *method, const char *path, int status, const char *code,
                         const char *needle)
{
    struct th_response r;
    th_request(server.port, method, path, NULL, &r);
    ck_assert_msg(r.status == status, "%s %s: %d, expected %d", method, path, r.status, status);
    expect_content_type(&r, path, "application/json");
    char expected[128];
    snprintf(expected, sizeof expected, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    ck_assert_msg(strncmp(r.body, expected, strlen(expected)) == 0, "%s: body %s", path, r.body);
    ck_assert_msg(strstr(r.body, needle) != NULL, "%s: \"%s\" not in %s", path, needle, r.body);
    ck_assert_msg(strcmp(r.body + r.body_len - 3, "\"}}") == 0, "%s: body %s", path, r.body);
    th_response_free(&r);
}

START_TEST(test_errors_are_json_with_the_right_status)
{
    expect_error("GET", "/api/v2/teams", 404, "not_found", "no such path");
    expect_error("GET", "/api/v1/teams/", 404, "not_found", "no such path");
    expect_error("GET", "/api/v1/teams/nobody/drift", 404, "not_found", "nobody");
    expect_error("GET", "/api/v1/teams/sales/kpis/nothing/series", 404, "not_found", "nothing");
    expect_error("GET", "/api/v1/teams/sales/trends?kpi=nothing", 404, "not_found", "nothing");
    expect_error("GET", "/api/v1/alerts?team=nobody", 404, "not_found", "nobody");
    expect_error("GET", "/api/v1/drift?as_of=yesterday", 400, "bad_request", "as_of");
    expect_error("GET", "/api/v1/drift?window=0", 400, "bad_request", "window");
    expect_error("GET", "/api/v1/drift?window=x1", 400, "bad_request", "window");
    expect_error("GET", "/api/v1/drift?stale_after=-1", 400, "bad_request", "stale_after");
    expect_error("GET", "/api/v1/alerts?severity=urgent", 400, "bad_request", "severity");
    expect_error("GET", "/api/v1/teams/sales/kpis/revenue/series?from=2026-13", 400, "bad_request",
                 "from");
    expect_error("GET", "/api/v1/teams/sales/kpis/revenue/series?to=soon", 400, "bad_request",
                 "to");
    expect_error("GET", "/api/v1/teams/sales/kpis/revenue/graph.svg?width=10", 400, "bad_request",
                 "width");
    expect_error("GET", "/api/v1/teams/sales/kpis/revenue/graph.png?height=5000", 400,
                 "bad_request", "height");
}
END_TEST

START_TEST(test_wrong_method_is_405_with_allow)
{
    const char *methods[] = {"POST", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < 4; i++) {
        expect_error(methods[i], "/api/v1/drift", 405, "method_not_allowed", "method");
        struct th_response r;
        th_request(server.port, methods[i], "/api/v1/teams", NULL, &r);
        char allow[64];
        ck_assert_ptr_nonnull(th_header(&r, "Allow", allow, sizeof allow));
        ck_assert_str_eq(allow, "GET, HEAD");
        th_response_free(&r);
    }
    /* An unknown path stays a 404 whatever the method. */
    expect_error("POST", "/api/v1/nothing", 404, "not_found", "no such path");
}
END_TEST

START_TEST(test_metrics_pass_promtool)
{
    struct th_response r;
    get_expect(server.port, "/metrics", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "# TYPE kpi_value gauge\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "# HELP kpi_gap_ratio "));
    ck_assert_ptr_nonnull(
        strstr(r.body, "\nkpi_value{team=\"sales\",kpi=\"revenue\",family=\"financial\"} 80\n"));
    ck_assert_ptr_nonnull(strstr(
        r.body, "\nkpi_gap_ratio{team=\"sales\",kpi=\"revenue\",family=\"financial\"} -0.296"));
    /* headcount has no target: a value but no target or gap sample */
    ck_assert_ptr_nonnull(
        strstr(r.body, "\nkpi_value{team=\"ops\",kpi=\"headcount\",family=\"human\"} 10\n"));
    ck_assert_ptr_null(strstr(r.body, "kpi_target{team=\"ops\",kpi=\"headcount\""));
    ck_assert_ptr_null(strstr(r.body, "kpi_gap_ratio{team=\"ops\",kpi=\"headcount\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\nkpi_team_drift{team=\"ops\"} 0.83333"));
    /* ops' own alerts: off_track (critical); diverging, will_miss, stale
     * (warnings); coverage (info) */
    ck_assert_ptr_nonnull(strstr(r.body, "\nkpi_alerts{team=\"ops\",severity=\"critical\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\nkpi_alerts{team=\"ops\",severity=\"warning\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(r.body, "\nkpi_alerts{team=\"ops\",severity=\"info\"} 1\n"));
    if (access("/usr/bin/promtool", X_OK) == 0) {
        char *file = ts_path(dir, "metrics.prom");
        ts_write_file(file, r.body, r.body_len);
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "/usr/bin/promtool check metrics < '%s' 2>&1", file);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        char out[4096] = "";
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        ck_assert_msg(status == 0, "promtool check metrics: %s", out);
        free(file);
    } else {
        fputs("test_metrics_pass_promtool: /usr/bin/promtool missing, format not linted\n", stderr);
    }
    th_response_free(&r);
}
END_TEST

START_TEST(test_dashboard_is_served_from_memory)
{
    struct th_response r;
    get_expect(server.port, "/", 200, &r);
    const char *ids[] = {"id=\"tree\"",        "id=\"heatmap\"", "id=\"alerts\"",
                         "id=\"team-detail\"", "app.js",         "app.css"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        ck_assert_msg(strstr(r.body, ids[i]) != NULL, "index.html lacks %s", ids[i]);
    th_response_free(&r);
    get_expect(server.port, "/app.js", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "/api/v1/alerts"));
    th_response_free(&r);
    get_expect(server.port, "/index.html/../app.js", 400, &r);
    th_response_free(&r);
}
END_TEST

START_TEST(test_graphs_are_svg_and_png)
{
    struct th_response r;
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/graph.svg", 200, &r);
    expect_content_type(&r, "graph.svg", "image/svg+xml");
    ck_assert_ptr_nonnull(strstr(r.body, "<svg"));
    char tag[64], again[64];
    th_header(&r, "ETag", tag, sizeof tag);
    th_response_free(&r);
    get_expect(server.port, "/api/v1/teams/sales/kpis/revenue/graph.svg", 200, &r);
    ck_assert_str_eq(th_header(&r, "ETag", again, sizeof again), tag);
    th_response_free(&r);
    get_expect(server.port,
               "/api/v1/teams/sales/kpis/revenue/graph.png?width=400&height=200&from=2026-02", 200,
               &r);
    expect_content_type(&r, "graph.png", "image/png");
    ck_assert_uint_gt(r.body_len, 8);
    ck_assert_int_eq(memcmp(r.body, "\x89PNG\r\n\x1a\n", 8), 0);
    th_response_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("web_api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_endpoint_answers_with_its_content_type);
    tcase_add_test(tc, test_health_says_ok);
    tcase_add_test(tc, test_cli_and_server_print_the_same_bytes);
    tcase_add_test(tc, test_references_resolve_like_the_cli);
    tcase_add_test(tc, test_etag_is_stable_and_if_none_match_gives_304);
    tcase_add_test(tc, test_head_has_headers_without_body);
    tcase_add_test(tc, test_import_between_requests_changes_the_answer);
    tcase_add_test(tc, test_answers_are_whole_generations_during_an_import);
    tcase_add_test(tc, test_errors_are_json_with_the_right_status);
    tcase_add_test(tc, test_wrong_method_is_405_with_allow);
    tcase_add_test(tc, test_metrics_pass_promtool);
    tcase_add_test(tc, test_dashboard_is_served_from_memory);
    tcase_add_test(tc, test_graphs_are_svg_and_png);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
