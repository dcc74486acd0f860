/*
 * ledger.c — the raw data of a data directory, one file per generation.
 *
 * Design (for docs/ARCHITECTURE.md):
 *
 * - DIR/ledger is one binary file holding the whole catalog and every raw
 *   point of one generation. A commit serialises the working state to
 *   DIR/ledger.tmp with 1 MiB writes, fsyncs it, renames it over DIR/ledger
 *   and fsyncs DIR: exactly one durable commit per imported file, and a
 *   reader opens either the old file or the new one, never a mix. A missing
 *   ledger is the empty generation 0.
 * - Layout (struct ledger_header in store_int.h): a fixed header (magic
 *   "KPILEDG1", format version, generation, counts, byte offset of each
 *   section, total size), then the string section (NUL-terminated ids, names
 *   and units referenced by offset), teams sorted by id (parent as a team
 *   index), indicators sorted by id with their attributes, the series table
 *   sorted by (team, indicator) with each series' first point and count, the
 *   points as struct kpi_point records (int64 period, double value, double
 *   target, NaN = none) so that a view points straight into the loaded
 *   buffer, the set of series whose RRD file may lag the ledger (rrd.c), and
 *   a 64-bit checksum of all preceding bytes. Sections start at multiples of
 *   8 bytes. Numbers are in host byte order: kpi runs on little-endian
 *   machines, and a file from a big-endian one fails the version check.
 * - The checksum is word-wise (four independent multiply-rotate lanes over
 *   64-bit words, several GB/s) rather than byte-wise FNV, so that verifying
 *   a large ledger costs little next to reading it.
 * - Loading treats the file as untrusted: the checksum, every offset, count,
 *   index and string is bounds-checked, ids must be valid and sorted, parents
 *   acyclic, periods increasing and within years 1..9999. A bad file is
 *   KPI_ESYSTEM "DIR/ledger: corrupt ledger (...)", never a crash.
 * - A view (store_view_open) is the file read whole into one buffer plus
 *   small arrays of struct kpi_team / kpi_indicator / store_series pointing
 *   into it; lookups are binary searches. store_changed compares the
 *   (device, inode, size, mtime) of DIR/ledger with those seen at load:
 *   every commit renames a new file, so the inode changes.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------- checksum */

#define CS_P1 0x9E3779B185EBCA87ull
#define CS_P2 0xC2B2AE3D27D4EB4Full
#define CS_P3 0x165667B19E3779F9ull

struct csum {
    uint64_t lane[4];
    uint64_t len;
};

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64u - r));
}

static uint64_t cs_round(uint64_t acc, uint64_t w)
{
    return rotl64(acc + w * CS_P2, 31) * CS_P1;
}

static void cs_init(struct csum *c)
{
    c->lane[0] = CS_P1 + CS_P2;
    c->lane[1] = CS_P2;
    c->lane[2] = 0;
    c->lane[3] = 0 - CS_P1;
    c->len = 0;
}

/* len must be a multiple of 32 */
static void cs_blocks(struct csum *c, const unsigned char *p, size_t len)
{
    uint64_t a = c->lane[0], b = c->lane[1], d = c->lane[2], e = c->lane[3];
    for (size_t i = 0; i < len; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        a = cs_round(a, w[0]);
        b = cs_round(b, w[1]);
        d = cs_round(d, w[2]);
        e = cs_round(e, w[3]);
    }
    c->lane[0] = a;
    c->lane[1] = b;
    c->lane[2] = d;
    c->lane[3] = e;
    c->len += len;
}

static uint64_t cs_final(struct csum *c, const unsigned char *p, size_t len)
{
    size_t whole = len - len % 32;
    cs_blocks(c, p, whole);
    uint64_t h = rotl64(c->lane[0], 1) + rotl64(c->lane[1], 7) + rotl64(c->lane[2], 12) +
                 rotl64(c->lane[3], 18);
    for (size_t i = whole; i < len; i += 8) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i < 8 ? len - i : 8);
        h = rotl64(h ^ cs_round(0, w), 27) * CS_P1 + CS_P3;
    }
    h ^= c->len + (len - whole);
    h ^= h >> 33;
    h *= CS_P2;
    h ^= h >> 29;
    h *= CS_P3;
    h ^= h >> 32;
    return h;
}

uint64_t ledger_checksum(const void *data, size_t len)
{
    struct csum c;
    cs_init(&c);
    return cs_final(&c, data, len);
}

/* ----------------------------------------------------------- period bounds */

void ledger_period_bounds(enum kpi_period_kind kind, int64_t *min, int64_t *max)
{
    *min = kpi_period_of_day(kind, kpi_day_from_ymd(1, 1, 1));
    *max = kpi_period_of_day(kind, kpi_day_from_ymd(9999, 12, 31));
}

/* ------------------------------------------------------------------ load */

static int corrupt(struct kpi_error *err, const char *path, const char *what)
{
    return kpi_fail(err, KPI_ESYSTEM, "%s: corrupt ledger (%s)", path, what);
}

/* A section of count records of rec bytes at off, inside [hsize, limit). */
static bool section_ok(uint64_t off, uint64_t count, size_t rec, uint64_t hsize, uint64_t limit)
{
    return off % 8 == 0 && off >= hsize && off <= limit && count <= (limit - off) / rec;
}

static const char *string_at(const char *strings, uint64_t len, uint64_t off)
{
    if (off >= len || memchr(strings + off, '\0', (size_t)(len - off)) == NULL)
        return NULL;
    return strings + off;
}

static bool text_ok(const char *s)
{
    return s != NULL && kpi_utf8_valid(s, strlen(s));
}

static int parse_teams(struct store_view *v, const struct ledger_header *h, const char *strings,
                       const char *path, struct kpi_error *err)
{
    size_t n = (size_t)h->team_count;
    v->teams = calloc(n ? n : 1, sizeof *v->teams);
    v->team_parent = calloc(n ? n : 1, sizeof *v->team_parent);
    size_t *stamp = calloc(n ? n : 1, sizeof *stamp);
    if (v->teams == NULL || v->team_parent == NULL || stamp == NULL) {
        free(stamp);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    const char *base = v->buf + h->teams_off;
    for (size_t i = 0; i < n; i++) {
        struct ledger_team t;
        memcpy(&t, base + i * sizeof t, sizeof t);
        const char *id = string_at(strings, h->strings_len, t.id);
        const char *name = string_at(strings, h->strings_len, t.name);
        if (id == NULL || !kpi_id_valid(id) || !text_ok(name)) {
            free(stamp);
            return corrupt(err, path, "bad team string");
        }
        if (i > 0 && strcmp(v->teams[i - 1].id, id) >= 0) {
            free(stamp);
            return corrupt(err, path, "teams out of order");
        }
        if (t.parent != LEDGER_NONE && (t.parent >= n || t.parent == i)) {
            free(stamp);
            return corrupt(err, path, "bad team parent");
        }
        v->teams[i].id = id;
        v->teams[i].name = name;
        v->team_parent[i] = t.parent == LEDGER_NONE ? SIZE_MAX : (size_t)t.parent;
    }
    /* parents: resolve ids and refuse cycles (each walk stops at a team
     * already known to reach a root, so this is linear) */
    for (size_t i = 0; i < n; i++) {
        size_t p = v->team_parent[i];
        v->teams[i].parent = p == SIZE_MAX ? "" : v->teams[p].id;
        size_t j = i;
        while (j != SIZE_MAX && stamp[j] == 0) {
            stamp[j] = i + 1;
            j = v->team_parent[j];
        }
        if (j != SIZE_MAX && stamp[j] == i + 1) {
            free(stamp);
            return corrupt(err, path, "cycle of team parents");
        }
    }
    free(stamp);
    return 0;
}

static int parse_indicators(struct store_view *v, const struct ledger_header *h,
                            const char *strings, const char *path, struct kpi_error *err)
{
    size_t n = (size_t)h->indicator_count;
    v->indicators = calloc(n ? n : 1, sizeof *v->indicators);
    if (v->indicators == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    const char *base = v->buf + h->indicators_off;
    for (size_t i = 0; i < n; i++) {
        struct ledger_indicator r;
        memcpy(&r, base + i * sizeof r, sizeof r);
        struct kpi_indicator *ind = &v->indicators[i];
        ind->id = string_at(strings, h->strings_len, r.id);
        ind->name = string_at(strings, h->strings_len, r.name);
        ind->unit = string_at(strings, h->strings_len, r.unit);
        if (ind->id == NULL || !kpi_id_valid(ind->id) || !text_ok(ind->name) || !text_ok(ind->unit))
            return corrupt(err, path, "bad indicator string");
        if (i > 0 && strcmp(v->indicators[i - 1].id, ind->id) >= 0)
            return corrupt(err, path, "indicators out of order");
        if (r.family < KPI_FAMILY_NONE || r.family >= KPI_FAMILY_COUNT ||
            r.direction < KPI_DIRECTION_UP || r.direction > KPI_DIRECTION_DOWN ||
            r.period < KPI_PERIOD_DAY || r.period > KPI_PERIOD_YEAR ||
            r.aggregate < KPI_AGGREGATE_SUM || r.aggregate > KPI_AGGREGATE_MEAN ||
            !isfinite(r.amber) || !isfinite(r.red) || !isfinite(r.weight))
            return corrupt(err, path, "bad indicator attribute");
        ind->family = (enum kpi_family)r.family;
        ind->direction = (enum kpi_direction)r.direction;
        ind->period = (enum kpi_period_kind)r.period;
        ind->aggregate = (enum kpi_aggregate)r.aggregate;
        ind->amber = r.amber;
        ind->red = r.red;
        ind->weight = r.weight;
    }
    return 0;
}

static int parse_series(struct store_view *v, const struct ledger_header *h, const char *path,
                        struct kpi_error *err)
{
    size_t n = (size_t)h->series_count;
    v->series = calloc(n ? n : 1, sizeof *v->series);
    if (v->series == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    const struct kpi_point *points =
        (const struct kpi_point *)(const void *)(v->buf + h->points_off);
    const char *base = v->buf + h->series_off;
    uint64_t next = 0;
    for (size_t i = 0; i < n; i++) {
        struct ledger_series r;
        memcpy(&r, base + i * sizeof r, sizeof r);
        if (r.team >= v->team_count || r.indicator >= v->indicator_count)
            return corrupt(err, path, "bad series index");
        if (i > 0) {
            const struct store_series *prev = &v->series[i - 1];
            if (prev->team > r.team || (prev->team == r.team && prev->indicator >= r.indicator))
                return corrupt(err, path, "series out of order");
        }
        if (r.first != next || r.count == 0 || r.count > h->point_count - next)
            return corrupt(err, path, "bad series points");
        next += r.count;
        const struct kpi_point *p = points + r.first;
        int64_t min, max;
        ledger_period_bounds(v->indicators[r.indicator].period, &min, &max);
        for (size_t k = 0; k < r.count; k++) {
            if (p[k].period < min || p[k].period > max || (k > 0 && p[k].period <= p[k - 1].period))
                return corrupt(err, path, "bad period");
            if (isinf(p[k].value) || isinf(p[k].target) ||
                (isnan(p[k].value) && isnan(p[k].target)))
                return corrupt(err, path, "bad point");
        }
        v->series[i].team = r.team;
        v->series[i].indicator = r.indicator;
        v->series[i].count = (size_t)r.count;
        v->series[i].points = p;
    }
    if (next != h->point_count)
        return corrupt(err, path, "stray points");
    return 0;
}

static int parse_lag(struct store_view *v, const struct ledger_header *h, const char *path,
                     struct kpi_error *err)
{
    size_t n = (size_t)h->lag_count;
    v->lag = calloc(n ? n : 1, sizeof *v->lag);
    if (v->lag == NULL)
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    memcpy(v->lag, v->buf + h->lag_off, n * sizeof *v->lag);
    for (size_t i = 0; i < n; i++)
        if (v->lag[i].team >= v->team_count || v->lag[i].indicator >= v->indicator_count)
            return corrupt(err, path, "bad lag entry");
    v->lag_count = n;
    return 0;
}

static int parse(struct store_view *v, const char *path, struct kpi_error *err)
{
    struct ledger_header h;
    if (v->size < sizeof h + 8)
        return corrupt(err, path, "truncated");
    memcpy(&h, v->buf, sizeof h);
    if (memcmp(h.magic, LEDGER_MAGIC, sizeof h.magic) != 0)
        return corrupt(err, path, "not a kpi ledger");
    if (h.version != LEDGER_VERSION || h.header_size != sizeof h)
        return corrupt(err, path, "unknown format version");
    if (h.total_size != v->size || v->size % 8 != 0)
        return corrupt(err, path, "truncated");
    uint64_t sum;
    memcpy(&sum, v->buf + v->size - 8, sizeof sum);
    if (sum != ledger_checksum(v->buf, v->size - 8))
        return corrupt(err, path, "bad checksum");
    uint64_t limit = v->size - 8, hs = sizeof h;
    if (!section_ok(h.strings_off, h.strings_len, 1, hs, limit) ||
        !section_ok(h.teams_off, h.team_count, sizeof(struct ledger_team), hs, limit) ||
        !section_ok(h.indicators_off, h.indicator_count, sizeof(struct ledger_indicator), hs,
                    limit) ||
        !section_ok(h.series_off, h.series_count, sizeof(struct ledger_series), hs, limit) ||
        !section_ok(h.points_off, h.point_count, sizeof(struct kpi_point), hs, limit) ||
        !section_ok(h.lag_off, h.lag_count, sizeof(struct store_series_key), hs, limit) ||
        h.team_count > UINT32_MAX || h.indicator_count > UINT32_MAX)
        return corrupt(err, path, "bad section");
    v->generation = h.generation;
    const char *strings = v->buf + h.strings_off;
    int rc = parse_teams(v, &h, strings, path, err);
    if (rc != 0)
        return rc;
    v->team_count = (size_t)h.team_count;
    rc = parse_indicators(v, &h, strings, path, err);
    if (rc != 0)
        return rc;
    v->indicator_count = (size_t)h.indicator_count;
    rc = parse_series(v, &h, path, err);
    if (rc != 0)
        return rc;
    v->series_count = (size_t)h.series_count;
    return parse_lag(v, &h, path, err);
}

/* The buffer of a view. A big ledger goes into transparent huge pages when
 * the kernel offers them: faulting in 4 KiB pages costs more than reading
 * the file (measured: a 25 MB ledger). Freed with free(). */
static char *view_buffer(size_t size)
{
    const size_t huge = (size_t)2 << 20;
    if (size >= 2 * huge) {
        void *p = NULL;
        size_t rounded = (size + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, rounded) == 0) {
            madvise(p, rounded, MADV_HUGEPAGE); /* advice only: failure is fine */
            return p;
        }
    }
    return malloc(size ? size : 1);
}

static int read_all(int fd, char *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO; /* the file shrank under us: not one of ours */
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

bool ledger_exists(const char *dir)
{
    char *path = store_path_join(dir, "ledger");
    struct stat sb;
    bool exists = path != NULL && stat(path, &sb) == 0;
    free(path);
    return exists;
}

int ledger_load(const char *dir, struct store_view **out, struct kpi_error *err)
{
    *out = NULL;
    struct store_view *v = calloc(1, sizeof *v);
    char *path = store_path_join(dir, "ledger");
    if (v == NULL || path == NULL) {
        free(v);
        free(path);
        return kpi_fail(err, KPI_ESYSTEM, "out of memory");
    }
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *out = v; /* generation 0, empty */
            free(path);
            return 0;
        }
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < 0 || (uintmax_t)sb.st_size > SIZE_MAX / 2) {
        rc = corrupt(err, path, "not a regular file");
        goto fail;
    }
    v->exists = true;
    v->dev = sb.st_dev;
    v->ino = sb.st_ino;
    v->file_size = sb.st_size;
    v->mtim = sb.st_mtim;
    v->size = (size_t)sb.st_size;
    v->buf = view_buffer(v->size);
    if (v->buf == NULL) {
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: out of memory", path);
        goto fail;
    }
    if (read_all(fd, v->buf, v->size) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
        goto fail;
    }
    rc = parse(v, path, err);
    if (rc != 0)
        goto fail;
    close(fd);
    free(path);
    *out = v;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(path);
    store_view_free(v);
    return rc;
}

/* ----------------------------------------------------------------- write */

#define WBUF_CAP (1u << 20) /* a multiple of 32: the checksum runs per flush */

struct wbuf {
    int fd;
    unsigned char *buf;
    size_t len;
    struct csum cs;
    int error; /* errno of the first failed write */
};

static void write_all(struct wbuf *w, const unsigned char *p, size_t n)
{
    while (n > 0 && w->error == 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            w->error = errno;
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

static void wb_put(struct wbuf *w, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        size_t k = WBUF_CAP - w->len < n ? WBUF_CAP - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
        if (w->len == WBUF_CAP) {
            cs_blocks(&w->cs, w->buf, WBUF_CAP);
            write_all(w, w->buf, WBUF_CAP);
            w->len = 0;
        }
    }
}

static void wb_pad(struct wbuf *w, size_t n)
{
    static const unsigned char zero[8];
    wb_put(w, zero, (8 - n % 8) % 8);
}

static void wb_finish(struct wbuf *w)
{
    uint64_t sum = cs_final(&w->cs, w->buf, w->len);
    memcpy(w->buf + w->len, &sum, sizeof sum); /* len < WBUF_CAP, a multiple of 8 */
    write_all(w, w->buf, w->len + sizeof sum);
    w->len = 0;
}

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void put_str(struct wbuf *w, const char *s, uint64_t *off, uint64_t *at)
{
    size_t n = strlen(s) + 1;
    wb_put(w, s, n);
    *at = *off;
    *off += n;
}

/* Everything but the points: header, strings, teams, indicators, series. */
static int write_catalog(struct wbuf *w, const struct ledger_image *img, struct ledger_header *h)
{
    size_t tc = img->team_count, ic = img->indicator_count;
    uint64_t *toff = malloc((2 * tc + 3 * ic + 1) * sizeof *toff);
    if (toff == NULL)
        return KPI_ESYSTEM;
    uint64_t *ioff = toff + 2 * tc;
    wb_put(w, h, sizeof *h);
    uint64_t off = 0;
    for (size_t i = 0; i < tc; i++) {
        put_str(w, img->teams[i].id, &off, &toff[2 * i]);
        put_str(w, img->teams[i].name, &off, &toff[2 * i + 1]);
    }
    for (size_t i = 0; i < ic; i++) {
        put_str(w, img->indicators[i].id, &off, &ioff[3 * i]);
        put_str(w, img->indicators[i].name, &off, &ioff[3 * i + 1]);
        put_str(w, img->indicators[i].unit, &off, &ioff[3 * i + 2]);
    }
    wb_pad(w, (size_t)off);
    for (size_t i = 0; i < tc; i++) {
        size_t p = img->team_parent[i];
        struct ledger_team t = {toff[2 * i], toff[2 * i + 1], p == SIZE_MAX ? LEDGER_NONE : p};
        wb_put(w, &t, sizeof t);
    }
    for (size_t i = 0; i < ic; i++) {
        const struct kpi_indicator *ind = &img->indicators[i];
        struct ledger_indicator r = {ioff[3 * i],
                                     ioff[3 * i + 1],
                                     ioff[3 * i + 2],
                                     (int32_t)ind->family,
                                     (int32_t)ind->direction,
                                     (int32_t)ind->period,
                                     (int32_t)ind->aggregate,
                                     ind->amber,
                                     ind->red,
                                     ind->weight};
        wb_put(w, &r, sizeof r);
    }
    uint64_t first = 0;
    for (size_t i = 0; i < img->series_count; i++) {
        const struct store_series *s = &img->series[i];
        struct ledger_series r = {(uint32_t)s->team, (uint32_t)s->indicator, first, s->count};
        wb_put(w, &r, sizeof r);
        first += s->count;
    }
    free(toff);
    return 0;
}

static void fill_header(const struct ledger_image *img, struct ledger_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, LEDGER_MAGIC, sizeof h->magic);
    h->version = LEDGER_VERSION;
    h->header_size = sizeof *h;
    h->generation = img->generation;
    h->team_count = img->team_count;
    h->indicator_count = img->indicator_count;
    h->series_count = img->series_count;
    h->lag_count = img->lag_count;
    size_t slen = 0, points = 0;
    for (size_t i = 0; i < img->team_count; i++)
        slen += strlen(img->teams[i].id) + strlen(img->teams[i].name) + 2;
    for (size_t i = 0; i < img->indicator_count; i++)
        slen += strlen(img->indicators[i].id) + strlen(img->indicators[i].name) +
                strlen(img->indicators[i].unit) + 3;
    for (size_t i = 0; i < img->series_count; i++)
        points += img->series[i].count;
    h->point_count = points;
    h->strings_off = sizeof *h;
    h->strings_len = slen;
    h->teams_off = h->strings_off + pad8(slen);
    h->indicators_off = h->teams_off + img->team_count * sizeof(struct ledger_team);
    h->series_off = h->indicators_off + img->indicator_count * sizeof(struct ledger_indicator);
    h->points_off = h->series_off + img->series_count * sizeof(struct ledger_series);
    h->lag_off = h->points_off + points * sizeof(struct kpi_point);
    h->total_size = h->lag_off + img->lag_count * sizeof(struct store_series_key) + 8;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ledger_write(const char *dir, const struct ledger_image *img, struct kpi_error *err)
{
    char *tmp = store_path_join(dir, "ledger.tmp");
    char *path = store_path_join(dir, "ledger");
    struct wbuf w = {.fd = -1, .buf = malloc(WBUF_CAP + 8)};
    int rc = 0;
    if (tmp == NULL || path == NULL || w.buf == NULL) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    cs_init(&w.cs);
    w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (w.fd < 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    struct ledger_header h;
    fill_header(img, &h);
    if (write_catalog(&w, img, &h) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < img->series_count; i++)
        wb_put(&w, img->series[i].points, img->series[i].count * sizeof(struct kpi_point));
    wb_put(&w, img->lag, img->lag_count * sizeof *img->lag);
    wb_finish(&w);
    if (w.error == 0 && fsync(w.fd) != 0)
        w.error = errno;
    if (close(w.fd) != 0 && w.error == 0)
        w.error = errno;
    w.fd = -1;
    if (w.error != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", tmp, strerror(w.error));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (sync_dir(dir) != 0)
        rc = kpi_fail(err, KPI_ESYSTEM, "%s: %s", dir, strerror(errno));
done:
    if (w.fd >= 0)
        close(w.fd);
    if (rc != 0 && tmp != NULL)
        unlink(tmp);
    free(w.buf);
    free(tmp);
    free(path);
    return rc;
}
