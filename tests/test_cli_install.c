/* What `cmake --install` puts in place (README.md, "Install"): the binary,
 * the man page when docs/kpi.1 exists, the bash completion (commands,
 * options, team and indicator ids of the data directory) and the systemd
 * unit, which names the installed binary and which `systemd-analyze verify`
 * finds clean (when systemd-analyze is installed: Debian package systemd). */
#include "support/support.h"

#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SYSTEMD_ANALYZE "/usr/bin/systemd-analyze"

static char *dir;    /* scratch */
static char *prefix; /* dir/usr: the install prefix */

/* Run a shell command; its standard output and error, *status its exit code.
 * Caller frees. */
static char *sh(const char *cmd, int *status)
{
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
    }
    out[len] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return out;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* cmake --install of the build tree that holds KPI_BINARY into prefix. */
static void setup(void)
{
    dir = ts_tempdir("cli-install");
    prefix = ts_path(dir, "usr");
    char build[4096];
    snprintf(build, sizeof build, "%s", KPI_BINARY);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cmake --install '%s' --prefix '%s'", dirname(build), prefix);
    int status;
    char *out = sh(cmd, &status);
    ck_assert_msg(status == 0, "%s: %s", cmd, out);
    free(out);
}

static void teardown(void)
{
    ts_rm_rf(dir);
    free(prefix);
    free(dir);
}

START_TEST(test_install_puts_every_file)
{
    char *bin = ts_path(prefix, "bin/kpi");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' --version", bin);
    int status;
    char *out = sh(cmd, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_str_eq(out, "kpi 0.1.0\n");
    free(out);

    char *completion = ts_path(prefix, "share/bash-completion/completions/kpi");
    char *installed = ts_read_file(completion, NULL);
    char *source = ts_read_file(KPI_SOURCE_DIR "/dist/kpi.bash-completion", NULL);
    ck_assert_ptr_nonnull(installed);
    ck_assert_ptr_nonnull(source);
    ck_assert_str_eq(installed, source);

    char *man = ts_path(prefix, "share/man/man1/kpi.1");
    ck_assert_int_eq(exists(man), exists(KPI_SOURCE_DIR "/docs/kpi.1"));

    /* The unit runs the installed binary on /var/lib/kpi. */
    char *unit_path = ts_path(prefix, "lib/systemd/system/kpi.service");
    char *unit = ts_read_file(unit_path, NULL);
    ck_assert_ptr_nonnull(unit);
    char exec[4096];
    snprintf(exec, sizeof exec,
             "\nExecStart=%s --data /var/lib/kpi serve --listen 127.0.0.1:8080\n", bin);
    ck_assert_msg(strstr(unit, exec) != NULL, "no %s in\n%s", exec, unit);
    ck_assert_ptr_nonnull(strstr(unit, "\nStateDirectory=kpi\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nDynamicUser=yes\n"));
    ck_assert_ptr_nonnull(strstr(unit, "\nLimitNOFILE=65536\n"));
    free(unit);
    free(unit_path);
    free(man);
    free(source);
    free(installed);
    free(completion);
    free(bin);
}
END_TEST

START_TEST(test_unit_verifies_clean)
{
    if (access(SYSTEMD_ANALYZE, X_OK) != 0) {
        fputs("test_unit_verifies_clean: " SYSTEMD_ANALYZE " missing, unit not verified\n", stderr);
        return;
    }
    /* The installed unit names the installed binary, which exists; its
     * Documentation=man:kpi(1) is checked when the man page is installed
     * (MANPATH points at it), else left out with --man=no. */
    char *man = ts_path(prefix, "share/man");
    char *page = ts_path(man, "man1/kpi.1");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "MANPATH='%s' " SYSTEMD_ANALYZE " verify %s '%s/lib/systemd/system/kpi.service'", man,
             exists(page) ? "" : "--man=no", prefix);
    int status;
    char *out = sh(cmd, &status);
    ck_assert_msg(status == 0, "%s: %s", cmd, out);
    ck_assert_msg(out[0] == '\0', "%s says:\n%s", cmd, out);
    free(out);
    free(page);
    free(man);
}
END_TEST

/* The completions of the words after `kpi` (the last one being completed),
 * one per line and sorted, by the installed completion script. */
static char *complete(const char *env, const char *words)
{
    char *script = ts_path(dir, "complete.sh");
    char *completion = ts_path(prefix, "share/bash-completion/completions/kpi");
    char text[8192];
    snprintf(text, sizeof text,
             "shopt -s extglob\n" /* as bash-completion does */
             "source '%s'\n"
             "COMP_WORDS=('%s/bin/kpi' \"$@\")\n"
             "COMP_CWORD=$#\n"
             "_kpi\n"
             "printf '%%s\\n' \"${COMPREPLY[@]}\" | LC_ALL=C sort\n",
             completion, prefix);
    ts_write_file(script, text, (size_t)-1);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KPI_DATA %s bash '%s' %s", dir, env, script,
             words);
    int status;
    char *out = sh(cmd, &status);
    ck_assert_msg(status == 0, "%s: %s", cmd, out);
    free(completion);
    free(script);
    return out;
}

START_TEST(test_completion)
{
    char *data = ts_path(dir, "acme");
    char *teams = ts_path(dir, "teams.csv");
    char *inds = ts_path(dir, "indicators.csv");
    ts_write_file(teams, "team,name,parent\nacme,Acme,\nventes-idf,IDF,acme\nventes-ara,ARA,acme\n",
                  (size_t)-1);
    ts_write_file(inds, "kpi,name,family,unit\nca,CA,financial,EUR\nmarge,Marge,financial,%\n",
                  (size_t)-1);
    struct ts_run r;
    ts_kpi(&r, NULL, (const char *[]){"--data", data, "import", teams, inds, "--quiet", NULL});
    ck_assert_msg(r.status == 0, "import: %s", r.err);
    ts_run_free(&r);

    char *out = complete("", "''");
    ck_assert_str_eq(
        out, "alerts\nbackup\ncheck\ndrift\nexport\ngraph\nhistory\nimport\n"
             "indicators\nlog\nnote\npath\nrestatements\nrevert\nreview\nseries\nserve\nteams\n"
             "token\ntrend\n");
    free(out);
    out = complete("", "--");
    ck_assert_str_eq(out, "--data\n--help\n--version\n");
    free(out);
    out = complete("", "teams --");
    ck_assert_str_eq(out, "--data\n--format\n--help\n--tree\n");
    free(out);
    out = complete("", "teams --format ''");
    ck_assert_str_eq(out, "csv\njson\ntable\n");
    free(out);

    /* ids from --data DIR, --data=DIR, or $KPI_DATA */
    char words[4096];
    snprintf(words, sizeof words, "--data '%s' series ''", data);
    out = complete("", words);
    ck_assert_str_eq(out, "acme\nventes-ara\nventes-idf\n");
    free(out);
    snprintf(words, sizeof words, "--data='%s' series ventes-idf ''", data);
    out = complete("", words);
    ck_assert_str_eq(out, "ca\nmarge\n");
    free(out);
    char env[4096];
    snprintf(env, sizeof env, "KPI_DATA='%s'", data);
    out = complete(env, "alerts --team ventes-");
    ck_assert_str_eq(out, "ventes-ara\nventes-idf\n");
    free(out);
    out = complete(env, "trend --window 3 acme m");
    ck_assert_str_eq(out, "marge\n");
    free(out);
    /* an option's value is not a positional argument: --format takes one */
    out = complete(env, "drift --format csv ventes-");
    ck_assert_str_eq(out, "ventes-ara\nventes-idf\n");
    free(out);
    out = complete(env, "token ''");
    ck_assert_str_eq(out, "add\nlist\nrevoke\n");
    free(out);
    /* a data directory that does not exist: no ids, no error */
    out = complete("", "--data nowhere series ''");
    ck_assert_str_eq(out, "\n");
    free(out);
    out = complete("", "import t");
    ck_assert_str_eq(out, "teams.csv\n");
    free(out);
    free(inds);
    free(teams);
    free(data);
}
END_TEST

static Suite *install_suite(void)
{
    Suite *s = suite_create("cli_install");
    TCase *tc = tcase_create("install");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_install_puts_every_file);
    tcase_add_test(tc, test_unit_verifies_clean);
    tcase_add_test(tc, test_completion);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(install_suite());
}
