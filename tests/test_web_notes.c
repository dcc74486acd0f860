/* POST /api/v1/teams/{team}/kpis/{kpi}/notes end to end (SPEC §11, §9): the
 * real `kpi serve`, tokens made with `kpi token add`. 200 {"commit": N}
 * (null when nothing changed), the note in the series, trends and alerts
 * documents and as known at an earlier commit, 400, 401, 403, 404 (also for
 * a team outside a scoped token's teams), 405 and 413. */
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
    dir = make_data("web-notes");
    data = ts_path(dir, "data");
    wf_token_add(data, "finance", "write", NULL, write_secret);
    wf_token_add(data, "ops-writer", "write", "ops", scoped_secret);
    wf_token_add(data, "reader", "read", NULL, read_secret);
    static const char *const args[] = {"--as-of", AS_OF, NULL};
    wf_start(&server, data, args);
}

static void teardown(void)
{
    wf_stop(&server, SIGTERM);
    ts_rm_rf(dir);
    free(dir);
    free(data);
}

/* method path with body and a token (NULL: none); the answer into r. */
static void send_as(const char *method, const char *path, const char *secret, const char *body,
                    struct th_response *r)
{
    wf_request(&server, method, path, secret, "application/json", body, r);
}

static void expect(const char *method, const char *path, const char *secret, const char *body,
                   int status, const char *want)
{
    struct th_response r;
    send_as(method, path, secret, body, &r);
    ck_assert_msg(r.status == status, "%s %s: %d, expected %d: %s", method, path, r.status, status,
                  r.body);
    ck_assert_msg(strstr(r.body, want) != NULL, "%s %s: \"%s\" lacks \"%s\"", method, path, r.body,
                  want);
    th_response_free(&r);
}

static char *get_body(const char *path)
{
    struct th_response r;
    wf_request(&server, "GET", path, read_secret, NULL, NULL, &r);
    ck_assert_msg(r.status == 200, "GET %s: %d %s", path, r.status, r.body);
    char *body = strdup(r.body);
    th_response_free(&r);
    return body;
}

#define NOTES "/api/v1/teams/sales/kpis/revenue/notes"

/* make_data: 4 commits (teams, indicators, observations, targets). */
START_TEST(test_post_note_commits_and_documents_show_it)
{
    expect("POST", NOTES, write_secret,
           "{\"period\": \"2026-04\", \"text\": \"Lost the Lyon deal\"}", 200, "{\"commit\":5}");
    /* the same text again: nothing changed, no commit */
    expect("POST", NOTES, write_secret,
           "{\"period\": \"2026-04-30\", \"text\": \"Lost the Lyon deal\"}", 200,
           "{\"commit\":null}");
    /* a name reference, and a multi-line text */
    expect("POST", "/api/v1/teams/Sales/kpis/Revenue/notes", write_secret,
           "{\"period\": \"2026-03\", \"text\": \"Strike\\nplan in May\"}", 200, "{\"commit\":6}");
    char *s = get_body("/api/v1/teams/sales/kpis/revenue/series");
    ck_assert_msg(strstr(s, "{\"period\":\"2026-03\",\"date\":\"2026-03-31\",\"value\":90,"
                            "\"target\":109.0909090909091,\"rolled_up\":false,\"note\":"
                            "\"Strike\\nplan in May\"}") != NULL,
                  "%s", s);
    ck_assert_msg(strstr(s, "\"note\":\"Lost the Lyon deal\"}") != NULL, "%s", s);
    free(s);
    /* as the data stood after commit 5 */
    s = get_body("/api/v1/teams/sales/kpis/revenue/series?known_at=5");
    ck_assert_msg(strstr(s, "Strike") == NULL && strstr(s, "Lost the Lyon deal") != NULL, "%s", s);
    free(s);
    /* April: 80 against 100 + 3 x 50/11 = 113.636..., off track: its alert
     * and INDICATOR carry April's note */
    s = get_body("/api/v1/teams/sales/trends?kpi=revenue");
    ck_assert_msg(strstr(s, "\"period\":\"2026-04\"") != NULL &&
                      strstr(s, "\"note\":\"Lost the Lyon deal\"") != NULL,
                  "%s", s);
    free(s);
    s = get_body("/api/v1/alerts?team=sales");
    ck_assert_msg(strstr(s, "\"id\":\"sales/revenue/off_track\"") != NULL &&
                      strstr(s, "\"note\":\"Lost the Lyon deal\"") != NULL,
                  "%s", s);
    free(s);
    /* removed with an empty text (or null) */
    expect("POST", NOTES, write_secret, "{\"period\": \"2026-04\", \"text\": null}", 200,
           "{\"commit\":7}");
    s = get_body("/api/v1/teams/sales/kpis/revenue/history?period=2026-04");
    ck_assert_msg(strstr(s, "\"field\":\"note\",\"value\":\"Lost the Lyon deal\",\"commit\":5,"
                            "\"time\":") != NULL,
                  "%s", s);
    ck_assert_msg(strstr(s, "\"field\":\"note\",\"value\":null,\"commit\":7,") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"author\":\"finance\"") != NULL, "%s", s);
    free(s);
}
END_TEST

START_TEST(test_post_note_refusals)
{
    const char *ok = "{\"period\": \"2026-04\", \"text\": \"x\"}";
    expect("POST", NOTES, NULL, ok, 401, "\"code\":\"unauthorized\"");
    expect("POST", NOTES, read_secret, ok, 403, "\"code\":\"forbidden\"");
    /* a scoped token: its team is written, another is unknown to it */
    expect("POST", "/api/v1/teams/ops/kpis/delay/notes", scoped_secret, ok, 200, "{\"commit\":5}");
    expect("POST", NOTES, scoped_secret, ok, 404, "unknown team \\\"sales\\\"");
    expect("POST", "/api/v1/teams/nobody/kpis/revenue/notes", write_secret, ok, 404,
           "unknown team \\\"nobody\\\"");
    expect("POST", "/api/v1/teams/sales/kpis/margin/notes", write_secret, ok, 404,
           "unknown indicator \\\"margin\\\"");
    expect("POST", NOTES, write_secret, "{\"period\": \"2026-13\", \"text\": \"x\"}", 400,
           "invalid \\\"period\\\"");
    expect("POST", NOTES, write_secret, "{\"text\": \"x\"}", 400, "\\\"period\\\" must be");
    expect("POST", NOTES, write_secret, "{\"period\": \"2026-04\"}", 400,
           "\\\"text\\\" is missing");
    expect("POST", NOTES, write_secret, "period=2026-04", 400, "must be a JSON object");
    expect("POST", NOTES, write_secret, "{\"period\": \"2026-04\", \"text\": \"a\\u0007b\"}", 400,
           "control character 0x07 at byte 2");
    /* cJSON would end the text at the NUL: refused, not cut */
    expect("POST", NOTES, write_secret, "{\"period\": \"2026-04\", \"text\": \"Str\\u0000ike\"}",
           400, "a NUL character (\\\\u0000): a note allows no control character");
    expect("GET", NOTES, write_secret, "", 405, "\"code\":\"method_not_allowed\"");
    /* 2,001 bytes of text: 400; a body over 16 KiB: 413 */
    char *body = malloc(20000);
    ck_assert_ptr_nonnull(body);
    int n = snprintf(body, 20000, "{\"period\": \"2026-04\", \"text\": \"");
    memset(body + n, 'x', 2001);
    strcpy(body + n + 2001, "\"}");
    expect("POST", NOTES, write_secret, body, 400, "note of 2001 bytes");
    memset(body + n, 'x', 17000);
    strcpy(body + n + 17000, "\"}");
    expect("POST", NOTES, write_secret, body, 413, "\"code\":\"too_large\"");
    free(body);
    /* nothing of the refused notes was written: commit 5 was the last */
    char *s = get_body("/api/v1/commits?limit=1");
    ck_assert_msg(strstr(s, "\"id\":5,") != NULL && strstr(s, "\"kind\":\"note\"") != NULL &&
                      strstr(s, "\"author\":\"ops-writer\"") != NULL,
                  "%s", s);
    free(s);
}
END_TEST

/* The answers of the POST prologue, byte for byte: 405 with Allow: POST,
 * 413 announced by Content-Length (before the body), and 413 for a chunked
 * body that grows past 16 KiB (read to its end, then answered). */
START_TEST(test_post_note_prologue_answers)
{
    struct th_response r;
    send_as("PUT", NOTES, write_secret, "{}", &r);
    ck_assert_int_eq(r.status, 405);
    char allow[32];
    ck_assert_str_eq(th_header(&r, "Allow", allow, sizeof allow), "POST");
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"method not "
                             "allowed\"}}");
    th_response_free(&r);
    static const char too_large[] = "{\"error\":{\"code\":\"too_large\",\"message\":\"the body "
                                    "of a note is larger than 16384 bytes\"}}";
    char headers[256];
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Length: 16385\r\n",
             write_secret);
    int fd = th_connect(server.port);
    th_send_request(fd, "POST", NOTES, headers);
    ck_assert(th_read_response(fd, false, &r));
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.body, too_large);
    th_response_free(&r);
    close(fd);
    /* chunked: 17 chunks of 1,000 bytes */
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n",
             write_secret);
    fd = th_connect(server.port);
    th_send_request(fd, "POST", NOTES, headers);
    char chunk[1000 + 16];
    int n = snprintf(chunk, sizeof chunk, "3e8\r\n");
    memset(chunk + n, ' ', 1000);
    memcpy(chunk + n + 1000, "\r\n", 2);
    for (int i = 0; i < 17; i++)
        th_send(fd, chunk, (size_t)n + 1002);
    th_send(fd, "0\r\n\r\n", 5);
    ck_assert(th_read_response(fd, false, &r));
    ck_assert_int_eq(r.status, 413);
    ck_assert_str_eq(r.body, too_large);
    th_response_free(&r);
    close(fd);
}
END_TEST

/* An import holds the writer lock (here a transaction begun through the
 * store API, as `kpi import` begins one): the note waits for it at most
 * 2 s, then 503 busy with Retry-After: 5, nothing written and reads still
 * answered; once the lock is free the same POST commits. */
START_TEST(test_post_note_behind_a_held_writer_lock_is_503)
{
    struct kpi_error err = {0};
    struct store *st = NULL;
    struct store_txn *txn = NULL;
    ck_assert_int_eq(store_open(data, NULL, &st, &err), 0);
    ck_assert_msg(store_txn_begin(st, &txn, &err) == 0, "%s", err.message);
    const char *note = "{\"period\": \"2026-04\", \"text\": \"Lost the Lyon deal\"}";
    struct th_response r;
    send_as("POST", NOTES, write_secret, note, &r);
    ck_assert_msg(r.status == 503, "%d %s", r.status, r.body);
    char retry[16];
    ck_assert_str_eq(th_header(&r, "Retry-After", retry, sizeof retry), "5");
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"busy\",\"message\":\"an import is writing "
                             "the data directory; retry in a few seconds\"}}");
    th_response_free(&r);
    char *s = get_body("/api/v1/commits?limit=1");
    ck_assert_msg(strstr(s, "\"id\":4,") != NULL, "%s", s);
    free(s);
    store_txn_abort(txn);
    store_close(st);
    expect("POST", NOTES, write_secret, note, 200, "{\"commit\":5}");
}
END_TEST

/* The review page over HTTP: the note with its alert and on its chart, and
 * as known at the commit before the note (known_at=). */
START_TEST(test_review_shows_notes_as_known_at)
{
    expect("POST", NOTES, write_secret,
           "{\"period\": \"2026-04\", \"text\": \"Lost the Lyon deal\"}", 200, "{\"commit\":5}");
    char *s = get_body("/api/v1/review.html?team=sales");
    ck_assert_msg(strstr(s, "<div class=\"note\">Note 2026-04: Lost the Lyon deal</div>") != NULL,
                  "no note with the alert");
    ck_assert_msg(strstr(s, "<p class=\"note\">Note 2026-04: Lost the Lyon deal</p>") != NULL,
                  "no note with the indicator");
    ck_assert_msg(strstr(s, "notes: [1] 2026-04: Lost the Lyon deal") != NULL,
                  "no note on the chart");
    free(s);
    s = get_body("/api/v1/review.html?team=sales&known_at=4");
    ck_assert_msg(strstr(s, "Lost the Lyon deal") == NULL, "a note of commit 5 at commit 4");
    ck_assert_msg(strstr(s, "Alerts by severity") != NULL, "not a review");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("web_notes");
    TCase *tc = tcase_create("notes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_post_note_commits_and_documents_show_it);
    tcase_add_test(tc, test_post_note_refusals);
    tcase_add_test(tc, test_post_note_prologue_answers);
    tcase_add_test(tc, test_post_note_behind_a_held_writer_lock_is_503);
    tcase_add_test(tc, test_review_shows_notes_as_known_at);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
