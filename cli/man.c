/* kpi(1), written from the same texts as --help (the command table of
 * main.c) by `kpi --man`, so that the manual and the help cannot disagree.
 * The build writes it to <build>/kpi.1; docs/kpi.1 is the committed copy
 * (tests/test_cli_man.c checks they are equal and that man renders it
 * without warnings).
 *
 * A usage text is read as: "Usage:" lines (continuations indented), then
 * paragraphs separated by blank lines; a line "Options:" (or "Options of
 * add:") is followed by option lines "  -x, --opt ARG   description" whose continuation lines are
 * indented further. */
#include "cli/cli.h"

#include <string.h>

/* Write text escaped for troff: backslashes, a leading dot or quote, and
 * the hyphens of a word that starts with one (an option: --on-error), which
 * are written \- so that troff neither breaks the line there nor prints
 * them as hyphens. Never a newline. */
static void roff_text(FILE *out, const char *s, size_t len, bool all_hyphens)
{
    bool option = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        char prev = i > 0 ? s[i - 1] : ' ';
        if (i == 0 && (c == '.' || c == '\''))
            fputs("\\&", out);
        if (c == '-' && strchr(" [(|'\"", prev) != NULL)
            option = true;
        else if (c == ' ')
            option = false;
        if (c == '\\')
            fputs("\\e", out);
        else if (c == '-' && (all_hyphens || option))
            fputs("\\-", out);
        else
            fputc(c, out);
    }
}

/* The length of the line at s (without its newline). */
static size_t line_len(const char *s)
{
    return strcspn(s, "\n");
}

static const char *next_line(const char *s)
{
    s += line_len(s);
    return *s == '\n' ? s + 1 : s;
}

static size_t indent_of(const char *s)
{
    return strspn(s, " ");
}

/* Usage lines, one per output line, in no-fill mode; a line continuing
 * the one above is indented. Returns the text after them. */
static const char *write_usage(FILE *out, const char *s)
{
    fputs(".PP\n.nf\n", out);
    while (*s && line_len(s) > 0) {
        const char *text = strncmp(s, "Usage: ", 7) == 0 ? s + 7 : s;
        size_t skip = strspn(text, " ");
        fputs(skip > 0 && strncmp(text + skip, "kpi", 3) != 0 ? "\\&    " : "\\&", out);
        roff_text(out, text + skip, line_len(s) - (size_t)(text + skip - s), true);
        fputc('\n', out);
        s = next_line(s);
    }
    fputs(".fi\n", out);
    return s;
}

/* Option lines up to a blank line, as .TP entries. */
static const char *write_options(FILE *out, const char *s)
{
    while (*s && line_len(s) > 0) {
        size_t len = line_len(s), ind = indent_of(s);
        const char *spec = s + ind;
        if (ind > 0 && *spec == '-') {
            /* the spec ends at the first run of two spaces */
            const char *gap = strstr(spec, "  ");
            size_t spec_len = gap && gap < s + len ? (size_t)(gap - spec) : len - ind;
            fputs(".TP\n.B \"", out);
            roff_text(out, spec, spec_len, true);
            fputs("\"\n", out);
            const char *desc = spec + spec_len;
            desc += strspn(desc, " ");
            if (desc < s + len) {
                roff_text(out, desc, (size_t)(s + len - desc), false);
                fputc('\n', out);
            }
        } else { /* a continuation of the description above */
            roff_text(out, s + ind, len - ind, false);
            fputc('\n', out);
        }
        s = next_line(s);
    }
    return s;
}

/* One paragraph of text lines (filled by troff). */
static const char *write_paragraph(FILE *out, const char *s)
{
    fputs(".PP\n", out);
    while (*s && line_len(s) > 0) {
        size_t ind = indent_of(s);
        roff_text(out, s + ind, line_len(s) - ind, false);
        fputc('\n', out);
        s = next_line(s);
    }
    return s;
}

static void write_usage_text(FILE *out, const char *usage)
{
    const char *s = usage;
    while (*s) {
        if (line_len(s) == 0) {
            s = next_line(s);
        } else if (strncmp(s, "Usage: ", 7) == 0) {
            s = write_usage(out, s);
        } else if (strncmp(s, "Options", 7) == 0 && s[line_len(s) - 1] == ':') {
            if (line_len(s) > 8) { /* "Options of add:" says whose they are */
                fputs(".PP\n", out);
                roff_text(out, s, line_len(s), false);
                fputc('\n', out);
            }
            s = write_options(out, next_line(s));
        } else {
            s = write_paragraph(out, s);
        }
    }
}

/* Hand-written sections around the commands: what no --help says. */
static const char head[] =
    ".SH NAME\n"
    "kpi \\- track company indicators over time and tell where they drift from targets\n"
    ".SH SYNOPSIS\n"
    ".B kpi\n"
    "[\\fB\\-\\-data\\fR \\fIDIR\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR]\n"
    ".br\n"
    ".B kpi\n"
    "\\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
    ".br\n"
    ".B kpi\n"
    "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
    ".SH DESCRIPTION\n"
    ".B kpi\n"
    "stores company indicators (KPIs) per team as time series, in a data directory that\n"
    "keeps every imported number losslessly and each team \\(mu indicator series as a\n"
    "standard RRDtool file.\n"
    "It compares the series with their targets and tells where the organisation drifts:\n"
    "which teams fall behind, which trends run against the objective, which indicators\n"
    "nobody updates any more, which teams track only money, and where the targets of the\n"
    "children do not add up to the target of their parent.\n"
    ".PP\n"
    "Data comes in as CSV files (\\fBkpi import\\fR), in any of three layouts and in the\n"
    "encodings and number forms of spreadsheet exports, French Excel included.\n"
    "Output commands print a table on a terminal, CSV in a pipe, and with\n"
    "\\fB\\-\\-format json\\fR exactly the JSON document that \\fBkpi serve\\fR answers for\n"
    "the same question.\n"
    "Dates may be written \\fIYYYY\\-MM\\-DD\\fR, \\fIYYYY\\-MM\\fR, \\fIYYYY\\-Qn\\fR,\n"
    "\\fIYYYY\\fR, \\fIYYYY\\-Www\\fR (ISO week) or \\fIDD/MM/YYYY\\fR; analysis commands\n"
    "answer as of a day (\\fB\\-\\-as\\-of\\fR, default today, UTC).\n"
    ".SH OPTIONS\n"
    ".TP\n"
    ".B \"\\-\\-data DIR\"\n"
    "The data directory (also \\fB\\-\\-data=DIR\\fR); else \\fB$KPI_DATA\\fR, else\n"
    "\\fI./kpi\\-data\\fR.\n"
    "The first command that writes creates it.\n"
    "Given before the command.\n"
    ".TP\n"
    ".B \"\\-h, \\-\\-help\"\n"
    "Print the list of commands; after a command, that command's help.\n"
    ".TP\n"
    ".B \"\\-\\-version\"\n"
    "Print \\fBkpi\\fR and its version.\n"
    ".SH COMMANDS\n";

static const char tail[] =
    ".SH ENVIRONMENT\n"
    ".TP\n"
    ".B KPI_DATA\n"
    "The data directory when \\fB\\-\\-data\\fR is not given.\n"
    ".TP\n"
    ".B NO_COLOR\n"
    "When set and not empty, tables on a terminal are not coloured.\n"
    ".SH FILES\n"
    ".TP\n"
    ".I ./kpi\\-data\n"
    "The default data directory.\n"
    ".TP\n"
    ".I DIR/series/TEAM/KPI.rrd\n"
    "The RRD file of one series (\\fBkpi path\\fR prints it): step 86400 s, data sources\n"
    "\\fBvalue\\fR and \\fBtarget\\fR, readable by any RRDtool client.\n"
    ".SH EXIT STATUS\n"
    "The same for every command:\n"
    ".TP\n"
    ".B 0\n"
    "Success.\n"
    ".TP\n"
    ".B 1\n"
    "Usage error: an unknown option, a missing argument, a bad option value (such as an\n"
    "unparsable \\fB\\-\\-as\\-of\\fR).\n"
    ".TP\n"
    ".B 2\n"
    "Bad input data: a CSV file with a bad row (with the default \\fB\\-\\-on\\-error abort\\fR\n"
    "nothing of that file is imported).\n"
    ".TP\n"
    ".B 3\n"
    "Storage or system error: an input file that cannot be read, a data directory that\n"
    "cannot be opened or is not a directory.\n"
    ".TP\n"
    ".B 4\n"
    "Not found: an unknown team or indicator asked for.\n"
    ".SH EXAMPLES\n"
    "Import the catalogs, then a monthly export and a budget, and look at the drift:\n"
    ".PP\n"
    ".nf\n"
    ".RS\n"
    "kpi import teams.csv indicators.csv\n"
    "kpi import ventes.csv\n"
    "kpi import \\-\\-kind targets budget\\-2026.csv\n"
    "kpi drift \\-\\-as\\-of 2026\\-10\\-31\n"
    "kpi alerts \\-\\-severity warning \\-\\-team commercial\n"
    "kpi graph ventes\\-ara ca \\-o ca.svg\n"
    "kpi export > backup.csv\n"
    "kpi serve \\-\\-listen 127.0.0.1:8080\n"
    ".RE\n"
    ".fi\n"
    ".SH SEE ALSO\n"
    ".BR rrdtool (1),\n"
    ".BR rrdfetch (1),\n"
    ".BR strptime (3).\n"
    ".PP\n"
    "\\fICSV.md\\fR (every CSV layout, header name, encoding, number and date form, with the\n"
    "error messages) and \\fIopenapi.json\\fR (the HTTP API of \\fBkpi serve\\fR, also served at\n"
    "\\fI/api/v1/openapi.json\\fR), in \\fI/usr/share/doc/kpi/\\fR when kpi is installed from its\n"
    "package (\\fIshare/doc/kpi/\\fR under the prefix of \\fBcmake \\-\\-install\\fR), and in\n"
    "\\fIdocs/\\fR of its sources.\n";

int cli_write_man(FILE *out, const char *version)
{
    fprintf(out, ".TH KPI 1 \"\" \"kpi %s\" \"User Commands\"\n", version);
    fputs(head, out);
    for (size_t i = 0; cli_command_at(i) != NULL; i++) {
        const struct cli_command *c = cli_command_at(i);
        fprintf(out, ".SS \"kpi %s\"\n", c->name);
        roff_text(out, c->summary, strlen(c->summary), false);
        fputc('\n', out);
        write_usage_text(out, c->usage);
    }
    fputs(tail, out);
    return ferror(out) ? CLI_EXIT_SYSTEM : CLI_EXIT_OK;
}
