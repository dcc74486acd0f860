/* The dashboard in a real browser: headless Chromium loads / from a server
 * on the example data, runs app.js (virtual time waits for its fetches) and
 * dumps the DOM, which must hold a heat-map cell per team and family, the
 * alerts of /api/v1/alerts, and for the team named in the URL (#team=ID, what
 * a click on the tree sets) its indicators and chart. Passes with a message
 * when /usr/bin/chromium is not installed (Debian package chromium). */
#include "test_web_helpers.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHROMIUM "/usr/bin/chromium"
#define TIMEOUT "/usr/bin/timeout"

static char *dir;
static struct test_server server;

static void setup(void)
{
    dir = make_data("web-dashboard");
    server_start(&server, dir);
}

static void teardown(void)
{
    server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

/* The DOM of url after the page settled. Caller frees. */
static char *dump_dom(const char *url)
{
    char *profile = ts_path(dir, "chromium-profile");
    char *out_path = ts_path(dir, "dom.html");
    char profile_arg[4096];
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", profile);
    const char *argv[] = {TIMEOUT,
                          "120",
                          CHROMIUM,
                          "--headless",
                          "--no-sandbox",
                          "--disable-gpu",
                          "--no-first-run",
                          "--disable-background-networking",
                          "--disable-component-update",
                          "--disable-sync",
                          profile_arg,
                          "--window-size=1280,800",
                          "--virtual-time-budget=8000",
                          "--dump-dom",
                          url,
                          NULL};
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 0);
        dup2(out, 1);
        dup2(null_fd, 2);
        execv(TIMEOUT, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "chromium failed (status %d)",
                  status);
    char *dom = ts_read_file(out_path, NULL);
    ck_assert_ptr_nonnull(dom);
    free(out_path);
    free(profile);
    return dom;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(test_dashboard_renders_heatmap_alerts_and_team_detail)
{
    if (access(CHROMIUM, X_OK) != 0 || access(TIMEOUT, X_OK) != 0) {
        fputs("test_web_dashboard: " CHROMIUM " missing, browser test skipped\n", stderr);
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/#team=sales", server.port);
    char *dom = dump_dom(url);

    /* a heat-map cell per team and family */
    const char *teams[] = {"acme", "ops", "sales"};
    const char *families[] = {"financial", "human", "process", "customer"};
    for (size_t t = 0; t < 3; t++)
        for (size_t f = 0; f < 4; f++) {
            char cell[128];
            snprintf(cell, sizeof cell, "data-team=\"%s\" data-family=\"%s\"", teams[t],
                     families[f]);
            ck_assert_msg(count(dom, cell) == 1, "heat map: %zu cells %s", count(dom, cell), cell);
        }
    ck_assert_ptr_nonnull(strstr(dom, "id=\"tree\""));
    ck_assert_uint_eq(count(dom, "<button type=\"button\" data-team="), 3);

    /* the alert list shows every alert of the API */
    struct th_response r;
    get_expect(server.port, "/api/v1/alerts", 200, &r);
    size_t alerts = count(r.body, "{\"id\":\"");
    ck_assert_uint_gt(alerts, 0);
    ck_assert_uint_eq(count(dom, " data-id=\""), alerts);
    ck_assert_ptr_nonnull(strstr(dom, "data-id=\"ops/delay/off_track\""));
    th_response_free(&r);

    /* the selected team: its indicators and its chart */
    ck_assert_ptr_nonnull(strstr(dom, "<section id=\"team-detail\" class=\"panel\">"));
    ck_assert_ptr_nonnull(strstr(dom, "data-kpi=\"revenue\""));
    ck_assert_ptr_nonnull(strstr(dom, "data-kpi=\"headcount\""));
    ck_assert_ptr_nonnull(strstr(dom, "src=\"/api/v1/teams/sales/kpis/"));
    ck_assert_ptr_nonnull(strstr(dom, "graph.svg?width="));
    free(dom);
}
END_TEST

/* Browsers ask for /favicon.ico by themselves: it is the icon of
 * web/dashboard, served from memory. */
START_TEST(test_favicon_is_served)
{
    struct th_response r;
    get_expect(server.port, "/favicon.ico", 200, &r);
    char type[64];
    ck_assert_str_eq(th_header(&r, "Content-Type", type, sizeof type), "image/x-icon");
    size_t len;
    char *file = ts_read_file(KPI_SOURCE_DIR "/web/dashboard/favicon.ico", &len);
    ck_assert_uint_eq(r.body_len, len);
    ck_assert(memcmp(r.body, file, len) == 0);
    ck_assert(memcmp(r.body, "\0\0\1\0\1\0", 6) == 0); /* an ICO with one image */
    free(file);
    th_response_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("web_dashboard");
    TCase *tc = tcase_create("browser");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_dashboard_renders_heatmap_alerts_and_team_detail);
    tcase_add_test(tc, test_favicon_is_served);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
