/* Whether the data directory may have changed, without a system call per
 * request (see struct web_watch in web_int.h for the contract).
 *
 * An inotify watch on DIR (not recursive: kpi.db, kpi.db-wal, tokens and
 * the older ledger files all live in it) is read by the worker threads: its
 * descriptor sits in every worker's epoll set beside the daemon's, so a
 * worker woken by a request sees in the same epoll_wait the events queued
 * before that request was sent, and reads them before serving it. (A
 * request read later in a round that began before the events is served
 * from what the round began with; docs/DECISIONS.md says when.)
 *
 * The sequence seq says what a request may skip. Even: quiet, nothing
 * changed since a request that saw this value checked the store. Odd: an
 * event came less than `settle_ns` ago (or there is no watch): every request
 * checks, as without a watch. Why the settling time: an event is sent when a
 * file is written, and SQLite writes the WAL before it makes the commit
 * visible (an fsync, then the WAL index in shared memory, which sends no
 * event). A check made in between finds nothing new; had it marked the
 * sequence as seen, the commit would stay unseen until the next event. The
 * quiet value that ends the settling is a new one, so the first request after
 * it checks again. */
#include "web/web_int.h"

#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

/* Events that may mean new data or new tokens. IN_CLOSE_WRITE comes after
 * a writer's last write: a process that commits, then exits, always sends
 * one after its commit is visible. */
#define WATCH_MASK                                                                                 \
    (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |            \
     IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

#define WATCH_SETTLE_NS (2 * 1000000000LL) /* far above a commit's fsync */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call */
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void web_watch_init(struct web_watch *w, const char *dir)
{
    w->fd = -1;
    w->broken = false;
    w->settle_ns = WATCH_SETTLE_NS;
    w->settle_until = 0;
    w->events = 0;
    atomic_init(&w->seq, 1); /* odd: every request checks until the watch is set */
    pthread_mutex_init(&w->lock, NULL);
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return; /* no inotify (or too many instances): the fallback */
    if (inotify_add_watch(fd, dir, WATCH_MASK) < 0) { /* ENOSPC: too many watches */
        close(fd);
        return;
    }
    w->fd = fd;
    atomic_store(&w->seq, 2);
}

void web_watch_destroy(struct web_watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    pthread_mutex_destroy(&w->lock);
}

/* Files the server writes itself, or that are not data: tokens.used (the
 * last use of each token, at most once a minute), the token commands' lock
 * and temporary files (a new tokens file arrives as a rename to "tokens"),
 * and upload spools. */
static bool ignored(const char *name)
{
    size_t len = strlen(name);
    if (strcmp(name, "tokens.used") == 0 || strcmp(name, "tokens.lock") == 0)
        return true;
    if (strncmp(name, ".upload-", 8) == 0)
        return true;
    return strncmp(name, "tokens.", 7) == 0 && len > 4 && strcmp(name + len - 4, ".tmp") == 0;
}

/* Start (or extend) the settling time. Lock held. */
static void unsettle(struct web_watch *w)
{
    w->settle_until = now_ns() + w->settle_ns;
    uint64_t s = atomic_load_explicit(&w->seq, memory_order_relaxed);
    if ((s & 1) == 0)
        atomic_store_explicit(&w->seq, s + 1, memory_order_release);
}

void web_watch_drain(struct web_watch *w)
{
    if (w->fd < 0)
        return;
    pthread_mutex_lock(&w->lock);
    /* aligned for struct inotify_event */
    union {
        struct inotify_event ev;
        char bytes[4096];
    } buf;
    for (;;) {
        ssize_t n = read(w->fd, buf.bytes, sizeof buf.bytes);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EAGAIN: drained */
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *e = (const void *)(buf.bytes + off);
            off += (ssize_t)(sizeof *e + e->len);
            w->events++;
            if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT))
                w->broken = true; /* the directory went away: check every request */
            if ((e->mask & IN_Q_OVERFLOW) || e->len == 0 || !ignored(e->name))
                unsettle(w);
        }
    }
    pthread_mutex_unlock(&w->lock);
}

void web_watch_sync(struct web_watch *w)
{
    if (w->fd < 0)
        return;
    /* Wait for a drain another worker may be doing: it read events this
     * worker's epoll_wait can no longer see, and may not have marked them. */
    pthread_mutex_lock(&w->lock);
    uint64_t s = atomic_load_explicit(&w->seq, memory_order_relaxed);
    if ((s & 1) && !w->broken && now_ns() >= w->settle_until)
        atomic_store_explicit(&w->seq, s + 1, memory_order_release);
    pthread_mutex_unlock(&w->lock);
}

bool web_watch_quiet(const struct web_watch *w, const _Atomic uint64_t *seen, uint64_t *seq)
{
    uint64_t s = atomic_load_explicit(&w->seq, memory_order_acquire);
    *seq = s;
    return (s & 1) == 0 && s == atomic_load_explicit(seen, memory_order_relaxed);
}

void web_watch_checked(_Atomic uint64_t *seen, uint64_t seq)
{
    if ((seq & 1) == 0)
        atomic_store_explicit(seen, seq, memory_order_relaxed);
}
