/*
 * What the kernel alone costs the month's RRD appends (docs/PERFORMANCE.md,
 * "Import: the month's profile and its floor"): the system calls kpi makes
 * on each file of one more month, and nothing else — no CSV, no database,
 * no RRD arithmetic.
 *
 *   rrd_floor DIR THREADS WRITES
 *
 * DIR is a scratch copy of a data directory after bench/import.sh's load
 * (its files are overwritten with the bytes read back: run it on a copy).
 * For every DIR/series/TEAM/KPI.rrd, in name order, pulled by THREADS
 * threads from one atomic index: open (O_RDWR | O_NOATIME), librrd's fcntl
 * write lock, fstat, pread of the 1,760-byte header, then WRITES pwrites at
 * the offsets and sizes kpi's month writes in that layout (strace of
 * `kpi import next.csv`): 5 = the header's live part (912 bytes at 848),
 * the 30 new daily rows (480 bytes at 1,760), one row of each 30-day
 * archive (16 bytes at 60,320, 64,240, 68,160); 4 = the first two joined
 * (1,392 bytes at 848: they are adjacent); 0 = no write (open, lock,
 * read, close only); then close. Prints the wall and CPU seconds (user,
 * system) of the loop, the files and the system calls.
 */
#define _GNU_SOURCE /* O_NOATIME */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { HEADER = 1760, MAX_THREADS = 8 };

struct seg {
    off_t off;
    size_t len;
};

static const struct seg five[] = {{848, 912}, {1760, 480}, {60320, 16}, {64240, 16}, {68160, 16}};
static const struct seg four[] = {{848, 1392}, {60320, 16}, {64240, 16}, {68160, 16}};

struct run {
    char **paths;
    size_t count;
    const struct seg *segs;
    size_t nsegs;
    atomic_size_t next;
    atomic_size_t failed;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR/series/ * / *.rrd, sorted; NULL when out of memory or unreadable. */
static char **list_files(const char *dir, size_t *count)
{
    char top[2048];
    int w = snprintf(top, sizeof top, "%s/series", dir);
    DIR *d = w > 0 && (size_t)w < sizeof top ? opendir(top) : NULL;
    if (d == NULL)
        return NULL;
    size_t cap = 1024, n = 0;
    char **paths = malloc(cap * sizeof *paths);
    struct dirent *t;
    while (paths != NULL && (t = readdir(d)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char sub[4096];
        int sw = snprintf(sub, sizeof sub, "%s/%s", top, t->d_name);
        DIR *s = sw > 0 && (size_t)sw < sizeof sub ? opendir(sub) : NULL;
        struct dirent *f;
        while (s != NULL && (f = readdir(s)) != NULL) {
            size_t len = strlen(f->d_name);
            if (len < 5 || f->d_name[0] == '.' || strcmp(f->d_name + len - 4, ".rrd") != 0)
                continue;
            if (n == cap) {
                char **more = realloc(paths, 2 * cap * sizeof *paths);
                if (more == NULL)
                    break;
                paths = more;
                cap *= 2;
            }
            size_t size = strlen(sub) + len + 2;
            paths[n] = malloc(size);
            if (paths[n] != NULL)
                snprintf(paths[n++], size, "%s/%s", sub, f->d_name);
        }
        if (s != NULL)
            closedir(s);
    }
    closedir(d);
    if (paths != NULL)
        qsort(paths, n, sizeof *paths, by_name);
    *count = n;
    return paths;
}

static int one_file(const struct run *r, const char *path, unsigned char *buf)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOATIME);
    if (fd < 0)
        return -1;
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    struct stat st;
    int rc = 0;
    if (fcntl(fd, F_SETLK, &lock) != 0 || fstat(fd, &st) != 0 ||
        pread(fd, buf, HEADER, 0) != HEADER)
        rc = -1;
    for (size_t i = 0; i < r->nsegs && rc == 0; i++)
        if (pwrite(fd, buf, r->segs[i].len, r->segs[i].off) != (ssize_t)r->segs[i].len)
            rc = -1;
    if (close(fd) != 0)
        rc = -1;
    return rc;
}

static void *worker(void *arg)
{
    struct run *r = arg;
    unsigned char buf[2048];
    memset(buf, 0, sizeof buf);
    size_t i;
    while ((i = atomic_fetch_add(&r->next, 1)) < r->count)
        if (one_file(r, r->paths[i], buf) != 0)
            atomic_fetch_add(&r->failed, 1);
    return NULL;
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rrd_floor DIR THREADS WRITES(0|4|5)\n");
        return 2;
    }
    int threads = atoi(argv[2]), writes = atoi(argv[3]);
    if (threads < 1 || threads > MAX_THREADS || (writes != 0 && writes != 4 && writes != 5)) {
        fprintf(stderr, "rrd_floor: THREADS is 1 to %d, WRITES 0, 4 or 5\n", MAX_THREADS);
        return 2;
    }
    struct run r = {.segs = writes == 5 ? five : four, .nsegs = (size_t)writes};
    r.paths = list_files(argv[1], &r.count);
    if (r.paths == NULL || r.count == 0) {
        fprintf(stderr, "rrd_floor: no RRD files under %s/series\n", argv[1]);
        return 1;
    }
    atomic_init(&r.next, 0);
    atomic_init(&r.failed, 0);
    struct rusage u0, u1;
    struct timespec t0, t1;
    getrusage(RUSAGE_SELF, &u0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t tids[MAX_THREADS];
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, worker, &r) != 0)
            break;
    if (started == 0)
        worker(&r);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &u1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double user = seconds(u1.ru_utime) - seconds(u0.ru_utime);
    double sys = seconds(u1.ru_stime) - seconds(u0.ru_stime);
    printf("%zu files, %d threads, %d writes: wall %.3f s, user %.3f s, sys %.3f s, "
           "%zu syscalls (%.2f us of CPU each), %zu failed\n",
           r.count, started > 0 ? started : 1, writes, wall, user, sys,
           r.count * (size_t)(5 + writes),
           (user + sys) * 1e6 / (double)(r.count * (size_t)(5 + writes)), atomic_load(&r.failed));
    for (size_t i = 0; i < r.count; i++)
        free(r.paths[i]);
    free(r.paths);
    return atomic_load(&r.failed) == 0 ? 0 : 1;
}
