/*
 * The review report (SPEC §11): one self-contained HTML page for a
 * management meeting, laid out for A4 print. Nothing in it is loaded from
 * elsewhere: styles are inline, no script, and the charts are the SVG that
 * librrd renders (store_graph), inlined with their XML prolog and namespace
 * declarations removed (an HTML parser knows <svg> and xlink:href without
 * them) and their ids prefixed per chart (cairo names its glyphs glyph0-1,
 * clip1... in every chart: inline, the first chart's would win).
 *
 * Sections, in the order a controller walks a meeting through them:
 * drift by family (the team tree), the alerts by severity, each off_track
 * or diverging indicator with its chart and its attribution, the
 * restatements since a commit (SPEC §10), the teams that miss families. Every text that comes from
 * users (names, ids, units, messages) is HTML-escaped.
 */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_WIDTH 640
#define CHART_HEIGHT 170

/* The page being written: the first error sticks and stops the rest. */
struct page {
    struct kpi_buf b;
    int rc;
};

static void put(struct page *p, const char *s)
{
    if (p->rc == 0 && kpi_buf_puts(&p->b, s) != 0)
        p->rc = KPI_ESYSTEM;
}

static void putn(struct page *p, const char *s, size_t n)
{
    if (p->rc == 0 && kpi_buf_append(&p->b, s, n) != 0)
        p->rc = KPI_ESYSTEM;
}

/* Text as HTML (element content and attribute values alike). */
static void esc(struct page *p, const char *s)
{
    if (s == NULL)
        return;
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        putn(p, run, (size_t)(s - run));
        put(p, rep);
        run = s + 1;
    }
    putn(p, run, (size_t)(s - run));
}

/* A number for a person: at most two decimals ("" for NaN). */
static const char *num(double v, char *buf, size_t cap)
{
    if (isnan(v)) {
        buf[0] = '\0';
    } else if (fabs(v) >= 1e15 || (v != 0 && fabs(v) < 0.005)) {
        snprintf(buf, cap, "%.3g", v);
    } else {
        snprintf(buf, cap, "%.2f", v);
        char *dot = strchr(buf, '.');
        if (dot) {
            char *end = buf + strlen(buf) - 1;
            while (end > dot && *end == '0')
                *end-- = '\0';
            if (end == dot)
                *end = '\0';
        }
    }
    return buf;
}

/* A ratio as a percentage: signed for gaps and contributions. */
static const char *pct(double v, bool sign, char *buf, size_t cap)
{
    if (isnan(v))
        buf[0] = '\0';
    else
        snprintf(buf, cap, sign ? "%+.1f%%" : "%.1f%%", v * 100 + 0.0);
    return buf;
}

/* <td class="n">text</td> */
static void td_num(struct page *p, const char *text, const char *cls)
{
    put(p, "<td class=\"n");
    if (cls) {
        put(p, " ");
        put(p, cls);
    }
    put(p, "\">");
    esc(p, text);
    put(p, "</td>");
}

static void td(struct page *p, const char *text)
{
    put(p, "<td>");
    esc(p, text);
    put(p, "</td>");
}

/* The heat class of a drift (a shortfall, 0 = on target). */
static const char *drift_class(double d)
{
    if (isnan(d))
        return "na";
    if (d <= 0.05 + 1e-9)
        return "ok";
    if (d <= 0.10 + 1e-9)
        return "amber";
    return "red";
}

static const char *status_class(enum query_status s)
{
    switch (s) {
    case QUERY_ON_TRACK:
        return "ok";
    case QUERY_AT_RISK:
        return "amber";
    case QUERY_OFF_TRACK:
        return "red";
    default:
        return "na";
    }
}

static const char STYLE[] =
    "@page{size:A4;margin:14mm 12mm}"
    "*{box-sizing:border-box}"
    "body{font:10pt/1.35 'DejaVu Sans',Arial,sans-serif;color:#1a1a1a;margin:0 auto;"
    "max-width:186mm;padding:8px}"
    "h1{font-size:17pt;margin:0 0 2mm}"
    "h2{font-size:13pt;margin:6mm 0 2mm;border-bottom:1px solid #888;break-after:avoid}"
    "h2.page{break-before:page}"
    "h3{font-size:11pt;margin:4mm 0 1mm;break-after:avoid}"
    "p.meta{color:#555;margin:0 0 3mm}"
    "table{border-collapse:collapse;width:100%;margin:0 0 3mm;font-size:8.5pt}"
    "thead{display:table-header-group}"
    "tr{break-inside:avoid}"
    "th,td{border-bottom:1px solid #ddd;padding:1mm 1.5mm;text-align:left;vertical-align:top}"
    "th{background:#eee}"
    "td.n,th.n{text-align:right;white-space:nowrap}"
    ".ok{background:#dff0d8}.amber{background:#fcf3cf}.red{background:#f6d5d1}.na{color:#888}"
    "td.t1{padding-left:5mm}td.t2{padding-left:9mm}td.t3{padding-left:13mm}"
    "td.t4{padding-left:17mm}"
    ".item{break-inside:avoid;margin:0 0 4mm}"
    ".item svg{display:block;width:100%;height:auto;margin:1mm 0}"
    ".muted{color:#666}"
    ".note{white-space:pre-line;font-style:italic;margin:1mm 0}"
    "@media print{body{padding:0}}";

/* ------------------------------------------------------------ the teams */

/* The teams of the report in tree order (roots first, children by id),
 * with their depth below the report's top. */
struct roster {
    size_t *team;
    unsigned *depth;
    size_t n;
};

static bool visible(const struct report_review_options *o, size_t team)
{
    return o->visible == NULL || o->visible(o->visible_ctx, team);
}

static int walk(struct query *q, const struct report_review_options *o, size_t t, unsigned depth,
                struct roster *r)
{
    if (visible(o, t)) {
        r->team[r->n] = t;
        r->depth[r->n++] = depth;
        depth++;
    }
    size_t nchild;
    const size_t *kids = query_children(q, t, &nchild);
    for (size_t k = 0; k < nchild; k++)
        walk(q, o, kids[k], depth, r);
    return 0;
}

static int roster_of(struct query *q, size_t nteams, const struct report_review_options *o,
                     struct roster *r, struct kpi_error *err)
{
    r->n = 0;
    r->team = malloc((nteams ? nteams : 1) * sizeof *r->team);
    r->depth = malloc((nteams ? nteams : 1) * sizeof *r->depth);
    if (!r->team || !r->depth)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    if (o->team != QUERY_NONE)
        return walk(q, o, o->team, 0, r);
    bool *child = calloc(nteams ? nteams : 1, sizeof *child);
    if (!child)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t u = 0; u < nteams; u++) {
        size_t nchild;
        const size_t *kids = query_children(q, u, &nchild);
        for (size_t k = 0; k < nchild; k++)
            child[kids[k]] = true;
    }
    for (size_t t = 0; t < nteams; t++)
        if (!child[t]) /* a root (or a team whose parent is unknown) */
            walk(q, o, t, 0, r);
    free(child);
    return 0;
}

static void roster_free(struct roster *r)
{
    free(r->team);
    free(r->depth);
}

/* ------------------------------------------------------------ sections */

static const char *const FAMILY_TITLES[KPI_FAMILY_COUNT] = {"Financial", "Human", "Process",
                                                            "Customer"};

static void team_cell(struct page *p, const struct kpi_team *t, unsigned depth)
{
    char cls[16];
    snprintf(cls, sizeof cls, "t%u", depth > 4 ? 4 : depth);
    put(p, depth ? "<td class=\"" : "<td>");
    if (depth) {
        put(p, cls);
        put(p, "\">");
    }
    put(p, "<b>");
    esc(p, t->name && t->name[0] ? t->name : t->id);
    put(p, "</b> <span class=\"muted\">");
    esc(p, t->id);
    put(p, "</span></td>");
}

static void drift_section(struct page *p, struct query *q, const struct roster *r,
                          const struct query_drift *d)
{
    put(p, "<h2>Drift by family</h2><p class=\"meta\">Weighted mean shortfall against target "
           "(0% = every indicator on or above target); green up to 5%, amber up to 10%, red "
           "beyond.</p><table><thead><tr><th>Team</th><th class=\"n\">Drift</th>");
    for (size_t f = 0; f < KPI_FAMILY_COUNT; f++) {
        put(p, "<th class=\"n\">");
        put(p, FAMILY_TITLES[f]);
        put(p, "</th>");
    }
    put(p, "<th class=\"n\">On track</th><th class=\"n\">At risk</th><th class=\"n\">Off "
           "track</th></tr></thead><tbody>");
    char buf[64], cnt[24];
    for (size_t i = 0; i < r->n && p->rc == 0; i++) {
        put(p, "<tr>");
        team_cell(p, query_team(q, r->team[i]), r->depth[i]);
        td_num(p, pct(d[i].drift, false, buf, sizeof buf), drift_class(d[i].drift));
        for (size_t f = 0; f < KPI_FAMILY_COUNT; f++)
            td_num(p, pct(d[i].families[f], false, buf, sizeof buf), drift_class(d[i].families[f]));
        static const enum query_status order[] = {QUERY_ON_TRACK, QUERY_AT_RISK, QUERY_OFF_TRACK};
        for (size_t s = 0; s < 3; s++) {
            snprintf(cnt, sizeof cnt, "%zu", d[i].status_counts[order[s]]);
            td_num(p, cnt, NULL);
        }
        put(p, "</tr>");
    }
    put(p, "</tbody></table>");
}

static const char *team_name(struct query *q, size_t t)
{
    const struct kpi_team *team = query_team(q, t);
    return team->name && team->name[0] ? team->name : team->id;
}

/* The note of (team, indicator) in period (SPEC §11), as a paragraph or
 * block of its own: "Note 2026-03: ..." (line breaks kept). */
static void note_block(struct page *p, struct query *q, size_t team, size_t indicator,
                       const struct query_period *period, const char *tag)
{
    const char *note = period->set && indicator != QUERY_NONE
                           ? query_note(q, team, indicator, period->index)
                           : NULL;
    if (note == NULL)
        return;
    put(p, "<");
    put(p, tag);
    put(p, " class=\"note\">Note ");
    esc(p, period->label);
    put(p, ": ");
    esc(p, note);
    put(p, "</");
    put(p, tag);
    put(p, ">");
}

static void alerts_section(struct page *p, struct query *q, const struct query_alert_list *l)
{
    static const char *const titles[] = {"Information", "Warnings", "Critical"};
    put(p, "<h2 class=\"page\">Alerts by severity</h2>");
    if (l->count == 0)
        put(p, "<p>No alert.</p>");
    char period[64], buf[64];
    for (int sev = QUERY_CRITICAL; sev >= QUERY_INFO && p->rc == 0; sev--) {
        size_t n = 0;
        for (size_t i = 0; i < l->count; i++)
            n += l->items[i].severity == (enum query_severity)sev;
        if (n == 0)
            continue;
        snprintf(buf, sizeof buf, "%s (%zu)", titles[sev], n);
        put(p, "<h3>");
        put(p, buf);
        put(p, "</h3><table><thead><tr><th>Team</th><th>Indicator</th><th>Kind</th>"
               "<th>Since</th><th class=\"n\">Actual</th><th class=\"n\">Target</th>"
               "<th class=\"n\">Gap</th><th>Message</th></tr></thead><tbody>");
        for (size_t i = 0; i < l->count && p->rc == 0; i++) {
            const struct query_alert *a = &l->items[i];
            if (a->severity != (enum query_severity)sev)
                continue;
            put(p, "<tr>");
            td(p, team_name(q, a->team));
            td(p, a->kpi ? query_indicator(q, a->indicator)->name : "");
            td(p, query_alert_kind_name(a->kind));
            snprintf(period, sizeof period, "%s", a->since.set ? a->since.label : "");
            td(p, period);
            td_num(p, num(a->actual, buf, sizeof buf), NULL);
            td_num(p, num(a->target, buf, sizeof buf), NULL);
            td_num(p, pct(a->gap, true, buf, sizeof buf), NULL);
            put(p, "<td>");
            esc(p, a->message);
            note_block(p, q, a->team, a->indicator, &a->period, "div");
            put(p, "</td></tr>");
        }
        put(p, "</tbody></table>");
    }
}

/* Inline one SVG chart: from "<svg" on, without the namespace
 * declarations, every id prefixed with "c<k>-". */
static void inline_svg(struct page *p, const char *svg, size_t len, size_t k)
{
    const char *start = NULL;
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(svg + i, "<svg", 4) == 0) {
            start = svg + i;
            break;
        }
    if (start == NULL)
        return;
    const char *end = svg + len, *s = start, *run = start;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "c%zu-", k);
    static const char *const drop[] = {" xmlns=\"http://www.w3.org/2000/svg\"",
                                       " xmlns:xlink=\"http://www.w3.org/1999/xlink\""};
    static const char *const refs[] = {"id=\"", "href=\"#", "url(#"};
    while (s < end && p->rc == 0) {
        if (*s != ' ' && *s != 'i' && *s != 'h' && *s != 'u') { /* no pattern starts here */
            s++;
            continue;
        }
        bool done = false;
        for (size_t d = 0; d < 2 && !done; d++) {
            size_t n = strlen(drop[d]);
            if ((size_t)(end - s) >= n && memcmp(s, drop[d], n) == 0) {
                putn(p, run, (size_t)(s - run));
                s += n;
                run = s;
                done = true;
            }
        }
        for (size_t d = 0; d < 3 && !done; d++) {
            size_t n = strlen(refs[d]);
            if ((size_t)(end - s) >= n && memcmp(s, refs[d], n) == 0) {
                putn(p, run, (size_t)(s - run) + n);
                put(p, prefix);
                s += n;
                /* cairo numbers surfaces with a process-wide counter: drop
                 * it, so that a page does not depend on what the process
                 * drew before (the prefix keeps ids unique) */
                if ((size_t)(end - s) >= 7 && memcmp(s, "surface", 7) == 0) {
                    put(p, "surface");
                    s += 7;
                    while (s < end && *s >= '0' && *s <= '9')
                        s++;
                }
                run = s;
                done = true;
            }
        }
        if (!done)
            s++;
    }
    putn(p, run, (size_t)(end - run));
}

static void attribution_table(struct page *p, struct query *q, const struct query_indicator *ind,
                              const struct query_attribution *a)
{
    char buf[64];
    if (!a->set) {
        put(p, ind->value_rolled_up ? "<p class=\"muted\">No attribution: the team has no "
                                      "target (or a target of 0) in this period.</p>"
                                    : "");
        return;
    }
    put(p, "<table><thead><tr><th>Child</th><th class=\"n\">Actual</th><th class=\"n\">Target"
           "</th><th class=\"n\">Contribution to the gap</th></tr></thead><tbody>");
    for (size_t k = 0; k < a->count && p->rc == 0; k++) {
        const struct query_contribution *c = &a->items[k];
        put(p, "<tr>");
        td(p, team_name(q, c->team));
        td_num(p, num(c->actual, buf, sizeof buf), NULL);
        td_num(p, num(c->target, buf, sizeof buf), NULL);
        td_num(p, pct(c->contribution, true, buf, sizeof buf), c->contribution < 0 ? "red" : NULL);
        put(p, "</tr>");
    }
    put(p, "<tr><td><i>Not explained by the children's targets</i></td><td></td><td></td>");
    td_num(p, pct(a->residual, true, buf, sizeof buf), NULL);
    put(p, "</tr></tbody></table>");
}

/* One off_track or diverging indicator: its numbers, chart, attribution. */
static void indicator_item(struct page *p, const struct report_review_input *in,
                           const struct query_indicator *ind, size_t chart_no,
                           struct kpi_error *err)
{
    struct query *q = in->q;
    const struct kpi_indicator *k = query_indicator(q, ind->indicator);
    char buf[64], title[64];
    put(p, "<div class=\"item\"><h3>");
    esc(p, team_name(q, ind->team));
    put(p, " — ");
    esc(p, k->name && k->name[0] ? k->name : k->id);
    if (k->unit && k->unit[0]) {
        put(p, " (");
        esc(p, k->unit);
        put(p, ")");
    }
    put(p, "</h3><p class=\"meta\">");
    esc(p, ind->period.set ? ind->period.label : "");
    put(p, ": actual ");
    put(p, num(ind->actual, buf, sizeof buf));
    put(p, ", target ");
    put(p, num(ind->target, buf, sizeof buf));
    put(p, ", gap ");
    put(p, pct(ind->gap, true, buf, sizeof buf));
    put(p, " — <span class=\"");
    put(p, status_class(ind->status));
    put(p, "\">");
    put(p, query_status_name(ind->status));
    put(p, "</span>");
    if (ind->trend.set) {
        put(p, ", trend ");
        put(p, query_direction_name(ind->trend.direction));
        put(p, " (");
        put(p, num(ind->trend.slope, buf, sizeof buf));
        put(p, " per period");
        if (!isnan(ind->required_slope)) {
            put(p, ", required ");
            put(p, num(ind->required_slope, buf, sizeof buf));
        }
        put(p, ")");
    }
    if (ind->diverging)
        put(p, ", <b>diverging</b>");
    if (ind->deadline.set && !isnan(ind->projected)) {
        snprintf(title, sizeof title, "%s", ind->deadline.label);
        put(p, "; projected ");
        put(p, num(ind->projected, buf, sizeof buf));
        put(p, " at ");
        put(p, title);
        put(p, " (gap ");
        put(p, pct(ind->projected_gap, true, buf, sizeof buf));
        put(p, ")");
    }
    put(p, "</p>");
    note_block(p, q, ind->team, ind->indicator, &ind->period, "p");
    if (in->charts && p->rc == 0) {
        struct store_graph_options g = {.from_day = INT64_MIN,
                                        .to_day = INT64_MAX,
                                        .width = CHART_WIDTH,
                                        .height = CHART_HEIGHT,
                                        .png = false};
        void *image = NULL;
        size_t size = 0;
        struct kpi_error why = {0};
        if (store_graph(in->st, in->view, ind->team, ind->indicator, &g, &image, &size, &why) == 0)
            inline_svg(p, image, size, chart_no);
        else if (why.code == KPI_ESYSTEM)
            p->rc = kpi_fail(err, KPI_ESYSTEM, "%s", why.message);
        free(image);
    }
    struct query_attribution a;
    int rc = query_attribution(q, ind, &in->opt, &a, err);
    if (rc != 0 && p->rc == 0)
        p->rc = rc;
    if (p->rc == 0)
        attribution_table(p, q, ind, &a);
    query_attribution_free(&a);
    put(p, "</div>");
}

static void indicators_section(struct page *p, const struct report_review_input *in,
                               const struct roster *r, const struct query_drift *d,
                               struct kpi_error *err)
{
    put(p, "<h2 class=\"page\">Indicators off track or diverging</h2>"
           "<p class=\"meta\">Each with its chart (actual solid, target dashed, tolerance "
           "bands) and, for a team whose actual is its children's, what each child contributes "
           "to the gap (worst first).</p>");
    size_t charts = 0;
    for (size_t i = 0; i < r->n && p->rc == 0; i++)
        for (size_t k = 0; k < d[i].indicator_count && p->rc == 0; k++) {
            const struct query_indicator *ind = &d[i].indicators[k];
            if (ind->status == QUERY_OFF_TRACK || ind->diverging)
                indicator_item(p, in, ind, charts++, err);
        }
    if (charts == 0)
        put(p, "<p>None.</p>");
}

static void coverage_section(struct page *p, struct query *q, const struct roster *r,
                             const struct query_drift *d)
{
    put(p, "<h2>Teams that miss families</h2><p class=\"meta\">Teams that track at least one "
           "indicator against a target but none in some family.</p>");
    size_t n = 0;
    for (size_t i = 0; i < r->n && p->rc == 0; i++) {
        bool any = false, missing = false;
        for (size_t f = 0; f < KPI_FAMILY_COUNT; f++) {
            any = any || d[i].covered[f];
            missing = missing || !d[i].covered[f];
        }
        if (!any || !missing)
            continue;
        if (n++ == 0)
            put(p, "<table><thead><tr><th>Team</th><th>Tracks</th><th>Misses</th></tr>"
                   "</thead><tbody>");
        put(p, "<tr>");
        team_cell(p, query_team(q, r->team[i]), 0);
        for (int want = 1; want >= 0; want--) {
            put(p, "<td>");
            const char *sep = "";
            for (size_t f = 0; f < KPI_FAMILY_COUNT; f++)
                if (d[i].covered[f] == (want == 1)) {
                    put(p, sep);
                    put(p, kpi_family_name((enum kpi_family)f));
                    sep = ", ";
                }
            put(p, "</td>");
        }
        put(p, "</tr>");
    }
    put(p, n ? "</tbody></table>"
             : "<p>None: every team with a target covers the four "
               "families.</p>");
}

static void restatements_section(struct page *p, const struct report_review_input *in,
                                 const struct roster *r, struct kpi_error *err)
{
    struct store_restatement *v = NULL;
    size_t n = 0;
    int rc = store_restatements(in->st, in->since, &v, &n, err);
    if (rc != 0) {
        p->rc = rc;
        return;
    }
    size_t nteams = store_view_team_count(in->view);
    bool *in_report = calloc(nteams ? nteams : 1, sizeof *in_report);
    if (!in_report) {
        store_restatements_free(v, n);
        p->rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        in_report[r->team[i]] = true;
    char buf[96];
    put(p, "<h2>Restatements</h2><p class=\"meta\">Observations changed after they were first "
           "imported");
    if (in->since) {
        snprintf(buf, sizeof buf, ", by a commit after commit %llu", (unsigned long long)in->since);
        put(p, buf);
    }
    put(p, "; largest changes first.</p>");
    size_t shown = 0;
    for (size_t k = 0; k < n && p->rc == 0; k++) {
        size_t t, i;
        if (store_view_find_team(in->view, v[k].team, &t) != 0 || !in_report[t] ||
            store_view_find_indicator(in->view, v[k].kpi, &i) != 0)
            continue;
        const struct kpi_indicator *ind = store_view_indicator(in->view, i);
        if (shown++ == 0)
            put(p, "<table><thead><tr><th>Team</th><th>Indicator</th><th>Period</th>"
                   "<th class=\"n\">First value</th><th class=\"n\">Value</th>"
                   "<th class=\"n\">Change</th><th class=\"n\">Commits</th></tr></thead><tbody>");
        put(p, "<tr>");
        td(p, team_name(in->q, t));
        td(p, ind->name && ind->name[0] ? ind->name : ind->id);
        char label[KPI_LABEL_MAX];
        td(p, kpi_period_label(ind->period, v[k].period, label));
        td_num(p, num(v[k].first_value, buf, sizeof buf), NULL);
        td_num(p, isnan(v[k].value) ? "removed" : num(v[k].value, buf, sizeof buf), NULL);
        td_num(p, pct(v[k].change, true, buf, sizeof buf), NULL);
        snprintf(buf, sizeof buf, "%llu → %llu", (unsigned long long)v[k].first_commit,
                 (unsigned long long)v[k].commit);
        td_num(p, buf, NULL);
        put(p, "</tr>");
    }
    put(p, shown ? "</tbody></table>" : "<p>None.</p>");
    free(in_report);
    store_restatements_free(v, n);
}

int report_review_default_since(struct store *st, int64_t as_of_day, uint64_t *since,
                                struct kpi_error *err)
{
    *since = 0;
    int64_t month = kpi_period_of_day(KPI_PERIOD_MONTH, as_of_day);
    int64_t first = kpi_day_from_ymd((int)(month / 12), (int)(month % 12) + 1, 1);
    char day[KPI_LABEL_MAX];
    kpi_day_label(first - 1, day); /* the end of the day before the month */
    struct kpi_error why = {0};
    int rc = store_resolve_commit(st, day, since, &why);
    if (rc == KPI_EUSAGE) { /* no commit before the month: all of them */
        *since = 0;
        return 0;
    }
    if (rc != 0)
        return kpi_fail(err, (enum kpi_status)rc, "%s", why.message);
    return 0;
}

/* --------------------------------------------------------------- the page */

int report_review_html(const struct report_review_input *in, char **html, size_t *len,
                       struct kpi_error *err)
{
    *html = NULL;
    *len = 0;
    struct query *q = in->q;
    size_t nteams = store_view_team_count(in->view);
    struct roster r = {0};
    int rc = roster_of(q, nteams, &in->options, &r, err);
    struct query_drift *d = rc == 0 ? calloc(r.n ? r.n : 1, sizeof *d) : NULL;
    if (rc == 0 && d == NULL)
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < r.n; i++)
        rc = query_team_drift(q, r.team[i], &in->opt, true, &d[i], err);
    struct query_alert_list alerts = {0};
    if (rc == 0) {
        struct query_alert_filter f = {in->options.team, QUERY_INFO};
        rc = query_alerts(q, &in->opt, &f, &alerts, err);
    }
    if (rc == 0 && in->options.visible) { /* the token's teams only */
        size_t kept = 0;
        for (size_t i = 0; i < alerts.count; i++) {
            if (visible(&in->options, alerts.items[i].team)) {
                struct query_alert tmp = alerts.items[kept];
                alerts.items[kept++] = alerts.items[i];
                alerts.items[i] = tmp;
            }
        }
        struct query_alert_list hidden = {alerts.items + kept, alerts.count - kept};
        for (size_t i = 0; i < hidden.count; i++) {
            free(hidden.items[i].message);
            hidden.items[i].message = NULL;
        }
        alerts.count = kept;
    }
    struct page p = {{0}, rc};
    char as_of[KPI_LABEL_MAX], buf[96];
    kpi_day_label(in->opt.as_of_day, as_of);
    const char *scope =
        in->options.team != QUERY_NONE ? team_name(q, in->options.team) : "all teams";
    put(&p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>"
            "Review — ");
    esc(&p, scope);
    put(&p, " — ");
    put(&p, as_of);
    put(&p, "</title><style>");
    put(&p, STYLE);
    put(&p, "</style></head><body><h1>Management review — ");
    esc(&p, scope);
    put(&p, "</h1><p class=\"meta\">As of ");
    put(&p, as_of);
    /* the commit says which data the meeting saw (kpi review --known-at);
     * a scoped token is not told how many commits the others made */
    if (in->options.visible == NULL) {
        snprintf(buf, sizeof buf, " · data of commit %llu",
                 (unsigned long long)store_view_generation(in->view));
        put(&p, buf);
    }
    snprintf(buf, sizeof buf, " · %zu teams · ", r.n);
    put(&p, buf);
    size_t by[3] = {0};
    for (size_t i = 0; i < alerts.count; i++)
        by[alerts.items[i].severity]++;
    snprintf(buf, sizeof buf, "%zu critical, %zu warning and %zu info alerts", by[QUERY_CRITICAL],
             by[QUERY_WARNING], by[QUERY_INFO]);
    put(&p, buf);
    put(&p, "</p>");
    if (p.rc == 0)
        drift_section(&p, q, &r, d);
    if (p.rc == 0)
        alerts_section(&p, q, &alerts);
    if (p.rc == 0)
        indicators_section(&p, in, &r, d, err);
    if (p.rc == 0 && in->restatements)
        restatements_section(&p, in, &r, err);
    if (p.rc == 0)
        coverage_section(&p, q, &r, d);
    put(&p, "</body></html>\n");
    for (size_t i = 0; d && i < r.n; i++)
        query_drift_free(&d[i]);
    free(d);
    /* messages of the alerts kept (the hidden ones were freed above) */
    query_alert_list_free(&alerts);
    roster_free(&r);
    if (p.rc != 0) {
        kpi_buf_free(&p.b);
        if (rc == 0 && (err == NULL || err->code == 0))
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        return rc != 0 ? rc : p.rc;
    }
    *html = p.b.data;
    *len = p.b.len;
    return 0;
}
