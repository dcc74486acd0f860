/* kpi graph: the chart of one series, rendered by RRDtool, into a file. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds of the graph area, as the HTTP API's graph.svg/png accept them. */
#define WIDTH_MIN 200
#define WIDTH_MAX 2000
#define HEIGHT_MIN 100
#define HEIGHT_MAX 1000

enum { OPT_FROM = 256, OPT_TO, OPT_WIDTH, OPT_HEIGHT, OPT_KNOWN_AT };

static int parse_size(const char *name, const char *text, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max)
        return cli_usage_error("graph", "invalid --%s \"%s\" (expected %u to %u pixels)", name,
                               text, min, max);
    *out = (unsigned)v;
    return 0;
}

static int parse_day(const char *name, const char *text, int64_t *out)
{
    struct kpi_error err = {0};
    if (kpi_date_parse(text, NULL, out, &err) != 0)
        return cli_usage_error("graph", "invalid --%s: %s", name, err.message);
    return 0;
}

/* The image format of an output path, from its extension. */
static int format_of(const char *path, bool *png)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot != NULL && (slash == NULL || dot > slash) && dot[1] != '\0') {
        if (strcasecmp(dot, ".svg") == 0 || strcasecmp(dot, ".png") == 0) {
            *png = strcasecmp(dot, ".png") == 0;
            return 0;
        }
    }
    return cli_usage_error("graph",
                           "cannot tell the image format of \"%s\" (expected a .svg or "
                           ".png file name)",
                           path);
}

int cli_cmd_graph(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {{"output", required_argument, NULL, 'o'},
                                            {"from", required_argument, NULL, OPT_FROM},
                                            {"to", required_argument, NULL, OPT_TO},
                                            {"width", required_argument, NULL, OPT_WIDTH},
                                            {"height", required_argument, NULL, OPT_HEIGHT},
                                            {"known-at", required_argument, NULL, OPT_KNOWN_AT},
                                            {0}};
    struct store_graph_options g = {
        .from_day = INT64_MIN, .to_day = INT64_MAX, .width = 800, .height = 300};
    const char *output = NULL, *known_at = NULL;
    optind = 0;
    opterr = 0;
    int c, rc = 0;
    /* "o:" rather than the usual "": -o FILE is the command's own short form */
    while (rc == 0 && (c = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case OPT_FROM:
            rc = parse_day("from", optarg, &g.from_day);
            break;
        case OPT_TO:
            rc = parse_day("to", optarg, &g.to_day);
            break;
        case OPT_WIDTH:
            rc = parse_size("width", optarg, WIDTH_MIN, WIDTH_MAX, &g.width);
            break;
        case OPT_HEIGHT:
            rc = parse_size("height", optarg, HEIGHT_MIN, HEIGHT_MAX, &g.height);
            break;
        case OPT_KNOWN_AT:
            known_at = optarg;
            break;
        default:
            rc = cli_usage_error("graph", "unknown option or missing value \"%s\"",
                                 argv[optind - 1]);
        }
    }
    if (rc != 0)
        return rc;
    if (argc - optind != 2)
        return cli_usage_error("graph", "expected TEAM KPI");
    if (output == NULL || output[0] == '\0')
        return cli_usage_error("graph", "missing -o FILE.svg|FILE.png");
    if ((rc = format_of(output, &g.png)) != 0)
        return rc;
    if (g.from_day != INT64_MIN && g.to_day != INT64_MAX && g.from_day > g.to_day)
        return cli_usage_error("graph", "--from is after --to");

    struct store *st;
    struct store_view *view;
    if ((rc = cli_open_view_for(ctx, known_at, argv[optind], argv[optind + 1], &st, &view)) != 0)
        return rc;
    size_t team, ind;
    if ((rc = cli_resolve_team(view, argv[optind], &team)) == 0 &&
        (rc = cli_resolve_indicator(view, argv[optind + 1], &ind)) == 0) {
        void *image = NULL;
        size_t size = 0;
        struct kpi_error err = {0};
        if (store_graph(st, view, team, ind, &g, &image, &size, &err) != 0 ||
            cli_write_file(output, image, size, &err) != 0)
            rc = cli_fail(&err);
        free(image);
    }
    store_view_free(view);
    store_close(st);
    return rc;
}
