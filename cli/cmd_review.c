/* kpi review: the review report of SPEC §11, one self-contained HTML page,
 * into a file (or standard output). */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_AS_OF = 256, OPT_WINDOW, OPT_STALE, OPT_KNOWN_AT, OPT_SINCE };

static int parse_count(const char *name, const char *text, unsigned min, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || v < min || v > 10000)
        return cli_usage_error("review", "invalid --%s \"%s\" (expected a whole number >= %u)",
                               name, text, min);
    *out = (unsigned)v;
    return 0;
}

int cli_cmd_review(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {{"output", required_argument, NULL, 'o'},
                                            {"as-of", required_argument, NULL, OPT_AS_OF},
                                            {"window", required_argument, NULL, OPT_WINDOW},
                                            {"stale-after", required_argument, NULL, OPT_STALE},
                                            {"known-at", required_argument, NULL, OPT_KNOWN_AT},
                                            {"since", required_argument, NULL, OPT_SINCE},
                                            {0}};
    struct query_options opt;
    query_options_default(&opt, kpi_today());
    const char *output = NULL;
    const char *known_at = NULL, *since = NULL;
    optind = 0;
    opterr = 0;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
        struct kpi_error why = {0};
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case OPT_AS_OF:
            if (kpi_date_parse(optarg, NULL, &opt.as_of_day, &why) != 0)
                rc = cli_usage_error("review", "invalid --as-of: %s", why.message);
            break;
        case OPT_WINDOW:
            rc = parse_count("window", optarg, 1, &opt.window);
            break;
        case OPT_STALE:
            rc = parse_count("stale-after", optarg, 0, &opt.stale_after);
            break;
        case OPT_KNOWN_AT:
            known_at = optarg;
            break;
        case OPT_SINCE:
            since = optarg;
            break;
        default:
            rc = cli_usage_error("review", "unknown option or missing value \"%s\"",
                                 argv[optind - 1]);
        }
    }
    if (rc != 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage_error("review", "expected at most one TEAM");
    if (output != NULL && output[0] == '\0')
        return cli_usage_error("review", "empty -o FILE");

    struct kpi_error err = {0};
    struct store *st = NULL;
    struct store_view *view = NULL;
    struct query *q = NULL;
    if ((rc = cli_open_view_at(ctx, known_at, &st, &view)) != 0)
        return rc;
    struct report_review_input in = {.st = st,
                                     .view = view,
                                     .opt = opt,
                                     .options = {.team = QUERY_NONE},
                                     .charts = true,
                                     .restatements = true};
    /* --since N|DATETIME, else the last commit before the as-of month */
    if (since != NULL && store_resolve_commit(st, since, &in.since, &err) != 0)
        rc = cli_usage_error("review", "invalid --since: %s", err.message);
    else if (since == NULL && report_review_default_since(st, opt.as_of_day, &in.since, &err) != 0)
        rc = cli_fail(&err);
    if (rc == 0 && argc - optind == 1)
        rc = cli_resolve_team(view, argv[optind], &in.options.team);
    if (rc == 0 && report_analysis_open(view, false, &q, &err) != 0)
        rc = cli_fail(&err);
    if (rc == 0) {
        in.q = q;
        char *html = NULL;
        size_t len = 0;
        if (report_review_html(&in, &html, &len, &err) != 0)
            rc = cli_fail(&err);
        else if (output != NULL && cli_write_file(output, html, len, &err) != 0)
            rc = cli_fail(&err);
        else if (output == NULL && (fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0))
            rc = cli_fail(&(struct kpi_error){KPI_ESYSTEM, "cannot write standard output"});
        free(html);
    }
    query_free(q);
    store_view_free(view);
    store_close(st);
    return rc;
}
