/* Tests of store/file.c: a file put in place whole, new or replacing one,
 * with no scratch file left behind. */
#include "store/store_int.h"
#include "support/support.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The names in dir, sorted and joined by spaces into buf. */
static const char *listing(const char *dir, char *buf, size_t cap)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    ck_assert_int_ge(n, 0);
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            if (buf[0] != '\0')
                strncat(buf, " ", cap - strlen(buf) - 1);
            strncat(buf, names[i]->d_name, cap - strlen(buf) - 1);
        }
        free(names[i]);
    }
    free(names);
    return buf;
}

/* A scratch directory and the two names store_file_replace is given there. */
struct place {
    char *dir, *path, *tmp;
};

static struct place place_open(const char *tag)
{
    struct place p = {ts_tempdir(tag), NULL, NULL};
    p.path = ts_path(p.dir, "a.rrd");
    p.tmp = ts_path(p.dir, ".a.rrd.tmp");
    return p;
}

static void place_close(struct place *p)
{
    ts_rm_rf(p->dir);
    free(p->path);
    free(p->tmp);
    free(p->dir);
}

/* A buffer of size bytes that differ page to page (more than one write). */
static unsigned char *pattern(size_t size, unsigned seed)
{
    unsigned char *b = malloc(size);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < size; i++)
        b[i] = (unsigned char)(i * 31 + i / 4096 + seed);
    return b;
}

START_TEST(test_a_new_file_holds_exactly_the_bytes)
{
    struct place pl = place_open("file-new");
    size_t size = 3 * 4096 + 17;
    unsigned char *want = pattern(size, 1);
    struct kpi_error e = {0};
    ck_assert_int_eq(store_file_replace(pl.dir, pl.path, pl.tmp, want, size, &e), 0);
    size_t len;
    char *got = ts_read_file(pl.path, &len);
    ck_assert_uint_eq(len, size);
    ck_assert_int_eq(memcmp(got, want, size), 0);
    char names[256];
    ck_assert_str_eq(listing(pl.dir, names, sizeof names), "a.rrd");
    free(got);
    free(want);
    place_close(&pl);
}
END_TEST

START_TEST(test_a_replaced_file_is_the_new_one_and_a_new_inode)
{
    struct place pl = place_open("file-replace");
    ts_write_file(pl.path, "old content that is longer than the new one", (size_t)-1);
    ts_write_file(pl.tmp, "a scratch file left by a crash", (size_t)-1);
    struct stat before;
    ck_assert_int_eq(stat(pl.path, &before), 0);
    /* a reader that opened the old file keeps reading the old bytes */
    FILE *reader = fopen(pl.path, "rb");
    ck_assert_ptr_nonnull(reader);
    struct kpi_error e = {0};
    ck_assert_int_eq(store_file_replace(pl.dir, pl.path, pl.tmp, "new", 3, &e), 0);
    size_t len;
    char *got = ts_read_file(pl.path, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(got, "new", 3), 0);
    struct stat after;
    ck_assert_int_eq(stat(pl.path, &after), 0);
    ck_assert(after.st_ino != before.st_ino);
    char old[8] = {0};
    ck_assert_uint_eq(fread(old, 1, 7, reader), 7);
    ck_assert_str_eq(old, "old con");
    fclose(reader);
    char names[256];
    ck_assert_str_eq(listing(pl.dir, names, sizeof names), "a.rrd");
    free(got);
    place_close(&pl);
}
END_TEST

START_TEST(test_a_missing_directory_is_reported_and_nothing_is_written)
{
    char *base = ts_tempdir("file-nodir");
    char *dir = ts_path(base, "team");
    char *path = ts_path(dir, "a.rrd"), *tmp = ts_path(dir, ".a.rrd.tmp");
    struct kpi_error e = {0};
    ck_assert_int_eq(store_file_replace(dir, path, tmp, "x", 1, &e), STORE_FILE_NO_DIR);
    char names[256];
    ck_assert_str_eq(listing(base, names, sizeof names), "");
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    ck_assert_int_eq(store_file_replace(dir, path, tmp, "x", 1, &e), 0);
    ck_assert_str_eq(listing(dir, names, sizeof names), "a.rrd");
    ts_rm_rf(base);
    free(path);
    free(tmp);
    free(dir);
    free(base);
}
END_TEST

START_TEST(test_an_unwritable_place_is_an_error_with_the_path)
{
    struct place pl = place_open("file-error");
    /* the name is taken by a directory: neither link nor rename can replace it */
    ck_assert_int_eq(mkdir(pl.path, 0777), 0);
    struct kpi_error e = {0};
    ck_assert_int_eq(store_file_replace(pl.dir, pl.path, pl.tmp, "x", 1, &e), -1);
    ck_assert_int_eq(e.code, KPI_ESYSTEM);
    ck_assert_msg(strstr(e.message, "a.rrd") != NULL, "%s", e.message);
    char names[256];
    ck_assert_str_eq(listing(pl.dir, names, sizeof names), "a.rrd");
    place_close(&pl);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_file");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, test_a_new_file_holds_exactly_the_bytes);
    tcase_add_test(tc, test_a_replaced_file_is_the_new_one_and_a_new_inode);
    tcase_add_test(tc, test_a_missing_directory_is_reported_and_nothing_is_written);
    tcase_add_test(tc, test_an_unwritable_place_is_an_error_with_the_path);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(suite());
}
