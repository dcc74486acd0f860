/*
 * notes.c — notes on periods (SPEC §11): a text on one (team, indicator,
 * period), versioned like values. Each set or removal is a row of the notes
 * table written in a commit (text NULL = removed), covered by the commit's
 * hash; a view holds the notes as they stood at its commit.
 *
 * Notes are written by people, a few per series at most: a view loads all
 * of them (one query, the latest version of each cell at or before the
 * view's commit) into one array sorted by (team, indicator, period), and a
 * transaction stages them in a small hash map until its commit.
 */
#include "store/txn_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- text */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *store_note_trim(const char *text, size_t *len)
{
    size_t n = *len;
    while (n > 0 && blank(*text)) {
        text++;
        n--;
    }
    while (n > 0 && blank(text[n - 1]))
        n--;
    *len = n;
    return text;
}

int store_note_check(const char *text, size_t len, struct kpi_error *err)
{
    if (len > STORE_NOTE_MAX)
        return kpi_fail(err, KPI_EINPUT, "note of %zu bytes (at most %d bytes of UTF-8)", len,
                        STORE_NOTE_MAX);
    if (!kpi_utf8_valid(text, len))
        return kpi_fail(err, KPI_EINPUT, "note is not valid UTF-8");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return kpi_fail(err, KPI_EINPUT,
                            "note contains the control character 0x%02X at byte %zu (only line "
                            "breaks are allowed)",
                            c, i + 1);
        /* C1 controls U+0080..U+009F: C2 80..C2 9F in UTF-8 */
        if (c == 0xC2 && i + 1 < len && (unsigned char)text[i + 1] < 0xA0)
            return kpi_fail(err, KPI_EINPUT,
                            "note contains the control character U+%04X at byte %zu (only line "
                            "breaks are allowed)",
                            (unsigned char)text[i + 1], i + 1);
    }
    return 0;
}

/* ----------------------------------------------------------------- views */

struct view_note {
    uint32_t team, indicator;
    int64_t period;
    char *text;
};

struct store_notes {
    struct view_note *items;
    size_t count;
};

void notes_free(struct store_notes *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->count; i++)
        free(n->items[i].text);
    free(n->items);
    free(n);
}

static int cmp_view_note(const void *a, const void *b)
{
    const struct view_note *x = a, *y = b;
    if (x->team != y->team)
        return x->team < y->team ? -1 : 1;
    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    return (x->period > y->period) - (x->period < y->period);
}

int notes_load(sqlite3 *db, uint64_t at, const struct store_view *v, struct store_notes **out,
               struct kpi_error *err)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            db,
            "SELECT s.team, s.kpi, n.period, n.text FROM notes n JOIN series s ON s.id = n.series "
            "WHERE n.commit_id = (SELECT max(m.commit_id) FROM notes m WHERE m.series = n.series "
            "AND m.period = n.period AND m.commit_id <= ?1) AND n.text IS NOT NULL",
            -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading notes");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
    struct store_notes *n = calloc(1, sizeof *n);
    size_t cap = 0;
    int rc, status = n == NULL ? kpi_fail(err, KPI_ESYSTEM, "out of memory") : 0;
    while (status == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t ti, ii;
        const char *team = (const char *)sqlite3_column_text(st, 0);
        const char *kpi = (const char *)sqlite3_column_text(st, 1);
        if (team == NULL || kpi == NULL || store_view_find_team(v, team, &ti) != 0 ||
            store_view_find_indicator(v, kpi, &ii) != 0)
            continue; /* not in the catalog of that commit */
        if (n->count == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            struct view_note *g = realloc(n->items, cap * sizeof *g);
            if (g == NULL) {
                status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
                break;
            }
            n->items = g;
        }
        char *text = strdup((const char *)sqlite3_column_text(st, 3));
        if (text == NULL) {
            status = kpi_fail(err, KPI_ESYSTEM, "out of memory");
            break;
        }
        n->items[n->count++] =
            (struct view_note){(uint32_t)ti, (uint32_t)ii, sqlite3_column_int64(st, 2), text};
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = db_fail(err, db, "reading notes");
    sqlite3_finalize(st);
    if (status != 0) {
        notes_free(n);
        return status;
    }
    if (n->count > 1)
        qsort(n->items, n->count, sizeof *n->items, cmp_view_note);
    *out = n;
    return 0;
}

const char *store_view_note(const struct store_view *view, size_t team, size_t indicator,
                            int64_t period)
{
    const struct store_notes *n = view != NULL ? view->notes : NULL;
    if (n == NULL || n->count == 0)
        return NULL;
    struct view_note key = {(uint32_t)team, (uint32_t)indicator, period, NULL};
    const struct view_note *hit = bsearch(&key, n->items, n->count, sizeof key, cmp_view_note);
    return hit != NULL ? hit->text : NULL;
}

size_t store_view_note_count(const struct store_view *view)
{
    return view != NULL && view->notes != NULL ? view->notes->count : 0;
}

void store_view_note_at(const struct store_view *view, size_t i, struct store_note *out)
{
    const struct view_note *x = &view->notes->items[i];
    *out = (struct store_note){x->team, x->indicator, x->period, x->text};
}

/* --------------------------------------------------------- transactions */

struct staged_note {
    uint32_t team, indicator;
    int64_t period;
    char *text;   /* NULL: removed */
    bool changed; /* differs from the transaction's base */
};

struct note_stage {
    struct staged_note *items;
    size_t count, cap;
    uint32_t *slots; /* index + 1, 0 empty; open addressing */
    size_t slot_cap; /* power of two, or 0 */
};

void notes_stage_free(struct note_stage *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i].text);
    free(s->items);
    free(s->slots);
    free(s);
}

bool notes_stage_dirty(const struct note_stage *s)
{
    for (size_t i = 0; s != NULL && i < s->count; i++)
        if (s->items[i].changed)
            return true;
    return false;
}

static uint64_t note_hash(uint32_t team, uint32_t indicator, int64_t period)
{
    uint64_t h = ((uint64_t)team << 32 | indicator) * 0x9E3779B97F4A7C15u;
    h ^= (uint64_t)period * 0xC2B2AE3D27D4EB4Fu;
    return h ^ (h >> 29);
}

static struct staged_note *stage_find(const struct note_stage *s, uint32_t team, uint32_t indicator,
                                      int64_t period)
{
    if (s == NULL || s->slot_cap == 0)
        return NULL;
    size_t mask = s->slot_cap - 1;
    for (size_t k = note_hash(team, indicator, period) & mask; s->slots[k] != 0;
         k = (k + 1) & mask) {
        struct staged_note *x = &s->items[s->slots[k] - 1];
        if (x->team == team && x->indicator == indicator && x->period == period)
            return x;
    }
    return NULL;
}

static int stage_grow(struct note_stage *s)
{
    if (s->count == s->cap) {
        size_t cap = s->cap < 16 ? 16 : s->cap * 2;
        struct staged_note *g = realloc(s->items, cap * sizeof *g);
        if (g == NULL)
            return KPI_ESYSTEM;
        s->items = g;
        s->cap = cap;
    }
    if ((s->count + 1) * 2 > s->slot_cap) {
        size_t cap = s->slot_cap < 64 ? 64 : s->slot_cap * 2;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return KPI_ESYSTEM;
        for (size_t i = 0; i < s->count; i++) {
            const struct staged_note *x = &s->items[i];
            size_t k = note_hash(x->team, x->indicator, x->period) & (cap - 1);
            while (slots[k] != 0)
                k = (k + 1) & (cap - 1);
            slots[k] = (uint32_t)(i + 1);
        }
        free(s->slots);
        s->slots = slots;
        s->slot_cap = cap;
    }
    return 0;
}

/* The note of the cell in the base view of txn (NULL: none). Indices of the
 * base's catalog are the transaction's first ones. */
static const char *base_note(const struct store_txn *txn, size_t team, size_t indicator,
                             int64_t period)
{
    const struct store_view *b = txn->base;
    if (team >= b->team_count || indicator >= b->indicator_count)
        return NULL;
    return store_view_note(b, team, indicator, period);
}

static bool same_text(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

int store_txn_note(struct store_txn *txn, size_t team, size_t indicator, int64_t period,
                   const char *text, size_t len, enum store_change *change, struct kpi_error *err)
{
    text = store_note_trim(text, &len);
    int rc = store_note_check(text, len, err);
    if (rc != 0)
        return rc;
    if (team >= txn->tcat.count || indicator >= txn->icat.count)
        return kpi_fail(err, KPI_EINPUT, "note of an unknown series");
    int64_t lo = txn->pmin[txn->inds[indicator].period],
            hi = txn->pmax[txn->inds[indicator].period];
    if (period < lo || period > hi)
        return kpi_fail(err, KPI_EINPUT, "note of a period outside the years 1 to 9999");
    if (txn->notes == NULL && (txn->notes = calloc(1, sizeof *txn->notes)) == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    struct note_stage *s = txn->notes;
    uint32_t t = (uint32_t)team, i = (uint32_t)indicator;
    struct staged_note *x = stage_find(s, t, i, period);
    const char *was = x != NULL ? x->text : base_note(txn, team, indicator, period);
    if (x != NULL &&
        (len == 0 ? was != NULL : was == NULL || strlen(was) != len || memcmp(was, text, len) != 0))
        return kpi_fail(err, KPI_EINPUT, "another row of this file gives this period another note");
    if (change != NULL)
        *change = x != NULL     ? STORE_UNCHANGED
                  : len == 0    ? (was == NULL ? STORE_UNCHANGED : STORE_CORRECTED)
                  : was == NULL ? STORE_NEW
                  : strlen(was) == len && memcmp(was, text, len) == 0 ? STORE_UNCHANGED
                                                                      : STORE_CORRECTED;
    if (x != NULL)
        return 0;
    char *copy = NULL;
    if (len > 0) {
        if ((copy = malloc(len + 1)) == NULL)
            return kpi_fail(err, KPI_ESYSTEM, "out of memory");
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    if (stage_grow(s) != 0) {
        free(copy);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    s->items[s->count] = (struct staged_note){t, i, period, copy, !same_text(copy, was)};
    size_t mask = s->slot_cap - 1, k = note_hash(t, i, period) & mask;
    while (s->slots[k] != 0)
        k = (k + 1) & mask;
    s->slots[k] = (uint32_t)(++s->count);
    return 0;
}

/* ---------------------------------------------------------------- commit */

int notes_plan(const struct store_txn *txn, struct commit_note **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    const struct note_stage *s = txn->notes;
    size_t n = 0;
    for (size_t i = 0; s != NULL && i < s->count; i++)
        n += s->items[i].changed;
    if (n == 0)
        return 0;
    struct commit_note *c = malloc(n * sizeof *c);
    if (c == NULL)
        return KPI_ESYSTEM;
    size_t k = 0;
    for (size_t i = 0; i < s->count; i++) {
        const struct staged_note *x = &s->items[i];
        if (!x->changed)
            continue;
        c[k++] =
            (struct commit_note){txn->teams[x->team].id, txn->inds[x->indicator].id, x->period,
                                 x->text, base_note(txn, x->team, x->indicator, x->period) != NULL};
    }
    qsort(c, n, sizeof *c, commit_note_cmp);
    *out = c;
    *count = n;
    return 0;
}

int commit_note_cmp(const void *a, const void *b)
{
    const struct commit_note *x = a, *y = b;
    int c = strcmp(x->team, y->team);
    if (c == 0)
        c = strcmp(x->kpi, y->kpi);
    if (c == 0)
        c = (x->period > y->period) - (x->period < y->period);
    return c;
}

static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int notes_write(sqlite3 *db, uint64_t commit, const struct commit_note *notes, size_t count,
                struct kpi_sha256 *body, struct notes_counts *counts, struct kpi_error *err)
{
    memset(counts, 0, sizeof *counts);
    if (count == 0)
        return 0;
    sqlite3_stmt *find = NULL, *add = NULL, *put = NULL, *valued = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM series WHERE team = ?1 AND kpi = ?2", -1, &find,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO series(team, kpi) VALUES (?1, ?2)", -1, &add, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO notes(series, period, commit_id, text) VALUES (?1, ?2, "
                           "?3, ?4)",
                           -1, &put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT EXISTS (SELECT 1 FROM versions WHERE commit_id = ?1 AND "
                           "series = ?2)",
                           -1, &valued, NULL) != SQLITE_OK) {
        rc = db_fail(err, db, "writing notes");
        goto done;
    }
    sqlite3_int64 sid = 0;
    for (size_t i = 0; i < count; i++) {
        const struct commit_note *x = &notes[i];
        if (i == 0 || strcmp(x->team, notes[i - 1].team) != 0 ||
            strcmp(x->kpi, notes[i - 1].kpi) != 0) {
            sqlite3_bind_text(find, 1, x->team, -1, SQLITE_STATIC);
            sqlite3_bind_text(find, 2, x->kpi, -1, SQLITE_STATIC);
            int s = sqlite3_step(find);
            sid = s == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
            sqlite3_reset(find);
            if (s != SQLITE_ROW && s != SQLITE_DONE) {
                rc = db_fail(err, db, "writing notes");
                goto done;
            }
            if (sid == 0) {
                sqlite3_bind_text(add, 1, x->team, -1, SQLITE_STATIC);
                sqlite3_bind_text(add, 2, x->kpi, -1, SQLITE_STATIC);
                if (step_reset(add) != 0) {
                    rc = db_fail(err, db, "writing notes");
                    goto done;
                }
                sid = sqlite3_last_insert_rowid(db);
            }
            /* a series whose numbers this commit changed is counted already */
            sqlite3_bind_int64(valued, 1, (sqlite3_int64)commit);
            sqlite3_bind_int64(valued, 2, sid);
            int e = sqlite3_step(valued);
            bool has_values = e == SQLITE_ROW && sqlite3_column_int(valued, 0) != 0;
            sqlite3_reset(valued);
            if (!has_values)
                counts->series++;
        }
        sqlite3_bind_int64(put, 1, sid);
        sqlite3_bind_int64(put, 2, x->period);
        sqlite3_bind_int64(put, 3, (sqlite3_int64)commit);
        if (x->text != NULL)
            sqlite3_bind_text(put, 4, x->text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(put, 4);
        if (step_reset(put) != 0) {
            rc = db_fail(err, db, "writing notes");
            goto done;
        }
        commit_hash_note(body, x->team, x->kpi, x->period, x->text);
        if (x->was_set)
            counts->corrected++;
        else
            counts->new_cells++;
    }
done:
    sqlite3_finalize(find);
    sqlite3_finalize(add);
    sqlite3_finalize(put);
    sqlite3_finalize(valued);
    return rc;
}

int notes_hash_commit(sqlite3 *db, sqlite3_stmt **cache, uint64_t commit, struct kpi_sha256 *body)
{
    if (*cache == NULL &&
        sqlite3_prepare_v2(db,
                           "SELECT s.team, s.kpi, n.period, n.text FROM notes n JOIN series s ON "
                           "s.id = n.series WHERE n.commit_id = ?1 ORDER BY s.team, s.kpi, "
                           "n.period",
                           -1, cache, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *q = *cache;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)commit);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *team = (const char *)sqlite3_column_text(q, 0);
        const char *kpi = (const char *)sqlite3_column_text(q, 1);
        commit_hash_note(body, team != NULL ? team : "", kpi != NULL ? kpi : "",
                         sqlite3_column_int64(q, 2), (const char *)sqlite3_column_text(q, 3));
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ------------------------------------------------------------- kpi note */

int store_set_note(struct store *st, const struct store_note_request *rq, uint64_t *commit,
                   enum store_change *change, struct kpi_error *err)
{
    *commit = 0;
    struct store_txn *txn = NULL;
    int rc = store_txn_begin(st, &txn, err);
    if (rc != 0)
        return rc;
    size_t team, indicator;
    if ((rc = store_txn_resolve_team(txn, rq->team, false, &team, NULL, err)) != 0 ||
        (rc = store_txn_resolve_indicator(txn, rq->kpi, false, &indicator, NULL, err)) != 0) {
        store_txn_abort(txn);
        return rc;
    }
    int64_t period = kpi_period_of_day(store_txn_indicator(txn, indicator)->period, rq->day);
    if ((rc = store_txn_note(txn, team, indicator, period, rq->text, rq->len, change, err)) != 0) {
        store_txn_abort(txn);
        return rc;
    }
    unsigned char digest[KPI_SHA256_SIZE];
    char hex[KPI_SHA256_HEX];
    kpi_sha256(rq->text, rq->len, digest);
    kpi_sha256_hex(digest, hex);
    struct store_commit_info info = {
        .author = rq->author, .kind = "note", .source = rq->source, .sha256 = hex, .rows = 1};
    store_txn_describe(txn, &info);
    return store_txn_commit(txn, NULL, commit, err);
}

/* ---------------------------------------------------------------- revert */

int notes_revert(struct store_txn *txn, uint64_t commit, bool apply,
                 const struct store_check_sink *conflicts, uint64_t *count, struct kpi_error *err)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(
            txn->db,
            "SELECT s.team, s.kpi, n.period, (SELECT m.text FROM notes m WHERE m.series = "
            "n.series AND m.period = n.period AND m.commit_id < ?1 ORDER BY m.commit_id DESC "
            "LIMIT 1), EXISTS (SELECT 1 FROM notes m WHERE m.series = n.series AND m.period = "
            "n.period AND m.commit_id > ?1), (SELECT period FROM indicators i WHERE i.id = s.kpi "
            "ORDER BY commit_id DESC LIMIT 1) FROM notes n JOIN series s ON s.id = n.series "
            "WHERE n.commit_id = ?1 ORDER BY s.team, s.kpi, n.period",
            -1, &q, NULL) != SQLITE_OK)
        return db_fail(err, txn->db, "reading notes");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)commit);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *team = (const char *)sqlite3_column_text(q, 0);
        const char *kpi = (const char *)sqlite3_column_text(q, 1);
        int64_t period = sqlite3_column_int64(q, 2);
        if (!apply) {
            if (!sqlite3_column_int(q, 4))
                continue;
            enum kpi_period_kind kind = KPI_PERIOD_MONTH;
            const char *kt = (const char *)sqlite3_column_text(q, 5);
            if (kt != NULL)
                kpi_period_kind_parse(kt, &kind);
            char label[KPI_LABEL_MAX], line[512];
            snprintf(line, sizeof line, "%s %s %s note: changed again by a later commit",
                     team != NULL ? team : "", kpi != NULL ? kpi : "",
                     kpi_period_label(kind, period, label));
            if (conflicts != NULL && conflicts->problem != NULL)
                conflicts->problem(conflicts->ctx, line);
            (*count)++;
            continue;
        }
        size_t ti, ii;
        if (team == NULL || kpi == NULL ||
            store_txn_resolve_team(txn, team, false, &ti, NULL, err) != 0 ||
            store_txn_resolve_indicator(txn, kpi, false, &ii, NULL, err) != 0) {
            rc = KPI_ESYSTEM;
            break;
        }
        const char *text = (const char *)sqlite3_column_text(q, 3);
        rc = store_txn_note(txn, ti, ii, period, text != NULL ? text : "",
                            text != NULL ? strlen(text) : 0, NULL, err);
        (*count)++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(err, txn->db, "reading notes");
    sqlite3_finalize(q);
    return rc;
}
