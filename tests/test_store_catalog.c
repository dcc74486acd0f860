/* Tests of store/catalog.c: resolving references (SPEC §2) and catalog
 * patches inside a transaction. */
#include "store/store.h"
#include "support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    char *dir;
    struct store *st;
    struct store_txn *txn;
};

static void setup(struct fixture *f)
{
    f->dir = ts_tempdir("catalog");
    struct store_options o = {.create = true, .threads = 1};
    ck_assert_int_eq(store_open(f->dir, &o, &f->st, NULL), 0);
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(f->st, &f->txn, &e) == 0, "%s", e.message);
}

static void teardown(struct fixture *f)
{
    store_txn_abort(f->txn);
    store_close(f->st);
    ts_rm_rf(f->dir);
    free(f->dir);
}

static void commit_and_reopen(struct fixture *f)
{
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_commit(f->txn, NULL, NULL, &e) == 0, "%s", e.message);
    ck_assert_msg(store_txn_begin(f->st, &f->txn, &e) == 0, "%s", e.message);
}

static size_t team_ok(struct fixture *f, const char *ref, bool *created)
{
    size_t i = SIZE_MAX;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_resolve_team(f->txn, ref, true, &i, created, &e) == 0, "%s: %s", ref,
                  e.message);
    return i;
}

static const char *team_id(struct fixture *f, const char *ref)
{
    return store_txn_team(f->txn, team_ok(f, ref, NULL))->id;
}

START_TEST(test_reference_matches_id_case_insensitively)
{
    struct fixture f;
    setup(&f);
    bool created;
    size_t a = team_ok(&f, "sales", &created);
    ck_assert(created);
    ck_assert_uint_eq(team_ok(&f, "SALES", &created), a);
    ck_assert(!created);
    ck_assert_uint_eq(team_ok(&f, "  Sales\t", &created), a);
    ck_assert(!created);
    teardown(&f);
}
END_TEST

START_TEST(test_reference_matches_display_name_case_and_accent_insensitively)
{
    struct fixture f;
    setup(&f);
    struct kpi_team_patch p = {.ref = "rd", .name = "Recherche & Développement"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &p, false, NULL, NULL), 0);
    ck_assert_str_eq(team_id(&f, "recherche & développement"), "rd");
    ck_assert_str_eq(team_id(&f, "RECHERCHE & DEVELOPPEMENT"), "rd");
    teardown(&f);
}
END_TEST

START_TEST(test_unknown_reference_is_slugified_with_its_text_as_name)
{
    struct fixture f;
    setup(&f);
    size_t i = team_ok(&f, " Ventes – Île-de-France ", NULL);
    ck_assert_str_eq(store_txn_team(f.txn, i)->id, "ventes-ile-de-france");
    ck_assert_str_eq(store_txn_team(f.txn, i)->name, "Ventes – Île-de-France");
    ck_assert_str_eq(team_id(&f, "../../etc"), "etc");
    ck_assert_str_eq(team_id(&f, "North.East_1"), "north.east_1"); /* valid id once lower-cased */
    teardown(&f);
}
END_TEST

START_TEST(test_existing_slug_means_that_entry)
{
    struct fixture f;
    setup(&f);
    size_t a = team_ok(&f, "Ventes – Île-de-France", NULL);
    bool created = true;
    ck_assert_uint_eq(team_ok(&f, "VENTES Ile de France!", &created), a);
    ck_assert(!created);
    teardown(&f);
}
END_TEST

/* SPEC §4: after ids and names, a reference's slug is matched against the
 * slugs of the names, before anything is created; a slug that is an
 * existing id still wins over another entry's name. */
START_TEST(test_slug_of_a_name_means_that_entry)
{
    struct fixture f;
    setup(&f);
    struct kpi_team_patch p = {.ref = "idf", .name = "Ventes – Île-de-France"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &p, false, NULL, NULL), 0);
    struct kpi_indicator_patch ip = {.ref = "ca", .name = "Chiffre d'affaires"};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &ip, false, NULL, NULL), 0);
    bool created = true;
    size_t i = team_ok(&f, "Ventes - Ile de France", &created);
    ck_assert_str_eq(store_txn_team(f.txn, i)->id, "idf");
    ck_assert(!created);
    ck_assert_str_eq(team_id(&f, "ventes-ile-de-france"), "idf"); /* a valid id, unknown */
    size_t k = SIZE_MAX;
    struct kpi_error e = {0};
    ck_assert_int_eq(
        store_txn_resolve_indicator(f.txn, "Chiffre d\u2019affaires", false, &k, NULL, &e), 0);
    ck_assert_str_eq(store_txn_indicator(f.txn, k)->id, "ca");
    /* an id equal to the slug wins over a name with that slug */
    struct kpi_team_patch q = {.ref = "nord", .name = "Ventes Nord"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &q, false, NULL, NULL), 0);
    struct kpi_team_patch r = {.ref = "ventes-nord", .name = "Autre"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &r, false, NULL, NULL), 0);
    ck_assert_str_eq(team_id(&f, "VENTES  NORD !"), "ventes-nord");
    /* a rename drops the old name's slug */
    struct kpi_team_patch t = {.ref = "idf", .name = "Paris"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &t, false, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_team(f.txn, "Ventes - Ile de France", false, &i, NULL, &e),
                     KPI_ENOTFOUND);
    teardown(&f);
}
END_TEST

START_TEST(test_reference_without_letters_or_digits_is_rejected)
{
    struct fixture f;
    setup(&f);
    size_t i;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_resolve_team(f.txn, " – !! ", true, &i, NULL, &e), KPI_EINPUT);
    ck_assert_str_eq(e.message, "reference \" – !! \" has no letters or digits");
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "", false, &i, NULL, &e), KPI_EINPUT);
    teardown(&f);
}
END_TEST

START_TEST(test_unknown_reference_without_create_is_not_found)
{
    struct fixture f;
    setup(&f);
    size_t i;
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_resolve_team(f.txn, "Nobody", false, &i, NULL, &e), KPI_ENOTFOUND);
    ck_assert_str_eq(e.message, "unknown team \"Nobody\"");
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "nothing", false, &i, NULL, &e),
                     KPI_ENOTFOUND);
    ck_assert_str_eq(e.message, "unknown indicator \"nothing\"");
    struct kpi_team_patch tp = {.ref = "Nobody", .name = "X"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &tp, true, NULL, &e), KPI_ENOTFOUND);
    struct kpi_indicator_patch ip = {.ref = "nothing"};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &ip, true, NULL, &e), KPI_ENOTFOUND);
    struct store_txn_stats s;
    store_txn_stats(f.txn, &s);
    ck_assert_uint_eq(s.new_teams, 0);
    ck_assert_uint_eq(s.new_indicators, 0);
    teardown(&f);
}
END_TEST

START_TEST(test_new_indicator_gets_spec_defaults)
{
    struct fixture f;
    setup(&f);
    size_t i;
    bool created = false;
    ck_assert_int_eq(
        store_txn_resolve_indicator(f.txn, "Chiffre d'affaires", true, &i, &created, NULL), 0);
    ck_assert(created);
    const struct kpi_indicator *ind = store_txn_indicator(f.txn, i);
    ck_assert_str_eq(ind->id, "chiffre-d-affaires");
    ck_assert_str_eq(ind->name, "Chiffre d'affaires");
    ck_assert_int_eq(ind->family, KPI_FAMILY_NONE);
    ck_assert_int_eq(ind->period, KPI_PERIOD_MONTH);
    ck_assert_int_eq(ind->direction, KPI_DIRECTION_UP);
    ck_assert_str_eq(ind->unit, "");
    ck_assert_double_eq(ind->amber, 0.05);
    ck_assert_double_eq(ind->red, 0.10);
    ck_assert_double_eq(ind->weight, 1);
    teardown(&f);
}
END_TEST

START_TEST(test_team_patch_sets_name_and_creates_unknown_parent)
{
    struct fixture f;
    setup(&f);
    bool created = false;
    struct kpi_team_patch p = {.ref = "paris", .name = "Paris office", .parent = "France"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &p, false, &created, NULL), 0);
    ck_assert(created);
    size_t i = team_ok(&f, "paris", NULL);
    ck_assert_str_eq(store_txn_team(f.txn, i)->name, "Paris office");
    ck_assert_str_eq(store_txn_team(f.txn, i)->parent, "france");
    ck_assert_str_eq(store_txn_team(f.txn, team_ok(&f, "france", NULL))->name, "France");
    struct store_txn_stats s;
    store_txn_stats(f.txn, &s);
    ck_assert_uint_eq(s.new_teams, 2);
    /* the name resolves too, and the old one no longer does after a rename */
    ck_assert_str_eq(team_id(&f, "paris OFFICE"), "paris");
    struct kpi_team_patch r = {.ref = "paris", .name = "Lutèce"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &r, true, &created, NULL), 0);
    ck_assert(!created);
    ck_assert_str_eq(team_id(&f, "lutece"), "paris");
    size_t k;
    ck_assert_int_eq(store_txn_resolve_team(f.txn, "Paris office", false, &k, NULL, NULL),
                     KPI_ENOTFOUND);
    /* "" makes a root; NULL leaves the parent */
    struct kpi_team_patch root = {.ref = "paris", .parent = ""};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &root, true, NULL, NULL), 0);
    ck_assert_str_eq(store_txn_team(f.txn, i)->parent, "");
    teardown(&f);
}
END_TEST

START_TEST(test_strict_team_patch_refuses_unknown_parent)
{
    struct fixture f;
    setup(&f);
    team_ok(&f, "paris", NULL);
    struct kpi_team_patch p = {.ref = "paris", .parent = "Nowhere"};
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &p, true, NULL, &e), KPI_ENOTFOUND);
    size_t i;
    ck_assert_int_eq(store_txn_resolve_team(f.txn, "nowhere", false, &i, NULL, NULL),
                     KPI_ENOTFOUND);
    teardown(&f);
}
END_TEST

START_TEST(test_parent_cycle_is_rejected)
{
    struct fixture f;
    setup(&f);
    struct kpi_team_patch ab = {.ref = "a", .parent = "b"};
    struct kpi_team_patch bc = {.ref = "b", .parent = "c"};
    struct kpi_team_patch ca = {.ref = "c", .parent = "A"};
    struct kpi_team_patch self = {.ref = "d", .parent = "D"};
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &ab, false, NULL, &e), 0);
    ck_assert_int_eq(store_txn_patch_team(f.txn, &bc, false, NULL, &e), 0);
    ck_assert_int_eq(store_txn_patch_team(f.txn, &ca, false, NULL, &e), KPI_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.message, "cycle"));
    ck_assert_int_eq(store_txn_patch_team(f.txn, &self, false, NULL, &e), KPI_EINPUT);
    size_t i;
    ck_assert_int_eq(store_txn_resolve_team(f.txn, "d", false, &i, NULL, NULL), KPI_ENOTFOUND);
    ck_assert_str_eq(store_txn_team(f.txn, team_ok(&f, "c", NULL))->parent, "");
    teardown(&f);
}
END_TEST

START_TEST(test_indicator_patch_sets_attributes_and_survives_commit)
{
    struct fixture f;
    setup(&f);
    struct kpi_indicator_patch p = {
        .ref = "headcount",
        .name = "Effectif",
        .unit = "FTE",
        .set = KPI_SET_FAMILY | KPI_SET_DIRECTION | KPI_SET_PERIOD | KPI_SET_AGGREGATE |
               KPI_SET_AMBER | KPI_SET_RED | KPI_SET_WEIGHT,
        .family = KPI_FAMILY_HUMAN,
        .direction = KPI_DIRECTION_DOWN,
        .period = KPI_PERIOD_QUARTER,
        .aggregate = KPI_AGGREGATE_MEAN,
        .amber = 0.1,
        .red = 0.2,
        .weight = 2.5,
    };
    bool created = false;
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, &created, NULL), 0);
    ck_assert(created);
    struct kpi_team_patch tp = {.ref = "paris", .name = "Paris", .parent = "France"};
    ck_assert_int_eq(store_txn_patch_team(f.txn, &tp, false, NULL, NULL), 0);
    commit_and_reopen(&f);
    struct store_view *v = NULL;
    ck_assert_int_eq(store_view_open(f.st, &v, NULL), 0);
    ck_assert_uint_eq(store_view_generation(v), 1);
    const struct kpi_indicator *ind = store_view_indicator(v, 0);
    ck_assert_str_eq(ind->id, "headcount");
    ck_assert_str_eq(ind->name, "Effectif");
    ck_assert_str_eq(ind->unit, "FTE");
    ck_assert_int_eq(ind->family, KPI_FAMILY_HUMAN);
    ck_assert_int_eq(ind->direction, KPI_DIRECTION_DOWN);
    ck_assert_int_eq(ind->period, KPI_PERIOD_QUARTER);
    ck_assert_int_eq(ind->aggregate, KPI_AGGREGATE_MEAN);
    ck_assert_double_eq(ind->amber, 0.1);
    ck_assert_double_eq(ind->red, 0.2);
    ck_assert_double_eq(ind->weight, 2.5);
    ck_assert_uint_eq(store_view_team_count(v), 2);
    ck_assert_str_eq(store_view_team(v, 0)->id, "france");
    ck_assert_str_eq(store_view_team(v, 1)->parent, "france");
    ck_assert_str_eq(store_view_team(v, 1)->name, "Paris");
    store_view_free(v);
    /* a patch with nothing new changes nothing */
    struct kpi_indicator_patch same = {
        .ref = "Effectif", .unit = "FTE", .set = KPI_SET_WEIGHT, .weight = 2.5};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &same, true, &created, NULL), 0);
    ck_assert(!created);
    char *before = ts_tree_digest(f.dir);
    commit_and_reopen(&f);
    char *after = ts_tree_digest(f.dir);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    teardown(&f);
}
END_TEST

START_TEST(test_period_change_of_indicator_with_data_is_rejected)
{
    struct fixture f;
    setup(&f);
    size_t t = team_ok(&f, "t", NULL), k, empty;
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "sales", true, &k, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "empty", true, &empty, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_set(f.txn, t, k, 2026 * 12, STORE_VALUE, 1, NULL, NULL), 0);
    struct kpi_indicator_patch p = {
        .ref = "sales", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_WEEK};
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, NULL, &e), KPI_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.message, "period"));
    commit_and_reopen(&f); /* still refused in the next transaction */
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, NULL, &e), KPI_EINPUT);
    p.period = KPI_PERIOD_MONTH; /* the same period is fine */
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, NULL, &e), 0);
    struct kpi_indicator_patch q = {
        .ref = "empty", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_WEEK};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &q, false, NULL, &e), 0);
    /* indices are those of the new transaction: sorted by id at the commit */
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "empty", false, &empty, NULL, NULL), 0);
    ck_assert_int_eq(store_txn_indicator(f.txn, empty)->period, KPI_PERIOD_WEEK);
    teardown(&f);
}
END_TEST

START_TEST(test_indicator_patch_rejects_non_finite_numbers)
{
    struct fixture f;
    setup(&f);
    struct kpi_indicator_patch p = {.ref = "x", .set = KPI_SET_AMBER, .amber = NAN};
    struct kpi_error e = {0};
    ck_assert_int_eq(store_txn_patch_indicator(f.txn, &p, false, NULL, &e), KPI_EINPUT);
    size_t i;
    ck_assert_int_eq(store_txn_resolve_indicator(f.txn, "x", false, &i, NULL, NULL), KPI_ENOTFOUND);
    teardown(&f);
}
END_TEST

static Suite *catalog_suite(void)
{
    Suite *s = suite_create("store_catalog");
    TCase *tc = tcase_create("catalog");
    tcase_add_test(tc, test_reference_matches_id_case_insensitively);
    tcase_add_test(tc, test_reference_matches_display_name_case_and_accent_insensitively);
    tcase_add_test(tc, test_unknown_reference_is_slugified_with_its_text_as_name);
    tcase_add_test(tc, test_slug_of_a_name_means_that_entry);
    tcase_add_test(tc, test_existing_slug_means_that_entry);
    tcase_add_test(tc, test_reference_without_letters_or_digits_is_rejected);
    tcase_add_test(tc, test_unknown_reference_without_create_is_not_found);
    tcase_add_test(tc, test_new_indicator_gets_spec_defaults);
    tcase_add_test(tc, test_team_patch_sets_name_and_creates_unknown_parent);
    tcase_add_test(tc, test_strict_team_patch_refuses_unknown_parent);
    tcase_add_test(tc, test_parent_cycle_is_rejected);
    tcase_add_test(tc, test_indicator_patch_sets_attributes_and_survives_commit);
    tcase_add_test(tc, test_period_change_of_indicator_with_data_is_rejected);
    tcase_add_test(tc, test_indicator_patch_rejects_non_finite_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(catalog_suite());
}
