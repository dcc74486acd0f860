/*
 * libFuzzer target for the request path of web/ (SPEC §7, §9), in process:
 * the input is "URL\nAUTHORIZATION\nQUERY". The URL goes through the route
 * table's matcher, the Authorization value through the Bearer parser and
 * the whole authentication (a real DIR/tokens with two tokens, scoped and
 * not, the constant-time comparison and the failure counter), each
 * key=value of the query through the upload's parameter checks.
 *
 *   cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DKPI_FUZZ=ON && \
 *   cmake --build build/fuzz --target fuzz_request && \
 *   build/fuzz/tests/fuzz_request -max_total_time=60
 */
#include "web/web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct web_access *access_state;

static void init(void)
{
    char dir[] = "/tmp/kpi-fuzz-request-XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    const char *teams[] = {"ops"};
    struct web_token_spec all = {.name = "all", .role = WEB_ROLE_WRITE, .expires_day = INT64_MAX};
    struct web_token_spec ops = {
        .name = "ops", .role = WEB_ROLE_READ, .team_count = 1, .teams = teams, .expires_day = 1};
    char secret[WEB_SECRET_MAX];
    struct web_options o;
    web_options_default(&o);
    if (web_token_add(dir, &all, secret, NULL) != 0 ||
        web_token_add(dir, &ops, secret, NULL) != 0 ||
        web_access_new(dir, &o, &access_state, NULL) != 0)
        abort();
}

/* data[0..len) as a NUL-terminated copy (inputs may hold NULs: cut there). */
static char *text(const uint8_t *data, size_t len)
{
    char *t = malloc(len + 1);
    if (t == NULL)
        abort();
    memcpy(t, data, len);
    t[len] = '\0';
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (access_state == NULL)
        init();
    const uint8_t *end = data + size, *nl1 = memchr(data, '\n', size);
    const uint8_t *a = nl1 ? nl1 + 1 : end;
    const uint8_t *nl2 = nl1 ? memchr(a, '\n', (size_t)(end - a)) : NULL;
    const uint8_t *q = nl2 ? nl2 + 1 : end;
    char *url = text(data, (size_t)((nl1 ? nl1 : end) - data));
    char *authz = text(a, (size_t)((nl2 ? nl2 : end) - a));
    char *query = text(q, (size_t)(end - q));

    char buf[WEB_PATH_MAX + 8];
    const char *captures[2];
    bool known;
    if (strlen(url) <= WEB_PATH_MAX) {
        int route =
            web_route_match(url, size & 1 ? "GET" : "POST", buf, sizeof buf, captures, &known);
        if (route >= (int)web_route_count)
            abort();
    }
    const char *token;
    size_t len;
    if (web_auth_bearer(authz, &token, &len) &&
        (token < authz || token + len > authz + strlen(authz)))
        abort();
    /* the address varies with the input, so the failure counter fills,
     * blocks and evicts instead of blocking every later input */
    unsigned char addr[16] = {0};
    memcpy(addr, &size, sizeof size < 16 ? sizeof size : 16);
    struct web_principal who;
    unsigned retry;
    struct kpi_error err = {0};
    enum web_verdict v = web_auth_decide(access_state, authz[0] ? authz : NULL, addr, size & 2,
                                         1790000000 + (int64_t)(size % 200), &who, &retry, &err);
    if (v == WEB_ALLOW)
        web_principal_release(&who);
    for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv != NULL;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq != NULL)
            *eq = '\0';
        web_upload_param_check(kv, eq ? eq + 1 : NULL, &err);
    }
    free(url);
    free(authz);
    free(query);
    return 0;
}
