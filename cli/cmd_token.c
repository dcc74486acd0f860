/* kpi token add|list|revoke: the access tokens of SPEC §9 (web/tokens.c
 * keeps them). Whoever can run kpi on the data directory owns it: tokens
 * are managed here only, never over HTTP. */
#include "cli/cli.h"
#include "web/web.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int token_add(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option long_options[] = {{"role", required_argument, NULL, 'r'},
                                                 {"team", required_argument, NULL, 't'},
                                                 {"expires", required_argument, NULL, 'e'},
                                                 {0}};
    const char *role_text = NULL, *refs[WEB_TOKEN_TEAMS_MAX];
    struct web_token_spec spec = {.expires_day = INT64_MAX, .teams = refs};
    struct kpi_error err = {0};
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == 'r') {
            role_text = optarg;
        } else if (c == 't') {
            if (spec.team_count == WEB_TOKEN_TEAMS_MAX)
                return cli_usage_error("token", "too many --team (at most %d)",
                                       WEB_TOKEN_TEAMS_MAX);
            refs[spec.team_count++] = optarg;
        } else if (c == 'e') {
            if (kpi_date_parse(optarg, NULL, &spec.expires_day, &err) != 0)
                return cli_usage_error("token", "invalid --expires: %s", err.message);
            if (spec.expires_day < kpi_today())
                return cli_usage_error("token", "--expires %s is in the past", optarg);
        } else {
            return cli_usage_error("token", "unknown option or missing value \"%s\"",
                                   argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("token", "add expects one NAME");
    spec.name = argv[optind];
    if (role_text == NULL)
        return cli_usage_error("token", "add needs --role read|write");
    if (strcmp(role_text, "read") == 0)
        spec.role = WEB_ROLE_READ;
    else if (strcmp(role_text, "write") == 0)
        spec.role = WEB_ROLE_WRITE;
    else
        return cli_usage_error("token", "invalid --role \"%s\" (expected read or write)",
                               role_text);
    if (!kpi_id_valid(spec.name))
        return cli_usage_error(
            "token", "invalid NAME \"%s\" (expected an id: [a-z0-9][a-z0-9_.-]*)", spec.name);

    /* --team references are resolved like every team argument, and must
     * name existing teams: a typo would make a token that sees nothing. */
    char ids[WEB_TOKEN_TEAMS_MAX][KPI_ID_MAX + 1];
    const char *resolved[WEB_TOKEN_TEAMS_MAX];
    int rc = CLI_EXIT_OK;
    if (spec.team_count > 0) {
        struct store *st;
        struct store_view *view;
        if ((rc = cli_open_view(ctx, &st, &view)) != 0)
            return rc;
        for (size_t i = 0; rc == 0 && i < spec.team_count; i++) {
            size_t index;
            rc = cli_resolve_team(view, refs[i], &index);
            if (rc == 0) {
                snprintf(ids[i], sizeof ids[i], "%s", store_view_team(view, index)->id);
                resolved[i] = ids[i];
            }
        }
        store_view_free(view);
        store_close(st);
        if (rc != 0)
            return rc;
        spec.teams = resolved;
    }
    char secret[WEB_SECRET_MAX];
    if (web_token_add(ctx->data_dir, &spec, secret, &err) != 0)
        return err.code == KPI_EUSAGE ? cli_usage_error("token", "%s", err.message)
                                      : cli_fail(&err);
    puts(secret);
    fflush(stdout);
    memset(secret, 0, sizeof secret);
    return CLI_EXIT_OK;
}

static void teams_text(const struct web_token *k, char *buf, size_t cap, const char *sep,
                       bool quoted)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k->team_count && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, quoted ? "%s\"%s\"" : "%s%s", i ? sep : "",
                                 k->teams[i]);
}

static int token_list(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option long_options[] = {{"format", required_argument, NULL, 'f'}, {0}};
    const char *format_text = NULL;
    optind = 0;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (c == 'f')
            format_text = optarg;
        else
            return cli_usage_error("token", "unknown option or missing value \"%s\"",
                                   argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("token", "unexpected argument \"%s\"", argv[optind]);
    enum report_format format;
    if ((rc = cli_output_format(ctx, "token", format_text, &format)) != 0)
        return rc;
    struct kpi_error err = {0};
    struct web_tokens *t = NULL;
    if (web_tokens_load(ctx->data_dir, &t, &err) != 0)
        return cli_fail(&err);
    static char teams[WEB_TOKEN_TEAMS_MAX * (KPI_ID_MAX + 3) + 8];
    if (format == REPORT_JSON) {
        /* every field is an id, a fixed word or a date: nothing to escape */
        fputs("{\"tokens\":[", stdout);
        for (size_t i = 0; i < t->count; i++) {
            const struct web_token *k = &t->items[i];
            char created[24], used[24], expires[KPI_LABEL_MAX];
            teams_text(k, teams, sizeof teams, ",", true);
            printf("%s{\"name\":\"%s\",\"role\":\"%s\",\"teams\":[%s],\"created\":\"%s\","
                   "\"expires\":",
                   i ? "," : "", k->name, k->role == WEB_ROLE_WRITE ? "write" : "read", teams,
                   web_time_label(k->created, created));
            if (k->expires_day == INT64_MAX)
                fputs("null", stdout);
            else
                printf("\"%s\"", kpi_day_label(k->expires_day, expires));
            if (k->last_used > 0)
                printf(",\"last_used\":\"%s\"}", web_time_label(k->last_used, used));
            else
                fputs(",\"last_used\":null}", stdout);
        }
        fputs("]}\n", stdout);
        web_tokens_free(t);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_SYSTEM;
    }
    static const char *const headers[] = {"name",    "role",    "teams",
                                          "created", "expires", "last_used"};
    struct report_table *table = report_table_new(6, headers, NULL);
    for (size_t i = 0; table != NULL && i < t->count; i++) {
        const struct web_token *k = &t->items[i];
        char created[24], used[24], expires[KPI_LABEL_MAX];
        teams_text(k, teams, sizeof teams, format == REPORT_CSV ? " " : ",", false);
        const char *cells[6] = {
            k->name,
            k->role == WEB_ROLE_WRITE ? "write" : "read",
            teams,
            web_time_label(k->created, created),
            k->expires_day == INT64_MAX ? "" : kpi_day_label(k->expires_day, expires),
            k->last_used > 0 ? web_time_label(k->last_used, used) : ""};
        if (report_table_add(table, cells) != 0) {
            report_table_free(table);
            table = NULL;
        }
    }
    web_tokens_free(t);
    return cli_write_table(table, format);
}

static int token_revoke(const struct cli_context *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error("token", "revoke expects one NAME");
    struct kpi_error err = {0};
    if (web_token_revoke(ctx->data_dir, argv[1], &err) != 0)
        return cli_fail(&err);
    struct web_tokens *left = NULL;
    if (web_tokens_load(ctx->data_dir, &left, &err) == 0 && left->count == 0)
        fprintf(stderr, "kpi token: no token left: kpi serve answers everyone again, read-only "
                        "(SPEC: a data directory without tokens is open)\n");
    web_tokens_free(left);
    return CLI_EXIT_OK;
}

int cli_cmd_token(const struct cli_context *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("token", "expected add, list or revoke");
    /* argv[1] is the subcommand; getopt starts after it */
    if (strcmp(argv[1], "add") == 0)
        return token_add(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return token_list(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return token_revoke(ctx, argc - 1, argv + 1);
    return cli_usage_error("token", "unknown subcommand \"%s\" (expected add, list or revoke)",
                           argv[1]);
}
