/* Tests of views scoped to one team (store_view_open_scoped): which series
 * they keep, that each kept series equals the whole view's bit for bit at
 * every commit, and the data known at an earlier commit read from versions.
 *
 * The scenario (monthly revenue, sum, up; 2025):
 *   acme
 *   ├── north: commit 1 values Jan 100, Feb 110, target Jan 120
 *   │   └── n1: commit 1 value Jan 10
 *   └── south: commit 1 value Jan 50; cost (second indicator) Jan 7
 * commit 2: north Jan corrected to 105, north Mar 120, n1 Feb 20
 * commit 3: revert of commit 2 (north Jan back to 100, north Mar and n1 Feb
 *           removed)
 * commit 4: a new team west under acme, value Jan 30; north Apr 130 */
#include "store/store.h"
#include "store/store_int.h"
#include "support/store_fixture.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    char *dir;
    struct store *st;
};

static void setup(struct fixture *f)
{
    f->dir = ts_tempdir("view");
    struct store_options o = {.create = true, .threads = 1};
    struct kpi_error e = {0};
    ck_assert_msg(store_open(f->dir, &o, &f->st, &e) == 0, "%s", e.message);

    struct store_txn *txn = sf_begin(f->st);
    sf_team(txn, "acme", "");
    sf_team(txn, "north", "acme");
    sf_team(txn, "n1", "north");
    sf_team(txn, "south", "acme");
    sf_indicator(txn, "revenue");
    sf_indicator(txn, "cost");
    sf_set(txn, "north", "revenue", 1, STORE_VALUE, 100);
    sf_set(txn, "north", "revenue", 2, STORE_VALUE, 110);
    sf_set(txn, "north", "revenue", 1, STORE_TARGET, 120);
    sf_set(txn, "n1", "revenue", 1, STORE_VALUE, 10);
    sf_set(txn, "south", "revenue", 1, STORE_VALUE, 50);
    sf_set(txn, "south", "cost", 1, STORE_VALUE, 7);
    sf_commit(txn);

    txn = sf_begin(f->st);
    sf_set(txn, "north", "revenue", 1, STORE_VALUE, 105);
    sf_set(txn, "north", "revenue", 3, STORE_VALUE, 120);
    sf_set(txn, "n1", "revenue", 2, STORE_VALUE, 20);
    sf_commit(txn);

    uint64_t cells = 0;
    ck_assert_msg(store_revert(f->st, 2, false, "test", NULL, &cells, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(cells, 3);

    txn = sf_begin(f->st);
    sf_team(txn, "west", "acme");
    sf_set(txn, "west", "revenue", 1, STORE_VALUE, 30);
    sf_set(txn, "north", "revenue", 4, STORE_VALUE, 130);
    sf_commit(txn);
}

static void teardown(struct fixture *f)
{
    store_close(f->st);
    ts_rm_rf(f->dir);
    free(f->dir);
}

static struct store_view *open_scoped(struct fixture *f, uint64_t at, const char *team,
                                      const char *kpi)
{
    struct store_scope scope = {.team = team, .kpi = kpi};
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_open_scoped(f->st, at, team != NULL ? &scope : NULL, &v, &e) == 0,
                  "%s", e.message);
    return v;
}

/* The series of (team, kpi) in view, by ids; false when absent. */
static bool series_of(const struct store_view *v, const char *team, const char *kpi,
                      struct store_series *out)
{
    size_t t, k;
    return store_view_find_team(v, team, &t) == 0 && store_view_find_indicator(v, kpi, &k) == 0 &&
           store_view_find_series(v, t, k, out);
}

/* Whether team is team `root` or one of its descendants in view. */
static bool under(const struct store_view *v, size_t team, size_t root)
{
    for (size_t steps = 0; steps <= store_view_team_count(v); steps++) {
        if (team == root)
            return true;
        const char *parent = store_view_team(v, team)->parent;
        if (parent[0] == '\0' || store_view_find_team(v, parent, &team) != 0)
            return false;
    }
    return false;
}

/* Every scope (each team, with each of kpis or none) of each commit
 * 1..commits keeps the team's subtree and equals the whole view bit for
 * bit; returns how many series were compared. */
static size_t compare_scopes(struct fixture *f, uint64_t commits, const char *const kpis[3])
{
    size_t compared = 0;
    for (uint64_t at = 1; at <= commits; at++) {
        struct store_view *whole = open_scoped(f, at, NULL, NULL);
        ck_assert_uint_eq(store_view_generation(whole), at);
        for (size_t root = 0; root < store_view_team_count(whole); root++) {
            for (size_t ki = 0; ki < 3; ki++) {
                const char *root_id = store_view_team(whole, root)->id;
                struct store_view *part = open_scoped(f, at, root_id, kpis[ki]);
                ck_assert_uint_eq(store_view_generation(part), at);
                ck_assert_uint_eq(store_view_team_count(part), store_view_team_count(whole));
                size_t expected = 0;
                for (size_t i = 0; i < store_view_series_count(whole); i++) {
                    struct store_series w, p;
                    store_view_series(whole, i, &w);
                    const char *tid = store_view_team(whole, w.team)->id;
                    const char *kid = store_view_indicator(whole, w.indicator)->id;
                    bool wanted =
                        under(whole, w.team, root) && (kpis[ki] == NULL || !strcmp(kid, kpis[ki]));
                    ck_assert_msg(series_of(part, tid, kid, &p) == wanted,
                                  "commit %llu scope %s/%s: series %s/%s %s",
                                  (unsigned long long)at, root_id, kpis[ki] ? kpis[ki] : "*", tid,
                                  kid, wanted ? "missing" : "kept");
                    if (!wanted)
                        continue;
                    expected++;
                    ck_assert_uint_eq(p.count, w.count);
                    for (size_t j = 0; j < w.count; j++) {
                        ck_assert_int_eq(p.points[j].period, w.points[j].period);
                        ck_assert(sf_same_double(p.points[j].value, w.points[j].value));
                        ck_assert(sf_same_double(p.points[j].target, w.points[j].target));
                    }
                    compared++;
                }
                ck_assert_uint_eq(store_view_series_count(part), expected);
                store_view_free(part);
            }
        }
        store_view_free(whole);
    }
    return compared;
}

START_TEST(test_scoped_view_keeps_the_subtree_and_equals_the_whole_view)
{
    struct fixture f;
    setup(&f);
    const char *const kpis[] = {NULL, "revenue", "cost"};
    /* commits 1..4 hold 4, 4, 5, 5 teams; 5, 5, 4, 5 series */
    ck_assert_uint_gt(compare_scopes(&f, 4, kpis), 50);
    teardown(&f);
}
END_TEST

/* Set day `day` (days since 1970-01-01) of team's daily indicator. */
static void set_day(struct store_txn *txn, const char *team, const char *kpi, int64_t day,
                    enum store_field field, double v)
{
    struct kpi_error e = {0};
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, team, false, &t, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, kpi, false, &k, NULL, NULL), 0);
    ck_assert_msg(store_txn_set(txn, t, k, day, field, v, NULL, &e) == 0, "%s", e.message);
}

/* Days spread over time buckets (16 days each): before 1970 (negative
 * buckets), neighbours across a bucket's edge, and a gap of many empty
 * buckets; scopes that keep a team's series among others' ids (the walk
 * of a few series over the buckets against the whole table's scan). */
static void setup_spread(struct fixture *f)
{
    f->dir = ts_tempdir("view");
    struct store_options o = {.create = true, .threads = 1};
    struct kpi_error e = {0};
    ck_assert_msg(store_open(f->dir, &o, &f->st, &e) == 0, "%s", e.message);
    static const int64_t days[] = {-40000, -17, -16, -1, 0, 15, 16, 31, 32, 9000, 9001};
    static const char *const teams[] = {"b", "c", "d", "e", "g"};
    struct store_txn *txn = sf_begin(f->st);
    sf_team(txn, "r", "");
    for (size_t t = 0; t < 5; t++)
        sf_team(txn, teams[t], "r");
    struct kpi_indicator_patch daily = {
        .ref = "visits", .name = "visits", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_DAY};
    ck_assert_msg(store_txn_patch_indicator(txn, &daily, false, NULL, &e) == 0, "%s", e.message);
    daily.ref = daily.name = "calls";
    ck_assert_msg(store_txn_patch_indicator(txn, &daily, false, NULL, &e) == 0, "%s", e.message);
    /* series ids by first set: b's two series far apart */
    for (size_t t = 0; t < 5; t++)
        for (size_t i = 0; i < 11; i++)
            set_day(txn, teams[t], "visits", days[i], STORE_VALUE, (double)(t * 100 + i));
    for (size_t t = 4; t < 5; t--)
        for (size_t i = t; i < 11; i += 2)
            set_day(txn, teams[t], "calls", days[i], STORE_TARGET, (double)(t * 10 + i) + 0.5);
    sf_commit(txn);
    /* commit 2: restatements on both sides of 1970 and of a bucket edge,
     * a new far day */
    txn = sf_begin(f->st);
    set_day(txn, "b", "visits", -17, STORE_VALUE, -1.25);
    set_day(txn, "b", "visits", 16, STORE_VALUE, 7.75);
    set_day(txn, "b", "visits", 16, STORE_TARGET, 8);
    set_day(txn, "d", "calls", -40000, STORE_VALUE, 3);
    set_day(txn, "c", "visits", 20000, STORE_VALUE, 1);
    sf_commit(txn);
    /* commit 3: reverts commit 2 (cells back, the new ones removed) */
    uint64_t cells = 0;
    ck_assert_msg(store_revert(f->st, 2, false, "test", NULL, &cells, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(cells, 5);
    /* commit 4: b restated again, g's calls from day -16 on */
    txn = sf_begin(f->st);
    set_day(txn, "b", "visits", 31, STORE_VALUE, 99);
    set_day(txn, "g", "calls", -16, STORE_VALUE, 5);
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, "c", false, &t, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, "visits", false, &k, NULL, NULL), 0);
    ck_assert_msg(store_txn_note(txn, t, k, -17, "before 1970", 11, NULL, &e) == 0, "%s",
                  e.message);
    sf_commit(txn);
}

START_TEST(test_scoped_walk_equals_the_whole_view_across_buckets)
{
    struct fixture f;
    setup_spread(&f);

    const char *const kpis[] = {NULL, "visits", "calls"};
    /* 4 commits x 6 scopes of teams (r's holds all) x 3 */
    ck_assert_uint_gt(compare_scopes(&f, 4, kpis), 100);

    /* by hand: b's visits at commit 2 and at the latest */
    struct store_view *v = open_scoped(&f, 2, "b", "visits");
    struct store_series s;
    ck_assert(series_of(v, "b", "visits", &s));
    ck_assert_uint_eq(s.count, 11);
    ck_assert_int_eq(s.points[0].period, -40000);
    ck_assert(s.points[1].period == -17 && s.points[1].value == -1.25);
    ck_assert(s.points[6].period == 16 && s.points[6].value == 7.75 && s.points[6].target == 8);
    ck_assert(s.points[10].period == 9001 && s.points[10].value == 10);
    store_view_free(v);
    v = open_scoped(&f, 0, "b", NULL);
    ck_assert_uint_eq(store_view_series_count(v), 2);
    ck_assert(series_of(v, "b", "visits", &s));
    ck_assert(s.points[1].value == 1 && s.points[6].value == 6 && isnan(s.points[6].target));
    ck_assert(s.points[7].period == 31 && s.points[7].value == 99);
    ck_assert(series_of(v, "b", "calls", &s));
    ck_assert_uint_eq(s.count, 6); /* days 0, 2, ..., 10 of the list */
    ck_assert(s.points[0].period == -40000 && s.points[0].target == 0.5);
    store_view_free(v);
    teardown(&f);
}
END_TEST

START_TEST(test_known_at_reads_each_cell_as_it_stood)
{
    struct fixture f;
    setup(&f);
    struct store_series s;
    /* commit 2: the correction and the new months */
    struct store_view *v = open_scoped(&f, 2, "north", "revenue");
    ck_assert_uint_eq(store_view_series_count(v), 2); /* north and n1 */
    ck_assert(series_of(v, "north", "revenue", &s));
    ck_assert_uint_eq(s.count, 3);
    ck_assert_int_eq(s.points[0].period, sf_month(1));
    ck_assert(s.points[0].value == 105 && s.points[0].target == 120);
    ck_assert(s.points[1].value == 110 && isnan(s.points[1].target));
    ck_assert(s.points[2].value == 120 && s.points[2].period == sf_month(3));
    ck_assert(series_of(v, "n1", "revenue", &s));
    ck_assert_uint_eq(s.count, 2);
    ck_assert(s.points[1].value == 20);
    ck_assert(!series_of(v, "south", "revenue", &s));
    store_view_free(v);
    /* commit 3: reverted -- Jan back to 100, March and n1's February gone */
    v = open_scoped(&f, 3, "north", NULL);
    ck_assert(series_of(v, "north", "revenue", &s));
    ck_assert_uint_eq(s.count, 2);
    ck_assert(s.points[0].value == 100 && s.points[1].value == 110);
    ck_assert(series_of(v, "n1", "revenue", &s));
    ck_assert_uint_eq(s.count, 1);
    ck_assert(!store_view_is_latest(v));
    store_view_free(v);
    /* west did not exist at commit 3: unknown, no series */
    v = open_scoped(&f, 3, "west", NULL);
    ck_assert_uint_eq(store_view_series_count(v), 0);
    size_t i;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_view_resolve_team(v, "west", &i, &e), KPI_ENOTFOUND);
    ck_assert_str_eq(e.message, "unknown team \"west\"");
    store_view_free(v);
    /* the latest: north's April, and the acme scope holds every series */
    v = open_scoped(&f, 0, "North", NULL); /* resolved as a user types it */
    ck_assert(store_view_is_latest(v));
    ck_assert(series_of(v, "north", "revenue", &s));
    ck_assert_uint_eq(s.count, 3);
    ck_assert(s.points[2].value == 130 && s.points[2].period == sf_month(4));
    store_view_free(v);
    v = open_scoped(&f, 0, "acme", NULL);
    ck_assert_uint_eq(store_view_series_count(v), 5);
    store_view_free(v);
    teardown(&f);
}
END_TEST

START_TEST(test_catalog_only_and_unknown_scopes_keep_no_series)
{
    struct fixture f;
    setup(&f);
    struct store_scope scope = {.catalog_only = true};
    struct store_view *v = NULL;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_view_open_scoped(f.st, 0, &scope, &v, &e), 0);
    ck_assert_uint_eq(store_view_team_count(v), 5);
    ck_assert_uint_eq(store_view_indicator_count(v), 2);
    ck_assert_uint_eq(store_view_series_count(v), 0);
    store_view_free(v);
    v = open_scoped(&f, 0, "north", "nothing");
    ck_assert_uint_eq(store_view_series_count(v), 0);
    store_view_free(v);
    v = open_scoped(&f, 0, "nobody", NULL);
    ck_assert_uint_eq(store_view_series_count(v), 0);
    store_view_free(v);
    teardown(&f);
}
END_TEST

/* The update of `held` after the commits since equals a fresh load. */
static struct store_view *update_and_compare(struct fixture *f, struct store_view *held)
{
    struct store_view *next = NULL, *fresh = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_view_update(f->st, held, &next, &e) == 0, "%s", e.message);
    ck_assert_msg(store_view_open(f->st, &fresh, &e) == 0, "%s", e.message);
    sf_assert_same_views(next, fresh);
    store_view_free(fresh);
    return next;
}

START_TEST(test_update_takes_up_commits_exactly_and_shares_points)
{
    struct fixture f;
    f.dir = ts_tempdir("view-update");
    struct store_options o = {.create = true, .threads = 1};
    struct kpi_error e = {0};
    ck_assert_msg(store_open(f.dir, &o, &f.st, &e) == 0, "%s", e.message);
    /* commit 1 */
    struct store_txn *txn = sf_begin(f.st);
    sf_team(txn, "acme", "");
    sf_team(txn, "north", "acme");
    sf_team(txn, "south", "acme");
    sf_indicator(txn, "revenue");
    for (int m = 1; m <= 3; m++) {
        sf_set(txn, "north", "revenue", m, STORE_VALUE, 100 + m);
        sf_set(txn, "south", "revenue", m, STORE_VALUE, 200 + m);
    }
    sf_commit(txn);
    struct store_view *held = NULL;
    ck_assert_msg(store_view_open_shared(f.st, &held, &e) == 0, "%s", e.message);
    struct store_series north1, south1;
    ck_assert(series_of(held, "north", "revenue", &north1));
    ck_assert(series_of(held, "south", "revenue", &south1));

    /* commit 2: a new month for north only -- appended in place, south
     * shared; the held view still shows three months */
    txn = sf_begin(f.st);
    sf_set(txn, "north", "revenue", 4, STORE_VALUE, 104);
    sf_commit(txn);
    struct store_view *v2 = update_and_compare(&f, held);
    struct store_series north2, south2;
    ck_assert(series_of(v2, "north", "revenue", &north2));
    ck_assert(series_of(v2, "south", "revenue", &south2));
    ck_assert_ptr_eq(south2.points, south1.points);
    ck_assert_ptr_eq(north2.points, north1.points);
    ck_assert_uint_eq(north2.count, 4);
    ck_assert(north2.points[3].value == 104);
    ck_assert(series_of(held, "north", "revenue", &north1));
    ck_assert_uint_eq(north1.count, 3);
    /* the held view, updated again, cannot take the same room: a copy */
    struct store_view *again = update_and_compare(&f, held);
    struct store_series north2b;
    ck_assert(series_of(again, "north", "revenue", &north2b));
    ck_assert_ptr_ne(north2b.points, north1.points);
    store_view_free(again);
    store_view_free(held);

    /* commit 3: a correction of January (a copy), a new team (sorted
     * before the others: indices move) and a new indicator, a rename */
    txn = sf_begin(f.st);
    sf_set(txn, "south", "revenue", 1, STORE_VALUE, 250);
    sf_team(txn, "aaa", "acme");
    sf_indicator(txn, "cost");
    sf_set(txn, "aaa", "cost", 2, STORE_VALUE, 5);
    sf_set(txn, "aaa", "revenue", 2, STORE_TARGET, 6);
    size_t north_i, rev_i;
    ck_assert_int_eq(store_txn_resolve_team(txn, "north", false, &north_i, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, "revenue", false, &rev_i, NULL, NULL), 0);
    ck_assert_msg(store_txn_note(txn, north_i, rev_i, sf_month(2), "a strike", 8, NULL, &e) == 0,
                  "%s", e.message);
    struct kpi_team_patch rename = {.ref = "north", .name = "Nord", .parent = "acme"};
    ck_assert_msg(store_txn_patch_team(txn, &rename, false, NULL, &e) == 0, "%s", e.message);
    sf_commit(txn);
    struct store_view *v3 = update_and_compare(&f, v2);
    struct store_series south3, north3;
    ck_assert(series_of(v3, "south", "revenue", &south3));
    ck_assert_ptr_ne(south3.points, south2.points);
    ck_assert(south3.points[0].value == 250 && south2.points[0].value == 201);
    ck_assert(series_of(v3, "north", "revenue", &north3));
    ck_assert_ptr_eq(north3.points, north2.points);
    size_t t;
    ck_assert_int_eq(store_view_find_team(v3, "north", &t), 0);
    ck_assert_str_eq(store_view_team(v3, t)->name, "Nord");
    ck_assert_uint_eq(store_view_note_count(v3), 1);
    store_view_free(v2);

    /* commit 4: the revert of commit 3 (cells removed, the correction
     * undone), then commit 5: two months at once for every series */
    uint64_t cells = 0;
    ck_assert_msg(store_revert(f.st, 3, false, "test", NULL, &cells, &e) == 0, "%s", e.message);
    ck_assert_uint_eq(cells, 4); /* three numbers and the note */
    struct store_view *v4 = update_and_compare(&f, v3);
    ck_assert(!series_of(v4, "aaa", "cost", &south3));
    store_view_free(v3);
    txn = sf_begin(f.st);
    for (int m = 5; m <= 6; m++) {
        sf_set(txn, "north", "revenue", m, STORE_VALUE, 100 + m);
        sf_set(txn, "south", "revenue", m, STORE_TARGET, 300 + m);
    }
    sf_commit(txn);
    struct store_view *v5 = update_and_compare(&f, v4);
    store_view_free(v4);
    /* nothing changed since: an equal view, every series shared */
    struct store_view *v6 = update_and_compare(&f, v5);
    for (size_t i = 0; i < store_view_series_count(v6); i++) {
        struct store_series x, y;
        store_view_series(v5, i, &x);
        store_view_series(v6, i, &y);
        ck_assert_ptr_eq(x.points, y.points);
    }
    store_view_free(v5);

    /* every earlier commit built from the latest view equals a plain
     * known-at load: appends, a correction, a new team and indicator, a
     * note, the revert */
    for (uint64_t c = 1; c <= 4; c++) {
        struct store_view *from = NULL, *plain = NULL;
        ck_assert_msg(store_view_open_at_from(f.st, v6, c, &from, &e) == 0, "%s", e.message);
        ck_assert_msg(store_view_open_at(f.st, c, &plain, &e) == 0, "%s", e.message);
        sf_assert_same_views(from, plain);
        store_view_free(plain);
        if (c == 4) { /* commit 5 only added months 5 and 6: prefixes */
            struct store_series now, then;
            ck_assert(series_of(v6, "north", "revenue", &now));
            ck_assert(series_of(from, "north", "revenue", &then));
            ck_assert_ptr_eq(then.points, now.points);
            ck_assert_uint_eq(then.count, 4);
            ck_assert_uint_eq(now.count, 6);
        }
        if (c == 2) { /* January corrected, then reverted: read again */
            struct store_series now, then;
            ck_assert(series_of(v6, "south", "revenue", &now));
            ck_assert(series_of(from, "south", "revenue", &then));
            ck_assert_ptr_ne(then.points, now.points);
            ck_assert_uint_eq(then.count, 3);
            ck_assert(then.points[0].value == 201);
        }
        store_view_free(from);
    }
    store_view_free(v6);
    teardown(&f);
}
END_TEST

/* Load the view of commit at of f's directory with db_load_view_hooked. */
static struct store_view *load_hooked(struct fixture *f, uint64_t at, struct db_load_hook *hook)
{
    sqlite3 *db = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(db_open(f->dir, DB_READ, &db, &e) == 0, "%s", e.message);
    struct store_view *v = NULL;
    ck_assert_msg(db_load_view_hooked(db, at, hook, &v, &e) == 0, "%s", e.message);
    sqlite3_close(db);
    return v;
}

/* The whole table read in two ranges of buckets on two connections equals
 * the one-thread load, at each commit (restatements, a revert, days before
 * 1970 and across a gap, a note). */
START_TEST(test_split_load_equals_the_one_thread_load)
{
    struct fixture f;
    setup_spread(&f);
    struct db_load_hook one = {.threads = 1}, two = {.threads = 2};
    for (uint64_t at = 0; at <= 4; at++) {
        struct store_view *a = load_hooked(&f, at, &one);
        struct store_view *b = load_hooked(&f, at, &two);
        sf_assert_same_views(a, b);
        ck_assert_uint_eq(store_view_generation(b), at == 0 ? 4 : at);
        if (at == 0 || at == 4) /* 5 teams x visits + 5 x calls */
            ck_assert_uint_eq(store_view_series_count(b), 10);
        store_view_free(a);
        store_view_free(b);
    }
    teardown(&f);
}
END_TEST

struct racer {
    struct fixture *f;
    int calls, commits; /* commits: how many calls commit */
    int day;            /* the next day to commit, after 9002 */
};

/* Between the two begins: one more day of b's visits committed (9002 +
 * day, value 1000 + day). */
static void commit_between(void *arg)
{
    struct racer *r = arg;
    if (r->calls++ >= r->commits)
        return;
    struct store_txn *txn = sf_begin(r->f->st);
    r->day++;
    set_day(txn, "b", "visits", 9002 + r->day, STORE_VALUE, 1000 + r->day);
    sf_commit(txn);
}

/* Two transactions begun on either side of a commit have different marks;
 * the split load then begins both again, and its view is one commit's. */
START_TEST(test_split_load_detects_a_commit_between_its_begins)
{
    struct fixture f;
    setup_spread(&f);
    struct kpi_error e = {0};
    sqlite3 *a = NULL, *b = NULL;
    ck_assert_int_eq(db_open(f.dir, DB_READ, &a, &e), 0);
    ck_assert_int_eq(db_open(f.dir, DB_READ, &b, &e), 0);
    struct db_mark ma, mb;
    ck_assert_int_eq(db_exec(a, "BEGIN", &e), 0);
    ck_assert_int_eq(db_read_mark(a, &ma, &e), 0);
    struct racer r = {&f, 0, 1, 0};
    commit_between(&r); /* commit 5 */
    ck_assert_int_eq(db_exec(b, "BEGIN", &e), 0);
    ck_assert_int_eq(db_read_mark(b, &mb, &e), 0);
    ck_assert_uint_eq(ma.last_commit, 4);
    ck_assert_uint_eq(mb.last_commit, 5);
    ck_assert_int_eq(ma.schema, mb.schema);
    ck_assert_int_eq(ma.format, 3);
    db_exec(a, "COMMIT", &e);
    db_exec(b, "COMMIT", &e);
    sqlite3_close(a);
    sqlite3_close(b);

    /* the load's first try sees commit 6 land between its begins: it
     * begins again (a second call) and loads commit 6 on both */
    r = (struct racer){&f, 0, 1, r.day};
    struct db_load_hook hook = {.threads = 2, .between = commit_between, .arg = &r};
    struct store_view *v = load_hooked(&f, 0, &hook);
    ck_assert_int_eq(r.calls, 2);
    ck_assert_uint_eq(store_view_generation(v), 6);
    struct db_load_hook one = {.threads = 1};
    struct store_view *w = load_hooked(&f, 0, &one);
    sf_assert_same_views(v, w);
    struct store_series s;
    ck_assert(series_of(v, "b", "visits", &s));
    ck_assert_uint_eq(s.count, 13); /* 11 days, commit 5's and 6's */
    ck_assert(s.points[11].period == 9003 && s.points[11].value == 1001);
    ck_assert(s.points[12].period == 9004 && s.points[12].value == 1002);
    store_view_free(v);
    store_view_free(w);

    /* a commit between every pair of begins: after 8 tries, the load runs
     * on the first connection alone, whose commit the view is */
    r = (struct racer){&f, 0, 100, r.day};
    v = load_hooked(&f, 0, &hook);
    ck_assert_int_eq(r.calls, 8);
    ck_assert_uint_eq(store_view_generation(v), 6 + 8);
    w = load_hooked(&f, 0, &one);
    sf_assert_same_views(v, w);
    store_view_free(v);
    store_view_free(w);
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_view");
    TCase *tc = tcase_create("scoped");
    tcase_add_test(tc, test_scoped_view_keeps_the_subtree_and_equals_the_whole_view);
    tcase_add_test(tc, test_scoped_walk_equals_the_whole_view_across_buckets);
    tcase_add_test(tc, test_split_load_equals_the_one_thread_load);
    tcase_add_test(tc, test_split_load_detects_a_commit_between_its_begins);
    tcase_add_test(tc, test_known_at_reads_each_cell_as_it_stood);
    tcase_add_test(tc, test_catalog_only_and_unknown_scopes_keep_no_series);
    tcase_add_test(tc, test_update_takes_up_commits_exactly_and_shares_points);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
