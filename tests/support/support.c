/* Test support: see support.h. */
#include "support/support.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *dup_or_die(const char *s)
{
    char *copy = strdup(s);
    ck_assert_ptr_nonnull(copy);
    return copy;
}

char *ts_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

int ts_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *ts_tempdir(const char *tag)
{
    mkdir(KPI_TEST_SCRATCH, 0755);
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", KPI_TEST_SCRATCH, tag);
    ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp %s: %s", tmpl, strerror(errno));
    return dup_or_die(tmpl);
}

void ts_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *child = ts_path(path, e->d_name);
            ts_rm_rf(child);
            free(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void ts_write_file(const char *path, const char *data, size_t len)
{
    if (len == (size_t)-1)
        len = strlen(data);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

char *ts_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (cap - n < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Drain a pipe into a NUL-terminated heap string. */
static char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    return buf;
}

void ts_kpi(struct ts_run *r, const char *stdin_data, const char *const *argv)
{
    /* Output goes to temporary files, not pipes, so a chatty child can never
     * block on a full pipe while the parent waits. */
    char out_path[] = "/tmp/kpi-test-out-XXXXXX", err_path[] = "/tmp/kpi-test-err-XXXXXX";
    char in_path[] = "/tmp/kpi-test-in-XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path), in_fd = mkstemp(in_path);
    ck_assert(out_fd >= 0 && err_fd >= 0 && in_fd >= 0);
    if (stdin_data) {
        size_t len = strlen(stdin_data);
        ck_assert(write(in_fd, stdin_data, len) == (ssize_t)len);
        lseek(in_fd, 0, SEEK_SET);
    }
    size_t argc = 0;
    while (argv[argc])
        argc++;
    const char **full = calloc(argc + 2, sizeof *full);
    ck_assert_ptr_nonnull(full);
    full[0] = KPI_BINARY;
    for (size_t i = 0; i < argc; i++)
        full[i + 1] = argv[i];
    pid_t pid = fork();
    /* The child calls nothing of check's: a check macro takes a mutex that
     * another thread of the test (a server test's readers) may have held at
     * the fork, and the child would wait for it forever. */
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(stdin_data ? in_fd : null_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        unsetenv("KPI_DATA");
        setenv("NO_COLOR", "1", 1);
        execv(KPI_BINARY, (char *const *)(uintptr_t)full);
        _exit(127);
    }
    ck_assert(pid > 0);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    free(full);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    lseek(out_fd, 0, SEEK_SET);
    lseek(err_fd, 0, SEEK_SET);
    r->out = slurp_fd(out_fd);
    r->err = slurp_fd(err_fd);
    close(out_fd);
    close(err_fd);
    close(in_fd);
    unlink(out_path);
    unlink(err_path);
    unlink(in_path);
}

void ts_run_free(struct ts_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static uint64_t fnv1a(const char *data, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct digest_lines {
    char **items;
    size_t count, cap;
};

static void digest_walk(const char *root, const char *rel, struct digest_lines *lines)
{
    char *dir = rel[0] ? ts_path(root, rel) : dup_or_die(root);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *child_rel = rel[0] ? ts_path(rel, e->d_name) : dup_or_die(e->d_name);
        char *child = ts_path(root, child_rel);
        struct stat st;
        size_t nlen = strlen(e->d_name);
        bool sqlite_runtime = /* a reader's: the index of an empty log, and that log */
            (nlen > 4 && strcmp(e->d_name + nlen - 4, "-shm") == 0) ||
            (nlen > 4 && strcmp(e->d_name + nlen - 4, "-wal") == 0 && lstat(child, &st) == 0 &&
             st.st_size == 0);
        if (sqlite_runtime) {
            /* not part of the data: see ts_tree_digest */
        } else if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            digest_walk(root, child_rel, lines);
        } else {
            size_t len = 0;
            char *data = ts_read_file(child, &len);
            char line[8192];
            snprintf(line, sizeof line, "%s %zu %016llx", child_rel, len,
                     (unsigned long long)(data ? fnv1a(data, len) : 0));
            free(data);
            if (lines->count == lines->cap) {
                lines->cap = lines->cap ? lines->cap * 2 : 64;
                lines->items = realloc(lines->items, lines->cap * sizeof *lines->items);
                ck_assert_ptr_nonnull(lines->items);
            }
            lines->items[lines->count++] = dup_or_die(line);
        }
        free(child);
        free(child_rel);
    }
    if (d)
        closedir(d);
    free(dir);
}

char *ts_tree_digest(const char *dir)
{
    struct digest_lines lines = {0};
    digest_walk(dir, "", &lines);
    qsort(lines.items, lines.count, sizeof *lines.items, compare_strings);
    size_t total = 1;
    for (size_t i = 0; i < lines.count; i++)
        total += strlen(lines.items[i]) + 1;
    char *out = malloc(total);
    ck_assert_ptr_nonnull(out);
    out[0] = '\0';
    for (size_t i = 0; i < lines.count; i++) {
        strcat(out, lines.items[i]);
        strcat(out, "\n");
        free(lines.items[i]);
    }
    free(lines.items);
    return out;
}

size_t ts_count_lines_with(const char *s, const char *needle)
{
    size_t count = 0;
    while (s && *s) {
        const char *end = strchr(s, '\n');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char *line = strndup(s, len);
        ck_assert_ptr_nonnull(line);
        if (strstr(line, needle))
            count++;
        free(line);
        s += len + (end ? 1 : 0);
    }
    return count;
}
