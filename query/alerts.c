/* Alerts (SPEC §5 "Alerts", D12-D14): conditions, `since`, messages, order. */
#include "query/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {"off_track", "at_risk",     "diverging", "will_miss",
                                         "stale",     "cascade_gap", "coverage"};
#define KIND_COUNT (sizeof kind_names / sizeof kind_names[0])
static const char *const severity_names[] = {"info", "warning", "critical"};
#define SEVERITY_COUNT (sizeof severity_names / sizeof severity_names[0])

const char *query_alert_kind_name(enum query_alert_kind k)
{
    return (unsigned)k < KIND_COUNT ? kind_names[k] : "";
}

const char *query_severity_name(enum query_severity s)
{
    return (unsigned)s < SEVERITY_COUNT ? severity_names[s] : "";
}

int query_severity_parse(const char *text, enum query_severity *out)
{
    for (size_t k = 0; text && k < SEVERITY_COUNT; k++)
        if (strcasecmp(text, severity_names[k]) == 0) {
            *out = (enum query_severity)k;
            return 0;
        }
    return KPI_EUSAGE;
}

static enum query_severity severity_of(enum query_alert_kind k)
{
    switch (k) {
    case QUERY_ALERT_OFF_TRACK:
        return QUERY_CRITICAL;
    case QUERY_ALERT_COVERAGE:
        return QUERY_INFO;
    case QUERY_ALERT_AT_RISK:
    case QUERY_ALERT_DIVERGING:
    case QUERY_ALERT_WILL_MISS:
    case QUERY_ALERT_STALE:
    case QUERY_ALERT_CASCADE_GAP:
        break;
    }
    return QUERY_WARNING;
}

/* The table of SPEC §5, for the kinds of one indicator (D7 tolerances). */
static bool holds(enum query_alert_kind k, const struct query_indicator *r, double amber)
{
    switch (k) {
    case QUERY_ALERT_OFF_TRACK:
        return r->status == QUERY_OFF_TRACK;
    case QUERY_ALERT_AT_RISK:
        return r->status == QUERY_AT_RISK;
    case QUERY_ALERT_DIVERGING:
        return r->diverging;
    case QUERY_ALERT_WILL_MISS:
        return !isnan(r->projected_gap) && r->projected_gap < -amber - Q_EPS;
    case QUERY_ALERT_STALE:
        return r->stale;
    case QUERY_ALERT_CASCADE_GAP:
        return !isnan(r->cascade_gap) && fabs(r->cascade_gap) > amber + Q_EPS;
    case QUERY_ALERT_COVERAGE:
        break;
    }
    return false;
}

/* The last period at which the evaluation of (team, ind) may differ from
 * the next period's other than by staleness: past the last value and the
 * last target of the cell and of its children (the cascade), the latest
 * value, its trend, the targets (NaN past their last point) and the cascade
 * are all fixed. INT64_MIN when there is no data. */
static int settled_after(struct query *q, size_t team, size_t ind, const struct q_cell *c,
                         int64_t *out, struct kpi_error *err)
{
    int64_t last = INT64_MIN, first, end;
    if (q_cell_span(c, &first, &end))
        last = end;
    size_t n;
    const size_t *kids = query_children(q, team, &n);
    for (size_t k = 0; k < n; k++) {
        const struct q_cell *cc;
        int rc = q_cell_get(q, kids[k], ind, &cc, err);
        if (rc != 0)
            return rc;
        if (q_cell_span(cc, &first, &end) && end > last)
            last = end;
    }
    *out = last;
    return 0;
}

/* D13: the earliest as-of period S such that the condition holds at every
 * period from S to a. Before the first period with data nothing holds. The
 * periods past the data are not evaluated one by one (an as-of far in the
 * future would cost one evaluation per period): they all evaluate as a does,
 * except staleness, which starts stale_after periods after the last value. */
static int since_of(struct query *q, size_t team, size_t ind, enum query_alert_kind k, int64_t a,
                    const struct query_options *opt, int64_t *since, struct kpi_error *err)
{
    const struct q_cell *c;
    int rc = q_cell_get(q, team, ind, &c, err);
    if (rc != 0)
        return rc;
    int64_t first = a, last, settled, p;
    q_cell_span(c, &first, &last);
    if ((rc = settled_after(q, team, ind, c, &settled, err)) != 0)
        return rc;
    *since = a;
    int64_t s = a - 1;
    if (s > settled && s >= first) {
        int64_t from = settled + 1; /* the whole run (settled, a] holds... */
        if (k == QUERY_ALERT_STALE && q_latest_value(c, a, &p) &&
            p + (int64_t)opt->stale_after + 1 > from) /* ...but staleness starts later */
            from = p + (int64_t)opt->stale_after + 1;
        if (from < first)
            from = first;
        *since = from;
        if (from > settled + 1 || from == first)
            return 0; /* the condition does not hold at from - 1 */
        s = from - 1;
    }
    struct query_indicator r;
    for (; s >= first; s--) {
        if ((rc = q_eval_at(q, team, ind, s, opt, &r, err)) != 0)
            return rc;
        if (!holds(k, &r, q->inds[ind].amber))
            break;
        *since = s;
    }
    return 0;
}

/* ------------------------------------------------------------ messages */

static const char *name_of(const char *name, const char *id)
{
    return name && *name ? name : id;
}

/* A number for a sentence: up to 2 decimals (3 significant digits below 1),
 * trailing zeros dropped, with the unit ("12.5 EUR", "95%"). */
static void amount(double v, const char *unit, bool sign, char *buf, size_t cap)
{
    char num[64];
    if (fabs(v) >= 1 || v == 0)
        snprintf(num, sizeof num, sign ? "%+.2f" : "%.2f", v);
    else
        snprintf(num, sizeof num, sign ? "%+.3g" : "%.3g", v);
    if (strchr(num, '.') && !strchr(num, 'e')) {
        char *end = num + strlen(num) - 1;
        while (*end == '0')
            *end-- = '\0';
        if (*end == '.')
            *end = '\0';
    }
    if (strcmp(num, "-0") == 0 || strcmp(num, "+0") == 0)
        strcpy(num, "0");
    if (!unit || !*unit)
        snprintf(buf, cap, "%s", num);
    else if (strcmp(unit, "%") == 0)
        snprintf(buf, cap, "%s%%", num);
    else
        snprintf(buf, cap, "%s %s", num, unit);
}

/* "18.2% below target" or, against a target of 0, "5 EUR above its target
 * of 0". */
static void gap_words(double actual, double target, const char *unit, char *buf, size_t cap)
{
    const char *side = actual < target ? "below" : "above";
    if (target != 0) {
        snprintf(buf, cap, "%.1f%% %s target", fabs(actual - target) / fabs(target) * 100, side);
    } else {
        char a[96];
        amount(fabs(actual), unit, false, a, sizeof a);
        snprintf(buf, cap, "%s %s its target of 0", a, side);
    }
}

static int message_of(const struct query *q, enum query_alert_kind k,
                      const struct query_indicator *r, struct kpi_buf *b)
{
    const struct kpi_indicator *ind = &q->inds[r->indicator];
    const char *kpi = name_of(ind->name, ind->id);
    const char *team = name_of(q->teams[r->team].name, q->teams[r->team].id);
    char words[160], x[96], y[96];
    switch (k) {
    case QUERY_ALERT_OFF_TRACK:
    case QUERY_ALERT_AT_RISK:
        gap_words(r->actual, r->target, ind->unit, words, sizeof words);
        return kpi_buf_printf(b, "%s of %s is %s (%s) in %s", kpi, team, words,
                              k == QUERY_ALERT_OFF_TRACK ? "off track" : "at risk",
                              r->period.label);
    case QUERY_ALERT_DIVERGING:
        amount(r->trend.slope, ind->unit, true, x, sizeof x);
        amount(r->required_slope, ind->unit, true, y, sizeof y);
        return kpi_buf_printf(b,
                              "%s of %s moves away from its target in %s: %s per period while "
                              "%s per period is required",
                              kpi, team, r->period.label, x, y);
    case QUERY_ALERT_WILL_MISS: {
        amount(r->projected, ind->unit, false, x, sizeof x);
        gap_words(r->projected, r->deadline_target, ind->unit, words, sizeof words);
        return kpi_buf_printf(b, "%s of %s is projected at %s by %s, %s", kpi, team, x,
                              r->deadline.label, words);
    }
    case QUERY_ALERT_STALE:
        return kpi_buf_printf(b, "%s of %s has not been updated since %s (%lld periods before %s)",
                              kpi, team, r->period.label,
                              (long long)(r->as_of.index - r->period.index), r->as_of.label);
    case QUERY_ALERT_CASCADE_GAP:
        amount(r->children_target, ind->unit, false, x, sizeof x);
        amount(r->cascade_target, ind->unit, false, y, sizeof y);
        return kpi_buf_printf(b,
                              "The targets of %s's teams for %s add up to %s, %.1f%% %s than "
                              "its own target of %s in %s",
                              team, kpi, x, fabs(r->cascade_gap) * 100,
                              r->cascade_gap < 0 ? "less" : "more", y, r->as_of.label);
    case QUERY_ALERT_COVERAGE:
        break;
    }
    return 0;
}

/* "Ventes Nord has no indicator with a target in the human and customer
 * families". */
static int coverage_message(const struct query *q, size_t team, const bool *missing,
                            struct kpi_buf *b)
{
    size_t n = 0, done = 0;
    for (int f = 0; f < KPI_FAMILY_COUNT; f++)
        n += missing[f];
    int rc = kpi_buf_printf(b, "%s has no indicator with a target in the ",
                            name_of(q->teams[team].name, q->teams[team].id));
    for (int f = 0; f < KPI_FAMILY_COUNT && rc == 0; f++) {
        if (!missing[f])
            continue;
        const char *sep = done == 0 ? "" : done + 1 == n ? " and " : ", ";
        rc = kpi_buf_printf(b, "%s%s", sep, kpi_family_name((enum kpi_family)f));
        done++;
    }
    if (rc == 0)
        rc = kpi_buf_printf(b, " famil%s", n == 1 ? "y" : "ies");
    return rc;
}

/* ---------------------------------------------------------- collecting */

struct collector {
    struct query_alert_list *list;
    size_t cap;
};

static struct query_alert *new_alert(struct collector *col)
{
    struct query_alert_list *l = col->list;
    if (l->count == col->cap) {
        size_t cap = col->cap ? col->cap * 2 : 16;
        struct query_alert *v = realloc(l->items, cap * sizeof *v);
        if (!v)
            return NULL;
        l->items = v;
        col->cap = cap;
    }
    struct query_alert *al = &l->items[l->count++];
    memset(al, 0, sizeof *al);
    al->actual = al->target = al->gap = NAN;
    return al;
}

static int indicator_alert(struct query *q, struct collector *col, const struct query_indicator *r,
                           enum query_alert_kind k, const struct query_options *opt,
                           struct kpi_error *err)
{
    struct query_alert *al = new_alert(col);
    if (!al)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    al->team = r->team;
    al->team_id = q->teams[r->team].id;
    al->indicator = r->indicator;
    al->kpi = r->kpi;
    al->kind = k;
    al->severity = severity_of(k);
    snprintf(al->id, sizeof al->id, "%s/%s/%s", al->team_id, al->kpi, kind_names[k]);
    if (k == QUERY_ALERT_CASCADE_GAP) {
        al->period = r->as_of;
        al->target = r->cascade_target;
        al->gap = r->cascade_gap;
    } else {
        al->period = r->period;
        al->actual = r->actual;
        al->target = r->target;
        al->gap = r->gap;
    }
    struct kpi_buf b = {0};
    if (message_of(q, k, r, &b) != 0) {
        kpi_buf_free(&b);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    al->message = b.data;
    int64_t s;
    int rc = since_of(q, r->team, r->indicator, k, r->as_of.index, opt, &s, err);
    if (rc != 0)
        return rc;
    q_period_fill(&al->since, q->inds[r->indicator].period, s);
    return 0;
}

static int team_alerts(struct query *q, size_t team, const struct query_options *opt,
                       enum query_severity min, struct collector *col, struct kpi_error *err)
{
    struct query_drift d;
    int rc = query_team_drift(q, team, opt, true, &d, err);
    for (size_t k = 0; rc == 0 && k < d.indicator_count; k++) {
        const struct query_indicator *r = &d.indicators[k];
        for (size_t kind = 0; rc == 0 && kind < QUERY_ALERT_COVERAGE; kind++) {
            enum query_alert_kind ak = (enum query_alert_kind)kind;
            if (severity_of(ak) >= min && holds(ak, r, q->inds[r->indicator].amber))
                rc = indicator_alert(q, col, r, ak, opt, err);
        }
    }
    bool any_gap = false, any_missing = false;
    for (int f = 0; f < KPI_FAMILY_COUNT; f++) {
        any_gap |= d.covered[f];
        any_missing |= !d.covered[f];
    }
    for (size_t k = 0; k < d.indicator_count; k++)
        any_gap |= !isnan(d.indicators[k].gap);
    if (rc == 0 && any_gap && any_missing && severity_of(QUERY_ALERT_COVERAGE) >= min) {
        struct query_alert *al = new_alert(col);
        if (!al) {
            rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        } else {
            al->team = team;
            al->team_id = q->teams[team].id;
            al->indicator = QUERY_NONE;
            al->kind = QUERY_ALERT_COVERAGE;
            al->severity = QUERY_INFO;
            snprintf(al->id, sizeof al->id, "%s/coverage", al->team_id);
            for (int f = 0; f < KPI_FAMILY_COUNT; f++)
                al->missing[f] = !d.covered[f];
            struct kpi_buf b = {0};
            if (coverage_message(q, team, al->missing, &b) != 0) {
                kpi_buf_free(&b);
                rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            } else {
                al->message = b.data;
            }
        }
    }
    query_drift_free(&d);
    return rc;
}

static int cmp_alert(const void *a, const void *b)
{
    const struct query_alert *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    int c = strcmp(x->team_id, y->team_id);
    if (c != 0)
        return c;
    if ((x->kpi == NULL) != (y->kpi == NULL))
        return x->kpi == NULL ? -1 : 1;
    if (x->kpi && (c = strcmp(x->kpi, y->kpi)) != 0)
        return c;
    return x->kind < y->kind ? -1 : x->kind > y->kind;
}

int query_alerts(struct query *q, const struct query_options *opt,
                 const struct query_alert_filter *filter, struct query_alert_list *out,
                 struct kpi_error *err)
{
    out->items = NULL;
    out->count = 0;
    size_t root = filter ? filter->team : QUERY_NONE;
    enum query_severity min = filter ? filter->min_severity : QUERY_INFO;
    int rc = q_check_options(opt, err);
    if (rc == 0 && root != QUERY_NONE)
        rc = q_check_team(q, root, err);
    if (rc != 0)
        return rc;
    struct collector col = {out, 0};
    if (root == QUERY_NONE) {
        for (size_t t = 0; t < q->nteams && rc == 0; t++)
            rc = team_alerts(q, t, opt, min, &col, err);
    } else {
        /* The team and its descendants, breadth first over the tree. */
        size_t *queue = malloc(q->nteams * sizeof *queue);
        if (!queue)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        size_t head = 0, tail = 0;
        queue[tail++] = root;
        while (head < tail && rc == 0) {
            size_t t = queue[head++], n;
            const size_t *kids = query_children(q, t, &n);
            for (size_t k = 0; k < n; k++)
                queue[tail++] = kids[k];
            rc = team_alerts(q, t, opt, min, &col, err);
        }
        free(queue);
    }
    if (rc != 0)
        return rc;
    if (out->count > 1) /* qsort's array may not be NULL, even when empty */
        qsort(out->items, out->count, sizeof *out->items, cmp_alert);
    return 0;
}

void query_alert_list_free(struct query_alert_list *l)
{
    if (!l)
        return;
    for (size_t k = 0; k < l->count; k++)
        free(l->items[k].message);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}
