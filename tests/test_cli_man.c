/* kpi(1): docs/kpi.1 is what `kpi --man` writes from the help texts (so the
 * committed manual is never behind the binary), man renders it without a
 * warning, and every option that `kpi --help` and `kpi CMD --help` list is
 * in the manual's section of that command, and back. */
#include "support/support.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAN_PAGE KPI_SOURCE_DIR "/docs/kpi.1"
#define TOKENS_MAX 64

/* The options named in text: words "-x" or "--xx-yy" that do not follow a
 * letter or digit (so YYYY-MM is not one), without a trailing "=VALUE". */
struct tokens {
    size_t count;
    char name[TOKENS_MAX][32];
};

static void add_token(struct tokens *t, const char *s, size_t len)
{
    for (size_t i = 0; i < t->count; i++)
        if (strlen(t->name[i]) == len && strncmp(t->name[i], s, len) == 0)
            return;
    ck_assert_uint_lt(t->count, TOKENS_MAX);
    ck_assert_uint_lt(len, sizeof t->name[0]);
    memcpy(t->name[t->count], s, len);
    t->name[t->count][len] = '\0';
    t->count++;
}

static void options_in(const char *text, struct tokens *t)
{
    memset(t, 0, sizeof *t);
    for (const char *p = text; *p; p++) {
        if (*p != '-' || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
            continue;
        size_t len = strspn(p, "-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        while (len > 0 && p[len - 1] == '-')
            len--;
        size_t dashes = strspn(p, "-");
        if (dashes <= 2 && len > dashes && isalpha((unsigned char)p[dashes]))
            add_token(t, p, len);
        p += len > 0 ? len - 1 : 0;
    }
}

/* troff to plain text enough for options: "\-" is "-", "\&" nothing. */
static char *unroff(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    while (*s) {
        if (s[0] == '\\' && (s[1] == '-' || s[1] == '&')) {
            if (s[1] == '-')
                *o++ = '-';
            s += 2;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* The text of the man page from the line starting with start up to the next
 * ".SS " or ".SH " line. Caller frees. */
static char *section(const char *man, const char *start)
{
    const char *p = man;
    size_t n = strlen(start);
    while (p != NULL && strncmp(p, start, n) != 0) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    ck_assert_msg(p != NULL, "the man page has no line %s", start);
    const char *end = p + n;
    while ((end = strchr(end, '\n')) != NULL && strncmp(end + 1, ".SS ", 4) != 0 &&
           strncmp(end + 1, ".SH ", 4) != 0)
        end++;
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *raw = strndup(p, len);
    char *text = unroff(raw);
    free(raw);
    return text;
}

static char *help_of(const char *command)
{
    struct ts_run r;
    const char *with_cmd[] = {command, "--help", NULL};
    const char *global[] = {"--help", NULL};
    ts_kpi(&r, NULL, command ? with_cmd : global);
    ck_assert_msg(r.status == 0, "kpi %s --help: exit %d", command ? command : "", r.status);
    free(r.err);
    return r.out;
}

static bool has_token(const struct tokens *t, const char *name)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->name[i], name) == 0)
            return true;
    return false;
}

static void expect_same_options(const char *what, const char *help, const char *man)
{
    struct tokens h, m;
    options_in(help, &h);
    options_in(man, &m);
    for (size_t i = 0; i < h.count; i++)
        ck_assert_msg(has_token(&m, h.name[i]), "%s: option %s of --help is not in the man page",
                      what, h.name[i]);
    for (size_t i = 0; i < m.count; i++)
        ck_assert_msg(has_token(&h, m.name[i]), "%s: option %s of the man page is not in --help",
                      what, m.name[i]);
}

START_TEST(test_docs_kpi_1_is_what_the_binary_writes)
{
    char *committed = ts_read_file(MAN_PAGE, NULL);
    ck_assert_msg(committed != NULL, "docs/kpi.1 is missing");
    struct ts_run r;
    const char *argv[] = {"--man", NULL};
    ts_kpi(&r, NULL, argv);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.err, "");
    ck_assert_msg(strcmp(committed, r.out) == 0,
                  "docs/kpi.1 is not what `kpi --man` writes from the help texts: copy "
                  "<build>/kpi.1 to docs/kpi.1");
    ck_assert_ptr_nonnull(strstr(r.out, ".TH KPI 1 "));
    ts_run_free(&r);
    free(committed);
}
END_TEST

START_TEST(test_man_renders_docs_kpi_1_without_warnings)
{
    static const char *const widths[] = {"80", "60", "120"};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "MANWIDTH=%s LC_ALL=C.UTF-8 man --warnings -l '%s' 2>&1 >/dev/null; "
                 "echo \"exit $?\"",
                 widths[i], MAN_PAGE);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        char out[4096];
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        pclose(p);
        ck_assert_msg(strcmp(out, "exit 0\n") == 0,
                      "man --warnings (MANWIDTH=%s) says: %s (man is in the Debian packages "
                      "man-db and groff-base, see scripts/deps.sh)",
                      widths[i], out);
    }
}
END_TEST

START_TEST(test_every_command_and_option_of_help_is_in_the_man_page)
{
    char *man = ts_read_file(MAN_PAGE, NULL);
    ck_assert_ptr_nonnull(man);
    char *main_help = help_of(NULL);

    /* global options: kpi --help above "Commands:" against OPTIONS */
    char *commands = strstr(main_help, "\nCommands:\n");
    ck_assert_ptr_nonnull(commands);
    *commands = '\0';
    char *global = section(man, ".SH OPTIONS");
    expect_same_options("kpi", main_help, global);
    free(global);

    size_t seen = 0;
    for (char *line = commands + 11; line && *line == ' ' && line[2] != ' ';) {
        char name[32];
        ck_assert_int_eq(sscanf(line, " %31s", name), 1);
        char start[64];
        snprintf(start, sizeof start, ".SS \"kpi %s\"", name);
        char *text = section(man, start);
        char *help = help_of(name);
        expect_same_options(name, help, text);
        free(help);
        free(text);
        seen++;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    ck_assert_uint_ge(seen, 11);
    ck_assert_uint_eq(seen, ts_count_lines_with(man, ".SS \"kpi "));
    free(main_help);
    free(man);
}
END_TEST

/* The token reader itself: options, not dates or ranges. */
START_TEST(test_option_reader_finds_options_only)
{
    struct tokens t;
    options_in("kpi [--data DIR] -o FILE --on-error skip 2026-01 '-' (--as-of, x-y", &t);
    ck_assert_uint_eq(t.count, 4);
    ck_assert_str_eq(t.name[0], "--data");
    ck_assert_str_eq(t.name[1], "-o");
    ck_assert_str_eq(t.name[2], "--on-error");
    ck_assert_str_eq(t.name[3], "--as-of");
    char *plain = unroff("\\-\\-stale\\-after \\&.svg");
    ck_assert_str_eq(plain, "--stale-after .svg");
    free(plain);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_man");
    TCase *tc = tcase_create("man");
    tcase_add_test(tc, test_docs_kpi_1_is_what_the_binary_writes);
    tcase_add_test(tc, test_man_renders_docs_kpi_1_without_warnings);
    tcase_add_test(tc, test_every_command_and_option_of_help_is_in_the_man_page);
    tcase_add_test(tc, test_option_reader_finds_options_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
