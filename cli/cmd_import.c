/* kpi import FILE... : options, then one transaction per file. */
#include "cli/import.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_KIND = 256,
    OPT_TEAM,
    OPT_KPI,
    OPT_COLUMN,
    OPT_DATE_FORMAT,
    OPT_ENCODING,
    OPT_DELIMITER,
    OPT_DECIMAL,
    OPT_HEADER_LINE,
    OPT_STRICT,
    OPT_AGGREGATE,
    OPT_ON_ERROR,
    OPT_REJECTS,
    OPT_DRY_RUN,
    OPT_QUIET,
    OPT_JSON,
    OPT_AUTHOR,
};

static const struct option import_options[] = {
    {"kind", required_argument, NULL, OPT_KIND},
    {"team", required_argument, NULL, OPT_TEAM},
    {"kpi", required_argument, NULL, OPT_KPI},
    {"column", required_argument, NULL, OPT_COLUMN},
    {"date-format", required_argument, NULL, OPT_DATE_FORMAT},
    {"encoding", required_argument, NULL, OPT_ENCODING},
    {"delimiter", required_argument, NULL, OPT_DELIMITER},
    {"decimal", required_argument, NULL, OPT_DECIMAL},
    {"header-line", required_argument, NULL, OPT_HEADER_LINE},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"aggregate", no_argument, NULL, OPT_AGGREGATE},
    {"on-error", required_argument, NULL, OPT_ON_ERROR},
    {"rejects", required_argument, NULL, OPT_REJECTS},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"json", no_argument, NULL, OPT_JSON},
    {"author", required_argument, NULL, OPT_AUTHOR},
    {0},
};

static int parse_kind(const char *text, enum ingest_kind *out)
{
    static const char *const names[] = {"observations", "targets", "teams", "indicators"};
    static const enum ingest_kind kinds[] = {INGEST_KIND_OBSERVATIONS, INGEST_KIND_TARGETS,
                                             INGEST_KIND_TEAMS, INGEST_KIND_INDICATORS};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = kinds[i];
            return 0;
        }
    }
    return cli_usage_error(
        "import", "invalid --kind \"%s\" (expected observations, targets, teams or indicators)",
        text);
}

static int parse_column(const char *text, struct ingest_options *opts)
{
    const char *eq = strchr(text, '=');
    char role_text[16];
    enum ingest_role role;
    if (eq == NULL || eq == text || (size_t)(eq - text) >= sizeof role_text || eq[1] == '\0')
        return cli_usage_error("import", "invalid --column \"%s\" (expected ROLE=HEADER)", text);
    memcpy(role_text, text, (size_t)(eq - text));
    role_text[eq - text] = '\0';
    if (ingest_role_parse(role_text, &role) != 0)
        return cli_usage_error("import",
                               "invalid --column role \"%s\" (expected date, team, kpi, value, "
                               "target or note)",
                               role_text);
    opts->column[role] = eq + 1;
    return 0;
}

static int parse_char_option(const char *name, const char *text, const char *allowed, char *out)
{
    if (strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0)
        text = "\t";
    if (strlen(text) != 1 || strchr(allowed, text[0]) == NULL)
        return cli_usage_error("import", "invalid --%s \"%s\"", name, text);
    *out = text[0];
    return 0;
}

/* --header-line N: the physical line of the header, 1 to 1000000. */
static int parse_header_line(const char *text, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] < '1' || text[0] > '9' || *end != '\0' || v > 1000000)
        return cli_usage_error("import", "invalid --header-line \"%s\" (expected a line number)",
                               text);
    *out = v;
    return 0;
}

/* Fill settings from argv; *first_file is the index of the first file. */
static int parse_import_options(int argc, char **argv, struct import_settings *s,
                                const char **rejects_path, int *first_file)
{
    optind = 0;
    opterr = 0;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "", import_options, NULL)) != -1) {
        switch (c) {
        case OPT_KIND:
            rc = parse_kind(optarg, &s->ingest.kind);
            break;
        case OPT_TEAM:
            s->ingest.team = optarg;
            break;
        case OPT_KPI:
            s->ingest.kpi = optarg;
            break;
        case OPT_COLUMN:
            rc = parse_column(optarg, &s->ingest);
            break;
        case OPT_DATE_FORMAT:
            s->ingest.date_format = optarg;
            break;
        case OPT_ENCODING:
            if (strcmp(optarg, "utf-8") == 0 || strcmp(optarg, "utf8") == 0)
                s->ingest.encoding = INGEST_ENCODING_UTF8;
            else if (strcmp(optarg, "cp1252") == 0 || strcmp(optarg, "windows-1252") == 0)
                s->ingest.encoding = INGEST_ENCODING_CP1252;
            else
                rc = cli_usage_error(
                    "import", "invalid --encoding \"%s\" (expected utf-8 or cp1252)", optarg);
            break;
        case OPT_DELIMITER:
            rc = parse_char_option("delimiter", optarg, ",;\t", &s->ingest.delimiter);
            break;
        case OPT_DECIMAL:
            rc = parse_char_option("decimal", optarg, ".,", &s->ingest.decimal);
            break;
        case OPT_HEADER_LINE:
            rc = parse_header_line(optarg, &s->ingest.header_line);
            break;
        case OPT_STRICT:
            s->strict = true;
            break;
        case OPT_AGGREGATE:
            s->aggregate = true;
            break;
        case OPT_ON_ERROR:
            if (strcmp(optarg, "abort") == 0 || strcmp(optarg, "skip") == 0)
                s->skip_errors = strcmp(optarg, "skip") == 0;
            else
                rc = cli_usage_error("import", "invalid --on-error \"%s\" (expected abort or skip)",
                                     optarg);
            break;
        case OPT_REJECTS:
            *rejects_path = optarg;
            break;
        case OPT_DRY_RUN:
            s->dry_run = true;
            break;
        case OPT_QUIET:
            s->quiet = true;
            break;
        case OPT_JSON:
            s->json = true;
            break;
        case OPT_AUTHOR:
            s->author = optarg;
            break;
        default:
            rc = cli_usage_error("import", "unknown option or missing value \"%s\"",
                                 argv[optind - 1]);
        }
    }
    *first_file = optind;
    return rc;
}

int cli_cmd_import(const struct cli_context *ctx, int argc, char **argv)
{
    struct import_settings settings = {0};
    const char *rejects_path = NULL;
    int first, rc = parse_import_options(argc, argv, &settings, &rejects_path, &first);
    if (rc != 0)
        return rc;
    if (first == argc)
        return cli_usage_error("import", "expected at least one FILE");
    if (rejects_path && !settings.skip_errors)
        return cli_usage_error("import", "--rejects needs --on-error skip");
    settings.progress = ctx->stderr_tty && !settings.quiet;
    char login[256];
    settings.author = cli_author(settings.author, login, sizeof login);

    struct kpi_error err = {0};
    struct store_options store_opts = {
        .create = !settings.dry_run, .read_only = settings.dry_run, .threads = 0};
    struct store *st = NULL;
    if (store_open(ctx->data_dir, &store_opts, &st, &err) != 0)
        return cli_fail(&err);
    if (rejects_path) {
        settings.rejects = fopen(rejects_path, "w");
        if (settings.rejects == NULL) {
            kpi_fail(&err, KPI_ESYSTEM, "cannot write %s", rejects_path);
            store_close(st);
            return cli_fail(&err);
        }
    }
    /* Every file is its own transaction: a bad file does not stop the
     * others; the exit code is the worst one. */
    int worst = CLI_EXIT_OK;
    for (int i = first; i < argc; i++) {
        int file_rc = import_file(st, argv[i], &settings);
        if (file_rc > worst)
            worst = file_rc;
    }
    if (settings.rejects && fclose(settings.rejects) != 0) {
        kpi_fail(&err, KPI_ESYSTEM, "cannot write %s", rejects_path);
        worst = cli_fail(&err);
    }
    store_close(st);
    return worst;
}
