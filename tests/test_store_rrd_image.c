/* Tests of store/rrd_image.c: the in-memory RRD file against librrd 1.7.2,
 * the reference. Every series is built twice — rrd_create_r2 plus one
 * rrd_update_r exactly as store/rrd.c calls them, and rrd_image_build — and
 * compared byte for byte (the image told to end its rings where librrd's
 * random start put them) and through librrd (fetch of every archive,
 * rrd_info_r, rrd_lastupdate_r) with the image's own ring positions, before
 * and after three later appends made by librrd on both files. The in-place
 * append (rrd_image_append) is compared the same way: one copy of a file
 * appended by it, one by rrd_update_r with the same updates, byte for byte
 * (ring positions included: both start from the same file) and through
 * librrd's fetch. */
#include "store/rrd_image.h"
#include "store/store.h"
#include "support/support.h"

#define RRD_EXPORT_DEPRECATED /* the on-disk structs, to name a differing field */
#include <rrd.h>
#include <rrd_format.h>

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* librrd 1.7.2 exports its number parser, rrd_strtod, without declaring it
 * (and kpi loads librrd with dlopen, store/rrdlib.c): look it up. */
typedef double (*strtod_fn)(const char *, char **);

static strtod_fn librrd_strtod(void)
{
    void *handle = dlopen("librrd.so.8", RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(handle != NULL, "%s", dlerror());
    void *sym = dlsym(handle, "rrd_strtod");
    ck_assert_msg(sym != NULL, "%s", dlerror());
    strtod_fn fn;
    memcpy(&fn, &sym, sizeof fn); /* object to function pointer, as POSIX allows */
    return fn;
}

#define DAY 86400
#define NDS 2
#define NRRA 4

/* store/rrd.c's layout. */
static const char *const layout[] = {"DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                                     "RRA:AVERAGE:0.5:1:3660",      "RRA:AVERAGE:0.5:30:245",
                                     "RRA:MIN:0.5:30:245",          "RRA:MAX:0.5:30:245"};
#define LAYOUT_COUNT (int)(sizeof layout / sizeof layout[0])

static const size_t header_size =
    sizeof(stat_head_t) + NDS * sizeof(ds_def_t) + NRRA * sizeof(rra_def_t) + sizeof(live_head_t) +
    NDS * sizeof(pdp_prep_t) + NRRA * NDS * sizeof(cdp_prep_t) + NRRA * sizeof(rra_ptr_t);

/* ------------------------------------------------------------ series */

/* A series as store/rrd.c writes it: created at start, one update per
 * period at the end of the period. */
struct series {
    int64_t start;
    struct rrd_image_update *u;
    size_t n;
};

static void series_free(struct series *s)
{
    free(s->u);
    s->u = NULL;
    s->n = 0;
}

/* Periods [first, first + n) of kind; value(i)/target(i) give the numbers. */
static struct series periods(enum kpi_period_kind kind, int64_t first, size_t n,
                             double (*value)(size_t), double (*target)(size_t))
{
    struct series s = {.start = kpi_period_first_day(kind, first) * DAY, .n = n};
    s.u = calloc(n, sizeof *s.u);
    ck_assert_ptr_nonnull(s.u);
    for (size_t i = 0; i < n; i++) {
        s.u[i].ts = (kpi_period_last_day(kind, first + (int64_t)i) + 1) * DAY;
        s.u[i].value[0] = value(i);
        s.u[i].value[1] = target(i);
    }
    return s;
}

static double none(size_t i)
{
    (void)i;
    return NAN;
}
static double gaps(size_t i)
{
    return i % 7 == 3 || i % 11 == 5 ? NAN : 100.0 + (double)i * 1.5;
}
static double flat(size_t i)
{
    return i < 3 ? NAN : 120.0;
}
static double ramp(size_t i)
{
    return (double)i * 0.1;
}
static double tiny(size_t i)
{
    return i % 2 ? 1e-7 : -3.0;
}
static double huge(size_t i)
{
    return i % 3 == 0 ? 1e300 : i % 3 == 1 ? -1e300 : 0.1;
}
static double thirds(size_t i)
{
    return i % 4 == 0 ? NAN : 1.0 / 3.0 + (double)i;
}

/* ------------------------------------------------------------ the two files */

static char *scratch;

static char *file(const char *name)
{
    return ts_path(scratch, name);
}

static void update_text(const struct rrd_image_update *u, char *buf, size_t cap)
{
    char v[RRD_IMAGE_TEXT], t[RRD_IMAGE_TEXT];
    rrd_image_format(u->value[0], v);
    rrd_image_format(u->value[1], t);
    snprintf(buf, cap, "%" PRId64 ":%s:%s", u->ts, v, t);
}

/* librrd's updates of path with u[0..n), in one call. */
static void librrd_update(const char *path, const struct rrd_image_update *u, size_t n)
{
    const char **argv = calloc(n, sizeof *argv);
    char *text = malloc(n * 96);
    ck_assert_ptr_nonnull(argv);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < n; i++) {
        update_text(&u[i], text + i * 96, 96);
        argv[i] = text + i * 96;
    }
    rrd_clear_error();
    int rc = rrd_update_r(path, NULL, (int)n, argv);
    ck_assert_msg(rc == 0, "update %s: %s", path, rrd_get_error());
    free(text);
    free(argv);
}

/* The file store/rrd.c's librrd path makes: create + one update. */
static void librrd_file(const char *path, const struct series *s)
{
    const char *argv[sizeof layout / sizeof layout[0]];
    memcpy(argv, layout, sizeof argv);
    unlink(path);
    rrd_clear_error();
    int rc = rrd_create_r2(path, DAY, (time_t)s->start, 0, NULL, NULL, LAYOUT_COUNT, argv);
    ck_assert_msg(rc == 0, "create %s: %s", path, rrd_get_error());
    if (s->n > 0)
        librrd_update(path, s->u, s->n);
}

/* The image of s; cur_row NULL: the builder's own ring positions. */
static unsigned char *image_of(const struct series *s, const unsigned long *cur_row, size_t *size)
{
    struct rrd_image_spec spec = {.step = DAY,
                                  .start = s->start,
                                  .argc = LAYOUT_COUNT,
                                  .argv = layout,
                                  .updates = s->u,
                                  .count = s->n,
                                  .cur_row = cur_row};
    unsigned char *img = NULL;
    ck_assert_int_eq(rrd_image_build(&spec, &img, size), 0);
    ck_assert_ptr_nonnull(img);
    return img;
}

static void image_file(const char *path, const struct series *s, const unsigned long *cur_row)
{
    size_t size;
    unsigned char *img = image_of(s, cur_row, &size);
    ts_write_file(path, (const char *)img, size);
    free(img);
}

/* The ring positions of a file. */
static void cur_rows(const char *path, unsigned long *rows)
{
    size_t len;
    char *bytes = ts_read_file(path, &len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_ge(len, header_size);
    memcpy(rows, bytes + header_size - NRRA * sizeof(rra_ptr_t), NRRA * sizeof(rra_ptr_t));
    free(bytes);
}

/* The name of the field at byte off of a file of this layout: the header's
 * parts, each an array of count elements of size bytes, then the rings. */
static void field_at(size_t off, char *buf, size_t cap)
{
    static const struct {
        const char *name;
        size_t count, size;
    } parts[] = {
        {"stat_head", 1, sizeof(stat_head_t)},
        {"ds_def", NDS, sizeof(ds_def_t)},
        {"rra_def", NRRA, sizeof(rra_def_t)},
        {"live_head", 1, sizeof(live_head_t)},
        {"pdp_prep", NDS, sizeof(pdp_prep_t)},
        {"cdp_prep (rra * ds)", NRRA * NDS, sizeof(cdp_prep_t)},
        {"rra_ptr", NRRA, sizeof(rra_ptr_t)},
        {"rra 0 rows (ds)", 3660 * NDS, sizeof(double)},
        {"rra 1 rows (ds)", 245 * NDS, sizeof(double)},
        {"rra 2 rows (ds)", 245 * NDS, sizeof(double)},
        {"rra 3 rows (ds)", 245 * NDS, sizeof(double)},
    };
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        size_t sz = parts[p].count * parts[p].size;
        if (off < sz) {
            snprintf(buf, cap, "%s[%zu]+%zu", parts[p].name, off / parts[p].size,
                     off % parts[p].size);
            return;
        }
        off -= sz;
    }
    snprintf(buf, cap, "past the end");
}

/* Both files byte for byte; a failure names the first differing field. */
static void same_bytes(const char *a, const char *b, const char *what)
{
    size_t alen, blen;
    char *x = ts_read_file(a, &alen), *y = ts_read_file(b, &blen);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    ck_assert_msg(alen == blen, "%s: %zu bytes, librrd %zu", what, alen, blen);
    size_t off = 0;
    while (off < alen && x[off] == y[off])
        off++;
    char field[96];
    field_at(off, field, sizeof field);
    ck_assert_msg(off == alen, "%s: differs at byte %zu, %s", what, off, field);
    free(x);
    free(y);
}

/* ------------------------------------------------------------ semantics */

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* One fetch of both files: same window, step and bits. */
static void same_fetch(const char *a, const char *b, const char *cf, time_t start, time_t end,
                       unsigned long step)
{
    time_t s[2] = {start, start}, e[2] = {end, end};
    unsigned long st[2] = {step, step}, ds[2];
    char **names[2];
    rrd_value_t *data[2];
    const char *path[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        rrd_clear_error();
        int rc = rrd_fetch_r(path[k], cf, &s[k], &e[k], &st[k], &ds[k], &names[k], &data[k]);
        ck_assert_msg(rc == 0, "fetch %s: %s", path[k], rrd_get_error());
    }
    ck_assert_int_eq(s[0], s[1]);
    ck_assert_int_eq(e[0], e[1]);
    ck_assert_uint_eq(st[0], st[1]);
    ck_assert_uint_eq(ds[0], ds[1]);
    size_t cells = (size_t)((e[0] - s[0]) / (time_t)st[0]) * ds[0];
    for (size_t i = 0; i < cells; i++)
        ck_assert_msg(same_double(data[0][i], data[1][i]), "%s step %lu cell %zu: %.17g vs %.17g",
                      cf, st[0], i, data[0][i], data[1][i]);
    for (int k = 0; k < 2; k++) {
        for (unsigned long i = 0; i < ds[k]; i++)
            rrd_freemem(names[k][i]);
        rrd_freemem(names[k]);
        rrd_freemem(data[k]);
    }
}

static time_t last_update(const char *path)
{
    rrd_clear_error();
    time_t last = rrd_last_r(path);
    ck_assert_msg(last > 0, "last %s: %s", path, rrd_get_error());
    return last;
}

/* Every archive and CF over the whole file and over each archive's span. */
static void same_fetches(const char *a, const char *b, time_t first)
{
    time_t last = last_update(a);
    ck_assert_int_eq(last, last_update(b));
    static const char *const cfs[] = {"AVERAGE", "MIN", "MAX"};
    for (size_t c = 0; c < 3; c++) {
        same_fetch(a, b, cfs[c], first - 40 * DAY, last + 40 * DAY, DAY);
        same_fetch(a, b, cfs[c], first - 40 * DAY, last + 40 * DAY, 30 * DAY);
        same_fetch(a, b, cfs[c], last - 245 * 30 * DAY, last, 30 * DAY);
    }
    same_fetch(a, b, "AVERAGE", last - 3660 * (time_t)DAY, last, DAY);
}

/* rrd_info_r of both: the same keys and values, but for the file name and,
 * unless rings are aligned, the rows where the rings end. */
static void same_info(const char *a, const char *b, bool rings)
{
    rrd_clear_error();
    rrd_info_t *x = rrd_info_r(a);
    ck_assert_msg(x != NULL, "info %s: %s", a, rrd_get_error());
    rrd_info_t *y = rrd_info_r(b);
    ck_assert_msg(y != NULL, "info %s: %s", b, rrd_get_error());
    rrd_info_t *p = x, *q = y;
    for (; p != NULL && q != NULL; p = p->next, q = q->next) {
        ck_assert_str_eq(p->key, q->key);
        ck_assert_int_eq(p->type, q->type);
        if (strcmp(p->key, "filename") == 0 || (!rings && strstr(p->key, ".cur_row") != NULL))
            continue;
        switch (p->type) {
        case RD_I_VAL:
            ck_assert_msg(same_double(p->value.u_val, q->value.u_val), "%s: %.17g vs %.17g", p->key,
                          p->value.u_val, q->value.u_val);
            break;
        case RD_I_CNT:
            ck_assert_msg(p->value.u_cnt == q->value.u_cnt, "%s: %lu vs %lu", p->key,
                          p->value.u_cnt, q->value.u_cnt);
            break;
        case RD_I_STR:
            ck_assert_str_eq(p->value.u_str, q->value.u_str);
            break;
        case RD_I_INT:
            ck_assert_int_eq(p->value.u_int, q->value.u_int);
            break;
        default:
            break;
        }
    }
    ck_assert(p == NULL && q == NULL);
    rrd_info_free(x);
    rrd_info_free(y);
}

static void same_lastupdate(const char *a, const char *b)
{
    time_t last[2];
    unsigned long ds[2];
    char **names[2], **data[2];
    const char *path[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        rrd_clear_error();
        int rc = rrd_lastupdate_r(path[k], &last[k], &ds[k], &names[k], &data[k]);
        ck_assert_msg(rc == 0, "lastupdate %s: %s", path[k], rrd_get_error());
    }
    ck_assert_int_eq(last[0], last[1]);
    ck_assert_uint_eq(ds[0], ds[1]);
    for (unsigned long i = 0; i < ds[0]; i++) {
        ck_assert_str_eq(names[0][i], names[1][i]);
        ck_assert_str_eq(data[0][i], data[1][i]);
    }
    for (int k = 0; k < 2; k++) {
        for (unsigned long i = 0; i < ds[k]; i++) {
            rrd_freemem(names[k][i]);
            rrd_freemem(data[k][i]);
        }
        rrd_freemem(names[k]);
        rrd_freemem(data[k]);
    }
}

static void same_meaning(const char *a, const char *b, time_t first, bool rings)
{
    same_fetches(a, b, first);
    same_info(a, b, rings);
    same_lastupdate(a, b);
}

/* Three later appends, as three later imports: the next period, one after
 * a gap of a month with only a target, one far later (past the heartbeat
 * for the value: unknown). */
static void append3(const char *path, time_t last)
{
    struct rrd_image_update u[3] = {
        {.ts = last + 31 * DAY, .value = {42.25, 40.0}},
        {.ts = last + 92 * DAY, .value = {NAN, 0.1}},
        {.ts = last + 600 * DAY, .value = {-7.0, NAN}},
    };
    for (size_t i = 0; i < 3; i++)
        librrd_update(path, &u[i], 1);
}

/* The whole comparison of one series (see the top of the file). */
static void check_series(const struct series *s, const char *what)
{
    char *ref = file("ref.rrd"), *aligned = file("aligned.rrd"), *own = file("own.rrd");
    librrd_file(ref, s);
    unsigned long rows[NRRA];
    cur_rows(ref, rows);
    image_file(aligned, s, rows);
    image_file(own, s, NULL);
    same_bytes(aligned, ref, what);
    same_meaning(own, ref, (time_t)s->start, false);

    time_t last = last_update(ref);
    append3(ref, last);
    append3(aligned, last);
    append3(own, last);
    same_bytes(aligned, ref, what);
    same_meaning(own, ref, (time_t)s->start, false);
    free(ref);
    free(aligned);
    free(own);
}

/* ------------------------------------------------------------ tests */

static void setup(void)
{
    scratch = ts_tempdir("rrd_image");
}

static void teardown(void)
{
    ts_rm_rf(scratch);
    free(scratch);
}

START_TEST(test_image_equals_librrd_for_period_shapes)
{
    struct {
        const char *what;
        enum kpi_period_kind kind;
        int64_t first_day;
        size_t n;
        double (*value)(size_t), (*target)(size_t);
    } shapes[] = {
        {"monthly with gaps", KPI_PERIOD_MONTH, 17897, 50, gaps, flat},
        {"weekly across years", KPI_PERIOD_WEEK, 17800, 160, ramp, gaps},
        {"quarterly", KPI_PERIOD_QUARTER, 12000, 40, gaps, ramp},
        {"yearly", KPI_PERIOD_YEAR, 3000, 30, ramp, none},
        {"daily over 3660 days", KPI_PERIOD_DAY, 9000, 5000, gaps, thirds},
        {"daily, short", KPI_PERIOD_DAY, 19000, 45, thirds, none},
        {"targets only", KPI_PERIOD_MONTH, 17897, 24, none, ramp},
        {"a single period", KPI_PERIOD_MONTH, 17897, 1, flat, none},
        {"a single known period", KPI_PERIOD_QUARTER, 17897, 1, ramp, ramp},
        {"0.1, 1e-7, -3", KPI_PERIOD_MONTH, 17897, 36, ramp, tiny},
        {"1e300 and -1e300", KPI_PERIOD_MONTH, 17897, 36, huge, thirds},
        {"nothing known", KPI_PERIOD_MONTH, 17897, 5, none, none},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t first = kpi_period_of_day(shapes[i].kind, shapes[i].first_day);
        struct series s =
            periods(shapes[i].kind, first, shapes[i].n, shapes[i].value, shapes[i].target);
        check_series(&s, shapes[i].what);
        series_free(&s);
    }
}
END_TEST

/* A deterministic generator (xorshift64). */
static uint64_t next(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static double random_number(uint64_t *rs)
{
    switch (next(rs) % 8) {
    case 0:
    case 1:
        return NAN;
    case 2:
        return (double)(int64_t)(next(rs) % 20001) - 10000.0;
    case 3:
        return (double)(next(rs) % 1000000) / 1000.0;
    case 4: /* any 53-bit mantissa, small to large */
        return ldexp((double)(next(rs) >> 11), (int)(next(rs) % 200) - 150);
    case 5:
        return -ldexp((double)(next(rs) >> 11), (int)(next(rs) % 2000) - 1100);
    case 6:
        return (double)(next(rs) % 1000) / 10.0;
    default:
        return 0.1 * (double)(next(rs) % 30);
    }
}

/* A random series: random steps between updates (days to more than the
 * 400-day heartbeat), random numbers, unknowns. Free with series_free. */
static struct series random_series(uint64_t *rs)
{
    struct series s = {.start = (int64_t)(3000 + next(rs) % 17000) * DAY};
    s.n = 1 + next(rs) % 120;
    s.u = calloc(s.n, sizeof *s.u);
    ck_assert_ptr_nonnull(s.u);
    uint64_t gap = next(rs) % 4 == 0 ? 3 : next(rs) % 3 == 0 ? 40 : 500;
    int64_t t = s.start;
    for (size_t i = 0; i < s.n; i++) {
        t += (int64_t)(1 + next(rs) % gap) * DAY;
        s.u[i].ts = t;
        s.u[i].value[0] = random_number(rs);
        s.u[i].value[1] = random_number(rs);
    }
    return s;
}

/* 300 random series (random_series), each built by librrd and as an image. */
START_TEST(test_image_equals_librrd_for_random_series)
{
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 300; k++) {
        struct series s = random_series(&rs);
        char what[32];
        snprintf(what, sizeof what, "random series %d", k);
        if (k % 10 == 0) {
            check_series(&s, what);
        } else { /* bytes only, which implies the rest */
            char *ref = file("ref.rrd"), *aligned = file("aligned.rrd");
            librrd_file(ref, &s);
            unsigned long rows[NRRA];
            cur_rows(ref, rows);
            image_file(aligned, &s, rows);
            same_bytes(aligned, ref, what);
            free(ref);
            free(aligned);
        }
        series_free(&s);
    }
}
END_TEST

START_TEST(test_image_rings_end_on_their_last_row_by_default)
{
    int64_t first = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    struct series s = periods(KPI_PERIOD_MONTH, first, 50, ramp, flat);
    size_t size;
    unsigned char *img = image_of(&s, NULL, &size);
    ck_assert_uint_eq(size, header_size + (3660 + 3 * 245) * NDS * sizeof(double));
    rra_ptr_t ptr[NRRA];
    memcpy(ptr, img + header_size - sizeof ptr, sizeof ptr);
    ck_assert_uint_eq(ptr[0].cur_row, 3659);
    for (size_t r = 1; r < NRRA; r++)
        ck_assert_uint_eq(ptr[r].cur_row, 244);
    /* the last day of the last month is the daily archive's last row */
    double last;
    memcpy(&last, img + header_size + 3659 * NDS * sizeof(double), sizeof last);
    ck_assert_double_eq_tol(last, ramp(49), 1e-12);
    free(img);
    series_free(&s);
}
END_TEST

START_TEST(test_image_parse_reads_numbers_as_librrd)
{
    strtod_fn rrd_strtod = librrd_strtod();
    static const char *const texts[] = {
        "0",
        "-0",
        "7",
        "0.10000000000000001",
        "1e-07",
        "9.9999999999999995e-08",
        "-3",
        "1e+300",
        "-1.0000000000000001e+300",
        "4.9406564584124654e-324",
        "1.7976931348623157e+308",
        "123456789012345678",
        "0.30000000000000004",
        "  12.5",
        "+4",
        "1.5e",
        "2.2250738585072014e-308",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *end;
        char *rend;
        double mine = rrd_image_parse(texts[i], &end, NULL);
        double theirs = rrd_strtod(texts[i], &rend);
        ck_assert_msg(same_double(mine, theirs), "%s: %.17g vs %.17g", texts[i], mine, theirs);
        ck_assert_ptr_eq(end, rend);
    }
    uint64_t rs = 12345;
    for (int k = 0; k < 200000; k++) {
        uint64_t bits = next(&rs);
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x))
            continue;
        char text[RRD_IMAGE_TEXT];
        rrd_image_format(x, text);
        double mine = rrd_image_parse(text, NULL, NULL);
        double theirs = rrd_strtod(text, NULL);
        ck_assert_msg(same_double(mine, theirs), "%s: %.17g vs %.17g", text, mine, theirs);
    }
}
END_TEST

START_TEST(test_image_parse_marks_no_digits_and_range)
{
    const char *end;
    int range;
    ck_assert_double_eq(rrd_image_parse("x", &end, &range), 0.0);
    ck_assert_str_eq(end, "x");
    ck_assert_int_eq(range, 0);
    rrd_image_parse("1e2000", &end, &range);
    ck_assert_int_eq(range, 1);
    ck_assert_str_eq(end, "1e2000");
}
END_TEST

START_TEST(test_image_format_writes_u_or_17_digits)
{
    char buf[RRD_IMAGE_TEXT];
    ck_assert_uint_eq(rrd_image_format(NAN, buf), 1);
    ck_assert_str_eq(buf, "U");
    rrd_image_format(0.1, buf);
    ck_assert_str_eq(buf, "0.10000000000000001");
    rrd_image_format(-3, buf);
    ck_assert_str_eq(buf, "-3");
    ck_assert_uint_lt(rrd_image_format(-2.2250738585072014e-308, buf), LAST_DS_LEN);
}
END_TEST

static double one(size_t i)
{
    (void)i;
    return 1.0;
}

/* What the builder leaves to librrd, allocating nothing. */
START_TEST(test_image_declines_what_it_does_not_reproduce)
{
    int64_t first = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    struct series s = periods(KPI_PERIOD_MONTH, first, 6, one, one);
    const char *counter[] = {"DS:value:COUNTER:600:U:U", "RRA:AVERAGE:0.5:1:10"};
    const char *bounded[] = {"DS:value:GAUGE:600:0:100", "RRA:AVERAGE:0.5:1:10"};
    const char *seasonal[] = {"DS:value:GAUGE:600:U:U", "RRA:HWPREDICT:10:0.1:0.0035:288"};
    const char *suffix[] = {"DS:value:GAUGE:400d:U:U", "RRA:AVERAGE:0.5:1:10"};
    const char *no_rra[] = {"DS:value:GAUGE:600:U:U"};
    struct {
        const char *const *argv;
        int argc;
    } layouts[] = {{counter, 2}, {bounded, 2}, {seasonal, 2}, {suffix, 2}, {no_rra, 1}};
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        struct rrd_image_spec spec = {.step = DAY,
                                      .start = s.start,
                                      .argc = layouts[i].argc,
                                      .argv = layouts[i].argv,
                                      .updates = s.u,
                                      .count = s.n};
        unsigned char *img = (unsigned char *)&spec;
        size_t size = 1;
        ck_assert_int_eq(rrd_image_build(&spec, &img, &size), RRD_IMAGE_UNSUPPORTED);
        ck_assert_ptr_null(img);
        ck_assert_uint_eq(size, 0);
    }

    struct rrd_image_spec spec = {.step = DAY,
                                  .start = s.start,
                                  .argc = LAYOUT_COUNT,
                                  .argv = layout,
                                  .updates = s.u,
                                  .count = s.n};
    unsigned char *img;
    size_t size;
    spec.start = s.start + 3600; /* not on a step */
    ck_assert_int_eq(rrd_image_build(&spec, &img, &size), RRD_IMAGE_UNSUPPORTED);
    spec.start = s.start;
    s.u[2].ts += 60; /* an update off a step */
    ck_assert_int_eq(rrd_image_build(&spec, &img, &size), RRD_IMAGE_UNSUPPORTED);
    s.u[2].ts = s.u[1].ts; /* not after the one before (librrd refuses it) */
    ck_assert_int_eq(rrd_image_build(&spec, &img, &size), RRD_IMAGE_UNSUPPORTED);
    s.u[2].ts = s.u[3].ts - DAY;
    s.u[4].value[1] = INFINITY;
    ck_assert_int_eq(rrd_image_build(&spec, &img, &size), RRD_IMAGE_UNSUPPORTED);
    s.u[4].value[1] = 1.0;
    ck_assert_int_eq(rrd_image_build(&spec, &img, &size), 0);
    free(img);
    series_free(&s);
}
END_TEST

/* An empty update list is the freshly created file, ring positions aside. */
START_TEST(test_image_without_updates_is_a_created_file)
{
    struct series s = {.start = 18262 * (int64_t)DAY};
    char *ref = file("ref.rrd"), *aligned = file("aligned.rrd");
    librrd_file(ref, &s);
    unsigned long rows[NRRA];
    cur_rows(ref, rows);
    image_file(aligned, &s, rows);
    same_bytes(aligned, ref, "no update");
    free(ref);
    free(aligned);
}
END_TEST

/* ------------------------------------------------------------ append */

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *bytes = ts_read_file(from, &len);
    ck_assert_ptr_nonnull(bytes);
    unlink(to);
    ts_write_file(to, bytes, len);
    free(bytes);
}

/* rrd_image_append of u[0..n) to path with store/rrd.c's layout. */
static int image_append(const char *path, const struct rrd_image_update *u, size_t n)
{
    struct rrd_image_spec spec = {
        .step = DAY, .argc = LAYOUT_COUNT, .argv = layout, .updates = u, .count = n};
    return rrd_image_append(path, &spec);
}

/* Whether path still holds exactly bytes[0..len). */
static void unchanged(const char *path, const char *bytes, size_t len, const char *what)
{
    size_t now;
    char *x = ts_read_file(path, &now);
    ck_assert_ptr_nonnull(x);
    ck_assert_msg(now == len && memcmp(x, bytes, len) == 0, "%s: the file changed", what);
    free(x);
}

/* s's first k updates in a file (librrd's create + update, or the image's
 * with its own rings when own; rows: the image's ring positions, NULL for
 * its default), then the rest appended `chunk` updates at a time, to one
 * copy by rrd_image_append and to the other by rrd_update_r: the same
 * bytes after every append, and the same fetches at the end (when fetch). */
static void check_append(const struct series *s, size_t k, size_t chunk, bool own,
                         const unsigned long *rows, bool fetch, const char *what)
{
    struct series base = {.start = s->start, .u = s->u, .n = k};
    char *ref = file("ref.rrd"), *mine = file("mine.rrd");
    if (own || rows != NULL)
        image_file(ref, &base, rows);
    else
        librrd_file(ref, &base);
    copy_file(ref, mine);
    for (size_t i = k; i < s->n; i += chunk) {
        size_t m = s->n - i < chunk ? s->n - i : chunk;
        ck_assert_msg(image_append(mine, s->u + i, m) == 0, "%s: append %zu of %zu declined", what,
                      i, s->n);
        librrd_update(ref, s->u + i, m);
        same_bytes(mine, ref, what);
    }
    if (fetch) {
        same_fetches(mine, ref, (time_t)s->start);
        same_lastupdate(mine, ref);
    }
    free(ref);
    free(mine);
}

START_TEST(test_append_equals_librrd_for_period_shapes)
{
    struct {
        const char *what;
        enum kpi_period_kind kind;
        int64_t first_day;
        size_t n;
        double (*value)(size_t), (*target)(size_t);
    } shapes[] = {
        {"monthly with gaps", KPI_PERIOD_MONTH, 17897, 50, gaps, flat},
        {"weekly across years", KPI_PERIOD_WEEK, 17800, 160, ramp, gaps},
        {"quarterly", KPI_PERIOD_QUARTER, 12000, 40, gaps, ramp},
        {"yearly", KPI_PERIOD_YEAR, 3000, 30, ramp, none},
        {"daily over 3660 days", KPI_PERIOD_DAY, 9000, 4000, gaps, thirds},
        {"daily, short", KPI_PERIOD_DAY, 19000, 45, thirds, none},
        {"targets only", KPI_PERIOD_MONTH, 17897, 24, none, ramp},
        {"a single period", KPI_PERIOD_MONTH, 17897, 1, flat, none},
        {"0.1, 1e-7, -3", KPI_PERIOD_MONTH, 17897, 36, ramp, tiny},
        {"1e300 and -1e300", KPI_PERIOD_MONTH, 17897, 36, huge, thirds},
        {"nothing known", KPI_PERIOD_MONTH, 17897, 5, none, none},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t first = kpi_period_of_day(shapes[i].kind, shapes[i].first_day);
        struct series s =
            periods(shapes[i].kind, first, shapes[i].n, shapes[i].value, shapes[i].target);
        size_t n = s.n, tail = n < 40 ? n : 40;
        check_append(&s, n - 1, 1, false, NULL, true, shapes[i].what);    /* the last one */
        check_append(&s, n - tail, 1, true, NULL, false, shapes[i].what); /* one at a time */
        check_append(&s, n / 2, 7, false, NULL, false, shapes[i].what);   /* in batches */
        check_append(&s, 0, n, true, NULL, true, shapes[i].what);         /* all, from create */
        series_free(&s);
    }
}
END_TEST

/* Appends that wrap the rings at their end: the daily one at its last row
 * (the image's default) or a few rows before, the 30-day ones too. */
START_TEST(test_append_wraps_the_rings)
{
    int64_t first = kpi_period_of_day(KPI_PERIOD_DAY, 18000);
    struct series s = periods(KPI_PERIOD_DAY, first, 400, gaps, thirds);
    check_append(&s, 300, 1, true, NULL, true, "daily, ring ends on its last row");
    static const unsigned long near_end[NRRA] = {3650, 243, 243, 243};
    check_append(&s, 300, 1, false, near_end, true, "daily, ring ends near its last row");
    check_append(&s, 300, 25, false, near_end, true, "daily in batches across the ring end");
    static const unsigned long at_start[NRRA] = {0, 0, 0, 0};
    check_append(&s, 100, 300, false, at_start, true, "daily, rings from row 0");
    series_free(&s);

    int64_t m = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    struct series ms = periods(KPI_PERIOD_MONTH, m, 60, ramp, flat);
    static const unsigned long month_end[NRRA] = {3640, 244, 244, 244};
    check_append(&ms, 50, 1, false, month_end, true, "monthly across the ring ends");
    series_free(&ms);
}
END_TEST

/* Day by day across 30-day rows (the consolidation boundaries of the
 * 30-day archives), with unknowns among the days. */
START_TEST(test_append_crosses_consolidation_boundaries)
{
    int64_t first = kpi_period_of_day(KPI_PERIOD_DAY, 18260);
    struct series s = periods(KPI_PERIOD_DAY, first, 130, gaps, flat);
    check_append(&s, 10, 1, false, NULL, true, "daily across 30-day rows");
    check_append(&s, 29, 1, true, NULL, false, "daily from just before a 30-day row");
    check_append(&s, 40, 31, false, NULL, true, "31 days at a time");
    series_free(&s);
}
END_TEST

/* Gaps longer than the heartbeat (400 days: unknown), longer than the daily
 * ring (every row rewritten), longer than the 30-day rings. */
START_TEST(test_append_after_long_gaps)
{
    int64_t first = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    struct series s = periods(KPI_PERIOD_MONTH, first, 30, gaps, ramp);
    struct series g = {.start = s.start, .n = s.n + 6};
    g.u = calloc(g.n, sizeof *g.u);
    ck_assert_ptr_nonnull(g.u);
    memcpy(g.u, s.u, s.n * sizeof *s.u);
    int64_t t = s.u[s.n - 1].ts;
    static const int64_t days[6] = {31, 600, 30, 4000, 8000, 1};
    static const double values[6][2] = {{1.5, NAN},  {2.5, 3.0},  {NAN, NAN},
                                        {4.25, 1.0}, {-1.0, 2.0}, {7.0, NAN}};
    for (size_t i = 0; i < 6; i++) {
        t += days[i] * DAY;
        g.u[s.n + i].ts = t;
        g.u[s.n + i].value[0] = values[i][0];
        g.u[s.n + i].value[1] = values[i][1];
    }
    check_series(&g, "long gaps, built"); /* the builder too */
    check_append(&g, s.n, 1, false, NULL, true, "long gaps one at a time");
    check_append(&g, s.n, 6, true, NULL, true, "long gaps at once");
    check_append(&g, s.n + 1, 2, false, NULL, true, "long gaps two at a time");
    series_free(&g);
    series_free(&s);
}
END_TEST

/* The random series of the image test, split at a random update: the rest
 * appended in random batches. */
START_TEST(test_append_equals_librrd_for_random_series)
{
    uint64_t rs = 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 300; k++) {
        struct series s = random_series(&rs);
        size_t split = (size_t)(next(&rs) % s.n);
        size_t chunk = 1 + (size_t)(next(&rs) % (k % 3 == 0 ? 3 : s.n - split));
        char what[32];
        snprintf(what, sizeof what, "random series %d", k);
        check_append(&s, split, chunk, k % 2 == 0, NULL, k % 10 == 0, what);
        series_free(&s);
    }
}
END_TEST

/* Twelve months from January 2019 (day 17897), ramp values, flat
 * targets: the series the append tests cut (its first 10 or 11 months the
 * file, the rest the append). */
static struct series twelve_months(void)
{
    return periods(KPI_PERIOD_MONTH, kpi_period_of_day(KPI_PERIOD_MONTH, 17897), 12, ramp, flat);
}

/* What the append leaves to librrd, the file untouched. */
START_TEST(test_append_declines_what_it_does_not_reproduce)
{
    struct series s = twelve_months();
    struct series base = {.start = s.start, .u = s.u, .n = 10};
    char *path = file("mine.rrd");
    size_t len;
    char *bytes;

    /* other layouts, made by librrd */
    const char *heartbeat[] = {"DS:value:GAUGE:3456000:U:U", "DS:target:GAUGE:34560000:U:U",
                               "RRA:AVERAGE:0.5:1:3660",     "RRA:AVERAGE:0.5:30:245",
                               "RRA:MIN:0.5:30:245",         "RRA:MAX:0.5:30:245"};
    const char *rows[] = {"DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                          "RRA:AVERAGE:0.5:1:366",       "RRA:AVERAGE:0.5:30:245",
                          "RRA:MIN:0.5:30:245",          "RRA:MAX:0.5:30:245"};
    const char *fewer[] = {"DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                           "RRA:AVERAGE:0.5:1:3660", "RRA:AVERAGE:0.5:30:245",
                           "RRA:MIN:0.5:30:245"};
    const char *names[] = {"DS:val:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                           "RRA:AVERAGE:0.5:1:3660",    "RRA:AVERAGE:0.5:30:245",
                           "RRA:MIN:0.5:30:245",        "RRA:MAX:0.5:30:245"};
    const char *xff[] = {"DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                         "RRA:AVERAGE:0.4:1:3660",      "RRA:AVERAGE:0.5:30:245",
                         "RRA:MIN:0.5:30:245",          "RRA:MAX:0.5:30:245"};
    struct {
        const char **argv;
        int argc;
    } others[] = {{heartbeat, 6}, {rows, 6}, {fewer, 5}, {names, 6}, {xff, 6}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        unlink(path);
        rrd_clear_error();
        ck_assert_msg(rrd_create_r2(path, DAY, (time_t)s.start, 0, NULL, NULL, others[i].argc,
                                    others[i].argv) == 0,
                      "%s", rrd_get_error());
        librrd_update(path, s.u, 10);
        bytes = ts_read_file(path, &len);
        ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_UNSUPPORTED);
        unchanged(path, bytes, len, "another layout");
        free(bytes);
    }

    /* a file created off a step boundary (its last update is on one) */
    struct series off = {.start = s.start + 3600, .u = s.u, .n = 0};
    librrd_file(path, &off);
    bytes = ts_read_file(path, &len);
    ck_assert_int_eq(image_append(path, s.u, 2), RRD_IMAGE_UNSUPPORTED);
    unchanged(path, bytes, len, "created off a step");
    free(bytes);

    /* kpi's layout, but updates the append does not reproduce */
    librrd_file(path, &base);
    bytes = ts_read_file(path, &len);
    struct rrd_image_update u = s.u[9]; /* the last update again */
    ck_assert_int_eq(image_append(path, &u, 1), RRD_IMAGE_UNSUPPORTED);
    u.ts = s.u[8].ts; /* before it */
    ck_assert_int_eq(image_append(path, &u, 1), RRD_IMAGE_UNSUPPORTED);
    u = s.u[10];
    u.ts += 60; /* off a step */
    ck_assert_int_eq(image_append(path, &u, 1), RRD_IMAGE_UNSUPPORTED);
    struct rrd_image_update two[2] = {s.u[11], s.u[10]}; /* out of order */
    ck_assert_int_eq(image_append(path, two, 2), RRD_IMAGE_UNSUPPORTED);
    u = s.u[10];
    u.value[1] = INFINITY;
    ck_assert_int_eq(image_append(path, &u, 1), RRD_IMAGE_UNSUPPORTED);
    struct rrd_image_spec spec = {.step = DAY,
                                  .argc = LAYOUT_COUNT - 1, /* another layout asked for */
                                  .argv = layout,
                                  .updates = s.u + 10,
                                  .count = 2};
    ck_assert_int_eq(rrd_image_append(path, &spec), RRD_IMAGE_UNSUPPORTED);
    unchanged(path, bytes, len, "updates");

    /* damaged files: a cookie, a version, the float cookie, a count, the
     * size; then a state updates on step boundaries do not leave */
    static const size_t at[] = {0, 4, offsetof(stat_head_t, float_cookie),
                                offsetof(stat_head_t, ds_cnt), offsetof(stat_head_t, rra_cnt)};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        char *bad = malloc(len);
        ck_assert_ptr_nonnull(bad);
        memcpy(bad, bytes, len);
        bad[at[i]] ^= 0x01;
        unlink(path);
        ts_write_file(path, bad, len);
        ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_UNSUPPORTED);
        unchanged(path, bad, len, "damaged header");
        free(bad);
    }
    unlink(path);
    ts_write_file(path, bytes, len - 8); /* truncated */
    ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_UNSUPPORTED);
    unlink(path);
    ts_write_file(path, bytes, 100); /* shorter than a header */
    ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_UNSUPPORTED);
    size_t live = sizeof(stat_head_t) + NDS * sizeof(ds_def_t) + NRRA * sizeof(rra_def_t);
    char *bad = malloc(len);
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, bytes, len);
    live_head_t lh;
    memcpy(&lh, bad + live, sizeof lh);
    lh.last_up_usec = 5; /* a last update off a second */
    memcpy(bad + live, &lh, sizeof lh);
    unlink(path);
    ts_write_file(path, bad, len);
    ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_UNSUPPORTED);
    unchanged(path, bad, len, "last_up_usec");
    memcpy(bad, bytes, len);
    rra_ptr_t ptr = {.cur_row = 3660}; /* a ring position out of its ring */
    memcpy(bad + header_size - NRRA * sizeof(rra_ptr_t), &ptr, sizeof ptr);
    unlink(path);
    ts_write_file(path, bad, len);
    ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_UNSUPPORTED);
    unchanged(path, bad, len, "cur_row");
    free(bad);
    free(bytes);

    /* no file at all: a system error */
    unlink(path);
    errno = 0;
    ck_assert_int_eq(image_append(path, s.u + 10, 2), KPI_ESYSTEM);
    ck_assert_int_eq(errno, ENOENT);
    free(path);
    series_free(&s);
}
END_TEST

/* Another process holding librrd's lock: RRD_IMAGE_BUSY, the file
 * untouched; once it is released the append goes through. */
/* Whether another process can take librrd's lock on path now. */
static bool lockable_elsewhere(const char *path)
{
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        int fd = open(path, O_RDWR);
        struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        _exit(fd >= 0 && fcntl(fd, F_SETLK, &lk) == 0 ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status) == 0;
}

/* An append prepared (before a commit) writes nothing and holds the lock
 * until it is finished; cancelled, it leaves the file as it was; finished,
 * the file is what librrd's update leaves. */
START_TEST(test_prepared_append_writes_only_when_finished)
{
    struct series s = twelve_months();
    struct series base = {.start = s.start, .u = s.u, .n = 10};
    char *path = file("mine.rrd"), *ref = file("ref.rrd");
    librrd_file(path, &base);
    copy_file(path, ref);
    size_t len;
    char *bytes = ts_read_file(path, &len);
    struct rrd_image_spec spec = {
        .step = DAY, .argc = LAYOUT_COUNT, .argv = layout, .updates = s.u + 10, .count = 2};
    struct rrd_image_pending *p = NULL;
    ck_assert_int_eq(rrd_image_append_prepare(path, &spec, NULL, NULL, &p), 0);
    ck_assert_ptr_nonnull(p);
    ck_assert(!lockable_elsewhere(path));
    /* (reading the file here drops the lock: POSIX locks go with any
     * descriptor of the file the process closes) */
    unchanged(path, bytes, len, "prepared");
    /* what it holds: the changed ranges only — the 61 daily rows of
     * November and December 2019 (16 bytes each), a few 30-day rows, the
     * header's live part —, not the file */
    ck_assert_uint_gt(rrd_image_pending_size(p), 61 * 16);
    ck_assert_uint_lt(rrd_image_pending_size(p), len / 16);
    rrd_image_append_cancel(p);
    unchanged(path, bytes, len, "cancelled");
    ck_assert(lockable_elsewhere(path));
    ck_assert_int_eq(rrd_image_append_prepare(path, &spec, NULL, NULL, &p), 0);
    unchanged(path, bytes, len, "prepared again");
    ck_assert_int_eq(rrd_image_append_finish(p), 0);
    ck_assert(lockable_elsewhere(path));
    librrd_update(ref, s.u + 10, 2);
    same_bytes(path, ref, "finished");
    free(bytes);
    free(path);
    free(ref);
    series_free(&s);
}
END_TEST

/* The writes of one more month (the benchmark's month): the header's live
 * part, the daily ring's new rows, one range in each 30-day ring. After a
 * rebuild the rings end on their last row, so the daily rows start at row
 * 0, right after the header: written with it, 4 pwrites; a ring ending
 * elsewhere (row 3000 of 3660, 200 of 245) takes its own, 5. Either way
 * the file is what librrd's update leaves. */
static size_t month_writes(const unsigned long *rows)
{
    struct series s = twelve_months();
    struct series base = {.start = s.start, .u = s.u, .n = 11};
    char *path = file("mine.rrd"), *ref = file("ref.rrd");
    image_file(path, &base, rows);
    copy_file(path, ref);
    struct rrd_image_spec spec = {
        .step = DAY, .argc = LAYOUT_COUNT, .argv = layout, .updates = s.u + 11, .count = 1};
    struct rrd_image_pending *p = NULL;
    ck_assert_int_eq(rrd_image_append_prepare(path, &spec, NULL, NULL, &p), 0);
    size_t writes = rrd_image_pending_writes(p);
    ck_assert_int_eq(rrd_image_append_finish(p), 0);
    librrd_update(ref, s.u + 11, 1);
    same_bytes(path, ref, "one more month");
    free(path);
    free(ref);
    series_free(&s);
    return writes;
}

START_TEST(test_append_joins_the_header_and_the_rows_after_it)
{
    ck_assert_uint_eq(month_writes(NULL), 4);
    static const unsigned long inside[NRRA] = {3000, 200, 200, 200};
    ck_assert_uint_eq(month_writes(inside), 5);
}
END_TEST

START_TEST(test_append_respects_the_lock)
{
    struct series s = twelve_months();
    struct series base = {.start = s.start, .u = s.u, .n = 10};
    char *path = file("mine.rrd"), *ref = file("ref.rrd");
    librrd_file(path, &base);
    copy_file(path, ref);
    int locked[2], release[2];
    ck_assert_int_eq(pipe(locked), 0);
    ck_assert_int_eq(pipe(release), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        int fd = open(path, O_RDWR);
        struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        char c = fd >= 0 && fcntl(fd, F_SETLK, &lk) == 0 ? 'y' : 'n';
        if (write(locked[1], &c, 1) != 1 || read(release[0], &c, 1) != 1)
            _exit(2);
        _exit(0);
    }
    char c = 0;
    ck_assert_int_eq(read(locked[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    size_t len;
    char *bytes = ts_read_file(path, &len);
    ck_assert_int_eq(image_append(path, s.u + 10, 2), RRD_IMAGE_BUSY);
    unchanged(path, bytes, len, "locked");
    ck_assert_int_eq(write(release[1], "x", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(image_append(path, s.u + 10, 2), 0);
    librrd_update(ref, s.u + 10, 2);
    same_bytes(path, ref, "after the lock");
    for (int k = 0; k < 2; k++) {
        close(locked[k]);
        close(release[k]);
    }
    free(bytes);
    free(path);
    free(ref);
    series_free(&s);
}
END_TEST

static double stored(size_t m)
{
    return m == 7 ? NAN : gaps(m) + 0.5;
}

/* store/rrd.c writes rebuilt files from the image: its rings end on their
 * last row, which librrd's create never does on purpose. */
START_TEST(test_store_rebuild_writes_the_image)
{
    char *dir = ts_tempdir("rrd_image_store");
    struct store_options o = {.create = true, .threads = 2};
    struct store *st;
    ck_assert_int_eq(store_open(dir, &o, &st, NULL), 0);
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(st, &txn, &e) == 0, "%s", e.message);
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, "ops", true, &t, NULL, NULL), 0);
    struct kpi_indicator_patch p = {
        .ref = "sales", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_MONTH};
    ck_assert_msg(store_txn_patch_indicator(txn, &p, false, NULL, &e) == 0, "%s", e.message);
    ck_assert_int_eq(store_txn_resolve_indicator(txn, "sales", false, &k, NULL, NULL), 0);
    int64_t first = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    for (size_t m = 0; m < 30; m++)
        if (!isnan(stored(m)))
            ck_assert_int_eq(
                store_txn_set(txn, t, k, first + (int64_t)m, STORE_VALUE, stored(m), NULL, NULL),
                0);
    ck_assert_msg(store_txn_commit(txn, NULL, NULL, &e) == 0, "%s", e.message);
    char path[4096];
    ck_assert_int_eq(store_series_path(st, "ops", "sales", path, sizeof path, NULL), 0);
    unsigned long rows[NRRA];
    cur_rows(path, rows);
    ck_assert_uint_eq(rows[0], 3659);
    for (size_t r = 1; r < NRRA; r++)
        ck_assert_uint_eq(rows[r], 244);

    /* the same series through librrd means the same */
    struct series s = {.start = kpi_period_first_day(KPI_PERIOD_MONTH, first) * DAY, .n = 30};
    s.u = calloc(s.n, sizeof *s.u);
    ck_assert_ptr_nonnull(s.u);
    for (size_t m = 0; m < s.n; m++) {
        s.u[m].ts = (kpi_period_last_day(KPI_PERIOD_MONTH, first + (int64_t)m) + 1) * DAY;
        s.u[m].value[0] = stored(m);
        s.u[m].value[1] = NAN;
    }
    char *ref = file("ref.rrd");
    librrd_file(ref, &s);
    same_meaning(path, ref, (time_t)s.start, false);
    free(ref);
    series_free(&s);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* Commit months [from, to) of "ops"/"sales" (values stored(m)) to st. */
static void commit_months(struct store *st, int64_t first, size_t from, size_t to)
{
    struct store_txn *txn = NULL;
    struct kpi_error e = {0};
    ck_assert_msg(store_txn_begin(st, &txn, &e) == 0, "%s", e.message);
    size_t t, k;
    ck_assert_int_eq(store_txn_resolve_team(txn, "ops", true, &t, NULL, NULL), 0);
    if (store_txn_resolve_indicator(txn, "sales", false, &k, NULL, NULL) != 0) {
        struct kpi_indicator_patch p = {
            .ref = "sales", .set = KPI_SET_PERIOD, .period = KPI_PERIOD_MONTH};
        ck_assert_msg(store_txn_patch_indicator(txn, &p, false, NULL, &e) == 0, "%s", e.message);
        ck_assert_int_eq(store_txn_resolve_indicator(txn, "sales", false, &k, NULL, NULL), 0);
    }
    for (size_t m = from; m < to; m++)
        if (!isnan(stored(m)))
            ck_assert_int_eq(
                store_txn_set(txn, t, k, first + (int64_t)m, STORE_VALUE, stored(m), NULL, NULL),
                0);
    ck_assert_msg(store_txn_commit(txn, NULL, NULL, &e) == 0, "%s", e.message);
}

/* The months [0, n) of commit_months as a series. */
static struct series stored_series(int64_t first, size_t n)
{
    struct series s = {.start = kpi_period_first_day(KPI_PERIOD_MONTH, first) * DAY, .n = n};
    s.u = calloc(s.n, sizeof *s.u);
    ck_assert_ptr_nonnull(s.u);
    for (size_t m = 0; m < s.n; m++) {
        s.u[m].ts = (kpi_period_last_day(KPI_PERIOD_MONTH, first + (int64_t)m) + 1) * DAY;
        s.u[m].value[0] = stored(m);
        s.u[m].value[1] = NAN;
    }
    return s;
}

/* store/rrd.c appends new months in place with rrd_image_append: the file
 * the image of 30 months plus rrd_update_r of the new ones would be. */
START_TEST(test_store_append_writes_in_place)
{
    char *dir = ts_tempdir("rrd_append_store");
    struct store_options o = {.create = true, .threads = 2};
    struct store *st;
    ck_assert_int_eq(store_open(dir, &o, &st, NULL), 0);
    int64_t first = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    commit_months(st, first, 0, 30);
    char path[4096];
    ck_assert_int_eq(store_series_path(st, "ops", "sales", path, sizeof path, NULL), 0);
    char *ref = file("ref.rrd");
    copy_file(path, ref);
    commit_months(st, first, 30, 33); /* month 31 unknown: U */
    struct series s = stored_series(first, 33);
    librrd_update(ref, s.u + 30, 3);
    same_bytes(path, ref, "store append");
    unsigned long rows[NRRA];
    cur_rows(path, rows); /* moved on from the image's last rows: appended */
    ck_assert_uint_eq(rows[0], (3659 + (unsigned long)(s.u[32].ts - s.u[29].ts) / DAY) % 3660);
    char *whole = file("whole.rrd");
    librrd_file(whole, &s);
    same_meaning(path, whole, (time_t)s.start, false);
    free(whole);
    free(ref);
    series_free(&s);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

/* A file whose layout is not kpi's is appended by librrd (the image
 * declines), not rebuilt. */
START_TEST(test_store_append_falls_back_to_librrd)
{
    char *dir = ts_tempdir("rrd_append_fallback");
    struct store_options o = {.create = true, .threads = 1};
    struct store *st;
    ck_assert_int_eq(store_open(dir, &o, &st, NULL), 0);
    int64_t first = kpi_period_of_day(KPI_PERIOD_MONTH, 17897);
    commit_months(st, first, 0, 30);
    char path[4096];
    ck_assert_int_eq(store_series_path(st, "ops", "sales", path, sizeof path, NULL), 0);
    /* the same 30 months in a file of another layout */
    struct series s = stored_series(first, 31);
    const char *other[] = {"DS:value:GAUGE:34560000:U:U", "DS:target:GAUGE:34560000:U:U",
                           "RRA:AVERAGE:0.5:1:4000", "RRA:LAST:0.5:30:100"};
    unlink(path);
    rrd_clear_error();
    ck_assert_msg(rrd_create_r2(path, DAY, (time_t)s.start, 0, NULL, NULL, 4, other) == 0, "%s",
                  rrd_get_error());
    librrd_update(path, s.u, 30);
    char *ref = file("ref.rrd");
    copy_file(path, ref);
    commit_months(st, first, 30, 31);
    librrd_update(ref, s.u + 30, 1);
    same_bytes(path, ref, "fallback append"); /* still the other layout, one month on */
    free(ref);
    series_free(&s);
    store_close(st);
    ts_rm_rf(dir);
    free(dir);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("store_rrd_image");
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_image_equals_librrd_for_period_shapes);
    tcase_add_test(tc, test_image_equals_librrd_for_random_series);
    tcase_add_test(tc, test_image_rings_end_on_their_last_row_by_default);
    tcase_add_test(tc, test_image_parse_reads_numbers_as_librrd);
    tcase_add_test(tc, test_image_parse_marks_no_digits_and_range);
    tcase_add_test(tc, test_image_format_writes_u_or_17_digits);
    tcase_add_test(tc, test_image_declines_what_it_does_not_reproduce);
    tcase_add_test(tc, test_image_without_updates_is_a_created_file);
    tcase_add_test(tc, test_store_rebuild_writes_the_image);
    tcase_add_test(tc, test_append_equals_librrd_for_period_shapes);
    tcase_add_test(tc, test_append_wraps_the_rings);
    tcase_add_test(tc, test_append_crosses_consolidation_boundaries);
    tcase_add_test(tc, test_append_after_long_gaps);
    tcase_add_test(tc, test_append_equals_librrd_for_random_series);
    tcase_add_test(tc, test_append_declines_what_it_does_not_reproduce);
    tcase_add_test(tc, test_append_respects_the_lock);
    tcase_add_test(tc, test_prepared_append_writes_only_when_finished);
    tcase_add_test(tc, test_append_joins_the_header_and_the_rows_after_it);
    tcase_add_test(tc, test_store_append_writes_in_place);
    tcase_add_test(tc, test_store_append_falls_back_to_librrd);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(image_suite());
}
