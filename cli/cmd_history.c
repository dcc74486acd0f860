/* The history commands (SPEC §10): kpi log, kpi history, kpi restatements. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_FORMAT = 256, OPT_TEAM, OPT_KPI, OPT_LIMIT, OPT_PERIOD, OPT_SINCE };

struct history_args {
    const char *format_text, *team, *kpi, *limit, *period, *since;
    enum report_format format;
    int first;
};

static int parse_history_args(const struct cli_context *ctx, const char *command, int argc,
                              char **argv, struct history_args *a)
{
    static const struct option options[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                            {"team", required_argument, NULL, OPT_TEAM},
                                            {"kpi", required_argument, NULL, OPT_KPI},
                                            {"limit", required_argument, NULL, OPT_LIMIT},
                                            {"period", required_argument, NULL, OPT_PERIOD},
                                            {"since", required_argument, NULL, OPT_SINCE},
                                            {0}};
    memset(a, 0, sizeof *a);
    optind = 0;
    opterr = 0;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        const char **slot = c == OPT_FORMAT   ? &a->format_text
                            : c == OPT_TEAM   ? &a->team
                            : c == OPT_KPI    ? &a->kpi
                            : c == OPT_LIMIT  ? &a->limit
                            : c == OPT_PERIOD ? &a->period
                            : c == OPT_SINCE  ? &a->since
                                              : NULL;
        if (slot == NULL)
            rc = cli_usage_error(command, "unknown option or missing value \"%s\"",
                                 argv[optind - 1]);
        else
            *slot = optarg;
    }
    a->first = optind;
    if (rc == 0)
        rc = cli_output_format(ctx, command, a->format_text, &a->format);
    return rc;
}

/* Refuse the options a command does not take. */
static int only(const char *command, const struct history_args *a, bool team, bool kpi, bool limit,
                bool period, bool since)
{
    const char *bad = !team && a->team       ? "--team"
                      : !kpi && a->kpi       ? "--kpi"
                      : !limit && a->limit   ? "--limit"
                      : !period && a->period ? "--period"
                      : !since && a->since   ? "--since"
                                             : NULL;
    return bad ? cli_usage_error(command, "unknown option \"%s\"", bad) : 0;
}

int cli_cmd_log(const struct cli_context *ctx, int argc, char **argv)
{
    struct history_args a;
    int rc = parse_history_args(ctx, "log", argc, argv, &a);
    if (rc == 0)
        rc = only("log", &a, true, true, true, false, false);
    if (rc != 0)
        return rc;
    if (argc > a.first)
        return cli_usage_error("log", "unexpected argument \"%s\"", argv[a.first]);
    struct store_log_query q = {0};
    if (a.limit != NULL) {
        char *end;
        unsigned long long n = strtoull(a.limit, &end, 10);
        if (a.limit[0] < '0' || a.limit[0] > '9' || *end != '\0' || n == 0 || n > 1000000000ull)
            return cli_usage_error("log", "invalid --limit \"%s\" (expected a whole number >= 1)",
                                   a.limit);
        q.limit = (size_t)n;
    }
    struct store *st;
    struct store_view *view;
    if ((rc = cli_open_catalog(ctx, &st, &view)) != 0)
        return rc;
    size_t i;
    if (a.team != NULL && (rc = cli_resolve_team(view, a.team, &i)) == 0)
        q.team = store_view_team(view, i)->id;
    if (rc == 0 && a.kpi != NULL && (rc = cli_resolve_indicator(view, a.kpi, &i)) == 0)
        q.kpi = store_view_indicator(view, i)->id;
    if (rc == 0) {
        struct kpi_error err = {0};
        struct store_commit *c = NULL;
        size_t n = 0;
        if (store_log(st, &q, &c, &n, &err) != 0)
            rc = cli_fail(&err);
        else if (a.format == REPORT_JSON)
            rc = cli_write_json(report_commits_json(c, n));
        else
            rc = cli_write_table(report_commits_table(c, n), a.format);
        store_commits_free(c, n);
    }
    store_view_free(view);
    store_close(st);
    return rc;
}

int cli_cmd_history(const struct cli_context *ctx, int argc, char **argv)
{
    struct history_args a;
    int rc = parse_history_args(ctx, "history", argc, argv, &a);
    if (rc == 0)
        rc = only("history", &a, false, false, false, true, false);
    if (rc != 0)
        return rc;
    if (argc - a.first != 2)
        return cli_usage_error("history", "expected TEAM KPI");
    int64_t day = 0;
    struct kpi_error err = {0};
    if (a.period != NULL && kpi_date_parse(a.period, NULL, &day, &err) != 0)
        return cli_usage_error("history", "invalid --period: %s", err.message);
    struct store *st;
    struct store_view *view;
    if ((rc = cli_open_catalog(ctx, &st, &view)) != 0)
        return rc;
    size_t team, ind;
    if ((rc = cli_resolve_team(view, argv[a.first], &team)) == 0 &&
        (rc = cli_resolve_indicator(view, argv[a.first + 1], &ind)) == 0) {
        const struct kpi_team *t = store_view_team(view, team);
        const struct kpi_indicator *k = store_view_indicator(view, ind);
        int64_t period = kpi_period_of_day(k->period, day);
        struct store_version *v = NULL;
        size_t n = 0;
        if (store_history(st, t->id, k->id, a.period != NULL ? &period : NULL, &v, &n, &err) != 0)
            rc = cli_fail(&err);
        else if (a.format == REPORT_JSON)
            rc = cli_write_json(report_history_json(t->id, k->id, k->period, v, n));
        else
            rc = cli_write_table(report_history_table(k->period, v, n), a.format);
        store_versions_free(v, n);
    }
    store_view_free(view);
    store_close(st);
    return rc;
}

int cli_cmd_restatements(const struct cli_context *ctx, int argc, char **argv)
{
    struct history_args a;
    int rc = parse_history_args(ctx, "restatements", argc, argv, &a);
    if (rc == 0)
        rc = only("restatements", &a, true, false, false, false, true);
    if (rc != 0)
        return rc;
    if (argc > a.first)
        return cli_usage_error("restatements", "unexpected argument \"%s\"", argv[a.first]);
    struct store *st;
    struct store_view *view;
    if ((rc = cli_open_catalog(ctx, &st, &view)) != 0)
        return rc;
    struct kpi_error err = {0};
    size_t root = SIZE_MAX;
    uint64_t since = 0;
    if (a.team != NULL)
        rc = cli_resolve_team(view, a.team, &root);
    if (rc == 0 && a.since != NULL && store_resolve_commit(st, a.since, &since, &err) != 0)
        rc = cli_fail(&err);
    if (rc == 0) {
        struct store_restatement *r = NULL;
        size_t n = 0;
        if (store_restatements(st, since, &r, &n, &err) != 0) {
            rc = cli_fail(&err);
        } else {
            size_t kept = 0;
            for (size_t i = 0; i < n; i++) {
                if (root == SIZE_MAX || report_team_under(view, r[i].team, root)) {
                    struct store_restatement tmp = r[kept];
                    r[kept++] = r[i];
                    r[i] = tmp;
                }
            }
            if (a.format == REPORT_JSON)
                rc = cli_write_json(report_restatements_json(view, r, kept));
            else
                rc = cli_write_table(report_restatements_table(view, r, kept), a.format);
        }
        store_restatements_free(r, n);
    }
    store_view_free(view);
    store_close(st);
    return rc;
}

static void print_problem(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

int cli_cmd_check(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {{"repair", no_argument, NULL, 'r'}, {0}};
    bool repair = false;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'r')
            repair = true;
        else
            return cli_usage_error("check", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("check", "unexpected argument \"%s\"", argv[optind]);
    struct kpi_error err = {0};
    struct store_options so = {.create = false, .threads = 0};
    struct store *st = NULL;
    if (store_open(ctx->data_dir, &so, &st, &err) != 0)
        return cli_fail(&err);
    struct store_check_sink sink = {print_problem, NULL};
    size_t problems = 0, repaired = 0;
    int rc = store_check(st, repair, &sink, &problems, &repaired, &err);
    store_close(st);
    fflush(stdout);
    if (rc != 0)
        return cli_fail(&err);
    return problems > repaired ? CLI_EXIT_SYSTEM : CLI_EXIT_OK;
}

int cli_cmd_backup(const struct cli_context *ctx, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error("backup", "expected DEST");
    struct kpi_error err = {0};
    struct store_options so = {.create = false, .threads = 0};
    struct store *st = NULL;
    if (store_open(ctx->data_dir, &so, &st, &err) != 0)
        return cli_fail(&err);
    int rc = store_backup(st, argv[1], &err);
    store_close(st);
    return rc != 0 ? cli_fail(&err) : CLI_EXIT_OK;
}

static void print_conflict(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "kpi revert: %s\n", line);
}

int cli_cmd_revert(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"force", no_argument, NULL, 'f'}, {"author", required_argument, NULL, 'a'}, {0}};
    bool force = false;
    const char *author = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'f')
            force = true;
        else if (c == 'a')
            author = optarg;
        else
            return cli_usage_error("revert", "unknown option or missing value \"%s\"",
                                   argv[optind - 1]);
    }
    if (argc - optind != 1)
        return cli_usage_error("revert", "expected one commit number N");
    const char *text = argv[optind];
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || n == 0)
        return cli_usage_error("revert", "invalid commit \"%s\" (expected a number >= 1)", text);
    char login[256];
    author = cli_author(author, login, sizeof login);
    struct kpi_error err = {0};
    struct store_options so = {.create = false, .threads = 0};
    struct store *st = NULL;
    if (store_open(ctx->data_dir, &so, &st, &err) != 0)
        return cli_fail(&err);
    struct store_check_sink sink = {print_conflict, NULL};
    uint64_t cells = 0;
    int rc = store_revert(st, (uint64_t)n, force, author, &sink, &cells, &err);
    store_close(st);
    if (rc != 0)
        return cli_fail(&err);
    printf("reverted commit %llu: %llu cells put back\n", n, (unsigned long long)cells);
    return CLI_EXIT_OK;
}
