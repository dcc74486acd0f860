/* kpi note TEAM KPI DATE TEXT (SPEC §11): set or remove the note of one
 * period, as one commit. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cli_cmd_note(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {{"author", required_argument, NULL, 'a'}, {0}};
    const char *author = NULL;
    optind = 0;
    opterr = 0;
    int c;
    /* "+": options before the operands only, so that a TEXT starting with
     * '-' ("-5 % after the strike") is text */
    while ((c = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        if (c == 'a')
            author = optarg;
        else
            return cli_usage_error("note", "unknown option or missing value \"%s\"",
                                   argv[optind - 1]);
    }
    if (argc - optind != 4)
        return cli_usage_error("note", "expected TEAM KPI DATE TEXT (an empty TEXT removes "
                                       "the note)");
    const char *team = argv[optind], *kpi = argv[optind + 1], *date = argv[optind + 2];
    const char *text = argv[optind + 3];
    struct kpi_error err = {0};
    int64_t day;
    if (kpi_date_parse(date, NULL, &day, &err) != 0)
        return cli_usage_error("note", "invalid DATE: %s", err.message);
    char login[256];
    struct store_note_request rq = {
        .team = team,
        .kpi = kpi,
        .day = day,
        .text = text,
        .len = strlen(text),
        .author = cli_author(author, login, sizeof login),
        .source = "kpi note",
    };
    struct store_options so = {.create = false, .threads = 0};
    struct store *st = NULL;
    if (store_open(ctx->data_dir, &so, &st, &err) != 0)
        return cli_fail(&err);
    uint64_t commit = 0;
    enum store_change change = STORE_UNCHANGED;
    int rc = store_set_note(st, &rq, &commit, &change, &err);
    store_close(st);
    if (rc != 0)
        return cli_fail(&err);
    size_t len = strlen(text);
    bool removal = store_note_trim(text, &len) != NULL && len == 0;
    if (commit == 0)
        printf("unchanged: no commit\n");
    else
        printf("%s in commit %llu\n", removal ? "note removed" : "note set",
               (unsigned long long)commit);
    return CLI_EXIT_OK;
}
