/* POST /api/v1/imports end to end (SPEC §9): the real `kpi serve`, its
 * importer, tokens made with `kpi token add`. 200 with the --json summary
 * and commit, 422 listing every bad row with line and column (nothing
 * written), 400, 413 before the body is read, 403 for catalogs with a
 * scoped token, a scoped token's rows of other teams refused. */
#include "test_web_helpers.h"

#include "support/web_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static char *dir, *data;
static struct wf_server server;
static char write_secret[WF_SECRET_MAX], scoped_secret[WF_SECRET_MAX], read_secret[WF_SECRET_MAX];

static void setup(void)
{
    dir = make_data("web-upload");
    data = ts_path(dir, "data");
    wf_token_add(data, "finance", "write", NULL, write_secret);
    wf_token_add(data, "ops-writer", "write", "ops", scoped_secret);
    wf_token_add(data, "reader", "read", NULL, read_secret);
    static const char *const args[] = {"--as-of", AS_OF, "--max-upload", "4000", NULL};
    wf_start(&server, data, args);
}

static void teardown(void)
{
    wf_stop(&server, SIGTERM);
    ts_rm_rf(dir);
    free(dir);
    free(data);
}

/* POST body to path with a token; the answer into r. */
static void post(const char *path, const char *secret, const char *body, struct th_response *r)
{
    wf_request(&server, "POST", path, secret, "text/csv", body, r);
}

static void get_as(const char *path, const char *secret, struct th_response *r)
{
    wf_request(&server, "GET", path, secret, NULL, NULL, r);
    ck_assert_int_eq(r->status, 200);
}

static void get_auth(const char *path, struct th_response *r)
{
    get_as(path, read_secret, r);
}

/* The --json summary of kpi import (its first keys: later keys belong to
 * the importer) followed by "commit" (tail: e.g. ",\"commit\":null}"). */
static void expect_summary_tail(const char *body, const char *head, const char *tail)
{
    ck_assert_msg(strncmp(body, head, strlen(head)) == 0, "%s", body);
    size_t len = strlen(body);
    ck_assert_msg(len > strlen(tail) && strcmp(body + len - strlen(tail), tail) == 0, "%s", body);
}

/* An upload that wrote no commit (a dry run). */
static void expect_summary(const char *body, const char *head)
{
    expect_summary_tail(body, head, ",\"commit\":null}");
}

/* The id of the newest commit as `kpi log` shows it, checking its source. */
static unsigned long last_commit(const char *source)
{
    struct ts_run r;
    const char *argv[] = {"--data", data, "log", "--limit", "1", "--format", "json", NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_msg(r.status == 0, "log: %s", r.err);
    const char *id = strstr(r.out, "\"id\":");
    ck_assert_msg(id != NULL, "%s", r.out);
    char want[128];
    snprintf(want, sizeof want, "\"source\":\"%s\"", source);
    ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
    unsigned long n = strtoul(id + 5, NULL, 10);
    ts_run_free(&r);
    return n;
}

START_TEST(test_upload_imports_like_kpi_import)
{
    /* a French Excel export: ';', decimal comma, cp1252 ("Opérations") */
    const char *csv = "date;\xe9quipe;indicateur;valeur\r\n"
                      "31/05/2026;Sales;revenue;1 234,5\r\n"
                      "30/06/2026;Op\xe9rations;delay;4,25\r\n";
    struct th_response r;
    post("/api/v1/imports?name=juin.csv", write_secret, csv, &r);
    ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
    /* "commit": the commit the upload wrote, as kpi log numbers it (the
     * fixture's directory was written by four imports: commits 1 to 4) */
    unsigned long commit = last_commit("juin.csv");
    ck_assert_uint_eq(commit, 5);
    expect_summary_tail(r.body,
                        "{\"file\":\"juin.csv\",\"rows\":2,\"new\":2,\"corrected\":0,"
                        "\"unchanged\":0,\"empty\":0,\"rejected\":0,\"series\":2,"
                        "\"new_teams\":0,\"new_indicators\":0,",
                        ",\"commit\":5}");
    th_response_free(&r);
    get_auth("/api/v1/teams/sales/kpis/revenue/series?from=2026-05&to=2026-05", &r);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"period\":\"2026-05\",\"date\":\"2026-05-31\","
                                         "\"value\":1234.5,"));
    th_response_free(&r);
    /* idempotent: the same upload again changes nothing */
    post("/api/v1/imports?name=juin.csv", write_secret, csv, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"new\":0,\"corrected\":0,\"unchanged\":2,"));
    expect_summary_tail(r.body, "{\"file\":\"juin.csv\",", ",\"commit\":null}");
    ck_assert_uint_eq(last_commit("juin.csv"), 5); /* no commit made */
    th_response_free(&r);
}
END_TEST

START_TEST(test_bad_rows_are_422_with_line_and_column_and_nothing_written)
{
    struct th_response r;
    get_as("/api/v1/teams", write_secret, &r); /* the token's last use is recorded now */
    th_response_free(&r);
    char *before = ts_tree_digest(data);
    post("/api/v1/imports", write_secret,
         "date,team,kpi,value\n2026-05,sales,revenue,12x\n2026-06,sales,revenue,70\n"
         "2026-13,sales,revenue,1\n",
         &r);
    ck_assert_int_eq(r.status, 422);
    /* the messages are kpi import's (their wording is ingest's) */
    const char *head = "{\"error\":{\"code\":\"bad_input\",\"message\":\"2 bad rows, nothing "
                       "imported\",\"errors\":[{\"line\":2,\"column\":4,\"message\":\"invalid "
                       "number \\\"12x\\\" in column \\\"value\\\"";
    ck_assert_msg(strncmp(r.body, head, strlen(head)) == 0, "%s", r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "\"},{\"line\":4,\"column\":1,\"message\":\"invalid "
                                         "date \\\"2026-13\\\" in column \\\"date\\\""));
    ck_assert_uint_eq(ts_count_lines_with(r.body, "\"line\":"), 1); /* one line of JSON */
    ck_assert(strcmp(r.body + strlen(r.body) - 5, "\"}]}}") == 0);
    th_response_free(&r);
    char *after = ts_tree_digest(data);
    ck_assert_str_eq(before, after);
    free(after);
    /* on_error=skip: the good row goes in, the summary comes with the errors */
    post("/api/v1/imports?on_error=skip", write_secret,
         "date,team,kpi,value\n2026-05,sales,revenue,12x\n2026-06,sales,revenue,70\n", &r);
    ck_assert_int_eq(r.status, 422);
    ck_assert_ptr_nonnull(strstr(r.body, "\"summary\":{\"file\":\"upload.csv\",\"rows\":2,"
                                         "\"new\":1,"));
    th_response_free(&r);
    free(before);
}
END_TEST

START_TEST(test_parameters_and_sizes)
{
    struct th_response r;
    post("/api/v1/imports?kind=budget", write_secret, "x\n", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"bad_request\",\"message\":\"invalid kind "
                             "\\\"budget\\\" (expected observations, targets, teams or "
                             "indicators)\"}}");
    th_response_free(&r);
    post("/api/v1/imports?rejects=/etc/passwd", write_secret, "x\n", &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"bad_request\",\"message\":\"unknown "
                             "parameter \\\"rejects\\\"\"}}");
    th_response_free(&r);
    post("/api/v1/imports?column=value", write_secret, "x\n", &r);
    ck_assert_int_eq(r.status, 400);
    th_response_free(&r);
    /* a header of only id,name needs kind (as kpi import says, exit 1) */
    post("/api/v1/imports", write_secret, "id,name\nx,y\n", &r);
    ck_assert_int_eq(r.status, 400);
    th_response_free(&r);
    /* every option as a parameter: team, kpi, column, decimal, delimiter, dry_run */
    char *before = ts_tree_digest(data);
    post("/api/v1/imports?team=sales&kpi=revenue&column=date=Mois&column=value=Montant&"
         "delimiter=%3B&decimal=%2C&dry_run=true&encoding=utf-8&strict=true",
         write_secret, "Mois;Montant\n2026-05;1,5\n", &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    expect_summary(r.body, "{\"file\":\"upload.csv\",\"rows\":1,\"new\":1,\"corrected\":0,"
                           "\"unchanged\":0,\"empty\":0,\"rejected\":0,\"series\":1,"
                           "\"new_teams\":0,\"new_indicators\":0,");
    ck_assert_ptr_nonnull(strstr(r.body, ",\"dry_run\":true,"));
    th_response_free(&r);
    char *after = ts_tree_digest(data);
    ck_assert_str_eq(before, after); /* a dry run writes nothing */
    free(before);
    free(after);
    /* over --max-upload 4000: refused from its Content-Length, before the body */
    int fd = th_connect(server.port);
    char headers[256];
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Length: 4001\r\n",
             write_secret);
    th_send_request(fd, "POST", "/api/v1/imports", headers);
    ck_assert(th_read_response(fd, false, &r));
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"too_large\",\"message\":\"the body is "
                             "larger than 4000 bytes (kpi serve --max-upload)\"}}");
    th_response_free(&r);
    close(fd);
}
END_TEST

START_TEST(test_scoped_write_token_writes_its_teams_only)
{
    struct th_response r;
    post("/api/v1/imports", scoped_secret,
         "date,team,kpi,value\n2026-05,ops,delay,6\n2026-05,sales,revenue,1\n"
         "2026-05,newteam,delay,1\n",
         &r);
    ck_assert_int_eq(r.status, 422);
    ck_assert_str_eq(r.body,
                     "{\"error\":{\"code\":\"bad_input\",\"message\":\"2 bad rows, nothing "
                     "imported\",\"errors\":[{\"line\":3,\"column\":null,\"message\":\"team "
                     "\\\"sales\\\" is outside this token's teams\"},{\"line\":4,\"column\":null,"
                     "\"message\":\"team \\\"newteam\\\" is outside this token's teams\"}]}}");
    th_response_free(&r);
    post("/api/v1/imports", scoped_secret, "date,team,kpi,value\n2026-05,ops,delay,6\n", &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    th_response_free(&r);
    /* rows giving one cell twice: an error naming both lines, or with
     * aggregate=true their sum (SPEC §4 --aggregate) */
    post("/api/v1/imports", scoped_secret,
         "date,team,kpi,value\n2026-06-15,ops,delay,6\n2026-06-30,ops,delay,7\n", &r);
    ck_assert_int_eq(r.status, 422);
    ck_assert_msg(strstr(r.body, "{\"line\":3,\"column\":4,\"message\":\"duplicate value for "
                                 "ops/delay 2026-06: 7 here, 6 on line 2;") != NULL,
                  "%s", r.body);
    th_response_free(&r);
    post("/api/v1/imports?aggregate=true", scoped_secret,
         "date,team,kpi,value\n2026-06-15,ops,delay,6\n2026-06-30,ops,delay,7\n", &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_msg(strstr(r.body, "\"rows\":2,\"new\":1,") != NULL, "%s", r.body);
    th_response_free(&r);
    /* a total row is skipped (SPEC §4), not a team outside the scope */
    post("/api/v1/imports", scoped_secret,
         "date,team,kpi,value\n2026-05,ops,delay,6\n2026-05,Total,delay,6\n", &r);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_msg(strstr(r.body, "\"total_rows_skipped\":1") != NULL, "%s", r.body);
    th_response_free(&r);
    post("/api/v1/imports?kind=teams", scoped_secret, "team,name,parent\nops2,Ops 2,ops\n", &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"forbidden\",\"message\":\"catalog uploads "
                             "(teams, indicators) need a write token without --team\"}}");
    th_response_free(&r);
    post("/api/v1/imports?kind=teams", write_secret, "team,name,parent\nops2,Ops 2,ops\n", &r);
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    post("/api/v1/imports", read_secret, "date,team,kpi,value\n", &r);
    ck_assert_int_eq(r.status, 403);
    th_response_free(&r);
}
END_TEST

static Suite *upload_suite(void)
{
    Suite *s = suite_create("web_auth_upload");
    TCase *tc = tcase_create("upload");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_upload_imports_like_kpi_import);
    tcase_add_test(tc, test_bad_rows_are_422_with_line_and_column_and_nothing_written);
    tcase_add_test(tc, test_parameters_and_sizes);
    tcase_add_test(tc, test_scoped_write_token_writes_its_teams_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(upload_suite());
}
