/* docs/CSV.md quotes what kpi prints: every message line of its examples
 * ("file.csv:line:col: ..." or "kpi: file.csv: ...", in a fenced block) is
 * printed, word for word, by importing that file of tests/data/csv_doc with
 * the options the page gives, into a data directory holding the example
 * catalog. A message that changes fails here until the page is updated. */
#include "support/support.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOC KPI_SOURCE_DIR "/docs/CSV.md"
#define FILES KPI_SOURCE_DIR "/tests/data/csv_doc/"
#define EX KPI_SOURCE_DIR "/examples/"

/* One import of a documented file; a file may have several. */
static const struct {
    const char *file;
    const char *args[6];
} PROBES[] = {
    {"bad.csv", {NULL}},
    {"badind.csv", {NULL}},
    {"badper.csv", {"--kind", "targets", NULL}},
    {"badteams.csv", {NULL}},
    {"c1252bad.csv", {NULL}},
    {"clash.csv", {NULL}},
    {"dates.csv", {NULL}},
    {"empty.csv", {NULL}},
    {"extra.csv", {NULL}},
    {"idname.csv", {NULL}},
    {"nokind.csv", {NULL}},
    {"nokpi.csv", {NULL}},
    {"noteam.csv", {NULL}},
    {"nothere.csv", {NULL}}, /* not a file: cannot open */
    {"notes.csv", {NULL}},
    {"nul.csv", {NULL}},
    {"ok.csv", {"--column", "value=Montant", NULL}},
    {"ok.csv", {"--date-format", "%d.%m.%Y", NULL}},
    {"quote.csv", {NULL}},
    {"quote2.csv", {NULL}},
    {"quoting.csv", {"--on-error", "skip", NULL}},
    {"refs.csv", {"--strict", NULL}},
    {"semi.csv", {NULL}},
    {"semi2.csv", {NULL}},
    {"short.csv", {NULL}},
    {"skip.csv", {"--on-error", "skip", "--rejects", "rejects.csv", NULL}},
    {"slug.csv", {NULL}},
    {"wide.csv", {NULL}},
    {"periods.csv", {NULL}},
    {"near.csv", {NULL}},
    {"total.csv", {NULL}},
    {"u16.csv", {NULL}},
    {"title.csv", {NULL}},
    {"cr.csv", {NULL}},
    {"detail.csv", {NULL}},
    {"detail.csv", {"--aggregate", NULL}},
};
#define PROBE_COUNT (sizeof PROBES / sizeof PROBES[0])

static char *scratch;

/* A data directory with the example catalog, and the documented files
 * copied beside it (messages name files as given: run from there). */
static void setup(void)
{
    scratch = ts_tempdir("csv-doc");
    ck_assert_int_eq(chdir(scratch), 0);
    static const char *const catalog[][6] = {
        {"--data", "data", "import", EX "teams.csv", "--quiet", NULL},
        {"--data", "data", "import", EX "indicators.csv", "--quiet", NULL},
    };
    for (size_t i = 0; i < 2; i++) {
        struct ts_run r;
        ts_kpi(&r, NULL, catalog[i]);
        ck_assert_msg(r.status == 0, "%s", r.err);
        ts_run_free(&r);
    }
    for (size_t i = 0; i < PROBE_COUNT; i++) {
        size_t len;
        char *path = ts_path(FILES, PROBES[i].file);
        char *data = ts_read_file(path, &len);
        if (data != NULL)
            ts_write_file(PROBES[i].file, data, len);
        else
            ck_assert_str_eq(PROBES[i].file, "nothere.csv");
        free(data);
        free(path);
    }
}

static void teardown(void)
{
    ts_rm_rf(scratch);
    free(scratch);
}

/* Everything kpi prints (stderr, then stdout) for the probes of file, each
 * line ending in a newline, after a leading newline. Caller frees. Each
 * file is imported once per test (output_of caches it): a second import
 * would print other counts. */
static char *run_probes(const char *file)
{
    size_t cap = 2, len = 1;
    char *all = malloc(cap);
    ck_assert_ptr_nonnull(all);
    strcpy(all, "\n");
    size_t probes = 0;
    for (size_t i = 0; i < PROBE_COUNT; i++) {
        if (strcmp(PROBES[i].file, file) != 0)
            continue;
        probes++;
        const char *argv[12] = {"--data", "data", "import", file};
        size_t n = 4;
        for (size_t k = 0; PROBES[i].args[k]; k++)
            argv[n++] = PROBES[i].args[k];
        argv[n] = NULL;
        struct ts_run r;
        ts_kpi(&r, NULL, argv);
        size_t add = strlen(r.err) + strlen(r.out);
        all = realloc(all, cap = len + add + 1);
        ck_assert_ptr_nonnull(all);
        strcpy(all + len, r.err);
        strcat(all + len, r.out);
        len += add;
        ts_run_free(&r);
        ts_rm_rf("rejects.csv");
    }
    ck_assert_msg(probes > 0, "docs/CSV.md quotes %s, which has no probe in this test", file);
    return all;
}

static char *outputs[PROBE_COUNT]; /* by the index of a file's first probe */

static const char *output_of(const char *file)
{
    size_t first = 0;
    while (first < PROBE_COUNT && strcmp(PROBES[first].file, file) != 0)
        first++;
    ck_assert_msg(first < PROBE_COUNT, "docs/CSV.md quotes %s, which has no probe in this test",
                  file);
    if (outputs[first] == NULL)
        outputs[first] = run_probes(file);
    return outputs[first];
}

/* The file name a quoted line is about ("kpi: " stripped), or false. */
static bool quoted_file(const char *line, char *file, size_t cap)
{
    if (strncmp(line, "kpi: ", 5) == 0)
        line += 5;
    size_t n = 0;
    while (isalnum((unsigned char)line[n]) || line[n] == '_')
        n++;
    if (n == 0 || strncmp(line + n, ".csv:", 5) != 0 || n + 5 > cap)
        return false;
    memcpy(file, line, n + 4);
    file[n + 4] = '\0';
    return true;
}

START_TEST(test_every_message_of_csv_md_is_what_kpi_prints)
{
    char *doc = ts_read_file(DOC, NULL);
    ck_assert_msg(doc != NULL, "docs/CSV.md is missing");
    bool fenced = false;
    size_t checked = 0;
    for (char *line = doc; *line;) {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end = '\0';
        char file[64];
        if (strncmp(line, "```", 3) == 0) {
            fenced = !fenced;
        } else if (fenced && quoted_file(line, file, sizeof file)) {
            const char *out = output_of(file);
            char *want = malloc(strlen(line) + 3);
            ck_assert_ptr_nonnull(want);
            sprintf(want, "\n%s\n", line);
            ck_assert_msg(strstr(out, want) != NULL,
                          "docs/CSV.md quotes a line that kpi does not print:\n  %s\nkpi "
                          "prints:%s",
                          line, out);
            free(want);
            checked++;
        }
        line = end ? end + 1 : line + strlen(line);
    }
    ck_assert_msg(!fenced, "docs/CSV.md: a fenced block is not closed");
    ck_assert_uint_ge(checked, 30);
    free(doc);
    for (size_t i = 0; i < PROBE_COUNT; i++)
        free(outputs[i]);
}
END_TEST

/* The rejects file shown in the page, byte for byte. */
START_TEST(test_rejects_file_of_csv_md)
{
    const char *argv[] = {"--data", "data",      "import",      "skip.csv", "--on-error",
                          "skip",   "--rejects", "rejects.csv", NULL};
    struct ts_run r;
    ts_kpi(&r, NULL, argv);
    ck_assert_int_eq(r.status, 2);
    ts_run_free(&r);
    char *rejects = ts_read_file("rejects.csv", NULL);
    ck_assert_ptr_nonnull(rejects);
    char *doc = ts_read_file(DOC, NULL);
    char *block = strstr(doc, "$ cat rejects.csv\n");
    ck_assert_ptr_nonnull(block);
    block += strlen("$ cat rejects.csv\n");
    ck_assert_msg(strncmp(block, rejects, strlen(rejects)) == 0,
                  "docs/CSV.md shows another rejects file than:\n%s", rejects);
    free(doc);
    free(rejects);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_csv_doc");
    TCase *tc = tcase_create("csv_doc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_every_message_of_csv_md_is_what_kpi_prints);
    tcase_add_test(tc, test_rejects_file_of_csv_md);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
