/* kpi — track company indicators over time and tell where they drift.
 * main: global options, then dispatch through the command table. */
#include "cli/cli.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* KPI_VERSION is project()'s VERSION, defined by CMakeLists.txt. */
#ifndef KPI_VERSION
#error "KPI_VERSION is defined by CMakeLists.txt from project(kpi VERSION ...)"
#endif

#define ANALYSIS_OPTIONS "\nOptions:\n" ANALYSIS_OPTION_LINES
#define ANALYSIS_OPTION_LINES                                                                      \
    "  --as-of DATE       analyse as of this day (default: today, UTC)\n"                          \
    "  --window N         periods of the trend window (default 6)\n"                               \
    "  --stale-after N    periods without data before an indicator is stale (default 2)\n"         \
    "  --format FMT       table (terminal default), csv (pipe default) or json\n"                  \
    "  --known-at N|TIME  the data as it stood right after commit N, or the last commit at\n"      \
    "                     or before TIME (YYYY-MM-DDThh:mm:ssZ; YYYY-MM-DD: end of that day)\n"

static const struct cli_command commands[] = {
    {"import", cli_cmd_import, "import CSV files of observations, targets, teams or indicators",
     "Usage: kpi [--data DIR] import FILE... [options]\n"
     "\n"
     "Import CSV files ('-' reads standard input). Each file is one transaction. A long\n"
     "file's note column (note, comment, commentaire, remarque) sets the note of each\n"
     "row's period (kpi note) with its values.\n"
     "\n"
     "Options:\n"
     "  --kind KIND          observations, targets, teams or indicators (default: detected)\n"
     "  --team T             team of files without a team column\n"
     "  --kpi K              indicator of long files without a kpi column\n"
     "  --column ROLE=HEADER\n"
     "                       header HEADER plays ROLE (date, team, kpi, value, target,\n"
     "                       note)\n"
     "  --date-format FMT    strptime format replacing the built-in date forms\n"
     "  --encoding ENC       utf-8 or cp1252 (default: detected)\n"
     "  --delimiter C        ',', ';' or 'tab' (default: detected from the header)\n"
     "  --decimal C          '.' or ',' (default: ',' with ';' delimiter, else '.')\n"
     "  --header-line N      the header is on line N (default: line 1, or the first of\n"
     "                       lines 2-10 that is a header when line 1 is a title)\n"
     "  --strict             reject rows naming unknown teams or indicators\n"
     "  --aggregate          rows giving one cell twice combine (sum or mean of the\n"
     "                       indicator), as daily lines make a month; else an error\n"
     "  --quiet              no summary line, no names of created teams and indicators\n"
     "  --on-error MODE      abort (default: a bad row imports nothing) or skip\n"
     "  --rejects FILE       with --on-error skip: write rejected rows and errors (CSV)\n"
     "  --dry-run            validate and report, write nothing\n"
     "  --json               summary as one JSON object per file\n"
     "  --author NAME        who the commits are by (default: $KPI_AUTHOR, else the login\n"
     "                       name)\n"
     "\n"
     "Each file that changes something is one commit (kpi log); one that changes nothing\n"
     "makes none and leaves the data directory as it was.\n"
     "\n"
     "Exit codes: 0 ok, 1 usage, 2 bad input (nothing imported unless --on-error skip),\n"
     "3 storage or system error.\n"},
    {"export", cli_cmd_export, "print observations and targets (or the catalog) as CSV",
     "Usage: kpi [--data DIR] export [TEAM [KPI]] [--known-at N|TIME]\n"
     "       kpi [--data DIR] export --kind teams|indicators [--known-at N|TIME]\n"
     "\n"
     "Print every raw observation and target as one long CSV (date,team,kpi,value,target,\n"
     "and a sixth column, note, when a note exists), or the catalog. 'kpi import' of the\n"
     "catalogs, then of the export, restores the data and its notes.\n"
     "TEAM (and KPI) keep only that team's (and indicator's) rows. Always CSV.\n"
     "\n"
     "Options:\n"
     "  --kind KIND          teams or indicators: print that catalog instead\n"},
    {"teams", cli_cmd_teams, "list teams",
     "Usage: kpi [--data DIR] teams [--tree] [--format table|csv|json]\n"
     "\n"
     "List the teams with their display name and parent.\n"
     "\n"
     "Options:\n"
     "  --tree               draw the hierarchy (table format)\n"
     "  --format FMT         table (terminal default), csv (pipe default) or json\n"},
    {"indicators", cli_cmd_indicators, "list indicators",
     "Usage: kpi [--data DIR] indicators [--format table|csv|json]\n"
     "\n"
     "List the indicators with their family, unit, direction, period, aggregate,\n"
     "tolerances and weight.\n"
     "\n"
     "Options:\n"
     "  --format FMT         table (terminal default), csv (pipe default) or json\n"},
    {"series", cli_cmd_series, "print one series: values and targets per period",
     "Usage: kpi [--data DIR] series TEAM KPI [--from DATE] [--to DATE] "
     "[--format table|csv|json]\n"
     "                                   [--known-at N|TIME]\n"
     "\n"
     "Every period from the first to the last that has a value or a target, with the\n"
     "period's target (a target point, interpolated, or rolled up). A team without\n"
     "observations of its own gets its children's values, marked rolled_up.\n"
     "\n"
     "Options:\n"
     "  --from DATE          first period (default: the series' first)\n"
     "  --to DATE            last period (default: the series' last)\n"
     "  --format FMT         table (terminal default), csv (pipe default) or json\n"},
    {"trend", cli_cmd_trend, "latest point, gap, status, trend and projection per indicator",
     "Usage: kpi [--data DIR] trend TEAM [KPI] [--as-of DATE] [--window N] "
     "[--stale-after N]\n"
     "                                   [--format table|csv|json]\n"
     "\n"
     "For each indicator of TEAM (or only KPI): the latest observed period up to the\n"
     "as-of date, its actual, target, gap and status, the least-squares trend over the\n"
     "last N periods (default 6), the slope required to reach the last target, and the\n"
     "projection to that deadline.\n" ANALYSIS_OPTIONS},
    {"drift", cli_cmd_drift, "how far teams drift from their targets",
     "Usage: kpi [--data DIR] drift [TEAM] [--as-of DATE] [--window N] [--stale-after N]\n"
     "                                   [--format table|csv|json]\n"
     "\n"
     "Without TEAM: one row per team (weighted drift overall and per family, status\n"
     "counts, missing families). With TEAM: that team's indicators in detail, with the\n"
     "cascade gap between its targets and its children's.\n" ANALYSIS_OPTIONS},
    {"alerts", cli_cmd_alerts, "what needs attention: off track, diverging, stale...",
     "Usage: kpi [--data DIR] alerts [--team T] [--severity info|warning|critical]\n"
     "                                   [--as-of DATE] [--format table|csv|json]\n"
     "\n"
     "Alerts at the as-of date: off_track (critical); at_risk, diverging, will_miss,\n"
     "stale, cascade_gap (warning); coverage (info). --team includes its descendants;\n"
     "--severity keeps that level and above.\n"
     "\n"
     "Options:\n"
     "  --team T             only T and its descendants\n"
     "  --severity LEVEL     info (default), warning or critical: that level and "
     "above\n" ANALYSIS_OPTION_LINES},
    {"serve", cli_cmd_serve, "serve the HTTP API, Prometheus metrics and the dashboard",
     "Usage: kpi [--data DIR] serve [--listen ADDR:PORT] [--threads N] [--as-of DATE]\n"
     "                              [--tls-cert FILE --tls-key FILE] [--access-log FILE|-]\n"
     "                              [--max-upload BYTES] [--upload-timeout SECONDS]\n"
     "\n"
     "Answer the HTTP API (/api/v1/...), /metrics and the dashboard (/) until SIGINT or\n"
     "SIGTERM. Prints \"kpi: serving DIR on http://ADDR:PORT/\" once listening.\n"
     "\n"
     "Options:\n"
     "  --listen ADDR:PORT   address to listen on (default 127.0.0.1:8080; [::1]:PORT for\n"
     "                       IPv6; port 0 picks a free port)\n"
     "  --threads N          worker threads, 1 to 64 (default 2)\n"
     "  --as-of DATE         pin the server's as-of date (default: today, UTC)\n"
     "  --tls-cert FILE      serve HTTPS only (TLS 1.2+) with this PEM certificate chain\n"
     "  --tls-key FILE       and this PEM private key\n"
     "  --access-log FILE    one line per request, Combined Log Format (- for stderr)\n"
     "  --max-upload BYTES   largest body of POST /api/v1/imports (default 67108864)\n"
     "  --upload-timeout S   seconds an upload's body may take to arrive (default 300)\n"
     "\n"
     "Once the data directory has a token (kpi token add), every request but /healthz and\n"
     "the dashboard's files needs Authorization: Bearer TOKEN. The API is described by\n"
     "/api/v1/openapi.json.\n"},
    {"token", cli_cmd_token, "add, list or revoke the access tokens of kpi serve",
     "Usage: kpi [--data DIR] token add NAME --role read|write [--team T]... [--expires DATE]\n"
     "       kpi [--data DIR] token list [--format table|csv|json]\n"
     "       kpi [--data DIR] token revoke NAME\n"
     "\n"
     "Once a data directory has a token, kpi serve answers only requests that carry one\n"
     "(Authorization: Bearer TOKEN), but /healthz and the dashboard's files. add prints\n"
     "the new secret once: only its SHA-256 is kept (DIR/tokens, mode 0600). revoke\n"
     "refuses the token from the server's next request on.\n"
     "\n"
     "Options of add:\n"
     "  --role read|write    read: every GET; write: also uploads (POST /api/v1/imports)\n"
     "  --team T             see only T and its descendants (repeatable; default: all)\n"
     "  --expires DATE       last day the token is valid (UTC; default: never)\n"},
    {"graph", cli_cmd_graph, "chart actual vs target (SVG or PNG), rendered by RRDtool",
     "Usage: kpi [--data DIR] graph TEAM KPI -o FILE.svg|FILE.png [--from DATE] [--to DATE]\n"
     "                                   [--width N] [--height N]\n"
     "\n"
     "Write the chart of one series: the actual as a line, the target dashed, and the\n"
     "amber and red tolerance bands beside the target (below it when higher is better,\n"
     "above when lower is). The format comes from the file name (.svg or .png). A team\n"
     "without observations of its own is charted from its children's roll-up.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE    the image to write (replaced atomically)\n"
     "  --from DATE          first period to chart (default: the series' first)\n"
     "  --to DATE            last period to chart (default: the series' last observed)\n"
     "  --width N            graph area width in pixels, 200 to 2000 (default 800)\n"
     "  --height N           graph area height in pixels, 100 to 1000 (default 300)\n"
     "  --known-at N|TIME    chart the data as it stood right after commit N, or the last\n"
     "                       commit at or before TIME\n"},
    {"log", cli_cmd_log, "the commits, newest first: who changed what, when, from which file",
     "Usage: kpi [--data DIR] log [--team T] [--kpi K] [--limit N] [--format table|csv|json]\n"
     "\n"
     "Every change of the data is a commit (an imported file, a revert, a catalog change),\n"
     "numbered 1, 2, 3...: its UTC time, author, kind, source file and its SHA-256, the rows\n"
     "read, the values and targets new and corrected, the series and teams it changed.\n"
     "--team and --kpi keep the commits that changed them; --limit the N newest.\n"},
    {"history", cli_cmd_history, "every version of every cell of one series",
     "Usage: kpi [--data DIR] history TEAM KPI [--period DATE] [--format table|csv|json]\n"
     "\n"
     "Every value and target the series ever had, oldest first, with the commit, time and\n"
     "author that set it (an empty value: removed). --period keeps the period containing\n"
     "DATE.\n"},
    {"restatements", cli_cmd_restatements, "observations changed after they were first imported",
     "Usage: kpi [--data DIR] restatements [--since N|TIME] [--team T] "
     "[--format table|csv|json]\n"
     "\n"
     "One row per observation whose value changed after its first import and whose latest\n"
     "change is a commit after --since (default: all): first value and commit, value and\n"
     "commit, change = (value - first) / |first| (empty when first is 0), largest |change|\n"
     "first. --team includes its descendants.\n"},
    {"note", cli_cmd_note, "set or remove the note of one period: why the number moved",
     "Usage: kpi [--data DIR] note [--author NAME] TEAM KPI DATE TEXT\n"
     "\n"
     "Set the note of the period of KPI containing DATE for TEAM: why the number moved,\n"
     "what is being done. An empty TEXT removes it. A note is UTF-8 text of at most 2,000\n"
     "bytes, without control characters but line breaks (leading and trailing blanks are\n"
     "dropped); it is a commit of its own (kpi log, kpi history, --known-at, kpi revert).\n"
     "Notes show in series, trend, drift, alerts, export, charts and the review.\n"
     "Exit 2 for a text that cannot be a note, 4 for an unknown team or indicator.\n"
     "\n"
     "Options (before TEAM):\n"
     "  --author NAME        the commit's author (default: $KPI_AUTHOR, else the login)\n"},
    {"review", cli_cmd_review, "the monthly review: one HTML page for the meeting (A4)",
     "Usage: kpi [--data DIR] review [TEAM] [-o FILE.html] [--as-of DATE]\n"
     "                                   [--since N|DATETIME] [--known-at N|DATETIME]\n"
     "                                   [--window N] [--stale-after N]\n"
     "\n"
     "Write one self-contained HTML page for a management review, laid out for A4\n"
     "print: the drift of TEAM (default: every root) and its descendants by family,\n"
     "the alerts by severity, each off_track or diverging indicator with its chart\n"
     "(inline SVG rendered by RRDtool) and what each child contributes to its gap,\n"
     "the restatements since --since, and the teams that miss families. Nothing in it\n"
     "is loaded from elsewhere.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE    the page to write (replaced atomically; default: stdout)\n"
     "  --as-of DATE         review as of this day (default: today, UTC)\n"
     "  --since N|DATETIME   restatements by commits after this one (default: the last\n"
     "                       commit before the as-of month)\n"
     "  --known-at N|DATETIME\n"
     "                       the data as it stood right after commit N, or the last\n"
     "                       commit at or before DATETIME (kpi log)\n"
     "  --window N           periods of the trend window (default 6)\n"
     "  --stale-after N      periods without data before an indicator is stale (default 2)\n"},
    {"check", cli_cmd_check, "verify the data directory: database, history, RRD files",
     "Usage: kpi [--data DIR] check [--repair]\n"
     "\n"
     "Run SQLite's integrity check of DIR/kpi.db, recompute every commit's hash from what\n"
     "the database holds (a change made behind kpi's back breaks the chain), compare the\n"
     "current values with their versions and every RRD file with the data. Prints one\n"
     "line per problem; exit 0 when there is none, 3 otherwise. --repair rebuilds the\n"
     "current values and the RRD files from the versions (exit 0 when all was rebuilt).\n"},
    {"revert", cli_cmd_revert, "undo a commit with a new one",
     "Usage: kpi [--data DIR] revert N [--force] [--author NAME]\n"
     "\n"
     "Make a new commit that puts back, for every cell commit N changed, its version before\n"
     "N. When a later commit changed one of those cells again, nothing is written: the\n"
     "cells are named and the exit code is 2, unless --force.\n"},
    {"backup", cli_cmd_backup, "write a consistent copy of the data directory",
     "Usage: kpi [--data DIR] backup DEST\n"
     "\n"
     "Copy the database with SQLite's online backup (one commit's snapshot, while imports\n"
     "and servers go on) into DEST (new, or an empty directory), then build DEST's RRD\n"
     "files from that copy. DEST is a data directory of its own. It is written as\n"
     "DEST.partial-PID beside DEST and renamed to DEST once whole and synced: a backup\n"
     "that is killed leaves no DEST. The server's points cache (DIR/points.cache) is\n"
     "copied when it belongs to a commit the copy holds, so that a server on DEST starts\n"
     "from it; otherwise DEST has none, and a server on a large DEST writes one.\n"},
    {"path", cli_cmd_path, "print the RRD file of a series",
     "Usage: kpi [--data DIR] path TEAM KPI\n"},
};

const struct cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

const struct cli_command *cli_command_at(size_t i)
{
    return i < sizeof commands / sizeof commands[0] ? &commands[i] : NULL;
}

static void print_main_help(FILE *out)
{
    fputs("Usage: kpi [--data DIR] COMMAND [options]\n"
          "\n"
          "Track company indicators over time and tell where they drift from targets.\n"
          "The data directory is --data, else $KPI_DATA, else ./kpi-data.\n"
          "\n"
          "Options:\n"
          "  --data DIR     the data directory (before the command)\n"
          "  -h, --help     this help; after a command, that command's help\n"
          "  --version      print the version\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'kpi COMMAND --help' for a command's options.\n", out);
}

int main(int argc, char **argv)
{
    /* Numbers are read and printed with '.' whatever the user's locale. */
    setlocale(LC_ALL, "C");
    struct cli_context ctx = {
        .data_dir = NULL, .stdout_tty = isatty(1) != 0, .stderr_tty = isatty(2) != 0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            ctx.data_dir = argv[++i];
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            ctx.data_dir = argv[i] + 7;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_main_help(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            puts("kpi " KPI_VERSION);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--man") == 0) { /* undocumented: the build writes kpi.1 */
            return cli_write_man(stdout, KPI_VERSION);
        } else {
            fprintf(stderr, "kpi: unknown option \"%s\"\nTry 'kpi --help'.\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (i == argc) {
        print_main_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const struct cli_command *cmd = cli_find_command(argv[i]);
    if (cmd == NULL) {
        fprintf(stderr, "kpi: unknown command \"%s\"\nTry 'kpi --help'.\n", argv[i]);
        return CLI_EXIT_USAGE;
    }
    if (ctx.data_dir == NULL)
        ctx.data_dir = getenv("KPI_DATA");
    if (ctx.data_dir == NULL || ctx.data_dir[0] == '\0')
        ctx.data_dir = "kpi-data";
    for (int k = i + 1; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
            return cli_print_help(cmd);
    return cmd->run(&ctx, argc - i, argv + i);
}
