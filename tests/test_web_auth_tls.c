/* HTTPS (SPEC §9) with a self-signed certificate made at test time by
 * openssl, checked with curl: TLS 1.2 and 1.3 only, Strict-Transport-
 * Security on every answer; and the access log in the Combined Log Format,
 * with the token's name and never its secret. */
#include "test_web_helpers.h"

#include <stdio.h>
#include <sys/wait.h>

static char *dir;
static struct test_server server;

static void setup(void)
{
    dir = make_data("web-tls");
}

static void teardown(void)
{
    if (server.srv != NULL)
        server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

/* Run a shell command; its exit status, and its stdout into out (cap). */
static int run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

START_TEST(test_https_with_tls12_or_later_and_hsts)
{
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem "
             "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1",
             dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "openssl: %s", out);
    char *cert_path = ts_path(dir, "cert.pem"), *key_path = ts_path(dir, "key.pem");
    char *cert = ts_read_file(cert_path, NULL), *key = ts_read_file(key_path, NULL);
    struct web_options o;
    test_options(&o);
    o.tls_cert_pem = cert;
    o.tls_key_pem = key;
    server_start_with(&server, dir, &o);
    char url[64];
    ck_assert(strncmp(web_url(server.srv, url, sizeof url), "https://127.0.0.1:", 18) == 0);
    snprintf(cmd, sizeof cmd, "curl -sS -D - --cacert '%s' https://127.0.0.1:%u/healthz 2>&1",
             cert_path, server.port);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "curl: %s", out);
    ck_assert_msg(strncmp(out, "HTTP/1.1 200", 12) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "Strict-Transport-Security: max-age=31536000\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\n{\"status\":\"ok\"}"));
    /* an API answer, with keep-alive: two requests on one connection */
    snprintf(
        cmd, sizeof cmd,
        "curl -sS -o /dev/null -o /dev/null -w '%%{http_code} %%{num_connects}\\n' --cacert '%s' "
        "https://127.0.0.1:%u/api/v1/teams https://127.0.0.1:%u/api/v1/drift 2>&1",
        cert_path, server.port, server.port);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "curl: %s", out);
    ck_assert_str_eq(out, "200 1\n200 0\n");
    /* TLS 1.1 and below are refused */
    snprintf(cmd, sizeof cmd,
             "curl -sS -o /dev/null --tlsv1.0 --tls-max 1.1 --cacert '%s' "
             "https://127.0.0.1:%u/healthz 2>&1",
             cert_path, server.port);
    ck_assert_int_ne(run(cmd, out, sizeof out), 0);
    /* TLS 1.2 alone is accepted */
    snprintf(cmd, sizeof cmd,
             "curl -sS -o /dev/null -w '%%{http_code}' --tlsv1.2 --tls-max 1.2 --cacert '%s' "
             "https://127.0.0.1:%u/healthz 2>&1",
             cert_path, server.port);
    ck_assert_int_eq(run(cmd, out, sizeof out), 0);
    ck_assert_str_eq(out, "200");
    /* plain HTTP on the HTTPS port gets no answer */
    snprintf(cmd, sizeof cmd, "curl -sS -m 5 http://127.0.0.1:%u/healthz 2>&1", server.port);
    ck_assert_int_ne(run(cmd, out, sizeof out), 0);
    server_stop(&server);
    free(cert);
    free(key);
    free(cert_path);
    free(key_path);
}
END_TEST

START_TEST(test_access_log_names_the_token_never_the_secret)
{
    char *data = ts_path(dir, "data");
    const char *teams[1] = {"ops"};
    struct web_token_spec spec = {.name = "ops-reader",
                                  .role = WEB_ROLE_READ,
                                  .team_count = 1,
                                  .teams = teams,
                                  .expires_day = INT64_MAX};
    char secret[WEB_SECRET_MAX];
    struct kpi_error err = {0};
    ck_assert_int_eq(web_token_add(data, &spec, secret, &err), 0);
    char *log = ts_path(dir, "access.log");
    struct web_options o;
    test_options(&o);
    o.access_log = log;
    server_start_with(&server, dir, &o);
    char headers[160];
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nUser-Agent: a \"b\"\r\n",
             secret);
    struct th_response r;
    th_request(server.port, "GET", "/api/v1/teams?x=%22", headers, &r);
    ck_assert_int_eq(r.status, 200);
    th_response_free(&r);
    th_request(server.port, "GET", "/api/v1/teams/sales/drift", headers, &r);
    ck_assert_int_eq(r.status, 404);
    th_response_free(&r);
    th_request(server.port, "GET", "/api/v1/drift", "Authorization: Bearer kpi_nope\r\n", &r);
    ck_assert_int_eq(r.status, 401);
    th_response_free(&r);
    server_stop(&server); /* every line written */
    char *text = ts_read_file(log, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(strstr(text, secret));
    ck_assert_ptr_null(strstr(text, secret + 4));
    ck_assert_ptr_null(strstr(text, "kpi_nope"));
    /* 127.0.0.1 - ops-reader [05/Dec/2026:00:00:00 +0000] "GET ..." 200 - "-" "a \x22b\x22" */
    const char *expected[] = {
        "\"GET /api/v1/teams?x=%22 HTTP/1.1\" 200 - \"-\" \"a \\x22b\\x22\"\n",
        "\"GET /api/v1/teams/sales/drift HTTP/1.1\" 404 - \"-\" \"a \\x22b\\x22\"\n",
        "\"GET /api/v1/drift HTTP/1.1\" 401 - \"-\" \"-\"\n",
    };
    const char *users[] = {"ops-reader", "ops-reader", "-"};
    /* a line is written when its exchange completes: the order of the
     * three may differ from the order of the requests */
    bool seen[3] = {false, false, false};
    const char *line = text;
    for (size_t n = 0; n < 3; n++) {
        const char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        size_t i = 0;
        while (i < 3 &&
               !((size_t)(end + 1 - line) > strlen(expected[i]) &&
                 strncmp(end + 1 - strlen(expected[i]), expected[i], strlen(expected[i])) == 0))
            i++;
        ck_assert_msg(i < 3 && !seen[i], "%.*s", (int)(end - line), line);
        seen[i] = true;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "127.0.0.1 - %s [", users[i]);
        ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "%.*s", (int)(end - line), line);
        const char *when = line + strlen(prefix); /* dd/Mon/yyyy:hh:mm:ss +0000] */
        ck_assert_msg(when[2] == '/' && when[6] == '/' && when[11] == ':' &&
                          strncmp(when + 20, " +0000] ", 8) == 0,
                      "%.*s", (int)(end - line), line);
        line = end + 1;
    }
    ck_assert_str_eq(line, "");
    free(text);
    free(log);
    free(data);
}
END_TEST

static Suite *tls_suite(void)
{
    Suite *s = suite_create("web_auth_tls");
    TCase *tc = tcase_create("tls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_https_with_tls12_or_later_and_hsts);
    tcase_add_test(tc, test_access_log_names_the_token_never_the_secret);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(tls_suite());
}
