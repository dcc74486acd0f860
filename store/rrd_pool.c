/*
 * rrd_pool.c — the RRD jobs of a commit on worker threads.
 *
 * A commit's RRD step used to start after the database's COMMIT, so a load
 * cost the database's time plus the files' (mostly the kernel's: ext4
 * allocating and writing 20,000 new files). A batch overlaps them: its
 * threads start when the commit's plan is known and, while the committing
 * thread writes the database, prepare each job (rrd_job_prepare) without
 * writing anything anyone can see: a file that must be rebuilt is built and
 * written into an unnamed file (O_TMPFILE); an append is read and computed
 * (its file opened and locked, its header read and checked, the bytes that
 * change kept in memory). Once the commit is durable — told by SQLite's WAL
 * hook (store/txn.c), before the checkpoint that follows it, not when COMMIT
 * returns — the prepared files are given their names (linkat), the
 * computed appends written in place (pwrite), and the remaining jobs run.
 * When the commit fails, the prepared files are closed and vanish and the
 * appends are dropped unwritten; a process killed before the commit leaves
 * nothing either (an unnamed file dies with its last descriptor, an append
 * was not written). The crash protocol is unchanged: no file is named or
 * written before the database says it may lag (rrd_pending, in the
 * commit's own transaction).
 *
 * Each prepared job holds a descriptor until it is finished: at most the
 * soft RLIMIT_NOFILE minus a reserve are prepared, and the computed appends
 * take at most RRD_ARENA_MAX of memory; the rest run after the commit. That
 * memory (~1.5 KB an append) is one arena in 2 MiB huge pages: in 4 KiB
 * pages, malloc'd per append, the month's 20,000 appends took ~7,500 page
 * faults, each ~13 us on this project's virtual machines.
 *
 * Threads pull jobs from an atomic index. Before the commit is decided all
 * but one of them prepare (the committing thread keeps a CPU of its own:
 * with two, the threads would slow the commit they wait for); a job taken
 * after it is run at once. When the first pass is over (every thread out of
 * it, a barrier), a second pass finishes the prepared jobs and runs the
 * jobs left. The committing thread waits on a condition variable and
 * reports progress ("rrd", done, total).
 */
#include "store/store_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define RRD_PROGRESS_EVERY 64            /* jobs between wake-ups of the reporting thread */
#define RRD_FD_RESERVE 128               /* descriptors left to SQLite, librrd and the rest */
#define RRD_ARENA_MAX ((size_t)64 << 20) /* memory the computed appends may take */
#define RRD_ARENA_PER_JOB 4096           /* reserved per job (an append takes ~1.5 KB) */
#define RRD_HUGE_PAGE ((size_t)2 << 20)

enum job_state {
    JOB_NEW = 0, /* not prepared: runs after the commit */
    JOB_READY,   /* prep[i]: an unnamed file to name, or an append to write */
    JOB_DONE,
};

enum decision { UNDECIDED = 0, COMMITTED = 1, ABORTED = -1 };

struct rrd_batch {
    const struct store *st;
    struct rrd_job *jobs;
    size_t count;
    unsigned char *state;      /* enum job_state per job */
    struct rrd_prepared *prep; /* per job, when JOB_READY */
    const char *phase;
    atomic_size_t next;   /* first pass */
    atomic_size_t next2;  /* second pass */
    atomic_size_t fds;    /* descriptors held by prepared jobs */
    unsigned char *arena; /* the computed appends' memory (NULL: none prepared) */
    size_t arena_cap;
    atomic_size_t arena_used;
    atomic_size_t entered; /* threads started, to number them */
    size_t fd_budget;
    size_t preparers;    /* threads that prepare before the commit */
    atomic_int decision; /* enum decision; written under mu */
    atomic_bool failed;
    atomic_bool need_whole; /* a partial job could not append */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* to the committing thread: progress, exits */
    pthread_cond_t go; /* to the threads: decided, first pass over */
    atomic_size_t done;
    size_t running;    /* under mu */
    size_t first_pass; /* under mu: threads still in the first pass */
    pthread_t *tids;
    size_t started;
    struct kpi_error err;
};

/* The job after the commit: name its prepared file, or run it. */
static int finish_job(struct rrd_batch *b, size_t i, struct kpi_error *e)
{
    if (b->state[i] == JOB_READY) {
        b->state[i] = JOB_DONE;
        atomic_fetch_sub(&b->fds, 1);
        return rrd_job_publish(b->st, &b->jobs[i], &b->prep[i], e);
    }
    b->state[i] = JOB_DONE;
    return rrd_job_run(b->st, &b->jobs[i], e);
}

/* size bytes of the batch's arena (ctx), or NULL once it is full. */
static void *arena_alloc(void *ctx, size_t size)
{
    struct rrd_batch *b = ctx;
    size = (size + 15) & ~(size_t)15;
    size_t at = atomic_fetch_add(&b->arena_used, size);
    if (at > b->arena_cap || size > b->arena_cap - at)
        return NULL;
    return b->arena + at;
}

/* The arena of a batch of count jobs, in huge pages (advice only), or NULL. */
static unsigned char *arena_new(size_t count, size_t *cap)
{
    *cap = count < RRD_ARENA_MAX / RRD_ARENA_PER_JOB ? count * RRD_ARENA_PER_JOB : RRD_ARENA_MAX;
    *cap = (*cap + RRD_HUGE_PAGE - 1) / RRD_HUGE_PAGE * RRD_HUGE_PAGE;
    void *mem = NULL;
    if (posix_memalign(&mem, RRD_HUGE_PAGE, *cap) != 0)
        return NULL;
    madvise(mem, *cap, MADV_HUGEPAGE); /* advice only: failure is fine */
    return mem;
}

/* Job i before the commit: prepared, known to need nothing, or left. */
static void prepare_job(struct rrd_batch *b, size_t i)
{
    if (atomic_fetch_add(&b->fds, 1) >= b->fd_budget) {
        atomic_fetch_sub(&b->fds, 1);
        return;
    }
    struct rrd_prepared *prep = &b->prep[i];
    int rc = rrd_job_prepare(b->st, &b->jobs[i], b->arena != NULL ? arena_alloc : NULL, b, prep);
    if (prep->fd >= 0 || prep->append != NULL) {
        b->state[i] = JOB_READY;
        return;
    }
    atomic_fetch_sub(&b->fds, 1);
    if (rc == RRD_JOB_NOTHING)
        b->state[i] = JOB_DONE;
}

/* A job reached its end (rc of finish_job, or 0 for one needing nothing). */
static void count_done(struct rrd_batch *b, int rc, const struct kpi_error *e)
{
    if (rc == RRD_NEED_WHOLE) {
        atomic_store(&b->need_whole, true);
        rc = 0;
    }
    /* the mutex only every few jobs: taken per job by both threads, it was
     * contended, and each wake-up of a waiter is a cross-CPU interrupt on
     * this kind of machine; progress needs no more */
    size_t done = atomic_fetch_add(&b->done, 1) + 1;
    if (rc == 0 && done % RRD_PROGRESS_EVERY != 0)
        return;
    pthread_mutex_lock(&b->mu);
    if (rc != 0 && !atomic_load(&b->failed)) {
        b->err = *e;
        atomic_store(&b->failed, true);
    }
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void *worker(void *arg)
{
    struct rrd_batch *b = arg;
    struct kpi_error e = {0};
    /* the committing thread needs a CPU of its own: the threads beyond the
     * preparers wait for the decision */
    if (atomic_fetch_add(&b->entered, 1) >= b->preparers) {
        pthread_mutex_lock(&b->mu);
        while (atomic_load(&b->decision) == UNDECIDED)
            pthread_cond_wait(&b->go, &b->mu);
        pthread_mutex_unlock(&b->mu);
    }
    /* first pass: prepare until the commit is decided, then run */
    while (!atomic_load(&b->failed)) {
        int d = atomic_load(&b->decision);
        if (d == ABORTED)
            break;
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->count)
            break;
        if (d == COMMITTED) {
            count_done(b, finish_job(b, i, &e), &e);
            continue;
        }
        prepare_job(b, i);
        if (b->state[i] == JOB_DONE)
            count_done(b, 0, &e);
    }
    pthread_mutex_lock(&b->mu);
    b->first_pass--;
    pthread_cond_broadcast(&b->go);
    while (atomic_load(&b->decision) == UNDECIDED || b->first_pass > 0)
        pthread_cond_wait(&b->go, &b->mu);
    pthread_mutex_unlock(&b->mu);
    /* second pass: what the first one prepared or left */
    while (atomic_load(&b->decision) == COMMITTED && !atomic_load(&b->failed)) {
        size_t i = atomic_fetch_add(&b->next2, 1);
        if (i >= b->count)
            break;
        if (b->state[i] != JOB_DONE)
            count_done(b, finish_job(b, i, &e), &e);
    }
    pthread_mutex_lock(&b->mu);
    b->running--;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void report(const struct store_progress *progress, const char *phase, size_t done,
                   size_t total)
{
    if (progress != NULL && progress->report != NULL)
        progress->report(progress->ctx, phase, done, total);
}

/* Descriptors the prepared files may hold. */
static size_t fd_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur <= RRD_FD_RESERVE)
        return 0;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur - RRD_FD_RESERVE > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)(rl.rlim_cur - RRD_FD_RESERVE);
}

static struct rrd_batch *batch_new(const struct store *st, struct rrd_job *jobs, size_t count,
                                   enum decision decision, const char *phase)
{
    struct rrd_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->st = st;
    b->jobs = jobs;
    b->count = count;
    b->phase = phase;
    b->state = calloc(count + 1, 1);
    b->prep = malloc((count + 1) * sizeof *b->prep);
    size_t want = st->threads < count ? st->threads : count;
    b->tids = malloc((want ? want : 1) * sizeof *b->tids);
    if (b->state == NULL || b->prep == NULL || b->tids == NULL) {
        free(b->state);
        free(b->prep);
        free(b->tids);
        free(b);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        b->prep[i] = (struct rrd_prepared){.fd = -1};
    atomic_init(&b->next, 0);
    atomic_init(&b->next2, 0);
    atomic_init(&b->fds, 0);
    atomic_init(&b->arena_used, 0);
    b->arena = decision == UNDECIDED ? arena_new(count, &b->arena_cap) : NULL;
    atomic_init(&b->done, 0);
    atomic_init(&b->entered, 0);
    b->fd_budget = decision == UNDECIDED ? fd_budget() : 0;
    b->preparers = want > 1 ? want - 1 : 1;
    atomic_init(&b->decision, decision);
    atomic_init(&b->failed, false);
    atomic_init(&b->need_whole, false);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_cond_init(&b->go, NULL);
    pthread_mutex_lock(&b->mu);
    for (; b->started < want; b->started++) {
        if (pthread_create(&b->tids[b->started], NULL, worker, b) != 0)
            break;
        b->running++;
        b->first_pass++;
    }
    pthread_mutex_unlock(&b->mu);
    return b;
}

/* Decide, wait for the threads (reporting progress when committed), free. */
static int batch_end(struct rrd_batch *b, enum decision decision,
                     const struct store_progress *progress, struct kpi_error *err)
{
    pthread_mutex_lock(&b->mu);
    atomic_store(&b->decision, decision);
    pthread_cond_broadcast(&b->go);
    pthread_mutex_unlock(&b->mu);
    if (decision == COMMITTED)
        report(progress, b->phase, 0, b->count);
    if (b->started == 0 && decision == COMMITTED) {
        b->running = 1;
        b->first_pass = 1;
        worker(b); /* no thread could start: do the work here */
    }
    size_t reported = 0;
    pthread_mutex_lock(&b->mu);
    while (b->running > 0) {
        if (decision == COMMITTED && atomic_load(&b->done) != reported) {
            reported = atomic_load(&b->done);
            pthread_mutex_unlock(&b->mu);
            report(progress, b->phase, reported, b->count);
            pthread_mutex_lock(&b->mu);
            continue;
        }
        pthread_cond_wait(&b->cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < b->started; i++)
        pthread_join(b->tids[i], NULL);
    if (decision == COMMITTED && atomic_load(&b->done) != reported)
        report(progress, b->phase, atomic_load(&b->done), b->count);
    for (size_t i = 0; i < b->count; i++) /* not named: they vanish; appends not written */
        rrd_prepared_drop(&b->prep[i]);
    int rc = 0;
    if (decision == COMMITTED && atomic_load(&b->failed))
        rc = kpi_fail(err, KPI_ESYSTEM, "%s", b->err.message);
    else if (decision == COMMITTED && atomic_load(&b->need_whole))
        rc = RRD_NEED_WHOLE;
    pthread_cond_destroy(&b->go);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b->arena); /* after the drops: the computed appends live there */
    free(b->state);
    free(b->prep);
    free(b->tids);
    free(b);
    return rc;
}

void rrd_batch_start(const struct store *st, struct rrd_job *jobs, size_t count,
                     struct rrd_batch **out)
{
    *out = batch_new(st, jobs, count, UNDECIDED, "rrd");
}

void rrd_batch_commit(struct rrd_batch *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    atomic_store(&b->decision, COMMITTED);
    pthread_cond_broadcast(&b->go);
    pthread_mutex_unlock(&b->mu);
}

int rrd_batch_finish(struct rrd_batch *b, const struct store_progress *progress,
                     struct kpi_error *err)
{
    return batch_end(b, COMMITTED, progress, err);
}

void rrd_batch_abort(struct rrd_batch *b)
{
    if (b != NULL)
        batch_end(b, ABORTED, NULL, NULL);
}

int rrd_run_phase(const struct store *st, struct rrd_job *jobs, size_t count, const char *phase,
                  const struct store_progress *progress, struct kpi_error *err)
{
    if (count == 0)
        return 0;
    struct rrd_batch *b = batch_new(st, jobs, count, COMMITTED, phase);
    if (b == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    return batch_end(b, COMMITTED, progress, err);
}

int rrd_run_jobs(const struct store *st, struct rrd_job *jobs, size_t count,
                 const struct store_progress *progress, struct kpi_error *err)
{
    return rrd_run_phase(st, jobs, count, "rrd", progress, err);
}
