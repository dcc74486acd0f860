/* End-to-end tests of `kpi graph TEAM KPI -o FILE.svg|FILE.png`: the real
 * binary writes a valid SVG or PNG chart, picks the format from the file
 * name, and exits with the SPEC §4 codes on errors. */
#include "support/support.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct scene {
    char *root;
    char *data;
};

/* Run kpi --data <data> args... (NULL-terminated). */
static void kpi(struct ts_run *r, const struct scene *s, const char *const *args)
{
    const char *argv[32] = {"--data", s->data};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        ck_assert_uint_lt(n, 31);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

static void import_csv(const struct scene *s, const char *name, const char *content)
{
    char *path = ts_path(s->root, name);
    ts_write_file(path, content, (size_t)-1);
    struct ts_run r;
    kpi(&r, s, (const char *const[]){"import", "--quiet", path, NULL});
    ck_assert_msg(r.status == 0, "import %s: exit %d: %s", name, r.status, r.err);
    ts_run_free(&r);
    free(path);
}

/* sales (a child of company, which has no data: a roll-up), monthly
 * revenue in EUR with targets. */
static void scene_open(struct scene *s)
{
    s->root = ts_tempdir("cli-graph");
    s->data = ts_path(s->root, "data");
    import_csv(s, "teams.csv", "team,name,parent\ncompany,Company,\nsales,Sales,company\n");
    import_csv(s, "indicators.csv",
               "kpi,name,family,unit,direction,period\n"
               "revenue,Revenue,financial,EUR,up,month\n");
    import_csv(s, "data.csv",
               "date,team,kpi,value,target\n"
               "2026-01,sales,revenue,100,100\n"
               "2026-02,sales,revenue,96,105\n"
               "2026-03,sales,revenue,99,110\n"
               "2026-04,sales,revenue,104,115\n");
}

static void scene_close(struct scene *s)
{
    ts_rm_rf(s->root);
    free(s->root);
    free(s->data);
}

static void expect_exit(const struct scene *s, const char *const *args, int status,
                        const char *in_stderr)
{
    struct ts_run r;
    kpi(&r, s, args);
    ck_assert_msg(r.status == status, "exit %d (want %d): %s", r.status, status, r.err);
    if (in_stderr)
        ck_assert_msg(strstr(r.err, in_stderr) != NULL, "stderr lacks \"%s\": %s", in_stderr,
                      r.err);
    ts_run_free(&r);
}

START_TEST(test_svg_file_is_written_and_nothing_printed)
{
    struct scene s;
    scene_open(&s);
    char *out = ts_path(s.root, "chart.svg");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"graph", "sales", "revenue", "-o", out, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, "");
    ts_run_free(&r);
    size_t len;
    char *svg = ts_read_file(out, &len);
    ck_assert_ptr_nonnull(svg);
    ck_assert_int_eq(strncmp(svg, "<?xml", 5), 0);
    ck_assert_ptr_nonnull(strstr(svg, "<svg "));
    ck_assert_ptr_nonnull(strstr(svg, "</svg>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>Sales \xe2\x80\x94 Revenue (EUR)</title>"));
    /* April: 104 against 115, gap -9.57% */
    ck_assert_ptr_nonnull(strstr(svg, "last 2026-04: 104, target 115, gap -9.6% (at risk)"));
    free(svg);
    /* no temporary file is left next to it */
    char *listing = ts_tree_digest(s.root);
    ck_assert_ptr_null(strstr(listing, ".tmp"));
    free(listing);
    struct stat sb;
    ck_assert_int_eq(stat(out, &sb), 0);
    ck_assert_int_ne(sb.st_mode & 0044, 0); /* not mkstemp's 0600 */
    free(out);
    scene_close(&s);
}
END_TEST

START_TEST(test_png_file_with_size_and_range_options)
{
    struct scene s;
    scene_open(&s);
    char *out = ts_path(s.root, "chart.PNG");
    struct ts_run r;
    kpi(&r, &s,
        (const char *const[]){"graph", "Sales", "Revenue", "--from", "2026-02", "--to",
                              "2026-03-31", "--width", "400", "--height", "150", "-o", out, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ts_run_free(&r);
    size_t len;
    char *png = ts_read_file(out, &len);
    ck_assert_ptr_nonnull(png);
    ck_assert_uint_gt(len, 24);
    ck_assert_int_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    const unsigned char *ihdr = (const unsigned char *)png + 16;
    uint32_t w =
        (uint32_t)ihdr[0] << 24 | (uint32_t)ihdr[1] << 16 | (uint32_t)ihdr[2] << 8 | ihdr[3];
    ck_assert_uint_ge(w, 400);
    ck_assert_uint_lt(w, 600);
    free(png);
    free(out);
    scene_close(&s);
}
END_TEST

START_TEST(test_rollup_team_is_charted)
{
    struct scene s;
    scene_open(&s);
    char *out = ts_path(s.root, "company.svg");
    struct ts_run r;
    kpi(&r, &s, (const char *const[]){"graph", "company", "revenue", "--output", out, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ts_run_free(&r);
    char *svg = ts_read_file(out, NULL);
    ck_assert_ptr_nonnull(svg);
    ck_assert_ptr_nonnull(strstr(svg, "<title>Company \xe2\x80\x94 Revenue (EUR)</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "last 2026-04: 104, target 115"));
    free(svg);
    free(out);
    scene_close(&s);
}
END_TEST

START_TEST(test_errors_exit_with_spec_codes)
{
    struct scene s;
    scene_open(&s);
    char *gif = ts_path(s.root, "chart.gif");
    char *svg = ts_path(s.root, "chart.svg");
    expect_exit(&s, (const char *const[]){"graph", "sales", "revenue", "-o", gif, NULL}, 1,
                "chart.gif");
    expect_exit(&s, (const char *const[]){"graph", "sales", "revenue", NULL}, 1, "-o");
    expect_exit(&s, (const char *const[]){"graph", "sales", "-o", svg, NULL}, 1, "TEAM KPI");
    expect_exit(&s,
                (const char *const[]){"graph", "sales", "revenue", "-o", svg, "--width", "5", NULL},
                1, "width");
    expect_exit(
        &s, (const char *const[]){"graph", "sales", "revenue", "-o", svg, "--from", "soon", NULL},
        1, "from");
    expect_exit(&s, (const char *const[]){"graph", "nobody", "revenue", "-o", svg, NULL}, 4,
                "nobody");
    expect_exit(&s, (const char *const[]){"graph", "sales", "nothing", "-o", svg, NULL}, 4,
                "nothing");
    ck_assert_ptr_null(ts_read_file(gif, NULL));
    ck_assert_ptr_null(ts_read_file(svg, NULL));
    /* into a directory that does not exist: a system error */
    char *bad = ts_path(s.root, "missing/chart.svg");
    expect_exit(&s, (const char *const[]){"graph", "sales", "revenue", "-o", bad, NULL}, 3,
                "missing");
    free(bad);
    free(gif);
    free(svg);
    scene_close(&s);
}
END_TEST

static Suite *graph_suite(void)
{
    Suite *s = suite_create("cli_graph");
    TCase *tc = tcase_create("graph");
    tcase_add_test(tc, test_svg_file_is_written_and_nothing_printed);
    tcase_add_test(tc, test_png_file_with_size_and_range_options);
    tcase_add_test(tc, test_rollup_team_is_charted);
    tcase_add_test(tc, test_errors_exit_with_spec_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(graph_suite());
}
