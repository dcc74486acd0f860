/*
 * catalog.c — teams and indicators inside a write transaction: resolving
 * references of input data (SPEC §2) and applying catalog rows.
 *
 * Each kind keeps three hash maps: id -> index, kpi_fold(name) -> index and
 * kpi_slugify(name) -> index (near-miss names: `Ventes - Ile de France`
 * finds `Ventes – Île-de-France`, SPEC §4). A rename adds new name keys and
 * leaves the old ones: a lookup accepts a hit only when it is the entry's
 * current key (wcat.folded, wcat.slugged), so no deletion is ever needed. Several entries may share
 * a name; the smallest id wins, so the result does not depend on the order in which they were
 * created.
 */
#include "store/txn_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536

char *txn_strdup(struct store_txn *txn, const char *s, size_t len)
{
    struct arena_block *b = txn->arena;
    if (b == NULL || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        if (txn->arena != NULL && len + 1 > ARENA_BLOCK) {
            /* a big string: keep filling the current block afterwards */
            b->next = txn->arena->next;
            txn->arena->next = b;
        } else {
            b->next = txn->arena;
            txn->arena = b;
        }
    }
    char *p = b->data + b->used;
    memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

/* ------------------------------------------------------------ wcat basics */

static int wcat_grow(struct wcat *c, size_t need)
{
    if (need <= c->cap)
        return 0;
    size_t cap = c->cap < 16 ? 16 : c->cap * 2;
    while (cap < need)
        cap *= 2;
    const char **f = realloc(c->folded, cap * sizeof *f);
    if (f == NULL)
        return KPI_ESYSTEM;
    c->folded = f;
    const char **sl = realloc(c->slugged, cap * sizeof *sl);
    if (sl == NULL)
        return KPI_ESYSTEM;
    c->slugged = sl;
    bool *cr = realloc(c->created, cap * sizeof *cr);
    if (cr == NULL)
        return KPI_ESYSTEM;
    c->created = cr;
    c->cap = cap;
    return 0;
}

/* Record name as the current name of entry i. */
static int wcat_set_name(struct store_txn *txn, struct wcat *c, size_t i, const char *name)
{
    size_t len = strlen(name);
    char stack[256];
    char *buf = len + 1 <= sizeof stack ? stack : malloc(len + 1);
    if (buf == NULL)
        return KPI_ESYSTEM;
    size_t n = kpi_fold(name, buf, len + 1);
    char *key = txn_strdup(txn, buf, n);
    if (buf != stack)
        free(buf);
    if (key == NULL)
        return KPI_ESYSTEM;
    c->folded[i] = key;
    if (strmap_put(&c->names, key, i) != 0)
        return KPI_ESYSTEM;
    char slug[KPI_ID_MAX + 1];
    size_t sn = kpi_slugify(name, slug);
    c->slugged[i] = txn_strdup(txn, slug, sn);
    if (c->slugged[i] == NULL)
        return KPI_ESYSTEM;
    return sn == 0 ? 0 : strmap_put(&c->slugs, c->slugged[i], i);
}

static bool wcat_find_id(const struct wcat *c, const char *id, size_t *index)
{
    size_t pos = 0;
    return strmap_next(&c->ids, id, strmap_hash(id), &pos, index);
}

static const char *entry_id(const struct store_txn *txn, bool team, size_t i)
{
    return team ? txn->teams[i].id : txn->inds[i].id;
}

/* The entry whose current name key (folded, or slugged when by_slug) is key;
 * the smallest id when several share it. */
static bool wcat_find_key(const struct store_txn *txn, bool team, bool by_slug, const char *key,
                          size_t *index)
{
    const struct wcat *c = team ? &txn->tcat : &txn->icat;
    const struct strmap *map = by_slug ? &c->slugs : &c->names;
    const char *const *current = by_slug ? c->slugged : c->folded;
    uint64_t h = strmap_hash(key);
    size_t pos = 0, v;
    bool found = false;
    while (strmap_next(map, key, h, &pos, &v)) {
        if (strcmp(current[v], key) != 0)
            continue; /* the entry was renamed since */
        if (!found || strcmp(entry_id(txn, team, v), entry_id(txn, team, *index)) < 0)
            *index = v;
        found = true;
    }
    return found;
}

int txn_catalog_load(struct store_txn *txn, struct kpi_error *err)
{
    const struct store_view *b = txn->base;
    size_t tc = b->team_count, ic = b->indicator_count;
    txn->teams = malloc((tc ? tc : 1) * sizeof *txn->teams);
    txn->team_parent = malloc((tc ? tc : 1) * sizeof *txn->team_parent);
    txn->inds = malloc((ic ? ic : 1) * sizeof *txn->inds);
    txn->ind_has_data = calloc(ic ? ic : 1, sizeof *txn->ind_has_data);
    if (txn->teams == NULL || txn->team_parent == NULL || txn->inds == NULL ||
        txn->ind_has_data == NULL || wcat_grow(&txn->tcat, tc) != 0 ||
        wcat_grow(&txn->icat, ic) != 0)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    if (tc > 0) {
        memcpy(txn->teams, b->teams, tc * sizeof *txn->teams);
        memcpy(txn->team_parent, b->team_parent, tc * sizeof *txn->team_parent);
    }
    if (ic > 0)
        memcpy(txn->inds, b->indicators, ic * sizeof *txn->inds);
    for (size_t i = 0; i < tc; i++) {
        txn->tcat.created[i] = false;
        if (strmap_put(&txn->tcat.ids, txn->teams[i].id, i) != 0 ||
            wcat_set_name(txn, &txn->tcat, i, txn->teams[i].name) != 0)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    for (size_t i = 0; i < ic; i++) {
        txn->icat.created[i] = false;
        if (strmap_put(&txn->icat.ids, txn->inds[i].id, i) != 0 ||
            wcat_set_name(txn, &txn->icat, i, txn->inds[i].name) != 0)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    txn->tcat.count = tc;
    txn->icat.count = ic;
    /* a database's base has no series loaded: txn_indicator_has_data asks */
    for (size_t i = 0; i < b->series_count; i++)
        txn->ind_has_data[b->series[i].indicator] = true;
    return 0;
}

void txn_catalog_free(struct store_txn *txn)
{
    struct wcat *cats[2] = {&txn->tcat, &txn->icat};
    for (size_t k = 0; k < 2; k++) {
        strmap_free(&cats[k]->ids);
        strmap_free(&cats[k]->names);
        strmap_free(&cats[k]->slugs);
        free(cats[k]->folded);
        free(cats[k]->slugged);
        free(cats[k]->created);
    }
    free(txn->teams);
    free(txn->team_parent);
    free(txn->inds);
    free(txn->ind_has_data);
}

/* ------------------------------------------------------------ references */

/* Find what ref means. 0 and *index when it names an entry; KPI_ENOTFOUND
 * with the id it would create in new_id (KPI_ID_MAX + 1 bytes); KPI_EINPUT
 * when its slug is empty; KPI_ESYSTEM out of memory. */
static int lookup(const struct store_txn *txn, bool team, const char *ref, size_t *index,
                  char *new_id, struct kpi_error *err)
{
    const struct wcat *c = team ? &txn->tcat : &txn->icat;
    char id[KPI_ID_MAX + 1];
    bool as_id = store_ref_as_id(ref, id);
    if (as_id && wcat_find_id(c, id, index))
        return 0;
    size_t len = strlen(ref);
    char stack[256];
    char *folded = len + 1 <= sizeof stack ? stack : malloc(len + 1);
    if (folded == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    kpi_fold(ref, folded, len + 1);
    bool by_name = folded[0] != '\0' && wcat_find_key(txn, team, false, folded, index);
    if (folded != stack)
        free(folded);
    if (by_name)
        return 0;
    /* SPEC §2: a valid id once lower-cased becomes that id; else its slug,
     * which may be an existing id. SPEC §4: before anything is created, the
     * slug is matched against the names' slugs. */
    char slug[KPI_ID_MAX + 1];
    if (kpi_slugify(ref, slug) == 0 && !as_id)
        return kpi_fail(err, KPI_EINPUT, "reference \"%s\" has no letters or digits", ref);
    if (!as_id && wcat_find_id(c, slug, index))
        return 0;
    if (slug[0] != '\0' && wcat_find_key(txn, team, true, slug, index))
        return 0;
    memcpy(new_id, as_id ? id : slug, KPI_ID_MAX + 1);
    return KPI_ENOTFOUND;
}

static int create_team(struct store_txn *txn, const char *id, const char *ref, size_t *index)
{
    struct wcat *c = &txn->tcat;
    size_t i = c->count, tlen;
    const char *trimmed = store_trim(ref, &tlen);
    if (i >= UINT32_MAX - 1 || wcat_grow(c, i + 1) != 0)
        return KPI_ESYSTEM;
    struct kpi_team *t = realloc(txn->teams, c->cap * sizeof *t);
    if (t == NULL)
        return KPI_ESYSTEM;
    txn->teams = t;
    size_t *p = realloc(txn->team_parent, c->cap * sizeof *p);
    if (p == NULL)
        return KPI_ESYSTEM;
    txn->team_parent = p;
    const char *cid = txn_strdup(txn, id, strlen(id));
    const char *name = txn_strdup(txn, trimmed, tlen);
    if (cid == NULL || name == NULL)
        return KPI_ESYSTEM;
    t[i] = (struct kpi_team){cid, name, ""};
    p[i] = SIZE_MAX;
    c->created[i] = true;
    c->count++;
    if (strmap_put(&c->ids, cid, i) != 0 || wcat_set_name(txn, c, i, name) != 0)
        return KPI_ESYSTEM;
    txn->new_teams++;
    txn->catalog_dirty = true;
    *index = i;
    return 0;
}

static int create_indicator(struct store_txn *txn, const char *id, const char *ref, size_t *index)
{
    struct wcat *c = &txn->icat;
    size_t i = c->count, tlen;
    const char *trimmed = store_trim(ref, &tlen);
    if (i >= UINT32_MAX - 1 || wcat_grow(c, i + 1) != 0)
        return KPI_ESYSTEM;
    struct kpi_indicator *in = realloc(txn->inds, c->cap * sizeof *in);
    if (in == NULL)
        return KPI_ESYSTEM;
    txn->inds = in;
    bool *has = realloc(txn->ind_has_data, c->cap * sizeof *has);
    if (has == NULL)
        return KPI_ESYSTEM;
    txn->ind_has_data = has;
    const char *cid = txn_strdup(txn, id, strlen(id));
    const char *name = txn_strdup(txn, trimmed, tlen);
    if (cid == NULL || name == NULL)
        return KPI_ESYSTEM;
    kpi_indicator_defaults(&in[i], cid);
    in[i].name = name;
    has[i] = false;
    c->created[i] = true;
    c->count++;
    if (strmap_put(&c->ids, cid, i) != 0 || wcat_set_name(txn, c, i, name) != 0)
        return KPI_ESYSTEM;
    txn->new_indicators++;
    txn->catalog_dirty = true;
    *index = i;
    return 0;
}

static int create(struct store_txn *txn, bool team, const char *id, const char *ref, size_t *index,
                  struct kpi_error *err)
{
    int rc = team ? create_team(txn, id, ref, index) : create_indicator(txn, id, ref, index);
    return rc == 0 ? 0 : kpi_fail(err, KPI_ESYSTEM, "out of memory");
}

static int resolve(struct store_txn *txn, bool team, const char *ref, bool do_create, size_t *index,
                   bool *created, struct kpi_error *err)
{
    char new_id[KPI_ID_MAX + 1];
    if (created != NULL)
        *created = false;
    int rc = lookup(txn, team, ref, index, new_id, err);
    if (rc != KPI_ENOTFOUND)
        return rc;
    if (!do_create)
        return kpi_fail(err, KPI_ENOTFOUND, "unknown %s \"%s\"", team ? "team" : "indicator", ref);
    rc = create(txn, team, new_id, ref, index, err);
    if (rc == 0 && created != NULL)
        *created = true;
    return rc;
}

int store_txn_resolve_team(struct store_txn *txn, const char *ref, bool create_it, size_t *index,
                           bool *created, struct kpi_error *err)
{
    return resolve(txn, true, ref, create_it, index, created, err);
}

int store_txn_resolve_indicator(struct store_txn *txn, const char *ref, bool create_it,
                                size_t *index, bool *created, struct kpi_error *err)
{
    return resolve(txn, false, ref, create_it, index, created, err);
}

const struct kpi_team *store_txn_team(const struct store_txn *txn, size_t index)
{
    return &txn->teams[index];
}

const struct kpi_indicator *store_txn_indicator(const struct store_txn *txn, size_t index)
{
    return &txn->inds[index];
}

/* --------------------------------------------------------------- patches */

/* Set *field to the trimmed text when it differs (an empty text keeps the
 * old one when keep_empty is false). */
static int set_text(struct store_txn *txn, const char **field, const char *text, bool allow_empty,
                    bool *changed)
{
    size_t len;
    const char *t = store_trim(text, &len);
    if ((len == 0 && !allow_empty) || (strlen(*field) == len && memcmp(*field, t, len) == 0))
        return 0;
    const char *copy = txn_strdup(txn, t, len);
    if (copy == NULL)
        return KPI_ESYSTEM;
    *field = copy;
    *changed = true;
    return 0;
}

int store_txn_patch_team(struct store_txn *txn, const struct kpi_team_patch *patch, bool strict,
                         bool *created, struct kpi_error *err)
{
    char new_id[KPI_ID_MAX + 1], parent_id[KPI_ID_MAX + 1];
    size_t index = SIZE_MAX, parent = SIZE_MAX, plen = 0;
    if (created != NULL)
        *created = false;
    /* everything is checked before anything changes */
    int rc = lookup(txn, true, patch->ref, &index, new_id, err);
    if (rc == KPI_ENOTFOUND && strict)
        return kpi_fail(err, KPI_ENOTFOUND, "unknown team \"%s\"", patch->ref);
    if (rc != 0 && rc != KPI_ENOTFOUND)
        return rc;
    bool team_new = rc == KPI_ENOTFOUND, parent_new = false;
    if (patch->parent != NULL)
        store_trim(patch->parent, &plen);
    if (plen > 0) {
        rc = lookup(txn, true, patch->parent, &parent, parent_id, err);
        if (rc == KPI_ENOTFOUND && strict)
            return kpi_fail(err, KPI_ENOTFOUND, "unknown parent team \"%s\"", patch->parent);
        if (rc != 0 && rc != KPI_ENOTFOUND)
            return rc;
        parent_new = rc == KPI_ENOTFOUND;
        bool cycle = false;
        if (team_new) {
            cycle = parent_new && strcmp(new_id, parent_id) == 0;
        } else if (!parent_new) {
            /* the walk up from the parent meets the team: a cycle (steps
             * bound it even if the state were already cyclic) */
            size_t p = parent;
            for (size_t steps = 0; p != SIZE_MAX && p != index && steps <= txn->tcat.count; steps++)
                p = txn->team_parent[p];
            cycle = p == index;
        }
        if (cycle)
            return kpi_fail(err, KPI_EINPUT, "team \"%s\": parent \"%s\" would make a cycle",
                            patch->ref, patch->parent);
    }
    if (team_new) {
        if (create(txn, true, new_id, patch->ref, &index, err) != 0)
            return KPI_ESYSTEM;
        if (created != NULL)
            *created = true;
    }
    if (parent_new && create(txn, true, parent_id, patch->parent, &parent, err) != 0)
        return KPI_ESYSTEM;
    bool changed = false;
    struct kpi_team *t = &txn->teams[index];
    if (patch->name != NULL) {
        if (set_text(txn, &t->name, patch->name, false, &changed) != 0)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        if (changed && wcat_set_name(txn, &txn->tcat, index, t->name) != 0)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    if (patch->parent != NULL && parent != txn->team_parent[index]) {
        txn->team_parent[index] = parent;
        t->parent = parent == SIZE_MAX ? "" : txn->teams[parent].id;
        changed = true;
    }
    if (changed)
        txn->catalog_dirty = true;
    return 0;
}

static int check_indicator_patch(const struct kpi_indicator_patch *p, struct kpi_error *err)
{
    if (((p->set & KPI_SET_FAMILY) &&
         ((int)p->family < (int)KPI_FAMILY_NONE || (int)p->family >= KPI_FAMILY_COUNT)) ||
        ((p->set & KPI_SET_DIRECTION) && (unsigned)p->direction > KPI_DIRECTION_DOWN) ||
        ((p->set & KPI_SET_PERIOD) && (unsigned)p->period > KPI_PERIOD_YEAR) ||
        ((p->set & KPI_SET_AGGREGATE) && (unsigned)p->aggregate > KPI_AGGREGATE_MEAN))
        return kpi_fail(err, KPI_EINPUT, "indicator \"%s\": invalid attribute", p->ref);
    if (((p->set & KPI_SET_AMBER) && !isfinite(p->amber)) ||
        ((p->set & KPI_SET_RED) && !isfinite(p->red)) ||
        ((p->set & KPI_SET_WEIGHT) && !isfinite(p->weight)))
        return kpi_fail(err, KPI_EINPUT, "indicator \"%s\": a number is not finite", p->ref);
    return 0;
}

/* Assign an attribute when the patch sets it and it differs (numbers by
 * value: a tolerance of -0 is one of 0). */
#define PATCH_FIELD(bit, field)                                                                    \
    do {                                                                                           \
        if ((patch->set & (bit)) && ind->field != patch->field) {                                  \
            ind->field = patch->field;                                                             \
            changed = true;                                                                        \
        }                                                                                          \
    } while (0)

int store_txn_patch_indicator(struct store_txn *txn, const struct kpi_indicator_patch *patch,
                              bool strict, bool *created, struct kpi_error *err)
{
    char new_id[KPI_ID_MAX + 1];
    size_t index = SIZE_MAX;
    if (created != NULL)
        *created = false;
    int rc = check_indicator_patch(patch, err);
    if (rc != 0)
        return rc;
    rc = lookup(txn, false, patch->ref, &index, new_id, err);
    if (rc == KPI_ENOTFOUND && strict)
        return kpi_fail(err, KPI_ENOTFOUND, "unknown indicator \"%s\"", patch->ref);
    if (rc != 0 && rc != KPI_ENOTFOUND)
        return rc;
    bool has_data = false;
    if (rc == 0 && (patch->set & KPI_SET_PERIOD) && patch->period != txn->inds[index].period &&
        txn_indicator_has_data(txn, index, &has_data, err) != 0)
        return KPI_ESYSTEM;
    if (has_data)
        return kpi_fail(err, KPI_EINPUT,
                        "indicator \"%s\" has data by %s: its period cannot change to %s",
                        txn->inds[index].id, kpi_period_kind_name(txn->inds[index].period),
                        kpi_period_kind_name(patch->period));
    if (rc == KPI_ENOTFOUND) {
        if (create(txn, false, new_id, patch->ref, &index, err) != 0)
            return KPI_ESYSTEM;
        if (created != NULL)
            *created = true;
    }
    struct kpi_indicator *ind = &txn->inds[index];
    bool changed = false, renamed = false;
    if ((patch->name != NULL && set_text(txn, &ind->name, patch->name, false, &renamed) != 0) ||
        (patch->unit != NULL && set_text(txn, &ind->unit, patch->unit, true, &changed) != 0) ||
        (renamed && wcat_set_name(txn, &txn->icat, index, ind->name) != 0))
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    PATCH_FIELD(KPI_SET_FAMILY, family);
    PATCH_FIELD(KPI_SET_DIRECTION, direction);
    PATCH_FIELD(KPI_SET_PERIOD, period);
    PATCH_FIELD(KPI_SET_AGGREGATE, aggregate);
    PATCH_FIELD(KPI_SET_AMBER, amber);
    PATCH_FIELD(KPI_SET_RED, red);
    PATCH_FIELD(KPI_SET_WEIGHT, weight);
    if (changed || renamed)
        txn->catalog_dirty = true;
    return 0;
}
