/*
 * kpi review end to end (SPEC §11): the bundled examples imported as the
 * README says, the review as of 2026-10-31 written to a file and read back:
 * a self-contained page (nothing that a browser would load from elsewhere),
 * the teams and numbers of tests/data/analysis, one inline chart per
 * off_track or diverging indicator with ids of its own, user text escaped;
 * usage errors; and Chromium printing it to A4 PDF pages (pdfinfo counts
 * them).
 */
#include "support/support.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define AS_OF "2026-10-31"
#define CHROMIUM "/usr/bin/chromium"
#define PDFINFO "/usr/bin/pdfinfo"

static char *scratch;  /* the scratch directory */
static char *data_dir; /* scratch/data, the imported examples */

#define IMPORT_COUNT 7
static const char *const IMPORTS[IMPORT_COUNT][12] = {
    {"import", "examples/teams.csv", "--kind", "teams", NULL},
    {"import", "examples/indicators.csv", "--kind", "indicators", NULL},
    {"import", "examples/budget.csv", "--kind", "targets", "--strict", NULL},
    {"import", "examples/finance.csv", "--encoding", "cp1252", "--strict", NULL},
    {"import", "examples/rh_effectifs.csv", "--column", "date=Fin de période", "--date-format",
     "%d.%m.%Y", "--strict", NULL},
    {"import", "examples/operations.csv", "--strict", NULL},
    {"import", "examples/enquete_engagement.csv", "--kpi", "engagement", "--column",
     "date=Trimestre", "--column", "value=Score", "--strict", NULL},
};

/* Run kpi --data dir args... in the source tree. */
static void kpi_in(struct ts_run *r, const char *dir, const char *const *args)
{
    const char *argv[24] = {"--data", dir};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        ck_assert_uint_lt(n, 23);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    ts_kpi(r, NULL, argv);
}

static void import_examples(void)
{
    ck_assert_int_eq(chdir(KPI_SOURCE_DIR), 0);
    scratch = ts_tempdir("review");
    data_dir = ts_path(scratch, "data");
    for (size_t i = 0; i < IMPORT_COUNT; i++) {
        struct ts_run r;
        kpi_in(&r, data_dir, IMPORTS[i]);
        ck_assert_msg(r.status == 0, "%s: %s", IMPORTS[i][1], r.err);
        ts_run_free(&r);
    }
}

static void remove_examples(void)
{
    ts_rm_rf(scratch);
    free(scratch);
    free(data_dir);
}

/* The review of args (after "review") written with -o to scratch/name;
 * returns the page (caller frees). */
static char *review(const char *name, const char *const *args)
{
    char *path = ts_path(scratch, name);
    const char *argv[16] = {"review", "-o", path};
    size_t n = 3;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct ts_run r;
    kpi_in(&r, data_dir, argv);
    ck_assert_msg(r.status == 0, "kpi review: exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, ""); /* the page went to the file */
    ts_run_free(&r);
    char *page = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(page);
    free(path);
    return page;
}

/* The value of the attribute that starts at p (just after `name=`), quoted
 * with " or ', copied into buf. */
static const char *attr_value(const char *p, char *buf, size_t cap)
{
    char q = *p;
    ck_assert_msg(q == '"' || q == '\'', "unquoted attribute at: %.60s", p - 5);
    const char *end = strchr(p + 1, q);
    ck_assert_ptr_nonnull(end);
    size_t n = (size_t)(end - p - 1) < cap - 1 ? (size_t)(end - p - 1) : cap - 1;
    memcpy(buf, p + 1, n);
    buf[n] = '\0';
    return buf;
}

/* Nothing that a browser would load: no src, every href a fragment of the
 * page, every url() a fragment, no @import, no element that loads. */
static void assert_self_contained(const char *page)
{
    ck_assert_ptr_null(strstr(page, "http://"));
    ck_assert_ptr_null(strstr(page, "https://"));
    ck_assert_ptr_null(strstr(page, "@import"));
    static const char *const loaders[] = {"<script", "<link",   "<img",  "<iframe", "<object",
                                          "<embed",  "<source", "<base", "<image",  "<video"};
    for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++)
        ck_assert_msg(strstr(page, loaders[i]) == NULL, "the page has %s", loaders[i]);
    ck_assert_msg(strstr(page, " src=") == NULL, "the page has a src attribute");
    char buf[512];
    size_t hrefs = 0;
    for (const char *p = page; (p = strstr(p, "href=")) != NULL; p += 5, hrefs++)
        ck_assert_msg(attr_value(p + 5, buf, sizeof buf)[0] == '#', "href \"%s\"", buf);
    for (const char *p = page; (p = strstr(p, "url(")) != NULL; p += 4)
        ck_assert_msg(p[4] == '#', "url(%.40s", p + 4);
    ck_assert_uint_gt(hrefs, 0); /* the charts' glyphs */
}

/* Every id="..." of the page is unique (charts prefix theirs). */
static void assert_unique_ids(const char *page)
{
    size_t n = 0, cap = 1024;
    char **ids = malloc(cap * sizeof *ids);
    char buf[256];
    for (const char *p = page; (p = strstr(p, " id=")) != NULL; p += 4) {
        attr_value(p + 4, buf, sizeof buf);
        for (size_t k = 0; k < n; k++)
            ck_assert_msg(strcmp(ids[k], buf) != 0, "id \"%s\" twice", buf);
        if (n == cap)
            ids = realloc(ids, (cap *= 2) * sizeof *ids);
        ids[n++] = strdup(buf);
    }
    for (size_t k = 0; k < n; k++)
        free(ids[k]);
    free(ids);
}

/* How many indicators of every team are off_track or diverging at AS_OF,
 * from the team drift documents. */
static size_t flagged_indicators(void)
{
    struct ts_run r;
    kpi_in(&r, data_dir, (const char *const[]){"teams", "--format", "json", NULL});
    ck_assert_int_eq(r.status, 0);
    cJSON *teams = cJSON_Parse(r.out);
    ts_run_free(&r);
    size_t n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(teams, "teams"))
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "id"));
        kpi_in(&r, data_dir,
               (const char *const[]){"drift", id, "--as-of", AS_OF, "--format", "json", NULL});
        ck_assert_int_eq(r.status, 0);
        cJSON *doc = cJSON_Parse(r.out);
        ts_run_free(&r);
        const cJSON *ind;
        cJSON_ArrayForEach(ind, cJSON_GetObjectItemCaseSensitive(doc, "indicators"))
        {
            const char *status =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ind, "status"));
            if (strcmp(status, "off_track") == 0 ||
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ind, "diverging")))
                n++;
        }
        cJSON_Delete(doc);
    }
    cJSON_Delete(teams);
    return n;
}

/* The text of the table row (<tr>...</tr>) that contains needle. */
static char *row_of(const char *page, const char *needle)
{
    const char *at = strstr(page, needle);
    ck_assert_msg(at != NULL, "no \"%s\" in the page", needle);
    const char *start = at;
    while (start > page && strncmp(start, "<tr>", 4) != 0)
        start--;
    const char *end = strstr(at, "</tr>");
    ck_assert_ptr_nonnull(end);
    return strndup(start, (size_t)(end - start));
}

START_TEST(test_review_is_self_contained_with_the_examples_numbers)
{
    char *page = review("all.html", (const char *const[]){"--as-of", AS_OF, NULL});
    ck_assert_int_eq(strncmp(page, "<!DOCTYPE html>", 15), 0);
    assert_self_contained(page);
    assert_unique_ids(page);
    ck_assert_ptr_nonnull(strstr(page, "@page{size:A4"));
    ck_assert_ptr_nonnull(strstr(page, "As of 2026-10-31"));
    /* drift by family: tests/data/analysis/examples_drift_*.json */
    char *row = row_of(page, "ventes-ara</span>");
    ck_assert_msg(strstr(row, ">20.8%<") && strstr(row, ">21.8%<") && strstr(row, ">11.0%<") &&
                      strstr(row, ">19.0%<") && strstr(row, ">33.2%<"),
                  "%s", row); /* 0.2078684, 0.2182712, 0.1104963, 0.1902174, 0.3315436 */
    free(row);
    row = row_of(page, ">commercial</span>");
    ck_assert_msg(strstr(row, ">9.8%<") && strstr(row, ">11.0%<") && strstr(row, ">4.6%<") &&
                      strstr(row, ">7.5%<") && strstr(row, ">15.0%<"),
                  "%s", row); /* 0.09763002, 0.109644, 0.04594336, 0.07522124, 0.1503226 */
    free(row);
    /* every team, with its name escaped as HTML would need it */
    ck_assert_ptr_nonnull(strstr(page, "<b>Ventes – Auvergne-Rhône-Alpes</b>"));
    ck_assert_ptr_nonnull(strstr(page, "<b>Fabrication – Saint-Étienne</b>"));
    ck_assert_ptr_nonnull(strstr(page, "<h3>Critical (6)</h3>"));
    /* one chart per off_track or diverging indicator, with its attribution */
    size_t flagged = flagged_indicators();
    ck_assert_uint_gt(flagged, 0);
    ck_assert_uint_eq(ts_count_lines_with(page, "<svg"), flagged);
    ck_assert_ptr_nonnull(strstr(page, "Contribution to the gap"));
    ck_assert_ptr_nonnull(strstr(page, "<h2>Teams that miss families</h2>"));
    free(page);
}
END_TEST

/* A team and its descendants only; the data as it stood after commit 2
 * (the catalogs: nothing to report). */
START_TEST(test_review_of_one_team_and_known_at)
{
    char *page = review("ara.html", (const char *const[]){"ventes-ara", "--as-of", AS_OF, NULL});
    ck_assert_ptr_nonnull(strstr(page, "Management review — Ventes – Auvergne-Rhône-Alpes"));
    ck_assert_ptr_null(strstr(page, "Fabrication"));
    ck_assert_ptr_null(strstr(page, ">durand</span>"));
    assert_self_contained(page);
    free(page);
    page = review("c2.html", (const char *const[]){"--as-of", AS_OF, "--known-at", "2", NULL});
    ck_assert_ptr_nonnull(strstr(page, "data of commit 2"));
    ck_assert_ptr_nonnull(strstr(page, "0 critical, 0 warning and 0 info alerts"));
    ck_assert_ptr_null(strstr(page, "<svg"));
    free(page);
    /* without -o: standard output */
    struct ts_run r;
    kpi_in(&r, data_dir, (const char *const[]){"review", "export", "--as-of", AS_OF, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(strncmp(r.out, "<!DOCTYPE html>", 15), 0);
    ts_run_free(&r);
}
END_TEST

static void expect_fail(int status, const char *needle, const char *const *args)
{
    struct ts_run r;
    kpi_in(&r, data_dir, args);
    ck_assert_msg(r.status == status, "kpi %s: exit %d, expected %d: %s", args[1], r.status, status,
                  r.err);
    ck_assert_msg(strstr(r.err, needle) != NULL, "stderr: %s", r.err);
    ck_assert_str_eq(r.out, "");
    ts_run_free(&r);
}

START_TEST(test_review_usage_errors)
{
    expect_fail(4, "unknown team \"nobody\"", (const char *const[]){"review", "nobody", NULL});
    expect_fail(1, "invalid --as-of", (const char *const[]){"review", "--as-of", "2026-13", NULL});
    expect_fail(1, "unknown commit 0", (const char *const[]){"review", "--known-at", "0", NULL});
    expect_fail(1, "unknown commit 99", (const char *const[]){"review", "--known-at", "99", NULL});
    expect_fail(1, "expected at most one TEAM",
                (const char *const[]){"review", "export", "commercial", NULL});
    expect_fail(1, "invalid --since: unknown commit 99",
                (const char *const[]){"review", "--since", "99", NULL});
    expect_fail(1, "unknown option", (const char *const[]){"review", "--from", "3", NULL});
}
END_TEST

/* Names, units and ids are escaped: a team called <script>..., an
 * indicator whose unit is "<u>" & 'q'. */
START_TEST(test_review_escapes_user_text)
{
    char *dir = ts_path(scratch, "escape");
    char *teams = ts_path(scratch, "teams.csv"), *inds = ts_path(scratch, "inds.csv"),
         *obs = ts_path(scratch, "obs.csv");
    const char teams_csv[] = "team,name,parent\n"
                             "co,\"<script>alert(\"\"x\"\")</script> & Co\",\n"
                             "t1,Team 'one',co\n";
    const char inds_csv[] = "kpi,name,family,unit,direction,period\n"
                            "rev,Revenue <b>,financial,\"<u>\"\" & 'q'\",up,month\n";
    const char obs_csv[] = "date,team,kpi,value,target\n"
                           "2026-01,t1,rev,50,100\n"
                           "2026-02,t1,rev,40,100\n";
    ts_write_file(teams, teams_csv, sizeof teams_csv - 1);
    ts_write_file(inds, inds_csv, sizeof inds_csv - 1);
    ts_write_file(obs, obs_csv, sizeof obs_csv - 1);
    struct ts_run r;
    kpi_in(&r, dir, (const char *const[]){"import", "--quiet", teams, "--kind", "teams", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *const[]){"import", "--quiet", inds, "--kind", "indicators", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *const[]){"import", "--quiet", obs, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *const[]){"review", "--as-of", "2026-02-28", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_null(strstr(r.out, "<script"));
    ck_assert_ptr_null(strstr(r.out, "<b>Revenue <b>"));
    ck_assert_ptr_null(strstr(r.out, "<u>"));
    ck_assert_ptr_nonnull(
        strstr(r.out, "<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</b>"));
    ck_assert_ptr_nonnull(strstr(r.out, "Team &#39;one&#39;"));
    /* co's revenue: 40 against 100, off track; t1 the one contributor */
    ck_assert_ptr_nonnull(strstr(
        r.out, "<h3>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co — Revenue &lt;b&gt; "
               "(&lt;u&gt;&quot; &amp; &#39;q&#39;)</h3>"));
    ck_assert_ptr_nonnull(strstr(r.out, "<td>Team &#39;one&#39;</td><td class=\"n\">40</td>"
                                        "<td class=\"n\">100</td><td class=\"n red\">-60.0%</td>"));
    assert_self_contained(r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "<h2>Restatements</h2>"));
    ts_run_free(&r);

    /* a correction of January (commit 4): a restatement of +10 %, listed
     * since commit 3, not since 4 */
    const char fix_csv[] = "date,team,kpi,value\n2026-01,t1,rev,55\n";
    char *fix = ts_path(scratch, "fix.csv");
    ts_write_file(fix, fix_csv, sizeof fix_csv - 1);
    kpi_in(&r, dir, (const char *const[]){"import", "--quiet", fix, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *const[]){"review", "--as-of", "2026-02-28", "--since", "3", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "by a commit after commit 3"));
    ck_assert_ptr_nonnull(strstr(r.out, "<tr><td>Team &#39;one&#39;</td><td>Revenue &lt;b&gt;</td>"
                                        "<td>2026-01</td><td class=\"n\">50</td><td class=\"n\">"
                                        "55</td><td class=\"n\">+10.0%</td><td class=\"n\">3 → 4"
                                        "</td></tr>"));
    ts_run_free(&r);
    kpi_in(&r, dir, (const char *const[]){"review", "--as-of", "2026-02-28", "--since", "4", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "by a commit after commit 4; largest changes first.</p>"
                                        "<p>None.</p>"));
    ts_run_free(&r);
    free(fix);
    free(dir);
    free(teams);
    free(inds);
    free(obs);
}
END_TEST

/* Run argv (a program and its arguments) and return its stdout; NULL when
 * it cannot run. */
static char *capture(const char *const *argv)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        close(fds[0]);
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    ssize_t n;
    while ((n = read(fds[0], out + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* Chromium prints the page to PDF: A4 pages, as many as the sections and
 * charts need (the drift, the alerts from a new page, the indicators from
 * a new page, each chart kept whole). */
START_TEST(test_review_prints_to_a4_pages)
{
    if (access(CHROMIUM, X_OK) != 0 || access(PDFINFO, X_OK) != 0) {
        fputs("test_cli_review: " CHROMIUM " or " PDFINFO
              " missing (Debian packages chromium, poppler-utils): print test skipped\n",
              stderr);
        return;
    }
    char *page = review("print.html", (const char *const[]){"--as-of", AS_OF, NULL});
    free(page);
    char *html = ts_path(scratch, "print.html"), *pdf = ts_path(scratch, "print.pdf"),
         *profile = ts_path(scratch, "chromium-profile");
    char url[4200], out_arg[4200], profile_arg[4200];
    snprintf(url, sizeof url, "file://%s", html);
    snprintf(out_arg, sizeof out_arg, "--print-to-pdf=%s", pdf);
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", profile);
    char *log = capture((const char *const[]){
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-pdf-header-footer", profile_arg, out_arg, url, NULL});
    ck_assert_msg(log != NULL, "chromium failed");
    free(log);
    char *info = capture((const char *const[]){PDFINFO, "-f", "1", "-l", "999", pdf, NULL});
    ck_assert_msg(info != NULL, "pdfinfo failed on %s", pdf);
    const char *p = strstr(info, "\nPages:");
    ck_assert_ptr_nonnull(p);
    int pages = atoi(p + 7);
    /* 9 teams' drift (1 page), 55 alerts (3-4 pages), 25 charts at most 2
     * to a page (13 pages at least) */
    size_t flagged = flagged_indicators();
    ck_assert_int_ge(pages, 1 + 3 + (int)(flagged + 1) / 2);
    ck_assert_int_le(pages, 1 + 6 + (int)flagged);
    /* every page A4: 595 x 842 points */
    ck_assert_uint_eq(ts_count_lines_with(info, " pts"), (size_t)pages);
    ck_assert_uint_eq(ts_count_lines_with(info, "594.96 x 841.92 pts (A4)"), (size_t)pages);
    printf("test_cli_review: %s printed to %d A4 pages (%zu charts)\n", pdf, pages, flagged);
    free(info);
    free(html);
    free(pdf);
    free(profile);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_review");
    TCase *tc = tcase_create("review");
    tcase_add_unchecked_fixture(tc, import_examples, remove_examples);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_review_is_self_contained_with_the_examples_numbers);
    tcase_add_test(tc, test_review_of_one_team_and_known_at);
    tcase_add_test(tc, test_review_usage_errors);
    tcase_add_test(tc, test_review_escapes_user_text);
    tcase_add_test(tc, test_review_prints_to_a4_pages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
