/* kpi serve: the HTTP query server and dashboard (web/), until SIGINT or
 * SIGTERM. */
#include "cli/cli.h"
#include "cli/import.h"
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The importer of uploads (POST /api/v1/imports): import_file on the
 * spooled body, exactly as `kpi import`, with its errors and summary handed
 * back instead of printed. Each upload opens its own store: a writer waits
 * for the data directory's lock like a second `kpi import`. */
static void serve_import(void *ctx, const struct web_import_job *job, struct web_import_result *out)
{
    (void)ctx;
    struct import_hooks hooks = {.ctx = job->bad_ctx,
                                 .bad_row = job->bad_row,
                                 .team_allowed = job->team_allowed,
                                 .team_ctx = job->team_ctx};
    struct import_settings settings = {.ingest = job->ingest,
                                       .strict = job->strict,
                                       .aggregate = job->aggregate,
                                       .skip_errors = job->skip_errors,
                                       .dry_run = job->dry_run,
                                       .quiet = true,
                                       .json = true,
                                       .display_name = job->name,
                                       .author = job->author,
                                       .hooks = &hooks};
    struct store_options so = {.create = !job->dry_run, .read_only = job->dry_run, .threads = 0};
    struct store *st = NULL;
    memset(out, 0, sizeof *out);
    if (store_open(job->dir, &so, &st, &out->err) != 0) {
        out->status = KPI_ESYSTEM;
        return;
    }
    int code = import_file(st, job->path, &settings);
    store_close(st);
    out->summary_json = hooks.summary_json;
    out->commit = hooks.commit;
    out->catalog_refused = hooks.catalog_refused;
    out->err = hooks.err;
    out->status = code == CLI_EXIT_OK      ? 0
                  : code == CLI_EXIT_USAGE ? KPI_EUSAGE
                  : code == CLI_EXIT_INPUT ? KPI_EINPUT
                                           : KPI_ESYSTEM;
}

/* The whole of a PEM file (caller frees), or NULL with err set. */
static char *read_pem(const char *path, struct kpi_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        kpi_fail(err, KPI_ESYSTEM, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct kpi_buf b = {0};
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = b.len + n > 1024 * 1024 ? KPI_EINPUT : kpi_buf_append(&b, chunk, n);
    bool bad = ferror(f) || rc != 0 || b.len == 0;
    fclose(f);
    if (bad) {
        kpi_buf_free(&b);
        kpi_fail(err, KPI_ESYSTEM, "cannot read %s (empty, unreadable or over 1 MiB)", path);
        return NULL;
    }
    return b.data;
}

static bool loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return strcmp(host, "localhost") == 0;
}

static int parse_size(const char *text, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || errno != 0 || v == 0 ||
        v > (unsigned long long)SIZE_MAX)
        return cli_usage_error("serve", "invalid --max-upload \"%s\" (expected a number of bytes)",
                               text);
    *out = (size_t)v;
    return 0;
}

static int parse_threads(const char *text, unsigned *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 64)
        return cli_usage_error("serve", "invalid --threads \"%s\" (expected 1 to 64)", text);
    *out = (unsigned)v;
    return 0;
}

int cli_cmd_serve(const struct cli_context *ctx, int argc, char **argv)
{
    static const struct option long_options[] = {{"listen", required_argument, NULL, 'l'},
                                                 {"threads", required_argument, NULL, 't'},
                                                 {"as-of", required_argument, NULL, 'a'},
                                                 {"tls-cert", required_argument, NULL, 'c'},
                                                 {"tls-key", required_argument, NULL, 'k'},
                                                 {"access-log", required_argument, NULL, 'g'},
                                                 {"max-upload", required_argument, NULL, 'm'},
                                                 {"upload-timeout", required_argument, NULL, 'u'},
                                                 {0}};
    const char *cert_path = NULL, *key_path = NULL;
    struct web_importer importer = {serve_import, NULL};
    struct web_options opts;
    web_options_default(&opts);
    opts.importer = &importer;
    struct kpi_error err = {0};
    optind = 0;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
        if (c == 'l') {
            if (web_parse_listen(optarg, &opts, &err) != 0)
                return cli_usage_error("serve", "%s", err.message);
        } else if (c == 't') {
            if ((rc = parse_threads(optarg, &opts.threads)) != 0)
                return rc;
        } else if (c == 'a') {
            if (kpi_date_parse(optarg, NULL, &opts.as_of_day, &err) != 0)
                return cli_usage_error("serve", "invalid --as-of: %s", err.message);
            opts.pin_as_of = true;
        } else if (c == 'c') {
            cert_path = optarg;
        } else if (c == 'k') {
            key_path = optarg;
        } else if (c == 'g') {
            opts.access_log = optarg;
        } else if (c == 'm') {
            if ((rc = parse_size(optarg, &opts.max_upload)) != 0)
                return rc;
        } else if (c == 'u') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 86400)
                return cli_usage_error(
                    "serve", "invalid --upload-timeout \"%s\" (expected 1 to 86400 s)", optarg);
            opts.upload_timeout = (unsigned)v;
        } else {
            return cli_usage_error("serve", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);
    if ((cert_path == NULL) != (key_path == NULL))
        return cli_usage_error("serve", "--tls-cert and --tls-key go together");
    char *cert = NULL, *key = NULL;
    if (cert_path != NULL) {
        if ((cert = read_pem(cert_path, &err)) == NULL ||
            (key = read_pem(key_path, &err)) == NULL) {
            free(cert);
            return cli_fail(&err);
        }
        opts.tls_cert_pem = cert;
        opts.tls_key_pem = key;
    }

    /* Block the stop signals before any thread starts, so that every server
     * thread inherits the mask and only sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct store *st = NULL;
    struct store_options so = {.create = false, .threads = 0};
    struct web_server *srv = NULL;
    if (store_open(ctx->data_dir, &so, &st, &err) != 0 ||
        store_repair(st, NULL, &err) != 0 || /* bring RRD files in line (SPEC §3) */
        web_start(st, &opts, &srv, &err) != 0) {
        rc = cli_fail(&err);
        store_close(st);
        free(cert);
        free(key);
        return rc;
    }
    struct web_tokens *tokens = NULL;
    if (web_tokens_load(store_dir(st), &tokens, &err) == 0 && tokens->count == 0 &&
        !loopback(opts.host))
        fprintf(stderr,
                "kpi serve: warning: %s has no access token: anyone who reaches %s "
                "reads every team (kpi token add)\n",
                store_dir(st), opts.host);
    web_tokens_free(tokens);
    char url[WEB_HOST_MAX + 32];
    printf("kpi: serving %s on %s\n", store_dir(st), web_url(srv, url, sizeof url));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    web_stop(srv);
    store_close(st);
    if (key != NULL)
        memset(key, 0, strlen(key));
    free(cert);
    free(key);
    return CLI_EXIT_OK;
}
