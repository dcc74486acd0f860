/* kpi serve: the HTTP query server and dashboard (web/), until SIGINT or
 * SIGTERM. */
#include "cli/cli.h"
#include "web/web.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
                                                 {0}};
    struct web_options opts;
    web_options_default(&opts);
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
        } else {
            return cli_usage_error("serve", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);

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
        return rc;
    }
    char url[WEB_HOST_MAX + 32];
    printf("kpi: serving %s on %s\n", store_dir(st), web_url(srv, url, sizeof url));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    web_stop(srv);
    store_close(st);
    return CLI_EXIT_OK;
}
