/*
 * Test support shared by the check suites: scratch directories, files, running
 * the real kpi binary, and a digest of a directory tree for "unchanged byte
 * for byte" assertions. Test code only; every function aborts the test (via
 * check's ck_abort_msg) when the system fails, so tests stay short.
 */
#ifndef KPI_TEST_SUPPORT_H
#define KPI_TEST_SUPPORT_H

#include <check.h>
#include <stddef.h>

/* Run every test of suite (which it frees) in check's fork mode; the exit
 * status of a suite's main: EXIT_SUCCESS when every test passed. */
int ts_run_suite(Suite *suite);

/* A fresh empty directory under the build tree's scratch folder, named after
 * tag. Caller frees the returned path. */
char *ts_tempdir(const char *tag);

/* Remove a tree (like rm -rf). Safe on a missing path. */
void ts_rm_rf(const char *path);

/* Write len bytes (or strlen(data) when len is (size_t)-1) to path. */
void ts_write_file(const char *path, const char *data, size_t len);

/* The whole content of a file, NUL-terminated; *len (may be NULL) gets its
 * size. NULL when the file does not exist. Caller frees. */
char *ts_read_file(const char *path, size_t *len);

/* path joined: dir + "/" + name. Caller frees. */
char *ts_path(const char *dir, const char *name);

/* The result of running the kpi binary. */
struct ts_run {
    int status; /* exit code, or 128 + signal */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
};

/* Run KPI_BINARY with the NULL-terminated argv (without argv[0]), in the
 * current directory, with stdin_data (NULL: /dev/null) as standard input,
 * KPI_DATA unset, NO_COLOR=1. Fills *r; free with ts_run_free. */
void ts_kpi(struct ts_run *r, const char *stdin_data, const char *const *argv);
void ts_run_free(struct ts_run *r);

/* A text listing every regular file under dir (relative path, size and a
 * 64-bit FNV-1a hash of its bytes), sorted: equal digests mean equal trees.
 * SQLite's files of a database held open by a reader are left out: its
 * "-shm" index and an empty "-wal" log (they vanish with the last
 * connection and hold no data). A missing dir gives "". Caller frees. */
char *ts_tree_digest(const char *dir);

/* Number of lines of s that contain needle. */
size_t ts_count_lines_with(const char *s, const char *needle);

#endif
