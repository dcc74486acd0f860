/* kpi token add|list|revoke end to end (SPEC §9): the secret printed once,
 * only its SHA-256 at rest in a 0600 file, the listing formats, errors. */
#include "common/common.h"
#include "support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dir, *data;

static void setup(void)
{
    dir = ts_tempdir("cli-token");
    data = ts_path(dir, "data");
    char *teams = ts_path(dir, "teams.csv");
    ts_write_file(teams, "team,name,parent\nacme,Acme Corp,\nsales,Sales,acme\nops,Ops,acme\n",
                  (size_t)-1);
    struct ts_run r;
    const char *argv[] = {"--data", data, "import", teams, "--quiet", NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_int_eq(r.status, 0);
    ts_run_free(&r);
    free(teams);
}

static void teardown(void)
{
    ts_rm_rf(dir);
    free(dir);
    free(data);
}

/* kpi --data DATA token ARGS...; returns the exit status, *r filled. */
static int token(struct ts_run *r, const char *a, const char *b, const char *c, const char *d,
                 const char *e, const char *f)
{
    const char *argv[] = {"--data", data, "token", a, b, c, d, e, f, NULL};
    ts_kpi(r, NULL, argv);
    return r->status;
}

START_TEST(test_add_prints_a_secret_once_and_stores_its_hash_only)
{
    struct ts_run r;
    ck_assert_int_eq(token(&r, "add", "finance", "--role", "write", NULL, NULL), 0);
    size_t len = strlen(r.out);
    ck_assert_uint_eq(len, 4 + 40 + 1);
    ck_assert(strncmp(r.out, "kpi_", 4) == 0 && r.out[len - 1] == '\n');
    for (size_t i = 4; i < len - 1; i++)
        ck_assert_msg((r.out[i] >= 'a' && r.out[i] <= 'z') ||
                          (r.out[i] >= 'A' && r.out[i] <= 'Z') ||
                          (r.out[i] >= '0' && r.out[i] <= '9'),
                      "character %zu of %s", i, r.out);
    char secret[64];
    memcpy(secret, r.out, len - 1);
    secret[len - 1] = '\0';
    ts_run_free(&r);

    char *path = ts_path(data, "tokens");
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0600);
    char *stored = ts_read_file(path, NULL);
    ck_assert_ptr_null(strstr(stored, secret));
    ck_assert_ptr_null(strstr(stored, secret + 4));
    unsigned char d[KPI_SHA256_SIZE];
    char hex[KPI_SHA256_HEX];
    kpi_sha256(secret, strlen(secret), d);
    ck_assert_ptr_nonnull(strstr(stored, kpi_sha256_hex(d, hex)));
    free(stored);
    free(path);

    /* a second token gets another secret */
    ck_assert_int_eq(token(&r, "add", "reader", "--role", "read", NULL, NULL), 0);
    ck_assert_str_ne(r.out, secret);
    ts_run_free(&r);
}
END_TEST

START_TEST(test_list_formats_never_show_secrets)
{
    struct ts_run r;
    ck_assert_int_eq(token(&r, "add", "sales-mgr", "--role", "read", "--team", "Sales"), 0);
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "finance", "--role", "write", "--expires", "2099-12-31"), 0);
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "list", "--format", "json", NULL, NULL, NULL), 0);
    /* created is now: check the shape around it */
    const char *p = r.out;
    const char *head = "{\"tokens\":[{\"name\":\"finance\",\"role\":\"write\",\"teams\":[],"
                       "\"created\":\"";
    ck_assert_msg(strncmp(p, head, strlen(head)) == 0, "%s", p);
    ck_assert_ptr_nonnull(strstr(p, "Z\",\"expires\":\"2099-12-31\",\"last_used\":null},"
                                    "{\"name\":\"sales-mgr\",\"role\":\"read\",\"teams\":"
                                    "[\"sales\"],\"created\":\""));
    ck_assert_ptr_nonnull(strstr(p, "Z\",\"expires\":null,\"last_used\":null}]}\n"));
    ck_assert_ptr_null(strstr(p, "kpi_"));
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "list", "--format", "csv", NULL, NULL, NULL), 0);
    const char *csv = "name,role,teams,created,expires,last_used\nfinance,write,,";
    ck_assert_msg(strncmp(r.out, csv, strlen(csv)) == 0, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, ",2099-12-31,\nsales-mgr,read,sales,"));
    ts_run_free(&r);
}
END_TEST

START_TEST(test_errors_have_their_exit_codes)
{
    struct ts_run r;
    ck_assert_int_eq(token(&r, "add", "x", NULL, NULL, NULL, NULL), 1); /* no --role */
    ck_assert_ptr_nonnull(strstr(r.err, "add needs --role read|write"));
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "x", "--role", "admin", NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "invalid --role \"admin\" (expected read or write)"));
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "Bad Name", "--role", "read", NULL, NULL), 1);
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "x", "--role", "read", "--expires", "2001-01-01"), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "--expires 2001-01-01 is in the past"));
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "x", "--role", "read", "--team", "nowhere"), 4);
    ck_assert_str_eq(r.err, "kpi: unknown team \"nowhere\"\n");
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "x", "--role", "read", NULL, NULL), 0);
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "add", "x", "--role", "write", NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "a token named \"x\" exists (revoke it first)"));
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "revoke", "nobody", NULL, NULL, NULL, NULL), 4);
    ck_assert_str_eq(r.err, "kpi: no token named \"nobody\"\n");
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "revoke", "x", NULL, NULL, NULL, NULL), 0);
    ck_assert_ptr_nonnull(strstr(r.err, "no token left"));
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "list", "--format", "json", NULL, NULL, NULL), 0);
    ck_assert_str_eq(r.out, "{\"tokens\":[]}\n");
    ts_run_free(&r);
    ck_assert_int_eq(token(&r, "frobnicate", NULL, NULL, NULL, NULL, NULL), 1);
    ts_run_free(&r);
}
END_TEST

static Suite *token_suite(void)
{
    Suite *s = suite_create("cli_token");
    TCase *tc = tcase_create("token");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_add_prints_a_secret_once_and_stores_its_hash_only);
    tcase_add_test(tc, test_list_formats_never_show_secrets);
    tcase_add_test(tc, test_errors_have_their_exit_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(token_suite());
}
