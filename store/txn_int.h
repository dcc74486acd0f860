/*
 * The working state of a write transaction, shared by txn.c (points, commit)
 * and catalog.c (references, catalog patches). See txn.c for the design.
 */
#ifndef KPI_STORE_TXN_INT_H
#define KPI_STORE_TXN_INT_H

#include "store/store_int.h"

/* Strings created during the transaction live in an arena freed at its end. */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

/* The first points array of each changed series is carved from large
 * slabs backed by huge pages: an import of 20,000 series then costs a few
 * dozen page faults instead of thousands (a fault is ~10 us on this kind of
 * VM, more than staging the points). Arrays that outgrow their slot move to
 * malloc; slab memory is released with the transaction. */
struct point_slab {
    struct point_slab *next;
    size_t used, cap; /* in points */
    struct kpi_point data[];
};

/* One catalog kind (teams or indicators) being edited. Entries keep their
 * index for the whole transaction: those of the base generation first, in
 * its (id) order, then the new ones; commit sorts them. */
struct wcat {
    size_t count, cap;
    struct strmap ids;    /* id -> index */
    struct strmap names;  /* kpi_fold(name) -> index; stale keys stay */
    const char **folded;  /* the current key of each entry in names */
    struct strmap slugs;  /* kpi_slugify(name) -> index; stale keys stay */
    const char **slugged; /* the current key of each entry in slugs */
    bool *created;        /* by this transaction */
};

/* The points of one series, read from the base the first time the
 * transaction touches the series (txn.c: series_load). They stay the base's
 * (own == NULL) until the first change, then are copied into own (cap
 * entries). */
struct wseries {
    uint32_t team, indicator;
    const struct kpi_point *points;
    struct kpi_point *own;
    bool own_in_slab; /* own is a slot of a point_slab, not malloc'd */
    size_t count, cap;
    const struct kpi_point *base_points; /* in the base generation */
    size_t base_count;
    struct kpi_point *base_own; /* base_points when read from the database (malloc'd) */
    int64_t sid;                /* its id in the database's series table, 0: none yet */
    /* The window: points and base_points hold the base points of period >=
     * lo only (INT64_MIN: all), and always the series' last one; a call on
     * an earlier period reads the rows before first (series_cover). */
    int64_t lo;
    bool touched; /* a set call happened */
    bool dirty;   /* a cell changed */
};

struct store_txn {
    struct store *st;
    int lock_fd;
    unsigned made_dirs; /* DIR and parents this transaction created (mkdir -p) */
    struct sqlite3 *db; /* DIR/kpi.db when it exists (else the commit creates it) */
    bool convert;       /* the base is a legacy ledger: the commit converts it */
    bool settle;        /* rrd_pending holds files written in this boot: the commit syncs
                           them and clears the marks in its own transaction (sync.c) */
    /* the base: with a database, its catalog only (db_load_catalog), the
     * points of a series being read when the transaction first touches it
     * (q_sid, q_points, q_last); else a legacy ledger's or an empty
     * directory's whole view */
    struct store_view *base;
    struct sqlite3_stmt *q_sid, *q_points, *q_last;
    bool bucketed; /* the database is of format 3 (db_bucketed) */
    /* format 3: the points table's buckets, ascending, read once in the
     * read transaction (txn_buckets); q_points and q_last read one bucket */
    int64_t *buckets;
    size_t bucket_count;
    bool buckets_read;
    bool no_series; /* the database has no series yet: nothing to read */
    /* a failure to read the base where the API cannot return it
     * (store_txn_get): every later set, put and the commit fail with it */
    int failed;
    struct kpi_error failure;
    struct note_stage *notes; /* store_txn_note (notes.c); NULL: none */
    /* what the commit records (store_txn_describe; strings in the arena) */
    const char *author, *kind, *source, *sha256;
    uint64_t rows;
    struct arena_block *arena;
    struct point_slab *slabs;
    size_t slab_top; /* 1 + the series whose slot ends the first slab, or 0 */

    struct kpi_team *teams;
    size_t *team_parent; /* SIZE_MAX for a root */
    struct wcat tcat;

    struct kpi_indicator *inds;
    bool *ind_has_data; /* some series of the indicator has points */
    struct wcat icat;

    struct wseries *series;
    size_t series_count, series_cap;
    uint64_t *skeys; /* open addressing: (team << 32 | indicator) + 1, 0 = empty */
    uint32_t *svals;
    size_t scap;
    uint64_t last_key; /* the series of the previous store_txn_set: files */
    size_t last_index; /* give one series many rows in a row (0 = none) */

    size_t touched;
    size_t new_teams, new_indicators;
    bool catalog_dirty;
    int64_t pmin[KPI_PERIOD_YEAR + 1], pmax[KPI_PERIOD_YEAR + 1];
};

/* Copy len bytes of s (plus a NUL) into the arena; NULL when out of memory. */
char *txn_strdup(struct store_txn *txn, const char *s, size_t len);

/* Fill the catalog of txn from its base view. */
int txn_catalog_load(struct store_txn *txn, struct kpi_error *err);

/* Whether some series of indicator ind has points, in the base or set by
 * this transaction (a period change is refused then). Reads the database
 * the first time it is asked about a base indicator. 0 or KPI_ESYSTEM. */
int txn_indicator_has_data(struct store_txn *txn, size_t ind, bool *has, struct kpi_error *err);
void txn_catalog_free(struct store_txn *txn);

/* The changed notes of txn, sorted for commit_write; *out malloc'd (free),
 * NULL when none. 0 or KPI_ESYSTEM. */
int notes_plan(const struct store_txn *txn, struct commit_note **out, size_t *count);

/* kpi revert's notes: without apply, report each note of commit that a
 * later commit changed again to conflicts and count it; with apply, stage
 * for each note of commit its text before it, counting them. */
int notes_revert(struct store_txn *txn, uint64_t commit, bool apply,
                 const struct store_check_sink *conflicts, uint64_t *count, struct kpi_error *err);

#endif
