/*
 * rrd.c — the RRD files, derived from the ledger.
 *
 * Design (for docs/ARCHITECTURE.md):
 * - Content. The RRD of a series holds the periods [first, last]: first =
 *   the first period with a value or a target, last = the last period with
 *   an observed value (or, with no observation at all, the last target
 *   period); targets after the last observation stay in the ledger only
 *   (SPEC §3). Every period of the range is one update at the END of the
 *   period, timestamp (kpi_period_last_day + 1) * 86400, with the value (or
 *   U) and the target from kpi_target_at (interpolated ones included, or U):
 *   a GAUGE update fills every step back to the previous update, so each day
 *   of a period gets that period's numbers, and a period without a value is
 *   an explicit U, never the next period's value. Values are written with
 *   "%.17g" (rrd_image_format), which librrd 1.7.2 reads back with its own
 *   parser, rrd_strtod: not correctly rounded (about 1 in 10 three-decimal
 *   numbers comes back an ulp or so off), and the GAUGE arithmetic adds its
 *   own rounding, so the RRD holds values to ~1e-15 relative; the ledger
 *   holds them exactly and is what kpi reports. Only the last
 *   RRD_WINDOW_DAYS of the range are written (more than the 20 years the
 *   coarsest archive keeps), so an absurd daily range stays bounded.
 * - Layout: step 86400; DS:value and DS:target, GAUGE, heartbeat 400 days
 *   (longer than a year, so every period fills); RRA AVERAGE 1 day x 3660
 *   (10 years) and AVERAGE, MIN, MAX 30 days x 245 (20 years).
 * - Following the ledger. After a commit, for each changed series the
 *   content above is computed for the new points and for those of the
 *   previous generation: identical -> nothing; same start, every old update
 *   unchanged and a later last period -> APPEND in place: the new periods
 *   only, written by rrd_image_append (the header read with pread, the
 *   update arithmetic of the image builder, the changed rows and header
 *   parts written with pwrite under librrd's fcntl lock: no mmap, whose
 *   munmap costs a TLB-flush IPI per call) — during a commit, everything
 *   but the pwrites is done beside the database transaction
 *   (rrd_job_prepare, rrd_pool.c) —, or, when it declines (a file
 *   not of this layout or state), by one rrd_update_r; anything else ->
 *   REBUILD: the file that rrd_create_r2 starting at the first period's
 *   first day plus one rrd_update_r with every update would leave is
 *   computed in memory (rrd_image.c, proven byte for byte against librrd
 *   by tests/test_store_rrd_image.c), and put in place whole as
 *   DIR/series/<team>/<kpi>.rrd by store_file_replace (file.c: an unnamed
 *   file linked in, or renamed over the old file); when the image builder
 *   declines (a layout or update it does not reproduce) librrd creates and
 *   updates DIR/series/<team>/.<kpi>.rrd.tmp itself, renamed over. A new
 *   series is a rebuild; an append that librrd refuses (file missing, or
 *   not where the ledger says) falls back to a rebuild. librrd costs ~0.2
 *   ms per create and ~0.4 ms or more per update call, mostly in the kernel
 *   (mmap, munmap, fcntl per call), so neither an append nor a rebuild
 *   calls it unless the image declines.
 * - librrd rules: only _r functions, rrd_clear_error() before every call,
 *   rrd_get_error() copied at once; "could not lock RRD" (a reader holds a
 *   fcntl lock, librrd never waits) is retried with backoff for 5 seconds.
 * - Series run on store_options.threads worker threads pulling from a shared
 *   atomic index; the committing thread waits on a condition variable and
 *   reports progress ("rrd", done, total).
 * - Crash safety. Each ledger generation records the series whose RRD files
 *   may lag it: those changed by the commit, plus the previous generation's
 *   set when DIR/rrd-synced did not name it. After all RRD work succeeded,
 *   DIR/rrd-synced gets the generation (tmp + rename, no fsync: losing it
 *   only costs a redundant repair). store_repair and store_txn_begin, when
 *   rrd-synced is not the current generation, REBUILD every series of the
 *   set (an append may have been cut in the middle), then write rrd-synced.
 *   store_repair also rebuilds the file of any series whose file is missing
 *   (one stat per series, which store_txn_begin does not pay: a missing
 *   file that an append needs is rebuilt anyway).
 * - RRD files hold periods after 1970-01-01 only (librrd cannot start a
 *   file at the epoch or before); older points live in the ledger only.
 */
#include "store/rrd_image.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RRD_STEP 86400
#define RRD_WINDOW_DAYS 7400 /* > 245 x 30 days, the coarsest archive */
#define RRD_LOCK_RETRY_NS 5000000000ll
#define RRD_ROW_TEXT 80 /* "ts:value:target" with %.17g numbers */

/* ------------------------------------------------------------ content */

struct rrd_row {
    int64_t period;
    int64_t ts;
    double value, target;
};

struct rrd_content {
    struct rrd_row *rows; /* one per period of [first, last] */
    size_t count;
};

/* kpi_target_at(points, count, p) given ta, the last point before p with a
 * target (SIZE_MAX: none), and tb, the first at or after p with one (count:
 * none): the same arithmetic, so the same bits. */
static double target_between(const struct kpi_point *points, size_t count, size_t ta, size_t tb,
                             int64_t p)
{
    if (tb < count && points[tb].period == p)
        return points[tb].target;
    if (ta == SIZE_MAX || tb == count)
        return NAN;
    const struct kpi_point *a = &points[ta], *b = &points[tb];
    if (b->period == a->period)
        return a->target;
    double t = (double)(p - a->period) / (double)(b->period - a->period);
    return a->target + (b->target - a->target) * t;
}

/* The updates a series' RRD file holds for points (see the design). */
static int content_of(enum kpi_period_kind kind, const struct kpi_point *points, size_t count,
                      struct rrd_content *out)
{
    out->rows = NULL;
    out->count = 0;
    if (count == 0)
        return 0;
    int64_t first = points[0].period, last = points[count - 1].period;
    for (size_t i = count; i-- > 0;)
        if (!isnan(points[i].value)) {
            last = points[i].period;
            break;
        }
    /* librrd cannot start a file at or before the epoch, and keeps nothing
     * older than its coarsest archive: both are left to the ledger */
    int64_t window = kpi_period_of_day(kind, kpi_period_last_day(kind, last) + 1 - RRD_WINDOW_DAYS);
    int64_t epoch = kpi_period_of_day(kind, 1);
    if (kpi_period_first_day(kind, epoch) < 1)
        epoch++;
    if (first < window)
        first = window;
    if (first < epoch)
        first = epoch;
    if (first > last)
        return 0;
    size_t n = (size_t)(last - first + 1);
    out->rows = malloc(n * sizeof *out->rows);
    if (out->rows == NULL)
        return KPI_ESYSTEM;
    size_t k = 0; /* first point at or after the period */
    while (k < count && points[k].period < first)
        k++;
    /* kpi_target_at of every period in one sweep (it walks the run of
     * target-less points around the period: calling it per period cost
     * O(n^2) for a series without targets, 7 s for 2,000 daily series of
     * 1,000 days): ta the last point before p with a target, tb the first
     * at or after p with one */
    size_t ta = SIZE_MAX, tb = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t p = first + (int64_t)i;
        struct rrd_row *r = &out->rows[i];
        r->period = p;
        r->ts = (kpi_period_last_day(kind, p) + 1) * RRD_STEP;
        r->value = NAN;
        if (k < count && points[k].period == p)
            r->value = points[k++].value;
        for (; tb < count && (points[tb].period < p || isnan(points[tb].target)); tb++)
            if (!isnan(points[tb].target))
                ta = tb;
        r->target = target_between(points, count, ta, tb, p);
    }
    out->count = n;
    return 0;
}

static bool same_number(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return (isnan(a) && isnan(b)) || x == y;
}

static bool same_row(const struct rrd_row *a, const struct rrd_row *b)
{
    return a->period == b->period && same_number(a->value, b->value) &&
           same_number(a->target, b->target);
}

enum rrd_action { RRD_NOTHING, RRD_APPEND, RRD_REBUILD };

/* What turns a file holding old into one holding cur; *from = the first row
 * of cur to append. The file may start earlier than cur (its window moved
 * on): its older rows are harmless, so only the overlap must match. */
static enum rrd_action plan(const struct rrd_content *old, const struct rrd_content *cur,
                            size_t *from)
{
    *from = 0;
    if (old->count == 0 || cur->count == 0 || cur->rows[0].period < old->rows[0].period)
        return RRD_REBUILD;
    size_t skip = (size_t)(cur->rows[0].period - old->rows[0].period);
    if (skip >= old->count || cur->count < old->count - skip)
        return RRD_REBUILD;
    for (size_t i = skip; i < old->count; i++)
        if (!same_row(&old->rows[i], &cur->rows[i - skip]))
            return RRD_REBUILD;
    *from = old->count - skip;
    return *from == cur->count ? RRD_NOTHING : RRD_APPEND;
}

/* ------------------------------------------------------------- librrd */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Run op (an rrd_*_r call) until it succeeds or fails for another reason
 * than a reader's lock (with_retry). e gets librrd's error. */
struct rrd_call {
    const char *path;
    time_t start; /* create only */
    int argc;
    const char **argv;
};

/* The layout of every series file, for rrd_create_r2 and rrd_image_build. */
static const char *const rrd_layout[] = {
    "DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U", "RRA:AVERAGE:0.5:1:3660",
    "RRA:AVERAGE:0.5:30:245",      "RRA:MIN:0.5:30:245",           "RRA:MAX:0.5:30:245"};
#define RRD_LAYOUT_COUNT (sizeof rrd_layout / sizeof rrd_layout[0])

static int call_create(const struct rrd_call *c)
{
    const char *layout[RRD_LAYOUT_COUNT]; /* librrd's argv is not const */
    memcpy(layout, rrd_layout, sizeof layout);
    return rrd_create_r2(c->path, RRD_STEP, c->start, 0, NULL, NULL, (int)RRD_LAYOUT_COUNT, layout);
}

static int call_update(const struct rrd_call *c)
{
    return rrd_update_r(c->path, NULL, c->argc, c->argv);
}

/* Wait before the next try on a locked file (1 ms, doubling up to 64 ms);
 * false once the deadline has passed. */
static bool lock_backoff(int64_t deadline, long *sleep_ns)
{
    if (now_ns() > deadline)
        return false;
    struct timespec pause = {0, *sleep_ns};
    nanosleep(&pause, NULL);
    if (*sleep_ns < 64000000)
        *sleep_ns *= 2;
    return true;
}

static int with_retry(int (*op)(const struct rrd_call *), const struct rrd_call *c,
                      struct kpi_error *e)
{
    int64_t deadline = now_ns() + RRD_LOCK_RETRY_NS;
    long sleep_ns = 1000000;
    for (;;) {
        rrd_clear_error();
        if (op(c) == 0)
            return 0;
        const char *why = rrd_get_error();
        kpi_fail(e, KPI_ESYSTEM, "%s", why != NULL && why[0] != '\0' ? why : "librrd failed");
        if (strstr(e->message, "could not lock RRD") == NULL || !lock_backoff(deadline, &sleep_ns))
            return -1;
    }
}

/* The append of rows [from, to) of c to path in place without librrd,
 * computed (rrd_image_append_prepare: pread, no mmap) into *out, to be
 * written by rrd_image_append_finish. A locked file is retried as
 * with_retry does when wait, else left (RRD_IMAGE_BUSY). Returns 0,
 * RRD_IMAGE_UNSUPPORTED (the file untouched: use librrd), RRD_IMAGE_BUSY,
 * or -1 with e filled (the caller rebuilds). */
static int prepare_rows(const char *path, const struct rrd_content *c, size_t from, size_t to,
                        bool wait, rrd_image_alloc alloc, void *ctx, struct rrd_image_pending **out,
                        struct kpi_error *e)
{
    *out = NULL;
    struct rrd_image_update *updates = calloc(to - from, sizeof *updates);
    if (updates == NULL) {
        kpi_fail(e, KPI_ESYSTEM, "out of memory");
        return -1;
    }
    for (size_t i = from; i < to; i++) {
        updates[i - from].ts = c->rows[i].ts;
        updates[i - from].value[0] = c->rows[i].value;
        updates[i - from].value[1] = c->rows[i].target;
    }
    struct rrd_image_spec spec = {.step = RRD_STEP,
                                  .argc = (int)RRD_LAYOUT_COUNT,
                                  .argv = rrd_layout,
                                  .updates = updates,
                                  .count = to - from};
    int64_t deadline = now_ns() + RRD_LOCK_RETRY_NS;
    long sleep_ns = 1000000;
    int rc;
    while ((rc = rrd_image_append_prepare(path, &spec, alloc, ctx, out)) == RRD_IMAGE_BUSY &&
           wait && lock_backoff(deadline, &sleep_ns))
        ;
    int saved = errno;
    free(updates);
    if (rc == 0 || rc == RRD_IMAGE_UNSUPPORTED || (rc == RRD_IMAGE_BUSY && !wait))
        return rc;
    if (rc == RRD_IMAGE_BUSY)
        kpi_fail(e, KPI_ESYSTEM, "%s: could not lock RRD", path);
    else
        kpi_fail(e, KPI_ESYSTEM, "%s: %s", path, strerror(saved));
    return -1;
}

/* Append rows [from, to) of c to path in place without librrd (pread and
 * pwrite, no mmap), retrying a locked file. Returns 0, RRD_IMAGE_UNSUPPORTED
 * (the file untouched: use librrd), or -1 with e filled (the caller
 * rebuilds). */
static int append_rows(const char *path, const struct rrd_content *c, size_t from, size_t to,
                       struct kpi_error *e)
{
    struct rrd_image_pending *ready;
    int rc = prepare_rows(path, c, from, to, true, NULL, NULL, &ready, e);
    if (rc != 0 || rrd_image_append_finish(ready) == 0)
        return rc;
    return kpi_fail(e, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
}

/* Update path with rows [from, to) in one call. */
static int write_rows(const char *path, const struct rrd_content *c, size_t from, size_t to,
                      struct kpi_error *e)
{
    size_t n = to - from;
    char *text = malloc(n * RRD_ROW_TEXT);
    const char **argv = malloc(n * sizeof *argv);
    if (text == NULL || argv == NULL || n > INT32_MAX) {
        free(text);
        free(argv);
        kpi_fail(e, KPI_ESYSTEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct rrd_row *r = &c->rows[from + i];
        char *t = text + i * RRD_ROW_TEXT;
        char v[RRD_IMAGE_TEXT], g[RRD_IMAGE_TEXT];
        rrd_image_format(r->value, v);
        rrd_image_format(r->target, g);
        snprintf(t, RRD_ROW_TEXT, "%" PRId64 ":%s:%s", r->ts, v, g);
        argv[i] = t;
    }
    struct rrd_call call = {.path = path, .argc = (int)n, .argv = argv};
    int rc = with_retry(call_update, &call, e);
    free(text);
    free(argv);
    return rc;
}

/* ------------------------------------------------------------- image */

/* The file that rrd_create_r2 at start plus one rrd_update_r with every row
 * of c would leave, built in memory (rrd_image.c). Returns 0 with *image
 * (malloc'd, *size bytes), RRD_IMAGE_UNSUPPORTED (use librrd), or -1 with e
 * filled. */
static int build_image(time_t start, const struct rrd_content *c, unsigned char **image,
                       size_t *size, struct kpi_error *e)
{
    struct rrd_image_update *updates = calloc(c->count, sizeof *updates);
    if (updates == NULL) {
        kpi_fail(e, KPI_ESYSTEM, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < c->count; i++) {
        updates[i].ts = c->rows[i].ts;
        updates[i].value[0] = c->rows[i].value;
        updates[i].value[1] = c->rows[i].target;
    }
    struct rrd_image_spec spec = {.step = RRD_STEP,
                                  .start = start,
                                  .argc = (int)RRD_LAYOUT_COUNT,
                                  .argv = rrd_layout,
                                  .updates = updates,
                                  .count = c->count};
    int rc = rrd_image_build(&spec, image, size);
    free(updates);
    if (rc != 0 && rc != RRD_IMAGE_UNSUPPORTED) {
        kpi_fail(e, KPI_ESYSTEM, "out of memory");
        return -1;
    }
    return rc;
}

/* ------------------------------------------------------------- one job */

static int make_dir(const char *path, struct kpi_error *e)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return 0;
    kpi_fail(e, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
    return -1;
}

/* DIR/series and DIR/series/<team> (team_dir), made when first needed: not
 * once per series, since mkdir locks the parent directory even when the
 * directory exists. */
static int make_dirs(const struct store *st, const char *team_dir, struct kpi_error *e)
{
    char *series = store_path_join(st->dir, "series");
    int rc = series == NULL             ? kpi_fail(e, KPI_ESYSTEM, "out of memory")
             : make_dir(series, e) == 0 ? make_dir(team_dir, e)
                                        : -1;
    free(series);
    return rc;
}

/* What the image builder does not reproduce, librrd writes: created and
 * updated as tmp, renamed over path. */
static int rebuild_with_librrd(const struct store *st, const char *dir, const char *path,
                               const char *tmp, time_t start, const struct rrd_content *c,
                               struct kpi_error *e)
{
    struct rrd_call create = {.path = tmp, .start = start};
    int rc = make_dirs(st, dir, e);
    if (rc == 0)
        rc = with_retry(call_create, &create, e) == 0 && write_rows(tmp, c, 0, c->count, e) == 0
                 ? 0
                 : -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = kpi_fail(e, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* The paths of job's file: path, its directory and its scratch name
 * (malloc'd, each freed by job_paths_free). */
struct job_paths {
    char *path, *dir, *tmp;
};

static void job_paths_free(struct job_paths *p)
{
    free(p->path);
    free(p->dir);
    free(p->tmp);
}

static int job_paths(const struct store *st, const struct rrd_job *job, struct job_paths *p,
                     struct kpi_error *e)
{
    size_t dlen = strlen(st->dir), tlen = strlen(job->team_id), klen = strlen(job->kpi_id);
    p->path = malloc(dlen + tlen + klen + 32);
    p->dir = malloc(dlen + tlen + 32);
    p->tmp = malloc(dlen + tlen + klen + 32);
    if (p->path == NULL || p->dir == NULL || p->tmp == NULL) {
        job_paths_free(p);
        *p = (struct job_paths){0};
        return kpi_fail(e, KPI_ESYSTEM, "out of memory");
    }
    if (store_series_path(st, job->team_id, job->kpi_id, p->path, dlen + tlen + klen + 32, e) !=
        0) {
        job_paths_free(p);
        *p = (struct job_paths){0};
        return -1;
    }
    snprintf(p->dir, dlen + tlen + 32, "%s/series/%s", st->dir, job->team_id);
    snprintf(p->tmp, dlen + tlen + klen + 32, "%s/.%s.rrd.tmp", p->dir, job->kpi_id);
    return 0;
}

/* The day the file of content c starts at (rrd_create_r2's last_up). */
static time_t start_of(const struct rrd_job *job, const struct rrd_content *c)
{
    return (time_t)(kpi_period_first_day(job->kind, c->rows[0].period) * RRD_STEP);
}

static int rebuild(const struct store *st, const struct rrd_job *job, const struct job_paths *p,
                   const struct rrd_content *c, struct kpi_error *e)
{
    unsigned char *image = NULL;
    size_t size = 0;
    time_t start = start_of(job, c);
    int rc = build_image(start, c, &image, &size, e);
    if (rc == RRD_IMAGE_UNSUPPORTED) {
        rc = rebuild_with_librrd(st, p->dir, p->path, p->tmp, start, c, e);
    } else if (rc == 0) {
        rc = store_file_replace(p->dir, p->path, p->tmp, image, size, e);
        if (rc == STORE_FILE_NO_DIR)
            rc = make_dirs(st, p->dir, e) == 0
                     ? store_file_replace(p->dir, p->path, p->tmp, image, size, e)
                     : -1;
        if (rc == STORE_FILE_NO_DIR)
            rc = kpi_fail(e, KPI_ESYSTEM, "%s: %s", p->dir, strerror(ENOENT));
    }
    free(image);
    return rc;
}

/* The contents job's file holds now (old) and must hold (cur), and what
 * turns one into the other. */
static int job_plan(const struct rrd_job *job, struct rrd_content *cur, struct rrd_content *old,
                    enum rrd_action *action, size_t *from)
{
    *cur = (struct rrd_content){0};
    *old = (struct rrd_content){0};
    *from = 0;
    if (content_of(job->kind, job->points, job->count, cur) != 0 ||
        (!job->rebuild && content_of(job->kind, job->old_points, job->old_count, old) != 0))
        return -1;
    *action = job->rebuild ? RRD_REBUILD : plan(old, cur, from);
    if (cur->count == 0)
        *action = RRD_NOTHING;
    return 0;
}

/* rrd_job_run, the append computed before the commit when ready is not
 * NULL (taken). */
static int job_run(const struct store *st, const struct rrd_job *job,
                   struct rrd_image_pending *ready, struct kpi_error *e)
{
    /* prepared (rrd_job_prepare): the plan was an append */
    int written = ready != NULL ? rrd_image_append_finish(ready) : -1;
    if (written == 0)
        return 0;
    int saved = errno;
    struct job_paths p;
    if (job_paths(st, job, &p, e) != 0)
        return -1;
    struct rrd_content cur = {0}, old = {0};
    int rc = -1;
    if (job->count == 0 && !job->partial) {
        /* a series left without points (kpi revert of the commit that made
         * it): its file goes too */
        rc = 0;
        if (unlink(p.path) != 0 && errno != ENOENT) {
            kpi_fail(e, KPI_ESYSTEM, "cannot remove it: %s", strerror(errno));
            rc = -1;
        }
        goto done;
    }
    size_t from;
    enum rrd_action action;
    if (ready != NULL) { /* its writes failed: the file may be partly written */
        kpi_fail(e, KPI_ESYSTEM, "%s: %s", p.path, strerror(saved));
        if (job->partial) {
            rc = RRD_NEED_WHOLE;
            goto done;
        }
        rc = job_plan(job, &cur, &old, &action, &from) == 0 && cur.count > 0
                 ? rebuild(st, job, &p, &cur, e)
                 : kpi_fail(e, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    if (job_plan(job, &cur, &old, &action, &from) != 0) {
        kpi_fail(e, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    if (action == RRD_NOTHING) {
        rc = 0;
        goto done;
    }
    if (job->partial && action != RRD_APPEND) {
        rc = RRD_NEED_WHOLE; /* the window's rows are not the whole file's */
        goto done;
    }
    if (action == RRD_APPEND) {
        int appended = append_rows(p.path, &cur, from, cur.count, e);
        if (appended == RRD_IMAGE_UNSUPPORTED) /* what the image does not reproduce, librrd does */
            appended = write_rows(p.path, &cur, from, cur.count, e);
        if (appended == 0) {
            rc = 0;
            goto done;
        }
    }
    /* a refused append (no file, or not in the state the data says) is
     * rebuilt: librrd checks timestamps before writing anything */
    rc = job->partial ? RRD_NEED_WHOLE : rebuild(st, job, &p, &cur, e);
done:
    if (rc != 0 && rc != RRD_NEED_WHOLE && strstr(e->message, p.path) == NULL)
        kpi_error_prefix(e, p.path);
    free(cur.rows);
    free(old.rows);
    job_paths_free(&p);
    return rc;
}

int rrd_job_run(const struct store *st, const struct rrd_job *job, struct kpi_error *e)
{
    return job_run(st, job, NULL, e);
}

int rrd_job_prepare(const struct store *st, const struct rrd_job *job,
                    void *(*alloc)(void *ctx, size_t size), void *ctx, struct rrd_prepared *out)
{
    *out = (struct rrd_prepared){.fd = -1};
    if (job->count == 0)
        return 0; /* a removal: after the commit */
    struct kpi_error e = {0};
    struct job_paths p;
    if (job_paths(st, job, &p, &e) != 0)
        return 0;
    struct rrd_content cur, old;
    enum rrd_action action = RRD_NOTHING;
    size_t from;
    unsigned char *image = NULL;
    size_t size = 0;
    int rc = 0;
    /* whatever fails here is left to rrd_job_run, which reports it */
    if (job_plan(job, &cur, &old, &action, &from) != 0)
        goto done;
    if (action == RRD_NOTHING) {
        rc = RRD_JOB_NOTHING;
        goto done;
    }
    if (action == RRD_APPEND) {
        /* computed now, written in place after the commit (a locked file,
         * or one the image declines, too) */
        if (alloc != NULL &&
            prepare_rows(p.path, &cur, from, cur.count, false, alloc, ctx, &out->append, &e) != 0)
            out->append = NULL;
        goto done;
    }
    if (job->partial)
        goto done; /* not an append: the whole series after the commit */
    if (build_image(start_of(job, &cur), &cur, &image, &size, &e) == 0 &&
        store_file_prepare(p.dir, st->dir, image, size, &out->fd, &e) != 0)
        out->fd = -1;
done:
    free(image);
    free(cur.rows);
    free(old.rows);
    job_paths_free(&p);
    return rc;
}

void rrd_prepared_drop(struct rrd_prepared *prep)
{
    if (prep->fd >= 0)
        close(prep->fd);
    rrd_image_append_cancel(prep->append);
    *prep = (struct rrd_prepared){.fd = -1};
}

/* A prepared rebuild: name the unnamed file fd (taken). */
static int publish_file(const struct store *st, const struct rrd_job *job, int fd,
                        struct kpi_error *e)
{
    struct job_paths p;
    if (job_paths(st, job, &p, e) != 0) {
        close(fd);
        return -1;
    }
    int rc = store_file_publish(fd, p.path, p.tmp, e);
    if (rc == STORE_FILE_NO_DIR) /* a new team's directory, made once */
        rc = make_dirs(st, p.dir, e) == 0 ? store_file_publish(fd, p.path, p.tmp, e) : -2;
    if (rc == STORE_FILE_NO_DIR || rc == -2) {
        close(fd);
        if (rc == STORE_FILE_NO_DIR)
            kpi_fail(e, KPI_ESYSTEM, "%s: %s", p.dir, strerror(ENOENT));
        rc = -1;
    } else if (rc == STORE_FILE_NO_UNNAMED) {
        close(fd); /* the file vanishes: written again by name */
        rc = rrd_job_run(st, job, e);
    }
    if (rc != 0 && rc != RRD_NEED_WHOLE && strstr(e->message, p.path) == NULL)
        kpi_error_prefix(e, p.path);
    job_paths_free(&p);
    return rc;
}

int rrd_job_publish(const struct store *st, const struct rrd_job *job, struct rrd_prepared *prep,
                    struct kpi_error *e)
{
    struct rrd_prepared taken = *prep;
    *prep = (struct rrd_prepared){.fd = -1};
    if (taken.append != NULL)
        return job_run(st, job, taken.append, e);
    if (taken.fd >= 0)
        return publish_file(st, job, taken.fd, e);
    return rrd_job_run(st, job, e);
}

/* ------------------------------------------------------------- rrd-synced */

uint64_t rrd_synced_read(const char *dir)
{
    char *path = store_path_join(dir, "rrd-synced");
    if (path == NULL)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return 0;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long g = strtoull(buf, &end, 10);
    if (errno != 0 || end == buf || (*end != '\n' && *end != '\0'))
        return 0;
    return (uint64_t)g;
}

int rrd_synced_write(const char *dir, uint64_t generation, struct kpi_error *err)
{
    char text[32];
    int len = snprintf(text, sizeof text, "%" PRIu64 "\n", generation);
    return store_replace_small(dir, "rrd-synced", text, (size_t)len, err);
}

/* ------------------------------------------------------------- repair */

static bool rrd_missing(const struct store *st, const struct store_view *view,
                        const struct store_series *s)
{
    const char *team = view->teams[s->team].id, *kpi = view->indicators[s->indicator].id;
    size_t cap = strlen(st->dir) + strlen(team) + strlen(kpi) + 32;
    char *path = malloc(cap);
    if (path == NULL)
        return true;
    bool missing = store_series_path(st, team, kpi, path, cap, NULL) == 0 &&
                   access(path, F_OK) != 0 && errno == ENOENT;
    free(path);
    return missing;
}

int rrd_repair_view(const struct store *st, const struct store_view *view, struct sqlite3 *db,
                    bool check_files, const struct store_progress *progress, struct kpi_error *err)
{
    if (view->generation == 0)
        return 0;
    /* a legacy ledger's lag set counts only when rrd-synced is behind it;
     * the database's when its files were not written in this boot (sync.c) */
    bool synced = view->from_db
                      ? view->lag_count == 0 || store_rrd_settled(st->dir, view->last_commit)
                      : rrd_synced_read(st->dir) == view->generation;
    if (synced && !check_files)
        return 0;
    bool *mark = calloc(view->series_count + 1, sizeof *mark);
    struct rrd_job *jobs = malloc((view->series_count + 1) * sizeof *jobs);
    if (mark == NULL || jobs == NULL) {
        free(mark);
        free(jobs);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    for (size_t i = 0; !synced && i < view->lag_count; i++) {
        size_t k;
        if (view_series_index(view, view->lag[i].team, view->lag[i].indicator, &k))
            mark[k] = true;
    }
    size_t n = 0;
    for (size_t i = 0; i < view->series_count; i++) {
        const struct store_series *s = &view->series[i];
        if (!mark[i] && !(check_files && rrd_missing(st, view, s)))
            continue;
        jobs[n++] = (struct rrd_job){
            .team_id = view->teams[s->team].id,
            .kpi_id = view->indicators[s->indicator].id,
            .kind = view->indicators[s->indicator].period,
            .points = s->points,
            .count = s->count,
            .rebuild = true,
        };
    }
    int rc = rrd_run_phase(st, jobs, n, "repair", progress, err);
    /* what was rebuilt is on disk before it stops being pending */
    if (rc == 0 && n > 0)
        rc = store_sync_files(st->dir, err);
    if (rc == 0 && !synced)
        rc = view->from_db ? db_clear_pending(db, err)
                           : rrd_synced_write(st->dir, view->generation, err);
    free(mark);
    free(jobs);
    return rc;
}

/* ------------------------------------------------------------- verify */

int rrd_verify(const struct store *st, const struct rrd_job *job, char *why, size_t cap)
{
    size_t plen = strlen(st->dir) + strlen(job->team_id) + strlen(job->kpi_id) + 32;
    char *path = malloc(plen);
    struct rrd_content c = {0};
    int rc = -1;
    if (path == NULL || store_series_path(st, job->team_id, job->kpi_id, path, plen, NULL) != 0 ||
        content_of(job->kind, job->points, job->count, &c) != 0) {
        snprintf(why, cap, "out of memory");
        goto done;
    }
    if (c.count == 0) { /* nothing an RRD file can hold */
        rc = 0;
        goto done;
    }
    if (access(path, F_OK) != 0) {
        snprintf(why, cap, "missing");
        rc = 1;
        goto done;
    }
    /* the daily archive keeps 3,660 days: compare the days it must hold */
    int64_t last_day = c.rows[c.count - 1].ts / RRD_STEP - 1;
    int64_t first_day = kpi_period_first_day(job->kind, c.rows[0].period);
    if (first_day < last_day - 3600)
        first_day = last_day - 3600;
    time_t start = (time_t)first_day * RRD_STEP, end = (time_t)(last_day + 1) * RRD_STEP;
    unsigned long step = RRD_STEP, ds = 0;
    char **names = NULL;
    rrd_value_t *data = NULL;
    rrd_clear_error();
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &ds, &names, &data) != 0) {
        snprintf(why, cap, "unreadable: %s", rrd_get_error());
        rc = 1;
        goto done;
    }
    rc = 0;
    if (ds != 2 || step != RRD_STEP) {
        snprintf(why, cap, "not kpi's layout (%lu data sources, step %lu)", ds, step);
        rc = 1;
    }
    /* row i covers the day ending at start + (i + 1) * step */
    size_t rows = (size_t)((end - start) / (time_t)step);
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < rows; i++) {
        int64_t day = (int64_t)(start / RRD_STEP) + (int64_t)i;
        if (day < first_day || day > last_day)
            continue;
        while (k < c.count && c.rows[k].ts / RRD_STEP - 1 < day)
            k++;
        if (k == c.count)
            break;
        double want[2] = {c.rows[k].value, c.rows[k].target};
        for (size_t f = 0; f < 2 && rc == 0; f++) {
            double got = data[i * ds + f];
            bool same = (isnan(got) && isnan(want[f])) ||
                        (!isnan(got) && !isnan(want[f]) &&
                         fabs(got - want[f]) <= 1e-9 * (fabs(want[f]) > 1 ? fabs(want[f]) : 1));
            if (!same) {
                char label[KPI_LABEL_MAX], a[KPI_NUMBER_MAX], b[KPI_NUMBER_MAX];
                snprintf(why, cap, "%s on %s holds %s, the data says %s",
                         f == 0 ? "value" : "target", kpi_day_label(day, label),
                         isnan(got) ? "nothing" : kpi_format_number(got, a),
                         isnan(want[f]) ? "nothing" : kpi_format_number(want[f], b));
                rc = 1;
            }
        }
    }
    for (unsigned long d = 0; d < ds; d++)
        rrd_freemem(names[d]);
    rrd_freemem(names);
    rrd_freemem(data);
done:
    free(c.rows);
    free(path);
    return rc;
}
