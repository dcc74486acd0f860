/* Compression (issue 9, item 6): gzip for clients that accept it, once per
 * cached answer, with Vary and an ETag per encoding, 304s per encoding;
 * identity for the others, for PNGs and for small answers. */
#include "test_web_helpers.h"
#include "web/web_int.h"

#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

static char *dir;
static struct test_server server;

static void setup(void)
{
    dir = make_data("web-gzip");
    server_start(&server, dir);
}

static void teardown(void)
{
    server_stop(&server);
    ts_rm_rf(dir);
    free(dir);
}

/* gunzip body into a heap string (*len bytes); fails the test on bad data. */
static char *gunzip(const char *body, size_t n, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z.next_in = (Bytef *)(uintptr_t)body;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap - 1;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(z.avail_in, 0); /* nothing after the gzip member */
    *len = z.total_out;
    out[*len] = '\0';
    inflateEnd(&z);
    return out;
}

static const char *header(const struct th_response *r, const char *name, char *buf, size_t cap)
{
    const char *v = th_header(r, name, buf, cap);
    return v ? v : "(none)";
}

START_TEST(test_gzip_is_the_same_document_with_its_own_etag)
{
    const char *paths[] = {"/api/v1/alerts", "/api/v1/drift",
                           "/api/v1/teams/sales/kpis/revenue/series",
                           "/api/v1/teams/sales/kpis/revenue/graph.svg", "/metrics"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct th_response plain, gz;
        th_request(server.port, "GET", paths[i], NULL, &plain);
        th_request(server.port, "GET", paths[i], "Accept-Encoding: gzip, deflate, br\r\n", &gz);
        ck_assert_int_eq(plain.status, 200);
        ck_assert_int_eq(gz.status, 200);
        ck_assert_msg(plain.body_len >= WEB_GZIP_MIN, "%s: too small to test", paths[i]);
        char a[64], b[64];
        ck_assert_str_eq(header(&plain, "Content-Encoding", a, sizeof a), "(none)");
        ck_assert_str_eq(header(&gz, "Content-Encoding", a, sizeof a), "gzip");
        ck_assert_str_eq(header(&plain, "Vary", a, sizeof a), "Accept-Encoding");
        ck_assert_str_eq(header(&gz, "Vary", a, sizeof a), "Accept-Encoding");
        ck_assert_str_eq(header(&plain, "Content-Type", a, sizeof a),
                         header(&gz, "Content-Type", b, sizeof b));
        /* "HASH" and "HASH-gz" */
        header(&plain, "ETag", a, sizeof a);
        header(&gz, "ETag", b, sizeof b);
        ck_assert_uint_eq(strlen(a), 18);
        ck_assert_uint_eq(strlen(b), 21);
        ck_assert(strncmp(a, b, 17) == 0 && strcmp(b + 17, "-gz\"") == 0);
        size_t len;
        char *back = gunzip(gz.body, gz.body_len, &len);
        ck_assert_uint_eq(len, plain.body_len);
        ck_assert(memcmp(back, plain.body, len) == 0);
        ck_assert_msg(gz.body_len < plain.body_len, "%s: %zu bytes gzipped, %zu plain", paths[i],
                      gz.body_len, plain.body_len);
        free(back);
        th_response_free(&plain);
        th_response_free(&gz);
    }
}
END_TEST

START_TEST(test_304_per_encoding)
{
    struct th_response plain, gz, r;
    th_request(server.port, "GET", "/api/v1/alerts", NULL, &plain);
    th_request(server.port, "GET", "/api/v1/alerts", "Accept-Encoding: gzip\r\n", &gz);
    char plain_tag[64], gz_tag[64], hdr[160], v[64];
    th_header(&plain, "ETag", plain_tag, sizeof plain_tag);
    th_header(&gz, "ETag", gz_tag, sizeof gz_tag);
    /* gzip client, gzip tag: 304 carrying that tag and Vary */
    snprintf(hdr, sizeof hdr, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", gz_tag);
    th_request(server.port, "GET", "/api/v1/alerts", hdr, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(header(&r, "ETag", v, sizeof v), gz_tag);
    ck_assert_str_eq(header(&r, "Vary", v, sizeof v), "Accept-Encoding");
    th_response_free(&r);
    /* gzip client, identity tag: the gzip body (another representation) */
    snprintf(hdr, sizeof hdr, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", plain_tag);
    th_request(server.port, "GET", "/api/v1/alerts", hdr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, gz.body_len);
    ck_assert(memcmp(r.body, gz.body, gz.body_len) == 0); /* compressed once: the same bytes */
    th_response_free(&r);
    /* identity client: 304 for its own tag, 200 for the gzip one */
    snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", plain_tag);
    th_request(server.port, "GET", "/api/v1/alerts", hdr, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(header(&r, "ETag", v, sizeof v), plain_tag);
    th_response_free(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", gz_tag);
    th_request(server.port, "GET", "/api/v1/alerts", hdr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, plain.body_len);
    th_response_free(&r);
    th_response_free(&plain);
    th_response_free(&gz);
}
END_TEST

START_TEST(test_refused_gzip_pngs_and_small_answers_go_as_they_are)
{
    static const struct {
        const char *path, *headers;
    } cases[] = {
        {"/api/v1/alerts", "Accept-Encoding: gzip;q=0\r\n"},
        {"/api/v1/alerts", "Accept-Encoding: deflate, br\r\n"},
        {"/api/v1/alerts", "Accept-Encoding: gzipx\r\n"},
        {"/api/v1/teams/sales/kpis/revenue/graph.png", "Accept-Encoding: gzip\r\n"},
        {"/healthz", "Accept-Encoding: gzip\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct th_response r;
        th_request(server.port, "GET", cases[i].path, cases[i].headers, &r);
        ck_assert_int_eq(r.status, 200);
        char v[64];
        ck_assert_msg(th_header(&r, "Content-Encoding", v, sizeof v) == NULL, "%s with %s: %s",
                      cases[i].path, cases[i].headers, v);
        th_response_free(&r);
    }
}
END_TEST

START_TEST(test_accept_encoding_parsing)
{
    static const struct {
        const char *header;
        bool gzip;
    } cases[] = {
        {"gzip", true},
        {"GZIP", true},
        {"x-gzip", true},
        {"deflate, gzip;q=0.5", true},
        {"br;q=1.0, gzip ; q=0.1, *;q=0", true},
        {"gzip;q=0", false},
        {"gzip; q=0.000", false},
        {"gzip;q=0.001", true},
        {"identity", false},
        {"", false},
        {"gzipper, agzip", false},
        {"*", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(web_accepts_gzip(cases[i].header) == cases[i].gzip, "\"%s\"",
                      cases[i].header);
    ck_assert(!web_accepts_gzip(NULL));
}
END_TEST

START_TEST(test_gzip_bytes_are_deterministic)
{
    static const char text[] = "{\"alerts\":[]} {\"alerts\":[]} {\"alerts\":[]} {\"alerts\":[]}";
    char *a, *b;
    size_t alen, blen;
    ck_assert_int_eq(web_gzip(text, sizeof text - 1, &a, &alen, NULL), 0);
    ck_assert_int_eq(web_gzip(text, sizeof text - 1, &b, &blen, NULL), 0);
    ck_assert_uint_eq(alen, blen);
    ck_assert(memcmp(a, b, alen) == 0);
    /* gzip magic, deflate, no flags, mtime 0 */
    ck_assert(memcmp(a, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8) == 0);
    size_t len;
    char *back = gunzip(a, alen, &len);
    ck_assert_str_eq(back, text);
    free(back);
    free(a);
    free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("web_gzip");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gzip_is_the_same_document_with_its_own_etag);
    tcase_add_test(tc, test_304_per_encoding);
    tcase_add_test(tc, test_refused_gzip_pngs_and_small_answers_go_as_they_are);
    suite_add_tcase(s, tc);
    tc = tcase_create("unit");
    tcase_add_test(tc, test_accept_encoding_parsing);
    tcase_add_test(tc, test_gzip_bytes_are_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
