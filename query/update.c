/* query_new_from: the prepared analysis of a dataset built from the one of
 * the previous dataset, where only what changed is computed again. */
#include "query/internal.h"

#include <stdlib.h>
#include <string.h>

/* The index in `old` of each of the n records of `now` with the same id
 * (both arrays sorted by strictly increasing id: ids are the records' first
 * member), QUERY_NONE for a new one. False when an array is not sorted. */
static bool map_ids(const void *now, size_t n, const void *old, size_t m, size_t size, size_t *map)
{
#define ID(base, k) (*(const char *const *)(const void *)((const char *)(base) + (k)*size))
    for (size_t k = 1; k < n; k++)
        if (strcmp(ID(now, k - 1), ID(now, k)) >= 0)
            return false;
    for (size_t k = 1; k < m; k++)
        if (strcmp(ID(old, k - 1), ID(old, k)) >= 0)
            return false;
    size_t j = 0;
    for (size_t k = 0; k < n; k++) {
        int c = 1;
        while (j < m && (c = strcmp(ID(old, j), ID(now, k))) < 0)
            j++;
        map[k] = j < m && c == 0 ? j : QUERY_NONE;
    }
    return true;
#undef ID
}

/* Whether team t's children are not, one for one, those of its previous
 * self ot. */
static bool kids_moved(const struct query *q, const struct query *prev, const size_t *tmap,
                       size_t t, size_t ot)
{
    size_t n, m;
    const size_t *kids = query_children(q, t, &n);
    const size_t *old = query_children(prev, ot, &m);
    if (n != m)
        return true;
    for (size_t k = 0; k < n; k++)
        if (tmap[kids[k]] != old[k])
            return true;
    return false;
}

/* Teams in an order where every team comes after its children: breadth
 * first from the roots, reversed. */
static void children_first(const struct query *q, size_t *order)
{
    size_t tail = 0;
    for (size_t t = 0; t < q->nteams; t++)
        if (q->parent[t] == QUERY_NONE)
            order[tail++] = t;
    for (size_t head = 0; head < tail; head++) {
        size_t n;
        const size_t *kids = query_children(q, order[head], &n);
        for (size_t k = 0; k < n; k++)
            order[tail++] = kids[k];
    }
    for (size_t a = 0, b = q->nteams; a + 1 < b; a++, b--) {
        size_t x = order[a];
        order[a] = order[b - 1];
        order[b - 1] = x;
    }
}

/* The hints of every cell (internal.h) and, per series, the first point
 * whose order is still to check (from). Memory: KPI_ESYSTEM. */
static int make_hints(struct query *q, const struct query *prev, size_t *from,
                      struct kpi_error *err)
{
    size_t *tmap = malloc((q->nteams + 1) * sizeof *tmap);
    size_t *imap = malloc((q->ninds + 1) * sizeof *imap);
    size_t *order = malloc((q->nteams + 1) * sizeof *order);
    bool *changed = calloc(q->nteams * q->ninds + 1, sizeof *changed);
    q->hint = calloc(q->nteams * q->ninds + 1, sizeof *q->hint);
    if (!tmap || !imap || !order || !changed || !q->hint) {
        free(tmap);
        free(imap);
        free(order);
        free(changed);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    for (size_t s = 0; s < q->nseries; s++)
        from[s] = 1;
    bool mapped = map_ids(q->teams, q->nteams, prev->teams, prev->nteams, sizeof *q->teams, tmap) &&
                  map_ids(q->inds, q->ninds, prev->inds, prev->ninds, sizeof *q->inds, imap);
    for (size_t i = 0; mapped && i < q->ninds; i++) /* roll-ups sum or average */
        if (imap[i] != QUERY_NONE && q->inds[i].aggregate != prev->inds[imap[i]].aggregate)
            imap[i] = QUERY_NONE;
    children_first(q, order);
    /* Without a mapping (ids not sorted) no cell has a hint: all computed. */
    for (size_t o = 0; mapped && o < q->nteams; o++) {
        size_t t = order[o], ot = tmap[t];
        if (ot == QUERY_NONE || prev->rows[ot] == NULL) {
            /* a new team: computed in full (its parent's children moved) */
            for (size_t i = 0; i < q->ninds; i++)
                changed[t * q->ninds + i] = true;
            continue;
        }
        bool moved = kids_moved(q, prev, tmap, t, ot);
        size_t nkids;
        const size_t *kids = query_children(q, t, &nkids);
        for (size_t i = 0; i < q->ninds; i++) {
            size_t oi = imap[i];
            struct q_hint *h = &q->hint[t * q->ninds + i];
            if (oi == QUERY_NONE || prev->rows[ot][oi].state != Q_DONE) {
                changed[t * q->ninds + i] = true;
                continue;
            }
            h->prev = &prev->rows[ot][oi];
            const struct query_series_data *sn = q_own_series(q, t, i);
            const struct query_series_data *so = q_own_series(prev, ot, oi);
            if (sn == NULL && so == NULL)
                h->own_tail = Q_OWN_SAME;
            else if (sn == NULL || so == NULL || sn->points != so->points || sn->count < so->count)
                h->own_tail = Q_OWN_CHANGED;
            else if (sn->count == so->count)
                h->own_tail = Q_OWN_SAME;
            else
                h->own_tail = so->count;
            if (sn != NULL && h->own_tail != Q_OWN_CHANGED)
                from[sn - q->series] = h->own_tail == Q_OWN_SAME ? sn->count : h->own_tail;
            h->kids_changed = moved;
            for (size_t k = 0; k < nkids && !h->kids_changed; k++)
                h->kids_changed = changed[kids[k] * q->ninds + i];
            changed[t * q->ninds + i] = h->own_tail != Q_OWN_SAME || h->kids_changed;
        }
    }
    free(tmap);
    free(imap);
    free(order);
    free(changed);
    return 0;
}

int query_new_from(const struct query_dataset *ds, const struct query *prev, struct query **out,
                   struct kpi_error *err)
{
    int rc = q_create(ds, out, err);
    if (rc != 0)
        return rc;
    struct query *q = *out;
    size_t *from = NULL;
    if (prev != NULL) {
        from = malloc((q->nseries + 1) * sizeof *from);
        rc = from == NULL ? kpi_fail(err, KPI_ESYSTEM, "out of memory")
                          : make_hints(q, prev, from, err);
    }
    if (rc == 0)
        rc = q_check_sorted(q, from, err);
    if (rc == 0)
        rc = query_prepare(q, err);
    free(from);
    free(q->hint);
    q->hint = NULL;
    if (rc != 0) {
        query_free(q);
        *out = NULL;
    }
    return rc;
}
