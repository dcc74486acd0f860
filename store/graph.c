/*
 * graph.c — the chart of one series (SPEC §6 `kpi graph`, §7 graph.svg and
 * graph.png), rendered by librrd's rrd_graph_v from an RRD file.
 *
 * What it draws, over the charted periods: the actual as a solid line, the
 * target as a dashed line, and the amber and red tolerance bands next to the
 * target (below it for direction up, above it for down), amber*|target| and
 * red*|target| wide -- or amber and red units wide when the target is 0,
 * where SPEC §5 makes the gap a difference. Title "team — indicator (unit)",
 * vertical label the unit, and a summary line with the last observation of
 * the range, its target, gap and status. Those numbers come from the view
 * (the exact numbers, shown to 7 significant digits), not from GPRINT on
 * consolidated RRD rows, which may average several periods. An
 * SVG also gets <title> and <desc> elements: cairo draws text as glyph
 * outlines, so without them the SVG holds no text at all (screen readers,
 * search, tests).
 *
 * Charted periods: from the series' first period with a value or a target
 * to its last observed one (what its RRD file holds, see rrd.c), within the
 * last RRD_WINDOW_DAYS and after 1970, clipped to the periods containing
 * from_day and to_day. A range holding none of the series' periods gives
 * an empty chart of the requested periods.
 *
 * Decision: charts of roll-ups (for docs/DECISIONS.md).
 *   A team without observations (or targets) of its own for an indicator
 *   has no RRD file holding its rolled-up numbers (SPEC §5, query.h D1-D3).
 *   SPEC suggests a CDEF over the children's files. We do not: a CDEF cannot
 *   reproduce the roll-up. It must recurse (grandchildren, children that
 *   have no file because they are roll-ups themselves), a mean counts only
 *   the children that have a number in that period, a team's own targets
 *   win over its children's while its values still roll up (D2), and a
 *   child's interpolated targets count (D3). Instead store computes the
 *   exact rolled-up numbers from the view with the definition of SPEC §5 --
 *   per period, the sum or mean, in children id order, over the children
 *   that have a number, recursively -- writes them into a temporary RRD
 *   file with the layout of the series files (mkdtemp under $TMPDIR or
 *   /tmp, removed after rendering) and graphs that file. The definition is
 *   repeated here (fill below) rather than taken from query/, because store
 *   depends on common and librrd only; tests/test_store_graph.c checks the
 *   charted numbers against roll-ups computed by hand.
 *   The same temporary file is used whenever the series' own file may not
 *   hold the view's numbers: DIR/rrd-synced does not name the view's
 *   generation (a commit in flight, or a crash not yet repaired), the file
 *   is missing, or another process holds its lock. A chart always shows
 *   the numbers of the view it was asked for.
 *
 * librrd: paths in DEF are never user text beyond the data directory given
 * to store_open and $TMPDIR; ids cannot contain ':' (kpi_id_valid), and a
 * ':' in a directory is escaped as "\:", which librrd's DEF parser reads.
 */
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <rrd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GRAPH_STEP 86400
#define GRAPH_WINDOW_DAYS 7400 /* rrd.c's RRD_WINDOW_DAYS: a file holds no more */
#define GRAPH_ARGS_MAX 64
#define GRAPH_NOTES_MAX 12  /* notes marked on one chart; more are counted */
#define GRAPH_NOTE_CHARS 60 /* of a note's first line in the legend */
#define GRAPH_ROW_TEXT 80
#define GRAPH_WIDTH_MIN 100
#define GRAPH_WIDTH_MAX 4000
#define GRAPH_HEIGHT_MIN 50
#define GRAPH_HEIGHT_MAX 2000

/* Readable on rrdtool's light grey background, and apart in greyscale. */
#define COLOR_ACTUAL "#1f5fbf"
#define COLOR_TARGET "#404040"
#define COLOR_AMBER "#f9dc8c"
#define COLOR_RED "#f2aaa2"
#define COLOR_NOTE "#7b3294"

/* ------------------------------------------------------ the numbers */

struct span {
    bool has;
    int64_t lo, hi;
};

static void span_add(struct span *s, int64_t lo, int64_t hi)
{
    if (!s->has || lo < s->lo)
        s->lo = lo;
    if (!s->has || hi > s->hi)
        s->hi = hi;
    s->has = true;
}

/* One chart being built: the team tree, the indicator and its periods. */
struct chart {
    const struct store_view *view;
    size_t team; /* whose notes are marked */
    size_t indicator;
    const struct kpi_indicator *ind;
    size_t *first_child, *next_sibling; /* children in id order; SIZE_MAX ends */
    int64_t lo;                         /* first charted period */
    size_t n;                           /* charted periods */
};

/* The periods of a series' own values (v) and own target points (t). */
static void own_spans(const struct store_series *s, struct span *v, struct span *t)
{
    *v = *t = (struct span){0};
    for (size_t i = 0; i < s->count; i++) {
        if (!isnan(s->points[i].value))
            span_add(v, s->points[i].period, s->points[i].period);
        if (!isnan(s->points[i].target))
            span_add(t, s->points[i].period, s->points[i].period);
    }
}

/* Own series of team, or false. */
static bool own_series(const struct chart *c, size_t team, struct store_series *s, struct span *v,
                       struct span *t)
{
    *v = *t = (struct span){0};
    if (!store_view_find_series(c->view, team, c->indicator, s))
        return false;
    own_spans(s, v, t);
    return true;
}

/* The periods of team's values and targets, own or rolled up (D1, D2). The
 * ledger refuses parent cycles; depth only bounds the recursion anyway. */
static void effective_spans(const struct chart *c, size_t team, size_t depth, struct span *v,
                            struct span *t)
{
    struct store_series s;
    own_series(c, team, &s, v, t);
    bool roll_v = !v->has, roll_t = !t->has;
    if ((!roll_v && !roll_t) || depth > c->view->team_count)
        return;
    for (size_t k = c->first_child[team]; k != SIZE_MAX; k = c->next_sibling[k]) {
        struct span cv, ct;
        effective_spans(c, k, depth + 1, &cv, &ct);
        if (roll_v && cv.has)
            span_add(v, cv.lo, cv.hi);
        if (roll_t && ct.has)
            span_add(t, ct.lo, ct.hi);
    }
}

/* team's value and target of each charted period (val[i], tgt[i] for period
 * c->lo + i; NaN where none): own values, else the aggregate of the
 * children's values in that period over those that have one; own targets
 * (points, interpolated between them: kpi_target_at), else the children's
 * the same way (D3: never interpolated across periods where no child has
 * one), like for like (query.h D18): in a period where a child has a value,
 * only the targets of the children that have one. plan[i] is the planned
 * target (every child's), which the parent's periods without any value
 * roll up. Sums run in children id order, as query/rollup.c does, so the
 * numbers are bit for bit those of `kpi series`. */
static int fill(const struct chart *c, size_t team, size_t depth, double *val, double *tgt,
                double *plan)
{
    size_t n = c->n;
    int64_t hi = c->lo + (int64_t)n - 1;
    for (size_t i = 0; i < n; i++)
        val[i] = tgt[i] = plan[i] = NAN;
    struct store_series s;
    struct span ov, ot;
    if (own_series(c, team, &s, &ov, &ot)) {
        for (size_t k = 0; k < s.count; k++) {
            int64_t p = s.points[k].period;
            if (p >= c->lo && p <= hi && !isnan(s.points[k].value))
                val[p - c->lo] = s.points[k].value;
        }
        int64_t a = ot.lo > c->lo ? ot.lo : c->lo, b = ot.hi < hi ? ot.hi : hi;
        for (int64_t p = a; ot.has && p <= b; p++)
            tgt[p - c->lo] = plan[p - c->lo] = kpi_target_at(s.points, s.count, p);
    }
    if ((ov.has && ot.has) || depth > c->view->team_count || c->first_child[team] == SIZE_MAX)
        return 0;
    /* per period: a child's value, target, planned target; the sums of the
     * values, like-for-like targets and planned targets; their counts and
     * the number of children with a value */
    double *num = calloc(6 * n, sizeof *num);
    size_t *cnt = calloc(4 * n, sizeof *cnt);
    int rc = 0;
    if (num == NULL || cnt == NULL) {
        rc = KPI_ESYSTEM;
        goto done;
    }
    double *cv = num, *ct = num + n, *cp = num + 2 * n;
    double *vsum = num + 3 * n, *tsum = num + 4 * n, *psum = num + 5 * n;
    size_t *vcnt = cnt, *tcnt = cnt + n, *pcnt = cnt + 2 * n, *rep = cnt + 3 * n;
    for (size_t k = c->first_child[team]; k != SIZE_MAX; k = c->next_sibling[k]) {
        if ((rc = fill(c, k, depth + 1, cv, ct, cp)) != 0)
            goto done;
        for (size_t i = 0; i < n; i++) {
            if (isnan(cv[i])) {
                if (!isnan(cp[i])) {
                    psum[i] += cp[i];
                    pcnt[i]++;
                }
                continue;
            }
            rep[i]++;
            vsum[i] += cv[i];
            vcnt[i]++;
            if (!isnan(ct[i])) {
                tsum[i] += ct[i];
                tcnt[i]++;
            }
            if (!isnan(cp[i])) {
                psum[i] += cp[i];
                pcnt[i]++;
            }
        }
    }
    bool mean = c->ind->aggregate == KPI_AGGREGATE_MEAN;
    for (size_t i = 0; i < n; i++) {
        if (!ov.has && vcnt[i] > 0)
            val[i] = mean ? vsum[i] / (double)vcnt[i] : vsum[i];
        if (ot.has)
            continue;
        if (pcnt[i] > 0)
            plan[i] = mean ? psum[i] / (double)pcnt[i] : psum[i];
        if (rep[i] > 0)
            tgt[i] = tcnt[i] > 0 ? (mean ? tsum[i] / (double)tcnt[i] : tsum[i]) : NAN;
        else
            tgt[i] = plan[i];
    }
done:
    free(num);
    free(cnt);
    return rc;
}

/* ----------------------------------------------------- the summary */

/* v rounded to 7 significant digits, shortest text: a legend is read by
 * people, and 920665.3899999999 reads worse than 920665.4. */
static char *readable(double v, char *buf)
{
    if (v != 0 && isfinite(v)) {
        int e = (int)floor(log10(fabs(v)));
        if (e < 6 && e > -300) {
            double scale = pow(10, 6 - e);
            v = round(v * scale) / scale;
        } else if (e >= 6 && e < 300) {
            double scale = pow(10, e - 6);
            v = round(v / scale) * scale;
        }
    }
    return kpi_format_number(v, buf);
}

/* The summary of the last observation in the chart, e.g. "last 2026-03:
 * 980, target 1050, gap -6.7% (at risk)", numbers to 7 significant digits;
 * colon is ":" for the SVG's desc and "\:" for a COMMENT, where a bare ':'
 * ends the text. */
static void summary(const struct chart *c, const double *val, const double *tgt, const char *colon,
                    char *out, size_t cap)
{
    size_t i = c->n;
    while (i > 0 && isnan(val[i - 1]))
        i--;
    if (i == 0) {
        snprintf(out, cap, "no observation in this range");
        return;
    }
    double a = val[i - 1], t = tgt[i - 1];
    char label[KPI_LABEL_MAX], av[KPI_NUMBER_MAX], tv[KPI_NUMBER_MAX], gv[KPI_NUMBER_MAX];
    kpi_period_label(c->ind->period, c->lo + (int64_t)i - 1, label);
    readable(a, av);
    if (isnan(t)) {
        snprintf(out, cap, "last %s%s %s, no target", label, colon, av);
        return;
    }
    /* SPEC §5 gap and status, with D7's 1e-9 of rounding */
    double gap = t == 0 ? a - t : (a - t) / fabs(t);
    if (c->ind->direction == KPI_DIRECTION_DOWN)
        gap = -gap;
    const char *status = gap >= -c->ind->amber - 1e-9 ? "on track"
                         : gap >= -c->ind->red - 1e-9 ? "at risk"
                                                      : "off track";
    readable(t, tv);
    readable(t == 0 ? gap : round(gap * 1000) / 10, gv);
    snprintf(out, cap, "last %s%s %s, target %s, gap %s%s%s (%s)", label, colon, av, tv,
             gap > 0 ? "+" : "", gv, t == 0 ? "" : "%", status);
}

/* A tolerance as a percentage: 0.05 -> "5". */
static char *percent(double ratio, char *buf)
{
    return kpi_format_number(round(ratio * 1e8) / 1e6, buf);
}

/* -------------------------------------------------- librrd's argv */

/* rrd_graph_v takes char ** and may permute it: each string is malloc'd
 * and owned separately from the array passed. */
struct args {
    int argc;
    bool failed;
    char *argv[GRAPH_ARGS_MAX + 1];
    char *owned[GRAPH_ARGS_MAX];
};

static void arg(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(struct args *a, const char *fmt, ...)
{
    if (a->failed || a->argc >= GRAPH_ARGS_MAX) {
        a->failed = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = len < 0 ? NULL : malloc((size_t)len + 1);
    if (s == NULL) {
        a->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    a->owned[a->argc] = s;
    a->argv[a->argc++] = s;
    a->argv[a->argc] = NULL;
}

static void args_free(struct args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->owned[i]);
}

/* path with every ':' written "\:" for a DEF; NULL when out of memory or
 * when the path has a '\' before a ':' (librrd could not tell them apart). */
static char *def_path(const char *path)
{
    size_t n = 0;
    for (const char *p = path; *p; p++) {
        if (*p == '\\' && p[1] == ':')
            return NULL;
        n += *p == ':' ? 2 : 1;
    }
    char *out = malloc(n + 1), *o = out;
    for (const char *p = path; out != NULL && *p; p++) {
        if (*p == ':')
            *o++ = '\\';
        *o++ = *p;
    }
    if (out != NULL)
        *o = '\0';
    return out;
}

/* The first line of a note as legend text: at most GRAPH_NOTE_CHARS
 * characters (cut on a UTF-8 boundary, "..." after a cut), ':' written "\:"
 * and '\\' as '/' (librrd reads both in a legend). */
static void note_legend(const char *text, char *out, size_t cap)
{
    size_t o = 0, chars = 0;
    const unsigned char *p = (const unsigned char *)text;
    for (; *p != '\0' && *p != '\n' && o + 8 < cap; p++) {
        if ((*p & 0xC0) != 0x80 && chars++ == GRAPH_NOTE_CHARS)
            break;
        if (*p == ':')
            out[o++] = '\\';
        out[o++] = *p == '\\' ? '/' : (char)*p;
    }
    if (*p != '\0' && *p != '\n') {
        memcpy(out + o, "...", 3);
        o += 3;
    } else if (*p == '\n') {
        memcpy(out + o, " ...", 4);
        o += 4;
    }
    out[o] = '\0';
}

/* The periods of the chart that have a note (SPEC §11), in RRDtool's own
 * terms: a VRULE in the middle of each noted period, numbered, and the
 * note's first line as its legend ("[1] 2026-03\: Strike ..."). */
static void note_args(const struct chart *c, struct args *a)
{
    size_t marked = 0, more = 0;
    for (size_t i = 0; i < c->n; i++) {
        int64_t period = c->lo + (int64_t)i;
        const char *note = store_view_note(c->view, c->team, c->indicator, period);
        if (note == NULL)
            continue;
        if (marked == GRAPH_NOTES_MAX) {
            more++;
            continue;
        }
        int64_t first = kpi_period_first_day(c->ind->period, period);
        int64_t last = kpi_period_last_day(c->ind->period, period);
        char label[KPI_LABEL_MAX], legend[4 * GRAPH_NOTE_CHARS + 16];
        kpi_period_label(c->ind->period, period, label);
        note_legend(note, legend, sizeof legend);
        arg(a, "VRULE:%" PRId64 COLOR_NOTE ":[%zu] %s\\: %s\\l:dashes=2,3",
            (first + last + 1) * GRAPH_STEP / 2, ++marked, label, legend);
    }
    if (more > 0)
        arg(a, "COMMENT:and %zu more noted periods\\l", more);
}

/* The marked notes appended to an SVG's description: "; notes: [1]
 * 2026-03: Strike ..." (the legend's text, which cairo draws as glyphs). */
static void note_desc(const struct chart *c, char *desc, size_t cap)
{
    size_t len = strlen(desc), marked = 0;
    for (size_t i = 0; i < c->n && marked < GRAPH_NOTES_MAX && len + 1 < cap; i++) {
        int64_t period = c->lo + (int64_t)i;
        const char *note = store_view_note(c->view, c->team, c->indicator, period);
        if (note == NULL)
            continue;
        char label[KPI_LABEL_MAX], legend[4 * GRAPH_NOTE_CHARS + 16];
        kpi_period_label(c->ind->period, period, label);
        note_legend(note, legend, sizeof legend);
        /* the legend's "\:" is a plain ':' here */
        for (char *s = legend, *d = legend;; s++)
            if (!(s[0] == '\\' && s[1] == ':') && (*d++ = *s) == '\0')
                break;
        int k = snprintf(desc + len, cap - len, "%s[%zu] %s: %s", marked == 0 ? "; notes: " : "; ",
                         marked + 1, label, legend);
        if (k < 0 || (size_t)k >= cap - len) {
            desc[len] = '\0';
            break;
        }
        len += (size_t)k;
        marked++;
    }
}

/* The chart as graph_v arguments (see the top of the file). */
static void chart_args(const struct chart *c, const char *rrd, const char *title,
                       const char *summary_text, const struct store_graph_options *o,
                       struct args *a)
{
    const struct kpi_indicator *ind = c->ind;
    int64_t hi = c->lo + (int64_t)c->n - 1;
    arg(a, "graphv");
    arg(a, "-");
    arg(a, "--imgformat=%s", o->png ? "PNG" : "SVG");
    arg(a, "--start=%" PRId64, kpi_period_first_day(ind->period, c->lo) * GRAPH_STEP);
    arg(a, "--end=%" PRId64, (kpi_period_last_day(ind->period, hi) + 1) * GRAPH_STEP);
    arg(a, "--width=%u", o->width);
    arg(a, "--height=%u", o->height);
    arg(a, "--title=%s", title);
    if (ind->unit[0] != '\0')
        arg(a, "--vertical-label=%s", ind->unit);
    arg(a, "--disable-rrdtool-tag");
    arg(a, "DEF:v=%s:value:AVERAGE:step=%d", rrd, GRAPH_STEP);
    arg(a, "DEF:t=%s:target:AVERAGE:step=%d", rrd, GRAPH_STEP);
    /* the bands' unit: |target|, or 1 when the target is 0 (gap = difference) */
    arg(a, "CDEF:w=t,ABS,0,EQ,1,t,ABS,IF");
    double amber = fmax(0, ind->amber), red = fmax(amber, ind->red);
    char am[KPI_NUMBER_MAX], rd[KPI_NUMBER_MAX], rf[KPI_NUMBER_MAX];
    char ap[KPI_NUMBER_MAX], rp[KPI_NUMBER_MAX];
    kpi_format_number(amber, am);
    kpi_format_number(red - amber, rd);
    percent(amber, ap);
    percent(red, rp);
    arg(a, "CDEF:ab=w,%s,*", am);
    arg(a, "CDEF:rb=w,%s,*", rd);
    /* an invisible base, then the bands stacked on it; skipscale keeps the
     * base's area down to 0 out of the y range */
    if (ind->direction == KPI_DIRECTION_UP) {
        arg(a, "CDEF:base=t,w,%s,*,-", kpi_format_number(red, rf));
        arg(a, "AREA:base::skipscale");
        arg(a, "AREA:rb" COLOR_RED ":red tolerance %s%%:STACK", rp);
        arg(a, "AREA:ab" COLOR_AMBER ":amber tolerance %s%%:STACK", ap);
    } else {
        arg(a, "AREA:t::skipscale");
        arg(a, "AREA:ab" COLOR_AMBER ":amber tolerance %s%%:STACK", ap);
        arg(a, "AREA:rb" COLOR_RED ":red tolerance %s%%:STACK", rp);
    }
    arg(a, "LINE1.5:t" COLOR_TARGET ":target:dashes=6,4");
    arg(a, "LINE2:v" COLOR_ACTUAL ":actual\\l");
    arg(a, "COMMENT:%s\\l", summary_text);
    note_args(c, a);
}

/* --------------------------------------------------------- rendering */

/* Run rrd_graph_v and copy the image out of its answer. */
static int render(struct args *a, void **image, size_t *size, struct kpi_error *err)
{
    /* rrd_graph_v is not thread-safe in librrd 1.7.2: it shares one pango
     * font map between threads (crashes and deadlocks measured with 4
     * threads; fixed upstream in 1.8.0, DEPENDENCIES.md §4.6). This lock,
     * the only mutable static of store/, serialises every call of it in the
     * process. */
    static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;
    int rc = 0;
    *image = NULL;
    pthread_mutex_lock(&graph_lock);
    rrd_clear_error();
    rrd_info_t *info = rrd_graph_v(a->argc, a->argv);
    if (info == NULL) {
        const char *why = rrd_get_error();
        rc = kpi_fail(err, KPI_ESYSTEM, "graph: %s",
                      why != NULL && why[0] != '\0' ? why : "librrd failed");
    }
    for (rrd_info_t *p = info; p != NULL && *image == NULL; p = p->next) {
        if (p->type != RD_I_BLO || strcmp(p->key, "image") != 0)
            continue;
        *size = p->value.u_blo.size;
        *image = malloc(*size ? *size : 1);
        if (*image == NULL)
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        else
            memcpy(*image, p->value.u_blo.ptr, *size);
        break;
    }
    if (info != NULL && rc == 0 && *image == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "graph: librrd returned no image");
    rrd_info_free(info);
    pthread_mutex_unlock(&graph_lock);
    return rc;
}

/* Append text to b with XML's special characters escaped and control
 * characters (not allowed in XML 1.0) as spaces. */
static int xml_text(struct kpi_buf *b, const char *text)
{
    int rc = 0;
    for (const char *p = text; *p && rc == 0; p++) {
        unsigned char ch = (unsigned char)*p;
        rc = ch == '&'   ? kpi_buf_puts(b, "&amp;")
             : ch == '<' ? kpi_buf_puts(b, "&lt;")
             : ch == '>' ? kpi_buf_puts(b, "&gt;")
             : ch < 0x20 ? kpi_buf_puts(b, " ")
                         : kpi_buf_append(b, p, 1);
    }
    return rc;
}

/* Insert <title> and <desc> as the first children of the SVG's root. */
static int svg_describe(void **image, size_t *size, const char *title, const char *desc,
                        struct kpi_error *err)
{
    const char *svg = *image;
    const char *open = NULL;
    for (size_t i = 0; svg != NULL && i + 4 <= *size && open == NULL; i++)
        if (memcmp(svg + i, "<svg", 4) == 0)
            open = svg + i;
    const char *end = open ? memchr(open, '>', *size - (size_t)(open - svg)) : NULL;
    if (end == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "graph: librrd returned no <svg> element");
    size_t head = (size_t)(end + 1 - svg);
    struct kpi_buf b = {0};
    if (kpi_buf_append(&b, svg, head) != 0 || kpi_buf_puts(&b, "\n<title>") != 0 ||
        xml_text(&b, title) != 0 || kpi_buf_puts(&b, "</title>\n<desc>") != 0 ||
        xml_text(&b, desc) != 0 || kpi_buf_puts(&b, "</desc>") != 0 ||
        kpi_buf_append(&b, svg + head, *size - head) != 0) {
        kpi_buf_free(&b);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    free(*image);
    *image = b.data;
    *size = b.len;
    return 0;
}

/* Write the chart's numbers into a new RRD file path, with the layout of
 * rrd.c's series files (so the DEFs and consolidation are the same). */
static int write_temp_rrd(const struct chart *c, const char *path, const double *val,
                          const double *tgt, struct kpi_error *err)
{
    const char *layout[] = {"DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                            "RRA:AVERAGE:0.5:1:3660",      "RRA:AVERAGE:0.5:30:245",
                            "RRA:MIN:0.5:30:245",          "RRA:MAX:0.5:30:245"};
    enum kpi_period_kind kind = c->ind->period;
    rrd_clear_error();
    if (rrd_create_r2(path, GRAPH_STEP, (time_t)(kpi_period_first_day(kind, c->lo) * GRAPH_STEP), 0,
                      NULL, NULL, (int)(sizeof layout / sizeof layout[0]), layout) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "graph: %s", rrd_get_error());
    if (val == NULL)
        return 0; /* an empty chart */
    char *text = malloc(c->n * GRAPH_ROW_TEXT);
    const char **argv = malloc(c->n * sizeof *argv);
    int rc = 0;
    if (text == NULL || argv == NULL) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    /* a period's numbers at the end of its last day: a GAUGE update fills
     * every day back to the previous one (rrd.c) */
    for (size_t i = 0; i < c->n; i++) {
        char v[32] = "U", g[32] = "U";
        if (!isnan(val[i]))
            snprintf(v, sizeof v, "%.17g", val[i]);
        if (!isnan(tgt[i]))
            snprintf(g, sizeof g, "%.17g", tgt[i]);
        int64_t ts = (kpi_period_last_day(kind, c->lo + (int64_t)i) + 1) * GRAPH_STEP;
        argv[i] = text + i * GRAPH_ROW_TEXT;
        snprintf(text + i * GRAPH_ROW_TEXT, GRAPH_ROW_TEXT, "%" PRId64 ":%s:%s", ts, v, g);
    }
    rrd_clear_error();
    if (rrd_update_r(path, NULL, (int)c->n, argv) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "graph: %s", rrd_get_error());
done:
    free(text);
    free(argv);
    return rc;
}

/* Render the chart from the RRD file path. */
static int render_file(const struct chart *c, const char *path, const char *title,
                       const double *val, const double *tgt, const struct store_graph_options *o,
                       void **image, size_t *size, struct kpi_error *err)
{
    char comment[256], line[256], desc[4096];
    if (val != NULL) {
        summary(c, val, tgt, "\\:", comment, sizeof comment);
        summary(c, val, tgt, ":", line, sizeof line);
    } else {
        snprintf(comment, sizeof comment, "no observation in this range");
        snprintf(line, sizeof line, "%s", comment);
    }
    char first[KPI_LABEL_MAX], last[KPI_LABEL_MAX];
    kpi_period_label(c->ind->period, c->lo, first);
    kpi_period_label(c->ind->period, c->lo + (int64_t)c->n - 1, last);
    snprintf(desc, sizeof desc,
             "actual (solid line) and target (dashed line) from %s to %s, with the amber and "
             "red tolerance bands; %s",
             first, last, line);
    note_desc(c, desc, sizeof desc);
    char *def = def_path(path);
    if (def == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "%s: path not usable by librrd", path);
    struct args a = {0};
    chart_args(c, def, title, comment, o, &a);
    free(def);
    int rc = a.failed ? kpi_fail(err, KPI_ESYSTEM, "out of memory") : render(&a, image, size, err);
    args_free(&a);
    if (rc == 0 && !o->png && (rc = svg_describe(image, size, title, desc, err)) != 0) {
        free(*image);
        *image = NULL;
    }
    return rc;
}

/* Render from a temporary RRD file holding val/tgt (NULL: none). */
static int render_temp(const struct chart *c, const char *title, const double *val,
                       const double *tgt, const struct store_graph_options *o, void **image,
                       size_t *size, struct kpi_error *err)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] != '/')
        tmp = "/tmp";
    char dir[4096], path[4200];
    int n = snprintf(dir, sizeof dir, "%s/kpi-graph-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof dir)
        return kpi_fail(err, KPI_ESYSTEM, "%s: path too long", tmp);
    if (mkdtemp(dir) == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "%s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/series.rrd", dir);
    int rc = write_temp_rrd(c, path, val, tgt, err);
    if (rc == 0)
        rc = render_file(c, path, title, val, tgt, o, image, size, err);
    unlink(path);
    rmdir(dir);
    return rc;
}

/* -------------------------------------------------------------- API */

/* Build the team tree: children of each team in index (= id) order. */
static int build_tree(struct chart *c)
{
    size_t n = c->view->team_count;
    c->first_child = malloc((n ? n : 1) * sizeof *c->first_child);
    c->next_sibling = malloc((n ? n : 1) * sizeof *c->next_sibling);
    if (c->first_child == NULL || c->next_sibling == NULL)
        return KPI_ESYSTEM;
    for (size_t i = 0; i < n; i++)
        c->first_child[i] = c->next_sibling[i] = SIZE_MAX;
    for (size_t i = n; i-- > 0;) {
        size_t p = c->view->team_parent[i];
        if (p < n && p != i) {
            c->next_sibling[i] = c->first_child[p];
            c->first_child[p] = i;
        }
    }
    return 0;
}

/* The charted periods [*lo, *hi]; *empty when the range holds none of the
 * series' periods (the chart then shows the requested ones, empty). */
static void chart_range(enum kpi_period_kind kind, const struct span *v, const struct span *t,
                        const struct store_graph_options *o, int64_t *lo, int64_t *hi, bool *empty)
{
    int64_t first = v->has ? v->lo : t->lo, last = v->has ? v->hi : t->hi;
    if (t->has && t->lo < first)
        first = t->lo;
    /* what an RRD file holds (rrd.c content_of) */
    int64_t window =
        kpi_period_of_day(kind, kpi_period_last_day(kind, last) + 1 - GRAPH_WINDOW_DAYS);
    int64_t epoch = kpi_period_of_day(kind, 1);
    if (kpi_period_first_day(kind, epoch) < 1)
        epoch++;
    first = first > window ? first : window;
    first = first > epoch ? first : epoch;
    /* from/to, clamped to years 1..9999 so that period arithmetic is safe */
    int64_t dmin = kpi_day_from_ymd(1, 1, 1), dmax = kpi_day_from_ymd(9999, 12, 31);
    bool has_from = o->from_day != INT64_MIN, has_to = o->to_day != INT64_MAX;
    int64_t pf = kpi_period_of_day(kind, o->from_day < dmin   ? dmin
                                         : o->from_day > dmax ? dmax
                                                              : o->from_day);
    int64_t pt = kpi_period_of_day(kind, o->to_day < dmin   ? dmin
                                         : o->to_day > dmax ? dmax
                                                            : o->to_day);
    *lo = has_from && pf > first ? pf : first;
    *hi = has_to && pt < last ? pt : last;
    *empty = *lo > *hi;
    if (*empty) {
        *lo = has_from ? pf : pt;
        *hi = has_to ? pt : pf;
        if (*lo < epoch)
            *lo = epoch;
        if (*hi < *lo)
            *hi = *lo;
    }
}

/* "team — indicator (unit)" into b (names are any UTF-8, never cut). */
static int chart_title(const struct store_view *view, size_t team, const struct kpi_indicator *ind,
                       struct kpi_buf *b)
{
    const char *name = store_view_team(view, team)->name;
    if (ind->unit[0] != '\0')
        return kpi_buf_printf(b, "%s \xe2\x80\x94 %s (%s)", name, ind->name, ind->unit);
    return kpi_buf_printf(b, "%s \xe2\x80\x94 %s", name, ind->name);
}

/* Whether the series' own RRD file holds exactly what the view says. */
static bool own_file_usable(struct store *st, const struct store_view *view, size_t team,
                            size_t indicator, const char *path)
{
    if (!store_view_is_latest(view))
        return false;   /* an earlier commit's data: the file holds the latest */
    if (!view->from_db) /* a ledger not converted yet: rrd-synced says */
        return rrd_synced_read(st->dir) == view->generation && access(path, R_OK) == 0;
    bool lag = false;
    for (size_t i = 0; !lag && i < view->lag_count; i++)
        lag = view->lag[i].team == team && view->lag[i].indicator == indicator;
    if (lag) /* written in this boot after the view's commit: whole (store/sync.c) */
        lag = !store_rrd_settled(st->dir, view->last_commit);
    return !lag && access(path, R_OK) == 0;
}

int store_graph(struct store *st, const struct store_view *view, size_t team, size_t indicator,
                const struct store_graph_options *opts, void **image, size_t *size,
                struct kpi_error *err)
{
    if (image != NULL)
        *image = NULL;
    if (size != NULL)
        *size = 0;
    if (st == NULL || view == NULL || opts == NULL || image == NULL || size == NULL)
        return kpi_fail(err, KPI_EUSAGE, "graph: missing argument");
    if (team >= view->team_count || indicator >= view->indicator_count)
        return kpi_fail(err, KPI_EUSAGE, "graph: team or indicator out of range");
    if (opts->width < GRAPH_WIDTH_MIN || opts->width > GRAPH_WIDTH_MAX)
        return kpi_fail(err, KPI_EUSAGE, "invalid graph width %u (expected %d to %d)", opts->width,
                        GRAPH_WIDTH_MIN, GRAPH_WIDTH_MAX);
    if (opts->height < GRAPH_HEIGHT_MIN || opts->height > GRAPH_HEIGHT_MAX)
        return kpi_fail(err, KPI_EUSAGE, "invalid graph height %u (expected %d to %d)",
                        opts->height, GRAPH_HEIGHT_MIN, GRAPH_HEIGHT_MAX);
    if (opts->from_day > opts->to_day)
        return kpi_fail(err, KPI_EUSAGE, "invalid graph range: from is after to");

    const struct kpi_team *tm = store_view_team(view, team);
    struct chart c = {
        .view = view, .team = team, .indicator = indicator, .ind = &view->indicators[indicator]};
    struct kpi_buf title = {0};
    struct kpi_error e = {0};
    double *val = NULL;
    int rc = 0;
    if (build_tree(&c) != 0 || chart_title(view, team, c.ind, &title) != 0) {
        rc = kpi_fail(&e, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    struct store_series own;
    struct span ov, ot, v, t;
    bool has_own = own_series(&c, team, &own, &ov, &ot);
    effective_spans(&c, team, 0, &v, &t);
    if (!v.has && !t.has) {
        rc = kpi_fail(&e, KPI_ENOTFOUND, "no data for team \"%s\" and indicator \"%s\"", tm->id,
                      c.ind->id);
        goto done;
    }
    int64_t lo, hi;
    bool empty;
    chart_range(c.ind->period, &v, &t, opts, &lo, &hi, &empty);
    c.lo = lo;
    c.n = (size_t)(hi - lo) + 1;
    if (!empty) {
        val = malloc(3 * c.n * sizeof *val);
        if (val == NULL || fill(&c, team, 0, val, val + c.n, val + 2 * c.n) != 0) {
            rc = kpi_fail(&e, KPI_ESYSTEM, "out of memory");
            goto done;
        }
    }
    const double *tgt = val != NULL ? val + c.n : NULL;
    /* the series' own file, when it holds the view's numbers: nothing rolled
     * up (own values or none to roll up, the same for targets) and in line */
    bool rolled = (!ov.has && v.has) || (!ot.has && t.has);
    char path[4096];
    assert(strchr(tm->id, ':') == NULL && strchr(c.ind->id, ':') == NULL);
    if (has_own && !rolled &&
        store_series_path(st, tm->id, c.ind->id, path, sizeof path, NULL) == 0 &&
        own_file_usable(st, view, team, indicator, path)) {
        rc = render_file(&c, path, title.data, val, tgt, opts, image, size, &e);
        /* else a writer process holds the file's lock (librrd never waits) */
        if (rc == 0 || strstr(e.message, "could not lock RRD") == NULL)
            goto done;
        e = (struct kpi_error){0};
    }
    rc = render_temp(&c, title.data, val, tgt, opts, image, size, &e);
done:
    if (rc != 0)
        kpi_fail(err, e.code, "%s", e.message);
    free(val);
    free(c.first_child);
    free(c.next_sibling);
    kpi_buf_free(&title);
    return rc;
}
