/* Tokens, roles and scopes of SPEC §9 over real HTTP: 401/403/429, the
 * public routes, revocation and new tokens seen at the next request, and a
 * walk of every route of the route table with a scoped token. */
#include "test_web_helpers.h"
#include "web/web_int.h"

#include <stdio.h>
#include <time.h>

static char *dir;
static struct test_server server;

static void setup(void)
{
    dir = make_data("web-auth");
}

static void teardown(void)
{
    if (server.srv != NULL)
        server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

/* A token of dir/data; secret into out (WEB_SECRET_MAX bytes). */
static void add_token(const char *base, const char *name, enum web_role role, const char *team,
                      int64_t expires_day, char *out)
{
    char *data = ts_path(base, "data");
    const char *teams[1] = {team};
    struct web_token_spec spec = {.name = name,
                                  .role = role,
                                  .team_count = team ? 1 : 0,
                                  .teams = teams,
                                  .expires_day = expires_day};
    struct kpi_error err = {0};
    ck_assert_msg(web_token_add(data, &spec, out, &err) == 0, "add: %s", err.message);
    free(data);
}

static void get_with(const char *path, const char *secret, struct th_response *r)
{
    char headers[128] = "";
    if (secret != NULL)
        snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", secret);
    th_request(server.port, "GET", path, headers, r);
}

static void expect(const char *path, const char *secret, int status, const char *body)
{
    struct th_response r;
    get_with(path, secret, &r);
    ck_assert_msg(r.status == status, "GET %s: %d, expected %d: %s", path, r.status, status,
                  r.body);
    if (body != NULL)
        ck_assert_str_eq(r.body, body);
    th_response_free(&r);
}

START_TEST(test_no_token_stays_open_read_only)
{
    server_start(&server, dir);
    expect("/api/v1/teams", NULL, 200, NULL);
    struct th_response r;
    th_request(server.port, "POST", "/api/v1/imports", "Content-Length: 0\r\n", &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"forbidden\",\"message\":\"writes need a "
                             "write token, and this data directory has none (kpi token add)\"}}");
    th_response_free(&r);
}
END_TEST

START_TEST(test_missing_or_wrong_token_is_401_with_the_challenge)
{
    char secret[WEB_SECRET_MAX];
    add_token(dir, "reader", WEB_ROLE_READ, NULL, INT64_MAX, secret);
    server_start(&server, dir);
    struct th_response r;
    get_with("/api/v1/drift", NULL, &r);
    ck_assert_int_eq(r.status, 401);
    char v[64];
    ck_assert_str_eq(th_header(&r, "WWW-Authenticate", v, sizeof v), "Bearer realm=\"kpi\"");
    ck_assert_str_eq(r.body, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"this server "
                             "needs a token (Authorization: Bearer TOKEN)\"}}");
    th_response_free(&r);
    const char *bad = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"invalid, expired or "
                      "revoked token\"}}";
    expect("/api/v1/drift", "kpi_notatokenatallnotatokenatallnotatoken", 401, bad);
    expect("/nope", NULL, 401, NULL); /* no path probing without a token */
    /* a secret that differs in its last character */
    char wrong[WEB_SECRET_MAX];
    memcpy(wrong, secret, sizeof wrong);
    wrong[WEB_SECRET_CHARS + 3] = wrong[WEB_SECRET_CHARS + 3] == 'a' ? 'b' : 'a';
    expect("/api/v1/drift", wrong, 401, bad);
    /* public: health and the dashboard's files */
    expect("/healthz", NULL, 200, "{\"status\":\"ok\"}");
    expect("/", NULL, 200, NULL);
    expect("/app.js", NULL, 200, NULL);
    expect("/api/v1/drift", secret, 200, NULL);
    expect("/nope", secret, 404, NULL);
}
END_TEST

START_TEST(test_read_token_cannot_post)
{
    char secret[WEB_SECRET_MAX];
    add_token(dir, "reader", WEB_ROLE_READ, NULL, INT64_MAX, secret);
    server_start(&server, dir);
    char headers[160];
    snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\nContent-Length: 0\r\n", secret);
    struct th_response r;
    th_request(server.port, "POST", "/api/v1/imports", headers, &r);
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.body,
                     "{\"error\":{\"code\":\"forbidden\",\"message\":\"token \\\"reader\\\" "
                     "may only read\"}}");
    th_response_free(&r);
}
END_TEST

START_TEST(test_expired_token_is_refused)
{
    char old[WEB_SECRET_MAX], fresh[WEB_SECRET_MAX];
    add_token(dir, "old", WEB_ROLE_READ, NULL, kpi_today() - 1, old);
    add_token(dir, "fresh", WEB_ROLE_READ, NULL, kpi_today(), fresh); /* valid all of today */
    server_start(&server, dir);
    expect("/api/v1/teams", old, 401, NULL);
    expect("/api/v1/teams", fresh, 200, NULL);
}
END_TEST

START_TEST(test_revocation_and_new_tokens_apply_at_the_next_request)
{
    server_start(&server, dir);
    expect("/api/v1/teams", NULL, 200, NULL); /* open */
    char secret[WEB_SECRET_MAX], other[WEB_SECRET_MAX];
    add_token(dir, "temp", WEB_ROLE_READ, NULL, INT64_MAX, secret);
    expect("/api/v1/teams", NULL, 401, NULL); /* protected from the next request */
    expect("/api/v1/teams", secret, 200, NULL);
    add_token(dir, "other", WEB_ROLE_READ, NULL, INT64_MAX, other);
    char *data = ts_path(dir, "data");
    struct kpi_error err = {0};
    ck_assert_int_eq(web_token_revoke(data, "temp", &err), 0);
    expect("/api/v1/teams", secret, 401, NULL);
    expect("/api/v1/teams", other, 200, NULL);
    /* the last token revoked: open again, read-only (SPEC §9) */
    ck_assert_int_eq(web_token_revoke(data, "other", &err), 0);
    expect("/api/v1/teams", NULL, 200, NULL);
    free(data);
}
END_TEST

START_TEST(test_twenty_failures_block_the_address_for_a_minute)
{
    char secret[WEB_SECRET_MAX];
    add_token(dir, "reader", WEB_ROLE_READ, NULL, INT64_MAX, secret);
    server_start(&server, dir);
    /* a missing header is not a failed authentication */
    for (int i = 0; i < 30; i++)
        expect("/api/v1/teams", NULL, 401, NULL);
    for (int i = 0; i < 20; i++)
        expect("/api/v1/teams", "kpi_wrong", 401, NULL);
    struct th_response r;
    get_with("/api/v1/teams", secret, &r); /* even a good token: the address is blocked */
    ck_assert_int_eq(r.status, 429);
    char v[16];
    ck_assert_ptr_nonnull(th_header(&r, "Retry-After", v, sizeof v));
    int left = atoi(v);
    ck_assert_msg(left >= 58 && left <= 60, "Retry-After %d", left);
    th_response_free(&r);
    expect("/healthz", NULL, 200, NULL); /* health still answers */
}
END_TEST

START_TEST(test_bearer_parsing)
{
    const char *t;
    size_t n;
    ck_assert(web_auth_bearer("Bearer abc", &t, &n) && n == 3 && strncmp(t, "abc", 3) == 0);
    ck_assert(web_auth_bearer("bearer   abc  ", &t, &n) && n == 3);
    ck_assert(!web_auth_bearer("Basic abc", &t, &n));
    ck_assert(!web_auth_bearer("Bearer", &t, &n));
    ck_assert(!web_auth_bearer("Bearer ", &t, &n));
    ck_assert(!web_auth_bearer("Bearerabc", &t, &n));
    ck_assert(!web_auth_bearer("Bearer a b", &t, &n));
    ck_assert(!web_auth_bearer(NULL, &t, &n));
}
END_TEST

/* ------------------------------------------------------ the route walk */

/* The example without the team "sales" (and its rows): a world where the
 * out-of-scope team does not exist. */
static char *make_data_without_sales(void)
{
    char *d = ts_tempdir("web-auth-nosales");
    import_text(d, "teams.csv", "team,name,parent\nacme,Acme Corp,\nops,Opérations,acme\n",
                "teams");
    import_text(d, "indicators.csv", indicators_csv, "indicators");
    import_text(d, "observations.csv",
                "date,team,kpi,value\n2026-01,ops,delay,3\n2026-02,ops,delay,3.5\n"
                "2026-03,ops,delay,4\n2026-04,ops,delay,5\n2026-01,ops,headcount,10\n",
                NULL);
    import_text(d, "targets.csv",
                "date,team,kpi,target\n2026-01,ops,delay,3\n2026-12,ops,delay,2\n", NULL);
    return d;
}

/* The path of a route with {team} and {kpi} filled in, and a query. */
static void fill(const char *pattern, const char *team, const char *kpi, char *out, size_t cap)
{
    size_t used = 0;
    for (const char *p = pattern; *p && used + 1 < cap;) {
        if (strncmp(p, "{team}", 6) == 0) {
            used += (size_t)snprintf(out + used, cap - used, "%s", team);
            p += 6;
        } else if (strncmp(p, "{kpi}", 5) == 0) {
            used += (size_t)snprintf(out + used, cap - used, "%s", kpi);
            p += 5;
        } else {
            out[used++] = *p++;
        }
    }
    out[used] = '\0';
}

static bool contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

static void expect_no_outsider(const char *path, const struct th_response *r)
{
    static const char *const outsiders[] = {"\"sales\"",      "\"acme\"",      "Acme",  "Sales",
                                            "team=\"sales\"", "team=\"acme\"", "sales/"};
    for (size_t i = 0; i < sizeof outsiders / sizeof *outsiders; i++)
        ck_assert_msg(!contains(r->body, r->body_len, outsiders[i]), "%s shows %s: %.300s", path,
                      outsiders[i], r->body);
}

/* cairo numbers its SVG surfaces with a process-wide counter ("surface8"),
 * so a chart's bytes depend on how many charts the process drew before:
 * compare charts with those numbers taken out. */
static size_t normalized(const struct th_response *r, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->body_len; i++) {
        out[n++] = r->body[i];
        if (i >= 6 && memcmp(r->body + i - 6, "surface", 7) == 0)
            while (i + 1 < r->body_len && r->body[i + 1] >= '0' && r->body[i + 1] <= '9')
                i++;
    }
    return n;
}

static void expect_same(const char *path, const struct th_response *a, const struct th_response *b)
{
    ck_assert_msg(a->status == b->status, "%s: %d vs %d", path, a->status, b->status);
    char x[128], y[128];
    bool svg = th_header(a, "Content-Type", x, sizeof x) && strcmp(x, "image/svg+xml") == 0;
    char *na = malloc(a->body_len + 1), *nb = malloc(b->body_len + 1);
    size_t la = svg ? normalized(a, na) : a->body_len, lb = svg ? normalized(b, nb) : b->body_len;
    if (!svg) {
        memcpy(na, a->body, la);
        memcpy(nb, b->body, lb);
    }
    ck_assert_msg(la == lb && memcmp(na, nb, la) == 0, "%s differs:\n%.400s\n%.400s", path, a->body,
                  b->body);
    free(na);
    free(nb);
    const char *names[] = {"Content-Type", "WWW-Authenticate", "ETag"};
    for (size_t i = 0; i < (svg ? 2u : 3u); i++) {
        const char *hx = th_header(a, names[i], x, sizeof x),
                   *hy = th_header(b, names[i], y, sizeof y);
        ck_assert_msg((hx == NULL) == (hy == NULL) && (hx == NULL || strcmp(hx, hy) == 0),
                      "%s: header %s differs", path, names[i]);
    }
}

START_TEST(test_scoped_token_walks_every_route_and_sees_only_its_teams)
{
    /* Server A has the out-of-scope team "sales"; server B never had it.
     * With a token scoped to "ops", every route answers the same bytes on
     * both: nothing tells the token that "sales" exists. */
    char *other = make_data_without_sales();
    char sa[WEB_SECRET_MAX], sb[WEB_SECRET_MAX];
    add_token(dir, "ops-only", WEB_ROLE_READ, "ops", INT64_MAX, sa);
    add_token(other, "ops-only", WEB_ROLE_READ, "ops", INT64_MAX, sb);
    struct test_server b;
    server_start(&server, dir);
    server_start(&b, other);
    static const char *const queries[] = {"", "?team=sales", "?team=ops", "?kpi=revenue",
                                          "?team=acme"};
    static const char *const teams[] = {"sales", "acme", "ops", "no-such-team"};
    static const char *const kpis[] = {"revenue", "delay"};
    size_t walked = 0;
    for (size_t i = 0; i < web_route_count; i++) {
        const struct web_route *rt = &web_routes[i];
        if (strcmp(rt->method, "GET") != 0)
            continue;
        bool has_team = strstr(rt->pattern, "{team}") != NULL;
        for (size_t t = 0; t < (has_team ? 4u : 1u); t++)
            for (size_t k = 0; k < 2; k++)
                for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
                    char path[512], full[600];
                    fill(rt->pattern, teams[t], kpis[k], path, sizeof path);
                    snprintf(full, sizeof full, "%s%s", path, queries[q]);
                    struct th_response ra, rb;
                    char h[128];
                    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", sa);
                    th_request(server.port, "GET", full, h, &ra);
                    snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", sb);
                    th_request(b.port, "GET", full, h, &rb);
                    expect_no_outsider(full, &ra);
                    expect_same(full, &ra, &rb);
                    /* the history routes answer unscoped tokens only */
                    if (strcmp(teams[t], "ops") == 0 && strcmp(kpis[k], "delay") == 0 &&
                        queries[q][0] == '\0' && strstr(rt->pattern, "/history") == NULL)
                        ck_assert_msg(ra.status == 200, "%s: %d", full, ra.status);
                    th_response_free(&ra);
                    th_response_free(&rb);
                    walked++;
                }
    }
    ck_assert_uint_ge(walked, 200);
    /* and the scoped list itself: ops alone, its parent hidden */
    expect(
        "/api/v1/teams", sa, 200,
        "{\"teams\":[{\"id\":\"ops\",\"name\":\"Opérations\",\"parent\":null,\"children\":[]}]}");
    /* an unscoped token still sees everything, from the same cache */
    char all[WEB_SECRET_MAX];
    add_token(dir, "all", WEB_ROLE_READ, NULL, INT64_MAX, all);
    struct th_response r;
    get_with("/api/v1/teams", all, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"sales\""));
    th_response_free(&r);
    server_stop(&b);
    ts_rm_rf(other);
    free(other);
}
END_TEST

START_TEST(test_scoped_roll_ups_use_every_child)
{
    /* a token scoped to acme sees acme's revenue rolled up from sales,
     * exactly as an unscoped token does */
    char scoped[WEB_SECRET_MAX], all[WEB_SECRET_MAX];
    add_token(dir, "acme", WEB_ROLE_READ, "acme", INT64_MAX, scoped);
    add_token(dir, "all", WEB_ROLE_READ, NULL, INT64_MAX, all);
    server_start(&server, dir);
    const char *path = "/api/v1/teams/acme/kpis/revenue/series";
    struct th_response a, b;
    get_with(path, scoped, &a);
    get_with(path, all, &b);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, b.body);
    ck_assert_ptr_nonnull(strstr(a.body, "{\"period\":\"2026-04\",\"date\":\"2026-04-30\","
                                         "\"value\":80,"));
    th_response_free(&a);
    th_response_free(&b);
}
END_TEST

/* GET /api/v1/whoami (the dashboard's first request): without a header it
 * says only whether a token is needed, with one who the token is; a wrong
 * or revoked token is a 401 and counts as a failed authentication. */
START_TEST(test_whoami_says_who_the_token_is_and_nothing_more)
{
    server_start(&server, dir);
    const char *open = "{\"tokens\":false,\"name\":null,\"role\":\"read\",\"teams\":[],"
                       "\"expires\":null}";
    expect("/api/v1/whoami", NULL, 200, open);
    char writer[WEB_SECRET_MAX], scoped[WEB_SECRET_MAX];
    add_token(dir, "finance", WEB_ROLE_WRITE, NULL, INT64_MAX, writer);
    int64_t day;
    ck_assert_int_eq(kpi_date_parse("2099-12-31", NULL, &day, NULL), 0);
    add_token(dir, "ops-lead", WEB_ROLE_READ, "ops", day, scoped);
    expect("/api/v1/whoami", NULL, 200,
           "{\"tokens\":true,\"name\":null,\"role\":null,\"teams\":[],\"expires\":null}");
    expect("/api/v1/whoami", writer, 200,
           "{\"tokens\":true,\"name\":\"finance\",\"role\":\"write\",\"teams\":[],"
           "\"expires\":null}");
    expect("/api/v1/whoami", scoped, 200,
           "{\"tokens\":true,\"name\":\"ops-lead\",\"role\":\"read\",\"teams\":[\"ops\"],"
           "\"expires\":\"2099-12-31\"}");
    /* an anonymous whoami is not a failure; a wrong token is */
    for (int i = 0; i < WEB_AUTH_FAILURES + 5; i++)
        expect("/api/v1/whoami", NULL, 200, NULL);
    expect("/api/v1/teams", NULL, 401, NULL);
    char *data = ts_path(dir, "data");
    struct kpi_error err = {0};
    ck_assert_msg(web_token_revoke(data, "finance", &err) == 0, "revoke: %s", err.message);
    free(data);
    expect("/api/v1/whoami", writer, 401,
           "{\"error\":{\"code\":\"unauthorized\",\"message\":\"invalid, expired or revoked "
           "token\"}}");
    for (int i = 1; i < WEB_AUTH_FAILURES; i++)
        expect("/api/v1/whoami", "kpi_wrong", 401, NULL);
    expect("/api/v1/whoami", NULL, 429, NULL); /* blocked: even the anonymous question */
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("web_auth");
    TCase *tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_no_token_stays_open_read_only);
    tcase_add_test(tc, test_missing_or_wrong_token_is_401_with_the_challenge);
    tcase_add_test(tc, test_read_token_cannot_post);
    tcase_add_test(tc, test_expired_token_is_refused);
    tcase_add_test(tc, test_revocation_and_new_tokens_apply_at_the_next_request);
    tcase_add_test(tc, test_twenty_failures_block_the_address_for_a_minute);
    tcase_add_test(tc, test_bearer_parsing);
    tcase_add_test(tc, test_scoped_token_walks_every_route_and_sees_only_its_teams);
    tcase_add_test(tc, test_scoped_roll_ups_use_every_child);
    tcase_add_test(tc, test_whoami_says_who_the_token_is_and_nothing_more);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(auth_suite());
}
