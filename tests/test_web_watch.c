/* The watch of the data directory (web/watch.c): requests skip the store's
 * change check and the stat of DIR/tokens while nothing was written in DIR,
 * and an import or a token command is still seen by the next request. */
#include "test_web_helpers.h"
#include "web/access.h"
#include "web/web_int.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;
static struct test_server server;

static void setup(void)
{
    dir = ts_tempdir("web-watch");
}

static void teardown(void)
{
    if (server.srv != NULL)
        server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

static void write_in(const char *name)
{
    char *path = ts_path(dir, name);
    ts_write_file(path, "x\n", (size_t)-1);
    free(path);
}

/* End the settling time now, as if settle_ns had passed. */
static void settle_now(struct web_watch *w)
{
    pthread_mutex_lock(&w->lock);
    w->settle_ns = 0;
    w->settle_until = 0;
    pthread_mutex_unlock(&w->lock);
}

START_TEST(test_quiet_until_a_file_is_written_then_after_settling)
{
    struct web_watch w;
    web_watch_init(&w, dir);
    ck_assert_int_ge(w.fd, 0);
    _Atomic uint64_t seen = 0;
    uint64_t seq;
    ck_assert(!web_watch_quiet(&w, &seen, &seq)); /* never checked */
    ck_assert_uint_eq(seq, 2);
    web_watch_checked(&seen, seq);
    ck_assert(web_watch_quiet(&w, &seen, &seq));
    web_watch_sync(&w);
    ck_assert(web_watch_quiet(&w, &seen, &seq)); /* nothing written */

    write_in("kpi.db-wal");
    web_watch_drain(&w);
    ck_assert_uint_ge(w.events, 1);
    ck_assert(!web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq, 3); /* odd: settling, every request checks */
    web_watch_checked(&seen, seq);
    ck_assert_uint_eq(seen, 2); /* an odd sequence is never recorded */
    web_watch_sync(&w);         /* 2 s have not passed */
    ck_assert(!web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq, 3);

    settle_now(&w);
    web_watch_sync(&w);
    ck_assert(!web_watch_quiet(&w, &seen, &seq)); /* a new quiet value: check once more */
    ck_assert_uint_eq(seq, 4);
    web_watch_checked(&seen, seq);
    ck_assert(web_watch_quiet(&w, &seen, &seq));

    write_in("kpi.db"); /* with no settling time, the next round ends it */
    web_watch_drain(&w);
    ck_assert(!web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq, 5);
    web_watch_sync(&w);
    ck_assert(!web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq, 6);
    web_watch_destroy(&w);
}
END_TEST

START_TEST(test_files_that_are_not_data_leave_it_quiet)
{
    struct web_watch w;
    web_watch_init(&w, dir);
    _Atomic uint64_t seen = 0;
    uint64_t seq;
    web_watch_quiet(&w, &seen, &seq);
    web_watch_checked(&seen, seq);
    write_in("tokens.used");
    write_in("tokens.used.4242.tmp");
    write_in("tokens.lock");
    write_in(".upload-Ab12Cd");
    web_watch_drain(&w);
    ck_assert_uint_ge(w.events, 4); /* read, and left aside */
    ck_assert(web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq, 2);
    /* a new tokens file arrives as a rename: that is news */
    write_in("tokens.4242.tmp");
    web_watch_drain(&w);
    ck_assert(web_watch_quiet(&w, &seen, &seq));
    char *from = ts_path(dir, "tokens.4242.tmp"), *to = ts_path(dir, "tokens");
    ck_assert_int_eq(rename(from, to), 0);
    web_watch_drain(&w);
    ck_assert(!web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq, 3);
    free(from);
    free(to);
    web_watch_destroy(&w);
}
END_TEST

START_TEST(test_without_inotify_every_request_checks)
{
    char *missing = ts_path(dir, "missing");
    struct web_watch w;
    web_watch_init(&w, missing); /* inotify_add_watch fails: ENOENT */
    ck_assert_int_eq(w.fd, -1);
    _Atomic uint64_t seen = 0;
    uint64_t seq;
    for (int i = 0; i < 3; i++) {
        ck_assert(!web_watch_quiet(&w, &seen, &seq));
        web_watch_checked(&seen, seq);
        web_watch_drain(&w);
        web_watch_sync(&w);
    }
    ck_assert_uint_eq(seq, 1);
    web_watch_destroy(&w);
    free(missing);
}
END_TEST

START_TEST(test_a_removed_directory_makes_every_request_check)
{
    char *sub = ts_path(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    struct web_watch w;
    web_watch_init(&w, sub);
    _Atomic uint64_t seen = 0;
    uint64_t seq;
    web_watch_quiet(&w, &seen, &seq);
    web_watch_checked(&seen, seq);
    ck_assert_int_eq(rmdir(sub), 0);
    web_watch_drain(&w);
    ck_assert(w.broken);
    settle_now(&w);
    web_watch_sync(&w);
    ck_assert(!web_watch_quiet(&w, &seen, &seq));
    ck_assert_uint_eq(seq & 1, 1);
    web_watch_destroy(&w);
    free(sub);
}
END_TEST

/* Requests until the server's data and tokens checks are both quiet (a
 * request whose round follows the last event records it); false if 10
 * requests did not get there. */
static bool reach_quiet(const char *secret)
{
    struct web_server *srv = server.srv;
    char headers[128] = "";
    if (secret != NULL)
        snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", secret);
    for (int i = 0; i < 10; i++) {
        struct th_response r;
        th_request(server.port, "GET", "/api/v1/teams", headers, &r);
        ck_assert_int_eq(r.status, 200);
        th_response_free(&r);
        uint64_t seq;
        if (web_watch_quiet(&srv->watch, &srv->data_seen, &seq) &&
            web_watch_quiet(&srv->watch, &srv->access->tokens_seen, &seq))
            return true;
    }
    return false;
}

static uint64_t events(void)
{
    pthread_mutex_lock(&server.srv->watch.lock);
    uint64_t n = server.srv->watch.events;
    pthread_mutex_unlock(&server.srv->watch.lock);
    return n;
}

/* With no settling time, nothing but the events tells the server: an import
 * and a revocation are seen by the very next request, no sleep between. */
START_TEST(test_server_sees_an_import_and_a_revocation_through_the_watch)
{
    free(dir);
    dir = make_data("web-watch-server");
    server_start(&server, dir);
    ck_assert_int_ge(server.srv->watch.fd, 0);
    settle_now(&server.srv->watch);
    ck_assert(reach_quiet(NULL));

    const char *path = "/api/v1/teams/sales/kpis/revenue/series";
    struct th_response r;
    get_expect(server.port, path, 200, &r);
    ck_assert_ptr_null(strstr(r.body, "\"value\":123.5"));
    th_response_free(&r);
    ck_assert(reach_quiet(NULL));
    uint64_t before = events();
    import_text(dir, "may.csv", "date,team,kpi,value\n2026-05,sales,revenue,123.5\n", NULL);
    get_expect(server.port, path, 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"value\":123.5"));
    th_response_free(&r);
    ck_assert_uint_gt(events(), before);

    ck_assert(reach_quiet(NULL));
    char *data = ts_path(dir, "data");
    char secret[WEB_SECRET_MAX];
    struct web_token_spec spec = {.name = "temp", .role = WEB_ROLE_READ, .expires_day = INT64_MAX};
    struct kpi_error err = {0};
    ck_assert_int_eq(web_token_add(data, &spec, secret, &err), 0);
    th_get(server.port, "/api/v1/teams", &r);
    ck_assert_int_eq(r.status, 401); /* protected from the next request */
    th_response_free(&r);
    ck_assert(reach_quiet(secret));
    ck_assert_int_eq(web_token_revoke(data, "temp", &err), 0);
    th_get(server.port, "/api/v1/teams", &r);
    ck_assert_int_eq(r.status, 200); /* the last token gone: open again */
    th_response_free(&r);
    free(data);
}
END_TEST

static Suite *watch_suite(void)
{
    Suite *s = suite_create("web_watch");
    TCase *tc = tcase_create("watch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_quiet_until_a_file_is_written_then_after_settling);
    tcase_add_test(tc, test_files_that_are_not_data_leave_it_quiet);
    tcase_add_test(tc, test_without_inotify_every_request_checks);
    tcase_add_test(tc, test_a_removed_directory_makes_every_request_check);
    tcase_add_test(tc, test_server_sees_an_import_and_a_revocation_through_the_watch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(watch_suite());
}
