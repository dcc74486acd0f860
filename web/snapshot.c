/* One generation of the data directory and the answers computed from it.
 *
 * The cache is a chained hash table of immutable, refcounted entries, guarded
 * by a read-write lock: a hit takes the read lock, one bucket walk and an
 * atomic increment. It lives and dies with its snapshot (a new generation
 * starts empty), and is capped in entries and bytes: when an insert would
 * pass a cap the table is emptied first (entries still being sent stay alive
 * through their references). */
#include "report/report.h"
#include "web/web_int.h"

#include <microhttpd.h>

#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024 /* power of two */

struct web_snapshot {
    atomic_size_t refs;
    struct store_view *view;
    struct query *q;
    pthread_rwlock_t lock; /* guards buckets, entries, bytes */
    struct web_entry *buckets[BUCKETS];
    size_t entries, bytes, max_entries, max_bytes;
};

struct web_entry *web_entry_new(const struct web_key *key, const char *content_type,
                                const void *body, size_t len)
{
    struct web_entry *e = malloc(sizeof *e + len + 1);
    if (e == NULL)
        return NULL;
    e->next = NULL;
    atomic_init(&e->refs, 1);
    atomic_init(&e->ok, NULL);
    atomic_init(&e->not_modified, NULL);
    atomic_init(&e->gzip_ok, NULL);
    atomic_init(&e->gzip_not_modified, NULL);
    e->key = *key;
    e->hash = web_hash(key, sizeof *key, WEB_HASH_SEED);
    e->content_type = content_type;
    e->len = len;
    if (len > 0)
        memcpy(e->data, body, len);
    e->data[len] = '\0';
    web_etag(e->data, len, e->etag);
    web_etag_gzip(e->etag, e->etag_gzip);
    e->compressible = len >= WEB_GZIP_MIN && strncmp(content_type, "image/png", 9) != 0;
    return e;
}

void web_entry_release(struct web_entry *e)
{
    if (e == NULL || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    /* Connections still sending them hold their own references. */
    struct MHD_Response *responses[] = {atomic_load(&e->ok), atomic_load(&e->not_modified),
                                        atomic_load(&e->gzip_ok),
                                        atomic_load(&e->gzip_not_modified)};
    for (size_t i = 0; i < sizeof responses / sizeof responses[0]; i++)
        if (responses[i] != NULL)
            MHD_destroy_response(responses[i]);
    free(e);
}

/* A snapshot of the latest commit: built from prev's view when there is one
 * (store_view_update: what changed since it), else loaded whole. */
static int snapshot_new(struct store *st, const struct web_snapshot *prev, size_t max_entries,
                        size_t max_bytes, struct web_snapshot **out, struct kpi_error *err)
{
    *out = NULL;
    struct web_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    int rc = prev != NULL ? store_view_update(st, prev->view, &s->view, err)
                          : store_view_open_shared(st, &s->view, err);
    /* the analysis too: only what the commit changed is computed again */
    if (rc == 0)
        rc = report_analysis_update(s->view, prev != NULL ? prev->q : NULL, &s->q, err);
    if (rc == 0 && pthread_rwlock_init(&s->lock, NULL) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "cannot create a lock");
    if (rc != 0) {
        query_free(s->q);
        store_view_free(s->view);
        free(s);
        return rc;
    }
    atomic_init(&s->refs, 1);
    s->max_entries = max_entries;
    s->max_bytes = max_bytes;
    *out = s;
    return 0;
}

int web_snapshot_open(struct store *st, size_t max_entries, size_t max_bytes,
                      struct web_snapshot **out, struct kpi_error *err)
{
    return snapshot_new(st, NULL, max_entries, max_bytes, out, err);
}

int web_snapshot_refresh(struct store *st, const struct web_snapshot *prev,
                         struct web_snapshot **out, struct kpi_error *err)
{
    return snapshot_new(st, prev, prev->max_entries, prev->max_bytes, out, err);
}

/* Drop the cache's reference to every entry. Write lock held. */
static void clear_cache(struct web_snapshot *s)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct web_entry *e = s->buckets[i];
        while (e != NULL) {
            struct web_entry *next = e->next;
            web_entry_release(e);
            e = next;
        }
        s->buckets[i] = NULL;
    }
    s->entries = s->bytes = 0;
}

void web_snapshot_retain(struct web_snapshot *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void web_snapshot_release(struct web_snapshot *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    clear_cache(s);
    pthread_rwlock_destroy(&s->lock);
    /* The analysis borrows the view's strings and points: free it first. */
    query_free(s->q);
    store_view_free(s->view);
    free(s);
}

const struct store_view *web_snapshot_view(const struct web_snapshot *s)
{
    return s->view;
}

struct query *web_snapshot_query(const struct web_snapshot *s)
{
    return s->q;
}

static struct web_entry *find(struct web_snapshot *s, const struct web_key *key, uint64_t hash)
{
    for (struct web_entry *e = s->buckets[hash & (BUCKETS - 1)]; e != NULL; e = e->next)
        if (e->hash == hash && memcmp(&e->key, key, sizeof *key) == 0)
            return e;
    return NULL;
}

struct web_entry *web_snapshot_lookup(struct web_snapshot *s, const struct web_key *key)
{
    uint64_t hash = web_hash(key, sizeof *key, WEB_HASH_SEED);
    pthread_rwlock_rdlock(&s->lock);
    struct web_entry *e = find(s, key, hash);
    if (e != NULL)
        atomic_fetch_add(&e->refs, 1);
    pthread_rwlock_unlock(&s->lock);
    return e;
}

struct web_entry *web_snapshot_insert(struct web_snapshot *s, struct web_entry *e)
{
    pthread_rwlock_wrlock(&s->lock);
    struct web_entry *found = find(s, &e->key, e->hash);
    if (found != NULL) {
        atomic_fetch_add(&found->refs, 1);
        pthread_rwlock_unlock(&s->lock);
        web_entry_release(e);
        return found;
    }
    if (e->len > s->max_bytes) { /* too big to cache: answer with it once */
        pthread_rwlock_unlock(&s->lock);
        return e;
    }
    if (s->entries + 1 > s->max_entries || s->bytes + e->len > s->max_bytes)
        clear_cache(s);
    size_t b = e->hash & (BUCKETS - 1);
    e->next = s->buckets[b];
    s->buckets[b] = e;
    s->entries++;
    s->bytes += e->len;
    atomic_fetch_add(&e->refs, 1); /* the caller's, besides the cache's */
    pthread_rwlock_unlock(&s->lock);
    return e;
}
