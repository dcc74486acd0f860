/* Helpers every command uses: opening the data directory, resolving team and
 * indicator arguments, choosing and writing the output format. */
#include "cli/cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *cli_author(const char *flag, char *buf, size_t cap)
{
    if (flag != NULL && flag[0] != '\0')
        return flag;
    const char *env = getenv("KPI_AUTHOR");
    if (env != NULL && env[0] != '\0')
        return env;
    if (getlogin_r(buf, cap) == 0 && buf[0] != '\0')
        return buf;
    struct passwd pw, *found = NULL;
    char scratch[1024];
    if (getpwuid_r(geteuid(), &pw, scratch, sizeof scratch, &found) == 0 && found != NULL &&
        found->pw_name[0] != '\0') {
        snprintf(buf, cap, "%s", found->pw_name);
        return buf;
    }
    snprintf(buf, cap, "unknown");
    return buf;
}

int cli_open_view(const struct cli_context *ctx, struct store **st, struct store_view **view)
{
    return cli_open_view_at(ctx, NULL, st, view);
}

/* The view of a scope (NULL: everything) at known_at. */
static int open_scoped(const struct cli_context *ctx, const char *known_at,
                       const struct store_scope *scope, struct store **st, struct store_view **view)
{
    struct kpi_error err = {0};
    struct store_options opts = {.create = false, .threads = 0};
    *st = NULL;
    *view = NULL;
    if (store_open(ctx->data_dir, &opts, st, &err) != 0)
        return cli_fail(&err);
    uint64_t commit = 0;
    if (known_at != NULL && store_resolve_commit(*st, known_at, &commit, &err) != 0) {
        store_close(*st);
        *st = NULL;
        return cli_fail(&err);
    }
    if (store_view_open_scoped(*st, commit, scope, view, &err) != 0) {
        store_close(*st);
        *st = NULL;
        return cli_fail(&err);
    }
    return CLI_EXIT_OK;
}

int cli_open_catalog(const struct cli_context *ctx, struct store **st, struct store_view **view)
{
    struct store_scope scope = {.catalog_only = true};
    return open_scoped(ctx, NULL, &scope, st, view);
}

int cli_open_view_at(const struct cli_context *ctx, const char *known_at, struct store **st,
                     struct store_view **view)
{
    return cli_open_view_for(ctx, known_at, NULL, NULL, st, view);
}

int cli_open_view_for(const struct cli_context *ctx, const char *known_at, const char *team,
                      const char *kpi, struct store **st, struct store_view **view)
{
    struct store_scope scope = {.team = team, .kpi = kpi};
    return open_scoped(ctx, known_at, team != NULL ? &scope : NULL, st, view);
}

int cli_resolve_team(const struct store_view *view, const char *ref, size_t *index)
{
    struct kpi_error err = {0};
    return store_view_resolve_team(view, ref, index, &err) == 0 ? CLI_EXIT_OK : cli_fail(&err);
}

int cli_resolve_indicator(const struct store_view *view, const char *ref, size_t *index)
{
    struct kpi_error err = {0};
    return store_view_resolve_indicator(view, ref, index, &err) == 0 ? CLI_EXIT_OK : cli_fail(&err);
}

int cli_output_format(const struct cli_context *ctx, const char *command, const char *value,
                      enum report_format *out)
{
    if (value == NULL) {
        *out = ctx->stdout_tty ? REPORT_TABLE : REPORT_CSV;
        return CLI_EXIT_OK;
    }
    if (report_format_parse(value, out) != 0)
        return cli_usage_error(command, "invalid --format \"%s\" (expected table, csv or json)",
                               value);
    return CLI_EXIT_OK;
}

static int out_of_memory(void)
{
    struct kpi_error err = {0};
    kpi_fail(&err, KPI_ESYSTEM, "out of memory");
    return cli_fail(&err);
}

int cli_write_table(struct report_table *t, enum report_format format)
{
    if (t == NULL)
        return out_of_memory();
    int rc = report_table_write(t, format, stdout);
    report_table_free(t);
    if (rc != 0 || fflush(stdout) != 0) {
        struct kpi_error err = {0};
        kpi_fail(&err, KPI_ESYSTEM, "cannot write to standard output");
        return cli_fail(&err);
    }
    return CLI_EXIT_OK;
}

int cli_write_json(char *doc)
{
    if (doc == NULL)
        return out_of_memory();
    fputs(doc, stdout);
    fputc('\n', stdout);
    free(doc);
    if (fflush(stdout) != 0) {
        struct kpi_error err = {0};
        kpi_fail(&err, KPI_ESYSTEM, "cannot write to standard output");
        return cli_fail(&err);
    }
    return CLI_EXIT_OK;
}
