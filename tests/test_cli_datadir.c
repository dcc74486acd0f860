/* End-to-end tests of the data directory's creation (SPEC §3): with its
 * missing parents, nothing left behind by an import that fails, and first
 * imports started together into a directory that does not exist yet all
 * succeed, one after the other; and `kpi --version`. */
#include "support/support.h"

#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IMPORTERS 8
#define ROUNDS 20

static char *root;

static void setup(void)
{
    root = ts_tempdir("cli-datadir");
    ck_assert_int_eq(chdir(root), 0);
}

static void teardown(void)
{
    ts_rm_rf(root);
    free(root);
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

START_TEST(test_version)
{
    struct ts_run r;
    ts_kpi(&r, NULL, (const char *[]){"--version", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "kpi 0.1.0\n"); /* project(kpi VERSION 0.1.0) */
    ck_assert_str_eq(r.err, "");
    ts_run_free(&r);
}
END_TEST

START_TEST(test_missing_parents_are_created)
{
    ts_write_file("teams.csv", "team,name,parent\nacme,Acme,\nventes,Ventes,acme\n", (size_t)-1);
    struct ts_run r;
    ts_kpi(&r, NULL,
           (const char *[]){"--data", "srv/kpi/acme", "import", "teams.csv", "--quiet", NULL});
    ck_assert_msg(r.status == 0, "import failed: %s", r.err);
    ts_run_free(&r);
    ts_kpi(&r, NULL, (const char *[]){"--data", "srv/kpi/acme", "teams", "--format", "csv", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "id,name,parent\nacme,Acme,\nventes,Ventes,acme\n");
    ts_run_free(&r);
}
END_TEST

START_TEST(test_failed_first_import_leaves_nothing)
{
    ts_write_file("bad.csv", "date,team,kpi,value\n2026-13-45,ventes,ca,1\n", (size_t)-1);
    struct ts_run r;
    ts_kpi(&r, NULL, (const char *[]){"--data", "srv/kpi/acme", "import", "bad.csv", NULL});
    ck_assert_int_eq(r.status, 2);
    const char *want = "bad.csv:2:1: invalid date \"2026-13-45\" in column \"date\"";
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "stderr: %s", r.err);
    ts_run_free(&r);
    ck_assert_msg(!exists("srv"), "a failed import left srv/ behind");
}
END_TEST

/* Start argc-long argv lists at once (children wait on a pipe until all are
 * forked), each child's stderr in err_files[i]; store their exit codes. */
static void run_together(size_t n, const char *argvs[][8], char *const *err_files, int *codes)
{
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t pids[IMPORTERS + 1];
    for (size_t i = 0; i < n; i++) {
        pids[i] = fork();
        ck_assert(pids[i] >= 0);
        if (pids[i] == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }
            int fd = open(err_files[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int null_fd = open("/dev/null", O_RDWR);
            if (fd < 0 || null_fd < 0)
                _exit(126);
            dup2(null_fd, 0);
            dup2(null_fd, 1);
            dup2(fd, 2);
            unsetenv("KPI_DATA");
            execv(KPI_BINARY, (char *const *)(uintptr_t)argvs[i]);
            _exit(127);
        }
    }
    close(gate[0]);
    close(gate[1]); /* every child's read returns 0: go */
    for (size_t i = 0; i < n; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
}

/* IMPORTERS imports of one team each into a directory (and parents) that
 * does not exist, all started at once, ROUNDS times: each one waits for the
 * one before, so every import succeeds and every team is there. In odd
 * rounds one of them is a file with a bad row (exit 2): when it went first
 * it created the directory and removed it again, and those that waited for
 * it start over. */
START_TEST(test_concurrent_first_imports_wait)
{
    char files[IMPORTERS][32], *errs[IMPORTERS];
    for (int k = 0; k < IMPORTERS; k++) {
        snprintf(files[k], sizeof files[k], "team%d.csv", k);
        char csv[64];
        snprintf(csv, sizeof csv, "team,name\nt%d,Team %d\n", k, k);
        ts_write_file(files[k], csv, (size_t)-1);
        char name[32];
        snprintf(name, sizeof name, "err%d.txt", k);
        errs[k] = ts_path(root, name);
    }
    ts_write_file("bad.csv", "date,team,kpi,value\n2026-13-45,ventes,ca,1\n", (size_t)-1);
    for (int round = 0; round < ROUNDS; round++) {
        char data[64];
        snprintf(data, sizeof data, "round%d/a/b/data", round);
        bool with_bad = round % 2 == 1;
        const char *argvs[IMPORTERS][8];
        for (int k = 0; k < IMPORTERS; k++) {
            const char *file = with_bad && k == IMPORTERS - 1 ? "bad.csv" : files[k];
            const char *argv[8] = {"kpi", "--data", data, "import", file, "--quiet", NULL};
            memcpy(argvs[k], argv, sizeof argv);
        }
        int codes[IMPORTERS];
        run_together(IMPORTERS, argvs, errs, codes);
        char expected[512] = "id,name,parent\n";
        for (int k = 0; k < IMPORTERS; k++) {
            char *err = ts_read_file(errs[k], NULL);
            if (with_bad && k == IMPORTERS - 1) {
                ck_assert_msg(codes[k] == 2, "round %d, bad import: exit %d: %s", round, codes[k],
                              err);
            } else {
                ck_assert_msg(codes[k] == 0, "round %d, import %d: exit %d: %s", round, k, codes[k],
                              err);
                char line[32];
                snprintf(line, sizeof line, "t%d,Team %d,\n", k, k);
                strcat(expected, line);
            }
            free(err);
        }
        struct ts_run r;
        ts_kpi(&r, NULL, (const char *[]){"--data", data, "teams", "--format", "csv", NULL});
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strcmp(r.out, expected) == 0, "round %d: teams\n%s\nexpected\n%s", round,
                      r.out, expected);
        ts_run_free(&r);
    }
    for (int k = 0; k < IMPORTERS; k++)
        free(errs[k]);
}
END_TEST

static Suite *datadir_suite(void)
{
    Suite *s = suite_create("cli_datadir");
    TCase *tc = tcase_create("datadir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_missing_parents_are_created);
    tcase_add_test(tc, test_failed_first_import_leaves_nothing);
    tcase_add_test(tc, test_concurrent_first_imports_wait);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(datadir_suite());
}
